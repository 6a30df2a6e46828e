// SPDX-License-Identifier: GPL-2.0
/*
 * tty_sync - benchmark contender 3: the tty path (SP Flash Tool's, and
 * every serial tool's).
 *
 *   tty_sync [--count N] [--timeout-ms T] [--step-ms MS]
 *            [--sync-step-ms MS] [--sync-ms MS]
 *
 * cdc_acm owns the device.  The program watches /dev with inotify (no
 * polling), prints "listening" (flushed) once the watch is in place, and
 * for every /dev/ttyACM* that appears starts a thread that opens it raw
 * (O_NONBLOCK, cfmakeraw, CLOCAL, input flushed), syncs A0 0A 50 05 one
 * byte out, one byte in, and reads the identity (mtk_host.c).  Prints
 *
 *   done ttyACM0 ok brom hw_code=0x0766 ...
 *   done ttyACM0 fail <reason>
 *
 * and exits 0 once N devices synced and identified (1 on any failure or
 * when T ms pass first).  It does not time itself: the benchmark takes
 * every timestamp from the emulator's log.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/inotify.h>
#include <termios.h>
#include <unistd.h>

#include "mtk_host.h"

#define MTK_PID_BROM	0x0003

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static int n_ok, n_fail, n_running;
static int step_ms = 100, sync_step_ms = 500, sync_ms = 10000;
static int wake_fd[2];

struct tty_job {
	char name[64];
};

static int x_write(void *priv, const uint8_t *buf, size_t len, int timeout_ms)
{
	int fd = *(int *)priv;
	long long deadline = mtk_now_ms() + timeout_ms;

	while (len) {
		ssize_t n = write(fd, buf, len);

		if (n > 0) {
			buf += n;
			len -= (size_t)n;
			continue;
		}
		if (n < 0 && errno != EAGAIN && errno != EINTR)
			return -errno;
		if (n < 0 && errno == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };
			long long l = deadline - mtk_now_ms();

			if (l <= 0 || poll(&p, 1, (int)l) == 0)
				return -ETIMEDOUT;
		}
	}
	return 0;
}

static int x_read(void *priv, uint8_t *buf, size_t max, int timeout_ms)
{
	int fd = *(int *)priv;
	struct pollfd p = { .fd = fd, .events = POLLIN };
	ssize_t n;
	int r;

	for (;;) {
		r = poll(&p, 1, timeout_ms);
		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0)
			return -errno;
		if (r == 0)
			return -ETIMEDOUT;
		if (p.revents & (POLLHUP | POLLERR | POLLNVAL))
			return -ENODEV;
		n = read(fd, buf, max);
		if (n > 0)
			return (int)n;
		if (n == 0)
			return -ENODEV;	/* hung up */
		if (errno != EAGAIN && errno != EINTR)
			return -errno;
	}
}

static void finish(const char *name, bool ok, const char *what)
{
	pthread_mutex_lock(&lock);
	printf("done %s %s %s\n", name, ok ? "ok" : "fail", what);
	fflush(stdout);
	if (ok)
		n_ok++;
	else
		n_fail++;
	pthread_mutex_unlock(&lock);
}

/* The worker has closed its tty: main() may count it and exit. */
static void worker_exit(void)
{
	char one = 1;

	pthread_mutex_lock(&lock);
	n_running--;
	pthread_mutex_unlock(&lock);
	if (write(wake_fd[1], &one, 1) < 0)
		perror("wake");
}

