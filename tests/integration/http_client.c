/*
 * http_client.c - the integration tests' HTTP and SQL helpers.
 */
#include <sys/prctl.h>

#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/wait.h>
#include <unistd.h>

#include <pthread.h>
#include <time.h>

#include <curl/curl.h>
#include <openssl/rand.h>

#include "itest.h"
#include "vr.h"

/* ---- access tokens ------------------------------------------------------
 * Requests carry an admin_red token unless a test says otherwise: tests
 * sign their own tokens with the stack's key (VETRED_JWT_KEYS), as the API
 * would issue them.
 */

static char	*current_token;		/* NULL: the admin's, made on use */
static int	 no_token;
static pthread_mutex_t token_lock = PTHREAD_MUTEX_INITIALIZER;

char *
token_sign(long long uid, const char *roles_json, long long iat,
    long long exp, const char *aud)
{
	struct vr_jwt_keys ks;
	char err[256], jti[VR_B64URL_LEN(16)], *tok;
	unsigned char raw[16];
	cJSON *c = cJSON_CreateObject(), *roles;
	char sub[24], *gen;

	ck_assert_msg(vr_jwt_keys_load(&ks, getenv("VETRED_JWT_KEYS"), err,
	    sizeof(err)) == 0, "%s", err);
	ck_assert_int_eq(RAND_bytes(raw, sizeof(raw)), 1);
	vr_b64url_encode(raw, sizeof(raw), jti);
	snprintf(sub, sizeof(sub), "%lld", uid);
	cJSON_AddStringToObject(c, "iss", "vetred");
	cJSON_AddStringToObject(c, "aud", aud ? aud : "vetred-api");
	cJSON_AddStringToObject(c, "sub", sub);
	cJSON_AddNumberToObject(c, "iat", (double)iat);
	cJSON_AddNumberToObject(c, "exp", (double)exp);
	cJSON_AddStringToObject(c, "jti", jti);
	/* The user's current token generation, as the API would sign. */
	if ((gen = db_valuef("SELECT sesiones_generacion FROM usuarios "
	    "WHERE id = %lld", uid)) != NULL)
		cJSON_AddNumberToObject(c, "gen", (double)atoll(gen));
	free(gen);
	roles = cJSON_Parse(roles_json);
	ck_assert_ptr_nonnull(roles);
	cJSON_AddItemToObject(c, "roles", roles);
	tok = vr_jwt_sign(&ks, c);
	cJSON_Delete(c);
	ck_assert_ptr_nonnull(tok);
	return tok;
}

char *
token_for(long long uid, const char *roles_json)
{
	long long now = (long long)time(NULL);

	return token_sign(uid, roles_json, now, now + 900, NULL);
}

/* The seeded network administrator. */
long long
admin_id(void)
{
	return db_count("SELECT id FROM usuarios WHERE email = "
	    "'admin.red@vetred.pe'");
}

void
http_token(const char *token)
{
	pthread_mutex_lock(&token_lock);
	free(current_token);
	current_token = token ? strdup(token) : NULL;
	no_token = 0;
	pthread_mutex_unlock(&token_lock);
}

void
http_token_none(void)
{
	http_token(NULL);
	no_token = 1;
}

/*
 * "Authorization: Bearer <token>" for the current token, or NULL.  The
 * line is per thread (the failover and concurrency tests send from
 * several); the admin's token is made once, under the lock.
 */
const char *
http_auth_header(void)
{
	static __thread char line[4096];
	const char *t;

	pthread_mutex_lock(&token_lock);
	if (!no_token && current_token == NULL)
		current_token = token_for(admin_id(),
		    "[{\"rol\":\"admin_red\",\"sede\":null}]");
	t = no_token ? NULL : current_token;
	if (t != NULL)
		snprintf(line, sizeof(line), "Authorization: Bearer %s", t);
	pthread_mutex_unlock(&token_lock);
	return t ? line : NULL;
}

const char *
http_base(void)
{
	const char *b = getenv("VETRED_HTTP_URL");

	ck_assert_msg(b != NULL && *b, "VETRED_HTTP_URL is not set: run the "
	    "integration tests through `make test`");
	return b;
}

