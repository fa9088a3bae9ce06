/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The drain's clock: DRAINING becomes OFFLINE at the deadline, or as
 * soon as no call is left (unless --no-early-offline); the on-offline
 * hook runs once.  Run by `sipdrain run`, and by `drain --wait` when no
 * responder is there to do it. */
#ifndef SD_AGENT_H
#define SD_AGENT_H

#include "snapshot.h"

/* Look once; returns 1 when it switched the gate OFFLINE, 0 when not,
 * -errno on error.  s (if not NULL) gets the snapshot it decided on. */
int sd_agent_tick(struct sd_snapshot *s);

#endif
