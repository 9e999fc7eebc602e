/*
 * monitor.c - vetred-scheduler's monitoring listener (lib/'s vr_httpd,
 * on libmicrohttpd): /health, /ready and /metrics, with the relay's
 * series and the outbox backlog read from the database at each scrape.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "scheduler.h"

#define PROM_TYPE	"text/plain; version=0.0.4; charset=utf-8"
#define JSON_TYPE	"application/json; charset=utf-8"

enum { MST_BACKLOG, MST_PING, MST_JOBS, MST__MAX };

static const char *const mon_sql[MST__MAX] = {
	[MST_BACKLOG] =
	    "SELECT count(*), coalesce(extract(epoch FROM clock_timestamp() - "
	    "min(creado_en)), 0) FROM outbox WHERE publicado_en IS NULL",
	[MST_PING] = "SELECT 1",
	[MST_JOBS] =
	    "SELECT nombre, habilitado::int, extract(epoch FROM proximo_en), "
	    "coalesce(extract(epoch FROM ultimo_exito_en), 0), disparos, "
	    "ejecuciones_ok, ejecuciones_error FROM trabajos ORDER BY nombre",
};

const double sched_buckets[SCHED_NBUCKETS] = {
	0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1,
	2.5, 5
};

/* One batch of n messages confirmed after seconds. */
void
sched_stats_confirm(struct sched_stats *st, double seconds, long long n)
{
	int i;

	pthread_mutex_lock(&st->lock);
	st->published += n;
	st->conf_count++;
	st->conf_sum += seconds;
	for (i = 0; i < SCHED_NBUCKETS; i++)
		if (seconds <= sched_buckets[i])
			st->conf_bucket[i]++;
	pthread_mutex_unlock(&st->lock);
}

static void
counter(struct vr_buf *b, const char *name, const char *help,
    const char *inst, long long v)
{
	vr_buf_printf(b, "# HELP %s %s\n# TYPE %s counter\n"
	    "%s{instance=\"%s\"} %lld\n", name, help, name, name, inst, v);
}

static void
gauge(struct vr_buf *b, const char *name, const char *help,
    const char *inst, double v)
{
	vr_buf_printf(b, "# HELP %s %s\n# TYPE %s gauge\n"
	    "%s{instance=\"%s\"} %.6g\n", name, help, name, name, inst, v);
}

static void
render_backlog(struct sched_monitor *m, struct vr_buf *b)
{
	const char *inst = m->sc->instance;
	PGresult *res = NULL;
	int ok = vr_db_exec(&m->db, MST_BACKLOG, 0, NULL, &res) == 0;

	gauge(b, "vetred_outbox_up", "Whether the outbox backlog could be "
	    "read from the database.", inst, ok);
	if (ok) {
		gauge(b, "vetred_outbox_pending", "Outbox rows not yet "
		    "published.", inst, atof(PQgetvalue(res, 0, 0)));
		gauge(b, "vetred_outbox_oldest_pending_age_seconds", "Age of "
		    "the oldest outbox row not yet published (0: none).", inst,
		    atof(PQgetvalue(res, 0, 1)));
	}
	PQclear(res);
}

/* The jobs' state, from the table (the same at every scheduler). */
static void
render_jobs(struct sched_monitor *m, struct vr_buf *b)
{
	static const struct {
		const char	*name, *type, *help;
		int		 col;
	} fam[] = {
		{ "vetred_job_enabled", "gauge", "1 while the job is enabled.", 1 },
		{ "vetred_job_next_run_timestamp_seconds", "gauge",
		    "When the job is due next.", 2 },
		{ "vetred_job_last_success_timestamp_seconds", "gauge",
		    "When a run of the job last succeeded (0: never).", 3 },
		{ "vetred_job_firings_total", "counter",
		    "Times the job was fired, by any scheduler.", 4 },
	};
	const char *inst = m->sc->instance;
	PGresult *res = NULL;
	size_t f;
	int i, n;

	if (vr_db_exec(&m->db, MST_JOBS, 0, NULL, &res) != 0)
		return;
	n = PQntuples(res);
	for (f = 0; f < sizeof(fam) / sizeof(fam[0]); f++) {
		vr_buf_printf(b, "# HELP %s %s\n# TYPE %s %s\n", fam[f].name,
		    fam[f].help, fam[f].name, fam[f].type);
		for (i = 0; i < n; i++)
			vr_buf_printf(b, "%s{instance=\"%s\",job=\"%s\"} %s\n",
			    fam[f].name, inst, PQgetvalue(res, i, 0),
			    PQgetvalue(res, i, fam[f].col));
	}
	vr_buf_printf(b, "# HELP vetred_job_runs_total Runs of the job its "
	    "worker reported, by outcome.\n# TYPE vetred_job_runs_total "
	    "counter\n");
	for (i = 0; i < n; i++)
		vr_buf_printf(b, "vetred_job_runs_total{instance=\"%s\",job=\"%s\","
		    "outcome=\"ok\"} %s\nvetred_job_runs_total{instance=\"%s\","
		    "job=\"%s\",outcome=\"error\"} %s\n", inst,
		    PQgetvalue(res, i, 0), PQgetvalue(res, i, 5), inst,
		    PQgetvalue(res, i, 0), PQgetvalue(res, i, 6));
	PQclear(res);
}

