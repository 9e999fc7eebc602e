/*
 * check_db.c - lib/db.c against a real PostgreSQL (VETRED_DATABASE_URL).
 *
 * Every test runs in a private schema, ut_<pid of the runner>, dropped and
 * created again before each test (checked fixture) and dropped at the end
 * of each test case (unchecked fixture, so a failed test leaves nothing
 * behind).  The connection under test reaches it through the URL option
 * search_path; a second, plain libpq connection sets up tables, looks at
 * the results from outside and kills backends for the reconnect tests.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "vr.h"
#include "tests.h"

/* ---- helpers shared with check_migrate.c (see tests.h) -------------- */

static char schema[32];
static char url[2048];

void
ut_db_name_schema(void)
{
	snprintf(schema, sizeof(schema), "ut_%ld", (long)getpid());
}

const char *
ut_db_schema(void)
{
	return schema;
}

const char *
ut_db_base_url(void)
{
	const char *u = getenv("VETRED_DATABASE_URL");

	ck_assert_msg(u != NULL && *u != '\0', "VETRED_DATABASE_URL is not "
	    "set: the db and migrate suites need PostgreSQL, e.g. "
	    "VETRED_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres");
	return u;
}

/*
 * The base URL with search_path (a URI with or without '?', or key=value
 * words); notices such as "already exists, skipping" are not printed.
 */
const char *
ut_db_url_with_path(const char *search_path)
{
	const char *base = ut_db_base_url();

	if (strstr(base, "://") != NULL)
		snprintf(url, sizeof(url), "%s%soptions=-csearch_path%%3D%s"
		    "%%20-cclient_min_messages%%3Dwarning", base,
		    strchr(base, '?') != NULL ? "&" : "?", search_path);
	else
		snprintf(url, sizeof(url), "%s options='-csearch_path=%s "
		    "-cclient_min_messages=warning'", base, search_path);
	return url;
}

const char *
ut_db_url(void)
{
	return ut_db_url_with_path(schema);
}

PGconn *
ut_db_admin(void)
{
	PGconn *c = PQconnectdb(ut_db_url());

	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "cannot connect to "
	    "VETRED_DATABASE_URL: %s", PQerrorMessage(c));
	return c;
}

void
ut_db_exec(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	ExecStatusType st = PQresultStatus(res);

	ck_assert_msg(st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK,
	    "%s: %s", sql, PQerrorMessage(c));
	PQclear(res);
}

/* The bigint in row 0, column 0 of a query's answer. */
long
ut_db_count(PGconn *c, const char *sql)
{
	PGresult *res = PQexec(c, sql);
	long n;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK &&
	    PQntuples(res) == 1, "%s: %s", sql, PQerrorMessage(c));
	n = atol(PQgetvalue(res, 0, 0));
	PQclear(res);
	return n;
}

void
ut_db_fresh_schema(void)
{
	char sql[128];
	PGconn *c = ut_db_admin();

	snprintf(sql, sizeof(sql), "DROP SCHEMA IF EXISTS %s CASCADE; "
	    "CREATE SCHEMA %s", schema, schema);
	ut_db_exec(c, "SET client_min_messages = warning");
	ut_db_exec(c, sql);
	PQfinish(c);
}

/* Unchecked teardown, in the runner: no assertions, best effort. */
void
ut_db_drop_schema(void)
{
	const char *u = getenv("VETRED_DATABASE_URL");
	char sql[128];
	PGconn *c;
	PGresult *res;

	if (u == NULL || *u == '\0' || schema[0] == '\0')
		return;
	c = PQconnectdb(u);
	if (PQstatus(c) == CONNECTION_OK) {
		snprintf(sql, sizeof(sql), "SET client_min_messages = warning; "
		    "DROP SCHEMA IF EXISTS %s CASCADE", schema);
		res = PQexec(c, sql);
		PQclear(res);
	}
	PQfinish(c);
}

/* ---- fixture ------------------------------------------------------- */

static PGconn *admin;

