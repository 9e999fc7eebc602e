/*
 * citas.c - appointments: book, read, move or change state, cancel, list.
 *
 * The handlers check the shape of the input (types, formats, bounds) and
 * hand it to one database function that applies every booking rule and
 * writes the row, its audit row and its outbox event in one transaction
 * (db/functions/citas.sql).  Overlaps are refused by the
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
#define LIST_DEFAULT	50

static const char *const tipos[] = { "presencial", "virtual", NULL };
static const char *const estados[] = { "reservada", "confirmada",
	"en_atencion", "atendida", "cancelada", "no_asistio", NULL };

/*
 * JSON id field into parameter param of a (and *v, when not NULL): 1 when
 * given, 0 when absent, < 0 when invalid (error added).
 */
static int
json_id(struct api_req *r, struct api_args *a, const char *field,
    const char *param, int required, long long *v, cJSON *errs)
{
	long long n;
	int rc = vr_json_int(r->json, field, required, 1, ID_MAX, &n, errs);

	if (rc > 0) {
		api_arg_int(a, param, n);
		if (v != NULL)
			*v = n;
	}
	return rc;
}

/* A JSON RFC 3339 time field into parameter name of a; as json_id(). */
static int
json_time(struct api_req *r, struct api_args *a, const char *name,
    int required, cJSON *errs)
{
	const char *s;
	int rc;

	if ((rc = vr_json_str(r->json, name, required, 1, 40, &s, errs)) <= 0)
		return rc;
	if (!vr_rfc3339_valid(s)) {
		vr_json_error(errs, name, "debe ser una fecha y hora RFC 3339 "
		    "con zona (2026-12-01T09:00:00-05:00)");
		return VR_EINVAL;
	}
	api_arg_text(a, name, s);
	return 1;
}

/*
 * The site of appointment id into *sede, 0 when there is no such
 * appointment.  0, or -1 with the database problem answered.
 */
