// SPDX-License-Identifier: GPL-2.0
/*
 * emu-check: a small usbfs host client that checks what an emulated device
 * says on the wire, step by step.  It tests bsk-emu itself (selftest.sh),
 * without the bootshake module, and is handy when writing a personality.
 *
 *   emu-check VID:PID STEP...
 *
 * The device is found through /sys/bus/usb/devices (no udev, no libusb),
 * both interfaces are claimed through usbfs and the bulk pair of the first
 * class 0x0A interface is used.  Steps:
 *
 *   speed=N          sysfs speed is N (12, 480)
 *   nostrings        no manufacturer/product/serial
 *   intfs=N          bNumInterfaces is N
 *   x:TX=RX          write TX (hex) in one transfer, read until |RX| bytes
 *                    arrived, compare
 *   pk:TX=P1/P2/..   like x:, and the bytes must come in exactly these
 *                    packets
 *   w:TX             write only
 *   rd:N=RX          read one packet within N ms, it must be RX
 *   none:MS          nothing arrives within MS ms
 *   gone:MS          within MS ms the device goes away (reads fail with
 *                    something other than a timeout; bytes that still
 *                    arrive before are skipped)
 *   slc              SET_LINE_CODING 115200 8N1 is accepted
 *   glc=HEX          GET_LINE_CODING returns HEX
 *   cls[=HEX]        SET_CONTROL_LINE_STATE HEX (default 0002, RTS) is
 *                    accepted; 0003 raises DTR as a tty open does
 *   stall            unknown class requests (IN and OUT) are stalled
 *   setcfg           SET_CONFIGURATION 1 again
 *   reset            USB port reset
 *   sleep:MS
 *
 * Prints one "# ok STEP" / "# not ok STEP" line per step, and what went
 * wrong as "# ..." lines: diagnostics, so that its output can stand inside
 * a test's KTAP output without posing as test results.  Exit 0 when all
 * steps passed.
 *
 * Waits for something to happen (every transfer's timeout, rd:'s and
 * gone:'s MS) are multiplied by BSK_TIME_SCALE, the test bed's one
 * deadline factor (Documentation/testing.rst); none:'s and sleep:'s MS
 * are the device's timing under test and are taken as they are.
 */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <linux/usbdevice_fs.h>
#include <linux/usb/ch9.h>

#define BUF_LEN		4096
#define IO_TIMEOUT	2000

static char sysdir[300];
static int fd = -1;
static unsigned int scale = 1;
static unsigned int ep_in, ep_out;

static int read_attr(const char *attr, char *buf, size_t len)
{
	char path[400];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", sysdir, attr);
	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(buf, (int)len, f))
		buf[0] = '\0';
	fclose(f);
	buf[strcspn(buf, "\n")] = '\0';
	return 0;
}

static bool find_device(unsigned int vid, unsigned int pid)
{
	struct dirent *de;
	char v[16], p[16];
	bool found = false;
	DIR *d;

	d = opendir("/sys/bus/usb/devices");
	if (!d)
		return false;
	while (!found && (de = readdir(d))) {
		if (de->d_name[0] == '.' || strchr(de->d_name, ':'))
			continue;
		snprintf(sysdir, sizeof(sysdir), "/sys/bus/usb/devices/%s",
			 de->d_name);
		if (read_attr("idVendor", v, sizeof(v)) ||
		    read_attr("idProduct", p, sizeof(p)))
			continue;
		found = strtoul(v, NULL, 16) == vid &&
			strtoul(p, NULL, 16) == pid;
	}
	closedir(d);
	return found;
}

static int hex_decode(const char *s, unsigned char *out, size_t max)
{
	size_t n = 0;
	unsigned int b;

	while (*s && *s != '=' && *s != '/') {
		if (n == max || sscanf(s, "%2x", &b) != 1 || !s[1])
			return -1;
		out[n++] = (unsigned char)b;
		s += 2;
	}
	return (int)n;
}

static void hex_print(const unsigned char *b, int n)
{
	int i;

	for (i = 0; i < n; i++)
		printf("%02x", b[i]);
}

/* a timeout that is already scaled, or must not be */
static int bulk_unscaled(unsigned int ep, void *buf, unsigned int len,
			 unsigned int ms)
{
	struct usbdevfs_bulktransfer b = {
		.ep = ep, .len = len, .timeout = ms, .data = buf,
	};

	return ioctl(fd, USBDEVFS_BULK, &b);
}

static int bulk(unsigned int ep, void *buf, unsigned int len, unsigned int ms)
{
	return bulk_unscaled(ep, buf, len, ms * scale);
}

