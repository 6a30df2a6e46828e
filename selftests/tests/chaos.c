// SPDX-License-Identifier: GPL-2.0
/*
 * Device-side fuzzing: a bsk-emu "chaos" device on every dummy UDC
 * (BSK_DUMMY_NUM, 4 by default), posing as a MediaTek BROM, a MediaTek
 * preloader or an STM32 behind a CDC-ACM bridge (selftests/emu/chaos.c:
 * seeded random bytes, lengths, ZLPs, stalls, delays, disconnects between
 * faithful replies).  Every time the module reports a handshake over
 * (ready or failed), the test asks for it again with RETRY, until
 * BSK_CHAOS_HANDSHAKES handshakes (default 300) have ended in all.
 *
 * What must hold, for every handshake:
 * - it ends: ready, failed, or the device leaves the bus (a chaos
 *   disconnect), within the sync deadline + 24 step deadlines + slack
 *   (scaled) from its start;
 * - "failed" carries an errno and an error code;
 * - RETRY of a device whose handshake is over is accepted (or -ENODEV
 *   when the device is leaving);
 * and for the run: every add has its remove, no event follows a remove,
 * ids never repeat, no device is left after the emulators stop, and no
 * splat (kmemleak is checked by check-debug after rmmod).
 *
 * Kinds: MTK BROM and preloader, STM32 USART (bulk byte streams).  The
 * STM32 DFU handshake (control transfers through gadgetfs) is not fuzzed
 * here: the fault matrix covers its faults.
 *
 * Seeded by BSK_CHAOS_SEED (default: time): device i gets seed + i.  The
 * seed is printed at the start and with every failure.  The emulators'
 * choices also depend on the timing of the host's transfers, so a seed
 * reproduces the devices' streams, not every interleaving.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "bsk_test.h"
#include "bsk_genl.h"

#define MAX_DEVS	32
#define MAX_IDS		(1 << 20)

#define USART_NEW_ID	"/sys/bus/usb/drivers/bootshake/new_id"
#define USART_REMOVE_ID	"/sys/bus/usb/drivers/bootshake/remove_id"
#define USART_ID	"0483 5740 02"

/* Deadlines the module uses for the chaos kinds (not scaled: a late
 * device is one more outcome here). */
#define STEP_MS		100
#define SYNC_MS		800

static const uint32_t kinds[] = {
	BOOTSHAKE_KIND_MTK_BROM,
	BOOTSHAKE_KIND_MTK_PRELOADER,
	BOOTSHAKE_KIND_STM32_USART,
};

static int ndevs(void)
{
	const char *s = getenv("BSK_DUMMY_NUM");
	int n = s ? atoi(s) : 4;

	return n < 1 ? 1 : n > MAX_DEVS ? MAX_DEVS : n;
}

static long env_long(const char *name, long dflt)
{
	const char *s = getenv(name);
	long v = s ? atol(s) : 0;

	return v > 0 ? v : dflt;
}

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

struct chaos_dev {
	struct bsk_emu emu;
	char udc[32];
	char seed[32];
	const char *as;
	uint32_t id;		/* the module's id while bound, 0: none */
	uint32_t state;
	long long started;	/* this handshake's start, 0: none running */
	long handshakes;
};

FIXTURE(chaos) {
	int kmsg;
	int n;
	uint64_t seed;
	struct chaos_dev devs[MAX_DEVS];
	struct bsk_genl ctl, mon;
	struct bsk_genl_policy saved[3];
	bool restore, new_id;
	uint8_t *seen;		/* per id: 1 added, 2 removed */
};

FIXTURE_SETUP(chaos)
{
	const char *s = getenv("BSK_CHAOS_SEED");
	struct timespec ts;

	self->kmsg = bsk_kmsg_mark();
	self->n = ndevs();
	self->ctl.fd = self->mon.fd = -1;
	for (int i = 0; i < MAX_DEVS; i++)
		self->devs[i].emu.pid = -1;
	clock_gettime(CLOCK_REALTIME, &ts);
	self->seed = s && *s ? strtoull(s, NULL, 0) :
		     (uint64_t)ts.tv_sec * 1000003u + ts.tv_nsec / 1000;
	TH_LOG("seed %" PRIu64 " (BSK_CHAOS_SEED reproduces the devices), %d devices",
	       self->seed, self->n);
	self->seen = calloc(MAX_IDS, 1);
	ASSERT_NE(NULL, self->seen);
	if (access("/sys/module/bootshake", F_OK))
		ASSERT_EQ(0, bsk_modprobe_bootshake());
	ASSERT_EQ(0, bsk_genl_monitor(&self->mon));
	ASSERT_EQ(0, bsk_genl_open(&self->ctl, 1 << 20));
	for (int k = 0; k < 3; k++)
		ASSERT_EQ(0, bsk_genl_policy_get(&self->ctl, kinds[k],
						 &self->saved[k]));
	self->restore = true;
	for (int k = 0; k < 3; k++) {
		/* Sync first: a step longer than the sync is refused. */
		ASSERT_EQ(0, bsk_genl_policy_set(&self->ctl, kinds[k],
						 BOOTSHAKE_POLICY_AUTO, 0,
						 SYNC_MS));
		ASSERT_EQ(0, bsk_genl_policy_set(&self->ctl, kinds[k], 0,
						 STEP_MS, 0));
	}
	ASSERT_EQ(0, sysfs_write(USART_NEW_ID, USART_ID));
	self->new_id = true;
}

