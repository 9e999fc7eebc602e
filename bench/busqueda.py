#!/usr/bin/env python3
"""bench/busqueda.py - the owner search's benchmark (`make bench-busqueda`,
and a part of `make bench`).

The question (from the issue): over 1,000,000 owners, how fast is the
desk's search by name prefix, `GET /api/v1/propietarios?q=`, at 16
connections?  Target: P99 <= 20 ms.

It starts the bench stack (var/bench, the ports of bench/run.py) and,
unless they are there already, writes BENCH_BUSQUEDA_OWNERS owners with
one pet each (CE numbers B00000000001..., sealed and hashed by
vetred-admin cifrar as the API would have; names drawn from common
Peruvian given names and surnames, so that a prefix such as "qui"
matches tens of thousands of owners: the hard case), their search words
kept by the same trigger as every write.  Then it signs in, warms up for
3 s and runs wrk (bench/read_cita.lua over a file of searches) for
BENCH_BUSQUEDA_SECS at BENCH_BUSQUEDA_CONNS connections, through nginx and
the API, each search with its audit row: first the target's case, one
word (the prefix of a surname, a given name or a pet's name), then two
words (a surname or given name and the prefix of a surname), whose
figures are shown beside.
Writes bench/busqueda.json and renders bench/README.md again
(bench/report.py), then stops the stack.  The owners stay in var/bench
for the next run.

    bench/busqueda.py

Environment: BENCH_BUSQUEDA_OWNERS (1000000), BENCH_BUSQUEDA_CONNS (16),
BENCH_BUSQUEDA_SECS (20), BENCH_README (bench/README.md).
"""
import json
import os
import random
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import REPO, PGBIN, Harness, die, log  # noqa: E402
from relay import busy_since, cpu_ticks, env_file, env_int, save, stack  # noqa: E402
from run import BENCH_PASSWORD, BENCH_USER, STACK_ENV  # noqa: E402

GIVEN = ("Ana María Rosa Carmen Luis José Juan Carlos Jorge Miguel Pedro Víctor "
         "César Julio Manuel Jesús Elena Lucía Sofía Valeria Camila Ximena "
         "Gabriela Daniela Patricia Milagros Diana Fiorella Karina Yolanda Teresa "
         "Alberto Ricardo Fernando Raúl Hugo Óscar Iván Renzo Diego Sebastián "
         "Mateo Santiago Nicolás Alejandro Andrés Martín Gonzalo Percy Wilmer "
         "Edwin Eduardo Roberto Félix Marco Antonio Isabel Beatriz Gloria Maribel").split()
SURNAMES = ("Quispe Flores Sánchez Rodríguez García Rojas Huamán Mamani Torres "
            "Chávez Díaz Ramírez Vásquez Castillo Mendoza Gonzales Fernández López "
            "Pérez Gutiérrez Espinoza Ruiz Ramos Cruz Vargas Morales Reyes Jiménez "
            "Silva Castro Hernández Romero Álvarez Herrera Salazar Medina Córdova "
            "Cárdenas Ríos Aguilar Paredes Vega Soto Campos Calderón Cueva Guerrero "
            "Palacios Mejía Ortiz Zapata Delgado Navarro Valdivia Cabrera Ccori "
            "Condori Apaza Huanca Ticona Choque Yupanqui Poma Cusi Sullca Ccahuana "
            "Layme Puma Villanueva Rivera Salas Alvarado Benites Carrasco Montoya "
            "Núñez Orellana Peña Quiroz Sotelo Tapia Ugarte Valverde Zegarra Arroyo "
            "Bustamante Chumpitaz Dávila Escobar Farfán Gallegos Huertas Inga León "
            "Lozano Manrique Olivares Prado Quintana Saavedra").split()
PETS = ("Luna Rocky Max Toby Lola Coco Bobby Nala Simba Kira Chispa Peluchín "
        "Firulais Manchas Canela Princesa Oso Zeus Thor Milo Bruno Rex Mia Kiara "
        "Molly Sasha Negrita Copito Tommy Pelusa Chocolate Canelita Lucas Bella "
        "Daisy Rambo Pancho Pirata Sombra Terry Tigre Misha Nieve Lucky Bonnie "
        "Fido Jack Duke Panchito Blanquita Michi Garfield Salem Tom Félix Pepa "
        "Frida Kiwi Mango Paco").split()
