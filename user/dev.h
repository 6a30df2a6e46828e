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

struct bs_dev {
	uint32_t	present;	/* 1 << BOOTSHAKE_A_DEV_* */
	uint32_t	mtk_present;	/* 1 << BOOTSHAKE_A_MTK_* */
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
	char		*reason;	/* malloc'ed, NULL if absent */
	uint32_t	flags;		/* enum bootshake_dev_flags */
	uint32_t	speed;		/* enum usb_device_speed */
	uint32_t	busnum;
	uint32_t	devnum;
	uint32_t	attempts;

	uint32_t	hw_code;
	uint32_t	hw_status;
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

#endif /* BOOTSHAKE_USER_DEV_H */
