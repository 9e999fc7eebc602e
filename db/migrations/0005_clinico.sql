-- 0005: the clinical record: history entries, vaccine catalog and
-- vaccinations, treatments.  Clinical rows are never deleted and every
-- reference to patients, vets, sites and appointments is RESTRICT.
-- Who wrote a row at which site is (veterinario_id, sede_id), checked
-- against veterinario_sedes: a vet records only where they work.

CREATE TABLE historia_entradas (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	paciente_id    bigint NOT NULL REFERENCES pacientes (id) ON DELETE RESTRICT,
	cita_id        bigint REFERENCES citas (id) ON DELETE RESTRICT,
	veterinario_id bigint NOT NULL,
	sede_id        bigint NOT NULL,
	tipo           text NOT NULL,
	anamnesis      text,
	examen         text,
	diagnostico    text,
	plan           text,
	texto          text,
	corrige_id     bigint REFERENCES historia_entradas (id) ON DELETE RESTRICT,
	firmado_en     timestamptz DEFAULT now(),
	creado_en      timestamptz NOT NULL DEFAULT now(),
	actualizado_en timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT historia_entradas_veterinario_sede_fk FOREIGN KEY (veterinario_id, sede_id)
	    REFERENCES veterinario_sedes (veterinario_id, sede_id) ON DELETE RESTRICT,
	CONSTRAINT historia_entradas_tipo_valido CHECK (tipo IN
	    ('consulta', 'control', 'urgencia', 'cirugia', 'hospitalizacion', 'vacunacion',
	     'teleconsulta', 'laboratorio', 'imagenologia', 'nota')),
	CONSTRAINT historia_entradas_con_contenido CHECK (num_nonnulls(anamnesis, examen, diagnostico, plan, texto) > 0),
	CONSTRAINT historia_entradas_no_se_corrige_a_si_misma CHECK (corrige_id <> id),
	CONSTRAINT historia_entradas_firma_posterior CHECK (firmado_en >= creado_en)
);
-- GET /pacientes/{id}/historial: newest first.
CREATE INDEX historia_entradas_paciente ON historia_entradas (paciente_id, creado_en DESC);
CREATE INDEX historia_entradas_cita ON historia_entradas (cita_id) WHERE cita_id IS NOT NULL;
CREATE INDEX historia_entradas_veterinario ON historia_entradas (veterinario_id, creado_en DESC);
CREATE INDEX historia_entradas_corrige ON historia_entradas (corrige_id) WHERE corrige_id IS NOT NULL;
COMMENT ON TABLE historia_entradas IS 'The clinical history of a patient: one signed entry per consultation, control, surgery, note, ... Append-mostly: a signed entry is immutable; a mistake is fixed by a new entry whose corrige_id names it.';
COMMENT ON COLUMN historia_entradas.id IS 'Surrogate key.';
COMMENT ON COLUMN historia_entradas.paciente_id IS 'The patient.';
COMMENT ON COLUMN historia_entradas.cita_id IS 'Appointment the entry was written in; NULL for entries outside an appointment (notes, hospitalisation rounds).';
COMMENT ON COLUMN historia_entradas.veterinario_id IS 'Responsible vet, author and signer.';
COMMENT ON COLUMN historia_entradas.sede_id IS 'Site where the act took place (the vet works there); used for per-site access and reports.';
COMMENT ON COLUMN historia_entradas.tipo IS 'consulta, control, urgencia, cirugia, hospitalizacion, vacunacion, teleconsulta, laboratorio, imagenologia or nota.';
COMMENT ON COLUMN historia_entradas.anamnesis IS 'History as told by the owner (S of SOAP).';
COMMENT ON COLUMN historia_entradas.examen IS 'Physical examination and vital signs (O of SOAP).';
COMMENT ON COLUMN historia_entradas.diagnostico IS 'Presumptive or definitive diagnosis (A of SOAP).';
COMMENT ON COLUMN historia_entradas.plan IS 'Plan: tests, treatment, follow-up (P of SOAP).';
COMMENT ON COLUMN historia_entradas.texto IS 'Free text for entries that are not SOAP-shaped (notes, surgery reports). At least one of the five text fields is set.';
COMMENT ON COLUMN historia_entradas.corrige_id IS 'Earlier entry this one corrects or amends; the earlier entry stays as written.';
COMMENT ON COLUMN historia_entradas.firmado_en IS 'When the vet signed it; defaults to insert time (signed at once). Insert NULL explicitly to keep a draft, which may be edited or deleted until signed.';
COMMENT ON COLUMN historia_entradas.creado_en IS 'When the entry was written.';
COMMENT ON COLUMN historia_entradas.actualizado_en IS 'When a draft was last edited or signed (trigger).';

