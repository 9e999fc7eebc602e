/*
 * worker.h - vetred-worker: the engine's own consumers on lib/'s worker
 * runtime.
 *
 *   mantenimiento  the jobs of the engine itself (vetred.trabajos, routing
 *                  key = job name): purga_outbox, sellado_auditoria
 *                  (jobs.c)
 *   muertos        the dead-letter drain: every message of the broker's
 *                  vetred.muertos into eventos_muertos, for inspection and
 *                  replay (muertos.c)
 *   calendarios    the iCalendar feeds of vets and sites, written on the
 *                  appointments' events, and the subscriptions' links
 *                  nginx serves them by (calendarios.c)
 */
#ifndef WORKER_H
#define WORKER_H

#include "vr.h"

struct wk_config {
	int	retention_days;		/* VETRED_OUTBOX_RETENTION_DAYS */
	int	seal_batches;		/* VETRED_SEAL_MAX_BATCHES */
	const char *ical_dir;		/* VETRED_ICAL_DIR */
	int	ical_debounce_ms;	/* VETRED_ICAL_DEBOUNCE_MS */
};

extern const struct vr_cfg_var wk_config_vars[];
extern const size_t wk_config_nvars;

int	wk_config_load(struct wk_config *c, char *err, size_t errlen);

extern const struct vr_consumer wk_mantenimiento;
extern const struct vr_consumer wk_muertos;
extern const struct vr_consumer wk_calendarios;

/* The feeds' writer thread (calendarios.c); 0 or -1. */
int	wk_calendarios_start(const struct vr_config *cfg);

/* What the handlers read of the configuration (set by main). */
extern struct wk_config wk_cfg;

#endif /* WORKER_H */
