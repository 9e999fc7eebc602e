/*
 * main.c - vetred-worker: the engine's own consumers (worker.h) on lib/'s
 * worker runtime, until SIGTERM or SIGINT; then each finishes the message
 * in flight and main returns.
 */
#include <stdio.h>

#include "worker.h"

static const char usage[] =
    "usage: vetred-worker\n"
    "Runs the engine's jobs (purga_outbox, sellado_auditoria), keeps\n"
    "the dead letters (vetred.muertos) in eventos_muertos and writes\n"
    "the iCalendar feeds (VETRED_ICAL_DIR).\n"
    "Configuration from VETRED_* environment variables (see the README);\n"
    "runs until SIGTERM or SIGINT.\n";

int
main(int argc, char **argv)
{
	const struct vr_consumer cs[] = { wk_mantenimiento, wk_muertos,
	    wk_calendarios };
	struct vr_worker_config wc;
	struct vr_config cfg;
	char err[256];
	int rc;

	if (argc > 1) {
		if ((rc = vr_cli_options(argc, argv, "vetred-worker", usage,
		    NULL)) < 0) {
			fprintf(stderr, "vetred-worker: takes no arguments\n%s",
			    usage);
			rc = 2;
		}
		return rc;
	}
	if (vr_config_load(&cfg, err, sizeof(err)) < 0 ||
	    vr_worker_config_load(&wc, err, sizeof(err)) < 0 ||
	    wk_config_load(&wk_cfg, err, sizeof(err)) < 0) {
		vr_log(VR_LOG_ERROR, NULL, "bad configuration", "error", err,
		    NULL);
		return 2;
	}
	vr_log_init("worker", cfg.log_level);
	if (vr_log_rotation(cfg.log_file, cfg.log_max_bytes) < 0)
		vr_log(VR_LOG_WARN, NULL, "log file not used: stderr closed "
		    "or the file cannot be opened", NULL);
	if (wk_calendarios_start(&cfg) < 0) {
		vr_log(VR_LOG_ERROR, NULL, "cannot start the calendar writer",
		    NULL);
		return 1;
	}
	return vr_worker_run("vetred-worker", cs, sizeof(cs) / sizeof(cs[0]),
	    &cfg, &wc, NULL);
}
