// SPDX-License-Identifier: GPL-2.0
/*
 * bench - the in-guest half of "make bench" (see run.sh and
 * Documentation/benchmarks.rst).  Runs every contender against the same
 * emulated devices and prints raw measurements as "BENCH {json}" lines;
 * report.py on the host turns them into the table and out/bench.json.
 *
 *   bench [--plugs1 N] [--rounds8 N] [--rounds32 N] [--pings N]
 *         [--plugs-preloader N]
 *         [--contenders LIST] [--personality P] [--udev-rules debian|none]
 *         [--dump-logs]
 *
 * Every timestamp comes from bsk-emu's --log (guest CLOCK_MONOTONIC):
 * connect (UDC bound), enable (SET_CONFIGURATION), rx/tx, sync-done.  The
 * contenders do not time themselves.
 *
 * A plug: bsk-emu is started with nobody acting on the device (bootshake
 * policy off, contender not running), pulled (SIGUSR1), the contender is
 * armed (policy auto / program started and "listening"), then the cable
 * goes in (SIGUSR2; for N devices at once, N signals back to back).  The
 * emulated BROM keeps its sync state across a replug, so every emulator
 * plays one plug and is then replaced.
 *
 * Must run as root in the test guest (selftests/vm/run-vm.sh --dummy-num 32)
 * with bootshake.ko loaded and cdc_acm not loaded.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>

#include "bsk_test.h"

#define MAX_EMU		32
#define LOG_DIR		"/tmp/bench"

enum contender { C_BOOTSHAKE, C_LIBUSB, C_TTY, C_NR };

static const char *const cname[C_NR] = { "bootshake", "libusb", "tty" };

struct emu {
	pid_t pid;
	int out_fd;
	int idx;
	char udc[32];
	char path[32];
	char log[PATH_MAX];
	off_t mark;		/* log size before the measured plug */
	/* bootshake monitor, for this plug (CLOCK_REALTIME ns, 0 = none) */
	long long mon_sync, mon_ready;
	char mon_state[16];
};

/* one plug, from the emulator log segment after the mark */
struct seg {
	long long connect, enable, rx0, t1, t2;
	long long lost;		/* preloader: listen/sync window ran out */
	int rx, tx, errors;
	bool unplugged;
};

struct child {
	pid_t pid;
	int out_fd;
	char buf[8192];
	size_t len;
};

static struct {
	int plugs1, rounds8, rounds32, pings, plugs_pl;
	bool run[C_NR];
	const char *personality;
	int ndummy;
	int scale;
	char repo[1024];
	char bin[256];		/* private copies of every program used */
	char ko[512];
	char emu_bin[PATH_MAX];
	int ino;		/* inotify on LOG_DIR */
	struct child mon;	/* bootshake -j monitor */
	bool bootshake_loaded, cdc_acm_loaded;
	pid_t udevd_pid;
	bool udev_no_rules;
	bool dump_logs;
	int failures;
} g;

static struct emu emus[MAX_EMU];

/* ------------------------------------------------------------------ */

static long long mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static long long ms_left(long long deadline_ns)
{
	long long l = (deadline_ns - mono_ns()) / 1000000;

	return l > 0 ? l : 0;
}

static void note(const char *fmt, ...)
{
	va_list ap;

	printf("# ");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

static void emit(json_object *o)
{
	printf("BENCH %s\n", json_object_to_json_string_ext(o,
			JSON_C_TO_STRING_PLAIN));
	fflush(stdout);
	json_object_put(o);
}

static json_object *rec(const char *type)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "t", json_object_new_string(type));
	return o;
}

static void add_i(json_object *o, const char *k, long long v)
{
	json_object_object_add(o, k, json_object_new_int64(v));
}

static void add_s(json_object *o, const char *k, const char *v)
{
	json_object_object_add(o, k, json_object_new_string(v));
}

/* ------------------------------------------------------------------ */
/* processes                                                           */

static pid_t spawn(char *const argv[], int *out_fd)
{
	int out[2] = { -1, -1 };
	pid_t pid;

	if (out_fd && pipe2(out, O_CLOEXEC))
		return -1;
	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		int null = open("/dev/null", O_RDWR);

		dup2(null, 0);
		if (out_fd)
			dup2(out[1], 1);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (out_fd) {
		close(out[1]);
		*out_fd = out[0];
	}
	return pid;
}

/* Wait for @pid at most @ms, then SIGKILL; exit status, -1, rusage. */
static int reap(pid_t pid, long long ms, struct rusage *ru)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	struct rusage r;
	int st;

	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };

		if (poll(&p, 1, (int)ms) == 0) {
			note("pid %d did not exit in %lld ms, killing", pid, ms);
			kill(pid, SIGKILL);
		}
		close(pidfd);
	}
	if (wait4(pid, &st, 0, &r) != pid)
		return -1;
	if (ru)
		*ru = r;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/* Run a command quietly; exit status. */
static int run_cmd(const char *arg0, ...)
{
	char *argv[16];
	va_list ap;
	int n = 0, out, st;
	char buf[4096];
	pid_t pid;

	argv[n++] = (char *)arg0;
	va_start(ap, arg0);
	while (n < 15 && (argv[n] = va_arg(ap, char *)))
		n++;
	va_end(ap);
	argv[n] = NULL;
	pid = spawn(argv, &out);
	if (pid < 0)
		return -1;
	while (read(out, buf, sizeof(buf)) > 0)
		;
	close(out);
	st = reap(pid, 60000LL * g.scale, NULL);
	return st;
}

/*
 * Read one line from @c into @line within @deadline; 1 = line, 0 =
 * timeout, -1 = EOF.
 */
static int child_line(struct child *c, char *line, size_t len,
		      long long deadline)
{
	for (;;) {
		char *nl = memchr(c->buf, '\n', c->len);
		struct pollfd p = { .fd = c->out_fd, .events = POLLIN };
		ssize_t n;

		if (nl) {
			size_t l = (size_t)(nl - c->buf);

			snprintf(line, len, "%.*s", (int)l, c->buf);
			memmove(c->buf, nl + 1, c->len - l - 1);
			c->len -= l + 1;
			return 1;
		}
		if (c->len == sizeof(c->buf))
			c->len = 0;	/* overlong line: drop */
		if (poll(&p, 1, (int)ms_left(deadline)) <= 0)
			return 0;
		n = read(c->out_fd, c->buf + c->len, sizeof(c->buf) - c->len);
		if (n <= 0)
			return -1;
		c->len += (size_t)n;
	}
}

