// SPDX-License-Identifier: GPL-2.0
/*
 * MediaTek personalities, shared part: the command loop after the sync
 * (identity, READ32, WRITE16/32), ep0, descriptors, deadlines (watchdog
 * reset, boot loop), changing identity, and the knob table.
 *
 * Command replies (mediatek.md section 3): the command byte is echoed
 * (except GET_BL_VER on a preloader and GET_VERSION on a BROM); u32
 * parameters are echoed field-wise once all 4 bytes arrived; status words
 * are u16 BE; an error in READ32/WRITE32 is one status word and nothing
 * else.  Unknown commands are echoed and ignored.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <endian.h>
#include <linux/usb/functionfs.h>

#include "mtk_emu.h"

#define USB_CDC_SET_LINE_CODING		0x20
#define USB_CDC_GET_LINE_CODING		0x21
#define USB_CDC_SET_CONTROL_LINE_STATE	0x22

/* a command's parameters are in flight: give up on them after this */
#define MTK_PARAM_TIMEOUT_MS	2000

static const struct emu_ident mtk_brom_ident = {
	.vid = 0x0e8d, .pid = 0x0003, .max_speed = "full-speed",
};

static const struct emu_ident mtk_pl_ident = {
	.vid = 0x0e8d, .pid = 0x2000, .max_speed = "high-speed",
	.manufacturer = "MediaTek", .product = "MT65xx Preloader",
};

/* ------------------------------------------------------------------ */
/* output                                                              */

int mtk_put(struct emu_ctx *ctx, const void *buf, size_t len)
{
	return emu_write(ctx, buf, len);
}

int mtk_put8(struct emu_ctx *ctx, uint8_t v)
{
	return emu_write(ctx, &v, 1);
}

int mtk_put16(struct emu_ctx *ctx, unsigned long v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	return emu_write(ctx, b, sizeof(b));
}

int mtk_put32(struct emu_ctx *ctx, unsigned long v)
{
	uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16),
			 (uint8_t)(v >> 8), (uint8_t)v };

	return emu_write(ctx, b, sizeof(b));
}

/* ------------------------------------------------------------------ */
/* life cycle                                                          */

int mtk_gone(struct emu_ctx *ctx, const char *why)
{
	emu_tx_wait_idle(ctx, 300);
	emu_unplug(ctx);
	emu_log(ctx, "gone %s", why);
	return MTK_GONE;
}

/* forget everything of the last appearance */
static void mtk_fresh(struct mtk *m)
{
	m->idx = 0;
	m->cmd_mode = false;
	m->hung = false;
	m->wdt_off = false;
	m->caught = false;
	m->tool_exists = false;
	m->line_state = 0;
	m->wdt_deadline = 0;
	m->nmem = 0;
	m->appeared_ns = emu_now_ns();
	m->enabled_ns = 0;
}

static int mtk_become(struct emu_ctx *ctx, struct mtk *m, enum mtk_mode mode,
		      unsigned long gap_ms)
{
	int err;

	m->mode = mode;
	err = emu_reenumerate(ctx, mode == MTK_MODE_BROM ? &m->brom_id :
				   &m->pl_id, (int)gap_ms);
	mtk_fresh(m);
	emu_log(ctx, "mode %s", mode == MTK_MODE_BROM ? "brom" : "preloader");
	return err ? err : MTK_NEXT;
}

/* a boot loop phase runs from the host's SET_CONFIGURATION on */
static uint64_t mtk_bootloop_end(const struct mtk *m)
{
	if (!m->bootloop_ms || !m->enabled_ns ||
	    (m->caught && !m->bootloop_hard))
		return 0;
	return m->enabled_ns + (uint64_t)m->bootloop_ms * 1000000ull;
}

int mtk_timeout(struct mtk *m, int cap_ms)
{
	uint64_t now = emu_now_ns(), dl = 0, b = mtk_bootloop_end(m);
	int ms;

	if (m->wdt_deadline)
		dl = m->wdt_deadline;
	if (b && (!dl || b < dl))
		dl = b;
	if (!dl)
		return cap_ms;
	ms = dl <= now ? 0 : (int)((dl - now + 999999) / 1000000);
	return cap_ms >= 0 && cap_ms < ms ? cap_ms : ms;
}

int mtk_deadlines(struct emu_ctx *ctx, struct mtk *m)
{
	uint64_t now = emu_now_ns(), b = mtk_bootloop_end(m);

	if (m->wdt_deadline && now >= m->wdt_deadline) {
		emu_log(ctx, "wdt-reset");
		m->wdt_deadline = 0;
		switch (m->wdt_reset_to) {
		case MTK_AFTER_BROM:
			return mtk_become(ctx, m, MTK_MODE_BROM,
					  m->reset_gap_ms);
		case MTK_AFTER_PRELOADER:
			return mtk_become(ctx, m, MTK_MODE_PRELOADER,
					  m->reset_gap_ms);
		case MTK_AFTER_GONE:
			return mtk_gone(ctx, "wdt-reset");
		}
	}
	if (b && now >= b) {
		emu_log(ctx, "bootloop reset");
		if (m->bootloop_left && !--m->bootloop_left)
			return mtk_gone(ctx, "bootloop-end");
		return mtk_become(ctx, m, m->mode == MTK_MODE_BROM ?
				  MTK_MODE_PRELOADER : MTK_MODE_BROM,
				  m->bootloop_gap_ms);
	}
	return MTK_CONT;
}

