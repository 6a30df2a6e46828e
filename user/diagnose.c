// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake CLI: "diagnose", rules over a device's state and transcript.
 *
 * Each rule is one entry of rules[]: the kinds it applies to, a stable
 * code, the cause and the fix in a lab user's words, and a match function
 * that looks at the precomputed view (struct view) and writes the
 * evidence. Adding a cause is adding an entry; test_diagnose.c has a
 * canned transcript for each.
 *
 * The device rules come from ../shared/protocols/mediatek.md (sections
 * 2, 6, 7) and stm32.md (sections 2, 3.5, 5, 6).
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bootshake.h>

#include "dev.h"
#include "diagnose.h"
#include "transcript.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

/* One byte of the exchange, in order. */
struct byte_ev {
	uint8_t		dir;		/* BOOTSHAKE_DIR_OUT or _IN */
	uint8_t		b;
	uint64_t	t_ns;
	size_t		rec;		/* index in the transcript */
};

/* What the rules look at, computed once. */
struct view {
	const struct bs_dev	*dev;
	const struct bs_tr	*tr;		/* NULL: no transcript */
	const char		*code;		/* error code, "" if none */
	bool			failed;
	bool			mtk;		/* the sync-byte rules apply */
	struct byte_ev		*ev;		/* every OUT/IN byte */
	size_t			nev;
	size_t			nout, nin;
	uint8_t			*in;		/* the IN bytes alone */
	size_t			nin_bytes;
	size_t			sync_end;	/* ev index where the sync ended */
};

typedef bool (*match_fn)(const struct view *v, char *ev, size_t len);

struct rule {
	const char		*code;
	unsigned int		kinds;		/* 1 << BOOTSHAKE_KIND_* */
	enum bs_severity	severity;	/* when the device did not fail */
	enum bs_severity	failed_severity; /* when it did */
	const char		*cause;
	const char		*fix;
	match_fn		match;
	const char		*unless;	/* code that explains it better */
};

#define K(kind)		(1u << BOOTSHAKE_KIND_##kind)
#define K_MTK		(K(MTK_BROM) | K(MTK_PRELOADER))
#define K_STM32		(K(STM32_DFU) | K(STM32_USART))
#define K_ANY		(~0u)

static const uint8_t sync_seq[] = { 0xa0, 0x0a, 0x50, 0x05 };

static bool is_sync_byte(uint8_t b)
{
	return memchr(sync_seq, b, sizeof(sync_seq)) != NULL;
}

static bool state_is(const struct view *v, uint32_t state)
{
	return BS_DEV_HAS(v->dev, BOOTSHAKE_A_DEV_STATE) &&
	       v->dev->state == state;
}

static bool code_is(const struct view *v, const char *code)
{
	return !strcmp(v->code, code);
}

/* "+12.345 ms" */
static const char *when(uint64_t t_ns, char *buf, size_t len)
{
	snprintf(buf, len, "+%" PRIu64 ".%03" PRIu64 " ms", t_ns / 1000000,
		 t_ns / 1000 % 1000);
	return buf;
}

/* "42 55 0e" of up to @max bytes, "..." after */
static void hexs(const uint8_t *b, size_t n, size_t max, char *buf,
		 size_t len)
{
	size_t i, o = 0;

	buf[0] = '\0';
	for (i = 0; i < n && i < max && o + 4 < len; i++)
		o += snprintf(buf + o, len - o, "%s%02x", i ? " " : "", b[i]);
	if (n > max && o + 4 < len)
		snprintf(buf + o, len - o, " ...");
}

static const uint8_t *find(const uint8_t *hay, size_t n, const char *needle)
{
	return memmem(hay, n, needle, strlen(needle));
}

/* Index in v->ev of the first OUT byte, or nev. */
static size_t first_out(const struct view *v)
{
	size_t i;

	for (i = 0; i < v->nev; i++)
		if (v->ev[i].dir == BOOTSHAKE_DIR_OUT)
			break;
	return i;
}

/*
 * The IN bytes before the first OUT byte, READY banners taken out: what
 * earlier traffic left queued in the device's answer pipe.
 */
static size_t stale_in(const struct view *v, uint8_t *buf, size_t max)
{
	size_t i, n = 0, end = first_out(v);

	for (i = 0; i < end && n < max; i++)
		buf[n++] = v->ev[i].b;
	for (;;) {
		uint8_t *r = memmem(buf, n, "READY", 5);

		if (!r)
			break;
		memmove(r, r + 5, n - (r - buf) - 5);
		n -= 5;
	}
	return n;
}

/* What a preloader answers to a mode token (fact sheet scenario 8). */
static const char * const token_replies[] = {
	"ATEM", "TOOB", "TCAF", "AT+UNKONWN",
};

