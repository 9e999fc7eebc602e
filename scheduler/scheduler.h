/*
 * scheduler.h - vetred-scheduler: the outbox relay (relay.c), its
 * configuration table (config.c) and what /metrics shows of it
 * (monitor.c).
 */
#ifndef SCHEDULER_H
#define SCHEDULER_H

#include <pthread.h>
#include <signal.h>

#include "vr.h"

struct sched_config {
	const char	*instance;	/* VETRED_SCHEDULER_INSTANCE */
	const char	*metrics_addr;	/* VETRED_SCHEDULER_METRICS_ADDR; NULL: off */
	int		 batch;		/* VETRED_RELAY_BATCH */
	int		 poll_ms;	/* VETRED_RELAY_POLL_MS */
	int		 lease_ms;	/* VETRED_RELAY_LEASE_MS */
	int		 confirm_ms;	/* VETRED_RELAY_CONFIRM_TIMEOUT_MS */
	int		 backoff_max_ms; /* VETRED_RELAY_BACKOFF_MAX_MS */
};

/* The statements of the scheduler's connection (sql.c). */
enum sched_stmt {
	ST_LEASE,
	ST_LEASE_LEFT,
	ST_RELEASE,
	ST_BATCH,
	ST_MARK,
	ST_LISTENING,
	ST_JOBS_DUE,
	ST_JOB_FIRE,
	ST_JOBS_NEXT,
	ST__MAX
};

extern const char *const sched_sql[ST__MAX];

extern const struct vr_cfg_var sched_config_vars[];
extern const size_t sched_config_nvars;

int	sched_config_load(struct sched_config *c, char *err, size_t errlen);

/* Upper bounds (seconds) of the confirm latency histogram's buckets. */
#define SCHED_NBUCKETS	13
extern const double sched_buckets[SCHED_NBUCKETS];

/*
 * What the relay did, for /metrics: written by the relay thread, read by
 * the listener's, under lock.
 */
struct sched_stats {
	pthread_mutex_t	 lock;
	int		 leader;	/* holds the lease now */
	int		 broker_up;	/* connected, topology declared */
	int		 db_up;
	long long	 published;	/* events confirmed and marked */
	long long	 nacked;
	long long	 batches;
	long long	 broker_connects;
	long long	 broker_failures;
	long long	 lease_taken;	/* times this process became leader */
	long long	 wakeups;	/* NOTIFYs received */
	long long	 jobs_fired;	/* periodic jobs fired by this process */
	long long	 conf_count;	/* confirm latency histogram */
	double		 conf_sum;
	long long	 conf_bucket[SCHED_NBUCKETS];
};

struct sched_relay {
	const struct vr_config		*cfg;
	const struct sched_config	*sc;
	struct sched_stats		*st;
	volatile sig_atomic_t		*stopping;
	int				 wake_fd;	/* readable: stop now */
	char				 holder[160];	/* relevo_turno.titular */
};

int	sched_relay_run(struct sched_relay *r);
int	sched_jobs_tick(struct vr_db *db, struct sched_stats *st);

/* The monitoring listener's routes (monitor.c). */
struct sched_monitor {
	const struct vr_config		*cfg;
	const struct sched_config	*sc;
	struct sched_stats		*st;
	struct vr_db			 db;	/* the listener thread's own */
	int				 db_open;
	struct vr_httpd			*httpd;
};

int	sched_monitor_start(struct sched_monitor *m, char *err, size_t errlen);
void	sched_monitor_stop(struct sched_monitor *m);
void	sched_stats_confirm(struct sched_stats *st, double seconds, long long n);

#endif /* SCHEDULER_H */
