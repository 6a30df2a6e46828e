// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake CLI: device objects from netlink attributes, and names.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include <linux/bootshake.h>

#include "dev.h"
#include "nl.h"

/*
 * libnl checks minlen (implied by .type) and maxlen, so fixed-size
 * integers are pinned from both sides. Attributes above the max and
 * those without a policy entry pass unchecked and are ignored below.
 */
static const struct nla_policy dev_policy[BOOTSHAKE_A_DEV_MAX + 1] = {
	[BOOTSHAKE_A_DEV_ID]		= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_DEV_PATH]		= { .type = NLA_STRING },
	[BOOTSHAKE_A_DEV_VID]		= { .type = NLA_U16, .maxlen = 2 },
	[BOOTSHAKE_A_DEV_PID]		= { .type = NLA_U16, .maxlen = 2 },
	[BOOTSHAKE_A_DEV_KIND]		= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_DEV_STATE]		= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_DEV_SYNC_US]	= { .type = NLA_U64, .maxlen = 8 },
	[BOOTSHAKE_A_DEV_ERROR]		= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_DEV_REASON]	= { .type = NLA_STRING },
	[BOOTSHAKE_A_DEV_FLAGS]		= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_DEV_SPEED]		= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_DEV_BUSNUM]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_DEV_DEVNUM]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_DEV_MTK]		= { .type = NLA_NESTED },
	[BOOTSHAKE_A_DEV_ATTEMPTS]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_DEV_IDENT_US]	= { .type = NLA_U64, .maxlen = 8 },
	[BOOTSHAKE_A_DEV_ERROR_CODE]	= { .type = NLA_STRING },
	[BOOTSHAKE_A_DEV_GARBAGE]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_DEV_STM32]		= { .type = NLA_NESTED },
	[BOOTSHAKE_A_DEV_EVENT_NS]	= { .type = NLA_U64, .maxlen = 8 },
};

/*
 * HW_CODE is documented as u32, but the comment mentions u16 on the wire;
 * take either width rather than drop the whole device.
 */
static const struct nla_policy mtk_policy[BOOTSHAKE_A_MTK_MAX + 1] = {
	[BOOTSHAKE_A_MTK_HW_CODE]	= { .type = NLA_U16, .maxlen = 4 },
	[BOOTSHAKE_A_MTK_HW_STATUS]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_MTK_HW_SUBCODE]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_MTK_HW_VER]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_MTK_SW_VER]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_MTK_BL_VER]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_MTK_BROM_VER]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_MTK_TARGET_CONFIG]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_MTK_ME_ID]		= { .type = NLA_UNSPEC,
					    .maxlen = BS_ID_MAX },
	[BOOTSHAKE_A_MTK_SOC_ID]	= { .type = NLA_UNSPEC,
					    .maxlen = BS_ID_MAX },
	[BOOTSHAKE_A_MTK_PL_CAP0]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_MTK_PL_CAP1]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_MTK_CHIP]		= { .type = NLA_STRING },
	[BOOTSHAKE_A_MTK_WATCHDOG]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_MTK_IS_BROM]	= { .type = NLA_U8, .maxlen = 1 },
};

static const char * const mtk_attr_names[BOOTSHAKE_A_MTK_MAX + 1] = {
	[BOOTSHAKE_A_MTK_HW_CODE]	= "hw-code",
	[BOOTSHAKE_A_MTK_HW_STATUS]	= "hw-status",
	[BOOTSHAKE_A_MTK_HW_SUBCODE]	= "hw-subcode",
	[BOOTSHAKE_A_MTK_HW_VER]	= "hw-ver",
	[BOOTSHAKE_A_MTK_SW_VER]	= "sw-ver",
	[BOOTSHAKE_A_MTK_BL_VER]	= "bl-ver",
	[BOOTSHAKE_A_MTK_BROM_VER]	= "brom-ver",
	[BOOTSHAKE_A_MTK_TARGET_CONFIG]	= "target-config",
	[BOOTSHAKE_A_MTK_ME_ID]		= "me-id",
	[BOOTSHAKE_A_MTK_SOC_ID]	= "soc-id",
	[BOOTSHAKE_A_MTK_PL_CAP0]	= "pl-cap0",
	[BOOTSHAKE_A_MTK_PL_CAP1]	= "pl-cap1",
	[BOOTSHAKE_A_MTK_CHIP]		= "chip",
	[BOOTSHAKE_A_MTK_WATCHDOG]	= "watchdog",
	[BOOTSHAKE_A_MTK_IS_BROM]	= "is-brom",
};

