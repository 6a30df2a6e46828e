// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake: the "bootshake" generic netlink family.
 *
 * Documentation/netlink/specs/bootshake.yaml describes it.  Reads are open
 * to every user: a device's VID:PID, path and boot ROM identity are what
 * lsusb and sysfs already show to everyone.
 */

#include <net/genetlink.h>

#include "bootshake.h"
#include "compat.h"

enum bsk_mcgrp {
	BSK_MCGRP_MONITOR,
};

static const struct nla_policy bsk_dev_get_policy[BOOTSHAKE_A_DEV_ID + 1] = {
	[BOOTSHAKE_A_DEV_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

/* RETRY and RELEASE name a device exactly like GET. */
#define bsk_dev_action_policy bsk_dev_get_policy

static const struct nla_policy
bsk_policy_get_policy[BOOTSHAKE_A_POLICY_KIND + 1] = {
	[BOOTSHAKE_A_POLICY_KIND] = NLA_POLICY_RANGE(NLA_U32, 1,
						     BOOTSHAKE_KIND_MAX),
};

/* Deadlines: 1 ms .. 10 min; a step must fit in the sync (checked). */
static struct netlink_range_validation bsk_deadline_range = {
	.min = 1,
	.max = 600000,
};

static struct netlink_range_validation bsk_arm_timeout_range = {
	.min = 1,
	.max = 3600000,
};

static const struct nla_policy
bsk_policy_set_policy[BOOTSHAKE_A_POLICY_MAX + 1] = {
	[BOOTSHAKE_A_POLICY_KIND] = NLA_POLICY_RANGE(NLA_U32, 1,
						     BOOTSHAKE_KIND_MAX),
	[BOOTSHAKE_A_POLICY_MODE] = NLA_POLICY_RANGE(NLA_U32,
						     BOOTSHAKE_POLICY_OFF,
						     BOOTSHAKE_POLICY_MAX),
	[BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &bsk_deadline_range),
	[BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &bsk_deadline_range),
};

static const struct nla_policy bsk_arm_policy[BOOTSHAKE_A_POLICY_MAX + 1] = {
	[BOOTSHAKE_A_POLICY_KIND] = NLA_POLICY_RANGE(NLA_U32, 1,
						     BOOTSHAKE_KIND_MAX),
	[BOOTSHAKE_A_POLICY_ARM_COUNT] = NLA_POLICY_RANGE(NLA_U32, 0, 64),
	[BOOTSHAKE_A_POLICY_ARM_TIMEOUT_MS] =
		NLA_POLICY_FULL_RANGE(NLA_U32, &bsk_arm_timeout_range),
};

static const struct nla_policy
bsk_transcript_policy[BOOTSHAKE_A_TR_DEV_ID + 1] = {
	[BOOTSHAKE_A_TR_DEV_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

#define BSK_FEATURES	(BOOTSHAKE_FEAT_POLICY | BOOTSHAKE_FEAT_RETRY | \
			 BOOTSHAKE_FEAT_RELEASE | BOOTSHAKE_FEAT_TRANSCRIPT)

static struct genl_family bsk_genl_family;

/**
 * bsk_nl_dev_size() - the largest device message of a kind
 * @kind: the device's kind
 *
 * Every attribute bsk_nl_fill_dev() can put, at its largest, plus what the
 * kind's fill() can add: a message allocated with this never runs out of
 * room, so a notification is never dropped for its size.
 *
 * Return: the payload size for genlmsg_new().
 */
static size_t bsk_nl_dev_size(const struct bsk_kind *kind)
{
	size_t size;

	/* ID; PATH; VID, PID */
	size = nla_total_size(sizeof(u32)) +
	       nla_total_size(sizeof_field(struct bsk_dev, path)) +
	       2 * nla_total_size(sizeof(u16));
	/* KIND, STATE, FLAGS, ATTEMPTS, SPEED, BUSNUM, DEVNUM, GARBAGE, ERROR */
	size += 9 * nla_total_size(sizeof(u32));
	/* SYNC_US, IDENT_US, EVENT_NS */
	size += 3 * nla_total_size_64bit(sizeof(u64));
	/* REASON, ERROR_CODE */
	size += nla_total_size(sizeof_field(struct bsk_status, reason)) +
		nla_total_size(BSK_NAME_MAX);
	if (kind->fill_size)
		size += kind->fill_size();
	return size;
}

/* @cb: the dump this message is part of, or NULL */
static int bsk_nl_fill_dev(struct sk_buff *skb, struct bsk_dev *bdev, u8 cmd,
			   u32 portid, u32 seq, int flags,
			   struct netlink_callback *cb)
{
	struct usb_device *udev = bdev->udev;
	struct bsk_status st;
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &bsk_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;
	if (cb)
		genl_dump_check_consistent(cb, hdr);

	bsk_dev_snapshot(bdev, &st);

	if (nla_put_u32(skb, BOOTSHAKE_A_DEV_ID, bdev->id))
		goto nla_put_failure;
	if (nla_put_string(skb, BOOTSHAKE_A_DEV_PATH, bdev->path))
		goto nla_put_failure;
	if (nla_put_u16(skb, BOOTSHAKE_A_DEV_VID,
			le16_to_cpu(udev->descriptor.idVendor)))
		goto nla_put_failure;
	if (nla_put_u16(skb, BOOTSHAKE_A_DEV_PID,
			le16_to_cpu(udev->descriptor.idProduct)))
		goto nla_put_failure;
	if (nla_put_u32(skb, BOOTSHAKE_A_DEV_KIND, bdev->kind->id))
		goto nla_put_failure;
	if (nla_put_u32(skb, BOOTSHAKE_A_DEV_STATE, st.state))
		goto nla_put_failure;
	if (nla_put_u32(skb, BOOTSHAKE_A_DEV_FLAGS, st.flags))
		goto nla_put_failure;
	if (nla_put_u32(skb, BOOTSHAKE_A_DEV_ATTEMPTS, st.attempts))
		goto nla_put_failure;
	if (nla_put_u32(skb, BOOTSHAKE_A_DEV_SPEED, udev->speed))
		goto nla_put_failure;
	if (nla_put_u32(skb, BOOTSHAKE_A_DEV_BUSNUM, udev->bus->busnum))
		goto nla_put_failure;
	if (nla_put_u32(skb, BOOTSHAKE_A_DEV_DEVNUM, udev->devnum))
		goto nla_put_failure;

	if (st.sync_us &&
	    nla_put_u64_64bit(skb, BOOTSHAKE_A_DEV_SYNC_US, st.sync_us,
			      BOOTSHAKE_A_DEV_PAD))
		goto nla_put_failure;
	if (st.ident_us &&
	    nla_put_u64_64bit(skb, BOOTSHAKE_A_DEV_IDENT_US, st.ident_us,
			      BOOTSHAKE_A_DEV_PAD))
		goto nla_put_failure;
	if (st.error && nla_put_u32(skb, BOOTSHAKE_A_DEV_ERROR, st.error))
		goto nla_put_failure;
	if (st.error && nla_put_string(skb, BOOTSHAKE_A_DEV_REASON, st.reason))
		goto nla_put_failure;
	if (st.error_code &&
	    nla_put_string(skb, BOOTSHAKE_A_DEV_ERROR_CODE, st.error_code))
		goto nla_put_failure;
	if (st.garbage && nla_put_u32(skb, BOOTSHAKE_A_DEV_GARBAGE, st.garbage))
		goto nla_put_failure;

	if (bdev->kind->fill && bdev->kind->fill(skb, bdev, &st))
		goto nla_put_failure;

	/*
	 * Notifications are built in the thread that made the change, right
	 * after it: their send time is the change's time, which a listener
	 * that reads late (a loaded lab machine) cannot reconstruct.
	 */
	if (cmd != BOOTSHAKE_CMD_DEV_GET &&
	    nla_put_u64_64bit(skb, BOOTSHAKE_A_DEV_EVENT_NS, ktime_get_real_ns(),
			      BOOTSHAKE_A_DEV_PAD))
		goto nla_put_failure;

	genlmsg_end(skb, hdr);
	return 0;

nla_put_failure:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

static int bsk_nl_dev_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct bsk_dev *bdev;
	struct sk_buff *msg;
	int ret;

	if (GENL_REQ_ATTR_CHECK(info, BOOTSHAKE_A_DEV_ID)) {
		NL_SET_ERR_MSG(info->extack, "missing device id (DEV_ID)");
		return -EINVAL;
	}

	bdev = bsk_dev_get_by_id(nla_get_u32(info->attrs[BOOTSHAKE_A_DEV_ID]));
	if (!bdev) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[BOOTSHAKE_A_DEV_ID],
				    "no device with this id");
		return -ENODEV;
	}

	msg = genlmsg_new(bsk_nl_dev_size(bdev->kind), GFP_KERNEL);
	if (!msg) {
		ret = -ENOMEM;
		goto out_put;
	}

	ret = bsk_nl_fill_dev(msg, bdev, BOOTSHAKE_CMD_DEV_GET,
			      info->snd_portid, info->snd_seq, 0, NULL);
	if (ret) {
		nlmsg_free(msg);
		goto out_put;
	}
	ret = genlmsg_reply(msg, info);

out_put:
	bsk_dev_put(bdev);
	return ret;
}

struct bsk_dump_arg {
	struct sk_buff *skb;
	struct netlink_callback *cb;
};

static int bsk_nl_dump_one(struct bsk_dev *bdev, void *arg)
{
	struct bsk_dump_arg *a = arg;

	return bsk_nl_fill_dev(a->skb, bdev, BOOTSHAKE_CMD_DEV_GET,
			       NETLINK_CB(a->cb->skb).portid,
			       a->cb->nlh->nlmsg_seq, NLM_F_MULTI, a->cb);
}

/*
 * The cursor (cb->args[0]) is the id of the next device to send; ids only
 * grow, so a device that appears during a dump is either in it or newer
 * than the cursor, and one that vanishes between two parts is skipped.
 * Each device is sent at most once.  cb->seq is the registry generation
 * the part was taken from: when devices came or went between two parts,
 * the core flags the later messages and the end NLM_F_DUMP_INTR, so the
 * listener knows that a device sent earlier may have gone since.
 */
static int bsk_nl_dev_get_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb)
{
	struct bsk_dump_arg a = { .skb = skb, .cb = cb };
	unsigned long cursor = cb->args[0];
	int ret;

	if (cursor == ULONG_MAX)
		return 0;

	ret = bsk_devs_walk(&cursor, &cb->seq, bsk_nl_dump_one, &a);
	cb->args[0] = cursor;
	if (ret == -EMSGSIZE && skb->len)
		return skb->len;
	return ret ?: skb->len;
}

