// SPDX-License-Identifier: GPL-2.0
/*
 * MediaTek Preloader VCOM (0e8d:2000) personality for bsk-emu.
 *
 * From /work/shared/protocols/mediatek.md sections 1.2, 2.1, 2.3, 5 and
 * scenarios 3-9 and 12 (MediaTek preloader sources PL89/PL65):
 *
 * - high-speed, "MediaTek" / "MT65xx Preloader", CDC comm 02/02/01 #0 and
 *   CDC data #1 (mt6589: data #0, comm #1; data_iface=2: composite with
 *   the data interface at #2).  No union descriptor: FunctionFS cannot
 *   carry one.
 * - usb_listen: a loop of ~20 ms.  Once the host sent SET_LINE_CODING
 *   (tool_exists) every iteration sends "READY" as its own packet and
 *   waits up to 300 ms for the host to take it.  A host transfer whose
 *   first byte is A0 starts usbdl_handler: that whole transfer is
 *   swallowed, and the sync must then complete within 300 ms, else back
 *   to listening.  Other bytes collect into an 8-byte mode token.  No A0
 *   and no token within the window (2500 ms): the preloader leaves the
 *   bus and boots on.
 * - the sync: the expected byte -> its complement; any other byte ->
 *   byte + 1 and index 0; "tolerant" (MT6765): an A0 at index > 0 sets
 *   index 1 without a reply.
 * - a token is answered per the table below, then the preloader waits up
 *   to 1 s for DTR to drop (recognised tokens), leaves the bus and boots
 *   on in that mode.
 * - after the sync: the command loop of mtk_common.c (GET_BL_VER -> 3, no
 *   echo; GET_VERSION echoed; GET_PL_CAP ...).
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "mtk_emu.h"

static const uint8_t pl_sync_seq[4] = { 0xa0, 0x0a, 0x50, 0x05 };

struct pl_token {
	const char *token;
	const char *reply;
	bool mode;		/* a boot mode: wait for DTR to drop */
	bool forbidden_by_sla;
};

/* PL65 core/inc/meta.h, core/main.c bldr_cmd_handler */
static const struct pl_token pl_tokens[] = {
	{ "METAMETA", "ATEMATEM", true, true },
	{ "ADVEMETA", "ATEMEVDX", true, true },
	{ "FACTFACT", "TCAFTCAF", true, true },
	{ "FACTORYM", "MYROTCAF", true, true },
	{ "FASTBOOT", "TOOBTSAF", true, false },
	{ "SWITCHMD", "DMHCTIWS", true, false },
	{ "AT+NBOOT", "AT+OK", true, false },
};

static void token_text(const uint8_t *t, char *out)
{
	int i;

	for (i = 0; i < 8; i++)
		out[i] = isprint(t[i]) ? (char)t[i] : '.';
	out[8] = '\0';
}

/* 8 bytes that did not start with A0: the window is over */
static int pl_token(struct emu_ctx *ctx, struct mtk *m, const uint8_t *t)
{
	const struct pl_token *known = NULL;
	const char *reply = NULL;
	char text[9];
	size_t i;
	int err;

	token_text(t, text);
	emu_log(ctx, "token %s", text);
	for (i = 0; i < ARRAY_SIZE(pl_tokens); i++)
		if (!memcmp(t, pl_tokens[i].token, 8))
			known = &pl_tokens[i];
	if (known)
		reply = m->sla && known->forbidden_by_sla ? "METAFORB" :
			known->reply;
	else if (!memcmp(t, "AT+", 3))
		reply = "AT+UNKONWN";	/* sic */
	else if (m->unknown_token_logged) {
		emu_log(ctx, "token %s ignored", text);
		return MTK_CONT;
	}
	if (reply) {
		/*
		 * The reply is flushed before anything else happens: the
		 * preloader's write blocks until the host reads it.  Bounded
		 * by the listen window (scaled by the tests), not by a fixed
		 * second a loaded TCG guest can overrun.
		 */
		err = mtk_put(ctx, reply, strlen(reply));
		if (!err)
			err = emu_tx_wait_idle(ctx, m->window_ms ?
					       (int)m->window_ms : 10000);
		if (err == -ETIMEDOUT)
			emu_log(ctx, "token reply not read by the host");
		else if (err)
			return err;
	}
	if (known && reply == known->reply) {
		/* usb_port_down: up to 1 s for the host to drop DTR */
		uint64_t end = emu_now_ns() + 1000000000ull;

		while ((m->line_state & 1) && emu_now_ns() < end) {
			err = emu_sleep(ctx, 10);
			if (err)
				return err;
		}
		emu_log(ctx, "boot-on %s", known->token);
	} else {
		emu_log(ctx, "boot-on normal");
	}
	return mtk_gone(ctx, "token");
}