static void
setup(void)
{
	ut_db_fresh_schema();
	admin = ut_db_admin();
	ut_db_exec(admin, "SET client_min_messages = warning");
	ut_db_exec(admin,
	    "CREATE TABLE padre (id int PRIMARY KEY);"
	    "INSERT INTO padre VALUES (1);"
	    "CREATE TABLE t ("
	    " id int PRIMARY KEY,"
	    " code text NOT NULL CONSTRAINT t_code_unico UNIQUE,"
	    " n int CONSTRAINT t_n_positivo CHECK (n > 0),"
	    " padre int CONSTRAINT t_padre_fk REFERENCES padre (id));"
	    "CREATE TABLE reservas (r int4range,"
	    " CONSTRAINT reservas_sin_solape EXCLUDE USING gist (r WITH &&))");
}

static void
teardown(void)
{
	PQfinish(admin);
	admin = NULL;
}

enum { S_INSERT, S_SELECT, S_RESERVA, S_CAST_INT, S_SLEEP, S_COUNT,
    S__MAX };

static const char *const sql[S__MAX] = {
	[S_INSERT] = "INSERT INTO t (id, code, n, padre)"
	    " VALUES ($1, $2, $3, $4)",
	[S_SELECT] = "SELECT code, n, padre FROM t WHERE id = $1",
	[S_RESERVA] = "INSERT INTO reservas (r)"
	    " VALUES (int4range($1::int, $2::int))",
	[S_CAST_INT] = "SELECT $1::int",
	[S_SLEEP] = "SELECT pg_sleep($1::float8)",
	[S_COUNT] = "SELECT count(*) FROM t",
};

static void
open_db(struct vr_db *db, int timeout_ms)
{
	int rc = vr_db_open(db, ut_db_url(), sql, S__MAX, timeout_ms);

	ck_assert_msg(rc == 0, "vr_db_open: %s (%s %s)", vr_strerror(rc),
	    db->sqlstate, db->errmsg);
}

static int
insert(struct vr_db *db, const char *id, const char *code, const char *n,
    const char *padre)
{
	const char *p[4] = { id, code, n, padre };

	return vr_db_exec(db, S_INSERT, 4, p, NULL);
}

/* Kill the backend of db from the admin connection and wait till gone. */
static void
kill_backend(struct vr_db *db)
{
	char q[128];
	PGresult *res;

	snprintf(q, sizeof(q), "SELECT pg_terminate_backend(%d, 5000)",
	    PQbackendPID(db->conn));
	res = PQexec(admin, q);
	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK &&
	    strcmp(PQgetvalue(res, 0, 0), "t") == 0,
	    "pg_terminate_backend: %s", PQerrorMessage(admin));
	PQclear(res);
}

/* Let libpq notice the closed socket without running a command. */
static void
notice_loss(struct vr_db *db)
{
	int i;

	for (i = 0; i < 200 && PQstatus(db->conn) == CONNECTION_OK; i++) {
		PQconsumeInput(db->conn);
		usleep(5000);
	}
	ck_assert_int_eq(PQstatus(db->conn), CONNECTION_BAD);
}

/* ---- open ---------------------------------------------------------- */

START_TEST(open_bad_url_unavailable)
{
	static const char *const bad[] = {
		"postgresql://nobody@127.0.0.1:1/nada?connect_timeout=2",
		"this is not a connection string",
		"postgresql://[::1",
	};
	struct vr_db db;
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		ck_assert_int_eq(vr_db_open(&db, bad[i], sql, S__MAX, 1000),
		    VR_EUNAVAIL);
		ck_assert_ptr_null(db.conn);
		ck_assert_str_eq(db.sqlstate, "08006");
		ck_assert_msg(db.errmsg[0] != '\0', "no error message");
		/* The struct stays usable: later calls retry, and fail. */
		ck_assert_int_eq(vr_db_exec(&db, S_COUNT, 0, NULL, NULL),
		    VR_EUNAVAIL);
		ck_assert_int_eq(vr_db_ensure(&db), VR_EUNAVAIL);
		ck_assert_int_eq(vr_db_begin(&db), VR_EUNAVAIL);
		ck_assert_int_eq(db.in_tx, 0);
		vr_db_close(&db);
	}
}
END_TEST

