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
	    'causa_fallecimiento', p.causa_fallecimiento,
	    'alergias', p.alergias,
	    'sede_registro_id', p.sede_registro_id, 'version', p.version,
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
		-- A merged owner's id stands for the owner kept.
		prop := propietario_vigente(prop);
		IF prop IS NULL THEN
			RETURN veredicto('validacion', jsonb_build_object(
			    'detalle', 'Corrija los campos indicados.',
			    'errores', error_campo('propietario_id', 'el propietario no existe')));
		END IF;
	ELSE
		INSERT INTO propietarios (nombres, apellidos, tipo_documento,
		    numero_documento, documento_hmac, telefono, telefono_hmac, email,
		    direccion, sede_registro_id)
		VALUES (p_prop->>'nombres', p_prop->>'apellidos',
		    p_prop->>'tipo_documento', p_prop->>'numero_documento',
		    decode(p_prop->>'documento_hmac', 'hex'),
		    p_prop->>'telefono', decode(p_prop->>'telefono_hmac', 'hex'),
		    p_prop->>'email', p_prop->>'direccion', sede)
		ON CONFLICT (tipo_documento, documento_hmac) DO NOTHING
		RETURNING id INTO prop;
		IF prop IS NULL THEN
			SELECT propietario_vigente(id) INTO STRICT prop FROM propietarios
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
		SELECT propietario_vigente(id) INTO prop FROM propietarios
		WHERE tipo_documento = p_prop->>'tipo_documento'
		  AND documento_hmac = decode(p_prop->>'documento_hmac', 'hex');
	ELSE
		prop := propietario_vigente(prop);
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

CREATE OR REPLACE FUNCTION evento_paciente_cambio(p pacientes, p_extra jsonb)
RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT jsonb_build_object('paciente_id', p.id,
	    'propietario_id', p.propietario_id, 'especie', p.especie,
	    'activo', p.activo, 'fallecido', p.fallecido, 'version', p.version)
	    || coalesce(p_extra, '{}')
$$;
COMMENT ON FUNCTION evento_paciente_cambio(pacientes, jsonb) IS
	'Payload of paciente.actualizado, paciente.fallecido and paciente.transferido (db/eventos/paciente.*.v1.json), with p_extra''s members.';

-- What a patient's audit row and change event compare: the stored row
-- without the stamps.
CREATE OR REPLACE FUNCTION paciente_hechos(p pacientes) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT to_jsonb(p) - 'actualizado_en' - 'creado_en'
$$;
COMMENT ON FUNCTION paciente_hechos(pacientes) IS
	'The row of a patient as its audit rows keep it (without the time stamps).';

-- PUT /api/v1/pacientes/{id}: p_cambios holds the members to change,
-- validated (and alergias sealed) by the API; a null member clears an
-- optional field.  A deceased patient cannot be made active again.
CREATE OR REPLACE FUNCTION actualizar_paciente(p_id bigint, p_cambios jsonb,
    p_version integer, p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	p pacientes%ROWTYPE;
	antes jsonb;
	despues jsonb;
	cambios jsonb;
BEGIN
	SELECT * INTO p FROM pacientes WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'El paciente no existe.'));
	END IF;
	IF p_version IS NOT NULL AND p_version <> p.version THEN
		RETURN version_distinta('El paciente', p.version, p_version);
	END IF;
	IF p.fallecido AND (p_cambios->>'activo')::boolean THEN
		RETURN veredicto('conflicto', jsonb_build_object(
		    'detalle', 'Un paciente fallecido no vuelve a estar activo.',
		    'errores', error_campo('activo', 'el paciente falleció')));
	END IF;
	IF p_cambios ? 'microchip' AND p_cambios->>'microchip' IS NOT NULL
	   AND EXISTS (SELECT 1 FROM pacientes WHERE microchip = p_cambios->>'microchip'
	               AND id <> p_id) THEN
		RETURN veredicto('conflicto', jsonb_build_object(
		    'detalle', 'El microchip ya está registrado en otro paciente.',
		    'errores', error_campo('microchip', 'ya registrado')));
	END IF;
	antes := paciente_hechos(p);
	UPDATE pacientes SET
	    nombre = coalesce(p_cambios->>'nombre', nombre),
	    especie = coalesce(p_cambios->>'especie', especie),
	    raza = CASE WHEN p_cambios ? 'raza' THEN p_cambios->>'raza' ELSE raza END,
	    sexo = CASE WHEN p_cambios ? 'sexo' THEN p_cambios->>'sexo' ELSE sexo END,
	    esterilizado = coalesce((p_cambios->>'esterilizado')::boolean, esterilizado),
	    fecha_nacimiento = CASE WHEN p_cambios ? 'fecha_nacimiento'
	        THEN (p_cambios->>'fecha_nacimiento')::date ELSE fecha_nacimiento END,
	    microchip = CASE WHEN p_cambios ? 'microchip' THEN p_cambios->>'microchip' ELSE microchip END,
	    color = CASE WHEN p_cambios ? 'color' THEN p_cambios->>'color' ELSE color END,
	    alergias = CASE WHEN p_cambios ? 'alergias' THEN p_cambios->>'alergias' ELSE alergias END,
	    activo = coalesce((p_cambios->>'activo')::boolean, activo),
	    version = version + 1
	WHERE id = p_id
	RETURNING * INTO p;
	despues := paciente_hechos(p);
	SELECT coalesce(jsonb_agg(k ORDER BY k), '[]') INTO cambios
	FROM jsonb_object_keys(antes) k
	WHERE antes->k IS DISTINCT FROM despues->k AND k <> 'version';
	PERFORM auditar(p_usuario, p_rol, NULL, 'modificar', 'pacientes', p_id::text,
	    p_request_id, p_ip, antes, despues);
	PERFORM publicar('paciente.actualizado', 'paciente', p_id::text,
	    evento_paciente_cambio(p, jsonb_build_object('cambios', cambios)), p_request_id);
	RETURN veredicto('hecho', jsonb_build_object('cuerpo', paciente_detalle(p_id)));
