// SPDX-License-Identifier: GPL-2.0
/*
 * Unit test for the device parser and the JSON builder, with messages
 * built by hand the way the kernel would build them (and some ways it
 * should not). No kernel, no socket.
 *
 *   test_parse          run the checks, exit 1 on any failure
 *   test_parse --print  also print sample list/show/monitor output, human
 *                       and JSON (-j), for eyeballing and for test_cli.sh
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>
#include <netlink/attr.h>
#include <netlink/genl/genl.h>
#include <netlink/msg.h>

#include <linux/bootshake.h>

#include "dev.h"
#include "print.h"

#define FAKE_FAMILY	0x1f
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static int failures;

#define CHECK(cond, ...) do {						\
	if (!(cond)) {							\
		failures++;						\
		fprintf(stderr, "FAIL %s:%d: %s: ", __FILE__, __LINE__,	\
			#cond);						\
		fprintf(stderr, __VA_ARGS__);				\
		fputc('\n', stderr);					\
	}								\
} while (0)

static struct nl_msg *new_msg(uint8_t cmd)
{
	struct nl_msg *msg = nlmsg_alloc();

	if (!msg || !genlmsg_put(msg, 0, 0, FAKE_FAMILY, 0, 0, cmd, 1)) {
		fprintf(stderr, "nlmsg_alloc failed\n");
		exit(2);
	}
	return msg;
}

/* A device the way the kernel should send it, every attribute present. */
static struct nl_msg *full_dev(uint8_t cmd, uint32_t id, const char *path,
			       uint32_t state)
{
	struct nl_msg *msg = new_msg(cmd);
	struct nlattr *nest;

	nla_put_u32(msg, BOOTSHAKE_A_DEV_ID, id);
	nla_put_string(msg, BOOTSHAKE_A_DEV_PATH, path);
	nla_put_u16(msg, BOOTSHAKE_A_DEV_VID, 0x0e8d);
	nla_put_u16(msg, BOOTSHAKE_A_DEV_PID, 0x0003);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_KIND, BOOTSHAKE_KIND_MTK_BROM);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_STATE, state);
	/* pad attribute, as nla_put_u64_64bit() may emit */
	nla_put(msg, BOOTSHAKE_A_DEV_PAD, 0, NULL);
	nla_put_u64(msg, BOOTSHAKE_A_DEV_SYNC_US, 12345);
	nla_put_u64(msg, BOOTSHAKE_A_DEV_IDENT_US, 20050);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_ATTEMPTS, 3);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_FLAGS,
		    BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_SPEED, 3);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_BUSNUM, 1);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_DEVNUM, 7);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_GARBAGE, 2);
	if (cmd != BOOTSHAKE_CMD_DEV_GET) {
		nla_put(msg, BOOTSHAKE_A_DEV_PAD, 0, NULL);
		nla_put_u64(msg, BOOTSHAKE_A_DEV_EVENT_NS,
			    1795568523123456789ULL);
	}
	if (state == BOOTSHAKE_STATE_FAILED) {
		nla_put_u32(msg, BOOTSHAKE_A_DEV_ERROR, ETIMEDOUT);
		nla_put_string(msg, BOOTSHAKE_A_DEV_ERROR_CODE, "no-reply");
		nla_put_string(msg, BOOTSHAKE_A_DEV_REASON,
			       "no echo of the sync bytes after 3 tries");
	} else {
		static const uint8_t me_id[16] = {
			0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef,
			0xfe, 0xdc, 0xba, 0x98, 0x76, 0x54, 0x32, 0x10,
		};
		uint8_t soc_id[32];
		int i;

		for (i = 0; i < 32; i++)
			soc_id[i] = 0xa0 + i;
		nest = nla_nest_start(msg, BOOTSHAKE_A_DEV_MTK | NLA_F_NESTED);
		nla_put_u32(msg, BOOTSHAKE_A_MTK_HW_CODE, 0x0766);
		nla_put_u32(msg, BOOTSHAKE_A_MTK_HW_STATUS, 0);
		nla_put_u32(msg, BOOTSHAKE_A_MTK_HW_SUBCODE, 0x8a00);
		nla_put_u32(msg, BOOTSHAKE_A_MTK_HW_VER, 0xca00);
		nla_put_u32(msg, BOOTSHAKE_A_MTK_SW_VER, 0);
		nla_put_u32(msg, BOOTSHAKE_A_MTK_BL_VER, 0xfe);
		nla_put_u32(msg, BOOTSHAKE_A_MTK_BROM_VER, 0x05);
		nla_put_u32(msg, BOOTSHAKE_A_MTK_TARGET_CONFIG, 0x05);
		nla_put(msg, BOOTSHAKE_A_MTK_ME_ID, sizeof(me_id), me_id);
		nla_put(msg, BOOTSHAKE_A_MTK_SOC_ID, sizeof(soc_id), soc_id);
		nla_put_string(msg, BOOTSHAKE_A_MTK_CHIP, "MT6765");
		nla_put_u32(msg, BOOTSHAKE_A_MTK_WATCHDOG,
			    BOOTSHAKE_WDT_DISABLED);
		nla_put_u8(msg, BOOTSHAKE_A_MTK_IS_BROM, 1);
		nla_nest_end(msg, nest);
	}
	return msg;
}