/* Every statement of the table is prepared as "vr<index>". */
START_TEST(open_prepares_table)
{
	struct vr_db db;
	PGresult *res;
	int i;

	open_db(&db, 0);
	ck_assert_ptr_nonnull(db.conn);
	ck_assert_int_eq(db.in_tx, 0);
	ck_assert_int_eq(vr_db_query(&db, "SELECT name, statement FROM "
	    "pg_prepared_statements ORDER BY name", &res), 0);
	ck_assert_int_eq(PQntuples(res), S__MAX);
	for (i = 0; i < S__MAX; i++) {
		char name[16];

		snprintf(name, sizeof(name), "vr%d", i);
		ck_assert_str_eq(PQgetvalue(res, i, 0), name);
		ck_assert_str_eq(PQgetvalue(res, i, 1), sql[i]);
	}
	PQclear(res);
	vr_db_close(&db);
	ck_assert_ptr_null(db.conn);
	vr_db_close(&db);		/* twice: harmless */
}
END_TEST

START_TEST(open_bad_statement)
{
	static const char *const bad_sql[] = { "SELECT 1",
	    "SELECT * FROM no_existe" };
	static const char *const syntax[] = { "SELEC 1" };
	struct vr_db db;

	ck_assert_int_eq(vr_db_open(&db, ut_db_url(), bad_sql, 2, 0), VR_EDB);
	ck_assert_ptr_null(db.conn);
	ck_assert_str_eq(db.sqlstate, "42P01");
	ck_assert_ptr_nonnull(strstr(db.errmsg, "no_existe"));
	ck_assert_int_eq(vr_db_open(&db, ut_db_url(), syntax, 1, 0), VR_EDB);
	ck_assert_str_eq(db.sqlstate, "42601");
	vr_db_close(&db);
}
END_TEST

/* A timeout the server refuses fails the open. */
START_TEST(open_bad_timeout)
{
	struct vr_db db;

	ck_assert_int_eq(vr_db_open(&db, ut_db_url(), sql, S__MAX, -1),
	    VR_EDB);
	ck_assert_ptr_null(db.conn);
	ck_assert_str_eq(db.sqlstate, "22023");
	vr_db_close(&db);
}
END_TEST

START_TEST(open_sets_statement_timeout)
{
	struct vr_db db;
	PGresult *res;

	open_db(&db, 1234);
	ck_assert_int_eq(vr_db_query(&db, "SHOW statement_timeout", &res), 0);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "1234ms");
	PQclear(res);
	vr_db_close(&db);
}
END_TEST

/* ---- exec ---------------------------------------------------------- */

START_TEST(exec_with_params)
{
	const char *p[1] = { "1" };
	struct vr_db db;
	PGresult *res = (PGresult *)&db;

	open_db(&db, 0);
	ck_assert_int_eq(insert(&db, "1", "LIM-01", "5", "1"), 0);
	ck_assert_int_eq(insert(&db, "2", "con 'comillas' y \\", NULL, NULL),
	    0);
	ck_assert_int_eq(vr_db_exec(&db, S_SELECT, 1, p, &res), 0);
	ck_assert_int_eq(PQntuples(res), 1);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "LIM-01");
	ck_assert_str_eq(PQgetvalue(res, 0, 1), "5");
	ck_assert_str_eq(PQgetvalue(res, 0, 2), "1");
	PQclear(res);
	p[0] = "2";
	ck_assert_int_eq(vr_db_exec(&db, S_SELECT, 1, p, &res), 0);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "con 'comillas' y \\");
	ck_assert(PQgetisnull(res, 0, 1));
	ck_assert(PQgetisnull(res, 0, 2));
	PQclear(res);
	p[0] = "3";
	ck_assert_int_eq(vr_db_exec(&db, S_SELECT, 1, p, &res), 0);
	ck_assert_int_eq(PQntuples(res), 0);
	PQclear(res);
	ck_assert_int_eq(ut_db_count(admin, "SELECT count(*) FROM t"), 2);
	ck_assert_str_eq(db.sqlstate, "");
	vr_db_close(&db);
}
END_TEST

