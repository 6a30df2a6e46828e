// SPDX-License-Identifier: GPL-2.0
/*
 * STM32 system bootloader in USB DFU mode (0483:df11, DfuSe) for bsk-emu,
 * over gadgetfs (FunctionFS cannot carry the DFU functional descriptor nor
 * select an alternate setting on 6.1).
 *
 * Behaviour from /work/shared/protocols/stm32.md: descriptors and strings
 * of section 1 (profiles f407, f105, c5, h7a3, g474), the DFU state
 * machine of section 2 and the DfuSe commands of section 3 (Get commands,
 * Set Address, Erase, Read Unprotect, reads at block >= 2, leave), with
 * the faults of section 7.  Deviation forced by gadgetfs: wTransferSize
 * is 128 (ep0 data stages stop at 256 bytes), and an OUT request with a
 * data stage cannot be stalled, so a refused DNLOAD goes to dfuERROR/
 * errSTALLEDPKT without the stall.
 *
 * Memory reads return a pattern: the byte at address A is
 * (A * 7 + (A >> 8)) & 0xff, inside the layout's readable regions.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>

#include "emu.h"
#include "gadgetfs.h"

#define DFU_DNLOAD	0x01
#define DFU_UPLOAD	0x02
#define DFU_GETSTATUS	0x03
#define DFU_CLRSTATUS	0x04
#define DFU_GETSTATE	0x05
#define DFU_ABORT	0x06

enum {
	S_APP_IDLE, S_APP_DETACH, S_IDLE, S_DNLOAD_SYNC, S_DNBUSY,
	S_DNLOAD_IDLE, S_MANIFEST_SYNC, S_MANIFEST, S_MANIFEST_WAIT_RESET,
	S_UPLOAD_IDLE, S_ERROR,
};

enum {
	E_OK, E_TARGET, E_FILE, E_WRITE, E_ERASE, E_CHECK_ERASED, E_PROG,
	E_VERIFY, E_ADDRESS, E_NOTDONE, E_FIRMWARE, E_VENDOR, E_USBR, E_POR,
	E_UNKNOWN, E_STALLEDPKT,
};

#define MAX_ALTS	8
#define MAX_SEGS	32
#define STR_FIRST_ALT	4	/* string index of alt 0 */

enum clr_mode { CLR_LENIENT, CLR_STRICT, CLR_STRICT_B };

/* A pending DfuSe command or block, executed on the next GETSTATUS. */
enum pending { P_NONE, P_SET_ADDRESS, P_ERASE, P_UNPROTECT, P_WRITE,
	       P_LEAVE, P_BAD };

struct seg {
	uint32_t start, end;	/* [start, end) */
	char type;
};

struct dfu {
	/* identity */
	const char *profile;
	const char *product, *serial;
	unsigned long bcd_device;
	const char *alts[MAX_ALTS];
	int nalts;
	bool alts_overridden;
	bool no_func;
	long func_alt;			/* functional descriptor after it */
	unsigned long func_len, attrs, transfer_size, dfu_version;
	unsigned long protocol;
	bool truncated_string;
	bool getdesc_hang;

	/* state machine */
	uint8_t state, status;
	unsigned long poll_ms;		/* bwPollTimeout while busy */
	long busy_polls;		/* busy replies before done; -1 forever */
	long busy_left;
	uint8_t after_busy;		/* state when a boot busy ends */
	enum clr_mode clr;
	bool clr_never, clr_wedge;
	unsigned int clears;
	enum pending pending;
	uint32_t pending_addr;
	uint32_t addr_ptr;
	bool rdp, upload0_stall;

	/* faults */
	unsigned long gs_stall, gs_len, getstate_len;
	unsigned long unplug_req;	/* 1-based DFU class request */
	unsigned long nreq;
	uint8_t cur_alt;

	struct seg segs[MAX_SEGS];
	int nsegs;
};

static const char *const f407_alts[] = {
	"@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg",
	"@Option Bytes  /0x1FFFC000/01*016 g",
	"@OTP Memory /0x1FFF7800/01*512 g,01*016 g",
	"@Device Feature/0xFFFF0000/01*004 g",
};

