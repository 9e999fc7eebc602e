/*
 * route.h - the route table and dispatch (router.c).  Layer: routing,
 * above resources: a row names its handler.  main.c gives api_dispatch
 * to the transport (api_serve) and the table to the metrics.
 */
#ifndef API_ROUTE_H
#define API_ROUTE_H

#include "req.h"

extern const struct api_route api_routes[];
extern const int api_nroutes;

void	api_dispatch(struct api_req *r);
int	api_route_match(const char *pattern, const char *path,
	    struct api_req *r);

#endif /* API_ROUTE_H */
