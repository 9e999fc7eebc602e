-- Demo data for `make run`: three sites, their rooms, staff and roles,
-- six vets with weekly hours, ten owners, fifteen pets with weights and
-- some history, the vaccine catalog, and a few appointments next week.
--
-- Idempotent: every insert is keyed on a natural key (ON CONFLICT DO
-- NOTHING, which also skips rows an exclusion constraint refuses) or
-- guarded by NOT EXISTS, so loading it twice changes nothing.  Fixed
-- dates are in the past; appointments are computed from now() and only
-- inserted for patients with no upcoming appointment.

-- Scratch objects of this script (temporary, dropped again at the end);
-- plain temporary objects so the file also works outside a transaction.
SET client_min_messages = warning;
DROP VIEW IF EXISTS pg_temp.demo_paciente;
DROP TABLE IF EXISTS pg_temp.demo_asignacion, pg_temp.demo_pacientes;

-- Sites and rooms -----------------------------------------------------

INSERT INTO sedes (codigo, nombre, ciudad, direccion, telefono, zona_horaria) VALUES
	('LIM-01', 'VetRed Miraflores', 'Lima', 'Av. José Larco 1150, Miraflores', '+5114451234', 'America/Lima'),
	('AQP-01', 'VetRed Yanahuara', 'Arequipa', 'Av. Ejército 710, Yanahuara', '+5154256789', 'America/Lima'),
	('CUS-01', 'VetRed Wanchaq', 'Cusco', 'Av. de la Cultura 1020, Wanchaq', '+5184234567', 'America/Lima')
ON CONFLICT (codigo) DO NOTHING;

INSERT INTO consultorios (sede_id, nombre, tipo)
SELECT s.id, c.nombre, c.tipo
FROM (VALUES
	('LIM-01', 'Consultorio 1', 'consulta'), ('LIM-01', 'Quirófano', 'cirugia'),
	('AQP-01', 'Consultorio 1', 'consulta'), ('AQP-01', 'Consultorio 2', 'consulta'),
	('CUS-01', 'Consultorio 1', 'consulta'), ('CUS-01', 'Sala de procedimientos', 'procedimientos')
) AS c (codigo, nombre, tipo)
JOIN sedes s ON s.codigo = c.codigo
ON CONFLICT (sede_id, nombre) DO NOTHING;

-- Users and roles (no passwords: password_hash stays NULL) ------------

INSERT INTO usuarios (email, nombre) VALUES
	('admin.red@vetred.pe', 'Rosa Elena Quispe Salazar'),
	('auditoria@vetred.pe', 'Martín Alonso Vega Ríos'),
	('admin.lim@vetred.pe', 'Patricia Núñez Castillo'),
	('admin.aqp@vetred.pe', 'Luis Alberto Medina Cornejo'),
	('admin.cus@vetred.pe', 'Yolanda Huamán Sutta'),
	('recepcion.lim@vetred.pe', 'Karina Flores Espinoza'),
	('recepcion.aqp@vetred.pe', 'Diego Valdivia Linares'),
	('recepcion.cus@vetred.pe', 'Marleni Quispe Ccahuana'),
	('farmacia.lim@vetred.pe', 'Óscar Ramírez Tello'),
	('farmacia.aqp@vetred.pe', 'Gabriela Rivera Zúñiga'),
	('farmacia.cus@vetred.pe', 'Edwin Mamani Apaza'),
	('lucia.fernandez@vetred.pe', 'Lucía Fernández Rojas'),
	('jorge.huaman@vetred.pe', 'Jorge Huamán Torres'),
	('carmen.zegarra@vetred.pe', 'Carmen Zegarra Delgado'),
	('renzo.paredes@vetred.pe', 'Renzo Paredes Chávez'),
	('milagros.ccori@vetred.pe', 'Milagros Ccori Mamani'),
	('wilber.condori@vetred.pe', 'Wilber Condori Huallpa')
ON CONFLICT ((lower(email))) DO NOTHING;

