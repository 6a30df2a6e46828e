// SPDX-License-Identifier: GPL-2.0
/*
 * A seeded fuzzer for the "bootshake" generic netlink family.
 *
 * Raw datagrams on a NETLINK_GENERIC socket, no libnl: malformed and
 * random requests (unknown commands, wrong attribute types, lengths and
 * nesting, flags, reserved genl header fields, truncated and huge
 * messages, several messages per datagram), valid ones mixed in, and
 * dumps interrupted by closing the socket.  As root and, in a forked
 * child, as nobody (uid/gid 65534).
 *
 * The oracle, per message (the kernel's netlink_rcv_skb() rules):
 * - a header the kernel cannot use (nlmsg_len < 16 or past the datagram)
 *   is dropped silently with the rest of its datagram: no answer expected;
 * - any request (NLM_F_REQUEST) with NLM_F_ACK, a dump request, and any
 *   message the kernel rejects must be answered: NLMSG_ERROR or, for a
 *   dump, NLMSG_DONE, with our sequence number - within a timeout (a
 *   missing answer and a hang both fail);
 * - every reply is well formed: lengths, our port id, a sequence number
 *   we sent, the command we asked, attributes that walk to the end;
 * - a message that the family's policies must reject (unknown command,
 *   attribute out of range, wrong length, unknown attribute, trailing
 *   bytes, reserved bits, doit on a dump-only command ...) is never
 *   accepted; an admin command from nobody gets -EPERM and nothing else
 *   in a form (do or dump) the family implements for it.  In a form it
 *   does not implement (NLM_F_DUMP on a doit-only admin command) the
 *   answer depends on the kernel: before 6.2 genetlink checks
 *   GENL_ADMIN_PERM first (-EPERM), from 6.2 it looks the command up in
 *   the request's form first (-EOPNOTSUPP).  The forms and admin flags
 *   the oracle assumes are checked against what the family advertises
 *   (CTRL_ATTR_OPS) before fuzzing.
 * After each run the module still answers INFO_GET, DEV_GET and
 * POLICY_GET, the policies are restored (fuzzing as root may change
 * them), and no splat was logged.
 *
 * Two worker processes fuzz at once in each run (root: seeds S, S+1;
 * nobody: S+2, S+3); each worker's message stream is a function of its
 * seed alone.
 *
 * Environment: BSK_FUZZ_MESSAGES (total over both runs, default 5000),
 * BSK_FUZZ_SEED (default: time).  The seed is printed at the start and
 * with every failure: BSK_FUZZ_SEED=<seed> reproduces a run.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "bsk_test.h"
#include "bsk_genl.h"

#define MAX_INFLIGHT	8
#define BIG_MSG		(128 * 1024)

/* ---------------------------------------------------------------- PRNG */

struct rng {
	uint64_t s;
};

static uint64_t rnd(struct rng *r)
{
	/* xorshift64* */
	r->s ^= r->s >> 12;
	r->s ^= r->s << 25;
	r->s ^= r->s >> 27;
	return r->s * 0x2545F4914F6CDD1DULL;
}

static uint32_t below(struct rng *r, uint32_t n)
{
	return n ? (uint32_t)(rnd(r) % n) : 0;
}

static bool chance(struct rng *r, unsigned int percent)
{
	return below(r, 100) < percent;
}

/* ------------------------------------------------------- what we know */

/* The family's commands, as kmod/netlink.c registers them. */
struct cmd_info {
	bool doit, dumpit, admin;
	uint16_t maxattr;
};

static const struct cmd_info cmds[BOOTSHAKE_CMD_MAX + 1] = {
	[BOOTSHAKE_CMD_DEV_GET] = { true, true, false, BOOTSHAKE_A_DEV_ID },
	[BOOTSHAKE_CMD_POLICY_GET] = { true, true, false, BOOTSHAKE_A_POLICY_KIND },
	[BOOTSHAKE_CMD_POLICY_SET] = { true, false, true, BOOTSHAKE_A_POLICY_MAX },
	[BOOTSHAKE_CMD_ARM] = { true, false, true, BOOTSHAKE_A_POLICY_MAX },
	[BOOTSHAKE_CMD_RETRY] = { true, false, true, BOOTSHAKE_A_DEV_ID },
	[BOOTSHAKE_CMD_RELEASE] = { true, false, true, BOOTSHAKE_A_DEV_ID },
	[BOOTSHAKE_CMD_TRANSCRIPT_GET] = { false, true, false, BOOTSHAKE_A_TR_DEV_ID },
	[BOOTSHAKE_CMD_INFO_GET] = { true, false, false, 1 },
};

static bool cmd_known(unsigned int cmd)
{
	return cmd <= BOOTSHAKE_CMD_MAX && (cmds[cmd].doit || cmds[cmd].dumpit);
}

/*
 * Does genetlink look a command up in the request's form (do or dump)
 * before it checks GENL_ADMIN_PERM?  From Linux 6.2 it does:
 * genl_family_rcv_msg() finds the op with genl_get_cmd_split(), which
 * fails with -EOPNOTSUPP for a form the op lacks, and checks the
 * permission after that (the split-ops rework, "genetlink: introduce
 * split op representation").  Up to 6.1 it checks the permission on the
 * command first and the form only in genl_family_rcv_msg_dumpit() /
 * _doit() (net/netlink/genetlink.c of linux-source-6.1).
 */
static bool genl_form_first(void)
{
	static int cached = -1;
	unsigned int major = 0, minor = 0;
	struct utsname u;

	if (cached < 0) {
		if (uname(&u) || sscanf(u.release, "%u.%u", &major, &minor) != 2)
			major = 0;
		cached = major > 6 || (major == 6 && minor >= 2);
	}
	return cached;
}

/* Attributes each command has a policy entry for: [cmd] = bitmask. */
static uint32_t cmd_attrs(unsigned int cmd)
{
	switch (cmd) {
	case BOOTSHAKE_CMD_DEV_GET:
	case BOOTSHAKE_CMD_RETRY:
	case BOOTSHAKE_CMD_RELEASE:
		return 1u << BOOTSHAKE_A_DEV_ID;
	case BOOTSHAKE_CMD_TRANSCRIPT_GET:
		return 1u << BOOTSHAKE_A_TR_DEV_ID;
	case BOOTSHAKE_CMD_POLICY_GET:
		return 1u << BOOTSHAKE_A_POLICY_KIND;
	case BOOTSHAKE_CMD_POLICY_SET:
		return 1u << BOOTSHAKE_A_POLICY_KIND | 1u << BOOTSHAKE_A_POLICY_MODE |
		       1u << BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS |
		       1u << BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS;
	case BOOTSHAKE_CMD_ARM:
		return 1u << BOOTSHAKE_A_POLICY_KIND |
		       1u << BOOTSHAKE_A_POLICY_ARM_COUNT |
		       1u << BOOTSHAKE_A_POLICY_ARM_TIMEOUT_MS;
	}
	return 0;
}

