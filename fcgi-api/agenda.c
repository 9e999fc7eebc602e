/*
 * agenda.c - what a booking form needs: the vets of a site and their free
 * slots on a day; and the vets' absences, which take slots away.  Layer:
 * resources.
 */
#include <stdlib.h>

#include "authz.h"
#include "params.h"
#include "problem.h"
#include "resources.h"
#include "sql.h"
#include "transport.h"

/*
 * GET /api/v1/veterinarios[?sede_id] - permission agenda.leer.
 * 200 [Veterinario] with the sites each works at; 400 bad sede_id, or no
 * sede_id from a user whose roles do not cover every site; 403 a site
 * where the user holds no such role.
 */
void
api_veterinarios_list(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	long long sede = 0;

	api_args_init(&a, STMT_VETS_LIST);
	if (api_qid(r, "sede_id", 0, &sede, errs) > 0)
		api_arg_int(&a, "sede", sede);
	if (api_list_params_or_4xx(r, sede, errs) < 0)
		return;
	api_run_json(r, &a, NULL);
}

/*
 * GET /api/v1/disponibilidad?veterinario_id&sede_id&fecha&(duracion_min |
 *   tipo_cita)[&paso_min] - permission agenda.leer.
 * 200 {veterinario_id, sede_id, fecha, zona_horaria, duracion_min,
 * paso_min, tipo_cita, margen_antes_min, margen_despues_min, feriado,
 * huecos: [{inicio, fin}]}: the vet's working hours at that site on that
 * local date (none on a day it is closed), minus absences, live
 * appointments (their margins included) and the past, stepping by
 * paso_min (default the length); an appointment type gives the length
 * unless duracion_min is given, and its margins.  400 invalid parameters;
 * 403 a site where the user holds no such role; 422 unknown vet, site or
 * type.
 */
void
api_disponibilidad(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *fecha = NULL, *tc;
	long long vet = 0, sede = 0;
	long dur = 0, paso;
	int has_paso, has_dur;

	api_qid(r, "veterinario_id", 1, &vet, errs);
	api_qid(r, "sede_id", 1, &sede, errs);
	api_qdate(r, "fecha", 1, &fecha, errs);
	tc = api_query(r, "tipo_cita");
	if (tc != NULL && !api_code_valid(tc)) {
		vr_json_error(errs, "tipo_cita", "letras minúsculas, dígitos y _ "
		    "(p. ej. vacunacion)");
		tc = NULL;
	}
	has_dur = api_qint(r, "duracion_min", 5, 240, &dur, errs);
	if (has_dur == 0 && tc == NULL && api_query(r, "tipo_cita") == NULL)
		vr_json_error(errs, "duracion_min", "es obligatorio sin "
		    "tipo_cita");
	has_paso = api_qint(r, "paso_min", 5, 240, &paso, errs);
	if (api_params_or_400(r, errs) < 0 || api_sede_or_403(r, sede) < 0)
		return;
	api_args_init(&a, STMT_DISPONIBILIDAD);
	api_arg_int(&a, "veterinario", vet);
	api_arg_int(&a, "sede", sede);
	api_arg_text(&a, "fecha", fecha);
	if (has_dur > 0)
		api_arg_int(&a, "duracion_min", dur);
	if (has_paso > 0)
		api_arg_int(&a, "paso_min", paso);
	api_arg_text(&a, "tipo_cita", tc);
	api_run_function(r, &a, 0, NULL);
}

static const char *const tipos_ausencia[] = { "vacaciones", "enfermedad",
	"capacitacion", "licencia", "otro", NULL };

/*
 * GET /api/v1/veterinarios/{id}/ausencias[?desde&hasta] - permission
 * agenda.leer, for a vet who works at one of the caller's sites.  200
 * {elementos: [Ausencia]} overlapping [desde, hasta) (default: the last
 * 30 days to a year ahead); 400; 403; 404 unknown vet.
 */
void
api_ausencias_list(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *desde = NULL, *hasta = NULL;
	long long vet;

	if (api_id_or_400(r, 0, &vet) < 0)
		return;
	api_qtime(r, "desde", &desde, errs);
	api_qtime(r, "hasta", &hasta, errs);
	if (api_params_or_400(r, errs) < 0)
		return;
	api_args_init(&a, STMT_AUSENCIAS_LIST);
	api_arg_int(&a, "id", vet);
	api_arg_text(&a, "desde", desde);
	api_arg_text(&a, "hasta", hasta);
	api_arg_text(&a, "sedes", api_sedes_permitidas(r));
	api_run_function(r, &a, 0, NULL);
}

/*
 * POST /api/v1/veterinarios/{id}/ausencias {inicio, fin, tipo?, motivo?}
 * - permission agenda.gestionar, for a vet who works at one of the
 * caller's sites.  201 Ausencia + citas_afectadas (the live appointments
 * it falls on, left for the desk to move); 400; 403 a vet of other
 * sites; 404; 409 overlaps another absence; 422 invalid fields, fin not
 * after inicio or more than a year later.
 */
void
api_ausencia_registrar(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *ini = NULL, *fin = NULL, *motivo = NULL;
	long long vet;
	int t;

	if (api_id_or_400(r, 0, &vet) < 0)
		return;
	api_args_init(&a, STMT_AUSENCIA_REGISTRAR);
	if (vr_json_str(r->json, "inicio", 1, 20, 40, &ini, errs) > 0 &&
	    !vr_rfc3339_valid(ini))
		vr_json_error(errs, "inicio", "debe ser una fecha y hora RFC "
		    "3339 con zona");
	if (vr_json_str(r->json, "fin", 1, 20, 40, &fin, errs) > 0 &&
	    !vr_rfc3339_valid(fin))
		vr_json_error(errs, "fin", "debe ser una fecha y hora RFC 3339 "
		    "con zona");
	if (vr_json_enum(r->json, "tipo", 0, tipos_ausencia, &t, errs) > 0)
		api_arg_text(&a, "tipo", tipos_ausencia[t]);
	vr_json_str(r->json, "motivo", 0, 1, 500, &motivo, errs);
	if (api_fields_or_422(r, errs) < 0)
		return;
	api_arg_int(&a, "id", vet);
	api_arg_text(&a, "inicio", ini);
	api_arg_text(&a, "fin", fin);
	api_arg_text(&a, "motivo", motivo);
	api_arg_text(&a, "sedes", api_sedes_permitidas(r));
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, NULL);
}

/*
 * DELETE /api/v1/veterinarios/{id}/ausencias/{ausencia} - permission
 * agenda.gestionar, as above.  204; 400; 403; 404.
 */
void
api_ausencia_eliminar(struct api_req *r)
{
	struct api_args a;
	long long vet, id;

	if (api_id_or_400(r, 0, &vet) < 0 || api_id_or_400(r, 1, &id) < 0)
		return;
	api_args_init(&a, STMT_AUSENCIA_ELIMINAR);
	api_arg_int(&a, "veterinario", vet);
	api_arg_int(&a, "id", id);
	api_arg_text(&a, "sedes", api_sedes_permitidas(r));
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, NULL);
}
