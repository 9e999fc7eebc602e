/*
 * citas.c - appointments: book, read, move or change state, cancel, list.
 *
 * The handlers check the shape of the input (types, formats, bounds) and
 * hand it to one database function that applies every booking rule and
 * writes the row, its audit row and its outbox event in one transaction
 * (db/migrations/0007_reservas.sql).  Overlaps are refused by the
 * exclusion constraints, so no vet or room is ever double-booked, however
 * many API processes run.  Layer: resources.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "authz.h"
#include "params.h"
#include "problem.h"
#include "resources.h"
#include "sql.h"
#include "transport.h"

#define ID_MAX		9007199254740991LL
#define LIST_DEFAULT	"50"

static const char *const tipos[] = { "presencial", "virtual", NULL };
static const char *const estados[] = { "reservada", "confirmada",
	"en_atencion", "atendida", "cancelada", "no_asistio", NULL };

/* A JSON id field as decimal text in the arena; NULL when absent. */
static const char *
json_id(struct api_req *r, const char *name, int required, cJSON *errs)
{
	long long v;

	if (vr_json_int(r->json, name, required, 1, ID_MAX, &v, errs) <= 0)
		return NULL;
	return api_lltoa(r, v);
}

/* A JSON RFC 3339 time field; NULL when absent or invalid. */
static const char *
json_time(struct api_req *r, const char *name, int required, cJSON *errs)
{
	const char *s;

	if (vr_json_str(r->json, name, required, 1, 40, &s, errs) <= 0)
		return NULL;
	if (!vr_rfc3339_valid(s)) {
		vr_json_error(errs, name, "debe ser una fecha y hora RFC 3339 "
		    "con zona (2026-12-01T09:00:00-05:00)");
		return NULL;
	}
	return s;
}

/*
 * The site of appointment id (decimal text) into *sede, 0 when there is
 * no such appointment.  0, or -1 with the database problem answered.
 */
static int
site_of(struct api_req *r, const char *id, long long *sede)
{
	PGresult *res = NULL;
	int rc;

	*sede = 0;
	if ((rc = api_exec(r, STMT_CITA_SEDE, 1, &id, &res)) < 0) {
		api_db_problem(r, rc);
		return -1;
	}
	if (PQntuples(res) == 1)
		*sede = atoll(PQgetvalue(res, 0, 0));
	return 0;
}

/*
 * A 409 names the appointment in the way (conflicto.cita_id, its times,
 * and the times in "detalle") only to a caller who may read it by the
 * rule of GET /citas/{id}: a role granting citas.leer at its site.  Others
 * learn which resource (patient, vet or room) is busy then, nothing more.
 * 0, or -1 with the database problem answered.
 */
static int
conflict_for_caller(struct api_req *r, cJSON *v)
{
	static const struct {
		const char	*recurso, *detalle;
	} busy[] = {
		{ "veterinario", "El veterinario ya tiene otra cita en ese "
		    "horario." },
		{ "consultorio", "El consultorio ya está ocupado en ese "
		    "horario." },
		{ "paciente", "El paciente ya tiene otra cita en ese horario." },
	};
	cJSON *c = cJSON_GetObjectItemCaseSensitive(v, "conflicto");
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(c, "cita_id");
	const cJSON *rec = cJSON_GetObjectItemCaseSensitive(c, "recurso");
	const char *detalle = busy[2].detalle;
	long long sede;
	size_t i;

	if (!cJSON_IsNumber(id))
		return 0;
	if (site_of(r, api_lltoa(r, (long long)id->valuedouble), &sede) < 0)
		return -1;
	if (sede != 0 && api_allowed_perm(r, "citas.leer", sede))
		return 0;
	for (i = 0; i < sizeof(busy) / sizeof(busy[0]); i++)
		if (cJSON_IsString(rec) && strcmp(rec->valuestring,
		    busy[i].recurso) == 0)
			detalle = busy[i].detalle;
	cJSON_DeleteItemFromObjectCaseSensitive(c, "cita_id");
	cJSON_DeleteItemFromObjectCaseSensitive(c, "inicio");
	cJSON_DeleteItemFromObjectCaseSensitive(c, "fin");
	cJSON_DeleteItemFromObjectCaseSensitive(v, "detalle");
	cJSON_AddStringToObject(v, "detalle", detalle);
	return 0;
}

