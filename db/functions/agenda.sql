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

-- The name of the holiday that closes site p_sede on local date p_fecha,
-- NULL when the site works that day: the site's own row decides, else a
-- network holiday closes it unless it opens on every one.
CREATE OR REPLACE FUNCTION feriado_cierra(p_sede bigint, p_fecha date) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT CASE WHEN fs.id IS NOT NULL THEN CASE WHEN fs.cerrado THEN fs.nombre END
	            WHEN NOT s.abre_en_feriados THEN fr.nombre END
	FROM sedes s
	LEFT JOIN feriados fs ON fs.sede_id = s.id AND fs.fecha = p_fecha
	LEFT JOIN feriados fr ON fr.sede_id IS NULL AND fr.fecha = p_fecha
	WHERE s.id = p_sede
$$;
COMMENT ON FUNCTION feriado_cierra(bigint, date) IS
	'The holiday closing a site on a local date (its own, or the network''s unless it opens on them), NULL when it works.';

CREATE OR REPLACE TRIGGER tipos_cita_actualizado_en BEFORE UPDATE ON tipos_cita
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

-- The appointment type p_codigo as it is at site p_sede: the site's own
-- row, else the network's; all NULL when there is neither.
CREATE OR REPLACE FUNCTION tipo_cita_efectivo(p_sede bigint, p_codigo text) RETURNS tipos_cita
LANGUAGE sql STABLE AS $$
	SELECT t FROM tipos_cita t
	WHERE t.codigo = p_codigo AND (t.sede_id = p_sede OR t.sede_id IS NULL)
	ORDER BY t.sede_id NULLS LAST LIMIT 1
$$;
COMMENT ON FUNCTION tipo_cita_efectivo(bigint, text) IS
	'An appointment type as in force at a site (its own values, else the network''s); NULL fields when unknown.';

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

DROP FUNCTION IF EXISTS disponibilidad_json(bigint, bigint, date, integer, integer);
DROP FUNCTION IF EXISTS disponibilidad(bigint, bigint, date, integer, integer);
-- GET /api/v1/disponibilidad: free slots of a vet at a site on a local
-- date, stepping by p_paso minutes inside each working block, minus
-- absences, live appointments and the past.  A slot takes p_antes minutes
-- of the vet's time before it and p_despues after it, which no other
-- appointment's time (margins included) may overlap.  Only what reservar_cita
-- would accept: none for an inactive vet or site (cita_validar refuses
-- them).
CREATE OR REPLACE FUNCTION disponibilidad(
	p_veterinario bigint, p_sede bigint, p_fecha date, p_minutos integer,
	p_paso integer, p_antes integer, p_despues integer)
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
		  AND feriado_cierra(p_sede, p_fecha) IS NULL
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
	        AND c.ocupa && tstzrange(h.inicio - make_interval(mins => p_antes),
	            h.fin + make_interval(mins => p_despues)))
	  AND NOT EXISTS (SELECT 1 FROM ausencias a
	      WHERE a.veterinario_id = p_veterinario
	        AND a.periodo && tstzrange(h.inicio, h.fin))
	ORDER BY h.inicio
$$;
COMMENT ON FUNCTION disponibilidad(bigint, bigint, date, integer, integer, integer, integer) IS
	'Free slots of an active vet at an active site on a local date (working hours, none on a day the site is closed, minus absences, live appointments and the past).';

-- GET /api/v1/disponibilidad: the free slots as a verdict, hecho or
-- validacion (an unknown site, vet or appointment type).  With a type,
-- the length defaults to its own and its margins apply.
CREATE OR REPLACE FUNCTION disponibilidad_json(
	p_veterinario bigint, p_sede bigint, p_fecha date, p_minutos integer,
	p_paso integer, p_tipo_cita text)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	tz text;
	err jsonb := '[]';
	tc tipos_cita%ROWTYPE;
	minutos integer := p_minutos;
BEGIN
	IF p_tipo_cita IS NOT NULL THEN
		tc := tipo_cita_efectivo(p_sede, p_tipo_cita);
		IF tc.id IS NULL OR NOT tc.activo THEN
			err := err || error_campo('tipo_cita', CASE WHEN tc.id IS NULL
			    THEN 'no existe en esa sede' ELSE 'ya no se ofrece' END);
		END IF;
		minutos := coalesce(p_minutos, tc.duracion_min);
	END IF;
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
	    'zona_horaria', tz, 'duracion_min', minutos, 'paso_min', coalesce(p_paso, minutos),
	    'tipo_cita', tc.codigo, 'margen_antes_min', coalesce(tc.margen_antes_min, 0),
	    'margen_despues_min', coalesce(tc.margen_despues_min, 0),
	    'feriado', feriado_cierra(p_sede, p_fecha),
	    'huecos', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'inicio', hora_local(d.inicio, tz), 'fin', hora_local(d.fin, tz))
	        ORDER BY d.inicio)
	        FROM disponibilidad(p_veterinario, p_sede, p_fecha, minutos,
	            coalesce(p_paso, minutos), coalesce(tc.margen_antes_min, 0),
	            coalesce(tc.margen_despues_min, 0)) d),
	        '[]'))));
