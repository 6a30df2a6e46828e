// SPDX-License-Identifier: GPL-2.0
/*
 * bootshake CLI: the one place that writes output, human or JSON.
 *
 * JSON is always built as a json-c tree from struct bs_dev by
 * bs_dev_json(), so list, show and monitor agree on field names.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <json-c/json.h>

#include <linux/bootshake.h>

#include "diagnose.h"
#include "print.h"
#include "transcript.h"

bool bs_json;
bool bs_pretty;

#define JSON_PRETTY	(JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED | \
			 JSON_C_TO_STRING_NOSLASHESCAPE)
#define JSON_COMPACT	(JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE)

/*
 * A whole document (list, show, policy, ...): compact on one line unless
 * -p asked for it indented.  Monitor events are always one line each.
 */
static void json_doc(struct json_object *obj, FILE *f)
{
	fputs(json_object_to_json_string_ext(obj, bs_pretty ? JSON_PRETTY :
					     JSON_COMPACT), f);
	fputc('\n', f);
	fflush(f);
}

void bs_print_json(struct json_object *obj)
{
	json_doc(obj, stdout);
}

static void json_line(struct json_object *obj)
{
	puts(json_object_to_json_string_ext(obj, JSON_COMPACT));
	fflush(stdout);
}

static void add_str(struct json_object *o, const char *key, const char *val)
{
	json_object_object_add(o, key, json_object_new_string(val));
}

static void add_int(struct json_object *o, const char *key, int64_t val)
{
	json_object_object_add(o, key, json_object_new_int64(val));
}

static void add_u64(struct json_object *o, const char *key, uint64_t val)
{
	json_object_object_add(o, key, json_object_new_uint64(val));
}

static void add_bool(struct json_object *o, const char *key, bool val)
{
	json_object_object_add(o, key, json_object_new_boolean(val));
}

void print_error(int err, const char *kmsg, const char *fmt, ...)
{
	char msg[512], name[BS_NAME_LEN];
	va_list ap;

	if (err < 0)
		err = -err;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (kmsg && !kmsg[0])
		kmsg = NULL;

	if (bs_json) {
		struct json_object *root = json_object_new_object();
		struct json_object *e = json_object_new_object();

		add_int(e, "errno", err);
		add_str(e, "name", bs_errno_name(err, name, sizeof(name)));
		add_str(e, "message", msg);
		if (kmsg)
			add_str(e, "kernel_message", kmsg);
		json_object_object_add(root, BS_JSON_ERROR_KEY, e);
		fflush(stdout);
		json_doc(root, stderr);
		json_object_put(root);
		return;
	}
	fflush(stdout);
	if (kmsg)
		fprintf(stderr, "bootshake: %s (kernel: %s)\n", msg, kmsg);
	else
		fprintf(stderr, "bootshake: %s\n", msg);
}

void print_warning(const char *fmt, ...)
{
	char msg[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	fflush(stdout);
	if (bs_json) {
		struct json_object *root = json_object_new_object();
		struct json_object *w = json_object_new_object();

		add_str(w, "message", msg);
		json_object_object_add(root, "warning", w);
		json_doc(root, stderr);
		json_object_put(root);
		return;
	}
	fprintf(stderr, "bootshake: warning: %s\n", msg);
}

static void add_hex(struct json_object *o, const char *key,
		    const uint8_t *data, size_t len)
{
	char buf[2 * BS_ID_MAX + 1];

	add_str(o, key, bs_hex(data, len, buf, sizeof(buf)));
}

static struct json_object *commands_json(const uint8_t *cmds, size_t n)
{
	struct json_object *a = json_object_new_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_object_array_add(a, json_object_new_int(cmds[i]));
	return a;
}

/* Bits of MTK GET_TARGET_CONFIG (fact sheet section 3). */
static const struct {
	uint32_t	bit;
	const char	*name;
} tc_bits[] = {
	{ 0x01, "sbc" },		/* secure boot */
	{ 0x02, "sla" },		/* serial link authentication */
	{ 0x04, "daa" },		/* download agent authentication */
	{ 0x08, "epp_param" },
	{ 0x10, "root_cert" },
	{ 0x20, "mem_read_auth" },
	{ 0x40, "mem_write_auth" },
	{ 0x80, "cmd_c8_blocked" },
};

static bool bs_dev_synced(const struct bs_dev *dev)
{
	return dev->flags & BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED;
}

static struct json_object *mtk_json(const struct bs_dev *dev)
{
	const struct bs_mtk *m = &dev->mtk;
	struct json_object *o = json_object_new_object();
	char buf[BS_NAME_LEN];
	size_t i;

	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_HW_CODE))
		add_int(o, "hw_code", m->hw_code);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_HW_STATUS))
		add_int(o, "hw_status", m->hw_status);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_HW_SUBCODE))
		add_int(o, "hw_subcode", m->hw_subcode);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_HW_VER))
		add_int(o, "hw_ver", m->hw_ver);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_SW_VER))
		add_int(o, "sw_ver", m->sw_ver);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_BL_VER))
		add_int(o, "bl_ver", m->bl_ver);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_BROM_VER))
		add_int(o, "brom_ver", m->brom_ver);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_TARGET_CONFIG)) {
		add_int(o, "target_config", m->target_config);
		for (i = 0; i < sizeof(tc_bits) / sizeof(tc_bits[0]); i++)
			add_bool(o, tc_bits[i].name,
				 m->target_config & tc_bits[i].bit);
	}
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_ME_ID))
		add_hex(o, "me_id", m->me_id, m->me_id_len);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_SOC_ID))
		add_hex(o, "soc_id", m->soc_id, m->soc_id_len);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_PL_CAP0))
		add_int(o, "pl_cap0", m->pl_cap0);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_PL_CAP1))
		add_int(o, "pl_cap1", m->pl_cap1);
	/* "chip" is always there: null when the hw_code is not in the table */
	json_object_object_add(o, "chip", m->chip ?
			       json_object_new_string(m->chip) : NULL);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_WATCHDOG))
		json_object_object_add(o, "watchdog",
			m->watchdog == BOOTSHAKE_WDT_UNSPEC ? NULL :
			json_object_new_string(bs_watchdog_name(m->watchdog,
						buf, sizeof(buf))));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_FLAGS))
		add_bool(o, "already_synced", bs_dev_synced(dev));
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_IS_BROM))
		add_bool(o, "is_brom", m->is_brom);
	return o;
}

