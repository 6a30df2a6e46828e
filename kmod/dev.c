// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake: device life cycle, the id registry and state changes.
 *
 * Lifetime (see also Documentation/design.rst):
 * - probe creates a &struct bsk_dev with one reference, owned by the
 *   binding; it is dropped at the end of disconnect.
 * - the work item holds its own reference from queue_work() until it
 *   returns (or until disconnect cancels it before it ran).
 * - the registry (an xarray) points to a device only between publish in
 *   probe and unpublish in disconnect; both happen under bsk_devs_lock,
 *   and netlink readers look devices up under the same lock, so a device
 *   found in the registry is alive while the lock is held.
 * - disconnect: stop the pipe (no URB in flight afterwards, waiting reads
 *   and writes return -ENODEV), cancel the work synchronously, unpublish
 *   and send the remove notification, release the sibling interface, drop
 *   the binding reference.  No state change can follow the remove event.
 * - release, reset and suspend run under the USB device lock, like
 *   disconnect, so none of them overlaps another; release tests @gone
 *   under that lock, so the interfaces it touches are still there.
 */

#include <linux/mm.h>
#include <linux/slab.h>
#include <linux/xarray.h>

#include "bootshake.h"

static DEFINE_XARRAY_ALLOC1(bsk_devs);
static DEFINE_MUTEX(bsk_devs_lock);	/* publish/unpublish vs readers */
static u32 bsk_next_id;
/* Bumped (never to 0) by every publish and unpublish; bsk_devs_lock. */
static unsigned int bsk_devs_gen = 1;
static struct workqueue_struct *bsk_wq;

static void bsk_dev_free(struct kref *kref)
{
	struct bsk_dev *bdev = container_of(kref, struct bsk_dev, kref);

	bsk_pipe_free(&bdev->pipe);
	usb_put_dev(bdev->udev);
	kvfree(bdev->tr);
	kfree(bdev->priv);
	kfree(bdev);
}

/**
 * bsk_dev_put() - drop a reference taken by bsk_dev_get_by_id()
 * @bdev: the device
 */
void bsk_dev_put(struct bsk_dev *bdev)
{
	kref_put(&bdev->kref, bsk_dev_free);
}

/**
 * bsk_dev_elapsed_us() - microseconds since probe
 * @bdev: the device
 *
 * Return: time since probe() started for @bdev.
 */
u64 bsk_dev_elapsed_us(const struct bsk_dev *bdev)
{
	return ktime_us_delta(ktime_get(), bdev->probe_time);
}

/**
 * bsk_dev_snapshot() - copy the published state
 * @bdev: the device
 * @st: destination
 */
void bsk_dev_snapshot(struct bsk_dev *bdev, struct bsk_status *st)
{
	spin_lock(&bdev->lock);
	*st = bdev->st;
	spin_unlock(&bdev->lock);
}

/**
 * bsk_dev_update() - change published state and notify the monitor group
 * @bdev: the device
 * @fn: called with the lock held to edit the state; must not sleep
 * @arg: passed to @fn
 *
 * Process context.  Callers never overlap for one device: the work item,
 * or release and resume with the work item cancelled or not yet queued.
 * One change notification and one uevent follow.
 */
void bsk_dev_update(struct bsk_dev *bdev,
		    void (*fn)(struct bsk_status *st, const void *arg),
		    const void *arg)
{
	spin_lock(&bdev->lock);
	fn(&bdev->st, arg);
	spin_unlock(&bdev->lock);
	bsk_nl_notify(bdev, BOOTSHAKE_CMD_DEV_CHANGE_NTF);
	bsk_uevent_state(bdev);
}

/**
 * bsk_dev_fail() - move a device to "failed" with an errno and a reason
 * @bdev: the device
 * @err: negative errno
 * @code: short reason code for scripts, a static string ("no-reply")
 * @fmt: printf format of the human-readable reason
 */
