-- trabajos.sql: the periodic jobs (db/migrations/0034): the time-zone
-- rule, firing a due job, and its message.
--
-- Current definitions, run again by vetred-migrate whenever this file
-- changes (db/README.md): CREATE OR REPLACE only.

CREATE OR REPLACE FUNCTION trabajos_validar_zona_horaria() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names
	    WHERE name = NEW.zona_horaria) THEN
		RAISE EXCEPTION 'invalid time zone: %', NEW.zona_horaria
		    USING ERRCODE = 'check_violation',
		          CONSTRAINT = 'trabajos_zona_horaria_valida',
		          TABLE = 'trabajos', COLUMN = 'zona_horaria';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION trabajos_validar_zona_horaria() IS
	'Rejects a trabajos.zona_horaria unknown to the server (SQLSTATE 23514, constraint trabajos_zona_horaria_valida).';

CREATE OR REPLACE TRIGGER trabajos_zona_horaria BEFORE INSERT OR UPDATE OF zona_horaria ON trabajos
	FOR EACH ROW EXECUTE FUNCTION trabajos_validar_zona_horaria();

CREATE OR REPLACE TRIGGER trabajos_actualizado_en BEFORE UPDATE ON trabajos
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

-- The message of one firing (db/eventos/trabajo.disparado.v1.json).
CREATE OR REPLACE FUNCTION evento_trabajo(t trabajos, p_programado timestamptz)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT jsonb_build_object('trabajo', t.nombre, 'disparo', t.disparos,
	    'programado_para', p_programado, 'disparado_en', t.ultimo_disparo_en,
	    'zona_horaria', t.zona_horaria)
$$;
COMMENT ON FUNCTION evento_trabajo(trabajos, timestamptz) IS
	'Payload of trabajo.disparado: the job, the number of this firing, when it was due and when it fired.';

-- Fire one due job, in the caller's transaction (which took its row FOR
-- UPDATE SKIP LOCKED): the next run is p_proximo, the civil time in the
-- job's zone that the caller computed from its cron schedule after the
-- zone's time now (lib/cron.c), or the interval's next multiple after
-- now; and its message
-- goes into the outbox.  p_proximo NULL with a schedule (the schedule
-- has no next run, or does not parse: p_error says which) disables the
-- job instead, with the reason, and fires nothing.  Answers whether it
-- fired.
CREATE OR REPLACE FUNCTION disparar_trabajo(p_nombre text, p_proximo timestamp,
    p_error text DEFAULT NULL)
RETURNS boolean
LANGUAGE plpgsql AS $$
DECLARE
	t trabajos%ROWTYPE;
	debido timestamptz;
BEGIN
	SELECT proximo_en INTO debido FROM trabajos WHERE nombre = p_nombre;
	IF NOT FOUND THEN
		RETURN false;
	END IF;
	UPDATE trabajos SET
	    -- An interval keeps its cadence (the next multiple of it after
	    -- now, counted from the run that was due): no drift, and a job
	    -- that missed several periods fires once.
	    proximo_en = CASE WHEN intervalo_s IS NOT NULL
	        THEN proximo_en + (floor(extract(epoch FROM now() - proximo_en)
	            / intervalo_s) + 1) * intervalo_s * interval '1 second'
	        WHEN p_proximo IS NOT NULL THEN p_proximo AT TIME ZONE zona_horaria
	        ELSE proximo_en END,
	    habilitado = habilitado AND (intervalo_s IS NOT NULL OR p_proximo IS NOT NULL),
	    ultimo_disparo_en = CASE WHEN intervalo_s IS NOT NULL OR p_proximo IS NOT NULL
	        THEN now() ELSE ultimo_disparo_en END,
	    disparos = disparos + CASE WHEN intervalo_s IS NOT NULL OR p_proximo IS NOT NULL
	        THEN 1 ELSE 0 END,
	    ultimo_resultado = CASE WHEN intervalo_s IS NULL AND p_proximo IS NULL
	        THEN 'error' ELSE ultimo_resultado END,
	    ultimo_error = CASE WHEN intervalo_s IS NULL AND p_proximo IS NULL
	        THEN left(coalesce(p_error, 'el programa no tiene próxima ejecución'), 1000)
	        ELSE ultimo_error END
	WHERE nombre = p_nombre
	RETURNING * INTO t;
	IF t.intervalo_s IS NULL AND p_proximo IS NULL THEN
		RETURN false;
	END IF;
	PERFORM publicar('trabajo.disparado', 'trabajo', t.nombre,
	    evento_trabajo(t, debido));
	RETURN true;
END
$$;
COMMENT ON FUNCTION disparar_trabajo(text, timestamp, text) IS
	'Fires a due job (row locked by the caller): advances its next run and writes trabajo.disparado into the outbox; disables it when its schedule has no next run.';
