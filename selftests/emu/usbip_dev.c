// SPDX-License-Identifier: GPL-2.0
/*
 * usbip-dev: a MediaTek BROM played over USB/IP, straight into vhci_hcd.
 *
 * dummy_hcd can only fail a transfer the way an unplug does; it cannot
 * make the host see -EPROTO, -EILSEQ, -ETIME or -EOVERFLOW on a bulk IN
 * URB, so a device that babbles transfer errors cannot be played through
 * FunctionFS.  Over USB/IP the device side chooses every URB's status.
 * This program is that device side: it makes a socketpair, hands one end
 * to vhci_hcd through /sys/devices/platform/vhci_hcd.0/attach ("port
 * sockfd devid speed", what usbip attach does after its import, without
 * usbipd), and answers the URBs vhci_hcd forwards as USBIP_CMD_SUBMIT and
 * USBIP_CMD_UNLINK (Documentation/usb/usbip_protocol.rst: 48-byte
 * headers, big-endian, a RET_SUBMIT carries an IN transfer's data and the
 * URB's status as a negative errno).
 *
 * The device is a BROM as selftests/emu/mtk_brom.c plays it: 0e8d:0003,
 * full speed, no strings, CDC comm #0 (interrupt IN 0x83) + CDC data #1
 * (bulk OUT 0x01, bulk IN 0x81).  It answers the sync A0 0A 50 05 with
 * 5F F5 AF FA (a wrong byte with byte + 1, restarting the sync), then
 * the identity readout bootshake sends (GET_BL_VER, GET_HW_CODE 0x0766,
 * GET_HW_SW_VER, GET_TARGET_CONFIG, GET_VERSION, GET_ME_ID, GET_SOC_ID)
 * and WRITE16/WRITE32 (the watchdog); anything else is echoed.
 *
 * The fault: --babble ERRNO[,ERRNO...] answers every bulk IN URB at once
 * with that status (the list is used in turn), except that an URB
 * submitted while reply bytes are queued gets the bytes.  Without it an
 * IN URB is held (the device NAKs) until bytes are queued or the host
 * unlinks it.  The interrupt IN URB is always held.
 *
 *   usbip-dev [--babble ERRNO[,ERRNO]...] [--vhci DIR] [--log FILE]
 *
 * stdout: "attached PATH" (the USB path, e.g. "3-1") once vhci_hcd took
 * the socket, "ready" at the first SET_CONFIGURATION, and one line per
 * command read from stdin:
 *   stats          "stats t_ns=N in_submit=N in_error=N in_data=N
 *                  in_held=N out=N ctrl=N unlink=N peak_in_1s=N"
 *                  (counters since start; t_ns CLOCK_MONOTONIC;
 *                  in_held: bulk IN URBs held now;
 *                  peak_in_1s: most bulk IN submissions within one
 *                  second, a sliding window, since the last stats)
 *   babble LIST    start babbling (held IN URBs get the error now)
 *   babble off     stop; IN URBs are held again
 *   quit, or EOF   close the socket (vhci_hcd disconnects the device)
 * SIGTERM/SIGINT/SIGHUP end it the same way.  Exit 0, 1 when the attach
 * failed (no vhci_hcd: the caller skips), 2 for a bad command line.
 *
 * --log FILE: one line per event (ns first): attach, setup, out, in,
 * babble, sync-done, ready, unlink, exit; errors given to IN URBs are
 * counted, not logged.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>
#include <endian.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <linux/usb/ch9.h>

#define VHCI_DIR		"/sys/devices/platform/vhci_hcd.0"

/* usbip_protocol.rst */
#define USBIP_CMD_SUBMIT	1
#define USBIP_CMD_UNLINK	2
#define USBIP_RET_SUBMIT	3
#define USBIP_RET_UNLINK	4
#define USBIP_DIR_OUT		0
#define USBIP_DIR_IN		1
#define USBIP_HDR_LEN		48
/* vhci_hcd's "status" file: a free port */
#define VDEV_ST_NULL		4

