// SPDX-License-Identifier: GPL-2.0
/*
 * MediaTek BROM: the handshake as a user sees it through the helper.
 *
 * Each test plugs an emulated BROM (selftests/emu, personality mtk-brom)
 * into dummy_udc.0, follows `bootshake -j monitor --dump`, and checks what
 * a user would check: the state, the identity, the timings, the reason.
 * Teardown unplugs, waits for the remove event and fails the test on any
 * kernel splat logged while it ran.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "bsk_test.h"

#define UDC	"dummy_udc.0"

/* Module defaults (kmod/main.c): the sync gives up after this long. */
#define SYNC_TIMEOUT_MS	3000
#define STEP_TIMEOUT_MS	100

/*
 * The driver's defaults (100 ms a step, 3 s a sync) are real hardware's;
 * under TCG they are scaled like every other deadline of the tests
 * (bsk_scale()), for the whole program, and put back at its end.
 */
static void deadlines_scaled(void)
{
	bsk_policy_restore("mtk-brom", "auto", STEP_TIMEOUT_MS * bsk_scale(),
			   SYNC_TIMEOUT_MS * bsk_scale(), false);
}

static void deadlines_restore(void)
{
	bsk_policy_restore("mtk-brom", "auto", 0, 0, true);
}

static void __attribute__((constructor)) deadlines_init(void)
{
	if (access("/sys/module/bootshake", F_OK))
		return;
	deadlines_scaled();
	atexit(deadlines_restore);
}

FIXTURE(brom) {
	struct bsk_emu emu;
	struct bsk_mon mon;
	int kmsg;
};

FIXTURE_SETUP(brom)
{
	self->emu.pid = -1;
	self->kmsg = bsk_kmsg_mark();
	ASSERT_EQ(0, bsk_mon_start(&self->mon));
}

FIXTURE_TEARDOWN(brom)
{
	char path[32];

	if (self->emu.pid > 0) {
		snprintf(path, sizeof(path), "%s", self->emu.path);
		bsk_emu_stop(&self->emu);
		json_object_put(bsk_mon_wait(&self->mon, path, "remove", NULL,
					     5000 * bsk_scale()));
	}
	bsk_mon_stop(&self->mon);
	EXPECT_EQ(0, bsk_kmsg_splats(self->kmsg));
}

/* Plug with @faults and wait for ready or failed. */
static json_object *plug_and_wait(struct __test_metadata *_metadata,
				  FIXTURE_DATA(brom) *self,
				  const char *const *faults, int timeout_ms)
{
	json_object *ev;

	if (bsk_emu_start(&self->emu, "mtk-brom", UDC, faults))
		return NULL;
	ev = bsk_mon_wait(&self->mon, self->emu.path, NULL, "ready,failed",
			  timeout_ms);
	if (!ev)
		TH_LOG("no ready/failed event for %s within %d ms",
		       self->emu.path, timeout_ms);
	return ev;
}

static void expect_ready_brom(struct __test_metadata *_metadata,
			      json_object *ev, long long hw_code)
{
	json_object *mtk = NULL;

	ASSERT_NE(NULL, ev);
	ASSERT_STREQ("ready", bsk_json_str(ev, "state")) {
		TH_LOG("reason: %s", bsk_json_str(ev, "reason"));
	}
	EXPECT_STREQ("mtk-brom", bsk_json_str(ev, "kind"));
	EXPECT_EQ(0x0e8d, bsk_json_int(ev, "vid", -1));
	EXPECT_EQ(0x0003, bsk_json_int(ev, "pid", -1));
	EXPECT_GT(bsk_json_int(ev, "id", 0), 0);
	EXPECT_GT(bsk_json_int(ev, "sync_us", 0), 0);
	EXPECT_TRUE(json_object_object_get_ex(ev, "mtk", &mtk));
	EXPECT_EQ(hw_code, bsk_json_int(mtk, "hw_code", -1));
}

TEST_F(brom, clean_sync)
{
	json_object *ev, *list, *dev;
	int st;

	ev = plug_and_wait(_metadata, self, NULL, 2000 * bsk_scale());
	expect_ready_brom(_metadata, ev, 0x0766);
	EXPECT_EQ(1, bsk_json_int(ev, "attempts", -1));
	EXPECT_FALSE(bsk_json_bool(ev, "already_synced"));
	EXPECT_STREQ("full", bsk_json_str(ev, "speed"));
	/* A clean sync is four round trips: far below the step deadline. */
	EXPECT_LT(bsk_json_int(ev, "sync_us", 0), 1000000LL * bsk_scale());

	/* `bootshake list` tells the same story as the event. */
	list = bsk_cli_json(&st, "list", NULL);
	ASSERT_EQ(0, st);
	dev = bsk_json_find_path(list, self->emu.path);
	ASSERT_NE(NULL, dev);
	EXPECT_STREQ("ready", bsk_json_str(dev, "state"));
	EXPECT_EQ(bsk_json_int(ev, "id", -1), bsk_json_int(dev, "id", -2));
	EXPECT_EQ(bsk_json_int(ev, "sync_us", -1),
		  bsk_json_int(dev, "sync_us", -2));
	json_object_put(list);
	json_object_put(ev);
}

