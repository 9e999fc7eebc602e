/*
 * http.c - reading FastCGI requests and writing answers.
 *
 * Every answer goes out in one FCGX_PutStr of headers and body assembled
 * in the thread's buffer.  Errors are application/problem+json (RFC 9457):
 * a machine-readable "type" (/problemas/<slug>, documented in the OpenAPI
 * document), a Spanish "title" and "detail", and per-field "errors".
 *
 * Layer: transport.  Nothing here knows a route, a role or a verdict:
 * api_serve() hands the request to the application main.c gives it, and
 * reads the route and the caller back only as data, for the log line.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "metrics.h"
#include "transport.h"

struct reason {
	int		 status;
	const char	*text;
};

/*
 * RFC 9110 reason phrases of every status the API (and its database
 * functions) can answer, and the neighbours a handler may come to use;
 * a unit test walks the statuses of the sources and of the OpenAPI
 * document and fails on one missing here.
 */
static const struct reason reasons[] = {
	{ 200, "OK" }, { 201, "Created" }, { 202, "Accepted" },
	{ 204, "No Content" }, { 301, "Moved Permanently" },
	{ 302, "Found" }, { 303, "See Other" }, { 304, "Not Modified" },
	{ 307, "Temporary Redirect" }, { 308, "Permanent Redirect" },
	{ 400, "Bad Request" }, { 401, "Unauthorized" },
	{ 403, "Forbidden" }, { 404, "Not Found" },
	{ 405, "Method Not Allowed" }, { 406, "Not Acceptable" },
	{ 408, "Request Timeout" }, { 409, "Conflict" }, { 410, "Gone" },
	{ 411, "Length Required" }, { 412, "Precondition Failed" },
	{ 413, "Content Too Large" }, { 414, "URI Too Long" },
	{ 415, "Unsupported Media Type" }, { 416, "Range Not Satisfiable" },
	{ 417, "Expectation Failed" }, { 421, "Misdirected Request" },
	{ 422, "Unprocessable Content" }, { 426, "Upgrade Required" },
	{ 428, "Precondition Required" }, { 429, "Too Many Requests" },
	{ 431, "Request Header Fields Too Large" },
	{ 500, "Internal Server Error" }, { 501, "Not Implemented" },
	{ 502, "Bad Gateway" }, { 503, "Service Unavailable" },
	{ 504, "Gateway Timeout" }, { 505, "HTTP Version Not Supported" },
};

const char *
api_reason(int status)
{
	size_t i;

	for (i = 0; i < sizeof(reasons) / sizeof(reasons[0]); i++)
		if (reasons[i].status == status)
			return reasons[i].text;
	return "Unknown";
}

/*
 * headers: extra header lines, each ending in "\r\n", or NULL.  A second
 * answer to the same request is a bug in the handler: it is logged and
 * dropped.
 */
void
api_reply(struct api_req *r, int status, const char *type, const char *body,
    size_t len, const char *headers)
{
	struct vr_buf *b = &r->ctx->out;

	if (r->status != 0) {
		vr_log(VR_LOG_ERROR, r->request_id, "second answer dropped",
		    "route", r->route ? r->route->pattern : "", NULL);
		return;
	}
	r->status = status;
	r->bytes = body != NULL ? len : 0;
	vr_buf_reset(b);
	vr_buf_printf(b, "Status: %d %s\r\n", status, api_reason(status));
	if (type != NULL)
		vr_buf_printf(b, "Content-Type: %s\r\n", type);
	vr_buf_puts(b, "Cache-Control: no-store\r\n");
	api_cors_headers(r, b);
	if (headers != NULL)
		vr_buf_puts(b, headers);
	vr_buf_puts(b, "\r\n");
	if (body != NULL && len > 0)
		vr_buf_append(b, body, len);
	FCGX_PutStr(b->data, (int)b->len, r->fcgx->out);
}

#define JSON_TYPE	"application/json; charset=utf-8"
#define PROBLEM_TYPE	"application/problem+json; charset=utf-8"

/*
 * The one way a JSON body goes out, whoever made it (cJSON here, or
 * PostgreSQL): text is the document, len its length (0: strlen), type
 * its media type (NULL: application/json).  NULL text -- printing ran
 * out of memory, a sealed value did not open -- answers a bodiless 500.
 */
void
api_json_text(struct api_req *r, int status, const char *type,
    const char *text, size_t len, const char *headers)
{
	if (text == NULL) {
		api_reply(r, 500, NULL, NULL, 0, NULL);
		return;
	}
	api_reply(r, status, type != NULL ? type : JSON_TYPE, text,
	    len != 0 ? len : strlen(text), headers);
}