#define EP_BULK			1	/* 0x01 OUT, 0x81 IN */
#define EP_INTR			3	/* 0x83 */
#define BULK_MPS		64
#define XFER_MAX		(64 * 1024)
/* what one poll() round reads and writes at most */
#define INBUF			(2 * XFER_MAX)
#define OUTBUF			(2 * XFER_MAX)
#define HELD_MAX		64
#define TXQ_MAX			4096
#define BABBLE_MAX		8
/* bulk IN submission times kept for the sliding one-second peak */
#define RING			4096

struct held {
	uint32_t seqnum;
	uint32_t ep;
	uint32_t len;
};

struct dev {
	int sock;
	uint8_t *inb, *outb;		/* INBUF, OUTBUF */
	size_t inb_len, outb_len;
	FILE *log;
	char path[32];
	bool configured;

	/* fault */
	int babble[BABBLE_MAX];
	unsigned int nbabble, babble_next;

	/* IN URBs the device NAKs for now */
	struct held held[HELD_MAX];
	unsigned int nheld;

	/* reply bytes not delivered yet */
	uint8_t txq[TXQ_MAX];
	size_t txq_len;

	/* counters */
	uint64_t in_submit, in_error, in_data, out, ctrl, unlink;
	uint64_t ring[RING];		/* times of the last submissions */
	unsigned int ring_head, ring_tail;
	unsigned int peak_in;		/* most in one second, this interval */

	/* the BROM */
	unsigned int sync_idx;
	bool cmd_mode;
	uint8_t cmd;			/* multi-byte command in progress */
	unsigned int stage;		/* 0 addr, 1 count, 2 values */
	uint32_t acc;
	unsigned int got, width;
	uint32_t count;
	uint8_t line_coding[7];
};

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void logf_(struct dev *d, const char *fmt, ...)
{
	va_list ap;

	if (!d->log)
		return;
	fprintf(d->log, "%llu ", (unsigned long long)now_ns());
	va_start(ap, fmt);
	vfprintf(d->log, fmt, ap);
	va_end(ap);
	fputc('\n', d->log);
	fflush(d->log);
}

static void log_hex(struct dev *d, const char *what, const uint8_t *b,
		    size_t len)
{
	char hex[2 * 64 + 4];
	size_t i, n = len > 64 ? 64 : len;

	for (i = 0; i < n; i++)
		snprintf(hex + 2 * i, 3, "%02x", b[i]);
	hex[2 * n] = '\0';
	logf_(d, "%s %s%s", what, hex, len > n ? "..." : "");
}

static void put_be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

static uint32_t get_be32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	       (uint32_t)p[2] << 8 | p[3];
}

/* ------------------------------------------------------------------ */
/* the wire                                                            */

/*
 * Replies are collected in d->outb and written once per poll() round: the
 * host's URBs come in batches (four IN URBs resubmitted together), and
 * under TCG every system call and wakeup is dear.
 */
static int flush_out(struct dev *d)
{
	size_t done = 0;

	while (done < d->outb_len) {
		ssize_t w = write(d->sock, d->outb + done, d->outb_len - done);

		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return -errno;
		done += (size_t)w;
	}
	d->outb_len = 0;
	return 0;
}

/* Queue a reply: a 48-byte header, then @len bytes of @data. */
static int emit(struct dev *d, const uint8_t *h, const void *data,
		uint32_t len)
{
	int err = 0;

	if (d->outb_len + USBIP_HDR_LEN + len > OUTBUF)
		err = flush_out(d);
	if (err)
		return err;
	memcpy(d->outb + d->outb_len, h, USBIP_HDR_LEN);
	d->outb_len += USBIP_HDR_LEN;
	if (len)
		memcpy(d->outb + d->outb_len, data, len);
	d->outb_len += len;
	return 0;
}

static int ret_submit(struct dev *d, uint32_t seqnum, int status,
		      const void *data, uint32_t len)
{
	uint8_t h[USBIP_HDR_LEN] = { 0 };

	put_be32(h + 0, USBIP_RET_SUBMIT);
	put_be32(h + 4, seqnum);
	put_be32(h + 20, (uint32_t)status);
	put_be32(h + 24, len);
	return emit(d, h, data, len);
}

/* An OUT transfer done: actual_length in the header, no data. */
static int ret_out(struct dev *d, uint32_t seqnum, uint32_t len)
{
	uint8_t h[USBIP_HDR_LEN] = { 0 };

	put_be32(h + 0, USBIP_RET_SUBMIT);
	put_be32(h + 4, seqnum);
	put_be32(h + 24, len);
	return emit(d, h, NULL, 0);
}

