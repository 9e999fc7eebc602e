-- 0010: sign-in sessions (refresh tokens), login throttling, revocation.
--
-- The API signs short-lived access tokens itself (JWT, 15 min) and hands
-- out an opaque refresh token per sign-in.  Only the SHA-256 of a refresh
-- token is stored.  Each refresh rotates it: the presented token is marked
-- used and a new one of the same family is issued.  Presenting a used
-- token again means it was copied: the whole family is revoked.

ALTER TABLE usuarios ADD COLUMN sesiones_validas_desde timestamptz NOT NULL DEFAULT '-infinity';
COMMENT ON COLUMN usuarios.sesiones_validas_desde IS
	'Access tokens issued before this instant are refused; set when the password changes or the user is disabled.';

CREATE TABLE sesiones (
	id                bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	usuario_id        bigint NOT NULL REFERENCES usuarios (id) ON DELETE CASCADE,
	familia           uuid NOT NULL,
	token_hash        bytea NOT NULL,
	creado_en         timestamptz NOT NULL DEFAULT now(),
	expira_en         timestamptz NOT NULL,
	usado_en          timestamptz,
	revocado_en       timestamptz,
	motivo_revocacion text,
	direccion_ip      inet,
	agente            text,
	CONSTRAINT sesiones_token_hash_unico UNIQUE (token_hash),
	CONSTRAINT sesiones_token_hash_sha256 CHECK (octet_length(token_hash) = 32),
	CONSTRAINT sesiones_expira_tras_creado CHECK (expira_en > creado_en),
	CONSTRAINT sesiones_revocacion_coherente CHECK ((revocado_en IS NULL) = (motivo_revocacion IS NULL)),
	CONSTRAINT sesiones_motivo_valido CHECK (motivo_revocacion IN
	    ('cierre', 'reutilizacion', 'clave_cambiada', 'usuario_inactivo', 'administrador')),
	CONSTRAINT sesiones_agente_largo CHECK (char_length(agente) <= 300)
);
CREATE INDEX sesiones_familia ON sesiones (familia);
CREATE INDEX sesiones_usuario_vigentes ON sesiones (usuario_id) WHERE revocado_en IS NULL;
COMMENT ON TABLE sesiones IS 'Refresh tokens, one row per issued token; a family is the chain of rotations of one sign-in.';
COMMENT ON COLUMN sesiones.id IS 'Surrogate key.';
COMMENT ON COLUMN sesiones.usuario_id IS 'The signed-in user.';
COMMENT ON COLUMN sesiones.familia IS 'Sign-in the token descends from; revoked as a whole on logout or reuse.';
COMMENT ON COLUMN sesiones.token_hash IS 'SHA-256 of the opaque token; the token itself is never stored.';
COMMENT ON COLUMN sesiones.creado_en IS 'When the token was issued.';
COMMENT ON COLUMN sesiones.expira_en IS 'When the token stops working (VETRED_REFRESH_TOKEN_TTL_DAYS after issue).';
COMMENT ON COLUMN sesiones.usado_en IS 'When it was exchanged for the next token; presenting it again revokes the family.';
COMMENT ON COLUMN sesiones.revocado_en IS 'When the family was revoked; NULL while valid.';
COMMENT ON COLUMN sesiones.motivo_revocacion IS 'cierre (logout), reutilizacion (a used token came back), clave_cambiada, usuario_inactivo or administrador.';
COMMENT ON COLUMN sesiones.direccion_ip IS 'Client address that obtained the token.';
COMMENT ON COLUMN sesiones.agente IS 'User-Agent that obtained the token (first 300 characters).';

CREATE TABLE intentos_login (
	id           bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	email        text NOT NULL,
	direccion_ip inet NOT NULL,
	ocurrido_en  timestamptz NOT NULL DEFAULT now(),
	exito        boolean NOT NULL,
	CONSTRAINT intentos_login_email_largo CHECK (char_length(email) <= 254)
);
CREATE INDEX intentos_login_email ON intentos_login (email, ocurrido_en DESC);
CREATE INDEX intentos_login_ip ON intentos_login (direccion_ip, ocurrido_en DESC) WHERE NOT exito;
COMMENT ON TABLE intentos_login IS 'Sign-in attempts, for throttling (5 failures per account or 20 per address in 15 minutes). Rows older than a day may be purged.';
COMMENT ON COLUMN intentos_login.id IS 'Surrogate key.';
COMMENT ON COLUMN intentos_login.email IS 'E-mail as tried, lower-cased (also for unknown accounts).';
COMMENT ON COLUMN intentos_login.direccion_ip IS 'Client address.';
COMMENT ON COLUMN intentos_login.ocurrido_en IS 'When.';
COMMENT ON COLUMN intentos_login.exito IS 'True for a successful sign-in (it resets the account''s count).';

