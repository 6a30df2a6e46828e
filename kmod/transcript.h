/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bootshake: per-device transcript, a bounded ring of timed byte records.
 */
#ifndef _BOOTSHAKE_TRANSCRIPT_H
#define _BOOTSHAKE_TRANSCRIPT_H

#include <linux/ktime.h>
#include <linux/spinlock.h>
#include <linux/types.h>

#define BSK_TR_RECORDS		512	/* power of two */
#define BSK_TR_DATA		22

/**
 * struct bsk_tr_rec - one record: up to %BSK_TR_DATA bytes one way
 * @ns: nanoseconds since the device's probe
 * @dir: enum bootshake_dir
 * @len: bytes used in @data
 * @data: the bytes (or the text of a note)
 */
struct bsk_tr_rec {
	u64 ns;
	u8 dir;
	u8 len;
	u8 data[BSK_TR_DATA];
};

/**
 * struct bsk_transcript - the ring
 * @lock: protects the ring; taken from URB completion (IRQ) context
 * @origin: time zero (probe)
 * @head: sequence number of the next record; record s lives in slot
 *	s % BSK_TR_RECORDS while s >= @head - BSK_TR_RECORDS
 * @recs: the slots
 */
struct bsk_transcript {
	spinlock_t lock;	/* protects the ring */
	ktime_t origin;
	u64 head;
	struct bsk_tr_rec recs[BSK_TR_RECORDS];
};

void bsk_tr_init(struct bsk_transcript *tr, ktime_t origin);
void bsk_tr_add(struct bsk_transcript *tr, u8 dir, const u8 *buf, size_t len);
void bsk_tr_note(struct bsk_transcript *tr, const char *fmt, ...)
	__printf(2, 3);
int bsk_tr_read(struct bsk_transcript *tr, u64 *seq, struct bsk_tr_rec *rec,
		u64 *lost);

#endif /* _BOOTSHAKE_TRANSCRIPT_H */