/* ------------------------------------------------------------------ */
/* the command loop                                                    */

/* read a big-endian field of @n bytes; -ETIMEDOUT abandons the command */
static int mtk_get(struct emu_ctx *ctx, unsigned int n, uint32_t *v)
{
	unsigned int i;
	int c;

	*v = 0;
	for (i = 0; i < n; i++) {
		c = emu_read_byte(ctx, MTK_PARAM_TIMEOUT_MS);
		if (c < 0)
			return c;
		*v = *v << 8 | (uint32_t)c;
	}
	return 0;
}

static int mtk_put_n(struct emu_ctx *ctx, unsigned int n, uint32_t v)
{
	return n == 2 ? mtk_put16(ctx, v) : mtk_put32(ctx, v);
}

static void mtk_mem_set(struct mtk *m, uint32_t addr, uint32_t val)
{
	unsigned int i;

	for (i = 0; i < m->nmem; i++) {
		if (m->mem[i].addr == addr) {
			m->mem[i].val = val;
			return;
		}
	}
	if (m->nmem < MTK_MEM_SLOTS) {
		m->mem[m->nmem].addr = addr;
		m->mem[m->nmem++].val = val;
	}
}

static uint32_t mtk_mem_get(const struct mtk *m, uint32_t addr)
{
	unsigned int i;

	for (i = 0; i < m->nmem; i++)
		if (m->mem[i].addr == addr)
			return m->mem[i].val;
	return 0;
}

/*
 * late=: hold the reply to command @c (or, with late=all, every reply of
 * the command loop, @param: a reply to a command's parameter) for
 * late_ms.  A single command's reply is late once: the host's retry of
 * it is answered at once.
 */
static int mtk_late(struct emu_ctx *ctx, struct mtk *m, int c, bool param)
{
	if (!m->late_ms || m->late_cmd == MTK_LATE_NONE)
		return 0;
	if (m->late_cmd != MTK_LATE_ALL &&
	    (param || m->late_cmd != c || m->late_done))
		return 0;
	m->late_done = true;
	emu_log(ctx, "fault late %02x%s %lu ms", c, param ? " param" : "",
		m->late_ms);
	return emu_sleep(ctx, (int)m->late_ms);
}

/* the watchdog MODE key 0x22 in the top byte, ENABLE (bit 0) clear */
static bool mtk_wdt_disables(uint32_t val, unsigned int width)
{
	if (width == 2)
		return (val >> 8) == 0x22 && !(val & 1);
	return (val >> 24) == 0x22 && !(val & 1);
}

/* D4 WRITE32 / D2 WRITE16 */
static int mtk_write_cmd(struct emu_ctx *ctx, struct mtk *m, uint8_t cmd)
{
	unsigned int width = cmd == 0xd2 ? 2 : 4, i;
	uint32_t addr, count, val;
	uint16_t status;
	int err;

	err = mtk_put8(ctx, cmd);
	if (!err && m->unplug_after == cmd) {
		emu_log(ctx, "fault unplug-after %02x", cmd);
		return mtk_gone(ctx, "unplug-after-echo");
	}
	if (!err)
		err = mtk_get(ctx, 4, &addr);
	if (!err)
		err = mtk_late(ctx, m, cmd, true);
	if (!err)
		err = mtk_put32(ctx, addr);
	if (!err)
		err = mtk_get(ctx, 4, &count);
	if (!err)
		err = mtk_late(ctx, m, cmd, true);
	if (!err)
		err = mtk_put32(ctx, count);
	if (err)
		return err;
	emu_log(ctx, "write%u %08x count %u", width * 8, addr, count);
	switch (m->wdt) {
	case MTK_WDT_HANG:
		emu_log(ctx, "fault write-hang");
		m->hung = true;
		return 0;
	case MTK_WDT_REFUSE:
		emu_log(ctx, "fault write-refused 1001");
		return mtk_put16(ctx, 0x1001);
	case MTK_WDT_MISALIGN:
		emu_log(ctx, "fault write-misaligned ffff");
		return mtk_put16(ctx, 0xffff);
	default:
		break;
	}
	if (addr % width)
		return mtk_put16(ctx, 0xffff);
	if (!count)
		return mtk_put16(ctx, 0xfffe);
	if (count > 64)
		return mtk_put16(ctx, 0xfffd);
	status = m->wdt == MTK_WDT_OK1 ? 0x0001 : 0x0000;
	err = mtk_put16(ctx, status);
	for (i = 0; !err && i < count; i++) {
		err = mtk_get(ctx, width, &val);
		if (!err)
			err = mtk_late(ctx, m, cmd, true);
		if (!err)
			err = mtk_put_n(ctx, width, val);
		if (err)
			break;
		emu_log(ctx, "write%u %08x=%0*x", width * 8, addr + i * width,
			(int)width * 2, val);
		mtk_mem_set(m, addr + i * width, val);
		if (i == 0 && mtk_wdt_disables(val, width)) {
			m->wdt_off = true;
			m->wdt_deadline = 0;
			emu_log(ctx, "wdt-off");
		}
	}
	return err ? err : mtk_put16(ctx, status);
}

