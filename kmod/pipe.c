// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake: the byte pipe over the bulk endpoints.
 *
 * Boot ROMs answer with single bytes, banners, coalesced or split packets
 * and zero-length packets; the handshake code must never depend on packet
 * boundaries.  So IN URBs are armed from probe on and every byte they bring
 * lands in a FIFO, in order; the handshake reads bytes from the FIFO with a
 * deadline.  OUT writes go through one URB that disconnect can kill.
 */

#include <linux/jiffies.h>
#include <linux/slab.h>

#include <linux/bootshake.h>

#include "pipe.h"

static int bsk_pipe_urb_index(struct bsk_pipe *p, struct urb *urb)
{
	int i;

	for (i = 0; i < BSK_PIPE_IN_URBS; i++)
		if (p->in_urbs[i] == urb)
			return i;
	return -1;
}

/*
 * A transient IN error: true when @urb is to wait for the cool-down (it
 * was parked and the delayed work scheduled), false to resubmit it now.
 * Completion context.
 */
static bool bsk_pipe_cool_down(struct bsk_pipe *p, struct urb *urb)
{
	unsigned long flags;
	bool park;
	int i = bsk_pipe_urb_index(p, urb);

	spin_lock_irqsave(&p->lock, flags);
	if (p->in_errors < UINT_MAX)
		p->in_errors++;
	park = p->in_errors > BSK_PIPE_ERR_BURST || p->hold;
	if (park && !p->hold && i >= 0) {
		__set_bit(i, &p->parked);
		schedule_delayed_work(&p->cooldown,
				      msecs_to_jiffies(BSK_PIPE_COOLDOWN_MS));
	}
	spin_unlock_irqrestore(&p->lock, flags);
	return park;
}

static void bsk_pipe_in_complete(struct urb *urb)
{
	struct bsk_pipe *p = urb->context;
	unsigned long flags;
	unsigned int n;
	int ret;

	switch (urb->status) {
	case 0:
		if (urb->actual_length)
			bsk_tr_add(p->tr, BOOTSHAKE_DIR_IN, urb->transfer_buffer,
				   urb->actual_length);
		spin_lock_irqsave(&p->lock, flags);
		p->in_errors = 0;
		n = kfifo_in(&p->fifo, (u8 *)urb->transfer_buffer,
			     urb->actual_length);
		spin_unlock_irqrestore(&p->lock, flags);
		if (n < urb->actual_length)
			dev_warn_ratelimited(&p->udev->dev,
					     "bulk in: %u bytes dropped, receive FIFO full\n",
					     urb->actual_length - n);
		break;
	case -ENOENT:
	case -ECONNRESET:
	case -ESHUTDOWN:
	case -ENODEV:
	case -EPIPE:
		/*
		 * Killed, unplugged or stalled: stop this side.  A stall is
		 * reported to the reader, which may clear it and restart.
		 */
		spin_lock_irqsave(&p->lock, flags);
		if (!p->in_error)
			p->in_error = urb->status;
		spin_unlock_irqrestore(&p->lock, flags);
		wake_up(&p->wait);
		return;
	default:
		/*
		 * -EPROTO, -EILSEQ, -ETIME, -EOVERFLOW: transient; after a
		 * burst of them in a row, go on after a cool-down.
		 */
		dev_dbg_ratelimited(&p->udev->dev, "bulk in: status %d\n",
				    urb->status);
		if (bsk_pipe_cool_down(p, urb))
			return;
		break;
	}

	wake_up(&p->wait);

	usb_anchor_urb(urb, &p->in_anchor);
	ret = usb_submit_urb(urb, GFP_ATOMIC);
	if (ret) {
		usb_unanchor_urb(urb);
		spin_lock_irqsave(&p->lock, flags);
		if (!p->in_error)
			p->in_error = ret == -EPERM ? -ENODEV : ret;
		spin_unlock_irqrestore(&p->lock, flags);
		wake_up(&p->wait);
	}
}

/* Submit one IN URB again; on failure the IN side stops (@in_error). */
static void bsk_pipe_resubmit(struct bsk_pipe *p, struct urb *urb, gfp_t gfp)
{
	int ret;

	usb_anchor_urb(urb, &p->in_anchor);
	ret = usb_submit_urb(urb, gfp);
	if (ret) {
		usb_unanchor_urb(urb);
		spin_lock_irq(&p->lock);
		if (!p->in_error)
			p->in_error = ret == -EPERM ? -ENODEV : ret;
		spin_unlock_irq(&p->lock);
		wake_up(&p->wait);
	}
}

/*
 * The cool-down is over: submit the parked IN URBs again, unless
 * bsk_pipe_stop() or bsk_pipe_recover() has taken the IN side over.
 */
