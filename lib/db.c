/*
 * db.c - the PostgreSQL layer: one connection per thread, named prepared
 * statements from the service's table, transactions, SQLSTATE mapping.
 *
 * Design: a struct vr_db is owned by one thread.  Statements are prepared
 * on every (re)connect, because prepared statements live per connection.
 * A connection found lost before a call is re-established first.  When
 * the connection drops during a call outside a transaction, vr_db_exec()
 * and vr_db_query() reconnect and retry once: safe for reads and for
 * BEGIN.  vr_db_exec_write() never retries a statement that may have run
 * (an autocommit write), and inside a transaction the loss is reported
 * (VR_EUNAVAIL) since the work is gone.
 *
 * The counters below are the process's, for its metrics (vr_db_stats):
 * relaxed atomics, like a metrics registry, and the only mutable state
 * this file shares between threads.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vr.h"

static atomic_llong n_open, n_connects, n_reconnects, n_failures;

static void
bump(atomic_llong *v, long long by)
{
	atomic_fetch_add_explicit(v, by, memory_order_relaxed);
}

void
vr_db_stats(struct vr_db_stats *out)
{
	out->open = atomic_load_explicit(&n_open, memory_order_relaxed);
	out->connects = atomic_load_explicit(&n_connects,
	    memory_order_relaxed);
	out->reconnects = atomic_load_explicit(&n_reconnects,
	    memory_order_relaxed);
	out->failures = atomic_load_explicit(&n_failures,
	    memory_order_relaxed);
}

/* PQfinish, and the count of open connections. */
static void
finish(struct vr_db *db)
{
	if (db->conn == NULL)
		return;
	PQfinish(db->conn);
	db->conn = NULL;
	bump(&n_open, -1);
}

static void
clear_error(struct vr_db *db)
{
	db->sqlstate[0] = '\0';
	db->errmsg[0] = '\0';
	db->constraint = NULL;
}

static void
set_error(struct vr_db *db, const PGresult *res)
{
	const char *state = NULL, *msg = NULL, *cons = NULL;

	if (res != NULL) {
		state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
		msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
		cons = PQresultErrorField(res, PG_DIAG_CONSTRAINT_NAME);
	}
	if (msg == NULL)
		msg = PQerrorMessage(db->conn);
	snprintf(db->sqlstate, sizeof(db->sqlstate), "%s",
	    state != NULL ? state : (PQstatus(db->conn) == CONNECTION_BAD ?
	    "08006" : "XX000"));
	snprintf(db->errmsg, sizeof(db->errmsg), "%s", msg);
	db->constraint = NULL;
	if (cons != NULL) {
		snprintf(db->constraint_buf, sizeof(db->constraint_buf), "%s",
		    cons);
		db->constraint = db->constraint_buf;
	}
}

/* Map an SQLSTATE to a VR_E* code. */
int
vr_db_map_sqlstate(const char *s)
{
	if (s == NULL || strlen(s) != 5)
		return VR_EDB;
	if (strcmp(s, "23505") == 0 || strcmp(s, "23P01") == 0)
		return VR_ECONFLICT;
	if (strcmp(s, "23503") == 0)
		return VR_EREF;
	if (strcmp(s, "23514") == 0 || strcmp(s, "23502") == 0)
		return VR_ECHECK;
	if (strcmp(s, "40001") == 0 || strcmp(s, "40P01") == 0)
		return VR_ERETRY;
	if (strcmp(s, "57014") == 0)
		return VR_ETIMEOUT;
	if (strncmp(s, "22", 2) == 0)
		return VR_EINVAL;
	if (strncmp(s, "08", 2) == 0 || strcmp(s, "57P01") == 0 ||
	    strcmp(s, "57P02") == 0 || strcmp(s, "57P03") == 0)
		return VR_EUNAVAIL;
	return VR_EDB;
}