-- Seconds to wait before the next try for this account or address; 0
-- when a try is allowed.  Account: failures since its last success within
-- 15 minutes, 5 allowed.  Address: failures within 15 minutes, 20 allowed.
CREATE FUNCTION login_espera(p_email text, p_ip inet) RETURNS integer
LANGUAGE plpgsql STABLE AS $$
DECLARE
	ventana constant interval := interval '15 minutes';
	ultimo_exito timestamptz;
	t_cuenta timestamptz;
	t_ip timestamptz;
	libre timestamptz;
BEGIN
	SELECT max(i.ocurrido_en) INTO ultimo_exito FROM intentos_login i
	WHERE i.email = lower(p_email) AND i.exito AND i.ocurrido_en > now() - ventana;
	SELECT ocurrido_en INTO t_cuenta FROM intentos_login
	WHERE email = lower(p_email) AND NOT exito
	  AND ocurrido_en > greatest(now() - ventana, coalesce(ultimo_exito, '-infinity'))
	ORDER BY ocurrido_en DESC OFFSET 4 LIMIT 1;
	SELECT ocurrido_en INTO t_ip FROM intentos_login
	WHERE direccion_ip = p_ip AND NOT exito AND ocurrido_en > now() - ventana
	ORDER BY ocurrido_en DESC OFFSET 19 LIMIT 1;
	libre := greatest(t_cuenta, t_ip) + ventana;
	IF libre IS NULL OR libre <= now() THEN
		RETURN 0;
	END IF;
	RETURN greatest(1, ceil(extract(epoch FROM libre - now())))::integer;
END
$$;
COMMENT ON FUNCTION login_espera(text, inet) IS
	'Seconds until a sign-in for this e-mail from this address may be tried (Retry-After); 0 when allowed now.';

CREATE FUNCTION login_fallido(p_email text, p_ip inet, p_usuario bigint,
    p_request_id text) RETURNS void
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO intentos_login (email, direccion_ip, exito)
	VALUES (lower(left(p_email, 254)), p_ip, false);
	PERFORM auditar(p_usuario, NULL, NULL, 'iniciar_sesion_fallido', 'usuarios',
	    p_usuario::text, p_request_id, p_ip, NULL,
	    jsonb_build_object('email', lower(left(p_email, 254))));
END
$$;
COMMENT ON FUNCTION login_fallido(text, inet, bigint, text) IS
	'Records a failed sign-in (throttling and audit); p_usuario is NULL for an unknown e-mail.';

