// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake CLI: the one place that writes output, human or JSON.
 *
 * JSON is always built as a json-c tree from struct bs_dev by
 * bs_dev_json(), so list, show and monitor agree on field names.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <linux/bootshake.h>

#include "print.h"

bool bs_json;

#define JSON_PRETTY	(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | \
			 JSON_C_TO_STRING_NOSLASHESCAPE)
#define JSON_COMPACT	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

static void json_out(struct json_object *obj, int flags)
{
	puts(json_object_to_json_string_ext(obj, flags));
	fflush(stdout);
}

static void add_str(struct json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

static void add_int(struct json_object *o, const char *key, int64_t val)
{
	json_object_object_add(o, key, json_object_new_int64(val));
}

static void add_u64(struct json_object *o, const char *key, uint64_t val)
{
	json_object_object_add(o, key, json_object_new_uint64(val));
}

static void add_bool(struct json_object *o, const char *key, bool val)
{
	json_object_object_add(o, key, json_object_new_boolean(val));
}

void print_error(int err, const char *kmsg, const char *fmt, ...)
{
	char msg[512], name[BS_NAME_LEN];
	va_list ap;

	if (err < 0)
		err = -err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (kmsg && !kmsg[0])
		kmsg = NULL;

	if (bs_json) {
		struct json_object *root = json_object_new_object();
		struct json_object *e = json_object_new_object();

		add_int(e, "errno", err);
		add_str(e, "name", bs_errno_name(err, name, sizeof(name)));
		add_str(e, "message", msg);
		if (kmsg)
			add_str(e, "kernel_message", kmsg);
		json_object_object_add(root, "error", e);
		json_out(root, JSON_COMPACT);
		json_object_put(root);
		return;
	}
	fflush(stdout);
	if (kmsg)
		fprintf(stderr, "bootshake: %s (kernel: %s)\n", msg, kmsg);
	else
		fprintf(stderr, "bootshake: %s\n", msg);
}

void print_warning(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("bootshake: warning: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

struct json_object *bs_dev_json(const struct bs_dev *dev,
				struct json_object *o)
{
	char buf[BS_NAME_LEN];

	if (!o)
		o = json_object_new_object();

	add_int(o, "id", dev->id);
	if (dev->path)
		add_str(o, "path", dev->path);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_VID))
		add_int(o, "vid", dev->vid);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_PID))
		add_int(o, "pid", dev->pid);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_KIND))
		add_str(o, "kind", bs_kind_name(dev->kind, buf, sizeof(buf)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE))
		add_str(o, "state",
			bs_state_name(dev->state, buf, sizeof(buf)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_SYNC_US))
		add_u64(o, "sync_us", dev->sync_us);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_IDENT_US))
		add_u64(o, "ident_us", dev->ident_us);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_ATTEMPTS))
		add_int(o, "attempts", dev->attempts);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_ERROR)) {
		add_int(o, "error", dev->error);
		add_str(o, "error_name",
			bs_errno_name(dev->error, buf, sizeof(buf)));
	}
	if (dev->reason)
		add_str(o, "reason", dev->reason);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_FLAGS)) {
		struct json_object *f = json_object_new_object();
		bool synced = dev->flags & BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED;
		bool taken = dev->flags & BOOTSHAKE_DEV_FLAG_TAKEN_OVER;

		/* both spellings: flat for jq one-liners, nested as a set */
		add_bool(o, "already_synced", synced);
		add_bool(o, "taken_over", taken);
		add_bool(f, "already_synced", synced);
		add_bool(f, "taken_over", taken);
		add_int(f, "raw", dev->flags);
		json_object_object_add(o, "flags", f);
	}
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_SPEED))
		add_str(o, "speed", bs_speed_name(dev->speed, buf, sizeof(buf)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_BUSNUM))
		add_int(o, "busnum", dev->busnum);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_DEVNUM))
		add_int(o, "devnum", dev->devnum);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_MTK)) {
		struct json_object *m = json_object_new_object();

		if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_HW_CODE))
			add_int(m, "hw_code", dev->hw_code);
		if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_HW_STATUS))
			add_int(m, "hw_status", dev->hw_status);
		json_object_object_add(o, "mtk", m);
	}
	return o;
}

/* --- human text ------------------------------------------------------ */

/* Exact rounding to one decimal, without going through double. */
static const char *ms1(uint64_t us, char *buf, size_t len)
{
	uint64_t tenths = (us + 50) / 100;

	snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "ms", tenths / 10,
		 tenths % 10);
	return buf;
}

