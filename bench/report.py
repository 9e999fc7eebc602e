#!/usr/bin/env python3
"""bench/report.py - the targets of the load benchmark, their verdicts, and
the report (bench/README.md) rendered from the figures bench/run.py
collected.  No measuring here: everything is a function of the figures, so
a report can be rendered again without running anything:

    python3 bench/report.py [FIGURES.json [REPORT.md]]

(default: bench/figures.json and bench/README.md).  The outbox relay's
figures (bench/relay.py) are read from relay.json beside the figures,
when there is one, into the section "Outbox relay"; the owner search's
(bench/busqueda.py) from busqueda.json into "Owner search"; the calendar
feeds' (bench/ical.py) from ical.json into "Calendar feeds".

The figures are one JSON object:
  settings  durations, connections, thread counts of the run (SETTINGS)
  machine   what the run measured about the machine (CPUs, versions, load)
  runs      {name: {field: value}}: one entry per wrk or pgbench run (wrk:
            the fields of the BENCH line of bench/*.lua, pgbench: rps,
            requests, failed, mean_ms...), plus the CPU ticks of each part
            of the stack during the run (tk_nginx, tk_api, tk_pg, tk_rmq,
            tk_client, tk_others), and a few entries that are no run:
            book (row counts), alt, exbook and exread (EXPLAIN)
  cmd       {name: the command line of that run}
"""
import json
import math
import os
import sys
from dataclasses import dataclass

# ---------------------------------------------------------------- targets

@dataclass(frozen=True)
class Target:
    key: str       # the name of the check
    run: str       # the run whose figure is checked
    field: str     # the figure
    op: str        # "<=" or ">="
    limit: float


# The targets of the issue (booking): a users model of 1,000 connections
# booking about once a second each, saturation next to PostgreSQL alone,
# reads of an appointment.
TARGETS = (
    Target("users_p95", "users", "p95_ms", "<=", 5),
    Target("users_p99", "users", "p99_ms", "<=", 15),
    Target("sat_ratio", "sat", "ratio", ">=", 75),       # % of pgbench's tps
    Target("min_ratio", "min", "ratio", ">=", 50),       # reservar_cita, % of the minimal booking's tps
    Target("read_rps", "read64", "rps", ">=", 15000),
    Target("read_p99", "read64", "p99_ms", "<=", 10),
    # The job engine's: a booking's event in a consumer's hands, during
    # the users model (the run "e2e": bench-publish latency), from each
    # booking's commit.
    Target("e2e_p50", "e2e", "p50_ms", "<=", 10),
    Target("e2e_p99", "e2e", "p99_ms", "<=", 50),
)
T = {t.key: t for t in TARGETS}
# The Python reference the issue gives (FastAPI + asyncpg + uvicorn, 2
# workers, on the same kind of 2-core machine).
PY_SAT_RPS, PY_USERS_P99, PY_READ_RPS = 2400, 34, 6200
# The clients' floor (per site) and what counts as a clean run at 1,000
# connections.
CLIENT_P95_MS = 600        # a run's P95, and a probe's P99
SITE_RPS = 1000            # req/s per site
SITES = 3                  # the demo sites
STALL_MAX = 20             # % of connection-time stalled above which a run is stalled
NOISY_OTHERS = 10          # % of the CPUs used by other work: a noisy run

# The settings a report needs, with the defaults of a full run.
SETTINGS = dict(
    short_secs=10, matrix_secs=20, keep_long_secs=70, book_users_secs=60,
    book_sat_secs=20, read_secs=20, profile_secs=5, alt_threads=16,
    alt_secs=20, nvets=20, npac=20000, conns=1000, default_threads=4,
    matrix_low=2, matrix_high=16, api_procs=2, wrk_timeout="5s", quick=False)

GROUPS = ("nginx", "api", "pg", "rmq", "client")

# Decimals of the figures that are not integers (as the tools print them).
DECIMALS = dict(
    secs=2, mean_ms=2, p50_ms=2, p90_ms=2, p95_ms=2, p99_ms=2, max_ms=2,
    api_book_ms=2, api_read_ms=2, wal_fpi=2, wal_syncs=2, wal_sync_ms=3,
    ms=3, wall=3)
# pgbench prints its latency average with 3 decimals.
DECIMALS_PGBENCH = dict(mean_ms=3)


def is_num(x):
    return isinstance(x, (int, float)) and not isinstance(x, bool) and \
        math.isfinite(x)


def num_le(x, limit):
    """x is a measured (non-negative) figure and at most limit."""
    return is_num(x) and x >= 0 and x <= limit


def num_ge(x, limit):
    return is_num(x) and x >= 0 and x >= limit


def fmt_int(x):
    """1234567.4 -> '1,234,567'; anything but a figure -> 'n/a'."""
    if not is_num(x) or x < 0:
        return "n/a"
    return f"{int(f'{x:.0f}'):,}"


def pct(a, b):
    """100 a / b, rounded; None when b is not positive."""
    if is_num(a) and is_num(b) and b > 0:
        return int(f"{100 * a / b:.0f}")
    return None


class Figures:
    """The figures of one run, with the derived values and the verdicts."""

    def __init__(self, data):
        self.settings = dict(SETTINGS)
        self.settings.update(data.get("settings", {}))
        self.machine = data.get("machine", {})
        self.runs = {k: dict(v) for k, v in data.get("runs", {}).items()}
        self.cmd = data.get("cmd", {})
        s = self.settings
        self.run_low = f"unix{s['matrix_low']}"
        self.run_def = f"unix{s['default_threads']}"
        self.run_high = f"unix{s['matrix_high']}"
        self.run_tcp = f"tcp{s['default_threads']}"
        self.run_keep = f"keep{s['default_threads']}"
        self.run_keeplong = f"keep{s['default_threads']}long"
        self.matrix = [self.run_low, self.run_def, self.run_high,
                       self.run_tcp, self.run_keep, self.run_keeplong]
        sat = self.runs.setdefault("sat", {})
        sat["ratio"] = pct(self.get("sat64", "rps"), self.get("pgb64", "rps"))
        self.runs.setdefault("min", {})["ratio"] = pct(self.get("pgb64", "rps"),
                                                       self.get("pgmin64", "rps"))

    # -- raw access

    def get(self, run, field, default=None):
        x = self.runs.get(run, {}).get(field)
        return default if x is None else x

    def has(self, run, field="requests"):
        return self.get(run, field) is not None

    def v(self, run, field):
        """A figure as the report shows it ('n/a' when not measured)."""
        x = self.get(run, field)
        if x is None:
            return "n/a"
        if isinstance(x, float):
            d = DECIMALS.get(field, 2)
            if self.get(run, "kind") == "pgbench":
                d = DECIMALS_PGBENCH.get(field, d)
            return f"{x:.{d}f}"
        return str(x)

    def i(self, run, field, default=0):
        x = self.get(run, field)
        return x if is_num(x) else default

    # -- derived

    def gw5xx(self, c):
        """502/503/504 made by nginx itself (deploy/nginx.conf.in turns a
        502 into a 503 with Retry-After: s503gw)."""
        return self.i(c, "s502") + self.i(c, "s503gw") + self.i(c, "s504")

    def sockerr(self, c):
        return sum(self.i(c, k) for k in ("connect", "read", "write", "timeout"))

    def sockerr_txt(self, c):
        return "/".join(self.v(c, k) for k in ("connect", "read", "write", "timeout"))

    def nproc(self):
        return self.machine.get("nproc") or 1

    def cpu_pct(self, c, g):
        """The group's share of all CPUs (%) during run c."""
        t, s = self.get(c, "tk_" + g), self.i(c, "wall")
        if not is_num(t) or s <= 0:
            return "n/a"
        return f"{100 * t / (s * self.nproc() * self.machine.get('hz', 100)):.0f}"

    def cpu_us(self, c, g):
        """The group's CPU time per request (µs), None when not measured."""
        t, r = self.get(c, "tk_" + g), self.i(c, "requests")
        if not is_num(t) or r <= 0:
            return None
        return int(f"{1e6 * t / self.machine.get('hz', 100) / r:.0f}")

    def us(self, c, g):
        x = self.cpu_us(c, g)
        return "n/a" if x is None else str(x)

    def cpu_total(self, c):
        return sum(x for x in (self.cpu_us(c, g) for g in GROUPS + ("others",))
                   if x is not None)

    def errs_txt(self, c):
        return f"{self.v(c, 'non2xx')} / {self.sockerr(c)}"

    def ratio(self, a, b):
        x = pct(self.get(a, "rps"), self.get(b, "rps"))
        return "n/a" if x is None else f"{x} %"

    def waits(self, c):
        """The shares of the PostgreSQL waits sampled during run c."""
        w = self.get(c, "waits")
        if not w:
            return "n/a"
        total = sum(n for _, n in w)
        if total == 0:
            return "n/a"
        parts = [f"{ev} {100 * n / total:.0f} %" for ev, n in w[:6]]
        return ", ".join(parts) + f" ({total} samples)"

    def probe(self, c):
        p = c + "-probe"
        if not self.runs.get(p):
            return "n/a"
        return (f"{self.v(p, 'rps')} req/s, P99 {self.v(p, 'p99_ms')} ms, "
                f"max {self.v(p, 'max_ms')} ms, stalled {self.v(p, 'stalled')} %, "
                f"{self.v(p, 'timeout')} timeouts, {self.v(p, 'non2xx')} non-2xx")

    def sealer(self):
        s = self.get("book", "sealer")
        if s is None:
            return "no log"
        if not s.get("runs"):
            return "no run logged"
        return (f"{s['runs']} runs, {s['rows']} audit rows sealed, at most "
                f"{s['max_rows']} rows and {s['max_ms']:.0f} ms in one run")

    # -- verdicts

    def met(self, t, run=None):
        x = self.get(run or t.run, t.field)
        return num_le(x, t.limit) if t.op == "<=" else num_ge(x, t.limit)

    def no_errors(self, c):
        return self.i(c, "requests") > 0 and self.get(c, "non2xx", 1) == 0 and \
            self.sockerr(c) == 0

    def probe_ok(self, c):
        """The light-load probe after run c: answered, no error, not
        stalled, P99 within the clients' floor."""
        p = c + "-probe"
        return self.has(p) and self.sockerr(p) == 0 and \
            self.get(p, "non2xx", 1) == 0 and \
            self.get(p, "stalled", 100) <= STALL_MAX and \
            num_le(self.get(p, "p99_ms"), CLIENT_P95_MS)

    def is_clean(self, c):
        """No 502/503/504 from nginx, no socket error, no stall, clean probe."""
        return self.has(c) and self.gw5xx(c) == 0 and self.sockerr(c) == 0 and \
            self.get(c, "non2xx", 1) == 0 and self.probe_ok(c) and \
            self.get(c, "stalled", 100) <= STALL_MAX

    def floor_ok(self, c):
        """The clients' floor: P95 <= 600 ms, and no error or stall."""
        return num_le(self.get(c, "p95_ms"), CLIENT_P95_MS) and \
            self.get(c, "non2xx", 1) == 0 and self.sockerr(c) == 0 and \
            self.get(c, "stalled", 100) <= STALL_MAX

    def count_ok(self):
        """Every HTTP booking answered 201 is a row, and no other; wrk saw
        all of them but those in flight when a run ended; pgbench: one row
        per transaction; the rolled-back EXPLAIN left none."""
        b = self.runs.get("book", {})
        rows, api, wrk = b.get("rows_http"), b.get("api201"), b.get("wrk201", 0)
        return isinstance(rows, int) and rows == api and wrk <= api and \
            api - wrk <= b.get("inflight_max", 0) and \
            b.get("rows_pgb", "x") == b.get("pgb_tx", "y") and \
            b.get("rows_explain", 1) == 0

    def verdicts(self):
        """Every booking check: name -> met (True) or missed (False)."""
        return dict(
            users_p95=self.met(T["users_p95"]),
            users_p99=self.met(T["users_p99"]),
            users_err=self.no_errors("users"),
            sat=self.met(T["sat_ratio"]),
            sat_err=self.no_errors("sat64") and self.get("pgb64", "failed", 1) == 0,
            min=self.met(T["min_ratio"]) and self.get("pgmin64", "failed", 1) == 0,
            read_rps=self.met(T["read_rps"]),
            read_p99=self.met(T["read_p99"]),
            read_err=self.no_errors("read64"),
            e2e=self.met(T["e2e_p50"]) and self.met(T["e2e_p99"]) and
            self.get("e2e", "commits", 0) > 0,
            count=self.count_ok())

    def clean_runs(self):
        return [c for c in self.matrix if self.is_clean(c)]

    def best(self):
        """The clean configuration with the most req/s (the first on a tie)."""
        best = None
        for c in self.clean_runs():
            if best is None or self.get(c, "rps", 0) > self.get(best, "rps", 0):
                best = c
        return best


