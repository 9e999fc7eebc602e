#!/usr/bin/env python3
"""bench/relay.py - the outbox relay's benchmark (`make bench-relay`, and
the last part of `make bench`).

The question (from the issue): how fast does vetred-scheduler drain a
backlog of 100,000 events, next to the limit measured in the same run --
a bare publisher-with-confirms loop (bench/publish_bare.c: no database,
the same batch size, the same message size, the same broker and queue)?
Targets: >= 70 % of that limit, and >= 10,000 events/s on this machine.

It starts the bench stack (var/bench, the ports of bench/run.py), stops
its supervised scheduler so that nothing else publishes, and then, ROUNDS
times (default 3): empties a quorum work queue bound to vetred.eventos
under the bench's event type; writes BENCH_RELAY_EVENTS pending outbox
rows in one statement (payloads the size of a cita.reservada); runs one
vetred-scheduler until no row is pending, the rate being the rows over
the span of their publicado_en; empties the queue again and runs the bare
loop with as many messages of the envelope's average size.  The medians
of the rounds are the figures; each round is listed.  Writes
bench/relay.json and renders bench/README.md again (bench/report.py),
restarts the supervised scheduler and stops the stack.

    bench/relay.py

Environment: BENCH_RELAY_EVENTS (100000), BENCH_RELAY_ROUNDS (3),
BENCH_RELAY_BATCH (500, the relay's VETRED_RELAY_BATCH and the bare
loop's), BENCH_README (bench/README.md).
"""
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import report  # noqa: E402
from harness import REPO, PGBIN, die, log  # noqa: E402
from run import STACK_ENV, UNSET  # noqa: E402

TYPE = "bench.relevo"            # the bench's event type and routing key
QUEUE = "bench.relevo"
BIN = REPO / "build/release"


def env_int(name, default):
    try:
        return int(os.environ.get(name, default))
    except ValueError:
        die(f"{name} must be a number")


def stack_env():
    env = {k: v for k, v in os.environ.items() if k not in UNSET}
    env.update(STACK_ENV)
    return env


def stack(*args):
    r = subprocess.run(["ci/stack.sh", *args], cwd=REPO, env=stack_env(),
                       stdin=subprocess.DEVNULL, capture_output=True, text=True)
    if r.returncode != 0:
        sys.stderr.write(r.stdout + r.stderr)
        die("ci/stack.sh " + " ".join(args) + " failed")


def env_file():
    out = {}
    for line in (REPO / STACK_ENV["VETRED_STACK_DIR"] / "env").read_text().splitlines():
        if line.startswith("export ") and "=" in line:
            k, v = line[7:].split("=", 1)
            out[k] = subprocess.run(["bash", "-c", f"printf %s {v}"], capture_output=True,
                                    text=True).stdout
    return out


def cpu_ticks():
    """All CPUs' ticks so far, and the idle ones."""
    with open("/proc/stat") as fh:
        f = [int(x) for x in fh.readline().split()[1:]]
    return sum(f), f[3] + f[4]


def busy_since(t0):
    """How busy (%) all CPUs were since cpu_ticks() gave t0."""
    t1 = cpu_ticks()
    total, idle = t1[0] - t0[0], t1[1] - t0[1]
    return round(100.0 * (total - idle) / total, 1) if total else None


