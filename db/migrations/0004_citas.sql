-- 0004: appointments and the idempotency store of the booking API.
--
-- Double booking is impossible by construction: GiST exclusion
-- constraints refuse two live appointments of one vet, one room or one
-- patient whose periods overlap.  A concurrent loser gets SQLSTATE 23P01
-- (exclusion_violation) with the constraint name; the API answers 409.
-- Cancelled and no-show appointments do not hold their slot.
-- Not enforced here (needs other tables, checked by the API in the
-- booking transaction): the period lies within the vet's horarios and
-- outside their ausencias, and the vet, room and site are active.

CREATE TABLE citas (
	id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	sede_id            bigint NOT NULL REFERENCES sedes (id) ON DELETE RESTRICT,
	veterinario_id     bigint NOT NULL,
	consultorio_id     bigint,
	paciente_id        bigint NOT NULL REFERENCES pacientes (id) ON DELETE RESTRICT,
	periodo            tstzrange NOT NULL,
	estado             text NOT NULL DEFAULT 'reservada',
	tipo               text NOT NULL DEFAULT 'presencial',
	motivo             text,
	version            integer NOT NULL DEFAULT 1,
	creado_por         bigint REFERENCES usuarios (id) ON DELETE SET NULL,
	actualizado_por    bigint REFERENCES usuarios (id) ON DELETE SET NULL,
	creado_en          timestamptz NOT NULL DEFAULT now(),
	actualizado_en     timestamptz NOT NULL DEFAULT now(),
	cancelado_en       timestamptz,
	motivo_cancelacion text,
	CONSTRAINT citas_veterinario_sede_fk FOREIGN KEY (veterinario_id, sede_id)
	    REFERENCES veterinario_sedes (veterinario_id, sede_id) ON DELETE RESTRICT,
	CONSTRAINT citas_consultorio_sede_fk FOREIGN KEY (consultorio_id, sede_id)
	    REFERENCES consultorios (id, sede_id) ON DELETE RESTRICT,
	CONSTRAINT citas_periodo_valido CHECK (NOT isempty(periodo)
	    AND NOT lower_inf(periodo) AND NOT upper_inf(periodo)
	    AND lower_inc(periodo) AND NOT upper_inc(periodo)),
	CONSTRAINT citas_duracion_maxima CHECK (upper(periodo) - lower(periodo) <= interval '12 hours'),
	CONSTRAINT citas_estado_valido CHECK (estado IN
	    ('reservada', 'confirmada', 'en_atencion', 'atendida', 'cancelada', 'no_asistio')),
	CONSTRAINT citas_tipo_valido CHECK (tipo IN ('presencial', 'virtual')),
	CONSTRAINT citas_virtual_sin_consultorio CHECK (tipo = 'presencial' OR consultorio_id IS NULL),
	CONSTRAINT citas_motivo_valido CHECK (btrim(motivo) <> '' AND char_length(motivo) <= 500),
	CONSTRAINT citas_version_positiva CHECK (version >= 1),
	CONSTRAINT citas_cancelacion_coherente CHECK ((estado = 'cancelada') = (cancelado_en IS NOT NULL)),
	CONSTRAINT citas_motivo_cancelacion_coherente CHECK (motivo_cancelacion IS NULL
	    OR (estado = 'cancelada' AND btrim(motivo_cancelacion) <> '' AND char_length(motivo_cancelacion) <= 500)),
	CONSTRAINT citas_veterinario_sin_solape EXCLUDE USING gist
	    (veterinario_id WITH =, periodo WITH &&)
	    WHERE (estado NOT IN ('cancelada', 'no_asistio')),
	CONSTRAINT citas_consultorio_sin_solape EXCLUDE USING gist
	    (consultorio_id WITH =, periodo WITH &&)
	    WHERE (consultorio_id IS NOT NULL AND estado NOT IN ('cancelada', 'no_asistio')),
	CONSTRAINT citas_paciente_sin_solape EXCLUDE USING gist
	    (paciente_id WITH =, periodo WITH &&)
	    WHERE (estado NOT IN ('cancelada', 'no_asistio'))
);
-- Day agenda of a site: sede_id = $1 AND periodo && tstzrange($2, $3).
CREATE INDEX citas_sede_periodo ON citas USING gist (sede_id, periodo);
-- A vet's calendar and iCal feed, cancelled ones included (STATUS:CANCELLED).
CREATE INDEX citas_veterinario_inicio ON citas (veterinario_id, lower(periodo));
-- A patient's appointments, newest first.
CREATE INDEX citas_paciente_inicio ON citas (paciente_id, lower(periodo) DESC);
COMMENT ON TABLE citas IS 'An appointment of a patient with a vet at a site, optionally in a room. Never deleted: DELETE in the API cancels.';
COMMENT ON COLUMN citas.id IS 'Surrogate key.';
COMMENT ON COLUMN citas.sede_id IS 'Site of the appointment; the vet must work there (veterinario_sedes) and the room belong to it.';
COMMENT ON COLUMN citas.veterinario_id IS 'The vet; no two live appointments of a vet overlap (citas_veterinario_sin_solape).';
COMMENT ON COLUMN citas.consultorio_id IS 'Room, in the same site; NULL when none is needed (always NULL for virtual). No two live appointments of a room overlap (citas_consultorio_sin_solape).';
COMMENT ON COLUMN citas.paciente_id IS 'The patient; a patient cannot be in two live appointments at once (citas_paciente_sin_solape).';
COMMENT ON COLUMN citas.periodo IS 'When: [start, end) instants, bounded, non-empty, at most 12 hours. Build it with tstzrange($inicio, $fin) (default bounds [)).';
COMMENT ON COLUMN citas.estado IS 'reservada -> confirmada -> en_atencion -> atendida; or cancelada / no_asistio. Only those transitions are accepted (trigger citas_cambio); cancelada and no_asistio free the slot.';
COMMENT ON COLUMN citas.tipo IS 'presencial (at the site) or virtual (video consultation, no room).';
COMMENT ON COLUMN citas.motivo IS 'Reason for the visit as told by the owner; NULL if not given.';
COMMENT ON COLUMN citas.version IS 'Row version for optimistic concurrency (ETag / If-Match): 1 on insert, incremented by trigger citas_cambio on every update; do not set it.';
COMMENT ON COLUMN citas.creado_por IS 'User who booked it; NULL if booked by an integration without a user.';
COMMENT ON COLUMN citas.actualizado_por IS 'User who made the last change; NULL if never changed.';
COMMENT ON COLUMN citas.creado_en IS 'When the appointment was booked.';
COMMENT ON COLUMN citas.actualizado_en IS 'When the row was last updated (trigger).';
COMMENT ON COLUMN citas.cancelado_en IS 'When it was cancelled; set if and only if estado = cancelada (the trigger fills it with now() if the update leaves it NULL).';
COMMENT ON COLUMN citas.motivo_cancelacion IS 'Why it was cancelled; only on cancelled appointments, optional.';

