// SPDX-License-Identifier: GPL-2.0
/*
 * A device that babbles transfer errors on bulk IN (issue 14, item 6).
 *
 * The pipe's IN completion (kmod/pipe.c) resubmits an URB that failed
 * with -EPROTO, -EILSEQ, -ETIME or -EOVERFLOW; once BSK_PIPE_ERR_BURST of
 * them came in a row, the URB waits BSK_PIPE_COOLDOWN_MS in delayed work
 * first.  Without that a device that fails every IN transfer kept the
 * host resubmitting as fast as the controller answered.
 *
 * dummy_hcd cannot fail a transfer that way, so the device here is
 * selftests/emu/usbip-dev: a BROM played over USB/IP through vhci_hcd,
 * which answers every bulk IN URB with an error status unless it has reply
 * bytes queued.  The tests check that the handshake still reaches ready
 * while the errors babble, that the device sees a bounded rate of IN
 * submissions afterwards (the emulator counts them), and that the guest's
 * kernel CPU time stays bounded meanwhile (/proc/stat).  Kernels without
 * vhci_hcd (the debug kernels) skip.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "bsk_test.h"

#define VHCI_ATTACH	"/sys/devices/platform/vhci_hcd.0/attach"

/* kmod/pipe.h */
#define BSK_PIPE_IN_URBS	4
#define BSK_PIPE_ERR_BURST	4
#define BSK_PIPE_COOLDOWN_MS	20

/*
 * Babbling with nothing to deliver (more than BSK_PIPE_ERR_BURST errors
 * in a row), each IN URB is submitted at most once per cool-down:
 * BSK_PIPE_IN_URBS per BSK_PIPE_COOLDOWN_MS, 200 a second.  Half as much
 * again is slack for the mean over the window.  Any one second in it may
 * see twice that: a delayed work's timer fires up to a jiffy early, and a
 * TCG guest that was not scheduled catches up on ticks in a burst.  A
 * slower machine only lowers the rate, so neither bound is scaled.
 * Without the cool-down the rate is whatever the host and the emulator
 * manage: up to thousands a second; on the loaded 2-core build host
 * (load 7-11) the module before the cool-down gave 220-340 a second,
 * 375-640 in its busiest second, with it 76-97 and at most 211.
 */
#define IN_RATE_MAX	(BSK_PIPE_IN_URBS * 1000 / BSK_PIPE_COOLDOWN_MS * 3 / 2)
#define IN_PEAK_MAX	(BSK_PIPE_IN_URBS * 1000 / BSK_PIPE_COOLDOWN_MS * 2)
/*
 * Kernel time (system + irq + softirq, the emulator's system calls
 * included) while babbling, in % of one CPU: a quarter of a CPU, times
 * BSK_TIME_SCALE, as TCG makes every wakeup and system call that much
 * dearer, and a busy host inflates guest CPU time further.  On that
 * loaded host the module before the cool-down took 140-175% (its loop
 * keeps the guest's CPUs busy: this bound fails it even when the host is
 * too slow for its rate to pass IN_RATE_MAX), with it 24-33%.
 */
#define KERNEL_CPU_MAX	25
/* How long the rate and the CPU time are measured. */
#define WINDOW_MS	5000

/* Module defaults (kmod/main.c), scaled for TCG as mtk_brom.c does. */
#define SYNC_TIMEOUT_MS	3000
#define STEP_TIMEOUT_MS	100

static void deadlines_restore(void)
{
	bsk_policy_restore("mtk-brom", "auto", 0, 0, true);
}

static void __attribute__((constructor)) deadlines_init(void)
{
	if (access("/sys/module/bootshake", F_OK))
		return;
	bsk_policy_restore("mtk-brom", "auto", STEP_TIMEOUT_MS * bsk_scale(),
			   SYNC_TIMEOUT_MS * bsk_scale(), false);
	atexit(deadlines_restore);
}

/* ------------------------------------------------------------------ */
/* the USB/IP device                                                   */

struct uemu {
	pid_t pid;
	int in_fd, out_fd;
	char path[32];
	char log[64];
	char buf[4096];
	size_t len;
};

struct ustats {
	unsigned long long t_ns, in_submit, in_error, in_data, out, peak;
	unsigned int in_held;
};

