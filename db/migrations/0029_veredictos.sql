-- 0029: the codes of the verdicts the database functions return.
--
-- A function of db/functions answers its caller with a verdict,
-- {"codigo": ..., then "cuerpo" for a success, or "detalle", "errores"
-- and what names the obstacle for a refusal}: what happened, in the
-- domain's words.  How a caller acts on it is the caller's: the API maps
-- each code to its answer (fcgi-api/result.c), a worker to what it does
-- next.  The codes are the rows of veredictos; veredicto() refuses any
-- other, and a unit test keeps the API's table of codes and this one
-- together.
CREATE TABLE veredictos (
	codigo      text PRIMARY KEY,
	descripcion text NOT NULL,
	CONSTRAINT veredictos_codigo_formato CHECK (codigo ~ '^[a-z]+(-[a-z]+)*$'),
	CONSTRAINT veredictos_descripcion_valida CHECK (btrim(descripcion) <> '')
);
COMMENT ON TABLE veredictos IS 'Every code a database function may return as its verdict (veredicto()); changed by migrations only.';
COMMENT ON COLUMN veredictos.codigo IS 'The code, lower-case words joined by dashes: creado, conflicto, fuera-de-horario.';
COMMENT ON COLUMN veredictos.descripcion IS 'What the code says happened, and the members that come with it.';

INSERT INTO veredictos (codigo, descripcion) VALUES
	('creado', 'Done: a new row was written; cuerpo is it.'),
	('hecho', 'Done: cuerpo is the result (the row as it now is, or what was asked for).'),
	('cancelado', 'The appointment is cancelled, now or already before; no cuerpo.'),
	('validacion', 'Refused: fields are invalid or name rows that do not exist; errores says which and why.'),
	('fuera-de-horario', 'Refused: the time is outside the vet''s working hours at that site; detalle says which hours.'),
	('veterinario-ausente', 'Refused: the vet has an absence recorded at that time.'),
	('idempotencia', 'Refused: the Idempotency-Key was used before with another request.'),
	('conflicto', 'Refused: taken by another row (an overlapping appointment, a site code or an e-mail in use); conflicto may name the appointment.'),
	('transicion-invalida', 'Refused: the appointment''s state cannot go there from the one it is in.'),
	('cita-cerrada', 'Refused: the appointment is past the states in which it may be moved.'),
	('paciente-existente', 'Refused: the owner already has a live pet of that name, species and birth date; paciente_existente names it.'),
	('admin-existe', 'Refused: an active network administrator exists; usuario_id names one.'),
	('no-encontrado', 'Refused: the row does not exist.'),
	('version-distinta', 'Refused: the row changed since the version the caller gave.'),
	('prohibido', 'Refused: outside the caller''s scope (its sites, the roles it may grant).'),
	('sesion-invalida', 'Refused: the refresh token is unknown, expired, revoked or reused.');

-- An idempotent booking kept the HTTP status it answered; it keeps the
-- verdict's code now, and its stored verdict is one of the new shape
-- (a booking's only success is creado, a refusal's code was its type).
ALTER TABLE idempotencia ADD COLUMN respuesta_codigo text REFERENCES veredictos (codigo);
UPDATE idempotencia
SET respuesta_cuerpo = (respuesta_cuerpo - 'estado' - 'tipo')
	|| jsonb_build_object('codigo', coalesce(respuesta_cuerpo->>'tipo', 'creado'))
WHERE respuesta_cuerpo ? 'estado';
UPDATE idempotencia SET respuesta_codigo = respuesta_cuerpo->>'codigo'
WHERE respuesta_cuerpo IS NOT NULL;
-- Its two checks go with it.
ALTER TABLE idempotencia DROP COLUMN respuesta_estado;
ALTER TABLE idempotencia ADD CONSTRAINT idempotencia_cuerpo_con_codigo
	CHECK (respuesta_cuerpo IS NULL OR respuesta_codigo IS NOT NULL);
COMMENT ON COLUMN idempotencia.respuesta_codigo IS 'Code of the verdict answered (veredictos); NULL while the first request is still in its transaction.';
COMMENT ON COLUMN idempotencia.respuesta_cuerpo IS 'The verdict answered, replayed as is (with "repetida"); NULL while the first request is still in its transaction.';

-- A registration keeps only successes: all creado.
UPDATE idempotencia_usuario
SET respuesta = (respuesta - 'estado' - 'tipo')
	|| jsonb_build_object('codigo', coalesce(respuesta->>'tipo', 'creado'))
WHERE respuesta ? 'estado';
COMMENT ON COLUMN idempotencia_usuario.respuesta IS 'The verdict answered ({codigo, cuerpo}), replayed as is; NULL only inside the first request''s transaction.';

-- The API writes neither the codes nor the runner's record of the function
-- files (it may read both).
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vetred_api') THEN
		REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON veredictos FROM vetred_api;
		IF to_regclass('schema_funciones') IS NOT NULL THEN
			REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_funciones
			    FROM vetred_api;
		END IF;
	END IF;
END
$$;
