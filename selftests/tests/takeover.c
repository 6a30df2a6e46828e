// SPDX-License-Identifier: GPL-2.0
/*
 * cdc_acm must not win: a BROM is handshaken by bootshake even when
 * cdc_acm (which has a modalias for 0e8d:0003) was loaded first.
 *
 * The mechanism (kmod/takeover.c): whenever a driver binds an interface
 * of a device in bootshake's ID table, and once at load, bootshake unbinds
 * the foreign driver and attaches itself.  On an installed system the
 * modprobe.d softdep makes bootshake load first as well.
 */
#define _GNU_SOURCE
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "bsk_test.h"

#define UDC	"dummy_udc.0"

FIXTURE(takeover) {
	struct bsk_emu emu;
	struct bsk_mon mon;
	int kmsg;
	int uevents;
};

FIXTURE_SETUP(takeover)
{
	self->emu.pid = -1;
	self->mon.pid = -1;
	self->kmsg = bsk_kmsg_mark();
	self->uevents = bsk_uevent_open();
	ASSERT_LE(0, self->uevents);

	/* Start from: cdc_acm loaded, bootshake not. */
	ASSERT_EQ(0, bsk_rmmod_bootshake());
	ASSERT_EQ(0, bsk_run("/sbin/modprobe", "cdc_acm", NULL));
}

FIXTURE_TEARDOWN(takeover)
{
	char path[32];

	if (self->emu.pid > 0) {
		snprintf(path, sizeof(path), "%s", self->emu.path);
		bsk_emu_stop(&self->emu);
		if (self->mon.pid > 0)
			json_object_put(bsk_mon_wait(&self->mon, path,
						     "remove", NULL,
						     5000 * bsk_scale()));
	}
	bsk_mon_stop(&self->mon);
	bsk_run("/sbin/rmmod", "cdc_acm", NULL);
	/* Leave the module loaded for the next test, as the runner did. */
	if (access("/sys/module/bootshake", F_OK))
		EXPECT_EQ(0, bsk_modprobe_bootshake());
	close(self->uevents);
	EXPECT_EQ(0, bsk_kmsg_splats(self->kmsg));
}

static void expect_taken_over(struct __test_metadata *_metadata,
			      FIXTURE_DATA(takeover) *self)
{
	char intf[48], drv[64];
	json_object *ev;

	ev = bsk_mon_wait(&self->mon, self->emu.path, NULL, "ready,failed",
			  3000 * bsk_scale());
	ASSERT_NE(NULL, ev);
	EXPECT_STREQ("ready", bsk_json_str(ev, "state")) {
		TH_LOG("reason: %s", bsk_json_str(ev, "reason"));
	}
	EXPECT_TRUE(bsk_json_bool(ev, "taken_over"));
	json_object_put(ev);

	/* Both interfaces are bootshake's now, none is cdc_acm's. */
	snprintf(intf, sizeof(intf), "%s:1.0", self->emu.path);
	EXPECT_STREQ("bootshake", bsk_intf_driver(intf, drv, sizeof(drv)));
	snprintf(intf, sizeof(intf), "%s:1.1", self->emu.path);
	EXPECT_STREQ("bootshake", bsk_intf_driver(intf, drv, sizeof(drv)));
	EXPECT_NE(0, access("/sys/class/tty/ttyACM0", F_OK));
}

TEST_F_TIMEOUT(takeover, device_bound_to_cdc_acm_before_load, 120)
{
	const char *const props[] = { "DRIVER=cdc_acm", NULL };
	char devpath[48];

	ASSERT_EQ(0, bsk_emu_start(&self->emu, "mtk-brom", UDC, NULL));
	snprintf(devpath, sizeof(devpath), "/%s:1.0", self->emu.path);
	ASSERT_EQ(0, bsk_uevent_wait(self->uevents, "bind", devpath, props,
				     5000 * bsk_scale())) {
		TH_LOG("cdc_acm never bound %s", devpath);
	}

	TH_LOG("cdc_acm has %s; loading bootshake", devpath);
	ASSERT_EQ(0, bsk_modprobe_bootshake());
	ASSERT_EQ(0, bsk_mon_start(&self->mon));
	expect_taken_over(_metadata, self);
}

TEST_F_TIMEOUT(takeover, plugged_after_both_loaded_cdc_acm_first, 120)
{
	ASSERT_EQ(0, bsk_modprobe_bootshake());
	ASSERT_EQ(0, bsk_mon_start(&self->mon));
	ASSERT_EQ(0, bsk_emu_start(&self->emu, "mtk-brom", UDC, NULL));
	expect_taken_over(_metadata, self);
}

TEST_HARNESS_MAIN
