/*
 * migrate.c - vetred-migrate: apply the database migrations.
 *
 * Usage: vetred-migrate [DIR]   (default VETRED_MIGRATIONS_DIR, then
 * db/migrations).  Connects to VETRED_DATABASE_URL.  Exit 0 when the
 * schema is up to date, 1 on any failure (the message says which file).
 */
#include <stdio.h>

#include "vr.h"

static void
log_result(int rc, int applied, const char *err)
{
	struct vr_log_field f[] = { VR_LF_INT("applied", applied),
	    VR_LF_STR("error", err) };

	vr_log_fields(rc < 0 ? VR_LOG_ERROR : VR_LOG_INFO, NULL,
	    rc < 0 ? "migration failed" : "schema up to date", f,
	    rc < 0 ? 2 : 1);
}

int
main(int argc, char *argv[])
{
	struct vr_config cfg;
	struct vr_db db;
	char err[512];
	int applied = 0, rc;

	if (vr_config_load(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "vetred-migrate: %s\n", err);
		return 2;
	}
	vr_log_init("migrate", cfg.log_level);
	if (argc > 2) {
		fprintf(stderr, "usage: vetred-migrate [DIR]\n");
		return 2;
	}
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
