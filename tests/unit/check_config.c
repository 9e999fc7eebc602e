/*
 * check_config.c - configuration tables: lib/config.c's parser and core,
 * the API's table (fcgi-api/config.c), vetred-migrate's
 * (db/migrate_config.c) and the password settings (lib/password.c):
 * defaults, every override, and every malformed or out-of-range value
 * refused with the variable named; and the README's configuration table
 * lists every variable of every table.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vr.h"
#include "req.h"
#include "migrate_config.h"
#include "scheduler.h"
#include "worker.h"
#include "tests.h"

/* What the three services read, loaded as each of them does. */
struct all {
	struct vr_config	c;
	struct api_config	a;
	struct migrate_config	m;
};

static int
load(struct all *x, char *err, size_t errlen)
{
	int rc;

	memset(x, 0, sizeof(*x));
	if ((rc = vr_config_load(&x->c, err, errlen)) < 0 ||
	    (rc = api_config_load(&x->a, err, errlen)) < 0 ||
	    (rc = vr_config_parse(&x->m, migrate_vars, migrate_nvars, err,
	    errlen)) < 0)
		return rc;
	return 0;
}

static const char *const vars[] = {
	"VETRED_DATABASE_URL", "VETRED_AMQP_URL", "VETRED_API_SOCKET",
	"VETRED_API_INSTANCE", "VETRED_MIGRATIONS_DIR", "VETRED_FUNCTIONS_DIR",
	"VETRED_API_THREADS",
	"VETRED_API_BACKLOG", "VETRED_MAX_BODY_BYTES",
	"VETRED_DB_STATEMENT_TIMEOUT_MS", "VETRED_LOG_LEVEL",
	"VETRED_ACCESS_TOKEN_TTL_S", "VETRED_REFRESH_TOKEN_TTL_DAYS",
	"VETRED_ARGON2_MEMORY_KIB", "VETRED_ARGON2_PASSES",
	"VETRED_ARGON2_LANES", "VETRED_JWT_KEYS", "VETRED_JWT_ISSUER",
	"VETRED_JWT_AUDIENCE", "VETRED_COMMON_PASSWORDS_FILE",
	"VETRED_DATA_KEYS", "VETRED_SEARCH_KEY", "VETRED_METRICS_ADDR",
	"VETRED_LOG_FILE", "VETRED_LOG_MAX_BYTES",
	"VETRED_SCHEDULER_INSTANCE", "VETRED_SCHEDULER_METRICS_ADDR",
	"VETRED_RELAY_BATCH", "VETRED_RELAY_POLL_MS", "VETRED_RELAY_LEASE_MS",
	"VETRED_RELAY_CONFIRM_TIMEOUT_MS", "VETRED_RELAY_BACKOFF_MAX_MS",
};

static void
clean_env(void)
{
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		unsetenv(vars[i]);
	unsetenv("UT_INT");
	unsetenv("UT_STR");
}

/* The integer variables with their [min, max]. */
static const struct {
	const char	*name;
	long		 min, max;
} ints[] = {
	{ "VETRED_API_THREADS", 1, 512 },
	{ "VETRED_API_BACKLOG", 16, 65535 },
	{ "VETRED_MAX_BODY_BYTES", 1024, 64L << 20 },
	{ "VETRED_DB_STATEMENT_TIMEOUT_MS", 0, 600000 },
	{ "VETRED_ACCESS_TOKEN_TTL_S", 60, 3600 },
	{ "VETRED_REFRESH_TOKEN_TTL_DAYS", 1, 365 },
	{ "VETRED_ARGON2_MEMORY_KIB", 19456, 1048576 },
	{ "VETRED_ARGON2_PASSES", 2, 16 },
	{ "VETRED_ARGON2_LANES", 1, 8 },
};

#define NINTS	((int)(sizeof(ints) / sizeof(ints[0])))