START_TEST(exec_bad_index)
{
	struct vr_db db;
	PGresult *res = (PGresult *)&db;

	open_db(&db, 0);
	ck_assert_int_eq(vr_db_exec(&db, -1, 0, NULL, NULL), VR_EINVAL);
	ck_assert_int_eq(vr_db_exec(&db, S__MAX, 0, NULL, NULL), VR_EINVAL);
	ck_assert_int_eq(vr_db_exec(&db, 1000000, 0, NULL, &res), VR_EINVAL);
	ck_assert_int_eq(vr_db_exec(&db, S_COUNT, 0, NULL, NULL), 0);
	vr_db_close(&db);
}
END_TEST

START_TEST(unique_conflict)
{
	struct vr_db db;
	PGresult *res = (PGresult *)&db;
	const char *p[4] = { "2", "LIM-01", "1", NULL };

	open_db(&db, 0);
	ck_assert_int_eq(insert(&db, "1", "LIM-01", "1", NULL), 0);
	ck_assert_int_eq(vr_db_exec(&db, S_INSERT, 4, p, &res), VR_ECONFLICT);
	ck_assert_ptr_null(res);
	ck_assert_str_eq(db.sqlstate, "23505");
	ck_assert_ptr_nonnull(db.constraint);
	ck_assert_str_eq(db.constraint, "t_code_unico");
	ck_assert_msg(db.errmsg[0] != '\0', "no message");
	ck_assert_int_eq(insert(&db, "1", "OTRO", "1", NULL), VR_ECONFLICT);
	ck_assert_str_eq(db.constraint, "t_pkey");
	vr_db_close(&db);
}
END_TEST

START_TEST(exclusion_conflict)
{
	const char *a[2] = { "1", "10" }, *b[2] = { "5", "15" },
	    *c[2] = { "10", "20" };
	struct vr_db db;

	open_db(&db, 0);
	ck_assert_int_eq(vr_db_exec(&db, S_RESERVA, 2, a, NULL), 0);
	ck_assert_int_eq(vr_db_exec(&db, S_RESERVA, 2, b, NULL),
	    VR_ECONFLICT);
	ck_assert_str_eq(db.sqlstate, "23P01");
	ck_assert_str_eq(db.constraint, "reservas_sin_solape");
	ck_assert_int_eq(vr_db_exec(&db, S_RESERVA, 2, c, NULL), 0);
	vr_db_close(&db);
}
END_TEST

START_TEST(foreign_key_ref)
{
	struct vr_db db;

	open_db(&db, 0);
	ck_assert_int_eq(insert(&db, "1", "A", "1", "99"), VR_EREF);
	ck_assert_str_eq(db.sqlstate, "23503");
	ck_assert_str_eq(db.constraint, "t_padre_fk");
	vr_db_close(&db);
}
END_TEST

START_TEST(check_and_not_null)
{
	struct vr_db db;

	open_db(&db, 0);
	ck_assert_int_eq(insert(&db, "1", "A", "0", NULL), VR_ECHECK);
	ck_assert_str_eq(db.sqlstate, "23514");
	ck_assert_str_eq(db.constraint, "t_n_positivo");
	ck_assert_int_eq(insert(&db, "1", NULL, "1", NULL), VR_ECHECK);
	ck_assert_str_eq(db.sqlstate, "23502");
	vr_db_close(&db);
}
END_TEST

