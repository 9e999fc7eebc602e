/*
 * jobs.c - firing the periodic jobs (table trabajos, db/migrations/0034).
 *
 * Every scheduler, lease holder or not, looks for due jobs at least once
 * a second (sooner when one is due sooner): in one transaction it takes
 * the due rows FOR UPDATE SKIP LOCKED, computes each one's next run and
 * calls disparar_trabajo(), which advances it and writes its message
 * into the outbox.  Two schedulers never fire one run twice (the second
 * skips the locked row, and finds it not due once the first committed),
 * and a fired run is in the outbox, so the relay cannot lose it.
 *
 * A cron schedule's next run is computed here (lib/cron.c) on the civil
 * time of the job's zone, which PostgreSQL converts both ways; an
 * interval job's by disparar_trabajo() itself (now + the interval).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler.h"

#define JOBS_MAX_WAIT_MS	1000
#define JOBS_MIN_WAIT_MS	10

/* The next run of a cron schedule after local (its zone's civil now). */
static const char *
next_run(const char *programa, const char *local, char out[VR_CIVIL_LEN],
    char *err, size_t errlen)
{
	struct vr_cron c;
	struct vr_civil now, next;

	if (vr_cron_parse(programa, &c, err, errlen) != 0)
		return NULL;
	if (vr_civil_parse(local, &now) != 0) {
		snprintf(err, errlen, "hora local ilegible: %s", local);
		return NULL;
	}
	if (vr_cron_next(&c, &now, &next) != 0) {
		snprintf(err, errlen, "el programa no tiene próxima ejecución");
		return NULL;
	}
	vr_civil_format(&next, out);
	return out;
}

static int
fire_due(struct vr_db *db, long long *fired)
{
	PGresult *res, *r2;
	char next[VR_CIVIL_LEN], err[160];
	const char *p[3];
	int i, n, rc;

	*fired = 0;
	if ((rc = vr_db_begin(db)) != 0)
		return rc;
	if ((rc = vr_db_exec(db, ST_JOBS_DUE, 0, NULL, &res)) != 0)
		goto fail;
	n = PQntuples(res);
	for (i = 0; i < n; i++) {
		p[0] = PQgetvalue(res, i, 0);
		p[1] = NULL;
		p[2] = NULL;
		err[0] = '\0';
		if (!PQgetisnull(res, i, 1)) {
			p[1] = next_run(PQgetvalue(res, i, 1),
			    PQgetvalue(res, i, 2), next, err, sizeof(err));
			if (p[1] == NULL) {
				p[2] = err;
				vr_log(VR_LOG_ERROR, NULL, "job disabled: its "
				    "schedule has no next run", "job", p[0],
				    "error", err, NULL);
			}
		}
		if ((rc = vr_db_exec(db, ST_JOB_FIRE, 3, p, &r2)) != 0) {
			PQclear(res);
			goto fail;
		}
		if (strcmp(PQgetvalue(r2, 0, 0), "t") == 0) {
			(*fired)++;
			vr_log(VR_LOG_DEBUG, NULL, "job fired", "job", p[0],
			    "next", p[1] != NULL ? p[1] : "interval", NULL);
		}
		PQclear(r2);
	}
	PQclear(res);
	if ((rc = vr_db_commit(db)) != 0)
		goto fail;
	return 0;
fail:
	vr_db_rollback(db);
	*fired = 0;
	return rc;
}

/*
 * Fire what is due.  The time until the next look, in ms: when the next
 * job is due, at most a second (a schedule an operator changed is seen
 * that soon).
 */
int
sched_jobs_tick(struct vr_db *db, struct sched_stats *st)
{
	PGresult *res;
	long long fired;
	double secs;
	int ms = JOBS_MAX_WAIT_MS;

	if (fire_due(db, &fired) != 0) {
		vr_log(VR_LOG_WARN, NULL, "jobs: could not fire", "error",
		    db->errmsg, NULL);
		return JOBS_MAX_WAIT_MS;
	}
	if (fired > 0) {
		pthread_mutex_lock(&st->lock);
		st->jobs_fired += fired;
		pthread_mutex_unlock(&st->lock);
	}
	if (vr_db_exec(db, ST_JOBS_NEXT, 0, NULL, &res) == 0) {
		if (!PQgetisnull(res, 0, 0)) {
			secs = atof(PQgetvalue(res, 0, 0));
			if (secs * 1000 < ms)
				ms = secs <= 0 ? 0 : (int)(secs * 1000) + 1;
		}
		PQclear(res);
	}
	return ms < JOBS_MIN_WAIT_MS ? JOBS_MIN_WAIT_MS : ms;
}
