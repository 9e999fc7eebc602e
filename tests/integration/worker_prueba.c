/*
 * worker_prueba.c - vetred-worker-prueba: a consumer on the real worker
 * runtime (lib/worker.c), for the integration tests (check_worker.c,
 * check_relay.c).  Its handlers' effect is a row of prueba_efectos, so
 * a test counts effects, not deliveries.
 *
 *   prueba.efecto     one effect row
 *   prueba.lento      sleeps datos.segundos (at most 30) in its
 *                     transaction, then one effect row: a test kills the
 *                     process meanwhile
 *   prueba.falla      asks to retry, until the event's id is in
 *                     prueba_arreglos: then one effect row
 *   prueba.descartar  dead at once, with its reason
 *   prueba.lote       one effect row (the relay's backlog test)
 *   cita.reservada, cita.reprogramada, cita.cancelada
 *                     one effect row with the appointment's id (the
 *                     order of one appointment's events)
 *
 * PRUEBA_CONSUMIDOR names the consumer (default "prueba"; its queue is
 * vetred.<name>); the runtime's settings are VETRED_WORKER_*.  Creates its
 * tables when they are missing.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vr.h"

enum { P_EFECTO, P_DORMIR, P_ARREGLADO, P__MAX };

static const char *const p_sql[P__MAX] = {
	/* $1 consumer, $2 event, $3 key, $4 aggregate id, $5 n */
	[P_EFECTO] = "INSERT INTO prueba_efectos (consumidor, evento_id, "
	    "clave, agregado_id, n) VALUES ($1, $2::uuid, $3, nullif($4, ''), "
	    "nullif($5, '')::int)",
	/* The session names the event while it sleeps (pg_stat_activity):
	 * a test waits for that before it kills the process. */
	[P_DORMIR] = "SELECT set_config('application_name', 'lento-' || $2, "
	    "true), pg_sleep($1::float8)",
	[P_ARREGLADO] = "SELECT 1 FROM prueba_arreglos WHERE evento_id = $1::uuid",
};

static const char *consumidor = "prueba";

static int
efecto(struct vr_work *w, const struct vr_message *m)
{
	const cJSON *ag = m->json != NULL ?
	    cJSON_GetObjectItemCaseSensitive(m->json, "agregado_id") : NULL;
	const cJSON *n = m->datos != NULL ?
	    cJSON_GetObjectItemCaseSensitive(m->datos, "n") : NULL;
	char nbuf[24] = "";
	const char *p[5];
	PGresult *res = NULL;
	int rc;

	if (cJSON_IsNumber(n))
		snprintf(nbuf, sizeof(nbuf), "%d", n->valueint);
	p[0] = consumidor;
	p[1] = m->id;
	p[2] = m->key;
	p[3] = cJSON_IsString(ag) ? ag->valuestring : "";
	p[4] = nbuf;
	if ((rc = vr_work_exec(w, P_EFECTO, 5, p, &res)) != 0)
		return rc;
	PQclear(res);
	return VR_HECHO;
}

static int
h_efecto(struct vr_work *w, const struct vr_message *m, char *reason,
    size_t rlen)
{
	(void)reason;
	(void)rlen;
	return efecto(w, m);
}

static int
h_lento(struct vr_work *w, const struct vr_message *m, char *reason,
    size_t rlen)
{
	const cJSON *s = m->datos != NULL ?
	    cJSON_GetObjectItemCaseSensitive(m->datos, "segundos") : NULL;
	char secs[32];
	const char *p[2] = { secs, m->id };
	PGresult *res = NULL;
	int rc;

	(void)reason;
	(void)rlen;
	snprintf(secs, sizeof(secs), "%.3f", cJSON_IsNumber(s) &&
	    s->valuedouble > 0 && s->valuedouble <= 30 ? s->valuedouble : 1.0);
	if ((rc = vr_work_exec(w, P_DORMIR, 2, p, &res)) != 0)
		return rc;
	PQclear(res);
	return efecto(w, m);
}

static int
h_falla(struct vr_work *w, const struct vr_message *m, char *reason,
    size_t rlen)
{
	const char *p[1] = { m->id };
	PGresult *res = NULL;
	int rc, fixed;

	if ((rc = vr_work_exec(w, P_ARREGLADO, 1, p, &res)) != 0)
		return rc;
	fixed = PQntuples(res) > 0;
	PQclear(res);
	if (fixed)
		return efecto(w, m);
	snprintf(reason, rlen, "falla a propósito (intento %d)", m->attempt);
	return VR_REINTENTAR;
}

static int
h_descartar(struct vr_work *w, const struct vr_message *m, char *reason,
    size_t rlen)
{
	(void)w;
	(void)m;
	snprintf(reason, rlen, "descartado a propósito");
	return VR_DESCARTAR;
}

static const struct vr_handler handlers[] = {
	{ "prueba.efecto", h_efecto },
	{ "prueba.lento", h_lento },
	{ "prueba.falla", h_falla },
	{ "prueba.descartar", h_descartar },
	{ "prueba.lote", h_efecto },
	{ "cita.reservada", h_efecto },
	{ "cita.reprogramada", h_efecto },
	{ "cita.cancelada", h_efecto },
};

static const char tables[] =
    "CREATE TABLE IF NOT EXISTS prueba_efectos (id bigserial PRIMARY KEY, "
    "consumidor text NOT NULL, evento_id uuid NOT NULL, clave text NOT NULL, "
    "agregado_id text, n integer, hecho_en timestamptz NOT NULL DEFAULT "
    "clock_timestamp()); "
    "CREATE TABLE IF NOT EXISTS prueba_arreglos (evento_id uuid PRIMARY KEY)";

int
main(void)
{
	struct vr_consumer c;
	struct vr_worker_config wc;
	struct vr_config cfg;
	struct vr_db db;
	PGresult *res = NULL;
	char err[256];

	if (vr_config_load(&cfg, err, sizeof(err)) < 0 ||
	    vr_worker_config_load(&wc, err, sizeof(err)) < 0) {
		fprintf(stderr, "vetred-worker-prueba: %s\n", err);
		return 2;
	}
	consumidor = vr_env_str("PRUEBA_CONSUMIDOR", "prueba");
	vr_log_init("worker-prueba", cfg.log_level);
	if (vr_db_open(&db, cfg.database_url, NULL, 0, 0) != 0 ||
	    vr_db_query(&db, tables, &res) != 0) {
		fprintf(stderr, "vetred-worker-prueba: %s\n", db.errmsg);
		return 2;
	}
	PQclear(res);
	vr_db_close(&db);
	memset(&c, 0, sizeof(c));
	c.name = consumidor;
	c.exchange = VR_AMQP_EVENTOS;
	c.handlers = handlers;
	c.nhandlers = sizeof(handlers) / sizeof(handlers[0]);
	c.sql = p_sql;
	c.nsql = P__MAX;
	return vr_worker_run("vetred-worker-prueba", &c, 1, &cfg, &wc, NULL);
}
