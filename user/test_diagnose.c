// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test for diagnose.c and the transcript mark: each cause the rules
 * know gets a canned transcript that produces it, plus clean handshakes
 * that must produce nothing. No kernel, no socket.
 *
 * A script is one record a line, a millisecond apart:
 *   "> a0"          host to device, hex bytes
 *   "< 5f f5"       device to host
 *   "# sync start"  a note of the driver's
 *
 *   test_diagnose          run the checks, exit 1 on any failure
 *   test_diagnose --print  also print each case's diagnosis and
 *                          transcript (add -j for JSON)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bootshake.h>

#include "dev.h"
#include "diagnose.h"
#include "print.h"
#include "transcript.h"

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static int failures;
static bool verbose;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		failures++;						\
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__,	\
			#cond);						\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

static void script(struct bs_tr *tr, const char *text)
{
	uint64_t t = 0;
	const char *p = text;

	while (*p) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		uint8_t data[64];
		size_t len = 0;
		char line[128];
		uint32_t dir;

		snprintf(line, sizeof(line), "%.*s", (int)n, p);
		p += n + (eol ? 1 : 0);
		if (n < 2)
			continue;
		t += 1000000;
		if (line[0] == '#') {
			bs_tr_append(tr, t, BOOTSHAKE_DIR_NOTE, line + 2,
				     strlen(line + 2), 0);
			continue;
		}
		dir = line[0] == '>' ? BOOTSHAKE_DIR_OUT : BOOTSHAKE_DIR_IN;
		for (char *tok = strtok(line + 1, " "); tok && len < 64;
		     tok = strtok(NULL, " "))
			data[len++] = strtoul(tok, NULL, 16);
		bs_tr_append(tr, t, dir, data, len, 0);
	}
}

/* The device of a case; the transcript comes from a script. */
struct dcase {
	const char	*name;
	uint32_t	kind;
	uint32_t	state;
	const char	*code;		/* error code, NULL: none */
	uint32_t	flags;
	uint32_t	watchdog;	/* 0: attribute absent */
	int		dfu_state;	/* -1: absent */
	int		dfu_status;
	int		garbage;	/* -1: absent */
	bool		no_tr;		/* the module keeps no transcript */
	const char	*script;
	const char	*expect;	/* first (most severe) code, NULL: none */
	const char	*also;		/* another code that must be there */
	const char	*absent;	/* a code that must not be */
	const char	*mark;		/* substring of the mark, "" : none */
};

#define CLEAN_BROM							\
	"# sync start\n> a0\n< 5f\n> 0a\n< f5\n> 50\n< af\n> 05\n< fa\n"	\
	"# sync done\n> fd\n< fd 07 66 00 00\n"

