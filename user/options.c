// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* The option tables' interpreter: getopt_long strings, parsing with each
 * type's checks, and the help text, all from the entries. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "gate.h"
#include "log.h"
#include "options.h"

/* Options of one command, --help included; getopt_long gives back
 * 256 + the index for a long option, the letter for a short one. */
#define MAX_OPTS 40
#define LONG_VAL 256

const struct sd_opt_word sd_opt_off[] = { { "0", 0 }, { "off", 0 }, { 0 } };

static const struct sd_opt help_opt = {
	.name = "help", .letter = 'h', .type = SD_OPT_FLAG, .help = "this text",
};

struct entry {
	const struct sd_opt *o;
	void *base;
};

static const char *what(const struct sd_opt *o)
{
	return o->what ?: o->name;
}

/* The words an operator types ("off", "auto", "skb"; not "0"), as
 * "a, b or c", after prefix; nothing when there are none. */
static void words_text(char *buf, size_t n, const char *prefix, const struct sd_opt_word *w)
{
	int k = 0, count = 0, i = 0;

	for (const struct sd_opt_word *p = w; p && p->word; p++)
		count += !isdigit((unsigned char)p->word[0]);
	buf[0] = '\0';
	for (; count && w->word; w++) {
		if (isdigit((unsigned char)w->word[0]))
			continue;
		k += snprintf(buf + k, n - k, "%s%s", i == 0 ? prefix : i == count - 1 ? " or " : ", ",
			      w->word);
		if ((size_t)k >= n)
			break;
		i++;
	}
}

/* The one line for a value the option's type refuses. */
static void bad_value(const struct sd_opt *o, const char *arg)
{
	char words[128];

	words_text(words, sizeof(words), ", or ", o->words);
	switch (o->type) {
	case SD_OPT_UINT:
		pr_warn("invalid %s '%s' (expected %llu..%llu%s)\n", what(o), arg,
			(unsigned long long)o->min, (unsigned long long)o->max, words);
		break;
	case SD_OPT_DURATION:
		if (o->min)
			pr_warn("invalid %s '%s' (a whole number with a unit ms, s, m, h or d, "
				"%.0f s to 7 days, e.g. 90s, 10m, 2h%s)\n",
				what(o), arg, o->min / 1e9, words);
		else
			pr_warn("invalid %s '%s' (a whole number with a unit ms, s, m, h or d, "
				"up to 7 days, e.g. 90s, 10m, 2h%s)\n", what(o), arg, words);
		break;
	case SD_OPT_ENUM:
		words_text(words, sizeof(words), "", o->words);
		pr_warn("invalid %s '%s' (%s)\n", what(o), arg, words);
		break;
	case SD_OPT_METHOD:
		pr_warn("unknown method '%s' (methods are case-sensitive: INVITE, OPTIONS, ...)\n", arg);
		break;
	case SD_OPT_STRING:
		pr_warn("invalid %s: longer than %llu bytes\n", what(o), (unsigned long long)o->max);
		break;
	case SD_OPT_TEXT:
		pr_warn("invalid %s: at most %llu characters, no quotes, backslashes or line breaks\n",
			what(o), (unsigned long long)o->max);
		break;
	default:                /* a flag or a port: never refused here */
		break;
	}
}

static bool parse_number(const char *s, __u64 min, __u64 max, __u64 *out)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (!*s || *end || errno || s[0] == '-' || v < min || v > max)
		return false;
	*out = v;
	return true;
}

/* Fields are bool/__u8, __u16, __u32/int or __u64/unsigned long. */
static void store(void *field, size_t size, __u64 v)
{
	__u8 v8 = v;
	__u16 v16 = v;
	__u32 v32 = v;

	switch (size) {
	case 1: memcpy(field, &v8, 1); break;
	case 2: memcpy(field, &v16, 2); break;
	case 4: memcpy(field, &v32, 4); break;
	case 8: memcpy(field, &v, 8); break;
	}
}

/* The number a flag, uint, duration or enum stands for: a word's, or
 * the value parsed (arg NULL: --name without its optional value). */