/* D1 READ32 */
static int mtk_read_cmd(struct emu_ctx *ctx, struct mtk *m)
{
	uint32_t addr, count, i;
	int err;

	err = mtk_put8(ctx, 0xd1);
	if (!err && m->unplug_after == 0xd1) {
		emu_log(ctx, "fault unplug-after d1");
		return mtk_gone(ctx, "unplug-after-echo");
	}
	if (!err)
		err = mtk_get(ctx, 4, &addr);
	if (!err)
		err = mtk_put32(ctx, addr);
	if (!err)
		err = mtk_get(ctx, 4, &count);
	if (!err)
		err = mtk_put32(ctx, count);
	if (err)
		return err;
	emu_log(ctx, "read32 %08x count %u", addr, count);
	if (m->read32 == MTK_READ_ERR)
		return mtk_put16(ctx, 0x1000);
	if (m->read32 == MTK_READ_FFFF || addr % 4)
		return mtk_put16(ctx, 0xffff);
	if (!count)
		return mtk_put16(ctx, 0xfffe);
	if (count > 256)
		return mtk_put16(ctx, 0xfffd);
	err = mtk_put16(ctx, 0);
	for (i = 0; !err && i < count; i++)
		err = mtk_put32(ctx, mtk_mem_get(m, addr + 4 * i));
	return err ? err : mtk_put16(ctx, 0);
}

/* length u32, @len bytes, status */
static int mtk_blob(struct emu_ctx *ctx, const uint8_t *b, size_t len)
{
	int err = mtk_put32(ctx, len);

	if (!err)
		err = mtk_put(ctx, b, len);
	return err ? err : mtk_put16(ctx, 0);
}

static int mtk_command(struct emu_ctx *ctx, struct mtk *m, uint8_t c)
{
	bool brom = m->mode == MTK_MODE_BROM;
	bool old_pl = !brom && m->bl_ver < 3;
	int err;

	if (m->hung) {
		emu_log(ctx, "hung: ignored %02x", c);
		return 0;
	}
	err = mtk_late(ctx, m, c, false);
	if (err)
		return err;
	switch (c) {
	case 0xfe:	/* GET_BL_VER: BROM echoes, preloader: version */
		return mtk_put8(ctx, brom ? 0xfe : (uint8_t)m->bl_ver);
	case 0xff:	/* GET_VERSION: BROM version, preloader echo */
		return mtk_put8(ctx, brom ? (uint8_t)m->brom_ver : 0xff);
	case 0xd1:
		return mtk_read_cmd(ctx, m);
	case 0xd2:
	case 0xd4:
		return mtk_write_cmd(ctx, m, c);
	}

	/* the rest start with the echo */
	err = mtk_put8(ctx, c);
	if (err)
		return err;
	if (m->unplug_after == c) {
		emu_log(ctx, "fault unplug-after %02x", c);
		return mtk_gone(ctx, "unplug-after-echo");
	}
	if (m->echo_only[c / 8] & 1u << (c % 8)) {
		emu_log(ctx, "fault echo-only %02x", c);
		return 0;
	}
	switch (c) {
	case 0xfd:	/* GET_HW_CODE */
		if (m->no_hw_code || m->legacy)
			return 0;
		err = mtk_put16(ctx, m->hw_code);
		return err ? err : mtk_put16(ctx, 0);
	case 0xfc:	/* GET_HW_SW_VER */
		if (m->legacy)
			return 0;
		err = mtk_put16(ctx, m->hw_subcode);
		if (!err)
			err = mtk_put16(ctx, m->hw_ver);
		if (!err)
			err = mtk_put16(ctx, m->sw_ver);
		return err ? err : mtk_put16(ctx, 0);
	case 0xd8:	/* GET_TARGET_CONFIG */
		if (m->legacy)
			return 0;
		err = mtk_put32(ctx, m->target_config);
		return err ? err : mtk_put16(ctx, 0);
	case 0xe1:	/* GET_ME_ID */
		if (m->legacy || m->no_ids || old_pl)
			return 0;
		return mtk_blob(ctx, m->me_id, sizeof(m->me_id));
	case 0xe7:	/* GET_SOC_ID */
		if (m->legacy || m->no_ids || old_pl)
			return 0;
		return mtk_blob(ctx, m->soc_id, sizeof(m->soc_id));
	case 0xfb:	/* GET_PL_CAP: preloader only, no status */
		if (brom || old_pl)
			return 0;
		err = mtk_put32(ctx, m->pl_cap0);
		return err ? err : mtk_put32(ctx, m->pl_cap1);
	}
	return 0;	/* unknown: echoed, ignored */
}

