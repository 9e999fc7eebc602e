-- sedes.sql: sites: the time-zone rule, their JSON, creating one.
--
-- Current definitions, run again by vetred-migrate whenever this file
-- changes (db/README.md): CREATE OR REPLACE only.

-- A CHECK cannot validate a time zone: the only test is a lookup or a
-- conversion, neither of which is immutable.  A trigger runs only when
-- the column is written, which is exactly when the rule must hold.
CREATE OR REPLACE FUNCTION sedes_validar_zona_horaria() RETURNS trigger
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

CREATE OR REPLACE TRIGGER sedes_zona_horaria BEFORE INSERT OR UPDATE OF zona_horaria ON sedes
	FOR EACH ROW EXECUTE FUNCTION sedes_validar_zona_horaria();

CREATE OR REPLACE TRIGGER sedes_actualizado_en BEFORE UPDATE ON sedes
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

CREATE OR REPLACE FUNCTION sede_json(s sedes) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT jsonb_build_object('id', s.id, 'codigo', s.codigo, 'nombre', s.nombre,
	    'ciudad', s.ciudad, 'direccion', s.direccion, 'telefono', s.telefono,
	    'zona_horaria', s.zona_horaria, 'activa', s.activa,
	    'abre_en_feriados', s.abre_en_feriados,
	    'creado_en', hora_local(s.creado_en, s.zona_horaria),
	    'actualizado_en', hora_local(s.actualizado_en, s.zona_horaria))
$$;
COMMENT ON FUNCTION sede_json(sedes) IS
	'JSON of one site from its row, times in its own zone; inlined by the planner.';

CREATE OR REPLACE FUNCTION sede_json(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT sede_json(s) FROM sedes s WHERE s.id = p_id
$$;
COMMENT ON FUNCTION sede_json(bigint) IS
	'JSON of one site by id (sede_json(sedes)); NULL when absent.';

DROP FUNCTION IF EXISTS crear_sede(text, text, text, text, text, text, bigint, text, text, inet);
CREATE OR REPLACE FUNCTION crear_sede(
	p_codigo text, p_nombre text, p_ciudad text, p_direccion text,
	p_telefono text, p_zona text, p_abre_en_feriados boolean,
	p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	nuevo bigint;
	fila sedes%ROWTYPE;
	cuerpo jsonb;
BEGIN
	INSERT INTO sedes (codigo, nombre, ciudad, direccion, telefono, zona_horaria,
	    abre_en_feriados)
	VALUES (p_codigo, p_nombre, p_ciudad, p_direccion, p_telefono,
	    coalesce(p_zona, 'America/Lima'), p_abre_en_feriados)
	ON CONFLICT (codigo) DO NOTHING
	RETURNING * INTO fila;
	nuevo := fila.id;
	IF nuevo IS NULL THEN
		RETURN veredicto('conflicto', jsonb_build_object(
		    'detalle', 'Ya existe una sede con ese código.',
		    'errores', error_campo('codigo', 'ya existe una sede con ese código')));
	END IF;
	cuerpo := sede_json(nuevo);
	PERFORM auditar(p_usuario, p_rol, nuevo, 'crear', 'sedes', nuevo::text,
	    p_request_id, p_ip, NULL, cuerpo);
	PERFORM publicar('sede.creada', 'sede', nuevo::text,
	    evento_sede(fila), p_request_id);
	RETURN veredicto('creado', jsonb_build_object('cuerpo', cuerpo));
END
$$;
COMMENT ON FUNCTION crear_sede(text, text, text, text, text, text, boolean, bigint, text, text, inet) IS
	'Creates a site in one transaction, with audit and outbox: verdict creado, or conflicto when the code is taken.';
