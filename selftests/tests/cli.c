// SPDX-License-Identifier: GPL-2.0
/*
 * The helper (user/bootshake) against the real module and an emulated
 * BROM, as a user and a script would drive it: every command in text and
 * JSON mode with its exit code and JSON shape, the policy set/get round
 * trip, arm, retry, release, transcript, diagnose, monitor --journal, the
 * actions refused to an unprivileged user; and, below the helper, a raw
 * generic netlink sender that sends the malformed requests the helper never
 * would and checks that each gets an errno and an extended ack.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include <linux/genetlink.h>
#include <linux/netlink.h>
#include <linux/bootshake.h>

#include "kselftest_harness.h"
#include "bsk_test.h"

#define UDC		"dummy_udc.0"
#define NOBODY		65534
#define MAX_ARGS	24

/* --- running the helper ------------------------------------------------ */

/** struct run - one finished run of user/bootshake */
struct run {
	int status;		/* exit status, 128+sig, or -1 */
	char out[1 << 16];	/* stdout */
	char err[8192];		/* stderr */
	json_object *json;	/* stdout parsed, or NULL */
	json_object *ejson;	/* stderr parsed (-j errors), or NULL */
};

static const char *helper(void)
{
	static char bin[512];

	snprintf(bin, sizeof(bin), "%s/user/bootshake", bsk_repo());
	return bin;
}

/* Child side: drop to @uid (0: stay root), set @env ("K=V" or NULL), exec. */
static void exec_helper(char **argv, uid_t uid, const char *env)
{
	if (env)
		putenv((char *)env);
	if (uid && (setgroups(0, NULL) || setgid(uid) || setuid(uid))) {
		fprintf(stderr, "cannot become uid %u: %m\n", uid);
		_exit(126);
	}
	execv(argv[0], argv);
	fprintf(stderr, "exec %s: %m\n", argv[0]);
	_exit(127);
}

static pid_t spawn(char **argv, uid_t uid, const char *env, int *out_fd,
		   int *err_fd)
{
	int out[2], err[2];
	pid_t pid;

	if (pipe2(out, O_CLOEXEC) || pipe2(err, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		dup2(out[1], 1);
		dup2(err[1], 2);
		exec_helper(argv, uid, env);
	}
	close(out[1]);
	close(err[1]);
	*out_fd = out[0];
	*err_fd = err[0];
	return pid;
}

static int reap(pid_t pid, int timeout_ms)
{
	long long deadline = bsk_now_ms() + timeout_ms;
	int st;

	for (;;) {
		pid_t r = waitpid(pid, &st, WNOHANG);

		if (r == pid)
			return WIFEXITED(st) ? WEXITSTATUS(st) :
					       128 + WTERMSIG(st);
		if (r < 0)
			return -1;
		if (bsk_now_ms() > deadline) {
			kill(pid, SIGKILL);
			deadline = bsk_now_ms() + 5000;
		}
		usleep(10000);
	}
}

/*
 * Run the helper with the NULL-terminated arguments as @uid with @env;
 * collect stdout and stderr; parse stdout as JSON when it looks like it.
 */
static int run_v(struct run *r, uid_t uid, const char *env, const char *arg,
		 va_list ap)
{
	char *argv[MAX_ARGS];
	size_t olen = 0, elen = 0;
	long long deadline;
	int n = 0, ofd, efd;
	pid_t pid;

	memset(r, 0, sizeof(*r));
	r->status = -1;
	argv[n++] = (char *)helper();
	for (; arg && n < MAX_ARGS - 1; arg = va_arg(ap, const char *))
		argv[n++] = (char *)arg;
	argv[n] = NULL;

	pid = spawn(argv, uid, env, &ofd, &efd);
	if (pid < 0)
		return -1;
	deadline = bsk_now_ms() + 20000LL * bsk_scale();
	while (ofd >= 0 || efd >= 0) {
		struct pollfd p[2] = {
			{ .fd = ofd, .events = POLLIN },
			{ .fd = efd, .events = POLLIN },
		};
		long long left = deadline - bsk_now_ms();

		if (left <= 0 || poll(p, 2, left) <= 0)
			break;
		if (p[0].revents) {
			ssize_t k = read(ofd, r->out + olen,
					 sizeof(r->out) - 1 - olen);

			if (k <= 0) {
				close(ofd);
				ofd = -1;
			} else {
				olen += k;
			}
		}
		if (p[1].revents) {
			ssize_t k = read(efd, r->err + elen,
					 sizeof(r->err) - 1 - elen);

			if (k <= 0) {
				close(efd);
				efd = -1;
			} else {
				elen += k;
			}
		}
	}
	if (ofd >= 0)
		close(ofd);
	if (efd >= 0)
		close(efd);
	r->status = reap(pid, 5000 * bsk_scale());
	if (r->out[0] == '{' || r->out[0] == '[')
		r->json = json_tokener_parse(r->out);
	if (r->err[0] == '{')
		r->ejson = json_tokener_parse(r->err);
	return r->status;
}

static int run(struct run *r, const char *arg, ...)
{
	va_list ap;
	int ret;

	va_start(ap, arg);
	ret = run_v(r, 0, NULL, arg, ap);
	va_end(ap);
	return ret;
}

static int run_as(struct run *r, uid_t uid, const char *arg, ...)
{
	va_list ap;
	int ret;

	va_start(ap, arg);
	ret = run_v(r, uid, NULL, arg, ap);
	va_end(ap);
	return ret;
}

static void run_free(struct run *r)
{
	json_object_put(r->json);
	r->json = NULL;
	json_object_put(r->ejson);
	r->ejson = NULL;
}

static json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	return o && json_object_object_get_ex(o, key, &v) ? v : NULL;
}

static bool jis(json_object *o, const char *key, enum json_type type)
{
	json_object *v = jget(o, key);

	return v && json_object_is_type(v, type);
}

/* The JSON error object's field (on stderr, -j), or NULL. */
static const char *jerr(const struct run *r, const char *key)
{
	return bsk_json_str(jget(r->ejson, "command_error"), key);
}

/* --- the fixture: a monitor, maybe a device, policies put back ---------- */

#define NMORE		5	/* more devices, on dummy_udc.1..5 */

FIXTURE(cli) {
	struct bsk_emu emu;
	struct bsk_emu more[NMORE];
	struct bsk_mon mon;
	int kmsg;
	json_object *policies;	/* as they were, to put back */
	char id[16];		/* of the plugged device */
};

FIXTURE_SETUP(cli)
{
	struct run r;
	size_t i;

	self->emu.pid = -1;
	for (i = 0; i < NMORE; i++)
		self->more[i].pid = -1;
	self->kmsg = bsk_kmsg_mark();
	ASSERT_EQ(0, bsk_mon_start(&self->mon));
	ASSERT_EQ(0, run(&r, "-j", "policy", NULL)) {
		TH_LOG("policy: %s%s", r.out, r.err);
	}
	self->policies = r.json;
}

FIXTURE_TEARDOWN(cli)
{
	struct run now;
	size_t i;

	for (i = 0; i <= NMORE; i++) {
		struct bsk_emu *e = i ? &self->more[i - 1] : &self->emu;
		char path[32];

		if (e->pid <= 0)
			continue;
		snprintf(path, sizeof(path), "%s", e->path);
		bsk_emu_stop(e);
		json_object_put(bsk_mon_wait(&self->mon, path, "remove", NULL,
					     5000 * bsk_scale()));
	}
	bsk_mon_stop(&self->mon);

	/* put every kind's policy back */
	for (i = 0; self->policies &&
	     i < json_object_array_length(self->policies); i++) {
		json_object *p = json_object_array_get_idx(self->policies, i);
		char step[16], sync[16];
		struct run r;

		snprintf(step, sizeof(step), "%lld",
			 bsk_json_int(p, "step_timeout_ms", 100));
		snprintf(sync, sizeof(sync), "%lld",
			 bsk_json_int(p, "sync_timeout_ms", 3000));
		EXPECT_EQ(0, run(&r, "policy", bsk_json_str(p, "kind"),
				 bsk_json_str(p, "policy"), "--step-timeout",
				 step, "--sync-timeout", sync, NULL)) {
			TH_LOG("restoring policy: %s", r.err);
		}
	}
	/* an arm still running is cut to 1 ms */
	if (!run(&now, "-j", "policy", NULL)) {
		for (i = 0; i < json_object_array_length(now.json); i++) {
			json_object *p = json_object_array_get_idx(now.json, i);
			struct run r;

			if (bsk_json_bool(p, "armed"))
				run(&r, "arm", bsk_json_str(p, "kind"),
				    "--count", "1", "--timeout", "0.001", NULL);
		}
		run_free(&now);
	}
	json_object_put(self->policies);
	EXPECT_EQ(0, bsk_kmsg_splats(self->kmsg));
}

/* Plug @personality and wait for a state in @states; fills self->id. */
static json_object *plug(struct __test_metadata *_metadata,
			 FIXTURE_DATA(cli) *self, const char *personality,
			 const char *const *faults, const char *states,
			 int timeout_ms)
{
	json_object *ev;

	if (bsk_emu_start(&self->emu, personality, UDC, faults)) {
		TH_LOG("bsk-emu %s did not start", personality);
		return NULL;
	}
	ev = bsk_mon_wait(&self->mon, self->emu.path, NULL, states,
			  timeout_ms);
	if (!ev) {
		TH_LOG("no %s event for %s within %d ms", states,
		       self->emu.path, timeout_ms);
		return NULL;
	}
	snprintf(self->id, sizeof(self->id), "%lld",
		 bsk_json_int(ev, "id", 0));
	return ev;
}

static json_object *plug_ready(struct __test_metadata *_metadata,
			       FIXTURE_DATA(cli) *self)
{
	json_object *ev = plug(_metadata, self, "mtk-brom", NULL,
			       "ready,failed", 3000 * bsk_scale());

	if (ev && strcmp(bsk_json_str(ev, "state") ?: "", "ready")) {
		TH_LOG("device ended %s: %s", bsk_json_str(ev, "state"),
		       bsk_json_str(ev, "reason"));
		json_object_put(ev);
		return NULL;
	}
	return ev;
}

/*
 * plug_ready() for a test that checks the sync was clean: every reply
 * must come inside the step deadline, and on a slow guest (KASAN under
 * TCG) 100 ms is missed now and then; the sync then restarts and
 * diagnose rightly reports it.  The module's deadlines are scaled like
 * every other wait (the teardown puts the policies back).
 */
static json_object *plug_clean(struct __test_metadata *_metadata,
			       FIXTURE_DATA(cli) *self)
{
	if (bsk_policy_restore("mtk-brom", NULL, 100 * bsk_scale(),
			       3000 * bsk_scale(), false)) {
		TH_LOG("could not scale mtk-brom's deadlines");
		return NULL;
	}
	return plug_ready(_metadata, self);
}

/* The device object's contract fields (issues 2-5). */
static void check_dev_shape(struct __test_metadata *_metadata,
			    json_object *d, const char *path)
{
	static const char * const ints[] = {
		"id", "vid", "pid", "attempts", "busnum", "devnum",
	};
	static const char * const strs[] = { "path", "kind", "state", "speed" };
	json_object *m = jget(d, "mtk");
	size_t i;

	ASSERT_NE(NULL, d);
	for (i = 0; i < ARRAY_SIZE(ints); i++) {
		EXPECT_TRUE(jis(d, ints[i], json_type_int)) {
			TH_LOG("no number field %zu", i);
		}
	}
	for (i = 0; i < ARRAY_SIZE(strs); i++) {
		EXPECT_TRUE(jis(d, strs[i], json_type_string)) {
			TH_LOG("no string field %zu", i);
		}
	}
	EXPECT_STREQ(path, bsk_json_str(d, "path"));
	EXPECT_STREQ("mtk-brom", bsk_json_str(d, "kind"));
	EXPECT_TRUE(jis(d, "already_synced", json_type_boolean));
	EXPECT_TRUE(jis(d, "taken_over", json_type_boolean));
	EXPECT_EQ(NULL, jget(d, "flags"));	/* dropped in v2 */
	ASSERT_TRUE(jis(d, "mtk", json_type_object));
	EXPECT_EQ(0x0766, bsk_json_int(m, "hw_code", -1));
	/* "chip" is always there: a string or null */
	EXPECT_TRUE(json_object_object_get_ex(m, "chip", NULL));
	if (jget(m, "target_config")) {
		EXPECT_TRUE(jis(m, "sbc", json_type_boolean));
		EXPECT_TRUE(jis(m, "sla", json_type_boolean));
		EXPECT_TRUE(jis(m, "daa", json_type_boolean));
	}
	if (jget(m, "me_id"))
		EXPECT_EQ(32, (int)strlen(bsk_json_str(m, "me_id") ?: ""));
	if (jget(m, "watchdog") && json_object_get_type(jget(m, "watchdog")) !=
	    json_type_null)
		EXPECT_TRUE(jis(m, "watchdog", json_type_string));
	EXPECT_TRUE(jis(m, "already_synced", json_type_boolean));
	EXPECT_TRUE(jis(m, "is_brom", json_type_boolean));
}

