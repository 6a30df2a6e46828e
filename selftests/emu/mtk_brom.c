// SPDX-License-Identifier: GPL-2.0
/*
 * MediaTek BootROM (0e8d:0003) personality for bsk-emu.
 *
 * Behaviour from /work/shared/protocols/mediatek.md: full-speed device, no
 * string descriptors, CDC comm (interrupt IN) + CDC data (bulk), no union
 * descriptor.  Sync A0 0A 50 05 -> 5F F5 AF FA, a wrong byte is answered
 * with byte+1 and restarts the sync; afterwards a command loop in which
 * unknown bytes are echoed.  All multi-byte fields are big-endian.
 */
#include <errno.h>
#include <string.h>
#include <endian.h>

#include "emu.h"

#define USB_CDC_SET_LINE_CODING		0x20
#define USB_CDC_GET_LINE_CODING		0x21
#define USB_CDC_SET_CONTROL_LINE_STATE	0x22

static const uint8_t brom_sync[4] = { 0xa0, 0x0a, 0x50, 0x05 };

struct brom {
	unsigned int idx;		/* sync index, 4 = command mode */
	bool no_hw_code;
	unsigned long hw_code;
	unsigned long hw_subcode, hw_ver, sw_ver;
	unsigned long brom_ver;
	unsigned long target_config;
	uint8_t line_coding[7];
	uint16_t line_state;
};

static int put_be16(struct emu_ctx *ctx, unsigned long v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return emu_write(ctx, b, sizeof(b));
}

static int put_be32(struct emu_ctx *ctx, unsigned long v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 8), (uint8_t)v };

	return emu_write(ctx, b, sizeof(b));
}

static int put_u8(struct emu_ctx *ctx, uint8_t v)
{
	return emu_write(ctx, &v, 1);
}

static int brom_sync_byte(struct emu_ctx *ctx, struct brom *b, uint8_t c)
{
	if (c == brom_sync[b->idx]) {
		b->idx++;
		if (b->idx == 4) {
			int err = put_u8(ctx, (uint8_t)~c);

			/* sync-done once the last reply is on its way */
			if (!err)
				err = emu_flush(ctx);
			emu_log(ctx, "sync-done");
			return err;
		}
		return put_u8(ctx, (uint8_t)~c);
	}
	b->idx = 0;
	return put_u8(ctx, (uint8_t)(c + 1));
}

static int brom_command(struct emu_ctx *ctx, struct brom *b, uint8_t c)
{
	int err;

	switch (c) {
	case 0xfd:	/* GET_HW_CODE */
		err = put_u8(ctx, c);
		if (err || b->no_hw_code)
			return err;
		err = put_be16(ctx, b->hw_code);
		return err ? err : put_be16(ctx, 0);
	case 0xfc:	/* GET_HW_SW_VER */
		err = put_u8(ctx, c);
		if (!err)
			err = put_be16(ctx, b->hw_subcode);
		if (!err)
			err = put_be16(ctx, b->hw_ver);
		if (!err)
			err = put_be16(ctx, b->sw_ver);
		return err ? err : put_be16(ctx, 0);
	case 0xfe:	/* GET_BL_VER: the BROM answers FE */
		return put_u8(ctx, 0xfe);
	case 0xff:	/* GET_VERSION */
		return put_u8(ctx, (uint8_t)b->brom_ver);
	case 0xd8:	/* GET_TARGET_CONFIG */
		err = put_u8(ctx, c);
		if (!err)
			err = put_be32(ctx, b->target_config);
		return err ? err : put_be16(ctx, 0);
	default:	/* unknown: echoed, ignored */
		return put_u8(ctx, c);
	}
}

static int brom_serve(struct emu_ctx *ctx)
{
	struct brom *b = emu_priv(ctx);
	int c, err;

	for (;;) {
		c = emu_read_byte(ctx, -1);
		if (c < 0)
			return c;
		if (b->idx < 4)
			err = brom_sync_byte(ctx, b, (uint8_t)c);
		else
			err = brom_command(ctx, b, (uint8_t)c);
		if (err)
			return err;
	}
}

