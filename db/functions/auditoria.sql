-- auditoria.sql: the append-only audit trail, its hash chain (sealing
-- and verifying) and how it is listed.
--
-- Current definitions, run again by vetred-migrate whenever this file
-- changes (db/README.md): CREATE OR REPLACE only.

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

CREATE OR REPLACE TRIGGER auditoria_sin_cambios BEFORE UPDATE OR DELETE ON auditoria
	FOR EACH ROW EXECUTE FUNCTION auditoria_solo_insercion();

CREATE OR REPLACE TRIGGER auditoria_sin_truncate BEFORE TRUNCATE ON auditoria
	FOR EACH STATEMENT EXECUTE FUNCTION auditoria_solo_insercion();

CREATE OR REPLACE TRIGGER auditoria_sellos_sin_cambios BEFORE UPDATE OR DELETE ON auditoria_sellos
	FOR EACH ROW EXECUTE FUNCTION auditoria_solo_insercion();

CREATE OR REPLACE TRIGGER auditoria_sellos_sin_truncate BEFORE TRUNCATE ON auditoria_sellos
	FOR EACH STATEMENT EXECUTE FUNCTION auditoria_solo_insercion();

-- Canonical bytes of a row for hashing: a JSON array in column order,
-- the time in UTC so the session time zone cannot change the bytes.
CREATE OR REPLACE FUNCTION auditoria_contenido(a auditoria) RETURNS bytea
LANGUAGE sql STABLE PARALLEL SAFE
AS $$
	SELECT convert_to(jsonb_build_array(a.id, a.ocurrido_en AT TIME ZONE 'UTC',
	    a.usuario_id, a.rol, a.sede_id, a.accion, a.entidad, a.entidad_id,
	    a.request_id, host(a.direccion_ip), a.antes, a.despues)::text, 'UTF8')
$$;
COMMENT ON FUNCTION auditoria_contenido(auditoria) IS
	'The bytes of an audit row that its hash covers (every column but the seal).';

CREATE OR REPLACE FUNCTION auditoria_sellar(p_limite integer DEFAULT 10000,
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
-- The API reads the chain and never writes it; only the owner seals.
REVOKE EXECUTE ON FUNCTION auditoria_sellar(integer) FROM PUBLIC;
DO $$
BEGIN
	IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = 'vetred_api') THEN
		REVOKE EXECUTE ON FUNCTION auditoria_sellar(integer) FROM vetred_api;
	END IF;
END
$$;

CREATE OR REPLACE FUNCTION auditoria_verificar(p_desde bigint DEFAULT 1, p_hasta bigint DEFAULT NULL)
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

-- The audit row's time in the zone of its site (sign-ins have none); the
-- zone is a column of the FROM, not a subquery argument, so that
-- hora_local() is inlined.
CREATE OR REPLACE FUNCTION auditoria_json(a auditoria, s auditoria_sellos) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', a.id,
	    'ocurrido_en', hora_local(a.ocurrido_en, z.zona),
	    'usuario_id', a.usuario_id, 'rol', a.rol, 'sede_id', a.sede_id,
	    'accion', a.accion, 'entidad', a.entidad, 'entidad_id', a.entidad_id,
	    'request_id', a.request_id, 'direccion_ip', host(a.direccion_ip),
	    'antes', a.antes, 'despues', a.despues, 'sello', s.sello,
	    'hash', encode(s.hash, 'hex'), 'hash_anterior', encode(s.hash_anterior, 'hex'))
	FROM (SELECT (SELECT zona_horaria FROM sedes WHERE id = a.sede_id) AS zona) z
$$;
COMMENT ON FUNCTION auditoria_json(auditoria, auditoria_sellos) IS
	'An audit row and its seal (NULLs until sealed) as GET /api/v1/auditoria shows them.';

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
COMMENT ON FUNCTION listar_auditoria(timestamptz, timestamptz, bigint, text, text, text, bigint, integer, bigint) IS
	'One page of the audit trail, newest first, with the cursor of the next page.';

