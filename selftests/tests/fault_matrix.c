// SPDX-License-Identifier: GPL-2.0
/*
 * The fault matrix: for each handshake the emulator plays, a fault at
 * every protocol step, and each case must end in bounded time in the
 * right state, with no kernel splat.
 *
 *   unplug_at=N  the cable goes when the device receives host byte N:
 *                the device is removed (remove event), and neither
 *                "ready" nor "failed" is reported for it first.
 *   stall_at=N   the device halts bulk IN on host byte N (once): during
 *                the sync, "failed" with error code "stall" (EPIPE);
 *                during the MediaTek identity readout the module clears
 *                the halt and sends the command again (kmod/mtk.c,
 *                mtk_cmd()), so "ready" with a "stall cleared" note in
 *                the transcript, or, where the retry cannot help,
 *                "failed" "stall".  STM32 USART: always "failed" "stall".
 *   delay_ms=D   every reply leaves D ms late, D past the step deadline
 *                S (set per kind with POLICY_SET, read at handshake
 *                start; the margin D - S is scaled by bsk_scale()):
 *                "failed", ETIMEDOUT/EPROTO, within the sync deadline
 *                plus one step.
 *
 * "Every step" is every host byte of a clean handshake: the first case
 * of a personality plugs it once without faults and counts the bytes the
 * emulator received (its --log), cases past that count are skipped.  So
 * the matrix follows the handshake as it grows.
 *
 * BSK_FAULT_ONLY="mtk-brom:unplug_at=10,stall_at=5" runs only the cases
 * whose "<personality>:<fault>" ends in one of the comma-separated words.
 *
 * Personalities: mtk-brom, mtk-preloader (policy set to auto for the
 * test, the listen windows opened wide: the matrix tests faults, not the
 * preloader's timing), stm32-usart (bytes as above), stm32-dfu (steps are
 * DFU class requests: unplug_req=N; its emulator can stall only
 * GETSTATUS, so that is one case, plus a device that stays busy).  Not
 * covered yet, for want of emulator knobs: a DFU request answered past
 * its deadline, ep0 stalled at an arbitrary step.  Every event is read from a raw netlink monitor
 * socket (selftests/lib/bsk_genl.h).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "bsk_test.h"
#include "bsk_genl.h"

#define UDC		"dummy_udc.0"
#define MAX_STEP	40

enum expect {
	EXPECT_GONE,		/* removed, nothing reported before */
	EXPECT_FAILED,		/* "failed" with one of the codes */
	EXPECT_READY,
	EXPECT_STALL,		/* "failed" "stall", or recovered: see below */
};

FIXTURE(fault) {
	struct bsk_emu emu;
	struct bsk_genl mon;
	struct bsk_genl ctl;
	struct bsk_genl_policy saved;
	bool restore;
	int kmsg;
	uint32_t dev_id;
	bool removed;
};

FIXTURE_VARIANT(fault) {
	const char *personality;
	uint32_t kind;
	const char *fault;	/* with %d for the step, or fixed */
	int step;		/* 0: not a per-step case */
	enum expect expect;
	const char *codes;	/* EXPECT_FAILED: acceptable error codes */
	uint32_t step_ms;	/* POLICY_SET step deadline, 0: leave */
	uint32_t sync_ms;	/* POLICY_SET sync deadline, 0: leave */
	bool control;		/* steps are DFU class requests, not bytes */
};

/* Extra emulator knobs per personality: open the windows wide. */
static const char *const *personality_knobs(const char *personality)
{
	static const char *const preloader[] = { "window_ms=0",
						 "sync_window_ms=600000",
						 NULL };

	if (!strcmp(personality, "mtk-preloader"))
		return preloader;
	return NULL;
}

#define USART_NEW_ID	"/sys/bus/usb/drivers/bootshake/new_id"
#define USART_REMOVE_ID	"/sys/bus/usb/drivers/bootshake/remove_id"
#define USART_ID	"0483 5740 02"

static int sysfs_write(const char *path, const char *v)
{
	int fd = open(path, O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, v, strlen(v)) == (ssize_t)strlen(v);
	close(fd);
	return ok ? 0 : -1;
}