static bool has_token_reply(const uint8_t *b, size_t n, const char **which)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(token_replies); i++) {
		if (find(b, n, token_replies[i])) {
			if (which)
				*which = token_replies[i];
			return true;
		}
	}
	return false;
}

/*
 * Sync bytes of bootshake's that the device answered with byte + 1 (it
 * was past index 0 and started over).  @own selects which ones to count:
 * false, those nothing in the transcript explains (bytes from elsewhere
 * had moved the device on: stray bytes); true, those that follow an
 * earlier sync byte of bootshake's that the device answered with its
 * complement, or left unanswered within the step deadline (a lost or
 * late reply: the device took that byte, bootshake restarted the sync).
 * *@first is the ev index of the first one counted.
 */
static size_t plus1_answers(const struct view *v, bool own, size_t *first)
{
	bool answered = true, moved = false;
	size_t i, n = 0;
	int last_out = -1;

	for (i = 0; i < v->sync_end; i++) {
		const struct byte_ev *e = &v->ev[i];

		if (e->dir == BOOTSHAKE_DIR_OUT) {
			/* an unanswered sync byte may have moved it on */
			if (!answered && last_out >= 0 && is_sync_byte(last_out))
				moved = true;
			last_out = e->b;
			answered = false;
			continue;
		}
		if (answered || last_out < 0)
			continue;
		answered = true;
		if (e->b == (uint8_t)~last_out) {
			moved = true;
			continue;
		}
		if (is_sync_byte(last_out) &&
		    e->b == (uint8_t)(last_out + 1) && moved == own) {
			if (!n++)
				*first = i;
		}
		/* any other answer: the device is back at index 0 */
		moved = false;
	}
	return n;
}

/* --- the rules -------------------------------------------------------- */

static bool m_stray(const struct view *v, char *ev, size_t len)
{
	uint8_t stale[64], minus[64];
	char h[128], t[32];
	size_t n, i, plus1, first = 0;

	/* AT probes answered byte+1 before bootshake sent anything */
	n = stale_in(v, stale, sizeof(stale));
	if (has_token_reply(stale, n, NULL))
		n = 0;		/* plain text: the token rule's */
	for (i = 0; i < n; i++) {
		minus[i] = stale[i] - 1;
		if (!isprint(minus[i]) && minus[i] != '\r' &&
		    minus[i] != '\n')
			break;
	}
	if (n >= 2 && i == n) {
		char txt[64];
		size_t j, o = 0;

		for (j = 0; j < n && o + 3 < sizeof(txt); j++) {
			if (minus[j] == '\r')
				o += snprintf(txt + o, sizeof(txt) - o, "\\r");
			else if (minus[j] == '\n')
				o += snprintf(txt + o, sizeof(txt) - o, "\\n");
			else
				txt[o++] = minus[j];
		}
		txt[o] = '\0';
		hexs(stale, n, 12, h, sizeof(h));
		snprintf(ev, len,
			 "before the first sync byte the device sent %s, which is \"%s\" + 1 per byte",
			 h, txt);
		return true;
	}

	plus1 = plus1_answers(v, false, &first);
	if (!plus1)
		return false;
	snprintf(ev, len,
		 "%zu sync byte%s answered with byte+1, first %02x -> %02x at %s",
		 plus1, plus1 == 1 ? "" : "s", v->ev[first].b - 1,
		 v->ev[first].b, when(v->ev[first].t_ns, t, sizeof(t)));
	return true;
}

static bool m_sync_restart(const struct view *v, char *ev, size_t len)
{
	char t[32];
	size_t n, first = 0;

	n = plus1_answers(v, true, &first);
	if (!n)
		return false;
	snprintf(ev, len,
		 "%02x answered %02x at %s after an earlier sync byte of bootshake's was answered late or not at all",
		 v->ev[first].b - 1, v->ev[first].b,
		 when(v->ev[first].t_ns, t, sizeof(t)));
	return true;
}

static bool m_synced_mtk(const struct view *v, char *ev, size_t len)
{
	char t[32];
	size_t i;

	for (i = 0; i + 1 < v->nev; i++) {
		if (v->ev[i].dir == BOOTSHAKE_DIR_OUT && v->ev[i].b == 0xa0 &&
		    v->ev[i + 1].dir == BOOTSHAKE_DIR_IN &&
		    v->ev[i + 1].b == 0xa0) {
			snprintf(ev, len, "a0 was echoed unchanged at %s",
				 when(v->ev[i + 1].t_ns, t, sizeof(t)));
			return true;
		}
	}
	if (v->dev->flags & BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED) {
		snprintf(ev, len, "the module reports already_synced");
		return true;
	}
	return false;
}

