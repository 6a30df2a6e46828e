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
#include <linux/wait.h>
#include <linux/workqueue.h>
#include <linux/bootshake.h>

#include "pipe.h"
#include "transcript.h"

struct bsk_dev;
struct sk_buff;

/* MediaTek identity read after the sync (see kmod/mtk.c). */
struct bsk_mtk_ident {
	bool has_hw_code;
	bool has_hw_sw_ver;
	bool has_bl_ver;
	bool has_brom_ver;
	bool has_target_config;
	bool has_me_id;
	bool has_soc_id;
	bool has_pl_cap;
	bool is_brom;
	u16 hw_code;
	u16 hw_status;
	u16 hw_subcode;
	u16 hw_ver;
	u16 sw_ver;
	u8 bl_ver;
	u8 brom_ver;
	u32 target_config;
	u32 pl_cap[2];
	u8 me_id[16];
	u8 soc_id[32];
	u8 watchdog;		/* enum bootshake_watchdog */
	const char *chip;	/* static string, or NULL */
};

/* --- STM32 (kmod/stm32_dfu.c, kmod/stm32_usart.c) --- */
#define BSK_STM32_MAX_CMDS	24

/**
 * struct bsk_stm32_status - STM32 scalars published with the state
 * @has_func: a DFU functional descriptor was found (DFU)
 * @has_status: @dfu_state and @dfu_status hold a GETSTATUS reply (DFU)
 * @has_bl_version: @bl_version was read (USART GET / GET_VERSION)
 * @has_pid: @pid was read (USART GET_ID)
 * @dfu_state: bState of the last GETSTATUS reply
 * @dfu_status: bStatus of the last GETSTATUS reply
 * @attributes: DFU bmAttributes
 * @transfer_size: DFU wTransferSize
 * @dfu_version: DFU bcdDFUVersion (0x0100 for a 7-byte DFU 1.0 descriptor)
 * @ncmds: bytes used in @cmds
 * @cmds: DfuSe command list (UPLOAD block 0) or USART GET command list
 * @bl_version: USART bootloader protocol version
 * @pid: USART GET_ID product ID
 * @family: inferred family, static string, or NULL
 * @family_confidence: how sure the inference is, percent
 *
 * Larger DFU data (alternate settings and their memory regions) hangs on
 * &bsk_dev.priv, see kmod/stm32_dfu.c.
 */
struct bsk_stm32_status {
	bool has_func;
	bool has_status;
	bool has_bl_version;
	bool has_pid;
	u8 dfu_state;
	u8 dfu_status;
	u8 attributes;
	u16 transfer_size;
	u16 dfu_version;
	u8 ncmds;
	u8 cmds[BSK_STM32_MAX_CMDS];
	u8 bl_version;
	u16 pid;
	const char *family;
	u8 family_confidence;
};

/* --- end STM32 --- */

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
	u32 garbage;		/* noise bytes skipped during the sync */
	const char *error_code;	/* short reason code, static string */
	char reason[128];
	union {
		struct bsk_mtk_ident mtk;
		struct bsk_stm32_status stm32;
	};
};

#define BSK_ENV_LEN	64

/* One "KEY=value" uevent variable. */
struct bsk_env_var {
	char s[BSK_ENV_LEN];
};

/**
 * struct bsk_kind - one kind of device bootshake knows how to handshake
 * @name: user-visible name, e.g. "mtk-brom"
 * @id: the netlink enum value
 * @bind: locate the data interface and the endpoints; no I/O.  Runs in
 *	probe with the device locked; fills @bdev->data, in/out endpoints.
 * @handshake: the bounded handshake; runs from the device's work item and
 *	reports through bsk_dev_update(), bsk_dev_synced() and
 *	bsk_dev_fail().  Returns when done or gone.
 * @fill: add the kind's nested identity attributes to a device message
 * @env: optional: write the key identity as "KEY=value" strings (at
 *	most @max) for uevents and sysfs; returns how many
 * @default_policy: enum bootshake_policy when nothing else is set
 * @uses_pipe: the kind talks over a bulk endpoint pair (struct bsk_pipe)
 * @fill_size: the most bytes @fill can add to a message, attribute headers
 *	included; netlink.c sizes device messages from it
 *
 * Adding a kind is a new file with one of these plus its ID table lines
 * in kmod/main.c.
 */
