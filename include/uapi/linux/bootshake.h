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
#define BOOTSHAKE_FAMILY_VERSION	2
#define BOOTSHAKE_MCGRP_MONITOR		"monitor"

/**
 * enum bootshake_kind - what a bound device is
 * @BOOTSHAKE_KIND_UNSPEC: not used
 * @BOOTSHAKE_KIND_MTK_BROM: MediaTek BootROM download mode ("mtk-brom")
 * @BOOTSHAKE_KIND_MTK_PRELOADER: MediaTek Preloader VCOM ("mtk-preloader")
 * @BOOTSHAKE_KIND_STM32_DFU: STM32 system bootloader, USB DFU ("stm32-dfu")
 * @BOOTSHAKE_KIND_STM32_USART: STM32 USART bootloader behind a CDC-ACM
 *	bridge ("stm32-usart")
 */
enum bootshake_kind {
	BOOTSHAKE_KIND_UNSPEC,
	BOOTSHAKE_KIND_MTK_BROM,
	BOOTSHAKE_KIND_MTK_PRELOADER,
	BOOTSHAKE_KIND_STM32_DFU,
	BOOTSHAKE_KIND_STM32_USART,

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
 * @BOOTSHAKE_STATE_WATCHING: claimed under policy "watch": no byte sent
 *	("watching"); BOOTSHAKE_CMD_RETRY starts the handshake
 * @BOOTSHAKE_STATE_RELEASED: given up to userspace with BOOTSHAKE_CMD_RELEASE,
 *	reported until it leaves the bus ("released")
 */
enum bootshake_state {
	BOOTSHAKE_STATE_UNSPEC,
	BOOTSHAKE_STATE_PROBED,
	BOOTSHAKE_STATE_SYNCING,
	BOOTSHAKE_STATE_IDENTIFYING,
	BOOTSHAKE_STATE_READY,
	BOOTSHAKE_STATE_FAILED,
	BOOTSHAKE_STATE_GONE,
	BOOTSHAKE_STATE_WATCHING,
	BOOTSHAKE_STATE_RELEASED,

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
 * @BOOTSHAKE_DEV_FLAG_IDENT_PARTIAL: the identity readout ended early (the
 *	device stopped answering); the fields it did not read are absent and
 *	the transcript names the step it ended before
 */
enum bootshake_dev_flags {
	BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED	= 1 << 0,
	BOOTSHAKE_DEV_FLAG_TAKEN_OVER		= 1 << 1,
	BOOTSHAKE_DEV_FLAG_IDENT_PARTIAL	= 1 << 2,
};

/**
 * enum bootshake_policy - what bootshake does with a new device of a kind
 * @BOOTSHAKE_POLICY_UNSPEC: not used
 * @BOOTSHAKE_POLICY_OFF: do not bind ("off")
 * @BOOTSHAKE_POLICY_WATCH: bind and report, send nothing ("watch")
 * @BOOTSHAKE_POLICY_AUTO: bind and handshake at once ("auto")
 */
enum bootshake_policy {
	BOOTSHAKE_POLICY_UNSPEC,
	BOOTSHAKE_POLICY_OFF,
	BOOTSHAKE_POLICY_WATCH,
	BOOTSHAKE_POLICY_AUTO,

	/* private: */
	__BOOTSHAKE_POLICY_MAX,
	BOOTSHAKE_POLICY_MAX = __BOOTSHAKE_POLICY_MAX - 1
};

/**
 * enum bootshake_watchdog - outcome of the MediaTek watchdog write
 * @BOOTSHAKE_WDT_UNSPEC: not attempted (yet)
 * @BOOTSHAKE_WDT_DISABLED: written and acknowledged ("disabled")
 * @BOOTSHAKE_WDT_SKIPPED: not written: preloader, unknown or 64-bit chip
 *	("skipped")
 * @BOOTSHAKE_WDT_REFUSED: the device answered with an error status
 *	("refused")
 * @BOOTSHAKE_WDT_TIMEOUT: the device did not answer ("timeout")
 */
enum bootshake_watchdog {
	BOOTSHAKE_WDT_UNSPEC,
	BOOTSHAKE_WDT_DISABLED,
	BOOTSHAKE_WDT_SKIPPED,
	BOOTSHAKE_WDT_REFUSED,
	BOOTSHAKE_WDT_TIMEOUT,
};

/**
 * enum bootshake_features - bits of %BOOTSHAKE_A_INFO_FEATURES
 * @BOOTSHAKE_FEAT_POLICY: policy get/set and arm
 * @BOOTSHAKE_FEAT_RETRY: retry
 * @BOOTSHAKE_FEAT_RELEASE: release
 * @BOOTSHAKE_FEAT_TRANSCRIPT: transcript get
 */
enum bootshake_features {
	BOOTSHAKE_FEAT_POLICY		= 1 << 0,
	BOOTSHAKE_FEAT_RETRY		= 1 << 1,
	BOOTSHAKE_FEAT_RELEASE		= 1 << 2,
	BOOTSHAKE_FEAT_TRANSCRIPT	= 1 << 3,
};

/**
 * enum bootshake_dir - direction of a transcript record
 * @BOOTSHAKE_DIR_OUT: host to device
 * @BOOTSHAKE_DIR_IN: device to host
 * @BOOTSHAKE_DIR_NOTE: a note of the driver's (data is ASCII text), e.g.
 *	"sync start", "reject 0xa1", "sync done"
 */
enum bootshake_dir {
	BOOTSHAKE_DIR_OUT,
	BOOTSHAKE_DIR_IN,
	BOOTSHAKE_DIR_NOTE,
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
	BOOTSHAKE_A_DEV_ERROR_CODE,	/* string, short reason code: "no-reply",
					 * "rejected", "timeout", "token",
					 * "stall", "usb-error", "dfu-error" ... */
	BOOTSHAKE_A_DEV_GARBAGE,	/* u32, noise bytes skipped during sync */
	BOOTSHAKE_A_DEV_STM32,		/* nest, BOOTSHAKE_A_STM32_* */
	BOOTSHAKE_A_DEV_EVENT_NS,	/* u64, notifications only: when the
					 * kernel sent it (CLOCK_REALTIME, ns) */