START_TEST(invalid_text_representation)
{
	const char *p[1] = { "abc" };
	struct vr_db db;

	open_db(&db, 0);
	ck_assert_int_eq(vr_db_exec(&db, S_CAST_INT, 1, p, NULL), VR_EINVAL);
	ck_assert_str_eq(db.sqlstate, "22P02");
	ck_assert_ptr_null(db.constraint);
	p[0] = "99999999999";
	ck_assert_int_eq(vr_db_exec(&db, S_CAST_INT, 1, p, NULL), VR_EINVAL);
	ck_assert_str_eq(db.sqlstate, "22003");
	vr_db_close(&db);
}
END_TEST

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

START_TEST(statement_timeout)
{
	const char *p[1] = { "2" };
	struct vr_db db;
	double t0;

	open_db(&db, 50);
	t0 = now_s();
	ck_assert_int_eq(vr_db_exec(&db, S_SLEEP, 1, p, NULL), VR_ETIMEOUT);
	ck_assert_double_lt(now_s() - t0, 1.5);
	ck_assert_str_eq(db.sqlstate, "57014");
	/* The connection is still good. */
	ck_assert_int_eq(vr_db_exec(&db, S_COUNT, 0, NULL, NULL), 0);
	vr_db_close(&db);
}
END_TEST

/* A success clears what the last failure recorded. */
START_TEST(error_cleared_on_success)
{
	struct vr_db db;

	open_db(&db, 0);
	ck_assert_int_eq(insert(&db, "1", "A", "0", NULL), VR_ECHECK);
	ck_assert_ptr_nonnull(db.constraint);
	ck_assert_int_eq(vr_db_exec(&db, S_COUNT, 0, NULL, NULL), 0);
	ck_assert_str_eq(db.sqlstate, "");
	ck_assert_str_eq(db.errmsg, "");
	ck_assert_ptr_null(db.constraint);
	vr_db_close(&db);
}
END_TEST

START_TEST(query_text)
{
	struct vr_db db;
	PGresult *res;

	open_db(&db, 0);
	ck_assert_int_eq(vr_db_query(&db, "CREATE TABLE q (x int)", NULL), 0);
	ck_assert_int_eq(vr_db_query(&db, "INSERT INTO q VALUES (7)", NULL),
	    0);
	ck_assert_int_eq(vr_db_query(&db, "SELECT x FROM q", &res), 0);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "7");
	PQclear(res);
	ck_assert_int_eq(vr_db_query(&db, "SELEC 1", &res), VR_EDB);
	ck_assert_ptr_null(res);
	ck_assert_str_eq(db.sqlstate, "42601");
	ck_assert_int_eq(vr_db_query(&db, "SELECT * FROM no_existe", NULL),
	    VR_EDB);
	ck_assert_str_eq(db.sqlstate, "42P01");
	vr_db_close(&db);
}
END_TEST

/* ---- transactions -------------------------------------------------- */

START_TEST(tx_commit)
{
	struct vr_db db;

	open_db(&db, 0);
	ck_assert_int_eq(vr_db_commit(&db), VR_EINVAL);	/* none open */
	ck_assert_int_eq(vr_db_begin(&db), 0);
	ck_assert_int_eq(db.in_tx, 1);
	ck_assert_int_eq(vr_db_begin(&db), VR_EINVAL);	/* no nesting */
	ck_assert_int_eq(db.in_tx, 1);
	ck_assert_int_eq(insert(&db, "1", "A", "1", NULL), 0);
	ck_assert_int_eq(insert(&db, "2", "B", "1", NULL), 0);
	ck_assert_int_eq(ut_db_count(admin, "SELECT count(*) FROM t"), 0);
	ck_assert_int_eq(vr_db_commit(&db), 0);
	ck_assert_int_eq(db.in_tx, 0);
	ck_assert_int_eq(ut_db_count(admin, "SELECT count(*) FROM t"), 2);
	vr_db_close(&db);
}
END_TEST

