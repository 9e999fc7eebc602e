/*
 * admin.c - vetred-admin: operator commands that need no API.
 *
 *   vetred-admin hash              password on stdin -> Argon2id hash on
 *                                  stdout (for seeds and provisioning)
 *   vetred-admin clave EMAIL       password on stdin -> set it for the
 *                                  user (the first admin's, say); every
 *                                  session of the user is revoked
 *   vetred-admin sellar            seal the audit rows not yet in the hash
 *                                  chain (what a periodic job runs)
 *   vetred-admin verificar         walk the chain; print its state as JSON,
 *                                  exit 1 when a link is broken
 *
 * Passwords must pass the same policy as through the API (10+ characters,
 * not a common password).  Reads VETRED_DATABASE_URL, VETRED_ARGON2_* and
 * VETRED_COMMON_PASSWORDS_FILE like the services.  Exit 0 on success, 1 on
 * a refused password, an unknown user or a broken chain, 2 on bad usage,
 * configuration or database errors.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vr.h"

static int
usage(void)
{
	fprintf(stderr, "usage: vetred-admin hash | clave EMAIL  "
	    "(password on stdin)\n"
	    "       vetred-admin sellar | verificar\n");
	return 2;
}

/* sellar and verificar: the audit chain. */
static int
chain(const struct vr_config *cfg, int seal)
{
	struct vr_db db;
	PGresult *res = NULL;
	long total = 0, n;
	int rc = 0, broken;

	vr_log_init("admin", VR_LOG_WARN);
	if (vr_db_open(&db, cfg->database_url, NULL, 0, 0) < 0) {
		fprintf(stderr, "vetred-admin: cannot connect to the database\n");
		return 2;
	}
	if (seal) {
		do {
			if (vr_db_query(&db, "SELECT auditoria_sellar(10000)",
			    &res) < 0) {
				rc = 2;
				break;
			}
			n = atol(PQgetvalue(res, 0, 0));
			PQclear(res);
			total += n;
		} while (n > 0);
		if (rc == 0)
			printf("%ld audit rows sealed\n", total);
	} else if (vr_db_query(&db, "SELECT auditoria_estado()", &res) < 0)
		rc = 2;
	else {
		printf("%s\n", PQgetvalue(res, 0, 0));
		broken = strstr(PQgetvalue(res, 0, 0), "\"integra\": false") !=
		    NULL;
		PQclear(res);
		rc = broken ? 1 : 0;
	}
	if (rc == 2)
		fprintf(stderr, "vetred-admin: %s\n", db.errmsg);
	vr_db_close(&db);
	return rc;
}

/* One line from stdin without its newline; NULL when empty. */
static char *
read_password(char *buf, size_t n)
{
	if (fgets(buf, (int)n, stdin) == NULL)
		return NULL;
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf[0] ? buf : NULL;
}

int
main(int argc, char **argv)
{
	struct vr_config cfg;
	struct vr_db db;
	char err[256], pw[1100], hash[VR_PASSWORD_HASH_LEN];
	const char *why, *p[2];
	const char *const sql[] = { "UPDATE usuarios SET password_hash = $2 "
	    "WHERE lower(email) = lower($1)", NULL };
	PGresult *res = NULL;
	int rc;

	if (argc == 2 && (strcmp(argv[1], "sellar") == 0 ||
	    strcmp(argv[1], "verificar") == 0)) {
		if (vr_config_load(&cfg, err, sizeof(err)) < 0) {
			fprintf(stderr, "vetred-admin: %s\n", err);
			return 2;
		}
		return chain(&cfg, strcmp(argv[1], "sellar") == 0);
	}
	if (argc < 2 || (strcmp(argv[1], "hash") == 0 && argc != 2) ||
	    (strcmp(argv[1], "clave") == 0 && argc != 3) ||
	    (strcmp(argv[1], "hash") != 0 && strcmp(argv[1], "clave") != 0))
		return usage();
	if (vr_config_load(&cfg, err, sizeof(err)) < 0) {
		fprintf(stderr, "vetred-admin: %s\n", err);
		return 2;
	}
	if (vr_common_passwords_load(cfg.common_passwords) < 0) {
		fprintf(stderr, "vetred-admin: cannot read %s\n",
		    cfg.common_passwords);
		return 2;
	}
	if (read_password(pw, sizeof(pw)) == NULL) {
		fprintf(stderr, "vetred-admin: no password on stdin\n");
		return 2;
	}
	if ((why = vr_password_weak(pw, argc == 3 ? argv[2] : NULL)) != NULL) {
		fprintf(stderr, "vetred-admin: the password %s\n", why);
		return 1;
	}
	if (vr_password_hash(pw, &cfg.kdf, hash, sizeof(hash)) < 0) {
		fprintf(stderr, "vetred-admin: hashing failed\n");
		return 2;
	}
	if (argc == 2) {
		printf("%s\n", hash);
		return 0;
	}
	vr_log_init("admin", VR_LOG_WARN);
	if (vr_db_open(&db, cfg.database_url, sql, 1, 0) < 0) {
		fprintf(stderr, "vetred-admin: cannot connect to the database\n");
		return 2;
	}
	p[0] = argv[2];
	p[1] = hash;
	rc = vr_db_exec_write(&db, 0, 2, p, &res);
	if (rc == 0 && strcmp(PQcmdTuples(res), "1") != 0)
		rc = VR_ENOTFOUND;
	PQclear(res);
	vr_db_close(&db);
	if (rc < 0) {
		fprintf(stderr, "vetred-admin: %s: %s\n", argv[2],
		    rc == VR_ENOTFOUND ? "no such user" : vr_strerror(rc));
		return 1;
	}
	printf("password set for %s; their sessions were revoked\n", argv[2]);
	return 0;
}