CREATE FUNCTION historia_entradas_proteger_firmadas() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
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
	'BEFORE UPDATE OR DELETE on historia_entradas: only drafts (firmado_en IS NULL) may change (SQLSTATE 55000, constraint historia_entradas_firmada_inmutable).';

CREATE TRIGGER historia_entradas_inmutable BEFORE UPDATE OR DELETE ON historia_entradas
	FOR EACH ROW EXECUTE FUNCTION historia_entradas_proteger_firmadas();
CREATE TRIGGER historia_entradas_actualizado_en BEFORE UPDATE ON historia_entradas
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

-- Vaccines ------------------------------------------------------------

CREATE TABLE vacunas (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	codigo         text NOT NULL,
	nombre         text NOT NULL,
	especie        text NOT NULL,
	enfermedades   text[] NOT NULL,
	esencial       boolean NOT NULL DEFAULT false,
	esquema        text,
	fabricante     text,
	activa         boolean NOT NULL DEFAULT true,
	creado_en      timestamptz NOT NULL DEFAULT now(),
	actualizado_en timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT vacunas_codigo_unico UNIQUE (codigo),
	CONSTRAINT vacunas_nombre_unico UNIQUE (especie, nombre),
	CONSTRAINT vacunas_codigo_formato CHECK (codigo ~ '^[A-Z0-9]+(-[A-Z0-9]+)*$' AND char_length(codigo) <= 40),
	CONSTRAINT vacunas_nombre_valido CHECK (btrim(nombre) <> '' AND char_length(nombre) <= 120),
	CONSTRAINT vacunas_especie_valida CHECK (especie IN
	    ('canino', 'felino', 'ave', 'conejo', 'roedor', 'reptil', 'otro')),
	CONSTRAINT vacunas_enfermedades_validas CHECK (cardinality(enfermedades) >= 1
	    AND array_ndims(enfermedades) = 1 AND array_position(enfermedades, NULL) IS NULL),
	CONSTRAINT vacunas_fabricante_valido CHECK (btrim(fabricante) <> '' AND char_length(fabricante) <= 120)
);
COMMENT ON TABLE vacunas IS 'Vaccine catalog: one row per vaccine kind and species. The reminder rules of alert-engine are keyed by codigo.';
COMMENT ON COLUMN vacunas.id IS 'Surrogate key.';
COMMENT ON COLUMN vacunas.codigo IS 'Stable code the alert rules refer to: upper-case words joined by dashes, e.g. CAN-DHPP, FEL-RABIA.';
COMMENT ON COLUMN vacunas.nombre IS 'Display name, unique per species.';
COMMENT ON COLUMN vacunas.especie IS 'Species the vaccine is for (same list as pacientes.especie).';
COMMENT ON COLUMN vacunas.enfermedades IS 'Diseases it protects against, one element each, in Spanish; at least one, no NULLs.';
COMMENT ON COLUMN vacunas.esencial IS 'Core vaccine (WSAVA): recommended for every animal of the species; false for lifestyle (non-core) vaccines.';
COMMENT ON COLUMN vacunas.esquema IS 'Human-readable schedule: primary series, booster, revaccination interval.';
COMMENT ON COLUMN vacunas.fabricante IS 'Manufacturer when the row is a specific product; NULL for a generic kind.';
COMMENT ON COLUMN vacunas.activa IS 'False: no longer offered (kept for the history).';
COMMENT ON COLUMN vacunas.creado_en IS 'When the row was created.';
COMMENT ON COLUMN vacunas.actualizado_en IS 'When the row was last updated (trigger).';

CREATE TRIGGER vacunas_actualizado_en BEFORE UPDATE ON vacunas
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

