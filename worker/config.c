/*
 * config.c - vetred-worker's own settings, beside the core and the
 * worker runtime's (VETRED_WORKER_*, lib/worker.c).  The README's
 * configuration table lists them.
 */
#include <stdio.h>

#include "worker.h"

#define N(n, d, lo, hi, f, doc) \
	VR_CFG_N(n, VR_CFG_INT, d, lo, hi, struct wk_config, f, doc)

const struct vr_cfg_var wk_config_vars[] = {
	N("VETRED_OUTBOX_RETENTION_DAYS", 7, 1, 3650, retention_days,
	    "days a published outbox event (and a consumer's mark of it) is "
	    "kept before purga_outbox deletes it"),
	N("VETRED_SEAL_MAX_BATCHES", 100, 1, 10000, seal_batches,
	    "audit rows sealed per sellado_auditoria run, in batches of 500 "
	    "(the next run goes on)"),
	VR_CFG_S("VETRED_ICAL_DIR", "var/ical", struct wk_config, ical_dir,
	    "directory of the iCalendar feeds the calendar consumer writes "
	    "(feeds/) and of the subscriptions' links (t/) nginx serves"),
	N("VETRED_ICAL_DEBOUNCE_MS", 150, 0, 10000, ical_debounce_ms,
	    "milliseconds a feed's marks must settle before it is written "
	    "(a burst of bookings, one writing)"),
};

struct wk_config wk_cfg;

const size_t wk_config_nvars = sizeof(wk_config_vars) / sizeof(wk_config_vars[0]);

int
wk_config_load(struct wk_config *c, char *err, size_t errlen)
{
	return vr_config_parse(c, wk_config_vars, wk_config_nvars, err, errlen);
}
