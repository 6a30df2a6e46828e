// SPDX-License-Identifier: GPL-2.0
/*
 * "chaos": a device that answers with seeded nonsense, for the device-side
 * fuzzing of issue 6 (selftests/tests/chaos.c drives it).
 *
 * It looks like a MediaTek BROM (0e8d:0003, CDC comm + data; --vid/--pid
 * make it a preloader 0e8d:2000 or, with proto=stm32, a CDC-ACM bridge
 * 0483:5740) and plays that protocol's start faithfully enough for a
 * handshake to get somewhere: MTK, the sync A0 0A 50 05 -> 5F F5 AF FA,
 * then every byte echoed with now and then two more random bytes (a
 * status, a value); STM32, 0x7f -> ACK, a command pair cmd, ~cmd -> ACK,
 * a random length and payload, ACK.  Between that, per bulk OUT transfer
 * it receives, a seeded choice at the current chaos level:
 *
 *   random bytes of a random length (up to three packets), the faithful
 *   reply cut into random packets, zero-length packets, the reply cut
 *   short or with a byte flipped, a delay (up to max_delay_ms) first, no
 *   reply, trailing garbage, the reply twice, bulk IN stalled, the cable
 *   pulled and plugged again 20..320 ms later (re-enumeration).
 *
 * The level (per mille of transfers that get chaos: 0, 50, 200, 500 or
 * 1000) changes every 1..48 transfers, so some handshakes meet a clean
 * device, most a device that is wrong now and then, some pure noise.
 * ep0 class requests are ACKed, IN ones get random bytes; one in 50 is
 * stalled.  Every choice is logged ("chaos <what>"), and the stream of
 * choices is a function of --seed and the host's transfers.
 *
 * Knobs: proto=mtk|stm32, max_delay_ms=N (500), no_stall, no_disconnect.
 */
#include <errno.h>
#include <string.h>
#include <endian.h>

#include "emu.h"

#define ACK	0x79
#define NACK	0x1f

struct chaos {
	uint64_t rng;
	bool stm32;
	bool no_stall, no_disconnect;
	unsigned long max_delay_ms;
	unsigned int level;		/* per mille of transfers */
	unsigned int epoch;		/* transfers left at this level */
	/* MTK */
	unsigned int idx;		/* sync index */
	bool cmd_mode;
	/* STM32 */
	bool synced;
	int pending;			/* first byte of a command, or -1 */
	uint8_t line_coding[7];
};

static struct chaos *chaos(struct emu_ctx *ctx)
{
	return emu_priv(ctx);
}

static uint32_t rnd(struct chaos *c, uint32_t n)
{
	/* xorshift64*, its own stream (emu_rand() also feeds garbage=) */
	c->rng ^= c->rng >> 12;
	c->rng ^= c->rng << 25;
	c->rng ^= c->rng >> 27;
	return n ? (uint32_t)(((c->rng * 0x2545F4914F6CDD1Dull) >> 32) % n) : 0;
}

static void fill(struct chaos *c, uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b[i] = (uint8_t)rnd(c, 256);
}

/* The faithful reply to host byte @b, appended at @out + *n. */
static void faithful(struct chaos *c, uint8_t b, uint8_t *out, size_t *n)
{
	static const uint8_t sync[4] = { 0xa0, 0x0a, 0x50, 0x05 };

	if (c->stm32) {
		if (c->pending < 0 && b == 0x7f) {
			out[(*n)++] = c->synced ? NACK : ACK;
			c->synced = true;
		} else if (c->pending < 0) {
			c->pending = b;
		} else if (b == (uint8_t)~c->pending) {
			size_t len = rnd(c, 20);

			out[(*n)++] = ACK;
			out[(*n)++] = (uint8_t)len;
			fill(c, out + *n, len + 1);
			*n += len + 1;
			out[(*n)++] = ACK;
			c->pending = -1;
		} else {
			out[(*n)++] = NACK;
			c->pending = -1;
		}
		return;
	}
	if (c->cmd_mode) {
		out[(*n)++] = b;
		if (!rnd(c, 4)) {
			fill(c, out + *n, 2);
			*n += 2;
		}
		return;
	}
	if (b == sync[c->idx]) {
		out[(*n)++] = (uint8_t)~b;
		if (++c->idx == 4)
			c->cmd_mode = true;
		return;
	}
	c->idx = b == sync[0];
	out[(*n)++] = c->idx ? (uint8_t)~b : (uint8_t)(b + 1);
}

