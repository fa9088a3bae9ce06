// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The BYE builder (sip_bye.h).  Who is who (struct sd_details, SD_DT_*):
 *
 *   proxy  INVITE_IN + 2XX_IN   caller = the INVITE's sender, callee =
 *                               the 2xx's sender; both get a BYE
 *   UAS    INVITE_IN + 2XX_OUT  the server answered: only the caller
 *   UAC    2XX_IN only          the server called: only the callee
 *
 * The 2xx's Record-Route reads [nearest callee ... server ... nearest
 * caller] (each proxy inserts at the top; RFC 3261 16.6 item 4).  The
 * BYE the gate sends is the one the far side would send after the
 * server, as a proxy, popped its own entries (16.12): toward the caller
 * the entries after the server's, in order; toward the callee those
 * before it, reversed.  A UA's route set is its Record-Route as received
 * (12.1.1: the INVITE's, in order) or as answered (12.1.2: the 2xx's,
 * reversed), the server's own entries taken out.
 *
 * Everything copied is checked first: a value the BYE would carry
 * broken is refused, and the BYE built is read back with the gate's own
 * scanner (sd_parse) before it is handed out. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "sip_bye.h"
#include "sip_parse.h"
#include "sip_scan.h"

#define TEXT_(id, text) text,
const char *const sd_bye_outcome_text[SD_BYE_MAX] = { SD_BYE_OUTCOMES(TEXT_) };
#undef TEXT_

#define CRLF "\r\n"
/* RFC 3326.  cause=503: the call ends because the service at this node
 * ends (the drain deadline), which is what 503 says and what the
 * responder's own 503s carry.  Not 200: a BYE (or CANCEL) with cause=200
 * reads as "completed elsewhere", which phones show as a normal end and
 * gateways map to Q.850 16 (normal clearing); 503 maps to a temporary
 * failure (RFC 3398), which is what happened to the call. */
#define REASON_HEAD "Reason: SIP;cause=503;text=\""

enum role { R_NONE, R_PROXY, R_UAS, R_UAC };

/* A Record-Route entry: name-addr with a SIP URI, then rr-params. */
struct rentry {
	struct sd_span text;    /* as written, trimmed: copied as a Route value */
	struct sd_span uri;     /* inside <> */
	bool lr;                /* loose router (RFC 3261 19.1.1) */
	bool own;               /* names one of the server's addresses */
};

/* The lines of one kept message the BYE needs. */
struct msg {
	struct sd_hline from, to, callid, cseq, contact;
	unsigned contacts;      /* Contact lines with a value */
	struct rentry rr[SD_BYE_MAX_ROUTE];
	unsigned n_rr;
	bool rr_bad;            /* an empty entry, or more than SD_BYE_MAX_ROUTE */
	bool rr_known;          /* every Record-Route entry of the message is in rr[] */
};

/* A From/To/Contact/Record-Route value read: [display-name] <URI> or
 * an addr-spec, then ;params and nothing else. */
struct naddr {
	struct sd_span uri;
	bool angle;             /* name-addr form */
	bool tag;               /* a tag header parameter with a token value */
};

/* What the BYE is made of. */
struct bye {
	struct msg inv, resp;
	struct sd_span from, to, callid;
	struct sd_span target;          /* the remote target: the party's Contact URI */
	const struct rentry *route[SD_BYE_MAX_ROUTE];
	unsigned n_route;
	__u32 cseq;
	const struct sd_hop *hop;
	__u64 callid_hash;              /* the scanner's hash of the 2xx's Call-ID; 0: none */
};

static enum role role_of(const struct sd_details *d)
{
	bool inv = d->flags & SD_DT_INVITE_IN;

	if (inv && (d->flags & SD_DT_2XX_IN))
		return R_PROXY;
	if (inv && (d->flags & SD_DT_2XX_OUT))
		return R_UAS;
	if (d->flags & SD_DT_2XX_IN)
		return R_UAC;
	return R_NONE;
}

unsigned sd_bye_parties(const struct sd_details *d)
{
	switch (role_of(d)) {
	case R_PROXY:
		return 1u << SD_BYE_CALLER | 1u << SD_BYE_CALLEE;
	case R_UAS:
		return 1u << SD_BYE_CALLER;
	case R_UAC:
		return 1u << SD_BYE_CALLEE;
	default:
		return 0;
	}
}