static const struct nla_policy stm32_policy[BOOTSHAKE_A_STM32_MAX + 1] = {
	[BOOTSHAKE_A_STM32_DFU_STATE]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_STM32_DFU_STATUS]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_STM32_DFU_VERSION]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_STM32_TRANSFER_SIZE] = { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_STM32_ATTRIBUTES]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_STM32_COMMANDS]	= { .type = NLA_UNSPEC,
					    .maxlen = BS_CMDS_MAX },
	[BOOTSHAKE_A_STM32_FAMILY]	= { .type = NLA_STRING },
	[BOOTSHAKE_A_STM32_FAMILY_CONFIDENCE] = { .type = NLA_U32,
						  .maxlen = 4 },
	[BOOTSHAKE_A_STM32_ALT]		= { .type = NLA_NESTED },
	[BOOTSHAKE_A_STM32_BL_VERSION]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_STM32_PID]		= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_STM32_BCD_DEVICE]	= { .type = NLA_U32, .maxlen = 4 },
};

static const char * const stm32_attr_names[BOOTSHAKE_A_STM32_MAX + 1] = {
	[BOOTSHAKE_A_STM32_DFU_STATE]	= "dfu-state",
	[BOOTSHAKE_A_STM32_DFU_STATUS]	= "dfu-status",
	[BOOTSHAKE_A_STM32_DFU_VERSION]	= "dfu-version",
	[BOOTSHAKE_A_STM32_TRANSFER_SIZE] = "transfer-size",
	[BOOTSHAKE_A_STM32_ATTRIBUTES]	= "attributes",
	[BOOTSHAKE_A_STM32_COMMANDS]	= "commands",
	[BOOTSHAKE_A_STM32_FAMILY]	= "family",
	[BOOTSHAKE_A_STM32_FAMILY_CONFIDENCE] = "family-confidence",
	[BOOTSHAKE_A_STM32_ALT]		= "alt",
	[BOOTSHAKE_A_STM32_BL_VERSION]	= "bl-version",
	[BOOTSHAKE_A_STM32_PID]		= "pid",
	[BOOTSHAKE_A_STM32_BCD_DEVICE]	= "bcd-device",
};

static const struct nla_policy alt_policy[BOOTSHAKE_A_ALT_MAX + 1] = {
	[BOOTSHAKE_A_ALT_NUMBER]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_ALT_NAME]		= { .type = NLA_STRING },
	[BOOTSHAKE_A_ALT_REGION]	= { .type = NLA_NESTED },
	[BOOTSHAKE_A_ALT_MALFORMED]	= { .type = NLA_FLAG },
};

static const char * const alt_attr_names[BOOTSHAKE_A_ALT_MAX + 1] = {
	[BOOTSHAKE_A_ALT_NUMBER]	= "number",
	[BOOTSHAKE_A_ALT_NAME]		= "name",
	[BOOTSHAKE_A_ALT_REGION]	= "region",
	[BOOTSHAKE_A_ALT_MALFORMED]	= "malformed",
};

static const struct nla_policy region_policy[BOOTSHAKE_A_REGION_MAX + 1] = {
	[BOOTSHAKE_A_REGION_ADDRESS]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_REGION_COUNT]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_REGION_SIZE]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_REGION_TYPE]	= { .type = NLA_STRING },
};

static const char * const region_attr_names[BOOTSHAKE_A_REGION_MAX + 1] = {
	[BOOTSHAKE_A_REGION_ADDRESS]	= "address",
	[BOOTSHAKE_A_REGION_COUNT]	= "count",
	[BOOTSHAKE_A_REGION_SIZE]	= "size",
	[BOOTSHAKE_A_REGION_TYPE]	= "type",
};

/* A nest's policy and attribute names, for parsing and for messages. */
struct nest_desc {
	const char			*name;	/* "mtk", "stm32.alt" */
	const struct nla_policy		*policy;
	const char * const		*names;
	int				maxtype;
};

static const struct nest_desc mtk_desc = {
	"mtk", mtk_policy, mtk_attr_names, BOOTSHAKE_A_MTK_MAX,
};
static const struct nest_desc stm32_desc = {
	"stm32", stm32_policy, stm32_attr_names, BOOTSHAKE_A_STM32_MAX,
};
static const struct nest_desc alt_desc = {
	"stm32.alt", alt_policy, alt_attr_names, BOOTSHAKE_A_ALT_MAX,
};
static const struct nest_desc region_desc = {
	"stm32.alt.region", region_policy, region_attr_names,
	BOOTSHAKE_A_REGION_MAX,
};

