/*
 * params.c - the request's input beyond its JSON body: route ids, query
 * parameters and headers, checked with the answer-or-collect shape of the
 * JSON getters (lib/json.c).  Each api_q*() returns 1 (present, *out
 * set), 0 (absent) or < 0 (invalid, error added to errs);
 * api_params_or_400() and api_fields_or_422() answer once with every
 * error collected.  Layer: input, above transport.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "params.h"
#include "transport.h"

/*
 * The Idempotency-Key header: 1-255 visible ASCII characters.  0 with
 * *key NULL when absent; < 0 with the 400 answered when malformed.
 */
int
api_idempotency_key_or_400(struct api_req *r, const char **key)
{
	const char *k = api_header(r, "HTTP_IDEMPOTENCY_KEY");
	size_t i, n;
	cJSON *errs;

	*key = NULL;
	if (k == NULL)
		return 0;
	n = strlen(k);
	for (i = 0; i < n && k[i] > ' ' && k[i] <= '~'; i++)
		;
	if (n == 0 || n > 255 || i != n) {
		errs = api_errors(r);
		vr_json_error(errs, "Idempotency-Key",
		    "de 1 a 255 caracteres ASCII visibles");
		api_problem(r, 400, "idempotencia", "Cabecera inválida",
		    "La cabecera Idempotency-Key no es válida.", errs);
		return -1;
	}
	*key = k;
	return 0;
}

/* The capture as a positive bigint id, or a 400 answered. */
int
api_id_or_400(struct api_req *r, int capture, long long *id)
{
	cJSON *errs;

	if (capture < r->ncaptures &&
	    vr_parse_id(r->captures[capture], id) == 0)
		return 0;
	errs = api_errors(r);
	vr_json_error(errs, "id", "debe ser un entero positivo");
	api_problem(r, 400, "id-invalido", "Identificador inválido",
	    "El identificador de la ruta no es un entero positivo.", errs);
	return -1;
}

int
api_qid(struct api_req *r, const char *name, int required, long long *out,
    cJSON *errs)
{
	const char *v = api_query(r, name);
	long long id;

	if (v == NULL) {
		if (!required)
			return 0;
		vr_json_error(errs, name, "es obligatorio");
		return VR_EINVAL;
	}
	if (vr_parse_id(v, &id) < 0) {
		vr_json_error(errs, name, "debe ser un entero positivo");
		return VR_EINVAL;
	}
	*out = id;
	return 1;
}

int
api_qint(struct api_req *r, const char *name, long min, long max, long *out,
    cJSON *errs)
{
	const char *v = api_query(r, name);
	char *end, msg[64];
	long n;

	if (v == NULL)
		return 0;
	n = strtol(v, &end, 10);
	if (*v == '\0' || *end != '\0' || strlen(v) > 9 || n < min ||
	    n > max) {
		snprintf(msg, sizeof(msg), "debe ser un entero entre %ld y %ld",
		    min, max);
		vr_json_error(errs, name, msg);
		return VR_EINVAL;
	}
	*out = n;
	return 1;
}

int
api_qtime(struct api_req *r, const char *name, const char **out, cJSON *errs)
{
	const char *v = api_query(r, name);

	if (v == NULL)
		return 0;
	if (!vr_rfc3339_valid(v)) {
		vr_json_error(errs, name, "debe ser una fecha y hora RFC 3339 "
		    "con zona (2026-12-01T09:00:00-05:00)");
		return VR_EINVAL;
	}
	*out = v;
	return 1;
}

int
api_qdate(struct api_req *r, const char *name, int required,
    const char **out, cJSON *errs)
{
	const char *v = api_query(r, name);

	if (v == NULL) {
		if (!required)
			return 0;
		vr_json_error(errs, name, "es obligatorio");
		return VR_EINVAL;
	}
	if (!vr_date_valid(v)) {
		vr_json_error(errs, name, "debe ser una fecha AAAA-MM-DD");
		return VR_EINVAL;
	}
	*out = v;
	return 1;
}

int
api_qenum(struct api_req *r, const char *name, const char *const *allowed,
    const char **out, cJSON *errs)
{
	const char *v = api_query(r, name);
	int i;

	if (v == NULL)
		return 0;
	for (i = 0; allowed[i] != NULL; i++) {
		if (strcmp(v, allowed[i]) == 0) {
			*out = allowed[i];
			return 1;
		}
	}
	vr_json_error(errs, name, "valor no reconocido");
	return VR_EINVAL;
}

/*
 * The "cursor" parameter: nparts fields separated by '_', each a decimal
 * number (kinds[i] == NULL) or one of the words in kinds[i] (a
 * '|'-separated list).  The parts are copied into the arena.  At most 18
 * characters a part: a number then fits a bigint and, read as
 * microseconds since 1970, a timestamp, so the database never refuses it.
 */