static void reset_protocol(struct chaos *c)
{
	c->idx = 0;
	c->cmd_mode = false;
	c->synced = false;
	c->pending = -1;
}

/* The faithful reply in packets of 1..mps bytes, maybe with a ZLP. */
static int write_split(struct emu_ctx *ctx, struct chaos *c,
		       const uint8_t *b, size_t n)
{
	int err = 0;

	while (n && !err) {
		size_t k = 1 + rnd(c, n < 64 ? n : 64);

		err = emu_write_packet(ctx, b, k);
		b += k;
		n -= k;
	}
	if (!err && !rnd(c, 3))
		err = emu_write_packet(ctx, b, 0);
	return err;
}

static int chaos_reply(struct emu_ctx *ctx, struct chaos *c, uint8_t *r,
		       size_t n)
{
	uint8_t junk[200];
	struct emu_ident id;
	size_t k;
	int what = rnd(c, 100), err, i;

	if (what < 25) {
		k = rnd(c, sizeof(junk) + 1);
		fill(c, junk, k);
		emu_log(ctx, "chaos random %zu", k);
		return emu_write(ctx, junk, k);
	}
	if (what < 40) {
		emu_log(ctx, "chaos split %zu", n);
		return write_split(ctx, c, r, n);
	}
	if (what < 50) {
		k = 1 + rnd(c, 3);
		emu_log(ctx, "chaos zlp %zu", k);
		for (i = 0; i < (int)k; i++) {
			err = emu_write_packet(ctx, r, 0);
			if (err)
				return err;
		}
		return emu_write(ctx, r, n);
	}
	if (what < 60) {
		if (n && rnd(c, 2)) {
			k = rnd(c, n);
			emu_log(ctx, "chaos short %zu of %zu", k, n);
			return emu_write(ctx, r, k);
		}
		if (n)
			r[rnd(c, n)] ^= (uint8_t)(1 + rnd(c, 255));
		emu_log(ctx, "chaos flip");
		return emu_write(ctx, r, n);
	}
	if (what < 72) {
		k = rnd(c, c->max_delay_ms + 1);
		emu_log(ctx, "chaos delay %zu", k);
		err = emu_sleep(ctx, (int)k);
		return err ? err : emu_write(ctx, r, n);
	}
	if (what < 84) {
		emu_log(ctx, "chaos silent %zu", n);
		return 0;
	}
	if (what < 90) {
		k = 1 + rnd(c, 64);
		fill(c, junk, k);
		emu_log(ctx, "chaos trailing %zu", k);
		err = emu_write(ctx, r, n);
		return err ? err : emu_write(ctx, junk, k);
	}
	if (what < 96 || (what < 98 && c->no_stall) ||
	    (what >= 98 && c->no_disconnect)) {
		emu_log(ctx, "chaos twice");
		err = emu_write(ctx, r, n);
		return err ? err : emu_write(ctx, r, n);
	}
	if (what < 98) {
		emu_log(ctx, "chaos stall");
		emu_stall_in(ctx);
		return 0;
	}
	k = 20 + rnd(c, 300);
	emu_log(ctx, "chaos disconnect %zu", k);
	emu_ident_get(ctx, &id);
	reset_protocol(c);
	return emu_reenumerate(ctx, &id, (int)k);
}

static int chaos_serve(struct emu_ctx *ctx)
{
	static const unsigned int levels[] = { 0, 50, 200, 500, 1000 };
	struct chaos *c = chaos(ctx);
	uint8_t in[512], r[512 * 4 + 64];
	int n, err;

	for (;;) {
		size_t rn = 0;

		n = emu_read_chunk(ctx, in, sizeof(in), -1);
		if (n == -ETIMEDOUT)
			continue;
		if (n < 0)
			return n;
		if (!c->epoch--) {
			c->level = levels[rnd(c, ARRAY_SIZE(levels))];
			c->epoch = rnd(c, 48);
			/* a new start, now and then (a reset device) */
			if (!rnd(c, 2))
				reset_protocol(c);
			emu_log(ctx, "chaos level %u for %u", c->level,
				c->epoch + 1);
		}
		for (int i = 0; i < n && rn < sizeof(r) - 32; i++)
			faithful(c, in[i], r, &rn);
		if (rnd(c, 1000) < c->level)
			err = chaos_reply(ctx, c, r, rn);
		else
			err = emu_write(ctx, r, rn);
		if (!err)
			err = emu_flush(ctx);
		if (err)
			return err;
	}
}

