// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake CLI: "monitor --exec CMD", a job per device that becomes ready.
 *
 * The monitor feeds every device event it prints into bs_exec_event().  A
 * device whose state turns "ready" (from anything else, or when first
 * seen) gets a job queued, FIFO; at most --jobs run at once.  Starting one
 * (bs_exec_run()): --release first, then fork, and the child runs
 * /bin/sh -c CMD in a process group of its own, with the identity in
 * BOOTSHAKE_* environment variables, the device's JSON on stdin (a memfd:
 * the job may read it or not, whenever it likes) and stdout and stderr on
 * the monitor's stderr (its stdout is the event stream).
 *
 * A job is its process group, as a service is its cgroup: it has ended
 * when the last process in the group has, not when sh has (sh dies of a
 * SIGTERM that the script it runs may trap). The monitor is a child
 * subreaper (PR_SET_CHILD_SUBREAPER), so what a job leaves behind is
 * reparented to it and reaped here; "exit_code" / "signal" are sh's (CMD
 * "exec tool ..." makes them the tool's).
 *
 * Jobs are reaped through a signalfd for SIGCHLD that the monitor polls
 * beside its netlink socket; the grace periods are that poll's timeout.
 * Nothing here ever sleeps or spins.
 *
 * A device that leaves while its job runs: the job's process group gets
 * SIGTERM after the grace period, SIGKILL after another; "job-exit" says
 * device_gone. A queued job whose device leaves, or stops being ready, is
 * dropped with a "job-cancel" event. Every job queued ends in exactly one
 * "job-exit" or "job-cancel".
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <json-c/json.h>
#include <netlink/attr.h>
#include <netlink/msg.h>

#include <linux/bootshake.h>

#include "dev.h"
#include "exec.h"
#include "nl.h"
#include "print.h"

/* syslog(3) priorities of the job events in the journal */
#define PRI_WARNING	4
#define PRI_NOTICE	5
#define PRI_INFO	6

struct job {
	struct job	*next;
	unsigned long	seq;		/* 1, 2, ... in the order queued */
	struct bs_dev	dev;		/* the device as last seen (owned) */
	pid_t		pid;		/* 0 while queued */
	int64_t		queued_at;	/* CLOCK_MONOTONIC, ms */
	int64_t		started_at;
	int64_t		kill_at;	/* when the next signal is due, -1 */
	int		sent;		/* last signal sent: 0, SIGTERM, SIGKILL */
	int		wstatus;	/* sh's, once leader_done */
	bool		leader_done;	/* sh has been reaped */
	bool		gone;		/* its device left while it ran */
	bool		abandoned;	/* stop: did not die even from SIGKILL */
};

/* What the monitor knows of one device. */
struct devst {
	uint32_t	id;
	uint32_t	state;		/* enum bootshake_state, 0 unknown */
	bool		seen;		/* in the dump going on */
	struct job	*job;		/* queued or running, or NULL */
};

struct bs_exec {
	struct bs_exec_opts	o;
	struct bs_nl		*req;
	bs_exec_emit_fn		emit;
	void			*arg;
	int			sfd;		/* signalfd for SIGCHLD */

	struct job		*queue;		/* FIFO */
	struct job		*running;
	unsigned int		nrunning;
	unsigned long		seq;

	struct devst		*devs;
	size_t			ndevs;
	size_t			capdevs;

	bool			by_id;		/* --device is an id */
	uint32_t		dev_id;
	bool			target_gone;	/* --device has left */
	bool			events_seen;	/* a netlink event arrived */
	bool			idle_dump;	/* the first dump queued nothing */
	bool			stopping;
	unsigned long		ended;		/* jobs ended or cancelled */
	int			first_status;
};

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "SIGTERM"; the buffer for unknown numbers. */
static const char *sig_name(int sig, char *buf, size_t len)
{
	const char *abbrev = sigabbrev_np(sig);

	if (abbrev)
		snprintf(buf, len, "SIG%s", abbrev);
	else
		snprintf(buf, len, "SIG%d", sig);
	return buf;
}

