/*
 * agenda.c - what a booking form needs: the vets of a site and their free
 * slots on a day.  Layer: resources.
 */
#include <stdlib.h>

#include "authz.h"
#include "params.h"
#include "problem.h"
#include "resources.h"
#include "sql.h"

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
 * GET /api/v1/disponibilidad?veterinario_id&sede_id&fecha&duracion_min
 *   [&paso_min] - permission agenda.leer.
 * 200 {veterinario_id, sede_id, fecha, zona_horaria, duracion_min,
 * paso_min, huecos: [{inicio, fin}]}: the vet's working hours at that site
 * on that local date, minus absences, live appointments and the past,
 * stepping by paso_min (default duracion_min).  400 invalid parameters;
 * 403 a site where the user holds no such role; 422 unknown vet or site.
 */
void
api_disponibilidad(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *fecha = NULL;
	long long vet = 0, sede = 0;
	long dur = 0, paso;
	int has_paso;

	api_qid(r, "veterinario_id", 1, &vet, errs);
	api_qid(r, "sede_id", 1, &sede, errs);
	api_qdate(r, "fecha", 1, &fecha, errs);
	if (api_qint(r, "duracion_min", 5, 240, &dur, errs) == 0)
		vr_json_error(errs, "duracion_min", "es obligatorio");
	has_paso = api_qint(r, "paso_min", 5, 240, &paso, errs);
	if (api_params_or_400(r, errs) < 0 || api_sede_or_403(r, sede) < 0)
		return;
	api_args_init(&a, STMT_DISPONIBILIDAD);
	api_arg_int(&a, "veterinario", vet);
	api_arg_int(&a, "sede", sede);
	api_arg_text(&a, "fecha", fecha);
	api_arg_int(&a, "duracion_min", dur);
	api_arg_int(&a, "paso_min", has_paso > 0 ? paso : dur);
	api_run_function(r, &a, 0, NULL);
}
