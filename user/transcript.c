// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake CLI: a device's transcript from BOOTSHAKE_CMD_TRANSCRIPT_GET,
 * one record per message, and where in it the sync went wrong.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <netlink/attr.h>
#include <netlink/genl/genl.h>

#include <linux/bootshake.h>

#include "dev.h"
#include "nl.h"
#include "transcript.h"

static const struct nla_policy tr_policy[BOOTSHAKE_A_TR_MAX + 1] = {
	[BOOTSHAKE_A_TR_DEV_ID]		= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_TR_TIME_NS]	= { .type = NLA_U64, .maxlen = 8 },
	[BOOTSHAKE_A_TR_DIR]		= { .type = NLA_U32, .maxlen = 4 },
	[BOOTSHAKE_A_TR_DATA]		= { .type = NLA_UNSPEC },
	[BOOTSHAKE_A_TR_LOST]		= { .type = NLA_U32, .maxlen = 4 },
};

int bs_tr_parse(const struct nlmsghdr *nlh, struct bs_tr_rec *rec,
		char *why, size_t whylen)
{
	struct nlattr *tb[BOOTSHAKE_A_TR_MAX + 1];
	struct nlmsghdr *h = (struct nlmsghdr *)nlh;
	static const struct {
		int	type;
		int	len;
	} fixed[] = {
		{ BOOTSHAKE_A_TR_DEV_ID, 4 },
		{ BOOTSHAKE_A_TR_TIME_NS, 8 },
		{ BOOTSHAKE_A_TR_DIR, 4 },
		{ BOOTSHAKE_A_TR_LOST, 4 },
	};
	struct nlattr *a;
	size_t i;

	memset(rec, 0, sizeof(*rec));
	if (!genlmsg_valid_hdr(h, 0)) {
		snprintf(why, whylen, "message too short for a genl header");
		return -EBADMSG;
	}
	if (genlmsg_parse(h, 0, tb, BOOTSHAKE_A_TR_MAX,
			  (struct nla_policy *)tr_policy) < 0) {
		/* name the attribute, as dev.c does */
		for (i = 0; i < sizeof(fixed) / sizeof(fixed[0]); i++) {
			int rem;

			nla_for_each_attr(a, genlmsg_attrdata(nlmsg_data(h), 0),
					  genlmsg_attrlen(nlmsg_data(h), 0),
					  rem) {
				if (nla_type(a) == fixed[i].type &&
				    nla_len(a) != fixed[i].len) {
					snprintf(why, whylen,
						 "attribute %s (%d) has %d bytes, expected %d",
						 bs_nl_space_attr_name(BS_ATTRS_TR,
								       fixed[i].type),
						 fixed[i].type, nla_len(a),
						 fixed[i].len);
					return -EBADMSG;
				}
			}
		}
		snprintf(why, whylen, "malformed transcript record");
		return -EBADMSG;
	}
	if (!tb[BOOTSHAKE_A_TR_TIME_NS] || !tb[BOOTSHAKE_A_TR_DIR]) {
		int miss = tb[BOOTSHAKE_A_TR_DIR] ? BOOTSHAKE_A_TR_TIME_NS :
						    BOOTSHAKE_A_TR_DIR;

		snprintf(why, whylen, "missing attribute %s (%d)",
			 bs_nl_space_attr_name(BS_ATTRS_TR, miss), miss);
		return -EBADMSG;
	}
	rec->t_ns = nla_get_u64(tb[BOOTSHAKE_A_TR_TIME_NS]);
	rec->dir = nla_get_u32(tb[BOOTSHAKE_A_TR_DIR]);
	if (tb[BOOTSHAKE_A_TR_LOST])
		rec->lost = nla_get_u32(tb[BOOTSHAKE_A_TR_LOST]);
	a = tb[BOOTSHAKE_A_TR_DATA];
	if (a && nla_len(a) > 0) {
		rec->len = nla_len(a);
		rec->data = malloc(rec->len);
		if (!rec->data) {
			snprintf(why, whylen, "out of memory");
			return -ENOMEM;
		}
		memcpy(rec->data, nla_data(a), rec->len);
	}
	return 0;
}

