// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake CLI: generic netlink plumbing on top of libnl-genl-3.
 *
 * Requests (do and dump) go through libnl's receive loop with our own
 * valid/finish/ack/error callbacks. Notifications are read with plain
 * recvmsg() on the socket's fd, so that ENOBUFS (the kernel dropped
 * notifications because our queue was full) is seen as exactly that and
 * not folded into libnl's NLE_NOMEM.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include <netlink/netlink.h>
#include <netlink/socket.h>
#include <netlink/attr.h>
#include <netlink/errno.h>
#include <netlink/genl/genl.h>
#include <netlink/genl/ctrl.h>

#include <linux/bootshake.h>

#include "nl.h"

#ifndef SOL_NETLINK
#define SOL_NETLINK	270
#endif

static const char * const dev_attr_names[] = {
	[BOOTSHAKE_A_DEV_UNSPEC]	= "unspec",
	[BOOTSHAKE_A_DEV_PAD]		= "pad",
	[BOOTSHAKE_A_DEV_ID]		= "id",
	[BOOTSHAKE_A_DEV_PATH]		= "path",
	[BOOTSHAKE_A_DEV_VID]		= "vid",
	[BOOTSHAKE_A_DEV_PID]		= "pid",
	[BOOTSHAKE_A_DEV_KIND]		= "kind",
	[BOOTSHAKE_A_DEV_STATE]		= "state",
	[BOOTSHAKE_A_DEV_SYNC_US]	= "sync-us",
	[BOOTSHAKE_A_DEV_ERROR]		= "error",
	[BOOTSHAKE_A_DEV_REASON]	= "reason",
	[BOOTSHAKE_A_DEV_FLAGS]		= "flags",
	[BOOTSHAKE_A_DEV_SPEED]		= "speed",
	[BOOTSHAKE_A_DEV_BUSNUM]	= "busnum",
	[BOOTSHAKE_A_DEV_DEVNUM]	= "devnum",
	[BOOTSHAKE_A_DEV_MTK]		= "mtk",
	[BOOTSHAKE_A_DEV_ATTEMPTS]	= "attempts",
	[BOOTSHAKE_A_DEV_IDENT_US]	= "ident-us",
	[BOOTSHAKE_A_DEV_ERROR_CODE]	= "error-code",
	[BOOTSHAKE_A_DEV_GARBAGE]	= "garbage",
	[BOOTSHAKE_A_DEV_STM32]		= "stm32",
	[BOOTSHAKE_A_DEV_EVENT_NS]	= "event-ns",
};

static const char * const policy_attr_names[] = {
	[BOOTSHAKE_A_POLICY_UNSPEC]		= "unspec",
	[BOOTSHAKE_A_POLICY_KIND]		= "kind",
	[BOOTSHAKE_A_POLICY_MODE]		= "mode",
	[BOOTSHAKE_A_POLICY_ARM_COUNT]		= "arm-count",
	[BOOTSHAKE_A_POLICY_ARM_TIMEOUT_MS]	= "arm-timeout-ms",
	[BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS]	= "step-timeout-ms",
	[BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS]	= "sync-timeout-ms",
};

static const char * const tr_attr_names[] = {
	[BOOTSHAKE_A_TR_UNSPEC]		= "unspec",
	[BOOTSHAKE_A_TR_PAD]		= "pad",
	[BOOTSHAKE_A_TR_DEV_ID]		= "dev-id",
	[BOOTSHAKE_A_TR_TIME_NS]	= "time-ns",
	[BOOTSHAKE_A_TR_DIR]		= "dir",
	[BOOTSHAKE_A_TR_DATA]		= "data",
	[BOOTSHAKE_A_TR_LOST]		= "lost",
};

static const char * const info_attr_names[] = {
	[BOOTSHAKE_A_INFO_UNSPEC]	= "unspec",
	[BOOTSHAKE_A_INFO_PAD]		= "pad",
	[BOOTSHAKE_A_INFO_VERSION]	= "version",
	[BOOTSHAKE_A_INFO_FEATURES]	= "features",
	[BOOTSHAKE_A_INFO_KINDS]	= "kinds",
};

#define NAMES(t)	{ t, sizeof(t) / sizeof((t)[0]) }

