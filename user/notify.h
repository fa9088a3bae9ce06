/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* `run` under systemd (Type=notify): READY=1 once the gate is attached
 * and every RX queue has its AF_XDP socket, STATUS= the state line (at
 * most once a second, when it changed), STOPPING=1 when a stop begins,
 * WATCHDOG=1 while the data path beats (WatchdogSec=).  Each one a no-op
 * when NOTIFY_SOCKET is unset (not started by systemd). */
#ifndef SD_NOTIFY_H
#define SD_NOTIFY_H

#include <stdbool.h>

struct sd_responder_ctx;

/* READY=1 with the first STATUS=, if the responder's thread runs and
 * every queue of every interface of the gate is bound; otherwise nothing
 * is sent (one line says why) and systemd's start times out. */
void notify_ready(const struct sd_responder_ctx *r);
/* From run's loop (about every 100 ms): STATUS= when the state line
 * changed (at most once a second), WATCHDOG=1 when the data path's
 * heartbeat is fresh.  stopping: a stop is under way (the drain is being
 * finished); pins_lost: the pins are gone (nothing can be read). */
void notify_tick(const struct sd_responder_ctx *r, bool stopping, bool pins_lost);
/* STOPPING=1, with STATUS=why. */
void notify_stopping(const char *why);

#endif