static int ret_unlink(struct dev *d, uint32_t seqnum, int status)
{
	uint8_t h[USBIP_HDR_LEN] = { 0 };

	put_be32(h + 0, USBIP_RET_UNLINK);
	put_be32(h + 4, seqnum);
	put_be32(h + 20, (uint32_t)status);
	return emit(d, h, NULL, 0);
}

/* ------------------------------------------------------------------ */
/* the BROM                                                            */

static const uint8_t brom_sync[4] = { 0xa0, 0x0a, 0x50, 0x05 };

static void q(struct dev *d, const void *b, size_t len)
{
	if (d->txq_len + len > sizeof(d->txq)) {
		logf_(d, "error txq-full");
		return;
	}
	memcpy(d->txq + d->txq_len, b, len);
	d->txq_len += len;
}

static void q8(struct dev *d, uint8_t v)
{
	q(d, &v, 1);
}

static void q16(struct dev *d, uint16_t v)
{
	uint8_t b[2] = { (uint8_t)(v >> 8), (uint8_t)v };

	q(d, b, 2);
}

static void q32(struct dev *d, uint32_t v)
{
	uint8_t b[4];

	put_be32(b, v);
	q(d, b, 4);
}

/* echo, u32 length, @len bytes of a pattern, status */
static void q_blob(struct dev *d, uint8_t cmd, size_t len, uint8_t seed)
{
	size_t i;

	q8(d, cmd);
	q32(d, (uint32_t)len);
	for (i = 0; i < len; i++)
		q8(d, (uint8_t)(seed + 7 * i));
	q16(d, 0);
}

/* one byte of a WRITE16/32 after its command byte */
static void brom_write_byte(struct dev *d, uint8_t c)
{
	unsigned int need = d->stage < 2 ? 4 : d->width;

	d->acc = d->acc << 8 | c;
	if (++d->got < need)
		return;
	if (need == 2)
		q16(d, (uint16_t)d->acc);
	else
		q32(d, d->acc);
	switch (d->stage) {
	case 0:		/* address */
		logf_(d, "write%u addr %08x", d->width * 8, d->acc);
		d->stage = 1;
		break;
	case 1:		/* count, then status1 */
		d->count = d->acc;
		q16(d, 0);
		d->stage = 2;
		if (!d->count || d->count > 64) {
			d->cmd = 0;
			break;
		}
		break;
	default:	/* a value; after the last, status2 */
		logf_(d, "write%u value %0*x", d->width * 8, (int)d->width * 2,
		      d->acc);
		if (!--d->count) {
			q16(d, 0);
			d->cmd = 0;
		}
		break;
	}
	d->acc = 0;
	d->got = 0;
}

static void brom_byte(struct dev *d, uint8_t c)
{
	if (!d->cmd_mode) {
		if (c != brom_sync[d->sync_idx]) {
			d->sync_idx = 0;
			q8(d, (uint8_t)(c + 1));
			return;
		}
		q8(d, (uint8_t)~c);
		if (++d->sync_idx == sizeof(brom_sync)) {
			d->cmd_mode = true;
			logf_(d, "sync-done");
		}
		return;
	}
	if (d->cmd) {
		brom_write_byte(d, c);
		return;
	}
	switch (c) {
	case 0xfd:	/* GET_HW_CODE: MT6765 */
		q8(d, c);
		q16(d, 0x0766);
		q16(d, 0);
		break;
	case 0xfc:	/* GET_HW_SW_VER */
		q8(d, c);
		q16(d, 0x8a00);
		q16(d, 0xca00);
		q16(d, 0x0000);
		q16(d, 0);
		break;
	case 0xd8:	/* GET_TARGET_CONFIG */
		q8(d, c);
		q32(d, 0xe7);
		q16(d, 0);
		break;
	case 0xff:	/* GET_VERSION: the BROM's version */
		q8(d, 0x05);
		break;
	case 0xe1:	/* GET_ME_ID */
		q_blob(d, c, 16, 0x11);
		break;
	case 0xe7:	/* GET_SOC_ID */
		q_blob(d, c, 32, 0x53);
		break;
	case 0xd4:	/* WRITE32 */
	case 0xd2:	/* WRITE16 */
		q8(d, c);
		d->cmd = c;
		d->width = c == 0xd4 ? 4 : 2;
		d->stage = 0;
		d->acc = 0;
		d->got = 0;
		break;
	default:	/* GET_BL_VER (a BROM echoes it), unknown: echo */
		q8(d, c);
		break;
	}
}