void bsk_dev_fail(struct bsk_dev *bdev, int err, const char *code,
		  const char *fmt, ...)
{
	va_list args;

	bsk_tr_note(bdev->tr, "fail %s", code);
	spin_lock(&bdev->lock);
	bdev->st.state = BOOTSHAKE_STATE_FAILED;
	bdev->st.error = -err;
	bdev->st.error_code = code;
	va_start(args, fmt);
	vsnprintf(bdev->st.reason, sizeof(bdev->st.reason), fmt, args);
	va_end(args);
	spin_unlock(&bdev->lock);

	dev_info(&bdev->intf->dev, "handshake failed: %s\n", bdev->st.reason);
	bsk_nl_notify(bdev, BOOTSHAKE_CMD_DEV_CHANGE_NTF);
	bsk_uevent_state(bdev);
}

/* What a byte-stream sync (MediaTek, STM32 USART) has to publish. */
struct bsk_sync_report {
	u64 sync_us;
	u32 attempts;
	u32 garbage;
	bool already_synced;
	bool synced;
};

static void bsk_sync_report_fn(struct bsk_status *st, const void *arg)
{
	const struct bsk_sync_report *r = arg;

	st->attempts = r->attempts;
	st->garbage = r->garbage;
	if (!r->synced)
		return;
	st->state = BOOTSHAKE_STATE_IDENTIFYING;
	st->sync_us = r->sync_us;
	if (r->already_synced)
		st->flags |= BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED;
	else
		st->flags &= ~BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED;
}

/**
 * bsk_dev_synced() - publish a finished sync and move on to "identifying"
 * @bdev: the device
 * @attempts: sync sequences started
 * @garbage: noise bytes skipped
 * @already_synced: the device showed it had been synced before this run
 *
 * sync_us is taken now, as the time since probe.
 */
void bsk_dev_synced(struct bsk_dev *bdev, u32 attempts, u32 garbage,
		    bool already_synced)
{
	struct bsk_sync_report r = {
		.sync_us = bsk_dev_elapsed_us(bdev),
		.attempts = attempts,
		.garbage = garbage,
		.already_synced = already_synced,
		.synced = true,
	};

	bsk_dev_update(bdev, bsk_sync_report_fn, &r);
}

/**
 * bsk_dev_sync_tries() - publish the attempts and noise of a failed sync
 * @bdev: the device
 * @attempts: sync sequences started
 * @garbage: noise bytes skipped
 *
 * Called before bsk_dev_fail(), so that "failed" shows how hard it tried.
 */
void bsk_dev_sync_tries(struct bsk_dev *bdev, u32 attempts, u32 garbage)
{
	struct bsk_sync_report r = {
		.attempts = attempts,
		.garbage = garbage,
	};

	bsk_dev_update(bdev, bsk_sync_report_fn, &r);
}

static void bsk_reset_status_fn(struct bsk_status *st, const void *arg)
{
	/* A new run: forget the last run's outcome, keep the flags. */
	st->state = BOOTSHAKE_STATE_SYNCING;
	st->error = 0;
	st->error_code = NULL;
	st->reason[0] = '\0';
	st->garbage = 0;
}

static void bsk_dev_work(struct work_struct *work)
{
	struct bsk_dev *bdev = container_of(work, struct bsk_dev, work);
	int ret;

	bsk_policy_deadlines(bdev->kind, &bdev->step_ms, &bdev->sync_ms);
	bsk_dev_update(bdev, bsk_reset_status_fn, NULL);

	if (bdev->kind->uses_pipe && bsk_pipe_in_error(&bdev->pipe)) {
		/* A stalled endpoint from the last run: clear it first. */
		ret = bsk_pipe_recover(&bdev->pipe);
		if (ret) {
			if (ret != -ENODEV)
				bsk_dev_fail(bdev, ret, "stall",
					     "cannot clear the stalled bulk in endpoint: %d",
					     ret);
			goto out;
		}
	}
	bsk_tr_note(bdev->tr, "handshake start");
	bdev->kind->handshake(bdev);
out:
	bsk_dev_put(bdev);
}

