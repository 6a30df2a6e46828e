// SPDX-License-Identifier: GPL-2.0
/*
 * Helpers for the bootshake selftests; see bsk_test.h.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <regex.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <linux/netlink.h>
#include <libgen.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "bsk_test.h"

#define BSK_MAX_ARGS 32

int bsk_scale(void)
{
	const char *s = getenv("BSK_TIME_SCALE");
	int v = s ? atoi(s) : 1;

	return v > 0 ? v : 1;
}

long long bsk_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

const char *bsk_repo(void)
{
	const char *s = getenv("BSK_REPO");

	return s ? s : ".";
}

static pid_t bsk_spawn(char *const argv[], int *in_fd, int *out_fd,
		       bool quiet_stdout)
{
	int in[2] = { -1, -1 }, out[2] = { -1, -1 };
	pid_t pid;

	if ((in_fd && pipe2(in, O_CLOEXEC)) ||
	    (out_fd && pipe2(out, O_CLOEXEC)))
		return -1;

	pid = fork();
	if (pid < 0)
		return -1;
	if (!pid) {
		if (in_fd)
			dup2(in[0], 0);
		if (out_fd)
			dup2(out[1], 1);
		else if (quiet_stdout)
			dup2(open("/dev/null", O_WRONLY), 1);
		execv(argv[0], argv);
		fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
		_exit(127);
	}
	if (in_fd) {
		close(in[0]);
		*in_fd = in[1];
	}
	if (out_fd) {
		close(out[1]);
		*out_fd = out[0];
	}
	return pid;
}

/* Wait for @pid with a deadline; kill it when the deadline passes. */
static int bsk_reap(pid_t pid, int timeout_ms)
{
	int pidfd = syscall(SYS_pidfd_open, pid, 0);
	int status;

	if (pidfd >= 0) {
		struct pollfd p = { .fd = pidfd, .events = POLLIN };

		if (poll(&p, 1, timeout_ms) == 0) {
			fprintf(stderr, "# pid %d did not exit in %d ms, killing\n",
				pid, timeout_ms);
			kill(pid, SIGKILL);
		}
		close(pidfd);
	}
	if (waitpid(pid, &status, 0) != pid)
		return -1;
	return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

int bsk_udc_path(const char *udc, char *path, size_t len)
{
	char dir[PATH_MAX];
	const char *idx = strrchr(udc, '.');
	struct dirent *de;
	DIR *d;
	int ret = -1;

	/* dummy_udc.N is paired with dummy_hcd.N, whose root hub is usbB. */
	if (!idx)
		return -1;
	snprintf(dir, sizeof(dir), "/sys/devices/platform/dummy_hcd%s", idx);
	d = opendir(dir);
	if (!d)
		return -1;
	while ((de = readdir(d))) {
		if (!strncmp(de->d_name, "usb", 3) &&
		    de->d_name[3] >= '1' && de->d_name[3] <= '9') {
			snprintf(path, len, "%s-1", de->d_name + 3);
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

int bsk_emu_spawn(struct bsk_emu *emu, const char *personality,
		  const char *udc, const char *const *faults)
{
	char bin[PATH_MAX], seed[32];
	char *argv[BSK_MAX_ARGS];
	int n = 0;

	memset(emu, 0, sizeof(*emu));
	emu->pid = -1;
	snprintf(emu->udc, sizeof(emu->udc), "%s", udc);
	if (bsk_udc_path(udc, emu->path, sizeof(emu->path)))
		return -1;

	snprintf(bin, sizeof(bin), "%s/selftests/emu/bsk-emu", bsk_repo());
	snprintf(seed, sizeof(seed), "%d", (int)getpid());
	argv[n++] = bin;
	argv[n++] = "--personality";
	argv[n++] = (char *)personality;
	argv[n++] = "--udc";
	argv[n++] = (char *)udc;
	argv[n++] = "--seed";
	argv[n++] = seed;
	for (; faults && *faults && n < BSK_MAX_ARGS - 3; faults++) {
		argv[n++] = "--fault";
		argv[n++] = (char *)*faults;
	}
	argv[n] = NULL;

	emu->pid = bsk_spawn(argv, &emu->in_fd, &emu->out_fd, false);
	return emu->pid > 0 ? 0 : -1;
}

int bsk_emu_start(struct bsk_emu *emu, const char *personality,
		  const char *udc, const char *const *faults)
{
	long long deadline;
	char buf[256];
	size_t len = 0;

	if (bsk_emu_spawn(emu, personality, udc, faults))
		return -1;

	deadline = bsk_now_ms() + 5000LL * bsk_scale();
	while (bsk_now_ms() < deadline) {
		struct pollfd p = { .fd = emu->out_fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, deadline - bsk_now_ms()) <= 0)
			break;
		r = read(emu->out_fd, buf + len, sizeof(buf) - 1 - len);
		if (r <= 0)
			break;
		len += r;
		buf[len] = 0;
		if (strstr(buf, "ready\n"))
			return 0;
		if (len == sizeof(buf) - 1)
			len = 0;
	}
	fprintf(stderr, "# bsk-emu on %s never became ready\n", udc);
	bsk_emu_stop(emu);
	return -1;
}

int bsk_emu_stop(struct bsk_emu *emu)
{
	int ret;

	if (emu->pid <= 0)
		return -1;
	close(emu->in_fd);
	kill(emu->pid, SIGTERM);
	ret = bsk_reap(emu->pid, 5000 * bsk_scale());
	close(emu->out_fd);
	emu->pid = -1;
	return ret;
}

int bsk_emu_wait_exit(struct bsk_emu *emu, int timeout_ms)
{
	int ret;

	if (emu->pid <= 0)
		return -1;
	ret = bsk_reap(emu->pid, timeout_ms);
	close(emu->in_fd);
	close(emu->out_fd);
	emu->pid = -1;
	return ret;
}

static char *bsk_helper(void)
{
	static char bin[PATH_MAX];

	snprintf(bin, sizeof(bin), "%s/user/bootshake", bsk_repo());
	return bin;
}

int bsk_mon_start(struct bsk_mon *mon)
{
	char *argv[] = { bsk_helper(), "-j", "monitor", "--dump", NULL };
	json_object *done;

	memset(mon, 0, sizeof(*mon));
	mon->pid = bsk_spawn(argv, NULL, &mon->fd, false);
	if (mon->pid <= 0)
		return -1;
	/*
	 * The monitor joins the group before it dumps, so once the dump is
	 * done no event can be missed: only then may a test plug a device.
	 * "exists" lines before the marker stay queued for bsk_mon_wait().
	 */
	done = bsk_mon_wait_event(mon, "dump-done", 10000 * bsk_scale());
	if (!done) {
		fprintf(stderr, "# monitor never finished its dump\n");
		bsk_mon_stop(mon);
		return -1;
	}
	json_object_put(done);
	return 0;
}

void bsk_mon_stop(struct bsk_mon *mon)
{
	if (mon->pid <= 0)
		return;
	kill(mon->pid, SIGTERM);
	bsk_reap(mon->pid, 2000 * bsk_scale());
	close(mon->fd);
	mon->pid = -1;
}

static bool bsk_in_list(const char *list, const char *word)
{
	size_t n = strlen(word);
	const char *p = list;

	if (!word[0])
		return false;
	while ((p = strstr(p, word))) {
		if ((p == list || p[-1] == ',') && (p[n] == ',' || !p[n]))
			return true;
		p += n;
	}
	return false;
}

/* Take one complete line out of the monitor buffer, or NULL. */
static char *bsk_mon_line(struct bsk_mon *mon, char *line, size_t size)
{
	char *nl = memchr(mon->buf, '\n', mon->len);
	size_t n;

	if (!nl)
		return NULL;
	n = nl - mon->buf;
	if (n >= size)
		n = size - 1;
	memcpy(line, mon->buf, n);
	line[n] = 0;
	mon->len -= nl + 1 - mon->buf;
	memmove(mon->buf, nl + 1, mon->len);
	return line;
}

json_object *bsk_mon_wait_event(struct bsk_mon *mon, const char *event,
				int timeout_ms)
{
	long long deadline = bsk_now_ms() + timeout_ms;
	char *nl, *start;
	size_t scanned = 0;

	/* Look for the line without consuming the lines before it. */
	for (;;) {
		while ((nl = memchr(mon->buf + scanned, '\n',
				    mon->len - scanned))) {
			json_object *obj;
			const char *e;

			start = mon->buf + scanned;
			*nl = 0;
			obj = json_tokener_parse(start);
			*nl = '\n';
			e = bsk_json_str(obj, "event");
			if (e && !strcmp(e, event)) {
				size_t rest = mon->len - (nl + 1 - mon->buf);

				memmove(start, nl + 1, rest);
				mon->len = scanned + rest;
				return obj;
			}
			json_object_put(obj);
			scanned = nl + 1 - mon->buf;
		}

		long long left = deadline - bsk_now_ms();
		struct pollfd pfd = { .fd = mon->fd, .events = POLLIN };
		ssize_t r;

		if (left <= 0 || mon->len == sizeof(mon->buf) ||
		    poll(&pfd, 1, left) <= 0)
			return NULL;
		r = read(mon->fd, mon->buf + mon->len,
			 sizeof(mon->buf) - mon->len);
		if (r <= 0)
			return NULL;
		mon->len += r;
	}
}

json_object *bsk_mon_wait(struct bsk_mon *mon, const char *path,
			  const char *events, const char *states,
			  int timeout_ms)
{
	long long deadline = bsk_now_ms() + timeout_ms;
	static char line[8192];

	for (;;) {
		json_object *obj;

		while (bsk_mon_line(mon, line, sizeof(line))) {
			const char *p, *e, *s;

			fprintf(stderr, "# monitor: %s\n", line);
			obj = json_tokener_parse(line);
			if (!obj)
				continue;
			p = bsk_json_str(obj, "path");
			e = bsk_json_str(obj, "event");
			s = bsk_json_str(obj, "state");
			if (p && !strcmp(p, path) &&
			    (!events || (e && bsk_in_list(events, e))) &&
			    (!states || (s && bsk_in_list(states, s))))
				return obj;
			json_object_put(obj);
		}

		long long left = deadline - bsk_now_ms();
		struct pollfd pfd = { .fd = mon->fd, .events = POLLIN };
		ssize_t r;

		if (left <= 0 || poll(&pfd, 1, left) <= 0)
			return NULL;
		if (mon->len == sizeof(mon->buf))
			mon->len = 0;	/* a line that long is garbage */
		r = read(mon->fd, mon->buf + mon->len,
			 sizeof(mon->buf) - mon->len);
		if (r <= 0)
			return NULL;
		mon->len += r;
	}
}

static int bsk_collect_args(char **argv, int first, const char *arg,
			    va_list ap)
{
	int n = first;

	for (; arg && n < BSK_MAX_ARGS - 1; arg = va_arg(ap, const char *))
		argv[n++] = (char *)arg;
	argv[n] = NULL;
	return n;
}

json_object *bsk_cli_json(int *exit_status, const char *arg, ...)
{
	char *argv[BSK_MAX_ARGS];
	static char out[1 << 16];
	size_t len = 0;
	json_object *obj;
	va_list ap;
	int fd, st;
	pid_t pid;

	argv[0] = bsk_helper();
	argv[1] = "-j";
	va_start(ap, arg);
	bsk_collect_args(argv, 2, arg, ap);
	va_end(ap);

	pid = bsk_spawn(argv, NULL, &fd, false);
	if (pid < 0)
		return NULL;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, 10000 * bsk_scale()) <= 0)
			break;
		r = read(fd, out + len, sizeof(out) - 1 - len);
		if (r <= 0)
			break;
		len += r;
	}
	out[len] = 0;
	close(fd);
	st = bsk_reap(pid, 5000 * bsk_scale());
	if (exit_status)
		*exit_status = st;
	obj = json_tokener_parse(out);
	if (!obj)
		fprintf(stderr, "# not JSON from bootshake: %s\n", out);
	return obj;
}

