"""bench/harness.py - what the scenarios of bench/run.py are made of: the
private stack (ci/stack.sh, its supervisord, nginx's generated
configuration), wrk and pgbench runs with the CPU each part of the stack
used meanwhile, psql on the bench database, the API's own /metrics, and the
samplers (PostgreSQL waits, checkpoints, WAL, nginx's timings).

Every figure lands in Harness.runs[name][field] and every command line in
Harness.cmd[name]: bench/report.py renders the report from them.
"""
import json
import math
import os
import re
import shlex
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
PGBIN = Path("/usr/lib/postgresql/15/bin")
GROUPS = ("nginx", "api", "pg", "rmq", "client")


class BenchError(Exception):
    """A reason to stop the bench (printed as 'bench: error: ...')."""


def log(msg):
    print(f"bench: {msg}", file=sys.stderr, flush=True)


def die(msg):
    raise BenchError(msg)


def rel(text):
    """Paths relative to the repository: the report is committed."""
    return str(text).replace(f"{REPO}/", "")


def number(text):
    """'12' -> 12, '1.5' -> 1.5, anything else -> None."""
    try:
        return int(text)
    except (TypeError, ValueError):
        pass
    try:
        x = float(text)
    except (TypeError, ValueError):
        return None
    return x if math.isfinite(x) else None


def rounded(x, decimals):
    """x as the report shows it (a float of so many decimals)."""
    return float(f"{x:.{decimals}f}")


def ceil_rank(n, q):
    """The 1-based rank of the q-quantile (0 < q <= 1) of n sorted values."""
    k = int(n * q)
    return k + 1 if k < n * q else max(k, 1)


def proc_table():
    """{pid: (ppid, CPU ticks)} of every process; the ticks are user +
    system, plus those of the children it reaped."""
    table = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open(f"/proc/{d}/stat") as fh:
                stat = fh.read()
        except OSError:
            continue
        f = stat[stat.rindex(")") + 2:].split()
        table[int(d)] = (int(f[1]), sum(int(x) for x in f[11:15]))
    return table


def busy_ticks():
    """All CPUs' ticks but idle and iowait, from /proc/stat."""
    with open("/proc/stat") as fh:
        f = fh.readline().split()
    return sum(int(f[i]) for i in (1, 2, 3, 6, 7, 8))


def read_pid(path):
    try:
        digits = re.sub(r"\D", "", Path(path).read_text().split("\n")[0])
    except (OSError, IndexError):
        return None
    return int(digits) if digits else None


