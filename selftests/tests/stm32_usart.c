// SPDX-License-Identifier: GPL-2.0
/*
 * STM32 USART bootloader behind a CDC-ACM bridge (opt-in): what a user
 * sees through the helper.
 *
 * The emulated bridge (selftests/emu, personality stm32-usart, 0483:5740)
 * is an ordinary serial port, so bootshake only takes it when told to:
 * the fixture reloads the module with usart_ids=0483:5740; the new_id
 * test uses the plain module and sysfs.  Scenario numbers are those of
 * ../shared/protocols/stm32.md section 7 (39-46); Documentation/testing.rst
 * ("STM32 scenario coverage") maps each to its test.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "bsk_test.h"

#define UDC	"dummy_udc.1"
#define EMU_LOG	"/tmp/stm32-usart-emu.log"
#define IDS	"usart_ids=0483:5740"
#define NEW_ID	"/sys/bus/usb/drivers/bootshake/new_id"
#define REMOVE_ID "/sys/bus/usb/drivers/bootshake/remove_id"

static int reload(const char *param)
{
	const char *ko = getenv("BSK_KO");
	char def[512];

	if (!ko) {
		snprintf(def, sizeof(def), "%s/bootshake.ko", bsk_repo());
		ko = def;
	}
	bsk_rmmod_bootshake();
	return bsk_run("/sbin/insmod", ko, param, NULL);
}

static int write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY);
	int ok;

	if (fd < 0)
		return -1;
	ok = write(fd, s, strlen(s)) == (ssize_t)strlen(s);
	close(fd);
	return ok ? 0 : -1;
}

/*
 * Under TCG a byte's round trip to a userspace emulator can take longer
 * than the module's 100 ms step: scale it like every test deadline (a
 * reload resets it).
 */
static int scale_step(void)
{
	char step[16];

	snprintf(step, sizeof(step), "%d", 100 * bsk_scale());
	return bsk_run_output(NULL, 0, bsk_helper_path(), "policy",
			      "stm32-usart", "--step-timeout", step, NULL);
}

FIXTURE(usart) {
	struct bsk_emu emu;
	struct bsk_mon mon;
	int kmsg;
	bool acm;		/* the test loaded cdc_acm */
};

FIXTURE_SETUP(usart)
{
	self->emu.pid = -1;
	unlink(EMU_LOG);
	self->kmsg = bsk_kmsg_mark();
	ASSERT_EQ(0, reload(IDS));
	ASSERT_EQ(0, scale_step());
	ASSERT_EQ(0, bsk_mon_start(&self->mon));
}

FIXTURE_TEARDOWN(usart)
{
	char path[32];

	if (self->emu.pid > 0) {
		snprintf(path, sizeof(path), "%s", self->emu.path);
		bsk_emu_stop(&self->emu);
		json_object_put(bsk_mon_wait(&self->mon, path, "remove", NULL,
					     5000 * bsk_scale()));
	}
	bsk_mon_stop(&self->mon);
	if (self->acm)
		EXPECT_EQ(0, bsk_run("/sbin/rmmod", "cdc_acm", NULL));
	/* back to the module every other test expects */
	EXPECT_EQ(0, reload("takeover=1"));
	EXPECT_EQ(0, bsk_kmsg_splats(self->kmsg));
}

static int start(FIXTURE_DATA(usart) *self, const char *const *faults)
{
	const char *const extra[] = { "--log", EMU_LOG, NULL };

	return bsk_emu_start_args(&self->emu, "stm32-usart", UDC, faults,
				  extra);
}

static json_object *plug(struct __test_metadata *_metadata,
			 FIXTURE_DATA(usart) *self, const char *const *faults,
			 int timeout_ms)
{
	json_object *ev;

	if (start(self, faults)) {
		TH_LOG("emulator did not start");
		return NULL;
	}
	ev = bsk_mon_wait(&self->mon, self->emu.path, NULL, "ready,failed",
			  timeout_ms);
	if (!ev)
		TH_LOG("no ready/failed event for %s", self->emu.path);
	return ev;
}

static json_object *usart_obj(json_object *dev)
{
	json_object *u = NULL;

	if (dev)
		json_object_object_get_ex(dev, "usart", &u);
	return u;
}

