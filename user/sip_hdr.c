// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* Header-section reading and bounded writing shared by the 503 and BYE
 * builders (see sip_hdr.h). */
#include <arpa/inet.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

#include "sip_hdr.h"
#include "sip_scan.h"

bool sd_is_lws(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct sd_span sd_trim(struct sd_span s)
{
	while (s.n && sd_is_lws(s.p[0]))
		s.p++, s.n--;
	while (s.n && sd_is_lws(s.p[s.n - 1]))
		s.n--;
	return s;
}

struct sd_span sd_sub(struct sd_span s, size_t from, size_t to)
{
	return (struct sd_span){ s.p + from, to - from };
}

bool sd_name_is(struct sd_span n, const char *full, char compact)
{
	return (n.n == 1 && (n.p[0] | 0x20) == compact) ||
	       (n.n == strlen(full) && !strncasecmp(n.p, full, n.n));
}

int sd_next_line(const char *m, size_t len, size_t *i, struct sd_hline *h)
{
	size_t name = *i, j = *i, line_end;

	memset(h, 0, sizeof(*h));
	if (j >= len)
		return -1;
	if (m[j] == '\n' || (m[j] == '\r' && j + 1 < len && m[j + 1] == '\n'))
		return 0;
	while (j < len && sd_is_token(m[j]))
		j++;
	h->name = (struct sd_span){ m + name, j - name };
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
		h->sp = j + 1 < line_end && sd_is_lws(m[j + 1]);
		h->value = sd_trim((struct sd_span){ m + j + 1, line_end - j - 1 });
	} else {
		h->name.n = 0;
	}
	*i = line_end + 1;
	return 1;
}

/* Scan a header value as RFC 3261 7.3.1 reads it: a quoted string (with
 * its quoted pairs) and a <...> URI are opaque, so a comma inside them
 * separates nothing.  Stops at the first comma outside them when asked;
 * *open: does the text scanned leave a quote or a <...> open? */
static size_t scan_value(struct sd_span v, bool stop_at_comma, bool *open)
{
	bool quote = false, angle = false;
	size_t i;

	for (i = 0; i < v.n; i++) {
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
		} else if (c == ',' && stop_at_comma) {
			break;
		}
	}
	if (open)
		*open = quote || angle;
	return i < v.n ? i : v.n;
}

size_t sd_first_value(struct sd_span v)
{
	return scan_value(v, true, NULL);
}

void sd_put(struct sd_out *o, const char *s, size_t n)
{
	if (o->n + n > o->cap) {
		o->full = true;
		return;
	}
	memcpy(o->p + o->n, s, n);
	o->n += n;
}

void sd_puts(struct sd_out *o, const char *s)
{
	sd_put(o, s, strlen(s));
}

void sd_put_unfolded(struct sd_out *o, struct sd_span s)
{
	for (size_t i = 0; i < s.n; i++) {
		if (s.p[i] == '\r' || s.p[i] == '\n') {
			while (i + 1 < s.n && sd_is_lws(s.p[i + 1]))
				i++;
			sd_put(o, " ", 1);
			continue;
		}
		sd_put(o, s.p + i, 1);
	}
}

/* A header line as the request wrote it: its name, a SP only where the
 * request had white space after the colon, the value unfolded, CRLF.
 * With CRLF line ends it is never longer than the request's line. */
void sd_put_name(struct sd_out *o, const struct sd_hline *h)
{
	sd_put(o, h->name.p, h->name.n);
	sd_puts(o, h->sp ? ": " : ":");
}

void sd_put_line(struct sd_out *o, const struct sd_hline *h)
{
	sd_put_name(o, h);
	sd_put_unfolded(o, h->value);
	sd_puts(o, "\r\n");
}

bool sd_is_param(const struct sd_param *p, const char *name)
{
	return p->name.n == strlen(name) && !strncasecmp(p->name.p, name, p->name.n);
}

size_t sd_skip_lws(struct sd_span v, size_t i)
{
	while (i < v.n && sd_is_lws(v.p[i]))
		i++;
	return i;
}

size_t sd_skip_quoted(struct sd_span v, size_t i)
{
	for (i++; i < v.n && v.p[i] != '"'; i++)
		if (v.p[i] == '\\')
			i++;
	return i < v.n ? i + 1 : v.n;
}

bool sd_next_param(struct sd_span v, size_t *pos, struct sd_param *p)
{
	size_t i = *pos, s;

	while (i < v.n && v.p[i] != ';')
		i = v.p[i] == '"' ? sd_skip_quoted(v, i) : i + 1;
	if (i >= v.n)
		return false;
	p->at = i;
	i = sd_skip_lws(v, i + 1);
	s = i;
	while (i < v.n && sd_is_token(v.p[i]))
		i++;
	p->name = sd_sub(v, s, i);
	p->end = i;
	p->val = (struct sd_span){ v.p + i, 0 };
	i = sd_skip_lws(v, i);
	if (i < v.n && v.p[i] == '=') {
		i = s = sd_skip_lws(v, i + 1);
		/* gen-value: token, host (IPv6 reference included) or
		 * quoted-string */
		if (i < v.n && v.p[i] == '"')
			i = sd_skip_quoted(v, i);
		else
			while (i < v.n && v.p[i] != ';' && !sd_is_lws(v.p[i]))
				i++;
		p->val = sd_sub(v, s, i);
		p->end = i;
	}
	*pos = p->end;
	return true;
}

bool sd_read_host(struct sd_span v, size_t *pos, const char *stops, struct sd_span *host)
{
	size_t i = *pos;

	if (i < v.n && v.p[i] == '[') {
		while (i < v.n && v.p[i] != ']')
			i++;
		if (i >= v.n)
			return false;
		*host = sd_sub(v, *pos + 1, i);
		*pos = i + 1;
		return true;
	}
	/* a NUL is never a stop (strchr would find the terminator) */
	while (i < v.n && (!v.p[i] || !strchr(stops, v.p[i])))
		i++;
	*host = sd_sub(v, *pos, i);
	*pos = i;
	return true;
}

bool sd_is_addr(struct sd_span s, const struct sd_peer *a)
{
	char text[INET6_ADDRSTRLEN + 2];
	__u8 bin[16];

	if (s.n >= 2 && s.p[0] == '[' && s.p[s.n - 1] == ']')
		s = sd_sub(s, 1, s.n - 1);
	if (!s.n || s.n >= sizeof(text))
		return false;
	memcpy(text, s.p, s.n);
	text[s.n] = 0;
	return inet_pton(a->family, text, bin) == 1 &&
	       !memcmp(bin, a->addr, a->family == AF_INET ? 4 : 16);
}

bool sd_balanced(struct sd_span v)
{
	bool open;

	scan_value(v, false, &open);
	return !open;
}
