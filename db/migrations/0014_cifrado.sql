-- 0014: the owners' personal data encrypted at rest.
--
-- numero_documento, telefono, email and direccion of propietarios hold
-- AES-256-GCM sealed text written by the API (lib/cifra.c:
-- "v1:<key id>:<nonce>:<ciphertext>"); the database never sees the plain
-- values or the keys.  Their formats are checked by the API before
-- sealing, so the format CHECKs go; uniqueness and search by document
-- move to documento_hmac, the HMAC-SHA256 of the number under the search
-- key.  Rows written before this migration are sealed (and their
-- documento_hmac filled) by vetred-admin cifrar, which also re-seals rows
-- under the newest key after a rotation, in batches, while the API runs.

ALTER TABLE propietarios
	DROP CONSTRAINT propietarios_documento_unico,
	DROP CONSTRAINT propietarios_numero_documento_formato,
	DROP CONSTRAINT propietarios_telefono_formato,
	DROP CONSTRAINT propietarios_email_formato,
	DROP CONSTRAINT propietarios_direccion_valida,
	ADD COLUMN documento_hmac bytea,
	ADD CONSTRAINT propietarios_documento_hmac_sha256 CHECK (octet_length(documento_hmac) = 32),
	ADD CONSTRAINT propietarios_cifrado CHECK (
	    (numero_documento LIKE 'v1:%') = (documento_hmac IS NOT NULL)
	    AND (numero_documento NOT LIKE 'v1:%' OR telefono LIKE 'v1:%')),
	ADD CONSTRAINT propietarios_documento_unico UNIQUE (tipo_documento, documento_hmac);
-- A phone number is no longer searchable as such.
DROP INDEX propietarios_telefono;
COMMENT ON COLUMN propietarios.numero_documento IS 'Document number, sealed (AES-256-GCM, "v1:kid:nonce:ciphertext"); plain DNI 8 digits or CE 9-12 letters/digits only until vetred-admin cifrar has run.';
COMMENT ON COLUMN propietarios.telefono IS 'Mobile phone (+51 and 9 digits), sealed like numero_documento.';
COMMENT ON COLUMN propietarios.email IS 'E-mail, sealed like numero_documento; optional.';
COMMENT ON COLUMN propietarios.direccion IS 'Home address, sealed like numero_documento; optional.';
COMMENT ON COLUMN propietarios.documento_hmac IS 'HMAC-SHA256 of the plain document number under the search key: finds the owner and keeps (tipo_documento, document) unique; NULL until sealed.';

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
	cuerpo jsonb;
	sede bigint := (p_pac->>'sede_registro_id')::bigint;
BEGIN
	IF sede IS NOT NULL AND NOT EXISTS (SELECT 1 FROM sedes WHERE id = sede) THEN
		RETURN jsonb_build_object('estado', 422, 'tipo', 'validacion',
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('sede_registro_id', 'la sede no existe'));
	END IF;
	IF prop IS NOT NULL THEN
		IF NOT EXISTS (SELECT 1 FROM propietarios WHERE id = prop) THEN
			RETURN jsonb_build_object('estado', 422, 'tipo', 'validacion',
			    'detalle', 'Corrija los campos indicados.',
			    'errores', error_campo('propietario_id', 'el propietario no existe'));
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
	RETURNING id INTO nuevo;
	IF p_pac ? 'peso_gramos' THEN
		INSERT INTO paciente_pesos (paciente_id, peso_gramos, registrado_por)
		VALUES (nuevo, (p_pac->>'peso_gramos')::int, p_usuario);
	END IF;
	cuerpo := paciente_detalle(nuevo) || jsonb_build_object('propietario_creado', creado);
	PERFORM auditar(p_usuario, p_rol, sede, 'crear', 'pacientes', nuevo::text,
	    p_request_id, p_ip, NULL, jsonb_build_object('id', nuevo,
	        'propietario_id', prop, 'especie', p_pac->>'especie'));
	PERFORM publicar('paciente.registrado', 'paciente', nuevo::text,
	    jsonb_build_object('paciente_id', nuevo, 'propietario_id', prop,
	        'propietario_creado', creado, 'especie', p_pac->>'especie',
	        'fecha_nacimiento', p_pac->>'fecha_nacimiento'));
	RETURN jsonb_build_object('estado', 201, 'cuerpo', cuerpo);
END
$$;
