// SPDX-License-Identifier: GPL-2.0
/*
 * Live test of nl.c against the kernel's own "nlctrl" family, which every
 * kernel has: dump (multi-part + NLMSG_DONE), doit with ack, a kernel
 * error (ENOENT), a policy violation with extack text and offset, group
 * subscription and an empty notification wait. Runs on any host, no
 * bootshake module needed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/socket.h>

#include "nl.h"

static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		failures++;						\
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__,	\
			#cond);						\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

struct seen {
	int	msgs;
	bool	found_nlctrl;
};

static int count_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[CTRL_ATTR_MAX + 1];
	struct seen *s = arg;

	s->msgs++;
	if (genlmsg_parse((struct nlmsghdr *)nlh, 0, tb, CTRL_ATTR_MAX,
			  NULL) < 0)
		return -EBADMSG;
	if (tb[CTRL_ATTR_FAMILY_NAME] &&
	    !strcmp(nla_get_string(tb[CTRL_ATTR_FAMILY_NAME]), "nlctrl"))
		s->found_nlctrl = true;
	return 0;
}

static int stop_cb(const struct nlmsghdr *nlh, void *arg)
{
	(void)nlh;
	(void)arg;
	return -ECANCELED;
}

/*
 * Overflow the subscribed socket: as root we may multicast to the group
 * ourselves. The messages come from a user port and must not reach the
 * callback, but the overrun must come back as -ENOBUFS, once.
 */
static void test_overrun(struct bs_nl *nl)
{
	struct sockaddr_nl dst = {
		.nl_family	= AF_NETLINK,
		.nl_groups	= 0,
	};
	int small = 4096, fd, i, ret, enobufs = 0, calls = 0;
	char payload[1024] = { 0 };
	struct nlmsghdr *nlh = (struct nlmsghdr *)payload;

	fd = socket(AF_NETLINK, SOCK_RAW, NETLINK_GENERIC);
	if (fd < 0) {
		printf("overrun: skipped (socket: %s)\n", strerror(errno));
		return;
	}
	setsockopt(nl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVBUFFORCE,
		   &small, sizeof(small));
	nlh->nlmsg_len = sizeof(payload);
	nlh->nlmsg_type = nl->family;
	for (i = 0; i < 64; i++) {
		/* group ids above 31 can only be addressed via setsockopt */
		struct iovec iov = { payload, sizeof(payload) };
		struct msghdr mh = {
			.msg_name = &dst, .msg_namelen = sizeof(dst),
			.msg_iov = &iov, .msg_iovlen = 1,
		};

		if (nl->mcgrp > 32)
			break;
		dst.nl_groups = 1u << (nl->mcgrp - 1);
		if (sendmsg(fd, &mh, 0) < 0) {
			printf("overrun: skipped (sendmsg: %s)\n",
			       strerror(errno));
			close(fd);
			return;
		}
	}
	close(fd);
	if (i < 64) {
		printf("overrun: skipped (group id %d)\n", nl->mcgrp);
		return;
	}
	while ((ret = bs_nl_recv_ntf(nl, 0, stop_cb, NULL)) != 0 &&
	       calls++ < 200)
		if (ret == -ENOBUFS)
			enobufs++;
		else
			CHECK(ret == 0, "user-sent message handled: %d", ret);
	CHECK(enobufs == 1, "ENOBUFS seen %d times", enobufs);
	printf("overrun: ENOBUFS reported %d time(s)\n", enobufs);
}

int main(void)
{
	struct bs_nl nl, missing;
	struct seen s = { 0 };
	struct nl_msg *msg;
	int ret;

	ret = bs_nl_open(&missing, "bootshake-no-such-family");
	CHECK(ret == -ENOENT, "missing family: %d", ret);

	ret = bs_nl_open(&nl, "nlctrl");
	CHECK(ret == 0, "open nlctrl: %d", ret);
	if (ret)
		return 1;

	/* dump: every family, nlctrl among them */
	msg = bs_nl_msg(&nl, CTRL_CMD_GETFAMILY, NLM_F_DUMP);
	ret = bs_nl_request(&nl, msg, count_cb, &s);
	CHECK(ret == 0, "dump: %d", ret);
	CHECK(s.msgs > 1 && s.found_nlctrl, "dump saw %d families", s.msgs);

	/* doit by name: exactly one reply, then the ack */
	s = (struct seen){ 0 };
	msg = bs_nl_msg(&nl, CTRL_CMD_GETFAMILY, 0);
	nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, "nlctrl");
	ret = bs_nl_request(&nl, msg, count_cb, &s);
	CHECK(ret == 0 && s.msgs == 1 && s.found_nlctrl,
	      "doit: ret %d msgs %d", ret, s.msgs);

	/* the socket is still in step after that */
	s = (struct seen){ 0 };
	msg = bs_nl_msg(&nl, CTRL_CMD_GETFAMILY, 0);
	nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, "nlctrl");
	ret = bs_nl_request(&nl, msg, count_cb, &s);
	CHECK(ret == 0 && s.msgs == 1, "doit again: ret %d msgs %d", ret,
	      s.msgs);

	/* kernel error */
	msg = bs_nl_msg(&nl, CTRL_CMD_GETFAMILY, 0);
	nla_put_string(msg, CTRL_ATTR_FAMILY_NAME, "no-such-family");
	ret = bs_nl_request(&nl, msg, count_cb, &s);
	CHECK(ret == -ENOENT, "unknown family: %d", ret);

	/* policy violation: FAMILY_ID is u16, send a u8 (too short) */
	msg = bs_nl_msg(&nl, CTRL_CMD_GETFAMILY, 0);
	nla_put_u8(msg, CTRL_ATTR_FAMILY_ID, 1);
	ret = bs_nl_request(&nl, msg, count_cb, &s);
	CHECK(ret == -EINVAL || ret == -ERANGE, "bad attr: %d", ret);
	CHECK(nl.ext.msg[0], "no extack message");
	CHECK(nl.ext.bad_attr == CTRL_ATTR_FAMILY_ID, "bad_attr %d",
	      nl.ext.bad_attr);
	printf("extack: \"%s\" bad_attr=%d miss_type=%d\n", nl.ext.msg,
	       nl.ext.bad_attr, nl.ext.miss_type);

	/* a callback error stops the loop and comes back as is */
	msg = bs_nl_msg(&nl, CTRL_CMD_GETFAMILY, NLM_F_DUMP);
	ret = bs_nl_request(&nl, msg, stop_cb, NULL);
	CHECK(ret == -ECANCELED, "callback stop: %d", ret);
	bs_nl_close(&nl);

	/* subscribe to nlctrl's "notify" and wait for nothing */
	ret = bs_nl_open(&nl, "nlctrl");
	CHECK(ret == 0, "reopen: %d", ret);
	if (ret)
		return 1;
	ret = bs_nl_subscribe(&nl, "notify", 1 << 20);
	CHECK(ret == 0, "subscribe: %d", ret);
	CHECK(nl.rx_buf >= 1 << 20 || nl.rx_buf > 0, "rcvbuf %u", nl.rx_buf);
	printf("rcvbuf granted: %u\n", nl.rx_buf);
	ret = bs_nl_recv_ntf(&nl, 50, count_cb, &s);
	CHECK(ret == 0, "idle wait: %d", ret);
	ret = bs_nl_subscribe(&nl, "no-such-group", 0);
	CHECK(ret == -ENOENT, "missing group: %d", ret);
	test_overrun(&nl);
	bs_nl_drain(&nl);
	bs_nl_close(&nl);

	if (failures) {
		fprintf(stderr, "test_nl: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_nl: all checks passed\n");
	return 0;
}