/* The defaults of the README's configuration table. */
START_TEST(defaults)
{
	struct all c;
	char err[256] = "";

	ck_assert_int_eq(load(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.c.database_url,
	    "postgresql://vetred@127.0.0.1:18432/vetred");
	ck_assert_str_eq(c.c.amqp_url, "amqp://vetred:vetred@127.0.0.1:18672/%2f");
	ck_assert_str_eq(c.a.api_socket, "var/dev/run/api-1.sock");
	ck_assert_str_eq(c.a.instance, "api");
	ck_assert_str_eq(c.m.migrations_dir, "db/migrations");
	ck_assert_str_eq(c.m.functions_dir, "db/functions");
	ck_assert_int_eq(c.a.api_threads, 4);
	ck_assert_int_eq(c.a.api_backlog, 4096);
	ck_assert_int_eq(c.a.max_body, 1048576);
	ck_assert_int_eq(c.c.db_timeout_ms, 5000);
	ck_assert_int_eq(c.c.log_level, VR_LOG_INFO);
	ck_assert_str_eq(c.c.jwt_keys, "");
	ck_assert_str_eq(c.c.jwt_issuer, "vetred");
	ck_assert_str_eq(c.c.jwt_audience, "vetred-api");
	ck_assert_int_eq(c.a.access_ttl, 900);
	ck_assert_int_eq(c.a.refresh_days, 30);
	ck_assert_uint_eq(c.a.pw.kdf.m_kib, 19456);
	ck_assert_uint_eq(c.a.pw.kdf.t_cost, 2);
	ck_assert_uint_eq(c.a.pw.kdf.lanes, 1);
	ck_assert_str_eq(c.a.pw.common_passwords, "data/contrasenas-comunes.txt");
	ck_assert_str_eq(c.c.data_keys, "");
	ck_assert_str_eq(c.c.search_key, "");
}
END_TEST

/* An empty variable is the same as an unset one. */
START_TEST(empty_means_default)
{
	struct all c;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(vars) / sizeof(vars[0]); i++)
		setenv(vars[i], "", 1);
	ck_assert_int_eq(load(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.a.instance, "api");
	ck_assert_int_eq(c.a.api_threads, 4);
	ck_assert_int_eq(c.c.log_level, VR_LOG_INFO);
}
END_TEST

START_TEST(every_override)
{
	struct all c;
	char err[256];

	setenv("VETRED_DATABASE_URL", "postgresql://u@db:5432/x", 1);
	setenv("VETRED_AMQP_URL", "amqp://u:p@mq:5672/v", 1);
	setenv("VETRED_API_SOCKET", "127.0.0.1:9000", 1);
	setenv("VETRED_API_INSTANCE", "api-7", 1);
	setenv("VETRED_MIGRATIONS_DIR", "/srv/migrations", 1);
	setenv("VETRED_FUNCTIONS_DIR", "/srv/functions", 1);
	setenv("VETRED_API_THREADS", "8", 1);
	setenv("VETRED_API_BACKLOG", "128", 1);
	setenv("VETRED_MAX_BODY_BYTES", "2048", 1);
	setenv("VETRED_DB_STATEMENT_TIMEOUT_MS", "0", 1);
	setenv("VETRED_LOG_LEVEL", "debug", 1);
	ck_assert_int_eq(load(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.c.database_url, "postgresql://u@db:5432/x");
	ck_assert_str_eq(c.c.amqp_url, "amqp://u:p@mq:5672/v");
	ck_assert_str_eq(c.a.api_socket, "127.0.0.1:9000");
	ck_assert_str_eq(c.a.instance, "api-7");
	ck_assert_str_eq(c.m.migrations_dir, "/srv/migrations");
	ck_assert_str_eq(c.m.functions_dir, "/srv/functions");
	ck_assert_int_eq(c.a.api_threads, 8);
	ck_assert_int_eq(c.a.api_backlog, 128);
	ck_assert_int_eq(c.a.max_body, 2048);
	ck_assert_int_eq(c.c.db_timeout_ms, 0);
	ck_assert_int_eq(c.c.log_level, VR_LOG_DEBUG);
}
END_TEST

START_TEST(log_levels)
{
	static const char *const names[] = { "debug", "info", "warn",
	    "error" };
	struct all c;
	char err[256];
	int i;

	for (i = 0; i < 4; i++) {
		setenv("VETRED_LOG_LEVEL", names[i], 1);
		ck_assert_int_eq(load(&c, err, sizeof(err)), 0);
		ck_assert_int_eq(c.c.log_level, i);
	}
}
END_TEST

START_TEST(bad_log_level)
{
	static const char *const bad[] = { "INFO", "verbose", "warning",
	    " info", "info ", "0", "trace" };
	struct all c;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("VETRED_LOG_LEVEL", bad[i], 1);
		err[0] = '\0';
		ck_assert_int_eq(load(&c, err, sizeof(err)),
		    VR_ECONFIG);
		ck_assert_msg(strstr(err, "VETRED_LOG_LEVEL") != NULL,
		    "\"%s\": error does not name the variable: %s", bad[i],
		    err);
	}
}
END_TEST

/* The instance name goes into metric labels and logs: a plain token. */
START_TEST(instance_name)
{
	static const char *const ok[] = { "api", "api-7", "a.b_C9",
	    "0123456789012345678901234567890123456789012345678901234567890123" };
	static const char *const bad[] = { "a b", "a\"b", "a\\b", "api\n",
	    "ñu", "a/b", "a{b}", "a,b",
	    "01234567890123456789012345678901234567890123456789012345678901234" };
	struct all c;
	char err[256];
	size_t i;

	for (i = 0; i < sizeof(ok) / sizeof(ok[0]); i++) {
		setenv("VETRED_API_INSTANCE", ok[i], 1);
		ck_assert_msg(load(&c, err, sizeof(err)) == 0,
		    "\"%s\" refused: %s", ok[i], err);
		ck_assert_str_eq(c.a.instance, ok[i]);
	}
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		setenv("VETRED_API_INSTANCE", bad[i], 1);
		err[0] = '\0';
		ck_assert_msg(load(&c, err, sizeof(err)) ==
		    VR_ECONFIG, "\"%s\" accepted", bad[i]);
		ck_assert_msg(strstr(err, "VETRED_API_INSTANCE") != NULL,
		    "error does not name the variable: %s", err);
	}
}
END_TEST

