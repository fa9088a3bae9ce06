// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <arpa/inet.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "sip_reply.h"
#include "sip_scan.h"
#include "sip_parse.h"

#define TEXT_(id, text) text,
const char *const sd_reply_outcome_text[SD_R_MAX] = { SD_REPLY_OUTCOMES(TEXT_) };
#undef TEXT_

/* Text the builder adds: written and counted by sd_reply_worst_growth()
 * from the same definitions. */
#define STATUS_LINE  "SIP/2.0 503 Service Unavailable\r\n"
#define REASON_HEAD  "Reason: SIP;cause=503;text=\""
#define REASON_TAIL  "\"\r\n"
#define SERVER_HEAD  "Server: "
#define RETRY_HEAD   "Retry-After: "
#define CLEN_LINE    "Content-Length: 0\r\n"
#define CRLF         "\r\n"

struct req {
	size_t hdrs;            /* the first header line */
	struct sd_hline via;    /* the first Via line with a value */
	struct sd_span topvia;  /* its first value: the one rewritten */
	struct sd_hline from, to, callid, cseq;
};

/* What the top Via says (RFC 3261 18.2.2, RFC 3581). */
struct topvia {
	struct sd_span host;    /* sent-by host, without [] */
	unsigned port;          /* sent-by port, 0 when none */
	size_t params;          /* where the ;params begin */
	bool rport;             /* rport, with a value or without */
	bool same;              /* the sent-by host is the source address */
	bool maddr;
	struct sd_span maddr_v;
};

static bool is_via(const struct sd_hline *h)
{
	return h->name.n && h->value.n && sd_name_is(h->name, "via", 'v');
}

/* Collect the headers the reply copies.  Returns SD_R_OK or why not. */
static enum sd_reply_outcome parse_request(const char *m, size_t len, struct req *r)
{
	struct sd_hline h;
	size_t i = 0;
	int rc;

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
	r->hdrs = ++i;
	while ((rc = sd_next_line(m, len, &i, &h)) > 0) {
		struct sd_hline *keep = NULL;

		if (!h.name.n)
			continue;
		/* a Via line without a value carries none: not the top one */
		if (sd_name_is(h.name, "via", 'v'))
			keep = is_via(&h) ? &r->via : NULL;
		else if (sd_name_is(h.name, "from", 'f'))
			keep = &r->from;
		else if (sd_name_is(h.name, "to", 't'))
			keep = &r->to;
		else if (sd_name_is(h.name, "call-id", 'i'))
			keep = &r->callid;
		else if (h.name.n == 4 && !strncasecmp(h.name.p, "cseq", 4))
			keep = &r->cseq;
		/* the first of each counts */
		if (keep && !keep->name.p)
			*keep = h;
	}
	if (rc < 0)
		return SD_R_UNTERMINATED;
	if (!r->via.name.p)
		return SD_R_NO_VIA;
	if (!r->from.value.n)
		return SD_R_NO_FROM;
	if (!r->to.value.n)
		return SD_R_NO_TO;
	if (!r->callid.value.n)
		return SD_R_NO_CALLID;
	if (!r->cseq.value.n)
		return SD_R_NO_CSEQ;
	r->topvia = sd_trim((struct sd_span){ r->via.value.p, sd_first_value(r->via.value) });
	return SD_R_OK;
}

