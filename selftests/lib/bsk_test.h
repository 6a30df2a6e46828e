/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers for the bootshake selftests: emulated devices, the helper CLI's
 * JSON output and the kernel log.  Tests run inside the QEMU guest (see
 * selftests/vm/run-vm.sh), as root, with bootshake.ko loaded.
 *
 * Deadlines: every timeout a test waits for is written as the time the
 * step takes on real hardware or a quiet machine, multiplied by
 * bsk_scale(), which reads BSK_TIME_SCALE (run-vm.sh sets it for TCG).
 */
#ifndef BSK_TEST_H
#define BSK_TEST_H

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <json-c/json.h>

/** struct bsk_emu - one running bsk-emu process, one emulated device */
struct bsk_emu {
	pid_t pid;
	int out_fd;		/* its stdout, where "ready" appears */
	int in_fd;		/* its stdin; closing it stops it */
	char udc[32];
	char path[32];		/* USB path of the device it plays */
};

/** struct bsk_mon - one running "bootshake -j monitor --dump" */
struct bsk_mon {
	pid_t pid;
	int fd;
	char buf[65536];
	size_t len;
};

int bsk_scale(void);
long long bsk_now_ms(void);
const char *bsk_repo(void);

/* Emulator: start on @udc with NULL-terminated --fault list; wait "ready". */
int bsk_emu_start(struct bsk_emu *emu, const char *personality,
		  const char *udc, const char *const *faults);
/* Start without waiting for "ready" (devices that never enable). */
int bsk_emu_spawn(struct bsk_emu *emu, const char *personality,
		  const char *udc, const char *const *faults);
/* Stop (unplug) and reap; returns its exit status or -1. */
int bsk_emu_stop(struct bsk_emu *emu);
/* Wait for the emulator to exit by itself (e.g. unplug fault). */
int bsk_emu_wait_exit(struct bsk_emu *emu, int timeout_ms);
/* USB path (e.g. "1-1") of the device a gadget on @udc shows the host. */
int bsk_udc_path(const char *udc, char *path, size_t len);

int bsk_mon_start(struct bsk_mon *mon);
void bsk_mon_stop(struct bsk_mon *mon);
/*
 * Wait for a monitor line about @path whose "event" is one of @events
 * (comma-separated, NULL = any) and whose "state" is one of @states
 * (comma-separated, NULL = any).  Returns the object (caller puts) or NULL
 * on timeout.  Lines for other devices are skipped.
 */
json_object *bsk_mon_wait(struct bsk_mon *mon, const char *path,
			  const char *events, const char *states,
			  int timeout_ms);

/* Wait for the next line with "event" == @event; other lines stay queued. */
json_object *bsk_mon_wait_event(struct bsk_mon *mon, const char *event,
				int timeout_ms);

/* Run the helper with args (NULL-terminated); parse stdout as JSON. */
json_object *bsk_cli_json(int *exit_status, const char *arg, ...);
/* Find the device with "path" == @path in a JSON array (borrowed ref). */
json_object *bsk_json_find_path(json_object *arr, const char *path);
const char *bsk_json_str(json_object *obj, const char *key);
long long bsk_json_int(json_object *obj, const char *key, long long dflt);
bool bsk_json_bool(json_object *obj, const char *key);

/* Run a command (argv style, NULL-terminated); return its exit status. */
int bsk_run(const char *arg, ...);
int bsk_modprobe_bootshake(void);
int bsk_rmmod_bootshake(void);
int bsk_set_param(const char *name, const char *value);

/* Kernel log: remember the end, later look for splats after it. */
int bsk_kmsg_mark(void);
/* Returns the number of splat lines since the mark, printing them. */
int bsk_kmsg_splats(int fd);

/* Kernel uevents (NETLINK_KOBJECT_UEVENT), to wait for driver binds. */
int bsk_uevent_open(void);
/*
 * Wait for a uevent whose ACTION is @action and DEVPATH ends in @devpath_end
 * with all of the NULL-terminated "KEY=value" strings in @props.
 * Returns 0 when seen, -1 on timeout.
 */
int bsk_uevent_wait(int fd, const char *action, const char *devpath_end,
		    const char *const *props, int timeout_ms);
/* Name of the driver bound to the USB interface @intf ("1-1:1.0"), or "". */
const char *bsk_intf_driver(const char *intf, char *buf, size_t len);

/* --- added for the MediaTek scenario tests (mtk_brom_scenarios, mtk_preloader) --- */

/*
 * Like bsk_emu_spawn()/bsk_emu_start(), with more bsk-emu arguments
 * (NULL-terminated @extra, e.g. "--log", "/tmp/x.log", "--pid", "0x2001")
 * and a choice whether to wait for "ready".
 */
int bsk_emu_start_ex(struct bsk_emu *emu, const char *personality,
		     const char *udc, const char *const *faults,
		     const char *const *extra, bool wait_ready);
/* Lines of a bsk-emu --log file that contain @needle (-1: no file). */
int bsk_emu_log_count(const char *log, const char *needle);
/*
 * Lines of a bsk-emu --log file whose event (the word after the time
 * stamp) is @event, e.g. "rx" counts the bytes the device received but
 * not an "error rx -11" line (-1: no file).
 */
int bsk_emu_log_events(const char *log, const char *event);
/* Print a bsk-emu log as "# emu: ..." lines (for failure reports). */
void bsk_emu_log_print(const char *log);

