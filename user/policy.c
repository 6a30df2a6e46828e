// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake CLI: "policy" and "arm", who gets a handshake.
 *
 *   policy                          every kind's policy (dump)
 *   policy KIND                     one kind
 *   policy KIND [POLICY] [--step-timeout MS] [--sync-timeout MS]   set
 *   arm KIND [--count N] [--timeout S]    one-shot "auto" for N devices
 *
 * A set or an arm is followed by a get, so what is printed is what the
 * module now holds.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include <linux/bootshake.h>

#include "bootshake.h"
#include "dev.h"
#include "nl.h"
#include "policy.h"
#include "print.h"

static const struct nla_policy pol_policy[BOOTSHAKE_A_POLICY_MAX + 1] = {
	[BOOTSHAKE_A_POLICY_KIND]		= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_POLICY_MODE]		= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_POLICY_ARM_COUNT]		= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_POLICY_ARM_TIMEOUT_MS]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS]	= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS]	= { .type = NLA_U32, .maxlen = 4 },
};

int bs_policy_parse_msg(const struct nlmsghdr *nlh, struct bs_policy *pol,
			char *why, size_t whylen)
{
	struct nlattr *tb[BOOTSHAKE_A_POLICY_MAX + 1];
	struct nlmsghdr *h = (struct nlmsghdr *)nlh;
	uint32_t *field[BOOTSHAKE_A_POLICY_MAX + 1] = {
		[BOOTSHAKE_A_POLICY_KIND]		= &pol->kind,
		[BOOTSHAKE_A_POLICY_MODE]		= &pol->mode,
		[BOOTSHAKE_A_POLICY_ARM_COUNT]		= &pol->arm_count,
		[BOOTSHAKE_A_POLICY_ARM_TIMEOUT_MS]	= &pol->arm_timeout_ms,
		[BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS]	= &pol->step_ms,
		[BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS]	= &pol->sync_ms,
	};
	int i;

	memset(pol, 0, sizeof(*pol));
	if (!genlmsg_valid_hdr(h, 0)) {
		snprintf(why, whylen, "message too short for a genl header");
		return -EBADMSG;
	}
	if (genlmsg_parse(h, 0, tb, BOOTSHAKE_A_POLICY_MAX,
			  (struct nla_policy *)pol_policy) < 0) {
		/* every attribute is a u32: name the first that is not */
		struct nlattr *a;
		int rem;

		nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(h), 0),
				  genlmsg_attrlen(nlmsg_data(h), 0), rem) {
			int type = nla_type(a);

			if (type >= 1 && type <= BOOTSHAKE_A_POLICY_MAX &&
			    nla_len(a) != 4) {
				snprintf(why, whylen,
					 "attribute %s (%d) has %d bytes, expected 4",
					 bs_nl_space_attr_name(BS_ATTRS_POLICY,
							       type),
					 type, nla_len(a));
				return -EBADMSG;
			}
		}
		snprintf(why, whylen, "malformed policy attributes");
		return -EBADMSG;
	}
	if (!tb[BOOTSHAKE_A_POLICY_KIND]) {
		snprintf(why, whylen, "missing attribute kind (%d)",
			 BOOTSHAKE_A_POLICY_KIND);
		return -EBADMSG;
	}
	for (i = 1; i <= BOOTSHAKE_A_POLICY_MAX; i++) {
		if (!tb[i] || !field[i])
			continue;
		*field[i] = nla_get_u32(tb[i]);
		pol->present |= 1u << i;
	}
	return 0;
}

struct pol_collect {
	struct bs_policy	*v;
	size_t			n;
	size_t			cap;
	char			why[160];
};

static int pol_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct pol_collect *c = arg;
	struct bs_policy pol;
	int ret;

	ret = bs_policy_parse_msg(nlh, &pol, c->why, sizeof(c->why));
	if (ret)
		return ret;
	if (c->n == c->cap) {
		size_t cap = c->cap ? c->cap * 2 : 8;
		struct bs_policy *v = realloc(c->v, cap * sizeof(*v));

		if (!v) {
			snprintf(c->why, sizeof(c->why), "out of memory");
			return -ENOMEM;
		}
		c->v = v;
		c->cap = cap;
	}
	c->v[c->n++] = pol;
	return 0;
}

