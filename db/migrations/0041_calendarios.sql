-- 0041: iCalendar feeds.  A user asks for the feed of a vet (their own)
-- or of a site and gets a secret URL; the database keeps only the
-- token's SHA-256.  The calendar worker writes each feed with a live
-- token as a file, and links the token's hash to it for nginx, which
-- serves it with ETag and Last-Modified.  Revoking a token removes its
-- link: the URL finds nothing.

CREATE TABLE calendarios (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	usuario_id     bigint NOT NULL REFERENCES usuarios (id) ON DELETE CASCADE,
	veterinario_id bigint REFERENCES veterinarios (id) ON DELETE CASCADE,
	sede_id        bigint REFERENCES sedes (id) ON DELETE CASCADE,
	token_sha256   bytea NOT NULL,
	creado_en      timestamptz NOT NULL DEFAULT now(),
	revocado_en    timestamptz,
	reemplaza_id   bigint REFERENCES calendarios (id) ON DELETE SET NULL,
	CONSTRAINT calendarios_token_unico UNIQUE (token_sha256),
	CONSTRAINT calendarios_token_sha256 CHECK (octet_length(token_sha256) = 32),
	CONSTRAINT calendarios_un_feed CHECK ((veterinario_id IS NULL) <> (sede_id IS NULL))
);
CREATE INDEX calendarios_usuario ON calendarios (usuario_id) WHERE revocado_en IS NULL;
CREATE INDEX calendarios_veterinario ON calendarios (veterinario_id) WHERE revocado_en IS NULL;
CREATE INDEX calendarios_sede ON calendarios (sede_id) WHERE revocado_en IS NULL;
COMMENT ON TABLE calendarios IS 'Secret feed URLs (iCalendar subscriptions): each grants one feed, a vet''s or a site''s, to whoever holds it; the token itself is never stored.';
COMMENT ON COLUMN calendarios.id IS 'Surrogate key.';
COMMENT ON COLUMN calendarios.usuario_id IS 'The user who asked for it (and may revoke or rotate it).';
COMMENT ON COLUMN calendarios.veterinario_id IS 'The vet whose appointments (every site) the feed holds; or NULL with sede_id.';
COMMENT ON COLUMN calendarios.sede_id IS 'The site whose appointments (every vet) the feed holds; or NULL with veterinario_id.';
COMMENT ON COLUMN calendarios.token_sha256 IS 'SHA-256 of the URL''s token (32 random bytes, base64url): what nginx looks the feed up by.';
COMMENT ON COLUMN calendarios.creado_en IS 'When it was issued.';
COMMENT ON COLUMN calendarios.revocado_en IS 'When it was revoked or rotated; NULL while it works.';
COMMENT ON COLUMN calendarios.reemplaza_id IS 'The token this one replaced (a rotation); NULL for a first one.';

CREATE TABLE calendario_feeds (
	tipo         text NOT NULL,
	ref_id       bigint NOT NULL,
	generado_en  timestamptz NOT NULL,
	eventos      integer NOT NULL,
	bytes        integer NOT NULL,
	PRIMARY KEY (tipo, ref_id),
	CONSTRAINT calendario_feeds_tipo_valido CHECK (tipo IN ('veterinario', 'sede'))
);
COMMENT ON TABLE calendario_feeds IS 'When the calendar worker last wrote each feed (a newer event than that regenerates it; older ones are already in it).';
COMMENT ON COLUMN calendario_feeds.tipo IS 'veterinario or sede.';
COMMENT ON COLUMN calendario_feeds.ref_id IS 'The vet''s or the site''s id.';
COMMENT ON COLUMN calendario_feeds.generado_en IS 'The transaction time of the last writing: every change committed before it is in the file.';
COMMENT ON COLUMN calendario_feeds.eventos IS 'How many VEVENTs it held.';
COMMENT ON COLUMN calendario_feeds.bytes IS 'Its size in bytes.';