TEST_F_TIMEOUT(cli, every_command_text_and_json, 300)
{
	const char *path = self->emu.path;
	json_object *ev, *d;
	struct run r;
	size_t i;

	ev = plug_clean(_metadata, self);
	ASSERT_NE(NULL, ev);
	json_object_put(ev);

	/* list */
	ASSERT_EQ(0, run(&r, "list", NULL));
	EXPECT_NE(NULL, strstr(r.out, "KIND"));
	EXPECT_NE(NULL, strstr(r.out, "STATE"));
	EXPECT_NE(NULL, strstr(r.out, path));
	EXPECT_NE(NULL, strstr(r.out, "ready"));
	EXPECT_STREQ("", r.err);
	ASSERT_EQ(0, run(&r, "-j", "list", NULL));
	ASSERT_TRUE(r.json && json_object_is_type(r.json, json_type_array));
	check_dev_shape(_metadata, bsk_json_find_path(r.json, path), path);
	run_free(&r);

	/* show, by path and by id */
	ASSERT_EQ(0, run(&r, "show", path, NULL));
	EXPECT_NE(NULL, strstr(r.out, "state:"));
	EXPECT_NE(NULL, strstr(r.out, "ready"));
	ASSERT_EQ(0, run(&r, "-j", "show", self->id, NULL));
	check_dev_shape(_metadata, r.json, path);
	run_free(&r);
	EXPECT_EQ(1, run(&r, "-j", "show", "999999", NULL));
	EXPECT_STREQ("ENOENT", jerr(&r, "name"));
	run_free(&r);
	EXPECT_EQ(1, run(&r, "show", "9-9.9", NULL));
	EXPECT_STREQ("", r.out);
	EXPECT_EQ(0, strncmp(r.err, "bootshake: ", 11));

	/* policy */
	ASSERT_EQ(0, run(&r, "policy", NULL));
	EXPECT_NE(NULL, strstr(r.out, "mtk-brom"));
	EXPECT_NE(NULL, strstr(r.out, "POLICY"));
	ASSERT_EQ(0, run(&r, "-j", "policy", NULL));
	ASSERT_TRUE(r.json && json_object_is_type(r.json, json_type_array));
	for (i = 0; i < json_object_array_length(r.json); i++) {
		json_object *p = json_object_array_get_idx(r.json, i);

		EXPECT_TRUE(jis(p, "kind", json_type_string));
		EXPECT_TRUE(jis(p, "policy", json_type_string));
		EXPECT_TRUE(jis(p, "armed", json_type_boolean));
		EXPECT_TRUE(jis(p, "step_timeout_ms", json_type_int));
		EXPECT_TRUE(jis(p, "sync_timeout_ms", json_type_int));
	}
	run_free(&r);
	ASSERT_EQ(0, run(&r, "policy", "mtk-brom", NULL));
	EXPECT_NE(NULL, strstr(r.out, "policy:"));
	ASSERT_EQ(0, run(&r, "-j", "policy", "mtk-brom", NULL));
	EXPECT_STREQ("mtk-brom", bsk_json_str(r.json, "kind"));
	run_free(&r);

	/* transcript */
	ASSERT_EQ(0, run(&r, "transcript", path, NULL));
	EXPECT_NE(NULL, strstr(r.out, "ms  >  a0"));
	ASSERT_EQ(0, run(&r, "-j", "transcript", self->id, NULL));
	EXPECT_TRUE(jis(r.json, "id", json_type_int));
	EXPECT_TRUE(jis(r.json, "records", json_type_array));
	EXPECT_TRUE(jis(r.json, "lost", json_type_int));
	EXPECT_TRUE(json_object_object_get_ex(r.json, "mark", NULL));
	run_free(&r);

	/* diagnose */
	ASSERT_EQ(0, run(&r, "diagnose", self->id, NULL));
	EXPECT_NE(NULL, strstr(r.out, "no problem found"));
	ASSERT_EQ(0, run(&r, "-j", "diagnose", path, NULL));
	EXPECT_STREQ("ready", bsk_json_str(r.json, "state"));
	EXPECT_TRUE(jis(r.json, "findings", json_type_array));
	run_free(&r);

	/* monitor: --dump shows the device as "exists", one object a line */
	ASSERT_EQ(0, run(&r, "monitor", "--dump", "--timeout", "0.5", NULL));
	EXPECT_NE(NULL, strstr(r.out, " exists id="));
	ASSERT_EQ(0, run(&r, "-j", "monitor", "--dump", "--timeout", "0.5",
			 NULL));
	d = json_tokener_parse(strtok(r.out, "\n") ?: "");
	EXPECT_STREQ("exists", bsk_json_str(d, "event"));
	EXPECT_TRUE(jis(d, "timestamp", json_type_string));
	json_object_put(d);
	d = json_tokener_parse(strtok(NULL, "\n") ?: "");
	EXPECT_STREQ("dump-done", bsk_json_str(d, "event"));
	json_object_put(d);
	/* --count not reached before --timeout: exit 2 */
	EXPECT_EQ(2, run(&r, "-j", "monitor", "--count", "1", "--timeout",
			 "0.3", NULL));

	/* help, and every command in it */
	ASSERT_EQ(0, run(&r, "--help", NULL));
	for (i = 0; i < 9; i++) {
		static const char * const cmds[] = {
			"list", "show", "monitor", "policy", "arm", "retry",
			"release", "transcript", "diagnose",
		};
		char want[32];

		snprintf(want, sizeof(want), "\n  %s", cmds[i]);
		EXPECT_NE(NULL, strstr(r.out, want)) {
			TH_LOG("--help lacks %s", cmds[i]);
		}
	}
	EXPECT_EQ(1, run(&r, "-j", "bogus", NULL));
	EXPECT_STREQ("EINVAL", jerr(&r, "name"));
	run_free(&r);
}

/* The first line of @path (a sysfs attribute), or "" if unreadable. */
static const char *read_line(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "re");

	buf[0] = 0;
	if (f) {
		if (!fgets(buf, len, f))
			buf[0] = 0;
		fclose(f);
	}
	buf[strcspn(buf, "\n")] = 0;
	return buf;
}

