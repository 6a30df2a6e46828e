/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bootshake CLI: likely causes of a failed or odd handshake, with fixes.
 */
#ifndef BOOTSHAKE_USER_DIAGNOSE_H
#define BOOTSHAKE_USER_DIAGNOSE_H

#include <stddef.h>

struct bs_dev;
struct bs_tr;

#define BS_DIAG_MAX	16

enum bs_severity {
	BS_SEV_INFO,		/* worth knowing, nothing is broken */
	BS_SEV_WARNING,		/* worked, but something is off */
	BS_SEV_ERROR,		/* why it failed */
};

struct bs_finding {
	const char	*code;		/* stable, e.g. "stray-bytes" */
	enum bs_severity severity;
	const char	*cause;		/* words a lab user understands */
	const char	*fix;
	char		evidence[256];	/* what in the state/transcript */
};

/*
 * Run every rule over the device and its transcript (@tr may be NULL when
 * the module keeps none). Returns the number of findings written to @out.
 */
size_t bs_diagnose(const struct bs_dev *dev, const struct bs_tr *tr,
		   struct bs_finding *out, size_t max);

const char *bs_severity_name(enum bs_severity sev);

#endif /* BOOTSHAKE_USER_DIAGNOSE_H */