static bool m_synced_usart(const struct view *v, char *ev, size_t len)
{
	size_t i;

	for (i = 0; i + 1 < v->nev; i++) {
		if (v->ev[i].dir == BOOTSHAKE_DIR_OUT && v->ev[i].b == 0x7f &&
		    v->ev[i + 1].dir == BOOTSHAKE_DIR_IN &&
		    v->ev[i + 1].b == 0x1f) {
			snprintf(ev, len, "7f was answered with NACK 1f");
			return true;
		}
	}
	if (v->dev->flags & BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED) {
		snprintf(ev, len, "the module reports already_synced");
		return true;
	}
	return false;
}

static bool m_ready_banner(const struct view *v, char *ev, size_t len)
{
	const uint8_t *p = v->in, *end = v->in + v->nin_bytes;
	size_t count = 0;

	while (p < end && (p = find(p, end - p, "READY"))) {
		count++;
		p += 5;
	}
	if (!count)
		return false;
	snprintf(ev, len, "%zu READY banner%s (52 45 41 44 59) in the device's answers%s",
		 count, count == 1 ? "" : "s",
		 v->dev->flags & BOOTSHAKE_DEV_FLAG_TAKEN_OVER ?
		 "; bootshake took the device over from another driver" : "");
	return true;
}

static bool m_token(const struct view *v, char *ev, size_t len)
{
	const char *which;
	char h[64];
	size_t i, run = 0, start = 0;

	if (code_is(v, "token")) {
		snprintf(ev, len, "the module's error code is \"token\"");
		return true;
	}
	if (has_token_reply(v->in, v->nin_bytes, &which)) {
		snprintf(ev, len, "the device answered \"%s\"", which);
		return true;
	}
	/* 8 bytes out, not starting with a0, then silence and the end */
	if (!v->failed && !state_is(v, BOOTSHAKE_STATE_GONE))
		return false;
	for (i = v->nev; i-- > 0;) {
		if (v->ev[i].dir != BOOTSHAKE_DIR_OUT)
			break;
		run++;
		start = i;
	}
	if (run < 8 || v->ev[start].b == 0xa0)
		return false;
	{
		uint8_t bytes[8];

		for (i = 0; i < 8; i++)
			bytes[i] = v->ev[start + i].b;
		hexs(bytes, 8, 8, h, sizeof(h));
	}
	snprintf(ev, len,
		 "the device went silent and away after %zu bytes not starting with a0 (%s)",
		 run, h);
	return true;
}

static bool m_no_reply(const struct view *v, char *ev, size_t len)
{
	if (v->tr && v->nin == 0 && v->nout > 0 &&
	    (v->failed || state_is(v, BOOTSHAKE_STATE_GONE))) {
		snprintf(ev, len,
			 "%zu byte%s sent, not one byte came back", v->nout,
			 v->nout == 1 ? "" : "s");
		return true;
	}
	if (code_is(v, "no-reply")) {
		snprintf(ev, len, "the module's error code is \"no-reply\"%s",
			 v->tr ? "" : " (no transcript to look at)");
		return true;
	}
	return false;
}

/*
 * Bytes during the sync that fit no rule: not the expected complement,
 * not an echo, not byte+1, not part of READY, not stale AT answers.
 * The first @max of them go to @bytes.
 */
static size_t unexplained_noise(const struct view *v, size_t *first,
				uint8_t *bytes, size_t max)
{
	size_t i, n = 0, start = first_out(v);
	int last_out = -1;

	for (i = start; i < v->sync_end; i++) {
		const struct byte_ev *e = &v->ev[i];
		uint8_t b = e->b;

		if (e->dir == BOOTSHAKE_DIR_OUT) {
			last_out = b;
			continue;
		}
		if (last_out >= 0 &&
		    (b == (uint8_t)~last_out || b == last_out ||
		     b == (uint8_t)(last_out + 1)))
			continue;
		/* inside a READY banner? */
		if (memchr("READY", b, 5)) {
			size_t k, lo = i >= 4 ? i - 4 : 0;
			bool in_banner = false;

			for (k = lo; k <= i && !in_banner; k++) {
				uint8_t w[5];
				size_t j;

				for (j = 0; j < 5 && k + j < v->nev; j++)
					w[j] = v->ev[k + j].b;
				in_banner = j == 5 && !memcmp(w, "READY", 5);
			}
			if (in_banner)
				continue;
		}
		if (n < max)
			bytes[n] = b;
		if (!n++)
			*first = i;
	}
	return n;
}