static void bsk_pipe_cooldown_work(struct work_struct *work)
{
	struct bsk_pipe *p = container_of(to_delayed_work(work),
					  struct bsk_pipe, cooldown);
	unsigned long parked;
	int i;

	mutex_lock(&p->io_mutex);
	spin_lock_irq(&p->lock);
	parked = p->hold ? 0 : p->parked;
	p->parked = 0;
	spin_unlock_irq(&p->lock);
	if (!p->dead) {
		for_each_set_bit(i, &parked, BSK_PIPE_IN_URBS)
			bsk_pipe_resubmit(p, p->in_urbs[i], GFP_KERNEL);
	}
	mutex_unlock(&p->io_mutex);
}

static void bsk_pipe_out_complete(struct urb *urb)
{
	struct bsk_pipe *p = urb->context;

	p->out_status = urb->status;
	complete(&p->out_done);
}

/**
 * bsk_pipe_init() - allocate the URBs and buffers of a pipe
 * @p: the pipe, zeroed by the caller
 * @udev: the device
 * @in: bulk IN endpoint
 * @out: bulk OUT endpoint
 * @tr: the device's transcript
 *
 * No I/O is started.  Return: 0 or -ENOMEM.
 */
int bsk_pipe_init(struct bsk_pipe *p, struct usb_device *udev,
		  const struct usb_endpoint_descriptor *in,
		  const struct usb_endpoint_descriptor *out,
		  struct bsk_transcript *tr)
{
	int i;

	p->udev = udev;
	p->tr = tr;
	p->in_pipe = usb_rcvbulkpipe(udev, usb_endpoint_num(in));
	p->out_pipe = usb_sndbulkpipe(udev, usb_endpoint_num(out));
	init_usb_anchor(&p->in_anchor);
	init_usb_anchor(&p->out_anchor);
	init_completion(&p->out_done);
	mutex_init(&p->io_mutex);
	spin_lock_init(&p->lock);
	INIT_KFIFO(p->fifo);
	init_waitqueue_head(&p->wait);
	INIT_DELAYED_WORK(&p->cooldown, bsk_pipe_cooldown_work);

	for (i = 0; i < BSK_PIPE_IN_URBS; i++) {
		u8 *buf;

		p->in_urbs[i] = usb_alloc_urb(0, GFP_KERNEL);
		if (!p->in_urbs[i])
			return -ENOMEM;
		buf = kmalloc(BSK_PIPE_IN_BUFLEN, GFP_KERNEL);
		if (!buf)
			return -ENOMEM;
		usb_fill_bulk_urb(p->in_urbs[i], udev, p->in_pipe, buf,
				  BSK_PIPE_IN_BUFLEN, bsk_pipe_in_complete, p);
	}

	p->out_urb = usb_alloc_urb(0, GFP_KERNEL);
	if (!p->out_urb)
		return -ENOMEM;
	p->out_buf = kmalloc(BSK_PIPE_OUT_BUFLEN, GFP_KERNEL);
	if (!p->out_buf)
		return -ENOMEM;
	return 0;
}

/**
 * bsk_pipe_start() - arm the IN URBs
 * @p: the pipe
 *
 * Called from probe, so that bytes a device sends before the handshake
 * (banners, stale replies) are collected from the first moment.
 *
 * Return: 0 or the submission error.
 */
int bsk_pipe_start(struct bsk_pipe *p)
{
	int i, ret;

	for (i = 0; i < BSK_PIPE_IN_URBS; i++) {
		usb_anchor_urb(p->in_urbs[i], &p->in_anchor);
		ret = usb_submit_urb(p->in_urbs[i], GFP_KERNEL);
		if (ret) {
			usb_unanchor_urb(p->in_urbs[i]);
			usb_kill_anchored_urbs(&p->in_anchor);
			return ret;
		}
	}
	return 0;
}

/**
 * bsk_pipe_recover() - restart the pipe after a stall
 * @p: the pipe
 *
 * Kills what is left of the IN URBs, clears both endpoints' halts, forgets
 * the error and the bytes received so far, and arms the URBs again.
 * Process context; only the handshake work item calls it.
 *
 * Return: 0, -ENODEV once disconnected, or the USB error.
 */
