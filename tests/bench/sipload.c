// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * sipload: the project's SIP load generator.  Sends realistic INVITEs
 * (about 700 bytes, SDP body, a distinct Call-ID and branch each) with
 * sendmmsg, as fast as it can or at a given rate, bounded in count and
 * time, and counts the responses that come back (recvmmsg, own thread).
 *
 * usage: sipload -d DST_IP [-p 5060] -s SRC_IP [-P SRC_PORT] [-n MAX]
 *                [-t SECONDS] [-r RATE] [-w WARMUP_SECONDS] [-b]
 * -b sends in-dialog BYEs (To tag, Route) instead of new INVITEs.
 * Prints one JSON object: sent, replies, replies_503, seconds, rates.
 * Replies are counted from the end of the warm-up to the end of sending
 * plus 0.5 s, sends over the same window.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define BATCH 32
#define MAXMSG 1400

static atomic_ulong replies, replies_503, replies_all, measuring;
static atomic_int done;
static int sock;

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void *receiver(void *arg)
{
	static char buf[BATCH][2048];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	struct timespec to = { 0, 100000000 };

	(void)arg;
	for (int i = 0; i < BATCH; i++) {
		iov[i].iov_base = buf[i];
		iov[i].iov_len = sizeof(buf[i]);
		memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
		m[i].msg_hdr.msg_iov = &iov[i];
		m[i].msg_hdr.msg_iovlen = 1;
	}
	while (!atomic_load(&done)) {
		int n = recvmmsg(sock, m, BATCH, MSG_WAITFORONE, &to);

		if (n > 0)
			atomic_fetch_add(&replies_all, n);
		if (n <= 0 || !atomic_load(&measuring))
			continue;
		for (int i = 0; i < n; i++) {
			atomic_fetch_add(&replies, 1);
			if (m[i].msg_len > 12 && !memcmp(buf[i], "SIP/2.0 503 ", 12))
				atomic_fetch_add(&replies_503, 1);
		}
	}
	return NULL;
}

static int bye_mode;

/* An in-dialog BYE of call seq, as a caller sends it through a proxy. */
static int build_bye(char *out, const char *src, int sport, const char *dst, int dport,
		     unsigned long seq, int v6)
{
	const char *l = v6 ? "[" : "", *r = v6 ? "]" : "";

	return snprintf(out, MAXMSG,
		"BYE sip:+15551230000@%s%s%s:%d SIP/2.0\r\n"
		"Via: SIP/2.0/UDP %s%s%s:%d;branch=z9hG4bK-%016lx;rport\r\n"
		"Max-Forwards: 70\r\n"
		"Route: <sip:%s%s%s;lr>\r\n"
		"From: \"Load\" <sip:+15559870000@%s%s%s>;tag=%08lx\r\n"
		"To: <sip:+15551230000@%s%s%s>;tag=callee-%08lx\r\n"
		"Call-ID: %016lx-sipload@%s%s%s\r\n"
		"CSeq: 2 BYE\r\n"
		"User-Agent: sipload\r\n"
		"Content-Length: 0\r\n\r\n",
		l, dst, r, dport, l, src, r, sport, seq, l, dst, r, l, src, r, seq & 0xffffffff,
		l, dst, r, seq & 0xffffffff, seq, l, src, r);
}

static int build(char *out, const char *src, int sport, const char *dst, int dport,
		 unsigned long seq, int v6)
{
	if (bye_mode)
		return build_bye(out, src, sport, dst, dport, seq, v6);
	{
	char body[512];
	int bl = snprintf(body, sizeof(body),
		"v=0\r\no=sipload 2890844526 2890844526 IN IP%c %s\r\ns=load\r\n"
		"c=IN IP%c %s\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 18 101\r\n"
		"a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:18 G729/8000\r\n"
		"a=rtpmap:101 telephone-event/8000\r\na=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n",
		v6 ? '6' : '4', src, v6 ? '6' : '4', src);
	const char *l = v6 ? "[" : "", *r = v6 ? "]" : "";

	return snprintf(out, MAXMSG,
		"INVITE sip:+15551230000@%s%s%s:%d SIP/2.0\r\n"
		"Via: SIP/2.0/UDP %s%s%s:%d;branch=z9hG4bK-%016lx;rport\r\n"
		"Max-Forwards: 70\r\n"
		"From: \"Load\" <sip:+15559870000@%s%s%s>;tag=%08lx\r\n"
		"To: <sip:+15551230000@%s%s%s>\r\n"
		"Call-ID: %016lx-sipload@%s%s%s\r\n"
		"CSeq: 1 INVITE\r\n"
		"Contact: <sip:load@%s%s%s:%d>\r\n"
		"User-Agent: sipload\r\n"
		"Allow: INVITE, ACK, CANCEL, BYE, OPTIONS\r\n"
		"Content-Type: application/sdp\r\n"
		"Content-Length: %d\r\n\r\n%s",
		l, dst, r, dport, l, src, r, sport, seq, l, src, r, seq & 0xffffffff,
		l, dst, r, seq, l, src, r, l, src, r, sport, bl, body);
	}
}