END
$$;
COMMENT ON FUNCTION disponibilidad_json(bigint, bigint, date, integer, integer, text) IS
	'The free slots of a vet at a site on a date, for a length or an appointment type: verdict hecho, or validacion for an unknown site, vet or type.';

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

-- A read of a vet's calendar by a reader at p_sedes (NULL: any): the
-- refusal (no-encontrado, prohibido), or NULL when it may go on.
CREATE OR REPLACE FUNCTION veterinario_rechazo(p_vet bigint, p_sedes bigint[]) RETURNS jsonb
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
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION veterinario_rechazo(bigint, bigint[]) IS
	'Why a reader at p_sedes may not read a vet''s calendar (no-encontrado, prohibido), or NULL.';

DROP FUNCTION IF EXISTS listar_ausencias(bigint, timestamptz, timestamptz);
-- GET /api/v1/veterinarios/{id}/ausencias?desde&hasta: the absences
-- touching [desde, hasta), in order, for a reader at one of the vet's
-- sites (p_sedes NULL: any).
CREATE OR REPLACE FUNCTION listar_ausencias(p_vet bigint, p_desde timestamptz,
    p_hasta timestamptz, p_sedes bigint[]) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	rechazo jsonb := veterinario_rechazo(p_vet, p_sedes);
BEGIN
	IF rechazo IS NOT NULL THEN
		RETURN rechazo;
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

-- Working hours.  A block of the API: its site, ISO weekday and local
-- times (HH:MM, 24:00 for the end of the day), with its validity.
CREATE OR REPLACE FUNCTION horario_json(h horarios) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('sede_id', h.sede_id, 'dia_semana', h.dia_semana,
	    'inicio', to_char(h.hora_inicio, 'HH24:MI'), 'fin', to_char(h.hora_fin, 'HH24:MI'),
	    'vigente_desde', h.vigente_desde, 'vigente_hasta', h.vigente_hasta)
$$;
COMMENT ON FUNCTION horario_json(horarios) IS
	'A working-hours block as the API shows it (local times of its site, HH:MM).';

-- GET /api/v1/veterinarios/{id}/horarios[?desde]: the blocks in force on
-- p_desde or later, at every site (hours are not confidential: a desk
-- must see when a vet is elsewhere), for a reader at one of the vet's
-- sites.
CREATE OR REPLACE FUNCTION listar_horarios(p_vet bigint, p_desde date, p_sedes bigint[])
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	rechazo jsonb := veterinario_rechazo(p_vet, p_sedes);
BEGIN
	IF rechazo IS NOT NULL THEN
		RETURN rechazo;
	END IF;
	RETURN veredicto('hecho', jsonb_build_object('cuerpo', jsonb_build_object(
	    'elementos', coalesce((SELECT jsonb_agg(horario_json(h) ORDER BY h.vigente_desde,
	        h.sede_id, h.dia_semana, h.hora_inicio)
	        FROM horarios h WHERE h.veterinario_id = p_vet
	          AND (h.vigente_hasta IS NULL OR h.vigente_hasta >= p_desde)), '[]'),
	    'siguiente_cursor', NULL)));
END
$$;
COMMENT ON FUNCTION listar_horarios(bigint, date, bigint[]) IS
	'The working-hours blocks of a vet in force on a date or later, all sites: verdict hecho, prohibido or no-encontrado.';

-- The live appointments of a vet at a site, from local date p_desde on,
-- that no block in force on their day holds.
CREATE OR REPLACE FUNCTION citas_fuera_de_horario(p_vet bigint, p_sede bigint, p_desde date)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(c.id ORDER BY lower(c.periodo)), '[]')
	FROM citas c JOIN sedes s ON s.id = c.sede_id
	WHERE c.veterinario_id = p_vet AND c.sede_id = p_sede
	  AND c.estado IN ('reservada', 'confirmada')
	  AND lower(c.periodo) >= (p_desde::timestamp AT TIME ZONE s.zona_horaria)
	  AND NOT EXISTS (SELECT 1 FROM horarios h
	      WHERE h.veterinario_id = p_vet AND h.sede_id = p_sede
	        AND h.dia_semana = extract(isodow FROM lower(c.periodo) AT TIME ZONE s.zona_horaria)
	        AND (lower(c.periodo) AT TIME ZONE s.zona_horaria)::date
	            BETWEEN h.vigente_desde AND coalesce(h.vigente_hasta, 'infinity')
	        AND lower(c.periodo) AT TIME ZONE s.zona_horaria
	            >= (lower(c.periodo) AT TIME ZONE s.zona_horaria)::date + h.hora_inicio
	        AND upper(c.periodo) AT TIME ZONE s.zona_horaria
	            <= (lower(c.periodo) AT TIME ZONE s.zona_horaria)::date + h.hora_fin)
$$;
COMMENT ON FUNCTION citas_fuera_de_horario(bigint, bigint, date) IS
	'Ids of a vet''s live appointments at a site from a local date on that fall outside the working hours in force.';

