#!/usr/bin/env python3
"""bench/run.py - the load benchmark of VetRed (what `make bench` runs after
`make MODE=release all`).  Starts a private stack under var/bench on its own
ports, runs wrk and pgbench scenarios against it on 127.0.0.1, and rewrites
bench/README.md (bench/report.py) from the figures it measured, which it
also keeps in bench/figures.json.  Stops the stack at the end.

    bench/run.py [--quick]

Environment (all optional; BENCH_QUICK=1 or --quick: every run a few
seconds long, 200 connections in place of 1,000, fewer patients -- a check
that every scenario runs, not figures to keep: the report then goes to
var/bench/results/README.md unless BENCH_README says otherwise):
  BENCH_SHORT_SECS     10   duration of the 64-connection scenarios
  BENCH_MATRIX_SECS    20   duration of each 1,000-connection run
  BENCH_KEEP_LONG_SECS 70   the extra keep-conn run: longer than nginx's
                            fastcgi_read_timeout (60 s), so stalls turn
                            into errors
  BENCH_CONNS        1000   connections of the users model and the matrix
  BENCH_README       bench/README.md   where the report is written (the
                            figures go to figures.json beside it)
The booking benchmarks (section "Booking" of the report):
  BENCH_BOOK_USERS_SECS 60  the users model: 1,000 connections, think time
  BENCH_BOOK_SAT_SECS   20  saturation: wrk at 64 connections, then pgbench
                            (reservar_cita, then the minimal booking
                            transaction of bench/booking_minimal.pgbench)
  BENCH_READ_SECS       20  GET /api/v1/citas/{id} at 64 connections
  BENCH_PROFILE_SECS     5  each short run of the per-stage profile
  BENCH_ALT_THREADS     16  then the users model, saturation and reads again
                            with 2 x this many API threads (0, or the
                            default: skip)
  BENCH_ALT_SECS        20  its users model (saturation and reads: half)
  BENCH_VETS            20  vets of the bench site (24/7 hours)
  BENCH_PATIENTS     20000  patients (one owner each)

Every request loop is wrk or pgbench with a fixed duration against
127.0.0.1 (or the stack's PostgreSQL); raw outputs and logs stay in
var/bench/results and var/bench/log.
"""
import json
import os
import re
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # noqa: E402
from harness import REPO, PGBIN, BenchError, Harness, die, log, rel  # noqa: E402

# ---------------------------------------------------------------- settings

STACK_ENV = dict(
    VETRED_STACK_DIR="var/bench", VETRED_PG_PORT="16432", VETRED_AMQP_PORT="16672",
    VETRED_AMQP_DIST_PORT="16673", VETRED_EPMD_PORT="16369", VETRED_HTTP_PORT="16080",
    VETRED_BIN="build/release", VETRED_SEED="1", VETRED_API_PROCS="2",
    # wrk sends one user's token from up to 1,000 connections: under the
    # default request budget (fcgi-api/limite.c) most would be answered
    # 429.  A budget it never meets: the bucket is still taken on every
    # request.
    VETRED_RATE_PER_USER="1000000", VETRED_RATE_BURST="4000000")
# A sourced env file of another stack must not point us at its servers.
UNSET = ("VETRED_DATABASE_URL", "VETRED_AMQP_URL", "VETRED_API_THREADS", "VETRED_API_SOCKET",
         "VETRED_MIGRATIONS_DIR", "VETRED_JWT_KEYS", "VETRED_API_DATABASE_URL",
         "VETRED_DATA_KEYS", "VETRED_SEARCH_KEY")
TCP_PORTS = (16081, 16082)          # API processes on TCP, for one configuration
WRK_TIMEOUT = "5s"                  # a response slower than this counts as an error
BENCH_USER, BENCH_PASSWORD = "admin.red@vetred.pe", "VetRed-Demo-2026"
# API threads per process of the default configuration: must equal the
# default of VETRED_API_THREADS in lib/config.c and ci/stack.sh.
DEFAULT_THREADS = 4
# The thread counts the 1,000-connection matrix compares with the default:
# one lower, one higher.
MATRIX_LOW, MATRIX_HIGH = 2, 16

# name: (environment variable, full run, quick run)
KNOBS = dict(
    short_secs=("BENCH_SHORT_SECS", 10, 2),
    matrix_secs=("BENCH_MATRIX_SECS", 20, 3),
    keep_long_secs=("BENCH_KEEP_LONG_SECS", 70, 4),
    conns=("BENCH_CONNS", 1000, 200),
    book_users_secs=("BENCH_BOOK_USERS_SECS", 60, 4),
    book_sat_secs=("BENCH_BOOK_SAT_SECS", 20, 3),
    read_secs=("BENCH_READ_SECS", 20, 3),
    profile_secs=("BENCH_PROFILE_SECS", 5, 2),
    alt_threads=("BENCH_ALT_THREADS", 16, 16),
    alt_secs=("BENCH_ALT_SECS", 20, 4),
    nvets=("BENCH_VETS", 20, 20),
    npac=("BENCH_PATIENTS", 20000, 2000),
)


