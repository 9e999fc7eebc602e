/*
 * vr.h - the VetRed shared library: the one public header.
 *
 * Every service links libvr.a and includes only this file.  Conventions:
 * functions return 0 on success and a negative VR_E* code on failure
 * (vr_strerror() names it); a cause such as an SQLSTATE or errno is kept
 * apart from the message.  Names are prefixed vr_.
 *
 * Memory: vr_xmalloc() and friends never return NULL (out of memory is
 * logged and aborts: one policy, in one place).  Request-scoped memory
 * comes from a struct vr_arena and is released in one call.
 */
#ifndef VR_H
#define VR_H

#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <libpq-fe.h>

/* ---- errors ----------------------------------------------------------- */

enum vr_err {
	VR_OK = 0,
	VR_ENOMEM = -1,		/* out of memory */
	VR_EINVAL = -2,		/* invalid input or argument */
	VR_ENOTFOUND = -3,	/* no such row, file or key */
	VR_ECONFLICT = -4,	/* unique or exclusion constraint violated */
	VR_EREF = -5,		/* a referenced row does not exist */
	VR_EDB = -6,		/* other database error */
	VR_EUNAVAIL = -7,	/* server unreachable or connection lost */
	VR_ERETRY = -8,		/* serialization failure or deadlock */
	VR_ETOOBIG = -9,	/* input over a size limit */
	VR_EIO = -10,		/* system call or file error (see errno) */
	VR_ECHECKSUM = -11,	/* an applied migration file was changed */
	VR_ECONFIG = -12,	/* bad configuration value */
	VR_ECHECK = -13,	/* a CHECK constraint refused the value */
	VR_ETIMEOUT = -14,	/* statement or connect timeout */
	VR_EAUTH = -15,		/* credentials or signature do not match */
	VR_E__MIN = -16
};

const char	*vr_strerror(int err);

/* ---- memory ----------------------------------------------------------- */

void	*vr_xmalloc(size_t n);
void	*vr_xcalloc(size_t n, size_t size);
void	*vr_xrealloc(void *p, size_t n);
char	*vr_xstrdup(const char *s);

/*
 * Arena: bump allocation from chunks; vr_arena_reset() frees everything
 * allocated since the last reset but keeps the first chunk for reuse.
 * Memory that is not the arena's (a cJSON tree, a PGresult) is tied to
 * it with vr_arena_defer(): the cleanup runs at the next reset or free,
 * the latest registered first.
 */
struct vr_arena_chunk;
struct vr_arena_cleanup;
struct vr_arena {
	struct vr_arena_chunk	*head;
	struct vr_arena_chunk	*first;
	struct vr_arena_cleanup	*cleanups;	/* latest first */
};

typedef void vr_cleanup_fn(void *p);

