// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sipdrain: kernel-assisted drain gate for SIP servers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"

#include "cli.h"
#include "log.h"
#include "version.h"

static const struct sd_cmd cmds[] = {
	{ "run",      cmd_run,      "attach (or adopt) the gate and run the 503 responder" },
	{ "attach",   cmd_attach,   "load the gate and attach it to interfaces" },
	{ "detach",   cmd_detach,   "detach from interfaces (all: remove the pins)" },
	{ "drain",    cmd_drain,    "start draining: new calls get 503" },
	{ "resume",   cmd_resume,   "stop draining: back to serving" },
	{ "status",   cmd_status,   "state, interfaces, ports, counters" },
	{ "classify", cmd_classify, "run SIP messages or a capture through the gate" },
	{ "version",  NULL,         "the version, pin ABI, libbpf and libxdp (as --version)" },
};

struct main_opts {
	bool verbose;
	bool version;
	const char *pin_dir;
};

/* sipdrain's own options, before the command. */
static const struct sd_opt main_options[] = {
	{ .name = "verbose", .letter = 'v', .type = SD_OPT_FLAG,
	  SD_OPT_FIELD(struct main_opts, verbose),
	  .help = "also show libbpf's and libxdp's messages" },
	{ .name = "version", .type = SD_OPT_FLAG, SD_OPT_FIELD(struct main_opts, version),
	  .help = "the version, the pin ABI and the libbpf and libxdp versions" },
	{ .name = "pin-dir", .type = SD_OPT_STRING, .arg = "DIR",
	  SD_OPT_FIELD(struct main_opts, pin_dir),
	  .help = "the gate's pins (default " SD_PIN_DIR ", or $SIPDRAIN_PIN_DIR): one "
		  "gate per directory" },
	{ 0 }
};

int main(int argc, char **argv)
{
	static char commands[1024];
	struct sd_usage u = { .operands = "COMMAND [OPTIONS]", .epilogue = commands,
			      .options_first = true };
	struct main_opts mo = { 0 };
	const struct sd_opt_group groups[] = { { main_options, &mo }, { 0 } };
	size_t k = snprintf(commands, sizeof(commands), "Commands:\n");
	int i;

	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]) && k < sizeof(commands); c++)
		k += snprintf(commands + k, sizeof(commands) - k, "  %-10s %s\n", cmds[c].name,
			      cmds[c].summary);
	if (k < sizeof(commands))
		snprintf(commands + k, sizeof(commands) - k,
			 "\n'sipdrain COMMAND --help' describes each command.\n");

	sd_log_hook_libs();
	if (getenv("SIPDRAIN_PIN_DIR") && sd_set_pin_dir(getenv("SIPDRAIN_PIN_DIR")))
		return SD_EXIT_USAGE;
	i = sd_opts_parse(argc, argv, &u, groups);
	if (i < 0 || (mo.pin_dir && sd_set_pin_dir(mo.pin_dir)))
		return SD_EXIT_USAGE;
	if (mo.verbose)
		sd_log_set_level(SD_LOG_DEBUG);
	if (mo.version || (i < argc && !strcmp(argv[i], "version"))) {
		char line[256];

		sd_version_line(line, sizeof(line));
		printf("%s\n", line);
		return SD_EXIT_OK;
	}
	if (i >= argc) {
		pr_warn("no command given (see 'sipdrain --help')\n");
		return SD_EXIT_USAGE;
	}
	for (size_t c = 0; c < sizeof(cmds) / sizeof(cmds[0]); c++)
		if (!strcmp(argv[i], cmds[c].name))
			return cmds[c].run(argc - i, argv + i);
	pr_warn("unknown command '%s' (see 'sipdrain --help')\n", argv[i]);
	return SD_EXIT_USAGE;
}
