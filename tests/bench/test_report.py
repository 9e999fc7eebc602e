#!/usr/bin/env python3
"""The load benchmark's verdicts and report (bench/report.py), on made-up
figures: a target met is reported PASS, a target missed **MISS**, a figure
that was not measured never passes, the report has every section and
table of the committed bench/README.md, and that report is the rendering of
the committed bench/figures.json.

    python3 tests/bench/test_report.py     (make test runs it)
"""
import copy
import json
import os
import re
import subprocess
import sys
import tempfile
import unittest

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
sys.path.insert(0, os.path.join(ROOT, "bench"))
import report  # noqa: E402


def wrk(rps, p95, p99, conns=64, **extra):
    """A clean wrk run: every response 2xx, no socket error, not stalled."""
    r = dict(kind="wrk", conns=conns, requests=rps * 20, secs=20.0, rps=rps,
             mean_ms=conns * 1000 / rps, p50_ms=p95 / 2, p90_ms=p95 * 0.9, p95_ms=p95,
             p99_ms=p99, max_ms=p99 * 2, connect=0, read=0, write=0, timeout=0, non2xx=0,
             s2xx=rps * 20, s502=0, s503gw=0, s504=0, stalled=0, cpu=95, others=2, wall=20.0,
             tk_nginx=400, tk_api=400, tk_pg=2000, tk_rmq=10, tk_client=300, tk_others=40,
             ngx_errors=0, ngx_timedout=0, ngx_nolive=0, ngx_connect=0, ngx_closed=0,
             pinned=0, rss="30.0 MiB (7 threads), 15.0 MiB (7 threads)")
    r.update(extra)
    return r


def pgbench(rps, mean, clients=64, **extra):
    r = dict(kind="pgbench", clients=clients, requests=rps * 20, failed=0, rps=rps, mean_ms=mean,
             cpu=98, others=1, wall=20.0, tk_nginx=0, tk_api=0, tk_pg=3800, tk_rmq=1,
             tk_client=100, tk_others=20)
    r.update(extra)
    return r