/* "1.1a" for 0x011a: BCD major, then the two minor digits */
static const char *dfu_version(uint32_t v, char *buf, size_t len)
{
	snprintf(buf, len, "%x.%02x", v >> 8, v & 0xff);
	return buf;
}

/*
 * The DFU protocol version in a ROM's bcdDevice (../shared/protocols/
 * stm32.md 1.6): AN3156 puts it in the MSB, 0x2000 = V2.0, as F1/F3/F4
 * ROMs do (0x2000, 0x2100, 0x2200); newer ROMs report 0x0200 (H7, G4),
 * which ST tools show as "2.00".  So an MSB of 0x10 or more is two BCD
 * digits, a smaller one the major version alone.  An inference: ST does
 * not document the second encoding.
 */
static const char *dfu_protocol(uint32_t bcd, char *buf, size_t len)
{
	unsigned int msb = (bcd >> 8) & 0xff;

	if (msb >= 0x10)
		snprintf(buf, len, "%x.%x", msb >> 4, msb & 0xf);
	else
		snprintf(buf, len, "%x.%x", msb, (bcd >> 4) & 0xf);
	return buf;
}

static struct json_object *alts_json(const struct bs_stm32 *s)
{
	struct json_object *alts = json_object_new_array();
	size_t i, j;

	for (i = 0; i < s->nalts; i++) {
		const struct bs_alt *alt = &s->alts[i];
		struct json_object *a = json_object_new_object();
		struct json_object *regs = json_object_new_array();

		if (alt->present & (1u << BOOTSHAKE_A_ALT_NUMBER))
			add_int(a, "alt", alt->number);
		json_object_object_add(a, "name", alt->name ?
				       json_object_new_string(alt->name) :
				       NULL);
		if (alt->malformed)
			add_bool(a, "malformed", true);
		for (j = 0; j < alt->nregions; j++) {
			const struct bs_region *r = &alt->regions[j];
			struct json_object *ro = json_object_new_object();

			if (r->present & (1u << BOOTSHAKE_A_REGION_ADDRESS))
				add_int(ro, "address", r->address);
			if (r->present & (1u << BOOTSHAKE_A_REGION_COUNT))
				add_int(ro, "count", r->count);
			if (r->present & (1u << BOOTSHAKE_A_REGION_SIZE))
				add_int(ro, "size", r->size);
			if (r->type)
				add_str(ro, "type", r->type);
			json_object_array_add(regs, ro);
		}
		json_object_object_add(a, "regions", regs);
		json_object_array_add(alts, a);
	}
	return alts;
}

static struct json_object *dfu_json(const struct bs_dev *dev)
{
	const struct bs_stm32 *s = &dev->stm32;
	struct json_object *o = json_object_new_object();
	char buf[BS_NAME_LEN];

	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_DFU_STATE))
		add_str(o, "state",
			bs_dfu_state_name(s->dfu_state, buf, sizeof(buf)));
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_DFU_STATUS))
		add_str(o, "status",
			bs_dfu_status_name(s->dfu_status, buf, sizeof(buf)));
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_DFU_VERSION)) {
		add_str(o, "dfu_version",
			dfu_version(s->dfu_version, buf, sizeof(buf)));
		add_bool(o, "dfuse", s->dfu_version == 0x011a);
	}
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_BCD_DEVICE)) {
		add_int(o, "bcd_device", s->bcd_device);
		add_str(o, "protocol_version",
			dfu_protocol(s->bcd_device, buf, sizeof(buf)));
	}
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_TRANSFER_SIZE))
		add_int(o, "transfer_size", s->transfer_size);
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_ATTRIBUTES))
		add_int(o, "attributes", s->attributes);
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_COMMANDS))
		json_object_object_add(o, "commands",
				       commands_json(s->commands,
						     s->ncommands));
	json_object_object_add(o, "family", s->family ?
			       json_object_new_string(s->family) : NULL);
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_FAMILY_CONFIDENCE))
		add_int(o, "family_confidence", s->family_confidence);
	json_object_object_add(o, "alts", alts_json(s));
	return o;
}

static struct json_object *usart_json(const struct bs_dev *dev)
{
	const struct bs_stm32 *s = &dev->stm32;
	struct json_object *o = json_object_new_object();

	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_BL_VERSION))
		add_int(o, "bl_version", s->bl_version);
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_PID))
		add_int(o, "pid", s->pid);
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_COMMANDS))
		json_object_object_add(o, "commands",
				       commands_json(s->commands,
						     s->ncommands));
	if (s->family)
		add_str(o, "family", s->family);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_FLAGS))
		add_bool(o, "already_synced", bs_dev_synced(dev));
	return o;
}

static bool failed(const struct bs_dev *dev)
{
	return BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE) &&
	       dev->state == BOOTSHAKE_STATE_FAILED;
}

/* The STM32 nest is "usart" for the USART kind, "dfu" for anything else. */
static bool is_usart(const struct bs_dev *dev)
{
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_KIND))
		return dev->kind == BOOTSHAKE_KIND_STM32_USART;
	return BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_BL_VERSION) ||
	       BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_PID);
}

struct json_object *bs_dev_json(const struct bs_dev *dev,
				struct json_object *o)
{
	char buf[BS_NAME_LEN];

	if (!o)
		o = json_object_new_object();

