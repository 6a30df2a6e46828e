// SPDX-License-Identifier: GPL-2.0
/*
 * STM32 system bootloader over USB DFU: the handshake as a user sees it.
 *
 * Each test plugs an emulated ROM (selftests/emu, personality stm32-dfu,
 * gadgetfs) into dummy_udc.0, follows `bootshake -j monitor --dump` and
 * checks the "dfu" object of the device: state, status, versions, command
 * list, family, alternate settings and their regions, and the failure
 * code and reason.  The emulator's log tells which DFU requests the ROM
 * got (CLRSTATUS only in dfuERROR, ABORT only from the idle states).
 * Scenario numbers are those of ../shared/protocols/stm32.md section 7;
 * Documentation/testing.rst ("STM32 scenario coverage") maps all 46 to a
 * test here or in stm32_usart.c, or says why none applies.
 *
 * gadgetfs runs one device at a time and takes the first free UDC, so
 * these tests use dummy_udc.0 and one device each.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "bsk_test.h"

#define UDC	"dummy_udc.0"
#define EMU_LOG	"/tmp/stm32-dfu-emu.log"

/* Module defaults (kmod/main.c): step and whole-handshake deadlines. */
#define STEP_MS	100
#define SYNC_MS	3000

/* DFU request lines in the emulator log (setup TYPE REQ ...) */
#define LOG_CLRSTATUS	"setup 21 04 "
#define LOG_ABORT	"setup 21 06 "
#define LOG_GETSTATUS	"setup a1 03 "
#define LOG_UPLOAD0	"setup a1 02 0000 "

/* What a test has running: one emulated ROM, one monitor. */
struct dfu_ctx {
	struct bsk_emu emu;
	struct bsk_mon mon;
	int kmsg;
};

/*
 * The kind's deadlines, as `bootshake policy` sets them: under TCG one
 * control transfer to a userspace emulator can take longer than the
 * module's 100 ms step, so the step is scaled like every test deadline.
 */
static int set_deadlines(int step_ms, int sync_ms)
{
	char step[16], sync[16];

	snprintf(step, sizeof(step), "%d", step_ms);
	snprintf(sync, sizeof(sync), "%d", sync_ms);
	return bsk_run_output(NULL, 0, bsk_helper_path(), "policy", "stm32-dfu",
			      "--step-timeout", step, "--sync-timeout", sync,
			      NULL);
}

static int ctx_setup(struct dfu_ctx *c)
{
	c->emu.pid = -1;
	unlink(EMU_LOG);
	c->kmsg = bsk_kmsg_mark();
	if (set_deadlines(STEP_MS * bsk_scale(), SYNC_MS))
		return -1;
	return bsk_mon_start(&c->mon);
}

/* Unplug, wait for the remove; returns the number of kernel splats. */
static int ctx_teardown(struct dfu_ctx *c)
{
	char path[32];

	if (c->emu.pid > 0) {
		snprintf(path, sizeof(path), "%s", c->emu.path);
		bsk_emu_stop(&c->emu);
		json_object_put(bsk_mon_wait(&c->mon, path, "remove", NULL,
					     5000 * bsk_scale()));
	}
	bsk_mon_stop(&c->mon);
	set_deadlines(STEP_MS, SYNC_MS);	/* the module's defaults */
	return bsk_kmsg_splats(c->kmsg);
}

static int start(struct dfu_ctx *c, const char *const *faults)
{
	const char *const extra[] = { "--log", EMU_LOG, NULL };

	return bsk_emu_start_args(&c->emu, "stm32-dfu", UDC, faults, extra);
}

/* Plug with @faults, wait for ready or failed. */
static json_object *plug(struct __test_metadata *_metadata,
			 struct dfu_ctx *c, const char *const *faults,
			 int timeout_ms)
{
	json_object *ev;

	if (start(c, faults)) {
		TH_LOG("emulator did not start");
		return NULL;
	}
	ev = bsk_mon_wait(&c->mon, c->emu.path, NULL, "ready,failed",
			  timeout_ms);
	if (!ev)
		TH_LOG("no ready/failed event for %s within %d ms",
		       c->emu.path, timeout_ms);
	return ev;
}

FIXTURE(dfu) {
	struct dfu_ctx c;
};

FIXTURE_SETUP(dfu)
{
	ASSERT_EQ(0, ctx_setup(&self->c));
}

FIXTURE_TEARDOWN(dfu)
{
	EXPECT_EQ(0, ctx_teardown(&self->c));
}

static json_object *dfu_obj(json_object *dev)
{
	json_object *d = NULL;

	if (dev)
		json_object_object_get_ex(dev, "dfu", &d);
	return d;
}

static json_object *get(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (o)
		json_object_object_get_ex(o, key, &v);
	return v;
}

/* Length of a JSON array, -1 when there is none. */
static int len_of(json_object *a)
{
	return json_object_is_type(a, json_type_array) ?
	       (int)json_object_array_length(a) : -1;
}

static json_object *alt_n(json_object *d, int n)
{
	json_object *alts = get(d, "alts");

	if (!alts || (int)json_object_array_length(alts) <= n)
		return NULL;
	return json_object_array_get_idx(alts, n);
}

