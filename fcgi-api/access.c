/*
 * access.c - who is asking and what they may do.
 *
 * Every route of the table names the permission it needs (NULL: public).
 * The router authenticates the bearer token before any handler runs
 * (401), then refuses a user none of whose roles grants that permission
 * at any site (403).  Handlers then check the site of the row or of the
 * request with api_sede_or_403(): a role held at one site says nothing
 * about another, while a grant with no site (admin_red, a network-wide
 * auditor) covers them all.
 *
 * Revocation: a password change, a disabled account or a change of roles
 * starts a new generation of the user's tokens (usuarios.
 * sesiones_generacion); tokens carry the generation they were issued in
 * ("gen") and those of an older one are refused, whatever the clocks say.
 * A logout or a refresh token used twice ends one session: tokens naming
 * it ("sid") are refused.  A thread per process reads the revocations of
 * the last token lifetime every second, so a revocation takes effect
 * within about a second, without a query per request.
 *
 * Layer: authz, called by the router and the handlers; it answers its
 * 401 and 403 through the transport and reads the lists' parameters
 * through the input layer.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "authz.h"
#include "params.h"
#include "sql.h"
#include "transport.h"

#define R(x)		(1u << (x))
#define TODOS		(R(ROL_ADMIN_RED) | R(ROL_ADMIN_SEDE) | \
			 R(ROL_VETERINARIO) | R(ROL_RECEPCION) | \
			 R(ROL_FARMACIA) | R(ROL_AUDITOR))
#define CLINICA		(R(ROL_ADMIN_RED) | R(ROL_ADMIN_SEDE) | \
			 R(ROL_VETERINARIO) | R(ROL_RECEPCION))
#define CHALLENGE	"WWW-Authenticate: Bearer realm=\"vetred\"\r\n"
#define BAD_TOKEN	"WWW-Authenticate: Bearer realm=\"vetred\", " \
			"error=\"invalid_token\"\r\n"

const char *const api_rol_names[ROL__N] = {
	[ROL_ADMIN_RED] = "admin_red",
	[ROL_ADMIN_SEDE] = "admin_sede",
	[ROL_VETERINARIO] = "veterinario",
	[ROL_RECEPCION] = "recepcion",
	[ROL_FARMACIA] = "farmacia",
	[ROL_AUDITOR] = "auditor",
};

/* Which roles grant each permission (at the sites where they are held). */
static const struct {
	const char	*perm;
	unsigned	 roles;
} perms[] = {
	{ "sedes.leer", TODOS },
	{ "sedes.crear", R(ROL_ADMIN_RED) },
	{ "agenda.leer", CLINICA },
	{ "agenda.gestionar", R(ROL_ADMIN_RED) | R(ROL_ADMIN_SEDE) },
	{ "citas.leer", CLINICA },
	{ "citas.reservar", CLINICA },
	{ "citas.modificar", CLINICA },
	{ "citas.cancelar", CLINICA },
	{ "pacientes.registrar", CLINICA },
	{ "pacientes.leer", CLINICA },
	{ "pacientes.modificar", CLINICA },
	{ "propietarios.leer", CLINICA },
	{ "propietarios.modificar", CLINICA },
	{ "propietarios.fusionar", R(ROL_ADMIN_RED) | R(ROL_ADMIN_SEDE) },
	{ "historia.leer", R(ROL_ADMIN_RED) | R(ROL_ADMIN_SEDE) |
	    R(ROL_VETERINARIO) },
	{ "historia.escribir", R(ROL_ADMIN_RED) | R(ROL_ADMIN_SEDE) |
	    R(ROL_VETERINARIO) },
	{ "diagnosticos.gestionar", R(ROL_ADMIN_RED) },
	{ "feriados.gestionar", R(ROL_ADMIN_RED) },
	{ "tipos_cita.gestionar", R(ROL_ADMIN_RED) },
	{ "calendarios.usar", CLINICA },
	{ "usuarios.leer", R(ROL_ADMIN_RED) | R(ROL_ADMIN_SEDE) },
	{ "auditoria.leer", R(ROL_ADMIN_RED) | R(ROL_AUDITOR) },
	{ "usuarios.crear", R(ROL_ADMIN_RED) | R(ROL_ADMIN_SEDE) },
	{ "usuarios.modificar", R(ROL_ADMIN_RED) | R(ROL_ADMIN_SEDE) },
	{ "trabajos.leer", R(ROL_ADMIN_RED) },
	{ "trabajos.modificar", R(ROL_ADMIN_RED) },
	{ "trabajos.ejecutar", R(ROL_ADMIN_RED) },
	{ "eventos.leer", R(ROL_ADMIN_RED) },
	{ "eventos.reenviar", R(ROL_ADMIN_RED) },
};