/* Queue the handshake with its own reference; ctl_lock held. */
static void bsk_dev_queue(struct bsk_dev *bdev)
{
	kref_get(&bdev->kref);
	if (!queue_work(bsk_wq, &bdev->work))
		bsk_dev_put(bdev);
}

/**
 * bsk_dev_get_by_id() - look a device up and take a reference
 * @id: registry id
 *
 * Return: the device, or NULL when no device has that id (any more).
 */
struct bsk_dev *bsk_dev_get_by_id(u32 id)
{
	struct bsk_dev *bdev;

	mutex_lock(&bsk_devs_lock);
	bdev = xa_load(&bsk_devs, id);
	if (bdev)
		kref_get(&bdev->kref);
	mutex_unlock(&bsk_devs_lock);
	return bdev;
}

/**
 * bsk_dev_get_by_intf() - the device bound to an interface, referenced
 * @intf: the interface
 *
 * For sysfs readers; see kmod/uevent.c.  Return: the device or NULL.
 */
struct bsk_dev *bsk_dev_get_by_intf(struct usb_interface *intf)
{
	struct bsk_dev *bdev;

	mutex_lock(&bsk_devs_lock);
	bdev = usb_get_intfdata(intf);
	if (bdev)
		kref_get(&bdev->kref);
	mutex_unlock(&bsk_devs_lock);
	return bdev;
}

/**
 * bsk_devs_walk() - walk the registry from a cursor
 * @cursor: first id to visit; on return, the id to resume from
 * @gen: set, before @fn is first called, to the registry's generation
 *	(changes with every device added or removed; never 0), so that a
 *	dump can flag parts taken from different registries (DUMP_INTR)
 * @fn: called for each device, under the registry lock; a non-zero
 *	return stops the walk and leaves @cursor at that device
 * @arg: passed to @fn
 *
 * Built for netlink dumps: the lock is held for one call only, never
 * across dump parts, and devices that vanished in between are skipped.
 *
 * Return: the non-zero value of @fn, or 0 when the walk completed.
 */
int bsk_devs_walk(unsigned long *cursor, unsigned int *gen,
		  int (*fn)(struct bsk_dev *bdev, void *arg), void *arg)
{
	struct bsk_dev *bdev;
	unsigned long id;
	int ret = 0;

	mutex_lock(&bsk_devs_lock);
	*gen = bsk_devs_gen;
	id = *cursor;
	for (bdev = xa_find(&bsk_devs, &id, ULONG_MAX, XA_PRESENT); bdev;
	     bdev = xa_find_after(&bsk_devs, &id, ULONG_MAX, XA_PRESENT)) {
		ret = fn(bdev, arg);
		if (ret) {
			*cursor = id;
			break;
		}
	}
	if (!ret)
		*cursor = ULONG_MAX;
	mutex_unlock(&bsk_devs_lock);
	return ret;
}

static struct usb_interface *bsk_other_intf(struct bsk_dev *bdev,
					    struct usb_interface *intf)
{
	if (bdev->data == bdev->intf)
		return NULL;
	return intf == bdev->intf ? bdev->data : bdev->intf;
}

/**
 * bsk_dev_udev_released() - was @udev released to userspace?
 * @udev: a USB device
 *
 * A released device stays reported until it leaves the bus, and neither
 * probe nor takeover binds it again on this connection.
 *
 * Return: true when a device of ours on @udev was released.
 */
bool bsk_dev_udev_released(struct usb_device *udev)
{
	struct bsk_dev *bdev;
	unsigned long id;
	bool ret = false;

	mutex_lock(&bsk_devs_lock);
	xa_for_each(&bsk_devs, id, bdev) {
		if (bdev->udev == udev && READ_ONCE(bdev->released)) {
			ret = true;
			break;
		}
	}
	mutex_unlock(&bsk_devs_lock);
	return ret;
}