START_TEST(tx_rollback)
{
	struct vr_db db;

	open_db(&db, 0);
	vr_db_rollback(&db);			/* none open: no-op */
	ck_assert_int_eq(db.in_tx, 0);
	ck_assert_int_eq(vr_db_begin(&db), 0);
	ck_assert_int_eq(insert(&db, "1", "A", "1", NULL), 0);
	vr_db_rollback(&db);
	ck_assert_int_eq(db.in_tx, 0);
	ck_assert_int_eq(ut_db_count(admin, "SELECT count(*) FROM t"), 0);
	/* A failed statement inside: roll back, then the connection works. */
	ck_assert_int_eq(vr_db_begin(&db), 0);
	ck_assert_int_eq(insert(&db, "1", "A", "0", NULL), VR_ECHECK);
	ck_assert_int_eq(db.in_tx, 1);
	vr_db_rollback(&db);
	ck_assert_int_eq(vr_db_exec(&db, S_COUNT, 0, NULL, NULL), 0);
	vr_db_close(&db);
	ck_assert_int_eq(db.in_tx, 0);
}
END_TEST

/*
 * After a failed statement PostgreSQL answers COMMIT with "ROLLBACK" (no
 * error): the work is gone, so vr_db_commit() must not report success.
 * BUG (lib/db.c:265 vr_db_commit): it returns 0; it should check
 * PQcmdStatus() == "COMMIT" and return an error (e.g. VR_EDB) otherwise.
 */
START_TEST(tx_commit_after_failure_is_not_success)
{
	struct vr_db db;
	int rc;

	open_db(&db, 0);
	ck_assert_int_eq(vr_db_begin(&db), 0);
	ck_assert_int_eq(insert(&db, "1", "A", "1", NULL), 0);
	ck_assert_int_eq(insert(&db, "2", "B", "0", NULL), VR_ECHECK);
	rc = vr_db_commit(&db);
	ck_assert_int_eq(db.in_tx, 0);
	ck_assert_int_eq(ut_db_count(admin, "SELECT count(*) FROM t"), 0);
	ck_assert_msg(rc < 0, "vr_db_commit() returned 0 but the transaction "
	    "was rolled back (row 1 is not there)");
	vr_db_close(&db);
}
END_TEST

/* ---- reconnect ----------------------------------------------------- */

/* Outside a transaction a lost connection is re-opened transparently. */
START_TEST(reconnect_outside_tx)
{
	const char *p[1] = { "1" };
	struct vr_db db;
	PGresult *res;
	int pid;

	open_db(&db, 0);
	ck_assert_int_eq(insert(&db, "1", "A", "1", NULL), 0);
	pid = PQbackendPID(db.conn);
	kill_backend(&db);
	ck_assert_int_eq(vr_db_exec(&db, S_SELECT, 1, p, &res), 0);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "A");
	PQclear(res);
	ck_assert_int_ne(PQbackendPID(db.conn), pid);
	ck_assert_int_eq(db.in_tx, 0);
	/* Re-prepared, with the same statement timeout. */
	ck_assert_int_eq(insert(&db, "2", "B", "1", NULL), 0);
	ck_assert_int_eq(vr_db_query(&db, "SHOW statement_timeout", &res), 0);
	ck_assert_str_eq(PQgetvalue(res, 0, 0), "0");
	PQclear(res);
	/* Twice in a row. */
	pid = PQbackendPID(db.conn);
	kill_backend(&db);
	ck_assert_int_eq(vr_db_begin(&db), 0);
	ck_assert_int_ne(PQbackendPID(db.conn), pid);
	ck_assert_int_eq(vr_db_commit(&db), 0);
	vr_db_close(&db);
}
END_TEST

/*
 * An autocommit write is never sent twice: a connection lost during it
 * reports VR_EUNAVAIL, nothing was inserted, and the next call reconnects.
 */