def verdict(ok):
    return "PASS" if ok else "**MISS**"


def yes_no(ok):
    return "yes" if ok else "no"


# ---------------------------------------------------------------- the report

RELAY_RATIO_MIN = 70.0          # % of the bare publisher-with-confirms loop
RELAY_RATE_MIN = 10000          # events/s on the 2-core machine


def relay_section(r):
    """The section of bench/relay.py's figures (relay.json), or []."""
    if not r:
        return []
    ratio_ok = is_num(r.get("ratio")) and r["ratio"] >= RELAY_RATIO_MIN
    rate_ok = num_ge(r.get("relay_per_second"), RELAY_RATE_MIN)
    out = [
        "",
        "## Outbox relay",
        "",
        f"Measured by `bench/relay.py` (`make bench-relay`) on **{r.get('date', 'n/a')}**, "
        f"{r.get('nproc', 'n/a')} CPUs.",
        "The question (from the issue): vetred-scheduler drains a backlog of "
        f"{fmt_int(r.get('events'))} events; how fast, next",
        "to a bare publisher-with-confirms loop (`bench/publish_bare.c`: no database, the same",
        f"batch of {r.get('batch')}, the same message size, broker and quorum queue) in the same run?",
        "",
        "| | measured (median of the rounds) | target | verdict |",
        "| --- | ---: | ---: | --- |",
        f"| relay: events/s, pending rows to confirmed and marked | {fmt_int(r.get('relay_per_second'))} "
        f"| ≥ {fmt_int(RELAY_RATE_MIN)} | {verdict(rate_ok)} |",
        f"| bare loop: messages/s | {fmt_int(r.get('bare_per_second'))} | — | — |",
        f"| relay ÷ bare loop | {r.get('ratio')} % | ≥ {RELAY_RATIO_MIN:.0f} % | {verdict(ratio_ok)} |",
        "",
        "| round | relay events/s | span s | message bytes | CPU % busy | bare loop msg/s | CPU % busy |",
        "| ---: | ---: | ---: | ---: | ---: | ---: | ---: |"]
    for i, x in enumerate(r.get("rounds", []), 1):
        a, b = x.get("relay", {}), x.get("bare", {})
        out.append(f"| {i} | {fmt_int(a.get('per_second'))} | {a.get('span_s')} | {a.get('size')} "
                   f"| {a.get('cpu_busy')} | {fmt_int(b.get('per_second'))} | {b.get('cpu_busy')} |")
    out += [
        "",
        "The relay's rate is the rows over the span of their `publicado_en` (first to last",
        "marked); each round writes the backlog in one statement first, with the supervised",
        "scheduler stopped, and empties the queue before each loop. Both loops share the 2",
        "CPUs with RabbitMQ and PostgreSQL: the relay also reads the rows and marks them",
        "published (one `UPDATE` per batch), which the bare loop does not."]
    return out


SEARCH_OWNERS = 1000000         # owners the search is measured over
SEARCH_CONNS = 16
SEARCH_P99_MAX = 20.0           # ms


def busqueda_section(b):
    """The section of bench/busqueda.py's figures (busqueda.json), or []."""
    if not b:
        return []
    w, w2 = b.get("wrk", {}), b.get("wrk2", {})
    bad = (w.get("non2xx") or 0) + sum(w.get(k) or 0 for k in ("connect", "read", "write",
                                                               "timeout"))
    sized = num_ge(b.get("owners"), SEARCH_OWNERS) and b.get("conns") == SEARCH_CONNS
    ok = sized and num_le(w.get("p99_ms"), SEARCH_P99_MAX) and bad == 0
    load = (f"written in {b['load_s']} s by this run" if is_num(b.get("load_s"))
            else "written by an earlier run")
    return [
        "",
        "## Owner search",
        "",
        f"Measured by `bench/busqueda.py` (`make bench-busqueda`) on **{b.get('date', 'n/a')}**, "
        f"{b.get('nproc', 'n/a')} CPUs.",
        f"The question (from the issue): over {fmt_int(SEARCH_OWNERS)} owners, is the desk's search by",
        f"name prefix (`GET /api/v1/propietarios?q=`) fast at {SEARCH_CONNS} connections?",
        "",
        "| | measured | target | verdict |",
        "| --- | ---: | ---: | --- |",
        f"| owners in the database (one pet each) | {fmt_int(b.get('owners'))} "
        f"| ≥ {fmt_int(SEARCH_OWNERS)} | — |",
        f"| searches/s, {b.get('conns')} connections, {b.get('secs')} s, through nginx and the API "
        f"| {fmt_int(w.get('rps'))} | — | — |",
        f"| P50 / P95 / P99 / max | {w.get('p50_ms')} / {w.get('p95_ms')} / {w.get('p99_ms')} / "
        f"{w.get('max_ms')} ms | P99 ≤ {SEARCH_P99_MAX:.0f} ms | {verdict(ok)} |",
        f"| answers other than 200 / socket errors and timeouts | {w.get('non2xx')} / "
        f"{sum(w.get(k) or 0 for k in ('connect', 'read', 'write', 'timeout'))} | 0 / 0 | "
        f"{verdict(bad == 0)} |",
        f"| two words (a surname or given name, then a surname's prefix): searches/s; P50 / P99 "
        f"| {fmt_int(w2.get('rps'))}; {w2.get('p50_ms')} / {w2.get('p99_ms')} ms | — | — |",
        f"| the hardest prefix alone (`qui`: every Quispe, Quiroz and Quintana), in SQL "
        f"| {b.get('sql_qui_ms')} ms | — | — |",
        "",
        f"The owners ({load}) carry common Peruvian given names and surnames, so a",
        "prefix of two or three letters matches tens of thousands of them: the",
        f"searches ({fmt_int(b.get('queries'))} of each kind, in a fixed order) are the prefix of a surname,",
        "of a given name or of a pet's name (the target's case), then two words.",
        "Two common words need more rows read: the scan walks the rarer-looking (longer)",
        "word's range and keeps the owners who also have the other, up to 2,000 rows a",
        "page (a page that reaches the bound comes short, with a cursor to go on).",
        "Each answer is a page of 20 owners with their pets and each pet's next",
        "appointment, the contact data opened (AES-256-GCM) by the API, and an audit",
        "row written in the same transaction. The search walks one index",
        "(`propietario_palabras (palabra, propietario_id)`, C collation) from the",
        "prefix in display order and stops at the page's end, so its cost does not",
        f"grow with the matches. CPU busy during the run: {w.get('cpu_busy')} %."]


