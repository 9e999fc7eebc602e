/*
 * config.c - configuration from VETRED_* environment variables, read once
 * at start.  Defaults match the local stack that `make run` starts; the
 * README's configuration table lists every variable.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "vr.h"

const char *
vr_env_str(const char *name, const char *def)
{
	const char *v = getenv(name);

	return (v != NULL && *v != '\0') ? v : def;
}

/* 0 and *out = value (or def when unset); VR_ECONFIG when malformed. */
int
vr_env_int(const char *name, long def, long min, long max, long *out)
{
	const char *v = getenv(name);
	char *end;
	long n;

	if (v == NULL || *v == '\0') {
		*out = def;
		return 0;
	}
	errno = 0;
	n = strtol(v, &end, 10);
	if (errno != 0 || *end != '\0' || n < min || n > max)
		return VR_ECONFIG;
	*out = n;
	return 0;
}

struct int_var {
	const char	*name;
	long		 def, min, max;
};

enum { IV_THREADS, IV_BACKLOG, IV_BODY, IV_TIMEOUT, IV_ACCESS_TTL,
    IV_REFRESH_DAYS, IV_KDF_MEM, IV_KDF_PASSES, IV_KDF_LANES, IV_LOG_MAX,
    IV__MAX };

static const struct int_var ints[IV__MAX] = {
	[IV_THREADS] = { "VETRED_API_THREADS", 4, 1, 512 },
	[IV_BACKLOG] = { "VETRED_API_BACKLOG", 4096, 16, 65535 },
	[IV_BODY] = { "VETRED_MAX_BODY_BYTES", 1048576, 1024, 64L << 20 },
	[IV_TIMEOUT] = { "VETRED_DB_STATEMENT_TIMEOUT_MS", 5000, 0, 600000 },
	[IV_ACCESS_TTL] = { "VETRED_ACCESS_TOKEN_TTL_S", 900, 60, 3600 },
	[IV_REFRESH_DAYS] = { "VETRED_REFRESH_TOKEN_TTL_DAYS", 30, 1, 365 },
	/* Floors are the OWASP minimum for Argon2id. */
	[IV_KDF_MEM] = { "VETRED_ARGON2_MEMORY_KIB", 19456, 19456, 1048576 },
	[IV_KDF_PASSES] = { "VETRED_ARGON2_PASSES", 2, 2, 16 },
	[IV_KDF_LANES] = { "VETRED_ARGON2_LANES", 1, 1, 8 },
	/* 0: never rotate; else at least 1 MiB. */
	[IV_LOG_MAX] = { "VETRED_LOG_MAX_BYTES", 64L << 20, 0, 1L << 40 },
};

int
vr_config_load(struct vr_config *c, char *err, size_t errlen)
{
	long v[IV__MAX];
	const char *lvl;
	int i;

	for (i = 0; i < IV__MAX; i++) {
		if (vr_env_int(ints[i].name, ints[i].def, ints[i].min,
		    ints[i].max, &v[i]) < 0) {
			snprintf(err, errlen, "%s must be an integer in "
			    "[%ld, %ld]", ints[i].name, ints[i].min,
			    ints[i].max);
			return VR_ECONFIG;
		}
	}
	c->database_url = vr_env_str("VETRED_DATABASE_URL",
	    "postgresql://vetred@127.0.0.1:18432/vetred");
	c->amqp_url = vr_env_str("VETRED_AMQP_URL",
	    "amqp://vetred:vetred@127.0.0.1:18672/%2f");
	c->api_socket = vr_env_str("VETRED_API_SOCKET", "var/dev/run/api-1.sock");
	c->instance = vr_env_str("VETRED_API_INSTANCE", "api");
	c->migrations_dir = vr_env_str("VETRED_MIGRATIONS_DIR", "db/migrations");
	c->functions_dir = vr_env_str("VETRED_FUNCTIONS_DIR", "db/functions");
	c->api_threads = (int)v[IV_THREADS];
	c->api_backlog = (int)v[IV_BACKLOG];
	c->max_body = v[IV_BODY];
	c->db_timeout_ms = (int)v[IV_TIMEOUT];
	c->access_ttl = (int)v[IV_ACCESS_TTL];
	c->refresh_days = (int)v[IV_REFRESH_DAYS];
	c->kdf.m_kib = (uint32_t)v[IV_KDF_MEM];
	c->kdf.t_cost = (uint32_t)v[IV_KDF_PASSES];
	c->kdf.lanes = (uint32_t)v[IV_KDF_LANES];
	c->jwt_keys = vr_env_str("VETRED_JWT_KEYS", "");
	c->jwt_issuer = vr_env_str("VETRED_JWT_ISSUER", "vetred");
	c->jwt_audience = vr_env_str("VETRED_JWT_AUDIENCE", "vetred-api");
	c->common_passwords = vr_env_str("VETRED_COMMON_PASSWORDS_FILE",
	    "data/contrasenas-comunes.txt");
	c->data_keys = vr_env_str("VETRED_DATA_KEYS", "");
	c->search_key = vr_env_str("VETRED_SEARCH_KEY", "");
	c->metrics_addr = vr_env_str("VETRED_METRICS_ADDR", "127.0.0.1:9101");
	if (strcmp(c->metrics_addr, "off") == 0)
		c->metrics_addr = NULL;
	c->log_file = vr_env_str("VETRED_LOG_FILE", NULL);
	c->log_max_bytes = v[IV_LOG_MAX];
	if (c->log_max_bytes != 0 && c->log_max_bytes < (1L << 20)) {
		snprintf(err, errlen, "VETRED_LOG_MAX_BYTES must be 0 or at "
		    "least 1048576");
		return VR_ECONFIG;
	}
	if (c->instance[strspn(c->instance, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")] != '\0' ||
	    strlen(c->instance) > 64) {
		snprintf(err, errlen, "VETRED_API_INSTANCE must be 1-64 of "
		    "A-Z a-z 0-9 _ . -");
		return VR_ECONFIG;
	}
	lvl = vr_env_str("VETRED_LOG_LEVEL", "info");
	if ((c->log_level = vr_log_level_parse(lvl)) < 0) {
		snprintf(err, errlen, "VETRED_LOG_LEVEL must be one of debug, "
		    "info, warn, error");
		return VR_ECONFIG;
	}
	return 0;
}
