/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Subcommands and the small helpers they share. */
#ifndef SD_CLI_H
#define SD_CLI_H

#include <stdbool.h>
#include <linux/types.h>
#include "options.h"

struct sd_cmd {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
};

int cmd_attach(int argc, char **argv);
int cmd_detach(int argc, char **argv);
int cmd_drain(int argc, char **argv);
int cmd_resume(int argc, char **argv);
int cmd_status(int argc, char **argv);
int cmd_classify(int argc, char **argv);
int cmd_run(int argc, char **argv);

/* Exit codes. */
#define SD_EXIT_OK    0
#define SD_EXIT_ERR   1
#define SD_EXIT_USAGE 2

/* "90", "90s", "10m", "1h", "1500ms" -> nanoseconds (at most 7 days);
 * 0 when not a duration. */
__u64 sd_parse_duration(const char *s);
/* --port parsing into a list without duplicates; one line and false
 * when the port is not one, or one too many. */
bool sd_add_port(__u16 *ports, __u32 *nports, const char *arg);
/* The options attach and run share: one entry each, so that --port or
 * --min-watch mean the same in both (into a struct sd_attach_opts). */
extern const struct sd_opt sd_attach_options[];
struct sd_attach_opts;
/* The IFACE... operands of attach and run. */
int sd_take_ifaces(int argc, char **argv, int first, const char *cmd,
		   struct sd_attach_opts *o);

#endif
