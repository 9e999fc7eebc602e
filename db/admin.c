/*
 * admin.c - vetred-admin: operator commands that need no API.
 *
 *   vetred-admin hash              password on stdin -> Argon2id hash on
 *                                  stdout (for seeds and provisioning)
 *   vetred-admin clave EMAIL       password on stdin -> set it for the
 *                                  user; every session of the user is
 *                                  revoked
 *   vetred-admin crear-admin EMAIL [NOMBRE] [--forzar]
 *                                  password on stdin -> the first network
 *                                  administrator (admin_red) of a fresh
 *                                  database; refused while an active one
 *                                  exists, unless --forzar (--force)
 *   vetred-admin sellar            seal the audit rows not yet in the hash
 *                                  chain now, and log the chain's head
 *                                  (the engine's job sellado_auditoria
 *                                  does it every 2 s: vetred-worker)
 *   vetred-admin verificar [LOG...]  walk the chain; print its state as
 *                                  JSON, exit 1 when a link is broken.
 *                                  With the sealers' logs: also check each
 *                                  chain head they recorded (a chain
 *                                  rebuilt after an edit verifies on its
 *                                  own, but not against its old heads)
 *   vetred-admin cifrar            seal the owners' personal data with the
 *                                  first key of VETRED_DATA_KEYS: plain rows
 *                                  (from before encryption) and rows of
 *                                  older keys, 500 per transaction, while
 *                                  the API runs
 *
 * Passwords must pass the same policy as through the API (10+ characters,
 * not a common password).  Reads VETRED_DATABASE_URL, VETRED_ARGON2_* and
 * VETRED_COMMON_PASSWORDS_FILE like the services.  What it says goes to
 * stderr as JSON lines (vr_log), the server's notices included; stdout
 * carries only a command's product: the hash, verificar's JSON verdict.
 * Exit 0 on success, 1 on a refused password, an unknown user, an e-mail
 * already registered or a broken chain, 2 on bad usage, configuration or
 * database errors, 3 when crear-admin finds an active administrator.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vr.h"

/*
 * What vetred-admin reads: the core every process reads and the password
 * settings (lib/password.c's table), for the commands that hash.
 */
struct admin_config {
	struct vr_config	 core;
	struct vr_password_cfg	 pw;
};

#define SEAL_BATCH	"500"	/* audit rows read per sealing transaction */

#define EXIT_ADMIN_EXISTS	3	/* crear-admin: an active admin_red exists */

static const char usage_text[] =
    "usage: vetred-admin hash | clave EMAIL          (password on stdin)\n"
    "       vetred-admin crear-admin EMAIL [NOMBRE] [--forzar]\n"
    "                                                (password on stdin)\n"
    "       vetred-admin sellar | verificar [LOG...] | cifrar\n"
    "       vetred-admin --help | --version\n"
    "Exit 0: done; 1: refused (password, user, e-mail, broken chain);\n"
    "2: usage, configuration or database error; 3: crear-admin found an\n"
    "active network administrator (--forzar adds one anyway).\n";

static int
usage(void)
{
	fputs(usage_text, stderr);
	return 2;
}

/* A failure of the command, as its log line. */
static void
fail(const char *msg, const char *key, const char *val)
{
	vr_log(VR_LOG_ERROR, NULL, msg, key, val, NULL);
}

static double
now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

/*
 * The log line of a sealing run (stderr, JSON): how many rows, how long,
 * and the chain's head (sello absent: an empty chain), as vetred-worker's
 * sellado_auditoria logs it.  Shipped off the machine with the other
 * logs, the heads are anchors the database's owner cannot rewrite: a
 * chain rebuilt after an edit no longer holds the logged hash at the
 * logged sello.
 */
static void
log_seal(const char *msg, long total, double ms, const char *sello,
    const char *hash)
{
	struct vr_log_field f[] = { VR_LF_INT("filas", total),
	    VR_LF_DBL("ms", ms), VR_LF_INT("ultimo_sello",
	    sello ? atoll(sello) : 0), VR_LF_STR("hash", hash) };

	vr_log_fields(VR_LOG_INFO, NULL, msg, f, sello ? 4 : 2);
}

/*
 * `"ultimo_sello":N,"hash":"HEX"` at p, N a number (or, in logs of older
 * sealers, a string): 1 with the sello and the hash, 0 if not.
 */
