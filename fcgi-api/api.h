/*
 * api.h - internals of the FastCGI API, shared by its files only.
 *
 * Request path: main.c accepts (one PostgreSQL connection per thread),
 * http.c reads the request and writes answers, router.c matches the route
 * table (404/405 before any handler), checks size, type and JSON of the
 * body (413/415/400), then calls the handler.  Handlers see validated
 * input and answer through the api_* helpers; an "..._or_4xx" helper that
 * returns < 0 has answered already, so the handler just returns.
 */
#ifndef API_H
#define API_H

#include <stdatomic.h>
#include <pthread.h>

#include <fcgiapp.h>

#include "vr.h"

#define API_MAX_CAPTURES	4

/* Every SQL statement of the API, prepared on each connection (sql.c). */
enum api_stmt {
	STMT_PING,
	STMT_SEDES_LIST,
	STMT_SEDE_GET,
	STMT_SEDE_CREAR,
	STMT_CONSULTORIOS_LIST,
	STMT_TZ_VALID,
	STMT_RESERVAR,
	STMT_CITA_GET,
	STMT_CITA_UPDATE,
	STMT_CITA_CANCEL,
	STMT_CITAS_LIST,
	STMT_VETS_LIST,
	STMT_DISPONIBILIDAD,
	STMT_PACIENTE_REGISTRO,
	STMT_PACIENTE_GET,
	STMT_HISTORIAL,
	STMT_LOGIN_ESPERA,
	STMT_USUARIO_CLAVE,
	STMT_LOGIN_FALLIDO,
	STMT_SESION_INICIAR,
	STMT_SESION_REFRESCAR,
	STMT_SESION_CERRAR,
	STMT_REVOCADOS,
	STMT_SESIONES_REVOCADAS,
	STMT_CITA_SEDE,
	STMT_USUARIOS_LIST,
	STMT_USUARIO_GET,
	STMT_USUARIO_CREAR,
	STMT_USUARIO_PUT,
	STMT_AUDITORIA_LIST,
	STMT_AUDITORIA_ESTADO,
	STMT_AUDITORIA_RETRASO,
	STMT_LIMITES,
	STMT__MAX
};

extern const char *const api_sql[STMT__MAX];

struct api_metrics;
struct api_rate;

/* Roles, as usuario_roles.rol and the tokens name them. */
enum api_rol {
	ROL_ADMIN_RED, ROL_ADMIN_SEDE, ROL_VETERINARIO, ROL_RECEPCION,
	ROL_FARMACIA, ROL_AUDITOR, ROL__N
};
extern const char *const api_rol_names[ROL__N];

#define API_MAX_GRANTS	32

struct api_grant {
	int		 rol;		/* enum api_rol */
	long long	 sede;		/* 0: every site */
};

#define API_SID_LEN	36	/* a session id: the text of a uuid */

/* The authenticated caller, from the access token. */
struct api_auth {
	int		 ok;
	long long	 uid;
	long long	 gen;		/* the user's token generation */
	char		 sid[API_SID_LEN + 1];	/* session; "" if none */
	int		 n;
	struct api_grant g[API_MAX_GRANTS];
};

/*
 * A token verified by this thread, kept until it expires: clients send the
 * same token for 15 minutes, and a string compare is cheaper than the
 * base64, JSON and HMAC work of verifying it again.
 */
#define API_TOKEN_MEMO	8

struct api_token_memo {
	char		*tok;
	size_t		 len;
	long long	 exp;
	struct api_auth	 auth;
};

/* Tokens of uid of a generation below gen are revoked. */
struct api_revocation {
	long long	 uid, gen;
};

/* State shared by the threads of one process; created in main.c. */
struct api_shared {
	const struct vr_config	*cfg;
	struct api_metrics	*metrics;
	pthread_mutex_t		 amqp_lock;	/* guards the two below */
	double			 amqp_checked_at;
	int			 amqp_ok;
	struct vr_jwt_keys	 jwt;		/* k[0] signs */
	char			 dummy_hash[VR_PASSWORD_HASH_LEN];
	struct vr_jwt_keys	 data;		/* column keys; k[0] seals */
	struct vr_jwt_keys	 search;	/* k[0]: the search HMAC key */
	pthread_rwlock_t	 rev_lock;	/* guards the four below */
	struct api_revocation	*rev;
	int			 rev_n;
	char			(*rev_sid)[API_SID_LEN + 1];	/* sorted */
	int			 rev_sid_n;
	struct api_rate		*rate;		/* per-user budgets (limite.c) */
	char			**cors;		/* allowed origins (cors.c) */
	int			 ncors;
};