/* The next line from the emulator's stdout into @line, or -1. */
static int uemu_line(struct uemu *u, char *line, size_t size, int timeout_ms)
{
	long long deadline = bsk_now_ms() + timeout_ms;

	for (;;) {
		char *nl = memchr(u->buf, '\n', u->len);
		struct pollfd p = { .fd = u->out_fd, .events = POLLIN };
		long long left;
		ssize_t r;

		if (nl) {
			size_t n = (size_t)(nl - u->buf);

			snprintf(line, size, "%.*s", (int)n, u->buf);
			u->len -= n + 1;
			memmove(u->buf, nl + 1, u->len);
			return 0;
		}
		left = deadline - bsk_now_ms();
		if (left <= 0 || poll(&p, 1, (int)left) <= 0)
			return -1;
		if (u->len == sizeof(u->buf))
			u->len = 0;
		r = read(u->out_fd, u->buf + u->len, sizeof(u->buf) - u->len);
		if (r <= 0)
			return -1;
		u->len += (size_t)r;
	}
}

/* Wait for a line starting with @prefix (others are skipped). */
static int uemu_expect(struct uemu *u, const char *prefix, char *line,
		       size_t size, int timeout_ms)
{
	long long deadline = bsk_now_ms() + timeout_ms;

	while (bsk_now_ms() < deadline) {
		if (uemu_line(u, line, size, (int)(deadline - bsk_now_ms())))
			return -1;
		if (!strncmp(line, prefix, strlen(prefix)))
			return 0;
	}
	return -1;
}

/* Reap @pid within @timeout_ms (SIGKILL after); its exit status or -1. */
static int reap(pid_t pid, int timeout_ms)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0), st;

	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };

		if (poll(&p, 1, timeout_ms) == 0)
			kill(pid, SIGKILL);
		close(pidfd);
	}
	if (waitpid(pid, &st, 0) != pid)
		return -1;
	return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
}

/*
 * Start usbip-dev babbling @errors and wait until vhci_hcd took its
 * socket.  Returns 0, or the emulator's exit status (1: no attach).
 */
static int uemu_start(struct uemu *u, const char *errors, const char *log)
{
	int in[2], out[2];
	char bin[256], line[256];
	int st;

	memset(u, 0, sizeof(*u));
	u->pid = -1;
	snprintf(u->log, sizeof(u->log), "%s", log);
	unlink(log);
	snprintf(bin, sizeof(bin), "%s/selftests/emu/usbip-dev", bsk_repo());
	if (pipe2(in, O_CLOEXEC) || pipe2(out, O_CLOEXEC))
		return -1;
	u->pid = fork();
	if (u->pid < 0)
		return -1;
	if (!u->pid) {
		dup2(in[0], 0);
		dup2(out[1], 1);
		execl(bin, bin, "--babble", errors, "--log", log, (char *)NULL);
		fprintf(stderr, "exec %s: %s\n", bin, strerror(errno));
		_exit(127);
	}
	close(in[0]);
	close(out[1]);
	u->in_fd = in[1];
	u->out_fd = out[0];
	if (!uemu_expect(u, "attached ", line, sizeof(line),
			 10000 * bsk_scale())) {
		snprintf(u->path, sizeof(u->path), "%.*s",
			 (int)sizeof(u->path) - 1, line + 9);
		return 0;
	}
	close(u->in_fd);
	st = reap(u->pid, 5000 * bsk_scale());
	close(u->out_fd);
	u->pid = -1;
	return st > 0 ? st : -1;
}

/* Unplug: close its stdin, it closes the socket and exits. */
static int uemu_stop(struct uemu *u)
{
	int st;

	if (u->pid <= 0)
		return -1;
	close(u->in_fd);
	st = reap(u->pid, 5000 * bsk_scale());
	close(u->out_fd);
	u->pid = -1;
	return st;
}

static int uemu_send(struct uemu *u, const char *cmd)
{
	size_t n = strlen(cmd);

	return write(u->in_fd, cmd, n) == (ssize_t)n ? 0 : -1;
}

