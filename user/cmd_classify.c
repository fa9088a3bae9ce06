// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sipdrain classify: the real XDP program, through BPF_PROG_TEST_RUN, on
 * raw SIP message files or on every packet of a pcap/pcapng capture. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <linux/bpf.h>

#include "cli.h"
#include "gate.h"
#include "log.h"
#include "packet.h"
#include "pcapfile.h"
#include "tester.h"

struct classify_opts {
	__u32 state;
	struct sd_ports ports;
	__u32 allow;
	bool pcap;
};

static const struct sd_opt classify_options[] = {
	{ .name = "state", .letter = 's', .type = SD_OPT_ENUM, .arg = "STATE",
	  SD_OPT_FIELD(struct classify_opts, state),
	  .words = (const struct sd_opt_word[]){ { "serving", SD_SERVING },
		{ "draining", SD_DRAINING }, { "offline", SD_OFFLINE }, { 0 } },
	  .help = "serving (default), draining or offline" },
	{ .name = "port", .letter = 'p', .type = SD_OPT_PORT, .arg = "N",
	  SD_OPT_FIELD(struct classify_opts, ports),
	  .help = "gated UDP port (repeatable; default for files 5060; for captures, "
		  "default: a datagram to or from a SIP port - 5060, 5061, or any port "
		  "that sends or receives a SIP/2.0 start line in the capture - is taken "
		  "as sent to the gated port)" },
	{ .name = "allow", .letter = 'a', .type = SD_OPT_METHOD, .arg = "METHOD",
	  SD_OPT_FIELD(struct classify_opts, allow), .help = "as for 'sipdrain drain'" },
	{ .name = "pcap", .letter = 'P', .type = SD_OPT_FLAG,
	  SD_OPT_FIELD(struct classify_opts, pcap), .help = "the FILEs are captures" },
	{ 0 }
};

static const struct sd_usage classify_usage = {
	.cmd = "classify",
	.operands = "FILE...\n--pcap CAPTURE...",
	.text =
	"Run the gate's XDP program (a private copy: nothing is attached)\n"
	"on each raw SIP message FILE, sent in Ethernet/IPv4/UDP to the first\n"
	"SIP port, or on each packet of a pcap/pcapng capture, and print one\n"
	"JSON object per message: kind, method, status, To tag, Call-ID hash\n"
	"and the verdict the gate would give in the chosen state.  Packets of\n"
	"a capture go through in order, sharing one dialog table.\n",
	.epilogue = "Example: sipdrain classify --state draining --pcap calls.pcap\n",
};

static const char *action_name(__u32 a)
{
	static const char *const n[] = { "XDP_ABORTED", "XDP_DROP", "XDP_PASS",
					 "XDP_TX", "XDP_REDIRECT" };
	return a < 5 ? n[a] : "?";
}

static void print_result(const struct sd_result *r)
{
	static const char *const why[] = { "", "truncated", "budget", "malformed" };
	const char *method = NULL;

	printf("\"kind\":\"%s\"", r->kind < SD_K_MAX ? sd_kind_names[r->kind] : "?");
	if (r->kind == SD_K_REQUEST)
		method = sd_method_names[r->method % SD_M_MAX];
	else if (r->kind == SD_K_RESPONSE && (r->flags & SD_F_CSEQ))
		method = sd_method_names[r->cseq_method % SD_M_MAX];
	if (method)
		printf(",\"method\":\"%s\"", method);
	else
		printf(",\"method\":null");
	if (r->kind == SD_K_RESPONSE)
		printf(",\"status\":%llu", (unsigned long long)r->status);
	if (r->flags & SD_F_CSEQ)
		printf(",\"cseq_method\":\"%s\"", sd_method_names[r->cseq_method % SD_M_MAX]);
	printf(",\"to\":%s,\"to_tag\":%s,\"tag_ours\":%s",
	       r->flags & SD_F_TO ? "true" : "false",
	       r->flags & SD_F_TO_TAG ? "true" : "false",
	       r->flags & SD_F_TAG_OURS ? "true" : "false");
	if (r->flags & SD_F_CALLID)
		printf(",\"call_id_hash\":\"%016llx\"", (unsigned long long)r->call_id_hash);
	else
		printf(",\"call_id_hash\":null");
	if (r->kind == SD_K_UNPARSED && r->unparsed < 4)
		printf(",\"unparsed\":\"%s\"", why[r->unparsed]);
	if (r->fragment)
		printf(",\"fragment\":true");
	printf(",\"verdict\":\"%s\",\"action\":\"%s\"}\n",
	       r->verdict < SD_V_MAX ? sd_verdict_names[r->verdict] : "?",
	       action_name(r->xdp_action));
}

/* Captures without --port: the SIP ports are 5060, 5061 and every port
 * that sends or receives a datagram with a SIP/2.0 start line; a
 * datagram to or from one of them is taken as sent to the gated port. */
struct pcap_run {
	struct sd_tester *t;
	bool auto_port;
	__u8 sip_port[65536 / 8];
	int err;
};

static bool is_sip_port(const struct pcap_run *pr, __u16 p)
{
	return p && (pr->sip_port[p / 8] >> (p % 8)) & 1;
}

static void mark_sip_port(struct pcap_run *pr, __u16 p)
{
	pr->sip_port[p / 8] |= 1 << (p % 8);
}

