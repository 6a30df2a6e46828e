/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bootshake CLI: "monitor --exec", a job per device that becomes ready.
 */
#ifndef BOOTSHAKE_USER_EXEC_H
#define BOOTSHAKE_USER_EXEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct bs_dev;
struct bs_field;
struct bs_nl;
struct bs_exec;

/* Defaults of --jobs and --grace. */
#define BS_EXEC_JOBS		1
#define BS_EXEC_JOBS_MAX	1024
#define BS_EXEC_GRACE_MS	5000

struct bs_exec_opts {
	const char	*cmd;		/* --exec: run as /bin/sh -c CMD */
	uint32_t	kinds;		/* --kind: 1 << kind each; 0: every kind */
	unsigned int	jobs;		/* --jobs: at most this many at once */
	bool		release;	/* --release before each job starts */
	int		grace_ms;	/* --grace: device gone -> SIGTERM -> SIGKILL */
	const char	*device;	/* --device: an id or a USB path; NULL: all */
	bool		once;		/* --once: end after the first job */
};

/*
 * How a job event ("job-start", "job-exit", "job-cancel") reaches the
 * monitor's output and journal: the device as last seen, extra fields,
 * a journal priority (-1: the default).
 */
typedef void (*bs_exec_emit_fn)(void *arg, const char *event,
				const struct bs_dev *dev,
				const struct bs_field *f, size_t n, int prio);

/*
 * Blocks SIGCHLD (jobs are reaped through a signalfd). @req is a socket
 * for requests (RELEASE). NULL with the error reported on failure.
 */
struct bs_exec *bs_exec_new(const struct bs_exec_opts *o, struct bs_nl *req,
			    bs_exec_emit_fn emit, void *arg);
/* Frees; call bs_exec_stop() first when jobs may be running. */
void bs_exec_free(struct bs_exec *ex);

/*
 * A device event the monitor has printed: "exists" (a dump), "add",
 * "change", "remove". Takes @dev over (it is cleared). A device that has
 * become ready gets a job queued; bs_exec_run() starts it.
 */
void bs_exec_event(struct bs_exec *ex, const char *event, struct bs_dev *dev);
/* Around a dump (--dump, resync): devices the dump lacks have left. */
void bs_exec_dump_begin(struct bs_exec *ex);
void bs_exec_dump_end(struct bs_exec *ex);

/* The descriptor to poll for POLLIN (the SIGCHLD signalfd). */
int bs_exec_fd(const struct bs_exec *ex);
/* Milliseconds until the next grace period ends; -1: none pending. */
int bs_exec_timeout(const struct bs_exec *ex);
/* Reap ended jobs, send the signals that are due, start queued jobs. */
void bs_exec_run(struct bs_exec *ex);
/*
 * Nothing more to do (--once: a job has ended, or a dump queued none;
 * --device: the device is gone and its job has ended). @status: the exit
 * status of the first job (128 + signal), 0 without one.
 */
bool bs_exec_done(const struct bs_exec *ex, int *status);
/*
 * The monitor is ending: queued jobs are cancelled, running ones get
 * SIGTERM, SIGKILL after the grace period, and are reaped (their events
 * emitted). Returns what bs_exec_done() would put in @status.
 */
int bs_exec_stop(struct bs_exec *ex);

#endif /* BOOTSHAKE_USER_EXEC_H */