	add_int(o, "id", dev->id);
	if (dev->path)
		add_str(o, "path", dev->path);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_VID))
		add_int(o, "vid", dev->vid);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_PID))
		add_int(o, "pid", dev->pid);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_VID) &&
	    BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_PID)) {
		snprintf(buf, sizeof(buf), "%04x:%04x", dev->vid, dev->pid);
		add_str(o, "usb_id", buf);
	}
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_KIND))
		add_str(o, "kind", bs_kind_name(dev->kind, buf, sizeof(buf)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE))
		add_str(o, "state",
			bs_state_name(dev->state, buf, sizeof(buf)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_SYNC_US))
		add_u64(o, "sync_us", dev->sync_us);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_IDENT_US))
		add_u64(o, "ident_us", dev->ident_us);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_ATTEMPTS))
		add_int(o, "attempts", dev->attempts);
	/*
	 * "error" is the short reason code; a failed device always has one
	 * ("unknown" from a module that sends none), others only if sent.
	 */
	if (dev->error_code)
		add_str(o, "error", dev->error_code);
	else if (failed(dev))
		add_str(o, "error", "unknown");
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_ERROR)) {
		add_int(o, "errno", dev->error);
		add_str(o, "error_name",
			bs_errno_name(dev->error, buf, sizeof(buf)));
	}
	if (dev->reason)
		add_str(o, "reason", dev->reason);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_GARBAGE))
		add_int(o, "garbage_bytes", dev->garbage);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_FLAGS)) {
		add_bool(o, "already_synced", bs_dev_synced(dev));
		add_bool(o, "taken_over",
			 dev->flags & BOOTSHAKE_DEV_FLAG_TAKEN_OVER);
		add_bool(o, "ident_partial",
			 dev->flags & BOOTSHAKE_DEV_FLAG_IDENT_PARTIAL);
	}
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_SPEED))
		add_str(o, "speed", bs_speed_name(dev->speed, buf, sizeof(buf)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_BUSNUM))
		add_int(o, "busnum", dev->busnum);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_DEVNUM))
		add_int(o, "devnum", dev->devnum);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_MTK))
		json_object_object_add(o, "mtk", mtk_json(dev));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STM32))
		json_object_object_add(o, is_usart(dev) ? "usart" : "dfu",
				       is_usart(dev) ? usart_json(dev) :
						       dfu_json(dev));
	return o;
}

/* --- human text ------------------------------------------------------ */

/* Exact rounding to one decimal, without going through double. */
static const char *ms1(uint64_t us, char *buf, size_t len)
{
	uint64_t tenths = (us + 50) / 100;

	snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "ms", tenths / 10,
		 tenths % 10);
	return buf;
}

static const char *usb_id(const struct bs_dev *dev, char *buf, size_t len)
{
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_VID) ||
	    BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_PID))
		snprintf(buf, len, "%04x:%04x", dev->vid, dev->pid);
	else
		snprintf(buf, len, "-");
	return buf;
}

/* "MT6765", "hw 0x0766", "STM32F4 (80%)", "pid 0x0413" or "-" */
static const char *chip(const struct bs_dev *dev, char *buf, size_t len)
{
	const struct bs_stm32 *s = &dev->stm32;

	if (dev->mtk.chip)
		snprintf(buf, len, "%s", dev->mtk.chip);
	else if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_HW_CODE))
		snprintf(buf, len, "hw 0x%04x", dev->mtk.hw_code);
	else if (s->family &&
		 BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_FAMILY_CONFIDENCE))
		snprintf(buf, len, "%s (%u%%)", s->family,
			 s->family_confidence);
	else if (s->family)
		snprintf(buf, len, "%s", s->family);
	else if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_PID))
		snprintf(buf, len, "pid 0x%04x", s->pid);
	else
		snprintf(buf, len, "-");
	return buf;
}

/* "sbc+sla+daa", or "none" when no security bit is set */
static const char *tc_words(uint32_t tc, char *buf, size_t len)
{
	size_t i, n = 0;

	buf[0] = '\0';
	for (i = 0; i < sizeof(tc_bits) / sizeof(tc_bits[0]); i++)
		if (tc & tc_bits[i].bit)
			n += snprintf(buf + n, len > n ? len - n : 0, "%s%s",
				      n ? "+" : "", tc_bits[i].name);
	if (!n)
		snprintf(buf, len, "none");
	return buf;
}

/*
 * The identity fields a person checks at a glance, one short cell:
 * MediaTek "brom hw 0x0766 sbc+sla+daa wdt:disabled",
 * DFU "dfuIDLE/OK DfuSe 1.1a", USART "bl 3.1 pid 0x0413".
 */
static const char *ident(const struct bs_dev *dev, char *buf, size_t len)
{
	const struct bs_mtk *m = &dev->mtk;
	const struct bs_stm32 *s = &dev->stm32;
	char a[BS_NAME_LEN], b[BS_NAME_LEN], t[96];
	size_t n = 0;

#define ADD(...) (n += snprintf(buf + n, len > n ? len - n : 0, __VA_ARGS__))
	buf[0] = '\0';
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_MTK)) {
		if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_IS_BROM))
			ADD("%s", m->is_brom ? "brom" : "preloader");
		if (m->chip && BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_HW_CODE))
			ADD("%shw 0x%04x", n ? " " : "", m->hw_code);
		if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_TARGET_CONFIG))
			ADD("%s%s", n ? " " : "",
			    tc_words(m->target_config & 0x7, t, sizeof(t)));
		if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_WATCHDOG) && m->watchdog)
			ADD("%swdt:%s", n ? " " : "",
			    bs_watchdog_name(m->watchdog, a, sizeof(a)));
	} else if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STM32) && is_usart(dev)) {
		if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_BL_VERSION))
			ADD("bl %u.%u", s->bl_version >> 4,
			    s->bl_version & 15);
		if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_PID) && s->family)
			ADD("%spid 0x%04x", n ? " " : "", s->pid);
	} else if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STM32)) {
		if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_DFU_STATE))
			ADD("%s/%s",
			    bs_dfu_state_name(s->dfu_state, a, sizeof(a)),
			    bs_dfu_status_name(s->dfu_status, b, sizeof(b)));
		if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_DFU_VERSION))
			ADD("%s%s %s", n ? " " : "",
			    s->dfu_version == 0x011a ? "DfuSe" : "DFU",
			    dfu_version(s->dfu_version, a, sizeof(a)));
	}
	if (bs_dev_synced(dev))
		ADD("%salready-synced", n ? " " : "");
