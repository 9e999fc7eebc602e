-- clinico.sql: the clinical record: signed entries are immutable; a
-- patient's timeline and its audited read.
--
-- Current definitions, run again by vetred-migrate whenever this file
-- changes (db/README.md): CREATE OR REPLACE only.

CREATE OR REPLACE FUNCTION historia_entradas_proteger_firmadas() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' AND OLD.firmado_en IS NOT NULL
	    AND pg_has_role(current_user,
	        (SELECT relowner FROM pg_class WHERE oid = TG_RELID), 'MEMBER')
	    AND (NEW.id, NEW.paciente_id, NEW.cita_id, NEW.veterinario_id, NEW.sede_id,
	         NEW.tipo, NEW.corrige_id, NEW.firmado_en, NEW.creado_en)
	        IS NOT DISTINCT FROM
	        (OLD.id, OLD.paciente_id, OLD.cita_id, OLD.veterinario_id, OLD.sede_id,
	         OLD.tipo, OLD.corrige_id, OLD.firmado_en, OLD.creado_en)
	    AND coalesce(NEW.anamnesis ~ '^v[12]:', OLD.anamnesis IS NULL)
	    AND coalesce(NEW.examen ~ '^v[12]:', OLD.examen IS NULL)
	    AND coalesce(NEW.diagnostico ~ '^v[12]:', OLD.diagnostico IS NULL)
	    AND coalesce(NEW.plan ~ '^v[12]:', OLD.plan IS NULL)
	    AND coalesce(NEW.texto ~ '^v[12]:', OLD.texto IS NULL) THEN
		NEW.actualizado_en := OLD.actualizado_en;
		RETURN NEW;
	END IF;
	IF OLD.firmado_en IS NOT NULL THEN
		RAISE EXCEPTION 'historia_entradas %: a signed entry cannot be %d; add a correcting entry',
		    OLD.id, lower(TG_OP)
		    USING ERRCODE = 'object_not_in_prerequisite_state',
		          CONSTRAINT = 'historia_entradas_firmada_inmutable', TABLE = 'historia_entradas';
	END IF;
	RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
END
$$;
COMMENT ON FUNCTION historia_entradas_proteger_firmadas() IS
	'BEFORE UPDATE OR DELETE on historia_entradas: only drafts (firmado_en IS NULL) may change (SQLSTATE 55000, constraint historia_entradas_firmada_inmutable), except the re-sealing of the five text columns by the table''s owner.';

CREATE OR REPLACE TRIGGER historia_entradas_inmutable BEFORE UPDATE OR DELETE ON historia_entradas
	FOR EACH ROW EXECUTE FUNCTION historia_entradas_proteger_firmadas();

CREATE OR REPLACE TRIGGER historia_entradas_actualizado_en BEFORE UPDATE ON historia_entradas
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

CREATE OR REPLACE TRIGGER vacunas_actualizado_en BEFORE UPDATE ON vacunas
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

CREATE OR REPLACE TRIGGER vacunaciones_actualizado_en BEFORE UPDATE ON vacunaciones
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

CREATE OR REPLACE TRIGGER tratamientos_actualizado_en BEFORE UPDATE ON tratamientos
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