static const struct {
	const char * const	*names;
	size_t			n;
} attr_spaces[] = {
	[BS_ATTRS_DEV]		= NAMES(dev_attr_names),
	[BS_ATTRS_POLICY]	= NAMES(policy_attr_names),
	[BS_ATTRS_TR]		= NAMES(tr_attr_names),
	[BS_ATTRS_INFO]		= NAMES(info_attr_names),
};

const char *bs_nl_space_attr_name(enum bs_attr_space space, int type)
{
	if (space < 0 || space >= BS_ATTRS_N)
		return "unknown";
	if (type >= 0 && (size_t)type < attr_spaces[space].n &&
	    attr_spaces[space].names[type])
		return attr_spaces[space].names[type];
	return "unknown";
}

const char *bs_nl_attr_name(int type)
{
	return bs_nl_space_attr_name(BS_ATTRS_DEV, type);
}

enum bs_attr_space bs_nl_cmd_space(uint8_t cmd)
{
	switch (cmd) {
	case BOOTSHAKE_CMD_POLICY_GET:
	case BOOTSHAKE_CMD_POLICY_SET:
	case BOOTSHAKE_CMD_ARM:
		return BS_ATTRS_POLICY;
	case BOOTSHAKE_CMD_TRANSCRIPT_GET:
		return BS_ATTRS_TR;
	case BOOTSHAKE_CMD_INFO_GET:
		return BS_ATTRS_INFO;
	default:
		return BS_ATTRS_DEV;
	}
}

/* libnl has its own error codes; the CLI speaks negative errno. */
static int nlerr_to_errno(int nlerr)
{
	switch (nlerr < 0 ? -nlerr : nlerr) {
	case NLE_SUCCESS:		return 0;
	case NLE_INTR:			return -EINTR;
	case NLE_BAD_SOCK:		return -EBADF;
	case NLE_AGAIN:			return -EAGAIN;
	case NLE_NOMEM:			return -ENOMEM;
	case NLE_EXIST:			return -EEXIST;
	case NLE_INVAL:			return -EINVAL;
	case NLE_RANGE:			return -ERANGE;
	case NLE_MSGSIZE:		return -EMSGSIZE;
	case NLE_OPNOTSUPP:		return -EOPNOTSUPP;
	case NLE_AF_NOSUPPORT:		return -EAFNOSUPPORT;
	case NLE_OBJ_NOTFOUND:		return -ENOENT;
	case NLE_NOATTR:		return -ENOENT;
	case NLE_MISSING_ATTR:		return -EINVAL;
	case NLE_AF_MISMATCH:		return -EPROTO;
	case NLE_SEQ_MISMATCH:		return -EPROTO;
	case NLE_MSG_OVERFLOW:		return -EMSGSIZE;
	case NLE_MSG_TRUNC:		return -EBADMSG;
	case NLE_NOADDR:		return -EADDRNOTAVAIL;
	case NLE_SRCRT_NOSUPPORT:	return -EOPNOTSUPP;
	case NLE_MSG_TOOSHORT:		return -EBADMSG;
	case NLE_MSGTYPE_NOSUPPORT:	return -EOPNOTSUPP;
	case NLE_OBJ_MISMATCH:		return -EINVAL;
	case NLE_NOCACHE:		return -ENOENT;
	case NLE_BUSY:			return -EBUSY;
	case NLE_PROTO_MISMATCH:	return -EPROTONOSUPPORT;
	case NLE_NOACCESS:		return -EACCES;
	case NLE_PERM:			return -EPERM;
	case NLE_PKTLOC_FILE:		return -ENOENT;
	case NLE_PARSE_ERR:		return -EBADMSG;
	case NLE_NODEV:			return -ENODEV;
	case NLE_IMMUTABLE:		return -EPERM;
	case NLE_DUMP_INTR:		return -EINTR;
	case NLE_ATTRSIZE:		return -ERANGE;
	default:			return -EIO;
	}
}