FIXTURE_SETUP(fault)
{
	self->emu.pid = -1;
	self->mon.fd = -1;
	self->ctl.fd = -1;
	self->kmsg = bsk_kmsg_mark();
	ASSERT_EQ(0, bsk_genl_monitor(&self->mon));
	ASSERT_EQ(0, bsk_genl_open(&self->ctl, 0));
	ASSERT_EQ(0, bsk_genl_policy_get(&self->ctl, variant->kind,
					 &self->saved)) {
		TH_LOG("kind %u unknown to the module", variant->kind);
	}
	/* Sync deadline first: a step longer than the sync is refused. */
	ASSERT_EQ(0, bsk_genl_policy_set(&self->ctl, variant->kind,
					 BOOTSHAKE_POLICY_AUTO, 0,
					 variant->sync_ms));
	self->restore = true;
	/*
	 * The step deadline: the variant's, or for the per-step cases 100 ms
	 * scaled like every test deadline (under TCG, and more so under the
	 * debug kernel, a round trip to the emulator can take longer than
	 * the default 100 ms, and the clean run that counts the steps must
	 * not lose any).
	 */
	ASSERT_EQ(0, bsk_genl_policy_set(&self->ctl, variant->kind, 0,
					 variant->step_ms ?:
					 (uint32_t)(100 * bsk_scale()), 0));
	/* A CDC-ACM bridge is an STM32 only when the user says so. */
	if (!strcmp(variant->personality, "stm32-usart"))
		ASSERT_EQ(0, sysfs_write(USART_NEW_ID, USART_ID));
}

FIXTURE_TEARDOWN(fault)
{
	if (self->emu.pid > 0)
		bsk_emu_stop(&self->emu);
	/* The device's remove event: nothing may be left behind. */
	while (self->dev_id && !self->removed) {
		struct bsk_genl_dev d;
		uint8_t cmd;

		if (bsk_genl_event(&self->mon, &cmd, &d, 10000 * bsk_scale())) {
			TH_LOG("device %u: no remove event", self->dev_id);
			_metadata->passed = 0;
			break;
		}
		if (d.id == self->dev_id && cmd == BOOTSHAKE_CMD_DEV_DEL_NTF)
			self->removed = true;
	}
	if (self->restore) {
		bsk_genl_policy_set(&self->ctl, variant->kind, 0, 0, 600000);
		EXPECT_EQ(0, bsk_genl_policy_set(&self->ctl, variant->kind,
						 self->saved.mode,
						 self->saved.step_ms,
						 self->saved.sync_ms));
	}
	if (!strcmp(variant->personality, "stm32-usart"))
		sysfs_write(USART_REMOVE_ID, USART_ID);
	bsk_genl_close(&self->ctl);
	bsk_genl_close(&self->mon);
	EXPECT_EQ(0, bsk_kmsg_splats(self->kmsg));
}

/*
 * Steps of a clean run, from the emulator's own log (what it counts for
 * unplug_at/stall_at/unplug_req): bulk OUT bytes it received ("rx <hex>"),
 * or, for DFU, the class requests it was sent ("setup 21 ..."/"a1").
 */
static int log_steps(const char *log, bool control)
{
	char line[8192], a[32], b[8192];
	int n = 0;
	FILE *f = fopen(log, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%*s %31s %8191s", a, b) != 2)
			continue;
		if (!control && !strcmp(a, "rx"))
			n += strlen(b) / 2;
		else if (control && !strcmp(a, "setup") &&
			 (!strcmp(b, "21") || !strcmp(b, "a1")))
			n++;
	}
	fclose(f);
	return n;
}