FIXTURE_TEARDOWN(chaos)
{
	for (int i = 0; i < MAX_DEVS; i++)
		if (self->devs[i].emu.pid > 0)
			bsk_emu_stop(&self->devs[i].emu);
	if (self->new_id)
		sysfs_write(USART_REMOVE_ID, USART_ID);
	for (int k = 0; self->restore && k < 3; k++) {
		bsk_genl_policy_set(&self->ctl, kinds[k], 0, 0, 600000);
		EXPECT_EQ(0, bsk_genl_policy_set(&self->ctl, kinds[k],
						 self->saved[k].mode,
						 self->saved[k].step_ms,
						 self->saved[k].sync_ms));
	}
	bsk_genl_close(&self->ctl);
	bsk_genl_close(&self->mon);
	free(self->seen);
	EXPECT_EQ(0, bsk_kmsg_splats(self->kmsg));
}

static int chaos_start(struct chaos_dev *c, int i, uint64_t seed)
{
	static const char *const faults[][3] = {
		{ NULL },
		{ NULL },
		{ "proto=stm32", NULL },
	};
	const char *extra[8] = { "--seed", c->seed };
	int k = 2;

	snprintf(c->udc, sizeof(c->udc), "dummy_udc.%d", i);
	snprintf(c->seed, sizeof(c->seed), "%" PRIu64, seed + i);
	switch (i % 3) {
	case 0:
		c->as = "mtk-brom";
		break;
	case 1:
		c->as = "mtk-preloader";
		extra[k++] = "--pid";
		extra[k++] = "0x2000";
		break;
	default:
		c->as = "stm32-usart";
		extra[k++] = "--vid";
		extra[k++] = "0x0483";
		extra[k++] = "--pid";
		extra[k++] = "0x5740";
		break;
	}
	return bsk_emu_start_ex(&c->emu, "chaos", c->udc, faults[i % 3], extra,
				false);
}

static int retry(struct bsk_genl *ctl, uint32_t id)
{
	char a[16];
	size_t al = bsk_nla_u32(a, sizeof(a), 0, BOOTSHAKE_A_DEV_ID, id);

	return bsk_genl_request(ctl, BOOTSHAKE_CMD_RETRY, 0, a, al, NULL, NULL,
				10000 * bsk_scale());
}

static bool running(uint32_t state)
{
	return state == BOOTSHAKE_STATE_PROBED ||
	       state == BOOTSHAKE_STATE_SYNCING ||
	       state == BOOTSHAKE_STATE_IDENTIFYING;
}