/* Per-thread context: never shared between threads. */
struct api_ctx {
	struct api_shared	*shared;
	struct vr_db		 db;
	struct vr_arena		 arena;	/* request-scoped, reset per request */
	struct vr_buf		 out;	/* response being assembled */
	int			 id;
	struct api_token_memo	 memo[API_TOKEN_MEMO];
	int			 memo_next;
};

struct api_route;

struct api_req {
	struct api_ctx		*ctx;
	FCGX_Request		*fcgx;
	struct vr_arena		*arena;
	const char		*method;
	const char		*path;	/* raw path, without the query */
	const char		*query;	/* raw query string, may be "" */
	const char		*content_type;
	const char		*request_id;
	const char		*remote_addr;
	const char		*cors_origin;	/* Origin, when allowed */
	long			 content_length;
	char			*body;
	size_t			 body_len;
	cJSON			*json;	/* parsed body: an object, owned here */
	const char		*captures[API_MAX_CAPTURES];
	int			 ncaptures;
	const struct api_route	*route;
	struct api_auth		 auth;		/* set by api_authenticate */
	int			 status;	/* 0 until answered */
	size_t			 bytes;		/* of the body answered */
	long long		 sede;		/* site checked, 0: none (log) */
};

typedef void api_handler(struct api_req *);

struct api_route {
	const char	*method;
	const char	*pattern;	/* "/api/v1/sedes/{id}" */
	api_handler	*fn;
	const char	*perm;		/* permission required; NULL = public */
	int		 body;		/* 1: a JSON object body is required */
};

extern const struct api_route api_routes[];
extern const int api_nroutes;

/* router.c */
void	api_dispatch(struct api_req *r);
int	api_route_match(const char *pattern, const char *path,
	    struct api_req *r);

/* http.c: reading */
void		 api_serve(struct api_ctx *ctx, FCGX_Request *fr);
const char	*api_query(struct api_req *r, const char *name);
char		*api_url_decode(struct vr_arena *a, const char *s, size_t n);
int		 api_read_body(struct api_req *r);

/* http.c: answering */
void	api_reply(struct api_req *r, int status, const char *type,
	    const char *body, size_t len, const char *headers);
void	api_json_text(struct api_req *r, int status, const char *type,
	    const char *text, size_t len, const char *headers);
void	api_json(struct api_req *r, int status, cJSON *obj,
	    const char *headers);
void	api_problem(struct api_req *r, int status, const char *slug,
	    const char *title, const char *detail, cJSON *errors);
cJSON	*api_problem_new(struct api_req *r, int status, const char *slug,
	    const char *title, const char *detail);
void	api_send_problem(struct api_req *r, cJSON *p, const char *headers);
void	api_problem_hdr(struct api_req *r, int status, const char *slug,
	    const char *title, const char *detail, cJSON *errors,
	    const char *headers);
void	api_db_problem(struct api_req *r, int err);
int	api_id_or_400(struct api_req *r, int capture, long long *id);
int	api_idempotency_key_or_400(struct api_req *r, const char **key);
const char *api_reason(int status);

/* cors.c */
int	api_cors_origin_valid(const char *s, size_t n);
int	api_cors_init(struct api_shared *sh, char *err, size_t errlen);
void	api_cors_free(struct api_shared *sh);
const char *api_cors_origin(const struct api_shared *sh, const char *origin);
void	api_cors_headers(const struct api_req *r, struct vr_buf *b);
void	api_cors_preflight_headers(const char *allow, char *out, size_t n);

/* metrics.c */
struct api_metrics	*api_metrics_new(int nroutes);
void			 api_metrics_free(struct api_metrics *m);
void			 api_metrics_observe(struct api_metrics *m, int route,
			    int status, double seconds);
void			 api_metrics_db_error(struct api_metrics *m);
void			 api_metrics_inflight(struct api_metrics *m, int delta);
void			 api_metrics_render(struct api_metrics *m,
			    const char *instance, struct vr_buf *b);

/* monitor.c: the process's own listener (/metrics, /health, /ready) */
struct api_monitor {
	struct api_shared	*sh;
	struct vr_db		 db;	/* used by the listener's thread only */
	struct vr_httpd		*httpd;
};

int	api_monitor_start(struct api_monitor *mon, struct api_shared *sh,
	    char *err, size_t errlen);
void	api_monitor_stop(struct api_monitor *mon);
/* limite.c: the per-user request budget */
struct api_rate	*api_rate_new(char *err, size_t errlen);
void		 api_rate_free(struct api_rate *rl);
int		 api_rate_load(struct api_rate *rl, struct vr_db *db);
int		 api_rate_or_429(struct api_req *r);