#undef ADD
	if (!buf[0])
		snprintf(buf, len, "-");
	return buf;
}

static const char *flag_words(uint32_t flags, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s%s%s",
		 flags & BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED ? "already_synced" : "",
		 (flags & BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED) &&
		 (flags & BOOTSHAKE_DEV_FLAG_TAKEN_OVER) ? "," : "",
		 flags & BOOTSHAKE_DEV_FLAG_TAKEN_OVER ? "taken_over" : "",
		 (flags & BOOTSHAKE_DEV_FLAG_IDENT_PARTIAL) &&
		 (flags & (BOOTSHAKE_DEV_FLAG_ALREADY_SYNCED |
			   BOOTSHAKE_DEV_FLAG_TAKEN_OVER)) ? "," : "",
		 flags & BOOTSHAKE_DEV_FLAG_IDENT_PARTIAL ? "ident_partial" : "");
	return buf;
}

/* "no-reply: no answer to A0 (ETIMEDOUT)" for a failed device, or "" */
static const char *failure(const struct bs_dev *dev, char *buf, size_t len)
{
	char name[BS_NAME_LEN];
	size_t n = 0;

	buf[0] = '\0';
	if (!failed(dev))
		return buf;
	n += snprintf(buf, len, "%s", dev->error_code ? dev->error_code :
		      BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_ERROR) ?
		      bs_errno_name(dev->error, name, sizeof(name)) :
		      "failed");
	if (dev->reason && n < len)
		n += snprintf(buf + n, len - n, ": %s", dev->reason);
	if (dev->error_code && BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_ERROR) &&
	    n < len)
		snprintf(buf + n, len - n, " (%s)",
			 bs_errno_name(dev->error, name, sizeof(name)));
	return buf;
}

enum {
	COL_ID, COL_PATH, COL_USB, COL_KIND, COL_STATE, COL_CHIP, COL_IDENT,
	COL_SYNC, COL_ERROR, NCOLS
};

static const char * const col_head[NCOLS] = {
	"ID", "PATH", "VID:PID", "KIND", "STATE", "CHIP", "IDENTITY", "SYNC",
	"ERROR",
};

#define CELL_LEN	96

struct row {
	char		cell[COL_ERROR][CELL_LEN];
	char		error[320];
};

static void fill_row(const struct bs_dev *dev, struct row *r)
{
	char name[BS_NAME_LEN];

	snprintf(r->cell[COL_ID], CELL_LEN, "%u", dev->id);
	snprintf(r->cell[COL_PATH], CELL_LEN, "%s",
		 dev->path ? dev->path : "-");
	usb_id(dev, r->cell[COL_USB], CELL_LEN);
	snprintf(r->cell[COL_KIND], CELL_LEN, "%s",
		 BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_KIND) ?
		 bs_kind_name(dev->kind, name, sizeof(name)) : "-");
	snprintf(r->cell[COL_STATE], CELL_LEN, "%s",
		 BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE) ?
		 bs_state_name(dev->state, name, sizeof(name)) : "-");
	chip(dev, r->cell[COL_CHIP], CELL_LEN);
	ident(dev, r->cell[COL_IDENT], CELL_LEN);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_SYNC_US) && dev->sync_us)
		ms1(dev->sync_us, r->cell[COL_SYNC], CELL_LEN);
	else
		snprintf(r->cell[COL_SYNC], CELL_LEN, "-");
	failure(dev, r->error, sizeof(r->error));
}

/*
 * A table with a header; @cells is rows * ncols strings. The last column
 * is @tail (not padded), shown only when some row has one.
 */
static void print_table(const char * const *head, size_t ncols,
			const char *const *cells, size_t nrows,
			const char *tail_head, const char *const *tail)
{
	size_t width[16] = { 0 };
	bool any_tail = false;
	size_t i, c;

	for (c = 0; c < ncols; c++)
		width[c] = strlen(head[c]);
	for (i = 0; i < nrows; i++) {
		for (c = 0; c < ncols; c++)
			if (strlen(cells[i * ncols + c]) > width[c])
				width[c] = strlen(cells[i * ncols + c]);
		if (tail && tail[i][0])
			any_tail = true;
	}

	for (c = 0; c < ncols; c++) {
		if (c == ncols - 1 && !any_tail)
			printf("%s", head[c]);
		else
			printf("%-*s  ", (int)width[c], head[c]);
	}
	if (any_tail)
		printf("%s", tail_head);
	putchar('\n');
	for (i = 0; i < nrows; i++) {
		for (c = 0; c < ncols; c++) {
			const char *cell = cells[i * ncols + c];

			if (c == ncols - 1 && !(tail && tail[i][0]))
				printf("%s", cell);
			else
				printf("%-*s  ", (int)width[c], cell);
		}
		printf("%s\n", tail ? tail[i] : "");
	}
	fflush(stdout);
}

