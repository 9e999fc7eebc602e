/*
 * migrate.c - the migrations runner.
 *
 * Two kinds of files, applied in this order under one session advisory
 * lock (several API hosts or compose replicas may start runners at the
 * same time):
 *
 *  - Migrations, dir/NNNN_name.sql: schema changes, in file-name order,
 *    each file once, each in its own transaction together with its row
 *    in schema_migraciones (version, file name, SHA-256 of the file).  An
 *    applied file whose checksum changed is an error: migrations are
 *    never edited after they land, a new one is written instead.
 *
 *  - Function files, functions_dir/NAME.sql in the order its ORDER file
 *    lists them: the current definition of every function, trigger and
 *    view, written to be run any number of times (CREATE OR REPLACE).
 *    When any file, or the list, differs from what schema_funciones
 *    recorded, all of them run again in one transaction with their new
 *    rows; a failure leaves the previous definitions and record.  They
 *    run after the migrations, so they see the schema they are written
 *    for.
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

#define ORDER_FILE		"ORDER"

/* Both records, made together so a migration may grant on either. */
static const char create_tables[] =
    "CREATE TABLE IF NOT EXISTS schema_migraciones ("
    " version text PRIMARY KEY,"
    " archivo text NOT NULL,"
    " checksum text NOT NULL,"
    " aplicado_en timestamptz NOT NULL DEFAULT now());"
    "CREATE TABLE IF NOT EXISTS schema_funciones ("
    " archivo text PRIMARY KEY,"
    " orden integer NOT NULL UNIQUE,"
    " checksum text NOT NULL,"
    " aplicado_en timestamptz NOT NULL DEFAULT now())";

/* A function file named in ORDER, read in full. */
struct fn_file {
	char		*name;
	char		 sum[65];
	struct vr_buf	 body;
};

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

/* dir/file into b: a SQL file must be non-empty UTF-8. */
static int
read_sql(const char *dir, const char *file, struct vr_buf *b, char *err,
    size_t errlen)
{
	struct vr_buf path;
	int rc;

	vr_buf_init(&path);
	vr_buf_printf(&path, "%s/%s", dir, file);
	rc = read_file(path.data, b, err, errlen);
	vr_buf_free(&path);
	if (rc == 0 && (b->len == 0 || !vr_utf8_valid(b->data, b->len))) {
		snprintf(err, errlen, "%s: empty or not UTF-8", file);
		rc = VR_EINVAL;
	}
	return rc;
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
	struct vr_buf body;
	char sum[65], version[32];
	const char *p[3];
	PGresult *res;
	int rc;

	vr_buf_init(&body);
	if ((rc = read_sql(dir, file, &body, err, errlen)) < 0)
		goto out;
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
	return rc;
}

/* ---- function files --------------------------------------------------- */

/* A name ORDER may list: [a-z0-9_-]+.sql, so nothing outside dir. */
static int
is_function_file(const char *name)
{
	size_t n = strlen(name);

	return n > 4 && strcmp(name + n - 4, ".sql") == 0 &&
	    strspn(name, "abcdefghijklmnopqrstuvwxyz0123456789_-") == n - 4;
}

static void
fn_files_free(struct fn_file *v, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		free(v[i].name);
		vr_buf_free(&v[i].body);
	}
	free(v);
}

/* The names ORDER lists, one a line ('#' comments and blank lines aside). */
static int
read_order(const char *dir, struct fn_file **out, int *n, char *err,
    size_t errlen)
{
	struct vr_buf text, path;
	struct fn_file *v = NULL;
	char *line, *next, *end;
	int cnt = 0, cap = 0, i, rc;

	vr_buf_init(&text);
	vr_buf_init(&path);
	vr_buf_printf(&path, "%s/%s", dir, ORDER_FILE);
	if ((rc = read_file(path.data, &text, err, errlen)) < 0)
		goto out;
	for (line = text.data; line != NULL && rc == 0; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		line += strspn(line, " \t");
		end = line + strlen(line);
		while (end > line && (end[-1] == ' ' || end[-1] == '\t' ||
		    end[-1] == '\r'))
			*--end = '\0';
		if (*line == '\0' || *line == '#')
			continue;
		if (!is_function_file(line)) {
			snprintf(err, errlen, "%s: \"%.64s\" is not a file name "
			    "of the form name.sql", ORDER_FILE, line);
			rc = VR_EINVAL;
			break;
		}
		for (i = 0; i < cnt; i++)
			if (strcmp(v[i].name, line) == 0) {
				snprintf(err, errlen, "%s lists %s twice",
				    ORDER_FILE, line);
				rc = VR_EINVAL;
			}
		if (cnt == cap) {
			cap = cap ? cap * 2 : 16;
			v = vr_xrealloc(v, sizeof(*v) * (size_t)cap);
		}
		v[cnt].name = vr_xstrdup(line);
		vr_buf_init(&v[cnt].body);
		cnt++;
	}
out:
	vr_buf_free(&text);
	vr_buf_free(&path);
	if (rc < 0) {
		fn_files_free(v, cnt);
		v = NULL;
		cnt = 0;
	}
	*out = v;
	*n = cnt;
	return rc;
}

/* Every *.sql of dir is in ORDER: a file left out would never run. */
static int
all_listed(const char *dir, const struct fn_file *v, int n, char *err,
    size_t errlen)
{
	DIR *d;
	struct dirent *de;
	size_t len;
	int i, rc = 0;

	if ((d = opendir(dir)) == NULL) {
		snprintf(err, errlen, "%s: %s", dir, strerror(errno));
		return VR_EIO;
	}
	while (rc == 0 && (de = readdir(d)) != NULL) {
		len = strlen(de->d_name);
		if (len < 5 || strcmp(de->d_name + len - 4, ".sql") != 0)
			continue;
		for (i = 0; i < n && strcmp(v[i].name, de->d_name) != 0; i++)
			;
		if (i == n) {
			snprintf(err, errlen, "%s/%s is not listed in %s", dir,
			    de->d_name, ORDER_FILE);
			rc = VR_EINVAL;
		}
	}
	closedir(d);
	return rc;
}

