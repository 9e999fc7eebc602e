/*
 * req.c - the request's memory: what a handler makes (cJSON trees,
 * printed JSON, PGresults) is tied to the thread's arena and released
 * with it, once, after the answer (req.h).
 */
#include <time.h>

#include "req.h"

double
api_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

const char *
api_lltoa(struct api_req *r, long long v)
{
	return vr_arena_printf(r->arena, "%lld", v);
}

static void
json_delete(void *p)
{
	cJSON_Delete(p);
}

static void
text_free(void *p)
{
	cJSON_free(p);
}

static void
result_clear(void *p)
{
	PQclear(p);
}

/* v (a root, may be NULL) is the request's from now on; v returned. */
cJSON *
api_own_json(struct api_req *r, cJSON *v)
{
	vr_arena_defer(r->arena, json_delete, v);
	return v;
}

/* s, malloc'd (cJSON_Print, vr_jwt_sign, ...), is the request's. */
char *
api_own_text(struct api_req *r, char *s)
{
	vr_arena_defer(r->arena, text_free, s);
	return s;
}

PGresult *
api_own_result(struct api_req *r, PGresult *res)
{
	vr_arena_defer(r->arena, result_clear, res);
	return res;
}

/* A new list of field errors (vr_json_error), the request's. */
cJSON *
api_errors(struct api_req *r)
{
	return api_own_json(r, cJSON_CreateArray());
}

/* v printed unformatted, the request's; NULL when printing failed. */
const char *
api_print(struct api_req *r, const cJSON *v)
{
	return api_own_text(r, cJSON_PrintUnformatted(v));
}

/*
 * Run a statement on the thread's connection (args.c, lib/db.c); *res,
 * set on success, is the request's.  write: an autocommit write, never
 * retried.
 */
int
api_exec(struct api_req *r, const struct api_args *a, int write,
    PGresult **res)
{
	int rc = api_args_run(&r->ctx->db, a, write, res);

	api_own_result(r, *res);
	return rc;
}