static const struct dcase cases[] = {
	{
		.name	= "clean BROM sync",
		.kind	= BOOTSHAKE_KIND_MTK_BROM,
		.state	= BOOTSHAKE_STATE_READY,
		.watchdog = BOOTSHAKE_WDT_DISABLED,
		.script	= CLEAN_BROM "> d8\n< d8 00 00 00 e7 00 00\n",
		.mark	= "",
	},
	{
		.name	= "clean preloader: the first a0 swallowed",
		.kind	= BOOTSHAKE_KIND_MTK_PRELOADER,
		.state	= BOOTSHAKE_STATE_READY,
		.watchdog = BOOTSHAKE_WDT_SKIPPED,
		.script	= "> a0\n# no reply to a0\n" CLEAN_BROM "> fe\n< 03\n",
		.mark	= "",
	},
	{
		.name	= "stray AT bytes answered byte+1 before the sync",
		.kind	= BOOTSHAKE_KIND_MTK_BROM,
		.state	= BOOTSHAKE_STATE_READY,
		.script	= "< 42 55 0e\n" CLEAN_BROM,
		.expect	= "stray-bytes",
	},
	{
		.name	= "a0 answered a1: the device was past index 0",
		.kind	= BOOTSHAKE_KIND_MTK_BROM,
		.state	= BOOTSHAKE_STATE_FAILED,
		.code	= "rejected",
		.script	= "> a0\n< a1\n# reject a1: a0+1\n> a0\n< a1\n"
			  "# reject a1: a0+1\n# fail rejected\n",
		.expect	= "stray-bytes",
		.mark	= "a0 sent + 1",
	},
	{
		.name	= "a late 5f: the restarted sync's a0 answered a1",
		.kind	= BOOTSHAKE_KIND_MTK_BROM,
		.state	= BOOTSHAKE_STATE_READY,
		.script	= "> a0\n# step timeout a0\n< 5f\n> a0\n< a1\n"
			  "# reject a1: a0+1\n" CLEAN_BROM,
		.expect	= "sync-restart",
		.absent	= "stray-bytes",
	},
	{
		.name	= "the reply to 0a lost: the next a0 answered a1",
		.kind	= BOOTSHAKE_KIND_MTK_BROM,
		.state	= BOOTSHAKE_STATE_READY,
		.script	= "> a0\n< 5f\n> 0a\n# step timeout 0a\n> a0\n< a1\n"
			  "# reject a1: a0+1\n" CLEAN_BROM,
		.expect	= "sync-restart",
		.absent	= "stray-bytes",
	},
	{
		.name	= "already synced: a0 echoed",
		.kind	= BOOTSHAKE_KIND_MTK_BROM,
		.state	= BOOTSHAKE_STATE_READY,
		.flags	= BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED,
		.script	= "> a0\n< a0\n# already synced\n> fd\n< fd 07 17 00 00\n",
		.expect	= "already-synced",
		.absent	= "stray-bytes",
	},
	{
		.name	= "READY banners from a preloader cdc_acm touched",
		.kind	= BOOTSHAKE_KIND_MTK_PRELOADER,
		.state	= BOOTSHAKE_STATE_READY,
		.flags	= BOOTSHAKE_DEV_FLAG_TAKEN_OVER,
		.script	= "< 52 45 41 44 59\n< 52 45 41 44 59\n> a0\n"
			  CLEAN_BROM,
		.expect	= "ready-banner",
		.absent	= "noise",
	},
	{
		.name	= "preloader booted on a token",
		.kind	= BOOTSHAKE_KIND_MTK_PRELOADER,
		.state	= BOOTSHAKE_STATE_FAILED,
		.code	= "usb-error",
		.script	= "< 41 54 45 4d 41 54 45 4d\n> a0\n",
		.expect	= "token",
		.absent	= "stray-bytes",
	},
	{
		.name	= "8 non-a0 bytes, then the device left",
		.kind	= BOOTSHAKE_KIND_MTK_PRELOADER,
		.state	= BOOTSHAKE_STATE_GONE,
		.script	= "> 4d 45 54 41 4d 45 54 41\n",
		.expect	= "token",
		.absent	= "no-reply",
	},
	{
		.name	= "no byte came back",
		.kind	= BOOTSHAKE_KIND_MTK_BROM,
		.state	= BOOTSHAKE_STATE_FAILED,
		.code	= "no-reply",
		.script	= "# sync start\n> a0\n> a0\n> a0\n# fail no-reply\n",
		.expect	= "no-reply",
		.mark	= "last byte exchanged before the device failed (no-reply)",
	},
	{
		.name	= "no reply from an STM32 (BOOT0 words)",
		.kind	= BOOTSHAKE_KIND_STM32_USART,
		.state	= BOOTSHAKE_STATE_FAILED,
		.code	= "no-reply",
		.script	= "> 7f\n> 7f\n",
		.expect	= "no-reply",
	},
	{
		.name	= "replies corrupted at random",
		.kind	= BOOTSHAKE_KIND_MTK_BROM,
		.state	= BOOTSHAKE_STATE_READY,
		.garbage = 6,
		.script	= "> a0\n< 13\n# noise 13\n< 5f\n> 0a\n< 77 c2\n"
			  "# noise 77\n< f5\n> 50\n< 09 af\n> 05\n< 3c fa\n",
		.expect	= "noise",
		.mark	= "noise 13",
	},
	{
		.name	= "noise from the counter alone (no transcript)",
		.kind	= BOOTSHAKE_KIND_MTK_BROM,
		.state	= BOOTSHAKE_STATE_READY,
		.garbage = 9,
		.no_tr	= true,
		.expect	= "noise",
	},
	{
		.name	= "dfuERROR that will not clear",
		.kind	= BOOTSHAKE_KIND_STM32_DFU,
		.state	= BOOTSHAKE_STATE_FAILED,
		.code	= "dfu-error",
		.dfu_state = 10,
		.dfu_status = 0x0a,
		.script	= "# getstatus dfuERROR errFIRMWARE\n# clrstatus\n"
			  "# getstatus dfuERROR errFIRMWARE\n",
		.expect	= "dfu-error",
	},
	{
		.name	= "read protection (DFU errVENDOR)",
		.kind	= BOOTSHAKE_KIND_STM32_DFU,
		.state	= BOOTSHAKE_STATE_READY,
		.dfu_state = 10,
		.dfu_status = 0x0b,
		.script	= "",
		.expect	= "read-protection",
		.absent	= "dfu-error",
	},
	{
		.name	= "read protection (USART NACK on Read Memory)",
		.kind	= BOOTSHAKE_KIND_STM32_USART,
		.state	= BOOTSHAKE_STATE_READY,
		.script	= "> 7f\n< 79\n> 01 fe\n< 79 31 00 00 79\n> 11 ee\n< 1f\n",
		.expect	= "read-protection",
	},
	{
		.name	= "USART already synced (NACK to 7f)",
		.kind	= BOOTSHAKE_KIND_STM32_USART,
		.state	= BOOTSHAKE_STATE_READY,
		.script	= "> 7f\n< 1f\n> 00 ff\n< 79 0b 31 00 01 02 11 21 31 44 63 73 82 92 79\n",
		.expect	= "already-synced",
	},
	{
		.name	= "watchdog refused",
		.kind	= BOOTSHAKE_KIND_MTK_BROM,
		.state	= BOOTSHAKE_STATE_READY,
		.watchdog = BOOTSHAKE_WDT_REFUSED,
		.script	= CLEAN_BROM "> d4\n< d4\n> 10 00 70 00\n< 10 00 70 00\n"
			  "> 00 00 00 01\n< 00 00 00 01\n< 10 01\n",
		.expect	= "watchdog-refused",
	},
	{
		.name	= "watchdog timeout",
		.kind	= BOOTSHAKE_KIND_MTK_BROM,
		.state	= BOOTSHAKE_STATE_READY,
		.watchdog = BOOTSHAKE_WDT_TIMEOUT,
		.script	= CLEAN_BROM,
		.expect	= "watchdog-timeout",
	},
	{
		.name	= "identity readout ended early, watchdog still written",
		.kind	= BOOTSHAKE_KIND_MTK_BROM,
		.state	= BOOTSHAKE_STATE_READY,
		.flags	= BOOTSHAKE_DEV_FLAG_IDENT_PARTIAL,
		.watchdog = BOOTSHAKE_WDT_DISABLED,
		.script	= CLEAN_BROM "> fc\n< fc\n# cmd fc: timeout\n"
			  "# cmd fc: retry\n> fc\n< fc\n# cmd fc: timeout\n"
			  "> d8\n< d8\n# cmd d8: timeout\n# cmd d8: retry\n"
			  "> d8\n< d8\n# cmd d8: timeout\n"
			  "# ident ended before ff\n"
			  "> d4\n< d4\n# watchdog off\n",
		.expect	= "ident-partial",
		.absent	= "failed-unexplained",
		.mark	= "",
	},
	{
		.name	= "a late reply retried: nothing to report",
		.kind	= BOOTSHAKE_KIND_MTK_BROM,
		.state	= BOOTSHAKE_STATE_READY,
		.watchdog = BOOTSHAKE_WDT_DISABLED,
		.script	= CLEAN_BROM "> fc\n# cmd fc: timeout\n# cmd fc: retry\n"
			  "< fc 8a 00 ca 00 00 00 00 00\n"
			  "# cmd fc: drained 9\n# slow: 200 ms/reply\n> fc\n"
			  "< fc 8a 00 ca 00 00 00 00 00\n",
		.absent	= "ident-partial",
		.mark	= "",
	},
	{
		.name	= "newer preloader swallows a mid-sync a0",
		.kind	= BOOTSHAKE_KIND_MTK_PRELOADER,
		.state	= BOOTSHAKE_STATE_READY,
		.script	= "> a0\n> a0\n< 5f\n> 0a\n< f5\n> a0\n> 0a\n< f5\n> 50\n"
			  "< af\n> 05\n< fa\n",
		.expect	= "mid-sync-a0",
		.absent	= "noise",
	},
	{
		.name	= "failed for no known reason",
		.kind	= BOOTSHAKE_KIND_MTK_BROM,
		.state	= BOOTSHAKE_STATE_FAILED,
		.code	= "timeout",
		.script	= CLEAN_BROM "> fc\n# step timeout\n# fail timeout\n",
		.expect	= "failed-unexplained",
		.mark	= "step timeout",
	},
	{
		.name	= "watching: nothing sent",
		.kind	= BOOTSHAKE_KIND_MTK_PRELOADER,
		.state	= BOOTSHAKE_STATE_WATCHING,
		.script	= "",
		.expect	= "watching",
	},
	{
		.name	= "released",
		.kind	= BOOTSHAKE_KIND_MTK_BROM,
		.state	= BOOTSHAKE_STATE_RELEASED,
		.script	= CLEAN_BROM "# released\n",
		.expect	= "released",
	},
};