/* ------------------------------------------------------------------ */
/* descriptors and ep0                                                 */

static const uint8_t dev_desc[USB_DT_DEVICE_SIZE] = {
	USB_DT_DEVICE_SIZE, USB_DT_DEVICE,
	0x00, 0x02,		/* bcdUSB 2.00 */
	USB_CLASS_COMM, 0, 0,
	64,			/* bMaxPacketSize0 */
	0x8d, 0x0e,		/* 0e8d */
	0x03, 0x00,		/* 0003 */
	0x00, 0x01,		/* bcdDevice 1.00 */
	0, 0, 0,		/* no strings, as a BROM */
	1,
};

static const uint8_t cfg_desc[] = {
	USB_DT_CONFIG_SIZE, USB_DT_CONFIG, 48, 0, 2, 1, 0, 0x80, 250,
	/* CDC comm #0: 02/02/00, interrupt IN 0x83 */
	USB_DT_INTERFACE_SIZE, USB_DT_INTERFACE, 0, 0, 1,
	USB_CLASS_COMM, 2, 0, 0,
	USB_DT_ENDPOINT_SIZE, USB_DT_ENDPOINT, USB_DIR_IN | EP_INTR,
	USB_ENDPOINT_XFER_INT, 64, 0, 0x10,
	/* CDC data #1: bulk OUT 0x01, bulk IN 0x81 */
	USB_DT_INTERFACE_SIZE, USB_DT_INTERFACE, 1, 0, 2,
	USB_CLASS_CDC_DATA, 0, 0, 0,
	USB_DT_ENDPOINT_SIZE, USB_DT_ENDPOINT, USB_DIR_OUT | EP_BULK,
	USB_ENDPOINT_XFER_BULK, BULK_MPS, 0, 0,
	USB_DT_ENDPOINT_SIZE, USB_DT_ENDPOINT, USB_DIR_IN | EP_BULK,
	USB_ENDPOINT_XFER_BULK, BULK_MPS, 0, 0,
};

/* Control transfer: the reply data (IN) in @out, its length, or -errno. */
static int ep0(struct dev *d, const struct usb_ctrlrequest *r,
	       const uint8_t *data, uint32_t len, uint8_t *out)
{
	uint16_t value = le16toh(r->wValue), wlen = le16toh(r->wLength);
	int n = -EPIPE;

	switch (r->bRequestType << 8 | r->bRequest) {
	case (USB_DIR_IN << 8) | USB_REQ_GET_DESCRIPTOR:
		if (value >> 8 == USB_DT_DEVICE) {
			memcpy(out, dev_desc, sizeof(dev_desc));
			n = sizeof(dev_desc);
		} else if (value >> 8 == USB_DT_CONFIG && (value & 0xff) == 0) {
			memcpy(out, cfg_desc, sizeof(cfg_desc));
			n = sizeof(cfg_desc);
		}
		break;
	case (USB_DIR_IN << 8) | USB_REQ_GET_STATUS:
	case ((USB_DIR_IN | USB_RECIP_INTERFACE) << 8) | USB_REQ_GET_STATUS:
	case ((USB_DIR_IN | USB_RECIP_ENDPOINT) << 8) | USB_REQ_GET_STATUS:
		out[0] = 0;
		out[1] = 0;
		n = 2;
		break;
	case USB_REQ_SET_CONFIGURATION:
		n = 0;
		if (!d->configured && value == 1) {
			d->configured = true;
			printf("ready\n");
			fflush(stdout);
			logf_(d, "ready");
		}
		break;
	case (USB_RECIP_INTERFACE << 8) | USB_REQ_SET_INTERFACE:
	case (USB_RECIP_ENDPOINT << 8) | USB_REQ_CLEAR_FEATURE:
		n = 0;
		break;
	case ((USB_TYPE_CLASS | USB_RECIP_INTERFACE) << 8) | 0x20:
		/* SET_LINE_CODING */
		if (len >= sizeof(d->line_coding))
			memcpy(d->line_coding, data, sizeof(d->line_coding));
		n = 0;
		break;
	case ((USB_DIR_IN | USB_TYPE_CLASS | USB_RECIP_INTERFACE) << 8) | 0x21:
		/* GET_LINE_CODING */
		memcpy(out, d->line_coding, sizeof(d->line_coding));
		n = sizeof(d->line_coding);
		break;
	case ((USB_TYPE_CLASS | USB_RECIP_INTERFACE) << 8) | 0x22:
		/* SET_CONTROL_LINE_STATE */
		n = 0;
		break;
	}
	logf_(d, "setup %02x %02x %04x %04x %04x -> %d", r->bRequestType,
	      r->bRequest, value, le16toh(r->wIndex), wlen, n);
	if (n > wlen)
		n = wlen;
	return n;
}

