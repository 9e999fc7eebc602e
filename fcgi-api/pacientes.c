/*
 * pacientes.c - patients (pets): registration with their owner, one
 * patient, and the clinical history as one timeline.  Layer: resources.
 */
#include <ctype.h>
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
static const char *const documentos[] = { "DNI", "CE", NULL };

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

/*
 * The inline owner: nombres, apellidos, tipo_documento (DNI default, or
 * CE), documento, telefono (+51 mobile), email?, direccion?.  Errors are
 * named "propietario.<field>".  The object is the request's.
 */
static cJSON *
owner_in(struct api_req *r, const cJSON *o, cJSON *errs)
{
	cJSON *out = api_own_json(r, cJSON_CreateObject());
	cJSON *e = api_errors(r), *it;
	const char *doc, *tel, *mail;
	char up[16];
	int t = 0;
	size_t i;

	copy_str(out, o, "nombres", 1, 100, e);
	copy_str(out, o, "apellidos", 1, 100, e);
	if (vr_json_enum(o, "tipo_documento", 0, documentos, &t, e) < 0)
		t = 0;
	cJSON_AddStringToObject(out, "tipo_documento", documentos[t]);
	if (vr_json_str(o, "documento", 1, 1, 12, &doc, e) > 0) {
		for (i = 0; doc[i] && i < sizeof(up) - 1; i++)
			up[i] = (char)toupper((unsigned char)doc[i]);
		up[i] = '\0';
		if (t == 0 && !all_digits(doc, 8))
			vr_json_error(e, "documento", "un DNI tiene 8 dígitos");
		else if (t == 1 && (strlen(up) < 9 ||
		    strspn(up, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789") !=
		    strlen(up)))
			vr_json_error(e, "documento", "un carné de extranjería "
			    "tiene de 9 a 12 letras o dígitos");
		else
			cJSON_AddStringToObject(out, "numero_documento", up);
	}
	if (vr_json_str(o, "telefono", 1, 1, 16, &tel, e) > 0) {
		if (strlen(tel) != 12 || !vr_valid_phone_pe(tel))
			vr_json_error(e, "telefono", "debe ser un celular: +51 "
			    "y 9 dígitos");
		else
			cJSON_AddStringToObject(out, "telefono", tel);
	}
	if (vr_json_str(o, "email", 0, 3, 254, &mail, e) > 0) {
		if (!vr_valid_email(mail))
			vr_json_error(e, "email", "no es un correo válido");
		else
			cJSON_AddStringToObject(out, "email", mail);
	}
	copy_str(out, o, "direccion", 0, 200, e);
	cJSON_ArrayForEach(it, e) {
		cJSON *campo = cJSON_GetObjectItem(it, "campo");
		char name[64];

		snprintf(name, sizeof(name), "propietario.%s",
		    campo->valuestring);
		cJSON_SetValuestring(campo, name);
	}
	while (cJSON_GetArraySize(e) > 0)
		cJSON_AddItemToArray(errs, cJSON_DetachItemFromArray(e, 0));
	return out;
}

/* The patient's own fields, validated into a new object, the request's. */
static cJSON *
patient_in(struct api_req *r, const cJSON *in, cJSON *errs)
{
	cJSON *out = api_own_json(r, cJSON_CreateObject());
	const char *s;
	long long n;
	int i, b;

	copy_str(out, in, "nombre", 1, 80, errs);
	if (vr_json_enum(in, "especie", 1, especies, &i, errs) > 0)
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
	if (vr_json_int(in, "peso_gramos", 0, 1, 300000, &n, errs) > 0)
		cJSON_AddNumberToObject(out, "peso_gramos", (double)n);
	if (vr_json_int(in, "sede_registro_id", 0, 1, ID_MAX, &n, errs) > 0)
		cJSON_AddNumberToObject(out, "sede_registro_id", (double)n);
	return out;
}

/*
 * Member name of o, bound for table.name (lib/cifra.c's sealed columns),
 * sealed in place when it is a string.
 */
static int
seal_field(struct api_req *r, cJSON *o, const char *table, const char *name)
{
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	const struct vr_sealed_col *c = vr_sealed_col(table, name);
	char *sealed;

	if (!cJSON_IsString(v))
		return 0;
	if (c == NULL || vr_seal_col(&r->ctx->shared->keys.seal.k[0], c,
	    v->valuestring, &sealed) < 0)
		return -1;
	cJSON_SetValuestring(v, sealed);
	free(sealed);
	return 0;
}

/*
 * The owner's personal data sealed for storage (lib/cifra.c), and the
 * keyed hash of the document by which the owner is found and kept unique.
 * 0, or -1 when sealing failed.
 */
static int
seal_owner(struct api_req *r, cJSON *owner)
{
	static const char *const fields[] = { "numero_documento", "telefono",
	    "email", "direccion" };
	const struct api_shared *sh = r->ctx->shared;
	const cJSON *doc = cJSON_GetObjectItemCaseSensitive(owner,
	    "numero_documento");
	char hex[65];
	size_t i;

	if (cJSON_IsString(doc)) {
		vr_search_hash(&sh->keys.search.k[0], doc->valuestring, hex);
		cJSON_AddStringToObject(owner, "documento_hmac", hex);
	}
	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (seal_field(r, owner, "propietarios", fields[i]) < 0)
			return -1;
	return 0;
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
			owner = owner_in(r, inline_owner, errs);
	}
	pet = patient_in(r, r->json, errs);
	if (api_fields_or_422(r, errs) < 0)
		return;
	/* Registered at a site: a role there; online (no site): any. */
	where = cJSON_GetObjectItemCaseSensitive(pet, "sede_registro_id");
	sede = cJSON_IsNumber(where) ? (long long)where->valuedouble : 0;
	if (sede > 0 && api_sede_or_403(r, sede) < 0)
		return;
	if ((owner != NULL && seal_owner(r, owner) < 0) ||
	    seal_field(r, pet, "pacientes", "alergias") < 0) {
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
