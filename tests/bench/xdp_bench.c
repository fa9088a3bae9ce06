// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/*
 * The gate's cost per packet, through BPF_PROG_TEST_RUN (batches of REPEAT
 * runs timed in this thread's CPU time, several rounds, median), beside a
 * trivial count-and-pass program measured in the same run.  Prints one
 * JSON object: ns per packet for each message and for the reference.
 *
 * usage: xdp_bench TRIVIAL_BPF_OBJECT [REPEAT [GATE_2K_OBJECT [GATE_NOCAPTURE_OBJECT]]]
 *
 * With GATE_2K_OBJECT (the gate built with the scan budget it had before,
 * SD_SCAN_MAX=2048), the same INVITEs run through both builds, round by
 * round, to show what the longer budget costs; with GATE_NOCAPTURE_OBJECT
 * (SD_NO_CAPTURE), what the calls' details capture costs.  Both run on
 * the gate's own maps.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>

#include "log.h"
#include "sipdrain.skel.h"
#include "packet.h"
#include "snapshot.h"
#include "tester.h"

#define ROUNDS 7
/* paired rows: more, shorter rounds (the same runs in all), each the
 * gate, the other build, the gate again: a drift of the host's speed
 * within a round cancels out */
#define PAIRED_ROUNDS 21

static unsigned repeat;
static int trivial_fd;
static __u8 trivial_frame[256];
static size_t trivial_len;

/* The gate's capture ring (INVITEs and 2xx copied for the calls'
 * details), read while the runs go on, as `run`'s reader thread reads
 * it: a ring left full would time the cheaper path of a lost record.
 * (Batches small enough for the ring cost more than they measure: each
 * test run with repeat > 1 waits for an RCU grace period, ~30 ms here.) */
static struct ring_buffer *capture_rb;
static volatile int reader_stop;

static int drop_record(void *ctx, void *data, size_t size)
{
	(void)ctx, (void)data, (void)size;
	return 0;
}

static void *reader(void *arg)
{
	struct ring_buffer *rb = arg;

	while (!reader_stop) {
		ring_buffer__poll(rb, SD_CAPTURE_POLL_MS);
		ring_buffer__consume(rb);
	}
	return NULL;
}

static double once_n(int fd, const void *frame, size_t len, unsigned n)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = frame, .data_size_in = len,
		    .repeat = n);
	struct timespec a, b;

	/* the kernel's own average is whole nanoseconds: time the whole
	 * batch instead (one syscall per n runs), in this thread's CPU
	 * time: a test run with repeat > 1 sleeps for RCU grace periods
	 * around its loop (switching the XDP dispatcher), which wall time
	 * would count, rounded to the tick */
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &a);
	if (bpf_prog_test_run_opts(fd, &o)) {
		fprintf(stderr, "xdp_bench: test run: %s\n", strerror(errno));
		exit(1);
	}
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &b);
	return ((b.tv_sec - a.tv_sec) * 1e9 + (b.tv_nsec - a.tv_nsec)) / n;
}

static double once(int fd, const void *frame, size_t len)
{
	return once_n(fd, frame, len, repeat);
}

static double median(double *v, int n)
{
	double t;

	for (int i = 0; i < n; i++)
		for (int j = i + 1; j < n; j++)
			if (v[j] < v[i])
				t = v[i], v[i] = v[j], v[j] = t;
	return v[n / 2];
}

/* One case: each round measures the trivial reference, then the case,
 * back to back; prints the medians of ns and of the ratio. */
static void bench(const char *name, int fd, const void *frame, size_t len, size_t msg_bytes)
{
	double c[ROUNDS], t[ROUNDS], r[ROUNDS];

	for (int i = 0; i < ROUNDS; i++) {
		t[i] = once(trivial_fd, trivial_frame, trivial_len);
		c[i] = once(fd, frame, len);
		r[i] = c[i] / t[i];
	}
	printf(",\"%s\":{\"ns\":%.2f,\"trivial_ns\":%.2f,\"ratio\":%.3f,\"bytes\":%zu}",
	       name, median(c, ROUNDS), median(t, ROUNDS), median(r, ROUNDS), msg_bytes);
}

/* Another build of the gate, on the gate's own maps wherever their
 * layouts agree (tables, config, counters, the capture ring that
 * reader() empties): both builds see the same calls and the same state,
 * so a paired row times the code, not two tables' histories.  Its XDP
 * program's fd, or -1 after one line. */