/* ------------------------------------------------------------------ */
/* URBs                                                                */

static int babble_status(struct dev *d)
{
	int s = d->babble[d->babble_next];

	d->babble_next = (d->babble_next + 1) % d->nbabble;
	return s;
}

/* Give @len bytes (at most) of the queued reply to IN URB @seqnum. */
static int give_data(struct dev *d, uint32_t seqnum, uint32_t len)
{
	uint32_t n = d->txq_len < len ? (uint32_t)d->txq_len : len;
	int err;

	log_hex(d, "in", d->txq, n);
	err = ret_submit(d, seqnum, 0, d->txq, n);
	memmove(d->txq, d->txq + n, d->txq_len - n);
	d->txq_len -= n;
	d->in_data++;
	return err;
}

/* Serve held bulk IN URBs while reply bytes are queued, oldest first. */
static int serve_held(struct dev *d)
{
	unsigned int i = 0;
	int err = 0;

	while (!err && d->txq_len && i < d->nheld) {
		if (d->held[i].ep != EP_BULK) {
			i++;
			continue;
		}
		err = give_data(d, d->held[i].seqnum, d->held[i].len);
		memmove(&d->held[i], &d->held[i + 1],
			(d->nheld - i - 1) * sizeof(d->held[0]));
		d->nheld--;
	}
	return err;
}

/* Babble now: every held bulk IN URB gets an error. */
static int fail_held(struct dev *d)
{
	unsigned int i = 0;
	int err = 0;

	while (!err && i < d->nheld) {
		if (d->held[i].ep != EP_BULK) {
			i++;
			continue;
		}
		err = ret_submit(d, d->held[i].seqnum, babble_status(d), NULL,
				 0);
		d->in_error++;
		memmove(&d->held[i], &d->held[i + 1],
			(d->nheld - i - 1) * sizeof(d->held[0]));
		d->nheld--;
	}
	return err;
}

/*
 * Count a bulk IN submission; peak_in follows the most submissions seen
 * within one second (a sliding window; RING - 1 at most).
 */
static void count_in(struct dev *d)
{
	uint64_t now = now_ns();
	unsigned int n;

	d->in_submit++;
	while (d->ring_tail != d->ring_head &&
	       d->ring[d->ring_tail % RING] + 1000000000ull <= now)
		d->ring_tail++;
	if (d->ring_head - d->ring_tail == RING - 1)
		d->ring_tail++;
	d->ring[d->ring_head++ % RING] = now;
	n = d->ring_head - d->ring_tail;
	if (n > d->peak_in)
		d->peak_in = n;
}

