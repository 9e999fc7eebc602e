-- 0013: the API's own database role, with no power over the audit trail.
--
-- Migrations run as the owner of the schema; the API processes connect
-- as vetred_api, which may read and write the application's tables but
-- only SELECT and INSERT on auditoria (the append-only trigger refuses
-- UPDATE and DELETE to everyone, the owner included; the grants make sure
-- the application could not even try) and only read schema_migraciones.
-- The role is created by whoever runs the cluster (ci/stack.sh for the
-- local stack, the operator elsewhere); without it, this migration grants
-- nothing and the API keeps connecting as the owner.
DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vetred_api') THEN
		RAISE NOTICE 'role vetred_api does not exist: no grants';
		RETURN;
	END IF;
	GRANT USAGE ON SCHEMA public TO vetred_api;
	GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO vetred_api;
	REVOKE UPDATE, DELETE, TRUNCATE ON auditoria FROM vetred_api;
	REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON schema_migraciones FROM vetred_api;
	GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA public TO vetred_api;
	-- Tables of later migrations: the same DML for the API.
	EXECUTE format('ALTER DEFAULT PRIVILEGES FOR ROLE %I IN SCHEMA public '
	    'GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO vetred_api', current_user);
END
$$;