/* ---- reading ---------------------------------------------------------- */

static bool is_ctl(char c)
{
	return (unsigned char)c < 0x20 || c == 0x7f;
}

/* The index past the quoted string at v.p[i] == '"'; 0 when it never
 * closes (sd_skip_quoted cannot tell) or holds a control character other
 * than a fold's (RFC 3261 qdtext, quoted-pair): copied into the BYE, a
 * NUL or bare CR would reach the party. */
static size_t quoted_end(struct sd_span v, size_t i)
{
	for (i++; i < v.n; i++) {
		if (v.p[i] == '"')
			return i + 1;
		if (v.p[i] == '\\')
			i++;            /* quoted-pair: the next character, checked too */
		if (i < v.n && is_ctl(v.p[i]) && !sd_is_lws(v.p[i]))
			return 0;
	}
	return 0;
}

/* A URI as RFC 3261 writes one: no white space, controls, quotes or
 * angle brackets (any of them would end it early for the reader). */
static bool uri_clean(struct sd_span u)
{
	if (!u.n)
		return false;
	for (size_t i = 0; i < u.n; i++)
		if (is_ctl(u.p[i]) || u.p[i] == ' ' || u.p[i] == '"' || u.p[i] == '<' ||
		    u.p[i] == '>')
			return false;
	return true;
}

/* A param value: a token, a host (an IPv6 reference too) or a quoted
 * string.  Anything else ('<', ',') would read differently to others. */
static bool gen_value_ok(struct sd_span v)
{
	if (v.n && v.p[0] == '"')
		return quoted_end(v, 0) == v.n;
	for (size_t i = 0; i < v.n; i++)
		if (!sd_is_token(v.p[i]) && v.p[i] != '[' && v.p[i] != ']' && v.p[i] != ':')
			return false;
	return true;
}

/* The header params from v.p[i]: ";name[=value]" separated by LWS only;
 * the tag one noted when its value is a token (RFC 3261 tag-param). */
static bool read_params(struct sd_span v, size_t i, struct naddr *a)
{
	struct sd_param p;
	size_t prev = i;

	while (sd_next_param(v, &i, &p)) {
		if (sd_skip_lws(v, prev) != p.at || !p.name.n || !gen_value_ok(p.val))
			return false;
		if (sd_is_param(&p, "tag")) {
			for (size_t k = 0; k < p.val.n; k++)
				if (!sd_is_token(p.val.p[k]))
					return false;
			a->tag = a->tag || p.val.n;
		}
		prev = p.end;
	}
	return sd_skip_lws(v, prev) == v.n;
}

static bool read_naddr(struct sd_span v, struct naddr *a)
{
	size_t i;

	memset(a, 0, sizeof(*a));
	/* the display name: a quoted string or words, up to '<'; an
	 * addr-spec ends at its first ';' */
	for (i = 0; i < v.n && v.p[i] != '<' && v.p[i] != ';'; i++) {
		if (v.p[i] == '"') {
			i = quoted_end(v, i);
			if (!i)
				return false;
			i--;
		} else if (v.p[i] == '>' || v.p[i] == ',' ||
			   (is_ctl(v.p[i]) && !sd_is_lws(v.p[i]))) {
			return false;
		}
	}
	if (i < v.n && v.p[i] == '<') {
		size_t lt = i;

		while (i < v.n && v.p[i] != '>')
			i++;
		if (i >= v.n)
			return false;
		a->angle = true;
		a->uri = sd_sub(v, lt + 1, i);
		i++;
	} else {
		a->uri = sd_trim(sd_sub(v, 0, i));
	}
	return uri_clean(a->uri) && read_params(v, i, a);
}

/* A sip: or sips: URI's parts that matter here. */
struct sipuri {
	bool sips;
	struct sd_span host;    /* without [] */
	unsigned port;          /* 0: none written */
	size_t params;          /* where ;uri-parameters begin (or headers, or the end) */
	size_t headers;         /* the '?' of headers, or the end */
	bool lr;
};