CREATE TABLE vacunaciones (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	paciente_id      bigint NOT NULL REFERENCES pacientes (id) ON DELETE RESTRICT,
	vacuna_id        bigint NOT NULL REFERENCES vacunas (id) ON DELETE RESTRICT,
	lote             text NOT NULL,
	vencimiento_lote date,
	fecha_aplicacion date NOT NULL,
	dosis_numero     smallint,
	proxima_dosis    date,
	veterinario_id   bigint NOT NULL,
	sede_id          bigint NOT NULL,
	cita_id          bigint REFERENCES citas (id) ON DELETE RESTRICT,
	observaciones    text,
	creado_en        timestamptz NOT NULL DEFAULT now(),
	actualizado_en   timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT vacunaciones_veterinario_sede_fk FOREIGN KEY (veterinario_id, sede_id)
	    REFERENCES veterinario_sedes (veterinario_id, sede_id) ON DELETE RESTRICT,
	CONSTRAINT vacunaciones_lote_valido CHECK (btrim(lote) <> '' AND char_length(lote) <= 64),
	CONSTRAINT vacunaciones_lote_vigente CHECK (vencimiento_lote >= fecha_aplicacion),
	CONSTRAINT vacunaciones_dosis_numero_valido CHECK (dosis_numero BETWEEN 1 AND 20),
	CONSTRAINT vacunaciones_proxima_posterior CHECK (proxima_dosis > fecha_aplicacion),
	CONSTRAINT vacunaciones_observaciones_valido CHECK (btrim(observaciones) <> '' AND char_length(observaciones) <= 1000)
);
-- Patient card and "is there a newer dose of this vaccine?" (a newer dose
-- closes the older reminder).
CREATE INDEX vacunaciones_paciente ON vacunaciones (paciente_id, vacuna_id, fecha_aplicacion DESC);
-- Recall: every patient who received a given lot.
CREATE INDEX vacunaciones_lote ON vacunaciones (vacuna_id, lote);
-- Daily reminder scan.
CREATE INDEX vacunaciones_proxima_dosis ON vacunaciones (proxima_dosis) WHERE proxima_dosis IS NOT NULL;
CREATE INDEX vacunaciones_cita ON vacunaciones (cita_id) WHERE cita_id IS NOT NULL;
COMMENT ON TABLE vacunaciones IS 'A vaccine dose given to a patient, with its lot (needed for recalls).';
COMMENT ON COLUMN vacunaciones.id IS 'Surrogate key.';
COMMENT ON COLUMN vacunaciones.paciente_id IS 'The vaccinated patient.';
COMMENT ON COLUMN vacunaciones.vacuna_id IS 'Which vaccine (catalog).';
COMMENT ON COLUMN vacunaciones.lote IS 'Manufacturer lot number as printed on the vial; mandatory for recalls.';
COMMENT ON COLUMN vacunaciones.vencimiento_lote IS 'Expiry date of the lot; when known it must not be before the application date.';
COMMENT ON COLUMN vacunaciones.fecha_aplicacion IS 'Date the dose was given (site local date).';
COMMENT ON COLUMN vacunaciones.dosis_numero IS 'Position in the series (1 = first dose of the primary series); NULL for revaccinations or when unknown.';
COMMENT ON COLUMN vacunaciones.proxima_dosis IS 'Date the next dose is due, set by the vet; drives the reminder. NULL: no further dose planned. The reminder is closed by any later vacunaciones row of the same vaccine kind.';
COMMENT ON COLUMN vacunaciones.veterinario_id IS 'Vet who gave or supervised the dose.';
COMMENT ON COLUMN vacunaciones.sede_id IS 'Site where it was given.';
COMMENT ON COLUMN vacunaciones.cita_id IS 'Appointment it was given in, if any.';
COMMENT ON COLUMN vacunaciones.observaciones IS 'Reactions or remarks; NULL if none.';
COMMENT ON COLUMN vacunaciones.creado_en IS 'When the row was created.';
COMMENT ON COLUMN vacunaciones.actualizado_en IS 'When the row was last updated (trigger).';

CREATE TRIGGER vacunaciones_actualizado_en BEFORE UPDATE ON vacunaciones
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

-- Treatments ----------------------------------------------------------

