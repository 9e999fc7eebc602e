-- propietarios.sql: owners at the desk: their search words, one owner's
-- JSON and its audited read, changes, search, and merging two records of
-- one person.
--
-- Current definitions, run again by vetred-migrate whenever this file
-- changes (db/README.md): CREATE OR REPLACE only.

-- The distinct search words of a text: nombre_paciente_clave() (no case,
-- no vowel accents), split on blanks.
CREATE OR REPLACE FUNCTION palabras_busqueda(p_texto text) RETURNS SETOF text
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
	SELECT DISTINCT w
	FROM regexp_split_to_table(nombre_paciente_clave(p_texto), ' ') AS w
	WHERE w <> ''
$$;
COMMENT ON FUNCTION palabras_busqueda(text) IS
	'Distinct search words of a name: lower case, vowel accents removed, split on blanks.';

-- The owner's own words follow its names; a merged owner has none (its
-- pets, moved, take theirs along: pacientes_palabras).
CREATE OR REPLACE FUNCTION propietarios_palabras() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		DELETE FROM propietario_palabras
		WHERE propietario_id = NEW.id AND paciente_id IS NULL;
	END IF;
	IF NEW.fusionado_en IS NULL THEN
		INSERT INTO propietario_palabras (palabra, propietario_id)
		SELECT w, NEW.id FROM palabras_busqueda(NEW.nombres || ' ' || NEW.apellidos) w;
	END IF;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION propietarios_palabras() IS
	'AFTER INSERT/UPDATE of the names or the merge of an owner: rewrites its rows of propietario_palabras.';

CREATE OR REPLACE TRIGGER propietarios_palabras AFTER INSERT OR UPDATE OF nombres, apellidos, fusionado_en
	ON propietarios FOR EACH ROW EXECUTE FUNCTION propietarios_palabras();

CREATE OR REPLACE FUNCTION pacientes_palabras() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'UPDATE' THEN
		IF (OLD.nombre, OLD.propietario_id) IS NOT DISTINCT FROM (NEW.nombre, NEW.propietario_id) THEN
			RETURN NULL;
		END IF;
		DELETE FROM propietario_palabras WHERE paciente_id = NEW.id;
	END IF;
	INSERT INTO propietario_palabras (palabra, propietario_id, paciente_id)
	SELECT w, NEW.propietario_id, NEW.id FROM palabras_busqueda(NEW.nombre) w;
	RETURN NULL;
END
$$;
COMMENT ON FUNCTION pacientes_palabras() IS
	'AFTER INSERT/UPDATE of a pet''s name or owner: its words find its (new) owner.';

CREATE OR REPLACE TRIGGER pacientes_palabras AFTER INSERT OR UPDATE OF nombre, propietario_id
	ON pacientes FOR EACH ROW EXECUTE FUNCTION pacientes_palabras();

-- A merged owner answers as the one it was merged into (and that one as
-- the one it was merged into, ...).  NULL when the id does not exist.
CREATE OR REPLACE FUNCTION propietario_vigente(p_id bigint) RETURNS bigint
LANGUAGE plpgsql STABLE AS $$
DECLARE
	cur bigint := p_id;
	sig bigint;
	saltos integer := 0;
BEGIN
	LOOP
		SELECT fusionado_en INTO sig FROM propietarios WHERE id = cur;
		IF NOT FOUND THEN
			RETURN NULL;
		END IF;
		IF sig IS NULL OR saltos >= 64 THEN
			RETURN cur;
		END IF;
		cur := sig;
		saltos := saltos + 1;
	END LOOP;
END
$$;
COMMENT ON FUNCTION propietario_vigente(bigint) IS
	'The owner an id answers as: itself, or the owner it was merged into (following merges); NULL for an unknown id.';