/* --- bookkeeping ---------------------------------------------------------- */

static struct devst *dev_find(struct bs_exec *ex, uint32_t id)
{
	size_t i;

	for (i = 0; i < ex->ndevs; i++)
		if (ex->devs[i].id == id)
			return &ex->devs[i];
	return NULL;
}

static struct devst *dev_add(struct bs_exec *ex, uint32_t id)
{
	struct devst *d;

	if (ex->ndevs == ex->capdevs) {
		size_t cap = ex->capdevs ? 2 * ex->capdevs : 16;

		d = realloc(ex->devs, cap * sizeof(*d));
		if (!d)
			return NULL;
		ex->devs = d;
		ex->capdevs = cap;
	}
	d = &ex->devs[ex->ndevs++];
	memset(d, 0, sizeof(*d));
	d->id = id;
	return d;
}

static void dev_del(struct bs_exec *ex, struct devst *d)
{
	*d = ex->devs[--ex->ndevs];
}

static void unlink_job(struct job **list, struct job *j)
{
	for (; *list; list = &(*list)->next) {
		if (*list == j) {
			*list = j->next;
			j->next = NULL;
			return;
		}
	}
}

/* Take @dev over as the job's picture of its device. */
static void job_take_dev(struct job *j, struct bs_dev *dev)
{
	bs_dev_clear(&j->dev);
	j->dev = *dev;
	memset(dev, 0, sizeof(*dev));
}

/* The job has ended or was cancelled: its device may get another one. */
static void job_done(struct bs_exec *ex, struct job *j, int status)
{
	struct devst *d = dev_find(ex, j->dev.id);

	if (d && d->job == j)
		d->job = NULL;
	if (!ex->ended++)
		ex->first_status = status;
	bs_dev_clear(&j->dev);
	free(j);
}

/* --- events ----------------------------------------------------------------- */

static void emit_cancel(struct bs_exec *ex, struct job *j, const char *cause,
			const char *err)
{
	struct bs_field f[] = {
		{ "job", BS_FIELD_INT, .i = j->seq },
		{ "cause", BS_FIELD_STR, .s = cause },
		{ "device_gone", BS_FIELD_BOOL, .i = !strcmp(cause, "device-gone") },
		{ "release_error", err ? BS_FIELD_STR : BS_FIELD_NULL, .s = err },
	};

	ex->emit(ex->arg, "job-cancel", &j->dev, f, err ? 4 : 3, PRI_NOTICE);
}

/* A queued job that will not run: "job-cancel" with why. */
static void job_cancel(struct bs_exec *ex, struct job *j, const char *cause,
		       const char *err, int status)
{
	unlink_job(&ex->queue, j);
	emit_cancel(ex, j, cause, err);
	job_done(ex, j, status);
}

static void emit_exit(struct bs_exec *ex, struct job *j, int wstatus)
{
	char sig[24], sent[24];
	bool exited = !j->abandoned && WIFEXITED(wstatus);
	bool killed = !j->abandoned && WIFSIGNALED(wstatus);
	struct bs_field f[] = {
		{ "job", BS_FIELD_INT, .i = j->seq },
		{ "job_pid", BS_FIELD_INT, .i = j->pid },
		{ "exit_code", exited ? BS_FIELD_INT : BS_FIELD_NULL,
		  .i = exited ? WEXITSTATUS(wstatus) : 0 },
		{ "signal", killed ? BS_FIELD_STR : BS_FIELD_NULL,
		  .s = killed ? sig_name(WTERMSIG(wstatus), sig, sizeof(sig)) :
		  NULL },
		{ "duration_ms", BS_FIELD_INT, .i = now_ms() - j->started_at },
		{ "device_gone", BS_FIELD_BOOL, .i = j->gone },
		{ "sent_signal", j->sent ? BS_FIELD_STR : BS_FIELD_NULL,
		  .s = j->sent ? sig_name(j->sent, sent, sizeof(sent)) : NULL },
		{ "abandoned", BS_FIELD_BOOL, .i = 1 },
	};
	bool clean = exited && !WEXITSTATUS(wstatus);

	ex->emit(ex->arg, "job-exit", &j->dev, f, j->abandoned ? 8 : 7,
		 clean ? PRI_INFO : PRI_WARNING);
}