void print_dev_list(const struct bs_dev_list *list)
{
	const char **cells, **tail;
	struct row *rows;
	size_t i, c;

	if (bs_json) {
		struct json_object *arr = json_object_new_array();

		for (i = 0; i < list->n; i++)
			json_object_array_add(arr,
					      bs_dev_json(&list->v[i], NULL));
		json_doc(arr, stdout);
		json_object_put(arr);
		return;
	}

	rows = calloc(list->n + 1, sizeof(*rows));
	cells = calloc((list->n + 1) * COL_ERROR, sizeof(*cells));
	tail = calloc(list->n + 1, sizeof(*tail));
	if (!rows || !cells || !tail) {
		print_error(ENOMEM, NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < list->n; i++) {
		fill_row(&list->v[i], &rows[i]);
		for (c = 0; c < COL_ERROR; c++)
			cells[i * COL_ERROR + c] = rows[i].cell[c];
		tail[i] = rows[i].error;
	}
	print_table(col_head, COL_ERROR, cells, list->n, col_head[COL_ERROR],
		    tail);
out:
	free(tail);
	free(cells);
	free(rows);
}

/* One "  label:  value" line of show. */
static void kv(const char *label, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void kv(const char *label, const char *fmt, ...)
{
	va_list ap;

	printf("  %s:%*s", label, (int)(14 - strlen(label)), "");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static void print_cmd_bytes(const char *label, const uint8_t *c, size_t n)
{
	char buf[3 * BS_CMDS_MAX + 1];
	size_t i, len = 0;

	buf[0] = '\0';
	for (i = 0; i < n; i++)
		len += snprintf(buf + len, sizeof(buf) - len, "%s%02x",
				i ? " " : "", c[i]);
	kv(label, "%s", n ? buf : "(none)");
}

static void print_mtk(const struct bs_dev *dev)
{
	const struct bs_mtk *m = &dev->mtk;
	char a[2 * BS_ID_MAX + 1], b[BS_NAME_LEN];

	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_CHIP))
		kv("chip", "%s", m->chip);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_IS_BROM))
		kv("mode", "%s", m->is_brom ? "BROM" : "preloader");
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_HW_CODE))
		kv("hw_code", "0x%04x", m->hw_code);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_HW_STATUS))
		kv("hw_status", "0x%04x", m->hw_status);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_HW_SUBCODE))
		kv("hw_subcode", "0x%04x", m->hw_subcode);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_HW_VER))
		kv("hw_ver", "0x%04x", m->hw_ver);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_SW_VER))
		kv("sw_ver", "0x%04x", m->sw_ver);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_BL_VER))
		kv("bl_ver", "0x%02x", m->bl_ver);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_BROM_VER))
		kv("brom_ver", "0x%02x", m->brom_ver);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_TARGET_CONFIG))
		kv("target_config", "0x%08x (%s)", m->target_config,
		   tc_words(m->target_config, a, sizeof(a)));
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_ME_ID))
		kv("me_id", "%s", bs_hex(m->me_id, m->me_id_len, a, sizeof(a)));
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_SOC_ID))
		kv("soc_id", "%s",
		   bs_hex(m->soc_id, m->soc_id_len, a, sizeof(a)));
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_PL_CAP0) ||
	    BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_PL_CAP1))
		kv("pl_cap", "0x%08x 0x%08x", m->pl_cap0, m->pl_cap1);
	if (BS_MTK_HAS(dev, BOOTSHAKE_A_MTK_WATCHDOG))
		kv("watchdog", "%s", m->watchdog ?
		   bs_watchdog_name(m->watchdog, b, sizeof(b)) :
		   "not attempted");
}

static void print_stm32(const struct bs_dev *dev)
{
	const struct bs_stm32 *s = &dev->stm32;
	char a[BS_NAME_LEN], b[BS_NAME_LEN];
	size_t i, j;

	if (s->family && BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_FAMILY_CONFIDENCE))
		kv("family", "%s (confidence %u%%)", s->family,
		   s->family_confidence);
	else if (s->family)
		kv("family", "%s", s->family);
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_BL_VERSION))
		kv("bl_version", "%u.%u (0x%02x)", s->bl_version >> 4,
		   s->bl_version & 15, s->bl_version);
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_PID))
		kv("chip pid", "0x%04x", s->pid);
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_DFU_STATE))
		kv("dfu state", "%s",
		   bs_dfu_state_name(s->dfu_state, a, sizeof(a)));
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_DFU_STATUS))
		kv("dfu status", "%s",
		   bs_dfu_status_name(s->dfu_status, b, sizeof(b)));
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_DFU_VERSION))
		kv("dfu version", "%s%s",
		   dfu_version(s->dfu_version, a, sizeof(a)),
		   s->dfu_version == 0x011a ? " (DfuSe)" : "");
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_BCD_DEVICE))
		kv("dfu protocol", "%s (bcdDevice 0x%04x)",
		   dfu_protocol(s->bcd_device, a, sizeof(a)), s->bcd_device);
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_TRANSFER_SIZE))
		kv("transfer size", "%u", s->transfer_size);
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_ATTRIBUTES))
		kv("attributes", "0x%02x", s->attributes);
	if (BS_STM32_HAS(dev, BOOTSHAKE_A_STM32_COMMANDS))
		print_cmd_bytes("commands", s->commands, s->ncommands);
	for (i = 0; i < s->nalts; i++) {
		const struct bs_alt *alt = &s->alts[i];
		char label[24];

		snprintf(label, sizeof(label), "alt %u", alt->number);
		kv(label, "%s%s", alt->name ? alt->name : "(no name)",
		   alt->malformed ? "  [malformed]" : "");
		for (j = 0; j < alt->nregions; j++) {
			const struct bs_region *r = &alt->regions[j];

			printf("%17s0x%08x  %u x %u bytes  %s\n", "",
			       r->address, r->count, r->size,
			       r->type ? r->type : "");
		}
	}
}

