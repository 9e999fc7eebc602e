-- pacientes.sql: owners and pets: the date rules, a patient's JSON,
-- registration (idempotent, refusing a duplicate pet) and its audited read.
--
-- Current definitions, run again by vetred-migrate whenever this file
-- changes (db/README.md): CREATE OR REPLACE only.

-- "Not in the future" depends on today, so it cannot be a CHECK.  The
-- trigger compares with today in UTC+14, the first zone to reach a new
-- date: no session time zone can then reject a date that is already
-- today for a site, while typos like 2062 are still caught.
CREATE OR REPLACE FUNCTION pacientes_validar_fechas() RETURNS trigger
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

CREATE OR REPLACE TRIGGER propietarios_actualizado_en BEFORE UPDATE ON propietarios
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

CREATE OR REPLACE TRIGGER pacientes_fechas BEFORE INSERT OR UPDATE OF fecha_nacimiento, fecha_fallecimiento ON pacientes
	FOR EACH ROW EXECUTE FUNCTION pacientes_validar_fechas();

CREATE OR REPLACE TRIGGER pacientes_actualizado_en BEFORE UPDATE ON pacientes
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

-- One patient as the API shows it, with its owner and latest weight.
CREATE OR REPLACE FUNCTION paciente_detalle(p_id bigint) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (
	SELECT jsonb_build_object(
	    'id', p.id, 'nombre', p.nombre, 'especie', p.especie, 'raza', p.raza,
	    'sexo', p.sexo, 'esterilizado', p.esterilizado,
	    'fecha_nacimiento', p.fecha_nacimiento, 'microchip', p.microchip,
	    'color', p.color, 'activo', p.activo, 'fallecido', p.fallecido,
	    'fecha_fallecimiento', p.fecha_fallecimiento,
	    'sede_registro_id', p.sede_registro_id,
	    'peso_gramos', (SELECT w.peso_gramos FROM paciente_pesos w
	        WHERE w.paciente_id = p.id ORDER BY w.medido_en DESC, w.id DESC LIMIT 1),
	    'creado_en', hora_local(p.creado_en, coalesce(s.zona_horaria, 'America/Lima')),
	    'propietario', jsonb_build_object(
	        'id', o.id, 'nombres', o.nombres, 'apellidos', o.apellidos,
	        'tipo_documento', o.tipo_documento,
	        'numero_documento', o.numero_documento,
	        'telefono', o.telefono, 'email', o.email, 'direccion', o.direccion))
	FROM pacientes p JOIN propietarios o ON o.id = p.propietario_id
	LEFT JOIN sedes s ON s.id = p.sede_registro_id
	WHERE p.id = p_id);
END
$$;
COMMENT ON FUNCTION paciente_detalle(bigint) IS
	'JSON of one patient with its owner and latest weight; NULL when absent.';