static json_object *region_n(json_object *alt, int n)
{
	json_object *r = get(alt, "regions");

	if (!r || (int)json_object_array_length(r) <= n)
		return NULL;
	return json_object_array_get_idx(r, n);
}

static void expect_region(struct __test_metadata *_metadata, json_object *r,
			  long long addr, long long count, long long size,
			  const char *type)
{
	ASSERT_NE(NULL, r);
	EXPECT_EQ(addr, bsk_json_int(r, "address", -1));
	EXPECT_EQ(count, bsk_json_int(r, "count", -1));
	EXPECT_EQ(size, bsk_json_int(r, "size", -1));
	EXPECT_STREQ(type, bsk_json_str(r, "type"));
}

static void expect_ready_idle(struct __test_metadata *_metadata,
			      json_object *ev)
{
	json_object *d;

	ASSERT_NE(NULL, ev);
	ASSERT_STREQ("ready", bsk_json_str(ev, "state")) {
		TH_LOG("error %s: %s", bsk_json_str(ev, "error"),
		       bsk_json_str(ev, "reason"));
	}
	EXPECT_STREQ("stm32-dfu", bsk_json_str(ev, "kind"));
	EXPECT_EQ(0x0483, bsk_json_int(ev, "vid", -1));
	EXPECT_EQ(0xdf11, bsk_json_int(ev, "pid", -1));
	d = dfu_obj(ev);
	ASSERT_NE(NULL, d);
	EXPECT_STREQ("dfuIDLE", bsk_json_str(d, "state"));
}

static void expect_commands(struct __test_metadata *_metadata,
			    json_object *d)
{
	static const int want[] = { 0x00, 0x21, 0x41, 0x92 };
	json_object *c = get(d, "commands");
	size_t i;

	ASSERT_NE(NULL, c);
	ASSERT_EQ(4, len_of(c));
	for (i = 0; i < 4; i++)
		EXPECT_EQ(want[i], json_object_get_int(
				json_object_array_get_idx(c, i)));
}

/* 1: nominal F407: everything a user reads, in the event and the list. */
TEST_F_TIMEOUT(dfu, clean_f407, 120)
{
	json_object *ev, *d, *a, *list, *dev;
	int st;

	ev = plug(_metadata, &self->c, NULL, 3000 * bsk_scale());
	expect_ready_idle(_metadata, ev);
	d = dfu_obj(ev);
	EXPECT_STREQ("OK", bsk_json_str(d, "status"));
	EXPECT_STREQ("1.1a", bsk_json_str(d, "dfu_version"));
	EXPECT_TRUE(bsk_json_bool(d, "dfuse"));
	EXPECT_EQ(128, bsk_json_int(d, "transfer_size", -1));
	EXPECT_EQ(0x0b, bsk_json_int(d, "attributes", -1));
	/* bcdDevice 0x2200: the ROM speaks DFU protocol V2.2 (sheet 1.6) */
	EXPECT_EQ(0x2200, bsk_json_int(d, "bcd_device", -1));
	EXPECT_STREQ("2.2", bsk_json_str(d, "protocol_version"));
	expect_commands(_metadata, d);
	EXPECT_STREQ("STM32F2/F4", bsk_json_str(d, "family"));
	EXPECT_EQ(80, bsk_json_int(d, "family_confidence", -1));
	EXPECT_EQ(4, len_of(get(d, "alts")));

	a = alt_n(d, 0);
	EXPECT_EQ(0, bsk_json_int(a, "alt", -1));
	EXPECT_STREQ("@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg",
		     bsk_json_str(a, "name"));
	EXPECT_FALSE(bsk_json_bool(a, "malformed"));
	EXPECT_EQ(3, len_of(get(a, "regions")));
	expect_region(_metadata, region_n(a, 0), 0x08000000, 4, 16384, "g");
	expect_region(_metadata, region_n(a, 1), 0x08010000, 1, 65536, "g");
	expect_region(_metadata, region_n(a, 2), 0x08020000, 7, 131072, "g");
	a = alt_n(d, 2);
	EXPECT_EQ(2, bsk_json_int(a, "alt", -1));
	expect_region(_metadata, region_n(a, 0), 0x1fff7800, 1, 512, "g");
	expect_region(_metadata, region_n(a, 1), 0x1fff7a00, 1, 16, "g");
	a = alt_n(d, 3);
	expect_region(_metadata, region_n(a, 0), 0xffff0000, 1, 4, "g");

	/* Already idle: no CLRSTATUS; one ABORT ends the Get command. */
	EXPECT_EQ(0, bsk_file_count(EMU_LOG, LOG_CLRSTATUS));
	EXPECT_EQ(1, bsk_file_count(EMU_LOG, LOG_UPLOAD0));
	EXPECT_EQ(1, bsk_file_count(EMU_LOG, LOG_ABORT));
	EXPECT_EQ(0, bsk_file_count(EMU_LOG, "setup 80 06 2100"));
	EXPECT_EQ(0, bsk_file_count(EMU_LOG, "setup 81 06 2100"));
	/* ... and the ROM is left in dfuIDLE for the next tool. */
	EXPECT_EQ(1, bsk_file_count(EMU_LOG, "dfu-status 9 0"));

	list = bsk_cli_json(&st, "list", NULL);
	ASSERT_EQ(0, st);
	dev = bsk_json_find_path(list, self->c.emu.path);
	ASSERT_NE(NULL, dev);
	EXPECT_STREQ("ready", bsk_json_str(dev, "state"));
	EXPECT_STREQ("dfuIDLE", bsk_json_str(dfu_obj(dev), "state"));
	EXPECT_EQ(4, len_of(get(dfu_obj(dev), "alts")));
	json_object_put(list);
	json_object_put(ev);
}

