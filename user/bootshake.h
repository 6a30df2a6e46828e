/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bootshake CLI: what the command files share.
 */
#ifndef BOOTSHAKE_USER_BOOTSHAKE_H
#define BOOTSHAKE_USER_BOOTSHAKE_H

#include <stdbool.h>
#include <stdint.h>

#include "nl.h"

/* The helper's version (user/Makefile: VERSION, git describe or 0.1). */
#ifndef BOOTSHAKE_VERSION
#define BOOTSHAKE_VERSION	"0.1"
#endif

/* Where the loaded module's MODULE_VERSION is. */
#define BS_SYSFS_MODULE		"/sys/module/bootshake"

struct bs_dev;

/* Exit codes */
#define BS_EXIT_OK		0
#define BS_EXIT_ERROR		1	/* any error, usage errors included */
#define BS_EXIT_TIMEOUT		2	/* monitor --timeout before --count */

/*
 * A command handler gets argv[0] == its own name, returns an exit code
 * and has already reported any error (print_error()) when it fails.
 */
struct cmd {
	const char	*name;
	const char	*args;
	int		(*handler)(int argc, char **argv);
	const char	*help;
};

/* Open a socket and resolve the family; reports the error itself. */
int bs_open(struct bs_nl *nl);

/*
 * Report a failed request: "<what>: <strerror>", plus the kernel's extack
 * text, the missing/bad attribute, or @why for a malformed reply.
 */
void bs_report(const struct bs_nl *nl, int err, const char *why,
	       const char *what);

/* "Usage: ..." and the command's help, on stdout or stderr. */
void bs_cmd_usage(const char *name, bool to_stderr);

/* The option getopt_long() just refused ('?' or ':'), for messages. */
const char *bad_opt(char **argv, int c);

/*
 * Find DEV (an id or a USB path) for command @what; reports "no device
 * ..." or the request's failure itself.
 */
int bs_resolve_dev(struct bs_nl *nl, const char *what, const char *arg,
		   struct bs_dev *dev);

/*
 * Check DEV before netlink is opened (bs_dev_check_arg()): 0, or report
 * "@what: ..." (EINVAL) and return -EINVAL.
 */
int bs_check_dev_arg(const char *what, const char *arg);

/*
 * Parse -j/-p/-h only, anywhere among the command's arguments; -1 to go
 * on (the arguments from optind on), else the exit code (see main.c).
 */
int bs_simple_opts(int argc, char **argv);

/* A warning the kernel attached to a successful reply, if any. */
void bs_kernel_warning(const struct bs_nl *nl);

/* INFO_GET: what the loaded module can do (info.c) */
struct bs_info {
	uint32_t	version;	/* family version; 1 without INFO_GET */
	uint64_t	features;	/* enum bootshake_features */
	uint32_t	kinds;		/* highest kind known, 0 = not said */
	bool		has_info;	/* the module answered INFO_GET */
};

int bs_info_get(struct bs_nl *nl, struct bs_info *info);
const char *bs_feature_name(uint64_t bit);
/*
 * 0 if the module has @feature, else report "the loaded bootshake module
 * does not support '@what' (...)" and return -EOPNOTSUPP.
 */
int bs_need(struct bs_nl *nl, uint64_t feature, const char *what);
/* Same for a kind the module may not know yet. */
int bs_need_kind(struct bs_nl *nl, uint32_t kind, const char *what);

int cmd_monitor(int argc, char **argv);
int cmd_policy(int argc, char **argv);
int cmd_arm(int argc, char **argv);
int cmd_retry(int argc, char **argv);
int cmd_release(int argc, char **argv);
int cmd_transcript(int argc, char **argv);
int cmd_diagnose(int argc, char **argv);
int cmd_version(int argc, char **argv);

#endif /* BOOTSHAKE_USER_BOOTSHAKE_H */