/* Lines in @s, each ended by a newline (a last one without: not counted). */
static int nlines(const char *s)
{
	int n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

/* Is @s one of the strings of JSON array @arr? */
static bool jarr_has(json_object *arr, const char *s)
{
	size_t i;

	for (i = 0; arr && i < json_object_array_length(arr); i++)
		if (!strcmp(json_object_get_string(
				json_object_array_get_idx(arr, i)) ?: "", s))
			return true;
	return false;
}

/*
 * What a script relies on (issue 16): a failed -j command prints nothing
 * on stdout, one JSON error object on stderr under a key no device object
 * has, and exits non-zero; options go anywhere; -p indents; the USB id is
 * there as a string; bad ids are refused before the module is asked.
 */
TEST_F_TIMEOUT(cli, json_contract, 180)
{
	const char *path = self->emu.path;
	json_object *ev, *d;
	struct run r, p;
	size_t i;

	ev = plug_ready(_metadata, self);
	ASSERT_NE(NULL, ev);
	/* the monitor's events carry usb_id too */
	EXPECT_STREQ("0e8d:0003", bsk_json_str(ev, "usb_id") ?: "");
	json_object_put(ev);

	/* no device 99 (checked), then show 99: JSON error on stderr only */
	ASSERT_EQ(0, run(&r, "-j", "list", NULL));
	for (i = 0; i < json_object_array_length(r.json); i++)
		ASSERT_NE(99, bsk_json_int(json_object_array_get_idx(r.json, i),
					   "id", -1));
	run_free(&r);
	EXPECT_EQ(1, run(&r, "-j", "show", "99", NULL));
	EXPECT_STREQ("", r.out);
	ASSERT_NE(NULL, r.ejson) {
		TH_LOG("stderr is not JSON: %s", r.err);
	}
	EXPECT_STREQ("ENOENT", jerr(&r, "name") ?: "");
	EXPECT_EQ(ENOENT, bsk_json_int(jget(r.ejson, "command_error"),
				       "errno", -1));
	EXPECT_NE(NULL, strstr(jerr(&r, "message") ?: "", "99"));
	EXPECT_FALSE(bsk_json_has(r.ejson, "error"));
	EXPECT_EQ(1, nlines(r.err)) {
		TH_LOG("not one line: %s", r.err);
	}
	run_free(&r);
	/* text mode: the same on stderr, nothing on stdout */
	EXPECT_EQ(1, run(&r, "show", "99", NULL));
	EXPECT_STREQ("", r.out);
	EXPECT_EQ(0, strncmp(r.err, "bootshake: no device with id 99", 31)) {
		TH_LOG("stderr: %s", r.err);
	}
	EXPECT_EQ(1, nlines(r.err));

	/* options after the command and its argument */
	ASSERT_EQ(0, run(&r, "show", self->id, "-j", NULL)) {
		TH_LOG("show %s -j: %s", self->id, r.err);
	}
	ASSERT_NE(NULL, r.json);
	EXPECT_EQ(atoll(self->id), bsk_json_int(r.json, "id", -1));
	EXPECT_STREQ("", r.err);
	/* compact by default: one line */
	EXPECT_EQ(1, nlines(r.out));
	/* the USB id, as a string and as numbers */
	EXPECT_STREQ("0e8d:0003", bsk_json_str(r.json, "usb_id") ?: "");
	EXPECT_TRUE(jis(r.json, "vid", json_type_int));
	EXPECT_EQ(0x0e8d, bsk_json_int(r.json, "vid", -1));
	EXPECT_EQ(0x0003, bsk_json_int(r.json, "pid", -1));

	/* -p: the same object, indented */
	ASSERT_EQ(0, run(&p, "show", path, "--json", "--pretty", NULL));
	ASSERT_NE(NULL, p.json);
	EXPECT_LT(5, nlines(p.out));
	EXPECT_NE(NULL, strstr(p.out, "\n  \"id\": "));
	EXPECT_STREQ(bsk_json_str(r.json, "path") ?: "-",
		     bsk_json_str(p.json, "path") ?: "");
	EXPECT_EQ(bsk_json_int(r.json, "id", -1), bsk_json_int(p.json, "id", -2));
	run_free(&r);
	run_free(&p);

	/* list: usb_id on each device; -j -p after "list" */
	ASSERT_EQ(0, run(&r, "list", "-j", "-p", NULL));
	d = bsk_json_find_path(r.json, path);
	ASSERT_NE(NULL, d);
	EXPECT_STREQ("0e8d:0003", bsk_json_str(d, "usb_id") ?: "");
	EXPECT_NE(NULL, strstr(r.out, "\n    \"id\": "));
	run_free(&r);

	/* ids out of range: the helper's EINVAL, the module never asked */
	for (i = 0; i < 3; i++) {
		static const char * const bad[] = {
			"0", "4294967296", "1-1.",
		};

		EXPECT_EQ(1, run(&r, "show", bad[i], "-j", NULL));
		EXPECT_STREQ("", r.out);
		EXPECT_STREQ("EINVAL", jerr(&r, "name") ?: "") {
			TH_LOG("show %s: %s", bad[i], r.err);
		}
		EXPECT_EQ(NULL, jerr(&r, "kernel_message"));
		run_free(&r);
	}
}

/*
 * "bootshake version": the helper's, the loaded module's MODULE_VERSION as
 * sysfs has it, the family version, the kinds and features INFO_GET says.
 */
TEST_F_TIMEOUT(cli, version, 60)
{
	static const char * const kinds[] = {
		"mtk-brom", "mtk-preloader", "stm32-dfu", "stm32-usart",
	};
	static const char * const feats[] = {
		"policy", "retry", "release", "transcript",
	};
	char mver[128], want[160];
	struct run r;
	size_t i;

	read_line("/sys/module/bootshake/version", mver, sizeof(mver));
	ASSERT_NE(0, (int)strlen(mver)) {
		TH_LOG("the module has no MODULE_VERSION");
	}
	TH_LOG("module version %s", mver);

	ASSERT_EQ(0, run(&r, "version", "-j", NULL)) {
		TH_LOG("%s", r.err);
	}
	EXPECT_TRUE(bsk_json_bool(r.json, "module_loaded"));
	EXPECT_STREQ(mver, bsk_json_str(r.json, "module_version") ?: "");
	EXPECT_TRUE(jis(r.json, "helper_version", json_type_string));
	EXPECT_STREQ("bootshake", bsk_json_str(r.json, "family") ?: "");
	EXPECT_EQ(BOOTSHAKE_FAMILY_VERSION,
		  bsk_json_int(r.json, "family_version", -1));
	EXPECT_EQ(BOOTSHAKE_FAMILY_VERSION,
		  bsk_json_int(r.json, "helper_family_version", -1));
	EXPECT_EQ(ARRAY_SIZE(kinds),
		  json_object_array_length(jget(r.json, "kinds")));
	for (i = 0; i < ARRAY_SIZE(kinds); i++)
		EXPECT_TRUE(jarr_has(jget(r.json, "kinds"), kinds[i])) {
			TH_LOG("kind %zu not reported", i);
		}
	for (i = 0; i < ARRAY_SIZE(feats); i++)
		EXPECT_TRUE(jarr_has(jget(r.json, "features"), feats[i])) {
			TH_LOG("feature %zu not reported", i);
		}
	run_free(&r);

	ASSERT_EQ(0, run(&r, "version", NULL));
	snprintf(want, sizeof(want), "\nmodule: %s (family \"bootshake\" version %d)\n",
		 mver, BOOTSHAKE_FAMILY_VERSION);
	EXPECT_NE(NULL, strstr(r.out, want)) {
		TH_LOG("%s", r.out);
	}
	EXPECT_NE(NULL, strstr(r.out,
		"\nkinds: mtk-brom mtk-preloader stm32-dfu stm32-usart\n"));
	EXPECT_NE(NULL, strstr(r.out,
		"\nfeatures: policy retry release transcript\n"));
	EXPECT_STREQ("", r.err);
}

/* The policy of @kind in a "policy" array. */
static json_object *find_kind(json_object *arr, const char *kind)
{
	size_t i;

	for (i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *q = json_object_array_get_idx(arr, i);

		if (!strcmp(bsk_json_str(q, "kind") ?: "", kind))
			return q;
	}
	return NULL;
}

TEST_F_TIMEOUT(cli, policy_round_trip, 120)
{
	json_object *p;
	struct run r;

	ASSERT_EQ(0, run(&r, "-j", "policy", "mtk-preloader", "auto",
			 "--step-timeout", "150", "--sync-timeout", "2500",
			 NULL)) {
		TH_LOG("%s", r.err);
	}
	EXPECT_STREQ("auto", bsk_json_str(r.json, "policy"));
	EXPECT_EQ(150, bsk_json_int(r.json, "step_timeout_ms", -1));
	EXPECT_EQ(2500, bsk_json_int(r.json, "sync_timeout_ms", -1));
	run_free(&r);

	/* read back: what was set is what is held */
	ASSERT_EQ(0, run(&r, "-j", "policy", "mtk-preloader", NULL));
	EXPECT_STREQ("mtk-preloader", bsk_json_str(r.json, "kind"));
	EXPECT_STREQ("auto", bsk_json_str(r.json, "policy"));
	EXPECT_EQ(150, bsk_json_int(r.json, "step_timeout_ms", -1));
	EXPECT_EQ(2500, bsk_json_int(r.json, "sync_timeout_ms", -1));
	run_free(&r);

	/* text mode, and only the mode this time: the deadlines stay */
	ASSERT_EQ(0, run(&r, "policy", "mtk-preloader", "watch", NULL));
	EXPECT_NE(NULL, strstr(r.out, "watch"));
	ASSERT_EQ(0, run(&r, "-j", "policy", NULL));
	p = find_kind(r.json, "mtk-preloader");
	ASSERT_NE(NULL, p);
	EXPECT_STREQ("watch", bsk_json_str(p, "policy"));
	EXPECT_EQ(150, bsk_json_int(p, "step_timeout_ms", -1));
	EXPECT_EQ(2500, bsk_json_int(p, "sync_timeout_ms", -1));
	run_free(&r);

	/* the kernel's refusal comes through with its words */
	EXPECT_EQ(1, run(&r, "-j", "policy", "mtk-preloader",
			 "--step-timeout", "3000", "--sync-timeout", "2000",
			 NULL));
	EXPECT_STREQ("ERANGE", jerr(&r, "name"));
	EXPECT_NE(NULL, jerr(&r, "kernel_message"));
	run_free(&r);
	EXPECT_EQ(1, run(&r, "policy", "mtk-preloader", "--step-timeout",
			 "3000", "--sync-timeout", "2000", NULL));
	EXPECT_NE(NULL, strstr(r.err, "(kernel: ")) {
		TH_LOG("stderr: %s", r.err);
	}
	/* out of the module's range: the helper's usage error, before netlink */
	EXPECT_EQ(1, run(&r, "policy", "mtk-preloader", "--step-timeout",
			 "0", NULL));
	EXPECT_NE(NULL, strstr(r.err, "1..600000")) {
		TH_LOG("stderr: %s", r.err);
	}
	EXPECT_EQ(NULL, strstr(r.err, "(kernel: "));
}

TEST_F_TIMEOUT(cli, arm_with_count, 120)
{
	json_object *ev;
	struct run r;
	long long left;

	ASSERT_EQ(0, run(&r, "-j", "policy", "mtk-preloader", "watch", NULL));
	run_free(&r);
	/* text mode: the kind's policy afterwards, armed */
	ASSERT_EQ(0, run(&r, "arm", "mtk-preloader", "--count", "3",
			 "--timeout", "30", NULL)) {
		TH_LOG("%s", r.err);
	}
	EXPECT_NE(NULL, strstr(r.out, "3 devices")) {
		TH_LOG("%s", r.out);
	}
	EXPECT_STREQ("", r.err);
	ASSERT_EQ(0, run(&r, "-j", "arm", "mtk-preloader", "--count", "2",
			 "--timeout", "30", NULL)) {
		TH_LOG("%s", r.err);
	}
	EXPECT_TRUE(bsk_json_bool(r.json, "armed"));
	EXPECT_EQ(2, bsk_json_int(r.json, "arm_count", -1));
	left = bsk_json_int(r.json, "arm_timeout_ms", -1);
	EXPECT_GT(left, 0);
	EXPECT_LE(left, 30000);
	EXPECT_STREQ("watch", bsk_json_str(r.json, "policy"));
	run_free(&r);
	ASSERT_EQ(0, run(&r, "policy", "mtk-preloader", NULL));
	EXPECT_NE(NULL, strstr(r.out, "2 devices")) {
		TH_LOG("%s", r.out);
	}

	/* the next preloader is synced although the policy says "watch" */
	ev = plug(_metadata, self, "mtk-preloader", NULL,
		  "ready,failed,watching", 5000 * bsk_scale());
	ASSERT_NE(NULL, ev);
	EXPECT_STREQ("ready", bsk_json_str(ev, "state")) {
		TH_LOG("reason: %s", bsk_json_str(ev, "reason"));
	}
	EXPECT_STREQ("mtk-preloader", bsk_json_str(ev, "kind"));
	json_object_put(ev);
	ASSERT_EQ(0, run(&r, "-j", "policy", "mtk-preloader", NULL));
	EXPECT_EQ(1, bsk_json_int(r.json, "arm_count", -1));
	EXPECT_TRUE(bsk_json_bool(r.json, "armed"));
	run_free(&r);

	/*
	 * A count out of range is the helper's usage error, before the
	 * module is asked (the module's refusal of it: raw.malformed_requests).
	 */
	EXPECT_EQ(1, run(&r, "-j", "arm", "mtk-preloader", "--count", "65",
			 NULL));
	EXPECT_STREQ("EINVAL", jerr(&r, "name"));
	EXPECT_NE(NULL, strstr(jerr(&r, "message") ?: "", "0..64"));
	EXPECT_EQ(NULL, jerr(&r, "kernel_message"));
	EXPECT_STREQ("", r.out);
	run_free(&r);
	ASSERT_EQ(0, run(&r, "-j", "policy", "mtk-preloader", NULL));
	EXPECT_EQ(1, bsk_json_int(r.json, "arm_count", -1));
	run_free(&r);

	/* --count 0 disarms (documented so), and options go after the kind */
	ASSERT_EQ(0, run(&r, "arm", "mtk-preloader", "--count", "0", "-j",
			 NULL)) {
		TH_LOG("%s", r.err);
	}
	EXPECT_FALSE(bsk_json_bool(r.json, "armed"));
	EXPECT_EQ(0, bsk_json_int(r.json, "arm_count", -1));
	run_free(&r);
}

TEST_F_TIMEOUT(cli, retry_ready_device, 120)
{
	json_object *ev;
	struct run r;

	ev = plug_clean(_metadata, self);
	ASSERT_NE(NULL, ev);
	EXPECT_FALSE(bsk_json_bool(ev, "already_synced"));
	json_object_put(ev);

	ASSERT_EQ(0, run(&r, "retry", self->id, NULL)) {
		TH_LOG("%s", r.err);
	}
	EXPECT_EQ(0, strncmp(r.out, "retry: device ", 14));
	ev = bsk_mon_wait(&self->mon, self->emu.path, "change", "syncing",
			  3000 * bsk_scale());
	ASSERT_NE(NULL, ev);
	json_object_put(ev);
	ev = bsk_mon_wait(&self->mon, self->emu.path, "change",
			  "ready,failed", 3000 * bsk_scale());
	ASSERT_NE(NULL, ev);
	EXPECT_STREQ("ready", bsk_json_str(ev, "state"));
	/* the BROM was still in its command loop: it echoed the sync */
	EXPECT_TRUE(bsk_json_bool(ev, "already_synced"));
	json_object_put(ev);

	/* again by path, in JSON */
	ASSERT_EQ(0, run(&r, "-j", "retry", self->emu.path, NULL));
	EXPECT_STREQ("retry", bsk_json_str(r.json, "action"));
	EXPECT_EQ(atoll(self->id), bsk_json_int(r.json, "id", -1));
	run_free(&r);
	ev = bsk_mon_wait(&self->mon, self->emu.path, "change",
			  "ready,failed", 3000 * bsk_scale());
	ASSERT_NE(NULL, ev);
	EXPECT_STREQ("ready", bsk_json_str(ev, "state"));
	json_object_put(ev);
}

TEST_F_TIMEOUT(cli, release_then_unplug, 120)
{
	char path[32];
	json_object *ev, *d, *recs;
	struct run r;
	bool noted = false;
	size_t i;

	ev = plug_ready(_metadata, self);
	ASSERT_NE(NULL, ev);
	json_object_put(ev);
	snprintf(path, sizeof(path), "%s", self->emu.path);

	ASSERT_EQ(0, run(&r, "-j", "release", self->id, NULL)) {
		TH_LOG("%s", r.err);
	}
	EXPECT_STREQ("release", bsk_json_str(r.json, "action"));
	run_free(&r);
	ev = bsk_mon_wait(&self->mon, path, NULL, "released",
			  3000 * bsk_scale());
	ASSERT_NE(NULL, ev);
	json_object_put(ev);

	/* still listed, as released */
	ASSERT_EQ(0, run(&r, "-j", "list", NULL));
	d = bsk_json_find_path(r.json, path);
	ASSERT_NE(NULL, d);
	EXPECT_STREQ("released", bsk_json_str(d, "state"));
	run_free(&r);
	ASSERT_EQ(0, run(&r, "list", NULL));
	EXPECT_NE(NULL, strstr(r.out, "released"));

	/* nothing more is done to it */
	EXPECT_EQ(1, run(&r, "-j", "retry", self->id, NULL));
	EXPECT_NE(NULL, jerr(&r, "kernel_message"));
	run_free(&r);
	EXPECT_EQ(1, run(&r, "release", path, NULL));
	EXPECT_NE(NULL, strstr(r.err, "bootshake: release: "));

	/* the transcript ends with the release */
	ASSERT_EQ(0, run(&r, "-j", "transcript", self->id, NULL));
	recs = jget(r.json, "records");
	for (i = 0; recs && i < json_object_array_length(recs); i++) {
		json_object *rec = json_object_array_get_idx(recs, i);

		if (!strcmp(bsk_json_str(rec, "text") ?: "", "released"))
			noted = true;
	}
	EXPECT_TRUE(noted);
	run_free(&r);

	/* unplugged: gone from the list */
	bsk_emu_stop(&self->emu);
	ev = bsk_mon_wait(&self->mon, path, "remove", NULL, 5000 * bsk_scale());
	ASSERT_NE(NULL, ev);
	json_object_put(ev);
	ASSERT_EQ(0, run(&r, "-j", "list", NULL));
	EXPECT_EQ(NULL, bsk_json_find_path(r.json, path));
	run_free(&r);
	EXPECT_EQ(1, run(&r, "-j", "show", path, NULL));
	EXPECT_STREQ("ENOENT", jerr(&r, "name"));
	run_free(&r);
}

TEST_F_TIMEOUT(cli, transcript_of_clean_sync, 120)
{
	json_object *ev, *recs, *f;
	long long t = 0;
	int a0 = -1, reply = -1;
	struct run r;
	size_t i, n;

	ev = plug_clean(_metadata, self);
	ASSERT_NE(NULL, ev);
	json_object_put(ev);

	ASSERT_EQ(0, run(&r, "-j", "transcript", self->id, NULL));
	EXPECT_EQ(atoll(self->id), bsk_json_int(r.json, "id", -1));
	EXPECT_EQ(0, bsk_json_int(r.json, "lost", -1));
	EXPECT_EQ((int)json_type_null,
		  (int)json_object_get_type(jget(r.json, "mark")));
	recs = jget(r.json, "records");
	ASSERT_NE(NULL, recs);
	n = json_object_array_length(recs);
	ASSERT_GT((int)n, 8);
	for (i = 0; i < n; i++) {
		json_object *rec = json_object_array_get_idx(recs, i);
		const char *dir = bsk_json_str(rec, "dir") ?: "";
		const char *hex = bsk_json_str(rec, "hex") ?: "";
		long long tn = bsk_json_int(rec, "t_ns", -1);

		EXPECT_GE(tn, t);
		t = tn;
		EXPECT_TRUE(!strcmp(dir, "out") || !strcmp(dir, "in") ||
			    !strcmp(dir, "note"));
		if (!strcmp(dir, "note"))
			EXPECT_TRUE(jis(rec, "text", json_type_string));
		if (a0 < 0 && !strcmp(dir, "out") && !strcmp(hex, "a0"))
			a0 = i;
		else if (a0 >= 0 && reply < 0 && !strcmp(dir, "in"))
			reply = i;
	}
	/* out a0, then in 5f: the first step of the sync */
	ASSERT_GE(a0, 0);
	ASSERT_GT(reply, a0);
	EXPECT_EQ(0, strncmp(bsk_json_str(json_object_array_get_idx(recs,
								     reply),
					  "hex") ?: "", "5f", 2));
	run_free(&r);

	ASSERT_EQ(0, run(&r, "transcript", self->emu.path, NULL));
	EXPECT_NE(NULL, strstr(r.out, "ms  >  a0\n"));
	EXPECT_NE(NULL, strstr(r.out, "ms  <  5f"));
	EXPECT_NE(NULL, strstr(r.out, "#  sync done"));
	EXPECT_EQ(NULL, strstr(r.out, "!! here"));

	/* and a clean device has nothing to diagnose */
	ASSERT_EQ(0, run(&r, "diagnose", self->emu.path, NULL));
	EXPECT_NE(NULL, strstr(r.out, "no problem found"));
	ASSERT_EQ(0, run(&r, "-j", "diagnose", self->id, NULL));
	f = jget(r.json, "findings");
	ASSERT_NE(NULL, f);
	EXPECT_EQ(0, (int)json_object_array_length(f)) {
		TH_LOG("%s", r.out);
	}
	run_free(&r);
}

TEST_F_TIMEOUT(cli, diagnose_device_that_never_answers, 180)
{
	const char *const faults[] = { "silent", NULL };
	json_object *ev, *f;
	struct run r;

	ev = plug(_metadata, self, "mtk-brom", faults, "ready,failed",
		  8000 * bsk_scale());
	ASSERT_NE(NULL, ev);
	ASSERT_STREQ("failed", bsk_json_str(ev, "state"));
	json_object_put(ev);

	ASSERT_EQ(0, run(&r, "-j", "show", self->id, NULL));
	EXPECT_STREQ("no-reply", bsk_json_str(r.json, "error"));
	EXPECT_EQ(ETIMEDOUT, bsk_json_int(r.json, "errno", -1));
	EXPECT_STREQ("ETIMEDOUT", bsk_json_str(r.json, "error_name"));
	run_free(&r);

	ASSERT_EQ(0, run(&r, "-j", "diagnose", self->id, NULL));
	f = json_object_array_get_idx(jget(r.json, "findings"), 0);
	ASSERT_NE(NULL, f);
	EXPECT_STREQ("no-reply", bsk_json_str(f, "code"));
	EXPECT_STREQ("error", bsk_json_str(f, "severity"));
	EXPECT_TRUE(jis(f, "cause", json_type_string));
	EXPECT_TRUE(jis(f, "fix", json_type_string));
	EXPECT_TRUE(jis(f, "evidence", json_type_string));
	run_free(&r);
	ASSERT_EQ(0, run(&r, "diagnose", self->emu.path, NULL));
	EXPECT_NE(NULL, strstr(r.out, "cause: "));
	EXPECT_NE(NULL, strstr(r.out, "fix: "));

	ASSERT_EQ(0, run(&r, "transcript", self->id, NULL));
	EXPECT_NE(NULL, strstr(r.out, "!! here:"));
	ASSERT_EQ(0, run(&r, "-j", "transcript", self->id, NULL));
	EXPECT_TRUE(jis(r.json, "mark", json_type_object));
	run_free(&r);
}

TEST_F_TIMEOUT(cli, unprivileged_user, 180)
{
	static const char *const reads[][3] = {
		{ "list" }, { "show", "" }, { "transcript", "" },
		{ "diagnose", "" }, { "policy" }, { "policy", "mtk-brom" },
	};
	json_object *ev;
	struct run r;
	size_t i;

	ev = plug_ready(_metadata, self);
	ASSERT_NE(NULL, ev);
	json_object_put(ev);

	/* actions: EPERM, said in the user's words */
	EXPECT_EQ(1, run_as(&r, NOBODY, "policy", "mtk-brom", "watch", NULL));
	EXPECT_STREQ("bootshake: policy: operation not permitted (needs CAP_NET_ADMIN)\n",
		     r.err);
	EXPECT_EQ(1, run_as(&r, NOBODY, "arm", "mtk-preloader", NULL));
	EXPECT_STREQ("bootshake: arm: operation not permitted (needs CAP_NET_ADMIN)\n",
		     r.err);
	EXPECT_EQ(1, run_as(&r, NOBODY, "-j", "retry", self->id, NULL));
	EXPECT_STREQ("EPERM", jerr(&r, "name"));
	run_free(&r);
	EXPECT_EQ(1, run_as(&r, NOBODY, "-j", "release", self->emu.path,
			    NULL));
	EXPECT_STREQ("EPERM", jerr(&r, "name"));
	run_free(&r);
	EXPECT_EQ(1, run_as(&r, NOBODY, "-j", "policy", "mtk-brom",
			    "--sync-timeout", "2000", NULL));
	EXPECT_STREQ("EPERM", jerr(&r, "name"));
	run_free(&r);

	/* reads: open to everyone */
	for (i = 0; i < ARRAY_SIZE(reads); i++) {
		const char *arg = reads[i][1] && !reads[i][1][0] ?
				  self->id : reads[i][1];

		EXPECT_EQ(0, run_as(&r, NOBODY, "-j", reads[i][0], arg, NULL)) {
			TH_LOG("%s as nobody: %s", reads[i][0], r.out);
		}
		EXPECT_NE(NULL, r.json);
		run_free(&r);
	}

	/* and nothing changed */
	ASSERT_EQ(0, run(&r, "-j", "show", self->id, NULL));
	EXPECT_STREQ("ready", bsk_json_str(r.json, "state"));
	run_free(&r);
	ASSERT_EQ(0, run(&r, "-j", "policy", "mtk-brom", NULL));
	EXPECT_STREQ("auto", bsk_json_str(r.json, "policy"));
	run_free(&r);
}

/* One journal entry's field value ("KEY=value\n" lines), or NULL. */
static const char *jfield(const char *entry, const char *key, char *buf,
			  size_t len)
{
	size_t klen = strlen(key);
	const char *p = entry;

	while (p && *p) {
		const char *eol = strchr(p, '\n');

		if (!strncmp(p, key, klen) && p[klen] == '=') {
			snprintf(buf, len, "%.*s",
				 (int)((eol ? eol : p + strlen(p)) - p - klen - 1),
				 p + klen + 1);
			return buf;
		}
		p = eol ? eol + 1 : NULL;
	}
	return NULL;
}

/* Read @fd until a line containing @what shows up. */
static bool wait_line(int fd, const char *what, int timeout_ms)
{
	long long deadline = bsk_now_ms() + timeout_ms;
	char buf[8192];
	size_t len = 0;

	while (bsk_now_ms() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, deadline - bsk_now_ms()) <= 0)
			return false;
		n = read(fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return false;
		len += n;
		buf[len] = 0;
		if (strstr(buf, what))
			return true;
		if (len == sizeof(buf) - 1)
			len = 0;
	}
	return false;
}

