// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake: STM32 system bootloader on a USART, behind a CDC-ACM USB
 * bridge the user opted in (module parameter usart_ids, or new_id).
 *
 * Facts from ../shared/protocols/stm32.md section 5 (AN3155, AN2662 and
 * stm32flash), which cites its sources:
 * - 8 data bits, even parity, one stop bit; the host sends 0x7f, the ROM
 *   measures it and answers ACK 0x79; NACK is 0x1f (5.1);
 * - stm32flash's init: 0x79 synced; 0x1f means the ROM was synced by an
 *   earlier session (it took 0x7f for a bad command); no answer means
 *   the first 0x7f may have been eaten as a command byte: send a second
 *   one and expect 0x1f (5.4); some bridges deliver "00 79" (5.4);
 * - commands go as cmd, cmd ^ 0xff: GET 0x00 -> ACK, N, version, N
 *   command codes, ACK; GET_VERSION 0x01 -> ACK, version, two option
 *   bytes, ACK; GET_ID 0x02 -> ACK, N (1), PID MSB, PID LSB, ACK (5.2);
 * - DTR/RTS as BOOT0/NRST lines, in stm32flash's -i syntax (5.4);
 * - PIDs and product names from AN2606 Table 226 (4.3).
 */

#include <linux/jiffies.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <linux/usb/cdc.h>
#include <net/genetlink.h>

#include "bootshake.h"
#include "compat.h"

#define USART_ACK		0x79
#define USART_NACK		0x1f
#define USART_SYNC		0x7f
#define USART_CMD_GET		0x00
#define USART_CMD_GET_VERSION	0x01
#define USART_CMD_GET_ID	0x02

#define USART_SYNC_TRIES	3	/* stm32flash sends two 0x7f */
#define USART_MAX_LEN		64	/* sanity bound of a length byte */
#define USART_LINE_DELAY_MS	100	/* stm32flash's ',' */
/*
 * After a reset the ROM ignores the line while it starts: 85 ms on F40x,
 * 524 ms on F105/107 with PA9 high (AN2606 Table 227, stm32.md 4.5, 46).
 */
#define USART_BOOT_MS		550
/* DMA-able buffer of the control requests: the 7-byte line coding. */
#define STM32_USART_BUF_LEN	8

static unsigned int bsk_usart_baud = 57600;
module_param_named(usart_baud, bsk_usart_baud, uint, 0644);
MODULE_PARM_DESC(usart_baud,
		 "Baud rate of opted-in STM32 USART bridges, 8E1 (default 57600, as stm32flash)");

static char bsk_usart_entry[64];
module_param_string(usart_entry, bsk_usart_entry, sizeof(bsk_usart_entry),
		    0644);
MODULE_PARM_DESC(usart_entry,
		 "Modem-line sequence before the sync, stm32flash -i syntax: rts, dtr, -rts, -dtr separated by ',' (100 ms) or '&' (none), e.g. \"-rts&dtr,-dtr\" (default: none)");

/* Product IDs (GET_ID) read from the chip: AN2606 Table 226. */
static const struct {
	u16 pid;
	const char *name;
} stm32_usart_pids[] = {
	{ 0x410, "STM32F10x medium-density" },
	{ 0x411, "STM32F2" },
	{ 0x413, "STM32F405/407/415/417" },
	{ 0x414, "STM32F10x high-density" },
	{ 0x415, "STM32L47x/48x" },
	{ 0x418, "STM32F105/107" },
	{ 0x419, "STM32F427/429/437/439" },
	{ 0x421, "STM32F446" },
	{ 0x423, "STM32F401xB/C" },
	{ 0x431, "STM32F411" },
	{ 0x433, "STM32F401xD/E" },
	{ 0x441, "STM32F412" },
	{ 0x449, "STM32F74x/75x" },
	{ 0x450, "STM32H74x/75x" },
	{ 0x451, "STM32F76x/77x" },
	{ 0x452, "STM32F72x/73x" },
	{ 0x460, "STM32G07x/08x" },
	{ 0x463, "STM32F413/423" },
	{ 0x468, "STM32G431/441" },
	{ 0x469, "STM32G47x/48x" },
	{ 0x480, "STM32H7A3/7B3" },
	{ 0x483, "STM32H72x/73x" },
};

