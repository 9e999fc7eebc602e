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
	    AND to_jsonb(NEW) - '{anamnesis,examen,diagnostico,plan,texto,actualizado_en}'::text[]
	        = to_jsonb(OLD) - '{anamnesis,examen,diagnostico,plan,texto,actualizado_en}'::text[]
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
		    (entrada_json(h) - '{id,paciente_id,tipo,creado_en}'::text[])
		        || jsonb_build_object('tipo_entrada', h.tipo),
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

-- Clinical entries ------------------------------------------------------

CREATE OR REPLACE TRIGGER diagnosticos_actualizado_en BEFORE UPDATE ON diagnosticos
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

-- The diagnoses of a version are written with it, in its transaction,
-- and never change afterwards, as the version itself.
CREATE OR REPLACE FUNCTION historia_entrada_diagnosticos_proteger() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF EXISTS (SELECT 1 FROM historia_entradas h
	           WHERE h.id = CASE TG_OP WHEN 'INSERT' THEN NEW.entrada_id ELSE OLD.entrada_id END
	             AND (h.firmado_en IS NULL OR (TG_OP = 'INSERT' AND h.creado_en = now()))) THEN
		RETURN CASE TG_OP WHEN 'DELETE' THEN OLD ELSE NEW END;
	END IF;
	RAISE EXCEPTION 'historia_entrada_diagnosticos: the diagnoses of a signed entry cannot be %d; add a new version',
	    lower(TG_OP)
	    USING ERRCODE = 'object_not_in_prerequisite_state',
	          CONSTRAINT = 'historia_entradas_firmada_inmutable', TABLE = 'historia_entrada_diagnosticos';
END
$$;
COMMENT ON FUNCTION historia_entrada_diagnosticos_proteger() IS
	'BEFORE INSERT, UPDATE OR DELETE on historia_entrada_diagnosticos: only a draft''s diagnoses change, and a signed version''s are inserted in the transaction that wrote it (SQLSTATE 55000).';

CREATE OR REPLACE TRIGGER historia_entrada_diagnosticos_inmutable
	BEFORE INSERT OR UPDATE OR DELETE ON historia_entrada_diagnosticos
	FOR EACH ROW EXECUTE FUNCTION historia_entrada_diagnosticos_proteger();

CREATE OR REPLACE FUNCTION diagnostico_json(d diagnosticos) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', d.id, 'codigo', d.codigo, 'nombre', d.nombre,
	    'categoria', d.categoria, 'especies', to_jsonb(d.especies), 'activo', d.activo)
$$;
COMMENT ON FUNCTION diagnostico_json(diagnosticos) IS 'A diagnosis of the coded list as the API shows it.';

-- GET /api/v1/diagnosticos[?q&especie&categoria]: the list a vet picks
-- from; q matches the start of a word of the name (no case, no accents)
-- or the start of the code.  The list is hundreds of rows, not millions.
CREATE OR REPLACE FUNCTION listar_diagnosticos(p_q text, p_especie text, p_categoria text)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('elementos', coalesce(jsonb_agg(diagnostico_json(d)
	    ORDER BY NOT d.activo, d.categoria, d.nombre), '[]'), 'siguiente_cursor', NULL)
	FROM diagnosticos d
	WHERE (p_especie IS NULL OR d.especies IS NULL OR p_especie = ANY (d.especies))
	  AND (p_categoria IS NULL OR d.categoria = p_categoria)
	  AND (p_q IS NULL OR d.codigo LIKE upper(p_q) || '%'
	       OR NOT EXISTS (SELECT 1 FROM palabras_busqueda(p_q) q
	                      WHERE NOT EXISTS (SELECT 1 FROM palabras_busqueda(d.nombre) w
	                                        WHERE starts_with(w, q))))
$$;
COMMENT ON FUNCTION listar_diagnosticos(text, text, text) IS
	'The coded diagnoses (of a species, a category, matching words or a code prefix), offered ones first.';

