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

/*
 * bsk_policy_lock guards bsk_policies[] and bsk_policy_ready.  The
 * deadline parameters bsk_step_timeout_ms and bsk_sync_timeout_ms are
 * written only by bsk_policy_set_deadline(), under both the module's
 * kernel_param_lock (taken by the sysfs store) and bsk_policy_lock, so
 * either lock is enough to read them: sysfs reads under the first, this
 * file under the second.  Every kind's step deadline is at most its sync
 * deadline; whoever changes one checks that under bsk_policy_lock.
 */
static struct bsk_policy_state bsk_policies[BOOTSHAKE_KIND_MAX + 1];
static bool bsk_policy_ready;
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
 * Also checks the deadline parameters given at load, which the loader
 * sets one by one (in any order) before this runs.
 *
 * Return: 0, or -EINVAL for a malformed @param (the defaults stay) or a
 * step deadline longer than the sync deadline.
 */
int bsk_policy_init(const char *param)
{
	char buf[128], *p = buf, *item;
	int i, ret = 0;

	mutex_lock(&bsk_policy_lock);
	if (bsk_step_timeout_ms > bsk_sync_timeout_ms) {
		pr_err("bootshake: step_timeout_ms=%u is longer than sync_timeout_ms=%u\n",
		       bsk_step_timeout_ms, bsk_sync_timeout_ms);
		mutex_unlock(&bsk_policy_lock);
		return -EINVAL;
	}
	for (i = 1; i <= BOOTSHAKE_KIND_MAX; i++) {
		const struct bsk_kind *kind = bsk_kinds[i];

		bsk_policies[i].mode = kind ? kind->default_policy :
					      BOOTSHAKE_POLICY_OFF;
		bsk_policies[i].step_ms = bsk_step_timeout_ms;
		bsk_policies[i].sync_ms = bsk_sync_timeout_ms;
	}
	bsk_policy_ready = true;
	mutex_unlock(&bsk_policy_lock);

	if (!param || !*param)
		return 0;
	if (strscpy(buf, param, sizeof(buf)) < 0)
		ret = -EINVAL;
	while (!ret && (item = strsep(&p, ","))) {
		if (*item)
			ret = bsk_policy_parse_one(item);
	}
	if (ret)
		pr_err("bootshake: malformed policy=\"%s\"\n", param);
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
 *
 * The step deadline must not be longer than the sync deadline: checked
 * against the values in force, under the same lock as the change, so
 * that two concurrent changes cannot together break the rule.
 *
 * Return: 0, or -ERANGE (nothing changed) when the step deadline would be
 * longer than the sync deadline.
 */
int bsk_policy_set(enum bootshake_kind kind, const struct bsk_policy *in)
{
	struct bsk_policy_state *p = &bsk_policies[kind];
	int ret = 0;

	mutex_lock(&bsk_policy_lock);
	if ((in->step_ms ?: p->step_ms) > (in->sync_ms ?: p->sync_ms)) {
		ret = -ERANGE;
		goto out;
	}
	if (in->mode)
		p->mode = in->mode;
	if (in->step_ms)
		p->step_ms = in->step_ms;
	if (in->sync_ms)
		p->sync_ms = in->sync_ms;
out:
	mutex_unlock(&bsk_policy_lock);
	return ret;
}

/**
 * bsk_policy_set_deadline() - a deadline module parameter was written
 * @sync: true for sync_timeout_ms, false for step_timeout_ms
 * @ms: the new value, at least 1
 *
 * Before bsk_policy_init() (parameters given at load) the value is only
 * stored; bsk_policy_init() checks the pair.  Afterwards the value becomes
 * that deadline of every kind, for the devices that probe from now on,
 * unless some kind's step deadline would then be longer than its sync
 * deadline.  Called with the module's kernel_param_lock held.
 *
 * Return: 0, or -EINVAL (nothing changed).
 */
int bsk_policy_set_deadline(bool sync, u32 ms)
{
	int i, ret = 0;

	mutex_lock(&bsk_policy_lock);
	if (!bsk_policy_ready) {
		*(sync ? &bsk_sync_timeout_ms : &bsk_step_timeout_ms) = ms;
		goto out;
	}
	if (sync ? bsk_step_timeout_ms > ms : ms > bsk_sync_timeout_ms) {
		ret = -EINVAL;
		goto out;
	}
	for (i = 1; i <= BOOTSHAKE_KIND_MAX; i++) {
		struct bsk_policy_state *p = &bsk_policies[i];

		if (sync ? p->step_ms > ms : ms > p->sync_ms) {
			ret = -EINVAL;
			goto out;
		}
	}
	for (i = 1; i <= BOOTSHAKE_KIND_MAX; i++)
		*(sync ? &bsk_policies[i].sync_ms : &bsk_policies[i].step_ms) = ms;
	*(sync ? &bsk_sync_timeout_ms : &bsk_step_timeout_ms) = ms;
out:
	mutex_unlock(&bsk_policy_lock);
	return ret;
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
