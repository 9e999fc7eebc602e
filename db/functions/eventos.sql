-- eventos.sql: the payloads of the domain events, one builder per
-- aggregate, each the contract of db/eventos/TYPE.vN.json.
--
-- An event carries ids and the facts a consumer acts on (the state, the
-- period, the site's time zone), never a REST document and never
-- personal data: a consumer that needs a name or a phone number reads it
-- by id, through the key ring, like the API.  The version of a payload is
-- outbox.version_esquema (1 unless the caller says otherwise); a change
-- a consumer could trip on is a new schema file and a new version, the
-- old one still written until its consumers moved.
--
-- The builders are STABLE, as jsonb_build_object() is: PostgreSQL inlines
-- a one-expression SQL function into the statement that calls it only
-- when it is declared no less volatile than its body, and a builder that
-- is not inlined is parsed and planned again on every call.

-- Every cita.* event: from the appointment's stored document (citas.
-- documento, which already holds the owner and the site's time zone, so
-- no row is read again), plus what the event type adds.
CREATE OR REPLACE FUNCTION evento_cita(d jsonb, p_extra jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT jsonb_build_object('cita_id', d->'id', 'sede_id', d->'sede_id',
	    'veterinario_id', d->'veterinario_id', 'paciente_id', d->'paciente_id',
	    'propietario_id', d->'propietario_id',
	    'consultorio_id', d->'consultorio_id', 'tipo', d->'tipo',
	    'estado', d->'estado', 'inicio', d->'inicio', 'fin', d->'fin',
	    'zona_horaria', d->'zona_horaria', 'version', d->'version')
	    || coalesce(p_extra, '{}')
$$;
COMMENT ON FUNCTION evento_cita(jsonb, jsonb) IS
	'Payload of a cita.* event (db/eventos/cita.*.v1.json) from the appointment''s document, with p_extra''s members added.';

-- The event of an appointment's change (actualizar_cita, cancelar_cita):
-- its type and payload from the documents before and after.  A move
-- (period, vet or room) is cita.reprogramada whatever else changed; a
-- state change is cita.<state>; anything else cita.actualizada, naming
-- the members that changed.
CREATE OR REPLACE FUNCTION evento_cambio_cita(antes jsonb, despues jsonb,
    OUT tipo text, OUT payload jsonb)
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
	SELECT t.tipo, evento_cita(despues, jsonb_build_object('estado_anterior',
	        antes->'estado') || CASE t.tipo
	    WHEN 'cita.reprogramada' THEN jsonb_build_object('antes',
	        jsonb_build_object('veterinario_id', antes->'veterinario_id',
	            'consultorio_id', antes->'consultorio_id',
	            'inicio', antes->'inicio', 'fin', antes->'fin'))
	    WHEN 'cita.cancelada' THEN jsonb_build_object('cancelado_en',
	        despues->'cancelado_en')
	    WHEN 'cita.actualizada' THEN jsonb_build_object('cambios',
	        (SELECT coalesce(jsonb_agg(k ORDER BY k), '[]')
	         FROM unnest(ARRAY['motivo', 'motivo_cancelacion']) k
	         WHERE antes->k IS DISTINCT FROM despues->k))
	    ELSE '{}' END)
	FROM (SELECT CASE
	    WHEN despues->>'estado' = 'cancelada' AND antes->>'estado' <> 'cancelada'
	        THEN 'cita.cancelada'
	    WHEN (antes->'veterinario_id', antes->'consultorio_id', antes->'inicio',
	        antes->'fin') IS DISTINCT FROM (despues->'veterinario_id',
	        despues->'consultorio_id', despues->'inicio', despues->'fin')
	        THEN 'cita.reprogramada'
	    WHEN antes->'estado' IS DISTINCT FROM despues->'estado'
	        THEN 'cita.' || (despues->>'estado')
	    ELSE 'cita.actualizada' END AS tipo) t
$$;
COMMENT ON FUNCTION evento_cambio_cita(jsonb, jsonb) IS
	'Type and payload of the event of an appointment''s change, from its documents before and after.';

CREATE OR REPLACE FUNCTION evento_paciente(p pacientes, p_propietario_creado boolean)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT jsonb_build_object('paciente_id', p.id,
	    'propietario_id', p.propietario_id,
	    'propietario_creado', p_propietario_creado,
	    'sede_id', p.sede_registro_id, 'especie', p.especie, 'sexo', p.sexo,
	    'fecha_nacimiento', p.fecha_nacimiento)
$$;
COMMENT ON FUNCTION evento_paciente(pacientes, boolean) IS
	'Payload of paciente.registrado (db/eventos/paciente.registrado.v1.json).';

CREATE OR REPLACE FUNCTION evento_sede(s sedes)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT jsonb_build_object('sede_id', s.id, 'codigo', s.codigo,
	    'nombre', s.nombre, 'zona_horaria', s.zona_horaria, 'activa', s.activa)
$$;
COMMENT ON FUNCTION evento_sede(sedes) IS
	'Payload of sede.creada (db/eventos/sede.creada.v1.json).';

-- usuario.creado and usuario.actualizado; p_extra adds what the type
-- adds (sesiones_cortadas for a change).
CREATE OR REPLACE FUNCTION evento_usuario(p_id bigint, p_extra jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('usuario_id', u.id, 'activo', u.activo,
	    'roles', (SELECT coalesce(jsonb_agg(jsonb_build_object('rol', r.rol,
	        'sede_id', r.sede_id) ORDER BY r.sede_id NULLS FIRST, r.rol), '[]')
	        FROM usuario_roles r WHERE r.usuario_id = u.id))
	    || coalesce(p_extra, '{}')
	FROM usuarios u WHERE u.id = p_id
$$;
COMMENT ON FUNCTION evento_usuario(bigint, jsonb) IS
	'Payload of usuario.creado / usuario.actualizado (db/eventos/usuario.*.v1.json): the account''s state and roles per site, no personal data.';

-- vacunacion.registrada: what the reminders need (the due date, the
-- site's zone), never the lot's or the owner's details.
CREATE OR REPLACE FUNCTION evento_vacunacion(x vacunaciones, p pacientes, va vacunas)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('vacunacion_id', x.id, 'paciente_id', p.id,
	    'propietario_id', p.propietario_id, 'especie', p.especie,
	    'vacuna_id', va.id, 'vacuna_codigo', va.codigo, 'sede_id', x.sede_id,
	    'veterinario_id', x.veterinario_id, 'fecha_aplicacion', x.fecha_aplicacion,
	    'dosis_numero', x.dosis_numero, 'proxima_dosis', x.proxima_dosis,
	    'zona_horaria', (SELECT s.zona_horaria FROM sedes s WHERE s.id = x.sede_id))
$$;
COMMENT ON FUNCTION evento_vacunacion(vacunaciones, pacientes, vacunas) IS
	'Payload of vacunacion.registrada (db/eventos/vacunacion.registrada.v1.json).';

CREATE OR REPLACE FUNCTION evento_tratamiento(t tratamientos, p pacientes)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('tratamiento_id', t.id, 'paciente_id', p.id,
	    'propietario_id', p.propietario_id, 'especie', p.especie,
	    'sede_id', t.sede_id, 'veterinario_id', t.veterinario_id,
	    'inicio', t.inicio, 'fin', t.fin, 'intervalo_horas', t.intervalo_horas,
	    'fecha_seguimiento', t.fecha_seguimiento, 'estado', t.estado,
	    'zona_horaria', (SELECT s.zona_horaria FROM sedes s WHERE s.id = t.sede_id))
$$;
COMMENT ON FUNCTION evento_tratamiento(tratamientos, pacientes) IS
	'Payload of tratamiento.registrado (db/eventos/tratamiento.registrado.v1.json).';

CREATE OR REPLACE FUNCTION evento_entrada(h historia_entradas, p pacientes)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('entrada_id', h.id, 'original_id', coalesce(h.original_id, h.id),
	    'version', h.version, 'corrige_id', h.corrige_id, 'cambio', h.cambio,
	    'paciente_id', p.id, 'propietario_id', p.propietario_id, 'especie', p.especie,
	    'sede_id', h.sede_id, 'veterinario_id', h.veterinario_id, 'cita_id', h.cita_id,
	    'tipo', h.tipo, 'peso_gramos', h.peso_gramos,
	    'diagnosticos', coalesce((SELECT jsonb_agg(d.codigo ORDER BY x.orden)
	        FROM historia_entrada_diagnosticos x JOIN diagnosticos d ON d.id = x.diagnostico_id
	        WHERE x.entrada_id = h.id), '[]'),
	    'zona_horaria', (SELECT s.zona_horaria FROM sedes s WHERE s.id = h.sede_id))
$$;
COMMENT ON FUNCTION evento_entrada(historia_entradas, pacientes) IS
	'Payload of entrada.registrada and entrada.enmendada (db/eventos/entrada.*.v1.json): the facts of the version, never its text.';
