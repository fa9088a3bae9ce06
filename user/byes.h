/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The BYEs at the deadline: when the deadline cuts calls, `run` ends
 * each confirmed call with a BYE to each party it can address (the
 * dialog's details, user/details.c; the BYE, user/sip_bye.c), sent from
 * the server's address over the path the party's messages came in on,
 * retransmitted per RFC 3261 17.1.2.2 until a final response or 64*T1;
 * the responses, which the gate hands to the responder while OFFLINE,
 * never reach the server.  The outcome goes into the pinned config (what
 * status, /metrics, drain --wait and the hook read). */
#ifndef SD_BYES_H
#define SD_BYES_H

#include <stdbool.h>
#include <stddef.h>
#include "sipdrain_common.h"

struct sd_byes;

/* counters: the responder's (bye_sent, bye_send_failed, bye_responses);
 * cfg: the pinned config, mmapped (run stops ticking when its pins are
 * replaced) */
struct sd_byes *sd_byes_new(struct sd_responder_counters *counters,
			    const volatile struct sd_config *cfg);
void sd_byes_free(struct sd_byes *b);

/* Begin with the calls the tables hold now (the gate has just gone
 * OFFLINE at the deadline, SD_CF_BYE_PENDING set): classify each, send
 * the first BYEs.  0, or -errno after one line (the pending flag is then
 * cleared and the hook run, as if no call could be ended). */
int sd_byes_start(struct sd_byes *b);
/* Retransmit what is due; when every transaction is done, write the
 * figures into the config, clear SD_CF_BYE_PENDING, log the line and run
 * the on-offline hook.  Returns true while BYEs are pending. */
bool sd_byes_tick(struct sd_byes *b);
/* The data path thread's: a response whose CSeq method is BYE (status
 * its code).  true when it answers one of ours (absorbed either way). */
bool sd_byes_response(void *b, const char *msg, size_t len, unsigned status);

#endif
