-- agenda.sql: vets, their sites, rooms, working hours and absences:
-- the list of vets and the free slots of one.
--
-- Current definitions, run again by vetred-migrate whenever this file
-- changes (db/README.md): CREATE OR REPLACE only.

-- A range type over time of day, so working-hour blocks can take part in
-- an exclusion constraint.  subtype_diff lets GiST split pages well.
CREATE OR REPLACE FUNCTION rango_horas_diferencia(a time, b time) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT EXTRACT(EPOCH FROM (a - b))::double precision $$;
COMMENT ON FUNCTION rango_horas_diferencia(time, time) IS
	'subtype_diff of rango_horas: seconds from b to a.';

CREATE OR REPLACE TRIGGER veterinarios_actualizado_en BEFORE UPDATE ON veterinarios
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

CREATE OR REPLACE TRIGGER veterinario_sedes_actualizado_en BEFORE UPDATE ON veterinario_sedes
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

CREATE OR REPLACE TRIGGER consultorios_actualizado_en BEFORE UPDATE ON consultorios
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

CREATE OR REPLACE TRIGGER horarios_actualizado_en BEFORE UPDATE ON horarios
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

CREATE OR REPLACE TRIGGER ausencias_actualizado_en BEFORE UPDATE ON ausencias
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

-- GET /api/v1/veterinarios: vets with the sites they work at, optionally
-- only those working at p_sede.
CREATE OR REPLACE FUNCTION listar_veterinarios(p_sede bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (
	SELECT coalesce(jsonb_agg(jsonb_build_object(
	    'id', v.id, 'nombres', v.nombres, 'apellidos', v.apellidos,
	    'cmvp', v.cmvp, 'especialidad', v.especialidad, 'activo', v.activo,
	    'sedes', (SELECT jsonb_agg(jsonb_build_object('id', s.id,
	        'codigo', s.codigo, 'nombre', s.nombre) ORDER BY s.id)
	        FROM veterinario_sedes vs JOIN sedes s ON s.id = vs.sede_id
	        WHERE vs.veterinario_id = v.id AND vs.activo))
	    ORDER BY v.apellidos, v.nombres, v.id), '[]')
	FROM veterinarios v
	WHERE p_sede IS NULL OR EXISTS (SELECT 1 FROM veterinario_sedes vs
	    WHERE vs.veterinario_id = v.id AND vs.sede_id = p_sede AND vs.activo));
END
$$;
COMMENT ON FUNCTION listar_veterinarios(bigint) IS
	'Vets with the sites they work at; only those of p_sede when given.';

-- GET /api/v1/disponibilidad: free slots of a vet at a site on a local
-- date, stepping by p_paso minutes inside each working block, minus
-- absences, live appointments and the past.  Only what reservar_cita
-- would accept: none for an inactive vet or site (cita_validar refuses
-- them).
CREATE OR REPLACE FUNCTION disponibilidad(
	p_veterinario bigint, p_sede bigint, p_fecha date, p_minutos integer,
	p_paso integer)
RETURNS TABLE (inicio timestamptz, fin timestamptz)
LANGUAGE sql STABLE AS $$
	WITH s AS (SELECT zona_horaria AS tz FROM sedes WHERE id = p_sede AND activa),
	bloques AS (
		SELECT ((p_fecha + h.hora_inicio) AT TIME ZONE s.tz) AS desde,
		       ((p_fecha + h.hora_fin) AT TIME ZONE s.tz) AS hasta
		FROM horarios h, s
		WHERE h.veterinario_id = p_veterinario AND h.sede_id = p_sede
		  AND h.dia_semana = extract(isodow FROM p_fecha)
		  AND p_fecha >= h.vigente_desde
		  AND (h.vigente_hasta IS NULL OR p_fecha <= h.vigente_hasta)
		  AND EXISTS (SELECT 1 FROM veterinario_sedes vs
		      JOIN veterinarios v ON v.id = vs.veterinario_id
		      WHERE vs.veterinario_id = p_veterinario AND vs.sede_id = p_sede
		        AND vs.activo AND v.activo)),
	huecos AS (
		SELECT t AS inicio, t + make_interval(mins => p_minutos) AS fin
		FROM bloques b,
		     generate_series(b.desde, b.hasta - make_interval(mins => p_minutos),
		         make_interval(mins => p_paso)) AS t)
	SELECT h.inicio, h.fin FROM huecos h
	WHERE h.inicio > now()
	  AND NOT EXISTS (SELECT 1 FROM citas c
	      WHERE c.veterinario_id = p_veterinario
	        AND c.estado NOT IN ('cancelada', 'no_asistio')
	        AND c.periodo && tstzrange(h.inicio, h.fin))
	  AND NOT EXISTS (SELECT 1 FROM ausencias a
	      WHERE a.veterinario_id = p_veterinario
	        AND a.periodo && tstzrange(h.inicio, h.fin))
	ORDER BY h.inicio
$$;
COMMENT ON FUNCTION disponibilidad(bigint, bigint, date, integer, integer) IS
	'Free slots of an active vet at an active site on a local date (working hours minus absences, live appointments and the past).';

-- GET /api/v1/disponibilidad: the free slots as a verdict, hecho or
-- validacion (an unknown site or vet).
CREATE OR REPLACE FUNCTION disponibilidad_json(
	p_veterinario bigint, p_sede bigint, p_fecha date, p_minutos integer,
	p_paso integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	tz text;
	err jsonb := '[]';
BEGIN
	SELECT zona_horaria INTO tz FROM sedes WHERE id = p_sede;
	IF NOT FOUND THEN
		err := err || error_campo('sede_id', 'la sede no existe');
	END IF;
	IF NOT EXISTS (SELECT 1 FROM veterinarios WHERE id = p_veterinario) THEN
		err := err || error_campo('veterinario_id', 'el veterinario no existe');
	END IF;
	IF jsonb_array_length(err) > 0 THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los parámetros indicados.', 'errores', err));
	END IF;
	RETURN veredicto('hecho', jsonb_build_object('cuerpo', jsonb_build_object(
	    'veterinario_id', p_veterinario, 'sede_id', p_sede, 'fecha', p_fecha,
	    'zona_horaria', tz, 'duracion_min', p_minutos, 'paso_min', p_paso,
	    'huecos', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'inicio', hora_local(d.inicio, tz), 'fin', hora_local(d.fin, tz))
	        ORDER BY d.inicio)
	        FROM disponibilidad(p_veterinario, p_sede, p_fecha, p_minutos, p_paso) d),
	        '[]'))));