static void put_region(struct nl_msg *msg, uint32_t addr, uint32_t count,
		       uint32_t size, const char *type)
{
	struct nlattr *r = nla_nest_start(msg, BOOTSHAKE_A_ALT_REGION |
					  NLA_F_NESTED);

	nla_put_u32(msg, BOOTSHAKE_A_REGION_ADDRESS, addr);
	nla_put_u32(msg, BOOTSHAKE_A_REGION_COUNT, count);
	nla_put_u32(msg, BOOTSHAKE_A_REGION_SIZE, size);
	nla_put_string(msg, BOOTSHAKE_A_REGION_TYPE, type);
	nla_nest_end(msg, r);
}

/* An STM32 DFU device in dfuIDLE with two alternate settings. */
static struct nl_msg *dfu_dev(uint32_t id, const char *path)
{
	static const uint8_t cmds[] = { 0x00, 0x21, 0x41, 0x92 };
	struct nl_msg *msg = new_msg(BOOTSHAKE_CMD_DEV_GET);
	struct nlattr *nest, *alt;

	nla_put_u32(msg, BOOTSHAKE_A_DEV_ID, id);
	nla_put_string(msg, BOOTSHAKE_A_DEV_PATH, path);
	nla_put_u16(msg, BOOTSHAKE_A_DEV_VID, 0x0483);
	nla_put_u16(msg, BOOTSHAKE_A_DEV_PID, 0xdf11);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_KIND, BOOTSHAKE_KIND_STM32_DFU);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_STATE, BOOTSHAKE_STATE_READY);
	nla_put_u64(msg, BOOTSHAKE_A_DEV_SYNC_US, 3100);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_FLAGS, 0);
	nest = nla_nest_start(msg, BOOTSHAKE_A_DEV_STM32 | NLA_F_NESTED);
	nla_put_u32(msg, BOOTSHAKE_A_STM32_DFU_STATE, 2);
	nla_put_u32(msg, BOOTSHAKE_A_STM32_DFU_STATUS, 0);
	nla_put_u32(msg, BOOTSHAKE_A_STM32_DFU_VERSION, 0x011a);
	nla_put_u32(msg, BOOTSHAKE_A_STM32_TRANSFER_SIZE, 2048);
	nla_put_u32(msg, BOOTSHAKE_A_STM32_ATTRIBUTES, 0x0b);
	nla_put_u32(msg, BOOTSHAKE_A_STM32_BCD_DEVICE, 0x2200);
	nla_put(msg, BOOTSHAKE_A_STM32_COMMANDS, sizeof(cmds), cmds);
	nla_put_string(msg, BOOTSHAKE_A_STM32_FAMILY, "STM32F4");
	nla_put_u32(msg, BOOTSHAKE_A_STM32_FAMILY_CONFIDENCE, 80);
	alt = nla_nest_start(msg, BOOTSHAKE_A_STM32_ALT | NLA_F_NESTED);
	nla_put_u32(msg, BOOTSHAKE_A_ALT_NUMBER, 0);
	nla_put_string(msg, BOOTSHAKE_A_ALT_NAME,
		       "@Internal Flash  /0x08000000/04*016Kg,01*064Kg,07*128Kg");
	put_region(msg, 0x08000000, 4, 16384, "g");
	put_region(msg, 0x08010000, 1, 65536, "g");
	put_region(msg, 0x08020000, 7, 131072, "g");
	nla_nest_end(msg, alt);
	alt = nla_nest_start(msg, BOOTSHAKE_A_STM32_ALT | NLA_F_NESTED);
	nla_put_u32(msg, BOOTSHAKE_A_ALT_NUMBER, 1);
	nla_put_string(msg, BOOTSHAKE_A_ALT_NAME, "@Option Bytes garbage");
	nla_put_flag(msg, BOOTSHAKE_A_ALT_MALFORMED);
	nla_nest_end(msg, alt);
	nla_nest_end(msg, nest);
	return msg;
}

