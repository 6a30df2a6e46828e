// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake: one table from a transfer's errno to the reason a failed
 * device reports (error code for scripts, words for people).
 */

#include <linux/errno.h>
#include <linux/kernel.h>

#include "bootshake.h"

/**
 * struct bsk_err_reason - how a failed transfer is reported
 * @err: the negative errno of the transfer
 * @code: short reason code (BOOTSHAKE_A_DEV_ERROR_CODE)
 * @text: what it means, for the reason
 * @report: errno to report instead of @err, 0 = @err
 */
struct bsk_err_reason {
	int err;
	const char *code;
	const char *text;
	int report;
};

static const struct bsk_err_reason bsk_err_reasons[] = {
	{ -EPIPE, "stall", "endpoint stalled" },
	{ -ETIMEDOUT, "timeout", "no reply" },
	{ -EMSGSIZE, "protocol", "short reply", -EPROTO },
	{ -ENOMEM, "nomem", "out of memory" },
};

/* Any other errno: the USB transfer failed. */
static const struct bsk_err_reason bsk_err_usb = { 0, "usb-error",
						   "USB error" };

static const struct bsk_err_reason *bsk_err_reason(int err)
{
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(bsk_err_reasons); i++) {
		if (bsk_err_reasons[i].err == err)
			return &bsk_err_reasons[i];
	}
	return &bsk_err_usb;
}

/**
 * bsk_dev_fail_err() - fail a device after a transfer error
 * @bdev: the device
 * @err: the negative errno (not -ENODEV: disconnect reports that)
 * @what: the step that failed, e.g. "the sync" or "GETSTATUS"
 *
 * The reason reads "@what: <meaning> (<errno>)".
 */
void bsk_dev_fail_err(struct bsk_dev *bdev, int err, const char *what)
{
	const struct bsk_err_reason *r = bsk_err_reason(err);

	bsk_dev_fail(bdev, r->report ?: err, r->code, "%s: %s (%d)", what,
		     r->text, err);
}
