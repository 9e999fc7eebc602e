-- 0034: the periodic jobs.
--
-- One row per job: its schedule (cron, 5 fields, in the job's time zone;
-- or a fixed interval in seconds), when it runs next, and what its last
-- run did.  Any number of schedulers fire them: a due job is taken FOR
-- UPDATE SKIP LOCKED, its next run advanced and its message written into
-- the outbox in one transaction (disparar_trabajo(), db/functions/
-- trabajos.sql), so each run fires once and a fired run is never lost.
-- The next run is computed from the time of firing, not from the run
-- that was due: after a downtime a job fires once, not once per missed
-- period.  The worker that runs the job records its outcome.
CREATE TABLE trabajos (
	nombre             text PRIMARY KEY,
	descripcion        text NOT NULL,
	programa           text,
	intervalo_s        integer,
	zona_horaria       text NOT NULL DEFAULT 'America/Lima',
	habilitado         boolean NOT NULL DEFAULT true,
	proximo_en         timestamptz NOT NULL DEFAULT now(),
	ultimo_disparo_en  timestamptz,
	disparos           bigint NOT NULL DEFAULT 0,
	ultimo_resultado   text,
	ultimo_fin_en      timestamptz,
	ultima_duracion_ms integer,
	ultimo_error       text,
	ultimo_exito_en    timestamptz,
	ejecuciones_ok     bigint NOT NULL DEFAULT 0,
	ejecuciones_error  bigint NOT NULL DEFAULT 0,
	actualizado_en     timestamptz NOT NULL DEFAULT now(),
	CONSTRAINT trabajos_nombre_valido CHECK (nombre ~ '^[a-z][a-z_]{0,62}$'),
	CONSTRAINT trabajos_descripcion_valida CHECK (char_length(descripcion) BETWEEN 1 AND 300),
	CONSTRAINT trabajos_un_programa CHECK ((programa IS NULL) <> (intervalo_s IS NULL)),
	CONSTRAINT trabajos_programa_valido CHECK (char_length(programa) BETWEEN 1 AND 256),
	CONSTRAINT trabajos_intervalo_valido CHECK (intervalo_s BETWEEN 1 AND 31622400),
	CONSTRAINT trabajos_resultado_valido CHECK (ultimo_resultado IN ('ok', 'error')),
	CONSTRAINT trabajos_duracion_valida CHECK (ultima_duracion_ms >= 0),
	CONSTRAINT trabajos_error_valido CHECK (char_length(ultimo_error) <= 1000),
	CONSTRAINT trabajos_contadores CHECK (disparos >= 0 AND ejecuciones_ok >= 0 AND ejecuciones_error >= 0)
);
-- The schedulers' question, several times a second.
CREATE INDEX trabajos_proximos ON trabajos (proximo_en) WHERE habilitado;
COMMENT ON TABLE trabajos IS 'Periodic jobs: schedule, next run, last run and outcome. Fired by vetred-scheduler into the outbox (type trabajo.disparado, routed to vetred.trabajos by job name).';
COMMENT ON COLUMN trabajos.programa IS 'Cron schedule, 5 fields or a macro (lib/cron.c), in zona_horaria; NULL when intervalo_s is set.';
COMMENT ON COLUMN trabajos.intervalo_s IS 'Fixed interval in seconds from one firing to the next; NULL when programa is set.';
COMMENT ON COLUMN trabajos.proximo_en IS 'When the job is due next; a scheduler fires it at or after this.';
COMMENT ON COLUMN trabajos.ultimo_disparo_en IS 'When it was last fired (its message written to the outbox).';
COMMENT ON COLUMN trabajos.disparos IS 'Times fired; the number of a firing, in its message.';
COMMENT ON COLUMN trabajos.ultimo_resultado IS 'ok or error: what the worker that ran the last firing reported; NULL before any.';
COMMENT ON COLUMN trabajos.ultimo_error IS 'Reason of the last failure (no personal data).';

-- The jobs of the network.  Each is enabled by the migration that brings
-- its worker: a job fired with no worker bound to it would only pile up
-- in the broker's queue of unroutable messages.
INSERT INTO trabajos (nombre, descripcion, programa, intervalo_s, habilitado) VALUES
	('purga_outbox', 'Borra los eventos ya publicados más antiguos que la retención (7 días por omisión).', '15 3 * * *', NULL, false),
	('sellado_auditoria', 'Sella en la cadena de hashes las filas nuevas de la auditoría.', NULL, 2, false),
	('recordatorios', 'Envía los recordatorios de vacunas, tratamientos y citas que vencen.', '*/5 * * * *', NULL, false),
	('niveles_stock', 'Revisa el stock de cada sede contra sus mínimos y pide reposición.', '0 * * * *', NULL, false),
	('vencimiento_lotes', 'Avisa de los lotes que vencen pronto y retira los vencidos.', '0 6 * * *', NULL, false),
	('kpi_nocturno', 'Calcula los indicadores del día anterior de cada sede y de la red.', '30 1 * * *', NULL, false);

-- "Run now" (POST /api/v1/trabajos/{nombre}/ejecutar) answers that the
-- run was accepted: its message is in the outbox, the worker runs it.
INSERT INTO veredictos (codigo, descripcion) VALUES
	('aceptado', 'The request was taken and will be carried out asynchronously (a job fired now).');
