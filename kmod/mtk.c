// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake: MediaTek BootROM (BROM) download mode.
 *
 * Facts from ../shared/protocols/mediatek.md, which cites its sources:
 * - sync: the host sends A0 0A 50 05 one byte at a time, the device
 *   answers each with its complement 5F F5 AF FA (section 2.1);
 * - before the sync a wrong byte is answered with byte + 1 and the device
 *   starts over (MediaTek preloader usbdl_check_start_command, and
 *   cyrozap's note that the BROM does the same), so 0x67 comes back 0x68;
 * - once synced the device runs a command loop that echoes unknown bytes
 *   unchanged, so a device that was synced before answers A0 with A0
 *   (section 7);
 * - GET_HW_CODE 0xFD: echo, hw_code u16 BE, status u16 BE (section 3);
 *   old chips echo and then stay silent (scenario 13).
 */

#include <linux/jiffies.h>
#include <net/genetlink.h>

#include <linux/string.h>

#include "compat.h"	/* get/put_unaligned_be*() */

#include "bootshake.h"

#define MTK_CMD_GET_HW_CODE	0xfd
#define MTK_CMD_GET_HW_SW_VER	0xfc
#define MTK_CMD_GET_BL_VER	0xfe
#define MTK_CMD_GET_VERSION	0xff
#define MTK_CMD_GET_TARGET_CONFIG 0xd8
#define MTK_CMD_GET_ME_ID	0xe1
#define MTK_CMD_GET_SOC_ID	0xe7
#define MTK_CMD_GET_PL_CAP	0xfb
#define MTK_CMD_WRITE16		0xd2
#define MTK_CMD_WRITE32		0xd4

/* Quiet time that ends the drain after an unclean sync. */
#define MTK_QUIET_MS		20

/*
 * GET_BL_VER: a BROM echoes 0xfe, a preloader sends its version (1..3);
 * ME_ID and SOC_ID came with version 3.
 */
#define MTK_BL_VER_BROM		0xfe
#define MTK_BL_VER_PL_MIN	1
#define MTK_BL_VER_PL_MAX	3
#define MTK_BL_VER_IDS		3

static const u8 mtk_sync_seq[] = { 0xa0, 0x0a, 0x50, 0x05 };

/**
 * struct mtk_chip - what bootshake knows of a hw_code
 * @hw_code: GET_HW_CODE value
 * @name: chip name as tools print it
 * @wdt: watchdog MODE register, 0 = leave the watchdog alone
 * @wdt_val: value that disables it
 * @wdt16: the write is 16 bits wide (WRITE16)
 *
 * From ../shared/protocols/mediatek.md section 4 (mtkclient's
 * brom_config.py hwconfig and get_watchdog_addr rules).  64-bit chips
 * (has64bit in mtkclient) get no write.
 */
struct mtk_chip {
	u16 hw_code;
	const char *name;
	u32 wdt;
	u32 wdt_val;
	bool wdt16;
};

static const struct mtk_chip mtk_chips[] = {
	{ 0x6261, "MT6261", 0xa0030000, 0x2200, true },
	{ 0x6572, "MT6572", 0x10007000, 0x22000064 },
	{ 0x6580, "MT6580", 0x10007000, 0x22000064 },
	{ 0x6582, "MT6582", 0x10007000, 0x22000064 },
	{ 0x0321, "MT6735", 0x10212000, 0x22000000 },
	{ 0x0335, "MT6737M", 0x10212000, 0x22000000 },
	{ 0x0337, "MT6753", 0x10212000, 0x22000000 },
	{ 0x0326, "MT6755", 0x10007000, 0x22000064 },
	{ 0x0551, "MT6757", 0x10007000, 0x22000064 },
	{ 0x0699, "MT6739", 0x10007000, 0x22000064 },
	{ 0x0717, "MT6761", 0x10007000, 0x22000064 },
	{ 0x0690, "MT6763", 0x10007000, 0x22000064 },
	{ 0x0766, "MT6765", 0x10007000, 0x22000064 },
	{ 0x0707, "MT6768", 0x10007000, 0x22000064 },
	{ 0x0788, "MT6771", 0x10007000, 0x22000064 },
	{ 0x0813, "MT6785", 0x10007000, 0x22000064 },
	{ 0x0989, "MT6833", 0x10007000, 0x22000064 },
	{ 0x0996, "MT6853", 0x10007000, 0x22000064 },
	{ 0x0816, "MT6885", 0x10007000, 0x22000064 },
	{ 0x0950, "MT6893", 0x10007000, 0x22000064 },
	{ 0x1208, "MT6789", 0x10007000, 0x22000064 },
	{ 0x1209, "MT6835", 0x1c007000, 0x22000064 },
	{ 0x0907, "MT6983", 0, 0 },
	{ 0x1229, "MT6886", 0, 0 },
	{ 0x8163, "MT8163", 0x10007000, 0x22000064 },
	{ 0x8167, "MT8167", 0x10007000, 0x22000064 },
	{ 0x6575, "MT6575", 0xc0000000, 0x2264, true },
};

static const struct mtk_chip *mtk_chip_lookup(u16 hw_code)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(mtk_chips); i++) {
		if (mtk_chips[i].hw_code == hw_code)
			return &mtk_chips[i];
	}
	return NULL;
}

enum mtk_reply {
	MTK_REPLY_NONE,		/* nothing within the step deadline */
	MTK_REPLY_SYNC,		/* the complement: in step */
	MTK_REPLY_ECHO,		/* the byte itself: command loop */
	MTK_REPLY_REJECT,	/* byte + 1: not in step, device restarted */
};

