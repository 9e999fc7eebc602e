-- consumidores.sql: what the worker runtime (lib/worker.c) and the
-- engine's own worker (vetred-worker) do in the database: mark an event
-- handled, keep a dead letter, replay one, purge the outbox
-- (db/migrations/0035).
--
-- Current definitions, run again by vetred-migrate whenever this file
-- changes (db/README.md): CREATE OR REPLACE only.

-- A consumer takes an event, in the transaction of its effect: true the
-- first time, false when the consumer handled it before (a redelivery:
-- do nothing).
CREATE OR REPLACE FUNCTION tomar_evento(p_consumidor text, p_evento uuid)
RETURNS boolean
LANGUAGE sql AS $$
	WITH n AS (
	    INSERT INTO eventos_procesados (consumidor, evento_id)
	    VALUES (p_consumidor, p_evento)
	    ON CONFLICT DO NOTHING RETURNING 1)
	SELECT EXISTS (SELECT 1 FROM n)
$$;
COMMENT ON FUNCTION tomar_evento(text, uuid) IS
	'Marks the event handled by the consumer in the caller''s transaction: true the first time, false on a redelivery.';

-- One dead letter, as the worker drained it from vetred.muertos: a new
-- row, or the row of the same message that died before (replayed and
-- failed again), updated.  Answers its id.
CREATE OR REPLACE FUNCTION registrar_muerto(p_huella text, p_consumidor text,
    p_evento_id text, p_tipo text, p_clave text, p_request_id text,
    p_motivo text, p_intentos integer, p_tamano integer, p_cuerpo bytea)
RETURNS bigint
LANGUAGE sql AS $$
	INSERT INTO eventos_muertos AS m (huella, consumidor, evento_id, tipo,
	    clave, request_id, motivo, intentos, tamano, cuerpo)
	VALUES (p_huella, left(p_consumidor, 255), left(p_evento_id, 255),
	    left(p_tipo, 255), left(p_clave, 255), left(p_request_id, 256),
	    left(coalesce(nullif(p_motivo, ''), 'sin motivo'), 1000),
	    greatest(p_intentos, 0), greatest(p_tamano, 0),
	    substring(p_cuerpo FROM 1 FOR 65536))
	ON CONFLICT (huella) DO UPDATE SET motivo = EXCLUDED.motivo,
	    intentos = EXCLUDED.intentos, muertes = m.muertes + 1,
	    muerto_en = now()
	RETURNING id
$$;
COMMENT ON FUNCTION registrar_muerto(text, text, text, text, text, text, text, integer, integer, bytea) IS
	'Keeps a dead letter (vetred-worker drains vetred.muertos into it); the same message dying again counts one more death.';

-- The body as text when it is UTF-8, NULL when it is not.
CREATE OR REPLACE FUNCTION muerto_texto(b bytea) RETURNS text
LANGUAGE plpgsql IMMUTABLE PARALLEL SAFE AS $$
BEGIN
	RETURN convert_from(b, 'UTF8');
EXCEPTION WHEN character_not_in_repertoire OR untranslatable_character THEN
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION muerto_texto(bytea) IS
	'A dead letter''s body as text, or NULL when it is not valid UTF-8.';

-- The event a dead letter carries, when it is one the outbox can hold
-- again: the relay's envelope (id, tipo, version, agregado, agregado_id,
-- datos; scheduler/relay.c) as JSON.  NULL when it is not.
CREATE OR REPLACE FUNCTION muerto_evento(m eventos_muertos) RETURNS jsonb
LANGUAGE plpgsql STABLE PARALLEL SAFE AS $$
DECLARE
	t text := muerto_texto(m.cuerpo);
	e jsonb;
BEGIN
	IF t IS NULL OR m.tamano > octet_length(m.cuerpo)
	    OR m.consumidor !~ '^[a-z][a-z0-9_.]{0,99}$' THEN
		RETURN NULL;
	END IF;
	BEGIN
		e := t::jsonb;
	EXCEPTION WHEN invalid_text_representation THEN
		RETURN NULL;
	END;
	IF jsonb_typeof(e) <> 'object'
	    OR jsonb_typeof(e->'datos') IS DISTINCT FROM 'object'
	    OR coalesce(e->>'id', '') !~ '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$'
	    OR coalesce(e->>'tipo', '') !~ '^[a-z][a-z_]*(\.[a-z][a-z_]*)+$'
	    OR char_length(e->>'tipo') > 100
	    OR coalesce(e->>'agregado', '') !~ '^[a-z][a-z_]{0,62}$'
	    OR char_length(coalesce(e->>'agregado_id', '')) NOT BETWEEN 1 AND 2 * 100
	    OR coalesce(e->>'version', '1') !~ '^[1-9][0-9]{0,3}$' THEN
		RETURN NULL;
	END IF;
	RETURN e;
END
$$;
COMMENT ON FUNCTION muerto_evento(eventos_muertos) IS
	'The outbox event a dead letter carries (the relay''s envelope), or NULL when it carries none.';

