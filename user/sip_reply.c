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

/* Text in the request: may contain folds (CRLF or LF followed by SP/HT),
 * which are read as one SP. */
struct span {
	const char *p;
	size_t n;
};

/* One header line as the request wrote it. */
struct hline {
	struct span name;       /* "Via", "v", "VIA": copied as is */
	struct span value;      /* trimmed */
	bool sp;                /* LWS stood between the colon and the value */
};

struct req {
	size_t hdrs;            /* the first header line */
	struct hline via;       /* the first Via line with a value */
	struct span topvia;     /* its first value: the one rewritten */
	struct hline from, to, callid, cseq;
};

/* What the top Via says (RFC 3261 18.2.2, RFC 3581). */
struct topvia {
	struct span host;       /* sent-by host, without [] */
	unsigned port;          /* sent-by port, 0 when none */
	size_t params;          /* where the ;params begin */
	bool rport;             /* rport, with a value or without */
	bool same;              /* the sent-by host is the source address */
	bool maddr;
	struct span maddr_v;
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

static struct span sub(struct span s, size_t from, size_t to)
{
	return (struct span){ s.p + from, to - from };
}

static bool name_is(struct span n, const char *full, char compact)
{
	return (n.n == 1 && (n.p[0] | 0x20) == compact) ||
	       (n.n == strlen(full) && !strncasecmp(n.p, full, n.n));
}

/* The header line at *i.  1: h filled (name.n == 0 for a line without
 * a name and colon, which nothing reads), *i past it; 0: the empty line
 * that ends the header section; -1: the section never ends. */
static int next_line(const char *m, size_t len, size_t *i, struct hline *h)
{
	size_t name = *i, j = *i, line_end;

	memset(h, 0, sizeof(*h));
	if (j >= len)
		return -1;
	if (m[j] == '\n' || (m[j] == '\r' && j + 1 < len && m[j + 1] == '\n'))
		return 0;
	while (j < len && sd_is_token(m[j]))
		j++;
	h->name = (struct span){ m + name, j - name };
	while (j < len && (m[j] == ' ' || m[j] == '\t'))
		j++;
	/* the logical line: up to an LF not followed by SP/HT */
	line_end = j;
	for (;;) {
		while (line_end < len && m[line_end] != '\n')
			line_end++;
		if (line_end >= len)
			return -1;
		if (line_end + 1 < len && (m[line_end + 1] == ' ' || m[line_end + 1] == '\t')) {
			line_end++;
			continue;
		}
		break;
	}
	if (h->name.n && j < line_end && m[j] == ':') {
		h->sp = j + 1 < line_end && is_lws(m[j + 1]);
		h->value = trim((struct span){ m + j + 1, line_end - j - 1 });
	} else {
		h->name.n = 0;
	}
	*i = line_end + 1;
	return 1;
}

/* Length of a Via line's first value: up to a comma outside quotes and
 * <...>. */
static size_t first_value(struct span v)
{
	int quote = 0, angle = 0;

	for (size_t i = 0; i < v.n; i++) {
		char c = v.p[i];

		if (quote) {
			if (c == '\\')
				i++;
			else if (c == '"')
				quote = 0;
		} else if (c == '"') {
			quote = 1;
		} else if (c == '<') {
			angle = 1;
		} else if (c == '>') {
			angle = 0;
		} else if (c == ',' && !angle) {
			return i;
		}
	}
	return v.n;
}

static bool is_via(const struct hline *h)
{
	return h->name.n && h->value.n && name_is(h->name, "via", 'v');
}

/* Collect the headers the reply copies.  Returns SD_R_OK or why not. */
static enum sd_reply_outcome parse_request(const char *m, size_t len, struct req *r)
{
	struct hline h;
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
	while ((rc = next_line(m, len, &i, &h)) > 0) {
		struct hline *keep = NULL;

		if (!h.name.n)
			continue;
		/* a Via line without a value carries none: not the top one */
		if (name_is(h.name, "via", 'v'))
			keep = is_via(&h) ? &r->via : NULL;
		else if (name_is(h.name, "from", 'f'))
			keep = &r->from;
		else if (name_is(h.name, "to", 't'))
			keep = &r->to;
		else if (name_is(h.name, "call-id", 'i'))
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
	r->topvia = trim((struct span){ r->via.value.p, first_value(r->via.value) });
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

/* Copy a value, each fold (CR? LF SP/HT...) read as one SP: never
 * longer than the request's text. */
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

/* A header line as the request wrote it: its name, a SP only where the
 * request had white space after the colon, the value unfolded, CRLF.
 * With CRLF line ends it is never longer than the request's line. */
static void put_name(struct out *o, const struct hline *h)
{
	put(o, h->name.p, h->name.n);
	puts_(o, h->sp ? ": " : ":");
}

static void put_line(struct out *o, const struct hline *h)
{
	put_name(o, h);
	put_unfolded(o, h->value);
	puts_(o, CRLF);
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

/* One ;param of a Via value, offsets into it.  Between params anything
 * may stand (RFC 2543 comments): it is skipped here and copied. */
struct vparam {
	size_t at;              /* the ';' */
	struct span name;
	struct span val;        /* empty when there is no '=' */
	size_t end;             /* past the value (or the name) */
};

static bool is_param(const struct vparam *p, const char *name)
{
	return p->name.n == strlen(name) && !strncasecmp(p->name.p, name, p->name.n);
}

static size_t skip_lws(struct span v, size_t i)
{
	while (i < v.n && is_lws(v.p[i]))
		i++;
	return i;
}

/* The quoted string at v.p[i] == '"': the index past its end. */
static size_t skip_quoted(struct span v, size_t i)
{
	for (i++; i < v.n && v.p[i] != '"'; i++)
		if (v.p[i] == '\\')
			i++;
	return i < v.n ? i + 1 : v.n;
}

static bool next_param(struct span v, size_t *pos, struct vparam *p)
{
	size_t i = *pos, s;

	while (i < v.n && v.p[i] != ';')
		i = v.p[i] == '"' ? skip_quoted(v, i) : i + 1;
	if (i >= v.n)
		return false;
	p->at = i;
	i = skip_lws(v, i + 1);
	s = i;
	while (i < v.n && sd_is_token(v.p[i]))
		i++;
	p->name = sub(v, s, i);
	p->end = i;
	p->val = (struct span){ v.p + i, 0 };
	i = skip_lws(v, i);
	if (i < v.n && v.p[i] == '=') {
		i = s = skip_lws(v, i + 1);
		/* gen-value: token, host (IPv6 reference included) or
		 * quoted-string */
		if (i < v.n && v.p[i] == '"')
			i = skip_quoted(v, i);
		else
			while (i < v.n && v.p[i] != ';' && !is_lws(v.p[i]))
				i++;
		p->val = sub(v, s, i);
		p->end = i;
	}
	*pos = p->end;
	return true;
}

/* An IP literal (an IPv6 one with or without []) equal to this
 * address? */
static bool is_addr(struct span s, const struct sd_peer *a)
{
	char text[INET6_ADDRSTRLEN + 2];
	__u8 bin[16];

	if (s.n >= 2 && s.p[0] == '[' && s.p[s.n - 1] == ']')
		s = sub(s, 1, s.n - 1);
	if (!s.n || s.n >= sizeof(text))
		return false;
	memcpy(text, s.p, s.n);
	text[s.n] = 0;
	return inet_pton(a->family, text, bin) == 1 &&
	       !memcmp(bin, a->addr, a->family == AF_INET ? 4 : 16);
}

/* Read the top Via value: sent-protocol, sent-by, the params that
 * decide where the reply goes and how the value is rewritten.  False
 * when unreadable. */
static bool read_top_via(struct span v, const struct sd_peer *src, struct topvia *t)
{
	struct vparam p;
	size_t i = 0, h0;

	memset(t, 0, sizeof(*t));
	/* sent-protocol: SIP / 2.0 / UDP, LWS allowed around '/' */
	for (int slash = 0; slash < 2; slash++) {
		while (i < v.n && v.p[i] != '/')
			i++;
		if (i >= v.n)
			return false;
		i++;
	}
	i = skip_lws(v, i);
	while (i < v.n && sd_is_token(v.p[i]))   /* transport */
		i++;
	i = skip_lws(v, i);
	h0 = i;
	if (i < v.n && v.p[i] == '[') {
		while (i < v.n && v.p[i] != ']')
			i++;
		if (i >= v.n)
			return false;
		t->host = sub(v, h0 + 1, i);
		i++;
	} else {
		while (i < v.n && v.p[i] != ':' && v.p[i] != ';' && !is_lws(v.p[i]))
			i++;
		t->host = sub(v, h0, i);
	}
	if (!t->host.n || t->host.n > 255)
		return false;
	t->same = is_addr(t->host, src);
	/* [ COLON port ]: the reply may go there, so it must be one */
	if (skip_lws(v, i) < v.n && v.p[skip_lws(v, i)] == ':') {
		size_t d;

		i = d = skip_lws(v, skip_lws(v, i) + 1);
		while (i < v.n && v.p[i] >= '0' && v.p[i] <= '9' && i - d < 6)
			t->port = t->port * 10 + (v.p[i++] - '0');
		if (i == d || t->port == 0 || t->port > 65535)
			return false;
	}
	t->params = i;
	while (next_param(v, &i, &p)) {
		if (is_param(&p, "rport"))
			t->rport = true;
		else if (is_param(&p, "maddr") && !t->maddr)
			t->maddr = true, t->maddr_v = p.val;
	}
	return true;
}

/* The top Via value rewritten (RFC 3581 4, RFC 3261 18.2.1): the first
 * rport gets the source port (any value it had replaced), the first
 * received becomes the source address and further ones go, and
 * received= is added when absent if rport was asked or the sent-by host
 * is not the source address.  Everything else is copied. */
static void put_top_via(struct out *o, struct span v, const struct topvia *t,
			const struct sd_peer *src)
{
	bool rport_done = false, received_done = false;
	char ip[INET6_ADDRSTRLEN], num[8];
	size_t i = t->params, prev = 0;
	struct vparam p;

	inet_ntop(src->family, src->addr, ip, sizeof(ip));
	while (next_param(v, &i, &p)) {
		if (is_param(&p, "rport") && !rport_done) {
			put_unfolded(o, sub(v, prev, p.name.p - v.p));
			snprintf(num, sizeof(num), "%u", src->port);
			put(o, p.name.p, p.name.n);
			puts_(o, "=");
			puts_(o, num);
			rport_done = true;
		} else if (is_param(&p, "received")) {
			put_unfolded(o, sub(v, prev, p.at));
			if (!received_done) {
				put_unfolded(o, sub(v, p.at, p.name.p - v.p));
				put(o, p.name.p, p.name.n);
				puts_(o, "=");
				puts_(o, ip);
				received_done = true;
			}
		} else {
			continue;
		}
		prev = p.end;
	}
	put_unfolded(o, sub(v, prev, v.n));
	if (!received_done && (t->rport || !t->same)) {
		puts_(o, ";received=");
		puts_(o, ip);
	}
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
	struct sd_result cls;

	/* the same classification as the XDP program */
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
	struct out o = { .p = outbuf, .cap = cap };
	const struct sd_result cls = *clsp;
	bool first_via = true;
	enum sd_reply_outcome rc;
	struct topvia tv;
	struct hline h;
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
	if (!(cls.flags & SD_F_TO_TAG) && !to_balanced(r.to.value))
		return SD_R_BAD_TO;
	if (!read_top_via(r.topvia, src, &tv))
		return SD_R_BAD_VIA;

	/* Where the reply goes (RFC 3261 18.2.2 for UDP, RFC 3581 4): it
	 * can only leave the way the request came (MACs swapped, no
	 * routing), so to the source address.  maddr asks for another
	 * address: only the source's own is answered here. */
	if (tv.maddr && !is_addr(tv.maddr_v, src))
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

	puts_(&o, STATUS_LINE);
	/* every Via line in its place among the Via lines */
	for (i = r.hdrs; next_line(m, len, &i, &h) > 0;) {
		if (!is_via(&h))
			continue;
		if (!first_via) {
			put_line(&o, &h);
			continue;
		}
		first_via = false;
		put_name(&o, &h);
		put_top_via(&o, r.topvia, &tv, src);
		/* the rest of the line as it is: further values */
		put_unfolded(&o, sub(h.value, r.topvia.p + r.topvia.n - h.value.p, h.value.n));
		puts_(&o, CRLF);
	}
	put_line(&o, &r.from);
	put_name(&o, &r.to);
	put_unfolded(&o, r.to.value);
	if (!(cls.flags & SD_F_TO_TAG)) {
		char tag[SD_TAG_PREFIX_LEN + 17];

		sd_reply_tag(r.callid.value.p, r.callid.value.n, r.from.value.p,
			     r.from.value.n, r.topvia.p, r.topvia.n, tag);
		puts_(&o, ";tag=");
		puts_(&o, tag);
	}
	puts_(&o, CRLF);
	put_line(&o, &r.callid);
	put_line(&o, &r.cseq);
	snprintf(num, sizeof(num), "%u", opt->retry_after);
	puts_(&o, RETRY_HEAD);
	puts_(&o, num);
	puts_(&o, CRLF);
	if (opt->reason) {
		puts_(&o, REASON_HEAD);
		puts_(&o, opt->reason);
		puts_(&o, REASON_TAIL);
	}
	if (opt->server) {
		puts_(&o, SERVER_HEAD);
		puts_(&o, opt->server);
		puts_(&o, CRLF);
	}
	puts_(&o, CLEN_LINE);
	puts_(&o, CRLF);
	if (o.full) {
		memset(dst, 0, sizeof(*dst));
		return SD_R_TOO_BIG;
	}
	*outlen = o.n;
	return SD_R_OK;
}
