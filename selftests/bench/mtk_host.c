// SPDX-License-Identifier: GPL-2.0
/*
 * Userspace MediaTek start handshake and identity readout, see mtk_host.h.
 *
 * The sync is mtkclient's (Port.run_handshake): each byte of A0 0A 50 05
 * is written on its own and exactly one byte is read back with a timeout;
 * a wrong answer ends the attempt and the next attempt starts from A0.
 * No CDC control requests are sent first (they cost round trips and
 * make a preloader send READY banners, mediatek.md 2.1a): this is the
 * best case for a userspace tool.  The identity readout asks what
 * bootshake asks, in the same order, with the same per-step deadline and
 * the same rule for old chips (two unanswered commands in a row end it).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "mtk_host.h"

#define CMD_GET_HW_CODE		0xfd
#define CMD_GET_HW_SW_VER	0xfc
#define CMD_GET_BL_VER		0xfe
#define CMD_GET_VERSION		0xff
#define CMD_GET_TARGET_CONFIG	0xd8
#define CMD_GET_ME_ID		0xe1
#define CMD_GET_SOC_ID		0xe7
#define CMD_GET_PL_CAP		0xfb
#define CMD_WRITE16		0xd2
#define CMD_WRITE32		0xd4

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

static const uint8_t sync_seq[4] = { 0xa0, 0x0a, 0x50, 0x05 };

/*
 * Watchdog registers of a few chips (mediatek.md section 4).  Only the
 * emulator's default chip (MT6765) matters for the benchmark; the others
 * keep the code honest.
 */
static const struct {
	uint16_t hw_code;
	uint32_t addr, val;
	bool wide16;
} wdt_table[] = {
	{ 0x6261, 0xa0030000, 0x2200, true },
	{ 0x6580, 0x10007000, 0x22000064, false },
	{ 0x0321, 0x10212000, 0x22000000, false },
	{ 0x0699, 0x10007000, 0x22000064, false },
	{ 0x0717, 0x10007000, 0x22000064, false },
	{ 0x0766, 0x10007000, 0x22000064, false },
	{ 0x0788, 0x10007000, 0x22000064, false },
	{ 0x0813, 0x10007000, 0x22000064, false },
};

long long mtk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int left_ms(long long deadline)
{
	long long l = deadline - mtk_now_ms();

	return l > 0 ? (int)l : 0;
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = v >> 24;
	p[1] = v >> 16;
	p[2] = v >> 8;
	p[3] = v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | p[2] << 8 | p[3];
}

static uint16_t get_be16(const uint8_t *p)
{
	return (uint16_t)(p[0] << 8 | p[1]);
}

/* Drop what was received and not consumed. */
static void flush_rx(struct mtk_host *h)
{
	h->rx_len = 0;
	h->rx_head = 0;
}

/* Refill the buffer with up to @want bytes; 0 or -errno. */
static int fill(struct mtk_host *h, size_t want, long long deadline)
{
	int n;

	if (h->rx_len)
		return 0;
	if (want > sizeof(h->rx))
		want = sizeof(h->rx);
	n = h->x->read(h->x->priv, h->rx, want, left_ms(deadline));
	if (n < 0)
		return n;
	if (n == 0)
		return -ETIMEDOUT;
	h->rx_head = 0;
	h->rx_len = (size_t)n;
	return 0;
}

static int getc_dl(struct mtk_host *h, uint8_t *c, size_t want,
		   long long deadline)
{
	int ret = fill(h, want, deadline);

	if (ret)
		return ret;
	*c = h->rx[h->rx_head++];
	h->rx_len--;
	return 0;
}

static int read_n(struct mtk_host *h, uint8_t *buf, size_t len,
		  long long deadline)
{
	while (len) {
		size_t n;
		int ret = fill(h, h->x->max_read, deadline);

		if (ret)
			return ret;
		n = len < h->rx_len ? len : h->rx_len;
		memcpy(buf, h->rx + h->rx_head, n);
		h->rx_head += n;
		h->rx_len -= n;
		buf += n;
		len -= n;
	}
	return 0;
}

static int put(struct mtk_host *h, const uint8_t *buf, size_t len)
{
	return h->x->write(h->x->priv, buf, len, h->step_ms);
}

/* After a failed attempt: drain what the device still sends. */
static void drain(struct mtk_host *h)
{
	uint8_t buf[512];
	int i;

	flush_rx(h);
	for (i = 0; i < 16; i++)
		if (h->x->read(h->x->priv, buf, h->x->max_read, 10) <= 0)
			break;
}

/*
 * One pass over A0 0A 50 05.  0: all answered the same way (*echo: the
 * device echoes, it was synced before); -EAGAIN: start over.
 */