/**
 * struct stm32_usart_run - one handshake
 * @bdev: the device
 * @buf: DMA-able buffer for control transfers
 * @deadline: end of the sync, jiffies
 * @id: what will be published
 * @noise: bytes skipped that were neither ACK nor NACK
 * @attempts: 0x7f bytes sent
 * @lines: modem-line state (USB_CDC_CTRL_DTR, _RTS)
 */
struct stm32_usart_run {
	struct bsk_dev *bdev;
	u8 *buf;
	unsigned long deadline;
	struct bsk_stm32_status id;
	unsigned int noise;
	unsigned int attempts;
	u16 lines;
};

static int stm32_usart_ctrl(struct stm32_usart_run *r, u8 req, u16 value,
			    u16 len)
{
	struct bsk_dev *bdev = r->bdev;
	u16 ifnum = bdev->intf->cur_altsetting->desc.bInterfaceNumber;
	u8 setup[8] = { USB_DIR_OUT | USB_TYPE_CLASS | USB_RECIP_INTERFACE,
			req };
	int ret;

	put_unaligned_le16(value, &setup[2]);
	put_unaligned_le16(ifnum, &setup[4]);
	put_unaligned_le16(len, &setup[6]);
	bsk_tr_add(bdev->tr, BOOTSHAKE_DIR_OUT, setup, sizeof(setup));
	if (len)
		bsk_tr_add(bdev->tr, BOOTSHAKE_DIR_OUT, r->buf, len);
	ret = usb_control_msg(bdev->udev, usb_sndctrlpipe(bdev->udev, 0), req,
			      setup[0], value, ifnum, len ? r->buf : NULL, len,
			      bdev->step_ms);
	return ret < 0 ? ret : 0;
}

/* 8E1 at usart_baud: the STM32 USART bootloader's framing (AN3155). */
static int stm32_usart_line_coding(struct stm32_usart_run *r)
{
	struct usb_cdc_line_coding *lc = (struct usb_cdc_line_coding *)r->buf;

	BUILD_BUG_ON(sizeof(*lc) > STM32_USART_BUF_LEN);
	lc->dwDTERate = cpu_to_le32(READ_ONCE(bsk_usart_baud));
	lc->bCharFormat = USB_CDC_1_STOP_BITS;
	lc->bParityType = USB_CDC_EVEN_PARITY;
	lc->bDataBits = 8;
	return stm32_usart_ctrl(r, USB_CDC_REQ_SET_LINE_CODING, 0, sizeof(*lc));
}

/*
 * The entry sequence, stm32flash -i syntax without GPIOs and breaks:
 * "rts", "dtr" assert, "-rts", "-dtr" release; ',' waits 100 ms, '&'
 * does not.  Unknown words are skipped (and noted).
 */
static int stm32_usart_entry(struct stm32_usart_run *r)
{
	char seq[sizeof(bsk_usart_entry)];
	const char *p = seq;
	int ret;

	/* A 0644 string parameter: copy it whole, under the param lock. */
	kernel_param_lock(THIS_MODULE);
	strscpy(seq, bsk_usart_entry, sizeof(seq));
	kernel_param_unlock(THIS_MODULE);
	if (!seq[0])
		return 0;
	while (*p) {
		size_t n = strcspn(p, ",&");
		bool off = *p == '-';
		const char *w = p + off;
		u16 bit = 0;

		if (n - off == 3 && !strncmp(w, "rts", 3))
			bit = USB_CDC_CTRL_RTS;
		else if (n - off == 3 && !strncmp(w, "dtr", 3))
			bit = USB_CDC_CTRL_DTR;
		else
			bsk_tr_note(r->bdev->tr, "entry: skip %.*s", (int)n, p);
		if (bit) {
			r->lines = off ? r->lines & ~bit : r->lines | bit;
			ret = stm32_usart_ctrl(r,
					       USB_CDC_REQ_SET_CONTROL_LINE_STATE,
					       r->lines, 0);
			if (ret)
				return ret;
		}
		p += n;
		if (*p == ',') {
			ret = bsk_dev_sleep(r->bdev,
					    msecs_to_jiffies(USART_LINE_DELAY_MS));
			if (ret)
				return ret;
		}
		if (*p)
			p++;
	}
	return bsk_dev_sleep(r->bdev, msecs_to_jiffies(USART_BOOT_MS));
}