-- State machine and frozen fields.  Transitions cannot be a CHECK (they
-- need the old row).  Rejections are SQLSTATE 55000
-- (object_not_in_prerequisite_state) naming citas_transicion_estado or
-- citas_cerrada_inmutable: the API answers 409.
CREATE FUNCTION citas_validar_cambio() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.estado IS DISTINCT FROM OLD.estado AND NOT (
	    (OLD.estado = 'reservada' AND NEW.estado IN
	        ('confirmada', 'en_atencion', 'atendida', 'cancelada', 'no_asistio')) OR
	    (OLD.estado = 'confirmada' AND NEW.estado IN
	        ('en_atencion', 'atendida', 'cancelada', 'no_asistio')) OR
	    (OLD.estado = 'en_atencion' AND NEW.estado = 'atendida')) THEN
		RAISE EXCEPTION 'cita %: estado % cannot change to %', OLD.id, OLD.estado, NEW.estado
		    USING ERRCODE = 'object_not_in_prerequisite_state',
		          CONSTRAINT = 'citas_transicion_estado', TABLE = 'citas', COLUMN = 'estado';
	END IF;
	-- Who, where and when are fixed once the visit has started or ended.
	IF OLD.estado NOT IN ('reservada', 'confirmada') AND
	    (NEW.sede_id, NEW.veterinario_id, NEW.consultorio_id, NEW.paciente_id, NEW.periodo, NEW.tipo)
	    IS DISTINCT FROM
	    (OLD.sede_id, OLD.veterinario_id, OLD.consultorio_id, OLD.paciente_id, OLD.periodo, OLD.tipo) THEN
		RAISE EXCEPTION 'cita % is % and can no longer be moved', OLD.id, OLD.estado
		    USING ERRCODE = 'object_not_in_prerequisite_state',
		          CONSTRAINT = 'citas_cerrada_inmutable', TABLE = 'citas';
	END IF;
	IF NEW.estado = 'cancelada' AND OLD.estado <> 'cancelada' AND NEW.cancelado_en IS NULL THEN
		NEW.cancelado_en := now();
	END IF;
	NEW.version := OLD.version + 1;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION citas_validar_cambio() IS
	'BEFORE UPDATE on citas: enforces the estado state machine, freezes who/where/when after reservada/confirmada, stamps cancelado_en, bumps version.';

