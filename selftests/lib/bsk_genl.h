/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Raw generic netlink for the bootshake selftests that must see every
 * byte on the wire (the fuzzer, the stress and fault-matrix tests): no
 * libnl, no helper CLI in between.  Header only (static inline), so a
 * test includes it without changes to the selftests' link line.
 *
 * Every receive has a timeout: a test that waits for the kernel never
 * hangs.
 */
#ifndef BSK_GENL_H
#define BSK_GENL_H

#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/bootshake.h>

#ifndef SOL_NETLINK
#define SOL_NETLINK 270
#endif

#define BSK_NLA_HDR	((int)NLA_HDRLEN)

/** struct bsk_genl - one generic netlink socket bound to the family */
struct bsk_genl {
	int fd;
	uint16_t family;	/* bootshake's id */
	uint32_t mcgrp;		/* "monitor" group id */
	uint32_t portid;
	uint32_t seq;
};

/* Append one attribute at @off in @buf (size @size); returns new offset. */
static inline size_t bsk_nla_put(void *buf, size_t size, size_t off,
				 uint16_t type, const void *data, size_t len)
{
	struct nlattr *a = (struct nlattr *)((char *)buf + off);

	if (off + NLA_ALIGN(NLA_HDRLEN + len) > size)
		return off;
	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	if (len)
		memcpy((char *)a + NLA_HDRLEN, data, len);
	memset((char *)a + NLA_HDRLEN + len, 0,
	       NLA_ALIGN(NLA_HDRLEN + len) - (NLA_HDRLEN + len));
	return off + NLA_ALIGN(NLA_HDRLEN + len);
}

static inline size_t bsk_nla_u32(void *buf, size_t size, size_t off,
				 uint16_t type, uint32_t v)
{
	return bsk_nla_put(buf, size, off, type, &v, sizeof(v));
}

/*
 * Build a request in @buf: nlmsghdr + genlmsghdr + @attrs (@alen bytes).
 * Returns the total length.
 */
static inline size_t bsk_genl_build(void *buf, uint16_t type, uint16_t flags,
				    uint32_t seq, uint8_t cmd,
				    const void *attrs, size_t alen)
{
	struct nlmsghdr *nlh = buf;
	struct genlmsghdr *g = NLMSG_DATA(nlh);

	memset(nlh, 0, NLMSG_HDRLEN + GENL_HDRLEN);
	nlh->nlmsg_len = NLMSG_HDRLEN + GENL_HDRLEN + alen;
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = flags;
	nlh->nlmsg_seq = seq;
	g->cmd = cmd;
	g->version = 1;
	if (alen)
		memcpy((char *)g + GENL_HDRLEN, attrs, alen);
	return nlh->nlmsg_len;
}

static inline int bsk_genl_sendbuf(int fd, const void *buf, size_t len)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };

	if (sendto(fd, buf, len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -errno;
	return 0;
}

/* One datagram, or -ETIMEDOUT / -errno; *len set on success. */
static inline int bsk_genl_recvbuf(int fd, void *buf, size_t size,
				   size_t *len, int timeout_ms)
{
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t r;
	int n;

	n = poll(&p, 1, timeout_ms);
	if (n < 0)
		return -errno;
	if (!n)
		return -ETIMEDOUT;
	r = recv(fd, buf, size, MSG_DONTWAIT);
	if (r < 0)
		return -errno;
	*len = r;
	return 0;
}

/* Find attribute @type in the attribute stream @a..@a+@len, or NULL. */
static inline const struct nlattr *bsk_nla_find(const void *a, size_t len,
						uint16_t type)
{
	const char *p = a;

	while (len >= NLA_HDRLEN) {
		const struct nlattr *n = (const struct nlattr *)p;
		size_t al = NLA_ALIGN(n->nla_len);

		if (n->nla_len < NLA_HDRLEN || n->nla_len > len)
			return NULL;
		if ((n->nla_type & NLA_TYPE_MASK) == type)
			return n;
		if (al > len)
			break;
		p += al;
		len -= al;
	}
	return NULL;
}

static inline const void *bsk_nla_data(const struct nlattr *a)
{
	return (const char *)a + NLA_HDRLEN;
}

static inline uint32_t bsk_nla_get_u32(const struct nlattr *a, uint32_t dflt)
{
	uint32_t v;

	if (!a || a->nla_len < NLA_HDRLEN + 4)
		return dflt;
	memcpy(&v, bsk_nla_data(a), 4);
	return v;
}

static inline uint16_t bsk_nla_get_u16(const struct nlattr *a, uint16_t dflt)
{
	uint16_t v;

	if (!a || a->nla_len < NLA_HDRLEN + 2)
		return dflt;
	memcpy(&v, bsk_nla_data(a), 2);
	return v;
}

/* Attributes of a genl message (after the genl header). */
static inline const void *bsk_genl_attrs(const struct nlmsghdr *nlh,
					 size_t *len)
{
	if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN) {
		*len = 0;
		return NULL;
	}
	*len = nlh->nlmsg_len - NLMSG_HDRLEN - GENL_HDRLEN;
	return (const char *)NLMSG_DATA(nlh) + GENL_HDRLEN;
}

