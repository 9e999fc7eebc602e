-- 0003: vets, the sites they work at, rooms, weekly working hours and
-- absences: everything availability is computed from.

CREATE TABLE veterinarios (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	usuario_id     bigint NOT NULL REFERENCES usuarios (id) ON DELETE RESTRICT,
	nombres        text NOT NULL,
	apellidos      text NOT NULL,
	cmvp           text NOT NULL,
	especialidad   text,
	activo         boolean NOT NULL DEFAULT true,
	creado_en      timestamptz NOT NULL DEFAULT now(),
	actualizado_en timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT veterinarios_usuario_unico UNIQUE (usuario_id),
	CONSTRAINT veterinarios_cmvp_unico UNIQUE (cmvp),
	CONSTRAINT veterinarios_cmvp_formato CHECK (cmvp ~ '^[0-9]{1,6}$'),
	CONSTRAINT veterinarios_nombres_valido CHECK (btrim(nombres) <> '' AND char_length(nombres) <= 100),
	CONSTRAINT veterinarios_apellidos_valido CHECK (btrim(apellidos) <> '' AND char_length(apellidos) <= 100),
	CONSTRAINT veterinarios_especialidad_valida CHECK (btrim(especialidad) <> '' AND char_length(especialidad) <= 100)
);
COMMENT ON TABLE veterinarios IS 'A veterinarian: the professional side of a user account (one user, at most one vet).';
COMMENT ON COLUMN veterinarios.id IS 'Surrogate key.';
COMMENT ON COLUMN veterinarios.usuario_id IS 'The user account the vet signs in with.';
COMMENT ON COLUMN veterinarios.nombres IS 'Given names, as registered with the CMVP.';
COMMENT ON COLUMN veterinarios.apellidos IS 'Surnames, as registered with the CMVP.';
COMMENT ON COLUMN veterinarios.cmvp IS 'Colegio Médico Veterinario del Perú registration number (digits only); printed on prescriptions.';
COMMENT ON COLUMN veterinarios.especialidad IS 'Specialty (cirugía, dermatología, exóticos, ...); NULL for general practice.';
COMMENT ON COLUMN veterinarios.activo IS 'False: no longer bookable anywhere; history kept.';
COMMENT ON COLUMN veterinarios.creado_en IS 'When the row was created.';
COMMENT ON COLUMN veterinarios.actualizado_en IS 'When the row was last updated (trigger).';

CREATE TRIGGER veterinarios_actualizado_en BEFORE UPDATE ON veterinarios
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

-- Link table: its natural key is the primary key.  Working hours,
-- appointments and clinical rows reference (veterinario_id, sede_id)
-- here, so a vet can only be scheduled or booked at a site they work at.
CREATE TABLE veterinario_sedes (
	veterinario_id bigint NOT NULL REFERENCES veterinarios (id) ON DELETE CASCADE,
	sede_id        bigint NOT NULL REFERENCES sedes (id) ON DELETE RESTRICT,
	activo         boolean NOT NULL DEFAULT true,
	creado_en      timestamptz NOT NULL DEFAULT now(),
	actualizado_en timestamptz NOT NULL DEFAULT now(),
	PRIMARY KEY (veterinario_id, sede_id)
);
CREATE INDEX veterinario_sedes_sede ON veterinario_sedes (sede_id);
COMMENT ON TABLE veterinario_sedes IS 'Which sites a vet works at. Once referenced by appointments a row cannot be deleted: set activo = false.';
COMMENT ON COLUMN veterinario_sedes.veterinario_id IS 'The vet.';
COMMENT ON COLUMN veterinario_sedes.sede_id IS 'A site the vet works at.';
COMMENT ON COLUMN veterinario_sedes.activo IS 'False: the vet no longer works at this site (no new bookings there).';
COMMENT ON COLUMN veterinario_sedes.creado_en IS 'When the row was created.';
COMMENT ON COLUMN veterinario_sedes.actualizado_en IS 'When the row was last updated (trigger).';

CREATE TRIGGER veterinario_sedes_actualizado_en BEFORE UPDATE ON veterinario_sedes
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

