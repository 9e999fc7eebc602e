-- usuarios.sql: staff accounts and their roles per site: what a user
-- looks like, who may manage whom (scopes), creating and changing one,
-- the first network administrator.
--
-- Current definitions, run again by vetred-migrate whenever this file
-- changes (db/README.md): CREATE OR REPLACE only.

CREATE OR REPLACE TRIGGER usuarios_actualizado_en BEFORE UPDATE ON usuarios
	FOR EACH ROW EXECUTE FUNCTION fijar_actualizado_en();

-- The roles of a user as the access token carries them.
CREATE OR REPLACE FUNCTION usuario_roles_json(p_usuario bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('rol', rol, 'sede', sede_id)
	    ORDER BY sede_id NULLS FIRST, rol), '[]')
	FROM usuario_roles WHERE usuario_id = p_usuario
$$;
COMMENT ON FUNCTION usuario_roles_json(bigint) IS
	'[{"rol": ..., "sede": id or null}] of a user, network-wide grants first.';

CREATE OR REPLACE FUNCTION usuario_resumen(p_usuario bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', u.id, 'email', u.email, 'nombre', u.nombre,
	    'roles', usuario_roles_json(u.id),
	    'validas_desde', CASE WHEN isfinite(u.sesiones_validas_desde)
	        THEN ceil(extract(epoch FROM u.sesiones_validas_desde))::bigint END)
	FROM usuarios u WHERE u.id = p_usuario
$$;
COMMENT ON FUNCTION usuario_resumen(bigint) IS
	'What a sign-in or refresh answers about the user: id, e-mail, name, roles, and the first whole second at which new tokens are valid (validas_desde, for the token''s iat).';

CREATE OR REPLACE FUNCTION usuario_detalle(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', u.id, 'email', u.email, 'nombre', u.nombre,
	    'activo', u.activo, 'tiene_clave', u.password_hash IS NOT NULL,
	    'ultimo_acceso_en', hora_local(u.ultimo_acceso_en, NULL),
	    'creado_en', hora_local(u.creado_en, NULL),
	    'actualizado_en', hora_local(u.actualizado_en, NULL),
	    'roles', usuario_roles_json(u.id))
	FROM usuarios u WHERE u.id = p_id
$$;
COMMENT ON FUNCTION usuario_detalle(bigint) IS
	'JSON of one user with its roles per site; NULL when absent. The password hash is never included.';

-- 1 when every role of the user is held at a site of p_alcance (and the
-- user holds at least one there): the account is the caller's to manage.
CREATE OR REPLACE FUNCTION usuario_en_alcance(p_id bigint, p_alcance bigint[]) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT p_alcance IS NULL OR (
	    EXISTS (SELECT 1 FROM usuario_roles r
	        WHERE r.usuario_id = p_id AND r.sede_id = ANY (p_alcance))
	    AND NOT EXISTS (SELECT 1 FROM usuario_roles r
	        WHERE r.usuario_id = p_id
	          AND (r.sede_id IS NULL OR NOT r.sede_id = ANY (p_alcance))))
$$;
COMMENT ON FUNCTION usuario_en_alcance(bigint, bigint[]) IS
	'True when the user works only at sites of p_alcance (NULL: the whole network).';

