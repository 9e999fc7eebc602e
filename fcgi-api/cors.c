/*
 * cors.c - cross-origin requests from web front ends on other origins.
 *
 * The allow-list is configuration (VETRED_CORS_ORIGINS: exact origins,
 * comma-separated, e.g. "https://agenda.vetred.pe,http://localhost:5173";
 * unset: none), read once at start.  A request whose Origin is listed gets
 * Access-Control-Allow-Origin with that origin, Allow-Credentials and
 * Vary: Origin on its answer, whatever the answer is; any other origin
 * gets no CORS header at all, so a browser keeps the answer from the page.
 * A preflight (OPTIONS with Access-Control-Request-Method) is answered by
 * the router, before any route: 204 with the path's methods, the request
 * headers the API reads and a Max-Age for a listed origin; 403 problem+json
 * without CORS headers for any other; 404 for a path that does not exist.
 * There is no wildcard: credentials (the bearer token) and "*" do not mix.
 * This file only decides and formats: http.c writes the headers into
 * every answer, router.c answers the preflight.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "transport.h"

#define CORS_MAX_AGE	"600"
#define CORS_HEADERS	"Authorization, Content-Type, Idempotency-Key, If-Match"
#define CORS_EXPOSE	"Location, ETag, Retry-After, Idempotent-Replayed, " \
			"X-Request-Id, WWW-Authenticate"

/*
 * 1 when s[0..n) is an origin as browsers send it: http or https, a
 * lower-case host (letters, digits, '-', '.'), an optional port, nothing
 * after (no path, no trailing slash).
 */
int
api_cors_origin_valid(const char *s, size_t n)
{
	size_t i, host, port = 0;

	if (n > 7 && memcmp(s, "http://", 7) == 0)
		host = 7;
	else if (n > 8 && memcmp(s, "https://", 8) == 0)
		host = 8;
	else
		return 0;
	if (n > 255)
		return 0;
	for (i = host; i < n && s[i] != ':'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' &&
		    s[i] <= '9') || s[i] == '-' || s[i] == '.'))
			return 0;
	if (i == host || s[host] == '.' || s[i - 1] == '.')
		return 0;
	if (i < n) {
		for (i++; i < n; i++, port++)
			if (s[i] < '0' || s[i] > '9')
				return 0;
		if (port == 0 || port > 5)
			return 0;
	}
	return 1;
}

/*
 * Parse VETRED_CORS_ORIGINS into sh->cors (owned by sh, freed by
 * api_cors_free).  0, or -1 with err set for a malformed entry.
 */
int
api_cors_init(struct api_shared *sh, char *err, size_t errlen)
{
	const char *list = sh->api->cors_origins, *p, *e;
	size_t n;

	sh->cors = NULL;
	sh->ncors = 0;
	for (p = list; *p != '\0'; p = *e ? e + 1 : e) {
		e = p + strcspn(p, ",");
		while (p < e && *p == ' ')
			p++;
		n = (size_t)(e - p);
		while (n > 0 && p[n - 1] == ' ')
			n--;
		if (n == 0)
			continue;
		if (!api_cors_origin_valid(p, n)) {
			snprintf(err, errlen, "VETRED_CORS_ORIGINS: \"%.*s\" is "
			    "not an origin (scheme://host[:port], lower case, "
			    "no path)", (int)(n > 80 ? 80 : n), p);
			api_cors_free(sh);
			return -1;
		}
		sh->cors = vr_xrealloc(sh->cors, (size_t)(sh->ncors + 1) *
		    sizeof(*sh->cors));
		sh->cors[sh->ncors] = vr_xmalloc(n + 1);
		memcpy(sh->cors[sh->ncors], p, n);
		sh->cors[sh->ncors++][n] = '\0';
	}
	return 0;
}

void
api_cors_free(struct api_shared *sh)
{
	int i;

	for (i = 0; i < sh->ncors; i++)
		free(sh->cors[i]);
	free(sh->cors);
	sh->cors = NULL;
	sh->ncors = 0;
}

/* The request's Origin when it is on the allow-list, else NULL. */
const char *
api_cors_origin(const struct api_shared *sh, const char *origin)
{
	int i;

	for (i = 0; origin != NULL && i < sh->ncors; i++)
		if (strcmp(sh->cors[i], origin) == 0)
			return sh->cors[i];
	return NULL;
}

/* The headers every answer to a listed origin carries. */
void
api_cors_headers(const struct api_req *r, struct vr_buf *b)
{
	if (r->cors_origin == NULL)
		return;
	vr_buf_printf(b, "Access-Control-Allow-Origin: %s\r\n"
	    "Access-Control-Allow-Credentials: true\r\n"
	    "Access-Control-Expose-Headers: " CORS_EXPOSE "\r\n"
	    "Vary: Origin\r\n", r->cors_origin);
}

/*
 * The headers of the 204 to a preflight from a listed origin, into out;
 * allow: the methods of the path.
 */
void
api_cors_preflight_headers(const char *allow, char *out, size_t n)
{
	snprintf(out, n, "Access-Control-Allow-Methods: %s\r\n"
	    "Access-Control-Allow-Headers: " CORS_HEADERS "\r\n"
	    "Access-Control-Max-Age: " CORS_MAX_AGE "\r\n", allow);
}