static int sync_once(struct mtk_host *h, bool *echo)
{
	long long deadline;
	unsigned int i;
	uint8_t c;
	int ret;

	for (i = 0; i < sizeof(sync_seq); i++) {
		uint8_t b = sync_seq[i], want = (uint8_t)~b;
		bool is_echo;

		ret = h->x->write(h->x->priv, &b, 1, h->sync_step_ms);
		if (ret == -ETIMEDOUT)
			return -EAGAIN;
		if (ret)
			return ret;
		/*
		 * mtkclient reads exactly one byte per sync reply.  Bytes
		 * that answer nothing we sent (READY banners, garbage) are
		 * skipped within the same deadline, as bootshake does.
		 */
		deadline = mtk_now_ms() + h->sync_step_ms;
		do
			ret = getc_dl(h, &c, 1, deadline);
		while (!ret && c != want && c != b && c != (uint8_t)(b + 1));
		if (ret == -ETIMEDOUT) {
			/* a silent A0 may be a preloader's swallowed one */
			if (i)
				drain(h);
			return -EAGAIN;
		}
		if (ret == -EOVERFLOW) {
			/* a longer packet than asked for: banner, garbage */
			drain(h);
			return -EAGAIN;
		}
		if (ret)
			return ret;
		if (c == (uint8_t)(b + 1))
			return -EAGAIN;	/* rejected: the device is at A0 again */
		is_echo = c == b;
		if (i == 0)
			*echo = is_echo;
		else if (*echo != is_echo)
			return -EAGAIN;
	}
	return 0;
}

int mtk_host_sync(struct mtk_host *h, struct mtk_ident *id)
{
	long long deadline = mtk_now_ms() + h->sync_ms;
	bool echo = false;
	int ret;

	if (h->preloader) {
		uint8_t a0 = sync_seq[0];

		ret = put(h, &a0, 1);
		if (ret && ret != -ETIMEDOUT)
			return ret;
	}
	do {
		id->attempts++;
		ret = sync_once(h, &echo);
	} while (ret == -EAGAIN && mtk_now_ms() < deadline);
	if (ret == -EAGAIN)
		return -ETIMEDOUT;
	if (!ret)
		id->already_synced = echo;
	return ret;
}

static bool gone(int ret)
{
	return ret && ret != -ETIMEDOUT && ret != -EPROTO &&
	       ret != -EOVERFLOW;
}

static void miss(struct mtk_host *h)
{
	flush_rx(h);
	h->misses++;
}

/* Send @cmd, expect its echo, then @len reply bytes. */
static int cmd(struct mtk_host *h, uint8_t c, uint8_t *reply, size_t len)
{
	long long deadline;
	uint8_t e;
	int ret;

	ret = put(h, &c, 1);
	deadline = mtk_now_ms() + h->step_ms;
	if (!ret)
		ret = getc_dl(h, &e, h->x->max_read, deadline);
	if (!ret && e != c)
		ret = -EPROTO;
	if (!ret && len)
		ret = read_n(h, reply, len, deadline);
	if (ret) {
		if (!gone(ret))
			miss(h);
		return ret;
	}
	h->misses = 0;
	return 0;
}

/* A command answered by one byte that is not an echo (GET_BL_VER ...). */
static int cmd_byte(struct mtk_host *h, uint8_t c, uint8_t *out)
{
	int ret = put(h, &c, 1);

	if (!ret)
		ret = getc_dl(h, out, h->x->max_read,
			      mtk_now_ms() + h->step_ms);
	if (ret && !gone(ret))
		h->misses++;
	else if (!ret)
		h->misses = 0;
	return ret;
}

/* Echo, u32 length (must be @max), @max bytes, u16 status. */
static int cmd_blob(struct mtk_host *h, uint8_t c, uint8_t *out, size_t max)
{
	long long deadline;
	uint8_t b[4];
	int ret;

	ret = cmd(h, c, b, 4);
	if (ret)
		return ret;
	if (get_be32(b) != max) {
		flush_rx(h);
		return -EPROTO;
	}
	deadline = mtk_now_ms() + h->step_ms;
	ret = read_n(h, out, max, deadline);
	if (!ret)
		ret = read_n(h, b, 2, deadline);
	if (!ret && get_be16(b) > 0xff)
		ret = -EPROTO;
	if (ret && !gone(ret))
		flush_rx(h);
	return ret;
}

static bool gave_up(const struct mtk_host *h)
{
	return h->misses >= 2;
}

/* Write @out, expect it echoed within @deadline. */
static int echo_field(struct mtk_host *h, const uint8_t *out, size_t len,
		      long long deadline)
{
	uint8_t in[4];
	int ret = put(h, out, len);

	if (!ret)
		ret = read_n(h, in, len, deadline);
	if (!ret && memcmp(in, out, len))
		ret = -EPROTO;
	return ret;
}