-- GET /api/v1/pacientes/{id}/historial: one page of the patient's
-- timeline (appointments, vaccinations, treatments, record entries,
-- weighings), newest first, under "elementos"; the rows of other sites
-- only when p_sedes is NULL or names them.
CREATE OR REPLACE FUNCTION historial_paciente(
	p_id bigint, p_limite integer, p_fecha timestamptz, p_tipo text,
	p_item bigint, p_sedes bigint[])
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (
	WITH ev AS (
		SELECT lower(c.periodo) AS fecha, 'cita' AS tipo, c.id,
		    jsonb_build_object('estado', c.estado, 'tipo_cita', c.tipo,
		        'motivo', c.motivo, 'sede_id', c.sede_id, 'sede', s.nombre,
		        'veterinario_id', c.veterinario_id,
		        'veterinario', v.nombres || ' ' || v.apellidos,
		        'fin', hora_local(upper(c.periodo), s.zona_horaria)) AS datos,
		    s.zona_horaria AS tz
		FROM citas c JOIN sedes s ON s.id = c.sede_id
		JOIN veterinarios v ON v.id = c.veterinario_id
		WHERE c.paciente_id = p_id
		  AND (p_sedes IS NULL OR c.sede_id = ANY (p_sedes))
		UNION ALL
		SELECT (x.fecha_aplicacion::timestamp AT TIME ZONE s.zona_horaria),
		    'vacunacion', x.id,
		    jsonb_build_object('vacuna_id', x.vacuna_id, 'vacuna', va.nombre,
		        'enfermedades', va.enfermedades, 'lote', x.lote,
		        'dosis_numero', x.dosis_numero, 'proxima_dosis', x.proxima_dosis,
		        'sede_id', x.sede_id, 'veterinario_id', x.veterinario_id),
		    s.zona_horaria
		FROM vacunaciones x JOIN vacunas va ON va.id = x.vacuna_id
		JOIN sedes s ON s.id = x.sede_id
		WHERE x.paciente_id = p_id
		  AND (p_sedes IS NULL OR x.sede_id = ANY (p_sedes))
		UNION ALL
		SELECT (t.inicio::timestamp AT TIME ZONE s.zona_horaria), 'tratamiento', t.id,
		    jsonb_build_object('descripcion', t.descripcion,
		        'medicamento', t.medicamento, 'dosis', t.dosis, 'via', t.via,
		        'frecuencia', t.frecuencia, 'fin', t.fin, 'estado', t.estado,
		        'sede_id', t.sede_id, 'veterinario_id', t.veterinario_id),
		    s.zona_horaria
		FROM tratamientos t JOIN sedes s ON s.id = t.sede_id
		WHERE t.paciente_id = p_id
		  AND (p_sedes IS NULL OR t.sede_id = ANY (p_sedes))
		UNION ALL
		SELECT h.creado_en, 'entrada', h.id,
		    jsonb_build_object('tipo_entrada', h.tipo, 'anamnesis', h.anamnesis,
		        'examen', h.examen, 'diagnostico', h.diagnostico, 'plan', h.plan,
		        'texto', h.texto, 'cita_id', h.cita_id, 'corrige_id', h.corrige_id,
		        'firmado', h.firmado_en IS NOT NULL,
		        'sede_id', h.sede_id, 'veterinario_id', h.veterinario_id),
		    s.zona_horaria
		FROM historia_entradas h JOIN sedes s ON s.id = h.sede_id
		WHERE h.paciente_id = p_id
		  AND (p_sedes IS NULL OR h.sede_id = ANY (p_sedes))
		UNION ALL
		SELECT w.medido_en, 'peso', w.id,
		    jsonb_build_object('peso_gramos', w.peso_gramos), 'America/Lima'
		FROM paciente_pesos w
		WHERE w.paciente_id = p_id),
	pagina AS (
		SELECT * FROM ev
		WHERE p_fecha IS NULL OR (fecha, tipo, id) < (p_fecha, p_tipo, p_item)
		ORDER BY fecha DESC, tipo DESC, id DESC
		LIMIT p_limite + 1),
	numerada AS (
		SELECT *, row_number() OVER (ORDER BY fecha DESC, tipo DESC, id DESC) AS n
		FROM pagina)
	SELECT jsonb_build_object(
	    'paciente', paciente_detalle(p_id),
	    'elementos', coalesce((SELECT jsonb_agg(jsonb_build_object(
	        'tipo', tipo, 'id', id, 'fecha', hora_local(fecha, tz)) || datos
	        ORDER BY n) FROM numerada WHERE n <= p_limite), '[]'),
	    'siguiente_cursor', (SELECT (extract(epoch FROM fecha) * 1000000)::bigint
	        || '_' || tipo || '_' || id FROM numerada
	        WHERE n = p_limite AND EXISTS (SELECT 1 FROM numerada WHERE n > p_limite)))
	WHERE EXISTS (SELECT 1 FROM pacientes WHERE id = p_id));
END
$$;
COMMENT ON FUNCTION historial_paciente(bigint, integer, timestamptz, text, bigint, bigint[]) IS
	'One page of a patient''s timeline, newest first, limited to the rows of p_sedes (NULL: all sites).';