CREATE TABLE tratamientos (
	id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	paciente_id         bigint NOT NULL REFERENCES pacientes (id) ON DELETE RESTRICT,
	historia_entrada_id bigint REFERENCES historia_entradas (id) ON DELETE RESTRICT,
	veterinario_id      bigint NOT NULL,
	sede_id             bigint NOT NULL,
	descripcion         text NOT NULL,
	medicamento         text,
	dosis               text,
	via                 text,
	frecuencia          text,
	intervalo_horas     smallint,
	inicio              date NOT NULL,
	fin                 date,
	estado              text NOT NULL DEFAULT 'activo',
	creado_en           timestamptz NOT NULL DEFAULT now(),
	actualizado_en      timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT tratamientos_veterinario_sede_fk FOREIGN KEY (veterinario_id, sede_id)
	    REFERENCES veterinario_sedes (veterinario_id, sede_id) ON DELETE RESTRICT,
	CONSTRAINT tratamientos_descripcion_valida CHECK (btrim(descripcion) <> '' AND char_length(descripcion) <= 1000),
	CONSTRAINT tratamientos_medicamento_valido CHECK (btrim(medicamento) <> '' AND char_length(medicamento) <= 200),
	CONSTRAINT tratamientos_dosis_valida CHECK (btrim(dosis) <> '' AND char_length(dosis) <= 200),
	CONSTRAINT tratamientos_via_valida CHECK (via IN
	    ('oral', 'topica', 'oftalmica', 'otica', 'subcutanea', 'intramuscular',
	     'intravenosa', 'inhalada', 'rectal', 'otra')),
	CONSTRAINT tratamientos_frecuencia_valida CHECK (btrim(frecuencia) <> '' AND char_length(frecuencia) <= 100),
	CONSTRAINT tratamientos_intervalo_valido CHECK (intervalo_horas BETWEEN 1 AND 8760),
	CONSTRAINT tratamientos_fechas_ordenadas CHECK (fin >= inicio),
	CONSTRAINT tratamientos_estado_valido CHECK (estado IN ('activo', 'completado', 'suspendido'))
);
CREATE INDEX tratamientos_paciente ON tratamientos (paciente_id, inicio DESC);
-- Treatment reminders and "ends soon" alerts scan only active ones.
CREATE INDEX tratamientos_activos ON tratamientos (fin) WHERE estado = 'activo';
CREATE INDEX tratamientos_historia_entrada ON tratamientos (historia_entrada_id) WHERE historia_entrada_id IS NOT NULL;
COMMENT ON TABLE tratamientos IS 'A treatment prescribed to a patient (drug course, cures, diet), followed by the reminder rules while activo.';
COMMENT ON COLUMN tratamientos.id IS 'Surrogate key.';
COMMENT ON COLUMN tratamientos.paciente_id IS 'The treated patient.';
COMMENT ON COLUMN tratamientos.historia_entrada_id IS 'Clinical entry that prescribed it, if any.';
COMMENT ON COLUMN tratamientos.veterinario_id IS 'Prescribing vet.';
COMMENT ON COLUMN tratamientos.sede_id IS 'Site where it was prescribed.';
COMMENT ON COLUMN tratamientos.descripcion IS 'What the treatment is, as the owner will read it.';
COMMENT ON COLUMN tratamientos.medicamento IS 'Drug name and strength (e.g. amoxicilina 250 mg); NULL for non-drug treatments.';
COMMENT ON COLUMN tratamientos.dosis IS 'Dose per administration as text (e.g. 1 tableta, 0.5 ml).';
COMMENT ON COLUMN tratamientos.via IS 'Route: oral, topica, oftalmica, otica, subcutanea, intramuscular, intravenosa, inhalada, rectal or otra.';
COMMENT ON COLUMN tratamientos.frecuencia IS 'Frequency as told to the owner (cada 12 horas, una vez al día).';
COMMENT ON COLUMN tratamientos.intervalo_horas IS 'Frequency in hours for the reminder engine (12 for every 12 h); NULL when not periodic.';
COMMENT ON COLUMN tratamientos.inicio IS 'First day of the treatment.';
COMMENT ON COLUMN tratamientos.fin IS 'Last day, inclusive; NULL for open-ended (chronic) treatments.';
COMMENT ON COLUMN tratamientos.estado IS 'activo, completado or suspendido.';
COMMENT ON COLUMN tratamientos.creado_en IS 'When the row was created.';
COMMENT ON COLUMN tratamientos.actualizado_en IS 'When the row was last updated (trigger).';

CREATE TRIGGER tratamientos_actualizado_en BEFORE UPDATE ON tratamientos
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();