INSERT INTO usuario_roles (usuario_id, sede_id, rol)
SELECT u.id, s.id, r.rol
FROM (VALUES
	('admin.red@vetred.pe', NULL, 'admin_red'),
	('auditoria@vetred.pe', NULL, 'auditor'),
	('admin.lim@vetred.pe', 'LIM-01', 'admin_sede'),
	('admin.aqp@vetred.pe', 'AQP-01', 'admin_sede'),
	('admin.cus@vetred.pe', 'CUS-01', 'admin_sede'),
	('recepcion.lim@vetred.pe', 'LIM-01', 'recepcion'),
	('recepcion.aqp@vetred.pe', 'AQP-01', 'recepcion'),
	('recepcion.cus@vetred.pe', 'CUS-01', 'recepcion'),
	('farmacia.lim@vetred.pe', 'LIM-01', 'farmacia'),
	('farmacia.aqp@vetred.pe', 'AQP-01', 'farmacia'),
	('farmacia.cus@vetred.pe', 'CUS-01', 'farmacia'),
	('lucia.fernandez@vetred.pe', 'LIM-01', 'veterinario'),
	('jorge.huaman@vetred.pe', 'LIM-01', 'veterinario'),
	('jorge.huaman@vetred.pe', 'AQP-01', 'veterinario'),
	('carmen.zegarra@vetred.pe', 'AQP-01', 'veterinario'),
	('renzo.paredes@vetred.pe', 'AQP-01', 'veterinario'),
	('milagros.ccori@vetred.pe', 'CUS-01', 'veterinario'),
	('wilber.condori@vetred.pe', 'CUS-01', 'veterinario')
) AS r (email, codigo, rol)
JOIN usuarios u ON lower(u.email) = r.email
LEFT JOIN sedes s ON s.codigo = r.codigo
ON CONFLICT DO NOTHING;

-- Vets, their sites and weekly hours ----------------------------------

INSERT INTO veterinarios (usuario_id, nombres, apellidos, cmvp, especialidad)
SELECT u.id, v.nombres, v.apellidos, v.cmvp, v.especialidad
FROM (VALUES
	('lucia.fernandez@vetred.pe', 'Lucía', 'Fernández Rojas', '10234', 'Medicina interna'),
	('jorge.huaman@vetred.pe', 'Jorge', 'Huamán Torres', '11876', 'Cirugía de tejidos blandos'),
	('carmen.zegarra@vetred.pe', 'Carmen', 'Zegarra Delgado', '12045', NULL),
	('renzo.paredes@vetred.pe', 'Renzo', 'Paredes Chávez', '12990', 'Dermatología'),
	('milagros.ccori@vetred.pe', 'Milagros', 'Ccori Mamani', '13452', NULL),
	('wilber.condori@vetred.pe', 'Wilber', 'Condori Huallpa', '13987', 'Animales exóticos')
) AS v (email, nombres, apellidos, cmvp, especialidad)
JOIN usuarios u ON lower(u.email) = v.email
ON CONFLICT DO NOTHING;

-- Jorge Huamán works in Lima Monday to Thursday and in Arequipa on
-- Friday and Saturday; everybody else works at one site.
CREATE TEMPORARY TABLE demo_asignacion (cmvp text, codigo text, dias int[]);
INSERT INTO demo_asignacion VALUES
	('10234', 'LIM-01', '{1,2,3,4,5,6}'),
	('11876', 'LIM-01', '{1,2,3,4}'),
	('11876', 'AQP-01', '{5,6}'),
	('12045', 'AQP-01', '{1,2,3,4,5,6}'),
	('12990', 'AQP-01', '{1,2,3,4,5,6}'),
	('13452', 'CUS-01', '{1,2,3,4,5,6}'),
	('13987', 'CUS-01', '{1,2,3,4,5,6}');

INSERT INTO veterinario_sedes (veterinario_id, sede_id)
SELECT DISTINCT v.id, s.id
FROM demo_asignacion a
JOIN veterinarios v ON v.cmvp = a.cmvp
JOIN sedes s ON s.codigo = a.codigo
ON CONFLICT DO NOTHING;

-- Monday to Friday 08:00-13:00 and 14:00-19:00, Saturday 09:00-13:00.
INSERT INTO horarios (veterinario_id, sede_id, dia_semana, hora_inicio, hora_fin, vigente_desde)
SELECT v.id, s.id, b.dia, b.inicio, b.fin, DATE '2024-01-01'
FROM demo_asignacion a
JOIN veterinarios v ON v.cmvp = a.cmvp
JOIN sedes s ON s.codigo = a.codigo
JOIN (
	SELECT d AS dia, t.inicio, t.fin
	FROM generate_series(1, 5) AS d
	CROSS JOIN (VALUES (time '08:00', time '13:00'), (time '14:00', time '19:00')) AS t (inicio, fin)
	UNION ALL
	SELECT 6, time '09:00', time '13:00'
) AS b ON b.dia = ANY (a.dias)
ON CONFLICT DO NOTHING;

