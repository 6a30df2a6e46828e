// SPDX-License-Identifier: GPL-2.0
/*
 * bsk-emu: plays a USB device through configfs + FunctionFS for the
 * bootshake selftests.  See emu.h for the personality interface and
 * README in this directory for the command line.
 *
 * Structure:
 *   gadget:  configfs tree, FunctionFS mount, descriptors, UDC bind/unbind
 *   loop:    one poll() over ep0, an eventfd fed by AIO completions on the
 *            endpoint files, a signalfd and (optionally) stdin
 *   stream:  rx ring filled by AIO reads, tx packets as AIO writes
 *   faults:  a table of knobs applied between the personality and the
 *            endpoint files
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <endian.h>
#include <sys/eventfd.h>
#include <sys/file.h>
#include <sys/mount.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <linux/aio_abi.h>
#include <linux/usb/functionfs.h>

#include "emu.h"

#define CONFIGFS_GADGETS	"/sys/kernel/config/usb_gadget"
#define RUN_DIR			"/run/bsk-emu"
#define EMU_MAX_EPS		8
#define EMU_NR_TX		64		/* AIO writes in flight */
#define EMU_TX_MAX		512		/* biggest packet */
#define EMU_RX_XFER		4096		/* AIO read size */
#define EMU_RX_RING		16384
#define EMU_REPLY_MAX		4096
#define EMU_RX_BOUNDS		256		/* transfers remembered */

static const struct emu_personality *const personalities[] = {
	&emu_mtk_brom,
	&emu_stm32_dfu,
	&emu_stm32_usart,
	&emu_mtk_preloader,
	&emu_chaos,
};

struct emu_tx {
	struct iocb cb;
	bool busy;
	uint8_t buf[EMU_TX_MAX];
};

struct emu_faults {
	unsigned long garbage;		/* bytes before the first reply */
	bool garbage_done;
	uint8_t *stale;			/* queued at enable */
	size_t stale_len;
	bool stale_done;
	bool silent;
	unsigned long delay_ms;
	uint64_t delayed_for;		/* rx_count whose reply was delayed */
	unsigned long drop;		/* 1-based host byte left unanswered */
	unsigned long lose;		/* 1-based host byte never delivered */
	unsigned long unplug_at;	/* 1-based host byte that pulls the cable */
	bool fields;			/* one packet per emu_write() */
	unsigned long split;		/* max bytes per packet */
	bool zlp;			/* ZLP after a packet of exactly mps */
	unsigned long stall_at;		/* 1-based host byte that halts IN */
};

struct emu_ctx {
	const struct emu_personality *pers;
	void *priv;
	const char *udc;
	char tag[64];			/* bsk_<udc, '.' -> '_'> */
	char gadget_dir[256];
	char func_dir[320];
	char link_path[320];
	char mnt[256];
	char lock_path[256];
	int lock_fd;
	bool verbose;
	FILE *log;
	int vid, pid;			/* -1: personality default */
	struct emu_ident ident;		/* what the gadget says now */

	/* gadget state */
	bool mounted, bound;
	int ep0;
	int ep[EMU_MAX_EPS + 1];	/* index = epfile number */
	int in_ep, out_ep;
	uint16_t fs_mps, hs_mps, mps;

	/* event loop */
	int sfd, efd;
	bool watch_stdin;
	aio_context_t aio;
	bool quit;
	bool enabled, ready;

	/* rx */
	struct iocb rx_cb;
	bool rx_busy;
	unsigned int rx_errs;
	uint8_t rx_xfer[EMU_RX_XFER];
	uint8_t rx_ring[EMU_RX_RING];
	size_t rx_head, rx_tail;	/* tail = next to consume */
	uint64_t rx_count;		/* host bytes handed to the personality */
	uint64_t rx_in_total;		/* bytes ever put into the ring */
	uint64_t rx_taken;		/* bytes ever taken out of it */
	uint64_t rx_bounds[EMU_RX_BOUNDS]; /* rx_in_total at transfer ends */
	unsigned int rx_bhead, rx_btail;

	/* tx */
	struct emu_tx tx[EMU_NR_TX];
	unsigned int tx_busy;
	uint8_t reply[EMU_REPLY_MAX];
	size_t reply_len;

	uint64_t rng;
	uint64_t seed;			/* --seed */
	struct emu_faults f;
};

/* ------------------------------------------------------------------ */
/* small helpers                                                       */

uint64_t emu_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + ts.tv_nsec;
}

void emu_log(struct emu_ctx *ctx, const char *fmt, ...)
{
	uint64_t ns = emu_now_ns();
	va_list ap;

	if (ctx->log) {
		fprintf(ctx->log, "%llu ", (unsigned long long)ns);
		va_start(ap, fmt);
		vfprintf(ctx->log, fmt, ap);
		va_end(ap);
		fputc('\n', ctx->log);
		fflush(ctx->log);
	}
	if (ctx->verbose) {
		fprintf(stderr, "bsk-emu: %llu ", (unsigned long long)ns);
		va_start(ap, fmt);
		vfprintf(stderr, fmt, ap);
		va_end(ap);
		fputc('\n', stderr);
	}
}

static void log_hex(struct emu_ctx *ctx, const char *what, const uint8_t *b,
		    size_t n)
{
	char hex[2 * EMU_RX_XFER + 1];
	size_t i;

	if (!ctx->log && !ctx->verbose)
		return;
	if (n > EMU_RX_XFER)
		n = EMU_RX_XFER;
	for (i = 0; i < n; i++)
		sprintf(hex + 2 * i, "%02x", b[i]);
	hex[2 * n] = '\0';
	emu_log(ctx, "%s %s", what, hex);
}