static void make_dev(const struct dcase *c, struct bs_dev *dev)
{
	memset(dev, 0, sizeof(*dev));
	dev->id = 1;
	dev->path = strdup("1-1");
	dev->kind = c->kind;
	dev->state = c->state;
	dev->flags = c->flags;
	dev->present = 1u << BOOTSHAKE_A_DEV_ID | 1u << BOOTSHAKE_A_DEV_PATH |
		       1u << BOOTSHAKE_A_DEV_KIND | 1u << BOOTSHAKE_A_DEV_STATE |
		       1u << BOOTSHAKE_A_DEV_FLAGS;
	if (c->code)
		dev->error_code = strdup(c->code);
	if (c->garbage > 0) {
		dev->garbage = c->garbage;
		dev->present |= 1u << BOOTSHAKE_A_DEV_GARBAGE;
	}
	if (c->watchdog) {
		dev->mtk.watchdog = c->watchdog;
		dev->mtk_present |= 1u << BOOTSHAKE_A_MTK_WATCHDOG;
		dev->present |= 1u << BOOTSHAKE_A_DEV_MTK;
	}
	if (c->dfu_state > 0) {
		dev->stm32.dfu_state = c->dfu_state;
		dev->stm32.dfu_status = c->dfu_status;
		dev->stm32_present |= 1u << BOOTSHAKE_A_STM32_DFU_STATE |
				      1u << BOOTSHAKE_A_STM32_DFU_STATUS;
		dev->present |= 1u << BOOTSHAKE_A_DEV_STM32;
	}
}