/* The roles granting perm; 0 for a permission nobody holds (or unknown). */
unsigned
api_perm_roles(const char *perm)
{
	size_t i;

	for (i = 0; i < sizeof(perms) / sizeof(perms[0]); i++)
		if (strcmp(perms[i].perm, perm) == 0)
			return perms[i].roles;
	return 0;
}

int
api_rol_parse(const char *name)
{
	int i;

	for (i = 0; i < ROL__N; i++)
		if (strcmp(api_rol_names[i], name) == 0)
			return i;
	return -1;
}

/* ---- revocation ------------------------------------------------------- */

static int
sid_cmp(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* 1 when the token of a was revoked: an older generation, or its session. */
static int
revoked(struct api_shared *sh, const struct vr_auth *a)
{
	int i, r = 0;

	pthread_rwlock_rdlock(&sh->rev_lock);
	for (i = 0; i < sh->rev_n; i++)
		if (sh->rev[i].uid == a->uid) {
			r = a->gen < sh->rev[i].gen;
			break;
		}
	if (!r && a->sid[0] != '\0' && sh->rev_sid_n > 0)
		r = bsearch(a->sid, sh->rev_sid, (size_t)sh->rev_sid_n,
		    sizeof(*sh->rev_sid), sid_cmp) != NULL;
	pthread_rwlock_unlock(&sh->rev_lock);
	return r;
}

/* The sessions revoked within secs seconds, sorted; -1 on error. */
static int
revoked_sessions(struct vr_db *db, int secs, char (**out)[VR_SID_LEN + 1])
{
	struct api_args a;
	PGresult *res = NULL;
	char (*list)[VR_SID_LEN + 1];
	int i, n, rc;

	*out = NULL;
	api_args_init(&a, STMT_SESIONES_REVOCADAS);
	api_arg_int(&a, "segundos", secs);
	if ((rc = api_args_run(db, &a, 0, &res)) < 0)
		return rc;
	n = PQntuples(res);
	list = n ? vr_xcalloc((size_t)n, sizeof(*list)) : NULL;
	for (i = 0; i < n; i++)
		snprintf(list[i], sizeof(list[i]), "%s", PQgetvalue(res, i, 0));
	PQclear(res);
	if (n > 1)
		qsort(list, (size_t)n, sizeof(*list), sid_cmp);
	*out = list;
	return n;
}

/* Reload the users and sessions cut within a token's lifetime. */
int
api_revocations_load(struct api_shared *sh, struct vr_db *db)
{
	int secs = sh->api->access_ttl + 120;
	struct api_args a;
	PGresult *res = NULL;
	struct api_revocation *list;
	char (*sids)[VR_SID_LEN + 1];
	int i, n, nsid, rc;

	api_args_init(&a, STMT_REVOCADOS);
	api_arg_int(&a, "segundos", secs);
	if ((rc = api_args_run(db, &a, 0, &res)) < 0)
		return rc;
	n = PQntuples(res);
	list = n ? vr_xcalloc((size_t)n, sizeof(*list)) : NULL;
	for (i = 0; i < n; i++) {
		list[i].uid = atoll(PQgetvalue(res, i, 0));
		list[i].gen = atoll(PQgetvalue(res, i, 1));
	}
	PQclear(res);
	if ((nsid = revoked_sessions(db, secs, &sids)) < 0) {
		free(list);
		return nsid;
	}
	pthread_rwlock_wrlock(&sh->rev_lock);
	free(sh->rev);
	sh->rev = list;
	sh->rev_n = n;
	free(sh->rev_sid);
	sh->rev_sid = sids;
	sh->rev_sid_n = nsid;
	pthread_rwlock_unlock(&sh->rev_lock);
	return 0;
}

/* ---- authentication --------------------------------------------------- */

static void
unauthenticated(struct api_req *r, const char *slug, const char *detail,
    const char *hdr)
{
	api_problem_hdr(r, 401, slug, "No autenticado", detail, NULL, hdr);
}

/* The memo of a token this thread verified and that has not expired. */
static const struct api_token_memo *
memo_find(struct api_ctx *ctx, const char *tok, size_t n, long long now)
{
	int i;

	for (i = 0; i < API_TOKEN_MEMO; i++)
		if (ctx->memo[i].tok != NULL && ctx->memo[i].len == n &&
		    ctx->memo[i].auth.exp > now &&
		    memcmp(ctx->memo[i].tok, tok, n) == 0)
			return &ctx->memo[i];
	return NULL;
}

static void
memo_add(struct api_ctx *ctx, const char *tok, size_t n,
    const struct vr_auth *a)
{
	struct api_token_memo *m = &ctx->memo[ctx->memo_next];

	ctx->memo_next = (ctx->memo_next + 1) % API_TOKEN_MEMO;
	free(m->tok);
	m->tok = vr_xmalloc(n);
	memcpy(m->tok, tok, n);
	m->len = n;
	m->auth = *a;
}

void
api_auth_forget(struct api_ctx *ctx)
{
	int i;

	for (i = 0; i < API_TOKEN_MEMO; i++) {
		free(ctx->memo[i].tok);
		ctx->memo[i].tok = NULL;
	}
}

/* 0 with r->auth filled, or -1 with the 401 answered. */
int
api_authenticate(struct api_req *r)
{
	struct api_shared *sh = r->ctx->shared;
	const char *h = api_header(r, "HTTP_AUTHORIZATION");
	const struct api_token_memo *m;
	long long now = (long long)time(NULL);
	size_t n;
	int v;

	if (h == NULL || *h == '\0') {
		unauthenticated(r, "no-autenticado", "Inicie sesión y envíe "
		    "el token de acceso (Authorization: Bearer …).", CHALLENGE);
		return -1;
	}
	if (strncasecmp(h, "Bearer ", 7) != 0) {
		unauthenticated(r, "no-autenticado", "Use el esquema Bearer "
		    "(Authorization: Bearer …).", CHALLENGE);
		return -1;
	}
	for (h += 7; *h == ' '; h++)
		;
	n = strlen(h);
	if ((m = memo_find(r->ctx, h, n, now)) != NULL) {
		r->auth.who = m->auth;
		goto verified;
	}
	v = vr_auth_verify(&sh->keys, sh->cfg->jwt_issuer,
	    sh->cfg->jwt_audience, api_rol_names, ROL__N, h, now,
	    &r->auth.who);
	if (v != VR_JWT_OK) {
		vr_log(VR_LOG_INFO, r->request_id, "token refused", "reason",
		    vr_jwt_reason(v), NULL);
		unauthenticated(r, "token-invalido", v == VR_JWT_EXPIRED ?
		    "El token de acceso venció; renuévelo." :
		    "El token de acceso no es válido.", BAD_TOKEN);
		return -1;
	}
	memo_add(r->ctx, h, n, &r->auth.who);
verified:
	if (revoked(sh, &r->auth.who)) {
		unauthenticated(r, "token-invalido", "La sesión fue cerrada "
		    "(cierre de sesión, cambio de contraseña o de roles, o "
		    "usuario inactivo); inicie sesión de nuevo.", BAD_TOKEN);
		return -1;
	}
	r->auth.ok = 1;
	return 0;
}

/* ---- authorization ---------------------------------------------------- */

/*
 * The grant that allows the route's permission at sede (0: at some site),
 * or NULL.  A network-wide grant is preferred, then the first listed.
 */
static const struct vr_grant *
grant_of(const struct api_req *r, unsigned roles, long long sede)
{
	const struct vr_grant *best = NULL;
	int i;

	for (i = 0; i < r->auth.who.n; i++) {
		if (!(roles & R(r->auth.who.g[i].rol)))
			continue;
		if (r->auth.who.g[i].sede == 0)
			return &r->auth.who.g[i];
		if (best == NULL && (sede == 0 ||
		    r->auth.who.g[i].sede == sede))
			best = &r->auth.who.g[i];
	}
	return best;
}

static const struct vr_grant *
grant_for(const struct api_req *r, long long sede)
{
	return grant_of(r, r->route && r->route->perm ?
	    api_perm_roles(r->route->perm) : 0, sede);
}

int
api_allowed(const struct api_req *r, long long sede)
{
	return grant_for(r, sede) != NULL;
}

/* 1 when a role of the caller grants perm (not the route's) at sede. */
int
api_allowed_perm(const struct api_req *r, const char *perm, long long sede)
{
	return grant_of(r, api_perm_roles(perm), sede) != NULL;
}

/* 1 when a network-wide grant allows the route everywhere. */
int
api_allowed_everywhere(const struct api_req *r)
{
	const struct vr_grant *g = grant_for(r, 0);

	return g != NULL && g->sede == 0;
}

/* Name of the role acting at sede, for the audit trail; NULL if none. */
const char *
api_acting_role(const struct api_req *r, long long sede)
{
	const struct vr_grant *g = grant_for(r, sede);

	return g ? api_rol_names[g->rol] : NULL;
}

/*
 * The "who" of a statement (sql.h), set in this one place: the user, the
 * role acting at sede (0: at some site), the request id and the address.
 */
void
api_args_who(struct api_args *a, struct api_req *r, long long sede)
{
	if (r->auth.ok)
		api_arg_int(a, "usuario", r->auth.who.uid);
	api_arg_text(a, "rol", api_acting_role(r, sede));
	api_arg_text(a, "request_id", r->request_id);
	api_arg_text(a, "ip", *r->remote_addr ? r->remote_addr : NULL);
}

void
api_forbidden(struct api_req *r, const char *detail)
{
	api_problem(r, 403, "prohibido", "Prohibido", detail, NULL);
}

int
api_sede_or_403(struct api_req *r, long long sede)
{
	r->sede = sede;		/* for the request's log line */
	if (api_allowed(r, sede))
		return 0;
	api_forbidden(r, "Su rol no permite esta operación en esa sede.");
	return -1;
}

/*
 * The query of a list, with sede the validated sede_id parameter (0:
 * none): a user whose roles do not cover every site must name one (400
 * with the other parameter errors), and one where a role grants the
 * route's permission (403).  0, or -1 with the answer sent.
 */
int
api_list_params_or_4xx(struct api_req *r, long long sede, cJSON *errs)
{
	if (sede == 0 && !api_allowed_everywhere(r))
		vr_json_error(errs, "sede_id", "es obligatorio: su rol no "
		    "abarca todas las sedes");
	if (api_params_or_400(r, errs) < 0)
		return -1;
	return sede != 0 ? api_sede_or_403(r, sede) : 0;
}

/*
 * The sites where the caller's roles grant the route's permission, as a
 * PostgreSQL array literal ("{1,3}"), or NULL when a network-wide grant
 * covers every site.
 */
const char *
api_sedes_permitidas(struct api_req *r)
{
	struct vr_buf b;
	const char *out;
	int i;

	if (api_allowed_everywhere(r))
		return NULL;
	vr_buf_init(&b);
	vr_buf_puts(&b, "{");
	for (i = 0; i < r->auth.who.n; i++)
		if (r->auth.who.g[i].sede != 0 &&
		    api_allowed(r, r->auth.who.g[i].sede))
			vr_buf_printf(&b, "%s%lld", b.len > 1 ? "," : "",
			    r->auth.who.g[i].sede);
	vr_buf_puts(&b, "}");
	out = vr_arena_strndup(r->arena, b.data, b.len);
	vr_buf_free(&b);
	return out;
}