TEST_F_TIMEOUT(cli, monitor_journal, 120)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char env[160], entry[8192], first[8192] = "", v[256];
	char *argv[] = { (char *)helper(), "monitor", "--journal", "--dump",
			 NULL };
	long long deadline;
	bool ready = false;
	int fd, ofd, efd, st;
	pid_t pid;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "/tmp/bsk-journal.%d",
		 getpid());
	unlink(sa.sun_path);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	snprintf(env, sizeof(env), "BOOTSHAKE_JOURNAL_SOCKET=%s", sa.sun_path);

	pid = spawn(argv, 0, env, &ofd, &efd);
	ASSERT_LT(0, pid);
	/* plug only once it has joined the group: after "dump-done" */
	ASSERT_TRUE(wait_line(ofd, " dump-done ", 10000 * bsk_scale()));
	ASSERT_EQ(0, bsk_emu_start(&self->emu, "mtk-brom", UDC, NULL));

	deadline = bsk_now_ms() + 5000LL * bsk_scale();
	while (!ready && bsk_now_ms() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, deadline - bsk_now_ms()) <= 0)
			break;
		n = recv(fd, entry, sizeof(entry) - 1, 0);
		if (n <= 0)
			break;
		entry[n] = 0;
		TH_LOG("journal: %.*s", (int)strcspn(entry, "\n"), entry);
		if (!jfield(entry, "BOOTSHAKE_PATH", v, sizeof(v)) ||
		    strcmp(v, self->emu.path))
			continue;
		if (!first[0])
			snprintf(first, sizeof(first), "%s", entry);
		ready = jfield(entry, "BOOTSHAKE_STATE", v, sizeof(v)) &&
			!strcmp(v, "ready");
	}
	kill(pid, SIGTERM);
	st = reap(pid, 5000 * bsk_scale());
	close(ofd);
	close(efd);
	close(fd);
	unlink(sa.sun_path);

	EXPECT_EQ(0, st);
	ASSERT_TRUE(ready);
	EXPECT_STREQ("add", jfield(first, "BOOTSHAKE_EVENT", v, sizeof(v)));
	EXPECT_NE(NULL, jfield(first, "BOOTSHAKE_ID", v, sizeof(v)));
	EXPECT_NE(0, atoi(v));
	EXPECT_STREQ("mtk-brom", jfield(first, "BOOTSHAKE_KIND", v, sizeof(v)));
	EXPECT_NE(NULL, jfield(first, "BOOTSHAKE_STATE", v, sizeof(v)));
	EXPECT_STREQ("6", jfield(first, "PRIORITY", v, sizeof(v)));
	EXPECT_STREQ("bootshake",
		     jfield(first, "SYSLOG_IDENTIFIER", v, sizeof(v)));
	EXPECT_NE(NULL, jfield(first, "MESSAGE", v, sizeof(v)));
	EXPECT_EQ(0, strncmp(v, "add id=", 7));
}

/* --- below the helper: a raw generic netlink sender --------------------- */

struct raw {
	int fd;
	unsigned short family;
	unsigned int seq;
};

struct req {
	struct nlmsghdr n;
	struct genlmsghdr g;
	char buf[512];
};

struct ack {
	int err;		/* negative errno, 0 */
	char msg[256];		/* NLMSGERR_ATTR_MSG */
	int bad_type;		/* type of the attribute at NLMSGERR_ATTR_OFFS */
	int miss_type;		/* NLMSGERR_ATTR_MISS_TYPE */
	int replies;		/* data messages before the end */
};

static void req_init(struct req *q, unsigned short type, unsigned char cmd,
		     unsigned short flags)
{
	memset(q, 0, sizeof(*q));
	q->n.nlmsg_len = NLMSG_LENGTH(GENL_HDRLEN);
	q->n.nlmsg_type = type;
	q->n.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK | flags;
	q->g.cmd = cmd;
	q->g.version = BOOTSHAKE_FAMILY_VERSION;
}

static void req_put(struct req *q, unsigned short type, const void *data,
		    unsigned short len)
{
	struct nlattr *a = (struct nlattr *)((char *)q + NLMSG_ALIGN(q->n.nlmsg_len));

	a->nla_type = type;
	a->nla_len = NLA_HDRLEN + len;
	memcpy((char *)a + NLA_HDRLEN, data, len);
	q->n.nlmsg_len = NLMSG_ALIGN(q->n.nlmsg_len) + NLA_ALIGN(a->nla_len);
}

static void req_u32(struct req *q, unsigned short type, unsigned int v)
{
	req_put(q, type, &v, 4);
}