int main(int argc, char **argv)
{
	const char *dst = NULL, *src = NULL;
	int dport = 5060, sport = 5070, opt, v6;
	unsigned long max = 1000000, rate = 0, sent = 0, sent_meas = 0;
	double secs = 5, warm = 1, t0, tw, tend;
	struct sockaddr_storage da = { 0 }, sa = { 0 };
	socklen_t alen;
	static char msgs[BATCH][MAXMSG];
	struct mmsghdr m[BATCH];
	struct iovec iov[BATCH];
	pthread_t th;
	int bufsz = 8 << 20;

	while ((opt = getopt(argc, argv, "d:p:s:P:n:t:r:w:b")) != -1) {
		switch (opt) {
		case 'b': bye_mode = 1; break;
		case 'd': dst = optarg; break;
		case 'p': dport = atoi(optarg); break;
		case 's': src = optarg; break;
		case 'P': sport = atoi(optarg); break;
		case 'n': max = strtoul(optarg, NULL, 10); break;
		case 't': secs = atof(optarg); break;
		case 'r': rate = strtoul(optarg, NULL, 10); break;
		case 'w': warm = atof(optarg); break;
		default:
			fprintf(stderr, "usage: sipload -d DST -s SRC [-p PORT] [-P SPORT] [-n MAX] [-t S] [-r RATE] [-w S]\n");
			return 2;
		}
	}
	if (!dst || !src || secs <= 0 || secs > 120 || max > 100000000) {
		fprintf(stderr, "sipload: -d and -s are required; -t at most 120 s\n");
		return 2;
	}
	v6 = strchr(dst, ':') != NULL;
	if (v6) {
		struct sockaddr_in6 *d = (void *)&da, *s = (void *)&sa;

		d->sin6_family = s->sin6_family = AF_INET6;
		d->sin6_port = htons(dport);
		s->sin6_port = htons(sport);
		if (inet_pton(AF_INET6, dst, &d->sin6_addr) != 1 || inet_pton(AF_INET6, src, &s->sin6_addr) != 1)
			return fprintf(stderr, "sipload: bad address\n"), 2;
		alen = sizeof(*d);
	} else {
		struct sockaddr_in *d = (void *)&da, *s = (void *)&sa;

		d->sin_family = s->sin_family = AF_INET;
		d->sin_port = htons(dport);
		s->sin_port = htons(sport);
		if (inet_pton(AF_INET, dst, &d->sin_addr) != 1 || inet_pton(AF_INET, src, &s->sin_addr) != 1)
			return fprintf(stderr, "sipload: bad address\n"), 2;
		alen = sizeof(*d);
	}
	sock = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
	if (sock < 0 || bind(sock, (void *)&sa, alen)) {
		fprintf(stderr, "sipload: socket/bind: %s\n", strerror(errno));
		return 1;
	}
	setsockopt(sock, SOL_SOCKET, SO_RCVBUF, &bufsz, sizeof(bufsz));
	setsockopt(sock, SOL_SOCKET, SO_SNDBUF, &bufsz, sizeof(bufsz));
	{       /* recvmmsg's own timeout waits for a first datagram: bound it */
		struct timeval tv = { 0, 100000 };

		setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	}
	pthread_create(&th, NULL, receiver, NULL);

	t0 = now();
	tw = t0 + warm;
	tend = tw + secs;
	while (sent < max) {
		double t = now();
		int n = BATCH;

		if (t >= tend)
			break;
		if (t >= tw && !atomic_load(&measuring)) {
			atomic_store(&measuring, 1);
			sent_meas = sent;
		}
		if (rate) {             /* paced: never ahead of rate * elapsed */
			double due = (t - t0) * rate;

			if (sent >= due) {
				usleep(200);
				continue;
			}
			if (due - sent < n)
				n = (int)(due - sent) ?: 1;
		}
		if (max - sent < (unsigned long)n)
			n = max - sent;
		for (int i = 0; i < n; i++) {
			iov[i].iov_base = msgs[i];
			iov[i].iov_len = build(msgs[i], src, sport, dst, dport, sent + i, v6);
			memset(&m[i].msg_hdr, 0, sizeof(m[i].msg_hdr));
			m[i].msg_hdr.msg_iov = &iov[i];
			m[i].msg_hdr.msg_iovlen = 1;
			m[i].msg_hdr.msg_name = &da;
			m[i].msg_hdr.msg_namelen = alen;
		}
		n = sendmmsg(sock, m, n, 0);
		if (n > 0)
			sent += n;
		else
			usleep(100);
	}
	if (!atomic_load(&measuring)) {         /* ended inside the warm-up */
		atomic_store(&measuring, 1);
		sent_meas = 0;
		tw = t0;
	}
	tend = now();
	usleep(500000);                         /* late replies */
	atomic_store(&done, 1);
	pthread_join(th, NULL);
	{
		double w = tend - tw;
		unsigned long r = atomic_load(&replies), r503 = atomic_load(&replies_503);
		struct rusage ru;

		getrusage(RUSAGE_SELF, &ru);
		printf("{\"sent\":%lu,\"sent_measured\":%lu,\"replies\":%lu,\"replies_503\":%lu,"
		       "\"replies_total\":%lu,\"seconds\":%.3f,\"send_rate\":%.0f,\"reply_rate\":%.0f,"
		       "\"msg_bytes\":%d,\"cpu_seconds\":%.3f}\n",
		       sent, sent - sent_meas, r, r503, atomic_load(&replies_all), w,
		       (sent - sent_meas) / w, r / w, build(msgs[0], src, sport, dst, dport, 0, v6),
		       ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
		       ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6);
	}
	return 0;
}
