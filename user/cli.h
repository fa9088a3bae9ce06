/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Subcommands and the small helpers they share. */
#ifndef SD_CLI_H
#define SD_CLI_H

#include <getopt.h>
#include <stdbool.h>
#include <linux/types.h>

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

/* Parse an unsigned decimal in [min, max]; prints one line and returns
 * false when it is not one. */
bool sd_parse_uint(const char *what, const char *s, unsigned long min,
		   unsigned long max, unsigned long *out);
/* "90", "90s", "10m", "1h", "1500ms" -> nanoseconds (at most 7 days);
 * 0 when not a duration. */
__u64 sd_parse_duration(const char *s);
/* --min-watch: a duration, or 0/off; one line and false if not. */
bool sd_parse_min_watch(const char *s, __u64 *ns);
/* getopt_long with our conventions: --help prints usage and exits 0, a
 * bad option prints one line and exits 2.  Returns the option or -1. */
int sd_getopt(int argc, char **argv, const char *shortopts,
	      const struct option *longopts, const char *usage);
/* --port parsing into a list without duplicates. */
bool sd_add_port(__u16 *ports, __u32 *nports, const char *arg);
/* The long options attach and run share (sd_parse_attach_opt). */
#define SD_ATTACH_LONGOPTS \
	{ "port", required_argument, NULL, 'p' }, \
	{ "mode", required_argument, NULL, 'm' }, \
	{ "max-dialogs", required_argument, NULL, 'd' }, \
	{ "dialog-idle", required_argument, NULL, 'I' }, \
	{ "reply-rate", required_argument, NULL, 'r' }, \
	{ "reply-burst", required_argument, NULL, 'b' }, \
	{ "tcp-port", required_argument, NULL, 'T' }, \
	{ "min-watch", required_argument, NULL, 'W' }, \
	{ "peer-window", required_argument, NULL, 'P' }
#define SD_ATTACH_SHORTOPTS "p:m:d:I:r:b:T:W:P:"

struct sd_attach_opts;
/* -p/-m/-d of attach and run; 0, or an exit code after one line. */
int sd_parse_attach_opt(int opt, struct sd_attach_opts *o, __u16 *ports);
/* The IFACE... operands of attach and run. */
int sd_take_ifaces(int argc, char **argv, const char *cmd, struct sd_attach_opts *o);

#endif
