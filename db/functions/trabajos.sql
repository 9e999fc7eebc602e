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

-- A job as the operator API shows it; times in the job's zone.
CREATE OR REPLACE FUNCTION trabajo_json(t trabajos) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT jsonb_build_object('nombre', t.nombre, 'descripcion', t.descripcion,
	    'programa', t.programa, 'intervalo_s', t.intervalo_s,
	    'zona_horaria', t.zona_horaria, 'habilitado', t.habilitado,
	    'proximo_en', hora_local(t.proximo_en, t.zona_horaria),
	    'ultimo_disparo_en', hora_local(t.ultimo_disparo_en, t.zona_horaria),
	    'disparos', t.disparos, 'ultimo_resultado', t.ultimo_resultado,
	    'ultimo_fin_en', hora_local(t.ultimo_fin_en, t.zona_horaria),
	    'ultima_duracion_ms', t.ultima_duracion_ms,
	    'ultimo_error', t.ultimo_error,
	    'ultimo_exito_en', hora_local(t.ultimo_exito_en, t.zona_horaria),
	    'ejecuciones_ok', t.ejecuciones_ok,
	    'ejecuciones_error', t.ejecuciones_error,
	    'actualizado_en', hora_local(t.actualizado_en, t.zona_horaria))
$$;
COMMENT ON FUNCTION trabajo_json(trabajos) IS
	'JSON of one job (GET /api/v1/trabajos), times in its zone.';

-- PUT /api/v1/trabajos/{nombre}: enable or disable, a new schedule (a
-- cron expression, which the API parsed, or an interval: one replaces
-- the other), a new zone.  When the schedule or the zone changes the
-- next run is p_proximo, the civil time in the (new) zone the API
-- computed for a cron schedule, or now + the interval.  Audited.
CREATE OR REPLACE FUNCTION modificar_trabajo(p_nombre text, p_habilitado boolean,
    p_programa text, p_intervalo integer, p_zona text, p_proximo timestamp,
    p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	t trabajos%ROWTYPE;
	antes jsonb;
	horario boolean := p_programa IS NOT NULL OR p_intervalo IS NOT NULL
	    OR p_zona IS NOT NULL;
BEGIN
	SELECT * INTO t FROM trabajos WHERE nombre = p_nombre FOR UPDATE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'El trabajo no existe.'));
	END IF;
	antes := trabajo_json(t) - 'actualizado_en';
	UPDATE trabajos SET
	    habilitado = coalesce(p_habilitado, habilitado),
	    programa = CASE WHEN p_programa IS NOT NULL THEN p_programa
	        WHEN p_intervalo IS NOT NULL THEN NULL ELSE programa END,
	    intervalo_s = CASE WHEN p_intervalo IS NOT NULL THEN p_intervalo
	        WHEN p_programa IS NOT NULL THEN NULL ELSE intervalo_s END,
	    zona_horaria = coalesce(p_zona, zona_horaria),
	    proximo_en = CASE WHEN NOT horario THEN proximo_en
	        WHEN coalesce(p_intervalo, CASE WHEN p_programa IS NULL
	            THEN intervalo_s END) IS NOT NULL
	            THEN now() + coalesce(p_intervalo, intervalo_s) * interval '1 second'
	        ELSE p_proximo AT TIME ZONE coalesce(p_zona, zona_horaria) END
	WHERE nombre = p_nombre
	RETURNING * INTO t;
	PERFORM auditar(p_usuario, p_rol, NULL, 'actualizar', 'trabajos', p_nombre,
	    p_request_id, p_ip, antes, trabajo_json(t) - 'actualizado_en');
	RETURN veredicto('hecho', jsonb_build_object('cuerpo', trabajo_json(t)));
END
$$;
COMMENT ON FUNCTION modificar_trabajo(text, boolean, text, integer, text, timestamp, bigint, text, text, inet) IS
	'Changes a job (enabled, schedule, zone), audited: verdict hecho with the job, or no-encontrado.';

-- POST /api/v1/trabajos/{nombre}/ejecutar: one firing now, beside the
-- schedule (which stays as it is), even for a disabled job.  Audited.
CREATE OR REPLACE FUNCTION ejecutar_trabajo(p_nombre text,
    p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	t trabajos%ROWTYPE;
BEGIN
	UPDATE trabajos SET disparos = disparos + 1, ultimo_disparo_en = now()
	WHERE nombre = p_nombre
	RETURNING * INTO t;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'El trabajo no existe.'));
	END IF;
	PERFORM auditar(p_usuario, p_rol, NULL, 'ejecutar', 'trabajos', p_nombre,
	    p_request_id, p_ip, NULL, jsonb_build_object('disparo', t.disparos)),
	    publicar('trabajo.disparado', 'trabajo', t.nombre,
	        evento_trabajo(t, now()), p_request_id);
	RETURN veredicto('aceptado', jsonb_build_object('cuerpo', trabajo_json(t)));
END
$$;
COMMENT ON FUNCTION ejecutar_trabajo(text, bigint, text, text, inet) IS
	'Fires a job now, beside its schedule, audited: verdict aceptado with the job, or no-encontrado.';

-- The worker that ran a firing says how it went: ok (in the transaction
-- of the job's effect) or error (after that transaction rolled back),
-- with how long it took.  Unknown job: nothing.
CREATE OR REPLACE FUNCTION terminar_trabajo(p_nombre text, p_ok boolean,
    p_duracion_ms integer, p_error text DEFAULT NULL)
RETURNS void
LANGUAGE sql AS $$
	UPDATE trabajos SET
	    ultimo_resultado = CASE WHEN p_ok THEN 'ok' ELSE 'error' END,
	    ultimo_fin_en = now(),
	    ultima_duracion_ms = greatest(p_duracion_ms, 0),
	    ultimo_error = CASE WHEN p_ok THEN NULL
	        ELSE left(coalesce(nullif(p_error, ''), 'error'), 1000) END,
	    ultimo_exito_en = CASE WHEN p_ok THEN now() ELSE ultimo_exito_en END,
	    ejecuciones_ok = ejecuciones_ok + CASE WHEN p_ok THEN 1 ELSE 0 END,
	    ejecuciones_error = ejecuciones_error + CASE WHEN p_ok THEN 0 ELSE 1 END
	WHERE nombre = p_nombre
$$;
COMMENT ON FUNCTION terminar_trabajo(text, boolean, integer, text) IS
	'Records the outcome of a job''s run (the worker that ran it): last result, end, duration, error, counters.';