int mtk_command_loop(struct emu_ctx *ctx, struct mtk *m)
{
	int c, ret;

	for (;;) {
		ret = mtk_deadlines(ctx, m);
		if (ret != MTK_CONT)
			return ret;
		c = emu_read_byte(ctx, mtk_timeout(m, -1));
		if (c == -ETIMEDOUT)
			continue;
		if (c < 0)
			return c;
		ret = mtk_command(ctx, m, (uint8_t)c);
		if (ret == -ETIMEDOUT) {
			emu_log(ctx, "command %02x: parameters timed out", c);
			continue;
		}
		if (ret)	/* MTK_GONE is 0 only from mtk_gone(): check */
			return ret;
		if (!emu_plugged(ctx))
			return MTK_GONE;
	}
}

int mtk_serve(struct emu_ctx *ctx)
{
	struct mtk *m = emu_priv(ctx);
	int ret;

	if (!m->ids_known) {
		/* the identity we started with (--vid/--pid included) */
		if (m->mode == MTK_MODE_BROM)
			emu_ident_get(ctx, &m->brom_id);
		else
			emu_ident_get(ctx, &m->pl_id);
		m->ids_known = true;
	}
	m->appeared_ns = emu_now_ns();
	for (;;) {
		if (m->mode == MTK_MODE_BROM)
			ret = mtk_brom_run(ctx, m);
		else
			ret = mtk_preloader_run(ctx, m);
		if (ret != MTK_NEXT)
			return ret;
	}
}

/* ------------------------------------------------------------------ */
/* ep0, descriptors                                                    */

int mtk_setup(struct emu_ctx *ctx, const struct usb_ctrlrequest *req,
	      uint8_t *data, size_t len)
{
	struct mtk *m = emu_priv(ctx);

	if ((req->bRequestType & USB_TYPE_MASK) != USB_TYPE_CLASS ||
	    (req->bRequestType & USB_RECIP_MASK) != USB_RECIP_INTERFACE)
		return -EOPNOTSUPP;
	switch (req->bRequest) {
	case USB_CDC_SET_LINE_CODING:
		if (req->bRequestType & USB_DIR_IN ||
		    le16toh(req->wLength) != sizeof(m->line_coding))
			return -EINVAL;
		if (data && len == sizeof(m->line_coding)) {
			memcpy(m->line_coding, data, len);
			/* the preloader's tool_exists: READY from now on */
			m->tool_exists = true;
			emu_log(ctx, "line-coding %u",
				data[0] | data[1] << 8 | data[2] << 16 |
				(unsigned int)data[3] << 24);
		}
		return 0;
	case USB_CDC_GET_LINE_CODING:
		if (!(req->bRequestType & USB_DIR_IN) || len < 7)
			return -EINVAL;
		memcpy(data, m->line_coding, sizeof(m->line_coding));
		return sizeof(m->line_coding);
	case USB_CDC_SET_CONTROL_LINE_STATE:
		if (req->bRequestType & USB_DIR_IN || req->wLength)
			return -EINVAL;
		m->line_state = le16toh(req->wValue);
		emu_log(ctx, "line-state %04x", m->line_state);
		return 0;
	}
	return -EOPNOTSUPP;
}

void mtk_enable(struct emu_ctx *ctx)
{
	struct mtk *m = emu_priv(ctx);

	if (!m->enabled_ns)
		m->enabled_ns = emu_now_ns();
}

static uint8_t *put_intf(uint8_t *p, uint8_t num, uint8_t neps, uint8_t cls,
			 uint8_t sub, uint8_t proto)
{
	*p++ = USB_DT_INTERFACE_SIZE;
	*p++ = USB_DT_INTERFACE;
	*p++ = num;
	*p++ = 0;
	*p++ = neps;
	*p++ = cls;
	*p++ = sub;
	*p++ = proto;
	*p++ = 0;
	return p;
}

static uint8_t *put_ep(uint8_t *p, uint8_t addr, uint8_t attr, uint16_t mps,
		       uint8_t interval)
{
	*p++ = USB_DT_ENDPOINT_SIZE;
	*p++ = USB_DT_ENDPOINT;
	*p++ = addr;
	*p++ = attr;
	*p++ = mps & 0xff;
	*p++ = mps >> 8;
	*p++ = interval;
	return p;
}

/*
 * Composite preloader (0e8d:6000, 1004:6000): CDC comm #0, a vendor
 * interface #1 without endpoints (stands in for whatever else the
 * composite carries), CDC data #2.  No functional descriptors: FunctionFS
 * on 6.1 rejects them.
 */
