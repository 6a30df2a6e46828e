// SPDX-License-Identifier: GPL-2.0
/*
 * Stress: module unload under load, and a plug storm.
 *
 * rmmod_mid_handshake: one emulated device on every dummy UDC
 *   (BSK_DUMMY_NUM: 8 in check-debug's suite run, 32 in check-debug's stress run),
 *   most of them answering every byte too late (delay_ms past the step
 *   deadline, sync deadline 60 s at insmod) so that they are mid-sync, the
 *   others slow but in step; a raw netlink monitor, the helper's
 *   `monitor --dump` and a process dumping DEV_GET/POLICY_GET in a loop
 *   run meanwhile.  Then rmmod: it must return in bounded time, every
 *   device the module reported gets its remove event, the dump loop never
 *   hangs; insmod again, devices are probed again.  BSK_STRESS_ROUNDS
 *   rounds (default 2).
 *
 * plug_storm: emulators of mixed kinds (mtk-brom, mtk-preloader under
 *   policy "watch", faults none/slow/garbage) on every UDC, plugged and
 *   unplugged at random moments (SIGUSR1/SIGUSR2, some restarted from
 *   scratch) for BSK_STORM_CYCLES cycles in all (default 40).  Then:
 *   every add has its remove event, no event follows a remove, ids never
 *   repeat, no device is left, the monitor socket never overflowed, and
 *   memory is back at its baseline: kmalloc slab bytes within 1 MiB (all
 *   kernels) and no kmemleak report naming bootshake (debug kernels).
 *
 * Seeded by BSK_STRESS_SEED (default: time), printed.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "bsk_test.h"
#include "bsk_genl.h"

#define MAX_DEVS	32
#define MAX_IDS		(1 << 20)

static int ndevs(void)
{
	const char *s = getenv("BSK_DUMMY_NUM");
	int n = s ? atoi(s) : 4;

	return n < 1 ? 1 : n > MAX_DEVS ? MAX_DEVS : n;
}

static long env_long(const char *name, long dflt)
{
	const char *s = getenv(name);
	long v = s ? atol(s) : 0;

	return v > 0 ? v : dflt;
}

static uint64_t stress_seed(void)
{
	const char *s = getenv("BSK_STRESS_SEED");
	struct timespec ts;

	if (s && *s)
		return strtoull(s, NULL, 0);
	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000003u + ts.tv_nsec / 1000;
}

static uint64_t rng_state;

static uint32_t rnd(uint32_t n)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return n ? (uint32_t)(rng_state % n) : 0;
}

static void msleep(int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* ----------------------------------------------------- event bookkeeping */

/** struct ledger - what the monitor has seen, by device id */
struct ledger {
	uint8_t *seen;		/* bit 0: added, 1: removed, 2: add from a dump */
	long adds, removes, changes;
	long failed;		/* "failed" state changes */
	char last_fail[64];
	long dup_adds, after_remove, remove_without_add;
	uint32_t max_id;
};

static void ledger_init(struct ledger *l)
{
	memset(l, 0, sizeof(*l));
	l->seen = calloc(MAX_IDS, 1);
}

static void ledger_free(struct ledger *l)
{
	free(l->seen);
}

static void ledger_event(struct ledger *l, uint8_t cmd,
			 const struct bsk_genl_dev *d)
{
	uint8_t *s;

	if (!d->id || d->id >= MAX_IDS)
		return;
	s = &l->seen[d->id];
	if (d->id > l->max_id)
		l->max_id = d->id;
	switch (cmd) {
	case BOOTSHAKE_CMD_DEV_ADD_NTF:
		if (*s & 4) {
			/* Seen in a dump before its event came: not twice. */
			*s &= ~4;
			break;
		}
		l->adds++;
		if (*s)
			l->dup_adds++;
		*s |= 1;
		break;
	case BOOTSHAKE_CMD_DEV_DEL_NTF:
		l->removes++;
		if (*s & 2)
			l->after_remove++;
		if (!(*s & 1))
			l->remove_without_add++;
		*s |= 2;
		break;
	default:
		l->changes++;
		if (*s & 2)
			l->after_remove++;
		if (d->state == BOOTSHAKE_STATE_FAILED) {
			l->failed++;
			snprintf(l->last_fail, sizeof(l->last_fail),
				 "device %u: %s (errno %u)", d->id,
				 d->error_code, d->error);
		}
		break;
	}
}