-- PUT /api/v1/veterinarios/{id}/horarios {sede_id, desde, bloques}: the
-- vet's week at that site from local date p_desde on, until further
-- notice: the blocks in force then are closed the day before (those
-- starting later are dropped) and p_bloques, [{dia_semana, inicio, fin}]
-- checked by the API, take their place.  A block crossing the vet's
-- hours at another site is a conflict, and nothing changes.  The live
-- appointments left outside the new hours are named, not moved.
CREATE OR REPLACE FUNCTION fijar_horario(p_vet bigint, p_sede bigint, p_desde date,
    p_bloques jsonb, p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	tz text;
	hoy date;
	antes jsonb;
	despues jsonb;
	otro record;
BEGIN
	PERFORM 1 FROM veterinarios WHERE id = p_vet FOR UPDATE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'El veterinario no existe.'));
	END IF;
	SELECT s.zona_horaria INTO tz FROM veterinario_sedes vs JOIN sedes s ON s.id = vs.sede_id
	WHERE vs.veterinario_id = p_vet AND vs.sede_id = p_sede AND vs.activo;
	IF tz IS NULL THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('sede_id', 'el veterinario no atiende en esa sede')));
	END IF;
	hoy := (now() AT TIME ZONE tz)::date;
	IF p_desde < hoy OR p_desde > hoy + 730 THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('desde', CASE WHEN p_desde < hoy
		        THEN 'no se cambia un horario pasado' ELSE 'a lo más dos años adelante' END)));
	END IF;
	SELECT coalesce(jsonb_agg(horario_json(h) ORDER BY h.vigente_desde, h.dia_semana, h.hora_inicio), '[]')
	INTO antes FROM horarios h
	WHERE h.veterinario_id = p_vet AND h.sede_id = p_sede
	  AND (h.vigente_hasta IS NULL OR h.vigente_hasta >= p_desde);
	BEGIN
		DELETE FROM horarios WHERE veterinario_id = p_vet AND sede_id = p_sede
		    AND vigente_desde >= p_desde;
		UPDATE horarios SET vigente_hasta = p_desde - 1
		WHERE veterinario_id = p_vet AND sede_id = p_sede
		  AND (vigente_hasta IS NULL OR vigente_hasta >= p_desde);
		INSERT INTO horarios (veterinario_id, sede_id, dia_semana, hora_inicio, hora_fin,
		    vigente_desde, registrado_por)
		SELECT p_vet, p_sede, (b->>'dia_semana')::smallint, (b->>'inicio')::time,
		    (b->>'fin')::time, p_desde, p_usuario
		FROM jsonb_array_elements(p_bloques) b;
	EXCEPTION WHEN exclusion_violation THEN
		SELECT h.*, s.codigo INTO otro FROM horarios h JOIN sedes s ON s.id = h.sede_id,
		    jsonb_array_elements(p_bloques) b
		WHERE h.veterinario_id = p_vet AND h.sede_id <> p_sede
		  AND h.dia_semana = (b->>'dia_semana')::smallint
		  AND rango_horas(h.hora_inicio, h.hora_fin)
		      && rango_horas((b->>'inicio')::time, (b->>'fin')::time)
		  AND (h.vigente_hasta IS NULL OR h.vigente_hasta >= p_desde)
		ORDER BY h.vigente_desde LIMIT 1;
		RETURN veredicto('conflicto', jsonb_build_object(
		    'detalle', CASE WHEN otro IS NULL THEN 'El horario se cruza con otro del veterinario.'
		        ELSE format('El veterinario atiende en %s el día %s de %s a %s.', otro.codigo,
		            otro.dia_semana, to_char(otro.hora_inicio, 'HH24:MI'),
		            to_char(otro.hora_fin, 'HH24:MI')) END));
	END;
	SELECT coalesce(jsonb_agg(horario_json(h) ORDER BY h.dia_semana, h.hora_inicio), '[]')
	INTO despues FROM horarios h
	WHERE h.veterinario_id = p_vet AND h.sede_id = p_sede AND h.vigente_desde = p_desde;
	PERFORM auditar(p_usuario, p_rol, p_sede, 'actualizar', 'horarios', p_vet::text,
	    p_request_id, p_ip, jsonb_build_object('bloques', antes),
	    jsonb_build_object('sede_id', p_sede, 'desde', p_desde, 'bloques', despues));
	PERFORM publicar('horario.modificado', 'veterinario', p_vet::text,
	    jsonb_build_object('veterinario_id', p_vet, 'sede_id', p_sede, 'desde', p_desde,
	        'bloques', (SELECT coalesce(jsonb_agg(jsonb_build_object('dia_semana', e->'dia_semana',
	            'inicio', e->'inicio', 'fin', e->'fin')), '[]') FROM jsonb_array_elements(despues) e)),
	    p_request_id);
	RETURN veredicto('hecho', jsonb_build_object('cuerpo', jsonb_build_object(
	    'veterinario_id', p_vet, 'sede_id', p_sede, 'desde', p_desde, 'zona_horaria', tz,
	    'bloques', despues,
	    'citas_fuera_de_horario', citas_fuera_de_horario(p_vet, p_sede, p_desde))));