/* Size an integer attribute must have; 0 for strings and nests. */
static int policy_len(const struct nla_policy *p)
{
	switch (p->type) {
	case NLA_U8:
		return 1;
	case NLA_U16:
		/* -1: 2 or 4 bytes (hw_code) */
		if (p->maxlen > 2)
			return -1;
		return 2;
	case NLA_U32:
		return 4;
	case NLA_U64:
		return 8;
	case NLA_FLAG:
		return -2;	/* exactly 0 */
	default:
		return 0;
	}
}

/*
 * libnl only says "-NLE_RANGE"; walk the attributes again to name the
 * one that failed, so an ABI mismatch is obvious from the message.
 * @d is NULL for the top level.
 */
static void explain(const struct nlattr *head, int len,
		    const struct nla_policy *policy, int maxtype,
		    const struct nest_desc *d, char *why, size_t whylen)
{
	const char *nest = d ? d->name : NULL;
	const struct nlattr *a;
	int rem;

	nla_for_each_attr(a, head, len, rem) {
		int type = nla_type(a);
		const struct nla_policy *p;
		const char *name;
		int want, got = nla_len(a);

		if (type > maxtype)
			continue;
		p = &policy[type];
		if (d)
			name = d->names[type] ? d->names[type] : "unknown";
		else
			name = bs_nl_attr_name(type);
		want = policy_len(p);
		if ((want > 0 && got != want) || (want == -2 && got != 0)) {
			snprintf(why, whylen,
				 "attribute %s%s%s (%d) has %d bytes, expected %d",
				 nest ? nest : "", nest ? "." : "", name, type,
				 got, want > 0 ? want : 0);
			return;
		}
		if (want == -1 && got != 2 && got != 4) {
			snprintf(why, whylen,
				 "attribute %s%s%s (%d) has %d bytes, expected 2 or 4",
				 nest ? nest : "", nest ? "." : "", name, type,
				 got);
			return;
		}
		if (p->type == NLA_UNSPEC && p->maxlen && got > p->maxlen) {
			snprintf(why, whylen,
				 "attribute %s%s%s (%d) has %d bytes, at most %d expected",
				 nest ? nest : "", nest ? "." : "", name, type,
				 got, p->maxlen);
			return;
		}
		if (p->type == NLA_STRING &&
		    (got < 1 || ((const char *)nla_data(a))[got - 1])) {
			snprintf(why, whylen,
				 "attribute %s%s%s (%d) is not a NUL-terminated string",
				 nest ? nest : "", nest ? "." : "", name, type);
			return;
		}
	}
	snprintf(why, whylen, "malformed attributes%s%s",
		 nest ? " in " : "", nest ? nest : "");
}

static int parse_nest(struct nlattr **tb, struct nlattr *nest,
		      const struct nest_desc *d, char *why, size_t whylen)
{
	if (nla_parse_nested(tb, d->maxtype, nest,
			     (struct nla_policy *)d->policy) < 0) {
		explain(nla_data(nest), nla_len(nest), d->policy, d->maxtype,
			d, why, whylen);
		return -EBADMSG;
	}
	return 0;
}

static int dup_str(char **dst, const struct nlattr *a, char *why,
		   size_t whylen)
{
	*dst = strdup(nla_get_string((struct nlattr *)a));
	if (*dst)
		return 0;
	snprintf(why, whylen, "out of memory");
	return -ENOMEM;
}

static void put_bytes(uint8_t *dst, size_t *dlen, size_t max,
		      const struct nlattr *a)
{
	size_t n = nla_len(a);

	if (n > max)
		n = max;	/* the policy already refused longer */
	memcpy(dst, nla_data(a), n);
	*dlen = n;
}

