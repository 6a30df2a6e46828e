// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake CLI: "monitor --journal", events to the systemd journal.
 *
 * This speaks journald's native protocol itself instead of linking
 * libsystemd: one datagram per entry on /run/systemd/journal/socket, each
 * field "KEY=value\n", or for a value with a newline in it "KEY\n", the
 * length as a little-endian u64, the bytes, "\n" (systemd's
 * JOURNAL_NATIVE_PROTOCOL). Entries here are far below the datagram limit,
 * so the memfd path for huge entries is not needed.
 *
 * Every event type has its own MESSAGE_ID (below; `journalctl -x` explains
 * it from dist/bootshake.catalog, and `journalctl MESSAGE_ID=...` finds
 * them on a station or on a systemd-journal-remote receiver). A notification
 * that carries the kernel's send time has it as BOOTSHAKE_EVENT_NS.
 *
 * BOOTSHAKE_JOURNAL_SOCKET overrides the socket path (for tests).
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/bootshake.h>

#include "dev.h"
#include "journal.h"
#include "print.h"

#define JOURNAL_SOCKET	"/run/systemd/journal/socket"
#define ENTRY_MAX	8192

/* syslog(3) priorities */
#define PRI_ERR		3
#define PRI_WARNING	4
#define PRI_NOTICE	5
#define PRI_INFO	6

/*
 * MESSAGE_ID per event type: random 128-bit ids generated once, never to
 * change (scripts, alert rules and the catalog match on them). A new event
 * type gets a new random id here and an entry in dist/bootshake.catalog.
 */
static const struct {
	const char *event;
	const char *id;
} message_ids[] = {
	{ "add",	"c56489f8eb6c4537a057a5e47e32539d" },
	{ "change",	"f681ffda357044799e1cfb52a31e805f" },
	{ "remove",	"6ee270e1c99d45c787f3c1039b05dccb" },
	{ "resync",	"fc499c536a1d432e9d1205f2e7d82ed6" },
	{ "job-start",	"35079130d3974097a6ddea9b82bca03b" },
	{ "job-exit",	"33169ba355c8447ba8a57f1e05f30183" },
	{ "job-cancel",	"c1e59ce1f1a841f3beaa0facc9a0e1b9" },
};

const char *bs_journal_message_id(const char *event)
{
	size_t i;

	for (i = 0; i < sizeof(message_ids) / sizeof(message_ids[0]); i++)
		if (!strcmp(message_ids[i].event, event))
			return message_ids[i].id;
	return NULL;
}

struct entry {
	char	buf[ENTRY_MAX];
	size_t	len;
	bool	overflow;
};

static void field(struct entry *e, const char *key, const char *val)
{
	size_t klen = strlen(key), vlen = strlen(val);

	if (!strchr(val, '\n')) {
		if (e->len + klen + vlen + 2 > sizeof(e->buf)) {
			e->overflow = true;
			return;
		}
		memcpy(e->buf + e->len, key, klen);
		e->buf[e->len + klen] = '=';
		memcpy(e->buf + e->len + klen + 1, val, vlen);
		e->buf[e->len + klen + 1 + vlen] = '\n';
		e->len += klen + vlen + 2;
	} else {
		uint64_t n = vlen;
		int i;

		if (e->len + klen + vlen + 10 > sizeof(e->buf)) {
			e->overflow = true;
			return;
		}
		memcpy(e->buf + e->len, key, klen);
		e->buf[e->len + klen] = '\n';
		e->len += klen + 1;
		for (i = 0; i < 8; i++)
			e->buf[e->len++] = (n >> (8 * i)) & 0xff;
		memcpy(e->buf + e->len, val, vlen);
		e->len += vlen;
		e->buf[e->len++] = '\n';
	}
}

