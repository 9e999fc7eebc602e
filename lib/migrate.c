/*
 * migrate.c - the migrations runner.
 *
 * Applies dir/NNNN_name.sql in file-name order, each file once, each in its
 * own transaction together with its row in schema_migraciones (version,
 * file name, SHA-256 of the file).  An applied file whose checksum changed
 * is an error: migrations are never edited after they land, a new one is
 * written instead.  A session advisory lock serializes runners started at
 * the same time (several API hosts, compose replicas).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vr.h"

#define MIGRATE_LOCK_KEY	"7324518210"
#define MAX_FILE_BYTES		(8L << 20)

static const char create_table[] =
    "CREATE TABLE IF NOT EXISTS schema_migraciones ("
    " version text PRIMARY KEY,"
    " archivo text NOT NULL,"
    " checksum text NOT NULL,"
    " aplicado_en timestamptz NOT NULL DEFAULT now())";

/* NNNN_name.sql: at least 4 digits, an underscore, a name, ".sql". */
static int
is_migration(const char *name)
{
	size_t n = strlen(name), i;

	if (n < 10 || strcmp(name + n - 4, ".sql") != 0)
		return 0;
	for (i = 0; i < 4; i++)
		if (!isdigit((unsigned char)name[i]))
			return 0;
	while (isdigit((unsigned char)name[i]))
		i++;
	return name[i] == '_' && i + 1 < n - 4;
}

/* By version number first, so 10000_x follows 9999_y. */
static int
cmp_names(const void *a, const void *b)
{
	const char *x = *(char *const *)a, *y = *(char *const *)b;
	unsigned long vx = strtoul(x, NULL, 10), vy = strtoul(y, NULL, 10);

	if (vx != vy)
		return vx < vy ? -1 : 1;
	return strcmp(x, y);
}

static int
list_dir(const char *dir, char ***out, int *n, char *err, size_t errlen)
{
	DIR *d;
	struct dirent *de;
	char **v = NULL;
	int cnt = 0, cap = 0;

	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return VR_EIO;
	}
	while ((de = readdir(d)) != NULL) {
		if (!is_migration(de->d_name))
			continue;
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			v = vr_xrealloc(v, sizeof(*v) * (size_t)cap);
		}
		v[cnt++] = vr_xstrdup(de->d_name);
	}
	closedir(d);
	if (cnt > 0)
		qsort(v, (size_t)cnt, sizeof(*v), cmp_names);
	*out = v;
	*n = cnt;
	return 0;
}

static int
read_file(const char *path, struct vr_buf *b, char *err, size_t errlen)
{
	FILE *f;
	char chunk[8192];
	size_t got;

	if ((f = fopen(path, "rb")) == NULL) {
		snprintf(err, errlen, "%s: %s", path, strerror(errno));
		return VR_EIO;
	}
	while ((got = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		vr_buf_append(b, chunk, got);
		if ((long)b->len > MAX_FILE_BYTES) {
			fclose(f);
			snprintf(err, errlen, "%s: larger than %ld bytes",
			    path, MAX_FILE_BYTES);
			return VR_ETOOBIG;
		}
	}
	fclose(f);
	return 0;
}

/* 1 applied with the same checksum, 0 not applied, < 0 error. */
static int
applied_state(struct vr_db *db, const char *version, const char *sum,
    const char *file, char *err, size_t errlen)
{
	const char *p[1] = { version };
	PGresult *res;
	int rc;

	res = PQexecParams(db->conn, "SELECT checksum FROM schema_migraciones"
	    " WHERE version = $1", 1, NULL, p, NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "%s", PQerrorMessage(db->conn));
		PQclear(res);
		return VR_EDB;
	}
	if (PQntuples(res) == 0)
		rc = 0;
	else if (strcmp(PQgetvalue(res, 0, 0), sum) == 0)
		rc = 1;
	else {
		snprintf(err, errlen, "%s was changed after it was applied "
		    "(checksum %.12s…, recorded %.12s…); write a new migration "
		    "instead", file, sum, PQgetvalue(res, 0, 0));
		rc = VR_ECHECKSUM;
	}
	PQclear(res);
	return rc;
}

