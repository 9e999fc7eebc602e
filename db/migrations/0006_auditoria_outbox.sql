-- 0006: the append-only audit trail and the transactional outbox.
-- Both are written by the API in the same transaction as the change
-- they describe.

CREATE TABLE auditoria (
	id            bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	ocurrido_en   timestamptz NOT NULL DEFAULT now(),
	usuario_id    bigint,
	rol           text,
	sede_id       bigint,
	accion        text NOT NULL,
	entidad       text NOT NULL,
	entidad_id    text,
	request_id    text,
	direccion_ip  inet,
	antes         jsonb,
	despues       jsonb,
	sello         bigint,
	hash_anterior bytea,
	hash          bytea,
	-- No foreign keys on purpose: the trail records facts about users and
	-- sites as they were, must outlive them, and must not cost a lookup
	-- on every write.
	CONSTRAINT auditoria_sello_unico UNIQUE (sello),
	CONSTRAINT auditoria_rol_valido CHECK (rol IN
	    ('admin_red', 'admin_sede', 'veterinario', 'recepcion', 'farmacia', 'auditor', 'sistema')),
	CONSTRAINT auditoria_accion_formato CHECK (accion ~ '^[a-z][a-z_]{0,39}$'),
	CONSTRAINT auditoria_entidad_formato CHECK (entidad ~ '^[a-z][a-z_]{0,62}$'),
	CONSTRAINT auditoria_entidad_id_valido CHECK (char_length(entidad_id) BETWEEN 1 AND 200),
	CONSTRAINT auditoria_request_id_valido CHECK (char_length(request_id) BETWEEN 1 AND 200),
	CONSTRAINT auditoria_sello_completo CHECK (
	    (sello IS NULL AND hash IS NULL AND hash_anterior IS NULL) OR
	    (sello >= 1 AND octet_length(hash) = 32 AND
	     (sello = 1) = (hash_anterior IS NULL) AND
	     (hash_anterior IS NULL OR octet_length(hash_anterior) = 32)))
);
-- Append-only and time-ordered: a BRIN index is tiny and serves ranges.
CREATE INDEX auditoria_ocurrido_en ON auditoria USING brin (ocurrido_en);
CREATE INDEX auditoria_entidad ON auditoria (entidad, entidad_id);
CREATE INDEX auditoria_usuario ON auditoria (usuario_id, ocurrido_en) WHERE usuario_id IS NOT NULL;
CREATE INDEX auditoria_sede ON auditoria (sede_id, ocurrido_en) WHERE sede_id IS NOT NULL;
-- The sealer's queue.
CREATE INDEX auditoria_sin_sellar ON auditoria (id) WHERE sello IS NULL;
COMMENT ON TABLE auditoria IS 'Audit trail of every change (and of reads of clinical data): append-only, refused UPDATE/DELETE/TRUNCATE by triggers, and sealed into a SHA-256 hash chain by auditoria_sellar(). Grant the API role INSERT and SELECT only.';
COMMENT ON COLUMN auditoria.id IS 'Surrogate key; insertion order (not commit order).';
COMMENT ON COLUMN auditoria.ocurrido_en IS 'When the audited action happened (transaction time).';
COMMENT ON COLUMN auditoria.usuario_id IS 'Acting user (usuarios.id, no foreign key); NULL for system jobs and anonymous requests.';
COMMENT ON COLUMN auditoria.rol IS 'Role the user acted under, or sistema for jobs; NULL if unauthenticated.';
COMMENT ON COLUMN auditoria.sede_id IS 'Site the action concerns (sedes.id, no foreign key); NULL for network-wide actions.';
COMMENT ON COLUMN auditoria.accion IS 'Verb, lower-case snake_case: crear, actualizar, eliminar, leer, cancelar, iniciar_sesion, denegar, ...';
COMMENT ON COLUMN auditoria.entidad IS 'Kind of thing acted on, normally the table name (citas, pacientes, ...).';
COMMENT ON COLUMN auditoria.entidad_id IS 'Key of the thing acted on, as text (composite keys joined); NULL for actions on no single row.';
COMMENT ON COLUMN auditoria.request_id IS 'Request id of the API call (also in the logs), to join trail and logs.';
COMMENT ON COLUMN auditoria.direccion_ip IS 'Client IP address as seen by nginx (X-Forwarded-For resolved).';
COMMENT ON COLUMN auditoria.antes IS 'Row before the change (NULL for crear and leer); secrets such as password_hash are left out.';
COMMENT ON COLUMN auditoria.despues IS 'Row after the change (NULL for eliminar and leer).';
COMMENT ON COLUMN auditoria.sello IS 'Position in the hash chain (1, 2, 3, ...) assigned by auditoria_sellar(); NULL until sealed.';
COMMENT ON COLUMN auditoria.hash_anterior IS 'hash of the row with sello - 1; NULL for sello 1 and for unsealed rows.';
COMMENT ON COLUMN auditoria.hash IS 'SHA-256 over hash_anterior and auditoria_contenido(row); any later edit of a sealed row, or removal of one, breaks the chain (auditoria_verificar()).';

