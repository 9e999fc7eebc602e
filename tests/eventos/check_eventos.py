#!/usr/bin/env python3
"""Checks the event contracts (db/eventos/TYPE.vN.json) against the events
the system really wrote.

  check_eventos.py --db URL [--min-per-type 1]

1. Every schema file is a JSON Schema (draft 2020-12) named TYPE.vN.json,
   with the matching $id, closed (additionalProperties false) and one
   example that it accepts; the same example with an unknown member, with
   a required member missing or with a sealed value must be refused, so a
   schema that accepts anything fails here.
2. Every event type the SQL sources under db/ publish by name has a schema.
3. Every outbox row of the database validates against the schema of its
   type and version, and holds no sealed value ("v1:..." or "v2:..."), no
   member named like personal data, and no REST document.
4. Every schema has at least one row in the outbox (the test suites emit
   every type), so a type nobody exercises cannot hide.

Exit 0 when all holds, 1 otherwise (each failure on its own line).
Needs jsonschema_rs (installed into var/venv by ci/deps.sh) and psql.
"""
import argparse
import copy
import glob
import json
import os
import re
import subprocess
import sys

import jsonschema_rs

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SCHEMAS = os.path.join(ROOT, "db", "eventos")
NAME = re.compile(r"^([a-z][a-z_]*(?:\.[a-z][a-z_]*)+)\.v([1-9][0-9]*)\.json$")
# publicar('tipo', ...) and 'tipo' literals handed to it through a variable.
PUBLISHED = re.compile(r"publicar\(\s*'([a-z][a-z_]*(?:\.[a-z][a-z_]*)+)'")
EVENT_LITERAL = re.compile(r"THEN\s+'((?:cita|paciente|sede|usuario)\.[a-z_]+)'")
# Members an event must never carry: personal data (sealed at rest) and
# names a consumer reads from the database by id when it needs them.
PERSONAL = {"nombres", "apellidos", "nombre_propietario", "documento",
            "numero_documento", "telefono", "email", "direccion",
            "alergias", "microchip", "password_hash", "motivo",
            "motivo_cancelacion", "paciente", "veterinario", "propietario"}

failures = []


def fail(msg):
    failures.append(msg)
    print("check_eventos: " + msg, file=sys.stderr)


def walk(value, path="$"):
    """Yields (path, key, value) of every member and item of a JSON value."""
    if isinstance(value, dict):
        for k, v in value.items():
            yield path + "." + k, k, v
            yield from walk(v, path + "." + k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield "%s[%d]" % (path, i), None, v
            yield from walk(v, "%s[%d]" % (path, i))


def hygiene(payload):
    """What is wrong with a payload whatever its schema says."""
    wrong = []
    for path, key, v in walk(payload):
        if isinstance(v, str) and v.startswith(("v1:", "v2:")):
            wrong.append("%s is a sealed value" % path)
        if key in PERSONAL:
            wrong.append("%s names personal data or a REST field" % path)
    return wrong


def load_schemas():
    schemas = {}
    for f in sorted(glob.glob(os.path.join(SCHEMAS, "*.json"))):
        base = os.path.basename(f)
        m = NAME.match(base)
        if not m:
            fail("%s: not named TYPE.vN.json" % base)
            continue
        tipo, ver = m.group(1), int(m.group(2))
        try:
            with open(f, encoding="utf-8") as fh:
                s = json.load(fh)
            v = jsonschema_rs.Draft202012Validator(s, validate_formats=True)
        except Exception as e:  # a broken schema is a failure, not a crash
            fail("%s: %s" % (base, e))
            continue
        if s.get("$schema") != "https://json-schema.org/draft/2020-12/schema":
            fail("%s: $schema is not draft 2020-12" % base)
        if s.get("$id") != "urn:vetred:evento:%s:v%d" % (tipo, ver):
            fail("%s: $id is not urn:vetred:evento:%s:v%d" % (base, tipo, ver))
        if s.get("type") != "object" or s.get("additionalProperties") is not False:
            fail("%s: not a closed object (additionalProperties false)" % base)
        self_check(base, s, v)
        schemas[(tipo, ver)] = v
    return schemas


def self_check(base, s, v):
    """The schema accepts its example and refuses its mutations."""
    ex = s.get("examples")
    if not isinstance(ex, list) or len(ex) != 1:
        fail("%s: needs exactly one example" % base)
        return
    ok = ex[0]
    errs = [e.message for e in v.iter_errors(ok)] + hygiene(ok)
    if errs:
        fail("%s: its example is refused: %s" % (base, "; ".join(errs)))
        return
    bad = copy.deepcopy(ok)
    bad["no_declarado"] = 1
    if v.is_valid(bad):
        fail("%s: accepts an undeclared member" % base)
    for req in s.get("required", []):
        bad = copy.deepcopy(ok)
        del bad[req]
        if v.is_valid(bad):
            fail("%s: accepts the example without %s" % (base, req))
    strings = [k for k, x in ok.items() if isinstance(x, str)]
    for k in strings:
        bad = copy.deepcopy(ok)
        for sealed in ("v1:AAAAAAAAAAAAAAAA", "v2:AAAAAAAAAAAAAAAA"):
            bad[k] = sealed
            if v.is_valid(bad) and not hygiene(bad):
                fail("%s: lets a sealed value through in %s" % (base, k))


def published_types():
    types = set()
    for f in glob.glob(os.path.join(ROOT, "db", "**", "*.sql"), recursive=True):
        with open(f, encoding="utf-8") as fh:
            text = fh.read()
        types |= set(PUBLISHED.findall(text)) | set(EVENT_LITERAL.findall(text))
    return types


def outbox_rows(url):
    q = ("SELECT json_build_object('id', id, 'tipo', tipo, 'version', "
         "version_esquema, 'payload', payload) FROM outbox ORDER BY id")
    out = subprocess.run(["psql", "-X", "-qAt", "-v", "ON_ERROR_STOP=1",
                          "-d", url, "-c", q], check=True,
                         capture_output=True, text=True).stdout
    # One row a line; not splitlines(), which also splits inside a string
    # at U+2028, U+0085 and the like, which a payload may hold.
    return [json.loads(line) for line in out.split("\n") if line]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", required=True, help="database URL (the test stack's)")
    ap.add_argument("--min-per-type", type=int, default=1)
    a = ap.parse_args()

    schemas = load_schemas()
    known = {t for t, _ in schemas}
    for t in sorted(published_types() - known):
        fail("type %s is published in db/ but has no schema in db/eventos/" % t)

    seen = {}
    rows = outbox_rows(a.db)
    for r in rows:
        key = (r["tipo"], r["version"])
        v = schemas.get(key)
        if v is None:
            fail("outbox %d: no schema %s.v%d.json" % (r["id"], *key))
            continue
        errs = ["%s: %s" % (e.instance_path, e.message)
                for e in v.iter_errors(r["payload"])] + hygiene(r["payload"])
        if errs:
            fail("outbox %d (%s.v%d): %s" % (r["id"], *key, "; ".join(errs[:5])))
        seen[key] = seen.get(key, 0) + 1
    for key in sorted(schemas):
        if seen.get(key, 0) < a.min_per_type:
            fail("%s.v%d: %d event(s) in the outbox, want at least %d" %
                 (*key, seen.get(key, 0), a.min_per_type))
    print("check_eventos: %d schemas, %d events checked, %d failure(s)" %
          (len(schemas), len(rows), len(failures)))
    for key in sorted(seen):
        print("  %-24s v%d  %6d" % (key[0], key[1], seen[key]))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
