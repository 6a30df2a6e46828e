// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake CLI: "monitor", device events from the "monitor" group.
 *
 * Two sockets: one joined to the group and read with poll()/recvmsg(),
 * one for dumps (--dump and resync after ENOBUFS). The group is joined
 * before the first dump, so an event that races with the dump shows up
 * after it instead of being lost.
 *
 * --journal sends add/change/remove and resync events to the systemd
 * journal as well (journal.c); the "exists" lines and the "dump-done"
 * marker of --dump are a snapshot, not events, and stay on stdout only.
 *
 * --exec CMD runs a job per device that becomes ready (exec.c): every
 * device event goes to it too, and the loop polls its SIGCHLD signalfd
 * beside the netlink socket, with its grace periods as timeouts. Its
 * "job-start", "job-exit" and "job-cancel" events go out like the others.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <netlink/genl/genl.h>

#include <linux/bootshake.h>

#include "bootshake.h"
#include "dev.h"
#include "exec.h"
#include "journal.h"
#include "nl.h"
#include "print.h"

/* Room for a few thousand notifications before the kernel drops any. */
#define MON_RCVBUF	(4 << 20)
/* --rcvbuf: the kernel doubles the value and has its own floor */
#define MON_RCVBUF_MAX	(1 << 30)

struct mon {
	struct bs_nl	ntf;		/* subscribed */
	struct bs_nl	req;		/* dumps */
	unsigned long	count;		/* 0: no limit */
	unsigned long	seen;		/* add/change/remove printed */
	bool		journal;	/* --journal */
	struct bs_journal jr;
	int		jr_err;		/* last send error warned about */
	struct bs_exec	*exec;		/* --exec, or NULL */
};

static volatile sig_atomic_t mon_stop;

static void on_signal(int sig)
{
	(void)sig;
	mon_stop = 1;
}

/* One event: stdout, and the journal with --journal. */
static void mon_emit_fields(struct mon *m, const char *event,
			    const struct bs_dev *dev,
			    const struct timespec *ts, const char *note,
			    const struct bs_field *f, size_t n, int prio)
{
	int ret;

	print_event_fields(event, dev, ts, note, f, n);
	if (!m->journal || !strcmp(event, "exists") ||
	    !strcmp(event, "dump-done"))
		return;
	ret = bs_journal_event_fields(&m->jr, event, dev, note, f, n, prio);
	if (ret && ret != m->jr_err)
		print_warning("monitor: cannot write to the journal (%s): %s",
			      bs_journal_path(), strerror(-ret));
	m->jr_err = ret;
}

static void mon_emit(struct mon *m, const char *event,
		     const struct bs_dev *dev, const struct timespec *ts,
		     const char *note)
{
	mon_emit_fields(m, event, dev, ts, note, NULL, 0, -1);
}

/* exec.c's job events */
static void mon_job_emit(void *arg, const char *event,
			 const struct bs_dev *dev, const struct bs_field *f,
			 size_t n, int prio)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	mon_emit_fields(arg, event, dev, &ts, NULL, f, n, prio);
}

static const char *event_name(uint8_t cmd)
{
	switch (cmd) {
	case BOOTSHAKE_CMD_DEV_ADD_NTF:		return "add";
	case BOOTSHAKE_CMD_DEV_CHANGE_NTF:	return "change";
	case BOOTSHAKE_CMD_DEV_DEL_NTF:		return "remove";
	default:				return NULL;
	}
}