static int
anchor_parse(const char *p, long long *sello, char hex[65])
{
	int q;

	p += strlen("\"ultimo_sello\":");
	q = *p == '"';
	if (sscanf(p + q, "%lld", sello) != 1)
		return 0;
	p += q + strspn(p + q, "0123456789");
	if (q && *p++ != '"')
		return 0;
	return sscanf(p, ",\"hash\":\"%64[0-9a-f]\"", hex) == 1 &&
	    strlen(hex) == 64;
}

/*
 * The chain heads logged by `sellar` in the given log files, as lines of
 * "sello hash" for auditoria_anclas; NULL on a file that cannot be read.
 */
static char *
read_anchors(char **files, int n)
{
	char *line = NULL, *out = calloc(1, 1), *p, hex[65], *grown;
	size_t cap = 0, len = 0;
	long long sello;
	FILE *f;
	int i;

	for (i = 0; i < n && out != NULL; i++) {
		if ((f = fopen(files[i], "r")) == NULL) {
			fail("cannot read the log", "file", files[i]);
			free(out);
			out = NULL;
			break;
		}
		while (out != NULL && getline(&line, &cap, f) > 0) {
			if ((p = strstr(line, "\"ultimo_sello\":")) == NULL ||
			    !anchor_parse(p, &sello, hex))
				continue;
			if ((grown = realloc(out, len + 96)) == NULL) {
				free(out);
				out = NULL;
				break;
			}
			out = grown;
			len += (size_t)snprintf(out + len, 96, "%lld %s\n", sello,
			    hex);
		}
		fclose(f);
	}
	free(line);
	return out;
}

/*
 * One sealing run: SEAL_BATCH rows a transaction until a call reads
 * fewer, then its log line with the chain's head.  Rows sealed, or -1
 * (db->errmsg says why).
 */
static long
seal_run(struct vr_db *db)
{
	PGresult *res = NULL;
	double t0 = now_ms();
	long total = 0, n;

	for (;;) {
		if (vr_db_query(db, "SELECT sellados, leidas, ultimo_sello, "
		    "ultimo_hash FROM auditoria_sellar(" SEAL_BATCH ")", &res) < 0)
			return -1;
		total += atol(PQgetvalue(res, 0, 0));
		n = atol(PQgetvalue(res, 0, 1));
		if (n < atol(SEAL_BATCH))
			break;
		PQclear(res);
	}
	log_seal("audit rows sealed", total, now_ms() - t0,
	    PQgetisnull(res, 0, 2) ? NULL : PQgetvalue(res, 0, 2),
	    PQgetvalue(res, 0, 3));
	PQclear(res);
	return total;
}

/* vetred-admin sellar: one run, now. */
static int
seal(const struct admin_config *cfg)
{
	struct vr_db db;
	long n;

	if (vr_db_open(&db, cfg->core.database_url, NULL, 0, 0) < 0) {
		fail("cannot connect to the database", "error", db.errmsg);
		return 2;
	}
	/* seal_run() logged the run. */
	if ((n = seal_run(&db)) < 0)
		fail("sealing failed", "error", db.errmsg);
	vr_db_close(&db);
	return n >= 0 ? 0 : 2;
}

/* verificar [LOG...]: the chain, and the heads the logs recorded. */
static int
verify(const struct admin_config *cfg, char **logs, int nlogs)
{
	static const char *const sql[] = { "SELECT auditoria_estado($1)",
	    NULL };
	const char *param[1];
	struct vr_db db;
	PGresult *res = NULL;
	char *anchors;
	int rc;

	if ((anchors = read_anchors(logs, nlogs)) == NULL)
		return 2;
	if (vr_db_open(&db, cfg->core.database_url, sql, 1, 0) < 0) {
		free(anchors);
		fail("cannot connect to the database", "error", db.errmsg);
		return 2;
	}
	param[0] = anchors;
	if (vr_db_exec(&db, 0, 1, param, &res) < 0) {
		fail("verification failed", "error", db.errmsg);
		rc = 2;
	} else {
		printf("%s\n", PQgetvalue(res, 0, 0));
		rc = strstr(PQgetvalue(res, 0, 0), "\"integra\": false") != NULL;
		PQclear(res);
	}
	free(anchors);
	vr_db_close(&db);
	return rc;
}

/* One line from stdin without its newline; NULL when empty. */
static char *
read_password(char *buf, size_t n)
{
	if (fgets(buf, (int)n, stdin) == NULL)
		return NULL;
	buf[strcspn(buf, "\r\n")] = '\0';
	return buf[0] ? buf : NULL;
}

