-- comun.sql: building blocks every domain uses: the actualizado_en
-- stamp, verdicts and per-field errors, local times, the audit row and
-- the outbox.
--
-- Current definitions, run again by vetred-migrate whenever this file
-- changes (db/README.md): CREATE OR REPLACE only.

CREATE OR REPLACE FUNCTION fijar_actualizado_en() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.actualizado_en := now();
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION fijar_actualizado_en() IS
	'BEFORE UPDATE row trigger: stamps actualizado_en with the transaction time, so no writer can forget or forge it.';

CREATE OR REPLACE FUNCTION error_campo(campo text, mensaje text) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT jsonb_build_array(jsonb_build_object('campo', campo, 'mensaje', mensaje))
$$;
COMMENT ON FUNCTION error_campo(text, text) IS
	'One per-field error, as the "errores" array of a verdict: [{campo, mensaje}].';

-- What a function answers its caller (the API, a worker): a code of
-- veredictos, which says what happened in the domain's words, and the
-- members that go with it: cuerpo for a success; detalle, errores and
-- what names the obstacle for a refusal.  The caller decides what the
-- code means to it; an unknown code is a bug, raised here.
--
-- Every write answers one, so the codes are read from veredictos once a
-- session, into the session setting vetred.veredictos (" creado hecho
-- ... "), not once a call: a code found there is in the table, since
-- codes change only by migration, which replaces every function that
-- names one in the same transaction; a code not found there reads the
-- table again (a code a migration added since) before it raises.
CREATE OR REPLACE FUNCTION veredicto(p_codigo text, p_resto jsonb DEFAULT '{}')
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF strpos(p_codigo, ' ') > 0 OR strpos(coalesce(
	    current_setting('vetred.veredictos', true), ''), ' ' || p_codigo || ' ') = 0 THEN
		PERFORM set_config('vetred.veredictos',
		    ' ' || (SELECT string_agg(codigo, ' ') FROM veredictos) || ' ', false);
		IF strpos(p_codigo, ' ') > 0 OR strpos(current_setting('vetred.veredictos'),
		    ' ' || p_codigo || ' ') = 0 THEN
			RAISE EXCEPTION 'verdict code % is not in veredictos', p_codigo;
		END IF;
	END IF;
	RETURN jsonb_build_object('codigo', p_codigo) || coalesce(p_resto, '{}');
END
$$;
COMMENT ON FUNCTION veredicto(text, jsonb) IS
	'A verdict: {"codigo": p_codigo} and the members of p_resto; raises when p_codigo is not a code of veredictos.';

-- An optimistic update's check: the version the client read (If-Match)
-- against the row's.  The refusing verdict, or NULL (none given, or the
-- same).  p_que: the row as the message names it ("El paciente").
CREATE OR REPLACE FUNCTION version_distinta(p_que text, p_actual integer, p_pedida integer)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT veredicto('version-distinta', jsonb_build_object('detalle',
	    p_que || ' cambió (versión ' || p_actual || '); vuelva a leerlo.'))
	WHERE p_pedida IS NOT NULL AND p_pedida <> p_actual
$$;
COMMENT ON FUNCTION version_distinta(text, integer, integer) IS
	'Verdict version-distinta when a version was given and differs from the row''s, else NULL.';