def alive(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


class Harness:
    def __init__(self, stack_dir, http_port, tcp_ports, pg_port, wrk_threads=2,
                 wrk_timeout="5s", pgbench=None):
        self.stack = Path(stack_dir)
        self.ngx = self.stack / "nginx"
        self.rundir = self.stack / "run"
        self.logdir = self.stack / "log"
        self.res = self.stack / "results"
        self.stacklog = self.logdir / "bench-stack.log"
        self.base = f"http://127.0.0.1:{http_port}"
        self.tcp_ports = tcp_ports
        self.pg_port = pg_port
        self.wrk_threads = wrk_threads
        self.wrk_timeout = wrk_timeout
        self.pgbench_bin = pgbench or str(PGBIN / "pgbench")
        self.hz = os.sysconf("SC_CLK_TCK")
        self.nproc = len(os.sched_getaffinity(0))
        self.runs = {}
        self.cmd = {}
        self.tcp_procs = []
        self.db_url = ""
        self.wal_timing = False
        self.token = ""
        self._waits = None
        self._ckpt0 = 0

    def r(self, name):
        """The figures of one run (created empty)."""
        return self.runs.setdefault(name, {})

    # ------------------------------------------------------------ the stack

    def stack_sh(self, *args, threads=None):
        env = dict(os.environ)
        if threads is not None:
            env["VETRED_API_THREADS"] = str(threads)
        with open(self.stacklog, "a") as out:
            return subprocess.run(["ci/stack.sh", *args], cwd=REPO, env=env,
                                  stdin=subprocess.DEVNULL, stdout=out,
                                  stderr=subprocess.STDOUT).returncode

    def tail(self, path, n):
        try:
            lines = Path(path).read_text(errors="replace").splitlines()[-n:]
        except OSError:
            return
        for line in lines:
            print(line, file=sys.stderr)

    def start(self, threads):
        """(Re)start the stack with THREADS API threads a process: ci/stack.sh
        restarts the API processes when the count changes and regenerates
        nginx.conf, and reloads a running nginx: wait for the old workers
        to finish, or a client connection they accepted meanwhile is closed
        under wrk (which counts it as a read error)."""
        old = self.ngx_workers()
        log(f"ci/stack.sh start (VETRED_API_THREADS={threads})")
        if self.stack_sh("start", threads=threads) != 0:
            self.tail(self.stacklog, 30)
            die(f"ci/stack.sh start failed (log: {self.stacklog})")
        self.wait_gone(old)

    def stop(self):
        self.stop_tcp_apis()
        log("stopping the bench stack (var/bench)")
        if self.stack_sh("stop") != 0:
            log(f"ci/stack.sh stop failed (see {self.stacklog})")

    def wait_gone(self, pids):
        """Up to 20 s for (old nginx worker) processes to exit."""
        for _ in range(200):
            if not any(alive(p) for p in pids):
                break
            time.sleep(0.1)
        else:
            log(f"old nginx workers still finishing after 20s: {' '.join(map(str, pids))}")
        time.sleep(0.5)

    def nginx(self, *args, **kw):
        return subprocess.run(["nginx", "-p", str(self.ngx), "-c", str(self.ngx / "nginx.conf"),
                               "-e", str(self.ngx / "error.log"), *args], **kw)

    def ngx_master(self):
        return read_pid(self.ngx / "nginx.pid")

    def ngx_workers(self):
        master = self.ngx_master()
        if master is None:
            return []
        return [p for p, (pp, _) in proc_table().items() if pp == master]

    def ngx_reload(self):
        """Apply an edited nginx.conf and wait until the old workers are gone."""
        with open(self.stacklog, "a") as out:
            if self.nginx("-t", stdout=out, stderr=subprocess.STDOUT).returncode != 0:
                self.tail(self.stacklog, 5)
                die("edited nginx.conf is invalid")
        if self.ngx_master() is None:
            die("nginx is not running")
        old = self.ngx_workers()
        self.nginx("-s", "reload", check=True)
        self.wait_gone(old)

    def conf(self):
        return (self.ngx / "nginx.conf").read_text()

    def set_conf(self, text):
        tmp = self.ngx / "nginx.conf.bench"
        tmp.write_text(text)
        os.replace(tmp, self.ngx / "nginx.conf")

    def unix_api_pids(self):
        """The API processes of the stack's supervisord."""
        out = subprocess.run(
            ["supervisorctl", "-c", str(self.stack / "supervisor" / "supervisord.conf"),
             "status", "api:*"], capture_output=True, text=True).stdout
        pids = []
        for line in out.splitlines():
            f = line.split()
            if len(f) >= 4 and f[1] == "RUNNING" and f[2] == "pid":
                pids.append(int(f[3].rstrip(",")))
        return pids

    def api_pids(self):
        return self.unix_api_pids() + [p.pid for p in self.tcp_procs]

    @staticmethod
    def rss_of(pids):
        """'12.3 MiB (17 threads), ...' from /proc/PID/status."""
        out = []
        for pid in pids:
            try:
                status = Path(f"/proc/{pid}/status").read_text()
            except OSError:
                continue
            kb = re.search(r"^VmRSS:\s+(\d+)", status, re.M)
            thr = re.search(r"^Threads:\s+(\d+)", status, re.M)
            if kb:
                out.append(f"{int(kb.group(1)) / 1024:.1f} MiB ({thr.group(1) if thr else '?'} threads)")
        return ", ".join(out) or "n/a"

    def env_file(self):
        """The export lines of the stack's env file, as a dict."""
        env = {}
        for line in (self.stack / "env").read_text().splitlines():
            if line.startswith("export "):
                words = shlex.split(line[len("export "):])
                if words and "=" in words[0]:
                    k, v = words[0].split("=", 1)
                    env[k] = v
        return env

    # ------------------------------------------------------------ HTTP

    def http(self, path, data=None, headers=None, timeout=10, url=None):
        """(status, body) of a request; status 0 when nothing answered."""
        req = urllib.request.Request(url or self.base + path, data=data, headers=headers or {})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as resp:
                return resp.status, resp.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode(errors="replace")
        except (urllib.error.URLError, OSError):
            return 0, ""

    def sign_in(self, email, password):
        """Sign in and export the access token the wrk scripts send
        (VETRED_BENCH_TOKEN): a token lives 15 minutes, the bench longer."""
        body = json.dumps({"email": email, "password": password}).encode()
        code, out = self.http("/api/v1/auth/login", body, {"Content-Type": "application/json"})
        try:
            token = json.loads(out).get("access_token", "")
        except (ValueError, AttributeError):
            token = ""
        if not token:
            die(f"cannot sign in as {email}: {code} {out}")
        self.token = token
        os.environ["VETRED_BENCH_TOKEN"] = token

    def health_instances(self, n):
        """The instance names /health reports over N requests."""
        names = set()
        for _ in range(n):
            _, body = self.http("/health", timeout=3)
            m = re.search(r'"instancia":"([^"]*)"', body)
            if m:
                names.add(m.group(1))
        return ",".join(sorted(names))

    def api_metrics(self):
        """(booking handler seconds, bookings, 201s, read handler seconds,
        reads) from the API processes' own /metrics, summed over the
        processes (VETRED_METRICS_URLS of the stack's env file)."""
        urls = self.env_file().get("VETRED_METRICS_URLS", "").split()
        if not urls:
            log(f"no API metrics listener in {self.stack}/env")
        m = [0.0] * 5
        for u in urls:
            _, text = self.http("", url=u + "/metrics", timeout=3)
            for line in text.splitlines():
                f = line.split()
                if not f:
                    continue
                x = number(f[-1]) or 0
                if 'route="/api/v1/citas/reservar"' in line:
                    if line.startswith("vetred_http_request_duration_seconds_sum{"):
                        m[0] += x
                    elif line.startswith("vetred_http_request_duration_seconds_count{"):
                        m[1] += x
                    elif line.startswith("vetred_http_requests_total{") and 'status="201"' in line:
                        m[2] += x
                elif 'route="/api/v1/citas/{id}"' in line:
                    if line.startswith("vetred_http_request_duration_seconds_sum{"):
                        m[3] += x
                    elif line.startswith("vetred_http_request_duration_seconds_count{"):
                        m[4] += x
        return m

    def api_delta(self, name, a, b):
        """The mean handler time between two /metrics snapshots, and the 201s."""
        r = self.r(name)
        n = b[1] - a[1]
        r["api_book_ms"] = rounded(1000 * (b[0] - a[0]) / n, 2) if n > 0 else None
        n = b[4] - a[4]
        r["api_read_ms"] = rounded(1000 * (b[3] - a[3]) / n, 2) if n > 0 else None
        r["api201"] = int(b[2] - a[2])

    def api_conns_open(self):
        """Established connections on the API side (this stack's unix
        sockets and the TCP ports): threads held by nginx while idle."""
        prefix = f"{self.rundir}/api-"
        out = subprocess.run(["ss", "-Hxn", "state", "established"],
                             capture_output=True, text=True).stdout
        n = sum(1 for line in out.splitlines()
                if len(line.split()) >= 4 and line.split()[3].startswith(prefix))
        for port in self.tcp_ports:
            out = subprocess.run(["ss", "-Htn", "state", "established", f"sport = :{port}"],
                                 capture_output=True, text=True).stdout
            n += len(out.splitlines())
        return n

    def listening(self, port):
        out = subprocess.run(["ss", "-Htln", f"sport = :{port}"], capture_output=True, text=True).stdout
        return bool(out.strip())

    # ------------------------------------------------------------ TCP API processes

    def start_tcp_apis(self, threads, binary):
        """Our own API processes on 127.0.0.1:PORT, with the stack's env."""
        env = dict(os.environ)
        env.update(self.env_file())
        for i, port in enumerate(self.tcp_ports, 1):
            if self.listening(port):
                die(f"port {port} is in use; cannot start a TCP API process")
            e = dict(env, VETRED_API_THREADS=str(threads), VETRED_API_SOCKET=f"127.0.0.1:{port}",
                     VETRED_API_INSTANCE=f"api-tcp-{i}", VETRED_METRICS_ADDR="off")
            with open(self.logdir / f"api-tcp-{i}.log", "a") as out:
                self.tcp_procs.append(subprocess.Popen([binary], cwd=REPO, env=e,
                                                       stdin=subprocess.DEVNULL, stdout=out,
                                                       stderr=subprocess.STDOUT))
        for port in self.tcp_ports:
            for _ in range(100):
                if self.listening(port):
                    break
                time.sleep(0.1)
            else:
                die(f"the TCP API process on port {port} did not listen (log: {self.logdir})")

    def stop_tcp_apis(self):
        for p in self.tcp_procs:
            if p.poll() is None:
                p.terminate()
        for p in self.tcp_procs:
            try:
                p.wait(15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        self.tcp_procs = []

    # ------------------------------------------------------------ CPU accounting

    def cpu_snapshot(self, api_pids):
        """(busy ticks of all CPUs, {group: ticks}): nginx, PostgreSQL and
        RabbitMQ are their master and its children (a PostgreSQL backend
        that exits is reaped by the postmaster, so its time stays there),
        the API its processes, the client this driver (whose reaped
        children -- wrk, pgbench, psql -- count in its own stat line)."""
        busy = busy_ticks()
        table = proc_table()
        roots = dict(nginx=self.ngx_master(), pg=read_pid(self.stack / "pg" / "postmaster.pid"),
                     rmq=read_pid(self.stack / "rabbitmq" / "rabbitmq.pid"))
        ticks = {}
        for g, root in roots.items():
            if root is None or root not in table:
                ticks[g] = 0
                continue
            ticks[g] = table[root][1] + sum(t for pp, t in table.values() if pp == root)
        ticks["api"] = sum(table[p][1] for p in api_pids if p in table)
        ticks["client"] = table.get(os.getpid(), (0, 0))[1]
        return busy, ticks

    def cpu_record(self, name, s0, s1, t0, t1):
        """The run's share of all CPUs (cpu), of other work (others), its
        wall time, and each group's ticks (tk_GROUP, tk_others)."""
        r = self.r(name)
        secs = t1 - t0
        cap = secs * self.nproc * self.hz
        busy = s1[0] - s0[0]
        ours = sum(s1[1].values()) - sum(s0[1].values())
        r["wall"] = rounded(secs, 3)
        r["cpu"] = int(f"{100 * busy / cap:.0f}") if cap > 0 else None
        r["others"] = int(f"{100 * max(busy - ours, 0) / cap:.0f}") if cap > 0 else None
        for g in GROUPS:
            r["tk_" + g] = s1[1][g] - s0[1][g]
        r["tk_others"] = max(busy - ours, 0)

    def measured(self, name, cmd, out_path, timeout):
        """Runs cmd (output to out_path) between two CPU snapshots."""
        pids = self.api_pids()
        s0, t0 = self.cpu_snapshot(pids), time.time()
        try:
            with open(out_path, "w") as out:
                rc = subprocess.run(cmd, cwd=REPO, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT, timeout=timeout).returncode
        except subprocess.TimeoutExpired:
            rc = -1
        t1 = time.time()
        self.cpu_record(name, s0, self.cpu_snapshot(pids), t0, t1)
        if rc != 0:
            log(f"{name}: {Path(cmd[0]).name} exited with an error (see {out_path})")

    # ------------------------------------------------------------ wrk

    @staticmethod
    def bench_line(path):
        """The key=value figures of the last BENCH line of a wrk output."""
        line = None
        for text in Path(path).read_text(errors="replace").splitlines():
            if text.startswith("BENCH "):
                line = text
        if line is None:
            return None
        return {k: number(v) for k, v in (w.split("=", 1) for w in line.split()[1:] if "=" in w)}

    @staticmethod
    def stalled(r, conns):
        """The share (%) of connection-time not covered by a completed
        response (Little's law: 1 - req/s x mean latency / connections).
        wrk counts a timeout only for a response that does arrive late; a
        request still waiting when the run ends is not counted at all, so
        this is what shows connections stuck behind pinned threads."""
        x = 100 * (1 - (r.get("rps") or 0) * (r.get("mean_ms") or 0) / 1000 / conns)
        return int(f"{max(x, 0):.0f}")

    def error_log_lines(self):
        try:
            with open(self.ngx / "error.log", "rb") as fh:
                return sum(1 for _ in fh)
        except OSError:
            return 0

    def nginx_errors(self, name, mark):
        """What nginx logged during a run (warn and above): counts, the
        first 200 lines in results/NAME.nginx-errors.txt; the log is then
        emptied (it can grow by a million lines)."""
        r = self.r(name)
        counts = dict(ngx_errors=0, ngx_timedout=0, ngx_nolive=0, ngx_connect=0, ngx_closed=0)
        level = re.compile(r"\[(error|crit|alert|emerg)\]")
        connect = re.compile(r"connect\(\) to .* failed")
        kept = []
        try:
            with open(self.ngx / "error.log", errors="replace") as fh:
                for i, line in enumerate(fh):
                    if i < mark:
                        continue
                    if len(kept) < 200:
                        kept.append(line)
                    counts["ngx_errors"] += bool(level.search(line))
                    counts["ngx_timedout"] += "upstream timed out" in line
                    counts["ngx_nolive"] += "no live upstreams" in line
                    counts["ngx_connect"] += bool(connect.search(line))
                    counts["ngx_closed"] += ("upstream prematurely closed" in line or
                                             "reset by peer" in line)
        except OSError:
            pass
        (self.res / f"{name}.nginx-errors.txt").write_text("".join(kept))
        try:
            with open(self.ngx / "error.log", "w"):
                pass
        except OSError:
            pass
        r.update(counts)

    def wrk(self, name, path, conns, secs, script="bench/status.lua", args=()):
        """A wrk run of SECS seconds on CONNS connections; ARGS go to the
        script's init() (after wrk's --)."""
        cmd = ["wrk", f"-t{self.wrk_threads}", f"-c{conns}", f"-d{secs}s", "--latency",
               "--timeout", self.wrk_timeout, "-s", script, self.base + path]
        if args:
            cmd += ["--", *map(str, args)]
        self.cmd[name] = rel(" ".join(cmd))
        mark = self.error_log_lines()
        self.sign_in(*self.credentials)
        log(f"{name}: {self.cmd[name]}")
        out = self.res / f"{name}.txt"
        self.measured(name, cmd, out, secs + 60)
        r = self.r(name)
        r["kind"] = "wrk"
        r["conns"] = conns
        figures = self.bench_line(out)
        if figures is None:
            log(f"{name}: no result line from wrk")
            self.tail(out, 5)
        else:
            r.update(figures)
        r["stalled"] = self.stalled(r, conns)
        self.nginx_errors(name, mark)
        log(f"{name}: {r.get('rps', '?')} req/s, p99 {r.get('p99_ms', '?')} ms, "
            f"non-2xx {r.get('non2xx', '?')}, timeouts {r.get('timeout', '?')}, "
            f"stalled {r['stalled']}%; CPU {r['cpu']}% (others {r['others']}%)")
        return r

    def probe(self, name, path="/api/v1/sedes/1"):
        """Right after a run: 64 connections for 3 s (does the stack still
        answer promptly at a light load?), then the API connections left
        open while idle (pinned threads).  wrk looks for stuck connections
        every 2 s only, so the timeout is 1 s (2 s would never fire)."""
        p = name + "-probe"
        cmd = ["wrk", "-t2", "-c64", "-d3s", "--timeout", "1s", "-s", "bench/status.lua",
               self.base + path]
        self.cmd[p] = rel(" ".join(cmd))
        out = self.res / f"{p}.txt"
        with open(out, "w") as fh:
            if subprocess.run(cmd, cwd=REPO, stdin=subprocess.DEVNULL, stdout=fh,
                              stderr=subprocess.STDOUT, timeout=60).returncode != 0:
                log(f"{p}: wrk exited with an error (see {out})")
        r = self.r(p)
        r["kind"] = "wrk"
        r.update(self.bench_line(out) or {})
        r["stalled"] = self.stalled(r, 64)
        time.sleep(1)
        self.r(name)["pinned"] = self.api_conns_open()
        log(f"{name}: probe {r.get('rps', '?')} req/s, P99 {r.get('p99_ms', '?')} ms, "
            f"stalled {r['stalled']} %; API connections open when idle: {self.r(name)['pinned']}")

    # ------------------------------------------------------------ PostgreSQL

    def psql(self, *args, sql=None, check=True):
        """psql on the bench database: stops at the first error; each
        statement and psql itself are bounded in time.  Its output."""
        env = dict(os.environ, PGOPTIONS="-c statement_timeout=300s")
        p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.db_url, *args],
                           input=sql, capture_output=True, text=True, env=env, timeout=400)
        if p.returncode != 0 and check:
            die(f"psql failed: {p.stderr.strip()[-500:]}")
        return p.stdout if p.returncode == 0 else None

    def value(self, query):
        """One value of a query."""
        return (self.psql("-At", "-c", query) or "").strip()

    def supsql(self, *args, out=None):
        """psql as the private cluster's superuser (trust on its socket:
        ci/stack.sh runs initdb --auth=trust -U postgres), bounded."""
        env = dict(os.environ, PGOPTIONS="-c statement_timeout=60s")
        try:
            return subprocess.run(["psql", "-X", "-v", "ON_ERROR_STOP=1", "-h", str(self.stack / "pg-run"),
                                   "-p", str(self.pg_port), "-U", "postgres", "-d", "vetred", *args],
                                  stdout=out or subprocess.PIPE, stderr=subprocess.STDOUT if out else
                                  subprocess.DEVNULL, text=True, env=env, timeout=90)
        except subprocess.TimeoutExpired:
            return None

    def su_ok(self):
        p = self.supsql("-At", "-c", "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")
        return p is not None and p.returncode == 0 and p.stdout.strip() == "t"

    def pgbench(self, name, clients, secs, script, opts=()):
        """pgbench -M prepared on the bench database: rps (tps), requests,
        failed, mean_ms."""
        jobs = 2 if clients >= 2 else 1
        cmd = [self.pgbench_bin, "-n", "-M", "prepared", "-c", str(clients), "-j", str(jobs),
               "-T", str(secs), "-f", script, *map(str, opts)]
        self.cmd[name] = rel(" ".join(cmd) + ' "$VETRED_DATABASE_URL"')
        log(f"{name}: {self.cmd[name]}")
        out = self.res / f"{name}.txt"
        self.measured(name, cmd + [self.db_url], out, secs + 120)
        text = out.read_text(errors="replace")
        grab = lambda rx: (re.search(rx, text, re.M) or [None, None])[1]
        r = self.r(name)
        r["kind"] = "pgbench"
        r["clients"] = clients
        r["requests"] = number(grab(r"^number of transactions actually processed: (\d+)"))
        r["failed"] = number(grab(r"^number of failed transactions: (\d+)"))
        mean = number(grab(r"^latency average = ([0-9.]+) ms"))
        r["mean_ms"] = None if mean is None else float(mean)
        tps = number(grab(r"^tps = ([0-9.]+) "))
        r["rps"] = None if tps is None else int(f"{tps:.0f}")
        log(f"{name}: {r['rps']} tps, latency average {r['mean_ms']} ms, {r['requests']} transactions "
            f"({r['failed']} failed); CPU {r['cpu']}% (others {r['others']}%)")
        return r

    def pgbench_log_stats(self, name, skip):
        """From pgbench's per-transaction logs (results/NAME-log.*), the
        execution latency (schedule lag excluded, as wrk's latency excludes
        the think time) of the transactions that started after the first
        SKIP seconds (new connections plan their statements first)."""
        rows = []
        for path in sorted(self.res.glob(f"{name}-log.*")):
            for line in path.read_text(errors="replace").splitlines():
                f = line.split()
                if len(f) < 7:
                    continue
                try:
                    rows.append((int(f[4]), rounded((float(f[2]) - float(f[6])) / 1000, 3)))
                except ValueError:
                    continue
        r = self.r(name)
        if not rows:
            r.update(p50_ms=None, p95_ms=None, p99_ms=None, max_ms=None, logged=0)
            return
        t0 = min(t for t, _ in rows)
        lat = sorted(x for t, x in rows if t >= t0 + skip)
        if not lat:
            r.update(p50_ms=None, p95_ms=None, p99_ms=None, max_ms=None, logged=0)
            return
        n = len(lat)
        for q in (50, 95, 99):
            r[f"p{q}_ms"] = rounded(lat[ceil_rank(n, q / 100) - 1], 2)
        r["max_ms"] = rounded(lat[-1], 2)
        r["logged"] = n

    def waits_start(self, name, secs):
        """In the background, for SECS seconds, sample every 100 ms what
        the active client backends of the bench database wait on ("CPU":
        no wait event, i.e. running or waiting for a CPU); with the
        checkpoints started meanwhile (a checkpoint makes every page's next
        change write a full page to the WAL: the commits' tail grows)."""
        self._ckpt0 = self.checkpoints()
        sql = f"""CREATE TEMP TABLE w (ev text);
DO $$
DECLARE
	t_end timestamptz := clock_timestamp() + interval '{secs} seconds';
BEGIN
	WHILE clock_timestamp() < t_end LOOP
		PERFORM pg_stat_clear_snapshot();
		INSERT INTO w SELECT coalesce(wait_event_type || ':' || wait_event, 'CPU')
		FROM pg_stat_activity
		WHERE backend_type = 'client backend' AND state = 'active'
		  AND datname = current_database() AND pid <> pg_backend_pid();
		PERFORM pg_sleep(0.1);
	END LOOP;
END
$$;
SELECT ev, count(*) FROM w GROUP BY ev ORDER BY 2 DESC, 1;
"""
        out = open(self.res / f"{name}.waits.txt", "w")
        env = dict(os.environ, PGOPTIONS="-c statement_timeout=300s")
        p = subprocess.Popen(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-At", "-F", " ",
                              "-d", self.db_url], stdin=subprocess.PIPE, stdout=out,
                             stderr=subprocess.STDOUT, text=True, env=env)
        p.stdin.write(sql)
        p.stdin.close()
        self._waits = (p, out)

    def waits_end(self, name):
        p, out = self._waits
        self._waits = None
        try:
            p.wait(400)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait()
        out.close()
        waits = []
        for line in (self.res / f"{name}.waits.txt").read_text(errors="replace").splitlines():
            f = line.split()
            if len(f) == 2 and f[1].isdigit():
                waits.append([f[0], int(f[1])])
        r = self.r(name)
        r["waits"] = waits
        r["ckpt"] = self.checkpoints() - self._ckpt0

    def checkpoints(self):
        """Checkpoints started since the cluster started."""
        out = self.psql("-At", "-c", "SELECT checkpoints_timed + checkpoints_req FROM pg_stat_bgwriter",
                        check=False)
        return number((out or "").strip()) or 0

    def wal(self):
        """[records, full-page images, bytes, writes, syncs, write ms, sync ms]
        from pg_stat_wal."""
        out = self.psql("-At", "-F", " ", "-c",
                        "SELECT wal_records, wal_fpi, wal_bytes, wal_write, wal_sync, wal_write_time, "
                        "wal_sync_time FROM pg_stat_wal", check=False)
        xs = [number(x) for x in (out or "").split()]
        return xs if len(xs) == 7 and None not in xs else [0] * 7

    def wal_delta(self, name, a, b, n):
        """Per booking (N of them): WAL bytes, full-page images, WAL flushes
        (fewer than one per commit when commits share a flush), and the
        mean flush time (when track_wal_io_timing is on)."""
        if not n or n <= 0:
            return
        r = self.r(name)
        r["wal_bytes"] = int(f"{(b[2] - a[2]) / n:.0f}")
        r["wal_fpi"] = rounded((b[1] - a[1]) / n, 2)
        r["wal_syncs"] = rounded((b[4] - a[4]) / n, 2)
        syncs = b[4] - a[4]
        r["wal_sync_ms"] = rounded((b[6] - a[6]) / syncs, 3) if self.wal_timing and syncs > 0 else None

    def explain(self, name, warm, sql1, sql2):
        """EXPLAIN (ANALYZE, BUFFERS) of SQL1, then of SQL2 (the one
        reported: the first pays for loading auto_explain), after WARM
        (warm-up calls: plans cached as in the API's long-lived
        connections), in a transaction rolled back: nothing stays.  As the
        private cluster's superuser when its socket lets us in (trust),
        with auto_explain timing every statement the functions run; else
        as the application user, the top level only."""
        su = self.su_ok()
        lines = ["BEGIN;", f"{warm};"]
        if su:
            lines += ["LOAD 'auto_explain';",
                      "SET auto_explain.log_min_duration = 0; SET auto_explain.log_analyze = on;",
                      "SET auto_explain.log_buffers = on; SET auto_explain.log_nested_statements = on;",
                      "SET client_min_messages = log;"]
        lines += [f"EXPLAIN (ANALYZE, BUFFERS) {sql1};", f"EXPLAIN (ANALYZE, BUFFERS) {sql2};", "ROLLBACK;"]
        script = self.res / f"explain-{name}.sql"
        script.write_text("\n".join(lines) + "\n")
        out = self.res / f"explain-{name}.txt"
        r = self.r(name)
        with open(out, "w") as fh:
            if su:
                p = self.supsql("-f", str(script), out=fh)
                r["how"] = "as the superuser, with auto_explain (nested statements)"
            else:
                env = dict(os.environ, PGOPTIONS="-c statement_timeout=300s")
                p = subprocess.run(["psql", "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", self.db_url,
                                    "-f", str(script)], stdout=fh, stderr=subprocess.STDOUT,
                                   text=True, env=env, timeout=400)
                r["how"] = "as the application user (no superuser: top level only)"
        if p is None or p.returncode != 0:
            log(f"explain {name} failed (see {out})")
        text = out.read_text(errors="replace")
        times = re.findall(r"Execution Time: ([0-9.]+) ms", text)
        r["ms"] = float(times[-1]) if times else None
        r["nested"] = self.nested_statements(text)

    @staticmethod
    def nested_statements(text):
        """'ms  statement' lines of the statements auto_explain logged for the
        last EXPLAIN (it logs each one when it ends, the EXPLAIN itself last)."""
        cur, last, d, want = "", "", "", False
        for line in text.splitlines():
            if "LOG:  duration: " in line:
                d = re.sub(r" ms.*", "", line.split("duration: ", 1)[1])
                want = True
                continue
            if want and line.startswith("Query Text: "):
                q = re.sub(r"[ \t]+", " ", line[12:])
                want = False
                if q.startswith("EXPLAIN"):
                    last, cur = cur, ""
                else:
                    cur += f"{d:>9} ms  {q[:100]}\n"
        return last

    # ------------------------------------------------------------ nginx's own timings

    TIMING = ('    log_format bench_timing "$request_method|$status|$request_time|'
              '$upstream_response_time|$upstream_connect_time|$upstream_header_time";')

    def ngx_timing(self, on):
        """A temporary access log of nginx's own timings in results/timing.log,
        in place of the stack's own, by editing the generated nginx.conf:
        $request_time (first byte from the client to the last byte sent)
        and $upstream_response_time / _connect_time / _header_time (from
        nginx's connect() to the API to its last byte / the connection /
        the headers)."""
        saved = self.ngx / "nginx.conf.notiming"
        if on:
            text = self.conf()
            saved.write_text(text)
            (self.res / "timing.log").write_text("")
            out, done = [], False
            for line in text.splitlines():
                if not done and re.match(r"^\s*access_log .*;\s*$", line):
                    out += [self.TIMING,
                            f'    access_log "{self.res}/timing.log" bench_timing buffer=256k flush=1s;']
                    done = True
                else:
                    out.append(line)
            if not done:
                die(f"could not add the timing access_log to {self.ngx}/nginx.conf")
            self.set_conf("\n".join(out) + "\n")
        else:
            os.replace(saved, self.ngx / "nginx.conf")
        self.ngx_reload()

    def timing_stats(self, method, field):
        """[mean, P50, P99] (ms) of one timing.log field (3 request, 4
        upstream response, 5 upstream connect, 6 upstream header) over
        METHOD's requests; [] when none.  nginx logs to the millisecond."""
        xs = []
        try:
            text = (self.res / "timing.log").read_text(errors="replace")
        except OSError:
            return []
        for line in text.splitlines():
            f = line.split("|")
            if len(f) < field or f[0] != method or f[field - 1] in ("-", ""):
                continue
            m = re.match(r"[0-9.]+", f[field - 1])
            if m:
                xs.append(float(m.group()) * 1000)
        if not xs:
            return []
        xs.sort()
        n = len(xs)
        return [rounded(sum(xs) / n, 2), xs[ceil_rank(n, 0.5) - 1], xs[ceil_rank(n, 0.99) - 1]]
