/*
 * check_cli.c - the binaries as an operator runs them: --help and
 * --version of each, vetred-admin crear-admin (the first administrator of
 * a fresh database, then signing in with it through nginx), and the
 * output of vetred-migrate and vetred-admin as JSON lines, the server's
 * notices and warnings included.
 *
 * The binaries are the ones next to this runner (build/<mode>/).  A fresh
 * database is a private schema of the stack's database (search_path
 * "<schema>, public": the extension stays in public), migrated by
 * vetred-migrate from db/migrations and db/functions and dropped at the
 * end (see
 * fresh_db() for how the stack's own grants stay as they were).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "itest.h"
#include "vr.h"

#define PASSWORD	"Lechuza-Andina-Roja-41"

struct run {
	int	 status;	/* exit status, -1 when killed */
	char	 out[16384];	/* stdout */
	char	 err[65536];	/* stderr */
};

static char bindir[1024];

static const char *
bin_dir(void)
{
	ssize_t len;

	if (bindir[0] == '\0') {
		len = readlink("/proc/self/exe", bindir, sizeof(bindir) - 1);
		ck_assert_int_gt(len, 0);
		bindir[len] = '\0';
		*strrchr(bindir, '/') = '\0';
	}
	return bindir;
}

static void
slurp(const char *path, char *buf, size_t n)
{
	FILE *f = fopen(path, "r");
	size_t got = 0;

	if (f != NULL) {
		got = fread(buf, 1, n - 1, f);
		fclose(f);
	}
	buf[got] = '\0';
	unlink(path);
}

/*
 * Run "env BINDIR/prog args" through the shell, stdin_text (NULL: none)
 * as its input line, stdout and stderr kept apart.
 */
static void
run(const char *env, const char *prog, const char *args,
    const char *stdin_text, struct run *r)
{
	char cmd[4096], out[64], err[64];
	int fd, st;

	snprintf(out, sizeof(out), "/tmp/vr-it-cli-out-XXXXXX");
	snprintf(err, sizeof(err), "/tmp/vr-it-cli-err-XXXXXX");
	ck_assert_int_ge(fd = mkstemp(out), 0);
	close(fd);
	ck_assert_int_ge(fd = mkstemp(err), 0);
	close(fd);
	if (stdin_text != NULL)
		snprintf(cmd, sizeof(cmd), "printf '%%s\\n' '%s' | env %s "
		    "'%s/%s' %s >%s 2>%s", stdin_text, env ? env : "",
		    bin_dir(), prog, args, out, err);
	else
		snprintf(cmd, sizeof(cmd), "env %s '%s/%s' %s >%s 2>%s "
		    "</dev/null", env ? env : "", bin_dir(), prog, args, out,
		    err);
	st = system(cmd);
	r->status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
	slurp(out, r->out, sizeof(r->out));
	slurp(err, r->err, sizeof(r->err));
}

/* Every line of text is one JSON log line of service; how many. */
static int
assert_json_lines(const char *text, const char *service)
{
	const char *p = text, *nl;
	char line[8192];
	cJSON *o;
	int n = 0;

	for (; *p; p = nl + 1) {
		nl = strchr(p, '\n');
		ck_assert_msg(nl != NULL, "unterminated line: %s", p);
		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		o = cJSON_Parse(line);
		ck_assert_msg(cJSON_IsObject(o), "not a JSON line: %s", line);
		ck_assert_str_eq(json_s(o, "service"), service);
		json_s(o, "time");
		json_s(o, "level");
		json_s(o, "msg");
		cJSON_Delete(o);
		n++;
	}
	return n;
}

/* 1 when a line of text has msg (and, with key, the field key = val). */
static int
has_line(const char *text, const char *msg, const char *key, const char *val)
{
	char want[512], pair[512];
	const char *p = text, *nl;

	snprintf(want, sizeof(want), "\"msg\":\"%s\"", msg);
	snprintf(pair, sizeof(pair), "\"%s\":\"%s\"", key ? key : "msg",
	    key ? val : msg);
	for (; (nl = strchr(p, '\n')) != NULL; p = nl + 1) {
		char line[8192];

		snprintf(line, sizeof(line), "%.*s", (int)(nl - p), p);
		if (strstr(line, want) != NULL && strstr(line, pair) != NULL)
			return 1;
	}
	return 0;
}

/* ---- --help and --version --------------------------------------------- */