	/* private: */
	__BOOTSHAKE_A_DEV_MAX,
	BOOTSHAKE_A_DEV_MAX = __BOOTSHAKE_A_DEV_MAX - 1
};

/* MediaTek identity, nested in BOOTSHAKE_A_DEV_MTK. */
enum {
	BOOTSHAKE_A_MTK_UNSPEC,
	BOOTSHAKE_A_MTK_HW_CODE,	/* u32 (u16 on the wire), GET_HW_CODE */
	BOOTSHAKE_A_MTK_HW_STATUS,	/* u32, status word after hw_code */
	BOOTSHAKE_A_MTK_HW_SUBCODE,	/* u32, GET_HW_SW_VER */
	BOOTSHAKE_A_MTK_HW_VER,		/* u32, GET_HW_SW_VER */
	BOOTSHAKE_A_MTK_SW_VER,		/* u32, GET_HW_SW_VER */
	BOOTSHAKE_A_MTK_BL_VER,		/* u32, GET_BL_VER: 0xfe = BROM */
	BOOTSHAKE_A_MTK_BROM_VER,	/* u32, GET_VERSION (BROM only) */
	BOOTSHAKE_A_MTK_TARGET_CONFIG,	/* u32, GET_TARGET_CONFIG */
	BOOTSHAKE_A_MTK_ME_ID,		/* binary, 16 bytes, GET_ME_ID */
	BOOTSHAKE_A_MTK_SOC_ID,		/* binary, 32 bytes, GET_SOC_ID */
	BOOTSHAKE_A_MTK_PL_CAP0,	/* u32, GET_PL_CAP (preloader) */
	BOOTSHAKE_A_MTK_PL_CAP1,	/* u32 */
	BOOTSHAKE_A_MTK_CHIP,		/* string, chip name for hw_code */
	BOOTSHAKE_A_MTK_WATCHDOG,	/* u32, enum bootshake_watchdog */
	BOOTSHAKE_A_MTK_IS_BROM,	/* u8, 1 = BROM by protocol (GET_BL_VER) */

	/* private: */
	__BOOTSHAKE_A_MTK_MAX,
	BOOTSHAKE_A_MTK_MAX = __BOOTSHAKE_A_MTK_MAX - 1
};

/* STM32 identity, nested in BOOTSHAKE_A_DEV_STM32 (see stm32 kind files). */
enum {
	BOOTSHAKE_A_STM32_UNSPEC,
	BOOTSHAKE_A_STM32_DFU_STATE,	/* u32, DFU bState */
	BOOTSHAKE_A_STM32_DFU_STATUS,	/* u32, DFU bStatus */
	BOOTSHAKE_A_STM32_DFU_VERSION,	/* u32, bcdDFUVersion */
	BOOTSHAKE_A_STM32_TRANSFER_SIZE, /* u32, wTransferSize */
	BOOTSHAKE_A_STM32_ATTRIBUTES,	/* u32, bmAttributes */
	BOOTSHAKE_A_STM32_COMMANDS,	/* binary, DfuSe or USART command bytes */
	BOOTSHAKE_A_STM32_FAMILY,	/* string */
	BOOTSHAKE_A_STM32_FAMILY_CONFIDENCE, /* u32, percent */
	BOOTSHAKE_A_STM32_ALT,		/* nest, repeated, BOOTSHAKE_A_ALT_* */
	BOOTSHAKE_A_STM32_BL_VERSION,	/* u32, USART GET_VERSION */
	BOOTSHAKE_A_STM32_PID,		/* u32, USART GET_ID */
	BOOTSHAKE_A_STM32_BCD_DEVICE,	/* u32, USB bcdDevice: the ROM's DFU
					 * protocol version (0x2200 = V2.2) */

