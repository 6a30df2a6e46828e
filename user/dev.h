/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bootshake CLI: the device object as the kernel reports it.
 */
#ifndef BOOTSHAKE_USER_DEV_H
#define BOOTSHAKE_USER_DEV_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

/* Bits of bs_dev.present: which attributes the message carried. */
#define BS_DEV_HAS(dev, attr)	(!!((dev)->present & (1u << (attr))))

/* Bits of bs_dev.mtk_present. */
#define BS_MTK_HAS(dev, attr)	(!!((dev)->mtk_present & (1u << (attr))))

/* Bits of bs_dev.stm32_present. */
#define BS_STM32_HAS(dev, attr)	(!!((dev)->stm32_present & (1u << (attr))))

/* Longest binary identity field kept (ME_ID is 16, SOC_ID 32 bytes). */
#define BS_ID_MAX	64
/* Longest DfuSe / USART command list kept. */
#define BS_CMDS_MAX	64

/* One memory region of a DFU alternate setting. */
struct bs_region {
	uint32_t	present;	/* 1 << BOOTSHAKE_A_REGION_* */
	uint32_t	address;
	uint32_t	count;
	uint32_t	size;
	char		*type;		/* malloc'ed, NULL if absent */
};

/* One DFU alternate setting (BOOTSHAKE_A_STM32_ALT). */
struct bs_alt {
	uint32_t	present;	/* 1 << BOOTSHAKE_A_ALT_* */
	uint32_t	number;
	char		*name;		/* malloc'ed, NULL if absent */
	bool		malformed;
	struct bs_region *regions;	/* malloc'ed array */
	size_t		nregions;
};

/* MediaTek identity (BOOTSHAKE_A_DEV_MTK). */
struct bs_mtk {
	uint32_t	hw_code;
	uint32_t	hw_status;
	uint32_t	hw_subcode;
	uint32_t	hw_ver;
	uint32_t	sw_ver;
	uint32_t	bl_ver;
	uint32_t	brom_ver;
	uint32_t	target_config;
	uint32_t	pl_cap0;
	uint32_t	pl_cap1;
	uint32_t	watchdog;	/* enum bootshake_watchdog */
	bool		is_brom;
	uint8_t		me_id[BS_ID_MAX];
	size_t		me_id_len;
	uint8_t		soc_id[BS_ID_MAX];
	size_t		soc_id_len;
	char		*chip;		/* malloc'ed, NULL if absent */
};

/* STM32 identity (BOOTSHAKE_A_DEV_STM32), DFU and USART. */
struct bs_stm32 {
	uint32_t	dfu_state;
	uint32_t	dfu_status;
	uint32_t	dfu_version;	/* bcdDFUVersion, 0x011a = DfuSe */
	uint32_t	transfer_size;
	uint32_t	attributes;
	uint8_t		commands[BS_CMDS_MAX];
	size_t		ncommands;
	char		*family;	/* malloc'ed, NULL if absent */
	uint32_t	family_confidence;	/* percent */
	uint32_t	bl_version;
	uint32_t	pid;
	uint32_t	bcd_device;	/* DFU ROM: its DFU protocol version */
	struct bs_alt	*alts;		/* malloc'ed array */
	size_t		nalts;
};

struct bs_dev {
	uint32_t	present;	/* 1 << BOOTSHAKE_A_DEV_* */
	uint32_t	mtk_present;	/* 1 << BOOTSHAKE_A_MTK_* */
	uint32_t	stm32_present;	/* 1 << BOOTSHAKE_A_STM32_* */
	uint8_t		cmd;		/* genl cmd of the message */