static const char *usb_id(const struct bs_dev *dev, char *buf, size_t len)
{
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_VID) ||
	    BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_PID))
		snprintf(buf, len, "%04x:%04x", dev->vid, dev->pid);
	else
		snprintf(buf, len, "-");
	return buf;
}

static const char *chip(const struct bs_dev *dev, char *buf, size_t len)
{
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_HW_CODE))
		snprintf(buf, len, "hw_code=0x%04x", dev->hw_code);
	else
		snprintf(buf, len, "-");
	return buf;
}

static const char *flag_words(uint32_t flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s",
		 flags & BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED ? "already_synced" : "",
		 (flags & BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED) &&
		 (flags & BOOTSHAKE_DEV_FLAG_TAKEN_OVER) ? "," : "",
		 flags & BOOTSHAKE_DEV_FLAG_TAKEN_OVER ? "taken_over" : "");
	return buf;
}

static bool failed(const struct bs_dev *dev)
{
	return BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE) &&
	       dev->state == BOOTSHAKE_STATE_FAILED;
}

enum {
	COL_ID, COL_PATH, COL_USB, COL_KIND, COL_STATE, COL_CHIP, COL_SYNC,
	COL_REASON, NCOLS
};

static const char * const col_head[NCOLS] = {
	"ID", "PATH", "VID:PID", "KIND", "STATE", "CHIP", "SYNC", "REASON",
};

#define CELL_LEN	64

struct row {
	char		cell[COL_REASON][CELL_LEN];
	char		reason[320];
};

static void fill_row(const struct bs_dev *dev, struct row *r)
{
	char name[BS_NAME_LEN];

	snprintf(r->cell[COL_ID], CELL_LEN, "%u", dev->id);
	snprintf(r->cell[COL_PATH], CELL_LEN, "%s",
		 dev->path ? dev->path : "-");
	usb_id(dev, r->cell[COL_USB], CELL_LEN);
	snprintf(r->cell[COL_KIND], CELL_LEN, "%s",
		 BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_KIND) ?
		 bs_kind_name(dev->kind, name, sizeof(name)) : "-");
	snprintf(r->cell[COL_STATE], CELL_LEN, "%s",
		 BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE) ?
		 bs_state_name(dev->state, name, sizeof(name)) : "-");
	chip(dev, r->cell[COL_CHIP], CELL_LEN);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_SYNC_US))
		ms1(dev->sync_us, r->cell[COL_SYNC], CELL_LEN);
	else
		snprintf(r->cell[COL_SYNC], CELL_LEN, "-");

	r->reason[0] = '\0';
	if (failed(dev)) {
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_ERROR))
			snprintf(r->reason, sizeof(r->reason), "%s%s%s",
				 bs_errno_name(dev->error, name, sizeof(name)),
				 dev->reason ? ": " : "",
				 dev->reason ? dev->reason : "");
		else if (dev->reason)
			snprintf(r->reason, sizeof(r->reason), "%s",
				 dev->reason);
	}
}

void print_dev_list(const struct bs_dev_list *list)
{
	size_t width[NCOLS];
	struct row *rows;
	bool any_reason = false;
	size_t i, c;

	if (bs_json) {
		struct json_object *arr = json_object_new_array();

		for (i = 0; i < list->n; i++)
			json_object_array_add(arr,
					      bs_dev_json(&list->v[i], NULL));
		if (list->n)
			json_out(arr, JSON_PRETTY);
		else
			puts("[]");
		json_object_put(arr);
		return;
	}

	rows = calloc(list->n ? list->n : 1, sizeof(*rows));
	if (!rows) {
		print_error(ENOMEM, NULL, "out of memory");
		return;
	}
	for (c = 0; c < NCOLS; c++)
		width[c] = strlen(col_head[c]);
	for (i = 0; i < list->n; i++) {
		fill_row(&list->v[i], &rows[i]);
		for (c = 0; c < COL_REASON; c++)
			if (strlen(rows[i].cell[c]) > width[c])
				width[c] = strlen(rows[i].cell[c]);
		if (rows[i].reason[0])
			any_reason = true;
	}

	/* the last column is not padded; REASON only when something failed */
	for (c = 0; c < COL_REASON; c++) {
		if (c == COL_SYNC && !any_reason)
			printf("%s", col_head[c]);
		else
			printf("%-*s  ", (int)width[c], col_head[c]);
	}
	if (any_reason)
		printf("%s", col_head[COL_REASON]);
	putchar('\n');
	for (i = 0; i < list->n; i++) {
		for (c = 0; c < COL_REASON; c++) {
			bool last = c == COL_SYNC && !rows[i].reason[0];

			if (last)
				printf("%s", rows[i].cell[c]);
			else
				printf("%-*s  ", (int)width[c],
				       rows[i].cell[c]);
		}
		printf("%s\n", rows[i].reason);
	}
	fflush(stdout);
	free(rows);
}

