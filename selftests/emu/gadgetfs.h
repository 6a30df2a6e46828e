/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bsk-emu: the gadgetfs backend, for devices FunctionFS cannot play (the
 * STM32 DFU bootloader: a DFU functional descriptor and alternate
 * settings).  The personality owns ep0 entirely: it writes the whole
 * configuration descriptor and answers every control request but
 * SET_CONFIGURATION.  See gadgetfs.c for the 6.1 kernel traps it avoids.
 */
#ifndef BSK_EMU_GADGETFS_H
#define BSK_EMU_GADGETFS_H

#include "emu.h"

/*
 * setup() return value besides a length, 0 and -EPIPE (stall).  There is
 * no "leave it unanswered": gadgetfs accepts no event read until the
 * pending request was answered, and a host that gave up and sent the next
 * one would get this one's answer.
 */
#define EMU_GFS_UNPLUG		(-ENOTCONN)	/* unplug now and exit */

/* ep0 data stage limit of gadgetfs on 6.1 (RBUF_SIZE) */
#define EMU_GFS_EP0_MAX		256

/**
 * struct emu_gfs_ops - a gadgetfs personality
 * @descs: write the full-speed configuration descriptor (wTotalLength
 *	bytes, class descriptors included) followed by the 18-byte device
 *	descriptor into @buf; return the total length or -errno
 * @setup: answer a control request.  IN: fill @data (room for wLength, at
 *	most %EMU_GFS_EP0_MAX) and return the length, or -EPIPE to stall.
 *	OUT: @data holds the data stage (already read: gadgetfs completes
 *	it on the host before we see it, and it cannot be stalled), return
 *	0 to acknowledge or -EPIPE to stall (no data stage only).  Either
 *	may return %EMU_GFS_UNPLUG.
 * @connect: optional, on every GADGETFS_CONNECT (bus reset/enumeration)
 */
struct emu_gfs_ops {
	int (*descs)(struct emu_ctx *ctx, uint8_t *buf, size_t len);
	int (*setup)(struct emu_ctx *ctx, const struct usb_ctrlrequest *req,
		     uint8_t *data, size_t len);
	void (*connect)(struct emu_ctx *ctx);
};

/*
 * Run the device on @udc until a signal, stdin EOF or an unplug:
 * the body of a personality's run() (emu.h).  Returns 0 or -errno.
 */
int emu_gadgetfs_run(struct emu_ctx *ctx, const struct emu_gfs_ops *ops,
		     const char *udc, int sfd, bool watch_stdin);

#endif /* BSK_EMU_GADGETFS_H */
