-- 0017: the hash chain in a narrow table of its own.
--
-- Sealing used to UPDATE the audit row itself (sello, hash,
-- hash_anterior): a second version of a wide row (before/after JSON) with
-- new entries in each of its indexes, for every row sealed -- as much WAL
-- again as the row's own INSERT, written by the same PostgreSQL that books
-- appointments.  Seals now go to auditoria_sellos, insert-only, about 100
-- bytes a row; an audit row is never touched after its INSERT and the
-- trigger refuses every UPDATE, with no exception for the sealer.
--
-- The sealer reads each audit row at most twice, whatever the backlog, in
-- the order of the transaction that wrote it (auditoria.xid, from
-- pg_current_xact_id()) and then id, from two positions it keeps
-- (auditoria_sellador):
--   * behind the horizon -- transactions older than the oldest one still
--     running have all ended, so no row can appear behind the position
--     "hasta" once it passed: every row there is sealed, and a row of a
--     transaction that committed late is found when the horizon passes it;
--   * ahead of the horizon, the committed rows it can see are sealed at
--     once from the position "adelante", so that one long transaction
--     (a report filling a temporary table, say) does not hold back the
--     sealing of everything written after it.
-- A row sealed ahead is passed over when "hasta" reaches it.

-- No sealer (first, as a sealer takes its lock before the table's) and
-- no INSERT into the trail while the chain moves to its new table.
SELECT pg_advisory_xact_lock(hashtextextended('vetred.auditoria_sellar', 0));
LOCK TABLE auditoria IN ACCESS EXCLUSIVE MODE;
-- Seal what is pending the old way: afterwards every row without an xid
-- (written before this migration) is in the chain.
SELECT auditoria_sellar(2147483647);

CREATE TABLE auditoria_sellos (
	sello         bigint PRIMARY KEY,
	auditoria_id  bigint NOT NULL,
	hash_anterior bytea,
	hash          bytea NOT NULL,
	-- No foreign key on purpose: checking it would lock the audit row
	-- (a write to its page); auditoria_verificar() finds a seal whose row
	-- is gone.
	CONSTRAINT auditoria_sellos_fila_unica UNIQUE (auditoria_id),
	CONSTRAINT auditoria_sellos_completo CHECK (
	    sello >= 1 AND octet_length(hash) = 32 AND
	    (sello = 1) = (hash_anterior IS NULL) AND
	    (hash_anterior IS NULL OR octet_length(hash_anterior) = 32))
);
COMMENT ON TABLE auditoria_sellos IS 'The audit trail''s SHA-256 hash chain, one row per sealed audit row, written only by auditoria_sellar(); insert-only like auditoria (UPDATE/DELETE/TRUNCATE refused by triggers).';
COMMENT ON COLUMN auditoria_sellos.sello IS 'Position in the chain: 1, 2, 3, ... with no gap.';
COMMENT ON COLUMN auditoria_sellos.auditoria_id IS 'The sealed row (auditoria.id); each row is sealed once.';
COMMENT ON COLUMN auditoria_sellos.hash_anterior IS 'hash of sello - 1; NULL for sello 1.';
COMMENT ON COLUMN auditoria_sellos.hash IS 'SHA-256 over hash_anterior and auditoria_contenido(row); a later edit of the row, or removal of a row or seal, breaks the chain (auditoria_verificar()).';

INSERT INTO auditoria_sellos (sello, auditoria_id, hash_anterior, hash)
	SELECT sello, id, hash_anterior, hash FROM auditoria WHERE sello IS NOT NULL;

-- From now on nothing changes a written audit row or seal.
CREATE OR REPLACE FUNCTION auditoria_solo_insercion() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION '% is append-only: % refused', TG_TABLE_NAME, TG_OP
	    USING ERRCODE = 'object_not_in_prerequisite_state',
	          CONSTRAINT = 'auditoria_solo_insercion', TABLE = TG_TABLE_NAME;
END
$$;
COMMENT ON FUNCTION auditoria_solo_insercion() IS
	'Refuses UPDATE, DELETE and TRUNCATE on auditoria and auditoria_sellos (SQLSTATE 55000).';
CREATE TRIGGER auditoria_sellos_sin_cambios BEFORE UPDATE OR DELETE ON auditoria_sellos
	FOR EACH ROW EXECUTE FUNCTION auditoria_solo_insercion();
CREATE TRIGGER auditoria_sellos_sin_truncate BEFORE TRUNCATE ON auditoria_sellos
	FOR EACH STATEMENT EXECUTE FUNCTION auditoria_solo_insercion();

-- Drops the seal's constraints and the old queue index with the columns
-- (metadata only: old row versions keep the bytes until rewritten).
ALTER TABLE auditoria DROP COLUMN sello, DROP COLUMN hash_anterior, DROP COLUMN hash;
-- Nullable so that adding it rewrites nothing; rows written before this
-- migration have none and are all sealed above.
ALTER TABLE auditoria ADD COLUMN xid xid8;
ALTER TABLE auditoria ALTER COLUMN xid SET DEFAULT pg_current_xact_id();
CREATE INDEX auditoria_xid ON auditoria (xid, id);
COMMENT ON COLUMN auditoria.xid IS 'Transaction that wrote the row (pg_current_xact_id()); the sealer takes rows in (xid, id) order. NULL for rows written before migration 0017 (all sealed by it). Not covered by the hash: it says nothing about the action.';

CREATE TABLE auditoria_sellador (
	unica         boolean PRIMARY KEY DEFAULT true,
	hasta_xid     xid8 NOT NULL,
	hasta_id      bigint NOT NULL,
	adelante_xid  xid8 NOT NULL,
	adelante_id   bigint NOT NULL,
	CONSTRAINT auditoria_sellador_una_fila CHECK (unica)
);
COMMENT ON TABLE auditoria_sellador IS 'The sealer''s two positions in (xid, id) order, one row.';
COMMENT ON COLUMN auditoria_sellador.unica IS 'Always true: the table holds one row.';
COMMENT ON COLUMN auditoria_sellador.hasta_xid IS 'With hasta_id: every audit row at or before (hasta_xid, hasta_id) is sealed.';
COMMENT ON COLUMN auditoria_sellador.hasta_id IS 'See hasta_xid.';
COMMENT ON COLUMN auditoria_sellador.adelante_xid IS 'With adelante_id: the last row sealed ahead of the horizon (rows of transactions then still running may lie before it, unsealed, until hasta reaches them).';
COMMENT ON COLUMN auditoria_sellador.adelante_id IS 'See adelante_xid.';
-- The oldest transaction still running: one waiting on the lock above to
-- append its row has an xid at least this old.
INSERT INTO auditoria_sellador (hasta_xid, hasta_id, adelante_xid, adelante_id)
	SELECT x, 0, x, 0 FROM pg_snapshot_xmin(pg_current_snapshot()) x;

-- Planned with the run's own values each time: a generic plan cannot
-- tell that the ranges are the last seconds of the trail.
DROP FUNCTION auditoria_sellar(integer);
CREATE FUNCTION auditoria_sellar(p_limite integer DEFAULT 10000,
    OUT sellados integer, OUT leidas integer, OUT ultimo_sello bigint,
    OUT ultimo_hash text)
LANGUAGE plpgsql SET plan_cache_mode = force_custom_plan AS $$
DECLARE
	v_horizonte xid8;
	v_pos       auditoria_sellador;
	v_sello     bigint;
	v_hash      bytea;
	v_nuevo     bytea;
	r           record;
BEGIN
	sellados := 0;
	leidas := 0;
	-- A sealing transaction lost in a crash is lost whole (seals and
	-- positions together) and redone by the next call: it need not wait
	-- for its WAL flush beside the bookings'.
	PERFORM set_config('synchronous_commit', 'off', true);
	-- One sealer at a time; a second caller waits, then continues the chain.
	PERFORM pg_advisory_xact_lock(hashtextextended('vetred.auditoria_sellar', 0));
	-- Taken before the scan below (its own, later snapshot): every
	-- transaction older than this has ended, and the scan sees its rows.
	v_horizonte := pg_snapshot_xmin(pg_current_snapshot());
	SELECT * INTO STRICT v_pos FROM auditoria_sellador;
	-- A cluster restored from a dump numbers its transactions below the
	-- stored positions: start over (sealed rows are passed over).
	IF v_pos.hasta_xid >= v_horizonte THEN
		v_pos.hasta_xid := '0';
		v_pos.hasta_id := 0;
		v_pos.adelante_xid := '0';
		v_pos.adelante_id := 0;
	END IF;
	SELECT sello, hash INTO v_sello, v_hash
	    FROM auditoria_sellos ORDER BY sello DESC LIMIT 1;
	v_sello := coalesce(v_sello, 0);
	FOR r IN
	    (SELECT a AS fila, a.xid, a.id, false AS adelante FROM auditoria a
	     WHERE a.xid < v_horizonte AND (a.xid, a.id) > (v_pos.hasta_xid, v_pos.hasta_id)
	     ORDER BY a.xid, a.id LIMIT p_limite)
	    UNION ALL
	    (SELECT a, a.xid, a.id, true FROM auditoria a
	     WHERE a.xid >= v_horizonte AND (a.xid, a.id) > (v_pos.adelante_xid, v_pos.adelante_id)
	     ORDER BY a.xid, a.id LIMIT p_limite)
	    LIMIT p_limite
	LOOP
		leidas := leidas + 1;
		IF r.adelante THEN
			v_pos.adelante_xid := r.xid;
			v_pos.adelante_id := r.id;
		ELSE
			v_pos.hasta_xid := r.xid;
			v_pos.hasta_id := r.id;
		END IF;
		CONTINUE WHEN EXISTS (SELECT 1 FROM auditoria_sellos s WHERE s.auditoria_id = r.id);
		v_sello := v_sello + 1;
		v_nuevo := sha256(coalesce(v_hash, ''::bytea) || auditoria_contenido(r.fila));
		INSERT INTO auditoria_sellos (sello, auditoria_id, hash_anterior, hash)
		    VALUES (v_sello, r.id, v_hash, v_nuevo);
		v_hash := v_nuevo;
		sellados := sellados + 1;
	END LOOP;
	IF leidas > 0 THEN
		UPDATE auditoria_sellador SET hasta_xid = v_pos.hasta_xid,
		    hasta_id = v_pos.hasta_id, adelante_xid = v_pos.adelante_xid,
		    adelante_id = v_pos.adelante_id;
	END IF;
	ultimo_sello := nullif(v_sello, 0);
	ultimo_hash := encode(v_hash, 'hex');
END
$$;
COMMENT ON FUNCTION auditoria_sellar(integer) IS
	'Seals into the hash chain (auditoria_sellos) the committed audit rows it has not read yet, at most p_limite read per call: sellados, how many it sealed; leidas, how many it read (sealed ones passed over included; fewer than p_limite when it is done); ultimo_sello and ultimo_hash (hex), the chain''s head after the call (NULL while it is empty). Run periodically by one sealer (vetred-admin sellar).';

-- Seals p_desde..p_hasta (NULL: to the end), the link into p_desde
-- included: a long chain can be checked in ranges, each cheap.
DROP FUNCTION auditoria_verificar();
CREATE FUNCTION auditoria_verificar(p_desde bigint DEFAULT 1, p_hasta bigint DEFAULT NULL)
RETURNS bigint
LANGUAGE sql STABLE
AS $$
	SELECT min(sello) FROM (
	    SELECT s.sello, s.hash, s.hash_anterior, a.id AS fila,
	        lag(s.hash) OVER (ORDER BY s.sello) AS hash_previo,
	        lag(s.sello) OVER (ORDER BY s.sello) AS sello_previo,
	        sha256(coalesce(s.hash_anterior, ''::bytea) || auditoria_contenido(a)) AS recalculado
	    FROM auditoria_sellos s LEFT JOIN auditoria a ON a.id = s.auditoria_id
	    WHERE s.sello >= greatest(p_desde, 1) - 1
	      AND (p_hasta IS NULL OR s.sello <= p_hasta)) c
	WHERE c.sello >= greatest(p_desde, 1)
	  AND (c.fila IS NULL
	   OR c.hash IS DISTINCT FROM c.recalculado
	   OR c.hash_anterior IS DISTINCT FROM c.hash_previo
	   OR c.sello <> coalesce(c.sello_previo, 0) + 1)
$$;
COMMENT ON FUNCTION auditoria_verificar(bigint, bigint) IS
	'Walks the hash chain from p_desde to p_hasta (default: all of it); returns the first sello that does not verify (edited or missing row, edited or missing seal, the link into p_desde included), NULL if that part is intact.';

-- One audit row as the API shows it, with its seal (the hashes as hex).
CREATE FUNCTION auditoria_json(a auditoria, s auditoria_sellos) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', a.id, 'ocurrido_en', a.ocurrido_en,
	    'usuario_id', a.usuario_id, 'rol', a.rol, 'sede_id', a.sede_id,
	    'accion', a.accion, 'entidad', a.entidad, 'entidad_id', a.entidad_id,
	    'request_id', a.request_id, 'direccion_ip', host(a.direccion_ip),
	    'antes', a.antes, 'despues', a.despues, 'sello', s.sello,
	    'hash', encode(s.hash, 'hex'), 'hash_anterior', encode(s.hash_anterior, 'hex'))