void print_dev(const struct bs_dev *dev)
{
	char a[CELL_LEN], b[BS_NAME_LEN];

	if (bs_json) {
		struct json_object *o = bs_dev_json(dev, NULL);

		json_out(o, JSON_PRETTY);
		json_object_put(o);
		return;
	}

	printf("device %u\n", dev->id);
	if (dev->path)
		printf("  path:       %s\n", dev->path);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_VID) ||
	    BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_PID))
		printf("  usb id:     %s\n", usb_id(dev, a, sizeof(a)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_BUSNUM) ||
	    BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_DEVNUM))
		printf("  bus/dev:    %03u/%03u\n", dev->busnum, dev->devnum);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_SPEED))
		printf("  speed:      %s\n",
		       bs_speed_name(dev->speed, b, sizeof(b)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_KIND))
		printf("  kind:       %s\n",
		       bs_kind_name(dev->kind, b, sizeof(b)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE))
		printf("  state:      %s\n",
		       bs_state_name(dev->state, b, sizeof(b)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_FLAGS))
		printf("  flags:      %s\n", dev->flags ?
		       flag_words(dev->flags, a, sizeof(a)) : "none");
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_ATTEMPTS))
		printf("  attempts:   %u\n", dev->attempts);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_SYNC_US))
		printf("  sync:       %s\n", ms1(dev->sync_us, a, sizeof(a)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_IDENT_US))
		printf("  ident:      %s\n", ms1(dev->ident_us, a, sizeof(a)));
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_HW_CODE))
		printf("  hw_code:    0x%04x\n", dev->hw_code);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_HW_STATUS))
		printf("  hw_status:  0x%04x\n", dev->hw_status);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_ERROR))
		printf("  error:      %s (%s)\n",
		       bs_errno_name(dev->error, b, sizeof(b)),
		       strerror(dev->error));
	if (dev->reason)
		printf("  reason:     %s\n", dev->reason);
	fflush(stdout);
}

void format_timestamp(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;
	char day[32];

	gmtime_r(&ts->tv_sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%.20s.%06dZ", day,
		 (int)(ts->tv_nsec / 1000 % 1000000));
}

void print_event(const char *event, const struct bs_dev *dev,
		 const struct timespec *ts, const char *note)
{
	char when[64], a[CELL_LEN], b[BS_NAME_LEN];

	format_timestamp(ts, when, sizeof(when));

	if (bs_json) {
		struct json_object *o = json_object_new_object();

		add_str(o, "event", event);
		add_str(o, "timestamp", when);
		add_int(o, "time_ns", (int64_t)ts->tv_sec * 1000000000LL +
			ts->tv_nsec);
		if (dev)
			bs_dev_json(dev, o);
		if (note)
			add_str(o, "message", note);
		json_out(o, JSON_COMPACT);
		json_object_put(o);
		return;
	}

	printf("%s %s", when, event);
	if (dev) {
		printf(" id=%u", dev->id);
		if (dev->path)
			printf(" path=%s", dev->path);
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_VID) ||
		    BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_PID))
			printf(" %s", usb_id(dev, a, sizeof(a)));
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_KIND))
			printf(" %s", bs_kind_name(dev->kind, b, sizeof(b)));
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE))
			printf(" %s", bs_state_name(dev->state, b, sizeof(b)));
		if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_HW_CODE))
			printf(" %s", chip(dev, a, sizeof(a)));
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_SYNC_US))
			printf(" sync=%s", ms1(dev->sync_us, a, sizeof(a)));
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_IDENT_US))
			printf(" ident=%s", ms1(dev->ident_us, a, sizeof(a)));
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_FLAGS) && dev->flags)
			printf(" %s", flag_words(dev->flags, a, sizeof(a)));
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_ERROR) && dev->error)
			printf(" error=%s",
			       bs_errno_name(dev->error, b, sizeof(b)));
		if (dev->reason)
			printf(" reason=\"%s\"", dev->reason);
	}
	if (note)
		printf(" %s", note);
	putchar('\n');
	fflush(stdout);
}
