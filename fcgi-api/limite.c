/*
 * limite.c - the per-user request budget of authenticated routes.
 *
 * Design: a token bucket per user and per process.  A user's bucket holds
 * at most `burst` requests and refills at `rate` a second; a request that
 * finds it empty is answered 429 with Retry-After (the seconds until one
 * request is available again) before its handler runs.  nginx spreads
 * requests round-robin over the API processes, so with N processes a
 * user gets about N x rate a second and bursts of N x burst: the
 * documented, effective limit.
 *
 * The default budget comes from VETRED_RATE_PER_USER (requests a second;
 * 0: no budget) and VETRED_RATE_BURST, read once at start.  Rows of
 * usuario_limites give single users their own budget (a kiosk, an
 * integration, a test user); they are reloaded every second with the
 * token revocations (main.c).
 *
 * Buckets live in a fixed table (RATE_SLOTS, open addressing over a short
 * probe window) under one mutex: a few dozen instructions per request.
 * When the window is full, the bucket that would be full soonest is
 * reused: a user who was idle loses nothing, one in the middle of a burst
 * may get a fresh bucket (a small leniency, never a refusal).
 * Layer: authz, like the token check it follows in the router.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

#include "authz.h"
#include "sql.h"
#include "transport.h"

#define RATE_SLOTS	8192	/* power of two */
#define RATE_PROBE	8

struct bucket {
	long long	 uid;		/* 0: free */
	double		 tokens;
	double		 at;		/* api_now() of the last refill */
	double		 full_at;	/* when it would hold burst again */
};

struct budget {
	long long	 uid;
	double		 rate, burst;
};

struct api_rate {
	double		 rate, burst;	/* the default; rate 0: none */
	pthread_mutex_t	 lock;		/* guards slot */
	struct bucket	 slot[RATE_SLOTS];
	pthread_rwlock_t ov_lock;	/* guards ov, nov */
	struct budget	*ov;		/* sorted by uid */
	int		 nov;
};

/*
 * The default budget from the environment; NULL with err set when a
 * variable is malformed.  Freed with api_rate_free().
 */
struct api_rate *
api_rate_new(char *err, size_t errlen)
{
	struct api_rate *rl;
	long rate, burst;

	if (vr_env_int("VETRED_RATE_PER_USER", 50, 0, 1000000, &rate) < 0) {
		snprintf(err, errlen, "VETRED_RATE_PER_USER must be an integer "
		    "in [0, 1000000]");
		return NULL;
	}
	if (vr_env_int("VETRED_RATE_BURST", rate > 0 ? 4 * rate : 1, 1,
	    4000000, &burst) < 0) {
		snprintf(err, errlen, "VETRED_RATE_BURST must be an integer in "
		    "[1, 4000000]");
		return NULL;
	}
	rl = vr_xcalloc(1, sizeof(*rl));
	rl->rate = (double)rate;
	rl->burst = (double)burst;
	pthread_mutex_init(&rl->lock, NULL);
	pthread_rwlock_init(&rl->ov_lock, NULL);
	return rl;
}

void
api_rate_free(struct api_rate *rl)
{
	if (rl == NULL)
		return;
	pthread_mutex_destroy(&rl->lock);
	pthread_rwlock_destroy(&rl->ov_lock);
	free(rl->ov);
	free(rl);
}

static int
budget_cmp(const void *a, const void *b)
{
	const struct budget *x = a, *y = b;

	return (x->uid > y->uid) - (x->uid < y->uid);
}

/* Reload the users' own budgets (usuario_limites). */
int
api_rate_load(struct api_rate *rl, struct vr_db *db)
{
	PGresult *res = NULL;
	struct api_args a;
	struct budget *list;
	int i, n, rc;

	api_args_init(&a, STMT_LIMITES);
	if ((rc = api_args_run(db, &a, 0, &res)) < 0)
		return rc;
	n = PQntuples(res);
	list = n ? vr_xcalloc((size_t)n, sizeof(*list)) : NULL;
	for (i = 0; i < n; i++) {
		list[i].uid = atoll(PQgetvalue(res, i, 0));
		list[i].rate = atof(PQgetvalue(res, i, 1));
		list[i].burst = atof(PQgetvalue(res, i, 2));
	}
	PQclear(res);
	if (n > 1)
		qsort(list, (size_t)n, sizeof(*list), budget_cmp);
	pthread_rwlock_wrlock(&rl->ov_lock);
	free(rl->ov);
	rl->ov = list;
	rl->nov = n;
	pthread_rwlock_unlock(&rl->ov_lock);
	return 0;
}

/* The budget of uid: its own row, else the default. */
static void
budget_of(struct api_rate *rl, long long uid, double *rate, double *burst)
{
	struct budget key, *b;

	*rate = rl->rate;
	*burst = rl->burst;
	key.uid = uid;
	pthread_rwlock_rdlock(&rl->ov_lock);
	if (rl->nov > 0 && (b = bsearch(&key, rl->ov, (size_t)rl->nov,
	    sizeof(*rl->ov), budget_cmp)) != NULL) {
		*rate = b->rate;
		*burst = b->burst;
	}
	pthread_rwlock_unlock(&rl->ov_lock);
}

/* uid's bucket, found or made in its probe window; lock held. */
static struct bucket *
bucket_of(struct api_rate *rl, long long uid, double burst, double now)
{
	unsigned long long h = (unsigned long long)uid * 0x9E3779B97F4A7C15ULL;
	struct bucket *b, *victim = NULL;
	int i;

	for (i = 0; i < RATE_PROBE; i++) {
		b = &rl->slot[((h >> 40) + (unsigned)i) & (RATE_SLOTS - 1)];
		if (b->uid == uid)
			return b;
		if (victim == NULL || b->uid == 0 ||
		    (victim->uid != 0 && b->full_at < victim->full_at))
			victim = b;
	}
	victim->uid = uid;
	victim->tokens = burst;
	victim->at = now;
	victim->full_at = now;
	return victim;
}

/*
 * Takes one request from the caller's budget: 0, or < 0 with 429 and
 * Retry-After answered.  Call after authentication.
 */
int
api_rate_or_429(struct api_req *r)
{
	struct api_rate *rl = r->ctx->shared->rate;
	struct bucket *b;
	double rate, burst, now, wait = 0;
	char hdr[48], detail[160];
	int secs;

	if (rl == NULL)
		return 0;
	budget_of(rl, r->auth.who.uid, &rate, &burst);
	if (rate <= 0)
		return 0;
	now = api_now();
	pthread_mutex_lock(&rl->lock);
	b = bucket_of(rl, r->auth.who.uid, burst, now);
	b->tokens = fmin(burst, b->tokens + (now - b->at) * rate);
	b->at = now;
	if (b->tokens >= 1)
		b->tokens -= 1;
	else
		wait = (1 - b->tokens) / rate;
	b->full_at = now + (burst - b->tokens) / rate;
	pthread_mutex_unlock(&rl->lock);
	if (wait <= 0)
		return 0;
	secs = wait < 1 ? 1 : (int)ceil(wait);
	snprintf(hdr, sizeof(hdr), "Retry-After: %d\r\n", secs);
	snprintf(detail, sizeof(detail), "Superó su límite de %.0f "
	    "solicitudes por segundo; vuelva a intentarlo en %d s.", rate,
	    secs);
	api_problem_hdr(r, 429, "demasiadas-solicitudes",
	    "Demasiadas solicitudes", detail, NULL, hdr);
	return -1;
}
