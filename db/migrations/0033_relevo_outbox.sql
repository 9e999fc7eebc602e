-- 0033: what the outbox relay (vetred-scheduler) needs of the schema.
--
--  * outbox.request_id: the request that wrote the event, carried in the
--    message so a consumer's log lines join the API's.
--  * outbox_pendientes: the relay's queue, pending rows in id order
--    (SELECT ... WHERE publicado_en IS NULL ORDER BY id LIMIT n); 0031
--    dropped it while nothing read it.  Partial: a published row leaves
--    it, so it holds the backlog only.
--  * relevo_turno: the lease.  Any number of relays may run; the one
--    whose name is in titular until vence_en publishes, the others wait
--    and take over once it expired (a relay that died stops renewing).
--    One publisher at a time keeps the events of an aggregate in order.
--    Times are the database's clock, so relays on hosts whose clocks
--    disagree still agree on who holds it.
--  * relevo_escucha: whether the lease holder sleeps on LISTEN.  A
--    NOTIFY in a writing transaction takes a database-wide lock from
--    before its commit until after it (PostgreSQL orders the
--    notification queue by commit that way), so notifying writers
--    commit one at a time and lose group commit: the minimal booking
--    transaction fell to a third of its rate (9.5k to 3.1k tps) at 64 clients when every
--    transaction notified.  Writers notify only while the relay sleeps;
--    a relay that is draining polls again by itself.  Unlogged: after a
--    crash the row is gone, which writers read as "asleep" (notify).
ALTER TABLE outbox ADD COLUMN request_id text,
	ADD CONSTRAINT outbox_request_id_valido CHECK (char_length(request_id) BETWEEN 1 AND 256);
COMMENT ON COLUMN outbox.request_id IS
	'Request id of the call that wrote the event (as in auditoria and the logs); NULL for events no request caused.';

CREATE INDEX outbox_pendientes ON outbox (id) WHERE publicado_en IS NULL;

CREATE TABLE relevo_turno (
	nombre     text PRIMARY KEY,
	titular    text NOT NULL,
	vence_en   timestamptz NOT NULL,
	desde      timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT relevo_turno_nombre_valido CHECK (nombre ~ '^[a-z][a-z_]{0,62}$'),
	CONSTRAINT relevo_turno_titular_valido CHECK (char_length(titular) BETWEEN 1 AND 256)
);
COMMENT ON TABLE relevo_turno IS
	'Leases of singleton roles (the outbox relay): titular holds nombre until vence_en, renewing it while alive.';
COMMENT ON COLUMN relevo_turno.titular IS 'The holder: host, process id and start time of the relay.';
COMMENT ON COLUMN relevo_turno.vence_en IS 'Until when the holder holds it (the database clock); past it, another may take it.';
COMMENT ON COLUMN relevo_turno.desde IS 'Since when this holder holds it.';

CREATE UNLOGGED TABLE relevo_escucha (
	canal      text PRIMARY KEY,
	escuchando boolean NOT NULL,
	CONSTRAINT relevo_escucha_canal_valido CHECK (canal ~ '^[a-z][a-z_]{0,62}$')
);
COMMENT ON TABLE relevo_escucha IS
	'Whether the relay sleeps on LISTEN canal; writers NOTIFY only then (no row: they do).';
INSERT INTO relevo_escucha VALUES ('vetred_outbox', true);