/* Prints obj as the body; obj is the request's from now on. */
static void
send_object(struct api_req *r, int status, const char *type, cJSON *obj,
    const char *headers)
{
	api_own_json(r, obj);
	api_json_text(r, status, type, api_print(r, obj), 0, headers);
}

/* obj is the request's from now on. */
void
api_json(struct api_req *r, int status, cJSON *obj, const char *headers)
{
	send_object(r, status, JSON_TYPE, obj, headers);
}

/*
 * A problem+json object with the members every problem has, the
 * request's; the caller may add members (a "conflicto", say) before
 * api_send_problem().
 */
cJSON *
api_problem_new(struct api_req *r, int status, const char *slug,
    const char *title, const char *detail)
{
	cJSON *p = api_own_json(r, cJSON_CreateObject());
	char type[96];

	snprintf(type, sizeof(type), "/problemas/%s", slug);
	cJSON_AddStringToObject(p, "type", type);
	cJSON_AddStringToObject(p, "title", title);
	cJSON_AddNumberToObject(p, "status", status);
	if (detail != NULL)
		cJSON_AddStringToObject(p, "detail", detail);
	if (r->path != NULL)
		cJSON_AddStringToObject(p, "instance", r->path);
	if (r->request_id != NULL)
		cJSON_AddStringToObject(p, "request_id", r->request_id);
	return p;
}

/* p is the request's from now on. */
void
api_send_problem(struct api_req *r, cJSON *p, const char *headers)
{
	int status = cJSON_GetObjectItem(p, "status")->valueint;

	send_object(r, status, PROBLEM_TYPE, p, headers);
}

/*
 * errors: a list of field errors (api_errors()), or NULL; the request's
 * from now on, and referred to by the problem rather than moved into it,
 * so that the list may be the request's already.
 */
void
api_problem(struct api_req *r, int status, const char *slug,
    const char *title, const char *detail, cJSON *errors)
{
	api_problem_hdr(r, status, slug, title, detail, errors, NULL);
}

void
api_problem_hdr(struct api_req *r, int status, const char *slug,
    const char *title, const char *detail, cJSON *errors,
    const char *headers)
{
	cJSON *p = api_problem_new(r, status, slug, title, detail);

	if (errors != NULL) {
		api_own_json(r, errors);
		cJSON_AddItemReferenceToObject(p, "errors", errors);
	}
	api_send_problem(r, p, headers);
}

