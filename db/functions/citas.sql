-- citas.sql: appointments: the state machine, the stored document,
-- the booking rules, booking, moving, cancelling and listing.
--
-- Current definitions, run again by vetred-migrate whenever this file
-- changes (db/README.md): CREATE OR REPLACE only.

-- The clients' flow: reservada -> confirmada -> en_atencion -> atendida;
-- reservada/confirmada -> cancelada or no_asistio.  Nothing else.
CREATE OR REPLACE FUNCTION cita_transicion_valida(desde text, hacia text)
RETURNS boolean
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT desde = hacia OR (desde, hacia) IN (
	    ('reservada', 'confirmada'), ('reservada', 'cancelada'),
	    ('reservada', 'no_asistio'), ('confirmada', 'en_atencion'),
	    ('confirmada', 'cancelada'), ('confirmada', 'no_asistio'),
	    ('en_atencion', 'atendida'))
$$;
COMMENT ON FUNCTION cita_transicion_valida(text, text) IS
	'The appointment state machine: true when estado may go from desde to hacia (or stays).';

CREATE OR REPLACE FUNCTION citas_validar_cambio() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT cita_transicion_valida(OLD.estado, NEW.estado) THEN
		RAISE EXCEPTION 'cita %: estado % cannot change to %', OLD.id, OLD.estado, NEW.estado
		    USING ERRCODE = 'object_not_in_prerequisite_state',
		          CONSTRAINT = 'citas_transicion_estado', TABLE = 'citas', COLUMN = 'estado';
	END IF;
	IF OLD.estado NOT IN ('reservada', 'confirmada') AND
	    (NEW.sede_id, NEW.veterinario_id, NEW.consultorio_id, NEW.paciente_id, NEW.periodo, NEW.tipo)
	    IS DISTINCT FROM
	    (OLD.sede_id, OLD.veterinario_id, OLD.consultorio_id, OLD.paciente_id, OLD.periodo, OLD.tipo) THEN
		RAISE EXCEPTION 'cita % is % and can no longer be moved', OLD.id, OLD.estado
		    USING ERRCODE = 'object_not_in_prerequisite_state',
		          CONSTRAINT = 'citas_cerrada_inmutable', TABLE = 'citas';
	END IF;
	IF NEW.estado = 'cancelada' AND OLD.estado <> 'cancelada' AND NEW.cancelado_en IS NULL THEN
		NEW.cancelado_en := now();
	END IF;
	NEW.version := OLD.version + 1;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION citas_validar_cambio() IS
	'BEFORE UPDATE on citas: enforces the estado state machine, freezes who/where/when after reservada/confirmada, stamps cancelado_en, bumps version.';

-- The JSON of one cita row (its own columns plus the names it shows).
-- One query, its plan kept by PL/pgSQL: every booking and change runs
-- it (BEFORE trigger citas_documento).
CREATE OR REPLACE FUNCTION cita_documento(c citas) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	doc text;
BEGIN
	SELECT jsonb_build_object(
	    'id', c.id,
	    'sede_id', c.sede_id, 'sede', s.nombre, 'zona_horaria', s.zona_horaria,
	    'veterinario_id', c.veterinario_id, 'veterinario', v.nombres || ' ' || v.apellidos,
	    'consultorio_id', c.consultorio_id, 'consultorio', r.nombre,
	    'paciente_id', c.paciente_id, 'paciente', p.nombre, 'especie', p.especie,
	    'propietario_id', p.propietario_id,
	    'inicio', hora_local(lower(c.periodo), s.zona_horaria),
	    'fin', hora_local(upper(c.periodo), s.zona_horaria),
	    'duracion_min', (extract(epoch FROM upper(c.periodo) - lower(c.periodo)) / 60)::int,
	    'estado', c.estado, 'tipo', c.tipo, 'motivo', c.motivo,
	    'tipo_cita', t.codigo, 'margen_antes_min', c.margen_antes_min,
	    'margen_despues_min', c.margen_despues_min,
	    'version', c.version,
	    'creado_en', hora_local(c.creado_en, s.zona_horaria),
	    'actualizado_en', hora_local(c.actualizado_en, s.zona_horaria),
	    'cancelado_en', hora_local(c.cancelado_en, s.zona_horaria),
	    'motivo_cancelacion', c.motivo_cancelacion)::text
	INTO doc
	FROM (SELECT) uno
	LEFT JOIN sedes s ON s.id = c.sede_id
	LEFT JOIN veterinarios v ON v.id = c.veterinario_id
	LEFT JOIN pacientes p ON p.id = c.paciente_id
	LEFT JOIN consultorios r ON r.id = c.consultorio_id
	LEFT JOIN tipos_cita t ON t.id = c.tipo_cita_id;
	RETURN doc;