-- The roles of a user as the access token carries them.
CREATE FUNCTION usuario_roles_json(p_usuario bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT coalesce(jsonb_agg(jsonb_build_object('rol', rol, 'sede', sede_id)
	    ORDER BY sede_id NULLS FIRST, rol), '[]')
	FROM usuario_roles WHERE usuario_id = p_usuario
$$;
COMMENT ON FUNCTION usuario_roles_json(bigint) IS
	'[{"rol": ..., "sede": id or null}] of a user, network-wide grants first.';

CREATE FUNCTION usuario_resumen(p_usuario bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', u.id, 'email', u.email, 'nombre', u.nombre,
	    'roles', usuario_roles_json(u.id),
	    'validas_desde', CASE WHEN isfinite(u.sesiones_validas_desde)
	        THEN ceil(extract(epoch FROM u.sesiones_validas_desde))::bigint END)
	FROM usuarios u WHERE u.id = p_usuario
$$;
COMMENT ON FUNCTION usuario_resumen(bigint) IS
	'What a sign-in or refresh answers about the user: id, e-mail, name, roles, and the first whole second at which new tokens are valid (validas_desde, for the token''s iat).';

-- A successful password check: record it, start a token family, and
-- answer who the user is.  p_nuevo_hash re-hashes the password with
-- stronger parameters (not a password change: sessions survive it).
CREATE FUNCTION sesion_iniciar(p_usuario bigint, p_email text, p_token_hash bytea,
    p_dias integer, p_ip inet, p_agente text, p_nuevo_hash text, p_request_id text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO intentos_login (email, direccion_ip, exito)
	VALUES (lower(left(p_email, 254)), p_ip, true);
	IF p_nuevo_hash IS NOT NULL THEN
		PERFORM set_config('vetred.rehash', 'on', true);
		UPDATE usuarios SET password_hash = p_nuevo_hash WHERE id = p_usuario;
		PERFORM set_config('vetred.rehash', 'off', true);
	END IF;
	UPDATE usuarios SET ultimo_acceso_en = now() WHERE id = p_usuario;
	INSERT INTO sesiones (usuario_id, familia, token_hash, expira_en, direccion_ip, agente)
	VALUES (p_usuario, gen_random_uuid(), p_token_hash,
	    now() + make_interval(days => p_dias), p_ip, left(p_agente, 300));
	PERFORM auditar(p_usuario, NULL, NULL, 'iniciar_sesion', 'usuarios',
	    p_usuario::text, p_request_id, p_ip, NULL, NULL);
	RETURN usuario_resumen(p_usuario);
END
$$;
COMMENT ON FUNCTION sesion_iniciar(bigint, text, bytea, integer, inet, text, text, text) IS
	'Records a successful sign-in and issues the first refresh token of a new family; returns usuario_resumen().';

CREATE FUNCTION sesion_revocar_familia(p_familia uuid, p_motivo text) RETURNS void
LANGUAGE sql AS $$
	UPDATE sesiones SET revocado_en = now(), motivo_revocacion = p_motivo
	WHERE familia = p_familia AND revocado_en IS NULL
$$;
COMMENT ON FUNCTION sesion_revocar_familia(uuid, text) IS
	'Revokes every still-valid token of one sign-in.';

-- POST /auth/refresh.  {estado: 200, usuario} with the new token stored,
-- or {estado: 401, tipo, detalle}.  A token already exchanged revokes its
-- family (theft detection); two racing refreshes with one token are the
-- same case: the second one loses the family.
CREATE FUNCTION sesion_refrescar(p_hash bytea, p_nuevo_hash bytea, p_dias integer,
    p_ip inet, p_agente text, p_request_id text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	s sesiones%ROWTYPE;
	u_activo boolean;
	rechazo jsonb := jsonb_build_object('estado', 401, 'tipo', 'sesion-invalida',
	    'detalle', 'La sesión no es válida; inicie sesión de nuevo.');
BEGIN
	SELECT * INTO s FROM sesiones WHERE token_hash = p_hash FOR UPDATE;
	IF NOT FOUND OR s.revocado_en IS NOT NULL OR s.expira_en <= now() THEN
		RETURN rechazo;
	END IF;
	IF s.usado_en IS NOT NULL THEN
		PERFORM sesion_revocar_familia(s.familia, 'reutilizacion');
		PERFORM auditar(s.usuario_id, NULL, NULL, 'sesion_reutilizada', 'usuarios',
		    s.usuario_id::text, p_request_id, p_ip, NULL,
		    jsonb_build_object('familia', s.familia));
		RETURN rechazo;
	END IF;
	SELECT u.activo INTO u_activo FROM usuarios u WHERE u.id = s.usuario_id;
	IF NOT u_activo THEN
		PERFORM sesion_revocar_familia(s.familia, 'usuario_inactivo');
		RETURN rechazo;
	END IF;
	UPDATE sesiones SET usado_en = now() WHERE id = s.id;
	INSERT INTO sesiones (usuario_id, familia, token_hash, expira_en, direccion_ip, agente)
	VALUES (s.usuario_id, s.familia, p_nuevo_hash,
	    now() + make_interval(days => p_dias), p_ip, left(p_agente, 300));
	RETURN jsonb_build_object('estado', 200, 'usuario', usuario_resumen(s.usuario_id));
END
$$;
COMMENT ON FUNCTION sesion_refrescar(bytea, bytea, integer, inet, text, text) IS
	'Rotates a refresh token; reuse of an exchanged token revokes its whole family.';

-- POST /auth/logout: the family of the token ends.  Unknown tokens are
-- not an error (the client is logged out either way).
CREATE FUNCTION sesion_cerrar(p_hash bytea, p_ip inet, p_request_id text) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	s sesiones%ROWTYPE;
BEGIN
	SELECT * INTO s FROM sesiones WHERE token_hash = p_hash;
	IF FOUND AND s.revocado_en IS NULL THEN
		PERFORM sesion_revocar_familia(s.familia, 'cierre');
		PERFORM auditar(s.usuario_id, NULL, NULL, 'cerrar_sesion', 'usuarios',
		    s.usuario_id::text, p_request_id, p_ip, NULL, NULL);
	END IF;
END
$$;
COMMENT ON FUNCTION sesion_cerrar(bytea, inet, text) IS
	'Logout: revokes the family of a refresh token.';

-- A new password or a disabled account ends every session of the user:
-- refresh tokens are revoked and access tokens issued before now are
-- refused by the API.  A re-hash at sign-in (same password, stronger
-- parameters) is not a change; sesion_iniciar() marks it.
CREATE FUNCTION usuarios_revocar_sesiones() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	motivo text;
BEGIN
	IF OLD.activo AND NOT NEW.activo THEN
		motivo := 'usuario_inactivo';
	ELSIF NEW.password_hash IS DISTINCT FROM OLD.password_hash AND
	    current_setting('vetred.rehash', true) IS DISTINCT FROM 'on' THEN
		motivo := 'clave_cambiada';
	END IF;
	IF motivo IS NOT NULL THEN
		NEW.sesiones_validas_desde := now();
		UPDATE sesiones SET revocado_en = now(), motivo_revocacion = motivo
		WHERE usuario_id = NEW.id AND revocado_en IS NULL;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION usuarios_revocar_sesiones() IS
	'BEFORE UPDATE on usuarios: a password change or deactivation revokes the user''s sessions.';
CREATE TRIGGER usuarios_revocar_sesiones BEFORE UPDATE OF password_hash, activo ON usuarios
	FOR EACH ROW EXECUTE FUNCTION usuarios_revocar_sesiones();
