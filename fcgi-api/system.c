/*
 * system.c - liveness, readiness and the OpenAPI document.  Metrics are
 * not served here but on each process's own listener (monitor.c).
 *
 * /health says the process serves requests and touches nothing else.
 * /ready checks this thread's database connection (reconnecting if it was
 * lost) and the broker; the broker check logs in over AMQP, so its result
 * is shared by the process's threads for READY_AMQP_TTL seconds.
 * Layer: resources.
 */
#include <string.h>

#include "resources.h"
#include "sql.h"
#include "transport.h"

#define READY_AMQP_TTL		2.0
#define READY_AMQP_TIMEOUT_MS	1000

/*
 * GET /health - public.  200 {"estado":"ok","instancia":...}.
 */
void
api_health(struct api_req *r)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "estado", "ok");
	cJSON_AddStringToObject(o, "instancia",
	    r->ctx->shared->api->instance);
	api_json(r, 200, o, NULL);
}

/* The broker answers (checked at most every READY_AMQP_TTL seconds). */
int
api_broker_ok(struct api_shared *sh)
{
	double now = api_now();
	int ok;

	pthread_mutex_lock(&sh->amqp_lock);
	if (sh->amqp_checked_at == 0 ||
	    now - sh->amqp_checked_at > READY_AMQP_TTL) {
		sh->amqp_ok = vr_amqp_ping(sh->cfg->amqp_url,
		    READY_AMQP_TIMEOUT_MS) == 0;
		sh->amqp_checked_at = now;
	}
	ok = sh->amqp_ok;
	pthread_mutex_unlock(&sh->amqp_lock);
	return ok;
}

/*
 * GET /ready - public.  200 when the database and the broker answer,
 * 503 problem+json naming the one that does not.
 */
void
api_ready(struct api_req *r)
{
	PGresult *res = NULL;
	struct api_args a;
	int db, mq;
	cJSON *o;

	api_args_init(&a, STMT_PING);
	db = api_exec(r, &a, 0, &res) == 0;
	mq = api_broker_ok(r->ctx->shared);

	if (db && mq) {
		o = cJSON_CreateObject();
		cJSON_AddStringToObject(o, "estado", "listo");
		cJSON_AddStringToObject(o, "base_de_datos", "ok");
		cJSON_AddStringToObject(o, "broker", "ok");
		api_json(r, 200, o, NULL);
		return;
	}
	o = api_errors(r);
	if (!db)
		vr_json_error(o, "base_de_datos", "no responde");
	if (!mq)
		vr_json_error(o, "broker", "no responde");
	api_problem(r, 503, "no-listo", "Servicio no listo",
	    "Una dependencia no responde.", o);
}

/*
 * GET /api/v1/openapi.json - public.  The OpenAPI 3.0 document.
 */
void
api_openapi_get(struct api_req *r)
{
	api_json_text(r, 200, NULL, api_openapi_start,
	    (size_t)(api_openapi_end - api_openapi_start), NULL);
}