/*
 * What cifrar seals: lib/cifra.c's sealed columns, grouped by table (the
 * rows of one table are consecutive there); nhash: how many of them have
 * their keyed hash in a column of its own (vr_sealed_col.hash).
 */
#define MAX_SEALED_TABLES	8
#define MAX_SEALED_COLS		6

struct sealed_table {
	const char			*table;
	const struct vr_sealed_col	*cols[MAX_SEALED_COLS];
	int				 ncols;
	int				 nhash;
};

static struct sealed_table sealed_tables[MAX_SEALED_TABLES];
static int nsealed;

static void
sealed_tables_init(void)
{
	const struct vr_sealed_col *c;
	struct sealed_table *t = NULL;
	size_t i;

	nsealed = 0;
	for (i = 0; i < vr_sealed_ncols; i++) {
		c = &vr_sealed_cols[i];
		if (t == NULL || strcmp(t->table, c->table) != 0) {
			if (nsealed == MAX_SEALED_TABLES)
				abort();
			t = &sealed_tables[nsealed++];
			memset(t, 0, sizeof(*t));
			t->table = c->table;
		}
		if (t->ncols == MAX_SEALED_COLS)
			abort();
		if (c->hash != NULL)
			t->nhash++;
		t->cols[t->ncols++] = c;
	}
}

/*
 * SELECT and UPDATE of one table, as vr_db statements 2t and 2t+1: the
 * rows with a value not sealed under the current key, or with a searched
 * value whose hash is missing (a hash column added since the row was
 * sealed).  UPDATE: $1 id, the new values, the hashes, then the values
 * read (the row is left alone if it changed meanwhile).
 */
static void
sealed_sql(const struct sealed_table *t, struct vr_buf *sel,
    struct vr_buf *upd)
{
	int c, h;

	vr_buf_printf(sel, "SELECT id");
	for (c = 0; c < t->ncols; c++)
		vr_buf_printf(sel, ", %s", t->cols[c]->column);
	vr_buf_printf(sel, " FROM %s WHERE ", t->table);
	for (c = 0; c < t->ncols; c++) {
		vr_buf_printf(sel, "%s%s NOT LIKE $1", c ? " OR " : "",
		    t->cols[c]->column);
		if (t->cols[c]->hash != NULL)
			vr_buf_printf(sel, " OR (%s IS NOT NULL AND %s IS NULL)",
			    t->cols[c]->column, t->cols[c]->hash);
	}
	vr_buf_printf(sel, " ORDER BY id LIMIT 500");
	vr_buf_printf(upd, "UPDATE %s SET ", t->table);
	for (c = 0; c < t->ncols; c++)
		vr_buf_printf(upd, "%s%s = $%d", c ? ", " : "",
		    t->cols[c]->column, c + 2);
	for (c = h = 0; c < t->ncols; c++)
		if (t->cols[c]->hash != NULL)
			vr_buf_printf(upd, ", %s = decode($%d, 'hex')",
			    t->cols[c]->hash, t->ncols + 2 + h++);
	vr_buf_printf(upd, " WHERE id = $1::bigint");
	for (c = 0; c < t->ncols; c++)
		vr_buf_printf(upd, " AND %s IS NOT DISTINCT FROM $%d::text",
		    t->cols[c]->column, t->ncols + 2 + t->nhash + c);
}

/*
 * Column c of row i re-sealed for col (v2) under ring->k[0]; NULL stays
 * NULL.
 */
static char *
reseal(const struct vr_jwt_keys *ring, const struct vr_sealed_col *col,
    PGresult *res,
    int i, int c, char **plain_out, int *rc)
{
	const char *v = PQgetvalue(res, i, c + 1);
	char *plain, *sealed = NULL;

	if (PQgetisnull(res, i, c + 1))
		return NULL;
	if (vr_is_sealed(v)) {
		if ((*rc = vr_unseal_col(ring, col, v, &plain)) < 0)
			return NULL;
	} else
		plain = vr_xstrdup(v);
	if ((*rc = vr_seal_col(&ring->k[0], col, plain, &sealed)) < 0)
		sealed = NULL;
	if (plain_out != NULL)
		*plain_out = plain;
	else
		free(plain);
	return sealed;
}