/* --- starting a job ---------------------------------------------------------- */

static const char *const env_names[] = {
	"BOOTSHAKE_ID", "BOOTSHAKE_PATH", "BOOTSHAKE_KIND", "BOOTSHAKE_STATE",
	"BOOTSHAKE_VID", "BOOTSHAKE_PID", "BOOTSHAKE_USB_ID",
	"BOOTSHAKE_BUSNUM", "BOOTSHAKE_DEVNUM", "BOOTSHAKE_DEVNAME",
	"BOOTSHAKE_SPEED", "BOOTSHAKE_SYNC_US", "BOOTSHAKE_HW_CODE",
	"BOOTSHAKE_CHIP", "BOOTSHAKE_ME_ID", "BOOTSHAKE_SOC_ID",
	"BOOTSHAKE_FAMILY", "BOOTSHAKE_ERROR", "BOOTSHAKE_JOB",
};

static void envf(const char *name, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void envf(const char *name, const char *fmt, ...)
{
	char val[256];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	setenv(name, val, 1);
}

/*
 * In the child: the identity as the uevent names it (BOOTSHAKE_ID, _KIND,
 * _STATE, _PATH, _HW_CODE, _CHIP, _FAMILY, _ERROR), and more of it.
 */
static void job_env(const struct job *j)
{
	const struct bs_dev *dev = &j->dev;
	char buf[2 * BS_ID_MAX + 1], name[BS_NAME_LEN];
	size_t i;

	for (i = 0; i < sizeof(env_names) / sizeof(env_names[0]); i++)
		unsetenv(env_names[i]);
	envf("BOOTSHAKE_JOB", "%lu", j->seq);
	envf("BOOTSHAKE_ID", "%u", dev->id);
	if (dev->path)
		setenv("BOOTSHAKE_PATH", dev->path, 1);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_KIND))
		setenv("BOOTSHAKE_KIND",
		       bs_kind_name(dev->kind, name, sizeof(name)), 1);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE))
		setenv("BOOTSHAKE_STATE",
		       bs_state_name(dev->state, name, sizeof(name)), 1);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_VID) ||
	    BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_PID)) {
		envf("BOOTSHAKE_VID", "%04x", dev->vid);
		envf("BOOTSHAKE_PID", "%04x", dev->pid);
		envf("BOOTSHAKE_USB_ID", "%04x:%04x", dev->vid, dev->pid);
	}
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_BUSNUM) &&
	    BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_DEVNUM)) {
		envf("BOOTSHAKE_BUSNUM", "%03u", dev->busnum);
		envf("BOOTSHAKE_DEVNUM", "%03u", dev->devnum);
		envf("BOOTSHAKE_DEVNAME", "/dev/bus/usb/%03u/%03u",
		     dev->busnum, dev->devnum);
	}
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_SPEED))
		setenv("BOOTSHAKE_SPEED",
		       bs_speed_name(dev->speed, name, sizeof(name)), 1);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_SYNC_US))
		envf("BOOTSHAKE_SYNC_US", "%llu",
		     (unsigned long long)dev->sync_us);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_HW_CODE))
		envf("BOOTSHAKE_HW_CODE", "0x%04x", dev->mtk.hw_code);
	if (dev->mtk.chip)
		setenv("BOOTSHAKE_CHIP", dev->mtk.chip, 1);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_ME_ID))
		setenv("BOOTSHAKE_ME_ID", bs_hex(dev->mtk.me_id,
		       dev->mtk.me_id_len, buf, sizeof(buf)), 1);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_SOC_ID))
		setenv("BOOTSHAKE_SOC_ID", bs_hex(dev->mtk.soc_id,
		       dev->mtk.soc_id_len, buf, sizeof(buf)), 1);
	if (dev->stm32.family)
		setenv("BOOTSHAKE_FAMILY", dev->stm32.family, 1);
	if (dev->error_code)
		setenv("BOOTSHAKE_ERROR", dev->error_code, 1);
}

