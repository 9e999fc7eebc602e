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
void	 http_post_json(const char *path, const char *json,
	    struct http_resp *out);
void	 http_free(struct http_resp *r);
const char *http_header(struct http_resp *r, const char *name, char *buf,
	    size_t buflen);
const char *http_base(void);

/* Check an RFC 9457 answer: status, content type, type slug, title. */
void	 assert_problem(struct http_resp *r, long status, const char *slug);

/* SQL on a fresh connection to VETRED_DATABASE_URL. */
PGconn	*db_connect(void);
long long db_count(const char *sql);
char	*db_value(const char *sql);	/* malloc'd, NULL when no row */

const char *stack_dir(void);
char	*unique_code(const char *prefix);	/* malloc'd */

Suite	*system_suite(void);
Suite	*errors_suite(void);
Suite	*sedes_suite(void);
Suite	*failover_suite(void);

#endif