static int control(int type, int req, int val, void *data, int len)
{
	struct usbdevfs_ctrltransfer c = {
		.bRequestType = (unsigned char)type,
		.bRequest = (unsigned char)req,
		.wValue = (unsigned short)val,
		.wIndex = 0,
		.wLength = (unsigned short)len,
		.timeout = IO_TIMEOUT * scale,
		.data = data,
	};

	return ioctl(fd, USBDEVFS_CONTROL, &c);
}

static void claim(bool on)
{
	unsigned int i;

	for (i = 0; i < 2; i++)
		ioctl(fd, on ? USBDEVFS_CLAIMINTERFACE :
			  USBDEVFS_RELEASEINTERFACE, &i);
}

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static int open_device(void)
{
	char bus[16], dev[16], node[64];
	unsigned char d[BUF_LEN];
	int i, n, cls = -1;

	if (read_attr("busnum", bus, sizeof(bus)) ||
	    read_attr("devnum", dev, sizeof(dev)))
		return -ENODEV;
	snprintf(node, sizeof(node), "/dev/bus/usb/%03d/%03d", atoi(bus),
		 atoi(dev));
	for (i = 0; (fd = open(node, O_RDWR)) < 0; i++) {
		if (i == 50 * (int)scale)
			return -errno;
		usleep(20000);
	}
	/* usbfs read(): device descriptor then the active config's */
	n = (int)read(fd, d, sizeof(d));
	for (i = USB_DT_DEVICE_SIZE; i + 6 < n && d[i]; i += d[i]) {
		if (d[i + 1] == USB_DT_INTERFACE)
			cls = d[i + 5];
		if (d[i + 1] != USB_DT_ENDPOINT || cls != USB_CLASS_CDC_DATA ||
		    (d[i + 3] & 3) != USB_ENDPOINT_XFER_BULK)
			continue;
		if (d[i + 2] & USB_DIR_IN)
			ep_in = ep_in ? ep_in : d[i + 2];
		else
			ep_out = ep_out ? ep_out : d[i + 2];
	}
	if (!ep_in || !ep_out)
		return -ENOENT;
	claim(true);
	return 0;
}

/* read until @want bytes arrived; packet lengths go to @pk */
static int read_bytes(unsigned char *got, int want, int *pk, int *npk)
{
	int have = 0, r;

	*npk = 0;
	while (have < want) {
		r = bulk(ep_in, got + have, BUF_LEN - have, IO_TIMEOUT);
		if (r < 0)
			break;
		if (*npk < 64)
			pk[(*npk)++] = r;
		have += r;
	}
	return have;
}

static bool step_xfer(const char *arg, bool packets)
{
	unsigned char tx[BUF_LEN], rx[BUF_LEN], got[BUF_LEN];
	const char *eq = strchr(arg, '='), *s;
	int tn, rn, have, pk[64], npk, want[64], nwant = 0, i;
	bool ok;

	if (!eq)
		return false;
	tn = hex_decode(arg, tx, sizeof(tx));
	rn = 0;
	for (s = eq; s && *s; s = strchr(s + 1, '/')) {
		int n = hex_decode(s + 1, rx + rn, sizeof(rx) - rn);

		if (n < 0 || nwant == 64)
			return false;
		want[nwant++] = n;
		rn += n;
	}
	if (tn < 0 || (tn && bulk(ep_out, tx, tn, IO_TIMEOUT) != tn)) {
		printf("# write failed: %m\n");
		return false;
	}
	have = read_bytes(got, rn, pk, &npk);
	ok = have == rn && !memcmp(got, rx, rn);
	if (packets) {
		ok = ok && npk == nwant;
		for (i = 0; ok && i < npk; i++)
			ok = pk[i] == want[i];
	}
	if (!ok) {
		printf("# got ");
		hex_print(got, have);
		printf(" in %d packet(s):", npk);
		for (i = 0; i < npk; i++)
			printf(" %d", pk[i]);
		printf("\n");
	}
	return ok;
}

static bool step_read(const char *arg)
{
	unsigned char rx[BUF_LEN], got[BUF_LEN];
	const char *eq = strchr(arg, '=');
	int rn, r;

	if (!eq)
		return false;
	rn = hex_decode(eq + 1, rx, sizeof(rx));
	r = bulk(ep_in, got, BUF_LEN, (unsigned int)atoi(arg));
	if (r != rn || memcmp(got, rx, rn)) {
		printf("# got %d: ", r);
		hex_print(got, r > 0 ? r : 0);
		printf("\n");
		return false;
	}
	return true;
}