int
api_qcursor(struct api_req *r, int nparts, const char *const *kinds,
    const char **parts, cJSON *errs)
{
	const char *v = api_query(r, "cursor"), *p, *end;
	char *part;
	size_t n;
	int i;

	if (v == NULL)
		return 0;
	for (i = 0, p = v; i < nparts; i++) {
		end = (i == nparts - 1) ? p + strlen(p) : strchr(p, '_');
		if (end == NULL || end == p || end - p > 18)
			goto bad;
		n = (size_t)(end - p);
		part = vr_arena_strndup(r->arena, p, n);
		if (kinds[i] == NULL) {
			if (strspn(part, "0123456789") != n)
				goto bad;
		} else {
			const char *k = kinds[i];
			size_t klen;
			int ok = 0;

			while (*k && !ok) {
				klen = strcspn(k, "|");
				ok = klen == n && memcmp(k, part, n) == 0;
				k += klen + (k[klen] == '|');
			}
			if (!ok)
				goto bad;
		}
		parts[i] = part;
		p = end + 1;
	}
	return 1;
bad:
	vr_json_error(errs, "cursor", "cursor inválido: use el "
	    "siguiente_cursor de la página anterior");
	return VR_EINVAL;
}

/*
 * A member of body not in known (NULL-terminated): one error on
 * "cuerpo" naming it and the members that are known.  Bodies where a
 * typo must not pass for "nothing said" (a clinical field, a job's
 * schedule) use it; the others ignore what they do not read.
 */
void
api_unknown_members(const cJSON *body, const char *const *known, cJSON *errs)
{
	const cJSON *m;
	struct vr_buf b;
	int i;

	cJSON_ArrayForEach(m, body) {
		for (i = 0; known[i] != NULL; i++)
			if (m->string != NULL && strcmp(m->string, known[i]) == 0)
				break;
		if (known[i] != NULL)
			continue;
		vr_buf_init(&b);
		vr_buf_puts(&b, "campo desconocido: use ");
		for (i = 0; known[i] != NULL; i++)
			vr_buf_printf(&b, "%s%s", i == 0 ? "" : known[i + 1] ==
			    NULL ? " o " : ", ", known[i]);
		vr_json_error(errs, "cuerpo", b.data);
		vr_buf_free(&b);
		return;
	}
}

/* 0 when errs is empty, else the 422 answered; errs is the request's. */
int
api_fields_or_422(struct api_req *r, cJSON *errs)
{
	api_own_json(r, errs);
	if (cJSON_GetArraySize(errs) == 0)
		return 0;
	api_problem(r, 422, "validacion", "Datos inválidos",
	    "Corrija los campos indicados.", errs);
	return -1;
}

/*
 * If-Match: "N" (or N), the version the client last read (its ETag), into
 * parameter "version" of a; nothing when absent or "*" (any version).  A
 * malformed one is an error of errs.
 */
void
api_if_match(struct api_req *r, struct api_args *a, cJSON *errs)
{
	const char *h = api_header(r, "HTTP_IF_MATCH");
	char buf[16];
	size_t n;
	long long v;

	if (h == NULL || strcmp(h, "*") == 0)
		return;
	n = strlen(h);
	if (n >= 2 && h[0] == '"' && h[n - 1] == '"') {
		h++;
		n -= 2;
	}
	if (n < sizeof(buf)) {
		memcpy(buf, h, n);
		buf[n] = '\0';
	}
	if (n >= sizeof(buf) || vr_parse_id(buf, &v) < 0 || v > 2147483647) {
		vr_json_error(errs, "If-Match", "debe ser la versión entre "
		    "comillas, como la da el ETag");
		return;
	}
	api_arg_int(a, "version", v);
}

/* A code of the network's lists: a lower case letter, then 1-39 lower
 * case letters, digits or _ (vacunacion, control_anual). */
int
api_code_valid(const char *s)
{
	size_t i, n = strlen(s);

	if (n < 2 || n > 40 || s[0] < 'a' || s[0] > 'z')
		return 0;
	for (i = 1; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '_'))
			return 0;
	return 1;
}

/* 0 when errs is empty, else the 400 answered; errs is the request's. */
int
api_params_or_400(struct api_req *r, cJSON *errs)
{
	api_own_json(r, errs);
	if (cJSON_GetArraySize(errs) == 0)
		return 0;
	api_problem(r, 400, "parametro-invalido", "Parámetro inválido",
	    "Corrija los parámetros de consulta indicados.", errs);
	return -1;
}