CREATE OR REPLACE FUNCTION leer_historial(p_id bigint, p_limite integer, p_fecha timestamptz,
    p_tipo text, p_item bigint, p_sedes bigint[], p_usuario bigint, p_rol text,
    p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	h jsonb := historial_paciente(p_id, p_limite, p_fecha, p_tipo, p_item, p_sedes);
BEGIN
	IF h IS NOT NULL THEN
		PERFORM auditar(p_usuario, p_rol, NULL, 'leer_historial', 'pacientes',
		    p_id::text, p_request_id, p_ip, NULL, NULL);
	END IF;
	RETURN h;
END
$$;
COMMENT ON FUNCTION leer_historial(bigint, integer, timestamptz, text, bigint, bigint[], bigint, text, text, inet) IS
	'historial_paciente() with an audit row (accion leer_historial) when the patient exists.';

-- GET /api/v1/vacunas[?especie]: the catalog a vaccination is chosen
-- from, the ones still offered first.
CREATE OR REPLACE FUNCTION listar_vacunas(p_especie text) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('elementos', coalesce(jsonb_agg(jsonb_build_object(
	    'id', v.id, 'codigo', v.codigo, 'nombre', v.nombre, 'especie', v.especie,
	    'enfermedades', to_jsonb(v.enfermedades), 'esencial', v.esencial,
	    'esquema', v.esquema, 'fabricante', v.fabricante, 'activa', v.activa)
	    ORDER BY NOT v.activa, v.especie, NOT v.esencial, v.nombre), '[]'),
	    'siguiente_cursor', NULL)
	FROM vacunas v
	WHERE p_especie IS NULL OR v.especie = p_especie
$$;
COMMENT ON FUNCTION listar_vacunas(text) IS
	'The vaccine catalog (of one species, or all), active first, core before non-core.';

-- The vet a clinical write names, or the caller's own vet record; NULL
-- when neither.
CREATE OR REPLACE FUNCTION veterinario_de(p_veterinario bigint, p_usuario bigint) RETURNS bigint
LANGUAGE sql STABLE AS $$
	SELECT coalesce(p_veterinario,
	    (SELECT v.id FROM veterinarios v WHERE v.usuario_id = p_usuario AND v.activo))
$$;
COMMENT ON FUNCTION veterinario_de(bigint, bigint) IS
	'p_veterinario, or the active vet record of user p_usuario when it is NULL.';

-- Today's date at a site (its zone; the network's for an unknown site).
CREATE OR REPLACE FUNCTION hoy_en_sede(p_sede bigint) RETURNS date
LANGUAGE sql STABLE AS $$
	SELECT (now() AT TIME ZONE coalesce((SELECT zona_horaria FROM sedes WHERE id = p_sede),
	    'America/Lima'))::date
$$;
COMMENT ON FUNCTION hoy_en_sede(bigint) IS
	'The local date now at a site (America/Lima when the site is unknown).';

-- What every clinical write of a patient checks first: the patient
-- (alive), the vet at the site, the appointment of this patient there,
-- the date not after today in the site's zone nor before the birth.
-- NULL when all holds, else the refusing verdict.
CREATE OR REPLACE FUNCTION clinico_rechazo(p pacientes, p_vet bigint, p_sede bigint,
    p_cita bigint, p_fecha date, p_campo_fecha text, p_futuro_dias integer)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	hoy date := hoy_en_sede(p_sede);
	errores jsonb := '[]';
BEGIN
	IF p.fallecido THEN
		RETURN veredicto('conflicto', jsonb_build_object(
		    'detalle', 'El paciente falleció el ' || p.fecha_fallecimiento || '.'));
	END IF;
	IF NOT EXISTS (SELECT 1 FROM sedes WHERE id = p_sede) THEN
		errores := errores || error_campo('sede_id', 'la sede no existe');
	END IF;
	IF p_vet IS NULL THEN
		errores := errores || error_campo('veterinario_id', 'indique el veterinario');
	ELSIF NOT EXISTS (SELECT 1 FROM veterinario_sedes vs JOIN veterinarios v ON v.id = vs.veterinario_id
	                  WHERE vs.veterinario_id = p_vet AND vs.sede_id = p_sede
	                    AND vs.activo AND v.activo) THEN
		errores := errores || error_campo('veterinario_id', 'no trabaja en esa sede');
	END IF;
	IF p_cita IS NOT NULL AND NOT EXISTS (SELECT 1 FROM citas
	    WHERE id = p_cita AND paciente_id = p.id AND sede_id = p_sede) THEN
		errores := errores || error_campo('cita_id', 'no es una cita de este paciente en esa sede');
	END IF;
	IF p_fecha > hoy + p_futuro_dias THEN
		errores := errores || error_campo(p_campo_fecha, CASE WHEN p_futuro_dias = 0
		    THEN 'no puede ser futura' ELSE 'demasiado lejos en el futuro' END);
	ELSIF p_fecha < p.fecha_nacimiento THEN
		errores := errores || error_campo(p_campo_fecha, 'es anterior al nacimiento');
	END IF;
	IF jsonb_array_length(errores) > 0 THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.', 'errores', errores));
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION clinico_rechazo(pacientes, bigint, bigint, bigint, date, text, integer) IS
	'The verdict refusing a clinical write of a patient (deceased; unknown site; vet not working there; appointment not the patient''s there; a date past today + p_futuro_dias in the site''s zone, or before the birth), or NULL.';