struct bsk_kind {
	const char *name;
	enum bootshake_kind id;
	int (*bind)(struct bsk_dev *bdev);
	void (*handshake)(struct bsk_dev *bdev);
	int (*fill)(struct sk_buff *skb, struct bsk_dev *bdev,
		    const struct bsk_status *st);
	int (*env)(const struct bsk_status *st, struct bsk_env_var *vars, int max);
	enum bootshake_policy default_policy;
	bool uses_pipe;
	size_t (*fill_size)(void);
};

/*
 * The longest static name a message carries (a chip or family name, a
 * reason code), with its NUL: what the message size is computed with.
 */
#define BSK_NAME_MAX	32

/**
 * struct bsk_policy - a kind's policy as netlink reads and writes it
 * @mode: enum bootshake_policy
 * @arm_count: devices still to catch
 * @arm_timeout_ms: arm: for how long; get: time left
 * @step_ms: deadline of one protocol step
 * @sync_ms: deadline of the whole sync
 */
struct bsk_policy {
	enum bootshake_policy mode;
	u32 arm_count;
	u32 arm_timeout_ms;
	u32 step_ms;
	u32 sync_ms;
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
 * @step_ms: deadline of one protocol step, fixed when a handshake starts
 * @sync_ms: deadline of the whole sync, fixed when a handshake starts
 * @ctl_lock: orders retry and release against disconnect
 * @gone: disconnect has started; nothing may be queued any more
 * @released: set once; disconnect then keeps the device reported
 * @paused: between quiesce and resume (reset, system sleep): no retry
 * @tr: the transcript
 * @priv: the kind's private data, freed with the device (kfree)
 * @pipe: the byte pipe over the bulk endpoints
 * @lock: protects @st
 * @st: published state
 * @wait: woken (wake_up_all()) by disconnect and release once they have
 *	set @gone or @released; a handshake's sleeps wait on it
 *
 * The rule of @gone and @released (one rule for both): each is set once,
 * never cleared, written only with @ctl_lock held and with WRITE_ONCE().
 * A reader that must be ordered against the other writer (release against
 * disconnect, queueing a handshake) holds @ctl_lock; any other reader
 * (a handshake's wait condition, a registry scan under bsk_devs_lock)
 * uses READ_ONCE() and tolerates seeing the flag late: the writer wakes
 * @wait after setting it.
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
	u32 step_ms;
	u32 sync_ms;
	struct mutex ctl_lock;		/* @gone, @released, queueing */
	bool gone;
	bool released;
	bool paused;			/* @ctl_lock */
	struct bsk_transcript *tr;
	void *priv;
	struct bsk_pipe pipe;

	spinlock_t lock;		/* protects @st */
	struct bsk_status st;
	wait_queue_head_t wait;		/* @gone, @released set */
};

/* kmod/main.c */
extern struct usb_driver bsk_usb_driver;
extern const struct usb_device_id bsk_ids[];
extern const struct bsk_kind *const bsk_kinds[BOOTSHAKE_KIND_MAX + 1];
const struct bsk_kind *bsk_kind_by_name(const char *name);

/* kmod/policy.c */
int bsk_policy_init(const char *param);
enum bootshake_policy bsk_policy_decide(const struct bsk_kind *kind);
void bsk_policy_deadlines(const struct bsk_kind *kind, u32 *step_ms,
			  u32 *sync_ms);
void bsk_policy_get(enum bootshake_kind kind, struct bsk_policy *out);
int bsk_policy_set(enum bootshake_kind kind, const struct bsk_policy *in);
void bsk_policy_arm(enum bootshake_kind kind, u32 count, u32 timeout_ms);
const char *bsk_policy_name(enum bootshake_policy mode);
int bsk_policy_set_deadline(bool sync, u32 ms);

/* kmod/dev.c */
int bsk_dev_probe(struct usb_interface *intf, const struct bsk_kind *kind,
		  bool taken_over);
void bsk_dev_disconnect(struct usb_interface *intf);
void bsk_dev_fail(struct bsk_dev *bdev, int err, const char *code,
		  const char *fmt, ...) __printf(4, 5);
int bsk_dev_retry(struct bsk_dev *bdev);
int bsk_dev_release(struct bsk_dev *bdev);
void bsk_dev_usb_removed(struct usb_device *udev);
void bsk_dev_update(struct bsk_dev *bdev,
		    void (*fn)(struct bsk_status *st, const void *arg),
		    const void *arg);
u64 bsk_dev_elapsed_us(const struct bsk_dev *bdev);
void bsk_dev_synced(struct bsk_dev *bdev, u32 attempts, u32 garbage,
		    bool already_synced);
void bsk_dev_sync_tries(struct bsk_dev *bdev, u32 attempts, u32 garbage);
struct bsk_dev *bsk_dev_get_by_id(u32 id);
struct bsk_dev *bsk_dev_get_by_intf(struct usb_interface *intf);
void bsk_dev_put(struct bsk_dev *bdev);
void bsk_dev_snapshot(struct bsk_dev *bdev, struct bsk_status *st);
int bsk_devs_walk(unsigned long *cursor, unsigned int *gen,
		  int (*fn)(struct bsk_dev *bdev, void *arg), void *arg);
int bsk_dev_init(void);
void bsk_dev_drop_all(void);
bool bsk_dev_udev_released(struct usb_device *udev);
int bsk_dev_quiesce(struct usb_interface *intf);
int bsk_dev_resume(struct usb_interface *intf);
void bsk_dev_exit(void);

/* Tunables (module parameters, kmod/main.c), in milliseconds. */
extern unsigned int bsk_step_timeout_ms;
extern unsigned int bsk_sync_timeout_ms;

/* kmod/uevent.c */
extern const struct attribute_group *bsk_dev_groups[];
const char *bsk_state_name(enum bootshake_state state);
void bsk_uevent_state(struct bsk_dev *bdev);

/* kmod/netlink.c */
int bsk_nl_init(void);
void bsk_nl_exit(void);
void bsk_nl_notify(struct bsk_dev *bdev, u8 cmd);

/* kmod/takeover.c */
extern bool bsk_takeover;
int bsk_takeover_init(void);
void bsk_takeover_exit(void);
void bsk_takeover_kick(void);
bool bsk_takeover_pending(struct usb_interface *intf);

/* kmod/mtk.c */
extern const struct bsk_kind bsk_mtk_brom_kind;
extern const struct bsk_kind bsk_mtk_preloader_kind;

/* kmod/stm32_dfu.c, kmod/stm32_usart.c */
extern const struct bsk_kind bsk_stm32_dfu_kind;
extern const struct bsk_kind bsk_stm32_usart_kind;
int bsk_stm32_env(const struct bsk_status *st, struct bsk_env_var *vars,
		  int max);

/**
 * bsk_dev_leaving() - have disconnect or release started?
 * @bdev: the device
 *
 * Lockless (READ_ONCE(), see struct bsk_dev): for wait conditions and to
 * stop talking to a device early.  Return: true once either flag is set.
 */
static inline bool bsk_dev_leaving(struct bsk_dev *bdev)
{
	return READ_ONCE(bdev->gone) || READ_ONCE(bdev->released);
}

/**
 * bsk_dev_sleep() - sleep that disconnect and release cut short
 * @bdev: the device
 * @timeout: how long, in jiffies
 *
 * Waits on &bsk_dev.wait, which disconnect and release wake after setting
 * their flag.  Process context (a handshake's work item).
 *
 * Return: 0 after @timeout, -ENODEV once the device is leaving.
 */
static inline int bsk_dev_sleep(struct bsk_dev *bdev, unsigned long timeout)
{
	wait_event_timeout(bdev->wait, bsk_dev_leaving(bdev), timeout);
	return bsk_dev_leaving(bdev) ? -ENODEV : 0;
}

/* kmod/cdc.c */
int bsk_cdc_bind_data(struct bsk_dev *bdev);

/* kmod/errcode.c */
void bsk_dev_fail_err(struct bsk_dev *bdev, int err, const char *what);

#endif /* _BOOTSHAKE_H */