static bool m_noise(const struct view *v, char *ev, size_t len)
{
	char h[80], t[32];
	size_t n, first = 0;

	/* the byte rules below are MediaTek's; others have the counter */
	if (!v->tr || !v->mtk) {
		if (v->dev->garbage < 4)
			return false;
		snprintf(ev, len, "%u noise bytes skipped during the sync",
			 v->dev->garbage);
		return true;
	}
	{
		uint8_t b[8];

		n = unexplained_noise(v, &first, b, sizeof(b));
		if (n < 4)
			return false;
		hexs(b, n, sizeof(b), h, sizeof(h));
	}
	snprintf(ev, len,
		 "%zu bytes during the sync fit no protocol rule, from %s: %s",
		 n, when(v->ev[first].t_ns, t, sizeof(t)), h);
	return true;
}

static bool m_mid_sync_a0(const struct view *v, char *ev, size_t len)
{
	char t[32];
	size_t i;
	int last_in = -1;

	for (i = 0; i < v->sync_end; i++) {
		const struct byte_ev *e = &v->ev[i];

		if (e->dir == BOOTSHAKE_DIR_IN) {
			last_in = e->b;
			continue;
		}
		/* an a0 in the middle of the sequence, then no answer */
		if (e->b != 0xa0 ||
		    (last_in != 0x5f && last_in != 0xf5 && last_in != 0xaf))
			continue;
		if (i + 1 < v->nev && v->ev[i + 1].dir == BOOTSHAKE_DIR_OUT) {
			snprintf(ev, len,
				 "a0 sent after %02x at %s got no answer, and the sync went on",
				 last_in, when(e->t_ns, t, sizeof(t)));
			return true;
		}
	}
	return false;
}

static bool m_dfu_error(const struct view *v, char *ev, size_t len)
{
	const struct bs_dev *d = v->dev;
	char s[BS_NAME_LEN];

	if (BS_STM32_HAS(d, BOOTSHAKE_A_STM32_DFU_STATUS) &&
	    d->stm32.dfu_status == 0x0b)
		return false;	/* read protection says it better */
	if (BS_STM32_HAS(d, BOOTSHAKE_A_STM32_DFU_STATE) &&
	    d->stm32.dfu_state == 10) {
		snprintf(ev, len, "DFU state dfuERROR, status %s",
			 bs_dfu_status_name(d->stm32.dfu_status, s,
					    sizeof(s)));
		return true;
	}
	if (code_is(v, "dfu-error")) {
		snprintf(ev, len, "the module's error code is \"dfu-error\"");
		return true;
	}
	return false;
}

static bool m_read_protection(const struct view *v, char *ev, size_t len)
{
	const struct bs_dev *d = v->dev;
	char s[BS_NAME_LEN];
	size_t i;

	if (BS_STM32_HAS(d, BOOTSHAKE_A_STM32_DFU_STATUS) &&
	    (d->stm32.dfu_status == 0x0b || d->stm32.dfu_status == 0x01)) {
		snprintf(ev, len, "DFU status %s%s",
			 bs_dfu_status_name(d->stm32.dfu_status, s, sizeof(s)),
			 d->stm32.dfu_status == 0x01 ?
			 " (address refused; ST's ROM also says this when protected)" :
			 " (ST: read protection active)");
		return true;
	}
	/* USART Read Memory (11 ee) answered with NACK */
	for (i = 0; i + 2 < v->nev; i++) {
		if (v->ev[i].dir == BOOTSHAKE_DIR_OUT && v->ev[i].b == 0x11 &&
		    v->ev[i + 1].dir == BOOTSHAKE_DIR_OUT &&
		    v->ev[i + 1].b == 0xee &&
		    v->ev[i + 2].dir == BOOTSHAKE_DIR_IN &&
		    v->ev[i + 2].b == 0x1f) {
			snprintf(ev, len,
				 "Read Memory (11 ee) was answered with NACK 1f");
			return true;
		}
	}
	return false;
}

static bool m_wdt(const struct view *v, uint32_t which, char *ev, size_t len)
{
	const struct bs_dev *d = v->dev;
	char name[BS_NAME_LEN];

	if (!BS_MTK_HAS(d, BOOTSHAKE_A_MTK_WATCHDOG) ||
	    d->mtk.watchdog != which)
		return false;
	snprintf(ev, len, "watchdog: %s%s%s",
		 bs_watchdog_name(which, name, sizeof(name)),
		 d->mtk.chip ? ", chip " : "", d->mtk.chip ? d->mtk.chip : "");
	return true;
}

static bool m_wdt_refused(const struct view *v, char *ev, size_t len)
{
	return m_wdt(v, BOOTSHAKE_WDT_REFUSED, ev, len);
}

static bool m_wdt_timeout(const struct view *v, char *ev, size_t len)
{
	return m_wdt(v, BOOTSHAKE_WDT_TIMEOUT, ev, len);
}

