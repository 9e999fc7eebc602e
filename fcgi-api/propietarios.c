/*
 * propietarios.c - owners (clients): the validated and sealed owner
 * fields (shared with registration), one owner, its changes, the desk's
 * search and the merge of two records of one person.  Layer: resources.
 *
 * Owners belong to the network, not to a site: any clinical role reads
 * and corrects them; what is site-bound in an answer (a pet's next
 * appointment) is limited to the reader's sites.
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
#define Q_MAX		100	/* characters of a search */
#define Q_WORDS		5	/* words of a name search */
#define SEARCH_DEFAULT	20
#define BLANKS		" \t\r\n\f\v"

static const char *const documentos[] = { "DNI", "CE", NULL };

static int
all_digits(const char *s, size_t n)
{
	return strlen(s) == n && strspn(s, "0123456789") == n;
}

/* A present member given as JSON null: the client clears the field. */
static int
nulled(const cJSON *o, const char *name)
{
	return cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(o, name));
}

/*
 * The owner's fields of o, validated into a new object (the request's):
 * nombres, apellidos, tipo_documento (DNI default when required), documento
 * (upper-cased into numero_documento), telefono (+51 mobile), email?,
 * direccion?.  required: registration, where the first five must be
 * there; otherwise (a change) any may be left out, and email or direccion
 * given as null is kept as null (cleared).  Errors are named prefix+field.
 */
cJSON *
api_owner_in(struct api_req *r, const cJSON *o, int required,
    const char *prefix, cJSON *errs)
{
	cJSON *out = api_own_json(r, cJSON_CreateObject());
	cJSON *e = api_errors(r), *it;
	const char *doc, *tel, *mail, *s;
	char up[16];
	int t = 0, has_t;
	size_t i;

	if (vr_json_str(o, "nombres", required, 1, 100, &s, e) > 0)
		cJSON_AddStringToObject(out, "nombres", s);
	if (vr_json_str(o, "apellidos", required, 1, 100, &s, e) > 0)
		cJSON_AddStringToObject(out, "apellidos", s);
	if ((has_t = vr_json_enum(o, "tipo_documento", 0, documentos, &t,
	    e)) < 0)
		t = 0;
	if (required || has_t > 0)
		cJSON_AddStringToObject(out, "tipo_documento", documentos[t]);
	if (vr_json_str(o, "documento", required || has_t > 0, 1, 12, &doc,
	    e) > 0) {
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
		else {
			if (has_t == 0 && !required)
				cJSON_AddStringToObject(out, "tipo_documento",
				    documentos[t]);
			cJSON_AddStringToObject(out, "numero_documento", up);
		}
	}
	if (vr_json_str(o, "telefono", required, 1, 16, &tel, e) > 0) {
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
	} else if (!required && nulled(o, "email"))
		cJSON_AddNullToObject(out, "email");
	if (vr_json_str(o, "direccion", 0, 1, 200, &s, e) > 0)
		cJSON_AddStringToObject(out, "direccion", s);
	else if (!required && nulled(o, "direccion"))
		cJSON_AddNullToObject(out, "direccion");
	cJSON_ArrayForEach(it, e) {
		cJSON *campo = cJSON_GetObjectItem(it, "campo");
		char name[64];

		snprintf(name, sizeof(name), "%s%s", prefix,
		    campo->valuestring);
		cJSON_SetValuestring(campo, name);
	}
	while (cJSON_GetArraySize(e) > 0)
		cJSON_AddItemToArray(errs, cJSON_DetachItemFromArray(e, 0));
	return out;
}

/*
 * Member name of o, bound for table.name (lib/cifra.c's sealed columns),
 * sealed in place when it is a string; and its keyed hash, when the
 * column is searched, as the member the column's hash is named after.
 */
int
api_seal_field(struct api_req *r, cJSON *o, const char *table,
    const char *name)
{
	const struct api_shared *sh = r->ctx->shared;
	cJSON *v = cJSON_GetObjectItemCaseSensitive(o, name);
	const struct vr_sealed_col *c = vr_sealed_col(table, name);
	char *sealed, hex[65];

	if (!cJSON_IsString(v))
		return 0;
	if (c == NULL)
		return -1;
	if (c->hash != NULL) {
		vr_search_hash(&sh->keys.search.k[0], v->valuestring, hex);
		cJSON_AddStringToObject(o, c->hash, hex);
	}
	if (vr_seal_col(&sh->keys.seal.k[0], c, v->valuestring, &sealed) < 0)
		return -1;
	cJSON_SetValuestring(v, sealed);
	free(sealed);
	return 0;
}