void print_dev(const struct bs_dev *dev)
{
	char a[CELL_LEN], b[BS_NAME_LEN];

	if (bs_json) {
		struct json_object *o = bs_dev_json(dev, NULL);

		json_doc(o, stdout);
		json_object_put(o);
		return;
	}

	printf("device %u\n", dev->id);
	if (dev->path)
		kv("path", "%s", dev->path);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_VID) ||
	    BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_PID))
		kv("usb id", "%s", usb_id(dev, a, sizeof(a)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_BUSNUM) ||
	    BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_DEVNUM))
		kv("bus/dev", "%03u/%03u", dev->busnum, dev->devnum);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_SPEED))
		kv("speed", "%s", bs_speed_name(dev->speed, b, sizeof(b)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_KIND))
		kv("kind", "%s", bs_kind_name(dev->kind, b, sizeof(b)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE))
		kv("state", "%s", bs_state_name(dev->state, b, sizeof(b)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_FLAGS))
		kv("flags", "%s", dev->flags ?
		   flag_words(dev->flags, a, sizeof(a)) : "none");
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_ATTEMPTS))
		kv("attempts", "%u", dev->attempts);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_SYNC_US))
		kv("sync", "%s", ms1(dev->sync_us, a, sizeof(a)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_IDENT_US))
		kv("ident", "%s", ms1(dev->ident_us, a, sizeof(a)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_GARBAGE))
		kv("garbage", "%u bytes", dev->garbage);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_MTK))
		print_mtk(dev);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STM32))
		print_stm32(dev);
	if (dev->error_code)
		kv("error", "%s", dev->error_code);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_ERROR))
		kv("errno", "%s (%s)", bs_errno_name(dev->error, b, sizeof(b)),
		   strerror(dev->error));
	if (dev->reason)
		kv("reason", "%s", dev->reason);
	fflush(stdout);
}

void format_timestamp(const struct timespec *ts, char *buf, size_t len)
{
	struct tm tm;
	char day[32];

	gmtime_r(&ts->tv_sec, &tm);
	strftime(day, sizeof(day), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%.20s.%06dZ", day,
		 (int)(ts->tv_nsec / 1000 % 1000000));
}

void format_event(const char *event, const struct bs_dev *dev,
		  const char *note, char *buf, size_t len)
{
	format_event_fields(event, dev, note, NULL, 0, buf, len);
}

void format_event_fields(const char *event, const struct bs_dev *dev,
			 const char *note, const struct bs_field *f, size_t nf,
			 char *buf, size_t len)
{
	size_t i;
	char a[CELL_LEN], b[BS_NAME_LEN];
	size_t n = 0;

#define ADD(...) (n += snprintf(buf + n, len > n ? len - n : 0, __VA_ARGS__))
	ADD("%s", event);
	if (dev) {
		ADD(" id=%u", dev->id);
		if (dev->path)
			ADD(" path=%s", dev->path);
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_VID) ||
		    BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_PID))
			ADD(" %s", usb_id(dev, a, sizeof(a)));
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_KIND))
			ADD(" %s", bs_kind_name(dev->kind, b, sizeof(b)));
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE))
			ADD(" %s", bs_state_name(dev->state, b, sizeof(b)));
		if (strcmp(chip(dev, a, sizeof(a)), "-"))
			ADD(" chip=\"%s\"", a);
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_SYNC_US) && dev->sync_us)
			ADD(" sync=%s", ms1(dev->sync_us, a, sizeof(a)));
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_IDENT_US) && dev->ident_us)
			ADD(" ident=%s", ms1(dev->ident_us, a, sizeof(a)));
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_FLAGS) && dev->flags)
			ADD(" %s", flag_words(dev->flags, a, sizeof(a)));
		if (dev->error_code)
			ADD(" error=%s", dev->error_code);
		if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_ERROR) && dev->error)
			ADD(" errno=%s",
			    bs_errno_name(dev->error, b, sizeof(b)));
		if (dev->reason)
			ADD(" reason=\"%s\"", dev->reason);
	}
	for (i = 0; i < nf; i++) {
		switch (f[i].type) {
		case BS_FIELD_STR:
			ADD(strpbrk(f[i].s, " \"") ? " %s=\"%s\"" : " %s=%s",
			    f[i].key, f[i].s);
			break;
		case BS_FIELD_INT:
			ADD(" %s=%lld", f[i].key, f[i].i);
			break;
		case BS_FIELD_BOOL:
			if (f[i].i)
				ADD(" %s", f[i].key);
			break;
		case BS_FIELD_NULL:
			break;
		}
	}
	if (note)
		ADD(" %s", note);
#undef ADD
}

void print_event(const char *event, const struct bs_dev *dev,
		 const struct timespec *ts, const char *note)
{
	print_event_fields(event, dev, ts, note, NULL, 0);
}

static void add_fields(struct json_object *o, const struct bs_field *f,
		       size_t n)
{
	size_t i;

	for (i = 0; i < n; i++) {
		switch (f[i].type) {
		case BS_FIELD_STR:
			add_str(o, f[i].key, f[i].s);
			break;
		case BS_FIELD_INT:
			add_int(o, f[i].key, f[i].i);
			break;
		case BS_FIELD_BOOL:
			add_bool(o, f[i].key, f[i].i);
			break;
		case BS_FIELD_NULL:
			json_object_object_add(o, f[i].key, NULL);
			break;
		}
	}
}

void print_event_fields(const char *event, const struct bs_dev *dev,
			const struct timespec *ts, const char *note,
			const struct bs_field *f, size_t nf)
{
	char when[64], line[1024];

	format_timestamp(ts, when, sizeof(when));

	if (bs_json) {
		struct json_object *o = json_object_new_object();

		add_str(o, "event", event);
		add_str(o, "timestamp", when);
		add_int(o, "time_ns", (int64_t)ts->tv_sec * 1000000000LL +
			ts->tv_nsec);
		if (dev)
			bs_dev_json(dev, o);
		add_fields(o, f, nf);
		if (note)
			add_str(o, "message", note);
		json_line(o);
		json_object_put(o);
		return;
	}

	format_event_fields(event, dev, note, f, nf, line, sizeof(line));
	printf("%s %s\n", when, line);
	fflush(stdout);
}

/* --- policy ----------------------------------------------------------- */