/**
 * struct mtk_sync - one sync run
 * @bdev: the device
 * @deadline: absolute deadline of the whole sync, jiffies
 * @attempts: sequences started
 * @noise: bytes skipped that were no reply to what was sent
 * @silent_a0: A0s in a row that got no answer at all
 * @tried_index1: the last pass started at 0A (see mtk_sync())
 * @non_a0: bytes sent since the last A0; kept at most 3, so that a
 *	preloader back in its listen loop never collects the 8 bytes of a
 *	mode token from us (mediatek.md section 2.2: 8 bytes not starting
 *	with A0 end the download window)
 * @answered: the device answered anything at all
 * @last_bad: last unexpected byte, or -1
 * @last_sent: the byte @last_bad answered
 */
struct mtk_sync {
	struct bsk_dev *bdev;
	unsigned long deadline;
	unsigned int attempts;
	unsigned int noise;
	unsigned int silent_a0;
	bool tried_index1;
	unsigned int non_a0;
	bool answered;
	int last_bad;
	u8 last_sent;
};

static unsigned long mtk_step_deadline(const struct bsk_dev *bdev,
				       unsigned long limit)
{
	unsigned long step = jiffies + msecs_to_jiffies(bdev->step_ms);

	return time_before(step, limit) ? step : limit;
}

/*
 * Read the reply to @sent.  The IN side is a byte stream that may carry
 * banners, stale replies and garbage ahead of the reply: bytes that are
 * none of the three possible answers are skipped (and counted), so that
 * noise costs no round trip.
 */
static int mtk_read_reply(struct mtk_sync *s, u8 sent, enum mtk_reply *reply)
{
	struct bsk_dev *bdev = s->bdev;
	unsigned long deadline = mtk_step_deadline(bdev, s->deadline);
	u8 c;
	int ret;

	for (;;) {
		ret = bsk_pipe_getc(&bdev->pipe, &c, deadline);
		if (ret == -ETIMEDOUT) {
			bsk_tr_note(bdev->tr, "no reply to %02x", sent);
			*reply = MTK_REPLY_NONE;
			return 0;
		}
		if (ret)
			return ret;

		s->answered = true;
		if (c == (u8)~sent) {
			*reply = MTK_REPLY_SYNC;
			return 0;
		}
		if (c == sent) {
			*reply = MTK_REPLY_ECHO;
			return 0;
		}
		s->last_bad = c;
		s->last_sent = sent;
		if (c == (u8)(sent + 1)) {
			bsk_tr_note(bdev->tr, "reject %02x: %02x+1", c, sent);
			*reply = MTK_REPLY_REJECT;
			return 0;
		}
		bsk_tr_note(bdev->tr, "noise %02x", c);
		s->noise++;
	}
}

/*
 * One pass over the sync sequence from index @start.  Returns 0 when all
 * bytes were answered consistently (*echo tells which way), -EAGAIN to
 * start over, or a fatal error.
 */
static int mtk_sync_once(struct mtk_sync *s, unsigned int start, bool *echo)
{
	struct bsk_dev *bdev = s->bdev;
	enum mtk_reply reply;
	unsigned int i;
	int ret;

	for (i = start; i < ARRAY_SIZE(mtk_sync_seq); i++) {
		u8 b = mtk_sync_seq[i];

		if (b != mtk_sync_seq[0] &&
		    ++s->non_a0 > ARRAY_SIZE(mtk_sync_seq) - 1) {
			bsk_tr_note(bdev->tr, "token guard");
			s->tried_index1 = true;	/* next pass starts with A0 */
			return -EAGAIN;
		}
		if (b == mtk_sync_seq[0])
			s->non_a0 = 0;
		ret = bsk_pipe_write(&bdev->pipe, &b, 1, bdev->step_ms);
		if (ret == -ETIMEDOUT) {
			bsk_tr_note(bdev->tr, "write timeout");
			return -EAGAIN;
		}
		if (ret)
			return ret;

		ret = mtk_read_reply(s, b, &reply);
		if (ret)
			return ret;

		if (reply != MTK_REPLY_NONE && i == 0) {
			s->silent_a0 = 0;
			s->tried_index1 = false;
		}

		switch (reply) {
		case MTK_REPLY_SYNC:
		case MTK_REPLY_ECHO:
			if (i == start)
				*echo = reply == MTK_REPLY_ECHO;
			else if (*echo != (reply == MTK_REPLY_ECHO))
				return -EAGAIN;
			break;
		case MTK_REPLY_REJECT:
			/* The device is back at index 0: resend at once. */
			return -EAGAIN;
		case MTK_REPLY_NONE:
			/*
			 * No answer to A0 may be a swallowed first A0 (the
			 * preloader eats it); mid-sequence, late replies may
			 * still arrive: drop what came so far.
			 */
			if (i == 0)
				s->silent_a0++;
			else
				bsk_pipe_flush(&bdev->pipe);
			return -EAGAIN;
		}
	}
	return 0;
}

static void mtk_fail_sync(struct bsk_dev *bdev, const struct mtk_sync *s)
{
	if (!s->answered)
		bsk_dev_fail(bdev, -ETIMEDOUT, "no-reply",
			     "no reply to the sync in %u ms (%u attempts): not in download mode?",
			     bdev->sync_ms, s->attempts);
	else if (s->last_bad == (u8)(s->last_sent + 1))
		bsk_dev_fail(bdev, -EPROTO, "rejected",
			     "no sync in %u ms (%u attempts): device kept rejecting bytes (0x%02x after 0x%02x = byte+1)",
			     bdev->sync_ms, s->attempts, s->last_bad,
			     s->last_sent);
	else if (s->last_bad >= 0)
		bsk_dev_fail(bdev, -EPROTO, "noise",
			     "no sync in %u ms (%u attempts): unexpected 0x%02x after 0x%02x, %u noise bytes",
			     bdev->sync_ms, s->attempts, s->last_bad,
			     s->last_sent, s->noise);
	else
		bsk_dev_fail(bdev, -ETIMEDOUT, "timeout",
			     "no sync in %u ms (%u attempts): replies stopped mid-sequence",
			     bdev->sync_ms, s->attempts);
}