static struct bsk_dev *bsk_dev_alloc(struct usb_interface *intf,
				     const struct bsk_kind *kind,
				     enum bootshake_policy policy,
				     bool taken_over)
{
	struct usb_device *udev = interface_to_usbdev(intf);
	struct bsk_dev *bdev;

	bdev = kzalloc(sizeof(*bdev), GFP_KERNEL);
	if (!bdev)
		return NULL;

	bdev->probe_time = ktime_get();
	kref_init(&bdev->kref);
	spin_lock_init(&bdev->lock);
	mutex_init(&bdev->ctl_lock);
	init_waitqueue_head(&bdev->wait);
	INIT_WORK(&bdev->work, bsk_dev_work);
	bdev->kind = kind;
	bdev->udev = usb_get_dev(udev);
	bdev->intf = intf;
	bdev->data = intf;
	strscpy(bdev->path, dev_name(&udev->dev), sizeof(bdev->path));
	bdev->st.state = policy == BOOTSHAKE_POLICY_AUTO ?
			 BOOTSHAKE_STATE_PROBED : BOOTSHAKE_STATE_WATCHING;
	if (taken_over)
		bdev->st.flags |= BOOTSHAKE_DEV_FLAG_TAKEN_OVER;

	bdev->tr = kvzalloc(sizeof(*bdev->tr), GFP_KERNEL);
	if (!bdev->tr) {
		bsk_dev_put(bdev);
		return NULL;
	}
	bsk_tr_init(bdev->tr, bdev->probe_time);
	return bdev;
}

/*
 * The kind finds the data interface and the endpoints; the pipe is set up
 * and the data interface claimed.  On error nothing is claimed.
 */
static int bsk_dev_claim(struct bsk_dev *bdev)
{
	struct usb_interface *intf = bdev->intf;
	int ret;

	ret = bdev->kind->bind(bdev);
	if (ret)
		return ret;

	if (bdev->kind->uses_pipe) {
		ret = bsk_pipe_init(&bdev->pipe, bdev->udev, bdev->in_ep,
				    bdev->out_ep, bdev->tr);
		if (ret)
			return ret;
	}

	if (bdev->data != intf) {
		ret = usb_driver_claim_interface(&bsk_usb_driver, bdev->data,
						 bdev);
		if (ret) {
			dev_info(&intf->dev,
				 "data interface %u is busy, not binding\n",
				 bdev->data->cur_altsetting->desc.bInterfaceNumber);
			return ret;
		}
	}
	usb_set_intfdata(intf, bdev);
	return 0;
}

/* Undo bsk_dev_claim(). */
static void bsk_dev_unclaim(struct bsk_dev *bdev)
{
	usb_set_intfdata(bdev->intf, NULL);
	if (bdev->data != bdev->intf) {
		usb_set_intfdata(bdev->data, NULL);
		usb_driver_release_interface(&bsk_usb_driver, bdev->data);
	}
}

/* Give the device an id and make it visible to netlink readers. */
static int bsk_dev_publish(struct bsk_dev *bdev)
{
	int ret;

	mutex_lock(&bsk_devs_lock);
	ret = xa_alloc_cyclic(&bsk_devs, &bdev->id, bdev, xa_limit_32b,
			      &bsk_next_id, GFP_KERNEL);
	if (ret >= 0)
		bsk_devs_gen = bsk_devs_gen + 1 ?: 1;
	mutex_unlock(&bsk_devs_lock);
	return ret < 0 ? ret : 0;
}

/**
 * bsk_dev_probe() - bind a device: find its endpoints, arm IN, publish
 * @intf: the interface the USB core probes (the CDC comm interface)
 * @kind: what the ID table says the device is
 * @taken_over: the interfaces were taken from another driver
 *
 * The kind's policy decides: "off" does not bind, "watch" binds and
 * reports, "auto" (or an armed "watch") also queues the handshake, which
 * runs later from the work item.
 *
 * Return: 0 or a negative errno; on error nothing is left bound.
 */
