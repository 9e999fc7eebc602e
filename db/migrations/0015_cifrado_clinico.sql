-- 0015: the clinical free text encrypted at rest.
--
-- anamnesis, examen, diagnostico, plan and texto of historia_entradas,
-- the description of treatments and the allergies of patients are
-- sealed like the owners' data (0014): by the API before they are stored,
-- and by vetred-admin cifrar for rows written before and after a key
-- rotation.  Signed entries stay immutable, with one exception: the
-- owner of the table (vetred-admin, never the API's role) may replace
-- those five columns with sealed text and nothing else, which is what
-- re-sealing does; the plain meaning does not change.

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
	    AND coalesce(NEW.anamnesis LIKE 'v1:%', OLD.anamnesis IS NULL)
	    AND coalesce(NEW.examen LIKE 'v1:%', OLD.examen IS NULL)
	    AND coalesce(NEW.diagnostico LIKE 'v1:%', OLD.diagnostico IS NULL)
	    AND coalesce(NEW.plan LIKE 'v1:%', OLD.plan IS NULL)
	    AND coalesce(NEW.texto LIKE 'v1:%', OLD.texto IS NULL) THEN
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

-- historia_entradas_actualizado_en fires before this trigger (name
-- order), so the re-seal branch above restores the entry's time after it.

COMMENT ON COLUMN historia_entradas.anamnesis IS 'History as told by the owner; sealed (AES-256-GCM, "v1:kid:nonce:ciphertext").';
COMMENT ON COLUMN historia_entradas.examen IS 'Physical examination findings; sealed.';
COMMENT ON COLUMN historia_entradas.diagnostico IS 'Diagnosis (presumptive or definitive); sealed.';
COMMENT ON COLUMN historia_entradas.plan IS 'Treatment and follow-up plan; sealed.';
COMMENT ON COLUMN historia_entradas.texto IS 'Free text of notes and other entry types; sealed.';

-- A sealed description is longer than the 1,000 characters the API
-- allows for the plain text.
ALTER TABLE tratamientos DROP CONSTRAINT tratamientos_descripcion_valida,
	ADD CONSTRAINT tratamientos_descripcion_valida CHECK (btrim(descripcion) <> '');
COMMENT ON COLUMN tratamientos.descripcion IS 'What is treated and how; sealed (AES-256-GCM).';
COMMENT ON COLUMN pacientes.alergias IS 'Known allergies (free text); sealed (AES-256-GCM).';
