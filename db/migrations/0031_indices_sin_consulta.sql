-- 0031: indexes no query reads, dropped.
--
-- Every booking writes one row into each of citas, auditoria and outbox,
-- and each index of those tables costs it one more index insert and its
-- write-ahead log.  Kept: the keys, the exclusion constraints, and the
-- indexes a query of fcgi-api/sql.c or db/functions reads (the listing
-- of citas by start, site, vet or patient; the sealer's (xid, id); the
-- audit trail's by entity, user, site and time, which listar_auditoria()
-- reads since it is planned for each call's filters).
-- Dropped, read by nothing:
--
--  * outbox_evento_id_unico: no query looks an event up by evento_id;
--    it is gen_random_uuid(), which no writer sets, and consumers
--    deduplicate on it.  Its random keys cost a leaf page of the index
--    per event, and a full-page image of it after each checkpoint.
--  * outbox_pendientes and the BRIN outbox_publicado_en: for a relay
--    and a purge that do not exist yet; they add the index their own
--    query reads.
--  * idempotencia_expira: no purge of expired keys reads it (an expired
--    key is taken over by the next request with it, by primary key).
ALTER TABLE outbox DROP CONSTRAINT outbox_evento_id_unico;
DROP INDEX outbox_pendientes;
DROP INDEX outbox_publicado_en;
DROP INDEX idempotencia_expira;
COMMENT ON COLUMN outbox.evento_id IS 'Event id (gen_random_uuid(), never set by a writer), sent as the AMQP message-id; consumers deduplicate on it.';
