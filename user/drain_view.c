// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
/* A drain's settings as people read them: what drain prints when it
 * changes a running drain, and what run's audit log says. */
#include <stdio.h>
#include <string.h>

#include "drain_view.h"
#include "gate.h"

void sd_drain_view(const struct sd_config *cfg, __u64 now, struct sd_drain_view *v)
{
	v->deadline_left = cfg->deadline_ns ? (cfg->deadline_ns > now ?
					       (cfg->deadline_ns - now) / 1e9 : 0) : -1;
	v->retry_auto = cfg->flags & SD_CF_RETRY_AUTO;
	v->retry_after = cfg->retry_after;
	v->retry_jitter = cfg->retry_jitter;
	v->allow = cfg->allow_mask;
	v->early = !(cfg->flags & SD_CF_NO_EARLY_OFFLINE);
	v->bye = !(cfg->flags & SD_CF_BYE_OFF);
	v->hook = cfg->on_offline;
	v->min_watch = cfg->min_watch_ns / 1e9;
}

static void methods_text(__u32 mask, char *buf, size_t n)
{
	size_t k = 0;

	buf[0] = 0;
	for (int m = 1; m < SD_M_MAX && k < n; m++)
		if (mask & (1U << m))
			k += snprintf(buf + k, n - k, "%s%s", k ? "," : "", sd_method_names[m]);
	if (!k)
		snprintf(buf, n, "none");
}

int sd_drain_changes(const struct sd_drain_view *a, const struct sd_drain_view *b, char *buf,
			size_t n, const char **names)
{
	char x[96], y[96];
	size_t k = 0;
	int c = 0;

#define CHANGE(json, ...) do {							\
		if (names)							\
			names[c] = json;					\
		c++;								\
		if (k < n)							\
			k += snprintf(buf + k, n - k, "%s", k ? "; " : "");	\
		if (k < n)							\
			k += snprintf(buf + k, n - k, __VA_ARGS__);		\
	} while (0)

	buf[0] = 0;
	if ((a->deadline_left < 0) != (b->deadline_left < 0) ||
	    (b->deadline_left >= 0 && a->deadline_left != b->deadline_left)) {
		if (a->deadline_left < 0)
			snprintf(x, sizeof(x), "none");
		else
			snprintf(x, sizeof(x), "in %.0f s", a->deadline_left);
		if (b->deadline_left < 0)
			CHANGE("deadline", "no deadline now (was %s)", x);
		else
			CHANGE("deadline", "deadline now in %.0f s (was %s)", b->deadline_left, x);
	}
	if (a->retry_auto != b->retry_auto || a->retry_after != b->retry_after) {
		snprintf(x, sizeof(x), a->retry_auto ? "auto" : "%u", a->retry_after);
		snprintf(y, sizeof(y), b->retry_auto ? "auto" : "%u", b->retry_after);
		if (strcmp(x, y))
			CHANGE("retry_after", "Retry-After now %s (was %s)", y, x);
	}
	if (a->retry_jitter != b->retry_jitter)
		CHANGE("retry_jitter", "Retry-After jitter now %u s (was %u s)", b->retry_jitter,
		       a->retry_jitter);
	if (a->allow != b->allow) {
		methods_text(a->allow, x, sizeof(x));
		methods_text(b->allow, y, sizeof(y));
		CHANGE("allow", "allowed methods now %s (was %s)", y, x);
	}
	if (a->early != b->early)
		CHANGE("early_offline", "early offline now %s (was %s)", b->early ? "on" : "off",
		       a->early ? "on" : "off");
	if (a->bye != b->bye)
		CHANGE("at_deadline", "at the deadline now %s (was %s)", b->bye ? "bye" : "refuse",
		       a->bye ? "bye" : "refuse");
	if (strcmp(a->hook, b->hook))
		CHANGE("on_offline", "on-offline command now %s%s%s (was %s%s%s)",
		       *b->hook ? "'" : "", *b->hook ? b->hook : "none", *b->hook ? "'" : "",
		       *a->hook ? "'" : "", *a->hook ? a->hook : "none", *a->hook ? "'" : "");
	if (a->min_watch != b->min_watch)
		CHANGE("min_watch", "min-watch now %.0f s (was %.0f s)", b->min_watch, a->min_watch);
#undef CHANGE
	return c;
}

void sd_drain_describe(const struct sd_drain_view *v, char *buf, size_t n)
{
	char allow[96], retry[16];

	methods_text(v->allow, allow, sizeof(allow));
	snprintf(retry, sizeof(retry), v->retry_auto ? "auto" : "%u", v->retry_after);
	if (v->deadline_left >= 0)
		snprintf(buf, n, "deadline in %.0f s (then %s), early offline %s, Retry-After %s, "
			 "jitter %u s, allowed methods %s, min-watch %.0f s, on-offline command %s%s%s",
			 v->deadline_left, v->bye ? "BYE to calls still up" : "calls left up",
			 v->early ? "on" : "off", retry, v->retry_jitter, allow,
			 v->min_watch, *v->hook ? "'" : "", *v->hook ? v->hook : "none",
			 *v->hook ? "'" : "");
	else
		snprintf(buf, n, "no deadline, Retry-After %s, jitter %u s, allowed methods %s",
			 retry, v->retry_jitter, allow);
}

void sd_bye_summary(const struct sd_config *c, char *buf, size_t n)
{
	int k = snprintf(buf, n, "ended %u call%s with BYE (%u answered 200, %u no answer", c->bye_calls,
			 c->bye_calls == 1 ? "" : "s", c->bye_answered, c->bye_no_answer);

	if (c->bye_otherwise && k > 0 && (size_t)k < n)
		k += snprintf(buf + k, n - k, ", %u answered otherwise", c->bye_otherwise);
	if (k > 0 && (size_t)k < n)
		snprintf(buf + k, n - k, "), %u could not be ended (%u learned, %u early, %u without "
			 "details)", c->not_ended_learned + c->not_ended_early + c->not_ended_no_details,
			 c->not_ended_learned, c->not_ended_early, c->not_ended_no_details);
}

void sd_bye_json(FILE *f, const struct sd_config *c)
{
	fprintf(f, "{\"pending\":%s,\"calls\":%u,\"answered\":%u,\"no_answer\":%u,"
		"\"answered_otherwise\":%u,\"not_ended\":{\"learned\":%u,\"early\":%u,"
		"\"no_details\":%u}}", c->flags & SD_CF_BYE_PENDING ? "true" : "false", c->bye_calls,
		c->bye_answered, c->bye_no_answer, c->bye_otherwise, c->not_ended_learned,
		c->not_ended_early, c->not_ended_no_details);
}