ICAL_RPS_MIN = 15000            # req/s, each of the two
ICAL_P99_MAX = 10.0             # ms
ICAL_CONNS = 64
ICAL_SUBS = 3000


def ical_row(name, w, target_ok):
    """A row of the feeds' table: req/s and P99 against the targets."""
    bad = (w.get("non2xx") or 0) + sum(w.get(k) or 0 for k in ("connect", "read", "write",
                                                               "timeout"))
    ok = target_ok and num_ge(w.get("rps"), ICAL_RPS_MIN) and \
        num_le(w.get("p99_ms"), ICAL_P99_MAX) and bad == 0
    return (f"| {name} | {fmt_int(w.get('rps'))} req/s, P99 {w.get('p99_ms')} ms "
            f"(P50 {w.get('p50_ms')}, max {w.get('max_ms')}); errors {bad} "
            f"| ≥ {fmt_int(ICAL_RPS_MIN)} req/s, P99 ≤ {ICAL_P99_MAX:.0f} ms, 0 errors "
            f"| {verdict(ok)} |")


def ical_section(b):
    """The section of bench/ical.py's figures (ical.json), or []."""
    if not b:
        return []
    c, f = b.get("cond", {}), b.get("full", {})
    sized = num_ge(b.get("subs"), ICAL_SUBS) and b.get("conns") == ICAL_CONNS
    return [
        "",
        "## Calendar feeds",
        "",
        f"Measured by `bench/ical.py` (`make bench-ical`) on **{b.get('date', 'n/a')}**, "
        f"{b.get('nproc', 'n/a')} CPUs.",
        f"The question (from the issue): calendar clients poll every few minutes; do "
        f"{fmt_int(ICAL_SUBS)} vets' subscriptions",
        f"cost nothing? A conditional `GET` (304) and a full one, at {ICAL_CONNS} connections.",
        "",
        "| | measured | target | verdict |",
        "| --- | --- | --- | --- |",
        f"| subscriptions polled in turn (feeds of {b.get('vets')} vets, {b.get('citas')} "
        f"appointments each, {fmt_int(b.get('feed_bytes'))} bytes a feed) "
        f"| {fmt_int(b.get('subs'))} | ≥ {fmt_int(ICAL_SUBS)} | — |",
        ical_row(f"`If-None-Match` with the feed's ETag → 304, {b.get('secs')} s", c, sized),
        ical_row(f"plain `GET` → 200, the whole feed, {b.get('secs')} s", f, sized),
        "",
        "nginx serves each feed as a file: `deploy/ical.js` (njs) turns the URL's",
        "token into its SHA-256, the name of the link the calendar consumer made to",
        "the feed the worker's writer keeps; no FastCGI, no SQL per poll. ETag and",
        "Last-Modified are the file's, which the writer rewrites only when its bytes",
        f"change (it wrote the {b.get('feeds')} feeds in {b.get('write_s')} s). CPU busy during the runs: "
        f"{c.get('cpu_busy')} % and {f.get('cpu_busy')} % (wrk itself included)."]


