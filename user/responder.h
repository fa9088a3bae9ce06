/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The AF_XDP responder: one socket per RX queue of each gated interface,
 * answering what the gate redirects with a 503 on the same queue. */
#ifndef SD_RESPONDER_H
#define SD_RESPONDER_H

#include <pthread.h>
#include <stdbool.h>
#include "sipdrain_common.h"
#include "sip_reply.h"

struct sd_xsk;

struct sd_responder_ctx {
	struct sd_xsk *socks[SD_XSK_ENTRIES];
	int nsocks;
	int xsks_fd, resp_fd, cfg_fd, att_fd;
	const volatile struct sd_config *cfg;   /* the pinned config, mmapped */
	struct sd_config now;           /* a consistent copy, taken per batch */
	struct sd_responder *st;        /* SD_MAP_RESPONDER, mmapped */
	struct sd_reply_opts opts;
	bool zerocopy_any;
	bool busy;                      /* another responder owns the state */
	unsigned coalesce_us;           /* wait after a small batch (0: never) */
	/* responses to BYEs (the gate's at a deadline): handed here, never
	 * answered; true when it was one of them */
	bool (*bye_response)(void *ctx, const char *msg, size_t len, unsigned status);
	void *bye_ctx;
	/* the data path's own thread (sd_responder_start) */
	pthread_t thread;
	bool running;
	volatile int stop;
	int error;                      /* -errno that ended the thread, 0 */
};

/* Open the pinned maps and bind sockets on every queue of every
 * interface in the config.  0 or -errno (one line printed). */
int sd_responder_open(struct sd_responder_ctx *r, const char *reason,
		      const char *server);
/* Wait up to timeout_ms for frames and answer them; returns how many
 * arrived, or -errno. */
int sd_responder_poll(struct sd_responder_ctx *r, int timeout_ms);
/* Heartbeat (status and drain tell a live responder by it). */
void sd_responder_tick(struct sd_responder_ctx *r);
/* Serve in a thread of its own, with its heartbeat, until
 * sd_responder_stop: nothing the control plane does (HTTP clients, a
 * walk of the call table, a hook, a lock) delays a 503.  0 or -errno. */
int sd_responder_start(struct sd_responder_ctx *r);
void sd_responder_stop(struct sd_responder_ctx *r);
/* Unbind (the XSKMAP entries go with the sockets: the gate falls back
 * to passing), mark the responder gone. */
void sd_responder_close(struct sd_responder_ctx *r);

/* Is a responder process alive according to SD_MAP_RESPONDER? */
bool sd_responder_alive(const struct sd_responder *st);
/* RX queues of an interface (ethtool channels; 1 when unknown). */
int sd_rx_queues(const char *ifname);

#endif