/* Returns 0 when synced, a negative errno otherwise (state already set). */
static int mtk_sync(struct bsk_dev *bdev)
{
	struct mtk_sync s = {
		.bdev = bdev,
		.deadline = jiffies + msecs_to_jiffies(bdev->sync_ms),
		.last_bad = -1,
	};
	unsigned int start;
	bool echo = false;
	int ret;

	/* Bytes queued before our first A0 answer nothing we sent. */
	if (bsk_pipe_flush(&bdev->pipe))
		bsk_tr_note(bdev->tr, "flushed stale bytes");
	bsk_tr_note(bdev->tr, "sync start");

	/*
	 * A preloader's usb_listen swallows the whole transfer that starts
	 * its sync handler (mediatek.md 2.1, scenario 3; mtkclient sends
	 * this lone A0 for every non-BROM PID too): send it on its own and
	 * unanswered, so that the sequence's first A0 is answered at once
	 * instead of costing a step deadline.  A preloader already in its
	 * handler answers it; that stale 5F (and the A1 or silence for the
	 * next A0) is resolved by the resync below like any other noise.
	 */
	if (bdev->kind == &bsk_mtk_preloader_kind) {
		u8 a0 = mtk_sync_seq[0];

		ret = bsk_pipe_write(&bdev->pipe, &a0, 1, bdev->step_ms);
		if (ret == -ENODEV)
			return ret;
		if (ret)	/* the sequence's own A0 will tell */
			bsk_tr_note(bdev->tr, "lead A0: error %d", ret);
		else
			bsk_tr_note(bdev->tr, "lead A0");
	}

	do {
		/*
		 * Two silent A0s after the device did answer: a newer
		 * preloader sitting at index 1 ignores further A0s (its
		 * "fault-tolerant additional start cmd"), so go on with 0A.
		 */
		start = s.silent_a0 >= 2 && s.answered && !s.tried_index1 &&
			s.non_a0 == 0;
		s.tried_index1 = start;
		s.attempts++;
		ret = mtk_sync_once(&s, start, &echo);
	} while (ret == -EAGAIN && time_before(jiffies, s.deadline));

	if (ret == -ENODEV)
		return ret;
	if (ret) {
		bsk_dev_sync_tries(bdev, s.attempts, s.noise);
		if (ret == -EAGAIN)
			mtk_fail_sync(bdev, &s);
		else
			bsk_dev_fail_err(bdev, ret, "the sync");
		return ret == -EAGAIN ? -ETIMEDOUT : ret;
	}

	bsk_tr_note(bdev->tr, echo ? "already synced" : "sync done");
	bsk_dev_synced(bdev, s.attempts, s.noise, echo);
	return 0;
}

/**
 * struct mtk_ident_run - state of one identity readout
 * @bdev: the device
 * @id: what was read so far
 * @reply_ms: how long one reply may take; the step deadline, doubled for
 *	the rest of the readout once a reply came late (see mtk_query())
 * @misses: commands in a row that got no valid answer, after their retry
 * @heard: the device sent something in answer to the last command (its
 *	echo, a wrong byte, or a late reply found by the drain)
 * @ended_before: the step the readout ended before (two misses in a
 *	row), or NULL when it asked everything that applies
 */
struct mtk_ident_run {
	struct bsk_dev *bdev;
	struct bsk_mtk_ident id;
	unsigned int reply_ms;
	unsigned int misses;
	bool heard;
	const char *ended_before;
};

/* Deadline of one reply, from now. */
static unsigned long mtk_reply_deadline(const struct mtk_ident_run *r)
{
	return jiffies + msecs_to_jiffies(r->reply_ms);
}

/*
 * A stalled bulk endpoint during the readout (mediatek.md scenario 23):
 * clear the halt and let the caller try once more.  Return: 0 when the
 * pipe runs again, or the error of the recovery.
 */
static int mtk_unstall(struct mtk_ident_run *r, u8 cmd)
{
	int ret;

	bsk_tr_note(r->bdev->tr, "cmd %02x: stall", cmd);
	ret = bsk_pipe_recover(&r->bdev->pipe);
	if (!ret)
		bsk_tr_note(r->bdev->tr, "stall cleared");
	return ret;
}

/* How a readout command answers (mediatek.md section 3). */
enum mtk_answer {
	MTK_ANSWER_ECHO,	/* echo, then @len bytes */
	MTK_ANSWER_BYTE,	/* one byte that is not (always) an echo */
	MTK_ANSWER_BLOB,	/* echo, u32 length == @len, data, status */
};

/**
 * struct mtk_query - one readout command
 * @cmd: the command byte
 * @answer: how it answers
 * @buf: where the answer goes
 * @len: bytes of answer after the echo (ECHO), blob length (BLOB)
 */
struct mtk_query {
	u8 cmd;
	enum mtk_answer answer;
	u8 *buf;
	size_t len;
};