json_object *bsk_json_find_path(json_object *arr, const char *path)
{
	size_t i;

	if (!json_object_is_type(arr, json_type_array))
		return NULL;
	for (i = 0; i < json_object_array_length(arr); i++) {
		json_object *d = json_object_array_get_idx(arr, i);
		const char *p = bsk_json_str(d, "path");

		if (p && !strcmp(p, path))
			return d;
	}
	return NULL;
}

const char *bsk_json_str(json_object *obj, const char *key)
{
	json_object *v;

	if (!obj || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_string))
		return NULL;
	return json_object_get_string(v);
}

long long bsk_json_int(json_object *obj, const char *key, long long dflt)
{
	json_object *v;

	if (!obj || !json_object_object_get_ex(obj, key, &v) ||
	    !json_object_is_type(v, json_type_int))
		return dflt;
	return json_object_get_int64(v);
}

bool bsk_json_bool(json_object *obj, const char *key)
{
	json_object *v;

	return obj && json_object_object_get_ex(obj, key, &v) &&
	       json_object_is_type(v, json_type_boolean) &&
	       json_object_get_boolean(v);
}

int bsk_run(const char *arg, ...)
{
	char *argv[BSK_MAX_ARGS];
	va_list ap;
	pid_t pid;

	va_start(ap, arg);
	bsk_collect_args(argv, 0, arg, ap);
	va_end(ap);
	pid = bsk_spawn(argv, NULL, NULL, false);
	if (pid < 0)
		return -1;
	return bsk_reap(pid, 30000 * bsk_scale());
}