static int chaos_setup(struct emu_ctx *ctx, const struct usb_ctrlrequest *req,
		       uint8_t *data, size_t len)
{
	struct chaos *c = chaos(ctx);

	if ((req->bRequestType & USB_TYPE_MASK) != USB_TYPE_CLASS ||
	    (req->bRequestType & USB_RECIP_MASK) != USB_RECIP_INTERFACE)
		return -EOPNOTSUPP;
	/* OUT requests come twice (data NULL first): decide on the first */
	if (!(req->bRequestType & USB_DIR_IN) && data)
		return 0;
	if (!rnd(c, 50)) {
		emu_log(ctx, "chaos ep0-stall %02x", req->bRequest);
		return -EPIPE;
	}
	if (!(req->bRequestType & USB_DIR_IN))
		return 0;
	if (req->bRequest == 0x21 && len >= sizeof(c->line_coding)) {
		/* GET_LINE_CODING: mostly the truth */
		memcpy(data, c->line_coding, sizeof(c->line_coding));
		return sizeof(c->line_coding);
	}
	len = rnd(c, len + 1);
	fill(c, data, len);
	return (int)len;
}

static int chaos_descs(struct emu_ctx *ctx, void *buf, size_t len)
{
	const struct emu_cdc_layout l = {
		.comm_protocol = chaos(ctx)->stm32,
		.intr_mps = 64,
		.intr_interval = 0x10,
		.fs_bulk_mps = 64,
		.hs_bulk_mps = 512,
	};

	return emu_cdc_descs(ctx, &l, buf, len);
}

static int chaos_init(struct emu_ctx *ctx)
{
	static const uint8_t lc[7] = { 0x00, 0x10, 0x0e, 0x00, 0, 0, 8 };
	struct chaos *c = chaos(ctx);

	c->rng = emu_seed(ctx) * 0x9E3779B97F4A7C15ull + 0x632BE59BD9B4E019ull;
	if (!c->rng)
		c->rng = 1;
	c->max_delay_ms = 500;
	c->pending = -1;
	memcpy(c->line_coding, lc, sizeof(lc));
	return 0;
}

static int knob_proto(struct emu_ctx *ctx, const char *v)
{
	if (!strcmp(v, "mtk"))
		chaos(ctx)->stm32 = false;
	else if (!strcmp(v, "stm32"))
		chaos(ctx)->stm32 = true;
	else
		return -EINVAL;
	return 0;
}

static int knob_max_delay(struct emu_ctx *ctx, const char *v)
{
	return emu_parse_uint(v, 60000, &chaos(ctx)->max_delay_ms);
}

static int knob_no_stall(struct emu_ctx *ctx, const char *v)
{
	(void)v;
	chaos(ctx)->no_stall = true;
	return 0;
}

static int knob_no_disconnect(struct emu_ctx *ctx, const char *v)
{
	(void)v;
	chaos(ctx)->no_disconnect = true;
	return 0;
}

static const struct emu_knob chaos_knobs[] = {
	{ "proto", 1, "mtk (default) or stm32: the protocol played faithfully",
	  knob_proto },
	{ "max_delay_ms", 1, "longest chaos delay (500)", knob_max_delay },
	{ "no_stall", 0, "never stall bulk IN", knob_no_stall },
	{ "no_disconnect", 0, "never pull the cable", knob_no_disconnect },
	{ NULL, 0, NULL, NULL },
};

const struct emu_personality emu_chaos = {
	.name = "chaos",
	.vid = 0x0e8d,
	.pid = 0x0003,
	.bcd_device = 0x0100,
	.dev_class = 0x02,
	.max_speed = "full-speed",
	.max_power = 500,
	.priv_size = sizeof(struct chaos),
	.knobs = chaos_knobs,
	.init = chaos_init,
	.descs = chaos_descs,
	.setup = chaos_setup,
	.serve = chaos_serve,
};