int bs_nl_open(struct bs_nl *nl, const char *name)
{
	int one = 1;
	int fd, ret;

	memset(nl, 0, sizeof(*nl));
	nl->name = name;
	nl->mcgrp = -1;
	nl->ext.bad_attr = -1;
	nl->ext.miss_type = -1;

	nl->sk = nl_socket_alloc();
	if (!nl->sk)
		return -ENOMEM;

	ret = genl_connect(nl->sk);
	if (ret < 0) {
		ret = nlerr_to_errno(ret);
		goto err_free;
	}

	/* Old kernels lack these; then there is simply no extack text. */
	fd = nl_socket_get_fd(nl->sk);
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));

	ret = genl_ctrl_resolve(nl->sk, name);
	if (ret < 0) {
		ret = nlerr_to_errno(ret);
		goto err_free;
	}
	nl->family = ret;
	return 0;

err_free:
	nl_socket_free(nl->sk);
	nl->sk = NULL;
	return ret;
}

void bs_nl_close(struct bs_nl *nl)
{
	if (nl->sk)
		nl_socket_free(nl->sk);
	nl->sk = NULL;
}

struct nl_msg *bs_nl_msg(struct bs_nl *nl, uint8_t cmd, int flags)
{
	struct nl_msg *msg;

	msg = nlmsg_alloc();
	if (!msg)
		return NULL;
	nl->space = bs_nl_cmd_space(cmd);
	if (!genlmsg_put(msg, NL_AUTO_PORT, NL_AUTO_SEQ, nl->family, 0,
			 flags, cmd, BOOTSHAKE_FAMILY_VERSION)) {
		nlmsg_free(msg);
		return NULL;
	}
	return msg;
}

struct req_ctx {
	struct bs_nl	*nl;
	struct nl_msg	*req;
	bs_nl_msg_fn	fn;
	void		*arg;
	int		err;
	bool		done;
};

static void ext_reset(struct bs_nl_extack *ext)
{
	ext->err = 0;
	ext->msg[0] = '\0';
	ext->bad_attr = -1;
	ext->miss_type = -1;
	ext->warning = false;
}

/*
 * Decode the extack TLVs at @attrs. @req is the request they refer to,
 * used to turn NLMSGERR_ATTR_OFFS back into an attribute type.
 */
static void ext_parse(struct bs_nl_extack *ext, const void *attrs, int len,
		      struct nl_msg *req)
{
	struct nlattr *tb[NLMSGERR_ATTR_MAX + 1];
	struct nlattr *a;

	if (len <= 0)
		return;
	if (nla_parse(tb, NLMSGERR_ATTR_MAX, (struct nlattr *)attrs, len,
		      NULL) < 0)
		return;

	a = tb[NLMSGERR_ATTR_MSG];
	if (a && nla_len(a) > 0) {
		int n = strnlen(nla_data(a), nla_len(a));

		if (n >= (int)sizeof(ext->msg))
			n = sizeof(ext->msg) - 1;
		memcpy(ext->msg, nla_data(a), n);
		ext->msg[n] = '\0';
		/* kernel messages sometimes end in a newline */
		while (n > 0 && ext->msg[n - 1] == '\n')
			ext->msg[--n] = '\0';
	}

	a = tb[NLMSGERR_ATTR_MISS_TYPE];
	if (a && nla_len(a) >= 4)
		ext->miss_type = nla_get_u32(a);

	a = tb[NLMSGERR_ATTR_OFFS];
	if (a && nla_len(a) >= 4 && req) {
		struct nlmsghdr *rh = nlmsg_hdr(req);
		uint32_t off = nla_get_u32(a);

		if (off >= NLMSG_HDRLEN + GENL_HDRLEN &&
		    off + NLA_HDRLEN <= rh->nlmsg_len) {
			struct nlattr *bad = (struct nlattr *)((char *)rh + off);

			ext->bad_attr = nla_type(bad);
		}
	}
}

/* The TLVs of an NLMSG_ERROR (error or ack) message. */
static void ext_from_nlmsgerr(struct bs_nl_extack *ext,
			      const struct nlmsghdr *nlh, struct nl_msg *req)
{
	const struct nlmsgerr *e = NLMSG_DATA(nlh);
	int datalen = nlh->nlmsg_len - NLMSG_HDRLEN;
	int off = sizeof(*e);

	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
		return;
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if (off < (int)sizeof(*e) || off > datalen)
		return;
	ext_parse(ext, (const char *)e + off, datalen - off, req);
}