/* Is the uri-parameter u[from..to) (after its ';') named `name`? */
static bool uri_param_is(struct sd_span u, size_t from, size_t to, const char *name)
{
	size_t n = strlen(name), e = from;

	while (e < to && u.p[e] != '=')
		e++;
	return e - from == n && !strncasecmp(u.p + from, name, n);
}

/* The index of the next ';' of the URI's parameters after i, or end. */
static size_t next_uri_param(struct sd_span u, size_t i, size_t end)
{
	for (i++; i < end && u.p[i] != ';'; i++)
		;
	return i;
}

static bool read_port(struct sd_span u, size_t *i, unsigned *port)
{
	size_t d = *i;

	while (*i < u.n && u.p[*i] >= '0' && u.p[*i] <= '9' && *i - d < 5)
		*port = *port * 10 + (u.p[(*i)++] - '0');
	return *i > d && *port && *port <= 65535;
}

static bool read_sip_uri(struct sd_span u, struct sipuri *s)
{
	const char *at;
	size_t i;

	memset(s, 0, sizeof(*s));
	if (u.n > 4 && !strncasecmp(u.p, "sip:", 4))
		i = 4;
	else if (u.n > 5 && !strncasecmp(u.p, "sips:", 5))
		i = 5, s->sips = true;
	else
		return false;
	/* userinfo may hold ';' and '?', never an unescaped '@' */
	at = memchr(u.p + i, '@', u.n - i);
	if (at)
		i = at - u.p + 1;
	if (!sd_read_host(u, &i, ":;?", &s->host) || !s->host.n)
		return false;
	if (i < u.n && u.p[i] == ':' && (++i, !read_port(u, &i, &s->port)))
		return false;
	if (i < u.n && u.p[i] != ';' && u.p[i] != '?')
		return false;
	s->params = i;
	at = memchr(u.p + i, '?', u.n - i);
	s->headers = at ? (size_t)(at - u.p) : u.n;
	for (; i < s->headers; i = next_uri_param(u, i, s->headers))
		s->lr = s->lr || uri_param_is(u, i + 1, next_uri_param(u, i, s->headers), "lr");
	return true;
}

static bool is_own(const struct sipuri *s, const struct sd_bye_opts *o)
{
	unsigned port = s->port ? s->port : s->sips ? 5061 : 5060;

	for (size_t k = 0; k < o->n_own; k++)
		if (sd_is_addr(s->host, &o->own[k]) && (!o->own[k].port || o->own[k].port == port))
			return true;
	return false;
}

/* Split a Record-Route value into entries (commas inside quotes and <>
 * are not separators). */
static void add_rr(struct msg *g, struct sd_span v)
{
	for (;;) {
		size_t n = sd_first_value(v);
		struct sd_span e = sd_trim(sd_sub(v, 0, n));

		if (!e.n || g->n_rr == SD_BYE_MAX_ROUTE) {
			g->rr_bad = true;
			return;
		}
		g->rr[g->n_rr++].text = e;
		if (n >= v.n)
			return;
		v = sd_sub(v, n + 1, v.n);
	}
}

static void keep_first(struct sd_hline *keep, const struct sd_hline *h)
{
	if (!keep->name.p && h->value.n)
		*keep = *h;
}

/* The header section from m[hdrs]: the first From, To, Call-ID, CSeq and
 * Contact with a value, every Record-Route entry.  A capture cut mid
 * section: only complete lines count, and a line ending where the cut is
 * might have gone on in a fold, so it does not count either.  The
 * Record-Route set of a cut section is known only when its lines were
 * followed by another line (one block, as every implementation writes
 * them): otherwise entries might be missing, and the BYE would skip a
 * proxy. */
