/*
 * itest.h - helpers of the integration tests: real HTTP through nginx
 * (libcurl) and real SQL to the stack's PostgreSQL (libpq).
 *
 * The stack is started by ci/test.sh; its addresses come from the
 * environment: VETRED_HTTP_URL, VETRED_DATABASE_URL, VETRED_STACK_DIR.
 */
#ifndef ITEST_H
#define ITEST_H

#include <stddef.h>
#include <sys/types.h>

#include <check.h>
#include <cjson/cJSON.h>
#include <libpq-fe.h>

struct http_resp {
	long	 status;
	char	*body;		/* NUL-terminated */
	size_t	 len;
	char	*headers;	/* raw header block, NUL-terminated */
	size_t	 hlen;
	cJSON	*json;		/* parsed body when it is JSON, else NULL */
};

/*
 * Send one request to VETRED_HTTP_URL + path.  ctype NULL sends no
 * Content-Type; body NULL sends none.  extra: NULL-terminated array of
 * "Name: value" header lines, or NULL.  Fails the test on transport
 * errors.  Free with http_free().
 */
void	 http_req(const char *method, const char *path, const char *ctype,
	    const char *body, size_t len, const char *const *extra,
	    struct http_resp *out);
void	 http_get(const char *path, struct http_resp *out);
void	 http_req_url(const char *method, const char *url, const char *ctype,
	    const char *body, size_t len, const char *const *extra,
	    struct http_resp *out);
void	 http_get_url(const char *url, struct http_resp *out);
void	 http_post_json(const char *path, const char *json,
	    struct http_resp *out);
void	 http_send_json(const char *method, const char *path,
	    const char *json, const char *if_match, struct http_resp *out);
void	 http_free(struct http_resp *r);
void	 http_login(const char *email, const char *pw, struct http_resp *r);
const char *http_header(struct http_resp *r, const char *name, char *buf,
	    size_t buflen);
const char *http_base(void);

/*
 * Access tokens.  Requests carry an admin_red token by default;
 * http_token(t) makes them carry t instead (NULL: the default again),
 * http_token_none() sends no Authorization at all.  An
 * "Authorization:" line in extra wins over both.  token_for() signs a
 * 15-minute token for a user with the roles given as the JSON array the
 * API puts in tokens, and the user's current token generation (gen);
 * token_sign() sets every claim.  Both malloc'd.
 */
void	 http_token(const char *token);
void	 http_token_none(void);
const char *http_auth_header(void);
char	*token_for(long long uid, const char *roles_json);
char	*token_sign(long long uid, const char *roles_json, long long iat,
	    long long exp, const char *aud);
long long admin_id(void);
const char *doc_hmac(const char *doc);	/* hex, static buffer */

/* vetred-admin with args (stdin_text: its input, or NULL); exit status. */
int	 run_admin(const char *args, const char *stdin_text, char *out,
	    size_t n);

/*
 * The stack's supervisord: supervisorctl ARGS (its first line of output
 * in out, which may be NULL; the exit status); a supervised process's pid
 * (name: "worker", "scheduler", "api:api-1"; 0 when it does not run); the
 * pid of name's next process once it is not old (0 after secs).
 */
int	 supervisorctl(const char *args, char *out, size_t outlen);
pid_t	 supervised_pid(const char *name);
pid_t	 restarted(const char *name, pid_t old, int secs);

/*
 * A binary of the stack's build (VETRED_STACK_BIN) started beside the
 * supervised ones: the test's environment less the variables starting
 * with any of drop (NULL-terminated, or NULL), plus extra ("NAME=value",
 * at most 12), stdout and stderr to log (truncated), killed with the
 * test's process.  Its pid.  stack_reap(): waitpid with a deadline, the
 * status, or -1 while it still runs.
 */
pid_t	 stack_spawn(const char *bin, const char *log,
	    const char *const *drop, const char *const *extra);
int	 stack_reap(pid_t pid, int ms);
pid_t	 prueba_spawn(const char *consumer, const char *const *extra,
	    char *log, size_t loglen, int *port);

/*
 * Prometheus text of a /metrics answer: metrics_promtool_ok() fails the
 * test unless `promtool check metrics` accepts it (who names the
 * target); metrics_sum() adds the samples "name{...} v" or "name v"
 * whose labels contain want (NULL: every one), NAN when none matched.
 */
void	 metrics_promtool_ok(const struct http_resp *r, const char *who);
double	 metrics_sum(const char *text, const char *name, const char *want);

