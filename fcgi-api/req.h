/*
 * req.h - the data every layer of the API passes around: the process's
 * shared state, a thread's context, one request, a row of the route
 * table; and the request's memory (req.c).
 *
 * Layers, each calling only those below it (tests/layers/check_layers.py
 * holds the code to this order; docs/ARCHITECTURE.md tells it):
 *   process    main.c, monitor.c (monitor.h)
 *   routing    router.c (route.h): the route table, dispatch
 *   resources  the handlers (resources.h)
 *   authz      access.c, limite.c (authz.h): who asks, what they may do
 *   input      params.c (params.h): query, ids and headers checked
 *   problem    result.c, problem.c (problem.h): verdicts and database
 *              errors as HTTP answers
 *   transport  http.c, cors.c (transport.h): FastCGI in, answers out
 *   base       req.c (this file), sql.c (sql.h), metrics.c (metrics.h)
 *
 * Memory: what a request allocates belongs to it and is released in one
 * place, the reset of the thread's arena after the answer (main.c).
 * Strings come from the arena; cJSON trees, printed JSON and PGresults
 * are tied to it by the api_own_*() functions below, so handlers free
 * nothing.  Give a tree to the request only when it is a root (not the
 * child of another tree).
 */
#ifndef API_REQ_H
#define API_REQ_H

#include <stdatomic.h>
#include <pthread.h>

#include <fcgiapp.h>

#include "sql.h"
#include "vr.h"

#define API_MAX_CAPTURES	4

struct api_metrics;
struct api_rate;

/*
 * The caller: who the access token names (vr_auth_verify(), grants'
 * roles index api_rol_names of authz.h), and whether it was accepted.
 */
struct api_auth {
	int		 ok;
	struct vr_auth	 who;
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
	struct vr_auth	 auth;		/* auth.exp: kept until then */
};

/* Tokens of uid of a generation below gen are revoked. */
struct api_revocation {
	long long	 uid, gen;
};

/*
 * The API's own settings (config.c, the table api_config_vars), read once
 * at start beside the core every process reads (struct vr_config).
 */
struct api_config {
	const char	*api_socket;	/* VETRED_API_SOCKET: path or host:port */
	const char	*instance;	/* VETRED_API_INSTANCE: name in logs */
	int		 api_threads;	/* VETRED_API_THREADS */
	int		 api_backlog;	/* VETRED_API_BACKLOG */
	long		 max_body;	/* VETRED_MAX_BODY_BYTES */
	int		 access_ttl;	/* VETRED_ACCESS_TOKEN_TTL_S */
	int		 refresh_days;	/* VETRED_REFRESH_TOKEN_TTL_DAYS */
	const char	*metrics_addr;	/* VETRED_METRICS_ADDR; NULL: none */
	const char	*cors_origins;	/* VETRED_CORS_ORIGINS (cors.c) */
	struct vr_password_cfg pw;	/* VETRED_ARGON2_*, common passwords */
};

extern const struct vr_cfg_var api_config_vars[];
extern const size_t api_config_nvars;

int	api_config_load(struct api_config *c, char *err, size_t errlen);

/* State shared by the threads of one process; created in main.c. */
struct api_shared {
	const struct vr_config	*cfg;		/* the core */
	const struct api_config	*api;		/* the API's own */
	struct api_metrics	*metrics;
	pthread_mutex_t		 amqp_lock;	/* guards the two below */
	double			 amqp_checked_at;
	int			 amqp_ok;
	struct vr_keyring	 keys;		/* signing, column, search */
	char			 dummy_hash[VR_PASSWORD_HASH_LEN];
	pthread_rwlock_t	 rev_lock;	/* guards the four below */
	struct api_revocation	*rev;
	int			 rev_n;
	char			(*rev_sid)[VR_SID_LEN + 1];	/* sorted */
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
	cJSON			*json;	/* parsed body: an object, the request's */
	const char		*captures[API_MAX_CAPTURES];
	int			 ncaptures;
	const struct api_route	*route;
	struct api_auth		 auth;		/* set by api_authenticate */
	int			 status;	/* 0 until answered */
	size_t			 bytes;		/* of the body answered */
	long long		 sede;		/* site checked, 0: none (log) */
};

typedef void api_handler(struct api_req *);

/* A row of the route table (route.h). */
struct api_route {
	const char	*method;
	const char	*pattern;	/* "/api/v1/sedes/{id}" */
	api_handler	*fn;
	const char	*perm;		/* permission required; NULL = public */
	int		 body;		/* 1: a JSON object body is required */
};

double		 api_now(void);
const char	*api_lltoa(struct api_req *r, long long v);

/* req.c: the request's memory, released when its arena is reset. */
cJSON		*api_own_json(struct api_req *r, cJSON *v);
char		*api_own_text(struct api_req *r, char *s);
PGresult	*api_own_result(struct api_req *r, PGresult *res);
cJSON		*api_errors(struct api_req *r);
const char	*api_print(struct api_req *r, const cJSON *v);
int		 api_exec(struct api_req *r, const struct api_args *a,
		    int write, PGresult **res);

#endif /* API_REQ_H */
