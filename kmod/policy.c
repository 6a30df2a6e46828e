// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake: who gets a handshake.
 *
 * A Preloader shows up on every ordinary boot of a MediaTek phone, and a
 * handshake stops that boot, so not every device that matches is synced:
 * each kind has a policy, "auto" (sync on probe), "watch" (claim and
 * report, send nothing) or "off" (do not bind).  "Arm" makes the next N
 * devices of a kind within T ms "auto", once each, so that a user arms,
 * reboots the phone and the preloader is caught within its window.
 * Per-kind deadlines live here too, settable at run time.
 */

#include <linux/jiffies.h>
#include <linux/mutex.h>
#include <linux/string.h>

#include "bootshake.h"

struct bsk_policy_state {
	enum bootshake_policy mode;
	u32 arm_count;
	unsigned long arm_expires;	/* jiffies */
	u32 step_ms;
	u32 sync_ms;
};

static struct bsk_policy_state bsk_policies[BOOTSHAKE_KIND_MAX + 1];
static DEFINE_MUTEX(bsk_policy_lock);

static const char * const bsk_policy_names[] = {
	[BOOTSHAKE_POLICY_OFF] = "off",
	[BOOTSHAKE_POLICY_WATCH] = "watch",
	[BOOTSHAKE_POLICY_AUTO] = "auto",
};

static int bsk_policy_parse_one(char *item)
{
	char *eq = strchr(item, '=');
	const struct bsk_kind *kind;
	int mode;

	if (!eq)
		return -EINVAL;
	*eq = '\0';
	kind = bsk_kind_by_name(item);
	if (!kind)
		return -EINVAL;
	mode = match_string(bsk_policy_names, ARRAY_SIZE(bsk_policy_names),
			    eq + 1);
	if (mode <= BOOTSHAKE_POLICY_UNSPEC)
		return -EINVAL;
	bsk_policies[kind->id].mode = mode;
	return 0;
}

/**
 * bsk_policy_init() - defaults from the kinds, then the module parameter
 * @param: "kind=policy[,kind=policy]...", may be NULL
 *
 * Return: 0, or -EINVAL for a malformed @param (the defaults stay).
 */
int bsk_policy_init(const char *param)
{
	char buf[128], *p = buf, *item;
	int i, ret = 0;

	for (i = 1; i <= BOOTSHAKE_KIND_MAX; i++) {
		const struct bsk_kind *kind = bsk_kinds[i];

		bsk_policies[i].mode = kind ? kind->default_policy :
					      BOOTSHAKE_POLICY_OFF;
		bsk_policies[i].step_ms = bsk_step_timeout_ms;
		bsk_policies[i].sync_ms = bsk_sync_timeout_ms;
	}

	if (!param || !*param)
		return 0;
	if (strscpy(buf, param, sizeof(buf)) < 0)
		return -EINVAL;
	while ((item = strsep(&p, ",")) && !ret) {
		if (*item)
			ret = bsk_policy_parse_one(item);
	}
	return ret;
}

/**
 * bsk_policy_decide() - what to do with a device of @kind that just probed
 * @kind: its kind
 *
 * Consumes one arm of @kind when the policy is "watch" and it is armed.
 *
 * Return: %BOOTSHAKE_POLICY_OFF, _WATCH or _AUTO.
 */
enum bootshake_policy bsk_policy_decide(const struct bsk_kind *kind)
{
	struct bsk_policy_state *p = &bsk_policies[kind->id];
	enum bootshake_policy mode;

	mutex_lock(&bsk_policy_lock);
	mode = p->mode;
	if (p->arm_count && time_after(jiffies, p->arm_expires))
		p->arm_count = 0;
	if (mode != BOOTSHAKE_POLICY_AUTO && p->arm_count) {
		p->arm_count--;
		mode = BOOTSHAKE_POLICY_AUTO;
	}
	mutex_unlock(&bsk_policy_lock);
	return mode;
}

/**
 * bsk_policy_deadlines() - the step and sync deadlines of @kind, in ms
 * @kind: the kind
 * @step_ms: one protocol step
 * @sync_ms: the whole sync
 */
void bsk_policy_deadlines(const struct bsk_kind *kind, u32 *step_ms,
			  u32 *sync_ms)
{
	mutex_lock(&bsk_policy_lock);
	*step_ms = bsk_policies[kind->id].step_ms;
	*sync_ms = bsk_policies[kind->id].sync_ms;
	mutex_unlock(&bsk_policy_lock);
}

/**
 * bsk_policy_get() - read a kind's policy
 * @kind: enum bootshake_kind, must name a known kind
 * @out: filled in; arm_timeout_ms is the time left
 */
void bsk_policy_get(enum bootshake_kind kind, struct bsk_policy *out)
{
	struct bsk_policy_state *p = &bsk_policies[kind];
	long left;

	mutex_lock(&bsk_policy_lock);
	left = (long)(p->arm_expires - jiffies);
	out->mode = p->mode;
	out->arm_count = left > 0 ? p->arm_count : 0;
	out->arm_timeout_ms = left > 0 && p->arm_count ?
			      jiffies_to_msecs(left) : 0;
	out->step_ms = p->step_ms;
	out->sync_ms = p->sync_ms;
	mutex_unlock(&bsk_policy_lock);
}

/**
 * bsk_policy_set() - change a kind's policy; zero fields stay as they are
 * @kind: enum bootshake_kind, must name a known kind
 * @in: mode, step_ms and sync_ms are used
 */
void bsk_policy_set(enum bootshake_kind kind, const struct bsk_policy *in)
{
	struct bsk_policy_state *p = &bsk_policies[kind];

	mutex_lock(&bsk_policy_lock);
	if (in->mode)
		p->mode = in->mode;
	if (in->step_ms)
		p->step_ms = in->step_ms;
	if (in->sync_ms)
		p->sync_ms = in->sync_ms;
	mutex_unlock(&bsk_policy_lock);
}

/**
 * bsk_policy_arm() - handshake the next @count devices of @kind
 * @kind: enum bootshake_kind, must name a known kind
 * @count: how many devices; 0 disarms
 * @timeout_ms: for how long
 */
void bsk_policy_arm(enum bootshake_kind kind, u32 count, u32 timeout_ms)
{
	struct bsk_policy_state *p = &bsk_policies[kind];

	mutex_lock(&bsk_policy_lock);
	p->arm_count = count;
	p->arm_expires = jiffies + msecs_to_jiffies(timeout_ms);
	mutex_unlock(&bsk_policy_lock);
}

/**
 * bsk_policy_name() - "off", "watch" or "auto"
 * @mode: the policy
 *
 * Return: its name, or "?" for an unknown value.
 */
const char *bsk_policy_name(enum bootshake_policy mode)
{
	if (mode <= BOOTSHAKE_POLICY_UNSPEC || mode > BOOTSHAKE_POLICY_MAX)
		return "?";
	return bsk_policy_names[mode];
}
