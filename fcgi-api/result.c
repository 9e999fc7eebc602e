/*
 * result.c - answers from the database functions.  Layer: problem.
 *
 * The write and read paths of citas, pacientes, sedes and usuarios are
 * PostgreSQL functions (db/functions/) returning one jsonb verdict:
 *   {"codigo": "creado" | "hecho" | "cancelado", "cuerpo": …}
 *   {"codigo": "conflicto" | …, "detalle", "errores", "conflicto", …}
 * so every rule is decided in one round trip and one transaction.  The
 * verdict says what happened in the domain's words (a code of the table
 * veredictos, db/migrations/0029); what that is in HTTP — status,
 * problem type and title — is decided here alone, in verdicts[] below.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "problem.h"
#include "transport.h"

/*
 * Every verdict code (the rows of veredictos) and how the API answers it:
 * a success with its status (the body is "cuerpo"), or a problem with its
 * status, type (/problemas/<type>) and title.  tests/unit/check_result.c
 * fails when a code of the SQL is missing here or one here is not in the
 * SQL table.
 */
static const struct api_verdict_kind verdicts[] = {
	{ "creado", 201, NULL, NULL },
	{ "hecho", 200, NULL, NULL },
	{ "aceptado", 202, NULL, NULL },
	{ "cancelado", 204, NULL, NULL },
	{ "validacion", 422, "validacion", "Datos inválidos" },
	{ "fuera-de-horario", 422, "fuera-de-horario", "Datos inválidos" },
	{ "veterinario-ausente", 422, "veterinario-ausente",
	    "Datos inválidos" },
	{ "idempotencia", 422, "idempotencia", "Datos inválidos" },
	{ "conflicto", 409, "conflicto", "Conflicto" },
	{ "transicion-invalida", 409, "transicion-invalida", "Conflicto" },
	{ "cita-cerrada", 409, "cita-cerrada", "Conflicto" },
	{ "entrada-bloqueada", 409, "entrada-bloqueada", "Conflicto" },
	{ "paciente-existente", 409, "paciente-existente", "Conflicto" },
	{ "admin-existe", 409, "admin-existe", "Conflicto" },
	{ "no-reenviable", 409, "no-reenviable", "Conflicto" },
	{ "no-encontrado", 404, "no-encontrado", "No encontrado" },
	{ "version-distinta", 412, "version-distinta",
	    "Precondición fallida" },
	{ "prohibido", 403, "prohibido", "Prohibido" },
	{ "sesion-invalida", 401, "sesion-invalida", "No autorizado" },
};

#define NVERDICTS	(sizeof(verdicts) / sizeof(verdicts[0]))

/* How the API answers a verdict code; NULL for one it does not know. */
const struct api_verdict_kind *
api_verdict_kind(const char *code)
{
	size_t i;

	for (i = 0; code != NULL && i < NVERDICTS; i++)
		if (strcmp(verdicts[i].code, code) == 0)
			return &verdicts[i];
	return NULL;
}

/* The i-th entry of verdicts[], NULL past the last. */
const struct api_verdict_kind *
api_verdict_kind_at(size_t i)
{
	return i < NVERDICTS ? &verdicts[i] : NULL;
}

/* 1 when v is a verdict with this code. */
int
api_verdict_is(const cJSON *v, const char *code)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, "codigo");

	return cJSON_IsString(c) && strcmp(c->valuestring, code) == 0;
}

/*
 * Opens every sealed string (lib/cifra.c) of a JSON value in place: a
 * member is the sealed column of its name (vr_sealed_named(): names are
 * unique across the sealed columns), and opens only as a value of that
 * column.  0, or -1 when one does not open (altered, moved from another
 * column, or sealed with a key this process does not hold).
 */
static int
unseal_tree(struct api_req *r, cJSON *v)
{
	cJSON *e;
	char *plain;
	int rc;

	cJSON_ArrayForEach(e, v) {
		if (cJSON_IsString(e) && vr_is_sealed(e->valuestring)) {
			const struct vr_sealed_col *c = e->string ?
			    vr_sealed_named(e->string) : NULL;

			rc = c ? vr_unseal_col(&r->ctx->shared->keys.seal, c,
			    e->valuestring, &plain) : VR_EINVAL;
			if (rc < 0) {
				vr_log(VR_LOG_ERROR, r->request_id, "sealed value "
				    "does not open", "field", e->string ?
				    e->string : "", "error", vr_strerror(rc), NULL);
				return -1;
			}
			cJSON_SetValuestring(e, plain);
			free(plain);
		} else if ((cJSON_IsObject(e) || cJSON_IsArray(e)) &&
		    unseal_tree(r, e) < 0)
			return -1;
	}
	return 0;
}

/*
 * The JSON text with its sealed values opened (malloc'd), or NULL (logged)
 * when one does not open.  Text without sealed values comes back as a
 * copy without being parsed.
 */
char *
api_unseal_json(struct api_req *r, const char *text)
{
	cJSON *v;
	char *out = NULL;

	if (strstr(text, "\"v1:") == NULL && strstr(text, "\"v2:") == NULL)
		return vr_xstrdup(text);
	if ((v = cJSON_Parse(text)) != NULL && unseal_tree(r, v) == 0)
		out = cJSON_PrintUnformatted(v);
	cJSON_Delete(v);
	return out;
}