-- POST /api/v1/diagnosticos: the network extends its list.
CREATE OR REPLACE FUNCTION crear_diagnostico(p_d jsonb, p_usuario bigint, p_rol text,
    p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	d diagnosticos%ROWTYPE;
	choque text;
BEGIN
	SELECT CASE WHEN x.codigo = p_d->>'codigo' THEN 'codigo' ELSE 'nombre' END INTO choque
	FROM diagnosticos x
	WHERE x.codigo = p_d->>'codigo' OR x.nombre = p_d->>'nombre'
	LIMIT 1;
	IF choque IS NOT NULL THEN
		RETURN veredicto('conflicto', jsonb_build_object(
		    'detalle', 'Ya hay un diagnóstico con ese ' || choque || '.'));
	END IF;
	INSERT INTO diagnosticos (codigo, nombre, categoria, especies, creado_por)
	VALUES (p_d->>'codigo', p_d->>'nombre', p_d->>'categoria',
	    (SELECT array_agg(e ORDER BY e) FROM jsonb_array_elements_text(p_d->'especies') e),
	    p_usuario)
	RETURNING * INTO d;
	PERFORM auditar(p_usuario, p_rol, NULL, 'crear', 'diagnosticos', d.id::text,
	    p_request_id, p_ip, NULL, diagnostico_json(d));
	RETURN veredicto('creado', jsonb_build_object('cuerpo', diagnostico_json(d)));
EXCEPTION WHEN unique_violation THEN
	RETURN veredicto('conflicto', jsonb_build_object(
	    'detalle', 'Ya hay un diagnóstico con ese código o nombre.'));
END
$$;
COMMENT ON FUNCTION crear_diagnostico(jsonb, bigint, text, text, inet) IS
	'Adds a diagnosis to the network''s coded list (conflicto on a code or name taken); audited.';

-- One version of a clinical entry as the API shows it: its SOAP text
-- (sealed: the API opens it), vital signs, coded diagnoses in order,
-- where it stands among the entry's versions, and when the entry locks.
CREATE OR REPLACE FUNCTION entrada_json(h historia_entradas) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', h.id, 'paciente_id', h.paciente_id, 'cita_id', h.cita_id,
	    'sede_id', h.sede_id, 'veterinario_id', h.veterinario_id, 'tipo', h.tipo,
	    'anamnesis', h.anamnesis, 'examen', h.examen, 'diagnostico', h.diagnostico,
	    'plan', h.plan, 'texto', h.texto, 'temperatura_c', h.temperatura_c,
	    'frecuencia_cardiaca', h.frecuencia_cardiaca,
	    'frecuencia_respiratoria', h.frecuencia_respiratoria, 'peso_gramos', h.peso_gramos,
	    'diagnosticos', coalesce((SELECT jsonb_agg(jsonb_build_object('id', d.id,
	        'codigo', d.codigo, 'nombre', d.nombre, 'caracter', x.caracter) ORDER BY x.orden)
	        FROM historia_entrada_diagnosticos x JOIN diagnosticos d ON d.id = x.diagnostico_id
	        WHERE x.entrada_id = h.id), '[]'),
	    'version', h.version, 'original_id', coalesce(h.original_id, h.id),
	    'corrige_id', h.corrige_id, 'cambio', h.cambio, 'motivo_cambio', h.motivo_cambio,
	    'reemplazada_por', n.id, 'vigente', n.id IS NULL,
	    'firmado', h.firmado_en IS NOT NULL, 'registrado_por', h.registrado_por,
	    'bloqueada_desde', hora_local(o.creado_en + interval '24 hours', s.zona_horaria),
	    'creado_en', hora_local(h.creado_en, s.zona_horaria))
	FROM sedes s
	CROSS JOIN LATERAL (SELECT coalesce((SELECT x.creado_en FROM historia_entradas x
	    WHERE x.id = h.original_id), h.creado_en) AS creado_en) o
	LEFT JOIN historia_entradas n ON n.corrige_id = h.id
	WHERE s.id = h.sede_id
$$;
COMMENT ON FUNCTION entrada_json(historia_entradas) IS
	'One version of a clinical entry as the API shows it (SOAP text sealed: the API opens it), with its diagnoses and its place among the versions.';

