// SPDX-License-Identifier: GPL-2.0
/*
 * Lab automation: `bootshake monitor --exec CMD` runs a job per device
 * that becomes ready (issue 10).
 *
 * Each test starts `bootshake -j monitor --dump --exec JOB ...`, plugs
 * emulated MediaTek BROMs (each with its own hw_code) into the dummy UDCs
 * and checks the jobs from both sides: what the job scripts recorded
 * under a scratch directory in /tmp (their environment, their stdin, their
 * start and end times) and the monitor's "job-start", "job-exit" and
 * "job-cancel" events.
 *
 *   many_devices_two_at_a_time  8 devices, one per UDC (run-vm.sh
 *       --dummy-num 8, as `make check` boots the guest), --jobs 2:
 *       each job got its own device's identity (BOOTSHAKE_ID, _PATH,
 *       _HW_CODE, _CHIP ... and the JSON on stdin), never more than 2
 *       ran at once, jobs started in the order the devices became ready,
 *       all completed with their exit codes.
 *   device_gone_mid_job  --jobs 2 --grace 1: a job that handles SIGTERM
 *       ends with its own exit code a grace period after the unplug, one
 *       that ignores it is killed by SIGKILL a grace period later, both
 *       "job-exit" with device_gone; a queued job whose device leaves is
 *       cancelled ("job-cancel", cause device-gone).
 *   release_and_journal  --release --kind mtk-brom --journal: the job
 *       finds the device released (no driver on its interface) and the
 *       journal gets job-start / job-exit entries with their fields.
 *   kind_filter  --kind stm32-dfu,mtk-preloader: a BROM gets no job.
 *   one_device_once  the systemd unit's command (--dump --device ID
 *       --once): the job's exit status is the monitor's; an absent
 *       device ends it at once; SIGTERM to a monitor ends its job too.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "bsk_test.h"

#define MAX_DEVS	8
#define MAX_EVENTS	512
#define MAX_ARGS	32

/* hw_codes the module's table names (kmod/mtk.c), one per device */
static const struct {
	unsigned int	hw_code;
	const char	*chip;
} chips[MAX_DEVS] = {
	{ 0x0766, "MT6765" }, { 0x0717, "MT6761" }, { 0x0788, "MT6771" },
	{ 0x0707, "MT6768" }, { 0x0813, "MT6785" }, { 0x0690, "MT6763" },
	{ 0x0699, "MT6739" }, { 0x0551, "MT6757" },
};

/* --- the monitor under test ---------------------------------------------- */

/** struct jmon - a running `bootshake -j monitor --exec ...`, its events */
struct jmon {
	pid_t pid;
	int fd;			/* its stdout */
	char buf[1 << 16];
	size_t len;
	json_object *ev[MAX_EVENTS];	/* every line so far, parsed */
	int nev;
};