static const char *const f105_alts[] = {
	"@Internal Flash  /0x08000000/128*002Kg",
	"@Option Bytes  /0x1FFFF800/01*016 g",
};

static const char *const h7a3_alts[] = {
	"@Internal Flash   /0x08000000/256*02Kg",
};

static const char *const c5_alts[] = {
	"@Internal Flash  /0x08000000/128*02Kg",
};

static const char *const g474_alts[] = {
	"@Internal Flash  /0x08000000/256*02Kg",
	"@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e",
};

static struct dfu *dfu(struct emu_ctx *ctx)
{
	return emu_priv(ctx);
}

static void set_alts(struct dfu *d, const char *const *alts, int n)
{
	int i;

	if (d->alts_overridden)
		return;
	for (i = 0; i < n && i < MAX_ALTS; i++)
		d->alts[i] = alts[i];
	d->nalts = i;
}

static int knob_profile(struct emu_ctx *ctx, const char *v)
{
	struct dfu *d = dfu(ctx);

	d->profile = v;
	if (!strcmp(v, "f407")) {
		d->bcd_device = 0x2200;
		d->product = "STM32  BOOTLOADER";
		d->serial = "315A28A0B956";
		set_alts(d, f407_alts, ARRAY_SIZE(f407_alts));
	} else if (!strcmp(v, "f105")) {
		d->bcd_device = 0x2000;
		d->product = "STM32 0x418 DFU Bootloader";
		d->serial = "STM32";
		set_alts(d, f105_alts, ARRAY_SIZE(f105_alts));
	} else if (!strcmp(v, "c5")) {
		/* sheet 7.4: one alt, strict CLRSTATUS, no GET_DESCRIPTOR */
		d->bcd_device = 0x0300;
		d->product = "DFU in FS Mode";
		d->serial = "204B33A5354E";
		set_alts(d, c5_alts, ARRAY_SIZE(c5_alts));
		d->clr = CLR_STRICT;
		d->getdesc_hang = true;
	} else if (!strcmp(v, "h7a3")) {
		d->bcd_device = 0x0200;
		d->product = "DFU in FS Mode";
		d->serial = "2059336B5744";
		set_alts(d, h7a3_alts, ARRAY_SIZE(h7a3_alts));
	} else if (!strcmp(v, "g474")) {
		d->bcd_device = 0x0200;
		d->product = "DFU in FS Mode";
		d->serial = "3254386D3437";
		set_alts(d, g474_alts, ARRAY_SIZE(g474_alts));
	} else {
		return -EINVAL;
	}
	return 0;
}

static int knob_alt(struct emu_ctx *ctx, const char *v)
{
	struct dfu *d = dfu(ctx);

	if (!d->alts_overridden) {
		d->alts_overridden = true;
		d->nalts = 0;
	}
	if (d->nalts == MAX_ALTS)
		return -E2BIG;
	d->alts[d->nalts++] = v;
	return 0;
}

#define KNOB_STR(field)							\
static int knob_##field(struct emu_ctx *ctx, const char *v)		\
{									\
	dfu(ctx)->field = v;						\
	return 0;							\
}
KNOB_STR(serial)
KNOB_STR(product)

#define KNOB_UINT(field, max)						\
static int knob_##field(struct emu_ctx *ctx, const char *v)		\
{									\
	return emu_parse_uint(v, max, &dfu(ctx)->field);		\
}
KNOB_UINT(bcd_device, 0xffff)
KNOB_UINT(func_len, 9)
KNOB_UINT(attrs, 0xff)
KNOB_UINT(transfer_size, 0xffff)
KNOB_UINT(dfu_version, 0xffff)
KNOB_UINT(protocol, 0xff)
KNOB_UINT(poll_ms, 0xffffff)
KNOB_UINT(gs_stall, 1000)
KNOB_UINT(gs_len, 6)
KNOB_UINT(getstate_len, 1)
KNOB_UINT(unplug_req, 100000)

#define KNOB_FLAG(field)						\
static int knob_##field(struct emu_ctx *ctx, const char *v)		\
{									\
	(void)v;							\
	dfu(ctx)->field = true;						\
	return 0;							\
}
KNOB_FLAG(no_func)
KNOB_FLAG(truncated_string)
KNOB_FLAG(getdesc_hang)
KNOB_FLAG(clr_never)
KNOB_FLAG(clr_wedge)
KNOB_FLAG(rdp)
KNOB_FLAG(upload0_stall)

