// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake CLI: what the loaded module can do (BOOTSHAKE_CMD_INFO_GET),
 * so that a newer helper on an older module says what is missing instead
 * of sending requests the module does not know.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <json-c/json.h>

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
	const char	*word;		/* as "bootshake version" prints it */
} feature_names[] = {
	{ BOOTSHAKE_FEAT_POLICY,	"POLICY",	"policy" },
	{ BOOTSHAKE_FEAT_RETRY,		"RETRY",	"retry" },
	{ BOOTSHAKE_FEAT_RELEASE,	"RELEASE",	"release" },
	{ BOOTSHAKE_FEAT_TRANSCRIPT,	"TRANSCRIPT",	"transcript" },
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

/* --- version -------------------------------------------------------------- */

/* The loaded module's MODULE_VERSION from sysfs; false if there is none. */
static bool module_version(char *buf, size_t len)
{
	FILE *f = fopen(BS_SYSFS_MODULE "/version", "re");
	bool ok;

	if (!f)
		return false;
	ok = fgets(buf, len, f);
	fclose(f);
	if (ok)
		buf[strcspn(buf, "\n")] = '\0';
	return ok && buf[0];
}

/* "policy", "retry", ... or "bit-N" for a bit this helper does not know. */
static const char *feature_word(unsigned int bit, char *buf, size_t len)
{
	size_t i;

	for (i = 0; i < sizeof(feature_names) / sizeof(feature_names[0]); i++)
		if (feature_names[i].bit == 1ull << bit)
			return feature_names[i].word;
	snprintf(buf, len, "bit-%u", bit);
	return buf;
}

static void print_version(const char *mver, bool loaded,
			  const struct bs_info *info)
{
	char buf[BS_NAME_LEN];
	unsigned int k, bit;

	if (bs_json) {
		struct json_object *o = json_object_new_object();
		struct json_object *kinds = json_object_new_array();
		struct json_object *feats = json_object_new_array();

		json_object_object_add(o, "helper_version",
				       json_object_new_string(BOOTSHAKE_VERSION));
		json_object_object_add(o, "helper_family_version",
				       json_object_new_int(BOOTSHAKE_FAMILY_VERSION));
		json_object_object_add(o, "module_loaded",
				       json_object_new_boolean(loaded));
		json_object_object_add(o, "module_version", mver ?
				       json_object_new_string(mver) : NULL);
		json_object_object_add(o, "family",
				       json_object_new_string(BOOTSHAKE_FAMILY_NAME));
		json_object_object_add(o, "family_version", info ?
				       json_object_new_int(info->version) : NULL);
		for (k = 1; info && k <= info->kinds; k++)
			json_object_array_add(kinds, json_object_new_string(
				bs_kind_name(k, buf, sizeof(buf))));
		for (bit = 0; info && bit < 64; bit++)
			if (info->features & (1ull << bit))
				json_object_array_add(feats,
					json_object_new_string(
					feature_word(bit, buf, sizeof(buf))));
		json_object_object_add(o, "kinds", kinds);
		json_object_object_add(o, "features", feats);
		bs_print_json(o);
		json_object_put(o);
		return;
	}
	printf("helper: %s (family version %d)\n", BOOTSHAKE_VERSION,
	       BOOTSHAKE_FAMILY_VERSION);
	if (!loaded && !info) {
		printf("module: not loaded\n");
		return;
	}
	printf("module: %s", mver ? mver : "(no version)");
	if (info)
		printf(" (family \"%s\" version %u%s)\n", BOOTSHAKE_FAMILY_NAME,
		       info->version, info->has_info ? "" : ", no INFO_GET");
	else
		printf(" (family \"%s\" not registered)\n",
		       BOOTSHAKE_FAMILY_NAME);
	if (!info)
		return;
	printf("kinds:");
	for (k = 1; k <= info->kinds; k++)
		printf(" %s", bs_kind_name(k, buf, sizeof(buf)));
	printf("%s\nfeatures:", info->kinds ? "" : " (not said)");
	for (bit = 0; bit < 64; bit++)
		if (info->features & (1ull << bit))
			printf(" %s", feature_word(bit, buf, sizeof(buf)));
	printf("%s\n", info->features ? "" : " none");
	fflush(stdout);
}

int cmd_version(int argc, char **argv)
{
	struct bs_info info;
	char mver[128];
	bool loaded, have_mver;
	struct bs_nl nl;
	int ret;

	ret = bs_simple_opts(argc, argv);
	if (ret >= 0)
		return ret;
	if (optind < argc) {
		print_error(EINVAL, NULL, "version: unexpected argument \"%s\"",
			    argv[optind]);
		return BS_EXIT_ERROR;
	}

	loaded = !access(BS_SYSFS_MODULE, F_OK);
	have_mver = loaded && module_version(mver, sizeof(mver));
	ret = bs_nl_open(&nl, BOOTSHAKE_FAMILY_NAME);
	if (ret == -ENOENT) {
		/* no family: the module is not loaded, which is no error here */
		print_version(have_mver ? mver : NULL, loaded, NULL);
		return BS_EXIT_OK;
	}
	if (ret) {
		print_error(ret, NULL, "cannot open generic netlink socket: %s",
			    strerror(-ret));
		return BS_EXIT_ERROR;
	}
	ret = bs_info_get(&nl, &info);
	if (ret)
		bs_report(&nl, ret, NULL, "version");
	else
		print_version(have_mver ? mver : NULL, true, &info);
	bs_nl_close(&nl);
	return ret ? BS_EXIT_ERROR : BS_EXIT_OK;
}