/* Read a sysfs file of the DFU interface into @buf ("" if unreadable). */
static void read_intf_attr(const char *devpath, const char *name, char *buf,
			   size_t len)
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
}

/*
 * 1: a udev rule can match the family: the ready uevent carries it, with
 * how sure the inference is (no chip ID is read over DFU), and so do
 * the interface's bootshake_family and _family_confidence attributes.
 */
TEST_F_TIMEOUT(dfu, udev_sees_family, 120)
{
	const char *const ready[] = { "BOOTSHAKE_STATE=ready",
				      "BOOTSHAKE_KIND=stm32-dfu",
				      "BOOTSHAKE_FAMILY=STM32F2/F4",
				      "BOOTSHAKE_FAMILY_CONFIDENCE=80", NULL };
	int uev = bsk_uevent_open();
	char devpath[48], buf[256];
	json_object *ev;

	ASSERT_LE(0, uev);
	ev = plug(_metadata, &self->c, NULL, 3000 * bsk_scale());
	expect_ready_idle(_metadata, ev);
	json_object_put(ev);
	snprintf(devpath, sizeof(devpath), "/%s:1.0", self->c.emu.path);
	/* sent right after the netlink event; queued on the socket */
	EXPECT_EQ(0, bsk_uevent_wait(uev, "change", devpath, ready,
				     2000 * bsk_scale()));
	close(uev);

	read_intf_attr(self->c.emu.path, "bootshake_family", buf,
		       sizeof(buf));
	EXPECT_STREQ("STM32F2/F4\n", buf);
	read_intf_attr(self->c.emu.path, "bootshake_family_confidence", buf,
		       sizeof(buf));
	EXPECT_STREQ("80\n", buf);
	read_intf_attr(self->c.emu.path, "bootshake_kind", buf, sizeof(buf));
	EXPECT_STREQ("stm32-dfu\n", buf);
}

/* 2, 3: F105/107 profile, serial "STM32": family from the product. */
TEST_F_TIMEOUT(dfu, f105_profile, 120)
{
	const char *const faults[] = { "profile=f105", NULL };
	json_object *ev, *d;

	ev = plug(_metadata, &self->c, faults, 3000 * bsk_scale());
	expect_ready_idle(_metadata, ev);
	d = dfu_obj(ev);
	EXPECT_STREQ("STM32F105/107", bsk_json_str(d, "family"));
	EXPECT_EQ(90, bsk_json_int(d, "family_confidence", -1));
	EXPECT_EQ(0x2000, bsk_json_int(d, "bcd_device", -1));
	EXPECT_STREQ("2.0", bsk_json_str(d, "protocol_version"));
	EXPECT_EQ(2, len_of(get(d, "alts")));
	expect_region(_metadata, region_n(alt_n(d, 0), 0), 0x08000000, 128,
		      2048, "g");
	expect_region(_metadata, region_n(alt_n(d, 1), 0), 0x1ffff800, 1, 16,
		      "g");
	json_object_put(ev);
}

/*
 * 4, 13: STM32C5: one alt, CLRSTATUS stalls outside dfuERROR, and
 * GET_DESCRIPTOR(DFU functional) never completes: not needed, not sent.
 */
TEST_F_TIMEOUT(dfu, c5_profile, 120)
{
	const char *const faults[] = { "profile=c5", NULL };
	json_object *ev, *d;

	ev = plug(_metadata, &self->c, faults, 3000 * bsk_scale());
	expect_ready_idle(_metadata, ev);
	d = dfu_obj(ev);
	EXPECT_STREQ("OK", bsk_json_str(d, "status"));
	EXPECT_EQ(1, len_of(get(d, "alts")));
	EXPECT_STREQ("STM32H7/C5/L5/U5", bsk_json_str(d, "family"));
	/* DFU V3.0 (AN2606), in the newer ROMs' 0x0M00 form */
	EXPECT_EQ(0x0300, bsk_json_int(d, "bcd_device", -1));
	EXPECT_STREQ("3.0", bsk_json_str(d, "protocol_version"));
	EXPECT_EQ(0, bsk_file_count(EMU_LOG, "stall "));
	json_object_put(ev);
}

