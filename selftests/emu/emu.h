/* SPDX-License-Identifier: GPL-2.0 */
/*
 * bsk-emu: userspace USB device emulator for the bootshake selftests.
 *
 * The framework (emu.c) owns the gadget (configfs + FunctionFS), ep0, the
 * endpoint files and the fault engine.  A personality describes one device
 * (IDs, descriptors, class requests) and implements its protocol in serve()
 * as straight-line code on top of a byte-stream API.  The blocking calls of
 * that API run the event loop underneath, so signals, ep0 traffic,
 * disable/enable cycles and faults are handled while a personality waits.
 *
 * Adding a personality: one new file defining a struct emu_personality and
 * one line in the table in emu.c.
 */
#ifndef BSK_EMU_H
#define BSK_EMU_H

#include <stddef.h>
#include <stdint.h>
#include <stdbool.h>
#include <linux/usb/ch9.h>

#ifndef ARRAY_SIZE
#define ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))
#endif
#define __printf(a, b)	__attribute__((format(printf, a, b)))

struct emu_ctx;

/* Error codes returned by the stream API (negative errno values). */
/*   -ESHUTDOWN: the emulator is stopping (signal, EOF, unplug fault)      */
/*   -ETIMEDOUT: emu_read_byte() timeout expired                           */

/* Endpoint plan for the CDC-ACM-like layout most personalities share. */
struct emu_cdc_layout {
	bool	data_first;	/* data interface is #0, comm is #1 */
	uint8_t	comm_protocol;	/* bInterfaceProtocol of the comm interface */
	uint16_t intr_mps;	/* interrupt IN wMaxPacketSize */
	uint8_t	intr_interval;	/* interrupt bInterval (FS frames) */
	uint16_t fs_bulk_mps;	/* 64 */
	uint16_t hs_bulk_mps;	/* 512 */
};

/**
 * struct emu_knob - one --fault/--knob key
 * @name: key as given on the command line (before '=')
 * @has_val: the key takes a value (KEY=VAL); 0 = flag, 2 = optional value
 * @help: one line for --help
 * @set: parse @val (NULL for flags) and store it; return 0 or -errno
 */
struct emu_knob {
	const char *name;
	int has_val;
	const char *help;
	int (*set)(struct emu_ctx *ctx, const char *val);
};

/**
 * struct emu_personality - one emulated device
 * @name: value of --personality
 * @vid, @pid, @bcd_device: device descriptor IDs (--vid/--pid override)
 * @dev_class, @dev_subclass, @dev_protocol: device descriptor class triple
 * @max_speed: configfs max_speed string ("full-speed", "high-speed")
 * @manufacturer, @product: gadget strings (language 0x0409); NULL for
 *	none: then the device has no string descriptors at all
 * @max_power: config MaxPower in mA
 * @priv_size: bytes of zeroed private state, see emu_priv()
 * @knobs: personality-specific --fault keys, NULL-name terminated (or NULL)
 * @init: optional: set defaults in the private state; runs before the
 *	--fault knobs are applied and before the gadget exists
 * @descs: write the FunctionFS v2 descriptor blob into @buf (@len bytes
 *	available); return its length or -errno.  It must name the byte
 *	stream's endpoint files with emu_set_stream(); emu_cdc_descs() builds
 *	the usual CDC comm + data layout and does that.
 * @setup: handle a class/vendor request to one of our interfaces.  For an
 *	IN request fill @data (room for wLength bytes) and return the length.
 *	For an OUT request with a data stage it is called twice: first with
 *	@data NULL (return <0 to stall, else the data stage is read), then
 *	with the data.  Return 0 to ACK, -errno to stall.  NULL = stall all.
 * @enable: optional, called on every FUNCTIONFS_ENABLE (after stale data)
 * @serve: the protocol; returns when a stream call returns -ESHUTDOWN (or
 *	on its own, which ends the emulator)
 * @run: optional backend of its own instead of configfs + FunctionFS
 *	(gadgetfs.c: @descs, @setup, @serve unused); gets the UDC, the
 *	signalfd and whether stdin is watched; returns 0 or -errno
 */