-- Owners and pets -----------------------------------------------------

INSERT INTO propietarios (nombres, apellidos, tipo_documento, numero_documento, telefono, email, direccion, sede_registro_id)
SELECT p.nombres, p.apellidos, 'DNI', p.dni, p.telefono, p.email, p.direccion, s.id
FROM (VALUES
	('María Fernanda', 'García López', '41235678', '+51987654321', 'mfgarcia@correo.pe', 'Calle Los Pinos 245, Miraflores', 'LIM-01'),
	('José Antonio', 'Rodríguez Vargas', '10456789', '+51976543210', NULL, 'Av. Benavides 3400, Surco', 'LIM-01'),
	('Ana Lucía', 'Chávez Paredes', '45678123', '+51965432109', 'ana.chavez@correo.pe', NULL, 'LIM-01'),
	('Carlos Enrique', 'Mendoza Ruiz', '07894561', '+51954321098', 'cmendoza@correo.pe', 'Jr. Huiracocha 1230, Jesús María', 'LIM-01'),
	('Rosa Angélica', 'Torres Salinas', '29456123', '+51943210987', NULL, 'Calle Misti 115, Yanahuara', 'AQP-01'),
	('Juan Carlos', 'Begazo Polar', '29871234', '+51932109876', 'jcbegazo@correo.pe', 'Av. Cayma 402, Cayma', 'AQP-01'),
	('Lourdes', 'Cornejo Díaz', '44123987', '+51921098765', 'lcornejo@correo.pe', NULL, 'AQP-01'),
	('Wilfredo', 'Quispe Huamán', '23987456', '+51910987654', NULL, 'Av. Tullumayu 560, Cusco', 'CUS-01'),
	('Elizabeth', 'Mamani Condori', '46789012', '+51998765432', 'emamani@correo.pe', 'Urb. Magisterio G-12, Cusco', 'CUS-01'),
	('Raúl', 'Huillca Ttito', '24156789', '+51987123456', 'rhuillca@correo.pe', NULL, 'CUS-01')
) AS p (nombres, apellidos, dni, telefono, email, direccion, codigo)
JOIN sedes s ON s.codigo = p.codigo
-- By name, not by DNI: once vetred-admin cifrar has sealed the numbers, a
-- DNI compares equal to no stored one, and a changed seed file applied
-- again would add every owner a second time (cifrar then refuses the
-- duplicate document hashes).  The rows below find owners by DNI, so on
-- a sealed database they find none and add nothing.
WHERE NOT EXISTS (SELECT 1 FROM propietarios o
                  WHERE o.nombres = p.nombres AND o.apellidos = p.apellidos)
ON CONFLICT DO NOTHING;

CREATE TEMPORARY TABLE demo_pacientes (
	dni text, nombre text, especie text, raza text, sexo text, esterilizado boolean,
	fecha_nacimiento date, microchip text, color text, codigo text);
