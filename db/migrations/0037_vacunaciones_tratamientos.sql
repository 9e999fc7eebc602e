-- 0037: vaccinations and treatments recorded through the API: the
-- vaccine product given, the treatment's follow-up date, who recorded
-- each; and the network's vaccine catalog as reference data (it was demo
-- data only, so a new network had nothing to record a vaccination of).

ALTER TABLE vacunaciones
	ADD COLUMN producto text,
	ADD COLUMN registrado_por bigint REFERENCES usuarios (id) ON DELETE SET NULL,
	ADD CONSTRAINT vacunaciones_producto_valido CHECK (btrim(producto) <> '' AND char_length(producto) <= 120);
COMMENT ON COLUMN vacunaciones.producto IS 'Commercial product given (brand and presentation, e.g. Nobivac DHPPi), as on the vial; NULL when not recorded.';
COMMENT ON COLUMN vacunaciones.registrado_por IS 'User who recorded the vaccination (the vet, or staff recording for them).';

ALTER TABLE tratamientos
	ADD COLUMN fecha_seguimiento date,
	ADD COLUMN registrado_por bigint REFERENCES usuarios (id) ON DELETE SET NULL,
	ADD CONSTRAINT tratamientos_seguimiento_posterior CHECK (fecha_seguimiento >= inicio);
COMMENT ON COLUMN tratamientos.fecha_seguimiento IS 'Date of the follow-up visit the vet asked for; drives its reminder. NULL: none.';
COMMENT ON COLUMN tratamientos.registrado_por IS 'User who recorded the treatment.';
CREATE INDEX tratamientos_seguimiento ON tratamientos (fecha_seguimiento)
	WHERE fecha_seguimiento IS NOT NULL;

INSERT INTO vacunas (codigo, nombre, especie, enfermedades, esencial, esquema) VALUES
	('CAN-DHPP', 'Polivalente canina (moquillo, adenovirus, parvovirus)', 'canino',
	 '{moquillo canino,hepatitis infecciosa canina (adenovirus canino),parvovirosis canina}', true,
	 'Cada 2 a 4 semanas desde las 6-8 semanas de edad hasta las 16 semanas o más; refuerzo a los 6-12 meses; luego cada 3 años o más.'),
	('CAN-RABIA', 'Antirrábica canina', 'canino', '{rabia}', true,
	 'Primera dosis desde las 12 semanas; refuerzo al año; luego cada 1 a 3 años según el producto. Obligatoria en el Perú.'),
	('CAN-LEPTO', 'Leptospirosis canina', 'canino', '{leptospirosis}', false,
	 'Dos dosis con 2 a 4 semanas de intervalo desde las 8 semanas; luego anual.'),
	('CAN-TOS', 'Traqueobronquitis infecciosa canina', 'canino',
	 '{Bordetella bronchiseptica,parainfluenza canina}', false,
	 'Según producto (intranasal u oral: una dosis); luego anual. Para perros en guarderías o que viajan.'),
	('FEL-TRIPLE', 'Triple felina (panleucopenia, herpesvirus, calicivirus)', 'felino',
	 '{panleucopenia felina,rinotraqueítis felina (herpesvirus felino 1),calicivirus felino}', true,
	 'Cada 3 a 4 semanas desde las 6 semanas de edad hasta las 16 semanas o más; refuerzo al año; luego cada 3 años o más.'),
	('FEL-RABIA', 'Antirrábica felina', 'felino', '{rabia}', true,
	 'Primera dosis desde las 12 semanas; refuerzo al año; luego cada 1 a 3 años según el producto.'),
	('FEL-LEUC', 'Leucemia felina', 'felino', '{leucemia felina (FeLV)}', false,
	 'Gatos con acceso al exterior, previo test negativo: dos dosis con 3 a 4 semanas de intervalo desde las 8 semanas; refuerzo al año.'),
	('CON-MIXO-VHD', 'Mixomatosis y enfermedad hemorrágica vírica del conejo', 'conejo',
	 '{mixomatosis,enfermedad hemorrágica vírica del conejo}', true,
	 'Desde las 5 semanas de edad; luego anual.')
ON CONFLICT (codigo) DO NOTHING;
