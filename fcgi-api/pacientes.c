/*
 * pacientes.c - patients (pets): registration with their owner, one
 * patient, its changes (fields, death, a new owner), its weights, and
 * the clinical history as one timeline.  Layer: resources.
 */
#include <stdlib.h>
#include <string.h>

#include "authz.h"
#include "params.h"
#include "problem.h"
#include "resources.h"
#include "sql.h"
#include "transport.h"

#define ID_MAX		9007199254740991LL
#define HIST_DEFAULT	50

static const char *const especies[] = { "canino", "felino", "ave", "conejo",
	"roedor", "reptil", "otro", NULL };
static const char *const sexos[] = { "macho", "hembra", NULL };

static int
all_digits(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789") == n;
}

/* Copy a validated string field into out (when present). */
static void
copy_str(cJSON *out, const cJSON *in, const char *name, int required,
    size_t max, cJSON *errs)
{
	const char *s;

	if (vr_json_str(in, name, required, 1, max, &s, errs) > 0)
		cJSON_AddStringToObject(out, name, s);
}

/* Optional members a change may clear by sending them as null. */
static const char *const clearable[] = { "raza", "sexo", "fecha_nacimiento",
	"microchip", "color", "alergias", NULL };

/*
 * The patient's own fields, validated into a new object, the request's.
 * registro: a registration (nombre and especie required, peso_gramos and
 * sede_registro_id taken); otherwise a change, where anything may be left
 * out, the members of clearable[] given as null are kept as null, and
 * activo may be set.
 */
static cJSON *
patient_in(struct api_req *r, const cJSON *in, int registro, cJSON *errs)
{
	cJSON *out = api_own_json(r, cJSON_CreateObject());
	const char *s;
	long long n;
	size_t k;
	int i, b;

	copy_str(out, in, "nombre", registro, 80, errs);
	if (vr_json_enum(in, "especie", registro, especies, &i, errs) > 0)
		cJSON_AddStringToObject(out, "especie", especies[i]);
	copy_str(out, in, "raza", 0, 80, errs);
	if (vr_json_enum(in, "sexo", 0, sexos, &i, errs) > 0)
		cJSON_AddStringToObject(out, "sexo", sexos[i]);
	if (vr_json_bool(in, "esterilizado", 0, &b, errs) > 0)
		cJSON_AddBoolToObject(out, "esterilizado", b);
	if (vr_json_str(in, "fecha_nacimiento", 0, 10, 10, &s, errs) > 0) {
		if (!vr_date_valid(s))
			vr_json_error(errs, "fecha_nacimiento", "debe ser una "
			    "fecha AAAA-MM-DD");
		else
			cJSON_AddStringToObject(out, "fecha_nacimiento", s);
	}
	if (vr_json_str(in, "microchip", 0, 15, 15, &s, errs) > 0) {
		if (!all_digits(s, 15))
			vr_json_error(errs, "microchip", "tiene 15 dígitos "
			    "(ISO 11784)");
		else
			cJSON_AddStringToObject(out, "microchip", s);
	}
	copy_str(out, in, "color", 0, 80, errs);
	copy_str(out, in, "alergias", 0, 500, errs);
	if (registro) {
		if (vr_json_int(in, "peso_gramos", 0, 1, 300000, &n, errs) > 0)
			cJSON_AddNumberToObject(out, "peso_gramos", (double)n);
		if (vr_json_int(in, "sede_registro_id", 0, 1, ID_MAX, &n,
		    errs) > 0)
			cJSON_AddNumberToObject(out, "sede_registro_id",
			    (double)n);
		return out;
	}
	if (vr_json_bool(in, "activo", 0, &b, errs) > 0)
		cJSON_AddBoolToObject(out, "activo", b);
	for (k = 0; clearable[k] != NULL; k++)
		if (cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(in,
		    clearable[k])))
			cJSON_AddNullToObject(out, clearable[k]);
	return out;
}

/*
 * POST /api/v1/pacientes/registro - permission pacientes.registrar.
 * In: {propietario_id | propietario: {nombres, apellidos, tipo_documento?,
 * documento, telefono, email?, direccion?}, nombre, especie, raza?, sexo?,
 * esterilizado?, fecha_nacimiento?, microchip?, color?, alergias?,
 * peso_gramos?, sede_registro_id?, duplicado_intencional?}; header
 * Idempotency-Key?.  An owner whose document is already registered is
 * reused (propietario_creado: false), never duplicated.
 * 201 Paciente + Location; 400 bad Idempotency-Key (and router's 4xx);
 * 409 microchip already registered, or (paciente-existente, naming it in
 * paciente_existente) the owner has a live patient of that name (without
 * case or accents), species and birth date and duplicado_intencional is
 * not true; 422 invalid fields, unknown propietario_id/sede_registro_id,
 * or a key already used by this user with another body.  A retry with the
 * same key and body answers the first answer again (Idempotent-Replayed:
 * true) and registers nothing; a refused request keeps no key.
 */