/* The MediaTek readout commands by byte, for the ident-partial evidence. */
static const char *mtk_cmd_name(unsigned int cmd)
{
	switch (cmd) {
	case 0xfe: return "GET_BL_VER";
	case 0xfd: return "GET_HW_CODE";
	case 0xfc: return "GET_HW_SW_VER";
	case 0xd8: return "GET_TARGET_CONFIG";
	case 0xff: return "GET_VERSION";
	case 0xe1: return "GET_ME_ID";
	case 0xe7: return "GET_SOC_ID";
	case 0xfb: return "GET_PL_CAP";
	}
	return "?";
}

/*
 * The MediaTek identity readout ended early: the flag, and the driver's
 * note "ident ended before XX" naming the first command not asked (and
 * the last "cmd XX: timeout|bad echo|stall again" that ended it).
 */
static bool m_ident_partial(const struct view *v, char *ev, size_t len)
{
	static const char ended[] = "ident ended before ";
	char text[64], miss[64] = "";
	unsigned int cmd;
	size_t i;

	if (!(v->dev->flags & BOOTSHAKE_DEV_FLAG_IDENT_PARTIAL))
		return false;
	for (i = 0; v->tr && i < v->tr->n; i++) {
		if (v->tr->v[i].dir != BOOTSHAKE_DIR_NOTE)
			continue;
		bs_tr_text(&v->tr->v[i], text, sizeof(text));
		if (!strncmp(text, "cmd ", 4) &&
		    (strstr(text, ": timeout") || strstr(text, ": bad echo") ||
		     strstr(text, ": stall again")))
			snprintf(miss, sizeof(miss), "%s", text);
		if (!strncmp(text, ended, sizeof(ended) - 1) &&
		    sscanf(text + sizeof(ended) - 1, "%x", &cmd) == 1) {
			snprintf(ev, len, "the readout ended before %s (%02x)%s%s",
				 mtk_cmd_name(cmd), cmd,
				 miss[0] ? "; last miss: " : "", miss);
			return true;
		}
	}
	snprintf(ev, len, "the module reports ident_partial");
	return true;
}

static bool m_usb_error(const struct view *v, char *ev, size_t len)
{
	if (!code_is(v, "stall") && !code_is(v, "usb-error"))
		return false;
	snprintf(ev, len, "the module's error code is \"%s\"%s%s", v->code,
		 v->dev->reason ? ": " : "",
		 v->dev->reason ? v->dev->reason : "");
	return true;
}

static bool m_watching(const struct view *v, char *ev, size_t len)
{
	if (!state_is(v, BOOTSHAKE_STATE_WATCHING))
		return false;
	snprintf(ev, len, "state watching");
	return true;
}

static bool m_released(const struct view *v, char *ev, size_t len)
{
	if (!state_is(v, BOOTSHAKE_STATE_RELEASED))
		return false;
	snprintf(ev, len, "state released");
	return true;
}

static bool m_lost(const struct view *v, char *ev, size_t len)
{
	if (!v->tr || !v->tr->lost)
		return false;
	snprintf(ev, len, "%" PRIu64 " older records lost", v->tr->lost);
	return true;
}

