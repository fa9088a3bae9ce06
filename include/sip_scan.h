/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/*
 * The SIP header scanner: one byte-at-a-time state machine shared, as
 * source, by the XDP program and by userspace.  Both sides feed it the
 * same bytes and so reach the same verdict; the XDP side only adds a
 * skip over runs of bytes that cannot change the state (see
 * sd_scan_skippable()).
 *
 * What it reads (DESIGN.md, "Classification rules"):
 *  - start line: request `token SP ...` (methods case-sensitive) or
 *    response `SIP/2.0 SP digits` ("SIP/2.0" case-insensitive);
 *    leading CR/LF are skipped, a datagram of only CR/LF is a keep-alive;
 *  - header names case-insensitive, compact `t` and `i`, whitespace before
 *    the colon, values folded onto lines starting with SP/HT, CRLF or LF;
 *  - To: a `tag` header parameter, outside <...> and quoted strings,
 *    whitespace allowed around ';' and '='; the first To header counts;
 *  - Call-ID: FNV-1a 64 of the first word of the first Call-ID header;
 *  - CSeq: the method after the number (used for responses).
 * It stops at the empty line that ends the headers, or earlier as soon as
 * To, Call-ID (and CSeq for responses) are final; it never reads a body
 * or a second message in the same datagram.  A bare CR (not followed by
 * LF) is malformed: the datagram is "unparsed" and passes.
 *
 * No libc: this file compiles for -target bpf.
 */
#ifndef SIP_SCAN_H
#define SIP_SCAN_H

#include <linux/types.h>
#include "sipdrain_common.h"

#ifndef __always_inline
#define __always_inline inline __attribute__((always_inline))
#endif

/* Eight characters packed little-endian, as they lie in memory. */
#define SD_C8(a, b, c, d, e, f, g, h)                                     \
	((__u64)(a) | (__u64)(b) << 8 | (__u64)(c) << 16 | (__u64)(d) << 24 | \
	 (__u64)(e) << 32 | (__u64)(f) << 40 | (__u64)(g) << 48 |           \
	 (__u64)(h) << 56)
#define SD_TAG_PREFIX_U64 SD_C8('s', 'd', 'r', 'n', '5', '0', '3', '-')

#define SD_FNV_OFFSET 0xcbf29ce484222325ULL
#define SD_FNV_PRIME  0x100000001b3ULL
/* one byte into an FNV-1a 64 hash: the scanner, the XDP fast path, the
 * 503's To tag and the tests all hash through this */
#define SD_FNV_STEP(h, c) (((h) ^ (__u8)(c)) * SD_FNV_PRIME)

/* Line-level states. */
enum {
	SD_ST_BEGIN = 0,  /* before the start line (skipping CR/LF) */
	SD_ST_METHOD,     /* request method token, or "SIP" of a status line */
	SD_ST_RVER,       /* "2.0 " after "SIP/" */
	SD_ST_STATUS,     /* status code digits */
	SD_ST_RLINE,      /* rest of the start line */
	SD_ST_BOL,        /* at the start of a header line */
	SD_ST_NAME,       /* header name */
	SD_ST_NAME_WS,    /* whitespace between name and colon */
	SD_ST_VALUE,      /* value of a header we read */
	SD_ST_SKIP,       /* rest of a line we do not read */
	SD_ST_DONE,
};

/* Headers we read; bit (1 << H) in seen/fin. */
enum { SD_H_NONE = 0, SD_H_TO, SD_H_CALLID, SD_H_CSEQ };

/* To value sub-states. */
enum {
	SD_TV_NORMAL = 0, /* outside quotes and <...>, not in a param name */
	SD_TV_Q,          /* quoted string */
	SD_TV_QE,         /* after a backslash in a quoted string */
	SD_TV_ANG,        /* inside <...> */
	SD_TV_PWS,        /* after ';', before a param name */
	SD_TV_P1,         /* "t" */
	SD_TV_P2,         /* "ta" */
	SD_TV_P3,         /* "tag" */
	SD_TV_PNWS,       /* "tag" then whitespace */
	SD_TV_EQ,         /* "tag =" then whitespace */
	SD_TV_VAL,        /* tag value: comparing with SD_TAG_PREFIX */
};

/* Call-ID and CSeq sub-states. */
enum { SD_CV_LWS = 0, SD_CV_IN };
enum { SD_CS_LWS0 = 0, SD_CS_NUM, SD_CS_LWS1, SD_CS_M };