END
$$;
COMMENT ON FUNCTION fijar_horario(bigint, bigint, date, jsonb, bigint, text, text, inet) IS
	'Replaces a vet''s weekly hours at a site from a date on (the old blocks end the day before), naming the live appointments left outside; conflicto when a block crosses their hours at another site; audited, with horario.modificado.';

-- Holidays.
CREATE OR REPLACE FUNCTION feriado_json(f feriados) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('fecha', f.fecha, 'nombre', f.nombre,
	    'ambito', CASE WHEN f.sede_id IS NULL THEN 'red' ELSE 'sede' END,
	    'sede_id', f.sede_id, 'cerrado', f.cerrado)
$$;
COMMENT ON FUNCTION feriado_json(feriados) IS
	'A holiday as the API shows it: fecha, nombre, ambito (red or sede), sede_id, cerrado.';

-- GET /api/v1/feriados and /api/v1/sedes/{id}/feriados: the network's
-- holidays in [p_desde, p_hasta], or, for a site, the days that concern
-- it: its own rows, and the network's with cerrado as they apply there.
CREATE OR REPLACE FUNCTION listar_feriados(p_sede bigint, p_desde date, p_hasta date)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	abre boolean;
BEGIN
	IF p_sede IS NOT NULL THEN
		SELECT abre_en_feriados INTO abre FROM sedes WHERE id = p_sede;
		IF NOT FOUND THEN
			RETURN veredicto('no-encontrado', jsonb_build_object(
			    'detalle', 'La sede no existe.'));
		END IF;
	END IF;
	RETURN veredicto('hecho', jsonb_build_object('cuerpo', jsonb_build_object(
	    'elementos', coalesce((SELECT jsonb_agg(x.j ORDER BY x.fecha) FROM (
	        SELECT f.fecha, CASE WHEN p_sede IS NULL OR propio.id IS NULL
	            THEN feriado_json(f) || jsonb_build_object('cerrado', p_sede IS NULL OR NOT abre)
	            ELSE feriado_json(propio) || jsonb_build_object('nombre', f.nombre) END AS j
	        FROM feriados f
	        LEFT JOIN feriados propio ON propio.sede_id = p_sede AND propio.fecha = f.fecha
	        WHERE f.sede_id IS NULL AND f.fecha BETWEEN p_desde AND p_hasta
	        UNION ALL
	        SELECT f.fecha, feriado_json(f) FROM feriados f
	        WHERE f.sede_id = p_sede AND f.fecha BETWEEN p_desde AND p_hasta
	          AND NOT EXISTS (SELECT 1 FROM feriados r WHERE r.sede_id IS NULL AND r.fecha = f.fecha)
	        ) x), '[]'),
	    'siguiente_cursor', NULL)));
END
$$;
COMMENT ON FUNCTION listar_feriados(bigint, date, date) IS
	'Holidays between two dates: the network''s, or those of one site (its own, and the network''s as they apply there).';

CREATE OR REPLACE FUNCTION evento_feriado(f feriados) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('sede_id', f.sede_id, 'fecha', f.fecha, 'nombre', f.nombre,
	    'cerrado', f.cerrado)
$$;
COMMENT ON FUNCTION evento_feriado(feriados) IS
	'Payload of feriado.registrado and feriado.eliminado (db/eventos/feriado.*.v1.json).';

-- POST /api/v1/feriados (p_sede NULL) and /api/v1/sedes/{id}/feriados:
-- a holiday on a date not yet past.  A site's row with p_cerrado false
-- opens it on a network holiday (there must be one that day).  The live
-- appointments it falls on are named, left for the desk to move.
CREATE OR REPLACE FUNCTION registrar_feriado(p_sede bigint, p_fecha date, p_nombre text,
    p_cerrado boolean, p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	f feriados%ROWTYPE;
	red text;
BEGIN
	IF p_sede IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sedes WHERE id = p_sede) THEN
		RETURN veredicto('no-encontrado', jsonb_build_object('detalle', 'La sede no existe.'));
	END IF;
	SELECT nombre INTO red FROM feriados WHERE sede_id IS NULL AND fecha = p_fecha;
	IF p_fecha < (now() AT TIME ZONE 'America/Lima')::date - 1
	   OR p_fecha > (now() AT TIME ZONE 'America/Lima')::date + 3660 THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('fecha', 'debe estar entre hoy y diez años adelante')));
	END IF;
	IF NOT p_cerrado AND red IS NULL THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('cerrado', 'ese día no es feriado de la red; solo se abre en uno')));
	END IF;
	INSERT INTO feriados (sede_id, fecha, nombre, cerrado, creado_por)
	VALUES (p_sede, p_fecha, coalesce(p_nombre, red), p_cerrado, p_usuario)
	ON CONFLICT (sede_id, fecha) DO NOTHING
	RETURNING * INTO f;
	IF f.id IS NULL THEN
		RETURN veredicto('conflicto', jsonb_build_object(
		    'detalle', 'Ese día ya está registrado; elimínelo antes de cambiarlo.'));
	END IF;
	PERFORM auditar(p_usuario, p_rol, p_sede, 'crear', 'feriados', f.id::text,
	    p_request_id, p_ip, NULL, evento_feriado(f));
	PERFORM publicar('feriado.registrado', 'sede', coalesce(p_sede::text, 'red'),
	    evento_feriado(f), p_request_id);
	RETURN veredicto('creado', jsonb_build_object('cuerpo', feriado_json(f)
	    || jsonb_build_object('citas_afectadas', coalesce((SELECT jsonb_agg(c.id ORDER BY lower(c.periodo))
	        FROM (SELECT c.id, c.periodo FROM citas c JOIN sedes s ON s.id = c.sede_id
	            WHERE f.cerrado AND c.estado IN ('reservada', 'confirmada')
	              AND (p_sede IS NULL OR c.sede_id = p_sede)
	              AND c.periodo && tstzrange(p_fecha::timestamp AT TIME ZONE s.zona_horaria,
	                  (p_fecha + 1)::timestamp AT TIME ZONE s.zona_horaria)
	              AND feriado_cierra(c.sede_id, p_fecha) IS NOT NULL
	            ORDER BY lower(c.periodo) LIMIT 1000) c), '[]'))));
