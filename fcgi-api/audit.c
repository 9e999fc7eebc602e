/*
 * audit.c - the audit row and the outbox event that every write adds in
 * its own transaction (ARCHITECTURE.md: row + audit row + outbox row in
 * one transaction).  Both run on the request's connection; the caller
 * has opened the transaction and rolls back when either fails.
 */
#include <string.h>

#include "api.h"

/* before/after: JSON text of the changed values, or NULL. */
int
api_audit(struct api_req *r, const char *action, const char *entity,
    const char *entity_id, const char *before, const char *after)
{
	const char *p[10] = {
		NULL,			/* usuario_id: set once identity lands */
		NULL,			/* rol */
		NULL,			/* sede_id */
		action, entity, entity_id, r->request_id,
		(r->remote_addr && *r->remote_addr) ? r->remote_addr : NULL,
		before, after,
	};

	return vr_db_exec(&r->ctx->db, STMT_AUDIT_INSERT, 10, p, NULL);
}

int
api_outbox(struct api_req *r, const char *type, const char *aggregate,
    const char *aggregate_id, const char *payload)
{
	const char *p[4] = { type, aggregate, aggregate_id, payload };

	return vr_db_exec(&r->ctx->db, STMT_OUTBOX_INSERT, 4, p, NULL);
}