class Report:
    def __init__(self, fig, relay=None, busqueda=None, ical=None):
        self.relay = relay
        self.busqueda = busqueda
        self.ical = ical
        self.f = fig
        s = fig.settings
        self.s = s
        self.vd = fig.verdicts()
        self.C = fmt_int(s["conns"])
        d = s["default_threads"]
        self.desc = {
            fig.run_low: f"unix socket, keep-conn off, 2 × {s['matrix_low']} threads",
            fig.run_def: f"unix socket, keep-conn off, 2 × {d} threads (current default)",
            fig.run_high: f"unix socket, keep-conn off, 2 × {s['matrix_high']} threads",
            fig.run_tcp: f"TCP 127.0.0.1, keep-conn off, 2 × {d} threads",
            fig.run_keep: f"unix socket, fastcgi_keep_conn on + keepalive 32, 2 × {d} threads",
            fig.run_keeplong: f"the same keep-conn configuration over {s['keep_long_secs']} s "
                              "(longer than fastcgi_read_timeout 60 s)",
        }
        where = "(lib/config.c, ci/stack.sh, the README table, DEFAULT_THREADS in bench/run.py)"
        keep = "turn fastcgi_keep_conn on with an upstream keepalive cache (not advised: see the probe)"
        self.change = {
            fig.run_low: f"make {s['matrix_low']} the default of VETRED_API_THREADS {where}",
            fig.run_def: "nothing",
            fig.run_high: f"make {s['matrix_high']} the default of VETRED_API_THREADS {where}; "
                          f"PostgreSQL then needs 2 × {s['matrix_high']} connections per host",
            fig.run_tcp: "listen on TCP (VETRED_API_SOCKET=127.0.0.1:PORT) and write "
                         "'server 127.0.0.1:PORT ...' upstream lines in ci/stack.sh",
            fig.run_keep: keep,
            fig.run_keeplong: keep,
        }

    # -- the FastCGI choices

    def conclusion(self):
        f, s, dflt = self.f, self.s, self.f.run_def
        best = f.best()
        if f.is_clean(dflt):
            out = [
                "**Kept: the current default — unix sockets, `fastcgi_keep_conn off`, "
                f"2 processes × {s['default_threads']} threads.**",
                f"At {self.C} client connections it answered every request with 200:",
                "no 502/503/504 from nginx, no socket error or wrk timeout, and the "
                "light-load probe right after it was clean",
                f"({f.v(dflt, 'rps')} req/s, P95 {f.v(dflt, 'p95_ms')} ms, P99 {f.v(dflt, 'p99_ms')} ms).",
                "Nothing to change."]
            if best and best != dflt and f.get(best, "rps", 0) > 1.2 * f.get(dflt, "rps", 0):
                out += [
                    "",
                    f"`{best}` ({self.desc[best]}) was also clean, at {f.ratio(best, dflt)} of the default's",
                    "throughput. Differences of this size are within the noise of a shared 2-core machine:",
                    f"re-run `make bench` on a quiet machine before switching. To switch: {self.change[best]}."]
            return out
        if best:
            return [
                f"**The current default (unix, keep-conn off, 2 × {s['default_threads']} threads) "
                f"is NOT clean at {self.C} connections:**",
                f"{f.gw5xx(dflt)} gateway errors (502/503/504 from nginx), {f.sockerr(dflt)} "
                f"socket errors/timeouts, {f.v(dflt, 'non2xx')} non-2xx,",
                f"post-load probe {f.probe(dflt)}.",
                "",
                f"**Kept: `{best}` — {self.desc[best]}** (clean; {f.v(best, 'rps')} req/s, "
                f"P95 {f.v(best, 'p95_ms')} ms).",
                f"Lead: {self.change[best]}."]
        return [
            f"**No configuration was clean at {self.C} connections** (each had gateway errors, "
            "socket errors or a failed probe).",
            "Nothing is kept on these figures; re-run on a quiet machine and look at the nginx "
            "error log excerpts in",
            "`var/bench/results/*.nginx-errors.txt` before changing the default."]

    def choices(self):
        f, s = self.f, self.s
        lo, d, hi, tcp, keep, kl = (f.run_low, f.run_def, f.run_high, f.run_tcp,
                                    f.run_keep, f.run_keeplong)
        c = lambda r: yes_no(f.is_clean(r))
        out = [
            f"- **keep-conn**: off (the default) clean: {c(d)}; on: clean {c(keep)}, stalled",
            f"  {f.v(keep, 'stalled')} % of the connection-time in {s['matrix_secs']} s and, "
            f"over {s['keep_long_secs']} s, answered",
            f"  {f.v(kl, 's503gw')} requests with nginx's own 503 — see below.",
            f"- **unix socket vs TCP** (2 × {s['default_threads']} threads, keep-conn off): "
            f"{f.v(d, 'rps')} vs {f.v(tcp, 'rps')} req/s",
            f"  (TCP at {f.ratio(tcp, d)}), P99 {f.v(d, 'p99_ms')} vs {f.v(tcp, 'p99_ms')} ms;",
            f"  clean: unix {c(d)}, TCP {c(tcp)}. TCP costs a loopback",
            "  handshake and teardown per request; it is only needed when nginx and the API",
            "  run on different hosts.",
            f"- **threads per process** (unix, keep-conn off): {s['matrix_low']} / "
            f"{s['default_threads']} / {s['matrix_high']} threads gave",
            f"  {f.v(lo, 'rps')} / {f.v(d, 'rps')} / {f.v(hi, 'rps')} req/s, P99 "
            f"{f.v(lo, 'p99_ms')} / {f.v(d, 'p99_ms')} / {f.v(hi, 'p99_ms')} ms;",
            f"  clean: {c(lo)} / {c(d)} / {c(hi)}; CPU during the runs",
            f"  {f.v(lo, 'cpu')} / {f.v(d, 'cpu')} / {f.v(hi, 'cpu')} %: on 2 cores the CPUs, "
            "not the threads, are the limit.",
            f"  Each thread also holds a PostgreSQL connection; RSS per process: "
            f"{f.v(lo, 'rss')} at {s['matrix_low']},",
            f"  {f.v(hi, 'rss')} at {s['matrix_high']}."]
        noisy = self.noisy(["nginx64", "health64", "sede64"] + f.matrix)
        if noisy:
            out += ["",
                    f"Other work used more than {NOISY_OTHERS} % of the CPUs during: {noisy} — "
                    "those figures are the least",
                    "reliable; compare them again on a quiet machine."]
        return out

    def noisy(self, runs):
        return ", ".join(f"`{c}` ({self.f.get(c, 'others')} %)" for c in runs
                         if self.f.i(c, "others") > NOISY_OTHERS)

    def keep_text(self):
        f, s = self.f, self.s
        k, d, kl = f.run_keep, f.run_def, f.run_keeplong
        out = [
            f"With keep-conn on and `keepalive 32`, nginx served {f.v(k, 'rps')} req/s against",
            f"{f.v(d, 'rps')} req/s for the default ({f.ratio(k, d)}): reused connections skip the",
            f"connect/accept per request. But after the run {f.v(k, 'pinned')} API connections stayed open",
            f"while idle (the default: {f.v(d, 'pinned')}) for 2 × {s['default_threads']} = "
            f"{s['api_procs'] * s['default_threads']} threads: each pins its thread in",
            "libfcgi, blocked reading the next request that may never come. A request that needs a",
            "new connection then waits in the listen backlog until nginx closes an idle one",
            "(upstream keepalive timeout 60 s) or until `fastcgi_read_timeout` (60 s) ends it (the",
            f"longer run below). Measured: {f.v(k, 'stalled')} % of the connection-time stalled (default:",
            f"{f.v(d, 'stalled')} %), {f.v(k, 'timeout')} wrk timeouts and a slowest completed response of",
            f"{f.v(k, 'max_ms')} ms (default: {f.v(d, 'timeout')}, {f.v(d, 'max_ms')} ms); the probe after it:",
            f"{f.probe(k)} (default: {f.probe(d)}).",
            "The fast median of the responses that did arrive hides the connections that got none.",
            "",
            f"Over {s['keep_long_secs']} s, longer than `fastcgi_read_timeout` (60 s): "
            f"{f.v(kl, 's503gw')} of",
            f"{f.v(kl, 'requests')} responses were nginx's own 503 (a 502 rewritten by `error_page`),",
            f"{f.v(kl, 's502')} were 502 and {f.v(kl, 's504')} were 504; wrk counted "
            f"{f.v(kl, 'timeout')} timeouts; nginx logged",
            f"{f.v(kl, 'ngx_timedout')} \"upstream timed out\" and {f.v(kl, 'ngx_nolive')} "
            "\"no live upstreams\"."]
        if f.i(kl, "ngx_nolive") > 0:
            out += [
                "Connections that cannot be handed over while every thread is pinned count as",
                "failures for `max_fails`/`fail_timeout`, so both API processes drop out of the",
                "upstream for 2 s at a time, and every request in those windows is answered 503 at",
                "once (the req/s of that row counts those errors)."]
        if f.i(kl, "s504") == 0 and f.i(kl, "s503gw") > 0:
            out += [
                "No 504 reached the clients: a timed-out request is retried on the other process",
                "(`fastcgi_next_upstream timeout`), and when none is live nginx answers 502, which",
                "`error_page 502 503 =503` turns into 503."]
        return out

    def keepalive_vs_threads(self):
        cache = self.f.machine.get("ngx_workers", 0) * 32
        threads = self.s["api_procs"] * self.s["default_threads"]
        if cache > threads:
            return [f"more than the {threads} API threads,",
                    "  so every thread can end up pinned by an idle connection."]
        if cache == threads:
            return [f"as many as the {threads} API threads,",
                    "  so every thread can end up pinned by an idle connection."]
        return [f"fewer than the {threads} API threads,",
                f"  so up to {cache} of them can end up pinned by idle connections."]

    def matrix_row(self, c):
        f = self.f
        other = f.i(c, "non2xx") - f.gw5xx(c)
        cells = [self.desc[c]] + [f.v(c, k) for k in (
            "rps", "p50_ms", "p95_ms", "p99_ms", "max_ms", "stalled", "s502", "s503gw", "s504")] + \
            [str(other), f.sockerr_txt(c), yes_no(f.floor_ok(c))]
        return "| " + " | ".join(cells) + " |"

    def after_row(self, c):
        f = self.f
        log = (f"{f.v(c, 'ngx_errors')} ({f.v(c, 'ngx_timedout')}/{f.v(c, 'ngx_nolive')}/"
               f"{f.v(c, 'ngx_connect')}/{f.v(c, 'ngx_closed')})")
        cells = [self.desc[c], f.probe(c), f.v(c, "pinned"), log, f.v(c, "rss"),
                 f"{f.v(c, 'cpu')} / {f.v(c, 'others')}"]
        return "| " + " | ".join(cells) + " |"

    def short_row(self, c, what, ref):
        f = self.f
        cells = [what] + [f.v(c, k) for k in ("rps", "p50_ms", "p90_ms", "p99_ms", "non2xx")] + \
            [f.sockerr_txt(c), f"{f.v(c, 'cpu')} / {f.v(c, 'others')}", ref]
        return "| " + " | ".join(cells) + " |"

    # -- the booking section

    def booking_table(self):
        f, s, vd = self.f, self.s, self.vd
        v = f.v
        U = fmt_int(s["conns"])
        b = f.runs.get("book", {})
        return [
            "| | measured | target | Python reference | verdict |",
            "| --- | ---: | ---: | ---: | --- |",
            f"| **Users model** ({U} connections, think time 0.5–1.5 s, {s['book_users_secs']} s): "
            f"bookings/s | {v('users', 'rps')} | ≈ {U} offered | — | — |",
            f"| users model: P95 | {v('users', 'p95_ms')} ms | ≤ {T['users_p95'].limit} ms | — | "
            f"{verdict(vd['users_p95'])} |",
            f"| users model: P99 | {v('users', 'p99_ms')} ms | ≤ {T['users_p99'].limit} ms | "
            f"{PY_USERS_P99} ms | {verdict(vd['users_p99'])} |",
            f"| users model: responses other than 201 / socket errors and timeouts | "
            f"{f.errs_txt('users')} | 0 / 0 | — | {verdict(vd['users_err'])} |",
            f"| users model: end to end, a booking's commit → a consumer holds its "
            f"`cita.reservada` ({fmt_int(f.get('e2e', 'commits'))} events, through the relay and a "
            f"quorum queue): P50 / P99 | {v('e2e', 'p50_ms')} / {v('e2e', 'p99_ms')} ms | "
            f"≤ {T['e2e_p50'].limit} / ≤ {T['e2e_p99'].limit} ms | — | {verdict(vd['e2e'])} |",
            f"| the same from the booking transaction's start (`ocurrido_en`, so the booking's "
            f"own time included; {fmt_int(f.get('e2e', 'messages'))} events): P50 / P99 | "
            f"{v('e2e', 'start_p50_ms')} / {v('e2e', 'start_p99_ms')} ms | — | — | — |",
            f"| **Saturation**, 64 connections, no think time ({s['book_sat_secs']} s): bookings/s "
            f"through nginx + API | {fmt_int(f.get('sat64', 'rps'))} (P99 {v('sat64', 'p99_ms')} ms) | "
            f"≥ {T['sat_ratio'].limit} % of pgbench | ~{fmt_int(PY_SAT_RPS)} | — |",
            f"| pgbench, 64 clients, the same `SELECT reservar_cita(…)` ({s['book_sat_secs']} s) | "
            f"{fmt_int(f.get('pgb64', 'rps'))} tps (mean {v('pgb64', 'mean_ms')} ms) | — | — | — |",
            f"| saturation: HTTP bookings/s ÷ pgbench tps | {v('sat', 'ratio')} % | "
            f"≥ {T['sat_ratio'].limit} % | — | {verdict(vd['sat'])} |",
            f"| pgbench, 64 clients, the minimal booking transaction (`bench/booking_minimal.pgbench`: "
            f"idempotency row, exclusion-checked insert, outbox row; {s['book_sat_secs']} s) | "
            f"{fmt_int(f.get('pgmin64', 'rps'))} tps (mean {v('pgmin64', 'mean_ms')} ms) | — | — | — |",
            f"| booking cost: `reservar_cita` tps ÷ minimal booking tps (pgbench, 64 clients) | "
            f"{v('min', 'ratio')} % ({v('pgmin64', 'failed')} failed) | "
            f"≥ {T['min_ratio'].limit} % | — | {verdict(vd['min'])} |",
            f"| saturation: non-201 / socket errors (HTTP); failed transactions (pgbench) | "
            f"{f.errs_txt('sat64')}; {v('pgb64', 'failed')} | 0 | — | {verdict(vd['sat_err'])} |",
            f"| **Reads** `GET /api/v1/citas/{{id}}`, 64 connections ({s['read_secs']} s): req/s | "
            f"{fmt_int(f.get('read64', 'rps'))} | ≥ {fmt_int(T['read_rps'].limit)} | "
            f"{fmt_int(PY_READ_RPS)} | {verdict(vd['read_rps'])} |",
            f"| reads: P99 | {v('read64', 'p99_ms')} ms | ≤ {T['read_p99'].limit} ms | — | "
            f"{verdict(vd['read_p99'])} |",
            f"| reads: responses other than 200 / socket errors | {f.errs_txt('read64')} | 0 / 0 | — | "
            f"{verdict(vd['read_err'])} |",
            f"| nginx alone, `GET /_nginx`, 64 connections (this run, {s['short_secs']} s) | "
            f"{fmt_int(f.get('nginx64', 'rps'))} req/s (P99 {v('nginx64', 'p99_ms')} ms) | — | — | — |",
            f"| citas rows = 201 answers | HTTP: {fmt_int(b.get('rows_http'))} rows, "
            f"{fmt_int(b.get('api201'))} answered 201 by the API, {fmt_int(b.get('wrk201'))} seen by wrk; "
            f"pgbench: {fmt_int(b.get('rows_pgb'))} rows for {fmt_int(b.get('pgb_tx'))} transactions | "
            f"equal | — | {verdict(vd['count'])} |"]

    def pgu_verdict(self, c):
        f = self.f
        if num_le(f.get(c, "p95_ms"), T["users_p95"].limit) and \
                num_le(f.get(c, "p99_ms"), T["users_p99"].limit):
            return " — within the targets, so the HTTP path's extra CPU is what pushes the tail out"
        return " — already outside the targets without any HTTP"

    def misses(self):
        f, s, vd, v, us = self.f, self.s, self.vd, self.f.v, self.f.us
        out = []
        if not (vd["users_p95"] and vd["users_p99"] and vd["users_err"]):
            out += [
                f"- **Users model missed**: P95 {v('users', 'p95_ms')} ms and P99 {v('users', 'p99_ms')} ms "
                f"against ≤ {T['users_p95'].limit} / ≤ {T['users_p99'].limit} ms",
                f"  ({f.errs_txt('users')} non-201 / socket errors). Each booking cost "
                f"{f.cpu_total('users')} µs of CPU in all — PostgreSQL",
                f"  {us('users', 'pg')} µs, nginx {us('users', 'nginx')} µs, the API {us('users', 'api')} µs, "
                f"wrk {us('users', 'client')} µs — so at {v('users', 'rps')}",
                f"  bookings/s the 2 CPUs were {v('users', 'cpu')} % busy (others {v('users', 'others')} %) "
                "and requests queue. PostgreSQL",
                f"  alone, one client and nothing else running, takes {v('pgb1', 'mean_ms')} ms per booking "
                "(pgbench, commit",
                f"  included); at the users model's rate on the API's {v('pgu', 'clients')} connections "
                "PostgreSQL alone",
                f"  (pgbench -R, no HTTP) answered with P50 {v('pgu', 'p50_ms')} ms, P95 {v('pgu', 'p95_ms')} ms, "
                f"P99 {v('pgu', 'p99_ms')} ms{self.pgu_verdict('pgu')}.",
                f"  The active backends sampled during the users run: {f.waits('users')};",
                f"  a WAL flush took {v('users', 'wal_sync_ms')} ms on average ({v('users', 'wal_syncs')} "
                "flushes per booking; one commit",
                f"  waits for the flush in progress, then for its own); {v('users', 'ckpt')} checkpoint(s) "
                "started during the run."]
            pg = f.cpu_us("users", "pg")
            rest = sum(f.cpu_us("users", g) or 0 for g in ("nginx", "api", "client"))
            if pg is not None and pg > rest:
                out += [
                    f"  The time goes to the booking transaction in PostgreSQL — {pg} µs of CPU each under this",
                    "  concurrency, and commits queueing for the WAL flush (`LWLock:WALWrite`, "
                    "`IO:WALSync` above) —",
                    "  more than to nginx, the API and wrk together."]
            else:
                out.append("  nginx, the API and wrk together use more CPU per booking than PostgreSQL.")
            if f.has("alt_users"):
                n = s["api_procs"] * s["alt_threads"]
                out += [
                    f"  With 2 × {s['alt_threads']} API threads ({n} PostgreSQL connections) the same load "
                    f"gave P95 {v('alt_users', 'p95_ms')} ms,",
                    f"  P99 {v('alt_users', 'p99_ms')} ms; PostgreSQL alone on {n} connections at that rate: "
                    f"P95 {v('pgu_alt', 'p95_ms')} ms,",
                    f"  P99 {v('pgu_alt', 'p99_ms')} ms (below)."]
        if not (vd["sat"] and vd["sat_err"]):
            out += [
                f"- **Saturation missed**: {v('sat64', 'rps')} bookings/s through HTTP against "
                f"{v('pgb64', 'rps')} tps for pgbench ({v('sat', 'ratio')} %,",
                f"  target ≥ {T['sat_ratio'].limit} %). CPU per booking: HTTP path nginx "
                f"{us('sat64', 'nginx')} + API {us('sat64', 'api')} + wrk {us('sat64', 'client')} µs",
                f"  on top of PostgreSQL's {us('sat64', 'pg')} µs (pgbench: PostgreSQL {us('pgb64', 'pg')} µs "
                f"+ pgbench {us('pgb64', 'client')} µs)."]
        if not vd["min"]:
            out += [
                f"- **Booking cost missed**: `reservar_cita` did {v('pgb64', 'rps')} tps against "
                f"{v('pgmin64', 'rps')} tps for the minimal booking",
                f"  transaction on the same server ({v('min', 'ratio')} %, target ≥ {T['min_ratio'].limit} %; "
                f"{v('pgmin64', 'failed')} failed); PostgreSQL's CPU per",
                f"  transaction {us('pgb64', 'pg')} µs against {us('pgmin64', 'pg')} µs, WAL "
                f"{v('pgb64', 'wal_bytes')} against {v('pgmin64', 'wal_bytes')} bytes."]
        if not (vd["read_rps"] and vd["read_p99"] and vd["read_err"]):
            n = f.nproc()
            budget = 1000000 * n // T["read_rps"].limit
            http = sum(f.cpu_us("read64", g) or 0 for g in ("nginx", "api", "client"))
            out += [
                f"- **Reads missed**: {fmt_int(f.get('read64', 'rps'))} req/s with P99 {v('read64', 'p99_ms')} ms "
                f"against ≥ {fmt_int(T['read_rps'].limit)} req/s and ≤ {T['read_p99'].limit} ms.",
                f"  At {fmt_int(T['read_rps'].limit)} req/s, {n} CPUs leave {budget} µs of CPU per read for "
                f"everything. A read cost {f.cpu_total('read64')} µs:",
                f"  PostgreSQL {us('read64', 'pg')} µs, nginx {us('read64', 'nginx')} µs, the API "
                f"{us('read64', 'api')} µs, wrk {us('read64', 'client')} µs",
                f"  (all CPUs {v('read64', 'cpu')} % busy). nginx + API + wrk alone take {http} µs;",
                f"  PostgreSQL alone (pgbench, 64 clients, no HTTP) answered {fmt_int(f.get('pgr64', 'rps'))} "
                "reads of the stored document/s",
                f"  at {us('pgr64', 'pg')} µs of its CPU each. The read is CPU-bound on these {n} cores: "
                "the target needs",
                "  the whole path to cost what PostgreSQL alone costs now."]
            if f.has("alt_read64"):
                out.append(f"  With 2 × {s['alt_threads']} API threads: {fmt_int(f.get('alt_read64', 'rps'))} "
                           f"req/s, P99 {v('alt_read64', 'p99_ms')} ms (below).")
        if not vd["count"]:
            out += [
                f"- **Row count mismatch**: {v('book', 'rows_http')} HTTP rows vs {v('book', 'api201')} 201s "
                f"from the API ({v('book', 'wrk201')} seen by wrk,",
                f"  at most {v('book', 'inflight_max')} in flight when runs ended); {v('book', 'rows_pgb')} "
                f"pgbench rows vs {v('book', 'pgb_tx')} transactions;",
                f"  {v('book', 'rows_explain')} rows left by the rolled-back EXPLAIN."]
        if not out:
            out.append("Every target was met.")
        if num_le(f.get("pgb64", "rps"), PY_SAT_RPS):
            out += [
                "",
                f"Note on the Python reference: its ~{fmt_int(PY_SAT_RPS)} bookings/s at 64 connections "
                "is more than",
                "PostgreSQL alone did here with this booking statement (pgbench, 64 clients: "
                f"{fmt_int(f.get('pgb64', 'rps'))} tps), so it",
                "cannot have run the same transaction (rules, 3 exclusion constraints, audit and outbox rows,",
                "durable commit) on this machine; compare the ratio to pgbench rather than the absolute figure."]
        noisy = self.noisy(["users", "sat64", "pgb64", "read64"])
        if noisy:
            out += ["",
                    f"Other work used more than {NOISY_OTHERS} % of the CPUs during: {noisy} — "
                    "re-run on a quiet machine."]
        return out

    def run_row(self, c, what):
        f = self.f
        cells = [what, fmt_int(f.get(c, "rps"))] + \
            [f.v(c, k) for k in ("p50_ms", "p90_ms", "p95_ms", "p99_ms", "max_ms", "non2xx")] + \
            [f.sockerr_txt(c), f"{f.v(c, 'cpu')} / {f.v(c, 'others')}",
             " / ".join(f.cpu_pct(c, g) for g in ("nginx", "api", "pg", "client"))]
        return "| " + " | ".join(cells) + " |"

    def pgb_row(self, c, what):
        f = self.f
        return (f"| {what} | {fmt_int(f.get(c, 'rps'))} | mean {f.v(c, 'mean_ms')} | | | | | "
                f"{f.v(c, 'failed')} failed | | {f.v(c, 'cpu')} / {f.v(c, 'others')} | "
                + " / ".join(f.cpu_pct(c, g) for g in ("nginx", "api", "pg", "client")) + " |")

    def cpu_row(self, c, what):
        f = self.f
        xs = [f.cpu_us(c, g) for g in ("nginx", "api", "pg", "rmq", "client", "others")]
        cells = [what, fmt_int(f.get(c, "rps"))] + ["n/a" if x is None else str(x) for x in xs] + \
            [str(sum(x for x in xs if x is not None))]
        return "| " + " | ".join(cells) + " |"

    @staticmethod
    def stage_row(what, book, read):
        cell = lambda x: " / ".join(x) if x else "—"
        return f"| {what} | {cell(book)} | {cell(read)} |"

    def timing(self, c, t):
        x = self.f.get(c, t)
        if x is None:
            return None
        if not x:
            return ["n/a"] * 3
        return [f"{x[0]:.2f}", f"{x[1]:.0f}", f"{x[2]:.0f}"]

    def alt_row(self, u, sat, rd, what):
        f, v = self.f, self.f.v
        return (f"| {what} | {v(u, 'rps')} | {v(u, 'p50_ms')} / {v(u, 'p95_ms')} / {v(u, 'p99_ms')} | "
                f"{f.errs_txt(u)}; {v(u, 'ckpt')} | {fmt_int(f.get(sat, 'rps'))} (P99 {v(sat, 'p99_ms')} ms) | "
                f"{fmt_int(f.get(rd, 'rps'))} (P99 {v(rd, 'p99_ms')} ms) |")

    def alt_section(self):
        f, s, v = self.f, self.s, self.f.v
        if not f.has("alt_users"):
            return []
        at, dt = s["alt_threads"], s["default_threads"]
        conns = s["api_procs"] * at
        more_fewer = "fewer" if at < dt else "more"
        sat = pct(f.get("alt_sat64", "rps"), f.get("pgb64", "rps"))
        return [
            "",
            f"### With {more_fewer} API threads: 2 × {at} instead of 2 × {dt}",
            "",
            "Each API thread holds one PostgreSQL connection. The same runs, shorter",
            f"(users model {s['alt_secs']} s, saturation and reads {(s['alt_secs'] + 1) // 2} s), after "
            "`ci/stack.sh start` with",
            f"`VETRED_API_THREADS={at}`: {conns} PostgreSQL connections instead of {s['api_procs'] * dt}.",
            "",
            "| API threads | users model bookings/s | users P50 / P95 / P99 ms | users non-201 / socket "
            "errors; checkpoints | saturation bookings/s | reads req/s |",
            "| --- | ---: | ---: | ---: | ---: | ---: |",
            self.alt_row("users", "sat64", "read64", f"2 × {dt} (default; runs above)"),
            self.alt_row("alt_users", "alt_sat64", "alt_read64", f"2 × {at}"),
            "",
            f"Users model with 2 × {at}: P95 {verdict(f.met(T['users_p95'], 'alt_users'))}, "
            f"P99 {verdict(f.met(T['users_p99'], 'alt_users'))};",
            f"saturation at {'n/a' if sat is None else sat} % of pgbench's 64 clients; reads "
            f"{verdict(f.met(T['read_rps'], 'alt_read64'))} (≥ {fmt_int(T['read_rps'].limit)} req/s).",
            f"Rows booked: {v('alt', 'rows')}, 201s answered by the API: {v('alt', 'api201')}; "
            f"RSS per API process: {v('alt', 'rss')}.",
            "",
            f"PostgreSQL alone on {conns} connections (pgbench, no HTTP): {fmt_int(f.get('pgb_alt', 'rps'))} "
            "bookings/s at saturation",
            f"(64 clients: {fmt_int(f.get('pgb64', 'rps'))}); at the users model's rate "
            f"({v('pgu_alt', 'rps')}/s) P50 {v('pgu_alt', 'p50_ms')} ms,",
            f"P95 {v('pgu_alt', 'p95_ms')} ms, P99 {v('pgu_alt', 'p99_ms')} ms{self.pgu_verdict('pgu_alt')} "
            f"(on {v('pgu', 'clients')}",
            f"connections: P95 {v('pgu', 'p95_ms')} ms, P99 {v('pgu', 'p99_ms')} ms)."]

    def commands(self, names):
        return [f"{c + ':':<9} {self.f.cmd.get(c) or 'not run'}" for c in names]

    def booking_section(self):
        f, s, v = self.f, self.s, self.f.v
        U = fmt_int(s["conns"])
        nested = lambda c: (f.get(c, "nested") or "(not available)").rstrip("\n")
        pb, pr = "prof_book", "prof_read"
        out = [
            "## Booking",
            "",
            "The question (from the issue): can one 2-core machine take the clinics'",
            "bookings — a **users model** of 1,000 open connections each booking about once",
            f"a second (P95 ≤ {T['users_p95'].limit} ms, P99 ≤ {T['users_p99'].limit} ms, zero errors), "
            "**saturation** close to what",
            f"PostgreSQL does alone with the same statement (≥ {T['sat_ratio'].limit} % of pgbench at 64",
            f"connections), and **reads** of an appointment at ≥ {fmt_int(T['read_rps'].limit)} req/s with "
            f"P99 ≤ {T['read_p99'].limit} ms?",
            "Python reference from the issue: FastAPI + asyncpg + uvicorn, 2 workers, on",
            "the same kind of 2-core machine.",
            ""] + self.booking_table() + [
            "",
            "### Verdict",
            ""] + self.misses() + [
            "",
            "### Runs",
            "",
            f"Every booking is a distinct valid slot: slot k is vet k mod {s['nvets']}, start = the",
            f"next local midnight + (k div {s['nvets']}) × 15 min, 10 minutes long, patient k mod",
            f"{fmt_int(s['npac'])}, on a bench site (`BEN-01`, America/Lima) created by SQL after the",
            f"stack starts: {s['nvets']} vets working there 24/7 from today and {fmt_int(s['npac'])} "
            "patients with one",
            "owner each. Each wrk thread and each pgbench client books its own",
            "interleaved slots, and every run takes a fresh range. wrk's latency starts",
            "when a request is sent (the think time is not in it). CPU columns: share of",
            "all CPUs used by nginx / the API processes / PostgreSQL / the client (wrk or",
            "pgbench) during the run.",
            "",
            "| run | req/s | P50 ms | P90 ms | P95 ms | P99 ms | max ms | not 201 (200 for reads) | "
            "socket errors c/r/w/timeout | CPU % all / others | CPU % nginx / API / PG / client |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            self.run_row("users", f"users model, {U} connections, think 0.5–1.5 s"),
            self.run_row("sat64", "saturation, 64 connections"),
            self.pgb_row("pgb64", "pgbench, 64 clients, `reservar_cita` alone"),
            self.pgb_row("pgmin64", "pgbench, 64 clients, the minimal booking transaction"),
            self.run_row("read64", "reads, 64 connections"),
            self.run_row("nginx64", "nginx alone `/_nginx`, 64 connections"),
            "",
            f"RSS per API process after the booking runs: {v('book', 'rss')} (the FastCGI",
            "matrix below restarts them). The audit sealing (every 2 s, one process,",
            "as in `make run`) up to the end of the reads: "
            f"{f.sealer()}. Checkpoints started during the users model /",
            f"saturation / pgbench / reads: {v('users', 'ckpt')} / {v('sat64', 'ckpt')} / "
            f"{v('pgb64', 'ckpt')} / {v('read64', 'ckpt')}."] + self.alt_section() + [
            "",
            "### Where the time goes",
            "",
            "CPU time per request of each part, in µs (ticks of /proc/PID/stat during",
            "the run ÷ requests; \"client\" is wrk or pgbench, \"others\" anything else on",
            "the machine):",
            "",
            "| run | req/s | nginx | API | PostgreSQL | RabbitMQ | client | others | total |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |",
            self.cpu_row("users", f"users model ({U} conn.)"),
            self.cpu_row("sat64", "saturation, HTTP (64 conn.)"),
            self.cpu_row("pgb64", "saturation, pgbench (64 clients)"),
            self.cpu_row("read64", "reads, HTTP (64 conn.)"),
            self.cpu_row("pgr64", "reads, pgbench, the GET statement (64 clients)"),
            "",
            f"Latency by stage at 64 connections ({s['profile_secs']} s each, with a temporary nginx",
            "access log of its own timings; ms, mean / P50 / P99 — nginx logs whole",
            f"milliseconds): {v(pb, 'rps')} bookings/s and {fmt_int(f.get(pr, 'rps'))} reads/s in these runs.",
            "",
            "| stage | booking | read |",
            "| --- | ---: | ---: |",
            self.stage_row("wrk: request sent → response read",
                           [v(pb, "mean_ms"), v(pb, "p50_ms"), v(pb, "p99_ms")],
                           [v(pr, "mean_ms"), v(pr, "p50_ms"), v(pr, "p99_ms")]),
            self.stage_row("nginx `$request_time`", self.timing(pb, "t3"), self.timing(pr, "t3")),
            self.stage_row("nginx `$upstream_response_time` (connect to the API → its last byte)",
                           self.timing(pb, "t4"), self.timing(pr, "t4")),
            self.stage_row("nginx `$upstream_connect_time`", self.timing(pb, "t5"), self.timing(pr, "t5")),
            self.stage_row("nginx `$upstream_header_time`", self.timing(pb, "t6"), self.timing(pr, "t6")),
            self.stage_row("API handler, its own /metrics (mean only)",
                           [v(pb, "api_book_ms")], [v(pr, "api_read_ms")]),
            self.stage_row("PostgreSQL alone, 1 client, nothing else running (pgbench mean)",
                           [v("pgb1", "mean_ms")], [v("pgr1", "mean_ms")]),
            self.stage_row(f"PostgreSQL alone at the users model's rate ({v('pgu', 'rps')}/s) on "
                           f"{v('pgu', 'clients')} connections (pgbench -R; P50 / P95 / P99)",
                           [v("pgu", "p50_ms"), v("pgu", "p95_ms"), v("pgu", "p99_ms")], None),
            "",
            f"The API handler's mean during the long runs: users model {v('users', 'api_book_ms')} ms,",
            f"saturation {v('sat64', 'api_book_ms')} ms, reads {v('read64', 'api_read_ms')} ms.",
            "",
            "PostgreSQL:",
            "",
            f"- alone, 64 clients (pgbench): {fmt_int(f.get('pgb64', 'rps'))} bookings/s, "
            f"{fmt_int(f.get('pgr64', 'rps'))} reads/s (the GET statement);",
            f"  one client: {fmt_int(f.get('pgb1', 'rps'))} bookings/s ({v('pgb1', 'mean_ms')} ms each), "
            f"{fmt_int(f.get('pgr1', 'rps'))} reads/s ({v('pgr1', 'mean_ms')} ms each);",
            f"- WAL per booking — users model / saturation / pgbench: {v('users', 'wal_bytes')} / "
            f"{v('sat64', 'wal_bytes')} / {v('pgb64', 'wal_bytes')} bytes,",
            f"  of which full-page images {v('users', 'wal_fpi')} / {v('sat64', 'wal_fpi')} / "
            f"{v('pgb64', 'wal_fpi')} per booking; WAL flushes per booking",
            f"  {v('users', 'wal_syncs')} / {v('sat64', 'wal_syncs')} / {v('pgb64', 'wal_syncs')} "
            "(below 1: commits sharing a flush), mean flush time",
            f"  {v('users', 'wal_sync_ms')} / {v('sat64', 'wal_sync_ms')} / {v('pgb64', 'wal_sync_ms')} ms "
            "(`pg_stat_wal`, approximate: backends report every second or so);",
            "- what the active backends were doing (`pg_stat_activity` sampled every 100 ms; "
            "\"CPU\" = no wait",
            f"  event): users model: {f.waits('users')}; saturation: {f.waits('sat64')}; "
            f"pgbench: {f.waits('pgb64')};",
            f"  reads: {f.waits('read64')}.",
            "- one booking, `EXPLAIN (ANALYZE, BUFFERS)` in a rolled-back transaction after 5 warm-up",
            f"  calls, {v('exbook', 'how')}: {v('exbook', 'ms')} ms (timing every node adds overhead); "
            "the statements it ran:",
            "",
            "```text",
            nested("exbook"),
            "```",
            "",
            f"  one read (the GET statement) the same way: {v('exread', 'ms')} ms:",
            "",
            "```text",
            nested("exread"),
            "```",
            "",
            "Full outputs: `var/bench/results/explain-*.txt`, `*.waits.txt`, `timing.log`.",
            "",
            "### Commands",
            "",
            "```sh"] + self.commands([
                "bwarm", "users", "sat64", "pgb64", "pgmin64", "read64", "prof_book", "prof_read", "pgb1",
                "pgr64", "pgr1", "pgu", "alt_warm", "alt_users", "alt_sat64", "alt_read64",
                "pgb_alt", "pgu_alt"]) + [
            "```",
            "",
            "`book_users.lua` arguments: site, first vet id, vets, first patient id, patients,",
            "first slot's epoch, first k, wrk threads, think time min and max (ms).",
            "`bwarm` warms the API's connections up (not reported; its bookings count in",
            "the rows); `prof_*`, `pgb1`, `pgr*`, `pgu` are the profile runs (`pgu*`: their first",
            "2 s left out, while their new connections plan their statements); `alt_*` run",
            f"after `ci/stack.sh start` with `VETRED_API_THREADS={s['alt_threads']}`. After the warm-up",
            "`ANALYZE citas, auditoria, outbox`, before the reads `VACUUM (ANALYZE)` of them;",
            "`track_wal_io_timing` on (`ALTER SYSTEM` in this private cluster) when its superuser is at hand."]
        return out

    # -- the whole report

    def render(self):
        f, s, m, v = self.f, self.s, self.f.machine, self.f.v
        d = f.run_def
        C = self.C
        start, end = m.get("start", "n/a"), m.get("end", "n/a")
        clean = ", ".join(f"`{c}`" for c in f.clean_runs()) or "none"
        rps_def = f.i(d, "rps")
        out = [
            "# VetRed load benchmark",
            "",
            f"Generated by `{m.get('generator', 'bench/run.py')}` (`make bench`) on **{start}** "
            f"(finished {end}).",
            "Every figure below is rewritten on each run; do not edit this file by hand."]
        if s.get("quick"):
            out += [
                "",
                f"**Quick mode** (`BENCH_QUICK=1`): runs of a few seconds, {C} connections in place",
                "of 1,000. These figures only show that every scenario runs; they are not a",
                "benchmark: do not commit them."]
        out += [
            "",
            "Two questions: the FastCGI choices (just below) and the booking targets",
            "(section [Booking](#booking)).",
            "",
            "The question (from the issue): libfcgi serves one connection per thread, so",
            "nginx's `fastcgi_keep_conn` pins an idle connection to a thread and can stall",
            "the rest. Measure the choices — unix socket vs TCP, keep-conn on/off, threads",
            "per process — and keep the one with **zero 502/504 at 1,000 client connections**.",
            "",
            "## Conclusion",
            ""] + self.conclusion() + [
            "",
            f"The choices, side by side at {C} connections:",
            ""] + self.choices() + [
            "",
            f"Client floor (per site): P95 ≤ {CLIENT_P95_MS} ms and ≥ {fmt_int(SITE_RPS)} req/s. The default at",
            f"{C} connections on one site: {v(d, 'rps')} req/s, P95 {v(d, 'p95_ms')} ms —",
            f"P95 within the floor, with no error or stall: **{yes_no(f.floor_ok(d))}**; one site at "
            f"≥ {fmt_int(SITE_RPS)} req/s:",
            f"**{yes_no(rps_def >= SITE_RPS)}**; all three demo sites at",
            f"≥ {fmt_int(SITE_RPS)} req/s each at once (≥ {fmt_int(SITES * SITE_RPS)} req/s in total): "
            f"**{yes_no(rps_def >= SITES * SITE_RPS)}**.",
            ""] + self.booking_section() + relay_section(self.relay) + \
            busqueda_section(self.busqueda) + ical_section(self.ical) + [
            "",
            "## The machine",
            "",
            "| | |",
            "| --- | --- |",
            f"| date | {start} – {end} |",
            f"| CPUs (`nproc`) | {m.get('nproc', 'n/a')} |",
            f"| CPU model | {m.get('cpu', 'n/a')} |",
            f"| memory | {m.get('mem', 'n/a')} |",
            f"| OS, kernel | {m.get('os', 'n/a')}, {m.get('kernel', 'n/a')} |",
            f"| nginx | {m.get('nginx', 'n/a')} ({m.get('ngx_workers', 'n/a')} worker processes, "
            "`worker_processes auto`) |",
            f"| PostgreSQL | {m.get('pg', 'n/a')} |",
            f"| wrk | {m.get('wrk', 'n/a')} |",
            f"| open files (`ulimit -n`) | {m.get('nofile', 'n/a')} |",
            f"| `net.core.somaxconn` | {m.get('somaxconn', 'n/a')} (caps the API's listen backlog of 4096) |",
            f"| load average at start / end | {m.get('load0', 'n/a')} / {m.get('load1', 'n/a')} |",
            f"| CPU busy before the stack started (3 s sample, all CPUs) | {m.get('busy0', 'n/a')} % |",
            "",
            "wrk, nginx, the API processes and PostgreSQL all share these CPUs; wrk's Lua",
            "`response()` callback (needed to count the statuses) costs client CPU too.",
            "Each run below reports \"CPU % all / others\": how busy all CPUs were during",
            "the run, and the part used by processes outside this benchmark (anything but",
            "wrk, this stack's nginx, API processes, PostgreSQL and RabbitMQ). When",
            "\"others\" is more than a few per cent, the figures are low and noisy:",
            "re-run `make bench` on a quiet machine.",
            "",
            "## What runs",
            "",
            "`make bench` = `ci/deps.sh`, `make MODE=release all`, `bench/run.py`, which:",
            "",
            "1. starts a private stack with `ci/stack.sh start`:",
            "   `VETRED_STACK_DIR=var/bench VETRED_PG_PORT=16432 VETRED_AMQP_PORT=16672",
            "   VETRED_AMQP_DIST_PORT=16673 VETRED_EPMD_PORT=16369 VETRED_HTTP_PORT=16080",
            "   VETRED_BIN=build/release VETRED_SEED=1 VETRED_API_PROCS=2",
            "   VETRED_RATE_PER_USER=1000000` (demo data: sites 1..3; new audit rows",
            "   chained every 2 s, as in `make run`), nginx from `deploy/nginx.conf.in`; "
            "a fresh database each",
            "   run, migrated from a copy of `db/migrations` taken at the start;",
            "2. warms up for 3 s (not reported), then runs wrk (2 threads, fixed duration,",
            "   127.0.0.1 only) with `bench/status.lua`, which counts responses by status",
            "   (502, 503, 504 one by one) and prints P50/P90/P95/P99;",
            f"3. between the 64-connection runs and the {C}-connection ones, runs the",
            "   booking benchmarks of section [Booking](#booking) (fixtures by SQL, wrk",
            "   with `bench/book_users.lua` and `bench/read_cita.lua`, pgbench with",
            "   `bench/booking.pgbench` and `bench/read_cita.pgbench`; the exact commands",
            "   are listed there);",
            f"4. changes one setting at a time for the {C}-connection runs (thread count",
            "   through `VETRED_API_THREADS` and `ci/stack.sh start`; TCP and keep-conn",
            "   by editing the generated `var/bench/nginx/nginx.conf` and",
            "   `nginx -s reload`; for TCP, two more API processes with",
            "   `VETRED_API_SOCKET=127.0.0.1:16081` and `:16082`), restores the default, and stops the "
            "stack. The",
            f"   keep-conn configuration is also run for {s['keep_long_secs']} s from fresh nginx",
            "   workers: its stalls only turn into errors after `fastcgi_read_timeout`",
            "   (60 s).",
            "",
            "The targets, their limits and the verdicts are in `bench/report.py`, which",
            "writes this file from the figures of the run; the run also keeps them in",
            "`figures.json` beside this file, and `python3 bench/report.py` renders this",
            "file again from that without measuring anything. `BENCH_QUICK=1 make bench`",
            "runs every scenario for a few seconds only, a check that the bench runs: its",
            "report goes to `var/bench/results/README.md`, not here.",
            "",
            "Raw wrk outputs and the nginx error-log lines of each run:",
            "`var/bench/results/`. The exact commands:",
            "",
            "```sh"] + self.commands(["nginx64", "health64", "sede64"] + f.matrix) + [
            f"{'probe:':<9} {f.cmd.get(d + '-probe') or 'not run'}",
            "```",
            "",
            "## 64 connections",
            "",
            "| scenario | req/s | P50 ms | P90 ms | P99 ms | non-2xx | socket errors c/r/w/timeout | "
            "CPU % all / others | compared to |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |",
            self.short_row("nginx64", "nginx alone, `GET /_nginx`",
                           "docs/ARCHITECTURE.md: nginx alone ≈ 41–90k/s on one 2-core machine"),
            self.short_row("health64", "FastCGI, no DB, `GET /health`",
                           f"nginx alone: {f.ratio('health64', 'nginx64')}; docs/ARCHITECTURE.md: "
                           "trivial FastCGI on a unix socket 27–30k/s"),
            self.short_row("sede64", "FastCGI + 1 PK read, `GET /api/v1/sedes/1`",
                           f"`/health`: {f.ratio('sede64', 'health64')}; PostgreSQL PK reads alone "
                           "≈ 53k/s; floor ≥ 1,000 req/s per site"),
            "",
            f"## {C} connections, `GET /api/v1/sedes/1`, {s['matrix_secs']} s each "
            f"(the last row {s['keep_long_secs']} s)",
            "",
            "\"502 / 503 gw / 504\": responses made by nginx itself — a 502 is turned into",
            "a 503 with `Retry-After` by `error_page 502 503 =503 /_problem/503`, so",
            "\"503 gw\" counts nginx's 502s and 503s. \"other non-2xx\": any other non-2xx",
            "(e.g. a 503 from the API when PostgreSQL does not answer). Socket errors are",
            "wrk's connect/read/write/timeout counts; wrk's \"timeout\" counts responses",
            f"that arrived later than {s['wrk_timeout']} — a request still waiting when the run",
            "ends is not counted anywhere by wrk. \"stalled %\" catches those: the share of",
            "connection-time not covered by completed responses, 1 − req/s × mean",
            "latency / connections (Little's law); about 0 when every connection keeps",
            "being served, high when connections sit behind pinned threads. The latency",
            f"percentiles only cover completed responses. \"floor met\": P95 ≤ {CLIENT_P95_MS} ms with",
            "no error, no timeout and no stall.",
            "",
            "| configuration | req/s | P50 ms | P95 ms | P99 ms | max ms | stalled % | 502 | 503 gw | 504 | "
            "other non-2xx | socket errors c/r/w/timeout | floor met |",
            "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |"] + \
            [self.matrix_row(c) for c in f.matrix] + [
            "",
            "Right after each run: \"probe\" = `wrk -t2 -c64 -d3s --timeout 1s` on the same",
            "URL (a light load: an idle stack must answer it promptly); \"API connections",
            "held while idle\" = established connections to the API sockets one second",
            "later (each one holds a libfcgi thread); \"nginx log\" = [error]/[crit]/[alert]",
            "lines during the run (upstream timed out / no live upstreams / connect()",
            "failed / upstream closed or reset); RSS = VmRSS of each API process after",
            "the run.",
            "",
            "| configuration | probe after the run | API connections held while idle | nginx log lines | "
            "RSS per API process | CPU % all / others during the run |",
            "| --- | --- | ---: | --- | --- | ---: |"] + \
            [self.after_row(c) for c in f.matrix] + [
            f"| default, after all runs | | | | {m.get('rss_final', 'n/a')} | |",
            "",
            "Clean configurations (no 502/503/504 from nginx, no socket error or",
            f"timeout, stalled ≤ {STALL_MAX} %, and a clean probe: no error, stalled ≤ {STALL_MAX} %,",
            f"P99 ≤ {CLIENT_P95_MS} ms): {clean}.",
            "",
            "### What `fastcgi_keep_conn on` does (measured above)",
            ""] + self.keep_text() + [
            "",
            "## Notes on the configuration",
            "",
            f"- `keepalive 32` is per nginx worker: with {m.get('ngx_workers', 'n/a')} workers up to",
            f"  {m.get('ngx_workers', 0) * 32} idle connections may be cached, "
            + self.keepalive_vs_threads()[0],
            self.keepalive_vs_threads()[1],
            "- `max_fails=3 fail_timeout=2s` with `fastcgi_next_upstream error invalid_header`:",
            "  three failed connects (e.g. a full backlog: EAGAIN on a unix socket, a",
            "  dropped SYN on TCP) take that process out for 2 s; when both are out,",
            "  nginx answers \"no live upstreams\" (502, shown as 503) for every request.",
            "  Timeouts are not retried elsewhere (a timed-out request may have run).",
            "- The API's listen backlog (4096) is capped by `net.core.somaxconn`",
            f"  ({m.get('somaxconn', 'n/a')} here); on a machine with a smaller value, 1,000 connections",
            "  can overflow it."]
        return "\n".join(out) + "\n"