/* Valid range of a u32 attribute of @cmd: [*lo, *hi]. */
static void attr_range(unsigned int cmd, unsigned int type, uint32_t *lo,
		       uint32_t *hi)
{
	*lo = 0;
	*hi = UINT32_MAX;
	switch (cmd) {
	case BOOTSHAKE_CMD_DEV_GET:
	case BOOTSHAKE_CMD_RETRY:
	case BOOTSHAKE_CMD_RELEASE:
	case BOOTSHAKE_CMD_TRANSCRIPT_GET:
		*lo = 1;
		return;
	}
	switch (type) {
	case BOOTSHAKE_A_POLICY_KIND:
		*lo = 1;
		*hi = BOOTSHAKE_KIND_MAX;
		break;
	case BOOTSHAKE_A_POLICY_MODE:
		*lo = BOOTSHAKE_POLICY_OFF;
		*hi = BOOTSHAKE_POLICY_MAX;
		break;
	case BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS:
	case BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS:
		*lo = 1;
		*hi = 600000;
		break;
	case BOOTSHAKE_A_POLICY_ARM_COUNT:
		*hi = 64;
		break;
	case BOOTSHAKE_A_POLICY_ARM_TIMEOUT_MS:
		*lo = 1;
		*hi = 3600000;
		break;
	}
}

/* ------------------------------------------------------------ messages */

/** struct msg - one request in flight and what the oracle expects */
struct msg {
	uint32_t seq;
	uint8_t cmd;
	bool need_answer;	/* must see NLMSG_ERROR / NLMSG_DONE */
	bool must_fail;		/* the family must reject it */
	int must_errno;		/* nobody + admin command + clean header:
				 * exactly this error (-EPERM, -EOPNOTSUPP) */
	bool ours;		/* addressed to the bootshake family */
	bool answered;
	bool accepted;		/* ack 0, DONE 0 or a reply */
	int error;
	char what[96];		/* how it was made, for failure messages */
};

struct stats {
	long messages;		/* fuzz messages sent (not syncs) */
	long required;		/* of which had to be answered */
	long acks;		/* NLMSG_ERROR with error 0 */
	long errors;		/* NLMSG_ERROR with error < 0 */
	long replies;		/* family messages */
	long dones;		/* NLMSG_DONE */
	long silent;		/* dropped by design (bad nlmsghdr) */
	long send_errors;	/* sendmsg itself refused (EMSGSIZE ...) */
	long dumps_cut;		/* dumps interrupted by close */
	long eperm;		/* admin commands refused to nobody */
	long eopnotsupp;	/* ... in a form the family lacks (>= 6.2) */
	/* failures */
	long unanswered;
	long accepted_bad;
	long wrong_errno;	/* admin command from nobody: other error */
	long bad_replies;
	long hangs;
	long setup;
	int failed;
};

struct fuzzer {
	struct rng rng;
	uint64_t seed;
	bool root;
	struct bsk_genl g;
	uint16_t family;
	uint16_t bogus_types[8];	/* types no family has */
	uint32_t kinds;			/* bitmask of kinds the module knows */
	uint32_t dev_ids[64];		/* existing devices: never RELEASE */
	int ndev;
	bool ext_ack, cap_ack;
	int timeout_ms;
	struct msg inflight[MAX_INFLIGHT];
	int ninflight;
	struct stats st;
	char *buf, *rbuf;
};

#define FAIL(f, fmt, ...) do {						\
	fprintf(stderr, "# FAIL [%s seed=%" PRIu64 "] " fmt "\n",		\
		(f)->root ? "root" : "nobody", (f)->seed, ##__VA_ARGS__);	\
	(f)->st.failed++;						\
} while (0)

/* A u32 value for attribute @type of @cmd; *valid says if in range. */
static uint32_t pick_u32(struct fuzzer *f, unsigned int cmd, unsigned int type,
			 bool *valid)
{
	uint32_t lo, hi, v;

	attr_range(cmd, type, &lo, &hi);
	switch (below(&f->rng, 6)) {
	case 0:
		v = lo;
		break;
	case 1:
		v = hi;
		break;
	case 2:
		v = lo ? lo - 1 : hi + 1;	/* just outside (wraps at max) */
		break;
	case 3:
		v = hi + 1;
		break;
	case 4:
		v = (uint32_t)rnd(&f->rng);
		break;
	default:
		v = lo + below(&f->rng, hi - lo > 1000 ? 1000 : hi - lo + 1);
		break;
	}
	*valid = v >= lo && v <= hi;
	/* Never RELEASE/RETRY a device that exists (another test's). */
	if ((cmd == BOOTSHAKE_CMD_RELEASE || cmd == BOOTSHAKE_CMD_RETRY) &&
	    type == BOOTSHAKE_A_DEV_ID) {
		for (int i = 0; i < f->ndev; i++)
			if (f->dev_ids[i] == v)
				v = 0x7ffffff0u + below(&f->rng, 8);
		*valid = v >= lo;
	}
	return v;
}

/*
 * Attributes for @cmd into @a (max @size).  *must_fail is set when a
 * mutation makes the set invalid for certain; unsure mutations leave it.
 */