struct sd_scan {
	__u64 hash;       /* Call-ID FNV-1a */
	__u64 status;     /* status code */
	__u64 macc;       /* request method: first 8 bytes */
	__u64 cacc;       /* CSeq method: first 8 bytes */
	__u64 nacc;       /* header name, lowercased: first 8 bytes */
	__u32 pos;        /* next byte to read */
	__u32 len;        /* payload length */
	__u32 end;        /* min(len, SD_SCAN_MAX) */
	__u8 st, hdr, sub, cr;
	__u8 nlen, mlen, m9, clen, c9;
	__u8 idx, flags, kind, unparsed;
	__u8 seen, fin, need;
	__u8 method, cseq_method;
	__u8 hl;          /* a header line has begun (after the start line) */
	__u8 pad;
	__u16 steps;      /* bytes examined one by one (SD_SCAN_STEPS) */
};

/* Per-CPU scratch of the XDP program: the payload copy and the state. */
struct sd_scratch {
	struct sd_scan s;
	__u32 captures;             /* records this CPU wrote to the capture ring */
	__u32 pad;
	/* A capture record is this header and then buf: both side by side
	 * here, so that one bpf_ringbuf_output() copies the record. */
	struct sd_capture_hdr cap;
	__u8 buf[SD_SCAN_MAX + 8];  /* +8: whole-word reads near the end */
};
_Static_assert(__builtin_offsetof(struct sd_scratch, buf) ==
	       __builtin_offsetof(struct sd_scratch, cap) + sizeof(struct sd_capture_hdr),
	       "struct sd_scratch: the capture header right before the payload");

/* RFC 3261 token characters: alphanum and -.!%*_+`'~ */
#define SD_BIT(c) (1ULL << ((c) & 63))
#define SD_TOKEN_LO (SD_BIT('!') | SD_BIT('%') | SD_BIT('\'') | SD_BIT('*') | \
		     SD_BIT('+') | SD_BIT('-') | SD_BIT('.') |                 \
		     (0x3ffULL << ('0' & 63)))
#define SD_TOKEN_HI ((0x3ffffffULL << ('A' & 63)) | SD_BIT('_') |          \
		     SD_BIT('`') | (0x3ffffffULL << ('a' & 63)) | SD_BIT('~'))

static __always_inline int sd_is_token(__u8 c)
{
	__u64 m = c < 64 ? SD_TOKEN_LO : SD_TOKEN_HI;

	return c < 128 && ((m >> (c & 63)) & 1);
}

static __always_inline int sd_is_ws(__u8 c)
{
	return c == ' ' || c == '\t';
}

/* Collect a method token: 8 bytes in a word, the 9th apart, length
 * saturating at 10 (no known method is longer than 9). */
static __always_inline void sd_acc(__u64 *acc, __u8 *len, __u8 *c9, __u8 c)
{
	__u8 l = *len;

	if (l < 8)
		*acc |= (__u64)c << ((l & 7) * 8);
	else if (l == 8)
		*c9 = c;
	if (l < 10)
		*len = l + 1;
}

/* Methods are case-sensitive (RFC 3261 7.1): exact comparison. */
static __always_inline __u8 sd_method_id(__u64 acc, __u8 len, __u8 c9)
{
	if (len > 9)
		return SD_M_OTHER;
	if (len == 9)
		return acc == SD_C8('S', 'U', 'B', 'S', 'C', 'R', 'I', 'B') &&
		       c9 == 'E' ? SD_M_SUBSCRIBE : SD_M_OTHER;
	/* len <= 8: acc holds exactly the bytes, zero-padded */
	if (acc == SD_C8('I', 'N', 'V', 'I', 'T', 'E', 0, 0)) return SD_M_INVITE;
	if (acc == SD_C8('A', 'C', 'K', 0, 0, 0, 0, 0))       return SD_M_ACK;
	if (acc == SD_C8('B', 'Y', 'E', 0, 0, 0, 0, 0))       return SD_M_BYE;
	if (acc == SD_C8('C', 'A', 'N', 'C', 'E', 'L', 0, 0)) return SD_M_CANCEL;
	if (acc == SD_C8('O', 'P', 'T', 'I', 'O', 'N', 'S', 0)) return SD_M_OPTIONS;
	if (acc == SD_C8('R', 'E', 'G', 'I', 'S', 'T', 'E', 'R')) return SD_M_REGISTER;
	if (acc == SD_C8('N', 'O', 'T', 'I', 'F', 'Y', 0, 0)) return SD_M_NOTIFY;
	if (acc == SD_C8('R', 'E', 'F', 'E', 'R', 0, 0, 0))   return SD_M_REFER;
	if (acc == SD_C8('I', 'N', 'F', 'O', 0, 0, 0, 0))     return SD_M_INFO;
	if (acc == SD_C8('U', 'P', 'D', 'A', 'T', 'E', 0, 0)) return SD_M_UPDATE;
	if (acc == SD_C8('P', 'R', 'A', 'C', 'K', 0, 0, 0))   return SD_M_PRACK;
	if (acc == SD_C8('M', 'E', 'S', 'S', 'A', 'G', 'E', 0)) return SD_M_MESSAGE;
	if (acc == SD_C8('P', 'U', 'B', 'L', 'I', 'S', 'H', 0)) return SD_M_PUBLISH;
	return SD_M_OTHER;
}

