-- 0038: clinical entries written through the API: SOAP with diagnoses
-- from the network's coded list, vital signs and the weight taken in the
-- visit, and versions.  A signed entry never changes: a correction (its
-- author, within 24 h of the first version) or an amendment (anyone who
-- may write the record there, with a reason, at any time) is a new row
-- that names the version it replaces; both stay in the history.

CREATE TABLE diagnosticos (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	codigo         text NOT NULL,
	nombre         text NOT NULL,
	categoria      text NOT NULL,
	especies       text[],
	activo         boolean NOT NULL DEFAULT true,
	creado_por     bigint REFERENCES usuarios (id) ON DELETE SET NULL,
	creado_en      timestamptz NOT NULL DEFAULT now(),
	actualizado_en timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT diagnosticos_codigo_unico UNIQUE (codigo),
	CONSTRAINT diagnosticos_nombre_unico UNIQUE (nombre),
	CONSTRAINT diagnosticos_codigo_formato CHECK (codigo ~ '^[A-Z]{2,5}-[A-Z0-9]{2,12}$'),
	CONSTRAINT diagnosticos_nombre_valido CHECK (btrim(nombre) <> '' AND char_length(nombre) <= 160),
	CONSTRAINT diagnosticos_categoria_valida CHECK (categoria IN
	    ('dermatologia', 'digestivo', 'respiratorio', 'cardiovascular', 'urinario',
	     'reproductivo', 'musculoesqueletico', 'neurologico', 'oftalmologia', 'otologia',
	     'odontologia', 'endocrino', 'infeccioso', 'parasitario', 'oncologia',
	     'traumatologia', 'toxicologia', 'conducta', 'nutricion', 'preventivo', 'otro')),
	CONSTRAINT diagnosticos_especies_validas CHECK (cardinality(especies) >= 1
	    AND especies <@ ARRAY['canino', 'felino', 'ave', 'conejo', 'roedor', 'reptil', 'otro'])
);
COMMENT ON TABLE diagnosticos IS 'The network''s coded list of diagnoses a clinical entry names; extended by the network''s administrators (POST /api/v1/diagnosticos), never deleted (activo = false retires one).';
COMMENT ON COLUMN diagnosticos.id IS 'Surrogate key.';
COMMENT ON COLUMN diagnosticos.codigo IS 'Stable code reports group by: a category prefix of 2-5 letters, a dash, 2-12 letters or digits (DER-DAPP).';
COMMENT ON COLUMN diagnosticos.nombre IS 'Name in Spanish, unique.';
COMMENT ON COLUMN diagnosticos.categoria IS 'Body system or kind: dermatologia, digestivo, respiratorio, ... preventivo, otro.';
COMMENT ON COLUMN diagnosticos.especies IS 'Species it applies to; NULL: any.';
COMMENT ON COLUMN diagnosticos.activo IS 'False: no longer offered for new entries (kept for the history).';
COMMENT ON COLUMN diagnosticos.creado_por IS 'Administrator who added it; NULL for the preloaded list.';
COMMENT ON COLUMN diagnosticos.creado_en IS 'When the row was created.';
COMMENT ON COLUMN diagnosticos.actualizado_en IS 'When the row was last updated (trigger).';