static pid_t spawn(char *const argv[], const char *env, int *out)
{
	int p[2];
	pid_t pid;

	if (pipe2(p, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (env)
			putenv((char *)env);
		dup2(p[1], 1);
		execv(argv[0], argv);
		_exit(127);
	}
	close(p[1]);
	*out = p[0];
	return pid;
}

/* Wait up to @ms for @pid; SIGKILL it after that. Exit status or 128+sig. */
static int reap(pid_t pid, int ms)
{
	long long end = bsk_now_ms() + ms;
	int st;

	while (waitpid(pid, &st, WNOHANG) == 0) {
		if (bsk_now_ms() > end) {
			kill(pid, SIGKILL);
			waitpid(pid, &st, 0);
			return -1;
		}
		usleep(20000);
	}
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Read what is there (up to @ms for the first byte); false on EOF/timeout. */
static bool jm_pump(struct jmon *m, int ms)
{
	struct pollfd p = { .fd = m->fd, .events = POLLIN };
	char *nl;
	ssize_t r;

	if (poll(&p, 1, ms) <= 0)
		return false;
	r = read(m->fd, m->buf + m->len, sizeof(m->buf) - 1 - m->len);
	if (r <= 0)
		return false;
	m->len += r;
	while ((nl = memchr(m->buf, '\n', m->len))) {
		*nl = 0;
		fprintf(stderr, "# monitor: %s\n", m->buf);
		if (m->nev < MAX_EVENTS)
			m->ev[m->nev++] = json_tokener_parse(m->buf);
		m->len -= nl + 1 - m->buf;
		memmove(m->buf, nl + 1, m->len);
	}
	if (m->len == sizeof(m->buf) - 1)
		m->len = 0;
	return true;
}

/* argv after "bootshake -j monitor --dump", NULL-terminated; @env or NULL */
static int jm_start(struct jmon *m, const char *env, const char *arg, ...)
{
	char *argv[MAX_ARGS];
	long long end;
	va_list ap;
	int n = 0, i;

	memset(m, 0, sizeof(*m));
	m->pid = -1;
	argv[n++] = (char *)bsk_helper_path();
	argv[n++] = "-j";
	argv[n++] = "monitor";
	argv[n++] = "--dump";
	va_start(ap, arg);
	for (; arg && n < MAX_ARGS - 1; arg = va_arg(ap, const char *))
		argv[n++] = (char *)arg;
	va_end(ap);
	argv[n] = NULL;

	m->pid = spawn(argv, env, &m->fd);
	if (m->pid <= 0)
		return -1;
	/* plug only after the dump: the group is joined by then */
	end = bsk_now_ms() + 10000LL * bsk_scale();
	while (bsk_now_ms() < end) {
		for (i = 0; i < m->nev; i++)
			if (m->ev[i] && !strcmp(bsk_json_str(m->ev[i], "event") ?: "",
						"dump-done"))
				return 0;
		jm_pump(m, end - bsk_now_ms());
	}
	fprintf(stderr, "# the monitor never finished its dump\n");
	return -1;
}

/* SIGTERM and reap; its exit status. The events stay (jm_free()). */
static int jm_stop(struct jmon *m)
{
	int st;

	if (m->pid <= 0)
		return -1;
	kill(m->pid, SIGTERM);
	/* its jobs get SIGTERM, then SIGKILL a grace period later */
	st = reap(m->pid, 15000 * bsk_scale());
	while (jm_pump(m, 0))
		;
	close(m->fd);
	m->pid = -1;
	return st;
}

static void jm_free(struct jmon *m)
{
	int i;

	for (i = 0; i < m->nev; i++)
		json_object_put(m->ev[i]);
	m->nev = 0;
}

/*
 * The @nth (0-based) event named @event (NULL: any) for device @id (< 0:
 * any) or path @path (NULL: any) with state @state (NULL: any).
 */
static json_object *jm_find(struct jmon *m, const char *event, long long id,
			    const char *path, const char *state, int nth)
{
	int i;

	for (i = 0; i < m->nev; i++) {
		json_object *o = m->ev[i];
		const char *e = bsk_json_str(o, "event");
		const char *p = bsk_json_str(o, "path");
		const char *s = bsk_json_str(o, "state");

		if (!o || (event && (!e || strcmp(e, event))) ||
		    (id >= 0 && bsk_json_int(o, "id", -1) != id) ||
		    (path && (!p || strcmp(p, path))) ||
		    (state && (!s || strcmp(s, state))))
			continue;
		if (nth-- == 0)
			return o;
	}
	return NULL;
}

static int jm_count(struct jmon *m, const char *event)
{
	int n = 0;

	while (jm_find(m, event, -1, NULL, NULL, n))
		n++;
	return n;
}

/* Wait up to @ms for jm_find(...) (borrowed reference). */
static json_object *jm_wait(struct jmon *m, const char *event, long long id,
			    const char *path, const char *state, int ms)
{
	long long end = bsk_now_ms() + ms;
	json_object *o;

	while (!(o = jm_find(m, event, id, path, state, 0)) &&
	       bsk_now_ms() < end)
		jm_pump(m, end - bsk_now_ms());
	return o;
}

/* Wait up to @ms until @n events named @event have arrived. */
static bool jm_wait_count(struct jmon *m, const char *event, int n, int ms)
{
	long long end = bsk_now_ms() + ms;

	while (jm_count(m, event) < n && bsk_now_ms() < end)
		jm_pump(m, end - bsk_now_ms());
	return jm_count(m, event) >= n;
}

/* A device's first event in state ready (change, add, exists) by path. */
static json_object *jm_ready(struct jmon *m, const char *path, int ms)
{
	long long end = bsk_now_ms() + ms;

	for (;;) {
		json_object *o = jm_find(m, NULL, -1, path, "ready", 0);
		const char *e = bsk_json_str(o, "event");

		if (o && (!strcmp(e, "change") || !strcmp(e, "add") ||
			  !strcmp(e, "exists")))
			return o;
		if (bsk_now_ms() >= end)
			return NULL;
		jm_pump(m, end - bsk_now_ms());
	}
}

/* --- the scratch directory and the job's records ------------------------- */

static void write_file(const char *path, const char *text, int mode)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return;
	fputs(text, f);
	fclose(f);
	chmod(path, mode);
}

static bool read_file(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	buf[0] = 0;
	if (!f)
		return false;
	n = fread(buf, 1, len - 1, f);
	buf[n] = 0;
	fclose(f);
	return true;
}

/*
 * KEY's value in the output of dash's `export -p` (export KEY='value'
 * lines; our values have no quotes in them); NULL if missing.
 */
static const char *env_get(const char *env, const char *key, char *buf,
			   size_t len)
{
	size_t k = strlen(key);
	const char *p = env;

	while (p && *p) {
		if (!strncmp(p, "export ", 7))
			p += 7;
		if (!strncmp(p, key, k) && p[k] == '=') {
			const char *v = p + k + 1;
			size_t n = strcspn(v, "\n");

			if (*v == '\'' && n >= 2 && v[n - 1] == '\'') {
				v++;
				n -= 2;
			}
			snprintf(buf, len, "%.*s", (int)n, v);
			return buf;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return NULL;
}

static bool file_exists(const char *dir, const char *what, long long id)
{
	char path[256];

	snprintf(path, sizeof(path), "%s/%s.%lld", dir, what, id);
	return !access(path, F_OK);
}

static void rm_rf(const char *dir)
{
	char path[512];
	struct dirent *de;
	DIR *d = opendir(dir);

	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		unlink(path);
	}
	closedir(d);
	rmdir(dir);
}

/* How many dummy UDCs the guest has (run-vm.sh --dummy-num). */
static int udcs(void)
{
	char path[64];
	int n = 0;

	for (;;) {
		snprintf(path, sizeof(path), "/sys/class/udc/dummy_udc.%d", n);
		if (access(path, F_OK))
			return n;
		n++;
	}
}

/* --- fixture ------------------------------------------------------------ */

FIXTURE(jobs) {
	struct bsk_emu emu[MAX_DEVS];
	int nemu;
	struct jmon mon;
	char dir[64];
	char job[160];		/* dir/job.sh */
	char gate[160];		/* dir/gate, a FIFO the jobs wait on */
	int gate_fd;
	int kmsg;
};

FIXTURE_SETUP(jobs)
{
	int i;

	for (i = 0; i < MAX_DEVS; i++)
		self->emu[i].pid = -1;
	self->nemu = 0;
	self->mon.pid = -1;
	self->gate_fd = -1;
	self->kmsg = bsk_kmsg_mark();
	snprintf(self->dir, sizeof(self->dir), "/tmp/bsk-jobs.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->dir));
	/*
	 * Up to 8 devices and their jobs at once under TCG: an identity
	 * command answered after the 100 ms step deadline is skipped (no
	 * hw_code).  Give the steps the time a slow host would.
	 */
	ASSERT_EQ(0, bsk_cli("policy", "mtk-brom", "--step-timeout", "1000",
			     NULL));
	snprintf(self->job, sizeof(self->job), "%s/job.sh", self->dir);
	snprintf(self->gate, sizeof(self->gate), "%s/gate", self->dir);
}

FIXTURE_TEARDOWN(jobs)
{
	int i;

	for (i = 0; i < self->nemu; i++)
		if (self->emu[i].pid > 0)
			bsk_emu_stop(&self->emu[i]);
	jm_stop(&self->mon);
	jm_free(&self->mon);
	if (self->gate_fd >= 0)
		close(self->gate_fd);
	rm_rf(self->dir);
	EXPECT_EQ(0, bsk_policy_restore("mtk-brom", NULL, 0, 0, false));
	EXPECT_EQ(0, bsk_kmsg_splats(self->kmsg));
}

/* Plug a BROM with chips[@i]'s hw_code into dummy_udc.@i. */
static int plug(FIXTURE_DATA(jobs) *self, int i)
{
	char udc[32], fault[32];
	const char *faults[] = { fault, NULL };

	snprintf(udc, sizeof(udc), "dummy_udc.%d", i);
	snprintf(fault, sizeof(fault), "hw_code=0x%04x", chips[i].hw_code);
	if (self->nemu <= i)
		self->nemu = i + 1;
	return bsk_emu_start(&self->emu[i], "mtk-brom", udc, faults);
}

static void unplug(FIXTURE_DATA(jobs) *self, int i)
{
	bsk_emu_stop(&self->emu[i]);
}

/* The gate: a FIFO the test holds open; each line lets one job go on. */
static int gate_open(FIXTURE_DATA(jobs) *self)
{
	if (mkfifo(self->gate, 0600))
		return -1;
	self->gate_fd = open(self->gate, O_RDWR | O_CLOEXEC);
	return self->gate_fd < 0 ? -1 : 0;
}

static void gate_release(FIXTURE_DATA(jobs) *self, int n)
{
	while (n-- > 0)
		if (write(self->gate_fd, "go\n", 3) != 3)
			break;
}

/* --- tests -------------------------------------------------------------- */

/*
 * The job: "start ID" to the log, its environment and stdin to files named
 * after BOOTSHAKE_ID; then it waits for its line on the gate, writes
 * "end ID" and exits with BOOTSHAKE_ID % 7.  Shell builtins only: in the
 * TCG guest every exec from the 9p root costs about a second.  The log's
 * lines are appended (O_APPEND) at the jobs' real start and end: its order
 * is the order in which they happened.
 */
static const char job_records[] =
	"#!/bin/sh\n"
	"d=${0%/*}\n"
	"id=$BOOTSHAKE_ID\n"
	"echo \"start $id\" >>\"$d/log\"\n"
	"export -p >\"$d/env.$id\"\n"
	"IFS= read -r json\n"
	"printf '%s\\n' \"$json\" >\"$d/stdin.$id\"\n"
	"read -r _ <\"$d/gate\"\n"
	"echo \"end $id\" >>\"$d/log\"\n"
	"exit $((id % 7))\n";

TEST_F_TIMEOUT(jobs, many_devices_two_at_a_time, 150)
{
	int n = udcs(), i, k, running, max_running, starts, ends;
	char cmd[200], path[256], text[4096], v[256], *line, *save;
	long long id[MAX_DEVS];

	if (n < MAX_DEVS)
		SKIP(return, "needs %d dummy UDCs (run-vm.sh --dummy-num %d), the guest has %d",
		     MAX_DEVS, MAX_DEVS, n);
	n = MAX_DEVS;
	write_file(self->job, job_records, 0755);
	ASSERT_EQ(0, gate_open(self));
	snprintf(cmd, sizeof(cmd), "exec %s", self->job);
	ASSERT_EQ(0, jm_start(&self->mon, NULL, "--exec", cmd, "--jobs", "2",
			      NULL));

	/* every device ready: two jobs run (at the gate), the rest queue */
	for (i = 0; i < n; i++) {
		json_object *ev;

		ASSERT_EQ(0, plug(self, i));
		ev = jm_ready(&self->mon, self->emu[i].path, 5000 * bsk_scale());
		ASSERT_NE(NULL, ev) {
			TH_LOG("device %d (%s) never became ready", i,
			       self->emu[i].path);
		}
		id[i] = bsk_json_int(ev, "id", -1);
	}
	ASSERT_TRUE(jm_wait_count(&self->mon, "job-start", 2,
				  5000 * bsk_scale()));
	/* a third would start right after the event that freed a slot */
	while (jm_pump(&self->mon, 300 * bsk_scale()))
		;
	EXPECT_EQ(2, jm_count(&self->mon, "job-start"));
	EXPECT_EQ(0, jm_count(&self->mon, "job-exit"));

	gate_release(self, n);
	ASSERT_TRUE(jm_wait_count(&self->mon, "job-exit", n,
				  (2000 + 1000 * n) * bsk_scale())) {
		TH_LOG("%d of %d jobs ended", jm_count(&self->mon, "job-exit"),
		       n);
	}

	/* never more than 2 at once, as the monitor tells it */
	running = max_running = 0;
	for (k = 0; k < self->mon.nev; k++) {
		const char *e = bsk_json_str(self->mon.ev[k], "event");

		if (!e)
			continue;
		if (!strcmp(e, "job-start")) {
			running++;
			EXPECT_GE(2, bsk_json_int(self->mon.ev[k], "running", 99));
		} else if (!strcmp(e, "job-exit")) {
			running--;
		}
		if (running > max_running)
			max_running = running;
	}
	EXPECT_EQ(2, max_running);
	EXPECT_EQ(0, jm_count(&self->mon, "job-cancel"));

	for (i = 0; i < n; i++) {
		json_object *st, *ex, *in, *mtk = NULL;

		/* FIFO: the i-th device to become ready had the i-th job */
		st = jm_find(&self->mon, "job-start", -1, NULL, NULL, i);
		ASSERT_NE(NULL, st);
		EXPECT_EQ(id[i], bsk_json_int(st, "id", -1));
		EXPECT_EQ(i + 1, bsk_json_int(st, "job", -1));
		EXPECT_STREQ(self->emu[i].path, bsk_json_str(st, "path"));
		EXPECT_GT(bsk_json_int(st, "job_pid", 0), 0);

		ex = jm_find(&self->mon, "job-exit", id[i], NULL, NULL, 0);
		ASSERT_NE(NULL, ex);
		EXPECT_EQ(i + 1, bsk_json_int(ex, "job", -1));
		EXPECT_EQ(id[i] % 7, bsk_json_int(ex, "exit_code", -1));
		EXPECT_TRUE(bsk_json_has(ex, "signal"));
		EXPECT_EQ(NULL, bsk_json_str(ex, "signal"));
		EXPECT_FALSE(bsk_json_bool(ex, "device_gone"));
		EXPECT_LE(0, bsk_json_int(ex, "duration_ms", -1));

		/* the identity the job was given is its own device's */
		snprintf(path, sizeof(path), "%s/env.%lld", self->dir, id[i]);
		ASSERT_TRUE(read_file(path, text, sizeof(text))) {
			TH_LOG("job of device %lld left no %s", id[i], path);
		}
		snprintf(v, sizeof(v), "%lld", id[i]);
		EXPECT_STREQ(v, env_get(text, "BOOTSHAKE_ID", v, sizeof(v)) ?: "");
		EXPECT_STREQ(self->emu[i].path,
			     env_get(text, "BOOTSHAKE_PATH", v, sizeof(v)) ?: "");
		EXPECT_STREQ("mtk-brom",
			     env_get(text, "BOOTSHAKE_KIND", v, sizeof(v)) ?: "");
		EXPECT_STREQ("ready",
			     env_get(text, "BOOTSHAKE_STATE", v, sizeof(v)) ?: "");
		EXPECT_STREQ("0e8d", env_get(text, "BOOTSHAKE_VID", v, sizeof(v)) ?: "");
		EXPECT_STREQ("0003", env_get(text, "BOOTSHAKE_PID", v, sizeof(v)) ?: "");
		EXPECT_STREQ(chips[i].chip,
			     env_get(text, "BOOTSHAKE_CHIP", v, sizeof(v)) ?: "");
		env_get(text, "BOOTSHAKE_HW_CODE", v, sizeof(v));
		EXPECT_EQ(chips[i].hw_code, strtoul(v, NULL, 16));
		snprintf(v, sizeof(v), "%d", i + 1);
		EXPECT_STREQ(v, env_get(text, "BOOTSHAKE_JOB", v, sizeof(v)) ?: "");
		EXPECT_NE(NULL, env_get(text, "BOOTSHAKE_DEVNAME", v, sizeof(v)));
		EXPECT_EQ(0, access(v, F_OK)) {
			TH_LOG("BOOTSHAKE_DEVNAME=%s does not exist", v);
		}

		/* its stdin: the device's JSON */
		snprintf(path, sizeof(path), "%s/stdin.%lld", self->dir, id[i]);
		ASSERT_TRUE(read_file(path, text, sizeof(text)));
		in = json_tokener_parse(text);
		ASSERT_NE(NULL, in) {
			TH_LOG("stdin of job %d is not JSON: %s", i + 1, text);
		}
		EXPECT_EQ(id[i], bsk_json_int(in, "id", -1));
		EXPECT_STREQ(self->emu[i].path, bsk_json_str(in, "path"));
		EXPECT_STREQ("ready", bsk_json_str(in, "state"));
		EXPECT_TRUE(json_object_object_get_ex(in, "mtk", &mtk));
		EXPECT_EQ(chips[i].hw_code, bsk_json_int(mtk, "hw_code", -1));
		json_object_put(in);
	}

	/* never more than 2 at once, as the jobs themselves saw it */
	snprintf(path, sizeof(path), "%s/log", self->dir);
	ASSERT_TRUE(read_file(path, text, sizeof(text)));
	running = max_running = starts = ends = 0;
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		if (!strncmp(line, "start ", 6)) {
			starts++;
			running++;
		} else if (!strncmp(line, "end ", 4)) {
			ends++;
			running--;
		}
		if (running > max_running)
			max_running = running;
	}
	EXPECT_EQ(n, starts);
	EXPECT_EQ(n, ends);
	EXPECT_EQ(2, max_running);
}

/*
 * 0x0766 (device 0): handles SIGTERM, exits 7.  0x0717 (device 1): ignores
 * it, only SIGKILL ends it.  0x0788 (device 2): queued behind them.
 */
static const char job_stubborn[] =
	"#!/bin/sh\n"
	"d=${0%/*}\n"
	"case $BOOTSHAKE_HW_CODE in\n"
	"0x0766) trap 'echo TERM >\"$d/term.$BOOTSHAKE_ID\"; exit 7' TERM ;;\n"
	"*) trap '' TERM ;;\n"
	"esac\n"
	"sleep 60 &\n"
	"wait $!\n";

TEST_F_TIMEOUT(jobs, device_gone_mid_job, 120)
{
	json_object *a, *b, *c, *rm_a, *rm_b;
	long long ida, idb, idc, dt;
	const int grace_ms = 1000;
	char cmd[200];

	if (udcs() < 3)
		SKIP(return, "needs 3 dummy UDCs");
	write_file(self->job, job_stubborn, 0755);
	snprintf(cmd, sizeof(cmd), "exec %s", self->job);
	ASSERT_EQ(0, jm_start(&self->mon, NULL, "--exec", cmd, "--jobs", "2",
			      "--grace", "1", NULL));
	ASSERT_EQ(0, plug(self, 0));
	ASSERT_EQ(0, plug(self, 1));
	ASSERT_TRUE(jm_wait_count(&self->mon, "job-start", 2,
				  5000 * bsk_scale()));
	ASSERT_EQ(0, plug(self, 2));
	c = jm_ready(&self->mon, self->emu[2].path, 5000 * bsk_scale());
	ASSERT_NE(NULL, c);
	idc = bsk_json_int(c, "id", -1);
	ida = bsk_json_int(jm_find(&self->mon, "job-start", -1,
				   self->emu[0].path, NULL, 0), "id", -1);
	idb = bsk_json_int(jm_find(&self->mon, "job-start", -1,
				   self->emu[1].path, NULL, 0), "id", -1);
	ASSERT_LT(0, ida);
	ASSERT_LT(0, idb);

	/* the queued one leaves: cancelled, never started */
	unplug(self, 2);
	c = jm_wait(&self->mon, "job-cancel", idc, NULL, NULL,
		    5000 * bsk_scale());
	ASSERT_NE(NULL, c);
	EXPECT_STREQ("device-gone", bsk_json_str(c, "cause"));
	EXPECT_TRUE(bsk_json_bool(c, "device_gone"));
	EXPECT_EQ(3, bsk_json_int(c, "job", -1));
	EXPECT_EQ(NULL, jm_find(&self->mon, "job-start", idc, NULL, NULL, 0));

	/* the running ones leave: SIGTERM after 1 s, SIGKILL 1 s later */
	unplug(self, 0);
	unplug(self, 1);
	a = jm_wait(&self->mon, "job-exit", ida, NULL, NULL,
		    (4 * grace_ms + 5000) * bsk_scale());
	b = jm_wait(&self->mon, "job-exit", idb, NULL, NULL,
		    (4 * grace_ms + 5000) * bsk_scale());
	ASSERT_NE(NULL, a);
	ASSERT_NE(NULL, b);
	rm_a = jm_find(&self->mon, "remove", ida, NULL, NULL, 0);
	rm_b = jm_find(&self->mon, "remove", idb, NULL, NULL, 0);
	ASSERT_NE(NULL, rm_a);
	ASSERT_NE(NULL, rm_b);

	EXPECT_TRUE(bsk_json_bool(a, "device_gone"));
	EXPECT_EQ(7, bsk_json_int(a, "exit_code", -1));
	EXPECT_EQ(NULL, bsk_json_str(a, "signal"));
	EXPECT_STREQ("SIGTERM", bsk_json_str(a, "sent_signal"));
	EXPECT_STREQ("gone", bsk_json_str(a, "state"));
	/* its trap ran */
	EXPECT_TRUE(file_exists(self->dir, "term", ida));
	dt = (bsk_json_int(a, "time_ns", 0) - bsk_json_int(rm_a, "time_ns", 0)) /
	     1000000;
	TH_LOG("SIGTERM-handling job ended %lld ms after its device left", dt);
	EXPECT_GE(dt, grace_ms - 20);
	EXPECT_LT(dt, grace_ms + 2000 * bsk_scale());

	EXPECT_TRUE(bsk_json_bool(b, "device_gone"));
	EXPECT_TRUE(bsk_json_has(b, "exit_code"));
	EXPECT_EQ(-1, bsk_json_int(b, "exit_code", -1));
	EXPECT_STREQ("SIGKILL", bsk_json_str(b, "signal"));
	EXPECT_STREQ("SIGKILL", bsk_json_str(b, "sent_signal"));
	dt = (bsk_json_int(b, "time_ns", 0) - bsk_json_int(rm_b, "time_ns", 0)) /
	     1000000;
	TH_LOG("SIGTERM-ignoring job ended %lld ms after its device left", dt);
	EXPECT_GE(dt, 2 * grace_ms - 20);
	EXPECT_LT(dt, 2 * grace_ms + 2000 * bsk_scale());
	EXPECT_GE(bsk_json_int(b, "duration_ms", 0), 2 * grace_ms - 20);

	/* every job ended in exactly one event */
	EXPECT_EQ(2, jm_count(&self->mon, "job-start"));
	EXPECT_EQ(2, jm_count(&self->mon, "job-exit"));
	EXPECT_EQ(1, jm_count(&self->mon, "job-cancel"));
}

/* "KEY=value" field of a journal native-protocol datagram */
static const char *jfield(const char *entry, const char *key, char *buf,
			  size_t len)
{
	char pat[80];
	const char *p;

	snprintf(pat, sizeof(pat), "\n%s=", key);
	if (!strncmp(entry, pat + 1, strlen(pat) - 1))
		p = entry + strlen(pat) - 1;
	else if ((p = strstr(entry, pat)))
		p += strlen(pat);
	else
		return NULL;
	snprintf(buf, len, "%.*s", (int)strcspn(p, "\n"), p);
	return buf;
}

static const char job_released[] =
	"#!/bin/sh\n"
	"d=${0%/*}\n"
	"export -p >\"$d/env.$BOOTSHAKE_ID\"\n"
	"if [ -e \"/sys/bus/usb/devices/$BOOTSHAKE_PATH:1.0/driver\" ]; then\n"
	"	echo bound >\"$d/driver.$BOOTSHAKE_ID\"\n"
	"else\n"
	"	echo unbound >\"$d/driver.$BOOTSHAKE_ID\"\n"
	"fi\n";

TEST_F_TIMEOUT(jobs, release_and_journal, 90)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char env[160], entry[8192], start[8192] = "", exitent[8192] = "";
	char path[256], text[4096], v[256];
	json_object *ready, *st, *ex, *show;
	long long id, deadline;
	int fd, rc;

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/journal", self->dir);
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, bind(fd, (struct sockaddr *)&sa, sizeof(sa)));
	snprintf(env, sizeof(env), "BOOTSHAKE_JOURNAL_SOCKET=%s", sa.sun_path);

	write_file(self->job, job_released, 0755);
	ASSERT_EQ(0, jm_start(&self->mon, env, "--exec", self->job, "--release",
			      "--kind", "mtk-brom", "--journal", NULL));
	ASSERT_EQ(0, plug(self, 0));
	ready = jm_ready(&self->mon, self->emu[0].path, 5000 * bsk_scale());
	ASSERT_NE(NULL, ready);
	id = bsk_json_int(ready, "id", -1);
	ex = jm_wait(&self->mon, "job-exit", id, NULL, NULL, 5000 * bsk_scale());
	ASSERT_NE(NULL, ex);
	st = jm_find(&self->mon, "job-start", id, NULL, NULL, 0);
	ASSERT_NE(NULL, st);
	EXPECT_TRUE(bsk_json_bool(st, "released"));
	EXPECT_STREQ("released", bsk_json_str(st, "state"));
	EXPECT_EQ(0, bsk_json_int(ex, "exit_code", -1));
	/* the kernel's "released" change event */
	EXPECT_NE(NULL, jm_wait(&self->mon, "change", id, NULL, "released",
				2000 * bsk_scale()));

	/* the job ran with the device released: no driver on it */
	snprintf(path, sizeof(path), "%s/env.%lld", self->dir, id);
	ASSERT_TRUE(read_file(path, text, sizeof(text)));
	EXPECT_STREQ("released",
		     env_get(text, "BOOTSHAKE_STATE", v, sizeof(v)) ?: "");
	snprintf(path, sizeof(path), "%s/driver.%lld", self->dir, id);
	ASSERT_TRUE(read_file(path, text, sizeof(text)));
	EXPECT_STREQ("unbound\n", text);
	snprintf(v, sizeof(v), "%lld", id);
	show = bsk_cli_json(&rc, "show", v, NULL);
	EXPECT_EQ(0, rc);
	EXPECT_STREQ("released", bsk_json_str(show, "state"));
	json_object_put(show);

	/* the journal: job-start and job-exit with their fields */
	deadline = bsk_now_ms() + 3000LL * bsk_scale();
	while ((!start[0] || !exitent[0]) && bsk_now_ms() < deadline) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		if (poll(&p, 1, deadline - bsk_now_ms()) <= 0)
			break;
		n = recv(fd, entry, sizeof(entry) - 1, 0);
		if (n <= 0)
			break;
		entry[n] = 0;
		if (!jfield(entry, "BOOTSHAKE_EVENT", v, sizeof(v)))
			continue;
		if (!strcmp(v, "job-start"))
			snprintf(start, sizeof(start), "%s", entry);
		else if (!strcmp(v, "job-exit"))
			snprintf(exitent, sizeof(exitent), "%s", entry);
	}
	jm_stop(&self->mon);	/* before its journal goes */
	close(fd);
	ASSERT_NE(0, start[0]);
	ASSERT_NE(0, exitent[0]);
	TH_LOG("journal: %.*s", (int)strcspn(exitent, "\n"), exitent);
	snprintf(text, sizeof(text), "%lld", id);
	EXPECT_STREQ(text, jfield(start, "BOOTSHAKE_ID", v, sizeof(v)) ?: "");
	EXPECT_STREQ("1", jfield(start, "BOOTSHAKE_JOB", v, sizeof(v)) ?: "");
	EXPECT_NE(NULL, jfield(start, "BOOTSHAKE_JOB_PID", v, sizeof(v)));
	EXPECT_STREQ("6", jfield(start, "PRIORITY", v, sizeof(v)) ?: "");
	EXPECT_STREQ("0", jfield(exitent, "BOOTSHAKE_EXIT_CODE", v, sizeof(v)) ?: "");
	EXPECT_STREQ("0", jfield(exitent, "BOOTSHAKE_DEVICE_GONE", v, sizeof(v)) ?: "");
	EXPECT_NE(NULL, jfield(exitent, "BOOTSHAKE_DURATION_MS", v, sizeof(v)));
	EXPECT_EQ(NULL, jfield(exitent, "BOOTSHAKE_SIGNAL", v, sizeof(v)));
	EXPECT_STREQ("6", jfield(exitent, "PRIORITY", v, sizeof(v)) ?: "");
	EXPECT_NE(NULL, jfield(exitent, "MESSAGE", v, sizeof(v)));
	EXPECT_EQ(0, strncmp(v, "job-exit id=", 12));
}