static const struct rule rules[] = {
	{
		.code	= "token",
		.kinds	= K_MTK,
		.severity = BS_SEV_ERROR,
		.failed_severity = BS_SEV_ERROR,
		.cause	= "the preloader took 8 bytes from the host as a mode token (METAMETA, FACTFACT, FASTBOOT, an AT command ...) and booted on: its download window is over",
		.fix	= "boot the phone into the preloader again with nothing else touching the port (stop ModemManager, keep cdc_acm off it) and let bootshake sync it: `bootshake arm mtk-preloader`, then reboot the phone",
		.match	= m_token,
	},
	{
		.code	= "stray-bytes",
		.kinds	= K_MTK,
		.severity = BS_SEV_WARNING,
		.failed_severity = BS_SEV_ERROR,
		.cause	= "bytes that did not come from bootshake reached the device before the sync (another driver such as cdc_acm, or ModemManager probing with AT commands), so the device answered with byte+1 and was not where the sync expected it",
		.fix	= "keep other software off the device: stop ModemManager or tag the device ID_MM_DEVICE_IGNORE=1 in udev, and keep cdc_acm from binding it first; then replug in download mode or run `bootshake retry DEV`",
		.match	= m_stray,
	},
	{
		.code	= "sync-restart",
		.kinds	= K_MTK,
		.severity = BS_SEV_INFO,
		.failed_severity = BS_SEV_WARNING,
		.cause	= "a reply to one of bootshake's sync bytes was lost or came after the step deadline; the device had taken that byte, so it answered the restarted sync's a0 with a1, and bootshake started over",
		.fix	= "nothing to fix when the device ended ready; if it keeps happening, the host or hub is slow: raise the step deadline (`bootshake policy KIND --step-timeout MS`)",
		.match	= m_sync_restart,
	},
	{
		.code	= "ready-banner",
		.kinds	= K_MTK,
		.severity = BS_SEV_WARNING,
		.failed_severity = BS_SEV_ERROR,
		.cause	= "the preloader was sending READY banners: a generic driver (cdc_acm) or a program opened it as a serial port and set the line coding before bootshake had it",
		.fix	= "let bootshake claim the preloader first (`bootshake arm mtk-preloader` before rebooting the phone), keep ModemManager away (udev ID_MM_DEVICE_IGNORE=1) and do not open its /dev/ttyACM*",
		.match	= m_ready_banner,
	},
	{
		.code	= "no-reply",
		.kinds	= K_MTK,
		.severity = BS_SEV_ERROR,
		.failed_severity = BS_SEV_ERROR,
		.cause	= "the device never answered: it is not in download mode (the BROM needs the download key or the test point held while plugging in; a preloader listens only for about 2 seconds after power-on), or the cable, port or power is bad",
		.fix	= "power the phone off completely, hold the download key (usually volume down or up) or short the test point while plugging it in, with a short data cable straight into the computer; check the battery is charged",
		.match	= m_no_reply,
		.unless	= "token",
	},
	{
		.code	= "no-reply",
		.kinds	= K_STM32,
		.severity = BS_SEV_ERROR,
		.failed_severity = BS_SEV_ERROR,
		.cause	= "the bootloader never answered: the chip is not running its system bootloader (BOOT0 low, or no reset after setting it), or the cable, wiring or power is wrong",
		.fix	= "hold BOOT0 high (on G0/C0 also clear nBOOT0_SEL) and reset the board; for USART check TX/RX are crossed, grounds are joined and levels are 3.3 V, and that the bridge is opted in to bootshake",
		.match	= m_no_reply,
	},
	{
		.code	= "noise",
		.kinds	= K_ANY,
		.severity = BS_SEV_WARNING,
		.failed_severity = BS_SEV_ERROR,
		.cause	= "replies were corrupted at random: bytes arrived that fit no protocol rule (not the expected answer, not an echo, not byte+1, not a READY banner), as a bad cable, a loose connector, a hub or a flaky port produce",
		.fix	= "use another short data cable and plug straight into a port on the computer, not a hub or a front-panel socket; try a USB 2.0 port",
		.match	= m_noise,
	},
	{
		.code	= "usb-error",
		.kinds	= K_ANY,
		.severity = BS_SEV_ERROR,
		.failed_severity = BS_SEV_ERROR,
		.cause	= "USB transfers failed (a stall or an I/O error): the device reset or left the bus during the handshake, or the port or hub is unreliable",
		.fix	= "replug straight into the computer and look at `dmesg` for USB errors; then `bootshake retry DEV` or replug in download mode",
		.match	= m_usb_error,
	},
	{
		.code	= "read-protection",
		.kinds	= K_STM32,
		.severity = BS_SEV_WARNING,
		.failed_severity = BS_SEV_ERROR,
		.cause	= "read protection (RDP level 1) is on: the bootloader refuses to read memory",
		.fix	= "reading out is impossible; to program the chip, remove the protection with a read-unprotect, which erases the whole flash: dfu-util's DfuSe modifier (-s :unprotect:force) or `stm32flash -k`, then reconnect",
		.match	= m_read_protection,
	},
	{
		.code	= "dfu-error",
		.kinds	= K(STM32_DFU),
		.severity = BS_SEV_ERROR,
		.failed_severity = BS_SEV_ERROR,
		.cause	= "the DFU bootloader is stuck in dfuERROR and CLRSTATUS did not clear it",
		.fix	= "reset or power-cycle the board with BOOT0 held high, then `bootshake retry DEV`; if it comes back in dfuERROR every time, check the option bytes with STM32CubeProgrammer",
		.match	= m_dfu_error,
	},
	{
		.code	= "watchdog-refused",
		.kinds	= K_MTK,
		.severity = BS_SEV_WARNING,
		.failed_severity = BS_SEV_ERROR,
		.cause	= "the device refused the write that disables its watchdog (a locked or secure-boot chip, or a preloader that filters WRITE32): the watchdog will reset it within seconds",
		.fix	= "start the flashing tool at once and let it skip its own handshake; on locked chips use a tool with an authorized download agent or auth file for this chip",
		.match	= m_wdt_refused,
	},
	{
		.code	= "watchdog-timeout",
		.kinds	= K_MTK,
		.severity = BS_SEV_WARNING,
		.failed_severity = BS_SEV_ERROR,
		.cause	= "the device never answered the write that disables its watchdog (some vendor preloaders do not): it may reset within seconds",
		.fix	= "start the flashing tool at once and let it skip its own handshake, or use a device-specific preloader and download agent",
		.match	= m_wdt_timeout,
	},
	{
		.code	= "ident-partial",
		.kinds	= K_MTK,
		.severity = BS_SEV_WARNING,
		.failed_severity = BS_SEV_WARNING,
		.cause	= "the identity readout ended early: two commands in a row stayed unanswered even after waiting for the device to go quiet and asking again, so the fields after that step are missing (an old chip that stops answering, or a device too slow or disturbed for the step deadline)",
		.fix	= "if the chip should know those commands, raise the step deadline (`bootshake policy mtk-brom --step-timeout MS`) and `bootshake retry DEV`; check the watchdog line: it is still armed unless it says disabled",
		.match	= m_ident_partial,
	},
	{
		.code	= "already-synced",
		.kinds	= K_MTK,
		.severity = BS_SEV_INFO,
		.failed_severity = BS_SEV_INFO,
		.cause	= "the device was already synced when bootshake found it: it echoed a0 unchanged, so it was in its command loop (an earlier tool or session did the handshake)",
		.fix	= "nothing to fix, the device is usable; a flashing tool must skip its own handshake (bypass_utility -n), and tools that always handshake (mtkclient) need the phone power-cycled first",
		.match	= m_synced_mtk,
	},
	{
		.code	= "already-synced",
		.kinds	= K(STM32_USART),
		.severity = BS_SEV_INFO,
		.failed_severity = BS_SEV_INFO,
		.cause	= "the bootloader was already synced by an earlier session: it took 0x7f as an unknown command and answered NACK",
		.fix	= "nothing to fix; a tool that insists on an ACK to 0x7f needs the board reset with BOOT0 high",
		.match	= m_synced_usart,
	},
	{
		.code	= "mid-sync-a0",
		.kinds	= K_MTK,
		.severity = BS_SEV_INFO,
		.failed_severity = BS_SEV_INFO,
		.cause	= "a newer preloader swallowed an extra a0 in the middle of the sync (it tolerates one and does not answer it)",
		.fix	= "nothing to fix; the sync goes on from the next byte",
		.match	= m_mid_sync_a0,
	},
	{
		.code	= "watching",
		.kinds	= K_ANY,
		.severity = BS_SEV_INFO,
		.failed_severity = BS_SEV_INFO,
		.cause	= "the kind's policy is \"watch\": bootshake claimed the device and sent it nothing",
		.fix	= "`bootshake retry DEV` handshakes it now; `bootshake policy KIND auto` or `bootshake arm KIND` handshakes the next ones",
		.match	= m_watching,
	},
	{
		.code	= "released",
		.kinds	= K_ANY,
		.severity = BS_SEV_INFO,
		.failed_severity = BS_SEV_INFO,
		.cause	= "the device was released to userspace: bootshake sends it nothing more on this connection",
		.fix	= "use the flashing tool now; replug the device to give it back to bootshake",
		.match	= m_released,
	},
	{
		.code	= "transcript-incomplete",
		.kinds	= K_ANY,
		.severity = BS_SEV_INFO,
		.failed_severity = BS_SEV_INFO,
		.cause	= "the transcript's oldest records were dropped (the ring is bounded), so its beginning is missing",
		.fix	= "nothing to fix; to see a whole handshake, look at the transcript soon after the device appears",
		.match	= m_lost,
	},
};

