// SPDX-License-Identifier: GPL-2.0
/*
 * The edges of the netlink interface and the deadline parameters
 * (issue 14, items 2 and 4):
 *
 * - transcript: a transcript dump comes back whole wherever a part of the
 *   dump ends.  The transcript of a released device is frozen and ends
 *   with the "released" note; the test reads its record sizes once, then
 *   picks receive sizes (the kernel sizes a dump's parts to the reader's
 *   receive buffer) so that a part ends exactly on the last record, one
 *   before it or one after it, for every number of parts the transcript
 *   allows, and checks each dump returns every record.
 * - params: writing 0, or a step deadline longer than the sync deadline,
 *   through /sys/module/bootshake/parameters is refused and changes
 *   nothing; a valid write becomes every kind's deadline and the next
 *   device's sync ends at it.
 * - policy_set: POLICY_SET with a step deadline longer than the sync
 *   deadline is refused with an extended ack message.
 * - largest_dfu_device: the largest device message, an STM32 DFU ROM with
 *   as many alternate settings as the module keeps (8), each with the
 *   longest layout string it keeps (95 characters) and as many regions as
 *   it keeps (6), still fits: its "ready" notification arrives whole.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "bsk_test.h"
#include "bsk_genl.h"

#define UDC		"dummy_udc.0"
#define MAX_RECS	512
/* SKB_WITH_OVERHEAD(32768): the largest part netlink_recvmsg() asks for */
#define PART_MAX	32448
/* well above NLMSG_GOODSIZE, the smallest part of a dump */
#define PART_MIN	4096

/* --- raw transcript dumps ---------------------------------------------- */

struct tr_dump {
	int nrecs;
	int size[MAX_RECS];	/* nlmsg_len of each record's message */
	int part[MAX_RECS];	/* which datagram it came in, from 0 */
	char last[32];		/* text of the last record if a note */
	int lost;		/* any TR_LOST seen */
	int err;
};

/*
 * Dump device @id's transcript on a fresh socket whose reads are @part
 * bytes: the kernel fills each part of the dump up to the largest read
 * seen on the socket, so one INFO_GET read of @part bytes first sets it.
 */
static int tr_dump(uint16_t family, uint32_t id, int part, struct tr_dump *d)
{
	static char buf[PART_MAX + 4096];
	char a[16];
	size_t alen, len;
	int fd, one = 1, ret, nparts = 0;

	memset(d, 0, sizeof(*d));
	fd = bsk_genl_socket(0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));

	len = bsk_genl_build(buf, family, NLM_F_REQUEST, 1,
			     BOOTSHAKE_CMD_INFO_GET, NULL, 0);
	ret = bsk_genl_sendbuf(fd, buf, len);
	if (!ret)
		ret = bsk_genl_recvbuf(fd, buf, part, &len, 5000);
	if (ret)
		goto out;

	alen = bsk_nla_u32(a, sizeof(a), 0, BOOTSHAKE_A_TR_DEV_ID, id);
	len = bsk_genl_build(buf, family, NLM_F_REQUEST | NLM_F_DUMP, 2,
			     BOOTSHAKE_CMD_TRANSCRIPT_GET, a, alen);
	ret = bsk_genl_sendbuf(fd, buf, len);
	while (!ret) {
		struct nlmsghdr *nlh;
		bool recs = false;

		ret = bsk_genl_recvbuf(fd, buf, part, &len, 5000);
		if (ret)
			break;
		for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len);
		     nlh = NLMSG_NEXT(nlh, len)) {
			const struct nlattr *t;
			const void *at;
			size_t al;

			if (nlh->nlmsg_seq != 2)
				continue;
			if (nlh->nlmsg_type == NLMSG_ERROR) {
				d->err = ((struct nlmsgerr *)NLMSG_DATA(nlh))->error;
				goto out;
			}
			if (nlh->nlmsg_type == NLMSG_DONE) {
				memcpy(&d->err, NLMSG_DATA(nlh), 4);
				goto out;
			}
			if (d->nrecs == MAX_RECS) {
				ret = -E2BIG;
				goto out;
			}
			at = bsk_genl_attrs(nlh, &al);
			d->size[d->nrecs] = NLMSG_ALIGN(nlh->nlmsg_len);
			d->part[d->nrecs] = nparts;
			d->last[0] = 0;
			t = bsk_nla_find(at, al, BOOTSHAKE_A_TR_DATA);
			if (t && bsk_nla_get_u32(bsk_nla_find(at, al,
					BOOTSHAKE_A_TR_DIR), 0) ==
				 BOOTSHAKE_DIR_NOTE)
				snprintf(d->last, sizeof(d->last), "%.*s",
					 (int)(t->nla_len - NLA_HDRLEN),
					 (const char *)bsk_nla_data(t));
			if (bsk_nla_find(at, al, BOOTSHAKE_A_TR_LOST))
				d->lost = 1;
			d->nrecs++;
			recs = true;
		}
		nparts += recs;
	}
