-- 0026: the first network administrator, from the shell.
--
-- Migrations create no user, so on a fresh database nobody can sign in
-- to create the first one.  `vetred-admin crear-admin EMAIL` (password on
-- stdin; the compose one-shot `admin` runs it) calls crear_admin_red().
-- It refuses while an active admin_red exists: a second bootstrap run
-- (every `docker compose up`) must not mint administrators behind the
-- first one's back; p_forzar adds one anyway (lost password of the only
-- admin, say).  A transaction lock makes two bootstraps started together
-- create one.  Only the owner may call it: the API's role never creates
-- administrators.

CREATE FUNCTION crear_admin_red(p_email text, p_nombre text, p_hash text,
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
		RETURN jsonb_build_object('estado', 409, 'tipo', 'admin-existe',
		    'detalle', 'Ya existe un administrador de la red activo.',
		    'usuario_id', existente);
	END IF;
	-- Network-wide scope (NULL), no granting user, audited as the system.
	RETURN crear_usuario(p_email, p_nombre, p_hash,
	    '[{"rol": "admin_red", "sede": null}]', NULL, NULL, 'sistema',
	    'vetred-admin crear-admin', NULL);
END
$$;
COMMENT ON FUNCTION crear_admin_red(text, text, text, boolean) IS
	'Bootstrap: creates a network administrator unless an active one exists (p_forzar: anyway). Verdict as crear_usuario, or estado 409 tipo admin-existe naming the existing admin.';

REVOKE EXECUTE ON FUNCTION crear_admin_red(text, text, text, boolean) FROM PUBLIC;
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vetred_api') THEN
		REVOKE EXECUTE ON FUNCTION crear_admin_red(text, text, text, boolean)
		    FROM vetred_api;
	END IF;
END
$$;