-- The chain is built after the fact by one sealer (a scheduler job), not
-- at insert: linking each insert to the previous one would serialize
-- every writing transaction of the system on one lock.  The trigger's
-- only exception is that sealing step: setting sello/hash/hash_anterior
-- on a row that has none, leaving every other column as it was.
CREATE FUNCTION auditoria_solo_insercion() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND OLD.sello IS NULL AND NEW.sello IS NOT NULL AND
	    (NEW.id, NEW.ocurrido_en, NEW.usuario_id, NEW.rol, NEW.sede_id, NEW.accion,
	     NEW.entidad, NEW.entidad_id, NEW.request_id, NEW.direccion_ip, NEW.antes, NEW.despues)
	    IS NOT DISTINCT FROM
	    (OLD.id, OLD.ocurrido_en, OLD.usuario_id, OLD.rol, OLD.sede_id, OLD.accion,
	     OLD.entidad, OLD.entidad_id, OLD.request_id, OLD.direccion_ip, OLD.antes, OLD.despues) THEN
		RETURN NEW;
	END IF;
	RAISE EXCEPTION 'auditoria is append-only: % refused', TG_OP
	    USING ERRCODE = 'object_not_in_prerequisite_state',
	          CONSTRAINT = 'auditoria_solo_insercion', TABLE = 'auditoria';
END
$$;
COMMENT ON FUNCTION auditoria_solo_insercion() IS
	'Refuses UPDATE, DELETE and TRUNCATE on auditoria (SQLSTATE 55000), except the sealing of an unsealed row.';

CREATE TRIGGER auditoria_sin_cambios BEFORE UPDATE OR DELETE ON auditoria
	FOR EACH ROW EXECUTE FUNCTION auditoria_solo_insercion();
CREATE TRIGGER auditoria_sin_truncate BEFORE TRUNCATE ON auditoria
	FOR EACH STATEMENT EXECUTE FUNCTION auditoria_solo_insercion();

-- Canonical bytes of a row for hashing: a JSON array in column order,
-- the time in UTC so the session time zone cannot change the bytes.
CREATE FUNCTION auditoria_contenido(a auditoria) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT convert_to(jsonb_build_array(a.id, a.ocurrido_en AT TIME ZONE 'UTC',
	    a.usuario_id, a.rol, a.sede_id, a.accion, a.entidad, a.entidad_id,
	    a.request_id, host(a.direccion_ip), a.antes, a.despues)::text, 'UTF8')
$$;
COMMENT ON FUNCTION auditoria_contenido(auditoria) IS
	'The bytes of an audit row that its hash covers (every column but the seal).';

CREATE FUNCTION auditoria_sellar(p_limite integer DEFAULT 10000) RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	v_sello bigint;
	v_hash  bytea;
	v_nuevo bytea;
	r       auditoria;
	n       integer := 0;
BEGIN
	-- One sealer at a time; a second caller waits, then continues the chain.
	PERFORM pg_advisory_xact_lock(hashtextextended('vetred.auditoria_sellar', 0));
	SELECT sello, hash INTO v_sello, v_hash
	    FROM auditoria WHERE sello IS NOT NULL ORDER BY sello DESC LIMIT 1;
	v_sello := coalesce(v_sello, 0);
	-- Rows of transactions still open are invisible here; they are sealed
	-- by a later run, after rows with higher ids: the chain follows sello.
	FOR r IN SELECT * FROM auditoria WHERE sello IS NULL ORDER BY id LIMIT p_limite
	LOOP
		v_sello := v_sello + 1;
		v_nuevo := sha256(coalesce(v_hash, ''::bytea) || auditoria_contenido(r));
		UPDATE auditoria SET sello = v_sello, hash_anterior = v_hash, hash = v_nuevo
		    WHERE id = r.id;
		v_hash := v_nuevo;
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION auditoria_sellar(integer) IS
	'Seals up to p_limite unsealed audit rows into the hash chain, in id order; returns how many. Run periodically by one scheduler job.';

