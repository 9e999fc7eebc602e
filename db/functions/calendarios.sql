-- calendarios.sql: iCalendar feeds: the secret URLs (issued, listed,
-- rotated, revoked) and the document the calendar worker renders with
-- libical (lib/ical.c).
--
-- Current definitions, run again by vetred-migrate whenever this file
-- changes (db/README.md): CREATE OR REPLACE only.

CREATE OR REPLACE FUNCTION calendario_json(c calendarios) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', c.id,
	    'tipo', CASE WHEN c.veterinario_id IS NOT NULL THEN 'veterinario' ELSE 'sede' END,
	    'veterinario_id', c.veterinario_id, 'sede_id', c.sede_id,
	    'creado_en', hora_local(c.creado_en, NULL), 'reemplaza_id', c.reemplaza_id)
$$;
COMMENT ON FUNCTION calendario_json(calendarios) IS
	'A feed subscription as the API shows it (never its token).';

CREATE OR REPLACE FUNCTION evento_calendario(c calendarios) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('calendario_id', c.id,
	    'tipo', CASE WHEN c.veterinario_id IS NOT NULL THEN 'veterinario' ELSE 'sede' END,
	    'veterinario_id', c.veterinario_id, 'sede_id', c.sede_id,
	    'token_sha256', encode(c.token_sha256, 'hex'))
$$;
COMMENT ON FUNCTION evento_calendario(calendarios) IS
	'Payload of calendario.emitido and calendario.revocado (db/eventos/calendario.*.v1.json): the token''s hash, which names the file nginx serves.';

