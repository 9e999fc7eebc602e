/*
 * clinico.c - the clinical record's writes: the vaccine catalog,
 * vaccinations applied (lot and expiry), treatments prescribed, the
 * coded diagnoses and clinical entries with their versions, each with
 * its event.  Layer: resources.
 *
 * A clinical write belongs to the site where it happened: the caller
 * needs the permission there (api_sede_or_403), and the vet, by default
 * the caller's own vet record, must work there.
 */
#include <math.h>
#include <regex.h>
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
static const char *const tipos_entrada[] = { "consulta", "control",
	"urgencia", "cirugia", "hospitalizacion", "vacunacion", "teleconsulta",
	"laboratorio", "imagenologia", "nota", NULL };
static const char *const caracteres[] = { "presuntivo", "definitivo",
	"descartado", NULL };
static const char *const categorias[] = { "dermatologia", "digestivo",
	"respiratorio", "cardiovascular", "urinario", "reproductivo",
	"musculoesqueletico", "neurologico", "oftalmologia", "otologia",
	"odontologia", "endocrino", "infeccioso", "parasitario", "oncologia",
	"traumatologia", "toxicologia", "conducta", "nutricion", "preventivo",
	"otro", NULL };
/* The SOAP text of an entry (S, O, A, P) and free text: sealed at rest. */
static const char *const textos[] = { "anamnesis", "examen", "diagnostico",
	"plan", "texto", NULL };

/* The members each body may have: a misspelt clinical field must not
 * pass for one left out. */
static const char *const entry_known[] = { "sede_id", "cita_id",
	"veterinario_id", "tipo", "anamnesis", "examen", "diagnostico", "plan",
	"texto", "temperatura_c", "frecuencia_cardiaca",
	"frecuencia_respiratoria", "peso_gramos", "diagnosticos", NULL };
static const char *const version_known[] = { "motivo", "veterinario_id",
	"tipo", "anamnesis", "examen", "diagnostico", "plan", "texto",
	"temperatura_c", "frecuencia_cardiaca", "frecuencia_respiratoria",
	"peso_gramos", "diagnosticos", NULL };
static const char *const diag_known[] = { "codigo", "nombre", "categoria",
	"especies", NULL };

#define TEXTO_MAX	20000	/* characters of one text field */
#define DIAG_MAX	20	/* diagnoses of one entry */
#define Q_DIAG_MAX	60	/* characters of a diagnosis search */

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

static void
internal_error(struct api_req *r)
{
	api_problem(r, 500, "error-interno", "Error interno",
	    "Ocurrió un error inesperado.", NULL);
}

/* Run a clinical write of patient id with the fields of d; loc: the
 * Location prefix of what it creates, NULL for none. */
static void
run_write(struct api_req *r, int stmt, long long id, const cJSON *d,
    long long sede, const char *loc)
{
	struct api_args a;

	api_args_init(&a, stmt);
	api_arg_int(&a, "id", id);
	api_arg_text(&a, "datos", api_print(r, d));
	api_args_who(&a, r, sede);
	api_run_function(r, &a, 1, loc);
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
	run_write(r, STMT_VACUNACION_REGISTRAR, id, d, sede, NULL);
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
		internal_error(r);
		return;
	}
	run_write(r, STMT_TRATAMIENTO_REGISTRAR, id, d, sede, NULL);
}

/*
 * GET /api/v1/diagnosticos[?q&especie&categoria] - permission
 * historia.leer.  200 {elementos: [Diagnostico], siguiente_cursor: null};
 * 400 bad parameters.
 */
void
api_diagnosticos_list(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *q = api_query(r, "q"), *esp = NULL, *cat = NULL;

	if (q != NULL && (!vr_utf8_valid(q, strlen(q)) || vr_utf8_len(q) < 1 ||
	    vr_utf8_len(q) > Q_DIAG_MAX || q[strspn(q, " \t")] == '\0'))
		vr_json_error(errs, "q", "debe ser texto UTF-8 de 1 a 60 "
		    "caracteres");
	api_qenum(r, "especie", especies, &esp, errs);
	api_qenum(r, "categoria", categorias, &cat, errs);
	if (api_params_or_400(r, errs) < 0)
		return;
	api_args_init(&a, STMT_DIAGNOSTICOS_LIST);
	api_arg_text(&a, "q", q);
	api_arg_text(&a, "especie", esp);
	api_arg_text(&a, "categoria", cat);
	api_run_json(r, &a, "Sin diagnósticos.");
}