static int brom_setup(struct emu_ctx *ctx, const struct usb_ctrlrequest *req,
		      uint8_t *data, size_t len)
{
	struct brom *b = emu_priv(ctx);

	if ((req->bRequestType & USB_TYPE_MASK) != USB_TYPE_CLASS ||
	    (req->bRequestType & USB_RECIP_MASK) != USB_RECIP_INTERFACE)
		return -EOPNOTSUPP;
	switch (req->bRequest) {
	case USB_CDC_SET_LINE_CODING:
		if (req->bRequestType & USB_DIR_IN ||
		    le16toh(req->wLength) != sizeof(b->line_coding))
			return -EINVAL;
		if (data && len == sizeof(b->line_coding)) {
			memcpy(b->line_coding, data, len);
			emu_log(ctx, "line-coding %u",
				data[0] | data[1] << 8 | data[2] << 16 |
				(unsigned int)data[3] << 24);
		}
		return 0;
	case USB_CDC_GET_LINE_CODING:
		if (!(req->bRequestType & USB_DIR_IN) || len < 7)
			return -EINVAL;
		memcpy(data, b->line_coding, sizeof(b->line_coding));
		return sizeof(b->line_coding);
	case USB_CDC_SET_CONTROL_LINE_STATE:
		if (req->bRequestType & USB_DIR_IN || req->wLength)
			return -EINVAL;
		b->line_state = le16toh(req->wValue);
		emu_log(ctx, "line-state %04x", b->line_state);
		return 0;
	}
	return -EOPNOTSUPP;
}

static int brom_descs(struct emu_ctx *ctx, void *buf, size_t len)
{
	static const struct emu_cdc_layout l = {
		.data_first = false,	/* comm #0, data #1 */
		.comm_protocol = 0,
		.intr_mps = 64,
		.intr_interval = 0x10,
		.fs_bulk_mps = 64,
		.hs_bulk_mps = 512,
	};

	return emu_cdc_descs(ctx, &l, buf, len);
}

static int brom_init(struct emu_ctx *ctx)
{
	struct brom *b = emu_priv(ctx);
	/* 921600 8N1, little-endian dwDTERate */
	static const uint8_t lc[7] = { 0x00, 0x10, 0x0e, 0x00, 0, 0, 8 };

	memcpy(b->line_coding, lc, sizeof(lc));
	b->hw_code = 0x0766;		/* MT6765 */
	b->hw_subcode = 0x8a00;
	b->hw_ver = 0xca00;
	b->sw_ver = 0x0000;
	b->brom_ver = 0x05;
	b->target_config = 0x000000e7;
	return 0;
}

/* knobs run after init(), so they override its defaults */
static int knob_synced(struct emu_ctx *ctx, const char *v)
{
	struct brom *b = emu_priv(ctx);

	(void)v;
	b->idx = 4;
	return 0;
}

static int knob_no_hw_code(struct emu_ctx *ctx, const char *v)
{
	struct brom *b = emu_priv(ctx);

	(void)v;
	b->no_hw_code = true;
	return 0;
}

#define BROM_UINT_KNOB(fn, field, max)					\
static int fn(struct emu_ctx *ctx, const char *v)			\
{									\
	struct brom *b = emu_priv(ctx);					\
									\
	return emu_parse_uint(v, max, &b->field);			\
}

BROM_UINT_KNOB(knob_hw_code, hw_code, 0xffff)
BROM_UINT_KNOB(knob_hw_subcode, hw_subcode, 0xffff)
BROM_UINT_KNOB(knob_hw_ver, hw_ver, 0xffff)
BROM_UINT_KNOB(knob_sw_ver, sw_ver, 0xffff)
BROM_UINT_KNOB(knob_brom_ver, brom_ver, 0xff)
BROM_UINT_KNOB(knob_target_config, target_config, 0xffffffff)

static const struct emu_knob brom_knobs[] = {
	{ "already_synced", 0, "start in the command loop (echoes A0 0A 50 05)",
	  knob_synced },
	{ "hw_code", 1, "GET_HW_CODE value (default 0x0766)", knob_hw_code },
	{ "no_hw_code", 0, "legacy chip: FD is echoed, then nothing",
	  knob_no_hw_code },
	{ "hw_subcode", 1, "GET_HW_SW_VER hw_subcode (default 0x8a00)",
	  knob_hw_subcode },
	{ "hw_ver", 1, "GET_HW_SW_VER hw_ver (default 0xca00)", knob_hw_ver },
	{ "sw_ver", 1, "GET_HW_SW_VER sw_ver (default 0x0000)", knob_sw_ver },
	{ "brom_ver", 1, "GET_VERSION reply (default 0x05)", knob_brom_ver },
	{ "target_config", 1, "GET_TARGET_CONFIG value (default 0x000000e7)",
	  knob_target_config },
	{ NULL, 0, NULL, NULL }
};

const struct emu_personality emu_mtk_brom = {
	.name = "mtk-brom",
	.vid = 0x0e8d,
	.pid = 0x0003,
	.bcd_device = 0x0100,
	.dev_class = 0x02,
	.max_speed = "full-speed",
	.max_power = 500,
	.priv_size = sizeof(struct brom),
	.knobs = brom_knobs,
	.init = brom_init,
	.descs = brom_descs,
	.setup = brom_setup,
	.serve = brom_serve,
};
