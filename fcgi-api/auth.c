/*
 * auth.c - sign-in, token refresh and logout.
 *
 * POST /api/v1/auth/login    {email, password} -> access + refresh token
 * POST /api/v1/auth/refresh  {refresh_token}   -> a new pair (rotation)
 * POST /api/v1/auth/logout   {refresh_token}   -> 204, the family revoked
 *
 * Failures answer one 401 whatever went wrong (unknown e-mail, wrong
 * password, disabled account), and an unknown e-mail costs the same
 * Argon2id verification as a known one, against a hash made at start, so
 * neither the answer nor its timing tells which accounts exist.  Too many
 * failures (login_espera()) answer 429 with Retry-After before any
 * password is checked.  Layer: resources.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <openssl/rand.h>

#include "params.h"
#include "problem.h"
#include "resources.h"
#include "sql.h"
#include "transport.h"

#define TOKEN_BYTES	32
#define TOKEN_CHARS	(VR_B64URL_LEN(TOKEN_BYTES) - 1)	/* 43 */
#define NO_STORE	"Cache-Control: no-store\r\nPragma: no-cache\r\n"
#define CHALLENGE	"WWW-Authenticate: Bearer realm=\"vetred\"\r\n"

/* A random opaque token and the "\x<hex>" bytea text of its SHA-256. */
static int
new_token(struct api_req *r, char tok[TOKEN_CHARS + 1], const char **hash)
{
	unsigned char raw[TOKEN_BYTES];
	char hex[65];

	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	vr_b64url_encode(raw, sizeof(raw), tok);
	vr_sha256_hex(tok, TOKEN_CHARS, hex);
	*hash = vr_arena_printf(r->arena, "\\x%s", hex);
	return 0;
}

static const char *
token_hash(struct api_req *r, const char *tok)
{
	char hex[65];

	vr_sha256_hex(tok, strlen(tok), hex);
	return vr_arena_printf(r->arena, "\\x%s", hex);
}

static const char *
client_ip(struct api_req *r)
{
	return *r->remote_addr ? r->remote_addr : "0.0.0.0";
}

static const char *
user_agent(struct api_req *r)
{
	return api_header(r, "HTTP_USER_AGENT");
}

static void
unauthorized(struct api_req *r, const char *slug, const char *detail)
{
	api_problem_hdr(r, 401, slug, "No autorizado", detail, NULL,
	    CHALLENGE);
}

