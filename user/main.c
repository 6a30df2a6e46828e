// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake - list, show, monitor, steer and diagnose the devices of the
 * bootshake module over its "bootshake" generic netlink family.
 *
 * Exit status: 0 success, 1 error (usage errors included),
 * 2 "monitor --timeout" expired before "--count" events.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/bootshake.h>

#include "bootshake.h"
#include "dev.h"
#include "nl.h"
#include "print.h"

static int cmd_list(int argc, char **argv);
static int cmd_show(int argc, char **argv);
static int cmd_help(int argc, char **argv);

static const struct cmd cmds[] = {
	{
		.name	 = "list",
		.args	 = "",
		.handler = cmd_list,
		.help	 = "List all devices bound to bootshake.\n"
			   "Human: a table; JSON: an array of device objects.",
	},
	{
		.name	 = "show",
		.args	 = "DEV",
		.handler = cmd_show,
		.help	 = "Show one device by id or USB path.\n"
			   "DEV is a numeric id or a USB path such as 1-1.2.\n"
			   "Human: one \"key: value\" line per field; JSON: one\n"
			   "device object. An unknown DEV is an error (ENOENT).",
	},
	{
		.name	 = "monitor",
		.args	 = "[--dump] [--count N] [--timeout SECS] [--journal]\n"
			   "          [--rcvbuf BYTES] [--exec CMD [--kind K] [--jobs N] [--release]\n"
			   "          [--grace SECS] [--device DEV] [--once]]",
		.handler = cmd_monitor,
		.help	 = "Print device events as they happen.\n"
			   "One line per event (add, change, remove) with a UTC\n"
			   "timestamp (when the kernel sent it). JSON: one\n"
			   "compact device object per line plus \"event\",\n"
			   "\"timestamp\", \"time_ns\" and \"read_ns\" (when read).\n"
			   "  --dump          first print the current devices as\n"
			   "                  \"exists\" events, then a \"dump-done\" line\n"
			   "                  (subscribes first, so nothing is missed\n"
			   "                  after it)\n"
			   "  --count N       exit 0 after N add/change/remove events\n"
			   "  --timeout SECS  stop after SECS (fractions allowed): exit 2\n"
			   "                  if --count was given and not reached, else 0\n"
			   "  --journal       also send each event to the systemd journal\n"
			   "                  with BOOTSHAKE_ID=, BOOTSHAKE_PATH=,\n"
			   "                  BOOTSHAKE_KIND=, BOOTSHAKE_STATE=,\n"
			   "                  BOOTSHAKE_EVENT=, MESSAGE= and PRIORITY=\n"
			   "  --rcvbuf BYTES  socket receive buffer for events (default\n"
			   "                  4 MiB); the kernel drops events past it\n"
			   "If the kernel drops events (ENOBUFS), a \"resync\" event is\n"
			   "printed and the device list is re-read as \"exists\" events.\n"
			   "  --exec CMD      run /bin/sh -c CMD for each device that\n"
			   "                  becomes ready (with --dump: that is ready),\n"
			   "                  identity in BOOTSHAKE_* variables, its JSON\n"
			   "                  on stdin, output to stderr; \"job-start\",\n"
			   "                  \"job-exit\" (exit_code, signal, duration_ms,\n"
			   "                  device_gone) and \"job-cancel\" events\n"
			   "  --kind K        only devices of kind K (K,K... or repeated)\n"
			   "  --jobs N        at most N jobs at once, the rest queued in\n"
			   "                  order (default 1)\n"
			   "  --release       release the device before its job starts\n"
			   "  --grace SECS    a device left while its job runs: SIGTERM\n"
			   "                  after SECS, SIGKILL after SECS more (default 5)\n"
			   "  --device DEV    only this device (id or USB path); end when\n"
			   "                  it has left and its job has ended\n"
			   "  --once          end after the first job, with its exit status\n"
			   "                  (128+N: signal N); with --dump, at once if no\n"
			   "                  device is ready\n"
			   "When the monitor ends, queued jobs are cancelled and running\n"
			   "ones get SIGTERM (SIGKILL after the grace period).",
	},
	{
		.name	 = "policy",
		.args	 = "[KIND [POLICY] [--step-timeout MS] [--sync-timeout MS]]",
		.handler = cmd_policy,
		.help	 = "Show or set a kind's policy for new devices.\n"
			   "No KIND: a table of every kind. KIND: that kind.\n"
			   "KIND POLICY: set it; POLICY is one of\n"
			   "  off    do not bind devices of this kind\n"
			   "  watch  bind and report them, send nothing\n"
			   "  auto   bind and handshake at once\n"
			   "  --step-timeout MS  deadline of one protocol step\n"
			   "  --sync-timeout MS  deadline of the whole sync\n"
			   "MS is 1..600000 (10 minutes).\n"
			   "KIND is one of mtk-brom, mtk-preloader, stm32-dfu,\n"
			   "stm32-usart. Setting needs CAP_NET_ADMIN. JSON: an array\n"
			   "of policy objects, or one.",
	},
	{
		.name	 = "arm",
		.args	 = "KIND [--count N] [--timeout SECS]",
		.handler = cmd_arm,
		.help	 = "Handshake a kind's next devices, whatever the policy.\n"
			   "The next N devices of KIND that appear within SECS get\n"
			   "a handshake (a one-shot \"auto\"): arm, then reboot the\n"
			   "phone, and its preloader is caught in its window.\n"
			   "  --count N       devices to catch, 1..64 (default 1);\n"
			   "                  0 disarms: cancels an arm of KIND\n"
			   "  --timeout SECS  how long the arm lasts, 0.001..3600\n"
			   "                  (default 60)\n"
			   "Needs CAP_NET_ADMIN. Prints the kind's policy afterwards.",
	},
	{
		.name	 = "retry",
		.args	 = "DEV",
		.handler = cmd_retry,
		.help	 = "Run the handshake again on a device.\n"
			   "The device must be one bootshake holds (failed, ready,\n"
			   "or watching under policy \"watch\").\n"
			   "Needs CAP_NET_ADMIN. Prints the device afterwards; follow\n"
			   "it with \"bootshake monitor\".",
	},
	{
		.name	 = "release",
		.args	 = "DEV",
		.handler = cmd_release,
		.help	 = "Give the device up to a userspace flashing tool.\n"
			   "The device is left as it is for a libusb tool: nothing\n"
			   "more is sent to it. It stays listed as\n"
			   "\"released\" until it leaves the bus and is not grabbed\n"
			   "again on this connection. Needs CAP_NET_ADMIN.",
	},
	{
		.name	 = "transcript",
		.args	 = "DEV",
		.handler = cmd_transcript,
		.help	 = "Print the bytes of the device's handshake.\n"
			   "Each record with its time since probe: \">\" host to\n"
			   "device, \"<\" device to host,\n"
			   "\"#\" the driver's notes. \"!! here:\" marks where the sync\n"
			   "went wrong. JSON: {\"id\", \"records\": [{\"t_ns\", \"dir\",\n"
			   "\"hex\", \"text\"}], \"lost\", \"mark\"}.",
	},
	{
		.name	 = "diagnose",
		.args	 = "DEV",
		.handler = cmd_diagnose,
		.help	 = "Name the likely cause of a failed or odd handshake.\n"
			   "From the transcript and the state, each with its fix:\n"
			   "\"cause: ...\" and \"fix: ...\" per finding, or \"no problem\n"
			   "found\". JSON: {\"id\", \"state\", \"findings\": [{\"code\",\n"
			   "\"severity\", \"cause\", \"fix\", \"evidence\"}]}.",
	},
	{
		.name	 = "version",
		.args	 = "",
		.handler = cmd_version,
		.help	 = "Print the helper's and the loaded module's versions.\n"
			   "Also the generic netlink family's version and the\n"
			   "kinds and features the module reports (INFO_GET).\n"
			   "Without the module: the helper's version, and\n"
			   "\"module: not loaded\" (exit 0). JSON: {\"helper_version\",\n"
			   "\"module_loaded\", \"module_version\", \"family\",\n"
			   "\"family_version\", \"helper_family_version\", \"kinds\",\n"
			   "\"features\"}.",
	},
	{
		.name	 = "help",
		.args	 = "[COMMAND]",
		.handler = cmd_help,
		.help	 = "Print this help, or the help of one command.",
	},
};