/*
 * Open a socket.  @rcvbuf: receive buffer size (SO_RCVBUFFORCE when
 * permitted, else SO_RCVBUF), 0 = default.
 */
static inline int bsk_genl_socket(int rcvbuf)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);

	if (fd < 0)
		return -1;
	if (rcvbuf &&
	    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (rcvbuf &&
	    setsockopt(fd, SOL_SOCKET, SO_SNDBUFFORCE, &rcvbuf, sizeof(rcvbuf)))
		setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * Resolve @name's family id and the id of its multicast group @grp
 * (may be NULL) through nlctrl.  Returns 0 or -errno (-ENOENT: no such
 * family, e.g. the module is not loaded).
 */
static inline int bsk_genl_resolve(int fd, const char *name, const char *grp,
				   uint16_t *family, uint32_t *grp_id,
				   int timeout_ms)
{
	char req[256], buf[16384];
	size_t alen, len;
	struct nlmsghdr *nlh;
	int ret;

	alen = bsk_nla_put(req + 64, sizeof(req) - 64, 0, CTRL_ATTR_FAMILY_NAME,
			   name, strlen(name) + 1);
	len = bsk_genl_build(buf, GENL_ID_CTRL, NLM_F_REQUEST | NLM_F_ACK,
			     0x5eed, CTRL_CMD_GETFAMILY, req + 64, alen);
	ret = bsk_genl_sendbuf(fd, buf, len);
	if (ret)
		return ret;

	for (;;) {
		ret = bsk_genl_recvbuf(fd, buf, sizeof(buf), &len, timeout_ms);
		if (ret)
			return ret;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			const void *a;
			size_t al;

			if (nlh->nlmsg_seq != 0x5eed)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				return e->error;	/* 0: the final ack */
			}
			if (nlh->nlmsg_type != GENL_ID_CTRL)
				continue;
			a = bsk_genl_attrs(nlh, &al);
			*family = bsk_nla_get_u16(bsk_nla_find(a, al,
						  CTRL_ATTR_FAMILY_ID), 0);
			if (grp && grp_id) {
				const struct nlattr *gs, *g;
				const char *p;
				size_t gl;

				*grp_id = 0;
				gs = bsk_nla_find(a, al, CTRL_ATTR_MCAST_GROUPS);
				if (!gs)
					continue;
				p = bsk_nla_data(gs);
				gl = gs->nla_len - NLA_HDRLEN;
				while (gl >= NLA_HDRLEN) {
					const struct nlattr *n;

					g = (const struct nlattr *)p;
					if (g->nla_len < NLA_HDRLEN ||
					    g->nla_len > gl)
						break;
					n = bsk_nla_find(bsk_nla_data(g),
							 g->nla_len - NLA_HDRLEN,
							 CTRL_ATTR_MCAST_GRP_NAME);
					if (n && !strcmp(bsk_nla_data(n), grp))
						*grp_id = bsk_nla_get_u32(
							bsk_nla_find(bsk_nla_data(g),
								g->nla_len - NLA_HDRLEN,
								CTRL_ATTR_MCAST_GRP_ID), 0);
					if ((size_t)NLA_ALIGN(g->nla_len) >= gl)
						break;
					gl -= NLA_ALIGN(g->nla_len);
					p += NLA_ALIGN(g->nla_len);
				}
			}
		}
	}
}

/* Open a socket and resolve the bootshake family; 0 or -errno. */
static inline int bsk_genl_open(struct bsk_genl *g, int rcvbuf)
{
	struct sockaddr_nl sa;
	socklen_t sl = sizeof(sa);
	int ret;

	memset(g, 0, sizeof(*g));
	g->fd = bsk_genl_socket(rcvbuf);
	if (g->fd < 0)
		return -errno;
	ret = bsk_genl_resolve(g->fd, BOOTSHAKE_FAMILY_NAME,
			       BOOTSHAKE_MCGRP_MONITOR, &g->family, &g->mcgrp,
			       2000);
	if (ret) {
		close(g->fd);
		g->fd = -1;
		return ret;
	}
	if (!getsockname(g->fd, (struct sockaddr *)&sa, &sl))
		g->portid = sa.nl_pid;
	g->seq = 1000;
	return 0;
}