static int knob_func_alt(struct emu_ctx *ctx, const char *v)
{
	unsigned long n;
	int err = emu_parse_uint(v, MAX_ALTS - 1, &n);

	dfu(ctx)->func_alt = n;
	return err;
}

static int knob_state(struct emu_ctx *ctx, const char *v)
{
	unsigned long n;
	int err = emu_parse_uint(v, 255, &n);

	dfu(ctx)->state = n;
	return err;
}

static int knob_status(struct emu_ctx *ctx, const char *v)
{
	unsigned long n;
	int err = emu_parse_uint(v, 255, &n);

	dfu(ctx)->status = n;
	return err;
}

static int knob_busy_polls(struct emu_ctx *ctx, const char *v)
{
	unsigned long n;

	if (!strcmp(v, "forever")) {
		dfu(ctx)->busy_polls = -1;
		return 0;
	}
	if (emu_parse_uint(v, 100000, &n))
		return -EINVAL;
	dfu(ctx)->busy_polls = n;
	return 0;
}

static int knob_clr(struct emu_ctx *ctx, const char *v)
{
	struct dfu *d = dfu(ctx);

	if (!strcmp(v, "lenient"))
		d->clr = CLR_LENIENT;
	else if (!strcmp(v, "strict"))
		d->clr = CLR_STRICT;
	else if (!strcmp(v, "strict_b"))
		d->clr = CLR_STRICT_B;
	else
		return -EINVAL;
	return 0;
}

static const struct emu_knob dfu_knobs[] = {
	{ "profile", 1, "f407 (default), f105, c5, h7a3 or g474", knob_profile },
	{ "alt", 1, "layout string of the next alt setting (repeat; replaces the profile's)", knob_alt },
	{ "serial", 1, "iSerialNumber text", knob_serial },
	{ "product", 1, "iProduct text", knob_product },
	{ "bcd_device", 1, "bcdDevice", knob_bcd_device },
	{ "no_func", 0, "no DFU functional descriptor", knob_no_func },
	{ "func_alt", 1, "functional descriptor after alt N (default: last)", knob_func_alt },
	{ "func_len", 1, "functional descriptor bLength (7 = DFU 1.0)", knob_func_len },
	{ "attrs", 1, "bmAttributes (0x0b)", knob_attrs },
	{ "transfer_size", 1, "wTransferSize (128; gadgetfs: ep0 <= 256)", knob_transfer_size },
	{ "dfu_version", 1, "bcdDFUVersion (0x011a)", knob_dfu_version },
	{ "protocol", 1, "bInterfaceProtocol (2)", knob_protocol },
	{ "truncated_string", 0, "alt 0 string claims 54 bytes more than it sends", knob_truncated_string },
	{ "getdesc_hang", 0, "GET_DESCRIPTOR(0x21) refused (a C5 never answers it)", knob_getdesc_hang },
	{ "state", 1, "DFU state at power-on (2)", knob_state },
	{ "status", 1, "DFU status at power-on (0)", knob_status },
	{ "poll_ms", 1, "bwPollTimeout while busy (10)", knob_poll_ms },
	{ "busy_polls", 1, "GETSTATUS replies that stay busy (1), or 'forever'", knob_busy_polls },
	{ "clr", 1, "CLRSTATUS outside dfuERROR: lenient (accept), strict (stall), strict_b (stall, then dfuERROR)", knob_clr },
	{ "clr_never", 0, "CLRSTATUS leaves dfuERROR with errUNKNOWN", knob_clr_never },
	{ "clr_wedge", 0, "the first CLRSTATUS gives errUNKNOWN, the second clears (H7)", knob_clr_wedge },
	{ "rdp", 0, "read protection: reads and commands fail with errVENDOR", knob_rdp },
	{ "upload0_stall", 0, "UPLOAD block 0 (Get commands) stalls", knob_upload0_stall },
	{ "gs_stall", 1, "the first N GETSTATUS stall", knob_gs_stall },
	{ "gs_len", 1, "GETSTATUS reply length (6)", knob_gs_len },
	{ "getstate_len", 1, "GETSTATE reply length (1)", knob_getstate_len },
	{ "unplug_req", 1, "unplug on the N-th DFU class request, then exit", knob_unplug_req },
	{ NULL, 0, NULL, NULL }
};