static int parse_mtk(struct bs_dev *dev, struct nlattr *nest,
		     char *why, size_t whylen)
{
	struct nlattr *tb[BOOTSHAKE_A_MTK_MAX + 1];
	struct bs_mtk *m = &dev->mtk;
	int i, ret;

	ret = parse_nest(tb, nest, &mtk_desc, why, whylen);
	if (ret)
		return ret;

	for (i = 1; i <= BOOTSHAKE_A_MTK_MAX; i++) {
		struct nlattr *a = tb[i];

		if (!a)
			continue;
		switch (i) {
		case BOOTSHAKE_A_MTK_HW_CODE:
			if (nla_len(a) == 2) {
				m->hw_code = nla_get_u16(a);
			} else if (nla_len(a) == 4) {
				m->hw_code = nla_get_u32(a);
			} else {
				explain(nla_data(nest), nla_len(nest),
					mtk_policy, BOOTSHAKE_A_MTK_MAX,
					&mtk_desc, why, whylen);
				return -EBADMSG;
			}
			break;
		case BOOTSHAKE_A_MTK_HW_STATUS:
			m->hw_status = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_MTK_HW_SUBCODE:
			m->hw_subcode = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_MTK_HW_VER:
			m->hw_ver = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_MTK_SW_VER:
			m->sw_ver = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_MTK_BL_VER:
			m->bl_ver = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_MTK_BROM_VER:
			m->brom_ver = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_MTK_TARGET_CONFIG:
			m->target_config = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_MTK_ME_ID:
			put_bytes(m->me_id, &m->me_id_len, BS_ID_MAX, a);
			break;
		case BOOTSHAKE_A_MTK_SOC_ID:
			put_bytes(m->soc_id, &m->soc_id_len, BS_ID_MAX, a);
			break;
		case BOOTSHAKE_A_MTK_PL_CAP0:
			m->pl_cap0 = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_MTK_PL_CAP1:
			m->pl_cap1 = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_MTK_CHIP:
			ret = dup_str(&m->chip, a, why, whylen);
			if (ret)
				return ret;
			break;
		case BOOTSHAKE_A_MTK_WATCHDOG:
			m->watchdog = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_MTK_IS_BROM:
			m->is_brom = nla_get_u8(a);
			break;
		default:
			continue;
		}
		dev->mtk_present |= 1u << i;
	}
	return 0;
}

static int parse_region(struct bs_region *r, struct nlattr *nest,
			char *why, size_t whylen)
{
	struct nlattr *tb[BOOTSHAKE_A_REGION_MAX + 1];
	int i, ret;

	ret = parse_nest(tb, nest, &region_desc, why, whylen);
	if (ret)
		return ret;
	for (i = 1; i <= BOOTSHAKE_A_REGION_MAX; i++) {
		struct nlattr *a = tb[i];

		if (!a)
			continue;
		switch (i) {
		case BOOTSHAKE_A_REGION_ADDRESS:
			r->address = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_REGION_COUNT:
			r->count = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_REGION_SIZE:
			r->size = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_REGION_TYPE:
			ret = dup_str(&r->type, a, why, whylen);
			if (ret)
				return ret;
			break;
		default:
			continue;
		}
		r->present |= 1u << i;
	}
	return 0;
}

/* Count the attributes of @type directly inside @nest. */
static size_t count_type(struct nlattr *nest, int type)
{
	struct nlattr *a;
	size_t n = 0;
	int rem;

	nla_for_each_nested(a, nest, rem)
		if (nla_type(a) == type)
			n++;
	return n;
}

static int parse_alt(struct bs_alt *alt, struct nlattr *nest,
		     char *why, size_t whylen)
{
	struct nlattr *tb[BOOTSHAKE_A_ALT_MAX + 1];
	struct nlattr *a;
	size_t n;
	int rem, ret;

	ret = parse_nest(tb, nest, &alt_desc, why, whylen);
	if (ret)
		return ret;
	if (tb[BOOTSHAKE_A_ALT_NUMBER]) {
		alt->number = nla_get_u32(tb[BOOTSHAKE_A_ALT_NUMBER]);
		alt->present |= 1u << BOOTSHAKE_A_ALT_NUMBER;
	}
	if (tb[BOOTSHAKE_A_ALT_NAME]) {
		ret = dup_str(&alt->name, tb[BOOTSHAKE_A_ALT_NAME], why,
			      whylen);
		if (ret)
			return ret;
		alt->present |= 1u << BOOTSHAKE_A_ALT_NAME;
	}
	if (tb[BOOTSHAKE_A_ALT_MALFORMED]) {
		alt->malformed = true;
		alt->present |= 1u << BOOTSHAKE_A_ALT_MALFORMED;
	}

	/* repeated: nla_parse kept only the last one */
	n = count_type(nest, BOOTSHAKE_A_ALT_REGION);
	if (!n)
		return 0;
	alt->regions = calloc(n, sizeof(*alt->regions));
	if (!alt->regions) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	nla_for_each_nested(a, nest, rem) {
		if (nla_type(a) != BOOTSHAKE_A_ALT_REGION)
			continue;
		ret = parse_region(&alt->regions[alt->nregions++], a, why,
				   whylen);
		if (ret)
			return ret;
	}
	alt->present |= 1u << BOOTSHAKE_A_ALT_REGION;
	return 0;
}