-- A dead letter as the operator API shows it: the body as text when it
-- is UTF-8 (base64 otherwise), whole up to the 64 KiB kept.
CREATE OR REPLACE FUNCTION muerto_json(m eventos_muertos) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT jsonb_build_object('id', m.id, 'consumidor', m.consumidor,
	    'evento_id', m.evento_id, 'tipo', m.tipo, 'clave', m.clave,
	    'request_id', m.request_id, 'motivo', m.motivo,
	    'intentos', m.intentos, 'muertes', m.muertes,
	    'tamano', m.tamano,
	    'cuerpo', coalesce(muerto_texto(m.cuerpo), encode(m.cuerpo, 'base64')),
	    'cuerpo_codificacion', CASE WHEN muerto_texto(m.cuerpo) IS NULL
	        THEN 'base64' ELSE 'texto' END,
	    'cuerpo_truncado', m.tamano > octet_length(m.cuerpo),
	    'muerto_en', m.muerto_en, 'reenvios', m.reenvios,
	    'reenviado_en', m.reenviado_en,
	    'reenviable', muerto_evento(m) IS NOT NULL)
$$;
COMMENT ON FUNCTION muerto_json(eventos_muertos) IS
	'JSON of one dead letter (GET /api/v1/eventos/muertos).';

-- GET /api/v1/eventos/muertos: newest first, by consumer or type.
CREATE OR REPLACE FUNCTION listar_muertos(p_consumidor text, p_tipo text,
    p_limite integer, p_cursor bigint)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	WITH filas AS (
	    SELECT m, m.id FROM eventos_muertos m
	    WHERE (p_cursor IS NULL OR m.id < p_cursor)
	      AND (p_consumidor IS NULL OR m.consumidor = p_consumidor)
	      AND (p_tipo IS NULL OR m.tipo = p_tipo OR m.clave = p_tipo)
	    ORDER BY m.id DESC LIMIT p_limite + 1),
	pagina AS (SELECT m, id, row_number() OVER (ORDER BY id DESC) AS n FROM filas)
	SELECT jsonb_build_object(
	    'elementos', coalesce((SELECT jsonb_agg(muerto_json(p.m) ORDER BY p.id DESC)
	        FROM pagina p WHERE p.n <= p_limite), '[]'),
	    'siguiente_cursor', CASE WHEN (SELECT count(*) FROM pagina) > p_limite
	        THEN (SELECT min(id) FROM pagina WHERE n <= p_limite)::text END)
$$;
COMMENT ON FUNCTION listar_muertos(text, text, integer, bigint) IS
	'One page of the dead letters, newest first, with the cursor of the next page.';

-- POST /api/v1/eventos/muertos/{id}/reenviar: the event goes back into
-- the outbox with its own id, addressed to the consumer that gave up on
-- it alone (outbox.destino: the relay publishes it to that work queue,
-- not to every queue bound to its type).  The outbox row it came from,
-- if not purged yet, gives way to the new one (the id is unique there).
-- Audited.
CREATE OR REPLACE FUNCTION reenviar_muerto(p_id bigint,
    p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	m eventos_muertos%ROWTYPE;
	e jsonb;
BEGIN
	SELECT * INTO m FROM eventos_muertos WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'El mensaje muerto no existe.'));
	END IF;
	e := muerto_evento(m);
	IF e IS NULL THEN
		RETURN veredicto('no-reenviable', jsonb_build_object(
		    'detalle', 'El mensaje no es un evento reenviable (sin id, '
		    'no es JSON, cuerpo truncado o sin datos): consérvelo para '
		    'examinarlo.'));
	END IF;
	DELETE FROM outbox WHERE evento_id = (e->>'id')::uuid;
	INSERT INTO outbox (evento_id, tipo, agregado, agregado_id, payload,
	    version_esquema, request_id, destino)
	VALUES ((e->>'id')::uuid, e->>'tipo', e->>'agregado', e->>'agregado_id',
	    e->'datos', coalesce((e->>'version')::smallint, 1), p_request_id,
	    m.consumidor);
	UPDATE eventos_muertos SET reenvios = reenvios + 1, reenviado_en = now()
	WHERE id = p_id
	RETURNING * INTO m;
	PERFORM auditar(p_usuario, p_rol, NULL, 'reenviar', 'eventos_muertos',
	    p_id::text, p_request_id, p_ip, NULL,
	    jsonb_build_object('evento_id', e->>'id', 'tipo', e->>'tipo',
	        'consumidor', m.consumidor));
	RETURN veredicto('aceptado', jsonb_build_object('cuerpo', muerto_json(m)));
END
$$;
COMMENT ON FUNCTION reenviar_muerto(bigint, bigint, text, text, inet) IS
	'Replays a dead letter into the outbox with its event id, audited: verdict aceptado with the dead letter, no-encontrado or no-reenviable.';

-- purga_outbox: the published events older than the retention, and the
-- consumers' marks of that age (a redelivery cannot come that late).
-- Answers how many of each.
CREATE OR REPLACE FUNCTION purgar_outbox(p_retencion interval,
    OUT eventos bigint, OUT marcas bigint)
LANGUAGE plpgsql AS $$
BEGIN
	DELETE FROM outbox WHERE publicado_en < now() - p_retencion;
	GET DIAGNOSTICS eventos = ROW_COUNT;
	DELETE FROM eventos_procesados WHERE procesado_en < now() - p_retencion;
	GET DIAGNOSTICS marcas = ROW_COUNT;
END
$$;
COMMENT ON FUNCTION purgar_outbox(interval) IS
	'Deletes the outbox rows published before the retention, and eventos_procesados rows as old (job purga_outbox).';