int bsk_dev_probe(struct usb_interface *intf, const struct bsk_kind *kind,
		  bool taken_over)
{
	enum bootshake_policy policy;
	struct bsk_dev *bdev;
	int ret;

	if (bsk_dev_udev_released(interface_to_usbdev(intf)))
		return -ENODEV;		/* userspace has it on this connection */

	policy = bsk_policy_decide(kind);
	if (policy == BOOTSHAKE_POLICY_OFF)
		return -ENODEV;

	bdev = bsk_dev_alloc(intf, kind, policy, taken_over);
	if (!bdev)
		return -ENOMEM;

	ret = bsk_dev_claim(bdev);
	if (ret)
		goto err_put;

	if (kind->uses_pipe) {
		ret = bsk_pipe_start(&bdev->pipe);
		if (ret) {
			dev_err(&intf->dev, "cannot arm bulk in: %d\n", ret);
			goto err_unclaim;
		}
	}

	ret = bsk_dev_publish(bdev);
	if (ret)
		goto err_stop;

	dev_dbg(&intf->dev, "%s bound as bootshake device %u, policy %s\n",
		kind->name, bdev->id, bsk_policy_name(policy));
	bsk_nl_notify(bdev, BOOTSHAKE_CMD_DEV_ADD_NTF);
	bsk_uevent_state(bdev);

	if (policy == BOOTSHAKE_POLICY_AUTO) {
		mutex_lock(&bdev->ctl_lock);
		bsk_dev_queue(bdev);
		mutex_unlock(&bdev->ctl_lock);
	}
	return 0;

err_stop:
	bsk_pipe_stop(&bdev->pipe);
err_unclaim:
	bsk_dev_unclaim(bdev);
err_put:
	bsk_dev_put(bdev);
	return ret;
}

/**
 * bsk_dev_retry() - run the handshake again on a claimed device
 * @bdev: the device (referenced by the caller)
 *
 * Return: 0 when queued, -EBUSY while a handshake runs or the device is
 * suspended or being reset, -ENODEV when the device is gone or released.
 */
int bsk_dev_retry(struct bsk_dev *bdev)
{
	enum bootshake_state state;
	int ret = 0;

	mutex_lock(&bdev->ctl_lock);
	spin_lock(&bdev->lock);
	state = bdev->st.state;
	spin_unlock(&bdev->lock);

	if (bdev->gone || bdev->released)
		ret = -ENODEV;
	else if (bdev->paused)
		ret = -EBUSY;
	else if (state == BOOTSHAKE_STATE_PROBED ||
		 state == BOOTSHAKE_STATE_SYNCING ||
		 state == BOOTSHAKE_STATE_IDENTIFYING ||
		 work_pending(&bdev->work))
		ret = -EBUSY;
	else
		bsk_dev_queue(bdev);
	mutex_unlock(&bdev->ctl_lock);
	return ret;
}

static void bsk_set_released_fn(struct bsk_status *st, const void *arg)
{
	st->state = BOOTSHAKE_STATE_RELEASED;
}

/**
 * bsk_dev_release() - give a device up to userspace
 * @bdev: the device (referenced by the caller)
 *
 * Stops all I/O (nothing is sent to the device afterwards), waits for a
 * running handshake to end, and unbinds both interfaces so that a tool
 * can claim them through usbfs.  The device stays reported as "released"
 * until it leaves the bus, and is not bound again on this connection.
 *
 * All of it runs under the USB device lock, which disconnect also holds:
 * an unplug either comes first (then @gone is set and this returns
 * -ENODEV) or waits until the interfaces are released, so @bdev->intf is
 * never used after usbcore freed it.  The lock is held across
 * cancel_work_sync(): the handshake never takes it.
 *
 * Return: 0, or -ENODEV when it is gone or already released.
 */
