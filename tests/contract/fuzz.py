#!/usr/bin/env python3
"""A short schemathesis pass over the whole API (part of `make test`).

Against a running stack ($VETRED_HTTP_URL, seeded): signs in as the demo
network administrator, creates an administrator of its own for the run
(so that what the fuzzer does to users -- disabling one, changing a
password -- never cuts the token it runs with, unless it guesses that id),
and runs every schemathesis check on every operation of the served OpenAPI
document, bounded by examples per operation and by a time limit.  Exits
non-zero on any failure: a 5xx, a response off its schema or status list,
a schema-valid request refused, a schema-invalid one accepted, a wrong
answer to an undeclared method.

Environment: VETRED_HTTP_URL (required), VETRED_FUZZ_EXAMPLES (10),
VETRED_FUZZ_SEED (1; "random" for a new one), VETRED_FUZZ_TIMEOUT_S (110),
VETRED_FUZZ_BIN (var/venv/bin/schemathesis, installed by ci/deps.sh).
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
DEMO_ADMIN = ("admin.red@vetred.pe", "VetRed-Demo-2026")


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


def own_admin(base):
    token = sign_in(base, *DEMO_ADMIN)
    email = "contrato.%d.%d@vetred.test" % (os.getpid(), int(time.time()))
    password = "Fz-" + secrets.token_urlsafe(18)
    st, body = call(base, "POST", "/api/v1/usuarios",
                    {"email": email, "nombre": "Prueba de contrato",
                     "password": password,
                     "roles": [{"rol": "admin_red", "sede": None}]}, token)
    if st != 201:
        sys.exit("fuzz: creating the run's administrator answered %s: %s"
                 % (st, body))
    return sign_in(base, email, password)


def main():
    base = os.environ.get("VETRED_HTTP_URL")
    if not base:
        sys.exit("fuzz: VETRED_HTTP_URL is not set (source the stack's env)")
    tool = os.environ.get("VETRED_FUZZ_BIN",
                          os.path.join(REPO, "var/venv/bin/schemathesis"))
    if not os.access(tool, os.X_OK):
        sys.exit("fuzz: %s is missing: run ci/deps.sh" % tool)
    token = own_admin(base)
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