/* Does the payload's first line start or end with "SIP/2.0"? */
static bool has_sip_start_line(const __u8 *p, size_t n)
{
	const __u8 *eol = memchr(p, '\n', n);
	size_t l = eol ? (size_t)(eol - p) : n;

	if (l && p[l - 1] == '\r')
		l--;
	return (l >= 8 && !strncasecmp((const char *)p, "SIP/2.0 ", 8)) ||
	       (l >= 8 && !strncasecmp((const char *)p + l - 8, " SIP/2.0", 8));
}

static int learn_port(void *arg, unsigned idx, const __u8 *frame, size_t len,
		      const struct sd_udp_info *u)
{
	(void)idx, (void)frame, (void)len;
	if (u->dport && has_sip_start_line(u->payload, u->plen)) {
		mark_sip_port(arg, u->sport);
		mark_sip_port(arg, u->dport);
	}
	return 0;
}

static int classify_packet(void *arg, unsigned idx, const __u8 *frame,
			   size_t len, const struct sd_udp_info *u)
{
	struct pcap_run *pr = arg;
	struct sd_result r;
	int err;

	printf("{\"packet\":%u,", idx);
	if (!frame || len < 14) {
		printf("\"kind\":\"not_sip\",\"verdict\":\"pass\",\"action\":\"none\"}\n");
		return 0;
	}
	if (pr->auto_port) {
		/* gate this datagram's port, or none */
		__u32 n = is_sip_port(pr, u->sport) || is_sip_port(pr, u->dport);

		if (pr->t->cfg.nports != n || pr->t->cfg.ports[0] != u->dport) {
			pr->t->cfg.nports = n;
			pr->t->cfg.ports[0] = u->dport;
			err = sd_tester_apply(pr->t);
			if (err)
				goto fail;
		}
	}
	err = sd_tester_run(pr->t, frame, len, &r);
	if (err)
		goto fail;
	print_result(&r);
	return 0;
fail:
	printf("\"error\":\"%s\"}\n", strerror(-err));
	pr_warn("packet %u: test run failed: %s\n", idx, strerror(-err));
	pr->err = err;
	return err;
}

static int classify_file(struct sd_tester *t, const char *path)
{
	static __u8 msg[65507], frame[SD_FRAME_MAX];
	struct sd_wrap w = { .sport = 5070, .dport = t->cfg.ports[0] };
	struct sd_result r;
	size_t n, flen;
	FILE *f;
	int err;

	f = fopen(path, "rb");
	if (!f) {
		pr_warn("%s: %s\n", path, strerror(errno));
		return -errno;
	}
	n = fread(msg, 1, sizeof(msg), f);
	if (ferror(f) || (n == sizeof(msg) && fgetc(f) != EOF)) {
		pr_warn("%s: unreadable or larger than a UDP datagram\n", path);
		fclose(f);
		return -EINVAL;
	}
	fclose(f);
	flen = sd_build_frame(frame, sizeof(frame), &w, msg, n);
	err = sd_tester_run(t, frame, flen, &r);
	if (err) {
		pr_warn("%s: test run failed: %s\n", path, strerror(-err));
		return err;
	}
	printf("{\"file\":\"");
	for (const char *p = path; *p; p++)
		printf(*p == '"' || *p == '\\' ? "\\%c" : "%c", *p);
	printf("\",");
	print_result(&r);
	return 0;
}

int cmd_classify(int argc, char **argv)
{
	struct classify_opts want = { .state = SD_SERVING };
	const struct sd_opt_group groups[] = { { classify_options, &want }, { 0 } };
	struct sd_tester t;
	int first, err, rc = SD_EXIT_OK;

	first = sd_opts_parse(argc, argv, &classify_usage, groups);
	if (first < 0)
		return SD_EXIT_USAGE;
	if (first >= argc) {
		pr_warn("classify: name at least one file (see 'sipdrain classify --help')\n");
		return SD_EXIT_USAGE;
	}
	if (sd_require_root())
		return SD_EXIT_ERR;
	err = sd_tester_open_any_dst(&t);
	if (err)
		return SD_EXIT_ERR;
	t.cfg.state = want.state;
	t.cfg.allow_mask = want.allow;
	if (want.ports.n) {
		t.cfg.nports = want.ports.n;
		memcpy(t.cfg.ports, want.ports.port, sizeof(want.ports.port));
	}
	err = sd_tester_apply(&t);
	if (err) {
		pr_warn("cannot configure the test program: %s\n", strerror(-err));
		sd_tester_close(&t);
		return SD_EXIT_ERR;
	}
	for (int i = first; i < argc; i++) {
		if (want.pcap) {
			static struct pcap_run pr;

			memset(&pr, 0, sizeof(pr));
			pr.t = &t;
			pr.auto_port = !want.ports.n;
			mark_sip_port(&pr, 5060);
			mark_sip_port(&pr, 5061);
			if ((pr.auto_port && sd_pcap_each(argv[i], learn_port, &pr)) ||
			    sd_pcap_each(argv[i], classify_packet, &pr))
				rc = SD_EXIT_ERR;
		} else if (classify_file(&t, argv[i])) {
			rc = SD_EXIT_ERR;
		}
	}
	sd_tester_close(&t);
	return rc;
}