def figures():
    """Figures of a run that meets every target."""
    runs = {
        "nginx64": wrk(80000, 3.5, 6.0), "health64": wrk(14000, 9.0, 13.0),
        "sede64": wrk(7000, 17.0, 21.0),
        "bwarm": wrk(1500, 80.0, 100.0, s201=4500),
        "users": wrk(990, 4.2, 11.0, conns=1000, s201=59000, api_book_ms=1.2,
                     waits=[["CPU", 80], ["IO:WALSync", 20]], ckpt=0, wal_bytes=4400,
                     wal_fpi=0.0, wal_syncs=0.57, wal_sync_ms=0.929),
        "sat64": wrk(1900, 60.0, 80.0, s201=38000, api_book_ms=4.9, waits=[["CPU", 62]], ckpt=0),
        "pgb64": pgbench(2000, 31.9, waits=[["LWLock:WALWrite", 69]], ckpt=0),
        "pgmin64": pgbench(3500, 18.3, waits=[["LWLock:WALWrite", 60]], ckpt=0, wal_bytes=1100),
        "read64": wrk(16000, 6.0, 9.5, api_read_ms=0.18, waits=[], ckpt=0),
        "prof_book": wrk(1400, 80.0, 89.0, s201=7000, api_book_ms=5.11,
                         t3=[44.34, 45.0, 89.0], t4=[44.34, 45.0, 89.0], t5=[0.0, 0.0, 0.0],
                         t6=[44.45, 45.0, 89.0]),
        "prof_read": wrk(7253, 16.0, 29.9, api_read_ms=0.25, t3=[], t4=[], t5=[], t6=[]),
        "pgb1": pgbench(1187, 0.842, clients=1), "pgr64": pgbench(44591, 1.4),
        "pgr1": pgbench(10117, 0.099, clients=1),
        "pgu": pgbench(980, 2.0, clients=8, p50_ms=2.52, p95_ms=4.0, p99_ms=9.0, max_ms=20.0),
        "book": dict(rows_http=108500, api201=108500, wrk201=108400, inflight_max=1192,
                     rows_pgb=44687, pgb_tx=44687, rows_explain=0, rss="91.1 MiB (7 threads)",
                     sealer=dict(runs=47, rows=150000, max_rows=9000, max_ms=120.5)),
        "exbook": dict(how="as the superuser, with auto_explain (nested statements)", ms=0.895,
                       nested="    0.004 ms  SELECT zona_horaria, activa FROM sedes WHERE id = p_sede\n"),
        "exread": dict(how="as the superuser", ms=0.06, nested=""),
        "alt_users": wrk(945, 132.74, 162.95, conns=1000), "alt_sat64": wrk(1536, 90.0, 95.18),
        "alt_read64": wrk(7443, 50.0, 66.8),
        "alt": dict(rows=38210, api201=38210, rss="54.2 MiB (19 threads)"),
        "pgb_alt": pgbench(1769, 18.0, clients=32),
        "pgu_alt": pgbench(939, 3.0, clients=32, p50_ms=2.23, p95_ms=10.37, p99_ms=28.08),
        "e2e": dict(messages=57000, commits=57000, p50_ms=4.2, p95_ms=9.0, p99_ms=18.5,
                    max_ms=60.0, start_p50_ms=6.1, start_p95_ms=11.0, start_p99_ms=22.0,
                    start_max_ms=70.0),
    }
    for name in ("unix2", "unix4", "unix16", "tcp4"):
        runs[name] = wrk(7500, 280.0, 305.0, conns=1000)
        runs[name + "-probe"] = wrk(8700, 12.0, 15.9)
    runs["keep4"] = wrk(499, 1.64, 35.02, conns=1000, stalled=100, pinned=8)
    runs["keep4-probe"] = wrk(5, 3.0, 3.04, stalled=100)
    runs["keep4long"] = wrk(12297, 11.55, 17.93, conns=1000, stalled=93, s503gw=395534, s504=630,
                            non2xx=396164, timeout=1052, ngx_nolive=395534, ngx_timedout=630,
                            pinned=8)
    runs["keep4long-probe"] = wrk(4207, 1.0, 1.92, stalled=81, timeout=11)
    machine = dict(start="2026-12-04 05:04:53 UTC", end="2026-12-04 05:13:44 UTC", nproc=2, hz=100,
                   cpu="AMD EPYC", mem="23.5 GiB", os="Debian GNU/Linux 12 (bookworm)",
                   kernel="Linux 6.1", nginx="nginx/1.22.1", pg="postgres (PostgreSQL) 15.20",
                   wrk="wrk debian/4.1.0-3+b2", nofile=20000, somaxconn=4096,
                   load0="0.21 0.52 0.86", load1="6.06 5.48 3.39", busy0=7, ngx_workers=2,
                   rss_final="53.3 MiB (7 threads)")
    cmd = {n: f"wrk -t2 -c64 -d20s ... {n}" for n in runs}
    return dict(settings=dict(report.SETTINGS), machine=machine, runs=runs, cmd=cmd)


def row(text, first_cell):
    """The table row of a report whose first cell is first_cell."""
    for line in text.splitlines():
        if line.startswith(f"| {first_cell} |"):
            return line
    raise AssertionError(f"no row '{first_cell}' in the report")


def verdict_of(text, first_cell):
    return row(text, first_cell).rstrip(" |").rsplit("| ", 1)[1]