static int dfu_init(struct emu_ctx *ctx)
{
	struct dfu *d = dfu(ctx);

	knob_profile(ctx, "f407");
	d->func_alt = -1;
	d->func_len = 9;
	d->attrs = 0x0b;
	d->transfer_size = 128;
	d->dfu_version = 0x011a;
	d->protocol = 2;
	d->state = S_IDLE;
	d->poll_ms = 10;
	d->busy_polls = 1;
	d->gs_len = 6;
	d->getstate_len = 1;
	return 0;
}

/* --- memory map from the layout strings -------------------------------- */

static void parse_segs(struct dfu *d)
{
	int i;

	d->nsegs = 0;
	for (i = 0; i < d->nalts; i++) {
		const char *p = strchr(d->alts[i], '/');
		unsigned int addr, count, size, n;
		char mult, type;

		while (p && sscanf(p, "/0x%x/%n", &addr, &n) == 1) {
			p += n;
			while (sscanf(p, "%u*%u%c%n", &count, &size, &mult,
				      &n) == 3) {
				p += n;
				if (mult == 'K')
					size *= 1024;
				else if (mult == 'M')
					size *= 1024 * 1024;
				type = (mult >= 'a' && mult <= 'g') ? mult : *p++;
				if (d->nsegs < MAX_SEGS) {
					d->segs[d->nsegs].start = addr;
					d->segs[d->nsegs].end = addr + count * size;
					d->segs[d->nsegs].type = type;
					d->nsegs++;
				}
				addr += count * size;
				if (*p != ',')
					break;
				p++;
			}
		}
	}
}

static const struct seg *find_seg(struct dfu *d, uint32_t a)
{
	int i;

	for (i = 0; i < d->nsegs; i++)
		if (a >= d->segs[i].start && a < d->segs[i].end)
			return &d->segs[i];
	return NULL;
}

/* --- descriptors -------------------------------------------------------- */

static uint8_t *put_func(struct dfu *d, uint8_t *p)
{
	p[0] = d->func_len;
	p[1] = 0x21;
	p[2] = d->attrs;
	p[3] = 255;			/* wDetachTimeOut */
	p[4] = 0;
	p[5] = d->transfer_size & 0xff;
	p[6] = d->transfer_size >> 8;
	if (d->func_len >= 9) {
		p[7] = d->dfu_version & 0xff;
		p[8] = d->dfu_version >> 8;
	}
	return p + d->func_len;
}

static int dfu_descs(struct emu_ctx *ctx, uint8_t *buf, size_t len)
{
	struct dfu *d = dfu(ctx);
	long func_alt = d->func_alt < 0 || d->func_alt >= d->nalts ?
			d->nalts - 1 : d->func_alt;
	uint8_t *p = buf + 9;
	struct usb_device_descriptor dev = {
		.bLength = USB_DT_DEVICE_SIZE,
		.bDescriptorType = USB_DT_DEVICE,
		.bcdUSB = htole16(0x0200),
		.bMaxPacketSize0 = 64,
		.idVendor = htole16(0x0483),
		.idProduct = htole16(0xdf11),
		.bcdDevice = htole16(d->bcd_device),
		.iManufacturer = 1,
		.iProduct = 2,
		.iSerialNumber = 3,
		.bNumConfigurations = 1,
	};
	int i, total;

	if (len < 9 + MAX_ALTS * 9 + 9 + USB_DT_DEVICE_SIZE)
		return -ENOSPC;
	parse_segs(d);
	for (i = 0; i < d->nalts; i++) {
		p[0] = 9;
		p[1] = USB_DT_INTERFACE;
		p[2] = 0;			/* bInterfaceNumber */
		p[3] = i;			/* bAlternateSetting */
		p[4] = 0;			/* control pipe only */
		p[5] = 0xfe;
		p[6] = 0x01;
		p[7] = d->protocol;
		p[8] = STR_FIRST_ALT + i;
		p += 9;
		if (!d->no_func && i == func_alt)
			p = put_func(d, p);
	}
	total = p - buf;
	buf[0] = 9;
	buf[1] = USB_DT_CONFIG;
	buf[2] = total & 0xff;
	buf[3] = total >> 8;
	buf[4] = 1;			/* bNumInterfaces */
	buf[5] = 1;			/* bConfigurationValue */
	buf[6] = 0;
	buf[7] = 0xc0;			/* self-powered */
	buf[8] = 50;			/* 100 mA */
	memcpy(p, &dev, sizeof(dev));
	return total + sizeof(dev);
}