CREATE TABLE consultorios (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	sede_id        bigint NOT NULL REFERENCES sedes (id) ON DELETE RESTRICT,
	nombre         text NOT NULL,
	tipo           text NOT NULL DEFAULT 'consulta',
	activo         boolean NOT NULL DEFAULT true,
	creado_en      timestamptz NOT NULL DEFAULT now(),
	actualizado_en timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT consultorios_nombre_unico UNIQUE (sede_id, nombre),
	-- Target of citas (consultorio_id, sede_id): the room is in the cita's site.
	CONSTRAINT consultorios_id_sede_unico UNIQUE (id, sede_id),
	CONSTRAINT consultorios_nombre_valido CHECK (btrim(nombre) <> '' AND char_length(nombre) <= 80),
	CONSTRAINT consultorios_tipo_valido CHECK (tipo IN
	    ('consulta', 'cirugia', 'imagenologia', 'laboratorio', 'hospitalizacion', 'procedimientos'))
);
COMMENT ON TABLE consultorios IS 'A bookable room of a site (consulting room, operating theatre, ...).';
COMMENT ON COLUMN consultorios.id IS 'Surrogate key.';
COMMENT ON COLUMN consultorios.sede_id IS 'Site the room belongs to.';
COMMENT ON COLUMN consultorios.nombre IS 'Room name, unique within its site.';
COMMENT ON COLUMN consultorios.tipo IS 'consulta, cirugia, imagenologia, laboratorio, hospitalizacion or procedimientos.';
COMMENT ON COLUMN consultorios.activo IS 'False: closed for booking (works, equipment failure).';
COMMENT ON COLUMN consultorios.creado_en IS 'When the row was created.';
COMMENT ON COLUMN consultorios.actualizado_en IS 'When the row was last updated (trigger).';

CREATE TRIGGER consultorios_actualizado_en BEFORE UPDATE ON consultorios
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

-- A range type over time of day, so working-hour blocks can take part in
-- an exclusion constraint.  subtype_diff lets GiST split pages well.
CREATE FUNCTION rango_horas_diferencia(a time, b time) RETURNS double precision
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
AS $$ SELECT EXTRACT(EPOCH FROM (a - b))::double precision $$;
COMMENT ON FUNCTION rango_horas_diferencia(time, time) IS
	'subtype_diff of rango_horas: seconds from b to a.';
CREATE TYPE rango_horas AS RANGE (subtype = time, subtype_diff = rango_horas_diferencia);
COMMENT ON TYPE rango_horas IS 'Range of times of day, e.g. rango_horas(''08:00'', ''13:00'') = [08:00,13:00).';

