/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The host side of the MediaTek BROM/Preloader start handshake and the
 * identity readout, for the userspace benchmark contenders.  One
 * implementation over a small transport interface, so that the libusb
 * and the tty contender speak exactly the same protocol as each other
 * and as bootshake's kernel code (kmod/mtk.c): same sync, same commands in
 * the same order, same per-step deadline.
 *
 * Protocol facts: /work/shared/protocols/mediatek.md sections 2 and 3.
 */
#ifndef BENCH_MTK_HOST_H
#define BENCH_MTK_HOST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/**
 * struct mtk_xport - a byte transport to one device
 * @write: send all @len bytes within @timeout_ms; 0 or -errno
 * @read: wait at most @timeout_ms for data, then return 1..@max bytes,
 *	-ETIMEDOUT, or another -errno
 * @priv: the transport's own state
 * @max_read: largest useful read (wMaxPacketSize for a USB pipe)
 */
struct mtk_xport {
	int (*write)(void *priv, const uint8_t *buf, size_t len,
		     int timeout_ms);
	int (*read)(void *priv, uint8_t *buf, size_t max, int timeout_ms);
	void *priv;
	size_t max_read;
};

/**
 * struct mtk_ident - what the identity readout found
 */
struct mtk_ident {
	bool has_bl_ver, has_hw_code, has_hw_sw_ver, has_target_config;
	bool has_brom_ver, has_me_id, has_soc_id, has_pl_cap;
	bool is_brom, already_synced;
	uint8_t bl_ver, brom_ver;
	uint16_t hw_code, hw_status, hw_subcode, hw_ver, sw_ver;
	uint32_t target_config, pl_cap[2];
	uint8_t me_id[16], soc_id[32];
	const char *watchdog;	/* "disabled", "skipped", "refused", "timeout" */
	unsigned int attempts;	/* sync sequences started */
};

/**
 * struct mtk_host - one handshake session
 * @x: the transport
 * @step_ms: deadline of one identity step (a command and its reply);
 *	bootshake's step_timeout_ms default is 100
 * @sync_step_ms: deadline of one sync byte's reply; mtkclient waits 500 ms
 * @sync_ms: deadline of the whole sync; bootshake's default is 3000
 * @preloader: the USB ID says preloader: send one lone A0 first, as
 *	mtkclient does for every non-BROM PID
 */
struct mtk_host {
	struct mtk_xport *x;
	int step_ms;
	int sync_step_ms;
	int sync_ms;
	bool preloader;
	/* private: received, not yet consumed */
	uint8_t rx[512];
	size_t rx_head, rx_len;
	unsigned int misses;
};

/* 0 when synced, -ETIMEDOUT when the deadline passed, other -errno. */
int mtk_host_sync(struct mtk_host *h, struct mtk_ident *id);
/* 0 (even when old chips stop answering part way), or -errno (gone). */
int mtk_host_identify(struct mtk_host *h, struct mtk_ident *id);
/* One line "hw_code=0x0766 bl_ver=0xfe ..." for the contenders' output. */
void mtk_ident_str(const struct mtk_ident *id, char *buf, size_t len);

long long mtk_now_ms(void);

#endif /* BENCH_MTK_HOST_H */
