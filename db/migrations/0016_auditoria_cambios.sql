-- 0016: an update's audit row keeps the changed fields only.
--
-- For a change (both antes and despues given as JSON objects) the row
-- stores, before and after, just the members whose values differ; a
-- creation keeps the whole new row, a read or a deletion what the caller
-- gives.  Smaller rows, and a trail that says what changed.
CREATE OR REPLACE FUNCTION auditar(
	p_usuario bigint, p_rol text, p_sede bigint, p_accion text,
	p_entidad text, p_entidad_id text, p_request_id text, p_ip inet,
	p_antes jsonb, p_despues jsonb)
RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	antes jsonb := p_antes;
	despues jsonb := p_despues;
BEGIN
	IF jsonb_typeof(p_antes) = 'object' AND jsonb_typeof(p_despues) = 'object' THEN
		SELECT coalesce(jsonb_object_agg(a.key, a.value), '{}') INTO antes
		FROM jsonb_each(p_antes) a
		WHERE p_despues -> a.key IS DISTINCT FROM a.value;
		SELECT coalesce(jsonb_object_agg(d.key, d.value), '{}') INTO despues
		FROM jsonb_each(p_despues) d
		WHERE p_antes -> d.key IS DISTINCT FROM d.value;
	END IF;
	INSERT INTO auditoria (usuario_id, rol, sede_id, accion, entidad,
	    entidad_id, request_id, direccion_ip, antes, despues)
	VALUES (p_usuario, p_rol, p_sede, p_accion, p_entidad, p_entidad_id,
	    p_request_id, p_ip, antes, despues);
END
$$;
COMMENT ON FUNCTION auditar(bigint, text, bigint, text, text, text, text, inet, jsonb, jsonb) IS
	'Appends one audit row (in the caller''s transaction); for a change, only the fields whose values differ, before and after.';
COMMENT ON COLUMN auditoria.antes IS 'For a change, the changed fields as they were; NULL for crear and leer. Secrets such as password_hash are left out.';
COMMENT ON COLUMN auditoria.despues IS 'For a change, the changed fields as they are now; for crear, the new row; NULL for eliminar and leer.';