/* "60.0s" from milliseconds, exact to a tenth */
static const char *secs1(uint32_t ms, char *buf, size_t len)
{
	uint64_t tenths = ((uint64_t)ms + 50) / 100;

	snprintf(buf, len, "%" PRIu64 ".%" PRIu64 "s", tenths / 10,
		 tenths % 10);
	return buf;
}

static struct json_object *policy_json(const struct bs_policy *p)
{
	struct json_object *o = json_object_new_object();
	char buf[BS_NAME_LEN];

	add_str(o, "kind", bs_kind_name(p->kind, buf, sizeof(buf)));
	if (BS_POL_HAS(p, BOOTSHAKE_A_POLICY_MODE))
		add_str(o, "policy", bs_policy_name(p->mode, buf, sizeof(buf)));
	add_bool(o, "armed", p->arm_count > 0);
	if (BS_POL_HAS(p, BOOTSHAKE_A_POLICY_ARM_COUNT))
		add_int(o, "arm_count", p->arm_count);
	if (BS_POL_HAS(p, BOOTSHAKE_A_POLICY_ARM_TIMEOUT_MS))
		add_int(o, "arm_timeout_ms", p->arm_timeout_ms);
	if (BS_POL_HAS(p, BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS))
		add_int(o, "step_timeout_ms", p->step_ms);
	if (BS_POL_HAS(p, BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS))
		add_int(o, "sync_timeout_ms", p->sync_ms);
	return o;
}

enum { PCOL_KIND, PCOL_POLICY, PCOL_ARMED, PCOL_STEP, PCOL_SYNC, PNCOLS };

static void policy_cells(const struct bs_policy *p, char cell[][CELL_LEN])
{
	char a[BS_NAME_LEN];

	snprintf(cell[PCOL_KIND], CELL_LEN, "%s",
		 bs_kind_name(p->kind, a, sizeof(a)));
	snprintf(cell[PCOL_POLICY], CELL_LEN, "%s",
		 BS_POL_HAS(p, BOOTSHAKE_A_POLICY_MODE) ?
		 bs_policy_name(p->mode, a, sizeof(a)) : "-");
	if (p->arm_count)
		snprintf(cell[PCOL_ARMED], CELL_LEN, "%u device%s, %s left",
			 p->arm_count, p->arm_count == 1 ? "" : "s",
			 secs1(p->arm_timeout_ms, a, sizeof(a)));
	else
		snprintf(cell[PCOL_ARMED], CELL_LEN, "no");
	if (BS_POL_HAS(p, BOOTSHAKE_A_POLICY_STEP_TIMEOUT_MS))
		snprintf(cell[PCOL_STEP], CELL_LEN, "%ums", p->step_ms);
	else
		snprintf(cell[PCOL_STEP], CELL_LEN, "-");
	if (BS_POL_HAS(p, BOOTSHAKE_A_POLICY_SYNC_TIMEOUT_MS))
		snprintf(cell[PCOL_SYNC], CELL_LEN, "%ums", p->sync_ms);
	else
		snprintf(cell[PCOL_SYNC], CELL_LEN, "-");
}

void print_policies(const struct bs_policy *v, size_t n)
{
	static const char * const head[PNCOLS] = {
		"KIND", "POLICY", "ARMED", "STEP-TIMEOUT", "SYNC-TIMEOUT",
	};
	char (*cells)[PNCOLS][CELL_LEN];
	const char **ptrs;
	size_t i, c;

	if (bs_json) {
		struct json_object *arr = json_object_new_array();

		for (i = 0; i < n; i++)
			json_object_array_add(arr, policy_json(&v[i]));
		json_doc(arr, stdout);
		json_object_put(arr);
		return;
	}
	cells = calloc(n + 1, sizeof(*cells));
	ptrs = calloc((n + 1) * PNCOLS, sizeof(*ptrs));
	if (!cells || !ptrs) {
		print_error(ENOMEM, NULL, "out of memory");
		goto out;
	}
	for (i = 0; i < n; i++) {
		policy_cells(&v[i], cells[i]);
		for (c = 0; c < PNCOLS; c++)
			ptrs[i * PNCOLS + c] = cells[i][c];
	}
	print_table(head, PNCOLS, ptrs, n, NULL, NULL);
out:
	free(ptrs);
	free(cells);
}

void print_policy(const struct bs_policy *p)
{
	char cell[PNCOLS][CELL_LEN];

	if (bs_json) {
		struct json_object *o = policy_json(p);

		json_doc(o, stdout);
		json_object_put(o);
		return;
	}
	policy_cells(p, cell);
	printf("%s\n", cell[PCOL_KIND]);
	kv("policy", "%s", cell[PCOL_POLICY]);
	kv("armed", "%s", cell[PCOL_ARMED]);
	kv("step timeout", "%s", cell[PCOL_STEP]);
	kv("sync timeout", "%s", cell[PCOL_SYNC]);
	fflush(stdout);
}

/* --- retry, release ------------------------------------------------------ */

void print_action(const char *action, const struct bs_dev *dev)
{
	char a[BS_NAME_LEN], b[BS_NAME_LEN];

	if (bs_json) {
		struct json_object *o = json_object_new_object();

		add_str(o, "action", action);
		bs_dev_json(dev, o);
		json_doc(o, stdout);
		json_object_put(o);
		return;
	}
	printf("%s: device %u%s%s%s %s: %s\n", action, dev->id,
	       dev->path ? " (" : "", dev->path ? dev->path : "",
	       dev->path ? ")" : "",
	       BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_KIND) ?
	       bs_kind_name(dev->kind, a, sizeof(a)) : "-",
	       BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE) ?
	       bs_state_name(dev->state, b, sizeof(b)) : "-");
	fflush(stdout);
}

/* --- transcript ----------------------------------------------------------- */

static const char *dir_name(uint32_t dir)
{
	switch (dir) {
	case BOOTSHAKE_DIR_OUT:		return "out";
	case BOOTSHAKE_DIR_IN:		return "in";
	case BOOTSHAKE_DIR_NOTE:	return "note";
	default:			return "unknown";
	}
}

