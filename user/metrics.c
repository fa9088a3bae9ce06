// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <net/if.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "gate.h"
#include "log.h"
#include "metrics.h"
#include "snapshot.h"

struct buf {
	char *p;
	size_t n, cap;
};

static void out(struct buf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->n >= b->cap)
		return;
	va_start(ap, fmt);
	n = vsnprintf(b->p + b->n, b->cap - b->n, fmt, ap);
	va_end(ap);
	b->n = n < 0 ? b->cap : b->n + n > b->cap ? b->cap : b->n + n;
}

static void head(struct buf *b, const char *name, const char *type, const char *help)
{
	out(b, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

#define RNAME_(name, help) #name,
static const char *const responder_names[SD_RC_MAX] = { SD_RESPONDER_COUNTERS(RNAME_) };
#undef RNAME_
#define RHELP_(name, help) help,
static const char *const responder_help[SD_RC_MAX] = { SD_RESPONDER_COUNTERS(RHELP_) };
#undef RHELP_
#define CHELP_(name, help) help,
static const char *const counter_help[SD_C_MAX] = { SD_COUNTERS(CHELP_) };
#undef CHELP_

/* Counters exposed with labels rather than one metric each (requests
 * and responses are the sums of sipdrain_requests_total and
 * sipdrain_responses_total). */
static int labelled(int i)
{
	return i == SD_C_requests || i == SD_C_responses ||
	       (i >= SD_C_req_invite && i <= SD_C_req_other) ||
	       (i >= SD_C_resp_1xx && i <= SD_C_resp_other) ||
	       (i >= SD_C_dlg_invite && i <= SD_C_dlg_other);
}

size_t sd_metrics_render(char *p, size_t cap)
{
	static const char *const classes[] = { "1xx", "2xx", "3xx", "4xx", "5xx", "6xx", "other" };
	struct buf b = { .p = p, .cap = cap };
	struct sd_snapshot s;
	const __u64 *c;
	char name[IF_NAMESIZE];
	double left;

	if (sd_snapshot_take(&s, true))
		return 0;
	c = (const __u64 *)&s.cnt;

	head(&b, "sipdrain_state", "gauge", "1 for the gate's current state");
	for (int i = 0; i < SD_STATE_MAX; i++)
		out(&b, "sipdrain_state{state=\"%s\"} %d\n", sd_state_names[i], s.cfg.state == (__u32)i);
	left = sd_seconds_left(&s);
	head(&b, "sipdrain_drain_deadline_seconds", "gauge",
	     "Unix time of the drain deadline (0: none)");
	out(&b, "sipdrain_drain_deadline_seconds %.3f\n",
	    s.cfg.deadline_ns && s.cfg.state == SD_DRAINING ? s.wall + left : 0.0);
	head(&b, "sipdrain_drain_seconds_left", "gauge", "Seconds until the drain deadline (0: none or past)");
	out(&b, "sipdrain_drain_seconds_left %.3f\n", s.cfg.state == SD_DRAINING && left > 0 ? left : 0.0);
	head(&b, "sipdrain_calls_cut", "gauge", "Calls still up when the last deadline struck");
	out(&b, "sipdrain_calls_cut %u\n", s.cfg.calls_cut);

	head(&b, "sipdrain_dialogs", "gauge", "Dialogs by state (learned: calls whose INVITE the gate "
	     "did not see; learning: in-dialog traffic from outside not yet answered; ended: not yet removed)");
	for (int i = 0; i < SD_D_MAX; i++)
		out(&b, "sipdrain_dialogs{state=\"%s\"} %llu\n", sd_dialog_state_names[i],
		    (unsigned long long)s.dlg.by_state[i]);
	out(&b, "sipdrain_dialogs{state=\"learned\"} %llu\n", (unsigned long long)s.dlg.learned);
	out(&b, "sipdrain_dialogs{state=\"learning\"} %llu\n", (unsigned long long)s.dlg.tentative);
	head(&b, "sipdrain_dialog_oldest_seconds", "gauge", "Age of the oldest dialog in each state");
	for (int i = 0; i < SD_D_ENDED; i++)
		out(&b, "sipdrain_dialog_oldest_seconds{state=\"%s\"} %.3f\n", sd_dialog_state_names[i],
		    s.dlg.oldest_ns[i] / 1e9);
	out(&b, "sipdrain_dialog_oldest_seconds{state=\"learned\"} %.3f\n", s.dlg.learned_oldest_ns / 1e9);
	head(&b, "sipdrain_dialog_table_max", "gauge", "Size of each dialog table (calls, attempts)");
	out(&b, "sipdrain_dialog_table_max %u\n", s.cfg.max_dialogs);
	head(&b, "sipdrain_dialog_table_entries", "gauge", "Entries in each dialog table");
	out(&b, "sipdrain_dialog_table_entries{table=\"calls\"} %llu\n", (unsigned long long)s.dlg.calls);
	out(&b, "sipdrain_dialog_table_entries{table=\"attempts\"} %llu\n",
	    (unsigned long long)s.dlg.attempts);
	out(&b, "sipdrain_dialog_table_entries{table=\"learning\"} %llu\n",
	    (unsigned long long)s.dlg.learning);
	{
		const char *why;
		__u64 hold = sd_early_offline_wait_ns(&s, &why);

		head(&b, "sipdrain_watch_start_timestamp_seconds", "gauge",
		     "Unix time the gate began watching this server (calls before it are learned)");
		out(&b, "sipdrain_watch_start_timestamp_seconds %.3f\n", s.meta.watch_start_unix_ns / 1e9);
		head(&b, "sipdrain_min_watch_seconds", "gauge",
		     "Early offline only after the gate has watched this long (0: off)");
		out(&b, "sipdrain_min_watch_seconds %.0f\n", s.cfg.min_watch_ns / 1e9);
		head(&b, "sipdrain_early_offline_wait_seconds", "gauge",
		     "Seconds before early offline may trust the picture of calls (min-watch, full call table)");
		out(&b, "sipdrain_early_offline_wait_seconds %.3f\n", hold / 1e9);
	}

	head(&b, "sipdrain_packets_total", "counter", "Packets the gate saw (ingress)");
	out(&b, "sipdrain_packets_total %llu\n", (unsigned long long)sd_counters_packets(&s.cnt));
	head(&b, "sipdrain_requests_total", "counter",
	     "SIP requests received, by method and the gate's verdict");
	for (int m = 0; m < SD_M_MAX; m++)
		for (int v = 0; v < SD_V_MAX; v++)
			out(&b, "sipdrain_requests_total{method=\"%s\",verdict=\"%s\"} %llu\n",
			    sd_method_names[m], sd_verdict_names[v],
			    (unsigned long long)c[SD_C_MV(m, v)]);
	head(&b, "sipdrain_in_dialog_requests_total", "counter",
	     "SIP requests received with a To tag, by method");
	for (int i = SD_C_dlg_invite; i <= SD_C_dlg_other; i++)
		out(&b, "sipdrain_in_dialog_requests_total{method=\"%s\"} %llu\n",
		    i == SD_C_dlg_other ? "other" : sd_method_names[SD_M_INVITE + i - SD_C_dlg_invite],
		    (unsigned long long)c[i]);
	head(&b, "sipdrain_responses_total", "counter", "SIP responses received, by status class");
	for (int i = SD_C_resp_1xx; i <= SD_C_resp_other; i++)
		out(&b, "sipdrain_responses_total{class=\"%s\"} %llu\n", classes[i - SD_C_resp_1xx],
		    (unsigned long long)c[i]);
	head(&b, "sipdrain_replies_total", "counter", "503s sent by the responder, by request method");
	for (int i = SD_RC_reply_invite; i <= SD_RC_reply_other; i++)
		out(&b, "sipdrain_replies_total{method=\"%s\"} %llu\n",
		    i == SD_RC_reply_other ? "other" : sd_method_names[SD_M_INVITE + i - SD_RC_reply_invite],
		    (unsigned long long)((const __u64 *)&s.rs.c)[i]);
	for (int i = 0; i < SD_C_MAX; i++) {
		char n[96];

		if (labelled(i))
			continue;
		snprintf(n, sizeof(n), "sipdrain_%s_total", sd_counter_names[i]);
		head(&b, n, "counter", counter_help[i]);
		out(&b, "%s %llu\n", n, (unsigned long long)c[i]);
	}
	for (int i = 0; i < SD_RC_MAX; i++) {
		char n[96];

		if (i >= SD_RC_reply_invite && i <= SD_RC_reply_other)
			continue;
		snprintf(n, sizeof(n), "sipdrain_responder_%s_total", responder_names[i]);
		head(&b, n, "counter", responder_help[i]);
		out(&b, "%s %llu\n", n, (unsigned long long)((const __u64 *)&s.rs.c)[i]);
	}
	head(&b, "sipdrain_responder_up", "gauge", "1 when a responder is running");
	out(&b, "sipdrain_responder_up %d\n", s.responder_alive);
	head(&b, "sipdrain_known_peers", "gauge",
	     "Sources the server answered within the peer window: 503s to them not limited per source");
	out(&b, "sipdrain_known_peers %llu\n", (unsigned long long)s.known_peers);
	head(&b, "sipdrain_peer_window_seconds", "gauge", "How long a source the server answered stays known (0: off)");
	out(&b, "sipdrain_peer_window_seconds %.0f\n", s.cfg.peer_window_ns / 1e9);
	head(&b, "sipdrain_interface_rx_queues", "gauge", "RX queues of each gated interface");
	for (int i = 0; i < SD_MAX_IFACES; i++)
		if (s.cfg.ifindex[i] && if_indextoname(s.cfg.ifindex[i], name))
			out(&b, "sipdrain_interface_rx_queues{interface=\"%s\"} %u\n", name,
			    s.rs.queues_total[i]);
	head(&b, "sipdrain_responder_queues_bound", "gauge",
	     "RX queues of each interface with a responder socket");
	for (int i = 0; i < SD_MAX_IFACES; i++)
		if (s.cfg.ifindex[i] && if_indextoname(s.cfg.ifindex[i], name))
			out(&b, "sipdrain_responder_queues_bound{interface=\"%s\"} %d\n", name,
			    s.responder_alive ? __builtin_popcountll(s.rs.queues_bound[i]) : 0);
	return b.n < b.cap ? b.n : 0;
}

int sd_metrics_listen(const char *spec)
{
	struct sockaddr_storage ss = { 0 };
	char host[128] = "127.0.0.1";
	const char *colon = strrchr(spec, ':');
	unsigned long port;
	socklen_t len;
	int fd, one = 1, err;
	char *end;

	if (colon) {
		size_t hl = colon - spec;

		if (hl >= sizeof(host)) {
			pr_warn("invalid metrics address '%s'\n", spec);
			return -EINVAL;
		}
		memcpy(host, spec, hl);
		host[hl] = 0;
		if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {
			memmove(host, host + 1, hl - 2);
			host[hl - 2] = 0;
		}
		spec = colon + 1;
	}
	port = strtoul(spec, &end, 10);
	if (!*spec || *end || port < 1 || port > 65535) {
		pr_warn("invalid metrics port '%s'\n", spec);
		return -EINVAL;
	}
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)&ss)->sin_addr) == 1) {
		((struct sockaddr_in *)&ss)->sin_family = AF_INET;
		((struct sockaddr_in *)&ss)->sin_port = htons(port);
		len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)&ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)&ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)&ss)->sin6_port = htons(port);
		len = sizeof(struct sockaddr_in6);
	} else {
		pr_warn("invalid metrics address '%s' (an IP address)\n", host);
		return -EINVAL;
	}
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16)) {
		err = -errno;
		pr_warn("metrics: cannot listen on %s:%lu: %s\n", host, port, strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

void sd_metrics_serve(int lfd)
{
	static char body[256 * 1024];
	char req[1024], hdr[256];
	int c;

	while ((c = accept4(lfd, NULL, NULL, SOCK_CLOEXEC)) >= 0) {
		struct timeval tv = { 0, 200000 };
		ssize_t n;
		size_t len = 0;
		int h;

		setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		n = recv(c, req, sizeof(req) - 1, 0);
		if (n > 0) {
			req[n] = 0;
			if (!strncmp(req, "GET /metrics ", 13) || !strncmp(req, "GET /metrics?", 13))
				len = sd_metrics_render(body, sizeof(body));
			if (len)
				h = snprintf(hdr, sizeof(hdr), "HTTP/1.1 200 OK\r\nContent-Type: text/plain; "
					     "version=0.0.4; charset=utf-8\r\nContent-Length: %zu\r\n"
					     "Connection: close\r\n\r\n", len);
			else
				h = snprintf(hdr, sizeof(hdr), "HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n"
					     "Connection: close\r\n\r\n");
			if (send(c, hdr, h, MSG_NOSIGNAL) == h && len)
				send(c, body, len, MSG_NOSIGNAL);
		}
		close(c);
	}
}