/* 1 when schema_funciones holds exactly these files and sums, in order. */
static int
functions_recorded(struct vr_db *db, const struct fn_file *v, int n,
    char *err, size_t errlen)
{
	PGresult *res;
	int i, same;

	res = PQexec(db->conn, "SELECT archivo, checksum FROM schema_funciones"
	    " ORDER BY orden");
	if (PQresultStatus(res) != PGRES_TUPLES_OK) {
		snprintf(err, errlen, "schema_funciones: %s",
		    PQerrorMessage(db->conn));
		PQclear(res);
		return VR_EDB;
	}
	same = PQntuples(res) == n;
	for (i = 0; same && i < n; i++)
		same = strcmp(PQgetvalue(res, i, 0), v[i].name) == 0 &&
		    strcmp(PQgetvalue(res, i, 1), v[i].sum) == 0;
	PQclear(res);
	return same;
}

/* The record of what now stands: one row per file, in order. */
static int
record_functions(struct vr_db *db, const struct fn_file *v, int n,
    char *err, size_t errlen)
{
	char orden[16];
	const char *p[3];
	PGresult *res;
	int i, ok;

	res = PQexec(db->conn, "DELETE FROM schema_funciones");
	ok = PQresultStatus(res) == PGRES_COMMAND_OK;
	if (!ok)
		snprintf(err, errlen, "schema_funciones: %s",
		    PQresultErrorMessage(res));
	PQclear(res);
	for (i = 0; ok && i < n; i++) {
		snprintf(orden, sizeof(orden), "%d", i + 1);
		p[0] = v[i].name;
		p[1] = orden;
		p[2] = v[i].sum;
		res = PQexecParams(db->conn, "INSERT INTO schema_funciones"
		    " (archivo, orden, checksum) VALUES ($1, $2::int, $3)", 3,
		    NULL, p, NULL, NULL, 0);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		if (!ok)
			snprintf(err, errlen, "%s: %s", v[i].name,
			    PQresultErrorMessage(res));
		PQclear(res);
	}
	return ok ? 0 : VR_EDB;
}

/* Every file in one transaction, with the new record. */
static int
run_functions(struct vr_db *db, const struct fn_file *v, int n, char *err,
    size_t errlen)
{
	int i, rc;

	if ((rc = vr_db_begin(db)) < 0) {
		snprintf(err, errlen, "%s", db->errmsg);
		return rc;
	}
	for (i = 0; i < n; i++) {
		if ((rc = vr_db_query(db, v[i].body.data, NULL)) < 0) {
			snprintf(err, errlen, "%s: %s (SQLSTATE %s)", v[i].name,
			    db->errmsg, db->sqlstate);
			vr_db_rollback(db);
			return rc;
		}
	}
	if ((rc = record_functions(db, v, n, err, errlen)) < 0) {
		vr_db_rollback(db);
		return rc;
	}
	if ((rc = vr_db_commit(db)) < 0)
		snprintf(err, errlen, "%s", db->errmsg);
	return rc;
}

/* With the lock held: the files of dir, run again when any changed. */
static int
apply_functions(struct vr_db *db, const char *dir, int *applied, char *err,
    size_t errlen)
{
	struct fn_file *v = NULL;
	int n = 0, i, rc;

	if ((rc = read_order(dir, &v, &n, err, errlen)) < 0 ||
	    (rc = all_listed(dir, v, n, err, errlen)) < 0)
		goto out;
	for (i = 0; i < n; i++) {
		if ((rc = read_sql(dir, v[i].name, &v[i].body, err,
		    errlen)) < 0)
			goto out;
		vr_sha256_hex(v[i].body.data, v[i].body.len, v[i].sum);
	}
	if ((rc = functions_recorded(db, v, n, err, errlen)) != 0) {
		if (rc > 0)
			rc = 0;
		goto out;
	}
	if ((rc = run_functions(db, v, n, err, errlen)) < 0)
		goto out;
	*applied = n;
	for (i = 0; i < n; i++)
		vr_log(VR_LOG_INFO, NULL, "function file applied", "file",
		    v[i].name, NULL);
out:
	fn_files_free(v, n);
	return rc;
}

/* ---- both -------------------------------------------------------------- */

int
vr_migrate_schema(struct vr_db *db, const char *dir, const char *functions_dir,
    int *applied, int *functions, char *err, size_t errlen)
{
	char **files = NULL;
	int n = 0, i, rc;
	PGresult *res;

	*applied = 0;
	*functions = 0;
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
	if ((rc = vr_db_query(db, create_tables, NULL)) < 0)
		snprintf(err, errlen, "%s", db->errmsg);
	for (i = 0; i < n && rc == 0; i++)
		rc = apply_one(db, dir, files[i], applied, err, errlen);
	if (rc == 0 && functions_dir != NULL)
		rc = apply_functions(db, functions_dir, functions, err, errlen);
	res = PQexec(db->conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY
	    ")");
	PQclear(res);
out:
	for (i = 0; i < n; i++)
		free(files[i]);
	free(files);
	return rc;
}

int
vr_migrate(struct vr_db *db, const char *dir, int *applied, char *err,
    size_t errlen)
{
	int functions;

	return vr_migrate_schema(db, dir, NULL, applied, &functions, err,
	    errlen);
}
