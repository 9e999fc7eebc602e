/*
 * calendarios.c - iCalendar subscriptions: a secret URL per feed (a
 * vet's own agenda, or a site's), listed, rotated and revoked.  The
 * token (32 random bytes, base64url) is answered once; the database
 * keeps its SHA-256, which names the file nginx serves
 * (/ical/<token>.ics, written by the calendar worker).  Layer: resources.
 */
#include <string.h>

#include <openssl/rand.h>

#include "authz.h"
#include "params.h"
#include "problem.h"
#include "resources.h"
#include "sql.h"
#include "transport.h"

#define TOKEN_BYTES	32
#define TOKEN_CHARS	43	/* base64url of 32 bytes, unpadded */
#define ID_MAX		9007199254740991LL

static const char *const known[] = { "veterinario_id", "sede_id", NULL };

/*
 * The host the client used (nginx passes it without its port) and the
 * port it reached, unless the scheme's own; localhost when the name does
 * not look like one.
 */
static const char *
host_of(struct api_req *r, int https)
{
	const char *h = api_header(r, "HTTP_HOST"),
	    *port = api_header(r, "SERVER_PORT");
	size_t i, n;

	if (h == NULL || (n = strlen(h)) == 0 || n > 255)
		h = "localhost";
	for (i = 0; h[i] != '\0'; i++)
		if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
		    "0123456789.-[]", h[i])) {
			h = "localhost";
			break;
		}
	if (port == NULL || port[0] == '\0' ||
	    strspn(port, "0123456789") != strlen(port) ||
	    strlen(port) > 5 || strcmp(port, https ? "443" : "80") == 0)
		return h;
	return vr_arena_printf(r->arena, "%s:%s", h, port);
}

/* A new token into a: its hash, and the URL it is answered in. */
static int
token_args(struct api_req *r, struct api_args *a)
{
	unsigned char raw[TOKEN_BYTES];
	char tok[TOKEN_CHARS + 1], hex[65];
	const char *https = api_header(r, "HTTPS");
	int tls = https != NULL && strcmp(https, "on") == 0;

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	vr_b64url_encode(raw, sizeof(raw), tok);
	tok[TOKEN_CHARS] = '\0';
	vr_sha256_hex(tok, TOKEN_CHARS, hex);
	api_arg_text(a, "hash", vr_arena_printf(r->arena, "\\x%s", hex));
	api_arg_text(a, "url", vr_arena_printf(r->arena, "%s://%s/ical/%s.ics",
	    tls ? "https" : "http", host_of(r, tls), tok));
	return 0;
}

static void
internal_error(struct api_req *r)
{
	api_problem(r, 500, "error-interno", "Error interno",
	    "Ocurrió un error inesperado.", NULL);
}

/*
 * POST /api/v1/calendarios {veterinario_id | sede_id} - permission
 * calendarios.usar.  A vet's feed is for that vet's own user (or a
 * network-wide grant); a site's for a reader at that site.  201
 * {id, tipo, veterinario_id, sede_id, creado_en, url} (url: the only
 * time the token is shown); 400; 403; 404 unknown vet or site; 422
 * neither or both members.
 */
void
api_calendario_emitir(struct api_req *r)
{
	cJSON *errs = api_errors(r);
	struct api_args a;
	long long vet = 0, sede = 0;
	int hv, hs;

	api_unknown_members(r->json, known, errs);
	hv = vr_json_int(r->json, "veterinario_id", 0, 1, ID_MAX, &vet, errs);
	hs = vr_json_int(r->json, "sede_id", 0, 1, ID_MAX, &sede, errs);
	if (hv == 0 && hs == 0)
		vr_json_error(errs, "veterinario_id", "indique veterinario_id o "
		    "sede_id");
	else if (hv > 0 && hs > 0)
		vr_json_error(errs, "sede_id", "un calendario es de un "
		    "veterinario o de una sede, no de ambos");
	if (api_fields_or_422(r, errs) < 0)
		return;
	api_args_init(&a, STMT_CALENDARIO_EMITIR);
	if (vet > 0)
		api_arg_int(&a, "veterinario", vet);
	if (sede > 0)
		api_arg_int(&a, "sede", sede);
	if (token_args(r, &a) < 0) {
		internal_error(r);
		return;
	}
	api_arg_text(&a, "sedes", api_sedes_permitidas(r));
	api_args_who(&a, r, sede);
	api_run_function(r, &a, 1, NULL);
}

/*
 * POST /api/v1/calendarios/{id}/rotacion - permission calendarios.usar,
 * for one's own subscription (a network-wide grant: any).  201 the new
 * one, same feed; the old URL stops working.  400; 404.
 */
void
api_calendario_rotar(struct api_req *r)
{
	struct api_args a;
	long long id;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_CALENDARIO_EMITIR);
	api_arg_int(&a, "reemplaza", id);
	if (token_args(r, &a) < 0) {
		internal_error(r);
		return;
	}
	api_arg_text(&a, "sedes", api_sedes_permitidas(r));
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, NULL);
}

/*
 * GET /api/v1/calendarios - permission calendarios.usar.  200
 * {elementos: [Calendario], siguiente_cursor: null}: the caller's live
 * subscriptions (never their tokens).
 */
void
api_calendarios_list(struct api_req *r)
{
	struct api_args a;

	api_args_init(&a, STMT_CALENDARIOS_LIST);
	api_arg_int(&a, "usuario", r->auth.who.uid);
	api_run_json(r, &a, NULL);
}

/*
 * DELETE /api/v1/calendarios/{id} - permission calendarios.usar, for
 * one's own (a network-wide grant: any).  204; 400; 404.
 */
void
api_calendario_revocar(struct api_req *r)
{
	struct api_args a;
	long long id;

	if (api_id_or_400(r, 0, &id) < 0)
		return;
	api_args_init(&a, STMT_CALENDARIO_REVOCAR);
	api_arg_int(&a, "id", id);
	api_arg_bool(&a, "red", api_allowed_everywhere(r));
	api_args_who(&a, r, 0);
	api_run_function(r, &a, 1, NULL);
}