struct emu_personality {
	const char *name;
	uint16_t vid, pid, bcd_device;
	uint8_t dev_class, dev_subclass, dev_protocol;
	const char *max_speed;
	const char *manufacturer, *product;
	unsigned int max_power;
	size_t priv_size;
	const struct emu_knob *knobs;
	int (*init)(struct emu_ctx *ctx);
	int (*descs)(struct emu_ctx *ctx, void *buf, size_t len);
	int (*setup)(struct emu_ctx *ctx, const struct usb_ctrlrequest *req,
		     uint8_t *data, size_t data_len);
	void (*enable)(struct emu_ctx *ctx);
	int (*serve)(struct emu_ctx *ctx);
	int (*run)(struct emu_ctx *ctx, const char *udc, int sfd,
		   bool watch_stdin);
};

/* --- helpers for personalities --- */
void *emu_priv(struct emu_ctx *ctx);
void emu_set_stream(struct emu_ctx *ctx, int in_epfile, int out_epfile,
		    uint16_t fs_mps, uint16_t hs_mps);
int emu_cdc_descs(struct emu_ctx *ctx, const struct emu_cdc_layout *l,
		  void *buf, size_t len);

/* byte stream (through the fault engine) */
int emu_read_byte(struct emu_ctx *ctx, int timeout_ms);
/*
 * Read the bytes of one bulk OUT transfer as the host sent it (or what is
 * left of it): at least one byte, at most @len.  Returns the count, or
 * -ETIMEDOUT/-ESHUTDOWN like emu_read_byte().
 */
int emu_read_chunk(struct emu_ctx *ctx, uint8_t *buf, size_t len,
		   int timeout_ms);
int emu_write(struct emu_ctx *ctx, const void *buf, size_t len);
int emu_flush(struct emu_ctx *ctx);
int emu_sleep(struct emu_ctx *ctx, int ms);
uint64_t emu_now_ns(void);

/*
 * Wait until every queued IN packet was taken by the host (flushes
 * first).  Returns 0, -ETIMEDOUT after @timeout_ms, or -ESHUTDOWN.
 */
int emu_tx_wait_idle(struct emu_ctx *ctx, int timeout_ms);
/* Forget every host byte received but not consumed yet; returns how many. */
size_t emu_rx_discard(struct emu_ctx *ctx);

/* USB identity of the device on the bus, for emu_reenumerate() */
struct emu_ident {
	uint16_t vid, pid;
	const char *max_speed;			/* "full-speed", "high-speed" */
	const char *manufacturer, *product;	/* NULL: no strings */
};

/* The identity the gadget has now (after --vid/--pid overrides). */
void emu_ident_get(struct emu_ctx *ctx, struct emu_ident *id);
/* Pull the cable (UDC unbind, logs "unplug"); the emulator keeps running. */
void emu_unplug(struct emu_ctx *ctx);
/*
 * Come back as another device: unplug (if plugged), wait @gap_ms while
 * off the bus, drop unread host bytes and queued replies, change IDs,
 * speed and strings, plug in again.  Returns 0 or -ESHUTDOWN.
 */
int emu_reenumerate(struct emu_ctx *ctx, const struct emu_ident *id,
		    int gap_ms);
/* Halt bulk IN now (logs "stall-in"); the host sees EPIPE until it clears it. */
void emu_stall_in(struct emu_ctx *ctx);
/* One bulk IN packet (len 0: a ZLP), bypassing the fault engine. */
int emu_write_packet(struct emu_ctx *ctx, const void *buf, size_t len);
/* Is the device plugged in (UDC bound)? */
bool emu_plugged(struct emu_ctx *ctx);

/* log "<ns> <event>" (printf-style) to --log and stderr in verbose mode */
__printf(2, 3) void emu_log(struct emu_ctx *ctx, const char *fmt, ...);
/* pseudo-random numbers seeded by --seed */
uint32_t emu_rand(struct emu_ctx *ctx);
/* the --seed value, for a personality's own streams (emu_rand's stay put) */
uint64_t emu_seed(struct emu_ctx *ctx);

/* knob parsing helpers */
int emu_parse_uint(const char *s, unsigned long max, unsigned long *out);

/* personalities */
extern const struct emu_personality emu_mtk_brom;
extern const struct emu_personality emu_stm32_dfu;	/* gadgetfs */
extern const struct emu_personality emu_stm32_usart;
extern const struct emu_personality emu_mtk_preloader;
extern const struct emu_personality emu_chaos;	/* seeded nonsense */

#endif /* BSK_EMU_H */
