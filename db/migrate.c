/*
 * migrate.c - vetred-migrate: apply the database migrations.
 *
 * Usage: vetred-migrate [DIR]   (default VETRED_MIGRATIONS_DIR, then
 * db/migrations).  Connects to VETRED_DATABASE_URL.  Everything it says
 * is a JSON line on stderr (the server's notices and warnings too).
 * Exit 0 when the schema is up to date, 1 on any failure (the message
 * says which file), 2 on bad usage or configuration.
 */
#include <stdio.h>

#include "vr.h"

static void
log_result(int rc, int applied, const char *err)
{
	struct vr_log_field f[] = { VR_LF_INT("applied", applied),
	    VR_LF_STR("version", vr_version()), VR_LF_STR("error", err) };

	/* The error only when there is one. */
	vr_log_fields(rc < 0 ? VR_LOG_ERROR : VR_LOG_INFO, NULL,
	    rc < 0 ? "migration failed" : "schema up to date", f,
	    rc < 0 ? 3 : 2);
}

static const char usage[] =
    "usage: vetred-migrate [DIR]\n"
    "       vetred-migrate --help | --version\n"
    "Applies DIR/NNNN_*.sql (default VETRED_MIGRATIONS_DIR) to\n"
    "VETRED_DATABASE_URL, each file once, in order; logs JSON lines on\n"
    "stderr.  Exit 0: schema up to date; 1: a migration failed; 2: usage.\n";

int
main(int argc, char *argv[])
{
	struct vr_config cfg;
	struct vr_db db;
	char err[512];
	int applied = 0, rc;

	if ((rc = vr_cli_options(argc, argv, "vetred-migrate", usage,
	    NULL)) >= 0)
		return rc;
	vr_log_init("migrate", VR_LOG_INFO);
	if (argc > 2) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	if (vr_config_load(&cfg, err, sizeof(err)) < 0) {
		vr_log(VR_LOG_ERROR, NULL, "bad configuration", "error", err,
		    NULL);
		return 2;
	}
	vr_log_init("migrate", cfg.log_level);
	if (argc == 2)
		cfg.migrations_dir = argv[1];
	if (vr_db_open(&db, cfg.database_url, NULL, 0, 0) < 0) {
		vr_log(VR_LOG_ERROR, NULL, "cannot connect", "error",
		    db.errmsg, NULL);
		return 1;
	}
	rc = vr_migrate(&db, cfg.migrations_dir, &applied, err, sizeof(err));
	vr_db_close(&db);
	log_result(rc, applied, err);
	return rc < 0 ? 1 : 0;
}
