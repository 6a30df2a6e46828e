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
#include <linux/usb/cdc.h>
#include <net/genetlink.h>

#include <asm/unaligned.h>

#include "bootshake.h"

#define MTK_CMD_GET_HW_CODE	0xfd

static const u8 mtk_sync_seq[] = { 0xa0, 0x0a, 0x50, 0x05 };

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
 * @answered: the device answered anything at all
 * @last_bad: last unexpected byte, or -1
 * @last_sent: the byte @last_bad answered
 */
struct mtk_sync {
	struct bsk_dev *bdev;
	unsigned long deadline;
	unsigned int attempts;
	unsigned int noise;
	bool answered;
	int last_bad;
	u8 last_sent;
};

static unsigned long mtk_step_deadline(const struct mtk_sync *s)
{
	unsigned long step = jiffies + msecs_to_jiffies(bsk_step_timeout_ms);

	return time_before(step, s->deadline) ? step : s->deadline;
}

/*
 * Read the reply to @sent.  The IN side is a byte stream that may carry
 * banners, stale replies and garbage ahead of the reply: bytes that are
 * none of the three possible answers are skipped (and counted), so that
 * noise costs no round trip.
 */
static int mtk_read_reply(struct mtk_sync *s, u8 sent, enum mtk_reply *reply)
{
	unsigned long deadline = mtk_step_deadline(s);
	u8 c;
	int ret;

	for (;;) {
		ret = bsk_pipe_getc(&s->bdev->pipe, &c, deadline);
		if (ret == -ETIMEDOUT) {
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
			*reply = MTK_REPLY_REJECT;
			return 0;
		}
		s->noise++;
	}
}

/*
 * One pass over the sync sequence.  Returns 0 when all four bytes were
 * answered consistently (*echo tells which way), -EAGAIN to start over,
 * or a fatal error.
 */
static int mtk_sync_once(struct mtk_sync *s, bool *echo)
{
	struct bsk_pipe *pipe = &s->bdev->pipe;
	enum mtk_reply reply;
	unsigned int i;
	int ret;

	for (i = 0; i < ARRAY_SIZE(mtk_sync_seq); i++) {
		u8 b = mtk_sync_seq[i];

		ret = bsk_pipe_write(pipe, &b, 1, bsk_step_timeout_ms);
		if (ret == -ETIMEDOUT)
			return -EAGAIN;
		if (ret)
			return ret;

		ret = mtk_read_reply(s, b, &reply);
		if (ret)
			return ret;

		switch (reply) {
		case MTK_REPLY_SYNC:
		case MTK_REPLY_ECHO:
			if (i == 0)
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
			if (i)
				bsk_pipe_flush(pipe);
			return -EAGAIN;
		}
	}
	return 0;
}

static void mtk_fail_sync(struct bsk_dev *bdev, const struct mtk_sync *s)
{
	if (!s->answered)
		bsk_dev_fail(bdev, -ETIMEDOUT,
			     "no reply to the sync in %u ms (%u attempts): not in download mode?",
			     bsk_sync_timeout_ms, s->attempts);
	else if (s->last_bad == (u8)(s->last_sent + 1))
		bsk_dev_fail(bdev, -EPROTO,
			     "no sync in %u ms (%u attempts): device kept rejecting bytes (0x%02x after 0x%02x = byte+1)",
			     bsk_sync_timeout_ms, s->attempts, s->last_bad,
			     s->last_sent);
	else if (s->last_bad >= 0)
		bsk_dev_fail(bdev, -EPROTO,
			     "no sync in %u ms (%u attempts): unexpected 0x%02x after 0x%02x, %u noise bytes",
			     bsk_sync_timeout_ms, s->attempts, s->last_bad,
			     s->last_sent, s->noise);
	else
		bsk_dev_fail(bdev, -ETIMEDOUT,
			     "no sync in %u ms (%u attempts): replies stopped mid-sequence",
			     bsk_sync_timeout_ms, s->attempts);
}

struct mtk_synced {
	u64 sync_us;
	u32 attempts;
	bool echo;
};

static void mtk_synced_fn(struct bsk_status *st, const void *arg)
{
	const struct mtk_synced *r = arg;

	st->state = BOOTSHAKE_STATE_IDENTIFYING;
	st->sync_us = r->sync_us;
	st->attempts = r->attempts;
	if (r->echo)
		st->flags |= BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED;
}

/* Returns 0 when synced, a negative errno otherwise (state already set). */
static int mtk_sync(struct bsk_dev *bdev)
{
	struct mtk_sync s = {
		.bdev = bdev,
		.deadline = jiffies + msecs_to_jiffies(bsk_sync_timeout_ms),
		.last_bad = -1,
	};
	struct mtk_synced done;
	bool echo = false;
	int ret;

	/* Bytes queued before our first A0 answer nothing we sent. */
	bsk_pipe_flush(&bdev->pipe);

	do {
		s.attempts++;
		ret = mtk_sync_once(&s, &echo);
	} while (ret == -EAGAIN && time_before(jiffies, s.deadline));

	if (ret == -ENODEV)
		return ret;
	if (ret == -EAGAIN) {
		mtk_fail_sync(bdev, &s);
		return -ETIMEDOUT;
	}
	if (ret) {
		bsk_dev_fail(bdev, ret, "USB error %d during sync", ret);
		return ret;
	}

	done.sync_us = bsk_dev_elapsed_us(bdev);
	done.attempts = s.attempts;
	done.echo = echo;
	bsk_dev_update(bdev, mtk_synced_fn, &done);
	return 0;
}

