// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake: take download-mode devices away from generic drivers.
 *
 * cdc_acm carries modaliases for 0e8d:0003 and 0e8d:2000 and matches every
 * CDC ACM comm interface; option matches the BROM data interface.  On a
 * real machine udev loads all matching modules, so which driver binds
 * first is a race, and a driver registered earlier always wins a device
 * plugged later.  The modprobe.d softdep shipped with bootshake makes it
 * load first when it can; this file covers the rest: whenever a generic
 * driver binds an interface that our ID table matches, a work item
 * unbinds it from that device's interfaces and attaches bootshake; only
 * that device is looked at.  Once at load, and whenever an ID is added
 * through new_id (no bind event comes then), the whole bus is scanned.
 * A device released to userspace is never taken over: whoever binds it
 * afterwards keeps it.  "Our ID
 * table" includes the dynamic IDs (usart_ids, new_id): an opted-in USART
 * bridge is a CDC-ACM device that cdc_acm binds as readily as a BROM.  The
 * download window is seconds long, the takeover takes milliseconds.
 * Module parameter "takeover=0" turns it off.
 */

#include <linux/device.h>
#include <linux/slab.h>
#include <linux/string.h>

#include "bootshake.h"

bool bsk_takeover = true;

#define BSK_TAKEOVER_MAX	32

struct bsk_takeover_scan {
	struct usb_interface *intfs[BSK_TAKEOVER_MAX];
	unsigned int n;
};

static DEFINE_MUTEX(bsk_takeover_lock);
static struct usb_interface *bsk_takeover_current;
static bool bsk_takeover_live;	/* under the lock: kicks schedule work */

/* A device a generic driver just bound, to be looked at by the work. */
struct bsk_takeover_req {
	struct list_head node;
	struct usb_device *udev;	/* referenced */
};

/*
 * What the work is to look at: the devices of bind events and, after a
 * load or a new ID, the whole bus.  Both under bsk_takeover_req_lock,
 * which the notifier takes (it runs under the device lock of the bound
 * interface's parent, so it must not wait for bsk_takeover_lock).
 */
static DEFINE_SPINLOCK(bsk_takeover_req_lock);
static LIST_HEAD(bsk_takeover_reqs);
static bool bsk_takeover_all;

static void bsk_takeover_workfn(struct work_struct *work);
static DECLARE_WORK(bsk_takeover_work, bsk_takeover_workfn);

/*
 * Only generic drivers are pushed aside.  Never usbfs: a flashing tool
 * that claimed the device (after a release, or by detaching us) keeps it.
 */
static const char * const bsk_generic_drivers[] = {
	"cdc_acm",
	"option",
};

static bool bsk_foreign(struct usb_interface *intf)
{
	struct device_driver *drv = READ_ONCE(intf->dev.driver);

	return drv && match_string(bsk_generic_drivers,
				   ARRAY_SIZE(bsk_generic_drivers),
				   drv->name) >= 0;
}

static bool bsk_has_foreign(struct usb_host_config *config)
{
	unsigned int i;

	for (i = 0; i < config->desc.bNumInterfaces; i++) {
		if (config->interface[i] && bsk_foreign(config->interface[i]))
			return true;
	}
	return false;
}

/*
 * Does bootshake's static or dynamic ID table match @intf?  The USB bus's
 * own match function answers for both, exactly as for a probe; it may
 * sleep (the dynamic IDs are under a mutex).
 */
static bool bsk_takeover_match(struct usb_interface *intf)
{
	struct device_driver *drv = &bsk_usb_driver.driver;

	return drv->bus->match(&intf->dev, drv) > 0;
}

/*
 * Collect the interfaces of @udev that match our tables while a foreign
 * driver holds part of the device (process context, may sleep; also the
 * usb_for_each_dev() callback of a whole-bus scan).  The caller pins
 * @udev, not its configuration: usb_disconnect() frees the interfaces
 * (usb_disable_device()) under the device lock, so they are looked at
 * only under that lock.  Without it KASAN saw a use-after-free here in a
 * plug storm.  A device released to userspace is skipped.
 */