static unsigned long long field(const char *line, const char *key)
{
	const char *p = strstr(line, key);

	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

static int uemu_stats(struct uemu *u, struct ustats *s)
{
	char line[512];

	if (uemu_send(u, "stats\n") ||
	    uemu_expect(u, "stats ", line, sizeof(line), 5000 * bsk_scale()))
		return -1;
	s->t_ns = field(line, " t_ns=");
	s->in_submit = field(line, " in_submit=");
	s->in_error = field(line, " in_error=");
	s->in_data = field(line, " in_data=");
	s->in_held = (unsigned int)field(line, " in_held=");
	s->out = field(line, " out=");
	s->peak = field(line, " peak_in_1s=");
	return 0;
}

/* ------------------------------------------------------------------ */
/* the host side                                                       */

/* Why vhci_hcd is not there ("" when it is), see vhci_init(). */
static char vhci_missing[256];

/* The later programs of the suite get the guest as it was. */
static void vhci_unload(void)
{
	bsk_run("/sbin/modprobe", "-q", "-r", "vhci-hcd", NULL);
}

/*
 * Load vhci_hcd once, in the harness' parent process (each test runs in
 * a child that leaves with _exit()), and unload it at the end if it was
 * loaded here.
 */
static void __attribute__((constructor)) vhci_init(void)
{
	int st;

	if (access("/sys/module/bootshake", F_OK) ||
	    !access(VHCI_ATTACH, W_OK))
		return;
	st = bsk_run("/sbin/modprobe", "-q", "vhci-hcd", NULL);
	if (!access(VHCI_ATTACH, W_OK)) {
		atexit(vhci_unload);
		return;
	}
	snprintf(vhci_missing, sizeof(vhci_missing),
		 "vhci_hcd cannot be loaded (modprobe vhci-hcd: exit %d): this kernel has no USB/IP host (CONFIG_USBIP_VHCI_HCD)",
		 st);
}

struct cpu {
	unsigned long long kernel, busy, total;
};

/* The "cpu" line of /proc/stat, all CPUs together, in USER_HZ. */
static int cpu_sample(struct cpu *c)
{
	unsigned long long v[8] = { 0 };
	FILE *f = fopen("/proc/stat", "r");
	int n;

	if (!f)
		return -1;
	n = fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
		   &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]);
	fclose(f);
	if (n < 7)
		return -1;
	/* user nice system idle iowait irq softirq steal */
	c->kernel = v[2] + v[5] + v[6];
	c->busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
	c->total = c->busy + v[3] + v[4];
	return 0;
}

/* Share of one CPU, in %, that @part of the window took. */
static double one_cpu_pct(unsigned long long part, unsigned long long total)
{
	long ncpu = sysconf(_SC_NPROCESSORS_ONLN);

	if (!total || ncpu < 1)
		return 0;
	/* total / ncpu is the window's length in ticks */
	return 100.0 * (double)part * (double)ncpu / (double)total;
}

