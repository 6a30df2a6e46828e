// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake: udev's view of a device.
 *
 * On every state change a KOBJ_CHANGE uevent on the bound (comm)
 * interface carries BOOTSHAKE_ID, _KIND, _STATE, the key identity and
 * BOOTSHAKE_ERROR when failed, so that a udev rule can start a job when a
 * device becomes ready.  Identity: BOOTSHAKE_HW_CODE and BOOTSHAKE_CHIP
 * for MediaTek; BOOTSHAKE_FAMILY for STM32, with
 * BOOTSHAKE_FAMILY_CONFIDENCE (DFU: inferred) or BOOTSHAKE_STM32_PID and
 * BOOTSHAKE_BL_VERSION (USART: read from the chip).  Read-only sysfs
 * attributes on the same interface (bootshake_*) show the same values.
 */

#include <linux/kobject.h>
#include <linux/slab.h>
#include <linux/sysfs.h>

#include "bootshake.h"

static const char * const bsk_state_names[] = {
	[BOOTSHAKE_STATE_UNSPEC] = "unspec",
	[BOOTSHAKE_STATE_PROBED] = "probed",
	[BOOTSHAKE_STATE_SYNCING] = "syncing",
	[BOOTSHAKE_STATE_IDENTIFYING] = "identifying",
	[BOOTSHAKE_STATE_READY] = "ready",
	[BOOTSHAKE_STATE_FAILED] = "failed",
	[BOOTSHAKE_STATE_GONE] = "gone",
	[BOOTSHAKE_STATE_WATCHING] = "watching",
	[BOOTSHAKE_STATE_RELEASED] = "released",
};

/**
 * bsk_state_name() - the user-visible name of a state
 * @state: the state
 *
 * Return: its name, the same as the helper's JSON uses.
 */
const char *bsk_state_name(enum bootshake_state state)
{
	if (state > BOOTSHAKE_STATE_MAX)
		return "unknown";
	return bsk_state_names[state];
}

#define BSK_ENV_MAX	8

/* Identity and error as "KEY=value" strings; returns how many. */
static int bsk_env_fill(struct bsk_dev *bdev, const struct bsk_status *st,
			struct bsk_env_var *vars)
{
	int n = 0;

	snprintf(vars[n++].s, BSK_ENV_LEN, "BOOTSHAKE_ID=%u", bdev->id);
	snprintf(vars[n++].s, BSK_ENV_LEN, "BOOTSHAKE_KIND=%s", bdev->kind->name);
	snprintf(vars[n++].s, BSK_ENV_LEN, "BOOTSHAKE_STATE=%s",
		 bsk_state_name(st->state));
	snprintf(vars[n++].s, BSK_ENV_LEN, "BOOTSHAKE_PATH=%s", bdev->path);
	if (bdev->kind->env)
		n += bdev->kind->env(st, &vars[n], BSK_ENV_MAX - 1 - n);
	if (st->error_code && n < BSK_ENV_MAX - 1)
		snprintf(vars[n++].s, BSK_ENV_LEN, "BOOTSHAKE_ERROR=%s", st->error_code);
	return n;
}

/**
 * bsk_uevent_state() - tell udev about the device's current state
 * @bdev: the device
 *
 * Process context (the work item, probe, release).
 */
void bsk_uevent_state(struct bsk_dev *bdev)
{
	struct bsk_env_var *vars;
	char *envp[BSK_ENV_MAX + 1];
	struct bsk_status st;
	int i, n;

	vars = kcalloc(BSK_ENV_MAX, sizeof(*vars), GFP_KERNEL);
	if (!vars)
		return;
	bsk_dev_snapshot(bdev, &st);
	n = bsk_env_fill(bdev, &st, vars);
	for (i = 0; i < n; i++)
		envp[i] = vars[i].s;
	envp[n] = NULL;
	kobject_uevent_env(&bdev->intf->dev.kobj, KOBJ_CHANGE, envp);
	kfree(vars);
}

/*
 * Sysfs readers find the device through the interface's driver data,
 * under the registry lock: disconnect clears the data before it
 * unpublishes (under that lock), so a device found here is alive.
 */
static ssize_t bsk_attr_show(struct device *dev, char *buf,
			     ssize_t (*fn)(struct bsk_dev *bdev,
					   const struct bsk_status *st,
					   char *buf))
{
	struct bsk_dev *bdev = bsk_dev_get_by_intf(to_usb_interface(dev));
	struct bsk_status st;
	ssize_t ret;

	if (!bdev)
		return -ENODEV;
	bsk_dev_snapshot(bdev, &st);
	ret = fn(bdev, &st, buf);
	bsk_dev_put(bdev);
	return ret;
}

static ssize_t bsk_id_fn(struct bsk_dev *bdev, const struct bsk_status *st,
			 char *buf)
{
	return sysfs_emit(buf, "%u\n", bdev->id);
}

static ssize_t bsk_kind_fn(struct bsk_dev *bdev, const struct bsk_status *st,
			   char *buf)
{
	return sysfs_emit(buf, "%s\n", bdev->kind->name);
}

static ssize_t bsk_state_fn(struct bsk_dev *bdev, const struct bsk_status *st,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", bsk_state_name(st->state));
}

static ssize_t bsk_error_fn(struct bsk_dev *bdev, const struct bsk_status *st,
			    char *buf)
{
	return sysfs_emit(buf, "%s\n", st->error_code ?: "");
}

/* All identity variables of the kind, one KEY=value per line. */
static ssize_t bsk_ident_fn(struct bsk_dev *bdev, const struct bsk_status *st,
			    char *buf)
{
	struct bsk_env_var *vars;
	int i, n = 0, len = 0;

	vars = kcalloc(BSK_ENV_MAX, sizeof(*vars), GFP_KERNEL);
	if (!vars)
		return -ENOMEM;
	if (bdev->kind->env)
		n = bdev->kind->env(st, vars, BSK_ENV_MAX);
	for (i = 0; i < n; i++)
		len += sysfs_emit_at(buf, len, "%s\n", vars[i].s);
	kfree(vars);
	return len;
}

#define BSK_ATTR(_name, _fn)						\
static ssize_t bootshake_##_name##_show(struct device *dev,		\
					struct device_attribute *attr,	\
					char *buf)			\
{									\
	return bsk_attr_show(dev, buf, _fn);				\
}									\
static DEVICE_ATTR_RO(bootshake_##_name)

BSK_ATTR(id, bsk_id_fn);
BSK_ATTR(kind, bsk_kind_fn);
BSK_ATTR(state, bsk_state_fn);
BSK_ATTR(error, bsk_error_fn);
BSK_ATTR(identity, bsk_ident_fn);

static struct attribute *bsk_attrs[] = {
	&dev_attr_bootshake_id.attr,
	&dev_attr_bootshake_kind.attr,
	&dev_attr_bootshake_state.attr,
	&dev_attr_bootshake_error.attr,
	&dev_attr_bootshake_identity.attr,
	NULL
};

static const struct attribute_group bsk_group = {
	.attrs = bsk_attrs,
};

const struct attribute_group *bsk_dev_groups[] = {
	&bsk_group,
	NULL
};