TEST_F(brom, udev_sees_every_state)
{
	const char *const ready[] = { "BOOTSHAKE_STATE=ready",
				      "BOOTSHAKE_KIND=mtk-brom",
				      "BOOTSHAKE_HW_CODE=0x0766",
				      "BOOTSHAKE_CHIP=MT6765", NULL };
	const char *const syncing[] = { "BOOTSHAKE_STATE=syncing", NULL };
	char devpath[48], attr[128], buf[256];
	int uev = bsk_uevent_open();
	json_object *ev;
	FILE *f;

	ASSERT_LE(0, uev);
	ASSERT_EQ(0, bsk_emu_start(&self->emu, "mtk-brom", UDC, NULL));
	snprintf(devpath, sizeof(devpath), "/%s:1.0", self->emu.path);

	/* A udev rule can match each state change, ready with identity. */
	EXPECT_EQ(0, bsk_uevent_wait(uev, "change", devpath, syncing,
				     2000 * bsk_scale()));
	EXPECT_EQ(0, bsk_uevent_wait(uev, "change", devpath, ready,
				     2000 * bsk_scale()));
	close(uev);

	ev = bsk_mon_wait(&self->mon, self->emu.path, NULL, "ready,failed",
			  2000 * bsk_scale());
	expect_ready_brom(_metadata, ev, 0x0766);

	/* The interface's sysfs attributes say the same. */
	snprintf(attr, sizeof(attr),
		 "/sys/bus/usb/devices/%s:1.0/bootshake_state", self->emu.path);
	f = fopen(attr, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	fclose(f);
	EXPECT_STREQ("ready\n", buf);

	snprintf(attr, sizeof(attr),
		 "/sys/bus/usb/devices/%s:1.0/bootshake_id", self->emu.path);
	f = fopen(attr, "r");
	ASSERT_NE(NULL, f);
	ASSERT_NE(NULL, fgets(buf, sizeof(buf), f));
	fclose(f);
	EXPECT_EQ(bsk_json_int(ev, "id", -1), atoll(buf));
	json_object_put(ev);
}

TEST_F(brom, show_by_path_and_id)
{
	json_object *ev, *a, *b;
	char id[16];
	int st;

	ev = plug_and_wait(_metadata, self, NULL, 2000 * bsk_scale());
	expect_ready_brom(_metadata, ev, 0x0766);
	snprintf(id, sizeof(id), "%lld", bsk_json_int(ev, "id", 0));

	a = bsk_cli_json(&st, "show", self->emu.path, NULL);
	EXPECT_EQ(0, st);
	b = bsk_cli_json(&st, "show", id, NULL);
	EXPECT_EQ(0, st);
	EXPECT_STREQ(self->emu.path, bsk_json_str(a, "path"));
	EXPECT_EQ(bsk_json_int(ev, "id", -1), bsk_json_int(b, "id", -2));
	json_object_put(a);
	json_object_put(b);

	/*
	 * An id that does not exist is an error: a non-zero exit and nothing
	 * on stdout (the JSON error goes to stderr, see cli.json_contract).
	 */
	a = bsk_cli_json(&st, "show", "999999", NULL);
	EXPECT_NE(0, st);
	EXPECT_EQ(NULL, a);
	json_object_put(a);
	json_object_put(ev);
}

TEST_F(brom, garbage_before_first_reply)
{
	const char *const faults[] = { "garbage=7", NULL };
	json_object *ev = plug_and_wait(_metadata, self, faults,
					2000 * bsk_scale());

	expect_ready_brom(_metadata, ev, 0x0766);
	json_object_put(ev);
}

TEST_F(brom, stale_banner_before_sync)
{
	/* "READY" queued on bulk IN before the driver's first A0. */
	const char *const faults[] = { "stale=5245414459", NULL };
	json_object *ev = plug_and_wait(_metadata, self, faults,
					2000 * bsk_scale());

	expect_ready_brom(_metadata, ev, 0x0766);
	json_object_put(ev);
}

TEST_F(brom, lost_reply_resyncs)
{
	/*
	 * The reply to the first A0 is lost: the device is at index 1, so
	 * the driver's second A0 is answered A1 (byte + 1) and the device
	 * starts over; the driver must resync, not fail.
	 */
	const char *const faults[] = { "drop=1", NULL };
	json_object *ev = plug_and_wait(_metadata, self, faults,
					3000 * bsk_scale());

	expect_ready_brom(_metadata, ev, 0x0766);
	EXPECT_GE(bsk_json_int(ev, "attempts", 0), 2);
	json_object_put(ev);
}

TEST_F(brom, slow_device)
{
	/* 40 ms per reply: slower than 10-20 ms per-byte tools allow. */
	const char *const faults[] = { "delay_ms=40", NULL };
	json_object *ev = plug_and_wait(_metadata, self, faults,
					3000 * bsk_scale());

	expect_ready_brom(_metadata, ev, 0x0766);
	json_object_put(ev);
}

TEST_F(brom, already_synced)
{
	const char *const faults[] = { "already_synced", "hw_code=0x0717",
				       NULL };
	json_object *ev = plug_and_wait(_metadata, self, faults,
					2000 * bsk_scale());

	expect_ready_brom(_metadata, ev, 0x0717);
	EXPECT_TRUE(bsk_json_bool(ev, "already_synced"));
	json_object_put(ev);
}

TEST_F(brom, legacy_chip_without_hw_code)
{
	const char *const faults[] = { "no_hw_code", NULL };
	json_object *ev = plug_and_wait(_metadata, self, faults,
					2000 * bsk_scale());
	json_object *mtk = NULL;

	ASSERT_NE(NULL, ev);
	EXPECT_STREQ("ready", bsk_json_str(ev, "state"));
	json_object_object_get_ex(ev, "mtk", &mtk);
	EXPECT_EQ(-1, bsk_json_int(mtk, "hw_code", -1));
	json_object_put(ev);
}

TEST_F_TIMEOUT(brom, never_answers, 120)
{
	const char *const faults[] = { "silent", NULL };
	long long t0 = bsk_now_ms(), dt;
	json_object *ev;
	const char *reason;

	ev = plug_and_wait(_metadata, self, faults,
			   (SYNC_TIMEOUT_MS + 3000) * bsk_scale());
	dt = bsk_now_ms() - t0;
	ASSERT_NE(NULL, ev);
	EXPECT_STREQ("failed", bsk_json_str(ev, "state"));
	EXPECT_STREQ("ETIMEDOUT", bsk_json_str(ev, "error_name"));
	reason = bsk_json_str(ev, "reason");
	ASSERT_NE(NULL, reason);
	EXPECT_NE(NULL, strstr(reason, "no reply"));
	/* Bounded: not before the (scaled) deadline, not long after it. */
	EXPECT_GE(dt, SYNC_TIMEOUT_MS * bsk_scale());
	TH_LOG("failed after %lld ms: %s", dt, reason);
	json_object_put(ev);
}

TEST_F(brom, unplug_mid_sync)
{
	/* The cable goes after the device received 0x0A (second byte). */
	const char *const faults[] = { "unplug_at=2", NULL };
	json_object *ev, *list;
	int st;

	ASSERT_EQ(0, bsk_emu_start(&self->emu, "mtk-brom", UDC, faults));
	ev = bsk_mon_wait(&self->mon, self->emu.path, "remove", NULL,
			  5000 * bsk_scale());
	ASSERT_NE(NULL, ev);
	EXPECT_STREQ("gone", bsk_json_str(ev, "state"));
	json_object_put(ev);
	EXPECT_EQ(0, bsk_emu_wait_exit(&self->emu, 5000 * bsk_scale()));

	list = bsk_cli_json(&st, "list", NULL);
	EXPECT_EQ(0, st);
	EXPECT_EQ(NULL, bsk_json_find_path(list, self->emu.path));
	json_object_put(list);
}

/*
 * Its own waits add up to 10 s x BSK_TIME_SCALE: the harness' default
 * 30 s cut it short under the debug kernel (rmmod alone took 10 s there).
 */
TEST_F_TIMEOUT(brom, rmmod_with_device_attached, 180)
{
	json_object *ev;

	ev = plug_and_wait(_metadata, self, NULL, 2000 * bsk_scale());
	expect_ready_brom(_metadata, ev, 0x0766);
	json_object_put(ev);

	/* Unload: disconnect runs and the monitor sees the device go. */
	ASSERT_EQ(0, bsk_rmmod_bootshake());
	ev = bsk_mon_wait(&self->mon, self->emu.path, "remove", NULL,
			  5000 * bsk_scale());
	EXPECT_NE(NULL, ev);
	json_object_put(ev);
	bsk_mon_stop(&self->mon);

	/* Load again: the device, still plugged, is handshaken again. */
	ASSERT_EQ(0, bsk_modprobe_bootshake());
	deadlines_scaled();	/* a fresh module has its defaults */
	ASSERT_EQ(0, bsk_mon_start(&self->mon));
	ev = bsk_mon_wait(&self->mon, self->emu.path, NULL, "ready,failed",
			  3000 * bsk_scale());
	ASSERT_NE(NULL, ev);
	EXPECT_STREQ("ready", bsk_json_str(ev, "state"));
	EXPECT_TRUE(bsk_json_bool(ev, "already_synced"));
	json_object_put(ev);
}

TEST_HARNESS_MAIN