/* Each bound is accepted, one past it refused. */
START_TEST(int_bounds)
{
	struct all c;
	char err[256], v[32];
	int i;

	for (i = 0; i < NINTS; i++) {
		clean_env();
		snprintf(v, sizeof(v), "%ld", ints[i].min);
		setenv(ints[i].name, v, 1);
		ck_assert_msg(load(&c, err, sizeof(err)) == 0,
		    "%s=%s refused: %s", ints[i].name, v, err);
		snprintf(v, sizeof(v), "%ld", ints[i].max);
		setenv(ints[i].name, v, 1);
		ck_assert_msg(load(&c, err, sizeof(err)) == 0,
		    "%s=%s refused: %s", ints[i].name, v, err);
		snprintf(v, sizeof(v), "%ld", ints[i].min - 1);
		setenv(ints[i].name, v, 1);
		err[0] = '\0';
		ck_assert_int_eq(load(&c, err, sizeof(err)),
		    VR_ECONFIG);
		ck_assert_msg(strstr(err, ints[i].name) != NULL,
		    "%s=%s: error does not name it: %s", ints[i].name, v, err);
		snprintf(v, sizeof(v), "%ld", ints[i].max + 1);
		setenv(ints[i].name, v, 1);
		err[0] = '\0';
		ck_assert_int_eq(load(&c, err, sizeof(err)),
		    VR_ECONFIG);
		ck_assert_msg(strstr(err, ints[i].name) != NULL,
		    "%s=%s: error does not name it: %s", ints[i].name, v, err);
	}
}
END_TEST

/* Malformed values of every integer variable. */
START_TEST(int_malformed)
{
	static const char *const bad[] = { "abc", "12x", "1.5", "0x10",
	    "1e3", "--5", "5 ", "99999999999999999999",
	    "-99999999999999999999", "-", "+" };
	struct all c;
	char err[256];
	size_t j;
	int i;

	for (i = 0; i < NINTS; i++) {
		for (j = 0; j < sizeof(bad) / sizeof(bad[0]); j++) {
			clean_env();
			setenv(ints[i].name, bad[j], 1);
			err[0] = '\0';
			ck_assert_msg(load(&c, err, sizeof(err)) ==
			    VR_ECONFIG, "%s=\"%s\" accepted", ints[i].name,
			    bad[j]);
			ck_assert_msg(strstr(err, ints[i].name) != NULL,
			    "%s=\"%s\": error does not name it: %s",
			    ints[i].name, bad[j], err);
		}
	}
}
END_TEST

/* The error text is cut to errlen and stays a C string. */
START_TEST(error_fits_errlen)
{
	struct all c;
	char err[8];

	memset(err, 'x', sizeof(err));
	setenv("VETRED_API_THREADS", "0", 1);
	ck_assert_int_eq(load(&c, err, sizeof(err)), VR_ECONFIG);
	ck_assert_str_eq(err, "VETRED_");
}
END_TEST