/* Read one byte within the step deadline (never past the sync's). */
static int stm32_usart_getc(struct stm32_usart_run *r, u8 *c)
{
	unsigned long d = jiffies + msecs_to_jiffies(r->bdev->step_ms);

	return bsk_pipe_getc(&r->bdev->pipe, c, d);
}

/*
 * Send 0x7f, read until ACK or NACK; other bytes are noise ("00 79").
 * Return: 0 with *@c the answer, -ETIMEDOUT, or another error.
 */
static int stm32_usart_sync_once(struct stm32_usart_run *r, u8 *c)
{
	u8 b = USART_SYNC;
	int ret;

	r->attempts++;
	ret = bsk_pipe_write(&r->bdev->pipe, &b, 1, r->bdev->step_ms);
	if (ret)
		return ret;
	for (;;) {
		ret = stm32_usart_getc(r, c);
		if (ret)
			return ret;
		if (*c == USART_ACK || *c == USART_NACK)
			return 0;
		bsk_tr_note(r->bdev->tr, "noise %02x", *c);
		r->noise++;
	}
}

static int stm32_usart_sync(struct stm32_usart_run *r)
{
	struct bsk_dev *bdev = r->bdev;
	bool answered = false;
	bool nack;
	int ret = -ETIMEDOUT;
	u8 c = 0;

	if (bsk_pipe_flush(&bdev->pipe))
		bsk_tr_note(bdev->tr, "flushed stale bytes");
	while (r->attempts < USART_SYNC_TRIES &&
	       time_before(jiffies, r->deadline)) {
		ret = stm32_usart_sync_once(r, &c);
		if (!ret)
			break;
		if (ret != -ETIMEDOUT)
			break;
		/* the first 0x7f may have been taken as a command byte */
		bsk_tr_note(bdev->tr, "no answer to 7f");
		answered |= r->noise > 0;
	}

	if (ret == -ENODEV)
		return ret;
	if (ret)
		bsk_dev_sync_tries(bdev, r->attempts, r->noise);
	if (ret == -ETIMEDOUT) {
		bsk_dev_fail(bdev, ret, answered ? "noise" : "no-reply",
			     "no ACK/NACK to %u x 0x7f (%u noise bytes): not in the bootloader, wrong baud or wiring?",
			     r->attempts, r->noise);
		return ret;
	}
	if (ret) {
		bsk_dev_fail_err(bdev, ret, "the sync");
		return ret;
	}

	nack = c == USART_NACK;
	bsk_tr_note(bdev->tr, nack ? "already synced" : "sync done");
	bsk_dev_synced(bdev, r->attempts, r->noise, nack);
	return 0;
}

/* Send a command pair and read its ACK.  -EPROTO for a NACK. */
static int stm32_usart_cmd(struct stm32_usart_run *r, u8 cmd)
{
	u8 b[2] = { cmd, cmd ^ 0xff }, c;
	int ret;

	ret = bsk_pipe_write(&r->bdev->pipe, b, 2, r->bdev->step_ms);
	if (!ret)
		ret = stm32_usart_getc(r, &c);
	if (!ret && c != USART_ACK)
		ret = -EPROTO;
	if (ret && ret != -ENODEV) {
		bsk_tr_note(r->bdev->tr, "cmd %02x: %s", cmd,
			    ret == -EPROTO ? "nack" : "no ack");
		bsk_pipe_flush(&r->bdev->pipe);
	}
	return ret;
}

/* Read @len bytes then the closing ACK. */
static int stm32_usart_tail(struct stm32_usart_run *r, u8 *buf, size_t len)
{
	unsigned long d = jiffies + msecs_to_jiffies(r->bdev->step_ms);
	u8 c;
	int ret;

	ret = bsk_pipe_read(&r->bdev->pipe, buf, len, d);
	if (!ret)
		ret = bsk_pipe_getc(&r->bdev->pipe, &c, d);
	if (!ret && c != USART_ACK)
		ret = -EPROTO;
	if (ret && ret != -ENODEV)
		bsk_pipe_flush(&r->bdev->pipe);
	return ret;
}

