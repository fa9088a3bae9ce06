// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* libFuzzer, differential: the same bytes through the XDP program
 * (BPF_PROG_TEST_RUN, UDP to 5060) and through the userspace parser must
 * give the same kind, method, To tag, tag-ours and Call-ID hash (and
 * status and CSeq method).  Needs root. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"
#include "packet.h"
#include "sip_scan.h"
#include "tester.h"

static struct sd_tester T;
static unsigned char frame[SD_FRAME_MAX];

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc, (void)argv;
	sd_log_hook_libs();
	if (sd_tester_open(&T)) {
		fprintf(stderr, "fuzz_diff: cannot load the XDP program (root?)\n");
		exit(1);
	}
	return 0;
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size)
{
	static const struct sd_wrap w = { .sport = 5070, .dport = 5060 };
	struct sd_result k, u;
	size_t fl;

	if (size > 4000)
		size = 4000;
	fl = sd_build_frame(frame, sizeof(frame), &w, data, size);
	if (!fl || sd_tester_run(&T, frame, fl, &k))
		abort();
	sd_parse(data, size, &u);
	if (k.kind != u.kind || k.method != u.method || k.flags != u.flags ||
	    k.call_id_hash != u.call_id_hash || k.status != u.status ||
	    k.cseq_method != u.cseq_method || k.unparsed != u.unparsed) {
		fprintf(stderr, "fuzz_diff: XDP kind %d method %d flags %#x hash %llx / "
			"userspace kind %d method %d flags %#x hash %llx\n",
			k.kind, k.method, k.flags, (unsigned long long)k.call_id_hash,
			u.kind, u.method, u.flags, (unsigned long long)u.call_id_hash);
		abort();
	}
	/* never a redirect for what the parser calls in-dialog */
	if ((u.flags & SD_F_TO_TAG) && k.verdict == SD_V_REDIRECT)
		abort();
	return 0;
}
