-- 0032: sealed values bound to their column, not to a column name.
--
-- lib/cifra.c sealed with the column's name as additional data ("v1:"),
-- so a value copied into a column of the same name in another table
-- opened there.  It now seals as "v2:<key id>:<nonce>:<ciphertext>" with
-- "table.column" as additional data (lib/cifra.c's one table of sealed
-- columns, shared by the API and vetred-admin).  "v1:" values still open
-- and vetred-admin cifrar re-seals them as "v2:"; until it has run, both
-- are in the tables, so the check that a sealed owner has its document
-- hash accepts either.  (The signed-entry trigger, clinico.sql, likewise.)

ALTER TABLE propietarios
	DROP CONSTRAINT propietarios_cifrado,
	ADD CONSTRAINT propietarios_cifrado CHECK (
	    (numero_documento ~ '^v[12]:') = (documento_hmac IS NOT NULL)
	    AND (numero_documento !~ '^v[12]:' OR telefono ~ '^v[12]:'));
COMMENT ON COLUMN propietarios.numero_documento IS 'Document number, sealed (AES-256-GCM, "v2:kid:nonce:ciphertext" bound to propietarios.numero_documento; "v1:" bound to the name only, until vetred-admin cifrar re-seals it); plain DNI 8 digits or CE 9-12 letters/digits only until vetred-admin cifrar has run.';
COMMENT ON COLUMN historia_entradas.anamnesis IS 'History as told by the owner; sealed (AES-256-GCM, "v2:kid:nonce:ciphertext" bound to historia_entradas.anamnesis; "v1:" until re-sealed).';