CREATE FUNCTION auditoria_verificar() RETURNS bigint
LANGUAGE sql STABLE
AS $$
	SELECT min(sello) FROM (
	    SELECT a.sello, a.hash, a.hash_anterior,
	        lag(a.hash) OVER (ORDER BY a.sello) AS hash_previo,
	        lag(a.sello) OVER (ORDER BY a.sello) AS sello_previo,
	        sha256(coalesce(a.hash_anterior, ''::bytea) || auditoria_contenido(a)) AS recalculado
	    FROM auditoria a WHERE a.sello IS NOT NULL) c
	WHERE c.hash IS DISTINCT FROM c.recalculado
	   OR c.hash_anterior IS DISTINCT FROM c.hash_previo
	   OR c.sello <> coalesce(c.sello_previo, 0) + 1
$$;
COMMENT ON FUNCTION auditoria_verificar() IS
	'Walks the hash chain; returns the first sello that does not verify (edited row, missing predecessor), NULL if the chain is intact.';

-- Outbox --------------------------------------------------------------

CREATE TABLE outbox (
	id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	evento_id          uuid NOT NULL DEFAULT gen_random_uuid(),
	tipo               text NOT NULL,
	agregado           text NOT NULL,
	agregado_id        text NOT NULL,
	payload            jsonb NOT NULL,
	creado_en          timestamptz NOT NULL DEFAULT now(),
	publicado_en       timestamptz,
	intentos           integer NOT NULL DEFAULT 0,
	proximo_intento_en timestamptz NOT NULL DEFAULT now(),
	ultimo_error       text,
	CONSTRAINT outbox_evento_id_unico UNIQUE (evento_id),
	CONSTRAINT outbox_tipo_formato CHECK (tipo ~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$' AND char_length(tipo) <= 100),
	CONSTRAINT outbox_agregado_formato CHECK (agregado ~ '^[a-z][a-z_]{0,62}$'),
	CONSTRAINT outbox_agregado_id_valido CHECK (char_length(agregado_id) BETWEEN 1 AND 200),
	CONSTRAINT outbox_payload_objeto CHECK (jsonb_typeof(payload) = 'object'),
	CONSTRAINT outbox_intentos_no_negativos CHECK (intentos >= 0),
	CONSTRAINT outbox_publicado_tras_creado CHECK (publicado_en >= creado_en)
);
-- The relay's queue: SELECT ... WHERE publicado_en IS NULL AND
-- proximo_intento_en <= now() ORDER BY id LIMIT n FOR UPDATE SKIP LOCKED.
CREATE INDEX outbox_pendientes ON outbox (id) WHERE publicado_en IS NULL;
-- Purge of published rows past retention.
CREATE INDEX outbox_publicado_en ON outbox USING brin (publicado_en);
COMMENT ON TABLE outbox IS 'Transactional outbox: events written with the change that caused them, published to RabbitMQ by the scheduler relay with publisher confirms, then marked published.';
COMMENT ON COLUMN outbox.id IS 'Surrogate key; publication order within one aggregate.';
COMMENT ON COLUMN outbox.evento_id IS 'Globally unique event id, sent as the AMQP message-id; consumers deduplicate on it.';
COMMENT ON COLUMN outbox.tipo IS 'Event type and routing key, dotted lower case: cita.reservada, cita.cancelada, vacunacion.registrada, ...';
COMMENT ON COLUMN outbox.agregado IS 'Kind of the aggregate the event is about (cita, paciente, ...).';
COMMENT ON COLUMN outbox.agregado_id IS 'Key of that aggregate, as text.';
COMMENT ON COLUMN outbox.payload IS 'Event body, a JSON object; no secrets.';
COMMENT ON COLUMN outbox.creado_en IS 'When the event was recorded (the change''s transaction time).';
COMMENT ON COLUMN outbox.publicado_en IS 'When the broker confirmed it; NULL while pending.';
COMMENT ON COLUMN outbox.intentos IS 'Failed publication attempts so far.';
COMMENT ON COLUMN outbox.proximo_intento_en IS 'Do not retry before this instant (back-off after a failure).';
COMMENT ON COLUMN outbox.ultimo_error IS 'Error of the last failed attempt; NULL if none.';
