// SPDX-License-Identifier: GPL-2.0
/*
 * bsk-emu: gadgetfs backend (see gadgetfs.h).
 *
 * gadgetfs on 6.1, as measured (../shared/testbed.md "Emulating devices"):
 * - one device system-wide: the filesystem is a single instance and its
 *   ep0 file ("dummy_udc", named after the first UDC) opens once; it
 *   binds the first free UDC when the descriptors are written, so this
 *   backend refuses to start unless @udc is that one;
 * - the ep0 data stage is limited to 256 bytes; OUT data stages complete
 *   on the host before userspace reads them and cannot be stalled, so the
 *   data is read first, at once;
 * - closing ep0 with a request queued crashes dummy_hcd: the gadget is
 *   always unbound from its UDC (driver unbind in sysfs) before ep0 is
 *   closed.  The same unbind is the unplug, and bind plugs in again.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <linux/usb/gadgetfs.h>

#include "gadgetfs.h"

#define GFS_RUN_DIR	"/run/bsk-emu"
#define GFS_MNT		GFS_RUN_DIR "/gadgetfs"
#define GFS_DRIVER	"/sys/bus/gadget/drivers/gadgetfs"
#define GFS_DESC_MAX	1024

struct gfs {
	struct emu_ctx *ctx;
	const struct emu_gfs_ops *ops;
	const char *udc;
	char gadget[32];	/* "gadget.N" of @udc on the gadget bus */
	bool mounted, plugged, ready, quit;
	int ep0, sfd;
	bool watch_stdin;
	int ret;
};

static int gfs_write_file(const char *path, const char *val)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : (n < 0 ? -errno : -EIO);
}

