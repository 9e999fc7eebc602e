/*
 * sql.c - every SQL statement of the API, in one table indexed by
 * enum api_stmt.  Each is prepared once per connection (lib/db.c) and run
 * with parameters, named and typed in api_sql_args (below) and set by
 * name (args.c); rows are shaped into JSON by PostgreSQL itself, so the
 * handlers pass text through instead of rebuilding objects.  Layer: base.
 */
#include "sql.h"

const char *const api_sql[STMT__MAX] = {
	[STMT_PING] = "SELECT 1",

	/*
	 * Lists answer {elementos, siguiente_cursor}; sites and vets are
	 * few and come whole, so their cursor is always null.
	 */
	/* $1 activa filter or NULL */
	[STMT_SEDES_LIST] =
	    "SELECT jsonb_build_object('elementos',"
	    " coalesce(jsonb_agg(sede_json(p.s) ORDER BY (p.s).id), '[]'),"
	    " 'siguiente_cursor', NULL)"
	    " FROM (SELECT s FROM sedes s"
	    "  WHERE $1::boolean IS NULL OR s.activa = $1::boolean"
	    "  ORDER BY s.id LIMIT 1000) p",

	/* $1 id */
	/* sede_json(sedes) is inlined: no function call per read (0028) */
	[STMT_SEDE_GET] =
	    "SELECT sede_json(s) FROM sedes s WHERE s.id = $1::bigint",

	/* $1 codigo, $2 nombre, $3 ciudad, $4 direccion, $5 telefono,
	 * $6 zona_horaria (NULL: the default), $7 abre_en_feriados (NULL:
	 * false), $8 usuario, $9 rol, $10 request_id, $11 ip */
	[STMT_SEDE_CREAR] =
	    "SELECT crear_sede($1, $2, $3, $4, $5, $6,"
	    " coalesce($7::boolean, false), $8::bigint, $9, $10, $11::inet)",

	/* $1 sede: its rooms by id; no row when the site does not exist */
	[STMT_CONSULTORIOS_LIST] =
	    "SELECT json_build_object('elementos', coalesce((SELECT"
	    " json_agg(c ORDER BY c.id) FROM"
	    " (SELECT id, sede_id, nombre, tipo, activo FROM consultorios"
	    "  WHERE sede_id = s.id) c), '[]'), 'siguiente_cursor', NULL)"
	    " FROM sedes s WHERE s.id = $1::bigint",

	/* $1 time zone name */
	[STMT_TZ_VALID] =
	    "SELECT 1 FROM pg_timezone_names WHERE name = $1",

	/*
	 * The functions of db/functions/citas.sql; each answers a verdict,
	 * jsonb {codigo, cuerpo | detalle, errores, conflicto} (result.c).
	 */
	/* $1 paciente, $2 veterinario, $3 sede, $4 consultorio, $5 inicio,
	 * $6 fin or NULL, $7 duracion_min or NULL, $8 motivo, $9 tipo,
	 * $10 usuario, $11 rol, $12 request_id, $13 ip, $14 idempotency key,
	 * $15 SHA-256 of the body (hex), $16 tipo_cita (its code) or NULL;
	 * with neither fin nor duracion_min, the type's length */
	[STMT_RESERVAR] =
	    "SELECT reservar_cita($1::bigint, $2::bigint, $3::bigint, $4::bigint,"
	    " $5::timestamptz, coalesce($6::timestamptz, $5::timestamptz"
	    " + make_interval(mins => $7::int)), $8, $9, $16, $10::bigint, $11,"
	    " $12, $13::inet, $14, decode($15, 'hex'))",

	/* $1 id */
	[STMT_CITA_GET] = "SELECT documento, version, sede_id FROM citas"
	    " WHERE id = $1::bigint",

	/* $1 id, $2 inicio, $3 duracion_min, $4 fin, $5 veterinario,
	 * $6 consultorio, $7 without room, $8 estado, $9 motivo,
	 * $10 motivo_cancelacion, $11 version, $12 usuario, $13 rol,
	 * $14 request_id, $15 ip */
	[STMT_CITA_UPDATE] =
	    "SELECT actualizar_cita($1::bigint, $2::timestamptz, $3::int,"
	    " $4::timestamptz, $5::bigint, $6::bigint, $7::boolean, $8, $9, $10,"
	    " $11::int, $12::bigint, $13, $14, $15::inet)",

	/* $1 id, $2 motivo, $3 usuario, $4 rol, $5 request_id, $6 ip */
	[STMT_CITA_CANCEL] =
	    "SELECT cancelar_cita($1::bigint, $2, $3::bigint, $4, $5, $6::inet)",

	/* $1 sede, $2 veterinario, $3 paciente, $4 estado, $5 desde,
	 * $6 hasta, $7 limite, $8 cursor start (microseconds), $9 cursor id */
	[STMT_CITAS_LIST] =
	    "SELECT listar_citas($1::bigint, $2::bigint, $3::bigint, $4,"
	    " $5::timestamptz, $6::timestamptz, $7::int, 'epoch'::timestamptz"
	    " + $8::bigint * interval '1 microsecond', $9::bigint)",

	/* $1 sede or NULL */
	[STMT_VETS_LIST] = "SELECT jsonb_build_object('elementos',"
	    " listar_veterinarios($1::bigint), 'siguiente_cursor', NULL)",

	/* $1 veterinario, $2 sede, $3 fecha, $4 duracion_min, $5 paso_min
	 * (NULL: the length), $6 tipo_cita or NULL */
	[STMT_DISPONIBILIDAD] =
	    "SELECT disponibilidad_json($1::bigint, $2::bigint, $3::date,"
	    " $4::int, $5::int, $6)",

	/* $1 propietario_id, $2 owner (jsonb), $3 patient (jsonb),
	 * $4 usuario, $5 rol, $6 request_id, $7 ip, $8 idempotency key,
	 * $9 SHA-256 of the body (hex), $10 duplicado_intencional
	 * (db/functions/pacientes.sql) */
	[STMT_PACIENTE_REGISTRO] =
	    "SELECT registrar_paciente_unico($1::bigint, $2::jsonb, $3::jsonb,"
	    " $4::bigint, $5, $6, $7::inet, $8, decode($9, 'hex'), $10::boolean)",

	/* $1 id */
	/* Reads of clinical records write their audit row: $2-$5 who. */
	[STMT_PACIENTE_GET] = "SELECT leer_paciente($1::bigint, $2::bigint, $3,"
	    " $4, $5::inet)",

	/* $1 id, $2 limite, $3 cursor date (microseconds), $4 cursor kind,
	 * $5 cursor id, $6 the reader's sites (NULL: all), $7-$10 who */
	[STMT_HISTORIAL] =
	    "SELECT leer_historial($1::bigint, $2::int, 'epoch'::timestamptz"
	    " + $3::bigint * interval '1 microsecond', $4, $5::bigint,"
	    " $6::bigint[], $7::bigint, $8, $9, $10::inet)",

	/* Patients' changes (db/functions/pacientes.sql): $1 id, then the
	 * change, $N version (If-Match), who. */
	[STMT_PACIENTE_PUT] = "SELECT actualizar_paciente($1::bigint,"
	    " $2::jsonb, $3::integer, $4::bigint, $5, $6, $7::inet)",
	[STMT_PACIENTE_FALLECIMIENTO] = "SELECT registrar_fallecimiento("
	    "$1::bigint, $2::date, $3, $4::integer, $5::bigint, $6, $7,"
	    " $8::inet)",
	[STMT_PACIENTE_TRANSFERENCIA] = "SELECT transferir_paciente("
	    "$1::bigint, $2::bigint, $3::integer, $4::bigint, $5, $6,"
	    " $7::inet)",
	/* $1 id, $2 grams, $3 when (NULL: now), who */
	[STMT_PESO_REGISTRAR] = "SELECT registrar_peso($1::bigint,"
	    " $2::integer, $3::timestamptz, $4::bigint, $5, $6, $7::inet)",
	[STMT_PESOS_LIST] = "SELECT listar_pesos($1::bigint, $2::integer)",

	/* Vets' absences (db/functions/agenda.sql); $N sites: the caller's
	 * (NULL: all). */
	[STMT_AUSENCIAS_LIST] = "SELECT listar_ausencias($1::bigint,"
	    " coalesce($2::timestamptz, now() - interval '30 days'),"
	    " coalesce($3::timestamptz, now() + interval '366 days'),"
	    " $4::bigint[])",
	[STMT_AUSENCIA_REGISTRAR] = "SELECT registrar_ausencia($1::bigint,"
	    " $2::timestamptz, $3::timestamptz, $4, $5, $6::bigint[],"
	    " $7::bigint, $8, $9, $10::inet)",
	[STMT_AUSENCIA_ELIMINAR] = "SELECT eliminar_ausencia($1::bigint,"
	    " $2::bigint, $3::bigint[], $4::bigint, $5, $6, $7::inet)",
	/* $2 the file's busy events, read by fcgi-api/ics.c */
	[STMT_AUSENCIAS_IMPORTAR] = "SELECT importar_ausencias($1::bigint,"
	    " $2::jsonb, $3, $4, $5::bigint[], $6::bigint, $7, $8, $9::inet)",

	/* Hours, holidays and agenda reads (db/functions/agenda.sql); a
	 * missing date is today in Lima. */
	[STMT_HORARIOS_LIST] = "SELECT listar_horarios($1::bigint,"
	    " coalesce($2::date, (now() AT TIME ZONE 'America/Lima')::date),"
	    " $3::bigint[])",
	/* $1 vet, $2 sede, $3 desde, $4 blocks (jsonb), who */
	[STMT_HORARIOS_FIJAR] = "SELECT fijar_horario($1::bigint, $2::bigint,"
	    " $3::date, $4::jsonb, $5::bigint, $6, $7, $8::inet)",
	[STMT_SEMANA_VETERINARIO] = "SELECT semana_veterinario($1::bigint,"
	    " coalesce($2::date, (now() AT TIME ZONE 'America/Lima')::date),"
	    " $3::bigint[])",
	[STMT_AGENDA_SEDE] = "SELECT agenda_sede($1::bigint, $2::date)",
	/* $1 sede or NULL (the network's), $2 desde, $3 hasta */
	[STMT_FERIADOS_LIST] = "SELECT listar_feriados($1::bigint, $2::date,"
	    " $3::date)",
	[STMT_FERIADO_REGISTRAR] = "SELECT registrar_feriado($1::bigint,"
	    " $2::date, $3, $4::boolean, $5::bigint, $6, $7, $8::inet)",
	[STMT_FERIADO_ELIMINAR] = "SELECT eliminar_feriado($1::bigint,"
	    " $2::date, $3::bigint, $4, $5, $6::inet)",
	/* Appointment types: $1 sede or NULL (the network's) */
	[STMT_TIPOS_CITA_LIST] = "SELECT listar_tipos_cita($1::bigint)",
	[STMT_TIPO_CITA_FIJAR] = "SELECT fijar_tipo_cita($1::bigint, $2,"
	    " $3::jsonb, $4::bigint, $5, $6, $7::inet)",
	[STMT_TIPO_CITA_ELIMINAR] = "SELECT eliminar_tipo_cita($1::bigint, $2,"
	    " $3::bigint, $4, $5, $6::inet)",

	/* iCalendar subscriptions (db/functions/calendarios.sql): $4 the
	 * token's SHA-256 (bytea), $5 its URL (answered, not stored). */
	[STMT_CALENDARIO_EMITIR] = "SELECT emitir_calendario($1::bigint,"
	    " $2::bigint, $3::bigint, $4::bytea, $5, $6::bigint[], $7::bigint,"
	    " $8, $9, $10::inet)",
	[STMT_CALENDARIOS_LIST] = "SELECT listar_calendarios($1::bigint)",
	[STMT_CALENDARIO_REVOCAR] = "SELECT revocar_calendario($1::bigint,"
	    " $2::boolean, $3::bigint, $4, $5, $6::inet)",

	/* The clinical record's writes (db/functions/clinico.sql): $1 the
	 * patient, $2 the validated fields, who. */
	[STMT_VACUNAS_LIST] = "SELECT listar_vacunas($1)",
	[STMT_VACUNACION_REGISTRAR] = "SELECT registrar_vacunacion($1::bigint,"
	    " $2::jsonb, $3::bigint, $4, $5, $6::inet)",
	[STMT_TRATAMIENTO_REGISTRAR] = "SELECT registrar_tratamiento("
	    "$1::bigint, $2::jsonb, $3::bigint, $4, $5, $6::inet)",
	/* $1 q, $2 especie, $3 categoria (each NULL: any) */
	[STMT_DIAGNOSTICOS_LIST] = "SELECT listar_diagnosticos($1, $2, $3)",
	[STMT_DIAGNOSTICO_CREAR] = "SELECT crear_diagnostico($1::jsonb,"
	    " $2::bigint, $3, $4, $5::inet)",
	[STMT_ENTRADA_REGISTRAR] = "SELECT registrar_entrada($1::bigint,"
	    " $2::jsonb, $3::bigint, $4, $5, $6::inet)",
	/* $2 the reader's sites (NULL: all) */
	[STMT_ENTRADA_GET] = "SELECT leer_entrada($1::bigint, $2::bigint[],"
	    " $3::bigint, $4, $5, $6::inet)",
	/* $3 correccion or enmienda, $4 If-Match version or NULL, $5 the
	 * writer's sites (NULL: all) */
	[STMT_ENTRADA_VERSIONAR] = "SELECT versionar_entrada($1::bigint,"
	    " $2::jsonb, $3, $4::integer, $5::bigint[], $6::bigint, $7, $8,"
	    " $9::inet)",

	/* Owners (db/functions/propietarios.sql).  $2 the reader's sites
	 * (NULL: all): a pet's next appointment is shown from those only. */
	[STMT_PROPIETARIO_GET] = "SELECT leer_propietario($1::bigint,"
	    " $2::bigint[], $3::bigint, $4, $5, $6::inet)",
	[STMT_PROPIETARIO_PUT] = "SELECT actualizar_propietario($1::bigint,"
	    " $2::jsonb, $3::integer, $4::bigint, $5, $6, $7::inet)",
	/* $1 words, $2/$3 document/phone hash (hex), $4 limite, $5/$6
	 * cursor, $7 sites, who */
	[STMT_PROPIETARIOS_BUSCAR] = "SELECT buscar_propietarios($1,"
	    " decode($2, 'hex'), decode($3, 'hex'), $4::integer, $5,"
	    " $6::bigint, $7::bigint[], $8::bigint, $9, $10, $11::inet)",
	/* $1 kept, $2 merged into it, $3 version of $1, who */
	[STMT_PROPIETARIO_FUSION] = "SELECT fusionar_propietarios($1::bigint,"
	    " $2::bigint, $3::integer, $4::bigint, $5, $6, $7::inet)",

	/* Sign-in (auth.c).  Token hashes are bytea text: \\x and 64 hex digits. */
	[STMT_LOGIN_ESPERA] = "SELECT login_espera($1, $2::inet)",
	[STMT_USUARIO_CLAVE] = "SELECT id, password_hash, activo,"
	    " sesiones_generacion FROM usuarios WHERE lower(email) = lower($1)",
	[STMT_LOGIN_FALLIDO] =
	    "SELECT login_fallido($1, $2::inet, $3::bigint, $4)",
	/* $9 the generation read with the password hash */
	[STMT_SESION_INICIAR] = "SELECT sesion_iniciar($1::bigint, $2,"
	    " $3::bytea, $4::int, $5::inet, $6, $7, $8, $9::bigint)",
	[STMT_SESION_REFRESCAR] = "SELECT sesion_refrescar($1::bytea,"
	    " $2::bytea, $3::int, $4::inet, $5, $6)",
	[STMT_SESION_CERRAR] = "SELECT sesion_cerrar($1::bytea, $2::inet, $3)",
	/* Users whose tokens were cut within $1 seconds, with their
	 * current generation, and the sessions ended then (access.c). */
	[STMT_REVOCADOS] = "SELECT id, sesiones_generacion FROM usuarios"
	    " WHERE sesiones_validas_desde > now() - make_interval(secs => $1::int)",
	[STMT_SESIONES_REVOCADAS] = "SELECT DISTINCT familia::text FROM sesiones"
	    " WHERE revocado_en > now() - make_interval(secs => $1::int)",
	[STMT_CITA_SEDE] = "SELECT sede_id FROM citas WHERE id = $1::bigint",

	/* Users (usuarios.c); $ alcance: NULL or the caller's sites. */
	[STMT_USUARIOS_LIST] =
	    "SELECT listar_usuarios($1::bigint[], $2::int, $3::bigint)",
	[STMT_USUARIO_GET] = "SELECT usuario_detalle(u.id), $2::bigint[] IS NULL"
	    " OR EXISTS (SELECT 1 FROM usuario_roles r WHERE r.usuario_id = u.id"
	    " AND r.sede_id = ANY ($2::bigint[])) FROM usuarios u"
	    " WHERE u.id = $1::bigint",
	[STMT_USUARIO_CREAR] = "SELECT crear_usuario($1, $2, $3, $4::jsonb,"
	    " $5::bigint[], $6::bigint, $7, $8, $9::inet)",
	/* The audit trail (auditoria.c). */
	[STMT_AUDITORIA_LIST] = "SELECT listar_auditoria($1::timestamptz,"
	    " $2::timestamptz, $3::bigint, $4, $5, $6, $7::bigint, $8::int,"
	    " $9::bigint)",
	[STMT_AUDITORIA_ESTADO] = "SELECT auditoria_estado('', "
	    "coalesce($1::bigint, 1), $2::bigint, $3::bigint)",
	/* The sealer's lag, for metrics: audit rows past its position
	 * "hasta" without a seal (at most 100000 counted) and the age in
	 * seconds of the oldest of them.  Index range on (xid, id). */
	[STMT_AUDITORIA_RETRASO] =
	    "SELECT count(*), coalesce(extract(epoch FROM"
	    " now() - min(p.ocurrido_en)), 0)::float8"
	    " FROM (SELECT a.ocurrido_en FROM auditoria a, auditoria_sellador s"
	    "  WHERE (a.xid, a.id) > (s.hasta_xid, s.hasta_id)"
	    "  AND NOT EXISTS (SELECT 1 FROM auditoria_sellos x"
	    "   WHERE x.auditoria_id = a.id)"
	    "  ORDER BY a.xid, a.id LIMIT 100000) p",
	[STMT_LIMITES] = "SELECT usuario_id, por_segundo, rafaga FROM "
	    "usuario_limites",
	[STMT_USUARIO_PUT] = "SELECT actualizar_usuario($1::bigint, $2,"
	    " $3::boolean, $4, $5::jsonb, $6::bigint[], $7::bigint, $8, $9,"
	    " $10::inet)",

	/* The periodic jobs (db/functions/trabajos.sql), by name. */
	[STMT_TRABAJOS_LIST] =
	    "SELECT jsonb_build_object('elementos', coalesce(jsonb_agg("
	    "trabajo_json(t) ORDER BY t.nombre), '[]'), 'siguiente_cursor', NULL)"
	    " FROM trabajos t",
	/* $1 nombre */
	[STMT_TRABAJO_GET] =
	    "SELECT trabajo_json(t) FROM trabajos t WHERE t.nombre = $1",
	/* $1 nombre, $2 a new zone or NULL: the civil time there now, and
	 * the job's cron schedule (NULL for an interval job) */
	[STMT_TRABAJO_HORA] =
	    "SELECT to_char(now() AT TIME ZONE coalesce($2, t.zona_horaria),"
	    " 'YYYY-MM-DD HH24:MI'), t.programa FROM trabajos t"
	    " WHERE t.nombre = $1",
	/* $1 nombre, $2 habilitado, $3 programa, $4 intervalo_s,
	 * $5 zona_horaria, $6 next run (civil), who */
	[STMT_TRABAJO_PUT] =
	    "SELECT modificar_trabajo($1, $2::boolean, $3, $4::integer, $5,"
	    " $6::timestamp, $7::bigint, $8, $9, $10::inet)",
	/* $1 nombre, who */
	[STMT_TRABAJO_EJECUTAR] =
	    "SELECT ejecutar_trabajo($1, $2::bigint, $3, $4, $5::inet)",

	/* The dead letters (db/functions/consumidores.sql). */
	[STMT_MUERTOS_LIST] =
	    "SELECT listar_muertos($1, $2, $3::integer, $4::bigint)",
	/* $1 id, who */
	[STMT_MUERTO_REENVIAR] =
	    "SELECT reenviar_muerto($1::bigint, $2::bigint, $3, $4, $5::inet)",
};