static void expect_ready(struct __test_metadata *_metadata, json_object *ev,
			 bool already_synced)
{
	static const int cmds[] = { 0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x44,
				    0x63, 0x73, 0x82, 0x92 };
	json_object *u, *c = NULL;
	size_t i;

	ASSERT_NE(NULL, ev);
	ASSERT_STREQ("ready", bsk_json_str(ev, "state")) {
		TH_LOG("error %s: %s", bsk_json_str(ev, "error"),
		       bsk_json_str(ev, "reason"));
	}
	EXPECT_STREQ("stm32-usart", bsk_json_str(ev, "kind"));
	u = usart_obj(ev);
	ASSERT_NE(NULL, u);
	EXPECT_EQ(0x31, bsk_json_int(u, "bl_version", -1));
	EXPECT_EQ(0x413, bsk_json_int(u, "pid", -1));
	EXPECT_STREQ("STM32F405/407/415/417", bsk_json_str(u, "family"));
	EXPECT_EQ(already_synced, bsk_json_bool(u, "already_synced"));
	ASSERT_TRUE(json_object_object_get_ex(u, "commands", &c));
	ASSERT_EQ((int)(sizeof(cmds) / sizeof(cmds[0])),
		  (int)json_object_array_length(c));
	for (i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		EXPECT_EQ(cmds[i], json_object_get_int(
				json_object_array_get_idx(c, i)));
	/* 8E1 at the module's default 57600 baud, as stm32flash */
	EXPECT_EQ(1, bsk_file_count(EMU_LOG, "line-coding 57600 8E1"));
	EXPECT_EQ(0, bsk_file_count(EMU_LOG, "garbled"));
}

/* 39: nominal: ACK, then GET, GET_VERSION, GET_ID. */
TEST_F_TIMEOUT(usart, nominal, 120)
{
	json_object *ev, *list, *dev;
	int st;

	ev = plug(_metadata, self, NULL, 3000 * bsk_scale());
	expect_ready(_metadata, ev, false);
	EXPECT_EQ(1, bsk_json_int(ev, "attempts", -1));

	list = bsk_cli_json(&st, "list", NULL);
	EXPECT_EQ(0, st);
	dev = bsk_json_find_path(list, self->emu.path);
	ASSERT_NE(NULL, dev);
	EXPECT_STREQ("ready", bsk_json_str(dev, "state"));
	EXPECT_EQ(0x413, bsk_json_int(usart_obj(dev), "pid", -1));
	json_object_put(list);
	json_object_put(ev);
}

/* A sysfs file of the bridge's comm interface, in @buf ("" if none). */
static const char *read_attr(const char *devpath, const char *name,
			     char *buf, size_t len)
{
	char path[160];
	size_t n = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/sys/bus/usb/devices/%s:1.0/%s",
		 devpath, name);
	f = fopen(path, "r");
	if (f) {
		n = fread(buf, 1, len - 1, f);
		fclose(f);
	}
	buf[n] = 0;
	return buf;
}

/*
 * 39: a udev rule can match the chip: the ready uevent on the bridge's
 * comm interface carries the family and what GET_ID and GET read, and so
 * do its bootshake_family, _stm32_pid and _bl_version attributes.
 */
TEST_F_TIMEOUT(usart, udev_sees_chip, 120)
{
	const char *const ready[] = { "BOOTSHAKE_STATE=ready",
				      "BOOTSHAKE_KIND=stm32-usart",
				      "BOOTSHAKE_FAMILY=STM32F405/407/415/417",
				      "BOOTSHAKE_STM32_PID=0x0413",
				      "BOOTSHAKE_BL_VERSION=0x31", NULL };
	int uev = bsk_uevent_open();
	char devpath[48], path[160], buf[256];
	json_object *ev;

	ASSERT_LE(0, uev);
	ev = plug(_metadata, self, NULL, 3000 * bsk_scale());
	expect_ready(_metadata, ev, false);
	json_object_put(ev);
	snprintf(devpath, sizeof(devpath), "/%s:1.0", self->emu.path);
	/* sent right after the netlink event; queued on the socket */
	EXPECT_EQ(0, bsk_uevent_wait(uev, "change", devpath, ready,
				     2000 * bsk_scale()));
	close(uev);

	EXPECT_STREQ("STM32F405/407/415/417\n",
		     read_attr(self->emu.path, "bootshake_family", buf,
			       sizeof(buf)));
	EXPECT_STREQ("0x0413\n",
		     read_attr(self->emu.path, "bootshake_stm32_pid", buf,
			       sizeof(buf)));
	EXPECT_STREQ("0x31\n",
		     read_attr(self->emu.path, "bootshake_bl_version", buf,
			       sizeof(buf)));
	/* the chip's own ID: no confidence, and no MediaTek files */
	snprintf(path, sizeof(path),
		 "/sys/bus/usb/devices/%s:1.0/bootshake_family_confidence",
		 self->emu.path);
	EXPECT_NE(0, access(path, F_OK));
	snprintf(path, sizeof(path),
		 "/sys/bus/usb/devices/%s:1.0/bootshake_hw_code",
		 self->emu.path);
	EXPECT_NE(0, access(path, F_OK));
}