static int
prepare_all(struct vr_db *db)
{
	char name[16];
	PGresult *res;
	int i, ok;

	for (i = 0; i < db->nsql; i++) {
		snprintf(name, sizeof(name), "vr%d", i);
		res = PQprepare(db->conn, name, db->sql[i], 0, NULL);
		ok = PQresultStatus(res) == PGRES_COMMAND_OK;
		if (!ok) {
			set_error(db, res);
			vr_log(VR_LOG_ERROR, NULL, "prepare failed",
			    "statement", name, "sqlstate", db->sqlstate,
			    "error", db->errmsg, NULL);
		}
		PQclear(res);
		if (!ok)
			return vr_db_map_sqlstate(db->sqlstate) ==
			    VR_EUNAVAIL ? VR_EUNAVAIL : VR_EDB;
	}
	return 0;
}

/*
 * The server's NOTICE, WARNING and other non-error messages (a migration's
 * RAISE, a GRANT that granted nothing) as log lines, instead of libpq's
 * plain text on stderr.
 */
static void
notice_to_log(void *arg, const PGresult *res)
{
	const char *sev = PQresultErrorField(res,
	    PG_DIAG_SEVERITY_NONLOCALIZED);
	const char *msg = PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY);
	const char *state = PQresultErrorField(res, PG_DIAG_SQLSTATE);
	const char *detail = PQresultErrorField(res, PG_DIAG_MESSAGE_DETAIL);
	int level = VR_LOG_INFO;

	(void)arg;
	if (sev != NULL && strcmp(sev, "WARNING") == 0)
		level = VR_LOG_WARN;
	else if (sev != NULL && strcmp(sev, "DEBUG") == 0)
		level = VR_LOG_DEBUG;
	vr_log(level, NULL, "database notice", "severity", sev ? sev : "",
	    "sqlstate", state ? state : "", "notice", msg ? msg : "",
	    detail != NULL ? "detail" : NULL, detail, NULL);
}

static int
connect_db(struct vr_db *db)
{
	char opt[64];
	PGresult *res;
	int rc;

	finish(db);
	db->conn = PQconnectdb(db->url);
	db->in_tx = 0;
	if (db->conn != NULL)
		bump(&n_open, 1);
	if (PQstatus(db->conn) != CONNECTION_OK) {
		snprintf(db->sqlstate, sizeof(db->sqlstate), "08006");
		snprintf(db->errmsg, sizeof(db->errmsg), "%s",
		    PQerrorMessage(db->conn));
		finish(db);
		bump(&n_failures, 1);
		return VR_EUNAVAIL;
	}
	PQsetNoticeReceiver(db->conn, notice_to_log, NULL);
	snprintf(opt, sizeof(opt), "SET statement_timeout = %d",
	    db->timeout_ms);
	res = PQexec(db->conn, opt);
	rc = PQresultStatus(res) == PGRES_COMMAND_OK ? 0 : VR_EDB;
	if (rc < 0)
		set_error(db, res);
	PQclear(res);
	if (rc == 0)
		rc = prepare_all(db);
	if (rc < 0) {
		finish(db);
		bump(&n_failures, 1);
		return rc;
	}
	bump(&n_connects, 1);
	if (db->was_up)
		bump(&n_reconnects, 1);
	db->was_up = 1;
	db->generation++;
	return 0;
}

/*
 * Open a connection and prepare sql[0..nsql).  The struct is usable even
 * when this fails: later calls retry the connection.
 */
int
vr_db_open(struct vr_db *db, const char *url, const char *const *sql,
    int nsql, int timeout_ms)
{
	memset(db, 0, sizeof(*db));
	db->url = url;
	db->sql = sql;
	db->nsql = nsql;
	db->timeout_ms = timeout_ms;
	return connect_db(db);
}

void
vr_db_close(struct vr_db *db)
{
	finish(db);
	db->in_tx = 0;
}

/* Make sure the connection is up; reconnect (and re-prepare) if not. */
int
vr_db_ensure(struct vr_db *db)
{
	if (db->conn != NULL && PQstatus(db->conn) == CONNECTION_OK)
		return 0;
	return connect_db(db);
}

static int
lost(struct vr_db *db)
{
	return db->conn == NULL || PQstatus(db->conn) == CONNECTION_BAD;
}

/*
 * Run one command; on success *out (when not NULL) holds the result, which
 * the caller PQclear()s.  Reconnects and retries once when the connection
 * was lost outside a transaction.
 */