END
$$;
COMMENT ON FUNCTION actualizar_paciente(bigint, jsonb, integer, bigint, text, text, inet) IS
	'Changes a patient''s own fields (If-Match version); audited, with paciente.actualizado naming the fields changed.';

-- POST /api/v1/pacientes/{id}/fallecimiento: the patient is marked
-- deceased and inactive, and its live future appointments are cancelled
-- (each with its audit row and cita.cancelada), in one transaction.
CREATE OR REPLACE FUNCTION registrar_fallecimiento(p_id bigint, p_fecha date,
    p_causa text, p_version integer,
    p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	p pacientes%ROWTYPE;
	antes jsonb;
	canceladas jsonb := '[]';
	c record;
	cd jsonb;
	hoy date := (now() AT TIME ZONE 'Etc/GMT-14')::date;
BEGIN
	SELECT * INTO p FROM pacientes WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'El paciente no existe.'));
	END IF;
	IF p_version IS NOT NULL AND p_version <> p.version THEN
		RETURN version_distinta('El paciente', p.version, p_version);
	END IF;
	IF p.fallecido THEN
		RETURN veredicto('conflicto', jsonb_build_object(
		    'detalle', 'El paciente ya figura como fallecido (' || p.fecha_fallecimiento || ').'));
	END IF;
	IF p_fecha > hoy OR p_fecha < p.fecha_nacimiento THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('fecha', CASE WHEN p_fecha > hoy
		        THEN 'no puede ser futura' ELSE 'es anterior al nacimiento' END)));
	END IF;
	antes := paciente_hechos(p);
	UPDATE pacientes SET fallecido = true, fecha_fallecimiento = p_fecha,
	    causa_fallecimiento = p_causa, activo = false, version = version + 1
	WHERE id = p_id
	RETURNING * INTO p;
	FOR c IN SELECT id FROM citas
	    WHERE paciente_id = p_id AND estado IN ('reservada', 'confirmada')
	      AND lower(periodo) > now()
	    ORDER BY lower(periodo), id FOR UPDATE
	LOOP
		cd := cancelar_cita(c.id, 'Paciente fallecido', p_usuario, p_rol,
		    p_request_id, p_ip);
		canceladas := canceladas || to_jsonb(c.id);
	END LOOP;
	PERFORM auditar(p_usuario, p_rol, NULL, 'fallecimiento', 'pacientes', p_id::text,
	    p_request_id, p_ip, antes, paciente_hechos(p));
	PERFORM publicar('paciente.fallecido', 'paciente', p_id::text,
	    evento_paciente_cambio(p, jsonb_build_object('fecha_fallecimiento', p_fecha,
	        'citas_canceladas', canceladas)), p_request_id);
	RETURN veredicto('hecho', jsonb_build_object('cuerpo', paciente_detalle(p_id)
	    || jsonb_build_object('citas_canceladas', canceladas)));
END
$$;
COMMENT ON FUNCTION registrar_fallecimiento(bigint, date, text, integer, bigint, text, text, inet) IS
	'Marks a patient deceased (date not in the future nor before birth), cancels its future live appointments; audited, with paciente.fallecido and a cita.cancelada per appointment.';