/* Run a booking or move and answer from its verdict, conflicts shown as
 * the caller may see them. */
static void
run_cita_write(struct api_req *r, int stmt, const char *const *p,
    const char *location_prefix)
{
	PGresult *res = NULL;
	cJSON *v;
	int rc;

	if ((rc = api_exec_write(r, stmt, 15, p, &res)) < 0) {
		api_db_problem(r, rc);
		return;
	}
	v = api_verdict(res);
	/* api_reply_verdict() frees v, which is why it is not the request's. */
	if (conflict_for_caller(r, v) < 0)
		cJSON_Delete(v);
	else
		api_reply_verdict(r, v, location_prefix);
}

/*
 * POST /api/v1/citas/reservar - permission citas.reservar.
 * In: {paciente_id, veterinario_id, sede_id, consultorio_id?, inicio,
 *      duracion_min | fin, motivo, tipo?}; header Idempotency-Key?.
 * 201 Cita + Location; 400/413/415 (router, bad key); 409 the vet, room
 * or patient is taken (with "conflicto", naming the appointment only to
 * who may read it); 422 invalid fields, outside working hours, absent
 * vet, inactive or deceased patient, or a reused idempotency key with
 * another body; 503 database unavailable.  A retry by the same user with
 * the same key and body answers the first answer again
 * (Idempotent-Replayed: true) and books nothing; keys are the sender's
 * own: another user's key is another request.
 */
void
api_cita_reservar(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	const char *p[15] = { NULL };
	const char *key, *motivo = NULL, *tipo = "presencial";
	char hash[65];
	long long dur;
	int t, nerr;

	if (api_idempotency_key_or_400(r, &key) < 0)
		return;
	p[0] = json_id(r, "paciente_id", 1, errs);
	p[1] = json_id(r, "veterinario_id", 1, errs);
	p[2] = json_id(r, "sede_id", 1, errs);
	p[3] = json_id(r, "consultorio_id", 0, errs);
	p[4] = json_time(r, "inicio", 1, errs);
	/* Decided on the values read, not on the keys: a null (or
	 * differently cased) "fin" must not leave the end unset. */
	nerr = cJSON_GetArraySize(errs);
	p[5] = json_time(r, "fin", 0, errs);
	if (vr_json_int(r->json, "duracion_min", 0, 5, 240, &dur, errs) > 0)
		p[6] = api_lltoa(r, dur);
	if (p[5] == NULL && p[6] == NULL && cJSON_GetArraySize(errs) == nerr)
		vr_json_error(errs, "duracion_min", "indique duracion_min o fin");
	else if (p[5] != NULL && p[6] != NULL)
		vr_json_error(errs, "fin", "indique duracion_min o fin, no ambos");
	vr_json_str(r->json, "motivo", 1, 1, 500, &motivo, errs);
	if (vr_json_enum(r->json, "tipo", 0, tipos, &t, errs) > 0)
		tipo = tipos[t];
	if (api_fields_or_422(r, errs) < 0)
		return;
	p[7] = motivo;
	p[8] = tipo;
	if (api_sede_or_403(r, atoll(p[2])) < 0)
		return;
	p[9] = api_acting_user(r);
	p[10] = api_acting_role(r, atoll(p[2]));
	p[11] = r->request_id;
	p[12] = *r->remote_addr ? r->remote_addr : NULL;
	p[13] = key;
	if (key != NULL) {
		vr_sha256_hex(r->body, r->body_len, hash);
		p[14] = hash;
	}
	run_cita_write(r, STMT_RESERVAR, p, "/api/v1/citas/");
}