static __always_inline void sd_scan_init(struct sd_scan *s, __u32 len)
{
	__builtin_memset(s, 0, sizeof(*s));
	s->len = len;
	s->end = len < SD_SCAN_MAX ? len : SD_SCAN_MAX;
}

static __always_inline void sd_finish(struct sd_scan *s, __u8 kind, __u8 why)
{
	s->kind = kind;
	s->unparsed = why;
	s->st = SD_ST_DONE;
}

/* Header h is final; stop when everything the verdict needs is final. */
static __always_inline void sd_fin(struct sd_scan *s, __u8 h)
{
	s->fin |= 1 << h;
	s->hdr = SD_H_NONE;
	s->st = SD_ST_SKIP;
	if ((s->fin & s->need) == s->need)
		s->st = SD_ST_DONE;
}

static __always_inline void sd_cseq_final(struct sd_scan *s)
{
	if (s->sub == SD_CS_M) {
		s->cseq_method = sd_method_id(s->cacc, s->clen, s->c9);
		s->flags |= SD_F_CSEQ;
	}
	sd_fin(s, SD_H_CSEQ);
}

/* The current header line ended (next line does not continue it). */
static __always_inline void sd_hdr_end(struct sd_scan *s)
{
	__u8 h = s->hdr;

	if (h == SD_H_NONE)
		return;
	if (h == SD_H_CSEQ) {
		sd_cseq_final(s);
		return;
	}
	if (h == SD_H_CALLID && s->sub == SD_CV_IN)
		s->flags |= SD_F_CALLID;
	sd_fin(s, h);
}

/* A colon after a header name: is it one we read? */
static __always_inline void sd_hdr_begin(struct sd_scan *s)
{
	__u64 n = s->nacc;
	__u8 h = SD_H_NONE;

	/* nacc holds the first 8 lowercased bytes, zero-padded: equal words
	 * mean equal names (a name of 9+ bytes never equals a short one) */
	if (n == 't' || n == SD_C8('t', 'o', 0, 0, 0, 0, 0, 0))
		h = SD_H_TO;
	else if (n == 'i' || n == SD_C8('c', 'a', 'l', 'l', '-', 'i', 'd', 0))
		h = SD_H_CALLID;
	else if (n == SD_C8('c', 's', 'e', 'q', 0, 0, 0, 0))
		h = SD_H_CSEQ;
	if (s->seen & (1 << h))         /* first header of each kind wins */
		h = SD_H_NONE;
	s->seen |= 1 << h;
	if (h == SD_H_TO)
		s->flags |= SD_F_TO;
	s->hdr = h;
	s->sub = 0;
	s->st = h == SD_H_NONE ? SD_ST_SKIP : SD_ST_VALUE;
}