/* idProduct of the USB device behind /dev/@name, or -1. */
static int usb_pid(const char *name)
{
	char p[256], buf[16];
	int fd, n;

	snprintf(p, sizeof(p), "/sys/class/tty/%s/device/../idProduct", name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return (int)strtol(buf, NULL, 16);
}

static int open_raw(const char *path)
{
	struct termios t;
	int fd;

	fd = open(path, O_RDWR | O_NOCTTY | O_NONBLOCK | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (tcgetattr(fd, &t) == 0) {
		cfmakeraw(&t);
		t.c_cflag |= CLOCAL | CREAD;
		t.c_cc[VMIN] = 0;
		t.c_cc[VTIME] = 0;
		tcsetattr(fd, TCSANOW, &t);
	}
	tcflush(fd, TCIFLUSH);	/* nothing before our first A0 counts */
	return fd;
}

static void *worker(void *arg)
{
	struct tty_job *job = arg;
	char path[128], what[256];
	struct mtk_ident id = { 0 };
	struct mtk_xport x = { x_write, x_read, NULL, 512 };
	struct mtk_host h = { .x = &x, .step_ms = step_ms,
			      .sync_step_ms = sync_step_ms, .sync_ms = sync_ms };
	int fd, r, tries;

	snprintf(path, sizeof(path), "/dev/%s", job->name);
	/*
	 * The node can appear a moment before the tty behind it can be
	 * opened (ENXIO, ENODEV): retry briefly, as serial tools do.
	 */
	for (tries = 0; tries < 500; tries++) {
		fd = open_raw(path);
		if (fd != -ENXIO && fd != -ENODEV && fd != -ENOENT)
			break;
		usleep(1000);
	}
	if (fd < 0) {
		snprintf(what, sizeof(what), "open: %s", strerror(-fd));
		finish(job->name, false, what);
		free(job);
		worker_exit();
		return NULL;
	}
	x.priv = &fd;
	/* the USB ID behind the tty: a preloader gets one lone A0 first */
	h.preloader = usb_pid(job->name) != MTK_PID_BROM;
	r = mtk_host_sync(&h, &id);
	if (!r)
		r = mtk_host_identify(&h, &id);
	if (r) {
		snprintf(what, sizeof(what), "handshake: %s", strerror(-r));
		finish(job->name, false, what);
	} else {
		size_t l;

		mtk_ident_str(&id, what, sizeof(what));
		l = strlen(what);
		snprintf(what + l, sizeof(what) - l, " open_retries=%d", tries);
		finish(job->name, true, what);
	}
	close(fd);
	free(job);
	worker_exit();
	return NULL;
}

static void start(const char *name)
{
	struct tty_job *job = calloc(1, sizeof(*job));
	pthread_t t;

	if (!job) {
		pthread_mutex_lock(&lock);
		n_running++;
		pthread_mutex_unlock(&lock);
		finish(name, false, "out of memory");
		worker_exit();
		return;
	}
	snprintf(job->name, sizeof(job->name), "%s", name);
	pthread_mutex_lock(&lock);
	n_running++;
	pthread_mutex_unlock(&lock);
	if (pthread_create(&t, NULL, worker, job)) {
		free(job);
		finish(name, false, "pthread_create");
		worker_exit();
		return;
	}
	pthread_detach(t);
}

static void usage(void)
{
	fprintf(stderr,
		"usage: tty_sync [--count N] [--timeout-ms T] [--step-ms MS]\n"
		"       [--sync-step-ms MS] [--sync-ms MS]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "count", required_argument, NULL, 'n' },
		{ "timeout-ms", required_argument, NULL, 't' },
		{ "step-ms", required_argument, NULL, 's' },
		{ "sync-ms", required_argument, NULL, 'S' },
		{ "sync-step-ms", required_argument, NULL, 'b' },
		{ NULL, 0, NULL, 0 }
	};
	char buf[4096] __attribute__((aligned(__alignof__(struct inotify_event))));
	int count = 1, timeout_ms = 60000, c, ifd, r;
	long long deadline;
	bool done = false;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			count = atoi(optarg);
			break;
		case 't':
			timeout_ms = atoi(optarg);
			break;
		case 's':
			step_ms = atoi(optarg);
			break;
		case 'S':
			sync_ms = atoi(optarg);
			break;
		case 'b':
			sync_step_ms = atoi(optarg);
			break;
		default:
			usage();
		}
	}
	if (count < 1 || timeout_ms < 1 || step_ms < 1 || sync_ms < 1 ||
	    sync_step_ms < 1)
		usage();

	if (pipe2(wake_fd, O_CLOEXEC | O_NONBLOCK)) {
		perror("pipe");
		return 1;
	}
	ifd = inotify_init1(IN_CLOEXEC | IN_NONBLOCK);
	if (ifd < 0 || inotify_add_watch(ifd, "/dev", IN_CREATE) < 0) {
		perror("inotify /dev");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);

	deadline = mtk_now_ms() + timeout_ms;
	while (!done) {
		struct pollfd p[2] = {
			{ .fd = ifd, .events = POLLIN },
			{ .fd = wake_fd[0], .events = POLLIN },
		};
		long long l = deadline - mtk_now_ms();
		ssize_t n;
		char *q;

		if (l <= 0)
			break;
		r = poll(p, 2, (int)l);
		if (r < 0 && errno != EINTR) {
			perror("poll");
			break;
		}
		while ((n = read(ifd, buf, sizeof(buf))) > 0) {
			for (q = buf; q < buf + n;) {
				struct inotify_event *e = (void *)q;

				if (e->len && !strncmp(e->name, "ttyACM", 6))
					start(e->name);
				q += sizeof(*e) + e->len;
			}
		}
		while (read(wake_fd[0], buf, sizeof(buf)) > 0)
			;
		pthread_mutex_lock(&lock);
		done = n_ok + n_fail >= count && !n_running;
		pthread_mutex_unlock(&lock);
	}

	pthread_mutex_lock(&lock);
	r = n_ok >= count && !n_fail ? 0 : 1;
	if (r)
		fprintf(stderr, "tty_sync: %d ok, %d failed, %d running of %d\n",
			n_ok, n_fail, n_running, count);
	pthread_mutex_unlock(&lock);
	return r;
}
