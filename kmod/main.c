// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake: claim USB boot-ROM download devices the moment they enumerate
 * and handshake them in kernel context, so that no generic driver (cdc_acm,
 * option) or prober (ModemManager) touches them during their short
 * download window.  Devices and results are reported over the "bootshake"
 * generic netlink family.
 */

#include <linux/module.h>
#include <linux/moduleparam.h>
#include <linux/slab.h>
#include <linux/usb.h>
#include <linux/usb/cdc.h>

#include "bootshake.h"

/* 1 ms .. 10 min, as POLICY_SET's deadlines */
#define BSK_DEADLINE_MAX_MS	600000

/*
 * step_timeout_ms and sync_timeout_ms: a write is checked (1 ms .. 10 min,
 * step not longer than sync) and then becomes that deadline of every kind
 * for the devices that probe afterwards; a refused write changes nothing.
 */
static int bsk_deadline_param_set(const char *val,
				  const struct kernel_param *kp)
{
	unsigned int ms;
	int ret;

	ret = kstrtouint(val, 0, &ms);
	if (ret)
		return ret;
	if (!ms || ms > BSK_DEADLINE_MAX_MS)
		return -EINVAL;
	return bsk_policy_set_deadline(kp->arg == &bsk_sync_timeout_ms, ms);
}

static const struct kernel_param_ops bsk_deadline_param_ops = {
	.set = bsk_deadline_param_set,
	.get = param_get_uint,
};

unsigned int bsk_step_timeout_ms = 100;
module_param_cb(step_timeout_ms, &bsk_deadline_param_ops,
		&bsk_step_timeout_ms, 0644);
MODULE_PARM_DESC(step_timeout_ms,
		 "Deadline of one protocol step (a byte and its reply), ms (default 100); a write sets it for every kind");

unsigned int bsk_sync_timeout_ms = 3000;
module_param_cb(sync_timeout_ms, &bsk_deadline_param_ops,
		&bsk_sync_timeout_ms, 0644);
MODULE_PARM_DESC(sync_timeout_ms,
		 "Deadline of the whole sync including retries, ms (default 3000); a write sets it for every kind");

static char *bsk_policy_param;
module_param_named(policy, bsk_policy_param, charp, 0444);
MODULE_PARM_DESC(policy,
		 "Policies at load, e.g. \"mtk-preloader=auto,mtk-brom=watch\"; each of off, watch, auto (default mtk-brom=auto, mtk-preloader=watch)");

static char *bsk_usart_ids;
module_param_named(usart_ids, bsk_usart_ids, charp, 0444);
MODULE_PARM_DESC(usart_ids,
		 "CDC-ACM bridges wired to an STM32 USART bootloader, opt-in: \"VID:PID[,VID:PID]...\" in hex (or at run time: echo VID PID 02 > /sys/bus/usb/drivers/bootshake/new_id)");

module_param_named(takeover, bsk_takeover, bool, 0644);
MODULE_PARM_DESC(takeover,
		 "Take matching devices away from cdc_acm/option (default on)");

#define BSK_MTK_COMM(vid, pid, kind)					\
	USB_DEVICE_INTERFACE_CLASS(vid, pid, USB_CLASS_COMM),		\
	.driver_info = (kernel_ulong_t)&(kind)

/*
 * Probe runs for the CDC comm interface only; the data interface is found
 * by class and claimed from there.  IDs: ../shared/protocols/mediatek.md
 * section 1.1 (mtkclient's usb_ids.py and Port.run_handshake, MediaTek
 * preloader sources).  Not download mode, never bound: 0e8d:2006/2007
 * (META), 0e8d:00a1..00a7/0023 (modem), 0e8d:3329 (GPS).
 */