void	 vr_arena_init(struct vr_arena *a);
void	*vr_arena_alloc(struct vr_arena *a, size_t n);
char	*vr_arena_strdup(struct vr_arena *a, const char *s);
char	*vr_arena_strndup(struct vr_arena *a, const char *s, size_t n);
char	*vr_arena_printf(struct vr_arena *a, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 vr_arena_defer(struct vr_arena *a, vr_cleanup_fn *fn, void *p);
void	 vr_arena_reset(struct vr_arena *a);
void	 vr_arena_free(struct vr_arena *a);

/* Growable byte buffer, always NUL-terminated. */
struct vr_buf {
	char	*data;
	size_t	 len;
	size_t	 cap;
};

void	 vr_buf_init(struct vr_buf *b);
void	 vr_buf_free(struct vr_buf *b);
void	 vr_buf_reset(struct vr_buf *b);
void	 vr_buf_append(struct vr_buf *b, const void *p, size_t n);
void	 vr_buf_puts(struct vr_buf *b, const char *s);
void	 vr_buf_printf(struct vr_buf *b, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
void	 vr_buf_json_string(struct vr_buf *b, const char *s);

/* ---- configuration ---------------------------------------------------- */

struct vr_kdf_params {
	uint32_t	m_kib, t_cost, lanes;	/* Argon2id memory, passes, lanes */
};

/*
 * A configuration table: each service declares its variables in its own
 * directory as rows {env name, type, default, min, max, offset, doc} and
 * vr_config_parse() fills the struct they describe (base) from the
 * environment.  An unset or empty variable takes the default; a string's
 * default may be NULL.  A malformed or out-of-range value is refused
 * with err naming the variable.  Strings point into the environment and
 * live as long as the process.
 */
enum vr_cfg_type {
	VR_CFG_STR,		/* const char * */
	VR_CFG_INT,		/* int, in [min, max] */
	VR_CFG_LONG,		/* long, in [min, max] */
	VR_CFG_U32,		/* uint32_t, in [min, max] */
	VR_CFG_LOG_LEVEL	/* int: debug, info, warn or error */
};

struct vr_cfg_var {
	const char	*name;
	int		 type;		/* enum vr_cfg_type */
	const char	*sdef;		/* a string's default */
	long		 def, min, max;	/* a number's */
	size_t		 off;		/* offsetof the field in base */
	const char	*doc;
};

#define VR_CFG_S(n, d, st, f, doc)	\
	{ (n), VR_CFG_STR, (d), 0, 0, 0, offsetof(st, f), (doc) }
#define VR_CFG_N(n, t, d, lo, hi, st, f, doc)	\
	{ (n), (t), NULL, (d), (lo), (hi), offsetof(st, f), (doc) }

int	vr_config_parse(void *base, const struct vr_cfg_var *vars, size_t n,
	    char *err, size_t errlen);

/*
 * The core every process loads (vr_config_load(), the table
 * vr_core_vars): where the database and the broker are, logging, the
 * key files and the tokens' issuer and audience.  A service's own
 * settings are in a table of its own.
 */
struct vr_config {
	const char	*database_url;	/* VETRED_DATABASE_URL */
	const char	*amqp_url;	/* VETRED_AMQP_URL */
	int		 db_timeout_ms;	/* VETRED_DB_STATEMENT_TIMEOUT_MS */
	int		 log_level;	/* VETRED_LOG_LEVEL */
	const char	*log_file;	/* VETRED_LOG_FILE; NULL: stderr as is */
	long		 log_max_bytes;	/* VETRED_LOG_MAX_BYTES */
	const char	*jwt_keys;	/* VETRED_JWT_KEYS: kid=path,... */
	const char	*jwt_issuer;	/* VETRED_JWT_ISSUER */
	const char	*jwt_audience;	/* VETRED_JWT_AUDIENCE */
	const char	*data_keys;	/* VETRED_DATA_KEYS: kid=path,... */
	const char	*search_key;	/* VETRED_SEARCH_KEY: kid=path */
};

extern const struct vr_cfg_var vr_core_vars[];
extern const size_t vr_core_nvars;

int	vr_config_load(struct vr_config *c, char *err, size_t errlen);
/*
 * A service's monitoring settings: its metrics address "off" becomes
 * NULL (no listener); its instance name (the metrics' label, read from
 * inst_var) must be 1-64 of A-Z a-z 0-9 _ . -.  0 or VR_ECONFIG.
 */
int	vr_config_monitor(const char *instance, const char *inst_var,
	    const char **metrics_addr, char *err, size_t errlen);
int	vr_env_int(const char *name, long def, long min, long max, long *out);
const char *vr_env_str(const char *name, const char *def);

/* ---- command line (cli.c) --------------------------------------------- */

/*
 * The version of every binary (VERSION in config.mk).  vr_cli_options()
 * answers --help and -h (usage on stdout), --version, and any option
 * starting with '-' that is not in known (NULL-terminated, or NULL) with
 * usage on stderr; "--" ends the options.  It returns the exit status the
 * caller returns at once (0 or 2), or -1 when the caller goes on.
 */
const char *vr_version(void);
int	vr_cli_options(int argc, char **argv, const char *prog,
	    const char *usage, const char *const *known);

/* ---- logging ---------------------------------------------------------- */

enum vr_log_level {
	VR_LOG_DEBUG,
	VR_LOG_INFO,
	VR_LOG_WARN,
	VR_LOG_ERROR,
	VR_LOG__MAX
};

/*
 * One JSON object per line on stderr:
 *   {"time":..., "level":..., "service":..., "request_id":..., "msg":...,
 *    key: value, ...}
 * vr_log() takes NULL-terminated key, value string pairs after msg.
 */
void	vr_log_init(const char *service, int min_level);
int	vr_log_level_parse(const char *s);
void	vr_log(int level, const char *request_id, const char *msg, ...)
	    __attribute__((sentinel));
void	vr_logv(int level, const char *request_id, const char *msg,
	    va_list ap);

/*
 * Typed fields: numbers and booleans are written unquoted.  Build them
 * with the VR_LF_* macros into an array:
 *   struct vr_log_field f[] = { VR_LF_STR("socket", path),
 *       VR_LF_INT("threads", n), VR_LF_BOOL("tls", 1) };
 *   vr_log_fields(VR_LOG_INFO, NULL, "listening", f, VR_NFIELDS(f));
 * A VR_LF_DBL that is not finite is written as null.
 */
enum vr_log_ftype { VR_LFT_STR, VR_LFT_INT, VR_LFT_DBL, VR_LFT_BOOL };

struct vr_log_field {
	const char	*key;
	int		 type;		/* enum vr_log_ftype */
	const char	*s;
	long long	 i;
	double		 d;
};

#define VR_LF_STR(k, v)		{ (k), VR_LFT_STR, (v), 0, 0 }
#define VR_LF_INT(k, v)		{ (k), VR_LFT_INT, NULL, (long long)(v), 0 }
#define VR_LF_DBL(k, v)		{ (k), VR_LFT_DBL, NULL, 0, (double)(v) }
#define VR_LF_BOOL(k, v)	{ (k), VR_LFT_BOOL, NULL, !!(v), 0 }
#define VR_NFIELDS(a)		(sizeof(a) / sizeof((a)[0]))

void	vr_log_fields(int level, const char *request_id, const char *msg,
	    const struct vr_log_field *f, size_t n);

/*
 * Size-capped log file: stderr and stdout are pointed at path (opened to
 * append, unless stderr already is that file), and once max_bytes were
 * written to it, path is renamed to path.1 (the previous .1 is lost) and
 * both reopened on a new path.  VR_EIO when stderr is closed or path cannot
 * be opened.
 * path NULL or max_bytes 0: stderr is left as it is, for a supervisor
 * that rotates (journald, docker's log driver).  Call before threads
 * start.
 */
int	vr_log_rotation(const char *path, long long max_bytes);

/* ---- PostgreSQL ------------------------------------------------------- */

/*
 * One struct vr_db per thread, never shared.  The statement table is the
 * service's own (enum stmt + const char *sql[STMT__MAX]); every statement
 * is prepared on each (re)connect under the name "vr<index>".
 * vr_db_exec() retries once on a connection lost mid-call outside a
 * transaction (reads); an autocommit write uses vr_db_exec_write(), which
 * does not, so a statement that may have run is never run twice.
 */
struct vr_db {
	PGconn			*conn;
	const char		*url;
	const char *const	*sql;
	int			 nsql;
	int			 timeout_ms;
	int			 in_tx;
	char			 sqlstate[6];	/* of the last failure */
	char			 errmsg[256];	/* of the last failure */
	const char		*constraint;	/* of the last failure, or NULL */
	char			 constraint_buf[64];
	int			 was_up;	/* connected at least once */
	unsigned long		 generation;	/* connections made: a session
						   setting (LISTEN) is lost
						   when it moves */
};

/*
 * Process-wide counts of every struct vr_db, for metrics: connections
 * open now, connections made, of which reconnects (a struct that had been
 * up before), and attempts that failed.
 */
struct vr_db_stats {
	long long	 open, connects, reconnects, failures;
};

void	 vr_db_stats(struct vr_db_stats *out);

int	 vr_db_open(struct vr_db *db, const char *url, const char *const *sql,
	    int nsql, int timeout_ms);
void	 vr_db_close(struct vr_db *db);
int	 vr_db_ensure(struct vr_db *db);
int	 vr_db_exec(struct vr_db *db, int stmt, int nparams,
	    const char *const *params, PGresult **out);
int	 vr_db_exec_write(struct vr_db *db, int stmt, int nparams,
	    const char *const *params, PGresult **out);
int	 vr_db_exec_fmt(struct vr_db *db, int stmt, int nparams,
	    const char *const *params, const int *lengths,
	    const int *formats, int write, PGresult **out);
int	 vr_db_query(struct vr_db *db, const char *sql, PGresult **out);
int	 vr_db_begin(struct vr_db *db);
int	 vr_db_commit(struct vr_db *db);
void	 vr_db_rollback(struct vr_db *db);
int	 vr_db_map_sqlstate(const char *sqlstate);

/*
 * Migrations: apply dir/NNNN_*.sql once each, in order, checksummed.
 * vr_migrate_schema() then, when functions_dir is not NULL, runs the
 * function files its ORDER lists, all in one transaction, whenever one
 * changed (*functions: how many ran, 0 when none had); one advisory
 * lock is held across both.
 */
int	 vr_migrate(struct vr_db *db, const char *dir, int *applied,
	    char *err, size_t errlen);
int	 vr_migrate_schema(struct vr_db *db, const char *dir,
	    const char *functions_dir, int *applied, int *functions,
	    char *err, size_t errlen);

/* ---- JSON input ------------------------------------------------------- */

/*
 * Typed getters with validation.  Each returns 1 when the field is present
 * and valid (*out set), 0 when it is absent or null and not required, and
 * VR_EINVAL after adding {"campo": name, "mensaje": why} to errs.
 */
int	vr_json_str(const cJSON *obj, const char *name, int required,
	    size_t minlen, size_t maxlen, const char **out, cJSON *errs);
int	vr_json_int(const cJSON *obj, const char *name, int required,
	    long long min, long long max, long long *out, cJSON *errs);
int	vr_json_bool(const cJSON *obj, const char *name, int required,
	    int *out, cJSON *errs);
int	vr_json_enum(const cJSON *obj, const char *name, int required,
	    const char *const *allowed, int *out, cJSON *errs);
void	vr_json_error(cJSON *errs, const char *name, const char *msg);

int	vr_utf8_valid(const char *s, size_t len);
size_t	vr_utf8_len(const char *s);	/* characters of valid UTF-8 */
int	vr_valid_phone_pe(const char *s);
int	vr_valid_site_code(const char *s);
int	vr_valid_email(const char *s);
int	vr_date_valid(const char *s);
int	vr_rfc3339_valid(const char *s);
int	vr_parse_id(const char *s, long long *out);

/* ---- iCalendar (ical.c) ------------------------------------------------ */

/*
 * The RFC 5545 text of a feed document (feed_documento(): name, zone,
 * generation time and events), appended to out; checked against
 * libical's restrictions.  0, or VR_EINVAL with the reason in err.
 */
int	vr_ical_render(const cJSON *doc, struct vr_buf *out, char *err,
	    size_t errlen);

/* ---- crypto ----------------------------------------------------------- */

void	vr_sha256_hex(const void *data, size_t len, char hex[65]);

/* ---- base64 ----------------------------------------------------------- */

#define VR_B64URL_LEN(n)	(((n) * 4 + 2) / 3 + 1)	/* with the NUL */
#define VR_B64_DECODED_MAX(n)	((n) / 4 * 3 + 3)
size_t	vr_b64url_encode(const void *in, size_t n, char *out);
int	vr_b64url_decode(const char *in, size_t n, unsigned char *out,
	    size_t *outlen);
int	vr_b64_decode(const char *in, size_t n, unsigned char *out,
	    size_t *outlen);

/* ---- access tokens (jwt.c) ------------------------------------------- */

#define VR_JWT_MAX_KEYS	8
#define VR_JWT_KID_MAX	32
#define VR_JWT_KEY_MIN	32	/* bytes: HS256 wants at least the hash size */
#define VR_JWT_KEY_MAX	256

struct vr_jwt_key {
	char		kid[VR_JWT_KID_MAX + 1];
	unsigned char	key[VR_B64_DECODED_MAX(512)];
	size_t		len;
};

struct vr_jwt_keys {
	struct vr_jwt_key k[VR_JWT_MAX_KEYS];	/* k[0] signs */
	int		n;
};

enum vr_jwt_verdict {
	VR_JWT_OK, VR_JWT_MALFORMED, VR_JWT_ALG, VR_JWT_KID, VR_JWT_SIGNATURE,
	VR_JWT_EXPIRED, VR_JWT_NOT_YET, VR_JWT_ISSUER, VR_JWT_AUDIENCE,
	VR_JWT_CLAIMS
};

int	 vr_jwt_keys_load(struct vr_jwt_keys *ks, const char *spec, char *err,
	    size_t errlen);
char	*vr_jwt_sign(const struct vr_jwt_keys *ks, const cJSON *claims);
int	 vr_jwt_verify(const struct vr_jwt_keys *ks, const char *token,
	    const char *iss, const char *aud, long long now, cJSON **claims);
const char *vr_jwt_reason(int verdict);

/* ---- column encryption (cifra.c) -------------------------------------- */

/*
 * The sealed columns of the schema, one table for every process that
 * seals or opens them (the API, vetred-admin cifrar): a value is sealed
 * for its column ("v2:", the additional data "table.column"), so it
 * opens in no other column, of this table or another.  Values sealed
 * before ("v1:", the additional data the column's name alone) still
 * open in a column of that name; vetred-admin cifrar re-seals them.
 * search: the column whose keyed hash is kept beside it
 * (propietarios.documento_hmac).
 */
/* hash: the column that holds the value's keyed hash (vr_search_hash),
 * by which rows are found; NULL when the value is not searched. */
struct vr_sealed_col {
	const char	*table;
	const char	*column;
	const char	*hash;
};

extern const struct vr_sealed_col vr_sealed_cols[];
extern const size_t vr_sealed_ncols;

const struct vr_sealed_col *vr_sealed_col(const char *table,
	    const char *column);
const struct vr_sealed_col *vr_sealed_named(const char *column);
int	 vr_seal_col(const struct vr_jwt_key *k, const struct vr_sealed_col *c,
	    const char *plain, char **out);
int	 vr_unseal_col(const struct vr_jwt_keys *ks,
	    const struct vr_sealed_col *c, const char *sealed, char **out);
int	 vr_seal_version(const char *s);

int	 vr_data_keys_load(struct vr_jwt_keys *ks, const char *spec, char *err,
	    size_t errlen);
int	 vr_is_sealed(const char *s);
int	 vr_seal(const struct vr_jwt_key *k, const char *aad, const char *plain,
	    char **out);
int	 vr_unseal(const struct vr_jwt_keys *ks, const char *aad,
	    const char *sealed, char **out);
void	 vr_search_hash(const struct vr_jwt_key *k, const char *text,
	    char hex[65]);

/* ---- key ring (keyring.c) ------------------------------------------- */

/*
 * Every key a process holds, loaded once at start from the files the
 * configuration names: token signing keys (VETRED_JWT_KEYS, sign.k[0]
 * signs, all verify), column keys (VETRED_DATA_KEYS, seal.k[0] seals, all
 * open) and the search key (VETRED_SEARCH_KEY, search.k[0]).  A process
 * loads the roles it uses (VR_KEYS_*); the others stay empty (n == 0).
 */
enum vr_key_role {
	VR_KEYS_SIGN = 1 << 0,
	VR_KEYS_SEAL = 1 << 1,
	VR_KEYS_SEARCH = 1 << 2,
	VR_KEYS_ALL = VR_KEYS_SIGN | VR_KEYS_SEAL | VR_KEYS_SEARCH
};

struct vr_keyring {
	struct vr_jwt_keys	 sign;
	struct vr_jwt_keys	 seal;
	struct vr_jwt_keys	 search;
};

int	 vr_keyring_load(struct vr_keyring *kr, unsigned roles,
	    const struct vr_config *cfg, char *err, size_t errlen);

/* ---- access token verification (auth.c) ------------------------------ */

/*
 * Who an access token says is asking: the user, the session and token
 * generation that revocation is checked against, and the roles per site.
 * Role names are the service's: vr_auth_verify() gets its table and
 * stores indexes into it; a grant naming a role not in it is skipped.
 */
#define VR_AUTH_MAX_GRANTS	32
#define VR_SID_LEN		36	/* a session id: the text of a uuid */

struct vr_grant {
	int		 rol;		/* index into the caller's role names */
	long long	 sede;		/* 0: every site */
};

struct vr_auth {
	long long	 uid;
	long long	 gen;		/* the user's token generation; 0: none */
	long long	 exp;		/* the token's expiry, seconds */
	char		 sid[VR_SID_LEN + 1];	/* session; "" if none */
	int		 n;
	struct vr_grant	 g[VR_AUTH_MAX_GRANTS];
};

int	 vr_auth_verify(const struct vr_keyring *kr, const char *iss,
	    const char *aud, const char *const *roles, int nroles,
	    const char *token, long long now, struct vr_auth *out);

/* ---- passwords (password.c) ------------------------------------------ */

#define VR_PASSWORD_MIN	10	/* characters */
#define VR_PASSWORD_MAX	256
#define VR_PASSWORD_HASH_LEN	128	/* buffer for an encoded hash */

extern const struct vr_kdf_params vr_kdf_default;

/*
 * What a process that hashes passwords reads (VETRED_ARGON2_*,
 * VETRED_COMMON_PASSWORDS_FILE): the table vr_password_vars, with
 * offsets into struct vr_password_cfg, parsed by vr_config_parse().
 */
struct vr_password_cfg {
	struct vr_kdf_params kdf;
	const char	*common_passwords;
};

extern const struct vr_cfg_var vr_password_vars[];
extern const size_t vr_password_nvars;

int	 vr_password_hash(const char *pw, const struct vr_kdf_params *prm,
	    char *out, size_t outlen);
int	 vr_password_verify(const char *pw, const char *encoded);
int	 vr_password_params(const char *encoded, struct vr_kdf_params *out);
int	 vr_password_needs_rehash(const char *encoded,
	    const struct vr_kdf_params *prm);
int	 vr_common_passwords_load(const char *path);
size_t	 vr_common_passwords_count(void);
const char *vr_password_weak(const char *pw, const char *email);

/* ---- schedules (cron.c) ---------------------------------------------- */

/*
 * A cron schedule (5 fields or a macro; see cron.c), as bit sets, and
 * civil (wall-clock, zone-less) minutes: the caller converts instants
 * to and from the job's zone.  Errors are in Spanish, for the operator.
 */
struct vr_cron {
	uint64_t	 minute;	/* bit n: minute n, 0-59 */
	uint32_t	 hour;		/* 0-23 */
	uint32_t	 dom;		/* 1-31 */
	uint16_t	 month;		/* 1-12 */
	uint8_t		 dow;		/* 0-6, Sunday 0 */
	int		 dom_any, dow_any;	/* the field was "*" */
};

struct vr_civil {
	int	year, mon, day, hour, min;
};

#define VR_CIVIL_LEN	17	/* "YYYY-MM-DD HH:MM" and the NUL */

int	vr_cron_parse(const char *expr, struct vr_cron *out, char *err,
	    size_t errlen);
int	vr_cron_next(const struct vr_cron *c, const struct vr_civil *after,
	    struct vr_civil *out);
int	vr_civil_valid(const struct vr_civil *t);
int	vr_civil_parse(const char *s, struct vr_civil *t);
void	vr_civil_format(const struct vr_civil *t, char out[VR_CIVIL_LEN]);

/* ---- AMQP (amqp.c) ---------------------------------------------------- */

/*
 * The broker's topology, one table every service declares at start
 * (vr_amqp_declare(); see amqp.c for what each part is for).
 */
#define VR_AMQP_EVENTOS		"vetred.eventos"
#define VR_AMQP_TRABAJOS	"vetred.trabajos"
#define VR_AMQP_NO_ENRUTADOS	"vetred.no_enrutados"
#define VR_AMQP_MUERTOS		"vetred.muertos"
#define VR_AMQP_REENCOLAR	"vetred.reencolar"

struct vr_amqp_exchange {
	const char	*name;
	const char	*type;		/* topic, direct, fanout */
	const char	*alternate;	/* alternate exchange, or NULL */
};

struct vr_amqp_queue {
	const char	*name;
	int		 quorum;	/* 1 quorum, 0 classic durable */
	int		 ttl_ms;	/* message TTL; 0: none */
	const char	*dead_letter;	/* dead-letter exchange, or NULL */
	int		 max_len;	/* messages kept, the oldest dropped
					   beyond; 0: no limit */
};

struct vr_amqp_binding {
	const char	*queue;
	const char	*exchange;
	const char	*key;
};

struct vr_amqp_retry {
	const char	*exchange;	/* publish here, key = the work queue */
	int		 delay_ms;
};

extern const struct vr_amqp_exchange vr_amqp_exchanges[];
extern const size_t vr_amqp_nexchanges;
extern const struct vr_amqp_queue vr_amqp_queues[];
extern const size_t vr_amqp_nqueues;
extern const struct vr_amqp_binding vr_amqp_bindings[];
extern const size_t vr_amqp_nbindings;
/* A work queue of the engine's own consumers: bound to exchange under keys. */
struct vr_amqp_work {
	const char		*queue;
	const char		*exchange;
	const char *const	*keys;	/* NULL-terminated */
};

/* Deliveries of one message a work queue allows before it dead-letters it. */
#define VR_AMQP_DELIVERY_LIMIT	5

extern const struct vr_amqp_work vr_amqp_works[];
extern const size_t vr_amqp_nworks;
extern const struct vr_amqp_retry vr_amqp_retries[];
extern const size_t vr_amqp_nretries;

/*
 * A message: persistent JSON, with message_id (the event id), type (the
 * event type), the payload schema's version and the request id (headers
 * "version" and "request_id"; the request id is also the correlation
 * id), timestamp in seconds.  key, when set, goes in header "clave": the
 * routing key the message was first published with (the event type or
 * the job name), which a message published to one queue through
 * vetred.reencolar (a retry, a replay) keeps there.
 */
struct vr_amqp_msg {
	const char	*message_id;
	const char	*type;
	const char	*key;		/* NULL: no header "clave" */
	const char	*consumer;	/* NULL: no header "consumidor" */
	const char	*reason;	/* NULL: no header "motivo" */
	int		 attempt;	/* 0: no header "intento" */
	const char	*request_id;	/* NULL or "": none */
	const char	*app_id;
	int		 version;
	long long	 timestamp;
	const char	*body;
	size_t		 len;
};

enum { VR_AMQP_ACKED = 1, VR_AMQP_NACKED = 2 };

/* The headers VetRed sets beside the properties. */
#define VR_AMQP_H_CLAVE		"clave"		/* first routing key */
#define VR_AMQP_H_CONSUMIDOR	"consumidor"	/* queue that gave up */
#define VR_AMQP_H_MOTIVO	"motivo"	/* why it was given up */
#define VR_AMQP_H_INTENTO	"intento"	/* attempt, 1 first */

/*
 * A message taken from a queue (vr_amqp_next()): the properties and
 * headers as received, each "" when absent (has_id says whether
 * message_id was set at all), cut to the buffers' sizes; the broker's
 * own dead-lettering headers (x-first-death-reason and -queue) and the
 * quorum queue's x-delivery-count; the body, malloc'd and NUL-terminated
 * (vr_amqp_delivery_free()).
 */
struct vr_amqp_delivery {
	uint64_t	 tag;
	int		 redelivered;
	char		 exchange[256];
	char		 routing_key[256];
	char		 message_id[256];
	int		 has_id;
	char		 type[256];
	char		 request_id[257];
	char		 key[256];		/* header clave */
	char		 consumer[256];		/* header consumidor */
	char		 reason[1001];		/* header motivo */
	int		 attempt;		/* header intento; 0 none */
	int		 version;		/* header version; 0 none */
	long long	 timestamp;
	char		 death_reason[64];	/* x-first-death-reason */
	char		 death_queue[256];	/* x-first-death-queue */
	long long	 delivery_count;	/* x-delivery-count */
	char		*body;
	size_t		 len;
};

struct vr_amqp;

int	 vr_amqp_connect(struct vr_amqp **out, const char *url,
	    const char *name, int timeout_ms, char *err, size_t errlen);
void	 vr_amqp_close(struct vr_amqp *a);
int	 vr_amqp_ping(const char *url, int timeout_ms);
int	 vr_amqp_declare(struct vr_amqp *a, char *err, size_t errlen);
int	 vr_amqp_declare_work_queue(struct vr_amqp *a, const char *queue,
	    const char *exchange, const char *const *keys,
	    int delivery_limit, char *err, size_t errlen);
int	 vr_amqp_confirm_select(struct vr_amqp *a, char *err, size_t errlen);
int	 vr_amqp_publish(struct vr_amqp *a, const char *exchange,
	    const char *key, const struct vr_amqp_msg *m, uint64_t *tag);
int	 vr_amqp_confirms(struct vr_amqp *a, uint64_t first, size_t n,
	    unsigned char *status, int timeout_ms);
int	 vr_amqp_poll(struct vr_amqp *a);
int	 vr_amqp_consume(struct vr_amqp *a, const char *queue, int prefetch,
	    char *err, size_t errlen);
int	 vr_amqp_next(struct vr_amqp *a, int timeout_ms,
	    struct vr_amqp_delivery *d);
void	 vr_amqp_delivery_free(struct vr_amqp_delivery *d);
int	 vr_amqp_ack(struct vr_amqp *a, uint64_t tag);
int	 vr_amqp_reject(struct vr_amqp *a, uint64_t tag, int requeue);
int	 vr_amqp_queue_depth(struct vr_amqp *a, const char *queue,
	    long long *messages, long long *consumers);
const char *vr_amqp_error(const struct vr_amqp *a);
int	 vr_amqp_fd(const struct vr_amqp *a);

/* ---- worker runtime (worker.c) ----------------------------------------- */

/*
 * A consumer is a table of handlers keyed by routing key (the event type,
 * or the job name); vr_worker_run() runs a process's consumers, one
 * thread each, with their monitoring listener.  See worker.c for what
 * happens to a message.
 */
#define VR_WORKER_MAX_HANDLERS	32
#define VR_WORKER_NBUCKETS	14

/* What a handler answers (or a negative VR_E*: retried, with the error). */
enum vr_verdict {
	VR_HECHO = 0,		/* done: commit, ack */
	VR_REINTENTAR = 1,	/* retry later (back-off), then dead */
	VR_DESCARTAR = 2	/* dead now, with the reason */
};

/* The runtime's settings (the table vr_worker_vars: VETRED_WORKER_*). */
struct vr_worker_config {
	const char	*instance;
	const char	*metrics_addr;
	int		 prefetch;
	int		 max_attempts;
	long		 max_bytes;
	int		 backoff_max_ms;
};

extern const struct vr_cfg_var vr_worker_vars[];
extern const size_t vr_worker_nvars;
extern const double vr_worker_buckets[VR_WORKER_NBUCKETS];

int	vr_worker_config_load(struct vr_worker_config *c, char *err,
	    size_t errlen);

/* The message a handler gets; strings are never NULL but request_id. */
struct vr_message {
	const char			*id;	/* the event id (uuid) */
	const char			*key;	/* routing key it was sent with */
	const char			*request_id;
	int				 attempt;	/* 1 the first time */
	const char			*body;
	size_t				 len;
	const cJSON			*json;	/* the body, an object */
	const cJSON			*datos;	/* its member "datos", or NULL */
	const struct vr_amqp_delivery	*d;	/* as received */
};

struct vr_work;		/* a handler's transaction and statements */

typedef int vr_handler_fn(struct vr_work *w, const struct vr_message *m,
    char *reason, size_t reasonlen);
typedef void vr_failed_fn(struct vr_work *w, const struct vr_message *m,
    const char *reason);

struct vr_handler {
	const char	*key;
	vr_handler_fn	*fn;
};

/*
 * name: the consumer's, in logs, metrics and eventos_procesados (its work
 * queue is "vetred.<name>" unless queue says otherwise); exchange: where
 * its work queue is bound under each handler's key; sql: its handlers'
 * statements (vr_work_exec(w, index, ...)); failed: called after a
 * retry or dead verdict rolled back (to record the failure on its own);
 * raw: one handler gets every message of queue as it is (no checks, no
 * processed mark).
 */
struct vr_consumer {
	const char		*name;
	const char		*exchange;
	const char		*queue;
	const struct vr_handler	*handlers;
	size_t			 nhandlers;
	const char *const	*sql;
	int			 nsql;
	vr_failed_fn		*failed;
	int			 raw;
	void			*arg;
};

/* A consumer's counters, for /metrics (slot nhandlers: unknown keys). */
struct vr_consumer_stats {
	pthread_mutex_t	 lock;
	int		 running, db_up, broker_up;
	long long	 broker_connects, broker_failures;
	long long	 done[VR_WORKER_MAX_HANDLERS + 1];
	long long	 duplicates[VR_WORKER_MAX_HANDLERS + 1];
	long long	 retried[VR_WORKER_MAX_HANDLERS + 1];
	long long	 dead[VR_WORKER_MAX_HANDLERS + 1];
	long long	 dur_count;
	double		 dur_sum;
	long long	 dur_bucket[VR_WORKER_NBUCKETS];
	long long	 depth, consumers;
};

int	 vr_worker_run(const char *service, const struct vr_consumer *cs,
	    size_t n, const struct vr_config *cfg,
	    const struct vr_worker_config *wc,
	    volatile sig_atomic_t *stopping);
const char *vr_consumer_queue(const struct vr_consumer *c, char *buf,
	    size_t len);
int	 vr_work_exec(struct vr_work *w, int stmt, int nparams,
	    const char *const *params, PGresult **out);
int	 vr_work_exec_fmt(struct vr_work *w, int stmt, int nparams,
	    const char *const *params, const int *lengths, const int *formats,
	    PGresult **out);
void	*vr_work_arg(const struct vr_work *w);
const char *vr_work_db_error(const struct vr_work *w);

/* ---- monitoring listener (httpd.c) ------------------------------------ */

/*
 * A route of a process's monitoring listener: fn writes the body of GET
 * path into body, may point *ctype at another content type (default
 * text/plain), and returns the HTTP status.  Functions run one at a time,
 * on the listener's thread.
 */
typedef int vr_httpd_fn(void *arg, struct vr_buf *body, const char **ctype);

struct vr_httpd_route {
	const char	*path;
	vr_httpd_fn	*fn;
};

struct vr_httpd;

int	vr_httpd_start(struct vr_httpd **out, const char *addr,
	    const struct vr_httpd_route *routes, size_t nroutes, void *arg,
	    char *err, size_t errlen);
int	vr_httpd_port(const struct vr_httpd *h);
void	vr_httpd_stop(struct vr_httpd *h);

/* Prometheus text of vetred_build_info and of the process_* families. */
void	vr_metrics_build_info(struct vr_buf *b, const char *service,
	    const char *version);
void	vr_metrics_process(struct vr_buf *b);

#endif /* VR_H */