START_TEST(cada_binario_responde_help_y_version)
{
	static const char *const progs[] = { "vetred-api", "vetred-migrate",
	    "vetred-admin", "unit-tests", "integration-tests" };
	char want[128];
	struct run *r = malloc(sizeof(*r));
	size_t i;

	ck_assert_ptr_nonnull(r);
	for (i = 0; i < sizeof(progs) / sizeof(progs[0]); i++) {
		/* vetred-api must not start, whatever the environment says. */
		run(NULL, progs[i], "--help", NULL, r);
		ck_assert_msg(r->status == 0, "%s --help: %d", progs[i],
		    r->status);
		ck_assert_msg(strncmp(r->out, "usage: ", 7) == 0, "%s --help: "
		    "%s", progs[i], r->out);
		ck_assert_str_eq(r->err, "");
		run(NULL, progs[i], "-h", NULL, r);
		ck_assert_int_eq(r->status, 0);
		ck_assert_msg(strncmp(r->out, "usage: ", 7) == 0, "%s", r->out);

		run(NULL, progs[i], "--version", NULL, r);
		ck_assert_int_eq(r->status, 0);
		snprintf(want, sizeof(want), "%s %s\n", progs[i], vr_version());
		ck_assert_str_eq(r->out, want);
		ck_assert_str_eq(r->err, "");

		run(NULL, progs[i], "--no-existe", NULL, r);
		ck_assert_msg(r->status == 2, "%s --no-existe: %d", progs[i],
		    r->status);
		ck_assert_str_eq(r->out, "");
		ck_assert_msg(strstr(r->err, "usage: ") != NULL, "%s", r->err);
		ck_assert_ptr_nonnull(strstr(r->err, "--no-existe"));
	}
	/* After a command too; and a flag only crear-admin takes. */
	run(NULL, "vetred-admin", "clave x@vetred.test --help", NULL, r);
	ck_assert_int_eq(r->status, 0);
	ck_assert_int_eq(strncmp(r->out, "usage: ", 7), 0);
	run(NULL, "vetred-admin", "sellar --forzar", NULL, r);
	ck_assert_int_eq(r->status, 2);
	run(NULL, "vetred-migrate", "a b", NULL, r);
	ck_assert_int_eq(r->status, 2);
	ck_assert_ptr_nonnull(strstr(r->err, "usage: "));
	run(NULL, "vetred-api", "extra", NULL, r);
	ck_assert_int_eq(r->status, 2);
	/* The version string is one thing: what config.mk says. */
	ck_assert_str_eq(vr_version(), VR_VERSION);
	free(r);
}
END_TEST

/* ---- a fresh database ------------------------------------------------- */

static char schema[64];
static char fresh_url[2048];

/* What the API's role may do in public: must not change by a fresh one. */
#define ACL_PRINT "SELECT md5(string_agg(n, ',' ORDER BY n)) FROM (" \
	"SELECT proname || proacl::text n FROM pg_proc WHERE pronamespace = " \
	"'public'::regnamespace UNION ALL SELECT relname || relacl::text " \
	"FROM pg_class WHERE relnamespace = 'public'::regnamespace) a"

static char *acl_before;

/*
 * VETRED_DATABASE_URL with search_path "<schema>, pg_catalog, public".
 * The migrations grant to vetred_api ON ALL ... IN SCHEMA public, by
 * name: in the schema, a pg_roles without vetred_api (searched before
 * pg_catalog's) makes them skip their grants, so the stack's own public
 * schema keeps its privileges (checked in fresh_drop()).
 */
static void
fresh_db(void)
{
	const char *base = getenv("VETRED_DATABASE_URL");

	ck_assert_ptr_nonnull(base);
	snprintf(schema, sizeof(schema), "it_cli_%ld", (long)getpid());
	acl_before = db_value(ACL_PRINT);
	db_execf("SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s "
	    "CASCADE", schema);
	db_execf("CREATE SCHEMA %s", schema);
	db_execf("CREATE VIEW %s.pg_roles AS SELECT * FROM pg_catalog.pg_roles "
	    "WHERE rolname <> 'vetred_api'", schema);
	ck_assert_msg(strstr(base, "://") != NULL, "%s", base);
	snprintf(fresh_url, sizeof(fresh_url), "'VETRED_DATABASE_URL=%s%s"
	    "options=-csearch_path%%3D%s,pg_catalog,public'", base,
	    strchr(base, '?') != NULL ? "&" : "?", schema);
}