/* 1 when s is a diagnosis code: 2-5 capitals, a dash, 2-12 capitals or
 * digits (the check of diagnosticos.codigo). */
static int
diag_code_ok(const char *s)
{
	size_t a = strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZ"), b;

	if (a < 2 || a > 5 || s[a] != '-')
		return 0;
	b = strspn(s + a + 1, "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789");
	return b >= 2 && b <= 12 && s[a + 1 + b] == '\0';
}

/* especies: a list of distinct species, at least one. */
static void
copy_species(cJSON *out, const cJSON *in, cJSON *errs)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, "especies"), *e;
	cJSON *list;
	unsigned seen = 0;
	int k;

	if (v == NULL || cJSON_IsNull(v))
		return;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1) {
		vr_json_error(errs, "especies", "debe ser una lista de especies, "
		    "no vacía");
		return;
	}
	list = cJSON_AddArrayToObject(out, "especies");
	cJSON_ArrayForEach(e, v) {
		for (k = 0; cJSON_IsString(e) && especies[k] != NULL; k++)
			if (strcmp(e->valuestring, especies[k]) == 0)
				break;
		if (!cJSON_IsString(e) || especies[k] == NULL ||
		    (seen & (1u << k))) {
			vr_json_error(errs, "especies", "especies distintas, de: "
			    "canino, felino, ave, conejo, roedor, reptil, otro");
			return;
		}
		seen |= 1u << k;
		cJSON_AddItemToArray(list, cJSON_CreateString(especies[k]));
	}
}

/*
 * POST /api/v1/diagnosticos {codigo, nombre, categoria, especies?} -
 * permission diagnosticos.gestionar (the network's administrators).
 * 201 Diagnostico; 409 code or name taken; 422.
 */
void
api_diagnostico_crear(struct api_req *r)
{
	cJSON *errs = api_errors(r), *d = api_own_json(r, cJSON_CreateObject());
	struct api_args a;
	const char *code;
	int c;

	if (vr_json_str(r->json, "codigo", 1, 5, 18, &code, errs) > 0) {
		if (diag_code_ok(code))
			cJSON_AddStringToObject(d, "codigo", code);
		else
			vr_json_error(errs, "codigo", "2 a 5 mayúsculas, un "
			    "guion y 2 a 12 mayúsculas o cifras (DER-DAPP)");
	}
	copy_text(d, r->json, "nombre", 1, 160, errs);
	if (vr_json_enum(r->json, "categoria", 1, categorias, &c, errs) > 0)
		cJSON_AddStringToObject(d, "categoria", categorias[c]);
	copy_species(d, r->json, errs);
	api_unknown_members(r->json, diag_known, errs);
	if (api_fields_or_422(r, errs) < 0)
		return;
	api_args_init(&a, STMT_DIAGNOSTICO_CREAR);
	api_arg_text(&a, "datos", api_print(r, d));
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, "/api/v1/diagnosticos/");
}

/*
 * A member a new version may clear: given as null there, it goes to d as
 * null and 1 is returned; otherwise 0 and the caller reads it.
 */
static int
cleared(cJSON *d, const cJSON *in, const char *name, int version)
{
	if (!version || !cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(in,
	    name)))
		return 0;
	cJSON_AddNullToObject(d, name);
	return 1;
}

/* temperatura_c: a number of °C, 10 to 46, kept to one decimal. */
static void
copy_temperature(cJSON *d, const cJSON *in, cJSON *errs)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, "temperatura_c");

	if (v == NULL || cJSON_IsNull(v))
		return;
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 10.0 &&
	    v->valuedouble <= 46.0))
		vr_json_error(errs, "temperatura_c", "debe ser un número de "
		    "10 a 46 (°C)");
	else
		cJSON_AddNumberToObject(d, "temperatura_c",
		    round(v->valuedouble * 10.0) / 10.0);
}