-- The refusal of an entry's diagnoses (p_d->'diagnosticos': [{id,
-- caracter}], checked for shape by the API): each known, still offered,
-- for the patient's species; NULL when all hold.
CREATE OR REPLACE FUNCTION entrada_diagnosticos_rechazo(p_lista jsonb, p_especie text)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT veredicto('validacion', jsonb_build_object(
	    'detalle', 'Corrija los campos indicados.',
	    'errores', jsonb_agg(error_campo('diagnosticos[' || (e.n - 1) || '].id',
	        CASE WHEN d.id IS NULL THEN 'el diagnóstico no existe'
	             WHEN NOT d.activo THEN 'el diagnóstico ya no se ofrece'
	             ELSE 'no aplica a la especie ' || p_especie END) -> 0 ORDER BY e.n)))
	FROM jsonb_array_elements(p_lista) WITH ORDINALITY AS e (v, n)
	LEFT JOIN diagnosticos d ON d.id = (e.v->>'id')::bigint
	WHERE d.id IS NULL OR NOT d.activo
	   OR NOT (d.especies IS NULL OR p_especie = ANY (d.especies))
	HAVING count(*) > 0
$$;
COMMENT ON FUNCTION entrada_diagnosticos_rechazo(jsonb, text) IS
	'The validacion verdict naming the diagnoses of a list that are unknown, retired or of another species; NULL when none.';

CREATE OR REPLACE FUNCTION entrada_guardar_diagnosticos(p_entrada bigint, p_lista jsonb)
RETURNS void
LANGUAGE sql AS $$
	INSERT INTO historia_entrada_diagnosticos (entrada_id, diagnostico_id, orden, caracter)
	SELECT p_entrada, (e.v->>'id')::bigint, e.n, coalesce(e.v->>'caracter', 'presuntivo')
	FROM jsonb_array_elements(p_lista) WITH ORDINALITY AS e (v, n)
$$;
COMMENT ON FUNCTION entrada_guardar_diagnosticos(bigint, jsonb) IS
	'Writes the diagnoses of a new entry version, in the order given.';

-- A clinical entry's row image for the audit trail: its facts, never its
-- sealed text (the trail says which text fields a version was sent).
CREATE OR REPLACE FUNCTION entrada_auditable(h historia_entradas) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT to_jsonb(h) - '{anamnesis,examen,diagnostico,plan,texto,creado_en,actualizado_en}'::text[]
	    || jsonb_build_object('diagnosticos', coalesce((SELECT jsonb_agg(d.codigo || ':'
	        || x.caracter ORDER BY x.orden) FROM historia_entrada_diagnosticos x
	        JOIN diagnosticos d ON d.id = x.diagnostico_id WHERE x.entrada_id = h.id), '[]'))
$$;
COMMENT ON FUNCTION entrada_auditable(historia_entradas) IS
	'A clinical entry version as the audit trail keeps it: every fact but the sealed text, with its diagnosis codes.';