/* The owner's personal data sealed for storage, with the keyed hashes. */
int
api_seal_owner(struct api_req *r, cJSON *owner)
{
	static const char *const fields[] = { "numero_documento", "telefono",
	    "email", "direccion" };
	size_t i;

	for (i = 0; i < sizeof(fields) / sizeof(fields[0]); i++)
		if (api_seal_field(r, owner, "propietarios", fields[i]) < 0)
			return -1;
	return 0;
}

/*
 * GET /api/v1/propietarios/{id} - permission propietarios.leer.
 * 200 Propietario (pets with their next appointment at the reader's
 * sites) + ETag; a merged record's id answers the owner kept, naming the
 * id asked for in solicitado_id; 400 bad id; 404.  The read is audited.
 */
void
api_propietario_get(struct api_req *r)
{
	struct api_args a;
	long long id;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_PROPIETARIO_GET);
	api_arg_int(&a, "id", id);
	api_arg_text(&a, "sedes", api_sedes_permitidas(r));
	api_args_who(&a, r, 0);
	api_run_json_versioned(r, &a, "El propietario no existe.");
}

/*
 * PUT /api/v1/propietarios/{id} {nombres?, apellidos?, tipo_documento?,
 * documento?, telefono?, email?, direccion?}, If-Match? - permission
 * propietarios.modificar.  email or direccion null clears it; a new
 * document needs its type only when it changes type.  200 Propietario;
 * 400 bad id; 404; 409 the document is another owner's, or
 * the record was merged; 412 version; 422 (a malformed If-Match too).
 */
void
api_propietario_put(struct api_req *r)
{
	cJSON *errs = api_errors(r), *owner;
	struct api_args a;
	long long id;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_PROPIETARIO_PUT);
	api_if_match(r, &a, errs);
	owner = api_owner_in(r, r->json, 0, "", errs);
	if (cJSON_GetArraySize(owner) == 0 && cJSON_GetArraySize(errs) == 0)
		vr_json_error(errs, "cuerpo", "no indica ningún cambio");
	if (api_fields_or_422(r, errs) < 0)
		return;
	if (api_seal_owner(r, owner) < 0) {
		api_problem(r, 500, "error-interno", "Error interno",
		    "Ocurrió un error inesperado.", NULL);
		return;
	}
	api_arg_int(&a, "id", id);
	api_arg_text(&a, "cambios", api_print(r, owner));
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, NULL);
}

/* q reduced to its digits and letters (upper case), or "" when it holds
 * anything but those and the separators people type in numbers. */
static void
compact(const char *q, char *out, size_t n)
{
	size_t j = 0;

	for (; *q != '\0'; q++) {
		if (strchr(" -.()", *q) != NULL)
			continue;
		if (!isalnum((unsigned char)*q) && !(*q == '+' && j == 0)) {
			j = 0;
			break;
		}
		if (j + 1 >= n) {
			j = 0;
			break;
		}
		out[j++] = (char)toupper((unsigned char)*q);
	}
	out[j] = '\0';
}

/*
 * What q is: a phone (into tel, E.164), a document number (into doc), both
 * (nine digits from 9: a mobile without +51, or a CE), or a name (0).
 */
static int
classify(const char *q, char *doc, char *tel)
{
	char c[32];
	const char *d;
	size_t n;
	int found = 0;

	doc[0] = tel[0] = '\0';
	compact(q, c, sizeof(c));
	d = c[0] == '+' ? c + 1 : c;
	n = strlen(d);
	if ((n == 11 && strncmp(d, "519", 3) == 0 && all_digits(d, 11)) ||
	    (n == 9 && d[0] == '9' && all_digits(d, 9))) {
		snprintf(tel, 16, "+51%s", d + n - 9);
		found = 1;
	}
	if (c[0] == '+')
		return found;
	if (all_digits(d, 8) || (n >= 9 && n <= 12 &&
	    strpbrk(d, "0123456789") != NULL)) {
		memcpy(doc, d, n + 1);	/* n <= 12 */
		found = 1;
	}
	return found;
}

/* Words of a name search (blank-separated, as the SQL splits them):
 * 1 to Q_WORDS. */
static int
words_ok(const char *q)
{
	size_t len;
	int n = 0;

	for (;;) {
		q += strspn(q, BLANKS);
		if (*q == '\0')
			return n > 0;
		len = strcspn(q, BLANKS);
		if (++n > Q_WORDS)
			return 0;
		q += len;
	}
}