-- Planned with the sealer's position as a constant: the planner then
-- knows that few rows lie past it and looks each one up in the seals'
-- index, instead of hashing the whole seals table as it would for a
-- generic third of the trail.
CREATE OR REPLACE FUNCTION auditoria_pendientes() RETURNS bigint
LANGUAGE plpgsql STABLE SET plan_cache_mode = force_custom_plan AS $$
DECLARE
	v_pos auditoria_sellador;
	v_n   bigint;
BEGIN
	SELECT * INTO v_pos FROM auditoria_sellador;
	IF NOT FOUND THEN
		RETURN 0;
	END IF;
	SELECT count(*) INTO v_n FROM auditoria a
	    WHERE (a.xid, a.id) > (v_pos.hasta_xid, v_pos.hasta_id)
	      AND NOT EXISTS (SELECT 1 FROM auditoria_sellos s WHERE s.auditoria_id = a.id);
	RETURN v_n;
END
$$;
COMMENT ON FUNCTION auditoria_pendientes() IS
	'Audit rows the sealer has not sealed yet: only rows past its position hasta can be (0017), so only those are read.';

CREATE OR REPLACE FUNCTION auditoria_estado(p_anclas text DEFAULT '', p_desde bigint DEFAULT 1,
    p_hasta bigint DEFAULT NULL, p_limite bigint DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	WITH ultimo AS (SELECT max(sello) AS sello FROM auditoria_sellos),
	pedido AS (
	    SELECT greatest(p_desde, 1) AS desde,
	        least(coalesce(p_hasta, u.sello), u.sello) AS hasta
	    FROM ultimo u),
	tramo AS (
	    -- hasta - desde cannot overflow (both within the chain); desde +
	    -- p_limite could, for a desde near the bigint limit.
	    SELECT desde, pedido.hasta AS pedido_hasta,
	        CASE WHEN p_limite IS NOT NULL AND pedido.hasta - desde >= p_limite
	            THEN desde + (p_limite - 1) ELSE pedido.hasta END AS hasta
	    FROM pedido),
	v AS (SELECT auditoria_verificar(t.desde, t.hasta) AS roto FROM tramo t),
	anclas AS (
	    SELECT split_part(l, ' ', 1)::bigint AS sello,
	        decode(split_part(l, ' ', 2), 'hex') AS hash
	    FROM regexp_split_to_table(coalesce(p_anclas, ''), '\n') l
	    WHERE l ~ '^[0-9]{1,18} [0-9a-f]{64}$'),
	rota AS (
	    SELECT min(a.sello) AS sello FROM anclas a
	    LEFT JOIN auditoria_sellos s ON s.sello = a.sello
	    WHERE s.hash IS DISTINCT FROM a.hash),
	pendientes AS (SELECT auditoria_pendientes() AS n)
	SELECT jsonb_build_object('integra', v.roto IS NULL AND rota.sello IS NULL,
	    'primer_sello_roto', v.roto,
	    'desde', t.desde,
	    'hasta', t.hasta,
	    'siguiente', CASE WHEN t.hasta < t.pedido_hasta THEN t.hasta + 1 END,
	    'limite', p_limite,
	    'sellados', coalesce(ultimo.sello, 0),
	    'ultimo_sello', ultimo.sello,
	    'sin_sellar', pendientes.n,
	    'anclas', (SELECT count(*) FROM anclas),
	    'primera_ancla_rota', rota.sello)
	FROM v, rota, ultimo, tramo t, pendientes
$$;
COMMENT ON FUNCTION auditoria_estado(text, bigint, bigint, bigint) IS
	'The chain check: integra (the links from desde to hasta and every anchor verify), the first sello that does not verify (NULL if none), the range walked -- the one asked for (default: all of it), at most p_limite seals when given, siguiente the first seal left out (NULL when none) --, how many seals the chain has, how many audit rows wait for the sealer, how many anchors (lines "sello hash") were given and the first that the chain no longer holds.';
