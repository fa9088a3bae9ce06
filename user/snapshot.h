/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Everything the pinned maps say at one moment: what status, metrics,
 * `drain --wait` and the agent read. */
#ifndef SD_SNAPSHOT_H
#define SD_SNAPSHOT_H

#include <stdbool.h>
#include "sipdrain_common.h"

/* The dialog table, by effective state (timeouts applied). */
struct sd_dialog_stats {
	__u64 by_state[SD_D_MAX];
	__u64 oldest_ns[SD_D_MAX];      /* age of the oldest dialog in that state */
	__u64 live;                     /* attempt + early + confirmed + closing */
	__u64 entries;                  /* entries in the table */
};

struct sd_snapshot {
	struct sd_config cfg;
	struct sd_counters cnt;
	struct sd_responder rs;
	struct sd_dialog_stats dlg;
	bool responder_alive;
	bool have_dialogs;
	__u64 mono_ns;                  /* CLOCK_MONOTONIC when taken */
	double wall;                    /* CLOCK_REALTIME when taken, seconds */
};

extern const char *const sd_dialog_state_names[SD_D_MAX];

__u64 sd_now_ns(void);
/* Walk the table (batched); 0 or -errno. */
int sd_dialogs_scan(int fd, const struct sd_config *cfg, __u64 now, struct sd_dialog_stats *st);
/* Read the pinned maps; dialogs: walk the table too.  0 or -errno with
 * one line printed. */
int sd_snapshot_take(struct sd_snapshot *s, bool dialogs);
/* Seconds until the deadline (negative: past); 0 when there is none. */
double sd_seconds_left(const struct sd_snapshot *s);

#endif
