/*
 * sedes.c - the clinics of the network (sites) and their rooms.
 * Layer: resources.
 */
#include <stdio.h>
#include <string.h>

#include "authz.h"
#include "params.h"
#include "problem.h"
#include "resources.h"
#include "sql.h"

/*
 * GET /api/v1/sedes[?activa=true|false] - permission sedes.leer.
 * 200 [Sede...] ordered by id; 400 when activa is not true/false.
 */
void
api_sedes_list(struct api_req *r)
{
	static const char *const booleans[] = { "true", "false", NULL };
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *activa;

	api_args_init(&a, STMT_SEDES_LIST);
	if (api_qenum(r, "activa", booleans, &activa, errs) > 0)
		api_arg_bool(&a, "activa", activa == booleans[0]);
	if (api_params_or_400(r, errs) < 0)
		return;
	api_run_json(r, &a, NULL);
}

/*
 * GET /api/v1/sedes/{id} - permission sedes.leer.
 * 200 Sede; 400 id not a positive integer; 404 no such site.
 */
void
api_sede_get(struct api_req *r)
{
	struct api_args a;
	long long id;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_SEDE_GET);
	api_arg_int(&a, "id", id);
	api_run_json(r, &a, "La sede no existe.");
}

/*
 * GET /api/v1/sedes/{id}/consultorios - permission sedes.leer (like the
 * site itself, readable by every role: the booking form of any site
 * needs it).
 * 200 {elementos: [Consultorio...], siguiente_cursor: null} ordered by id, closed rooms included (activo
 * false: not bookable); 400 id not a positive integer; 404 no such site.
 */
void
api_consultorios_list(struct api_req *r)
{
	struct api_args a;
	long long id;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_CONSULTORIOS_LIST);
	api_arg_int(&a, "sede", id);
	api_run_json(r, &a, "La sede no existe.");
}

struct sede_in {
	const char	*codigo, *nombre, *ciudad, *direccion, *telefono;
	const char	*zona_horaria;
	int		 abre_en_feriados;	/* -1: not given */
};

/* Validate the body; 0, or < 0 with the 422 answered. */
static int
sede_in_or_422(struct api_req *r, struct sede_in *in)
{
	cJSON *errs = api_errors(r);
	PGresult *res = NULL;
	struct api_args a;
	int rc;

	memset(in, 0, sizeof(*in));
	in->abre_en_feriados = -1;
	vr_json_bool(r->json, "abre_en_feriados", 0, &in->abre_en_feriados,
	    errs);
	if (vr_json_str(r->json, "codigo", 1, 6, 7, &in->codigo, errs) > 0 &&
	    !vr_valid_site_code(in->codigo))
		vr_json_error(errs, "codigo", "tres letras mayúsculas, un guion "
		    "y dos o tres dígitos (p. ej. LIM-02)");
	vr_json_str(r->json, "nombre", 1, 1, 120, &in->nombre, errs);
	vr_json_str(r->json, "ciudad", 1, 1, 80, &in->ciudad, errs);
	vr_json_str(r->json, "direccion", 1, 1, 200, &in->direccion, errs);
	if (vr_json_str(r->json, "telefono", 0, 1, 16, &in->telefono, errs) >
	    0 && !vr_valid_phone_pe(in->telefono))
		vr_json_error(errs, "telefono", "debe ser +51 y un celular de 9 "
		    "dígitos o un fijo de 8");
	if (vr_json_str(r->json, "zona_horaria", 0, 1, 64, &in->zona_horaria,
	    errs) > 0) {
		api_args_init(&a, STMT_TZ_VALID);
		api_arg_text(&a, "zona", in->zona_horaria);
		if ((rc = api_exec(r, &a, 0, &res)) < 0) {
			api_db_problem(r, rc);
			return -1;
		}
		if (PQntuples(res) == 0)
			vr_json_error(errs, "zona_horaria", "no es una zona "
			    "horaria IANA conocida (p. ej. America/Lima)");
	}
	return api_fields_or_422(r, errs);
}

/*
 * POST /api/v1/sedes - permission sedes.crear.
 * In: {codigo, nombre, ciudad, direccion, telefono?, zona_horaria?,
 * abre_en_feriados? (default false: the network's holidays close it)}.
 * 201 Sede + Location; 400/413/415 (router); 409 codigo taken; 422 invalid
 * fields; 503 database unavailable.  Writes the site, its audit row and a
 * sede.creada outbox event in one transaction (crear_sede()).
 */
void
api_sede_create(struct api_req *r)
{
	struct sede_in in;
	struct api_args a;

	if (sede_in_or_422(r, &in) < 0)
		return;
	api_args_init(&a, STMT_SEDE_CREAR);
	api_arg_text(&a, "codigo", in.codigo);
	api_arg_text(&a, "nombre", in.nombre);
	api_arg_text(&a, "ciudad", in.ciudad);
	api_arg_text(&a, "direccion", in.direccion);
	api_arg_text(&a, "telefono", in.telefono);
	api_arg_text(&a, "zona_horaria", in.zona_horaria);
	if (in.abre_en_feriados >= 0)
		api_arg_bool(&a, "abre_en_feriados", in.abre_en_feriados);
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, "/api/v1/sedes/");
}