INSERT INTO demo_pacientes VALUES
	('41235678', 'Rocky', 'canino', 'Labrador retriever', 'macho', true, '2019-03-14', '604000012345671', 'dorado', 'LIM-01'),
	('41235678', 'Michi', 'felino', 'Doméstico de pelo corto', 'hembra', true, '2021-07-02', NULL, 'atigrado', 'LIM-01'),
	('10456789', 'Luna', 'canino', 'Schnauzer miniatura', 'hembra', false, '2024-05-20', '604000012345682', 'sal y pimienta', 'LIM-01'),
	('45678123', 'Toby', 'canino', 'Mestizo', 'macho', true, '2018-11-01', NULL, 'negro con blanco', 'LIM-01'),
	('45678123', 'Garfield', 'felino', 'Persa', 'macho', true, '2020-02-10', '604000012345693', 'naranja', 'LIM-01'),
	('07894561', 'Canela', 'canino', 'Cocker spaniel', 'hembra', true, '2017-09-23', NULL, 'canela', 'LIM-01'),
	('29456123', 'Max', 'canino', 'Pastor alemán', 'macho', false, '2022-01-15', '604000012345704', 'negro y fuego', 'AQP-01'),
	('29871234', 'Nala', 'felino', 'Siamés', 'hembra', false, '2025-12-05', NULL, 'seal point', 'AQP-01'),
	('29871234', 'Simba', 'felino', 'Doméstico de pelo corto', 'macho', true, '2023-04-18', NULL, 'naranja atigrado', 'AQP-01'),
	('44123987', 'Bruno', 'canino', 'Bulldog francés', 'macho', true, '2021-10-30', '604000012345715', 'atigrado', 'AQP-01'),
	('23987456', 'Chaska', 'canino', 'Perro sin pelo del Perú', 'hembra', true, '2020-06-12', '604000012345726', 'gris pizarra', 'CUS-01'),
	('23987456', 'Pelusa', 'felino', 'Angora', 'hembra', false, '2026-06-01', NULL, 'blanco', 'CUS-01'),
	('46789012', 'Thor', 'canino', 'Husky siberiano', 'macho', false, '2023-08-08', NULL, 'gris y blanco', 'CUS-01'),
	('46789012', 'Mishi', 'felino', 'Mestizo', 'hembra', true, '2019-12-24', NULL, 'carey', 'CUS-01'),
	('24156789', 'Kira', 'canino', 'Golden retriever', 'hembra', true, '2022-03-03', '604000012345737', 'dorado claro', 'CUS-01');

INSERT INTO pacientes (propietario_id, nombre, especie, raza, sexo, esterilizado,
                       fecha_nacimiento, microchip, color, sede_registro_id)
SELECT o.id, d.nombre, d.especie, d.raza, d.sexo, d.esterilizado,
       d.fecha_nacimiento, d.microchip, d.color, s.id
FROM demo_pacientes d
JOIN propietarios o ON o.tipo_documento = 'DNI' AND o.numero_documento = d.dni
JOIN sedes s ON s.codigo = d.codigo
WHERE NOT EXISTS (SELECT 1 FROM pacientes p WHERE p.propietario_id = o.id AND p.nombre = d.nombre)
ON CONFLICT (microchip) DO NOTHING;

-- A view over (owner DNI, pet name) used below to find demo patients.
CREATE TEMPORARY VIEW demo_paciente AS
SELECT p.id, o.numero_documento AS dni, p.nombre
FROM pacientes p JOIN propietarios o ON o.id = p.propietario_id
WHERE o.tipo_documento = 'DNI';

INSERT INTO paciente_pesos (paciente_id, peso_gramos, medido_en, registrado_por)
SELECT dp.id, w.gramos, w.medido_en, u.id
FROM (VALUES
	('41235678', 'Rocky', 31500, timestamptz '2025-06-10 10:15-05', 'lucia.fernandez@vetred.pe'),
	('41235678', 'Rocky', 32800, timestamptz '2026-06-12 09:40-05', 'lucia.fernandez@vetred.pe'),
	('41235678', 'Michi', 4100, timestamptz '2026-03-05 16:20-05', 'lucia.fernandez@vetred.pe'),
	('10456789', 'Luna', 2900, timestamptz '2024-08-01 11:00-05', 'lucia.fernandez@vetred.pe'),
	('10456789', 'Luna', 5200, timestamptz '2025-01-15 11:30-05', 'lucia.fernandez@vetred.pe'),
	('10456789', 'Luna', 7100, timestamptz '2026-05-22 10:00-05', 'jorge.huaman@vetred.pe'),
	('45678123', 'Toby', 18400, timestamptz '2026-02-18 15:10-05', 'jorge.huaman@vetred.pe'),
	('45678123', 'Garfield', 5600, timestamptz '2026-02-18 15:40-05', 'jorge.huaman@vetred.pe'),
	('07894561', 'Canela', 13200, timestamptz '2026-09-09 09:15-05', 'lucia.fernandez@vetred.pe'),
	('29456123', 'Max', 34100, timestamptz '2026-04-07 10:45-05', 'carmen.zegarra@vetred.pe'),
	('29871234', 'Nala', 1350, timestamptz '2026-02-10 17:00-05', 'carmen.zegarra@vetred.pe'),
	('29871234', 'Nala', 2600, timestamptz '2026-06-10 17:30-05', 'carmen.zegarra@vetred.pe'),
	('44123987', 'Bruno', 12700, timestamptz '2026-08-21 12:00-05', 'renzo.paredes@vetred.pe'),
	('23987456', 'Chaska', 9800, timestamptz '2026-07-14 09:30-05', 'milagros.ccori@vetred.pe'),
	('23987456', 'Pelusa', 1100, timestamptz '2026-08-20 10:00-05', 'milagros.ccori@vetred.pe'),
	('46789012', 'Thor', 24300, timestamptz '2026-05-05 16:00-05', 'wilber.condori@vetred.pe'),
	('24156789', 'Kira', 29900, timestamptz '2026-10-02 11:15-05', 'milagros.ccori@vetred.pe')
) AS w (dni, nombre, gramos, medido_en, email)
JOIN demo_paciente dp ON dp.dni = w.dni AND dp.nombre = w.nombre
JOIN usuarios u ON lower(u.email) = w.email
WHERE NOT EXISTS (SELECT 1 FROM paciente_pesos pp
                  WHERE pp.paciente_id = dp.id AND pp.medido_en = w.medido_en);

