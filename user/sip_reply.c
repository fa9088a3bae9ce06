// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "sip_reply.h"
#include "sip_scan.h"
#include "tester.h"

#define TEXT_(id, text) text,
const char *const sd_reply_outcome_text[SD_R_MAX] = { SD_REPLY_OUTCOMES(TEXT_) };
#undef TEXT_

/* A header value as it lies in the request: may contain folds (CRLF or
 * LF followed by SP/HT), which are read as one SP. */
struct span {
	const char *p;
	size_t n;
};

#define MAX_VIA 64

struct req {
	struct span via[MAX_VIA];
	int nvia;
	struct span from, to, callid, cseq;
};

static bool is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static struct span trim(struct span s)
{
	while (s.n && is_lws(s.p[0]))
		s.p++, s.n--;
	while (s.n && is_lws(s.p[s.n - 1]))
		s.n--;
	return s;
}

/* Split a Via value at commas outside quotes and <...>. */
static bool add_vias(struct req *r, struct span v)
{
	size_t start = 0;
	int quote = 0, angle = 0;

	for (size_t i = 0; i <= v.n; i++) {
		char c = i < v.n ? v.p[i] : ',';

		if (quote) {
			if (c == '\\')
				i++;
			else if (c == '"')
				quote = 0;
			continue;
		}
		if (c == '"')
			quote = 1;
		else if (c == '<')
			angle = 1;
		else if (c == '>')
			angle = 0;
		else if (c == ',' && !angle) {
			struct span s = trim((struct span){ v.p + start, i - start });

			if (s.n) {
				if (r->nvia == MAX_VIA)
					return false;
				r->via[r->nvia++] = s;
			}
			start = i + 1;
		}
	}
	return true;
}

static bool name_is(const char *n, size_t nl, const char *full, char compact)
{
	return (nl == 1 && (n[0] | 0x20) == compact) ||
	       (nl == strlen(full) && !strncasecmp(n, full, nl));
}

/* Collect the headers the reply copies.  Returns SD_R_OK or why not. */
static enum sd_reply_outcome parse_request(const char *m, size_t len, struct req *r)
{
	size_t i = 0, line_end;

	memset(r, 0, sizeof(*r));
	while (i < len && (m[i] == '\r' || m[i] == '\n'))
		i++;
	if (len - i >= 8 && !strncasecmp(m + i, "SIP/2.0 ", 8))
		return SD_R_NOT_REQUEST;
	/* skip the start line */
	while (i < len && m[i] != '\n')
		i++;
	if (i >= len)
		return SD_R_UNTERMINATED;
	i++;
	for (;;) {
		size_t name = i, nl, vstart;

		if (i >= len)
			return SD_R_UNTERMINATED;
		if (m[i] == '\n' || (m[i] == '\r' && i + 1 < len && m[i + 1] == '\n'))
			break;                          /* the empty line */
		while (i < len && sd_is_token(m[i]))
			i++;
		nl = i - name;
		while (i < len && (m[i] == ' ' || m[i] == '\t'))
			i++;
		/* the logical line: up to an LF not followed by SP/HT */
		line_end = i;
		for (;;) {
			while (line_end < len && m[line_end] != '\n')
				line_end++;
			if (line_end >= len)
				return SD_R_UNTERMINATED;
			if (line_end + 1 < len && (m[line_end + 1] == ' ' || m[line_end + 1] == '\t')) {
				line_end++;
				continue;
			}
			break;
		}
		if (nl && i < line_end && m[i] == ':') {
			struct span v;

			vstart = i + 1;
			v = trim((struct span){ m + vstart, line_end - vstart });
			if (name_is(m + name, nl, "via", 'v')) {
				if (!add_vias(r, v))
					return SD_R_BAD_VIA;
			} else if (name_is(m + name, nl, "from", 'f')) {
				if (!r->from.p)
					r->from = v;
			} else if (name_is(m + name, nl, "to", 't')) {
				if (!r->to.p)
					r->to = v;
			} else if (name_is(m + name, nl, "call-id", 'i')) {
				if (!r->callid.p)
					r->callid = v;
			} else if (nl == 4 && !strncasecmp(m + name, "cseq", 4)) {
				if (!r->cseq.p)
					r->cseq = v;
			}
		}
		i = line_end + 1;
	}
	if (!r->nvia)
		return SD_R_NO_VIA;
	if (!r->from.p || !r->from.n)
		return SD_R_NO_FROM;
	if (!r->to.p || !r->to.n)
		return SD_R_NO_TO;
	if (!r->callid.p || !r->callid.n)
		return SD_R_NO_CALLID;
	if (!r->cseq.p || !r->cseq.n)
		return SD_R_NO_CSEQ;
	return SD_R_OK;
}