static int parse_stm32(struct bs_dev *dev, struct nlattr *nest,
		       char *why, size_t whylen)
{
	struct nlattr *tb[BOOTSHAKE_A_STM32_MAX + 1];
	struct bs_stm32 *s = &dev->stm32;
	struct nlattr *a;
	int i, rem, ret;
	size_t n;

	ret = parse_nest(tb, nest, &stm32_desc, why, whylen);
	if (ret)
		return ret;

	for (i = 1; i <= BOOTSHAKE_A_STM32_MAX; i++) {
		a = tb[i];
		if (!a)
			continue;
		switch (i) {
		case BOOTSHAKE_A_STM32_DFU_STATE:
			s->dfu_state = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_STM32_DFU_STATUS:
			s->dfu_status = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_STM32_DFU_VERSION:
			s->dfu_version = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_STM32_TRANSFER_SIZE:
			s->transfer_size = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_STM32_ATTRIBUTES:
			s->attributes = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_STM32_COMMANDS:
			put_bytes(s->commands, &s->ncommands, BS_CMDS_MAX, a);
			break;
		case BOOTSHAKE_A_STM32_FAMILY:
			ret = dup_str(&s->family, a, why, whylen);
			if (ret)
				return ret;
			break;
		case BOOTSHAKE_A_STM32_FAMILY_CONFIDENCE:
			s->family_confidence = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_STM32_BL_VERSION:
			s->bl_version = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_STM32_PID:
			s->pid = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_STM32_BCD_DEVICE:
			s->bcd_device = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_STM32_ALT:
			break;	/* below: repeated */
		default:
			continue;
		}
		dev->stm32_present |= 1u << i;
	}

	n = count_type(nest, BOOTSHAKE_A_STM32_ALT);
	if (!n)
		return 0;
	s->alts = calloc(n, sizeof(*s->alts));
	if (!s->alts) {
		snprintf(why, whylen, "out of memory");
		return -ENOMEM;
	}
	nla_for_each_nested(a, nest, rem) {
		if (nla_type(a) != BOOTSHAKE_A_STM32_ALT)
			continue;
		ret = parse_alt(&s->alts[s->nalts++], a, why, whylen);
		if (ret)
			return ret;
	}
	return 0;
}