static void
fresh_drop(void)
{
	char *after = db_value(ACL_PRINT);

	db_execf("SET client_min_messages = warning; DROP SCHEMA IF EXISTS %s "
	    "CASCADE", schema);
	ck_assert_msg(strcmp(acl_before, after) == 0, "migrating a fresh "
	    "schema changed the privileges in public");
	free(after);
	free(acl_before);
}

/*
 * vetred-migrate of the repository's migrations and function files into
 * the fresh schema.
 */
static void
fresh_migrate(struct run *r)
{
	char args[1200], env[4096];

	snprintf(args, sizeof(args), "'%s/../../db/migrations'", bin_dir());
	snprintf(env, sizeof(env), "%s 'VETRED_FUNCTIONS_DIR=%s/../../db/"
	    "functions'", fresh_url, bin_dir());
	run(env, "vetred-migrate", args, NULL, r);
	ck_assert_msg(r->status == 0, "%d %s", r->status, r->err);
	ck_assert_ptr_nonnull(strstr(r->err, "\"schema up to date\""));
	ck_assert_ptr_nonnull(strstr(r->err, "role vetred_api does not exist"));
}

START_TEST(crear_admin_en_base_nueva)
{
	struct run *r = malloc(sizeof(*r));
	char *v;

	ck_assert_ptr_nonnull(r);
	fresh_db();
	fresh_migrate(r);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM %s.usuarios",
	    schema), 0);

	/* A weak password, a bad address, no password: nothing written. */
	run(fresh_url, "vetred-admin", "crear-admin primera@vetred.test",
	    "1234567890", r);
	ck_assert_int_eq(r->status, 1);
	ck_assert_msg(has_line(r->err, "password refused", NULL, NULL), "%s",
	    r->err);
	run(fresh_url, "vetred-admin", "crear-admin no-es-correo",
	    PASSWORD, r);
	ck_assert_int_eq(r->status, 2);
	run(fresh_url, "vetred-admin", "crear-admin primera@vetred.test",
	    NULL, r);
	ck_assert_int_eq(r->status, 2);
	ck_assert(has_line(r->err, "no password on stdin", NULL, NULL));
	run(fresh_url, "vetred-admin", "crear-admin primera@vetred.test ' '",
	    PASSWORD, r);
	ck_assert_int_eq(r->status, 2);
	ck_assert(has_line(r->err, "cannot create the administrator", NULL,
	    NULL));
	ck_assert_int_eq(db_countf("SELECT count(*) FROM %s.usuarios",
	    schema), 0);

	/* The first one: created, network-wide, audited as the system. */
	run(fresh_url, "vetred-admin", "crear-admin primera@vetred.test "
	    "'Rosa Huamán'", PASSWORD, r);
	ck_assert_msg(r->status == 0, "%d %s", r->status, r->err);
	ck_assert_str_eq(r->out, "");
	assert_json_lines(r->err, "admin");
	ck_assert(has_line(r->err, "network administrator created", "email",
	    "primera@vetred.test"));
	ck_assert_int_eq(db_countf("SELECT count(*) FROM %s.usuarios u JOIN "
	    "%s.usuario_roles r ON r.usuario_id = u.id WHERE u.email = "
	    "'primera@vetred.test' AND u.nombre = 'Rosa Huamán' AND u.activo "
	    "AND r.rol = 'admin_red' AND r.sede_id IS NULL", schema, schema), 1);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM %s.auditoria WHERE "
	    "rol = 'sistema' AND accion = 'crear' AND entidad = 'usuarios'",
	    schema), 1);
	v = db_valuef("SELECT password_hash FROM %s.usuarios WHERE email = "
	    "'primera@vetred.test'", schema);
	ck_assert_int_eq(vr_password_verify(PASSWORD, v), VR_OK);
	free(v);

	/* A second bootstrap: refused (exit 3), says why, writes nothing. */
	run(fresh_url, "vetred-admin", "crear-admin segunda@vetred.test",
	    PASSWORD, r);
	ck_assert_int_eq(r->status, 3);
	assert_json_lines(r->err, "admin");
	ck_assert_ptr_nonnull(strstr(r->err, "an active network "
	    "administrator exists"));
	ck_assert_int_eq(db_countf("SELECT count(*) FROM %s.usuarios",
	    schema), 1);

	/* Forced: a second admin; the same address twice: refused (1). */
	run(fresh_url, "vetred-admin", "crear-admin --forzar "
	    "segunda@vetred.test", PASSWORD, r);
	ck_assert_msg(r->status == 0, "%d %s", r->status, r->err);
	ck_assert(has_line(r->err, "network administrator created",
	    "forzado", "true"));
	run(fresh_url, "vetred-admin", "crear-admin SEGUNDA@vetred.test "
	    "--force", PASSWORD, r);
	ck_assert_int_eq(r->status, 1);
	ck_assert_ptr_nonnull(strstr(r->err, "Ya existe un usuario con ese "
	    "correo."));
	ck_assert_int_eq(db_countf("SELECT count(*) FROM %s.usuarios",
	    schema), 2);

	/* A disabled admin does not count: a new one may be made. */
	db_execf("UPDATE %s.usuarios SET activo = false", schema);
	run(fresh_url, "vetred-admin", "crear-admin tercera@vetred.test",
	    PASSWORD, r);
	ck_assert_msg(r->status == 0, "%d %s", r->status, r->err);
	fresh_drop();
	free(r);
}
END_TEST