static char dir_sign(uint32_t dir)
{
	switch (dir) {
	case BOOTSHAKE_DIR_OUT:		return '>';
	case BOOTSHAKE_DIR_IN:		return '<';
	case BOOTSHAKE_DIR_NOTE:	return '#';
	default:			return '?';
	}
}

/* "device 3 (1-1, mtk-brom, failed)" */
static void dev_title(const struct bs_dev *dev, char *buf, size_t len)
{
	char a[BS_NAME_LEN], b[BS_NAME_LEN];

	snprintf(buf, len, "device %u (%s, %s, %s)", dev->id,
		 dev->path ? dev->path : "-",
		 BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_KIND) ?
		 bs_kind_name(dev->kind, a, sizeof(a)) : "-",
		 BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE) ?
		 bs_state_name(dev->state, b, sizeof(b)) : "-");
}

static void add_dev_head(struct json_object *o, const struct bs_dev *dev)
{
	char buf[BS_NAME_LEN];

	add_int(o, "id", dev->id);
	if (dev->path)
		add_str(o, "path", dev->path);
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_KIND))
		add_str(o, "kind", bs_kind_name(dev->kind, buf, sizeof(buf)));
	if (BS_DEV_HAS(dev, BOOTSHAKE_A_DEV_STATE))
		add_str(o, "state",
			bs_state_name(dev->state, buf, sizeof(buf)));
}

void print_transcript(const struct bs_dev *dev, const struct bs_tr *tr)
{
	struct bs_tr_mark mark;
	char hex[1024], text[256], title[160];
	size_t i;

	bs_tr_find_mark(tr, dev, &mark);

	if (bs_json) {
		struct json_object *o = json_object_new_object();
		struct json_object *recs = json_object_new_array();

		add_dev_head(o, dev);
		for (i = 0; i < tr->n; i++) {
			const struct bs_tr_rec *r = &tr->v[i];
			struct json_object *ro = json_object_new_object();
			char *h = malloc(2 * r->len + 1);

			add_u64(ro, "t_ns", r->t_ns);
			add_str(ro, "dir", dir_name(r->dir));
			add_str(ro, "hex", h ? bs_hex(r->data, r->len, h,
						      2 * r->len + 1) : "");
			free(h);
			if (r->dir == BOOTSHAKE_DIR_NOTE)
				add_str(ro, "text",
					bs_tr_text(r, text, sizeof(text)));
			if (r->lost)
				add_int(ro, "lost_before", r->lost);
			json_object_array_add(recs, ro);
		}
		json_object_object_add(o, "records", recs);
		add_u64(o, "lost", tr->lost);
		if (mark.after >= 0) {
			struct json_object *m = json_object_new_object();

			add_int(m, "after", mark.after);
			add_str(m, "why", mark.why);
			json_object_object_add(o, "mark", m);
		} else {
			json_object_object_add(o, "mark", NULL);
		}
		json_doc(o, stdout);
		json_object_put(o);
		return;
	}

	dev_title(dev, title, sizeof(title));
	printf("%s: %zu record%s", title, tr->n, tr->n == 1 ? "" : "s");
	if (tr->lost)
		printf(", %" PRIu64 " older record%s lost", tr->lost,
		       tr->lost == 1 ? "" : "s");
	printf("\n");
	for (i = 0; i < tr->n; i++) {
		const struct bs_tr_rec *r = &tr->v[i];
		char t[40];

		if (r->lost)
			printf("  ... %u record%s lost ...\n", r->lost,
			       r->lost == 1 ? "" : "s");
		snprintf(t, sizeof(t), "+%" PRIu64 ".%06" PRIu64,
			 r->t_ns / 1000000, r->t_ns % 1000000);
		if (r->dir == BOOTSHAKE_DIR_NOTE)
			printf("  %14s ms  #  %s\n", t,
			       bs_tr_text(r, text, sizeof(text)));
		else if (bs_tr_is_text(r))
			printf("  %14s ms  %c  %s  \"%s\"\n", t,
			       dir_sign(r->dir),
			       bs_tr_hex(r, hex, sizeof(hex)),
			       bs_tr_text(r, text, sizeof(text)));
		else
			printf("  %14s ms  %c  %s\n", t, dir_sign(r->dir),
			       bs_tr_hex(r, hex, sizeof(hex)));
		if ((long)i == mark.after)
			printf("  !! here: %s\n", mark.why);
	}
	if (!tr->n)
		printf("  (empty)\n");
	fflush(stdout);
}

/* --- diagnose ------------------------------------------------------------- */

void print_diagnosis(const struct bs_dev *dev, const struct bs_finding *f,
		     size_t n)
{
	char title[160];
	size_t i;

	if (bs_json) {
		struct json_object *o = json_object_new_object();
		struct json_object *arr = json_object_new_array();

		add_dev_head(o, dev);
		for (i = 0; i < n; i++) {
			struct json_object *fo = json_object_new_object();

			add_str(fo, "code", f[i].code);
			add_str(fo, "severity", bs_severity_name(f[i].severity));
			add_str(fo, "cause", f[i].cause);
			add_str(fo, "fix", f[i].fix);
			add_str(fo, "evidence", f[i].evidence);
			json_object_array_add(arr, fo);
		}
		json_object_object_add(o, "findings", arr);
		json_doc(o, stdout);
		json_object_put(o);
		return;
	}

	dev_title(dev, title, sizeof(title));
	printf("%s\n", title);
	if (!n)
		printf("no problem found\n");
	for (i = 0; i < n; i++) {
		printf("\n%s [%s]\n", f[i].code,
		       bs_severity_name(f[i].severity));
		printf("cause: %s\n", f[i].cause);
		printf("fix: %s\n", f[i].fix);
		if (f[i].evidence[0])
			printf("evidence: %s\n", f[i].evidence);
	}
	fflush(stdout);
}