/* Ids added and not removed yet (printed with @why). */
static long ledger_open(const struct ledger *l, const char *why)
{
	long n = 0;

	for (uint32_t i = 1; i <= l->max_id; i++) {
		if ((l->seen[i] & 3) != 1)
			continue;
		if (why)
			fprintf(stderr, "# %s: device %u added, never removed\n",
				why, i);
		n++;
	}
	return n;
}

/* Read every pending event (up to @wait_ms for the first). */
static int drain(struct bsk_genl *mon, struct ledger *l, int wait_ms)
{
	struct bsk_genl_dev d;
	uint8_t cmd;
	int ret;

	while (!(ret = bsk_genl_event(mon, &cmd, &d, wait_ms))) {
		ledger_event(l, cmd, &d);
		wait_ms = 0;
	}
	return ret == -ETIMEDOUT ? 0 : ret;
}

/* Drain until no device is open, or @timeout_ms. */
static int drain_until_closed(struct bsk_genl *mon, struct ledger *l,
			      int timeout_ms)
{
	long long end = bsk_now_ms() + timeout_ms;
	int ret = 0;

	while (ledger_open(l, NULL) && bsk_now_ms() < end) {
		ret = drain(mon, l, 200);
		if (ret)
			break;
	}
	return ret;
}

static int count_cb(const struct nlmsghdr *nlh, void *arg)
{
	(*(int *)arg)++;
	return 0;
}

/* Devices the module reports now (-1: no answer). */
static int devices_now(void)
{
	struct bsk_genl g;
	int n = 0;

	if (bsk_genl_open(&g, 1 << 20))
		return -1;
	if (bsk_genl_request(&g, BOOTSHAKE_CMD_DEV_GET, NLM_F_DUMP, NULL, 0,
			     count_cb, &n, 5000 * bsk_scale()))
		n = -1;
	bsk_genl_close(&g);
	return n;
}

/* -------------------------------------------------------------- memory */

/* Bytes in kmalloc caches (active objects * object size). */
static long long kmalloc_bytes(void)
{
	char line[512], name[64];
	long long sum = 0;
	FILE *f = fopen("/proc/slabinfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		long active, num, size;

		if (sscanf(line, "%63s %ld %ld %ld", name, &active, &num,
			   &size) != 4)
			continue;
		if (!strncmp(name, "kmalloc-", 8) ||
		    !strncmp(name, "dma-kmalloc-", 12))
			sum += (long long)active * size;
	}
	fclose(f);
	return sum;
}

static long long meminfo(const char *key)
{
	char line[256];
	long long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, strlen(key)) &&
		    sscanf(line + strlen(key), ": %lld", &v) == 1)
			break;
	fclose(f);
	return v * 1024;
}

static void settle_memory(void)
{
	int fd;

	msleep(1000);
	fd = open("/proc/sys/vm/drop_caches", O_WRONLY);
	if (fd >= 0) {
		if (write(fd, "3", 1) < 0)
			perror("# drop_caches");
		close(fd);
	}
	msleep(500);
}

/*
 * kmemleak (debug kernels): scan and count reports that name bootshake.
 * Returns -1 without kmemleak.  Prints every report.
 */
