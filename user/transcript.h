/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bootshake CLI: a device's transcript, the timed bytes of its handshake.
 */
#ifndef BOOTSHAKE_USER_TRANSCRIPT_H
#define BOOTSHAKE_USER_TRANSCRIPT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

struct bs_dev;
struct bs_nl;

struct bs_tr_rec {
	uint64_t	t_ns;		/* since probe */
	uint32_t	dir;		/* enum bootshake_dir */
	uint32_t	lost;		/* records lost just before this one */
	uint8_t		*data;		/* malloc'ed; notes are ASCII text */
	size_t		len;
};

struct bs_tr {
	struct bs_tr_rec *v;
	size_t		n;
	size_t		cap;
	uint64_t	lost;		/* sum of every record's lost */
};

/* Where the sync went wrong, for "!! here:" and the JSON "mark". */
struct bs_tr_mark {
	long		after;		/* record index; -1: nothing to mark */
	char		why[256];
};

/* Parse one TRANSCRIPT_GET message into @rec (data malloc'ed). */
int bs_tr_parse(const struct nlmsghdr *nlh, struct bs_tr_rec *rec,
		char *why, size_t whylen);
/* Append a copy of @len bytes; for tests and the parser. */
int bs_tr_append(struct bs_tr *tr, uint64_t t_ns, uint32_t dir,
		 const void *data, size_t len, uint32_t lost);
void bs_tr_free(struct bs_tr *tr);
/* The whole transcript of device @id. */
int bs_tr_dump(struct bs_nl *nl, uint32_t id, struct bs_tr *tr,
	       char *why, size_t whylen);

/* A note's text, NUL-terminated, non-printable bytes as '?'. */
const char *bs_tr_text(const struct bs_tr_rec *rec, char *buf, size_t len);
/* "a0 0a 50" (space-separated lower-case hex) */
const char *bs_tr_hex(const struct bs_tr_rec *rec, char *buf, size_t len);
/* True for IN data that reads as text ("READY"): printable, >= 3 bytes. */
bool bs_tr_is_text(const struct bs_tr_rec *rec);

/*
 * Find where the sync went wrong: the first reject/noise/timeout note
 * (or any note about a failure), else, for a failed device, the last byte
 * exchanged. @dev may be NULL.
 */
void bs_tr_find_mark(const struct bs_tr *tr, const struct bs_dev *dev,
		     struct bs_tr_mark *mark);

#endif /* BOOTSHAKE_USER_TRANSCRIPT_H */