/* ------------------------------------------------------------------ */
/* guest state                                                         */

static long long cpu_busy_ticks(void)
{
	unsigned long long v[10] = { 0 };
	char buf[512];
	FILE *f = fopen("/proc/stat", "r");

	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	if (sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) < 4)
		return -1;
	/* all but idle (3) and iowait (4) */
	return (long long)(v[0] + v[1] + v[2] + v[5] + v[6] + v[7]);
}

static long long meminfo_kb(const char *key)
{
	char line[256];
	size_t kl = strlen(key);
	long long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, key, kl) && line[kl] == ':') {
			v = atoll(line + kl + 1);
			break;
		}
	}
	fclose(f);
	return v;
}

static json_object *mem_snapshot(void)
{
	static const char *const keys[] = { "Slab", "SUnreclaim",
		"SReclaimable", "KernelStack", "PageTables", "MemFree",
		"MemAvailable", NULL };
	json_object *o = json_object_new_object();
	int fd, i;

	sync();
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "3", 1) != 1)
			note("drop_caches failed");
		close(fd);
	}
	usleep(200000);
	for (i = 0; keys[i]; i++)
		add_i(o, keys[i], meminfo_kb(keys[i]));
	return o;
}

/* Unbound kworkers alive (bootshake's handshake work runs on them). */
static int count_kworkers(void)
{
	DIR *d = opendir("/proc");
	struct dirent *de;
	int n = 0;

	while (d && (de = readdir(d))) {
		char p[64], comm[32] = "";
		int fd;

		if (de->d_name[0] < '1' || de->d_name[0] > '9')
			continue;
		snprintf(p, sizeof(p), "/proc/%.20s/comm", de->d_name);
		fd = open(p, O_RDONLY | O_CLOEXEC);
		if (fd < 0)
			continue;
		if (read(fd, comm, sizeof(comm) - 1) > 0 &&
		    !strncmp(comm, "kworker/u", 9))
			n++;
		close(fd);
	}
	if (d)
		closedir(d);
	return n;
}

/* CLOCK_REALTIME - CLOCK_MONOTONIC, sampled tightly, as one record. */
static void emit_clock_offset(const char *when)
{
	long long best_span = LLONG_MAX, off = 0;
	int i;

	for (i = 0; i < 20; i++) {
		struct timespec a, r, b;
		long long an, bn, rn;

		clock_gettime(CLOCK_MONOTONIC, &a);
		clock_gettime(CLOCK_REALTIME, &r);
		clock_gettime(CLOCK_MONOTONIC, &b);
		an = a.tv_sec * 1000000000LL + a.tv_nsec;
		bn = b.tv_sec * 1000000000LL + b.tv_nsec;
		rn = r.tv_sec * 1000000000LL + r.tv_nsec;
		if (bn - an < best_span) {
			best_span = bn - an;
			off = rn - (an + bn) / 2;
		}
	}
	json_object *o = rec("clock");

	add_s(o, "when", when);
	add_i(o, "mono", mono_ns());
	add_i(o, "real_minus_mono", off);
	add_i(o, "span_ns", best_span);
	emit(o);
}

/* ------------------------------------------------------------------ */
/* emulators                                                           */

static off_t file_size(const char *p)
{
	struct stat st;

	return stat(p, &st) ? 0 : st.st_size;
}

static int emu_start(struct emu *e, int idx, const char *tag,
		     const char *fault)
{
	char *argv[16];
	int n = 0;

	memset(e, 0, sizeof(*e));
	e->idx = idx;
	snprintf(e->udc, sizeof(e->udc), "dummy_udc.%d", idx);
	if (bsk_udc_path(e->udc, e->path, sizeof(e->path)))
		return -1;
	snprintf(e->log, sizeof(e->log), LOG_DIR "/%s-%d.log", tag, idx);
	unlink(e->log);
	argv[n++] = g.emu_bin;
	argv[n++] = "--personality";
	argv[n++] = (char *)g.personality;
	argv[n++] = "--udc";
	argv[n++] = e->udc;
	argv[n++] = "--log";
	argv[n++] = e->log;
	if (fault) {
		argv[n++] = "--fault";
		argv[n++] = (char *)fault;
	}
	argv[n] = NULL;
	e->pid = spawn(argv, &e->out_fd);
	return e->pid > 0 ? 0 : -1;
}