static __always_inline void sd_to_step(struct sd_scan *s, __u8 c)
{
	__u8 sub = s->sub;
	int ws = sd_is_ws(c);

	if (sub == SD_TV_Q) {
		if (c == '\\')
			s->sub = SD_TV_QE;
		else if (c == '"')
			s->sub = SD_TV_NORMAL;
		return;
	}
	if (sub == SD_TV_QE) {
		s->sub = SD_TV_Q;
		return;
	}
	if (sub == SD_TV_ANG) {
		if (c == '>')
			s->sub = SD_TV_NORMAL;
		return;
	}
	/* The states below either consume c or fall back to NORMAL, which
	 * then reads c as an ordinary value character. */
	if (sub == SD_TV_EQ) {
		if (ws)
			return;
		if (sd_is_token(c)) {   /* tag-param = "tag" EQUAL token */
			s->flags |= SD_F_TO_TAG;
			s->idx = 0;
			sub = SD_TV_VAL;
		} else {
			sub = SD_TV_NORMAL;
		}
	}
	if (sub == SD_TV_VAL) {
		__u8 want = (SD_TAG_PREFIX_U64 >> ((s->idx & 7) * 8)) & 0xff;

		s->sub = SD_TV_VAL;
		if (c == want && ++s->idx == SD_TAG_PREFIX_LEN)
			s->flags |= SD_F_TAG_OURS;
		if (c != want || s->idx == SD_TAG_PREFIX_LEN)
			sd_fin(s, SD_H_TO);
		return;
	}
	if (sub == SD_TV_PNWS) {
		if (ws)
			return;
		if (c == '=') {
			s->sub = SD_TV_EQ;
			return;
		}
		sub = SD_TV_NORMAL;
	}
	if (sub == SD_TV_P3) {
		if (c == '=') {
			s->sub = SD_TV_EQ;
			return;
		}
		if (ws) {
			s->sub = SD_TV_PNWS;
			return;
		}
		sub = SD_TV_NORMAL;
	}
	if (sub == SD_TV_P2) {
		if ((c | 0x20) == 'g') {
			s->sub = SD_TV_P3;
			return;
		}
		sub = SD_TV_NORMAL;
	}
	if (sub == SD_TV_P1) {
		if ((c | 0x20) == 'a') {
			s->sub = SD_TV_P2;
			return;
		}
		sub = SD_TV_NORMAL;
	}
	if (sub == SD_TV_PWS) {
		if (ws)
			return;
		if ((c | 0x20) == 't') {
			s->sub = SD_TV_P1;
			return;
		}
		sub = SD_TV_NORMAL;
	}
	/* NORMAL */
	if (c == '"')
		sub = SD_TV_Q;
	else if (c == '<')
		sub = SD_TV_ANG;
	else if (c == ';')
		sub = SD_TV_PWS;
	s->sub = sub;
}

static __always_inline void sd_callid_step(struct sd_scan *s, __u8 c)
{
	int ws = sd_is_ws(c);

	if (s->sub == SD_CV_LWS) {
		if (ws)
			return;
		s->hash = SD_FNV_OFFSET;
		s->sub = SD_CV_IN;
	}
	if (ws) {                       /* callid = word: first word only */
		s->flags |= SD_F_CALLID;
		sd_fin(s, SD_H_CALLID);
		return;
	}
	s->hash = SD_FNV_STEP(s->hash, c);
}

static __always_inline void sd_cseq_step(struct sd_scan *s, __u8 c)
{
	__u8 sub = s->sub;
	int ws = sd_is_ws(c);
	int digit = c >= '0' && c <= '9';

	if (sub == SD_CS_LWS0) {
		if (ws)
			return;
		if (!digit)
			goto bad;
		s->sub = SD_CS_NUM;
		return;
	}
	if (sub == SD_CS_NUM) {
		if (digit)
			return;
		if (!ws)
			goto bad;
		s->sub = SD_CS_LWS1;
		return;
	}
	if (sub == SD_CS_LWS1) {
		if (ws)
			return;
		if (!sd_is_token(c))
			goto bad;
		s->sub = SD_CS_M;
	}
	if (sd_is_token(c)) {
		sd_acc(&s->cacc, &s->clen, &s->c9, c);
		return;
	}
	sd_cseq_final(s);
	return;
bad:
	s->sub = SD_CS_LWS0;            /* no method: final, not valid */
	sd_cseq_final(s);
}

static __always_inline int sd_scan_skippable(const struct sd_scan *s);
static __always_inline int sd_scan_in_angle(const struct sd_scan *s);
static __always_inline int sd_scan_in_callid(const struct sd_scan *s);