def settings(argv, env):
    """The run's settings from the command line and the environment."""
    quick = "--quick" in argv[1:] or env.get("BENCH_QUICK", "") not in ("", "0")
    extra = [a for a in argv[1:] if a != "--quick"]
    if extra:
        die(f"unknown argument {extra[0]} (usage: bench/run.py [--quick])")
    s = dict(report.SETTINGS, quick=quick, default_threads=DEFAULT_THREADS,
             matrix_low=MATRIX_LOW, matrix_high=MATRIX_HIGH, wrk_timeout=WRK_TIMEOUT,
             api_procs=int(STACK_ENV["VETRED_API_PROCS"]))
    for name, (var, full, fast) in KNOBS.items():
        raw = env.get(var, str(fast if quick else full))
        zero_ok = name == "alt_threads"
        if not re.fullmatch(r"[0-9]+" if zero_ok else r"[1-9][0-9]*", raw):
            die(f"{var} must be a {'number' if zero_ok else 'positive integer'} (got '{raw}')")
        s[name] = int(raw)
    if not 1 <= s["matrix_low"] < s["default_threads"] < s["matrix_high"]:
        die("the thread matrix needs 1 <= MATRIX_LOW < DEFAULT_THREADS < MATRIX_HIGH")
    if s["npac"] < s["nvets"]:
        die("BENCH_PATIENTS must be at least BENCH_VETS (two slots at one time need two patients)")
    if s["npac"] > 999999:
        die("BENCH_PATIENTS must be at most 999999 (owner DNIs are 99000000 + n)")
    if s["nvets"] > 9999:
        die("BENCH_VETS must be at most 9999")
    return s