/* An STM32 behind a USART bridge, already synced (NACK to 0x7f). */
static struct nl_msg *usart_dev(uint32_t id, const char *path)
{
	static const uint8_t cmds[] = {
		0x00, 0x01, 0x02, 0x11, 0x21, 0x31, 0x44, 0x63, 0x73, 0x82,
		0x92,
	};
	struct nl_msg *msg = new_msg(BOOTSHAKE_CMD_DEV_GET);
	struct nlattr *nest;

	nla_put_u32(msg, BOOTSHAKE_A_DEV_ID, id);
	nla_put_string(msg, BOOTSHAKE_A_DEV_PATH, path);
	nla_put_u16(msg, BOOTSHAKE_A_DEV_VID, 0x10c4);
	nla_put_u16(msg, BOOTSHAKE_A_DEV_PID, 0xea60);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_KIND, BOOTSHAKE_KIND_STM32_USART);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_STATE, BOOTSHAKE_STATE_READY);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_FLAGS,
		    BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED);
	nest = nla_nest_start(msg, BOOTSHAKE_A_DEV_STM32 | NLA_F_NESTED);
	nla_put_u32(msg, BOOTSHAKE_A_STM32_BL_VERSION, 0x31);
	nla_put_u32(msg, BOOTSHAKE_A_STM32_PID, 0x0413);
	nla_put(msg, BOOTSHAKE_A_STM32_COMMANDS, sizeof(cmds), cmds);
	nla_nest_end(msg, nest);
	return msg;
}

static int parse(struct nl_msg *msg, struct bs_dev *dev, char *why)
{
	int ret = bs_dev_parse(nlmsg_hdr(msg), dev, why, 160);

	nlmsg_free(msg);
	return ret;
}