START_TEST(env_int_direct)
{
	long v = -1;

	ck_assert_int_eq(vr_env_int("UT_INT", 7, 0, 10, &v), 0);
	ck_assert_int_eq(v, 7);
	setenv("UT_INT", "", 1);
	ck_assert_int_eq(vr_env_int("UT_INT", 8, 0, 10, &v), 0);
	ck_assert_int_eq(v, 8);
	setenv("UT_INT", "-3", 1);
	ck_assert_int_eq(vr_env_int("UT_INT", 0, -5, 5, &v), 0);
	ck_assert_int_eq(v, -3);
	setenv("UT_INT", "10", 1);
	ck_assert_int_eq(vr_env_int("UT_INT", 0, 0, 10, &v), 0);
	ck_assert_int_eq(v, 10);
	v = 99;
	setenv("UT_INT", "11", 1);
	ck_assert_int_eq(vr_env_int("UT_INT", 0, 0, 10, &v), VR_ECONFIG);
	ck_assert_int_eq(v, 99);	/* untouched on error */
	setenv("UT_INT", "9223372036854775807", 1);
	ck_assert_int_eq(vr_env_int("UT_INT", 0, 0, LONG_MAX, &v), 0);
	ck_assert_int_eq(v, LONG_MAX);
	setenv("UT_INT", "9223372036854775808", 1);
	ck_assert_int_eq(vr_env_int("UT_INT", 0, 0, LONG_MAX, &v),
	    VR_ECONFIG);
}
END_TEST

START_TEST(env_str_direct)
{
	ck_assert_str_eq(vr_env_str("UT_STR", "def"), "def");
	ck_assert_ptr_null(vr_env_str("UT_STR", NULL));
	setenv("UT_STR", "", 1);
	ck_assert_str_eq(vr_env_str("UT_STR", "def"), "def");
	setenv("UT_STR", "value with spaces", 1);
	ck_assert_str_eq(vr_env_str("UT_STR", "def"), "value with spaces");
}
END_TEST

/* The monitoring listener and the log file's rotation. */
START_TEST(metrics_and_log_file)
{
	struct all c;
	char err[256];

	clean_env();
	ck_assert_int_eq(load(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.a.metrics_addr, "127.0.0.1:9101");
	ck_assert_ptr_null(c.c.log_file);
	ck_assert_int_eq(c.c.log_max_bytes, 64L << 20);
	setenv("VETRED_METRICS_ADDR", "off", 1);
	setenv("VETRED_LOG_FILE", "/var/log/api-1.log", 1);
	setenv("VETRED_LOG_MAX_BYTES", "0", 1);
	ck_assert_int_eq(load(&c, err, sizeof(err)), 0);
	ck_assert_ptr_null(c.a.metrics_addr);
	ck_assert_str_eq(c.c.log_file, "/var/log/api-1.log");
	ck_assert_int_eq(c.c.log_max_bytes, 0);
	setenv("VETRED_LOG_MAX_BYTES", "1048575", 1);
	ck_assert_int_eq(load(&c, err, sizeof(err)), VR_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "VETRED_LOG_MAX_BYTES"));
	setenv("VETRED_LOG_MAX_BYTES", "x", 1);
	ck_assert_int_eq(load(&c, err, sizeof(err)), VR_ECONFIG);
	clean_env();
}
END_TEST

/*
 * The README's configuration table has a row for every variable of every
 * table, and each row's default is the table's (numbers and strings;
 * "(unset)", "(none)" or "(required ...)" for an empty or NULL one).
 */