static int bsk_takeover_collect(struct usb_device *udev, void *data)
{
	struct bsk_takeover_scan *scan = data;
	struct usb_host_config *config;
	unsigned int i;

	usb_lock_device(udev);
	config = udev->actconfig;
	if (!config || !bsk_has_foreign(config) ||
	    bsk_dev_udev_released(udev))
		goto out;

	for (i = 0; i < config->desc.bNumInterfaces; i++) {
		struct usb_interface *intf = config->interface[i];

		if (!intf || !bsk_takeover_match(intf) ||
		    READ_ONCE(intf->dev.driver) == &bsk_usb_driver.driver)
			continue;
		if (scan->n == BSK_TAKEOVER_MAX)
			break;
		/* The interface pins its parent device as well. */
		scan->intfs[scan->n++] = usb_get_intf(intf);
	}
out:
	usb_unlock_device(udev);
	return 0;
}

static void bsk_takeover_one(struct usb_interface *intf)
{
	struct usb_device *udev = interface_to_usbdev(intf);
	struct usb_host_config *config;
	unsigned int i;
	int ret;

	/*
	 * Unbind foreign drivers from every interface of the device: cdc_acm
	 * holds comm and data, option may hold the data interface alone.
	 * Like a driver releasing an interface, hold the device lock.
	 */
	usb_lock_device(udev);
	config = udev->actconfig;
	for (i = 0; config && i < config->desc.bNumInterfaces; i++) {
		struct usb_interface *sib = config->interface[i];
		struct device_driver *drv;

		if (!sib || !bsk_foreign(sib))
			continue;
		drv = READ_ONCE(sib->dev.driver);
		dev_info(&sib->dev, "taking over from %s\n", drv->name);
		device_release_driver(&sib->dev);
	}
	usb_unlock_device(udev);

	/* device_driver_attach() takes the device lock itself. */
	WRITE_ONCE(bsk_takeover_current, intf);
	ret = device_driver_attach(&bsk_usb_driver.driver, &intf->dev);
	WRITE_ONCE(bsk_takeover_current, NULL);
	if (ret && ret != -EBUSY)
		dev_warn(&intf->dev, "takeover failed: %d\n", ret);
}

/* Take the requests queued so far; whether the whole bus is asked for. */
static bool bsk_takeover_take_reqs(struct list_head *reqs)
{
	bool all;

	spin_lock(&bsk_takeover_req_lock);
	list_splice_init(&bsk_takeover_reqs, reqs);
	all = bsk_takeover_all;
	bsk_takeover_all = false;
	spin_unlock(&bsk_takeover_req_lock);
	return all;
}

static void bsk_takeover_free_reqs(struct list_head *reqs)
{
	struct bsk_takeover_req *req, *tmp;

	list_for_each_entry_safe(req, tmp, reqs, node) {
		list_del(&req->node);
		usb_put_dev(req->udev);
		kfree(req);
	}
}

static void bsk_takeover_workfn(struct work_struct *work)
{
	struct bsk_takeover_scan *scan;
	struct bsk_takeover_req *req;
	LIST_HEAD(reqs);
	unsigned int i;
	bool all;

	all = bsk_takeover_take_reqs(&reqs);
	scan = kzalloc(sizeof(*scan), GFP_KERNEL);
	if (!scan)
		goto out;

	if (all) {
		usb_for_each_dev(scan, bsk_takeover_collect);
	} else {
		list_for_each_entry(req, &reqs, node)
			bsk_takeover_collect(req->udev, scan);
	}

	mutex_lock(&bsk_takeover_lock);
	for (i = 0; i < scan->n; i++) {
		if (bsk_takeover)
			bsk_takeover_one(scan->intfs[i]);
		usb_put_intf(scan->intfs[i]);
	}
	mutex_unlock(&bsk_takeover_lock);
	kfree(scan);
out:
	bsk_takeover_free_reqs(&reqs);
}

/* Ask the work to scan the whole bus (load, new ID). */
static void bsk_takeover_scan_all(void)
{
	spin_lock(&bsk_takeover_req_lock);
	bsk_takeover_all = true;
	spin_unlock(&bsk_takeover_req_lock);
	schedule_work(&bsk_takeover_work);
}

