-- 0012: reading the audit trail, checking its chain, auditing reads of
-- clinical records, and the clinical history limited to the sites where
-- the reader holds a role.

-- The clinical history as a site-bound role may see it: appointments,
-- vaccinations, treatments and entries of the sites in p_sedes (NULL:
-- every site); weights belong to the patient, not to a site.  Replaces
-- the version without p_sedes.
CREATE FUNCTION historial_paciente(
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
	    'eventos', coalesce((SELECT jsonb_agg(jsonb_build_object(
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
DROP FUNCTION historial_paciente(bigint, integer, timestamptz, text, bigint);

-- GET /api/v1/pacientes/{id} and /historial: the read and its audit row
-- in one transaction (nothing is shown that was not recorded).
CREATE FUNCTION leer_paciente(p_id bigint, p_usuario bigint, p_rol text,
    p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	p jsonb := paciente_detalle(p_id);
BEGIN
	IF p IS NOT NULL THEN
		PERFORM auditar(p_usuario, p_rol, NULL, 'leer', 'pacientes',
		    p_id::text, p_request_id, p_ip, NULL, NULL);
	END IF;
	RETURN p;
END
$$;
COMMENT ON FUNCTION leer_paciente(bigint, bigint, text, text, inet) IS
	'paciente_detalle() with an audit row (accion leer) when the patient exists.';

CREATE FUNCTION leer_historial(p_id bigint, p_limite integer, p_fecha timestamptz,
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

-- One audit row as the API shows it (the hash as hex).
CREATE FUNCTION auditoria_json(a auditoria) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', a.id, 'ocurrido_en', a.ocurrido_en,
	    'usuario_id', a.usuario_id, 'rol', a.rol, 'sede_id', a.sede_id,
	    'accion', a.accion, 'entidad', a.entidad, 'entidad_id', a.entidad_id,
	    'request_id', a.request_id, 'direccion_ip', host(a.direccion_ip),
	    'antes', a.antes, 'despues', a.despues, 'sello', a.sello,
	    'hash', encode(a.hash, 'hex'), 'hash_anterior', encode(a.hash_anterior, 'hex'))
$$;

-- GET /api/v1/auditoria: newest first, filters ANDed, p_cursor = the
-- smallest id of the previous page.
CREATE FUNCTION listar_auditoria(p_desde timestamptz, p_hasta timestamptz,
    p_usuario bigint, p_entidad text, p_entidad_id text, p_accion text,
    p_sede bigint, p_limite integer, p_cursor bigint)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	WITH filas AS (
	    SELECT x AS a, x.id FROM auditoria x
	    WHERE (p_cursor IS NULL OR x.id < p_cursor)
	      AND (p_desde IS NULL OR x.ocurrido_en >= p_desde)
	      AND (p_hasta IS NULL OR x.ocurrido_en < p_hasta)
	      AND (p_usuario IS NULL OR x.usuario_id = p_usuario)
	      AND (p_entidad IS NULL OR x.entidad = p_entidad)
	      AND (p_entidad_id IS NULL OR x.entidad_id = p_entidad_id)
	      AND (p_accion IS NULL OR x.accion = p_accion)
	      AND (p_sede IS NULL OR x.sede_id = p_sede)
	    ORDER BY x.id DESC LIMIT p_limite + 1),
	pagina AS (SELECT a, id, row_number() OVER (ORDER BY id DESC) AS n FROM filas)
	SELECT jsonb_build_object(
	    'elementos', coalesce((SELECT jsonb_agg(auditoria_json(a) ORDER BY id DESC)
	        FROM pagina WHERE n <= p_limite), '[]'),
	    'siguiente_cursor', CASE WHEN (SELECT count(*) FROM pagina) > p_limite
	        THEN (SELECT min(id) FROM pagina WHERE n <= p_limite)::text END)
$$;
COMMENT ON FUNCTION listar_auditoria(timestamptz, timestamptz, bigint, text, text, text, bigint, integer, bigint) IS
	'One page of the audit trail, newest first, with the cursor of the next page.';

-- GET /api/v1/auditoria/verificacion and vetred-admin verificar.
CREATE FUNCTION auditoria_estado() RETURNS jsonb
LANGUAGE sql STABLE AS $$
	WITH v AS (SELECT auditoria_verificar() AS roto)
	SELECT jsonb_build_object('integra', v.roto IS NULL,
	    'primer_sello_roto', v.roto,
	    'sellados', (SELECT count(*) FROM auditoria WHERE sello IS NOT NULL),
	    'ultimo_sello', (SELECT max(sello) FROM auditoria),
	    'sin_sellar', (SELECT count(*) FROM auditoria WHERE sello IS NULL))
	FROM v
$$;
COMMENT ON FUNCTION auditoria_estado() IS
	'The chain check: integra, the first sello that does not verify (NULL if none), how many rows are sealed and how many wait for the sealer.';
