/*
 * sql.c - the statements of vetred-scheduler's database connection (one
 * per process, prepared on every connect): the relay's (relay.c) and
 * the periodic jobs' (jobs.c).
 */
#include "scheduler.h"

const char *const sched_sql[ST__MAX] = {
	/* $1 holder, $2 term in ms: a row if this process holds it now. */
	[ST_LEASE] =
	    "INSERT INTO relevo_turno AS t (nombre, titular, vence_en) "
	    "VALUES ('outbox', $1, clock_timestamp() + $2::int * interval '1 ms') "
	    "ON CONFLICT (nombre) DO UPDATE SET titular = EXCLUDED.titular, "
	    "vence_en = EXCLUDED.vence_en, desde = CASE WHEN t.titular = "
	    "EXCLUDED.titular THEN t.desde ELSE clock_timestamp() END "
	    "WHERE t.titular = EXCLUDED.titular OR t.vence_en < clock_timestamp() "
	    "RETURNING t.desde",
	/* How long the holder's lease still runs, in ms (a standby sleeps
	 * that long, not a whole third of the term, before it tries). */
	[ST_LEASE_LEFT] =
	    "SELECT greatest(0, extract(epoch FROM vence_en - clock_timestamp())"
	    " * 1000)::int FROM relevo_turno WHERE nombre = 'outbox'",
	[ST_RELEASE] =
	    "DELETE FROM relevo_turno WHERE nombre = 'outbox' AND titular = $1",
	/* $1 batch size, $2 '{id,...}' in flight (published, unconfirmed) */
	[ST_BATCH] =
	    "SELECT id, evento_id, tipo, agregado, version_esquema, "
	    "coalesce(request_id, ''), "
	    "to_char(creado_en AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"Z\"'), "
	    "extract(epoch FROM creado_en)::bigint, agregado_id, payload, "
	    "coalesce(destino, '') "
	    "FROM outbox WHERE publicado_en IS NULL "
	    "AND NOT (id = ANY($2::bigint[])) ORDER BY id LIMIT $1::int",
	/* $1 '{id,...}' */
	[ST_MARK] =
	    "UPDATE outbox SET publicado_en = greatest(clock_timestamp(), creado_en) "
	    "WHERE id = ANY($1::bigint[]) AND publicado_en IS NULL",
	/* $1 'true' or 'false' */
	[ST_LISTENING] =
	    "INSERT INTO relevo_escucha (canal, escuchando) "
	    "VALUES ('vetred_outbox', $1::boolean) ON CONFLICT (canal) DO UPDATE "
	    "SET escuchando = EXCLUDED.escuchando "
	    "WHERE relevo_escucha.escuchando <> EXCLUDED.escuchando",
	/* The jobs due now, locked for this transaction; a job another
	 * scheduler is firing is skipped.  Its zone's time now, as the
	 * civil minute lib/cron.c computes the next run after. */
	[ST_JOBS_DUE] =
	    "SELECT nombre, programa, to_char(now() AT TIME ZONE zona_horaria, "
	    "'YYYY-MM-DD HH24:MI') FROM trabajos "
	    "WHERE habilitado AND proximo_en <= now() "
	    "ORDER BY proximo_en LIMIT 50 FOR UPDATE SKIP LOCKED",
	/* $1 name, $2 next run (civil, the job's zone) or NULL, $3 why NULL */
	[ST_JOB_FIRE] = "SELECT disparar_trabajo($1, $2::timestamp, $3)",
	/* Seconds until the next job is due (NULL: none enabled). */
	[ST_JOBS_NEXT] =
	    "SELECT extract(epoch FROM min(proximo_en) - now()) FROM trabajos "
	    "WHERE habilitado",
};