INSERT INTO diagnosticos (codigo, nombre, categoria, especies) VALUES
	('PRE-SANO', 'Paciente sano (control preventivo)', 'preventivo', NULL),
	('DER-DAPP', 'Dermatitis alérgica por picadura de pulgas', 'dermatologia', '{canino,felino}'),
	('DER-ATOP', 'Dermatitis atópica', 'dermatologia', '{canino,felino}'),
	('DER-PIOD', 'Pioderma superficial', 'dermatologia', '{canino}'),
	('DER-SARNA', 'Sarna sarcóptica', 'dermatologia', '{canino}'),
	('DER-DEMOD', 'Demodicosis', 'dermatologia', '{canino}'),
	('DER-DERMF', 'Dermatofitosis (tiña)', 'dermatologia', '{canino,felino,conejo,roedor}'),
	('OTO-EXT', 'Otitis externa', 'otologia', NULL),
	('OTO-ACAR', 'Otoacariasis (Otodectes)', 'otologia', '{canino,felino,conejo}'),
	('DIG-GEA', 'Gastroenteritis aguda', 'digestivo', NULL),
	('DIG-PARVO', 'Parvovirosis canina', 'infeccioso', '{canino}'),
	('DIG-PANC', 'Pancreatitis', 'digestivo', '{canino,felino}'),
	('DIG-CEXT', 'Cuerpo extraño gastrointestinal', 'digestivo', NULL),
	('DIG-ESTAS', 'Estasis gastrointestinal', 'digestivo', '{conejo,roedor}'),
	('ODO-PERIO', 'Enfermedad periodontal', 'odontologia', '{canino,felino}'),
	('ODO-MALOC', 'Maloclusión dental', 'odontologia', '{conejo,roedor}'),
	('RES-TRAQ', 'Traqueobronquitis infecciosa canina', 'respiratorio', '{canino}'),
	('RES-CRF', 'Complejo respiratorio felino', 'respiratorio', '{felino}'),
	('RES-NEUM', 'Neumonía', 'respiratorio', NULL),
	('CAR-MVD', 'Enfermedad degenerativa de la válvula mitral', 'cardiovascular', '{canino}'),
	('CAR-CMH', 'Cardiomiopatía hipertrófica', 'cardiovascular', '{felino}'),
	('CAR-DIRO', 'Dirofilariosis', 'parasitario', '{canino,felino}'),
	('URI-ITU', 'Infección del tracto urinario', 'urinario', NULL),
	('URI-ERC', 'Enfermedad renal crónica', 'urinario', '{canino,felino}'),
	('URI-FLUTD', 'Enfermedad del tracto urinario inferior felino', 'urinario', '{felino}'),
	('URI-UROL', 'Urolitiasis', 'urinario', NULL),
	('REP-PIOM', 'Piometra', 'reproductivo', '{canino,felino,conejo}'),
	('REP-GEST', 'Gestación', 'reproductivo', NULL),
	('MUS-DISCA', 'Displasia de cadera', 'musculoesqueletico', '{canino}'),
	('MUS-LCC', 'Rotura del ligamento cruzado craneal', 'musculoesqueletico', '{canino}'),
	('MUS-OSTEO', 'Osteoartritis', 'musculoesqueletico', '{canino,felino}'),
	('TRA-FRACT', 'Fractura', 'traumatologia', NULL),
	('TRA-HERID', 'Herida por mordedura', 'traumatologia', NULL),
	('NEU-EPIL', 'Epilepsia idiopática', 'neurologico', '{canino,felino}'),
	('NEU-MOQ', 'Moquillo canino (distemper)', 'infeccioso', '{canino}'),
	('OFT-CONJ', 'Conjuntivitis', 'oftalmologia', NULL),
	('OFT-ULCER', 'Úlcera corneal', 'oftalmologia', NULL),
	('OFT-QCS', 'Queratoconjuntivitis seca', 'oftalmologia', '{canino}'),
	('END-DM', 'Diabetes mellitus', 'endocrino', '{canino,felino}'),
	('END-HIPOT', 'Hipotiroidismo', 'endocrino', '{canino}'),
	('END-HIPERT', 'Hipertiroidismo', 'endocrino', '{felino}'),
	('END-CUSH', 'Hiperadrenocorticismo (síndrome de Cushing)', 'endocrino', '{canino}'),
	('INF-LEPTO', 'Leptospirosis', 'infeccioso', '{canino}'),
	('INF-EHRL', 'Ehrlichiosis canina', 'infeccioso', '{canino}'),
	('INF-FELV', 'Leucemia felina (FeLV)', 'infeccioso', '{felino}'),
	('INF-FIV', 'Inmunodeficiencia felina (FIV)', 'infeccioso', '{felino}'),
	('INF-PIF', 'Peritonitis infecciosa felina', 'infeccioso', '{felino}'),
	('INF-RABIA', 'Rabia (sospecha; notificación obligatoria)', 'infeccioso', NULL),
	('PAR-GI', 'Parasitosis gastrointestinal', 'parasitario', NULL),
	('PAR-GARR', 'Infestación por garrapatas', 'parasitario', '{canino}'),
	('ONC-MAMA', 'Neoplasia mamaria', 'oncologia', '{canino,felino}'),
	('ONC-MAST', 'Mastocitoma', 'oncologia', '{canino}'),
	('ONC-LINF', 'Linfoma', 'oncologia', '{canino,felino}'),
	('TOX-INTOX', 'Intoxicación', 'toxicologia', NULL),
	('NUT-OBES', 'Obesidad', 'nutricion', NULL),
	('NUT-METAB', 'Enfermedad metabólica ósea', 'nutricion', '{reptil,ave}'),
	('CON-ANSIE', 'Ansiedad por separación', 'conducta', '{canino}'),
	('CON-AGRES', 'Agresividad', 'conducta', '{canino,felino}')
