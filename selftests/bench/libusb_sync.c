// SPDX-License-Identifier: GPL-2.0
/*
 * libusb_sync - benchmark contender 2: the libusb path (mtkclient's).
 *
 *   libusb_sync [--count N] [--timeout-ms T] [--step-ms MS]
 *               [--sync-step-ms MS] [--sync-ms MS]
 *
 * Registers a libusb hotplug callback for VID 0x0e8d, prints "listening"
 * (flushed) once it is armed, and for every MediaTek device that arrives
 * starts a thread that opens it, detaches a kernel driver if one is bound,
 * claims the CDC data interface (found by class), syncs A0 0A 50 05 with
 * one byte out and exactly one byte in per step (as mtkclient does) and
 * reads the identity (mtk_host.c).  Prints one line per device:
 *
 *   done 1-1 ok brom hw_code=0x0766 ...
 *   done 1-1 fail <reason>
 *
 * and exits 0 once N devices synced and identified (1 on any failure or
 * when T ms pass first).  The program does not time itself: the benchmark
 * takes every timestamp from the emulator's log.
 *
 * In a guest without udevd, libusb (built with libudev, as Debian's is)
 * gets no hotplug events: the benchmark runs systemd-udevd for this
 * contender, as on any desktop or lab machine.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <libusb-1.0/libusb.h>

#include "mtk_host.h"

#define MTK_VID		0x0e8d
#define MTK_PID_BROM	0x0003

struct usb_xport {
	libusb_device_handle *h;
	uint8_t ep_in, ep_out;
};

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cond = PTHREAD_COND_INITIALIZER;
static int n_ok, n_fail, n_running;
static int step_ms = 100, sync_step_ms = 500, sync_ms = 10000;
static libusb_context *ctx;

static int usb_err(int r)
{
	switch (r) {
	case LIBUSB_ERROR_TIMEOUT:	return -ETIMEDOUT;
	case LIBUSB_ERROR_OVERFLOW:	return -EOVERFLOW;
	case LIBUSB_ERROR_NO_DEVICE:	return -ENODEV;
	case LIBUSB_ERROR_PIPE:		return -EPIPE;
	case LIBUSB_ERROR_NOT_FOUND:	return -ENOENT;
	case LIBUSB_ERROR_BUSY:		return -EBUSY;
	default:			return -EIO;
	}
}

static int x_write(void *priv, const uint8_t *buf, size_t len, int timeout_ms)
{
	struct usb_xport *u = priv;
	int done = 0, r;

	r = libusb_bulk_transfer(u->h, u->ep_out, (uint8_t *)buf, (int)len,
				 &done, timeout_ms ? timeout_ms : 1);
	if (r)
		return usb_err(r);
	return done == (int)len ? 0 : -EIO;
}

static int x_read(void *priv, uint8_t *buf, size_t max, int timeout_ms)
{
	struct usb_xport *u = priv;
	int done = 0, r;

	/* libusb: timeout 0 means forever */
	r = libusb_bulk_transfer(u->h, u->ep_in, buf, (int)max, &done,
				 timeout_ms ? timeout_ms : 1);
	if (r == LIBUSB_ERROR_TIMEOUT && done > 0)
		r = 0;
	if (r)
		return usb_err(r);
	return done ? done : -ETIMEDOUT;
}

/* The CDC data interface (class 0x0a) and its bulk pair; -1 if none. */
static int find_data_intf(libusb_device *dev, struct usb_xport *u,
			  int *mps)
{
	struct libusb_config_descriptor *cfg;
	int i, j, ifnum = -1;

	if (libusb_get_active_config_descriptor(dev, &cfg))
		return -1;
	for (i = 0; i < cfg->bNumInterfaces && ifnum < 0; i++) {
		const struct libusb_interface_descriptor *alt =
			&cfg->interface[i].altsetting[0];

		if (cfg->interface[i].num_altsetting < 1 ||
		    alt->bInterfaceClass != LIBUSB_CLASS_DATA)
			continue;
		u->ep_in = u->ep_out = 0;
		for (j = 0; j < alt->bNumEndpoints; j++) {
			const struct libusb_endpoint_descriptor *ep =
				&alt->endpoint[j];

			if ((ep->bmAttributes & 3) != LIBUSB_TRANSFER_TYPE_BULK)
				continue;
			if (ep->bEndpointAddress & LIBUSB_ENDPOINT_IN) {
				u->ep_in = ep->bEndpointAddress;
				*mps = ep->wMaxPacketSize;
			} else {
				u->ep_out = ep->bEndpointAddress;
			}
		}
		if (u->ep_in && u->ep_out)
			ifnum = alt->bInterfaceNumber;
	}
	libusb_free_config_descriptor(cfg);
	return ifnum;
}

