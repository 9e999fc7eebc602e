/*
 * trabajos.c - the operator's view of the periodic jobs (table trabajos,
 * fired by vetred-scheduler): list them, change a schedule, run one now.
 * admin_red only.  A cron schedule is parsed here with the scheduler's
 * own parser (lib/cron.c), so what the API accepts the scheduler can
 * fire.  Layer: resources.
 */
#include <stdio.h>
#include <string.h>

#include "authz.h"
#include "params.h"
#include "problem.h"
#include "resources.h"
#include "sql.h"
#include "transport.h"

#define INTERVALO_MAX	31622400	/* a leap year, in seconds */

/* The job's name in the path: 1..63 of a-z and _, starting with a letter. */
static int
nombre_or_404(struct api_req *r, const char **out)
{
	const char *n = r->ncaptures > 0 ? r->captures[0] : "";
	size_t len = strlen(n);

	if (len >= 1 && len <= 63 && n[0] >= 'a' && n[0] <= 'z' &&
	    n[strspn(n, "abcdefghijklmnopqrstuvwxyz_")] == '\0') {
		*out = n;
		return 0;
	}
	/* No job can have that name: it does not exist. */
	api_problem(r, 404, "no-encontrado", "No encontrado",
	    "El trabajo no existe.", NULL);
	return -1;
}

/*
 * GET /api/v1/trabajos - permission trabajos.leer.
 * 200 {elementos: [Trabajo...], siguiente_cursor: null} by name.
 */
void
api_trabajos_list(struct api_req *r)
{
	struct api_args a;

	api_args_init(&a, STMT_TRABAJOS_LIST);
	api_run_json(r, &a, NULL);
}

/*
 * GET /api/v1/trabajos/{nombre} - permission trabajos.leer.
 * 200 Trabajo; 404 no such job.
 */
void
api_trabajo_get(struct api_req *r)
{
	struct api_args a;
	const char *nombre;

	if (nombre_or_404(r, &nombre) < 0)
		return;
	api_args_init(&a, STMT_TRABAJO_GET);
	api_arg_text(&a, "nombre", nombre);
	api_run_json(r, &a, "El trabajo no existe.");
}

/*
 * The next run of a cron schedule, as the civil time of zone (the job's
 * or the new one): the database says what time it is there.  0, or < 0
 * with the answer given (404, 503) or, for a schedule that never runs,
 * the field error added to errs (1).
 */
static int
next_civil(struct api_req *r, const char *nombre, const char *programa,
    const char *zona, char out[VR_CIVIL_LEN], cJSON *errs)
{
	struct vr_cron c;
	struct vr_civil now, next;
	struct api_args a;
	PGresult *res = NULL;
	char err[160];
	int rc;

	api_args_init(&a, STMT_TRABAJO_HORA);
	api_arg_text(&a, "nombre", nombre);
	api_arg_text(&a, "zona", zona);
	if ((rc = api_exec(r, &a, 0, &res)) < 0) {
		api_db_problem(r, rc);
		return -1;
	}
	if (PQntuples(res) == 0) {
		api_problem(r, 404, "no-encontrado", "No encontrado",
		    "El trabajo no existe.", NULL);
		return -1;
	}
	if (programa == NULL) {
		if (PQgetisnull(res, 0, 1))
			return 0;	/* an interval job: the database's */
		programa = PQgetvalue(res, 0, 1);
	}
	if (vr_cron_parse(programa, &c, err, sizeof(err)) != 0 ||
	    vr_civil_parse(PQgetvalue(res, 0, 0), &now) != 0) {
		vr_json_error(errs, "programa", err);
		return 1;
	}
	if (vr_cron_next(&c, &now, &next) != 0) {
		vr_json_error(errs, "programa", "no tiene próxima ejecución "
		    "(p. ej. el 30 de febrero)");
		return 1;
	}
	vr_civil_format(&next, out);
	return 0;
}

