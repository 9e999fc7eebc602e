-- 0001: extensions, shared trigger functions, sites, users and their roles.
--
-- Conventions for every migration (see db/README.md): identifiers in
-- Spanish, comments in English; bigint identity keys; timestamptz for
-- instants; money as bigint céntimos; constraints named <table>_<rule>
-- so the API can map a violation (SQLSTATE + constraint name) to a
-- precise problem+json answer.  No BEGIN/COMMIT: the runner wraps each
-- file in one transaction.

-- btree_gist lets a GiST exclusion constraint mix scalar equality
-- (veterinario_id WITH =) with range overlap (periodo WITH &&).  It is a
-- trusted extension: the database owner may create it.
CREATE EXTENSION IF NOT EXISTS btree_gist;

CREATE FUNCTION fijar_actualizado_en() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	NEW.actualizado_en := now();
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION fijar_actualizado_en() IS
	'BEFORE UPDATE row trigger: stamps actualizado_en with the transaction time, so no writer can forget or forge it.';

-- Sites ---------------------------------------------------------------

CREATE TABLE sedes (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	codigo         text NOT NULL,
	nombre         text NOT NULL,
	ciudad         text NOT NULL,
	direccion      text NOT NULL,
	telefono       text,
	zona_horaria   text NOT NULL DEFAULT 'America/Lima',
	activa         boolean NOT NULL DEFAULT true,
	creado_en      timestamptz NOT NULL DEFAULT now(),
	actualizado_en timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT sedes_codigo_unico UNIQUE (codigo),
	CONSTRAINT sedes_codigo_formato CHECK (codigo ~ '^[A-Z]{3}-[0-9]{2,3}$'),
	CONSTRAINT sedes_nombre_valido CHECK (btrim(nombre) <> '' AND char_length(nombre) <= 120),
	CONSTRAINT sedes_ciudad_valida CHECK (btrim(ciudad) <> '' AND char_length(ciudad) <= 80),
	CONSTRAINT sedes_direccion_valida CHECK (btrim(direccion) <> '' AND char_length(direccion) <= 200),
	CONSTRAINT sedes_telefono_formato CHECK (telefono ~ '^\+51[0-9]{8,9}$')
);
COMMENT ON TABLE sedes IS 'A clinic (site) of the network. Sites are never deleted: set activa = false.';
COMMENT ON COLUMN sedes.id IS 'Surrogate key.';
COMMENT ON COLUMN sedes.codigo IS 'Stable short code, three upper-case letters of the city, dash, number: LIM-01, AQP-01.';
COMMENT ON COLUMN sedes.nombre IS 'Display name of the site.';
COMMENT ON COLUMN sedes.ciudad IS 'City the site is in (Lima, Arequipa, Cusco, ...).';
COMMENT ON COLUMN sedes.direccion IS 'Street address.';
COMMENT ON COLUMN sedes.telefono IS 'Site phone in E.164: +51 and 8 digits (landline with area code) or 9 (mobile).';
COMMENT ON COLUMN sedes.zona_horaria IS 'IANA time zone the site works in; agenda days and working hours are read in it. Validated against pg_timezone_names by trigger sedes_zona_horaria.';
COMMENT ON COLUMN sedes.activa IS 'False when the site is closed: no new appointments, history kept.';
COMMENT ON COLUMN sedes.creado_en IS 'When the row was created.';
COMMENT ON COLUMN sedes.actualizado_en IS 'When the row was last updated (trigger).';

-- A CHECK cannot validate a time zone: the only test is a lookup or a
-- conversion, neither of which is immutable.  A trigger runs only when
-- the column is written, which is exactly when the rule must hold.
CREATE FUNCTION sedes_validar_zona_horaria() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_timezone_names
	    WHERE name = NEW.zona_horaria) THEN
		RAISE EXCEPTION 'invalid time zone: %', NEW.zona_horaria
		    USING ERRCODE = 'check_violation',
		          CONSTRAINT = 'sedes_zona_horaria_valida',
		          TABLE = 'sedes', COLUMN = 'zona_horaria';
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION sedes_validar_zona_horaria() IS
	'Rejects a sedes.zona_horaria unknown to the server (SQLSTATE 23514, constraint sedes_zona_horaria_valida).';

CREATE TRIGGER sedes_zona_horaria BEFORE INSERT OR UPDATE OF zona_horaria ON sedes
	FOR EACH ROW EXECUTE FUNCTION sedes_validar_zona_horaria();