/* GET: ACK, N, version, N command codes, ACK. */
static int stm32_usart_get(struct stm32_usart_run *r)
{
	u8 n, buf[USART_MAX_LEN + 1];
	int ret;

	ret = stm32_usart_cmd(r, USART_CMD_GET);
	if (!ret)
		ret = stm32_usart_getc(r, &n);
	if (!ret && n > USART_MAX_LEN)
		ret = -EPROTO;
	if (!ret)
		ret = stm32_usart_tail(r, buf, n + 1);
	if (ret)
		return ret;
	r->id.has_bl_version = true;
	r->id.bl_version = buf[0];
	r->id.ncmds = min_t(unsigned int, n, BSK_STM32_MAX_CMDS);
	memcpy(r->id.cmds, &buf[1], r->id.ncmds);
	return 0;
}

/* GET_VERSION: ACK, version, option byte 1, option byte 2, ACK. */
static int stm32_usart_get_version(struct stm32_usart_run *r)
{
	u8 buf[3];
	int ret;

	ret = stm32_usart_cmd(r, USART_CMD_GET_VERSION);
	if (!ret)
		ret = stm32_usart_tail(r, buf, sizeof(buf));
	if (ret)
		return ret;
	r->id.has_bl_version = true;
	r->id.bl_version = buf[0];
	return 0;
}

/* GET_ID: ACK, N, N + 1 bytes of PID (MSB first), ACK. */
static int stm32_usart_get_id(struct stm32_usart_run *r)
{
	u8 n, buf[USART_MAX_LEN + 1];
	unsigned int i;
	int ret;

	ret = stm32_usart_cmd(r, USART_CMD_GET_ID);
	if (!ret)
		ret = stm32_usart_getc(r, &n);
	if (!ret && (n < 1 || n > USART_MAX_LEN))
		ret = -EPROTO;
	if (!ret)
		ret = stm32_usart_tail(r, buf, n + 1);
	if (ret)
		return ret;
	r->id.has_pid = true;
	r->id.pid = get_unaligned_be16(buf);
	for (i = 0; i < ARRAY_SIZE(stm32_usart_pids); i++) {
		if (stm32_usart_pids[i].pid == r->id.pid) {
			/* read from the chip, not inferred */
			r->id.family = stm32_usart_pids[i].name;
			r->id.family_confidence = 100;
		}
	}
	return 0;
}

/*
 * The identity readout failed with @ret: report why.  A stall (EPIPE) is
 * the bridge's bulk IN endpoint halted, not a silent bootloader.
 */
static void stm32_usart_ident_fail(struct bsk_dev *bdev, int ret)
{
	if (ret == -ENODEV)
		return;		/* disconnect reports it */
	if (ret == -EPROTO)	/* the bootloader's answer, not a transfer */
		bsk_dev_fail(bdev, ret, "protocol", "GET: NACK or malformed reply");
	else
		bsk_dev_fail_err(bdev, ret, "the identity readout");
}

struct stm32_usart_ready {
	u64 ident_us;
	const struct bsk_stm32_status *id;
};

static void stm32_usart_ready_fn(struct bsk_status *st, const void *arg)
{
	const struct stm32_usart_ready *d = arg;

	st->state = BOOTSHAKE_STATE_READY;
	st->ident_us = d->ident_us;
	st->stm32 = *d->id;
}