out:
	close(fd);
	return ret;
}

/*
 * How the kernel packs messages of @size[0..n) into parts of @cap bytes:
 * in order, a message that does not fit starts the next part.  Returns
 * the number of parts; *@last_start is the index of the first message of
 * the last part, *@exact whether the last part is filled to the byte.
 */
static int pack(const int *size, int n, int cap, int *last_start, bool *exact)
{
	int i, used = 0, parts = 1;

	*last_start = 0;
	for (i = 0; i < n; i++) {
		if (used + size[i] > cap) {
			parts++;
			used = 0;
			*last_start = i;
		}
		used += size[i];
	}
	*exact = used == cap;
	return parts;
}

FIXTURE(nl) {
	struct bsk_emu emu;
	struct bsk_mon mon;
	struct bsk_genl g;
	char step[32];		/* the parameters as the test found them */
	char sync[32];
	int kmsg;
};

static void read_param(const char *name, char *buf, size_t len)
{
	char p[128];
	ssize_t n;
	int fd;

	snprintf(p, sizeof(p), "/sys/module/bootshake/parameters/%s", name);
	buf[0] = 0;
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return;
	n = read(fd, buf, len - 1);
	close(fd);
	buf[n > 0 ? n : 0] = 0;
	buf[strcspn(buf, "\n")] = 0;
}

/* errno of a write to a parameter, 0 when it was taken */
static int write_param(const char *name, const char *val)
{
	char p[128];
	int fd, ret = 0;

	snprintf(p, sizeof(p), "/sys/module/bootshake/parameters/%s", name);
	fd = open(p, O_WRONLY);
	if (fd < 0)
		return errno;
	if (write(fd, val, strlen(val)) < 0)
		ret = errno;
	close(fd);
	return ret;
}

FIXTURE_SETUP(nl)
{
	self->emu.pid = -1;
	self->mon.pid = -1;
	self->kmsg = bsk_kmsg_mark();
	read_param("step_timeout_ms", self->step, sizeof(self->step));
	read_param("sync_timeout_ms", self->sync, sizeof(self->sync));
	ASSERT_NE(0, self->step[0]);
	ASSERT_NE(0, self->sync[0]);
	ASSERT_EQ(0, bsk_genl_open(&self->g, 0));
	ASSERT_EQ(0, bsk_mon_start(&self->mon));
}

FIXTURE_TEARDOWN(nl)
{
	static const char *const kinds[] = {
		"mtk-brom", "mtk-preloader", "stm32-dfu", "stm32-usart",
	};
	char path[32];
	size_t i;

	if (self->emu.pid > 0) {
		snprintf(path, sizeof(path), "%s", self->emu.path);
		bsk_emu_stop(&self->emu);
		json_object_put(bsk_mon_wait(&self->mon, path, "remove", NULL,
					     5000 * bsk_scale()));
	}
	bsk_mon_stop(&self->mon);
	bsk_genl_close(&self->g);
	/* the parameters and every kind's deadlines as the runner set them */
	write_param("sync_timeout_ms", self->sync);
	write_param("step_timeout_ms", self->step);
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		bsk_policy_restore(kinds[i], NULL, atoi(self->step),
				   atoi(self->sync), false);
	EXPECT_EQ(0, bsk_kmsg_splats(self->kmsg));
}

/* Plug a BROM with @faults and wait for a state in @states. */
static long long plug(struct __test_metadata *_metadata,
		      FIXTURE_DATA(nl) *self, const char *const *faults,
		      const char *states, char *state, size_t slen)
{
	json_object *ev;
	long long id;

	if (bsk_emu_start(&self->emu, "mtk-brom", UDC, faults))
		return 0;
	ev = bsk_mon_wait(&self->mon, self->emu.path, NULL, states,
			  10000 * bsk_scale());
	if (!ev)
		return 0;
	id = bsk_json_int(ev, "id", 0);
	snprintf(state, slen, "%s", bsk_json_str(ev, "state") ?: "");
	json_object_put(ev);
	return id;
}