int bsk_dev_release(struct bsk_dev *bdev)
{
	usb_lock_device(bdev->udev);
	mutex_lock(&bdev->ctl_lock);
	if (bdev->gone || bdev->released) {
		mutex_unlock(&bdev->ctl_lock);
		usb_unlock_device(bdev->udev);
		return -ENODEV;
	}
	WRITE_ONCE(bdev->released, true);
	mutex_unlock(&bdev->ctl_lock);
	wake_up_all(&bdev->wait);

	if (bdev->kind->uses_pipe)
		bsk_pipe_stop(&bdev->pipe);
	if (cancel_work_sync(&bdev->work))
		bsk_dev_put(bdev);
	bsk_tr_note(bdev->tr, "released");
	bsk_dev_update(bdev, bsk_set_released_fn, NULL);

	/* Runs our disconnect for both interfaces; it sees @released. */
	usb_driver_release_interface(&bsk_usb_driver, bdev->intf);
	usb_unlock_device(bdev->udev);
	return 0;
}

/*
 * The comm interface's callbacks act for the device; the claimed data
 * interface's are no-ops.  NULL when @intf is not a bound comm interface.
 */
static struct bsk_dev *bsk_dev_of_comm(struct usb_interface *intf)
{
	struct bsk_dev *bdev = usb_get_intfdata(intf);

	return bdev && bdev->intf == intf ? bdev : NULL;
}

/**
 * bsk_dev_quiesce() - stop I/O and the handshake before a reset or suspend
 * @intf: a bound interface; the USB device lock is held
 *
 * The pre_reset() and suspend() callback.  Kills the pipe's URBs (the IN
 * side then holds -ENOENT, which the next handshake clears), keeps retry
 * from queueing, and waits for a running handshake to end; a handshake
 * cut here ends early and runs again from bsk_dev_resume().  Nothing is
 * in flight when it returns, as usbcore requires.
 *
 * Return: 0.
 */
int bsk_dev_quiesce(struct usb_interface *intf)
{
	struct bsk_dev *bdev = bsk_dev_of_comm(intf);

	if (!bdev)
		return 0;

	mutex_lock(&bdev->ctl_lock);
	bdev->paused = true;
	mutex_unlock(&bdev->ctl_lock);

	if (bdev->kind->uses_pipe)
		bsk_pipe_quiesce(&bdev->pipe);
	if (cancel_work_sync(&bdev->work))
		bsk_dev_put(bdev);
	/* What the handshake submitted before it saw the kill. */
	if (bdev->kind->uses_pipe)
		bsk_pipe_quiesce(&bdev->pipe);
	bsk_tr_note(bdev->tr, "quiesced");
	return 0;
}

/**
 * bsk_dev_resume() - after a reset or a system resume: handshake again
 * @intf: a bound interface; the USB device lock is held
 *
 * The post_reset(), resume() and reset_resume() callback.  A boot ROM's
 * download session does not survive a bus reset or a host suspend: the
 * device keeps its id and its report, and a device whose handshake had
 * been started ("watching" ones wait for a retry as before) is
 * handshaken again, "syncing" to "ready" or "failed" as after a plug.
 *
 * Return: 0.
 */
int bsk_dev_resume(struct usb_interface *intf)
{
	struct bsk_dev *bdev = bsk_dev_of_comm(intf);
	enum bootshake_state state;

	if (!bdev)
		return 0;

	bsk_tr_note(bdev->tr, "resumed");
	mutex_lock(&bdev->ctl_lock);
	bdev->paused = false;
	spin_lock(&bdev->lock);
	state = bdev->st.state;
	spin_unlock(&bdev->lock);
	if (!bdev->gone && !bdev->released &&
	    state != BOOTSHAKE_STATE_WATCHING)
		bsk_dev_queue(bdev);
	mutex_unlock(&bdev->ctl_lock);
	return 0;
}