static size_t make_attrs(struct fuzzer *f, unsigned int cmd, char *a,
			 size_t size, bool mutate, bool *must_fail,
			 char *what, size_t wlen)
{
	uint32_t known = cmd_attrs(cmd);
	unsigned int maxattr = cmd <= BOOTSHAKE_CMD_MAX ? cmds[cmd].maxattr : 0;
	size_t n = 0;
	unsigned int t;
	bool valid;

	/* The sane part: each known attribute, most of the time. */
	for (t = 1; t < 32; t++) {
		uint32_t v;

		if (!(known & (1u << t)) || chance(&f->rng, 25))
			continue;
		v = pick_u32(f, cmd, t, &valid);
		if (!valid)
			*must_fail = true;
		n = bsk_nla_u32(a, size, n, t, v);
	}
	if (!mutate)
		return n;

	for (int k = 1 + below(&f->rng, 3); k > 0; k--) {
		char junk[64];
		unsigned int len;

		switch (below(&f->rng, 11)) {
		case 0:	/* a known u32 attribute with a wrong length */
			t = 1 + below(&f->rng, 8);
			len = (unsigned int[]){ 0, 1, 2, 3, 5, 8, 16, 7 }[below(&f->rng, 8)];
			memset(junk, 0x41, sizeof(junk));
			n = bsk_nla_put(a, size, n, t, junk, len);
			/*
			 * A policy attribute of the wrong length, or one
			 * with no policy entry (strict: "unsupported"), or
			 * one past maxattr: rejected in every case.
			 */
			*must_fail = true;
			snprintf(what, wlen, "attr %u len %u", t, len);
			break;
		case 1:	/* type past maxattr */
			t = maxattr + 1 + below(&f->rng, 40);
			n = bsk_nla_u32(a, size, n, t, (uint32_t)rnd(&f->rng));
			*must_fail = true;
			snprintf(what, wlen, "attr %u > max %u", t, maxattr);
			break;
		case 2:	/* type 0 */
			n = bsk_nla_u32(a, size, n, 0, 1);
			*must_fail = true;
			snprintf(what, wlen, "attr 0");
			break;
		case 3:	/* NLA_F_NESTED on a u32 */
			t = 1 + below(&f->rng, maxattr ? maxattr : 1);
			n = bsk_nla_u32(a, size, n, t | NLA_F_NESTED, 1);
			*must_fail = true;
			snprintf(what, wlen, "attr %u|NESTED", t);
			break;
		case 4:	/* NLA_F_NET_BYTEORDER: accepted or not, unsure */
			t = 1 + below(&f->rng, maxattr ? maxattr : 1);
			n = bsk_nla_u32(a, size, n, t | NLA_F_NET_BYTEORDER,
					pick_u32(f, cmd, t, &valid));
			snprintf(what, wlen, "attr %u|BYTEORDER", t);
			break;
		case 5:	/* trailing bytes that are no attribute */
			len = 1 + below(&f->rng, 3);
			if (n + len <= size) {
				memset(a + n, 0xff, len);
				n += len;
				*must_fail = true;
			}
			snprintf(what, wlen, "%u trailing bytes", len);
			break;
		case 6:	/* nla_len past the end */
			if (n + 8 <= size) {
				struct nlattr *x = (struct nlattr *)(a + n);

				x->nla_type = 1 + below(&f->rng, 8);
				x->nla_len = 8 + 4 * (1 + below(&f->rng, 64));
				memset(a + n + 4, 0, 4);
				n += 8;
				*must_fail = true;
			}
			snprintf(what, wlen, "attr past the end");
			break;
		case 7:	/* nla_len < 4 */
			if (n + 4 <= size) {
				struct nlattr *x = (struct nlattr *)(a + n);

				x->nla_type = 1 + below(&f->rng, 8);
				x->nla_len = below(&f->rng, 4);
				n += 4;
				*must_fail = true;
			}
			snprintf(what, wlen, "nla_len < 4");
			break;
		case 8:	/* deep nesting inside a known attribute type */
		{
			unsigned int depth = 1 + below(&f->rng, 30), d;
			size_t start = n;

			if (n + depth * 4 + 8 > size)
				break;
			t = 1 + below(&f->rng, maxattr ? maxattr : 1);
			for (d = 0; d < depth; d++) {
				struct nlattr *x = (struct nlattr *)(a + n + d * 4);

				x->nla_type = (d ? 1 + below(&f->rng, 4) : t) |
					      NLA_F_NESTED;
				x->nla_len = depth * 4 + 8 - d * 4;
			}
			n += depth * 4;
			n = bsk_nla_u32(a, size, n, 1, 1);
			(void)start;
			*must_fail = true;
			snprintf(what, wlen, "nesting depth %u in attr %u",
				 depth, t);
			break;
		}
		case 9:	/* duplicate of a valid attribute: last one wins */
			t = 1 + below(&f->rng, 8);
			if (known & (1u << t)) {
				n = bsk_nla_u32(a, size, n, t,
						pick_u32(f, cmd, t, &valid));
				if (!valid)
					*must_fail = true;
			}
			snprintf(what, wlen, "duplicate attr %u", t);
			break;
		default: /* random bytes as attributes: unsure */
			len = below(&f->rng, 48);
			for (unsigned int i = 0; i < len && n < size; i++)
				a[n++] = (char)rnd(&f->rng);
			snprintf(what, wlen, "%u random attr bytes", len);
			break;
		}
	}
	return n;
}

/* The last attribute @type: the one the kernel's parser keeps. */
static const struct nlattr *nla_find_last(const char *a, size_t len,
					  uint16_t type)
{
	const struct nlattr *found = NULL, *n;

	while ((n = bsk_nla_find(a, len, type))) {
		size_t skip = (const char *)n - a + NLA_ALIGN(n->nla_len);

		found = n;
		if (skip >= len)
			break;
		a += skip;
		len -= skip;
	}
	return found;
}

/* Is this kind one the module supports (POLICY_* of others: EOPNOTSUPP)? */
static bool kind_ok(struct fuzzer *f, const char *a, size_t n)
{
	const struct nlattr *k = nla_find_last(a, n, BOOTSHAKE_A_POLICY_KIND);
	uint32_t v = bsk_nla_get_u32(k, 0);

	return v < 32 && (f->kinds & (1u << v));
}

/*
 * Build one message at @out (room @room).  Returns its length on the
 * wire; fills @m.  *hdr_ok is false when its nlmsghdr makes the kernel
 * drop it and the rest of the datagram.
 */