/* Feed one byte.  Sets s->st = SD_ST_DONE when the verdict is known. */
static __always_inline void sd_scan_step(struct sd_scan *s, __u8 c)
{
	__u8 st = s->st;

	/* the bytes the XDP side cannot skip are counted, on both sides
	 * alike (the state decides, not who feeds the byte) */
	if (!sd_scan_skippable(s) && !sd_scan_in_angle(s) && !sd_scan_in_callid(s) &&
	    ++s->steps > SD_SCAN_STEPS) {
		sd_finish(s, SD_K_UNPARSED, SD_U_BUDGET);
		return;
	}

	/* CR is only valid right before LF; then it is invisible. */
	if (s->cr) {
		s->cr = 0;
		if (c != '\n') {
			sd_finish(s, SD_K_UNPARSED, SD_U_MALFORMED);
			return;
		}
	} else if (c == '\r') {
		s->cr = 1;
		return;
	}

	if (st == SD_ST_RLINE || st == SD_ST_SKIP) {
		if (c == '\n')
			s->st = SD_ST_BOL;
		return;
	}
	if (st == SD_ST_BEGIN) {
		if (c == '\n')
			return;
		if (!sd_is_token(c)) {
			sd_finish(s, SD_K_NOT_SIP, SD_U_NONE);
			return;
		}
		s->st = SD_ST_METHOD;
		sd_acc(&s->macc, &s->mlen, &s->m9, c);
		return;
	}
	if (st == SD_ST_METHOD) {
		if (sd_is_token(c)) {
			sd_acc(&s->macc, &s->mlen, &s->m9, c);
			return;
		}
		if (c == ' ') {
			s->kind = SD_K_REQUEST;
			s->method = sd_method_id(s->macc, s->mlen, s->m9);
			s->need = 1 << SD_H_TO | 1 << SD_H_CALLID;
			s->st = SD_ST_RLINE;
			return;
		}
		/* "SIP/" of a status line ("SIP" is case-insensitive) */
		if (c == '/' && s->mlen == 3 &&
		    (s->macc | 0x202020) == SD_C8('s', 'i', 'p', 0, 0, 0, 0, 0)) {
			s->st = SD_ST_RVER;
			s->idx = 0;
			return;
		}
		sd_finish(s, SD_K_NOT_SIP, SD_U_NONE);
		return;
	}
	if (st == SD_ST_RVER) {
		if (c != ((SD_C8('2', '.', '0', ' ', 0, 0, 0, 0) >> ((s->idx & 3) * 8)) & 0xff)) {
			sd_finish(s, SD_K_NOT_SIP, SD_U_NONE);
			return;
		}
		if (++s->idx == 4) {
			s->st = SD_ST_STATUS;
			s->idx = 0;
		}
		return;
	}
	if (st == SD_ST_STATUS) {
		if (c >= '0' && c <= '9' && s->idx < 19) {
			s->status = s->status * 10 + (c - '0');
			s->idx++;
			return;
		}
		if (s->idx > 0 && (c == ' ' || c == '\n')) {
			s->kind = SD_K_RESPONSE;
			s->need = 1 << SD_H_TO | 1 << SD_H_CALLID | 1 << SD_H_CSEQ;
			s->st = c == '\n' ? SD_ST_BOL : SD_ST_RLINE;
			return;
		}
		sd_finish(s, SD_K_UNPARSED, SD_U_MALFORMED);
		return;
	}
	if (st == SD_ST_BOL) {
		if (sd_is_ws(c)) {              /* folded continuation */
			if (!s->hl) {
				/* of the start line: not SIP (RFC 3261 7.3.1
				 * folds header values only) */
				sd_finish(s, SD_K_UNPARSED, SD_U_MALFORMED);
				return;
			}
			if (s->hdr == SD_H_NONE) {
				s->st = SD_ST_SKIP;
				return;
			}
			s->st = st = SD_ST_VALUE;   /* the SP/HT is LWS of the value */
		} else {
			if (c == '\n')
				s->flags |= SD_F_HDR_END;
			sd_hdr_end(s);
			if (s->st == SD_ST_DONE)
				return;
			if (c == '\n') {
				s->st = SD_ST_DONE;
				return;
			}
			s->hl = 1;
			/* Only To (t), Call-ID (i) and CSeq start with t, i
			 * or c: any other name leads to SKIP for the rest of
			 * the line, whatever follows, so go there at once. */
			if (!sd_is_token(c) || ((c | 0x20) != 't' && (c | 0x20) != 'i' &&
						(c | 0x20) != 'c')) {
				s->st = SD_ST_SKIP;
				return;
			}
			s->st = SD_ST_NAME;
			s->nacc = c | 0x20;
			s->nlen = 1;
			return;
		}
	}
	if (st == SD_ST_NAME) {
		if (sd_is_token(c)) {
			if (s->nlen < 8)
				s->nacc |= (__u64)(c | 0x20) << ((s->nlen & 7) * 8);
			if (s->nlen < 9)
				s->nlen++;
			return;
		}
		if (sd_is_ws(c)) {
			s->st = SD_ST_NAME_WS;
			return;
		}
		st = SD_ST_NAME_WS;
	}
	if (st == SD_ST_NAME_WS) {
		if (sd_is_ws(c))
			return;
		if (c == ':')
			sd_hdr_begin(s);
		else            /* not a header line: skip it */
			s->st = c == '\n' ? SD_ST_BOL : SD_ST_SKIP;
		return;
	}
	/* SD_ST_VALUE */
	if (c == '\n') {
		s->st = SD_ST_BOL;
		return;
	}
	if (s->hdr == SD_H_TO)
		sd_to_step(s, c);
	else if (s->hdr == SD_H_CALLID)
		sd_callid_step(s, c);
	else
		sd_cseq_step(s, c);
}