static void bsk_dev_unpublish(struct bsk_dev *bdev)
{
	mutex_lock(&bsk_devs_lock);
	xa_erase(&bsk_devs, bdev->id);
	bsk_devs_gen = bsk_devs_gen + 1 ?: 1;
	mutex_unlock(&bsk_devs_lock);

	spin_lock(&bdev->lock);
	bdev->st.state = BOOTSHAKE_STATE_GONE;
	spin_unlock(&bdev->lock);
	bsk_nl_notify(bdev, BOOTSHAKE_CMD_DEV_DEL_NTF);
}

/**
 * bsk_dev_usb_removed() - a USB device left the bus
 * @udev: the device
 *
 * Ends the report of a device released to userspace (its binding is
 * gone already, so disconnect() does not run for it).
 */
void bsk_dev_usb_removed(struct usb_device *udev)
{
	struct bsk_dev *bdev, *found = NULL;
	unsigned long id;

	mutex_lock(&bsk_devs_lock);
	xa_for_each(&bsk_devs, id, bdev) {
		if (bdev->udev == udev && READ_ONCE(bdev->released)) {
			found = bdev;
			break;
		}
	}
	mutex_unlock(&bsk_devs_lock);
	if (!found)
		return;

	bsk_dev_unpublish(found);
	dev_dbg(&udev->dev, "released bootshake device %u left the bus\n",
		found->id);
	bsk_dev_put(found);	/* the binding's reference, kept on release */
}

/**
 * bsk_dev_disconnect() - unbind; the device may already be gone
 * @intf: either of the two bound interfaces
 *
 * Runs for the comm interface, the claimed data interface, on unplug, on
 * rmmod, on release and when userspace unbinds or detaches an interface.
 */
void bsk_dev_disconnect(struct usb_interface *intf)
{
	struct bsk_dev *bdev = usb_get_intfdata(intf);
	struct usb_interface *other;
	bool released;

	/* The sibling's disconnect is already tearing this device down. */
	if (!bdev)
		return;

	other = bsk_other_intf(bdev, intf);
	usb_set_intfdata(bdev->intf, NULL);
	if (other)
		usb_set_intfdata(other, NULL);

	mutex_lock(&bdev->ctl_lock);
	WRITE_ONCE(bdev->gone, true);
	released = bdev->released;
	mutex_unlock(&bdev->ctl_lock);
	wake_up_all(&bdev->wait);

	if (bdev->kind->uses_pipe)
		bsk_pipe_stop(&bdev->pipe);
	if (cancel_work_sync(&bdev->work))
		bsk_dev_put(bdev);

	if (other)
		usb_driver_release_interface(&bsk_usb_driver, other);

	if (released)
		return;	/* reported until it leaves the bus */

	bsk_dev_unpublish(bdev);
	dev_dbg(&intf->dev, "bootshake device %u gone\n", bdev->id);
	bsk_dev_put(bdev);
}

int bsk_dev_init(void)
{
	/*
	 * Unbound: handshakes of many devices run side by side; high
	 * priority: the download windows are short.
	 */
	bsk_wq = alloc_workqueue("bootshake", WQ_UNBOUND | WQ_HIGHPRI, 0);
	return bsk_wq ? 0 : -ENOMEM;
}

/**
 * bsk_dev_drop_all() - end the reports of devices released to userspace
 *
 * Module exit, after usb_deregister(): every bound device is unpublished
 * by then; only released devices are left, and their report ends here.
 */
void bsk_dev_drop_all(void)
{
	struct bsk_dev *bdev;
	unsigned long id;

	xa_for_each(&bsk_devs, id, bdev) {
		bsk_dev_unpublish(bdev);
		bsk_dev_put(bdev);
	}
}

void bsk_dev_exit(void)
{
	WARN_ON(!xa_empty(&bsk_devs));
	destroy_workqueue(bsk_wq);
	xa_destroy(&bsk_devs);
}
