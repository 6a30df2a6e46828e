/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Shared state of the MediaTek personalities (mtk-brom, mtk-preloader).
 *
 * One device can change what it is while the emulator runs (a watchdog
 * reset brings a BROM back as a preloader, a boot loop alternates both),
 * so both personalities share this state, the knob table and the serve
 * loop in mtk_common.c; mtk_brom.c and mtk_preloader.c hold the part of
 * the protocol before the command loop.
 *
 * Facts: /work/shared/protocols/mediatek.md (sections 2, 3, 5 and the test
 * scenarios at its end).  All multi-byte fields are big-endian.
 */
#ifndef BSK_EMU_MTK_H
#define BSK_EMU_MTK_H

#include "emu.h"

/* serve helpers return these (>= 0) or a negative errno */
#define MTK_GONE	0	/* left the bus for good: the emulator ends */
#define MTK_NEXT	1	/* re-enumerated: run the new mode */
#define MTK_CONT	2	/* nothing happened, go on */

enum mtk_mode { MTK_MODE_BROM, MTK_MODE_PRELOADER };

enum mtk_wdt_fault {
	MTK_WDT_OK,		/* status 0000 twice */
	MTK_WDT_OK1,		/* status 0001 twice (BROM style) */
	MTK_WDT_REFUSE,		/* status1 1001 only */
	MTK_WDT_MISALIGN,	/* status1 FFFF only */
	MTK_WDT_HANG,		/* nothing after the count echo, deaf after */
};

enum mtk_read_fault {
	MTK_READ_OK,
	MTK_READ_ERR,		/* status 1000 only */
	MTK_READ_FFFF,		/* status FFFF only */
};

enum mtk_after { MTK_AFTER_BROM, MTK_AFTER_PRELOADER, MTK_AFTER_GONE };

#define MTK_MEM_SLOTS	16

/* late=: no late reply; every reply of the command loop */
#define MTK_LATE_NONE	(-1)
#define MTK_LATE_ALL	0x100

struct mtk {
	enum mtk_mode mode;
	struct emu_ident brom_id, pl_id;	/* identities to morph into */
	bool ids_known;

	/* per appearance on the bus */
	unsigned int idx;		/* sync index */
	bool cmd_mode;			/* in the command loop */
	bool hung;			/* deaf after a hang fault */
	bool wdt_off;			/* a watchdog write was accepted */
	bool caught;			/* synced: a boot loop stops */
	bool tool_exists;		/* SET_LINE_CODING seen (preloader) */
	uint64_t appeared_ns;		/* plugged in at */
	uint64_t enabled_ns;		/* first configured at, 0 = not yet */
	uint64_t wdt_deadline;		/* ns, 0 = none */
	uint8_t line_coding[7];
	uint16_t line_state;

	/* identity */
	unsigned long hw_code, hw_subcode, hw_ver, sw_ver;
	unsigned long brom_ver, target_config, bl_ver;
	unsigned long pl_cap0, pl_cap1;
	uint8_t me_id[16], soc_id[32];
	bool no_hw_code;		/* FD: echo, then silence */
	bool legacy;			/* FD FC D8 E1 E7: echo only */
	bool no_ids;			/* E1 E7: echo only */

	/* faults */
	bool start_synced;		/* already_synced */
	enum mtk_wdt_fault wdt;
	enum mtk_read_fault read32;
	unsigned long wdt_reset_ms;	/* 0 = no watchdog */
	enum mtk_after wdt_reset_to;
	unsigned long reset_gap_ms;
	int unplug_after;		/* command byte, -1 = none */
	int late_cmd;			/* MTK_LATE_*, or the command byte */
	unsigned long late_ms;		/* how late that reply leaves */
	bool late_done;			/* the one late reply went out */
	uint8_t echo_only[32];		/* bit set: command only echoed */

	/* preloader */
	bool tolerant;			/* MT6765: mid-sync A0 -> index 1 */
	bool banners;			/* READY without SET_LINE_CODING */
	bool no_banners;
	bool sla;			/* META/factory tokens forbidden */
	bool token_keep;		/* an A0 transfer keeps token bytes */
	bool unknown_token_logged;	/* unknown tokens: logged, listen on */
	unsigned long window_ms;	/* usb_listen window, 0 = forever */
	unsigned long sync_window_ms;	/* after the first A0 */
	unsigned long banner_ms;	/* listen loop period */
	char token[9];			/* injected token, "" = none */
	unsigned long token_at_ms;
	bool data_first;		/* MT6589 layout: data #0, comm #1 */
	unsigned long data_iface;	/* 2: composite, data at #2 */
	bool no_cdc_data;		/* bulk pair on a vendor interface */

	/* boot loop */
	unsigned long bootloop_ms;	/* 0 = off */
	unsigned long bootloop_gap_ms;
	unsigned long bootloop_left;	/* appearances left, 0 = forever */
	bool bootloop_hard;		/* a sync does not stop it */

	/* memory written by WRITE16/32, read back by READ32 */
	struct { uint32_t addr, val; } mem[MTK_MEM_SLOTS];
	unsigned int nmem;
};

extern const struct emu_knob mtk_knobs[];

/* mtk_common.c */
void mtk_init_common(struct emu_ctx *ctx, struct mtk *m, enum mtk_mode mode);
int mtk_serve(struct emu_ctx *ctx);
int mtk_setup(struct emu_ctx *ctx, const struct usb_ctrlrequest *req,
	      uint8_t *data, size_t len);
int mtk_descs(struct emu_ctx *ctx, void *buf, size_t len);
void mtk_enable(struct emu_ctx *ctx);
int mtk_put8(struct emu_ctx *ctx, uint8_t v);
int mtk_put16(struct emu_ctx *ctx, unsigned long v);
int mtk_put32(struct emu_ctx *ctx, unsigned long v);
int mtk_put(struct emu_ctx *ctx, const void *buf, size_t len);
/* ms until the next deadline of this appearance (-1: none) */
int mtk_timeout(struct mtk *m, int cap_ms);
/* act on an expired deadline: MTK_CONT, MTK_NEXT, MTK_GONE or -errno */
int mtk_deadlines(struct emu_ctx *ctx, struct mtk *m);
/* the command loop (both modes); returns like mtk_deadlines() */
int mtk_command_loop(struct emu_ctx *ctx, struct mtk *m);
/* leave the bus for good (logs why) */
int mtk_gone(struct emu_ctx *ctx, const char *why);

/* mtk_brom.c / mtk_preloader.c: one appearance on the bus */
int mtk_brom_run(struct emu_ctx *ctx, struct mtk *m);
int mtk_preloader_run(struct emu_ctx *ctx, struct mtk *m);

#endif /* BSK_EMU_MTK_H */
