// SPDX-License-Identifier: GPL-2.0
/*
 * A CDC-ACM USB-to-serial bridge with an STM32 in its USART bootloader
 * behind it, for bsk-emu (FunctionFS).  Default IDs 0483:5740 (ST's
 * virtual COM port), CDC comm 02/02/01 + CDC data with bulk IN/OUT.
 *
 * Behaviour from /work/shared/protocols/stm32.md section 5 and
 * scenarios 39-46: the ROM only understands the host at 8E1 (anything
 * else comes out garbled); 0x7f -> ACK 0x79 once, after that 0x7f is a
 * bad command -> NACK 0x1f; commands are cmd, cmd ^ 0xff; GET, GET_VERSION
 * and GET_ID of an F405/407 with bootloader V3.1.
 */
#include <errno.h>
#include <string.h>
#include <time.h>
#include <endian.h>

#include "emu.h"

#define USB_CDC_SET_LINE_CODING		0x20
#define USB_CDC_GET_LINE_CODING		0x21
#define USB_CDC_SET_CONTROL_LINE_STATE	0x22

#define ACK	0x79
#define NACK	0x1f

struct usart {
	bool synced;			/* past the 0x7f */
	bool already_synced;		/* knob: synced at power-on */
	bool swallow;			/* knob: eat the first 0x7f */
	bool leading_zero;		/* knob: "00 79" for the first ACK */
	bool nack_gv;			/* knob: NACK GET_VERSION */
	bool garble;			/* knob: wrong baud, all bytes garbled */
	unsigned long pid, version;
	uint8_t line_coding[7];
	uint16_t line_state;
	unsigned long resets;		/* DTR/RTS reset pulses seen */
	unsigned long startup_ms;	/* knob: deaf this long after a reset */
	long long reset_ms;		/* when the last reset was (monotonic) */
};

static long long mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static const uint8_t usart_cmds[] = {
	0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82, 0x92,
};

static struct usart *usart(struct emu_ctx *ctx)
{
	return emu_priv(ctx);
}

#define KNOB_FLAG(field)						\
static int knob_##field(struct emu_ctx *ctx, const char *v)		\
{									\
	(void)v;							\
	usart(ctx)->field = true;					\
	return 0;							\
}
KNOB_FLAG(already_synced)
KNOB_FLAG(swallow)
KNOB_FLAG(leading_zero)
KNOB_FLAG(nack_gv)
KNOB_FLAG(garble)

static int knob_pid(struct emu_ctx *ctx, const char *v)
{
	return emu_parse_uint(v, 0xffff, &usart(ctx)->pid);
}

static int knob_version(struct emu_ctx *ctx, const char *v)
{
	return emu_parse_uint(v, 0xff, &usart(ctx)->version);
}

static int knob_startup_ms(struct emu_ctx *ctx, const char *v)
{
	return emu_parse_uint(v, 60000, &usart(ctx)->startup_ms);
}

static const struct emu_knob usart_knobs[] = {
	{ "already_synced", 0, "synced at power-on: 0x7f is NACKed (40)", knob_already_synced },
	{ "swallow", 0, "the first 0x7f is taken as a command byte (41)", knob_swallow },
	{ "leading_zero", 0, "the first ACK comes as 00 79 (42)", knob_leading_zero },
	{ "nack_gv", 0, "GET_VERSION is NACKed", knob_nack_gv },
	{ "garble", 0, "the ROM runs at another baud rate than the bridge: every byte comes out garbled (45)", knob_garble },
	{ "pid", 1, "GET_ID product ID (0x413)", knob_pid },
	{ "version", 1, "bootloader version (0x31)", knob_version },
	{ "startup_ms", 1, "after a reset the ROM ignores bytes this long: 85 F40x, 524 F105/107 with PA9 high (46)", knob_startup_ms },
	{ NULL, 0, NULL, NULL }
};

static int usart_init(struct emu_ctx *ctx)
{
	/* 9600 8N1 until the host sets something */
	static const uint8_t lc[7] = { 0x80, 0x25, 0, 0, 0, 0, 8 };
	struct usart *u = usart(ctx);

	memcpy(u->line_coding, lc, sizeof(lc));
	u->pid = 0x413;
	u->version = 0x31;
	return 0;
}

static int usart_descs(struct emu_ctx *ctx, void *buf, size_t len)
{
	const struct emu_cdc_layout l = {
		.comm_protocol = 1,	/* AT commands, as bridges say */
		.intr_mps = 16,
		.intr_interval = 0x10,
		.fs_bulk_mps = 64,
		.hs_bulk_mps = 512,
	};

	return emu_cdc_descs(ctx, &l, buf, len);
}

