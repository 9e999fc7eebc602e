-- 0019: idempotency keys per user and route; no orphan accounts.
--
-- Idempotency keys were unique in one scope for every caller
-- ('citas.reservar'): a key another user had sent answered 422, or with
-- the same bytes replayed that user's appointment.  The scope is now the
-- user and the route, as idempotencia.ambito was meant to hold ('u:42
-- POST /api/v1/citas/reservar'); keys already stored move to their
-- sender's scope, so a retry across the upgrade is still answered once.
--
-- A site administrator could create an account without roles, or leave
-- one without any through PUT: nobody but a network administrator sees
-- such an account again.  Both are refused now (422), for site
-- administrators only.
--
-- Functions re-created here (bodies as in 0007 and 0011 but for the
-- lines marked 0019): reservar_cita, crear_usuario, actualizar_usuario.

UPDATE idempotencia
SET ambito = 'u:' || usuario_id || ' POST /api/v1/citas/reservar'
WHERE ambito = 'citas.reservar' AND usuario_id IS NOT NULL;

CREATE OR REPLACE FUNCTION reservar_cita(
	p_paciente bigint, p_veterinario bigint, p_sede bigint,
	p_consultorio bigint, p_inicio timestamptz, p_fin timestamptz,
	p_motivo text, p_tipo text,
	p_usuario bigint, p_rol text, p_request_id text, p_ip inet,
	p_clave text, p_hash bytea)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	previa idempotencia%ROWTYPE;
	res jsonb;
	nuevo bigint;
	cuerpo jsonb;
	-- 0019: the key's scope is the user and the route.
	ambito_clave text := 'u:' || coalesce(p_usuario::text, '-')
	    || ' POST /api/v1/citas/reservar';
BEGIN
	IF p_clave IS NOT NULL THEN
		INSERT INTO idempotencia (ambito, clave, usuario_id, hash_solicitud)
		VALUES (ambito_clave, p_clave, p_usuario, p_hash)
		ON CONFLICT (ambito, clave) DO UPDATE
		    SET hash_solicitud = EXCLUDED.hash_solicitud,
		        usuario_id = EXCLUDED.usuario_id,
		        respuesta_estado = NULL, respuesta_cuerpo = NULL,
		        creado_en = now(), expira_en = now() + interval '24 hours'
		    WHERE idempotencia.expira_en <= now();
		IF NOT FOUND THEN
			SELECT * INTO previa FROM idempotencia
			WHERE ambito = ambito_clave AND clave = p_clave;
			IF previa.hash_solicitud <> p_hash THEN
				RETURN jsonb_build_object('estado', 422,
				    'tipo', 'idempotencia',
				    'detalle', 'Esta Idempotency-Key ya se usó con otra solicitud.',
				    'errores', error_campo('Idempotency-Key', 'ya usada con otro cuerpo'));
			END IF;
			RETURN previa.respuesta_cuerpo || jsonb_build_object('repetida', true);
		END IF;
	END IF;

	res := cita_validar(p_paciente, p_veterinario, p_sede, p_consultorio,
	    p_inicio, p_fin, p_tipo);
	IF res IS NULL THEN
		INSERT INTO citas (sede_id, veterinario_id, consultorio_id, paciente_id,
		    periodo, motivo, tipo, creado_por, actualizado_por)
		VALUES (p_sede, p_veterinario, p_consultorio, p_paciente,
		    tstzrange(p_inicio, p_fin), p_motivo, p_tipo, p_usuario, p_usuario)
		ON CONFLICT DO NOTHING
		RETURNING id INTO nuevo;
		IF nuevo IS NULL THEN
			res := cita_conflicto(p_veterinario, p_consultorio, p_paciente,
			    p_inicio, p_fin, NULL);
		ELSE
			cuerpo := cita_detalle(nuevo);
			PERFORM auditar(p_usuario, p_rol, p_sede, 'crear', 'citas',
			    nuevo::text, p_request_id, p_ip, NULL, cuerpo);
			PERFORM publicar('cita.reservada', 'cita', nuevo::text, cuerpo);
			res := jsonb_build_object('estado', 201, 'cuerpo', cuerpo);
		END IF;
	END IF;
	IF p_clave IS NOT NULL THEN
		UPDATE idempotencia SET respuesta_estado = (res->>'estado')::int,
		    respuesta_cuerpo = res
		WHERE ambito = ambito_clave AND clave = p_clave;
	END IF;
	RETURN res;
END
$$;
COMMENT ON FUNCTION reservar_cita(bigint, bigint, bigint, bigint, timestamptz, timestamptz, text, text, bigint, text, text, inet, text, bytea) IS
	'Books an appointment in one transaction: rules, row, audit, outbox and idempotency record (keys scoped per user and route).';

-- The refusal of a site administrator's request that would leave an
-- account with no role at all (p_id NULL: a new account), or NULL.  The
-- roles held at other sites stay (actualizar_usuario() replaces only
-- those within the caller's scope), so removing someone from one's
-- sites is fine while the person works elsewhere.
CREATE FUNCTION cuenta_sin_roles(p_id bigint, p_roles jsonb, p_alcance bigint[])
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN p_alcance IS NOT NULL AND jsonb_array_length(p_roles) = 0
	    AND NOT EXISTS (SELECT 1 FROM usuario_roles r WHERE r.usuario_id = p_id
	        AND (r.sede_id IS NULL OR NOT r.sede_id = ANY (p_alcance)))
	THEN jsonb_build_object('estado', 422, 'tipo', 'validacion',
	    'detalle', 'Un administrador de sede no puede dejar una cuenta sin roles: quedaría fuera del alcance de todo administrador de sede.',
	    'errores', error_campo('roles', 'indique al menos un rol en sus sedes'))
	END
$$;
COMMENT ON FUNCTION cuenta_sin_roles(bigint, jsonb, bigint[]) IS
	'422 when a scoped caller (p_alcance not NULL) would leave account p_id (NULL: a new one) with no role anywhere; else NULL.';

-- POST /api/v1/usuarios.
CREATE OR REPLACE FUNCTION crear_usuario(p_email text, p_nombre text, p_hash text, p_roles jsonb,
    p_alcance bigint[], p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	nuevo bigint;
	res jsonb;
	despues jsonb;
BEGIN
	-- 0019: and no account without roles from a site administrator.
	res := coalesce(roles_fuera_de_alcance(p_roles, p_alcance),
	    cuenta_sin_roles(NULL, p_roles, p_alcance));
	IF res IS NOT NULL THEN
		RETURN res;
	END IF;
	IF EXISTS (SELECT 1 FROM usuarios WHERE lower(email) = lower(p_email)) THEN
		RETURN jsonb_build_object('estado', 409, 'tipo', 'conflicto',
		    'detalle', 'Ya existe un usuario con ese correo.',
		    'errores', error_campo('email', 'ya registrado'));
	END IF;
	INSERT INTO usuarios (email, nombre, password_hash)
	VALUES (p_email, p_nombre, p_hash) RETURNING id INTO nuevo;
	PERFORM usuario_otorgar(nuevo, p_roles, p_usuario);
	despues := usuario_detalle(nuevo);
	PERFORM auditar(p_usuario, p_rol, NULL, 'crear', 'usuarios', nuevo::text,
	    p_request_id, p_ip, NULL, despues);
	PERFORM publicar('usuario.creado', 'usuario', nuevo::text,
	    jsonb_build_object('id', nuevo, 'roles', despues->'roles'));
	RETURN jsonb_build_object('estado', 201, 'cuerpo', despues);
END
$$;
COMMENT ON FUNCTION crear_usuario(text, text, text, jsonb, bigint[], bigint, text, text, inet) IS
	'Creates a user with its roles (within the caller''s scope), audit row and usuario.creado event.';

-- PUT /api/v1/usuarios/{id}.  NULL arguments keep the value; p_roles
-- replaces the user's grants within the caller's scope (grants at other
-- sites stay).  A site administrator may rename, disable or set the
-- password only of people who work only at its sites.
CREATE OR REPLACE FUNCTION actualizar_usuario(p_id bigint, p_nombre text, p_activo boolean,
    p_hash text, p_roles jsonb, p_alcance bigint[],
    p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	antes jsonb;
	despues jsonb;
	res jsonb;
BEGIN
	PERFORM 1 FROM usuarios WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN jsonb_build_object('estado', 404, 'tipo', 'no-encontrado',
		    'detalle', 'El usuario no existe.');
	END IF;
	IF p_alcance IS NOT NULL AND NOT EXISTS (SELECT 1 FROM usuario_roles r
	    WHERE r.usuario_id = p_id AND r.sede_id = ANY (p_alcance)) THEN
		RETURN jsonb_build_object('estado', 403, 'tipo', 'prohibido',
		    'detalle', 'El usuario no trabaja en sus sedes.');
	END IF;
	IF (p_nombre IS NOT NULL OR p_activo IS NOT NULL OR p_hash IS NOT NULL)
	    AND NOT usuario_en_alcance(p_id, p_alcance) THEN
		RETURN jsonb_build_object('estado', 403, 'tipo', 'prohibido',
		    'detalle', 'El usuario también trabaja en otras sedes: solo un administrador de la red cambia su cuenta.');
	END IF;
	IF p_roles IS NOT NULL THEN
		-- 0019: nor left without any by a site administrator.
		res := coalesce(roles_fuera_de_alcance(p_roles, p_alcance),
		    cuenta_sin_roles(p_id, p_roles, p_alcance));
		IF res IS NOT NULL THEN
			RETURN res;
		END IF;
	END IF;
	IF p_id = p_usuario AND (p_activo IS FALSE OR p_roles IS NOT NULL) THEN
		RETURN jsonb_build_object('estado', 422, 'tipo', 'validacion',
		    'detalle', 'Nadie puede desactivarse ni cambiar sus propios roles.',
		    'errores', error_campo(CASE WHEN p_activo IS FALSE THEN 'activo'
		        ELSE 'roles' END, 'no sobre su propia cuenta'));
	END IF;
	antes := usuario_detalle(p_id);
	UPDATE usuarios SET nombre = coalesce(p_nombre, nombre),
	    activo = coalesce(p_activo, activo),
	    password_hash = coalesce(p_hash, password_hash)
	WHERE id = p_id;
	IF p_roles IS NOT NULL THEN
		DELETE FROM usuario_roles
		WHERE usuario_id = p_id
		  AND (p_alcance IS NULL OR sede_id = ANY (p_alcance));
		PERFORM usuario_otorgar(p_id, p_roles, p_usuario);
		-- New roles take effect at the next sign-in or refresh; removed
		-- ones must stop now: the user's tokens are cut.
		IF usuario_roles_json(p_id) IS DISTINCT FROM antes->'roles' THEN
			UPDATE usuarios SET sesiones_validas_desde = now() WHERE id = p_id;
		END IF;
	END IF;
	despues := usuario_detalle(p_id);
	PERFORM auditar(p_usuario, p_rol, NULL, 'actualizar', 'usuarios', p_id::text,
	    p_request_id, p_ip, antes - 'ultimo_acceso_en', despues - 'ultimo_acceso_en');
	PERFORM publicar('usuario.actualizado', 'usuario', p_id::text,
	    jsonb_build_object('id', p_id, 'activo', despues->'activo',
	        'roles', despues->'roles'));
	RETURN jsonb_build_object('estado', 200, 'cuerpo', despues);
END
$$;
COMMENT ON FUNCTION actualizar_usuario(bigint, text, boolean, text, jsonb, bigint[], bigint, text, text, inet) IS
	'Updates a user (name, active, password, roles within the caller''s scope) with audit and event; a role change cuts the user''s tokens.';