/* Look up the device named by @attr; extack says why it failed. */
static struct bsk_dev *bsk_nl_dev(struct genl_info *info, int attr)
{
	struct bsk_dev *bdev;

	if (GENL_REQ_ATTR_CHECK(info, attr)) {
		NL_SET_ERR_MSG(info->extack, "missing device id (DEV_ID)");
		return ERR_PTR(-EINVAL);
	}
	bdev = bsk_dev_get_by_id(nla_get_u32(info->attrs[attr]));
	if (!bdev) {
		NL_SET_ERR_MSG_ATTR(info->extack, info->attrs[attr],
				    "no device with this id");
		return ERR_PTR(-ENODEV);
	}
	return bdev;
}

static int bsk_nl_retry_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct bsk_dev *bdev = bsk_nl_dev(info, BOOTSHAKE_A_DEV_ID);
	int ret;

	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	ret = bsk_dev_retry(bdev);
	if (ret == -EBUSY)
		NL_SET_ERR_MSG(info->extack, "a handshake is running");
	else if (ret)
		NL_SET_ERR_MSG(info->extack, "device is released or gone");
	bsk_dev_put(bdev);
	return ret;
}

static int bsk_nl_release_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct bsk_dev *bdev = bsk_nl_dev(info, BOOTSHAKE_A_DEV_ID);
	int ret;

	if (IS_ERR(bdev))
		return PTR_ERR(bdev);
	ret = bsk_dev_release(bdev);
	if (ret)
		NL_SET_ERR_MSG(info->extack, "device is already released or gone");
	bsk_dev_put(bdev);
	return ret;
}