static struct json_object *get(struct json_object *o, const char *key)
{
	struct json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static const char *get_str(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return v && json_object_is_type(v, json_type_string) ?
	       json_object_get_string(v) : "(missing)";
}

static int64_t get_int(struct json_object *o, const char *key)
{
	struct json_object *v = get(o, key);

	return v && json_object_is_type(v, json_type_int) ?
	       json_object_get_int64(v) : -12345;
}

static void test_full(void)
{
	struct json_object *o, *m;
	struct bs_dev dev;
	char why[160] = "";
	int ret;

	ret = parse(full_dev(BOOTSHAKE_CMD_DEV_GET, 1, "1-1.2",
			     BOOTSHAKE_STATE_READY), &dev, why);
	CHECK(ret == 0, "ret %d: %s", ret, why);
	if (ret)
		return;
	o = bs_dev_json(&dev, NULL);
	CHECK(get_int(o, "id") == 1, "id");
	CHECK(!strcmp(get_str(o, "path"), "1-1.2"), "path");
	CHECK(get_int(o, "vid") == 0x0e8d, "vid");
	CHECK(get_int(o, "pid") == 3, "pid");
	/* the USB id also as a string, vid/pid staying numbers */
	CHECK(get_str(o, "usb_id") && !strcmp(get_str(o, "usb_id"), "0e8d:0003"),
	      "usb_id %s", get_str(o, "usb_id"));
	CHECK(!strcmp(get_str(o, "kind"), "mtk-brom"), "kind");
	CHECK(!strcmp(get_str(o, "state"), "ready"), "state");
	CHECK(get_int(o, "sync_us") == 12345, "sync_us");
	CHECK(get_int(o, "ident_us") == 20050, "ident_us");
	CHECK(get_int(o, "attempts") == 3, "attempts");
	CHECK(json_object_get_boolean(get(o, "already_synced")),
	      "already_synced");
	CHECK(!json_object_get_boolean(get(o, "taken_over")), "taken_over");
	CHECK(!get(o, "flags"), "the nested flags object is gone");
	CHECK(get_int(o, "garbage_bytes") == 2, "garbage_bytes");
	CHECK(!strcmp(get_str(o, "speed"), "high"), "speed");
	CHECK(get_int(o, "busnum") == 1 && get_int(o, "devnum") == 7,
	      "bus/dev");
	CHECK(!get(o, "error") && !get(o, "error_name") && !get(o, "reason") &&
	      !get(o, "errno"), "error fields present on a ready device");
	m = get(o, "mtk");
	CHECK(m && get_int(m, "hw_code") == 0x0766, "mtk.hw_code");
	CHECK(m && get_int(m, "hw_status") == 0, "mtk.hw_status");
	CHECK(get_int(m, "hw_subcode") == 0x8a00, "hw_subcode");
	CHECK(get_int(m, "hw_ver") == 0xca00, "hw_ver");
	CHECK(get_int(m, "sw_ver") == 0, "sw_ver");
	CHECK(get_int(m, "bl_ver") == 0xfe, "bl_ver");
	CHECK(get_int(m, "brom_ver") == 5, "brom_ver");
	CHECK(get_int(m, "target_config") == 5, "target_config");
	CHECK(json_object_get_boolean(get(m, "sbc")), "sbc");
	CHECK(get(m, "sla") && !json_object_get_boolean(get(m, "sla")), "sla");
	CHECK(json_object_get_boolean(get(m, "daa")), "daa");
	CHECK(!strcmp(get_str(m, "me_id"), "0123456789abcdeffedcba9876543210"),
	      "me_id %s", get_str(m, "me_id"));
	CHECK(strlen(get_str(m, "soc_id")) == 64 &&
	      !strncmp(get_str(m, "soc_id"), "a0a1a2", 6), "soc_id %s",
	      get_str(m, "soc_id"));
	CHECK(!strcmp(get_str(m, "chip"), "MT6765"), "chip");
	CHECK(!strcmp(get_str(m, "watchdog"), "disabled"), "watchdog");
	CHECK(json_object_get_boolean(get(m, "already_synced")),
	      "mtk.already_synced");
	CHECK(json_object_get_boolean(get(m, "is_brom")), "is_brom");
	CHECK(!get(o, "dfu") && !get(o, "usart"), "stm32 objects on mtk");
	json_object_put(o);
	bs_dev_clear(&dev);
}

static void test_failed(void)
{
	struct json_object *o;
	struct bs_dev dev;
	char why[160] = "";
	int ret;

	ret = parse(full_dev(BOOTSHAKE_CMD_DEV_CHANGE_NTF, 2, "1-2",
			     BOOTSHAKE_STATE_FAILED), &dev, why);
	CHECK(ret == 0, "ret %d: %s", ret, why);
	if (ret)
		return;
	CHECK(dev.cmd == BOOTSHAKE_CMD_DEV_CHANGE_NTF, "cmd %u", dev.cmd);
	CHECK(BS_DEV_HAS(&dev, BOOTSHAKE_A_DEV_EVENT_NS) &&
	      dev.event_ns == 1795568523123456789ULL, "event_ns %llu",
	      (unsigned long long)dev.event_ns);
	o = bs_dev_json(&dev, NULL);
	CHECK(!get(o, "event_ns"), "send time in the device object");
	CHECK(!strcmp(get_str(o, "error"), "no-reply"), "error %s",
	      get_str(o, "error"));
	CHECK(get_int(o, "errno") == ETIMEDOUT, "errno");
	CHECK(!strcmp(get_str(o, "error_name"), "ETIMEDOUT"), "error_name %s",
	      get_str(o, "error_name"));
	CHECK(!strcmp(get_str(o, "state"), "failed"), "state");
	CHECK(!get(o, "mtk"), "mtk without the nest");
	json_object_put(o);
	bs_dev_clear(&dev);
}

/* Only ID and STATE: nothing else may show up in JSON. */
static void test_minimal(void)
{
	struct nl_msg *msg = new_msg(BOOTSHAKE_CMD_DEV_DEL_NTF);
	struct json_object *o;
	struct bs_dev dev;
	char why[160] = "";
	int ret;

	nla_put_u32(msg, BOOTSHAKE_A_DEV_ID, 9);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_STATE, BOOTSHAKE_STATE_GONE);
	ret = parse(msg, &dev, why);
	CHECK(ret == 0, "ret %d: %s", ret, why);
	if (ret)
		return;
	o = bs_dev_json(&dev, NULL);
	CHECK(json_object_object_length(o) == 2, "keys: %s",
	      json_object_to_json_string(o));
	CHECK(!strcmp(get_str(o, "state"), "gone"), "state");
	json_object_put(o);
	bs_dev_clear(&dev);
}

