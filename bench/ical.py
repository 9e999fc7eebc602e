#!/usr/bin/env python3
"""bench/ical.py - the calendar feeds' polling benchmark (`make bench-ical`,
and a part of `make bench`).

The question (from the issue): iCalendar clients poll every few minutes,
3,000 vets must cost nothing.  A conditional GET of a feed (304) and a
full GET, at 64 connections: >= 15,000 req/s and P99 <= 10 ms each.

It starts the bench stack (var/bench, the ports of bench/run.py) and,
unless they are there already, makes BENCH_ICAL_VETS vets at a bench site
(ICS-01, around the clock) with BENCH_ICAL_CITAS appointments each over
the next weeks, and BENCH_ICAL_SUBS subscriptions spread over them
(their tokens' hashes in calendarios, their links in the stack's ical
dir, as the calendar consumer makes them); the worker's writer renders
every feed.  Then, through nginx as clients reach it (deploy/ical.js
hashes each token), wrk (bench/ical.lua) polls the subscriptions in turn
for BENCH_ICAL_SECS: with If-None-Match and each feed's ETag (304), then
plain (200, the whole feed).  Writes bench/ical.json and renders
bench/README.md again (bench/report.py), then stops the stack.

    bench/ical.py

Environment: BENCH_ICAL_VETS (300), BENCH_ICAL_SUBS (3000),
BENCH_ICAL_CITAS (40), BENCH_ICAL_CONNS (64), BENCH_ICAL_SECS (20),
BENCH_README (bench/README.md).
"""
import base64
import hashlib
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from harness import REPO, PGBIN, Harness, die, log  # noqa: E402
from relay import busy_since, cpu_ticks, env_file, env_int, save, stack  # noqa: E402
from run import STACK_ENV  # noqa: E402


def token(i):
    """The bench's i-th token: the same every run (43 base64url chars)."""
    raw = hashlib.sha256(b"vetred-bench-ical-%d" % i).digest()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


