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
	return m == XDP_MODE_NATIVE ? "native" : m == XDP_MODE_SKB ? "skb" :
	       m == XDP_MODE_HW ? "hw" : "unspec";
}

static void ifname_of(__u32 ifindex, char *name)
{
	if (!if_indextoname(ifindex, name))
		snprintf(name, IF_NAMESIZE, "if%u", ifindex % 100000u);
}

static void print_json(const struct sd_config *cfg, const struct sd_counters *c)
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
		printf("%s{\"name\":\"%s\",\"ifindex\":%u,\"mode\":\"%s\"}", sep, name,
		       cfg->ifindex[s], mode_name(cfg->xdp_mode[s]));
		sep = ",";
	}
	printf("],\"max_dialogs\":%u,\"counters\":{", cfg->max_dialogs);
	for (int i = 0; i < SD_C_MAX; i++)
		printf("%s\"%s\":%llu", i ? "," : "", sd_counter_names[i],
		       (unsigned long long)((const __u64 *)c)[i]);
	printf("}}\n");
}

static void print_human(const struct sd_config *cfg, const struct sd_counters *c)
{
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
		printf(" %s (%s)", name, mode_name(cfg->xdp_mode[s]));
	}
	printf("\ndialog table: %u entries max\n\ncounters:\n", cfg->max_dialogs);
	for (int i = 0; i < SD_C_MAX; i++)
		printf("  %-20s %llu\n", sd_counter_names[i],
		       (unsigned long long)((const __u64 *)c)[i]);
}

int cmd_status(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	struct sd_counters cnt;
	struct sd_config cfg;
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
	if (json)
		print_json(&cfg, &cnt);
	else
		print_human(&cfg, &cnt);
	return SD_EXIT_OK;
}