END
$$;
COMMENT ON FUNCTION registrar_feriado(bigint, date, text, boolean, bigint, text, text, inet) IS
	'Adds a holiday of the network (p_sede NULL) or of a site, or opens a site on a network holiday; names the live appointments it closes; audited, with feriado.registrado.';

-- DELETE /api/v1/feriados/{fecha} and /api/v1/sedes/{id}/feriados/{fecha}.
CREATE OR REPLACE FUNCTION eliminar_feriado(p_sede bigint, p_fecha date,
    p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	f feriados%ROWTYPE;
BEGIN
	DELETE FROM feriados WHERE sede_id IS NOT DISTINCT FROM p_sede AND fecha = p_fecha
	RETURNING * INTO f;
	IF f.id IS NULL THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'No hay feriado registrado ese día.'));
	END IF;
	PERFORM auditar(p_usuario, p_rol, p_sede, 'eliminar', 'feriados', f.id::text,
	    p_request_id, p_ip, evento_feriado(f), NULL);
	PERFORM publicar('feriado.eliminado', 'sede', coalesce(p_sede::text, 'red'),
	    evento_feriado(f), p_request_id);
	RETURN veredicto('cancelado');
END
$$;
COMMENT ON FUNCTION eliminar_feriado(bigint, date, bigint, text, text, inet) IS
	'Removes a holiday of the network or of a site; audited, with feriado.eliminado.';

-- GET /api/v1/sedes/{id}/agenda?fecha: a site's day: whether it is
-- closed, each vet working there with their blocks and absences, and
-- every appointment (all states, in order), rooms included.
CREATE OR REPLACE FUNCTION agenda_sede(p_sede bigint, p_fecha date) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	s sedes%ROWTYPE;
	desde timestamptz;
	hasta timestamptz;
BEGIN
	SELECT * INTO s FROM sedes WHERE id = p_sede;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object('detalle', 'La sede no existe.'));
	END IF;
	desde := p_fecha::timestamp AT TIME ZONE s.zona_horaria;
	hasta := (p_fecha + 1)::timestamp AT TIME ZONE s.zona_horaria;
	RETURN veredicto('hecho', jsonb_build_object('cuerpo', jsonb_build_object(
	    'sede_id', s.id, 'fecha', p_fecha, 'zona_horaria', s.zona_horaria,
	    'feriado', feriado_cierra(s.id, p_fecha),
	    'veterinarios', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'id', v.id, 'nombres', v.nombres, 'apellidos', v.apellidos,
	        'bloques', coalesce((SELECT jsonb_agg(jsonb_build_object(
	            'inicio', hora_local((p_fecha + h.hora_inicio) AT TIME ZONE s.zona_horaria, s.zona_horaria),
	            'fin', hora_local((p_fecha + h.hora_fin) AT TIME ZONE s.zona_horaria, s.zona_horaria))
	            ORDER BY h.hora_inicio)
	            FROM horarios h WHERE h.veterinario_id = v.id AND h.sede_id = s.id
	              AND h.dia_semana = extract(isodow FROM p_fecha)
	              AND p_fecha BETWEEN h.vigente_desde AND coalesce(h.vigente_hasta, 'infinity')), '[]'),
	        'ausencias', coalesce((SELECT jsonb_agg(jsonb_build_object(
	            'inicio', hora_local(lower(a.periodo), s.zona_horaria),
	            'fin', hora_local(upper(a.periodo), s.zona_horaria), 'tipo', a.tipo)
	            ORDER BY lower(a.periodo))
	            FROM ausencias a WHERE a.veterinario_id = v.id
	              AND a.periodo && tstzrange(desde, hasta)), '[]'))
	        ORDER BY v.apellidos, v.nombres, v.id)
	        FROM veterinarios v JOIN veterinario_sedes vs ON vs.veterinario_id = v.id
	        WHERE vs.sede_id = s.id AND vs.activo AND v.activo), '[]'),
	    'citas', coalesce((SELECT jsonb_agg(c.documento::jsonb ORDER BY lower(c.periodo), c.id)
	        FROM citas c WHERE c.sede_id = s.id AND c.periodo && tstzrange(desde, hasta)), '[]'))));