int bs_dev_parse(const struct nlmsghdr *nlh, struct bs_dev *dev,
		 char *why, size_t whylen)
{
	struct nlattr *tb[BOOTSHAKE_A_DEV_MAX + 1];
	struct nlmsghdr *h = (struct nlmsghdr *)nlh;
	int i, ret;

	memset(dev, 0, sizeof(*dev));

	if (!genlmsg_valid_hdr(h, 0)) {
		snprintf(why, whylen, "message too short for a genl header");
		return -EBADMSG;
	}
	dev->cmd = ((struct genlmsghdr *)nlmsg_data(h))->cmd;

	ret = genlmsg_parse(h, 0, tb, BOOTSHAKE_A_DEV_MAX,
			    (struct nla_policy *)dev_policy);
	if (ret < 0) {
		explain(genlmsg_attrdata(nlmsg_data(h), 0),
			genlmsg_attrlen(nlmsg_data(h), 0), dev_policy,
			BOOTSHAKE_A_DEV_MAX, NULL, why, whylen);
		return -EBADMSG;
	}

	if (!tb[BOOTSHAKE_A_DEV_ID]) {
		snprintf(why, whylen, "missing attribute %s (%d)",
			 bs_nl_attr_name(BOOTSHAKE_A_DEV_ID),
			 BOOTSHAKE_A_DEV_ID);
		return -EBADMSG;
	}

	for (i = 0; i <= BOOTSHAKE_A_DEV_MAX; i++) {
		struct nlattr *a = tb[i];

		if (!a)
			continue;
		ret = 0;
		switch (i) {
		case BOOTSHAKE_A_DEV_ID:
			dev->id = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_DEV_PATH:
			ret = dup_str(&dev->path, a, why, whylen);
			break;
		case BOOTSHAKE_A_DEV_VID:
			dev->vid = nla_get_u16(a);
			break;
		case BOOTSHAKE_A_DEV_PID:
			dev->pid = nla_get_u16(a);
			break;
		case BOOTSHAKE_A_DEV_KIND:
			dev->kind = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_DEV_STATE:
			dev->state = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_DEV_SYNC_US:
			dev->sync_us = nla_get_u64(a);
			break;
		case BOOTSHAKE_A_DEV_IDENT_US:
			dev->ident_us = nla_get_u64(a);
			break;
		case BOOTSHAKE_A_DEV_ERROR:
			dev->error = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_DEV_ERROR_CODE:
			ret = dup_str(&dev->error_code, a, why, whylen);
			break;
		case BOOTSHAKE_A_DEV_REASON:
			ret = dup_str(&dev->reason, a, why, whylen);
			break;
		case BOOTSHAKE_A_DEV_GARBAGE:
			dev->garbage = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_DEV_EVENT_NS:
			dev->event_ns = nla_get_u64(a);
			break;
		case BOOTSHAKE_A_DEV_FLAGS:
			dev->flags = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_DEV_SPEED:
			dev->speed = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_DEV_BUSNUM:
			dev->busnum = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_DEV_DEVNUM:
			dev->devnum = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_DEV_ATTEMPTS:
			dev->attempts = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_DEV_MTK:
			ret = parse_mtk(dev, a, why, whylen);
			break;
		case BOOTSHAKE_A_DEV_STM32:
			ret = parse_stm32(dev, a, why, whylen);
			break;
		default:
			/* PAD and anything we have no use for */
			continue;
		}
		if (ret) {
			bs_dev_clear(dev);
			return ret;
		}
		dev->present |= 1u << i;
	}
	return 0;
}

void bs_dev_clear(struct bs_dev *dev)
{
	size_t i, j;

	for (i = 0; i < dev->stm32.nalts; i++) {
		struct bs_alt *alt = &dev->stm32.alts[i];

		for (j = 0; j < alt->nregions; j++)
			free(alt->regions[j].type);
		free(alt->regions);
		free(alt->name);
	}
	free(dev->stm32.alts);
	free(dev->stm32.family);
	free(dev->mtk.chip);
	free(dev->path);
	free(dev->error_code);
	free(dev->reason);
	memset(dev, 0, sizeof(*dev));
}