static void
send_success(struct api_req *r, int status, cJSON *v,
    const char *location_prefix)
{
	cJSON *body = cJSON_DetachItemFromObject(v, "cuerpo");
	const cJSON *id, *ver;
	struct vr_buf h;

	if (status == 204 || body == NULL) {
		cJSON_Delete(body);
		api_reply(r, status, NULL, NULL, 0, NULL);
		return;
	}
	vr_buf_init(&h);
	id = cJSON_GetObjectItem(body, "id");
	if (status == 201 && location_prefix != NULL && cJSON_IsNumber(id))
		vr_buf_printf(&h, "Location: %s%.0f\r\n", location_prefix,
		    id->valuedouble);
	ver = cJSON_GetObjectItem(body, "version");
	if (cJSON_IsNumber(ver))
		vr_buf_printf(&h, "ETag: \"%.0f\"\r\n", ver->valuedouble);
	if (cJSON_IsTrue(cJSON_GetObjectItem(v, "repetida")))
		vr_buf_puts(&h, "Idempotent-Replayed: true\r\n");
	if (unseal_tree(r, body) < 0) {
		cJSON_Delete(body);
		api_problem(r, 500, "error-interno", "Error interno",
		    "Ocurrió un error inesperado.", NULL);
	} else
		api_json(r, status, body, h.data);
	vr_buf_free(&h);
}

/* A function's jsonb verdict (column 0 of row 0), parsed; NULL if none. */
cJSON *
api_verdict(PGresult *res)
{
	if (PQntuples(res) != 1 || PQgetisnull(res, 0, 0))
		return NULL;
	return cJSON_ParseWithLength(PQgetvalue(res, 0, 0),
	    (size_t)PQgetlength(res, 0, 0));
}

/* Answer from a function's jsonb verdict; v (may be NULL) is freed. */
void
api_reply_verdict(struct api_req *r, cJSON *v, const char *location_prefix)
{
	const struct api_verdict_kind *k;
	const cJSON *code, *detalle;
	cJSON *p, *e;

	code = cJSON_GetObjectItemCaseSensitive(v, "codigo");
	/* A code the API does not know is a bug of one side or the other. */
	if ((k = api_verdict_kind(cJSON_IsString(code) ? code->valuestring :
	    NULL)) == NULL) {
		vr_log(VR_LOG_ERROR, r->request_id, "verdict of unknown code",
		    "codigo", cJSON_IsString(code) ? code->valuestring : "",
		    NULL);
		cJSON_Delete(v);
		api_problem(r, 500, "error-interno", "Error interno",
		    "Ocurrió un error inesperado.", NULL);
		return;
	}
	if (k->type == NULL) {
		send_success(r, k->status, v, location_prefix);
		cJSON_Delete(v);
		return;
	}
	detalle = cJSON_GetObjectItemCaseSensitive(v, "detalle");
	p = api_problem_new(r, k->status, k->type, k->title,
	    cJSON_IsString(detalle) ? detalle->valuestring : NULL);
	if ((e = cJSON_DetachItemFromObject(v, "errores")) != NULL)
		cJSON_AddItemToObject(p, "errors", e);
	if ((e = cJSON_DetachItemFromObject(v, "conflicto")) != NULL)
		cJSON_AddItemToObject(p, "conflicto", e);
	if ((e = cJSON_DetachItemFromObject(v, "paciente_existente")) != NULL)
		cJSON_AddItemToObject(p, "paciente_existente", e);
	cJSON_Delete(v);
	api_send_problem(r, p, NULL);
}

/* Answer from a function's jsonb verdict (column 0 of row 0). */
void
api_reply_result(struct api_req *r, PGresult *res,
    const char *location_prefix)
{
	api_reply_verdict(r, api_verdict(res), location_prefix);
}

/*
 * Run one function statement and answer from its verdict.  write: an
 * autocommit write, never retried after a lost connection.
 */
void
api_run_function(struct api_req *r, const struct api_args *a, int write,
    const char *location_prefix)
{
	PGresult *res = NULL;
	int rc;

	rc = api_args_run(&r->ctx->db, a, write, &res);
	if (rc < 0)
		api_db_problem(r, rc);
	else
		api_reply_result(r, res, location_prefix);
	PQclear(res);
}

/*
 * Run one read statement whose column 0 is the answer's JSON text: 200
 * with it, or 404 with not_found as detail when it is NULL.  versioned:
 * the answer's "version" member is also its ETag (the If-Match of a
 * change).
 */
static void
run_json(struct api_req *r, const struct api_args *a, const char *not_found,
    int versioned)
{
	PGresult *res = NULL;
	const cJSON *ver;
	cJSON *v = NULL;
	char *text = NULL, etag[40] = "";
	int rc;

	if ((rc = api_args_run(&r->ctx->db, a, 0, &res)) < 0)
		api_db_problem(r, rc);
	else if (PQntuples(res) == 0 || PQgetisnull(res, 0, 0))
		api_problem(r, 404, "no-encontrado", "No encontrado",
		    not_found, NULL);
	else if ((text = api_unseal_json(r, PQgetvalue(res, 0, 0))) == NULL ||
	    (versioned && (v = cJSON_Parse(text)) == NULL))
		api_problem(r, 500, "error-interno", "Error interno",
		    "Ocurrió un error inesperado.", NULL);
	else {
		ver = cJSON_GetObjectItemCaseSensitive(v, "version");
		if (cJSON_IsNumber(ver))
			snprintf(etag, sizeof(etag), "ETag: \"%.0f\"\r\n",
			    ver->valuedouble);
		api_json_text(r, 200, NULL, text, 0, etag[0] ? etag : NULL);
	}
	cJSON_Delete(v);
	free(text);
	PQclear(res);
}

void
api_run_json(struct api_req *r, const struct api_args *a,
    const char *not_found)
{
	run_json(r, a, not_found, 0);
}

/* api_run_json() for a read of one versioned resource (ETag). */
void
api_run_json_versioned(struct api_req *r, const struct api_args *a,
    const char *not_found)
{
	run_json(r, a, not_found, 1);
}