CREATE OR REPLACE FUNCTION vacunacion_json(x vacunaciones) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', x.id, 'paciente_id', x.paciente_id,
	    'vacuna_id', x.vacuna_id, 'vacuna', va.nombre, 'codigo', va.codigo,
	    'enfermedades', to_jsonb(va.enfermedades), 'producto', x.producto,
	    'lote', x.lote, 'vencimiento_lote', x.vencimiento_lote,
	    'fecha_aplicacion', x.fecha_aplicacion, 'dosis_numero', x.dosis_numero,
	    'proxima_dosis', x.proxima_dosis, 'veterinario_id', x.veterinario_id,
	    'sede_id', x.sede_id, 'cita_id', x.cita_id, 'observaciones', x.observaciones,
	    'creado_en', hora_local(x.creado_en, s.zona_horaria))
	FROM vacunas va, sedes s WHERE va.id = x.vacuna_id AND s.id = x.sede_id
$$;
COMMENT ON FUNCTION vacunacion_json(vacunaciones) IS
	'A vaccination as the API shows it, with its vaccine''s name, code and diseases.';

-- POST /api/v1/pacientes/{id}/vacunaciones: p_d holds the validated
-- fields (vacuna_id, producto?, lote, vencimiento_lote, fecha_aplicacion?
-- (default today at the site), dosis_numero?, proxima_dosis?,
-- veterinario_id? (default the caller's), sede_id, cita_id?,
-- observaciones?).  A lot already expired on the day is refused.
CREATE OR REPLACE FUNCTION registrar_vacunacion(p_paciente bigint, p_d jsonb,
    p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	p pacientes%ROWTYPE;
	va vacunas%ROWTYPE;
	x vacunaciones%ROWTYPE;
	sede bigint := (p_d->>'sede_id')::bigint;
	vet bigint := veterinario_de((p_d->>'veterinario_id')::bigint, p_usuario);
	fecha date := coalesce((p_d->>'fecha_aplicacion')::date, hoy_en_sede(sede));
	no jsonb;
BEGIN
	SELECT * INTO p FROM pacientes WHERE id = p_paciente FOR SHARE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'El paciente no existe.'));
	END IF;
	no := clinico_rechazo(p, vet, sede, (p_d->>'cita_id')::bigint, fecha,
	    'fecha_aplicacion', 0);
	IF no IS NOT NULL THEN
		RETURN no;
	END IF;
	SELECT * INTO va FROM vacunas WHERE id = (p_d->>'vacuna_id')::bigint;
	IF NOT FOUND OR NOT va.activa OR va.especie <> p.especie THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('vacuna_id', CASE WHEN NOT FOUND THEN 'la vacuna no existe'
		        WHEN NOT va.activa THEN 'la vacuna ya no se ofrece'
		        ELSE 'es una vacuna para ' || va.especie || ', el paciente es ' || p.especie END)));
	END IF;
	IF (p_d->>'vencimiento_lote')::date < fecha THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'El lote ' || (p_d->>'lote') || ' venció el ' || (p_d->>'vencimiento_lote')
		        || ': no puede aplicarse el ' || fecha || '.',
		    'errores', error_campo('vencimiento_lote', 'el lote ya venció')));
	END IF;
	IF (p_d->>'proxima_dosis')::date <= fecha THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('proxima_dosis', 'debe ser posterior a la aplicación')));
	END IF;
	INSERT INTO vacunaciones (paciente_id, vacuna_id, producto, lote, vencimiento_lote,
	    fecha_aplicacion, dosis_numero, proxima_dosis, veterinario_id, sede_id, cita_id,
	    observaciones, registrado_por)
	VALUES (p.id, va.id, p_d->>'producto', p_d->>'lote', (p_d->>'vencimiento_lote')::date,
	    fecha, (p_d->>'dosis_numero')::smallint, (p_d->>'proxima_dosis')::date, vet, sede,
	    (p_d->>'cita_id')::bigint, p_d->>'observaciones', p_usuario)
	RETURNING * INTO x;
	PERFORM auditar(p_usuario, p_rol, sede, 'crear', 'vacunaciones', x.id::text,
	    p_request_id, p_ip, NULL, to_jsonb(x) - 'creado_en' - 'actualizado_en');
	PERFORM publicar('vacunacion.registrada', 'paciente', p.id::text,
	    evento_vacunacion(x, p, va), p_request_id);
	RETURN veredicto('creado', jsonb_build_object('cuerpo', vacunacion_json(x)));