static __u64 fnv(__u64 h, const char *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		h = SD_FNV_STEP(h, p[i]);
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

/* Read the top Via value: sent-protocol, sent-by, the params that
 * decide where the reply goes and how the value is rewritten.  False
 * when unreadable. */
static bool read_top_via(struct sd_span v, const struct sd_peer *src, struct topvia *t)
{
	struct sd_param p;
	size_t i = 0;

	memset(t, 0, sizeof(*t));
	/* sent-protocol: SIP / 2.0 / UDP, LWS allowed around '/' */
	for (int slash = 0; slash < 2; slash++) {
		while (i < v.n && v.p[i] != '/')
			i++;
		if (i >= v.n)
			return false;
		i++;
	}
	i = sd_skip_lws(v, i);
	while (i < v.n && sd_is_token(v.p[i]))   /* transport */
		i++;
	i = sd_skip_lws(v, i);
	if (!sd_read_host(v, &i, ":; \t\r\n", &t->host))
		return false;
	if (!t->host.n || t->host.n > 255)
		return false;
	t->same = sd_is_addr(t->host, src);
	/* [ COLON port ]: the reply may go there, so it must be one */
	if (sd_skip_lws(v, i) < v.n && v.p[sd_skip_lws(v, i)] == ':') {
		size_t d;

		i = d = sd_skip_lws(v, sd_skip_lws(v, i) + 1);
		while (i < v.n && v.p[i] >= '0' && v.p[i] <= '9' && i - d < 6)
			t->port = t->port * 10 + (v.p[i++] - '0');
		if (i == d || t->port == 0 || t->port > 65535)
			return false;
	}
	t->params = i;
	while (sd_next_param(v, &i, &p)) {
		if (sd_is_param(&p, "rport"))
			t->rport = true;
		else if (sd_is_param(&p, "maddr") && !t->maddr)
			t->maddr = true, t->maddr_v = p.val;
	}
	return true;
}

/* The top Via value rewritten (RFC 3581 4, RFC 3261 18.2.1): the first
 * rport gets the source port (any value it had replaced), the first
 * received becomes the source address and further ones go, and
 * received= is added when absent if rport was asked or the sent-by host
 * is not the source address.  Everything else is copied. */
static void put_top_via(struct sd_out *o, struct sd_span v, const struct topvia *t,
			const struct sd_peer *src)
{
	bool rport_done = false, received_done = false;
	char ip[INET6_ADDRSTRLEN], num[8];
	size_t i = t->params, prev = 0;
	struct sd_param p;

	inet_ntop(src->family, src->addr, ip, sizeof(ip));
	while (sd_next_param(v, &i, &p)) {
		if (sd_is_param(&p, "rport") && !rport_done) {
			sd_put_unfolded(o, sd_sub(v, prev, p.name.p - v.p));
			snprintf(num, sizeof(num), "%u", src->port);
			sd_put(o, p.name.p, p.name.n);
			sd_puts(o, "=");
			sd_puts(o, num);
			rport_done = true;
		} else if (sd_is_param(&p, "received")) {
			sd_put_unfolded(o, sd_sub(v, prev, p.at));
			if (!received_done) {
				sd_put_unfolded(o, sd_sub(v, p.at, p.name.p - v.p));
				sd_put(o, p.name.p, p.name.n);
				sd_puts(o, "=");
				sd_puts(o, ip);
				received_done = true;
			}
		} else {
			continue;
		}
		prev = p.end;
	}
	sd_put_unfolded(o, sd_sub(v, prev, v.n));
	if (!received_done && (t->rport || !t->same)) {
		sd_puts(o, ";received=");
		sd_puts(o, ip);
	}
}

bool sd_reply_outcome_passes(enum sd_reply_outcome rc)
{
	return rc == SD_R_TOO_BIG || rc == SD_R_MADDR;
}

/* How much a reply can exceed a well-formed request (RFC 3261 syntax).
 * The reply's lines against the request's:
 *  - the status line against the shortest request line there is,
 *    "M a:b SIP/2.0" CRLF (a one-character method, a three-character
 *    absoluteURI);
 *  - every copied line (each Via line, From, To, Call-ID, CSeq) is at
 *    most as long as in the request: its name as written (compact forms
 *    are not expanded, which would cost up to 10 bytes), one SP after
 *    the colon only where the request had white space, each fold read
 *    as one SP, white space before the colon and around the value
 *    dropped, and CRLF where the request had CRLF.  Hence the count
 *    needs no term per line, and 64 or more Via values cost nothing;
 *  - the top Via value: rport's value ("rport" becomes "rport=65535"),
 *    received= with the longest address text there is (added, or
 *    replacing one that had at least ";received");
 *  - the To tag, when the To had none;
 *  - the lines added: Retry-After with the widest unsigned, Reason and
 *    Server with their texts, Content-Length: 0.
 * The empty line is in both; the request's other lines, its body and
 * its leading CRLFs only make the difference smaller.
 * Not counted: a request with bare-LF line ends gets one byte more per
 * copied line (CRLF, as RFC 3261 7 requires of the reply) and per
 * request and empty line.  That syntax is outside RFC 3261, and its
 * growth has no bound but the request's line count, so no option check
 * can cover it: such a request either fits in the slack the options
 * leave or meets SD_R_TOO_BIG and is left to the server. */
#define MIN_REQUEST_LINE (sizeof("M a:b SIP/2.0" CRLF) - 1)

size_t sd_reply_worst_growth(const struct sd_reply_opts *o)
{
	size_t g = sizeof(STATUS_LINE) - 1 - MIN_REQUEST_LINE;

	g += sizeof("=65535") - 1;
	g += sizeof(";received=") - 1 + INET6_ADDRSTRLEN - 1;
	g += sizeof(";tag=") - 1 + SD_TAG_PREFIX_LEN + 16;
	g += sizeof(RETRY_HEAD "4294967295" CRLF) - 1;
	if (o->reason)
		g += sizeof(REASON_HEAD REASON_TAIL) - 1 + strlen(o->reason);
	if (o->server)
		g += sizeof(SERVER_HEAD CRLF) - 1 + strlen(o->server);
	g += sizeof(CLEN_LINE) - 1;
	return g;
}

enum sd_reply_outcome sd_build_503(const char *m, size_t len,
				   const struct sd_peer *src,
				   const struct sd_reply_opts *opt,
				   char *outbuf, size_t cap, size_t *outlen,
				   struct sd_peer *dst, int *method)
{
	struct sd_result cls;   /* the same classification as the XDP program */
	sd_parse(m, len, &cls);
	return sd_build_503_cls(m, len, &cls, src, opt, outbuf, cap, outlen, dst, method);
}

enum sd_reply_outcome sd_build_503_cls(const char *m, size_t len,
				       const struct sd_result *clsp,
				       const struct sd_peer *src,
				       const struct sd_reply_opts *opt,
				       char *outbuf, size_t cap, size_t *outlen,
				       struct sd_peer *dst, int *method)
{
	struct sd_out o = { .p = outbuf, .cap = cap };
	const struct sd_result cls = *clsp;
	bool first_via = true;
	enum sd_reply_outcome rc;
	struct topvia tv;
	struct sd_hline h;
	struct req r;
	char num[16];
	size_t i;

	*method = SD_M_OTHER;
	memset(dst, 0, sizeof(*dst));
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
	if (!(cls.flags & SD_F_TO_TAG) && !sd_balanced(r.to.value))
		return SD_R_BAD_TO;
	if (!read_top_via(r.topvia, src, &tv))
		return SD_R_BAD_VIA;

	/* Where the reply goes (RFC 3261 18.2.2 for UDP, RFC 3581 4): it
	 * can only leave the way the request came (MACs swapped, no
	 * routing), so to the source address.  maddr asks for another
	 * address: only the source's own is answered here. */
	if (tv.maddr && !sd_is_addr(tv.maddr_v, src))
		return SD_R_MADDR;
	dst->family = src->family;
	memcpy(dst->addr, src->addr, sizeof(dst->addr));
	if (tv.rport && !tv.maddr)
		dst->port = src->port;
	else
		dst->port = tv.port ? tv.port : SD_DEFAULT_PORT;
	/* rport from port 0 (RFC 768: "not used") names no port at all */
	if (!dst->port) {
		memset(dst, 0, sizeof(*dst));
		return SD_R_BAD_VIA;
	}

	/* the cap a reflector must respect */
	if (cap > len + SD_REPLY_MAX_GROWTH)
		o.cap = len + SD_REPLY_MAX_GROWTH;

	sd_puts(&o, STATUS_LINE);
	/* every Via line in its place among the Via lines */
	for (i = r.hdrs; sd_next_line(m, len, &i, &h) > 0;) {
		if (!is_via(&h))
			continue;
		if (!first_via) {
			sd_put_line(&o, &h);
			continue;
		}
		first_via = false;
		sd_put_name(&o, &h);
		put_top_via(&o, r.topvia, &tv, src);
		/* the rest of the line as it is: further values */
		sd_put_unfolded(&o, sd_sub(h.value, r.topvia.p + r.topvia.n - h.value.p, h.value.n));
		sd_puts(&o, CRLF);
	}
	sd_put_line(&o, &r.from);
	sd_put_name(&o, &r.to);
	sd_put_unfolded(&o, r.to.value);
	if (!(cls.flags & SD_F_TO_TAG)) {
		char tag[SD_TAG_PREFIX_LEN + 17];

		sd_reply_tag(r.callid.value.p, r.callid.value.n, r.from.value.p,
			     r.from.value.n, r.topvia.p, r.topvia.n, tag);
		sd_puts(&o, ";tag=");
		sd_puts(&o, tag);
	}
	sd_puts(&o, CRLF);
	sd_put_line(&o, &r.callid);
	sd_put_line(&o, &r.cseq);
	snprintf(num, sizeof(num), "%u", opt->retry_after);
	sd_puts(&o, RETRY_HEAD);
	sd_puts(&o, num);
	sd_puts(&o, CRLF);
	if (opt->reason) {
		sd_puts(&o, REASON_HEAD);
		sd_puts(&o, opt->reason);
		sd_puts(&o, REASON_TAIL);
	}
	if (opt->server) {
		sd_puts(&o, SERVER_HEAD);
		sd_puts(&o, opt->server);
		sd_puts(&o, CRLF);
	}
	sd_puts(&o, CLEN_LINE);
	sd_puts(&o, CRLF);
	if (o.full) {
		memset(dst, 0, sizeof(*dst));
		return SD_R_TOO_BIG;
	}
	*outlen = o.n;
	return SD_R_OK;
}
