-- 0025: a user's own request budget.
--
-- The API gives every user of an authenticated route a token bucket per
-- process: VETRED_RATE_PER_USER requests a second, bursts of
-- VETRED_RATE_BURST (fcgi-api/limite.c).  A row here replaces that default
-- for one user -- a kiosk or an integration that needs more, an account
-- to hold back, a test user with a small budget -- and reaches every API
-- process within about a second (they reload the table with the token
-- revocations).  Without a row, the default applies.
CREATE TABLE usuario_limites (
	usuario_id  bigint PRIMARY KEY REFERENCES usuarios (id) ON DELETE CASCADE,
	por_segundo numeric(12, 3) NOT NULL,
	rafaga      integer NOT NULL,
	creado_en   timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT usuario_limites_por_segundo_rango CHECK (por_segundo BETWEEN 0 AND 1000000),
	CONSTRAINT usuario_limites_por_segundo_util CHECK (por_segundo = 0 OR por_segundo >= 0.001),
	CONSTRAINT usuario_limites_rafaga_rango CHECK (rafaga BETWEEN 1 AND 4000000)
);
COMMENT ON TABLE usuario_limites IS 'Per-user request budgets that replace the API''s default (VETRED_RATE_PER_USER, VETRED_RATE_BURST) for one user; read by every API process once a second.';
COMMENT ON COLUMN usuario_limites.usuario_id IS 'The user whose budget this is.';
COMMENT ON COLUMN usuario_limites.por_segundo IS 'Requests a second per API process (the bucket''s refill rate; 0.5: one every 2 s); 0: no budget at all for this user.';
COMMENT ON COLUMN usuario_limites.rafaga IS 'Requests per API process that may come at once (the bucket''s size).';
COMMENT ON COLUMN usuario_limites.creado_en IS 'When the row was written.';

-- The API only reads budgets; they are set by the database's owner.
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vetred_api') THEN
		REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON usuario_limites FROM vetred_api;
		GRANT SELECT ON usuario_limites TO vetred_api;
	END IF;
END
$$;