static int valid_cb(struct nl_msg *msg, void *arg)
{
	struct req_ctx *ctx = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int ret;

	if (nlh->nlmsg_type != ctx->nl->family)
		return NL_SKIP;
	if (nlh->nlmsg_flags & NLM_F_DUMP_INTR)
		ctx->nl->dump_intr = true;
	ret = ctx->fn ? ctx->fn(nlh, ctx->arg) : 0;
	if (ret < 0) {
		ctx->err = ret;
		ctx->done = true;
		return NL_STOP;
	}
	return NL_OK;
}

/*
 * A dump message or its end flagged NLM_F_DUMP_INTR (the kernel's list
 * changed between parts): note it and go on.  Without this callback libnl
 * fails the whole receive with NLE_DUMP_INTR, and callers could not
 * decide to take the dump again.
 */
static int dump_intr_cb(struct nl_msg *msg, void *arg)
{
	struct req_ctx *ctx = arg;

	(void)msg;
	ctx->nl->dump_intr = true;
	return NL_OK;
}

/* NLMSG_DONE: carries the dump's final error code and maybe extack. */
static int finish_cb(struct nl_msg *msg, void *arg)
{
	struct req_ctx *ctx = arg;
	struct nlmsghdr *nlh = nlmsg_hdr(msg);
	int datalen = nlh->nlmsg_len - NLMSG_HDRLEN;
	int err = 0;

	ctx->done = true;
	if (datalen >= (int)sizeof(int)) {
		memcpy(&err, NLMSG_DATA(nlh), sizeof(int));
		if (nlh->nlmsg_flags & NLM_F_ACK_TLVS)
			ext_parse(&ctx->nl->ext,
				  (char *)NLMSG_DATA(nlh) + sizeof(int),
				  datalen - sizeof(int), ctx->req);
	}
	if (err) {
		ctx->err = err < 0 ? err : -err;
		ctx->nl->ext.err = ctx->err;
	} else if (ctx->nl->ext.msg[0]) {
		ctx->nl->ext.warning = true;
	}
	return NL_STOP;
}

static int ack_cb(struct nl_msg *msg, void *arg)
{
	struct req_ctx *ctx = arg;

	ctx->done = true;
	ext_from_nlmsgerr(&ctx->nl->ext, nlmsg_hdr(msg), ctx->req);
	if (ctx->nl->ext.msg[0])
		ctx->nl->ext.warning = true;
	return NL_STOP;
}

static int error_cb(struct sockaddr_nl *nla, struct nlmsgerr *e, void *arg)
{
	struct req_ctx *ctx = arg;
	const struct nlmsghdr *nlh = (const struct nlmsghdr *)e - 1;

	(void)nla;
	ctx->done = true;
	/* some subsystems have been seen to send positive values */
	ctx->err = e->error < 0 ? e->error : -e->error;
	if (!ctx->err)
		ctx->err = -EIO;
	ctx->nl->ext.err = ctx->err;
	ext_from_nlmsgerr(&ctx->nl->ext, nlh, ctx->req);
	return NL_STOP;
}

int bs_nl_request(struct bs_nl *nl, struct nl_msg *msg,
		  bs_nl_msg_fn fn, void *arg)
{
	struct req_ctx ctx = {
		.nl	= nl,
		.req	= msg,
		.fn	= fn,
		.arg	= arg,
	};
	struct nl_cb *cb;
	int ret;

	ext_reset(&nl->ext);
	nl->dump_intr = false;

	cb = nl_cb_alloc(NL_CB_DEFAULT);
	if (!cb) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	nl_cb_set(cb, NL_CB_VALID, NL_CB_CUSTOM, valid_cb, &ctx);
	nl_cb_set(cb, NL_CB_FINISH, NL_CB_CUSTOM, finish_cb, &ctx);
	nl_cb_set(cb, NL_CB_ACK, NL_CB_CUSTOM, ack_cb, &ctx);
	nl_cb_set(cb, NL_CB_DUMP_INTR, NL_CB_CUSTOM, dump_intr_cb, &ctx);
	nl_cb_err(cb, NL_CB_CUSTOM, error_cb, &ctx);

	/* nl_send_auto() adds NLM_F_REQUEST and, by default, NLM_F_ACK */
	ret = nl_send_auto(nl->sk, msg);
	if (ret < 0) {
		ret = nlerr_to_errno(ret);
		goto out;
	}

	while (!ctx.done) {
		ret = nl_recvmsgs(nl->sk, cb);
		if (ctx.err)
			break;
		if (ret < 0) {
			if (ret == -NLE_INTR)
				continue;
			ctx.err = nlerr_to_errno(ret);
			break;
		}
	}
	ret = ctx.err;
out:
	nl_cb_put(cb);
	nlmsg_free(msg);
	return ret;
}