END
$$;
COMMENT ON FUNCTION cita_documento(citas) IS
	'JSON text of one cita row with site, vet, room and patient names, times in the site''s zone.';

CREATE OR REPLACE FUNCTION citas_fijar_documento() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.documento := cita_documento(NEW);
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION citas_fijar_documento() IS
	'BEFORE INSERT/UPDATE on citas: recomputes citas.documento from the final row.';

-- The vet's and room's time an appointment takes: its period widened by
-- its margins, which the exclusion constraints compare.
CREATE OR REPLACE FUNCTION citas_fijar_ocupa() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.ocupa := tstzrange(lower(NEW.periodo) - make_interval(mins => NEW.margen_antes_min),
	    upper(NEW.periodo) + make_interval(mins => NEW.margen_despues_min));
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION citas_fijar_ocupa() IS
	'BEFORE INSERT/UPDATE on citas: ocupa is periodo widened by margen_antes_min and margen_despues_min.';

CREATE OR REPLACE TRIGGER citas_ocupa BEFORE INSERT OR UPDATE OF periodo, margen_antes_min,
	margen_despues_min ON citas
	FOR EACH ROW EXECUTE FUNCTION citas_fijar_ocupa();

-- BEFORE row triggers fire in name order: citas_actualizado_en and
-- citas_cambio (version, cancelado_en) first, then citas_documento sees
-- the row as it will be stored.
CREATE OR REPLACE TRIGGER citas_documento BEFORE INSERT OR UPDATE ON citas
	FOR EACH ROW EXECUTE FUNCTION citas_fijar_documento();

CREATE OR REPLACE TRIGGER citas_cambio BEFORE UPDATE OF
	sede_id, veterinario_id, consultorio_id, paciente_id, periodo, estado,
	tipo, motivo, actualizado_por, cancelado_en, motivo_cancelacion ON citas
	FOR EACH ROW EXECUTE FUNCTION citas_validar_cambio();

CREATE OR REPLACE TRIGGER citas_actualizado_en BEFORE UPDATE OF
	sede_id, veterinario_id, consultorio_id, paciente_id, periodo, estado,
	tipo, motivo, actualizado_por, cancelado_en, motivo_cancelacion ON citas
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

-- Names shown in the documents changed: refresh the citas that show them.
CREATE OR REPLACE FUNCTION citas_refrescar_documentos() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	CASE TG_TABLE_NAME
	WHEN 'sedes' THEN
		UPDATE citas SET documento = NULL WHERE sede_id = NEW.id;
	WHEN 'veterinarios' THEN
		UPDATE citas SET documento = NULL WHERE veterinario_id = NEW.id;
	WHEN 'consultorios' THEN
		UPDATE citas SET documento = NULL WHERE consultorio_id = NEW.id;
	WHEN 'pacientes' THEN
		UPDATE citas SET documento = NULL WHERE paciente_id = NEW.id;
	END CASE;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION citas_refrescar_documentos() IS
	'AFTER UPDATE of a name shown in citas.documento: recomputes the documents of the citas that show it.';

CREATE OR REPLACE TRIGGER sedes_citas_documento AFTER UPDATE OF nombre, zona_horaria ON sedes
	FOR EACH ROW WHEN ((OLD.nombre, OLD.zona_horaria) IS DISTINCT FROM (NEW.nombre, NEW.zona_horaria))
	EXECUTE FUNCTION citas_refrescar_documentos();

CREATE OR REPLACE TRIGGER veterinarios_citas_documento AFTER UPDATE OF nombres, apellidos ON veterinarios
	FOR EACH ROW WHEN ((OLD.nombres, OLD.apellidos) IS DISTINCT FROM (NEW.nombres, NEW.apellidos))
	EXECUTE FUNCTION citas_refrescar_documentos();