static void stm32_usart_handshake(struct bsk_dev *bdev)
{
	struct stm32_usart_run r = { .bdev = bdev };
	struct stm32_usart_ready ready;
	int ret;

	r.buf = kmalloc(STM32_USART_BUF_LEN, GFP_KERNEL);
	if (!r.buf) {
		bsk_dev_fail(bdev, -ENOMEM, "nomem", "out of memory");
		return;
	}

	ret = stm32_usart_line_coding(&r);
	if (!ret)
		ret = stm32_usart_entry(&r);
	if (ret) {
		if (ret != -ENODEV && ret != -ESHUTDOWN)
			bsk_dev_fail_err(bdev, ret, "a line request");
		goto out;
	}

	r.deadline = jiffies + msecs_to_jiffies(bdev->sync_ms);
	if (stm32_usart_sync(&r))
		goto out;

	/*
	 * GET is what stm32flash cannot do without; GET_VERSION and GET_ID
	 * add to it and may be refused (NACK) without failing.
	 */
	ret = stm32_usart_get(&r);
	if (!ret) {
		ret = stm32_usart_get_version(&r);
		if (ret != -ENODEV && ret != -EPIPE)
			ret = stm32_usart_get_id(&r);
		/* only a stall of the bridge fails the optional two */
		if (ret != -ENODEV && ret != -EPIPE)
			ret = 0;
	}
	if (ret) {
		stm32_usart_ident_fail(bdev, ret);
		goto out;
	}

	bsk_tr_note(bdev->tr, "identity done");
	ready.ident_us = bsk_dev_elapsed_us(bdev);
	ready.id = &r.id;
	bsk_dev_update(bdev, stm32_usart_ready_fn, &ready);
	dev_dbg(&bdev->intf->dev, "ready: STM32 bootloader %x.%x, pid 0x%03x\n",
		r.id.bl_version >> 4, r.id.bl_version & 0xf, r.id.pid);
out:
	kfree(r.buf);
}

/*
 * Probe runs for the bridge's CDC comm interface (new_id with class 02,
 * or any interface with a bare VID:PID new_id: others are refused); the
 * data interface is found as for the MediaTek kinds (kmod/cdc.c).
 */
static int stm32_usart_bind(struct bsk_dev *bdev)
{
	if (bdev->intf->cur_altsetting->desc.bInterfaceClass != USB_CLASS_COMM)
		return -ENODEV;
	return bsk_cdc_bind_data(bdev);
}

static int stm32_usart_fill(struct sk_buff *skb, struct bsk_dev *bdev,
			    const struct bsk_status *st)
{
	const struct bsk_stm32_status *id = &st->stm32;
	struct nlattr *nest;

	nest = nla_nest_start(skb, BOOTSHAKE_A_DEV_STM32);
	if (!nest)
		return -EMSGSIZE;
	if (id->has_bl_version &&
	    nla_put_u32(skb, BOOTSHAKE_A_STM32_BL_VERSION, id->bl_version))
		goto nla_put_failure;
	if (id->has_pid && nla_put_u32(skb, BOOTSHAKE_A_STM32_PID, id->pid))
		goto nla_put_failure;
	if (id->ncmds &&
	    nla_put(skb, BOOTSHAKE_A_STM32_COMMANDS, id->ncmds, id->cmds))
		goto nla_put_failure;
	if (id->family) {
		if (nla_put_string(skb, BOOTSHAKE_A_STM32_FAMILY, id->family))
			goto nla_put_failure;
		if (nla_put_u32(skb, BOOTSHAKE_A_STM32_FAMILY_CONFIDENCE,
				id->family_confidence))
			goto nla_put_failure;
	}
	nla_nest_end(skb, nest);
	return 0;

nla_put_failure:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/* Everything stm32_usart_fill() can put. */
static size_t stm32_usart_fill_size(void)
{
	return nla_total_size(0) +				/* the nest */
	       3 * nla_total_size(sizeof(u32)) +
	       nla_total_size(BSK_STM32_MAX_CMDS) +		/* COMMANDS */
	       nla_total_size(BSK_NAME_MAX);			/* FAMILY */
}

/* A bridge is an ordinary serial port: only opted-in ones get here. */
const struct bsk_kind bsk_stm32_usart_kind = {
	.name = "stm32-usart",
	.id = BOOTSHAKE_KIND_STM32_USART,
	.bind = stm32_usart_bind,
	.handshake = stm32_usart_handshake,
	.fill = stm32_usart_fill,
	.fill_size = stm32_usart_fill_size,
	.env = bsk_stm32_env,
	.default_policy = BOOTSHAKE_POLICY_AUTO,
	.uses_pipe = true,
};