/*
 * usbdl_check_start_command: 300 ms for the rest of the sync.  Returns 1
 * when synced, 0 when the window lapsed (back to listening), or -errno.
 */
static int pl_sync(struct emu_ctx *ctx, struct mtk *m)
{
	uint64_t end = emu_now_ns() + m->sync_window_ms * 1000000ull;
	int c, err;

	m->idx = 0;
	for (;;) {
		uint64_t now = emu_now_ns();

		if (now >= end) {
			emu_log(ctx, "sync-timeout at index %u", m->idx);
			m->idx = 0;
			return 0;
		}
		/* a boot loop reset does not wait for the sync window */
		if (!mtk_timeout(m, 1)) {
			m->idx = 0;
			return 0;
		}
		c = emu_read_byte(ctx, mtk_timeout(m, (int)((end - now + 999999) /
							     1000000)));
		if (c == -ETIMEDOUT)
			continue;
		if (c < 0)
			return c;
		if (c == pl_sync_seq[m->idx]) {
			err = mtk_put8(ctx, (uint8_t)~c);
			if (err)
				return err;
			if (++m->idx == 4) {
				err = emu_flush(ctx);
				emu_log(ctx, "sync-done");
				return err ? err : 1;
			}
		} else if (m->tolerant && c == 0xa0 && m->idx > 0) {
			/* "fault-tolerant additional start cmd" */
			emu_log(ctx, "tolerant a0 at index %u", m->idx);
			m->idx = 1;
		} else {
			m->idx = 0;
			err = mtk_put8(ctx, (uint8_t)(c + 1));
			if (err)
				return err;
		}
	}
}

static bool pl_banners(const struct mtk *m)
{
	return !m->no_banners && (m->tool_exists || m->banners);
}

/*
 * One READY, as its own packet; usbdl_flush waits up to 300 ms for the
 * host to take it.  A banner the host never took still sits in the
 * endpoint's FIFO: no new one is queued behind it.
 */
static int pl_banner(struct emu_ctx *ctx)
{
	int err = emu_tx_wait_idle(ctx, 0);

	if (err == -ETIMEDOUT)
		return 0;

	if (!err)
		err = emu_write(ctx, "READY", 5);
	if (!err)
		err = emu_flush(ctx);
	if (!err) {
		err = emu_tx_wait_idle(ctx, 300);
		if (err == -ETIMEDOUT) {
			emu_log(ctx, "usbdl_flush timeout");
			err = 0;
		}
	}
	return err;
}

static uint64_t ms_after(uint64_t t0, unsigned long ms)
{
	return t0 + (uint64_t)ms * 1000000ull;
}