TEST_F_TIMEOUT(nl, transcript_every_part_boundary, 600)
{
	struct tr_dump full, d;
	char ids[32], state[32];
	int n, i, cap, k, checked = 0, hit = 0;
	long long id;

	id = plug(_metadata, self, NULL, "ready,failed", state, sizeof(state));
	ASSERT_NE(0, id);
	ASSERT_STREQ("ready", state);
	snprintf(ids, sizeof(ids), "%lld", id);

	/* a longer transcript: handshake again until ~300 records */
	for (i = 0; i < 12; i++) {
		json_object *ev;

		ASSERT_EQ(0, tr_dump(self->g.family, id, PART_MAX, &full));
		if (full.nrecs >= 300)
			break;
		ASSERT_EQ(0, bsk_cli("retry", ids, NULL));
		ev = bsk_mon_wait(&self->mon, self->emu.path, NULL,
				  "ready,failed", 10000 * bsk_scale());
		ASSERT_NE(NULL, ev);
		json_object_put(ev);
	}

	/* released: nothing is added any more, the last record is known */
	ASSERT_EQ(0, bsk_cli("release", ids, NULL));
	json_object_put(bsk_mon_wait(&self->mon, self->emu.path, NULL,
				     "released", 5000 * bsk_scale()));
	ASSERT_EQ(0, tr_dump(self->g.family, id, PART_MAX, &full));
	ASSERT_EQ(0, full.err);
	ASSERT_EQ(0, full.lost);
	ASSERT_STREQ("released", full.last);
	n = full.nrecs;
	TH_LOG("%d records, %d parts at %d bytes", n, full.part[n - 1] + 1,
	       PART_MAX);

	/*
	 * For each number of parts k: the smallest part size at which the
	 * last part starts at record n-1 (a part ends exactly one before the
	 * last record: the bug's case), at n-2, and at which the last part
	 * ends exactly on the last record.
	 */
	for (k = 1; k <= 12; k++) {
		int want[3] = { n - 1, n - 2, -1 };
		int w;

		for (w = 0; w < 3; w++) {
			for (cap = PART_MIN; cap <= PART_MAX; cap += 4) {
				int start, parts;
				bool exact;

				parts = pack(full.size, n, cap, &start, &exact);
				if (parts != k + (want[w] >= 0))
					continue;
				if (want[w] >= 0 ? start == want[w] : exact)
					break;
			}
			if (cap > PART_MAX)
				continue;
			ASSERT_EQ(0, tr_dump(self->g.family, id, cap, &d));
			checked++;
			EXPECT_EQ(0, d.err);
			EXPECT_EQ(n, d.nrecs) {
				TH_LOG("parts of %d bytes (%d + %d): %d of %d records",
				       cap, k, want[w] >= 0, d.nrecs, n);
			}
			EXPECT_STREQ("released", d.last);
			/* the kernel packed as the test meant it to */
			if (d.nrecs && d.part[d.nrecs - 1] + 1 ==
			    k + (want[w] >= 0) - (d.nrecs < n))
				hit++;
		}
	}
	TH_LOG("%d part sizes checked, %d packed as planned", checked, hit);
	EXPECT_LT(2, checked);
	EXPECT_EQ(checked, hit);
}

TEST_F(nl, params_refused)
{
	char v[32], step[32], sync[32];

	snprintf(v, sizeof(v), "%d", atoi(self->sync) + 1);
	EXPECT_EQ(EINVAL, write_param("step_timeout_ms", "0"));
	EXPECT_EQ(EINVAL, write_param("sync_timeout_ms", "0"));
	EXPECT_EQ(EINVAL, write_param("step_timeout_ms", v));
	snprintf(v, sizeof(v), "%d", atoi(self->step) - 1);
	EXPECT_EQ(EINVAL, write_param("sync_timeout_ms", v));
	EXPECT_EQ(EINVAL, write_param("sync_timeout_ms", "600001"));
	EXPECT_EQ(EINVAL, write_param("step_timeout_ms", "abc"));

	/* nothing changed */
	read_param("step_timeout_ms", step, sizeof(step));
	read_param("sync_timeout_ms", sync, sizeof(sync));
	EXPECT_STREQ(self->step, step);
	EXPECT_STREQ(self->sync, sync);
}

