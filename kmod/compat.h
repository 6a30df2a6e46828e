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
 * get_unaligned_*()/put_unaligned_*().  v6.12-rc2, 5f60d5f6bbc1 ("move
 * asm/unaligned.h to linux/unaligned.h"), removed <asm/unaligned.h>.
 */
#ifdef BSK_HAVE_LINUX_UNALIGNED_H
#include <linux/unaligned.h>
#else
#include <asm/unaligned.h>
#endif

/*
 * hex_to_bin(), hex2bin(), bin2hex().  They moved from <linux/kernel.h> to
 * <linux/hex.h> after v6.1, kernel.h still including it; v7.0, 24c776355f40
 * ("kernel.h: drop hex.h and update all hex.h users"), stopped that.
 */
#ifdef BSK_HAVE_LINUX_HEX_H
#include <linux/hex.h>
#else
#include <linux/kernel.h>
#endif

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