class Verdicts(unittest.TestCase):
    def test_all_met(self):
        f = report.Figures(figures())
        self.assertEqual(f.verdicts(), {k: True for k in f.verdicts()})
        text = report.render(figures())
        for cell in ("users model: P95", "users model: P99", "saturation: HTTP bookings/s ÷ pgbench tps",
                     "reads: P99", "citas rows = 201 answers",
                     "booking cost: `reservar_cita` tps ÷ minimal booking tps (pgbench, 64 clients)"):
            self.assertEqual(verdict_of(text, cell), "PASS", cell)
        booking = text.split("## Booking")[1].split("### Runs")[0]
        self.assertIn("Every target was met.", booking)
        self.assertNotIn("**MISS**", booking)

    def test_misses_are_misses(self):
        d = figures()
        d["runs"]["users"].update(p95_ms=39.04, p99_ms=94.8)
        d["runs"]["read64"].update(rps=8490, p99_ms=19.7)
        d["runs"]["sat64"]["rps"] = 1463
        d["runs"]["pgb64"]["rps"] = 1789
        text = report.render(d)
        self.assertEqual(row(text, "users model: P95"),
                         "| users model: P95 | 39.04 ms | ≤ 5 ms | — | **MISS** |")
        self.assertEqual(verdict_of(text, "users model: P99"), "**MISS**")
        self.assertEqual(row(text, "saturation: HTTP bookings/s ÷ pgbench tps"),
                         "| saturation: HTTP bookings/s ÷ pgbench tps | 82 % | ≥ 75 % | — | PASS |")
        self.assertEqual(verdict_of(text, "reads: P99"), "**MISS**")
        self.assertIn("- **Users model missed**: P95 39.04 ms and P99 94.80 ms", text)
        self.assertIn("- **Reads missed**: 8,490 req/s with P99 19.70 ms", text)
        self.assertNotIn("Saturation missed", text)
        self.assertNotIn("Every target was met.", text)

    def test_limits_are_inclusive(self):
        d = figures()
        d["runs"]["users"].update(p95_ms=5.0, p99_ms=15.0)
        d["runs"]["read64"].update(rps=15000, p99_ms=10.0)
        d["runs"]["sat64"]["rps"], d["runs"]["pgb64"]["rps"] = 750, 1000
        d["runs"]["pgmin64"]["rps"] = 2000
        d["runs"]["e2e"].update(p50_ms=10.0, p99_ms=50.0)
        self.assertTrue(all(report.Figures(d).verdicts().values()))
        d["runs"]["users"]["p95_ms"] = 5.01
        d["runs"]["read64"]["rps"] = 14999
        d["runs"]["sat64"]["rps"] = 740
        v = report.Figures(d).verdicts()
        self.assertFalse(v["users_p95"])
        self.assertFalse(v["read_rps"])
        self.assertFalse(v["sat"])
        self.assertTrue(v["users_p99"])
        d["runs"]["pgmin64"]["rps"] = 2030   # 49 %
        self.assertFalse(report.Figures(d).verdicts()["min"])

    def test_booking_cost_missed(self):
        """reservar_cita under half the minimal booking's tps is a miss,
        with both figures; the minimal run not measured never passes."""
        d = figures()
        d["runs"]["pgb64"]["rps"] = 1100
        text = report.render(d)
        cell = "booking cost: `reservar_cita` tps ÷ minimal booking tps (pgbench, 64 clients)"
        self.assertEqual(row(text, cell), f"| {cell} | 31 % (0 failed) | ≥ 50 % | — | **MISS** |")
        self.assertIn("- **Booking cost missed**: `reservar_cita` did 1100 tps against 3500 tps", text)
        self.assertNotIn("Every target was met.", text)
        del d["runs"]["pgmin64"]
        self.assertFalse(report.Figures(d).verdicts()["min"])

    def test_not_measured_never_passes(self):
        d = figures()
        for run in ("users", "read64", "sat64", "pgb64"):
            del d["runs"][run]
        v = report.Figures(d).verdicts()
        for k in ("users_p95", "users_p99", "users_err", "sat", "sat_err", "read_rps", "read_p99",
                  "read_err"):
            self.assertFalse(v[k], k)
        text = report.render(d)
        self.assertEqual(row(text, "users model: P95"),
                         "| users model: P95 | n/a ms | ≤ 5 ms | — | **MISS** |")

    def test_errors_miss(self):
        d = figures()
        d["runs"]["users"]["non2xx"] = 3
        d["runs"]["read64"]["timeout"] = 1
        d["runs"]["pgb64"]["failed"] = 2
        text = report.render(d)
        self.assertEqual(verdict_of(text, "users model: responses other than 201 / socket errors "
                                          "and timeouts"), "**MISS**")
        self.assertEqual(verdict_of(text, "reads: responses other than 200 / socket errors"), "**MISS**")
        self.assertEqual(verdict_of(text, "saturation: non-201 / socket errors (HTTP); failed "
                                          "transactions (pgbench)"), "**MISS**")

    def test_row_counts(self):
        for change in (dict(rows_http=108499), dict(wrk201=100000), dict(rows_pgb=44686),
                       dict(rows_explain=1), dict(rows_http=None)):
            d = figures()
            d["runs"]["book"].update(change)
            text = report.render(d)
            self.assertEqual(verdict_of(text, "citas rows = 201 answers"), "**MISS**", change)
            self.assertIn("- **Row count mismatch**", text)