const char *
stack_dir(void)
{
	const char *d = getenv("VETRED_STACK_DIR");

	ck_assert_msg(d != NULL && *d, "VETRED_STACK_DIR is not set");
	return d;
}

struct sink {
	char	*p;
	size_t	 len;
};

static size_t
collect(char *data, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t add = size * n;

	s->p = realloc(s->p, s->len + add + 1);
	ck_assert_ptr_nonnull(s->p);
	memcpy(s->p + s->len, data, add);
	s->len += add;
	s->p[s->len] = '\0';
	return add;
}

void
http_req(const char *method, const char *path, const char *ctype,
    const char *body, size_t len, const char *const *extra,
    struct http_resp *out)
{
	char url[16384];	/* room for a URI past nginx's limit */

	snprintf(url, sizeof(url), "%s%s", http_base(), path);
	http_req_url(method, url, ctype, body, len, extra, out);
}

/* GET of an absolute URL (a process's own listener, say). */
void
http_get_url(const char *url, struct http_resp *out)
{
	http_req_url("GET", url, NULL, NULL, 0, NULL, out);
}

void
http_req_url(const char *method, const char *url, const char *ctype,
    const char *body, size_t len, const char *const *extra,
    struct http_resp *out)
{
	struct sink b = { NULL, 0 }, h = { NULL, 0 };
	struct curl_slist *hdrs = NULL;
	const char *path = url;
	char line[256];
	CURL *c;
	CURLcode rc;
	const char *ah;
	int i, auth = 0;

	memset(out, 0, sizeof(*out));
	c = curl_easy_init();
	ck_assert_ptr_nonnull(c);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &b);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &h);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 30L);
	/* Send the body as is, even past the server's limit. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	if (ctype != NULL) {
		snprintf(line, sizeof(line), "Content-Type: %s", ctype);
		hdrs = curl_slist_append(hdrs, line);
	}
	for (i = 0; extra != NULL && extra[i] != NULL; i++) {
		hdrs = curl_slist_append(hdrs, extra[i]);
		if (strncasecmp(extra[i], "Authorization:", 14) == 0)
			auth = 1;
	}
	if (!auth && (ah = http_auth_header()) != NULL)
		hdrs = curl_slist_append(hdrs, ah);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	if (body != NULL) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)len);
	}
	rc = curl_easy_perform(c);
	ck_assert_msg(rc == CURLE_OK, "%s %s: %s", method, path,
	    curl_easy_strerror(rc));
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &out->status);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	out->body = b.p ? b.p : calloc(1, 1);
	out->len = b.len;
	out->headers = h.p ? h.p : calloc(1, 1);
	out->hlen = h.len;
	if (out->len > 0)
		out->json = cJSON_ParseWithLength(out->body, out->len);
}

void
http_get(const char *path, struct http_resp *out)
{
	http_req("GET", path, NULL, NULL, 0, NULL, out);
}

void
http_post_json(const char *path, const char *json, struct http_resp *out)
{
	http_req("POST", path, "application/json", json, strlen(json), NULL,
	    out);
}

/* METHOD path with a JSON body and, when if_match is not NULL, that
 * If-Match. */
void
http_send_json(const char *method, const char *path, const char *json,
    const char *if_match, struct http_resp *out)
{
	char h[64];
	const char *extra[2] = { NULL, NULL };

	if (if_match != NULL) {
		snprintf(h, sizeof(h), "If-Match: %s", if_match);
		extra[0] = h;
	}
	http_req(method, path, "application/json", json, strlen(json), extra,
	    out);
}

void
http_free(struct http_resp *r)
{
	free(r->body);
	free(r->headers);
	cJSON_Delete(r->json);
	memset(r, 0, sizeof(*r));
}

/* The value of the last header called name (case-insensitive), or NULL. */
const char *
http_header(struct http_resp *r, const char *name, char *buf, size_t buflen)
{
	const char *p = r->headers, *eol, *found = NULL;
	size_t n = strlen(name), vlen;

	for (; p != NULL && *p; p = eol ? eol + 1 : NULL) {
		eol = strchr(p, '\n');
		if (strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;

			while (*v == ' ')
				v++;
			vlen = (size_t)((eol ? eol : v + strlen(v)) - v);
			while (vlen > 0 && (v[vlen - 1] == '\r' ||
			    v[vlen - 1] == ' '))
				vlen--;
			if (vlen >= buflen)
				vlen = buflen - 1;
			memcpy(buf, v, vlen);
			buf[vlen] = '\0';
			found = buf;
		}
		if (eol == NULL)
			break;
	}
	return found;
}