static bool has(const struct bs_finding *f, size_t n, const char *code)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!strcmp(f[i].code, code))
			return true;
	return false;
}

static void run_case(const struct dcase *c)
{
	struct bs_finding f[BS_DIAG_MAX];
	struct bs_tr tr = { 0 };
	struct bs_tr_mark mark;
	struct bs_dev dev;
	size_t n, i;

	make_dev(c, &dev);
	if (c->script)
		script(&tr, c->script);
	n = bs_diagnose(&dev, c->no_tr ? NULL : &tr, f, BS_DIAG_MAX);

	if (!c->expect)
		CHECK(n == 0, "%s: expected no finding, got %zu, first %s (%s)",
		      c->name, n, n ? f[0].code : "", n ? f[0].evidence : "");
	else
		CHECK(n > 0 && !strcmp(f[0].code, c->expect),
		      "%s: expected %s first, got %s", c->name, c->expect,
		      n ? f[0].code : "nothing");
	if (c->also)
		CHECK(has(f, n, c->also), "%s: no %s", c->name, c->also);
	if (c->absent)
		CHECK(!has(f, n, c->absent), "%s: %s should not be there",
		      c->name, c->absent);
	for (i = 0; i < n; i++) {
		CHECK(f[i].cause && f[i].cause[0] && f[i].fix && f[i].fix[0],
		      "%s: %s has no cause or fix", c->name, f[i].code);
		CHECK(f[i].evidence[0], "%s: %s has no evidence", c->name,
		      f[i].code);
		if (i)
			CHECK(f[i].severity <= f[i - 1].severity,
			      "%s: findings not sorted by severity", c->name);
	}

	bs_tr_find_mark(&tr, &dev, &mark);
	if (c->mark && !c->mark[0])
		CHECK(mark.after < 0, "%s: unexpected mark \"%s\"", c->name,
		      mark.why);
	else if (c->mark)
		CHECK(mark.after >= 0 && strstr(mark.why, c->mark),
		      "%s: mark \"%s\" lacks \"%s\"", c->name, mark.why,
		      c->mark);

	if (verbose) {
		if (!bs_json)
			printf("=== %s\n", c->name);
		print_diagnosis(&dev, f, n);
		print_transcript(&dev, &tr);
	}
	bs_tr_free(&tr);
	bs_dev_clear(&dev);
}

