/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bootshake CLI: monitor events to the systemd journal (native protocol).
 */
#ifndef BOOTSHAKE_USER_JOURNAL_H
#define BOOTSHAKE_USER_JOURNAL_H

#include <stddef.h>

struct bs_dev;

struct bs_journal {
	int	fd;
};

/* The socket used: $BOOTSHAKE_JOURNAL_SOCKET or journald's. */
const char *bs_journal_path(void);
/* Connect; negative errno (-ENOENT: no journald running). */
int bs_journal_open(struct bs_journal *j);
void bs_journal_close(struct bs_journal *j);
/*
 * The MESSAGE_ID= of an event type ("add", "change", "remove", "resync",
 * "job-start", "job-exit", "job-cancel"): 32 hex digits, fixed for good;
 * NULL for any other.
 */
const char *bs_journal_message_id(const char *event);
/*
 * One entry: MESSAGE= (the monitor line without its timestamp),
 * PRIORITY=, SYSLOG_IDENTIFIER=bootshake, MESSAGE_ID= (by event type),
 * BOOTSHAKE_EVENT=, and for a device BOOTSHAKE_ID=, BOOTSHAKE_EVENT_NS=
 * (add/change/remove: the kernel's send time of the notification,
 * CLOCK_REALTIME ns), BOOTSHAKE_PATH=, BOOTSHAKE_KIND=, BOOTSHAKE_STATE=,
 * BOOTSHAKE_USB_ID=, BOOTSHAKE_CHIP=, BOOTSHAKE_SYNC_US=,
 * BOOTSHAKE_ERROR=, BOOTSHAKE_ERRNO=, BOOTSHAKE_REASON= when known.
 */
int bs_journal_event(struct bs_journal *j, const char *event,
		     const struct bs_dev *dev, const char *note);

struct bs_field;
/*
 * The same with extra fields (print.h), each as BOOTSHAKE_<KEY>=, and
 * PRIORITY=@prio (a syslog priority; -1: as bs_journal_event() picks).
 */
int bs_journal_event_fields(struct bs_journal *j, const char *event,
			    const struct bs_dev *dev, const char *note,
			    const struct bs_field *f, size_t n, int prio);

#endif /* BOOTSHAKE_USER_JOURNAL_H */