#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#define NCMDS		ARRAY_SIZE(cmds)

static const struct cmd *find_cmd(const char *name)
{
	size_t i;

	for (i = 0; i < NCMDS; i++)
		if (!strcmp(cmds[i].name, name))
			return &cmds[i];
	return NULL;
}

static void usage(FILE *f)
{
	size_t i;

	fprintf(f,
		"Usage: bootshake [OPTIONS] COMMAND [ARGS]\n"
		"\n"
		"Options (anywhere on the line, before or after COMMAND):\n"
		"  -j, --json      JSON output: results on stdout; errors\n"
		"                  ({\"command_error\": {...}}) and warnings\n"
		"                  on stderr\n"
		"  -p, --pretty    indent JSON documents (default: compact)\n"
		"  -h, --help      print this help\n"
		"  -V, --version   print the helper's version\n"
		"\n"
		"Commands:\n");
	for (i = 0; i < NCMDS; i++) {
		const char *h = cmds[i].help;
		int n;

		/* first line of the help only; "help COMMAND" has the rest */
		n = fprintf(f, "  %s%s%s", cmds[i].name,
			    cmds[i].args[0] ? " " : "", cmds[i].args);
		if (n > 22)
			n = fprintf(f, "\n") - 1;
		fprintf(f, "%*s%.*s\n", 24 - n, "", (int)strcspn(h, "\n"), h);
	}
	fprintf(f,
		"\n"
		"DEV is a device id (a number) or a USB path such as 1-1.2.\n"
		"Exit status: 0 ok, 1 error, 2 monitor timed out before --count.\n"
		"See \"bootshake help COMMAND\" and bootshake(8) for details.\n");
}