-- Overlap rule: one vet, one weekday, intersecting validity periods, and
-- intersecting hours conflict, whatever the site: a vet cannot be in two
-- places at once.  An exclusion constraint states exactly that; a plain
-- UNIQUE (vet, weekday, start) would let 08:00-13:00 and 12:00-15:00
-- through.  Blocks are [inicio, fin): 08:00-13:00 and 13:00-19:00 touch
-- without overlapping.  A block cannot cross midnight (fin > inicio; use
-- fin = 24:00 and a second block on the next weekday).
CREATE TABLE horarios (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	veterinario_id bigint NOT NULL,
	sede_id        bigint NOT NULL,
	dia_semana     smallint NOT NULL,
	hora_inicio    time NOT NULL,
	hora_fin       time NOT NULL,
	vigente_desde  date NOT NULL DEFAULT CURRENT_DATE,
	vigente_hasta  date,
	creado_en      timestamptz NOT NULL DEFAULT now(),
	actualizado_en timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT horarios_veterinario_sede_fk FOREIGN KEY (veterinario_id, sede_id)
	    REFERENCES veterinario_sedes (veterinario_id, sede_id) ON DELETE CASCADE,
	CONSTRAINT horarios_dia_semana_valido CHECK (dia_semana BETWEEN 1 AND 7),
	CONSTRAINT horarios_horas_ordenadas CHECK (hora_fin > hora_inicio),
	CONSTRAINT horarios_vigencia_ordenada CHECK (vigente_hasta >= vigente_desde),
	CONSTRAINT horarios_sin_solape EXCLUDE USING gist (
	    veterinario_id WITH =,
	    dia_semana WITH =,
	    rango_horas(hora_inicio, hora_fin) WITH &&,
	    daterange(vigente_desde, vigente_hasta, '[]') WITH &&)
);
CREATE INDEX horarios_sede_dia ON horarios (sede_id, dia_semana);
COMMENT ON TABLE horarios IS 'Weekly working hours: a vet works at a site on a weekday from hora_inicio to hora_fin, local time of the site, during a validity period. Several blocks a day are several rows.';
COMMENT ON COLUMN horarios.id IS 'Surrogate key.';
COMMENT ON COLUMN horarios.veterinario_id IS 'The vet.';
COMMENT ON COLUMN horarios.sede_id IS 'The site; (veterinario_id, sede_id) must be in veterinario_sedes.';
COMMENT ON COLUMN horarios.dia_semana IS 'ISO weekday: 1 = Monday ... 7 = Sunday (EXTRACT(ISODOW ...)).';
COMMENT ON COLUMN horarios.hora_inicio IS 'Start of the block, local time of the site (sedes.zona_horaria), inclusive.';
COMMENT ON COLUMN horarios.hora_fin IS 'End of the block, local time of the site, exclusive; after hora_inicio (24:00 allowed).';
COMMENT ON COLUMN horarios.vigente_desde IS 'First date (site local) the block applies, inclusive.';
COMMENT ON COLUMN horarios.vigente_hasta IS 'Last date the block applies, inclusive; NULL = until further notice. Change a schedule by closing the old block and adding a new one.';
COMMENT ON COLUMN horarios.creado_en IS 'When the row was created.';
COMMENT ON COLUMN horarios.actualizado_en IS 'When the row was last updated (trigger).';

CREATE TRIGGER horarios_actualizado_en BEFORE UPDATE ON horarios
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

CREATE TABLE ausencias (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	veterinario_id bigint NOT NULL REFERENCES veterinarios (id) ON DELETE CASCADE,
	periodo        tstzrange NOT NULL,
	tipo           text NOT NULL DEFAULT 'otro',
	motivo         text,
	creado_por     bigint REFERENCES usuarios (id) ON DELETE SET NULL,
	creado_en      timestamptz NOT NULL DEFAULT now(),
	actualizado_en timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT ausencias_periodo_valido CHECK (NOT isempty(periodo)
	    AND NOT lower_inf(periodo) AND NOT upper_inf(periodo)
	    AND lower_inc(periodo) AND NOT upper_inc(periodo)),
	CONSTRAINT ausencias_tipo_valido CHECK (tipo IN
	    ('vacaciones', 'enfermedad', 'capacitacion', 'licencia', 'otro')),
	CONSTRAINT ausencias_motivo_valido CHECK (btrim(motivo) <> '' AND char_length(motivo) <= 500),
	-- Overlapping absences of one vet are one absence: extend it instead.
	-- Also the index for "is the vet absent during [a, b)?".
	CONSTRAINT ausencias_sin_solape EXCLUDE USING gist (veterinario_id WITH =, periodo WITH &&)
);
COMMENT ON TABLE ausencias IS 'Periods a vet is unavailable at every site (holidays, sick leave, training), subtracted from the working hours when computing availability.';
COMMENT ON COLUMN ausencias.id IS 'Surrogate key.';
COMMENT ON COLUMN ausencias.veterinario_id IS 'The absent vet.';
COMMENT ON COLUMN ausencias.periodo IS 'Absence as [start, end) instants; bounded, non-empty.';
COMMENT ON COLUMN ausencias.tipo IS 'vacaciones, enfermedad, capacitacion, licencia or otro.';
COMMENT ON COLUMN ausencias.motivo IS 'Free-text note; NULL if none. Staff-visible only.';
COMMENT ON COLUMN ausencias.creado_por IS 'User who recorded the absence.';
COMMENT ON COLUMN ausencias.creado_en IS 'When the row was created.';
COMMENT ON COLUMN ausencias.actualizado_en IS 'When the row was last updated (trigger).';

CREATE TRIGGER ausencias_actualizado_en BEFORE UPDATE ON ausencias
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();