static size_t make_msg(struct fuzzer *f, char *out, size_t room, struct msg *m,
		       bool allow_huge, bool *hdr_ok)
{
	static char attrs[BIG_MSG];
	struct nlmsghdr *nlh = (struct nlmsghdr *)out;
	struct genlmsghdr *gh;
	uint16_t flags = NLM_F_REQUEST | NLM_F_ACK, type = f->family;
	unsigned int strategy = below(&f->rng, 100);
	bool must_fail = false, clean_hdr = true, dump;
	size_t alen = 0, len;
	uint8_t cmd;
	char what[64] = "";

	memset(m, 0, sizeof(*m));
	*hdr_ok = true;

	/* The command: mostly known ones. */
	if (chance(&f->rng, 85)) {
		do
			cmd = 1 + below(&f->rng, BOOTSHAKE_CMD_MAX);
		while (!cmd_known(cmd));
	} else {
		cmd = (uint8_t[]){ 0, BOOTSHAKE_CMD_DEV_ADD_NTF,
				   BOOTSHAKE_CMD_DEV_CHANGE_NTF,
				   BOOTSHAKE_CMD_DEV_DEL_NTF,
				   BOOTSHAKE_CMD_MAX + 1,
				   (uint8_t)(BOOTSHAKE_CMD_MAX + 1 + below(&f->rng, 200)),
				   255 }[below(&f->rng, 7)];
	}
	dump = cmd_known(cmd) && cmds[cmd].dumpit &&
	       (!cmds[cmd].doit || chance(&f->rng, 50));
	if (dump)
		flags |= NLM_F_DUMP;

	if (strategy < 20) {
		/* valid-looking request */
		alen = make_attrs(f, cmd, attrs, sizeof(attrs), false,
				  &must_fail, what, sizeof(what));
		snprintf(what, sizeof(what), "plain");
	} else if (strategy < 65) {
		alen = make_attrs(f, cmd, attrs, sizeof(attrs), true,
				  &must_fail, what, sizeof(what));
	} else if (strategy < 80) {
		/* header fuzz */
		alen = make_attrs(f, cmd, attrs, sizeof(attrs), false,
				  &must_fail, what, sizeof(what));
		switch (below(&f->rng, 7)) {
		case 0:
			flags = (uint16_t)rnd(&f->rng);
			snprintf(what, sizeof(what), "flags %#x", flags);
			break;
		case 1:
			flags &= ~NLM_F_ACK;
			snprintf(what, sizeof(what), "no ACK");
			break;
		case 2:
			flags ^= NLM_F_DUMP;
			snprintf(what, sizeof(what), "DUMP flipped");
			break;
		case 3:
			flags |= (uint16_t[]){ NLM_F_ECHO, NLM_F_EXCL,
					       NLM_F_CREATE, NLM_F_REPLACE,
					       NLM_F_APPEND, NLM_F_ROOT,
					       NLM_F_MULTI }[below(&f->rng, 7)];
			snprintf(what, sizeof(what), "flags %#x", flags);
			break;
		case 4:
			type = (uint16_t[]){ NLMSG_NOOP, NLMSG_ERROR,
					     NLMSG_DONE, NLMSG_OVERRUN,
					     (uint16_t)below(&f->rng, NLMSG_MIN_TYPE)
					   }[below(&f->rng, 5)];
			snprintf(what, sizeof(what), "control type %u", type);
			break;
		case 5:
			type = f->bogus_types[below(&f->rng, 8)];
			snprintf(what, sizeof(what), "unregistered type %u", type);
			break;
		default:
			clean_hdr = false;	/* reserved/version below */
			snprintf(what, sizeof(what), "genl reserved field");
			break;
		}
	} else if (strategy < 88) {
		/* random payload */
		alen = below(&f->rng, 256);
		for (size_t i = 0; i < alen; i++)
			attrs[i] = (char)rnd(&f->rng);
		snprintf(what, sizeof(what), "random %zu bytes", alen);
	} else if (strategy < 93 && allow_huge) {
		/* huge: thousands of attributes or one giant one */
		size_t target = 4096 + below(&f->rng, f->root ? BIG_MSG - 8192 :
							     48 * 1024);

		if (chance(&f->rng, 50) && cmd_attrs(cmd)) {
			unsigned int t = 1;
			bool valid;

			while (!(cmd_attrs(cmd) & (1u << t)))
				t++;
			while (alen + 8 <= target) {
				alen = bsk_nla_u32(attrs, sizeof(attrs), alen, t,
						   pick_u32(f, cmd, t, &valid));
				if (!valid)
					must_fail = true;
			}
			snprintf(what, sizeof(what), "%zu bytes of attr %u",
				 alen, t);
		} else {
			memset(attrs + 4, 0x5a, target);
			alen = bsk_nla_put(attrs, sizeof(attrs), 0,
					   1 + below(&f->rng, 8), attrs + 4,
					   target - 8);
			must_fail = true;	/* a giant u32 */
			snprintf(what, sizeof(what), "giant attr %zu", alen);
		}
	} else {
		/* broken lengths: genl header cut, or nlmsghdr itself */
		alen = make_attrs(f, cmd, attrs, sizeof(attrs), false,
				  &must_fail, what, sizeof(what));
		switch (below(&f->rng, 4)) {
		case 0: /* shorter than nlmsghdr: dropped silently */
			len = below(&f->rng, NLMSG_HDRLEN);
			if (room < NLMSG_HDRLEN)
				return 0;
			bsk_genl_build(out, type, flags, 0, cmd, NULL, 0);
			nlh->nlmsg_len = len;
			*hdr_ok = false;
			snprintf(m->what, sizeof(m->what), "nlmsg_len %zu", len);
			return NLMSG_HDRLEN;
		case 1: /* longer than the datagram: dropped silently */
			if (room < NLMSG_HDRLEN + GENL_HDRLEN + alen)
				return 0;
			len = bsk_genl_build(out, type, flags, 0, cmd, attrs, alen);
			nlh->nlmsg_len = len + 4 + below(&f->rng, 4096);
			*hdr_ok = false;
			snprintf(m->what, sizeof(m->what), "nlmsg_len past end");
			return len;
		default: /* genl header cut short: -EINVAL */
			if (room < NLMSG_HDRLEN + GENL_HDRLEN)
				return 0;
			bsk_genl_build(out, type, flags, 0, cmd, NULL, 0);
			nlh->nlmsg_len = NLMSG_HDRLEN + below(&f->rng, GENL_HDRLEN);
			m->ours = true;
			m->cmd = cmd;
			m->need_answer = true;	/* an error is always sent */
			m->must_fail = true;
			snprintf(m->what, sizeof(m->what), "genl header cut to %u",
				 nlh->nlmsg_len);
			return NLMSG_ALIGN(nlh->nlmsg_len);
		}
	}

	if (NLMSG_HDRLEN + GENL_HDRLEN + alen > room)
		alen = 0;
	len = bsk_genl_build(out, type, flags, 0, cmd, attrs, alen);
	gh = NLMSG_DATA(nlh);
	if (!clean_hdr) {
		if (chance(&f->rng, 50))
			gh->reserved = 1 + below(&f->rng, 0xfffe);
		else
			gh->version = (uint8_t)rnd(&f->rng);
		clean_hdr = gh->reserved == 0;
	}
	m->cmd = cmd;
	snprintf(m->what, sizeof(m->what), "cmd %u flags %#x type %u: %s",
		 cmd, flags, type, what);

	/* What the kernel must do with it (netlink_rcv_skb, genl_rcv_msg). */
	if (!(flags & NLM_F_REQUEST) || type < NLMSG_MIN_TYPE) {
		m->need_answer = flags & NLM_F_ACK;
		return len;
	}
	/*
	 * A request for the family: an error is always sent, a dump always
	 * ends in DONE, a doit that succeeds is acked only on NLM_F_ACK.
	 */
	m->need_answer = true;
	if (type != f->family) {
		m->must_fail = true;		/* -ENOENT */
		return len;
	}
	m->ours = true;
	dump = (flags & NLM_F_DUMP) == NLM_F_DUMP;

	if (gh->reserved ||
	    (flags & ~(NLM_F_REQUEST | NLM_F_ACK | NLM_F_ECHO | NLM_F_DUMP)) ||
	    ((flags & NLM_F_DUMP) && !dump)) {
		/* genl_header_check(): reserved field, stray flag bits */
		m->must_fail = true;
		clean_hdr = false;
	}
	if (!cmd_known(cmd)) {
		m->must_fail = true;		/* -EOPNOTSUPP */
		return len;
	}
	if (clean_hdr && !f->root && cmds[cmd].admin) {
		bool has_form = dump ? cmds[cmd].dumpit : cmds[cmd].doit;

		m->must_errno = has_form || !genl_form_first() ? -EPERM : -EOPNOTSUPP;
		m->must_fail = true;
		return len;
	}
	if (!f->root && cmds[cmd].admin)
		m->must_fail = true;
	if ((dump && !cmds[cmd].dumpit) || (!dump && !cmds[cmd].doit))
		m->must_fail = true;
	if (must_fail)
		m->must_fail = true;
	/* Semantic checks of kmod/netlink.c that need no device. */
	if (cmd == BOOTSHAKE_CMD_DEV_GET && !dump &&
	    !bsk_nla_find(attrs, alen, BOOTSHAKE_A_DEV_ID))
		m->must_fail = true;
	if ((cmd == BOOTSHAKE_CMD_RETRY || cmd == BOOTSHAKE_CMD_RELEASE) &&
	    !bsk_nla_find(attrs, alen, BOOTSHAKE_A_DEV_ID))
		m->must_fail = true;
	if (cmd == BOOTSHAKE_CMD_TRANSCRIPT_GET &&
	    !bsk_nla_find(attrs, alen, BOOTSHAKE_A_TR_DEV_ID))
		m->must_fail = true;
	if ((cmd == BOOTSHAKE_CMD_POLICY_SET || cmd == BOOTSHAKE_CMD_ARM ||
	     (cmd == BOOTSHAKE_CMD_POLICY_GET && !dump)) &&
	    !kind_ok(f, attrs, alen))
		m->must_fail = true;
	if (cmd == BOOTSHAKE_CMD_POLICY_SET &&
	    !bsk_nla_find(attrs, alen, BOOTSHAKE_A_POLICY_MODE) &&
	    !bsk_nla_find(attrs, alen, BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS) &&
	    !bsk_nla_find(attrs, alen, BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS))
		m->must_fail = true;		/* nothing to set */
	if (cmd == BOOTSHAKE_CMD_INFO_GET && alen >= NLA_HDRLEN)
		m->must_fail = true;		/* reject-all policy */
	if (!(flags & NLM_F_ACK) && !dump && !m->must_fail)
		m->need_answer = false;		/* may succeed silently */
	return len;
}