/* Attributes from a newer kernel are skipped, top level and nested. */
static void test_unknown(void)
{
	struct nl_msg *msg = new_msg(BOOTSHAKE_CMD_DEV_ADD_NTF);
	struct json_object *o;
	struct nlattr *nest;
	struct bs_dev dev;
	char why[160] = "";
	int ret;

	nla_put_u32(msg, BOOTSHAKE_A_DEV_ID, 4);
	nla_put_u64(msg, BOOTSHAKE_A_DEV_MAX + 1, 1);
	nla_put_string(msg, BOOTSHAKE_A_DEV_MAX + 7, "future");
	nla_put(msg, 0x3fff, 3, "abc");
	nest = nla_nest_start(msg, BOOTSHAKE_A_DEV_MTK | NLA_F_NESTED);
	nla_put_u16(msg, BOOTSHAKE_A_MTK_HW_CODE, 0x0717);	/* u16 too */
	nla_put_u64(msg, BOOTSHAKE_A_MTK_MAX + 1, 42);
	nla_nest_end(msg, nest);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_KIND, 77);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_STATE, 99);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_SPEED, 42);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_ERROR, 4095);

	ret = parse(msg, &dev, why);
	CHECK(ret == 0, "ret %d: %s", ret, why);
	if (ret)
		return;
	o = bs_dev_json(&dev, NULL);
	CHECK(!strcmp(get_str(o, "kind"), "unknown-77"), "kind %s",
	      get_str(o, "kind"));
	CHECK(!strcmp(get_str(o, "state"), "unknown-99"), "state");
	CHECK(!strcmp(get_str(o, "speed"), "unknown-42"), "speed");
	CHECK(!strcmp(get_str(o, "error_name"), "unknown-4095"),
	      "error_name %s", get_str(o, "error_name"));
	CHECK(get_int(get(o, "mtk"), "hw_code") == 0x0717, "u16 hw_code");
	CHECK(!get(get(o, "mtk"), "hw_status"), "hw_status");
	json_object_put(o);
	bs_dev_clear(&dev);
}

struct bad_case {
	const char	*name;
	int		type;		/* top-level attr, or -1: mtk nest */
	int		mtk_type;
	int		len;
	const char	*data;
	const char	*expect;	/* substring of why */
};

static void test_bad(void)
{
	static const char zeros[16];
	static const struct bad_case cases[] = {
		{ "u16 vid sent as u32", BOOTSHAKE_A_DEV_VID, 0, 4, zeros,
		  "vid" },
		{ "u16 pid sent as u8", BOOTSHAKE_A_DEV_PID, 0, 1, zeros,
		  "pid" },
		{ "u32 state sent as u16", BOOTSHAKE_A_DEV_STATE,
		  0, 2, zeros, "state" },
		{ "u64 sync sent as u32", BOOTSHAKE_A_DEV_SYNC_US, 0, 4,
		  zeros, "sync-us" },
		{ "u64 ident sent as 16 bytes", BOOTSHAKE_A_DEV_IDENT_US, 0,
		  16, zeros, "ident-us" },
		{ "u32 flags sent as u64", BOOTSHAKE_A_DEV_FLAGS, 0, 8, zeros,
		  "flags" },
		{ "path without NUL", BOOTSHAKE_A_DEV_PATH, 0, 3, "1-1",
		  "path" },
		{ "empty reason", BOOTSHAKE_A_DEV_REASON, 0, 0, zeros,
		  "reason" },
		{ "hw_code of 3 bytes", -1, BOOTSHAKE_A_MTK_HW_CODE, 3, zeros,
		  "mtk.hw-code" },
		{ "hw_status as u16", -1, BOOTSHAKE_A_MTK_HW_STATUS, 2, zeros,
		  "mtk.hw-status" },
		{ "garbage as u64", BOOTSHAKE_A_DEV_GARBAGE, 0, 8, zeros,
		  "garbage" },
		{ "error code without NUL", BOOTSHAKE_A_DEV_ERROR_CODE, 0, 3,
		  "abc", "error-code" },
		{ "is_brom as u32", -1, BOOTSHAKE_A_MTK_IS_BROM, 4, zeros,
		  "mtk.is-brom" },
		{ "me_id of 65 bytes", -1, BOOTSHAKE_A_MTK_ME_ID, 65, NULL,
		  "mtk.me-id" },
		{ "watchdog as u8", -1, BOOTSHAKE_A_MTK_WATCHDOG, 1, zeros,
		  "mtk.watchdog" },
		{ "chip without NUL", -1, BOOTSHAKE_A_MTK_CHIP, 2, "MT",
		  "mtk.chip" },
	};
	static const char big[80];
	size_t i;

	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct bad_case *c = &cases[i];
		struct nl_msg *msg = new_msg(BOOTSHAKE_CMD_DEV_GET);
		struct bs_dev dev;
		char why[160] = "";
		int ret;

		nla_put_u32(msg, BOOTSHAKE_A_DEV_ID, 5);
		nla_put_string(msg, BOOTSHAKE_A_DEV_PATH, "9-9");
		if (c->type >= 0) {
			nla_put(msg, c->type, c->len, c->data);
		} else {
			struct nlattr *nest;

			nest = nla_nest_start(msg, BOOTSHAKE_A_DEV_MTK);
			nla_put(msg, c->mtk_type, c->len,
				c->data ? c->data : big);
			nla_nest_end(msg, nest);
		}
		ret = parse(msg, &dev, why);
		CHECK(ret == -EBADMSG, "%s: accepted (ret %d)", c->name, ret);
		CHECK(strstr(why, c->expect), "%s: why \"%s\" lacks \"%s\"",
		      c->name, why, c->expect);
		CHECK(!dev.path && !dev.reason, "%s: leaked strings", c->name);
		if (!ret)
			bs_dev_clear(&dev);
	}
}