/* Check an RFC 9457 answer: status, content type, type slug, title. */
void	 assert_problem(struct http_resp *r, long status, const char *slug);

/* SQL on a fresh connection to VETRED_DATABASE_URL. */
PGconn	*db_connect(void);
long long db_count(const char *sql);
char	*db_value(const char *sql);	/* malloc'd, NULL when no row */

const char *stack_dir(void);
char	*unique_code(const char *prefix);	/* malloc'd */

/*
 * fixtures.c: fresh data made by SQL for one test, times relative to now,
 * and the row counts that show what a request wrote.
 */
void	 db_execf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
char	*db_valuef(const char *fmt, ...)	/* malloc'd, NULL when no row */
	    __attribute__((format(printf, 1, 2)));
long long db_countf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

enum fx_jornada {
	FX_OFICINA,	/* Mon-Sat 08:00-13:00 and 14:00-19:00, as the demo */
	FX_DIA_COMPLETO	/* every day 00:00-24:00 */
};

long long fx_sede(const char *tz);
long long fx_vet(long long sede, enum fx_jornada j);
long long fx_consultorio(long long sede);

/* A site, a vet working there around the clock, and that vet's user with
 * a token (veterinario there, malloc'd). */
struct fx_clinica {
	long long	 sede, vet, usuario;
	char		*token;
};
void	 fx_clinica(struct fx_clinica *c);
char	*fx_token_de(const char *rol, long long sede, long long *uid);
long long fx_paciente(void);
void	 fx_pacientes(int n, long long *ids);	/* one owner, n pets */
char	*fx_dni_libre(void);	/* a DNI no owner has, malloc'd */

#define FX_HORA_LEN	32
#define FX_HM(h, m)	((long long)(h) * 3600 + (long long)(m) * 60)	/* s */
#define FX_LIMA		(-300)	/* UTC offsets in minutes, no DST */
#define FX_TOKIO	540
long long fx_dia(const char *tz, int isodow, int min_days);
void	 fx_hora(long long epoch, int offset_min, char out[FX_HORA_LEN]);

/* A booking request; 0 or NULL members are left out (duracion: 30). */
struct fx_cita {
	long long	 paciente, veterinario, sede, consultorio;
	const char	*inicio;
	int		 duracion;
	const char	*fin;		/* sent instead of duracion_min */
	const char	*motivo;
	const char	*tipo;
};

char	*fx_cita_json(const struct fx_cita *c);	/* malloc'd */
void	 fx_reservar(const struct fx_cita *c, const char *const *extra,
	    struct http_resp *out);
long long fx_reservar_ok(const struct fx_cita *c);	/* asserts 201 */
void	 fx_put_cita(long long id, const char *json, const char *const *extra,
	    struct http_resp *out);

/* Row counts; outbox leaves out the periodic jobs' messages (aggregate
 * "trabajo"), which the scheduler writes on its own every few seconds. */
struct fx_counts {
	long long	citas, propietarios, pacientes, auditoria, outbox;
};

void	 fx_snapshot(struct fx_counts *c);
void	 fx_assert_delta(const struct fx_counts *before, int citas,
	    int propietarios, int pacientes, int auditoria, int outbox);
void	 fx_assert_unchanged(const struct fx_counts *before);
int	 fx_has_error(const struct http_resp *r, const char *campo);
long long json_ll(const cJSON *o, const char *name);
const char *json_s(const cJSON *o, const char *name);
const cJSON *json_items(const cJSON *list);	/* asserts the envelope */

Suite	*system_suite(void);
Suite	*errors_suite(void);
Suite	*sedes_suite(void);
Suite	*cors_suite(void);
Suite	*pacientes_suite(void);
Suite	*propietarios_suite(void);
Suite	*clinico_suite(void);
Suite	*entradas_suite(void);
Suite	*citas_suite(void);
Suite	*agenda_suite(void);
Suite	*horarios_suite(void);
Suite	*calendarios_suite(void);
Suite	*concurrency_suite(void);
Suite	*auth_suite(void);
Suite	*access_suite(void);
Suite	*usuarios_suite(void);
Suite	*auditoria_suite(void);
Suite	*tls_suite(void);
Suite	*cli_suite(void);
Suite	*trabajos_suite(void);
Suite	*relay_suite(void);
Suite	*worker_suite(void);
Suite	*failover_suite(void);
Suite	*observability_suite(void);

#endif