static __printf(1, 2) void warnx(const char *fmt, ...);
static void warnx(const char *fmt, ...)
{
	va_list ap;

	fputs("bsk-emu: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

void *emu_priv(struct emu_ctx *ctx)
{
	return ctx->priv;
}

uint64_t emu_seed(struct emu_ctx *ctx)
{
	return ctx->seed;
}

uint32_t emu_rand(struct emu_ctx *ctx)
{
	/* xorshift64* */
	ctx->rng ^= ctx->rng >> 12;
	ctx->rng ^= ctx->rng << 25;
	ctx->rng ^= ctx->rng >> 27;
	return (uint32_t)((ctx->rng * 0x2545F4914F6CDD1Dull) >> 32);
}

int emu_parse_uint(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (!s || !*s)
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

/* snprintf() that reports truncation instead of warning about it */
static __printf(3, 4) int pathf(char *buf, size_t len, const char *fmt, ...);
static int pathf(char *buf, size_t len, const char *fmt, ...)
{
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* write a string to a configfs/sysfs attribute */
static int write_attr(const char *dir, const char *attr, const char *val)
{
	char path[512];
	ssize_t n;
	int fd, err = 0;

	pathf(path, sizeof(path), "%s/%s", dir, attr);
	fd = open(path, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0)
		err = -errno;
	close(fd);
	return err;
}

static int read_attr(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

static int write_hex_attr(const char *dir, const char *attr, unsigned int v)
{
	char val[16];

	snprintf(val, sizeof(val), "0x%04x", v);
	return write_attr(dir, attr, val);
}

/* ------------------------------------------------------------------ */
/* AIO (raw syscalls, no libaio)                                       */

static long sys_io_setup(unsigned int nr, aio_context_t *ctxp)
{
	return syscall(__NR_io_setup, nr, ctxp);
}

static long sys_io_destroy(aio_context_t ctx)
{
	return syscall(__NR_io_destroy, ctx);
}

static long sys_io_submit(aio_context_t ctx, long n, struct iocb **iocbs)
{
	return syscall(__NR_io_submit, ctx, n, iocbs);
}

static long sys_io_cancel(aio_context_t ctx, struct iocb *cb,
			  struct io_event *ev)
{
	return syscall(__NR_io_cancel, ctx, cb, ev);
}

static long sys_io_getevents(aio_context_t ctx, long min, long max,
			     struct io_event *ev, struct timespec *ts)
{
	return syscall(__NR_io_getevents, ctx, min, max, ev, ts);
}

static int aio_submit_one(struct emu_ctx *ctx, struct iocb *cb, int fd,
			  bool read, void *buf, size_t len)
{
	struct iocb *cbs[1] = { cb };

	memset(cb, 0, sizeof(*cb));
	cb->aio_data = (uint64_t)(uintptr_t)cb;
	cb->aio_lio_opcode = read ? IOCB_CMD_PREAD : IOCB_CMD_PWRITE;
	cb->aio_fildes = fd;
	cb->aio_buf = (uint64_t)(uintptr_t)buf;
	cb->aio_nbytes = len;
	cb->aio_flags = IOCB_FLAG_RESFD;
	cb->aio_resfd = ctx->efd;
	if (sys_io_submit(ctx->aio, 1, cbs) != 1)
		return -errno;
	return 0;
}

/* ------------------------------------------------------------------ */
/* rx / tx plumbing                                                    */

static void rx_submit(struct emu_ctx *ctx)
{
	int err;

	if (ctx->rx_busy || !ctx->enabled || ctx->quit || ctx->out_ep <= 0)
		return;
	err = aio_submit_one(ctx, &ctx->rx_cb, ctx->ep[ctx->out_ep], true,
			     ctx->rx_xfer, sizeof(ctx->rx_xfer));
	if (err) {
		if (err != -EAGAIN && err != -ESHUTDOWN)
			emu_log(ctx, "error rx-submit %d", err);
		return;
	}
	ctx->rx_busy = true;
}

static void rx_complete(struct emu_ctx *ctx, long res)
{
	size_t i;

	ctx->rx_busy = false;
	if (res < 0) {
		if (res != -ESHUTDOWN && res != -ECONNRESET)
			emu_log(ctx, "error rx %ld", res);
		if (++ctx->rx_errs > 100)
			return;	/* wait for the next enable */
	} else {
		ctx->rx_errs = 0;
		log_hex(ctx, "rx", ctx->rx_xfer, res);
		for (i = 0; i < (size_t)res; i++) {
			size_t next = (ctx->rx_head + 1) % EMU_RX_RING;

			if (next == ctx->rx_tail) {
				emu_log(ctx, "error rx-overrun");
				break;
			}
			ctx->rx_ring[ctx->rx_head] = ctx->rx_xfer[i];
			ctx->rx_head = next;
			ctx->rx_in_total++;
		}
		if (i) {
			unsigned int nb = (ctx->rx_bhead + 1) % EMU_RX_BOUNDS;

			/* full: the oldest boundary goes, chunks merge */
			if (nb == ctx->rx_btail)
				ctx->rx_btail = (ctx->rx_btail + 1) %
						EMU_RX_BOUNDS;
			ctx->rx_bounds[ctx->rx_bhead] = ctx->rx_in_total;
			ctx->rx_bhead = nb;
		}
	}
	rx_submit(ctx);
}

static void tx_complete(struct emu_ctx *ctx, struct emu_tx *t, long res)
{
	t->busy = false;
	ctx->tx_busy--;
	if (res < 0 && res != -ESHUTDOWN && res != -ECONNRESET)
		emu_log(ctx, "error tx %ld", res);
}

static int emu_pump(struct emu_ctx *ctx, int timeout_ms);

/* one USB packet on bulk IN, bypassing the fault engine */
static int tx_packet(struct emu_ctx *ctx, const uint8_t *buf, size_t len)
{
	struct emu_tx *t = NULL;
	unsigned int i;
	int err;

	if (!ctx->enabled) {
		log_hex(ctx, "txlost", buf, len);
		return 0;
	}
	while (ctx->tx_busy == EMU_NR_TX) {
		err = emu_pump(ctx, 1000);
		if (err)
			return err;
		if (!ctx->enabled)
			return 0;
	}
	for (i = 0; i < EMU_NR_TX; i++) {
		if (!ctx->tx[i].busy) {
			t = &ctx->tx[i];
			break;
		}
	}
	if (!t)
		return -EBUSY;
	memcpy(t->buf, buf, len);
	err = aio_submit_one(ctx, &t->cb, ctx->ep[ctx->in_ep], false, t->buf,
			     len);
	if (err) {
		emu_log(ctx, "error tx-submit %d", err);
		return err == -EAGAIN ? 0 : err;
	}
	t->busy = true;
	ctx->tx_busy++;
	log_hex(ctx, "tx", buf, len);
	return 0;
}

/* cut @buf into packets of at most mps (or --fault split=N) bytes */
static int tx_packets(struct emu_ctx *ctx, const uint8_t *buf, size_t len)
{
	size_t chunk = ctx->mps ? ctx->mps : 64;
	int err;

	if (ctx->f.split && ctx->f.split < chunk)
		chunk = ctx->f.split;
	while (len) {
		size_t n = len < chunk ? len : chunk;

		err = tx_packet(ctx, buf, n);
		if (err)
			return err;
		buf += n;
		len -= n;
		/* a transfer that ends on a full packet needs a ZLP */
		if (!len && ctx->f.zlp && n == ctx->mps) {
			emu_log(ctx, "fault zlp");
			err = tx_packet(ctx, buf, 0);
			if (err)
				return err;
		}
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* ep0                                                                 */

static void handle_setup(struct emu_ctx *ctx, const struct usb_ctrlrequest *req)
{
	const struct emu_personality *p = ctx->pers;
	uint16_t wlen = le16toh(req->wLength);
	bool in = req->bRequestType & USB_DIR_IN;
	uint8_t data[4096];
	int ret = -EOPNOTSUPP;
	ssize_t n;

	emu_log(ctx, "setup %02x %02x %04x %04x %04x", req->bRequestType,
		req->bRequest, le16toh(req->wValue), le16toh(req->wIndex), wlen);
	if (wlen > sizeof(data))
		goto stall;
	if (!p->setup)
		goto stall;
	if (in) {
		memset(data, 0, wlen);
		ret = p->setup(ctx, req, data, wlen);
		if (ret < 0)
			goto stall;
		if (ret > wlen)
			ret = wlen;
		n = write(ctx->ep0, data, ret);
		if (n < 0)
			emu_log(ctx, "error setup-in %d", -errno);
		return;
	}
	if (wlen) {
		ret = p->setup(ctx, req, NULL, 0);
		if (ret < 0)
			goto stall;
		n = read(ctx->ep0, data, wlen);
		if (n < 0) {
			emu_log(ctx, "error setup-out %d", -errno);
			return;
		}
		log_hex(ctx, "setup-data", data, n);
		p->setup(ctx, req, data, n);
		return;
	}
	ret = p->setup(ctx, req, data, 0);
	if (ret < 0)
		goto stall;
	n = read(ctx->ep0, NULL, 0);	/* status stage */
	if (n < 0)
		emu_log(ctx, "error setup-ack %d", -errno);
	return;
stall:
	/* FunctionFS stalls on I/O in the wrong direction */
	if (in)
		n = read(ctx->ep0, NULL, 0);
	else
		n = write(ctx->ep0, NULL, 0);
	emu_log(ctx, "stall %02x %02x", req->bRequestType, req->bRequest);
}

static void update_speed(struct emu_ctx *ctx)
{
	char path[256], speed[64];

	pathf(path, sizeof(path), "/sys/class/udc/%s/current_speed",
		 ctx->udc);
	if (read_attr(path, speed, sizeof(speed)))
		strcpy(speed, "unknown");
	if (!strcmp(speed, "full-speed") || !strcmp(speed, "low-speed"))
		ctx->mps = ctx->fs_mps;
	else
		ctx->mps = ctx->hs_mps;
	emu_log(ctx, "speed %s mps %u", speed, ctx->mps);
}

static void on_enable(struct emu_ctx *ctx)
{
	ctx->enabled = true;
	ctx->rx_errs = 0;
	emu_log(ctx, "enable");
	update_speed(ctx);
	rx_submit(ctx);
	if (ctx->f.stale && !ctx->f.stale_done) {
		ctx->f.stale_done = true;
		tx_packets(ctx, ctx->f.stale, ctx->f.stale_len);
	}
	if (ctx->pers->enable)
		ctx->pers->enable(ctx);
	if (!ctx->ready) {
		ctx->ready = true;
		fputs("ready\n", stdout);
		fflush(stdout);
	}
}

static void handle_ep0(struct emu_ctx *ctx)
{
	struct usb_functionfs_event ev;
	ssize_t n;

	n = read(ctx->ep0, &ev, sizeof(ev));
	if (n < 0) {
		if (errno != EAGAIN && errno != EINTR)
			emu_log(ctx, "error ep0-read %d", -errno);
		return;
	}
	if (n != sizeof(ev))
		return;
	switch (ev.type) {
	case FUNCTIONFS_BIND:
		emu_log(ctx, "bind");
		break;
	case FUNCTIONFS_UNBIND:
		emu_log(ctx, "unbind");
		ctx->enabled = false;
		break;
	case FUNCTIONFS_ENABLE:
		on_enable(ctx);
		break;
	case FUNCTIONFS_DISABLE:
		ctx->enabled = false;
		emu_log(ctx, "disable");
		break;
	case FUNCTIONFS_SETUP:
		handle_setup(ctx, &ev.u.setup);
		break;
	case FUNCTIONFS_SUSPEND:
		emu_log(ctx, "suspend");
		break;
	case FUNCTIONFS_RESUME:
		emu_log(ctx, "resume");
		break;
	default:
		emu_log(ctx, "event %u", ev.type);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* event loop                                                          */

static void reap_aio(struct emu_ctx *ctx)
{
	struct io_event evs[EMU_NR_TX + 1];
	struct timespec zero = { 0, 0 };
	uint64_t cnt;
	long n, i;

	if (read(ctx->efd, &cnt, sizeof(cnt)) < 0 && errno != EAGAIN)
		return;
	for (;;) {
		n = sys_io_getevents(ctx->aio, 0, EMU_NR_TX + 1, evs, &zero);
		if (n <= 0)
			break;
		for (i = 0; i < n; i++) {
			struct iocb *cb = (struct iocb *)(uintptr_t)evs[i].obj;

			if (cb == &ctx->rx_cb)
				rx_complete(ctx, evs[i].res);
			else
				tx_complete(ctx, (struct emu_tx *)cb,
					    evs[i].res);
		}
	}
}

/* pull the cable: the host sees a disconnect, our files stay open */
static void unplug(struct emu_ctx *ctx)
{
	int err;

	if (!ctx->bound)
		return;
	err = write_attr(ctx->gadget_dir, "UDC", "\n");
	if (err)
		emu_log(ctx, "error unbind %d", err);
	ctx->bound = false;
	ctx->enabled = false;
	emu_log(ctx, "unplug");
}

void emu_unplug(struct emu_ctx *ctx)
{
	unplug(ctx);
}

bool emu_plugged(struct emu_ctx *ctx)
{
	return ctx->bound;
}

static void plug(struct emu_ctx *ctx)
{
	int err;

	if (ctx->bound)
		return;
	err = write_attr(ctx->gadget_dir, "UDC", ctx->udc);
	if (err) {
		emu_log(ctx, "error bind %d", err);
		return;
	}
	ctx->bound = true;
	emu_log(ctx, "connect");
}

static void handle_signal(struct emu_ctx *ctx)
{
	struct signalfd_siginfo si;

	if (read(ctx->sfd, &si, sizeof(si)) != sizeof(si))
		return;
	emu_log(ctx, "signal %u", si.ssi_signo);
	if (si.ssi_signo == SIGUSR1)
		unplug(ctx);
	else if (si.ssi_signo == SIGUSR2)
		plug(ctx);
	else
		ctx->quit = true;
}

static void handle_stdin(struct emu_ctx *ctx)
{
	char buf[256];
	ssize_t n;

	n = read(STDIN_FILENO, buf, sizeof(buf));
	if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) {
		emu_log(ctx, "stdin-eof");
		ctx->quit = true;
	}
}

/*
 * Wait up to @timeout_ms (-1: no limit) for something to happen and handle
 * it.  Returns -ESHUTDOWN once the emulator is stopping, else 0.
 */
static int emu_pump(struct emu_ctx *ctx, int timeout_ms)
{
	struct pollfd pfd[4];
	int n = 0, r, i;

	if (ctx->quit)
		return -ESHUTDOWN;
	pfd[n++] = (struct pollfd){ .fd = ctx->sfd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = ctx->efd, .events = POLLIN };
	pfd[n++] = (struct pollfd){ .fd = ctx->ep0, .events = POLLIN };
	if (ctx->watch_stdin)
		pfd[n++] = (struct pollfd){ .fd = STDIN_FILENO,
					    .events = POLLIN };
	r = poll(pfd, n, timeout_ms);
	if (r < 0) {
		if (errno == EINTR)
			return 0;
		emu_log(ctx, "error poll %d", -errno);
		ctx->quit = true;
		return -ESHUTDOWN;
	}
	for (i = 0; i < n && r > 0; i++) {
		if (!pfd[i].revents)
			continue;
		if (pfd[i].fd == ctx->sfd)
			handle_signal(ctx);
		else if (pfd[i].fd == ctx->efd)
			reap_aio(ctx);
		else if (pfd[i].fd == ctx->ep0)
			handle_ep0(ctx);
		else
			handle_stdin(ctx);
	}
	return ctx->quit ? -ESHUTDOWN : 0;
}

/* sleep @ms while keeping the gadget alive; no flush */
static int pump_sleep(struct emu_ctx *ctx, int ms)
{
	uint64_t end = emu_now_ns() + (uint64_t)ms * 1000000ull;
	int err;

	for (;;) {
		uint64_t now = emu_now_ns();

		if (now >= end)
			return ctx->quit ? -ESHUTDOWN : 0;
		err = emu_pump(ctx, (int)((end - now + 999999) / 1000000));
		if (err)
			return err;
	}
}

/* ------------------------------------------------------------------ */
/* fault engine + byte-stream API                                      */

static bool bad_garbage(uint8_t b)
{
	return b == 0x5f || b == 0xa0 || b == 0xa1;
}

/* a piece of the reply to host byte #rx_count is about to hit the wire */
static int fe_emit(struct emu_ctx *ctx, const uint8_t *buf, size_t len)
{
	struct emu_faults *f = &ctx->f;
	int err;

	if (!len)
		return 0;
	if (f->silent) {
		log_hex(ctx, "fault silent", buf, len);
		return 0;
	}
	if (f->drop && ctx->rx_count == f->drop) {
		log_hex(ctx, "fault drop", buf, len);
		return 0;
	}
	if (f->delay_ms && f->delayed_for != ctx->rx_count) {
		f->delayed_for = ctx->rx_count;
		err = pump_sleep(ctx, (int)f->delay_ms);
		if (err)
			return err;
	}
	if (f->garbage && !f->garbage_done && ctx->rx_count >= 1) {
		uint8_t g[EMU_REPLY_MAX];
		size_t i, n = f->garbage;

		f->garbage_done = true;
		if (n > sizeof(g))
			n = sizeof(g);
		for (i = 0; i < n; i++) {
			do
				g[i] = (uint8_t)emu_rand(ctx);
			while (bad_garbage(g[i]));
		}
		emu_log(ctx, "fault garbage %zu", n);
		err = tx_packets(ctx, g, n);
		if (err)
			return err;
	}
	return tx_packets(ctx, buf, len);
}

int emu_flush(struct emu_ctx *ctx)
{
	size_t n = ctx->reply_len;

	ctx->reply_len = 0;
	return fe_emit(ctx, ctx->reply, n);
}

int emu_write(struct emu_ctx *ctx, const void *buf, size_t len)
{
	const uint8_t *p = buf;
	int err;

	if (ctx->quit)
		return -ESHUTDOWN;
	if (ctx->f.fields)
		return fe_emit(ctx, p, len);
	while (len) {
		size_t room = sizeof(ctx->reply) - ctx->reply_len;
		size_t n = len < room ? len : room;

		memcpy(ctx->reply + ctx->reply_len, p, n);
		ctx->reply_len += n;
		p += n;
		len -= n;
		if (ctx->reply_len == sizeof(ctx->reply)) {
			err = emu_flush(ctx);
			if (err)
				return err;
		}
	}
	return 0;
}

int emu_sleep(struct emu_ctx *ctx, int ms)
{
	int err = emu_flush(ctx);

	return err ? err : pump_sleep(ctx, ms);
}

static void halt_in(struct emu_ctx *ctx)
{
	uint8_t b;
	ssize_t n;

	/* FunctionFS halts an IN endpoint that is read from */
	if (emu_tx_wait_idle(ctx, 500))
		emu_log(ctx, "error stall: IN queue busy");
	/* -EBADMSG is FunctionFS' way of saying "halted" */
	n = read(ctx->ep[ctx->in_ep], &b, 1);
	if (n < 0 && errno == EBADMSG)
		emu_log(ctx, "fault stall ok");
	else
		emu_log(ctx, "error stall %d", n < 0 ? -errno : 0);
}

/* Halt bulk IN now (after what is queued); the host sees EPIPE. */
void emu_stall_in(struct emu_ctx *ctx)
{
	if (emu_flush(ctx))
		return;
	emu_log(ctx, "stall-in");
	halt_in(ctx);
}

/*
 * One bulk IN packet of @len bytes (0: a zero-length packet, at most the
 * packet size), after what is queued, bypassing the fault engine.
 */
int emu_write_packet(struct emu_ctx *ctx, const void *buf, size_t len)
{
	size_t mps = ctx->mps ? ctx->mps : 64;
	int err = emu_flush(ctx);

	if (err)
		return err;
	return tx_packet(ctx, buf, len < mps ? len : mps);
}

/*
 * Take the next host byte through the fault engine: a byte, -EAGAIN when
 * the ring is empty, -EINTR for a byte a fault swallowed, -ESHUTDOWN.
 */
static int rx_take(struct emu_ctx *ctx)
{
	uint8_t c;

	if (ctx->quit)
		return -ESHUTDOWN;
	if (ctx->rx_tail == ctx->rx_head)
		return -EAGAIN;
	c = ctx->rx_ring[ctx->rx_tail];
	ctx->rx_tail = (ctx->rx_tail + 1) % EMU_RX_RING;
	ctx->rx_taken++;
	ctx->rx_count++;
	if (ctx->f.lose == ctx->rx_count) {
		emu_log(ctx, "fault lose %02x", c);
		return -EINTR;
	}
	if (ctx->f.unplug_at == ctx->rx_count) {
		unplug(ctx);
		ctx->quit = true;
		return -ESHUTDOWN;
	}
	if (ctx->f.stall_at == ctx->rx_count) {
		emu_log(ctx, "fault stall-at %02x", c);
		halt_in(ctx);
		return -EINTR;
	}
	return c;
}

/* where the transfer that holds the byte at stream offset @pos ends */
static uint64_t rx_chunk_end(struct emu_ctx *ctx, uint64_t pos)
{
	while (ctx->rx_btail != ctx->rx_bhead &&
	       ctx->rx_bounds[ctx->rx_btail] <= pos)
		ctx->rx_btail = (ctx->rx_btail + 1) % EMU_RX_BOUNDS;
	if (ctx->rx_btail == ctx->rx_bhead)
		return ctx->rx_in_total;
	return ctx->rx_bounds[ctx->rx_btail];
}

size_t emu_rx_discard(struct emu_ctx *ctx)
{
	size_t n = (ctx->rx_head + EMU_RX_RING - ctx->rx_tail) % EMU_RX_RING;

	ctx->rx_tail = ctx->rx_head;
	ctx->rx_taken += n;
	ctx->rx_btail = ctx->rx_bhead;
	return n;
}

int emu_read_byte(struct emu_ctx *ctx, int timeout_ms)
{
	uint64_t end = 0;
	int err;

	err = emu_flush(ctx);
	if (err)
		return err;
	if (timeout_ms >= 0)
		end = emu_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	for (;;) {
		int wait = -1;
		int c = rx_take(ctx);

		if (c >= 0 || c == -ESHUTDOWN)
			return c;
		if (c == -EINTR)
			continue;
		if (timeout_ms >= 0) {
			uint64_t now = emu_now_ns();

			if (now >= end)
				return -ETIMEDOUT;
			wait = (int)((end - now + 999999) / 1000000);
		}
		err = emu_pump(ctx, wait);
		if (err)
			return err;
	}
}

int emu_read_chunk(struct emu_ctx *ctx, uint8_t *buf, size_t len,
		   int timeout_ms)
{
	uint64_t end;
	size_t n = 0;
	int c;

	if (!len)
		return -EINVAL;
	/* the first byte (waits); a lost byte starts no chunk */
	c = emu_read_byte(ctx, timeout_ms);
	if (c < 0)
		return c;
	buf[n++] = (uint8_t)c;
	end = rx_chunk_end(ctx, ctx->rx_taken - 1);
	/* the rest of that transfer, already in the ring */
	while (n < len && ctx->rx_taken < end) {
		c = rx_take(ctx);
		if (c == -ESHUTDOWN)
			return c;
		if (c == -EAGAIN)
			break;
		if (c >= 0)
			buf[n++] = (uint8_t)c;
	}
	return (int)n;
}

int emu_tx_wait_idle(struct emu_ctx *ctx, int timeout_ms)
{
	uint64_t end = emu_now_ns() + (uint64_t)timeout_ms * 1000000ull;
	int err = emu_flush(ctx);

	if (err)
		return err;
	while (ctx->tx_busy && ctx->enabled) {
		uint64_t now = emu_now_ns();

		if (now >= end)
			return -ETIMEDOUT;
		err = emu_pump(ctx, (int)((end - now + 999999) / 1000000));
		if (err)
			return err;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* generic fault knobs                                                 */

static int knob_garbage(struct emu_ctx *ctx, const char *v)
{
	return emu_parse_uint(v, EMU_REPLY_MAX, &ctx->f.garbage);
}

static int knob_stale(struct emu_ctx *ctx, const char *v)
{
	size_t i, n = strlen(v);

	if (!n || n % 2)
		return -EINVAL;
	free(ctx->f.stale);
	ctx->f.stale = malloc(n / 2);
	if (!ctx->f.stale)
		return -ENOMEM;
	for (i = 0; i < n / 2; i++) {
		unsigned int b;

		if (sscanf(v + 2 * i, "%2x", &b) != 1)
			return -EINVAL;
		ctx->f.stale[i] = (uint8_t)b;
	}
	ctx->f.stale_len = n / 2;
	return 0;
}

static int knob_silent(struct emu_ctx *ctx, const char *v)
{
	(void)v;
	ctx->f.silent = true;
	return 0;
}

static int knob_delay(struct emu_ctx *ctx, const char *v)
{
	return emu_parse_uint(v, 600000, &ctx->f.delay_ms);
}

static int knob_drop(struct emu_ctx *ctx, const char *v)
{
	return emu_parse_uint(v, ~0ul, &ctx->f.drop);
}

static int knob_lose(struct emu_ctx *ctx, const char *v)
{
	return emu_parse_uint(v, ~0ul, &ctx->f.lose);
}

static int knob_unplug(struct emu_ctx *ctx, const char *v)
{
	return emu_parse_uint(v, ~0ul, &ctx->f.unplug_at);
}

static int knob_fields(struct emu_ctx *ctx, const char *v)
{
	(void)v;
	ctx->f.fields = true;
	return 0;
}

static int knob_split(struct emu_ctx *ctx, const char *v)
{
	int err = emu_parse_uint(v, EMU_TX_MAX, &ctx->f.split);

	return err ? err : (ctx->f.split ? 0 : -EINVAL);
}

static int knob_zlp(struct emu_ctx *ctx, const char *v)
{
	(void)v;
	ctx->f.zlp = true;
	return 0;
}

static int knob_stall_at(struct emu_ctx *ctx, const char *v)
{
	return emu_parse_uint(v, ~0ul, &ctx->f.stall_at);
}

static const struct emu_knob generic_knobs[] = {
	{ "garbage", 1, "N random bytes (never 5f/a0/a1) before the first reply",
	  knob_garbage },
	{ "stale", 1, "HEX bytes queued on bulk IN at enable", knob_stale },
	{ "silent", 0, "never send anything", knob_silent },
	{ "delay_ms", 1, "delay every reply by N ms", knob_delay },
	{ "drop", 1, "do not answer the N-th host byte (1-based)", knob_drop },
	{ "lose", 1, "the N-th host byte never reaches the device", knob_lose },
	{ "unplug_at", 1, "unbind the UDC on the N-th host byte, then exit",
	  knob_unplug },
	{ "fields", 0, "one packet per protocol field instead of per reply",
	  knob_fields },
	{ "split", 1, "cut every packet into N-byte packets", knob_split },
	{ "zlp", 0, "a zero-length packet after a reply ending on a full packet",
	  knob_zlp },
	{ "stall_at", 1, "halt bulk IN on the N-th host byte (which is lost)",
	  knob_stall_at },
	{ NULL, 0, NULL, NULL }
};

static const struct emu_knob *find_knob(const struct emu_knob *k,
					const char *name, size_t len)
{
	for (; k && k->name; k++)
		if (strlen(k->name) == len && !strncmp(k->name, name, len))
			return k;
	return NULL;
}

static int apply_fault(struct emu_ctx *ctx, const char *arg)
{
	const char *eq = strchr(arg, '=');
	size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
	const struct emu_knob *k;
	int err;

	k = find_knob(generic_knobs, arg, len);
	if (!k)
		k = find_knob(ctx->pers->knobs, arg, len);
	if (!k) {
		warnx("unknown fault '%.*s' for personality %s", (int)len, arg,
		      ctx->pers->name);
		return -EINVAL;
	}
	if ((k->has_val == 1 && !eq) || (k->has_val == 0 && eq)) {
		warnx("fault '%s' %s a value", k->name,
		      k->has_val ? "needs" : "takes no");
		return -EINVAL;
	}
	err = k->set(ctx, eq ? eq + 1 : NULL);
	if (err)
		warnx("bad value in --fault %s", arg);
	return err;
}

/* ------------------------------------------------------------------ */
/* descriptors                                                         */

void emu_set_stream(struct emu_ctx *ctx, int in_epfile, int out_epfile,
		    uint16_t fs_mps, uint16_t hs_mps)
{
	ctx->in_ep = in_epfile;
	ctx->out_ep = out_epfile;
	ctx->fs_mps = fs_mps;
	ctx->hs_mps = hs_mps;
	ctx->mps = fs_mps;
}

static uint8_t *put_intf(uint8_t *p, uint8_t num, uint8_t neps, uint8_t cls,
			 uint8_t sub, uint8_t proto)
{
	*p++ = USB_DT_INTERFACE_SIZE;
	*p++ = USB_DT_INTERFACE;
	*p++ = num;
	*p++ = 0;		/* bAlternateSetting */
	*p++ = neps;
	*p++ = cls;
	*p++ = sub;
	*p++ = proto;
	*p++ = 0;		/* iInterface: no strings */
	return p;
}

static uint8_t *put_ep(uint8_t *p, uint8_t addr, uint8_t attr, uint16_t mps,
		       uint8_t interval)
{
	*p++ = USB_DT_ENDPOINT_SIZE;
	*p++ = USB_DT_ENDPOINT;
	*p++ = addr;
	*p++ = attr;
	*p++ = mps & 0xff;
	*p++ = mps >> 8;
	*p++ = interval;
	return p;
}

static uint8_t *put_cdc(uint8_t *p, const struct emu_cdc_layout *l, bool hs)
{
	uint16_t bulk = hs ? l->hs_bulk_mps : l->fs_bulk_mps;
	uint8_t comm = l->data_first ? 1 : 0;
	int i;

	for (i = 0; i < 2; i++) {
		if ((i == 0) == !l->data_first) {
			p = put_intf(p, comm, 1, USB_CLASS_COMM, 2,
				     l->comm_protocol);
			p = put_ep(p, USB_DIR_IN | 3, USB_ENDPOINT_XFER_INT,
				   l->intr_mps, l->intr_interval);
		} else {
			p = put_intf(p, !comm, 2, USB_CLASS_CDC_DATA, 0, 0);
			p = put_ep(p, USB_DIR_OUT | 1, USB_ENDPOINT_XFER_BULK,
				   bulk, 0);
			p = put_ep(p, USB_DIR_IN | 1, USB_ENDPOINT_XFER_BULK,
				   bulk, 0);
		}
	}
	return p;
}

/**
 * emu_cdc_descs - FunctionFS v2 blob for a CDC comm (interrupt IN) + CDC
 * data (bulk OUT + bulk IN) pair, full and high speed, no functional
 * descriptors (FunctionFS on 6.1 rejects them)
 */
int emu_cdc_descs(struct emu_ctx *ctx, const struct emu_cdc_layout *l,
		  void *buf, size_t len)
{
	const size_t per_speed = 2 * USB_DT_INTERFACE_SIZE +
				 3 * USB_DT_ENDPOINT_SIZE;
	struct usb_functionfs_descs_head_v2 *h = buf;
	uint8_t *p = buf;
	uint32_t cnt = htole32(5), total;

	total = sizeof(*h) + 2 * sizeof(cnt) + 2 * per_speed;
	if (len < total)
		return -ENOSPC;
	h->magic = htole32(FUNCTIONFS_DESCRIPTORS_MAGIC_V2);
	h->length = htole32(total);
	h->flags = htole32(FUNCTIONFS_HAS_FS_DESC | FUNCTIONFS_HAS_HS_DESC);
	p += sizeof(*h);
	memcpy(p, &cnt, sizeof(cnt));
	p += sizeof(cnt);
	memcpy(p, &cnt, sizeof(cnt));
	p += sizeof(cnt);
	p = put_cdc(p, l, false);
	p = put_cdc(p, l, true);
	/* epfiles are numbered in order of first appearance */
	if (l->data_first)
		emu_set_stream(ctx, 2, 1, l->fs_bulk_mps, l->hs_bulk_mps);
	else
		emu_set_stream(ctx, 3, 2, l->fs_bulk_mps, l->hs_bulk_mps);
	return (int)(p - (uint8_t *)buf);
}

/* ------------------------------------------------------------------ */
/* gadget setup / teardown                                             */

static void rmdir_children(const char *dir, bool links_only)
{
	struct dirent *de;
	char path[600];
	DIR *d;

	d = opendir(dir);
	if (!d)
		return;
	while ((de = readdir(d))) {
		if (de->d_name[0] == '.')
			continue;
		pathf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if (de->d_type == DT_LNK)
			unlink(path);
		else if (de->d_type == DT_DIR && !links_only)
			rmdir(path);
	}
	closedir(d);
}

/*
 * Remove a gadget tree whatever state it is in: unbind, drop config links
 * and config strings, configs, functions, gadget strings, the gadget.
 */
static int remove_gadget_tree(struct emu_ctx *ctx, const char *gdir)
{
	char path[512], udc[64];
	struct dirent *de;
	DIR *d;

	pathf(path, sizeof(path), "%s/UDC", gdir);
	if (!read_attr(path, udc, sizeof(udc)) && udc[0])
		write_attr(gdir, "UDC", "\n");
	if (ctx->mounted || access(ctx->mnt, F_OK) == 0) {
		if (umount2(ctx->mnt, 0) && errno != EINVAL && errno != ENOENT)
			umount2(ctx->mnt, MNT_DETACH);
		ctx->mounted = false;
	}
	pathf(path, sizeof(path), "%s/configs", gdir);
	d = opendir(path);
	if (d) {
		while ((de = readdir(d))) {
			char cfg[600], sub[700];

			if (de->d_name[0] == '.')
				continue;
			pathf(cfg, sizeof(cfg), "%s/%s", path, de->d_name);
			rmdir_children(cfg, true);
			pathf(sub, sizeof(sub), "%s/strings", cfg);
			rmdir_children(sub, false);
			rmdir(cfg);
		}
		closedir(d);
	}
	pathf(path, sizeof(path), "%s/functions", gdir);
	rmdir_children(path, false);
	pathf(path, sizeof(path), "%s/strings", gdir);
	rmdir_children(path, false);
	pathf(path, sizeof(path), "%s/os_desc", gdir);
	rmdir_children(path, true);
	if (rmdir(gdir) && errno != ENOENT) {
		warnx("cannot remove %s: %s", gdir, strerror(errno));
		return -errno;
	}
	return 0;
}

static int mkdir_p(const char *path)
{
	char tmp[256], *s;

	pathf(tmp, sizeof(tmp), "%s", path);
	for (s = tmp + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(tmp, 0755) && errno != EEXIST)
			return -errno;
		*s = '/';
	}
	if (mkdir(tmp, 0755) && errno != EEXIST)
		return -errno;
	return 0;
}

static int write_all(int fd, const void *buf, size_t len)
{
	ssize_t n = write(fd, buf, len);

	if (n < 0)
		return -errno;
	return (size_t)n == len ? 0 : -EIO;
}

/*
 * One emulator per UDC: an flock on /run/bsk-emu/<udc>.lock, released by
 * the kernel however we die.  Holding it proves that a gadget tree with our
 * name is a leftover of a dead run, never another live emulator's.
 */
static int take_udc_lock(struct emu_ctx *ctx)
{
	struct stat a, b;
	int err, i;

	err = mkdir_p(RUN_DIR);
	if (err)
		return err;
	for (i = 0; i < 10; i++) {
		ctx->lock_fd = open(ctx->lock_path,
				    O_RDWR | O_CREAT | O_CLOEXEC, 0644);
		if (ctx->lock_fd < 0)
			return -errno;
		if (flock(ctx->lock_fd, LOCK_EX | LOCK_NB)) {
			err = -errno;
			close(ctx->lock_fd);
			ctx->lock_fd = -1;
			return err == -EWOULDBLOCK ? -EBUSY : err;
		}
		/* the previous owner may have unlinked it meanwhile */
		if (!fstat(ctx->lock_fd, &a) && !stat(ctx->lock_path, &b) &&
		    a.st_ino == b.st_ino && a.st_dev == b.st_dev)
			return 0;
		close(ctx->lock_fd);
		ctx->lock_fd = -1;
	}
	return -EAGAIN;
}

static void drop_udc_lock(struct emu_ctx *ctx)
{
	if (ctx->lock_fd < 0)
		return;
	unlink(ctx->lock_path);
	close(ctx->lock_fd);
	ctx->lock_fd = -1;
}

/* gadget strings (0x0409); none at all when both are NULL */
static int set_strings(struct emu_ctx *ctx, const char *mfr,
		       const char *product)
{
	char dir[512];
	int err;

	pathf(dir, sizeof(dir), "%s/strings/0x409", ctx->gadget_dir);
	if (!mfr && !product) {
		if (rmdir(dir) && errno != ENOENT)
			return -errno;
		return 0;
	}
	if (mkdir(dir, 0755) && errno != EEXIST)
		return -errno;
	err = write_attr(dir, "manufacturer", mfr ? mfr : "");
	if (!err)
		err = write_attr(dir, "product", product ? product : "");
	return err;
}

/* IDs, speed and strings; the gadget must be unbound */
static int set_ident(struct emu_ctx *ctx, const struct emu_ident *id)
{
	int err;

	err = write_hex_attr(ctx->gadget_dir, "idVendor", id->vid);
	if (!err)
		err = write_hex_attr(ctx->gadget_dir, "idProduct", id->pid);
	if (!err && id->max_speed)
		err = write_attr(ctx->gadget_dir, "max_speed", id->max_speed);
	if (!err)
		err = set_strings(ctx, id->manufacturer, id->product);
	if (!err)
		ctx->ident = *id;
	return err;
}

void emu_ident_get(struct emu_ctx *ctx, struct emu_ident *id)
{
	*id = ctx->ident;
}

int emu_reenumerate(struct emu_ctx *ctx, const struct emu_ident *id,
		    int gap_ms)
{
	uint64_t end;
	int err;

	unplug(ctx);
	/* the UDC completes what was queued with errors: reap it */
	end = emu_now_ns() + 1000000000ull;
	while (ctx->tx_busy && emu_now_ns() < end) {
		err = emu_pump(ctx, 10);
		if (err)
			return err;
	}
	ctx->reply_len = 0;
	err = pump_sleep(ctx, gap_ms);
	if (err)
		return err;
	emu_rx_discard(ctx);
	err = set_ident(ctx, id);
	emu_log(ctx, "ident %04x:%04x %s%s%s", id->vid, id->pid,
		id->max_speed ? id->max_speed : "-",
		id->product ? " " : "", id->product ? id->product : "");
	if (err)
		emu_log(ctx, "error ident %d", err);
	plug(ctx);
	return ctx->quit ? -ESHUTDOWN : 0;
}

#define CHECK(expr, what)						\
	do {								\
		err = (expr);						\
		if (err) {						\
			warnx("%s: %s", what, strerror(-err));		\
			return err;					\
		}							\
	} while (0)

static int gadget_setup(struct emu_ctx *ctx)
{
	const struct emu_personality *p = ctx->pers;
	struct usb_functionfs_strings_head strs;
	char path[512], val[32];
	uint8_t descs[1024];
	int err, len, i;

	pathf(path, sizeof(path), "/sys/class/udc/%s", ctx->udc);
	if (access(path, F_OK)) {
		warnx("no UDC named %s in /sys/class/udc", ctx->udc);
		return -ENODEV;
	}
	err = take_udc_lock(ctx);
	if (err) {
		warnx("%s: %s", ctx->lock_path, err == -EBUSY ?
		      "another bsk-emu runs on this UDC" : strerror(-err));
		return err;
	}

	/* a stale tree from a killed run goes first */
	if (access(ctx->gadget_dir, F_OK) == 0) {
		warnx("removing stale gadget %s", ctx->gadget_dir);
		CHECK(remove_gadget_tree(ctx, ctx->gadget_dir), "stale gadget");
	} else if (access(ctx->mnt, F_OK) == 0) {
		umount2(ctx->mnt, MNT_DETACH);
	}

	if (mkdir(ctx->gadget_dir, 0755))
		CHECK(-errno, ctx->gadget_dir);
	ctx->ident = (struct emu_ident){
		.vid = (uint16_t)(ctx->vid >= 0 ? ctx->vid : p->vid),
		.pid = (uint16_t)(ctx->pid >= 0 ? ctx->pid : p->pid),
		.max_speed = p->max_speed,
		.manufacturer = p->manufacturer,
		.product = p->product,
	};
	CHECK(set_ident(ctx, &ctx->ident), "IDs and strings");
	CHECK(write_hex_attr(ctx->gadget_dir, "bcdUSB", 0x0200), "bcdUSB");
	CHECK(write_hex_attr(ctx->gadget_dir, "bcdDevice", p->bcd_device),
	      "bcdDevice");
	snprintf(val, sizeof(val), "0x%02x", p->dev_class);
	CHECK(write_attr(ctx->gadget_dir, "bDeviceClass", val), "class");
	snprintf(val, sizeof(val), "0x%02x", p->dev_subclass);
	CHECK(write_attr(ctx->gadget_dir, "bDeviceSubClass", val), "subclass");
	snprintf(val, sizeof(val), "0x%02x", p->dev_protocol);
	CHECK(write_attr(ctx->gadget_dir, "bDeviceProtocol", val), "protocol");
	CHECK(write_attr(ctx->gadget_dir, "bMaxPacketSize0", "64"), "mps0");

	if (mkdir(ctx->func_dir, 0755))
		CHECK(-errno, ctx->func_dir);
	pathf(path, sizeof(path), "%s/configs/c.1", ctx->gadget_dir);
	if (mkdir(path, 0755))
		CHECK(-errno, path);
	snprintf(val, sizeof(val), "%u", p->max_power);
	CHECK(write_attr(path, "MaxPower", val), "MaxPower");
	CHECK(write_attr(path, "bmAttributes", "0x80"), "bmAttributes");
	if (symlink(ctx->func_dir, ctx->link_path))
		CHECK(-errno, ctx->link_path);

	CHECK(mkdir_p(ctx->mnt), ctx->mnt);
	if (mount(ctx->tag, ctx->mnt, "functionfs", 0, NULL))
		CHECK(-errno, "mount functionfs");
	ctx->mounted = true;

	pathf(path, sizeof(path), "%s/ep0", ctx->mnt);
	ctx->ep0 = open(path, O_RDWR | O_CLOEXEC);
	if (ctx->ep0 < 0)
		CHECK(-errno, path);
	len = p->descs(ctx, descs, sizeof(descs));
	if (len < 0)
		CHECK(len, "building descriptors");
	CHECK(write_all(ctx->ep0, descs, len), "writing descriptors");
	strs.magic = htole32(FUNCTIONFS_STRINGS_MAGIC);
	strs.length = htole32(sizeof(strs));
	strs.str_count = 0;
	strs.lang_count = 0;
	CHECK(write_all(ctx->ep0, &strs, sizeof(strs)), "writing strings");

	for (i = 1; i <= EMU_MAX_EPS; i++) {
		pathf(path, sizeof(path), "%s/ep%d", ctx->mnt, i);
		if (access(path, F_OK))
			break;
		ctx->ep[i] = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC);
		if (ctx->ep[i] < 0)
			CHECK(-errno, path);
	}
	if (ctx->in_ep <= 0 || ctx->out_ep <= 0 || ctx->ep[ctx->in_ep] < 0 ||
	    ctx->ep[ctx->out_ep] < 0)
		CHECK(-ENOENT, "stream endpoints");

	/* plug in: only now, with descriptors written */
	CHECK(write_attr(ctx->gadget_dir, "UDC", ctx->udc), "binding UDC");
	ctx->bound = true;
	emu_log(ctx, "connect");
	return 0;
}

static void gadget_teardown(struct emu_ctx *ctx)
{
	struct io_event ev;
	int i;

	/* disconnect first: the UDC stops touching our requests */
	if (ctx->bound) {
		write_attr(ctx->gadget_dir, "UDC", "\n");
		ctx->bound = false;
	}
	ctx->enabled = false;
	if (ctx->aio) {
		if (ctx->rx_busy)
			sys_io_cancel(ctx->aio, &ctx->rx_cb, &ev);
		for (i = 0; i < EMU_NR_TX; i++)
			if (ctx->tx[i].busy)
				sys_io_cancel(ctx->aio, &ctx->tx[i].cb, &ev);
		sys_io_destroy(ctx->aio);	/* waits for the rest */
		ctx->aio = 0;
	}
	for (i = 1; i <= EMU_MAX_EPS; i++) {
		if (ctx->ep[i] >= 0)
			close(ctx->ep[i]);
		ctx->ep[i] = -1;
	}
	if (ctx->ep0 >= 0)
		close(ctx->ep0);
	ctx->ep0 = -1;
	if (ctx->lock_fd < 0)
		return;		/* never touch a tree we do not own */
	remove_gadget_tree(ctx, ctx->gadget_dir);
	rmdir(ctx->mnt);
	drop_udc_lock(ctx);
	rmdir(RUN_DIR);		/* fails harmlessly while others use it */
}

/* ------------------------------------------------------------------ */
/* main                                                                */

static void usage(FILE *out)
{
	const struct emu_knob *k;
	size_t i;

	fprintf(out,
		"usage: bsk-emu --personality NAME --udc UDC [--seed N]\n"
		"               [--fault KEY[=VAL]]... [--log FILE]\n"
		"               [--vid 0xVVVV --pid 0xPPPP] [--verbose]\n"
		"Prints 'ready' once the host configured the device; stops on\n"
		"SIGTERM/SIGINT/SIGHUP or EOF on a pipe/tty stdin.  SIGUSR1\n"
		"unplugs (unbinds the UDC), SIGUSR2 plugs in again.\n\nfaults:\n");
	for (k = generic_knobs; k->name; k++)
		fprintf(out, "  %s%s\t%s\n", k->name, k->has_val ? "=N" : "",
			k->help);
	for (i = 0; i < ARRAY_SIZE(personalities);
	     i++) {
		fprintf(out, "personality %s (%04x:%04x):\n",
			personalities[i]->name, personalities[i]->vid,
			personalities[i]->pid);
		for (k = personalities[i]->knobs; k && k->name; k++)
			fprintf(out, "  %s%s\t%s\n", k->name,
				k->has_val ? "=V" : "", k->help);
	}
}

static const struct emu_personality *find_personality(const char *name)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(personalities); i++)
		if (!strcmp(personalities[i]->name, name))
			return personalities[i];
	return NULL;
}

static bool stdin_watchable(void)
{
	struct stat st;

	/* a background job's /dev/null stdin must not stop us */
	if (fstat(STDIN_FILENO, &st))
		return false;
	return S_ISFIFO(st.st_mode) || S_ISSOCK(st.st_mode) ||
	       isatty(STDIN_FILENO);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "personality", required_argument, NULL, 'p' },
		{ "udc", required_argument, NULL, 'u' },
		{ "seed", required_argument, NULL, 's' },
		{ "fault", required_argument, NULL, 'f' },
		{ "log", required_argument, NULL, 'l' },
		{ "vid", required_argument, NULL, 'V' },
		{ "pid", required_argument, NULL, 'P' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *faults[64], *log_path = NULL, *pname = NULL;
	static struct emu_ctx c;
	struct emu_ctx *ctx = &c;
	unsigned long seed = 1, v;
	int nfaults = 0, opt, i, ret;
	sigset_t mask;
	char *s;

	/* signals only via signalfd, so no setup step is cut in half */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);

	ctx->vid = ctx->pid = -1;
	ctx->ep0 = -1;
	ctx->lock_fd = -1;
	for (i = 0; i <= EMU_MAX_EPS; i++)
		ctx->ep[i] = -1;
	while ((opt = getopt_long(argc, argv, "p:u:s:f:l:V:P:vh", opts,
				  NULL)) != -1) {
		switch (opt) {
		case 'p':
			pname = optarg;
			break;
		case 'u':
			ctx->udc = optarg;
			break;
		case 's':
			if (emu_parse_uint(optarg, ~0ul, &seed))
				goto bad;
			break;
		case 'f':
			if (nfaults == (int)ARRAY_SIZE(faults))
				goto bad;
			faults[nfaults++] = optarg;
			break;
		case 'l':
			log_path = optarg;
			break;
		case 'V':
		case 'P':
			if (emu_parse_uint(optarg, 0xffff, &v))
				goto bad;
			if (opt == 'V')
				ctx->vid = (int)v;
			else
				ctx->pid = (int)v;
			break;
		case 'v':
			ctx->verbose = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			goto bad;
		}
	}
	if (optind != argc || !pname || !ctx->udc)
		goto bad;
	ctx->pers = find_personality(pname);
	if (!ctx->pers) {
		warnx("unknown personality '%s'", pname);
		goto bad;
	}
	if (strlen(ctx->udc) > 32 || strchr(ctx->udc, '/'))
		goto bad;

	pathf(ctx->tag, sizeof(ctx->tag), "bsk_%s", ctx->udc);
	for (s = ctx->tag; *s; s++)
		if (*s == '.' || *s == '-')
			*s = '_';
	pathf(ctx->gadget_dir, sizeof(ctx->gadget_dir), "%s/%s",
		 CONFIGFS_GADGETS, ctx->tag);
	pathf(ctx->func_dir, sizeof(ctx->func_dir), "%s/functions/ffs.%s",
		 ctx->gadget_dir, ctx->tag);
	pathf(ctx->link_path, sizeof(ctx->link_path),
		 "%s/configs/c.1/ffs.%s", ctx->gadget_dir, ctx->tag);
	pathf(ctx->mnt, sizeof(ctx->mnt), "%s/%s", RUN_DIR, ctx->udc);
	pathf(ctx->lock_path, sizeof(ctx->lock_path), "%s/%s.lock", RUN_DIR,
	      ctx->udc);

	/* splitmix64 of the seed, never 0 */
	ctx->seed = seed;
	ctx->rng = (uint64_t)seed + 0x9E3779B97F4A7C15ull;
	ctx->rng = (ctx->rng ^ (ctx->rng >> 30)) * 0xBF58476D1CE4E5B9ull;
	ctx->rng = (ctx->rng ^ (ctx->rng >> 27)) * 0x94D049BB133111EBull;
	ctx->rng ^= ctx->rng >> 31;
	if (!ctx->rng)
		ctx->rng = 1;

	if (ctx->pers->priv_size) {
		ctx->priv = calloc(1, ctx->pers->priv_size);
		if (!ctx->priv)
			return 1;
	}
	if (ctx->pers->init && ctx->pers->init(ctx))
		return 2;
	for (i = 0; i < nfaults; i++)
		if (apply_fault(ctx, faults[i]))
			return 2;

	if (log_path) {
		ctx->log = fopen(log_path, "a");
		if (!ctx->log) {
			warnx("%s: %s", log_path, strerror(errno));
			return 1;
		}
	}

	ctx->sfd = signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);
	ctx->efd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (ctx->sfd < 0 || ctx->efd < 0 || sys_io_setup(EMU_NR_TX + 8,
							 &ctx->aio)) {
		warnx("signalfd/eventfd/io_setup: %s", strerror(errno));
		return 1;
	}
	ctx->watch_stdin = stdin_watchable();

	if (ctx->pers->run)	/* own backend (gadgetfs.c) */
		ret = ctx->pers->run(ctx, ctx->udc, ctx->sfd, ctx->watch_stdin);
	else
		ret = gadget_setup(ctx);
	if (!ret && !ctx->pers->run) {
		ret = ctx->pers->serve(ctx);
		if (ret == -ESHUTDOWN)
			ret = 0;
		else if (ret)
			warnx("personality stopped: %s", strerror(-ret));
	}
	gadget_teardown(ctx);
	emu_log(ctx, "exit %d", ret);
	if (ctx->log)
		fclose(ctx->log);
	free(ctx->f.stale);
	free(ctx->priv);
	return ret ? 1 : 0;
bad:
	usage(stderr);
	return 2;
}