static int
run(struct vr_db *db, int stmt, const char *sql, int nparams,
    const char *const *params, const int *lengths, const int *formats,
    PGresult **out, int retry)
{
	char name[16];
	PGresult *res;
	ExecStatusType st;
	int attempt, rc;

	if (out != NULL)
		*out = NULL;
	clear_error(db);
	for (attempt = 0; attempt < 2; attempt++) {
		if (lost(db)) {
			if (db->in_tx) {
				db->in_tx = 0;
				snprintf(db->sqlstate, sizeof(db->sqlstate),
				    "08006");
				return VR_EUNAVAIL;
			}
			if ((rc = connect_db(db)) < 0)
				return rc;
		}
		if (sql != NULL)
			res = PQexec(db->conn, sql);
		else {
			snprintf(name, sizeof(name), "vr%d", stmt);
			res = PQexecPrepared(db->conn, name, nparams, params,
			    lengths, formats, 0);
		}
		st = PQresultStatus(res);
		if (st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK) {
			if (out != NULL)
				*out = res;
			else
				PQclear(res);
			return 0;
		}
		set_error(db, res);
		PQclear(res);
		if (!lost(db) || db->in_tx || !retry)
			break;
	}
	rc = vr_db_map_sqlstate(db->sqlstate);
	if (lost(db))
		db->in_tx = 0;
	if (rc == VR_EDB || rc == VR_EUNAVAIL)
		vr_log(VR_LOG_ERROR, NULL, "database error", "sqlstate",
		    db->sqlstate, "error", db->errmsg, NULL);
	return rc;
}

int
vr_db_exec(struct vr_db *db, int stmt, int nparams, const char *const *params,
    PGresult **out)
{
	return vr_db_exec_fmt(db, stmt, nparams, params, NULL, NULL, 0, out);
}

int
vr_db_exec_write(struct vr_db *db, int stmt, int nparams,
    const char *const *params, PGresult **out)
{
	return vr_db_exec_fmt(db, stmt, nparams, params, NULL, NULL, 1, out);
}

/*
 * As vr_db_exec() (write 0) or vr_db_exec_write() (write 1), with each
 * parameter's length and format (1: binary, in the type the statement
 * gives it; 0: text); NULL formats: all text.
 */
int
vr_db_exec_fmt(struct vr_db *db, int stmt, int nparams,
    const char *const *params, const int *lengths, const int *formats,
    int write, PGresult **out)
{
	if (stmt < 0 || stmt >= db->nsql)
		return VR_EINVAL;
	return run(db, stmt, NULL, nparams, params, lengths, formats, out,
	    !write);
}

/* A one-off SQL text without parameters (DDL, migrations, health). */
int
vr_db_query(struct vr_db *db, const char *sql, PGresult **out)
{
	return run(db, -1, sql, 0, NULL, NULL, NULL, out, 1);
}

int
vr_db_begin(struct vr_db *db)
{
	int rc;

	if (db->in_tx)
		return VR_EINVAL;
	if ((rc = vr_db_query(db, "BEGIN", NULL)) == 0)
		db->in_tx = 1;
	return rc;
}

/*
 * PostgreSQL answers COMMIT of a failed transaction with a ROLLBACK tag
 * and no error: that is a failure here.
 */
int
vr_db_commit(struct vr_db *db)
{
	PGresult *res = NULL;
	int rc;

	if (!db->in_tx)
		return VR_EINVAL;
	rc = vr_db_query(db, "COMMIT", &res);
	db->in_tx = 0;
	if (rc == 0 && strcmp(PQcmdStatus(res), "COMMIT") != 0) {
		snprintf(db->sqlstate, sizeof(db->sqlstate), "25P02");
		snprintf(db->errmsg, sizeof(db->errmsg), "transaction was "
		    "rolled back");
		rc = VR_EDB;
	}
	PQclear(res);
	return rc;
}

void
vr_db_rollback(struct vr_db *db)
{
	PGresult *res;

	if (!db->in_tx)
		return;
	db->in_tx = 0;
	if (lost(db))
		return;
	res = PQexec(db->conn, "ROLLBACK");
	PQclear(res);
}