static bool number_of(const struct sd_opt *o, const char *arg, __u64 *v)
{
	if (o->type == SD_OPT_FLAG || !arg) {
		*v = o->type == SD_OPT_FLAG ? 1 : o->bare;
		return true;
	}
	for (const struct sd_opt_word *w = o->words; w && w->word; w++)
		if (!strcmp(arg, w->word)) {
			*v = w->value;
			return true;
		}
	if (o->type == SD_OPT_UINT)
		return parse_number(arg, o->min, o->max, v);
	if (o->type == SD_OPT_DURATION) {
		*v = sd_parse_duration(arg);
		return *v && *v >= o->min;
	}
	return false;           /* an enum is its words only */
}

/* One option's value into its field; one line and false if refused. */
static bool apply(const struct sd_opt *o, void *base, const char *arg)
{
	void *field = (char *)base + o->off;
	struct sd_ports *ports = field;
	__u64 v;
	int m;

	switch (o->type) {
	case SD_OPT_PORT:       /* sd_add_port says what is wrong */
		if (!sd_add_port(ports->port, &ports->n, arg))
			return false;
		break;
	case SD_OPT_METHOD:
		m = sd_method_by_name(arg);
		if (m < 0)
			goto bad;
		*(__u32 *)field |= 1U << m;
		break;
	case SD_OPT_TEXT:
		if (strpbrk(arg, "\r\n\"\\"))
			goto bad;
		/* fall through */
	case SD_OPT_STRING:
		if (o->max && strlen(arg) > o->max)
			goto bad;
		*(const char **)field = arg;
		break;
	default:
		if (!number_of(o, arg, &v))
			goto bad;
		store(field, o->size, v);
	}
	if (o->seen)
		*(bool *)((char *)base + o->seen - 1) = true;
	return true;
bad:
	bad_value(o, arg);
	return false;
}

/* "-p, --port N" / "    --peer-window DURATION" / "    --watch[=SECS]" */
static int spec(char *buf, size_t n, const struct sd_opt *o)
{
	return snprintf(buf, n, "%c%c%c --%s%s%s%s", o->letter ? '-' : ' ', o->letter ?: ' ',
			o->letter ? ',' : ' ', o->name, !o->arg ? "" : o->optional ? "[=" : " ",
			o->arg ?: "", o->arg && o->optional ? "]" : "");
}

/* Help text from column col, words wrapped before column 80. */
static void print_wrapped(const char *s, int col)
{
	int x = col;

	while (*s) {
		int len = strcspn(s, " ");

		if (x > col && x + 1 + len > 79) {
			printf("\n%*s", col, "");
			x = col;
		}
		printf("%s%.*s", x > col ? " " : "", len, s);
		x += (x > col) + len;
		s += len;
		s += strspn(s, " ");
	}
	putchar('\n');
}

static void print_usage(const struct sd_usage *u, const struct entry *all, int n)
{
	const char *ops = u->operands ?: "", *nl;
	const char *opts = n > 1 ? " [OPTIONS]" : "";
	int col = 0;
	char buf[80];

	for (const char *l = ops; l; l = nl ? nl + 1 : NULL) {
		nl = strchr(l, '\n');
		printf("%s sipdrain%s%s%s%s%.*s\n", l == ops ? "Usage:" : "      ",
		       u->cmd ? " " : "", u->cmd ?: "", opts, *l ? " " : "",
		       nl ? (int)(nl - l) : (int)strlen(l), l);
	}
	if (u->text)
		printf("\n%s", u->text);
	putchar('\n');
	for (int i = 0; i < n; i++) {
		int w = spec(buf, sizeof(buf), all[i].o);

		if (w > col && w <= 26)
			col = w;
	}
	col += 4;               /* two before the option, two after */
	for (int i = 0; i < n; i++) {
		int w = spec(buf, sizeof(buf), all[i].o);

		/* an option too long for the column has its text below */
		if (w + 4 > col)
			printf("  %s\n%*s", buf, col, "");
		else
			printf("  %-*s", col - 2, buf);
		print_wrapped(all[i].o->help, col);
	}
	if (u->epilogue)
		printf("\n%s", u->epilogue);
}

/* A table mistake (a letter or a name twice) is the programmer's: one
 * line, and the command refuses to run rather than guess. */
