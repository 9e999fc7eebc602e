/*
 * json.c - validated reads of JSON input.
 *
 * Handlers never touch raw cJSON values: they ask for a field with its
 * type and bounds, and get either a typed value or a per-field error
 * collected in an array that becomes the "errors" member of the
 * problem+json answer.  Messages are Spanish: they reach the client.
 */
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vr.h"

/* Largest integer a double holds exactly: JSON numbers past it are lossy. */
#define JSON_INT_MAX	9007199254740991LL

void
vr_json_error(cJSON *errs, const char *name, const char *msg)
{
	cJSON *e;

	if (errs == NULL)
		return;
	e = cJSON_CreateObject();
	cJSON_AddStringToObject(e, "campo", name);
	cJSON_AddStringToObject(e, "mensaje", msg);
	cJSON_AddItemToArray(errs, e);
}

/* Absent and null are the same; 0 when absent and allowed to be. */
static int
absent(const cJSON *v, const char *name, int required, cJSON *errs)
{
	if (v != NULL && !cJSON_IsNull(v))
		return 1;
	if (!required)
		return 0;
	vr_json_error(errs, name, "es obligatorio");
	return VR_EINVAL;
}

/*
 * Characters (code points) of valid UTF-8: lengths count what the
 * client's JSON Schema maxLength and PostgreSQL's char_length count.
 */
size_t
vr_utf8_len(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		n += ((unsigned char)*s & 0xc0) != 0x80;
	return n;
}

int
vr_json_str(const cJSON *obj, const char *name, int required, size_t minlen,
    size_t maxlen, const char **out, cJSON *errs)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	char msg[96];
	size_t n;
	int rc;

	if ((rc = absent(v, name, required, errs)) <= 0)
		return rc;
	if (!cJSON_IsString(v)) {
		vr_json_error(errs, name, "debe ser un texto");
		return VR_EINVAL;
	}
	n = strlen(v->valuestring);
	if (!vr_utf8_valid(v->valuestring, n)) {
		vr_json_error(errs, name, "no es UTF-8 válido");
		return VR_EINVAL;
	}
	if (vr_utf8_len(v->valuestring) < minlen ||
	    vr_utf8_len(v->valuestring) > maxlen) {
		snprintf(msg, sizeof(msg), "debe tener entre %zu y %zu "
		    "caracteres", minlen, maxlen);
		vr_json_error(errs, name, msg);
		return VR_EINVAL;
	}
	if (minlen > 0 && v->valuestring[strspn(v->valuestring, " \t\r\n")]
	    == '\0') {
		vr_json_error(errs, name, "no puede estar en blanco");
		return VR_EINVAL;
	}
	*out = v->valuestring;
	return 1;
}

int
vr_json_int(const cJSON *obj, const char *name, int required, long long min,
    long long max, long long *out, cJSON *errs)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	char msg[96];
	double d;
	int rc;

	if ((rc = absent(v, name, required, errs)) <= 0)
		return rc;
	if (!cJSON_IsNumber(v)) {
		vr_json_error(errs, name, "debe ser un número entero");
		return VR_EINVAL;
	}
	d = v->valuedouble;
	if (!isfinite(d) || d != floor(d) || fabs(d) > (double)JSON_INT_MAX) {
		vr_json_error(errs, name, "debe ser un número entero");
		return VR_EINVAL;
	}
	if ((long long)d < min || (long long)d > max) {
		snprintf(msg, sizeof(msg), "debe estar entre %lld y %lld",
		    min, max);
		vr_json_error(errs, name, msg);
		return VR_EINVAL;
	}
	*out = (long long)d;
	return 1;
}

int
vr_json_bool(const cJSON *obj, const char *name, int required, int *out,
    cJSON *errs)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, name);
	int rc;

	if ((rc = absent(v, name, required, errs)) <= 0)
		return rc;
	if (!cJSON_IsBool(v)) {
		vr_json_error(errs, name, "debe ser true o false");
		return VR_EINVAL;
	}
	*out = cJSON_IsTrue(v);
	return 1;
}

/* allowed is NULL-terminated; *out is the index of the match. */
int
vr_json_enum(const cJSON *obj, const char *name, int required,
    const char *const *allowed, int *out, cJSON *errs)
{
	const char *s;
	char msg[256];
	size_t len = 0;
	int i, rc;

	if ((rc = vr_json_str(obj, name, required, 1, 64, &s, errs)) <= 0)
		return rc;
	for (i = 0; allowed[i] != NULL; i++) {
		if (strcmp(s, allowed[i]) == 0) {
			*out = i;
			return 1;
		}
	}
	len = (size_t)snprintf(msg, sizeof(msg), "debe ser uno de:");
	for (i = 0; allowed[i] != NULL && len < sizeof(msg); i++)
		len += (size_t)snprintf(msg + len, sizeof(msg) - len, "%s %s",
		    i ? "," : "", allowed[i]);
	vr_json_error(errs, name, msg);
	return VR_EINVAL;
}

/*
 * Strict UTF-8 (RFC 3629): no overlong forms, no surrogates, nothing past
 * U+10FFFF, no NUL byte.
 */
int
vr_utf8_valid(const char *str, size_t len)
{
	const unsigned char *s = (const unsigned char *)str;
	const unsigned char *end = s + len;
	unsigned int c;
	int need;

	while (s < end) {
		c = *s++;
		if (c == 0)
			return 0;
		if (c < 0x80)
			continue;
		if (c >= 0xc2 && c <= 0xdf)
			need = 1;
		else if (c >= 0xe0 && c <= 0xef)
			need = 2;
		else if (c >= 0xf0 && c <= 0xf4)
			need = 3;
		else
			return 0;
		if (end - s < need)
			return 0;
		if ((c == 0xe0 && s[0] < 0xa0) || (c == 0xed && s[0] > 0x9f) ||
		    (c == 0xf0 && s[0] < 0x90) || (c == 0xf4 && s[0] > 0x8f))
			return 0;
		while (need-- > 0)
			if ((*s++ & 0xc0) != 0x80)
				return 0;
	}
	return 1;
}

/* A positive decimal id in bigint range, no sign, no leading zero. */
int
vr_parse_id(const char *s, long long *out)
{
	char *end;
	long long v;

	if (s == NULL || *s < '1' || *s > '9' || strlen(s) > 19)
		return VR_EINVAL;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v <= 0)
		return VR_EINVAL;
	*out = v;
	return 0;
}