static inline void bsk_genl_close(struct bsk_genl *g)
{
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
}

/* Join the monitor group. */
static inline int bsk_genl_join(struct bsk_genl *g)
{
	int grp = g->mcgrp;

	if (!grp)
		return -ENOENT;
	if (setsockopt(g->fd, SOL_NETLINK, NETLINK_ADD_MEMBERSHIP, &grp,
		       sizeof(grp)))
		return -errno;
	return 0;
}

/*
 * Callback for every reply message of a request (not the final ack or
 * DONE).  Return non-zero to stop early (the rest is drained).
 */
typedef int (*bsk_genl_cb)(const struct nlmsghdr *nlh, void *arg);

/*
 * Send a request and read its replies until the ack (doit) or DONE (dump).
 * Multicast messages that arrive meanwhile are skipped.  Returns the
 * kernel's error (0 = success), -ETIMEDOUT, or a send error.
 */
static inline int bsk_genl_request(struct bsk_genl *g, uint8_t cmd,
				   uint16_t flags, const void *attrs,
				   size_t alen, bsk_genl_cb cb, void *arg,
				   int timeout_ms)
{
	static char buf[1 << 17];
	uint32_t seq = ++g->seq;
	size_t len;
	int ret;

	len = bsk_genl_build(buf, g->family, NLM_F_REQUEST | NLM_F_ACK | flags,
			     seq, cmd, attrs, alen);
	ret = bsk_genl_sendbuf(g->fd, buf, len);
	if (ret)
		return ret;
	for (;;) {
		struct nlmsghdr *nlh;

		ret = bsk_genl_recvbuf(g->fd, buf, sizeof(buf), &len,
				       timeout_ms);
		if (ret)
			return ret;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_seq != seq ||
			    nlh->nlmsg_pid != g->portid)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(nlh);

				return e->error;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				int e = 0;

				if (nlh->nlmsg_len >= NLMSG_HDRLEN + 4)
					memcpy(&e, NLMSG_DATA(nlh), 4);
				return e;
			}
			if (cb && cb(nlh, arg))
				cb = NULL;
		}
	}
}

/* POLICY_SET; 0 fields are left out. */
static inline int bsk_genl_policy_set(struct bsk_genl *g, uint32_t kind,
				      uint32_t mode, uint32_t step_ms,
				      uint32_t sync_ms)
{
	char a[128];
	size_t n = 0;

	n = bsk_nla_u32(a, sizeof(a), n, BOOTSHAKE_A_POLICY_KIND, kind);
	if (mode)
		n = bsk_nla_u32(a, sizeof(a), n, BOOTSHAKE_A_POLICY_MODE, mode);
	if (step_ms)
		n = bsk_nla_u32(a, sizeof(a), n,
				BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS, step_ms);
	if (sync_ms)
		n = bsk_nla_u32(a, sizeof(a), n,
				BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS, sync_ms);
	return bsk_genl_request(g, BOOTSHAKE_CMD_POLICY_SET, 0, a, n, NULL,
				NULL, 5000);
}

/** struct bsk_genl_policy - POLICY_GET of one kind */
struct bsk_genl_policy {
	uint32_t kind, mode, arm_count, arm_timeout_ms, step_ms, sync_ms;
};

static inline int bsk_genl_policy_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct bsk_genl_policy *p = arg;
	const void *a;
	size_t al;

	a = bsk_genl_attrs(nlh, &al);
	p->kind = bsk_nla_get_u32(bsk_nla_find(a, al, BOOTSHAKE_A_POLICY_KIND), 0);
	p->mode = bsk_nla_get_u32(bsk_nla_find(a, al, BOOTSHAKE_A_POLICY_MODE), 0);
	p->arm_count = bsk_nla_get_u32(bsk_nla_find(a, al,
					BOOTSHAKE_A_POLICY_ARM_COUNT), 0);
	p->arm_timeout_ms = bsk_nla_get_u32(bsk_nla_find(a, al,
					BOOTSHAKE_A_POLICY_ARM_TIMEOUT_MS), 0);
	p->step_ms = bsk_nla_get_u32(bsk_nla_find(a, al,
				     BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS), 0);
	p->sync_ms = bsk_nla_get_u32(bsk_nla_find(a, al,
				     BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS), 0);
	return 1;
}