static int kmemleak_bootshake(void)
{
	char buf[1 << 16];
	int fd, hits = 0;
	ssize_t r;
	size_t len = 0;

	if (access("/sys/kernel/debug/kmemleak", W_OK)) {
		bsk_run("/bin/mount", "-t", "debugfs", "debugfs",
			"/sys/kernel/debug", NULL);
		if (access("/sys/kernel/debug/kmemleak", W_OK))
			return -1;
	}
	/* Objects must be older than kmemleak's minimum age (5 s). */
	msleep(6000);
	for (int i = 0; i < 2; i++) {
		fd = open("/sys/kernel/debug/kmemleak", O_WRONLY);
		if (fd < 0)
			return -1;
		if (write(fd, "scan", 4) < 0)
			perror("# kmemleak scan");
		close(fd);
	}
	fd = open("/sys/kernel/debug/kmemleak", O_RDONLY);
	if (fd < 0)
		return -1;
	while (len < sizeof(buf) - 1 &&
	       (r = read(fd, buf + len, sizeof(buf) - 1 - len)) > 0)
		len += r;
	close(fd);
	buf[len] = 0;
	if (len) {
		fprintf(stderr, "# kmemleak:\n");
		for (char *p = strtok(buf, "\n"); p; p = strtok(NULL, "\n")) {
			fprintf(stderr, "#   %s\n", p);
			if (strstr(p, "bootshake") || strstr(p, "bsk_"))
				hits++;
		}
	}
	return hits;
}

/* ----------------------------------------------------------- emulators */

enum storm_state {
	ST_OFF,		/* no emulator */
	ST_PLUGGING,	/* cable in, waiting for the add event */
	ST_BOUND,	/* the module reported it; unplug at @due */
	ST_UNPLUGGING,	/* cable out, waiting for the remove event */
	ST_IDLE,	/* unplugged; plug again at @due */
};

struct storm_dev {
	struct bsk_emu emu;
	char udc[32];
	bool running;
	enum storm_state state;
	uint32_t id;		/* the module's id while bound */
	uint32_t last_state;	/* its last reported state */
	long long due;
	const char *personality;
};

/* Faults of a storm device: none, slow, noisy, or failing its sync. */
static const char *const fault_sets[][4] = {
	{ "window_ms=0", NULL },
	{ "window_ms=0", "delay_ms=20", NULL },
	{ "window_ms=0", "garbage=5", NULL },
	{ "window_ms=0", "delay_ms=300", NULL },
};

static int storm_start(struct storm_dev *s)
{
	const char *const *faults = fault_sets[rnd(4)];

	s->personality = rnd(3) ? "mtk-brom" : "mtk-preloader";
	/* window_ms is a preloader knob only. */
	if (!strcmp(s->personality, "mtk-brom"))
		faults++;
	if (bsk_emu_spawn(&s->emu, s->personality, s->udc, faults))
		return -1;
	s->running = true;
	s->state = ST_PLUGGING;
	s->id = 0;
	return 0;
}

static void storm_stop(struct storm_dev *s)
{
	if (s->running)
		bsk_emu_stop(&s->emu);
	s->running = false;
	s->state = ST_OFF;
}

/* One event (or none within 20 ms) into the ledger and the devices. */
static int storm_poll(struct bsk_genl *mon, struct ledger *l,
		      struct storm_dev *devs, int n, long *self_gone)
{
	struct bsk_genl_dev d;
	uint8_t cmd;
	int ret, i, wait_ms = 20;

next:
	ret = bsk_genl_event(mon, &cmd, &d, wait_ms);
	if (ret)
		return ret == -ETIMEDOUT ? 0 : ret;
	wait_ms = 0;	/* then all that is queued */
	ledger_event(l, cmd, &d);
	for (i = 0; i < n; i++) {
		struct storm_dev *s = &devs[i];

		if (cmd == BOOTSHAKE_CMD_DEV_ADD_NTF && s->state == ST_PLUGGING &&
		    !strcmp(d.path, s->emu.path)) {
			s->id = d.id;
			s->last_state = d.state;
			s->state = ST_BOUND;
			s->due = bsk_now_ms() + rnd(600);
		} else if (s->id != d.id) {
			continue;
		} else if (cmd == BOOTSHAKE_CMD_DEV_DEL_NTF &&
			   (s->state == ST_BOUND || s->state == ST_UNPLUGGING)) {
			if (s->state == ST_BOUND)
				(*self_gone)++;	/* it left by itself */
			s->id = 0;
			s->state = ST_IDLE;
			s->due = bsk_now_ms() + rnd(200);
		} else if (cmd == BOOTSHAKE_CMD_DEV_CHANGE_NTF) {
			s->last_state = d.state;
		}
	}
	goto next;
}

