-- 0040: appointment types, each with its slot length and the vet's time
-- before and after it (preparing a surgery, cleaning the room after a
-- dental).  The network sets them (sede_id NULL); a site may set its own
-- values for one, or a type of its own (a row with its sede_id).  A
-- booking copies the margins of its type, so that changing a type later
-- moves no booked appointment; the vet's and the room's time taken,
-- margins included, is citas.ocupa, and no two live appointments of a vet
-- or a room overlap there.

CREATE TABLE tipos_cita (
	id                 bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	sede_id            bigint REFERENCES sedes (id) ON DELETE CASCADE,
	codigo             text NOT NULL,
	nombre             text NOT NULL,
	duracion_min       integer NOT NULL,
	margen_antes_min   integer NOT NULL DEFAULT 0,
	margen_despues_min integer NOT NULL DEFAULT 0,
	modalidad          text NOT NULL DEFAULT 'presencial',
	activo             boolean NOT NULL DEFAULT true,
	creado_por         bigint REFERENCES usuarios (id) ON DELETE SET NULL,
	creado_en          timestamptz NOT NULL DEFAULT now(),
	actualizado_en     timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT tipos_cita_codigo_unico UNIQUE NULLS NOT DISTINCT (sede_id, codigo),
	CONSTRAINT tipos_cita_codigo_formato CHECK (codigo ~ '^[a-z][a-z0-9_]{1,39}$'),
	CONSTRAINT tipos_cita_nombre_valido CHECK (btrim(nombre) <> '' AND char_length(nombre) <= 80),
	CONSTRAINT tipos_cita_duracion_valida CHECK (duracion_min BETWEEN 5 AND 240),
	CONSTRAINT tipos_cita_margenes_validos CHECK (margen_antes_min BETWEEN 0 AND 120
	    AND margen_despues_min BETWEEN 0 AND 120),
	CONSTRAINT tipos_cita_modalidad_valida CHECK (modalidad IN ('presencial', 'virtual'))
);
COMMENT ON TABLE tipos_cita IS 'Kinds of appointment with their slot length and margins: the network''s (sede_id NULL) and a site''s own values or types, which win at that site.';
COMMENT ON COLUMN tipos_cita.id IS 'Surrogate key.';
COMMENT ON COLUMN tipos_cita.sede_id IS 'The site whose values these are; NULL: the network''s, in force wherever a site has no row of that code.';
COMMENT ON COLUMN tipos_cita.codigo IS 'Stable code (consulta, vacunacion, cirugia): lower case letters, digits and _, 2-40.';
COMMENT ON COLUMN tipos_cita.nombre IS 'Name shown to the desk, in Spanish.';
COMMENT ON COLUMN tipos_cita.duracion_min IS 'Slot length in minutes, 5-240: the default duration of a booking of this type and the free slots'' length.';
COMMENT ON COLUMN tipos_cita.margen_antes_min IS 'Minutes of the vet''s (and room''s) time before the appointment, 0-120; no other appointment may take them.';
COMMENT ON COLUMN tipos_cita.margen_despues_min IS 'Minutes after the appointment, 0-120, as margen_antes_min.';
COMMENT ON COLUMN tipos_cita.modalidad IS 'presencial or virtual: the citas.tipo a booking of this type has.';
COMMENT ON COLUMN tipos_cita.activo IS 'False: no longer offered for new bookings (kept for the ones made).';
COMMENT ON COLUMN tipos_cita.creado_por IS 'User who added it; NULL for the preloaded ones.';
COMMENT ON COLUMN tipos_cita.creado_en IS 'When the row was created.';
COMMENT ON COLUMN tipos_cita.actualizado_en IS 'When the row was last updated (trigger).';

INSERT INTO tipos_cita (codigo, nombre, duracion_min, margen_antes_min, margen_despues_min, modalidad) VALUES
	('consulta', 'Consulta general', 30, 0, 5, 'presencial'),
	('control', 'Control', 20, 0, 5, 'presencial'),
	('vacunacion', 'Vacunación', 15, 0, 5, 'presencial'),
	('urgencia', 'Urgencia', 45, 0, 15, 'presencial'),
	('ecografia', 'Ecografía', 30, 5, 10, 'presencial'),
	('cirugia', 'Cirugía', 120, 30, 30, 'presencial'),
	('odontologia', 'Profilaxis dental', 60, 15, 15, 'presencial'),
	('teleconsulta', 'Teleconsulta', 20, 0, 5, 'virtual');

ALTER TABLE citas
	ADD COLUMN tipo_cita_id bigint REFERENCES tipos_cita (id) ON DELETE RESTRICT,
	ADD COLUMN margen_antes_min integer NOT NULL DEFAULT 0,
	ADD COLUMN margen_despues_min integer NOT NULL DEFAULT 0,
	ADD COLUMN ocupa tstzrange,
	ADD CONSTRAINT citas_margenes_validos CHECK (margen_antes_min BETWEEN 0 AND 120
	    AND margen_despues_min BETWEEN 0 AND 120);
UPDATE citas SET ocupa = periodo;
ALTER TABLE citas ALTER COLUMN ocupa SET NOT NULL;
COMMENT ON COLUMN citas.tipo_cita_id IS 'The kind of appointment booked, when one was named; NULL otherwise.';
COMMENT ON COLUMN citas.margen_antes_min IS 'Minutes of the vet''s and room''s time taken before the appointment, copied from its type at booking (0 without one).';
COMMENT ON COLUMN citas.margen_despues_min IS 'Minutes taken after it, as margen_antes_min.';
COMMENT ON COLUMN citas.ocupa IS 'periodo widened by the margins (trigger citas_ocupa): the time no other live appointment of the vet or the room may overlap.';

ALTER TABLE citas
	DROP CONSTRAINT citas_veterinario_sin_solape,
	DROP CONSTRAINT citas_consultorio_sin_solape,
	ADD CONSTRAINT citas_veterinario_sin_solape EXCLUDE USING gist
	    (veterinario_id WITH =, ocupa WITH &&)
	    WHERE (estado NOT IN ('cancelada', 'no_asistio')),
	ADD CONSTRAINT citas_consultorio_sin_solape EXCLUDE USING gist
	    (consultorio_id WITH =, ocupa WITH &&)
	    WHERE (consultorio_id IS NOT NULL AND estado NOT IN ('cancelada', 'no_asistio'));
COMMENT ON COLUMN citas.veterinario_id IS 'The vet; no two live appointments of a vet overlap, margins included (citas_veterinario_sin_solape on ocupa).';
COMMENT ON COLUMN citas.consultorio_id IS 'Room, in the same site; NULL when none is needed (always NULL for virtual). No two live appointments of a room overlap, margins included (citas_consultorio_sin_solape on ocupa).';