/* Read the echo of @cmd; any byte read means the device answered. */
static int mtk_read_echo(struct mtk_ident_run *r, u8 cmd,
			 unsigned long deadline)
{
	u8 c;
	int ret;

	ret = bsk_pipe_getc(&r->bdev->pipe, &c, deadline);
	if (ret)
		return ret;
	r->heard = true;
	return c == cmd ? 0 : -EPROTO;
}

/* Blob status words and GET_HW_CODE-style status: above this, an error. */
#define MTK_STATUS_OK_MAX	0xff

/* The length, the data and the status word of a BLOB answer. */
static int mtk_read_blob(struct mtk_ident_run *r, const struct mtk_query *q,
			 unsigned long deadline)
{
	struct bsk_pipe *pipe = &r->bdev->pipe;
	u8 word[4];
	u32 len;
	int ret;

	ret = bsk_pipe_read(pipe, word, 4, deadline);
	if (ret)
		return ret;
	len = get_unaligned_be32(word);
	if (len != q->len) {
		bsk_tr_note(r->bdev->tr, "cmd %02x: len %u", q->cmd, len);
		return -EPROTO;
	}
	deadline = mtk_reply_deadline(r);
	ret = bsk_pipe_read(pipe, q->buf, len, deadline);
	if (!ret)
		ret = bsk_pipe_read(pipe, word, 2, deadline);
	if (!ret && get_unaligned_be16(word) > MTK_STATUS_OK_MAX)
		ret = -EPROTO;
	return ret;
}

/* One try of @q.  Return: 0, -ETIMEDOUT, -EPROTO, -EPIPE or -ENODEV. */
static int mtk_query_once(struct mtk_ident_run *r, const struct mtk_query *q)
{
	struct bsk_pipe *pipe = &r->bdev->pipe;
	unsigned long deadline;
	int ret;

	ret = bsk_pipe_write(pipe, &q->cmd, 1, r->reply_ms);
	if (ret)
		return ret;
	deadline = mtk_reply_deadline(r);
	if (q->answer == MTK_ANSWER_BYTE) {
		ret = bsk_pipe_getc(pipe, q->buf, deadline);
		if (!ret)
			r->heard = true;
		return ret;
	}
	ret = mtk_read_echo(r, q->cmd, deadline);
	if (ret)
		return ret;
	if (q->answer == MTK_ANSWER_BLOB)
		return mtk_read_blob(r, q, deadline);
	return q->len ? bsk_pipe_read(pipe, q->buf, q->len, deadline) : 0;
}

/* A drain ends at the latest after this many reply deadlines. */
#define MTK_DRAIN_MAX_REPLIES	4

/*
 * After a timed-out or out-of-step command, wait until the device has
 * been quiet for one reply deadline (a late reply is still on its way, or
 * stale bytes are queued) and drop what came.  Bytes that came show a
 * device slower than the step deadline: from now on every reply of this
 * readout may take two.  Return: bytes dropped, or -ENODEV.
 */
static int mtk_settle(struct mtk_ident_run *r, u8 cmd)
{
	struct bsk_dev *bdev = r->bdev;
	int n;

	n = bsk_pipe_drain(&bdev->pipe, r->reply_ms,
			   MTK_DRAIN_MAX_REPLIES * r->reply_ms);
	if (n <= 0)
		return n;
	r->heard = true;
	bsk_tr_note(bdev->tr, "cmd %02x: drained %d", cmd, n);
	if (r->reply_ms == bdev->step_ms) {
		r->reply_ms = 2 * bdev->step_ms;
		bsk_tr_note(bdev->tr, "slow: %u ms/reply", r->reply_ms);
	}
	return n;
}

static const char *mtk_err_word(int err)
{
	return err == -ETIMEDOUT ? "timeout" :
	       err == -EPIPE ? "stall again" : "bad echo";
}

/**
 * mtk_query() - ask one readout command, retrying once
 * @r: the readout
 * @q: the command
 *
 * A stall is cleared and the command sent again.  A timeout or an answer
 * out of step (a late reply of the last command, stale bytes) is not yet
 * a miss: wait until the device is quiet (mtk_settle()), then ask once
 * more.  Only a command that fails that too counts as a miss.
 *
 * Return: 0, -ETIMEDOUT, -EPROTO, -EPIPE or -ENODEV.
 */
static int mtk_query(struct mtk_ident_run *r, const struct mtk_query *q)
{
	struct bsk_dev *bdev = r->bdev;
	int ret, n;

	r->heard = false;
	ret = mtk_query_once(r, q);
	if (ret == -EPIPE) {
		ret = mtk_unstall(r, q->cmd);
		if (!ret)
			ret = mtk_query_once(r, q);
	}
	if (ret == -ETIMEDOUT || ret == -EPROTO) {
		bsk_tr_note(bdev->tr, "cmd %02x: %s", q->cmd,
			    mtk_err_word(ret));
		bsk_tr_note(bdev->tr, "cmd %02x: retry", q->cmd);
		n = mtk_settle(r, q->cmd);
		if (n == -ENODEV)
			return n;
		ret = mtk_query_once(r, q);
	}
	if (ret == -ENODEV)
		return ret;
	if (ret) {
		bsk_tr_note(bdev->tr, "cmd %02x: %s", q->cmd, mtk_err_word(ret));
		if (ret == -EPIPE && mtk_unstall(r, q->cmd) == -ENODEV)
			return -ENODEV;
		bsk_pipe_flush(&bdev->pipe);
		r->misses++;
		return ret;
	}
	r->misses = 0;
	return 0;
}

/* Old chips stop answering: after two misses in a row, stop asking. */
static bool mtk_gave_up(const struct mtk_ident_run *r)
{
	return r->misses >= 2;
}

