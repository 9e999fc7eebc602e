-- 0039: holidays.  A network holiday (sede_id NULL) closes every site
-- that day, Peru's national holidays preloaded for ten years; a site
-- adds its own (the city's patron saint) or opens on one of the
-- network's (cerrado = false).  A site open every holiday (an emergency
-- clinic) says so once: sedes.abre_en_feriados.  Closed days drop out of
-- the free slots and refuse bookings, as hours outside the schedule do.

CREATE TABLE feriados (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	sede_id     bigint REFERENCES sedes (id) ON DELETE CASCADE,
	fecha       date NOT NULL,
	nombre      text NOT NULL,
	cerrado     boolean NOT NULL DEFAULT true,
	creado_por  bigint REFERENCES usuarios (id) ON DELETE SET NULL,
	creado_en   timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT feriados_un_dia UNIQUE NULLS NOT DISTINCT (sede_id, fecha),
	CONSTRAINT feriados_nombre_valido CHECK (btrim(nombre) <> '' AND char_length(nombre) <= 120),
	CONSTRAINT feriados_red_cierra CHECK (sede_id IS NOT NULL OR cerrado),
	CONSTRAINT feriados_fecha_razonable CHECK (fecha BETWEEN DATE '2000-01-01' AND DATE '2100-12-31')
);
CREATE INDEX feriados_fecha ON feriados (fecha);
COMMENT ON TABLE feriados IS 'Days a site does not work: the network''s (sede_id NULL, every site) and each site''s own; a site''s row with cerrado = false opens it on a network holiday. At most one row per site (or the network) and day.';
COMMENT ON COLUMN feriados.id IS 'Surrogate key.';
COMMENT ON COLUMN feriados.sede_id IS 'The site the day concerns; NULL: a network holiday (national), closing every site that does not open on it.';
COMMENT ON COLUMN feriados.fecha IS 'The local date (of each site) the holiday falls on.';
COMMENT ON COLUMN feriados.nombre IS 'What is celebrated, in Spanish (shown in the agenda).';
COMMENT ON COLUMN feriados.cerrado IS 'True: the site (every site, for a network row) is closed that day; false, only for a site: it opens on that network holiday.';
COMMENT ON COLUMN feriados.creado_por IS 'User who added it; NULL for the preloaded national holidays.';
COMMENT ON COLUMN feriados.creado_en IS 'When the row was created.';

ALTER TABLE sedes ADD COLUMN abre_en_feriados boolean NOT NULL DEFAULT false;
COMMENT ON COLUMN sedes.abre_en_feriados IS 'True: the site works on the network''s holidays (an emergency clinic); its own holidays still close it.';

-- Peru's national non-working days (Ley 31788 and earlier): fixed dates,
-- and Holy Thursday and Good Friday from Easter Sunday (the anonymous
-- Gregorian computus).
WITH anios AS (SELECT generate_series(2026, 2035) AS y),
computo AS (
	SELECT y, y % 19 AS a, y / 100 AS b, y % 100 AS c FROM anios),
c2 AS (
	SELECT y, a, b, c, b / 4 AS d, b % 4 AS e, (b - (b + 8) / 25 + 1) / 3 AS g,
	       c / 4 AS i, c % 4 AS k FROM computo),
c3 AS (
	SELECT y, a, e, i, k, (19 * a + b - d - g + 15) % 30 AS h FROM c2),
c4 AS (
	SELECT y, a, h, (32 + 2 * e + 2 * i - h - k) % 7 AS l FROM c3),
pascua AS (
	SELECT y, make_date(y, (h + l - 7 * ((a + 11 * h + 22 * l) / 451) + 114) / 31,
	    (h + l - 7 * ((a + 11 * h + 22 * l) / 451) + 114) % 31 + 1) AS domingo
	FROM c4),
fijos (mes, dia, nombre) AS (VALUES
	(1, 1, 'Año Nuevo'),
	(5, 1, 'Día del Trabajo'),
	(6, 7, 'Batalla de Arica y Día de la Bandera'),
	(6, 29, 'San Pedro y San Pablo'),
	(7, 23, 'Día de la Fuerza Aérea del Perú'),
	(7, 28, 'Fiestas Patrias'),
	(7, 29, 'Fiestas Patrias'),
	(8, 6, 'Batalla de Junín'),
	(8, 30, 'Santa Rosa de Lima'),
	(10, 8, 'Combate de Angamos'),
	(11, 1, 'Día de Todos los Santos'),
	(12, 8, 'Inmaculada Concepción'),
	(12, 9, 'Batalla de Ayacucho'),
	(12, 25, 'Navidad'))
INSERT INTO feriados (sede_id, fecha, nombre)
SELECT NULL::bigint, make_date(a.y, f.mes, f.dia), f.nombre FROM anios a, fijos f
UNION ALL
SELECT NULL, p.domingo - 3, 'Jueves Santo' FROM pascua p
UNION ALL
SELECT NULL, p.domingo - 2, 'Viernes Santo' FROM pascua p
ON CONFLICT (sede_id, fecha) DO NOTHING;


ALTER TABLE horarios ADD COLUMN registrado_por bigint REFERENCES usuarios (id) ON DELETE SET NULL;
COMMENT ON COLUMN horarios.registrado_por IS 'User who set the block through the API; NULL for blocks loaded otherwise.';
