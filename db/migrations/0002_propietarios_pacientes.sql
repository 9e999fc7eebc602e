-- 0002: owners, their pets (patients) and the pets' weight history.
-- Owners and patients belong to the network, not to a site: a pet seen
-- in Lima can be seen in Cusco with the same record.

CREATE TABLE propietarios (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	nombres          text NOT NULL,
	apellidos        text NOT NULL,
	tipo_documento   text NOT NULL,
	numero_documento text NOT NULL,
	telefono         text NOT NULL,
	email            text,
	direccion        text,
	sede_registro_id bigint REFERENCES sedes (id) ON DELETE RESTRICT,
	creado_en        timestamptz NOT NULL DEFAULT now(),
	actualizado_en   timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT propietarios_documento_unico UNIQUE (tipo_documento, numero_documento),
	CONSTRAINT propietarios_tipo_documento_valido CHECK (tipo_documento IN ('DNI', 'CE')),
	CONSTRAINT propietarios_numero_documento_formato CHECK (
	    (tipo_documento = 'DNI' AND numero_documento ~ '^[0-9]{8}$') OR
	    (tipo_documento = 'CE' AND numero_documento ~ '^[A-Z0-9]{9,12}$')),
	CONSTRAINT propietarios_nombres_valido CHECK (btrim(nombres) <> '' AND char_length(nombres) <= 100),
	CONSTRAINT propietarios_apellidos_valido CHECK (btrim(apellidos) <> '' AND char_length(apellidos) <= 100),
	CONSTRAINT propietarios_telefono_formato CHECK (telefono ~ '^\+51[0-9]{9}$'),
	CONSTRAINT propietarios_email_formato CHECK (char_length(email) <= 254
	    AND email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
	CONSTRAINT propietarios_direccion_valida CHECK (btrim(direccion) <> '' AND char_length(direccion) <= 200)
);
-- Reception searches owners by surname prefix and by phone.
CREATE INDEX propietarios_apellidos ON propietarios (lower(apellidos) text_pattern_ops, lower(nombres));
CREATE INDEX propietarios_telefono ON propietarios (telefono);
CREATE INDEX propietarios_sede_registro ON propietarios (sede_registro_id);
COMMENT ON TABLE propietarios IS 'A pet owner (client), identified by a Peruvian identity document.';
COMMENT ON COLUMN propietarios.id IS 'Surrogate key.';
COMMENT ON COLUMN propietarios.nombres IS 'Given names.';
COMMENT ON COLUMN propietarios.apellidos IS 'Surnames (paternal and maternal).';
COMMENT ON COLUMN propietarios.tipo_documento IS 'DNI (national identity card) or CE (carné de extranjería, foreign resident card).';
COMMENT ON COLUMN propietarios.numero_documento IS 'Document number without the DNI verification character: DNI exactly 8 digits; CE 9 to 12 upper-case letters or digits (the API upper-cases it).';
COMMENT ON COLUMN propietarios.telefono IS 'Mobile phone in E.164, +51 and 9 digits; used for SMS/WhatsApp reminders.';
COMMENT ON COLUMN propietarios.email IS 'E-mail for confirmations and reminders; optional.';
COMMENT ON COLUMN propietarios.direccion IS 'Home address, needed for home delivery of medicines; optional.';
COMMENT ON COLUMN propietarios.sede_registro_id IS 'Site where the owner was registered (for per-site KPIs); NULL if registered online.';
COMMENT ON COLUMN propietarios.creado_en IS 'When the row was created.';
COMMENT ON COLUMN propietarios.actualizado_en IS 'When the row was last updated (trigger).';

CREATE TRIGGER propietarios_actualizado_en BEFORE UPDATE ON propietarios
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

CREATE TABLE pacientes (
	id                  bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	propietario_id      bigint NOT NULL REFERENCES propietarios (id) ON DELETE RESTRICT,
	nombre              text NOT NULL,
	especie             text NOT NULL,
	raza                text,
	sexo                text,
	esterilizado        boolean NOT NULL DEFAULT false,
	fecha_nacimiento    date,
	microchip           text,
	color               text,
	alergias            text,
	activo              boolean NOT NULL DEFAULT true,
	fallecido           boolean NOT NULL DEFAULT false,
	fecha_fallecimiento date,
	sede_registro_id    bigint REFERENCES sedes (id) ON DELETE RESTRICT,
	creado_en           timestamptz NOT NULL DEFAULT now(),
	actualizado_en      timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT pacientes_microchip_unico UNIQUE (microchip),
	CONSTRAINT pacientes_nombre_valido CHECK (btrim(nombre) <> '' AND char_length(nombre) <= 80),
	CONSTRAINT pacientes_especie_valida CHECK (especie IN
	    ('canino', 'felino', 'ave', 'conejo', 'roedor', 'reptil', 'otro')),
	CONSTRAINT pacientes_raza_valida CHECK (btrim(raza) <> '' AND char_length(raza) <= 80),
	CONSTRAINT pacientes_sexo_valido CHECK (sexo IN ('macho', 'hembra')),
	CONSTRAINT pacientes_microchip_formato CHECK (microchip ~ '^[0-9]{15}$'),
	CONSTRAINT pacientes_color_valido CHECK (btrim(color) <> '' AND char_length(color) <= 80),
	CONSTRAINT pacientes_fecha_nacimiento_minima CHECK (fecha_nacimiento >= DATE '1950-01-01'),
	CONSTRAINT pacientes_fallecido_con_fecha CHECK (fallecido = (fecha_fallecimiento IS NOT NULL)),
	CONSTRAINT pacientes_fallecido_inactivo CHECK (NOT (fallecido AND activo)),
	CONSTRAINT pacientes_fallecimiento_tras_nacimiento CHECK (fecha_fallecimiento >= fecha_nacimiento)
);
CREATE INDEX pacientes_propietario ON pacientes (propietario_id);
CREATE INDEX pacientes_nombre ON pacientes (lower(nombre) text_pattern_ops);
CREATE INDEX pacientes_sede_registro ON pacientes (sede_registro_id);
COMMENT ON TABLE pacientes IS 'A pet (patient). Never deleted once it has appointments or clinical entries; deactivate or mark deceased instead.';
COMMENT ON COLUMN pacientes.id IS 'Surrogate key.';
COMMENT ON COLUMN pacientes.propietario_id IS 'Current owner; a change of owner is an update of this column.';
COMMENT ON COLUMN pacientes.nombre IS 'Name of the pet.';
COMMENT ON COLUMN pacientes.especie IS 'Species: canino, felino, ave, conejo, roedor, reptil or otro. Drives which vaccine schedules apply.';
COMMENT ON COLUMN pacientes.raza IS 'Breed as free text (mestizo for mixed breed); NULL if unknown.';
COMMENT ON COLUMN pacientes.sexo IS 'macho or hembra; NULL while unknown (common for birds and reptiles).';
COMMENT ON COLUMN pacientes.esterilizado IS 'Neutered or spayed.';
COMMENT ON COLUMN pacientes.fecha_nacimiento IS 'Birth date, estimated when unknown; NULL if not even estimated. Not before 1950 (CHECK) nor after today (trigger pacientes_fechas).';
COMMENT ON COLUMN pacientes.microchip IS 'ISO 11784/11785 FDX-B transponder code, 15 digits (country 604 for Peru or a manufacturer code); unique; NULL if not chipped.';
COMMENT ON COLUMN pacientes.color IS 'Coat or plumage colour, for identification.';
COMMENT ON COLUMN pacientes.alergias IS 'Known allergies and adverse drug reactions, shown as a warning on every screen; NULL if none known.';
COMMENT ON COLUMN pacientes.activo IS 'False hides the patient from booking (transferred, lost to follow-up, deceased).';
COMMENT ON COLUMN pacientes.fallecido IS 'Deceased; true exactly when fecha_fallecimiento is set, and then activo must be false.';
COMMENT ON COLUMN pacientes.fecha_fallecimiento IS 'Date of death; set if and only if fallecido.';
COMMENT ON COLUMN pacientes.sede_registro_id IS 'Site where the patient was registered (for per-site KPIs); NULL if registered online.';
COMMENT ON COLUMN pacientes.creado_en IS 'When the row was created.';
COMMENT ON COLUMN pacientes.actualizado_en IS 'When the row was last updated (trigger).';

-- "Not in the future" depends on today, so it cannot be a CHECK.  The
-- trigger compares with today in UTC+14, the first zone to reach a new
-- date: no session time zone can then reject a date that is already
-- today for a site, while typos like 2062 are still caught.
CREATE FUNCTION pacientes_validar_fechas() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	hoy date := (now() AT TIME ZONE 'Etc/GMT-14')::date;
BEGIN
	IF NEW.fecha_nacimiento > hoy THEN
		RAISE EXCEPTION 'fecha_nacimiento % is in the future', NEW.fecha_nacimiento
		    USING ERRCODE = 'check_violation', CONSTRAINT = 'pacientes_fecha_nacimiento_pasada',
		          TABLE = 'pacientes', COLUMN = 'fecha_nacimiento';
	END IF;
	IF NEW.fecha_fallecimiento > hoy THEN
		RAISE EXCEPTION 'fecha_fallecimiento % is in the future', NEW.fecha_fallecimiento
		    USING ERRCODE = 'check_violation', CONSTRAINT = 'pacientes_fecha_fallecimiento_pasada',
		          TABLE = 'pacientes', COLUMN = 'fecha_fallecimiento';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION pacientes_validar_fechas() IS
	'Rejects birth or death dates after today (SQLSTATE 23514, constraints pacientes_fecha_nacimiento_pasada / pacientes_fecha_fallecimiento_pasada).';

CREATE TRIGGER pacientes_fechas BEFORE INSERT OR UPDATE OF fecha_nacimiento, fecha_fallecimiento ON pacientes
	FOR EACH ROW EXECUTE FUNCTION pacientes_validar_fechas();
CREATE TRIGGER pacientes_actualizado_en BEFORE UPDATE ON pacientes
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

CREATE TABLE paciente_pesos (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	paciente_id    bigint NOT NULL REFERENCES pacientes (id) ON DELETE CASCADE,
	peso_gramos    integer NOT NULL,
	medido_en      timestamptz NOT NULL DEFAULT now(),
	registrado_por bigint REFERENCES usuarios (id) ON DELETE SET NULL,
	creado_en      timestamptz NOT NULL DEFAULT now(),
	-- 300 kg covers giant dogs and the large animals of "otro".
	CONSTRAINT paciente_pesos_rango CHECK (peso_gramos > 0 AND peso_gramos <= 300000)
);
CREATE INDEX paciente_pesos_paciente ON paciente_pesos (paciente_id, medido_en DESC);
COMMENT ON TABLE paciente_pesos IS 'Weight history of a patient, one row per weighing; the latest by medido_en is the current weight (doses are computed from it).';
COMMENT ON COLUMN paciente_pesos.id IS 'Surrogate key.';
COMMENT ON COLUMN paciente_pesos.paciente_id IS 'The patient weighed.';
COMMENT ON COLUMN paciente_pesos.peso_gramos IS 'Weight in grams (integer, so a 35 g hamster and a 70 kg mastiff share one unit); 1 g to 300 kg.';
COMMENT ON COLUMN paciente_pesos.medido_en IS 'When the patient was weighed.';
COMMENT ON COLUMN paciente_pesos.registrado_por IS 'User who recorded the weight.';
COMMENT ON COLUMN paciente_pesos.creado_en IS 'When the row was created.';