TEST_F_TIMEOUT(jobs, kind_filter, 60)
{
	json_object *ready;

	write_file(self->job, "#!/bin/sh\nexit 0\n", 0755);
	ASSERT_EQ(0, jm_start(&self->mon, NULL, "--exec", self->job, "--kind",
			      "stm32-dfu,mtk-preloader", NULL));
	ASSERT_EQ(0, plug(self, 0));
	ready = jm_ready(&self->mon, self->emu[0].path, 5000 * bsk_scale());
	ASSERT_NE(NULL, ready);
	while (jm_pump(&self->mon, 500 * bsk_scale()))
		;
	EXPECT_EQ(0, jm_count(&self->mon, "job-start"));
}

/* `bootshake -j monitor --dump ARGS...` to its end: status, JSON lines */
static int run_monitor(struct jmon *m, int ms, const char *arg, ...)
{
	char *argv[MAX_ARGS];
	va_list ap;
	int n = 0;

	memset(m, 0, sizeof(*m));
	argv[n++] = (char *)bsk_helper_path();
	argv[n++] = "-j";
	argv[n++] = "monitor";
	argv[n++] = "--dump";
	va_start(ap, arg);
	for (; arg && n < MAX_ARGS - 1; arg = va_arg(ap, const char *))
		argv[n++] = (char *)arg;
	va_end(ap);
	argv[n] = NULL;
	m->pid = spawn(argv, NULL, &m->fd);
	if (m->pid <= 0)
		return -1;
	while (jm_pump(m, ms))
		;
	close(m->fd);
	n = reap(m->pid, 1000);
	m->pid = -1;
	return n;
}