int bsk_pipe_recover(struct bsk_pipe *p)
{
	int ret;

	if (READ_ONCE(p->dead))
		return -ENODEV;

	/* No cool-down may submit behind our back from here on. */
	spin_lock_irq(&p->lock);
	p->hold = true;
	spin_unlock_irq(&p->lock);
	cancel_delayed_work_sync(&p->cooldown);
	usb_kill_anchored_urbs(&p->in_anchor);

	ret = usb_clear_halt(p->udev, p->in_pipe);
	if (!ret)
		ret = usb_clear_halt(p->udev, p->out_pipe);

	spin_lock_irq(&p->lock);
	p->hold = false;
	p->parked = 0;
	p->in_errors = 0;
	if (!ret) {
		p->in_error = 0;
		kfifo_reset(&p->fifo);
	} else if (!p->in_error) {
		/* Nothing is armed now: the IN side stays stopped. */
		p->in_error = ret;
	}
	spin_unlock_irq(&p->lock);
	if (ret)
		return ret;

	mutex_lock(&p->io_mutex);
	ret = p->dead ? -ENODEV : bsk_pipe_start(p);
	mutex_unlock(&p->io_mutex);
	return ret;
}

/**
 * bsk_pipe_quiesce() - stop the I/O in flight, for a reset or a suspend
 * @p: the pipe
 *
 * Called with the USB device locked from pre_reset() and suspend().  No
 * cool-down may resubmit afterwards; the IN side is left in error
 * (-ENOENT), so the next handshake restarts it through bsk_pipe_recover().
 * May sleep.
 */
void bsk_pipe_quiesce(struct bsk_pipe *p)
{
	spin_lock_irq(&p->lock);
	p->hold = true;
	spin_unlock_irq(&p->lock);
	cancel_delayed_work_sync(&p->cooldown);
	usb_kill_anchored_urbs(&p->in_anchor);
	usb_kill_anchored_urbs(&p->out_anchor);
}

/**
 * bsk_pipe_stop() - stop all I/O for good
 * @p: the pipe
 *
 * Called from disconnect.  After it returns no URB of the pipe is in
 * flight and none can be submitted again; a reader or writer waiting on
 * the pipe returns -ENODEV.  May sleep.
 */
void bsk_pipe_stop(struct bsk_pipe *p)
{
	mutex_lock(&p->io_mutex);
	WRITE_ONCE(p->dead, true);
	mutex_unlock(&p->io_mutex);

	usb_poison_anchored_urbs(&p->in_anchor);
	usb_poison_anchored_urbs(&p->out_anchor);
	/* A completion may have parked an URB before the poison: forget it. */
	cancel_delayed_work_sync(&p->cooldown);
	wake_up(&p->wait);
}

/**
 * bsk_pipe_free() - free what bsk_pipe_init() allocated
 * @p: the pipe, stopped (or never started)
 */
void bsk_pipe_free(struct bsk_pipe *p)
{
	int i;

	for (i = 0; i < BSK_PIPE_IN_URBS; i++) {
		if (!p->in_urbs[i])
			continue;
		kfree(p->in_urbs[i]->transfer_buffer);
		usb_free_urb(p->in_urbs[i]);
	}
	usb_free_urb(p->out_urb);
	kfree(p->out_buf);
}

/**
 * bsk_pipe_in_error() - has an IN error stopped the IN side?
 * @p: the pipe
 *
 * Return: the sticky IN error (-EPIPE for a stall), or 0.
 */
int bsk_pipe_in_error(struct bsk_pipe *p)
{
	int err;

	spin_lock_irq(&p->lock);
	err = p->in_error;
	spin_unlock_irq(&p->lock);
	return err;
}

/*
 * An error an unplug also causes (bsk_usb_err_may_be_unplug()): give the
 * disconnect up to @timeout_ms to arrive, so that an unplugged device
 * reads as gone (-ENODEV) and not as a transfer error.  A device still
 * there afterwards had a real one: @err is returned.
 */
static int bsk_pipe_settle(struct bsk_pipe *p, int err,
			   unsigned int timeout_ms)
{
	if (!bsk_usb_err_may_be_unplug(err))
		return err;
	wait_event_timeout(p->wait, READ_ONCE(p->dead),
			   msecs_to_jiffies(timeout_ms));
	return READ_ONCE(p->dead) ? -ENODEV : err;
}

/**
 * bsk_pipe_write() - write bytes to the bulk OUT endpoint
 * @p: the pipe
 * @buf: bytes to send
 * @len: how many, at most %BSK_PIPE_OUT_BUFLEN
 * @timeout_ms: deadline for the transfer
 *
 * Sleeps until the transfer completed, the deadline passed (the URB is
 * then killed) or the device went away.  A transfer error that an unplug
 * also causes waits up to @timeout_ms more for the disconnect (see
 * bsk_pipe_settle()).  Only one writer at a time.
 *
 * Return: 0, -ETIMEDOUT, -ENODEV once disconnected, or the URB's status.
 */