/* diagnosticos: [{id, caracter?}], distinct ids, at most DIAG_MAX. */
static void
copy_diagnoses(cJSON *d, const cJSON *in, cJSON *errs)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(in, "diagnosticos"),
	    *e, *f;
	cJSON *list, *o;
	long long ids[DIAG_MAX], id;
	char name[48];
	int n = 0, i, c, rc;

	if (v == NULL || cJSON_IsNull(v))
		return;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) > DIAG_MAX) {
		vr_json_error(errs, "diagnosticos", "debe ser una lista de "
		    "hasta 20 diagnósticos {id, caracter}");
		return;
	}
	list = cJSON_AddArrayToObject(d, "diagnosticos");
	cJSON_ArrayForEach(e, v) {
		snprintf(name, sizeof(name), "diagnosticos[%d]", n);
		if (!cJSON_IsObject(e)) {
			vr_json_error(errs, name, "debe ser un objeto {id, "
			    "caracter}");
			return;
		}
		cJSON_ArrayForEach(f, e)
			if (strcmp(f->string, "id") != 0 &&
			    strcmp(f->string, "caracter") != 0) {
				vr_json_error(errs, name, "solo lleva id y "
				    "caracter");
				return;
			}
		o = cJSON_CreateObject();
		cJSON_AddItemToArray(list, o);
		snprintf(name, sizeof(name), "diagnosticos[%d].id", n);
		if (vr_json_int(e, "id", 1, 1, ID_MAX, &id, errs) <= 0)
			return;
		for (i = 0; i < n; i++)
			if (ids[i] == id) {
				vr_json_error(errs, name, "repetido");
				return;
			}
		ids[n++] = id;
		cJSON_AddNumberToObject(o, "id", (double)id);
		if ((rc = vr_json_enum(e, "caracter", 0, caracteres, &c,
		    errs)) < 0)
			return;
		if (rc > 0)
			cJSON_AddStringToObject(o, "caracter", caracteres[c]);
	}
}

/*
 * The fields of an entry or of a new version (version 1): the SOAP text
 * sealed for storage, type, vital signs, weight, coded diagnoses; on a
 * version a member given as null clears it.  The number of entry fields
 * given.
 */
static int
entry_fields(struct api_req *r, cJSON *d, int version, cJSON *errs)
{
	int i, t, n = 0, given = 0;

	for (i = 0; textos[i] != NULL; i++) {
		if (cleared(d, r->json, textos[i], version))
			continue;
		copy_text(d, r->json, textos[i], 0, TEXTO_MAX, errs);
		given += cJSON_HasObjectItem(d, textos[i]);
	}
	if (vr_json_enum(r->json, "tipo", 0, tipos_entrada, &t, errs) > 0)
		cJSON_AddStringToObject(d, "tipo", tipos_entrada[t]);
	if (!cleared(d, r->json, "temperatura_c", version))
		copy_temperature(d, r->json, errs);
	if (!cleared(d, r->json, "frecuencia_cardiaca", version))
		copy_int(d, r->json, "frecuencia_cardiaca", 0, 1, 1500, errs);
	if (!cleared(d, r->json, "frecuencia_respiratoria", version))
		copy_int(d, r->json, "frecuencia_respiratoria", 0, 1, 300, errs);
	if (!cleared(d, r->json, "peso_gramos", version))
		copy_int(d, r->json, "peso_gramos", 0, 1, 300000, errs);
	if (!cleared(d, r->json, "diagnosticos", version))
		copy_diagnoses(d, r->json, errs);
	if (!version && given == 0)
		vr_json_error(errs, "cuerpo", "escriba al menos uno de "
		    "anamnesis, examen, diagnostico, plan o texto");
	n = cJSON_GetArraySize(d);
	for (i = 0; textos[i] != NULL; i++)
		if (api_seal_field(r, d, "historia_entradas", textos[i]) < 0)
			return -1;
	return n;
}