class FastCGI(unittest.TestCase):
    def test_default_kept_when_clean(self):
        text = report.render(figures())
        self.assertIn("**Kept: the current default — unix sockets, `fastcgi_keep_conn off`, "
                      "2 processes × 4 threads.**", text)
        self.assertIn("P99 ≤ 600 ms): `unix2`, `unix4`, `unix16`, `tcp4`.", text)
        self.assertTrue(row(text, "unix socket, keep-conn off, 2 × 4 threads (current default)")
                        .endswith("| yes |"))
        self.assertTrue(row(text, "unix socket, fastcgi_keep_conn on + keepalive 32, 2 × 4 threads")
                        .endswith("| no |"))

    def test_gateway_errors_unseat_the_default(self):
        d = figures()
        d["runs"]["unix4"].update(s503gw=12, non2xx=12)
        d["runs"]["unix16"]["rps"] = 8000
        text = report.render(d)
        self.assertIn("is NOT clean at 1,000 connections", text)
        self.assertIn("**Kept: `unix16` — unix socket, keep-conn off, 2 × 16 threads**", text)
        self.assertIn("P99 ≤ 600 ms): `unix2`, `unix16`, `tcp4`.", text)

    def test_a_slow_probe_or_a_stall_is_not_clean(self):
        d = figures()
        d["runs"]["unix4-probe"]["p99_ms"] = 601.0
        f = report.Figures(d)
        self.assertFalse(f.is_clean("unix4"))
        self.assertTrue(f.floor_ok("unix4"))
        d["runs"]["unix2"]["stalled"] = 21
        f = report.Figures(d)
        self.assertFalse(f.is_clean("unix2"))
        self.assertFalse(f.floor_ok("unix2"))

    def test_none_clean(self):
        d = figures()
        for c in ("unix2", "unix4", "unix16", "tcp4"):
            d["runs"][c]["timeout"] = 5
        text = report.render(d)
        self.assertIn("**No configuration was clean at 1,000 connections**", text)
        self.assertIn("P99 ≤ 600 ms): none.", text)

    def test_client_floor(self):
        d = figures()
        d["runs"]["unix4"]["p95_ms"] = 600.5
        text = report.render(d)
        self.assertIn("P95 within the floor, with no error or stall: **no**", text)


RELAY = dict(date="2026-12-07 03:00:00 UTC", events=100000, batch=500, nproc=2,
             relay_per_second=24000, bare_per_second=30000, ratio=80.0,
             rounds=[dict(relay=dict(per_second=24000, span_s=4.1, size=620, cpu_busy=99),
                          bare=dict(per_second=30000, cpu_busy=98))])


class EndToEnd(unittest.TestCase):
    CELL = ("users model: end to end, a booking's commit → a consumer holds its "
            "`cita.reservada` (57,000 events, through the relay and a quorum queue): P50 / P99")

    def test_met_and_missed(self):
        self.assertEqual(verdict_of(report.render(figures()), self.CELL), "PASS")
        for over in (dict(p50_ms=10.01), dict(p99_ms=50.5), dict(commits=0)):
            d = figures()
            d["runs"]["e2e"].update(over)
            cell = self.CELL.replace("57,000", report.fmt_int(d["runs"]["e2e"]["commits"]))
            self.assertEqual(verdict_of(report.render(d), cell), "**MISS**", over)

    def test_not_measured_never_passes(self):
        d = figures()
        del d["runs"]["e2e"]
        self.assertFalse(report.Figures(d).verdicts()["e2e"])

    def test_start_figures_are_not_the_target(self):
        # Only the figures from the commit decide: from the transaction's
        # start (the booking's own time included) they are shown beside.
        d = figures()
        d["runs"]["e2e"].update(start_p50_ms=99.0, start_p99_ms=999.0)
        self.assertTrue(report.Figures(d).verdicts()["e2e"])
        self.assertIn("| 99.00 / 999.00 ms |", report.render(d))