-- POST /api/v1/pacientes/{id}/entradas: p_d holds the validated fields
-- (tipo?, sede_id, veterinario_id? (default the caller's), cita_id?,
-- anamnesis?, examen?, diagnostico?, plan?, texto? (sealed by the API),
-- temperatura_c?, frecuencia_cardiaca?, frecuencia_respiratoria?,
-- peso_gramos?, diagnosticos?).  The weight joins the patient's series.
CREATE OR REPLACE FUNCTION registrar_entrada(p_paciente bigint, p_d jsonb,
    p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	p pacientes%ROWTYPE;
	h historia_entradas%ROWTYPE;
	sede bigint := (p_d->>'sede_id')::bigint;
	vet bigint := veterinario_de((p_d->>'veterinario_id')::bigint, p_usuario);
	cita bigint := (p_d->>'cita_id')::bigint;
	no jsonb;
BEGIN
	SELECT * INTO p FROM pacientes WHERE id = p_paciente FOR SHARE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'El paciente no existe.'));
	END IF;
	no := coalesce(clinico_rechazo(p, vet, sede, cita, hoy_en_sede(sede), 'cuerpo', 0),
	    entrada_diagnosticos_rechazo(p_d->'diagnosticos', p.especie));
	IF no IS NOT NULL THEN
		RETURN no;
	END IF;
	IF EXISTS (SELECT 1 FROM citas WHERE id = cita AND estado IN ('cancelada', 'no_asistio')) THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('cita_id', 'la cita no se atendió (cancelada o no asistió)')));
	END IF;
	INSERT INTO historia_entradas (paciente_id, cita_id, veterinario_id, sede_id, tipo,
	    anamnesis, examen, diagnostico, plan, texto, temperatura_c, frecuencia_cardiaca,
	    frecuencia_respiratoria, peso_gramos, registrado_por)
	VALUES (p.id, cita, vet, sede, coalesce(p_d->>'tipo', 'consulta'),
	    p_d->>'anamnesis', p_d->>'examen', p_d->>'diagnostico', p_d->>'plan', p_d->>'texto',
	    (p_d->>'temperatura_c')::numeric, (p_d->>'frecuencia_cardiaca')::smallint,
	    (p_d->>'frecuencia_respiratoria')::smallint, (p_d->>'peso_gramos')::integer, p_usuario)
	RETURNING * INTO h;
	PERFORM entrada_guardar_diagnosticos(h.id, coalesce(p_d->'diagnosticos', '[]'));
	IF h.peso_gramos IS NOT NULL THEN
		INSERT INTO paciente_pesos (paciente_id, peso_gramos, registrado_por, historia_entrada_id)
		VALUES (p.id, h.peso_gramos, p_usuario, h.id);
	END IF;
	PERFORM auditar(p_usuario, p_rol, sede, 'crear', 'historia_entradas', h.id::text,
	    p_request_id, p_ip, NULL, entrada_auditable(h));
	PERFORM publicar('entrada.registrada', 'paciente', p.id::text, evento_entrada(h, p),
	    p_request_id);
	RETURN veredicto('creado', jsonb_build_object('cuerpo', entrada_json(h)));
END
$$;
COMMENT ON FUNCTION registrar_entrada(bigint, jsonb, bigint, text, text, inet) IS
	'Writes a signed clinical entry (vet at the site, the patient''s appointment there, diagnoses of its species); its weight joins the series; audited, with entrada.registrada.';