/* Malformed STM32 nests, two levels down, are named with their path. */
static void test_bad_stm32(void)
{
	struct nl_msg *msg;
	struct nlattr *nest, *alt, *reg;
	struct bs_dev dev;
	char why[160] = "";
	int ret;

	msg = new_msg(BOOTSHAKE_CMD_DEV_GET);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_ID, 5);
	nla_put_string(msg, BOOTSHAKE_A_DEV_PATH, "9-9");
	nest = nla_nest_start(msg, BOOTSHAKE_A_DEV_STM32 | NLA_F_NESTED);
	nla_put_string(msg, BOOTSHAKE_A_STM32_FAMILY, "STM32F4");
	alt = nla_nest_start(msg, BOOTSHAKE_A_STM32_ALT | NLA_F_NESTED);
	nla_put_string(msg, BOOTSHAKE_A_ALT_NAME, "@x");
	reg = nla_nest_start(msg, BOOTSHAKE_A_ALT_REGION | NLA_F_NESTED);
	nla_put_u16(msg, BOOTSHAKE_A_REGION_ADDRESS, 8);
	nla_nest_end(msg, reg);
	nla_nest_end(msg, alt);
	nla_nest_end(msg, nest);
	ret = parse(msg, &dev, why);
	CHECK(ret == -EBADMSG, "accepted (ret %d)", ret);
	CHECK(strstr(why, "stm32.alt.region.address"), "why \"%s\"", why);
	CHECK(!dev.path && !dev.stm32.family && !dev.stm32.alts,
	      "leaked on error");

	msg = new_msg(BOOTSHAKE_CMD_DEV_GET);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_ID, 5);
	nest = nla_nest_start(msg, BOOTSHAKE_A_DEV_STM32 | NLA_F_NESTED);
	nla_put_u32(msg, BOOTSHAKE_A_STM32_DFU_STATE, 2);
	nla_put(msg, BOOTSHAKE_A_STM32_COMMANDS, 65, why);
	nla_nest_end(msg, nest);
	ret = parse(msg, &dev, why);
	CHECK(ret == -EBADMSG && strstr(why, "stm32.commands"),
	      "ret %d why \"%s\"", ret, why);
}

static void test_missing_id(void)
{
	struct nl_msg *msg = new_msg(BOOTSHAKE_CMD_DEV_GET);
	struct bs_dev dev;
	char why[160] = "";
	int ret;

	nla_put_string(msg, BOOTSHAKE_A_DEV_PATH, "1-1");
	ret = parse(msg, &dev, why);
	CHECK(ret == -EBADMSG && strstr(why, "missing attribute id"),
	      "ret %d why %s", ret, why);
}

/* A module that sends no error code: a failed device still has one. */
static void test_failed_without_code(void)
{
	struct nl_msg *msg = new_msg(BOOTSHAKE_CMD_DEV_GET);
	struct json_object *o;
	struct bs_dev dev;
	char why[160] = "";

	nla_put_u32(msg, BOOTSHAKE_A_DEV_ID, 3);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_STATE, BOOTSHAKE_STATE_FAILED);
	nla_put_u32(msg, BOOTSHAKE_A_DEV_ERROR, EPROTO);
	CHECK(parse(msg, &dev, why) == 0, "%s", why);
	o = bs_dev_json(&dev, NULL);
	CHECK(!strcmp(get_str(o, "error"), "unknown"), "error %s",
	      get_str(o, "error"));
	CHECK(!strcmp(get_str(o, "error_name"), "EPROTO"), "error_name");
	json_object_put(o);
	bs_dev_clear(&dev);
}