TEST_F_TIMEOUT(jobs, one_device_once, 90)
{
	struct jmon run;
	json_object *ready, *ex;
	long long id;
	char ids[16];
	int rc;

	ASSERT_EQ(0, plug(self, 0));
	ASSERT_EQ(0, jm_start(&self->mon, NULL, "--exec", "sleep 60",
			      "--kind", "mtk-brom", NULL));
	ready = jm_ready(&self->mon, self->emu[0].path, 5000 * bsk_scale());
	if (!ready) {
		/* ready before the monitor's dump: it had it as "exists" */
		ready = jm_find(&self->mon, "exists", -1, self->emu[0].path,
				"ready", 0);
	}
	ASSERT_NE(NULL, ready);
	id = bsk_json_int(ready, "id", -1);
	snprintf(ids, sizeof(ids), "%lld", id);
	ASSERT_NE(NULL, jm_wait(&self->mon, "job-start", id, NULL, NULL,
				3000 * bsk_scale()));

	/* what bootshake-job@.service runs: the job's status is ours */
	rc = run_monitor(&run, 10000 * bsk_scale(), "--exec",
			 "read -r j; case $j in *'\"state\":\"ready\"'*) exit 3;; esac",
			 "--device", ids, "--once", NULL);
	EXPECT_EQ(3, rc);
	ex = jm_find(&run, "job-exit", id, NULL, NULL, 0);
	ASSERT_NE(NULL, ex);
	EXPECT_EQ(3, bsk_json_int(ex, "exit_code", -1));
	EXPECT_EQ(1, jm_count(&run, "job-start"));
	jm_free(&run);

	/* by path, and a job killed by a signal: 128 + N */
	rc = run_monitor(&run, 10000 * bsk_scale(), "--exec", "kill -USR1 $$",
			 "--device", self->emu[0].path, "--once", NULL);
	EXPECT_EQ(128 + SIGUSR1, rc);
	ex = jm_find(&run, "job-exit", id, NULL, NULL, 0);
	ASSERT_NE(NULL, ex);
	EXPECT_STREQ("SIGUSR1", bsk_json_str(ex, "signal"));
	jm_free(&run);

	/* nothing there: it ends at once, no job */
	rc = run_monitor(&run, 10000 * bsk_scale(), "--exec", "exit 9",
			 "--device", "999999", "--once", NULL);
	EXPECT_EQ(0, rc);
	EXPECT_EQ(0, jm_count(&run, "job-start"));
	jm_free(&run);

	/* a monitor that ends ends its jobs: SIGTERM, recorded */
	EXPECT_EQ(0, jm_stop(&self->mon));
	ex = jm_find(&self->mon, "job-exit", id, NULL, NULL, 0);
	ASSERT_NE(NULL, ex);
	EXPECT_STREQ("SIGTERM", bsk_json_str(ex, "sent_signal"));
	EXPECT_STREQ("SIGTERM", bsk_json_str(ex, "signal"));
	EXPECT_FALSE(bsk_json_bool(ex, "device_gone"));
}

TEST_HARNESS_MAIN