static int print_tr_cb(const struct nlmsghdr *nlh, void *arg)
{
	static const char *const dirs[] = { "out", "in", "note" };
	const struct nlattr *data, *t;
	const void *a;
	size_t al;
	uint32_t dir;
	uint64_t ns = 0;
	char line[512];
	int n = 0;

	a = bsk_genl_attrs(nlh, &al);
	dir = bsk_nla_get_u32(bsk_nla_find(a, al, BOOTSHAKE_A_TR_DIR), 3);
	data = bsk_nla_find(a, al, BOOTSHAKE_A_TR_DATA);
	t = bsk_nla_find(a, al, BOOTSHAKE_A_TR_TIME_NS);
	if (t && t->nla_len >= NLA_HDRLEN + 8)
		memcpy(&ns, bsk_nla_data(t), 8);
	for (int i = 0; data && i < data->nla_len - NLA_HDRLEN &&
			n < (int)sizeof(line) - 4; i++) {
		uint8_t c = ((const uint8_t *)bsk_nla_data(data))[i];

		if (dir == BOOTSHAKE_DIR_NOTE)
			n += snprintf(line + n, sizeof(line) - n, "%c",
				      c >= 32 && c < 127 ? c : '.');
		else
			n += snprintf(line + n, sizeof(line) - n, "%02x", c);
	}
	line[n] = 0;
	fprintf(stderr, "#   %8.3f ms %-4s %s\n", ns / 1e6,
		dir < 3 ? dirs[dir] : "?", line);
	return 0;
}

struct note_find {
	const char *text;
	bool found;
};

static int find_note_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct note_find *nf = arg;
	const struct nlattr *data;
	const void *a;
	size_t al;

	a = bsk_genl_attrs(nlh, &al);
	if (bsk_nla_get_u32(bsk_nla_find(a, al, BOOTSHAKE_A_TR_DIR), 99) !=
	    BOOTSHAKE_DIR_NOTE)
		return 0;
	data = bsk_nla_find(a, al, BOOTSHAKE_A_TR_DATA);
	if (data && (size_t)(data->nla_len - NLA_HDRLEN) >= strlen(nf->text) &&
	    !memcmp(bsk_nla_data(data), nf->text, strlen(nf->text)))
		nf->found = true;
	return 0;
}

/* Does the device's transcript have a note starting with @text? */
static bool has_note(FIXTURE_DATA(fault) *self, uint32_t id, const char *text)
{
	struct note_find nf = { .text = text };
	char a[16];
	size_t al = bsk_nla_u32(a, sizeof(a), 0, BOOTSHAKE_A_TR_DEV_ID, id);

	if (bsk_genl_request(&self->ctl, BOOTSHAKE_CMD_TRANSCRIPT_GET,
			     NLM_F_DUMP, a, al, find_note_cb, &nf,
			     5000 * bsk_scale()))
		return false;
	return nf.found;
}

/* Print the device's transcript (diagnostics; it may be gone already). */
static void print_transcript(FIXTURE_DATA(fault) *self, uint32_t id)
{
	char a[16];
	size_t al = bsk_nla_u32(a, sizeof(a), 0, BOOTSHAKE_A_TR_DEV_ID, id);

	fprintf(stderr, "# transcript of device %u:\n", id);
	bsk_genl_request(&self->ctl, BOOTSHAKE_CMD_TRANSCRIPT_GET, NLM_F_DUMP,
			 a, al, print_tr_cb, NULL, 5000 * bsk_scale());
}

/*
 * Wait for the device on self->emu.path to be added, then for its
 * terminal state: ready/failed (*state) or its removal (gone).  Fills
 * *dev with the last event.  Returns 0, or -ETIMEDOUT at @timeout_ms.
 */
static int wait_terminal(FIXTURE_DATA(fault) *self, bool until_removed,
			 int timeout_ms, struct bsk_genl_dev *dev,
			 bool *saw_ready, bool *saw_failed)
{
	long long end = bsk_now_ms() + timeout_ms;

	*saw_ready = *saw_failed = false;
	for (;;) {
		struct bsk_genl_dev d;
		uint8_t cmd;
		int ret;

		ret = bsk_genl_event(&self->mon, &cmd, &d,
				     end - bsk_now_ms() > 0 ? end - bsk_now_ms() : 0);
		if (ret)
			return ret;
		if (!self->dev_id && cmd == BOOTSHAKE_CMD_DEV_ADD_NTF &&
		    !strcmp(d.path, self->emu.path))
			self->dev_id = d.id;
		if (!self->dev_id || d.id != self->dev_id)
			continue;
		*dev = d;
		if (cmd == BOOTSHAKE_CMD_DEV_DEL_NTF) {
			self->removed = true;
			return 0;
		}
		if (d.state == BOOTSHAKE_STATE_READY)
			*saw_ready = true;
		if (d.state == BOOTSHAKE_STATE_FAILED)
			*saw_failed = true;
		if (until_removed && (d.state == BOOTSHAKE_STATE_READY ||
				      d.state == BOOTSHAKE_STATE_FAILED))
			print_transcript(self, d.id);
		if (!until_removed && (*saw_ready || *saw_failed))
			return 0;
	}
}

