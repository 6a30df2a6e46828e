/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bootshake CLI: the one place that writes output, human or JSON.
 */
#ifndef BOOTSHAKE_USER_PRINT_H
#define BOOTSHAKE_USER_PRINT_H

#include <stdbool.h>
#include <time.h>

#include "dev.h"
#include "policy.h"

struct bs_tr;
struct bs_finding;

struct json_object;

/* -j: JSON output; results on stdout, errors and warnings on stderr */
extern bool bs_json;
/* -p: indent whole JSON documents (monitor events stay one per line) */
extern bool bs_pretty;

/*
 * The top-level key of the JSON error object.  Not "error": a device
 * object's "error" is its failure reason, and the two must never be taken
 * for one another.
 */
#define BS_JSON_ERROR_KEY	"command_error"

/*
 * An error: "bootshake: <msg>[ (kernel: <kmsg>)]" on stderr, or
 * {"command_error": {"errno": N, "name": "E...", "message": "...",
 *  "kernel_message": "..."}} on stderr. Nothing goes to stdout either way.
 * @err is an errno, either sign.
 */
void print_error(int err, const char *kmsg, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* "bootshake: warning: ..." on stderr; with -j {"warning": {"message"}} */
void print_warning(const char *fmt, ...)
	__attribute__((format(printf, 1, 2)));

/* A JSON document on stdout: compact, or indented with -p. */
void bs_print_json(struct json_object *obj);

/* Fill @obj (or a new object if NULL) with the device's fields. */
struct json_object *bs_dev_json(const struct bs_dev *dev,
				struct json_object *obj);

/* list: a table, or a JSON array (compact, -p indents) */
void print_dev_list(const struct bs_dev_list *list);
/* show: a block of "key: value" lines, or one JSON object (compact, -p indents) */
void print_dev(const struct bs_dev *dev);

/*
 * monitor: one line per event, flushed. @event is "add", "change",
 * "remove" or "exists"; @dev may be NULL for events without a device
 * ("resync"), then @note says what happened.
 */
void print_event(const char *event, const struct bs_dev *dev,
		 const struct timespec *ts, const char *note);

/* The text of a monitor line without the timestamp (journal MESSAGE=). */
void format_event(const char *event, const struct bs_dev *dev,
		  const char *note, char *buf, size_t len);

/*
 * An extra field of a monitor event: the job events of "monitor --exec"
 * (exec.c) carry "job", "exit_code", "duration_ms" ... besides the device.
 * JSON: "key": value at the top level; text: " key=value", a true bool as
 * the bare " key", false and null left out; journal: BOOTSHAKE_<KEY>=
 * (bools 1/0, null left out).
 */
enum bs_field_type {
	BS_FIELD_NULL,
	BS_FIELD_STR,
	BS_FIELD_INT,
	BS_FIELD_BOOL,
};

struct bs_field {
	const char		*key;
	enum bs_field_type	type;
	const char		*s;	/* BS_FIELD_STR */
	long long		i;	/* BS_FIELD_INT, BS_FIELD_BOOL */
};

/* print_event() / format_event() with @n extra fields after the device's. */
void print_event_fields(const char *event, const struct bs_dev *dev,
			const struct timespec *ts, const char *note,
			const struct bs_field *f, size_t n);
void format_event_fields(const char *event, const struct bs_dev *dev,
			 const char *note, const struct bs_field *f, size_t n,
			 char *buf, size_t len);

/* policy: a table of every kind / one kind ("key: value"), or JSON */
void print_policies(const struct bs_policy *v, size_t n);
void print_policy(const struct bs_policy *p);

/* retry/release: "retry: device 3 (1-1) mtk-brom: syncing", or the
 * device object with "action" added */
void print_action(const char *action, const struct bs_dev *dev);

/* transcript: a timed hex dump with a "!! here:" mark, or JSON */
void print_transcript(const struct bs_dev *dev, const struct bs_tr *tr);

/* diagnose: "cause:/fix:" per finding or "no problem found", or JSON */
void print_diagnosis(const struct bs_dev *dev, const struct bs_finding *f,
		     size_t n);

/* "2026-11-25T01:02:03.123456Z" */
void format_timestamp(const struct timespec *ts, char *buf, size_t len);

#endif /* BOOTSHAKE_USER_PRINT_H */