CREATE OR REPLACE TRIGGER consultorios_citas_documento AFTER UPDATE OF nombre ON consultorios
	FOR EACH ROW WHEN (OLD.nombre IS DISTINCT FROM NEW.nombre)
	EXECUTE FUNCTION citas_refrescar_documentos();

CREATE OR REPLACE TRIGGER pacientes_citas_documento AFTER UPDATE OF nombre, especie, propietario_id ON pacientes
	FOR EACH ROW WHEN ((OLD.nombre, OLD.especie, OLD.propietario_id)
	    IS DISTINCT FROM (NEW.nombre, NEW.especie, NEW.propietario_id))
	EXECUTE FUNCTION citas_refrescar_documentos();

-- What a booking's audit row keeps: the facts the row was written with,
-- nothing derived (no names, no local times, no document) and nothing
-- the audit row says itself (who, when: creado_por, creado_en and their
-- actualizado_ twins); unset members left out.
CREATE OR REPLACE FUNCTION cita_hechos(c citas) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT jsonb_strip_nulls(jsonb_build_object(
	    'sede_id', c.sede_id, 'veterinario_id', c.veterinario_id,
	    'consultorio_id', c.consultorio_id, 'paciente_id', c.paciente_id,
	    'periodo', c.periodo, 'estado', c.estado, 'tipo', c.tipo,
	    'motivo', c.motivo, 'version', c.version, 'tipo_cita_id', c.tipo_cita_id,
	    'margen_antes_min', nullif(c.margen_antes_min, 0),
	    'margen_despues_min', nullif(c.margen_despues_min, 0)))
$$;
COMMENT ON FUNCTION cita_hechos(citas) IS
	'The own facts of a cita row (ids, period, state, type, reason, version), for its creation''s audit row.';

-- Every caller of cita_detalle() (answers, audit, outbox, lists)
-- reads the stored document.
CREATE OR REPLACE FUNCTION cita_detalle(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT documento::jsonb FROM citas WHERE id = p_id
$$;
COMMENT ON FUNCTION cita_detalle(bigint) IS
	'JSON of one appointment with site, vet, room and patient names; NULL when absent.';

-- Every booking rule but the overlaps (which the exclusion constraints
-- decide): references, states, future start, duration, working hours in
-- the site's time zone, absences.  Returns the refusal (validacion,
-- fuera-de-horario, veterinario-ausente) or NULL.  One query reads every
-- row the rules look at (each booking runs it): site, patient, vet and
-- their link, room, whether a working-hours block holds the period and
-- whether an absence overlaps it.
CREATE OR REPLACE FUNCTION cita_validar(
	p_paciente bigint, p_veterinario bigint, p_sede bigint,
	p_consultorio bigint, p_inicio timestamptz, p_fin timestamptz,
	p_tipo text)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
DECLARE
	err jsonb := '[]';
	x record;
	ini timestamp;
	dur interval := p_fin - p_inicio;
	bloques text;
	feriado text;