/*
 * Host bytes of a clean handshake of @personality: measured once per
 * guest boot and kept in /tmp (tests run in forked children).
 */
static int clean_steps(struct __test_metadata *_metadata,
		       FIXTURE_DATA(fault) *self, const char *personality,
		       bool control)
{
	const char *extra[] = { "--log", NULL, NULL };
	char path[128], log[128];
	struct bsk_genl_dev d = { 0 };
	bool ready, failed;
	int n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/tmp/bsk-fault-steps-%s", personality);
	f = fopen(path, "r");
	if (f) {
		if (fscanf(f, "%d", &n) != 1)
			n = 0;
		fclose(f);
		if (n > 0)
			return n;
	}

	snprintf(log, sizeof(log), "/tmp/bsk-fault-clean-%s.log", personality);
	unlink(log);
	extra[1] = log;
	if (bsk_emu_start_ex(&self->emu, personality, UDC,
			     personality_knobs(personality), extra, true))
		return -1;
	if (wait_terminal(self, false, 30000 * bsk_scale(), &d, &ready,
			  &failed) || !ready) {
		TH_LOG("clean %s handshake did not get ready (state %s, %s)",
		       personality, bsk_state_name(d.state), d.error_code);
		return -1;
	}
	bsk_emu_stop(&self->emu);
	n = log_steps(log, control);
	if (n <= 0) {
		TH_LOG("no steps in %s", log);
		return -1;
	}
	if (wait_terminal(self, true, 10000 * bsk_scale(), &d, &ready, &failed))
		return -1;
	self->dev_id = 0;
	self->removed = false;

	f = fopen(path, "w");
	if (f) {
		fprintf(f, "%d\n", n);
		fclose(f);
	}
	TH_LOG("a clean %s handshake is %d %s", personality, n,
	       control ? "DFU class requests" : "host bytes");
	return n;
}

/*
 * BSK_FAULT_ONLY="mtk-brom:unplug_at=10,stall_at=5": run only the cases
 * whose "<personality>:<fault>" contains one of the comma-separated words.
 */
static bool selected(const char *personality, const char *fault)
{
	const char *only = getenv("BSK_FAULT_ONLY");
	char name[128], list[512], *w, *save = NULL;

	if (!only || !*only)
		return true;
	snprintf(name, sizeof(name), "%s:%s", personality, fault);
	snprintf(list, sizeof(list), "%s", only);
	for (w = strtok_r(list, ",", &save); w; w = strtok_r(NULL, ",", &save)) {
		/* "unplug_at=1" must not select unplug_at=10. */
		const char *p = strstr(name, w);

		if (p && (p[strlen(w)] == 0))
			return true;
	}
	return false;
}