class RelaySection(unittest.TestCase):
    def section(self, **over):
        r = dict(RELAY, **over)
        text = report.render(figures(), r)
        return text[text.index("## Outbox relay"):text.index("## The machine")]

    def test_met(self):
        t = self.section()
        self.assertIn("| relay ÷ bare loop | 80.0 % | ≥ 70 % | PASS |", t)
        self.assertIn("| ≥ 10,000 | PASS |", t)

    def test_missed(self):
        t = self.section(ratio=69.9, relay_per_second=9999)
        self.assertIn("| relay ÷ bare loop | 69.9 % | ≥ 70 % | **MISS** |", t)
        self.assertIn("| ≥ 10,000 | **MISS** |", t)

    def test_not_measured_never_passes(self):
        t = self.section(ratio=None, relay_per_second=None)
        self.assertNotIn("PASS", t)

    def test_absent_without_figures(self):
        self.assertNotIn("## Outbox relay", report.render(figures()))


BUSQUEDA = dict(date="2026-12-07 18:00:00 UTC", owners=1000000, words=4200000, load_s=None,
                conns=16, secs=20, queries=4000, sql_qui_ms=1.2, nproc=2,
                wrk=dict(rps=3000, p50_ms=4.1, p95_ms=8.0, p99_ms=12.5, max_ms=40.0,
                         non2xx=0, connect=0, read=0, write=0, timeout=0, cpu_busy=95.0),
                wrk2=dict(rps=900, p50_ms=14.0, p99_ms=40.0))


class SearchSection(unittest.TestCase):
    CELL = "P50 / P95 / P99 / max"

    def section(self, **over):
        b = json.loads(json.dumps(BUSQUEDA))
        for k, v in over.items():
            if k in b["wrk"]:
                b["wrk"][k] = v
            else:
                b[k] = v
        t = report.render(figures(), None, b)
        return t[t.index("## Owner search"):t.index("## The machine")]

    def test_met(self):
        self.assertEqual(verdict_of(self.section(), self.CELL), "PASS")

    def test_missed(self):
        # Slower, fewer owners than the target, other connections, errors.
        for over in (dict(p99_ms=20.01), dict(owners=999999), dict(conns=64),
                     dict(non2xx=1), dict(timeout=2), dict(p99_ms=None)):
            self.assertEqual(verdict_of(self.section(**over), self.CELL), "**MISS**", over)

    def test_absent_without_figures(self):
        self.assertNotIn("## Owner search", report.render(figures()))


ICAL = dict(date="2026-12-08 01:00:00 UTC", subs=3000, vets=300, feeds=300, citas=40,
            feed_bytes=30000, write_s=2.5, conns=64, secs=20, nproc=2,
            cond=dict(rps=20000, p50_ms=2.0, p99_ms=8.0, max_ms=30.0, non2xx=0, connect=0,
                      read=0, write=0, timeout=0, cpu_busy=99.0),
            full=dict(rps=16000, p50_ms=3.0, p99_ms=9.5, max_ms=40.0, non2xx=0, connect=0,
                      read=0, write=0, timeout=0, cpu_busy=99.0))


class FeedsSection(unittest.TestCase):
    CELLS = ("`If-None-Match` with the feed's ETag → 304, 20 s",
             "plain `GET` → 200, the whole feed, 20 s")

    def section(self, which="cond", **over):
        b = json.loads(json.dumps(ICAL))
        for k, v in over.items():
            if k in b[which]:
                b[which][k] = v
            else:
                b[k] = v
        t = report.render(figures(), None, None, b)
        return t[t.index("## Calendar feeds"):t.index("## The machine")]

    def test_met(self):
        for cell in self.CELLS:
            self.assertEqual(verdict_of(self.section(), cell), "PASS", cell)

    def test_missed(self):
        # Slower, a P99 over 10 ms, errors, fewer subscriptions, other
        # connections: each polling mode on its own.
        for which, cell in zip(("cond", "full"), self.CELLS):
            for over in (dict(rps=14999), dict(p99_ms=10.01), dict(non2xx=1),
                         dict(timeout=3), dict(subs=2999), dict(conns=16),
                         dict(rps=None)):
                self.assertEqual(verdict_of(self.section(which, **over), cell), "**MISS**",
                                 (which, over))

    def test_absent_without_figures(self):
        self.assertNotIn("## Calendar feeds", report.render(figures()))