-- The refusal (prohibido) for roles outside the caller's scope, or NULL.
-- p_roles: [{"rol": ..., "sede": id or null}].
CREATE OR REPLACE FUNCTION roles_fuera_de_alcance(p_roles jsonb, p_alcance bigint[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN p_alcance IS NOT NULL AND EXISTS (
	    SELECT 1 FROM jsonb_array_elements(p_roles) e
	    WHERE e->>'rol' = 'admin_red' OR e->'sede' IS NULL
	       OR jsonb_typeof(e->'sede') <> 'number'
	       OR NOT (e->>'sede')::bigint = ANY (p_alcance))
	THEN veredicto('prohibido', jsonb_build_object(
	    'detalle', 'Un administrador de sede solo otorga roles de sus sedes, y nunca admin_red.'))
	END
$$;

-- The refusal of a site administrator's request that would leave an
-- account with no role at all (p_id NULL: a new account), or NULL.  The
-- roles held at other sites stay (actualizar_usuario() replaces only
-- those within the caller's scope), so removing someone from one's
-- sites is fine while the person works elsewhere.
CREATE OR REPLACE FUNCTION cuenta_sin_roles(p_id bigint, p_roles jsonb, p_alcance bigint[])
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN p_alcance IS NOT NULL AND jsonb_array_length(p_roles) = 0
	    AND NOT EXISTS (SELECT 1 FROM usuario_roles r WHERE r.usuario_id = p_id
	        AND (r.sede_id IS NULL OR NOT r.sede_id = ANY (p_alcance)))
	THEN veredicto('validacion', jsonb_build_object(
	    'detalle', 'Un administrador de sede no puede dejar una cuenta sin roles: quedaría fuera del alcance de todo administrador de sede.',
	    'errores', error_campo('roles', 'indique al menos un rol en sus sedes')))
	END
$$;
COMMENT ON FUNCTION cuenta_sin_roles(bigint, jsonb, bigint[]) IS
	'Verdict validacion when a scoped caller (p_alcance not NULL) would leave account p_id (NULL: a new one) with no role anywhere; else NULL.';

-- Inserts the grants of p_roles (already validated by the API: known
-- role names, positive site ids) for p_usuario.  A site that does not
-- exist, admin_red bound to a site or admin_sede without one are refused
-- by the table's constraints (the caller reports them as invalid fields).
CREATE OR REPLACE FUNCTION usuario_otorgar(p_usuario bigint, p_roles jsonb, p_otorgante bigint)
RETURNS void
LANGUAGE sql AS $$
	INSERT INTO usuario_roles (usuario_id, sede_id, rol, otorgado_por)
	SELECT DISTINCT p_usuario, (e->>'sede')::bigint, e->>'rol', p_otorgante
	FROM jsonb_array_elements(p_roles) e
$$;

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
	-- Roles within the caller's scope, and none left without any.
	res := coalesce(roles_fuera_de_alcance(p_roles, p_alcance),
	    cuenta_sin_roles(NULL, p_roles, p_alcance));
	IF res IS NOT NULL THEN
		RETURN res;
	END IF;
	IF EXISTS (SELECT 1 FROM usuarios WHERE lower(email) = lower(p_email)) THEN
		RETURN veredicto('conflicto', jsonb_build_object(
		    'detalle', 'Ya existe un usuario con ese correo.',
		    'errores', error_campo('email', 'ya registrado')));
	END IF;
	INSERT INTO usuarios (email, nombre, password_hash)
	VALUES (p_email, p_nombre, p_hash) RETURNING id INTO nuevo;
	PERFORM usuario_otorgar(nuevo, p_roles, p_usuario);
	despues := usuario_detalle(nuevo);
	PERFORM auditar(p_usuario, p_rol, NULL, 'crear', 'usuarios', nuevo::text,
	    p_request_id, p_ip, NULL, despues);
	PERFORM publicar('usuario.creado', 'usuario', nuevo::text,
	    evento_usuario(nuevo), p_request_id);
	RETURN veredicto('creado', jsonb_build_object('cuerpo', despues));
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
	generacion bigint;
BEGIN
	SELECT sesiones_generacion INTO generacion FROM usuarios WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'El usuario no existe.'));
	END IF;
	IF p_alcance IS NOT NULL AND NOT EXISTS (SELECT 1 FROM usuario_roles r
	    WHERE r.usuario_id = p_id AND r.sede_id = ANY (p_alcance)) THEN
		RETURN veredicto('prohibido', jsonb_build_object(
		    'detalle', 'El usuario no trabaja en sus sedes.'));
	END IF;
	IF (p_nombre IS NOT NULL OR p_activo IS NOT NULL OR p_hash IS NOT NULL)
	    AND NOT usuario_en_alcance(p_id, p_alcance) THEN
		RETURN veredicto('prohibido', jsonb_build_object(
		    'detalle', 'El usuario también trabaja en otras sedes: solo un administrador de la red cambia su cuenta.'));
	END IF;
	IF p_roles IS NOT NULL THEN
		-- Nor left without any by a site administrator.
		res := coalesce(roles_fuera_de_alcance(p_roles, p_alcance),
		    cuenta_sin_roles(p_id, p_roles, p_alcance));
		IF res IS NOT NULL THEN
			RETURN res;
		END IF;
	END IF;
	IF p_id = p_usuario AND (p_activo IS FALSE OR p_roles IS NOT NULL) THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Nadie puede desactivarse ni cambiar sus propios roles.',
		    'errores', error_campo(CASE WHEN p_activo IS FALSE THEN 'activo'
		        ELSE 'roles' END, 'no sobre su propia cuenta')));
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
	-- A disabled account, or one whose roles changed, loses its calendar
	-- subscriptions (calendarios.sql): a feed URL outlives no grant.
	IF p_activo IS FALSE OR (p_roles IS NOT NULL
	    AND usuario_roles_json(p_id) IS DISTINCT FROM antes->'roles') THEN
		PERFORM revocar_calendarios_de(p_id, p_usuario, p_rol, p_request_id, p_ip);
	END IF;
	despues := usuario_detalle(p_id);
	PERFORM auditar(p_usuario, p_rol, NULL, 'actualizar', 'usuarios', p_id::text,
	    p_request_id, p_ip, antes - 'ultimo_acceso_en', despues - 'ultimo_acceso_en');
	PERFORM publicar('usuario.actualizado', 'usuario', p_id::text,
	    evento_usuario(p_id, jsonb_build_object('sesiones_cortadas',
	        (SELECT sesiones_generacion FROM usuarios WHERE id = p_id) > generacion)),
	    p_request_id);
	RETURN veredicto('hecho', jsonb_build_object('cuerpo', despues));
