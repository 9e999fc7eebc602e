-- bench/booking_minimal.sql - the scratch tables of bench/booking_minimal.pgbench,
-- in schema bench_minima of the bench database, made afresh on each run:
-- what a booking cannot do without, and nothing else.  idempotencia is
-- shaped like public.idempotencia (same key, columns and checks),
-- citas has one GiST exclusion constraint (vet, period) and no other
-- index but its key, outbox has the columns of public.outbox and its
-- key, nothing else.
SET client_min_messages = warning;
DROP SCHEMA IF EXISTS bench_minima CASCADE;
CREATE SCHEMA bench_minima;
CREATE TABLE bench_minima.idempotencia (
	ambito           text NOT NULL,
	clave            text NOT NULL,
	hash_solicitud   bytea NOT NULL,
	respuesta_codigo text,
	respuesta_cuerpo jsonb,
	creado_en        timestamptz NOT NULL DEFAULT now(),
	expira_en        timestamptz NOT NULL DEFAULT now() + interval '24 hours',
	PRIMARY KEY (ambito, clave),
	CHECK (octet_length(hash_solicitud) = 32)
);
CREATE TABLE bench_minima.citas (
	id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	veterinario_id bigint NOT NULL,
	periodo        tstzrange NOT NULL,
	EXCLUDE USING gist (veterinario_id WITH =, periodo WITH &&)
);
CREATE TABLE bench_minima.outbox (
	id          bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	evento_id   uuid NOT NULL DEFAULT gen_random_uuid(),
	tipo        text NOT NULL,
	agregado    text NOT NULL,
	agregado_id text NOT NULL,
	payload     jsonb NOT NULL,
	creado_en   timestamptz NOT NULL DEFAULT now(),
	publicado_en timestamptz
);
