/*
 * migrate.c - vetred-migrate: bring the database's schema and rules up to
 * date.
 *
 * Usage: vetred-migrate [DIR]   (DIR: the migrations, default
 * VETRED_MIGRATIONS_DIR, then db/migrations).  Applies the migrations,
 * then the function files of VETRED_FUNCTIONS_DIR (default db/functions)
 * when one of them changed (lib/migrate.c).  Connects to
 * VETRED_DATABASE_URL.  Everything it says is a JSON line on stderr (the
 * server's notices and warnings too).  Exit 0 when the schema is up to
 * date, 1 on any failure (the message says which file), 2 on bad usage or
 * configuration.
 */
#include <stdio.h>

#include "vr.h"
#include "migrate_config.h"

static void
log_result(int rc, int applied, int functions, const char *err)
{
	struct vr_log_field f[] = { VR_LF_INT("applied", applied),
	    VR_LF_INT("functions", functions),
	    VR_LF_STR("version", vr_version()), VR_LF_STR("error", err) };

	/* The error only when there is one. */
	vr_log_fields(rc < 0 ? VR_LOG_ERROR : VR_LOG_INFO, NULL,
	    rc < 0 ? "migration failed" : "schema up to date", f,
	    rc < 0 ? 4 : 3);
}

static const char usage[] =
    "usage: vetred-migrate [DIR]\n"
    "       vetred-migrate --help | --version\n"
    "Applies DIR/NNNN_*.sql (default VETRED_MIGRATIONS_DIR) to\n"
    "VETRED_DATABASE_URL, each file once, in order, then the function\n"
    "files of VETRED_FUNCTIONS_DIR (in the order of its ORDER file, all\n"
    "in one transaction) when one changed; logs JSON lines on stderr.\n"
    "Exit 0: schema up to date; 1: a migration or function file failed;\n"
    "2: usage.\n";

int
main(int argc, char *argv[])
{
	struct vr_config cfg;
	struct migrate_config mc;
	struct vr_db db;
	char err[512];
	int applied = 0, functions = 0, rc;

	if ((rc = vr_cli_options(argc, argv, "vetred-migrate", usage,
	    NULL)) >= 0)
		return rc;
	vr_log_init("migrate", VR_LOG_INFO);
	if (argc > 2) {
		fprintf(stderr, "%s", usage);
		return 2;
	}
	if (vr_config_load(&cfg, err, sizeof(err)) < 0 ||
	    vr_config_parse(&mc, migrate_vars, migrate_nvars, err,
	    sizeof(err)) < 0) {
		vr_log(VR_LOG_ERROR, NULL, "bad configuration", "error", err,
		    NULL);
		return 2;
	}
	vr_log_init("migrate", cfg.log_level);
	if (argc == 2)
		mc.migrations_dir = argv[1];
	if (vr_db_open(&db, cfg.database_url, NULL, 0, 0) < 0) {
		vr_log(VR_LOG_ERROR, NULL, "cannot connect", "error",
		    db.errmsg, NULL);
		return 1;
	}
	rc = vr_migrate_schema(&db, mc.migrations_dir, mc.functions_dir,
	    &applied, &functions, err, sizeof(err));
	vr_db_close(&db);
	log_result(rc, applied, functions, err);
	return rc < 0 ? 1 : 0;
}