BEGIN
	SELECT s.id IS NOT NULL AS hay_sede, s.zona_horaria AS tz, s.activa AS sede_activa,
	    p.id IS NOT NULL AS hay_paciente, p.activo AS paciente_activo, p.fallecido,
	    v.id IS NOT NULL AS hay_vet, v.activo AS vet_activo, vs.activo AS en_sede,
	    r.id IS NOT NULL AS hay_sala, r.sede_id AS sala_sede, r.activo AS sala_activa,
	    EXISTS (SELECT 1 FROM horarios h
	        WHERE h.veterinario_id = p_veterinario AND h.sede_id = p_sede
	          AND h.dia_semana = extract(isodow FROM p_inicio AT TIME ZONE s.zona_horaria)
	          AND (p_inicio AT TIME ZONE s.zona_horaria)::date >= h.vigente_desde
	          AND (h.vigente_hasta IS NULL
	               OR (p_inicio AT TIME ZONE s.zona_horaria)::date <= h.vigente_hasta)
	          AND p_inicio AT TIME ZONE s.zona_horaria
	              >= (p_inicio AT TIME ZONE s.zona_horaria)::date + h.hora_inicio
	          AND p_fin AT TIME ZONE s.zona_horaria
	              <= (p_inicio AT TIME ZONE s.zona_horaria)::date + h.hora_fin) AS en_horario,
	    -- (a period ending before it starts is refused above, not here)
	    CASE WHEN p_fin > p_inicio THEN EXISTS (SELECT 1 FROM ausencias a
	        WHERE a.veterinario_id = p_veterinario
	          AND a.periodo && tstzrange(p_inicio, p_fin)) END AS ausente
	INTO x
	FROM (SELECT) uno
	LEFT JOIN sedes s ON s.id = p_sede
	LEFT JOIN pacientes p ON p.id = p_paciente
	LEFT JOIN veterinarios v ON v.id = p_veterinario
	LEFT JOIN veterinario_sedes vs ON vs.veterinario_id = p_veterinario AND vs.sede_id = p_sede
	LEFT JOIN consultorios r ON r.id = p_consultorio;
	IF NOT x.hay_sede THEN
		err := err || error_campo('sede_id', 'la sede no existe');
	ELSIF NOT x.sede_activa THEN
		err := err || error_campo('sede_id', 'la sede está inactiva');
	END IF;
	IF NOT x.hay_paciente THEN
		err := err || error_campo('paciente_id', 'el paciente no existe');
	ELSIF x.fallecido THEN
		err := err || error_campo('paciente_id', 'el paciente falleció');
	ELSIF NOT x.paciente_activo THEN
		err := err || error_campo('paciente_id', 'el paciente está inactivo');
	END IF;
	IF NOT x.hay_vet THEN
		err := err || error_campo('veterinario_id', 'el veterinario no existe');
	ELSIF NOT x.vet_activo THEN
		err := err || error_campo('veterinario_id', 'el veterinario está inactivo');
	ELSIF x.hay_sede AND coalesce(x.en_sede, false) IS FALSE THEN
		err := err || error_campo('veterinario_id', 'el veterinario no atiende en esa sede');
	END IF;
	IF p_consultorio IS NOT NULL THEN
		IF NOT x.hay_sala THEN
			err := err || error_campo('consultorio_id', 'el consultorio no existe');
		ELSIF x.sala_sede <> p_sede THEN
			err := err || error_campo('consultorio_id', 'el consultorio es de otra sede');
		ELSIF NOT x.sala_activa THEN
			err := err || error_campo('consultorio_id', 'el consultorio está inactivo');
		ELSIF p_tipo = 'virtual' THEN
			err := err || error_campo('consultorio_id', 'una cita virtual no usa consultorio');
		END IF;
	END IF;
	IF p_inicio <= now() THEN
		err := err || error_campo('inicio', 'debe estar en el futuro');
	ELSIF p_inicio > now() + interval '2 years' THEN
		err := err || error_campo('inicio', 'no se reserva a más de 2 años');
	END IF;
	IF p_fin <= p_inicio THEN
		err := err || error_campo('fin', 'debe ser posterior a inicio');
	ELSIF dur < interval '5 minutes' OR dur > interval '240 minutes' THEN
		err := err || error_campo('duracion_min', 'la duración debe estar entre 5 y 240 minutos');
	END IF;
	IF jsonb_array_length(err) > 0 THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.', 'errores', err));
	END IF;

	ini := p_inicio AT TIME ZONE x.tz;
	feriado := feriado_cierra(p_sede, ini::date);
	IF feriado IS NOT NULL THEN
		RETURN veredicto('fuera-de-horario', jsonb_build_object(
		    'detalle', format('La sede está cerrada el %s (%s).', to_char(ini, 'YYYY-MM-DD'), feriado),
		    'errores', error_campo('inicio', 'la sede está cerrada ese día')));
	END IF;
	IF NOT x.en_horario THEN
		SELECT string_agg(to_char(h.hora_inicio, 'HH24:MI') || '–' ||
		    to_char(h.hora_fin, 'HH24:MI'), ', ' ORDER BY h.hora_inicio)
		INTO bloques
		FROM horarios h
		WHERE h.veterinario_id = p_veterinario AND h.sede_id = p_sede
		  AND h.dia_semana = extract(isodow FROM ini)
		  AND ini::date >= h.vigente_desde
		  AND (h.vigente_hasta IS NULL OR ini::date <= h.vigente_hasta);
		RETURN veredicto('fuera-de-horario', jsonb_build_object(
		    'detalle', 'El horario pedido está fuera de la jornada del veterinario en esa sede ('
		        || coalesce('atiende ' || bloques, 'no atiende ese día') || ', hora de '
		        || x.tz || ').',
		    'errores', error_campo('inicio', 'fuera del horario de atención')));
	END IF;
	IF x.ausente THEN
		RETURN veredicto('veterinario-ausente', jsonb_build_object(
		    'detalle', 'El veterinario tiene registrada una ausencia en ese horario.',
		    'errores', error_campo('inicio', 'el veterinario está ausente')));
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION cita_validar(bigint, bigint, bigint, bigint, timestamptz, timestamptz, text) IS
	'Booking rules other than overlaps; NULL when the booking may proceed, else the refusal.';