/* 40: the ROM was synced by an earlier session: NACK, go on. */
TEST_F_TIMEOUT(usart, nack_already_synced, 120)
{
	const char *const faults[] = { "already_synced", NULL };
	json_object *ev = plug(_metadata, self, faults, 3000 * bsk_scale());

	expect_ready(_metadata, ev, true);
	EXPECT_EQ(1, bsk_json_int(ev, "attempts", -1));
	json_object_put(ev);
}

/* 41: the first 0x7f is eaten as a command byte; the second gets NACK. */
TEST_F_TIMEOUT(usart, swallowed_first_sync, 120)
{
	const char *const faults[] = { "swallow", NULL };
	json_object *ev = plug(_metadata, self, faults, 3000 * bsk_scale());

	expect_ready(_metadata, ev, true);
	EXPECT_EQ(2, bsk_json_int(ev, "attempts", -1));
	json_object_put(ev);
}

/* 42: "00 79": garbage before the ACK is skipped and counted. */
TEST_F_TIMEOUT(usart, leading_garbage, 120)
{
	const char *const faults[] = { "leading_zero", NULL };
	json_object *ev = plug(_metadata, self, faults, 3000 * bsk_scale());

	expect_ready(_metadata, ev, false);
	EXPECT_EQ(1, bsk_json_int(ev, "garbage_bytes", -1));
	json_object_put(ev);
}

/* GET_VERSION refused: GET already gave the version. */
TEST_F_TIMEOUT(usart, get_version_nacked, 120)
{
	const char *const faults[] = { "nack_gv", NULL };
	json_object *ev = plug(_metadata, self, faults, 3000 * bsk_scale());

	expect_ready(_metadata, ev, false);
	json_object_put(ev);
}

/* 45: BOOT0 low, nothing answers: bounded, "no-reply". */
TEST_F_TIMEOUT(usart, no_bootloader, 120)
{
	const char *const faults[] = { "silent", NULL };
	json_object *ev = plug(_metadata, self, faults, 8000 * bsk_scale());

	ASSERT_NE(NULL, ev);
	EXPECT_STREQ("failed", bsk_json_str(ev, "state"));
	EXPECT_STREQ("no-reply", bsk_json_str(ev, "error"));
	EXPECT_EQ(3, bsk_json_int(ev, "attempts", -1));
	json_object_put(ev);
}

/*
 * 45, wrong baud: the bridge and the ROM disagree, every byte comes back
 * garbled: bounded, "noise" (not "no-reply"), the noise counted.
 */
TEST_F_TIMEOUT(usart, wrong_baud_garbled, 120)
{
	const char *const faults[] = { "garble", NULL };
	json_object *ev = plug(_metadata, self, faults, 8000 * bsk_scale());

	ASSERT_NE(NULL, ev);
	EXPECT_STREQ("failed", bsk_json_str(ev, "state"));
	EXPECT_STREQ("noise", bsk_json_str(ev, "error"));
	EXPECT_EQ(3, bsk_json_int(ev, "attempts", -1));
	EXPECT_EQ(3, bsk_json_int(ev, "garbage_bytes", -1));
	EXPECT_EQ(3, bsk_file_count(EMU_LOG, "garbled 7f"));
	json_object_put(ev);
}

/* 44: an F105/107 answers GET_VERSION with 0x20, not 0x22: taken as is. */
TEST_F_TIMEOUT(usart, f105_version_0x20, 120)
{
	const char *const faults[] = { "pid=0x418", "version=0x20", NULL };
	json_object *ev = plug(_metadata, self, faults, 3000 * bsk_scale());
	json_object *u;

	ASSERT_NE(NULL, ev);
	ASSERT_STREQ("ready", bsk_json_str(ev, "state"));
	u = usart_obj(ev);
	EXPECT_EQ(0x20, bsk_json_int(u, "bl_version", -1));
	EXPECT_EQ(0x418, bsk_json_int(u, "pid", -1));
	EXPECT_STREQ("STM32F105/107", bsk_json_str(u, "family"));
	json_object_put(ev);
}

