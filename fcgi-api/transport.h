/*
 * transport.h - FastCGI in, answers out (http.c), and the CORS headers
 * every answer carries (cors.c).  Layer: transport, above base only: it
 * knows no route, role or verdict.  api_serve() hands the parsed request
 * to the application it is given (main.c gives the router's dispatch).
 *
 * Errors go out as application/problem+json (RFC 9457).  A tree given to
 * api_json(), api_send_problem() or api_problem*() is the request's from
 * then on (req.h); api_problem_new() makes one the request owns.
 */
#ifndef API_TRANSPORT_H
#define API_TRANSPORT_H

#include "req.h"

/* http.c: reading */
void		 api_serve(struct api_ctx *ctx, FCGX_Request *fr,
		    api_handler *app);
const char	*api_header(const struct api_req *r, const char *param);
const char	*api_query(struct api_req *r, const char *name);
char		*api_url_decode(struct vr_arena *a, const char *s, size_t n);
int		 api_read_body(struct api_req *r);

/* http.c: answering */
void	api_reply(struct api_req *r, int status, const char *type,
	    const char *body, size_t len, const char *headers);
void	api_json_text(struct api_req *r, int status, const char *type,
	    const char *text, size_t len, const char *headers);
void	api_json(struct api_req *r, int status, cJSON *obj,
	    const char *headers);
void	api_problem(struct api_req *r, int status, const char *slug,
	    const char *title, const char *detail, cJSON *errors);
cJSON	*api_problem_new(struct api_req *r, int status, const char *slug,
	    const char *title, const char *detail);
void	api_send_problem(struct api_req *r, cJSON *p, const char *headers);
void	api_problem_hdr(struct api_req *r, int status, const char *slug,
	    const char *title, const char *detail, cJSON *errors,
	    const char *headers);
const char *api_reason(int status);

/* cors.c */
int	api_cors_origin_valid(const char *s, size_t n);
int	api_cors_init(struct api_shared *sh, char *err, size_t errlen);
void	api_cors_free(struct api_shared *sh);
const char *api_cors_origin(const struct api_shared *sh, const char *origin);
void	api_cors_headers(const struct api_req *r, struct vr_buf *b);
void	api_cors_preflight_headers(const char *allow, char *out, size_t n);

#endif /* API_TRANSPORT_H */
