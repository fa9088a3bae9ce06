// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* `sipdrain run --metrics`: /metrics, /ready and /healthz over HTTP.
 * libmicrohttpd serves them from a pool of its own threads, never from
 * run's AF_XDP loop: a client that connects and sends nothing, or sends
 * a byte a second, must not delay a single 503.  Every answer is read
 * from the pins at the time of the request; nothing is shared with the
 * loop but the pinned maps. */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <net/if.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <microhttpd.h>

#include "gate.h"
#include "http.h"
#include "log.h"
#include "metrics.h"
#include "responder.h"
#include "snapshot.h"

/* Two threads: a /metrics render (a walk of the call tables) on one
 * leaves the other for /ready and /healthz. */
#define HTTP_THREADS    2
/* Idle and slow clients are many before they are a problem: each costs
 * a socket and a small buffer, never a thread.  Split between the
 * threads; beyond it new connections wait in the listen queue. */
#define HTTP_CONN_LIMIT 1024
/* Seconds a connection may stay silent before it is closed. */
#define HTTP_TIMEOUT_S  10
/* /metrics: the first buffer (the exposition is about 14 KiB); grown
 * when short. */
#define METRICS_CAP     (64 * 1024)

struct sd_http {
	struct MHD_Daemon *d;
};

static const char text_type[] = "text/plain; charset=utf-8";
static const char metrics_type[] = "text/plain; version=0.0.4; charset=utf-8";

/* The address of "ADDR:PORT", "[V6ADDR]:PORT" or "PORT"; -EINVAL after
 * one line when it is none of these. */