/* One table, batch by batch; rows done in *total.  0, <0 or 2. */
static int
cifrar_tabla(struct vr_db *db, int t, const struct vr_jwt_keys *ring,
    const struct vr_jwt_keys *search, const char *like, long *total)
{
	const struct sealed_table *tb = &sealed_tables[t];
	const char *p[1] = { like }, *q[1 + 3 * MAX_SEALED_COLS];
	char hex[MAX_SEALED_COLS][65], *v[MAX_SEALED_COLS];
	char *plain[MAX_SEALED_COLS];
	PGresult *res = NULL, *up = NULL;
	long done;
	int i, c, n, k, h, rc = 0;

	for (;;) {
		if (vr_db_begin(db) < 0 || vr_db_exec(db, 2 * t, 1, p, &res) < 0)
			return 2;
		n = PQntuples(res);
		for (i = done = 0; i < n && rc == 0; i++) {
			for (c = 0; c < tb->ncols; c++)
				v[c] = plain[c] = NULL;
			for (c = 0; c < tb->ncols && rc == 0; c++)
				v[c] = reseal(ring, tb->cols[c], res, i, c,
				    tb->cols[c]->hash != NULL ? &plain[c] : NULL,
				    &rc);
			if (rc == 0) {
				k = 0;
				q[k++] = PQgetvalue(res, i, 0);
				for (c = 0; c < tb->ncols; c++)
					q[k++] = v[c];
				for (c = h = 0; c < tb->ncols; c++) {
					if (tb->cols[c]->hash == NULL)
						continue;
					q[k] = NULL;
					if (plain[c] != NULL) {
						vr_search_hash(&search->k[0],
						    plain[c], hex[h]);
						q[k] = hex[h];
					}
					k++, h++;
				}
				for (c = 0; c < tb->ncols; c++)
					q[k++] = PQgetisnull(res, i, c + 1) ? NULL :
					    PQgetvalue(res, i, c + 1);
				if (vr_db_exec_write(db, 2 * t + 1, k, q, &up) < 0)
					rc = 2;
				else
					done += atol(PQcmdTuples(up));
				PQclear(up);
			}
			for (c = 0; c < tb->ncols; c++) {
				free(v[c]);
				free(plain[c]);
			}
		}
		PQclear(res);
		if (rc != 0 || vr_db_commit(db) < 0) {
			vr_db_rollback(db);
			return rc ? rc : 2;
		}
		*total += done;
		if (n == 0 || done == 0)
			return 0;
	}
}

static int
cifrar(const struct admin_config *cfg)
{
	struct vr_keyring kr;
	struct vr_buf b[2 * MAX_SEALED_TABLES];
	const char *sql[2 * MAX_SEALED_TABLES];
	struct vr_db db;
	char err[256], like[64];
	long total[MAX_SEALED_TABLES] = { 0 };
	int t, rc = 0;

	if (vr_keyring_load(&kr, VR_KEYS_SEAL | VR_KEYS_SEARCH, &cfg->core, err,
	    sizeof(err)) < 0) {
		fail("bad key configuration", "error", err);
		return 2;
	}
	sealed_tables_init();
	for (t = 0; t < nsealed; t++) {
		vr_buf_init(&b[2 * t]);
		vr_buf_init(&b[2 * t + 1]);
		sealed_sql(&sealed_tables[t], &b[2 * t], &b[2 * t + 1]);
		sql[2 * t] = b[2 * t].data;
		sql[2 * t + 1] = b[2 * t + 1].data;
	}
	if (vr_db_open(&db, cfg->core.database_url, sql, 2 * nsealed, 0) < 0) {
		fail("cannot connect to the database", "error", db.errmsg);
		for (t = 0; t < 2 * nsealed; t++)
			vr_buf_free(&b[t]);
		return 2;
	}
	snprintf(like, sizeof(like), "v2:%s:%%", kr.seal.k[0].kid);
	for (t = 0; t < nsealed && rc == 0; t++)
		rc = cifrar_tabla(&db, t, &kr.seal, &kr.search, like,
		    &total[t]);
	if (rc == 2)
		fail("sealing failed", "error", db.errmsg);
	else if (rc < 0)
		fail("a sealed value does not open with VETRED_DATA_KEYS",
		    "error", vr_strerror(rc));
	else
		for (t = 0; t < nsealed; t++) {
			snprintf(like, sizeof(like), "%ld", total[t]);
			vr_log(VR_LOG_INFO, NULL, "rows sealed", "tabla",
			    sealed_tables[t].table, "filas", like, "clave",
			    kr.seal.k[0].kid, NULL);
		}
	vr_db_close(&db);
	for (t = 0; t < 2 * nsealed; t++)
		vr_buf_free(&b[t]);
	return rc == 0 ? 0 : 2;
}

/*
 * The password on stdin, checked against the policy (email: the account's,
 * or NULL) and hashed into hash.  0, or the exit status of the refusal.
 */