END
$$;
COMMENT ON FUNCTION actualizar_usuario(bigint, text, boolean, text, jsonb, bigint[], bigint, text, text, inet) IS
	'Updates a user (name, active, password, roles within the caller''s scope) with audit and event; a role change cuts the user''s tokens; disabling or a role change revokes their calendar subscriptions.';

-- GET /api/v1/usuarios: by id, p_limite per page after p_cursor; with a
-- scope, only users who hold a role at one of its sites.
CREATE OR REPLACE FUNCTION listar_usuarios(p_alcance bigint[], p_limite integer, p_cursor bigint)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	WITH pagina AS (
	    SELECT u.id FROM usuarios u
	    WHERE (p_cursor IS NULL OR u.id > p_cursor)
	      AND (p_alcance IS NULL OR EXISTS (SELECT 1 FROM usuario_roles r
	          WHERE r.usuario_id = u.id AND r.sede_id = ANY (p_alcance)))
	    ORDER BY u.id LIMIT p_limite + 1),
	numerada AS (SELECT id, row_number() OVER (ORDER BY id) AS n FROM pagina)
	SELECT jsonb_build_object(
	    'elementos', coalesce((SELECT jsonb_agg(usuario_detalle(id) ORDER BY id)
	        FROM numerada WHERE n <= p_limite), '[]'),
	    'siguiente_cursor', CASE WHEN (SELECT count(*) FROM numerada) > p_limite
	        THEN (SELECT max(id) FROM numerada WHERE n <= p_limite)::text END)
$$;
COMMENT ON FUNCTION listar_usuarios(bigint[], integer, bigint) IS
	'One page of users (all, or those holding a role at one of the sites of p_alcance), with the cursor of the next page.';

CREATE OR REPLACE FUNCTION crear_admin_red(p_email text, p_nombre text, p_hash text,
    p_forzar boolean)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	existente bigint;
BEGIN
	-- Serializes bootstraps (any key: only this function takes it).
	PERFORM pg_advisory_xact_lock(7324518211);
	SELECT u.id INTO existente
	FROM usuarios u JOIN usuario_roles r ON r.usuario_id = u.id
	WHERE r.rol = 'admin_red' AND u.activo
	ORDER BY u.id LIMIT 1;
	IF existente IS NOT NULL AND NOT coalesce(p_forzar, false) THEN
		RETURN veredicto('admin-existe', jsonb_build_object(
		    'detalle', 'Ya existe un administrador de la red activo.',
		    'usuario_id', existente));
	END IF;
	-- Network-wide scope (NULL), no granting user, audited as the system.
	RETURN crear_usuario(p_email, p_nombre, p_hash,
	    '[{"rol": "admin_red", "sede": null}]', NULL, NULL, 'sistema',
	    'vetred-admin crear-admin', NULL);
END
$$;
COMMENT ON FUNCTION crear_admin_red(text, text, text, boolean) IS
	'Bootstrap: creates a network administrator unless an active one exists (p_forzar: anyway). Verdict as crear_usuario, or admin-existe naming the existing admin (usuario_id).';
REVOKE EXECUTE ON FUNCTION crear_admin_red(text, text, text, boolean) FROM PUBLIC;
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vetred_api') THEN
		REVOKE EXECUTE ON FUNCTION crear_admin_red(text, text, text, boolean)
		    FROM vetred_api;
	END IF;
END
$$;