static void test_dfu(void)
{
	struct json_object *o, *d, *alts, *a0, *a1, *r;
	struct bs_dev dev;
	char why[160] = "";
	int ret;

	ret = parse(dfu_dev(7, "2-1"), &dev, why);
	CHECK(ret == 0, "ret %d: %s", ret, why);
	if (ret)
		return;
	o = bs_dev_json(&dev, NULL);
	CHECK(!strcmp(get_str(o, "kind"), "stm32-dfu"), "kind");
	d = get(o, "dfu");
	CHECK(d != NULL && !get(o, "usart") && !get(o, "mtk"), "dfu object");
	CHECK(!strcmp(get_str(d, "state"), "dfuIDLE"), "state %s",
	      get_str(d, "state"));
	CHECK(!strcmp(get_str(d, "status"), "OK"), "status");
	CHECK(!strcmp(get_str(d, "dfu_version"), "1.1a"), "dfu_version %s",
	      get_str(d, "dfu_version"));
	CHECK(json_object_get_boolean(get(d, "dfuse")), "dfuse");
	CHECK(get_int(d, "transfer_size") == 2048, "transfer_size");
	CHECK(get_int(d, "bcd_device") == 0x2200, "bcd_device");
	CHECK(!strcmp(get_str(d, "protocol_version"), "2.2"),
	      "protocol_version %s", get_str(d, "protocol_version"));
	CHECK(get_int(d, "attributes") == 0x0b, "attributes");
	CHECK(json_object_array_length(get(d, "commands")) == 4 &&
	      json_object_get_int(json_object_array_get_idx(get(d, "commands"),
							    3)) == 0x92,
	      "commands");
	CHECK(!strcmp(get_str(d, "family"), "STM32F4"), "family");
	CHECK(get_int(d, "family_confidence") == 80, "family_confidence");
	alts = get(d, "alts");
	CHECK(alts && json_object_array_length(alts) == 2, "alts");
	a0 = json_object_array_get_idx(alts, 0);
	a1 = json_object_array_get_idx(alts, 1);
	CHECK(get_int(a0, "alt") == 0 && get_int(a1, "alt") == 1, "alt nr");
	CHECK(!strncmp(get_str(a0, "name"), "@Internal Flash", 15), "name");
	CHECK(json_object_array_length(get(a0, "regions")) == 3, "regions");
	r = json_object_array_get_idx(get(a0, "regions"), 2);
	CHECK(get_int(r, "address") == 0x08020000 && get_int(r, "count") == 7 &&
	      get_int(r, "size") == 131072 && !strcmp(get_str(r, "type"), "g"),
	      "region 2");
	CHECK(json_object_get_boolean(get(a1, "malformed")) &&
	      json_object_array_length(get(a1, "regions")) == 0, "malformed");
	json_object_put(o);
	bs_dev_clear(&dev);
}

static void test_usart(void)
{
	struct json_object *o, *u;
	struct bs_dev dev;
	char why[160] = "";
	int ret;

	ret = parse(usart_dev(8, "3-2"), &dev, why);
	CHECK(ret == 0, "ret %d: %s", ret, why);
	if (ret)
		return;
	o = bs_dev_json(&dev, NULL);
	u = get(o, "usart");
	CHECK(u && !get(o, "dfu"), "usart object");
	CHECK(get_int(u, "bl_version") == 0x31, "bl_version");
	CHECK(get_int(u, "pid") == 0x413, "pid");
	CHECK(json_object_array_length(get(u, "commands")) == 11, "commands");
	CHECK(json_object_get_boolean(get(u, "already_synced")),
	      "already_synced");
	json_object_put(o);
	bs_dev_clear(&dev);
}

static void test_short(void)
{
	struct nlmsghdr nlh = {
		.nlmsg_len	= NLMSG_HDRLEN,
		.nlmsg_type	= FAKE_FAMILY,
	};
	struct bs_dev dev;
	char why[160] = "";

	CHECK(bs_dev_parse(&nlh, &dev, why, sizeof(why)) == -EBADMSG,
	      "short message accepted");
}

