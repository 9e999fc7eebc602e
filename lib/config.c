/*
 * config.c - configuration from VETRED_* environment variables, read once
 * at start, through tables: one routine (vr_config_parse()) reads any
 * service's table, and the core every process shares is itself such a
 * table (vr_core_vars).  Defaults match the local stack that `make run`
 * starts; the README's configuration table lists every variable of every
 * table (tests/unit/check_config.c checks it does).
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

/* One row of a table into its field.  0, or VR_ECONFIG with err set. */
static int
parse_one(char *base, const struct vr_cfg_var *v, char *err, size_t errlen)
{
	char *field = base + v->off;
	const char *s;
	long n;
	int lvl;

	switch (v->type) {
	case VR_CFG_STR:
		s = vr_env_str(v->name, v->sdef);
		memcpy(field, &s, sizeof(s));
		return 0;
	case VR_CFG_LOG_LEVEL:
		if ((lvl = vr_log_level_parse(vr_env_str(v->name, "info"))) <
		    0) {
			snprintf(err, errlen, "%s must be one of debug, info, "
			    "warn, error", v->name);
			return VR_ECONFIG;
		}
		memcpy(field, &lvl, sizeof(lvl));
		return 0;
	default:
		break;
	}
	if (vr_env_int(v->name, v->def, v->min, v->max, &n) < 0) {
		snprintf(err, errlen, "%s must be an integer in [%ld, %ld]",
		    v->name, v->min, v->max);
		return VR_ECONFIG;
	}
	if (v->type == VR_CFG_INT) {
		int i = (int)n;

		memcpy(field, &i, sizeof(i));
	} else if (v->type == VR_CFG_U32) {
		uint32_t u = (uint32_t)n;

		memcpy(field, &u, sizeof(u));
	} else
		memcpy(field, &n, sizeof(n));
	return 0;
}

int
vr_config_parse(void *base, const struct vr_cfg_var *vars, size_t n,
    char *err, size_t errlen)
{
	size_t i;
	int rc;

	for (i = 0; i < n; i++)
		if ((rc = parse_one(base, &vars[i], err, errlen)) < 0)
			return rc;
	return 0;
}

#define S(n, d, f, doc)	VR_CFG_S(n, d, struct vr_config, f, doc)
#define N(n, t, d, lo, hi, f, doc) \
	VR_CFG_N(n, t, d, lo, hi, struct vr_config, f, doc)

const struct vr_cfg_var vr_core_vars[] = {
	S("VETRED_DATABASE_URL", "postgresql://vetred@127.0.0.1:18432/vetred",
	    database_url, "PostgreSQL connection string"),
	S("VETRED_AMQP_URL", "amqp://vetred:vetred@127.0.0.1:18672/%2f",
	    amqp_url, "RabbitMQ URL"),
	N("VETRED_DB_STATEMENT_TIMEOUT_MS", VR_CFG_INT, 5000, 0, 600000,
	    db_timeout_ms, "statement_timeout per connection; 0: none"),
	N("VETRED_LOG_LEVEL", VR_CFG_LOG_LEVEL, 0, 0, 0, log_level,
	    "debug, info, warn or error"),
	S("VETRED_LOG_FILE", NULL, log_file, "the file stderr is appended "
	    "to, rotated at VETRED_LOG_MAX_BYTES"),
	/* 0: never rotate; else at least 1 MiB (vr_config_load()). */
	N("VETRED_LOG_MAX_BYTES", VR_CFG_LONG, 64L << 20, 0, 1L << 40,
	    log_max_bytes, "size at which the log file rotates; 0: never"),
	S("VETRED_JWT_KEYS", "", jwt_keys, "kid=path,... token signing keys"),
	S("VETRED_JWT_ISSUER", "vetred", jwt_issuer, "iss of access tokens"),
	S("VETRED_JWT_AUDIENCE", "vetred-api", jwt_audience,
	    "aud of access tokens"),
	S("VETRED_DATA_KEYS", "", data_keys, "kid=path,... column keys"),
	S("VETRED_SEARCH_KEY", "", search_key, "kid=path of the search key"),
};

const size_t vr_core_nvars = sizeof(vr_core_vars) / sizeof(vr_core_vars[0]);

int
vr_config_load(struct vr_config *c, char *err, size_t errlen)
{
	int rc;

	if ((rc = vr_config_parse(c, vr_core_vars, vr_core_nvars, err,
	    errlen)) < 0)
		return rc;
	if (c->log_max_bytes != 0 && c->log_max_bytes < (1L << 20)) {
		snprintf(err, errlen, "VETRED_LOG_MAX_BYTES must be 0 or at "
		    "least 1048576");
		return VR_ECONFIG;
	}
	return 0;
}

int
vr_config_monitor(const char *instance, const char *inst_var,
    const char **metrics_addr, char *err, size_t errlen)
{
	if (*metrics_addr != NULL && strcmp(*metrics_addr, "off") == 0)
		*metrics_addr = NULL;
	if (instance[strspn(instance, "abcdefghijklmnopqrstuvwxyz"
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")] != '\0' ||
	    strlen(instance) > 64) {
		snprintf(err, errlen, "%s must be 1-64 of A-Z a-z 0-9 _ . -",
		    inst_var);
		return VR_ECONFIG;
	}
	return 0;
}
