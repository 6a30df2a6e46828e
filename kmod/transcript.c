// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake: per-device transcript.
 *
 * Every byte the pipe sends or receives, and the driver's notes on what
 * it made of them, in one bounded ring with a timestamp (ns since probe).
 * When the ring is full the oldest records go; readers are told how many
 * they missed.  The diagnosis in the helper works from this.
 */

#include <linux/kernel.h>
#include <linux/minmax.h>
#include <linux/string.h>
#include <linux/bootshake.h>

#include "transcript.h"

/**
 * bsk_tr_init() - set up an empty transcript
 * @tr: the transcript
 * @origin: time zero of its timestamps
 */
void bsk_tr_init(struct bsk_transcript *tr, ktime_t origin)
{
	spin_lock_init(&tr->lock);
	tr->origin = origin;
	tr->head = 0;
}

/**
 * bsk_tr_add() - append bytes, split into records as needed
 * @tr: the transcript
 * @dir: enum bootshake_dir
 * @buf: the bytes
 * @len: how many
 *
 * Any context.
 */
void bsk_tr_add(struct bsk_transcript *tr, u8 dir, const u8 *buf, size_t len)
{
	u64 ns = ktime_to_ns(ktime_sub(ktime_get(), tr->origin));
	unsigned long flags;

	spin_lock_irqsave(&tr->lock, flags);
	do {
		struct bsk_tr_rec *r = &tr->recs[tr->head % BSK_TR_RECORDS];
		size_t n = min_t(size_t, len, BSK_TR_DATA);

		r->ns = ns;
		r->dir = dir;
		r->len = n;
		memcpy(r->data, buf, n);
		tr->head++;
		buf += n;
		len -= n;
	} while (len);
	spin_unlock_irqrestore(&tr->lock, flags);
}

/**
 * bsk_tr_note() - append a note of the driver's
 * @tr: the transcript
 * @fmt: printf format; the text is cut at %BSK_TR_DATA bytes
 */
void bsk_tr_note(struct bsk_transcript *tr, const char *fmt, ...)
{
	char text[BSK_TR_DATA + 1];
	va_list args;
	int n;

	va_start(args, fmt);
	n = vscnprintf(text, sizeof(text), fmt, args);
	va_end(args);
	bsk_tr_add(tr, BOOTSHAKE_DIR_NOTE, text, n);
}

/**
 * bsk_tr_read() - copy the record at or after a sequence number
 * @tr: the transcript
 * @seq: in: the wanted record; out: the one after the record returned
 * @rec: where to copy it
 * @lost: set to the number of records between *@seq and the oldest one
 *	still kept, if the ring overwrote them
 *
 * Return: 0, or -ENOENT when there is no record at or after *@seq.
 */
int bsk_tr_read(struct bsk_transcript *tr, u64 *seq, struct bsk_tr_rec *rec,
		u64 *lost)
{
	unsigned long flags;
	u64 oldest, s = *seq;
	int ret = 0;

	spin_lock_irqsave(&tr->lock, flags);
	oldest = tr->head > BSK_TR_RECORDS ? tr->head - BSK_TR_RECORDS : 0;
	*lost = 0;
	if (s < oldest) {
		*lost = oldest - s;
		s = oldest;
	}
	if (s >= tr->head) {
		ret = -ENOENT;
	} else {
		*rec = tr->recs[s % BSK_TR_RECORDS];
		*seq = s + 1;
	}
	spin_unlock_irqrestore(&tr->lock, flags);
	return ret;
}