/* usb_listen, then the command loop once synced */
int mtk_preloader_run(struct emu_ctx *ctx, struct mtk *m)
{
	uint64_t t0, next_banner, window_end;
	bool token_due = m->token[0] != '\0';
	uint8_t tok[8], chunk[4096];
	unsigned int ntok = 0;
	int n, ret, i;

	if (m->cmd_mode)
		return mtk_command_loop(ctx, m);
	/* usb_listen starts once the host configured the device */
	while (!m->enabled_ns) {
		ret = mtk_deadlines(ctx, m);
		if (ret != MTK_CONT)
			return ret;
		ret = emu_sleep(ctx, 5);
		if (ret)
			return ret;
	}
	t0 = m->enabled_ns;
	next_banner = t0;
	window_end = m->window_ms ? ms_after(t0, m->window_ms) : 0;
	emu_log(ctx, "listen window %lu ms", m->window_ms);
	for (;;) {
		uint64_t now = emu_now_ns(), wake = 0;
		int timeout;

		ret = mtk_deadlines(ctx, m);
		if (ret != MTK_CONT)
			return ret;
		if (window_end && now >= window_end && !m->bootloop_ms) {
			emu_log(ctx, "listen timeout");
			return mtk_gone(ctx, "listen-timeout");
		}
		if (token_due && now >= ms_after(t0, m->token_at_ms)) {
			emu_log(ctx, "token from another program");
			token_due = false;
			ret = pl_token(ctx, m, (const uint8_t *)m->token);
			if (ret != MTK_CONT)
				return ret;
			continue;
		}
		if (pl_banners(m) && now >= next_banner) {
			ret = pl_banner(ctx);
			if (ret)
				return ret;
			next_banner = emu_now_ns() + m->banner_ms * 1000000ull;
		}

		/* sleep until the next thing to do, or host bytes */
		if (window_end && !m->bootloop_ms)
			wake = window_end;
		if (token_due && (!wake || ms_after(t0, m->token_at_ms) < wake))
			wake = ms_after(t0, m->token_at_ms);
		if (pl_banners(m) && (!wake || next_banner < wake))
			wake = next_banner;
		/* SET_LINE_CODING may start the banners: look every 20 ms */
		if (!pl_banners(m) && !m->no_banners &&
		    (!wake || ms_after(emu_now_ns(), 20) < wake))
			wake = ms_after(emu_now_ns(), 20);
		now = emu_now_ns();
		timeout = !wake ? -1 : wake <= now ? 0 :
			  (int)((wake - now + 999999) / 1000000);
		n = emu_read_chunk(ctx, chunk, sizeof(chunk),
				   mtk_timeout(m, timeout));
		if (n == -ETIMEDOUT)
			continue;
		if (n < 0)
			return n;

		if (chunk[0] != 0xa0) {
			for (i = 0; i < n && ntok < 8; i++)
				tok[ntok++] = chunk[i];
			emu_log(ctx, "listen: %d byte(s) collected, %u of 8",
				n, ntok);
			if (ntok < 8)
				continue;
			ntok = 0;
			ret = pl_token(ctx, m, tok);
			if (ret != MTK_CONT)
				return ret;
			continue;
		}

		/* usbdl_handler: this transfer is consumed, then the sync */
		emu_log(ctx, "listen: a0 starts the sync%s", n > 1 ?
			", rest of the transfer ignored" : "");
		/*
		 * Whether usb_listen forgets token bytes collected before
		 * an A0 is not in the sheet; token_keep plays the strict
		 * reading, where they still count.
		 */
		if (!m->token_keep)
			ntok = 0;
		ret = pl_sync(ctx, m);
		if (ret < 0)
			return ret;
		if (ret == 1) {
			m->cmd_mode = true;
			m->caught = true;
			return mtk_command_loop(ctx, m);
		}
		next_banner = emu_now_ns();	/* banners resume */
	}
}

static int pl_init(struct emu_ctx *ctx)
{
	mtk_init_common(ctx, emu_priv(ctx), MTK_MODE_PRELOADER);
	return 0;
}

const struct emu_personality emu_mtk_preloader = {
	.name = "mtk-preloader",
	.vid = 0x0e8d,
	.pid = 0x2000,
	.bcd_device = 0x0100,
	.dev_class = 0x02,
	.max_speed = "high-speed",
	.manufacturer = "MediaTek",
	.product = "MT65xx Preloader",
	.max_power = 500,
	.priv_size = sizeof(struct mtk),
	.knobs = mtk_knobs,
	.init = pl_init,
	.descs = mtk_descs,
	.setup = mtk_setup,
	.enable = mtk_enable,
	.serve = mtk_serve,
};