/*
 * The site of appointment id, once the caller may act there: the site,
 * 0 when there is no such appointment (the write function answers 404),
 * or -1 with the 403 (or database problem) answered.
 */
static long long
cita_sede(struct api_req *r, const char *id)
{
	long long sede;

	if (site_of(r, id, &sede) < 0 ||
	    (sede != 0 && api_sede_or_403(r, sede) < 0))
		return -1;
	return sede;
}

/*
 * GET /api/v1/citas/{id} - permission citas.leer.
 * 200 Cita (ETag: its version); 400 bad id; 404 no such appointment.
 */
void
api_cita_get(struct api_req *r)
{
	long long id;
	const char *p[1];
	PGresult *res = NULL;
	char etag[32];
	int rc;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	p[0] = api_lltoa(r, id);
	if ((rc = api_exec(r, STMT_CITA_GET, 1, p, &res)) < 0) {
		api_db_problem(r, rc);
		return;
	}
	if (PQntuples(res) == 0) {
		api_problem(r, 404, "no-encontrado", "No encontrado",
		    "La cita no existe.", NULL);
	} else if (!api_allowed(r, atoll(PQgetvalue(res, 0, 2)))) {
		api_forbidden(r, "La cita es de una sede donde su rol no "
		    "permite leer citas.");
	} else {
		snprintf(etag, sizeof(etag), "ETag: \"%s\"\r\n",
		    PQgetvalue(res, 0, 1));
		api_json_text(r, 200, NULL, PQgetvalue(res, 0, 0),
		    (size_t)PQgetlength(res, 0, 0), etag);
	}
}

/*
 * If-Match: "N" (or N), the version the client last read; NULL when absent
 * or "*" (any version).
 */
static const char *
if_match(struct api_req *r, cJSON *errs)
{
	const char *h = api_header(r, "HTTP_IF_MATCH");
	char buf[16];
	size_t n;
	long long v;

	if (h == NULL || strcmp(h, "*") == 0)
		return NULL;
	n = strlen(h);
	if (n >= 2 && h[0] == '"' && h[n - 1] == '"') {
		h++;
		n -= 2;
	}
	if (n < sizeof(buf)) {
		memcpy(buf, h, n);
		buf[n] = '\0';
	}
	if (n >= sizeof(buf) || vr_parse_id(buf, &v) < 0 || v > 2147483647) {
		vr_json_error(errs, "If-Match", "debe ser la versión de la cita "
		    "entre comillas, como la da el ETag");
		return NULL;
	}
	return api_lltoa(r, v);
}

/*
 * PUT /api/v1/citas/{id} - permission citas.modificar.
 * In: any of {inicio, duracion_min | fin, veterinario_id, consultorio_id
 * (null: no room), estado, motivo, motivo_cancelacion, version}; or the
 * version as If-Match.  Moving follows the booking rules; estado follows
 * reservada → confirmada → en_atencion → atendida, and reservada or
 * confirmada → cancelada | no_asistio.
 * 200 Cita; 400 bad id; 404; 409 taken slot or invalid transition;
 * 412 version mismatch; 422 invalid fields or rules.
 */
