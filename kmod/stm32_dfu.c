// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake: STM32 system bootloader over USB DFU (ST's DfuSe), 0483:df11.
 *
 * Facts from ../shared/protocols/stm32.md, which cites its sources:
 * - one interface FE/01/02, one alternate setting per memory, control
 *   pipe only; the DFU functional descriptor (type 0x21, 9 bytes, 7 for
 *   DFU 1.0) follows the last alternate setting on ST ROMs, and some ROMs
 *   (STM32C5) never answer a GET_DESCRIPTOR for it, so it is only taken
 *   from the configuration (sections 1.3, 1.4);
 * - each alternate setting's iInterface string is a memory layout,
 *   '@' name ('/' "0x"address '/' count '*' size [BKM ] type (',' ...)*)+
 *   with type letters a..g (section 1.5, dfu-util's dfuse_mem.c);
 * - class requests to the interface, OUT 0x21 / IN 0xa1: DNLOAD 1,
 *   UPLOAD 2, GETSTATUS 3 (bStatus, bwPollTimeout LE24, bState, iString),
 *   CLRSTATUS 4, GETSTATE 5, ABORT 6; state and status numbers and names
 *   (sections 2.1 to 2.4);
 * - CLRSTATUS only in dfuERROR (the STM32C5 ROM stalls it elsewhere),
 *   ABORT from dfuDNLOAD-IDLE and dfuUPLOAD-IDLE, wait bwPollTimeout after
 *   every GETSTATUS, a stalled GETSTATUS while busy means "still busy"
 *   (L4), an H7 may need two CLRSTATUS (sections 2.5 to 2.8);
 * - DfuSe (bcdDFUVersion 0x011a): UPLOAD block 0 in dfuIDLE returns the
 *   command list and leaves the device in dfuUPLOAD-IDLE (section 3.2);
 * - no DfuSe command reads a chip ID: the family is inferred from the
 *   option-byte address and the product string only (section 3.6).
 */

#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/slab.h>
#include <linux/string.h>
#include <net/genetlink.h>

#include "bootshake.h"
#include "compat.h"

#define DFU_REQ_DNLOAD		0x01
#define DFU_REQ_UPLOAD		0x02
#define DFU_REQ_GETSTATUS	0x03
#define DFU_REQ_CLRSTATUS	0x04
#define DFU_REQ_GETSTATE	0x05
#define DFU_REQ_ABORT		0x06

#define DFU_FUNC_DT		0x21	/* DFU functional descriptor */
#define DFU_FUNC_LEN_1_0	7	/* DFU 1.0: no bcdDFUVersion */
#define DFU_FUNC_LEN		9
#define DFU_ATTR_CAN_UPLOAD	BIT(1)
#define DFU_VERSION_DFUSE	0x011a

enum {
	DFU_APP_IDLE,
	DFU_APP_DETACH,
	DFU_IDLE,
	DFU_DNLOAD_SYNC,
	DFU_DNBUSY,
	DFU_DNLOAD_IDLE,
	DFU_MANIFEST_SYNC,
	DFU_MANIFEST,
	DFU_MANIFEST_WAIT_RESET,
	DFU_UPLOAD_IDLE,
	DFU_ERROR,
};

static const char *const stm32_dfu_states[] = {
	"appIDLE", "appDETACH", "dfuIDLE", "dfuDNLOAD-SYNC", "dfuDNBUSY",
	"dfuDNLOAD-IDLE", "dfuMANIFEST-SYNC", "dfuMANIFEST",
	"dfuMANIFEST-WAIT-RESET", "dfuUPLOAD-IDLE", "dfuERROR",
};

static const char *const stm32_dfu_statuses[] = {
	"OK", "errTARGET", "errFILE", "errWRITE", "errERASE",
	"errCHECK_ERASED", "errPROG", "errVERIFY", "errADDRESS", "errNOTDONE",
	"errFIRMWARE", "errVENDOR", "errUSBR", "errPOR", "errUNKNOWN",
	"errSTALLEDPKT",
};

#define STM32_DFU_MAX_ALTS	8
#define STM32_DFU_MAX_REGIONS	6
#define STM32_DFU_NAME_LEN	96
#define STM32_DFU_BUF_LEN	256	/* strings: 255 bytes at most */
#define STM32_DFU_CMDS_LEN	32	/* wLength of the Get command */

/* Bounds of the bring-to-dfuIDLE loop. */
#define STM32_DFU_MAX_CLEARS	3	/* H7 needs two (sheet 2.7) */
#define STM32_DFU_MAX_ABORTS	3
#define STM32_DFU_MAX_BAD	3	/* stalled/short/unanswered GETSTATUS */
#define STM32_DFU_MAX_POLLS	100	/* busy polls, dfu-util's stuck guard */
#define STM32_DFU_MAX_STEPS	128
#define STM32_DFU_POLL_MIN_MS	5	/* floor while busy with poll 0 */
#define STM32_DFU_POLL_MAX_MS	2000	/* clamp of one bwPollTimeout wait */
/* Language of string requests when the device names none: English (US). */
#define STM32_DFU_LANGID_EN_US	0x0409

/**
 * struct stm32_dfu_region - one run of equal pages in a layout string
 * @address: start address
 * @count: number of pages
 * @size: bytes per page
 * @type: type letter 'a'..'g' (bit 0 readable, 1 erasable, 2 writeable)
 */
struct stm32_dfu_region {
	u32 address;
	u32 count;
	u32 size;
	char type;
};

/**
 * struct stm32_dfu_alt - one alternate setting and its layout string
 * @number: bAlternateSetting
 * @has_name: @name was read (iInterface set and answered)
 * @malformed: @name is not a layout string (no regions then)
 * @nregions: used entries of @regions
 * @name: the string, ASCII, cut to fit
 * @regions: the parsed layout
 */
struct stm32_dfu_alt {
	u8 number;
	bool has_name;
	bool malformed;
	u8 nregions;
	char name[STM32_DFU_NAME_LEN];
	struct stm32_dfu_region regions[STM32_DFU_MAX_REGIONS];
};

/**
 * struct stm32_dfu_priv - the device's layout, hung on &bsk_dev.priv
 * @layout_done: @nalts and @alts are complete; set once with release
 *	semantics by the first handshake, never cleared.  Until then only
 *	that handshake touches them; afterwards nobody writes them, so
 *	fill() reads them without a lock.
 * @nalts: used entries of @alts
 * @alts: the alternate settings, in descriptor order
 */
struct stm32_dfu_priv {
	bool layout_done;
	u8 nalts;
	struct stm32_dfu_alt alts[STM32_DFU_MAX_ALTS];
};

/**
 * struct stm32_dfu_run - one handshake
 * @bdev: the device
 * @buf: DMA-able transfer buffer, %STM32_DFU_BUF_LEN bytes
 * @deadline: end of the bring-to-dfuIDLE phase, jiffies
 * @id: what will be published
 * @polls: GETSTATUS requests answered
 * @published: @id.dfu_state/@id.dfu_status as last published
 */
struct stm32_dfu_run {
	struct bsk_dev *bdev;
	u8 *buf;
	unsigned long deadline;
	struct bsk_stm32_status id;
	unsigned int polls;
	bool published;
};

/**
 * struct stm32_dfu_getstatus - a decoded GETSTATUS reply
 * @status: bStatus
 * @poll_ms: bwPollTimeout
 * @state: bState
 */
struct stm32_dfu_getstatus {
	u8 status;
	u32 poll_ms;
	u8 state;
};

static const char *stm32_dfu_state_name(u8 state)
{
	return state < ARRAY_SIZE(stm32_dfu_states) ?
	       stm32_dfu_states[state] : "unknown state";
}

static const char *stm32_dfu_status_name(u8 status)
{
	return status < ARRAY_SIZE(stm32_dfu_statuses) ?
	       stm32_dfu_statuses[status] : "unknown status";
}

/*
 * Sleep @ms, never past the run's deadline; disconnect and release end it
 * at once (bsk_dev_sleep()).  Returns 0 or -ENODEV.
 */
static int stm32_dfu_sleep(struct stm32_dfu_run *r, unsigned int ms)
{
	unsigned long now = jiffies, t = msecs_to_jiffies(ms);

	if (time_after(now + t, r->deadline))
		t = time_after(r->deadline, now) ? r->deadline - now : 0;
	return bsk_dev_sleep(r->bdev, t);
}

/*
 * A transfer error that means the device left: disconnect does the rest.
 * For one an unplug also causes (bsk_usb_err_may_be_unplug()) the
 * disconnect gets one step deadline to arrive, so that an unplugged device
 * is reported gone and not failed; a device still there after that had a
 * real transfer error.
 */
static bool stm32_dfu_vanished(struct stm32_dfu_run *r, int ret)
{
	struct bsk_dev *bdev = r->bdev;

	if (ret == -ENODEV || ret == -ESHUTDOWN || bsk_dev_leaving(bdev))
		return true;
	if (!bsk_usb_err_may_be_unplug(ret))
		return false;
	return bsk_dev_sleep(bdev, msecs_to_jiffies(bdev->step_ms)) == -ENODEV;
}

/**
 * stm32_dfu_ctrl() - one control transfer, recorded in the transcript
 * @r: the run
 * @dir_in: IN (device to host) request
 * @type: bmRequestType without the direction bit
 * @req: bRequest
 * @value: wValue
 * @index: wIndex
 * @len: wLength; the data is in (or goes to) @r->buf
 *
 * The deadline is the kind's step deadline.  Return: bytes transferred
 * (IN replies may be short), or a negative errno.
 */
static int stm32_dfu_ctrl(struct stm32_dfu_run *r, bool dir_in, u8 type,
			  u8 req, u16 value, u16 index, u16 len)
{
	struct bsk_dev *bdev = r->bdev;
	struct usb_device *udev = bdev->udev;
	u8 setup[8];
	int ret;

	if (bsk_dev_leaving(bdev))
		return -ENODEV;

	setup[0] = type | (dir_in ? USB_DIR_IN : USB_DIR_OUT);
	setup[1] = req;
	put_unaligned_le16(value, &setup[2]);
	put_unaligned_le16(index, &setup[4]);
	put_unaligned_le16(len, &setup[6]);
	bsk_tr_add(bdev->tr, BOOTSHAKE_DIR_OUT, setup, sizeof(setup));
	if (!dir_in && len)
		bsk_tr_add(bdev->tr, BOOTSHAKE_DIR_OUT, r->buf, len);

	ret = usb_control_msg(udev, dir_in ? usb_rcvctrlpipe(udev, 0) :
					     usb_sndctrlpipe(udev, 0),
			      req, setup[0], value, index, len ? r->buf : NULL,
			      len, bdev->step_ms);
	if (ret > 0 && dir_in)
		bsk_tr_add(bdev->tr, BOOTSHAKE_DIR_IN, r->buf, ret);
	else if (ret < 0)
		bsk_tr_note(bdev->tr, "req %02x: %d", req, ret);
	return ret;
}

static int stm32_dfu_class(struct stm32_dfu_run *r, bool dir_in, u8 req,
			   u16 value, u16 len)
{
	return stm32_dfu_ctrl(r, dir_in, USB_TYPE_CLASS | USB_RECIP_INTERFACE,
			      req, value,
			      r->bdev->intf->cur_altsetting->desc.bInterfaceNumber,
			      len);
}

/* --- descriptors and layout strings ------------------------------------ */

/*
 * The functional descriptor: in the extra bytes of any alternate setting
 * of our interface (ST puts it after the last one), else in the
 * configuration's own extra bytes.  Only a 0x21 inside the DFU interface
 * is trusted there (0x21 is the HID descriptor type too).
 */
static const u8 *stm32_dfu_find_func(struct usb_interface *intf)
{
	struct usb_host_config *config = interface_to_usbdev(intf)->actconfig;
	unsigned int i;

	for (i = 0; i <= intf->num_altsetting; i++) {
		const u8 *p, *end;

		if (i < intf->num_altsetting) {
			p = intf->altsetting[i].extra;
			end = p + intf->altsetting[i].extralen;
		} else {
			p = config->extra;
			end = p + config->extralen;
		}
		while (p && end - p >= 2 && p[0] >= 2 && p[0] <= end - p) {
			if (p[1] == DFU_FUNC_DT && p[0] >= DFU_FUNC_LEN_1_0)
				return p;
			p += p[0];
		}
	}
	return NULL;
}

/* Parse a decimal or hex number of at most @max; advance *@s. */
static bool stm32_dfu_num(const char **s, unsigned int base, u64 max,
			  u64 *out)
{
	const char *p = *s;
	u64 v = 0;
	int d;

	for (; (d = hex_to_bin(*p)) >= 0 && d < base; p++) {
		v = v * base + d;
		if (v > max)
			return false;
	}
	if (p == *s)
		return false;
	*s = p;
	*out = v;
	return true;
}

/**
 * stm32_dfu_parse_layout() - parse a DfuSe memory layout string
 * @alt: holds the string in @alt->name; regions are written there
 *
 * Grammar in the file comment.  A string that does not follow it is
 * marked malformed and keeps no regions; more regions than fit are
 * dropped (the string stays well-formed).
 */
static void stm32_dfu_parse_layout(struct stm32_dfu_alt *alt)
{
	const char *p = alt->name;
	unsigned int n = 0;
	u64 addr, count, size;

	alt->nregions = 0;
	alt->malformed = true;
	if (*p != '@')
		return;
	p = strchr(p, '/');
	if (!p)
		return;

	while (*p == '/') {
		p++;
		if (p[0] != '0' || (p[1] != 'x' && p[1] != 'X'))
			return;
		p += 2;
		if (!stm32_dfu_num(&p, 16, U32_MAX, &addr) || *p != '/')
			return;
		p++;
		for (;;) {
			u64 mult = 1;

			if (!stm32_dfu_num(&p, 10, U16_MAX, &count) ||
			    *p++ != '*' ||
			    !stm32_dfu_num(&p, 10, U32_MAX, &size))
				return;
			switch (*p) {
			case 'K':
				mult = 1024;
				fallthrough;
			case 'B':
			case ' ':
				p++;
				break;
			case 'M':
				mult = 1024 * 1024;
				p++;
				break;
			}
			if (*p < 'a' || *p > 'g')
				return;
			size *= mult;
			if (size > U32_MAX || addr + count * size > 1ULL << 32)
				return;
			if (n < STM32_DFU_MAX_REGIONS) {
				alt->regions[n].address = addr;
				alt->regions[n].count = count;
				alt->regions[n].size = size;
				alt->regions[n].type = *p;
				n++;
			}
			addr += count * size;
			p++;
			if (*p != ',')
				break;
			p++;
		}
	}
	if (*p)
		return;
	alt->malformed = false;
	alt->nregions = n;
}

/*
 * Read string descriptor @index into @out as ASCII (anything else becomes
 * '?').  Bounded by the step deadline, unlike usb_string().  A string
 * shorter than its bLength claims (F42x) is taken as far as it goes.
 */
static int stm32_dfu_string(struct stm32_dfu_run *r, u8 index, char *out,
			    size_t size)
{
	struct usb_device *udev = r->bdev->udev;
	u16 langid = udev->string_langid ?: STM32_DFU_LANGID_EN_US;
	unsigned int tries = 0;
	size_t n, i, o = 0;
	int ret;

	/* Nothing hurries here: a string that timed out gets a second go. */
	do {
		ret = stm32_dfu_ctrl(r, true,
				     USB_TYPE_STANDARD | USB_RECIP_DEVICE,
				     USB_REQ_GET_DESCRIPTOR,
				     (USB_DT_STRING << 8) | index, langid,
				     STM32_DFU_BUF_LEN - 1);
	} while (ret == -ETIMEDOUT && ++tries < 2);
	if (ret < 0)
		return ret;
	if (ret < 2 || r->buf[1] != USB_DT_STRING)
		return -EPROTO;
	n = min_t(size_t, ret, r->buf[0]);
	for (i = 2; i + 1 < n && o + 1 < size; i += 2) {
		u16 c = get_unaligned_le16(&r->buf[i]);

		out[o++] = c >= 0x20 && c < 0x7f ? c : '?';
	}
	out[o] = '\0';
	return 0;
}

static int stm32_dfu_read_layout(struct stm32_dfu_run *r,
				 struct stm32_dfu_priv *priv)
{
	struct usb_interface *intf = r->bdev->intf;
	unsigned int i;
	int ret;

	priv->nalts = min_t(unsigned int, intf->num_altsetting,
			    STM32_DFU_MAX_ALTS);
	for (i = 0; i < priv->nalts; i++) {
		struct usb_host_interface *host = &intf->altsetting[i];
		struct stm32_dfu_alt *alt = &priv->alts[i];

		alt->number = host->desc.bAlternateSetting;
		alt->malformed = true;
		if (!host->desc.iInterface)
			continue;
		ret = stm32_dfu_string(r, host->desc.iInterface, alt->name,
				       sizeof(alt->name));
		if (ret) {
			if (stm32_dfu_vanished(r, ret))
				return -ENODEV;
			bsk_tr_note(r->bdev->tr, "alt %u: no string",
				    alt->number);
			continue;
		}
		alt->has_name = true;
		stm32_dfu_parse_layout(alt);
		if (alt->malformed)
			bsk_tr_note(r->bdev->tr, "alt %u: malformed",
				    alt->number);
	}
	return 0;
}

/* --- family ------------------------------------------------------------ */

/*
 * Option-byte addresses seen in ROM layout strings, sheet section 3.6.
 * An inference from descriptors, never a chip ID.
 */
static const struct {
	u32 ob_address;
	const char *family;
	u8 confidence;
} stm32_dfu_ob_families[] = {
	{ 0x1fffc000, "STM32F2/F4", 70 },
	{ 0x1ffff800, "STM32F0/F1/F3", 60 },
	{ 0x1fff7800, "STM32L4/G0/G4/WB/WL", 50 },
	{ 0x1fff0000, "STM32F7", 60 },
	{ 0x1ff80000, "STM32L0/L1", 60 },
};

static const struct stm32_dfu_region *
stm32_dfu_named_region(const struct stm32_dfu_priv *priv, const char *name)
{
	unsigned int i;

	for (i = 0; i < priv->nalts; i++) {
		const struct stm32_dfu_alt *alt = &priv->alts[i];

		if (!alt->malformed && alt->nregions &&
		    !strncasecmp(alt->name + 1, name, strlen(name)))
			return &alt->regions[0];
	}
	return NULL;
}

static void stm32_dfu_family(struct bsk_dev *bdev,
			     const struct stm32_dfu_priv *priv,
			     struct bsk_stm32_status *id)
{
	const char *product = bdev->udev->product;
	const struct stm32_dfu_region *ob, *flash;
	unsigned int i;

	id->family = NULL;
	id->family_confidence = 0;

	/* "STM32 0x418 DFU Bootloader": the F105/107 ROM names its line. */
	if (product && strstr(product, "0x418")) {
		id->family = "STM32F105/107";
		id->family_confidence = 90;
		return;
	}

	ob = stm32_dfu_named_region(priv, "Option Byte");
	flash = stm32_dfu_named_region(priv, "Internal Flash");
	if (ob) {
		for (i = 0; i < ARRAY_SIZE(stm32_dfu_ob_families); i++) {
			if (stm32_dfu_ob_families[i].ob_address !=
			    ob->address)
				continue;
			id->family = stm32_dfu_ob_families[i].family;
			id->family_confidence =
				stm32_dfu_ob_families[i].confidence;
			/* F2/F4: four 16K sectors first (SF dev_table.c) */
			if (ob->address == 0x1fffc000 && flash &&
			    flash->address == 0x08000000 &&
			    flash->size == SZ_16K && flash->count == 4)
				id->family_confidence = 80;
			return;
		}
		return;
	}
	/* An internal flash and no option-byte alt: the newer ROMs. */
	if (flash && flash->address == 0x08000000) {
		id->family = "STM32H7/C5/L5/U5";
		id->family_confidence = 30;
	}
}

/* --- the state machine ------------------------------------------------- */

static void stm32_dfu_publish_fn(struct bsk_status *st, const void *arg)
{
	const struct bsk_stm32_status *id = arg;

	st->stm32 = *id;
}

/* Publish the last GETSTATUS when it changed: a user sees the progress. */
static void stm32_dfu_publish(struct stm32_dfu_run *r,
			      const struct stm32_dfu_getstatus *s)
{
	if (r->published && r->id.dfu_state == s->state &&
	    r->id.dfu_status == s->status)
		return;
	r->id.has_status = true;
	r->id.dfu_state = s->state;
	r->id.dfu_status = s->status;
	r->published = true;
	bsk_dev_update(r->bdev, stm32_dfu_publish_fn, &r->id);
}

static int stm32_dfu_getstatus(struct stm32_dfu_run *r,
			       struct stm32_dfu_getstatus *s)
{
	int ret;

	ret = stm32_dfu_class(r, true, DFU_REQ_GETSTATUS, 0, 6);
	if (ret < 0)
		return ret;
	if (ret < 6)
		return -EMSGSIZE;
	s->status = r->buf[0];
	s->poll_ms = get_unaligned_le24(&r->buf[1]);
	s->state = r->buf[4];
	return 0;
}

/*
 * Fail the run after a transfer error @ret of @what.  Returns -ENODEV when
 * the device left (nothing reported: disconnect does it), else @ret.
 */
static int stm32_dfu_io_fail(struct stm32_dfu_run *r, int ret,
			     const char *what)
{
	struct bsk_dev *bdev = r->bdev;

	if (stm32_dfu_vanished(r, ret))
		return -ENODEV;
	if (ret == -ETIMEDOUT && !r->polls)
		bsk_dev_fail(bdev, ret, "no-reply",
			     "%s not answered within %u ms", what,
			     bdev->step_ms);
	else
		bsk_dev_fail_err(bdev, ret, what);
	return ret;
}

/* Wait bwPollTimeout, clamped, with a floor while the device is busy. */
static int stm32_dfu_poll_wait(struct stm32_dfu_run *r, u32 poll_ms,
			       bool busy)
{
	u32 ms = min_t(u32, poll_ms, STM32_DFU_POLL_MAX_MS);

	if (busy)
		ms = max_t(u32, ms, STM32_DFU_POLL_MIN_MS);
	if (poll_ms > STM32_DFU_POLL_MAX_MS)
		bsk_tr_note(r->bdev->tr, "poll %u ms clamped", poll_ms);
	return ms ? stm32_dfu_sleep(r, ms) : 0;
}

static bool stm32_dfu_busy_state(u8 state)
{
	return state == DFU_DNLOAD_SYNC || state == DFU_DNBUSY ||
	       state == DFU_MANIFEST_SYNC;
}

/**
 * struct stm32_dfu_walk - one bring-to-dfuIDLE walk (stm32_dfu_to_idle())
 * @s: the last GETSTATUS reply (dfuERROR before the first)
 * @have: @s holds a reply
 * @clears: CLRSTATUS sent
 * @aborts: ABORT sent
 * @bad: stalled, short or unanswered GETSTATUS in a row
 * @busy: GETSTATUS replies with a busy state
 */
struct stm32_dfu_walk {
	struct stm32_dfu_getstatus s;
	bool have;
	unsigned int clears;
	unsigned int aborts;
	unsigned int bad;
	unsigned int busy;
};

/* A step of the walk that wants the next GETSTATUS (not an errno). */
#define STM32_DFU_AGAIN		1

/*
 * Step 1: GETSTATUS.  Return: 0 with @w->s fresh; STM32_DFU_AGAIN after a
 * bad reply that was waited out; -ENODEV; an errno after bsk_dev_fail().
 */
static int stm32_dfu_walk_status(struct stm32_dfu_run *r,
				 struct stm32_dfu_walk *w)
{
	int ret = stm32_dfu_getstatus(r, &w->s);

	if (ret == -EPIPE || ret == -EMSGSIZE || ret == -ETIMEDOUT) {
		/* L4 stalls GETSTATUS while busy; NAKs while busy */
		if (stm32_dfu_vanished(r, ret))
			return -ENODEV;
		if (++w->bad > STM32_DFU_MAX_BAD)
			return stm32_dfu_io_fail(r, ret, "GETSTATUS");
		ret = stm32_dfu_poll_wait(r, w->have ? w->s.poll_ms : 0, true);
		return ret ?: STM32_DFU_AGAIN;
	}
	if (ret)
		return stm32_dfu_io_fail(r, ret, "GETSTATUS");
	w->bad = 0;
	w->have = true;
	r->polls++;
	stm32_dfu_publish(r, &w->s);
	return 0;
}

/*
 * Step 2a, dfuERROR or dfu*-IDLE: wait bwPollTimeout, send @req (CLRSTATUS
 * or ABORT, named @name), counted in *@count, at most
 * STM32_DFU_MAX_CLEARS/ABORTS times (@max), else fail with @code.  A stall
 * of the request is no failure: the next GETSTATUS tells what now.
 */
static int stm32_dfu_walk_request(struct stm32_dfu_run *r,
				  struct stm32_dfu_walk *w, u8 req,
				  const char *name, unsigned int *count,
				  unsigned int max, const char *code)
{
	struct bsk_dev *bdev = r->bdev;
	int ret;

	if (*count >= max) {
		bsk_dev_fail(bdev, -EIO, code,
			     "device stays in %s (status %s) after %u %s",
			     stm32_dfu_state_name(w->s.state),
			     stm32_dfu_status_name(w->s.status), *count, name);
		return -EIO;
	}
	ret = stm32_dfu_poll_wait(r, w->s.poll_ms, false);
	if (ret)
		return ret;
	(*count)++;
	ret = stm32_dfu_class(r, false, req, 0, 0);
	if (ret == -EPIPE) {
		/* A strict ROM stalls; GETSTATUS tells what now. */
		bsk_tr_note(bdev->tr, "request stalled");
		return STM32_DFU_AGAIN;
	}
	if (ret < 0)
		return stm32_dfu_io_fail(r, ret, name);
	return STM32_DFU_AGAIN;
}

/* Step 2b, a busy state: wait bwPollTimeout, at most STM32_DFU_MAX_POLLS. */
static int stm32_dfu_walk_busy(struct stm32_dfu_run *r,
			       struct stm32_dfu_walk *w)
{
	int ret;

	if (++w->busy > STM32_DFU_MAX_POLLS) {
		bsk_dev_fail(r->bdev, -EBUSY, "dfu-busy",
			     "device stuck in %s (status %s) for %u polls",
			     stm32_dfu_state_name(w->s.state),
			     stm32_dfu_status_name(w->s.status), w->busy - 1);
		return -EBUSY;
	}
	ret = stm32_dfu_poll_wait(r, w->s.poll_ms, true);
	return ret ?: STM32_DFU_AGAIN;
}

/*
 * Step 2: act on the state GETSTATUS reported.  Return: 0 in dfuIDLE,
 * STM32_DFU_AGAIN, -ENODEV, or an errno after bsk_dev_fail().
 */
static int stm32_dfu_walk_act(struct stm32_dfu_run *r,
			      struct stm32_dfu_walk *w)
{
	struct bsk_dev *bdev = r->bdev;

	switch (w->s.state) {
	case DFU_IDLE:
		if (w->s.status)
			bsk_tr_note(bdev->tr, "idle, status %u", w->s.status);
		return 0;
	case DFU_ERROR:
		return stm32_dfu_walk_request(r, w, DFU_REQ_CLRSTATUS,
					      "CLRSTATUS", &w->clears,
					      STM32_DFU_MAX_CLEARS, "dfu-error");
	case DFU_DNLOAD_IDLE:
	case DFU_UPLOAD_IDLE:
		return stm32_dfu_walk_request(r, w, DFU_REQ_ABORT, "ABORT",
					      &w->aborts, STM32_DFU_MAX_ABORTS,
					      "dfu-abort");
	case DFU_DNLOAD_SYNC:
	case DFU_DNBUSY:
	case DFU_MANIFEST_SYNC:
		return stm32_dfu_walk_busy(r, w);
	case DFU_APP_IDLE:
	case DFU_APP_DETACH:
		bsk_dev_fail(bdev, -EPROTO, "dfu-runtime",
			     "device is in %s: a DFU runtime, not the bootloader",
			     stm32_dfu_state_name(w->s.state));
		return -EPROTO;
	case DFU_MANIFEST:
	case DFU_MANIFEST_WAIT_RESET:
		bsk_dev_fail(bdev, -EPROTO, "dfu-manifest",
			     "device is in %s: leaving DFU, not usable",
			     stm32_dfu_state_name(w->s.state));
		return -EPROTO;
	default:
		bsk_dev_fail(bdev, -EPROTO, "protocol",
			     "unknown DFU state %u", w->s.state);
		return -EPROTO;
	}
}

/* The walk ran out of time or steps: fail with the last state. */
static int stm32_dfu_walk_timeout(struct stm32_dfu_run *r,
				  struct stm32_dfu_walk *w)
{
	struct bsk_dev *bdev = r->bdev;

	if (stm32_dfu_busy_state(w->s.state))
		bsk_dev_fail(bdev, -ETIMEDOUT, "dfu-busy",
			     "device still in %s (status %s) after %u ms",
			     stm32_dfu_state_name(w->s.state),
			     stm32_dfu_status_name(w->s.status), bdev->sync_ms);
	else
		bsk_dev_fail(bdev, -ETIMEDOUT, "timeout",
			     "no dfuIDLE within %u ms, last %s (status %s)",
			     bdev->sync_ms, stm32_dfu_state_name(w->s.state),
			     stm32_dfu_status_name(w->s.status));
	return -ETIMEDOUT;
}

/**
 * stm32_dfu_to_idle() - bring the device to dfuIDLE from any state
 * @r: the run; @r->deadline bounds it
 *
 * Each step is GETSTATUS (stm32_dfu_walk_status()), then by state
 * (stm32_dfu_walk_act()): dfuERROR -> CLRSTATUS (the only place it is
 * sent), dfuDNLOAD-IDLE/dfuUPLOAD-IDLE -> ABORT, busy states -> wait
 * bwPollTimeout and ask again.  dfuIDLE with a status other than OK is
 * accepted as it is (CLRSTATUS there stalls on strict ROMs); the status
 * is reported.  Every counter and the deadline are bounded.
 *
 * Return: 0 in dfuIDLE, -ENODEV when the device left, another negative
 * errno after bsk_dev_fail().
 */
static int stm32_dfu_to_idle(struct stm32_dfu_run *r)
{
	struct stm32_dfu_walk w = { .s.state = DFU_ERROR };
	unsigned int step;
	int ret;

	for (step = 0; step < STM32_DFU_MAX_STEPS; step++) {
		if (step && time_after_eq(jiffies, r->deadline))
			break;
		ret = stm32_dfu_walk_status(r, &w);
		if (!ret)
			ret = stm32_dfu_walk_act(r, &w);
		if (ret != STM32_DFU_AGAIN)
			return ret;
	}
	return stm32_dfu_walk_timeout(r, &w);
}

/*
 * DfuSe "Get command" (sheet 3.2): UPLOAD block 0 in dfuIDLE.  A device
 * that refuses is no failure: the list stays empty.  Either way the device
 * is brought back to dfuIDLE.
 */
static int stm32_dfu_get_commands(struct stm32_dfu_run *r)
{
	u16 len = STM32_DFU_CMDS_LEN;
	int ret;

	if (r->id.transfer_size && r->id.transfer_size < len)
		len = r->id.transfer_size;
	ret = stm32_dfu_class(r, true, DFU_REQ_UPLOAD, 0, len);
	if (ret < 0) {
		if (stm32_dfu_vanished(r, ret))
			return -ENODEV;
		bsk_tr_note(r->bdev->tr, "no command list");
	} else {
		r->id.ncmds = min_t(int, ret, BSK_STM32_MAX_CMDS);
		memcpy(r->id.cmds, r->buf, r->id.ncmds);
	}
	/* dfuUPLOAD-IDLE (or dfuERROR after a stall) back to dfuIDLE */
	r->deadline = jiffies + msecs_to_jiffies(r->bdev->sync_ms);
	return stm32_dfu_to_idle(r);
}

struct stm32_dfu_synced {
	u64 sync_us;
	u32 attempts;
	const struct bsk_stm32_status *id;
};

static void stm32_dfu_synced_fn(struct bsk_status *st, const void *arg)
{
	const struct stm32_dfu_synced *d = arg;

	st->state = BOOTSHAKE_STATE_IDENTIFYING;
	st->sync_us = d->sync_us;
	st->attempts = d->attempts;
	st->stm32 = *d->id;
}

struct stm32_dfu_ready {
	u64 ident_us;
	const struct bsk_stm32_status *id;
};

static void stm32_dfu_ready_fn(struct bsk_status *st, const void *arg)
{
	const struct stm32_dfu_ready *d = arg;

	st->state = BOOTSHAKE_STATE_READY;
	st->ident_us = d->ident_us;
	st->stm32 = *d->id;
}

static void stm32_dfu_handshake(struct bsk_dev *bdev)
{
	struct stm32_dfu_priv *priv = bdev->priv;
	struct stm32_dfu_synced synced;
	struct stm32_dfu_ready ready;
	struct stm32_dfu_run r = { .bdev = bdev };

	r.buf = kmalloc(STM32_DFU_BUF_LEN, GFP_KERNEL);
	if (!r.buf) {
		bsk_dev_fail(bdev, -ENOMEM, "nomem", "out of memory");
		return;
	}
	spin_lock(&bdev->lock);
	r.id = bdev->st.stm32;
	spin_unlock(&bdev->lock);
	r.id.ncmds = 0;

	/*
	 * The layout never changes on a connection: read it once.  The
	 * release publishes the finished alts to fill(), which reads them
	 * after its acquire of the flag; a retry's acquire sees them too.
	 */
	if (!smp_load_acquire(&priv->layout_done)) {
		if (stm32_dfu_read_layout(&r, priv))
			goto out;
		/* pairs with the acquire in stm32_dfu_fill() */
		smp_store_release(&priv->layout_done, true);
	}
	stm32_dfu_family(bdev, priv, &r.id);
	bsk_dev_update(bdev, stm32_dfu_publish_fn, &r.id);

	r.deadline = jiffies + msecs_to_jiffies(bdev->sync_ms);
	if (stm32_dfu_to_idle(&r))
		goto out;

	bsk_tr_note(bdev->tr, "dfuIDLE");
	synced.sync_us = bsk_dev_elapsed_us(bdev);
	synced.attempts = r.polls;
	synced.id = &r.id;
	bsk_dev_update(bdev, stm32_dfu_synced_fn, &synced);

	if (r.id.has_func && r.id.dfu_version == DFU_VERSION_DFUSE &&
	    (r.id.attributes & DFU_ATTR_CAN_UPLOAD) &&
	    stm32_dfu_get_commands(&r))
		goto out;

	bsk_tr_note(bdev->tr, "identity done");
	ready.ident_us = bsk_dev_elapsed_us(bdev);
	ready.id = &r.id;
	bsk_dev_update(bdev, stm32_dfu_ready_fn, &ready);
	dev_dbg(&bdev->intf->dev, "ready: DFU %x.%02x%s, %u alt settings, %s\n",
		r.id.dfu_version >> 8, r.id.dfu_version & 0xff,
		r.id.dfu_version == DFU_VERSION_DFUSE ? " (DfuSe)" : "",
		priv->nalts, r.id.family ?: "family unknown");
out:
	kfree(r.buf);
}

/* --- kind -------------------------------------------------------------- */

static int stm32_dfu_bind(struct bsk_dev *bdev)
{
	const u8 *func = stm32_dfu_find_func(bdev->intf);
	struct bsk_stm32_status *id = &bdev->st.stm32;
	struct stm32_dfu_priv *priv;

	priv = kzalloc(sizeof(*priv), GFP_KERNEL);
	if (!priv)
		return -ENOMEM;
	bdev->priv = priv;

	/* Not published yet: nobody else reads @bdev->st. */
	if (!func) {
		dev_info(&bdev->intf->dev, "no DFU functional descriptor\n");
		return 0;
	}
	id->has_func = true;
	id->attributes = func[2];
	id->transfer_size = get_unaligned_le16(&func[5]);
	id->dfu_version = func[0] >= DFU_FUNC_LEN ?
			  get_unaligned_le16(&func[7]) : 0x0100;
	return 0;
}

static int stm32_dfu_fill_region(struct sk_buff *skb,
				 const struct stm32_dfu_region *rg)
{
	char type[2] = { rg->type, '\0' };
	struct nlattr *reg;

	reg = nla_nest_start(skb, BOOTSHAKE_A_ALT_REGION);
	if (!reg)
		return -EMSGSIZE;
	if (nla_put_u32(skb, BOOTSHAKE_A_REGION_ADDRESS, rg->address))
		goto nla_put_failure;
	if (nla_put_u32(skb, BOOTSHAKE_A_REGION_COUNT, rg->count))
		goto nla_put_failure;
	if (nla_put_u32(skb, BOOTSHAKE_A_REGION_SIZE, rg->size))
		goto nla_put_failure;
	if (nla_put_string(skb, BOOTSHAKE_A_REGION_TYPE, type))
		goto nla_put_failure;
	nla_nest_end(skb, reg);
	return 0;

nla_put_failure:
	nla_nest_cancel(skb, reg);
	return -EMSGSIZE;
}

static int stm32_dfu_fill_alt(struct sk_buff *skb,
			      const struct stm32_dfu_alt *alt)
{
	struct nlattr *a;
	unsigned int j;

	a = nla_nest_start(skb, BOOTSHAKE_A_STM32_ALT);
	if (!a)
		return -EMSGSIZE;
	if (nla_put_u32(skb, BOOTSHAKE_A_ALT_NUMBER, alt->number))
		goto nla_put_failure;
	if (alt->has_name &&
	    nla_put_string(skb, BOOTSHAKE_A_ALT_NAME, alt->name))
		goto nla_put_failure;
	if (alt->malformed && nla_put_flag(skb, BOOTSHAKE_A_ALT_MALFORMED))
		goto nla_put_failure;
	for (j = 0; j < alt->nregions; j++)
		if (stm32_dfu_fill_region(skb, &alt->regions[j]))
			goto nla_put_failure;
	nla_nest_end(skb, a);
	return 0;

nla_put_failure:
	nla_nest_cancel(skb, a);
	return -EMSGSIZE;
}

static int stm32_dfu_fill(struct sk_buff *skb, struct bsk_dev *bdev,
			  const struct bsk_status *st)
{
	const struct bsk_stm32_status *id = &st->stm32;
	const struct stm32_dfu_priv *priv = bdev->priv;
	struct nlattr *nest;
	unsigned int i;

	nest = nla_nest_start(skb, BOOTSHAKE_A_DEV_STM32);
	if (!nest)
		return -EMSGSIZE;
	/* bcdDevice: the ROM's DFU protocol version (sheet 1.6, AN3156) */
	if (nla_put_u32(skb, BOOTSHAKE_A_STM32_BCD_DEVICE,
			le16_to_cpu(bdev->udev->descriptor.bcdDevice)))
		goto nla_put_failure;
	if (id->has_status) {
		if (nla_put_u32(skb, BOOTSHAKE_A_STM32_DFU_STATE, id->dfu_state))
			goto nla_put_failure;
		if (nla_put_u32(skb, BOOTSHAKE_A_STM32_DFU_STATUS, id->dfu_status))
			goto nla_put_failure;
	}
	if (id->has_func) {
		if (nla_put_u32(skb, BOOTSHAKE_A_STM32_DFU_VERSION,
				id->dfu_version))
			goto nla_put_failure;
		if (nla_put_u32(skb, BOOTSHAKE_A_STM32_TRANSFER_SIZE,
				id->transfer_size))
			goto nla_put_failure;
		if (nla_put_u32(skb, BOOTSHAKE_A_STM32_ATTRIBUTES,
				id->attributes))
			goto nla_put_failure;
	}
	if (id->ncmds &&
	    nla_put(skb, BOOTSHAKE_A_STM32_COMMANDS, id->ncmds, id->cmds))
		goto nla_put_failure;
	if (id->family) {
		if (nla_put_string(skb, BOOTSHAKE_A_STM32_FAMILY, id->family))
			goto nla_put_failure;
		if (nla_put_u32(skb, BOOTSHAKE_A_STM32_FAMILY_CONFIDENCE,
				id->family_confidence))
			goto nla_put_failure;
	}
	/* pairs with the release in stm32_dfu_handshake() */
	if (smp_load_acquire(&priv->layout_done)) {
		for (i = 0; i < priv->nalts; i++)
			if (stm32_dfu_fill_alt(skb, &priv->alts[i]))
				goto nla_put_failure;
	}
	nla_nest_end(skb, nest);
	return 0;

nla_put_failure:
	nla_nest_cancel(skb, nest);
	return -EMSGSIZE;
}

/*
 * Everything stm32_dfu_fill() can put: the worst case of every device
 * message, with every alternate setting named and holding every region.
 */
static size_t stm32_dfu_fill_size(void)
{
	size_t region = nla_total_size(0) +			/* the nest */
			3 * nla_total_size(sizeof(u32)) +
			nla_total_size(2);			/* TYPE */
	size_t alt = nla_total_size(0) +			/* the nest */
		     nla_total_size(sizeof(u32)) +		/* NUMBER */
		     nla_total_size(STM32_DFU_NAME_LEN) +	/* NAME */
		     nla_total_size(0) +			/* MALFORMED */
		     STM32_DFU_MAX_REGIONS * region;

	return nla_total_size(0) +				/* the nest */
	       7 * nla_total_size(sizeof(u32)) +
	       nla_total_size(BSK_STM32_MAX_CMDS) +		/* COMMANDS */
	       nla_total_size(BSK_NAME_MAX) +			/* FAMILY */
	       STM32_DFU_MAX_ALTS * alt;
}

/**
 * bsk_stm32_env() - STM32 identity for udev, both kinds
 * @st: the device's state
 * @vars: where to put "KEY=value" strings
 * @max: room in @vars
 *
 * BOOTSHAKE_FAMILY and BOOTSHAKE_FAMILY_CONFIDENCE (percent) once a family
 * is known; for USART, also what GET_ID and GET read:
 * BOOTSHAKE_STM32_PID (e.g. 0x0413) and BOOTSHAKE_BL_VERSION (e.g. 0x31).
 * The family of a DFU ROM is an inference from its descriptors (hence the
 * confidence), that of a USART one is the chip's own ID.
 *
 * Return: the number of variables put.
 */
int bsk_stm32_env(const struct bsk_status *st, struct bsk_env_var *vars,
		  int max)
{
	const struct bsk_stm32_status *id = &st->stm32;
	int n = 0;

	if (id->family && n < max)
		snprintf(vars[n++].s, BSK_ENV_LEN, "BOOTSHAKE_FAMILY=%s",
			 id->family);
	if (id->has_pid && n < max)
		snprintf(vars[n++].s, BSK_ENV_LEN, "BOOTSHAKE_STM32_PID=0x%04x",
			 id->pid);
	if (id->has_bl_version && n < max)
		snprintf(vars[n++].s, BSK_ENV_LEN, "BOOTSHAKE_BL_VERSION=0x%02x",
			 id->bl_version);
	if (id->family && !id->has_pid && n < max)
		snprintf(vars[n++].s, BSK_ENV_LEN,
			 "BOOTSHAKE_FAMILY_CONFIDENCE=%u",
			 id->family_confidence);
	return n;
}

const struct bsk_kind bsk_stm32_dfu_kind = {
	.name = "stm32-dfu",
	.id = BOOTSHAKE_KIND_STM32_DFU,
	.bind = stm32_dfu_bind,
	.handshake = stm32_dfu_handshake,
	.fill = stm32_dfu_fill,
	.fill_size = stm32_dfu_fill_size,
	.env = bsk_stm32_env,
	.default_policy = BOOTSHAKE_POLICY_AUTO,
	.uses_pipe = false,
};
