// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake CLI: the commands on one device beyond "show": retry,
 * release, transcript and diagnose. DEV is an id or a USB path.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include <linux/bootshake.h>

#include "bootshake.h"
#include "dev.h"
#include "diagnose.h"
#include "nl.h"
#include "print.h"
#include "transcript.h"

/* Options and the one DEV argument; -1 to go on, else the exit code. */
static int dev_args(int argc, char **argv, const char **arg)
{
	int ret = bs_simple_opts(argc, argv);

	if (ret >= 0)
		return ret;
	if (optind + 1 != argc) {
		print_error(EINVAL, NULL, optind == argc ?
			    "%s: missing DEV (a device id or USB path)" :
			    "%s: too many arguments", argv[0]);
		return BS_EXIT_ERROR;
	}
	if (bs_check_dev_arg(argv[0], argv[optind]))
		return BS_EXIT_ERROR;
	*arg = argv[optind];
	return -1;
}

/* RETRY or RELEASE, then print the device as it is now. */
static int dev_action(int argc, char **argv, uint8_t cmd, uint64_t feature)
{
	const char *name = argv[0], *arg;
	struct bs_dev dev, now;
	struct nl_msg *msg;
	struct bs_nl nl;
	char why[160] = "";
	int ret;

	ret = dev_args(argc, argv, &arg);
	if (ret >= 0)
		return ret;
	if (bs_open(&nl))
		return BS_EXIT_ERROR;
	ret = bs_need(&nl, feature, name);
	if (ret)
		goto out;
	ret = bs_resolve_dev(&nl, name, arg, &dev);
	if (ret)
		goto out;

	msg = bs_nl_msg(&nl, cmd, 0);
	if (!msg || nla_put_u32(msg, BOOTSHAKE_A_DEV_ID, dev.id) < 0) {
		nlmsg_free(msg);
		ret = -ENOMEM;
		print_error(ret, NULL, "%s: cannot build the request", name);
		goto out_dev;
	}
	ret = bs_nl_request(&nl, msg, NULL, NULL);
	if (ret == -ENOENT || ret == -ENODEV) {
		/* gone since the lookup, or released: the kernel says which */
		print_error(ret, nl.ext.msg, "%s: device %u: %s", name, dev.id,
			    strerror(-ret));
		goto out_dev;
	}
	if (ret) {
		bs_report(&nl, ret, NULL, name);
		goto out_dev;
	}
	bs_kernel_warning(&nl);

	/* what it looks like now; a device that left meanwhile is no error */
	if (!bs_dev_get(&nl, dev.id, &now, why, sizeof(why))) {
		print_action(name, &now);
		bs_dev_clear(&now);
	} else {
		print_action(name, &dev);
	}
out_dev:
	bs_dev_clear(&dev);
out:
	bs_nl_close(&nl);
	return ret ? BS_EXIT_ERROR : BS_EXIT_OK;
}

int cmd_retry(int argc, char **argv)
{
	return dev_action(argc, argv, BOOTSHAKE_CMD_RETRY,
			  BOOTSHAKE_FEAT_RETRY);
}

int cmd_release(int argc, char **argv)
{
	return dev_action(argc, argv, BOOTSHAKE_CMD_RELEASE,
			  BOOTSHAKE_FEAT_RELEASE);
}

static int get_transcript(struct bs_nl *nl, const char *name,
			  const struct bs_dev *dev, struct bs_tr *tr)
{
	char why[160] = "";
	int ret;

	ret = bs_tr_dump(nl, dev->id, tr, why, sizeof(why));
	if (ret == -ENOENT || ret == -ENODEV) {
		print_error(ENOENT, nl->ext.msg, "%s: device %u is gone", name,
			    dev->id);
		return ret;
	}
	if (ret)
		bs_report(nl, ret, why, name);
	else
		bs_kernel_warning(nl);
	return ret;
}

int cmd_transcript(int argc, char **argv)
{
	struct bs_tr tr = { 0 };
	const char *arg;
	struct bs_dev dev;
	struct bs_nl nl;
	int ret;

	ret = dev_args(argc, argv, &arg);
	if (ret >= 0)
		return ret;
	if (bs_open(&nl))
		return BS_EXIT_ERROR;
	ret = bs_need(&nl, BOOTSHAKE_FEAT_TRANSCRIPT, "transcript");
	if (ret)
		goto out;
	ret = bs_resolve_dev(&nl, "transcript", arg, &dev);
	if (ret)
		goto out;
	ret = get_transcript(&nl, "transcript", &dev, &tr);
	if (!ret)
		print_transcript(&dev, &tr);
	bs_tr_free(&tr);
	bs_dev_clear(&dev);
out:
	bs_nl_close(&nl);
	return ret ? BS_EXIT_ERROR : BS_EXIT_OK;
}

int cmd_diagnose(int argc, char **argv)
{
	struct bs_finding findings[BS_DIAG_MAX];
	struct bs_tr tr = { 0 };
	struct bs_info info;
	const char *arg;
	struct bs_dev dev;
	struct bs_nl nl;
	bool have_tr;
	size_t n;
	int ret;

	ret = dev_args(argc, argv, &arg);
	if (ret >= 0)
		return ret;
	if (bs_open(&nl))
		return BS_EXIT_ERROR;
	ret = bs_info_get(&nl, &info);
	if (ret) {
		bs_report(&nl, ret, NULL, "diagnose");
		goto out;
	}
	ret = bs_resolve_dev(&nl, "diagnose", arg, &dev);
	if (ret)
		goto out;

	/* without a transcript the rules still have the state to go on */
	have_tr = info.features & BOOTSHAKE_FEAT_TRANSCRIPT;
	if (have_tr)
		ret = get_transcript(&nl, "diagnose", &dev, &tr);
	else
		print_warning("the loaded module keeps no transcript (family version %u); diagnosing from the state alone",
			      info.version);
	if (!ret) {
		n = bs_diagnose(&dev, have_tr ? &tr : NULL, findings,
				BS_DIAG_MAX);
		print_diagnosis(&dev, findings, n);
	}
	bs_tr_free(&tr);
	bs_dev_clear(&dev);
out:
	bs_nl_close(&nl);
	return ret ? BS_EXIT_ERROR : BS_EXIT_OK;
}
