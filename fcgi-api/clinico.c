/*
 * clinico.c - the clinical record's writes: the vaccine catalog,
 * vaccinations applied (lot and expiry) and treatments prescribed, each
 * with its event for the reminders.  Layer: resources.
 *
 * A clinical write belongs to the site where it happened: the caller
 * needs the permission there (api_sede_or_403), and the vet, by default
 * the caller's own vet record, must work there.
 */
#include <string.h>

#include "authz.h"
#include "params.h"
#include "problem.h"
#include "resources.h"
#include "sql.h"
#include "transport.h"

#define ID_MAX		9007199254740991LL

static const char *const especies[] = { "canino", "felino", "ave", "conejo",
	"roedor", "reptil", "otro", NULL };
static const char *const vias[] = { "oral", "topica", "oftalmica", "otica",
	"subcutanea", "intramuscular", "intravenosa", "inhalada", "rectal",
	"otra", NULL };

/*
 * GET /api/v1/vacunas[?especie] - permission pacientes.leer.
 * 200 {elementos: [Vacuna], siguiente_cursor: null}; 400 bad especie.
 */
void
api_vacunas_list(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *esp = NULL;

	api_qenum(r, "especie", especies, &esp, errs);
	if (api_params_or_400(r, errs) < 0)
		return;
	api_args_init(&a, STMT_VACUNAS_LIST);
	api_arg_text(&a, "especie", esp);
	api_run_json(r, &a, "Sin vacunas.");
}

/* A date member (AAAA-MM-DD) copied into out when present and valid. */
static void
copy_date(cJSON *out, const cJSON *in, const char *name, int required,
    cJSON *errs)
{
	const char *s;

	if (vr_json_str(in, name, required, 10, 10, &s, errs) <= 0)
		return;
	if (!vr_date_valid(s))
		vr_json_error(errs, name, "debe ser una fecha AAAA-MM-DD");
	else
		cJSON_AddStringToObject(out, name, s);
}

static void
copy_text(cJSON *out, const cJSON *in, const char *name, int required,
    size_t max, cJSON *errs)
{
	const char *s;

	if (vr_json_str(in, name, required, 1, max, &s, errs) > 0)
		cJSON_AddStringToObject(out, name, s);
}

static void
copy_int(cJSON *out, const cJSON *in, const char *name, int required,
    long long min, long long max, cJSON *errs)
{
	long long n;

	if (vr_json_int(in, name, required, min, max, &n, errs) > 0)
		cJSON_AddNumberToObject(out, name, (double)n);
}

/*
 * The site of a clinical write (sede_id, required), checked against the
 * caller's roles: its id, 0 when invalid (error added), or -1 when the
 * 403 was answered.
 */
static long long
write_site(struct api_req *r, cJSON *out, cJSON *errs)
{
	long long sede;

	if (vr_json_int(r->json, "sede_id", 1, 1, ID_MAX, &sede, errs) <= 0)
		return 0;
	cJSON_AddNumberToObject(out, "sede_id", (double)sede);
	return api_sede_or_403(r, sede) < 0 ? -1 : sede;
}

/* Run a clinical write of patient id with the fields of d. */
static void
run_write(struct api_req *r, int stmt, long long id, const cJSON *d,
    long long sede)
{
	struct api_args a;

	api_args_init(&a, stmt);
	api_arg_int(&a, "id", id);
	api_arg_text(&a, "datos", api_print(r, d));
	api_args_who(&a, r, sede);
	api_run_function(r, &a, 1, NULL);
}

/*
 * POST /api/v1/pacientes/{id}/vacunaciones {vacuna_id, producto?, lote,
 * vencimiento_lote, fecha_aplicacion?, dosis_numero?, proxima_dosis?,
 * veterinario_id?, sede_id, cita_id?, observaciones?} - permission
 * historia.escribir at sede_id.  201 Vacunacion; 400 bad id; 403; 404;
 * 409 deceased patient; 422 invalid fields, a vaccine of another species
 * or no longer offered, a lot expired on the day, a date in the future
 * or before the birth, a vet not working at the site, an appointment of
 * another patient or site.
 */
void
api_vacunacion_registrar(struct api_req *r)
{
	cJSON *errs = api_errors(r), *d = api_own_json(r, cJSON_CreateObject());
	long long id, sede;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	copy_int(d, r->json, "vacuna_id", 1, 1, ID_MAX, errs);
	copy_text(d, r->json, "producto", 0, 120, errs);
	copy_text(d, r->json, "lote", 1, 64, errs);
	copy_date(d, r->json, "vencimiento_lote", 1, errs);
	copy_date(d, r->json, "fecha_aplicacion", 0, errs);
	copy_int(d, r->json, "dosis_numero", 0, 1, 20, errs);
	copy_date(d, r->json, "proxima_dosis", 0, errs);
	copy_int(d, r->json, "veterinario_id", 0, 1, ID_MAX, errs);
	copy_int(d, r->json, "cita_id", 0, 1, ID_MAX, errs);
	copy_text(d, r->json, "observaciones", 0, 1000, errs);
	if ((sede = write_site(r, d, errs)) < 0 ||
	    api_fields_or_422(r, errs) < 0)
		return;
	run_write(r, STMT_VACUNACION_REGISTRAR, id, d, sede);
}

/*
 * POST /api/v1/pacientes/{id}/tratamientos {descripcion, medicamento?,
 * dosis?, via?, frecuencia?, intervalo_horas?, inicio?, fin?,
 * fecha_seguimiento?, veterinario_id?, sede_id, historia_entrada_id?} -
 * permission historia.escribir at sede_id.  descripcion is sealed at
 * rest.  201 Tratamiento; 400; 403; 404; 409 deceased patient; 422
 * invalid fields, dates out of order, a start before the birth or more
 * than a month ahead, a vet not working at the site.
 */
void
api_tratamiento_registrar(struct api_req *r)
{
	cJSON *errs = api_errors(r), *d = api_own_json(r, cJSON_CreateObject());
	long long id, sede;
	int v;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	copy_text(d, r->json, "descripcion", 1, 1000, errs);
	copy_text(d, r->json, "medicamento", 0, 200, errs);
	copy_text(d, r->json, "dosis", 0, 200, errs);
	if (vr_json_enum(r->json, "via", 0, vias, &v, errs) > 0)
		cJSON_AddStringToObject(d, "via", vias[v]);
	copy_text(d, r->json, "frecuencia", 0, 100, errs);
	copy_int(d, r->json, "intervalo_horas", 0, 1, 8760, errs);
	copy_date(d, r->json, "inicio", 0, errs);
	copy_date(d, r->json, "fin", 0, errs);
	copy_date(d, r->json, "fecha_seguimiento", 0, errs);
	copy_int(d, r->json, "veterinario_id", 0, 1, ID_MAX, errs);
	copy_int(d, r->json, "historia_entrada_id", 0, 1, ID_MAX, errs);
	if ((sede = write_site(r, d, errs)) < 0 ||
	    api_fields_or_422(r, errs) < 0)
		return;
	if (api_seal_field(r, d, "tratamientos", "descripcion") < 0) {
		api_problem(r, 500, "error-interno", "Error interno",
		    "Ocurrió un error inesperado.", NULL);
		return;
	}
	run_write(r, STMT_TRATAMIENTO_REGISTRAR, id, d, sede);
}