-- POST /api/v1/pacientes/{id}/transferencia {propietario_id}: a new
-- owner (a merged id stands for the owner kept).  The appointments'
-- documents follow (pacientes_citas_documento).
CREATE OR REPLACE FUNCTION transferir_paciente(p_id bigint, p_propietario bigint,
    p_version integer, p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	p pacientes%ROWTYPE;
	antes jsonb;
	nuevo bigint := propietario_vigente(p_propietario);
	anterior bigint;
BEGIN
	SELECT * INTO p FROM pacientes WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'El paciente no existe.'));
	END IF;
	IF nuevo IS NULL THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('propietario_id', 'el propietario no existe')));
	END IF;
	IF p_version IS NOT NULL AND p_version <> p.version THEN
		RETURN version_distinta('El paciente', p.version, p_version);
	END IF;
	IF nuevo = p.propietario_id THEN
		RETURN veredicto('conflicto', jsonb_build_object(
		    'detalle', 'El paciente ya es de ese propietario.',
		    'errores', error_campo('propietario_id', 'ya es el propietario')));
	END IF;
	anterior := p.propietario_id;
	antes := paciente_hechos(p);
	UPDATE pacientes SET propietario_id = nuevo, version = version + 1
	WHERE id = p_id
	RETURNING * INTO p;
	PERFORM auditar(p_usuario, p_rol, NULL, 'transferir', 'pacientes', p_id::text,
	    p_request_id, p_ip, antes, paciente_hechos(p));
	PERFORM publicar('paciente.transferido', 'paciente', p_id::text,
	    evento_paciente_cambio(p, jsonb_build_object('propietario_anterior_id', anterior)),
	    p_request_id);
	RETURN veredicto('hecho', jsonb_build_object('cuerpo', paciente_detalle(p_id)));
END
$$;
COMMENT ON FUNCTION transferir_paciente(bigint, bigint, integer, bigint, text, text, inet) IS
	'Gives a patient to another owner; audited, with paciente.transferido.';

-- POST /api/v1/pacientes/{id}/pesos: one weighing (not in the future,
-- not after death).  The series is in GET .../pesos and the timeline.
CREATE OR REPLACE FUNCTION registrar_peso(p_id bigint, p_gramos integer,
    p_medido timestamptz, p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	p pacientes%ROWTYPE;
	w paciente_pesos%ROWTYPE;
	cuando timestamptz := coalesce(p_medido, now());
BEGIN
	SELECT * INTO p FROM pacientes WHERE id = p_id FOR SHARE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'El paciente no existe.'));
	END IF;
	IF cuando > now() + interval '5 minutes' THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('medido_en', 'no puede ser futura')));
	END IF;
	IF (p.fecha_nacimiento IS NOT NULL AND cuando < p.fecha_nacimiento::timestamp AT TIME ZONE 'Etc/GMT-14')
	   OR (p.fallecido AND cuando >= (p.fecha_fallecimiento + 1)::timestamp AT TIME ZONE 'Etc/GMT+12') THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('medido_en', 'fuera de la vida del paciente')));
	END IF;
	INSERT INTO paciente_pesos (paciente_id, peso_gramos, medido_en, registrado_por)
	VALUES (p_id, p_gramos, cuando, p_usuario)
	RETURNING * INTO w;
	PERFORM auditar(p_usuario, p_rol, NULL, 'crear', 'paciente_pesos', w.id::text,
	    p_request_id, p_ip, NULL, jsonb_build_object('paciente_id', p_id,
	        'peso_gramos', p_gramos, 'medido_en', cuando));
	RETURN veredicto('creado', jsonb_build_object('cuerpo', jsonb_build_object(
	    'id', w.id, 'paciente_id', p_id, 'peso_gramos', w.peso_gramos,
	    'medido_en', hora_local(w.medido_en, NULL))));
END
$$;
COMMENT ON FUNCTION registrar_peso(bigint, integer, timestamptz, bigint, text, text, inet) IS
	'Records one weighing of a patient (not in the future, within its life); audited.';

-- GET /api/v1/pacientes/{id}/pesos: the series, oldest first (the last
-- p_limite weighings).
CREATE OR REPLACE FUNCTION listar_pesos(p_id bigint, p_limite integer) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('paciente_id', p.id, 'elementos', coalesce((
	    SELECT jsonb_agg(jsonb_build_object('id', w.id, 'peso_gramos', w.peso_gramos,
	        'medido_en', hora_local(w.medido_en, NULL)) ORDER BY w.medido_en, w.id)
	    FROM (SELECT * FROM paciente_pesos x WHERE x.paciente_id = p.id
	          ORDER BY x.medido_en DESC, x.id DESC LIMIT p_limite) w), '[]'))
	FROM pacientes p WHERE p.id = p_id
$$;
COMMENT ON FUNCTION listar_pesos(bigint, integer) IS
	'The last p_limite weighings of a patient, oldest first; NULL when the patient does not exist.';