void bs_cmd_usage(const char *name, bool to_stderr)
{
	const struct cmd *c = find_cmd(name);
	FILE *f = to_stderr ? stderr : stdout;

	if (!c)
		return;
	fprintf(f, "Usage: bootshake [-j [-p]] %s%s%s\n\n%s\n", c->name,
		c->args[0] ? " " : "", c->args, c->help);
}

int bs_open(struct bs_nl *nl)
{
	int ret = bs_nl_open(nl, BOOTSHAKE_FAMILY_NAME);

	if (ret == -ENOENT)
		print_error(ret, NULL,
			    "generic netlink family \"%s\" not found (is the bootshake module loaded?)",
			    BOOTSHAKE_FAMILY_NAME);
	else if (ret)
		print_error(ret, NULL, "cannot open generic netlink socket: %s",
			    strerror(-ret));
	return ret;
}

void bs_report(const struct bs_nl *nl, int err, const char *why,
	       const char *what)
{
	const struct bs_nl_extack *ext = &nl->ext;
	char extra[128] = "";

	if (err == -EBADMSG && why && why[0]) {
		print_error(err, NULL, "%s: malformed reply from the kernel: %s",
			    what, why);
		return;
	}
	if (err == -EPERM) {
		print_error(err, ext->msg,
			    "%s: operation not permitted (needs CAP_NET_ADMIN)",
			    what);
		return;
	}
	if (ext->miss_type >= 0)
		snprintf(extra, sizeof(extra), " (missing attribute %s)",
			 bs_nl_space_attr_name(nl->space, ext->miss_type));
	else if (ext->bad_attr >= 0)
		snprintf(extra, sizeof(extra), " (bad attribute %s)",
			 bs_nl_space_attr_name(nl->space, ext->bad_attr));
	print_error(err, ext->msg, "%s: %s%s", what, strerror(-err), extra);
}

void bs_kernel_warning(const struct bs_nl *nl)
{
	if (nl->ext.warning && nl->ext.msg[0])
		print_warning("kernel: %s", nl->ext.msg);
}

/* The option getopt just refused, for the error message. */
const char *bad_opt(char **argv, int c)
{
	static char buf[3];

	/* ':' (missing value): optind is past the option, long or short */
	if (c != ':' && optopt) {
		snprintf(buf, sizeof(buf), "-%c", optopt);
		return buf;
	}
	return argv[optind - 1];
}

