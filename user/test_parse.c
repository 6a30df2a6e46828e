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
	if (state == BOOTSHAKE_STATE_FAILED) {
		nla_put_u32(msg, BOOTSHAKE_A_DEV_ERROR, ETIMEDOUT);
		nla_put_string(msg, BOOTSHAKE_A_DEV_REASON,
			       "no echo of the sync bytes after 3 tries");
	} else {
		nest = nla_nest_start(msg, BOOTSHAKE_A_DEV_MTK | NLA_F_NESTED);
		nla_put_u32(msg, BOOTSHAKE_A_MTK_HW_CODE, 0x0766);
		nla_put_u32(msg, BOOTSHAKE_A_MTK_HW_STATUS, 0);
		nla_nest_end(msg, nest);
	}
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
	CHECK(!strcmp(get_str(o, "kind"), "mtk-brom"), "kind");
	CHECK(!strcmp(get_str(o, "state"), "ready"), "state");
	CHECK(get_int(o, "sync_us") == 12345, "sync_us");
	CHECK(get_int(o, "ident_us") == 20050, "ident_us");
	CHECK(get_int(o, "attempts") == 3, "attempts");
	CHECK(json_object_get_boolean(get(o, "already_synced")),
	      "already_synced");
	CHECK(!json_object_get_boolean(get(o, "taken_over")), "taken_over");
	CHECK(json_object_get_boolean(get(get(o, "flags"), "already_synced")),
	      "flags.already_synced");
	CHECK(!strcmp(get_str(o, "speed"), "high"), "speed");
	CHECK(get_int(o, "busnum") == 1 && get_int(o, "devnum") == 7,
	      "bus/dev");
	CHECK(!get(o, "error") && !get(o, "error_name") && !get(o, "reason"),
	      "error fields present on a ready device");
	m = get(o, "mtk");
	CHECK(m && get_int(m, "hw_code") == 0x0766, "mtk.hw_code");
	CHECK(m && get_int(m, "hw_status") == 0, "mtk.hw_status");
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
	o = bs_dev_json(&dev, NULL);
	CHECK(get_int(o, "error") == ETIMEDOUT, "error");
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
	};
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
			nla_put(msg, c->mtk_type, c->len, c->data);
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
}

int main(int argc, char **argv)
{
	if (argc > 1 && !strcmp(argv[1], "--print")) {
		bs_json = argc > 2 && !strcmp(argv[2], "-j");
		sample_output();
		return 0;
	}

	test_full();
	test_failed();
	test_minimal();
	test_unknown();
	test_bad();
	test_missing_id();
	test_short();

	if (failures) {
		fprintf(stderr, "test_parse: %d failure(s)\n", failures);
		return 1;
	}
	printf("test_parse: all checks passed\n");
	return 0;
}