class Rendering(unittest.TestCase):
    def test_every_section_of_the_committed_report(self):
        """The committed report and a rendered one have the same headings
        and the same table columns (numbers aside)."""
        def skeleton(text):
            lines = text.splitlines()
            keep = [l for l in lines if l.startswith("#")]
            keep += [lines[i - 1] for i, l in enumerate(lines) if l.startswith("| ---")]
            return [re.sub(r"[0-9]+([.,][0-9]+)*", "N", l) for l in keep]
        with open(os.path.join(ROOT, "bench", "README.md"), encoding="utf-8") as fh:
            committed = fh.read()
        relay = RELAY if "## Outbox relay" in committed else None
        busqueda = BUSQUEDA if "## Owner search" in committed else None
        ical = ICAL if "## Calendar feeds" in committed else None
        self.assertEqual(skeleton(report.render(figures(), relay, busqueda, ical)),
                         skeleton(committed))

    def test_committed_report_is_its_figures(self):
        """bench/README.md is what bench/report.py renders from
        bench/figures.json (a run writes both; after an edit of the
        report's text: python3 bench/report.py)."""
        with open(os.path.join(ROOT, "bench", "figures.json"), encoding="utf-8") as fh:
            data = json.load(fh)
        with open(os.path.join(ROOT, "bench", "README.md"), encoding="utf-8") as fh:
            committed = fh.read()
        fig = os.path.join(ROOT, "bench", "figures.json")
        self.assertEqual(report.render(data, report.load_relay(fig),
                                       report.load_busqueda(fig), report.load_ical(fig)),
                         committed)

    def test_figures_render_again(self):
        """report.write keeps the figures beside the report; report.py
        renders the same report from them."""
        d = figures()
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "README.md")
            report.write(copy.deepcopy(d), out)
            with open(out, encoding="utf-8") as fh:
                first = fh.read()
            with open(os.path.join(tmp, "figures.json"), encoding="utf-8") as fh:
                self.assertEqual(json.load(fh), json.loads(json.dumps(d)))
            os.remove(out)
            subprocess.run([sys.executable, os.path.join(ROOT, "bench", "report.py"),
                            os.path.join(tmp, "figures.json"), out], check=True,
                           stderr=subprocess.DEVNULL)
            with open(out, encoding="utf-8") as fh:
                self.assertEqual(fh.read(), first)
        self.assertEqual(first, report.render(d))

    def test_figures_as_measured(self):
        text = report.render(figures())
        # wrk's two decimals, pgbench's three, thousands separators in the table
        self.assertIn("| pgbench, 64 clients, the same `SELECT reservar_cita(…)` (20 s) | "
                      "2,000 tps (mean 31.900 ms) | — | — | — |", text)
        self.assertIn("| nginx `$request_time` | 44.34 / 45 / 89 | n/a / n/a / n/a |", text)
        self.assertIn("up to the end of the reads: 47 runs, 150000 audit rows sealed, at most 9000 "
                      "rows and 120 ms in one run.", text)
        self.assertIn("users model: CPU 80 %, IO:WALSync 20 % (100 samples)", text)
        self.assertIn("reads: n/a.", text)

    def test_quick_mode_says_so(self):
        d = figures()
        d["settings"].update(quick=True, conns=200)
        text = report.render(d)
        self.assertIn("**Quick mode**", text)
        self.assertIn("## 200 connections, `GET /api/v1/sedes/1`", text)
        self.assertNotIn("**Quick mode**", report.render(figures()))


if __name__ == "__main__":
    unittest.main(verbosity=2)