static int
site_of(struct api_req *r, long long id, long long *sede)
{
	struct api_args a;
	PGresult *res = NULL;
	int rc;

	*sede = 0;
	api_args_init(&a, STMT_CITA_SEDE);
	api_arg_int(&a, "id", id);
	if ((rc = api_exec(r, &a, 0, &res)) < 0) {
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
	if (site_of(r, (long long)id->valuedouble, &sede) < 0)
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
run_cita_write(struct api_req *r, const struct api_args *a,
    const char *location_prefix)
{
	PGresult *res = NULL;
	cJSON *v;
	int rc;

	if ((rc = api_exec(r, a, 1, &res)) < 0) {
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
	struct api_args a;
	const char *key, *motivo = NULL, *tc = NULL;
	char hash[65];
	long long sede = 0, dur;
	int t, nerr, fin, has_dur;

	if (api_idempotency_key_or_400(r, &key) < 0)
		return;
	api_args_init(&a, STMT_RESERVAR);
	json_id(r, &a, "paciente_id", "paciente", 1, NULL, errs);
	json_id(r, &a, "veterinario_id", "veterinario", 1, NULL, errs);
	json_id(r, &a, "sede_id", "sede", 1, &sede, errs);
	json_id(r, &a, "consultorio_id", "consultorio", 0, NULL, errs);
	json_time(r, &a, "inicio", 1, errs);
	/* Decided on the values read, not on the keys: a null (or
	 * differently cased) "fin" must not leave the end unset. */
	nerr = cJSON_GetArraySize(errs);
	fin = json_time(r, &a, "fin", 0, errs) > 0;
	has_dur = vr_json_int(r->json, "duracion_min", 0, 5, 240, &dur, errs) >
	    0;
	if (has_dur)
		api_arg_int(&a, "duracion_min", dur);
	if (vr_json_str(r->json, "tipo_cita", 0, 2, 40, &tc, errs) > 0 &&
	    !api_code_valid(tc))
		vr_json_error(errs, "tipo_cita", "letras minúsculas, dígitos y _ "
		    "(p. ej. vacunacion)");
	if (!fin && !has_dur && tc == NULL && cJSON_GetArraySize(errs) == nerr)
		vr_json_error(errs, "duracion_min", "indique duracion_min, fin o "
		    "tipo_cita");
	else if (fin && has_dur)
		vr_json_error(errs, "fin", "indique duracion_min o fin, no ambos");
	vr_json_str(r->json, "motivo", 1, 1, 500, &motivo, errs);
	if (vr_json_enum(r->json, "tipo", 0, tipos, &t, errs) > 0)
		api_arg_text(&a, "tipo", tipos[t]);
	if (api_fields_or_422(r, errs) < 0 || api_sede_or_403(r, sede) < 0)
		return;
	api_arg_text(&a, "motivo", motivo);
	api_arg_text(&a, "tipo_cita", tc);
	api_args_who(&a, r, sede);
	api_arg_text(&a, "clave", key);
	if (key != NULL) {
		vr_sha256_hex(r->body, r->body_len, hash);
		api_arg_text(&a, "cuerpo_sha256", hash);
	}
	run_cita_write(r, &a, "/api/v1/citas/");
}

/*
 * The site of appointment id, once the caller may act there: the site,
 * 0 when there is no such appointment (the write function answers 404),
 * or -1 with the 403 (or database problem) answered.
 */
static long long
cita_sede(struct api_req *r, long long id)
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
	struct api_args a;
	long long id;
	PGresult *res = NULL;
	char etag[32];
	int rc;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_CITA_GET);
	api_arg_int(&a, "id", id);
	if ((rc = api_exec(r, &a, 0, &res)) < 0) {
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
	struct api_args a;
	const cJSON *room;
	const char *motivo = NULL, *motivo_c = NULL;
	long long id, n, sede;
	int e, dur, fin, given = 0;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_CITA_UPDATE);
	api_arg_int(&a, "id", id);
	given += json_time(r, &a, "inicio", 0, errs) > 0;
	if ((dur = vr_json_int(r->json, "duracion_min", 0, 5, 240, &n, errs) >
	    0))
		api_arg_int(&a, "duracion_min", n), given++;
	given += (fin = json_time(r, &a, "fin", 0, errs) > 0);
	if (dur && fin)
		vr_json_error(errs, "fin", "indique duracion_min o fin, no ambos");
	given += json_id(r, &a, "veterinario_id", "veterinario", 0, NULL,
	    errs) > 0;
	room = cJSON_GetObjectItemCaseSensitive(r->json, "consultorio_id");
	if (cJSON_IsNull(room))
		api_arg_bool(&a, "sin_consultorio", 1), given++;
	else
		given += json_id(r, &a, "consultorio_id", "consultorio", 0,
		    NULL, errs) > 0;
	if (vr_json_enum(r->json, "estado", 0, estados, &e, errs) > 0)
		api_arg_text(&a, "estado", estados[e]), given++;
	if (vr_json_str(r->json, "motivo", 0, 1, 500, &motivo, errs) > 0)
		api_arg_text(&a, "motivo", motivo), given++;
	if (vr_json_str(r->json, "motivo_cancelacion", 0, 1, 500, &motivo_c,
	    errs) > 0)
		api_arg_text(&a, "motivo_cancelacion", motivo_c), given++;
	/* A malformed If-Match is refused even when the body names the
	 * version (which then wins). */
	api_if_match(r, &a, errs);
	if (vr_json_int(r->json, "version", 0, 1, 2147483647, &n, errs) > 0)
		api_arg_int(&a, "version", n);
	if (given == 0 && cJSON_GetArraySize(errs) == 0)
		vr_json_error(errs, "cuerpo", "no indica ningún cambio");
	if (api_fields_or_422(r, errs) < 0 || (sede = cita_sede(r, id)) < 0)
		return;
	api_args_who(&a, r, sede);
	run_cita_write(r, &a, NULL);
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
	struct api_args a;
	const char *motivo = api_query(r, "motivo");
	long long id, sede;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	if (motivo != NULL && (*motivo == '\0' || vr_utf8_len(motivo) > 500 ||
	    motivo[strspn(motivo, " ")] == '\0'))
		vr_json_error(errs, "motivo", "de 1 a 500 caracteres");
	if (api_params_or_400(r, errs) < 0 || (sede = cita_sede(r, id)) < 0)
		return;
	api_args_init(&a, STMT_CITA_CANCEL);
	api_arg_int(&a, "id", id);
	api_arg_text(&a, "motivo", motivo);
	api_args_who(&a, r, sede);
	api_run_function(r, &a, 1, NULL);
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
	struct api_args a;
	const char *s, *cur[2] = { NULL, NULL };
	long long id, sede = 0;
	long limite = LIST_DEFAULT;

	api_args_init(&a, STMT_CITAS_LIST);
	if (api_qid(r, "sede_id", 0, &sede, errs) > 0)
		api_arg_int(&a, "sede", sede);
	if (api_qid(r, "veterinario_id", 0, &id, errs) > 0)
		api_arg_int(&a, "veterinario", id);
	if (api_qid(r, "paciente_id", 0, &id, errs) > 0)
		api_arg_int(&a, "paciente", id);
	if (api_qenum(r, "estado", estados, &s, errs) > 0)
		api_arg_text(&a, "estado", s);
	if (api_qtime(r, "desde", &s, errs) > 0)
		api_arg_text(&a, "desde", s);
	if (api_qtime(r, "hasta", &s, errs) > 0)
		api_arg_text(&a, "hasta", s);
	api_qint(r, "limite", 1, 200, &limite, errs);
	api_arg_int(&a, "limite", limite);
	if (api_qcursor(r, 2, cursor_kinds, cur, errs) > 0) {
		api_arg_text(&a, "cursor_inicio", cur[0]);
		api_arg_text(&a, "cursor_id", cur[1]);
	}
	if (api_list_params_or_4xx(r, sede, errs) < 0)
		return;
	api_run_json(r, &a, NULL);
}