static int mon_ntf(const struct nlmsghdr *nlh, void *arg)
{
	struct bs_field read = { .key = "read_ns", .type = BS_FIELD_INT };
	struct mon *m = arg;
	const struct genlmsghdr *g;
	struct timespec ts;
	size_t nread = 0;
	struct bs_dev dev;
	const char *ev;
	char why[160];

	clock_gettime(CLOCK_REALTIME, &ts);
	if (nlh->nlmsg_len < NLMSG_HDRLEN + GENL_HDRLEN)
		return 0;
	g = NLMSG_DATA(nlh);
	ev = event_name(g->cmd);
	if (!ev)
		return 0;	/* a newer kernel's event: not ours to print */

	if (bs_dev_parse(nlh, &dev, why, sizeof(why))) {
		print_warning("ignoring malformed \"%s\" event: %s", ev, why);
		return 0;
	}
	/*
	 * Stamp the event with the kernel's send time when it has one (since
	 * EVENT_NS): this helper may read it long after, on a loaded machine.
	 * JSON keeps the time it was read as "read_ns".
	 */
	if (BS_DEV_HAS(&dev, BOOTSHAKE_A_DEV_EVENT_NS)) {
		read.i = (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
		ts.tv_sec = dev.event_ns / 1000000000ULL;
		ts.tv_nsec = dev.event_ns % 1000000000ULL;
		nread = bs_json;
	}
	mon_emit_fields(m, ev, &dev, &ts, NULL, &read, nread, -1);
	if (m->exec)
		bs_exec_event(m->exec, ev, &dev);	/* takes it */
	bs_dev_clear(&dev);

	m->seen++;
	return m->count && m->seen >= m->count ? 1 : 0;
}

static int mon_dump(struct mon *m)
{
	struct bs_dev_list list = { 0 };
	struct timespec ts;
	char why[160] = "";
	size_t i;
	int ret;

	ret = bs_dev_dump(&m->req, &list, why, sizeof(why));
	if (ret) {
		bs_report(&m->req, ret, why, "monitor: device dump");
		goto out;
	}
	clock_gettime(CLOCK_REALTIME, &ts);
	if (m->exec)
		bs_exec_dump_begin(m->exec);
	for (i = 0; i < list.n; i++) {
		mon_emit(m, "exists", &list.v[i], &ts, NULL);
		if (m->exec)
			bs_exec_event(m->exec, "exists", &list.v[i]);
	}
	if (m->exec)
		bs_exec_dump_end(m->exec);
	/*
	 * The group was joined before the dump: from here on the picture is
	 * complete, and scripts (and the selftests) may start plugging.
	 */
	mon_emit(m, "dump-done", NULL, &ts,
		 "current devices listed; events follow");
out:
	bs_dev_list_free(&list);
	return ret;
}

static int mon_resync(struct mon *m)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	print_warning("kernel dropped events (ENOBUFS, receive buffer %u bytes); re-reading the device list",
		      m->ntf.rx_buf);
	mon_emit(m, "resync", NULL, &ts,
		 "events were lost (ENOBUFS); current devices follow as \"exists\"");
	/* what is queued is older than the dump; the dump supersedes it */
	bs_nl_drain(&m->ntf);
	return mon_dump(m);
}

static int64_t mono_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int parse_count(const char *s, unsigned long *out)
{
	char *end;

	errno = 0;
	if (!*s || *s == '-')
		return -EINVAL;
	*out = strtoul(s, &end, 10);
	return errno || *end ? -EINVAL : 0;
}

static int parse_secs(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(*out) || *out < 0 ||
	    *out > INT_MAX / 1000)
		return -EINVAL;
	return 0;
}

/*
 * One poll() over the netlink socket and, with --exec, the jobs' signalfd;
 * the timeout is the nearest of --timeout and the jobs' grace periods.
 * *exec_done: ended because --once/--device have nothing more to do.
 */
static int mon_loop(struct mon *m, double timeout, bool *exec_done)
{
	int64_t deadline = -1;
	int ret;

	if (timeout >= 0)
		deadline = mono_ms() + (int64_t)(timeout * 1000 + 0.5);

	while (!mon_stop) {
		struct pollfd pfd[2] = {
			{ .fd = nl_socket_get_fd(m->ntf.sk), .events = POLLIN },
			{ .fd = m->exec ? bs_exec_fd(m->exec) : -1,
			  .events = POLLIN },
		};
		int wait = -1, n;

		if (m->exec) {
			bs_exec_run(m->exec);
			if (bs_exec_done(m->exec, &ret)) {
				*exec_done = true;
				return ret;
			}
			wait = bs_exec_timeout(m->exec);
		}
		if (m->count && m->seen >= m->count)
			return BS_EXIT_OK;
		if (deadline >= 0) {
			int64_t left = deadline - mono_ms();

			if (left < 0)
				left = 0;
			if (wait < 0 || left < wait)
				wait = left;
		}

		n = poll(pfd, m->exec ? 2 : 1, wait);
		if (n < 0 && errno != EINTR) {
			ret = -errno;
			print_error(ret, NULL, "monitor: poll failed: %s",
				    strerror(-ret));
			return BS_EXIT_ERROR;
		}
		ret = n > 0 && pfd[0].revents ?
		      bs_nl_recv_ntf(&m->ntf, 0, mon_ntf, m) : 0;
		if (ret == 0 && deadline >= 0 && mono_ms() >= deadline)
			return m->count && m->seen < m->count ?
			       BS_EXIT_TIMEOUT : BS_EXIT_OK;
		if (ret >= 0 || ret == -EINTR)
			continue;
		if (ret == -ENOBUFS) {
			if (mon_resync(m))
				return BS_EXIT_ERROR;
			continue;
		}
		if (ret == -EMSGSIZE) {
			print_warning("dropped an oversized netlink message");
			continue;
		}
		print_error(ret, NULL, "monitor: receive failed: %s",
			    strerror(-ret));
		return BS_EXIT_ERROR;
	}
	return BS_EXIT_OK;
}