-- The vaccine catalog is reference data (migration 0037).

-- Past vaccinations (due dates on both sides of today, for reminders).
INSERT INTO vacunaciones (paciente_id, vacuna_id, lote, vencimiento_lote, fecha_aplicacion,
                          dosis_numero, proxima_dosis, veterinario_id, sede_id)
SELECT dp.id, va.id, x.lote, x.vence, x.fecha, x.dosis, x.proxima, v.id, s.id
FROM (VALUES
	('41235678', 'Rocky', 'CAN-DHPP', 'DHP2405A', DATE '2027-01-31', DATE '2026-06-12', NULL::smallint, DATE '2029-06-12', '10234', 'LIM-01'),
	('41235678', 'Rocky', 'CAN-RABIA', 'RB2411C', DATE '2027-03-31', DATE '2026-06-12', NULL, DATE '2027-06-12', '10234', 'LIM-01'),
	('41235678', 'Michi', 'FEL-TRIPLE', 'FT2502B', DATE '2026-12-31', DATE '2026-03-05', NULL, DATE '2027-03-05', '10234', 'LIM-01'),
	('10456789', 'Luna', 'CAN-DHPP', 'DHP2403K', DATE '2025-12-31', DATE '2024-07-05', 1, DATE '2024-08-02', '10234', 'LIM-01'),
	('10456789', 'Luna', 'CAN-DHPP', 'DHP2403K', DATE '2025-12-31', DATE '2024-08-02', 2, DATE '2024-08-30', '10234', 'LIM-01'),
	('10456789', 'Luna', 'CAN-DHPP', 'DHP2406M', DATE '2026-03-31', DATE '2024-09-06', 3, DATE '2025-05-20', '10234', 'LIM-01'),
	('10456789', 'Luna', 'CAN-RABIA', 'RB2406A', DATE '2026-06-30', DATE '2024-09-06', 1, DATE '2025-09-06', '10234', 'LIM-01'),
	('29871234', 'Nala', 'FEL-TRIPLE', 'FT2601D', DATE '2027-01-31', DATE '2026-01-16', 1, DATE '2026-02-13', '12045', 'AQP-01'),
	('29871234', 'Nala', 'FEL-TRIPLE', 'FT2601D', DATE '2027-01-31', DATE '2026-02-13', 2, DATE '2026-03-13', '12045', 'AQP-01'),
	('29871234', 'Nala', 'FEL-TRIPLE', 'FT2602A', DATE '2027-02-28', DATE '2026-03-27', 3, DATE '2027-03-27', '12045', 'AQP-01'),
	('29871234', 'Nala', 'FEL-RABIA', 'RF2602B', DATE '2027-02-28', DATE '2026-03-27', 1, DATE '2027-03-27', '12045', 'AQP-01'),
	('29456123', 'Max', 'CAN-RABIA', 'RB2501F', DATE '2026-01-31', DATE '2025-11-20', NULL, DATE '2026-11-20', '12990', 'AQP-01'),
	('23987456', 'Chaska', 'CAN-DHPP', 'DHP2507H', DATE '2027-07-31', DATE '2026-07-14', NULL, DATE '2029-07-14', '13452', 'CUS-01'),
	('23987456', 'Pelusa', 'FEL-TRIPLE', 'FT2607C', DATE '2027-07-31', DATE '2026-08-20', 1, DATE '2026-09-17', '13452', 'CUS-01'),
	('24156789', 'Kira', 'CAN-RABIA', 'RB2509B', DATE '2027-09-30', DATE '2026-10-02', NULL, DATE '2027-10-02', '13452', 'CUS-01')
) AS x (dni, nombre, codigo, lote, vence, fecha, dosis, proxima, cmvp, sede)
JOIN demo_paciente dp ON dp.dni = x.dni AND dp.nombre = x.nombre
JOIN vacunas va ON va.codigo = x.codigo
JOIN veterinarios v ON v.cmvp = x.cmvp
JOIN sedes s ON s.codigo = x.sede
WHERE NOT EXISTS (SELECT 1 FROM vacunaciones z
                  WHERE z.paciente_id = dp.id AND z.vacuna_id = va.id AND z.fecha_aplicacion = x.fecha);

