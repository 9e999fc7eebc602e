-- 0008: the rendered appointment, kept with the row.
--
-- GET /api/v1/citas/{id} is the hottest read of the agenda screens.
-- Building its JSON on every read (four joins, five time-zone
-- conversions, a 23-key object) cost ~110 µs of PostgreSQL CPU per call;
-- fetching a stored document by primary key costs ~25 µs.  Writes already
-- built the same JSON for their answer, audit and outbox, so computing it
-- once on write costs them nothing more.
--
-- citas.documento is derived: a BEFORE trigger recomputes it on every
-- INSERT and UPDATE of a cita, and the tables it copies names from
-- (sedes, veterinarios, consultorios, pacientes) refresh the documents
-- of their citas when those names change.  Setting documento by hand is
-- pointless: the trigger overwrites it.

ALTER TABLE citas ADD COLUMN documento text;
COMMENT ON COLUMN citas.documento IS
	'The appointment as GET /api/v1/citas/{id} returns it (JSON text, names and times in the site''s zone); derived, maintained by the citas_documento trigger.';

-- The JSON of one cita row (its own columns plus the names it shows).
CREATE FUNCTION cita_documento(c citas) RETURNS text
LANGUAGE plpgsql STABLE AS $$
DECLARE
	s record;
	v record;
	p record;
	sala text;
BEGIN
	SELECT nombre, zona_horaria INTO s FROM sedes WHERE id = c.sede_id;
	SELECT nombres || ' ' || apellidos AS nombre INTO v
	FROM veterinarios WHERE id = c.veterinario_id;
	SELECT nombre, especie, propietario_id INTO p FROM pacientes WHERE id = c.paciente_id;
	IF c.consultorio_id IS NOT NULL THEN
		SELECT nombre INTO sala FROM consultorios WHERE id = c.consultorio_id;
	END IF;
	RETURN jsonb_build_object(
	    'id', c.id,
	    'sede_id', c.sede_id, 'sede', s.nombre, 'zona_horaria', s.zona_horaria,
	    'veterinario_id', c.veterinario_id, 'veterinario', v.nombre,
	    'consultorio_id', c.consultorio_id, 'consultorio', sala,
	    'paciente_id', c.paciente_id, 'paciente', p.nombre, 'especie', p.especie,
	    'propietario_id', p.propietario_id,
	    'inicio', hora_local(lower(c.periodo), s.zona_horaria),
	    'fin', hora_local(upper(c.periodo), s.zona_horaria),
	    'duracion_min', (extract(epoch FROM upper(c.periodo) - lower(c.periodo)) / 60)::int,
	    'estado', c.estado, 'tipo', c.tipo, 'motivo', c.motivo,
	    'version', c.version,
	    'creado_en', hora_local(c.creado_en, s.zona_horaria),
	    'actualizado_en', hora_local(c.actualizado_en, s.zona_horaria),
	    'cancelado_en', hora_local(c.cancelado_en, s.zona_horaria),
	    'motivo_cancelacion', c.motivo_cancelacion)::text;
END
$$;
COMMENT ON FUNCTION cita_documento(citas) IS
	'JSON text of one cita row with site, vet, room and patient names, times in the site''s zone.';

CREATE FUNCTION citas_fijar_documento() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.documento := cita_documento(NEW);
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION citas_fijar_documento() IS
	'BEFORE INSERT/UPDATE on citas: recomputes citas.documento from the final row.';

-- BEFORE row triggers fire in name order: citas_actualizado_en and
-- citas_cambio (version, cancelado_en) first, then citas_documento sees
-- the row as it will be stored.
CREATE TRIGGER citas_documento BEFORE INSERT OR UPDATE ON citas
	FOR EACH ROW EXECUTE FUNCTION citas_fijar_documento();

-- A refresh of the documents (UPDATE citas SET documento = NULL) is not a
-- change of the appointment: it must neither bump version nor touch
-- actualizado_en nor pass through the state machine.  Both triggers now
-- name the columns a client can change.
DROP TRIGGER citas_cambio ON citas;
DROP TRIGGER citas_actualizado_en ON citas;
CREATE TRIGGER citas_cambio BEFORE UPDATE OF
	sede_id, veterinario_id, consultorio_id, paciente_id, periodo, estado,
	tipo, motivo, actualizado_por, cancelado_en, motivo_cancelacion ON citas
	FOR EACH ROW EXECUTE FUNCTION citas_validar_cambio();
CREATE TRIGGER citas_actualizado_en BEFORE UPDATE OF
	sede_id, veterinario_id, consultorio_id, paciente_id, periodo, estado,
	tipo, motivo, actualizado_por, cancelado_en, motivo_cancelacion ON citas
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

-- Names shown in the documents changed: refresh the citas that show them.
CREATE FUNCTION citas_refrescar_documentos() RETURNS trigger
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

CREATE TRIGGER sedes_citas_documento AFTER UPDATE OF nombre, zona_horaria ON sedes
	FOR EACH ROW WHEN ((OLD.nombre, OLD.zona_horaria) IS DISTINCT FROM (NEW.nombre, NEW.zona_horaria))
	EXECUTE FUNCTION citas_refrescar_documentos();
CREATE TRIGGER veterinarios_citas_documento AFTER UPDATE OF nombres, apellidos ON veterinarios
	FOR EACH ROW WHEN ((OLD.nombres, OLD.apellidos) IS DISTINCT FROM (NEW.nombres, NEW.apellidos))
	EXECUTE FUNCTION citas_refrescar_documentos();
CREATE TRIGGER consultorios_citas_documento AFTER UPDATE OF nombre ON consultorios
	FOR EACH ROW WHEN (OLD.nombre IS DISTINCT FROM NEW.nombre)
	EXECUTE FUNCTION citas_refrescar_documentos();
CREATE TRIGGER pacientes_citas_documento AFTER UPDATE OF nombre, especie, propietario_id ON pacientes
	FOR EACH ROW WHEN ((OLD.nombre, OLD.especie, OLD.propietario_id)
	    IS DISTINCT FROM (NEW.nombre, NEW.especie, NEW.propietario_id))
	EXECUTE FUNCTION citas_refrescar_documentos();

-- Every caller of cita_detalle() (answers, audit, outbox, lists) now
-- reads the stored document.
CREATE OR REPLACE FUNCTION cita_detalle(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT documento::jsonb FROM citas WHERE id = p_id
$$;

UPDATE citas SET documento = NULL;
ALTER TABLE citas ALTER COLUMN documento SET NOT NULL;
