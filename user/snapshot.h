/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Everything the pinned maps say at one moment: what status, metrics,
 * `drain --wait` and the agent read. */
#ifndef SD_SNAPSHOT_H
#define SD_SNAPSHOT_H

#include <stdbool.h>
#include "sipdrain_common.h"

/* Both dialog tables, by effective state (timeouts applied).  Calls
 * seen from their INVITE count in by_state; learned ones apart. */
struct sd_dialog_stats {
	__u64 by_state[SD_D_MAX];
	__u64 oldest_ns[SD_D_MAX];      /* age of the oldest dialog in that state */
	__u64 learned;                  /* live calls learned from in-dialog traffic */
	__u64 learned_oldest_ns;
	__u64 tentative;                /* in-dialog traffic from outside, not yet answered */
	__u64 live;                     /* attempt + early + confirmed + closing + learned + tentative */
	__u64 calls;                    /* entries in the call table */
	__u64 attempts;                 /* entries in the attempt table */
	__u64 learning;                 /* entries in the learning table */
	__u64 entries;                  /* all three */
};

struct sd_snapshot {
	struct sd_config cfg;
	struct sd_meta meta;
	struct sd_counters cnt;
	struct sd_responder rs;
	struct sd_dialog_stats dlg;
	bool responder_alive;
	bool have_dialogs;
	__u64 known_peers;              /* with dialogs: sources answered within the window */
	__u64 mono_ns;                  /* CLOCK_MONOTONIC when taken */
	double wall;                    /* CLOCK_REALTIME when taken, seconds */
};

extern const char *const sd_dialog_state_names[SD_D_MAX];

__u64 sd_now_ns(void);
enum sd_table { SD_T_ATTEMPTS, SD_T_LEARNING, SD_T_CALLS };
/* Walk a dialog table (batched) into st; 0 or -errno. */
int sd_dialogs_scan(int fd, enum sd_table t, const struct sd_config *cfg, __u64 now,
		    struct sd_dialog_stats *st);
/* Remove ended entries (timed out) from the call table fd, looking at up
 * to max entries, resuming where the last call stopped; the entries
 * looked at, or -errno. */
int sd_calls_sweep(int fd, const struct sd_config *cfg, __u32 max);
/* Read the pinned maps; dialogs: walk the table too.  0 or -errno with
 * one line printed. */
int sd_snapshot_take(struct sd_snapshot *s, bool dialogs);
/* s->known_peers: a walk of up to SD_PEERS_MAX entries, for status and
 * /metrics only (the agent's clock has no use for it). */
void sd_snapshot_peers(struct sd_snapshot *s);
/* Entries of SD_MAP_PEERS (fd) answered within the peer window. */
__u64 sd_known_peers(int fd, const struct sd_config *cfg, __u64 now);
/* Seconds until the deadline (negative: past); 0 when there is none. */
double sd_seconds_left(const struct sd_snapshot *s);
/* Seconds the gate has watched this server. */
double sd_watched_seconds(const struct sd_snapshot *s);
/* Nanoseconds before early offline may trust the picture of calls (0:
 * now): --min-watch since the gate began watching, and dialog-idle since
 * the call table last had no room.  *why: "watch" or "table_full". */
__u64 sd_early_offline_wait_ns(const struct sd_snapshot *s, const char **why);

#endif
