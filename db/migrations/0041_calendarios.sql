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
	tipo            text NOT NULL,
	ref_id          bigint NOT NULL,
	pendiente_desde timestamptz,
	marca           bigint NOT NULL DEFAULT 0,
	generado_en     timestamptz,
	eventos         integer NOT NULL DEFAULT 0,
	bytes           integer NOT NULL DEFAULT 0,
	PRIMARY KEY (tipo, ref_id),
	CONSTRAINT calendario_feeds_tipo_valido CHECK (tipo IN ('veterinario', 'sede'))
);
CREATE INDEX calendario_feeds_pendientes ON calendario_feeds (pendiente_desde)
	WHERE pendiente_desde IS NOT NULL;
COMMENT ON TABLE calendario_feeds IS 'The feeds to write and written: the calendar consumer marks a feed an event concerns; the worker''s writer renders each marked feed once its marks have settled (a burst of bookings, one writing).';
COMMENT ON COLUMN calendario_feeds.tipo IS 'veterinario or sede.';
COMMENT ON COLUMN calendario_feeds.ref_id IS 'The vet''s or the site''s id.';
COMMENT ON COLUMN calendario_feeds.pendiente_desde IS 'First mark not yet written; NULL: the file holds every change marked.';
COMMENT ON COLUMN calendario_feeds.marca IS 'Counts the marks: a writing clears pendiente_desde only if no mark came while it rendered.';
COMMENT ON COLUMN calendario_feeds.generado_en IS 'When it was last written; NULL: never.';
COMMENT ON COLUMN calendario_feeds.eventos IS 'How many VEVENTs it held.';
COMMENT ON COLUMN calendario_feeds.bytes IS 'Its size in bytes.';