static void read_msg(const char *m, size_t len, size_t hdrs, struct msg *g)
{
	bool rr_seen = false, rr_closed = false;
	struct sd_hline h;
	size_t i = hdrs;
	int rc;

	memset(g, 0, sizeof(*g));
	while ((rc = sd_next_line(m, len, &i, &h)) > 0) {
		if (i >= len) {
			rc = -1;
			break;
		}
		if (!h.name.n)
			continue;
		if (sd_name_is(h.name, "record-route", 0)) {
			add_rr(g, h.value);
			rr_seen = true;
			rr_closed = false;
			continue;
		}
		rr_closed = rr_seen;
		if (sd_name_is(h.name, "from", 'f'))
			keep_first(&g->from, &h);
		else if (sd_name_is(h.name, "to", 't'))
			keep_first(&g->to, &h);
		else if (sd_name_is(h.name, "call-id", 'i'))
			keep_first(&g->callid, &h);
		else if (sd_name_is(h.name, "cseq", 0))
			keep_first(&g->cseq, &h);
		else if (sd_name_is(h.name, "contact", 'm') && h.value.n)
			g->contacts++, keep_first(&g->contact, &h);
	}
	g->rr_known = rc == 0 || rr_closed;
}

/* The start line of m: an INVITE request (want_2xx false) or a 2xx
 * response, as the scanner reads them.  *hdrs: the first header line. */
static bool start_line(const char *m, size_t len, bool want_2xx, size_t *hdrs)
{
	size_t i = 0;

	while (i < len && (m[i] == '\r' || m[i] == '\n'))
		i++;
	if (want_2xx) {
		if (len - i < 13 || strncasecmp(m + i, "SIP/2.0 2", 9) ||
		    m[i + 9] < '0' || m[i + 9] > '9' || m[i + 10] < '0' || m[i + 10] > '9' ||
		    m[i + 11] != ' ')
			return false;
	} else if (len - i < 7 || memcmp(m + i, "INVITE ", 7)) {
		return false;
	}
	while (i < len && m[i] != '\n')
		i++;
	*hdrs = i + 1;
	return i < len;
}

/* Every Record-Route entry a name-addr with a SIP URI; lr and own noted. */
static bool check_routes(struct msg *g, const struct sd_bye_opts *o)
{
	if (g->rr_bad || !g->rr_known)
		return false;
	for (unsigned k = 0; k < g->n_rr; k++) {
		struct rentry *e = &g->rr[k];
		struct sipuri su;
		struct naddr a;

		if (!read_naddr(e->text, &a) || !a.angle || !read_sip_uri(a.uri, &su))
			return false;
		e->uri = a.uri;
		e->lr = su.lr;
		e->own = is_own(&su, o);
	}
	return true;
}

/* ---- the plan --------------------------------------------------------- */

static bool branch_ok(const char *b)
{
	if (!b || strncmp(b, "z9hG4bK", 7) || strlen(b) > 128)
		return false;
	for (; *b; b++)
		if (!sd_is_token(*b))
			return false;
	return true;
}

static bool hop_ok(const struct sd_hop *h)
{
	return (h->family == 4 || h->family == 6) && h->server_port;
}

/* The route toward the caller of a proxy: the 2xx's entries after the
 * server's own (consecutive) ones; toward the callee those before them,
 * reversed.  A proxy that does not record-route is not in the list: the
 * caller's side is then the INVITE's entries, which end the 2xx's list. */
static enum sd_bye_outcome proxy_route(struct bye *b, enum sd_bye_party to)
{
	unsigned a = 0, z, n = b->resp.n_rr;

	while (a < n && !b->resp.rr[a].own)
		a++;
	for (z = a; z < n && b->resp.rr[z].own; z++)
		;
	for (unsigned k = z; k < n; k++)
		if (b->resp.rr[k].own)
			return SD_BYE_BAD_ROUTE;        /* the server twice in the path (a spiral) */
	if (a == n) {
		if (b->inv.rr_bad || !b->inv.rr_known || b->inv.n_rr > n)
			return SD_BYE_BAD_ROUTE;
		a = z = n - b->inv.n_rr;
	}
	if (to == SD_BYE_CALLER)
		for (unsigned k = z; k < n; k++)
			b->route[b->n_route++] = &b->resp.rr[k];
	else
		for (unsigned k = a; k-- > 0;)
			b->route[b->n_route++] = &b->resp.rr[k];
	return SD_BYE_OK;
}

/* A UA's route set: its Record-Route in order (the UAS's, from the
 * INVITE) or reversed (the UAC's, from the 2xx), own entries out. */