static int mtk_composite_descs(struct emu_ctx *ctx, uint8_t comm_proto,
			       void *buf, size_t len)
{
	const size_t per_speed = 3 * USB_DT_INTERFACE_SIZE +
				 3 * USB_DT_ENDPOINT_SIZE;
	struct usb_functionfs_descs_head_v2 *h = buf;
	uint32_t cnt = htole32(6), total;
	uint8_t *p = buf;
	int hs;

	total = sizeof(*h) + 2 * sizeof(cnt) + 2 * per_speed;
	if (len < total)
		return -ENOSPC;
	h->magic = htole32(FUNCTIONFS_DESCRIPTORS_MAGIC_V2);
	h->length = htole32(total);
	h->flags = htole32(FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC);
	p += sizeof(*h);
	memcpy(p, &cnt, sizeof(cnt));
	p += sizeof(cnt);
	memcpy(p, &cnt, sizeof(cnt));
	p += sizeof(cnt);
	for (hs = 0; hs < 2; hs++) {
		uint16_t bulk = hs ? 512 : 64;

		p = put_intf(p, 0, 1, USB_CLASS_COMM, 2, comm_proto);
		p = put_ep(p, USB_DIR_IN | 3, USB_ENDPOINT_XFER_INT, 64, 0x10);
		p = put_intf(p, 1, 0, USB_CLASS_VENDOR_SPEC, 0, 0);
		p = put_intf(p, 2, 2, USB_CLASS_CDC_DATA, 0, 0);
		p = put_ep(p, USB_DIR_OUT | 1, USB_ENDPOINT_XFER_BULK, bulk, 0);
		p = put_ep(p, USB_DIR_IN | 1, USB_ENDPOINT_XFER_BULK, bulk, 0);
	}
	/* epfiles in order of appearance: 1 interrupt, 2 OUT, 3 IN */
	emu_set_stream(ctx, 3, 2, 64, 512);
	return (int)(p - (uint8_t *)buf);
}

/*
 * no_cdc_data: CDC comm #0 and the bulk pair on a vendor-specific
 * interface #1, no interface of class CDC data (and, as everywhere here,
 * no union descriptor).
 */
static int mtk_no_cdc_data_descs(struct emu_ctx *ctx, uint8_t comm_proto,
				 void *buf, size_t len)
{
	const size_t per_speed = 2 * USB_DT_INTERFACE_SIZE +
				 3 * USB_DT_ENDPOINT_SIZE;
	struct usb_functionfs_descs_head_v2 *h = buf;
	uint32_t cnt = htole32(5), total;
	uint8_t *p = buf;
	int hs;

	total = sizeof(*h) + 2 * sizeof(cnt) + 2 * per_speed;
	if (len < total)
		return -ENOSPC;
	h->magic = htole32(FUNCTIONFS_DESCRIPTORS_MAGIC_V2);
	h->length = htole32(total);
	h->flags = htole32(FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC);
	p += sizeof(*h);
	memcpy(p, &cnt, sizeof(cnt));
	p += sizeof(cnt);
	memcpy(p, &cnt, sizeof(cnt));
	p += sizeof(cnt);
	for (hs = 0; hs < 2; hs++) {
		uint16_t bulk = hs ? 512 : 64;

		p = put_intf(p, 0, 1, USB_CLASS_COMM, 2, comm_proto);
		p = put_ep(p, USB_DIR_IN | 3, USB_ENDPOINT_XFER_INT, 64, 0x10);
		p = put_intf(p, 1, 2, USB_CLASS_VENDOR_SPEC, 0, 0);
		p = put_ep(p, USB_DIR_OUT | 1, USB_ENDPOINT_XFER_BULK, bulk, 0);
		p = put_ep(p, USB_DIR_IN | 1, USB_ENDPOINT_XFER_BULK, bulk, 0);
	}
	/* epfiles in order of appearance: 1 interrupt, 2 OUT, 3 IN */
	emu_set_stream(ctx, 3, 2, 64, 512);
	return (int)(p - (uint8_t *)buf);
}

int mtk_descs(struct emu_ctx *ctx, void *buf, size_t len)
{
	struct mtk *m = emu_priv(ctx);
	struct emu_cdc_layout l = {
		.data_first = m->data_first,
		/* BROM 02/02/00; preloader 02/02/01 (AT) */
		.comm_protocol = m->mode == MTK_MODE_BROM ? 0 : 1,
		.intr_mps = 64,
		.intr_interval = 0x10,
		.fs_bulk_mps = 64,
		.hs_bulk_mps = 512,
	};

	if (m->data_iface == 2)
		return mtk_composite_descs(ctx, l.comm_protocol, buf, len);
	if (m->no_cdc_data)
		return mtk_no_cdc_data_descs(ctx, l.comm_protocol, buf, len);
	return emu_cdc_descs(ctx, &l, buf, len);
}

/* ------------------------------------------------------------------ */
/* defaults and knobs                                                  */

