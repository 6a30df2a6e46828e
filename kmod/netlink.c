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

enum bsk_mcgrp {
	BSK_MCGRP_MONITOR,
};

static const struct nla_policy bsk_dev_get_policy[BOOTSHAKE_A_DEV_ID + 1] = {
	[BOOTSHAKE_A_DEV_ID] = NLA_POLICY_MIN(NLA_U32, 1),
};

static struct genl_family bsk_genl_family;

static int bsk_nl_fill_dev(struct sk_buff *skb, struct bsk_dev *bdev, u8 cmd,
			   u32 portid, u32 seq, int flags)
{
	struct usb_device *udev = bdev->udev;
	struct bsk_status st;
	void *hdr;

	hdr = genlmsg_put(skb, portid, seq, &bsk_genl_family, flags, cmd);
	if (!hdr)
		return -EMSGSIZE;

	bsk_dev_snapshot(bdev, &st);

	if (nla_put_u32(skb, BOOTSHAKE_A_DEV_ID, bdev->id) ||
	    nla_put_string(skb, BOOTSHAKE_A_DEV_PATH, bdev->path) ||
	    nla_put_u16(skb, BOOTSHAKE_A_DEV_VID,
			le16_to_cpu(udev->descriptor.idVendor)) ||
	    nla_put_u16(skb, BOOTSHAKE_A_DEV_PID,
			le16_to_cpu(udev->descriptor.idProduct)) ||
	    nla_put_u32(skb, BOOTSHAKE_A_DEV_KIND, bdev->kind->id) ||
	    nla_put_u32(skb, BOOTSHAKE_A_DEV_STATE, st.state) ||
	    nla_put_u32(skb, BOOTSHAKE_A_DEV_FLAGS, st.flags) ||
	    nla_put_u32(skb, BOOTSHAKE_A_DEV_ATTEMPTS, st.attempts) ||
	    nla_put_u32(skb, BOOTSHAKE_A_DEV_SPEED, udev->speed) ||
	    nla_put_u32(skb, BOOTSHAKE_A_DEV_BUSNUM, udev->bus->busnum) ||
	    nla_put_u32(skb, BOOTSHAKE_A_DEV_DEVNUM, udev->devnum))
		goto nla_put_failure;

	if (st.sync_us &&
	    nla_put_u64_64bit(skb, BOOTSHAKE_A_DEV_SYNC_US, st.sync_us,
			      BOOTSHAKE_A_DEV_PAD))
		goto nla_put_failure;
	if (st.ident_us &&
	    nla_put_u64_64bit(skb, BOOTSHAKE_A_DEV_IDENT_US, st.ident_us,
			      BOOTSHAKE_A_DEV_PAD))
		goto nla_put_failure;
	if (st.error &&
	    (nla_put_u32(skb, BOOTSHAKE_A_DEV_ERROR, st.error) ||
	     nla_put_string(skb, BOOTSHAKE_A_DEV_REASON, st.reason)))
		goto nla_put_failure;

	if (bdev->kind->fill && bdev->kind->fill(skb, &st))
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

	if (GENL_REQ_ATTR_CHECK(info, BOOTSHAKE_A_DEV_ID))
		return -EINVAL;

	bdev = bsk_dev_get_by_id(nla_get_u32(info->attrs[BOOTSHAKE_A_DEV_ID]));
	if (!bdev) {
		NL_SET_ERR_MSG_ATTR(info->extack,
				    info->attrs[BOOTSHAKE_A_DEV_ID],
				    "no device with this id");
		return -ENODEV;
	}

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg) {
		ret = -ENOMEM;
		goto out_put;
	}

	ret = bsk_nl_fill_dev(msg, bdev, BOOTSHAKE_CMD_DEV_GET,
			      info->snd_portid, info->snd_seq, 0);
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
			       a->cb->nlh->nlmsg_seq, NLM_F_MULTI);
}

/*
 * The cursor (cb->args[0]) is the id of the next device to send; ids only
 * grow, so a device that appears during a dump is either in it or newer
 * than the cursor, and one that vanishes between two parts is skipped.
 */
static int bsk_nl_dev_get_dumpit(struct sk_buff *skb,
				 struct netlink_callback *cb)
{
	struct bsk_dump_arg a = { .skb = skb, .cb = cb };
	unsigned long cursor = cb->args[0];
	int ret;

	if (cursor == ULONG_MAX)
		return 0;

	ret = bsk_devs_walk(&cursor, bsk_nl_dump_one, &a);
	cb->args[0] = cursor;
	if (ret == -EMSGSIZE && skb->len)
		return skb->len;
	return ret ?: skb->len;
}

static const struct genl_ops bsk_genl_ops[] = {
	{
		.cmd = BOOTSHAKE_CMD_DEV_GET,
		.doit = bsk_nl_dev_get_doit,
		.dumpit = bsk_nl_dev_get_dumpit,
		.policy = bsk_dev_get_policy,
		.maxattr = BOOTSHAKE_A_DEV_ID,
	},
};

static const struct genl_multicast_group bsk_genl_mcgrps[] = {
	[BSK_MCGRP_MONITOR] = { .name = BOOTSHAKE_MCGRP_MONITOR },
};

static struct genl_family bsk_genl_family __ro_after_init = {
	.name = BOOTSHAKE_FAMILY_NAME,
	.version = BOOTSHAKE_FAMILY_VERSION,
	.module = THIS_MODULE,
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

	if (!genl_has_listeners(&bsk_genl_family, &init_net,
				BSK_MCGRP_MONITOR))
		return;

	msg = genlmsg_new(NLMSG_DEFAULT_SIZE, GFP_KERNEL);
	if (!msg)
		return;

	if (bsk_nl_fill_dev(msg, bdev, cmd, 0, 0, 0)) {
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
