-- 0036: finding an owner at the desk (by any word of the name, a pet's
-- name, the document or the phone), merging two records of one person,
-- and versions for the owner's and the patient's optimistic updates.
--
-- The phone is sealed since 0014, so like the document it is found
-- through a keyed hash (telefono_hmac), filled by the API on every write
-- and for the rows already stored by vetred-admin cifrar.

ALTER TABLE propietarios
	ADD COLUMN telefono_hmac bytea,
	ADD COLUMN fusionado_en bigint REFERENCES propietarios (id) ON DELETE RESTRICT,
	ADD COLUMN fusionado_el timestamptz,
	ADD COLUMN version integer NOT NULL DEFAULT 1,
	ADD CONSTRAINT propietarios_telefono_hmac_sha256 CHECK (octet_length(telefono_hmac) = 32),
	ADD CONSTRAINT propietarios_fusion_coherente CHECK (
	    (fusionado_en IS NULL) = (fusionado_el IS NULL) AND fusionado_en <> id),
	ADD CONSTRAINT propietarios_version_positiva CHECK (version >= 1);
CREATE INDEX propietarios_telefono_hmac ON propietarios (telefono_hmac)
	WHERE telefono_hmac IS NOT NULL;
CREATE INDEX propietarios_fusionado_en ON propietarios (fusionado_en)
	WHERE fusionado_en IS NOT NULL;
COMMENT ON COLUMN propietarios.telefono_hmac IS 'HMAC-SHA256 of the phone (E.164) under the search key: how an owner is found by phone while the number stays sealed; NULL until the API or vetred-admin cifrar has written it.';
COMMENT ON COLUMN propietarios.fusionado_en IS 'Set when this record was merged into another owner (the one kept): its pets moved there, and reads of this id answer the kept owner.';
COMMENT ON COLUMN propietarios.fusionado_el IS 'When the record was merged; set if and only if fusionado_en.';
COMMENT ON COLUMN propietarios.version IS 'Bumped on every change; the ETag of GET and the If-Match of PUT /api/v1/propietarios/{id}.';

ALTER TABLE pacientes
	ADD COLUMN version integer NOT NULL DEFAULT 1,
	ADD COLUMN causa_fallecimiento text,
	ADD CONSTRAINT pacientes_version_positiva CHECK (version >= 1),
	ADD CONSTRAINT pacientes_causa_fallecimiento_coherente CHECK (
	    causa_fallecimiento IS NULL OR fallecido);
COMMENT ON COLUMN pacientes.version IS 'Bumped on every change; the ETag of GET and the If-Match of PUT /api/v1/pacientes/{id}.';
COMMENT ON COLUMN pacientes.causa_fallecimiento IS 'Cause of death as recorded by the clinic (its length checked by the API), sealed like alergias; only when fallecido.';

-- One row per word of an owner's names and of each of their pets' names,
-- normalised (nombre_paciente_clave: no case, no vowel accents).  A name
-- search is a range scan of the prefix of its first word, in the order
-- of the words (C collation: the index gives the order, no sort), and
-- the other words of the query must each begin a word of the same owner.
CREATE TABLE propietario_palabras (
	palabra        text COLLATE "C" NOT NULL,
	propietario_id bigint NOT NULL REFERENCES propietarios (id) ON DELETE CASCADE,
	paciente_id    bigint REFERENCES pacientes (id) ON DELETE CASCADE,
	CONSTRAINT propietario_palabras_valida CHECK (palabra <> '' AND char_length(palabra) <= 100
	    AND palabra !~ '\s')
);
CREATE INDEX propietario_palabras_palabra ON propietario_palabras (palabra, propietario_id);
CREATE INDEX propietario_palabras_propietario ON propietario_palabras (propietario_id, palabra);
CREATE INDEX propietario_palabras_paciente ON propietario_palabras (paciente_id)
	WHERE paciente_id IS NOT NULL;
COMMENT ON TABLE propietario_palabras IS 'Search words of owners: each word of nombres and apellidos (paciente_id NULL) and of the names of their pets (paciente_id set), normalised; kept by triggers on propietarios and pacientes. Merged owners have none.';
COMMENT ON COLUMN propietario_palabras.palabra IS 'One word, lower case without vowel accents (ñ kept), C collation so the index order is the display order.';
COMMENT ON COLUMN propietario_palabras.propietario_id IS 'The owner found by the word.';
COMMENT ON COLUMN propietario_palabras.paciente_id IS 'The pet whose name holds the word; NULL for the owner''s own names.';

INSERT INTO propietario_palabras (palabra, propietario_id, paciente_id)
SELECT DISTINCT w, o.id, NULL::bigint
FROM propietarios o,
     regexp_split_to_table(nombre_paciente_clave(o.nombres || ' ' || o.apellidos), ' ') AS w
WHERE w <> '';
INSERT INTO propietario_palabras (palabra, propietario_id, paciente_id)
SELECT DISTINCT w, p.propietario_id, p.id
FROM pacientes p,
     regexp_split_to_table(nombre_paciente_clave(p.nombre), ' ') AS w
WHERE w <> '';