void
api_paciente_registro(struct api_req *r)
{
	cJSON *errs = api_errors(r), *owner = NULL, *pet;
	const cJSON *inline_owner = cJSON_GetObjectItemCaseSensitive(r->json,
	    "propietario");
	const cJSON *where;
	struct api_args a;
	const char *key;
	char hash[65];
	long long id, sede;
	int has_id, intended = 0;

	if (api_idempotency_key_or_400(r, &key) < 0)
		return;
	api_args_init(&a, STMT_PACIENTE_REGISTRO);
	vr_json_bool(r->json, "duplicado_intencional", 0, &intended, errs);
	has_id = vr_json_int(r->json, "propietario_id", 0, 1, ID_MAX, &id,
	    errs);
	if (has_id > 0)
		api_arg_int(&a, "propietario_id", id);
	if (has_id != 0 && inline_owner != NULL && !cJSON_IsNull(inline_owner))
		vr_json_error(errs, "propietario", "indique propietario_id o "
		    "propietario, no ambos");
	else if (has_id == 0) {
		if (!cJSON_IsObject(inline_owner))
			vr_json_error(errs, "propietario", "indique "
			    "propietario_id o los datos del propietario");
		else
			owner = api_owner_in(r, inline_owner, 1,
			    "propietario.", errs);
	}
	pet = patient_in(r, r->json, 1, errs);
	if (api_fields_or_422(r, errs) < 0)
		return;
	/* Registered at a site: a role there; online (no site): any. */
	where = cJSON_GetObjectItemCaseSensitive(pet, "sede_registro_id");
	sede = cJSON_IsNumber(where) ? (long long)where->valuedouble : 0;
	if (sede > 0 && api_sede_or_403(r, sede) < 0)
		return;
	if ((owner != NULL && api_seal_owner(r, owner) < 0) ||
	    api_seal_field(r, pet, "pacientes", "alergias") < 0) {
		api_problem(r, 500, "error-interno", "Error interno",
		    "Ocurrió un error inesperado.", NULL);
		return;
	}
	api_arg_text(&a, "propietario", owner ? api_print(r, owner) : NULL);
	api_arg_text(&a, "paciente", api_print(r, pet));
	api_args_who(&a, r, sede > 0 ? sede : 0);
	api_arg_text(&a, "clave", key);
	if (key != NULL) {
		vr_sha256_hex(r->body, r->body_len, hash);
		api_arg_text(&a, "cuerpo_sha256", hash);
	}
	api_arg_bool(&a, "duplicado_intencional", intended);
	api_run_function(r, &a, 1, "/api/v1/pacientes/");
}

/*
 * GET /api/v1/pacientes/{id} - permission pacientes.leer.
 * 200 Paciente with its owner and latest weight; 400 bad id; 404.  The
 * read is audited.
 */
void
api_paciente_get(struct api_req *r)
{
	struct api_args a;
	long long id;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_PACIENTE_GET);
	api_arg_int(&a, "id", id);
	api_args_who(&a, r, 0);
	api_run_json_versioned(r, &a, "El paciente no existe.");
}

/*
 * PUT /api/v1/pacientes/{id} {nombre?, especie?, raza?, sexo?,
 * esterilizado?, fecha_nacimiento?, microchip?, color?, alergias?,
 * activo?}, If-Match? - permission pacientes.modificar.  raza, sexo,
 * fecha_nacimiento, microchip, color and alergias given as null are
 * cleared.  200 Paciente; 400 bad id; 404; 409 microchip of another
 * patient, or a deceased patient made active; 412 version; 422.
 */
void
api_paciente_put(struct api_req *r)
{
	cJSON *errs = api_errors(r), *pet;
	struct api_args a;
	long long id;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_PACIENTE_PUT);
	api_if_match(r, &a, errs);
	pet = patient_in(r, r->json, 0, errs);
	if (cJSON_GetArraySize(pet) == 0 && cJSON_GetArraySize(errs) == 0)
		vr_json_error(errs, "cuerpo", "no indica ningún cambio");
	if (api_fields_or_422(r, errs) < 0)
		return;
	if (api_seal_field(r, pet, "pacientes", "alergias") < 0) {
		api_problem(r, 500, "error-interno", "Error interno",
		    "Ocurrió un error inesperado.", NULL);
		return;
	}
	api_arg_int(&a, "id", id);
	api_arg_text(&a, "cambios", api_print(r, pet));
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, NULL);
}

/*
 * POST /api/v1/pacientes/{id}/fallecimiento {fecha, causa?}, If-Match? -
 * permission pacientes.modificar.  The patient becomes deceased and
 * inactive; its live appointments still to come are cancelled (each with
 * its cita.cancelada).  200 Paciente + citas_canceladas; 400 bad id; 404;
 * 409 deceased already; 412 version; 422 (a date in the future or before
 * the birth).
 */