/*
 * PUT /api/v1/trabajos/{nombre} {habilitado?, programa?, intervalo_s?,
 * zona_horaria?} - permission trabajos.modificar.  programa (cron, 5
 * fields or a macro) and intervalo_s (1 s .. a year) replace each other;
 * one of them, or a zone, moves the next run.  Audited.
 * 200 Trabajo; 404 no such job; 422 a bad schedule, both schedules, a
 * member it does not know, nothing to change.
 */
void
api_trabajo_put(struct api_req *r)
{
	static const char *const known[] = { "habilitado", "programa",
	    "intervalo_s", "zona_horaria", NULL };
	cJSON *errs = api_errors(r);
	struct api_args a;
	struct vr_cron c;
	const char *nombre, *programa = NULL, *zona = NULL;
	char next[VR_CIVIL_LEN], err[160];
	long long intervalo = 0;
	int habilitado, given = 0, has_prog, has_int, has_zona, rc;
	PGresult *res = NULL;

	if (nombre_or_404(r, &nombre) < 0)
		return;
	api_unknown_members(r->json, known, errs);
	api_args_init(&a, STMT_TRABAJO_PUT);
	api_arg_text(&a, "nombre", nombre);
	if (vr_json_bool(r->json, "habilitado", 0, &habilitado, errs) > 0)
		api_arg_bool(&a, "habilitado", habilitado), given++;
	has_prog = vr_json_str(r->json, "programa", 0, 1, 200, &programa,
	    errs) > 0;
	if (has_prog && vr_cron_parse(programa, &c, err, sizeof(err)) != 0) {
		vr_json_error(errs, "programa", err);
		has_prog = 0;
		programa = NULL;
	}
	has_int = vr_json_int(r->json, "intervalo_s", 0, 1, INTERVALO_MAX,
	    &intervalo, errs) > 0;
	if (cJSON_GetObjectItemCaseSensitive(r->json, "programa") != NULL &&
	    cJSON_GetObjectItemCaseSensitive(r->json, "intervalo_s") != NULL)
		vr_json_error(errs, "intervalo_s", "indique programa o "
		    "intervalo_s, no ambos");
	has_zona = vr_json_str(r->json, "zona_horaria", 0, 1, 64, &zona,
	    errs) > 0;
	if (has_zona) {
		struct api_args z;

		api_args_init(&z, STMT_TZ_VALID);
		api_arg_text(&z, "zona", zona);
		if ((rc = api_exec(r, &z, 0, &res)) < 0) {
			api_db_problem(r, rc);
			return;
		}
		if (PQntuples(res) == 0) {
			vr_json_error(errs, "zona_horaria", "no es una zona "
			    "horaria IANA conocida (p. ej. America/Lima)");
			has_zona = 0;
		}
	}
	given += has_prog + has_int + has_zona;
	if (given == 0 && cJSON_GetArraySize(errs) == 0)
		vr_json_error(errs, "cuerpo", "no indica ningún cambio");
	if (cJSON_GetArraySize(errs) == 0 && !has_int && (has_prog ||
	    has_zona)) {
		next[0] = '\0';
		if ((rc = next_civil(r, nombre, programa, zona, next, errs)) < 0)
			return;
		if (rc == 0 && next[0] != '\0')
			api_arg_text(&a, "proximo", next);
	}
	if (api_fields_or_422(r, errs) < 0)
		return;
	if (has_prog)
		api_arg_text(&a, "programa", programa);
	if (has_int)
		api_arg_int(&a, "intervalo_s", intervalo);
	if (has_zona)
		api_arg_text(&a, "zona_horaria", zona);
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, NULL);
}

/*
 * POST /api/v1/trabajos/{nombre}/ejecutar - permission trabajos.ejecutar.
 * Fires the job now, beside its schedule (a disabled job too): its
 * message is in the outbox when this answers.  Audited.
 * 202 Trabajo; 404 no such job.
 */
void
api_trabajo_ejecutar(struct api_req *r)
{
	struct api_args a;
	const char *nombre;

	if (nombre_or_404(r, &nombre) < 0)
		return;
	api_args_init(&a, STMT_TRABAJO_EJECUTAR);
	api_arg_text(&a, "nombre", nombre);
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, NULL);
}
