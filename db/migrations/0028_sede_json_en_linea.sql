-- 0028: the JSON of a site, from its row and inlined by the planner.
--
-- 0022 made sede_json(bigint) the one rendering of a site: a SQL function
-- with its own SELECT ... FROM sedes, which the planner cannot inline, so
-- every GET /sedes/{id} ran it through the SQL-function executor, planning
-- its body again on each call.  Measured on one 2-core machine the same
-- day: 18 µs of PostgreSQL per call against ~1 µs for the same expression
-- inlined, and `GET /api/v1/sedes/1` at 1,000 connections fell from 10,195
-- to 4,880 req/s.  sede_json(sedes) takes the row instead: one SELECT with
-- no FROM, which the planner inlines into the caller's query like
-- hora_local().  sede_json(bigint) stays for crear_sede (one call per new
-- site) and reads the row through it, so the shape has one home.

CREATE FUNCTION sede_json(s sedes) RETURNS jsonb
LANGUAGE sql STABLE PARALLEL SAFE AS $$
	SELECT jsonb_build_object('id', s.id, 'codigo', s.codigo, 'nombre', s.nombre,
	    'ciudad', s.ciudad, 'direccion', s.direccion, 'telefono', s.telefono,
	    'zona_horaria', s.zona_horaria, 'activa', s.activa,
	    'creado_en', hora_local(s.creado_en, s.zona_horaria),
	    'actualizado_en', hora_local(s.actualizado_en, s.zona_horaria))
$$;
COMMENT ON FUNCTION sede_json(sedes) IS
	'JSON of one site from its row, times in its own zone; inlined by the planner.';

CREATE OR REPLACE FUNCTION sede_json(p_id bigint) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT sede_json(s) FROM sedes s WHERE s.id = p_id
$$;
COMMENT ON FUNCTION sede_json(bigint) IS
	'JSON of one site by id (sede_json(sedes)); NULL when absent.';