/* Run the helper (no JSON); its exit status, its output discarded. */
int bsk_cli(const char *arg, ...);
/* `bootshake -j transcript DEV`: the transcript object, or NULL. */
json_object *bsk_transcript(long long id);
/*
 * Bytes of the records in direction @dir ("out", "in") of a transcript,
 * concatenated as hex into @hex (may be NULL); returns how many bytes.
 */
size_t bsk_tr_bytes(json_object *tr, const char *dir, char *hex, size_t len);
/* Notes (dir "note") whose text starts with @prefix. */
int bsk_tr_notes(json_object *tr, const char *prefix);
/* Print a transcript as "# tr: ..." lines (for failure reports). */
void bsk_tr_print(json_object *tr);
/* A string member of a nested object, e.g. bsk_json_sub_str(ev, "mtk", "chip"). */
const char *bsk_json_sub_str(json_object *obj, const char *sub,
			     const char *key);
long long bsk_json_sub_int(json_object *obj, const char *sub,
			   const char *key, long long dflt);
/* Does @obj have member @key (any type, null included)? */
bool bsk_json_has(json_object *obj, const char *key);

/* Run argv[0] with @argv (NULL-terminated); its exit status. */
int bsk_runv(const char *const *argv);

/* --- helpers added for the STM32 tests --- */
/*
 * Like bsk_emu_start() with extra emulator arguments (e.g. "--log", FILE),
 * NULL-terminated, before the --fault list.
 */
int bsk_emu_start_args(struct bsk_emu *emu, const char *personality,
		       const char *udc, const char *const *faults,
		       const char *const *extra);
/* Lines of file @path containing @needle, or -1. */
int bsk_file_count(const char *path, const char *needle);
/* Run a command, its stdout (stderr stays) into @out; returns its status. */
int bsk_run_output(char *out, size_t len, const char *arg, ...);
/* Path of the helper CLI (user/bootshake). */
const char *bsk_helper_path(void);

/*
 * Set a kind's policy @mode ("auto", "watch"; NULL: leave it) and its
 * deadlines (0: the module parameters, i.e. the state at load); with
 * @disarm no arm is left.  0 or -1.
 */
int bsk_policy_restore(const char *kind, const char *mode, int step_ms,
		       int sync_ms, bool disarm);

#ifdef __KSELFTEST_HARNESS_H
/*
 * BSK_ONLY=SUBSTR (environment) runs only the tests whose "fixture.test"
 * name contains SUBSTR: bookworm's kselftest_harness.h has no -t/-r
 * filter, and one case of a 30-case program is what a developer iterates
 * on.  Unset, every test runs.  Included after kselftest_harness.h, so it
 * can walk the harness' own lists before test_harness_run() counts them.
 */
static inline void bsk_only_filter(void)
{
	const char *only = getenv("BSK_ONLY");
	struct __fixture_metadata *f;

	if (!only || !*only)
		return;
	for (f = __fixture_list; f; f = f->next) {
		struct __test_metadata *t, *next, *head = NULL, *tail = NULL;
		char name[256];

		for (t = f->tests; t; t = next) {
			next = t->next;
			snprintf(name, sizeof(name), "%s.%s", f->name, t->name);
			if (!strstr(name, only))
				continue;
			t->next = NULL;
			if (!head) {
				head = t;
			} else {
				tail->next = t;
				t->prev = tail;
			}
			tail = t;
		}
		if (head)
			head->prev = tail;	/* the harness' circular prev */
		f->tests = head;
	}
}

/*
 * Per-test harness timeouts (TEST_F_TIMEOUT, the harness' default 30 s)
 * are written for the default factor under TCG, BSK_TIME_SCALE 4
 * (run-vm.sh): a larger factor (make check-debug: 8) stretches them by
 * the same ratio, so that they stay the outer bound of the waits inside.
 */
#define BSK_HARNESS_BASE_SCALE	4

static inline void bsk_scale_timeouts(void)
{
	struct __fixture_metadata *f;
	struct __test_metadata *t;
	int scale = bsk_scale();

	if (scale <= BSK_HARNESS_BASE_SCALE)
		return;
	for (f = __fixture_list; f; f = f->next)
		for (t = f->tests; t; t = t->next)
			t->timeout = t->timeout * scale /
				     BSK_HARNESS_BASE_SCALE;
}

/* the harness' own TEST_HARNESS_MAIN, with the filter before the run */
#undef TEST_HARNESS_MAIN
#ifdef _CONSTRUCTOR_ORDER_BACKWARD
#define BSK_CONSTRUCTOR_ORDER_LAST \
	static void __attribute__((constructor)) \
	__constructor_order_last(void) \
	{ \
		if (!__constructor_order) \
			__constructor_order = _CONSTRUCTOR_ORDER_BACKWARD; \
	}
#else
#define BSK_CONSTRUCTOR_ORDER_LAST
#endif
#define TEST_HARNESS_MAIN \
	BSK_CONSTRUCTOR_ORDER_LAST \
	int main(int argc, char **argv) \
	{ \
		bsk_only_filter(); \
		bsk_scale_timeouts(); \
		return test_harness_run(argc, argv); \
	}
#endif /* __KSELFTEST_HARNESS_H */

#endif /* BSK_TEST_H */