static int
password_in(const struct admin_config *cfg, const char *email, char *hash,
    size_t hashlen)
{
	char pw[1100];
	const char *why;

	if (vr_common_passwords_load(cfg->pw.common_passwords) < 0) {
		fail("cannot read the common passwords", "file",
		    cfg->pw.common_passwords);
		return 2;
	}
	if (read_password(pw, sizeof(pw)) == NULL) {
		fail("no password on stdin", NULL, NULL);
		return 2;
	}
	if ((why = vr_password_weak(pw, email)) != NULL) {
		fail("password refused", "motivo", why);
		return 1;
	}
	if (vr_password_hash(pw, &cfg->pw.kdf, hash, hashlen) < 0) {
		fail("hashing failed", NULL, NULL);
		return 2;
	}
	return 0;
}

/* hash: the Argon2id hash of the password on stdin, on stdout. */
static int
cmd_hash(const struct admin_config *cfg, char **args, int nargs, int force)
{
	char hash[VR_PASSWORD_HASH_LEN];
	int rc;

	(void)args;
	(void)nargs;
	(void)force;
	if ((rc = password_in(cfg, NULL, hash, sizeof(hash))) != 0)
		return rc;
	printf("%s\n", hash);
	return 0;
}

/* clave EMAIL: set the user's password; its sessions are revoked. */
static int
cmd_clave(const struct admin_config *cfg, char **args, int nargs, int force)
{
	static const char *const sql[] = { "UPDATE usuarios SET "
	    "password_hash = $2 WHERE lower(email) = lower($1)", NULL };
	char hash[VR_PASSWORD_HASH_LEN];
	const char *p[2];
	PGresult *res = NULL;
	struct vr_db db;
	int rc;

	(void)nargs;
	(void)force;
	if ((rc = password_in(cfg, args[0], hash, sizeof(hash))) != 0)
		return rc;
	if (vr_db_open(&db, cfg->core.database_url, sql, 1, 0) < 0) {
		fail("cannot connect to the database", "error", db.errmsg);
		return 2;
	}
	p[0] = args[0];
	p[1] = hash;
	rc = vr_db_exec_write(&db, 0, 2, p, &res);
	if (rc == 0 && strcmp(PQcmdTuples(res), "1") != 0)
		rc = VR_ENOTFOUND;
	PQclear(res);
	vr_db_close(&db);
	if (rc < 0) {
		vr_log(VR_LOG_ERROR, NULL, rc == VR_ENOTFOUND ? "no such user" :
		    "cannot set the password", "email", args[0], "error",
		    vr_strerror(rc), NULL);
		return 1;
	}
	vr_log(VR_LOG_INFO, NULL, "password set; the user's sessions were "
	    "revoked", "email", args[0], NULL);
	return 0;
}

/*
 * What crear_admin_red() answered (db/functions/usuarios.sql), as a log
 * line and the exit status, by the verdict's code: 0 creado, 3
 * admin-existe, 1 any refusal.
 */
static int
crear_admin_verdict(const char *json, const char *email, int force)
{
	cJSON *v = cJSON_Parse(json);
	const cJSON *code = cJSON_GetObjectItemCaseSensitive(v, "codigo");
	const char *c = cJSON_IsString(code) ? code->valuestring : "";
	const cJSON *detalle = cJSON_GetObjectItemCaseSensitive(v, "detalle");
	const cJSON *cuerpo = cJSON_GetObjectItemCaseSensitive(v, "cuerpo");
	char id[24];
	int rc = 1;

	if (strcmp(c, "creado") == 0) {
		snprintf(id, sizeof(id), "%.0f", cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(cuerpo, "id")));
		vr_log(VR_LOG_INFO, NULL, "network administrator created",
		    "email", email, "usuario_id", id, "forzado",
		    force ? "true" : "false", NULL);
		rc = 0;
	} else if (strcmp(c, "admin-existe") == 0) {
		snprintf(id, sizeof(id), "%.0f", cJSON_GetNumberValue(
		    cJSON_GetObjectItemCaseSensitive(v, "usuario_id")));
		vr_log(VR_LOG_ERROR, NULL, "an active network administrator "
		    "exists: nothing created (--forzar adds another)",
		    "usuario_id", id, NULL);
		rc = EXIT_ADMIN_EXISTS;
	} else
		vr_log(VR_LOG_ERROR, NULL, "administrator refused", "email",
		    email, "detalle", cJSON_IsString(detalle) ?
		    detalle->valuestring : json, NULL);
	cJSON_Delete(v);
	return rc;
}

