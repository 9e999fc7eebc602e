/*
 * amqp_client.h - the integration tests' AMQP consumer (rabbitmq-c): a
 * connection to the stack's broker (VETRED_AMQP_URL), a queue bound to
 * an exchange, and the messages it received, as the relay sent them.
 *
 * Every call fails the test on a broker or protocol error, except
 * mq_drop_queue(), which cleanup code runs outside a test.
 */
#ifndef AMQP_CLIENT_H
#define AMQP_CLIENT_H

#include <stddef.h>

/* One delivery: its properties, the headers the relay sets, the body. */
struct mq_msg {
	char		*message_id;	/* NULL when absent, as each below */
	char		*type;
	char		*routing_key;
	char		*exchange;
	char		*correlation_id;
	char		*content_type;
	char		*app_id;
	char		*request_id;	/* header request_id */
	int		 version;	/* header version; -1: absent */
	int		 delivery_mode;	/* 2: persistent; 0: absent */
	long long	 timestamp;	/* 0: absent */
	int		 redelivered;
	char		*body;		/* NUL-terminated */
	size_t		 len;
};

/*
 * A set of strings (message ids), for "distinct" and "expected", each
 * with a number (an outbox id, say; 0 unless put).
 */
struct mq_set {
	char		**slot;
	long long	*val;
	size_t		 cap, n;
};

void	 mq_set_init(struct mq_set *s);
int	 mq_set_add(struct mq_set *s, const char *v);	/* 1: it was new */
void	 mq_set_put(struct mq_set *s, const char *v, long long val);
int	 mq_set_has(const struct mq_set *s, const char *v);
int	 mq_set_get(const struct mq_set *s, const char *v, long long *val);
void	 mq_set_free(struct mq_set *s);

/* What a queue received, in arrival order. */
struct mq_msgs {
	struct mq_msg	*v;
	size_t		 n, cap;
	struct mq_set	 ids;		/* distinct message ids of v */
};

void	 mq_msgs_init(struct mq_msgs *m);
void	 mq_msgs_free(struct mq_msgs *m);
const struct mq_msg *mq_find(const struct mq_msgs *m, const char *message_id);

enum mq_kind {
	MQ_EXCLUSIVE,	/* classic, exclusive, auto-delete; NULL: a name
			   the broker makes up */
	MQ_QUORUM,	/* durable quorum queue: outlives the connection */
	MQ_EXISTING	/* a queue of the topology (passive declare) */
};

struct mq;

/* Connected to VETRED_AMQP_URL, retrying up to timeout_ms. */
struct mq *mq_open(int timeout_ms);
void	 mq_close(struct mq *q);
/* Declare (or look up) the connection's queue; its name. */
const char *mq_queue(struct mq *q, enum mq_kind kind, const char *name);
void	 mq_bind(struct mq *q, const char *exchange, const char *key);
const char *mq_name(const struct mq *q);
/*
 * Consume the queue: manual_ack 0, the broker forgets each message as
 * it sends it; 1, only the ones mq_collect() keeps are acked, the others
 * go back to the queue when the connection closes (up to 65,535 of them
 * unacked at a time).
 */
void	 mq_consume(struct mq *q, int manual_ack);

/* Which deliveries mq_collect() keeps: 1 keep, 0 skip. */
typedef int (*mq_filter)(const struct mq_msg *m, void *arg);

/*
 * Add the deliveries that pass keep (NULL: every one) to out until out
 * holds want distinct message ids or timeout_ms went by.  The number of
 * distinct message ids in out.
 */
size_t	 mq_collect(struct mq *q, struct mq_msgs *out, size_t want,
	    int timeout_ms, mq_filter keep, void *arg);
long	 mq_purge(struct mq *q);	/* messages dropped */
void	 mq_delete(struct mq *q);	/* the queue, now */
/* Delete queue name on a connection of its own; 0, or -1. No assert. */
int	 mq_drop_queue(const char *name);

#endif