int bs_nl_subscribe(struct bs_nl *nl, const char *group, int rcvbuf)
{
	int fd = nl_socket_get_fd(nl->sk);
	socklen_t len;
	int ret, val;

	ret = genl_ctrl_resolve_grp(nl->sk, nl->name, group);
	if (ret < 0)
		return nlerr_to_errno(ret);
	nl->mcgrp = ret;

	/* FORCE works for root beyond rmem_max; otherwise take what we get */
	if (rcvbuf > 0 &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf,
		       sizeof(rcvbuf)) < 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	len = sizeof(val);
	if (!getsockopt(fd, SOL_SOCKET, SO_RCVBUF, &val, &len))
		nl->rx_buf = val;

	ret = nl_socket_add_membership(nl->sk, nl->mcgrp);
	if (ret < 0)
		return nlerr_to_errno(ret);

	ret = fcntl(fd, F_GETFL);
	if (ret < 0 || fcntl(fd, F_SETFL, ret | O_NONBLOCK) < 0)
		return -errno;
	return 0;
}

/* Big enough for any genl notification (they are NLMSG_GOODSIZE at most). */
#define NTF_BUF_SIZE	65536

static int recv_one(int fd, void *buf, size_t size, bool *from_kernel)
{
	struct sockaddr_nl sa;
	struct iovec iov = { .iov_base = buf, .iov_len = size };
	struct msghdr mh = {
		.msg_name	= &sa,
		.msg_namelen	= sizeof(sa),
		.msg_iov	= &iov,
		.msg_iovlen	= 1,
	};
	ssize_t n;

	do {
		n = recvmsg(fd, &mh, MSG_DONTWAIT | MSG_TRUNC);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	if ((size_t)n > size)
		return -EMSGSIZE;
	*from_kernel = mh.msg_namelen == sizeof(sa) && sa.nl_pid == 0;
	return n;
}

int bs_nl_recv_ntf(struct bs_nl *nl, int timeout_ms,
		   bs_nl_msg_fn fn, void *arg)
{
	static uint32_t buf[NTF_BUF_SIZE / sizeof(uint32_t)];
	struct pollfd pfd = {
		.fd	= nl_socket_get_fd(nl->sk),
		.events	= POLLIN,
	};
	const struct nlmsghdr *nlh;
	bool from_kernel;
	int n, len, handled = 0;

	n = poll(&pfd, 1, timeout_ms);
	if (n < 0)
		return -errno;
	if (n == 0)
		return 0;

	len = recv_one(pfd.fd, buf, sizeof(buf), &from_kernel);
	if (len == -EAGAIN)
		return 0;
	if (len < 0)
		return len;
	if (!from_kernel)
		return 0;

	for (nlh = (const struct nlmsghdr *)buf;
	     nlmsg_ok(nlh, len); nlh = nlmsg_next((struct nlmsghdr *)nlh, &len)) {
		int ret;

		if (nlh->nlmsg_type != nl->family)
			continue;
		handled++;
		ret = fn(nlh, arg);
		if (ret)
			return ret < 0 ? ret : handled;
	}
	return handled;
}

void bs_nl_drain(struct bs_nl *nl)
{
	static uint32_t buf[NTF_BUF_SIZE / sizeof(uint32_t)];
	int fd = nl_socket_get_fd(nl->sk);
	bool from_kernel;
	int ret;

	do {
		ret = recv_one(fd, buf, sizeof(buf), &from_kernel);
	} while (ret >= 0 || ret == -ENOBUFS || ret == -EMSGSIZE);
}
