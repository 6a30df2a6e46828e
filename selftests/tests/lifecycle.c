// SPDX-License-Identifier: GPL-2.0
/*
 * Life cycle of a bound device against the USB core: a release racing an
 * unplug, and a USB reset from userspace.
 *
 * release_races_unplug: one emulated BROM is plugged, and as soon as it is
 *   reported, a RELEASE request and an unplug (the emulator's SIGUSR1) are
 *   fired at it together, in a random order and with a random gap, for
 *   BSK_RELEASE_ROUNDS rounds (default 200).  Every round the release
 *   answers 0 or -ENODEV, the device's report ends with one remove event,
 *   and no event about it follows that remove.  Under the debug kernel
 *   (make check-debug) KASAN also checks that the release never touches
 *   the interface the unplug freed.  Seeded by BSK_STRESS_SEED.
 *
 * usbdevfs_reset_keeps_the_device: USBDEVFS_RESET on a ready device.  The
 *   device keeps its id and its report (no remove, no new add), the
 *   handshake runs again (the reset ended its download session) and it is
 *   ready again; nothing splats.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <linux/usbdevice_fs.h>

#include "kselftest_harness.h"
#include "bsk_test.h"
#include "bsk_genl.h"

#define UDC	"dummy_udc.0"

FIXTURE(lifecycle) {
	struct bsk_emu emu;
	struct bsk_genl mon;
	struct bsk_genl req;
	int kmsg;
};

FIXTURE_SETUP(lifecycle)
{
	self->emu.pid = -1;
	self->mon.fd = -1;
	self->req.fd = -1;
	self->kmsg = bsk_kmsg_mark();
	if (access("/sys/module/bootshake", F_OK))
		ASSERT_EQ(0, bsk_modprobe_bootshake());
	ASSERT_EQ(0, bsk_genl_monitor(&self->mon));
	ASSERT_EQ(0, bsk_genl_open(&self->req, 1 << 20));
}

FIXTURE_TEARDOWN(lifecycle)
{
	if (self->emu.pid > 0)
		bsk_emu_stop(&self->emu);
	bsk_genl_close(&self->mon);
	bsk_genl_close(&self->req);
	EXPECT_EQ(0, bsk_kmsg_splats(self->kmsg));
}

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? rng % n : 0;
}

static void spin_us(unsigned int us)
{
	struct timespec ts = { .tv_nsec = us * 1000L };

	if (us)
		nanosleep(&ts, NULL);
}

/* Next event about @path; 0, or -ETIMEDOUT. */
static int next_event(struct bsk_genl *mon, const char *path, uint8_t *cmd,
		      struct bsk_genl_dev *d, int timeout_ms)
{
	long long end = bsk_now_ms() + timeout_ms;

	for (;;) {
		long long left = end - bsk_now_ms();
		int ret = bsk_genl_event(mon, cmd, d, left > 0 ? left : 0);

		if (ret)
			return ret;
		if (!strcmp(d->path, path))
			return 0;
	}
}

/* RELEASE by id; the kernel's answer (0 or a negative errno). */
static int release_id(struct bsk_genl *g, uint32_t id)
{
	char attrs[64];
	size_t alen = bsk_nla_u32(attrs, sizeof(attrs), 0, BOOTSHAKE_A_DEV_ID,
				  id);

	return bsk_genl_request(g, BOOTSHAKE_CMD_RELEASE, 0, attrs, alen,
				NULL, NULL, 10000 * bsk_scale());
}

/*
 * Has bsk-emu exited (the emulator's own end, not the kernel's)?  Then
 * start it again, which plugs the device.  Returns 1 when restarted, 0
 * when it runs, -1 when it cannot be started.
 */
static int emu_restart_if_dead(struct __test_metadata *_metadata,
			       struct bsk_emu *emu, int round)
{
	int status = 0;

	if (waitpid(emu->pid, &status, WNOHANG) != emu->pid)
		return 0;
	TH_LOG("round %d: bsk-emu exited (status 0x%x), restarted", round,
	       status);
	emu->pid = -1;
	close(emu->in_fd);
	close(emu->out_fd);
	return bsk_emu_start(emu, "mtk-brom", UDC, NULL) ? -1 : 1;
}