START_TEST(write_not_retried)
{
	const char *p[4] = { "7", "W", "1", NULL };
	const char *q[1] = { "7" };
	struct vr_db db;
	PGresult *res;

	open_db(&db, 0);
	kill_backend(&db);
	ck_assert_int_eq(vr_db_exec_write(&db, S_INSERT, 4, p, NULL),
	    VR_EUNAVAIL);
	ck_assert_int_eq(vr_db_exec_write(&db, S_INSERT, 4, p, NULL), 0);
	ck_assert_int_eq(vr_db_exec(&db, S_SELECT, 1, q, &res), 0);
	ck_assert_int_eq(PQntuples(res), 1);
	PQclear(res);
	ck_assert_int_eq(vr_db_exec_write(&db, -1, 0, NULL, NULL), VR_EINVAL);
	vr_db_close(&db);
}
END_TEST

/* Inside a transaction the work is gone: VR_EUNAVAIL and in_tx cleared. */
START_TEST(reconnect_inside_tx)
{
	struct vr_db db;
	int pid;

	open_db(&db, 0);
	ck_assert_int_eq(vr_db_begin(&db), 0);
	ck_assert_int_eq(insert(&db, "1", "A", "1", NULL), 0);
	pid = PQbackendPID(db.conn);
	kill_backend(&db);
	ck_assert_int_eq(insert(&db, "2", "B", "1", NULL), VR_EUNAVAIL);
	ck_assert_int_eq(db.in_tx, 0);
	ck_assert_msg(strncmp(db.sqlstate, "08", 2) == 0 ||
	    strcmp(db.sqlstate, "57P01") == 0, "sqlstate %s", db.sqlstate);
	/* Nothing was committed; the next call reconnects. */
	ck_assert_int_eq(ut_db_count(admin, "SELECT count(*) FROM t"), 0);
	ck_assert_int_eq(vr_db_exec(&db, S_COUNT, 0, NULL, NULL), 0);
	ck_assert_int_ne(PQbackendPID(db.conn), pid);
	vr_db_close(&db);
}
END_TEST

/* The loss already seen before the call, inside a transaction. */
START_TEST(lost_before_call_inside_tx)
{
	struct vr_db db;

	open_db(&db, 0);
	ck_assert_int_eq(vr_db_begin(&db), 0);
	kill_backend(&db);
	notice_loss(&db);
	ck_assert_int_eq(vr_db_commit(&db), VR_EUNAVAIL);
	ck_assert_int_eq(db.in_tx, 0);
	ck_assert_str_eq(db.sqlstate, "08006");
	/* Rollback on a lost connection only forgets the transaction. */
	ck_assert_int_eq(vr_db_begin(&db), 0);
	kill_backend(&db);
	notice_loss(&db);
	vr_db_rollback(&db);
	ck_assert_int_eq(db.in_tx, 0);
	vr_db_close(&db);
}
END_TEST

START_TEST(ensure_reconnects)
{
	struct vr_db db;
	int pid;

	open_db(&db, 0);
	pid = PQbackendPID(db.conn);
	ck_assert_int_eq(vr_db_ensure(&db), 0);
	ck_assert_int_eq(PQbackendPID(db.conn), pid);	/* kept */
	kill_backend(&db);
	notice_loss(&db);
	ck_assert_int_eq(vr_db_ensure(&db), 0);
	ck_assert_int_ne(PQbackendPID(db.conn), pid);
	ck_assert_int_eq(vr_db_exec(&db, S_COUNT, 0, NULL, NULL), 0);
	vr_db_close(&db);
	ck_assert_int_eq(vr_db_ensure(&db), 0);		/* after close */
	ck_assert_int_eq(vr_db_exec(&db, S_COUNT, 0, NULL, NULL), 0);
	vr_db_close(&db);
}
END_TEST

/* Connection lost and the server gone: the retry fails, VR_EUNAVAIL. */
START_TEST(reconnect_fails)
{
	struct vr_db db;

	open_db(&db, 0);
	kill_backend(&db);
	db.url = "postgresql://nobody@127.0.0.1:1/nada";
	ck_assert_int_eq(vr_db_exec(&db, S_COUNT, 0, NULL, NULL),
	    VR_EUNAVAIL);
	ck_assert_ptr_null(db.conn);
	ck_assert_str_eq(db.sqlstate, "08006");
	vr_db_close(&db);
}
END_TEST

