// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake: find the CDC data interface of a CDC comm interface, for the
 * kinds that talk over a CDC-ACM-like pair of interfaces (MediaTek BROM and
 * preloader, USB-serial bridges in front of an STM32).
 */

#include <linux/usb.h>
#include <linux/usb/cdc.h>

#include "bootshake.h"

/*
 * The union descriptor names the data interface (bSlaveInterface0) of
 * the comm interface @intf, the way cdc-acm reads it: the functional
 * descriptors follow the interface descriptor, or on some devices its
 * first endpoint.  Return: that interface, or NULL (no union descriptor,
 * or one that names another comm interface or a missing data interface).
 */
static struct usb_interface *bsk_cdc_union_data(struct usb_device *udev,
						struct usb_interface *intf)
{
	struct usb_host_interface *alt = intf->cur_altsetting;
	struct usb_cdc_parsed_header hdr;
	u8 *buf = alt->extra;
	int buflen = alt->extralen;
	struct usb_cdc_union_desc *u;

	if (!buflen && alt->desc.bNumEndpoints && alt->endpoint[0].extralen) {
		buf = alt->endpoint[0].extra;
		buflen = alt->endpoint[0].extralen;
	}
	if (!buflen)
		return NULL;
	cdc_parse_cdc_header(&hdr, intf, buf, buflen);
	u = hdr.usb_cdc_union_desc;
	if (!u || u->bMasterInterface0 != alt->desc.bInterfaceNumber)
		return NULL;
	return usb_ifnum_to_if(udev, u->bSlaveInterface0);
}

/* The first interface of class CDC data in the active configuration. */
static struct usb_interface *bsk_cdc_class_data(struct usb_device *udev)
{
	struct usb_host_config *config = udev->actconfig;
	unsigned int i;

	for (i = 0; i < config->desc.bNumInterfaces; i++) {
		struct usb_interface *intf = config->interface[i];

		if (intf && intf->cur_altsetting->desc.bInterfaceClass ==
			    USB_CLASS_CDC_DATA)
			return intf;
	}
	return NULL;
}

/**
 * bsk_cdc_bind_data() - find the data interface and its bulk endpoints
 * @bdev: the device; @bdev->intf is the CDC comm interface
 *
 * The union descriptor first (cdc-acm's way); without one, the first
 * interface of class CDC data: interface numbers differ between MediaTek
 * BROM and preloader generations (mediatek.md 1.2), and neither the BROM
 * nor most bridges carry a union descriptor.  Runs in probe, no I/O.
 *
 * Return: 0 with @bdev->data, @bdev->in_ep and @bdev->out_ep set, or
 * -ENODEV (logged: no data interface, or no bulk endpoint pair on it);
 * @bdev is left as it was then.
 */
int bsk_cdc_bind_data(struct bsk_dev *bdev)
{
	struct usb_endpoint_descriptor *in, *out;
	struct usb_interface *data;

	data = bsk_cdc_union_data(bdev->udev, bdev->intf);
	if (!data)
		data = bsk_cdc_class_data(bdev->udev);
	if (!data) {
		dev_info(&bdev->intf->dev, "no CDC data interface\n");
		return -ENODEV;
	}
	if (usb_find_common_endpoints(data->cur_altsetting, &in, &out, NULL,
				      NULL)) {
		dev_info(&bdev->intf->dev,
			 "no bulk endpoint pair on data interface %u\n",
			 data->cur_altsetting->desc.bInterfaceNumber);
		return -ENODEV;
	}
	bdev->data = data;
	bdev->in_ep = in;
	bdev->out_ep = out;
	return 0;
}
