#!/usr/bin/env python3
"""From an empty database to one booked appointment, as a new user would.

Usage: primera_cita.py --base URL --email EMAIL --password-env VAR
                       --psql COMMAND [--insecure]

Signs in as the bootstrapped network administrator (its password in the
environment variable VAR), creates a site and a vet's user account
through the API, gives the vet a schedule at that site by SQL (the API
has no route for vets' schedules yet: COMMAND is a shell command that
reads SQL on stdin and prints bare values, e.g. `docker compose exec -T
postgres psql -U vetred -d vetred -qAt -v ON_ERROR_STOP=1`), registers a
patient, asks for free slots two days ahead, books the first one and reads
it back.  Prints one JSON line per step; exits 0 when the appointment
was booked, 1 with the failing step otherwise.  The CI compose job runs
it against `docker compose up`; make test runs it against the local
stack.
"""
import argparse
import datetime
import json
import os
import random
import ssl
import subprocess
import sys
import urllib.error
import urllib.request


class Step(Exception):
    pass


def say(step, **fields):
    print(json.dumps(dict(paso=step, **fields), ensure_ascii=False), flush=True)


class Api:
    def __init__(self, base, insecure):
        self.base = base.rstrip("/") + "/api/v1"
        self.ctx = ssl._create_unverified_context() if insecure else None
        self.token = None

    def call(self, method, path, body=None, want=200):
        data = json.dumps(body).encode() if body is not None else None
        req = urllib.request.Request(self.base + path, data=data, method=method)
        if data is not None:
            req.add_header("Content-Type", "application/json")
        if self.token:
            req.add_header("Authorization", "Bearer " + self.token)
        try:
            with urllib.request.urlopen(req, context=self.ctx, timeout=30) as r:
                status, text = r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read().decode()
        if status != want:
            raise Step("%s %s answered %d (wanted %d): %s" % (method, path, status, want, text[:500]))
        return json.loads(text) if text else None


def psql(command, sql):
    out = subprocess.run(command, shell=True, input=sql, capture_output=True, text=True)
    if out.returncode != 0:
        raise Step("SQL failed (%d): %s" % (out.returncode, out.stderr.strip()[:500]))
    return out.stdout.strip()


def run(args):
    api = Api(args.base, args.insecure)
    tag = "%06d" % random.randrange(10 ** 6)

    login = api.call("POST", "/auth/login", {"email": args.email,
                                             "password": os.environ[args.password_env]})
    api.token = login["access_token"]
    roles = [r["rol"] for r in login["usuario"]["roles"]]
    if "admin_red" not in roles:
        raise Step("signed in without admin_red: %s" % roles)
    say("sesion", usuario=login["usuario"]["id"], roles=roles)

    sede = api.call("POST", "/sedes", {
        "codigo": "CI%s-%s" % (chr(65 + int(tag[0])), tag[1:4]), "nombre": "Sede CI " + tag,
        "ciudad": "Lima", "direccion": "Av. Prueba " + tag,
        "zona_horaria": "America/Lima"}, want=201)
    say("sede", id=sede["id"])

    vet_user = api.call("POST", "/usuarios", {
        "email": "vet.%s@vetred.test" % tag, "nombre": "Vet CI " + tag,
        "roles": [{"rol": "veterinario", "sede": sede["id"]}]}, want=201)
    # Every day, all day, so that the day asked for has free slots.
    vet = psql(args.psql, """
        WITH v AS (INSERT INTO veterinarios (usuario_id, nombres, apellidos, cmvp)
                   VALUES (%(u)d, 'Vet', 'CI %(t)s', '%(t)s') RETURNING id),
             vs AS (INSERT INTO veterinario_sedes (veterinario_id, sede_id)
                    SELECT id, %(s)d FROM v RETURNING veterinario_id),
             h AS (INSERT INTO horarios (veterinario_id, sede_id, dia_semana,
                                         hora_inicio, hora_fin, vigente_desde)
                   SELECT veterinario_id, %(s)d, d, '00:00', '24:00', CURRENT_DATE - 1
                   FROM vs, generate_series(1, 7) d RETURNING 1)
        SELECT id FROM v WHERE (SELECT count(*) FROM h) = 7;
        """ % {"u": vet_user["id"], "s": sede["id"], "t": tag})
    if not vet.isdigit():
        raise Step("no vet made: %r" % vet)
    say("veterinario", id=int(vet), usuario=vet_user["id"])

    pac = api.call("POST", "/pacientes/registro", {
        "nombre": "Firulais", "especie": "canino", "sexo": "macho",
        "sede_registro_id": sede["id"],
        "propietario": {"nombres": "Ana", "apellidos": "Quispe " + tag,
                        "documento": "7%s%s" % (tag, random.randrange(10)),
                        "telefono": "+519871%s" % tag[:5]}}, want=201)
    say("paciente", id=pac["id"])

    # The first day from the day after tomorrow the new site is open:
    # Peru's holidays close it (8 and 9 December, say).
    hoy = datetime.datetime.now(datetime.timezone(datetime.timedelta(hours=-5))).date()
    for n in range(2, 17):
        dia = (hoy + datetime.timedelta(days=n)).isoformat()
        disp = api.call("GET", "/disponibilidad?veterinario_id=%s&sede_id=%d&fecha=%s&duracion_min=30"
                        % (vet, sede["id"], dia))
        if disp.get("huecos"):
            break
        if not disp.get("feriado"):
            raise Step("no free slot on %s, and no holiday: %s" % (dia, disp))
    else:
        raise Step("no open day in two weeks: %s" % disp)
    inicio = disp["huecos"][0]["inicio"]
    say("disponibilidad", fecha=dia, huecos=len(disp["huecos"]), inicio=inicio)

    cita = api.call("POST", "/citas/reservar", {
        "paciente_id": pac["id"], "veterinario_id": int(vet), "sede_id": sede["id"],
        "inicio": inicio, "duracion_min": 30, "motivo": "Primera cita de CI",
        "tipo": "presencial"}, want=201)
    leida = api.call("GET", "/citas/%d" % cita["id"])
    if leida["id"] != cita["id"] or leida.get("estado") is None:
        raise Step("the appointment read back differs: %s" % leida)
    say("cita", id=cita["id"], inicio=leida.get("inicio"), estado=leida.get("estado"))


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--base", required=True)
    p.add_argument("--email", required=True)
    p.add_argument("--password-env", required=True)
    p.add_argument("--psql", required=True)
    p.add_argument("--insecure", action="store_true")
    args = p.parse_args()
    try:
        run(args)
    except (Step, OSError, KeyError, ValueError) as e:
        say("error", error=str(e))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