-- POST /api/v1/calendarios {veterinario_id | sede_id}: a new secret URL
-- for one feed.  A vet's feed (their appointments at every site) is for
-- that vet's own user or a network-wide grant; a site's for a reader at
-- that site (p_sedes NULL: any).  p_url, the URL with its token, is
-- answered once and stored nowhere.  With p_reemplaza (a rotation), the
-- feed is that token's, which is revoked in the same transaction.
CREATE OR REPLACE FUNCTION emitir_calendario(p_vet bigint, p_sede bigint, p_reemplaza bigint,
    p_hash bytea, p_url text, p_sedes bigint[],
    p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	viejo calendarios%ROWTYPE;
	c calendarios%ROWTYPE;
	dueno bigint;
BEGIN
	IF p_reemplaza IS NOT NULL THEN
		SELECT * INTO viejo FROM calendarios WHERE id = p_reemplaza
		    AND revocado_en IS NULL FOR UPDATE;
		IF NOT FOUND OR (viejo.usuario_id <> p_usuario AND p_sedes IS NOT NULL) THEN
			RETURN veredicto('no-encontrado', jsonb_build_object(
			    'detalle', 'No tiene esa suscripción vigente.'));
		END IF;
		p_vet := viejo.veterinario_id;
		p_sede := viejo.sede_id;
	ELSIF p_vet IS NOT NULL THEN
		SELECT usuario_id INTO dueno FROM veterinarios WHERE id = p_vet;
		IF NOT FOUND THEN
			RETURN veredicto('no-encontrado', jsonb_build_object(
			    'detalle', 'El veterinario no existe.'));
		END IF;
		IF dueno IS DISTINCT FROM p_usuario AND p_sedes IS NOT NULL THEN
			RETURN veredicto('prohibido', jsonb_build_object(
			    'detalle', 'La agenda de un veterinario es suya: solo él (o la red) se suscribe a ella.'));
		END IF;
	ELSE
		PERFORM 1 FROM sedes WHERE id = p_sede;
		IF NOT FOUND THEN
			RETURN veredicto('no-encontrado', jsonb_build_object(
			    'detalle', 'La sede no existe.'));
		END IF;
		IF p_sedes IS NOT NULL AND NOT p_sede = ANY (p_sedes) THEN
			RETURN veredicto('prohibido', jsonb_build_object(
			    'detalle', 'Su rol no permite esta operación en esa sede.'));
		END IF;
	END IF;
	IF viejo.id IS NOT NULL THEN
		UPDATE calendarios SET revocado_en = now() WHERE id = viejo.id
		RETURNING * INTO viejo;
		PERFORM auditar(p_usuario, p_rol, p_sede, 'eliminar', 'calendarios', viejo.id::text,
		    p_request_id, p_ip, calendario_json(viejo), NULL);
		PERFORM publicar('calendario.revocado', 'calendario', viejo.id::text,
		    evento_calendario(viejo), p_request_id);
	END IF;
	INSERT INTO calendarios (usuario_id, veterinario_id, sede_id, token_sha256, reemplaza_id)
	VALUES (p_usuario, p_vet, p_sede, p_hash, viejo.id)
	RETURNING * INTO c;
	PERFORM auditar(p_usuario, p_rol, p_sede, 'crear', 'calendarios', c.id::text,
	    p_request_id, p_ip, NULL, calendario_json(c));
	PERFORM publicar('calendario.emitido', 'calendario', c.id::text,
	    evento_calendario(c), p_request_id);
	RETURN veredicto('creado', jsonb_build_object('cuerpo',
	    calendario_json(c) || jsonb_build_object('url', p_url)));
END
$$;
COMMENT ON FUNCTION emitir_calendario(bigint, bigint, bigint, bytea, text, bigint[], bigint, text, text, inet) IS
	'Issues a feed subscription (its token''s hash kept), or rotates one; audited, with calendario.emitido (and calendario.revocado for the one replaced).';

-- GET /api/v1/calendarios: the caller's live subscriptions.
CREATE OR REPLACE FUNCTION listar_calendarios(p_usuario bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('elementos', coalesce(jsonb_agg(calendario_json(c) ORDER BY c.id), '[]'),
	    'siguiente_cursor', NULL)
	FROM calendarios c WHERE c.usuario_id = p_usuario AND c.revocado_en IS NULL
$$;
COMMENT ON FUNCTION listar_calendarios(bigint) IS
	'The live feed subscriptions of a user.';

-- DELETE /api/v1/calendarios/{id}: the caller's own (p_red: any).
CREATE OR REPLACE FUNCTION revocar_calendario(p_id bigint, p_red boolean,
    p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	c calendarios%ROWTYPE;
BEGIN
	UPDATE calendarios SET revocado_en = now()
	WHERE id = p_id AND revocado_en IS NULL AND (usuario_id = p_usuario OR p_red)
	RETURNING * INTO c;
	IF c.id IS NULL THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'No tiene esa suscripción vigente.'));
	END IF;
	PERFORM auditar(p_usuario, p_rol, coalesce(c.sede_id, NULL), 'eliminar', 'calendarios',
	    c.id::text, p_request_id, p_ip, calendario_json(c), NULL);
	PERFORM publicar('calendario.revocado', 'calendario', c.id::text,
	    evento_calendario(c), p_request_id);
	RETURN veredicto('cancelado');
END
$$;
COMMENT ON FUNCTION revocar_calendario(bigint, boolean, bigint, text, text, inet) IS
	'Revokes a feed subscription (its URL finds nothing once the calendar worker removed its link); audited, with calendario.revocado.';

-- A user disabled or whose roles changed (actualizar_usuario()): every
-- live subscription of theirs is revoked, each audited with its event.
CREATE OR REPLACE FUNCTION revocar_calendarios_de(p_dueno bigint, p_usuario bigint,
    p_rol text, p_request_id text, p_ip inet)
RETURNS integer
LANGUAGE plpgsql AS $$
DECLARE
	c calendarios%ROWTYPE;
	n integer := 0;
BEGIN
	FOR c IN UPDATE calendarios SET revocado_en = now()
	    WHERE usuario_id = p_dueno AND revocado_en IS NULL RETURNING * LOOP
		PERFORM auditar(p_usuario, p_rol, c.sede_id, 'eliminar', 'calendarios',
		    c.id::text, p_request_id, p_ip, calendario_json(c), NULL);
		PERFORM publicar('calendario.revocado', 'calendario', c.id::text,
		    evento_calendario(c), p_request_id);
		n := n + 1;
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION revocar_calendarios_de(bigint, bigint, text, text, inet) IS
	'Revokes every live feed subscription of a user (disabled, or roles changed); audited, with calendario.revocado each; how many.';

-- AAAAMMDDTHHMMSS of t in zone tz; with utc, the UTC form (...Z).
CREATE OR REPLACE FUNCTION ical_hora(t timestamptz, tz text, utc boolean) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN utc THEN to_char(t AT TIME ZONE 'UTC', 'YYYYMMDD"T"HH24MISS"Z"')
	    ELSE to_char(t AT TIME ZONE tz, 'YYYYMMDD"T"HH24MISS') END
$$;
COMMENT ON FUNCTION ical_hora(timestamptz, text, boolean) IS
	'An iCalendar DATE-TIME of an instant: local to a zone, or UTC.';

-- The document of the feed of a vet (p_tipo 'veterinario') or a site,
-- for lib/ical.c: its appointments from 30 days ago to 13 months ahead,
-- the cancelled ones of the last 30 days as CANCELLED; pet, species,
-- type and reason, never the owner.  NULL when no live subscription
-- names it (no file to write).  A local time the clocks' change makes
-- ambiguous comes in UTC too.
CREATE OR REPLACE FUNCTION feed_documento(p_tipo text, p_ref bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	WITH f AS (
		SELECT CASE WHEN p_tipo = 'veterinario' THEN 'VetRed · ' || v.nombres || ' ' || v.apellidos
		            ELSE 'VetRed · ' || s.nombre END AS nombre,
		       coalesce(s.zona_horaria, (SELECT s2.zona_horaria FROM veterinario_sedes vs
		           JOIN sedes s2 ON s2.id = vs.sede_id WHERE vs.veterinario_id = v.id
		           ORDER BY vs.activo DESC, vs.sede_id LIMIT 1), 'America/Lima') AS zona,
		       coalesce(s.nombre, 'VetRed') AS organizador
		FROM (SELECT) uno
		LEFT JOIN veterinarios v ON p_tipo = 'veterinario' AND v.id = p_ref
		LEFT JOIN sedes s ON p_tipo = 'sede' AND s.id = p_ref
		WHERE EXISTS (SELECT 1 FROM calendarios c WHERE c.revocado_en IS NULL
		    AND CASE WHEN p_tipo = 'veterinario' THEN c.veterinario_id ELSE c.sede_id END = p_ref)
		  AND (v.id IS NOT NULL OR s.id IS NOT NULL)),
	e AS (
		SELECT c.id, jsonb_strip_nulls(jsonb_build_object(
		    'uid', 'cita-' || c.id || '@vetred.pe',
		    'zona', s.zona_horaria,
		    'inicio', ical_hora(lower(c.periodo), s.zona_horaria, false),
		    'fin', ical_hora(upper(c.periodo), s.zona_horaria, false),
		    'inicio_utc', CASE WHEN (lower(c.periodo) AT TIME ZONE s.zona_horaria) AT TIME ZONE s.zona_horaria
		        <> lower(c.periodo) THEN ical_hora(lower(c.periodo), NULL, true) END,
		    'fin_utc', CASE WHEN (upper(c.periodo) AT TIME ZONE s.zona_horaria) AT TIME ZONE s.zona_horaria
		        <> upper(c.periodo) THEN ical_hora(upper(c.periodo), NULL, true) END,
		    'resumen', p.nombre || ' (' || p.especie || ')' || coalesce(' · ' || t.nombre, '')
		        || CASE WHEN p_tipo = 'sede' THEN ' · ' || v.nombres || ' ' || v.apellidos ELSE '' END,
		    'descripcion', concat_ws(E'\n',
		        'Motivo: ' || c.motivo,
		        'Veterinario: ' || v.nombres || ' ' || v.apellidos,
		        'Estado: ' || replace(c.estado, '_', ' '),
		        CASE WHEN c.estado = 'cancelada' THEN 'Cancelada: ' || coalesce(c.motivo_cancelacion, 'sin motivo') END),
		    'lugar', CASE WHEN c.tipo = 'virtual' THEN 'Teleconsulta · ' || s.nombre
		        ELSE s.nombre || coalesce(', ' || r.nombre, '') || ', ' || s.direccion END,
		    'estado', CASE c.estado WHEN 'cancelada' THEN 'CANCELLED' WHEN 'reservada' THEN 'TENTATIVE'
		        ELSE 'CONFIRMED' END,
		    'secuencia', c.version - 1,
		    'creado', ical_hora(c.creado_en, NULL, true),
		    'modificado', ical_hora(c.actualizado_en, NULL, true))) AS j
		FROM citas c
		JOIN sedes s ON s.id = c.sede_id
		JOIN pacientes p ON p.id = c.paciente_id
		JOIN veterinarios v ON v.id = c.veterinario_id
		LEFT JOIN consultorios r ON r.id = c.consultorio_id
		LEFT JOIN tipos_cita t ON t.id = c.tipo_cita_id
		WHERE CASE WHEN p_tipo = 'veterinario' THEN c.veterinario_id ELSE c.sede_id END = p_ref
		  AND c.periodo && tstzrange(now() - interval '30 days', now() + interval '13 months')
		  AND (c.estado <> 'cancelada' OR c.cancelado_en >= now() - interval '30 days'))
	SELECT jsonb_build_object('nombre', f.nombre, 'zona', f.zona, 'organizador', f.organizador,
	    'reglas_desde', to_char(date_trunc('year', now() AT TIME ZONE 'UTC') - interval '1 year',
	        'YYYYMMDD"T"HH24MISS"Z"'),
	    'eventos', coalesce((SELECT jsonb_agg(e.j ORDER BY e.id) FROM e), '[]'))
	FROM f
$$;
COMMENT ON FUNCTION feed_documento(text, bigint) IS
	'The feed document of a vet or a site (appointments of the last 30 days and the next 13 months, cancellations of the last 30; no owner data), or NULL when no live subscription names it.';

-- The calendar consumer: an event concerns a feed.  Only a feed a live
-- subscription names (or, p_siempre, one whose last subscription just
-- went: its file goes too) is marked.
CREATE OR REPLACE FUNCTION feed_marcar(p_tipo text, p_ref bigint, p_siempre boolean)
RETURNS void
LANGUAGE sql AS $$
	INSERT INTO calendario_feeds AS f (tipo, ref_id, pendiente_desde, marca)
	SELECT p_tipo, p_ref, clock_timestamp(), 1
	WHERE p_siempre OR EXISTS (SELECT 1 FROM calendarios c WHERE c.revocado_en IS NULL
	    AND CASE WHEN p_tipo = 'veterinario' THEN c.veterinario_id ELSE c.sede_id END = p_ref)
	ON CONFLICT (tipo, ref_id) DO UPDATE
	    SET pendiente_desde = coalesce(f.pendiente_desde, EXCLUDED.pendiente_desde),
	        marca = f.marca + 1
$$;
COMMENT ON FUNCTION feed_marcar(text, bigint, boolean) IS
	'Marks a feed to be written again (the calendar consumer, on an event that concerns it).';

-- The writer: the feeds marked at least p_espera_ms ago (their burst has
-- settled), oldest first.
CREATE OR REPLACE FUNCTION feeds_pendientes(p_espera_ms integer, p_limite integer)
RETURNS TABLE (tipo text, ref_id bigint, marca bigint)
LANGUAGE sql STABLE AS $$
	SELECT f.tipo, f.ref_id, f.marca FROM calendario_feeds f
	WHERE f.pendiente_desde <= clock_timestamp() - make_interval(secs => p_espera_ms / 1000.0)
	ORDER BY f.pendiente_desde LIMIT p_limite
$$;
COMMENT ON FUNCTION feeds_pendientes(integer, integer) IS
	'Feeds to write: marked, and not marked again for p_espera_ms.';

-- The writer, every minute: a feed written more than a day ago is
-- marked again, so that its window moves on (the last 30 days, the next
-- 13 months) and old cancellations leave it; how many.
CREATE OR REPLACE FUNCTION feeds_vencidos() RETURNS integer
LANGUAGE sql AS $$
	WITH m AS (SELECT feed_marcar(f.tipo, f.ref_id, false) FROM calendario_feeds f
	    WHERE f.pendiente_desde IS NULL AND f.generado_en < now() - interval '1 day')
	SELECT count(*)::integer FROM m
$$;
COMMENT ON FUNCTION feeds_vencidos() IS
	'Marks again the feeds written more than a day ago (their window moves on); how many.';

-- The writer wrote a feed rendered after it read mark p_marca: done,
-- unless another mark came meanwhile (then it is written again).
CREATE OR REPLACE FUNCTION feed_escrito(p_tipo text, p_ref bigint, p_marca bigint,
    p_eventos integer, p_bytes integer)
RETURNS void
LANGUAGE sql AS $$
	UPDATE calendario_feeds SET generado_en = now(), eventos = p_eventos, bytes = p_bytes,
	    pendiente_desde = CASE WHEN marca = p_marca THEN NULL ELSE pendiente_desde END
	WHERE tipo = p_tipo AND ref_id = p_ref
$$;
COMMENT ON FUNCTION feed_escrito(text, bigint, bigint, integer, integer) IS
	'Records a feed written (when, how many events, how big); clears its mark unless a newer one came.';