static void ua_route(struct bye *b, const struct msg *g, bool reverse)
{
	for (unsigned k = 0; k < g->n_rr; k++) {
		const struct rentry *e = &g->rr[reverse ? g->n_rr - 1 - k : k];

		if (!e->own)
			b->route[b->n_route++] = e;
	}
}

static enum sd_bye_outcome plan_route(struct bye *b, enum role role, enum sd_bye_party to,
				      const struct sd_bye_opts *o)
{
	struct msg *g = role == R_UAS ? &b->inv : &b->resp;

	if (!check_routes(g, o))
		return SD_BYE_BAD_ROUTE;
	if (role == R_PROXY)
		return proxy_route(b, to);
	ua_route(b, g, role == R_UAC);
	return SD_BYE_OK;
}

/* The party's Contact: exactly one value, a SIP URI (RFC 3261 8.1.1.8,
 * 12.1.1: a 2xx and an INVITE carry exactly one).  Several are refused
 * rather than the first taken: a message breaking that rule may be one
 * this reader does not understand, and a BYE to the wrong target ends
 * nothing. */
static enum sd_bye_outcome plan_target(struct bye *b, const struct msg *g)
{
	struct sipuri su;
	struct naddr a;

	if (!g->contacts)
		return SD_BYE_NO_CONTACT;
	if (g->contacts > 1 || sd_first_value(g->contact.value) != g->contact.value.n ||
	    !read_naddr(g->contact.value, &a) || !read_sip_uri(a.uri, &su))
		return SD_BYE_BAD_CONTACT;
	b->target = a.uri;
	return SD_BYE_OK;
}

/* From and To: readable name-addrs, both with a tag. */
static enum sd_bye_outcome plan_parties(struct bye *b, const struct sd_hline *from,
					const struct sd_hline *to)
{
	struct naddr f, t;

	if (!from->value.n || !to->value.n)
		return SD_BYE_BAD_HEADERS;
	if (!read_naddr(from->value, &f) || !read_naddr(to->value, &t))
		return SD_BYE_BAD_HEADERS;
	if (!f.tag || !t.tag)
		return SD_BYE_NO_TAG;
	b->from = from->value;
	b->to = to->value;
	return SD_BYE_OK;
}

/* The CSeq number of a CSeq value ("1 INVITE"), 0 when unreadable. */
static __u32 cseq_number(struct sd_span v)
{
	unsigned long long n = 0;
	size_t i = 0;

	while (i < v.n && v.p[i] >= '0' && v.p[i] <= '9' && i < 10)
		n = n * 10 + (v.p[i++] - '0');
	if (!i || i >= v.n || !sd_is_lws(v.p[i]) || n > 0xffffffffULL)
		return 0;
	return n;
}

/* Above anything the side the BYE speaks for has sent: the caller's
 * side (toward the callee) by d->cseq_caller and the INVITE's number the
 * 2xx repeats, the callee's by d->cseq_callee; plus the margin. */
static enum sd_bye_outcome plan_cseq(struct bye *b, const struct sd_details *d,
				     enum sd_bye_party to)
{
	__u32 n = cseq_number(b->resp.cseq.value), base;

	if (!n)
		return SD_BYE_BAD_HEADERS;
	base = to == SD_BYE_CALLEE ? (n > d->cseq_caller ? n : d->cseq_caller) : d->cseq_callee;
	if (base >= SD_BYE_CSEQ_LIMIT)
		return SD_BYE_BAD_HEADERS;
	b->cseq = base < SD_BYE_CSEQ_LIMIT - SD_BYE_CSEQ_MARGIN ? base + SD_BYE_CSEQ_MARGIN :
		  SD_BYE_CSEQ_LIMIT;
	return SD_BYE_OK;
}

/* A Call-ID is one word (RFC 3261 callid = word ["@" word]): white
 * space would make the scanner hash only its first part, a control
 * character would reach the party. */
static bool callid_ok(struct sd_span v)
{
	if (!v.n)
		return false;
	for (size_t i = 0; i < v.n; i++)
		if (is_ctl(v.p[i]) || v.p[i] == ' ')
			return false;
	return true;
}