CREATE TRIGGER citas_cambio BEFORE UPDATE ON citas
	FOR EACH ROW EXECUTE FUNCTION citas_validar_cambio();
CREATE TRIGGER citas_actualizado_en BEFORE UPDATE ON citas
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

-- Idempotency-Key store.  Booking pattern, all in the one transaction
-- that writes the cita: INSERT ... ON CONFLICT DO NOTHING the key with
-- the request hash (the loser of a race waits on the row lock, then sees
-- the winner's response), do the work, UPDATE the response in.  A replay
-- with the same key and hash gets the stored response; with a different
-- hash the API answers 422.
CREATE TABLE idempotencia (
	ambito           text NOT NULL,
	clave            text NOT NULL,
	usuario_id       bigint REFERENCES usuarios (id) ON DELETE CASCADE,
	hash_solicitud   bytea NOT NULL,
	respuesta_estado integer,
	respuesta_cuerpo jsonb,
	creado_en        timestamptz NOT NULL DEFAULT now(),
	expira_en        timestamptz NOT NULL DEFAULT now() + interval '24 hours',
	PRIMARY KEY (ambito, clave),
	CONSTRAINT idempotencia_ambito_valido CHECK (btrim(ambito) <> '' AND char_length(ambito) <= 200),
	CONSTRAINT idempotencia_clave_formato CHECK (clave ~ '^[!-~]{1,255}$'),
	CONSTRAINT idempotencia_hash_sha256 CHECK (octet_length(hash_solicitud) = 32),
	CONSTRAINT idempotencia_estado_http CHECK (respuesta_estado BETWEEN 100 AND 599),
	CONSTRAINT idempotencia_cuerpo_con_estado CHECK (respuesta_cuerpo IS NULL OR respuesta_estado IS NOT NULL),
	CONSTRAINT idempotencia_expira_despues CHECK (expira_en > creado_en)
);
CREATE INDEX idempotencia_expira ON idempotencia (expira_en);
COMMENT ON TABLE idempotencia IS 'Responses remembered per Idempotency-Key so a retried POST is answered once; rows past expira_en are purged by the scheduler.';
COMMENT ON COLUMN idempotencia.ambito IS 'Scope the key is unique in, e.g. ''u:42 POST /api/v1/citas/reservar'' (user and operation), so two clients never collide.';
COMMENT ON COLUMN idempotencia.clave IS 'Idempotency-Key header value as sent: 1 to 255 printable ASCII characters.';
COMMENT ON COLUMN idempotencia.usuario_id IS 'User who sent the request; NULL for unauthenticated or service callers.';
COMMENT ON COLUMN idempotencia.hash_solicitud IS 'SHA-256 of the canonical request (method, path, body) to detect a key reused for a different request.';
COMMENT ON COLUMN idempotencia.respuesta_estado IS 'HTTP status returned; NULL while the first request is still in its transaction.';
COMMENT ON COLUMN idempotencia.respuesta_cuerpo IS 'JSON body returned, replayed as is; NULL for an empty body.';
COMMENT ON COLUMN idempotencia.creado_en IS 'When the key was first seen.';
COMMENT ON COLUMN idempotencia.expira_en IS 'After this instant the key may be forgotten (24 h by default).';