/* ------------------------------------------------------------- replies */

static struct msg *find_msg(struct fuzzer *f, uint32_t seq)
{
	for (int i = 0; i < f->ninflight; i++)
		if (f->inflight[i].seq == seq)
			return &f->inflight[i];
	return NULL;
}

static bool attrs_walk(const char *a, size_t len)
{
	while (len >= NLA_HDRLEN) {
		const struct nlattr *n = (const struct nlattr *)a;

		if (n->nla_len < NLA_HDRLEN || n->nla_len > len)
			return false;
		if ((size_t)NLA_ALIGN(n->nla_len) >= len)
			return true;
		a += NLA_ALIGN(n->nla_len);
		len -= NLA_ALIGN(n->nla_len);
	}
	return len == 0;
}

/* Check one received datagram; update the in-flight messages. */
static void take_replies(struct fuzzer *f, char *buf, size_t len,
			 uint32_t sync_seq, bool *sync_done)
{
	struct nlmsghdr *nlh;

	if (len < NLMSG_HDRLEN) {
		FAIL(f, "runt datagram of %zu bytes", len);
		f->st.bad_replies++;
		return;
	}
	for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len);
	     nlh = NLMSG_NEXT(nlh, len)) {
		struct msg *m;

		if (nlh->nlmsg_pid == 0 && nlh->nlmsg_seq == 0 &&
		    nlh->nlmsg_type == f->family)
			continue;	/* a notification */
		if (nlh->nlmsg_pid != f->g.portid) {
			FAIL(f, "reply to port %u, we are %u", nlh->nlmsg_pid,
			     f->g.portid);
			f->st.bad_replies++;
			continue;
		}
		if (nlh->nlmsg_seq == sync_seq) {
			if (nlh->nlmsg_type == NLMSG_ERROR)
				*sync_done = true;
			continue;
		}
		m = find_msg(f, nlh->nlmsg_seq);
		if (!m) {
			FAIL(f, "reply (type %u) to seq %u we did not send or that was answered",
			     nlh->nlmsg_type, nlh->nlmsg_seq);
			f->st.bad_replies++;
			continue;
		}
		if (m->answered) {
			FAIL(f, "message after the final answer to seq %u (%s)",
			     m->seq, m->what);
			f->st.bad_replies++;
			continue;
		}
		if (nlh->nlmsg_type == NLMSG_ERROR) {
			const struct nlmsgerr *e = NLMSG_DATA(nlh);

			if (nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*e) ||
			    e->error > 0 || e->error < -4095 ||
			    e->msg.nlmsg_seq != m->seq) {
				FAIL(f, "malformed NLMSG_ERROR for seq %u", m->seq);
				f->st.bad_replies++;
			}
			m->answered = true;
			m->error = e->error;
			if (e->error)
				f->st.errors++;
			else
				f->st.acks++;
			if (!e->error)
				m->accepted = true;
		} else if (nlh->nlmsg_type == NLMSG_DONE) {
			int err = 0;

			if (nlh->nlmsg_len < NLMSG_HDRLEN + 4) {
				FAIL(f, "short NLMSG_DONE for seq %u", m->seq);
				f->st.bad_replies++;
			} else {
				memcpy(&err, NLMSG_DATA(nlh), 4);
			}
			m->answered = true;
			m->error = err;
			f->st.dones++;
			if (!err)
				m->accepted = true;
		} else if (nlh->nlmsg_type == f->family) {
			const struct genlmsghdr *gh = NLMSG_DATA(nlh);
			size_t al;
			const void *a = bsk_genl_attrs(nlh, &al);

			f->st.replies++;
			m->accepted = true;
			if (!a || gh->cmd != m->cmd || !attrs_walk(a, al)) {
				FAIL(f, "malformed reply to seq %u: cmd %u (asked %u), %u bytes",
				     m->seq, gh->cmd, m->cmd, nlh->nlmsg_len);
				f->st.bad_replies++;
			}
		} else {
			FAIL(f, "unexpected message type %u for seq %u",
			     nlh->nlmsg_type, m->seq);
			f->st.bad_replies++;
		}
	}
	if (len) {
		FAIL(f, "%zu bytes of junk at the end of a datagram", len);
		f->st.bad_replies++;
	}
}

/* Judge the answered in-flight messages and forget them. */
static void judge(struct fuzzer *f)
{
	for (int i = 0; i < f->ninflight; i++) {
		struct msg *m = &f->inflight[i];

		if (m->need_answer && !m->answered) {
			FAIL(f, "no answer to seq %u (%s)", m->seq, m->what);
			f->st.unanswered++;
		}
		if (m->must_fail && m->accepted) {
			FAIL(f, "accepted what must be rejected: seq %u (%s), error %d",
			     m->seq, m->what, m->error);
			f->st.accepted_bad++;
		}
		if (m->must_errno && m->answered) {
			if (m->error != m->must_errno) {
				FAIL(f, "admin command from nobody got %d, not %d (%s)",
				     m->error, m->must_errno, m->what);
				f->st.wrong_errno++;
			} else if (m->error == -EPERM) {
				f->st.eperm++;
			} else {
				f->st.eopnotsupp++;
			}
		}
	}
	f->ninflight = 0;
}

