/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bootshake CLI: generic netlink plumbing on top of libnl-genl-3.
 */
#ifndef BOOTSHAKE_USER_NL_H
#define BOOTSHAKE_USER_NL_H

#include <stdbool.h>
#include <stdint.h>
#include <linux/netlink.h>
#include <netlink/msg.h>

struct nl_sock;

#define BS_NL_EXTACK_LEN	256

/* What the kernel said about the last failed (or warned) request. */
struct bs_nl_extack {
	int	err;			/* negative errno, 0 if none */
	char	msg[BS_NL_EXTACK_LEN];	/* NLMSGERR_ATTR_MSG, "" if none */
	int	bad_attr;		/* our attr type at NLMSGERR_ATTR_OFFS, -1 */
	int	miss_type;		/* NLMSGERR_ATTR_MISS_TYPE, -1 if none */
	bool	warning;		/* message came with a success */
};

/* Which attribute enum a request's attributes come from. */
enum bs_attr_space {
	BS_ATTRS_DEV,
	BS_ATTRS_POLICY,
	BS_ATTRS_TR,
	BS_ATTRS_INFO,
	BS_ATTRS_N
};

struct bs_nl {
	struct nl_sock		*sk;
	const char		*name;		/* genl family name */
	int			family;		/* genl family id */
	int			mcgrp;		/* joined group id, -1 if none */
	struct bs_nl_extack	ext;
	unsigned int		rx_buf;		/* rcvbuf actually granted */
	bool			dump_intr;	/* last dump had NLM_F_DUMP_INTR */
	enum bs_attr_space	space;		/* of the last request built */
};

/*
 * Called for every message of the reply (do or dump) and for every
 * notification. Return 0 to go on, negative errno to stop with an error.
 */
typedef int (*bs_nl_msg_fn)(const struct nlmsghdr *nlh, void *arg);

/*
 * Connect, enable extended acks and resolve family @name (the CLI always
 * passes BOOTSHAKE_FAMILY_NAME; test_nl uses "nlctrl").
 * Returns 0 or negative errno; -ENOENT means the family is not registered.
 */
int bs_nl_open(struct bs_nl *nl, const char *name);
void bs_nl_close(struct bs_nl *nl);

/* A request with the genl header filled in; add attributes, then send. */
struct nl_msg *bs_nl_msg(struct bs_nl *nl, uint8_t cmd, int flags);

/*
 * Send @msg (consumed) and run the receive loop until the ack, the end of
 * the dump or an error. Returns 0 or negative errno; on a kernel error
 * nl->ext holds the details.
 */
int bs_nl_request(struct bs_nl *nl, struct nl_msg *msg,
		  bs_nl_msg_fn fn, void *arg);

/*
 * Join multicast group @group of the family, make the socket nonblocking
 * and ask for a receive buffer of @rcvbuf bytes.
 */
int bs_nl_subscribe(struct bs_nl *nl, const char *group, int rcvbuf);

/*
 * Wait up to @timeout_ms (-1: forever) for notifications and call @fn for
 * each message of our family. Returns the number of messages handled
 * (0 on timeout), -ENOBUFS when the kernel dropped notifications,
 * -EINTR when a signal arrived, or another negative errno.
 */
int bs_nl_recv_ntf(struct bs_nl *nl, int timeout_ms,
		   bs_nl_msg_fn fn, void *arg);

/* Throw away whatever is queued on a subscribed socket (after ENOBUFS). */
void bs_nl_drain(struct bs_nl *nl);

/* Human name of a device attribute type, for error messages. */
const char *bs_nl_attr_name(int type);
/* Same for any attribute enum; "unknown" when out of range. */
const char *bs_nl_space_attr_name(enum bs_attr_space space, int type);
/* The attribute enum a command's requests use. */
enum bs_attr_space bs_nl_cmd_space(uint8_t cmd);

#endif /* BOOTSHAKE_USER_NL_H */