static void sleep_ms(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

FIXTURE(babble) {
	struct uemu emu;
	struct bsk_mon mon;
	int kmsg;
};

FIXTURE_VARIANT(babble) {
	const char *errors;	/* usbip-dev --babble */
};

/* -EPROTO on every IN URB: what a host controller reports for babble. */
FIXTURE_VARIANT_ADD(babble, eproto) {
	.errors = "-71",
};

/* All four transient errors in turn: -EPROTO -EILSEQ -ETIME -EOVERFLOW. */
FIXTURE_VARIANT_ADD(babble, mixed) {
	.errors = "-71,-84,-62,-75",
};

FIXTURE_SETUP(babble)
{
	self->emu.pid = -1;
	self->kmsg = bsk_kmsg_mark();
	ASSERT_EQ(0, bsk_mon_start(&self->mon));
}

FIXTURE_TEARDOWN(babble)
{
	if (self->emu.pid > 0) {
		uemu_stop(&self->emu);
		json_object_put(bsk_mon_wait(&self->mon, self->emu.path,
					     "remove", NULL,
					     5000 * bsk_scale()));
	}
	bsk_mon_stop(&self->mon);
	EXPECT_EQ(0, bsk_kmsg_splats(self->kmsg));
}

/*
 * The sync and the readout complete although every IN URB without a reply
 * to deliver fails; afterwards, still babbling, the device sees at most
 * IN_RATE_MAX IN submissions a second and the kernel spends at most
 * KERNEL_CPU_MAX % of a CPU (times BSK_TIME_SCALE); when the babble
 * stops, all IN URBs are armed again (the cool-down lost none).
 */
TEST_F_TIMEOUT(babble, sync_completes_rate_and_cpu_bounded, 300)
{
	struct ustats r, a, b, c;
	struct cpu c0, c1;
	char log[64];
	json_object *ev, *list, *dev;
	double rate, kpct, bpct, kmax = KERNEL_CPU_MAX * bsk_scale();
	long long deadline;
	int st;

	if (vhci_missing[0] || access(VHCI_ATTACH, W_OK))
		SKIP(return, "%s",
		     vhci_missing[0] ? vhci_missing : "no vhci_hcd");

	snprintf(log, sizeof(log), "/tmp/usbip-dev.%d.log", (int)getpid());
	st = uemu_start(&self->emu, variant->errors, log);
	ASSERT_EQ(0, st) {
		TH_LOG("usbip-dev did not attach (exit %d)", st);
		bsk_emu_log_print(log);
	}

	/* The handshake, through the babble. */
	ev = bsk_mon_wait(&self->mon, self->emu.path, NULL, "ready,failed",
			  10000 * bsk_scale());
	ASSERT_NE(NULL, ev) {
		TH_LOG("no ready/failed event for %s", self->emu.path);
		bsk_emu_log_print(log);
	}
	EXPECT_STREQ("ready", bsk_json_str(ev, "state")) {
		TH_LOG("reason: %s", bsk_json_str(ev, "reason"));
		bsk_emu_log_print(log);
	}
	EXPECT_STREQ("MT6765", bsk_json_sub_str(ev, "mtk", "chip"));
	ASSERT_EQ(0, uemu_stats(&self->emu, &r));
	/* the errors did babble while it synced */
	EXPECT_GT(r.in_error, 0ULL);
	TH_LOG("handshake: synced after %lld us, ready after %lld us; %llu IN submissions (%llu failed, %llu with data), %llu OUT",
	       bsk_json_int(ev, "sync_us", -1), bsk_json_int(ev, "ident_us", -1),
	       r.in_submit, r.in_error, r.in_data, r.out);
	json_object_put(ev);

	/* Ready and idle, still babbling: the rate and the CPU time. */
	ASSERT_EQ(0, uemu_stats(&self->emu, &a));
	ASSERT_EQ(0, cpu_sample(&c0));
	sleep_ms(WINDOW_MS);
	ASSERT_EQ(0, cpu_sample(&c1));
	ASSERT_EQ(0, uemu_stats(&self->emu, &b));
	ASSERT_GT(b.t_ns, a.t_ns);
	rate = (double)(b.in_submit - a.in_submit) * 1e9 /
	       (double)(b.t_ns - a.t_ns);
	kpct = one_cpu_pct(c1.kernel - c0.kernel, c1.total - c0.total);
	bpct = one_cpu_pct(c1.busy - c0.busy, c1.total - c0.total);
	TH_LOG("babbling %s for %.1f s: %.0f IN submissions/s (bound %d), at most %llu in 1 s (bound %d); kernel CPU %.1f%% of one CPU (bound %.0f%%), all CPU %.1f%%",
	       variant->errors, (double)(b.t_ns - a.t_ns) / 1e9, rate,
	       IN_RATE_MAX, b.peak, IN_PEAK_MAX, kpct, kmax, bpct);
	EXPECT_LE(rate, IN_RATE_MAX);
	EXPECT_LE(b.peak, (unsigned long long)IN_PEAK_MAX);
	EXPECT_LE(kpct, kmax);
	/* the IN side goes on trying: it did not give up */
	EXPECT_GT(b.in_error, a.in_error);

	/* The device is still ready. */
	list = bsk_cli_json(&st, "list", NULL);
	ASSERT_EQ(0, st);
	dev = bsk_json_find_path(list, self->emu.path);
	ASSERT_NE(NULL, dev);
	EXPECT_STREQ("ready", bsk_json_str(dev, "state"));
	json_object_put(list);

	/*
	 * The babble stops: every IN URB, parked ones included, is
	 * submitted again within a cool-down and then held by the device.
	 */
	ASSERT_EQ(0, uemu_send(&self->emu, "babble off\n"));
	deadline = bsk_now_ms() + 2000LL * bsk_scale();
	do {
		sleep_ms(BSK_PIPE_COOLDOWN_MS);
		ASSERT_EQ(0, uemu_stats(&self->emu, &c));
	} while ((int)c.in_held < BSK_PIPE_IN_URBS && bsk_now_ms() < deadline);
	EXPECT_EQ(BSK_PIPE_IN_URBS, (int)c.in_held);
}

TEST_HARNESS_MAIN