-- Clinical history and treatments -------------------------------------

INSERT INTO historia_entradas (paciente_id, veterinario_id, sede_id, tipo, anamnesis, examen,
                               diagnostico, plan, firmado_en, creado_en)
SELECT dp.id, v.id, s.id, h.tipo, h.anamnesis, h.examen, h.diagnostico, h.plan, h.en, h.en
FROM (VALUES
	('41235678', 'Rocky', '10234', 'LIM-01', 'consulta', timestamptz '2026-06-12 09:45-05',
	 'Control anual. Come bien, activo. Rasca la oreja derecha desde hace una semana.',
	 'T 38.6 °C, FC 96 lpm, FR 24 rpm. Conducto auditivo derecho eritematoso con cerumen oscuro.',
	 'Otitis externa derecha.',
	 'Limpieza ótica; gotas óticas 7 días; vacunas DHPP y antirrábica aplicadas; control en 10 días.'),
	('45678123', 'Toby', '11876', 'LIM-01', 'cirugia', timestamptz '2026-02-18 15:15-05',
	 'Nódulo en flanco izquierdo de crecimiento lento, 6 meses.',
	 'Masa subcutánea de 2 cm, móvil, no dolorosa. Citología compatible con lipoma.',
	 'Lipoma subcutáneo.',
	 'Exéresis bajo anestesia general; analgesia 3 días; retiro de puntos en 10 días.'),
	('29871234', 'Nala', '12045', 'AQP-01', 'consulta', timestamptz '2026-01-16 17:00-05',
	 'Gatita adoptada hace una semana, primera consulta.',
	 'T 38.7 °C, buena condición corporal. Sin parásitos externos visibles.',
	 'Paciente sano.',
	 'Desparasitación interna; inicio de serie triple felina; control en 4 semanas.')
) AS h (dni, nombre, cmvp, sede, tipo, en, anamnesis, examen, diagnostico, plan)
JOIN demo_paciente dp ON dp.dni = h.dni AND dp.nombre = h.nombre
JOIN veterinarios v ON v.cmvp = h.cmvp
JOIN sedes s ON s.codigo = h.sede
WHERE NOT EXISTS (SELECT 1 FROM historia_entradas e
                  WHERE e.paciente_id = dp.id AND e.creado_en = h.en);

INSERT INTO tratamientos (paciente_id, historia_entrada_id, veterinario_id, sede_id, descripcion,
                          medicamento, dosis, via, frecuencia, intervalo_horas, inicio, fin, estado)
SELECT dp.id, e.id, v.id, s.id, t.descripcion, t.medicamento, t.dosis, t.via, t.frecuencia,
       t.intervalo, t.inicio, t.fin, t.estado
FROM (VALUES
	('41235678', 'Rocky', timestamptz '2026-06-12 09:45-05', '10234', 'LIM-01',
	 'Gotas óticas en oído derecho tras limpieza.', 'Gentamicina + betametasona + clotrimazol, suspensión ótica',
	 '4 gotas', 'otica', 'cada 12 horas', 12, DATE '2026-06-12', DATE '2026-06-18', 'completado'),
	('45678123', 'Toby', timestamptz '2026-02-18 15:15-05', '11876', 'LIM-01',
	 'Analgesia postoperatoria.', 'Meloxicam 1.5 mg/ml, suspensión oral',
	 '1.2 ml', 'oral', 'una vez al día', 24, DATE '2026-02-18', DATE '2026-02-20', 'completado'),
	('07894561', 'Canela', NULL, '10234', 'LIM-01',
	 'Control de hipotiroidismo: levotiroxina de por vida, control de T4 cada 6 meses.', 'Levotiroxina 0.2 mg, tabletas',
	 '1 tableta', 'oral', 'cada 12 horas', 12, DATE '2026-09-09', NULL, 'activo')
) AS t (dni, nombre, entrada_en, cmvp, sede, descripcion, medicamento, dosis, via, frecuencia,
        intervalo, inicio, fin, estado)