/* 1 when s looks like a token we issue (43 base64url characters). */
static int
token_shaped(const char *s)
{
	return strlen(s) == TOKEN_CHARS && strspn(s,
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == TOKEN_CHARS;
}

/*
 * Answer 200 with a new access token for usuario (usuario_resumen() JSON
 * text with the session and the user's token generation, which go into
 * the token and not into the answer) and the refresh token already
 * stored.
 */
static void
issue(struct api_req *r, const char *usuario_text, const char *refresh)
{
	const struct vr_config *cfg = r->ctx->shared->cfg;
	const struct api_config *api = r->ctx->shared->api;
	unsigned char jti_raw[16];
	char jti[VR_B64URL_LEN(16)];
	cJSON *u, *claims, *out, *roles;
	const cJSON *id, *sesion, *gen;
	char *access;
	long long now = (long long)time(NULL);

	u = api_own_json(r, cJSON_Parse(usuario_text));
	id = cJSON_GetObjectItemCaseSensitive(u, "id");
	sesion = cJSON_GetObjectItemCaseSensitive(u, "sesion");
	gen = cJSON_GetObjectItemCaseSensitive(u, "generacion");
	if (!cJSON_IsNumber(id) || !cJSON_IsString(sesion) ||
	    !cJSON_IsNumber(gen) || RAND_bytes(jti_raw, sizeof(jti_raw)) != 1) {
		api_problem(r, 500, "error-interno", "Error interno",
		    "No se pudo emitir la sesión.", NULL);
		return;
	}
	vr_b64url_encode(jti_raw, sizeof(jti_raw), jti);
	claims = api_own_json(r, cJSON_CreateObject());
	cJSON_AddStringToObject(claims, "iss", cfg->jwt_issuer);
	cJSON_AddStringToObject(claims, "aud", cfg->jwt_audience);
	cJSON_AddStringToObject(claims, "sub",
	    api_lltoa(r, (long long)id->valuedouble));
	cJSON_AddNumberToObject(claims, "iat", (double)now);
	cJSON_AddNumberToObject(claims, "exp", (double)(now + api->access_ttl));
	cJSON_AddStringToObject(claims, "jti", jti);
	/* What revocation is checked against (access.c). */
	cJSON_AddStringToObject(claims, "sid", sesion->valuestring);
	cJSON_AddNumberToObject(claims, "gen", gen->valuedouble);
	roles = cJSON_Duplicate(cJSON_GetObjectItemCaseSensitive(u, "roles"), 1);
	cJSON_AddItemToObject(claims, "roles",
	    roles ? roles : cJSON_CreateArray());
	access = api_own_text(r, vr_jwt_sign(&r->ctx->shared->keys.sign, claims));
	cJSON_DeleteItemFromObjectCaseSensitive(u, "sesion");
	cJSON_DeleteItemFromObjectCaseSensitive(u, "generacion");
	cJSON_DeleteItemFromObjectCaseSensitive(u, "validas_desde");
	if (access == NULL) {
		api_problem(r, 500, "error-interno", "Error interno",
		    "No se pudo emitir la sesión.", NULL);
		return;
	}
	out = cJSON_CreateObject();
	cJSON_AddStringToObject(out, "access_token", access);
	cJSON_AddStringToObject(out, "token_type", "Bearer");
	cJSON_AddNumberToObject(out, "expires_in", api->access_ttl);
	cJSON_AddStringToObject(out, "refresh_token", refresh);
	cJSON_AddNumberToObject(out, "refresh_expires_in",
	    (double)api->refresh_days * 86400);
	/* u is the request's already: referred to, not moved. */
	cJSON_AddItemReferenceToObject(out, "usuario", u);
	api_json(r, 200, out, NO_STORE);
}

/*
 * One text result of a write statement (the request's), or the problem
 * answered.
 */
static PGresult *
write_one(struct api_req *r, const struct api_args *a)
{
	PGresult *res = NULL;
	int rc;

	if ((rc = api_exec(r, a, 1, &res)) < 0) {
		api_db_problem(r, rc);
		return NULL;
	}
	return res;
}

void
api_auth_login(struct api_req *r)
{
	struct api_shared *sh = r->ctx->shared;
	cJSON *errs = api_errors(r);
	const char *email = NULL, *pw = NULL, *hash = NULL, *rehash;
	const char *stored = NULL;
	char tok[TOKEN_CHARS + 1], hdr[64], newhash[VR_PASSWORD_HASH_LEN];
	struct api_args a;
	PGresult *res = NULL, *w;
	long long uid = 0, gen = 0;
	int rc, ok, wait;

	vr_json_str(r->json, "email", 1, 1, 254, &email, errs);
	vr_json_str(r->json, "password", 1, 1, 1024, &pw, errs);
	if (api_fields_or_422(r, errs) < 0)
		return;

	api_args_init(&a, STMT_LOGIN_ESPERA);
	api_arg_text(&a, "email", email);
	api_arg_text(&a, "ip", client_ip(r));
	if ((rc = api_exec(r, &a, 0, &res)) < 0) {
		api_db_problem(r, rc);
		return;
	}
	wait = atoi(PQgetvalue(res, 0, 0));
	if (wait > 0) {
		snprintf(hdr, sizeof(hdr), "Retry-After: %d\r\n", wait);
		api_problem_hdr(r, 429, "demasiados-intentos",
		    "Demasiados intentos", "Demasiados intentos fallidos; "
		    "espere antes de volver a intentar.", NULL, hdr);
		return;
	}

	api_args_init(&a, STMT_USUARIO_CLAVE);
	api_arg_text(&a, "email", email);
	if ((rc = api_exec(r, &a, 0, &res)) < 0) {
		api_db_problem(r, rc);
		return;
	}
	if (PQntuples(res) == 1) {
		uid = atoll(PQgetvalue(res, 0, 0));
		gen = atoll(PQgetvalue(res, 0, 3));
		if (!PQgetisnull(res, 0, 1) && *PQgetvalue(res, 0, 2) == 't')
			stored = PQgetvalue(res, 0, 1);
	}
	/* Same work whether or not the account exists or may sign in. */
	ok = vr_password_verify(pw, stored ? stored : sh->dummy_hash) == VR_OK &&
	    stored != NULL;
	if (!ok) {
		api_args_init(&a, STMT_LOGIN_FALLIDO);
		api_arg_text(&a, "email", email);
		api_arg_text(&a, "ip", client_ip(r));
		if (uid != 0)
			api_arg_int(&a, "usuario", uid);
		api_arg_text(&a, "request_id", r->request_id);
		if (write_one(r, &a) == NULL)
			return;
		unauthorized(r, "credenciales-invalidas",
		    "Correo o contraseña incorrectos.");
		return;
	}

	rehash = NULL;
	if (vr_password_needs_rehash(stored, &sh->api->pw.kdf) &&
	    vr_password_hash(pw, &sh->api->pw.kdf, newhash, sizeof(newhash)) ==
	    VR_OK)
		rehash = newhash;
	if (new_token(r, tok, &hash) < 0) {
		api_problem(r, 500, "error-interno", "Error interno",
		    "No se pudo emitir la sesión.", NULL);
		return;
	}
	api_args_init(&a, STMT_SESION_INICIAR);
	api_arg_int(&a, "usuario", uid);
	api_arg_text(&a, "email", email);
	api_arg_text(&a, "hash", hash);
	api_arg_int(&a, "dias", sh->api->refresh_days);
	api_arg_text(&a, "ip", client_ip(r));
	api_arg_text(&a, "agente", user_agent(r));
	api_arg_text(&a, "rehash", rehash);
	api_arg_text(&a, "request_id", r->request_id);
	api_arg_int(&a, "generacion", gen);
	if ((w = write_one(r, &a)) == NULL)
		return;
	/* NULL: revoked or disabled since the password was checked. */
	if (PQgetisnull(w, 0, 0))
		unauthorized(r, "credenciales-invalidas",
		    "Correo o contraseña incorrectos.");
	else
		issue(r, PQgetvalue(w, 0, 0), tok);
}

/* The refresh_token of the body: 0, or -1 with the answer sent. */
static int
refresh_in(struct api_req *r, const char **tok)
{
	cJSON *errs = api_errors(r);

	vr_json_str(r->json, "refresh_token", 1, 1, 512, tok, errs);
	return api_fields_or_422(r, errs);
}

void
api_auth_refresh(struct api_req *r)
{
	const struct api_config *api = r->ctx->shared->api;
	const char *old, *hash;
	char tok[TOKEN_CHARS + 1];
	struct api_args a;
	cJSON *v;
	PGresult *w;

	if (refresh_in(r, &old) < 0)
		return;
	if (!token_shaped(old)) {
		unauthorized(r, "sesion-invalida",
		    "La sesión no es válida; inicie sesión de nuevo.");
		return;
	}
	if (new_token(r, tok, &hash) < 0) {
		api_problem(r, 500, "error-interno", "Error interno",
		    "No se pudo emitir la sesión.", NULL);
		return;
	}
	api_args_init(&a, STMT_SESION_REFRESCAR);
	api_arg_text(&a, "hash", token_hash(r, old));
	api_arg_text(&a, "nuevo_hash", hash);
	api_arg_int(&a, "dias", api->refresh_days);
	api_arg_text(&a, "ip", client_ip(r));
	api_arg_text(&a, "agente", user_agent(r));
	api_arg_text(&a, "request_id", r->request_id);
	if ((w = write_one(r, &a)) == NULL)
		return;
	v = api_own_json(r, cJSON_Parse(PQgetvalue(w, 0, 0)));
	if (api_verdict_is(v, "hecho")) {
		const char *u = api_print(r,
		    cJSON_GetObjectItemCaseSensitive(v, "usuario"));

		if (u != NULL)
			issue(r, u, tok);
		else
			api_problem(r, 500, "error-interno", "Error interno",
			    "No se pudo emitir la sesión.", NULL);
	} else
		unauthorized(r, "sesion-invalida",
		    "La sesión no es válida; inicie sesión de nuevo.");
}

void
api_auth_logout(struct api_req *r)
{
	struct api_args a;
	const char *tok;

	if (refresh_in(r, &tok) < 0)
		return;
	if (token_shaped(tok)) {
		api_args_init(&a, STMT_SESION_CERRAR);
		api_arg_text(&a, "hash", token_hash(r, tok));
		api_arg_text(&a, "ip", client_ip(r));
		api_arg_text(&a, "request_id", r->request_id);
		if (write_one(r, &a) == NULL)
			return;
	}
	api_reply(r, 204, NULL, NULL, 0, NO_STORE);
}

/*
 * Load what sign-in needs: the signing keys, the common-password list and
 * the hash unknown accounts are checked against.  0, or -1 with err set.
 */
int
api_auth_init(struct api_shared *sh, char *err, size_t errlen)
{
	unsigned char raw[24];
	char pw[VR_B64URL_LEN(24)];

	if (vr_keyring_load(&sh->keys, VR_KEYS_ALL, sh->cfg, err, errlen) < 0)
		return -1;
	if (vr_common_passwords_load(sh->api->pw.common_passwords) < 0) {
		snprintf(err, errlen, "cannot read the common-password list "
		    "%s (VETRED_COMMON_PASSWORDS_FILE)",
		    sh->api->pw.common_passwords);
		return -1;
	}
	if (RAND_bytes(raw, sizeof(raw)) != 1)
		return -1;
	vr_b64url_encode(raw, sizeof(raw), pw);
	if (vr_password_hash(pw, &sh->api->pw.kdf, sh->dummy_hash,
	    sizeof(sh->dummy_hash)) < 0) {
		snprintf(err, errlen, "cannot hash with the Argon2id "
		    "parameters of VETRED_ARGON2_*");
		return -1;
	}
	return 0;
}