/* @buf: the OUT data that followed the header */
static int cmd_submit(struct dev *d, const uint8_t *h, const uint8_t *buf)
{
	static uint8_t out[XFER_MAX];
	uint32_t seqnum = get_be32(h + 4), dir = get_be32(h + 12);
	uint32_t ep = get_be32(h + 16), len = get_be32(h + 24);
	struct usb_ctrlrequest r;
	size_t i;
	int n, err;

	if (ep == 0) {
		d->ctrl++;
		memcpy(&r, h + 40, sizeof(r));
		n = ep0(d, &r, buf, len, out);
		if (n < 0)
			return ret_submit(d, seqnum, n, NULL, 0);
		if (dir == USBIP_DIR_IN)
			return ret_submit(d, seqnum, 0, out,
					  (uint32_t)n < len ? (uint32_t)n : len);
		return ret_out(d, seqnum, len);
	}

	if (dir == USBIP_DIR_OUT) {
		if (ep != EP_BULK)
			return ret_submit(d, seqnum, -EPIPE, NULL, 0);
		d->out++;
		log_hex(d, "out", buf, len);
		for (i = 0; i < len; i++)
			brom_byte(d, buf[i]);
		err = ret_out(d, seqnum, len);
		return err ? err : serve_held(d);
	}

	if (ep == EP_BULK) {
		count_in(d);
		if (d->txq_len)
			return give_data(d, seqnum, len);
		if (d->nbabble) {
			d->in_error++;
			return ret_submit(d, seqnum, babble_status(d), NULL, 0);
		}
	} else if (ep != EP_INTR) {
		return ret_submit(d, seqnum, -EPIPE, NULL, 0);
	}
	if (d->nheld == HELD_MAX) {
		logf_(d, "error too many IN URBs held");
		return ret_submit(d, seqnum, -ENOMEM, NULL, 0);
	}
	d->held[d->nheld].seqnum = seqnum;
	d->held[d->nheld].ep = ep;
	d->held[d->nheld].len = len;
	d->nheld++;
	return 0;
}

static int cmd_unlink(struct dev *d, const uint8_t *h)
{
	uint32_t seqnum = get_be32(h + 4), victim = get_be32(h + 20);
	unsigned int i;

	d->unlink++;
	for (i = 0; i < d->nheld; i++) {
		if (d->held[i].seqnum != victim)
			continue;
		memmove(&d->held[i], &d->held[i + 1],
			(d->nheld - i - 1) * sizeof(d->held[0]));
		d->nheld--;
		logf_(d, "unlink %u", victim);
		return ret_unlink(d, seqnum, -ECONNRESET);
	}
	/* already answered: its RET_SUBMIT went out first */
	logf_(d, "unlink %u: already answered", victim);
	return ret_unlink(d, seqnum, 0);
}

