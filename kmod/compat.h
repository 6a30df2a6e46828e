/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bootshake: every difference between the kernels bootshake builds for.
 * Nothing else in kmod/ deals with one.  Each shim names the upstream
 * change it papers over; features are detected by Kbuild (BSK_HAVE_*
 * flags, see ./Kbuild) rather than by version numbers.
 */
#ifndef _BOOTSHAKE_COMPAT_H
#define _BOOTSHAKE_COMPAT_H

#include <net/genetlink.h>

/*
 * Parsed attributes of a dump request.  v6.6 ("genetlink: add struct
 * genl_info to struct genl_dumpit_info") moved them into an embedded
 * genl_info and added genl_info_dump().
 */
#ifdef BSK_HAVE_GENL_INFO_DUMP
#define bsk_dump_attrs(cb)	(genl_info_dump(cb)->attrs)
#else
#define bsk_dump_attrs(cb)	(genl_dumpit_info(cb)->attrs)
#endif

#endif /* _BOOTSHAKE_COMPAT_H */