TEST_F_TIMEOUT(nl, param_write_takes_effect, 180)
{
	const char *const faults[] = { "silent", NULL };
	static const uint32_t kinds[] = {
		BOOTSHAKE_KIND_MTK_BROM, BOOTSHAKE_KIND_MTK_PRELOADER,
		BOOTSHAKE_KIND_STM32_DFU,
	};
	long long id, start = -1, fail = -1;
	int old_ms = atoi(self->sync), sync_ms = old_ms / 4;
	json_object *tr, *recs;
	char v[32], state[32];
	size_t i;

	/* a quarter of the sync deadline the runner set, still over a step */
	if (atoi(self->step) >= sync_ms)
		SKIP(return, "step %s ms too long for a sync of %d ms",
		     self->step, sync_ms);
	snprintf(v, sizeof(v), "%d", sync_ms);
	ASSERT_EQ(0, write_param("sync_timeout_ms", v));

	/* every kind's deadline now */
	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		struct bsk_genl_policy p;

		ASSERT_EQ(0, bsk_genl_policy_get(&self->g, kinds[i], &p));
		EXPECT_EQ((uint32_t)sync_ms, p.sync_ms) {
			TH_LOG("kind %u", kinds[i]);
		}
	}

	/* the next device: a silent BROM fails at the new sync deadline */
	id = plug(_metadata, self, faults, "failed,ready", state,
		  sizeof(state));
	ASSERT_NE(0, id);
	ASSERT_STREQ("failed", state);
	tr = bsk_transcript(id);
	ASSERT_NE(NULL, tr);
	ASSERT_TRUE(json_object_object_get_ex(tr, "records", &recs));
	for (i = 0; i < json_object_array_length(recs); i++) {
		json_object *r = json_object_array_get_idx(recs, i);
		const char *text = bsk_json_str(r, "text") ?: "";
		long long ns = bsk_json_int(r, "t_ns", -1);

		if (!strcmp(text, "sync start") && start < 0)
			start = ns;
		if (!strncmp(text, "fail", 4))
			fail = ns;
	}
	if (start < 0 || fail < 0)
		bsk_tr_print(tr);
	json_object_put(tr);
	ASSERT_LE(0, start);
	ASSERT_LE(0, fail);
	TH_LOG("sync deadline %d ms (was %d): failed after %lld ms", sync_ms,
	       old_ms, (fail - start) / 1000000);
	EXPECT_LE((long long)sync_ms * 1000000 * 9 / 10, fail - start);
	EXPECT_GT((long long)old_ms * 1000000, fail - start);
}

static int msg_len(const struct nlmsghdr *nlh, void *arg)
{
	*(unsigned int *)arg = nlh->nlmsg_len;
	return 1;
}