/* Does bsk-emu --help list personality @name? */
static bool emu_has_personality(const char *name)
{
	char *argv[] = { g.emu_bin, "--help", NULL };
	char buf[65536], want[64];
	size_t len = 0;
	ssize_t n;
	int fd;
	pid_t pid;

	snprintf(want, sizeof(want), "personality %s ", name);
	pid = spawn(argv, &fd);
	if (pid < 0)
		return false;
	while (len < sizeof(buf) - 1 &&
	       (n = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += (size_t)n;
	buf[len] = 0;
	close(fd);
	reap(pid, 10000, NULL);
	return strstr(buf, want) != NULL;
}

/* Wait for "ready" on each emulator's stdout. */
static int emu_wait_ready(struct emu *v, int n, long long ms)
{
	long long deadline = mono_ns() + ms * 1000000LL;
	bool ready[MAX_EMU] = { false };
	int left = n, i;

	while (left) {
		struct pollfd p[MAX_EMU];
		int np = 0, idx[MAX_EMU];

		for (i = 0; i < n; i++) {
			if (ready[i])
				continue;
			p[np].fd = v[i].out_fd;
			p[np].events = POLLIN;
			idx[np++] = i;
		}
		if (poll(p, np, (int)ms_left(deadline)) <= 0)
			break;
		for (i = 0; i < np; i++) {
			char buf[256];
			ssize_t r;

			if (!p[i].revents)
				continue;
			r = read(p[i].fd, buf, sizeof(buf) - 1);
			if (r <= 0) {
				note("%s: emulator died before ready",
				     v[idx[i]].udc);
				return -1;
			}
			buf[r] = 0;
			if (strstr(buf, "ready")) {
				ready[idx[i]] = true;
				left--;
			}
		}
	}
	if (left)
		note("%d emulators never became ready", left);
	return left ? -1 : 0;
}

/* Is there a line "<ns> @word..." in @e's log after its mark? */
static bool log_has(struct emu *e, const char *word)
{
	char line[512];
	size_t wl = strlen(word);
	bool found = false;
	FILE *f = fopen(e->log, "r");

	if (!f)
		return false;
	fseeko(f, e->mark, SEEK_SET);
	while (!found && fgets(line, sizeof(line), f)) {
		char *sp = strchr(line, ' ');

		found = sp && !strncmp(sp + 1, word, wl) &&
			(sp[1 + wl] == '\n' || sp[1 + wl] == ' ');
	}
	fclose(f);
	return found;
}

/* Wait until every emulator in @v logged @word after its mark. */
static int emu_wait_log(struct emu *v, int n, const char *word, long long ms)
{
	long long deadline = mono_ns() + ms * 1000000LL;
	bool seen[MAX_EMU] = { false };
	int left = n, i;
	char buf[8192];

	for (;;) {
		for (i = 0; i < n; i++) {
			if (!seen[i] && log_has(&v[i], word)) {
				seen[i] = true;
				left--;
			}
		}
		if (!left)
			return 0;
		struct pollfd p = { .fd = g.ino, .events = POLLIN };

		if (poll(&p, 1, (int)ms_left(deadline)) <= 0)
			break;
		while (read(g.ino, buf, sizeof(buf)) > 0)
			;
	}
	note("%d emulators did not log '%s' in time", left, word);
	return -1;
}

static void emu_signal(struct emu *v, int n, int sig)
{
	int i;

	for (i = 0; i < n; i++)
		kill(v[i].pid, sig);
}

static void emu_mark(struct emu *v, int n)
{
	int i;

	for (i = 0; i < n; i++)
		v[i].mark = file_size(v[i].log);
}

static void emu_stop_all(struct emu *v, int n)
{
	int i;

	emu_signal(v, n, SIGTERM);
	for (i = 0; i < n; i++) {
		reap(v[i].pid, 10000LL * g.scale, NULL);
		close(v[i].out_fd);
		unlink(v[i].log);
	}
}

/* Print @e's log after its mark as "LOG <udc> <line>" lines. */
static void dump_log(struct emu *e)
{
	char line[512];
	FILE *f = fopen(e->log, "r");

	if (!f)
		return;
	fseeko(f, e->mark, SEEK_SET);
	while (fgets(line, sizeof(line), f))
		printf("LOG %s %s", e->udc, line);
	fclose(f);
	fflush(stdout);
}

static void seg_parse(struct emu *e, struct seg *s)
{
	char line[512];
	FILE *f = fopen(e->log, "r");

	memset(s, 0, sizeof(*s));
	if (!f)
		return;
	fseeko(f, e->mark, SEEK_SET);
	while (fgets(line, sizeof(line), f)) {
		long long ns = atoll(line);
		char *ev = strchr(line, ' ');

		if (g.dump_logs)
			printf("LOG %s %s", e->udc, line);
		if (!ev)
			continue;
		ev++;
		if (!strncmp(ev, "connect", 7) && !s->connect)
			s->connect = ns;
		else if (!strncmp(ev, "enable", 6) && !s->enable)
			s->enable = ns;
		else if (!strncmp(ev, "rx ", 3)) {
			if (!s->rx0)
				s->rx0 = ns;
			s->rx++;
		} else if (!strncmp(ev, "tx ", 3)) {
			s->tx++;
			if (s->t1)
				s->t2 = ns;	/* last reply after the sync */
		} else if (!strncmp(ev, "sync-done", 9) && !s->t1) {
			s->t1 = ns;
		} else if (!strncmp(ev, "error", 5) ||
			   !strncmp(ev, "txlost", 6)) {
			s->errors++;
		} else if (!strncmp(ev, "unplug", 6)) {
			s->unplugged = true;
			break;
		} else if ((!strncmp(ev, "listen timeout", 14) ||
			    !strncmp(ev, "boot-on", 7)) && !s->lost) {
			s->lost = ns;
		}
	}
	fclose(f);
}

/* ------------------------------------------------------------------ */
/* contenders                                                          */

static void mon_start(void)
{
	char bin[PATH_MAX];
	char *argv[] = { bin, "-j", "monitor", NULL };

	snprintf(bin, sizeof(bin), "%s/bootshake", g.bin);
	memset(&g.mon, 0, sizeof(g.mon));
	g.mon.pid = spawn(argv, &g.mon.out_fd);
}

/*
 * Did the device leave for good (a preloader's window ran out, the
 * emulator left the bus or exited)?  Checked twice a second while
 * waiting, not on every log line, to keep the runner quiet.
 */
static bool emu_lost(struct emu *e)
{
	return log_has(e, "listen timeout") || log_has(e, "boot-on") ||
	       log_has(e, "gone") || log_has(e, "exit");
}

#define TICK_NS 500000000LL

/* Read monitor lines until @deadline or every emulator in @v is done. */
static int mon_wait(struct emu *v, int n, long long deadline)
{
	char line[8192];
	int i;

	for (;;) {
		long long tick = mono_ns() + TICK_NS;
		int done = 0, r;

		for (i = 0; i < n; i++)
			done += !strcmp(v[i].mon_state, "ready") ||
				!strcmp(v[i].mon_state, "failed") ||
				!strcmp(v[i].mon_state, "lost");
		if (done == n)
			break;
		r = child_line(&g.mon, line, sizeof(line),
			       tick < deadline ? tick : deadline);
		if (r < 0) {
			note("monitor: ended");
			return -1;
		}
		if (r == 0) {
			if (mono_ns() >= deadline) {
				note("monitor: timeout");
				return -1;
			}
			for (i = 0; i < n; i++)
				if (!v[i].mon_state[0] ||
				    strcmp(v[i].mon_state, "ready"))
					if (emu_lost(&v[i]))
						strcpy(v[i].mon_state, "lost");
			continue;
		}
		json_object *o = json_tokener_parse(line);
		const char *path = bsk_json_str(o, "path");
		const char *state = bsk_json_str(o, "state");
		/* when the user learnt it: read_ns (time_ns is the kernel's) */
		long long t = bsk_json_int(o, "read_ns",
					   bsk_json_int(o, "time_ns", 0));

		for (i = 0; path && state && i < n; i++) {
			if (strcmp(v[i].path, path) ||
			    !strcmp(v[i].mon_state, "lost"))
				continue;
			snprintf(v[i].mon_state, sizeof(v[i].mon_state), "%s",
				 state);
			if (!strcmp(state, "identifying") && !v[i].mon_sync)
				v[i].mon_sync = t;
			if (!strcmp(state, "ready") && !v[i].mon_ready)
				v[i].mon_ready = t;
			if (!strcmp(state, "failed"))
				note("bootshake: %s failed: %s", path,
				     bsk_json_str(o, "reason") ?: "?");
		}
		json_object_put(o);
	}
	for (i = 0; i < n; i++)
		if (strcmp(v[i].mon_state, "ready"))
			return -1;
	return 0;
}

static int policy(const char *mode)
{
	char bin[PATH_MAX];
	int st;

	snprintf(bin, sizeof(bin), "%s/bootshake", g.bin);
	st = run_cmd(bin, "policy", g.personality, mode, NULL);
	if (st)
		note("bootshake policy %s %s: exit %d", g.personality, mode, st);
	return st;
}

static const char *udevd_bin(void)
{
	static const char *const cand[] = { "/lib/systemd/systemd-udevd",
		"/usr/lib/systemd/systemd-udevd", "/sbin/udevd", NULL };
	int i;

	for (i = 0; cand[i]; i++)
		if (!access(cand[i], X_OK))
			return cand[i];
	return NULL;
}

/*
 * udevadm settle refuses to work in a chroot: wait for udevd's queue
 * flag file to go away instead (between measurements only).
 */
static void udev_settle(void)
{
	long long deadline = mono_ns() + 30000000000LL * g.scale;

	usleep(100000);
	while (!access("/run/udev/queue", F_OK) && mono_ns() < deadline)
		usleep(20000);
}

/* Mask a rules file by a same-named empty file in /run/udev/rules.d. */
static void udev_mask(const char *name)
{
	char p[PATH_MAX];
	int fd;

	snprintf(p, sizeof(p), "/run/udev/rules.d/%s", name);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd >= 0)
		close(fd);
}

/*
 * libusb as Debian builds it gets hotplug events from udevd, so the
 * libusb contender needs one, as on any desktop or lab machine.  Module
 * autoloading is masked (80-drivers.rules would load cdc_acm for the
 * BROM); with --udev-rules none every rules file is masked, which leaves
 * the bare relay: the best case for the libusb path.
 */
static int udevd_start(void)
{
	static const char *const dirs[] = { "/lib/udev/rules.d",
		"/usr/lib/udev/rules.d", "/etc/udev/rules.d", NULL };
	const char *bin = udevd_bin();
	char *argv[] = { (char *)bin, NULL };
	int i;

	if (!bin) {
		note("no systemd-udevd: libusb hotplug cannot work");
		return -1;
	}
	mkdir("/run/udev", 0755);
	mkdir("/run/udev/rules.d", 0755);
	udev_mask("80-drivers.rules");
	for (i = 0; g.udev_no_rules && dirs[i]; i++) {
		DIR *d = opendir(dirs[i]);
		struct dirent *de;

		while (d && (de = readdir(d)))
			if (strstr(de->d_name, ".rules"))
				udev_mask(de->d_name);
		if (d)
			closedir(d);
	}
	g.udevd_pid = spawn(argv, NULL);
	if (g.udevd_pid <= 0)
		return -1;
	/* listening once its control socket exists; then let it idle */
	for (i = 0; i < 1000 && access("/run/udev/control", F_OK); i++)
		usleep(20000);
	usleep(1000000);
	udev_settle();
	return 0;
}

/* Bring the guest into the state contender @c needs (others' undone). */
/* A preloader personality is being benchmarked. */
static bool window_case(void);

/*
 * cdc_acm refuses the emulated preloader as it is ("Zero length
 * descriptor references"): FunctionFS cannot carry the CDC union
 * descriptor a real preloader has, and 0e8d:2000's static entry has no
 * NO_UNION_NORMAL quirk.  A dynamic id whose driver_info is taken from
 * cdc_acm's own 0e8d:0003 entry (NO_UNION_NORMAL: control #0, data #1)
 * makes it bind the emulated preloader as it binds a real one.  Dynamic
 * ids go with the module, so this runs after every modprobe; an id that
 * is already there is fine.
 */
static int acm_preloader_id(void)
{
	static const char id[] = "0e8d 2000 2 0e8d 0003";
	int fd = open("/sys/bus/usb/drivers/cdc_acm/new_id", O_WRONLY);
	ssize_t n;

	if (fd < 0) {
		note("cdc_acm new_id: %s", strerror(errno));
		return -1;
	}
	n = write(fd, id, strlen(id));
	if (n < 0 && errno != EEXIST)
		note("cdc_acm new_id '%s': %s", id, strerror(errno));
	close(fd);
	return n < 0 && errno != EEXIST ? -1 : 0;
}

static int setup_for(enum contender c)
{
	if (c != C_BOOTSHAKE && g.bootshake_loaded) {
		if (g.mon.pid > 0) {
			kill(g.mon.pid, SIGTERM);
			reap(g.mon.pid, 5000LL * g.scale, NULL);
			close(g.mon.out_fd);
			g.mon.pid = 0;
		}
		if (run_cmd("/sbin/rmmod", "bootshake", NULL))
			return -1;
		g.bootshake_loaded = false;
	}
	if (c != C_TTY && g.cdc_acm_loaded) {
		if (run_cmd("/sbin/rmmod", "cdc_acm", NULL))
			return -1;
		g.cdc_acm_loaded = false;
	}

	switch (c) {
	case C_BOOTSHAKE:
		if (!g.bootshake_loaded) {
			if (run_cmd("/sbin/insmod", g.ko, NULL))
				return -1;
			g.bootshake_loaded = true;
		}
		if (g.mon.pid <= 0) {
			mon_start();
			if (g.mon.pid <= 0)
				return -1;
			usleep(300000);	/* subscribed before the first plug */
		}
		emit_clock_offset("bootshake");
		break;
	case C_LIBUSB:
		if (g.udevd_pid <= 0) {
			note("no udevd: the libusb contender gets no hotplug events");
			return -1;
		}
		break;
	case C_TTY:
		if (!g.cdc_acm_loaded) {
			if (run_cmd("/sbin/modprobe", "cdc_acm", NULL))
				return -1;
			g.cdc_acm_loaded = true;
		}
		if (window_case() && acm_preloader_id())
			return -1;
		break;
	default:
		break;
	}
	return 0;
}

static pid_t prog_start(enum contender c, int n, struct child *ch)
{
	char bin[PATH_MAX], count[16], line[256], tmo[24];
	char *argv[] = { bin, "--count", count, "--timeout-ms", tmo, NULL };
	long long deadline = mono_ns() + 20000000000LL * g.scale;

	snprintf(bin, sizeof(bin), "%s/%s", g.bin,
		 c == C_LIBUSB ? "libusb_sync" : "tty_sync");
	snprintf(count, sizeof(count), "%d", n);
	snprintf(tmo, sizeof(tmo), "%d", (10 + n) * 1000 * g.scale);
	memset(ch, 0, sizeof(*ch));
	ch->pid = spawn(argv, &ch->out_fd);
	if (ch->pid <= 0)
		return -1;
	while (child_line(ch, line, sizeof(line), deadline) == 1)
		if (!strcmp(line, "listening"))
			return ch->pid;
	note("%s never said listening", bin);
	kill(ch->pid, SIGKILL);
	reap(ch->pid, 5000, NULL);
	close(ch->out_fd);
	return -1;
}

/*
 * Wait for the program's "done" lines and its exit; if every device
 * still missing has left for good, stop it.
 */
static int prog_wait(struct child *ch, struct emu *v, int n,
		     struct rusage *ru)
{
	long long deadline = mono_ns() + 60000000000LL * g.scale;
	char line[512];
	int ok = 0, done = 0, st, r, i;

	for (;;) {
		long long tick = mono_ns() + TICK_NS;

		r = child_line(ch, line, sizeof(line),
			       tick < deadline ? tick : deadline);
		if (r < 0)
			break;
		if (r == 1 && !strncmp(line, "done ", 5)) {
			done++;
			if (strstr(line, " ok "))
				ok++;
			else
				note("%s", line);
			continue;
		}
		if (r == 1)
			continue;
		if (mono_ns() >= deadline) {
			note("contender: timeout");
			kill(ch->pid, SIGTERM);
			break;
		}
		for (i = 0, r = 0; i < n; i++)
			r += emu_lost(&v[i]);
		if (r && r >= n - done) {
			note("contender: %d device(s) left for good", r);
			kill(ch->pid, SIGTERM);
			break;
		}
	}
	st = reap(ch->pid, 5000LL * g.scale, ru);
	close(ch->out_fd);
	if (st || ok != n)
		note("contender exit %d, %d/%d devices ok", st, ok, n);
	return st || ok != n ? -1 : 0;
}

/* ------------------------------------------------------------------ */
/* rounds                                                              */

struct stage_stats {
	long long cpu_ticks;
	long long wall_ns;
	long long prog_cpu_us;
	int plugs, failed;
};

static void emit_plug(enum contender c, int ncase, int round, struct emu *e,
		      const struct seg *s, bool ok)
{
	json_object *o = rec("plug");

	add_s(o, "pers", g.personality);
	add_s(o, "c", cname[c]);
	add_i(o, "n", ncase);
	add_i(o, "round", round);
	add_s(o, "udc", e->udc);
	add_s(o, "path", e->path);
	add_i(o, "connect", s->connect);
	add_i(o, "enable", s->enable);
	add_i(o, "rx0", s->rx0);
	add_i(o, "t1", s->t1);
	add_i(o, "t2", s->t2);
	add_i(o, "rx", s->rx);
	add_i(o, "tx", s->tx);
	add_i(o, "errors", s->errors);
	add_i(o, "lost", s->lost);
	if (c == C_BOOTSHAKE) {
		add_i(o, "mon_sync_real", e->mon_sync);
		add_i(o, "mon_ready_real", e->mon_ready);
	}
	json_object_object_add(o, "ok", json_object_new_boolean(ok));
	emit(o);
}

/*
 * One round: arm the contender, plug @n devices, wait until it is done
 * with all of them, unplug, emit the measurements.  @fresh: the plug is
 * the start of a new emulator on dummy_udc.<fresh - 1> (one device; a
 * preloader's listen window starts at its first enable, so it must not
 * have been plugged before); otherwise @v are running, pulled emulators
 * and the plug is SIGUSR2.
 */
static int run_round(enum contender c, int ncase, int round, struct emu *v,
		     int n, struct stage_stats *ss, bool mem, int fresh)
{
	struct child ch = { 0 };
	struct rusage ru = { 0 };
	long long plug;
	int ret = 0, i, kw0 = count_kworkers();
	char tag[48];

	if (!fresh)
		emu_mark(v, n);
	for (i = 0; i < n; i++) {
		v[i].mon_sync = v[i].mon_ready = 0;
		v[i].mon_state[0] = 0;
	}
	if (c != C_BOOTSHAKE && prog_start(c, n, &ch) < 0)
		return -1;

	plug = mono_ns();
	if (fresh) {
		snprintf(tag, sizeof(tag), "%s-%s-fresh", cname[c],
			 g.personality);
		if (emu_start(v, fresh - 1, tag, NULL)) {
			note("cannot start an emulator on dummy_udc.%d",
			     fresh - 1);
			if (c != C_BOOTSHAKE) {
				kill(ch.pid, SIGTERM);
				reap(ch.pid, 5000, NULL);
				close(ch.out_fd);
			}
			return -1;
		}
	} else {
		emu_signal(v, n, SIGUSR2);
	}

	if (c == C_BOOTSHAKE) {
		ret = mon_wait(v, n, mono_ns() + 60000000000LL * g.scale);
		if (mem && !ret) {
			json_object *o = rec("mem");

			add_s(o, "state", "bound");
			add_i(o, "devices", n);
			json_object_object_add(o, "kb", mem_snapshot());
			emit(o);
		}
	} else {
		ret = prog_wait(&ch, v, n, &ru);
		ss->prog_cpu_us += ru.ru_utime.tv_sec * 1000000LL +
				   ru.ru_utime.tv_usec +
				   ru.ru_stime.tv_sec * 1000000LL +
				   ru.ru_stime.tv_usec;
	}

	if (fresh) {
		emu_signal(v, n, SIGTERM);
		for (i = 0; i < n; i++)
			reap(v[i].pid, 10000LL * g.scale, NULL);
	} else {
		emu_signal(v, n, SIGUSR1);
		emu_wait_log(v, n, "unplug", 20000LL * g.scale);
	}

	json_object *o = rec("round");

	add_s(o, "pers", g.personality);
	add_s(o, "c", cname[c]);
	add_i(o, "n", ncase);
	add_i(o, "round", round);
	add_i(o, "plug", plug);
	add_i(o, "kworkers_before", kw0);
	add_i(o, "kworkers_after", count_kworkers());
	json_object_object_add(o, "ok", json_object_new_boolean(!ret));
	emit(o);

	for (i = 0; i < n; i++) {
		struct seg s;
		bool ok;

		seg_parse(&v[i], &s);
		ok = !ret && s.t1 && s.t2 && s.enable;
		if (c == C_BOOTSHAKE)
			ok = ok && !strcmp(v[i].mon_state, "ready");
		emit_plug(c, ncase, round, &v[i], &s, ok);
		if (!ok && !g.dump_logs)
			dump_log(&v[i]);	/* the evidence, for the report */
		if (round >= 0) {
			ss->plugs++;
			ss->failed += !ok;
		}
		if (fresh) {
			close(v[i].out_fd);
			unlink(v[i].log);
		}
	}
	return ret;
}

/*
 * One batch: @rounds rounds of @ncase devices at once, each on fresh
 * emulators.  With @mem, measure memory around the first round.
 */
static int run_batch(enum contender c, int ncase, int rounds, int *round_no,
		     struct stage_stats *ss, bool mem)
{
	int k = ncase * rounds, i, ret = 0;
	char tag[32];

	snprintf(tag, sizeof(tag), "%s-%d", cname[c], ncase);
	if (c == C_BOOTSHAKE && policy("off"))
		return -1;
	for (i = 0; i < k; i++) {
		if (emu_start(&emus[i], i, tag, NULL)) {
			note("cannot start emulator %d", i);
			emu_stop_all(emus, i);
			return -1;
		}
	}
	if (emu_wait_ready(emus, k, 60000LL * g.scale) ||
	    (emu_mark(emus, k), emu_signal(emus, k, SIGUSR1),
	     emu_wait_log(emus, k, "unplug", 30000LL * g.scale))) {
		emu_stop_all(emus, k);
		return -1;
	}
	if (c == C_LIBUSB)
		udev_settle();

	if (mem) {
		/* nothing plugged; then plugged but not bound (policy off) */
		json_object *o = rec("mem");

		add_s(o, "state", "none");
		add_i(o, "devices", 0);
		json_object_object_add(o, "kb", mem_snapshot());
		emit(o);

		emu_mark(emus, ncase);
		emu_signal(emus, ncase, SIGUSR2);
		if (!emu_wait_log(emus, ncase, "enable", 30000LL * g.scale)) {
			usleep(500000);
			o = rec("mem");
			add_s(o, "state", "unbound");
			add_i(o, "devices", ncase);
			json_object_object_add(o, "kb", mem_snapshot());
			emit(o);
		}
		emu_mark(emus, ncase);
		emu_signal(emus, ncase, SIGUSR1);
		emu_wait_log(emus, ncase, "unplug", 30000LL * g.scale);
	}

	if (c == C_BOOTSHAKE && policy("auto")) {
		emu_stop_all(emus, k);
		return -1;
	}
	for (i = 0; i < rounds; i++) {
		if (run_round(c, ncase, (*round_no)++, &emus[i * ncase], ncase,
			      ss, mem && i == 0, 0))
			ret = -1;
	}
	emu_stop_all(emus, k);
	return ret;
}

/* A preloader that is not synced in its window is a result, not an error. */
static bool window_case(void)
{
	return !strcmp(g.personality, "mtk-preloader");
}

/* Every contender runs every case. */
static bool skipped(enum contender c __attribute__((unused)))
{
	return false;
}

/* @rounds rounds of contender @c, @ncase devices at once. */
static void run_block(enum contender c, int ncase, int rounds, bool warm,
		      bool mem, int *round_no, struct stage_stats *ss)
{
	long long t0 = mono_ns(), cpu0;
	int i, r;

	if (setup_for(c)) {
		note("%s: cannot set the guest up for this contender", cname[c]);
		g.failures++;
		return;
	}
	cpu0 = cpu_busy_ticks();
	if (ncase == 1) {
		/* one at a time: every plug is a new emulator */
		if (c == C_BOOTSHAKE && policy("auto")) {
			g.failures++;
			return;
		}
		/* round -1: one unmeasured warm-up plug */
		for (i = warm ? -1 : 0; i < rounds; i++) {
			r = i < 0 ? -1 : (*round_no)++;
			if (run_round(c, 1, r, emus, 1, ss, false,
				      (r + 1) % g.ndummy + 1) &&
			    !window_case() && r >= 0)
				g.failures++;
		}
	} else {
		for (i = 0; i < rounds; i++)
			if (run_batch(c, ncase, 1, round_no, ss,
				      mem && i == 0))
				g.failures++;
	}
	ss->cpu_ticks += cpu_busy_ticks() - cpu0;
	ss->wall_ns += mono_ns() - t0;
}

/*
 * One case: @rounds rounds per contender.  The contenders take turns in
 * blocks (one round per block when several devices plug at once, about
 * ten plugs per block one at a time), the order rotating from block to
 * block, so that a slow phase of the shared host hits all of them alike.
 */
static void run_case(int ncase, int rounds)
{
	struct stage_stats ss[C_NR];
	int nblocks = ncase == 1 ? (rounds + 9) / 10 : rounds;
	int round_no[C_NR] = { 0 }, b, k, c;

	memset(ss, 0, sizeof(ss));
	for (c = 0; c < C_NR; c++) {
		if (g.run[c] && skipped(c)) {
			json_object *o = rec("skip");

			add_s(o, "pers", g.personality);
			add_s(o, "c", cname[c]);
			add_s(o, "why", "not run");
			emit(o);
		}
	}
	note("%s, %d at once: %d rounds per contender in %d blocks",
	     g.personality, ncase, rounds, nblocks);
	for (b = 0; b < nblocks; b++) {
		int r = rounds * (b + 1) / nblocks - rounds * b / nblocks;

		for (k = 0; k < C_NR; k++) {
			c = (b + k) % C_NR;
			if (!g.run[c] || skipped(c) || !r)
				continue;
			run_block(c, ncase, r, ncase == 1 && b == 0,
				  c == C_BOOTSHAKE && ncase == g.ndummy && b == 0,
				  &round_no[c], &ss[c]);
		}
	}
	for (c = 0; c < C_NR; c++) {
		if (!g.run[c] || skipped(c))
			continue;
		json_object *o = rec("stage");

		add_s(o, "pers", g.personality);
		add_s(o, "c", cname[c]);
		add_i(o, "n", ncase);
		add_i(o, "rounds", rounds);
		add_i(o, "plugs", ss[c].plugs);
		add_i(o, "failed", ss[c].failed);
		add_i(o, "cpu_ticks", ss[c].cpu_ticks);
		add_i(o, "hz", sysconf(_SC_CLK_TCK));
		add_i(o, "prog_cpu_us", ss[c].prog_cpu_us);
		add_i(o, "wall_ns", ss[c].wall_ns);
		emit(o);
		if (ss[c].failed && !window_case())
			g.failures++;
	}
}

/* The floor: usbfs ping against @n already-synced emulators at once. */
static void run_floor(int n)
{
	struct child ch[MAX_EMU];
	char bin[PATH_MAX], count[16], line[256];
	int i, ok = 0;

	/* no driver may hold the data interface */
	if (setup_for(C_NR))
		return;
	snprintf(bin, sizeof(bin), "%s/usb_ping", g.bin);
	snprintf(count, sizeof(count), "%d", g.pings);
	for (i = 0; i < n; i++) {
		if (emu_start(&emus[i], i, "floor", "already_synced")) {
			emu_stop_all(emus, i);
			return;
		}
	}
	if (emu_wait_ready(emus, n, 60000LL * g.scale)) {
		emu_stop_all(emus, n);
		return;
	}
	emu_mark(emus, n);
	for (i = 0; i < n; i++) {
		char *argv[] = { bin, emus[i].path, count, NULL };

		memset(&ch[i], 0, sizeof(ch[i]));
		ch[i].pid = spawn(argv, &ch[i].out_fd);
	}
	for (i = 0; i < n; i++) {
		long long deadline = mono_ns() + 60000000000LL * g.scale;

		while (child_line(&ch[i], line, sizeof(line), deadline) == 1)
			if (!strncmp(line, "done ", 5) && strstr(line, " ok "))
				ok++;
		reap(ch[i].pid, 5000LL * g.scale, NULL);
		close(ch[i].out_fd);
	}
	for (i = 0; i < n; i++) {
		json_object *o = rec("floor"), *a = json_object_new_array();
		char l[512];
		long long prev = 0;
		FILE *f = fopen(emus[i].log, "r");

		add_i(o, "n", n);
		add_s(o, "udc", emus[i].udc);
		/* round trip = one rx to the next: host sends, device
		 * answers, host reads and sends again */
		while (f && fgets(l, sizeof(l), f)) {
			long long ns = atoll(l);
			char *ev = strchr(l, ' ');

			if (!ev || strncmp(ev + 1, "rx ", 3))
				continue;
			if (prev)
				json_object_array_add(a,
					json_object_new_int64(ns - prev));
			prev = ns;
		}
		if (f)
			fclose(f);
		json_object_object_add(o, "rtt", a);
		emit(o);
	}
	emu_stop_all(emus, n);
	if (ok != n) {
		note("floor: %d of %d ping loops failed", n - ok, n);
		g.failures++;
	}
}

/* ------------------------------------------------------------------ */

static void emit_env(void)
{
	json_object *o = rec("env");
	char buf[512], model[256] = "?";
	FILE *f = fopen("/proc/cpuinfo", "r");
	int fd;

	while (f && fgets(buf, sizeof(buf), f)) {
		if (!strncmp(buf, "model name", 10)) {
			char *c = strchr(buf, ':');

			if (c) {
				snprintf(model, sizeof(model), "%s", c + 2);
				model[strcspn(model, "\n")] = 0;
			}
			break;
		}
	}
	if (f)
		fclose(f);
	add_s(o, "guest_cpu", model);
	add_i(o, "guest_nproc", sysconf(_SC_NPROCESSORS_ONLN));
	fd = open("/proc/sys/kernel/osrelease", O_RDONLY);
	if (fd >= 0) {
		ssize_t n = read(fd, buf, sizeof(buf) - 1);

		buf[n > 0 ? n : 0] = 0;
		buf[strcspn(buf, "\n")] = 0;
		add_s(o, "kernel", buf);
		close(fd);
	}
	add_s(o, "personality", g.personality);
	add_i(o, "dummy_num", g.ndummy);
	add_i(o, "time_scale", g.scale);
	add_i(o, "plugs1", g.plugs1);
	add_i(o, "rounds8", g.rounds8);
	add_i(o, "rounds32", g.rounds32);
	add_i(o, "pings", g.pings);
	add_i(o, "plugs_preloader", g.plugs_pl);
	add_s(o, "udev_rules", g.udev_no_rules ? "none" : "debian");
	emit(o);
}

static int copy_file(const char *from, const char *to, mode_t mode)
{
	char buf[65536];
	ssize_t n = 0;
	int in, out, ret = 0;

	in = open(from, O_RDONLY | O_CLOEXEC);
	if (in < 0)
		return -1;
	out = open(to, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (out < 0) {
		close(in);
		return -1;
	}
	while (!ret && (n = read(in, buf, sizeof(buf))) > 0)
		ret = write(out, buf, (size_t)n) == n ? 0 : -1;
	if (n < 0)
		ret = -1;
	close(in);
	close(out);
	return ret;
}

/*
 * The working tree may be rebuilt while the benchmark runs (the guest
 * sees the host's files): take private copies of the module and every
 * program once, so that the whole run uses the same binaries.
 */
static int copy_programs(void)
{
	static const char *const progs[][2] = {
		{ "user/bootshake", "bootshake" },
		{ "selftests/emu/bsk-emu", "bsk-emu" },
		{ "selftests/bench/libusb_sync", "libusb_sync" },
		{ "selftests/bench/tty_sync", "tty_sync" },
		{ "selftests/bench/usb_ping", "usb_ping" },
	};
	const char *ko = getenv("BSK_KO");
	char from[PATH_MAX], to[PATH_MAX];
	unsigned int i;

	snprintf(g.bin, sizeof(g.bin), LOG_DIR "/bin");
	mkdir(g.bin, 0755);
	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		snprintf(from, sizeof(from), "%s/%s", g.repo, progs[i][0]);
		snprintf(to, sizeof(to), "%s/%s", g.bin, progs[i][1]);
		if (copy_file(from, to, 0755)) {
			fprintf(stderr, "bench: cannot copy %s\n", from);
			return -1;
		}
	}
	if (!ko || !strcmp(ko, "none")) {
		snprintf(from, sizeof(from), "%s/bootshake.ko", g.repo);
		ko = from;
	}
	snprintf(g.ko, sizeof(g.ko), "%s/bootshake.ko", g.bin);
	if (copy_file(ko, g.ko, 0644)) {
		fprintf(stderr, "bench: cannot copy %s\n", ko);
		return -1;
	}
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: bench [--plugs1 N] [--rounds8 N] [--rounds32 N] [--pings N]\n"
		"             [--plugs-preloader N]\n"
		"             [--contenders bootshake,libusb,tty] [--personality P]\n"
		"             [--udev-rules debian|none] [--dump-logs]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "plugs1", required_argument, NULL, '1' },
		{ "rounds8", required_argument, NULL, '8' },
		{ "rounds32", required_argument, NULL, '3' },
		{ "pings", required_argument, NULL, 'p' },
		{ "plugs-preloader", required_argument, NULL, 'L' },
		{ "contenders", required_argument, NULL, 'c' },
		{ "personality", required_argument, NULL, 'P' },
		{ "udev-rules", required_argument, NULL, 'u' },
		{ "dump-logs", no_argument, NULL, 'd' },
		{ NULL, 0, NULL, 0 }
	};
	const char *only = "bootshake,libusb,tty", *s, *brom;
	long long t0 = mono_ns(), busy0 = cpu_busy_ticks();
	int cases[3], rounds[3], ci, c, o;
	struct rusage ru;

	g.plugs1 = 50;
	g.rounds8 = 7;
	g.rounds32 = 2;
	g.pings = 200;
	g.plugs_pl = 50;
	g.udev_no_rules = true;
	g.personality = "mtk-brom";
	while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (o) {
		case '1':
			g.plugs1 = atoi(optarg);
			break;
		case '8':
			g.rounds8 = atoi(optarg);
			break;
		case '3':
			g.rounds32 = atoi(optarg);
			break;
		case 'p':
			g.pings = atoi(optarg);
			break;
		case 'L':
			g.plugs_pl = atoi(optarg);
			break;
		case 'c':
			only = optarg;
			break;
		case 'P':
			g.personality = optarg;
			break;
		case 'u':
			g.udev_no_rules = !strcmp(optarg, "none");
			break;
		case 'd':
			g.dump_logs = true;
			break;
		default:
			usage();
		}
	}
	for (c = 0; c < C_NR; c++) {
		size_t l = strlen(cname[c]);

		for (s = only; s; s = strchr(s, ',')) {
			if (*s == ',')
				s++;
			if (!strncmp(s, cname[c], l) && (s[l] == ',' || !s[l]))
				g.run[c] = true;
		}
	}
	if (geteuid()) {
		fprintf(stderr, "bench: must run as root in the test guest\n");
		return 2;
	}

	g.scale = bsk_scale();
	g.ndummy = getenv("BSK_DUMMY_NUM") ? atoi(getenv("BSK_DUMMY_NUM")) : 4;
	if (g.ndummy > MAX_EMU)
		g.ndummy = MAX_EMU;
	snprintf(g.repo, sizeof(g.repo), "%s", bsk_repo());
	mkdir(LOG_DIR, 0755);
	if (copy_programs())
		return 1;
	snprintf(g.emu_bin, sizeof(g.emu_bin), "%s/bsk-emu", g.bin);
	g.bootshake_loaded = !access("/sys/module/bootshake", F_OK);
	g.cdc_acm_loaded = !access("/sys/module/cdc_acm", F_OK);
	mkdir(LOG_DIR, 0755);
	g.ino = inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
	if (g.ino < 0 || inotify_add_watch(g.ino, LOG_DIR, IN_MODIFY) < 0) {
		perror("inotify " LOG_DIR);
		return 1;
	}
	signal(SIGPIPE, SIG_IGN);

	brom = g.personality;
	emit_env();
	emit_clock_offset("start");
	/*
	 * udevd runs for the whole run, for every contender alike, as on any
	 * desktop or lab machine: libusb (built with libudev, as Debian's
	 * is) gets its hotplug events through it.
	 */
	if (g.run[C_LIBUSB] && udevd_start())
		g.failures++;

	/*
	 * 1 at a time, the preloader 1 at a time, then 8, then 32 at once;
	 * within a case the contenders take turns on the same emulator.
	 */
	cases[0] = 1;
	rounds[0] = g.plugs1;
	cases[1] = g.ndummy >= 8 ? 8 : g.ndummy;
	rounds[1] = g.rounds8;
	cases[2] = g.ndummy;
	rounds[2] = g.rounds32;
	for (ci = 0; ci < 3; ci++) {
		if (ci && cases[ci] == cases[ci - 1])
			continue;
		g.personality = brom;
		if (ci == 0 && g.pings > 0)
			run_floor(1);
		if (ci == 2 && g.pings > 0 && rounds[ci] > 0)
			run_floor(cases[ci]);
		if (rounds[ci] > 0)
			run_case(cases[ci], rounds[ci]);
		if (ci == 0 && g.plugs_pl > 0) {
			if (!emu_has_personality("mtk-preloader")) {
				note("bsk-emu has no mtk-preloader personality: no preloader case");
				continue;
			}
			g.personality = "mtk-preloader";
			run_case(1, g.plugs_pl);
		}
	}
	g.personality = brom;

	/* leave the guest as run-vm.sh made it */
	setup_for(C_BOOTSHAKE);
	if (g.udevd_pid > 0) {
		kill(g.udevd_pid, SIGTERM);
		reap(g.udevd_pid, 10000LL * g.scale, NULL);
	}
	if (g.mon.pid > 0) {
		kill(g.mon.pid, SIGTERM);
		reap(g.mon.pid, 5000LL * g.scale, &ru);
	}
	emit_clock_offset("end");

	json_object *r = rec("total");

	add_i(r, "wall_ns", mono_ns() - t0);
	add_i(r, "cpu_ticks", cpu_busy_ticks() - busy0);
	add_i(r, "hz", sysconf(_SC_CLK_TCK));
	add_i(r, "failures", g.failures);
	emit(r);
	return g.failures ? 1 : 0;
}