	uint32_t	id;
	char		*path;		/* malloc'ed, NULL if absent */
	uint16_t	vid;
	uint16_t	pid;
	uint32_t	kind;		/* enum bootshake_kind */
	uint32_t	state;		/* enum bootshake_state */
	uint64_t	sync_us;
	uint64_t	ident_us;
	uint32_t	error;		/* positive errno */
	char		*error_code;	/* malloc'ed short code, e.g. "no-reply" */
	char		*reason;	/* malloc'ed, NULL if absent */
	uint32_t	garbage;	/* noise bytes skipped during the sync */
	uint32_t	flags;		/* enum bootshake_dev_flags */
	uint32_t	speed;		/* enum usb_device_speed */
	uint32_t	busnum;
	uint32_t	devnum;
	uint32_t	attempts;
	uint64_t	event_ns;	/* notification's kernel send time */

	struct bs_mtk	mtk;
	struct bs_stm32	stm32;
};

struct bs_dev_list {
	struct bs_dev	*v;
	size_t		n;
	size_t		cap;
};

/*
 * Parse a GET reply or notification. Unknown attributes are ignored,
 * wrong-sized ones make the whole message invalid (-EBADMSG) and @why
 * says which. BOOTSHAKE_A_DEV_ID is required. On error @dev is left
 * cleared (nothing to free).
 */
int bs_dev_parse(const struct nlmsghdr *nlh, struct bs_dev *dev,
		 char *why, size_t whylen);
void bs_dev_clear(struct bs_dev *dev);

/* Moves @dev into the list (the list owns its strings afterwards). */
int bs_dev_list_add(struct bs_dev_list *list, struct bs_dev *dev);
void bs_dev_list_sort(struct bs_dev_list *list);
void bs_dev_list_free(struct bs_dev_list *list);

/* Names; unknown values render as "unknown-N" in @buf. */
const char *bs_kind_name(uint32_t kind, char *buf, size_t len);
const char *bs_state_name(uint32_t state, char *buf, size_t len);
const char *bs_speed_name(uint32_t speed, char *buf, size_t len);
/* "ETIMEDOUT" etc. for a positive errno; "E<n>" when unknown */
const char *bs_errno_name(int err, char *buf, size_t len);
const char *bs_policy_name(uint32_t policy, char *buf, size_t len);
const char *bs_watchdog_name(uint32_t wdt, char *buf, size_t len);
/* DFU 1.1 names: "dfuIDLE", "errVENDOR" */
const char *bs_dfu_state_name(uint32_t state, char *buf, size_t len);
const char *bs_dfu_status_name(uint32_t status, char *buf, size_t len);

/* Name to value; -1 if unknown. */
int bs_kind_parse(const char *name);
int bs_policy_parse(const char *name);
/* Every kind name the helper knows, in enum order, for messages. */
const char *bs_kind_names_list(void);

/* Lower-case hex of @len bytes, no separators, into @buf (2 * len + 1). */
char *bs_hex(const uint8_t *data, size_t len, char *buf, size_t buflen);

#define BS_NAME_LEN	24

struct bs_nl;

/*
 * All devices, sorted by id. On a failure reply the kernel's words are in
 * nl->ext; on a malformed reply @why explains (err -EBADMSG).
 */
int bs_dev_dump(struct bs_nl *nl, struct bs_dev_list *list,
		char *why, size_t whylen);
/* One device by id; -ENOENT/-ENODEV (from the kernel) if there is none. */
int bs_dev_get(struct bs_nl *nl, uint32_t id, struct bs_dev *dev,
	       char *why, size_t whylen);

/* A DEV argument of only digits is an id; anything else a USB path. */
bool bs_dev_parse_id(const char *s, uint32_t *id);

/* Most ports in a USB path: a root port and six tiers of hubs. */
#define BS_USB_PATH_PORTS	7

/*
 * Check a DEV argument before any request is sent: an id 1..4294967295,
 * or a USB path "BUS-PORT[.PORT]..." (no leading zeros, BUS >= 1, each
 * PORT 1..255, at most BS_USB_PATH_PORTS of them).  0 if it is one of
 * them, else -EINVAL with @why saying what is wrong with it.
 */
int bs_dev_check_arg(const char *s, char *why, size_t whylen);

#endif /* BOOTSHAKE_USER_DEV_H */
