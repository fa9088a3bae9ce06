// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sipdrain status [--json] */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <xdp/libxdp.h>

#include "cli.h"
#include "gate.h"
#include "log.h"
#include "attach.h"
#include "responder.h"
#include <bpf/bpf.h>

static const char status_usage[] =
	"Usage: sipdrain status [--json]\n"
	"\n"
	"State, interfaces, ports and counters of the attached gate.\n"
	"\n"
	"  -j, --json   one JSON object\n"
	"  -h, --help   this text\n";

static const char *state_name(__u32 s)
{
	return s < SD_STATE_MAX ? sd_state_names[s] : "unknown";
}

static const char *mode_name(__u32 m)
{
	return sd_mode_name(m);
}

#define RNAME_(name, help) #name,
static const char *const responder_names[SD_RC_MAX] = { SD_RESPONDER_COUNTERS(RNAME_) };
#undef RNAME_

static int popcount64(__u64 v)
{
	return __builtin_popcountll(v);
}

static void ifname_of(__u32 ifindex, char *name)
{
	if (!if_indextoname(ifindex, name))
		snprintf(name, IF_NAMESIZE, "if%u", ifindex % 100000u);
}

static void print_json(const struct sd_config *cfg, const struct sd_counters *c,
		       const struct sd_responder *rs)
{
	char name[IF_NAMESIZE];
	const char *sep = "";

	printf("{\"state\":\"%s\",\"retry_after\":%u,\"allow\":[", state_name(cfg->state),
	       cfg->retry_after);
	for (int m = 1; m < SD_M_MAX; m++)
		if (cfg->allow_mask & (1U << m)) {
			printf("%s\"%s\"", sep, sd_method_names[m]);
			sep = ",";
		}
	printf("],\"ports\":[");
	for (__u32 i = 0; i < cfg->nports && i < SD_MAX_PORTS; i++)
		printf("%s%u", i ? "," : "", cfg->ports[i]);
	printf("],\"interfaces\":[");
	sep = "";
	for (int s = 0; s < SD_MAX_IFACES; s++) {
		if (!cfg->ifindex[s])
			continue;
		ifname_of(cfg->ifindex[s], name);
		printf("%s{\"name\":\"%s\",\"ifindex\":%u,\"mode\":\"%s\","
		       "\"rx_queues\":%u,\"queues_bound\":%d}", sep, name,
		       cfg->ifindex[s], mode_name(cfg->xdp_mode[s]), rs->queues_total[s],
		       sd_responder_alive(rs) ? popcount64(rs->queues_bound[s]) : 0);
		sep = ",";
	}
	printf("],\"retry_jitter\":%u,\"max_dialogs\":%u,\"counters\":{",
	       cfg->retry_jitter, cfg->max_dialogs);
	for (int i = 0; i < SD_C_MAX; i++)
		printf("%s\"%s\":%llu", i ? "," : "", sd_counter_names[i],
		       (unsigned long long)((const __u64 *)c)[i]);
	printf("},\"responder\":{\"running\":%s,\"pid\":%u,\"counters\":{",
	       sd_responder_alive(rs) ? "true" : "false", sd_responder_alive(rs) ? rs->pid : 0);
	for (int i = 0; i < SD_RC_MAX; i++)
		printf("%s\"%s\":%llu", i ? "," : "", responder_names[i],
		       (unsigned long long)((const __u64 *)&rs->c)[i]);
	printf("}}}\n");
}

static void print_human(const struct sd_config *cfg, const struct sd_counters *c,
			const struct sd_responder *rs)
{
	bool alive = sd_responder_alive(rs);
	char name[IF_NAMESIZE];

	printf("state:        %s\n", state_name(cfg->state));
	if (cfg->state != SD_SERVING) {
		printf("retry-after:  %u s\n", cfg->retry_after);
		printf("allowed:      CANCEL ACK");
		for (int m = 1; m < SD_M_MAX; m++)
			if ((cfg->allow_mask & ~SD_ALLOW_ALWAYS) & (1U << m))
				printf(" %s", sd_method_names[m]);
		printf("\n");
	}
	printf("ports:       ");
	for (__u32 i = 0; i < cfg->nports && i < SD_MAX_PORTS; i++)
		printf(" %u", cfg->ports[i]);
	printf("\ninterfaces:  ");
	for (int s = 0; s < SD_MAX_IFACES; s++) {
		if (!cfg->ifindex[s])
			continue;
		ifname_of(cfg->ifindex[s], name);
		printf(" %s (%s, responder on %d/%u queues)", name, mode_name(cfg->xdp_mode[s]),
		       alive ? popcount64(rs->queues_bound[s]) : 0, rs->queues_total[s]);
	}
	printf("\nresponder:    %s", alive ? "running" : "NOT RUNNING (refused requests reach the server)");
	if (alive)
		printf(" (pid %u)", rs->pid);
	printf("\ndialog table: %u entries max\n\ngate counters:\n", cfg->max_dialogs);
	for (int i = 0; i < SD_C_MAX; i++)
		printf("  %-20s %llu\n", sd_counter_names[i],
		       (unsigned long long)((const __u64 *)c)[i]);
	printf("\nresponder counters:\n");
	for (int i = 0; i < SD_RC_MAX; i++)
		printf("  %-20s %llu\n", responder_names[i],
		       (unsigned long long)((const __u64 *)&rs->c)[i]);
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct sd_responder rs = { 0 };
	struct sd_counters cnt;
	struct sd_config cfg;
	int rfd;
	bool json = false;
	int opt, fd, cfd, err;

	while ((opt = sd_getopt(argc, argv, "jh", opts, status_usage)) != -1)
		if (opt == 'j')
			json = true;
	if (optind < argc) {
		pr_warn("status: unexpected argument '%s'\n", argv[optind]);
		return SD_EXIT_USAGE;
	}
	if (sd_require_root())
		return SD_EXIT_ERR;
	fd = sd_open_config();
	if (fd < 0)
		return SD_EXIT_ERR;
	err = sd_config_get(fd, &cfg);
	close(fd);
	if (err) {
		pr_warn("cannot read the config: %s\n", strerror(-err));
		return SD_EXIT_ERR;
	}
	cfd = sd_pinned_map_fd(SD_STR(SD_MAP_COUNTERS));
	if (cfd < 0) {
		pr_warn("cannot open %s/%s: %s\n", SD_PIN_DIR, SD_STR(SD_MAP_COUNTERS),
			strerror(-cfd));
		return SD_EXIT_ERR;
	}
	err = sd_counters_get(cfd, &cnt);
	close(cfd);
	if (err) {
		pr_warn("cannot read the counters: %s\n", strerror(-err));
		return SD_EXIT_ERR;
	}
	rfd = sd_pinned_map_fd(SD_STR(SD_MAP_RESPONDER));
	if (rfd >= 0) {
		__u32 zero = 0;

		bpf_map_lookup_elem(rfd, &zero, &rs);
		close(rfd);
	}
	if (json)
		print_json(&cfg, &cnt, &rs);
	else
		print_human(&cfg, &cnt, &rs);
	return SD_EXIT_OK;
}