/* --exec and its companions (long options only) */
enum {
	OPT_EXEC = 256,
	OPT_KIND,
	OPT_JOBS,
	OPT_RELEASE,
	OPT_GRACE,
	OPT_DEVICE,
	OPT_ONCE,
	OPT_RCVBUF,
};

/* --kind mtk-brom,stm32-dfu (or repeated): a mask of kinds */
static int parse_kinds(const char *s, uint32_t *mask)
{
	char *dup = strdup(s), *tok, *save = NULL;
	int ret = 0;

	if (!dup)
		return -ENOMEM;
	for (tok = strtok_r(dup, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		int k = bs_kind_parse(tok);

		if (k <= 0 || k >= 32) {
			ret = -EINVAL;
			break;
		}
		*mask |= 1u << k;
	}
	free(dup);
	return ret;
}

/* --exec CMD [--kind K] [--jobs N] [--release] [--grace S] [--device DEV]
 * [--once]; -1 if it is one of them and fine, 0 if not one of them, else
 * the exit code. */
static int exec_opt(int c, struct bs_exec_opts *x, int *given)
{
	unsigned long n;
	double secs;

	switch (c) {
	case OPT_EXEC:
		x->cmd = optarg;
		return -1;
	case OPT_KIND:
		if (parse_kinds(optarg, &x->kinds)) {
			print_error(EINVAL, NULL,
				    "monitor: --kind wants one of %s, not \"%s\"",
				    bs_kind_names_list(), optarg);
			return BS_EXIT_ERROR;
		}
		break;
	case OPT_JOBS:
		if (parse_count(optarg, &n) || !n || n > BS_EXEC_JOBS_MAX) {
			print_error(EINVAL, NULL,
				    "monitor: --jobs wants a number 1..%d, not \"%s\"",
				    BS_EXEC_JOBS_MAX, optarg);
			return BS_EXIT_ERROR;
		}
		x->jobs = n;
		break;
	case OPT_RELEASE:
		x->release = true;
		break;
	case OPT_GRACE:
		if (parse_secs(optarg, &secs)) {
			print_error(EINVAL, NULL,
				    "monitor: --grace wants seconds, not \"%s\"",
				    optarg);
			return BS_EXIT_ERROR;
		}
		x->grace_ms = (int)(secs * 1000 + 0.5);
		break;
	case OPT_DEVICE:
		if (bs_check_dev_arg("monitor: --device", optarg))
			return BS_EXIT_ERROR;
		x->device = optarg;
		break;
	case OPT_ONCE:
		x->once = true;
		break;
	default:
		return 0;
	}
	(*given)++;
	return -1;
}

int cmd_monitor(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json",	no_argument,		NULL, 'j' },
		{ "pretty",	no_argument,		NULL, 'p' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "dump",	no_argument,		NULL, 'd' },
		{ "count",	required_argument,	NULL, 'c' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ "journal",	no_argument,		NULL, 'J' },
		{ "exec",	required_argument,	NULL, OPT_EXEC },
		{ "kind",	required_argument,	NULL, OPT_KIND },
		{ "jobs",	required_argument,	NULL, OPT_JOBS },
		{ "release",	no_argument,		NULL, OPT_RELEASE },
		{ "grace",	required_argument,	NULL, OPT_GRACE },
		{ "device",	required_argument,	NULL, OPT_DEVICE },
		{ "once",	no_argument,		NULL, OPT_ONCE },
		{ "rcvbuf",	required_argument,	NULL, OPT_RCVBUF },
		{ }
	};
	struct sigaction sa = { .sa_handler = on_signal };
	struct mon m = { .jr = { .fd = -1 } };
	struct bs_exec_opts x = {
		.jobs = BS_EXEC_JOBS,
		.grace_ms = BS_EXEC_GRACE_MS,
	};
	bool dump = false, exec_done = false;
	unsigned long rcvbuf = MON_RCVBUF;
	double timeout = -1;
	int c, ret, exec_given = 0;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jphdc:t:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			bs_json = true;
			break;
		case 'p':
			/* accepted; events stay one compact object per line */
			bs_pretty = true;
			break;
		case 'h':
			bs_cmd_usage(argv[0], false);
			return BS_EXIT_OK;
		case 'd':
			dump = true;
			break;
		case 'J':
			m.journal = true;
			break;
		case 'c':
			if (parse_count(optarg, &m.count)) {
				print_error(EINVAL, NULL,
					    "monitor: --count wants a number, not \"%s\"",
					    optarg);
				return BS_EXIT_ERROR;
			}
			break;
		case 't':
			if (parse_secs(optarg, &timeout)) {
				print_error(EINVAL, NULL,
					    "monitor: --timeout wants seconds, not \"%s\"",
					    optarg);
				return BS_EXIT_ERROR;
			}
			break;
		case OPT_RCVBUF:
			if (parse_count(optarg, &rcvbuf) || !rcvbuf ||
			    rcvbuf > MON_RCVBUF_MAX) {
				print_error(EINVAL, NULL,
					    "monitor: --rcvbuf wants bytes, 1..%d, not \"%s\"",
					    MON_RCVBUF_MAX, optarg);
				return BS_EXIT_ERROR;
			}
			break;
		case ':':
			print_error(EINVAL, NULL, "monitor: %s needs a value",
				    bad_opt(argv, c));
			return BS_EXIT_ERROR;
		default:
			ret = exec_opt(c, &x, &exec_given);
			if (ret > 0)
				return ret;
			if (ret < 0)
				break;
			print_error(EINVAL, NULL,
				    "monitor: unknown option \"%s\"",
				    bad_opt(argv, c));
			return BS_EXIT_ERROR;
		}
	}
	if (optind < argc) {
		print_error(EINVAL, NULL, "monitor: unexpected argument \"%s\"",
			    argv[optind]);
		return BS_EXIT_ERROR;
	}
	if (exec_given && !x.cmd) {
		print_error(EINVAL, NULL,
			    "monitor: --kind, --jobs, --release, --grace, --device and --once go with --exec");
		return BS_EXIT_ERROR;
	}
	if (x.cmd && !x.cmd[0]) {
		print_error(EINVAL, NULL, "monitor: --exec wants a command");
		return BS_EXIT_ERROR;
	}

	/* no SA_RESTART: poll() must return so that we can exit cleanly */
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	if (m.journal) {
		ret = bs_journal_open(&m.jr);
		if (ret) {
			print_error(ret, NULL,
				    "monitor: --journal: cannot connect to %s: %s",
				    bs_journal_path(), strerror(-ret));
			return BS_EXIT_ERROR;
		}
	}
	if (bs_open(&m.ntf)) {
		bs_journal_close(&m.jr);
		return BS_EXIT_ERROR;
	}
	ret = bs_nl_subscribe(&m.ntf, BOOTSHAKE_MCGRP_MONITOR, (int)rcvbuf);
	if (ret) {
		print_error(ret, NULL,
			    "monitor: cannot join multicast group \"%s\": %s",
			    BOOTSHAKE_MCGRP_MONITOR, strerror(-ret));
		goto out_ntf;
	}
	if (bs_open(&m.req)) {
		ret = -ENOENT;
		goto out_ntf;
	}

	if (x.cmd) {
		if (x.release &&
		    bs_need(&m.req, BOOTSHAKE_FEAT_RELEASE, "monitor --release")) {
			ret = BS_EXIT_ERROR;
			goto out;
		}
		m.exec = bs_exec_new(&x, &m.req, mon_job_emit, &m);
		if (!m.exec) {
			ret = BS_EXIT_ERROR;
			goto out;
		}
	}

	if (dump && mon_dump(&m)) {
		ret = BS_EXIT_ERROR;
		goto out;
	}
	ret = mon_loop(&m, timeout, &exec_done);
out:
	if (m.exec) {
		/* queued jobs cancelled, running ones ended, all recorded */
		int st = bs_exec_stop(m.exec);

		if (exec_done)
			ret = st;
		bs_exec_free(m.exec);
	}
	bs_nl_close(&m.req);
	bs_nl_close(&m.ntf);
	bs_journal_close(&m.jr);
	return ret;
out_ntf:
	bs_nl_close(&m.ntf);
	bs_journal_close(&m.jr);
	return BS_EXIT_ERROR;
}