/* -------------------------------------------------------------- socket */

static int fuzz_socket(struct fuzzer *f)
{
	int one = 1, ret;

	bsk_genl_close(&f->g);
	ret = bsk_genl_open(&f->g, 1 << 20);
	if (ret)
		return ret;
	f->ext_ack = chance(&f->rng, 50);
	f->cap_ack = chance(&f->rng, 50);
	if (f->ext_ack)
		setsockopt(f->g.fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	if (f->cap_ack)
		setsockopt(f->g.fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	if (chance(&f->rng, 30))
		bsk_genl_join(&f->g);
	return 0;
}

/* A dump that the socket's close interrupts. */
static void cut_dump(struct fuzzer *f)
{
	struct bsk_genl g;
	char a[16], buf[256];
	static const uint8_t dcmds[] = { BOOTSHAKE_CMD_DEV_GET,
					 BOOTSHAKE_CMD_POLICY_GET,
					 BOOTSHAKE_CMD_TRANSCRIPT_GET };
	int n = 1 + below(&f->rng, 3);

	if (bsk_genl_open(&g, 0))
		return;
	for (int i = 0; i < n; i++) {
		uint8_t cmd = dcmds[below(&f->rng, 3)];
		size_t alen = 0, len;

		if (cmd == BOOTSHAKE_CMD_TRANSCRIPT_GET)
			alen = bsk_nla_u32(a, sizeof(a), 0, BOOTSHAKE_A_TR_DEV_ID,
					   1 + below(&f->rng, 1000));
		len = bsk_genl_build(f->buf, g.family,
				     NLM_F_REQUEST | NLM_F_DUMP, ++g.seq, cmd,
				     a, alen);
		bsk_genl_sendbuf(g.fd, f->buf, len);
		if (chance(&f->rng, 50))
			recv(g.fd, buf, sizeof(buf), MSG_DONTWAIT);
	}
	bsk_genl_close(&g);
	f->st.dumps_cut++;
}

/* Send one datagram of 1..4 messages and judge the answers. */
static void fuzz_round(struct fuzzer *f)
{
	size_t off = 0, len;
	int nmsg = chance(&f->rng, 10) ? 2 + below(&f->rng, 3) : 1;
	bool need_sync = false, sync_done = false, hdr_ok = true;
	uint32_t sync_seq = 0;
	long long deadline;
	int ret;

	f->ninflight = 0;
	for (int i = 0; i < nmsg && hdr_ok; i++) {
		struct msg *m = &f->inflight[f->ninflight];

		len = make_msg(f, f->buf + off, BIG_MSG * 2 - off, m, nmsg == 1,
			       &hdr_ok);
		if (!len)
			break;
		m->seq = ++f->g.seq;
		((struct nlmsghdr *)(f->buf + off))->nlmsg_seq = m->seq;
		f->st.messages++;
		if (!hdr_ok) {
			f->st.silent++;
			need_sync = true;
			off += len;
			break;	/* the kernel stops at this one */
		}
		if (m->need_answer)
			f->st.required++;
		else
			need_sync = true;
		f->ninflight++;
		off += NLMSG_ALIGN(len);
	}
	if (!off)
		return;

	ret = bsk_genl_sendbuf(f->g.fd, f->buf, off);
	if (ret) {
		/* Refused before the kernel parsed anything: answered. */
		f->st.send_errors++;
		if (ret != -EMSGSIZE && ret != -ENOBUFS && ret != -ENOMEM)
			FAIL(f, "sendmsg of %zu bytes: %s", off, strerror(-ret));
		for (int i = 0; i < f->ninflight; i++)
			f->inflight[i].need_answer = false;
		judge(f);
		return;
	}

	if (need_sync) {
		/* A known request behind it tells us the kernel is done. */
		sync_seq = ++f->g.seq;
		len = bsk_genl_build(f->rbuf, f->family,
				     NLM_F_REQUEST | NLM_F_ACK, sync_seq,
				     BOOTSHAKE_CMD_INFO_GET, NULL, 0);
		ret = bsk_genl_sendbuf(f->g.fd, f->rbuf, len);
		if (ret) {
			FAIL(f, "sending the sync request: %s", strerror(-ret));
			f->st.setup++;
			return;
		}
	}

	deadline = bsk_now_ms() + f->timeout_ms;
	for (;;) {
		bool all = true;
		size_t rlen = 0;

		for (int i = 0; i < f->ninflight; i++)
			if (f->inflight[i].need_answer && !f->inflight[i].answered)
				all = false;
		if (all && (!need_sync || sync_done))
			break;
		if (bsk_now_ms() >= deadline) {
			FAIL(f, "no answer within %d ms (%d messages in flight%s)",
			     f->timeout_ms, f->ninflight,
			     need_sync && !sync_done ? ", sync unanswered" : "");
			f->st.hangs++;
			break;
		}
		ret = bsk_genl_recvbuf(f->g.fd, f->rbuf, BIG_MSG * 2 + 4096,
				       &rlen, deadline - bsk_now_ms());
		if (ret == -ETIMEDOUT)
			continue;
		if (ret) {
			FAIL(f, "recv: %s", strerror(-ret));
			f->st.bad_replies++;
			break;
		}
		take_replies(f, f->rbuf, rlen, sync_seq, &sync_done);
	}
	judge(f);
}

/* ------------------------------------------------------------ the run */

static int dev_id_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct fuzzer *f = arg;
	struct bsk_genl_dev d;

	bsk_genl_dev_parse(nlh, &d);
	if (f->ndev < 64)
		f->dev_ids[f->ndev++] = d.id;
	return 0;
}

static int policy_kind_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct bsk_genl_policy p;

	bsk_genl_policy_cb(nlh, &p);
	if (p.kind < 32)
		*(uint32_t *)arg |= 1u << p.kind;
	return 0;
}

struct family_scan {
	struct fuzzer *f;
	uint8_t *used;		/* bitmap of the family ids in use */
	uint32_t seen;		/* bitmap of our commands the family lists */
};

/*
 * Is what the oracle assumes of command @cmd (forms, admin) what the
 * family advertises in CTRL_ATTR_OPS?  The op flags are the kernel's
 * view: GENL_CMD_CAP_DO / _DUMP for the forms it implements.
 */
static void check_op(struct family_scan *fs, const struct nlattr *op)
{
	const void *a = bsk_nla_data(op);
	size_t al = op->nla_len - NLA_HDRLEN;
	uint32_t cmd = bsk_nla_get_u32(bsk_nla_find(a, al, CTRL_ATTR_OP_ID), 0);
	uint32_t fl = bsk_nla_get_u32(bsk_nla_find(a, al, CTRL_ATTR_OP_FLAGS), 0);
	struct fuzzer *f = fs->f;

	if (!cmd_known(cmd)) {
		FAIL(f, "the family has command %u, the fuzzer does not know it", cmd);
		f->st.setup++;
		return;
	}
	fs->seen |= 1u << cmd;
	if (!!(fl & GENL_CMD_CAP_DO) != cmds[cmd].doit ||
	    !!(fl & GENL_CMD_CAP_DUMP) != cmds[cmd].dumpit ||
	    !!(fl & GENL_ADMIN_PERM) != cmds[cmd].admin) {
		FAIL(f, "command %u: op flags %#x, the fuzzer assumes do %d dump %d admin %d",
		     cmd, fl, cmds[cmd].doit, cmds[cmd].dumpit, cmds[cmd].admin);
		f->st.setup++;
	}
}