def render(data, relay=None, busqueda=None, ical=None):
    """The report (Markdown) of a figures object (and of relay.json's,
    busqueda.json's and ical.json's)."""
    return Report(Figures(data), relay, busqueda, ical).render()


def load_beside(figures_path, name):
    """A JSON file beside the figures (relay.json, busqueda.json), or None."""
    path = os.path.join(os.path.dirname(os.path.abspath(figures_path)), name)
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except (OSError, ValueError):
        return None


def load_relay(figures_path):
    """relay.json beside the figures, or None."""
    return load_beside(figures_path, "relay.json")


def load_busqueda(figures_path):
    """busqueda.json beside the figures, or None."""
    return load_beside(figures_path, "busqueda.json")


def load_ical(figures_path):
    """ical.json beside the figures, or None."""
    return load_beside(figures_path, "ical.json")


def write(data, report_path, figures_path=None):
    """Writes the report, and the figures next to it (figures.json)."""
    report_path = os.path.abspath(report_path)
    if figures_path is None:
        figures_path = os.path.join(os.path.dirname(report_path), "figures.json")
    text = render(data, load_relay(figures_path), load_busqueda(figures_path),
                  load_ical(figures_path))
    for path, out in ((figures_path, json.dumps(data, indent=1, sort_keys=True) + "\n"),
                      (report_path, text)):
        tmp = path + ".tmp"
        with open(tmp, "w", encoding="utf-8") as fh:
            fh.write(out)
        os.replace(tmp, path)


def main(argv):
    here = os.path.dirname(os.path.abspath(__file__))
    figures = argv[1] if len(argv) > 1 else os.path.join(here, "figures.json")
    report = argv[2] if len(argv) > 2 else os.path.join(here, "README.md")
    if len(argv) > 3 or figures in ("-h", "--help"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    with open(figures, encoding="utf-8") as fh:
        data = json.load(fh)
    text = render(data, load_relay(figures), load_busqueda(figures), load_ical(figures))
    tmp = report + ".tmp"
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
    os.replace(tmp, report)
    print(f"report: {report} rendered from {figures}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