/* ------------------------------------------------------------- fixture */

FIXTURE(stress) {
	int kmsg;
	int n;
	uint64_t seed;
	struct storm_dev devs[MAX_DEVS];
	pid_t dumper;
	struct bsk_mon cli;
};

FIXTURE_SETUP(stress)
{
	self->kmsg = bsk_kmsg_mark();
	self->n = ndevs();
	self->seed = stress_seed();
	self->cli.pid = -1;
	rng_state = self->seed | 1;
	TH_LOG("seed %" PRIu64 " (BSK_STRESS_SEED reproduces the choices), %d devices",
	       self->seed, self->n);
	if (access("/sys/module/bootshake", F_OK))
		ASSERT_EQ(0, bsk_modprobe_bootshake());
}

FIXTURE_TEARDOWN(stress)
{
	if (self->dumper > 0) {
		kill(self->dumper, SIGKILL);
		waitpid(self->dumper, NULL, 0);
	}
	bsk_mon_stop(&self->cli);
	for (int i = 0; i < MAX_DEVS; i++)
		storm_stop(&self->devs[i]);
	if (access("/sys/module/bootshake", F_OK))
		EXPECT_EQ(0, bsk_modprobe_bootshake());
	EXPECT_EQ(0, bsk_kmsg_splats(self->kmsg));
}

/* The dump loop: DEV_GET and POLICY_GET dumps until SIGTERM. */
static void dump_loop(void)
{
	long ok = 0, gone = 0;
	struct bsk_genl g = { .fd = -1 };

	signal(SIGTERM, SIG_DFL);
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (;;) {
		int n = 0, ret;

		if (g.fd < 0 && bsk_genl_open(&g, 1 << 20)) {
			gone++;
			msleep(5);
			continue;
		}
		ret = bsk_genl_request(&g, BOOTSHAKE_CMD_DEV_GET, NLM_F_DUMP,
				       NULL, 0, count_cb, &n,
				       10000 * bsk_scale());
		if (!ret)
			ret = bsk_genl_request(&g, BOOTSHAKE_CMD_POLICY_GET,
					       NLM_F_DUMP, NULL, 0, count_cb, &n,
					       10000 * bsk_scale());
		if (ret == -ETIMEDOUT) {
			fprintf(stderr, "# dump loop: no answer in %d ms: hang\n",
				10000 * bsk_scale());
			_exit(2);
		}
		if (ret) {
			/* The family went away (rmmod): resolve it again. */
			bsk_genl_close(&g);
			gone++;
			continue;
		}
		if (++ok % 500 == 0)
			fprintf(stderr, "# dump loop: %ld dumps, %ld while unloaded\n",
				ok, gone);
	}
}

/*
 * rmmod that retries while the module is in use: a netlink dump in
 * progress holds a reference to it (netlink_dump_start()), and the dump
 * loop runs all the time.  Returns 0, or the errno of the last try.
 */
static int rmmod_retry(int *busy)
{
	long long end = bsk_now_ms() + 20000LL * bsk_scale();

	*busy = 0;
	for (;;) {
		if (!syscall(__NR_delete_module, "bootshake", O_NONBLOCK))
			return 0;
		if ((errno != EWOULDBLOCK && errno != EBUSY && errno != EAGAIN) ||
		    bsk_now_ms() >= end)
			return errno;
		(*busy)++;
		msleep(2);
	}
}

static int insmod_slow(void)
{
	const char *ko = getenv("BSK_KO");
	char def[512];

	if (!ko) {
		snprintf(def, sizeof(def), "%s/bootshake.ko", bsk_repo());
		ko = def;
	}
	/* Late replies keep the sync going for a minute: mid-handshake. */
	return bsk_run("/sbin/insmod", ko, "sync_timeout_ms=60000", NULL);
}