/* WRITE32/WRITE16 of one value: cmd, addr, count, status, value, status. */
static const char *wdt_write(struct mtk_host *h, uint32_t addr, uint32_t val,
			     bool wide16, int *err)
{
	long long deadline;
	uint8_t out[4], st[2];
	size_t vlen = wide16 ? 2 : 4;
	int ret;

	ret = cmd(h, wide16 ? CMD_WRITE16 : CMD_WRITE32, NULL, 0);
	if (ret) {
		*err = ret;
		return ret == -ETIMEDOUT ? "timeout" : "refused";
	}
	deadline = mtk_now_ms() + h->step_ms;
	put_be32(out, addr);
	ret = echo_field(h, out, 4, deadline);
	put_be32(out, 1);
	if (!ret)
		ret = echo_field(h, out, 4, deadline);
	if (!ret)
		ret = read_n(h, st, 2, deadline);
	if (!ret && get_be16(st) > 3) {
		*err = -EACCES;
		return "refused";
	}
	if (wide16) {
		out[0] = val >> 8;
		out[1] = val;
	} else {
		put_be32(out, val);
	}
	deadline = mtk_now_ms() + h->step_ms;
	if (!ret)
		ret = echo_field(h, out, vlen, deadline);
	if (!ret)
		ret = read_n(h, st, 2, deadline);
	if (!ret && get_be16(st) > 0xff) {
		*err = -EACCES;
		return "refused";
	}
	*err = ret;
	if (ret && !gone(ret))
		flush_rx(h);
	if (ret == -ETIMEDOUT)
		return "timeout";
	return ret ? "refused" : "disabled";
}

static int watchdog(struct mtk_host *h, struct mtk_ident *id)
{
	unsigned int i;
	int err;

	id->watchdog = "skipped";
	if (!id->is_brom || !id->has_hw_code)
		return 0;	/* preloaders kick it themselves */
	for (i = 0; i < ARRAY_SIZE(wdt_table); i++) {
		if (wdt_table[i].hw_code != id->hw_code)
			continue;
		id->watchdog = wdt_write(h, wdt_table[i].addr,
					 wdt_table[i].val, wdt_table[i].wide16,
					 &err);
		return gone(err) && err != -EACCES ? err : 0;
	}
	return 0;
}

int mtk_host_identify(struct mtk_host *h, struct mtk_ident *id)
{
	uint8_t b[8];
	int ret;

	flush_rx(h);	/* late replies to the sync must not poison commands */
	h->misses = 0;
	id->watchdog = "skipped";

	ret = cmd_byte(h, CMD_GET_BL_VER, &id->bl_ver);
	if (gone(ret))
		return ret;
	if (!ret) {
		id->has_bl_ver = true;
		id->is_brom = id->bl_ver == CMD_GET_BL_VER;
	}

	ret = cmd(h, CMD_GET_HW_CODE, b, 4);
	if (gone(ret))
		return ret;
	if (!ret) {
		id->has_hw_code = true;
		id->hw_code = get_be16(b);
		id->hw_status = get_be16(b + 2);
	}
	if (gave_up(h))
		return 0;

	ret = cmd(h, CMD_GET_HW_SW_VER, b, 8);
	if (gone(ret))
		return ret;
	if (!ret) {
		id->has_hw_sw_ver = true;
		id->hw_subcode = get_be16(b);
		id->hw_ver = get_be16(b + 2);
		id->sw_ver = get_be16(b + 4);
	}
	if (gave_up(h))
		return 0;

	ret = cmd(h, CMD_GET_TARGET_CONFIG, b, 6);
	if (gone(ret))
		return ret;
	if (!ret) {
		id->has_target_config = true;
		id->target_config = get_be32(b);
	}
	if (gave_up(h))
		return 0;

	if (id->is_brom) {
		ret = cmd_byte(h, CMD_GET_VERSION, b);
		if (gone(ret))
			return ret;
		if (!ret && b[0] != CMD_GET_VERSION) {
			id->has_brom_ver = true;
			id->brom_ver = b[0];
		}
		if (gave_up(h))
			return 0;
	}

	/* old preloaders (GET_BL_VER 1, 2) know neither ME_ID nor SOC_ID */
	if (id->is_brom || id->bl_ver > 2) {
		ret = cmd_blob(h, CMD_GET_ME_ID, id->me_id, sizeof(id->me_id));
		if (gone(ret))
			return ret;
		id->has_me_id = !ret;
		if (gave_up(h))
			return 0;
		ret = cmd_blob(h, CMD_GET_SOC_ID, id->soc_id,
			       sizeof(id->soc_id));
		if (gone(ret))
			return ret;
		id->has_soc_id = !ret;
		if (gave_up(h))
			return 0;
	}

	if (!id->is_brom && id->has_bl_ver) {
		ret = cmd(h, CMD_GET_PL_CAP, b, 8);
		if (gone(ret))
			return ret;
		if (!ret) {
			id->has_pl_cap = true;
			id->pl_cap[0] = get_be32(b);
			id->pl_cap[1] = get_be32(b + 4);
		}
	}
	return watchdog(h, id);
}

void mtk_ident_str(const struct mtk_ident *id, char *buf, size_t len)
{
	snprintf(buf, len,
		 "%s hw_code=%s%04x bl_ver=0x%02x target_config=0x%08x me_id=%s soc_id=%s watchdog=%s attempts=%u%s",
		 id->is_brom ? "brom" : "preloader",
		 id->has_hw_code ? "0x" : "none/", id->hw_code, id->bl_ver,
		 id->target_config, id->has_me_id ? "yes" : "no",
		 id->has_soc_id ? "yes" : "no", id->watchdog, id->attempts,
		 id->already_synced ? " already-synced" : "");
}