/* The device's JSON, as `bootshake -j show` has it (compact), in a memfd. */
static int job_stdin(const struct job *j)
{
	struct json_object *o = bs_dev_json(&j->dev, NULL);
	const char *s = json_object_to_json_string_ext(o,
				JSON_C_TO_STRING_PLAIN |
				JSON_C_TO_STRING_NOSLASHESCAPE);
	size_t len = strlen(s), off = 0;
	int fd = memfd_create("bootshake-job", MFD_CLOEXEC);

	if (fd < 0)
		goto out;
	while (off < len + 1) {
		/* the string, then a newline */
		ssize_t n = off < len ? write(fd, s + off, len - off) :
					write(fd, "\n", 1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			close(fd);
			fd = -1;
			goto out;
		}
		off += n;
	}
	if (lseek(fd, 0, SEEK_SET) < 0) {
		close(fd);
		fd = -1;
	}
out:
	json_object_put(o);
	return fd;
}

static void __attribute__((noreturn))
job_child(const struct bs_exec *ex, const struct job *j, int in)
{
	sigset_t none;

	setpgid(0, 0);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	signal(SIGPIPE, SIG_DFL);
	sigemptyset(&none);
	sigprocmask(SIG_SETMASK, &none, NULL);
	/* (a monitor started with fd 0 or 2 closed: keep the job sane) */
	if (in == 0 ? fcntl(0, F_SETFD, 0) < 0 : dup2(in, 0) < 0)
		_exit(127);
	if (dup2(2, 1) < 0) {
		int null = open("/dev/null", O_WRONLY);

		if (null < 0 || dup2(null, 1) < 0 || dup2(null, 2) < 0)
			_exit(127);
	}
	/* netlink, journal and signalfd are CLOEXEC; this is for the rest */
	syscall(SYS_close_range, 3, ~0U, 0);
	job_env(j);
	execl("/bin/sh", "sh", "-c", ex->o.cmd, (char *)NULL);
	fprintf(stderr, "bootshake: monitor --exec: cannot run /bin/sh: %s\n",
		strerror(errno));
	_exit(127);
}

static int job_release(struct bs_exec *ex, struct job *j)
{
	struct nl_msg *msg = bs_nl_msg(ex->req, BOOTSHAKE_CMD_RELEASE, 0);

	if (!msg || nla_put_u32(msg, BOOTSHAKE_A_DEV_ID, j->dev.id) < 0) {
		nlmsg_free(msg);
		return -ENOMEM;
	}
	return bs_nl_request(ex->req, msg, NULL, NULL);
}

/* Start the job at the head of the queue. */
static void job_start(struct bs_exec *ex, struct job *j)
{
	char name[BS_NAME_LEN];
	int in, ret;
	pid_t pid;

	unlink_job(&ex->queue, j);
	if (ex->o.release) {
		ret = job_release(ex, j);
		if (ret) {
			const char *e = bs_errno_name(-ret, name, sizeof(name));

			print_warning("monitor --release: device %u: %s%s%s%s",
				      j->dev.id, strerror(-ret),
				      ex->req->ext.msg[0] ? " (kernel: " : "",
				      ex->req->ext.msg,
				      ex->req->ext.msg[0] ? ")" : "");
			emit_cancel(ex, j, "release-failed", e);
			job_done(ex, j, 1);
			return;
		}
		/* the kernel's "released" change event follows */
		j->dev.state = BOOTSHAKE_STATE_RELEASED;
	}

	in = job_stdin(j);
	if (in < 0) {
		print_warning("monitor --exec: device %u: no memfd for the job's stdin: %s",
			      j->dev.id, strerror(errno));
		emit_cancel(ex, j, "spawn-failed", NULL);
		job_done(ex, j, 1);
		return;
	}
	fflush(stdout);
	fflush(stderr);
	pid = fork();
	if (pid < 0) {
		print_warning("monitor --exec: device %u: fork: %s", j->dev.id,
			      strerror(errno));
		close(in);
		emit_cancel(ex, j, "spawn-failed", NULL);
		job_done(ex, j, 1);
		return;
	}
	if (!pid)
		job_child(ex, j, in);
	/* both sides: no window in which the group does not exist yet */
	setpgid(pid, pid);
	close(in);

	j->pid = pid;
	j->started_at = now_ms();
	j->next = ex->running;
	ex->running = j;
	ex->nrunning++;
	{
		struct bs_field f[] = {
			{ "job", BS_FIELD_INT, .i = j->seq },
			{ "job_pid", BS_FIELD_INT, .i = pid },
			{ "queued_ms", BS_FIELD_INT,
			  .i = j->started_at - j->queued_at },
			{ "running", BS_FIELD_INT, .i = ex->nrunning },
			{ "released", BS_FIELD_BOOL, .i = ex->o.release },
		};

		ex->emit(ex->arg, "job-start", &j->dev, f, 5, PRI_INFO);
	}
}