static int
mon_metrics(void *arg, struct vr_buf *b, const char **ctype)
{
	struct sched_monitor *m = arg;
	const char *inst = m->sc->instance;
	struct sched_stats s;
	int i;

	pthread_mutex_lock(&m->st->lock);
	s = *m->st;
	pthread_mutex_unlock(&m->st->lock);
	*ctype = PROM_TYPE;
	vr_metrics_build_info(b, "scheduler", vr_version());
	vr_metrics_process(b);
	gauge(b, "vetred_relay_leader", "1 while this relay holds the lease "
	    "and publishes.", inst, s.leader);
	gauge(b, "vetred_relay_broker_up", "1 while the relay is connected to "
	    "the broker with its topology declared.", inst, s.broker_up);
	counter(b, "vetred_relay_published_total", "Outbox events confirmed "
	    "by the broker and marked published.", inst, s.published);
	counter(b, "vetred_relay_nacked_total", "Publications the broker "
	    "refused (nack); published again later.", inst, s.nacked);
	counter(b, "vetred_relay_batches_total", "Batches published.", inst,
	    s.batches);
	counter(b, "vetred_relay_broker_connects_total", "Connections made "
	    "to the broker.", inst, s.broker_connects);
	counter(b, "vetred_relay_broker_failures_total", "Broker connections "
	    "that failed or were dropped.", inst, s.broker_failures);
	counter(b, "vetred_relay_lease_acquired_total", "Times this relay "
	    "took the lease.", inst, s.lease_taken);
	counter(b, "vetred_relay_wakeups_total", "NOTIFYs that woke the "
	    "relay.", inst, s.wakeups);
	counter(b, "vetred_jobs_fired_total", "Periodic jobs this scheduler "
	    "fired (their messages written to the outbox).", inst,
	    s.jobs_fired);
	vr_buf_printf(b, "# HELP vetred_relay_confirm_seconds Time from the "
	    "first publication of a batch to its last confirm.\n"
	    "# TYPE vetred_relay_confirm_seconds histogram\n");
	for (i = 0; i < SCHED_NBUCKETS; i++)
		vr_buf_printf(b, "vetred_relay_confirm_seconds_bucket{instance="
		    "\"%s\",le=\"%g\"} %lld\n", inst, sched_buckets[i],
		    s.conf_bucket[i]);
	vr_buf_printf(b, "vetred_relay_confirm_seconds_bucket{instance=\"%s\","
	    "le=\"+Inf\"} %lld\nvetred_relay_confirm_seconds_sum{instance="
	    "\"%s\"} %.6f\nvetred_relay_confirm_seconds_count{instance=\"%s\"} "
	    "%lld\n", inst, s.conf_count, inst, s.conf_sum, inst, s.conf_count);
	render_backlog(m, b);
	render_jobs(m, b);
	return 200;
}

static int
mon_health(void *arg, struct vr_buf *b, const char **ctype)
{
	struct sched_monitor *m = arg;

	*ctype = JSON_TYPE;
	vr_buf_puts(b, "{\"estado\":\"ok\",\"instancia\":");
	vr_buf_json_string(b, m->sc->instance);
	vr_buf_puts(b, "}");
	return 200;
}

/*
 * 200 when the database answers and, for the lease holder, the broker is
 * connected; a standby needs only the database.
 */
static int
mon_ready(void *arg, struct vr_buf *b, const char **ctype)
{
	struct sched_monitor *m = arg;
	PGresult *res = NULL;
	int db = vr_db_exec(&m->db, MST_PING, 0, NULL, &res) == 0;
	int leader, mq, ok;

	PQclear(res);
	pthread_mutex_lock(&m->st->lock);
	leader = m->st->leader;
	mq = m->st->broker_up;
	pthread_mutex_unlock(&m->st->lock);
	ok = db && (mq || !leader);
	*ctype = JSON_TYPE;
	vr_buf_printf(b, "{\"estado\":\"%s\",\"base_de_datos\":\"%s\","
	    "\"broker\":\"%s\",\"relevo\":\"%s\"}", ok ? "listo" : "no-listo",
	    db ? "ok" : "no responde", mq ? "ok" : "sin conexión",
	    leader ? "publicando" : "en espera");
	return ok ? 200 : 503;
}

static const struct vr_httpd_route mon_routes[] = {
	{ "/metrics", mon_metrics },
	{ "/health", mon_health },
	{ "/ready", mon_ready },
};

int
sched_monitor_start(struct sched_monitor *m, char *err, size_t errlen)
{
	int rc;

	m->httpd = NULL;
	if (m->sc->metrics_addr == NULL)
		return 0;
	vr_db_open(&m->db, m->cfg->database_url, mon_sql, MST__MAX,
	    m->cfg->db_timeout_ms);
	rc = vr_httpd_start(&m->httpd, m->sc->metrics_addr, mon_routes,
	    sizeof(mon_routes) / sizeof(mon_routes[0]), m, err, errlen);
	if (rc < 0)
		vr_db_close(&m->db);
	return rc;
}

void
sched_monitor_stop(struct sched_monitor *m)
{
	if (m->httpd == NULL)
		return;
	vr_httpd_stop(m->httpd);
	m->httpd = NULL;
	vr_db_close(&m->db);
}