/* The messages: a 2xx always, the INVITE where the role has one. */
static enum sd_bye_outcome read_record(struct bye *b, const struct sd_details *d, enum role role)
{
	size_t rlen = d->resp_len < sizeof(d->resp) ? d->resp_len : sizeof(d->resp);
	size_t ilen = d->invite_len < sizeof(d->invite) ? d->invite_len : sizeof(d->invite);
	struct sd_result r;
	size_t hdrs;

	if (!start_line(d->resp, rlen, true, &hdrs))
		return SD_BYE_NO_2XX;
	read_msg(d->resp, rlen, hdrs, &b->resp);
	if (role != R_UAC) {
		if (!start_line(d->invite, ilen, false, &hdrs))
			return SD_BYE_BAD_HEADERS;
		read_msg(d->invite, ilen, hdrs, &b->inv);
	}
	if (!callid_ok(b->resp.callid.value) || !b->resp.cseq.value.n)
		return SD_BYE_BAD_HEADERS;
	b->callid = b->resp.callid.value;
	/* the record's key is the 2xx's Call-ID as the scanner hashed it */
	sd_parse(d->resp, rlen, &r);
	b->callid_hash = r.flags & SD_F_CALLID ? r.call_id_hash : 0;
	if (d->call_id_hash && b->callid_hash != d->call_id_hash)
		return SD_BYE_BAD_HEADERS;
	return SD_BYE_OK;
}

static enum sd_bye_outcome plan(struct bye *b, const struct sd_details *d, enum sd_bye_party to,
				const struct sd_bye_opts *o)
{
	enum role role = role_of(d);
	enum sd_bye_outcome rc;
	bool as_callee = to == SD_BYE_CALLER;

	memset(b, 0, sizeof(*b));
	if (role == R_NONE || !d->resp_len)
		return SD_BYE_NO_2XX;
	if (to != SD_BYE_CALLER && to != SD_BYE_CALLEE)
		return SD_BYE_BAD_ARGS;
	if (!(sd_bye_parties(d) & 1u << to))
		return SD_BYE_NO_INVITE;
	b->hop = as_callee ? &d->caller : &d->callee;
	if (!branch_ok(o->branch) || !hop_ok(b->hop) || (o->n_own && !o->own))
		return SD_BYE_BAD_ARGS;
	rc = read_record(b, d, role);
	/* the 2xx that made the dialog carries exactly one Contact (RFC 3261
	 * 13.3.1.4: MUST): one without made no dialog the gate can vouch
	 * for, whichever party the BYE would go to; the call is counted as
	 * not ended rather than half-trusted */
	if (rc == SD_BYE_OK)
		rc = plan_target(b, &b->resp);  /* also the callee's target */
	if (rc == SD_BYE_OK) {
		/* the callee's side speaks with the 2xx's To as From; toward a
		 * UAS's caller the To is the INVITE's From (the same value) */
		if (as_callee)
			rc = plan_parties(b, &b->resp.to, role == R_UAS ? &b->inv.from : &b->resp.from);
		else
			rc = plan_parties(b, &b->resp.from, &b->resp.to);
	}
	/* toward the caller: its Contact, from the INVITE */
	if (rc == SD_BYE_OK && as_callee)
		rc = plan_target(b, &b->inv);
	if (rc == SD_BYE_OK)
		rc = plan_route(b, role, to, o);
	if (rc == SD_BYE_OK)
		rc = plan_cseq(b, d, to);
	return rc;
}

/* ---- writing ---------------------------------------------------------- */

/* A URI as a Request-URI (RFC 3261 19.1.1's table: no method parameter,
 * no headers), or a remote target as the last Route (12.2.1.1). */
static void put_ruri(struct sd_out *w, struct sd_span u)
{
	struct sipuri s;

	if (!read_sip_uri(u, &s)) {     /* checked before: never here */
		w->full = true;
		return;
	}
	sd_put(w, u.p, s.params);
	for (size_t i = s.params; i < s.headers;) {
		size_t e = next_uri_param(u, i, s.headers);

		if (!uri_param_is(u, i + 1, e, "method"))
			sd_put(w, u.p + i, e - i);
		i = e;
	}
}

static void put_hdr(struct sd_out *w, const char *name, struct sd_span v)
{
	sd_puts(w, name);
	sd_put_unfolded(w, v);
	sd_puts(w, CRLF);
}