TEST_F_TIMEOUT(nl, largest_dfu_device, 180)
{
	char alt[8][160];
	const char *faults[10];
	const char *const extra[] = { NULL };
	json_object *ev, *d, *alts;
	char step[16], a[16];
	unsigned int len = 0;
	size_t ia;
	int i;

	/* a control transfer to the emulator can outlast a 100 ms step */
	snprintf(step, sizeof(step), "%d", 200 * bsk_scale());
	if (atoi(step) < atoi(self->sync))
		bsk_cli("policy", "stm32-dfu", "--step-timeout", step, NULL);
	for (i = 0; i < 8; i++) {
		/*
		 * 1 + 29 + 65 = 95 characters, the longest string the module
		 * keeps (STM32_DFU_NAME_LEN - 1; a longer one is cut and then
		 * no longer parses)
		 */
		snprintf(alt[i], sizeof(alt[i]),
			 "alt=@Flash bank %d%-*s/0x08000000/04*016Kg,01*064Kg,07*128Kg,04*016Kg,01*064Kg,07*128Kg",
			 i, 29 - 12, "");
		ASSERT_EQ(4 + 95, (int)strlen(alt[i]));
		faults[i] = alt[i];
	}
	faults[8] = NULL;
	ASSERT_EQ(0, bsk_emu_start_args(&self->emu, "stm32-dfu", UDC, faults,
					extra));
	ev = bsk_mon_wait(&self->mon, self->emu.path, NULL, "ready,failed",
			  10000 * bsk_scale());
	ASSERT_NE(NULL, ev) {
		TH_LOG("no ready/failed notification: too large to send?");
	}
	EXPECT_STREQ("ready", bsk_json_str(ev, "state")) {
		TH_LOG("%s", bsk_json_str(ev, "reason"));
	}
	d = NULL;
	json_object_object_get_ex(ev, "dfu", &d);
	ASSERT_NE(NULL, d);
	alts = NULL;
	json_object_object_get_ex(d, "alts", &alts);
	ASSERT_NE(NULL, alts);
	ASSERT_EQ(8, (int)json_object_array_length(alts));
	for (i = 0; i < 8; i++) {
		json_object *a = json_object_array_get_idx(alts, i), *r = NULL;
		const char *name = bsk_json_str(a, "name");

		EXPECT_EQ(i, bsk_json_int(a, "alt", -1));
		ASSERT_NE(NULL, name);
		EXPECT_STREQ(alt[i] + 4, name);
		EXPECT_FALSE(bsk_json_bool(a, "malformed"));
		json_object_object_get_ex(a, "regions", &r);
		ASSERT_NE(NULL, r);
		EXPECT_EQ(6, (int)json_object_array_length(r));
	}
	/* the message itself, as DEV_GET sends it (no event-ns) */
	ia = bsk_nla_u32(a, sizeof(a), 0, BOOTSHAKE_A_DEV_ID,
			 bsk_json_int(ev, "id", 0));
	ASSERT_EQ(0, bsk_genl_request(&self->g, BOOTSHAKE_CMD_DEV_GET, 0, a,
				      ia, msg_len, &len, 5000));
	TH_LOG("8 alts x 6 regions: a %u-byte device message", len);
	EXPECT_LT(0u, len);
	json_object_put(ev);
}

/* POLICY_SET: step over sync is refused with words saying so. */
TEST_F(nl, policy_set_step_over_sync)
{
	char a[64], buf[4096];
	struct bsk_genl_policy before, after;
	size_t alen = 0, len;
	struct nlmsghdr *nlh;
	const char *msg = NULL;
	int one = 1, err = 1;

	ASSERT_EQ(0, bsk_genl_policy_get(&self->g, BOOTSHAKE_KIND_MTK_BROM,
					 &before));
	setsockopt(self->g.fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	alen = bsk_nla_u32(a, sizeof(a), alen, BOOTSHAKE_A_POLICY_KIND,
			   BOOTSHAKE_KIND_MTK_BROM);
	alen = bsk_nla_u32(a, sizeof(a), alen,
			   BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS,
			   before.sync_ms + 1);
	len = bsk_genl_build(buf, self->g.family, NLM_F_REQUEST | NLM_F_ACK,
			     77, BOOTSHAKE_CMD_POLICY_SET, a, alen);
	ASSERT_EQ(0, bsk_genl_sendbuf(self->g.fd, buf, len));
	ASSERT_EQ(0, bsk_genl_recvbuf(self->g.fd, buf, sizeof(buf), &len,
				      5000));
	for (nlh = (struct nlmsghdr *)buf; NLMSG_OK(nlh, len);
	     nlh = NLMSG_NEXT(nlh, len)) {
		const struct nlmsgerr *e = NLMSG_DATA(nlh);
		size_t off = NLMSG_HDRLEN + sizeof(*e);
		const struct nlattr *m;

		if (nlh->nlmsg_seq != 77 || nlh->nlmsg_type != NLMSG_ERROR)
			continue;
		err = e->error;
		if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
			off += e->msg.nlmsg_len - sizeof(e->msg);
		if (nlh->nlmsg_flags & NLM_F_ACK_TLVS && nlh->nlmsg_len > off) {
			m = bsk_nla_find((const char *)nlh + off,
					 nlh->nlmsg_len - off, NLMSGERR_ATTR_MSG);
			if (m)
				msg = bsk_nla_data(m);
		}
		break;
	}
	EXPECT_EQ(-ERANGE, err);
	ASSERT_NE(NULL, msg);
	EXPECT_STREQ("step deadline longer than the sync deadline", msg);
	ASSERT_EQ(0, bsk_genl_policy_get(&self->g, BOOTSHAKE_KIND_MTK_BROM,
					 &after));
	EXPECT_EQ(before.step_ms, after.step_ms);
	EXPECT_EQ(before.sync_ms, after.sync_ms);
}

TEST_HARNESS_MAIN