static int tr_push(struct bs_tr *tr, struct bs_tr_rec *rec)
{
	if (tr->n == tr->cap) {
		size_t cap = tr->cap ? tr->cap * 2 : 64;
		struct bs_tr_rec *v = realloc(tr->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		tr->v = v;
		tr->cap = cap;
	}
	tr->v[tr->n++] = *rec;
	tr->lost += rec->lost;
	memset(rec, 0, sizeof(*rec));
	return 0;
}

int bs_tr_append(struct bs_tr *tr, uint64_t t_ns, uint32_t dir,
		 const void *data, size_t len, uint32_t lost)
{
	struct bs_tr_rec rec = {
		.t_ns	= t_ns,
		.dir	= dir,
		.lost	= lost,
		.len	= len,
	};

	if (len) {
		rec.data = malloc(len);
		if (!rec.data)
			return -ENOMEM;
		memcpy(rec.data, data, len);
	}
	if (tr_push(tr, &rec)) {
		free(rec.data);
		return -ENOMEM;
	}
	return 0;
}

void bs_tr_free(struct bs_tr *tr)
{
	size_t i;

	for (i = 0; i < tr->n; i++)
		free(tr->v[i].data);
	free(tr->v);
	memset(tr, 0, sizeof(*tr));
}

struct tr_collect {
	struct bs_tr	*tr;
	char		why[160];
};

static int tr_cb(const struct nlmsghdr *nlh, void *arg)
{
	struct tr_collect *c = arg;
	struct bs_tr_rec rec;
	int ret;

	ret = bs_tr_parse(nlh, &rec, c->why, sizeof(c->why));
	if (ret)
		return ret;
	ret = tr_push(c->tr, &rec);
	if (ret) {
		free(rec.data);
		snprintf(c->why, sizeof(c->why), "out of memory");
	}
	return ret;
}

int bs_tr_dump(struct bs_nl *nl, uint32_t id, struct bs_tr *tr,
	       char *why, size_t whylen)
{
	struct tr_collect c = { .tr = tr };
	struct nl_msg *msg;
	int ret;

	memset(tr, 0, sizeof(*tr));
	msg = bs_nl_msg(nl, BOOTSHAKE_CMD_TRANSCRIPT_GET, NLM_F_DUMP);
	if (!msg)
		return -ENOMEM;
	if (nla_put_u32(msg, BOOTSHAKE_A_TR_DEV_ID, id) < 0) {
		nlmsg_free(msg);
		return -EMSGSIZE;
	}
	ret = bs_nl_request(nl, msg, tr_cb, &c);
	if (ret) {
		snprintf(why, whylen, "%s", c.why);
		bs_tr_free(tr);
	}
	return ret;
}

const char *bs_tr_text(const struct bs_tr_rec *rec, char *buf, size_t len)
{
	size_t i, n = rec->len;

	if (!len)
		return buf;
	/* the kernel may or may not send the NUL */
	while (n && !rec->data[n - 1])
		n--;
	if (n >= len)
		n = len - 1;
	for (i = 0; i < n; i++)
		buf[i] = isprint(rec->data[i]) ? rec->data[i] : '?';
	buf[n] = '\0';
	return buf;
}

const char *bs_tr_hex(const struct bs_tr_rec *rec, char *buf, size_t len)
{
	size_t i, n = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	for (i = 0; i < rec->len && n + 4 <= len; i++)
		n += snprintf(buf + n, len - n, "%s%02x", i ? " " : "",
			      rec->data[i]);
	return buf;
}

bool bs_tr_is_text(const struct bs_tr_rec *rec)
{
	size_t i;

	if (rec->dir == BOOTSHAKE_DIR_NOTE || rec->len < 3)
		return false;
	for (i = 0; i < rec->len; i++)
		if (!isprint(rec->data[i]) && rec->data[i] != '\r' &&
		    rec->data[i] != '\n')
			return false;
	return true;
}

/*
 * Notes that say something went wrong, by their first word(s), as
 * kmod/mtk.c and the other kinds write them. Not "fail ...": that one only
 * closes the story, and the last byte before it is the better place for
 * the mark. Not "no reply to a0" either: a preloader swallows its first
 * a0 on every clean sync.
 */
static const char * const bad_words[] = {
	"reject", "noise", "timeout", "step timeout", "sync timeout",
	"write timeout", "write refused", "watchdog failed", "token",
	"stall", "error", "nack", "disconnect",
};

static bool bad_note(const char *text)
{
	size_t i;

	for (i = 0; i < sizeof(bad_words) / sizeof(bad_words[0]); i++)
		if (!strncmp(text, bad_words[i], strlen(bad_words[i])))
			return true;
	return false;
}

/* The last byte the host sent before record @i, or -1. */
static int last_out_byte(const struct bs_tr *tr, size_t i)
{
	while (i-- > 0)
		if (tr->v[i].dir == BOOTSHAKE_DIR_OUT && tr->v[i].len)
			return tr->v[i].data[tr->v[i].len - 1];
	return -1;
}

/* "reject a1" / "reject 0xa1" after an A0: say what the byte means */
static void explain_reject(const struct bs_tr *tr, size_t i,
			   const char *text, char *buf, size_t len)
{
	unsigned int got;
	int sent = last_out_byte(tr, i);
	const char *p = text + strlen("reject");

	while (*p == ' ')
		p++;
	if (sent < 0 || sscanf(p, "%x", &got) != 1 || got > 0xff) {
		snprintf(buf, len, "%s", text);
		return;
	}
	if (got == ((unsigned int)sent + 1) % 256)
		snprintf(buf, len,
			 "%s (%02x is the %02x sent + 1: the device was not at the start of the sync; stray bytes before it?)",
			 text, got, sent);
	else if (got == (unsigned int)sent)
		snprintf(buf, len,
			 "%s (%02x echoed unchanged: the device is in its command loop, already synced)",
			 text, got);
	else
		snprintf(buf, len, "%s (%02x in answer to %02x)", text, got,
			 sent);
}

void bs_tr_find_mark(const struct bs_tr *tr, const struct bs_dev *dev,
		     struct bs_tr_mark *mark)
{
	char text[80], code[64];
	size_t i;

	mark->after = -1;
	mark->why[0] = '\0';
	for (i = 0; i < tr->n; i++) {
		if (tr->v[i].dir != BOOTSHAKE_DIR_NOTE)
			continue;
		bs_tr_text(&tr->v[i], text, sizeof(text));
		if (!bad_note(text))
			continue;
		mark->after = i;
		if (!strncmp(text, "reject", 6))
			explain_reject(tr, i, text, mark->why,
				       sizeof(mark->why));
		else
			snprintf(mark->why, sizeof(mark->why), "%s", text);
		return;
	}
	if (!dev || !BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE) ||
	    dev->state != BOOTSHAKE_STATE_FAILED)
		return;
	snprintf(code, sizeof(code), "%s",
		 dev->error_code ? dev->error_code : "failed");
	for (i = tr->n; i-- > 0;) {
		if (tr->v[i].dir == BOOTSHAKE_DIR_NOTE)
			continue;
		mark->after = i;
		snprintf(mark->why, sizeof(mark->why),
			 "the last byte%s exchanged before the device failed (%s)",
			 tr->v[i].len > 1 ? "s" : "", code);
		return;
	}
	if (tr->n) {
		mark->after = tr->n - 1;
		snprintf(mark->why, sizeof(mark->why),
			 "no byte was exchanged before the device failed (%s)",
			 code);
	}
}