-- A pet's name as compared for duplicates: no case, no accents on vowels
-- (ñ stays a letter of its own), blanks collapsed.
CREATE OR REPLACE FUNCTION nombre_paciente_clave(p_nombre text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT lower(translate(btrim(regexp_replace(p_nombre, '\s+', ' ', 'g')),
	    'ÁÀÂÄÉÈÊËÍÌÎÏÓÒÔÖÚÙÛÜáàâäéèêëíìîïóòôöúùûü',
	    'AAAAEEEEIIIIOOOOUUUUaaaaeeeeiiiioooouuuu'))
$$;
COMMENT ON FUNCTION nombre_paciente_clave(text) IS
	'Name of a pet without case, vowel accents or extra blanks: "Firuláis " and "FIRULAIS" are the same pet.';

-- Registration finds an existing owner by documento_hmac.
CREATE OR REPLACE FUNCTION registrar_paciente(
	p_propietario bigint, p_prop jsonb, p_pac jsonb,
	p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	prop bigint := p_propietario;
	creado boolean := false;
	nuevo bigint;
	fila pacientes%ROWTYPE;
	cuerpo jsonb;
	sede bigint := (p_pac->>'sede_registro_id')::bigint;
BEGIN
	IF sede IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sedes WHERE id = sede) THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('sede_registro_id', 'la sede no existe')));
	END IF;
	IF prop IS NOT NULL THEN
		IF NOT EXISTS (SELECT 1 FROM propietarios WHERE id = prop) THEN
			RETURN veredicto('validacion', jsonb_build_object(
			    'detalle', 'Corrija los campos indicados.',
			    'errores', error_campo('propietario_id', 'el propietario no existe')));
		END IF;
	ELSE
		INSERT INTO propietarios (nombres, apellidos, tipo_documento,
		    numero_documento, documento_hmac, telefono, email, direccion,
		    sede_registro_id)
		VALUES (p_prop->>'nombres', p_prop->>'apellidos',
		    p_prop->>'tipo_documento', p_prop->>'numero_documento',
		    decode(p_prop->>'documento_hmac', 'hex'),
		    p_prop->>'telefono', p_prop->>'email', p_prop->>'direccion', sede)
		ON CONFLICT (tipo_documento, documento_hmac) DO NOTHING
		RETURNING id INTO prop;
		IF prop IS NULL THEN
			SELECT id INTO STRICT prop FROM propietarios
			WHERE tipo_documento = p_prop->>'tipo_documento'
			  AND documento_hmac = decode(p_prop->>'documento_hmac', 'hex');
		ELSE
			creado := true;
			PERFORM auditar(p_usuario, p_rol, sede, 'crear', 'propietarios',
			    prop::text, p_request_id, p_ip, NULL,
			    jsonb_build_object('id', prop, 'tipo_documento', p_prop->>'tipo_documento'));
		END IF;
	END IF;
	INSERT INTO pacientes (propietario_id, nombre, especie, raza, sexo,
	    esterilizado, fecha_nacimiento, microchip, color, alergias,
	    sede_registro_id)
	VALUES (prop, p_pac->>'nombre', p_pac->>'especie', p_pac->>'raza',
	    p_pac->>'sexo', coalesce((p_pac->>'esterilizado')::boolean, false),
	    (p_pac->>'fecha_nacimiento')::date, p_pac->>'microchip',
	    p_pac->>'color', p_pac->>'alergias', sede)
	RETURNING * INTO fila;
	nuevo := fila.id;
	IF p_pac ? 'peso_gramos' THEN
		INSERT INTO paciente_pesos (paciente_id, peso_gramos, registrado_por)
		VALUES (nuevo, (p_pac->>'peso_gramos')::int, p_usuario);
	END IF;
	cuerpo := paciente_detalle(nuevo) || jsonb_build_object('propietario_creado', creado);
	PERFORM auditar(p_usuario, p_rol, sede, 'crear', 'pacientes', nuevo::text,
	    p_request_id, p_ip, NULL, jsonb_build_object('id', nuevo,
	        'propietario_id', prop, 'especie', p_pac->>'especie'));
	PERFORM publicar('paciente.registrado', 'paciente', nuevo::text,
	    evento_paciente(fila, creado), p_request_id);
	RETURN veredicto('creado', jsonb_build_object('cuerpo', cuerpo));
END
$$;
COMMENT ON FUNCTION registrar_paciente(bigint, jsonb, jsonb, bigint, text, text, inet) IS
	'Registers a pet (and its owner when new) in one transaction, with audit and outbox.';

-- POST /api/v1/pacientes/registro with its guards; the registration itself
-- is registrar_paciente().  A success is kept for the key and answered
-- again (with "repetida"); a refusal is not kept.  p_clave/p_hash: the Idempotency-Key
-- and the SHA-256 of the body, or NULL; p_intencional: the client says a
-- second pet of that name, species and birth date is intended.
CREATE OR REPLACE FUNCTION registrar_paciente_unico(
	p_propietario bigint, p_prop jsonb, p_pac jsonb,
	p_usuario bigint, p_rol text, p_request_id text, p_ip inet,
	p_clave text, p_hash bytea, p_intencional boolean)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	v_ruta constant text := 'POST /api/v1/pacientes/registro';
	previa idempotencia_usuario%ROWTYPE;
	prop bigint := p_propietario;
	existente bigint;
	res jsonb;