static int bsk_nl_fill_policy(struct sk_buff *skb, enum bootshake_kind kind,
			      u32 portid, u32 seq, int flags)
{
	struct bsk_policy pol;
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &bsk_genl_family, flags,
			  BOOTSHAKE_CMD_POLICY_GET);
	if (!hdr)
		return -EMSGSIZE;
	bsk_policy_get(kind, &pol);
	if (nla_put_u32(skb, BOOTSHAKE_A_POLICY_KIND, kind))
		goto nla_put_failure;
	if (nla_put_u32(skb, BOOTSHAKE_A_POLICY_MODE, pol.mode))
		goto nla_put_failure;
	if (nla_put_u32(skb, BOOTSHAKE_A_POLICY_ARM_COUNT, pol.arm_count))
		goto nla_put_failure;
	if (nla_put_u32(skb, BOOTSHAKE_A_POLICY_ARM_TIMEOUT_MS,
			pol.arm_timeout_ms))
		goto nla_put_failure;
	if (nla_put_u32(skb, BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS, pol.step_ms))
		goto nla_put_failure;
	if (nla_put_u32(skb, BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS, pol.sync_ms))
		goto nla_put_failure;
	genlmsg_end(skb, hdr);
	return 0;

nla_put_failure:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/* Kind attribute, checked against the kinds this module knows. */
static int bsk_nl_kind(struct genl_info *info, enum bootshake_kind *kind)
{
	struct nlattr *attr = info->attrs[BOOTSHAKE_A_POLICY_KIND];

	if (GENL_REQ_ATTR_CHECK(info, BOOTSHAKE_A_POLICY_KIND)) {
		NL_SET_ERR_MSG(info->extack, "missing kind (POLICY_KIND)");
		return -EINVAL;
	}
	*kind = nla_get_u32(attr);
	if (!bsk_kinds[*kind]) {
		NL_SET_ERR_MSG_ATTR(info->extack, attr,
				    "kind not supported by this module");
		return -EOPNOTSUPP;
	}
	return 0;
}