/*
 * nlctrl dump of all families: pick message types that no family has,
 * and check our family's ops against cmds[].
 */
static int family_types_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct family_scan *fs = arg;
	size_t al, left;
	const void *a = bsk_genl_attrs(nlh, &al);
	uint16_t id = bsk_nla_get_u16(bsk_nla_find(a, al, CTRL_ATTR_FAMILY_ID), 0);
	const struct nlattr *ops, *op;

	fs->used[id / 8] |= 1 << (id % 8);
	if (id != fs->f->family)
		return 0;
	ops = bsk_nla_find(a, al, CTRL_ATTR_OPS);
	if (!ops)
		return 0;
	op = bsk_nla_data(ops);
	left = ops->nla_len - NLA_HDRLEN;
	while (left >= NLA_HDRLEN && op->nla_len >= NLA_HDRLEN &&
	       op->nla_len <= left) {
		size_t step = NLA_ALIGN(op->nla_len);

		check_op(fs, op);
		if (step >= left)
			break;
		left -= step;
		op = (const struct nlattr *)((const char *)op + step);
	}
	return 0;
}

static void fuzzer_init(struct fuzzer *f, uint64_t seed, bool root)
{
	static uint8_t used[65536 / 8];
	struct family_scan fs = { .f = f, .used = used };
	struct bsk_genl ctl;
	int n = 0;

	memset(f, 0, sizeof(*f));
	f->seed = seed;
	f->rng.s = seed * 2654435761ULL + 0x9e3779b97f4a7c15ULL;
	f->root = root;
	f->timeout_ms = 5000 * bsk_scale();
	f->g.fd = -1;
	f->buf = malloc(BIG_MSG * 2 + 4096);
	f->rbuf = malloc(BIG_MSG * 2 + 4096);

	if (bsk_genl_open(&f->g, 1 << 20)) {
		FAIL(f, "cannot open the bootshake family");
		f->st.setup++;
		return;
	}
	f->family = f->g.family;
	bsk_genl_request(&f->g, BOOTSHAKE_CMD_DEV_GET, NLM_F_DUMP, NULL, 0,
			 dev_id_cb, f, f->timeout_ms);
	bsk_genl_request(&f->g, BOOTSHAKE_CMD_POLICY_GET, NLM_F_DUMP, NULL, 0,
			 policy_kind_cb, &f->kinds, f->timeout_ms);

	memset(used, 0, sizeof(used));
	ctl = f->g;
	ctl.family = GENL_ID_CTRL;
	bsk_genl_request(&ctl, CTRL_CMD_GETFAMILY, NLM_F_DUMP, NULL, 0,
			 family_types_cb, &fs, f->timeout_ms);
	f->g.seq = ctl.seq;
	for (unsigned int c = 0; c <= BOOTSHAKE_CMD_MAX; c++) {
		if (cmd_known(c) && !(fs.seen & (1u << c))) {
			FAIL(f, "the family does not list command %u", c);
			f->st.setup++;
		}
	}
	for (uint32_t t = NLMSG_MIN_TYPE; t < 65535 && n < 8; t += 97)
		if (!(used[t / 8] & (1 << (t % 8))))
			f->bogus_types[n++] = t;
	while (n < 8)
		f->bogus_types[n++] = 0xfffe;
}

static void fuzzer_run(struct fuzzer *f, long messages)
{
	long next_sock = 0;

	while (f->st.messages < messages && !f->st.setup && f->st.failed < 20) {
		if (f->st.messages >= next_sock) {
			if (fuzz_socket(f)) {
				FAIL(f, "cannot reopen the socket");
				f->st.setup++;
				break;
			}
			next_sock = f->st.messages + 200 + below(&f->rng, 2000);
		}
		if (chance(&f->rng, 1))
			cut_dump(f);
		fuzz_round(f);
	}
	bsk_genl_close(&f->g);
	free(f->buf);
	free(f->rbuf);
}

static void print_stats(const char *who, const struct stats *s, uint64_t seed)
{
	fprintf(stderr,
		"# %s: %ld messages (seed %" PRIu64 "): %ld had to be answered; %ld acks, %ld errors (%ld EPERM, %ld EOPNOTSUPP to nobody), %ld replies, %ld dumps done, %ld dropped by design, %ld refused by sendmsg, %ld dumps cut; failures: %ld unanswered, %ld wrongly accepted, %ld wrong errno to nobody, %ld bad replies, %ld hangs\n",
		who, s->messages, seed, s->required, s->acks, s->errors,
		s->eperm, s->eopnotsupp, s->replies, s->dones, s->silent, s->send_errors,
		s->dumps_cut, s->unanswered, s->accepted_bad, s->wrong_errno,
		s->bad_replies, s->hangs);
}

static long fuzz_messages(void)
{
	const char *s = getenv("BSK_FUZZ_MESSAGES");
	long n = s ? atol(s) : 5000;

	return n > 0 ? n : 5000;
}