/* WRITE16/32 status1 above this is a refusal (mediatek.md section 3). */
#define MTK_WRITE_STATUS_OK_MAX	3

/*
 * The echo of a WRITE command.  The device that got the command byte
 * waits for the address, so a late echo is waited for (two reply
 * deadlines) and bytes ahead of it are skipped, but the command is never
 * sent twice.
 */
static int mtk_write_cmd_echo(struct mtk_ident_run *r, u8 cmd)
{
	struct bsk_pipe *pipe = &r->bdev->pipe;
	unsigned long deadline;
	u8 c;
	int ret;

	r->heard = false;
	ret = bsk_pipe_write(pipe, &cmd, 1, r->reply_ms);
	deadline = jiffies + msecs_to_jiffies(2 * r->reply_ms);
	while (!ret) {
		ret = bsk_pipe_getc(pipe, &c, deadline);
		if (ret)
			break;
		r->heard = true;
		if (c == cmd)
			return 0;
		bsk_tr_note(r->bdev->tr, "cmd %02x: skipped %02x", cmd, c);
	}
	return ret;
}

/* Send @len bytes of @out; read their echo and @extra more into @in. */
static int mtk_write_field(struct mtk_ident_run *r, const u8 *out,
			   size_t len, u8 *in, size_t extra)
{
	struct bsk_pipe *pipe = &r->bdev->pipe;
	int ret;

	ret = bsk_pipe_write(pipe, out, len, r->reply_ms);
	if (!ret)
		ret = bsk_pipe_read(pipe, in, len + extra,
				    mtk_reply_deadline(r));
	if (!ret && memcmp(in, out, len))
		ret = -EPROTO;
	return ret;
}

/*
 * WRITE32/WRITE16 of one value (mediatek.md section 3): command, address
 * and count are echoed, then status1; the value is echoed, then status2.
 * A refusal is a single status word above MTK_WRITE_STATUS_OK_MAX and
 * nothing else.  Every reply has its own deadline.
 */
static enum bootshake_watchdog mtk_write(struct mtk_ident_run *r, u32 addr,
					 u32 val, bool wide16, int *err)
{
	u8 cmd = wide16 ? MTK_CMD_WRITE16 : MTK_CMD_WRITE32;
	struct bsk_pipe *pipe = &r->bdev->pipe;
	size_t vlen = wide16 ? 2 : 4;
	u8 out[4], in[6];
	u16 status;
	int ret;

	ret = mtk_write_cmd_echo(r, cmd);
	if (!ret) {
		put_unaligned_be32(addr, out);
		ret = bsk_pipe_write(pipe, out, 4, r->reply_ms);
	}
	if (!ret)
		ret = bsk_pipe_read(pipe, in, 4, mtk_reply_deadline(r));
	if (!ret && memcmp(in, out, 4))
		ret = -EPROTO;
	if (!ret) {
		put_unaligned_be32(1, out);
		ret = mtk_write_field(r, out, 4, in, 2);
	}
	if (!ret) {
		status = get_unaligned_be16(&in[4]);
		if (status > MTK_WRITE_STATUS_OK_MAX) {
			bsk_tr_note(r->bdev->tr, "write refused %04x", status);
			*err = -EACCES;
			return BOOTSHAKE_WDT_REFUSED;
		}
		if (wide16)
			put_unaligned_be16(val, out);
		else
			put_unaligned_be32(val, out);
		ret = mtk_write_field(r, out, vlen, in, 2);
	}
	if (!ret && get_unaligned_be16(&in[vlen]) > MTK_STATUS_OK_MAX) {
		*err = -EACCES;
		return BOOTSHAKE_WDT_REFUSED;
	}

	*err = ret;
	if (ret == -EPIPE && mtk_unstall(r, cmd) == -ENODEV)
		*err = -ENODEV;
	if (ret && ret != -ENODEV)
		bsk_pipe_flush(pipe);
	if (ret == -ETIMEDOUT)
		return BOOTSHAKE_WDT_TIMEOUT;
	return ret ? BOOTSHAKE_WDT_REFUSED : BOOTSHAKE_WDT_DISABLED;
}

/*
 * Disable the watchdog of a BROM whose chip is known to have one.  A
 * readout that gave up does not skip it while the device still answers
 * anything: only a device that sent nothing at all for its last command
 * is not written to (reported "timeout": the watchdog is still armed).
 */
static int mtk_watchdog(struct mtk_ident_run *r)
{
	const struct mtk_chip *chip = r->id.has_hw_code ?
				      mtk_chip_lookup(r->id.hw_code) : NULL;
	int err;

	/* Preloaders kick the watchdog themselves on every command. */
	if (!r->id.is_brom || !chip || !chip->wdt) {
		r->id.watchdog = BOOTSHAKE_WDT_SKIPPED;
		return 0;
	}
	if (mtk_gave_up(r) && !r->heard) {
		bsk_tr_note(r->bdev->tr, "wdt: device silent");
		r->id.watchdog = BOOTSHAKE_WDT_TIMEOUT;
		return 0;
	}
	r->id.watchdog = mtk_write(r, chip->wdt, chip->wdt_val, chip->wdt16,
				   &err);
	bsk_tr_note(r->bdev->tr, "watchdog %s",
		    r->id.watchdog == BOOTSHAKE_WDT_DISABLED ? "off" : "failed");
	return err == -ENODEV ? err : 0;
}

/* GET_BL_VER answers: 0xfe (BROM) or a preloader's version 1..3. */
static bool mtk_bl_ver_valid(u8 v)
{
	return v == MTK_BL_VER_BROM ||
	       (v >= MTK_BL_VER_PL_MIN && v <= MTK_BL_VER_PL_MAX);
}