/*
 * 6: an H7A3 ROM (V9.0) states 2 KB sectors where the part has 8 KB.
 * Nothing over DFU says which part it is, so there is nothing to check
 * the layout against: it is reported as the ROM states it, and the family
 * is a low-confidence guess, never a claim.
 */
TEST_F_TIMEOUT(dfu, h7a3_layout_as_stated, 120)
{
	const char *const faults[] = { "profile=h7a3", NULL };
	json_object *ev, *d;

	ev = plug(_metadata, &self->c, faults, 3000 * bsk_scale());
	expect_ready_idle(_metadata, ev);
	d = dfu_obj(ev);
	EXPECT_EQ(1, len_of(get(d, "alts")));
	EXPECT_STREQ("@Internal Flash   /0x08000000/256*02Kg",
		     bsk_json_str(alt_n(d, 0), "name"));
	expect_region(_metadata, region_n(alt_n(d, 0), 0), 0x08000000, 256,
		      2048, "g");
	EXPECT_STREQ("STM32H7/C5/L5/U5", bsk_json_str(d, "family"));
	EXPECT_EQ(30, bsk_json_int(d, "family_confidence", -1));
	EXPECT_EQ(0x0200, bsk_json_int(d, "bcd_device", -1));
	EXPECT_STREQ("2.0", bsk_json_str(d, "protocol_version"));
	json_object_put(ev);
}

/* 5: a string whose bLength claims more than it carries. */
TEST_F_TIMEOUT(dfu, truncated_string, 120)
{
	const char *const faults[] = { "truncated_string", NULL };
	json_object *ev, *a;

	ev = plug(_metadata, &self->c, faults, 3000 * bsk_scale());
	expect_ready_idle(_metadata, ev);
	a = alt_n(dfu_obj(ev), 0);
	EXPECT_FALSE(bsk_json_bool(a, "malformed"));
	EXPECT_EQ(3, len_of(get(a, "regions")));
	json_object_put(ev);
}

/*
 * 7: two address groups, K/M/space multipliers, letters a..g, and the
 * malformed strings: reported per alt, the handshake does not care.
 */
TEST_F_TIMEOUT(dfu, layout_strings, 120)
{
	const char *const faults[] = {
		"alt=@Option Bytes   /0x1FFF7800/01*048 e/0x1FFFF800/01*048 e",
		"alt=@Mixed/0x20000000/2*1Ma,3*4Bb,1*8 c,1*2Kd,1*1Kf",
		"alt=@Truncated /0x1FFF0000",
		"alt=@Missing star/0x08000000/04016Kg",
		"alt=@Bad hex/0xZZ000000/01*016 g",
		"alt=",
		"alt=Internal Flash  /0x08000000/04*016Kg",
		"alt=@Internal Flash  /0x08000000/128*002Kg",
		NULL
	};
	json_object *ev, *d, *a;
	int i;

	ev = plug(_metadata, &self->c, faults, 3000 * bsk_scale());
	expect_ready_idle(_metadata, ev);
	d = dfu_obj(ev);
	ASSERT_EQ(8, len_of(get(d, "alts")));

	a = alt_n(d, 0);
	EXPECT_FALSE(bsk_json_bool(a, "malformed"));
	expect_region(_metadata, region_n(a, 0), 0x1fff7800, 1, 48, "e");
	expect_region(_metadata, region_n(a, 1), 0x1ffff800, 1, 48, "e");

	a = alt_n(d, 1);
	EXPECT_FALSE(bsk_json_bool(a, "malformed"));
	expect_region(_metadata, region_n(a, 0), 0x20000000, 2, 1048576, "a");
	expect_region(_metadata, region_n(a, 1), 0x20200000, 3, 4, "b");
	expect_region(_metadata, region_n(a, 2), 0x2020000c, 1, 8, "c");
	expect_region(_metadata, region_n(a, 3), 0x20200014, 1, 2048, "d");
	expect_region(_metadata, region_n(a, 4), 0x20200814, 1, 1024, "f");

	for (i = 2; i <= 6; i++) {
		a = alt_n(d, i);
		EXPECT_TRUE(bsk_json_bool(a, "malformed")) {
			TH_LOG("alt %d \"%s\" not flagged", i,
			       bsk_json_str(a, "name"));
		}
		EXPECT_EQ(0, len_of(get(a, "regions")));
	}
	EXPECT_STREQ("@Truncated /0x1FFF0000", bsk_json_str(alt_n(d, 2),
							     "name"));
	a = alt_n(d, 7);
	EXPECT_FALSE(bsk_json_bool(a, "malformed"));
	expect_region(_metadata, region_n(a, 0), 0x08000000, 128, 2048, "g");
	/* G4-style option bytes at 0x1FFF7800 */
	EXPECT_STREQ("STM32L4/G0/G4/WB/WL", bsk_json_str(d, "family"));
	json_object_put(ev);
}

/* 8, 38: where the functional descriptor is, and what it says. */
TEST_F_TIMEOUT(dfu, functional_descriptor_on_alt0, 120)
{
	const char *const faults[] = { "func_alt=0", NULL };
	json_object *ev = plug(_metadata, &self->c, faults, 3000 * bsk_scale());

	expect_ready_idle(_metadata, ev);
	EXPECT_EQ(128, bsk_json_int(dfu_obj(ev), "transfer_size", -1));
	EXPECT_TRUE(bsk_json_bool(dfu_obj(ev), "dfuse"));
	json_object_put(ev);
}

