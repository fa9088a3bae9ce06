/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The BYE that ends a call at the drain deadline (issue 14), built from
 * what the gate kept of the call (struct sd_details): the request the
 * dialog's other side would send, from the server's place (RFC 3261
 * 12.2.1.1, 15; 16.12 for a record-routing proxy).  Pure: no network,
 * no BPF; the sender adds the transport (sd_hop) and retransmits. */
#ifndef SD_SIP_BYE_H
#define SD_SIP_BYE_H

#include <stddef.h>
#include "sipdrain_common.h"
#include "sip_hdr.h"

enum sd_bye_party { SD_BYE_CALLER = 0, SD_BYE_CALLEE = 1 };

/* Why a party gets no BYE; the sender counts each as "could not be
 * ended".  Never a partial or broken BYE. */
#define SD_BYE_OUTCOMES(X) \
	X(OK,          "built") \
	X(NO_2XX,      "no 2xx kept: not a confirmed dialog") \
	X(NO_INVITE,   "that party's side was not seen (caller: no INVITE received; callee: no 2xx received)") \
	X(NO_CONTACT,  "the party's Contact missing") \
	X(BAD_CONTACT, "the party's Contact is not exactly one sip:/sips: URI (*, several, tel:, unbalanced)") \
	X(BAD_ROUTE,   "Record-Route malformed, too long, or not known whole (header section cut)") \
	X(NO_TAG,      "From or To tag missing") \
	X(BAD_HEADERS, "From/To/Call-ID/CSeq missing or unreadable, not an INVITE/2xx, Call-ID not the record's, or CSeq at its limit") \
	X(BAD_ARGS,    "branch not a z9hG4bK token, or the hop has no server address and port") \
	X(TOO_BIG,     "out of room") \
	X(UNREADABLE,  "the BYE built does not read back as this call's BYE (a bug; refused)")

#define SD_BYE_ENUM_(id, text) SD_BYE_##id,
enum sd_bye_outcome { SD_BYE_OUTCOMES(SD_BYE_ENUM_) SD_BYE_MAX };
#undef SD_BYE_ENUM_

extern const char *const sd_bye_outcome_text[SD_BYE_MAX];

/* The CSeq of a BYE is this much above the highest CSeq seen from the
 * side it speaks for.  In-dialog requests other than re-INVITEs (UPDATE,
 * INFO, in-dialog OPTIONS keep-alives, NOTIFY) are not copied, so their
 * numbers are unknown; RFC 3261 12.2.2 rejects (500) only a number not
 * above the last one and explicitly allows gaps.  65536 covers one such
 * request every 10 s for a week-long call, and keeps any number below
 * 2^31 (RFC 3261 8.1.1.5) unless the side itself is within 65536 of it
 * (then the BYE gets 2^31 - 1, still above). */
#define SD_BYE_CSEQ_MARGIN 65536u
#define SD_BYE_CSEQ_LIMIT  0x7fffffffu

/* Record-Route entries read per message: more is refused (BAD_ROUTE).
 * Real paths have a handful; a 2 KiB header section could hold ~250. */
#define SD_BYE_MAX_ROUTE 32

struct sd_bye_opts {
	const char *branch;             /* the Via branch: "z9hG4bK" then token characters;
					 * the caller makes it unique and recognisable */
	const struct sd_peer *own;      /* the server's addresses (port 0: any port): Record-Route
					 * entries naming one of them are the server's own */
	size_t n_own;
	const char *reason;             /* NULL, or the text of a Reason header:
					 * Reason: SIP;cause=503;text="..." (see sip_bye.c) */
};

/* Which parties this record can address: bit 1 << SD_BYE_CALLER when
 * the INVITE reached the server and a 2xx answered it (proxy or UAS),
 * bit 1 << SD_BYE_CALLEE when the server received the 2xx (proxy or
 * UAC).  From the flags alone: sd_build_bye() may still refuse. */
unsigned sd_bye_parties(const struct sd_details *d);

/* The BYE to party `to` as the dialog's other side would send it, from
 * the server's place, in out[0..*outlen) (at most cap bytes); or why
 * not (nothing in out is to be used then). */
enum sd_bye_outcome sd_build_bye(const struct sd_details *d, enum sd_bye_party to,
				 const struct sd_bye_opts *o, char *out, size_t cap,
				 size_t *outlen);

#endif
