/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bootshake CLI: a kind's policy (POLICY_GET/SET, ARM).
 */
#ifndef BOOTSHAKE_USER_POLICY_H
#define BOOTSHAKE_USER_POLICY_H

#include <stddef.h>
#include <stdint.h>
#include <linux/netlink.h>

/*
 * The module's limits (kmod/netlink.c, its attribute policies), checked
 * by the helper before netlink is opened so that a typo is a usage error;
 * the module checks them again (and that a step fits in the sync).
 */
#define BS_DEADLINE_MS_MIN	1u		/* step and sync timeouts */
#define BS_DEADLINE_MS_MAX	600000u		/* 10 minutes */
#define BS_ARM_COUNT_MAX	64u		/* 0 disarms */
#define BS_ARM_TIMEOUT_MS_MIN	1u
#define BS_ARM_TIMEOUT_MS_MAX	3600000u	/* 1 hour */

/* Bits of bs_policy.present. */
#define BS_POL_HAS(p, attr)	(!!((p)->present & (1u << (attr))))

struct bs_policy {
	uint32_t	present;	/* 1 << BOOTSHAKE_A_POLICY_* */
	uint32_t	kind;		/* enum bootshake_kind */
	uint32_t	mode;		/* enum bootshake_policy */
	uint32_t	arm_count;	/* devices still to catch */
	uint32_t	arm_timeout_ms;	/* GET: time left */
	uint32_t	step_ms;
	uint32_t	sync_ms;
};

struct bs_nl;

/* Parse a POLICY_GET reply; BOOTSHAKE_A_POLICY_KIND is required. */
int bs_policy_parse_msg(const struct nlmsghdr *nlh, struct bs_policy *pol,
			char *why, size_t whylen);
/* Every kind's policy, sorted by kind; free(*v) afterwards. */
int bs_policy_dump(struct bs_nl *nl, struct bs_policy **v, size_t *n,
		   char *why, size_t whylen);
int bs_policy_get(struct bs_nl *nl, uint32_t kind, struct bs_policy *pol,
		  char *why, size_t whylen);

#endif /* BOOTSHAKE_USER_POLICY_H */