/* openapi_doc.c: the document, NUL-terminated at api_openapi_end */
extern const char api_openapi_start[];
extern const char api_openapi_end[];

/* handlers: system.c */
void	api_health(struct api_req *r);
void	api_ready(struct api_req *r);
int	api_broker_ok(struct api_shared *sh);
void	api_openapi_get(struct api_req *r);

int	api_auth_init(struct api_shared *sh, char *err, size_t errlen);
char	*api_unseal_json(struct api_req *r, const char *text);
void	api_auth_login(struct api_req *r);
void	api_auth_refresh(struct api_req *r);
void	api_auth_logout(struct api_req *r);

unsigned	 api_perm_roles(const char *perm);
int		 api_rol_parse(const char *name);
int		 api_authenticate(struct api_req *r);
void		 api_auth_forget(struct api_ctx *ctx);
int		 api_revocations_load(struct api_shared *sh, struct vr_db *db);
int		 api_allowed(const struct api_req *r, long long sede);
int		 api_allowed_perm(const struct api_req *r, const char *perm,
		    long long sede);
int		 api_allowed_everywhere(const struct api_req *r);
const char	*api_acting_role(const struct api_req *r, long long sede);
const char	*api_acting_user(struct api_req *r);
void		 api_forbidden(struct api_req *r, const char *detail);
int		 api_sede_or_403(struct api_req *r, long long sede);
const char	*api_sedes_permitidas(struct api_req *r);
int		 api_list_params_or_4xx(struct api_req *r, const char *sede_id,
		    cJSON *errs);

void	api_usuarios_list(struct api_req *r);
void	api_usuario_get(struct api_req *r);
void	api_usuario_crear(struct api_req *r);
void	api_usuario_put(struct api_req *r);
void	api_auditoria_list(struct api_req *r);
void	api_auditoria_verificacion(struct api_req *r);

/*
 * result.c: answers from database functions, query parameters.  A verdict
 * code (db/functions, table veredictos) and the answer it gets: a success
 * (type NULL) with its status, or a problem of that status, type and
 * title.
 */
struct api_verdict_kind {
	const char	*code;
	int		 status;
	const char	*type;		/* /problemas/<type>; NULL: success */
	const char	*title;		/* the problem's title */
};

const struct api_verdict_kind *api_verdict_kind(const char *code);
const struct api_verdict_kind *api_verdict_kind_at(size_t i);
int	api_verdict_is(const cJSON *v, const char *code);
cJSON	*api_verdict(PGresult *res);
void	api_reply_verdict(struct api_req *r, cJSON *v,
	    const char *location_prefix);
void	api_reply_result(struct api_req *r, PGresult *res,
	    const char *location_prefix);
void	api_run_function(struct api_req *r, int stmt, int write, int nparams,
	    const char *const *params, const char *location_prefix);
void	api_run_json(struct api_req *r, int stmt, int nparams,
	    const char *const *params, const char *not_found);
int	api_qid(struct api_req *r, const char *name, int required,
	    const char **out, cJSON *errs);
int	api_qint(struct api_req *r, const char *name, long min, long max,
	    const char **out, cJSON *errs);
int	api_qtime(struct api_req *r, const char *name, const char **out,
	    cJSON *errs);
int	api_qdate(struct api_req *r, const char *name, int required,
	    const char **out, cJSON *errs);
int	api_qenum(struct api_req *r, const char *name,
	    const char *const *allowed, const char **out, cJSON *errs);
int	api_qcursor(struct api_req *r, int nparts, const char *const *kinds,
	    const char **parts, cJSON *errs);
int	api_params_or_400(struct api_req *r, cJSON *errs);
int	api_fields_or_422(struct api_req *r, cJSON *errs);
const char *api_lltoa(struct api_req *r, long long v);

/* handlers: citas.c */
void	api_cita_reservar(struct api_req *r);
void	api_cita_get(struct api_req *r);
void	api_cita_put(struct api_req *r);
void	api_cita_delete(struct api_req *r);
void	api_citas_list(struct api_req *r);

/* handlers: agenda.c */
void	api_veterinarios_list(struct api_req *r);
void	api_disponibilidad(struct api_req *r);

/* handlers: pacientes.c */
void	api_paciente_registro(struct api_req *r);
void	api_paciente_get(struct api_req *r);
void	api_paciente_historial(struct api_req *r);

/* handlers: sedes.c */
void	api_sedes_list(struct api_req *r);
void	api_sede_get(struct api_req *r);
void	api_sede_create(struct api_req *r);
void	api_consultorios_list(struct api_req *r);

double	api_now(void);

#endif /* API_H */