TEST_F_TIMEOUT(dfu, functional_descriptor_dfu_1_0, 120)
{
	/* 38: and wTransferSize 0, reported as the ROM says it */
	const char *const faults[] = { "func_len=7", "transfer_size=0", NULL };
	json_object *ev = plug(_metadata, &self->c, faults, 3000 * bsk_scale());
	json_object *d;

	expect_ready_idle(_metadata, ev);
	d = dfu_obj(ev);
	EXPECT_EQ(0, bsk_json_int(d, "transfer_size", -1));
	EXPECT_STREQ("1.00", bsk_json_str(d, "dfu_version"));
	EXPECT_FALSE(bsk_json_bool(d, "dfuse"));
	/* not DfuSe: no Get command sent */
	EXPECT_EQ(NULL, get(d, "commands"));
	EXPECT_EQ(0, bsk_file_count(EMU_LOG, LOG_UPLOAD0));
	json_object_put(ev);
}

TEST_F_TIMEOUT(dfu, no_functional_descriptor, 120)
{
	const char *const faults[] = { "no_func", NULL };
	json_object *ev = plug(_metadata, &self->c, faults, 3000 * bsk_scale());
	json_object *d;

	expect_ready_idle(_metadata, ev);
	d = dfu_obj(ev);
	EXPECT_EQ(NULL, get(d, "dfu_version"));
	EXPECT_EQ(NULL, get(d, "transfer_size"));
	EXPECT_EQ(NULL, get(d, "commands"));
	EXPECT_EQ(4, len_of(get(d, "alts")));
	json_object_put(ev);
}

/*
 * 9: a runtime-mode (protocol 1) interface is not a ROM, nor is a DfuSe
 * interface with protocol 0 (DSO Nano style, bcdDFUVersion 0x011a): the
 * match table asks for FE/01/02, neither is bound.
 */
static void expect_not_bound(struct __test_metadata *_metadata,
			     struct dfu_ctx *c, const char *protocol)
{
	const char *const faults[] = { protocol, NULL };
	json_object *ev, *list;
	int st;

	ASSERT_EQ(0, start(c, faults));
	ev = bsk_mon_wait(&c->mon, c->emu.path, "add", NULL,
			  1500 * bsk_scale());
	EXPECT_EQ(NULL, ev);
	json_object_put(ev);
	list = bsk_cli_json(&st, "list", NULL);
	EXPECT_EQ(NULL, bsk_json_find_path(list, c->emu.path));
	json_object_put(list);
	bsk_emu_stop(&c->emu);	/* no remove event to wait for */
}

TEST_F_TIMEOUT(dfu, dfuse_protocol0_not_bound, 120)
{
	expect_not_bound(_metadata, &self->c, "protocol=0");
}

TEST_F_TIMEOUT(dfu, runtime_protocol_not_bound, 120)
{
	expect_not_bound(_metadata, &self->c, "protocol=1");
}

/* 11-16, 18: every starting state ends where it should. */
FIXTURE(dfu_state) {
	struct dfu_ctx c;
};

FIXTURE_SETUP(dfu_state)
{
	ASSERT_EQ(0, ctx_setup(&self->c));
}

FIXTURE_TEARDOWN(dfu_state)
{
	EXPECT_EQ(0, ctx_teardown(&self->c));
}

FIXTURE_VARIANT(dfu_state) {
	const char *faults[4];
	const char *end_state;		/* "ready" or "failed" */
	const char *error;		/* error code when failed */
	const char *dfu_state;		/* last DFU state reported */
	const char *dfu_status;
	int clears, aborts;		/* requests the ROM must see */
};

FIXTURE_VARIANT_ADD(dfu_state, idle) {
	.faults = { NULL },
	.end_state = "ready", .dfu_state = "dfuIDLE", .dfu_status = "OK",
	.clears = 0, .aborts = 1,
};

FIXTURE_VARIANT_ADD(dfu_state, error_firmware) {
	/* 11: boots in dfuERROR/errFIRMWARE (an F407 log) */
	.faults = { "state=10", "status=10", "clr=strict", NULL },
	.end_state = "ready", .dfu_state = "dfuIDLE", .dfu_status = "OK",
	.clears = 1, .aborts = 1,
};

FIXTURE_VARIANT_ADD(dfu_state, dnload_idle) {
	/* 12: stale download; strict_b: a CLRSTATUS here would show */
	.faults = { "state=5", "clr=strict_b", NULL },
	.end_state = "ready", .dfu_state = "dfuIDLE", .dfu_status = "OK",
	.clears = 0, .aborts = 2,
};

FIXTURE_VARIANT_ADD(dfu_state, upload_idle) {
	.faults = { "state=9", "clr=strict_b", NULL },
	.end_state = "ready", .dfu_state = "dfuIDLE", .dfu_status = "OK",
	.clears = 0, .aborts = 2,
};