-- The live appointment that blocks [p_inicio, p_fin) for this vet, room
-- or patient (other than p_excluir), as a conflicto verdict.  Called
-- after the exclusion constraints refused a row; should the blocking
-- appointment be cancelled in between (another transaction), the verdict
-- is still conflicto, without the "conflicto" member, never NULL.
DROP FUNCTION IF EXISTS cita_conflicto(bigint, bigint, bigint, timestamptz, timestamptz, bigint);
CREATE OR REPLACE FUNCTION cita_conflicto(
	p_veterinario bigint, p_consultorio bigint, p_paciente bigint,
	p_inicio timestamptz, p_fin timestamptz, p_antes integer, p_despues integer,
	p_excluir bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (
	SELECT coalesce((SELECT veredicto('conflicto', jsonb_build_object(
	    'detalle', CASE
	        WHEN c.veterinario_id = p_veterinario THEN 'El veterinario ya tiene una cita'
	        WHEN c.consultorio_id = p_consultorio THEN 'El consultorio ya está ocupado'
	        ELSE 'El paciente ya tiene una cita' END
	        || ' de ' || hora_local(lower(c.periodo), s.zona_horaria)
	        || ' a ' || hora_local(upper(c.periodo), s.zona_horaria) || '.',
	    'conflicto', jsonb_build_object(
	        'cita_id', c.id,
	        'recurso', CASE
	            WHEN c.veterinario_id = p_veterinario THEN 'veterinario'
	            WHEN c.consultorio_id = p_consultorio THEN 'consultorio'
	            ELSE 'paciente' END,
	        'inicio', hora_local(lower(c.periodo), s.zona_horaria),
	        'fin', hora_local(upper(c.periodo), s.zona_horaria))))
	FROM citas c JOIN sedes s ON s.id = c.sede_id
	WHERE c.estado NOT IN ('cancelada', 'no_asistio')
	  AND c.id IS DISTINCT FROM p_excluir
	  AND (((c.veterinario_id = p_veterinario OR c.consultorio_id = p_consultorio)
	        AND c.ocupa && tstzrange(p_inicio - make_interval(mins => p_antes),
	            p_fin + make_interval(mins => p_despues)))
	       OR (c.paciente_id = p_paciente AND c.periodo && tstzrange(p_inicio, p_fin)))
	ORDER BY (c.veterinario_id = p_veterinario) DESC,
	         (c.consultorio_id IS NOT DISTINCT FROM p_consultorio) DESC, c.id
	LIMIT 1),
	    veredicto('conflicto', jsonb_build_object(
	        'detalle', 'El horario acaba de ocuparse; consulte de nuevo la disponibilidad.'))));
END
$$;
COMMENT ON FUNCTION cita_conflicto(bigint, bigint, bigint, timestamptz, timestamptz, integer, integer, bigint) IS
	'The conflicto verdict naming the live appointment that overlaps (the vet''s and room''s time with the margins, the patient''s without), vet first, then room, then patient.';

DROP FUNCTION IF EXISTS reservar_cita(bigint, bigint, bigint, bigint, timestamptz, timestamptz, text, text, bigint, text, text, inet, text, bytea);
CREATE OR REPLACE FUNCTION reservar_cita(
	p_paciente bigint, p_veterinario bigint, p_sede bigint,
	p_consultorio bigint, p_inicio timestamptz, p_fin timestamptz,
	p_motivo text, p_tipo text, p_tipo_cita text,
	p_usuario bigint, p_rol text, p_request_id text, p_ip inet,
	p_clave text, p_hash bytea)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	previa idempotencia%ROWTYPE;
	res jsonb;
	nuevo bigint;
	cuerpo jsonb;
	hechos jsonb;
	tc tipos_cita%ROWTYPE;
	fin timestamptz := p_fin;
	tipo text := p_tipo;
	-- A key is the user's, for this route.
	ambito_clave text := 'u:' || coalesce(p_usuario::text, '-')
	    || ' POST /api/v1/citas/reservar';
BEGIN
	IF p_clave IS NOT NULL THEN
		INSERT INTO idempotencia (ambito, clave, usuario_id, hash_solicitud)
		VALUES (ambito_clave, p_clave, p_usuario, p_hash)
		ON CONFLICT (ambito, clave) DO UPDATE
		    SET hash_solicitud = EXCLUDED.hash_solicitud,
		        usuario_id = EXCLUDED.usuario_id,
		        respuesta_codigo = NULL, respuesta_cuerpo = NULL,
		        creado_en = now(), expira_en = now() + interval '24 hours'
		    WHERE idempotencia.expira_en <= now();
		IF NOT FOUND THEN
			SELECT * INTO previa FROM idempotencia
			WHERE ambito = ambito_clave AND clave = p_clave;
			IF previa.hash_solicitud <> p_hash THEN
				RETURN veredicto('idempotencia', jsonb_build_object(
				    'detalle', 'Esta Idempotency-Key ya se usó con otra solicitud.',
				    'errores', error_campo('Idempotency-Key', 'ya usada con otro cuerpo')));
			END IF;
			RETURN previa.respuesta_cuerpo || jsonb_build_object('repetida', true);
		END IF;
	END IF;

	-- A type gives the length (unless one is asked for), the margins and
	-- the modality.
	IF p_tipo_cita IS NOT NULL THEN
		tc := tipo_cita_efectivo(p_sede, p_tipo_cita);
		IF tc.id IS NULL OR NOT tc.activo THEN
			res := veredicto('validacion', jsonb_build_object(
			    'detalle', 'Corrija los campos indicados.',
			    'errores', error_campo('tipo_cita', CASE WHEN tc.id IS NULL
			        THEN 'no existe en esa sede' ELSE 'ya no se ofrece' END)));
		ELSIF p_tipo IS NOT NULL AND p_tipo <> tc.modalidad THEN
			res := veredicto('validacion', jsonb_build_object(
			    'detalle', 'Corrija los campos indicados.',
			    'errores', error_campo('tipo', 'una cita de ' || tc.nombre || ' es ' || tc.modalidad)));
		END IF;
		fin := coalesce(p_fin, p_inicio + make_interval(mins => tc.duracion_min));
		tipo := coalesce(p_tipo, tc.modalidad);
	END IF;
	IF res IS NULL THEN
		res := cita_validar(p_paciente, p_veterinario, p_sede, p_consultorio,
		    p_inicio, fin, coalesce(tipo, 'presencial'));
	END IF;
	IF res IS NULL THEN
		INSERT INTO citas (sede_id, veterinario_id, consultorio_id, paciente_id,
		    periodo, motivo, tipo, tipo_cita_id, margen_antes_min, margen_despues_min,
		    creado_por, actualizado_por)
		VALUES (p_sede, p_veterinario, p_consultorio, p_paciente,
		    tstzrange(p_inicio, fin), p_motivo, coalesce(tipo, 'presencial'), tc.id,
		    coalesce(tc.margen_antes_min, 0), coalesce(tc.margen_despues_min, 0),
		    p_usuario, p_usuario)
		ON CONFLICT DO NOTHING
		RETURNING citas.id, citas.documento::jsonb, cita_hechos(citas)
		INTO nuevo, cuerpo, hechos;
		IF nuevo IS NULL THEN
			res := cita_conflicto(p_veterinario, p_consultorio, p_paciente,
			    p_inicio, fin, coalesce(tc.margen_antes_min, 0),
			    coalesce(tc.margen_despues_min, 0), NULL);
		ELSE
			-- One statement for both rows.
			PERFORM auditar(p_usuario, p_rol, p_sede, 'crear', 'citas',
			        nuevo::text, p_request_id, p_ip, NULL, hechos),
			    publicar('cita.reservada', 'cita', nuevo::text,
			        evento_cita(cuerpo), p_request_id);
			res := veredicto('creado', jsonb_build_object('cuerpo', cuerpo));
		END IF;
	END IF;
	IF p_clave IS NOT NULL THEN
		UPDATE idempotencia SET respuesta_codigo = res->>'codigo',
		    respuesta_cuerpo = res
		WHERE ambito = ambito_clave AND clave = p_clave;
	END IF;
	RETURN res;
END
$$;
COMMENT ON FUNCTION reservar_cita(bigint, bigint, bigint, bigint, timestamptz, timestamptz, text, text, text, bigint, text, text, inet, text, bytea) IS
	'Books an appointment in one transaction: rules (an appointment type gives length, margins and modality), row, audit, outbox and idempotency record (keys scoped per user and route).';

-- PUT /api/v1/citas/{id}: move (same rules as booking) and/or change
-- state along the state machine.  NULL arguments keep the current value;
-- p_version, when given, must match (optimistic concurrency).
CREATE OR REPLACE FUNCTION actualizar_cita(
	p_id bigint, p_inicio timestamptz, p_minutos integer, p_fin timestamptz,
	p_veterinario bigint, p_consultorio bigint, p_sin_consultorio boolean,
	p_estado text, p_motivo text, p_motivo_cancelacion text,
	p_version integer,
	p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	c citas%ROWTYPE;
	antes jsonb;
	despues jsonb;
	ini timestamptz;
	fin timestamptz;
	vet bigint;
	room bigint;
	mueve boolean;
	res jsonb;
	evento text;
	payload jsonb;
BEGIN
	SELECT * INTO c FROM citas WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'La cita no existe.'));
	END IF;
	IF p_version IS NOT NULL AND p_version <> c.version THEN
		RETURN veredicto('version-distinta', jsonb_build_object(
		    'detalle', 'La cita cambió (versión ' || c.version || '); vuelva a leerla.'));
	END IF;
	ini := coalesce(p_inicio, lower(c.periodo));
	fin := coalesce(p_fin, ini + make_interval(mins => p_minutos),
	    ini + (upper(c.periodo) - lower(c.periodo)));
	vet := coalesce(p_veterinario, c.veterinario_id);
	room := CASE WHEN p_sin_consultorio THEN NULL
	    ELSE coalesce(p_consultorio, c.consultorio_id) END;
	mueve := (ini, fin, vet, room) IS DISTINCT FROM
	    (lower(c.periodo), upper(c.periodo), c.veterinario_id, c.consultorio_id);

	IF p_estado IS NOT NULL AND NOT cita_transicion_valida(c.estado, p_estado) THEN
		RETURN veredicto('transicion-invalida', jsonb_build_object(
		    'detalle', 'Una cita ' || c.estado || ' no puede pasar a ' || p_estado || '.',
		    'errores', error_campo('estado', 'transición no permitida desde ' || c.estado)));
	END IF;
	IF mueve AND c.estado NOT IN ('reservada', 'confirmada') THEN
		RETURN veredicto('cita-cerrada', jsonb_build_object(
		    'detalle', 'Una cita ' || c.estado || ' ya no se puede reprogramar.'));
	END IF;
	IF mueve AND coalesce(p_estado, c.estado) IN ('cancelada', 'no_asistio') THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'No se reprograma y cancela a la vez.',
		    'errores', error_campo('estado', 'no se puede reprogramar y cerrar a la vez')));
	END IF;
	IF p_motivo_cancelacion IS NOT NULL AND coalesce(p_estado, c.estado) <> 'cancelada' THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'motivo_cancelacion solo acompaña a una cancelación.',
		    'errores', error_campo('motivo_cancelacion', 'solo para estado cancelada')));
	END IF;
	IF mueve THEN
		res := cita_validar(c.paciente_id, vet, c.sede_id, room, ini, fin, c.tipo);
		IF res IS NOT NULL THEN
			RETURN res;
		END IF;
	END IF;

	antes := cita_detalle(p_id);
	BEGIN
		UPDATE citas SET periodo = tstzrange(ini, fin), veterinario_id = vet,
		    consultorio_id = room, estado = coalesce(p_estado, estado),
		    motivo = coalesce(p_motivo, motivo),
		    motivo_cancelacion = coalesce(p_motivo_cancelacion, motivo_cancelacion),
		    actualizado_por = p_usuario
		WHERE id = p_id;
	EXCEPTION WHEN exclusion_violation THEN
		RETURN cita_conflicto(vet, room, c.paciente_id, ini, fin,
		    c.margen_antes_min, c.margen_despues_min, p_id);
	END;
	despues := cita_detalle(p_id);
	SELECT e.tipo, e.payload INTO evento, payload FROM evento_cambio_cita(antes, despues) e;
	PERFORM auditar(p_usuario, p_rol, c.sede_id, 'actualizar', 'citas', p_id::text,
	    p_request_id, p_ip, antes, despues);
	PERFORM publicar(evento, 'cita', p_id::text, payload, p_request_id);
	RETURN veredicto('hecho', jsonb_build_object('cuerpo', despues));