/* Read what the host sent, handle every whole command in it. */
static int serve(struct dev *d)
{
	size_t pos = 0;
	int err = 0;

	while (d->inb_len < INBUF) {
		ssize_t r = recv(d->sock, d->inb + d->inb_len, INBUF - d->inb_len,
				 MSG_DONTWAIT);

		if (r < 0 && errno == EINTR)
			continue;
		if (r < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
			break;
		if (r <= 0)
			return r < 0 ? -errno : -ECONNRESET;
		d->inb_len += (size_t)r;
	}
	while (!err && d->inb_len - pos >= USBIP_HDR_LEN) {
		const uint8_t *h = d->inb + pos;
		uint32_t len = get_be32(h + 24);
		size_t need = USBIP_HDR_LEN;

		switch (get_be32(h)) {
		case USBIP_CMD_SUBMIT:
			if (len > XFER_MAX) {
				logf_(d, "error transfer of %u bytes", len);
				return -EMSGSIZE;
			}
			if (get_be32(h + 12) == USBIP_DIR_OUT)
				need += len;
			if (d->inb_len - pos < need)
				goto partial;
			err = cmd_submit(d, h, h + USBIP_HDR_LEN);
			break;
		case USBIP_CMD_UNLINK:
			err = cmd_unlink(d, h);
			break;
		default:
			logf_(d, "error command %u", get_be32(h));
			return -EPROTO;
		}
		pos += need;
	}
partial:
	d->inb_len -= pos;
	memmove(d->inb, d->inb + pos, d->inb_len);
	return err;
}

/* ------------------------------------------------------------------ */
/* control: stdin                                                      */

static int parse_babble(struct dev *d, const char *s)
{
	char *copy, *tok, *save = NULL;
	unsigned int n = 0;

	if (!strcmp(s, "off")) {
		d->nbabble = 0;
		return 0;
	}
	copy = strdup(s);
	if (!copy)
		return -ENOMEM;
	for (tok = strtok_r(copy, ",", &save); tok;
	     tok = strtok_r(NULL, ",", &save)) {
		long v = strtol(tok, NULL, 0);

		if (v > 0)
			v = -v;
		if (!v || v < -4095 || n == BABBLE_MAX) {
			free(copy);
			return -EINVAL;
		}
		d->babble[n++] = (int)v;
	}
	free(copy);
	if (!n)
		return -EINVAL;
	d->nbabble = n;
	d->babble_next = 0;
	return 0;
}

static void print_stats(struct dev *d)
{
	unsigned int i, held = 0;

	for (i = 0; i < d->nheld; i++)
		held += d->held[i].ep == EP_BULK;
	printf("stats t_ns=%llu in_submit=%llu in_error=%llu in_data=%llu in_held=%u out=%llu ctrl=%llu unlink=%llu peak_in_1s=%u\n",
	       (unsigned long long)now_ns(),
	       (unsigned long long)d->in_submit,
	       (unsigned long long)d->in_error,
	       (unsigned long long)d->in_data, held,
	       (unsigned long long)d->out, (unsigned long long)d->ctrl,
	       (unsigned long long)d->unlink, d->peak_in);
	fflush(stdout);
	d->peak_in = 0;
}

/* One line from stdin; false to stop. */
static bool control(struct dev *d, char *line)
{
	line[strcspn(line, "\r\n")] = '\0';
	if (!strcmp(line, "stats")) {
		print_stats(d);
	} else if (!strncmp(line, "babble ", 7)) {
		if (parse_babble(d, line + 7)) {
			printf("error babble %s\n", line + 7);
		} else {
			logf_(d, "babble %s", line + 7);
			if (d->nbabble && (fail_held(d) || flush_out(d)))
				return false;
			printf("ok\n");
		}
		fflush(stdout);
	} else if (!strcmp(line, "quit")) {
		return false;
	} else if (line[0]) {
		printf("error unknown command %s\n", line);
		fflush(stdout);
	}
	return true;
}

/* ------------------------------------------------------------------ */
/* attach                                                              */

/* The first free high-speed port of vhci_hcd: its number, or -1. */
static int free_port(const char *vhci)
{
	char path[512], line[256], hub[8];
	unsigned int port, st;
	FILE *f;
	int ret = -1;

	snprintf(path, sizeof(path), "%s/status", vhci);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%7s %u %u", hub, &port, &st) != 3)
			continue;
		if (!strcmp(hub, "hs") && st == VDEV_ST_NULL) {
			ret = (int)port;
			break;
		}
	}
	fclose(f);
	return ret;
}

/* The bus number of vhci_hcd's USB 2 root hub (speed 480), or -1. */
static int hs_bus(const char *vhci)
{
	char path[600], speed[16];
	struct dirent *de;
	int bus = -1;
	DIR *dir;
	FILE *f;

	dir = opendir(vhci);
	if (!dir)
		return -1;
	while (bus < 0 && (de = readdir(dir))) {
		if (strncmp(de->d_name, "usb", 3) || de->d_name[3] < '1' ||
		    de->d_name[3] > '9')
			continue;
		snprintf(path, sizeof(path), "%s/%s/speed", vhci, de->d_name);
		f = fopen(path, "r");
		if (!f)
			continue;
		if (fgets(speed, sizeof(speed), f) && atoi(speed) == 480)
			bus = atoi(de->d_name + 3);
		fclose(f);
	}
	closedir(dir);
	return bus;
}