/*
 * crear-admin EMAIL [NOMBRE] [--forzar]: the first network administrator
 * of a fresh database.  Exit 3 while an active one exists, unless forced.
 */
static int
cmd_crear_admin(const struct admin_config *cfg, char **args, int nargs,
    int force)
{
	static const char *const sql[] = { "SELECT crear_admin_red($1, $2, "
	    "$3, $4::boolean)", NULL };
	char hash[VR_PASSWORD_HASH_LEN];
	const char *p[4];
	PGresult *res = NULL;
	struct vr_db db;
	int rc;

	if (!vr_valid_email(args[0])) {
		fail("not an e-mail address", "email", args[0]);
		return 2;
	}
	if ((rc = password_in(cfg, args[0], hash, sizeof(hash))) != 0)
		return rc;
	if (vr_db_open(&db, cfg->core.database_url, sql, 1, 0) < 0) {
		fail("cannot connect to the database", "error", db.errmsg);
		return 2;
	}
	p[0] = args[0];
	p[1] = nargs > 1 ? args[1] : "Administrador de la red";
	p[2] = hash;
	p[3] = force ? "true" : "false";
	if (vr_db_exec_write(&db, 0, 4, p, &res) < 0) {
		fail("cannot create the administrator", "error", db.errmsg);
		rc = 2;
	} else
		rc = crear_admin_verdict(PQgetvalue(res, 0, 0), args[0], force);
	PQclear(res);
	vr_db_close(&db);
	return rc;
}

static int
cmd_sellar(const struct admin_config *cfg, char **args, int nargs, int force)
{
	(void)args;
	(void)nargs;
	(void)force;
	return seal(cfg);
}

static int
cmd_verificar(const struct admin_config *cfg, char **args, int nargs,
    int force)
{
	(void)force;
	return verify(cfg, args, nargs);
}

static int
cmd_cifrar(const struct admin_config *cfg, char **args, int nargs, int force)
{
	(void)args;
	(void)nargs;
	(void)force;
	return cifrar(cfg);
}

/* The commands: name, arguments after it (min, max), whether --forzar. */
static const struct command {
	const char	*name;
	int		 min, max;
	int		 forcible;
	int		(*fn)(const struct admin_config *, char **, int, int);
} commands[] = {
	{ "hash", 0, 0, 0, cmd_hash },
	{ "clave", 1, 1, 0, cmd_clave },
	{ "crear-admin", 1, 2, 1, cmd_crear_admin },
	{ "sellar", 0, 0, 0, cmd_sellar },
	{ "verificar", 0, 1 << 20, 0, cmd_verificar },
	{ "cifrar", 0, 0, 0, cmd_cifrar },
};
#define NCOMMANDS	((int)(sizeof(commands) / sizeof(commands[0])))

int
main(int argc, char **argv)
{
	static const char *const flags[] = { "--forzar", "--force", NULL };
	const struct command *c = NULL;
	struct admin_config cfg;
	char err[256], **pos;
	int i, n = 0, force = 0, rc, dashdash = 0;

	if ((rc = vr_cli_options(argc, argv, "vetred-admin", usage_text,
	    flags)) >= 0)
		return rc;
	vr_log_init("admin", VR_LOG_INFO);
	/* The command and its arguments, without the flags. */
	pos = vr_xcalloc((size_t)argc, sizeof(*pos));
	for (i = 1; i < argc; i++) {
		if (!dashdash && strcmp(argv[i], "--") == 0)
			dashdash = 1;
		else if (!dashdash && argv[i][0] == '-' && argv[i][1] != '\0')
			force = 1;	/* the only flags: --forzar, --force */
		else
			pos[n++] = argv[i];
	}
	for (i = 0; n > 0 && i < NCOMMANDS; i++)
		if (strcmp(pos[0], commands[i].name) == 0)
			c = &commands[i];
	if (c == NULL || n - 1 < c->min || n - 1 > c->max ||
	    (force && !c->forcible)) {
		free(pos);
		return usage();
	}
	if (vr_config_load(&cfg.core, err, sizeof(err)) < 0 ||
	    vr_config_parse(&cfg.pw, vr_password_vars, vr_password_nvars, err,
	    sizeof(err)) < 0) {
		fail("bad configuration", "error", err);
		free(pos);
		return 2;
	}
	rc = c->fn(&cfg, pos + 1, n - 1, force);
	free(pos);
	return rc;
}
