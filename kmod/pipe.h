/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bootshake: a byte pipe over a pair of bulk endpoints.
 */
#ifndef _BOOTSHAKE_PIPE_H
#define _BOOTSHAKE_PIPE_H

#include <linux/completion.h>
#include <linux/kfifo.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/usb.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include "transcript.h"

#define BSK_PIPE_IN_URBS	4
#define BSK_PIPE_IN_BUFLEN	512
#define BSK_PIPE_OUT_BUFLEN	64
#define BSK_PIPE_FIFO_SIZE	2048
/*
 * Transient IN errors (-EPROTO, -EILSEQ, -ETIME, -EOVERFLOW) in a row that
 * are resubmitted at once; after that an erroring URB waits
 * BSK_PIPE_COOLDOWN_MS in delayed work before it is submitted again, so a
 * babbling device, or one unplugged but not disconnected yet, costs at
 * most BSK_PIPE_IN_URBS completions per cool-down.  One good completion
 * ends the cool-down.  (cdc-acm waits HZ/2; a boot ROM's step deadline is
 * 100 ms, so the pipe waits less.)
 */
#define BSK_PIPE_ERR_BURST	4
#define BSK_PIPE_COOLDOWN_MS	20

/**
 * struct bsk_pipe - IN bytes as a stream, OUT writes with a deadline
 * @udev: the device (not referenced here; the owner holds a reference)
 * @in_pipe: bulk IN pipe
 * @out_pipe: bulk OUT pipe
 * @in_urbs: IN URBs, armed from bsk_pipe_start() until bsk_pipe_stop()
 * @in_anchor: anchors the armed IN URBs
 * @out_urb: the one OUT URB; only the handshake work item writes
 * @out_anchor: anchors @out_urb while in flight
 * @out_buf: DMA-able buffer of @out_urb
 * @out_done: completed by @out_urb's completion handler
 * @out_status: status of the last OUT transfer
 * @io_mutex: orders submissions against bsk_pipe_stop()
 * @dead: set once by bsk_pipe_stop(); no URB is submitted afterwards
 * @lock: protects @fifo, @in_error, @in_errors, @parked, @hold
 * @fifo: received bytes not read yet
 * @in_error: sticky IN error (negative errno) that stopped the IN side
 * @wait: woken when bytes arrive, on IN errors and by bsk_pipe_stop()
 * @tr: transcript every byte in and out is recorded in
 * @in_errors: transient IN errors in a row (reset by a good completion)
 * @parked: bit i set: @in_urbs[i] waits for @cooldown to submit it again
 * @hold: bsk_pipe_recover() is restarting the IN side, or
 *	bsk_pipe_quiesce() stopped it: park nothing
 * @cooldown: resubmits the @parked URBs after %BSK_PIPE_COOLDOWN_MS
 *
 * Rules: @dead is written only with @io_mutex held, with WRITE_ONCE(); it
 * is read with @io_mutex held where a submission must be ordered against
 * it, and with READ_ONCE() elsewhere (wait conditions; bsk_pipe_stop()
 * wakes @wait after setting it).  @in_error, @in_errors, @parked and @hold
 * are only read or written with @lock held (bsk_pipe_in_error() for
 * callers outside pipe.c).
 */
struct bsk_pipe {
	struct usb_device *udev;
	unsigned int in_pipe;
	unsigned int out_pipe;
	struct urb *in_urbs[BSK_PIPE_IN_URBS];
	struct usb_anchor in_anchor;
	struct urb *out_urb;
	struct usb_anchor out_anchor;
	u8 *out_buf;
	struct completion out_done;
	int out_status;
	struct mutex io_mutex;		/* @dead vs submissions */
	bool dead;
	spinlock_t lock;		/* @fifo, @in_error, @in_errors, @parked, @hold */
	DECLARE_KFIFO(fifo, u8, BSK_PIPE_FIFO_SIZE);
	int in_error;
	wait_queue_head_t wait;
	struct bsk_transcript *tr;
	unsigned int in_errors;
	unsigned long parked;
	bool hold;
	struct delayed_work cooldown;
};

/**
 * bsk_usb_err_may_be_unplug() - could this transfer error be an unplug?
 * @err: a URB status or transfer result
 *
 * -EPROTO, -EILSEQ and -ETIME are also what a host controller reports for
 * a transfer cut by an unplug, before the hub has seen the port change and
 * disconnected us (dummy_hcd: -EPROTO; usbhid's hid_io_error() retries
 * them too).  cdc-acm's read callback does not resubmit -EPROTO (nor
 * -EOVERFLOW) at once: it cools the URB down for HZ/2 in delayed work, as
 * the pipe's IN side does after %BSK_PIPE_ERR_BURST of them.  A caller
 * gives the disconnect a bounded time to arrive before it believes one, so
 * that an unplugged device is reported gone and not failed.
 *
 * Return: true for those three errors.
 */
static inline bool bsk_usb_err_may_be_unplug(int err)
{
	return err == -EPROTO || err == -EILSEQ || err == -ETIME;
}

int bsk_pipe_init(struct bsk_pipe *p, struct usb_device *udev,
		  const struct usb_endpoint_descriptor *in,
		  const struct usb_endpoint_descriptor *out,
		  struct bsk_transcript *tr);
int bsk_pipe_recover(struct bsk_pipe *p);
int bsk_pipe_start(struct bsk_pipe *p);
void bsk_pipe_quiesce(struct bsk_pipe *p);
void bsk_pipe_stop(struct bsk_pipe *p);
void bsk_pipe_free(struct bsk_pipe *p);
int bsk_pipe_write(struct bsk_pipe *p, const u8 *buf, size_t len,
		   unsigned int timeout_ms);
int bsk_pipe_getc(struct bsk_pipe *p, u8 *c, unsigned long deadline);
int bsk_pipe_read(struct bsk_pipe *p, u8 *buf, size_t len,
		  unsigned long deadline);
unsigned int bsk_pipe_flush(struct bsk_pipe *p);
int bsk_pipe_drain(struct bsk_pipe *p, unsigned int quiet_ms,
		   unsigned int max_ms);
int bsk_pipe_in_error(struct bsk_pipe *p);

#endif /* _BOOTSHAKE_PIPE_H */
