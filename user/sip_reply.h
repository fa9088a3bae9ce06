/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The 503 Service Unavailable the responder answers a refused request
 * with (RFC 3261 8.2.6 and 18.2.2, RFC 3581). */
#ifndef SD_SIP_REPLY_H
#define SD_SIP_REPLY_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "sipdrain_common.h"
#include "sip_hdr.h"

struct sd_reply_opts {
	unsigned retry_after;   /* seconds */
	const char *reason;     /* NULL: no Reason header */
	const char *server;     /* NULL: no Server header */
};

/* Why a request gets no reply; the responder counts each.  What the
 * responder does with one that gets none: sd_reply_outcome_passes(). */
#define SD_REPLY_OUTCOMES(X) \
	X(OK,            "answered") \
	X(NOT_REQUEST,   "a response: never answered") \
	X(ACK,           "an ACK: absorbed, never answered") \
	X(UNTERMINATED,  "header section not terminated") \
	X(NO_VIA,        "no Via") \
	X(NO_FROM,       "no From") \
	X(NO_TO,         "no To") \
	X(NO_CALLID,     "no Call-ID") \
	X(NO_CSEQ,       "no CSeq") \
	X(BAD_VIA,       "top Via unreadable, or no port to answer to") \
	X(BAD_TO,        "To unreadable (unbalanced quotes or <>): a tag would be lost") \
	X(TOO_BIG,       "reply would exceed the request by more than 256 bytes") \
	X(MADDR,         "maddr elsewhere: left to the server")

#define SD_REPLY_ENUM_(id, text) SD_R_##id,
enum sd_reply_outcome { SD_REPLY_OUTCOMES(SD_REPLY_ENUM_) SD_R_MAX };
#undef SD_REPLY_ENUM_


extern const char *const sd_reply_outcome_text[SD_R_MAX];

/* Build the 503 for the SIP request req[0..len) that came from src.
 * Returns SD_R_OK, the reply in out[0..*outlen) and in *dst where it
 * goes (RFC 3261 18.2.2, RFC 3581: the source address; the source port
 * when the top Via has rport, else the sent-by port or 5060); or why
 * there is none (*dst zeroed).  *method gets the request's enum
 * sd_method either way (SD_M_OTHER when unknown).
 *
 * The reply copies every Via header line as the request wrote it (name,
 * comma lists, order; folds read as one SP), only the top Via value
 * rewritten: rport=<source port> when rport was asked, received=<source
 * address> replacing any received there, or added when rport was asked
 * or the sent-by host is not the source address.  From, To, Call-ID and
 * CSeq keep their names as written too (compact stays compact); To gets
 * a tag when it has none.  It never exceeds the request by more than
 * SD_REPLY_MAX_GROWTH bytes (SD_R_TOO_BIG instead). */
enum sd_reply_outcome sd_build_503(const char *req, size_t len,
				   const struct sd_peer *src,
				   const struct sd_reply_opts *o,
				   char *out, size_t cap, size_t *outlen,
				   struct sd_peer *dst, int *method);
/* The same from the classification the caller already has (sd_parse of
 * the same bytes): the responder reads each request once with the
 * gate's scanner, and once for the header lines the reply copies. */
enum sd_reply_outcome sd_build_503_cls(const char *req, size_t len,
				       const struct sd_result *cls,
				       const struct sd_peer *src,
				       const struct sd_reply_opts *o,
				       char *out, size_t cap, size_t *outlen,
				       struct sd_peer *dst, int *method);

/* Is a request that got this outcome handed to the server (fail-open)
 * rather than dropped?  True for well-formed requests the responder
 * cannot answer correctly itself: SD_R_TOO_BIG (the reply would amplify)
 * and SD_R_MADDR (RFC 3261 18.2.2 sends the reply to an address the
 * responder cannot reach: it only swaps MACs back along the request's
 * path).  False for SD_R_OK, for responses and ACKs (never answered by
 * anyone) and for malformed requests (the server would not answer them
 * either): those are dropped. */
bool sd_reply_outcome_passes(enum sd_reply_outcome rc);

/* The most by which a reply built with these options can exceed any
 * well-formed request it answers (RFC 3261 syntax: CRLF line ends, a
 * start line of at least "M a:b SIP/2.0").  Options whose worst growth
 * is above SD_REPLY_MAX_GROWTH are refused when given, so that with a
 * cap of at least len + SD_REPLY_MAX_GROWTH only requests outside that
 * syntax (bare-LF line ends, mostly) can still meet SD_R_TOO_BIG. */
size_t sd_reply_worst_growth(const struct sd_reply_opts *o);

/* The To tag the responder adds: SD_TAG_PREFIX + 16 hex digits, a hash
 * of Call-ID, From and the top Via, so a retransmission gets the same. */
void sd_reply_tag(const char *callid, size_t clen, const char *from, size_t flen,
		  const char *via, size_t vlen, char tag[SD_TAG_PREFIX_LEN + 17]);

#endif