START_TEST(readme_lists_every_variable)
{
	static const struct vr_cfg_var *const tables[7] = { vr_core_vars,
	    api_config_vars, vr_password_vars, migrate_vars,
	    sched_config_vars, vr_worker_vars, wk_config_vars };
	size_t nt[7] = { vr_core_nvars, api_config_nvars, vr_password_nvars,
	    migrate_nvars, sched_config_nvars, vr_worker_nvars,
	    wk_config_nvars };
	char *text, row[160], def[160];
	const struct vr_cfg_var *v;
	const char *p;
	FILE *f;
	long len;
	size_t i, j;

	f = fopen("README.md", "r");
	ck_assert_msg(f != NULL, "README.md: run from the repository");
	fseek(f, 0, SEEK_END);
	len = ftell(f);
	rewind(f);
	text = malloc((size_t)len + 1);
	ck_assert_uint_eq(fread(text, 1, (size_t)len, f), (size_t)len);
	text[len] = '\0';
	fclose(f);
	for (i = 0; i < 7; i++)
		for (j = 0; j < nt[i]; j++) {
			v = &tables[i][j];
			snprintf(row, sizeof(row), "\n| `%s` | ", v->name);
			p = strstr(text, row);
			ck_assert_msg(p != NULL, "README lacks a row for %s",
			    v->name);
			p += strlen(row);
			if (v->type == VR_CFG_STR && v->sdef != NULL &&
			    *v->sdef != '\0')
				snprintf(def, sizeof(def), "`%s` |", v->sdef);
			else if (v->type == VR_CFG_STR)
				snprintf(def, sizeof(def), "(");
			else if (v->type == VR_CFG_LOG_LEVEL)
				snprintf(def, sizeof(def), "`info` |");
			else
				snprintf(def, sizeof(def), "`%ld` |", v->def);
			ck_assert_msg(strncmp(p, def, strlen(def)) == 0,
			    "README's default of %s is not %s", v->name, def);
		}
	free(text);
}
END_TEST

/*
 * The scheduler's table: defaults, bounds, "off" for no listener, and an
 * instance name that could not go into a metrics label refused.
 */
START_TEST(scheduler_settings)
{
	static const struct {
		const char	*name;
		long		 min, max;
	} b[] = {
		{ "VETRED_RELAY_BATCH", 1, 10000 },
		{ "VETRED_RELAY_POLL_MS", 10, 60000 },
		{ "VETRED_RELAY_LEASE_MS", 500, 60000 },
		{ "VETRED_RELAY_CONFIRM_TIMEOUT_MS", 100, 120000 },
		{ "VETRED_RELAY_BACKOFF_MAX_MS", 100, 300000 },
	};
	struct sched_config c;
	char err[256], v[32];
	size_t i;

	ck_assert_int_eq(sched_config_load(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.instance, "scheduler");
	ck_assert_str_eq(c.metrics_addr, "127.0.0.1:9120");
	ck_assert_int_eq(c.batch, 500);
	ck_assert_int_eq(c.poll_ms, 1000);
	ck_assert_int_eq(c.lease_ms, 3000);
	ck_assert_int_eq(c.confirm_ms, 5000);
	ck_assert_int_eq(c.backoff_max_ms, 5000);
	setenv("VETRED_SCHEDULER_METRICS_ADDR", "off", 1);
	setenv("VETRED_SCHEDULER_INSTANCE", "relay-b.2", 1);
	ck_assert_int_eq(sched_config_load(&c, err, sizeof(err)), 0);
	ck_assert_ptr_null(c.metrics_addr);
	ck_assert_str_eq(c.instance, "relay-b.2");
	setenv("VETRED_SCHEDULER_INSTANCE", "a\"b", 1);
	ck_assert_int_eq(sched_config_load(&c, err, sizeof(err)), VR_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "VETRED_SCHEDULER_INSTANCE"));
	setenv("VETRED_SCHEDULER_INSTANCE", "x23456789012345678901234567890"
	    "123456789012345678901234567890123456", 1);
	ck_assert_int_eq(sched_config_load(&c, err, sizeof(err)), VR_ECONFIG);
	unsetenv("VETRED_SCHEDULER_INSTANCE");
	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		snprintf(v, sizeof(v), "%ld", b[i].min - 1);
		setenv(b[i].name, v, 1);
		ck_assert_int_eq(sched_config_load(&c, err, sizeof(err)),
		    VR_ECONFIG);
		ck_assert_ptr_nonnull(strstr(err, b[i].name));
		snprintf(v, sizeof(v), "%ld", b[i].max + 1);
		setenv(b[i].name, v, 1);
		ck_assert_int_eq(sched_config_load(&c, err, sizeof(err)),
		    VR_ECONFIG);
		snprintf(v, sizeof(v), "%ld", b[i].max);
		setenv(b[i].name, v, 1);
		ck_assert_int_eq(sched_config_load(&c, err, sizeof(err)), 0);
		unsetenv(b[i].name);
	}
}
END_TEST