$$;
COMMENT ON FUNCTION auditoria_json(auditoria, auditoria_sellos) IS
	'An audit row and its seal (NULLs until sealed) as GET /api/v1/auditoria shows them.';
DROP FUNCTION auditoria_json(auditoria);

CREATE OR REPLACE FUNCTION listar_auditoria(p_desde timestamptz, p_hasta timestamptz,
    p_usuario bigint, p_entidad text, p_entidad_id text, p_accion text,
    p_sede bigint, p_limite integer, p_cursor bigint)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	WITH filas AS (
	    SELECT x AS a, x.id FROM auditoria x
	    WHERE (p_cursor IS NULL OR x.id < p_cursor)
	      AND (p_desde IS NULL OR x.ocurrido_en >= p_desde)
	      AND (p_hasta IS NULL OR x.ocurrido_en < p_hasta)
	      AND (p_usuario IS NULL OR x.usuario_id = p_usuario)
	      AND (p_entidad IS NULL OR x.entidad = p_entidad)
	      AND (p_entidad_id IS NULL OR x.entidad_id = p_entidad_id)
	      AND (p_accion IS NULL OR x.accion = p_accion)
	      AND (p_sede IS NULL OR x.sede_id = p_sede)
	    ORDER BY x.id DESC LIMIT p_limite + 1),
	pagina AS (SELECT a, id, row_number() OVER (ORDER BY id DESC) AS n FROM filas)
	SELECT jsonb_build_object(
	    'elementos', coalesce((SELECT jsonb_agg(auditoria_json(p.a, s) ORDER BY p.id DESC)
	        FROM pagina p LEFT JOIN auditoria_sellos s ON s.auditoria_id = p.id
	        WHERE p.n <= p_limite), '[]'),
	    'siguiente_cursor', CASE WHEN (SELECT count(*) FROM pagina) > p_limite
	        THEN (SELECT min(id) FROM pagina WHERE n <= p_limite)::text END)
