-- 0022: one list envelope and one rendering of times in every answer.
--
-- Lists answer {"elementos": [...], "siguiente_cursor": text or null}
-- (citas, usuarios and auditoria already did; the patient history named
-- its items "eventos", sites and vets were bare arrays).  Every time a
-- client reads is hora_local(): RFC 3339 in the site's zone with its
-- offset, whole seconds.  Sites and users were rendered by jsonb's own
-- timestamptz text (microseconds, the session's UTC offset), audit rows
-- too.  A row tied to no site (a user, an audit row of a sign-in) reads
-- in the network's zone, America/Lima, the default of sedes.zona_horaria.

-- tz NULL: the network's zone.  One expression, so that the planner still
-- inlines it (0007): hence coalesce() at each use.
CREATE OR REPLACE FUNCTION hora_local(t timestamptz, tz text) RETURNS text
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT to_char(t AT TIME ZONE coalesce(tz, 'America/Lima'), 'YYYY-MM-DD"T"HH24:MI:SS')
	    || CASE WHEN (t AT TIME ZONE coalesce(tz, 'America/Lima')) < (t AT TIME ZONE 'UTC')
	    THEN '-' || to_char((t AT TIME ZONE 'UTC')
	        - (t AT TIME ZONE coalesce(tz, 'America/Lima')), 'HH24:MI')
	    ELSE '+' || to_char((t AT TIME ZONE coalesce(tz, 'America/Lima'))
	        - (t AT TIME ZONE 'UTC'), 'HH24:MI') END
$$;
COMMENT ON FUNCTION hora_local(timestamptz, text) IS
	'RFC 3339 text of a time (whole seconds) in a time zone (NULL: America/Lima), with the zone''s offset; NULL for a NULL time.';

-- A site as the API shows it (GET /sedes, /sedes/{id}, POST /sedes).
CREATE FUNCTION sede_json(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', s.id, 'codigo', s.codigo, 'nombre', s.nombre,
	    'ciudad', s.ciudad, 'direccion', s.direccion, 'telefono', s.telefono,
	    'zona_horaria', s.zona_horaria, 'activa', s.activa,
	    'creado_en', hora_local(s.creado_en, s.zona_horaria),
	    'actualizado_en', hora_local(s.actualizado_en, s.zona_horaria))
	FROM sedes s WHERE s.id = p_id
$$;
COMMENT ON FUNCTION sede_json(bigint) IS
	'JSON of one site, times in its own zone; NULL when absent.';

CREATE OR REPLACE FUNCTION crear_sede(
	p_codigo text, p_nombre text, p_ciudad text, p_direccion text,
	p_telefono text, p_zona text,
	p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	nuevo bigint;
	cuerpo jsonb;
BEGIN
	INSERT INTO sedes (codigo, nombre, ciudad, direccion, telefono, zona_horaria)
	VALUES (p_codigo, p_nombre, p_ciudad, p_direccion, p_telefono,
	    coalesce(p_zona, 'America/Lima'))
	ON CONFLICT (codigo) DO NOTHING
	RETURNING id INTO nuevo;
	IF nuevo IS NULL THEN
		RETURN jsonb_build_object('estado', 409, 'tipo', 'conflicto',
		    'detalle', 'Ya existe una sede con ese código.',
		    'errores', error_campo('codigo', 'ya existe una sede con ese código'));
	END IF;
	cuerpo := sede_json(nuevo);
	PERFORM auditar(p_usuario, p_rol, nuevo, 'crear', 'sedes', nuevo::text,
	    p_request_id, p_ip, NULL, cuerpo);
	PERFORM publicar('sede.creada', 'sede', nuevo::text, cuerpo);
	RETURN jsonb_build_object('estado', 201, 'cuerpo', cuerpo);
END
$$;

CREATE OR REPLACE FUNCTION usuario_detalle(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', u.id, 'email', u.email, 'nombre', u.nombre,
	    'activo', u.activo, 'tiene_clave', u.password_hash IS NOT NULL,
	    'ultimo_acceso_en', hora_local(u.ultimo_acceso_en, NULL),
	    'creado_en', hora_local(u.creado_en, NULL),
	    'actualizado_en', hora_local(u.actualizado_en, NULL),
	    'roles', usuario_roles_json(u.id))
	FROM usuarios u WHERE u.id = p_id
$$;

-- The audit row's time in the zone of its site (sign-ins have none); the
-- zone is a column of the FROM, not a subquery argument, so that
-- hora_local() is inlined.
CREATE OR REPLACE FUNCTION auditoria_json(a auditoria, s auditoria_sellos) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', a.id,
	    'ocurrido_en', hora_local(a.ocurrido_en, z.zona),
	    'usuario_id', a.usuario_id, 'rol', a.rol, 'sede_id', a.sede_id,
	    'accion', a.accion, 'entidad', a.entidad, 'entidad_id', a.entidad_id,
	    'request_id', a.request_id, 'direccion_ip', host(a.direccion_ip),
	    'antes', a.antes, 'despues', a.despues, 'sello', s.sello,
	    'hash', encode(s.hash, 'hex'), 'hash_anterior', encode(s.hash_anterior, 'hex'))
	FROM (SELECT (SELECT zona_horaria FROM sedes WHERE id = a.sede_id) AS zona) z
$$;

-- As in 0012, with the page's items under "elementos".
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