/* Output with a hard end: every write checks it. */
struct out {
	char *p;
	size_t n, cap;
	bool full;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (o->n + n > o->cap) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

/* Copy a value, each fold (CR? LF SP/HT...) read as one SP. */
static void put_unfolded(struct out *o, struct span s)
{
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] == '\r' || s.p[i] == '\n') {
			while (i + 1 < s.n && is_lws(s.p[i + 1]))
				i++;
			put(o, " ", 1);
			continue;
		}
		put(o, s.p + i, 1);
	}
}

static __u64 fnv(__u64 h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = (h ^ (__u8)p[i]) * SD_FNV_PRIME;
	return h;
}

void sd_reply_tag(const char *callid, size_t clen, const char *from, size_t flen,
		  const char *via, size_t vlen, char tag[SD_TAG_PREFIX_LEN + 17])
{
	__u64 h = SD_FNV_OFFSET;

	h = fnv(h, callid, clen);
	h = fnv(h, "\n", 1);
	h = fnv(h, from, flen);
	h = fnv(h, "\n", 1);
	h = fnv(h, via, vlen);
	snprintf(tag, SD_TAG_PREFIX_LEN + 17, "%s%016llx", SD_TAG_PREFIX,
		 (unsigned long long)h);
}

/* The top Via with RFC 3581 applied: rport gets the source port and then
 * received= is added always; otherwise received= is added when the
 * sent-by host is not the source address. */
static bool put_top_via(struct out *o, struct span v, const struct sd_peer *src)
{
	char ip[INET6_ADDRSTRLEN], host[256], portbuf[8];
	size_t i = 0, h0, hn, rport_at = 0;
	bool rport = false, received = false, same = false;
	__u8 bin[16];

	inet_ntop(src->family, src->addr, ip, sizeof(ip));
	/* sent-protocol: SIP / 2.0 / UDP, LWS allowed around '/' */
	for (int slash = 0; slash < 2; slash++) {
		while (i < v.n && v.p[i] != '/')
			i++;
		if (i >= v.n)
			return false;
		i++;
	}
	while (i < v.n && is_lws(v.p[i]))
		i++;
	while (i < v.n && sd_is_token(v.p[i]))   /* transport */
		i++;
	while (i < v.n && is_lws(v.p[i]))
		i++;
	h0 = i;
	if (i < v.n && v.p[i] == '[') {
		while (i < v.n && v.p[i] != ']')
			i++;
		if (i >= v.n)
			return false;
		hn = i - h0 - 1;
		h0++;
		i++;
	} else {
		while (i < v.n && v.p[i] != ':' && v.p[i] != ';' && !is_lws(v.p[i]))
			i++;
		hn = i - h0;
	}
	if (!hn || hn >= sizeof(host))
		return false;
	memcpy(host, v.p + h0, hn);
	host[hn] = 0;
	if (inet_pton(src->family, host, bin) == 1)
		same = !memcmp(bin, src->addr, src->family == AF_INET ? 4 : 16);
	/* params */
	while (i < v.n) {
		size_t n0, nn;

		if (v.p[i] != ';') {
			i++;
			continue;
		}
		i++;
		while (i < v.n && is_lws(v.p[i]))
			i++;
		n0 = i;
		while (i < v.n && sd_is_token(v.p[i]))
			i++;
		nn = i - n0;
		while (i < v.n && is_lws(v.p[i]))
			i++;
		if (nn == 5 && !strncasecmp(v.p + n0, "rport", 5) && (i >= v.n || v.p[i] != '=')) {
			rport = true;
			rport_at = n0 + 5;
		} else if (nn == 8 && !strncasecmp(v.p + n0, "received", 8)) {
			received = true;
		}
	}
	puts_(o, "Via: ");
	if (rport) {
		put_unfolded(o, (struct span){ v.p, rport_at });
		snprintf(portbuf, sizeof(portbuf), "=%u", src->port);
		puts_(o, portbuf);
		put_unfolded(o, (struct span){ v.p + rport_at, v.n - rport_at });
	} else {
		put_unfolded(o, v);
	}
	if (!received && (rport || !same)) {
		puts_(o, ";received=");
		puts_(o, ip);
	}
	puts_(o, "\r\n");
	return true;
}