FIXTURE_VARIANT_ADD(dfu_state, dnbusy) {
	/* busy at power-on: poll, then dfuDNLOAD-IDLE, then ABORT */
	.faults = { "state=4", "busy_polls=3", "poll_ms=50", NULL },
	.end_state = "ready", .dfu_state = "dfuIDLE", .dfu_status = "OK",
	.clears = 0, .aborts = 2,
};

FIXTURE_VARIANT_ADD(dfu_state, dnload_sync) {
	.faults = { "state=3", "clr=strict_b", NULL },
	.end_state = "ready", .dfu_state = "dfuIDLE", .dfu_status = "OK",
	.clears = 0, .aborts = 2,
};

FIXTURE_VARIANT_ADD(dfu_state, idle_status_vendor) {
	/* 16: dfuIDLE/errVENDOR is usable: reported, not cleared */
	.faults = { "state=2", "status=11", "clr=strict", NULL },
	.end_state = "ready", .dfu_state = "dfuIDLE",
	.dfu_status = "errVENDOR", .clears = 0, .aborts = 1,
};

FIXTURE_VARIANT_ADD(dfu_state, h7_wedge) {
	/* 30: the first CLRSTATUS answers errUNKNOWN, the second clears */
	.faults = { "state=10", "status=14", "clr_wedge", NULL },
	.end_state = "ready", .dfu_state = "dfuIDLE", .dfu_status = "OK",
	.clears = 2, .aborts = 1,
};

FIXTURE_VARIANT_ADD(dfu_state, stuck_error) {
	/* 15: never leaves dfuERROR: failed, the last status named */
	.faults = { "state=10", "status=14", "clr_never", NULL },
	.end_state = "failed", .error = "dfu-error",
	.dfu_state = "dfuERROR", .dfu_status = "errUNKNOWN",
	.clears = 3, .aborts = 0,
};

FIXTURE_VARIANT_ADD(dfu_state, app_idle) {
	.faults = { "state=0", NULL },
	.end_state = "failed", .error = "dfu-runtime",
	.dfu_state = "appIDLE", .dfu_status = "OK",
	.clears = 0, .aborts = 0,
};

FIXTURE_VARIANT_ADD(dfu_state, busy_forever) {
	/* 18: bwPollTimeout 0 while dfuDNBUSY forever: bounded */
	.faults = { "state=4", "busy_polls=forever", "poll_ms=0", NULL },
	.end_state = "failed", .error = "dfu-busy",
	.dfu_state = "dfuDNBUSY", .dfu_status = "OK",
	.clears = 0, .aborts = 0,
};

TEST_F_TIMEOUT(dfu_state, start_state, 120)
{
	json_object *ev, *d;

	ev = plug(_metadata, &self->c, variant->faults, 6000 * bsk_scale());
	ASSERT_NE(NULL, ev);
	ASSERT_STREQ(variant->end_state, bsk_json_str(ev, "state")) {
		TH_LOG("error %s: %s", bsk_json_str(ev, "error"),
		       bsk_json_str(ev, "reason"));
	}
	d = dfu_obj(ev);
	EXPECT_STREQ(variant->dfu_state, bsk_json_str(d, "state"));
	EXPECT_STREQ(variant->dfu_status, bsk_json_str(d, "status"));
	if (variant->error) {
		EXPECT_STREQ(variant->error, bsk_json_str(ev, "error"));
		/* the reason names the state or status a user looks up */
		EXPECT_NE(NULL, strstr(bsk_json_str(ev, "reason") ?: "",
				       !strcmp(variant->error, "dfu-error") ?
				       variant->dfu_status :
				       variant->dfu_state)) {
			TH_LOG("reason: %s", bsk_json_str(ev, "reason"));
		}
	}
	/* Layout and family do not depend on the state. */
	EXPECT_EQ(4, len_of(get(d, "alts")));
	EXPECT_STREQ("STM32F2/F4", bsk_json_str(d, "family"));
	EXPECT_EQ(variant->clears, bsk_file_count(EMU_LOG, LOG_CLRSTATUS));
	EXPECT_EQ(variant->aborts, bsk_file_count(EMU_LOG, LOG_ABORT));
	json_object_put(ev);
}

/* 18: bwPollTimeout 0xFFFFFF (16.7 min) is honoured up to a clamp. */
TEST_F_TIMEOUT(dfu, poll_timeout_clamped, 120)
{
	const char *const faults[] = { "state=4", "busy_polls=1",
				       "poll_ms=16777215", NULL };
	json_object *ev;

	ev = plug(_metadata, &self->c, faults, 8000 * bsk_scale());
	expect_ready_idle(_metadata, ev);
	/* waited about the 2 s clamp, not 16 minutes, not 0 */
	EXPECT_GT(bsk_json_int(ev, "sync_us", 0), 1900000LL);
	EXPECT_LT(bsk_json_int(ev, "sync_us", 0), 3000000LL * bsk_scale());
	json_object_put(ev);
}