int bsk_pipe_write(struct bsk_pipe *p, const u8 *buf, size_t len,
		   unsigned int timeout_ms)
{
	unsigned long left;
	int ret;

	if (WARN_ON(len > BSK_PIPE_OUT_BUFLEN))
		return -EINVAL;

	mutex_lock(&p->io_mutex);
	if (p->dead) {
		mutex_unlock(&p->io_mutex);
		return -ENODEV;
	}
	memcpy(p->out_buf, buf, len);
	bsk_tr_add(p->tr, BOOTSHAKE_DIR_OUT, buf, len);
	usb_fill_bulk_urb(p->out_urb, p->udev, p->out_pipe, p->out_buf, len,
			  bsk_pipe_out_complete, p);
	reinit_completion(&p->out_done);
	usb_anchor_urb(p->out_urb, &p->out_anchor);
	ret = usb_submit_urb(p->out_urb, GFP_KERNEL);
	if (ret)
		usb_unanchor_urb(p->out_urb);
	mutex_unlock(&p->io_mutex);
	if (ret)
		return ret == -EPERM ? -ENODEV : ret;

	left = wait_for_completion_timeout(&p->out_done,
					   msecs_to_jiffies(timeout_ms));
	if (!left) {
		usb_kill_urb(p->out_urb);
		return -ETIMEDOUT;
	}

	switch (p->out_status) {
	case 0:
		return p->out_urb->actual_length == len ? 0 : -EIO;
	case -ENOENT:
	case -ECONNRESET:
	case -ESHUTDOWN:
		return -ENODEV;
	default:
		return bsk_pipe_settle(p, p->out_status, timeout_ms);
	}
}

static bool bsk_pipe_readable(struct bsk_pipe *p)
{
	bool ret;

	spin_lock_irq(&p->lock);
	ret = !kfifo_is_empty(&p->fifo) || p->in_error;
	spin_unlock_irq(&p->lock);
	return ret || READ_ONCE(p->dead);
}

/**
 * bsk_pipe_getc() - take the next received byte
 * @p: the pipe
 * @c: where to store it
 * @deadline: absolute deadline in jiffies
 *
 * Bytes queued before an error are still delivered first.
 *
 * Return: 0, -ETIMEDOUT, -ENODEV once disconnected, or the sticky IN
 * error (-EPIPE for a stalled endpoint).
 */
int bsk_pipe_getc(struct bsk_pipe *p, u8 *c, unsigned long deadline)
{
	for (;;) {
		long left;
		int err;

		spin_lock_irq(&p->lock);
		if (kfifo_get(&p->fifo, c)) {
			spin_unlock_irq(&p->lock);
			return 0;
		}
		err = p->in_error;
		spin_unlock_irq(&p->lock);

		if (READ_ONCE(p->dead))
			return -ENODEV;
		if (err)
			return err == -EPIPE ? -EPIPE : -ENODEV;

		left = (long)(deadline - jiffies);
		if (left <= 0)
			return -ETIMEDOUT;
		wait_event_timeout(p->wait, bsk_pipe_readable(p), left);
	}
}

/**
 * bsk_pipe_read() - read exactly @len bytes
 * @p: the pipe
 * @buf: destination
 * @len: how many
 * @deadline: absolute deadline in jiffies, for all of them
 *
 * Return: 0 or the error of bsk_pipe_getc().
 */
int bsk_pipe_read(struct bsk_pipe *p, u8 *buf, size_t len,
		  unsigned long deadline)
{
	size_t i;
	int ret;

	for (i = 0; i < len; i++) {
		ret = bsk_pipe_getc(p, &buf[i], deadline);
		if (ret)
			return ret;
	}
	return 0;
}

/**
 * bsk_pipe_flush() - discard every byte received so far
 * @p: the pipe
 *
 * Return: how many bytes were discarded.
 */
unsigned int bsk_pipe_flush(struct bsk_pipe *p)
{
	unsigned int n;

	spin_lock_irq(&p->lock);
	n = kfifo_len(&p->fifo);
	kfifo_reset(&p->fifo);
	spin_unlock_irq(&p->lock);
	return n;
}

/**
 * bsk_pipe_drain() - discard bytes until the device has been quiet a while
 * @p: the pipe
 * @quiet_ms: how long no byte must arrive
 * @max_ms: bound of the whole drain
 *
 * Return: how many bytes were discarded, or -ENODEV.
 */
int bsk_pipe_drain(struct bsk_pipe *p, unsigned int quiet_ms,
		   unsigned int max_ms)
{
	unsigned long end = jiffies + msecs_to_jiffies(max_ms);
	int n = 0;

	for (;;) {
		unsigned long quiet = jiffies + msecs_to_jiffies(quiet_ms);
		int ret;
		u8 c;

		ret = bsk_pipe_getc(p, &c, time_before(quiet, end) ? quiet : end);
		if (ret == -ENODEV)
			return ret;
		if (ret)
			return n;
		n++;
	}
}