/*
 * The worker runtime's table and vetred-worker's: defaults, bounds,
 * "off" for no listener, an instance that could not be a label refused.
 */
START_TEST(worker_settings)
{
	static const struct {
		const char	*name;
		long		 min, max;
	} b[] = {
		{ "VETRED_WORKER_PREFETCH", 1, 1000 },
		{ "VETRED_WORKER_MAX_ATTEMPTS", 1, 20 },
		{ "VETRED_WORKER_MAX_BYTES", 256, 67108864 },
		{ "VETRED_WORKER_BACKOFF_MAX_MS", 100, 60000 },
	};
	struct vr_worker_config c;
	struct wk_config k;
	char err[256], v[32];
	size_t i;

	ck_assert_int_eq(vr_worker_config_load(&c, err, sizeof(err)), 0);
	ck_assert_str_eq(c.instance, "worker");
	ck_assert_str_eq(c.metrics_addr, "127.0.0.1:9130");
	ck_assert_int_eq(c.prefetch, 16);
	ck_assert_int_eq(c.max_attempts, 4);
	ck_assert_int_eq(c.max_bytes, 1048576);
	ck_assert_int_eq(wk_config_load(&k, err, sizeof(err)), 0);
	ck_assert_int_eq(k.retention_days, 7);
	ck_assert_int_eq(k.seal_batches, 100);
	setenv("VETRED_OUTBOX_RETENTION_DAYS", "0", 1);
	ck_assert_int_eq(wk_config_load(&k, err, sizeof(err)), VR_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "VETRED_OUTBOX_RETENTION_DAYS"));
	unsetenv("VETRED_OUTBOX_RETENTION_DAYS");
	setenv("VETRED_WORKER_METRICS_ADDR", "off", 1);
	setenv("VETRED_WORKER_INSTANCE", "worker-2", 1);
	ck_assert_int_eq(vr_worker_config_load(&c, err, sizeof(err)), 0);
	ck_assert_ptr_null(c.metrics_addr);
	ck_assert_str_eq(c.instance, "worker-2");
	setenv("VETRED_WORKER_INSTANCE", "w}", 1);
	ck_assert_int_eq(vr_worker_config_load(&c, err, sizeof(err)),
	    VR_ECONFIG);
	ck_assert_ptr_nonnull(strstr(err, "VETRED_WORKER_INSTANCE"));
	unsetenv("VETRED_WORKER_INSTANCE");
	for (i = 0; i < sizeof(b) / sizeof(b[0]); i++) {
		snprintf(v, sizeof(v), "%ld", b[i].min - 1);
		setenv(b[i].name, v, 1);
		ck_assert_int_eq(vr_worker_config_load(&c, err, sizeof(err)),
		    VR_ECONFIG);
		ck_assert_ptr_nonnull(strstr(err, b[i].name));
		snprintf(v, sizeof(v), "%ld", b[i].max + 1);
		setenv(b[i].name, v, 1);
		ck_assert_int_eq(vr_worker_config_load(&c, err, sizeof(err)),
		    VR_ECONFIG);
		snprintf(v, sizeof(v), "%ld", b[i].max);
		setenv(b[i].name, v, 1);
		ck_assert_int_eq(vr_worker_config_load(&c, err, sizeof(err)), 0);
		unsetenv(b[i].name);
	}
}
END_TEST

Suite *
config_suite(void)
{
	Suite *s = suite_create("config");
	TCase *tc = tcase_create("env");

	tcase_add_checked_fixture(tc, clean_env, clean_env);
	tcase_add_test(tc, defaults);
	tcase_add_test(tc, empty_means_default);
	tcase_add_test(tc, every_override);
	tcase_add_test(tc, log_levels);
	tcase_add_test(tc, bad_log_level);
	tcase_add_test(tc, instance_name);
	tcase_add_test(tc, int_bounds);
	tcase_add_test(tc, metrics_and_log_file);
	tcase_add_test(tc, int_malformed);
	tcase_add_test(tc, error_fits_errlen);
	tcase_add_test(tc, env_int_direct);
	tcase_add_test(tc, env_str_direct);
	tcase_add_test(tc, readme_lists_every_variable);
	tcase_add_test(tc, scheduler_settings);
	tcase_add_test(tc, worker_settings);
	suite_add_tcase(s, tc);
	return s;
}