/* 28: GETSTATUS stalls while busy (L4): treated as busy, a few times. */
TEST_F_TIMEOUT(dfu, getstatus_stalls_twice, 120)
{
	const char *const faults[] = { "gs_stall=2", NULL };
	json_object *ev = plug(_metadata, &self->c, faults, 3000 * bsk_scale());

	expect_ready_idle(_metadata, ev);
	json_object_put(ev);
}

TEST_F_TIMEOUT(dfu, getstatus_always_stalls, 120)
{
	const char *const faults[] = { "gs_stall=1000", NULL };
	json_object *ev = plug(_metadata, &self->c, faults, 5000 * bsk_scale());

	ASSERT_NE(NULL, ev);
	EXPECT_STREQ("failed", bsk_json_str(ev, "state"));
	EXPECT_STREQ("stall", bsk_json_str(ev, "error"));
	EXPECT_EQ(4, bsk_file_count(EMU_LOG, LOG_GETSTATUS));
	json_object_put(ev);
}

/*
 * 31: a busy ROM that refuses every GETSTATUS for longer than the
 * handshake's bounds (stalls here: gadgetfs cannot leave a control
 * request unanswered safely, selftests/emu/gadgetfs.c): failed, bounded;
 * once it has recovered, `bootshake retry` gets it ready.
 */
TEST_F_TIMEOUT(dfu, busy_then_retry, 120)
{
	const char *const faults[] = { "gs_stall=4", NULL };
	json_object *ev, *r;
	char id[16];
	int st;

	ev = plug(_metadata, &self->c, faults, 5000 * bsk_scale());
	ASSERT_NE(NULL, ev);
	ASSERT_STREQ("failed", bsk_json_str(ev, "state"));
	EXPECT_STREQ("stall", bsk_json_str(ev, "error"));
	snprintf(id, sizeof(id), "%lld", bsk_json_int(ev, "id", 0));
	json_object_put(ev);

	r = bsk_cli_json(&st, "retry", id, NULL);
	EXPECT_EQ(0, st);
	json_object_put(r);
	ev = bsk_mon_wait(&self->c.mon, self->c.emu.path, NULL, "ready",
			  3000 * bsk_scale());
	expect_ready_idle(_metadata, ev);
	EXPECT_STREQ("OK", bsk_json_str(dfu_obj(ev), "status"));
	json_object_put(ev);
}

/* 17: a 3-byte GETSTATUS reply is a protocol error, not a state. */
TEST_F_TIMEOUT(dfu, getstatus_short_reply, 120)
{
	const char *const faults[] = { "gs_len=3", NULL };
	json_object *ev = plug(_metadata, &self->c, faults, 5000 * bsk_scale());

	ASSERT_NE(NULL, ev);
	EXPECT_STREQ("failed", bsk_json_str(ev, "state"));
	EXPECT_STREQ("protocol", bsk_json_str(ev, "error"));
	json_object_put(ev);
}

/* 19 variant: the Get command stalls: no list, back to dfuIDLE. */
TEST_F_TIMEOUT(dfu, get_commands_stall, 120)
{
	const char *const faults[] = { "upload0_stall", NULL };
	json_object *ev = plug(_metadata, &self->c, faults, 3000 * bsk_scale());
	json_object *d;

	expect_ready_idle(_metadata, ev);
	d = dfu_obj(ev);
	EXPECT_STREQ("OK", bsk_json_str(d, "status"));
	EXPECT_EQ(NULL, get(d, "commands"));
	/* dfuERROR/errSTALLEDPKT after the stall, cleared once */
	EXPECT_EQ(1, bsk_file_count(EMU_LOG, LOG_CLRSTATUS));
	json_object_put(ev);
}

/* 32: read protection does not get in the way of the handshake. */
TEST_F_TIMEOUT(dfu, read_protected, 120)
{
	const char *const faults[] = { "rdp", "state=10", "status=11", NULL };
	json_object *ev = plug(_metadata, &self->c, faults, 3000 * bsk_scale());

	expect_ready_idle(_metadata, ev);
	expect_commands(_metadata, dfu_obj(ev));
	json_object_put(ev);
}

/* 36: unplugged between two requests: gone, never ready, no splat. */
TEST_F_TIMEOUT(dfu, unplug_mid_handshake, 120)
{
	static const char *const at[] = { "unplug_req=1", "unplug_req=2",
					  "unplug_req=3", "unplug_req=4" };
	json_object *ev;
	size_t i;

	for (i = 0; i < sizeof(at) / sizeof(at[0]); i++) {
		const char *const faults[] = { "state=10", at[i], NULL };
		char path[32];

		ASSERT_EQ(0, start(&self->c, faults));
		snprintf(path, sizeof(path), "%s", self->c.emu.path);
		EXPECT_EQ(0, bsk_emu_wait_exit(&self->c.emu,
					       5000 * bsk_scale()));
		ev = bsk_mon_wait(&self->c.mon, path, "remove,change",
				  "gone,ready", 5000 * bsk_scale());
		ASSERT_NE(NULL, ev) {
			TH_LOG("%s: no remove event", at[i]);
		}
		EXPECT_STREQ("remove", bsk_json_str(ev, "event")) {
			TH_LOG("%s: %s", at[i], bsk_json_str(ev, "state"));
		}
		json_object_put(ev);
	}
}

