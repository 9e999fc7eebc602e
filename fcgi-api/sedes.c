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
	const char *p[1] = { NULL };

	api_qenum(r, "activa", booleans, &p[0], errs);
	if (api_params_or_400(r, errs) < 0)
		return;
	api_run_json(r, STMT_SEDES_LIST, 1, p, NULL);
}

/*
 * GET /api/v1/sedes/{id} - permission sedes.leer.
 * 200 Sede; 400 id not a positive integer; 404 no such site.
 */
void
api_sede_get(struct api_req *r)
{
	const char *p[1];
	long long id;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	p[0] = api_lltoa(r, id);
	api_run_json(r, STMT_SEDE_GET, 1, p, "La sede no existe.");
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
	const char *p[1];
	long long id;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	p[0] = api_lltoa(r, id);
	api_run_json(r, STMT_CONSULTORIOS_LIST, 1, p, "La sede no existe.");
}

struct sede_in {
	const char	*codigo, *nombre, *ciudad, *direccion, *telefono;
	const char	*zona_horaria;
};

/* Validate the body; 0, or < 0 with the 422 answered. */
static int
sede_in_or_422(struct api_req *r, struct sede_in *in)
{
	cJSON *errs = api_errors(r);
	PGresult *res = NULL;
	const char *p[1];
	int rc;

	memset(in, 0, sizeof(*in));
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
		p[0] = in->zona_horaria;
		if ((rc = api_exec(r, STMT_TZ_VALID, 1, p, &res)) < 0) {
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
 * In: {codigo, nombre, ciudad, direccion, telefono?, zona_horaria?}.
 * 201 Sede + Location; 400/413/415 (router); 409 codigo taken; 422 invalid
 * fields; 503 database unavailable.  Writes the site, its audit row and a
 * sede.creada outbox event in one transaction (crear_sede()).
 */
void
api_sede_create(struct api_req *r)
{
	struct sede_in in;
	const char *p[10] = { NULL };

	if (sede_in_or_422(r, &in) < 0)
		return;
	p[0] = in.codigo;
	p[1] = in.nombre;
	p[2] = in.ciudad;
	p[3] = in.direccion;
	p[4] = in.telefono;
	p[5] = in.zona_horaria;
	p[6] = api_acting_user(r);
	p[7] = api_acting_role(r, 0);
	p[8] = r->request_id;
	p[9] = *r->remote_addr ? r->remote_addr : NULL;
	api_run_function(r, STMT_SEDE_CREAR, 1, 10, p, "/api/v1/sedes/");
}
