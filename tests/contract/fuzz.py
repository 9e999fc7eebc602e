#!/usr/bin/env python3
"""A short schemathesis pass over the whole API (part of `make test`).

Against a running stack (the variables of its env file): makes a network
administrator of its own for the run -- a row in usuarios and usuario_roles
through $VETRED_DATABASE_URL, its password set by `vetred-admin clave` --
so that it depends on no demo account and no earlier run, and what the
fuzzer does to users (disabling one, changing roles or a password) cuts
its own token only if it happens to guess that id.  Then it runs every
schemathesis check on every operation of the served OpenAPI document,
bounded by examples per operation and by a time limit, and exits non-zero
on any failure: a 5xx, a response off its schema or status list, a
schema-valid request refused, a schema-invalid one accepted, a wrong
answer to an undeclared method.

Environment: VETRED_HTTP_URL and VETRED_DATABASE_URL (required; from the
stack's env file), VETRED_ADMIN_BIN (build/release/vetred-admin),
VETRED_FUZZ_EXAMPLES (10), VETRED_FUZZ_SEED (1; "random" for a new one),
VETRED_FUZZ_TIMEOUT_S (110), VETRED_FUZZ_BIN (var/venv/bin/schemathesis,
installed by ci/deps.sh).
"""
import json
import os
import secrets
import subprocess
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))


def call(base, method, path, body, token=None):
    req = urllib.request.Request(base + path, method=method,
                                 data=json.dumps(body).encode())
    req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", "Bearer " + token)
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, json.load(r)
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def sign_in(base, email, password):
    st, body = call(base, "POST", "/api/v1/auth/login",
                    {"email": email, "password": password})
    if st != 200:
        sys.exit("fuzz: sign-in of %s answered %s: %s" % (email, st, body))
    return body["access_token"]


def own_admin(base, admin_bin):
    """A fresh admin_red account; its access token."""
    email = "contrato.%d.%d@vetred.test" % (os.getpid(), int(time.time()))
    password = "Fz-" + secrets.token_urlsafe(18)
    sql = ("INSERT INTO usuarios (email, nombre) VALUES ('%s', 'Prueba de "
           "contrato') RETURNING id" % email)
    out = subprocess.run(["psql", os.environ["VETRED_DATABASE_URL"], "-qAtX",
                          "-v", "ON_ERROR_STOP=1", "-c", sql,
                           "-c", "INSERT INTO usuario_roles (usuario_id, rol) "
                          "SELECT id, 'admin_red' FROM usuarios WHERE email = "
                          "'%s'" % email,
                          # An earlier run's failed sign-ins (it tries
                          # random ones) would lock this address out.
                          "-c", "DELETE FROM intentos_login WHERE NOT exito "
                          "AND direccion_ip = '127.0.0.1'"],
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("fuzz: cannot create the run's administrator: " + out.stderr)
    out = subprocess.run([admin_bin, "clave", email], input=password,
                         capture_output=True, text=True)
    if out.returncode != 0:
        sys.exit("fuzz: vetred-admin clave failed: " + out.stderr)
    return sign_in(base, email, password)


def main():
    base = os.environ.get("VETRED_HTTP_URL")
    if not base or not os.environ.get("VETRED_DATABASE_URL"):
        sys.exit("fuzz: VETRED_HTTP_URL or VETRED_DATABASE_URL is not set "
                 "(source the stack's env)")
    admin_bin = os.environ.get("VETRED_ADMIN_BIN",
                               os.path.join(REPO, "build/release/vetred-admin"))
    tool = os.environ.get("VETRED_FUZZ_BIN",
                          os.path.join(REPO, "var/venv/bin/schemathesis"))
    if not os.access(tool, os.X_OK):
        sys.exit("fuzz: %s is missing: run ci/deps.sh" % tool)
    token = own_admin(base, admin_bin)
    seed = os.environ.get("VETRED_FUZZ_SEED", "1")
    cmd = [tool, "--config-file", os.path.join(HERE, "schemathesis.toml"),
           "run", base + "/api/v1/openapi.json", "--url", base,
           "-H", "Authorization: Bearer " + token,
           "--checks", "all",
           "--max-examples", os.environ.get("VETRED_FUZZ_EXAMPLES", "10"),
           "--generation-database", "none", "--request-timeout", "10",
           "--no-color"]
    if seed != "random":
        cmd += ["--seed", seed]
    limit = int(os.environ.get("VETRED_FUZZ_TIMEOUT_S", "110"))
    work = os.path.join(REPO, "var", "fuzz")  # schemathesis writes here
    os.makedirs(work, exist_ok=True)
    try:
        rc = subprocess.run(cmd, timeout=limit, cwd=work).returncode
    except subprocess.TimeoutExpired:
        sys.exit("fuzz: schemathesis ran past %d s" % limit)
    print("fuzz: schemathesis %s" % ("passed" if rc == 0 else
                                     "FAILED (exit %d)" % rc))
    return rc


if __name__ == "__main__":
    sys.exit(main())