/* --- the device events --------------------------------------------------- */

static bool wanted(const struct bs_exec *ex, const struct bs_dev *dev)
{
	if (ex->o.device) {
		if (ex->by_id ? dev->id != ex->dev_id :
		    !dev->path || strcmp(dev->path, ex->o.device))
			return false;
	}
	return true;
}

static bool kind_ok(const struct bs_exec *ex, const struct bs_dev *dev)
{
	if (!ex->o.kinds)
		return true;
	return BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_KIND) && dev->kind < 32 &&
	       (ex->o.kinds & (1u << dev->kind));
}

/* Its device left: cancel the queued job, start the clock on a running one. */
static void dev_gone(struct bs_exec *ex, struct devst *d, struct bs_dev *dev)
{
	struct job *j = d->job;

	if (ex->o.device)
		ex->target_gone = true;
	if (j) {
		if (dev)
			job_take_dev(j, dev);
		else
			j->dev.state = BOOTSHAKE_STATE_GONE;
		if (!j->pid) {
			job_cancel(ex, j, "device-gone", NULL, 0);
		} else if (!j->gone) {
			j->gone = true;
			if (!j->sent)
				j->kill_at = now_ms() + ex->o.grace_ms;
		}
	}
	dev_del(ex, d);
}

void bs_exec_event(struct bs_exec *ex, const char *event, struct bs_dev *dev)
{
	struct devst *d;
	uint32_t prev;
	struct job *j;

	if (strcmp(event, "exists"))
		ex->events_seen = true;
	if (!wanted(ex, dev))
		goto out;
	d = dev_find(ex, dev->id);

	if (!strcmp(event, "remove") ||
	    (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE) &&
	     dev->state == BOOTSHAKE_STATE_GONE)) {
		if (d)
			dev_gone(ex, d, dev);
		else if (ex->o.device)
			ex->target_gone = true;
		goto out;
	}
	if (ex->o.device)
		ex->target_gone = false;
	if (!d) {
		d = dev_add(ex, dev->id);
		if (!d) {
			print_warning("monitor --exec: out of memory");
			goto out;
		}
	}
	d->seen = true;
	if (!BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE))
		goto out;
	prev = d->state;
	d->state = dev->state;

	j = d->job;
	if (j) {
		/* one job per device at a time; it sees the news */
		job_take_dev(j, dev);
		if (!j->pid && j->dev.state != BOOTSHAKE_STATE_READY)
			job_cancel(ex, j, "not-ready", NULL, 0);
		goto out;
	}
	if (dev->state != BOOTSHAKE_STATE_READY ||
	    prev == BOOTSHAKE_STATE_READY || !kind_ok(ex, dev) || ex->stopping)
		goto out;

	j = calloc(1, sizeof(*j));
	if (!j) {
		print_warning("monitor --exec: out of memory, no job for device %u",
			      dev->id);
		goto out;
	}
	j->seq = ++ex->seq;
	j->queued_at = now_ms();
	j->kill_at = -1;
	job_take_dev(j, dev);
	d->job = j;
	/* FIFO: at the tail */
	{
		struct job **t = &ex->queue;

		while (*t)
			t = &(*t)->next;
		*t = j;
	}