static void put_via(struct sd_out *w, const struct sd_hop *h, const char *branch)
{
	char ip[INET6_ADDRSTRLEN], port[8];

	inet_ntop(h->family == 6 ? AF_INET6 : AF_INET, h->server_addr, ip, sizeof(ip));
	snprintf(port, sizeof(port), "%u", h->server_port);
	sd_puts(w, "Via: SIP/2.0/UDP ");
	sd_puts(w, h->family == 6 ? "[" : "");
	sd_puts(w, ip);
	sd_puts(w, h->family == 6 ? "]:" : ":");
	sd_puts(w, port);
	sd_puts(w, ";branch=");
	sd_puts(w, branch);
	sd_puts(w, ";rport" CRLF);
}

/* The Reason text as a quoted-string: '"' and '\' escaped, controls
 * (a CR LF would end the header) as SP. */
static void put_reason(struct sd_out *w, const char *text)
{
	sd_puts(w, REASON_HEAD);
	for (; *text; text++) {
		if (*text == '"' || *text == '\\')
			sd_put(w, "\\", 1);
		sd_put(w, is_ctl(*text) ? " " : text, 1);
	}
	sd_puts(w, "\"" CRLF);
}

/* Request line and Route lines: loose routing puts the remote target in
 * the Request-URI and the route set in Route; a strict first hop (no lr)
 * takes the Request-URI itself, the target going last in Route
 * (RFC 3261 12.2.1.1). */
static void put_routing(struct sd_out *w, const struct bye *b, const char *branch)
{
	bool strict = b->n_route && !b->route[0]->lr;
	unsigned k = strict ? 1 : 0;

	sd_puts(w, "BYE ");
	put_ruri(w, strict ? b->route[0]->uri : b->target);
	sd_puts(w, " SIP/2.0" CRLF);
	put_via(w, b->hop, branch);
	sd_puts(w, "Max-Forwards: 70" CRLF);
	for (; k < b->n_route; k++)
		put_hdr(w, "Route: ", b->route[k]->text);
	if (strict) {
		sd_puts(w, "Route: <");
		put_ruri(w, b->target);
		sd_puts(w, ">" CRLF);
	}
}

static void write_bye(struct sd_out *w, const struct bye *b, const struct sd_bye_opts *o)
{
	char num[16];

	put_routing(w, b, o->branch);
	put_hdr(w, "From: ", b->from);
	put_hdr(w, "To: ", b->to);
	put_hdr(w, "Call-ID: ", b->callid);
	snprintf(num, sizeof(num), "%u", b->cseq);
	sd_puts(w, "CSeq: ");
	sd_puts(w, num);
	sd_puts(w, " BYE" CRLF);
	if (o->reason)
		put_reason(w, o->reason);
	sd_puts(w, "Content-Length: 0" CRLF CRLF);
}

/* The gate's scanner must read the BYE as a BYE with a To tag, of the
 * call the 2xx belongs to: what the far party's stack and the gate
 * itself (absorbing the answers) will key on. */
static bool reads_back(const char *out, size_t n, const struct bye *b)
{
	struct sd_result r;

	sd_parse(out, n, &r);
	return r.kind == SD_K_REQUEST && r.method == SD_M_BYE && (r.flags & SD_F_TO_TAG) &&
	       (r.flags & SD_F_CALLID) && (!b->callid_hash || r.call_id_hash == b->callid_hash);
}

enum sd_bye_outcome sd_build_bye(const struct sd_details *d, enum sd_bye_party to,
				 const struct sd_bye_opts *o, char *out, size_t cap,
				 size_t *outlen)
{
	struct sd_out w = { .p = out, .cap = cap };
	enum sd_bye_outcome rc;
	struct bye b;

	rc = plan(&b, d, to, o);
	if (rc != SD_BYE_OK)
		return rc;
	write_bye(&w, &b, o);
	if (w.full)
		return SD_BYE_TOO_BIG;
	if (!reads_back(out, w.n, &b))
		return SD_BYE_UNREADABLE;
	*outlen = w.n;
	return SD_BYE_OK;
}