static bool collect(const struct sd_opt_group *groups, struct entry *all, int *n)
{
	*n = 0;
	for (const struct sd_opt_group *g = groups; g && g->opts; g++)
		for (const struct sd_opt *o = g->opts; o->name; o++) {
			if (*n >= MAX_OPTS - 1) {
				pr_warn("internal: more than %d options\n", MAX_OPTS - 1);
				return false;
			}
			all[(*n)++] = (struct entry){ o, g->base };
		}
	all[(*n)++] = (struct entry){ &help_opt, NULL };
	for (int i = 0; i < *n; i++)
		for (int j = 0; j < i; j++)
			if (!strcmp(all[i].o->name, all[j].o->name) ||
			    (all[i].o->letter && all[i].o->letter == all[j].o->letter)) {
				pr_warn("internal: option --%s defined twice, or its letter\n",
					all[i].o->name);
				return false;
			}
	return true;
}

/* getopt_long refused an option (c is '?' or ':'): one line. */
static void bad_option(const struct sd_usage *u, int c, const struct entry *all, char **argv)
{
	const char *cmd = u->cmd ?: "", *colon = u->cmd ? ": " : "", *sp = u->cmd ? " " : "";
	char name[64];

	if (optopt >= LONG_VAL)
		snprintf(name, sizeof(name), "--%s", all[optopt - LONG_VAL].o->name);
	else if (optopt)
		snprintf(name, sizeof(name), "-%c", optopt);
	else                    /* an unknown long option: as typed */
		snprintf(name, sizeof(name), "%s", argv[optind - 1]);
	if (c == ':')
		pr_warn("%s%soption '%s' needs a value (see 'sipdrain%s%s --help')\n",
			cmd, colon, name, sp, cmd);
	else if (optopt >= LONG_VAL)
		pr_warn("%s%soption '%s' takes no value (see 'sipdrain%s%s --help')\n",
			cmd, colon, name, sp, cmd);
	else
		pr_warn("%s%sunknown option '%s' (see 'sipdrain%s%s --help')\n",
			cmd, colon, name, sp, cmd);
}

int sd_opts_parse(int argc, char **argv, const struct sd_usage *u,
		  const struct sd_opt_group *groups)
{
	struct option longopts[MAX_OPTS + 1] = { { 0 } };
	char shortopts[3 * MAX_OPTS + 3];
	struct entry all[MAX_OPTS];
	int n, c, k = 0;

	if (!collect(groups, all, &n))
		return -1;
	if (u->options_first)
		shortopts[k++] = '+';    /* stop at the first operand */
	shortopts[k++] = ':';            /* a missing value: ':', not '?' */
	for (int i = 0; i < n; i++) {
		const struct sd_opt *o = all[i].o;
		int has = !o->arg ? no_argument : o->optional ? optional_argument : required_argument;

		longopts[i] = (struct option){ o->name, has, NULL, LONG_VAL + i };
		if (o->letter) {
			shortopts[k++] = o->letter;
			if (has != no_argument)
				shortopts[k++] = ':';
			if (has == optional_argument)
				shortopts[k++] = ':';
		}
	}
	shortopts[k] = '\0';

	opterr = 0;
	optind = 0;             /* glibc: start afresh */
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const struct sd_opt *o = NULL;
		int i = -1;

		if (c == ':' || c == '?') {
			bad_option(u, c, all, argv);
			return -1;
		}
		if (c >= LONG_VAL) {
			i = c - LONG_VAL;
		} else {
			for (i = 0; i < n && all[i].o->letter != c; i++)
				;
		}
		o = all[i].o;
		if (o == &help_opt) {
			print_usage(u, all, n);
			exit(SD_EXIT_OK);
		}
		/* "--watch 2" as well as "--watch=2": an optional value may
		 * follow as the next word when it is a number (never an
		 * interface name or another operand) */
		if (!optarg && o->optional && optind < argc && argv[optind][0] &&
		    strspn(argv[optind], "0123456789") == strlen(argv[optind]))
			optarg = argv[optind++];
		if (!apply(o, all[i].base, optarg))
			return -1;
	}
	return optind;
}