static void fieldf(struct entry *e, const char *key, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static void fieldf(struct entry *e, const char *key, const char *fmt, ...)
{
	char val[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	field(e, key, val);
}

const char *bs_journal_path(void)
{
	const char *p = getenv("BOOTSHAKE_JOURNAL_SOCKET");

	return p && *p ? p : JOURNAL_SOCKET;
}

int bs_journal_open(struct bs_journal *j)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	const char *path = bs_journal_path();
	int sndbuf = ENTRY_MAX * 4;

	memset(j, 0, sizeof(*j));
	j->fd = -1;
	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	j->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (j->fd < 0)
		return -errno;
	setsockopt(j->fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	/* connect once: a missing journald is reported up front */
	if (connect(j->fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int err = -errno;

		close(j->fd);
		j->fd = -1;
		return err;
	}
	return 0;
}

void bs_journal_close(struct bs_journal *j)
{
	if (j->fd >= 0)
		close(j->fd);
	j->fd = -1;
}

static int priority(const char *event, const struct bs_dev *dev)
{
	if (!dev)
		return PRI_WARNING;	/* resync: events were lost */
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE) &&
	    dev->state == BOOTSHAKE_STATE_FAILED)
		return PRI_ERR;
	if (!strcmp(event, "remove"))
		return PRI_NOTICE;
	return PRI_INFO;
}

int bs_journal_event(struct bs_journal *j, const char *event,
		     const struct bs_dev *dev, const char *note)
{
	return bs_journal_event_fields(j, event, dev, note, NULL, 0, -1);
}

/* "BOOTSHAKE_EXIT_CODE" from "exit_code" */
static void field_key(const char *key, char *buf, size_t len)
{
	size_t i, n = snprintf(buf, len, "BOOTSHAKE_");

	for (i = 0; key[i] && n + 1 < len; i++)
		buf[n++] = key[i] >= 'a' && key[i] <= 'z' ? key[i] - 'a' + 'A' :
			   (key[i] >= 'A' && key[i] <= 'Z') ||
			   (key[i] >= '0' && key[i] <= '9') ? key[i] : '_';
	buf[n] = '\0';
}

int bs_journal_event_fields(struct bs_journal *j, const char *event,
			    const struct bs_dev *dev, const char *note,
			    const struct bs_field *f, size_t nf, int prio)
{
	struct entry *e;
	char line[1024], name[BS_NAME_LEN], key[64];
	const char *mid = bs_journal_message_id(event);
	ssize_t n;
	size_t i;
	int ret = 0;

	if (j->fd < 0)
		return -EBADF;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;

	format_event_fields(event, dev, note, f, nf, line, sizeof(line));
	field(e, "MESSAGE", line);	/* journalctl adds "bootshake[pid]: " */
	fieldf(e, "PRIORITY", "%d", prio >= 0 ? prio : priority(event, dev));
	field(e, "SYSLOG_IDENTIFIER", "bootshake");
	if (mid)
		field(e, "MESSAGE_ID", mid);
	field(e, "BOOTSHAKE_EVENT", event);
	if (dev) {
		fieldf(e, "BOOTSHAKE_ID", "%u", dev->id);
		/* a job's device copy keeps its notification's time */
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_EVENT_NS) &&
		    strncmp(event, "job-", 4))
			fieldf(e, "BOOTSHAKE_EVENT_NS", "%llu",
			       (unsigned long long)dev->event_ns);
		if (dev->path)
			field(e, "BOOTSHAKE_PATH", dev->path);
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_KIND))
			field(e, "BOOTSHAKE_KIND",
			      bs_kind_name(dev->kind, name, sizeof(name)));
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE))
			field(e, "BOOTSHAKE_STATE",
			      bs_state_name(dev->state, name, sizeof(name)));
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_VID) ||
		    BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_PID))
			fieldf(e, "BOOTSHAKE_USB_ID", "%04x:%04x", dev->vid,
			       dev->pid);
		if (dev->mtk.chip)
			field(e, "BOOTSHAKE_CHIP", dev->mtk.chip);
		else if (dev->stm32.family)
			field(e, "BOOTSHAKE_CHIP", dev->stm32.family);
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_SYNC_US) && dev->sync_us)
			fieldf(e, "BOOTSHAKE_SYNC_US", "%llu",
			       (unsigned long long)dev->sync_us);
		if (dev->error_code)
			field(e, "BOOTSHAKE_ERROR", dev->error_code);
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_ERROR) && dev->error)
			field(e, "BOOTSHAKE_ERRNO",
			      bs_errno_name(dev->error, name, sizeof(name)));
		if (dev->reason)
			field(e, "BOOTSHAKE_REASON", dev->reason);
	}
	for (i = 0; i < nf; i++) {
		field_key(f[i].key, key, sizeof(key));
		switch (f[i].type) {
		case BS_FIELD_STR:
			field(e, key, f[i].s);
			break;
		case BS_FIELD_INT:
			fieldf(e, key, "%lld", f[i].i);
			break;
		case BS_FIELD_BOOL:
			field(e, key, f[i].i ? "1" : "0");
			break;
		case BS_FIELD_NULL:
			break;
		}
	}
	if (e->overflow) {
		ret = -EMSGSIZE;
		goto out;
	}
	do {
		n = send(j->fd, e->buf, e->len, MSG_NOSIGNAL);
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		ret = -errno;
out:
	free(e);
	return ret;
}
