/*
 * sql.c - every SQL statement of the API, in one table indexed by
 * enum api_stmt.  Each is prepared once per connection (lib/db.c) and run
 * with parameters; rows are shaped into JSON by PostgreSQL itself, so the
 * handlers pass text through instead of rebuilding objects.
 */
#include "api.h"

#define SEDE_COLS "id, codigo, nombre, ciudad, direccion, telefono, " \
	"zona_horaria, activa, creado_en, actualizado_en"

const char *const api_sql[STMT__MAX] = {
	[STMT_PING] = "SELECT 1",

	/* $1 activa filter or NULL */
	[STMT_SEDES_LIST] =
	    "SELECT coalesce(json_agg(s ORDER BY s.id), '[]')"
	    " FROM (SELECT " SEDE_COLS " FROM sedes"
	    "  WHERE $1::boolean IS NULL OR activa = $1::boolean"
	    "  ORDER BY id LIMIT 1000) s",

	/* $1 id */
	[STMT_SEDE_GET] =
	    "SELECT row_to_json(s) FROM (SELECT " SEDE_COLS " FROM sedes"
	    " WHERE id = $1::bigint) s",

	/* $1 codigo, $2 nombre, $3 ciudad, $4 direccion, $5 telefono,
	 * $6 zona_horaria (NULL: the default) */
	[STMT_SEDE_INSERT] =
	    "WITH s AS (INSERT INTO sedes (codigo, nombre, ciudad, direccion,"
	    "  telefono, zona_horaria)"
	    " VALUES ($1, $2, $3, $4, $5, coalesce($6, 'America/Lima'))"
	    " RETURNING " SEDE_COLS ")"
	    " SELECT id, row_to_json(s) FROM s",

	/* $1 time zone name */
	[STMT_TZ_VALID] =
	    "SELECT 1 FROM pg_timezone_names WHERE name = $1",

	/* $1 usuario_id, $2 rol, $3 sede_id, $4 accion, $5 entidad,
	 * $6 entidad_id, $7 request_id, $8 direccion_ip, $9 antes,
	 * $10 despues */
	[STMT_AUDIT_INSERT] =
	    "INSERT INTO auditoria (usuario_id, rol, sede_id, accion, entidad,"
	    " entidad_id, request_id, direccion_ip, antes, despues)"
	    " VALUES ($1::bigint, $2, $3::bigint, $4, $5, $6, $7, $8::inet,"
	    " $9::jsonb, $10::jsonb)",

	/* $1 tipo, $2 agregado, $3 agregado_id, $4 payload */
	[STMT_OUTBOX_INSERT] =
	    "INSERT INTO outbox (tipo, agregado, agregado_id, payload)"
	    " VALUES ($1, $2, $3, $4::jsonb)",
};