void mtk_init_common(struct emu_ctx *ctx, struct mtk *m, enum mtk_mode mode)
{
	/* 921600 8N1, little-endian dwDTERate */
	static const uint8_t lc[7] = { 0x00, 0x10, 0x0e, 0x00, 0, 0, 8 };
	uint64_t x;
	size_t i;

	m->mode = mode;
	m->brom_id = mtk_brom_ident;
	m->pl_id = mtk_pl_ident;
	memcpy(m->line_coding, lc, sizeof(lc));
	m->hw_code = 0x0766;		/* MT6765 */
	m->hw_subcode = 0x8a00;
	m->hw_ver = 0xca00;
	m->sw_ver = 0x0000;
	m->brom_ver = 0x05;
	m->target_config = mode == MTK_MODE_BROM ? 0x000000e7 : 0;
	m->bl_ver = 3;
	m->pl_cap0 = 0x00000007;	/* XFLASH | MEID | SOCID */
	m->pl_cap1 = 0;
	/* an own stream from --seed: emu_rand()'s garbage stays as it was */
	x = emu_seed(ctx) * 0x9E3779B97F4A7C15ull + 0x4d544bull;
	for (i = 0; i < sizeof(m->me_id) + sizeof(m->soc_id); i++) {
		x ^= x >> 12;
		x ^= x << 25;
		x ^= x >> 27;
		if (!x)
			x = 1;
		if (i < sizeof(m->me_id))
			m->me_id[i] = (uint8_t)((x * 0x2545F4914F6CDD1Dull) >> 56);
		else
			m->soc_id[i - sizeof(m->me_id)] =
				(uint8_t)((x * 0x2545F4914F6CDD1Dull) >> 56);
	}
	m->unplug_after = -1;
	m->late_cmd = MTK_LATE_NONE;
	m->reset_gap_ms = 200;
	m->window_ms = 2500;
	m->sync_window_ms = 300;
	m->banner_ms = 20;
	m->bootloop_gap_ms = 200;
}

#define MTK_PRIV	struct mtk *m = emu_priv(ctx)

#define MTK_FLAG_KNOB(fn, field)					\
static int fn(struct emu_ctx *ctx, const char *v)			\
{									\
	MTK_PRIV;							\
									\
	(void)v;							\
	m->field = true;						\
	return 0;							\
}

#define MTK_UINT_KNOB(fn, field, max)					\
static int fn(struct emu_ctx *ctx, const char *v)			\
{									\
	MTK_PRIV;							\
									\
	return emu_parse_uint(v, max, &m->field);			\
}

MTK_FLAG_KNOB(knob_no_hw_code, no_hw_code)
MTK_FLAG_KNOB(knob_legacy, legacy)
MTK_FLAG_KNOB(knob_no_ids, no_ids)
MTK_FLAG_KNOB(knob_tolerant, tolerant)
MTK_FLAG_KNOB(knob_banners, banners)
MTK_FLAG_KNOB(knob_no_banners, no_banners)
MTK_FLAG_KNOB(knob_sla, sla)
MTK_FLAG_KNOB(knob_token_keep, token_keep)
MTK_FLAG_KNOB(knob_unknown_token_logged, unknown_token_logged)
MTK_FLAG_KNOB(knob_mt6589, data_first)
MTK_FLAG_KNOB(knob_bootloop_hard, bootloop_hard)
MTK_FLAG_KNOB(knob_no_cdc_data, no_cdc_data)
MTK_UINT_KNOB(knob_hw_code, hw_code, 0xffff)
MTK_UINT_KNOB(knob_hw_subcode, hw_subcode, 0xffff)
MTK_UINT_KNOB(knob_hw_ver, hw_ver, 0xffff)
MTK_UINT_KNOB(knob_sw_ver, sw_ver, 0xffff)
MTK_UINT_KNOB(knob_brom_ver, brom_ver, 0xff)
MTK_UINT_KNOB(knob_target_config, target_config, 0xffffffff)
MTK_UINT_KNOB(knob_bl_ver, bl_ver, 0xff)
MTK_UINT_KNOB(knob_pl_cap0, pl_cap0, 0xffffffff)
MTK_UINT_KNOB(knob_pl_cap1, pl_cap1, 0xffffffff)
MTK_UINT_KNOB(knob_wdt_reset_ms, wdt_reset_ms, 600000)
MTK_UINT_KNOB(knob_reset_gap_ms, reset_gap_ms, 60000)
MTK_UINT_KNOB(knob_window_ms, window_ms, 600000)
MTK_UINT_KNOB(knob_sync_window_ms, sync_window_ms, 600000)
MTK_UINT_KNOB(knob_banner_ms, banner_ms, 60000)
MTK_UINT_KNOB(knob_token_at_ms, token_at_ms, 600000)
MTK_UINT_KNOB(knob_bootloop_gap_ms, bootloop_gap_ms, 60000)
MTK_UINT_KNOB(knob_bootloop_cycles, bootloop_left, 100000)