static int cmp_kind(const void *a, const void *b)
{
	const struct bs_policy *x = a, *y = b;

	return x->kind < y->kind ? -1 : x->kind > y->kind;
}

int bs_policy_dump(struct bs_nl *nl, struct bs_policy **v, size_t *n,
		   char *why, size_t whylen)
{
	struct pol_collect c = { 0 };
	struct nl_msg *msg;
	int ret;

	msg = bs_nl_msg(nl, BOOTSHAKE_CMD_POLICY_GET, NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	ret = bs_nl_request(nl, msg, pol_cb, &c);
	if (ret) {
		snprintf(why, whylen, "%s", c.why);
		free(c.v);
		return ret;
	}
	if (c.n > 1)
		qsort(c.v, c.n, sizeof(*c.v), cmp_kind);
	*v = c.v;
	*n = c.n;
	return 0;
}

int bs_policy_get(struct bs_nl *nl, uint32_t kind, struct bs_policy *pol,
		  char *why, size_t whylen)
{
	struct pol_collect c = { 0 };
	struct nl_msg *msg;
	int ret;

	msg = bs_nl_msg(nl, BOOTSHAKE_CMD_POLICY_GET, 0);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, BOOTSHAKE_A_POLICY_KIND, kind) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = bs_nl_request(nl, msg, pol_cb, &c);
	if (!ret && c.n != 1) {
		snprintf(c.why, sizeof(c.why),
			 "kernel sent %zu policies for one kind", c.n);
		ret = -EBADMSG;
	}
	if (ret)
		snprintf(why, whylen, "%s", c.why);
	else
		*pol = c.v[0];
	free(c.v);
	return ret;
}

/* --- commands ---------------------------------------------------------- */

/* A u32 of milliseconds (or a count): digits only. */
static int parse_u32(const char *s, uint32_t *out)
{
	unsigned long long v;
	char *end;

	if (!*s || strspn(s, "0123456789") != strlen(s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v > UINT32_MAX)
		return -EINVAL;
	*out = v;
	return 0;
}

/* Seconds, fractions allowed, to milliseconds. */
static int parse_secs_ms(const char *s, uint32_t *ms)
{
	double v;
	char *end;

	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || !isfinite(v) || v < 0 ||
	    v * 1000 > UINT32_MAX)
		return -EINVAL;
	*ms = (uint32_t)(v * 1000 + 0.5);
	return 0;
}

static int kind_arg(const char *cmd, const char *s, uint32_t *kind)
{
	int k = bs_kind_parse(s);

	if (k < 0) {
		print_error(EINVAL, NULL, "%s: unknown kind \"%s\" (one of %s)",
			    cmd, s, bs_kind_names_list());
		return -EINVAL;
	}
	*kind = k;
	return 0;
}

/* Print what the module holds for @kind now (after a set or an arm). */
static int show_one(struct bs_nl *nl, const char *what, uint32_t kind)
{
	struct bs_policy pol;
	char why[160] = "";
	int ret;

	ret = bs_policy_get(nl, kind, &pol, why, sizeof(why));
	if (ret) {
		bs_report(nl, ret, why, what);
		return ret;
	}
	bs_kernel_warning(nl);
	print_policy(&pol);
	return 0;
}

static int policy_list(struct bs_nl *nl)
{
	struct bs_policy *v = NULL;
	char why[160] = "";
	size_t n = 0;
	int ret;

	ret = bs_policy_dump(nl, &v, &n, why, sizeof(why));
	if (ret) {
		bs_report(nl, ret, why, "policy");
		return ret;
	}
	bs_kernel_warning(nl);
	print_policies(v, n);
	free(v);
	return 0;
}

