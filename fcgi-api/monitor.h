/*
 * monitor.h - the process's own listener: /metrics, /health, /ready
 * (monitor.c).  Layer: process, with main.c.
 */
#ifndef API_MONITOR_H
#define API_MONITOR_H

#include "req.h"

struct api_monitor {
	struct api_shared	*sh;
	struct vr_db		 db;	/* used by the listener's thread only */
	struct vr_httpd		*httpd;
};

int	api_monitor_start(struct api_monitor *mon, struct api_shared *sh,
	    char *err, size_t errlen);
void	api_monitor_stop(struct api_monitor *mon);

#endif /* API_MONITOR_H */