END
$$;
COMMENT ON FUNCTION disponibilidad_json(bigint, bigint, date, integer, integer) IS
	'The free slots of a vet at a site on a date: verdict hecho, or validacion for an unknown site or vet.';

-- A vet's absence as the API shows it, in the network's zone.
CREATE OR REPLACE FUNCTION ausencia_json(a ausencias) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', a.id, 'veterinario_id', a.veterinario_id,
	    'inicio', hora_local(lower(a.periodo), NULL), 'fin', hora_local(upper(a.periodo), NULL),
	    'tipo', a.tipo, 'motivo', a.motivo, 'creado_en', hora_local(a.creado_en, NULL))
$$;
COMMENT ON FUNCTION ausencia_json(ausencias) IS
	'An absence as the API shows it (times in America/Lima, with their offset).';

-- A site administrator manages the absences of the vets who work at one
-- of its sites (p_sedes NULL: a network-wide grant).
CREATE OR REPLACE FUNCTION veterinario_en_sedes(p_vet bigint, p_sedes bigint[]) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT p_sedes IS NULL OR EXISTS (SELECT 1 FROM veterinario_sedes vs
	    WHERE vs.veterinario_id = p_vet AND vs.sede_id = ANY (p_sedes))
$$;
COMMENT ON FUNCTION veterinario_en_sedes(bigint, bigint[]) IS
	'True when the vet works (or worked) at one of p_sedes, or p_sedes is NULL.';

DROP FUNCTION IF EXISTS listar_ausencias(bigint, timestamptz, timestamptz);
-- GET /api/v1/veterinarios/{id}/ausencias?desde&hasta: the absences
-- touching [desde, hasta), in order, for a reader at one of the vet's
-- sites (p_sedes NULL: any).
CREATE OR REPLACE FUNCTION listar_ausencias(p_vet bigint, p_desde timestamptz,
    p_hasta timestamptz, p_sedes bigint[]) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM veterinarios WHERE id = p_vet) THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'El veterinario no existe.'));
	END IF;
	IF NOT veterinario_en_sedes(p_vet, p_sedes) THEN
		RETURN veredicto('prohibido', jsonb_build_object(
		    'detalle', 'El veterinario no trabaja en sus sedes.'));
	END IF;
	RETURN veredicto('hecho', jsonb_build_object('cuerpo', jsonb_build_object(
	    'elementos', coalesce((SELECT jsonb_agg(ausencia_json(a) ORDER BY lower(a.periodo))
	        FROM ausencias a WHERE a.veterinario_id = p_vet
	          AND a.periodo && tstzrange(p_desde, greatest(p_desde, p_hasta))), '[]'),
	    'siguiente_cursor', NULL)));
END
$$;
COMMENT ON FUNCTION listar_ausencias(bigint, timestamptz, timestamptz, bigint[]) IS
	'The absences of a vet overlapping [p_desde, p_hasta), for a reader at one of its sites: verdict hecho, prohibido or no-encontrado.';