int bsk_modprobe_bootshake(void)
{
	const char *ko = getenv("BSK_KO");
	char def[PATH_MAX];

	if (!ko) {
		snprintf(def, sizeof(def), "%s/bootshake.ko", bsk_repo());
		ko = def;
	}
	return bsk_run("/sbin/insmod", ko, NULL);
}

int bsk_rmmod_bootshake(void)
{
	return bsk_run("/sbin/rmmod", "bootshake", NULL);
}

int bsk_set_param(const char *name, const char *value)
{
	char p[PATH_MAX];
	int fd, ok;

	snprintf(p, sizeof(p), "/sys/module/bootshake/parameters/%s", name);
	fd = open(p, O_WRONLY);
	if (fd < 0)
		return -1;
	ok = write(fd, value, strlen(value)) == (ssize_t)strlen(value);
	close(fd);
	return ok ? 0 : -1;
}

int bsk_kmsg_mark(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

int bsk_kmsg_splats(int fd)
{
	char path[PATH_MAX], pat[512], rec[8192];
	regex_t res[64];
	int nres = 0, hits = 0, i;
	FILE *f;

	if (fd < 0)
		return 0;
	snprintf(path, sizeof(path), "%s/selftests/vm/splat-patterns",
		 bsk_repo());
	f = fopen(path, "r");
	if (!f) {
		fprintf(stderr, "# cannot read %s\n", path);
		return 1;
	}
	while (nres < 64 && fgets(pat, sizeof(pat), f)) {
		pat[strcspn(pat, "\n")] = 0;
		if (!pat[0] || pat[0] == '#')
			continue;
		if (!regcomp(&res[nres], pat, REG_EXTENDED | REG_NOSUB))
			nres++;
	}
	fclose(f);

	for (;;) {
		ssize_t r = read(fd, rec, sizeof(rec) - 1);

		if (r < 0 && errno == EPIPE)
			continue;	/* overwritten records: go on */
		if (r <= 0)
			break;
		rec[r] = 0;
		for (i = 0; i < nres; i++) {
			if (!regexec(&res[i], rec, 0, NULL, 0)) {
				fprintf(stderr, "# kernel splat: %s", rec);
				hits++;
				break;
			}
		}
	}
	for (i = 0; i < nres; i++)
		regfree(&res[i]);
	close(fd);
	return hits;
}

int bsk_uevent_open(void)
{
	struct sockaddr_nl sa = {
		.nl_family = AF_NETLINK,
		.nl_groups = 1,		/* the kernel's uevent group */
	};
	int fd, size = 1 << 20;

	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC,
		    NETLINK_KOBJECT_UEVENT);
	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof(size));
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		close(fd);
		return -1;
	}
	return fd;
}