static int gfs_read_file(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static void gfs_hex(struct gfs *g, const char *what, const uint8_t *b,
		    size_t n)
{
	char hex[2 * EMU_GFS_EP0_MAX + 1];
	size_t i;

	if (n > EMU_GFS_EP0_MAX)
		n = EMU_GFS_EP0_MAX;
	for (i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", b[i]);
	hex[2 * n] = '\0';
	emu_log(g->ctx, "%s %s", what, hex);
}

static int gfs_modprobe(void)
{
	pid_t pid;
	int st;

	if (!access("/sys/module/gadgetfs", F_OK))
		return 0;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		execlp("modprobe", "modprobe", "gadgetfs", (char *)NULL);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
	    WEXITSTATUS(st))
		return -ENOENT;
	return 0;
}

/* "gadget.N" (the gadget bus device) of a UDC, from its platform device. */
static int gfs_gadget_of(const char *udc, char *out, size_t len)
{
	char path[PATH_MAX], real[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), "/sys/class/udc/%s/../..", udc);
	if (!realpath(path, real))
		return -errno;
	d = opendir(real);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (!strncmp(de->d_name, "gadget.", 7)) {
			snprintf(out, len, "%.*s", (int)len - 1, de->d_name);
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

/* The UDC of gadget bus device @gadget ("gadget.N"), into @out. */
static int gfs_udc_of(const char *gadget, char *out, size_t len)
{
	char path[PATH_MAX];
	struct dirent *de;
	DIR *d;
	int ret = -ENOENT;

	snprintf(path, sizeof(path), "/sys/bus/gadget/devices/%s/../udc",
		 gadget);
	d = opendir(path);
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (de->d_name[0] != '.') {
			snprintf(out, len, "%.*s", (int)len - 1, de->d_name);
			ret = 0;
			break;
		}
	}
	closedir(d);
	return ret;
}

/*
 * gadgetfs binds the first free UDC in gadget bus order (gadget.0,
 * gadget.1, ...).  Name it, so that a device never shows up on a port
 * the caller did not ask for.
 */
static int gfs_first_free_udc(char *out, size_t len)
{
	char udc[64], fn[256], path[PATH_MAX];
	int n, best = INT_MAX;
	struct dirent *de;
	DIR *d;

	d = opendir("/sys/bus/gadget/devices");
	if (!d)
		return -errno;
	while ((de = readdir(d))) {
		if (sscanf(de->d_name, "gadget.%d", &n) != 1 || n >= best)
			continue;
		if (gfs_udc_of(de->d_name, udc, sizeof(udc)))
			continue;
		snprintf(path, sizeof(path), "/sys/class/udc/%s/function", udc);
		if (gfs_read_file(path, fn, sizeof(fn)) || fn[0])
			continue;
		best = n;
		snprintf(out, len, "%s", udc);
	}
	closedir(d);
	return best == INT_MAX ? -EBUSY : 0;
}

static void gfs_unplug(struct gfs *g)
{
	if (!g->plugged)
		return;
	gfs_write_file(GFS_DRIVER "/unbind", g->gadget);
	g->plugged = false;
	emu_log(g->ctx, "unplug");
}

static void gfs_plug(struct gfs *g)
{
	int err;

	if (g->plugged)
		return;
	err = gfs_write_file(GFS_DRIVER "/bind", g->gadget);
	if (err) {
		emu_log(g->ctx, "error bind %d", err);
		return;
	}
	g->plugged = true;
	emu_log(g->ctx, "connect");
}

static int gfs_setup_device(struct gfs *g)
{
	uint8_t buf[4 + GFS_DESC_MAX];
	char first[64], path[PATH_MAX];
	int len, err;
	ssize_t n;

	err = gfs_modprobe();
	if (err) {
		fprintf(stderr, "bsk-emu: cannot load gadgetfs\n");
		return err;
	}
	err = gfs_gadget_of(g->udc, g->gadget, sizeof(g->gadget));
	if (err) {
		fprintf(stderr, "bsk-emu: no UDC %s\n", g->udc);
		return err;
	}
	err = gfs_first_free_udc(first, sizeof(first));
	if (err || strcmp(first, g->udc)) {
		fprintf(stderr, "bsk-emu: gadgetfs binds the first free UDC (%s), not %s\n",
			err ? "none" : first, g->udc);
		return -EBUSY;
	}

	mkdir(GFS_RUN_DIR, 0755);
	mkdir(GFS_MNT, 0755);
	if (mount("gadgetfs", GFS_MNT, "gadgetfs", 0, NULL)) {
		err = -errno;
		fprintf(stderr, "bsk-emu: mount gadgetfs: %s\n", strerror(errno));
		return err;
	}
	g->mounted = true;

	/* the ep0 file is named after the first UDC's gadget: "dummy_udc" */
	snprintf(path, sizeof(path), GFS_MNT "/dummy_udc");
	g->ep0 = open(path, O_RDWR | O_CLOEXEC | O_NONBLOCK);
	if (g->ep0 < 0) {
		err = -errno;
		fprintf(stderr, "bsk-emu: %s: %s (another gadgetfs device?)\n",
			path, strerror(errno));
		return err;
	}

	memset(buf, 0, 4);		/* tag 0: the format gadgetfs knows */
	len = g->ops->descs(g->ctx, buf + 4, GFS_DESC_MAX);
	if (len < 0)
		return len;
	n = write(g->ep0, buf, 4 + len);
	if (n != 4 + len) {
		err = n < 0 ? -errno : -EIO;
		fprintf(stderr, "bsk-emu: gadgetfs refused the descriptors: %s\n",
			strerror(-err));
		return err;
	}
	snprintf(path, sizeof(path), GFS_DRIVER "/%s", g->gadget);
	if (access(path, F_OK)) {
		fprintf(stderr, "bsk-emu: gadgetfs did not bind %s\n", g->udc);
		return -EBUSY;
	}
	g->plugged = true;
	emu_log(g->ctx, "connect");
	return 0;
}

static void gfs_teardown(struct gfs *g)
{
	/* unbind first: no ep0 request may be queued when ep0 closes */
	gfs_unplug(g);
	if (g->ep0 >= 0)
		close(g->ep0);
	g->ep0 = -1;
	if (g->mounted)
		umount(GFS_MNT);
	rmdir(GFS_MNT);
	rmdir(GFS_RUN_DIR);
}

static void gfs_stall(struct gfs *g, const struct usb_ctrlrequest *req)
{
	uint8_t dummy;
	ssize_t n;

	/* a stall is ep0 I/O in the wrong direction */
	if (req->bRequestType & USB_DIR_IN)
		n = read(g->ep0, &dummy, 0);
	else
		n = write(g->ep0, &dummy, 0);
	(void)n;
	emu_log(g->ctx, "stall %02x %02x", req->bRequestType, req->bRequest);
}

/*
 * The host gave up on the request being answered and sent the next one:
 * gadgetfs reports EIDRM and stays in its data stage, now for the new
 * request, and reads no events until that is done.  Finish it blind (an
 * IN is stalled, an OUT acknowledged); its event, read next, gets an
 * answer that goes nowhere.  Only after a host timeout.
 */
static void gfs_overtaken(struct gfs *g)
{
	uint8_t dummy;
	ssize_t n;

	emu_log(g->ctx, "overtaken");
	n = read(g->ep0, &dummy, 0);
	(void)n;
}

/*
 * The OUT data stage, normally there by the time the event is read; ep0
 * is non-blocking (a blocking read of data that never comes cannot be
 * interrupted by our signals), so wait a bounded while for it.
 */
static ssize_t gfs_read_out(struct gfs *g, uint8_t *data, size_t len)
{
	const struct timespec ms = { .tv_nsec = 1000000 };
	ssize_t n;
	int i;

	for (i = 0; i < 500; i++) {
		n = read(g->ep0, data, len);
		if (n >= 0 || errno != EAGAIN)
			return n;
		nanosleep(&ms, NULL);
	}
	errno = ETIMEDOUT;
	return -1;
}

static void gfs_setup(struct gfs *g, const struct usb_ctrlrequest *req)
{
	uint16_t wlen = le16toh(req->wLength);
	uint8_t data[EMU_GFS_EP0_MAX];
	size_t len = wlen < sizeof(data) ? wlen : sizeof(data);
	ssize_t n;
	int ret;

	/*
	 * OUT data first, before anything slow: a SETUP that arrives before
	 * this one's event was read makes gadgetfs drop this one (next_event
	 * keeps a single SETUP), and the host is not held up by the data.
	 */
	if (!(req->bRequestType & USB_DIR_IN) && len) {
		n = gfs_read_out(g, data, len);
		if (n < 0) {
			emu_log(g->ctx, "error ep0 read %d", errno);
			return;
		}
		len = n;
	}
	emu_log(g->ctx, "setup %02x %02x %04x %04x %04x", req->bRequestType,
		req->bRequest, le16toh(req->wValue), le16toh(req->wIndex),
		wlen);

	if (req->bRequestType == 0 &&
	    req->bRequest == USB_REQ_SET_CONFIGURATION) {
		n = read(g->ep0, data, 0);	/* ack; cannot be stalled */
		(void)n;
		emu_log(g->ctx, "enable");
		if (!g->ready) {
			g->ready = true;
			printf("ready\n");
			fflush(stdout);
		}
		return;
	}

	if (req->bRequestType & USB_DIR_IN) {
		memset(data, 0, len);
		ret = g->ops->setup(g->ctx, req, data, len);
		if (ret >= 0) {
			n = write(g->ep0, data, (size_t)ret < len ? (size_t)ret : len);
			if (n < 0 && errno == EIDRM)
				gfs_overtaken(g);
			else if (n < 0)
				emu_log(g->ctx, "error ep0 write %d", errno);
			else
				gfs_hex(g, "setup-reply", data, n);
			return;
		}
	} else {
		if (len)
			gfs_hex(g, "setup-data", data, len);
		ret = g->ops->setup(g->ctx, req, data, len);
		if (ret >= 0) {
			if (!wlen) {
				n = read(g->ep0, data, 0);	/* status stage */
				if (n < 0 && errno == EIDRM)
					gfs_overtaken(g);
			}
			return;
		}
		if (wlen && ret == -EPIPE) {
			emu_log(g->ctx, "stall-late %02x %02x",
				req->bRequestType, req->bRequest);
			return;
		}
	}

	if (ret == EMU_GFS_UNPLUG) {
		gfs_unplug(g);
		g->quit = true;
	} else {
		gfs_stall(g, req);
	}
}

static void gfs_ep0_event(struct gfs *g)
{
	struct usb_gadgetfs_event ev[4];
	ssize_t n;
	int i;

	n = read(g->ep0, ev, sizeof(ev));
	if (n < 0) {
		/* EIDRM: the host gave up on an unanswered request */
		if (errno != EIDRM && errno != EAGAIN && errno != EINTR)
			emu_log(g->ctx, "error ep0 %d", errno);
		return;
	}
	for (i = 0; i < (int)(n / sizeof(ev[0])) && !g->quit; i++) {
		switch (ev[i].type) {
		case GADGETFS_CONNECT:
			emu_log(g->ctx, "speed %s",
				ev[i].u.speed == USB_SPEED_HIGH ?
				"high-speed" : "full-speed");
			if (g->ops->connect)
				g->ops->connect(g->ctx);
			break;
		case GADGETFS_DISCONNECT:
			emu_log(g->ctx, "disconnect");
			break;
		case GADGETFS_SUSPEND:
			emu_log(g->ctx, "suspend");
			break;
		case GADGETFS_SETUP:
			gfs_setup(g, &ev[i].u.setup);
			break;
		default:
			break;
		}
	}
}

static void gfs_signal(struct gfs *g)
{
	struct signalfd_siginfo si;

	while (read(g->sfd, &si, sizeof(si)) == sizeof(si)) {
		switch (si.ssi_signo) {
		case SIGUSR1:
			gfs_unplug(g);
			break;
		case SIGUSR2:
			gfs_plug(g);
			break;
		default:
			emu_log(g->ctx, "signal %u", si.ssi_signo);
			g->quit = true;
			break;
		}
	}
}

int emu_gadgetfs_run(struct emu_ctx *ctx, const struct emu_gfs_ops *ops,
		     const char *udc, int sfd, bool watch_stdin)
{
	struct gfs g = {
		.ctx = ctx, .ops = ops, .udc = udc, .ep0 = -1, .sfd = sfd,
		.watch_stdin = watch_stdin,
	};
	struct sched_param sp = { .sched_priority = 10 };
	cpu_set_t cpu0;
	int err;

	/*
	 * Run before the host's next request: gadgetfs keeps one unread
	 * SETUP only, and a client like dfu-util fires DNLOAD and GETSTATUS
	 * back to back.  Real-time priority on CPU 0 wins that race against
	 * a client pinned to CPU 0 too (taskset -c 0 dfu-util ...); a client
	 * on another CPU can still overtake now and then.
	 */
	CPU_ZERO(&cpu0);
	CPU_SET(0, &cpu0);
	if (sched_setaffinity(0, sizeof(cpu0), &cpu0) ||
	    sched_setscheduler(0, SCHED_FIFO, &sp))
		emu_log(ctx, "no CPU 0 / SCHED_FIFO: %d", errno);

	err = gfs_setup_device(&g);
	while (!err && !g.quit) {
		struct pollfd p[3] = {
			{ .fd = sfd, .events = POLLIN },
			{ .fd = g.watch_stdin ? 0 : -1, .events = POLLIN },
			{ .fd = g.plugged ? g.ep0 : -1, .events = POLLIN },
		};

		if (poll(p, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (p[0].revents)
			gfs_signal(&g);
		if (p[1].revents) {
			char c;

			if (read(0, &c, 1) <= 0) {
				emu_log(ctx, "stdin-eof");
				g.quit = true;
			}
		}
		if (p[2].revents && !g.quit)
			gfs_ep0_event(&g);
	}
	gfs_teardown(&g);
	return err;
}