/* In these states only CR and LF matter: a run of other bytes can be
 * skipped without feeding it (the XDP side skips 8 bytes at a time). */
static __always_inline int sd_scan_skippable(const struct sd_scan *s)
{
	return (s->st == SD_ST_SKIP || s->st == SD_ST_RLINE) && !s->cr;
}

/* Inside <...> of the To value only '>', CR and LF matter. */
static __always_inline int sd_scan_in_angle(const struct sd_scan *s)
{
	return s->st == SD_ST_VALUE && s->hdr == SD_H_TO && s->sub == SD_TV_ANG && !s->cr;
}

/* Inside the Call-ID word every byte but SP, HT, CR and LF is hashed and
 * changes nothing else. */
static __always_inline int sd_scan_in_callid(const struct sd_scan *s)
{
	return s->st == SD_ST_VALUE && s->hdr == SD_H_CALLID && s->sub == SD_CV_IN && !s->cr;
}

/* Bit 7 of each byte of w equal to a, b, c or d is set in the result,
 * and possibly bits above the first such byte, never below (the classic
 * has-zero-byte test, exact up to the first match). */
static __always_inline __u64 sd_word_find4(__u64 w, __u8 a, __u8 b, __u8 c, __u8 d)
{
	__u64 ones = 0x0101010101010101ULL, highs = 0x8080808080808080ULL;
	__u64 xa = w ^ (ones * a), xb = w ^ (ones * b), xc = w ^ (ones * c), xd = w ^ (ones * d);

	return (((xa - ones) & ~xa) | ((xb - ones) & ~xb) | ((xc - ones) & ~xc) |
		((xd - ones) & ~xd)) & highs;
}

/* Index (0-7) of the first byte flagged in a non-zero sd_word_find4()
 * result, in memory order (little-endian); no ctz instruction in BPF. */
static __always_inline __u32 sd_first_flagged(__u64 m)
{
	__u32 i = 0;

	m &= -m;                        /* the lowest flag only */
	if (m > 0xffffffffULL) {
		i += 4;
		m >>= 32;
	}
	if (m > 0xffffULL) {
		i += 2;
		m >>= 16;
	}
	if (m > 0xffULL)
		i += 1;
	return i;
}

/* The bytes ran out (datagram end, or the scan budget). */
static __always_inline void sd_scan_end(struct sd_scan *s)
{
	__u8 st = s->st;

	if (st == SD_ST_DONE)
		return;
	if (st == SD_ST_BEGIN)
		sd_finish(s, s->len ? SD_K_KEEPALIVE : SD_K_NOT_SIP, SD_U_NONE);
	else if (st == SD_ST_METHOD || st == SD_ST_RVER)
		sd_finish(s, SD_K_NOT_SIP, SD_U_NONE);
	else
		sd_finish(s, SD_K_UNPARSED,
			  s->len > s->end ? SD_U_BUDGET : SD_U_TRUNCATED);
}

/* Copy the outcome into the ABI result. */
static __always_inline void sd_scan_result(const struct sd_scan *s,
					   struct sd_result *r)
{
	r->kind = s->kind;
	r->unparsed = s->unparsed;
	r->flags = s->flags;
	r->method = s->kind == SD_K_REQUEST ? s->method : 0;
	r->cseq_method = s->cseq_method;
	r->status = s->kind == SD_K_RESPONSE ? s->status : 0;
	r->call_id_hash = (s->flags & SD_F_CALLID) ? s->hash : 0;
	if (s->kind != SD_K_REQUEST && s->kind != SD_K_RESPONSE)
		r->flags = 0;
}

#endif /* SIP_SCAN_H */