/*
 * 10: re-enumeration storm (F105/107 with an 8 MHz crystal): the ROM
 * leaves and comes back three times; each connection is a new device,
 * handshaken again, each disconnect clean.
 */
TEST_F_TIMEOUT(dfu, reenumeration_storm, 180)
{
	const char *const faults[] = { "profile=f105", NULL };
	long long last_id = 0;
	json_object *ev;
	int i;

	ev = plug(_metadata, &self->c, faults, 3000 * bsk_scale());
	expect_ready_idle(_metadata, ev);
	last_id = bsk_json_int(ev, "id", 0);
	json_object_put(ev);
	for (i = 0; i < 3; i++) {
		kill(self->c.emu.pid, SIGUSR1);		/* unplug */
		ev = bsk_mon_wait(&self->c.mon, self->c.emu.path, "remove",
				  NULL, 5000 * bsk_scale());
		ASSERT_NE(NULL, ev);
		json_object_put(ev);
		kill(self->c.emu.pid, SIGUSR2);		/* and back */
		ev = bsk_mon_wait(&self->c.mon, self->c.emu.path, NULL,
				  "ready,failed", 5000 * bsk_scale());
		expect_ready_idle(_metadata, ev);
		EXPECT_GT(bsk_json_int(ev, "id", 0), last_id);
		last_id = bsk_json_int(ev, "id", 0);
		EXPECT_STREQ("STM32F105/107",
			     bsk_json_str(dfu_obj(ev), "family"));
		json_object_put(ev);
	}
}

/*
 * The emulator is a faithful ROM for a real client: Debian's dfu-util
 * lists it without a warning and reads memory from it, with bootshake
 * not bound.  Pinned to CPU 0 with the emulator: see selftests/emu/
 * gadgetfs.c on DNLOAD and GETSTATUS back to back.
 */
static bool upload_ok(struct __test_metadata *_metadata, const char *file,
		      unsigned int len)
{
	char cmd[256], out[8192];
	unsigned int i;
	FILE *f;
	int st, c;

	snprintf(cmd, sizeof(cmd),
		 "taskset -c 0 dfu-util -a 0 -s 0x08000000:%u -U %s 2>&1",
		 len, file);
	unlink(file);
	st = bsk_run_output(out, sizeof(out), "/bin/sh", "-c", cmd, NULL);
	EXPECT_EQ(0, st) {
		TH_LOG("dfu-util: %s", out);
		return false;
	}
	f = fopen(file, "rb");
	if (!f)
		return false;
	for (i = 0; (c = fgetc(f)) != EOF; i++) {
		unsigned int a = 0x08000000 + i;

		if (c != (int)((a * 7 + (a >> 8)) & 0xff))
			break;
	}
	fclose(f);
	EXPECT_EQ(len, i);
	return i == len;
}

TEST_F_TIMEOUT(dfu, dfu_util_unbound, 120)
{
	char out[8192];
	int st;

	ASSERT_EQ(0, bsk_rmmod_bootshake());
	ASSERT_EQ(0, start(&self->c, NULL));
	usleep(500000);
	st = bsk_run_output(out, sizeof(out), "/bin/sh", "-c",
			    "dfu-util -l 2>&1", NULL);
	EXPECT_EQ(0, st);
	EXPECT_NE(NULL, strstr(out, "alt=0, name=\"@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg\", serial=\"315A28A0B956\""));
	EXPECT_NE(NULL, strstr(out, "alt=3, name=\"@Device Feature/0xFFFF0000/01*004 g\""));
	EXPECT_EQ(NULL, strcasestr(out, "warning")) {
		TH_LOG("%s", out);
	}
	EXPECT_EQ(NULL, strstr(out, "dfu-util:")) {
		TH_LOG("%s", out);
	}
	upload_ok(_metadata, "/tmp/stm32-dfu-up.bin", 1000);
	bsk_emu_stop(&self->c.emu);
	EXPECT_EQ(0, bsk_modprobe_bootshake());
}

/* Handshaken, then `bootshake release` hands the ROM to dfu-util. */
TEST_F_TIMEOUT(dfu, release_to_dfu_util, 120)
{
	json_object *ev, *rel;
	char id[16];
	int st;

	ev = plug(_metadata, &self->c, NULL, 3000 * bsk_scale());
	expect_ready_idle(_metadata, ev);
	snprintf(id, sizeof(id), "%lld", bsk_json_int(ev, "id", 0));
	json_object_put(ev);

	json_object_put(bsk_cli_json(&st, "release", id, NULL));
	EXPECT_EQ(0, st);
	rel = bsk_mon_wait(&self->c.mon, self->c.emu.path, NULL, "released",
			   3000 * bsk_scale());
	EXPECT_NE(NULL, rel);
	json_object_put(rel);
	upload_ok(_metadata, "/tmp/stm32-dfu-rel.bin", 512);
}

TEST_HARNESS_MAIN