/*
 * Per-command options. Only -j, -p and -h here; monitor, policy and arm
 * have their own tables. Options may come anywhere after the command
 * (getopt permutes): "show 1 -j" is "show -j 1". Returns -1 to go on,
 * otherwise the exit code.
 */
int bs_simple_opts(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "pretty", no_argument, NULL, 'p' },
		{ "help", no_argument, NULL, 'h' },
		{ }
	};
	int c;

	optind = 0;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "jph", opts, NULL)) != -1) {
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
		default:
			print_error(EINVAL, NULL, "%s: unknown option \"%s\"",
				    argv[0], bad_opt(argv, c));
			return BS_EXIT_ERROR;
		}
	}
	return -1;
}

static int cmd_list(int argc, char **argv)
{
	struct bs_dev_list list = { 0 };
	struct bs_nl nl;
	char why[160] = "";
	int ret;

	ret = bs_simple_opts(argc, argv);
	if (ret >= 0)
		return ret;
	if (optind < argc) {
		print_error(EINVAL, NULL, "list: unexpected argument \"%s\"",
			    argv[optind]);
		return BS_EXIT_ERROR;
	}

	if (bs_open(&nl))
		return BS_EXIT_ERROR;
	ret = bs_dev_dump(&nl, &list, why, sizeof(why));
	if (ret) {
		bs_report(&nl, ret, why, "list");
	} else {
		bs_kernel_warning(&nl);
		print_dev_list(&list);
	}
	bs_dev_list_free(&list);
	bs_nl_close(&nl);
	return ret ? BS_EXIT_ERROR : BS_EXIT_OK;
}

static int find_by_path(struct bs_nl *nl, const char *what,
			const char *path, struct bs_dev *dev)
{
	struct bs_dev_list list = { 0 };
	char why[160] = "";
	size_t i;
	int ret;

	ret = bs_dev_dump(nl, &list, why, sizeof(why));
	if (ret) {
		bs_report(nl, ret, why, what);
		goto out;
	}
	ret = -ENOENT;
	for (i = 0; i < list.n; i++) {
		if (list.v[i].path && !strcmp(list.v[i].path, path)) {
			*dev = list.v[i];
			memset(&list.v[i], 0, sizeof(list.v[i]));
			ret = 0;
			break;
		}
	}
	if (ret)
		print_error(ret, NULL, "no device at USB path \"%s\"", path);
out:
	bs_dev_list_free(&list);
	return ret;
}

static int find_by_id(struct bs_nl *nl, const char *what, uint32_t id,
		      struct bs_dev *dev)
{
	char why[160] = "";
	int ret;

	ret = bs_dev_get(nl, id, dev, why, sizeof(why));
	if (ret == -ENOENT || ret == -ENODEV) {
		/* one errno for "no such device", whatever the kernel picked */
		print_error(ENOENT, nl->ext.msg, "no device with id %u", id);
		return -ENOENT;
	}
	if (ret) {
		bs_report(nl, ret, why, what);
		return ret;
	}
	bs_kernel_warning(nl);
	return 0;
}

int bs_check_dev_arg(const char *what, const char *arg)
{
	char why[160];

	if (!bs_dev_check_arg(arg, why, sizeof(why)))
		return 0;
	print_error(EINVAL, NULL, "%s: %s", what, why);
	return -EINVAL;
}

int bs_resolve_dev(struct bs_nl *nl, const char *what, const char *arg,
		   struct bs_dev *dev)
{
	uint32_t id;

	memset(dev, 0, sizeof(*dev));
	if (bs_dev_parse_id(arg, &id))
		return find_by_id(nl, what, id, dev);
	return find_by_path(nl, what, arg, dev);
}

static int cmd_show(int argc, char **argv)
{
	struct bs_dev dev;
	struct bs_nl nl;
	int ret;

	ret = bs_simple_opts(argc, argv);
	if (ret >= 0)
		return ret;
	if (optind + 1 != argc) {
		print_error(EINVAL, NULL, optind == argc ?
			    "show: missing DEV (a device id or USB path)" :
			    "show: too many arguments");
		return BS_EXIT_ERROR;
	}
	if (bs_check_dev_arg("show", argv[optind]))
		return BS_EXIT_ERROR;

	if (bs_open(&nl))
		return BS_EXIT_ERROR;
	ret = bs_resolve_dev(&nl, "show", argv[optind], &dev);
	if (!ret) {
		print_dev(&dev);
		bs_dev_clear(&dev);
	}
	bs_nl_close(&nl);
	return ret ? BS_EXIT_ERROR : BS_EXIT_OK;
}

