/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The production SIP classifier in userspace: the XDP program's state
 * machine (include/sip_scan.h) fed byte by byte.  The responder, the
 * 503 builder, classify and the tests read a datagram through it, so
 * they read it exactly as the gate did. */
#ifndef SD_SIP_PARSE_H
#define SD_SIP_PARSE_H

#include <stddef.h>
#include "sipdrain_common.h"

/* Classify the SIP payload[0..len) into *r (kind, method, To tag,
 * Call-ID hash, status, CSeq method, why unparsed). */
void sd_parse(const void *payload, size_t len, struct sd_result *r);

#endif