static int bsk_nl_policy_get_doit(struct sk_buff *skb, struct genl_info *info)
{
	enum bootshake_kind kind;
	struct sk_buff *msg;
	int ret;

	ret = bsk_nl_kind(info, &kind);
	if (ret)
		return ret;
	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	ret = bsk_nl_fill_policy(msg, kind, info->snd_portid, info->snd_seq, 0);
	if (ret) {
		nlmsg_free(msg);
		return ret;
	}
	return genlmsg_reply(msg, info);
}

static int bsk_nl_policy_get_dumpit(struct sk_buff *skb,
				    struct netlink_callback *cb)
{
	long kind;

	for (kind = max(cb->args[0], 1L); kind <= BOOTSHAKE_KIND_MAX; kind++) {
		if (!bsk_kinds[kind])
			continue;
		if (bsk_nl_fill_policy(skb, kind, NETLINK_CB(cb->skb).portid,
				       cb->nlh->nlmsg_seq, NLM_F_MULTI))
			break;
	}
	cb->args[0] = kind;
	return skb->len;
}

static int bsk_nl_policy_set_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **tb = info->attrs;
	struct bsk_policy pol = { };
	enum bootshake_kind kind;
	int ret;

	ret = bsk_nl_kind(info, &kind);
	if (ret)
		return ret;
	if (tb[BOOTSHAKE_A_POLICY_MODE])
		pol.mode = nla_get_u32(tb[BOOTSHAKE_A_POLICY_MODE]);
	if (tb[BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS])
		pol.step_ms = nla_get_u32(tb[BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS]);
	if (tb[BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS])
		pol.sync_ms = nla_get_u32(tb[BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS]);
	if (!pol.mode && !pol.step_ms && !pol.sync_ms) {
		NL_SET_ERR_MSG(info->extack,
			       "nothing to set: give a mode or a deadline");
		return -EINVAL;
	}

	ret = bsk_policy_set(kind, &pol);
	if (ret == -ERANGE)
		NL_SET_ERR_MSG_ATTR(info->extack,
				    tb[BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS] ?:
				    tb[BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS],
				    "step deadline longer than the sync deadline");
	return ret;
}

static int bsk_nl_arm_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct nlattr **tb = info->attrs;
	enum bootshake_kind kind;
	u32 count = 1, timeout_ms = 60000;
	int ret;

	ret = bsk_nl_kind(info, &kind);
	if (ret)
		return ret;
	if (tb[BOOTSHAKE_A_POLICY_ARM_COUNT])
		count = nla_get_u32(tb[BOOTSHAKE_A_POLICY_ARM_COUNT]);
	if (tb[BOOTSHAKE_A_POLICY_ARM_TIMEOUT_MS])
		timeout_ms = nla_get_u32(tb[BOOTSHAKE_A_POLICY_ARM_TIMEOUT_MS]);
	bsk_policy_arm(kind, count, timeout_ms);
	return 0;
}

struct bsk_tr_dump {
	u64 seq;
	u32 id;
	bool done;
};