void
assert_problem(struct http_resp *r, long status, const char *slug)
{
	char ct[128], want[128];
	const cJSON *t;

	ck_assert_msg(r->status == status, "status %ld, want %ld; body: %.300s",
	    r->status, status, r->body);
	ck_assert_msg(http_header(r, "Content-Type", ct, sizeof(ct)) != NULL &&
	    strncmp(ct, "application/problem+json", 24) == 0,
	    "content type of a %ld is not problem+json: %s", status,
	    http_header(r, "Content-Type", ct, sizeof(ct)));
	ck_assert_msg(r->json != NULL, "problem body is not JSON: %.300s",
	    r->body);
	t = cJSON_GetObjectItem(r->json, "status");
	ck_assert(cJSON_IsNumber(t) && (long)t->valuedouble == status);
	ck_assert(cJSON_IsString(cJSON_GetObjectItem(r->json, "title")));
	if (slug != NULL) {
		snprintf(want, sizeof(want), "/problemas/%s", slug);
		t = cJSON_GetObjectItem(r->json, "type");
		ck_assert_msg(cJSON_IsString(t) &&
		    strcmp(t->valuestring, want) == 0, "type %s, want %s",
		    cJSON_IsString(t) ? t->valuestring : "(none)", want);
	}
}

PGconn *
db_connect(void)
{
	const char *url = getenv("VETRED_DATABASE_URL");
	PGconn *c;

	ck_assert_msg(url != NULL && *url, "VETRED_DATABASE_URL is not set");
	c = PQconnectdb(url);
	ck_assert_msg(PQstatus(c) == CONNECTION_OK, "connect: %s",
	    PQerrorMessage(c));
	return c;
}

char *
db_value(const char *sql)
{
	PGconn *c = db_connect();
	PGresult *res = PQexec(c, sql);
	char *v = NULL;

	ck_assert_msg(PQresultStatus(res) == PGRES_TUPLES_OK, "%s: %s", sql,
	    PQerrorMessage(c));
	if (PQntuples(res) > 0 && !PQgetisnull(res, 0, 0))
		v = strdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	PQfinish(c);
	return v;
}

long long
db_count(const char *sql)
{
	char *v = db_value(sql);
	long long n;

	ck_assert_ptr_nonnull(v);
	n = atoll(v);
	free(v);
	return n;
}

/*
 * A site code unlikely to exist yet, e.g. "QXK-417": three letters from
 * the prefix's first letter and randomness, three random digits.
 */
char *
unique_code(const char *prefix)
{
	unsigned char rnd[5];
	char *s = malloc(8);
	FILE *f = fopen("/dev/urandom", "rb");

	ck_assert_ptr_nonnull(s);
	ck_assert_ptr_nonnull(f);
	ck_assert_int_eq(fread(rnd, 1, sizeof(rnd), f), sizeof(rnd));
	fclose(f);
	snprintf(s, 8, "%c%c%c-%03u", prefix[0], 'A' + rnd[0] % 26,
	    'A' + rnd[1] % 26, (unsigned)((rnd[2] << 8 | rnd[3]) % 1000));
	return s;
}

/*
 * Run vetred-admin (next to this binary, with the stack's environment)
 * with args; stdin_text as its input line (NULL: none).  Its output,
 * stderr included, goes to out when out is not NULL.  The exit status.
 */