static bool bsk_uevent_has(const char *msg, size_t len, const char *kv)
{
	size_t off = 0;

	while (off < len) {
		if (!strcmp(msg + off, kv))
			return true;
		off += strlen(msg + off) + 1;
	}
	return false;
}

int bsk_uevent_wait(int fd, const char *action, const char *devpath_end,
		    const char *const *props, int timeout_ms)
{
	long long deadline = bsk_now_ms() + timeout_ms;
	char msg[8192], want[256];

	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		long long left = deadline - bsk_now_ms();
		const char *const *kv;
		const char *dp = NULL;
		size_t off = 0;
		ssize_t r;
		bool ok;

		if (left <= 0 || poll(&p, 1, left) <= 0)
			return -1;
		r = recv(fd, msg, sizeof(msg) - 1, 0);
		if (r <= 0)
			continue;
		msg[r] = 0;

		snprintf(want, sizeof(want), "ACTION=%s", action);
		ok = bsk_uevent_has(msg, r, want);
		for (kv = props; ok && kv && *kv; kv++)
			ok = bsk_uevent_has(msg, r, *kv);
		while (ok && off < (size_t)r) {
			if (!strncmp(msg + off, "DEVPATH=", 8))
				dp = msg + off + 8;
			off += strlen(msg + off) + 1;
		}
		if (ok && dp && strlen(dp) >= strlen(devpath_end) &&
		    !strcmp(dp + strlen(dp) - strlen(devpath_end), devpath_end))
			return 0;
	}
}