static uint64_t fuzz_seed(void)
{
	const char *s = getenv("BSK_FUZZ_SEED");
	struct timespec ts;

	if (s && *s)
		return strtoull(s, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000003u + ts.tv_nsec / 1000;
}

/* ------------------------------------------------------------- checks */

struct saved_policy {
	struct bsk_genl_policy p[BOOTSHAKE_KIND_MAX + 1];
	uint32_t kinds;
};

static int save_policies(struct saved_policy *sp)
{
	struct bsk_genl g;
	int ret;

	memset(sp, 0, sizeof(*sp));
	ret = bsk_genl_open(&g, 0);
	if (ret)
		return ret;
	ret = bsk_genl_request(&g, BOOTSHAKE_CMD_POLICY_GET, NLM_F_DUMP, NULL,
			       0, policy_kind_cb, &sp->kinds, 5000 * bsk_scale());
	for (int k = 1; !ret && k <= BOOTSHAKE_KIND_MAX; k++)
		if (sp->kinds & (1u << k))
			ret = bsk_genl_policy_get(&g, k, &sp->p[k]);
	bsk_genl_close(&g);
	return ret;
}

static int restore_policies(const struct saved_policy *sp)
{
	struct bsk_genl g;
	char a[64];
	int ret;

	ret = bsk_genl_open(&g, 0);
	if (ret)
		return ret;
	for (int k = 1; !ret && k <= BOOTSHAKE_KIND_MAX; k++) {
		size_t n;

		if (!(sp->kinds & (1u << k)))
			continue;
		/* Sync first: a step longer than the current sync is refused. */
		ret = bsk_genl_policy_set(&g, k, 0, 0, 600000);
		if (!ret)
			ret = bsk_genl_policy_set(&g, k, sp->p[k].mode,
						  sp->p[k].step_ms,
						  sp->p[k].sync_ms);
		n = bsk_nla_u32(a, sizeof(a), 0, BOOTSHAKE_A_POLICY_KIND, k);
		n = bsk_nla_u32(a, sizeof(a), n, BOOTSHAKE_A_POLICY_ARM_COUNT, 0);
		if (!ret)
			ret = bsk_genl_request(&g, BOOTSHAKE_CMD_ARM, 0, a, n,
					       NULL, NULL, 5000);
	}
	bsk_genl_close(&g);
	return ret;
}

static int count_cb(const struct nlmsghdr *nlh, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* The module answers ordinary requests and has the policies we saved. */
static void expect_sane(struct __test_metadata *_metadata,
			const struct saved_policy *before)
{
	struct saved_policy after;
	struct bsk_genl g;
	int n = 0;

	ASSERT_EQ(0, bsk_genl_open(&g, 0));
	EXPECT_EQ(0, bsk_genl_request(&g, BOOTSHAKE_CMD_INFO_GET, 0, NULL, 0,
				      count_cb, &n, 5000 * bsk_scale()));
	EXPECT_EQ(1, n);
	EXPECT_EQ(0, bsk_genl_request(&g, BOOTSHAKE_CMD_DEV_GET, NLM_F_DUMP,
				      NULL, 0, NULL, NULL, 5000 * bsk_scale()));
	bsk_genl_close(&g);

	ASSERT_EQ(0, save_policies(&after));
	EXPECT_EQ(before->kinds, after.kinds);
	for (int k = 1; k <= BOOTSHAKE_KIND_MAX; k++) {
		if (!(before->kinds & (1u << k)))
			continue;
		EXPECT_EQ(before->p[k].mode, after.p[k].mode);
		EXPECT_EQ(before->p[k].step_ms, after.p[k].step_ms);
		EXPECT_EQ(before->p[k].sync_ms, after.p[k].sync_ms);
		EXPECT_EQ(0U, after.p[k].arm_count);
	}
}

FIXTURE(nlfuzz) {
	int kmsg;
	uint64_t seed;
	long messages;
	struct saved_policy policies;
};

FIXTURE_SETUP(nlfuzz)
{
	self->kmsg = bsk_kmsg_mark();
	self->seed = fuzz_seed();
	self->messages = fuzz_messages();
	ASSERT_EQ(0, save_policies(&self->policies)) {
		TH_LOG("the bootshake family does not answer");
	}
	TH_LOG("seed %" PRIu64 " (BSK_FUZZ_SEED=%" PRIu64 " reproduces), %ld messages: half as root, half as nobody",
	       self->seed, self->seed, self->messages);
}

FIXTURE_TEARDOWN(nlfuzz)
{
	EXPECT_EQ(0, bsk_kmsg_splats(self->kmsg));
}

static void expect_clean(struct __test_metadata *_metadata,
			 const struct stats *s, uint64_t seed)
{
	EXPECT_EQ(0, s->setup);
	EXPECT_EQ(0, s->unanswered);
	EXPECT_EQ(0, s->accepted_bad);
	EXPECT_EQ(0, s->wrong_errno);
	EXPECT_EQ(0, s->bad_replies);
	EXPECT_EQ(0, s->hangs);
	EXPECT_EQ(0, s->failed) {
		TH_LOG("failed with seed %" PRIu64, seed);
	}
}

/*
 * @workers processes fuzz at once (the guest has two vCPUs; concurrent
 * requests are part of the test), each with its own seed (@seed + i)
 * and socket, @n messages in all.  As nobody, each drops to 65534 first.
 */
static void run_workers(struct __test_metadata *_metadata, int workers,
			bool root, uint64_t seed, long n, struct stats *sum)
{
	pid_t pids[8];
	int pfd[8][2];

	memset(sum, 0, sizeof(*sum));
	for (int i = 0; i < workers; i++) {
		ASSERT_EQ(0, pipe(pfd[i]));
		pids[i] = fork();
		ASSERT_LE(0, pids[i]);
		if (!pids[i]) {
			char who[32];
			struct fuzzer f;

			close(pfd[i][0]);
			if (!root && (setgroups(0, NULL) || setgid(65534) ||
				      setuid(65534) || geteuid() != 65534)) {
				fprintf(stderr, "# cannot become nobody: %s\n",
					strerror(errno));
				_exit(2);
			}
			fuzzer_init(&f, seed + i, root);
			fuzzer_run(&f, n / workers + (i < n % workers));
			snprintf(who, sizeof(who), "%s worker %d",
				 root ? "root" : "nobody", i);
			print_stats(who, &f.st, seed + i);
			if (write(pfd[i][1], &f.st, sizeof(f.st)) != sizeof(f.st))
				_exit(3);
			_exit(0);
		}
		close(pfd[i][1]);
	}
	for (int i = 0; i < workers; i++) {
		struct stats st;
		int status;

		memset(&st, 0, sizeof(st));
		EXPECT_EQ((ssize_t)sizeof(st), read(pfd[i][0], &st, sizeof(st)));
		close(pfd[i][0]);
		EXPECT_EQ(pids[i], waitpid(pids[i], &status, 0));
		EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
		for (long *a = (long *)sum, *b = (long *)&st;
		     a < (long *)&sum->failed; a++, b++)
			*a += *b;
		sum->failed += st.failed;
	}
}

#define WORKERS 2

/* Half of the messages as root: admin commands work. */
TEST_F_TIMEOUT(nlfuzz, as_root, 7200)
{
	long n = (self->messages + 1) / 2;
	struct stats st;

	run_workers(_metadata, WORKERS, true, self->seed, n, &st);
	print_stats("root, all workers", &st, self->seed);
	EXPECT_GE(st.messages, n);
	expect_clean(_metadata, &st, self->seed);
	/* Fuzzing as root may have set policies: put them back. */
	EXPECT_EQ(0, restore_policies(&self->policies));
	expect_sane(_metadata, &self->policies);
}

/* The other half as nobody: admin commands are refused. */
TEST_F_TIMEOUT(nlfuzz, as_nobody, 7200)
{
	long n = self->messages / 2;
	uint64_t seed = self->seed + WORKERS;
	struct stats st;

	run_workers(_metadata, WORKERS, false, seed, n, &st);
	print_stats("nobody, all workers", &st, seed);
	EXPECT_GE(st.messages, n);
	EXPECT_GT(st.eperm, 0);
	expect_clean(_metadata, &st, seed);
	expect_sane(_metadata, &self->policies);
}

TEST_HARNESS_MAIN