static int
apply_one(struct vr_db *db, const char *dir, const char *file, int *applied,
    char *err, size_t errlen)
{
	struct vr_buf body, path;
	char sum[65], version[32];
	const char *p[3];
	PGresult *res;
	int rc;

	vr_buf_init(&body);
	vr_buf_init(&path);
	vr_buf_printf(&path, "%s/%s", dir, file);
	if ((rc = read_file(path.data, &body, err, errlen)) < 0)
		goto out;
	if (body.len == 0 || !vr_utf8_valid(body.data, body.len)) {
		snprintf(err, errlen, "%s: empty or not UTF-8", file);
		rc = VR_EINVAL;
		goto out;
	}
	vr_sha256_hex(body.data, body.len, sum);
	snprintf(version, sizeof(version), "%.*s",
	    (int)strcspn(file, "_"), file);
	if ((rc = applied_state(db, version, sum, file, err, errlen)) != 0) {
		if (rc > 0)
			rc = 0;
		goto out;
	}
	if ((rc = vr_db_begin(db)) < 0)
		goto dberr;
	if ((rc = vr_db_query(db, body.data, NULL)) < 0) {
		snprintf(err, errlen, "%s: %s (SQLSTATE %s)", file, db->errmsg,
		    db->sqlstate);
		vr_db_rollback(db);
		goto out;
	}
	p[0] = version;
	p[1] = file;
	p[2] = sum;
	res = PQexecParams(db->conn, "INSERT INTO schema_migraciones"
	    " (version, archivo, checksum) VALUES ($1, $2, $3)", 3, NULL, p,
	    NULL, NULL, 0);
	if (PQresultStatus(res) != PGRES_COMMAND_OK) {
		snprintf(err, errlen, "%s: %s", file,
		    PQresultErrorMessage(res));
		PQclear(res);
		vr_db_rollback(db);
		rc = VR_EDB;
		goto out;
	}
	PQclear(res);
	if ((rc = vr_db_commit(db)) < 0)
		goto dberr;
	(*applied)++;
	vr_log(VR_LOG_INFO, NULL, "migration applied", "file", file, NULL);
	goto out;
dberr:
	snprintf(err, errlen, "%s: %s", file, db->errmsg);
out:
	vr_buf_free(&body);
	vr_buf_free(&path);
	return rc;
}

int
vr_migrate(struct vr_db *db, const char *dir, int *applied, char *err,
    size_t errlen)
{
	char **files = NULL;
	int n = 0, i, rc;
	PGresult *res;

	*applied = 0;
	err[0] = '\0';
	if ((rc = list_dir(dir, &files, &n, err, errlen)) < 0)
		return rc;
	for (i = 1; i < n; i++) {
		if (strtoul(files[i - 1], NULL, 10) ==
		    strtoul(files[i], NULL, 10)) {
			snprintf(err, errlen, "%s and %s share a version "
			    "number", files[i - 1], files[i]);
			rc = VR_EINVAL;
			goto out;
		}
	}
	if ((rc = vr_db_query(db, "SELECT pg_advisory_lock("
	    MIGRATE_LOCK_KEY ")", NULL)) < 0) {
		snprintf(err, errlen, "%s", db->errmsg);
		goto out;
	}
	if ((rc = vr_db_query(db, create_table, NULL)) < 0)
		snprintf(err, errlen, "%s", db->errmsg);
	for (i = 0; i < n && rc == 0; i++)
		rc = apply_one(db, dir, files[i], applied, err, errlen);
	res = PQexec(db->conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY
	    ")");
	PQclear(res);
out:
	for (i = 0; i < n; i++)
		free(files[i]);
	free(files);
	return rc;
}