/*
 * The identity readout, one step per command.  Each step returns 0 (read
 * or missed: the field stays absent) or -ENODEV.
 */

/*
 * GET_BL_VER first: it tells BROM from Preloader by protocol rather than
 * by USB ID.  A BROM echoes it, a preloader answers 1..3.  Anything else
 * is a stream out of step: mtk_query() retries it after a drain.
 */
static int mtk_step_bl_ver(struct mtk_ident_run *r)
{
	struct bsk_mtk_ident *id = &r->id;
	struct mtk_query q = { MTK_CMD_GET_BL_VER, MTK_ANSWER_BYTE, &id->bl_ver };
	int ret;

	ret = mtk_query(r, &q);
	if (!ret && !mtk_bl_ver_valid(id->bl_ver)) {
		bsk_tr_note(r->bdev->tr, "bl_ver %02x: out of step",
			    id->bl_ver);
		ret = mtk_settle(r, q.cmd);
		if (ret >= 0)
			ret = mtk_query(r, &q);
		if (!ret && !mtk_bl_ver_valid(id->bl_ver)) {
			r->misses++;
			ret = -EPROTO;
		}
	}
	if (!ret) {
		id->has_bl_ver = true;
		id->is_brom = id->bl_ver == MTK_BL_VER_BROM;
	}
	return ret == -ENODEV ? ret : 0;
}

static int mtk_step_hw_code(struct mtk_ident_run *r)
{
	struct bsk_mtk_ident *id = &r->id;
	const struct mtk_chip *chip;
	u8 buf[4];
	struct mtk_query q = { MTK_CMD_GET_HW_CODE, MTK_ANSWER_ECHO, buf, sizeof(buf) };
	int ret = mtk_query(r, &q);

	if (!ret) {
		id->has_hw_code = true;
		id->hw_code = get_unaligned_be16(&buf[0]);
		id->hw_status = get_unaligned_be16(&buf[2]);
		chip = mtk_chip_lookup(id->hw_code);
		id->chip = chip ? chip->name : NULL;
	}
	return ret == -ENODEV ? ret : 0;
}

static int mtk_step_hw_sw_ver(struct mtk_ident_run *r)
{
	struct bsk_mtk_ident *id = &r->id;
	u8 buf[8];
	struct mtk_query q = { MTK_CMD_GET_HW_SW_VER, MTK_ANSWER_ECHO, buf, sizeof(buf) };
	int ret = mtk_query(r, &q);

	if (!ret) {
		id->has_hw_sw_ver = true;
		id->hw_subcode = get_unaligned_be16(&buf[0]);
		id->hw_ver = get_unaligned_be16(&buf[2]);
		id->sw_ver = get_unaligned_be16(&buf[4]);
	}
	return ret == -ENODEV ? ret : 0;
}

static int mtk_step_target_config(struct mtk_ident_run *r)
{
	struct bsk_mtk_ident *id = &r->id;
	u8 buf[6];
	struct mtk_query q = { MTK_CMD_GET_TARGET_CONFIG, MTK_ANSWER_ECHO, buf, sizeof(buf) };
	int ret = mtk_query(r, &q);

	if (!ret) {
		id->has_target_config = true;
		id->target_config = get_unaligned_be32(&buf[0]);
	}
	return ret == -ENODEV ? ret : 0;
}

/* A BROM answers GET_VERSION with its version, a preloader echoes it. */
static int mtk_step_brom_ver(struct mtk_ident_run *r)
{
	struct bsk_mtk_ident *id = &r->id;
	u8 v;
	struct mtk_query q = { MTK_CMD_GET_VERSION, MTK_ANSWER_BYTE, &v };
	int ret = mtk_query(r, &q);

	if (!ret && v != MTK_CMD_GET_VERSION) {
		id->has_brom_ver = true;
		id->brom_ver = v;
	}
	return ret == -ENODEV ? ret : 0;
}

static int mtk_step_me_id(struct mtk_ident_run *r)
{
	struct mtk_query q = { MTK_CMD_GET_ME_ID, MTK_ANSWER_BLOB,
			       r->id.me_id, sizeof(r->id.me_id) };
	int ret = mtk_query(r, &q);

	r->id.has_me_id = !ret;
	return ret == -ENODEV ? ret : 0;
}

static int mtk_step_soc_id(struct mtk_ident_run *r)
{
	struct mtk_query q = { MTK_CMD_GET_SOC_ID, MTK_ANSWER_BLOB, r->id.soc_id,
			       sizeof(r->id.soc_id) };
	int ret = mtk_query(r, &q);

	r->id.has_soc_id = !ret;
	return ret == -ENODEV ? ret : 0;
}

static int mtk_step_pl_cap(struct mtk_ident_run *r)
{
	struct bsk_mtk_ident *id = &r->id;
	u8 buf[8];
	struct mtk_query q = { MTK_CMD_GET_PL_CAP, MTK_ANSWER_ECHO, buf, sizeof(buf) };
	int ret = mtk_query(r, &q);

	if (!ret) {
		id->has_pl_cap = true;
		id->pl_cap[0] = get_unaligned_be32(&buf[0]);
		id->pl_cap[1] = get_unaligned_be32(&buf[4]);
	}
	return ret == -ENODEV ? ret : 0;
}

static bool mtk_is_brom(const struct bsk_mtk_ident *id)
{
	return id->is_brom;
}