/*
 * deploy/crear-admin.sh, the compose one-shot `admin`: a random password
 * kept in its directory when none is given; every later run (an admin
 * exists) succeeds without writing anything.
 */
START_TEST(compose_admin_una_vez)
{
	struct run *r = malloc(sizeof(*r));
	char dir[64], env[8192], pwfile[128], pw[128], *v;
	struct stat st;
	FILE *f;

	ck_assert_ptr_nonnull(r);
	fresh_db();
	fresh_migrate(r);
	snprintf(dir, sizeof(dir), "/tmp/vr-it-cli-boot-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	snprintf(env, sizeof(env), "%s PATH='%s':\"$PATH\" "
	    "VETRED_BOOTSTRAP_DIR=%s VETRED_ADMIN_EMAIL=boot@vetred.test "
	    "VETRED_ADMIN_PASSWORD= bash", fresh_url, bin_dir(), dir);
	run(env, "../../deploy/crear-admin.sh", "", NULL, r);
	ck_assert_msg(r->status == 0, "%d %s", r->status, r->err);
	assert_json_lines(r->err, "admin");
	snprintf(pwfile, sizeof(pwfile), "%s/admin-password", dir);
	ck_assert_int_eq(stat(pwfile, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0600);
	ck_assert_ptr_nonnull(f = fopen(pwfile, "r"));
	ck_assert_ptr_nonnull(fgets(pw, sizeof(pw), f));
	fclose(f);
	pw[strcspn(pw, "\n")] = '\0';
	v = db_valuef("SELECT password_hash FROM %s.usuarios WHERE email = "
	    "'boot@vetred.test'", schema);
	ck_assert_ptr_nonnull(v);
	ck_assert_int_eq(vr_password_verify(pw, v), VR_OK);
	free(v);

	/* The next `up`: nothing new, no stray password file. */
	unlink(pwfile);
	run(env, "../../deploy/crear-admin.sh", "", NULL, r);
	ck_assert_msg(r->status == 0, "%d %s", r->status, r->err);
	ck_assert(has_line(r->err, "an active network administrator exists: "
	    "nothing created (--forzar adds another)", NULL, NULL));
	ck_assert_int_eq(rmdir(dir), 0);	/* empty */
	ck_assert_int_eq(db_countf("SELECT count(*) FROM %s.usuarios",
	    schema), 1);
	/* A given password that the policy refuses: the one-shot fails. */
	db_execf("UPDATE %s.usuarios SET activo = false", schema);
	snprintf(env, sizeof(env), "%s PATH='%s':\"$PATH\" "
	    "VETRED_ADMIN_EMAIL=boot2@vetred.test VETRED_ADMIN_PASSWORD=corta "
	    "bash", fresh_url, bin_dir());
	run(env, "../../deploy/crear-admin.sh", "", NULL, r);
	ck_assert_int_eq(r->status, 1);
	fresh_drop();
	free(r);
}
END_TEST

/* The API's role may not mint administrators. */
START_TEST(crear_admin_solo_para_el_propietario)
{
	ck_assert_int_eq(db_count("SELECT count(*) FROM pg_roles WHERE "
	    "rolname = 'vetred_api' AND has_function_privilege('vetred_api', "
	    "'crear_admin_red(text, text, text, boolean)', 'EXECUTE')"), 0);
}
END_TEST

/*
 * On the stack's database (the demo has admins): refused without
 * --forzar; forced, the new admin signs in through nginx and manages
 * users.
 */
START_TEST(crear_admin_forzado_inicia_sesion)
{
	struct run *r = malloc(sizeof(*r));
	char email[128], args[256], auth[4200], *code = unique_code("A");
	const char *hdr[2] = { auth, NULL };
	struct http_resp h;
	cJSON *roles, *rol;

	ck_assert_ptr_nonnull(r);
	snprintf(email, sizeof(email), "admin.%s@vetred.test", code);
	free(code);
	snprintf(args, sizeof(args), "crear-admin '%s'", email);
	run(NULL, "vetred-admin", args, PASSWORD, r);
	ck_assert_int_eq(r->status, 3);
	ck_assert_int_eq(db_countf("SELECT count(*) FROM usuarios WHERE "
	    "email = '%s'", email), 0);
	http_login(email, PASSWORD, &h);
	ck_assert_int_eq(h.status, 401);
	http_free(&h);

	snprintf(args, sizeof(args), "crear-admin '%s' --forzar", email);
	run(NULL, "vetred-admin", args, PASSWORD, r);
	ck_assert_msg(r->status == 0, "%d %s", r->status, r->err);
	http_login(email, PASSWORD, &h);
	ck_assert_msg(h.status == 200, "%ld %s", h.status, h.body);
	roles = cJSON_GetObjectItem(cJSON_GetObjectItem(h.json, "usuario"),
	    "roles");
	ck_assert_int_eq(cJSON_GetArraySize(roles), 1);
	rol = cJSON_GetArrayItem(roles, 0);
	ck_assert_str_eq(json_s(rol, "rol"), "admin_red");
	ck_assert(cJSON_IsNull(cJSON_GetObjectItem(rol, "sede")));
	snprintf(auth, sizeof(auth), "Authorization: Bearer %s",
	    json_s(h.json, "access_token"));
	http_free(&h);
	http_req("GET", "/api/v1/usuarios?limite=1", NULL, NULL, 0, hdr, &h);
	ck_assert_msg(h.status == 200, "%ld %s", h.status, h.body);
	http_free(&h);
	db_execf("UPDATE usuarios SET activo = false WHERE email = '%s'",
	    email);
	free(r);
}
END_TEST

/* ---- JSON lines ------------------------------------------------------- */

/* A migration's NOTICE and WARNING are log lines like the rest. */
START_TEST(migrate_avisos_como_json)
{
	struct run *r = malloc(sizeof(*r));
	char dir[128], fdir[128], path[256], args[300], env[2400];
	FILE *f;

	ck_assert_ptr_nonnull(r);
	fresh_db();
	snprintf(dir, sizeof(dir), "/tmp/vr-it-cli-mig-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
	/* No function files: an ORDER that lists none. */
	snprintf(fdir, sizeof(fdir), "/tmp/vr-it-cli-fun-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(fdir));
	snprintf(path, sizeof(path), "%s/ORDER", fdir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fclose(f);
	snprintf(env, sizeof(env), "%s VETRED_FUNCTIONS_DIR='%s'", fresh_url,
	    fdir);
	snprintf(path, sizeof(path), "%s/0001_avisos.sql", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("DO $$ BEGIN RAISE WARNING 'aviso de prueba' USING DETAIL = "
	    "'con \"comillas\"'; RAISE NOTICE 'nota de prueba'; END $$;\n"
	    "CREATE TABLE avisos (id int);\n", f);
	fclose(f);
	snprintf(args, sizeof(args), "'%s'", dir);
	run(env, "vetred-migrate", args, NULL, r);
	ck_assert_msg(r->status == 0, "%d %s", r->status, r->err);
	ck_assert_str_eq(r->out, "");
	ck_assert_int_ge(assert_json_lines(r->err, "migrate"), 4);
	ck_assert_msg(has_line(r->err, "database notice", "notice",
	    "aviso de prueba"), "%s", r->err);
	ck_assert(has_line(r->err, "database notice", "level", "warn"));
	ck_assert(has_line(r->err, "database notice", "severity", "WARNING"));
	ck_assert(has_line(r->err, "database notice", "notice",
	    "nota de prueba"));
	ck_assert(has_line(r->err, "database notice", "severity", "NOTICE"));
	ck_assert_ptr_nonnull(strstr(r->err, "\"detail\":\"con \\\"comillas"
	    "\\\"\""));
	ck_assert(has_line(r->err, "migration applied", "file",
	    "0001_avisos.sql"));

	/* A failing one and a missing directory: JSON too, exit 1. */
	snprintf(path, sizeof(path), "%s/0002_mala.sql", dir);
	ck_assert_ptr_nonnull(f = fopen(path, "w"));
	fputs("SELECT * FROM no_existe;\n", f);
	fclose(f);
	run(env, "vetred-migrate", args, NULL, r);
	ck_assert_int_eq(r->status, 1);
	assert_json_lines(r->err, "migrate");
	ck_assert(has_line(r->err, "migration failed", "level", "error"));
	unlink(path);
	snprintf(path, sizeof(path), "%s/0001_avisos.sql", dir);
	unlink(path);
	rmdir(dir);
	snprintf(path, sizeof(path), "%s/ORDER", fdir);
	unlink(path);
	rmdir(fdir);
	run(env, "vetred-migrate", args, NULL, r);
	ck_assert_int_eq(r->status, 1);
	assert_json_lines(r->err, "migrate");
	/* Bad configuration: a JSON line, exit 2. */
	run("VETRED_LOG_LEVEL=ruidoso", "vetred-migrate", "", NULL, r);
	ck_assert_int_eq(r->status, 2);
	assert_json_lines(r->err, "migrate");
	ck_assert(has_line(r->err, "bad configuration", "level", "error"));
	fresh_drop();
	free(r);
}
END_TEST

/*
 * vetred-admin: every line it writes on stderr is JSON, whatever the
 * command and outcome; stdout holds only a product (a hash, a verdict).
 */
START_TEST(admin_salida_json)
{
	static const struct {
		const char	*args, *in;
		int		 status;
		const char	*msg;	/* a line with this msg */
		int		 out;	/* 1: stdout has the product */
	} cases[] = {
		{ "cifrar", NULL, 0, "rows sealed", 0 },
		{ "sellar", NULL, 0, "audit rows sealed", 0 },
		{ "clave nadie@vetred.test", PASSWORD, 1, "no such user", 0 },
		{ "hash", "corta", 1, "password refused", 0 },
		{ "hash", NULL, 2, "no password on stdin", 0 },
		{ "hash", PASSWORD, 0, NULL, 1 },
		{ "verificar", NULL, 0, NULL, 1 },
		{ "verificar /no/existe.log", NULL, 2, "cannot read the log", 0 },
	};
	struct run *r = malloc(sizeof(*r));
	cJSON *o;
	size_t i;

	ck_assert_ptr_nonnull(r);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		run(NULL, "vetred-admin", cases[i].args, cases[i].in, r);
		ck_assert_msg(r->status == cases[i].status, "%s: %d %s",
		    cases[i].args, r->status, r->err);
		assert_json_lines(r->err, "admin");
		if (cases[i].msg != NULL)
			ck_assert_msg(has_line(r->err, cases[i].msg, NULL,
			    NULL), "%s: %s", cases[i].args, r->err);
		if (!cases[i].out)
			ck_assert_msg(r->out[0] == '\0', "%s: %s",
			    cases[i].args, r->out);
	}
	/* verificar's product: one JSON object on one line. */
	run(NULL, "vetred-admin", "verificar", NULL, r);
	ck_assert_ptr_nonnull(strchr(r->out, '\n'));
	ck_assert_str_eq(strchr(r->out, '\n'), "\n");
	o = cJSON_Parse(r->out);
	ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(o, "integra")));
	cJSON_Delete(o);
	run("VETRED_DATABASE_URL=postgresql://127.0.0.1:1/x", "vetred-admin",
	    "sellar", NULL, r);
	ck_assert_int_eq(r->status, 2);
	assert_json_lines(r->err, "admin");
	ck_assert(has_line(r->err, "cannot connect to the database", NULL,
	    NULL));
	free(r);
}
END_TEST

Suite *
cli_suite(void)
{
	Suite *s = suite_create("cli");
	TCase *opts = tcase_create("opciones");
	TCase *admin = tcase_create("crear_admin");
	TCase *logs = tcase_create("json");

	tcase_set_timeout(opts, 60);
	tcase_add_test(opts, cada_binario_responde_help_y_version);
	suite_add_tcase(s, opts);
	tcase_set_timeout(admin, 120);
	tcase_add_test(admin, crear_admin_en_base_nueva);
	tcase_add_test(admin, compose_admin_una_vez);
	tcase_add_test(admin, crear_admin_solo_para_el_propietario);
	tcase_add_test(admin, crear_admin_forzado_inicia_sesion);
	suite_add_tcase(s, admin);
	tcase_set_timeout(logs, 120);
	tcase_add_test(logs, migrate_avisos_como_json);
	tcase_add_test(logs, admin_salida_json);
	suite_add_tcase(s, logs);
	return s;
}