static int load_variant(const char *path, struct bpf_object *gate)
{
	struct bpf_object *o = bpf_object__open_file(path, NULL);
	struct bpf_program *p = o ? bpf_object__find_program_by_name(o, "sipdrain_xdp") : NULL;
	struct bpf_map *m, *g;

	if (o)
		bpf_object__for_each_map(m, o) {
			g = bpf_object__find_map_by_name(gate, bpf_map__name(m));
			if (!bpf_map__is_internal(m) && g && bpf_map__type(g) == bpf_map__type(m) &&
			    bpf_map__key_size(g) == bpf_map__key_size(m) &&
			    bpf_map__value_size(g) == bpf_map__value_size(m) &&
			    bpf_map__reuse_fd(m, bpf_map__fd(g)) == 0)
				continue;
			if (bpf_map__type(m) == BPF_MAP_TYPE_HASH || bpf_map__type(m) == BPF_MAP_TYPE_LRU_HASH)
				bpf_map__set_max_entries(m, 4096);
		}
	if (!p || bpf_object__load(o)) {
		fprintf(stderr, "xdp_bench: cannot load %s\n", path);
		return -1;
	}
	return bpf_program__fd(p);              /* the object stays open until exit */
}

/* The gate (fd) against another build (fd2) on one frame: per round the
 * gate, the other, the gate again (repeat / 3 runs each), the ratio of
 * the gate's mean to the other's; {"ns", "<key2>", "ratio"} as medians
 * over the rounds. */
static void paired(const char *name, const char *key2, int fd, int fd2, const void *f, size_t fl,
		   size_t bytes)
{
	double a[PAIRED_ROUNDS], b[PAIRED_ROUNDS], q[PAIRED_ROUNDS];
	unsigned n = repeat / 3 ? repeat / 3 : 1;

	for (int i = 0; i < PAIRED_ROUNDS; i++) {
		a[i] = once_n(fd, f, fl, n);
		b[i] = once_n(fd2, f, fl, n);
		a[i] = (a[i] + once_n(fd, f, fl, n)) / 2;
		q[i] = a[i] / b[i];
	}
	printf(",\"%s\":{\"ns\":%.2f,\"%s\":%.2f,\"ratio\":%.3f,\"bytes\":%zu}", name,
	       median(a, PAIRED_ROUNDS), key2, median(b, PAIRED_ROUNDS), median(q, PAIRED_ROUNDS), bytes);
}

/* A 200 to an INVITE (through a proxy) and an in-dialog BYE: measured
 * alone, and against the build without the capture */
static const char ok_to_invite[] =
	"SIP/2.0 200 OK\r\nVia: SIP/2.0/UDP 198.18.0.2:5060;branch=z9hG4bK-74bf9-1;rport=5060\r\n"
	"Via: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-1a2b3c;received=198.18.0.1\r\n"
	"Record-Route: <sip:198.18.0.2;lr>\r\nFrom: \"Alice\" <sip:+15559870000@198.18.0.1>;tag=9fxced76sl\r\n"
	"To: <sip:+15551230000@198.18.0.2>;tag=8321234356\r\nCall-ID: 3848276298220188511@198.18.0.1\r\n"
	"CSeq: 1 INVITE\r\nContact: <sip:bob@198.18.0.9:5060>\r\nContent-Length: 0\r\n\r\n";
static const char in_dialog_bye[] =
	"BYE sip:bob@198.18.0.9:5060 SIP/2.0\r\nVia: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-bye1;rport\r\n"
	"Max-Forwards: 70\r\nRoute: <sip:198.18.0.2;lr>\r\nFrom: \"Alice\" <sip:+15559870000@198.18.0.1>;tag=9fxced76sl\r\n"
	"To: <sip:+15551230000@198.18.0.2>;tag=8321234356\r\nCall-ID: 3848276298220188511@198.18.0.1\r\n"
	"CSeq: 2 BYE\r\nContent-Length: 0\r\n\r\n";

static size_t invite(char *m, int vias, int compact, const char *pad)
{
	size_t n = sprintf(m, "INVITE sip:+15551230000@198.18.0.2:5060 SIP/2.0\r\n");

	for (int i = 0; i < vias; i++)
		n += sprintf(m + n, compact ? "v: SIP/2.0/UDP 198.18.7.%d;branch=z9hG4bK%04d\r\n"
				: "Via: SIP/2.0/UDP 198.18.7.%d:5060;branch=z9hG4bK-74bf9-%04d;rport\r\n",
			     i % 250 + 1, i);
	n += sprintf(m + n, "Max-Forwards: 70\r\nFrom: \"Alice\" <sip:+15559870000@198.18.0.1>;tag=9fxced76sl\r\n"
		     "To: <sip:+15551230000@198.18.0.2>\r\nCall-ID: 3848276298220188511@198.18.0.1\r\n"
		     "CSeq: 1 INVITE\r\nContact: <sip:alice@198.18.0.1:5060;transport=udp>\r\n"
		     "%sContent-Type: application/sdp\r\nContent-Length: 240\r\n\r\n"
		     "v=0\r\no=alice 2890844526 2890844526 IN IP4 198.18.0.1\r\ns=-\r\n"
		     "c=IN IP4 198.18.0.1\r\nt=0 0\r\nm=audio 49170 RTP/AVP 0 8 101\r\n"
		     "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\na=rtpmap:101 telephone-event/8000\r\n"
		     "a=fmtp:101 0-16\r\na=ptime:20\r\na=sendrecv\r\n", pad);
	return n;
}

