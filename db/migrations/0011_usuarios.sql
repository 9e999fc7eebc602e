-- 0011: user administration (GET/POST/PUT /api/v1/usuarios).
--
-- Scope: a network administrator (admin_red) manages every user; a site
-- administrator (admin_sede) manages the roles held at its own sites and
-- the accounts of people who work only there, and never grants admin_red
-- or a network-wide role.  The API passes the caller's scope as
-- p_alcance: NULL for the whole network, else the sites of its
-- admin_sede grants.

-- A user as the API shows it (never the password hash).
CREATE FUNCTION usuario_detalle(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', u.id, 'email', u.email, 'nombre', u.nombre,
	    'activo', u.activo, 'tiene_clave', u.password_hash IS NOT NULL,
	    'ultimo_acceso_en', u.ultimo_acceso_en, 'creado_en', u.creado_en,
	    'actualizado_en', u.actualizado_en, 'roles', usuario_roles_json(u.id))
	FROM usuarios u WHERE u.id = p_id
$$;
COMMENT ON FUNCTION usuario_detalle(bigint) IS
	'JSON of one user with its roles per site; NULL when absent. The password hash is never included.';

-- 1 when every role of the user is held at a site of p_alcance (and the
-- user holds at least one there): the account is the caller's to manage.
CREATE FUNCTION usuario_en_alcance(p_id bigint, p_alcance bigint[]) RETURNS boolean
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

-- The refusal for roles outside the caller's scope, or NULL.  p_roles:
-- [{"rol": ..., "sede": id or null}].
CREATE FUNCTION roles_fuera_de_alcance(p_roles jsonb, p_alcance bigint[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT CASE WHEN p_alcance IS NOT NULL AND EXISTS (
	    SELECT 1 FROM jsonb_array_elements(p_roles) e
	    WHERE e->>'rol' = 'admin_red' OR e->'sede' IS NULL
	       OR jsonb_typeof(e->'sede') <> 'number'
	       OR NOT (e->>'sede')::bigint = ANY (p_alcance))
	THEN jsonb_build_object('estado', 403, 'tipo', 'prohibido',
	    'detalle', 'Un administrador de sede solo otorga roles de sus sedes, y nunca admin_red.')
	END
$$;

-- Inserts the grants of p_roles (already validated by the API: known
-- role names, positive site ids) for p_usuario.  A site that does not
-- exist, admin_red bound to a site or admin_sede without one are refused
-- by the table's constraints (the caller maps them to 422).
CREATE FUNCTION usuario_otorgar(p_usuario bigint, p_roles jsonb, p_otorgante bigint)
RETURNS void
LANGUAGE sql AS $$
	INSERT INTO usuario_roles (usuario_id, sede_id, rol, otorgado_por)
	SELECT DISTINCT p_usuario, (e->>'sede')::bigint, e->>'rol', p_otorgante
	FROM jsonb_array_elements(p_roles) e
$$;

-- POST /api/v1/usuarios.
CREATE FUNCTION crear_usuario(p_email text, p_nombre text, p_hash text, p_roles jsonb,
    p_alcance bigint[], p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	nuevo bigint;
	res jsonb;
	despues jsonb;
BEGIN
	res := roles_fuera_de_alcance(p_roles, p_alcance);
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
CREATE FUNCTION actualizar_usuario(p_id bigint, p_nombre text, p_activo boolean,
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
		res := roles_fuera_de_alcance(p_roles, p_alcance);
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

-- GET /api/v1/usuarios: by id, p_limite per page after p_cursor; with a
-- scope, only users who hold a role at one of its sites.
CREATE FUNCTION listar_usuarios(p_alcance bigint[], p_limite integer, p_cursor bigint)
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