class Relay:
    def __init__(self):
        self.events = env_int("BENCH_RELAY_EVENTS", 100000)
        self.rounds = env_int("BENCH_RELAY_ROUNDS", 3)
        self.batch = env_int("BENCH_RELAY_BATCH", 500)
        self.stackdir = REPO / STACK_ENV["VETRED_STACK_DIR"]
        self.sup = ["supervisorctl", "-c", str(self.stackdir / "supervisor/supervisord.conf")]

    def psql(self, sql):
        r = subprocess.run([str(PGBIN / "psql"), "-X", "-qAt", "-v", "ON_ERROR_STOP=1",
                            "-d", self.db, "-c", sql], capture_output=True, text=True)
        if r.returncode != 0:
            die("psql: " + r.stderr.strip())
        return r.stdout.strip()

    def tool(self, *args):
        r = subprocess.run([str(BIN / "bench-publish"), *args], capture_output=True, text=True)
        if r.returncode != 0:
            die("bench-publish " + args[0] + ": " + r.stderr.strip())
        return r.stdout.strip()

    def relay_round(self):
        self.tool("queue", self.amqp, QUEUE, "vetred.eventos", TYPE)
        self.psql("DELETE FROM outbox WHERE tipo = '%s'" % TYPE)
        # A payload the size of a cita.reservada's (about 330 bytes).
        self.psql("INSERT INTO outbox (tipo, agregado, agregado_id, payload, request_id) "
                  "SELECT '%s', 'cita', g::text, jsonb_build_object('cita_id', g, 'sede_id', 1, "
                  "'veterinario_id', 7, 'paciente_id', g, 'propietario_id', g, 'consultorio_id', "
                  "NULL, 'tipo', 'presencial', 'estado', 'reservada', 'inicio', "
                  "'2026-12-08T09:00:00-05:00', 'fin', '2026-12-08T09:30:00-05:00', "
                  "'zona_horaria', 'America/Lima', 'version', 1), "
                  "'0123456789abcdef0123456789abcdef' FROM generate_series(1, %d) g"
                  % (TYPE, self.events))
        # The envelope the relay sends (scheduler/relay.c, envelope()):
        # its members' names and punctuation are 104 bytes, ocurrido_en 27.
        size = float(self.psql(
            "SELECT avg(octet_length(payload::text) + octet_length(evento_id::text) "
            "+ octet_length(tipo) + octet_length(agregado) + octet_length(agregado_id) "
            "+ octet_length(request_id) + 104 + 27) FROM outbox WHERE tipo = '%s'" % TYPE))
        env = {k: v for k, v in os.environ.items() if not k.startswith("VETRED_")}
        env.update(VETRED_DATABASE_URL=self.db, VETRED_AMQP_URL=self.amqp,
                   VETRED_SCHEDULER_INSTANCE="bench-relay",
                   VETRED_SCHEDULER_METRICS_ADDR="off",
                   VETRED_RELAY_BATCH=str(self.batch), VETRED_LOG_LEVEL="warn")
        logf = open(self.stackdir / "log" / "bench-relay.log", "a")
        t0, c0 = time.monotonic(), cpu_ticks()
        p = subprocess.Popen([str(BIN / "vetred-scheduler")], env=env, stdout=logf,
                             stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = t0 + 600
        while self.psql("SELECT count(*) FROM outbox WHERE tipo = '%s' AND publicado_en IS NULL"
                        % TYPE) != "0":
            if time.monotonic() > deadline or p.poll() is not None:
                p.kill()
                die("the relay did not drain the backlog (log: var/bench/log/bench-relay.log)")
            time.sleep(0.2)
        wall = time.monotonic() - t0
        busy = busy_since(c0)
        p.terminate()
        if p.wait(timeout=30) != 0:
            die("the relay did not stop cleanly on SIGTERM")
        logf.close()
        span = float(self.psql("SELECT extract(epoch FROM max(publicado_en) - min(publicado_en)) "
                               "FROM outbox WHERE tipo = '%s'" % TYPE))
        self.psql("DELETE FROM outbox WHERE tipo = '%s'" % TYPE)
        return dict(events=self.events, span_s=round(span, 3), wall_s=round(wall, 3),
                    per_second=round(self.events / span), cpu_busy=busy, size=round(size))

    def bare_round(self, size):
        self.tool("queue", self.amqp, QUEUE, "vetred.eventos", TYPE)
        c0 = cpu_ticks()
        out = json.loads(self.tool(self.amqp, "vetred.eventos", TYPE, str(self.events),
                                   str(size), str(self.batch)))
        out["cpu_busy"] = busy_since(c0)
        out["per_second"] = round(out["per_second"])
        return out

    def run(self):
        if not (BIN / "vetred-scheduler").exists() or not (BIN / "bench-publish").exists():
            die("build first: make MODE=release all build/release/bench-publish")
        log("starting the bench stack (var/bench)")
        stack("start")
        env = env_file()
        self.db, self.amqp = env["VETRED_DATABASE_URL"], env["VETRED_AMQP_URL"]
        subprocess.run(self.sup + ["stop", "scheduler"], capture_output=True)
        rounds = []
        try:
            for i in range(self.rounds):
                r = self.relay_round()
                b = self.bare_round(r["size"])
                log(f"round {i + 1}: relay {r['per_second']}/s, bare loop {b['per_second']}/s")
                rounds.append(dict(relay=r, bare=b))
        finally:
            self.tool("drop", self.amqp, QUEUE)
            subprocess.run(self.sup + ["start", "scheduler"], capture_output=True)
            stack("stop")
        relay = statistics.median(x["relay"]["per_second"] for x in rounds)
        bare = statistics.median(x["bare"]["per_second"] for x in rounds)
        return dict(date=time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime()),
                    events=self.events, batch=self.batch, rounds=rounds,
                    relay_per_second=round(relay), bare_per_second=round(bare),
                    ratio=round(100.0 * relay / bare, 1) if bare else None,
                    nproc=os.cpu_count())


def save(name, data):
    """Writes a bench's figures beside bench/README.md (as name) and renders
    the report again (BENCH_README: another report)."""
    here = Path(__file__).resolve().parent
    (here / name).write_text(json.dumps(data, indent=1, sort_keys=True) + "\n")
    readme = os.environ.get("BENCH_README", str(here / "README.md"))
    figures = Path(readme).parent / "figures.json"
    if figures.exists():
        report.write(json.loads(figures.read_text()), readme, str(figures))
        log(f"report: {readme}")


def main(argv):
    if len(argv) > 1:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    data = Relay().run()
    save("relay.json", data)
    log(f"relay {data['relay_per_second']}/s, bare loop {data['bare_per_second']}/s "
        f"({data['ratio']} %)")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