static int put_string(struct dfu *d, uint8_t idx, uint8_t *data, size_t len)
{
	const char *s = NULL;
	size_t n, i, blen;

	switch (idx) {
	case 0:
		if (len < 4)
			return -EPIPE;
		data[0] = 4;
		data[1] = USB_DT_STRING;
		data[2] = 0x09;
		data[3] = 0x04;
		return 4;
	case 1:
		s = "STMicroelectronics";
		break;
	case 2:
		s = d->product;
		break;
	case 3:
		s = d->serial;
		break;
	default:
		if (idx - STR_FIRST_ALT < d->nalts)
			s = d->alts[idx - STR_FIRST_ALT];
		break;
	}
	if (!s)
		return -EPIPE;
	n = strlen(s);
	if (n > 126)
		n = 126;
	blen = 2 + 2 * n;
	data[0] = blen;
	if (d->truncated_string && idx == STR_FIRST_ALT)
		data[0] = blen + 54 > 254 ? 254 : blen + 54;
	data[1] = USB_DT_STRING;
	for (i = 0; i < n && 2 + 2 * i + 1 < len; i++) {
		data[2 + 2 * i] = s[i];
		data[3 + 2 * i] = 0;
	}
	return blen < len ? blen : len;
}

/* --- DFU class requests ------------------------------------------------- */

static uint8_t mem_byte(uint32_t a)
{
	return (uint8_t)(a * 7 + (a >> 8));
}

static void to_error(struct dfu *d, uint8_t status)
{
	d->state = S_ERROR;
	d->status = status;
	d->pending = P_NONE;
}

/* The command a DNLOAD left, run by the GETSTATUS after the busy reply. */
static bool finish_pending(struct emu_ctx *ctx, struct dfu *d)
{
	enum pending p = d->pending;

	d->pending = P_NONE;
	switch (p) {
	case P_SET_ADDRESS:
		if (d->rdp)
			to_error(d, E_VENDOR);
		else if (!find_seg(d, d->pending_addr))
			to_error(d, E_TARGET);
		else {
			d->addr_ptr = d->pending_addr;
			d->state = S_DNLOAD_IDLE;
		}
		break;
	case P_ERASE:
	case P_WRITE:
		if (d->rdp)
			to_error(d, E_VENDOR);
		else
			d->state = S_DNLOAD_IDLE;
		break;
	case P_UNPROTECT:
	case P_LEAVE:
		emu_log(ctx, "reset");
		return true;		/* the ROM resets: off the bus */
	case P_BAD:
		to_error(d, E_STALLEDPKT);
		break;
	case P_NONE:
		/* a busy state from power-on (sheet 7.12) ends */
		d->state = d->after_busy;
		break;
	}
	return false;
}

static int dfu_getstatus(struct emu_ctx *ctx, struct dfu *d, uint8_t *data,
			 size_t len)
{
	uint32_t poll = 0;

	if (d->gs_stall) {
		d->gs_stall--;
		return -EPIPE;
	}

	switch (d->state) {
	case S_DNLOAD_SYNC:
		if (d->pending == P_LEAVE) {
			d->state = S_MANIFEST;
			break;
		}
		d->state = S_DNBUSY;	/* execute on this GETSTATUS */
		d->busy_left = d->busy_polls < 0 ? -1 : d->busy_polls - 1;
		poll = d->poll_ms;
		break;
	case S_DNBUSY:
	case S_MANIFEST_SYNC:
		if (d->busy_left) {
			if (d->busy_left > 0)
				d->busy_left--;
			poll = d->poll_ms;
			break;
		}
		if (finish_pending(ctx, d))
			return EMU_GFS_UNPLUG;
		break;
	case S_MANIFEST:
		return EMU_GFS_UNPLUG;
	default:
		break;
	}

	data[0] = d->status;
	data[1] = poll & 0xff;
	data[2] = (poll >> 8) & 0xff;
	data[3] = (poll >> 16) & 0xff;
	data[4] = d->state;
	data[5] = 0;
	emu_log(ctx, "dfu-status %u %u", d->state, d->status);
	return d->gs_len < len ? (int)d->gs_len : (int)len;
}

