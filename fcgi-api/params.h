/*
 * params.h - route ids, query parameters and headers checked, and the
 * collected field errors answered (params.c).  Layer: input, above
 * transport.  An "..._or_4xx" helper that returns < 0 has answered.
 */
#ifndef API_PARAMS_H
#define API_PARAMS_H

#include "req.h"
#include "sql.h"

int	api_id_or_400(struct api_req *r, int capture, long long *id);
int	api_idempotency_key_or_400(struct api_req *r, const char **key);
int	api_qid(struct api_req *r, const char *name, int required,
	    long long *out, cJSON *errs);
int	api_qint(struct api_req *r, const char *name, long min, long max,
	    long *out, cJSON *errs);
int	api_qtime(struct api_req *r, const char *name, const char **out,
	    cJSON *errs);
int	api_qdate(struct api_req *r, const char *name, int required,
	    const char **out, cJSON *errs);
int	api_qenum(struct api_req *r, const char *name,
	    const char *const *allowed, const char **out, cJSON *errs);
int	api_qcursor(struct api_req *r, int nparts, const char *const *kinds,
	    const char **parts, cJSON *errs);
void	api_if_match(struct api_req *r, struct api_args *a, cJSON *errs);
void	api_unknown_members(const cJSON *body, const char *const *known,
	    cJSON *errs);
int	api_params_or_400(struct api_req *r, cJSON *errs);
int	api_code_valid(const char *s);
int	api_fields_or_422(struct api_req *r, cJSON *errs);

#endif /* API_PARAMS_H */