static int cmd_help(int argc, char **argv)
{
	int ret;

	ret = bs_simple_opts(argc, argv);
	if (ret >= 0)
		return ret;
	if (optind == argc) {
		usage(stdout);
		return BS_EXIT_OK;
	}
	if (!find_cmd(argv[optind])) {
		print_error(EINVAL, NULL, "help: unknown command \"%s\"",
			    argv[optind]);
		return BS_EXIT_ERROR;
	}
	bs_cmd_usage(argv[optind], false);
	return BS_EXIT_OK;
}

static void version(void)
{
	if (bs_json) {
		printf("{\"version\": \"%s\", \"family\": \"%s\", \"family_version\": %d}\n",
		       BOOTSHAKE_VERSION, BOOTSHAKE_FAMILY_NAME,
		       BOOTSHAKE_FAMILY_VERSION);
		return;
	}
	printf("bootshake %s (genl family \"%s\" version %d)\n",
	       BOOTSHAKE_VERSION, BOOTSHAKE_FAMILY_NAME,
	       BOOTSHAKE_FAMILY_VERSION);
}

/*
 * Options are accepted anywhere, but getopt sees them in order: an error
 * about an argument before a trailing "-j" would be printed as text. So
 * look for -j/-p among the command's arguments first (the values of the
 * options that take one skipped, nothing after "--"); the command's
 * parser takes them again.
 */
static void prescan_output_opts(int argc, char **argv)
{
	static const char * const with_value[] = {
		"-c", "-t", "--count", "--timeout", "--rcvbuf", "--exec",
		"--kind", "--jobs", "--grace", "--device", "--step-timeout",
		"--sync-timeout",
	};
	int i;
	size_t k;

	for (i = 1; i < argc; i++) {
		const char *a = argv[i];

		if (!strcmp(a, "--"))
			return;
		if (!strcmp(a, "-j") || !strcmp(a, "--json"))
			bs_json = true;
		else if (!strcmp(a, "-p") || !strcmp(a, "--pretty"))
			bs_pretty = true;
		else if (!strcmp(a, "-jp") || !strcmp(a, "-pj"))
			bs_json = bs_pretty = true;
		for (k = 0; k < ARRAY_SIZE(with_value); k++)
			if (!strcmp(a, with_value[k]))
				i++;
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json",	no_argument, NULL, 'j' },
		{ "pretty",	no_argument, NULL, 'p' },
		{ "help",	no_argument, NULL, 'h' },
		{ "version",	no_argument, NULL, 'V' },
		{ }
	};
	bool want_help = false, want_version = false;
	const struct cmd *cmd;
	int c;

	opterr = 0;
	/* up to the command; the command's own parser takes the rest */
	while ((c = getopt_long(argc, argv, "+jphV", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			bs_json = true;
			break;
		case 'p':
			bs_pretty = true;
			break;
		case 'h':
			want_help = true;
			break;
		case 'V':
			want_version = true;
			break;
		default:
			print_error(EINVAL, NULL, "unknown option \"%s\" (try --help)",
				    bad_opt(argv, c));
			return BS_EXIT_ERROR;
		}
	}
	if (want_help) {
		usage(stdout);
		return BS_EXIT_OK;
	}
	if (want_version) {
		version();
		return BS_EXIT_OK;
	}
	if (optind == argc) {
		if (bs_json)
			print_error(EINVAL, NULL, "no command given (try --help)");
		else
			usage(stderr);
		return BS_EXIT_ERROR;
	}

	/* -j/-p after the command count for its usage errors too */
	prescan_output_opts(argc - optind, argv + optind);
	cmd = find_cmd(argv[optind]);
	if (!cmd) {
		print_error(EINVAL, NULL, "unknown command \"%s\" (try --help)",
			    argv[optind]);
		return BS_EXIT_ERROR;
	}
	return cmd->handler(argc - optind, argv + optind);
}
