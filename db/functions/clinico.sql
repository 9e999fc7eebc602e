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