END
$$;
COMMENT ON FUNCTION agenda_sede(bigint, date) IS
	'A site''s day: closed or not, its vets with their blocks and absences, every appointment; verdict hecho or no-encontrado.';

-- GET /api/v1/veterinarios/{id}/semana?desde: a vet's seven days from
-- p_desde across sites: each day's blocks per site (and whether the
-- site is closed), the absences, and the appointments at the reader's
-- sites (p_sedes NULL: all); those elsewhere show as busy time only.
CREATE OR REPLACE FUNCTION semana_veterinario(p_vet bigint, p_desde date, p_sedes bigint[])
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	rechazo jsonb := veterinario_rechazo(p_vet, p_sedes);
BEGIN
	IF rechazo IS NOT NULL THEN
		RETURN rechazo;
	END IF;
	RETURN veredicto('hecho', jsonb_build_object('cuerpo', jsonb_build_object(
	    'veterinario_id', p_vet, 'desde', p_desde, 'hasta', p_desde + 6,
	    'dias', (SELECT jsonb_agg(jsonb_build_object('fecha', d.fecha,
	        'bloques', coalesce((SELECT jsonb_agg(jsonb_build_object('sede_id', h.sede_id,
	            'inicio', hora_local((d.fecha + h.hora_inicio) AT TIME ZONE s.zona_horaria, s.zona_horaria),
	            'fin', hora_local((d.fecha + h.hora_fin) AT TIME ZONE s.zona_horaria, s.zona_horaria),
	            'feriado', feriado_cierra(s.id, d.fecha))
	            ORDER BY h.hora_inicio)
	            FROM horarios h JOIN sedes s ON s.id = h.sede_id
	            WHERE h.veterinario_id = p_vet AND h.dia_semana = extract(isodow FROM d.fecha)
	              AND d.fecha BETWEEN h.vigente_desde AND coalesce(h.vigente_hasta, 'infinity')), '[]'))
	        ORDER BY d.fecha)
	        FROM (SELECT p_desde + i AS fecha FROM generate_series(0, 6) i) d),
	    'ausencias', coalesce((SELECT jsonb_agg(ausencia_json(a) ORDER BY lower(a.periodo))
	        FROM ausencias a WHERE a.veterinario_id = p_vet
	          AND a.periodo && tstzrange(p_desde - 1, p_desde + 8)), '[]'),
	    'citas', coalesce((SELECT jsonb_agg(CASE WHEN p_sedes IS NULL OR c.sede_id = ANY (p_sedes)
	            THEN c.documento::jsonb
	            ELSE jsonb_build_object('sede_id', c.sede_id, 'inicio', hora_local(lower(c.periodo), s.zona_horaria),
	                'fin', hora_local(upper(c.periodo), s.zona_horaria), 'estado', 'ocupado') END
	        ORDER BY lower(c.periodo), c.id)
	        FROM citas c JOIN sedes s ON s.id = c.sede_id
	        WHERE c.veterinario_id = p_vet
	          AND c.periodo && tstzrange(p_desde::timestamp AT TIME ZONE s.zona_horaria,
	              (p_desde + 7)::timestamp AT TIME ZONE s.zona_horaria)
	          AND (c.estado NOT IN ('cancelada', 'no_asistio')
	               OR p_sedes IS NULL OR c.sede_id = ANY (p_sedes))), '[]'))));
END
$$;
COMMENT ON FUNCTION semana_veterinario(bigint, date, bigint[]) IS
	'A vet''s week across sites: blocks per day and site, absences, appointments (in full at the reader''s sites, as busy time elsewhere); verdict hecho, prohibido or no-encontrado.';

-- Appointment types.
CREATE OR REPLACE FUNCTION tipo_cita_json(t tipos_cita) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('codigo', t.codigo, 'nombre', t.nombre,
	    'duracion_min', t.duracion_min, 'margen_antes_min', t.margen_antes_min,
	    'margen_despues_min', t.margen_despues_min, 'modalidad', t.modalidad,
	    'activo', t.activo, 'ambito', CASE WHEN t.sede_id IS NULL THEN 'red' ELSE 'sede' END,
	    'sede_id', t.sede_id)
$$;
COMMENT ON FUNCTION tipo_cita_json(tipos_cita) IS
	'An appointment type as the API shows it, with ambito (red or sede).';

