/* SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause */
/* Command-line options from one table per command, in the spirit of
 * xdp-tools' DEFINE_OPTION: each option is written once (names, type,
 * where its value goes, help), and the getopt_long strings, the parsing
 * with its checks and the help text all come from that entry.
 *
 * A short letter means one option in every command that has it
 * (tests/cli_test.sh checks the help texts); the long forms are for
 * scripts and unit files.  Where two commands gave a letter two meanings,
 * one kept it and the other's option is long only: -r is drain's
 * --retry-after (attach and run: --reply-rate), -j status's --json
 * (drain: --retry-jitter), -w drain's --wait (status: --watch), -P
 * classify's --pcap (attach and run: --peer-window). */
#ifndef SD_OPTIONS_H
#define SD_OPTIONS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "sipdrain_common.h"

enum sd_opt_type {
	SD_OPT_FLAG,            /* no value: sets a bool (no field: accepted, ignored) */
	SD_OPT_UINT,            /* an unsigned decimal in [min, max], or one of words */
	SD_OPT_DURATION,        /* sd_parse_duration() in ns, at least min, or one of words */
	SD_OPT_ENUM,            /* one of words, nothing else */
	SD_OPT_PORT,            /* 1..65535, repeatable: into a struct sd_ports */
	SD_OPT_METHOD,          /* a SIP method, repeatable: a bit each in a __u32 */
	SD_OPT_STRING,          /* const char *, at most max bytes (0: any length) */
	SD_OPT_TEXT,            /* a header value: STRING without quotes, backslashes
				 * or line breaks */
};

/* A value spelled as a word ("off", "auto", "native"). */
struct sd_opt_word {
	const char *word;
	__u64 value;
};

/* "0" and "off": the setting is turned off (its value is 0). */
extern const struct sd_opt_word sd_opt_off[];

struct sd_opt {
	const char *name;               /* the long option; errors name it so */
	char letter;                    /* short option, 0 for none */
	enum sd_opt_type type;
	const char *arg;                /* the value's name in the help: N, DURATION */
	size_t off, size;               /* the value's field: SD_OPT_FIELD() */
	size_t seen;                    /* SD_OPT_SEEN(): a bool set when given; 0: none */
	__u64 min, max;                 /* UINT: range; DURATION: min (ns); STRING: max */
	const struct sd_opt_word *words; /* tried first; ended by { NULL } */
	bool optional;                  /* --name[=ARG]; bare, the value is `bare` */
	__u64 bare;
	const char *what;               /* errors call it this instead of name */
	const char *help;               /* one paragraph, wrapped when printed */
};

#define SD_OPT_FIELD(type, field) \
	.off = offsetof(type, field), .size = sizeof(((type *)0)->field)
/* offset + 1, so that 0 (what an entry without .seen gets) means none */
#define SD_OPT_SEEN(type, field) .seen = offsetof(type, field) + 1

/* One table, ended by { NULL }, and the struct its fields are in: a
 * command parses with several (attach and run share one). */
struct sd_opt_group {
	const struct sd_opt *opts;
	void *base;
};

struct sd_ports {
	__u16 port[SD_MAX_PORTS];
	__u32 n;
};

/* What --help prints around the options: "Usage: sipdrain CMD
 * [OPTIONS] OPERANDS" (one line per '\n' in operands), the text, the
 * options, the epilogue. */
struct sd_usage {
	const char *cmd;                /* NULL: sipdrain's own options */
	const char *operands;
	const char *text;
	const char *epilogue;
	bool options_first;             /* stop at the first operand (the command) */
};

/* Parse the command's options (argv[0] is the command) into the
 * groups' structs; --help prints the usage and exits 0.  Returns the
 * index of the first operand (and leaves it in optind), or -1 after one
 * line on stderr. */
int sd_opts_parse(int argc, char **argv, const struct sd_usage *u,
		  const struct sd_opt_group *groups);

#endif