ON CONFLICT (codigo) DO NOTHING;

ALTER TABLE historia_entradas
	ADD COLUMN temperatura_c           numeric(3,1),
	ADD COLUMN frecuencia_cardiaca     smallint,
	ADD COLUMN frecuencia_respiratoria smallint,
	ADD COLUMN peso_gramos             integer,
	ADD COLUMN version                 smallint NOT NULL DEFAULT 1,
	ADD COLUMN original_id             bigint REFERENCES historia_entradas (id) ON DELETE RESTRICT,
	ADD COLUMN cambio                  text,
	ADD COLUMN motivo_cambio           text,
	ADD COLUMN registrado_por          bigint REFERENCES usuarios (id) ON DELETE SET NULL,
	-- Body temperature of every species the network sees: reptiles sit
	-- far below mammals, birds above.
	ADD CONSTRAINT historia_entradas_temperatura_valida CHECK (temperatura_c BETWEEN 10.0 AND 46.0),
	-- A shrew's or a hummingbird's heart can pass 1,000 beats a minute.
	ADD CONSTRAINT historia_entradas_fc_valida CHECK (frecuencia_cardiaca BETWEEN 1 AND 1500),
	ADD CONSTRAINT historia_entradas_fr_valida CHECK (frecuencia_respiratoria BETWEEN 1 AND 300),
	ADD CONSTRAINT historia_entradas_peso_valido CHECK (peso_gramos > 0 AND peso_gramos <= 300000),
	ADD CONSTRAINT historia_entradas_version_valida CHECK (version BETWEEN 1 AND 1000),
	ADD CONSTRAINT historia_entradas_cambio_valido CHECK (cambio IN ('correccion', 'enmienda')),
	ADD CONSTRAINT historia_entradas_motivo_cambio_valido CHECK (btrim(motivo_cambio) <> ''
	    AND char_length(motivo_cambio) <= 1000),
	-- An amendment says why; a first version says nothing of a change.
	ADD CONSTRAINT historia_entradas_enmienda_motivada CHECK (cambio <> 'enmienda'
	    OR motivo_cambio IS NOT NULL),
	ADD CONSTRAINT historia_entradas_version_coherente CHECK ((version = 1) = (cambio IS NULL)
	    AND (cambio IS NULL OR (corrige_id IS NOT NULL AND original_id IS NOT NULL))),
	-- A version is replaced at most once: two amendments racing for the
	-- same version, one wins and the other is told which one did.
	ADD CONSTRAINT historia_entradas_una_sucesora UNIQUE (corrige_id);