static int attach(struct dev *d, const char *vhci)
{
	char path[512], cmd[64];
	int sv[2], port, bus, fd, tries;
	ssize_t w = -1;

	bus = hs_bus(vhci);
	if (bus < 0) {
		fprintf(stderr, "usbip-dev: no vhci_hcd USB 2 root hub under %s\n",
			vhci);
		return -ENODEV;
	}
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv))
		return -errno;
	snprintf(path, sizeof(path), "%s/attach", vhci);
	for (tries = 0; tries < 8 && w < 0; tries++) {
		port = free_port(vhci);
		if (port < 0) {
			fprintf(stderr, "usbip-dev: no free vhci_hcd port\n");
			break;
		}
		/* devid: bus 1, device 2 on the "remote" side; full speed */
		snprintf(cmd, sizeof(cmd), "%d %d %u %u", port, sv[1],
			 1u << 16 | 2u, (unsigned int)USB_SPEED_FULL);
		fd = open(path, O_WRONLY | O_CLOEXEC);
		if (fd < 0)
			break;
		w = write(fd, cmd, strlen(cmd));
		if (w < 0)
			fprintf(stderr, "usbip-dev: attach %s: %s\n", cmd,
				strerror(errno));
		close(fd);
	}
	/* vhci_hcd holds its own reference to the socket now */
	close(sv[1]);
	if (w < 0) {
		close(sv[0]);
		return -ENODEV;
	}
	d->sock = sv[0];
	/*
	 * vhci_hcd.0's ports are numbered from 0, its USB 2 ones first
	 * (CONFIG_USBIP_VHCI_HC_PORTS of them); its root hub counts from 1.
	 */
	snprintf(d->path, sizeof(d->path), "%d-%d", bus, port + 1);
	logf_(d, "attach port %d path %s", port, d->path);
	printf("attached %s\n", d->path);
	fflush(stdout);
	return 0;
}

/* ------------------------------------------------------------------ */

static void usage(void)
{
	fprintf(stderr,
		"usage: usbip-dev [--babble ERRNO[,ERRNO]...] [--vhci DIR] [--log FILE]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "babble", required_argument, NULL, 'b' },
		{ "vhci", required_argument, NULL, 'v' },
		{ "log", required_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	/* 921600 8N1 */
	static const uint8_t lc[7] = { 0x00, 0x10, 0x0e, 0x00, 0, 0, 8 };
	const char *vhci = VHCI_DIR, *babble = NULL;
	struct dev d = { .sock = -1 };
	char line[256];
	size_t llen = 0;
	struct pollfd pfd[3];
	sigset_t sigs;
	bool in_open = true;
	int c, err = 0, sfd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'b':
			babble = optarg;
			break;
		case 'v':
			vhci = optarg;
			break;
		case 'l':
			d.log = fopen(optarg, "a");
			if (!d.log) {
				perror(optarg);
				return 2;
			}
			break;
		default:
			usage();
		}
	}
	if (optind != argc)
		usage();
	if (babble && parse_babble(&d, babble)) {
		fprintf(stderr, "usbip-dev: bad --babble %s\n", babble);
		return 2;
	}
	memcpy(d.line_coding, lc, sizeof(lc));
	d.inb = malloc(INBUF);
	d.outb = malloc(OUTBUF);
	if (!d.inb || !d.outb)
		return 1;

	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	sigprocmask(SIG_BLOCK, &sigs, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &sigs, SFD_CLOEXEC);

	if (attach(&d, vhci))
		return 1;
	if (babble)
		logf_(&d, "babble %s", babble);

	pfd[0].fd = d.sock;
	pfd[0].events = POLLIN;
	pfd[1].fd = sfd;
	pfd[1].events = POLLIN;
	pfd[2].fd = 0;
	pfd[2].events = POLLIN;
	while (!err) {
		pfd[2].fd = in_open ? 0 : -1;
		if (poll(pfd, 3, -1) < 0) {
			if (errno == EINTR)
				continue;
			err = -errno;
			break;
		}
		if (pfd[1].revents)
			break;
		if (pfd[0].revents) {
			err = serve(&d);
			if (!err)
				err = flush_out(&d);
			if (err)
				break;
		}
		if (pfd[2].revents) {
			ssize_t r = read(0, line + llen, sizeof(line) - 1 - llen);
			char *nl;

			if (r <= 0)
				break;
			llen += (size_t)r;
			line[llen] = '\0';
			while ((nl = strchr(line, '\n'))) {
				*nl = '\0';
				if (!control(&d, line)) {
					in_open = false;
					break;
				}
				llen -= (size_t)(nl + 1 - line);
				memmove(line, nl + 1, llen + 1);
			}
			if (!in_open)
				break;
			if (llen == sizeof(line) - 1)
				llen = 0;
		}
	}
	logf_(&d, "exit %d in_submit %llu in_error %llu", err,
	      (unsigned long long)d.in_submit,
	      (unsigned long long)d.in_error);
	/* closing our end is the unplug: vhci_hcd sees the connection go */
	close(d.sock);
	return 0;
}