-- GET /api/v1/tipos-cita[?sede_id]: the network's types, or those in
-- force at a site (its own rows win over the network's of the same code).
CREATE OR REPLACE FUNCTION listar_tipos_cita(p_sede bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	IF p_sede IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sedes WHERE id = p_sede) THEN
		RETURN veredicto('no-encontrado', jsonb_build_object('detalle', 'La sede no existe.'));
	END IF;
	RETURN veredicto('hecho', jsonb_build_object('cuerpo', jsonb_build_object(
	    'elementos', coalesce((SELECT jsonb_agg(tipo_cita_json(t) ORDER BY t.nombre, t.codigo)
	        FROM tipos_cita t
	        WHERE t.sede_id = p_sede
	           OR (t.sede_id IS NULL AND NOT EXISTS (SELECT 1 FROM tipos_cita s
	               WHERE s.sede_id = p_sede AND s.codigo = t.codigo))), '[]'),
	    'siguiente_cursor', NULL)));
END
$$;
COMMENT ON FUNCTION listar_tipos_cita(bigint) IS
	'The appointment types of the network, or as in force at a site: verdict hecho or no-encontrado.';

-- PUT /api/v1/tipos-cita/{codigo} (p_sede NULL) and
-- /api/v1/sedes/{id}/tipos-cita/{codigo}: a type's values, created or
-- replaced, p_datos checked by the API ({nombre, duracion_min,
-- margen_antes_min, margen_despues_min, modalidad, activo}, absent ones
-- taken from the network's type for a site, else the defaults).  Booked
-- appointments keep the margins they were booked with.
CREATE OR REPLACE FUNCTION fijar_tipo_cita(p_sede bigint, p_codigo text, p_datos jsonb,
    p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	red tipos_cita%ROWTYPE;
	antes tipos_cita%ROWTYPE;
	t tipos_cita%ROWTYPE;
BEGIN
	IF p_sede IS NOT NULL THEN
		PERFORM 1 FROM sedes WHERE id = p_sede;
		IF NOT FOUND THEN
			RETURN veredicto('no-encontrado', jsonb_build_object('detalle', 'La sede no existe.'));
		END IF;
		SELECT * INTO red FROM tipos_cita WHERE sede_id IS NULL AND codigo = p_codigo;
	END IF;
	IF NOT p_datos ? 'nombre' AND red.id IS NULL THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('nombre', 'es obligatorio para un tipo nuevo')));
	END IF;
	IF NOT p_datos ? 'duracion_min' AND red.id IS NULL THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('duracion_min', 'es obligatorio para un tipo nuevo')));
	END IF;
	SELECT * INTO antes FROM tipos_cita WHERE sede_id IS NOT DISTINCT FROM p_sede
	    AND codigo = p_codigo FOR UPDATE;
	INSERT INTO tipos_cita AS x (sede_id, codigo, nombre, duracion_min, margen_antes_min,
	    margen_despues_min, modalidad, activo, creado_por)
	VALUES (p_sede, p_codigo, coalesce(p_datos->>'nombre', red.nombre),
	    coalesce((p_datos->>'duracion_min')::int, red.duracion_min),
	    coalesce((p_datos->>'margen_antes_min')::int, red.margen_antes_min, 0),
	    coalesce((p_datos->>'margen_despues_min')::int, red.margen_despues_min, 0),
	    coalesce(p_datos->>'modalidad', red.modalidad, 'presencial'),
	    coalesce((p_datos->>'activo')::boolean, true), p_usuario)
	ON CONFLICT (sede_id, codigo) DO UPDATE SET nombre = EXCLUDED.nombre,
	    duracion_min = EXCLUDED.duracion_min, margen_antes_min = EXCLUDED.margen_antes_min,
	    margen_despues_min = EXCLUDED.margen_despues_min, modalidad = EXCLUDED.modalidad,
	    activo = EXCLUDED.activo
	RETURNING * INTO t;
	PERFORM auditar(p_usuario, p_rol, p_sede, CASE WHEN antes.id IS NULL THEN 'crear' ELSE 'actualizar' END,
	    'tipos_cita', t.id::text, p_request_id, p_ip,
	    CASE WHEN antes.id IS NOT NULL THEN tipo_cita_json(antes) END, tipo_cita_json(t));
	RETURN veredicto(CASE WHEN antes.id IS NULL THEN 'creado' ELSE 'hecho' END,
	    jsonb_build_object('cuerpo', tipo_cita_json(t)));
END
$$;
COMMENT ON FUNCTION fijar_tipo_cita(bigint, text, jsonb, bigint, text, text, inet) IS
	'Creates or replaces an appointment type of the network (p_sede NULL) or a site''s values for one; audited. Booked appointments keep their margins.';

-- DELETE /api/v1/sedes/{id}/tipos-cita/{codigo}: the site's values go,
-- the network's apply again.  A row bookings name stays (retire it with
-- activo false).
CREATE OR REPLACE FUNCTION eliminar_tipo_cita(p_sede bigint, p_codigo text,
    p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	t tipos_cita%ROWTYPE;
BEGIN
	SELECT * INTO t FROM tipos_cita WHERE sede_id = p_sede AND codigo = p_codigo FOR UPDATE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'La sede no tiene valores propios para ese tipo.'));
	END IF;
	IF EXISTS (SELECT 1 FROM citas WHERE tipo_cita_id = t.id) THEN
		RETURN veredicto('conflicto', jsonb_build_object(
		    'detalle', 'Hay citas reservadas con esos valores; desactívelo (activo: false) en vez de eliminarlo.'));
	END IF;
	DELETE FROM tipos_cita WHERE id = t.id;
	PERFORM auditar(p_usuario, p_rol, p_sede, 'eliminar', 'tipos_cita', t.id::text,
	    p_request_id, p_ip, tipo_cita_json(t), NULL);
	RETURN veredicto('cancelado');