static inline int bsk_genl_policy_get(struct bsk_genl *g, uint32_t kind,
				      struct bsk_genl_policy *p)
{
	char a[16];
	size_t n = bsk_nla_u32(a, sizeof(a), 0, BOOTSHAKE_A_POLICY_KIND, kind);

	memset(p, 0, sizeof(*p));
	return bsk_genl_request(g, BOOTSHAKE_CMD_POLICY_GET, 0, a, n,
				bsk_genl_policy_cb, p, 5000);
}

/** struct bsk_genl_dev - the fields of a device message the tests use */
struct bsk_genl_dev {
	uint32_t id, state, error, kind;
	char path[32];
	char error_code[32];
};

/* Parse a device message (GET reply or notification). */
static inline void bsk_genl_dev_parse(const struct nlmsghdr *nlh,
				      struct bsk_genl_dev *d)
{
	const struct nlattr *p;
	const void *a;
	size_t al;

	memset(d, 0, sizeof(*d));
	a = bsk_genl_attrs(nlh, &al);
	d->id = bsk_nla_get_u32(bsk_nla_find(a, al, BOOTSHAKE_A_DEV_ID), 0);
	d->state = bsk_nla_get_u32(bsk_nla_find(a, al, BOOTSHAKE_A_DEV_STATE), 0);
	d->error = bsk_nla_get_u32(bsk_nla_find(a, al, BOOTSHAKE_A_DEV_ERROR), 0);
	d->kind = bsk_nla_get_u32(bsk_nla_find(a, al, BOOTSHAKE_A_DEV_KIND), 0);
	p = bsk_nla_find(a, al, BOOTSHAKE_A_DEV_PATH);
	if (p && p->nla_len > NLA_HDRLEN)
		snprintf(d->path, sizeof(d->path), "%.*s",
			 (int)(p->nla_len - NLA_HDRLEN), (const char *)bsk_nla_data(p));
	p = bsk_nla_find(a, al, BOOTSHAKE_A_DEV_ERROR_CODE);
	if (p && p->nla_len > NLA_HDRLEN)
		snprintf(d->error_code, sizeof(d->error_code), "%.*s",
			 (int)(p->nla_len - NLA_HDRLEN), (const char *)bsk_nla_data(p));
}

/* A socket that only listens to the monitor group. */
static inline int bsk_genl_monitor(struct bsk_genl *g)
{
	int ret = bsk_genl_open(g, 8 << 20);

	if (!ret)
		ret = bsk_genl_join(g);
	if (ret)
		bsk_genl_close(g);
	return ret;
}

/*
 * Next device notification on a monitor socket: *cmd is
 * BOOTSHAKE_CMD_DEV_{ADD,CHANGE,DEL}_NTF.  Returns 0, -ETIMEDOUT, or
 * -ENOBUFS when the kernel dropped notifications (the socket overflowed).
 */
static inline int bsk_genl_event(struct bsk_genl *g, uint8_t *cmd,
				 struct bsk_genl_dev *d, int timeout_ms)
{
	static char buf[65536];
	long long end;
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	end = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000 + timeout_ms;
	for (;;) {
		const struct nlmsghdr *nlh = (const struct nlmsghdr *)buf;
		long long now;
		size_t len = 0;
		int ret;

		clock_gettime(CLOCK_MONOTONIC, &ts);
		now = ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
		/* A timeout of 0 still takes what is queued. */
		ret = bsk_genl_recvbuf(g->fd, buf, sizeof(buf), &len,
				       now < end ? end - now : 0);
		if (ret == -EINTR)
			continue;
		if (ret)
			return ret;
		if (len < NLMSG_HDRLEN + GENL_HDRLEN || !NLMSG_OK(nlh, len) ||
		    nlh->nlmsg_type != g->family)
			continue;
		*cmd = ((const struct genlmsghdr *)NLMSG_DATA(nlh))->cmd;
		bsk_genl_dev_parse(nlh, d);
		return 0;
	}
}

static inline const char *bsk_state_name(uint32_t state)
{
	static const char *const names[] = {
		"unspec", "probed", "syncing", "identifying", "ready",
		"failed", "gone", "watching", "released",
	};

	return state < sizeof(names) / sizeof(names[0]) ? names[state] : "?";
}

#endif /* BSK_GENL_H */
