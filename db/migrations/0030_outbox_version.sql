-- 0030: the version of an event's payload schema.
--
-- Each event type has a payload schema of its own, versioned
-- (db/eventos/TYPE.vN.json); the row says which version its payload
-- follows, so the relay can stamp the message and a consumer can tell a
-- v2 from a v1 of the same type.  Rows written before carry v1, the only
-- version there was.
ALTER TABLE outbox ADD COLUMN version_esquema smallint NOT NULL DEFAULT 1,
	ADD CONSTRAINT outbox_version_esquema_positiva CHECK (version_esquema >= 1);
COMMENT ON COLUMN outbox.version_esquema IS
	'Version of the payload schema of the event type (db/eventos/<tipo>.v<version>.json).';