/* Snapshot of the devices the module has: their ids and states. */
struct snap {
	int n, syncing;
	uint32_t ids[MAX_DEVS * 2];
};

static int snap_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct snap *s = arg;
	struct bsk_genl_dev d;

	bsk_genl_dev_parse(nlh, &d);
	if (s->n < MAX_DEVS * 2)
		s->ids[s->n++] = d.id;
	if (d.state == BOOTSHAKE_STATE_SYNCING ||
	    d.state == BOOTSHAKE_STATE_PROBED ||
	    d.state == BOOTSHAKE_STATE_IDENTIFYING)
		s->syncing++;
	return 0;
}

TEST_F_TIMEOUT(stress, rmmod_mid_handshake, 7200)
{
	long rounds = env_long("BSK_STRESS_ROUNDS", 2);
	struct storm_dev *devs = self->devs;
	const char *slow[] = { "delay_ms=300", NULL };
	const char *steady[] = { "delay_ms=50", NULL };
	long long worst = 0;
	pid_t dumper;
	int i;

	/* Start from our own load (long sync deadline), devices plugged. */
	ASSERT_EQ(0, bsk_rmmod_bootshake());
	ASSERT_EQ(0, insmod_slow());
	for (i = 0; i < self->n; i++) {
		snprintf(devs[i].udc, sizeof(devs[i].udc), "dummy_udc.%d", i);
		/* Three of four answer too late: stuck in the sync. */
		ASSERT_EQ(0, bsk_emu_spawn(&devs[i].emu, "mtk-brom", devs[i].udc,
					   i % 4 == 3 ? steady : slow));
		devs[i].running = true;
	}

	dumper = self->dumper = fork();
	ASSERT_LE(0, dumper);
	if (!dumper)
		dump_loop();

	for (long r = 0; r < rounds; r++) {
		struct bsk_genl mon;
		struct ledger l;
		struct snap s;
		long long end, t0, dt;
		long failed;
		int st, busy;

		/* After insmod: follow events, then see what is there. */
		ASSERT_EQ(0, bsk_genl_monitor(&mon));
		ASSERT_EQ(0, bsk_mon_start(&self->cli));
		ledger_init(&l);
		end = bsk_now_ms() + 30000LL * bsk_scale();
		do {
			ASSERT_EQ(0, drain(&mon, &l, 100));
			memset(&s, 0, sizeof(s));
			{
				struct bsk_genl g;

				ASSERT_EQ(0, bsk_genl_open(&g, 1 << 20));
				EXPECT_EQ(0, bsk_genl_request(&g, BOOTSHAKE_CMD_DEV_GET,
							      NLM_F_DUMP, NULL, 0,
							      snap_cb, &s,
							      10000 * bsk_scale()));
				bsk_genl_close(&g);
			}
		} while (s.n < self->n && bsk_now_ms() < end);
		ASSERT_EQ(self->n, s.n) {
			TH_LOG("round %ld: only %d of %d devices bound", r, s.n,
			       self->n);
		}
		/* Devices bound before the monitor joined: count them in. */
		for (i = 0; i < s.n; i++) {
			struct bsk_genl_dev d = { .id = s.ids[i] };

			if (!(l.seen[d.id] & 1)) {
				ledger_event(&l, BOOTSHAKE_CMD_DEV_ADD_NTF, &d);
				l.seen[d.id] |= 4;	/* its event may follow */
			}
		}
		msleep(rnd(300));
		ASSERT_EQ(0, drain(&mon, &l, 0));
		failed = l.failed;

		t0 = bsk_now_ms();
		st = rmmod_retry(&busy);
		dt = bsk_now_ms() - t0;
		if (dt > worst)
			worst = dt;
		ASSERT_EQ(0, st);
		EXPECT_LT(dt, 20000LL * bsk_scale()) {
			TH_LOG("rmmod took %lld ms", dt);
		}

		/* Every device had its remove event, sent before unregister. */
		ASSERT_EQ(0, drain_until_closed(&mon, &l, 5000 * bsk_scale()));
		EXPECT_EQ(0, ledger_open(&l, "rmmod")) {
			TH_LOG("round %ld: %ld devices without a remove event (%d were mid-handshake)",
			       r, ledger_open(&l, NULL), s.syncing);
		}
		EXPECT_EQ(0, l.dup_adds);
		EXPECT_EQ(0, l.after_remove);
		/*
		 * Nothing fails because the module goes: the devices were
		 * mid-sync with a minute to go, so a "failed" now is the
		 * unload showing through (e.g. a URB submitted after the
		 * core disabled the endpoints, before disconnect() ran).
		 */
		EXPECT_EQ(failed, l.failed) {
			TH_LOG("round %ld: %ld devices reported failed during rmmod, last %s",
			       r, l.failed - failed, l.last_fail);
		}
		TH_LOG("round %ld: %d devices (%d mid-handshake), rmmod %lld ms (%d times busy), %ld events",
		       r, s.n, s.syncing, dt, busy, l.adds + l.changes + l.removes);
		bsk_mon_stop(&self->cli);
		bsk_genl_close(&mon);
		ledger_free(&l);

		/* The dump loop is alive, not stuck in the kernel. */
		ASSERT_EQ(0, waitpid(dumper, &st, WNOHANG)) {
			TH_LOG("the dump loop died: status %#x", st);
		}
		ASSERT_EQ(0, r + 1 < rounds ? insmod_slow() :
					     bsk_modprobe_bootshake());
		if (_metadata->passed == 0)
			break;
	}

	kill(dumper, SIGTERM);
	{
		int st;

		EXPECT_EQ(dumper, waitpid(dumper, &st, 0));
		self->dumper = 0;
		EXPECT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGTERM) {
			TH_LOG("the dump loop ended with status %#x", st);
		}
	}
	for (i = 0; i < self->n; i++)
		storm_stop(&devs[i]);
	/* Module loaded with its defaults again; no device left. */
	for (i = 0; i < 50 && devices_now() > 0; i++)
		msleep(100 * bsk_scale());
	EXPECT_EQ(0, devices_now());
	TH_LOG("%ld rounds, slowest rmmod %lld ms", rounds, worst);
}

