-- sesiones.sql: sign-in throttling, refresh-token families and what
-- ends them (logout, reuse, a new password, a disabled account).
--
-- Current definitions, run again by vetred-migrate whenever this file
-- changes (db/README.md): CREATE OR REPLACE only.

-- Seconds to wait before the next try for this account or address; 0
-- when a try is allowed.  Account: failures since its last success within
-- 15 minutes, 5 allowed.  Address: failures within 15 minutes, 20 allowed.
CREATE OR REPLACE FUNCTION login_espera(p_email text, p_ip inet) RETURNS integer
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

CREATE OR REPLACE FUNCTION login_fallido(p_email text, p_ip inet, p_usuario bigint,
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

CREATE OR REPLACE FUNCTION sesion_iniciar(p_usuario bigint, p_email text, p_token_hash bytea,
    p_dias integer, p_ip inet, p_agente text, p_nuevo_hash text, p_request_id text,
    p_generacion bigint)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	familia uuid := gen_random_uuid();
BEGIN
	UPDATE usuarios SET ultimo_acceso_en = now()
	WHERE id = p_usuario AND activo AND sesiones_generacion = p_generacion;
	IF NOT FOUND THEN
		RETURN NULL;
	END IF;
	INSERT INTO intentos_login (email, direccion_ip, exito)
	VALUES (lower(left(p_email, 254)), p_ip, true);
	IF p_nuevo_hash IS NOT NULL THEN
		PERFORM set_config('vetred.rehash', 'on', true);
		UPDATE usuarios SET password_hash = p_nuevo_hash WHERE id = p_usuario;
		PERFORM set_config('vetred.rehash', 'off', true);
	END IF;
	INSERT INTO sesiones (usuario_id, familia, token_hash, expira_en, direccion_ip, agente)
	VALUES (p_usuario, familia, p_token_hash,
	    now() + make_interval(days => p_dias), p_ip, left(p_agente, 300));
	PERFORM auditar(p_usuario, NULL, NULL, 'iniciar_sesion', 'usuarios',
	    p_usuario::text, p_request_id, p_ip, NULL, NULL);
	RETURN usuario_resumen(p_usuario)
	    || jsonb_build_object('sesion', familia, 'generacion', p_generacion);
END
$$;
COMMENT ON FUNCTION sesion_iniciar(bigint, text, bytea, integer, inet, text, text, text, bigint) IS
	'Records a successful sign-in and issues the first refresh token of a new family, unless the user was revoked since generation p_generacion (NULL); returns usuario_resumen() with sesion and generacion.';

CREATE OR REPLACE FUNCTION sesion_revocar_familia(p_familia uuid, p_motivo text) RETURNS void
LANGUAGE sql AS $$
	UPDATE sesiones SET revocado_en = now(), motivo_revocacion = p_motivo
	WHERE familia = p_familia AND revocado_en IS NULL
$$;
COMMENT ON FUNCTION sesion_revocar_familia(uuid, text) IS
	'Revokes every still-valid token of one sign-in.';

-- POST /auth/refresh: verdict hecho with the user (usuario_resumen(),
-- sesion and generacion) for the new access token, or sesion-invalida.
-- The user's row is read under a
-- shared lock before the token's row is locked: the order in which a
-- revocation takes them (usuarios, then its sesiones from the trigger).
-- A refresh racing a revocation thus either commits first, and its new
-- token is revoked with the others, or waits and finds its token revoked.
CREATE OR REPLACE FUNCTION sesion_refrescar(p_hash bytea, p_nuevo_hash bytea, p_dias integer,
    p_ip inet, p_agente text, p_request_id text)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	s sesiones%ROWTYPE;
	u_activo boolean;
	u_generacion bigint;
	rechazo jsonb := veredicto('sesion-invalida', jsonb_build_object(
	    'detalle', 'La sesión no es válida; inicie sesión de nuevo.'));
BEGIN
	SELECT * INTO s FROM sesiones WHERE token_hash = p_hash;
	IF NOT FOUND THEN
		RETURN rechazo;
	END IF;
	SELECT u.activo, u.sesiones_generacion INTO u_activo, u_generacion
	FROM usuarios u WHERE u.id = s.usuario_id FOR SHARE;
	SELECT * INTO s FROM sesiones WHERE token_hash = p_hash FOR UPDATE;
	IF s.revocado_en IS NOT NULL OR s.expira_en <= now() THEN
		RETURN rechazo;
	END IF;
	IF s.usado_en IS NOT NULL THEN
		PERFORM sesion_revocar_familia(s.familia, 'reutilizacion');
		PERFORM auditar(s.usuario_id, NULL, NULL, 'sesion_reutilizada', 'usuarios',
		    s.usuario_id::text, p_request_id, p_ip, NULL,
		    jsonb_build_object('familia', s.familia));
		RETURN rechazo;
	END IF;
	IF NOT u_activo THEN
		PERFORM sesion_revocar_familia(s.familia, 'usuario_inactivo');
		RETURN rechazo;
	END IF;
	UPDATE sesiones SET usado_en = now() WHERE id = s.id;
	INSERT INTO sesiones (usuario_id, familia, token_hash, expira_en, direccion_ip, agente)
	VALUES (s.usuario_id, s.familia, p_nuevo_hash,
	    now() + make_interval(days => p_dias), p_ip, left(p_agente, 300));
	RETURN veredicto('hecho', jsonb_build_object('usuario', usuario_resumen(s.usuario_id)
	    || jsonb_build_object('sesion', s.familia, 'generacion', u_generacion)));
END
$$;
COMMENT ON FUNCTION sesion_refrescar(bytea, bytea, integer, inet, text, text) IS
	'Rotates a refresh token; reuse of an exchanged token revokes its whole family. The user''s answer carries sesion and generacion for the access token.';

-- POST /auth/logout: the family of the token ends.  Unknown tokens are
-- not an error (the client is logged out either way).
CREATE OR REPLACE FUNCTION sesion_cerrar(p_hash bytea, p_ip inet, p_request_id text) RETURNS void
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
CREATE OR REPLACE FUNCTION usuarios_revocar_sesiones() RETURNS trigger
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

CREATE OR REPLACE TRIGGER usuarios_revocar_sesiones BEFORE UPDATE OF password_hash, activo ON usuarios
	FOR EACH ROW EXECUTE FUNCTION usuarios_revocar_sesiones();

-- Fires after usuarios_revocar_sesiones (triggers fire by name), which
-- moves sesiones_validas_desde on a password change or a deactivation;
-- actualizar_usuario() moves it on a change of roles.
CREATE OR REPLACE FUNCTION usuarios_generacion() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.sesiones_validas_desde IS DISTINCT FROM OLD.sesiones_validas_desde THEN
		NEW.sesiones_generacion := OLD.sesiones_generacion + 1;
	ELSE
		NEW.sesiones_generacion := OLD.sesiones_generacion;
	END IF;
	RETURN NEW;
END
$$;
COMMENT ON FUNCTION usuarios_generacion() IS
	'BEFORE UPDATE on usuarios: a revocation (sesiones_validas_desde moved) starts a new token generation; nothing else changes it.';

CREATE OR REPLACE TRIGGER usuarios_sesiones_generacion BEFORE UPDATE ON usuarios
	FOR EACH ROW EXECUTE FUNCTION usuarios_generacion();