-- Owners as the API shows them, in the order of p_ids (p_extra[i]: what
-- the i-th one adds, a search's match): contact data
-- (sealed: the API opens it), pets with their next live appointment at
-- the reader's sites (p_sedes; NULL: all), and the records merged into
-- each.  One statement, whose plan the session keeps (PL/pgSQL): a page
-- of a search costs one plan, not one per owner and pet.
DROP FUNCTION IF EXISTS propietarios_json(bigint[], bigint[]);
CREATE OR REPLACE FUNCTION propietarios_json(p_ids bigint[], p_sedes bigint[],
    p_extra jsonb[] DEFAULT NULL) RETURNS jsonb
LANGUAGE plpgsql STABLE AS $$
BEGIN
	RETURN (
	SELECT coalesce(jsonb_agg(jsonb_build_object(
	    'id', o.id, 'nombres', o.nombres, 'apellidos', o.apellidos,
	    'tipo_documento', o.tipo_documento, 'numero_documento', o.numero_documento,
	    'telefono', o.telefono, 'email', o.email, 'direccion', o.direccion,
	    'sede_registro_id', o.sede_registro_id, 'version', o.version,
	    'creado_en', hora_local(o.creado_en, NULL),
	    'actualizado_en', hora_local(o.actualizado_en, NULL),
	    'fusionados', coalesce(f.ids, '[]'), 'pacientes', coalesce(m.pets, '[]'))
	    || coalesce(p_extra[t.n], '{}')
	    ORDER BY t.n), '[]')
	FROM unnest(p_ids) WITH ORDINALITY AS t(id, n)
	JOIN propietarios o ON o.id = t.id
	LEFT JOIN LATERAL (SELECT jsonb_agg(x.id ORDER BY x.id) AS ids
	    FROM propietarios x WHERE x.fusionado_en = o.id) f ON true
	LEFT JOIN LATERAL (SELECT jsonb_agg(jsonb_build_object(
	        'id', p.id, 'nombre', p.nombre, 'especie', p.especie,
	        'activo', p.activo, 'fallecido', p.fallecido, 'proxima_cita', c.cita)
	        ORDER BY p.id) AS pets
	    FROM pacientes p
	    LEFT JOIN LATERAL (SELECT jsonb_build_object('id', ci.id, 'sede_id', ci.sede_id,
	            'inicio', hora_local(lower(ci.periodo), s.zona_horaria),
	            'estado', ci.estado) AS cita
	        FROM citas ci JOIN sedes s ON s.id = ci.sede_id
	        WHERE ci.paciente_id = p.id AND ci.estado IN ('reservada', 'confirmada')
	          AND upper(ci.periodo) > now()
	          AND (p_sedes IS NULL OR ci.sede_id = ANY (p_sedes))
	        ORDER BY lower(ci.periodo) LIMIT 1) c ON true
	    WHERE p.propietario_id = o.id) m ON true);
END
$$;
COMMENT ON FUNCTION propietarios_json(bigint[], bigint[], jsonb[]) IS
	'JSON array of the owners of p_ids (in that order; unknown ids left out), each with its pets (next live appointment at p_sedes only), merged records and the members of p_extra''s element of the same position.';

CREATE OR REPLACE FUNCTION propietario_detalle(p_id bigint, p_sedes bigint[]) RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT propietarios_json(ARRAY[p_id], p_sedes) -> 0
$$;
COMMENT ON FUNCTION propietario_detalle(bigint, bigint[]) IS
	'JSON of one owner (propietarios_json()); NULL when absent.';

-- GET /api/v1/propietarios/{id}: a merged id answers the owner kept
-- (solicitado_id says which id was asked for); the read is audited.
CREATE OR REPLACE FUNCTION leer_propietario(p_id bigint, p_sedes bigint[],
    p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	vig bigint := propietario_vigente(p_id);
BEGIN
	IF vig IS NULL THEN
		RETURN NULL;
	END IF;
	PERFORM auditar(p_usuario, p_rol, NULL, 'leer', 'propietarios',
	    vig::text, p_request_id, p_ip, NULL, NULL);
	RETURN propietario_detalle(vig, p_sedes)
	    || jsonb_build_object('solicitado_id', p_id);
END
$$;
COMMENT ON FUNCTION leer_propietario(bigint, bigint[], bigint, text, text, inet) IS
	'propietario_detalle() of the owner an id answers as, with an audit row (accion leer); NULL for an unknown id.';

CREATE OR REPLACE FUNCTION evento_propietario(p_id bigint, p_extra jsonb DEFAULT NULL)
RETURNS jsonb
LANGUAGE sql STABLE AS $$
	SELECT jsonb_build_object('propietario_id', o.id, 'version', o.version,
	    'sede_id', o.sede_registro_id) || coalesce(p_extra, '{}')
	FROM propietarios o WHERE o.id = p_id
$$;
COMMENT ON FUNCTION evento_propietario(bigint, jsonb) IS
	'Payload of propietario.actualizado and propietario.fusionado (db/eventos/propietario.*.v1.json), with p_extra''s members.';

-- PUT /api/v1/propietarios/{id}: p_cambios holds the members to change,
-- already validated and sealed by the API (a null member clears email or
-- direccion); a new document or phone comes with its keyed hash.
CREATE OR REPLACE FUNCTION actualizar_propietario(p_id bigint, p_cambios jsonb,
    p_version integer, p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	o propietarios%ROWTYPE;
	antes jsonb;
	despues jsonb;
	cambios jsonb;
	otro bigint;
BEGIN
	SELECT * INTO o FROM propietarios WHERE id = p_id FOR UPDATE;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'El propietario no existe.'));
	END IF;
	IF o.fusionado_en IS NOT NULL THEN
		RETURN veredicto('conflicto', jsonb_build_object(
		    'detalle', format('El propietario %s se fusionó en el %s; modifique ese.',
		        p_id, propietario_vigente(p_id))));
	END IF;
	IF p_version IS NOT NULL AND p_version <> o.version THEN
		RETURN version_distinta('El propietario', o.version, p_version);
	END IF;
	IF p_cambios ? 'documento_hmac' THEN
		SELECT id INTO otro FROM propietarios
		WHERE tipo_documento = coalesce(p_cambios->>'tipo_documento', o.tipo_documento)
		  AND documento_hmac = decode(p_cambios->>'documento_hmac', 'hex') AND id <> p_id;
		IF otro IS NOT NULL THEN
			RETURN veredicto('conflicto', jsonb_build_object(
			    'detalle', format('El documento ya es del propietario %s; '
			        'si son la misma persona, fusiónelos.', propietario_vigente(otro)),
			    'errores', error_campo('documento', 'ya registrado')));
		END IF;
	END IF;
	antes := to_jsonb(o) - 'documento_hmac' - 'telefono_hmac' - 'actualizado_en';
	UPDATE propietarios SET
	    nombres = coalesce(p_cambios->>'nombres', nombres),
	    apellidos = coalesce(p_cambios->>'apellidos', apellidos),
	    tipo_documento = coalesce(p_cambios->>'tipo_documento', tipo_documento),
	    numero_documento = coalesce(p_cambios->>'numero_documento', numero_documento),
	    documento_hmac = coalesce(decode(p_cambios->>'documento_hmac', 'hex'), documento_hmac),
	    telefono = coalesce(p_cambios->>'telefono', telefono),
	    telefono_hmac = coalesce(decode(p_cambios->>'telefono_hmac', 'hex'), telefono_hmac),
	    email = CASE WHEN p_cambios ? 'email' THEN p_cambios->>'email' ELSE email END,
	    direccion = CASE WHEN p_cambios ? 'direccion' THEN p_cambios->>'direccion' ELSE direccion END,
	    version = version + 1
	WHERE id = p_id
	RETURNING * INTO o;
	despues := to_jsonb(o) - 'documento_hmac' - 'telefono_hmac' - 'actualizado_en';
	SELECT coalesce(jsonb_agg(k ORDER BY k), '[]') INTO cambios
	FROM jsonb_object_keys(antes) k
	WHERE antes->k IS DISTINCT FROM despues->k AND k <> 'version';
	PERFORM auditar(p_usuario, p_rol, NULL, 'modificar', 'propietarios', p_id::text,
	    p_request_id, p_ip, antes, despues);
	PERFORM publicar('propietario.actualizado', 'propietario', p_id::text,
	    evento_propietario(p_id, jsonb_build_object('cambios', cambios)), p_request_id);
	RETURN veredicto('hecho', jsonb_build_object('cuerpo',
	    propietario_detalle(p_id, NULL)));
END
$$;
COMMENT ON FUNCTION actualizar_propietario(bigint, jsonb, integer, bigint, text, text, inet) IS
	'Changes an owner''s names or contact data (If-Match version), refusing a document of another owner; audited, with propietario.actualizado.';

-- GET /api/v1/propietarios?q=: by document or phone (keyed hashes, the
-- API computes them; merged records answer as the owner kept), or by
-- words (p_texto): each word must begin a word of the owner's names or
-- of a pet's name.  The longest word drives: a range scan of propietario_palabras in word order; an owner
-- is listed once, at the first of its words that matches it.  The
-- cursor is (word, owner id) of the last row shown, or of the last row
-- read when a page reached its bound of rows read (escaneo) first.
CREATE OR REPLACE FUNCTION buscar_propietarios(p_texto text, p_documento bytea,
    p_telefono bytea, p_limite integer, p_cursor_palabra text, p_cursor_id bigint,
    p_sedes bigint[], p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql
-- The page is the first rows of one index range in its order: the
-- planner, which cannot tell how many rows the per-owner checks drop,
-- would otherwise read the whole range and sort it (50,000 rows for
-- "qui" over a million owners).  And its estimates pass jit_above_cost:
-- compiling would cost a hundred times the search.
SET enable_sort = off
SET enable_bitmapscan = off
SET jit = off
AS $$
DECLARE
	palabras text[];
	primera text COLLATE "C";
	tope text COLLATE "C";
	resto text[];
	ids bigint[];
	coinc jsonb[];
	hallados bigint;
	-- Rows of the driving range one page reads at most: a page of words
	-- rarely found together may come short, with a cursor to go on.
	escaneo constant integer := 2000;
	filas jsonb;
	sig text;
BEGIN
	IF p_documento IS NOT NULL OR p_telefono IS NOT NULL THEN
		SELECT coalesce(array_agg(v.id ORDER BY v.id), '{}'),
		    coalesce(array_agg(jsonb_build_object('coincidencia', jsonb_build_object(
		        'campo', v.campo)) ORDER BY v.id), '{}')
		INTO ids, coinc
		FROM (SELECT DISTINCT ON (propietario_vigente(o.id)) propietario_vigente(o.id) AS id,
		        CASE WHEN o.documento_hmac = p_documento THEN 'documento' ELSE 'telefono' END AS campo
		      FROM propietarios o
		      WHERE (o.tipo_documento IN ('DNI', 'CE') AND o.documento_hmac = p_documento)
		         OR o.telefono_hmac = p_telefono
		      ORDER BY propietario_vigente(o.id), o.fusionado_en NULLS FIRST
		      LIMIT p_limite) v;
	ELSE
		-- The longest word drives the scan: the fewest rows to walk.
		palabras := ARRAY(SELECT w FROM palabras_busqueda(p_texto) w
		    ORDER BY length(w) DESC, w);
		resto := palabras[2:];
		primera := coalesce(palabras[1], '');
		tope := primera || chr(1114111);
		-- c: at most SCAN_MAX rows of the driving word's range, read
		-- lazily (m stops pulling at the page's end); m: those whose
		-- owner is listed here (the owner's first word from the prefix
		-- on is this one: listed once) and has the other words.
		WITH c AS (
			SELECT w.palabra, w.propietario_id, w.paciente_id
			FROM propietario_palabras w
			WHERE w.palabra >= primera AND w.palabra < tope
			  AND left(w.palabra, length(primera)) = primera
			  AND (p_cursor_palabra IS NULL
			       OR (w.palabra, w.propietario_id) > (p_cursor_palabra COLLATE "C", p_cursor_id))
			ORDER BY w.palabra, w.propietario_id
			LIMIT escaneo),
		m AS (
			SELECT c.* FROM c
			WHERE (c.palabra, coalesce(c.paciente_id, 0)) = (
			      SELECT x.palabra, coalesce(x.paciente_id, 0)
			      FROM propietario_palabras x
			      WHERE x.propietario_id = c.propietario_id AND x.palabra >= primera
			      ORDER BY x.palabra, coalesce(x.paciente_id, 0) LIMIT 1)
			  AND NOT EXISTS (SELECT 1 FROM unnest(resto) r
			      WHERE NOT EXISTS (SELECT 1 FROM propietario_palabras y
			          WHERE y.propietario_id = c.propietario_id
			            AND y.palabra >= (r COLLATE "C")
			            AND left(y.palabra, length(r)) = r))
			ORDER BY c.palabra, c.propietario_id
			LIMIT p_limite + 1),
		n AS (SELECT m.*, row_number() OVER (ORDER BY m.palabra, m.propietario_id) AS i FROM m)
		SELECT coalesce(array_agg(n.propietario_id ORDER BY n.i) FILTER (WHERE n.i <= p_limite), '{}'),
		    coalesce(array_agg(jsonb_build_object('coincidencia', jsonb_build_object(
		        'campo', CASE WHEN n.paciente_id IS NULL THEN 'nombre' ELSE 'paciente' END,
		        'palabra', n.palabra, 'paciente_id', n.paciente_id))
		        ORDER BY n.i) FILTER (WHERE n.i <= p_limite), '{}'),
		    max(n.palabra || '_' || n.propietario_id) FILTER (WHERE n.i = p_limite
		        AND EXISTS (SELECT 1 FROM n n2 WHERE n2.i > p_limite)),
		    count(*)
		INTO ids, coinc, sig, hallados
		FROM n;
		-- A short page may be the scan's bound, not the range's end: the
		-- cursor then goes on from the last row read.
		IF hallados <= p_limite AND p_limite > 0 THEN
			SELECT max(u.palabra || '_' || u.propietario_id) FILTER (WHERE u.k = escaneo)
			INTO sig
			FROM (SELECT w.palabra, w.propietario_id,
			        row_number() OVER (ORDER BY w.palabra, w.propietario_id) AS k
			      FROM propietario_palabras w
			      WHERE w.palabra >= primera AND w.palabra < tope
			        AND left(w.palabra, length(primera)) = primera
			        AND (p_cursor_palabra IS NULL
			             OR (w.palabra, w.propietario_id) > (p_cursor_palabra COLLATE "C", p_cursor_id))
			      ORDER BY w.palabra, w.propietario_id
			      LIMIT escaneo) u;
		END IF;
	END IF;
	filas := propietarios_json(ids, p_sedes, coinc);
	PERFORM auditar(p_usuario, p_rol, NULL, 'buscar', 'propietarios', NULL,
	    p_request_id, p_ip, NULL, jsonb_build_object(
	        'criterio', CASE WHEN p_documento IS NOT NULL THEN 'documento'
	            WHEN p_telefono IS NOT NULL THEN 'telefono' ELSE 'nombre' END,
	        'propietarios', to_jsonb(ids)));
	RETURN jsonb_build_object('elementos', filas, 'siguiente_cursor', sig);
END
$$;
COMMENT ON FUNCTION buscar_propietarios(text, bytea, bytea, integer, text, bigint, bigint[], bigint, text, text, inet) IS
	'One page of owners found by document or phone hash, or by word prefixes of their names and pets'' names; audited (accion buscar, the ids shown).';

-- POST /api/v1/propietarios/{id}/fusion {origen_id}: the pets of the
-- record origen move to the owner kept (id), which takes origen's e-mail
-- and address where it has none; origen stays, marked merged, so its id
-- (and its document, at registration) resolve to the owner kept.
CREATE OR REPLACE FUNCTION fusionar_propietarios(p_destino bigint, p_origen bigint,
    p_version integer, p_usuario bigint, p_rol text, p_request_id text, p_ip inet)
RETURNS jsonb
LANGUAGE plpgsql AS $$
DECLARE
	d propietarios%ROWTYPE;
	o propietarios%ROWTYPE;
	antes jsonb;
	movidos jsonb;
BEGIN
	IF p_destino = p_origen THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('origen_id', 'es el mismo propietario')));
	END IF;
	-- Both rows locked in id order: two merges of the same pair in
	-- opposite directions cannot deadlock.
	PERFORM 1 FROM propietarios WHERE id IN (p_destino, p_origen) ORDER BY id FOR UPDATE;
	SELECT * INTO d FROM propietarios WHERE id = p_destino;
	IF NOT FOUND THEN
		RETURN veredicto('no-encontrado', jsonb_build_object(
		    'detalle', 'El propietario no existe.'));
	END IF;
	SELECT * INTO o FROM propietarios WHERE id = p_origen;
	IF NOT FOUND THEN
		RETURN veredicto('validacion', jsonb_build_object(
		    'detalle', 'Corrija los campos indicados.',
		    'errores', error_campo('origen_id', 'el propietario no existe')));
	END IF;
	IF d.fusionado_en IS NOT NULL OR o.fusionado_en IS NOT NULL THEN
		RETURN veredicto('conflicto', jsonb_build_object(
		    'detalle', format('El propietario %s ya se fusionó en el %s.',
		        CASE WHEN d.fusionado_en IS NOT NULL THEN d.id ELSE o.id END,
		        propietario_vigente(CASE WHEN d.fusionado_en IS NOT NULL THEN d.id ELSE o.id END))));
	END IF;
	IF p_version IS NOT NULL AND p_version <> d.version THEN
		RETURN version_distinta('El propietario', d.version, p_version);
	END IF;
	SELECT coalesce(jsonb_agg(id ORDER BY id), '[]') INTO movidos
	FROM pacientes WHERE propietario_id = p_origen;
	UPDATE pacientes SET propietario_id = p_destino WHERE propietario_id = p_origen;
	UPDATE propietarios SET fusionado_en = p_destino, fusionado_el = now(),
	    version = version + 1
	WHERE id = p_origen;
	antes := to_jsonb(d) - 'documento_hmac' - 'telefono_hmac' - 'actualizado_en';
	UPDATE propietarios SET email = coalesce(email, o.email),
	    direccion = coalesce(direccion, o.direccion), version = version + 1
	WHERE id = p_destino
	RETURNING * INTO d;
	PERFORM auditar(p_usuario, p_rol, NULL, 'fusionar', 'propietarios', p_origen::text,
	    p_request_id, p_ip, jsonb_build_object('fusionado_en', NULL),
	    jsonb_build_object('fusionado_en', p_destino, 'pacientes', movidos));
	PERFORM auditar(p_usuario, p_rol, NULL, 'modificar', 'propietarios', p_destino::text,
	    p_request_id, p_ip, antes,
	    to_jsonb(d) - 'documento_hmac' - 'telefono_hmac' - 'actualizado_en');
	PERFORM publicar('propietario.fusionado', 'propietario', p_destino::text,
	    evento_propietario(p_destino, jsonb_build_object('fusionado_id', p_origen,
	        'pacientes', movidos)), p_request_id);
	RETURN veredicto('hecho', jsonb_build_object('cuerpo',
	    propietario_detalle(p_destino, NULL)));
END
$$;
COMMENT ON FUNCTION fusionar_propietarios(bigint, bigint, integer, bigint, text, text, inet) IS
	'Merges owner p_origen into p_destino (pets moved, contact gaps filled, origen kept as a pointer); audited, with propietario.fusionado.';
