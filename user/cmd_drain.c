// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sipdrain drain / resume: change the state in the pinned config. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cli.h"
#include "gate.h"
#include "log.h"
#include "responder.h"
#include <bpf/bpf.h>

static const char drain_usage[] =
	"Usage: sipdrain drain [--retry-after SECONDS] [--allow METHOD]...\n"
	"\n"
	"Start draining: new calls and other out-of-dialog requests are\n"
	"answered 503 Service Unavailable by the responder; in-dialog requests,\n"
	"responses, CANCEL, ACK and retransmissions of INVITEs the server\n"
	"already received keep reaching the server.\n"
	"\n"
	"  -r, --retry-after SECONDS  Retry-After of the 503 (default 300)\n"
	"  -j, --retry-jitter SECONDS add a random 0..SECONDS to each Retry-After,\n"
	"                             so refused callers do not return at once\n"
	"  -a, --allow METHOD         also let this out-of-dialog method through\n"
	"                             (repeatable; e.g. REGISTER, OPTIONS)\n"
	"  -h, --help                 this text\n"
	"\n"
	"Example: sipdrain drain --retry-after 60 --allow REGISTER\n";

static const char resume_usage[] =
	"Usage: sipdrain resume\n"
	"\n"
	"Cancel a drain (or bring an offline node back): SERVING again.\n";

/* Fail-open is safe but not a drain: say so. */
static void warn_no_responder(void)
{
	struct sd_responder st = { 0 };
	__u32 zero = 0;
	int fd = sd_pinned_map_fd(SD_STR(SD_MAP_RESPONDER));

	if (fd >= 0) {
		bpf_map_lookup_elem(fd, &zero, &st);
		close(fd);
	}
	if (!sd_responder_alive(&st))
		pr_warn("warning: no responder is running ('sipdrain run'): refused requests "
			"still reach the server (counted as redirect_fallback)\n");
}

static int write_state(struct sd_config *cfg, int fd)
{
	int err = sd_config_set(fd, cfg);

	close(fd);
	if (err) {
		pr_warn("cannot write the config: %s\n", strerror(-err));
		return SD_EXIT_ERR;
	}
	return SD_EXIT_OK;
}

static int load_config(struct sd_config *cfg)
{
	int fd, err;

	if (sd_require_root())
		return -EPERM;
	fd = sd_open_config();
	if (fd < 0)
		return fd;
	err = sd_config_get(fd, cfg);
	if (err) {
		pr_warn("cannot read the config: %s\n", strerror(-err));
		close(fd);
		return err;
	}
	return fd;
}

int cmd_drain(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "retry-after", required_argument, NULL, 'r' },
		{ "retry-jitter", required_argument, NULL, 'j' },
		{ "allow", required_argument, NULL, 'a' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned long retry_after = SD_DEFAULT_RETRY_AFTER, jitter = 0;
	__u32 allow = 0;
	struct sd_config cfg;
	struct timespec now;
	int opt, fd, m;

	while ((opt = sd_getopt(argc, argv, "r:j:a:h", opts, drain_usage)) != -1) {
		switch (opt) {
		case 'r':
			if (!sd_parse_uint("retry-after", optarg, 0, 86400, &retry_after))
				return SD_EXIT_USAGE;
			break;
		case 'j':
			if (!sd_parse_uint("retry-jitter", optarg, 0, 86400, &jitter))
				return SD_EXIT_USAGE;
			break;
		case 'a':
			m = sd_method_by_name(optarg);
			if (m < 0) {
				pr_warn("unknown method '%s' (methods are case-sensitive: INVITE, OPTIONS, ...)\n",
					optarg);
				return SD_EXIT_USAGE;
			}
			allow |= 1U << m;
			break;
		}
	}
	if (optind < argc) {
		pr_warn("drain: unexpected argument '%s'\n", argv[optind]);
		return SD_EXIT_USAGE;
	}
	fd = load_config(&cfg);
	if (fd < 0)
		return SD_EXIT_ERR;
	clock_gettime(CLOCK_MONOTONIC, &now);
	if (cfg.state != SD_DRAINING)
		cfg.drain_started_ns = (__u64)now.tv_sec * 1000000000ULL + now.tv_nsec;
	cfg.state = SD_DRAINING;
	cfg.retry_after = retry_after;
	cfg.retry_jitter = jitter;
	cfg.allow_mask = allow;
	if (write_state(&cfg, fd))
		return SD_EXIT_ERR;
	pr_info("draining: new calls get 503 (Retry-After: %lu)\n", retry_after);
	warn_no_responder();
	return SD_EXIT_OK;
}

int cmd_resume(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct sd_config cfg;
	int fd;

	while (sd_getopt(argc, argv, "h", opts, resume_usage) != -1)
		;
	if (optind < argc) {
		pr_warn("resume: unexpected argument '%s'\n", argv[optind]);
		return SD_EXIT_USAGE;
	}
	fd = load_config(&cfg);
	if (fd < 0)
		return SD_EXIT_ERR;
	cfg.state = SD_SERVING;
	cfg.allow_mask = 0;
	cfg.drain_started_ns = 0;
	if (write_state(&cfg, fd))
		return SD_EXIT_ERR;
	pr_info("serving\n");
	return SD_EXIT_OK;
}