int bs_dev_list_add(struct bs_dev_list *list, struct bs_dev *dev)
{
	if (list->n == list->cap) {
		size_t cap = list->cap ? list->cap * 2 : 8;
		struct bs_dev *v = realloc(list->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		list->v = v;
		list->cap = cap;
	}
	list->v[list->n++] = *dev;
	memset(dev, 0, sizeof(*dev));
	return 0;
}

static int cmp_id(const void *a, const void *b)
{
	const struct bs_dev *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

void bs_dev_list_sort(struct bs_dev_list *list)
{
	if (list->n > 1)
		qsort(list->v, list->n, sizeof(*list->v), cmp_id);
}

void bs_dev_list_free(struct bs_dev_list *list)
{
	size_t i;

	for (i = 0; i < list->n; i++)
		bs_dev_clear(&list->v[i]);
	free(list->v);
	memset(list, 0, sizeof(*list));
}

static const char *enum_name(const char * const *names, size_t n,
			     uint32_t val, char *buf, size_t len)
{
	if (val < n && names[val])
		return names[val];
	snprintf(buf, len, "unknown-%u", val);
	return buf;
}

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

static const char * const kind_names[] = {
	[BOOTSHAKE_KIND_MTK_BROM]	= "mtk-brom",
	[BOOTSHAKE_KIND_MTK_PRELOADER]	= "mtk-preloader",
	[BOOTSHAKE_KIND_STM32_DFU]	= "stm32-dfu",
	[BOOTSHAKE_KIND_STM32_USART]	= "stm32-usart",
};

const char *bs_kind_name(uint32_t kind, char *buf, size_t len)
{
	return enum_name(kind_names, ARRAY_SIZE(kind_names), kind, buf, len);
}

static int enum_parse(const char * const *names, size_t n, const char *s)
{
	size_t i;

	for (i = 1; i < n; i++)
		if (names[i] && !strcmp(names[i], s))
			return i;
	return -1;
}

int bs_kind_parse(const char *name)
{
	return enum_parse(kind_names, ARRAY_SIZE(kind_names), name);
}

const char *bs_kind_names_list(void)
{
	static char buf[128];
	size_t i, n = 0;

	if (buf[0])
		return buf;
	for (i = 1; i < ARRAY_SIZE(kind_names); i++)
		n += snprintf(buf + n, sizeof(buf) - n, "%s%s",
			      n ? ", " : "", kind_names[i]);
	return buf;
}

static const char * const state_names[] = {
	[BOOTSHAKE_STATE_PROBED]	= "probed",
	[BOOTSHAKE_STATE_SYNCING]	= "syncing",
	[BOOTSHAKE_STATE_IDENTIFYING]	= "identifying",
	[BOOTSHAKE_STATE_READY]		= "ready",
	[BOOTSHAKE_STATE_FAILED]	= "failed",
	[BOOTSHAKE_STATE_GONE]		= "gone",
	[BOOTSHAKE_STATE_WATCHING]	= "watching",
	[BOOTSHAKE_STATE_RELEASED]	= "released",
};

const char *bs_state_name(uint32_t state, char *buf, size_t len)
{
	return enum_name(state_names, ARRAY_SIZE(state_names), state,
			 buf, len);
}

static const char * const policy_names[] = {
	[BOOTSHAKE_POLICY_OFF]		= "off",
	[BOOTSHAKE_POLICY_WATCH]	= "watch",
	[BOOTSHAKE_POLICY_AUTO]		= "auto",
};

const char *bs_policy_name(uint32_t policy, char *buf, size_t len)
{
	return enum_name(policy_names, ARRAY_SIZE(policy_names), policy,
			 buf, len);
}

int bs_policy_parse(const char *name)
{
	return enum_parse(policy_names, ARRAY_SIZE(policy_names), name);
}

static const char * const watchdog_names[] = {
	[BOOTSHAKE_WDT_DISABLED]	= "disabled",
	[BOOTSHAKE_WDT_SKIPPED]		= "skipped",
	[BOOTSHAKE_WDT_REFUSED]		= "refused",
	[BOOTSHAKE_WDT_TIMEOUT]		= "timeout",
};

const char *bs_watchdog_name(uint32_t wdt, char *buf, size_t len)
{
	return enum_name(watchdog_names, ARRAY_SIZE(watchdog_names), wdt,
			 buf, len);
}

/* DFU 1.1 section 6.1.2, the spellings dfu-util prints */
static const char * const dfu_state_names[] = {
	"appIDLE", "appDETACH", "dfuIDLE", "dfuDNLOAD-SYNC", "dfuDNBUSY",
	"dfuDNLOAD-IDLE", "dfuMANIFEST-SYNC", "dfuMANIFEST",
	"dfuMANIFEST-WAIT-RESET", "dfuUPLOAD-IDLE", "dfuERROR",
};

const char *bs_dfu_state_name(uint32_t state, char *buf, size_t len)
{
	return enum_name(dfu_state_names, ARRAY_SIZE(dfu_state_names), state,
			 buf, len);
}

static const char * const dfu_status_names[] = {
	"OK", "errTARGET", "errFILE", "errWRITE", "errERASE",
	"errCHECK_ERASED", "errPROG", "errVERIFY", "errADDRESS", "errNOTDONE",
	"errFIRMWARE", "errVENDOR", "errUSBR", "errPOR", "errUNKNOWN",
	"errSTALLEDPKT",
};

const char *bs_dfu_status_name(uint32_t status, char *buf, size_t len)
{
	return enum_name(dfu_status_names, ARRAY_SIZE(dfu_status_names),
			 status, buf, len);
}

char *bs_hex(const uint8_t *data, size_t len, char *buf, size_t buflen)
{
	static const char digits[] = "0123456789abcdef";
	size_t i;

	if (!buflen)
		return buf;
	for (i = 0; i < len && 2 * i + 2 < buflen; i++) {
		buf[2 * i] = digits[data[i] >> 4];
		buf[2 * i + 1] = digits[data[i] & 15];
	}
	buf[2 * i] = '\0';
	return buf;
}

/* enum usb_device_speed, include/uapi/linux/usb/ch9.h */
static const char * const speed_names[] = {
	"unknown", "low", "full", "high", "wireless", "super", "super-plus",
};

const char *bs_speed_name(uint32_t speed, char *buf, size_t len)
{
	return enum_name(speed_names, ARRAY_SIZE(speed_names), speed,
			 buf, len);
}

const char *bs_errno_name(int err, char *buf, size_t len)
{
	const char *name = NULL;

	if (err < 0)
		err = -err;
#if defined(__GLIBC__) && defined(__GLIBC_PREREQ)
#if __GLIBC_PREREQ(2, 32)
	name = strerrorname_np(err);
#endif
#endif
	if (name)
		return name;
	snprintf(buf, len, "unknown-%d", err);
	return buf;
}

/* --- requests ------------------------------------------------------- */

struct collect {
	struct bs_dev_list	*list;
	char			why[160];
};

static int collect_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct collect *c = arg;
	struct bs_dev dev;
	int ret;

	ret = bs_dev_parse(nlh, &dev, c->why, sizeof(c->why));
	if (ret)
		return ret;
	ret = bs_dev_list_add(c->list, &dev);
	if (ret) {
		bs_dev_clear(&dev);
		snprintf(c->why, sizeof(c->why), "out of memory");
	}
	return ret;
}

int bs_dev_dump(struct bs_nl *nl, struct bs_dev_list *list,
		char *why, size_t whylen)
{
	struct collect c = { .list = list };
	struct nl_msg *msg;
	int tries = 3, ret;

	/*
	 * A dump that raced with a change says so (NLM_F_DUMP_INTR): take
	 * it again, a few times, before settling for what we have.
	 */
	do {
		bs_dev_list_free(list);
		msg = bs_nl_msg(nl, BOOTSHAKE_CMD_DEV_GET, NLM_F_DUMP);
		if (!msg)
			return -ENOMEM;
		ret = bs_nl_request(nl, msg, collect_cb, &c);
	} while (!ret && nl->dump_intr && --tries);

	if (ret)
		snprintf(why, whylen, "%s", c.why);
	else
		bs_dev_list_sort(list);
	return ret;
}

int bs_dev_get(struct bs_nl *nl, uint32_t id, struct bs_dev *dev,
	       char *why, size_t whylen)
{
	struct bs_dev_list list = { 0 };
	struct collect c = { .list = &list };
	struct nl_msg *msg;
	int ret;

	memset(dev, 0, sizeof(*dev));
	msg = bs_nl_msg(nl, BOOTSHAKE_CMD_DEV_GET, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, BOOTSHAKE_A_DEV_ID, id) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = bs_nl_request(nl, msg, collect_cb, &c);
	if (ret) {
		snprintf(why, whylen, "%s", c.why);
	} else if (list.n != 1) {
		snprintf(why, whylen, "kernel sent %zu devices for one id",
			 list.n);
		ret = list.n ? -EBADMSG : -ENOENT;
	} else {
		*dev = list.v[0];
		list.n = 0;
	}
	bs_dev_list_free(&list);
	return ret;
}

bool bs_dev_parse_id(const char *s, uint32_t *id)
{
	unsigned long v;
	char *end;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return false;
	*id = v;
	return true;
}

/* A decimal number without sign or leading zero, at most @max; -1 if not. */
static long long dec_field(const char *s, size_t len, unsigned long max)
{
	unsigned long long v = 0;
	size_t i;

	if (!len || len > 10 || (s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v <= max ? (long long)v : -1;
}

int bs_dev_check_arg(const char *s, char *why, size_t whylen)
{
	const char *p, *dot;
	int ports = 0;

	if (*s && strspn(s, "0123456789") == strlen(s)) {
		uint32_t id;

		if (bs_dev_parse_id(s, &id) && id)
			return 0;
		snprintf(why, whylen,
			 "\"%s\" is not a device id (ids are 1..%u)", s,
			 UINT32_MAX);
		return -EINVAL;
	}
	p = strchr(s, '-');
	if (!p || dec_field(s, p - s, INT32_MAX) < 1)
		goto bad;
	for (p++;; p = dot + 1) {
		dot = strchr(p, '.');
		if (dec_field(p, dot ? (size_t)(dot - p) : strlen(p), 255) < 1 ||
		    ++ports > BS_USB_PATH_PORTS)
			goto bad;
		if (!dot)
			return 0;
	}
bad:
	snprintf(why, whylen,
		 "\"%s\" is neither a device id (1..%u) nor a USB path such as 1-1.2",
		 s, UINT32_MAX);
	return -EINVAL;
}
