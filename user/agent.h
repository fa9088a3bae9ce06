/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The drain's clock: DRAINING becomes OFFLINE at the deadline, or as
 * soon as no call is left (unless --no-early-offline); the on-offline
 * hook runs once.  Run by `sipdrain run`, and by `drain --wait` when no
 * responder is there to do it. */
#ifndef SD_AGENT_H
#define SD_AGENT_H

#include <stdbool.h>
#include "snapshot.h"

/* Look once; returns 1 when it switched the gate OFFLINE, 0 when not,
 * -errno on error.  s (if not NULL) gets the snapshot it decided on. */
int sd_agent_tick(struct sd_snapshot *s);

/* Set by `run`, which sends the BYEs at the deadline: a switch at the
 * deadline with calls up then sets SD_CF_BYE_PENDING and leaves the hook
 * to the BYEs' end (user/byes.c). */
extern bool sd_agent_sends_byes;

/* The on-offline hook, detached, with the drain's outcome in its
 * environment (SIPDRAIN_REASON, SIPDRAIN_CALLS_CUT, ..._BYE...). */
void sd_agent_run_hook(const struct sd_config *c);

#endif