TEST_F_TIMEOUT(lifecycle, release_races_unplug, 7200)
{
	const char *s = getenv("BSK_RELEASE_ROUNDS");
	const char *seed = getenv("BSK_STRESS_SEED");
	int rounds = s && atoi(s) > 0 ? atoi(s) : 200;
	int released = 0, refused = 0, restarts = 0, round;

	rng = seed && *seed ? strtoull(seed, NULL, 0) : (uint64_t)time(NULL);
	TH_LOG("seed %" PRIu64 " (BSK_STRESS_SEED), %d rounds", rng, rounds);
	rng |= 1;

	ASSERT_EQ(0, bsk_emu_start(&self->emu, "mtk-brom", UDC, NULL));
	for (round = 0; round < rounds; round++) {
		struct bsk_genl_dev d;
		bool del = false;
		uint32_t id = 0;
		uint8_t cmd;
		int ret;

		long long end = bsk_now_ms() + 10000LL * bsk_scale();

		ret = round ? emu_restart_if_dead(_metadata, &self->emu, round) : 0;
		ASSERT_LE(0, ret);
		restarts += ret;
		if (round && !ret)
			kill(self->emu.pid, SIGUSR2);	/* plug */
		while (!id) {
			ret = next_event(&self->mon, self->emu.path, &cmd, &d,
					 1000);
			if (ret == -ETIMEDOUT) {
				ret = emu_restart_if_dead(_metadata, &self->emu,
							  round);
				ASSERT_LE(0, ret);
				restarts += ret;
				if (ret)
					end = bsk_now_ms() + 10000LL * bsk_scale();
				ASSERT_LT(bsk_now_ms(), end) {
					TH_LOG("round %d: never reported", round);
				}
				continue;
			}
			ASSERT_EQ(0, ret);
			if (cmd == BOOTSHAKE_CMD_DEV_ADD_NTF)
				id = d.id;
		}

		/* Sometimes mid-handshake, sometimes after it. */
		spin_us(rnd(3) ? rnd(20000) : 0);
		if (rnd(2)) {
			kill(self->emu.pid, SIGUSR1);	/* unplug */
			spin_us(rnd(3000));
			ret = release_id(&self->req, id);
		} else {
			unsigned int gap = rnd(3000);
			pid_t child;

			/* The unplug lands while the release runs. */
			child = fork();
			if (!child) {
				spin_us(gap);
				kill(self->emu.pid, SIGUSR1);
				_exit(0);
			}
			ret = release_id(&self->req, id);
			waitpid(child, NULL, 0);
		}
		ASSERT_TRUE(ret == 0 || ret == -ENODEV) {
			TH_LOG("round %d: release: %d", round, ret);
		}
		if (ret == 0)
			released++;
		else
			refused++;

		/* Its report ends with one remove, and nothing follows. */
		while (!del) {
			ASSERT_EQ(0, next_event(&self->mon, self->emu.path, &cmd,
						&d, 10000 * bsk_scale())) {
				TH_LOG("round %d: device %u never removed",
				       round, id);
			}
			ASSERT_EQ(id, d.id) {
				TH_LOG("round %d: event %u about device %u before %u's remove",
				       round, cmd, d.id, id);
			}
			del = cmd == BOOTSHAKE_CMD_DEV_DEL_NTF;
		}
		ret = next_event(&self->mon, self->emu.path, &cmd, &d, 0);
		ASSERT_EQ(-ETIMEDOUT, ret) {
			TH_LOG("round %d: event %u (state %s) about device %u after its remove",
			       round, cmd, bsk_state_name(d.state), d.id);
		}
	}
	TH_LOG("%d rounds: %d released, %d refused (gone first), bsk-emu restarted %d times",
	       rounds, released, refused, restarts);
}

static int usbfs_open(const char *path)
{
	char f[128];
	int bus = 0, dev = 0;
	FILE *fp;

	snprintf(f, sizeof(f), "/sys/bus/usb/devices/%s/busnum", path);
	fp = fopen(f, "r");
	if (!fp || fscanf(fp, "%d", &bus) != 1)
		bus = 0;
	if (fp)
		fclose(fp);
	snprintf(f, sizeof(f), "/sys/bus/usb/devices/%s/devnum", path);
	fp = fopen(f, "r");
	if (!fp || fscanf(fp, "%d", &dev) != 1)
		dev = 0;
	if (fp)
		fclose(fp);
	snprintf(f, sizeof(f), "/dev/bus/usb/%03d/%03d", bus, dev);
	return open(f, O_RDWR);
}

TEST_F_TIMEOUT(lifecycle, usbdevfs_reset_keeps_the_device, 300)
{
	bool syncing = false, ready = false;
	char attr[96], state[32] = "";
	struct bsk_genl_dev d;
	uint32_t id = 0;
	uint8_t cmd;
	FILE *fp;
	int fd;

	ASSERT_EQ(0, bsk_emu_start(&self->emu, "mtk-brom", UDC, NULL));
	while (!ready) {
		ASSERT_EQ(0, next_event(&self->mon, self->emu.path, &cmd, &d,
					10000 * bsk_scale()));
		ASSERT_NE((uint32_t)BOOTSHAKE_STATE_FAILED, d.state) {
			TH_LOG("handshake failed: %s", d.error_code);
		}
		id = d.id;
		ready = d.state == BOOTSHAKE_STATE_READY;
	}

	fd = usbfs_open(self->emu.path);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, ioctl(fd, USBDEVFS_RESET, 0)) {
		TH_LOG("USBDEVFS_RESET: %s", strerror(errno));
	}
	close(fd);

	/* Same id, handshaken again, ready again; never removed. */
	ready = false;
	while (!ready) {
		ASSERT_EQ(0, next_event(&self->mon, self->emu.path, &cmd, &d,
					10000 * bsk_scale())) {
			TH_LOG("not ready again after the reset");
		}
		TH_LOG("after reset: event %u device %u state %s", cmd, d.id,
		       bsk_state_name(d.state));
		ASSERT_NE(BOOTSHAKE_CMD_DEV_DEL_NTF, cmd) {
			TH_LOG("the reset removed device %u", d.id);
		}
		ASSERT_EQ(id, d.id);
		ASSERT_NE((uint32_t)BOOTSHAKE_STATE_FAILED, d.state) {
			TH_LOG("handshake after the reset failed: %s",
			       d.error_code);
		}
		syncing |= d.state == BOOTSHAKE_STATE_SYNCING;
		ready = d.state == BOOTSHAKE_STATE_READY;
	}
	EXPECT_TRUE(syncing);

	snprintf(attr, sizeof(attr), "/sys/bus/usb/devices/%s:1.0/bootshake_state",
		 self->emu.path);
	fp = fopen(attr, "r");
	ASSERT_NE(NULL, fp);
	EXPECT_EQ(1, fscanf(fp, "%31s", state));
	fclose(fp);
	EXPECT_STREQ("ready", state);
}

TEST_HARNESS_MAIN