static int parse_spec(const char *spec, struct sockaddr_storage *ss, socklen_t *len)
{
	char host[128] = "127.0.0.1";
	const char *colon = strrchr(spec, ':');
	unsigned long port;
	char *end;

	memset(ss, 0, sizeof(*ss));
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
	if (!*spec || *end || port < 1 || port > 65535 || !isdigit((unsigned char)*spec)) {
		pr_warn("invalid metrics port '%s'\n", spec);
		return -EINVAL;
	}
	if (inet_pton(AF_INET, host, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
		((struct sockaddr_in *)ss)->sin_family = AF_INET;
		((struct sockaddr_in *)ss)->sin_port = htons(port);
		*len = sizeof(struct sockaddr_in);
	} else if (inet_pton(AF_INET6, host, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
		((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
		((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
		*len = sizeof(struct sockaddr_in6);
	} else {
		pr_warn("invalid metrics address '%s' (an IP address)\n", host);
		return -EINVAL;
	}
	return 0;
}

bool sd_http_spec_valid(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;

	return !parse_spec(spec, &ss, &len);
}

/* Bound and listening, as the spec says; or -errno after one line. */
static int listen_on(const char *spec)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int fd, one = 1, err;

	err = parse_spec(spec, &ss, &len);
	if (err)
		return err;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		err = -errno;
		pr_warn("metrics: cannot create a socket: %s\n", strerror(errno));
		return err;
	}
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/* bound here rather than by MHD: EADDRINUSE and the like are one
	 * line before the gate is attached */
	if (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, SOMAXCONN)) {
		err = -errno;
		pr_warn("metrics: cannot listen on %s: %s\n", spec, strerror(errno));
		close(fd);
		return err;
	}
	return fd;
}

/* Queue status with body (copied) and the headers every answer has. */
static enum MHD_Result reply(struct MHD_Connection *c, unsigned status, const char *type,
			     void *body, size_t len, enum MHD_ResponseMemoryMode mode)
{
	struct MHD_Response *resp = MHD_create_response_from_buffer(len, body, mode);
	enum MHD_Result ret;

	if (!resp) {
		if (mode == MHD_RESPMEM_MUST_FREE)
			free(body);
		return MHD_NO;          /* MHD closes the connection */
	}
	/* a probe or a scrape must see now, never a cache's copy */
	if (MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store") != MHD_YES ||
	    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, type) != MHD_YES ||
	    (status == MHD_HTTP_METHOD_NOT_ALLOWED &&
	     MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD") != MHD_YES)) {
		MHD_destroy_response(resp);
		return MHD_NO;
	}
	ret = MHD_queue_response(c, status, resp);
	MHD_destroy_response(resp);
	return ret;
}

static enum MHD_Result reply_line(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

static enum MHD_Result reply_line(struct MHD_Connection *c, unsigned status, const char *fmt, ...)
{
	char line[1024];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n < 0)
		n = 0;
	if ((size_t)n >= sizeof(line))
		n = sizeof(line) - 1;
	/* one line, whatever a captured message ended with */
	while (n && line[n - 1] == '\n')
		n--;
	line[n++] = '\n';
	return reply(c, status, text_type, line, n, MHD_RESPMEM_MUST_COPY);
}

/* The config of the gate under the pin dir (layout checked), as run's
 * loop sees it; else why not, in why (one line). */
static int read_config(struct sd_config *cfg, char *why, size_t cap)
{
	int fd, err;

	sd_log_capture(why, cap);
	fd = sd_open_config();
	err = fd < 0 ? fd : sd_config_get(fd, cfg);
	sd_log_capture(NULL, 0);
	if (fd >= 0)
		close(fd);
	if (err && !why[0])
		snprintf(why, cap, "cannot read the config under %s: %s", sd_pin_dir, strerror(-err));
	return err;
}

static enum MHD_Result metrics(struct MHD_Connection *c)
{
	char why[512] = "";
	size_t cap = METRICS_CAP, n = 0;
	char *body = NULL;

	/* the exposition grows with the interfaces: twice at most, as it
	 * may grow again between two renders */
	for (int i = 0; i < 3; i++) {
		char *p = realloc(body, cap);

		if (!p) {
			free(body);
			return reply_line(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "out of memory");
		}
		body = p;
		sd_log_capture(why, sizeof(why));
		n = sd_metrics_render(body, cap);
		sd_log_capture(NULL, 0);
		if (n < cap)
			break;
		cap = n + 4096;
	}
	if (!n || n >= cap) {
		free(body);
		return reply_line(c, MHD_HTTP_SERVICE_UNAVAILABLE, "%s", why[0] ? why : n ?
				  "the exposition keeps growing" : "cannot read the gate");
	}
	return reply(c, MHD_HTTP_OK, metrics_type, body, n, MHD_RESPMEM_MUST_FREE);
}

/* What a load balancer asks: should new calls come here?  The config
 * map alone (after the check of the pins' layout, a few system calls):
 * never a walk of the call tables. */
static enum MHD_Result ready(struct MHD_Connection *c)
{
	struct sd_config cfg;
	char why[512] = "";
	__u64 now = sd_now_ns();
	double into, left;

	if (read_config(&cfg, why, sizeof(why)))
		return reply_line(c, MHD_HTTP_SERVICE_UNAVAILABLE, "unknown: %s", why);
	switch (cfg.state) {
	case SD_SERVING:
		return reply_line(c, MHD_HTTP_OK, "serving");
	case SD_DRAINING:
		into = now > cfg.drain_started_ns ? (now - cfg.drain_started_ns) / 1e9 : 0;
		if (!cfg.deadline_ns)
			return reply_line(c, MHD_HTTP_SERVICE_UNAVAILABLE, "draining: %.0f s into the "
					  "drain, no deadline (until 'sipdrain resume')", into);
		left = ((double)cfg.deadline_ns - (double)now) / 1e9;
		return reply_line(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "draining: %.0f s into the drain, deadline in %.0f s", into,
				  left > 0 ? left : 0);
	case SD_OFFLINE:
		if (cfg.offline_reason == SD_OR_DEADLINE)
			return reply_line(c, MHD_HTTP_SERVICE_UNAVAILABLE,
					  "offline: deadline, %u call%s cut", cfg.calls_cut,
					  cfg.calls_cut == 1 ? "" : "s");
		if (cfg.offline_reason == SD_OR_LAST_CALL)
			return reply_line(c, MHD_HTTP_SERVICE_UNAVAILABLE, "offline: the last call ended");
		return reply_line(c, MHD_HTTP_SERVICE_UNAVAILABLE, "offline");
	default:
		return reply_line(c, MHD_HTTP_SERVICE_UNAVAILABLE, "unknown: state %u", cfg.state);
	}
}

/* Is what the gate redirects answered?  The gate attached and readable,
 * a live responder, a socket on every RX queue of every interface. */
static enum MHD_Result healthz(struct MHD_Connection *c)
{
	struct sd_config cfg;
	struct sd_responder rs;
	char why[512] = "", name[IF_NAMESIZE];
	__u32 zero = 0;
	int fd, err;

	if (read_config(&cfg, why, sizeof(why)))
		return reply_line(c, MHD_HTTP_SERVICE_UNAVAILABLE, "gate: %s", why);
	fd = sd_pinned_map_fd(SD_STR(SD_MAP_RESPONDER));
	err = fd < 0 ? fd : bpf_map_lookup_elem(fd, &zero, &rs) ? -errno : 0;
	if (fd >= 0)
		close(fd);
	if (err)
		return reply_line(c, MHD_HTTP_SERVICE_UNAVAILABLE, "gate: cannot read %s/%s: %s",
				  sd_pin_dir, SD_STR(SD_MAP_RESPONDER), strerror(-err));
	if (!sd_responder_alive(&rs)) {
		__u64 now = sd_now_ns();

		if (!rs.pid)
			return reply_line(c, MHD_HTTP_SERVICE_UNAVAILABLE, "responder: none running");
		if (kill(rs.pid, 0) && errno == ESRCH)
			return reply_line(c, MHD_HTTP_SERVICE_UNAVAILABLE,
					  "responder: pid %u is gone", rs.pid);
		return reply_line(c, MHD_HTTP_SERVICE_UNAVAILABLE,
				  "responder: pid %u has not reported for %.1f s (its data path is stuck)",
				  rs.pid, now > rs.heartbeat_ns ? (now - rs.heartbeat_ns) / 1e9 : 0);
	}
	for (int s = 0; s < SD_MAX_IFACES; s++) {
		int want, bound;

		if (!cfg.ifindex[s])
			continue;
		if (!if_indextoname(cfg.ifindex[s], name))
			return reply_line(c, MHD_HTTP_SERVICE_UNAVAILABLE,
					  "interface %u of the gate is gone", cfg.ifindex[s]);
		/* the queues the interface has now: channels added since the
		 * responder bound would pass what the gate refuses */
		want = sd_rx_queues(name);
		if ((__u32)want < rs.queues_total[s])
			want = rs.queues_total[s];
		bound = __builtin_popcountll(rs.queues_bound[s] &
					     (want >= 64 ? ~0ULL : (1ULL << want) - 1));
		if (bound < want)
			return reply_line(c, MHD_HTTP_SERVICE_UNAVAILABLE,
					  "%s: responder bound on %d of %d RX queues", name, bound, want);
	}
	return reply_line(c, MHD_HTTP_OK, "ok");
}

static enum MHD_Result answer(void *cls, struct MHD_Connection *c, const char *url,
			      const char *method, const char *version, const char *upload,
			      size_t *upload_size, void **ctx)
{
	enum MHD_Result (*page)(struct MHD_Connection *c);

	(void)cls, (void)version, (void)upload, (void)upload_size, (void)ctx;
	if (!strcmp(url, "/metrics"))
		page = metrics;
	else if (!strcmp(url, "/ready"))
		page = ready;
	else if (!strcmp(url, "/healthz"))
		page = healthz;
	else
		return reply_line(c, MHD_HTTP_NOT_FOUND, "not found: /metrics, /ready, /healthz");
	/* answered at once, on the first call: a body sent along is never
	 * read (MHD closes the connection after the reply) */
	if (strcmp(method, MHD_HTTP_METHOD_GET) && strcmp(method, MHD_HTTP_METHOD_HEAD))
		return reply_line(c, MHD_HTTP_METHOD_NOT_ALLOWED, "method not allowed: GET or HEAD");
	return page(c);
}

/* MHD's messages (a client's bad request, a connection dropped) are
 * chatter for an operator: the client gets its 4xx. */
static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	char msg[256];

	(void)cls;
	vsnprintf(msg, sizeof(msg), fmt, ap);
	pr_debug("http: %s%s", msg, msg[0] && msg[strlen(msg) - 1] == '\n' ? "" : "\n");
}

/* Room for every connection the limit allows beside run's own files
 * (sockets, maps): the soft limit is often 1024. */
static void raise_nofile(void)
{
	struct rlimit rl;
	rlim_t want = HTTP_CONN_LIMIT + 256;

	if (getrlimit(RLIMIT_NOFILE, &rl) || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < want ? rl.rlim_max : want;
	if (setrlimit(RLIMIT_NOFILE, &rl))
		pr_debug("http: cannot raise the open files limit: %s\n", strerror(errno));
}

struct sd_http *sd_http_start(const char *spec)
{
	struct sd_http *h;
	sigset_t all, old;
	int fd;

	fd = listen_on(spec);
	if (fd < 0)
		return NULL;
	h = calloc(1, sizeof(*h));
	if (!h) {
		pr_warn("metrics: out of memory\n");
		close(fd);
		return NULL;
	}
	raise_nofile();
	/* MHD's threads inherit this mask: SIGINT and SIGTERM stay with the
	 * main thread, whose loop counts them */
	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	h->d = MHD_start_daemon(MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG, 0, NULL, NULL,
				answer, NULL,
				/* first: MHD prints what the options after it say */
				MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
				MHD_OPTION_LISTEN_SOCKET, fd,
				MHD_OPTION_THREAD_POOL_SIZE, (unsigned int)HTTP_THREADS,
				MHD_OPTION_CONNECTION_LIMIT, (unsigned int)HTTP_CONN_LIMIT,
				MHD_OPTION_CONNECTION_TIMEOUT, (unsigned int)HTTP_TIMEOUT_S,
				MHD_OPTION_END);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!h->d) {
		pr_warn("metrics: cannot start the HTTP server on %s (libmicrohttpd; -v says why)\n",
			spec);
		close(fd);
		free(h);
		return NULL;
	}
	return h;
}

void sd_http_stop(struct sd_http *h)
{
	if (!h)
		return;
	/* closes the listening socket too: it is MHD's once started */
	MHD_stop_daemon(h->d);
	free(h);
}