-- PUT /api/v1/entradas/{id} (p_cambio correccion) and POST
-- /api/v1/entradas/{id}/enmiendas (enmienda): a new version replacing
-- version p_id, which must be the entry's current one (p_version, when
-- given, its number).  Fields of p_d replace the old version's (null
-- clears), the others carry over.  A correction is its author's, within
-- 24 h of the first version; an amendment anyone's who may write the
-- record at the site, with p_d->>'motivo'.
CREATE OR REPLACE FUNCTION versionar_entrada(p_id bigint, p_d jsonb, p_cambio text,
    p_version integer, p_sedes bigint[], p_usuario bigint, p_rol text, p_request_id text,
    p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	h historia_entradas%ROWTYPE;
	n historia_entradas%ROWTYPE;
	p pacientes%ROWTYPE;
	primera timestamptz;
	sucesora bigint;
	vet bigint;
	no jsonb;
BEGIN
	SELECT * INTO h FROM historia_entradas WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'La entrada no existe.'));
	END IF;
	IF p_sedes IS NOT NULL AND NOT h.sede_id = ANY (p_sedes) THEN
		RETURN veredicto('prohibido', jsonb_build_object(
		    'detalle', 'La entrada es de una sede donde usted no puede escribir la historia.'));
	END IF;
	SELECT id INTO sucesora FROM historia_entradas WHERE corrige_id = h.id;
	IF sucesora IS NOT NULL THEN
		RETURN veredicto('conflicto', jsonb_build_object(
		    'detalle', 'La versión ' || h.version || ' ya fue reemplazada (entrada ' || sucesora
		        || '): modifique la versión vigente.'));
	END IF;
	no := version_distinta('La entrada', h.version, p_version);
	IF no IS NOT NULL THEN
		RETURN no;
	END IF;
	primera := coalesce((SELECT creado_en FROM historia_entradas WHERE id = h.original_id),
	    h.creado_en);
	IF p_cambio = 'correccion' THEN
		IF now() >= primera + interval '24 hours' THEN
			RETURN veredicto('entrada-bloqueada', jsonb_build_object(
			    'detalle', 'La entrada se bloqueó el ' || hora_local(primera + interval '24 hours',
			        (SELECT zona_horaria FROM sedes WHERE id = h.sede_id))
			        || ', 24 horas después de escrita: registre una enmienda con su motivo.'));
		END IF;
		IF p_usuario IS DISTINCT FROM coalesce(
		    (SELECT registrado_por FROM historia_entradas WHERE id = coalesce(h.original_id, h.id)),
		    (SELECT usuario_id FROM veterinarios WHERE id = h.veterinario_id)) THEN
			RETURN veredicto('prohibido', jsonb_build_object(
			    'detalle', 'Solo quien escribió la entrada puede corregirla: registre una enmienda con su motivo.'));
		END IF;
	END IF;
	SELECT * INTO p FROM pacientes WHERE id = h.paciente_id;
	no := entrada_diagnosticos_rechazo(p_d->'diagnosticos', p.especie);
	IF no IS NOT NULL THEN
		RETURN no;
	END IF;
	vet := coalesce((p_d->>'veterinario_id')::bigint,
	    (SELECT v.id FROM veterinarios v JOIN veterinario_sedes vs ON vs.veterinario_id = v.id
	     WHERE v.usuario_id = p_usuario AND vs.sede_id = h.sede_id AND vs.activo AND v.activo),
	    h.veterinario_id);
	IF vet <> h.veterinario_id AND NOT EXISTS (SELECT 1 FROM veterinario_sedes vs
	    JOIN veterinarios v ON v.id = vs.veterinario_id
	    WHERE vs.veterinario_id = vet AND vs.sede_id = h.sede_id AND vs.activo AND v.activo) THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('veterinario_id', 'no trabaja en esa sede')));
	END IF;
	n := h;
	n.tipo := CASE WHEN p_d ? 'tipo' THEN p_d->>'tipo' ELSE h.tipo END;
	n.anamnesis := CASE WHEN p_d ? 'anamnesis' THEN p_d->>'anamnesis' ELSE h.anamnesis END;
	n.examen := CASE WHEN p_d ? 'examen' THEN p_d->>'examen' ELSE h.examen END;
	n.diagnostico := CASE WHEN p_d ? 'diagnostico' THEN p_d->>'diagnostico' ELSE h.diagnostico END;
	n.plan := CASE WHEN p_d ? 'plan' THEN p_d->>'plan' ELSE h.plan END;
	n.texto := CASE WHEN p_d ? 'texto' THEN p_d->>'texto' ELSE h.texto END;
	n.temperatura_c := CASE WHEN p_d ? 'temperatura_c'
	    THEN (p_d->>'temperatura_c')::numeric ELSE h.temperatura_c END;
	n.frecuencia_cardiaca := CASE WHEN p_d ? 'frecuencia_cardiaca'
	    THEN (p_d->>'frecuencia_cardiaca')::smallint ELSE h.frecuencia_cardiaca END;
	n.frecuencia_respiratoria := CASE WHEN p_d ? 'frecuencia_respiratoria'
	    THEN (p_d->>'frecuencia_respiratoria')::smallint ELSE h.frecuencia_respiratoria END;
	n.peso_gramos := CASE WHEN p_d ? 'peso_gramos'
	    THEN (p_d->>'peso_gramos')::integer ELSE h.peso_gramos END;
	IF num_nonnulls(n.anamnesis, n.examen, n.diagnostico, n.plan, n.texto) = 0 THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Una entrada lleva al menos uno de anamnesis, examen, diagnostico, plan o texto.',
		    'errores', error_campo('cuerpo', 'la entrada quedaría vacía')));
	END IF;
	BEGIN
		INSERT INTO historia_entradas (paciente_id, cita_id, veterinario_id, sede_id, tipo,
		    anamnesis, examen, diagnostico, plan, texto, temperatura_c, frecuencia_cardiaca,
		    frecuencia_respiratoria, peso_gramos, version, original_id, corrige_id, cambio,
		    motivo_cambio, registrado_por)
		VALUES (h.paciente_id, h.cita_id, vet, h.sede_id, n.tipo, n.anamnesis, n.examen,
		    n.diagnostico, n.plan, n.texto, n.temperatura_c, n.frecuencia_cardiaca,
		    n.frecuencia_respiratoria, n.peso_gramos, h.version + 1,
		    coalesce(h.original_id, h.id), h.id, p_cambio, p_d->>'motivo', p_usuario)
		RETURNING * INTO n;
	EXCEPTION WHEN unique_violation THEN
		RETURN veredicto('conflicto', jsonb_build_object(
		    'detalle', 'La versión ' || h.version || ' acaba de ser reemplazada: modifique la versión vigente.'));
	END;
	IF p_d ? 'diagnosticos' THEN
		PERFORM entrada_guardar_diagnosticos(n.id, p_d->'diagnosticos');
	ELSE
		INSERT INTO historia_entrada_diagnosticos (entrada_id, diagnostico_id, orden, caracter)
		SELECT n.id, diagnostico_id, orden, caracter
		FROM historia_entrada_diagnosticos WHERE entrada_id = h.id;
	END IF;
	-- The weight of the visit follows the entry's current version.
	IF n.peso_gramos IS NULL THEN
		DELETE FROM paciente_pesos WHERE historia_entrada_id = h.id;
	ELSE
		UPDATE paciente_pesos SET historia_entrada_id = n.id, peso_gramos = n.peso_gramos
		WHERE historia_entrada_id = h.id;
		IF NOT FOUND THEN
			INSERT INTO paciente_pesos (paciente_id, peso_gramos, medido_en, registrado_por,
			    historia_entrada_id)
			VALUES (h.paciente_id, n.peso_gramos, h.creado_en, p_usuario, n.id);
		END IF;
	END IF;
	PERFORM auditar(p_usuario, p_rol, h.sede_id,
	    CASE p_cambio WHEN 'correccion' THEN 'corregir' ELSE 'enmendar' END,
	    'historia_entradas', n.id::text, p_request_id, p_ip, entrada_auditable(h),
	    entrada_auditable(n) || jsonb_build_object('campos_enviados',
	        (SELECT coalesce(jsonb_agg(k ORDER BY k), '[]') FROM jsonb_object_keys(p_d) k)));
	PERFORM publicar('entrada.enmendada', 'paciente', h.paciente_id::text,
	    evento_entrada(n, p), p_request_id);
	RETURN veredicto('creado', jsonb_build_object('cuerpo', entrada_json(n)));