/*
 * 46: after the entry sequence's reset the ROM ignores the line while it
 * starts (85 ms on F40x, 524 ms on an F105/107 with PA9 high): the first
 * 0x7f already finds it listening.
 */
static void startup_delay(struct __test_metadata *_metadata,
			  FIXTURE_DATA(usart) *self, const char *startup)
{
	const char *const faults[] = { startup, NULL };
	json_object *ev;

	ASSERT_EQ(0, bsk_set_param("usart_entry", "rts,-rts"));
	ev = plug(_metadata, self, faults, 5000 * bsk_scale());
	expect_ready(_metadata, ev, false);
	EXPECT_EQ(1, bsk_json_int(ev, "attempts", -1));
	EXPECT_EQ(1, bsk_file_count(EMU_LOG, " reset"));
	EXPECT_EQ(0, bsk_file_count(EMU_LOG, "starting: ignored")) {
		TH_LOG("a byte reached the ROM before it was running");
	}
	json_object_put(ev);
}

TEST_F_TIMEOUT(usart, startup_delay_f40x, 120)
{
	startup_delay(_metadata, self, "startup_ms=85");
}

TEST_F_TIMEOUT(usart, startup_delay_f105_pa9_high, 120)
{
	startup_delay(_metadata, self, "startup_ms=524");
}

/* The entry sequence: RTS pulsed as NRST before the sync. */
TEST_F_TIMEOUT(usart, entry_sequence_resets, 120)
{
	json_object *ev;

	ASSERT_EQ(0, bsk_set_param("usart_entry", "rts,-rts"));
	ev = plug(_metadata, self, NULL, 4000 * bsk_scale());
	expect_ready(_metadata, ev, false);
	EXPECT_EQ(1, bsk_file_count(EMU_LOG, "line-state 0002"));
	EXPECT_EQ(1, bsk_file_count(EMU_LOG, " reset"));
	json_object_put(ev);
}

/* CLOCK_MONOTONIC time of the first emulator log line with @needle, or 0. */
static long long log_time_ns(const char *needle)
{
	char line[4096];
	long long t = 0;
	FILE *f = fopen(EMU_LOG, "r");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (strstr(line, needle)) {
			t = strtoll(line, NULL, 10);
			break;
		}
	}
	fclose(f);
	return t;
}

static long long wait_log_ns(const char *needle, int timeout_ms)
{
	long long end = bsk_now_ms() + timeout_ms, t;

	while (!(t = log_time_ns(needle)) && bsk_now_ms() < end)
		usleep(1000);
	return t;
}

/* An event's time_ns (the kernel's CLOCK_REALTIME) on CLOCK_MONOTONIC. */
static long long realtime_to_mono_ns(long long rt)
{
	struct timespec m, r;

	clock_gettime(CLOCK_MONOTONIC, &m);
	clock_gettime(CLOCK_REALTIME, &r);
	return rt - ((r.tv_sec - m.tv_sec) * 1000000000LL +
		     (r.tv_nsec - m.tv_nsec));
}

/*
 * The entry sequence's sleeps (',' 100 ms each, then the ROM's 550 ms
 * start-up) are cut short by an unplug: the cable is pulled right after
 * the emulator logged @mark, which the module's sleep of @sleep_ms
 * follows; the device's remove event (its disconnect waits for the
 * handshake to end) must come before that sleep would have ended, and
 * within a scaled few hundred ms of the unplug.
 */