out:
	bs_dev_clear(dev);
}

void bs_exec_dump_begin(struct bs_exec *ex)
{
	size_t i;

	for (i = 0; i < ex->ndevs; i++)
		ex->devs[i].seen = false;
}

void bs_exec_dump_end(struct bs_exec *ex)
{
	size_t i = 0;

	/* what the dump lacks has left while events were lost */
	while (i < ex->ndevs) {
		if (!ex->devs[i].seen)
			dev_gone(ex, &ex->devs[i], NULL);
		else
			i++;
	}
	if (ex->o.device && !ex->ndevs)
		ex->target_gone = true;
	if (!ex->events_seen && !ex->queue && !ex->running && !ex->ended)
		ex->idle_dump = true;
}

/* --- jobs running --------------------------------------------------------- */

static struct job *job_of_pgid(struct bs_exec *ex, pid_t pgid)
{
	struct job *j;

	for (j = ex->running; j; j = j->next)
		if (j->pid == pgid)
			return j;
	return NULL;
}

/* Has the group of @j no process left (all reaped, sh included)? */
static bool group_empty(const struct job *j)
{
	siginfo_t si;

	if (!j->leader_done)
		return false;
	/* none of ours in it: every member is a descendant, so none at all */
	memset(&si, 0, sizeof(si));
	return waitid(P_PGID, j->pid, &si, WEXITED | WNOHANG | WNOWAIT) < 0 &&
	       errno == ECHILD;
}

static void reap(struct bs_exec *ex)
{
	struct signalfd_siginfo ssi;
	struct job **p;

	/* the signals only say "look"; waitid() says who */
	while (read(ex->sfd, &ssi, sizeof(ssi)) == sizeof(ssi))
		;
	for (;;) {
		siginfo_t si;
		struct job *j;
		pid_t pid, pgid;
		int st;

		memset(&si, 0, sizeof(si));
		if (waitid(P_ALL, 0, &si, WEXITED | WNOHANG | WNOWAIT) < 0 ||
		    !si.si_pid)
			break;
		/* a zombie still has its group; then reap it */
		pid = si.si_pid;
		pgid = getpgid(pid);
		j = job_of_pgid(ex, pgid > 0 ? pgid : pid);
		if (waitpid(pid, &st, 0) != pid)
			break;
		if (j && pid == j->pid) {
			j->wstatus = st;
			j->leader_done = true;
		}
		/* else: a member of a job, or an orphan a job left: gone */
	}
	p = &ex->running;
	while (*p) {
		struct job *j = *p;
		int st = j->wstatus;

		if (!group_empty(j)) {
			p = &j->next;
			continue;
		}
		*p = j->next;
		ex->nrunning--;
		emit_exit(ex, j, st);
		job_done(ex, j, WIFEXITED(st) ? WEXITSTATUS(st) :
			 128 + WTERMSIG(st));
	}
}

static void send_signal(struct job *j, int sig)
{
	/* the whole group: sh and whatever it started */
	if (kill(-j->pid, sig) < 0)
		kill(j->pid, sig);
	j->sent = sig;
}

/* Signals whose time has come; @stopping: bound the wait after SIGKILL. */
static void timers(struct bs_exec *ex)
{
	int64_t now = now_ms();
	struct job **p = &ex->running;

	while (*p) {
		struct job *j = *p;

		if (j->kill_at < 0 || now < j->kill_at) {
			p = &j->next;
			continue;
		}
		if (j->sent != SIGTERM && j->sent != SIGKILL) {
			send_signal(j, SIGTERM);
			j->kill_at = now + ex->o.grace_ms;
		} else if (j->sent == SIGTERM) {
			send_signal(j, SIGKILL);
			j->kill_at = ex->stopping ?
				     now + (ex->o.grace_ms > 1000 ?
					    ex->o.grace_ms : 1000) : -1;
		} else {
			/* stopping, and SIGKILL did not end it: give it up */
			print_warning("monitor --exec: job %lu (pid %d) did not exit after SIGKILL; leaving it",
				      j->seq, j->pid);
			*p = j->next;
			ex->nrunning--;
			j->abandoned = true;
			emit_exit(ex, j, 0);
			job_done(ex, j, 1);
			continue;
		}
		p = &j->next;
	}
}

