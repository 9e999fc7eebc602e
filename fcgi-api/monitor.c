/*
 * monitor.c - the API process's own monitoring listener (lib/httpd.c):
 * GET /metrics, /health and /ready of this process alone, on
 * VETRED_METRICS_ADDR (loopback by default), one Prometheus target per
 * process.  nginx does not route /metrics: through its balancer every
 * scrape would reach another process.
 *
 * The listener's functions run one at a time on its thread, with a
 * database connection of their own (never a worker's), for /ready and
 * for the audit sealer's lag read at scrape time.  Layer: process, with
 * main.c: it serves the metrics and the readiness of the resources.
 */
#include <stdio.h>
#include <stdlib.h>

#include "metrics.h"
#include "monitor.h"
#include "resources.h"
#include "sql.h"

#define PROM_TYPE	"text/plain; version=0.0.4; charset=utf-8"
#define JSON_TYPE	"application/json; charset=utf-8"

/* Unsealed audit rows and the oldest one's age; nothing if not read. */
static void
render_seal_lag(struct api_monitor *mon, struct vr_buf *b)
{
	PGresult *res = NULL;
	const char *inst = mon->sh->api->instance;
	int ok = vr_db_exec(&mon->db, STMT_AUDITORIA_RETRASO, 0, NULL,
	    &res) == 0;

	vr_buf_printf(b, "# HELP vetred_audit_lag_up Whether the sealer's lag "
	    "could be read from the database.\n"
	    "# TYPE vetred_audit_lag_up gauge\n"
	    "vetred_audit_lag_up{api_instance=\"%s\"} %d\n", inst, ok);
	if (ok) {
		vr_buf_printf(b, "# HELP vetred_audit_unsealed_rows Audit rows "
		    "not yet sealed into the hash chain (counted up to "
		    "100000).\n# TYPE vetred_audit_unsealed_rows gauge\n"
		    "vetred_audit_unsealed_rows{api_instance=\"%s\"} %s\n"
		    "# HELP vetred_audit_unsealed_age_seconds Age of the oldest "
		    "audit row not yet sealed (0: none).\n"
		    "# TYPE vetred_audit_unsealed_age_seconds gauge\n"
		    "vetred_audit_unsealed_age_seconds{api_instance=\"%s\"} "
		    "%.3f\n", inst, PQgetvalue(res, 0, 0), inst,
		    atof(PQgetvalue(res, 0, 1)));
	}
	PQclear(res);
}

/* GET /metrics: this process's series, Prometheus text format 0.0.4. */
static int
mon_metrics(void *arg, struct vr_buf *b, const char **ctype)
{
	struct api_monitor *mon = arg;

	*ctype = PROM_TYPE;
	vr_metrics_build_info(b, "fcgi-api", vr_version());
	vr_metrics_process(b);
	api_metrics_render(mon->sh->metrics, mon->sh->api->instance, b);
	render_seal_lag(mon, b);
	return 200;
}

/* GET /health: 200 {"estado":"ok","instancia":...}. */
static int
mon_health(void *arg, struct vr_buf *b, const char **ctype)
{
	struct api_monitor *mon = arg;

	*ctype = JSON_TYPE;
	vr_buf_puts(b, "{\"estado\":\"ok\",\"instancia\":");
	vr_buf_json_string(b, mon->sh->api->instance);
	vr_buf_puts(b, "}");
	return 200;
}

/* GET /ready: 200 when the database and the broker answer, else 503. */
static int
mon_ready(void *arg, struct vr_buf *b, const char **ctype)
{
	struct api_monitor *mon = arg;
	PGresult *res = NULL;
	int db = vr_db_exec(&mon->db, STMT_PING, 0, NULL, &res) == 0;
	int mq = api_broker_ok(mon->sh);

	PQclear(res);
	*ctype = JSON_TYPE;
	vr_buf_printf(b, "{\"estado\":\"%s\",\"base_de_datos\":\"%s\","
	    "\"broker\":\"%s\"}", db && mq ? "listo" : "no-listo",
	    db ? "ok" : "no responde", mq ? "ok" : "no responde");
	return db && mq ? 200 : 503;
}

static const struct vr_httpd_route mon_routes[] = {
	{ "/metrics", mon_metrics },
	{ "/health", mon_health },
	{ "/ready", mon_ready },
};

/*
 * Start the listener on api->metrics_addr (none when it is NULL).  0, or
 * < 0 with err set: the address cannot be listened on.
 */
int
api_monitor_start(struct api_monitor *mon, struct api_shared *sh, char *err,
    size_t errlen)
{
	const struct vr_config *cfg = sh->cfg;
	const struct api_config *api = sh->api;
	int rc;

	mon->sh = sh;
	mon->httpd = NULL;
	if (api->metrics_addr == NULL)
		return 0;
	/* Not reachable yet is fine: each call reconnects. */
	vr_db_open(&mon->db, cfg->database_url, api_sql, STMT__MAX,
	    cfg->db_timeout_ms);
	rc = vr_httpd_start(&mon->httpd, api->metrics_addr, mon_routes,
	    sizeof(mon_routes) / sizeof(mon_routes[0]), mon, err, errlen);
	if (rc < 0)
		vr_db_close(&mon->db);
	return rc;
}

void
api_monitor_stop(struct api_monitor *mon)
{
	if (mon->httpd == NULL)
		return;
	vr_httpd_stop(mon->httpd);
	mon->httpd = NULL;
	vr_db_close(&mon->db);
}
