/*
 * config.c - vetred-scheduler's configuration table, parsed by lib/'s
 * vr_config_parse() beside the core every process loads.  The README's
 * configuration table lists them.
 */
#include <stdio.h>
#include <string.h>

#include "scheduler.h"

#define S(n, d, f, doc)	VR_CFG_S(n, d, struct sched_config, f, doc)
#define N(n, d, lo, hi, f, doc) \
	VR_CFG_N(n, VR_CFG_INT, d, lo, hi, struct sched_config, f, doc)

const struct vr_cfg_var sched_config_vars[] = {
	S("VETRED_SCHEDULER_INSTANCE", "scheduler", instance,
	    "this process's name in logs, metrics and the relay's lease"),
	S("VETRED_SCHEDULER_METRICS_ADDR", "127.0.0.1:9120", metrics_addr,
	    "monitoring listener (/health, /ready, /metrics); off: none"),
	N("VETRED_RELAY_BATCH", 500, 1, 10000, batch,
	    "outbox rows published per batch, their confirms in flight together"),
	N("VETRED_RELAY_POLL_MS", 1000, 10, 60000, poll_ms,
	    "longest sleep of an idle relay without a NOTIFY (the safety poll)"),
	N("VETRED_RELAY_LEASE_MS", 3000, 500, 60000, lease_ms,
	    "the relay lease's term; a standby takes over within it after "
	    "the holder died"),
	N("VETRED_RELAY_CONFIRM_TIMEOUT_MS", 5000, 100, 120000, confirm_ms,
	    "longest wait for a batch's confirms before reconnecting"),
	N("VETRED_RELAY_BACKOFF_MAX_MS", 5000, 100, 300000, backoff_max_ms,
	    "longest pause between reconnections to the broker"),
};

const size_t sched_config_nvars =
    sizeof(sched_config_vars) / sizeof(sched_config_vars[0]);

/* The table, then the checks across values.  0, or VR_ECONFIG. */
int
sched_config_load(struct sched_config *c, char *err, size_t errlen)
{
	int rc;

	if ((rc = vr_config_parse(c, sched_config_vars, sched_config_nvars,
	    err, errlen)) < 0)
		return rc;
	return vr_config_monitor(c->instance, "VETRED_SCHEDULER_INSTANCE", &c->metrics_addr, err,
	    errlen);
}