/* --- the engine ------------------------------------------------------- */

/* Where the sync ended: a "sync done" note, or 05 answered fa. */
static size_t find_sync_end(const struct view *v)
{
	char text[64];
	size_t i, rec = SIZE_MAX;

	if (v->tr) {
		for (i = 0; i < v->tr->n; i++) {
			if (v->tr->v[i].dir != BOOTSHAKE_DIR_NOTE)
				continue;
			bs_tr_text(&v->tr->v[i], text, sizeof(text));
			if (!strncmp(text, "sync done", 9) ||
			    !strncmp(text, "synced", 6) ||
			    !strncmp(text, "already synced", 14)) {
				rec = i;
				break;
			}
		}
	}
	for (i = 0; i < v->nev; i++) {
		if (v->ev[i].rec > rec)
			return i;
		if (i && v->ev[i].dir == BOOTSHAKE_DIR_IN &&
		    v->ev[i].b == 0xfa && v->ev[i - 1].dir == BOOTSHAKE_DIR_OUT &&
		    v->ev[i - 1].b == 0x05)
			return i + 1;
	}
	return v->nev;
}

static int view_init(struct view *v, const struct bs_dev *dev,
		     const struct bs_tr *tr)
{
	size_t i, j, total = 0;

	memset(v, 0, sizeof(*v));
	v->dev = dev;
	v->tr = tr;
	v->code = dev->error_code ? dev->error_code : "";
	v->failed = BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE) &&
		    dev->state == BOOTSHAKE_STATE_FAILED;
	v->mtk = !BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_KIND) ||
		 dev->kind == BOOTSHAKE_KIND_MTK_BROM ||
		 dev->kind == BOOTSHAKE_KIND_MTK_PRELOADER;
	if (!tr)
		return 0;
	for (i = 0; i < tr->n; i++)
		if (tr->v[i].dir != BOOTSHAKE_DIR_NOTE)
			total += tr->v[i].len;
	v->ev = calloc(total + 1, sizeof(*v->ev));
	v->in = calloc(total + 1, 1);
	if (!v->ev || !v->in)
		return -1;
	for (i = 0; i < tr->n; i++) {
		const struct bs_tr_rec *r = &tr->v[i];

		if (r->dir != BOOTSHAKE_DIR_OUT && r->dir != BOOTSHAKE_DIR_IN)
			continue;
		for (j = 0; j < r->len; j++) {
			struct byte_ev *e = &v->ev[v->nev++];

			e->dir = r->dir;
			e->b = r->data[j];
			e->t_ns = r->t_ns;
			e->rec = i;
			if (r->dir == BOOTSHAKE_DIR_IN) {
				v->in[v->nin_bytes++] = r->data[j];
				v->nin++;
			} else {
				v->nout++;
			}
		}
	}
	v->sync_end = find_sync_end(v);
	return 0;
}

