-- 0020: a patient registration sent twice registers one patient.
--
-- POST /api/v1/pacientes/registro sent twice (a retry after a timeout, a
-- double click) created two patients for the same owner.  Two guards, in
-- the registration's own transaction:
--   * Idempotency-Key, as booking has it, but scoped per user and route
--     from the start (idempotencia_usuario): the same key with the same
--     body answers the first answer again, with another body 422; another
--     user's key of the same text is that user's own.  Only a success is
--     remembered: a refused registration keeps no key, so that nothing is
--     written when the API refuses.
--   * A second live patient (activo) of the same owner with the same name
--     (without case, accents or extra spaces), species and birth date is
--     refused with 409 naming the one registered, unless the client says
--     it is intended (twins of a litter named alike, say).
-- Registrations of one owner are serialised (the owner's row lock, or a
-- transaction lock on the document of an owner not registered yet) so that
-- two requests at once cannot both pass the check.

CREATE TABLE idempotencia_usuario (
	usuario_id       bigint NOT NULL,
	ruta             text NOT NULL,
	clave            text NOT NULL,
	hash_solicitud   bytea NOT NULL,
	respuesta        jsonb,
	creado_en        timestamptz NOT NULL DEFAULT now(),
	expira_en        timestamptz NOT NULL DEFAULT now() + interval '24 hours',
	PRIMARY KEY (usuario_id, ruta, clave),
	CONSTRAINT idempotencia_usuario_ruta_valida CHECK (ruta ~ '^[A-Z]+ /[!-~]{1,200}$'),
	CONSTRAINT idempotencia_usuario_clave_formato CHECK (clave ~ '^[!-~]{1,255}$'),
	CONSTRAINT idempotencia_usuario_hash_sha256 CHECK (octet_length(hash_solicitud) = 32),
	CONSTRAINT idempotencia_usuario_expira_despues CHECK (expira_en > creado_en)
);
CREATE INDEX idempotencia_usuario_expira ON idempotencia_usuario (expira_en);
COMMENT ON TABLE idempotencia_usuario IS 'Answers remembered per user, route and Idempotency-Key, so that a retried POST is answered once; a row past expira_en is reused by the next request with its key.';
COMMENT ON COLUMN idempotencia_usuario.usuario_id IS 'User who sent the request (from the access token; no foreign key: the row outlives nothing, it expires in a day).';
COMMENT ON COLUMN idempotencia_usuario.ruta IS 'Method and route pattern, e.g. ''POST /api/v1/pacientes/registro'': a key means something on one route only.';
COMMENT ON COLUMN idempotencia_usuario.clave IS 'Idempotency-Key header as sent: 1 to 255 printable ASCII characters.';
COMMENT ON COLUMN idempotencia_usuario.hash_solicitud IS 'SHA-256 of the request body: the same key with another body is refused (422).';
COMMENT ON COLUMN idempotencia_usuario.respuesta IS 'The verdict answered ({estado, cuerpo}), replayed as is; NULL only inside the first request''s transaction.';
COMMENT ON COLUMN idempotencia_usuario.creado_en IS 'When the key was first seen.';
COMMENT ON COLUMN idempotencia_usuario.expira_en IS 'After this instant the key may be used again for a new request.';

-- A pet's name as compared for duplicates: no case, no accents on vowels
-- (ñ stays a letter of its own), blanks collapsed.
CREATE FUNCTION nombre_paciente_clave(p_nombre text) RETURNS text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT lower(translate(btrim(regexp_replace(p_nombre, '\s+', ' ', 'g')),
	    'ÁÀÂÄÉÈÊËÍÌÎÏÓÒÔÖÚÙÛÜáàâäéèêëíìîïóòôöúùûü',
	    'AAAAEEEEIIIIOOOOUUUUaaaaeeeeiiiioooouuuu'))
$$;
COMMENT ON FUNCTION nombre_paciente_clave(text) IS
	'Name of a pet without case, vowel accents or extra blanks: "Firuláis " and "FIRULAIS" are the same pet.';

-- POST /api/v1/pacientes/registro with its guards; the registration itself
-- is registrar_paciente(), unchanged.  p_clave/p_hash: the Idempotency-Key
-- and the SHA-256 of the body, or NULL; p_intencional: the client says a
-- second pet of that name, species and birth date is intended.
CREATE FUNCTION registrar_paciente_unico(
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
				RETURN jsonb_build_object('estado', 422,
				    'tipo', 'idempotencia',
				    'detalle', 'Esta Idempotency-Key ya se usó con otra solicitud.',
				    'errores', error_campo('Idempotency-Key', 'ya usada con otro cuerpo'));
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
			res := jsonb_build_object('estado', 409,
			    'tipo', 'paciente-existente',
			    'detalle', format('El propietario ya tiene el paciente %s con ese '
			        'nombre, especie y fecha de nacimiento; si es otro, envíe '
			        '"duplicado_intencional": true.', existente),
			    'errores', error_campo('nombre', 'el propietario ya tiene un '
			        'paciente con este nombre, especie y fecha de nacimiento'),
			    'paciente_existente', jsonb_build_object('id', existente,
			        'propietario_id', prop));
		END IF;
	END IF;
	IF res IS NULL THEN
		res := registrar_paciente(p_propietario, p_prop, p_pac, p_usuario,
		    p_rol, p_request_id, p_ip);
	END IF;

	IF p_clave IS NOT NULL THEN
		IF (res->>'estado')::int < 300 THEN
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