CREATE OR REPLACE FUNCTION evento_ausencia(a ausencias) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('ausencia_id', a.id, 'veterinario_id', a.veterinario_id,
	    'inicio', hora_local(lower(a.periodo), NULL), 'fin', hora_local(upper(a.periodo), NULL),
	    'tipo', a.tipo)
$$;
COMMENT ON FUNCTION evento_ausencia(ausencias) IS
	'Payload of ausencia.registrada and ausencia.eliminada (db/eventos/ausencia.*.v1.json).';

-- POST /api/v1/veterinarios/{id}/ausencias: the absence, and the live
-- appointments it falls on (still booked: the desk moves or cancels
-- them), named in the answer.  An overlap with another absence is a
-- conflict (extend that one instead).
CREATE OR REPLACE FUNCTION registrar_ausencia(p_vet bigint, p_inicio timestamptz,
    p_fin timestamptz, p_tipo text, p_motivo text, p_sedes bigint[],
    p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	a ausencias%ROWTYPE;
	otra bigint;
BEGIN
	PERFORM 1 FROM veterinarios WHERE id = p_vet FOR UPDATE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'El veterinario no existe.'));
	END IF;
	IF NOT veterinario_en_sedes(p_vet, p_sedes) THEN
		RETURN veredicto('prohibido', jsonb_build_object(
		    'detalle', 'El veterinario no trabaja en sus sedes.'));
	END IF;
	IF p_fin <= p_inicio OR p_fin - p_inicio > interval '366 days' THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('fin', CASE WHEN p_fin <= p_inicio
		        THEN 'debe ser posterior al inicio' ELSE 'una ausencia dura a lo más un año' END)));
	END IF;
	SELECT id INTO otra FROM ausencias
	WHERE veterinario_id = p_vet AND periodo && tstzrange(p_inicio, p_fin) LIMIT 1;
	IF otra IS NOT NULL THEN
		RETURN veredicto('conflicto', jsonb_build_object(
		    'detalle', format('Se cruza con la ausencia %s; modifíquela o elimínela primero.', otra)));
	END IF;
	INSERT INTO ausencias (veterinario_id, periodo, tipo, motivo, creado_por)
	VALUES (p_vet, tstzrange(p_inicio, p_fin), coalesce(p_tipo, 'otro'), p_motivo, p_usuario)
	RETURNING * INTO a;
	PERFORM auditar(p_usuario, p_rol, NULL, 'crear', 'ausencias', a.id::text,
	    p_request_id, p_ip, NULL, jsonb_build_object('veterinario_id', p_vet,
	        'inicio', p_inicio, 'fin', p_fin, 'tipo', a.tipo));
	PERFORM publicar('ausencia.registrada', 'veterinario', p_vet::text,
	    evento_ausencia(a), p_request_id);
	RETURN veredicto('creado', jsonb_build_object('cuerpo', ausencia_json(a)
	    || jsonb_build_object('citas_afectadas', coalesce((SELECT jsonb_agg(c.id ORDER BY lower(c.periodo))
	        FROM citas c WHERE c.veterinario_id = p_vet
	          AND c.estado IN ('reservada', 'confirmada')
	          AND c.periodo && a.periodo), '[]'))));
END
$$;
COMMENT ON FUNCTION registrar_ausencia(bigint, timestamptz, timestamptz, text, text, bigint[], bigint, text, text, inet) IS
	'Records a vet''s absence (no overlap with another), naming the live appointments it falls on; audited, with ausencia.registrada.';

-- DELETE /api/v1/veterinarios/{id}/ausencias/{ausencia}.
CREATE OR REPLACE FUNCTION eliminar_ausencia(p_vet bigint, p_id bigint, p_sedes bigint[],
    p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	a ausencias%ROWTYPE;
BEGIN
	SELECT * INTO a FROM ausencias WHERE id = p_id AND veterinario_id = p_vet FOR UPDATE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'La ausencia no existe.'));
	END IF;
	IF NOT veterinario_en_sedes(p_vet, p_sedes) THEN
		RETURN veredicto('prohibido', jsonb_build_object(
		    'detalle', 'El veterinario no trabaja en sus sedes.'));
	END IF;
	DELETE FROM ausencias WHERE id = p_id;
	PERFORM auditar(p_usuario, p_rol, NULL, 'eliminar', 'ausencias', p_id::text,
	    p_request_id, p_ip, jsonb_build_object('veterinario_id', p_vet,
	        'inicio', lower(a.periodo), 'fin', upper(a.periodo), 'tipo', a.tipo), NULL);
	PERFORM publicar('ausencia.eliminada', 'veterinario', p_vet::text,
	    evento_ausencia(a), p_request_id);
	RETURN veredicto('cancelado');
END
$$;
COMMENT ON FUNCTION eliminar_ausencia(bigint, bigint, bigint[], bigint, text, text, inet) IS
	'Deletes a vet''s absence (its slots free again); audited, with ausencia.eliminada.';