static int dfu_upload(struct dfu *d, uint16_t block, uint8_t *data,
		      size_t len)
{
	static const uint8_t cmds[] = { 0x00, 0x21, 0x41, 0x92 };
	const struct seg *s;
	uint32_t a;
	size_t i;

	if (d->state != S_IDLE && d->state != S_UPLOAD_IDLE) {
		to_error(d, E_STALLEDPKT);
		return -EPIPE;
	}
	if (block == 0) {
		if (d->upload0_stall) {
			to_error(d, E_STALLEDPKT);
			return -EPIPE;
		}
		d->state = S_UPLOAD_IDLE;
		len = len < sizeof(cmds) ? len : sizeof(cmds);
		memcpy(data, cmds, len);
		return len;
	}
	if (block == 1) {
		to_error(d, E_STALLEDPKT);
		return -EPIPE;
	}
	/*
	 * AN2662: (wBlockNum - 2) * wTransferSize + pointer.  The sheet reads
	 * wTransferSize as this request's wLength; dfu-util's shorter last
	 * read only works with the descriptor's value, so that is used.
	 */
	a = d->addr_ptr + (uint32_t)(block - 2) * d->transfer_size;
	s = find_seg(d, a);
	if (d->rdp || !s || !((s->type - 'a' + 1) & 1)) {
		to_error(d, d->rdp ? E_VENDOR : E_TARGET);
		return -EPIPE;
	}
	for (i = 0; i < len && a + i < s->end; i++)
		data[i] = mem_byte(a + i);
	d->state = S_UPLOAD_IDLE;
	return i;
}

static void dfu_dnload(struct dfu *d, uint16_t block, const uint8_t *data,
		       size_t len)
{
	if (d->state != S_IDLE && d->state != S_DNLOAD_IDLE) {
		/* a real ROM stalls; gadgetfs cannot stall OUT data */
		to_error(d, E_STALLEDPKT);
		return;
	}
	d->state = S_DNLOAD_SYNC;
	if (!len) {
		d->pending = P_LEAVE;
		return;
	}
	if (block >= 2) {
		d->pending = P_WRITE;
		return;
	}
	if (block == 1) {
		d->pending = P_BAD;
		return;
	}
	if (data[0] == 0x21 && len == 5) {
		d->pending = P_SET_ADDRESS;
		d->pending_addr = data[1] | data[2] << 8 | data[3] << 16 |
				  (uint32_t)data[4] << 24;
	} else if (data[0] == 0x41 && (len == 5 || len == 1)) {
		d->pending = P_ERASE;
	} else if (data[0] == 0x92 && len == 1) {
		d->pending = P_UNPROTECT;
	} else {
		d->pending = P_BAD;
	}
}

static int dfu_clrstatus(struct dfu *d)
{
	if (d->state != S_ERROR) {
		if (d->clr == CLR_STRICT)
			return -EPIPE;
		if (d->clr == CLR_STRICT_B) {
			to_error(d, E_STALLEDPKT);
			return -EPIPE;
		}
	} else {
		d->clears++;
		if (d->clr_never || (d->clr_wedge && d->clears == 1)) {
			to_error(d, E_UNKNOWN);
			return 0;
		}
	}
	d->state = S_IDLE;
	d->status = E_OK;
	d->pending = P_NONE;
	return 0;
}