static void parse_ext(struct ack *a, const struct req *q, const char *tlv,
		      int len)
{
	const struct nlattr *t = (const struct nlattr *)tlv;

	while (len >= NLA_HDRLEN && t->nla_len >= NLA_HDRLEN &&
	       t->nla_len <= len) {
		const char *data = (const char *)t + NLA_HDRLEN;
		int dlen = t->nla_len - NLA_HDRLEN;

		switch (t->nla_type & NLA_TYPE_MASK) {
		case NLMSGERR_ATTR_MSG:
			snprintf(a->msg, sizeof(a->msg), "%.*s", dlen, data);
			break;
		case NLMSGERR_ATTR_OFFS: {
			unsigned int off = *(const unsigned int *)data;

			if (off + NLA_HDRLEN <= q->n.nlmsg_len)
				a->bad_type = ((const struct nlattr *)
					       ((const char *)q + off))->nla_type &
					      NLA_TYPE_MASK;
			break;
		}
		case NLMSGERR_ATTR_MISS_TYPE:
			a->miss_type = *(const unsigned int *)data;
			break;
		}
		len -= NLA_ALIGN(t->nla_len);
		t = (const struct nlattr *)((const char *)t +
					    NLA_ALIGN(t->nla_len));
	}
}

/* Send @q, read up to the ack / error / end of dump. */
static int raw_send(struct raw *r, struct req *q, struct ack *a)
{
	static char buf[65536];
	long long deadline = bsk_now_ms() + 5000LL * bsk_scale();

	memset(a, 0, sizeof(*a));
	a->bad_type = -1;
	a->miss_type = -1;
	q->n.nlmsg_seq = ++r->seq;
	if (send(r->fd, q, q->n.nlmsg_len, 0) < 0)
		return -errno;
	while (bsk_now_ms() < deadline) {
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		struct nlmsghdr *h;
		int n;

		if (poll(&p, 1, deadline - bsk_now_ms()) <= 0)
			break;
		n = recv(r->fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n);
		     h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_seq != r->seq)
				continue;
			if (h->nlmsg_type == NLMSG_ERROR) {
				struct nlmsgerr *e = NLMSG_DATA(h);

				a->err = e->error;
				if (h->nlmsg_flags & NLM_F_ACK_TLVS)
					parse_ext(a, q, (char *)(e + 1),
						  h->nlmsg_len - NLMSG_HDRLEN -
						  sizeof(*e));
				return 0;
			}
			if (h->nlmsg_type == NLMSG_DONE) {
				int *err = NLMSG_DATA(h);

				a->err = *err;
				if (h->nlmsg_flags & NLM_F_ACK_TLVS)
					parse_ext(a, q, (char *)(err + 1),
						  h->nlmsg_len - NLMSG_HDRLEN -
						  sizeof(*err));
				return 0;
			}
			a->replies++;
		}
	}
	return -ETIMEDOUT;
}

/* The family id of "bootshake", from nlctrl. */
static int raw_resolve(struct raw *r)
{
	static char buf[8192];
	struct req q;
	int n;

	req_init(&q, GENL_ID_CTRL, CTRL_CMD_GETFAMILY, 0);
	q.n.nlmsg_flags = NLM_F_REQUEST;
	q.g.version = 1;
	req_put(&q, CTRL_ATTR_FAMILY_NAME, BOOTSHAKE_FAMILY_NAME,
		sizeof(BOOTSHAKE_FAMILY_NAME));
	if (send(r->fd, &q, q.n.nlmsg_len, 0) < 0)
		return -errno;
	n = recv(r->fd, buf, sizeof(buf), 0);
	if (n > 0) {
		struct nlmsghdr *h = (struct nlmsghdr *)buf;
		struct nlattr *a = (struct nlattr *)((char *)NLMSG_DATA(h) +
						     GENL_HDRLEN);
		int len = h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);

		if (h->nlmsg_type != GENL_ID_CTRL)
			return -ENOENT;
		while (len >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN) {
			if (a->nla_type == CTRL_ATTR_FAMILY_ID) {
				r->family = *(unsigned short *)(a + 1);
				return 0;
			}
			len -= NLA_ALIGN(a->nla_len);
			a = (struct nlattr *)((char *)a +
					      NLA_ALIGN(a->nla_len));
		}
	}
	return -ENOENT;
}

FIXTURE(raw) {
	struct raw nl;
	int kmsg;
};

FIXTURE_SETUP(raw)
{
	int one = 1;

	self->kmsg = bsk_kmsg_mark();
	self->nl.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC,
			     NETLINK_GENERIC);
	ASSERT_LE(0, self->nl.fd);
	/* extended acks, and our request not echoed back in them */
	ASSERT_EQ(0, setsockopt(self->nl.fd, SOL_NETLINK, NETLINK_EXT_ACK,
				&one, sizeof(one)));
	ASSERT_EQ(0, setsockopt(self->nl.fd, SOL_NETLINK, NETLINK_CAP_ACK,
				&one, sizeof(one)));
	ASSERT_EQ(0, raw_resolve(&self->nl));
}

FIXTURE_TEARDOWN(raw)
{
	close(self->nl.fd);
	EXPECT_EQ(0, bsk_kmsg_splats(self->kmsg));
}

/* A well-formed request through the same sender works. */
TEST_F(raw, valid_requests_succeed)
{
	struct ack a;
	struct req q;

	req_init(&q, self->nl.family, BOOTSHAKE_CMD_POLICY_GET, 0);
	req_u32(&q, BOOTSHAKE_A_POLICY_KIND, BOOTSHAKE_KIND_MTK_BROM);
	ASSERT_EQ(0, raw_send(&self->nl, &q, &a));
	EXPECT_EQ(0, a.err);
	EXPECT_EQ(1, a.replies);

	req_init(&q, self->nl.family, BOOTSHAKE_CMD_INFO_GET, 0);
	ASSERT_EQ(0, raw_send(&self->nl, &q, &a));
	EXPECT_EQ(0, a.err);
	EXPECT_EQ(1, a.replies);
}

/* One malformed request and what the module must say to it. */
struct bad {
	const char *name;
	unsigned char cmd;
	unsigned short flags;
	unsigned short reserved;	/* genlmsghdr.reserved */
	struct {
		unsigned short type;
		unsigned short len;	/* 0: end of list */
		unsigned long long val;
	} attrs[3];
	int errs[3];		/* acceptable errnos (positive) */
	int bad_type;		/* attribute the ack must point at, or -1 */
	int miss_type;		/* attribute the ack must say is missing, -1 */
};

#define A(t, l, v)	{ .type = (t), .len = (l), .val = (v) }
#define KIND_BROM	A(BOOTSHAKE_A_POLICY_KIND, 4, BOOTSHAKE_KIND_MTK_BROM)

static const struct bad bads[] = {
	{
		.name = "policy kind sent as u16 (wrong type/length)",
		.cmd = BOOTSHAKE_CMD_POLICY_GET,
		.attrs = { A(BOOTSHAKE_A_POLICY_KIND, 2, 1) },
		.errs = { EINVAL, ERANGE },
		.bad_type = BOOTSHAKE_A_POLICY_KIND, .miss_type = -1,
	},
	{
		.name = "arm kind sent as u64 (oversize)",
		.cmd = BOOTSHAKE_CMD_ARM,
		.attrs = { A(BOOTSHAKE_A_POLICY_KIND, 8, 1) },
		.errs = { EINVAL, ERANGE },
		.bad_type = BOOTSHAKE_A_POLICY_KIND, .miss_type = -1,
	},
	{
		.name = "device id sent as a string",
		.cmd = BOOTSHAKE_CMD_RETRY,
		.attrs = { A(BOOTSHAKE_A_DEV_ID, 2, '1') },
		.errs = { EINVAL, ERANGE },
		.bad_type = BOOTSHAKE_A_DEV_ID, .miss_type = -1,
	},
	{
		.name = "arm without a kind (missing required attribute)",
		.cmd = BOOTSHAKE_CMD_ARM,
		.attrs = { A(BOOTSHAKE_A_POLICY_ARM_COUNT, 4, 1) },
		.errs = { EINVAL },
		.bad_type = -1, .miss_type = BOOTSHAKE_A_POLICY_KIND,
	},
	{
		.name = "retry without a device id",
		.cmd = BOOTSHAKE_CMD_RETRY,
		.errs = { EINVAL },
		.bad_type = -1, .miss_type = BOOTSHAKE_A_DEV_ID,
	},
	{
		.name = "policy set without a kind",
		.cmd = BOOTSHAKE_CMD_POLICY_SET,
		.attrs = { A(BOOTSHAKE_A_POLICY_MODE, 4, BOOTSHAKE_POLICY_AUTO) },
		.errs = { EINVAL },
		.bad_type = -1, .miss_type = BOOTSHAKE_A_POLICY_KIND,
	},
	{
		.name = "unknown attribute in a device get",
		.cmd = BOOTSHAKE_CMD_DEV_GET,
		.attrs = { A(BOOTSHAKE_A_DEV_ID, 4, 1),
			   A(BOOTSHAKE_A_DEV_MAX + 5, 4, 0) },
		.errs = { EINVAL, EOPNOTSUPP },
		.bad_type = BOOTSHAKE_A_DEV_MAX + 5, .miss_type = -1,
	},
	{
		.name = "unknown attribute in an arm",
		.cmd = BOOTSHAKE_CMD_ARM,
		.attrs = { KIND_BROM, A(BOOTSHAKE_A_POLICY_MAX + 1, 4, 0) },
		.errs = { EINVAL, EOPNOTSUPP },
		.bad_type = BOOTSHAKE_A_POLICY_MAX + 1, .miss_type = -1,
	},
	/* arm count 0 is valid: it disarms (spec: arm-count 0..64). */
	{
		.name = "arm count 65 (out of range 0..64)",
		.cmd = BOOTSHAKE_CMD_ARM,
		.attrs = { KIND_BROM, A(BOOTSHAKE_A_POLICY_ARM_COUNT, 4, 65) },
		.errs = { ERANGE, EINVAL },
		.bad_type = BOOTSHAKE_A_POLICY_ARM_COUNT, .miss_type = -1,
	},
	{
		.name = "arm timeout 0",
		.cmd = BOOTSHAKE_CMD_ARM,
		.attrs = { KIND_BROM,
			   A(BOOTSHAKE_A_POLICY_ARM_TIMEOUT_MS, 4, 0) },
		.errs = { ERANGE, EINVAL },
		.bad_type = BOOTSHAKE_A_POLICY_ARM_TIMEOUT_MS, .miss_type = -1,
	},
	{
		.name = "unknown kind 99",
		.cmd = BOOTSHAKE_CMD_POLICY_GET,
		.attrs = { A(BOOTSHAKE_A_POLICY_KIND, 4, 99) },
		.errs = { ERANGE, EINVAL, EOPNOTSUPP },
		.bad_type = BOOTSHAKE_A_POLICY_KIND, .miss_type = -1,
	},
	{
		.name = "kind 0 (unspec)",
		.cmd = BOOTSHAKE_CMD_ARM,
		.attrs = { A(BOOTSHAKE_A_POLICY_KIND, 4, 0) },
		.errs = { ERANGE, EINVAL, EOPNOTSUPP },
		.bad_type = BOOTSHAKE_A_POLICY_KIND, .miss_type = -1,
	},
	{
		.name = "policy mode 9 (unknown)",
		.cmd = BOOTSHAKE_CMD_POLICY_SET,
		.attrs = { KIND_BROM, A(BOOTSHAKE_A_POLICY_MODE, 4, 9) },
		.errs = { ERANGE, EINVAL },
		.bad_type = BOOTSHAKE_A_POLICY_MODE, .miss_type = -1,
	},
	{
		.name = "step deadline 0",
		.cmd = BOOTSHAKE_CMD_POLICY_SET,
		.attrs = { KIND_BROM,
			   A(BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS, 4, 0) },
		.errs = { ERANGE, EINVAL },
		.bad_type = BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS, .miss_type = -1,
	},
	{
		.name = "device id 0",
		.cmd = BOOTSHAKE_CMD_DEV_GET,
		.attrs = { A(BOOTSHAKE_A_DEV_ID, 4, 0) },
		.errs = { ERANGE, EINVAL },
		.bad_type = BOOTSHAKE_A_DEV_ID, .miss_type = -1,
	},
	{
		.name = "device that does not exist",
		.cmd = BOOTSHAKE_CMD_RELEASE,
		.attrs = { A(BOOTSHAKE_A_DEV_ID, 4, 999999) },
		.errs = { ENODEV, ENOENT },
		.bad_type = BOOTSHAKE_A_DEV_ID, .miss_type = -1,
	},
	{
		.name = "device get without a device id",
		.cmd = BOOTSHAKE_CMD_DEV_GET,
		.errs = { EINVAL },
		.bad_type = -1, .miss_type = BOOTSHAKE_A_DEV_ID,
	},
	{
		.name = "release without a device id",
		.cmd = BOOTSHAKE_CMD_RELEASE,
		.errs = { EINVAL },
		.bad_type = -1, .miss_type = BOOTSHAKE_A_DEV_ID,
	},
	{
		.name = "policy get without a kind",
		.cmd = BOOTSHAKE_CMD_POLICY_GET,
		.errs = { EINVAL },
		.bad_type = -1, .miss_type = BOOTSHAKE_A_POLICY_KIND,
	},
	{
		.name = "policy set mode sent as u8 (wrong type/length)",
		.cmd = BOOTSHAKE_CMD_POLICY_SET,
		.attrs = { KIND_BROM, A(BOOTSHAKE_A_POLICY_MODE, 1, 1) },
		.errs = { EINVAL, ERANGE },
		.bad_type = BOOTSHAKE_A_POLICY_MODE, .miss_type = -1,
	},
	{
		.name = "policy set sync deadline as u64 (oversize)",
		.cmd = BOOTSHAKE_CMD_POLICY_SET,
		.attrs = { KIND_BROM,
			   A(BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS, 8, 3000) },
		.errs = { EINVAL, ERANGE },
		.bad_type = BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS, .miss_type = -1,
	},
	{
		.name = "policy set sync deadline 600001 ms (above 10 min)",
		.cmd = BOOTSHAKE_CMD_POLICY_SET,
		.attrs = { KIND_BROM,
			   A(BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS, 4, 600001) },
		.errs = { ERANGE, EINVAL },
		.bad_type = BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS, .miss_type = -1,
	},
	{
		.name = "unknown attribute in a policy set",
		.cmd = BOOTSHAKE_CMD_POLICY_SET,
		.attrs = { KIND_BROM, A(BOOTSHAKE_A_POLICY_MAX + 3, 4, 1) },
		.errs = { EINVAL, EOPNOTSUPP },
		.bad_type = BOOTSHAKE_A_POLICY_MAX + 3, .miss_type = -1,
	},
	{
		.name = "policy set with nothing to set",
		.cmd = BOOTSHAKE_CMD_POLICY_SET,
		.attrs = { KIND_BROM },
		.errs = { EINVAL },
		.bad_type = -1, .miss_type = -1,
	},
	{
		.name = "release with an unknown attribute",
		.cmd = BOOTSHAKE_CMD_RELEASE,
		.attrs = { A(BOOTSHAKE_A_DEV_ID, 4, 999999),
			   A(BOOTSHAKE_A_DEV_ID + 1, 4, 1) },
		.errs = { EINVAL, EOPNOTSUPP },
		.bad_type = BOOTSHAKE_A_DEV_ID + 1, .miss_type = -1,
	},
	{
		.name = "info get with an attribute (it takes none)",
		.cmd = BOOTSHAKE_CMD_INFO_GET,
		.attrs = { A(BOOTSHAKE_A_INFO_VERSION, 4, 1) },
		.errs = { EINVAL },
		.bad_type = BOOTSHAKE_A_INFO_VERSION, .miss_type = -1,
	},
	{
		.name = "reserved nlmsg_flags bit (NLM_F_REPLACE)",
		.cmd = BOOTSHAKE_CMD_POLICY_GET,
		.flags = NLM_F_REPLACE,
		.attrs = { KIND_BROM },
		.errs = { EINVAL },
		.bad_type = -1, .miss_type = -1,
	},
	{
		.name = "genlmsghdr.reserved not 0",
		.cmd = BOOTSHAKE_CMD_ARM,
		.reserved = 0x5a,
		.attrs = { KIND_BROM },
		.errs = { EINVAL },
		.bad_type = -1, .miss_type = -1,
	},
	{
		.name = "transcript dump with the device id as u16",
		.cmd = BOOTSHAKE_CMD_TRANSCRIPT_GET,
		.flags = NLM_F_DUMP,
		.attrs = { A(BOOTSHAKE_A_TR_DEV_ID, 2, 1) },
		.errs = { EINVAL, ERANGE },
		.bad_type = BOOTSHAKE_A_TR_DEV_ID, .miss_type = -1,
	},
	{
		.name = "transcript dump without a device id",
		.cmd = BOOTSHAKE_CMD_TRANSCRIPT_GET,
		.flags = NLM_F_DUMP,
		.errs = { EINVAL },
		.bad_type = -1, .miss_type = -1,
	},
	{
		.name = "transcript dump of a device that does not exist",
		.cmd = BOOTSHAKE_CMD_TRANSCRIPT_GET,
		.flags = NLM_F_DUMP,
		.attrs = { A(BOOTSHAKE_A_TR_DEV_ID, 4, 999999) },
		.errs = { ENODEV, ENOENT },
		.bad_type = -1, .miss_type = -1,
	},
};