JOIN demo_paciente dp ON dp.dni = t.dni AND dp.nombre = t.nombre
JOIN veterinarios v ON v.cmvp = t.cmvp
JOIN sedes s ON s.codigo = t.sede
LEFT JOIN historia_entradas e ON e.paciente_id = dp.id AND e.creado_en = t.entrada_en
WHERE NOT EXISTS (SELECT 1 FROM tratamientos z
                  WHERE z.paciente_id = dp.id AND z.descripcion = t.descripcion AND z.inicio = t.inicio);

-- Appointments next week ----------------------------------------------
-- Days are counted from next Monday in the site's time zone (dia 0 =
-- Monday) and every slot lies inside the vet's hours that day.  Only
-- patients with no upcoming appointment get one, so a second load (or a
-- load next week) does not pile them up.

INSERT INTO citas (sede_id, veterinario_id, consultorio_id, paciente_id, periodo, estado, tipo,
                   motivo, creado_por)
SELECT s.id, v.id, c.id, dp.id,
       tstzrange(((l.lunes + c0.dia) + c0.hora) AT TIME ZONE s.zona_horaria,
                 ((l.lunes + c0.dia) + c0.hora + make_interval(mins => c0.minutos)) AT TIME ZONE s.zona_horaria),
       c0.estado, c0.tipo, c0.motivo, u.id
FROM (VALUES
	('LIM-01', '10234', 'Consultorio 1', '41235678', 'Michi', 0, time '09:00', 30, 'reservada', 'presencial', 'Control de peso y refuerzo de vacuna triple felina'),
	('LIM-01', '10234', 'Consultorio 1', '10456789', 'Luna', 0, time '09:30', 30, 'confirmada', 'presencial', 'Vacunación antirrábica anual'),
	('LIM-01', '11876', 'Quirófano', '10456789', 'Luna', 1, time '08:00', 120, 'confirmada', 'presencial', 'Ovariohisterectomía programada'),
	('AQP-01', '11876', 'Consultorio 2', '29456123', 'Max', 4, time '10:00', 45, 'reservada', 'presencial', 'Evaluación de cojera del miembro posterior izquierdo'),
	('AQP-01', '12990', 'Consultorio 1', '44123987', 'Bruno', 2, time '15:00', 30, 'reservada', 'presencial', 'Dermatitis en pliegues faciales'),
	('CUS-01', '13452', 'Consultorio 1', '23987456', 'Pelusa', 3, time '11:00', 30, 'reservada', 'presencial', 'Segunda dosis de triple felina'),
	('CUS-01', '13987', NULL, '46789012', 'Thor', 5, time '10:00', 30, 'reservada', 'virtual', 'Teleconsulta de seguimiento por diarrea')
) AS c0 (sede, cmvp, consultorio, dni, nombre, dia, hora, minutos, estado, tipo, motivo)
JOIN sedes s ON s.codigo = c0.sede
JOIN veterinarios v ON v.cmvp = c0.cmvp
LEFT JOIN consultorios c ON c.sede_id = s.id AND c.nombre = c0.consultorio
JOIN demo_paciente dp ON dp.dni = c0.dni AND dp.nombre = c0.nombre
JOIN usuarios u ON lower(u.email) = 'recepcion.' || lower(left(c0.sede, 3)) || '@vetred.pe'
CROSS JOIN LATERAL (
	SELECT (date_trunc('week', now() AT TIME ZONE s.zona_horaria))::date + 7 AS lunes
) AS l
WHERE NOT EXISTS (SELECT 1 FROM citas z
                  WHERE z.paciente_id = dp.id AND upper(z.periodo) > now()
                    AND z.estado NOT IN ('cancelada', 'no_asistio'))
ON CONFLICT DO NOTHING;

DROP VIEW pg_temp.demo_paciente;
DROP TABLE pg_temp.demo_asignacion, pg_temp.demo_pacientes;
RESET client_min_messages;