/*
 * The parameters of each statement, in the order of its $N (sql.h).  A
 * number or boolean is sent binary in the type named here, which the
 * statement's cast gives the parameter; the rest as text.  "who":
 * usuario:int8 rol request_id ip.
 */
const char *const api_sql_args[STMT__MAX] = {
	[STMT_PING] = "",
	[STMT_SEDES_LIST] = "activa:bool",
	[STMT_SEDE_GET] = "id:int8",
	[STMT_SEDE_CREAR] = "codigo nombre ciudad direccion telefono "
	    "zona_horaria abre_en_feriados:bool who",
	[STMT_CONSULTORIOS_LIST] = "sede:int8",
	[STMT_TZ_VALID] = "zona",
	[STMT_RESERVAR] = "paciente:int8 veterinario:int8 sede:int8 "
	    "consultorio:int8 inicio fin duracion_min:int4 motivo tipo who "
	    "clave cuerpo_sha256 tipo_cita",
	[STMT_CITA_GET] = "id:int8",
	[STMT_CITA_UPDATE] = "id:int8 inicio duracion_min:int4 fin "
	    "veterinario:int8 consultorio:int8 sin_consultorio:bool estado "
	    "motivo motivo_cancelacion version:int4 who",
	[STMT_CITA_CANCEL] = "id:int8 motivo who",
	[STMT_CITAS_LIST] = "sede:int8 veterinario:int8 paciente:int8 estado "
	    "desde hasta limite:int4 cursor_inicio:int8 cursor_id:int8",
	[STMT_VETS_LIST] = "sede:int8",
	[STMT_DISPONIBILIDAD] = "veterinario:int8 sede:int8 fecha "
	    "duracion_min:int4 paso_min:int4 tipo_cita",
	[STMT_PACIENTE_REGISTRO] = "propietario_id:int8 propietario paciente "
	    "who clave cuerpo_sha256 duplicado_intencional:bool",
	[STMT_PACIENTE_GET] = "id:int8 who",
	[STMT_HISTORIAL] = "id:int8 limite:int4 cursor_fecha:int8 cursor_tipo "
	    "cursor_id:int8 sedes who",
	[STMT_PACIENTE_PUT] = "id:int8 cambios version:int4 who",
	[STMT_PACIENTE_FALLECIMIENTO] = "id:int8 fecha causa version:int4 who",
	[STMT_PACIENTE_TRANSFERENCIA] = "id:int8 propietario_id:int8 "
	    "version:int4 who",
	[STMT_PESO_REGISTRAR] = "id:int8 peso_gramos:int4 medido_en who",
	[STMT_PESOS_LIST] = "id:int8 limite:int4",
	[STMT_AUSENCIAS_LIST] = "id:int8 desde hasta sedes",
	[STMT_AUSENCIA_REGISTRAR] = "id:int8 inicio fin tipo motivo sedes who",
	[STMT_AUSENCIA_ELIMINAR] = "veterinario:int8 id:int8 sedes who",
	[STMT_AUSENCIAS_IMPORTAR] = "id:int8 eventos tipo motivo sedes who",
	[STMT_HORARIOS_LIST] = "id:int8 desde sedes",
	[STMT_HORARIOS_FIJAR] = "id:int8 sede:int8 desde bloques who",
	[STMT_SEMANA_VETERINARIO] = "id:int8 desde sedes",
	[STMT_AGENDA_SEDE] = "sede:int8 fecha",
	[STMT_FERIADOS_LIST] = "sede:int8 desde hasta",
	[STMT_FERIADO_REGISTRAR] = "sede:int8 fecha nombre cerrado:bool who",
	[STMT_FERIADO_ELIMINAR] = "sede:int8 fecha who",
	[STMT_TIPOS_CITA_LIST] = "sede:int8",
	[STMT_TIPO_CITA_FIJAR] = "sede:int8 codigo datos who",
	[STMT_TIPO_CITA_ELIMINAR] = "sede:int8 codigo who",
	[STMT_CALENDARIO_EMITIR] = "veterinario:int8 sede:int8 reemplaza:int8 "
	    "hash url sedes who",
	[STMT_CALENDARIOS_LIST] = "usuario:int8",
	[STMT_CALENDARIO_REVOCAR] = "id:int8 red:bool who",
	[STMT_VACUNAS_LIST] = "especie",
	[STMT_VACUNACION_REGISTRAR] = "id:int8 datos who",
	[STMT_TRATAMIENTO_REGISTRAR] = "id:int8 datos who",
	[STMT_DIAGNOSTICOS_LIST] = "q especie categoria",
	[STMT_DIAGNOSTICO_CREAR] = "datos who",
	[STMT_ENTRADA_REGISTRAR] = "id:int8 datos who",
	[STMT_ENTRADA_GET] = "id:int8 sedes who",
	[STMT_ENTRADA_VERSIONAR] = "id:int8 datos cambio version:int4 sedes who",
	[STMT_PROPIETARIO_GET] = "id:int8 sedes who",
	[STMT_PROPIETARIO_PUT] = "id:int8 cambios version:int4 who",
	[STMT_PROPIETARIOS_BUSCAR] = "q documento telefono limite:int4 "
	    "cursor_palabra cursor_id:int8 sedes who",
	[STMT_PROPIETARIO_FUSION] = "id:int8 origen:int8 version:int4 who",
	[STMT_LOGIN_ESPERA] = "email ip",
	[STMT_USUARIO_CLAVE] = "email",
	[STMT_LOGIN_FALLIDO] = "email ip usuario:int8 request_id",
	[STMT_SESION_INICIAR] = "usuario:int8 email hash dias:int4 ip agente "
	    "rehash request_id generacion:int8",
	[STMT_SESION_REFRESCAR] = "hash nuevo_hash dias:int4 ip agente "
	    "request_id",
	[STMT_SESION_CERRAR] = "hash ip request_id",
	[STMT_REVOCADOS] = "segundos:int4",
	[STMT_SESIONES_REVOCADAS] = "segundos:int4",
	[STMT_CITA_SEDE] = "id:int8",
	[STMT_USUARIOS_LIST] = "sedes limite:int4 cursor_id:int8",
	[STMT_USUARIO_GET] = "id:int8 sedes",
	[STMT_USUARIO_CREAR] = "email nombre hash roles sedes who",
	[STMT_USUARIO_PUT] = "id:int8 nombre activo:bool hash roles sedes who",
	[STMT_AUDITORIA_LIST] = "desde hasta autor:int8 entidad entidad_id "
	    "accion sede:int8 limite:int4 cursor_id:int8",
	[STMT_AUDITORIA_ESTADO] = "desde:int8 hasta:int8 limite:int8",
	[STMT_AUDITORIA_RETRASO] = "",
	[STMT_LIMITES] = "",
	[STMT_TRABAJOS_LIST] = "",
	[STMT_TRABAJO_GET] = "nombre",
	[STMT_TRABAJO_HORA] = "nombre zona",
	[STMT_TRABAJO_PUT] = "nombre habilitado:bool programa intervalo_s:int4 "
	    "zona_horaria proximo who",
	[STMT_TRABAJO_EJECUTAR] = "nombre who",
	[STMT_MUERTOS_LIST] = "consumidor tipo limite:int4 cursor_id:int8",
	[STMT_MUERTO_REENVIAR] = "id:int8 who",
};
