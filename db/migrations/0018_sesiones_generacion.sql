-- 0018: revocation by generation and by session, not by the clock.
--
-- Access tokens were cut by time: those issued before
-- usuarios.sesiones_validas_desde were refused.  Token times are whole
-- seconds (JWT iat) and the cut-off came from the database's clock, so a
-- sign-in in the same second as a revocation had to be rounded one way or
-- the other: either tokens issued just after a revocation were refused,
-- or (as shipped) a token issued just before it survived.
--
-- Now every revocation of a user (password change, disabled account, a
-- change of roles: whatever moves sesiones_validas_desde) adds one to
-- usuarios.sesiones_generacion, and each access token carries the
-- generation of the user when its credentials were checked ("gen").  A
-- token of an older generation is refused, however close in time the two
-- events were, and on whichever clocks.  The password check reads the
-- generation; sesion_iniciar() issues the session only while that is
-- still the user's generation, under the row lock, so a revocation racing
-- a sign-in either lands first (the sign-in fails) or cuts it.
--
-- A session (a family of refresh tokens) ends alone on logout or when a
-- used refresh token comes back.  Access tokens now name their session
-- ("sid", the family), and the API refuses those of families revoked
-- within an access token's lifetime, as it already did for users.

ALTER TABLE usuarios ADD COLUMN sesiones_generacion bigint NOT NULL DEFAULT 0;
COMMENT ON COLUMN usuarios.sesiones_generacion IS
	'Revocations of the user so far; access tokens of an older generation (claim gen) are refused. Moves with sesiones_validas_desde.';
-- Tokens issued before this migration carry no generation (read as 0):
-- those of a user revoked within the last day must stay refused.
UPDATE usuarios SET sesiones_generacion = 1
WHERE sesiones_validas_desde > now() - interval '1 day';

-- Fires after usuarios_revocar_sesiones (triggers fire by name), which
-- moves sesiones_validas_desde on a password change or a deactivation;
-- actualizar_usuario() moves it on a change of roles.
CREATE FUNCTION usuarios_generacion() RETURNS trigger
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
CREATE TRIGGER usuarios_sesiones_generacion BEFORE UPDATE ON usuarios
	FOR EACH ROW EXECUTE FUNCTION usuarios_generacion();

-- The API reloads the families revoked within a token's lifetime every
-- second; without this index that is a scan of every refresh token.
CREATE INDEX sesiones_revocadas ON sesiones (revocado_en) WHERE revocado_en IS NOT NULL;

-- Sign-in, now given the generation read with the password hash.  NULL
-- when the account was revoked (or disabled) since: the caller answers
-- as for a wrong password.  The answer adds the session ("sesion") and
-- the generation ("generacion") for the access token.
DROP FUNCTION sesion_iniciar(bigint, text, bytea, integer, inet, text, text, text);
CREATE FUNCTION sesion_iniciar(p_usuario bigint, p_email text, p_token_hash bytea,
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

-- POST /auth/refresh, as in 0010, with the user's row read under a
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
	rechazo jsonb := jsonb_build_object('estado', 401, 'tipo', 'sesion-invalida',
	    'detalle', 'La sesión no es válida; inicie sesión de nuevo.');
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
	RETURN jsonb_build_object('estado', 200, 'usuario', usuario_resumen(s.usuario_id)
	    || jsonb_build_object('sesion', s.familia, 'generacion', u_generacion));
END
$$;
COMMENT ON FUNCTION sesion_refrescar(bytea, bytea, integer, inet, text, text) IS
	'Rotates a refresh token; reuse of an exchanged token revokes its whole family. The user''s answer carries sesion and generacion for the access token.';