/* The typical INVITE of the rows that say so: To after 4 Via, the
 * headers a carrier's UA adds, an SDP body (950 bytes) */
static size_t typical_invite(char *m)
{
	return invite(m, 4, 0, "Allow: INVITE, ACK, CANCEL, OPTIONS, BYE, REFER, NOTIFY, UPDATE\r\n"
		      "Supported: replaces, timer\r\nUser-Agent: carrier-edge/1.0\r\n");
}

int main(int argc, char **argv)
{
	static char m[4096];
	static __u8 f[8192];
	struct sd_wrap w = { .sport = 5070, .dport = 5060 };
	struct bpf_object *obj;
	struct sd_tester t;
	pthread_t reader_thread;
	struct sd_counters c0, c1;
	size_t n, fl;

	repeat = argc > 2 ? atoi(argv[2]) : 1000000;
	sd_log_hook_libs();
	obj = bpf_object__open_file(argv[1], NULL);
	/* the same kind of program as the gate: multi-buffer capable */
	if (obj)
		bpf_program__set_flags(bpf_object__find_program_by_name(obj, "trivial_xdp"),
				       BPF_F_XDP_HAS_FRAGS);
	if (!obj || bpf_object__load(obj)) {
		fprintf(stderr, "xdp_bench: cannot load %s\n", argv[1]);
		return 1;
	}
	trivial_fd = bpf_program__fd(bpf_object__find_program_by_name(obj, "trivial_xdp"));
	if (sd_tester_open_plain(&t))           /* as attached: nothing recorded */
		return 1;
	capture_rb = ring_buffer__new(bpf_map__fd(t.skel->maps.sd_capture), drop_record, NULL, NULL);
	if (!capture_rb || pthread_create(&reader_thread, NULL, reader, capture_rb)) {
		fprintf(stderr, "xdp_bench: cannot read the capture ring\n");
		return 1;
	}

	sd_tester_counters(&t, &c0);
	printf("{\"repeat\":%u,\"rounds\":%d,\"paired_rounds\":%d", repeat, ROUNDS, PAIRED_ROUNDS);
	/* the reference runs on a non-SIP UDP datagram */
	memset(m, 0xab, 200);
	w.dport = 53;
	trivial_len = sd_build_frame(trivial_frame, sizeof(trivial_frame), &w, m, 200);
	bench("non_sip_udp", t.prog_fd, trivial_frame, trivial_len, 200);
	w.dport = 5060;
	fl = sd_build_frame(f, sizeof(f), &w, m, 200);          /* RTP-like bytes */
	bench("sip_port_not_sip", t.prog_fd, f, fl, 200);
	n = sprintf(m, "%s", ok_to_invite);
	fl = sd_build_frame(f, sizeof(f), &w, m, n);
	bench("sip_response", t.prog_fd, f, fl, n);
	n = sprintf(m, "%s", in_dialog_bye);
	fl = sd_build_frame(f, sizeof(f), &w, m, n);
	bench("in_dialog_bye", t.prog_fd, f, fl, n);
	n = typical_invite(m);
	fl = sd_build_frame(f, sizeof(f), &w, m, n);
	bench("typical_invite", t.prog_fd, f, fl, n);
	n = invite(m, 30, 1, "");
	fl = sd_build_frame(f, sizeof(f), &w, m, n);
	bench("long_invite", t.prog_fd, f, fl, n);
	/* the typical INVITE while draining, refused: a Call-ID the server
	 * never saw (the one above is an attempt it has: let through), from
	 * a known peer as a trunk is (a flood source's would be dropped by
	 * the guard); redirected, with no socket here passed */
	{
		struct sd_guard_key k = { .family = 4 };
		struct sd_peer_state ps = { .first_ns = sd_now_ns(), .last_ns = sd_now_ns() };
		struct sd_counters d0, d1;
		char *cid;

		inet_pton(AF_INET, "198.18.0.1", &k.v4);
		bpf_map_update_elem(t.peers_fd, &k, &ps, BPF_ANY);
		t.cfg.state = SD_DRAINING;
		sd_tester_apply(&t);
		n = typical_invite(m);
		cid = strstr(m, "Call-ID: ");
		if (cid)
			memcpy(cid + 9, "drained-", 8);
		fl = sd_build_frame(f, sizeof(f), &w, m, n);
		sd_tester_counters(&t, &d0);
		bench("typical_invite_draining", t.prog_fd, f, fl, n);
		sd_tester_counters(&t, &d1);
		printf(",\"draining_refused\":{\"runs\":%llu,\"redirected\":%llu}",
		       (unsigned long long)ROUNDS * repeat,
		       (unsigned long long)(d1.verdict_redirect - d0.verdict_redirect));
		t.cfg.state = SD_SERVING;
		sd_tester_apply(&t);
	}
	/* a header section of 3 KB (To at byte 2707): read to its end now,
	 * unparsed (passed) with the 2 KiB budget */
	{
		static char big[4096];
		FILE *fp = fopen("tests/data/long_headers_3k.sip", "rb");

		n = fp ? fread(big, 1, sizeof(big), fp) : 0;
		if (fp)
			fclose(fp);
		if (n) {
			fl = sd_build_frame(f, sizeof(f), &w, big, n);
			bench("invite_3k_headers", t.prog_fd, f, fl, n);
		}
	}
	if (argc > 3) {
		int fd2 = load_variant(argv[3], t.skel->obj);

		if (fd2 < 0)
			return 1;
		for (int k = 0; k < 3; k++) {
			const char *name = k == 0 ? "budget_typical_invite" : k == 1 ? "budget_long_invite" :
					   "budget_response";

			if (k < 2)
				n = k == 0 ? typical_invite(m) : invite(m, 30, 1, "");
			else
				n = sprintf(m, "SIP/2.0 180 Ringing\r\nVia: SIP/2.0/UDP 198.18.0.1:5060;branch=z9hG4bK-1\r\n"
					    "From: <sip:a@198.18.0.1>;tag=9f\r\nTo: <sip:b@198.18.0.2>;tag=83\r\n"
					    "Call-ID: 38482@198.18.0.1\r\nCSeq: 1 INVITE\r\nContent-Length: 0\r\n\r\n");
			fl = sd_build_frame(f, sizeof(f), &w, m, n);
			paired(name, "ns_2k", t.prog_fd, fd2, f, fl, n);
		}
	}
	/* what copying the calls' details costs: the gate against the same
	 * build without the capture, on what it copies (an INVITE, a 2xx to
	 * INVITE) and what it does not (an in-dialog BYE) */
	if (argc > 4) {
		int fd3 = load_variant(argv[4], t.skel->obj);

		if (fd3 < 0)
			return 1;
		n = typical_invite(m);
		fl = sd_build_frame(f, sizeof(f), &w, m, n);
		paired("capture_invite", "ns_nocap", t.prog_fd, fd3, f, fl, n);
		n = sprintf(m, "%s", ok_to_invite);
		fl = sd_build_frame(f, sizeof(f), &w, m, n);
		paired("capture_2xx", "ns_nocap", t.prog_fd, fd3, f, fl, n);
		n = sprintf(m, "%s", in_dialog_bye);
		fl = sd_build_frame(f, sizeof(f), &w, m, n);
		paired("capture_in_dialog_bye", "ns_nocap", t.prog_fd, fd3, f, fl, n);
		/* the same measurement of the gate against itself: how far
		 * this host's noise alone moves such a ratio in this run */
		paired("gate_vs_itself", "ns_again", t.prog_fd, t.prog_fd, f, fl, n);
	}
	/* the capture path was timed, not the lost one */
	sd_tester_counters(&t, &c1);
	printf(",\"capture\":{\"copied\":%llu,\"lost\":%llu}}\n",
	       (unsigned long long)(c1.captured - c0.captured),
	       (unsigned long long)(c1.capture_lost - c0.capture_lost));
	reader_stop = 1;
	pthread_join(reader_thread, NULL);
	ring_buffer__free(capture_rb);
	sd_tester_close(&t);
	/* sanity, with a recording instance: the messages measured are read
	 * as what they are (a long INVITE must not be "unparsed") */
	{
		struct sd_result r;

		if (sd_tester_open(&t))
			return 1;
		n = invite(m, 30, 1, "");
		fl = sd_build_frame(f, sizeof(f), &w, m, n);
		if (sd_tester_run(&t, f, fl, &r) || r.kind != SD_K_REQUEST || r.method != SD_M_INVITE ||
		    !(r.flags & SD_F_CALLID)) {
			fprintf(stderr, "xdp_bench: the long INVITE is not read as an INVITE (kind %d)\n", r.kind);
			return 1;
		}
		n = invite(m, 4, 0, "");
		fl = sd_build_frame(f, sizeof(f), &w, m, n);
		if (sd_tester_run(&t, f, fl, &r) || r.kind != SD_K_REQUEST || r.method != SD_M_INVITE) {
			fprintf(stderr, "xdp_bench: the typical INVITE is not read as an INVITE\n");
			return 1;
		}
		sd_tester_close(&t);
	}
	return 0;
}