COMMENT ON COLUMN historia_entradas.temperatura_c IS 'Rectal (or cloacal) temperature in °C, one decimal; NULL if not taken.';
COMMENT ON COLUMN historia_entradas.frecuencia_cardiaca IS 'Heart rate, beats per minute; NULL if not taken.';
COMMENT ON COLUMN historia_entradas.frecuencia_respiratoria IS 'Respiratory rate, breaths per minute; NULL if not taken.';
COMMENT ON COLUMN historia_entradas.peso_gramos IS 'Weight taken in the visit, grams; it is also a row of paciente_pesos (the weight series).';
COMMENT ON COLUMN historia_entradas.version IS '1 for the entry as first written; n + 1 for the version replacing version n.';
COMMENT ON COLUMN historia_entradas.original_id IS 'First version of the entry this row is a version of; NULL on the first version itself.';
COMMENT ON COLUMN historia_entradas.corrige_id IS 'The version this one replaces (version - 1 of the same entry), or for older rows an earlier entry it corrects; the replaced version stays as written. Unique: a version has at most one successor.';
COMMENT ON COLUMN historia_entradas.cambio IS 'correccion (by the author within 24 h of the first version) or enmienda (with a reason, at any time); NULL on a first version.';
COMMENT ON COLUMN historia_entradas.motivo_cambio IS 'Why the version was written: required for an amendment, optional for a correction. Staff-visible.';
COMMENT ON COLUMN historia_entradas.registrado_por IS 'User who wrote this version (the vet, or staff writing for them).';

CREATE INDEX historia_entradas_original ON historia_entradas (original_id) WHERE original_id IS NOT NULL;

CREATE TABLE historia_entrada_diagnosticos (
	entrada_id     bigint NOT NULL REFERENCES historia_entradas (id) ON DELETE RESTRICT,
	diagnostico_id bigint NOT NULL REFERENCES diagnosticos (id) ON DELETE RESTRICT,
	orden          smallint NOT NULL,
	caracter       text NOT NULL DEFAULT 'presuntivo',
	PRIMARY KEY (entrada_id, diagnostico_id),
	CONSTRAINT historia_entrada_diagnosticos_orden_unico UNIQUE (entrada_id, orden),
	CONSTRAINT historia_entrada_diagnosticos_orden_valido CHECK (orden BETWEEN 1 AND 20),
	CONSTRAINT historia_entrada_diagnosticos_caracter_valido CHECK (caracter IN
	    ('presuntivo', 'definitivo', 'descartado'))
);
CREATE INDEX historia_entrada_diagnosticos_diagnostico ON historia_entrada_diagnosticos (diagnostico_id);
COMMENT ON TABLE historia_entrada_diagnosticos IS 'The coded diagnoses of one version of a clinical entry, in the vet''s order; written with the version and immutable like it (trigger).';
COMMENT ON COLUMN historia_entrada_diagnosticos.entrada_id IS 'The entry version.';
COMMENT ON COLUMN historia_entrada_diagnosticos.diagnostico_id IS 'The diagnosis (coded list).';
COMMENT ON COLUMN historia_entrada_diagnosticos.orden IS 'Position in the entry, 1 = main diagnosis.';
COMMENT ON COLUMN historia_entrada_diagnosticos.caracter IS 'presuntivo, definitivo or descartado (ruled out).';

ALTER TABLE paciente_pesos
	ADD COLUMN historia_entrada_id bigint REFERENCES historia_entradas (id) ON DELETE RESTRICT,
	ADD CONSTRAINT paciente_pesos_entrada_unica UNIQUE (historia_entrada_id);
COMMENT ON COLUMN paciente_pesos.historia_entrada_id IS 'The current version of the clinical entry the weight was taken in; NULL for a weighing recorded on its own. An amendment of the weight moves the row to the new version.';

INSERT INTO veredictos (codigo, descripcion) VALUES
	('entrada-bloqueada', 'Refused: the clinical entry locked 24 h after it was first written; only an amendment, with its reason, may replace it now.')
ON CONFLICT (codigo) DO NOTHING;