const struct usb_device_id bsk_ids[] = {
	{ BSK_MTK_COMM(0x0e8d, 0x0003, bsk_mtk_brom_kind) },	/* MTK BROM */
	{ BSK_MTK_COMM(0x0fce, 0xf200, bsk_mtk_brom_kind) },	/* Sony BROM */
	{ BSK_MTK_COMM(0x0fce, 0xd1e9, bsk_mtk_brom_kind) },	/* Sony XA1 */
	{ BSK_MTK_COMM(0x0fce, 0xd1e2, bsk_mtk_brom_kind) },	/* Sony L1 */
	{ BSK_MTK_COMM(0x0fce, 0xd1ec, bsk_mtk_brom_kind) },	/* Sony */
	{ BSK_MTK_COMM(0x0fce, 0xd1dd, bsk_mtk_brom_kind) },	/* Sony F3111 */
	{ BSK_MTK_COMM(0x0e8d, 0x2000, bsk_mtk_preloader_kind) },
	{ BSK_MTK_COMM(0x0e8d, 0x2001, bsk_mtk_preloader_kind) },
	{ BSK_MTK_COMM(0x0e8d, 0x20ff, bsk_mtk_preloader_kind) },
	{ BSK_MTK_COMM(0x0e8d, 0x3000, bsk_mtk_preloader_kind) },
	{ BSK_MTK_COMM(0x0e8d, 0x6000, bsk_mtk_preloader_kind) },
	{ BSK_MTK_COMM(0x1004, 0x6000, bsk_mtk_preloader_kind) },	/* LG */
	{ BSK_MTK_COMM(0x22d9, 0x0006, bsk_mtk_preloader_kind) },	/* OPPO */
	/*
	 * STM32 system bootloader, USB DFU mode (FE/01/02): one ID for every
	 * family (../shared/protocols/stm32.md 1.1, 1.3).  Protocol 0 and 1
	 * (runtime) interfaces are not ROMs and stay unbound.
	 */
	{ USB_DEVICE_AND_INTERFACE_INFO(0x0483, 0xdf11, USB_CLASS_APP_SPEC,
					0x01, 0x02),
	  .driver_info = (kernel_ulong_t)&bsk_stm32_dfu_kind },
	{ }
};
MODULE_DEVICE_TABLE(usb, bsk_ids);

/* Every kind, by its netlink enum value. */
const struct bsk_kind *const bsk_kinds[BOOTSHAKE_KIND_MAX + 1] = {
	[BOOTSHAKE_KIND_MTK_BROM] = &bsk_mtk_brom_kind,
	[BOOTSHAKE_KIND_MTK_PRELOADER] = &bsk_mtk_preloader_kind,
	[BOOTSHAKE_KIND_STM32_DFU] = &bsk_stm32_dfu_kind,
	[BOOTSHAKE_KIND_STM32_USART] = &bsk_stm32_usart_kind,
};

/**
 * bsk_kind_by_name() - look a kind up by its user-visible name
 * @name: e.g. "mtk-preloader"
 *
 * Return: the kind, or NULL.
 */
const struct bsk_kind *bsk_kind_by_name(const char *name)
{
	int i;

	for (i = 1; i <= BOOTSHAKE_KIND_MAX; i++) {
		if (bsk_kinds[i] && !strcmp(bsk_kinds[i]->name, name))
			return bsk_kinds[i];
	}
	return NULL;
}

/* A released device's report ends when it leaves the bus. */
static int bsk_usb_notify(struct notifier_block *nb, unsigned long action,
			  void *data)
{
	if (action == USB_DEVICE_REMOVE)
		bsk_dev_usb_removed(data);
	return NOTIFY_OK;
}

static struct notifier_block bsk_usb_nb = {
	.notifier_call = bsk_usb_notify,
};

static int bsk_probe(struct usb_interface *intf,
		     const struct usb_device_id *id)
{
	const struct bsk_kind *kind = (const struct bsk_kind *)id->driver_info;

	/* A dynamic ID (usart_ids, new_id) is an opted-in STM32 bridge. */
	if (!kind)
		kind = &bsk_stm32_usart_kind;

	return bsk_dev_probe(intf, kind, bsk_takeover_pending(intf));
}

static void bsk_disconnect(struct usb_interface *intf)
{
	bsk_dev_disconnect(intf);
}

/*
 * System sleep and USB resets keep the binding: the handshake is stopped
 * before and run again after (kmod/dev.c, Documentation/design.rst).
 * No autosuspend: supports_autosuspend stays 0.
 */
static int bsk_suspend(struct usb_interface *intf, pm_message_t message)
{
	return bsk_dev_quiesce(intf);
}

/*
 * new_id and remove_id, as usbcore's own (drivers/usb/core/driver.c), plus
 * a takeover: a bridge named by a new ID may be held by cdc_acm already,
 * and usbcore's driver_attach() only probes unbound interfaces.
 */
static ssize_t new_id_show(struct device_driver *drv, char *buf)
{
	return usb_show_dynids(&bsk_usb_driver.dynids, buf);
}

static ssize_t new_id_store(struct device_driver *drv, const char *buf,
			    size_t count)
{
	ssize_t ret = usb_store_new_id(&bsk_usb_driver.dynids, bsk_ids, drv,
				       buf, count);

	if (ret > 0)
		bsk_takeover_kick();
	return ret;
}
static DRIVER_ATTR_RW(new_id);

static ssize_t remove_id_show(struct device_driver *drv, char *buf)
{
	return new_id_show(drv, buf);
}

