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
 * attributes on the same interface show the same values, one per file:
 * bootshake_id, _kind, _state, _error and the kind's identity
 * (bootshake_hw_code, _chip; bootshake_family, _family_confidence,
 * _stm32_pid, _bl_version).  Documentation/ABI/testing/
 * sysfs-driver-bootshake describes them.
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
 * under the registry lock, and take a reference.  That is safe because
 * the binding's reference is dropped only after bsk_dev_unpublish() (or
 * bsk_dev_usb_removed() for a released device) has taken the registry
 * lock, and disconnect, on either interface, clears the driver data of
 * both before that: a reader holding the lock either sees NULL or a
 * device whose last reference cannot have been dropped yet.  Besides,
 * the driver core removes these files (and waits for running readers)
 * before our disconnect runs for the comm interface.
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

#define BSK_KINDS_MTK	(BIT(BOOTSHAKE_KIND_MTK_BROM) | \
			 BIT(BOOTSHAKE_KIND_MTK_PRELOADER))
#define BSK_KINDS_STM32	(BIT(BOOTSHAKE_KIND_STM32_DFU) | \
			 BIT(BOOTSHAKE_KIND_STM32_USART))

/**
 * struct bsk_ident_attr - one identity value as a sysfs attribute
 * @attr: the attribute, named bootshake_<key in lower case>
 * @key: the uevent variable it shows, e.g. "BOOTSHAKE_HW_CODE"
 * @kinds: BIT(enum bootshake_kind) of the kinds that have it
 */
struct bsk_ident_attr {
	struct device_attribute attr;
	const char *key;
	u32 kinds;
};

/* The value of the kind's uevent variable @key, or an empty line. */
static ssize_t bsk_ident_show(struct device *dev,
			      struct device_attribute *attr, char *buf)
{
	const struct bsk_ident_attr *ia =
		container_of(attr, struct bsk_ident_attr, attr);
	struct bsk_dev *bdev = bsk_dev_get_by_intf(to_usb_interface(dev));
	size_t klen = strlen(ia->key);
	struct bsk_env_var *vars;
	struct bsk_status st;
	ssize_t ret = 0;
	int i, n = 0;

	if (!bdev)
		return -ENODEV;
	vars = kcalloc(BSK_ENV_MAX, sizeof(*vars), GFP_KERNEL);
	if (!vars) {
		bsk_dev_put(bdev);
		return -ENOMEM;
	}
	bsk_dev_snapshot(bdev, &st);
	if (bdev->kind->env)
		n = bdev->kind->env(&st, vars, BSK_ENV_MAX);
	for (i = 0; i < n; i++) {
		if (!strncmp(vars[i].s, ia->key, klen) &&
		    vars[i].s[klen] == '=') {
			ret = sysfs_emit(buf, "%s\n", vars[i].s + klen + 1);
			break;
		}
	}
	if (i == n)
		ret = sysfs_emit(buf, "\n");	/* not read (yet) */
	kfree(vars);
	bsk_dev_put(bdev);
	return ret;
}

#define BSK_IDENT_ATTR(_name, _key, _kinds)				\
static struct bsk_ident_attr bsk_ident_##_name = {			\
	.attr = __ATTR(bootshake_##_name, 0444, bsk_ident_show, NULL),	\
	.key = _key,							\
	.kinds = _kinds,						\
}

BSK_IDENT_ATTR(hw_code, "BOOTSHAKE_HW_CODE", BSK_KINDS_MTK);
BSK_IDENT_ATTR(chip, "BOOTSHAKE_CHIP", BSK_KINDS_MTK);
BSK_IDENT_ATTR(family, "BOOTSHAKE_FAMILY", BSK_KINDS_STM32);
BSK_IDENT_ATTR(family_confidence, "BOOTSHAKE_FAMILY_CONFIDENCE",
	       BIT(BOOTSHAKE_KIND_STM32_DFU));
BSK_IDENT_ATTR(stm32_pid, "BOOTSHAKE_STM32_PID",
	       BIT(BOOTSHAKE_KIND_STM32_USART));
BSK_IDENT_ATTR(bl_version, "BOOTSHAKE_BL_VERSION",
	       BIT(BOOTSHAKE_KIND_STM32_USART));

static struct attribute *bsk_attrs[] = {
	&dev_attr_bootshake_id.attr,
	&dev_attr_bootshake_kind.attr,
	&dev_attr_bootshake_state.attr,
	&dev_attr_bootshake_error.attr,
	&bsk_ident_hw_code.attr.attr,
	&bsk_ident_chip.attr.attr,
	&bsk_ident_family.attr.attr,
	&bsk_ident_family_confidence.attr.attr,
	&bsk_ident_stm32_pid.attr.attr,
	&bsk_ident_bl_version.attr.attr,
	NULL
};

/*
 * The identity files a kind has.  The group is added after probe()
 * returned, so the interface's driver data names the device already.
 */
static umode_t bsk_attr_visible(struct kobject *kobj, struct attribute *a,
				int n)
{
	struct device *dev = kobj_to_dev(kobj);
	struct device_attribute *da =
		container_of(a, struct device_attribute, attr);
	const struct bsk_ident_attr *ia;
	struct bsk_dev *bdev;
	umode_t mode;

	if (da->show != bsk_ident_show)
		return a->mode;
	ia = container_of(da, struct bsk_ident_attr, attr);
	bdev = bsk_dev_get_by_intf(to_usb_interface(dev));
	if (!bdev)
		return 0;
	mode = ia->kinds & BIT(bdev->kind->id) ? a->mode : 0;
	bsk_dev_put(bdev);
	return mode;
}

static const struct attribute_group bsk_group = {
	.attrs = bsk_attrs,
	.is_visible = bsk_attr_visible,
};

const struct attribute_group *bsk_dev_groups[] = {
	&bsk_group,
	NULL
};