END
$$;
COMMENT ON FUNCTION versionar_entrada(bigint, jsonb, text, integer, bigint[], bigint, text, text, inet) IS
	'Writes the next version of a clinical entry (a correction: its author, within 24 h; an amendment: with a reason); the replaced version stays; audited with both, with entrada.enmendada.';

-- GET /api/v1/entradas/{id}: one version, with the list of the entry's
-- versions oldest first; audited.
CREATE OR REPLACE FUNCTION leer_entrada(p_id bigint, p_sedes bigint[], p_usuario bigint,
    p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	h historia_entradas%ROWTYPE;
BEGIN
	SELECT * INTO h FROM historia_entradas WHERE id = p_id;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'La entrada no existe.'));
	END IF;
	IF p_sedes IS NOT NULL AND NOT h.sede_id = ANY (p_sedes) THEN
		RETURN veredicto('prohibido', jsonb_build_object(
		    'detalle', 'La entrada es de una sede donde usted no puede leer la historia.'));
	END IF;
	PERFORM auditar(p_usuario, p_rol, h.sede_id, 'leer', 'historia_entradas', h.id::text,
	    p_request_id, p_ip, NULL, NULL);
	RETURN veredicto('hecho', jsonb_build_object('cuerpo', entrada_json(h)
	    || jsonb_build_object('versiones', (SELECT jsonb_agg(jsonb_build_object(
	        'id', v.id, 'version', v.version, 'cambio', v.cambio,
	        'motivo_cambio', v.motivo_cambio, 'veterinario_id', v.veterinario_id,
	        'registrado_por', v.registrado_por,
	        'creado_en', hora_local(v.creado_en, s.zona_horaria)) ORDER BY v.version)
	        FROM historia_entradas v JOIN sedes s ON s.id = v.sede_id
	        WHERE v.id = coalesce(h.original_id, h.id) OR v.original_id = coalesce(h.original_id, h.id)))));
END
$$;
COMMENT ON FUNCTION leer_entrada(bigint, bigint[], bigint, text, text, inet) IS
	'One clinical entry version with the list of its entry''s versions (prohibido for an entry of a site outside p_sedes); audited.';