/* ---- SQLSTATE map (no server needed) -------------------------------- */

START_TEST(map_sqlstate_table)
{
	static const struct {
		const char	*state;
		int		 err;
	} map[] = {
		{ NULL, VR_EDB }, { "", VR_EDB }, { "2", VR_EDB },
		{ "2350", VR_EDB }, { "235050", VR_EDB },
		{ "23505", VR_ECONFLICT }, { "23P01", VR_ECONFLICT },
		{ "23503", VR_EREF }, { "23514", VR_ECHECK },
		{ "23502", VR_ECHECK }, { "23000", VR_EDB },
		{ "23001", VR_EDB }, { "40001", VR_ERETRY },
		{ "40P01", VR_ERETRY }, { "40000", VR_EDB },
		{ "57014", VR_ETIMEOUT }, { "22P02", VR_EINVAL },
		{ "22003", VR_EINVAL }, { "22001", VR_EINVAL },
		{ "22023", VR_EINVAL }, { "08000", VR_EUNAVAIL },
		{ "08006", VR_EUNAVAIL }, { "08001", VR_EUNAVAIL },
		{ "57P01", VR_EUNAVAIL }, { "57P02", VR_EUNAVAIL },
		{ "57P03", VR_EUNAVAIL }, { "57P04", VR_EDB },
		{ "42601", VR_EDB }, { "42P01", VR_EDB },
		{ "XX000", VR_EDB }, { "53300", VR_EDB },
	};
	size_t i;

	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++)
		ck_assert_msg(vr_db_map_sqlstate(map[i].state) == map[i].err,
		    "%s: got %d, want %d", map[i].state ? map[i].state :
		    "NULL", vr_db_map_sqlstate(map[i].state), map[i].err);
}
END_TEST

Suite *
db_suite(void)
{
	Suite *s = suite_create("db");
	TCase *tc;

	ut_db_name_schema();

	tc = tcase_create("sqlstate");
	tcase_add_test(tc, map_sqlstate_table);
	suite_add_tcase(s, tc);

	tc = tcase_create("open");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_unchecked_fixture(tc, NULL, ut_db_drop_schema);
	tcase_add_test(tc, open_bad_url_unavailable);
	tcase_add_test(tc, open_prepares_table);
	tcase_add_test(tc, open_bad_statement);
	tcase_add_test(tc, open_bad_timeout);
	tcase_add_test(tc, open_sets_statement_timeout);
	suite_add_tcase(s, tc);

	tc = tcase_create("exec");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_unchecked_fixture(tc, NULL, ut_db_drop_schema);
	tcase_add_test(tc, exec_with_params);
	tcase_add_test(tc, exec_bad_index);
	tcase_add_test(tc, unique_conflict);
	tcase_add_test(tc, exclusion_conflict);
	tcase_add_test(tc, foreign_key_ref);
	tcase_add_test(tc, check_and_not_null);
	tcase_add_test(tc, invalid_text_representation);
	tcase_add_test(tc, statement_timeout);
	tcase_add_test(tc, error_cleared_on_success);
	tcase_add_test(tc, query_text);
	suite_add_tcase(s, tc);

	tc = tcase_create("transactions");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_unchecked_fixture(tc, NULL, ut_db_drop_schema);
	tcase_add_test(tc, tx_commit);
	tcase_add_test(tc, tx_rollback);
	tcase_add_test(tc, tx_commit_after_failure_is_not_success);
	tcase_add_test(tc, write_not_retried);
	suite_add_tcase(s, tc);

	tc = tcase_create("reconnect");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_unchecked_fixture(tc, NULL, ut_db_drop_schema);
	tcase_add_test(tc, reconnect_outside_tx);
	tcase_add_test(tc, reconnect_inside_tx);
	tcase_add_test(tc, lost_before_call_inside_tx);
	tcase_add_test(tc, ensure_reconnects);
	tcase_add_test(tc, reconnect_fails);
	suite_add_tcase(s, tc);
	return s;
}