const char *bsk_intf_driver(const char *intf, char *buf, size_t len)
{
	char link[PATH_MAX], target[PATH_MAX];
	ssize_t n;

	snprintf(link, sizeof(link), "/sys/bus/usb/devices/%s/driver", intf);
	n = readlink(link, target, sizeof(target) - 1);
	if (n < 0) {
		snprintf(buf, len, "%s", "");
		return buf;
	}
	target[n] = 0;
	snprintf(buf, len, "%s", basename(target));
	return buf;
}

/* --- added for the MediaTek scenario tests --- */

int bsk_emu_start_ex(struct bsk_emu *emu, const char *personality,
		     const char *udc, const char *const *faults,
		     const char *const *extra, bool wait_ready)
{
	char bin[PATH_MAX], seed[32], buf[256];
	char *argv[BSK_MAX_ARGS * 2];
	long long deadline;
	size_t len = 0;
	int n = 0;

	memset(emu, 0, sizeof(*emu));
	emu->pid = -1;
	snprintf(emu->udc, sizeof(emu->udc), "%s", udc);
	if (bsk_udc_path(udc, emu->path, sizeof(emu->path)))
		return -1;

	snprintf(bin, sizeof(bin), "%s/selftests/emu/bsk-emu", bsk_repo());
	snprintf(seed, sizeof(seed), "%d", (int)getpid());
	argv[n++] = bin;
	argv[n++] = "--personality";
	argv[n++] = (char *)personality;
	argv[n++] = "--udc";
	argv[n++] = (char *)udc;
	argv[n++] = "--seed";
	argv[n++] = seed;
	for (; extra && *extra && n < BSK_MAX_ARGS; extra++)
		argv[n++] = (char *)*extra;
	for (; faults && *faults && n < 2 * BSK_MAX_ARGS - 3; faults++) {
		argv[n++] = "--fault";
		argv[n++] = (char *)*faults;
	}
	argv[n] = NULL;

	emu->pid = bsk_spawn(argv, &emu->in_fd, &emu->out_fd, false);
	if (emu->pid <= 0)
		return -1;
	if (!wait_ready)
		return 0;

	deadline = bsk_now_ms() + 5000LL * bsk_scale();
	while (bsk_now_ms() < deadline) {
		struct pollfd p = { .fd = emu->out_fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, deadline - bsk_now_ms()) <= 0)
			break;
		r = read(emu->out_fd, buf + len, sizeof(buf) - 1 - len);
		if (r <= 0)
			break;
		len += r;
		buf[len] = 0;
		if (strstr(buf, "ready\n"))
			return 0;
		if (len == sizeof(buf) - 1)
			len = 0;
	}
	fprintf(stderr, "# bsk-emu on %s never became ready\n", udc);
	bsk_emu_stop(emu);
	return -1;
}