void
api_paciente_fallecimiento(struct api_req *r)
{
	cJSON *errs = api_errors(r), *causa;
	struct api_args a;
	const char *fecha, *c;
	long long id;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_PACIENTE_FALLECIMIENTO);
	api_if_match(r, &a, errs);
	if (vr_json_str(r->json, "fecha", 1, 10, 10, &fecha, errs) > 0) {
		if (!vr_date_valid(fecha))
			vr_json_error(errs, "fecha", "debe ser una fecha "
			    "AAAA-MM-DD");
		else
			api_arg_text(&a, "fecha", fecha);
	}
	if (vr_json_str(r->json, "causa", 0, 1, 500, &c, errs) > 0) {
		causa = api_own_json(r, cJSON_CreateObject());
		cJSON_AddStringToObject(causa, "causa_fallecimiento", c);
		if (api_seal_field(r, causa, "pacientes",
		    "causa_fallecimiento") < 0) {
			api_problem(r, 500, "error-interno", "Error interno",
			    "Ocurrió un error inesperado.", NULL);
			return;
		}
		api_arg_text(&a, "causa", cJSON_GetObjectItem(causa,
		    "causa_fallecimiento")->valuestring);
	}
	if (api_fields_or_422(r, errs) < 0)
		return;
	api_arg_int(&a, "id", id);
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, NULL);
}

/*
 * POST /api/v1/pacientes/{id}/transferencia {propietario_id}, If-Match? -
 * permission pacientes.modificar.  200 Paciente with its new owner; 400
 * bad id; 404; 409 already that owner's; 412 version; 422 unknown owner.
 */
void
api_paciente_transferencia(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	long long id, owner;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_PACIENTE_TRANSFERENCIA);
	api_if_match(r, &a, errs);
	if (vr_json_int(r->json, "propietario_id", 1, 1, ID_MAX, &owner,
	    errs) > 0)
		api_arg_int(&a, "propietario_id", owner);
	if (api_fields_or_422(r, errs) < 0)
		return;
	api_arg_int(&a, "id", id);
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, NULL);
}

/*
 * POST /api/v1/pacientes/{id}/pesos {peso_gramos, medido_en?} -
 * permission pacientes.modificar.  medido_en (RFC 3339, default now) not
 * in the future and within the patient's life.  201 Peso (the series is
 * GET .../pesos); 400 bad id; 404; 422.
 */
void
api_paciente_peso(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *medido;
	long long id, g;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_PESO_REGISTRAR);
	if (vr_json_int(r->json, "peso_gramos", 1, 1, 300000, &g, errs) > 0)
		api_arg_int(&a, "peso_gramos", g);
	if (vr_json_str(r->json, "medido_en", 0, 20, 35, &medido, errs) > 0) {
		if (!vr_rfc3339_valid(medido))
			vr_json_error(errs, "medido_en", "debe ser una fecha "
			    "y hora RFC 3339 con zona");
		else
			api_arg_text(&a, "medido_en", medido);
	}
	if (api_fields_or_422(r, errs) < 0)
		return;
	api_arg_int(&a, "id", id);
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, NULL);
}

/*
 * GET /api/v1/pacientes/{id}/pesos[?limite] - permission pacientes.leer.
 * 200 {paciente_id, elementos: [{id, peso_gramos, medido_en}]}, the last
 * limite (default 100) weighings oldest first; 400; 404.
 */
void
api_paciente_pesos(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	long long id;
	long limite = 100;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_qint(r, "limite", 1, 1000, &limite, errs);
	if (api_params_or_400(r, errs) < 0)
		return;
	api_args_init(&a, STMT_PESOS_LIST);
	api_arg_int(&a, "id", id);
	api_arg_int(&a, "limite", limite);
	api_run_json(r, &a, "El paciente no existe.");
}

/*
 * GET /api/v1/pacientes/{id}/historial[?limite&cursor] - permission
 * historia.leer.
 * 200 {paciente, eventos: [{tipo: cita|vacunacion|tratamiento|entrada|
 * peso, id, fecha, …}], siguiente_cursor}, newest first (upcoming
 * appointments lead); 400 bad id or parameters; 404 no such patient.
 * Appointments, vaccinations, treatments and entries of sites where the
 * reader holds no role are left out.  The read is audited.
 */
void
api_paciente_historial(struct api_req *r)
{
	static const char *const kinds[3] = { NULL,
	    "cita|vacunacion|tratamiento|entrada|peso", NULL };
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *cur[3] = { NULL, NULL, NULL };
	long long id;
	long limite = HIST_DEFAULT;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_HISTORIAL);
	api_arg_int(&a, "id", id);
	api_qint(r, "limite", 1, 200, &limite, errs);
	api_arg_int(&a, "limite", limite);
	if (api_qcursor(r, 3, kinds, cur, errs) > 0) {
		api_arg_text(&a, "cursor_fecha", cur[0]);
		api_arg_text(&a, "cursor_tipo", cur[1]);
		api_arg_text(&a, "cursor_id", cur[2]);
	}
	if (api_params_or_400(r, errs) < 0)
		return;
	api_arg_text(&a, "sedes", api_sedes_permitidas(r));
	api_args_who(&a, r, 0);
	api_run_json(r, &a, "El paciente no existe.");
}