int
run_admin(const char *args, const char *stdin_text, char *out, size_t n)
{
	char self[1024], cmd[2048];
	ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
	FILE *p;
	size_t got;
	int st;

	ck_assert_int_gt(len, 0);
	self[len] = '\0';
	*strrchr(self, '/') = '\0';
	if (stdin_text != NULL)
		snprintf(cmd, sizeof(cmd), "printf '%%s\\n' '%s' | '%s/vetred-admin' "
		    "%s 2>&1", stdin_text, self, args);
	else
		snprintf(cmd, sizeof(cmd), "'%s/vetred-admin' %s </dev/null 2>&1",
		    self, args);
	p = popen(cmd, "r");
	ck_assert_ptr_nonnull(p);
	if (out != NULL) {
		got = fread(out, 1, n - 1, p);
		out[got] = '\0';
	} else
		while (fgetc(p) != EOF)
			;
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* The search hash of a document number, as the API stores it (hex). */
const char *
doc_hmac(const char *doc)
{
	static char hex[65];
	struct vr_jwt_keys ks;
	char err[256];

	ck_assert_msg(vr_jwt_keys_load(&ks, getenv("VETRED_SEARCH_KEY"), err,
	    sizeof(err)) == 0, "%s", err);
	vr_search_hash(&ks.k[0], doc, hex);
	return hex;
}

/* POST /api/v1/auth/login with that e-mail and password (JSON-escaped). */
void
http_login(const char *email, const char *pw, struct http_resp *r)
{
	cJSON *o = cJSON_CreateObject();
	char *s;

	cJSON_AddStringToObject(o, "email", email);
	cJSON_AddStringToObject(o, "password", pw);
	s = cJSON_PrintUnformatted(o);
	http_post_json("/api/v1/auth/login", s, r);
	free(s);
	cJSON_Delete(o);
}

/* ---- the stack's supervisord ------------------------------------------ */

/*
 * supervisorctl ARGS against the stack's supervisord; its first line of
 * output in out (may be NULL).  Exit status.
 */
int
supervisorctl(const char *args, char *out, size_t outlen)
{
	char cmd[1536], line[256];
	FILE *p;
	int st;

	snprintf(cmd, sizeof(cmd), "supervisorctl -c '%s/supervisor/"
	    "supervisord.conf' %s 2>&1", stack_dir(), args);
	if ((p = popen(cmd, "r")) == NULL)
		return -1;
	if (out != NULL)
		out[0] = '\0';
	while (fgets(line, sizeof(line), p) != NULL)
		if (out != NULL && out[0] == '\0')
			snprintf(out, outlen, "%s", line);
	st = pclose(p);
	return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* A supervised process's pid (name: "worker", "api:api-1"); 0 if none. */
pid_t
supervised_pid(const char *name)
{
	char args[64], out[256];
	long pid;

	snprintf(args, sizeof(args), "pid %s", name);
	supervisorctl(args, out, sizeof(out));
	pid = strtol(out, NULL, 10);
	if (pid <= 1 || kill((pid_t)pid, 0) != 0)
		return 0;
	return (pid_t)pid;
}

/* The pid of name's next process, once it is not old; 0 after secs. */
pid_t
restarted(const char *name, pid_t old, int secs)
{
	pid_t pid;
	int i;

	for (i = 0; i < secs * 20; i++) {
		if ((pid = supervised_pid(name)) > 0 && pid != old)
			return pid;
		usleep(50000);
	}
	return 0;
}

extern char **environ;

pid_t
stack_spawn(const char *bin, const char *log, const char *const *drop,
    const char *const *extra)
{
	const char *dir = getenv("VETRED_STACK_BIN");
	char path[512], *argv[2], **envp;
	pid_t pid, parent = getpid();
	size_t n, k = 0, i, j;
	int fd;

	ck_assert_msg(dir != NULL && *dir, "VETRED_STACK_BIN is not set");
	snprintf(path, sizeof(path), "%s/%s", dir, bin);
	ck_assert_msg(access(path, X_OK) == 0, "%s: not built", path);
	fd = open(log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	ck_assert_int_ge(fd, 0);
	for (n = 0; environ[n] != NULL; n++)
		;
	envp = calloc(n + 13, sizeof(*envp));
	ck_assert_ptr_nonnull(envp);
	for (i = 0; i < n; i++) {
		for (j = 0; drop != NULL && drop[j] != NULL &&
		    strncmp(environ[i], drop[j], strlen(drop[j])) != 0; j++)
			;
		if (drop == NULL || drop[j] == NULL)
			envp[k++] = environ[i];
	}
	for (i = 0; extra != NULL && extra[i] != NULL && i < 12; i++)
		envp[k++] = (char *)extra[i];
	argv[0] = path;
	argv[1] = NULL;
	pid = fork();
	ck_assert_int_ge(pid, 0);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(127);
		dup2(fd, 1);
		dup2(fd, 2);
		close(0);
		open("/dev/null", O_RDONLY);
		/* Not the test's connections, nor the runner's files. */
		close_range(3, ~0U, 0);
		execve(path, argv, envp);
		_exit(127);
	}
	close(fd);
	free(envp);
	return pid;
}

int
stack_reap(pid_t pid, int ms)
{
	struct timespec t0, t;
	int st;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		if (waitpid(pid, &st, WNOHANG) == pid)
			return st;
		usleep(20000);
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((t.tv_sec - t0.tv_sec) * 1000 +
	    (t.tv_nsec - t0.tv_nsec) / 1000000 < ms);
	return -1;
}

/*
 * vetred-worker-prueba as consumer (its queue vetred.<consumer>), its
 * listener on a free port (*port), its log in log; once it consumes.
 */
pid_t
prueba_spawn(const char *consumer, const char *const *extra, char *log,
    size_t loglen, int *port)
{
	static const char *const drop[] = { "VETRED_LOG_FILE=",
	    "VETRED_WORKER_", "PRUEBA_", NULL };
	const char *env[12];
	char line[4096], name[128], *s;
	struct timespec t0, t;
	size_t i, k = 0;
	pid_t pid;
	FILE *f;
	int ready = 0;

	snprintf(name, sizeof(name), "PRUEBA_CONSUMIDOR=%s", consumer);
	env[k++] = name;
	env[k++] = "VETRED_WORKER_METRICS_ADDR=127.0.0.1:0";
	env[k++] = "VETRED_WORKER_INSTANCE=prueba-1";
	for (i = 0; extra != NULL && extra[i] != NULL && k < 11; i++)
		env[k++] = extra[i];
	env[k] = NULL;
	snprintf(log, loglen, "%s/log/worker-%s.log", stack_dir(), consumer);
	pid = stack_spawn("vetred-worker-prueba", log, drop, env);
	*port = 0;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		usleep(50000);
		if ((f = fopen(log, "r")) != NULL) {
			while (fgets(line, sizeof(line), f) != NULL) {
				if ((s = strstr(line, "\"metrics_port\":")) != NULL)
					*port = atoi(s + strlen("\"metrics_port\":"));
				if (strstr(line, "\"msg\":\"consuming\"") != NULL)
					ready = 1;
			}
			fclose(f);
		}
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while (!ready && t.tv_sec - t0.tv_sec < 15);
	ck_assert_msg(ready && *port > 0, "vetred-worker-prueba did not "
	    "start consuming (log %s)", log);
	return pid;
}

/* ---- metrics -------------------------------------------------------- */

void
metrics_promtool_ok(const struct http_resp *r, const char *who)
{
	char path[] = "/tmp/vetred-metrics-XXXXXX", cmd[256];
	FILE *f;
	int fd, rc;

	fd = mkstemp(path);
	ck_assert_int_ge(fd, 0);
	f = fdopen(fd, "w");
	ck_assert_ptr_nonnull(f);
	fwrite(r->body, 1, r->len, f);
	fclose(f);
	snprintf(cmd, sizeof(cmd), "promtool check metrics < %s >/dev/null "
	    "2>&1", path);
	rc = system(cmd);
	unlink(path);
	ck_assert_msg(rc == 0, "promtool rejected the metrics of "
	    "%s:\n%.2000s", who, r->body);
}

double
metrics_sum(const char *text, const char *name, const char *want)
{
	const char *p = text, *eol, *sp;
	size_t n = strlen(name);
	double sum = 0;
	int found = 0;

	for (; p != NULL && *p; p = *eol ? eol + 1 : eol) {
		eol = p + strcspn(p, "\n");
		if (strncmp(p, name, n) != 0 || (p[n] != '{' && p[n] != ' '))
			continue;
		sp = memrchr(p, ' ', (size_t)(eol - p));
		if (sp == NULL || (want != NULL &&
		    !memmem(p, (size_t)(sp - p), want, strlen(want))))
			continue;
		sum += strtod(sp + 1, NULL);
		found = 1;
	}
	return found ? sum : NAN;
}