-- tz NULL: the network's zone.  One expression, so that the planner still
-- inlines it (0007): hence coalesce() at each use.
CREATE OR REPLACE FUNCTION hora_local(t timestamptz, tz text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT to_char(t AT TIME ZONE coalesce(tz, 'America/Lima'), 'YYYY-MM-DD"T"HH24:MI:SS')
	    || CASE WHEN (t AT TIME ZONE coalesce(tz, 'America/Lima')) < (t AT TIME ZONE 'UTC')
	    THEN '-' || to_char((t AT TIME ZONE 'UTC')
	        - (t AT TIME ZONE coalesce(tz, 'America/Lima')), 'HH24:MI')
	    ELSE '+' || to_char((t AT TIME ZONE coalesce(tz, 'America/Lima'))
	        - (t AT TIME ZONE 'UTC'), 'HH24:MI') END
$$;
COMMENT ON FUNCTION hora_local(timestamptz, text) IS
	'RFC 3339 text of a time (whole seconds) in a time zone (NULL: America/Lima), with the zone''s offset; NULL for a NULL time.';

-- 0016: an update's audit row keeps the changed fields only.
--
-- For a change (both antes and despues given as JSON objects) the row
-- stores, before and after, just the members whose values differ; a
-- creation, a read or a deletion what the caller gives: for a creation,
-- the new row's own facts, nothing derived from other rows (a booking:
-- cita_hechos()).  Smaller rows, and a trail that says what changed.
CREATE OR REPLACE FUNCTION auditar(
	p_usuario bigint, p_rol text, p_sede bigint, p_accion text,
	p_entidad text, p_entidad_id text, p_request_id text, p_ip inet,
	p_antes jsonb, p_despues jsonb)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	antes jsonb := p_antes;
	despues jsonb := p_despues;
BEGIN
	IF jsonb_typeof(p_antes) = 'object' AND jsonb_typeof(p_despues) = 'object' THEN
		SELECT coalesce(jsonb_object_agg(a.key, a.value), '{}') INTO antes
		FROM jsonb_each(p_antes) a
		WHERE p_despues -> a.key IS DISTINCT FROM a.value;
		SELECT coalesce(jsonb_object_agg(d.key, d.value), '{}') INTO despues
		FROM jsonb_each(p_despues) d
		WHERE p_antes -> d.key IS DISTINCT FROM d.value;
	END IF;
	INSERT INTO auditoria (usuario_id, rol, sede_id, accion, entidad,
	    entidad_id, request_id, direccion_ip, antes, despues)
	VALUES (p_usuario, p_rol, p_sede, p_accion, p_entidad, p_entidad_id,
	    p_request_id, p_ip, antes, despues);
END
$$;
COMMENT ON FUNCTION auditar(bigint, text, bigint, text, text, text, text, inet, jsonb, jsonb) IS
	'Appends one audit row (in the caller''s transaction); for a change, only the fields whose values differ, before and after.';

CREATE OR REPLACE FUNCTION publicar(p_tipo text, p_agregado text,
    p_agregado_id text, p_payload jsonb, p_request_id text)
RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO outbox (tipo, agregado, agregado_id, payload, request_id)
	VALUES (p_tipo, p_agregado, p_agregado_id, p_payload, p_request_id);
END
$$;
COMMENT ON FUNCTION publicar(text, text, text, jsonb, text) IS
	'Writes one outbox event (in the caller''s transaction), with the request that caused it; the scheduler relays it.';

CREATE OR REPLACE FUNCTION publicar(p_tipo text, p_agregado text, p_agregado_id text, p_payload jsonb)
RETURNS void
LANGUAGE sql AS $$
	SELECT publicar(p_tipo, p_agregado, p_agregado_id, p_payload, NULL)
$$;
COMMENT ON FUNCTION publicar(text, text, text, jsonb) IS
	'Writes one outbox event that no request caused (a periodic job''s); the scheduler relays it.';

-- The relay's doorbell (db/migrations/0033): a statement that wrote
-- outbox rows notifies vetred_outbox, but only while the relay sleeps
-- on it, since a notifying transaction commits alone (PostgreSQL holds
-- a database-wide lock across a notifier's commit).  While the relay
-- drains it reads the table again by itself before it sleeps.
CREATE OR REPLACE FUNCTION outbox_avisar() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF coalesce((SELECT escuchando FROM relevo_escucha
	    WHERE canal = 'vetred_outbox'), true) THEN
		PERFORM pg_notify('vetred_outbox', '');
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION outbox_avisar() IS
	'AFTER INSERT statement trigger of outbox: wakes the relay (NOTIFY vetred_outbox) when it sleeps.';
CREATE OR REPLACE TRIGGER outbox_avisar AFTER INSERT ON outbox
	FOR EACH STATEMENT EXECUTE FUNCTION outbox_avisar();