class Bench:
    """The scenarios, in the order they run; each fills Harness.runs."""

    def __init__(self, s):
        self.s = s
        self.h = Harness(REPO / "var" / "bench", STACK_ENV["VETRED_HTTP_PORT"], TCP_PORTS,
                         STACK_ENV["VETRED_PG_PORT"], wrk_timeout=WRK_TIMEOUT,
                         pgbench=self.find_pgbench())
        self.h.credentials = (BENCH_USER, BENCH_PASSWORD)
        self.machine = {}
        self.book_runs = []          # the wrk runs that book: their 201s add up
        self.k_next = 0              # the next unused slot number
        self.k_cap = 0
        self.fx = {}

    @staticmethod
    def find_pgbench():
        p = PGBIN / "pgbench"
        if os.access(p, os.X_OK):
            return str(p)
        p = shutil.which("pgbench")
        if not p:
            die("pgbench not found (Debian's postgresql-15 ships /usr/lib/postgresql/15/bin/pgbench)")
        return p

    # ------------------------------------------------------------ before anything

    def preflight(self):
        for c in ("wrk", "nginx", "ss", "psql", "supervisorctl"):
            if not shutil.which(c):
                die(f"{c} not found (run ci/deps.sh)")
        if not os.access(REPO / "build/release/vetred-api", os.X_OK):
            die("build/release/vetred-api missing: run make MODE=release all")
        if "location = /_nginx" not in (REPO / "deploy/nginx.conf.in").read_text():
            die("deploy/nginx.conf.in has no 'location = /_nginx' (the nginx-alone baseline)")
        # wrk needs a descriptor per connection: 65535 when allowed, else the hard limit.
        soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
        want = 65535 if hard == resource.RLIM_INFINITY else min(65535, hard)
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
        except (ValueError, OSError):
            pass
        soft = resource.getrlimit(resource.RLIMIT_NOFILE)[0]
        if soft != resource.RLIM_INFINITY and soft < 2 * self.s["conns"] + 200:
            die(f"open files limit {soft} is too low for {self.s['conns']} connections")
        self.machine["nofile"] = "unlimited" if soft == resource.RLIM_INFINITY else soft
        os.environ.update(STACK_ENV)
        for k in UNSET:
            os.environ.pop(k, None)
        self.h.res.mkdir(parents=True, exist_ok=True)
        self.h.logdir.mkdir(parents=True, exist_ok=True)
        for f in self.h.res.glob("*.txt"):
            f.unlink()
        self.h.stacklog.write_text("")

    def describe_machine(self):
        m = self.machine
        h = self.h
        m["generator"] = "bench/run.py"
        m["start"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
        m["nproc"] = h.nproc
        m["hz"] = h.hz
        cpuinfo = Path("/proc/cpuinfo").read_text()
        mm = re.search(r"^model name\s*: (.*)$", cpuinfo, re.M)
        m["cpu"] = mm.group(1) if mm else "unknown"
        kb = re.search(r"^MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text(), re.M)
        m["mem"] = f"{int(kb.group(1)) / 1048576:.1f} GiB"
        u = os.uname()
        m["kernel"] = f"{u.sysname} {u.release}"
        def out(*c):
            try:
                p = subprocess.run(c, capture_output=True, text=True)
            except OSError:
                return ""
            return p.stdout + p.stderr
        m["nginx"] = out("nginx", "-v").strip().replace("nginx version: ", "")
        try:
            m["pg"] = subprocess.run([str(PGBIN / "postgres"), "--version"], capture_output=True,
                                     text=True).stdout.strip() or "unknown"
        except OSError:
            m["pg"] = "unknown"
        wrk = out("wrk", "-v").splitlines()
        m["wrk"] = " ".join(wrk[0].split()[:2]) if wrk else "unknown"
        osr = re.search(r'^PRETTY_NAME="?([^"\n]*)"?', Path("/etc/os-release").read_text(), re.M)
        m["os"] = osr.group(1) if osr else "unknown"
        m["load0"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])
        m["somaxconn"] = int(Path("/proc/sys/net/core/somaxconn").read_text())
        s0, t0 = h.cpu_snapshot([]), time.time()
        time.sleep(3)
        s1 = h.cpu_snapshot([])
        m["busy0"] = int(f"{100 * (s1[0] - s0[0]) / ((time.time() - t0) * h.nproc * h.hz):.0f}")

    # ------------------------------------------------------------ the stack

    def fresh_stack(self):
        """A fresh database every time: the figures must not depend on what
        an earlier run (or an older version of a migration) left behind.
        The migrations are copied once, so that an edit in the working tree
        during the run cannot make a later `ci/stack.sh start` refuse to
        migrate."""
        h = self.h
        h.stack_sh("stop")
        for p in ("pg", "seed.applied", "migrations"):
            target = h.stack / p
            if target.is_dir() and not target.is_symlink():
                shutil.rmtree(target)
            elif target.exists() or target.is_symlink():
                target.unlink()
        (h.logdir / "worker.log").unlink(missing_ok=True)
        shutil.copytree(REPO / "db/migrations", h.stack / "migrations")
        os.environ["VETRED_MIGRATIONS_DIR"] = str(h.stack / "migrations")
        h.start(DEFAULT_THREADS)
        h.sign_in(BENCH_USER, BENCH_PASSWORD)
        for p in ("/_nginx", "/health", "/api/v1/sedes/1"):
            code, _ = h.http(p, headers={"Authorization": f"Bearer {h.token}"}, timeout=5)
            if code != 200:
                die(f"GET {p} answered {code}, not 200")
        self.machine["ngx_workers"] = len(h.ngx_workers())
        h.db_url = h.env_file().get("VETRED_DATABASE_URL", "")
        if not h.db_url:
            die(f"no VETRED_DATABASE_URL in {h.stack}/env")

    # ------------------------------------------------------------ a-c: 64 connections

    def short_runs(self):
        """Warm-up (not reported: PostgreSQL cache, plans, nginx workers),
        then nginx alone, FastCGI without the database, FastCGI with one
        primary-key read."""
        h = self.h
        with open(h.res / "warmup.txt", "w") as out:
            subprocess.run(["wrk", "-t2", "-c64", "-d3s", "-s", "bench/status.lua",
                            h.base + "/api/v1/sedes/1"], cwd=REPO, stdout=out,
                           stderr=subprocess.STDOUT)
        for name, path in (("nginx64", "/_nginx"), ("health64", "/health"),
                           ("sede64", "/api/v1/sedes/1")):
            h.wrk(name, path, 64, self.s["short_secs"])

    # ------------------------------------------------------------ d: bookings

    FIXTURES = """SET client_min_messages = warning;
BEGIN;
INSERT INTO sedes (codigo, nombre, ciudad, direccion, zona_horaria, abre_en_feriados)
VALUES ('BEN-01', 'Sede benchmark', 'Lima', 'Av. Benchmark 100', 'America/Lima', true);
WITH u AS (
	INSERT INTO usuarios (email, nombre)
	SELECT format('bench.vet%s@vetred.test', g), format('Vet benchmark %s', g)
	FROM generate_series(1, :nvets) g ORDER BY g
	RETURNING id)
INSERT INTO veterinarios (usuario_id, nombres, apellidos, cmvp)
SELECT id, 'Vet', 'Benchmark ' || id, (900000 + id)::text FROM u ORDER BY id;
INSERT INTO veterinario_sedes (veterinario_id, sede_id)
SELECT v.id, s.id FROM veterinarios v JOIN usuarios u ON u.id = v.usuario_id
JOIN sedes s ON s.codigo = 'BEN-01'
WHERE u.email LIKE 'bench.vet%@vetred.test';
INSERT INTO horarios (veterinario_id, sede_id, dia_semana, hora_inicio, hora_fin, vigente_desde)
SELECT vs.veterinario_id, vs.sede_id, d, time '00:00', time '24:00',
	(now() AT TIME ZONE 'America/Lima')::date
FROM veterinario_sedes vs JOIN sedes s ON s.id = vs.sede_id AND s.codigo = 'BEN-01',
	generate_series(1, 7) d;
WITH o AS (
	INSERT INTO propietarios (nombres, apellidos, tipo_documento, numero_documento, telefono)
	SELECT 'Dueño', 'Benchmark ' || g, 'DNI', (99000000 + g)::text,
		'+519' || lpad(g::text, 8, '0')
	FROM generate_series(1, :npac) g ORDER BY g
	RETURNING id)
INSERT INTO pacientes (propietario_id, nombre, especie)
SELECT id, 'Paciente ' || id, 'canino' FROM o ORDER BY id;
COMMIT;
ANALYZE sedes, usuarios, veterinarios, veterinario_sedes, horarios, propietarios, pacientes, citas;
WITH s AS (SELECT id FROM sedes WHERE codigo = 'BEN-01'),
v AS (SELECT vs.veterinario_id AS id FROM veterinario_sedes vs JOIN s ON s.id = vs.sede_id),
p AS (SELECT p.id FROM pacientes p JOIN propietarios o ON o.id = p.propietario_id
	WHERE o.apellidos LIKE 'Benchmark %')
SELECT (SELECT id FROM s), min(v.id), count(*), max(v.id) - min(v.id) + 1,
	(SELECT min(id) FROM p), (SELECT count(*) FROM p), (SELECT max(id) - min(id) + 1 FROM p),
	extract(epoch FROM (((now() AT TIME ZONE 'America/Lima')::date + 1)::timestamp
		AT TIME ZONE 'America/Lima'))::bigint,
	extract(epoch FROM now() + interval '2 years')::bigint
FROM v;
"""

    def fixtures(self):
        """The bench site (America/Lima), NVETS vets working there 24/7 from
        today, NPAC patients with one owner each; ids consecutive.  The
        slots that fit before the 2-year limit (one day to spare)."""
        s = self.s
        log(f"fixtures: site BEN-01, {s['nvets']} vets 24/7, {s['npac']} patients")
        out = self.h.psql("-At", "-F", " ", "-v", f"nvets={s['nvets']}", "-v", f"npac={s['npac']}",
                          sql=self.FIXTURES)
        f = [int(x) for x in out.strip().splitlines()[-1].split()]
        sede, vet0, n, vs, pac0, p, ps, base, horizon = f
        if (n, vs, p, ps) != (s["nvets"], s["nvets"], s["npac"], s["npac"]):
            die(f"fixtures: expected {s['nvets']} vets and {s['npac']} patients with consecutive ids, got {f}")
        self.fx = dict(sede=sede, vet0=vet0, pac0=pac0, base=base)
        self.k_cap = s["nvets"] * ((horizon - 86400 - base) // 900)
        log(f"fixtures: site {sede}, vets {vet0}.., patients {pac0}.., first slot "
            f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime(base))}, {self.k_cap} slots")

    def k_alloc(self, secs, rate):
        """The first slot of a fresh range big enough for SECS seconds at
        RATE bookings/s (well above what 2 cores do)."""
        k = self.k_next
        self.k_next += secs * rate
        if self.k_next > self.k_cap:
            die(f"only {self.k_cap} distinct slots fit in 2 years: raise BENCH_VETS or shorten the runs")
        return k

    def book(self, name, conns, secs, think_min, think_max, rate):
        """wrk booking distinct slots from a fresh range (bench/book_users.lua)."""
        k = self.k_alloc(secs, rate)
        fx, s = self.fx, self.s
        r = self.h.wrk(name, "/api/v1/citas/reservar", conns, secs, "bench/book_users.lua",
                       (fx["sede"], fx["vet0"], s["nvets"], fx["pac0"], s["npac"], fx["base"], k,
                        self.h.wrk_threads, think_min, think_max))
        self.book_runs.append(name)
        bad = [l for l in (self.h.res / f"{name}.txt").read_text(errors="replace").splitlines()
               if l.startswith("NON201 ")]
        for line in bad[:5]:
            print(line, file=sys.stderr)
        return r

    def slots(self, k0, clients):
        """The -D options of bench/booking.pgbench."""
        fx, s = self.fx, self.s
        opts = []
        for kv in (f"sede={fx['sede']}", f"vet0={fx['vet0']}", f"nvets={s['nvets']}",
                   f"pac0={fx['pac0']}", f"npac={s['npac']}", f"base={fx['base']}", f"k0={k0}",
                   f"nclients={clients}", "n=0"):
            opts += ["-D", kv]
        return opts

    def min_slots(self, k0, clients):
        """The -D options of bench/booking_minimal.pgbench."""
        fx, s = self.fx, self.s
        opts = []
        for kv in (f"vet0={fx['vet0']}", f"nvets={s['nvets']}", f"base={fx['base']}",
                   f"k0={k0}", f"nclients={clients}", "n=0"):
            opts += ["-D", kv]
        return opts

    def slot_call(self, k, motivo):
        """The reservar_cita call of slot K, as the API makes it."""
        fx, s = self.fx, self.s
        ini = fx["base"] + (k // s["nvets"]) * 900
        return (f"SELECT reservar_cita({fx['pac0'] + k % s['npac']}, {fx['vet0'] + k % s['nvets']}, "
                f"{fx['sede']}, NULL, to_timestamp({ini}), to_timestamp({ini}) + interval '10 minutes', "
                f"'{motivo}', 'presencial', NULL, NULL, NULL, 'explain', '127.0.0.1', NULL, NULL)")

    def wal_timing(self):
        """How long the WAL flushes take (pg_stat_wal.wal_sync_time): a
        superuser setting, turned on in this private cluster when its
        superuser is at hand."""
        h = self.h
        if h.su_ok():
            p = h.supsql("-q", "-c", "ALTER SYSTEM SET track_wal_io_timing = on",
                         "-c", "SELECT pg_reload_conf()")
            h.wal_timing = p is not None and p.returncode == 0

    def users_model(self):
        """1,000 connections each booking about once a second (think time
        0.5-1.5 s), with the waits sampled, the WAL and the API's own time."""
        h, s = self.h, self.s
        m0, w0 = h.api_metrics(), h.wal()
        lat = self.latency_start()
        h.waits_start("users", s["book_users_secs"])
        self.book("users", s["conns"], s["book_users_secs"], 500, 1500, 2500)
        h.waits_end("users")
        self.latency_end(lat)
        m1 = h.api_metrics()
        h.api_delta("users", m0, m1)
        h.wal_delta("users", w0, h.wal(), h.r("users").get("api201"))
        return m1

    def latency_start(self):
        """A consumer of the bookings' events (bench-publish latency, on
        a quorum queue of its own) while the users model runs: the time
        from each booking's commit (and from its transaction's start) to
        the event in its hands, with the relay running as in production."""
        url = self.h.env_file().get("VETRED_AMQP_URL", "")
        p = subprocess.Popen([str(REPO / "build/release/bench-publish"), "latency", url,
                              "bench.latencia", "vetred.eventos", "cita.reservada",
                              str(self.h.res / "e2e-arrivals.txt")],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        if p.stdout.readline().strip() != '{"ready":true}':
            p.kill()
            die("bench-publish latency did not start: " + p.stderr.read().strip())
        return p

    def latency_end(self, p):
        time.sleep(2)   # the last bookings' events arrive
        p.send_signal(signal.SIGTERM)
        out, err = p.communicate(timeout=30)
        try:
            start = json.loads(out.strip().splitlines()[-1])
        except (ValueError, IndexError):
            log("bench-publish latency printed nothing usable: " + err.strip())
            return
        # ocurrido_en is the transaction's start: the figures from it
        # include the booking itself.
        e = self.h.r("e2e")
        e.update({f"start_{k}": v for k, v in start.items() if k.endswith("_ms")})
        e["messages"] = start.get("messages", 0)
        e.update(self.from_commit())

    def from_commit(self):
        """The latency from each booking's commit (pg_xact_commit_timestamp
        of its row in citas, which nothing updates during the run; the
        stack runs with track_commit_timestamp) to its event's arrival."""
        arrivals = {}
        for line in (self.h.res / "e2e-arrivals.txt").read_text().splitlines():
            cid, at = line.split()
            arrivals[int(cid)] = float(at)
        if not arrivals:
            return {}
        out = self.h.psql("-At", "-F", " ", "-c",
                          "SELECT id, extract(epoch FROM pg_xact_commit_timestamp(xmin)) "
                          f"FROM citas WHERE id BETWEEN {min(arrivals)} AND {max(arrivals)}",
                          check=False)
        lat = []
        for line in (out or "").splitlines():
            cid, _, ts = line.partition(" ")
            if ts and int(cid) in arrivals:
                lat.append((arrivals[int(cid)] - float(ts)) * 1000)
        if not lat:
            log("no commit timestamps (track_commit_timestamp off?): e2e from commit not measured")
            return {}
        lat.sort()
        q = lambda f: round(lat[min(len(lat) - 1, int(f * len(lat)))], 3)  # noqa: E731
        return dict(commits=len(lat), p50_ms=q(0.50), p95_ms=q(0.95), p99_ms=q(0.99),
                    max_ms=round(lat[-1], 3))

    def saturation(self, m1):
        """64 connections without think time, then pgbench with the same
        statement on 64 clients: the ratio is the target."""
        h, s = self.h, self.s
        w0 = h.wal()
        h.waits_start("sat64", s["book_sat_secs"])
        self.book("sat64", 64, s["book_sat_secs"], 0, 0, 8000)
        h.waits_end("sat64")
        m2 = h.api_metrics()
        h.api_delta("sat64", m1, m2)
        h.wal_delta("sat64", w0, h.wal(), h.r("sat64").get("api201"))
        k = self.k_alloc(s["book_sat_secs"], 8000)
        w0 = h.wal()
        h.waits_start("pgb64", s["book_sat_secs"])
        h.pgbench("pgb64", 64, s["book_sat_secs"], "bench/booking.pgbench", self.slots(k, 64))
        h.waits_end("pgb64")
        h.wal_delta("pgb64", w0, h.wal(), h.r("pgb64").get("requests"))
        # The least a booking can cost PostgreSQL, on the same clients:
        # idempotency row, exclusion-checked insert, outbox row, on the
        # fresh scratch tables of bench/booking_minimal.sql.
        h.psql("-f", "bench/booking_minimal.sql")
        k = self.k_alloc(s["book_sat_secs"], 8000)
        w0 = h.wal()
        h.waits_start("pgmin64", s["book_sat_secs"])
        h.pgbench("pgmin64", 64, s["book_sat_secs"], "bench/booking_minimal.pgbench",
                  self.min_slots(k, 64))
        h.waits_end("pgmin64")
        h.wal_delta("pgmin64", w0, h.wal(), h.r("pgmin64").get("requests"))
        return m2

    def reads(self, m2):
        """GET /api/v1/citas/{id} of what the HTTP runs booked, 64 connections."""
        h, s = self.h, self.s
        ids = h.psql("-At", "-c", "SELECT id FROM citas WHERE motivo = 'bench-http' ORDER BY id").split()
        (h.res / "cita_ids.txt").write_text("".join(i + "\n" for i in ids))
        # As autovacuum leaves a table in steady state (visibility map, hint
        # bits), and so that it does not start during the reads.
        h.psql("-c", "VACUUM (ANALYZE) citas, auditoria, outbox")
        if not ids:
            die("no appointment was booked: nothing to read")
        self.ids = (ids[0], ids[-1])
        h.waits_start("read64", s["read_secs"])
        h.wrk("read64", "/api/v1/citas", 64, s["read_secs"], "bench/read_cita.lua",
              (h.res / "cita_ids.txt",))
        h.waits_end("read64")
        h.api_delta("read64", m2, h.api_metrics())
        book = h.r("book")
        book["rss"] = h.rss_of(h.unix_api_pids())
        book["sealer"] = self.sealer_runs()

    def sealer_runs(self):
        """The audit sealing job ran beside every booking run: the worker's
        line per run that sealed rows."""
        try:
            text = (self.h.logdir / "worker.log").read_text(errors="replace")
        except OSError:
            return None
        runs = rows = max_rows = 0
        max_ms = 0.0
        for line in text.splitlines():
            if '"audit rows sealed"' not in line or "{" not in line:
                continue
            try:
                obj = json.loads(line[line.index("{"):])
            except ValueError:
                continue
            f, ms = obj.get("filas") or 0, obj.get("ms") or 0
            runs, rows = runs + 1, rows + int(f)
            max_rows, max_ms = max(max_rows, int(f)), max(max_ms, float(ms))
        return dict(runs=runs, rows=rows, max_rows=max_rows, max_ms=max_ms)

    def profile(self):
        """Where the time goes: nginx's timings (a temporary access log),
        the API's own handler time, PostgreSQL alone (pgbench, one client
        and 64), and EXPLAIN of one call of each statement."""
        h, s = self.h, self.s
        ps = s["profile_secs"]
        id0, id1 = self.ids
        h.ngx_timing(True)
        m4 = h.api_metrics()
        self.book("prof_book", 64, ps, 0, 0, 8000)
        m5 = h.api_metrics()
        h.wrk("prof_read", "/api/v1/citas", 64, ps, "bench/read_cita.lua", (h.res / "cita_ids.txt",))
        m6 = h.api_metrics()
        h.ngx_timing(False)
        h.api_delta("prof_book", m4, m5)
        h.api_delta("prof_read", m5, m6)
        for f in (3, 4, 5, 6):
            h.r("prof_book")[f"t{f}"] = h.timing_stats("POST", f)
            h.r("prof_read")[f"t{f}"] = h.timing_stats("GET", f)
        k = self.k_alloc(ps, 8000)
        h.pgbench("pgb1", 1, ps, "bench/booking.pgbench", self.slots(k, 1))
        ids = ["-D", f"id0={id0}", "-D", f"id1={id1}"]
        h.pgbench("pgr64", 64, ps * 2, "bench/read_cita.pgbench", ids)
        h.pgbench("pgr1", 1, ps, "bench/read_cita.pgbench", ids)
        # PostgreSQL alone at the users model's rate, on as many connections
        # as the API holds (one per thread): the latency the booking
        # transaction itself has at that load, without nginx, the API or wrk.
        self.pg_at_rate("pgu", s["api_procs"] * DEFAULT_THREADS, h.r("users").get("rps") or 1000)
        k = self.k_alloc(1, 10)
        calls = [self.slot_call(k + i, "bench-explain") for i in range(7)]
        h.explain("exbook", " UNION ALL ".join(calls[2:]), calls[0], calls[1])
        h.explain("exread", f"SELECT documento, version, sede_id FROM citas WHERE id BETWEEN {id0} AND {id0} + 4",
                  f"SELECT documento, version, sede_id FROM citas WHERE id = {id1} - 1",
                  f"SELECT documento, version, sede_id FROM citas WHERE id = {id1}")

    def pg_at_rate(self, name, clients, rate):
        """pgbench -R: PostgreSQL alone booking at RATE/s on CLIENTS
        connections, the first 2 s left out (new connections plan)."""
        h, ps = self.h, self.s["profile_secs"]
        k = self.k_alloc(ps * 2 + 2, 2500)
        for f in h.res.glob(f"{name}-log.*"):
            f.unlink()
        h.pgbench(name, clients, ps * 2 + 2, "bench/booking.pgbench",
                  self.slots(k, clients) + ["-R", str(rate), "-l", f"--log-prefix={h.res}/{name}-log"])
        h.pgbench_log_stats(name, 2)

    def row_checks(self, m_start):
        """Every 201 is a row, and every row a 201.  wrk stops waiting when
        its time is up: a request in flight then is still booked and
        answered, but not seen by wrk (at most one per connection)."""
        h = self.h
        h.api_delta("book", m_start, h.api_metrics())
        count = lambda motivo: int(h.value(f"SELECT count(*) FROM citas WHERE motivo = '{motivo}'"))
        b = h.r("book")
        b["rows_http"] = count("bench-http")
        b["rows_pgb"] = count("bench-pgbench")
        b["rows_explain"] = count("bench-explain")
        b["wrk201"] = sum(h.r(r).get("s201") or 0 for r in self.book_runs)
        b["inflight_max"] = sum(h.r(r)["conns"] for r in self.book_runs)
        b["pgb_tx"] = sum(h.r(r).get("requests") or 0 for r in ("pgb64", "pgb1", "pgu"))
        log(f"bookings: {b['rows_http']} rows from HTTP, {b['api201']} 201s answered by the API, "
            f"{b['wrk201']} seen by wrk; {b['rows_pgb']} rows from pgbench for {b['pgb_tx']} transactions")

    def alt_threads(self):
        """The same with another number of API threads, i.e. of PostgreSQL
        connections (2 x ALT_THREADS instead of 2 x DEFAULT_THREADS)."""
        h, s = self.h, self.s
        at = s["alt_threads"]
        if at == 0 or at == DEFAULT_THREADS:
            return
        h.start(at)
        rows0 = int(h.value("SELECT count(*) FROM citas WHERE motivo = 'bench-http'"))
        a0 = h.api_metrics()
        self.book("alt_warm", 64, 3, 0, 0, 8000)
        h.waits_start("alt_users", s["alt_secs"])
        self.book("alt_users", s["conns"], s["alt_secs"], 500, 1500, 2500)
        h.waits_end("alt_users")
        half = (s["alt_secs"] + 1) // 2
        self.book("alt_sat64", 64, half, 0, 0, 8000)
        h.wrk("alt_read64", "/api/v1/citas", 64, half, "bench/read_cita.lua", (h.res / "cita_ids.txt",))
        h.api_delta("alt", a0, h.api_metrics())
        alt = h.r("alt")
        alt["rows"] = int(h.value("SELECT count(*) FROM citas WHERE motivo = 'bench-http'")) - rows0
        alt["rss"] = h.rss_of(h.unix_api_pids())
        log(f"alt: 2 x {at} threads: {alt['rows']} rows, {alt['api201']} 201s answered by the API")
        # PostgreSQL alone on as many connections: saturation, and at the
        # users model's rate.
        conns = s["api_procs"] * at
        k = self.k_alloc(s["profile_secs"] * 2, 8000)
        h.pgbench("pgb_alt", conns, s["profile_secs"] * 2, "bench/booking.pgbench", self.slots(k, conns))
        self.pg_at_rate("pgu_alt", conns, h.r("alt_users").get("rps") or 1000)

    def bookings(self):
        """Section "Booking" of the report, on the default configuration:
        the users model, saturation next to pgbench, reads, the per-stage
        profile, the row checks, then the same with more threads.  Every
        booking is a distinct valid slot."""
        h = self.h
        self.fixtures()
        self.wal_timing()
        m_start = h.api_metrics()
        self.book("bwarm", 64, 3, 0, 0, 8000)     # warm-up: plans of every API connection
        # Statistics of a table that is no longer empty: planned while citas
        # was empty, the reads may use a hash join over the whole table
        # (until autovacuum analyzes it, a minute or more later).  ANALYZE
        # invalidates the plans cached in the API's connections.
        h.psql("-c", "ANALYZE citas, auditoria, outbox")
        time.sleep(1)
        m1 = self.users_model()
        m2 = self.saturation(m1)
        self.reads(m2)
        self.profile()
        self.row_checks(m_start)
        self.alt_threads()

    # ------------------------------------------------------------ e: 1,000 connections

    def matrix_run(self, name):
        """GET /api/v1/sedes/1 on 1,000 connections, the probe, the RSS."""
        h = self.h
        h.wrk(name, "/api/v1/sedes/1", self.s["conns"],
              self.s["keep_long_secs"] if name.endswith("long") else self.s["matrix_secs"])
        h.probe(name)
        pids = [p.pid for p in h.tcp_procs] if name.startswith("tcp") else h.unix_api_pids()
        h.r(name)["rss"] = h.rss_of(pids)

    def thread_matrix(self):
        """Unix sockets at each thread count, the default last (the
        keep-conn runs edit its nginx.conf)."""
        for t in (MATRIX_LOW, MATRIX_HIGH, DEFAULT_THREADS):
            self.h.start(t)
            self.matrix_run(f"unix{t}")

    def keep_conn(self):
        """The known trap: keep-conn on with an upstream keepalive cache;
        then again from fresh nginx workers (nothing pinned), for longer
        than nginx's fastcgi_read_timeout: what the stalls turn into."""
        h = self.h
        keep = f"keep{DEFAULT_THREADS}"
        log(f"{keep}: fastcgi_keep_conn on; keepalive 32; (edited {h.ngx}/nginx.conf)")
        text = h.conf().replace("fastcgi_keep_conn off;", "fastcgi_keep_conn on;")
        text = re.sub(r"^(\s*upstream vetred_api \{)$", r"\1\n        keepalive 32;", text, flags=re.M)
        if "fastcgi_keep_conn on;" not in text or "keepalive 32;" not in text:
            die(f"could not edit {h.ngx}/nginx.conf for keep-conn")
        h.set_conf(text)
        h.ngx_reload()
        self.matrix_run(keep)
        h.ngx_reload()
        self.matrix_run(keep + "long")
        h.start(DEFAULT_THREADS)   # regenerates nginx.conf from the template

    def tcp(self):
        """TCP: our own API processes on 127.0.0.1:PORT, nginx pointed at them."""
        h = self.h
        h.start_tcp_apis(DEFAULT_THREADS, str(REPO / "build/release/vetred-api"))
        out = []
        for line in h.conf().splitlines():
            if re.match(r"^\s*server unix:.*api-[0-9]+\.sock", line):
                continue
            out.append(line)
            if re.match(r"^\s*upstream vetred_api \{", line):
                out += [f"        server 127.0.0.1:{p} max_fails=1 fail_timeout=2s;" for p in TCP_PORTS]
        h.set_conf("\n".join(out) + "\n")
        log(f"tcp{DEFAULT_THREADS}: nginx upstream -> " + " ".join(f"127.0.0.1:{p}" for p in TCP_PORTS))
        h.ngx_reload()
        inst = h.health_instances(8)
        if "api-tcp-" not in inst:
            die(f"after the reload /health answers from '{inst}', not the TCP processes")
        if re.search(r"api-[0-9]", inst):
            die(f"after the reload /health still answers from the unix processes ({inst})")
        self.matrix_run(f"tcp{DEFAULT_THREADS}")
        h.stop_tcp_apis()

    def restore_default(self):
        """Back to the default configuration, answering from the unix processes."""
        h = self.h
        h.start(DEFAULT_THREADS)
        conf = h.conf()
        if "fastcgi_keep_conn off;" not in conf or "keepalive 32;" in conf:
            die("the default nginx.conf was not restored")
        inst = h.health_instances(8)
        if not inst or "api-tcp-" in inst:
            die(f"default not restored: /health answers from '{inst}'")
        self.machine["rss_final"] = h.rss_of(h.unix_api_pids())

    # ------------------------------------------------------------ the whole run

    def figures(self):
        return dict(settings=self.s, machine=self.machine, runs=self.h.runs, cmd=self.h.cmd)

    def run(self):
        self.preflight()
        self.describe_machine()
        log(f"starting at {self.machine['start']}" + (" (quick mode)" if self.s["quick"] else ""))
        self.fresh_stack()
        self.short_runs()
        self.bookings()
        self.thread_matrix()
        self.keep_conn()
        self.tcp()
        self.restore_default()
        self.machine["end"] = time.strftime("%Y-%m-%d %H:%M:%S %Z")
        self.machine["load1"] = " ".join(Path("/proc/loadavg").read_text().split()[:3])


def report_path(s, env):
    """Where the report goes: bench/README.md, or in quick mode (figures
    not to keep) var/bench/results/README.md; BENCH_README sets it."""
    default = "var/bench/results/README.md" if s["quick"] else "bench/README.md"
    out = Path(env.get("BENCH_README") or default)
    return out if out.is_absolute() else REPO / out


def main(argv):
    os.chdir(REPO)
    os.umask(0o022)
    # An interrupt stops the stack too (the finally below).
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: sys.exit(130))
    bench = None
    try:
        s = settings(argv, os.environ)
        out = report_path(s, os.environ)
        bench = Bench(s)
        bench.run()
    except BenchError as e:
        print(f"bench: error: {e}", file=sys.stderr)
        return 1
    finally:
        if bench is not None and bench.h.stacklog.parent.exists():
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            bench.h.stop()
    data = bench.figures()
    report.write(data, out)
    log(f"report written to {rel(out)} (figures: {rel(out.parent / 'figures.json')})")
    log(f"done: {bench.machine['start']} – {bench.machine['end']}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