/**
 * bsk_takeover_pending() - is this probe a takeover?
 * @intf: the interface being probed
 *
 * Return: true when bsk_takeover_one() is attaching bootshake to @intf.
 */
bool bsk_takeover_pending(struct usb_interface *intf)
{
	return READ_ONCE(bsk_takeover_current) == intf;
}

/*
 * A driver was bound on the USB bus.  Only interfaces bound to one of
 * the generic drivers (which are interface drivers) matter; their USB
 * device is queued for the work, which looks for interfaces our tables
 * match (option may hold the data interface while the comm interface is
 * the one we match).  Runs in process context from driver_bound(), with
 * the device (and its parent) locked, so @dev is alive here; the request
 * pins the USB device.
 */
static int bsk_takeover_notify(struct notifier_block *nb,
			       unsigned long action, void *data)
{
	struct device *dev = data;
	struct bsk_takeover_req *req, *pos;
	struct usb_interface *intf;
	struct usb_device *udev;
	bool queued = false;

	if (action != BUS_NOTIFY_BOUND_DRIVER || !READ_ONCE(bsk_takeover) ||
	    !dev->driver ||
	    match_string(bsk_generic_drivers, ARRAY_SIZE(bsk_generic_drivers),
			 dev->driver->name) < 0)
		return NOTIFY_DONE;

	intf = to_usb_interface(dev);
	udev = interface_to_usbdev(intf);

	req = kmalloc(sizeof(*req), GFP_KERNEL);
	if (!req)
		return NOTIFY_DONE;

	spin_lock(&bsk_takeover_req_lock);
	list_for_each_entry(pos, &bsk_takeover_reqs, node) {
		if (pos->udev == udev) {
			queued = true;	/* cdc_acm binds comm and data */
			break;
		}
	}
	if (!queued) {
		req->udev = usb_get_dev(udev);
		list_add_tail(&req->node, &bsk_takeover_reqs);
	}
	spin_unlock(&bsk_takeover_req_lock);
	if (queued)
		kfree(req);
	schedule_work(&bsk_takeover_work);
	return NOTIFY_DONE;
}

static struct notifier_block bsk_takeover_nb = {
	.notifier_call = bsk_takeover_notify,
};

/**
 * bsk_takeover_init() - watch driver binding, take over existing devices
 *
 * Call after usb_register().  Return: 0 or a negative errno.
 */
int bsk_takeover_init(void)
{
	int ret;

	/* usb_bus_type is not exported; usb_register() set our bus to it. */
	ret = bus_register_notifier(bsk_usb_driver.driver.bus,
				    &bsk_takeover_nb);
	if (ret)
		return ret;
	mutex_lock(&bsk_takeover_lock);
	bsk_takeover_live = true;
	mutex_unlock(&bsk_takeover_lock);
	if (bsk_takeover)
		bsk_takeover_scan_all();
	return 0;
}

/**
 * bsk_takeover_kick() - look for matching devices held by a foreign driver
 *
 * For a new dynamic ID: cdc_acm may hold the bridge it names already, and
 * no bind event will come.
 */
void bsk_takeover_kick(void)
{
	mutex_lock(&bsk_takeover_lock);
	if (bsk_takeover_live && READ_ONCE(bsk_takeover))
		bsk_takeover_scan_all();
	mutex_unlock(&bsk_takeover_lock);
}

/**
 * bsk_takeover_exit() - stop watching; no takeover runs afterwards
 */
void bsk_takeover_exit(void)
{
	LIST_HEAD(reqs);

	/* new_id stays writable until usb_deregister(): no kick after this */
	mutex_lock(&bsk_takeover_lock);
	bsk_takeover_live = false;
	mutex_unlock(&bsk_takeover_lock);
	bus_unregister_notifier(bsk_usb_driver.driver.bus, &bsk_takeover_nb);
	cancel_work_sync(&bsk_takeover_work);
	bsk_takeover_take_reqs(&reqs);
	bsk_takeover_free_reqs(&reqs);
}