END
$$;
COMMENT ON FUNCTION registrar_vacunacion(bigint, jsonb, bigint, text, text, inet) IS
	'Records a vaccination (vaccine of the patient''s species, lot not expired on the day, date not future); audited, with vacunacion.registrada.';

CREATE OR REPLACE FUNCTION tratamiento_json(t tratamientos) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', t.id, 'paciente_id', t.paciente_id,
	    'descripcion', t.descripcion, 'medicamento', t.medicamento, 'dosis', t.dosis,
	    'via', t.via, 'frecuencia', t.frecuencia, 'intervalo_horas', t.intervalo_horas,
	    'inicio', t.inicio, 'fin', t.fin, 'fecha_seguimiento', t.fecha_seguimiento,
	    'estado', t.estado, 'veterinario_id', t.veterinario_id, 'sede_id', t.sede_id,
	    'historia_entrada_id', t.historia_entrada_id,
	    'creado_en', hora_local(t.creado_en, s.zona_horaria))
	FROM sedes s WHERE s.id = t.sede_id
$$;
COMMENT ON FUNCTION tratamiento_json(tratamientos) IS
	'A treatment as the API shows it (descripcion sealed: the API opens it).';

-- POST /api/v1/pacientes/{id}/tratamientos: p_d holds the validated
-- fields (descripcion sealed by the API, medicamento?, dosis?, via?,
-- frecuencia?, intervalo_horas?, inicio? (default today at the site),
-- fin?, fecha_seguimiento?, veterinario_id? (default the caller's),
-- sede_id, historia_entrada_id?).
CREATE OR REPLACE FUNCTION registrar_tratamiento(p_paciente bigint, p_d jsonb,
    p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	p pacientes%ROWTYPE;
	t tratamientos%ROWTYPE;
	sede bigint := (p_d->>'sede_id')::bigint;
	vet bigint := veterinario_de((p_d->>'veterinario_id')::bigint, p_usuario);
	inicio date := coalesce((p_d->>'inicio')::date, hoy_en_sede(sede));
	no jsonb;
BEGIN
	SELECT * INTO p FROM pacientes WHERE id = p_paciente FOR SHARE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'El paciente no existe.'));
	END IF;
	-- A treatment may be planned to start within the coming month.
	no := clinico_rechazo(p, vet, sede, NULL, inicio, 'inicio', 31);
	IF no IS NOT NULL THEN
		RETURN no;
	END IF;
	IF (p_d->>'fin')::date < inicio OR (p_d->>'fecha_seguimiento')::date < inicio THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo(CASE WHEN (p_d->>'fin')::date < inicio THEN 'fin'
		        ELSE 'fecha_seguimiento' END, 'es anterior al inicio')));
	END IF;
	IF p_d ? 'historia_entrada_id' AND NOT EXISTS (SELECT 1 FROM historia_entradas
	    WHERE id = (p_d->>'historia_entrada_id')::bigint AND paciente_id = p.id) THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('historia_entrada_id', 'no es una entrada de este paciente')));
	END IF;
	INSERT INTO tratamientos (paciente_id, historia_entrada_id, veterinario_id, sede_id,
	    descripcion, medicamento, dosis, via, frecuencia, intervalo_horas, inicio, fin,
	    fecha_seguimiento, registrado_por)
	VALUES (p.id, (p_d->>'historia_entrada_id')::bigint, vet, sede, p_d->>'descripcion',
	    p_d->>'medicamento', p_d->>'dosis', p_d->>'via', p_d->>'frecuencia',
	    (p_d->>'intervalo_horas')::smallint, inicio, (p_d->>'fin')::date,
	    (p_d->>'fecha_seguimiento')::date, p_usuario)
	RETURNING * INTO t;
	PERFORM auditar(p_usuario, p_rol, sede, 'crear', 'tratamientos', t.id::text,
	    p_request_id, p_ip, NULL, to_jsonb(t) - 'descripcion' - 'creado_en' - 'actualizado_en');
	PERFORM publicar('tratamiento.registrado', 'paciente', p.id::text,
	    evento_tratamiento(t, p), p_request_id);
	RETURN veredicto('creado', jsonb_build_object('cuerpo', tratamiento_json(t)));
END
$$;
COMMENT ON FUNCTION registrar_tratamiento(bigint, jsonb, bigint, text, text, inet) IS
	'Records a treatment (dates in order, start not before birth nor over a month ahead); audited, with tratamiento.registrado.';
