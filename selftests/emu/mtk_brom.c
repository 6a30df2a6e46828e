// SPDX-License-Identifier: GPL-2.0
/*
 * MediaTek BootROM (0e8d:0003) personality for bsk-emu.
 *
 * Behaviour from /work/shared/protocols/mediatek.md: full-speed device, no
 * string descriptors, CDC comm (interrupt IN) + CDC data (bulk), no union
 * descriptor.  Sync A0 0A 50 05 -> 5F F5 AF FA, a wrong byte is answered
 * with byte+1 and restarts the sync; afterwards the command loop of
 * mtk_common.c, in which unknown bytes are echoed.  With wdt_reset_ms the
 * watchdog resets the SoC that long after the sync unless a WRITE16/32
 * disabled it (scenario 16).
 */
#include <errno.h>

#include "mtk_emu.h"

static const uint8_t brom_sync[4] = { 0xa0, 0x0a, 0x50, 0x05 };

/* one byte of the sync; true once the last reply is on its way */
static int brom_sync_byte(struct emu_ctx *ctx, struct mtk *m, uint8_t c,
			  bool *done)
{
	int err;

	*done = false;
	if (c != brom_sync[m->idx]) {
		m->idx = 0;
		return mtk_put8(ctx, (uint8_t)(c + 1));
	}
	err = mtk_put8(ctx, (uint8_t)~c);
	if (++m->idx < 4 || err)
		return err;
	/* sync-done once the last reply is on its way */
	err = emu_flush(ctx);
	emu_log(ctx, "sync-done");
	*done = true;
	return err;
}

int mtk_brom_run(struct emu_ctx *ctx, struct mtk *m)
{
	bool done;
	int c, ret;

	while (!m->cmd_mode) {
		ret = mtk_deadlines(ctx, m);
		if (ret != MTK_CONT)
			return ret;
		c = emu_read_byte(ctx, mtk_timeout(m, -1));
		if (c == -ETIMEDOUT)
			continue;
		if (c < 0)
			return c;
		ret = brom_sync_byte(ctx, m, (uint8_t)c, &done);
		if (ret)
			return ret;
		if (!done)
			continue;
		m->cmd_mode = true;
		m->caught = true;
		if (m->wdt_reset_ms)
			m->wdt_deadline = emu_now_ns() +
					  m->wdt_reset_ms * 1000000ull;
	}
	return mtk_command_loop(ctx, m);
}

static int brom_init(struct emu_ctx *ctx)
{
	mtk_init_common(ctx, emu_priv(ctx), MTK_MODE_BROM);
	return 0;
}

const struct emu_personality emu_mtk_brom = {
	.name = "mtk-brom",
	.vid = 0x0e8d,
	.pid = 0x0003,
	.bcd_device = 0x0100,
	.dev_class = 0x02,
	.max_speed = "full-speed",
	.max_power = 500,
	.priv_size = sizeof(struct mtk),
	.knobs = mtk_knobs,
	.init = brom_init,
	.descs = mtk_descs,
	.setup = mtk_setup,
	.enable = mtk_enable,
	.serve = mtk_serve,
};