TEST_F_TIMEOUT(fault, case, 300)
{
	const char *knobs[8] = { NULL };
	struct bsk_genl_policy pol;
	struct bsk_genl_dev d = { 0 };
	bool ready, failed;
	char fault[64], knobbuf[64];
	long long t0, dt, bound;
	int steps, k = 0;
	const char *const *extra;

	snprintf(fault, sizeof(fault), variant->fault, variant->step);
	if (!selected(variant->personality, fault))
		SKIP(return, "not in BSK_FAULT_ONLY");
	if (variant->step) {
		steps = clean_steps(_metadata, self, variant->personality,
				    variant->control);
		ASSERT_LT(0, steps);
		if (variant->step > steps)
			SKIP(return, "a clean %s handshake has only %d steps",
			     variant->personality, steps);
	}
	/*
	 * A delay case D past a step deadline S (unscaled, the module's
	 * own) is played as S + (D - S) * bsk_scale(): how late a reply
	 * is must be beyond doubt also when the guest's timers run late
	 * (TCG on a loaded host: a 100 ms deadline took 350 ms once).
	 */
	if (!strncmp(variant->fault, "delay_ms=", 9) && variant->step_ms) {
		long dly = atol(variant->fault + 9);

		dly = variant->step_ms + (dly - variant->step_ms) * bsk_scale();
		snprintf(fault, sizeof(fault), "delay_ms=%ld", dly);
	}
	/* Several knobs: "state=4 busy_polls=forever". */
	snprintf(knobbuf, sizeof(knobbuf), "%s", fault);
	for (char *w = strtok(knobbuf, " "); w && k < 6; w = strtok(NULL, " "))
		knobs[k++] = w;
	for (extra = personality_knobs(variant->personality); extra && *extra;
	     extra++)
		knobs[k++] = *extra;

	ASSERT_EQ(0, bsk_genl_policy_get(&self->ctl, variant->kind, &pol));
	/* Sync, then identity (a dozen steps at most), then some slack. */
	bound = (long long)(pol.sync_ms + 24 * pol.step_ms + 3000) * bsk_scale();

	t0 = bsk_now_ms();
	ASSERT_EQ(0, bsk_emu_start(&self->emu, variant->personality, UDC,
				   knobs));
	ASSERT_EQ(0, wait_terminal(self, variant->expect == EXPECT_GONE,
				   bound, &d, &ready, &failed)) {
		TH_LOG("%s with %s: no %s within %lld ms (last state %s)",
		       variant->personality, fault,
		       variant->expect == EXPECT_GONE ? "removal" : "result",
		       bound, bsk_state_name(d.state));
	}
	dt = bsk_now_ms() - t0;
	TH_LOG("%s %s: %s%s%s after %lld ms", variant->personality, fault,
	       bsk_state_name(d.state), d.error_code[0] ? " " : "",
	       d.error_code, dt);

	switch (variant->expect) {
	case EXPECT_GONE:
		EXPECT_TRUE(self->removed);
		EXPECT_FALSE(ready);
		EXPECT_FALSE(failed) {
			TH_LOG("unplug reported as a failure: %s (errno %u)",
			       d.error_code, d.error);
		}
		/* The emulator unplugged and exited by itself. */
		EXPECT_EQ(0, bsk_emu_wait_exit(&self->emu, 5000 * bsk_scale()));
		break;
	case EXPECT_FAILED:
		if (d.state != BOOTSHAKE_STATE_FAILED)
			print_transcript(self, d.id);
		ASSERT_EQ((uint32_t)BOOTSHAKE_STATE_FAILED, d.state) {
			TH_LOG("state %s, wanted failed (%s)",
			       bsk_state_name(d.state), variant->codes);
		}
		EXPECT_NE(0U, d.error);
		EXPECT_NE(NULL, strstr(variant->codes, d.error_code)) {
			TH_LOG("error code '%s' is none of %s", d.error_code,
			       variant->codes);
		}
		break;
	case EXPECT_READY:
		EXPECT_EQ((uint32_t)BOOTSHAKE_STATE_READY, d.state);
		break;
	case EXPECT_STALL:
		if (d.state == BOOTSHAKE_STATE_READY) {
			/* Only after the module cleared the halt. */
			EXPECT_TRUE(has_note(self, d.id, "stall cleared")) {
				print_transcript(self, d.id);
				TH_LOG("ready without a cleared stall");
			}
			break;
		}
		if (d.state != BOOTSHAKE_STATE_FAILED)
			print_transcript(self, d.id);
		ASSERT_EQ((uint32_t)BOOTSHAKE_STATE_FAILED, d.state);
		EXPECT_EQ(0, strcmp(d.error_code, "stall")) {
			print_transcript(self, d.id);
			TH_LOG("error code '%s', wanted stall", d.error_code);
		}
		break;
	}
}

/* ------------------------------------------------------------- matrix */

#define STEP_CASES(pers, kindv, name, fmt, exp, codes)			\
	STEP_CASE(pers, kindv, name, fmt, 1, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 2, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 3, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 4, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 5, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 6, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 7, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 8, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 9, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 10, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 11, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 12, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 13, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 14, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 15, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 16, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 17, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 18, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 19, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 20, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 21, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 22, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 23, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 24, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 25, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 26, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 27, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 28, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 29, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 30, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 31, exp, codes);		\
	STEP_CASE(pers, kindv, name, fmt, 32, exp, codes)

