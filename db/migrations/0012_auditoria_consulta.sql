-- 0012: reading the audit trail, checking its chain, and auditing reads
-- of clinical records.

-- GET /api/v1/pacientes/{id} and /historial: the read and its audit row
-- in one transaction (nothing is shown that was not recorded).
CREATE FUNCTION leer_paciente(p_id bigint, p_usuario bigint, p_rol text,
    p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	p jsonb := paciente_detalle(p_id);
BEGIN
	IF p IS NOT NULL THEN
		PERFORM auditar(p_usuario, p_rol, NULL, 'leer', 'pacientes',
		    p_id::text, p_request_id, p_ip, NULL, NULL);
	END IF;
	RETURN p;
END
$$;
COMMENT ON FUNCTION leer_paciente(bigint, bigint, text, text, inet) IS
	'paciente_detalle() with an audit row (accion leer) when the patient exists.';

CREATE FUNCTION leer_historial(p_id bigint, p_limite integer, p_fecha timestamptz,
    p_tipo text, p_item bigint, p_usuario bigint, p_rol text, p_request_id text,
    p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	h jsonb := historial_paciente(p_id, p_limite, p_fecha, p_tipo, p_item);
BEGIN
	IF h IS NOT NULL THEN
		PERFORM auditar(p_usuario, p_rol, NULL, 'leer_historial', 'pacientes',
		    p_id::text, p_request_id, p_ip, NULL, NULL);
	END IF;
	RETURN h;
END
$$;
COMMENT ON FUNCTION leer_historial(bigint, integer, timestamptz, text, bigint, bigint, text, text, inet) IS
	'historial_paciente() with an audit row (accion leer_historial) when the patient exists.';

-- One audit row as the API shows it (the hash as hex).
CREATE FUNCTION auditoria_json(a auditoria) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('id', a.id, 'ocurrido_en', a.ocurrido_en,
	    'usuario_id', a.usuario_id, 'rol', a.rol, 'sede_id', a.sede_id,
	    'accion', a.accion, 'entidad', a.entidad, 'entidad_id', a.entidad_id,
	    'request_id', a.request_id, 'direccion_ip', host(a.direccion_ip),
	    'antes', a.antes, 'despues', a.despues, 'sello', a.sello,
	    'hash', encode(a.hash, 'hex'), 'hash_anterior', encode(a.hash_anterior, 'hex'))
$$;

-- GET /api/v1/auditoria: newest first, filters ANDed, p_cursor = the
-- smallest id of the previous page.
CREATE FUNCTION listar_auditoria(p_desde timestamptz, p_hasta timestamptz,
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
	    'elementos', coalesce((SELECT jsonb_agg(auditoria_json(a) ORDER BY id DESC)
	        FROM pagina WHERE n <= p_limite), '[]'),
	    'siguiente_cursor', CASE WHEN (SELECT count(*) FROM pagina) > p_limite
	        THEN (SELECT min(id) FROM pagina WHERE n <= p_limite)::text END)
$$;
COMMENT ON FUNCTION listar_auditoria(timestamptz, timestamptz, bigint, text, text, text, bigint, integer, bigint) IS
	'One page of the audit trail, newest first, with the cursor of the next page.';

-- GET /api/v1/auditoria/verificacion and vetred-admin verificar.
CREATE FUNCTION auditoria_estado() RETURNS jsonb
LANGUAGE sql STABLE AS $$
	WITH v AS (SELECT auditoria_verificar() AS roto)
	SELECT jsonb_build_object('integra', v.roto IS NULL,
	    'primer_sello_roto', v.roto,
	    'sellados', (SELECT count(*) FROM auditoria WHERE sello IS NOT NULL),
	    'ultimo_sello', (SELECT max(sello) FROM auditoria),
	    'sin_sellar', (SELECT count(*) FROM auditoria WHERE sello IS NULL))
	FROM v
$$;
COMMENT ON FUNCTION auditoria_estado() IS
	'The chain check: integra, the first sello that does not verify (NULL if none), how many rows are sealed and how many wait for the sealer.';