BEGIN
	IF p_clave IS NOT NULL THEN
		INSERT INTO idempotencia_usuario (usuario_id, ruta, clave, hash_solicitud)
		VALUES (p_usuario, v_ruta, p_clave, p_hash)
		ON CONFLICT (usuario_id, ruta, clave) DO UPDATE
		    SET hash_solicitud = EXCLUDED.hash_solicitud, respuesta = NULL,
		        creado_en = now(), expira_en = now() + interval '24 hours'
		    WHERE idempotencia_usuario.expira_en <= now();
		IF NOT FOUND THEN
			SELECT * INTO previa FROM idempotencia_usuario i
			WHERE i.usuario_id = p_usuario AND i.ruta = v_ruta
			  AND i.clave = p_clave;
			IF previa.hash_solicitud <> p_hash THEN
				RETURN veredicto('idempotencia', jsonb_build_object(
				    'detalle', 'Esta Idempotency-Key ya se usó con otra solicitud.',
				    'errores', error_campo('Idempotency-Key', 'ya usada con otro cuerpo')));
			END IF;
			RETURN previa.respuesta || jsonb_build_object('repetida', true);
		END IF;
	END IF;

	-- The owner: by id, or by document when already registered.
	IF prop IS NULL THEN
		PERFORM pg_advisory_xact_lock(hashtextextended('vetred.registro:'
		    || (p_prop->>'tipo_documento') || ':' || (p_prop->>'documento_hmac'), 0));
		SELECT id INTO prop FROM propietarios
		WHERE tipo_documento = p_prop->>'tipo_documento'
		  AND documento_hmac = decode(p_prop->>'documento_hmac', 'hex');
	END IF;
	IF prop IS NOT NULL AND NOT coalesce(p_intencional, false) THEN
		PERFORM 1 FROM propietarios WHERE id = prop FOR NO KEY UPDATE;
		SELECT p.id INTO existente FROM pacientes p
		WHERE p.propietario_id = prop AND p.activo
		  AND p.especie = p_pac->>'especie'
		  AND p.fecha_nacimiento IS NOT DISTINCT FROM (p_pac->>'fecha_nacimiento')::date
		  AND nombre_paciente_clave(p.nombre) = nombre_paciente_clave(p_pac->>'nombre')
		ORDER BY p.id LIMIT 1;
		IF existente IS NOT NULL THEN
			res := veredicto('paciente-existente', jsonb_build_object(
			    'detalle', format('El propietario ya tiene el paciente %s con ese '
			        'nombre, especie y fecha de nacimiento; si es otro, envíe '
			        '"duplicado_intencional": true.', existente),
			    'errores', error_campo('nombre', 'el propietario ya tiene un '
			        'paciente con este nombre, especie y fecha de nacimiento'),
			    'paciente_existente', jsonb_build_object('id', existente,
			        'propietario_id', prop)));
		END IF;
	END IF;
	IF res IS NULL THEN
		res := registrar_paciente(p_propietario, p_prop, p_pac, p_usuario,
		    p_rol, p_request_id, p_ip);
	END IF;

	IF p_clave IS NOT NULL THEN
		IF res->>'codigo' = 'creado' THEN
			UPDATE idempotencia_usuario i SET respuesta = res
			WHERE i.usuario_id = p_usuario AND i.ruta = v_ruta
			  AND i.clave = p_clave;
		ELSE
			DELETE FROM idempotencia_usuario i
			WHERE i.usuario_id = p_usuario AND i.ruta = v_ruta
			  AND i.clave = p_clave;
		END IF;
	END IF;
	RETURN res;
END
$$;
COMMENT ON FUNCTION registrar_paciente_unico(bigint, jsonb, jsonb, bigint, text, text, inet, text, bytea, boolean) IS
	'Registers a patient (registrar_paciente) at most once per Idempotency-Key of a user, refusing a second live patient of the same owner, name, species and birth date unless intended.';

-- GET /api/v1/pacientes/{id} and /historial: the read and its audit row
-- in one transaction (nothing is shown that was not recorded).
CREATE OR REPLACE FUNCTION leer_paciente(p_id bigint, p_usuario bigint, p_rol text,
    p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	p jsonb := paciente_detalle(p_id);
BEGIN
	IF p IS NOT NULL THEN
		PERFORM auditar(p_usuario, p_rol, NULL, 'leer', 'pacientes',
		    p_id::text, p_request_id, p_ip, NULL, NULL);
	END IF;
	RETURN p;
END
$$;
COMMENT ON FUNCTION leer_paciente(bigint, bigint, text, text, inet) IS
	'paciente_detalle() with an audit row (accion leer) when the patient exists.';
