-- 0024: every chain check through the API is bounded.
--
-- GET /api/v1/auditoria/verificacion without a range walked the whole
-- chain in one statement (0.75 s at 28,000 seals, linear in the trail: it
-- would pass the API's statement timeout as the trail grows).  The check
-- now takes a page size: the range asked for (default: from seal 1 to the
-- end) is clipped to p_limite seals and `siguiente` says where the next
-- call starts.  vetred-admin verificar passes no page size and still walks
-- everything, on a connection without a statement timeout.
--
-- The counts no longer scan the trail either: seals are numbered without
-- gaps, so the number sealed is the last seal's number; rows waiting for
-- the sealer can only lie past its position "hasta" (every row at or
-- before it is sealed, see 0017), so only those are counted.

-- Planned with the sealer's position as a constant: the planner then
-- knows that few rows lie past it and looks each one up in the seals'
-- index, instead of hashing the whole seals table as it would for a
-- generic third of the trail.
CREATE FUNCTION auditoria_pendientes() RETURNS bigint
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

DROP FUNCTION auditoria_estado(text, bigint, bigint);
CREATE FUNCTION auditoria_estado(p_anclas text DEFAULT '', p_desde bigint DEFAULT 1,
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