#define mtk_brom_kind		BOOTSHAKE_KIND_MTK_BROM
#define mtk_preloader_kind	BOOTSHAKE_KIND_MTK_PRELOADER
#define stm32_usart_kind	BOOTSHAKE_KIND_STM32_USART
#define stm32_dfu_kind		BOOTSHAKE_KIND_STM32_DFU

/* Names need C identifiers: the personality is spelled out below. */
#define FIXTURE_PERS_mtk_brom		"mtk-brom"
#define FIXTURE_PERS_mtk_preloader	"mtk-preloader"
#define FIXTURE_PERS_stm32_usart	"stm32-usart"
#define FIXTURE_PERS_stm32_dfu		"stm32-dfu"

#define STEP_CASE(pers, kindv, name, fmt, n, exp, codesv)		\
	FIXTURE_VARIANT_ADD(fault, pers##_##name##_##n) {		\
		.personality = FIXTURE_PERS_##pers, .kind = kindv,	\
		.fault = fmt, .step = n, .expect = exp,			\
		.codes = codesv, .control = pers##_control,		\
	}

#define mtk_brom_control	false
#define mtk_preloader_control	false
#define stm32_usart_control	false
#define stm32_dfu_control	true

STEP_CASES(mtk_brom, mtk_brom_kind, unplug, "unplug_at=%d", EXPECT_GONE, "");
STEP_CASES(mtk_brom, mtk_brom_kind, stall, "stall_at=%d", EXPECT_STALL,
	   "stall");
STEP_CASES(mtk_preloader, mtk_preloader_kind, unplug, "unplug_at=%d",
	   EXPECT_GONE, "");
STEP_CASES(mtk_preloader, mtk_preloader_kind, stall, "stall_at=%d",
	   EXPECT_STALL, "stall");

STEP_CASES(stm32_usart, stm32_usart_kind, unplug, "unplug_at=%d",
	   EXPECT_GONE, "");
STEP_CASES(stm32_usart, stm32_usart_kind, stall, "stall_at=%d",
	   EXPECT_FAILED, "stall");
/*
 * STM32 DFU (gadgetfs, control transfers only): the cable goes at every
 * DFU class request.  Its emulator can stall or ignore GETSTATUS only
 * (not every request), so those two are single cases below.
 */
STEP_CASES(stm32_dfu, stm32_dfu_kind, unplug, "unplug_req=%d", EXPECT_GONE,
	   "");

/* Every reply past the step deadline (policy step 100 ms, sync 3 s). */
#define DELAY_CASE(pers, kindv, d, s)					\
	FIXTURE_VARIANT_ADD(fault, pers##_delay_##d##_step_##s) {	\
		.personality = FIXTURE_PERS_##pers, .kind = kindv,	\
		.fault = "delay_ms=" #d, .expect = EXPECT_FAILED,	\
		.codes = "no-reply,timeout,rejected,noise",		\
		.step_ms = s, .sync_ms = 3000,				\
	}

DELAY_CASE(mtk_brom, mtk_brom_kind, 150, 100);
DELAY_CASE(mtk_brom, mtk_brom_kind, 400, 100);
DELAY_CASE(mtk_brom, mtk_brom_kind, 5000, 100);
DELAY_CASE(mtk_brom, mtk_brom_kind, 120, 50);
DELAY_CASE(mtk_preloader, mtk_preloader_kind, 150, 100);
DELAY_CASE(mtk_preloader, mtk_preloader_kind, 400, 100);
DELAY_CASE(mtk_preloader, mtk_preloader_kind, 5000, 100);
DELAY_CASE(stm32_usart, stm32_usart_kind, 150, 100);
DELAY_CASE(stm32_usart, stm32_usart_kind, 5000, 100);

#define ONE_CASE(pers, kindv, name, faultv, codesv)			\
	FIXTURE_VARIANT_ADD(fault, pers##_##name) {			\
		.personality = FIXTURE_PERS_##pers, .kind = kindv,	\
		.fault = faultv, .expect = EXPECT_FAILED,		\
		.codes = codesv, .control = pers##_control,		\
	}

ONE_CASE(stm32_dfu, stm32_dfu_kind, getstatus_stalls, "gs_stall=1000",
	 "stall");
ONE_CASE(stm32_dfu, stm32_dfu_kind, busy_forever,
	 "state=4 busy_polls=forever", "dfu-busy,timeout");

TEST_HARNESS_MAIN
