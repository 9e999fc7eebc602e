-- 0009: fewer foreign-key checks on the booking path.
--
-- Every INSERT into citas ran one SELECT ... FOR KEY SHARE per foreign key.
-- Three of them bought nothing and cost the most under load:
--
-- * citas.sede_id -> sedes: citas_veterinario_sede_fk already requires
--   (veterinario_id, sede_id) in veterinario_sedes, whose sede_id
--   references sedes.  Its row lock on the site's one sedes row made
--   every concurrent booking of a site share a MultiXact (PostgreSQL
--   creates one whenever two transactions key-share-lock the same row),
--   ~120 bytes of WAL and an SLRU lookup per booking.
-- * citas.creado_por / actualizado_por -> usuarios: users are disabled,
--   never deleted (usuarios.activo), and who did what is kept by the
--   audit trail, which has no foreign keys for the same reason.  With
--   authentication these would key-share-lock the acting user's row on
--   every write.
ALTER TABLE citas DROP CONSTRAINT citas_sede_id_fkey;
ALTER TABLE citas DROP CONSTRAINT citas_creado_por_fkey;
ALTER TABLE citas DROP CONSTRAINT citas_actualizado_por_fkey;
COMMENT ON COLUMN citas.creado_por IS
	'User who booked it (usuarios.id, no foreign key: users are never deleted and the audit trail records who did what); NULL if booked by an integration without a user.';
COMMENT ON COLUMN citas.actualizado_por IS
	'User who made the last change (usuarios.id, no foreign key, as creado_por); NULL if never changed.';
