/*
 * config.c - the API's configuration table: the variables only vetred-api
 * reads, parsed by lib/'s vr_config_parse() beside the core every process
 * loads.  The README's configuration table lists them.  Layer: base.
 */
#include <stdio.h>
#include <string.h>

#include "req.h"

#define S(n, d, f, doc)	VR_CFG_S(n, d, struct api_config, f, doc)
#define N(n, t, d, lo, hi, f, doc) \
	VR_CFG_N(n, t, d, lo, hi, struct api_config, f, doc)

const struct vr_cfg_var api_config_vars[] = {
	S("VETRED_API_SOCKET", "var/dev/run/api-1.sock", api_socket,
	    "FastCGI socket: a path or host:port"),
	S("VETRED_API_INSTANCE", "api", instance,
	    "this process's name in logs and metrics"),
	N("VETRED_API_THREADS", VR_CFG_INT, 4, 1, 512, api_threads,
	    "worker threads, one database connection each"),
	N("VETRED_API_BACKLOG", VR_CFG_INT, 4096, 16, 65535, api_backlog,
	    "listen backlog of the FastCGI socket"),
	N("VETRED_MAX_BODY_BYTES", VR_CFG_LONG, 1048576, 1024, 64L << 20,
	    max_body, "largest request body (413 above)"),
	N("VETRED_ACCESS_TOKEN_TTL_S", VR_CFG_INT, 900, 60, 3600, access_ttl,
	    "lifetime of an access token"),
	N("VETRED_REFRESH_TOKEN_TTL_DAYS", VR_CFG_INT, 30, 1, 365,
	    refresh_days, "lifetime of a refresh token"),
	S("VETRED_METRICS_ADDR", "127.0.0.1:9101", metrics_addr,
	    "monitoring listener; off: none"),
	S("VETRED_CORS_ORIGINS", "", cors_origins,
	    "origins allowed to call from a browser"),
};

const size_t api_config_nvars =
    sizeof(api_config_vars) / sizeof(api_config_vars[0]);

/* The table, then the checks across values.  0, or VR_ECONFIG. */
int
api_config_load(struct api_config *c, char *err, size_t errlen)
{
	int rc;

	if ((rc = vr_config_parse(c, api_config_vars, api_config_nvars, err,
	    errlen)) < 0 || (rc = vr_config_parse(&c->pw, vr_password_vars,
	    vr_password_nvars, err, errlen)) < 0)
		return rc;
	return vr_config_monitor(c->instance, "VETRED_API_INSTANCE", &c->metrics_addr, err,
	    errlen);
}