static int bsk_nl_fill_tr(struct sk_buff *skb, struct netlink_callback *cb,
			  u32 id, const struct bsk_tr_rec *rec, u64 lost)
{
	void *hdr;

	hdr = genlmsg_put(skb, NETLINK_CB(cb->skb).portid, cb->nlh->nlmsg_seq,
			  &bsk_genl_family, NLM_F_MULTI,
			  BOOTSHAKE_CMD_TRANSCRIPT_GET);
	if (!hdr)
		return -EMSGSIZE;
	if (nla_put_u32(skb, BOOTSHAKE_A_TR_DEV_ID, id))
		goto nla_put_failure;
	if (nla_put_u64_64bit(skb, BOOTSHAKE_A_TR_TIME_NS, rec->ns,
			      BOOTSHAKE_A_TR_PAD))
		goto nla_put_failure;
	if (nla_put_u32(skb, BOOTSHAKE_A_TR_DIR, rec->dir))
		goto nla_put_failure;
	if (nla_put(skb, BOOTSHAKE_A_TR_DATA, rec->len, rec->data))
		goto nla_put_failure;
	if (lost && nla_put_u32(skb, BOOTSHAKE_A_TR_LOST, lost))
		goto nla_put_failure;
	genlmsg_end(skb, hdr);
	return 0;

nla_put_failure:
	genlmsg_cancel(skb, hdr);
	return -EMSGSIZE;
}

/*
 * One message per record.  The cursor (ctx->seq) is the sequence number
 * of the first record not yet sent: a record that did not fit is sent
 * first in the next part.  The dump is done once no record is left at or
 * after the cursor.  The device is looked up again for every part, so a
 * device that goes away during the dump ends it cleanly.
 */
static int bsk_nl_transcript_dumpit(struct sk_buff *skb,
				    struct netlink_callback *cb)
{
	struct bsk_tr_dump *ctx = (struct bsk_tr_dump *)cb->args;
	struct nlattr **attrs = bsk_dump_attrs(cb);
	struct bsk_tr_rec rec;
	struct bsk_dev *bdev;
	u64 seq, lost;
	int ret = 0;

	BUILD_BUG_ON(sizeof(*ctx) > sizeof(cb->args));
	if (ctx->done)
		return 0;
	if (!ctx->id) {
		struct nlattr *attr = attrs[BOOTSHAKE_A_TR_DEV_ID];

		if (!attr) {
			NL_SET_ERR_ATTR_MISS(cb->extack, NULL,
					     BOOTSHAKE_A_TR_DEV_ID);
			NL_SET_ERR_MSG(cb->extack,
				       "missing device id (TR_DEV_ID)");
			return -EINVAL;
		}
		ctx->id = nla_get_u32(attr);
	}

	bdev = bsk_dev_get_by_id(ctx->id);
	if (!bdev) {
		if (!ctx->seq) {
			NL_SET_ERR_MSG(cb->extack, "no device with this id");
			return -ENODEV;
		}
		return 0;	/* gone during the dump: end it */
	}

	for (;;) {
		seq = ctx->seq;
		if (bsk_tr_read(bdev->tr, &seq, &rec, &lost)) {
			ctx->done = true;
			break;
		}
		if (bsk_nl_fill_tr(skb, cb, ctx->id, &rec, lost)) {
			/* this part is full: the record starts the next */
			ret = skb->len ? 0 : -EMSGSIZE;
			break;
		}
		ctx->seq = seq;
	}
	bsk_dev_put(bdev);
	return ret ?: skb->len;
}

static int bsk_nl_info_doit(struct sk_buff *skb, struct genl_info *info)
{
	struct sk_buff *msg;
	void *hdr;

	msg = genlmsg_new(NLMSG_GOODSIZE, GFP_KERNEL);
	if (!msg)
		return -ENOMEM;
	hdr = genlmsg_put_reply(msg, info, &bsk_genl_family, 0,
				BOOTSHAKE_CMD_INFO_GET);
	if (!hdr)
		goto nla_put_failure;
	if (nla_put_u32(msg, BOOTSHAKE_A_INFO_VERSION,
			BOOTSHAKE_FAMILY_VERSION))
		goto nla_put_failure;
	if (nla_put_u64_64bit(msg, BOOTSHAKE_A_INFO_FEATURES, BSK_FEATURES,
			      BOOTSHAKE_A_INFO_PAD))
		goto nla_put_failure;
	if (nla_put_u32(msg, BOOTSHAKE_A_INFO_KINDS, BOOTSHAKE_KIND_MAX))
		goto nla_put_failure;
	genlmsg_end(msg, hdr);
	return genlmsg_reply(msg, info);

nla_put_failure:
	nlmsg_free(msg);
	return -EMSGSIZE;
}