	/* private: */
	__BOOTSHAKE_A_STM32_MAX,
	BOOTSHAKE_A_STM32_MAX = __BOOTSHAKE_A_STM32_MAX - 1
};

/* One DFU alternate setting, nested in BOOTSHAKE_A_STM32_ALT. */
enum {
	BOOTSHAKE_A_ALT_UNSPEC,
	BOOTSHAKE_A_ALT_NUMBER,		/* u32 */
	BOOTSHAKE_A_ALT_NAME,		/* string, the memory layout string */
	BOOTSHAKE_A_ALT_REGION,		/* nest, repeated, BOOTSHAKE_A_REGION_* */
	BOOTSHAKE_A_ALT_MALFORMED,	/* flag: the layout string did not parse */

	/* private: */
	__BOOTSHAKE_A_ALT_MAX,
	BOOTSHAKE_A_ALT_MAX = __BOOTSHAKE_A_ALT_MAX - 1
};

enum {
	BOOTSHAKE_A_REGION_UNSPEC,
	BOOTSHAKE_A_REGION_ADDRESS,	/* u32 */
	BOOTSHAKE_A_REGION_COUNT,	/* u32 */
	BOOTSHAKE_A_REGION_SIZE,	/* u32, bytes */
	BOOTSHAKE_A_REGION_TYPE,	/* string, type letters, e.g. "g" */

	/* private: */
	__BOOTSHAKE_A_REGION_MAX,
	BOOTSHAKE_A_REGION_MAX = __BOOTSHAKE_A_REGION_MAX - 1
};

/* Policy of a kind (POLICY_GET/SET, ARM). */
enum {
	BOOTSHAKE_A_POLICY_UNSPEC,
	BOOTSHAKE_A_POLICY_KIND,	/* u32, enum bootshake_kind */
	BOOTSHAKE_A_POLICY_MODE,	/* u32, enum bootshake_policy */
	BOOTSHAKE_A_POLICY_ARM_COUNT,	/* u32, devices left to catch */
	BOOTSHAKE_A_POLICY_ARM_TIMEOUT_MS, /* u32, ARM: how long; GET: left */
	BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS, /* u32, one protocol step */
	BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS, /* u32, the whole sync */

	/* private: */
	__BOOTSHAKE_A_POLICY_MAX,
	BOOTSHAKE_A_POLICY_MAX = __BOOTSHAKE_A_POLICY_MAX - 1
};

/* One transcript record (TRANSCRIPT_GET dump, one message each). */
enum {
	BOOTSHAKE_A_TR_UNSPEC,
	BOOTSHAKE_A_TR_PAD,
	BOOTSHAKE_A_TR_DEV_ID,		/* u32, request: which device */
	BOOTSHAKE_A_TR_TIME_NS,		/* u64, ns since probe */
	BOOTSHAKE_A_TR_DIR,		/* u32, enum bootshake_dir */
	BOOTSHAKE_A_TR_DATA,		/* binary */
	BOOTSHAKE_A_TR_LOST,		/* u32, records lost to the ring's
					 * bound before this one */

	/* private: */
	__BOOTSHAKE_A_TR_MAX,
	BOOTSHAKE_A_TR_MAX = __BOOTSHAKE_A_TR_MAX - 1
};

/* INFO_GET reply. */
enum {
	BOOTSHAKE_A_INFO_UNSPEC,
	BOOTSHAKE_A_INFO_PAD,
	BOOTSHAKE_A_INFO_VERSION,	/* u32, BOOTSHAKE_FAMILY_VERSION */
	BOOTSHAKE_A_INFO_FEATURES,	/* u64, enum bootshake_features */
	BOOTSHAKE_A_INFO_KINDS,		/* u32, highest kind known */

	/* private: */
	__BOOTSHAKE_A_INFO_MAX,
	BOOTSHAKE_A_INFO_MAX = __BOOTSHAKE_A_INFO_MAX - 1
};

enum {
	BOOTSHAKE_CMD_UNSPEC,
	BOOTSHAKE_CMD_DEV_GET,		/* doit (by ID) and dump */
	BOOTSHAKE_CMD_DEV_ADD_NTF,	/* monitor: a device was bound */
	BOOTSHAKE_CMD_DEV_CHANGE_NTF,	/* monitor: a device changed state */
	BOOTSHAKE_CMD_DEV_DEL_NTF,	/* monitor: a device is gone */
	BOOTSHAKE_CMD_POLICY_GET,	/* doit (by kind) and dump */
	BOOTSHAKE_CMD_POLICY_SET,	/* CAP_NET_ADMIN: mode, deadlines */
	BOOTSHAKE_CMD_ARM,		/* CAP_NET_ADMIN: one-shot auto */
	BOOTSHAKE_CMD_RETRY,		/* CAP_NET_ADMIN: DEV_ID */
	BOOTSHAKE_CMD_RELEASE,		/* CAP_NET_ADMIN: DEV_ID */
	BOOTSHAKE_CMD_TRANSCRIPT_GET,	/* dump, TR_DEV_ID */
	BOOTSHAKE_CMD_INFO_GET,		/* doit: version and features */

	/* private: */
	__BOOTSHAKE_CMD_MAX,
	BOOTSHAKE_CMD_MAX = __BOOTSHAKE_CMD_MAX - 1
};

#endif /* _UAPI_LINUX_BOOTSHAKE_H */