/* DEV arguments: checked before netlink is opened. */
static void test_dev_arg(void)
{
	static const struct {
		const char	*arg;
		bool		ok;
	} v[] = {
		{ "1", true }, { "4294967295", true }, { "007", true },
		{ "1-1", true }, { "1-1.2", true }, { "12-3.4.255", true },
		{ "3-1.2.3.4.5.6.7", true },
		{ "0", false }, { "000", false }, { "4294967296", false },
		{ "99999999999999999999", false }, { "", false },
		{ "-1", false }, { "1-", false }, { "-1-1", false },
		{ "1-1.", false }, { "1-.1", false }, { "0-1", false },
		{ "1-0", false }, { "1-01", false }, { "1-256", false },
		{ "1-1.2.3.4.5.6.7.8", false }, { "usb1", false },
		{ "1-1:1.0", false }, { "a-1", false }, { "1--1", false },
		{ "1-1 ", false }, { "1_1", false },
	};
	char why[160];
	size_t i;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		int ret;

		why[0] = '\0';
		ret = bs_dev_check_arg(v[i].arg, why, sizeof(why));
		CHECK(v[i].ok ? !ret : ret == -EINVAL && why[0],
		      "DEV \"%s\": %d (%s)", v[i].arg, ret, why);
	}
}

static void sample_output(void)
{
	struct bs_dev_list list = { 0 };
	struct timespec ts = { .tv_sec = 1795568523, .tv_nsec = 123456789 };
	struct bs_dev dev;
	char why[160];
	int i;

	for (i = 0; i < 3; i++) {
		static const char * const paths[] = { "1-1", "3-1.4.2", "1-2" };
		static const uint32_t states[] = {
			BOOTSHAKE_STATE_READY, BOOTSHAKE_STATE_SYNCING,
			BOOTSHAKE_STATE_FAILED,
		};

		if (parse(full_dev(BOOTSHAKE_CMD_DEV_GET, 3 - i, paths[i],
				   states[i]), &dev, why) ||
		    bs_dev_list_add(&list, &dev)) {
			fprintf(stderr, "sample: %s\n", why);
			exit(2);
		}
	}
	bs_dev_list_sort(&list);
	print_dev_list(&list);
	print_dev(&list.v[2]);
	print_dev(&list.v[0]);
	print_event("add", &list.v[0], &ts, NULL);
	print_event("change", &list.v[1], &ts, NULL);
	print_event("remove", &list.v[2], &ts, NULL);
	print_event("resync", NULL, &ts, "events were lost");
	bs_dev_list_free(&list);

	list = (struct bs_dev_list){ 0 };
	print_dev_list(&list);

	/* STM32 over DFU and over USART, in a table and one by one */
	if (parse(dfu_dev(7, "2-1"), &dev, why) ||
	    bs_dev_list_add(&list, &dev) ||
	    parse(usart_dev(8, "3-2"), &dev, why) ||
	    bs_dev_list_add(&list, &dev)) {
		fprintf(stderr, "sample: %s\n", why);
		exit(2);
	}
	print_dev_list(&list);
	print_dev(&list.v[0]);
	print_dev(&list.v[1]);
	bs_dev_list_free(&list);

	{
		static const struct bs_policy pols[] = {
			{ .present = 0x7e, .kind = BOOTSHAKE_KIND_MTK_BROM,
			  .mode = BOOTSHAKE_POLICY_AUTO, .step_ms = 100,
			  .sync_ms = 3000 },
			{ .present = 0x7e, .kind = BOOTSHAKE_KIND_MTK_PRELOADER,
			  .mode = BOOTSHAKE_POLICY_WATCH, .arm_count = 2,
			  .arm_timeout_ms = 54321, .step_ms = 100,
			  .sync_ms = 3000 },
		};

		print_policies(pols, 2);
		print_policy(&pols[1]);
	}
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--print")) {
		bs_json = argc > 2 && !strcmp(argv[2], "-j");
		bs_pretty = argc > 3 && !strcmp(argv[3], "-p");
		sample_output();
		return 0;
	}

	test_full();
	test_failed();
	test_minimal();
	test_unknown();
	test_bad();
	test_missing_id();
	test_failed_without_code();
	test_dfu();
	test_usart();
	test_bad_stm32();
	test_short();
	test_dev_arg();

	if (failures) {
		fprintf(stderr, "test_parse: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_parse: all checks passed\n");
	return 0;
}