TEST_F(raw, malformed_requests)
{
	size_t i, j;

	for (i = 0; i < ARRAY_SIZE(bads); i++) {
		const struct bad *b = &bads[i];
		bool errno_ok = false;
		struct ack a;
		struct req q;

		req_init(&q, self->nl.family, b->cmd, b->flags);
		q.g.reserved = b->reserved;
		for (j = 0; j < ARRAY_SIZE(b->attrs) && b->attrs[j].len; j++) {
			unsigned char v[16] = { 0 };

			memcpy(v, &b->attrs[j].val, 8);
			req_put(&q, b->attrs[j].type, v, b->attrs[j].len);
		}
		ASSERT_EQ(0, raw_send(&self->nl, &q, &a)) {
			TH_LOG("%s: no answer", b->name);
		}
		for (j = 0; j < ARRAY_SIZE(b->errs) && b->errs[j]; j++)
			if (a.err == -b->errs[j])
				errno_ok = true;
		EXPECT_TRUE(errno_ok) {
			TH_LOG("%s: errno %d (%s)", b->name, -a.err,
			       a.err ? strerror(-a.err) : "accepted");
		}
		/* the extended ack says why: a message or the missing type */
		EXPECT_TRUE(a.msg[0] || a.miss_type >= 0) {
			TH_LOG("%s: no extack message", b->name);
		}
		if (b->bad_type >= 0)
			EXPECT_EQ(b->bad_type, a.bad_type) {
				TH_LOG("%s: extack points at attribute %d (\"%s\")",
				       b->name, a.bad_type, a.msg);
			}
		if (b->miss_type >= 0)
			EXPECT_EQ(b->miss_type, a.miss_type) {
				TH_LOG("%s: missing type %d (\"%s\")", b->name,
				       a.miss_type, a.msg);
			}
		TH_LOG("%-50s -> %s: %s%s", b->name,
		       a.err ? strerror(-a.err) : "ok", a.msg,
		       a.miss_type >= 0 ? " [missing attribute]" : "");
	}
}

/* --- an event flood that overflows the monitor's socket ------------------ */

/** struct bg - a helper left running: its output as it comes */
struct bg {
	pid_t pid;
	int ofd, efd;
	size_t olen, elen;
	char out[1 << 18];
	char err[8192];
};

static int bg_start(struct bg *b, char **argv)
{
	memset(b, 0, sizeof(*b));
	b->pid = spawn(argv, 0, NULL, &b->ofd, &b->efd);
	return b->pid > 0 ? 0 : -1;
}

/* Read what there is within @timeout_ms (0: only what is there now). */
static bool bg_read(struct bg *b, int timeout_ms)
{
	struct pollfd p[2] = {
		{ .fd = b->ofd, .events = POLLIN },
		{ .fd = b->efd, .events = POLLIN },
	};
	bool got = false;
	ssize_t n;

	if (poll(p, 2, timeout_ms) <= 0)
		return false;
	if (p[0].revents && b->ofd >= 0) {
		n = read(b->ofd, b->out + b->olen, sizeof(b->out) - 1 - b->olen);
		if (n > 0) {
			b->olen += n;
			got = true;
		} else {
			close(b->ofd);
			b->ofd = -1;
		}
	}
	if (p[1].revents && b->efd >= 0) {
		n = read(b->efd, b->err + b->elen, sizeof(b->err) - 1 - b->elen);
		if (n > 0) {
			b->elen += n;
			got = true;
		} else {
			close(b->efd);
			b->efd = -1;
		}
	}
	b->out[b->olen] = 0;
	b->err[b->elen] = 0;
	return got;
}

/* Offset of @what in stdout at or after @from, reading up to @timeout_ms. */
static long bg_wait(struct bg *b, size_t from, const char *what,
		    int timeout_ms)
{
	long long deadline = bsk_now_ms() + timeout_ms;

	for (;;) {
		char *hit = strstr(b->out + from, what);
		long long left = deadline - bsk_now_ms();

		if (hit)
			return hit - b->out;
		if (left <= 0 || b->ofd < 0)
			return -1;
		bg_read(b, left);
	}
}

/* SIGSTOP, and wait until it really is stopped; then take its output. */
static int bg_stop(struct bg *b)
{
	int st;

	if (kill(b->pid, SIGSTOP) || waitpid(b->pid, &st, WUNTRACED) != b->pid ||
	    !WIFSTOPPED(st))
		return -1;
	while (bg_read(b, 0))
		;
	return 0;
}

/* SIGTERM, all its output, its exit status. */
static int bg_end(struct bg *b)
{
	long long deadline = bsk_now_ms() + 10000LL * bsk_scale();

	kill(b->pid, SIGCONT);
	kill(b->pid, SIGTERM);
	while ((b->ofd >= 0 || b->efd >= 0) && bsk_now_ms() < deadline)
		bg_read(b, deadline - bsk_now_ms());
	if (b->ofd >= 0)
		close(b->ofd);
	if (b->efd >= 0)
		close(b->efd);
	b->ofd = b->efd = -1;
	return reap(b->pid, 5000 * bsk_scale());
}

/** struct pic - the devices a monitor's user believes are there */
struct pic {
	int n;
	struct {
		long long id;
		char state[24];
	} d[16];
	int resyncs;
};

/*
 * Replay "bootshake -j monitor" output as a script would: add, change and
 * exists set a device, remove drops it, resync starts the list over.
 */
static void pic_replay(struct pic *p, char *out)
{
	char *save = NULL, *line;
	int i;

	memset(p, 0, sizeof(*p));
	for (line = strtok_r(out, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line);
		const char *ev = bsk_json_str(o, "event") ?: "";
		long long id = bsk_json_int(o, "id", -1);

		if (!strcmp(ev, "resync")) {
			p->n = 0;
			p->resyncs++;
		}
		for (i = 0; i < p->n && p->d[i].id != id; i++)
			;
		if (!strcmp(ev, "remove") && i < p->n) {
			p->d[i] = p->d[--p->n];
		} else if ((!strcmp(ev, "add") || !strcmp(ev, "change") ||
			    !strcmp(ev, "exists")) && id > 0 &&
			   i < (int)ARRAY_SIZE(p->d)) {
			if (i == p->n)
				p->n++;
			p->d[i].id = id;
			snprintf(p->d[i].state, sizeof(p->d[i].state), "%s",
				 bsk_json_str(o, "state") ?: "?");
		}
		json_object_put(o);
	}
}

static const char *pic_state(const struct pic *p, long long id)
{
	int i;

	for (i = 0; i < p->n; i++)
		if (p->d[i].id == id)
			return p->d[i].state;
	return NULL;
}

/* The text-mode "exists" line of device @id after offset @from, or NULL. */
static char *text_exists(char *out, long from, long long id, char *buf,
			 size_t len)
{
	char want[48];
	char *p;

	snprintf(want, sizeof(want), " exists id=%lld ", id);
	p = strstr(out + from, want);
	if (!p)
		return NULL;
	snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
	return buf;
}

/*
 * Two monitors (JSON and text) with the smallest receive buffer are
 * stopped while the devices change under them: A, seen ready, is released;
 * B is plugged; C is plugged and unplugged.  Far more events than the
 * buffer holds, so the kernel drops some (ENOBUFS).  Continued, each says
 * so ("resync" and a warning), re-reads the list, and what a user or a
 * script following it believes at the end is what is there: A released,
 * B ready, no C.
 */