class Ical:
    def __init__(self):
        self.vets = env_int("BENCH_ICAL_VETS", 300)
        self.subs = env_int("BENCH_ICAL_SUBS", 3000)
        self.citas = env_int("BENCH_ICAL_CITAS", 40)
        self.conns = env_int("BENCH_ICAL_CONNS", 64)
        self.secs = env_int("BENCH_ICAL_SECS", 20)
        self.stackdir = REPO / STACK_ENV["VETRED_STACK_DIR"]
        self.base = "http://127.0.0.1:" + STACK_ENV["VETRED_HTTP_PORT"]

    def psql(self, sql):
        # On stdin: the subscriptions' VALUES outgrow an argument.
        r = subprocess.run([str(PGBIN / "psql"), "-X", "-qAt", "-v", "ON_ERROR_STOP=1",
                            "-d", self.db, "-f", "-"], input=sql, capture_output=True,
                           text=True, env=dict(os.environ, PGOPTIONS="-c statement_timeout=0"))
        if r.returncode != 0:
            die("psql: " + r.stderr.strip())
        return r.stdout.strip()

    def load(self):
        """The site, its vets with their appointments, the subscriptions."""
        self.psql(
            "INSERT INTO sedes (codigo, nombre, ciudad, direccion, zona_horaria, "
            "abre_en_feriados) VALUES ('ICS-01', 'Sede calendarios', 'Lima', "
            "'Av. Calendario 1', 'America/Lima', true) ON CONFLICT (codigo) DO NOTHING")
        if self.psql("SELECT count(*) FROM veterinarios WHERE apellidos LIKE "
                     "'Calendario %'") == "0":
            log(f"ical: {self.vets} vets")
            self.psql(
                "WITH u AS (INSERT INTO usuarios (email, nombre) SELECT format("
                "'bench.ical%s@vetred.test', g), 'Vet calendario' FROM generate_series(1, "
                f"{self.vets}) g RETURNING id), v AS (INSERT INTO veterinarios (usuario_id, "
                "nombres, apellidos, cmvp) SELECT id, 'Vet', 'Calendario ' || id, "
                "(800000 + id)::text FROM u RETURNING id), vs AS (INSERT INTO "
                "veterinario_sedes (veterinario_id, sede_id) SELECT v.id, s.id FROM v, sedes s "
                "WHERE s.codigo = 'ICS-01' RETURNING veterinario_id, sede_id) "
                "INSERT INTO horarios (veterinario_id, sede_id, dia_semana, hora_inicio, "
                "hora_fin, vigente_desde) SELECT veterinario_id, sede_id, d, '00:00', "
                "'24:00', current_date FROM vs, generate_series(1, 7) d")
        if self.psql("SELECT count(*) FROM citas c JOIN sedes s ON s.id = c.sede_id "
                     "WHERE s.codigo = 'ICS-01'") == "0":
            log(f"ical: {self.citas} appointments a vet")
            self.psql(
                "WITH o AS (INSERT INTO propietarios (nombres, apellidos, tipo_documento, "
                "numero_documento, telefono) VALUES ('Dueño', 'Calendario', 'CE', "
                "'ICAL' || lpad((random() * 1e8)::bigint::text, 8, '0'), '+51900000001') "
                "RETURNING id), p AS (INSERT INTO pacientes "
                "(propietario_id, nombre, especie) SELECT o.id, 'Paciente ' || v.id, "
                "'canino' FROM o, veterinarios v WHERE v.apellidos LIKE 'Calendario %' "
                "RETURNING id, nombre) "
                "INSERT INTO citas (sede_id, veterinario_id, paciente_id, periodo, motivo) "
                "SELECT vs.sede_id, vs.veterinario_id, p.id, tstzrange(t, t + interval "
                "'30 minutes'), 'Control' FROM veterinario_sedes vs JOIN sedes s ON "
                "s.id = vs.sede_id AND s.codigo = 'ICS-01' JOIN p ON p.nombre = "
                "'Paciente ' || vs.veterinario_id, generate_series(1, "
                f"{self.citas}) k, LATERAL (SELECT date_trunc('hour', now()) + "
                "make_interval(days => k, mins => (30 * (vs.veterinario_id % 40))::int) AS t) x")
        have = int(self.psql("SELECT count(*) FROM calendarios c JOIN veterinarios v ON "
                             "v.id = c.veterinario_id WHERE v.apellidos LIKE 'Calendario %' "
                             "AND c.revocado_en IS NULL"))
        vets = [int(x) for x in self.psql(
            "SELECT v.id FROM veterinarios v WHERE v.apellidos LIKE 'Calendario %' "
            "ORDER BY v.id").split()]
        user = self.psql("SELECT id FROM usuarios ORDER BY id LIMIT 1")
        tdir = self.stackdir / "ical" / "t"
        tdir.mkdir(parents=True, exist_ok=True)
        rows = []
        for i in range(self.subs):
            vet = vets[i % len(vets)]
            h = hashlib.sha256(token(i).encode()).hexdigest()
            rows.append((vet, h))
            link = tdir / (h + ".ics")
            if not link.is_symlink():
                link.symlink_to("../feeds/v-%d.ics" % vet)
        if have < self.subs:
            values = ",".join("(%s, %d, '\\x%s')" % (user, v, h) for v, h in rows)
            self.psql("INSERT INTO calendarios (usuario_id, veterinario_id, token_sha256) "
                      "VALUES " + values + " ON CONFLICT (token_sha256) DO NOTHING")
        self.psql("SELECT feed_marcar('veterinario', v.id, true) FROM veterinarios v "
                  "WHERE v.apellidos LIKE 'Calendario %'")
        # The writer renders every feed (about a millisecond each).
        t0 = time.monotonic()
        while self.psql("SELECT count(*) FROM calendario_feeds WHERE pendiente_desde IS "
                        "NOT NULL") != "0":
            if time.monotonic() - t0 > 120:
                die("the calendar writer did not write the feeds in 120 s")
            time.sleep(0.5)
        return round(time.monotonic() - t0, 1)

    def etags(self, path):
        """The file of "PATH ETAG" lines wrk polls, the ETags read once."""
        lines = []
        for i in range(self.subs):
            p = "/ical/%s.ics" % token(i)
            with urllib.request.urlopen(self.base + p, timeout=10) as r:
                lines.append("%s %s" % (p, r.headers["ETag"]))
                size = len(r.read())
        path.write_text("\n".join(lines) + "\n")
        return size

    def wrk(self, name, qfile, mode, secs):
        out = self.stackdir / "results" / ("ical-%s.txt" % name)
        out.parent.mkdir(parents=True, exist_ok=True)
        cmd = ["wrk", "-t2", f"-c{self.conns}", f"-d{secs}s", "--latency", "--timeout", "5s",
               "-s", "bench/ical.lua", self.base, "--", str(qfile), mode]
        t0 = cpu_ticks()
        with open(out, "w") as fh:
            subprocess.run(cmd, cwd=REPO, stdout=fh, stderr=subprocess.STDOUT, check=False,
                           timeout=secs + 60)
        busy = busy_since(t0)
        r = Harness.bench_line(out) or die("no result line from wrk (%s)" % out)
        r["cpu_busy"] = busy
        r["cmd"] = " ".join(cmd[:-2]) + " -- SUBSCRIPTIONS " + mode
        return r

    def run(self):
        log("starting the bench stack (var/bench)")
        stack("start")
        try:
            self.env = env_file()
            self.db = self.env["VETRED_DATABASE_URL"]
            write_s = self.load()
            qfile = self.stackdir / "results" / "ical-subs.txt"
            qfile.parent.mkdir(parents=True, exist_ok=True)
            size = self.etags(qfile)
            feeds = int(self.psql("SELECT count(*) FROM calendario_feeds WHERE tipo = "
                                  "'veterinario' AND eventos > 0"))
            self.wrk("warm", qfile, "cond", 3)
            cond = self.wrk("cond", qfile, "cond", self.secs)
            full = self.wrk("full", qfile, "full", self.secs)
        finally:
            stack("stop")
        log(f"ical: 304 {cond.get('rps')} req/s p99 {cond.get('p99_ms')} ms; "
            f"200 {full.get('rps')} req/s p99 {full.get('p99_ms')} ms")
        return dict(date=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                    subs=self.subs, vets=self.vets, feeds=feeds, citas=self.citas,
                    feed_bytes=size, write_s=write_s, conns=self.conns, secs=self.secs,
                    cond=cond, full=full, nproc=os.cpu_count())


def main(argv):
    if len(argv) > 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    save("ical.json", Ical().run())
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