$$;

-- GET /api/v1/auditoria/verificacion and vetred-admin verificar [LOG...]:
-- the chain, and the heads the sealer logged (lines "sello hash-in-hex").
-- A chain rebuilt after an edit verifies on its own; its old heads do not.
DROP FUNCTION auditoria_estado();
CREATE FUNCTION auditoria_estado(p_anclas text DEFAULT '', p_desde bigint DEFAULT 1,
    p_hasta bigint DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	WITH v AS (SELECT auditoria_verificar(p_desde, p_hasta) AS roto),
	anclas AS (
	    SELECT split_part(l, ' ', 1)::bigint AS sello,
	        decode(split_part(l, ' ', 2), 'hex') AS hash
	    FROM regexp_split_to_table(coalesce(p_anclas, ''), '\n') l
	    WHERE l ~ '^[0-9]{1,18} [0-9a-f]{64}$'),
	rota AS (
	    SELECT min(a.sello) AS sello FROM anclas a
	    LEFT JOIN auditoria_sellos s ON s.sello = a.sello
	    WHERE s.hash IS DISTINCT FROM a.hash),
	ultimo AS (SELECT max(sello) AS sello FROM auditoria_sellos)
	SELECT jsonb_build_object('integra', v.roto IS NULL AND rota.sello IS NULL,
	    'primer_sello_roto', v.roto,
	    'desde', greatest(p_desde, 1),
	    'hasta', least(coalesce(p_hasta, ultimo.sello), ultimo.sello),
	    'sellados', (SELECT count(*) FROM auditoria_sellos),
	    'ultimo_sello', ultimo.sello,
	    'sin_sellar', (SELECT count(*) FROM auditoria a WHERE NOT EXISTS
	        (SELECT 1 FROM auditoria_sellos s WHERE s.auditoria_id = a.id)),
	    'anclas', (SELECT count(*) FROM anclas),
	    'primera_ancla_rota', rota.sello)
	FROM v, rota, ultimo
$$;
COMMENT ON FUNCTION auditoria_estado(text, bigint, bigint) IS
	'The chain check: integra (the links from desde to hasta, default all, and every anchor verify), the first sello that does not verify (NULL if none), the range walked, how many rows are sealed and how many wait for the sealer, how many anchors (lines "sello hash") were given and the first that the chain no longer holds.';

-- The API reads the chain and never writes it; only the owner seals.
REVOKE EXECUTE ON FUNCTION auditoria_sellar(integer) FROM PUBLIC;
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vetred_api') THEN
		REVOKE INSERT, UPDATE, DELETE, TRUNCATE ON auditoria_sellos, auditoria_sellador
		    FROM vetred_api;
		GRANT SELECT ON auditoria_sellos, auditoria_sellador TO vetred_api;
		REVOKE EXECUTE ON FUNCTION auditoria_sellar(integer) FROM vetred_api;
	END IF;
END
$$;