/* Old preloaders (bl_ver 1, 2) know neither ME_ID nor SOC_ID. */
static bool mtk_knows_ids(const struct bsk_mtk_ident *id)
{
	return id->is_brom || id->bl_ver >= MTK_BL_VER_IDS;
}

static bool mtk_is_preloader(const struct bsk_mtk_ident *id)
{
	return !id->is_brom && id->has_bl_ver;
}

/**
 * struct mtk_step - one step of the identity readout
 * @name: the command's name
 * @cmd: the command byte, as the transcript names the step
 * @applies: does the step apply to what was read so far (NULL: always)
 * @read: ask and store; returns 0 or -ENODEV
 */
struct mtk_step {
	const char *name;
	u8 cmd;
	bool (*applies)(const struct bsk_mtk_ident *id);
	int (*read)(struct mtk_ident_run *r);
};

/* Order as mtkclient's Preloader.init (sheet section 3). */
static const struct mtk_step mtk_steps[] = {
	{ "GET_BL_VER", MTK_CMD_GET_BL_VER, NULL, mtk_step_bl_ver },
	{ "GET_HW_CODE", MTK_CMD_GET_HW_CODE, NULL, mtk_step_hw_code },
	{ "GET_HW_SW_VER", MTK_CMD_GET_HW_SW_VER, NULL, mtk_step_hw_sw_ver },
	{ "GET_TARGET_CONFIG", MTK_CMD_GET_TARGET_CONFIG, NULL,
	  mtk_step_target_config },
	{ "GET_VERSION", MTK_CMD_GET_VERSION, mtk_is_brom, mtk_step_brom_ver },
	{ "GET_ME_ID", MTK_CMD_GET_ME_ID, mtk_knows_ids, mtk_step_me_id },
	{ "GET_SOC_ID", MTK_CMD_GET_SOC_ID, mtk_knows_ids, mtk_step_soc_id },
	{ "GET_PL_CAP", MTK_CMD_GET_PL_CAP, mtk_is_preloader,
	  mtk_step_pl_cap },
};

/*
 * The identity readout: the steps that apply, then the watchdog.  A
 * command that is not answered (after its retry) is skipped; after two
 * misses in a row the chip is taken to be an old one that stops
 * answering, and the readout ends there without failing: @r->ended_before
 * names the first step not asked.
 *
 * Return: 0 or -ENODEV.
 */
static int mtk_identify(struct mtk_ident_run *r)
{
	const struct mtk_step *step;
	int ret;

	for (step = mtk_steps; step < mtk_steps + ARRAY_SIZE(mtk_steps);
	     step++) {
		if (step->applies && !step->applies(&r->id))
			continue;
		if (mtk_gave_up(r)) {
			r->ended_before = step->name;
			/* the note has room for the byte, not the name */
			bsk_tr_note(r->bdev->tr, "ident ended before %02x",
				    step->cmd);
			break;
		}
		ret = step->read(r);
		if (ret)
			return ret;
	}
	return mtk_watchdog(r);
}

struct mtk_ident_result {
	struct bsk_mtk_ident ident;
	u64 ident_us;
	bool partial;
};

static void mtk_ready_fn(struct bsk_status *st, const void *arg)
{
	const struct mtk_ident_result *r = arg;

	st->state = BOOTSHAKE_STATE_READY;
	st->mtk = r->ident;
	st->ident_us = r->ident_us;
	if (r->partial)
		st->flags |= BOOTSHAKE_DEV_FLAG_IDENT_PARTIAL;
	else
		st->flags &= ~BOOTSHAKE_DEV_FLAG_IDENT_PARTIAL;
}

static void mtk_new_run_fn(struct bsk_status *st, const void *arg)
{
	st->flags &= ~BOOTSHAKE_DEV_FLAG_IDENT_PARTIAL;
}

/*
 * A new run (retry): the last run's early end no longer holds.  Only the
 * device's work item sets or clears the flag, so the test and the update
 * need not be atomic; a device without the flag costs no notification.
 */
static void mtk_forget_partial(struct bsk_dev *bdev)
{
	bool partial;

	spin_lock(&bdev->lock);
	partial = bdev->st.flags & BOOTSHAKE_DEV_FLAG_IDENT_PARTIAL;
	spin_unlock(&bdev->lock);
	if (partial)
		bsk_dev_update(bdev, mtk_new_run_fn, NULL);
}

static void mtk_handshake(struct bsk_dev *bdev)
{
	struct mtk_ident_run run = {
		.bdev = bdev,
		.reply_ms = bdev->step_ms,
	};
	struct mtk_ident_result r;

	mtk_forget_partial(bdev);
	if (mtk_sync(bdev))
		return;

	/*
	 * Late or duplicate replies to the sync must not poison commands.
	 * After a clean sync the stream is exact; after echoes (stale
	 * echoes of an earlier session may have been taken for ours), noise
	 * or a restart, wait until the device has been quiet for a moment
	 * (mediatek.md 2.1a: flush once more after the sync).
	 */
	bsk_pipe_flush(&bdev->pipe);
	if (bdev->st.flags & BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED ||
	    bdev->st.garbage || bdev->st.attempts > 1) {
		int n = bsk_pipe_drain(&bdev->pipe, MTK_QUIET_MS, bdev->step_ms);

		if (n == -ENODEV)
			return;
		if (n)
			bsk_tr_note(bdev->tr, "drained %d late bytes", n);
	}

	if (mtk_identify(&run))
		return;

	r.ident = run.id;
	r.ident_us = bsk_dev_elapsed_us(bdev);
	r.partial = !!run.ended_before;
	bsk_tr_note(bdev->tr, "identity done");
	bsk_dev_update(bdev, mtk_ready_fn, &r);
	if (r.ident.has_hw_code)
		dev_dbg(&bdev->intf->dev, "ready: %s hw_code 0x%04x (%s)\n",
			r.ident.is_brom ? "BROM" : "preloader",
			r.ident.hw_code, r.ident.chip ?: "unknown chip");
	else
		dev_dbg(&bdev->intf->dev, "ready: no hw_code (legacy chip?)\n");
}