TEST_F_TIMEOUT(cli, monitor_overflow_resyncs, 300)
{
	char *jargv[] = { (char *)helper(), "-j", "monitor", "--dump",
			  "--rcvbuf", "1", NULL };
	char *targv[] = { (char *)helper(), "monitor", "--dump",
			  "--rcvbuf", "1", NULL };
	static struct bg jm, tm;
	long long id_a, id_b, id_c;
	char path_c[32], line[1024];
	long jmark, tmark, at;
	json_object *ev, *list;
	struct pic pic;
	struct run r;
	size_t i;

	ASSERT_EQ(0, bg_start(&jm, jargv));
	ASSERT_EQ(0, bg_start(&tm, targv));
	ASSERT_LE(0, bg_wait(&jm, 0, "\"dump-done\"", 10000 * bsk_scale()));
	ASSERT_LE(0, bg_wait(&tm, 0, " dump-done ", 10000 * bsk_scale()));

	ev = plug_ready(_metadata, self);
	ASSERT_NE(NULL, ev);
	json_object_put(ev);
	id_a = atoll(self->id);

	ASSERT_EQ(0, bg_stop(&jm));
	ASSERT_EQ(0, bg_stop(&tm));
	jmark = jm.olen;
	tmark = tm.olen;

	/* under the stopped monitors (and release in text mode) */
	ASSERT_EQ(0, run(&r, "release", self->id, NULL)) {
		TH_LOG("%s", r.err);
	}
	EXPECT_EQ(0, strncmp(r.out, "release: device ", 16)) {
		TH_LOG("%s", r.out);
	}
	ev = bsk_mon_wait(&self->mon, self->emu.path, NULL, "released",
			  3000 * bsk_scale());
	ASSERT_NE(NULL, ev);
	json_object_put(ev);
	ASSERT_EQ(0, bsk_emu_start(&self->more[0], "mtk-brom", "dummy_udc.1",
				   NULL));
	ev = bsk_mon_wait(&self->mon, self->more[0].path, NULL, "ready",
			  5000 * bsk_scale());
	ASSERT_NE(NULL, ev);
	id_b = bsk_json_int(ev, "id", -1);
	json_object_put(ev);
	ASSERT_EQ(0, bsk_emu_start(&self->more[1], "mtk-brom", "dummy_udc.2",
				   NULL));
	ev = bsk_mon_wait(&self->mon, self->more[1].path, NULL, "ready",
			  5000 * bsk_scale());
	ASSERT_NE(NULL, ev);
	id_c = bsk_json_int(ev, "id", -1);
	json_object_put(ev);
	snprintf(path_c, sizeof(path_c), "%s", self->more[1].path);
	bsk_emu_stop(&self->more[1]);
	ev = bsk_mon_wait(&self->mon, path_c, "remove", NULL,
			  5000 * bsk_scale());
	ASSERT_NE(NULL, ev);
	json_object_put(ev);

	/* continued: each notices the loss and re-reads the list */
	ASSERT_EQ(0, kill(jm.pid, SIGCONT));
	ASSERT_EQ(0, kill(tm.pid, SIGCONT));
	at = bg_wait(&jm, jmark, "\"event\":\"resync\"", 10000 * bsk_scale());
	ASSERT_LE(0, at) {
		TH_LOG("no resync after the flood: %s%s", jm.out + jmark,
		       jm.err);
	}
	ASSERT_LE(0, bg_wait(&jm, at, "\"dump-done\"", 10000 * bsk_scale()));
	at = bg_wait(&tm, tmark, " resync ", 10000 * bsk_scale());
	ASSERT_LE(0, at) {
		TH_LOG("no resync line: %s%s", tm.out + tmark, tm.err);
	}
	ASSERT_LE(0, bg_wait(&tm, at, " dump-done ", 10000 * bsk_scale()));

	/* the list it ends with is the real one */
	ASSERT_EQ(0, run(&r, "-j", "list", NULL));
	list = r.json;
	r.json = NULL;
	EXPECT_EQ(0, bg_end(&jm));
	EXPECT_EQ(0, bg_end(&tm));
	EXPECT_NE(NULL, strstr(jm.err, "kernel dropped events (ENOBUFS")) {
		TH_LOG("stderr: %s", jm.err);
	}
	EXPECT_NE(NULL, strstr(tm.err, "kernel dropped events (ENOBUFS"));

	pic_replay(&pic, jm.out);
	TH_LOG("json monitor: %d resync(s); believes %d device(s)",
	       pic.resyncs, pic.n);
	EXPECT_LE(1, pic.resyncs);
	EXPECT_STREQ("released", pic_state(&pic, id_a) ?: "(absent)");
	EXPECT_STREQ("ready", pic_state(&pic, id_b) ?: "(absent)");
	EXPECT_EQ(NULL, pic_state(&pic, id_c));
	EXPECT_EQ(2, pic.n);
	ASSERT_NE(NULL, list);
	EXPECT_EQ(pic.n, (int)json_object_array_length(list));
	for (i = 0; i < json_object_array_length(list); i++) {
		json_object *d = json_object_array_get_idx(list, i);

		EXPECT_STREQ(bsk_json_str(d, "state"),
			     pic_state(&pic, bsk_json_int(d, "id", -1)) ?: "");
	}
	json_object_put(list);

	/* text: after its last resync, A released, B ready, no C */
	at = tmark;
	while (strstr(tm.out + at + 1, " resync "))
		at = strstr(tm.out + at + 1, " resync ") - tm.out;
	EXPECT_NE(NULL, strstr(tm.out + at, "events were lost"));
	ASSERT_NE(NULL, text_exists(tm.out, at, id_a, line, sizeof(line))) {
		TH_LOG("text monitor: %s", tm.out + at);
	}
	EXPECT_NE(NULL, strstr(line, " released"));
	ASSERT_NE(NULL, text_exists(tm.out, at, id_b, line, sizeof(line)));
	EXPECT_NE(NULL, strstr(line, " ready"));
	EXPECT_EQ(NULL, text_exists(tm.out, at, id_c, line, sizeof(line)));
}

/* --- event times: the kernel's, not the reader's ------------------------- */

static long long realtime_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/*
 * A monitor that reads late (a loaded lab machine, a stopped pipe) still
 * stamps each event with the time the kernel sent it.  Stop one, plug a
 * device to ready under it, continue it: its add..ready lines carry times
 * from while it was stopped, in order, and "read_ns" from after.
 */
TEST_F_TIMEOUT(cli, monitor_stamps_kernel_time, 120)
{
	char *argv[] = { (char *)helper(), "-j", "monitor", "--dump", NULL };
	long long t0, t1, prev = 0;
	static struct bg m;
	char *line, *save;
	bool ready = false;
	json_object *ev;
	int n = 0;
	long mark;

	ASSERT_EQ(0, bg_start(&m, argv));
	ASSERT_LE(0, bg_wait(&m, 0, "\"dump-done\"", 10000 * bsk_scale()));
	ASSERT_EQ(0, bg_stop(&m));
	mark = m.olen;

	t0 = realtime_ns();
	ev = plug_ready(_metadata, self);	/* seen by the fixture's monitor */
	ASSERT_NE(NULL, ev);
	json_object_put(ev);
	t1 = realtime_ns();

	ASSERT_EQ(0, kill(m.pid, SIGCONT));
	ASSERT_LE(0, bg_wait(&m, mark, "\"state\":\"ready\"",
			     10000 * bsk_scale())) {
		TH_LOG("no ready line: %s%s", m.out + mark, m.err);
	}
	EXPECT_EQ(0, bg_end(&m));

	for (line = strtok_r(m.out + mark, "\n", &save); line && !ready;
	     line = strtok_r(NULL, "\n", &save)) {
		json_object *o = json_tokener_parse(line);
		long long t = bsk_json_int(o, "time_ns", 0);
		long long r = bsk_json_int(o, "read_ns", 0);

		if (!o || strcmp(bsk_json_str(o, "path") ?: "", self->emu.path)) {
			json_object_put(o);
			continue;
		}
		TH_LOG("%-7s %-12s sent %+8.1f ms, read %+8.1f ms (from plug)",
		       bsk_json_str(o, "event"), bsk_json_str(o, "state"),
		       (t - t0) / 1e6, (r - t0) / 1e6);
		EXPECT_LE(t0, t);
		EXPECT_GE(t1, t) {
			TH_LOG("stamped after the monitor was continued");
		}
		EXPECT_LE(prev, t);
		EXPECT_LE(t1, r);
		EXPECT_TRUE(bsk_json_has(o, "timestamp"));
		prev = t;
		n++;
		ready = !strcmp(bsk_json_str(o, "state") ?: "", "ready");
		json_object_put(o);
	}
	EXPECT_TRUE(ready);
	/* add, and at least one change (identifying or ready) */
	EXPECT_LE(2, n);
}

/* --- a device dump interrupted by unplugs -------------------------------- */

/*
 * Long DFU layout strings (94 characters, the module keeps 95): 8 alts of
 * 6 regions make a message of about 3 KiB, most of a dump part.
 */
#define ALT_6	"alt=@Internal Flash, bank 1 and 2/0x08000000/" \
		"04*016Kg,01*064Kg,07*128Kg,04*016Kg,01*064Kg,07*128Kg"
#define DUMP_SEQ	77

/** struct dump_part - what one recv() of a dump brought */
struct dump_part {
	int devs;		/* device messages */
	long long ids[16];
	int sizes[16];
	int len;		/* bytes */
	bool intr;		/* a message flagged NLM_F_DUMP_INTR */
	bool done;
	int err;		/* of NLMSG_DONE / NLMSG_ERROR */
};

static int dump_recv(int fd, struct dump_part *d)
{
	static char buf[4096];
	struct pollfd p = { .fd = fd, .events = POLLIN };
	struct nlmsghdr *h;
	int n;

	memset(d, 0, sizeof(*d));
	if (poll(&p, 1, 5000 * bsk_scale()) <= 0)
		return -ETIMEDOUT;
	/* a 4 KiB buffer: the kernel then builds parts of 4 KiB at most */
	n = recv(fd, buf, sizeof(buf), MSG_TRUNC);
	if (n < 0)
		return -errno;
	if (n > (int)sizeof(buf))
		return -EMSGSIZE;
	d->len = n;
	for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
		struct nlattr *a;
		int alen;

		if (h->nlmsg_seq != DUMP_SEQ)
			continue;
		if (h->nlmsg_flags & NLM_F_DUMP_INTR)
			d->intr = true;
		if (h->nlmsg_type == NLMSG_DONE || h->nlmsg_type == NLMSG_ERROR) {
			d->done = true;
			d->err = *(int *)NLMSG_DATA(h);
			continue;
		}
		if (d->devs == ARRAY_SIZE(d->ids))
			return -E2BIG;
		d->sizes[d->devs] = h->nlmsg_len;
		d->ids[d->devs] = -1;
		a = (struct nlattr *)((char *)NLMSG_DATA(h) + GENL_HDRLEN);
		alen = h->nlmsg_len - NLMSG_LENGTH(GENL_HDRLEN);
		while (alen >= NLA_HDRLEN && a->nla_len >= NLA_HDRLEN &&
		       a->nla_len <= alen) {
			if ((a->nla_type & NLA_TYPE_MASK) == BOOTSHAKE_A_DEV_ID)
				d->ids[d->devs] = *(unsigned int *)(a + 1);
			alen -= NLA_ALIGN(a->nla_len);
			a = (struct nlattr *)((char *)a + NLA_ALIGN(a->nla_len));
		}
		d->devs++;
	}
	return 0;
}

/* A fresh socket (no earlier read has grown its parts) with a dump sent. */
static int dump_start(unsigned short family)
{
	struct req q;
	int fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	if (fd < 0)
		return -1;
	req_init(&q, family, BOOTSHAKE_CMD_DEV_GET, NLM_F_DUMP);
	q.n.nlmsg_flags &= ~NLM_F_ACK;
	q.n.nlmsg_seq = DUMP_SEQ;
	if (send(fd, &q, q.n.nlmsg_len, 0) != (ssize_t)q.n.nlmsg_len) {
		close(fd);
		return -1;
	}
	return fd;
}

/* UDCs of the guest (run-vm.sh --dummy-num; make check boots with 6) */
static int udcs(void)
{
	const char *s = getenv("BSK_DUMMY_NUM");
	int n = s ? atoi(s) : 4;

	return n < 1 + NMORE ? n : 1 + NMORE;
}

/*
 * BROMs and a DFU device whose message (8 long alts) is ten times theirs:
 * on six UDCs the devices do not fit in one dump part (a part is about
 * 3.7 KiB).  The first part is built when the request is sent, the next
 * one when the first has been read: the devices unplugged in between
 * vanish between the parts.  The dump still ends (no error, no crash),
 * sends no device twice, in id order, none of the vanished ones, and says
 * the registry changed under it (NLM_F_DUMP_INTR); the helper's list
 * afterwards has exactly the devices that are left.
 */