void
api_cita_put(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	const cJSON *room;
	const char *p[15] = { NULL };
	const char *motivo = NULL, *motivo_c = NULL;
	long long id, n, sede;
	int e, given = 0;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	p[0] = api_lltoa(r, id);
	given += (p[1] = json_time(r, "inicio", 0, errs)) != NULL;
	if (vr_json_int(r->json, "duracion_min", 0, 5, 240, &n, errs) > 0)
		p[2] = api_lltoa(r, n), given++;
	given += (p[3] = json_time(r, "fin", 0, errs)) != NULL;
	if (p[2] != NULL && p[3] != NULL)
		vr_json_error(errs, "fin", "indique duracion_min o fin, no ambos");
	given += (p[4] = json_id(r, "veterinario_id", 0, errs)) != NULL;
	room = cJSON_GetObjectItemCaseSensitive(r->json, "consultorio_id");
	if (cJSON_IsNull(room))
		p[6] = "true", given++;
	else
		given += (p[5] = json_id(r, "consultorio_id", 0, errs)) != NULL;
	if (vr_json_enum(r->json, "estado", 0, estados, &e, errs) > 0)
		p[7] = estados[e], given++;
	if (vr_json_str(r->json, "motivo", 0, 1, 500, &motivo, errs) > 0)
		p[8] = motivo, given++;
	if (vr_json_str(r->json, "motivo_cancelacion", 0, 1, 500, &motivo_c,
	    errs) > 0)
		p[9] = motivo_c, given++;
	/* A malformed If-Match is refused even when the body names the
	 * version (which then wins). */
	p[10] = if_match(r, errs);
	if (vr_json_int(r->json, "version", 0, 1, 2147483647, &n, errs) > 0)
		p[10] = api_lltoa(r, n);
	if (given == 0 && cJSON_GetArraySize(errs) == 0)
		vr_json_error(errs, "cuerpo", "no indica ningún cambio");
	if (api_fields_or_422(r, errs) < 0 || (sede = cita_sede(r, p[0])) < 0)
		return;
	p[11] = api_acting_user(r);
	p[12] = api_acting_role(r, sede);
	p[13] = r->request_id;
	p[14] = *r->remote_addr ? r->remote_addr : NULL;
	run_cita_write(r, STMT_CITA_UPDATE, p, NULL);
}

/*
 * DELETE /api/v1/citas/{id}[?motivo=…] - permission citas.cancelar.
 * Soft cancel: the row stays, the slot is freed.  204 (also when it was
 * cancelled already); 400 bad id or motivo; 404; 409 the appointment is
 * in care, attended or a no-show.
 */
void
api_cita_delete(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	const char *p[6] = { NULL };
	const char *motivo = api_query(r, "motivo");
	long long id, sede;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	if (motivo != NULL && (*motivo == '\0' || vr_utf8_len(motivo) > 500 ||
	    motivo[strspn(motivo, " ")] == '\0'))
		vr_json_error(errs, "motivo", "de 1 a 500 caracteres");
	if (api_params_or_400(r, errs) < 0)
		return;
	p[0] = api_lltoa(r, id);
	p[1] = motivo;
	if ((sede = cita_sede(r, p[0])) < 0)
		return;
	p[2] = api_acting_user(r);
	p[3] = api_acting_role(r, sede);
	p[4] = r->request_id;
	p[5] = *r->remote_addr ? r->remote_addr : NULL;
	api_run_function(r, STMT_CITA_CANCEL, 1, 6, p, NULL);
}

/*
 * GET /api/v1/citas?sede_id&veterinario_id&paciente_id&estado&desde&hasta
 *   &limite&cursor - permission citas.leer.
 * 200 {elementos: [Cita], siguiente_cursor}, in agenda order (start, id);
 * 400 invalid parameters.  desde/hasta keep appointments that overlap
 * [desde, hasta).
 */
void
api_citas_list(struct api_req *r)
{
	static const char *const cursor_kinds[2] = { NULL, NULL };
	cJSON *errs = api_errors(r);
	const char *p[9] = { NULL };
	const char *cur[2] = { NULL, NULL };

	api_qid(r, "sede_id", 0, &p[0], errs);
	api_qid(r, "veterinario_id", 0, &p[1], errs);
	api_qid(r, "paciente_id", 0, &p[2], errs);
	api_qenum(r, "estado", estados, &p[3], errs);
	api_qtime(r, "desde", &p[4], errs);
	api_qtime(r, "hasta", &p[5], errs);
	if (api_qint(r, "limite", 1, 200, &p[6], errs) == 0)
		p[6] = LIST_DEFAULT;
	if (api_qcursor(r, 2, cursor_kinds, cur, errs) > 0) {
		p[7] = cur[0];
		p[8] = cur[1];
	}
	if (api_list_params_or_4xx(r, p[0], errs) < 0)
		return;
	api_run_json(r, STMT_CITAS_LIST, 9, p, NULL);
}
