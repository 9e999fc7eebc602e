/*
 * metrics.h - Prometheus counters of one API process (metrics.c), by
 * route and status.  Layer: base.
 */
#ifndef API_METRICS_H
#define API_METRICS_H

#include "req.h"

struct api_metrics	*api_metrics_new(const struct api_route *routes,
			    int nroutes);
void			 api_metrics_free(struct api_metrics *m);
int			 api_metrics_route(const struct api_metrics *m,
			    const struct api_route *rt);
void			 api_metrics_observe(struct api_metrics *m, int route,
			    int status, double seconds);
void			 api_metrics_db_error(struct api_metrics *m);
void			 api_metrics_inflight(struct api_metrics *m, int delta);
void			 api_metrics_render(struct api_metrics *m,
			    const char *instance, struct vr_buf *b);

#endif /* API_METRICS_H */