static int mtk_fill(struct sk_buff *skb, struct bsk_dev *bdev,
		    const struct bsk_status *st)
{
	const struct bsk_mtk_ident *id = &st->mtk;
	struct nlattr *nest;

	nest = nla_nest_start(skb, BOOTSHAKE_A_DEV_MTK);
	if (!nest)
		return -EMSGSIZE;
	if (id->has_hw_code) {
		if (nla_put_u32(skb, BOOTSHAKE_A_MTK_HW_CODE, id->hw_code))
			goto nla_put_failure;
		if (nla_put_u32(skb, BOOTSHAKE_A_MTK_HW_STATUS, id->hw_status))
			goto nla_put_failure;
	}
	if (id->chip && nla_put_string(skb, BOOTSHAKE_A_MTK_CHIP, id->chip))
		goto nla_put_failure;
	if (id->has_hw_sw_ver) {
		if (nla_put_u32(skb, BOOTSHAKE_A_MTK_HW_SUBCODE, id->hw_subcode))
			goto nla_put_failure;
		if (nla_put_u32(skb, BOOTSHAKE_A_MTK_HW_VER, id->hw_ver))
			goto nla_put_failure;
		if (nla_put_u32(skb, BOOTSHAKE_A_MTK_SW_VER, id->sw_ver))
			goto nla_put_failure;
	}
	if (id->has_bl_ver) {
		if (nla_put_u32(skb, BOOTSHAKE_A_MTK_BL_VER, id->bl_ver))
			goto nla_put_failure;
		if (nla_put_u8(skb, BOOTSHAKE_A_MTK_IS_BROM, id->is_brom))
			goto nla_put_failure;
	}
	if (id->has_brom_ver &&
	    nla_put_u32(skb, BOOTSHAKE_A_MTK_BROM_VER, id->brom_ver))
		goto nla_put_failure;
	if (id->has_target_config &&
	    nla_put_u32(skb, BOOTSHAKE_A_MTK_TARGET_CONFIG, id->target_config))
		goto nla_put_failure;
	if (id->has_me_id &&
	    nla_put(skb, BOOTSHAKE_A_MTK_ME_ID, sizeof(id->me_id), id->me_id))
		goto nla_put_failure;
	if (id->has_soc_id &&
	    nla_put(skb, BOOTSHAKE_A_MTK_SOC_ID, sizeof(id->soc_id), id->soc_id))
		goto nla_put_failure;
	if (id->has_pl_cap) {
		if (nla_put_u32(skb, BOOTSHAKE_A_MTK_PL_CAP0, id->pl_cap[0]))
			goto nla_put_failure;
		if (nla_put_u32(skb, BOOTSHAKE_A_MTK_PL_CAP1, id->pl_cap[1]))
			goto nla_put_failure;
	}
	if (id->watchdog &&
	    nla_put_u32(skb, BOOTSHAKE_A_MTK_WATCHDOG, id->watchdog))
		goto nla_put_failure;
	nla_nest_end(skb, nest);
	return 0;

nla_put_failure:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/* Everything mtk_fill() can put. */
static size_t mtk_fill_size(void)
{
	return nla_total_size(0) +				/* the nest */
	       11 * nla_total_size(sizeof(u32)) +
	       nla_total_size(sizeof(u8)) +			/* IS_BROM */
	       nla_total_size(BSK_NAME_MAX) +			/* CHIP */
	       nla_total_size(sizeof_field(struct bsk_mtk_ident, me_id)) +
	       nla_total_size(sizeof_field(struct bsk_mtk_ident, soc_id));
}

static int mtk_env(const struct bsk_status *st, struct bsk_env_var *vars, int max)
{
	int n = 0;

	if (st->mtk.has_hw_code && n < max)
		snprintf(vars[n++].s, BSK_ENV_LEN, "BOOTSHAKE_HW_CODE=0x%04x",
			 st->mtk.hw_code);
	if (st->mtk.chip && n < max)
		snprintf(vars[n++].s, BSK_ENV_LEN, "BOOTSHAKE_CHIP=%s", st->mtk.chip);
	return n;
}

const struct bsk_kind bsk_mtk_brom_kind = {
	.name = "mtk-brom",
	.id = BOOTSHAKE_KIND_MTK_BROM,
	.bind = bsk_cdc_bind_data,
	.handshake = mtk_handshake,
	.fill = mtk_fill,
	.fill_size = mtk_fill_size,
	.env = mtk_env,
	.default_policy = BOOTSHAKE_POLICY_AUTO,
	.uses_pipe = true,
};

/*
 * A preloader appears on every ordinary boot of a phone and a sync stops
 * that boot: watch by default, sync when armed (mediatek.md section 7).
 */
const struct bsk_kind bsk_mtk_preloader_kind = {
	.name = "mtk-preloader",
	.id = BOOTSHAKE_KIND_MTK_PRELOADER,
	.bind = bsk_cdc_bind_data,
	.handshake = mtk_handshake,
	.fill = mtk_fill,
	.fill_size = mtk_fill_size,
	.env = mtk_env,
	.default_policy = BOOTSHAKE_POLICY_WATCH,
	.uses_pipe = true,
};