/* A FastCGI parameter (HTTP_IF_MATCH, ...), NULL when absent. */
const char *
api_header(const struct api_req *r, const char *param)
{
	return FCGX_GetParam(param, r->fcgx->envp);
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/*
 * Percent-decode s[0..n) into the arena ('+' is a space, as in forms).
 * NULL for a bad escape, an encoded NUL or invalid UTF-8.
 */
char *
api_url_decode(struct vr_arena *a, const char *s, size_t n)
{
	char *out = vr_arena_alloc(a, n + 1), *o = out;
	size_t i;
	int hi, lo;

	for (i = 0; i < n; i++) {
		if (s[i] == '%') {
			if (i + 2 >= n)
				return NULL;
			hi = hexval((unsigned char)s[i + 1]);
			lo = hexval((unsigned char)s[i + 2]);
			if (hi < 0 || lo < 0 || (hi == 0 && lo == 0))
				return NULL;
			*o++ = (char)(hi << 4 | lo);
			i += 2;
		} else if (s[i] == '+')
			*o++ = ' ';
		else
			*o++ = s[i];
	}
	*o = '\0';
	return vr_utf8_valid(out, (size_t)(o - out)) ? out : NULL;
}

/*
 * The decoded value of query parameter name, or NULL when absent; a
 * parameter that cannot be decoded reads as "" so validators refuse it.
 */
const char *
api_query(struct api_req *r, const char *name)
{
	const char *p = r->query, *amp, *eq;
	size_t nlen = strlen(name);
	char *v;

	while (p != NULL && *p != '\0') {
		amp = strchr(p, '&');
		if (amp == NULL)
			amp = p + strlen(p);
		eq = memchr(p, '=', (size_t)(amp - p));
		if (eq != NULL && (size_t)(eq - p) == nlen &&
		    memcmp(p, name, nlen) == 0) {
			v = api_url_decode(r->arena, eq + 1,
			    (size_t)(amp - eq - 1));
			return v != NULL ? v : "";
		}
		p = *amp ? amp + 1 : amp;
	}
	return NULL;
}

/*
 * Read the body announced by CONTENT_LENGTH (already checked against the
 * limit).  0, or VR_EIO when the client sent less than it announced.
 */
int
api_read_body(struct api_req *r)
{
	size_t want = (size_t)r->content_length;
	int got;

	r->body = vr_arena_alloc(r->arena, want + 1);
	r->body_len = 0;
	while (r->body_len < want) {
		got = FCGX_GetStr(r->body + r->body_len,
		    (int)(want - r->body_len), r->fcgx->in);
		if (got <= 0)
			break;
		r->body_len += (size_t)got;
	}
	r->body[r->body_len] = '\0';
	return r->body_len == want ? 0 : VR_EIO;
}

/*
 * Read what is left of the body (one refused without reading, say), so
 * that closing the connection does not reset it under nginx's feet.
 * Bounded: nginx never sends more than its client_max_body_size.
 */
static void
drain(FCGX_Stream *in)
{
	char scratch[8192];
	long total = 0;
	int got;

	while (total < (8L << 20) &&
	    (got = FCGX_GetStr(scratch, sizeof(scratch), in)) > 0)
		total += got;
}

static const char *
param(FCGX_Request *fr, const char *name, const char *def)
{
	const char *v = FCGX_GetParam(name, fr->envp);

	return v != NULL ? v : def;
}

/*
 * The request's one log line: the route's pattern, never the raw path
 * (it may carry names or document numbers), and no query, header or
 * body.  user_id and sede_id appear when known.
 */
static void
log_request(const struct api_req *r, double seconds)
{
	struct vr_log_field f[8] = {
		VR_LF_STR("method", r->method),
		VR_LF_STR("route", r->route ? r->route->pattern : "unmatched"),
		VR_LF_INT("status", r->status),
		VR_LF_DBL("duration_ms", seconds * 1e3),
		VR_LF_INT("bytes", r->bytes),
		VR_LF_STR("instance", r->ctx->shared->api->instance),
	};
	size_t n = 6;

	if (r->auth.ok)
		f[n++] = (struct vr_log_field)VR_LF_INT("user_id", r->auth.who.uid);
	if (r->sede > 0)
		f[n++] = (struct vr_log_field)VR_LF_INT("sede_id", r->sede);
	vr_log_fields(r->status >= 500 ? VR_LOG_ERROR : VR_LOG_INFO,
	    r->request_id, "request", f, n);
}

/*
 * Serve one accepted request: parse, hand to app, measure, log.  What the
 * request allocated is released with the thread's arena, after this.
 */
void
api_serve(struct api_ctx *ctx, FCGX_Request *fr, api_handler *app)
{
	struct api_req r;
	const char *uri, *q, *len;
	char *end;
	double t0 = api_now(), dt;

	memset(&r, 0, sizeof(r));
	r.ctx = ctx;
	r.fcgx = fr;
	r.arena = &ctx->arena;
	r.method = param(fr, "REQUEST_METHOD", "GET");
	uri = param(fr, "REQUEST_URI", "/");
	q = strchr(uri, '?');
	r.path = q ? vr_arena_strndup(r.arena, uri, (size_t)(q - uri)) : uri;
	r.query = q ? q + 1 : param(fr, "QUERY_STRING", "");
	r.content_type = param(fr, "CONTENT_TYPE", "");
	r.request_id = param(fr, "REQUEST_ID", NULL);
	if (r.request_id == NULL)
		r.request_id = vr_arena_printf(r.arena, "%d-%08lx", ctx->id,
		    (unsigned long)random());
	r.remote_addr = param(fr, "REMOTE_ADDR", "");
	r.cors_origin = api_cors_origin(ctx->shared, param(fr, "HTTP_ORIGIN",
	    NULL));
	len = param(fr, "CONTENT_LENGTH", "");
	r.content_length = *len ? strtol(len, &end, 10) : 0;
	if (*len && (*end != '\0' || r.content_length < 0))
		r.content_length = -1;

	api_metrics_inflight(ctx->shared->metrics, 1);
	app(&r);
	if (r.status == 0) {
		vr_log(VR_LOG_ERROR, r.request_id, "handler gave no answer",
		    "route", r.route ? r.route->pattern : "", NULL);
		api_problem(&r, 500, "error-interno", "Error interno",
		    "Ocurrió un error inesperado.", NULL);
	}
	if (r.content_length != 0)
		drain(fr->in);
	dt = api_now() - t0;
	api_metrics_inflight(ctx->shared->metrics, -1);
	api_metrics_observe(ctx->shared->metrics, api_metrics_route(
	    ctx->shared->metrics, r.route), r.status, dt);
	log_request(&r, dt);
}
