/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bootshake CLI: what the command files share.
 */
#ifndef BOOTSHAKE_USER_BOOTSHAKE_H
#define BOOTSHAKE_USER_BOOTSHAKE_H

#include "nl.h"

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

/* Shared option parsing: -j/--json and -h/--help are accepted anywhere. */
void bs_cmd_usage(const char *name, bool to_stderr);

/* The option getopt_long() just refused ('?' or ':'), for messages. */
const char *bad_opt(char **argv, int c);

int cmd_monitor(int argc, char **argv);

#endif /* BOOTSHAKE_USER_BOOTSHAKE_H */
