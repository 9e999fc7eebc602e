/*
 * jobs.c - the consumer "mantenimiento": the engine's own periodic jobs,
 * fired by vetred-scheduler (trabajo.disparado on vetred.trabajos, the
 * job's name as routing key).  Each run records its outcome in trabajos
 * (terminar_trabajo()): a success in the transaction of its effect, a
 * failure after that rolled back.
 *
 *   purga_outbox       published outbox rows and consumers' marks older
 *                      than VETRED_OUTBOX_RETENTION_DAYS
 *   sellado_auditoria  seals the new audit rows into the hash chain, and
 *                      logs the chain's head (the anchors `vetred-admin
 *                      verificar LOG` checks): at each run that sealed
 *                      rows, and every minute when idle
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "worker.h"

#define SEAL_BATCH	"500"
#define SEAL_HEARTBEAT_S 60

enum { J_PURGE, J_SEAL, J_DONE, J__MAX };

static const char *const j_sql[J__MAX] = {
	[J_PURGE] = "SELECT eventos, marcas FROM purgar_outbox($1::int * "
	    "interval '1 day')",
	[J_SEAL] = "SELECT sellados, leidas, ultimo_sello, ultimo_hash FROM "
	    "auditoria_sellar(" SEAL_BATCH ")",
	/* $1 job, $2 ok, $3 ms, $4 error */
	[J_DONE] = "SELECT terminar_trabajo($1, $2::boolean, $3::int, $4)",
};

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/* The job's run took ms: how long, since the message's attempt began. */
static int
done(struct vr_work *w, const struct vr_message *m, double t0)
{
	char ms[24];
	const char *p[4] = { m->key, "true", ms, NULL };
	PGresult *res = NULL;
	int rc;

	snprintf(ms, sizeof(ms), "%.0f", now_ms() - t0);
	if ((rc = vr_work_exec(w, J_DONE, 4, p, &res)) != 0)
		return rc;
	PQclear(res);
	return VR_HECHO;
}

/* The message names the job its routing key does. */
static int
check_job(const struct vr_message *m, char *reason, size_t rlen)
{
	const cJSON *t = m->datos != NULL ?
	    cJSON_GetObjectItemCaseSensitive(m->datos, "trabajo") : NULL;

	if (!cJSON_IsString(t) || strcmp(t->valuestring, m->key) != 0) {
		snprintf(reason, rlen, "el mensaje no es el disparo del trabajo "
		    "%s (datos.trabajo)", m->key);
		return VR_DESCARTAR;
	}
	return VR_HECHO;
}

static int
purga_outbox(struct vr_work *w, const struct vr_message *m, char *reason,
    size_t rlen)
{
	double t0 = now_ms();
	char days[16];
	const char *p[1] = { days };
	PGresult *res = NULL;
	int rc;

	if ((rc = check_job(m, reason, rlen)) != VR_HECHO)
		return rc;
	snprintf(days, sizeof(days), "%d", wk_cfg.retention_days);
	if ((rc = vr_work_exec(w, J_PURGE, 1, p, &res)) != 0)
		return rc;
	{
		struct vr_log_field f[] = {
			VR_LF_INT("eventos", atoll(PQgetvalue(res, 0, 0))),
			VR_LF_INT("marcas", atoll(PQgetvalue(res, 0, 1))),
			VR_LF_INT("retencion_dias", wk_cfg.retention_days),
		};
		vr_log_fields(VR_LOG_INFO, m->request_id, "outbox purged", f,
		    VR_NFIELDS(f));
	}
	PQclear(res);
	return done(w, m, t0);
}

/* When the sealer last logged the chain's head (one thread runs it). */
static double last_head_ms = -1e12;

static int
sellado_auditoria(struct vr_work *w, const struct vr_message *m,
    char *reason, size_t rlen)
{
	double t0 = now_ms();
	PGresult *res = NULL;
	long long total = 0;
	int rc, i;

	if ((rc = check_job(m, reason, rlen)) != VR_HECHO)
		return rc;
	/* A batch a call until one reads fewer, or the run's cap (the next
	 * run, seconds later, goes on from there). */
	for (i = 0; i < wk_cfg.seal_batches; i++) {
		PQclear(res);
		if ((rc = vr_work_exec(w, J_SEAL, 0, NULL, &res)) != 0)
			return rc;
		total += atoll(PQgetvalue(res, 0, 0));
		if (atol(PQgetvalue(res, 0, 1)) < atol(SEAL_BATCH))
			break;
	}
	if (total > 0 || now_ms() - last_head_ms >= SEAL_HEARTBEAT_S * 1e3) {
		int head = !PQgetisnull(res, 0, 2);
		struct vr_log_field f[] = {
			VR_LF_INT("filas", total),
			VR_LF_DBL("ms", now_ms() - t0),
			VR_LF_INT("ultimo_sello", head ?
			    atoll(PQgetvalue(res, 0, 2)) : 0),
			VR_LF_STR("hash", PQgetvalue(res, 0, 3)),
		};
		vr_log_fields(VR_LOG_INFO, m->request_id, total > 0 ?
		    "audit rows sealed" : "sealer idle", f, head ? 4 : 2);
		last_head_ms = now_ms();
	}
	PQclear(res);
	return done(w, m, t0);
}

/* A run that failed: the outcome, on its own (the effect rolled back). */
static void
failed(struct vr_work *w, const struct vr_message *m, const char *reason)
{
	const char *p[4] = { m->key, "false", "0", reason };
	PGresult *res = NULL;

	if (vr_work_exec(w, J_DONE, 4, p, &res) == 0)
		PQclear(res);
}

static const struct vr_handler handlers[] = {
	{ "purga_outbox", purga_outbox },
	{ "sellado_auditoria", sellado_auditoria },
};

const struct vr_consumer wk_mantenimiento = {
	.name = "mantenimiento",
	.exchange = VR_AMQP_TRABAJOS,
	.handlers = handlers,
	.nhandlers = sizeof(handlers) / sizeof(handlers[0]),
	.sql = j_sql,
	.nsql = J__MAX,
	.failed = failed,
};