struct mtk_ident_result {
	struct bsk_mtk_ident ident;
	u64 ident_us;
};

static void mtk_ready_fn(struct bsk_status *st, const void *arg)
{
	const struct mtk_ident_result *r = arg;

	st->state = BOOTSHAKE_STATE_READY;
	st->mtk = r->ident;
	st->ident_us = r->ident_us;
}

/*
 * Send a one-byte command and expect its echo.  Return: 0, -EPROTO when
 * something else came back, -ETIMEDOUT, or a fatal error.
 */
static int mtk_cmd(struct bsk_dev *bdev, u8 cmd, unsigned long deadline)
{
	u8 c;
	int ret;

	ret = bsk_pipe_write(&bdev->pipe, &cmd, 1, bsk_step_timeout_ms);
	if (ret)
		return ret;
	ret = bsk_pipe_getc(&bdev->pipe, &c, deadline);
	if (ret)
		return ret;
	return c == cmd ? 0 : -EPROTO;
}

/* GET_HW_CODE; old chips that stop answering leave has_hw_code false. */
static int mtk_get_hw_code(struct bsk_dev *bdev, struct bsk_mtk_ident *id)
{
	unsigned long deadline = jiffies + msecs_to_jiffies(bsk_step_timeout_ms);
	u8 buf[4];
	int ret;

	ret = mtk_cmd(bdev, MTK_CMD_GET_HW_CODE, deadline);
	if (!ret)
		ret = bsk_pipe_read(&bdev->pipe, buf, sizeof(buf), deadline);
	if (ret == -ENODEV)
		return ret;
	if (ret) {
		dev_info(&bdev->intf->dev, "GET_HW_CODE: %d, legacy chip?\n",
			 ret);
		bsk_pipe_flush(&bdev->pipe);
		return 0;
	}

	id->has_hw_code = true;
	id->hw_code = get_unaligned_be16(&buf[0]);
	id->hw_status = get_unaligned_be16(&buf[2]);
	return 0;
}

static void mtk_brom_handshake(struct bsk_dev *bdev)
{
	struct mtk_ident_result r = { };

	bsk_dev_set_state(bdev, BOOTSHAKE_STATE_SYNCING);
	if (mtk_sync(bdev))
		return;

	/* Late or duplicate replies to the sync must not poison commands. */
	bsk_pipe_flush(&bdev->pipe);

	if (mtk_get_hw_code(bdev, &r.ident))
		return;

	r.ident_us = bsk_dev_elapsed_us(bdev);
	bsk_dev_update(bdev, mtk_ready_fn, &r);
	if (r.ident.has_hw_code)
		dev_info(&bdev->intf->dev, "ready: hw_code 0x%04x\n",
			 r.ident.hw_code);
	else
		dev_info(&bdev->intf->dev, "ready: no hw_code (legacy chip?)\n");
}

/*
 * The data interface is found by class, not number: interface numbers
 * differ between BROM and preloader generations (mediatek.md 1.2).
 */
static int mtk_bind(struct bsk_dev *bdev)
{
	struct usb_host_config *config = bdev->udev->actconfig;
	unsigned int i;

	for (i = 0; i < config->desc.bNumInterfaces; i++) {
		struct usb_interface *intf = config->interface[i];

		if (intf && intf->cur_altsetting->desc.bInterfaceClass ==
			    USB_CLASS_CDC_DATA) {
			bdev->data = intf;
			break;
		}
	}
	if (!bdev->data) {
		dev_info(&bdev->intf->dev, "no CDC data interface\n");
		return -ENODEV;
	}

	if (usb_find_common_endpoints(bdev->data->cur_altsetting,
				      &bdev->in_ep, &bdev->out_ep, NULL, NULL)) {
		dev_info(&bdev->intf->dev, "no bulk endpoint pair\n");
		return -ENODEV;
	}
	return 0;
}

static int mtk_fill(struct sk_buff *skb, const struct bsk_status *st)
{
	struct nlattr *nest;

	nest = nla_nest_start(skb, BOOTSHAKE_A_DEV_MTK);
	if (!nest)
		return -EMSGSIZE;
	if (st->mtk.has_hw_code &&
	    (nla_put_u32(skb, BOOTSHAKE_A_MTK_HW_CODE, st->mtk.hw_code) ||
	     nla_put_u32(skb, BOOTSHAKE_A_MTK_HW_STATUS, st->mtk.hw_status))) {
		nla_nest_cancel(skb, nest);
		return -EMSGSIZE;
	}
	nla_nest_end(skb, nest);
	return 0;
}

const struct bsk_kind bsk_mtk_brom_kind = {
	.name = "mtk-brom",
	.id = BOOTSHAKE_KIND_MTK_BROM,
	.bind = mtk_bind,
	.handshake = mtk_brom_handshake,
	.fill = mtk_fill,
};
