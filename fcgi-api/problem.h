/*
 * problem.h - answers from the database: the verdicts of its functions
 * (result.c) and its errors (problem.c) mapped to status, title and
 * problem+json.  Layer: problem, above transport.
 */
#ifndef API_PROBLEM_H
#define API_PROBLEM_H

#include "req.h"

/* problem.c */
void	api_db_problem(struct api_req *r, int err);

/*
 * result.c.  A verdict code (db/functions, table veredictos) and the
 * answer it gets: a success (type NULL) with its status, or a problem of
 * that status, type and title.
 */
struct api_verdict_kind {
	const char	*code;
	int		 status;
	const char	*type;		/* /problemas/<type>; NULL: success */
	const char	*title;		/* the problem's title */
};

const struct api_verdict_kind *api_verdict_kind(const char *code);
const struct api_verdict_kind *api_verdict_kind_at(size_t i);
int	api_verdict_is(const cJSON *v, const char *code);
char	*api_unseal_json(struct api_req *r, const char *text);
cJSON	*api_verdict(PGresult *res);
void	api_reply_verdict(struct api_req *r, cJSON *v,
	    const char *location_prefix);
void	api_reply_result(struct api_req *r, PGresult *res,
	    const char *location_prefix);
void	api_run_function(struct api_req *r, const struct api_args *a,
	    int write, const char *location_prefix);
void	api_run_json(struct api_req *r, const struct api_args *a,
	    const char *not_found);
void	api_run_json_versioned(struct api_req *r, const struct api_args *a,
	    const char *not_found);

#endif /* API_PROBLEM_H */
