// SPDX-License-Identifier: GPL-2.0
/*
 * usb_ping - the benchmark's floor: single-byte round trips through
 * dummy_hcd, straight over usbfs (no libusb, no driver in between).
 *
 *   usb_ping USBPATH [COUNT]        e.g. usb_ping 1-1 200
 *
 * Claims the CDC data interface (found by class) of the device at
 * /sys/bus/usb/devices/USBPATH, then COUNT times writes one byte and reads
 * the reply (bsk-emu mtk-brom with --fault already_synced echoes unknown
 * bytes).  The round trip time is taken from the emulator's log (rx to
 * rx), not here.  Prints "listening" once the interface is claimed and
 * "done USBPATH ok N" at the end; exit 0 when every byte came back.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/usb/ch9.h>
#include <linux/usbdevice_fs.h>

static int read_sysfs_int(const char *path, const char *attr)
{
	char p[256], buf[32];
	int fd, n;

	snprintf(p, sizeof(p), "/sys/bus/usb/devices/%s/%s", path, attr);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	n = (int)read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = 0;
	return atoi(buf);
}

/* Walk the descriptors usbfs returns; find the CDC data interface. */
static int find_intf(int fd, unsigned int *ifnum, unsigned int *in,
		     unsigned int *out)
{
	uint8_t d[4096];
	ssize_t n = read(fd, d, sizeof(d));
	ssize_t i = 0;
	int cur = -1, found = -1;

	while (n > 0 && i + 2 <= n && d[i] >= 2) {
		uint8_t len = d[i], type = d[i + 1];

		if (i + len > n)
			break;
		if (type == USB_DT_INTERFACE && len >= 9) {
			if (found >= 0)
				break;
			cur = d[i + 5] == USB_CLASS_CDC_DATA ? d[i + 2] : -1;
			*in = *out = 0;
		} else if (type == USB_DT_ENDPOINT && len >= 7 && cur >= 0 &&
			   (d[i + 3] & 3) == USB_ENDPOINT_XFER_BULK) {
			if (d[i + 2] & USB_DIR_IN)
				*in = d[i + 2];
			else
				*out = d[i + 2];
			if (*in && *out)
				found = cur;
		}
		i += len;
	}
	if (found < 0)
		return -1;
	*ifnum = (unsigned int)found;
	return 0;
}

int main(int argc, char **argv)
{
	unsigned int ifnum, ep_in, ep_out;
	int bus, dev, fd, count, i, ok = 0;
	char node[64];

	if (argc < 2) {
		fprintf(stderr, "usage: usb_ping USBPATH [COUNT]\n");
		return 2;
	}
	count = argc > 2 ? atoi(argv[2]) : 200;
	bus = read_sysfs_int(argv[1], "busnum");
	dev = read_sysfs_int(argv[1], "devnum");
	if (bus < 0 || dev < 0) {
		fprintf(stderr, "usb_ping: no device at %s\n", argv[1]);
		return 1;
	}
	snprintf(node, sizeof(node), "/dev/bus/usb/%03d/%03d", bus, dev);
	fd = open(node, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror(node);
		return 1;
	}
	if (find_intf(fd, &ifnum, &ep_in, &ep_out) ||
	    ioctl(fd, USBDEVFS_CLAIMINTERFACE, &ifnum)) {
		fprintf(stderr, "usb_ping: cannot claim the data interface of %s\n",
			argv[1]);
		return 1;
	}
	printf("listening\n");
	fflush(stdout);

	for (i = 0; i < count; i++) {
		uint8_t b = 0x42, r[64];
		struct usbdevfs_bulktransfer o = {
			.ep = ep_out, .len = 1, .timeout = 5000, .data = &b,
		};
		struct usbdevfs_bulktransfer in = {
			.ep = ep_in, .len = sizeof(r), .timeout = 5000, .data = r,
		};
		int n;

		if (ioctl(fd, USBDEVFS_BULK, &o) != 1)
			break;
		n = ioctl(fd, USBDEVFS_BULK, &in);
		if (n != 1 || r[0] != b)
			break;
		ok++;
	}
	ioctl(fd, USBDEVFS_RELEASEINTERFACE, &ifnum);
	close(fd);
	printf("done %s %s %d\n", argv[1], ok == count ? "ok" : "fail", ok);
	return ok == count ? 0 : 1;
}
