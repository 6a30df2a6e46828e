/* SPDX-License-Identifier: ((GPL-2.0 WITH Linux-syscall-note) OR BSD-3-Clause) */
/*
 * bootshake: USB boot-ROM handshake driver, generic netlink ABI.
 *
 * Documentation/netlink/specs/bootshake.yaml is the source of truth for
 * this file; keep both in step.
 */
#ifndef _UAPI_LINUX_BOOTSHAKE_H
#define _UAPI_LINUX_BOOTSHAKE_H

#define BOOTSHAKE_FAMILY_NAME		"bootshake"
#define BOOTSHAKE_FAMILY_VERSION	1
#define BOOTSHAKE_MCGRP_MONITOR		"monitor"

/**
 * enum bootshake_kind - what a bound device is
 * @BOOTSHAKE_KIND_UNSPEC: not used
 * @BOOTSHAKE_KIND_MTK_BROM: MediaTek BootROM download mode ("mtk-brom")
 */
enum bootshake_kind {
	BOOTSHAKE_KIND_UNSPEC,
	BOOTSHAKE_KIND_MTK_BROM,

	/* private: */
	__BOOTSHAKE_KIND_MAX,
	BOOTSHAKE_KIND_MAX = __BOOTSHAKE_KIND_MAX - 1
};

/**
 * enum bootshake_state - where a device is in its life
 * @BOOTSHAKE_STATE_UNSPEC: not used
 * @BOOTSHAKE_STATE_PROBED: bound, handshake not started yet ("probed")
 * @BOOTSHAKE_STATE_SYNCING: start handshake in progress ("syncing")
 * @BOOTSHAKE_STATE_IDENTIFYING: synced, reading the identity ("identifying")
 * @BOOTSHAKE_STATE_READY: synced and identified, waiting for a tool ("ready")
 * @BOOTSHAKE_STATE_FAILED: handshake gave up, see error and reason ("failed")
 * @BOOTSHAKE_STATE_GONE: unbound or unplugged; only in remove events ("gone")
 */
enum bootshake_state {
	BOOTSHAKE_STATE_UNSPEC,
	BOOTSHAKE_STATE_PROBED,
	BOOTSHAKE_STATE_SYNCING,
	BOOTSHAKE_STATE_IDENTIFYING,
	BOOTSHAKE_STATE_READY,
	BOOTSHAKE_STATE_FAILED,
	BOOTSHAKE_STATE_GONE,

	/* private: */
	__BOOTSHAKE_STATE_MAX,
	BOOTSHAKE_STATE_MAX = __BOOTSHAKE_STATE_MAX - 1
};

/**
 * enum bootshake_dev_flags - bits of %BOOTSHAKE_A_DEV_FLAGS
 * @BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED: the device echoed the sync bytes: it
 *	was already in its command loop when bootshake found it
 * @BOOTSHAKE_DEV_FLAG_TAKEN_OVER: bootshake took the interfaces away from
 *	another driver (cdc_acm, option) that had bound them first
 */
enum bootshake_dev_flags {
	BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED	= 1 << 0,
	BOOTSHAKE_DEV_FLAG_TAKEN_OVER		= 1 << 1,
};

/* Attributes of a device object (GET reply and every notification). */
enum {
	BOOTSHAKE_A_DEV_UNSPEC,
	BOOTSHAKE_A_DEV_PAD,
	BOOTSHAKE_A_DEV_ID,		/* u32, never reused while loaded */
	BOOTSHAKE_A_DEV_PATH,		/* string, USB path, e.g. "1-1.2" */
	BOOTSHAKE_A_DEV_VID,		/* u16 */
	BOOTSHAKE_A_DEV_PID,		/* u16 */
	BOOTSHAKE_A_DEV_KIND,		/* u32, enum bootshake_kind */
	BOOTSHAKE_A_DEV_STATE,		/* u32, enum bootshake_state */
	BOOTSHAKE_A_DEV_SYNC_US,	/* u64, probe to end of sync */
	BOOTSHAKE_A_DEV_ERROR,		/* u32, positive errno when failed */
	BOOTSHAKE_A_DEV_REASON,		/* string, why it failed, for humans */
	BOOTSHAKE_A_DEV_FLAGS,		/* u32, enum bootshake_dev_flags */
	BOOTSHAKE_A_DEV_SPEED,		/* u32, enum usb_device_speed */
	BOOTSHAKE_A_DEV_BUSNUM,		/* u32 */
	BOOTSHAKE_A_DEV_DEVNUM,		/* u32 */
	BOOTSHAKE_A_DEV_MTK,		/* nest, BOOTSHAKE_A_MTK_* */
	BOOTSHAKE_A_DEV_ATTEMPTS,	/* u32, sync attempts made */
	BOOTSHAKE_A_DEV_IDENT_US,	/* u64, probe to end of identity */

	/* private: */
	__BOOTSHAKE_A_DEV_MAX,
	BOOTSHAKE_A_DEV_MAX = __BOOTSHAKE_A_DEV_MAX - 1
};

/* MediaTek identity, nested in BOOTSHAKE_A_DEV_MTK. */
enum {
	BOOTSHAKE_A_MTK_UNSPEC,
	BOOTSHAKE_A_MTK_HW_CODE,	/* u32 (u16 on the wire), GET_HW_CODE */
	BOOTSHAKE_A_MTK_HW_STATUS,	/* u32, status word after hw_code */

	/* private: */
	__BOOTSHAKE_A_MTK_MAX,
	BOOTSHAKE_A_MTK_MAX = __BOOTSHAKE_A_MTK_MAX - 1
};

enum {
	BOOTSHAKE_CMD_UNSPEC,
	BOOTSHAKE_CMD_DEV_GET,		/* doit (by ID) and dump */
	BOOTSHAKE_CMD_DEV_ADD_NTF,	/* monitor: a device was bound */
	BOOTSHAKE_CMD_DEV_CHANGE_NTF,	/* monitor: a device changed state */
	BOOTSHAKE_CMD_DEV_DEL_NTF,	/* monitor: a device is gone */

	/* private: */
	__BOOTSHAKE_CMD_MAX,
	BOOTSHAKE_CMD_MAX = __BOOTSHAKE_CMD_MAX - 1
};

#endif /* _UAPI_LINUX_BOOTSHAKE_H */