static void dev_name(libusb_device *dev, char *buf, size_t len)
{
	uint8_t ports[8];
	int n = libusb_get_port_numbers(dev, ports, sizeof(ports)), i;
	size_t off;

	off = (size_t)snprintf(buf, len, "%u", libusb_get_bus_number(dev));
	for (i = 0; i < n && off < len; i++)
		off += (size_t)snprintf(buf + off, len - off, "%c%u",
					i ? '.' : '-', ports[i]);
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

/* The worker is done with libusb: main() may count it and exit. */
static void worker_exit(void)
{
	pthread_mutex_lock(&lock);
	n_running--;
	pthread_cond_broadcast(&cond);
	pthread_mutex_unlock(&lock);
	/* wake main() out of libusb_handle_events() to count */
	libusb_interrupt_event_handler(ctx);
}

static void *worker(void *arg)
{
	libusb_device *dev = arg;
	struct libusb_device_descriptor dd;
	struct usb_xport u = { 0 };
	struct mtk_xport x = { x_write, x_read, &u, 64 };
	struct mtk_host h = { .x = &x };
	struct mtk_ident id = { 0 };
	char name[32], what[256];
	int ifnum = -1, mps = 64, r, tries;

	dev_name(dev, name, sizeof(name));
	if (libusb_get_device_descriptor(dev, &dd)) {
		finish(name, false, "no device descriptor");
		goto out;
	}
	r = libusb_open(dev, &u.h);
	if (r) {
		snprintf(what, sizeof(what), "open: %s", libusb_strerror(r));
		finish(name, false, what);
		goto out;
	}
	/*
	 * The device's "add" event is sent before the kernel has chosen a
	 * configuration; the interfaces exist a moment later.  Wait for
	 * them (bounded), as any libusb tool must.
	 */
	for (tries = 0; tries < 1000; tries++) {
		ifnum = find_data_intf(dev, &u, &mps);
		if (ifnum >= 0)
			break;
		usleep(1000);
	}
	if (ifnum < 0) {
		finish(name, false, "no CDC data interface with a bulk pair");
		goto close;
	}
	x.max_read = (size_t)mps;
	libusb_set_auto_detach_kernel_driver(u.h, 1);
	r = libusb_claim_interface(u.h, ifnum);
	if (r) {
		snprintf(what, sizeof(what), "claim: %s", libusb_strerror(r));
		finish(name, false, what);
		goto close;
	}

	h.step_ms = step_ms;
	h.sync_step_ms = sync_step_ms;
	h.sync_ms = sync_ms;
	h.preloader = dd.idProduct != MTK_PID_BROM;
	r = mtk_host_sync(&h, &id);
	if (!r)
		r = mtk_host_identify(&h, &id);
	if (r) {
		snprintf(what, sizeof(what), "%s: %s",
			 id.attempts ? "handshake" : "sync", strerror(-r));
		finish(name, false, what);
	} else {
		size_t l;

		mtk_ident_str(&id, what, sizeof(what));
		l = strlen(what);
		snprintf(what + l, sizeof(what) - l, " config_waits=%d", tries);
		finish(name, true, what);
	}
	libusb_release_interface(u.h, ifnum);
close:
	libusb_close(u.h);
out:
	libusb_unref_device(dev);
	worker_exit();
	return NULL;
}

static int hotplug_cb(libusb_context *c, libusb_device *dev,
		      libusb_hotplug_event ev, void *arg)
{
	pthread_t t;

	(void)c;
	(void)ev;
	(void)arg;
	/* No blocking work in the callback: one thread per device. */
	libusb_ref_device(dev);
	pthread_mutex_lock(&lock);
	n_running++;
	pthread_mutex_unlock(&lock);
	if (pthread_create(&t, NULL, worker, dev)) {
		libusb_unref_device(dev);
		finish("?", false, "pthread_create");
		worker_exit();
		return 0;
	}
	pthread_detach(t);
	return 0;
}

static void usage(void)
{
	fprintf(stderr,
		"usage: libusb_sync [--count N] [--timeout-ms T] [--step-ms MS]\n"
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
	libusb_hotplug_callback_handle cbh;
	long long deadline;
	int count = 1, timeout_ms = 60000, c, r;
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

	r = libusb_init(&ctx);
	if (r) {
		fprintf(stderr, "libusb_init: %s\n", libusb_strerror(r));
		return 1;
	}
	if (!libusb_has_capability(LIBUSB_CAP_HAS_HOTPLUG)) {
		fprintf(stderr, "libusb has no hotplug support here\n");
		return 1;
	}
	r = libusb_hotplug_register_callback(ctx,
			LIBUSB_HOTPLUG_EVENT_DEVICE_ARRIVED, 0, MTK_VID,
			LIBUSB_HOTPLUG_MATCH_ANY, LIBUSB_HOTPLUG_MATCH_ANY,
			hotplug_cb, NULL, &cbh);
	if (r) {
		fprintf(stderr, "hotplug: %s\n", libusb_strerror(r));
		return 1;
	}
	printf("listening\n");
	fflush(stdout);

	deadline = mtk_now_ms() + timeout_ms;
	while (!done && mtk_now_ms() < deadline) {
		struct timeval tv = { 1, 0 };

		libusb_handle_events_timeout_completed(ctx, &tv, NULL);
		pthread_mutex_lock(&lock);
		done = n_ok + n_fail >= count && !n_running;
		pthread_mutex_unlock(&lock);
	}

	/* let workers still running see their devices through */
	pthread_mutex_lock(&lock);
	while (n_running && mtk_now_ms() < deadline + 5000) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		ts.tv_sec += 1;
		pthread_cond_timedwait(&cond, &lock, &ts);
	}
	r = n_ok >= count && !n_fail ? 0 : 1;
	if (r)
		fprintf(stderr, "libusb_sync: %d ok, %d failed, %d running of %d\n",
			n_ok, n_fail, n_running, count);
	pthread_mutex_unlock(&lock);
	libusb_hotplug_deregister_callback(ctx, cbh);
	if (!n_running)
		libusb_exit(ctx);
	return r;
}
