/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The calls' details, what a BYE at the deadline needs: `run` reads the
 * capture ring (INVITEs and 2xx to INVITE, copied by the XDP and TC
 * programs) into the pinned SD_MAP_DETAILS, in a thread of its own, and
 * removes the details of calls that have left the call tables. */
#ifndef SD_DETAILS_H
#define SD_DETAILS_H

#include <stddef.h>
#include "sipdrain_common.h"

struct sd_details_reader;

/* Open the pinned ring and details map and start the reader thread
 * ("sipdrain-cap"), which counts into c (the responder's counters,
 * details_kept and details_full); NULL after one line when they cannot
 * be opened. */
struct sd_details_reader *sd_details_start(struct sd_responder_counters *c);
void sd_details_stop(struct sd_details_reader *dr);

/* What one capture record changes in SD_MAP_DETAILS (details_fd):
 * 1 when it was kept, 0 when it adds nothing (a retransmission, a 2xx
 * of a call whose INVITE the gate did not see), -EMSGSIZE when the lines
 * a BYE needs do not fit SD_DETAILS_MSG_MAX, -errno on error.  Its
 * own function so the tests can feed records without a ring. */
int sd_details_apply(int details_fd, const struct sd_capture *c);

/* Remove the details of calls no table holds any more (or holds as
 * ended): looks at up to `budget` entries from where the last call
 * stopped.  Returns how many it removed, or -errno. */
int sd_details_sweep(int details_fd, int calls_fd, int attempts_fd, const struct sd_config *cfg,
		     unsigned int budget);

/* The lines of a header section a BYE needs, compacted into out: bytes
 * written, 0 when they do not fit (see details.c). */
size_t sd_details_keep(const char *msg, size_t len, char *out, size_t cap);

/* The length of the header section of msg[0..len): through the empty
 * line that ends it, or through the last complete line when the copy
 * was cut before it. */
size_t sd_header_section_len(const char *msg, size_t len);

#endif