/*
 * The cursor of a name search: "<word>_<owner id>", split at the last
 * underscore.  1, 0 when absent, VR_EINVAL (error added).
 */
static int
search_cursor(struct api_req *r, struct api_args *a, cJSON *errs)
{
	const char *v = api_query(r, "cursor"), *us;
	long long id;

	if (v == NULL)
		return 0;
	us = strrchr(v, '_');
	if (us == NULL || us == v || us - v > 4 * Q_MAX ||
	    !vr_utf8_valid(v, (size_t)(us - v)) ||
	    strcspn(v, BLANKS) < (size_t)(us - v) ||
	    vr_parse_id(us + 1, &id) < 0 || id < 1) {
		vr_json_error(errs, "cursor", "cursor inválido: use el "
		    "siguiente_cursor de la página anterior");
		return VR_EINVAL;
	}
	api_arg_text(a, "cursor_palabra", vr_arena_strndup(r->arena, v,
	    (size_t)(us - v)));
	api_arg_int(a, "cursor_id", id);
	return 1;
}

/*
 * GET /api/v1/propietarios?q=&limite=&cursor= - permission
 * propietarios.leer.  q: a DNI or CE number, a mobile phone (+51 and 9
 * digits, or the 9 digits), or up to 5 words, each of which must begin a
 * word of the owner's names or of one of their pets' names.  Numbers are
 * found through their keyed hashes (they stay sealed); names in word
 * order, a page at a time (siguiente_cursor; a number's search has one
 * page, and a cursor gets the empty one after it).  200 {elementos:
 * [Propietario + coincidencia], siguiente_cursor}; 400 bad parameters.
 * Audited: the ids shown, never q.
 */
void
api_propietarios_buscar(struct api_req *r)
{
	const struct api_shared *sh = r->ctx->shared;
	cJSON *errs = api_errors(r);
	struct api_args a;
	const char *q = api_query(r, "q");
	char doc[16], tel[16], *hd, *ht;
	long limite = SEARCH_DEFAULT;

	api_args_init(&a, STMT_PROPIETARIOS_BUSCAR);
	api_qint(r, "limite", 1, 100, &limite, errs);
	api_arg_int(&a, "limite", limite);
	if (q == NULL || q[strspn(q, BLANKS)] == '\0')
		vr_json_error(errs, "q", "es obligatorio");
	else if (!vr_utf8_valid(q, strlen(q)) || vr_utf8_len(q) > Q_MAX)
		vr_json_error(errs, "q", "debe ser texto UTF-8 de hasta 100 "
		    "caracteres");
	else if (classify(q, doc, tel)) {
		/* One page only: the page after it is empty. */
		if (search_cursor(r, &a, errs) > 0)
			api_arg_int(&a, "limite", 0);
		if (doc[0] != '\0') {
			hd = vr_arena_alloc(r->arena, 65);
			vr_search_hash(&sh->keys.search.k[0], doc, hd);
			api_arg_text(&a, "documento", hd);
		}
		if (tel[0] != '\0') {
			ht = vr_arena_alloc(r->arena, 65);
			vr_search_hash(&sh->keys.search.k[0], tel, ht);
			api_arg_text(&a, "telefono", ht);
		}
	} else if (!words_ok(q))
		vr_json_error(errs, "q", "de 1 a 5 palabras");
	else {
		api_arg_text(&a, "q", q);
		search_cursor(r, &a, errs);
	}
	if (api_params_or_400(r, errs) < 0)
		return;
	api_arg_text(&a, "sedes", api_sedes_permitidas(r));
	api_args_who(&a, r, 0);
	api_run_json(r, &a, "Sin resultados.");
}

/*
 * POST /api/v1/propietarios/{id}/fusion {origen_id}, If-Match? -
 * permission propietarios.fusionar.  The record origen_id (the same
 * person registered twice) is merged into id: its pets move, id takes its
 * e-mail and address where it has none, and origen_id keeps answering as
 * id.  200 Propietario; 400; 404 id unknown; 409 either was merged
 * already; 412 version of id; 422 origen_id unknown or the same.
 */
void
api_propietario_fusion(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	long long id, origen;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_PROPIETARIO_FUSION);
	api_if_match(r, &a, errs);
	if (vr_json_int(r->json, "origen_id", 1, 1, ID_MAX, &origen,
	    errs) > 0)
		api_arg_int(&a, "origen", origen);
	if (api_fields_or_422(r, errs) < 0)
		return;
	api_arg_int(&a, "id", id);
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, NULL);
}