void bs_exec_run(struct bs_exec *ex)
{
	reap(ex);
	timers(ex);
	while (!ex->stopping && ex->queue && ex->nrunning < ex->o.jobs)
		job_start(ex, ex->queue);
}

int bs_exec_fd(const struct bs_exec *ex)
{
	return ex->sfd;
}

int bs_exec_timeout(const struct bs_exec *ex)
{
	int64_t now = now_ms(), best = -1;
	const struct job *j;

	for (j = ex->running; j; j = j->next) {
		if (j->kill_at < 0)
			continue;
		if (best < 0 || j->kill_at - now < best)
			best = j->kill_at - now > 0 ? j->kill_at - now : 0;
	}
	return best > 0x7fffffff ? 0x7fffffff : (int)best;
}

bool bs_exec_done(const struct bs_exec *ex, int *status)
{
	bool idle = !ex->queue && !ex->running;

	*status = ex->ended ? ex->first_status : 0;
	if (ex->o.once && (ex->ended || (ex->idle_dump && idle)))
		return true;
	return ex->o.device && ex->target_gone && idle;
}

int bs_exec_stop(struct bs_exec *ex)
{
	int64_t now = now_ms();
	struct job *j;
	int status;

	ex->stopping = true;
	while (ex->queue)
		job_cancel(ex, ex->queue, "monitor-exit", NULL, 0);
	for (j = ex->running; j; j = j->next) {
		if (j->sent == SIGKILL) {
			/* bound the wait for it too */
			j->kill_at = now + (ex->o.grace_ms > 1000 ?
					    ex->o.grace_ms : 1000);
		} else if (!j->sent) {
			send_signal(j, SIGTERM);
			j->kill_at = now + ex->o.grace_ms;
		}
	}
	reap(ex);
	while (ex->running) {
		struct pollfd pfd = { .fd = ex->sfd, .events = POLLIN };

		if (poll(&pfd, 1, bs_exec_timeout(ex)) < 0 && errno != EINTR)
			break;
		reap(ex);
		timers(ex);
	}
	bs_exec_done(ex, &status);
	return status;
}

/* --- setup ------------------------------------------------------------------ */

struct bs_exec *bs_exec_new(const struct bs_exec_opts *o, struct bs_nl *req,
			    bs_exec_emit_fn emit, void *arg)
{
	struct bs_exec *ex = calloc(1, sizeof(*ex));
	sigset_t chld;

	if (!ex) {
		print_error(ENOMEM, NULL, "monitor --exec: out of memory");
		return NULL;
	}
	ex->o = *o;
	ex->req = req;
	ex->emit = emit;
	ex->arg = arg;
	if (o->device)
		ex->by_id = bs_dev_parse_id(o->device, &ex->dev_id);

	/* what jobs leave behind is ours to reap (and to wait for) */
	if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0)
		print_warning("monitor --exec: cannot become a child subreaper: %s",
			      strerror(errno));
	/* SIGCHLD only through the signalfd (children unblock it) */
	sigemptyset(&chld);
	sigaddset(&chld, SIGCHLD);
	sigprocmask(SIG_BLOCK, &chld, NULL);
	ex->sfd = signalfd(-1, &chld, SFD_NONBLOCK | SFD_CLOEXEC);
	if (ex->sfd < 0) {
		print_error(errno, NULL, "monitor --exec: signalfd: %s",
			    strerror(errno));
		free(ex);
		return NULL;
	}
	return ex;
}

void bs_exec_free(struct bs_exec *ex)
{
	struct job *j;

	if (!ex)
		return;
	while ((j = ex->queue)) {
		ex->queue = j->next;
		bs_dev_clear(&j->dev);
		free(j);
	}
	while ((j = ex->running)) {
		ex->running = j->next;
		bs_dev_clear(&j->dev);
		free(j);
	}
	close(ex->sfd);
	free(ex->devs);
	free(ex);
}
