/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* The 503 Service Unavailable the responder answers a refused request
 * with (RFC 3261 8.2.6 and 18.2.2, RFC 3581). */
#ifndef SD_SIP_REPLY_H
#define SD_SIP_REPLY_H

#include <stddef.h>
#include <linux/types.h>
#include "sipdrain_common.h"

/* Where the request came from: received= and rport= are about it. */
struct sd_peer {
	int family;             /* AF_INET or AF_INET6 */
	__u8 addr[16];
	__u16 port;             /* host order */
};

struct sd_reply_opts {
	unsigned retry_after;   /* seconds */
	const char *reason;     /* NULL: no Reason header */
	const char *server;     /* NULL: no Server header */
};

/* Why a request gets no reply; the responder counts each. */
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
	X(BAD_VIA,       "top Via unreadable") \
	X(BAD_TO,        "To unreadable (unbalanced quotes or <>): a tag would be lost") \
	X(TOO_BIG,       "reply would exceed the request by more than 256 bytes")

#define SD_REPLY_ENUM_(id, text) SD_R_##id,
enum sd_reply_outcome { SD_REPLY_OUTCOMES(SD_REPLY_ENUM_) SD_R_MAX };
#undef SD_REPLY_ENUM_

/* The reply may exceed the request by this much, no more (a reflector
 * must not amplify). */
#define SD_REPLY_MAX_GROWTH 256

extern const char *const sd_reply_outcome_text[SD_R_MAX];

/* Build the 503 for the SIP request req[0..len).  Returns SD_R_OK and the
 * reply in out[0..*outlen), or why there is none.  *method gets the
 * request's enum sd_method either way (SD_M_OTHER when unknown). */
enum sd_reply_outcome sd_build_503(const char *req, size_t len,
				   const struct sd_peer *src,
				   const struct sd_reply_opts *o,
				   char *out, size_t cap, size_t *outlen,
				   int *method);

/* The To tag the responder adds: SD_TAG_PREFIX + 16 hex digits, a hash
 * of Call-ID, From and the top Via, so a retransmission gets the same. */
void sd_reply_tag(const char *callid, size_t clen, const char *from, size_t flen,
		  const char *via, size_t vlen, char tag[SD_TAG_PREFIX_LEN + 17]);

#endif