int bsk_emu_log_count(const char *log, const char *needle)
{
	char line[8192];
	int n = 0;
	FILE *f;

	f = fopen(log, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		n += strstr(line, needle) != NULL;
	fclose(f);
	return n;
}

int bsk_emu_log_events(const char *log, const char *event)
{
	size_t len = strlen(event);
	char line[8192];
	int n = 0;
	FILE *f;

	f = fopen(log, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *p = line + strspn(line, "0123456789");

		if (p > line && *p == ' ' && !strncmp(p + 1, event, len) &&
		    (p[1 + len] == ' ' || p[1 + len] == '\n' || !p[1 + len]))
			n++;
	}
	fclose(f);
	return n;
}

void bsk_emu_log_print(const char *log)
{
	char line[8192];
	FILE *f;

	f = fopen(log, "r");
	if (!f)
		return;
	while (fgets(line, sizeof(line), f))
		fprintf(stderr, "# emu: %s", line);
	fclose(f);
}

int bsk_cli(const char *arg, ...)
{
	char *argv[BSK_MAX_ARGS];
	va_list ap;
	pid_t pid;

	argv[0] = bsk_helper();
	va_start(ap, arg);
	bsk_collect_args(argv, 1, arg, ap);
	va_end(ap);
	pid = bsk_spawn(argv, NULL, NULL, true);
	if (pid < 0)
		return -1;
	return bsk_reap(pid, 10000 * bsk_scale());
}

json_object *bsk_transcript(long long id)
{
	char ids[32];
	json_object *tr;
	int st;

	snprintf(ids, sizeof(ids), "%lld", id);
	tr = bsk_cli_json(&st, "transcript", ids, NULL);
	if (st || !json_object_object_get_ex(tr, "records", NULL)) {
		fprintf(stderr, "# bootshake transcript %s: exit %d\n", ids, st);
		json_object_put(tr);
		return NULL;
	}
	return tr;
}

size_t bsk_tr_bytes(json_object *tr, const char *dir, char *hex, size_t len)
{
	json_object *recs;
	size_t i, n = 0, used = 0;

	if (hex && len)
		hex[0] = 0;
	if (!json_object_object_get_ex(tr, "records", &recs))
		return 0;
	for (i = 0; i < json_object_array_length(recs); i++) {
		json_object *r = json_object_array_get_idx(recs, i);
		const char *d = bsk_json_str(r, "dir");
		const char *h = bsk_json_str(r, "hex");

		if (!d || !h || strcmp(d, dir))
			continue;
		n += strlen(h) / 2;
		if (hex && used + strlen(h) < len) {
			memcpy(hex + used, h, strlen(h) + 1);
			used += strlen(h);
		}
	}
	return n;
}

int bsk_tr_notes(json_object *tr, const char *prefix)
{
	json_object *recs;
	size_t i;
	int n = 0;

	if (!json_object_object_get_ex(tr, "records", &recs))
		return 0;
	for (i = 0; i < json_object_array_length(recs); i++) {
		json_object *r = json_object_array_get_idx(recs, i);
		const char *d = bsk_json_str(r, "dir");
		const char *t = bsk_json_str(r, "text");

		if (d && t && !strcmp(d, "note") &&
		    !strncmp(t, prefix, strlen(prefix)))
			n++;
	}
	return n;
}

void bsk_tr_print(json_object *tr)
{
	json_object *recs;
	size_t i;

	if (!json_object_object_get_ex(tr, "records", &recs))
		return;
	for (i = 0; i < json_object_array_length(recs); i++) {
		json_object *r = json_object_array_get_idx(recs, i);
		const char *d = bsk_json_str(r, "dir");
		const char *t = bsk_json_str(r, "text");

		fprintf(stderr, "# tr: %10.3f ms %-4s %s\n",
			bsk_json_int(r, "t_ns", 0) / 1e6, d ? d : "?",
			t ? t : bsk_json_str(r, "hex"));
	}
}

const char *bsk_json_sub_str(json_object *obj, const char *sub,
			     const char *key)
{
	json_object *o;

	if (!obj || !json_object_object_get_ex(obj, sub, &o))
		return NULL;
	return bsk_json_str(o, key);
}

long long bsk_json_sub_int(json_object *obj, const char *sub,
			   const char *key, long long dflt)
{
	json_object *o;

	if (!obj || !json_object_object_get_ex(obj, sub, &o))
		return dflt;
	return bsk_json_int(o, key, dflt);
}

bool bsk_json_has(json_object *obj, const char *key)
{
	return obj && json_object_object_get_ex(obj, key, NULL);
}

static void bsk_read_param(const char *name, char *buf, size_t len,
			   const char *dflt)
{
	char p[PATH_MAX];
	FILE *f;

	snprintf(buf, len, "%s", dflt);
	snprintf(p, sizeof(p), "/sys/module/bootshake/parameters/%s", name);
	f = fopen(p, "r");
	if (!f)
		return;
	if (!fgets(buf, (int)len, f))
		snprintf(buf, len, "%s", dflt);
	buf[strcspn(buf, "\n")] = 0;
	fclose(f);
}


int bsk_runv(const char *const *argv)
{
	pid_t pid = bsk_spawn((char *const *)argv, NULL, NULL, false);

	if (pid < 0)
		return -1;
	return bsk_reap(pid, 30000 * bsk_scale());
}

/* --- helpers added for the STM32 tests (selftests/tests/stm32_*.c) --- */

int bsk_emu_start_args(struct bsk_emu *emu, const char *personality,
		       const char *udc, const char *const *faults,
		       const char *const *extra)
{
	char bin[PATH_MAX], seed[32], buf[256];
	char *argv[BSK_MAX_ARGS * 2];
	long long deadline;
	size_t len = 0;
	int n = 0;

	memset(emu, 0, sizeof(*emu));
	emu->pid = -1;
	snprintf(emu->udc, sizeof(emu->udc), "%s", udc);
	if (bsk_udc_path(udc, emu->path, sizeof(emu->path)))
		return -1;
	snprintf(bin, sizeof(bin), "%s/selftests/emu/bsk-emu", bsk_repo());
	snprintf(seed, sizeof(seed), "%d", (int)getpid());
	argv[n++] = bin;
	argv[n++] = "--personality";
	argv[n++] = (char *)personality;
	argv[n++] = "--udc";
	argv[n++] = (char *)udc;
	argv[n++] = "--seed";
	argv[n++] = seed;
	for (; extra && *extra && n < BSK_MAX_ARGS; extra++)
		argv[n++] = (char *)*extra;
	for (; faults && *faults && n < 2 * BSK_MAX_ARGS - 3; faults++) {
		argv[n++] = "--fault";
		argv[n++] = (char *)*faults;
	}
	argv[n] = NULL;
	emu->pid = bsk_spawn(argv, &emu->in_fd, &emu->out_fd, false);
	if (emu->pid <= 0)
		return -1;

	deadline = bsk_now_ms() + 5000LL * bsk_scale();
	while (bsk_now_ms() < deadline) {
		struct pollfd p = { .fd = emu->out_fd, .events = POLLIN };
		ssize_t r;

		if (poll(&p, 1, deadline - bsk_now_ms()) <= 0)
			break;
		r = read(emu->out_fd, buf + len, sizeof(buf) - 1 - len);
		if (r <= 0)
			break;
		len += r;
		buf[len] = 0;
		if (strstr(buf, "ready\n"))
			return 0;
		if (len == sizeof(buf) - 1)
			len = 0;
	}
	fprintf(stderr, "# bsk-emu on %s never became ready\n", udc);
	bsk_emu_stop(emu);
	return -1;
}

int bsk_file_count(const char *path, const char *needle)
{
	char line[4096];
	int n = 0;
	FILE *f = fopen(path, "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (strstr(line, needle))
			n++;
	fclose(f);
	return n;
}

int bsk_run_output(char *out, size_t len, const char *arg, ...)
{
	char *argv[BSK_MAX_ARGS];
	size_t used = 0;
	va_list ap;
	int fd, st;
	pid_t pid;

	va_start(ap, arg);
	bsk_collect_args(argv, 0, arg, ap);
	va_end(ap);
	pid = bsk_spawn(argv, NULL, &fd, false);
	if (pid < 0)
		return -1;
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		char sink[512];
		ssize_t r;

		if (poll(&p, 1, 30000 * bsk_scale()) <= 0)
			break;
		if (used + 1 < len)
			r = read(fd, out + used, len - 1 - used);
		else
			r = read(fd, sink, sizeof(sink));
		if (r <= 0)
			break;
		if (used + 1 < len)
			used += r;
	}
	if (len)
		out[used] = 0;
	close(fd);
	st = bsk_reap(pid, 30000 * bsk_scale());
	return st;
}

int bsk_policy_restore(const char *kind, const char *mode, int step_ms,
		       int sync_ms, bool disarm)
{
	char step[32], sync[32];
	int bad = 0;

	if (step_ms > 0)
		snprintf(step, sizeof(step), "%d", step_ms);
	else
		bsk_read_param("step_timeout_ms", step, sizeof(step), "100");
	if (sync_ms > 0)
		snprintf(sync, sizeof(sync), "%d", sync_ms);
	else
		bsk_read_param("sync_timeout_ms", sync, sizeof(sync), "3000");
	if (mode)
		bad += !!bsk_cli("policy", kind, mode, "--step-timeout", step,
				 "--sync-timeout", sync, NULL);
	else
		bad += !!bsk_cli("policy", kind, "--step-timeout", step,
				 "--sync-timeout", sync, NULL);
	if (disarm)
		bad += !!bsk_cli("arm", kind, "--count", "0", NULL);
	return bad ? -1 : 0;
}

const char *bsk_helper_path(void)
{
	return bsk_helper();
}