/*
 * POST /api/v1/pacientes/{id}/entradas {sede_id, tipo?, cita_id?,
 * veterinario_id?, anamnesis?, examen?, diagnostico?, plan?, texto?,
 * temperatura_c?, frecuencia_cardiaca?, frecuencia_respiratoria?,
 * peso_gramos?, diagnosticos?} - permission historia.escribir at
 * sede_id.  SOAP: anamnesis (S), examen (O), diagnostico (A), plan (P);
 * at least one text; the text is sealed at rest.  201 Entrada; 400; 403;
 * 404; 409 deceased patient; 422 invalid fields, a vet not working at
 * the site, an appointment not the patient's there or not attended,
 * diagnoses unknown, retired or of another species.
 */
void
api_entrada_registrar(struct api_req *r)
{
	cJSON *errs = api_errors(r), *d = api_own_json(r, cJSON_CreateObject());
	long long id, sede;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	copy_int(d, r->json, "cita_id", 0, 1, ID_MAX, errs);
	copy_int(d, r->json, "veterinario_id", 0, 1, ID_MAX, errs);
	if ((sede = write_site(r, d, errs)) < 0)
		return;
	if (entry_fields(r, d, 0, errs) < 0) {
		internal_error(r);
		return;
	}
	api_unknown_members(r->json, entry_known, errs);
	if (api_fields_or_422(r, errs) < 0)
		return;
	run_write(r, STMT_ENTRADA_REGISTRAR, id, d, sede, "/api/v1/entradas/");
}

/*
 * A new version of entry id (correccion or enmienda): the entry fields
 * that change, motivo (required for an amendment), veterinario_id?,
 * If-Match? the version replaced.
 */
static void
new_version(struct api_req *r, const char *cambio)
{
	cJSON *errs = api_errors(r), *d = api_own_json(r, cJSON_CreateObject());
	struct api_args a;
	long long id;
	int n, amend = strcmp(cambio, "enmienda") == 0;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_ENTRADA_VERSIONAR);
	api_if_match(r, &a, errs);
	if ((n = entry_fields(r, d, 1, errs)) < 0) {
		internal_error(r);
		return;
	}
	if (n == 0 && cJSON_GetArraySize(errs) == 0)
		vr_json_error(errs, "cuerpo", "no indica ningún cambio");
	copy_text(d, r->json, "motivo", amend, 1000, errs);
	copy_int(d, r->json, "veterinario_id", 0, 1, ID_MAX, errs);
	api_unknown_members(r->json, version_known, errs);
	if (api_fields_or_422(r, errs) < 0)
		return;
	api_arg_int(&a, "id", id);
	api_arg_text(&a, "datos", api_print(r, d));
	api_arg_text(&a, "cambio", cambio);
	api_arg_text(&a, "sedes", api_sedes_permitidas(r));
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, "/api/v1/entradas/");
}

/*
 * PUT /api/v1/entradas/{id} {entry fields, motivo?}, If-Match? -
 * permission historia.escribir at the entry's site, by the entry's
 * author, within 24 h of its first version: a correction, written as a
 * new version that replaces version id (which stays in the history).
 * 201 Entrada (the new version; Location); 400; 403 another site or not
 * the author; 404; 409 id already replaced, or entrada-bloqueada after
 * 24 h (amend it instead); 412 version; 422.
 */
void
api_entrada_corregir(struct api_req *r)
{
	new_version(r, "correccion");
}

/*
 * POST /api/v1/entradas/{id}/enmiendas {motivo, entry fields},
 * If-Match? - permission historia.escribir at the entry's site, at any
 * time: an amendment, a new version with its reason.  201 Entrada;
 * 400; 403 another site; 404; 409 id already replaced; 412; 422.
 */
void
api_entrada_enmendar(struct api_req *r)
{
	new_version(r, "enmienda");
}

/*
 * GET /api/v1/entradas/{id} - permission historia.leer at the entry's
 * site.  200 Entrada with versiones (every version of the entry, oldest
 * first); 400; 403 another site; 404.  The read is audited.
 */
void
api_entrada_get(struct api_req *r)
{
	struct api_args a;
	long long id;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_ENTRADA_GET);
	api_arg_int(&a, "id", id);
	api_arg_text(&a, "sedes", api_sedes_permitidas(r));
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, NULL);
}
