/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Reading SIP header sections as they were written, and writing header
 * lines with a hard end: what the 503 builder (sip_reply.c) and the BYE
 * builder (sip_bye.c) share.  Nothing here allocates; every span points
 * into the caller's message. */
#ifndef SD_SIP_HDR_H
#define SD_SIP_HDR_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

/* An address and UDP port: where a request came from (received= and
 * rport= are about it), where its reply goes, or one of the server's
 * own. */
struct sd_peer {
	int family;             /* AF_INET or AF_INET6 */
	__u8 addr[16];
	__u16 port;             /* host order */
};

/* Text in a message: may contain folds (CRLF or LF followed by SP/HT),
 * which are read as one SP. */
struct sd_span {
	const char *p;
	size_t n;
};

/* One header line as the message wrote it. */
struct sd_hline {
	struct sd_span name;    /* "Via", "v", "VIA": copied as is */
	struct sd_span value;   /* trimmed */
	bool sp;                /* LWS stood between the colon and the value */
};

bool sd_is_lws(char c);
struct sd_span sd_trim(struct sd_span s);
struct sd_span sd_sub(struct sd_span s, size_t from, size_t to);
/* The header name n is `full` (any case) or its compact form. */
bool sd_name_is(struct sd_span n, const char *full, char compact);

/* The header line at *i.  1: h filled (name.n == 0 for a line without
 * a name and colon, which nothing reads), *i past it; 0: the empty line
 * that ends the header section; -1: the section never ends. */
int sd_next_line(const char *m, size_t len, size_t *i, struct sd_hline *h);

/* Length of a header value's first element: up to a comma outside
 * quotes and <...>. */
size_t sd_first_value(struct sd_span v);

/* Would text appended to this value stand outside quotes and <...>? */
bool sd_balanced(struct sd_span v);

size_t sd_skip_lws(struct sd_span v, size_t i);
/* The quoted string at v.p[i] == '"': the index past its end. */
size_t sd_skip_quoted(struct sd_span v, size_t i);

/* One ;param of a value, offsets into it.  Between params anything may
 * stand (RFC 2543 comments): sd_next_param() skips it. */
struct sd_param {
	size_t at;              /* the ';' */
	struct sd_span name;
	struct sd_span val;     /* empty when there is no '=' */
	size_t end;             /* past the value (or the name) */
};

bool sd_next_param(struct sd_span v, size_t *pos, struct sd_param *p);
bool sd_is_param(const struct sd_param *p, const char *name);

/* The host at v.p[*pos]: an IPv6 reference ([...], *host without the
 * brackets) or up to one of the characters in `stops` (or the end);
 * *pos past it.  False when a '[' never closes. */
bool sd_read_host(struct sd_span v, size_t *pos, const char *stops, struct sd_span *host);

/* An IP literal (an IPv6 one with or without []) equal to this
 * address? */
bool sd_is_addr(struct sd_span s, const struct sd_peer *a);

/* Output with a hard end: every write checks it; `full` once one did
 * not fit (the output is then unusable). */
struct sd_out {
	char *p;
	size_t n, cap;
	bool full;
};

void sd_put(struct sd_out *o, const char *s, size_t n);
void sd_puts(struct sd_out *o, const char *s);
/* A value, each fold (CR? LF SP/HT...) read as one SP: never longer
 * than the message's text. */
void sd_put_unfolded(struct sd_out *o, struct sd_span s);
/* A header line's name as written and ": " or ":" as the message had
 * white space after the colon or not. */
void sd_put_name(struct sd_out *o, const struct sd_hline *h);
/* The whole line: name, value unfolded, CRLF. */
void sd_put_line(struct sd_out *o, const struct sd_hline *h);

#endif
