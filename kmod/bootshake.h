/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bootshake: claim USB boot-ROM download devices and handshake them in
 * kernel context.  Core definitions shared by the kmod/ files.
 */
#ifndef _BOOTSHAKE_H
#define _BOOTSHAKE_H

#include <linux/kref.h>
#include <linux/ktime.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/usb.h>
#include <linux/workqueue.h>
#include <linux/bootshake.h>

#include "pipe.h"

struct bsk_dev;
struct sk_buff;

/* MediaTek identity read after the sync (see kmod/mtk.c). */
struct bsk_mtk_ident {
	bool has_hw_code;
	u16 hw_code;
	u16 hw_status;
};

/**
 * struct bsk_status - the published, user-visible state of a device
 *
 * Written by the device's work item (and by probe/disconnect) under
 * &bsk_dev.lock; read as a whole copy by the netlink side, so that one
 * message never mixes two states.
 */
struct bsk_status {
	enum bootshake_state state;
	u32 flags;		/* enum bootshake_dev_flags */
	u32 attempts;
	int error;		/* positive errno once failed */
	u64 sync_us;		/* probe to end of sync, 0 = not synced */
	u64 ident_us;		/* probe to end of identity readout */
	char reason[128];
	union {
		struct bsk_mtk_ident mtk;
	};
};

/**
 * struct bsk_kind - one kind of device bootshake knows how to handshake
 * @name: user-visible name, e.g. "mtk-brom"
 * @id: the netlink enum value
 * @bind: locate the data interface and the endpoints; no I/O.  Runs in
 *	probe with the device locked; fills @bdev->data, in/out endpoints.
 * @handshake: the bounded handshake; runs from the device's work item and
 *	reports through bsk_dev_set_state().  Returns when done or gone.
 * @fill: add the kind's nested identity attributes to a device message
 *
 * Adding a kind is a new file with one of these plus its ID table lines
 * in kmod/main.c.
 */
struct bsk_kind {
	const char *name;
	enum bootshake_kind id;
	int (*bind)(struct bsk_dev *bdev);
	void (*handshake)(struct bsk_dev *bdev);
	int (*fill)(struct sk_buff *skb, const struct bsk_status *st);
};

/**
 * struct bsk_dev - one bound device
 * @kref: lifetime; see Documentation/design.rst "Lifetime"
 * @id: registry id, never reused while the module is loaded
 * @kind: what it is
 * @udev: the USB device (referenced)
 * @intf: the interface probe() was called for (the CDC comm interface)
 * @data: the claimed sibling carrying the bulk endpoints (may be @intf)
 * @in_ep: bulk IN endpoint descriptor, in @data
 * @out_ep: bulk OUT endpoint descriptor, in @data
 * @path: USB path, e.g. "1-1.2"
 * @probe_time: when probe() ran, the origin of sync_us
 * @work: runs the handshake
 * @pipe: the byte pipe over the bulk endpoints
 * @lock: protects @st
 * @st: published state
 */
struct bsk_dev {
	struct kref kref;
	u32 id;
	const struct bsk_kind *kind;
	struct usb_device *udev;
	struct usb_interface *intf;
	struct usb_interface *data;
	struct usb_endpoint_descriptor *in_ep;
	struct usb_endpoint_descriptor *out_ep;
	char path[32];
	ktime_t probe_time;
	struct work_struct work;
	struct bsk_pipe pipe;

	spinlock_t lock;		/* protects @st */
	struct bsk_status st;
};

/* kmod/main.c */
extern struct usb_driver bsk_usb_driver;
extern const struct usb_device_id bsk_ids[];

/* kmod/dev.c */
int bsk_dev_probe(struct usb_interface *intf, const struct bsk_kind *kind,
		  bool taken_over);
void bsk_dev_disconnect(struct usb_interface *intf);
void bsk_dev_set_state(struct bsk_dev *bdev, enum bootshake_state state);
void bsk_dev_fail(struct bsk_dev *bdev, int err, const char *fmt, ...)
	__printf(3, 4);
void bsk_dev_update(struct bsk_dev *bdev,
		    void (*fn)(struct bsk_status *st, const void *arg),
		    const void *arg);
u64 bsk_dev_elapsed_us(const struct bsk_dev *bdev);
struct bsk_dev *bsk_dev_get_by_id(u32 id);
void bsk_dev_put(struct bsk_dev *bdev);
void bsk_dev_snapshot(struct bsk_dev *bdev, struct bsk_status *st);
int bsk_devs_walk(unsigned long *cursor,
		  int (*fn)(struct bsk_dev *bdev, void *arg), void *arg);
int bsk_dev_init(void);
void bsk_dev_exit(void);

/* Tunables (module parameters, kmod/main.c), in milliseconds. */
extern unsigned int bsk_step_timeout_ms;
extern unsigned int bsk_sync_timeout_ms;

/* kmod/netlink.c */
int bsk_nl_init(void);
void bsk_nl_exit(void);
void bsk_nl_notify(struct bsk_dev *bdev, u8 cmd);

/* kmod/takeover.c */
extern bool bsk_takeover;
int bsk_takeover_init(void);
void bsk_takeover_exit(void);
bool bsk_takeover_pending(struct usb_interface *intf);

/* kmod/mtk.c */
extern const struct bsk_kind bsk_mtk_brom_kind;

#endif /* _BOOTSHAKE_H */