static int policy_set(struct bs_nl *nl, const struct bs_policy *want)
{
	struct nl_msg *msg;
	int ret, i;

	msg = bs_nl_msg(nl, BOOTSHAKE_CMD_POLICY_SET, 0);
	if (!msg)
		return -ENOMEM;
	ret = nla_put_u32(msg, BOOTSHAKE_A_POLICY_KIND, want->kind);
	for (i = BOOTSHAKE_A_POLICY_MODE; !ret && i <= BOOTSHAKE_A_POLICY_MAX;
	     i++) {
		if (!BS_POL_HAS(want, i))
			continue;
		ret = nla_put_u32(msg, i,
				  i == BOOTSHAKE_A_POLICY_MODE ? want->mode :
				  i == BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS ?
				  want->step_ms : want->sync_ms);
	}
	if (ret < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = bs_nl_request(nl, msg, NULL, NULL);
	if (ret)
		bs_report(nl, ret, NULL, "policy");
	else
		bs_kernel_warning(nl);
	return ret;
}

int cmd_policy(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json",		no_argument,		NULL, 'j' },
		{ "pretty",		no_argument,		NULL, 'p' },
		{ "help",		no_argument,		NULL, 'h' },
		{ "step-timeout",	required_argument,	NULL, 's' },
		{ "sync-timeout",	required_argument,	NULL, 'S' },
		{ }
	};
	struct bs_policy want = { 0 };
	struct bs_nl nl;
	int c, ret, nargs;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jph", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			bs_json = true;
			break;
		case 'p':
			bs_pretty = true;
			break;
		case 'h':
			bs_cmd_usage(argv[0], false);
			return BS_EXIT_OK;
		case 's':
		case 'S':
			if (parse_u32(optarg, c == 's' ? &want.step_ms :
						       &want.sync_ms) ||
			    (c == 's' ? want.step_ms : want.sync_ms) <
			    BS_DEADLINE_MS_MIN ||
			    (c == 's' ? want.step_ms : want.sync_ms) >
			    BS_DEADLINE_MS_MAX) {
				print_error(EINVAL, NULL,
					    "policy: %s wants milliseconds, %u..%u, not \"%s\"",
					    c == 's' ? "--step-timeout" :
						       "--sync-timeout",
					    BS_DEADLINE_MS_MIN,
					    BS_DEADLINE_MS_MAX, optarg);
				return BS_EXIT_ERROR;
			}
			want.present |= 1u << (c == 's' ?
				BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS :
				BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS);
			break;
		case ':':
			print_error(EINVAL, NULL, "policy: %s needs a value",
				    bad_opt(argv, c));
			return BS_EXIT_ERROR;
		default:
			print_error(EINVAL, NULL, "policy: unknown option \"%s\"",
				    bad_opt(argv, c));
			return BS_EXIT_ERROR;
		}
	}
	nargs = argc - optind;
	if (nargs > 2) {
		print_error(EINVAL, NULL, "policy: too many arguments");
		return BS_EXIT_ERROR;
	}
	if (nargs == 0 && want.present) {
		print_error(EINVAL, NULL,
			    "policy: --step-timeout and --sync-timeout need a KIND");
		return BS_EXIT_ERROR;
	}
	if (nargs >= 1 && kind_arg("policy", argv[optind], &want.kind))
		return BS_EXIT_ERROR;
	if (nargs == 2) {
		int mode = bs_policy_parse(argv[optind + 1]);

		if (mode < 0) {
			print_error(EINVAL, NULL,
				    "policy: unknown policy \"%s\" (one of off, watch, auto)",
				    argv[optind + 1]);
			return BS_EXIT_ERROR;
		}
		want.mode = mode;
		want.present |= 1u << BOOTSHAKE_A_POLICY_MODE;
	}

	if (bs_open(&nl))
		return BS_EXIT_ERROR;
	ret = bs_need(&nl, BOOTSHAKE_FEAT_POLICY, "policy");
	if (!ret && nargs)
		ret = bs_need_kind(&nl, want.kind, "policy");
	if (ret)
		goto out;
	if (nargs == 0)
		ret = policy_list(&nl);
	else if (want.present)
		ret = policy_set(&nl, &want) ?: show_one(&nl, "policy",
							 want.kind);
	else
		ret = show_one(&nl, "policy", want.kind);