static int knob_synced(struct emu_ctx *ctx, const char *v)
{
	MTK_PRIV;

	(void)v;
	m->start_synced = true;
	m->cmd_mode = true;
	m->idx = 4;
	return 0;
}

static int parse_hex(const char *v, uint8_t *out, size_t len)
{
	size_t i;

	if (!v || strlen(v) != 2 * len)
		return -EINVAL;
	for (i = 0; i < len; i++) {
		unsigned int b;

		if (sscanf(v + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		out[i] = (uint8_t)b;
	}
	return 0;
}

static int knob_me_id(struct emu_ctx *ctx, const char *v)
{
	MTK_PRIV;

	return parse_hex(v, m->me_id, sizeof(m->me_id));
}

static int knob_soc_id(struct emu_ctx *ctx, const char *v)
{
	MTK_PRIV;

	return parse_hex(v, m->soc_id, sizeof(m->soc_id));
}

static int knob_wdt(struct emu_ctx *ctx, const char *v)
{
	static const char *const names[] = {
		[MTK_WDT_OK] = "ok", [MTK_WDT_OK1] = "ok1",
		[MTK_WDT_REFUSE] = "refuse", [MTK_WDT_MISALIGN] = "misalign",
		[MTK_WDT_HANG] = "hang",
	};
	MTK_PRIV;
	size_t i;

	for (i = 0; i < ARRAY_SIZE(names); i++) {
		if (!strcmp(v, names[i])) {
			m->wdt = (enum mtk_wdt_fault)i;
			return 0;
		}
	}
	return -EINVAL;
}

static int knob_read32(struct emu_ctx *ctx, const char *v)
{
	MTK_PRIV;

	if (!strcmp(v, "ok"))
		m->read32 = MTK_READ_OK;
	else if (!strcmp(v, "err"))
		m->read32 = MTK_READ_ERR;
	else if (!strcmp(v, "ffff"))
		m->read32 = MTK_READ_FFFF;
	else
		return -EINVAL;
	return 0;
}

static int knob_wdt_reset_to(struct emu_ctx *ctx, const char *v)
{
	MTK_PRIV;

	if (!strcmp(v, "brom"))
		m->wdt_reset_to = MTK_AFTER_BROM;
	else if (!strcmp(v, "preloader"))
		m->wdt_reset_to = MTK_AFTER_PRELOADER;
	else if (!strcmp(v, "gone"))
		m->wdt_reset_to = MTK_AFTER_GONE;
	else
		return -EINVAL;
	return 0;
}

static int knob_unplug_after(struct emu_ctx *ctx, const char *v)
{
	unsigned long c;
	MTK_PRIV;
	int err = emu_parse_uint(v, 0xff, &c);

	if (!err)
		m->unplug_after = (int)c;
	return err;
}

static int knob_late(struct emu_ctx *ctx, const char *v)
{
	unsigned long c;
	MTK_PRIV;
	int err;

	if (!strcmp(v, "all")) {
		m->late_cmd = MTK_LATE_ALL;
		return 0;
	}
	err = emu_parse_uint(v, 0xff, &c);
	if (!err)
		m->late_cmd = (int)c;
	return err;
}

MTK_UINT_KNOB(knob_late_ms, late_ms, 600000)

/* repeatable: each use adds a command */
static int knob_echo_only(struct emu_ctx *ctx, const char *v)
{
	unsigned long c;
	MTK_PRIV;
	int err = emu_parse_uint(v, 0xff, &c);

	if (!err)
		m->echo_only[c / 8] |= (uint8_t)(1u << (c % 8));
	return err;
}

/* 8 characters, or 16 hex digits (for "AT+GCAP\r" and the like) */
static int knob_token(struct emu_ctx *ctx, const char *v)
{
	MTK_PRIV;

	m->token[8] = '\0';
	if (v && strlen(v) == 8) {
		memcpy(m->token, v, 8);
		return 0;
	}
	return parse_hex(v, (uint8_t *)m->token, 8);
}

static int knob_data_iface(struct emu_ctx *ctx, const char *v)
{
	MTK_PRIV;
	int err = emu_parse_uint(v, 2, &m->data_iface);

	return err ? err : (m->data_iface == 1 ? -EINVAL : 0);
}

static int knob_bootloop(struct emu_ctx *ctx, const char *v)
{
	MTK_PRIV;

	m->bootloop_ms = 2000;
	return v ? emu_parse_uint(v, 600000, &m->bootloop_ms) : 0;
}

const struct emu_knob mtk_knobs[] = {
	/* identity */
	{ "already_synced", 0, "start in the command loop (echoes A0 0A 50 05)",
	  knob_synced },
	{ "hw_code", 1, "GET_HW_CODE value (default 0x0766)", knob_hw_code },
	{ "no_hw_code", 0, "FD is echoed, then nothing", knob_no_hw_code },
	{ "legacy", 0, "old chip: FD FC D8 E1 E7 are echoed, then nothing",
	  knob_legacy },
	{ "no_ids", 0, "E1/E7 are echoed, then nothing", knob_no_ids },
	{ "hw_subcode", 1, "GET_HW_SW_VER hw_subcode (default 0x8a00)",
	  knob_hw_subcode },
	{ "hw_ver", 1, "GET_HW_SW_VER hw_ver (default 0xca00)", knob_hw_ver },
	{ "sw_ver", 1, "GET_HW_SW_VER sw_ver (default 0x0000)", knob_sw_ver },
	{ "brom_ver", 1, "GET_VERSION reply of a BROM (default 0x05)",
	  knob_brom_ver },
	{ "target_config", 1,
	  "GET_TARGET_CONFIG value (default 0xe7 BROM, 0 preloader)",
	  knob_target_config },
	{ "bl_ver", 1,
	  "preloader GET_BL_VER (default 3; < 3: no E1/E7/FB, echo only)",
	  knob_bl_ver },
	{ "pl_cap0", 1, "GET_PL_CAP word 0 (default 7)", knob_pl_cap0 },
	{ "pl_cap1", 1, "GET_PL_CAP word 1 (default 0)", knob_pl_cap1 },
	{ "me_id", 1, "GET_ME_ID, 32 hex digits (default: seeded)",
	  knob_me_id },
	{ "soc_id", 1, "GET_SOC_ID, 64 hex digits (default: seeded)",
	  knob_soc_id },
	/* register access */
	{ "wdt", 1,
	  "WRITE16/32: ok | ok1 (status 0001) | refuse (1001 only) | misalign (ffff only) | hang",
	  knob_wdt },
	{ "read32", 1, "READ32: ok | err (1000 only) | ffff (ffff only)",
	  knob_read32 },
	{ "wdt_reset_ms", 1,
	  "BROM: reset N ms after the sync unless the watchdog was disabled",
	  knob_wdt_reset_ms },
	{ "wdt_reset_to", 1, "after that reset: brom (default) | preloader | gone",
	  knob_wdt_reset_to },
	{ "reset_gap_ms", 1, "off the bus for N ms on a reset (default 200)",
	  knob_reset_gap_ms },
	{ "unplug_after", 1,
	  "leave the bus right after echoing command byte N (e.g. 0xe1)",
	  knob_unplug_after },
	{ "late", 1,
	  "0xCC: the reply to command CC leaves late_ms late, once | all: every reply of the command loop does",
	  knob_late },
	{ "late_ms", 1, "how late the late= reply leaves (default 0: off)",
	  knob_late_ms },
	{ "echo_only", 1,
	  "command byte N is echoed, then nothing (repeatable, e.g. 0xfc)",
	  knob_echo_only },
	/* preloader */
	{ "tolerant", 0, "MT6765 preloader: an A0 mid-sync silently sets index 1",
	  knob_tolerant },
	{ "banners", 0, "READY banners while listening even without SET_LINE_CODING",
	  knob_banners },
	{ "no_banners", 0, "never send READY", knob_no_banners },
	{ "sla", 0, "META/factory tokens are answered METAFORB", knob_sla },
	{ "window_ms", 1, "usb_listen window (default 2500, 0 = forever)",
	  knob_window_ms },
	{ "sync_window_ms", 1, "sync deadline after the first A0 (default 300)",
	  knob_sync_window_ms },
	{ "banner_ms", 1, "listen loop period / READY interval (default 20)",
	  knob_banner_ms },
	{ "token", 1,
	  "8 bytes another program sends while listening: 8 characters or 16 hex digits",
	  knob_token },
	{ "token_keep", 0,
	  "bytes that did not start with A0 still count towards a token after an A0 transfer",
	  knob_token_keep },
	{ "unknown_token_logged", 0,
	  "an unknown token (not in the table, not AT+) is only logged: listening goes on",
	  knob_unknown_token_logged },
	{ "token_at_ms", 1, "when that token arrives after plug-in (default 0)",
	  knob_token_at_ms },
	{ "mt6589", 0, "MT6589 layout: data interface #0, comm #1",
	  knob_mt6589 },
	{ "data_iface", 1, "2: composite, CDC data at interface #2",
	  knob_data_iface },
	{ "no_cdc_data", 0,
	  "no CDC data interface: the bulk pair is on a vendor interface #1",
	  knob_no_cdc_data },
	/* boot loop */
	{ "bootloop", 2,
	  "alternate preloader/BROM every N ms (default 2000) until synced",
	  knob_bootloop },
	{ "bootloop_hard", 0, "the boot loop goes on after a sync too",
	  knob_bootloop_hard },
	{ "bootloop_gap_ms", 1, "off the bus between appearances (default 200)",
	  knob_bootloop_gap_ms },
	{ "bootloop_cycles", 1, "appearances before leaving for good (0 = forever)",
	  knob_bootloop_cycles },
	{ NULL, 0, NULL, NULL }
};