static const struct genl_ops bsk_genl_ops[] = {
	{
		.cmd = BOOTSHAKE_CMD_DEV_GET,
		.doit = bsk_nl_dev_get_doit,
		.dumpit = bsk_nl_dev_get_dumpit,
		.policy = bsk_dev_get_policy,
		.maxattr = BOOTSHAKE_A_DEV_ID,
	},
	{
		.cmd = BOOTSHAKE_CMD_POLICY_GET,
		.doit = bsk_nl_policy_get_doit,
		.dumpit = bsk_nl_policy_get_dumpit,
		.policy = bsk_policy_get_policy,
		.maxattr = BOOTSHAKE_A_POLICY_KIND,
	},
	{
		.cmd = BOOTSHAKE_CMD_POLICY_SET,
		.doit = bsk_nl_policy_set_doit,
		.policy = bsk_policy_set_policy,
		.maxattr = BOOTSHAKE_A_POLICY_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = BOOTSHAKE_CMD_ARM,
		.doit = bsk_nl_arm_doit,
		.policy = bsk_arm_policy,
		.maxattr = BOOTSHAKE_A_POLICY_MAX,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = BOOTSHAKE_CMD_RETRY,
		.doit = bsk_nl_retry_doit,
		.policy = bsk_dev_action_policy,
		.maxattr = BOOTSHAKE_A_DEV_ID,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = BOOTSHAKE_CMD_RELEASE,
		.doit = bsk_nl_release_doit,
		.policy = bsk_dev_action_policy,
		.maxattr = BOOTSHAKE_A_DEV_ID,
		.flags = GENL_ADMIN_PERM,
	},
	{
		.cmd = BOOTSHAKE_CMD_TRANSCRIPT_GET,
		.dumpit = bsk_nl_transcript_dumpit,
		.policy = bsk_transcript_policy,
		.maxattr = BOOTSHAKE_A_TR_DEV_ID,
	},
	{
		.cmd = BOOTSHAKE_CMD_INFO_GET,
		.doit = bsk_nl_info_doit,
		/* no attributes: the core rejects any (strict, no policy) */
	},
};

static const struct genl_multicast_group bsk_genl_mcgrps[] = {
	[BSK_MCGRP_MONITOR] = { .name = BOOTSHAKE_MCGRP_MONITOR },
};

static struct genl_family bsk_genl_family __ro_after_init = {
	.name = BOOTSHAKE_FAMILY_NAME,
	.version = BOOTSHAKE_FAMILY_VERSION,
	.module = THIS_MODULE,
	/*
	 * Handlers lock what they touch themselves; without genl_mutex a
	 * release (which takes the USB device lock) cannot be ordered
	 * against other families' users of that mutex.
	 */
	.parallel_ops = true,
	.ops = bsk_genl_ops,
	.n_ops = ARRAY_SIZE(bsk_genl_ops),
	.mcgrps = bsk_genl_mcgrps,
	.n_mcgrps = ARRAY_SIZE(bsk_genl_mcgrps),
};

/**
 * bsk_nl_notify() - send a device to the "monitor" group
 * @bdev: the device
 * @cmd: BOOTSHAKE_CMD_DEV_{ADD,CHANGE,DEL}_NTF
 *
 * Process context only.  A listener whose socket overflows gets ENOBUFS
 * on its next receive and must resynchronise with a dump.
 */
void bsk_nl_notify(struct bsk_dev *bdev, u8 cmd)
{
	struct sk_buff *msg;
	size_t size;

	if (!genl_has_listeners(&bsk_genl_family, &init_net,
				BSK_MCGRP_MONITOR))
		return;

	size = bsk_nl_dev_size(bdev->kind);
	msg = genlmsg_new(size, GFP_KERNEL);
	if (!msg)
		return;

	if (bsk_nl_fill_dev(msg, bdev, cmd, 0, 0, 0, NULL)) {
		/* bsk_nl_dev_size() is wrong: a bug, not a device's fault */
		pr_err_ratelimited("bootshake: device %u: notification does not fit %zu bytes\n",
				   bdev->id, size);
		nlmsg_free(msg);
		return;
	}
	genlmsg_multicast(&bsk_genl_family, msg, 0, BSK_MCGRP_MONITOR,
			  GFP_KERNEL);
}

int bsk_nl_init(void)
{
	return genl_register_family(&bsk_genl_family);
}

void bsk_nl_exit(void)
{
	genl_unregister_family(&bsk_genl_family);
}