END
$$;
COMMENT ON FUNCTION actualizar_cita(bigint, timestamptz, integer, timestamptz, bigint, bigint, boolean, text, text, text, integer, bigint, text, text, inet) IS
	'Reschedules and/or changes the state of an appointment in one transaction, with audit and outbox.';

-- DELETE /api/v1/citas/{id}: soft cancel, verdict cancelado; cancelling
-- again is a no-op with the same verdict.
CREATE OR REPLACE FUNCTION cancelar_cita(
	p_id bigint, p_motivo text,
	p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	c citas%ROWTYPE;
	antes jsonb;
	despues jsonb;
BEGIN
	SELECT * INTO c FROM citas WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'La cita no existe.'));
	END IF;
	IF c.estado = 'cancelada' THEN
		RETURN veredicto('cancelado');
	END IF;
	IF NOT cita_transicion_valida(c.estado, 'cancelada') THEN
		RETURN veredicto('transicion-invalida', jsonb_build_object(
		    'detalle', 'Una cita ' || c.estado || ' ya no se puede cancelar.'));
	END IF;
	antes := cita_detalle(p_id);
	UPDATE citas SET estado = 'cancelada', motivo_cancelacion = p_motivo,
	    actualizado_por = p_usuario
	WHERE id = p_id;
	despues := cita_detalle(p_id);
	PERFORM auditar(p_usuario, p_rol, c.sede_id, 'cancelar', 'citas', p_id::text,
	    p_request_id, p_ip, antes, despues);
	PERFORM publicar('cita.cancelada', 'cita', p_id::text,
	    (evento_cambio_cita(antes, despues)).payload, p_request_id);
	RETURN veredicto('cancelado');