QUERIES = 4000


def sql_array(words):
    return "ARRAY[" + ",".join("'" + w.replace("'", "''") + "'" for w in words) + "]"


class Busqueda:
    def __init__(self):
        self.owners = env_int("BENCH_BUSQUEDA_OWNERS", 1000000)
        self.conns = env_int("BENCH_BUSQUEDA_CONNS", 16)
        self.secs = env_int("BENCH_BUSQUEDA_SECS", 20)
        self.stackdir = REPO / STACK_ENV["VETRED_STACK_DIR"]
        self.base = "http://127.0.0.1:" + STACK_ENV["VETRED_HTTP_PORT"]

    def psql(self, sql):
        r = subprocess.run([str(PGBIN / "psql"), "-X", "-qAt", "-v", "ON_ERROR_STOP=1",
                            "-d", self.db, "-c", sql], capture_output=True, text=True,
                           env=dict(os.environ, PGOPTIONS="-c statement_timeout=0"))
        if r.returncode != 0:
            die("psql: " + r.stderr.strip())
        return r.stdout.strip()

    def load(self):
        """The bench's owners (CE B + 11 digits) and one pet each, up to
        self.owners; seconds spent writing them."""
        # How many there are already (their numbers are sealed by now).
        self.psql("CREATE TABLE IF NOT EXISTS bench_busqueda (propietarios bigint NOT NULL)")
        have = int(self.psql("SELECT coalesce(max(propietarios), 0) FROM bench_busqueda"))
        t0 = time.monotonic()
        step = 100000
        g, s, p = sql_array(GIVEN), sql_array(SURNAMES), sql_array(PETS)
        for lo in range(have + 1, self.owners + 1, step):
            hi = min(lo + step - 1, self.owners)
            # Draws from the lists by independent hashes of the number:
            # every run writes the same owners.
            self.psql(
                "WITH o AS (INSERT INTO propietarios (nombres, apellidos, tipo_documento, "
                "numero_documento, telefono, sede_registro_id) "
                f"SELECT ({g})[1 + (hashint8(4 * n) & 2147483647) % {len(GIVEN)}] || CASE WHEN n % 2 = 0 "
                f"THEN ' ' || ({g})[1 + (hashint8(4 * n + 1) & 2147483647) % {len(GIVEN)}] ELSE '' END, "
                f"({s})[1 + (hashint8(4 * n + 2) & 2147483647) % {len(SURNAMES)}] || ' ' || "
                f"({s})[1 + (hashint8(4 * n + 3) & 2147483647) % {len(SURNAMES)}], 'CE', "
                "'B' || lpad(n::text, 11, '0'), '+519' || lpad((n % 100000000)::text, 8, '0'), "
                f"1 + n % 3 FROM generate_series({lo}::bigint, {hi}) n RETURNING id, numero_documento) "
                "INSERT INTO pacientes (propietario_id, nombre, especie) "
                f"SELECT o.id, ({p})[1 + abs(hashint8(-substr(o.numero_documento, 2)::bigint)) "
                f"% {len(PETS)}], CASE WHEN o.id % 3 = 0 THEN 'felino' ELSE 'canino' END FROM o")
            self.psql(f"DELETE FROM bench_busqueda; INSERT INTO bench_busqueda VALUES ({hi})")
            log(f"owners: {hi:,} of {self.owners:,}")
        if have < self.owners:
            # Sealed and hashed as the API would have written them, so
            # that the answers are opened as in production.
            log("vetred-admin cifrar (seals the new owners' contact data)")
            r = subprocess.run([str(REPO / "build/release/vetred-admin"), "cifrar"],
                               env=dict(os.environ, **self.env), capture_output=True, text=True)
            if r.returncode != 0:
                die("vetred-admin cifrar: " + r.stderr.strip()[-400:])
            self.psql("VACUUM ANALYZE propietarios")
            self.psql("VACUUM ANALYZE pacientes")
            self.psql("VACUUM ANALYZE propietario_palabras")
        return round(time.monotonic() - t0, 1) if have < self.owners else None

    @staticmethod
    def queries(path, two_words):
        """The searches, in a fixed order: what a desk types.  One word (the
        target's case): the prefix of a surname, a given name or a pet's
        name; or two (a given name or surname, then a surname's prefix)."""
        rnd = random.Random(12)
        out = []
        for i in range(QUERIES):
            s1, s2 = rnd.choice(SURNAMES), rnd.choice(SURNAMES)
            if two_words:
                first = rnd.choice(GIVEN) if i % 2 else s1
                q = first + " " + s2[:rnd.randint(2, 5)]         # "quispe ma"
            elif i % 3 == 0:
                q = s1[:rnd.randint(2, 6)]                      # "quis"
            elif i % 3 == 1:
                q = rnd.choice(GIVEN)[:rnd.randint(2, 6)]       # "mar"
            else:
                q = rnd.choice(PETS)[:rnd.randint(2, 5)]        # a pet
            if rnd.random() < 0.5:
                q = q.lower()
            out.append("q=" + urllib.parse.quote(q))
        path.write_text("\n".join(out) + "\n")

    def sign_in(self):
        body = json.dumps({"email": BENCH_USER, "password": BENCH_PASSWORD}).encode()
        req = urllib.request.Request(self.base + "/api/v1/auth/login", data=body,
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            os.environ["VETRED_BENCH_TOKEN"] = json.loads(r.read())["access_token"]

    def wrk(self, qfile, secs):
        out = self.stackdir / "results" / "busqueda.txt"
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = ["wrk", "-t2", f"-c{self.conns}", f"-d{secs}s", "--latency", "--timeout", "5s",
               "-s", "bench/read_cita.lua", self.base, "--", str(qfile),
               "/api/v1/propietarios?"]
        t0 = cpu_ticks()
        with open(out, "w") as fh:
            subprocess.run(cmd, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, check=False,
                           timeout=secs + 60)
        busy = busy_since(t0)
        r = Harness.bench_line(out) or die("no result line from wrk (%s)" % out)
        r["cpu_busy"] = busy
        r["cmd"] = " ".join(cmd[:-3]) + " -- QUERIES /api/v1/propietarios?"
        return r

    def run(self):
        log("starting the bench stack (var/bench)")
        stack("start")
        try:
            self.env = env_file()
            self.db = self.env["VETRED_DATABASE_URL"]
            load_s = self.load()
            owners = int(self.psql("SELECT count(*) FROM propietarios"))
            words = int(self.psql("SELECT count(*) FROM propietario_palabras"))
            qfile = self.stackdir / "results" / "busquedas.txt"
            q2file = self.stackdir / "results" / "busquedas-2.txt"
            qfile.parent.mkdir(parents=True, exist_ok=True)
            self.queries(qfile, False)
            self.queries(q2file, True)
            self.sign_in()
            self.wrk(qfile, 3)
            r = self.wrk(qfile, self.secs)
            r2 = self.wrk(q2file, self.secs)
            # One plan, for the report: the hard prefix.
            plan = self.psql("EXPLAIN (ANALYZE, BUFFERS, TIMING OFF, SUMMARY ON) "
                             "SELECT buscar_propietarios('qui', NULL, NULL, 20, NULL, NULL, "
                             "NULL, NULL, NULL, NULL, NULL)")
        finally:
            stack("stop")
        exec_ms = None
        for line in plan.splitlines():
            if line.strip().startswith("Execution Time:"):
                exec_ms = float(line.split(":")[1].split()[0])
        log(f"search: {r.get('rps')} req/s, p50 {r.get('p50_ms')} ms, p99 {r.get('p99_ms')} ms; "
            f"two words: {r2.get('rps')} req/s, p99 {r2.get('p99_ms')} ms")
        return dict(date=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                    owners=owners, words=words, load_s=load_s, conns=self.conns,
                    secs=self.secs, queries=QUERIES, wrk=r, wrk2=r2, sql_qui_ms=exec_ms,
                    nproc=os.cpu_count())


def main(argv):
    if len(argv) > 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    save("busqueda.json", Busqueda().run())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
