// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake CLI: what the loaded module can do (BOOTSHAKE_CMD_INFO_GET),
 * so that a newer helper on an older module says what is missing instead
 * of sending requests the module does not know.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include <linux/bootshake.h>

#include "bootshake.h"
#include "dev.h"
#include "print.h"

static const struct nla_policy info_policy[BOOTSHAKE_A_INFO_MAX + 1] = {
	[BOOTSHAKE_A_INFO_VERSION]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_INFO_FEATURES]	= { .type = NLA_U64, .maxlen = 8 },
	[BOOTSHAKE_A_INFO_KINDS]	= { .type = NLA_U32, .maxlen = 4 },
};

static const struct {
	uint64_t	bit;
	const char	*name;
} feature_names[] = {
	{ BOOTSHAKE_FEAT_POLICY,	"POLICY" },
	{ BOOTSHAKE_FEAT_RETRY,		"RETRY" },
	{ BOOTSHAKE_FEAT_RELEASE,	"RELEASE" },
	{ BOOTSHAKE_FEAT_TRANSCRIPT,	"TRANSCRIPT" },
};

const char *bs_feature_name(uint64_t bit)
{
	size_t i;

	for (i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
		if (feature_names[i].bit == bit)
			return feature_names[i].name;
	return "unknown";
}

static int info_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct nlattr *tb[BOOTSHAKE_A_INFO_MAX + 1];
	struct bs_info *info = arg;

	if (genlmsg_parse((struct nlmsghdr *)nlh, 0, tb, BOOTSHAKE_A_INFO_MAX,
			  (struct nla_policy *)info_policy) < 0)
		return -EBADMSG;
	if (tb[BOOTSHAKE_A_INFO_VERSION])
		info->version = nla_get_u32(tb[BOOTSHAKE_A_INFO_VERSION]);
	if (tb[BOOTSHAKE_A_INFO_FEATURES])
		info->features = nla_get_u64(tb[BOOTSHAKE_A_INFO_FEATURES]);
	if (tb[BOOTSHAKE_A_INFO_KINDS])
		info->kinds = nla_get_u32(tb[BOOTSHAKE_A_INFO_KINDS]);
	return 0;
}

int bs_info_get(struct bs_nl *nl, struct bs_info *info)
{
	struct nl_msg *msg;
	int ret;

	memset(info, 0, sizeof(*info));
	msg = bs_nl_msg(nl, BOOTSHAKE_CMD_INFO_GET, 0);
	if (!msg)
		return -ENOMEM;
	ret = bs_nl_request(nl, msg, info_cb, info);
	if (ret == -EOPNOTSUPP || ret == -EINVAL) {
		/* a version 1 module has no INFO_GET and none of the features */
		info->version = 1;
		info->kinds = BOOTSHAKE_KIND_MTK_BROM;
		return 0;
	}
	if (ret)
		return ret;
	info->has_info = true;
	if (!info->version)
		info->version = 1;
	return 0;
}

int bs_need(struct bs_nl *nl, uint64_t feature, const char *what)
{
	struct bs_info info;
	int ret;

	ret = bs_info_get(nl, &info);
	if (ret) {
		bs_report(nl, ret, NULL, what);
		return ret;
	}
	if ((info.features & feature) == feature)
		return 0;
	print_error(EOPNOTSUPP, NULL,
		    "the loaded bootshake module does not support '%s' (module family version %u, needs feature %s)",
		    what, info.version, bs_feature_name(feature));
	return -EOPNOTSUPP;
}

int bs_need_kind(struct bs_nl *nl, uint32_t kind, const char *what)
{
	struct bs_info info;
	char name[BS_NAME_LEN];
	int ret;

	ret = bs_info_get(nl, &info);
	if (ret) {
		bs_report(nl, ret, NULL, what);
		return ret;
	}
	if (!info.kinds || kind <= info.kinds)
		return 0;
	print_error(EOPNOTSUPP, NULL,
		    "%s: the loaded bootshake module does not know kind '%s' (module family version %u knows kinds up to %u)",
		    what, bs_kind_name(kind, name, sizeof(name)), info.version,
		    info.kinds);
	return -EOPNOTSUPP;
}
