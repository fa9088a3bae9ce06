/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* A drain's settings as people read them: what drain prints when it
 * changes a running drain, and what run's audit log says. */
#ifndef SD_DRAIN_VIEW_H
#define SD_DRAIN_VIEW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include "sipdrain_common.h"

/* The settings a drain names, at one instant. */
struct sd_drain_view {
	double deadline_left;           /* seconds; < 0: no deadline */
	bool retry_auto;
	__u32 retry_after, retry_jitter, allow;
	bool early;
	bool bye;                       /* --at-deadline bye */
	const char *hook;               /* points into the config it came from */
	double min_watch;
};

/* How many settings sd_drain_changes can name. */
#define SD_DRAIN_SETTINGS 8

void sd_drain_view(const struct sd_config *cfg, __u64 now, struct sd_drain_view *v);
/* What changed from a to b, as "deadline now in 300 s (was none)"
 * clauses joined by "; " into buf, and their JSON names into names[]
 * (SD_DRAIN_SETTINGS of them, or NULL).  Returns the number of changes. */
int sd_drain_changes(const struct sd_drain_view *a, const struct sd_drain_view *b, char *buf,
		     size_t n, const char **names);
/* All of v in one line: "deadline in 300 s, early offline on, ..." */
void sd_drain_describe(const struct sd_drain_view *v, char *buf, size_t n);

/* The BYEs at the deadline in one line: "ended N calls with BYE (A
 * answered 200, M no answer), K could not be ended (L learned, E early,
 * X without details)". */
void sd_bye_summary(const struct sd_config *c, char *buf, size_t n);
/* The same as a JSON object: {"pending", "calls", "answered", "no_answer",
 * "answered_otherwise", "not_ended": {"learned", "early", "no_details"}} */
void sd_bye_json(FILE *f, const struct sd_config *c);

#endif