static int usart_setup(struct emu_ctx *ctx, const struct usb_ctrlrequest *req,
		       uint8_t *data, size_t len)
{
	struct usart *u = usart(ctx);
	uint16_t v = le16toh(req->wValue);

	if ((req->bRequestType & USB_TYPE_MASK) != USB_TYPE_CLASS ||
	    (req->bRequestType & USB_RECIP_MASK) != USB_RECIP_INTERFACE)
		return -EOPNOTSUPP;
	switch (req->bRequest) {
	case USB_CDC_SET_LINE_CODING:
		if (req->bRequestType & USB_DIR_IN ||
		    le16toh(req->wLength) != sizeof(u->line_coding))
			return -EINVAL;
		if (data && len == sizeof(u->line_coding)) {
			memcpy(u->line_coding, data, len);
			emu_log(ctx, "line-coding %u %u%c%u",
				data[0] | data[1] << 8 | data[2] << 16 |
				(unsigned int)data[3] << 24, data[6],
				"NOEMS"[data[5] < 5 ? data[5] : 0],
				data[4] == 0 ? 1 : 2);
		}
		return 0;
	case USB_CDC_GET_LINE_CODING:
		if (!(req->bRequestType & USB_DIR_IN) || len < 7)
			return -EINVAL;
		memcpy(data, u->line_coding, sizeof(u->line_coding));
		return sizeof(u->line_coding);
	case USB_CDC_SET_CONTROL_LINE_STATE:
		if (req->bRequestType & USB_DIR_IN || req->wLength)
			return -EINVAL;
		/* RTS wired to NRST: releasing it after asserting resets */
		if ((u->line_state & 2) && !(v & 2)) {
			u->resets++;
			u->synced = false;
			__atomic_store_n(&u->reset_ms, mono_ms(),
					 __ATOMIC_RELEASE);
			emu_log(ctx, "reset");
		}
		u->line_state = v;
		emu_log(ctx, "line-state %04x", v);
		return 0;
	}
	return -EOPNOTSUPP;
}

/* 8E1 only: at any other framing the ROM sees (and sends) garbage. */
static bool framing_ok(struct usart *u)
{
	return !u->garble && u->line_coding[4] == 0 &&
	       u->line_coding[5] == 2 && u->line_coding[6] == 8;
}

static int put(struct emu_ctx *ctx, const uint8_t *b, size_t n)
{
	int err = emu_write(ctx, b, n);

	return err ? err : emu_flush(ctx);
}

static int command(struct emu_ctx *ctx, struct usart *u, uint8_t cmd)
{
	uint8_t b[32];
	size_t n = 0, i;
	int c;

	c = emu_read_byte(ctx, 1000);
	if (c == -ETIMEDOUT)
		return 0;		/* incomplete: the ROM waits, then drops */
	if (c < 0)
		return c;
	if ((uint8_t)c != (cmd ^ 0xff)) {
		b[0] = NACK;
		return put(ctx, b, 1);
	}
	switch (cmd) {
	case 0x00:	/* GET */
		b[n++] = ACK;
		b[n++] = sizeof(usart_cmds);
		b[n++] = u->version;
		for (i = 0; i < sizeof(usart_cmds); i++)
			b[n++] = usart_cmds[i];
		b[n++] = ACK;
		break;
	case 0x01:	/* GET_VERSION */
		if (u->nack_gv) {
			b[n++] = NACK;
			break;
		}
		b[n++] = ACK;
		b[n++] = u->version;
		b[n++] = 0;
		b[n++] = 0;
		b[n++] = ACK;
		break;
	case 0x02:	/* GET_ID */
		b[n++] = ACK;
		b[n++] = 1;
		b[n++] = u->pid >> 8;
		b[n++] = u->pid & 0xff;
		b[n++] = ACK;
		break;
	default:
		b[n++] = NACK;
		break;
	}
	return put(ctx, b, n);
}

static int usart_serve(struct emu_ctx *ctx)
{
	struct usart *u = usart(ctx);
	bool first_ack = true;
	uint8_t b[2];
	int c, err;

	u->synced = u->already_synced;
	for (;;) {
		c = emu_read_byte(ctx, -1);
		if (c < 0)
			return c;
		if (!framing_ok(u)) {
			b[0] = (uint8_t)c ^ 0x5a;	/* what the ROM made of it */
			emu_log(ctx, "garbled %02x", c);
			if ((err = put(ctx, b, 1)))
				return err;
			continue;
		}
		if (u->startup_ms && u->resets &&
		    mono_ms() < __atomic_load_n(&u->reset_ms,
						__ATOMIC_ACQUIRE) +
				(long long)u->startup_ms) {
			emu_log(ctx, "starting: ignored %02x", c);
			continue;	/* the ROM is not running yet */
		}
		if (!u->synced) {
			if (c != 0x7f)
				continue;	/* autobaud ignores the rest */
			if (u->swallow) {
				/* taken as a command byte: the next is its check */
				u->swallow = false;
				u->synced = true;
				emu_log(ctx, "swallowed");
				c = emu_read_byte(ctx, -1);
				if (c < 0)
					return c;
				b[0] = NACK;
				if ((err = put(ctx, b, 1)))
					return err;
				continue;
			}
			u->synced = true;
			emu_log(ctx, "sync-done");
			if (first_ack && u->leading_zero) {
				b[0] = 0x00;
				b[1] = ACK;
				err = put(ctx, b, 2);
			} else {
				b[0] = ACK;
				err = put(ctx, b, 1);
			}
			first_ack = false;
			if (err)
				return err;
			continue;
		}
		/* command loop: a code that is no command is NACKed at once */
		if (!memchr(usart_cmds, c, sizeof(usart_cmds))) {
			b[0] = NACK;
			if ((err = put(ctx, b, 1)))
				return err;
			continue;
		}
		err = command(ctx, u, (uint8_t)c);
		if (err)
			return err;
	}
}

const struct emu_personality emu_stm32_usart = {
	.name = "stm32-usart",
	.vid = 0x0483,
	.pid = 0x5740,
	.bcd_device = 0x0200,
	.dev_class = 0x02,
	.max_speed = "full-speed",
	.manufacturer = "STMicroelectronics",
	.product = "STM32 Virtual ComPort",
	.max_power = 100,
	.priv_size = sizeof(struct usart),
	.knobs = usart_knobs,
	.init = usart_init,
	.descs = usart_descs,
	.setup = usart_setup,
	.serve = usart_serve,
};