CREATE TRIGGER sedes_actualizado_en BEFORE UPDATE ON sedes
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

-- Users and roles -----------------------------------------------------

CREATE TABLE usuarios (
	id               bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email            text NOT NULL,
	nombre           text NOT NULL,
	password_hash    text,
	activo           boolean NOT NULL DEFAULT true,
	ultimo_acceso_en timestamptz,
	creado_en        timestamptz NOT NULL DEFAULT now(),
	actualizado_en   timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT usuarios_email_formato CHECK (char_length(email) <= 254
	    AND email ~ '^[^@[:space:]]+@[^@[:space:]]+\.[^@[:space:]]+$'),
	CONSTRAINT usuarios_nombre_valido CHECK (btrim(nombre) <> '' AND char_length(nombre) <= 160),
	CONSTRAINT usuarios_password_hash_no_vacio CHECK (btrim(password_hash) <> '')
);
-- citext is not a trusted extension: case-insensitive uniqueness comes
-- from an expression index.  Look users up with lower(email) = lower($1).
CREATE UNIQUE INDEX usuarios_email_unico ON usuarios (lower(email));
COMMENT ON TABLE usuarios IS 'A person who signs in (staff of any site). Deactivate with activo = false rather than delete: audit and clinical rows name them.';
COMMENT ON COLUMN usuarios.id IS 'Surrogate key.';
COMMENT ON COLUMN usuarios.email IS 'Sign-in name; unique regardless of case (index usuarios_email_unico on lower(email)). Stored as typed.';
COMMENT ON COLUMN usuarios.nombre IS 'Full name as shown in the UI.';
COMMENT ON COLUMN usuarios.password_hash IS 'Self-describing password hash (algorithm, parameters, salt, hash); NULL while no password is set (account cannot sign in with a password).';
COMMENT ON COLUMN usuarios.activo IS 'False blocks sign-in and token refresh.';
COMMENT ON COLUMN usuarios.ultimo_acceso_en IS 'Last successful sign-in, NULL if never.';
COMMENT ON COLUMN usuarios.creado_en IS 'When the row was created.';
COMMENT ON COLUMN usuarios.actualizado_en IS 'When the row was last updated (trigger).';

CREATE TRIGGER usuarios_actualizado_en BEFORE UPDATE ON usuarios
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

CREATE TABLE usuario_roles (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	usuario_id   bigint NOT NULL REFERENCES usuarios (id) ON DELETE CASCADE,
	sede_id      bigint REFERENCES sedes (id) ON DELETE CASCADE,
	rol          text NOT NULL,
	otorgado_por bigint REFERENCES usuarios (id) ON DELETE SET NULL,
	creado_en    timestamptz NOT NULL DEFAULT now(),
	-- NULLS NOT DISTINCT (PG15): one network-wide grant per user and role.
	CONSTRAINT usuario_roles_unico UNIQUE NULLS NOT DISTINCT (usuario_id, sede_id, rol),
	CONSTRAINT usuario_roles_rol_valido CHECK (rol IN
	    ('admin_red', 'admin_sede', 'veterinario', 'recepcion', 'farmacia', 'auditor')),
	CONSTRAINT usuario_roles_alcance_valido CHECK (
	    (rol <> 'admin_red' OR sede_id IS NULL) AND
	    (rol <> 'admin_sede' OR sede_id IS NOT NULL))
);
CREATE INDEX usuario_roles_sede ON usuario_roles (sede_id);
COMMENT ON TABLE usuario_roles IS 'RBAC grants: a user holds a role at one site, or network-wide. Rows are granted and revoked (inserted and deleted), never edited.';
COMMENT ON COLUMN usuario_roles.id IS 'Surrogate key.';
COMMENT ON COLUMN usuario_roles.usuario_id IS 'The user who holds the role.';
COMMENT ON COLUMN usuario_roles.sede_id IS 'Site the role applies to; NULL means every site of the network. admin_red is always network-wide, admin_sede always bound to a site.';
COMMENT ON COLUMN usuario_roles.rol IS 'admin_red, admin_sede, veterinario, recepcion, farmacia or auditor.';
COMMENT ON COLUMN usuario_roles.otorgado_por IS 'Administrator who granted the role; NULL for seeded or bootstrap grants.';
COMMENT ON COLUMN usuario_roles.creado_en IS 'When the role was granted.';