static void unplug_in_sleep(struct __test_metadata *_metadata,
			    FIXTURE_DATA(usart) *self, const char *entry,
			    const char *mark, int sleep_ms)
{
	long long t_mark, t_unplug, t_remove;
	json_object *ev;
	char path[32];

	ASSERT_EQ(0, bsk_set_param("usart_entry", entry));
	ASSERT_EQ(0, start(self, NULL));
	t_mark = wait_log_ns(mark, 5000 * bsk_scale());
	ASSERT_NE(0, t_mark) {
		TH_LOG("the emulator never logged '%s'", mark);
	}
	snprintf(path, sizeof(path), "%s", self->emu.path);
	/* SIGUSR1: the emulator unbinds its UDC and logs "unplug" */
	ASSERT_EQ(0, kill(self->emu.pid, SIGUSR1));
	t_unplug = wait_log_ns(" unplug", 5000 * bsk_scale());
	ASSERT_NE(0, t_unplug);
	ev = bsk_mon_wait(&self->mon, path, "remove", NULL,
			  sleep_ms + 5000 * bsk_scale());
	bsk_emu_stop(&self->emu);
	ASSERT_NE(NULL, ev);
	t_remove = realtime_to_mono_ns(bsk_json_int(ev, "time_ns", 0));
	TH_LOG("%s: unplug %lld ms after it, remove %lld ms after the unplug (sleep %d ms)",
	       mark, (t_unplug - t_mark) / 1000000,
	       (t_remove - t_unplug) / 1000000, sleep_ms);
	EXPECT_LT(t_remove, t_mark + sleep_ms * 1000000LL) {
		TH_LOG("the device was removed only after the sleep ended");
	}
	EXPECT_LT(t_remove - t_unplug, 250LL * bsk_scale() * 1000000LL);
	json_object_put(ev);
}

/* Unplugged in the 550 ms the ROM gets to start after the reset. */
TEST_F_TIMEOUT(usart, unplug_ends_boot_wait, 120)
{
	unplug_in_sleep(_metadata, self, "rts,-rts", " reset", 550);
}

/* Unplugged in the entry sequence's ',' waits: 50 of them, 5 s. */
TEST_F_TIMEOUT(usart, unplug_ends_line_delay, 120)
{
	unplug_in_sleep(_metadata, self,
			"rts,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,,-rts",
			"line-state 0002", 5000);
}

/* Without opt-in a bridge is left alone; new_id opts it in at run time. */
TEST_F_TIMEOUT(usart, opt_in_by_new_id, 120)
{
	json_object *ev;

	ASSERT_EQ(0, reload("takeover=1"));	/* no usart_ids */
	ASSERT_EQ(0, scale_step());
	bsk_mon_stop(&self->mon);
	ASSERT_EQ(0, bsk_mon_start(&self->mon));
	ASSERT_EQ(0, start(self, NULL));
	ev = bsk_mon_wait(&self->mon, self->emu.path, "add", NULL,
			  1500 * bsk_scale());
	EXPECT_EQ(NULL, ev);
	json_object_put(ev);

	ASSERT_EQ(0, write_str(NEW_ID, "0483 5740 02"));
	ev = bsk_mon_wait(&self->mon, self->emu.path, NULL, "ready,failed",
			  3000 * bsk_scale());
	expect_ready(_metadata, ev, false);
	json_object_put(ev);
	EXPECT_EQ(0, write_str(REMOVE_ID, "0483 5740 02"));
}

/*
 * An opted-in bridge is a CDC-ACM device: cdc_acm binds it as readily as
 * it binds a BROM.  The takeover (kmod/takeover.c) must cover the dynamic
 * IDs as it covers the built-in ones.
 *
 * A real bridge carries the CDC union descriptor cdc_acm needs; FunctionFS
 * on 6.1 cannot (selftests/emu/README.md), so these tests plug the bridge
 * under an ID that cdc_acm binds without one (NO_UNION_NORMAL in its
 * table; 0572:1321, a Conexant modem) and opt that ID in.
 */
#define ACM_VID		"0x0572"
#define ACM_PID		"0x1321"
#define ACM_NEW_ID	"0572 1321 02"
#define ACM_IDS		"usart_ids=0572:1321"

static int start_acm_id(FIXTURE_DATA(usart) *self)
{
	const char *const extra[] = { "--log", EMU_LOG, "--vid", ACM_VID,
				      "--pid", ACM_PID, NULL };

	return bsk_emu_start_args(&self->emu, "stm32-usart", UDC, NULL,
				  extra);
}

static void expect_taken_over(struct __test_metadata *_metadata,
			      FIXTURE_DATA(usart) *self, json_object *ev)
{
	char intf[48], drv[64];

	expect_ready(_metadata, ev, false);
	EXPECT_TRUE(bsk_json_bool(ev, "taken_over"));
	/* Both interfaces are bootshake's now, no tty is left. */
	snprintf(intf, sizeof(intf), "%s:1.0", self->emu.path);
	EXPECT_STREQ("bootshake", bsk_intf_driver(intf, drv, sizeof(drv)));
	snprintf(intf, sizeof(intf), "%s:1.1", self->emu.path);
	EXPECT_STREQ("bootshake", bsk_intf_driver(intf, drv, sizeof(drv)));
	EXPECT_NE(0, access("/sys/class/tty/ttyACM0", F_OK));
}

