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
#include <linux/usb.h>
#include <linux/usb/cdc.h>

#include "bootshake.h"

unsigned int bsk_step_timeout_ms = 100;
module_param_named(step_timeout_ms, bsk_step_timeout_ms, uint, 0644);
MODULE_PARM_DESC(step_timeout_ms,
		 "Deadline of one protocol step (a byte and its reply), ms (default 100)");

unsigned int bsk_sync_timeout_ms = 3000;
module_param_named(sync_timeout_ms, bsk_sync_timeout_ms, uint, 0644);
MODULE_PARM_DESC(sync_timeout_ms,
		 "Deadline of the whole sync including retries, ms (default 3000)");

module_param_named(takeover, bsk_takeover, bool, 0644);
MODULE_PARM_DESC(takeover,
		 "Take matching devices away from cdc_acm/option (default on)");

#define BSK_MTK_COMM(vid, pid, kind)					\
	USB_DEVICE_INTERFACE_CLASS(vid, pid, USB_CLASS_COMM),		\
	.driver_info = (kernel_ulong_t)&(kind)

/*
 * Probe runs for the CDC comm interface only; the data interface is found
 * by class and claimed from there.  IDs: ../shared/protocols/mediatek.md
 * section 1.1 (mtkclient's usb_ids.py, MediaTek preloader sources).
 */
const struct usb_device_id bsk_ids[] = {
	{ BSK_MTK_COMM(0x0e8d, 0x0003, bsk_mtk_brom_kind) },	/* MTK BROM */
	{ }
};
MODULE_DEVICE_TABLE(usb, bsk_ids);

static int bsk_probe(struct usb_interface *intf,
		     const struct usb_device_id *id)
{
	const struct bsk_kind *kind = (const struct bsk_kind *)id->driver_info;

	return bsk_dev_probe(intf, kind, bsk_takeover_pending(intf));
}

static void bsk_disconnect(struct usb_interface *intf)
{
	bsk_dev_disconnect(intf);
}

struct usb_driver bsk_usb_driver = {
	.name = "bootshake",
	.probe = bsk_probe,
	.disconnect = bsk_disconnect,
	.id_table = bsk_ids,
	.disable_hub_initiated_lpm = 1,
};

static int __init bsk_init(void)
{
	int ret;

	ret = bsk_dev_init();
	if (ret)
		return ret;

	ret = bsk_nl_init();
	if (ret)
		goto err_dev;

	ret = usb_register(&bsk_usb_driver);
	if (ret)
		goto err_nl;

	ret = bsk_takeover_init();
	if (ret)
		goto err_usb;
	return 0;

err_usb:
	usb_deregister(&bsk_usb_driver);
err_nl:
	bsk_nl_exit();
err_dev:
	bsk_dev_exit();
	return ret;
}

static void __exit bsk_exit(void)
{
	bsk_takeover_exit();
	/* Runs disconnect for every bound device: each sends its remove. */
	usb_deregister(&bsk_usb_driver);
	bsk_nl_exit();
	bsk_dev_exit();
}

module_init(bsk_init);
module_exit(bsk_exit);

MODULE_DESCRIPTION("Kernel-context handshake for USB boot-ROM download modes");
MODULE_AUTHOR("The bootshake developers");
MODULE_LICENSE("GPL");
