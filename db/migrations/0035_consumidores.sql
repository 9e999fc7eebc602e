-- 0035: what the worker runtime (lib/worker.c) and its consumers need of
-- the schema.
--
--  * eventos_procesados: one row per (consumer, event) handled, written
--    in the same transaction as the handler's effect.  A redelivered
--    message finds its row and does nothing: the broker delivers at
--    least once, the effect happens exactly once.
--  * eventos_muertos: the messages a consumer gave up on (a malformed
--    message, an unknown type, a handler that failed every attempt, a
--    delivery limit reached), with the reason, for inspection and replay
--    (GET /api/v1/eventos/muertos).  One row per consumer and message:
--    a replayed message that dies again updates its row.  A replay goes
--    through the outbox (outbox.destino) to that consumer alone.
--  * The engine's own jobs are enabled: their worker (vetred-worker)
--    comes with this change.  The audit sealer moves into the engine.
CREATE TABLE eventos_procesados (
	consumidor    text NOT NULL,
	evento_id     uuid NOT NULL,
	procesado_en  timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (consumidor, evento_id),
	CONSTRAINT eventos_procesados_consumidor_valido CHECK (consumidor ~ '^[a-z][a-z0-9_.]{0,99}$')
);
-- Purged with the outbox (purga_outbox), by age.
CREATE INDEX eventos_procesados_procesado_en ON eventos_procesados USING brin (procesado_en);
COMMENT ON TABLE eventos_procesados IS
	'Events each consumer has handled: the row commits with the handler''s effect, so a redelivery does nothing twice.';
COMMENT ON COLUMN eventos_procesados.consumidor IS 'The consumer: the name of its work queue (vetred.w.<name>).';
COMMENT ON COLUMN eventos_procesados.evento_id IS 'The event id (AMQP message-id; outbox.evento_id).';

CREATE TABLE eventos_muertos (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	huella        text NOT NULL,
	consumidor    text NOT NULL,
	evento_id     text,
	tipo          text,
	clave         text,
	request_id    text,
	motivo        text NOT NULL,
	intentos      integer NOT NULL,
	muertes       integer NOT NULL DEFAULT 1,
	tamano        integer NOT NULL,
	cuerpo        bytea NOT NULL,
	muerto_en     timestamptz NOT NULL DEFAULT now(),
	reenvios      integer NOT NULL DEFAULT 0,
	reenviado_en  timestamptz,
	CONSTRAINT eventos_muertos_huella_unica UNIQUE (huella),
	CONSTRAINT eventos_muertos_huella_valida CHECK (huella ~ '^[0-9a-f]{64}$'),
	CONSTRAINT eventos_muertos_consumidor_valido CHECK (char_length(consumidor) BETWEEN 1 AND 255),
	CONSTRAINT eventos_muertos_evento_id_valido CHECK (char_length(evento_id) <= 255),
	CONSTRAINT eventos_muertos_tipo_valido CHECK (char_length(tipo) <= 255),
	CONSTRAINT eventos_muertos_clave_valida CHECK (char_length(clave) <= 255),
	CONSTRAINT eventos_muertos_request_id_valido CHECK (char_length(request_id) <= 256),
	CONSTRAINT eventos_muertos_motivo_valido CHECK (char_length(motivo) BETWEEN 1 AND 1000),
	CONSTRAINT eventos_muertos_contadores CHECK (intentos >= 0 AND muertes >= 1 AND reenvios >= 0 AND tamano >= 0),
	-- The body is kept whole up to 64 KiB; tamano says how long it was.
	CONSTRAINT eventos_muertos_cuerpo_acotado CHECK (octet_length(cuerpo) <= 65536)
);
COMMENT ON TABLE eventos_muertos IS
	'Dead letters: messages a consumer gave up on, drained from the broker''s vetred.muertos queue by vetred-worker; replayable through the outbox.';
COMMENT ON COLUMN eventos_muertos.huella IS 'sha256 (hex) of the consumer, the message id and the body: one row per consumer and message.';
COMMENT ON COLUMN eventos_muertos.consumidor IS 'The work queue that gave it up (or the broker''s queue it died in).';
COMMENT ON COLUMN eventos_muertos.evento_id IS 'The message-id as received; NULL when it had none.';
COMMENT ON COLUMN eventos_muertos.tipo IS 'The type property as received.';
COMMENT ON COLUMN eventos_muertos.clave IS 'The routing key it was first published with (the event type or the job name).';
COMMENT ON COLUMN eventos_muertos.motivo IS 'Why it died, in words (no personal data).';
COMMENT ON COLUMN eventos_muertos.intentos IS 'Attempts made by the consumer before it gave up.';
COMMENT ON COLUMN eventos_muertos.muertes IS 'Times it died: a replay that failed again counts one more.';
COMMENT ON COLUMN eventos_muertos.tamano IS 'Bytes of the body received; cuerpo keeps the first 64 KiB.';
COMMENT ON COLUMN eventos_muertos.reenvios IS 'Times replayed into the outbox (POST /api/v1/eventos/muertos/{id}/reenviar).';

-- A replayed dead letter goes back through the outbox to the one work
-- queue that gave up on it (the relay publishes it to vetred.reencolar
-- under the queue's name), not to every consumer of its type.
ALTER TABLE outbox ADD COLUMN destino text,
	ADD CONSTRAINT outbox_destino_valido CHECK (destino ~ '^[a-z][a-z0-9_.]{0,99}$');
COMMENT ON COLUMN outbox.destino IS
	'The work queue a replayed dead letter goes to alone; NULL: routed by type (events) or job name (jobs).';

-- A replay answers that it was taken: the event is back in the outbox.
-- One that cannot be replayed (no id, not an event) is refused.
INSERT INTO veredictos (codigo, descripcion) VALUES
	('no-reenviable', 'The dead letter cannot be replayed: it is not an event of the outbox''s shape (no id, not JSON, ...); detalle says why.');

-- The worker that runs the engine's own jobs comes with this change.
UPDATE trabajos SET habilitado = true, proximo_en = now()
WHERE nombre IN ('purga_outbox', 'sellado_auditoria');