/* Would a ";tag=" appended to this To value stand outside quotes and
 * <...>, where the caller reads it? */
static bool to_balanced(struct span v)
{
	bool quote = false, angle = false;

	for (size_t i = 0; i < v.n; i++) {
		char c = v.p[i];

		if (quote) {
			if (c == '\\')
				i++;
			else if (c == '"')
				quote = false;
		} else if (angle) {
			if (c == '>')
				angle = false;
		} else if (c == '"') {
			quote = true;
		} else if (c == '<') {
			angle = true;
		}
	}
	return !quote && !angle;
}

static void put_header(struct out *o, const char *name, struct span v)
{
	puts_(o, name);
	put_unfolded(o, v);
	puts_(o, "\r\n");
}

enum sd_reply_outcome sd_build_503(const char *m, size_t len,
				   const struct sd_peer *src,
				   const struct sd_reply_opts *opt,
				   char *outbuf, size_t cap, size_t *outlen,
				   int *method)
{
	struct out o = { .p = outbuf, .cap = cap };
	struct sd_result cls;
	enum sd_reply_outcome rc;
	struct req r;
	char line[512];

	*method = SD_M_OTHER;
	/* the same classification as the XDP program */
	sd_parse(m, len, &cls);
	if (cls.kind == SD_K_REQUEST)
		*method = cls.method;
	if (cls.kind == SD_K_RESPONSE)
		return SD_R_NOT_REQUEST;
	if (cls.kind == SD_K_REQUEST && cls.method == SD_M_ACK)
		return SD_R_ACK;
	rc = parse_request(m, len, &r);
	if (rc != SD_R_OK)
		return rc;
	if (cls.kind != SD_K_REQUEST)
		return SD_R_UNTERMINATED;       /* unparsed: never answered */
	if (!(cls.flags & SD_F_TO_TAG) && !to_balanced(r.to))
		return SD_R_BAD_TO;

	/* the cap a reflector must respect */
	if (cap > len + SD_REPLY_MAX_GROWTH)
		o.cap = len + SD_REPLY_MAX_GROWTH;

	puts_(&o, "SIP/2.0 503 Service Unavailable\r\n");
	if (!put_top_via(&o, r.via[0], src))
		return SD_R_BAD_VIA;
	for (int i = 1; i < r.nvia; i++)
		put_header(&o, "Via: ", r.via[i]);
	put_header(&o, "From: ", r.from);
	puts_(&o, "To: ");
	put_unfolded(&o, r.to);
	if (!(cls.flags & SD_F_TO_TAG)) {
		char tag[SD_TAG_PREFIX_LEN + 17];

		sd_reply_tag(r.callid.p, r.callid.n, r.from.p, r.from.n, r.via[0].p,
			     r.via[0].n, tag);
		puts_(&o, ";tag=");
		puts_(&o, tag);
	}
	puts_(&o, "\r\n");
	put_header(&o, "Call-ID: ", r.callid);
	put_header(&o, "CSeq: ", r.cseq);
	snprintf(line, sizeof(line), "Retry-After: %u\r\n", opt->retry_after);
	puts_(&o, line);
	if (opt->reason) {
		snprintf(line, sizeof(line), "Reason: SIP;cause=503;text=\"%s\"\r\n", opt->reason);
		puts_(&o, line);
	}
	if (opt->server) {
		snprintf(line, sizeof(line), "Server: %s\r\n", opt->server);
		puts_(&o, line);
	}
	puts_(&o, "Content-Length: 0\r\n\r\n");
	if (o.full)
		return SD_R_TOO_BIG;
	*outlen = o.n;
	return SD_R_OK;
}