static int dfu_class(struct emu_ctx *ctx, struct dfu *d,
		     const struct usb_ctrlrequest *req, uint8_t *data,
		     size_t len)
{
	uint16_t value = le16toh(req->wValue);

	if (d->unplug_req && ++d->nreq == d->unplug_req) {
		emu_log(ctx, "fault unplug_req %lu", d->unplug_req);
		return EMU_GFS_UNPLUG;
	}

	switch (req->bRequest) {
	case DFU_GETSTATUS:
		return dfu_getstatus(ctx, d, data, len);
	case DFU_GETSTATE:
		data[0] = d->state;
		return d->getstate_len < len ? (int)d->getstate_len : (int)len;
	case DFU_CLRSTATUS:
		return dfu_clrstatus(d);
	case DFU_ABORT:
		if (d->state == S_IDLE || d->state == S_DNLOAD_IDLE ||
		    d->state == S_UPLOAD_IDLE) {
			d->state = S_IDLE;
			d->pending = P_NONE;
			return 0;
		}
		to_error(d, E_STALLEDPKT);
		return -EPIPE;
	case DFU_UPLOAD:
		return dfu_upload(d, value, data, len);
	case DFU_DNLOAD:
		dfu_dnload(d, value, data, len);
		return 0;
	default:
		to_error(d, E_STALLEDPKT);
		return -EPIPE;
	}
}

static int dfu_setup(struct emu_ctx *ctx, const struct usb_ctrlrequest *req,
		     uint8_t *data, size_t len)
{
	struct dfu *d = dfu(ctx);
	uint16_t value = le16toh(req->wValue);
	uint8_t type = req->bRequestType & USB_TYPE_MASK;
	uint8_t func[9];

	if (type == USB_TYPE_CLASS &&
	    (req->bRequestType & USB_RECIP_MASK) == USB_RECIP_INTERFACE &&
	    le16toh(req->wIndex) == 0)
		return dfu_class(ctx, d, req, data, len);
	if (type != USB_TYPE_STANDARD)
		return -EPIPE;

	switch (req->bRequest) {
	case USB_REQ_GET_DESCRIPTOR:
		if (value >> 8 == USB_DT_STRING)
			return put_string(d, value & 0xff, data, len);
		if (value >> 8 == 0x21 && !d->no_func) {
			/* C5 never answers; gadgetfs cannot: stall */
			if (d->getdesc_hang)
				return -EPIPE;
			put_func(d, func);
			len = len < d->func_len ? len : d->func_len;
			memcpy(data, func, len);
			return len;
		}
		return -EPIPE;
	case USB_REQ_SET_INTERFACE:
		if (value >= d->nalts)
			return -EPIPE;
		d->cur_alt = value;
		emu_log(ctx, "alt %u", value);
		return 0;
	case USB_REQ_GET_INTERFACE:
		data[0] = d->cur_alt;
		return len ? 1 : 0;
	case USB_REQ_GET_STATUS:
		memset(data, 0, len < 2 ? len : 2);
		return len < 2 ? len : 2;
	default:
		return -EPIPE;
	}
}

static void dfu_connect(struct emu_ctx *ctx)
{
	/* a bus reset selects alt 0 again; the DFU state survives */
	dfu(ctx)->cur_alt = 0;
}

static const struct emu_gfs_ops dfu_gfs_ops = {
	.descs = dfu_descs,
	.setup = dfu_setup,
	.connect = dfu_connect,
};

static int dfu_run(struct emu_ctx *ctx, const char *udc, int sfd,
		   bool watch_stdin)
{
	struct dfu *d = dfu(ctx);

	/* a busy state from power-on: busy_polls replies, then ... */
	d->busy_left = d->busy_polls;
	d->after_busy = d->state == S_MANIFEST_SYNC ? S_IDLE : S_DNLOAD_IDLE;
	return emu_gadgetfs_run(ctx, &dfu_gfs_ops, udc, sfd, watch_stdin);
}

const struct emu_personality emu_stm32_dfu = {
	.name = "stm32-dfu",
	.vid = 0x0483,
	.pid = 0xdf11,
	.bcd_device = 0x2200,
	.max_speed = "full-speed",
	.max_power = 100,
	.priv_size = sizeof(struct dfu),
	.knobs = dfu_knobs,
	.init = dfu_init,
	.run = dfu_run,
};