static ssize_t remove_id_store(struct device_driver *drv, const char *buf,
			       size_t count)
{
	struct usb_dynid *dynid, *n;
	u32 vid, pid;

	if (sscanf(buf, "%x %x", &vid, &pid) < 2)
		return -EINVAL;

	mutex_lock(&usb_dynids_lock);
	list_for_each_entry_safe(dynid, n, &bsk_usb_driver.dynids.list, node) {
		if (dynid->id.idVendor == vid && dynid->id.idProduct == pid) {
			list_del(&dynid->node);
			kfree(dynid);
			break;
		}
	}
	mutex_unlock(&usb_dynids_lock);
	return count;
}
static DRIVER_ATTR_RW(remove_id);

static struct attribute *bsk_drv_attrs[] = {
	&driver_attr_new_id.attr,
	&driver_attr_remove_id.attr,
	NULL
};
ATTRIBUTE_GROUPS(bsk_drv);

struct usb_driver bsk_usb_driver = {
	.name = "bootshake",
	.probe = bsk_probe,
	.disconnect = bsk_disconnect,
	.suspend = bsk_suspend,
	.resume = bsk_dev_resume,
	.reset_resume = bsk_dev_resume,
	.pre_reset = bsk_dev_quiesce,
	.post_reset = bsk_dev_resume,
	.id_table = bsk_ids,
	.dev_groups = bsk_dev_groups,
	.disable_hub_initiated_lpm = 1,
	/*
	 * Without it usbcore disables the interface's endpoints before
	 * calling disconnect() on rmmod, release or a sysfs unbind, and a
	 * handshake still running then gets -ENOENT from usb_submit_urb()
	 * (the endpoint is gone) and reports a USB error for a device that
	 * is merely being unbound.  disconnect() stops the pipe and cancels
	 * the work itself, so nothing of ours is in flight when it returns.
	 */
	.soft_unbind = 1,
	/* usbcore's new_id and remove_id replaced by the ones above */
	.no_dynamic_id = 1,
	.driver.groups = bsk_drv_groups,
};

/*
 * usart_ids: one dynamic ID per bridge, for its CDC comm interface and
 * without driver_info, exactly what "echo VID PID 02 > new_id" makes.
 */
static int bsk_usart_ids_add(void)
{
	char buf[128], *p = buf, *item, id[16];
	unsigned int vid, pid;
	ssize_t ret = 0;

	if (!bsk_usart_ids || !*bsk_usart_ids)
		return 0;
	if (strscpy(buf, bsk_usart_ids, sizeof(buf)) < 0)
		return -EINVAL;
	while ((item = strsep(&p, ",")) && ret >= 0) {
		if (!*item)
			continue;
		if (sscanf(item, "%x:%x", &vid, &pid) != 2 || vid > 0xffff ||
		    pid > 0xffff)
			return -EINVAL;
		snprintf(id, sizeof(id), "%04x %04x %02x", vid, pid,
			 USB_CLASS_COMM);
		ret = usb_store_new_id(&bsk_usb_driver.dynids, bsk_ids,
				       &bsk_usb_driver.driver, id, strlen(id));
	}
	return ret < 0 ? ret : 0;
}

static int __init bsk_init(void)
{
	int ret;

	ret = bsk_policy_init(bsk_policy_param);
	if (ret)
		return ret;

	ret = bsk_dev_init();
	if (ret)
		return ret;

	ret = bsk_nl_init();
	if (ret)
		goto err_dev;

	usb_register_notify(&bsk_usb_nb);
	ret = usb_register(&bsk_usb_driver);
	if (ret)
		goto err_notify;

	ret = bsk_usart_ids_add();
	if (ret) {
		pr_err("bootshake: malformed usart_ids=\"%s\"\n", bsk_usart_ids);
		goto err_usb;
	}

	ret = bsk_takeover_init();
	if (ret)
		goto err_usb;
	return 0;

err_usb:
	usb_deregister(&bsk_usb_driver);
err_notify:
	usb_unregister_notify(&bsk_usb_nb);
	bsk_dev_drop_all();
	bsk_nl_exit();
	bsk_dev_exit();
	return ret;
err_dev:
	bsk_dev_exit();
	return ret;
}

static void __exit bsk_exit(void)
{
	bsk_takeover_exit();
	/* Runs disconnect for every bound device: each sends its remove. */
	usb_deregister(&bsk_usb_driver);
	usb_unregister_notify(&bsk_usb_nb);
	/* Ends released devices' reports; no device is left afterwards. */
	bsk_dev_drop_all();
	bsk_nl_exit();
	bsk_dev_exit();
}

module_init(bsk_init);
module_exit(bsk_exit);

MODULE_DESCRIPTION("Kernel-context handshake for USB boot-ROM download modes");
MODULE_AUTHOR("The bootshake developers");
MODULE_LICENSE("GPL");
MODULE_VERSION(BSK_MODULE_VERSION);