static bool step(const char *a)
{
	unsigned char buf[BUF_LEN], want[64];
	int r, n;

	if (!strncmp(a, "speed=", 6))
		return !read_attr("speed", (char *)buf, sizeof(buf)) &&
		       !strcmp((char *)buf, a + 6);
	if (!strcmp(a, "nostrings")) {
		return read_attr("manufacturer", (char *)buf, 64) == -ENOENT &&
		       read_attr("product", (char *)buf, 64) == -ENOENT &&
		       read_attr("serial", (char *)buf, 64) == -ENOENT;
	}
	if (!strncmp(a, "intfs=", 6))
		return !read_attr("bNumInterfaces", (char *)buf, 64) &&
		       atoi((char *)buf) == atoi(a + 6);
	if (!strncmp(a, "x:", 2))
		return step_xfer(a + 2, false);
	if (!strncmp(a, "pk:", 3))
		return step_xfer(a + 3, true);
	if (!strncmp(a, "w:", 2)) {
		n = hex_decode(a + 2, buf, sizeof(buf));
		return n > 0 && bulk(ep_out, buf, n, IO_TIMEOUT) == n;
	}
	if (!strncmp(a, "rd:", 3))
		return step_read(a + 3);
	if (!strncmp(a, "none:", 5)) {
		r = bulk_unscaled(ep_in, buf, BUF_LEN,
				  (unsigned int)atoi(a + 5));
		if (r >= 0) {
			printf("# got ");
			hex_print(buf, r);
			printf("\n");
		}
		return r < 0 && errno == ETIMEDOUT;
	}
	if (!strncmp(a, "gone:", 5)) {
		long long end = now_ms() + (long long)atoi(a + 5) * scale;

		/* what still arrives before the device leaves is skipped */
		do {
			long long left = end - now_ms();

			r = bulk_unscaled(ep_in, buf, BUF_LEN,
					  (unsigned int)(left > 0 ? left : 1));
		} while (r >= 0 && now_ms() < end);
		return r < 0 && errno != ETIMEDOUT;
	}
	if (!strcmp(a, "slc")) {
		static const unsigned char lc[7] = { 0x00, 0xc2, 0x01, 0, 0, 0,
						     8 };

		memcpy(buf, lc, sizeof(lc));
		return control(0x21, 0x20, 0, buf, 7) == 7;
	}
	if (!strncmp(a, "glc=", 4)) {
		n = hex_decode(a + 4, want, sizeof(want));
		r = control(0xa1, 0x21, 0, buf, 7);
		return r == n && !memcmp(buf, want, n);
	}
	if (!strcmp(a, "cls"))
		return control(0x21, 0x22, 2, NULL, 0) == 0;
	if (!strncmp(a, "cls=", 4))
		return control(0x21, 0x22, (int)strtol(a + 4, NULL, 16), NULL,
			       0) == 0;
	if (!strcmp(a, "stall")) {
		r = control(0xa1, 0x55, 0, buf, 4);
		if (r >= 0 || errno != EPIPE)
			return false;
		r = control(0x21, 0x56, 0, NULL, 0);
		return r < 0 && errno == EPIPE;
	}
	if (!strcmp(a, "setcfg")) {
		int cfg = 1;

		claim(false);
		r = ioctl(fd, USBDEVFS_SETCONFIGURATION, &cfg);
		claim(true);
		return r == 0;
	}
	if (!strcmp(a, "reset")) {
		r = ioctl(fd, USBDEVFS_RESET, 0);
		claim(true);
		return r == 0;
	}
	if (!strncmp(a, "sleep:", 6)) {
		usleep((useconds_t)atoi(a + 6) * 1000);
		return true;
	}
	printf("# unknown step\n");
	return false;
}

int main(int argc, char **argv)
{
	const char *env = getenv("BSK_TIME_SCALE");
	unsigned int vid, pid;
	int i, err, fails = 0;

	if (env && atoi(env) > 0)
		scale = (unsigned int)atoi(env);

	if (argc < 2 || sscanf(argv[1], "%x:%x", &vid, &pid) != 2) {
		fprintf(stderr, "usage: emu-check VID:PID STEP...\n");
		return 2;
	}
	for (i = 0; !find_device(vid, pid); i++) {
		if (i == 100 * (int)scale) {
			printf("# not ok no device %04x:%04x\n", vid, pid);
			return 1;
		}
		usleep(50000);
	}
	err = open_device();
	if (err) {
		printf("# not ok open %s: %s\n", sysdir, strerror(-err));
		return 1;
	}
	for (i = 2; i < argc; i++) {
		bool ok = step(argv[i]);

		printf("# %s %s\n", ok ? "ok" : "not ok", argv[i]);
		fails += !ok;
	}
	close(fd);
	return fails ? 1 : 0;
}
