// SPDX-License-Identifier: GPL-2.0 OR BSD-2-Clause
#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "agent.h"
#include "gate.h"
#include "log.h"

extern char **environ;

bool sd_agent_sends_byes;

/* The outcome in the hook's environment: NAME=value, built before fork
 * (`run` has threads: the child only calls async-signal-safe functions,
 * setsid and execve). */
#define HOOK_VARS 8

void sd_agent_run_hook(const struct sd_config *c)
{
	char vars[HOOK_VARS][64], cmd[sizeof(c->on_offline) + 1];
	char *argv[] = { "sh", "-c", cmd, NULL };
	char **envp;
	size_t n = 0, k = 0;
	pid_t pid;

	snprintf(vars[k++], 64, "SIPDRAIN_REASON=%s",
		 c->offline_reason == SD_OR_DEADLINE ? "deadline" : "last_call");
	snprintf(vars[k++], 64, "SIPDRAIN_CALLS_CUT=%u", c->calls_cut);
	snprintf(vars[k++], 64, "SIPDRAIN_UNSEEN_CALLS_MAY_BE_CUT=%s",
		 c->flags & SD_CF_UNSEEN_CUT ? "1" : "0");
	snprintf(vars[k++], 64, "SIPDRAIN_CALLS_BYE=%u", c->bye_calls);
	snprintf(vars[k++], 64, "SIPDRAIN_BYE_ANSWERED=%u", c->bye_answered);
	snprintf(vars[k++], 64, "SIPDRAIN_BYE_NO_ANSWER=%u", c->bye_no_answer);
	snprintf(vars[k++], 64, "SIPDRAIN_BYE_ANSWERED_OTHERWISE=%u", c->bye_otherwise);
	snprintf(vars[k++], 64, "SIPDRAIN_CALLS_NOT_ENDED=%u",
		 c->not_ended_learned + c->not_ended_early + c->not_ended_no_details);
	snprintf(cmd, sizeof(cmd), "%.*s", (int)sizeof(c->on_offline), c->on_offline);
	while (environ && environ[n])
		n++;
	envp = calloc(n + HOOK_VARS + 1, sizeof(*envp));
	if (!envp) {
		pr_warn("cannot run the on-offline hook: %s\n", strerror(ENOMEM));
		return;
	}
	n = 0;
	for (size_t i = 0; environ && environ[i]; i++)
		if (strncmp(environ[i], "SIPDRAIN_", 9))    /* ours are set below */
			envp[n++] = environ[i];
	for (size_t i = 0; i < HOOK_VARS; i++)
		envp[n++] = vars[i];
	pid = fork();
	if (pid < 0)
		pr_warn("cannot run the on-offline hook: %s\n", strerror(errno));
	if (pid == 0) {
		setsid();
		execve("/bin/sh", argv, envp);
		_exit(127);
	}
	free(envp);
}

int sd_agent_tick(struct sd_snapshot *out)
{
	static int empty_walks;
	struct sd_snapshot s;
	struct sd_config now_cfg;
	const char *why;
	double left;
	int err, fd, lock;
	bool hook;

	err = sd_snapshot_take(&s, true);
	if (err)
		return err;
	if (out)
		*out = s;
	if (s.cfg.state != SD_DRAINING || !s.cfg.deadline_ns)
		return 0;               /* without a deadline a drain waits for resume */
	left = sd_seconds_left(&s);
	/* early offline only on a picture the gate can vouch for: no call
	 * left that it knows of, and watched long enough that a silent call
	 * older than the gate would have shown itself */
	if (left > 0 && (s.dlg.live || (s.cfg.flags & SD_CF_NO_EARLY_OFFLINE) ||
			 sd_early_offline_wait_ns(&s, &why))) {
		empty_walks = 0;
		return 0;
	}
	/* and on two walks in a row that found no call: a walk of the tables
	 * is not atomic, the second one confirms the first */
	if (left > 0 && ++empty_walks < 2)
		return 0;
	empty_walks = 0;

	/* the CLI may have changed it meanwhile: decide on the latest, under
	 * the lock every drain and resume takes, so that none of them falls
	 * between this read and the write */
	fd = sd_config_begin(&now_cfg, &lock);
	if (fd < 0)
		return fd;
	if (now_cfg.state != SD_DRAINING || now_cfg.deadline_ns != s.cfg.deadline_ns ||
	    now_cfg.drain_started_ns != s.cfg.drain_started_ns)
		return sd_config_end(fd, lock, NULL);
	now_cfg.state = SD_OFFLINE;
	now_cfg.offline_ns = sd_now_ns();
	now_cfg.offline_reason = left > 0 ? SD_OR_LAST_CALL : SD_OR_DEADLINE;
	now_cfg.calls_cut = left > 0 ? 0 : s.dlg.live;
	if (left <= 0 && sd_early_offline_wait_ns(&s, &why))
		now_cfg.flags |= SD_CF_UNSEEN_CUT;
	/* calls cut: `run` ends them with BYE, and the hook waits for the
	 * outcome (drain --wait without a run cannot send them) */
	now_cfg.bye_calls = now_cfg.bye_answered = now_cfg.bye_no_answer = 0;
	now_cfg.bye_otherwise = now_cfg.not_ended_learned = 0;
	now_cfg.not_ended_early = now_cfg.not_ended_no_details = 0;
	if (left <= 0 && now_cfg.calls_cut && !(now_cfg.flags & SD_CF_BYE_OFF)) {
		if (sd_agent_sends_byes && s.dlg.by_state[SD_D_CONFIRMED] + s.dlg.by_state[SD_D_CLOSING]) {
			now_cfg.flags |= SD_CF_BYE_PENDING;
		} else {
			/* nothing a BYE can end: what is up, counted now (the
			 * hook runs at once, as it always did) */
			now_cfg.not_ended_learned = s.dlg.learned + s.dlg.tentative;
			now_cfg.not_ended_early = s.dlg.by_state[SD_D_ATTEMPT] + s.dlg.by_state[SD_D_EARLY];
		}
	}
	hook = now_cfg.on_offline[0] && !(now_cfg.flags & (SD_CF_HOOK_DONE | SD_CF_BYE_PENDING));
	if (hook)
		now_cfg.flags |= SD_CF_HOOK_DONE;
	sd_config_stamp(&now_cfg);
	err = sd_config_end(fd, lock, &now_cfg);
	if (err)
		return err;
	if (now_cfg.offline_reason == SD_OR_LAST_CALL)
		pr_info("offline: the last call ended %.1f s into the drain, %.1f s before the deadline\n",
			(now_cfg.offline_ns - now_cfg.drain_started_ns) / 1e9, left);
	else
		pr_info("offline: deadline reached, %u call%s cut%s\n", now_cfg.calls_cut,
			now_cfg.calls_cut == 1 ? "" : "s", now_cfg.flags & SD_CF_UNSEEN_CUT ?
			" (and any call older than the gate that stayed silent)" : "");
	if (out) {
		out->cfg = now_cfg;
	}
	/* once per drain: the flag went in with the switch, under the lock */
	if (hook)
		sd_agent_run_hook(&now_cfg);
	return 1;
}
