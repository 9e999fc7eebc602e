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
