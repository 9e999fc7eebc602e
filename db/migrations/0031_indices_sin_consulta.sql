-- 0031: indexes no query reads, dropped.
--
-- Every booking writes one row into each of citas, auditoria and outbox,
-- and each index of those tables costs it one more index insert and its
-- write-ahead log.  Kept: the keys, the exclusion constraints, and the
-- indexes a query of fcgi-api/sql.c or db/functions reads (the listing
-- of citas by start, site, vet or patient; the sealer's (xid, id)).
-- Dropped, read by nothing:
--
--  * auditoria_entidad, auditoria_usuario, auditoria_sede and the BRIN
--    auditoria_ocurrido_en: listar_auditoria() takes each filter as
--    "(p IS NULL OR column = p)" in a SQL function, planned once for any
--    arguments, and walks the table in id order whatever the filter.
--  * outbox_evento_id_unico: no query looks an event up by evento_id;
--    it is gen_random_uuid(), which no writer sets, and consumers
--    deduplicate on it.  Its random keys cost a leaf page of the index
--    per event, and a full-page image of it after each checkpoint.
--  * outbox_pendientes and the BRIN outbox_publicado_en: for a relay
--    and a purge that do not exist yet; they add the index their own
--    query reads.
--  * idempotencia_expira: no purge of expired keys reads it (an expired
--    key is taken over by the next request with it, by primary key).
DROP INDEX auditoria_entidad;
DROP INDEX auditoria_usuario;
DROP INDEX auditoria_sede;
DROP INDEX auditoria_ocurrido_en;
ALTER TABLE outbox DROP CONSTRAINT outbox_evento_id_unico;
DROP INDEX outbox_pendientes;
DROP INDEX outbox_publicado_en;
DROP INDEX idempotencia_expira;
COMMENT ON COLUMN outbox.evento_id IS 'Event id (gen_random_uuid(), never set by a writer), sent as the AMQP message-id; consumers deduplicate on it.';
