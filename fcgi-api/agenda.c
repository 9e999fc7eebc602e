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
	const char *p[1] = { NULL };

	api_qid(r, "sede_id", 0, &p[0], errs);
	if (api_list_params_or_4xx(r, p[0], errs) < 0)
		return;
	api_run_json(r, STMT_VETS_LIST, 1, p, NULL);
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
	const char *p[5] = { NULL };

	api_qid(r, "veterinario_id", 1, &p[0], errs);
	api_qid(r, "sede_id", 1, &p[1], errs);
	api_qdate(r, "fecha", 1, &p[2], errs);
	if (api_qint(r, "duracion_min", 5, 240, &p[3], errs) == 0)
		vr_json_error(errs, "duracion_min", "es obligatorio");
	if (api_qint(r, "paso_min", 5, 240, &p[4], errs) == 0)
		p[4] = p[3];
	if (api_params_or_400(r, errs) < 0 ||
	    api_sede_or_403(r, atoll(p[1])) < 0)
		return;
	api_run_function(r, STMT_DISPONIBILIDAD, 0, 5, p, NULL);
}