const char *bs_severity_name(enum bs_severity sev)
{
	switch (sev) {
	case BS_SEV_INFO:	return "info";
	case BS_SEV_WARNING:	return "warning";
	default:		return "error";
	}
}

static bool found(const struct bs_finding *f, size_t n, const char *code)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(f[i].code, code))
			return true;
	return false;
}

static const struct rule unexplained = {
	.code	= "failed-unexplained",
	.cause	= "the handshake failed in a way none of the known causes explains",
	.fix	= "read `bootshake transcript DEV` (the \"!! here:\" line marks where it went wrong), try `bootshake retry DEV`, and report the transcript",
};

size_t bs_diagnose(const struct bs_dev *dev, const struct bs_tr *tr,
		   struct bs_finding *out, size_t max)
{
	unsigned int kind_bit = 0;
	struct view v;
	bool explained = false;
	size_t i, n = 0;
	int sev;

	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_KIND) && dev->kind < 32)
		kind_bit = 1u << dev->kind;
	if (view_init(&v, dev, tr))
		tr = NULL;	/* out of memory: go on from the state */
	if (!tr)
		v.tr = NULL;

	for (i = 0; i < ARRAY_SIZE(rules) && n < max; i++) {
		const struct rule *r = &rules[i];
		struct bs_finding *f = &out[n];

		/* a device of unknown kind gets every rule */
		if (kind_bit && !(r->kinds & kind_bit))
			continue;
		if (i && !strcmp(rules[i - 1].code, r->code) && n &&
		    !strcmp(out[n - 1].code, r->code))
			continue;	/* same cause, other kind: said once */
		if (r->unless && found(out, n, r->unless))
			continue;
		f->evidence[0] = '\0';
		if (!r->match(&v, f->evidence, sizeof(f->evidence)))
			continue;
		f->code = r->code;
		f->cause = r->cause;
		f->fix = r->fix;
		f->severity = v.failed ? r->failed_severity : r->severity;
		if (f->severity == BS_SEV_ERROR)
			explained = true;
		n++;
	}
	if (v.failed && !explained && n < max) {
		struct bs_finding *f = &out[n++];

		f->code = unexplained.code;
		f->cause = unexplained.cause;
		f->fix = unexplained.fix;
		f->severity = BS_SEV_ERROR;
		snprintf(f->evidence, sizeof(f->evidence), "state failed, error %s%s%s",
			 v.code[0] ? v.code : "unknown",
			 dev->reason ? ": " : "", dev->reason ? dev->reason : "");
	}

	/* most severe first, table order within a severity */
	for (sev = BS_SEV_ERROR, i = 0; sev >= BS_SEV_INFO; sev--) {
		size_t j;

		for (j = i; j < n; j++) {
			if ((int)out[j].severity != sev)
				continue;
			if (j != i) {
				struct bs_finding tmp = out[j];

				memmove(&out[i + 1], &out[i],
					(j - i) * sizeof(*out));
				out[i] = tmp;
			}
			i++;
		}
	}
	free(v.ev);
	free(v.in);
	return n;
}