TEST_F_TIMEOUT(chaos, handshakes, 14400)
{
	long want = env_long("BSK_CHAOS_HANDSHAKES", 300);
	long ended = 0, ready = 0, failed = 0, cut = 0, adds = 0, removes = 0;
	long retries = 0, enodev = 0, after_remove = 0, dup_adds = 0;
	/* A handshake's bound: sync, two dozen steps, slack for TCG. */
	long long bound = (SYNC_MS + 24LL * STEP_MS + 5000) * bsk_scale();
	long long t0 = bsk_now_ms(), next_log = t0 + 60000, longest = 0;
	char codes[512] = "";
	int i;

	for (i = 0; i < self->n; i++)
		ASSERT_EQ(0, chaos_start(&self->devs[i], i, self->seed));

	while (ended < want) {
		struct bsk_genl_dev d;
		struct chaos_dev *c = NULL;
		long long now;
		uint8_t cmd = 0;
		int ret;

		ret = bsk_genl_event(&self->mon, &cmd, &d, 1000);
		now = bsk_now_ms();
		if (ret && ret != -ETIMEDOUT)
			ASSERT_EQ(0, ret) {
				TH_LOG("seed %" PRIu64 ": monitor socket: %s",
				       self->seed, strerror(-ret));
			}
		for (i = 0; i < self->n; i++) {
			struct chaos_dev *x = &self->devs[i];

			ASSERT_EQ(0, waitpid(x->emu.pid, NULL, WNOHANG)) {
				TH_LOG("seed %" PRIu64 ": chaos emulator on %s (seed %s) exited",
				       self->seed, x->udc, x->seed);
			}
			if (x->started && now - x->started > bound)
				ASSERT_TRUE(0) {
					TH_LOG("seed %" PRIu64 ": device %u (%s, emulator seed %s): handshake not over after %lld ms (state %s)",
					       self->seed, x->id, x->as, x->seed,
					       now - x->started,
					       bsk_state_name(x->state));
				}
		}
		if (now > next_log) {
			TH_LOG("%ld handshakes ended in %lld s", ended,
			       (now - t0) / 1000);
			next_log = now + 60000;
		}
		if (ret)
			continue;
		if (!d.id || d.id >= MAX_IDS)
			continue;

		for (i = 0; i < self->n; i++)
			if (!strcmp(d.path, self->devs[i].emu.path))
				c = &self->devs[i];
		if (self->seen[d.id] & 2)
			after_remove++;
		if (cmd == BOOTSHAKE_CMD_DEV_ADD_NTF) {
			adds++;
			if (self->seen[d.id])
				dup_adds++;
			self->seen[d.id] |= 1;
		} else if (cmd == BOOTSHAKE_CMD_DEV_DEL_NTF) {
			removes++;
			self->seen[d.id] |= 2;
		}
		if (!c)
			continue;

		if (cmd == BOOTSHAKE_CMD_DEV_ADD_NTF) {
			c->id = d.id;
			c->state = d.state;
			c->started = now;
			continue;
		}
		if (d.id != c->id)
			continue;
		if (cmd == BOOTSHAKE_CMD_DEV_DEL_NTF) {
			if (c->started) {
				cut++;
				ended++;
			}
			c->id = 0;
			c->started = 0;
			continue;
		}
		c->state = d.state;
		if (running(d.state)) {
			if (!c->started)
				c->started = now;
			continue;
		}
		if (d.state != BOOTSHAKE_STATE_READY &&
		    d.state != BOOTSHAKE_STATE_FAILED)
			continue;
		if (c->started && now - c->started > longest)
			longest = now - c->started;
		c->started = 0;
		ended++;
		c->handshakes++;
		if (d.state == BOOTSHAKE_STATE_READY) {
			ready++;
		} else {
			failed++;
			EXPECT_NE(0U, d.error);
			EXPECT_NE(0, d.error_code[0]) {
				TH_LOG("seed %" PRIu64 ": device %u failed without an error code",
				       self->seed, d.id);
			}
			if (d.error_code[0] && !strstr(codes, d.error_code) &&
			    strlen(codes) + strlen(d.error_code) + 2 < sizeof(codes)) {
				strcat(codes, " ");
				strcat(codes, d.error_code);
			}
		}
		/* Again: the next handshake on the same device. */
		ret = retry(&self->ctl, d.id);
		retries++;
		if (ret == -ENODEV) {
			enodev++;	/* leaving the bus: its remove comes */
			continue;
		}
		ASSERT_EQ(0, ret) {
			TH_LOG("seed %" PRIu64 ": RETRY of device %u (%s, state %s): %s",
			       self->seed, d.id, c->as, bsk_state_name(d.state),
			       strerror(-ret));
		}
		c->started = now;
	}

	for (i = 0; i < self->n; i++)
		bsk_emu_stop(&self->devs[i].emu);
	/* Every device's remove event. */
	for (long long end = bsk_now_ms() + 20000LL * bsk_scale();
	     adds > removes && bsk_now_ms() < end;) {
		struct bsk_genl_dev d;
		uint8_t cmd = 0;

		if (bsk_genl_event(&self->mon, &cmd, &d, 500) || !d.id ||
		    d.id >= MAX_IDS)
			continue;
		if (self->seen[d.id] & 2)
			after_remove++;
		if (cmd == BOOTSHAKE_CMD_DEV_ADD_NTF) {
			adds++;
			if (self->seen[d.id])
				dup_adds++;
			self->seen[d.id] |= 1;
		} else if (cmd == BOOTSHAKE_CMD_DEV_DEL_NTF) {
			removes++;
			self->seen[d.id] |= 2;
		}
	}
	TH_LOG("chaos: %ld handshakes in %lld s: %ld ready, %ld failed, %ld cut by a disconnect; %ld retries (%ld -ENODEV), %ld adds, %ld removes, longest %lld ms; error codes:%s",
	       ended, (bsk_now_ms() - t0) / 1000, ready, failed, cut, retries,
	       enodev, adds, removes, longest, codes);
	EXPECT_EQ(adds, removes) {
		TH_LOG("seed %" PRIu64 ": %ld adds, %ld removes", self->seed,
		       adds, removes);
	}
	EXPECT_EQ(0, dup_adds);
	EXPECT_EQ(0, after_remove) {
		TH_LOG("seed %" PRIu64 ": %ld events after a remove",
		       self->seed, after_remove);
	}
	EXPECT_GE(ended, want);
}

TEST_HARNESS_MAIN