END
$$;
COMMENT ON FUNCTION cancelar_cita(bigint, text, bigint, text, text, inet) IS
	'Soft-cancels an appointment (the row stays, the slot is freed), with audit and outbox.';

-- GET /api/v1/citas: one page of appointments in agenda order (start,
-- id), filtered; the cursor is the (start, id) of the last item shown.
CREATE OR REPLACE FUNCTION listar_citas(
	p_sede bigint, p_veterinario bigint, p_paciente bigint, p_estado text,
	p_desde timestamptz, p_hasta timestamptz, p_limite integer,
	p_cursor_inicio timestamptz, p_cursor_id bigint)
RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (
	WITH pagina AS (
		SELECT c.id, lower(c.periodo) AS inicio,
		    row_number() OVER (ORDER BY lower(c.periodo), c.id) AS n
		FROM citas c
		WHERE (p_sede IS NULL OR c.sede_id = p_sede)
		  AND (p_veterinario IS NULL OR c.veterinario_id = p_veterinario)
		  AND (p_paciente IS NULL OR c.paciente_id = p_paciente)
		  AND (p_estado IS NULL OR c.estado = p_estado)
		  AND (p_desde IS NULL OR upper(c.periodo) > p_desde)
		  AND (p_hasta IS NULL OR lower(c.periodo) < p_hasta)
		  AND (p_cursor_inicio IS NULL
		       OR (lower(c.periodo), c.id) > (p_cursor_inicio, p_cursor_id))
		ORDER BY lower(c.periodo), c.id
		LIMIT p_limite + 1)
	SELECT jsonb_build_object(
	    'elementos', coalesce((SELECT jsonb_agg(cita_detalle(id) ORDER BY n)
	        FROM pagina WHERE n <= p_limite), '[]'),
	    'siguiente_cursor', (SELECT (extract(epoch FROM inicio) * 1000000)::bigint
	        || '_' || id FROM pagina
	        WHERE n = p_limite AND EXISTS (SELECT 1 FROM pagina WHERE n > p_limite))));
END
$$;
COMMENT ON FUNCTION listar_citas(bigint, bigint, bigint, text, timestamptz, timestamptz, integer, timestamptz, bigint) IS
	'One page of appointments in agenda order with the cursor of the next page.';