END
$$;
COMMENT ON FUNCTION eliminar_tipo_cita(bigint, text, bigint, text, text, inet) IS
	'Removes a site''s own values for an appointment type (the network''s apply again); conflicto while bookings name them; audited.';

-- POST /api/v1/veterinarios/{id}/importacion-ausencias: the busy events
-- of an iCalendar file, read by the API ([{linea, inicio, fin,
-- inicio_local, fin_local}]: UTC instants, or local times of the vet's
-- site), as absences.  All or nothing: an event that cannot be one is a
-- validacion naming its line, one crossing an absence already recorded a
-- conflicto; events that overlap each other become one absence.
CREATE OR REPLACE FUNCTION importar_ausencias(p_vet bigint, p_eventos jsonb, p_tipo text,
    p_motivo text, p_sedes bigint[], p_usuario bigint, p_rol text, p_request_id text,
    p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	tz text;
	r record;
	rango tstzrange;
	a ausencias%ROWTYPE;
	hechas jsonb := '[]';
	otra bigint;
	problema text;
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
	SELECT s.zona_horaria INTO tz FROM veterinario_sedes vs JOIN sedes s ON s.id = vs.sede_id
	WHERE vs.veterinario_id = p_vet ORDER BY vs.activo DESC, vs.sede_id LIMIT 1;
	tz := coalesce(tz, 'America/Lima');
	CREATE TEMP TABLE IF NOT EXISTS importacion_eventos (linea integer, ini timestamptz,
	    fin timestamptz) ON COMMIT DROP;
	DELETE FROM importacion_eventos;
	INSERT INTO importacion_eventos
	SELECT (x->>'linea')::integer,
	    CASE WHEN (x->>'inicio_local')::boolean THEN (x->>'inicio')::timestamp AT TIME ZONE tz
	        ELSE (x->>'inicio')::timestamptz END,
	    CASE WHEN (x->>'fin_local')::boolean THEN (x->>'fin')::timestamp AT TIME ZONE tz
	        ELSE (x->>'fin')::timestamptz END
	FROM jsonb_array_elements(p_eventos) x;
	FOR r IN SELECT * FROM importacion_eventos ORDER BY linea LOOP
		problema := CASE
		    WHEN r.fin <= r.ini THEN 'el evento termina antes de empezar'
		    WHEN r.fin - r.ini > interval '366 days' THEN 'una ausencia dura a lo más un año'
		    WHEN r.fin < now() - interval '1 year' OR r.ini > now() + interval '3 years'
		        THEN 'fuera de plazo (de hace un año a tres años adelante)' END;
		IF problema IS NOT NULL THEN
			RETURN veredicto('validacion', jsonb_build_object(
			    'detalle', 'El archivo no se importó: corrija la línea indicada.',
			    'errores', error_campo('ics', format('línea %s: %s', r.linea, problema))));
		END IF;
		SELECT id INTO otra FROM ausencias
		WHERE veterinario_id = p_vet AND periodo && tstzrange(r.ini, r.fin) LIMIT 1;
		IF otra IS NOT NULL THEN
			RETURN veredicto('conflicto', jsonb_build_object(
			    'detalle', format('El archivo no se importó: el evento de la línea %s se cruza con la ausencia %s.',
			        r.linea, otra)));
		END IF;
	END LOOP;
	FOR rango IN SELECT unnest(range_agg(tstzrange(ini, fin))) FROM importacion_eventos LOOP
		INSERT INTO ausencias (veterinario_id, periodo, tipo, motivo, creado_por)
		VALUES (p_vet, rango, coalesce(p_tipo, 'otro'),
		    coalesce(p_motivo, 'Importada de un calendario'), p_usuario)
		RETURNING * INTO a;
		PERFORM auditar(p_usuario, p_rol, NULL, 'crear', 'ausencias', a.id::text,
		    p_request_id, p_ip, NULL, jsonb_build_object('veterinario_id', p_vet,
		        'inicio', lower(a.periodo), 'fin', upper(a.periodo), 'tipo', a.tipo,
		        'importada', true));
		PERFORM publicar('ausencia.registrada', 'veterinario', p_vet::text,
		    evento_ausencia(a), p_request_id);
		hechas := hechas || ausencia_json(a);
	END LOOP;
	RETURN veredicto('creado', jsonb_build_object('cuerpo', jsonb_build_object(
	    'ausencias', hechas,
	    'citas_afectadas', coalesce((SELECT jsonb_agg(c.id ORDER BY lower(c.periodo))
	        FROM citas c WHERE c.veterinario_id = p_vet
	          AND c.estado IN ('reservada', 'confirmada')
	          AND EXISTS (SELECT 1 FROM importacion_eventos e
	              WHERE c.periodo && tstzrange(e.ini, e.fin))), '[]'))));
END
$$;
COMMENT ON FUNCTION importar_ausencias(bigint, jsonb, text, text, bigint[], bigint, text, text, inet) IS
	'Records the busy events of an imported iCalendar file as a vet''s absences, all or none (a line at fault named); audited, with ausencia.registrada each.';