/* Plug the bridge and wait until cdc_acm has bound its comm interface. */
static int plug_to_cdc_acm(struct __test_metadata *_metadata,
			   FIXTURE_DATA(usart) *self)
{
	const char *const props[] = { "DRIVER=cdc_acm", NULL };
	int uev = bsk_uevent_open();
	char devpath[48];
	int ret;

	if (uev < 0)
		return -1;
	ret = start_acm_id(self);
	if (!ret) {
		snprintf(devpath, sizeof(devpath), "/%s:1.0", self->emu.path);
		ret = bsk_uevent_wait(uev, "bind", devpath, props,
				      5000 * bsk_scale());
		if (ret)
			TH_LOG("cdc_acm never bound %s", devpath);
	}
	close(uev);
	return ret;
}

/* new_id for a bridge that cdc_acm holds already: taken over. */
TEST_F_TIMEOUT(usart, new_id_takes_bridge_from_cdc_acm, 120)
{
	json_object *ev;

	ASSERT_EQ(0, reload("takeover=1"));	/* no usart_ids */
	ASSERT_EQ(0, scale_step());
	ASSERT_EQ(0, bsk_run("/sbin/modprobe", "cdc_acm", NULL));
	self->acm = true;
	bsk_mon_stop(&self->mon);
	ASSERT_EQ(0, bsk_mon_start(&self->mon));
	ASSERT_EQ(0, plug_to_cdc_acm(_metadata, self));

	ASSERT_EQ(0, write_str(NEW_ID, ACM_NEW_ID));
	ev = bsk_mon_wait(&self->mon, self->emu.path, NULL, "ready,failed",
			  3000 * bsk_scale());
	expect_taken_over(_metadata, self, ev);
	json_object_put(ev);
	EXPECT_EQ(0, write_str(REMOVE_ID, ACM_NEW_ID));
}

/*
 * usart_ids, cdc_acm registered first: cdc_acm gets the first probe of a
 * bridge plugged later, bootshake takes it over.
 */
TEST_F_TIMEOUT(usart, usart_ids_win_over_cdc_acm_loaded_first, 120)
{
	json_object *ev;

	bsk_mon_stop(&self->mon);
	bsk_rmmod_bootshake();
	ASSERT_EQ(0, bsk_run("/sbin/modprobe", "cdc_acm", NULL));
	self->acm = true;
	ASSERT_EQ(0, reload(ACM_IDS));
	ASSERT_EQ(0, scale_step());
	ASSERT_EQ(0, bsk_mon_start(&self->mon));
	ASSERT_EQ(0, start_acm_id(self));
	ev = bsk_mon_wait(&self->mon, self->emu.path, NULL, "ready,failed",
			  3000 * bsk_scale());
	expect_taken_over(_metadata, self, ev);
	json_object_put(ev);
}

/* remove_id: a bridge plugged afterwards is left alone again. */
TEST_F_TIMEOUT(usart, remove_id_opts_out, 120)
{
	char ids[64] = "";
	json_object *ev;
	FILE *f;

	ASSERT_EQ(0, reload("takeover=1"));	/* no usart_ids */
	ASSERT_EQ(0, scale_step());
	bsk_mon_stop(&self->mon);
	ASSERT_EQ(0, bsk_mon_start(&self->mon));
	ASSERT_EQ(0, write_str(NEW_ID, "0483 5740 02"));
	f = fopen(NEW_ID, "r");
	ASSERT_NE(NULL, f);
	EXPECT_NE(NULL, fgets(ids, sizeof(ids), f));
	fclose(f);
	EXPECT_STREQ("0483 5740 02\n", ids);
	ASSERT_EQ(0, write_str(REMOVE_ID, "0483 5740"));
	f = fopen(NEW_ID, "r");
	ASSERT_NE(NULL, f);
	EXPECT_EQ(NULL, fgets(ids, sizeof(ids), f));
	fclose(f);

	ASSERT_EQ(0, start(self, NULL));
	ev = bsk_mon_wait(&self->mon, self->emu.path, "add", NULL,
			  1500 * bsk_scale());
	EXPECT_EQ(NULL, ev);
	json_object_put(ev);
}

TEST_HARNESS_MAIN