/* Notes with and without the NUL, records lost before others. */
static void test_transcript(void)
{
	struct bs_tr tr = { 0 };
	char buf[64];

	bs_tr_append(&tr, 5, BOOTSHAKE_DIR_NOTE, "sync start\0", 11, 0);
	bs_tr_append(&tr, 6, BOOTSHAKE_DIR_NOTE, "noise 52", 8, 3);
	bs_tr_append(&tr, 7, BOOTSHAKE_DIR_IN, "READY", 5, 2);
	CHECK(!strcmp(bs_tr_text(&tr.v[0], buf, sizeof(buf)), "sync start"),
	      "text with NUL: \"%s\"", buf);
	CHECK(!strcmp(bs_tr_text(&tr.v[1], buf, sizeof(buf)), "noise 52"),
	      "text without NUL");
	CHECK(tr.lost == 5, "lost %llu", (unsigned long long)tr.lost);
	CHECK(bs_tr_is_text(&tr.v[2]), "READY is text");
	CHECK(!strcmp(bs_tr_hex(&tr.v[2], buf, sizeof(buf)),
		      "52 45 41 44 59"), "hex \"%s\"", buf);
	bs_tr_free(&tr);
}

int main(int argc, char **argv)
{
	size_t i;

	if (argc > 1 && !strcmp(argv[1], "--print")) {
		verbose = true;
		bs_json = argc > 2 && !strcmp(argv[2], "-j");
	}
	test_transcript();
	for (i = 0; i < ARRAY_SIZE(cases); i++)
		run_case(&cases[i]);
	if (failures) {
		fprintf(stderr, "test_diagnose: %d failure(s)\n", failures);
		return 1;
	}
	if (!verbose)
		printf("test_diagnose: %zu cases, all checks passed\n",
		       ARRAY_SIZE(cases));
	return 0;
}