TEST_F_TIMEOUT(stress, plug_storm, 7200)
{
	long cycles = env_long("BSK_STORM_CYCLES", 40), done = 0, restarts = 0;
	long self_gone = 0, mid = 0;
	struct storm_dev *devs = self->devs;
	long long slab0, slab1, vm0, vm1, t0, next_log;
	/* Long enough to enumerate and bind under a debug kernel in TCG. */
	int bind_ms = 20000 * bsk_scale();
	struct bsk_genl mon;
	struct ledger l;
	int i, leaks;

	settle_memory();
	slab0 = kmalloc_bytes();
	vm0 = meminfo("VmallocUsed");
	ASSERT_EQ(0, devices_now());
	ASSERT_EQ(0, bsk_genl_monitor(&mon));
	ledger_init(&l);

	t0 = bsk_now_ms();
	next_log = t0 + 30000;
	for (i = 0; i < self->n; i++) {
		snprintf(devs[i].udc, sizeof(devs[i].udc), "dummy_udc.%d", i);
		ASSERT_EQ(0, storm_start(&devs[i]));
		devs[i].due = bsk_now_ms() + bind_ms;
	}

	/*
	 * Each device: plug, wait for its add event, keep it 0..600 ms (so
	 * that some are unplugged mid-handshake, some after it), unplug,
	 * wait for its remove event, 0..200 ms off the bus, again.  One in
	 * five unplugs ends the emulator too and a fresh one (new kind and
	 * faults) takes the UDC.
	 */
	while (done < cycles) {
		long long now;
		int ret;

		ret = storm_poll(&mon, &l, devs, self->n, &self_gone);
		ASSERT_EQ(0, ret) {
			TH_LOG("monitor socket: %s", strerror(-ret));
		}

		now = bsk_now_ms();
		for (i = 0; i < self->n && done < cycles; i++) {
			struct storm_dev *s = &devs[i];

			if (s->running && waitpid(s->emu.pid, NULL, WNOHANG) > 0) {
				/* It exited by itself: start another. */
				s->emu.pid = -1;
				s->running = false;
				s->state = ST_OFF;
			}
			switch (s->state) {
			case ST_OFF:
				ASSERT_EQ(0, storm_start(s));
				s->due = now + bind_ms;
				restarts++;
				break;
			case ST_PLUGGING:
				ASSERT_LT(now, s->due) {
					TH_LOG("%s (%s on %s) not bound after %d ms",
					       s->emu.path, s->personality, s->udc,
					       bind_ms);
				}
				break;
			case ST_BOUND:
				if (now < s->due)
					break;
				done++;
				if (s->last_state == BOOTSHAKE_STATE_PROBED ||
				    s->last_state == BOOTSHAKE_STATE_SYNCING ||
				    s->last_state == BOOTSHAKE_STATE_IDENTIFYING)
					mid++;
				if (rnd(5) == 0) {
					storm_stop(s);
					/* Its remove event still comes. */
					s->state = ST_OFF;
				} else {
					kill(s->emu.pid, SIGUSR1);
					s->state = ST_UNPLUGGING;
					s->due = now + bind_ms;
				}
				break;
			case ST_UNPLUGGING:
				ASSERT_LT(now, s->due) {
					TH_LOG("device %u on %s: no remove event after %d ms",
					       s->id, s->udc, bind_ms);
				}
				break;
			case ST_IDLE:
				if (now < s->due)
					break;
				kill(s->emu.pid, SIGUSR2);
				s->state = ST_PLUGGING;
				s->due = now + bind_ms;
				break;
			}
		}
		if (now > next_log) {
			TH_LOG("%ld cycles, %ld adds, %ld removes, %lld s", done,
			       l.adds, l.removes, (now - t0) / 1000);
			next_log = now + 30000;
		}
	}
	for (i = 0; i < self->n; i++)
		storm_stop(&devs[i]);

	ASSERT_EQ(0, drain_until_closed(&mon, &l, 20000 * bsk_scale()));
	ASSERT_EQ(0, drain(&mon, &l, 500));
	TH_LOG("storm: %ld cycles in %lld s: %ld adds, %ld changes, %ld removes, %ld unplugged mid-handshake, %ld emulator restarts, %ld left by themselves, ids 1..%u",
	       done, (bsk_now_ms() - t0) / 1000, l.adds, l.changes, l.removes,
	       mid, restarts, self_gone, l.max_id);
	EXPECT_GE(l.adds, cycles);
	EXPECT_EQ(l.adds, l.removes);
	EXPECT_EQ(0, ledger_open(&l, "storm"));
	EXPECT_EQ(0, l.dup_adds);
	EXPECT_EQ(0, l.after_remove);
	EXPECT_EQ(0, l.remove_without_add);
	EXPECT_EQ(0, devices_now());
	bsk_genl_close(&mon);
	ledger_free(&l);

	settle_memory();
	slab1 = kmalloc_bytes();
	vm1 = meminfo("VmallocUsed");
	TH_LOG("kmalloc slabs %lld -> %lld bytes (%+lld), vmalloc %lld -> %lld (%+lld)",
	       slab0, slab1, slab1 - slab0, vm0, vm1, vm1 - vm0);
	if (slab0 >= 0 && slab1 >= 0)
		EXPECT_LT(slab1 - slab0, 1LL << 20);
	if (vm0 >= 0 && vm1 >= 0)
		EXPECT_LT(vm1 - vm0, 1LL << 20);
	leaks = kmemleak_bootshake();
	if (leaks < 0)
		TH_LOG("no kmemleak in this kernel: slab counters only");
	else
		EXPECT_EQ(0, leaks);
}

TEST_HARNESS_MAIN
