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
};

/*
 * HW_CODE is documented as u32, but the comment mentions u16 on the wire;
 * take either width rather than drop the whole device.
 */
static const struct nla_policy mtk_policy[BOOTSHAKE_A_MTK_MAX + 1] = {
	[BOOTSHAKE_A_MTK_HW_CODE]	= { .type = NLA_U16, .maxlen = 4 },
	[BOOTSHAKE_A_MTK_HW_STATUS]	= { .type = NLA_U32, .maxlen = 4 },
};

static const char * const mtk_attr_names[] = {
	[BOOTSHAKE_A_MTK_HW_CODE]	= "hw-code",
	[BOOTSHAKE_A_MTK_HW_STATUS]	= "hw-status",
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
	default:
		return 0;
	}
}

/*
 * libnl only says "-NLE_RANGE"; walk the attributes again to name the
 * one that failed, so an ABI mismatch is obvious from the message.
 */
static void explain(const struct nlattr *head, int len,
		    const struct nla_policy *policy, int maxtype,
		    const char *nest, char *why, size_t whylen)
{
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
		name = nest ? (type < (int)(sizeof(mtk_attr_names) /
					     sizeof(mtk_attr_names[0])) &&
			       mtk_attr_names[type] ? mtk_attr_names[type] :
			       "unknown") : bs_nl_attr_name(type);
		want = policy_len(p);
		if (want > 0 && got != want) {
			snprintf(why, whylen,
				 "attribute %s%s%s (%d) has %d bytes, expected %d",
				 nest ? nest : "", nest ? "." : "", name, type,
				 got, want);
			return;
		}
		if (want < 0 && got != 2 && got != 4) {
			snprintf(why, whylen,
				 "attribute %s%s%s (%d) has %d bytes, expected 2 or 4",
				 nest ? nest : "", nest ? "." : "", name, type,
				 got);
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
	snprintf(why, whylen, "malformed attributes");
}

static int parse_mtk(struct bs_dev *dev, struct nlattr *nest,
		     char *why, size_t whylen)
{
	struct nlattr *tb[BOOTSHAKE_A_MTK_MAX + 1];
	struct nlattr *a;

	if (nla_parse_nested(tb, BOOTSHAKE_A_MTK_MAX, nest,
			     (struct nla_policy *)mtk_policy) < 0) {
		explain(nla_data(nest), nla_len(nest), mtk_policy,
			BOOTSHAKE_A_MTK_MAX, "mtk", why, whylen);
		return -EBADMSG;
	}

	a = tb[BOOTSHAKE_A_MTK_HW_CODE];
	if (a) {
		if (nla_len(a) == 2) {
			dev->hw_code = nla_get_u16(a);
		} else if (nla_len(a) == 4) {
			dev->hw_code = nla_get_u32(a);
		} else {
			explain(nla_data(nest), nla_len(nest), mtk_policy,
				BOOTSHAKE_A_MTK_MAX, "mtk", why, whylen);
			return -EBADMSG;
		}
		dev->mtk_present |= 1u << BOOTSHAKE_A_MTK_HW_CODE;
	}
	a = tb[BOOTSHAKE_A_MTK_HW_STATUS];
	if (a) {
		dev->hw_status = nla_get_u32(a);
		dev->mtk_present |= 1u << BOOTSHAKE_A_MTK_HW_STATUS;
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
		switch (i) {
		case BOOTSHAKE_A_DEV_ID:
			dev->id = nla_get_u32(a);
			break;
		case BOOTSHAKE_A_DEV_PATH:
			dev->path = strdup(nla_get_string(a));
			if (!dev->path)
				goto err_nomem;
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
		case BOOTSHAKE_A_DEV_REASON:
			dev->reason = strdup(nla_get_string(a));
			if (!dev->reason)
				goto err_nomem;
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
			if (ret) {
				bs_dev_clear(dev);
				return ret;
			}
			break;
		default:
			/* PAD and anything we have no use for */
			continue;
		}
		dev->present |= 1u << i;
	}
	return 0;

err_nomem:
	bs_dev_clear(dev);
	snprintf(why, whylen, "out of memory");
	return -ENOMEM;
}

void bs_dev_clear(struct bs_dev *dev)
{
	free(dev->path);
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
};

const char *bs_kind_name(uint32_t kind, char *buf, size_t len)
{
	return enum_name(kind_names, ARRAY_SIZE(kind_names), kind, buf, len);
}

static const char * const state_names[] = {
	[BOOTSHAKE_STATE_PROBED]	= "probed",
	[BOOTSHAKE_STATE_SYNCING]	= "syncing",
	[BOOTSHAKE_STATE_IDENTIFYING]	= "identifying",
	[BOOTSHAKE_STATE_READY]		= "ready",
	[BOOTSHAKE_STATE_FAILED]	= "failed",
	[BOOTSHAKE_STATE_GONE]		= "gone",
};

const char *bs_state_name(uint32_t state, char *buf, size_t len)
{
	return enum_name(state_names, ARRAY_SIZE(state_names), state,
			 buf, len);
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