TEST_F_TIMEOUT(cli, dump_interrupted_by_unplugs, 300)
{
	const char *const faults[] = {
		ALT_6, ALT_6, ALT_6, ALT_6, ALT_6, ALT_6, ALT_6, ALT_6, NULL
	};
	int n = udcs(), ngot = 0, nparts = 0, first, i, j, fd;
	long long ids[1 + NMORE], got[16];
	char step[16], udc[32], paths[1 + NMORE][32];
	struct bsk_emu *e[1 + NMORE];
	struct raw nl = { .fd = -1 };
	bool intr = false, done = false, sent;
	struct dump_part d, p1;
	struct run r;
	json_object *ev;

	ASSERT_LE(5, n) {
		TH_LOG("needs 5 UDCs or more (run-vm.sh --dummy-num 6)");
	}
	/* a control transfer to the DFU emulator can outlast 100 ms (TCG) */
	snprintf(step, sizeof(step), "%d", 100 * bsk_scale());
	ASSERT_EQ(0, run(&r, "policy", "stm32-dfu", "auto", "--step-timeout",
			 step, NULL)) {
		TH_LOG("%s", r.err);
	}
	/*
	 * In id order: BROMs on dummy_udc.1 and .2, the DFU device on .0
	 * (gadgetfs takes the first free UDC), BROMs on .3 and up.
	 */
	for (i = 0; i < n; i++) {
		int u = i < 2 ? i + 1 : i == 2 ? 0 : i;
		bool dfu = u == 0;

		e[i] = u ? &self->more[u - 1] : &self->emu;
		snprintf(udc, sizeof(udc), "dummy_udc.%d", u);
		ASSERT_EQ(0, bsk_emu_start(e[i], dfu ? "stm32-dfu" : "mtk-brom",
					   udc, dfu ? faults : NULL));
		ev = bsk_mon_wait(&self->mon, e[i]->path, NULL, "ready,failed",
				  8000 * bsk_scale());
		ASSERT_NE(NULL, ev);
		ASSERT_STREQ("ready", bsk_json_str(ev, "state"));
		ids[i] = bsk_json_int(ev, "id", -1);
		snprintf(paths[i], sizeof(paths[i]), "%s", e[i]->path);
		json_object_put(ev);
		if (i)
			ASSERT_LT(ids[i - 1], ids[i]);
	}

	nl.fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_GENERIC);
	ASSERT_LE(0, nl.fd);
	ASSERT_EQ(0, raw_resolve(&nl));
	close(nl.fd);

	/* a quiet dump first: which devices the first part holds */
	fd = dump_start(nl.family);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, dump_recv(fd, &p1));
	for (i = 0; i < p1.devs; i++)
		TH_LOG("part 1: device %lld, %d bytes", p1.ids[i], p1.sizes[i]);
	close(fd);
	ASSERT_FALSE(p1.done);
	ASSERT_LT(p1.devs, n) {
		TH_LOG("all devices fit in one part: nothing to interrupt");
	}
	ASSERT_LE(1, p1.devs);
	first = p1.devs;

	/* the dump; its first part is built already */
	fd = dump_start(nl.family);
	ASSERT_LE(0, fd);
	for (i = first; i < n; i++) {
		bsk_emu_stop(e[i]);
		ev = bsk_mon_wait(&self->mon, paths[i], "remove", NULL,
				  5000 * bsk_scale());
		ASSERT_NE(NULL, ev);
		json_object_put(ev);
	}
	while (!done) {
		ASSERT_EQ(0, dump_recv(fd, &d));
		nparts++;
		TH_LOG("part %d: %d bytes, %d device(s)%s%s", nparts, d.len,
		       d.devs, d.intr ? ", DUMP_INTR" : "",
		       d.done ? ", done" : "");
		ASSERT_LT(nparts, 10);
		for (j = 0; j < d.devs && ngot < (int)ARRAY_SIZE(got); j++)
			got[ngot++] = d.ids[j];
		intr |= d.intr;
		done = d.done;
		EXPECT_EQ(0, d.err);
	}
	close(fd);

	/* each device at most once, in id order; the vanished ones not at all */
	EXPECT_EQ(first, ngot);
	for (i = 1; i < ngot; i++)
		EXPECT_LT(got[i - 1], got[i]);
	for (i = 0; i < n; i++) {
		sent = false;
		for (j = 0; j < ngot; j++)
			sent |= got[j] == ids[i];
		EXPECT_EQ(i < first, sent) {
			TH_LOG("device %lld (%s)", ids[i], paths[i]);
		}
	}
	EXPECT_TRUE(intr);

	/* what the helper lists now */
	ASSERT_EQ(0, run(&r, "-j", "list", NULL));
	EXPECT_EQ(first, (int)json_object_array_length(r.json));
	for (i = 0; i < n; i++)
		EXPECT_EQ(i < first, !!bsk_json_find_path(r.json, paths[i]));
	run_free(&r);
}

/* --- diagnose on each cause, from a real handshake ---------------------- */

/** struct cause - an emulated device whose handshake shows one cause */
struct cause {
	const char *code;		/* the finding diagnose must give */
	const char *personality;
	const char *faults[4];
	const char *policy;		/* of the kind, or NULL */
	const char *states;		/* where the device settles */
	bool release;			/* then release it */
};

static const struct cause causes[] = {
	/* a0 echoed unchanged: the BROM was already in its command loop */
	{ "already-synced", "mtk-brom", { "already_synced" }, NULL,
	  "ready,failed", false },
	/*
	 * the reply to 0a is lost: the BROM waits for 50 and answers the
	 * restarted sync's a0 with a1 (bootshake's own byte moved it on)
	 */
	{ "sync-restart", "mtk-brom", { "drop=2" }, NULL,
	  "ready,failed", false },
	/* READY banners: a generic driver set the line up */
	{ "ready-banner", "mtk-brom", { "stale=524541445952454144590a" },
	  NULL, "ready,failed", false },
	/* no byte ever comes back */
	{ "no-reply", "mtk-brom", { "silent" }, NULL, "ready,failed", false },
	/* bytes that fit no rule before the first reply */
	{ "noise", "mtk-brom", { "garbage=24" }, NULL, "ready,failed", false },
	{ "watchdog-refused", "mtk-brom", { "wdt=refuse" }, NULL,
	  "ready,failed", false },
	{ "watchdog-timeout", "mtk-brom", { "wdt=hang" }, NULL,
	  "ready,failed", false },
	/* dfuERROR that CLRSTATUS never clears */
	{ "dfu-error", "stm32-dfu", { "state=10", "status=14", "clr_never" },
	  NULL, "ready,failed", false },
	{ "watching", "mtk-brom", { NULL }, "watch", "watching", false },
	{ "released", "mtk-brom", { NULL }, NULL, "ready", true },
};

/*
 * Each cause diagnose names, produced by an emulated device and read from
 * the module's own transcript and state: the finding's code, its cause and
 * fix in words, in JSON and in text.
 */
TEST_F_TIMEOUT(cli, diagnose_each_cause, 600)
{
	char step[16], path[32], kind[32];
	json_object *ev, *f;
	struct run r;
	size_t i, j;
	bool found;

	/*
	 * Under TCG a reply can outlast the 100 ms step: a late "10 01" would
	 * read as a watchdog timeout, not a refusal.  Scaled, as in the
	 * scenario tests (the teardown puts the deadlines back).
	 */
	snprintf(step, sizeof(step), "%d", 100 * bsk_scale());
	ASSERT_EQ(0, run(&r, "policy", "stm32-dfu", "auto", "--step-timeout",
			 step, NULL));
	ASSERT_EQ(0, run(&r, "policy", "mtk-brom", "auto", "--step-timeout",
			 step, NULL));
	for (i = 0; i < ARRAY_SIZE(causes); i++) {
		const struct cause *c = &causes[i];

		snprintf(kind, sizeof(kind), "%s", c->personality);
		ASSERT_EQ(0, run(&r, "policy", kind, c->policy ?: "auto",
				 NULL)) {
			TH_LOG("%s", r.err);
		}
		ev = plug(_metadata, self, c->personality, c->faults,
			  c->states, 10000 * bsk_scale());
		ASSERT_NE(NULL, ev) {
			TH_LOG("%s: the device did not settle", c->code);
		}
		TH_LOG("%-17s device %s ended %s", c->code, self->id,
		       bsk_json_str(ev, "state"));
		json_object_put(ev);
		if (c->release) {
			ASSERT_EQ(0, run(&r, "release", self->id, NULL));
			ev = bsk_mon_wait(&self->mon, self->emu.path, NULL,
					  "released", 3000 * bsk_scale());
			ASSERT_NE(NULL, ev);
			json_object_put(ev);
		}

		ASSERT_EQ(0, run(&r, "-j", "diagnose", self->id, NULL));
		f = jget(r.json, "findings");
		found = false;
		for (j = 0; f && j < json_object_array_length(f); j++) {
			json_object *x = json_object_array_get_idx(f, j);

			if (strcmp(bsk_json_str(x, "code") ?: "", c->code))
				continue;
			found = true;
			EXPECT_TRUE(jis(x, "severity", json_type_string));
			EXPECT_NE(0, (int)strlen(bsk_json_str(x, "cause") ?: ""));
			EXPECT_NE(0, (int)strlen(bsk_json_str(x, "fix") ?: ""));
			EXPECT_NE(0, (int)strlen(bsk_json_str(x, "evidence") ?: ""));
		}
		EXPECT_TRUE(found) {
			TH_LOG("%s: not among the findings: %s", c->code,
			       r.out);
		}
		run_free(&r);
		ASSERT_EQ(0, run(&r, "diagnose", self->emu.path, NULL));
		EXPECT_NE(NULL, strstr(r.out, c->code)) {
			TH_LOG("%s: text: %s", c->code, r.out);
		}
		EXPECT_NE(NULL, strstr(r.out, "cause: "));
		EXPECT_NE(NULL, strstr(r.out, "fix: "));

		snprintf(path, sizeof(path), "%s", self->emu.path);
		bsk_emu_stop(&self->emu);
		ev = bsk_mon_wait(&self->mon, path, "remove", NULL,
				  5000 * bsk_scale());
		ASSERT_NE(NULL, ev);
		json_object_put(ev);
	}
}

/* --- --help and the man page cover every command and option -------------- */

/* Every "--option" in @text (once each) into @opts; returns how many. */
static int long_opts(const char *text, char opts[][32], int max)
{
	const char *p = text;
	int n = 0, i;

	while ((p = strstr(p, "--")) && n < max) {
		size_t len = strspn(p + 2, "abcdefghijklmnopqrstuvwxyz-");
		bool dup = false;

		if (len) {
			snprintf(opts[n], sizeof(opts[n]), "%.*s",
				 (int)len + 2, p);
			for (i = 0; i < n; i++)
				dup |= !strcmp(opts[i], opts[n]);
			if (!dup)
				n++;
		}
		p += 2 + len;
	}
	return n;
}

/* @s with each "-" as troff writes it, "\-". */
static void troff(const char *s, char *buf, size_t len)
{
	size_t n = 0;

	for (; *s && n + 3 < len; s++) {
		if (*s == '-')
			buf[n++] = '\\';
		buf[n++] = *s;
	}
	buf[n] = 0;
}

FIXTURE(docs) {
	int unused;
};

FIXTURE_SETUP(docs)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(docs)
{
}

/*
 * Every command is in --help with a paragraph in bootshake(8); "help CMD"
 * and "CMD --help" agree; every long option any help names is in the man
 * page.
 */
TEST_F_TIMEOUT(docs, help_and_man_page_cover_every_command, 300)
{
	long long t0 = bsk_now_ms();
	static const char * const cmds[] = {
		"list", "show", "monitor", "policy", "arm", "retry",
		"release", "transcript", "diagnose", "version", "help",
	};
	static char man[1 << 17];
	char file[512], want[80], opts[40][32];
	struct run r, h;
	size_t i;
	int fd, n, k, len = 0;

	snprintf(file, sizeof(file), "%s/Documentation/bootshake.8",
		 bsk_repo());
	fd = open(file, O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, fd);
	while ((n = read(fd, man + len, sizeof(man) - 1 - len)) > 0)
		len += n;
	close(fd);
	man[len] = 0;

	ASSERT_EQ(0, run(&r, "--help", NULL));
	for (i = 0; i < ARRAY_SIZE(cmds); i++) {
		snprintf(want, sizeof(want), "\n  %s", cmds[i]);
		EXPECT_NE(NULL, strstr(r.out, want)) {
			TH_LOG("--help lacks %s", cmds[i]);
		}
		/* a tagged paragraph of its own in COMMANDS */
		snprintf(want, sizeof(want), ".TP\n.B %s\n", cmds[i]);
		if (!strstr(man, want))
			snprintf(want, sizeof(want), ".TP\n.BI %s ", cmds[i]);
		if (!strstr(man, want))
			snprintf(want, sizeof(want), ".TP\n.BR %s ", cmds[i]);
		if (!strstr(man, want))
			snprintf(want, sizeof(want), "\\fB%s\\fR", cmds[i]);
		EXPECT_NE(NULL, strstr(man, want)) {
			TH_LOG("bootshake.8 has no paragraph for %s", cmds[i]);
		}

		/* its own help, both ways, and every option of it in the man */
		ASSERT_EQ(0, run(&h, "help", cmds[i], NULL));
		EXPECT_NE(0, (int)strlen(h.out));
		if (strcmp(cmds[i], "help")) {
			char again[sizeof(h.out)];

			snprintf(again, sizeof(again), "%s", h.out);
			EXPECT_EQ(0, run(&h, cmds[i], "--help", NULL));
			EXPECT_STREQ(again, h.out);
		}
		n = long_opts(h.out, opts, ARRAY_SIZE(opts));
		for (k = 0; k < n; k++) {
			troff(opts[k], want, sizeof(want));
			EXPECT_NE(NULL, strstr(man, want)) {
				TH_LOG("bootshake.8 lacks %s %s", cmds[i],
				       opts[k]);
			}
		}
	}
	TH_LOG("%zu commands checked in %lld ms", ARRAY_SIZE(cmds),
	       bsk_now_ms() - t0);
	/* and the global options */
	n = long_opts(r.out, opts, ARRAY_SIZE(opts));
	for (k = 0; k < n; k++) {
		troff(opts[k], want, sizeof(want));
		EXPECT_NE(NULL, strstr(man, want)) {
			TH_LOG("bootshake.8 lacks %s", opts[k]);
		}
	}
}

TEST_HARNESS_MAIN
