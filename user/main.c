// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* sipdrain: kernel-assisted drain gate for SIP servers. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gate.h"

#include "cli.h"
#include "log.h"

static const struct sd_cmd cmds[] = {
	{ "run",      cmd_run,      "attach (or adopt) the gate and run the 503 responder" },
	{ "attach",   cmd_attach,   "load the gate and attach it to interfaces" },
	{ "detach",   cmd_detach,   "detach from interfaces (all: remove the pins)" },
	{ "drain",    cmd_drain,    "start draining: new calls get 503" },
	{ "resume",   cmd_resume,   "stop draining: back to serving" },
	{ "status",   cmd_status,   "state, interfaces, ports, counters" },
	{ "classify", cmd_classify, "run SIP messages or a capture through the gate" },
};

static void usage(FILE *f)
{
	fprintf(f, "Usage: sipdrain [-v] [--pin-dir DIR] COMMAND [OPTIONS]\n\n"
		"  -v, --verbose     also show libbpf's and libxdp's messages\n"
		"  --pin-dir DIR     the gate's pins (default " SD_PIN_DIR ", or\n"
		"                    $SIPDRAIN_PIN_DIR): one gate per directory\n\nCommands:\n");
	for (size_t i = 0; i < sizeof(cmds) / sizeof(cmds[0]); i++)
		fprintf(f, "  %-10s %s\n", cmds[i].name, cmds[i].summary);
	fprintf(f, "\n'sipdrain COMMAND --help' describes each command.\n");
}

int main(int argc, char **argv)
{
	int i = 1;

	sd_log_hook_libs();
	if (getenv("SIPDRAIN_PIN_DIR") && sd_set_pin_dir(getenv("SIPDRAIN_PIN_DIR")))
		return SD_EXIT_USAGE;
	for (; i < argc && argv[i][0] == '-'; i++) {
		if (!strcmp(argv[i], "--pin-dir")) {
			if (i + 1 >= argc || sd_set_pin_dir(argv[++i]))
				return SD_EXIT_USAGE;
		} else if (!strncmp(argv[i], "--pin-dir=", 10)) {
			if (sd_set_pin_dir(argv[i] + 10))
				return SD_EXIT_USAGE;
		} else if (!strcmp(argv[i], "-v") || !strcmp(argv[i], "--verbose")) {
			sd_log_set_level(SD_LOG_DEBUG);
		} else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
			usage(stdout);
			return SD_EXIT_OK;
		} else {
			pr_warn("unknown option '%s' (see 'sipdrain --help')\n", argv[i]);
			return SD_EXIT_USAGE;
		}
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