out:
	bs_nl_close(&nl);
	return ret ? BS_EXIT_ERROR : BS_EXIT_OK;
}

int cmd_arm(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json",	no_argument,		NULL, 'j' },
		{ "pretty",	no_argument,		NULL, 'p' },
		{ "help",	no_argument,		NULL, 'h' },
		{ "count",	required_argument,	NULL, 'c' },
		{ "timeout",	required_argument,	NULL, 't' },
		{ }
	};
	uint32_t kind, count = 0, timeout_ms = 0;
	bool has_count = false, has_timeout = false;
	struct nl_msg *msg;
	struct bs_nl nl;
	int c, ret;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, ":jphc:t:", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			bs_json = true;
			break;
		case 'p':
			bs_pretty = true;
			break;
		case 'h':
			bs_cmd_usage(argv[0], false);
			return BS_EXIT_OK;
		case 'c':
			if (parse_u32(optarg, &count) ||
			    count > BS_ARM_COUNT_MAX) {
				print_error(EINVAL, NULL,
					    "arm: --count wants a number, 0..%u (0 disarms), not \"%s\"",
					    BS_ARM_COUNT_MAX, optarg);
				return BS_EXIT_ERROR;
			}
			has_count = true;
			break;
		case 't':
			if (parse_secs_ms(optarg, &timeout_ms) ||
			    timeout_ms < BS_ARM_TIMEOUT_MS_MIN ||
			    timeout_ms > BS_ARM_TIMEOUT_MS_MAX) {
				print_error(EINVAL, NULL,
					    "arm: --timeout wants seconds, %g..%u, not \"%s\"",
					    BS_ARM_TIMEOUT_MS_MIN / 1000.0,
					    BS_ARM_TIMEOUT_MS_MAX / 1000,
					    optarg);
				return BS_EXIT_ERROR;
			}
			has_timeout = true;
			break;
		case ':':
			print_error(EINVAL, NULL, "arm: %s needs a value",
				    bad_opt(argv, c));
			return BS_EXIT_ERROR;
		default:
			print_error(EINVAL, NULL, "arm: unknown option \"%s\"",
				    bad_opt(argv, c));
			return BS_EXIT_ERROR;
		}
	}
	if (optind + 1 != argc) {
		print_error(EINVAL, NULL, optind == argc ?
			    "arm: missing KIND (one of %s)" :
			    "arm: too many arguments%.0s",
			    bs_kind_names_list());
		return BS_EXIT_ERROR;
	}
	if (kind_arg("arm", argv[optind], &kind))
		return BS_EXIT_ERROR;

	if (bs_open(&nl))
		return BS_EXIT_ERROR;
	ret = bs_need(&nl, BOOTSHAKE_FEAT_POLICY, "arm") ?:
	      bs_need_kind(&nl, kind, "arm");
	if (ret)
		goto out;

	/* absent count/timeout: the module's defaults (1, 60 s) */
	ret = -ENOMEM;
	msg = bs_nl_msg(&nl, BOOTSHAKE_CMD_ARM, 0);
	if (!msg ||
	    nla_put_u32(msg, BOOTSHAKE_A_POLICY_KIND, kind) < 0 ||
	    (has_count &&
	     nla_put_u32(msg, BOOTSHAKE_A_POLICY_ARM_COUNT, count) < 0) ||
	    (has_timeout &&
	     nla_put_u32(msg, BOOTSHAKE_A_POLICY_ARM_TIMEOUT_MS,
			 timeout_ms) < 0)) {
		nlmsg_free(msg);
		print_error(ret, NULL, "arm: cannot build the request");
		goto out;
	}
	ret = bs_nl_request(&nl, msg, NULL, NULL);
	if (ret) {
		bs_report(&nl, ret, NULL, "arm");
		goto out;
	}
	bs_kernel_warning(&nl);
	ret = show_one(&nl, "arm", kind);
out:
	bs_nl_close(&nl);
	return ret ? BS_EXIT_ERROR : BS_EXIT_OK;
}
