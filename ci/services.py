#!/usr/bin/env python3
"""The long-running services of the local stack, as supervisord sees them.

Usage: ci/services.py conf KEY=VALUE...   print supervisord.conf
       ci/services.py names KEY=VALUE...  print the supervisorctl names,
                                          one a line, in start order

ci/stack.sh calls it with the stack's settings (dir, bin, db_url, ...; see
SETTINGS).  SERVICES is the one table of what supervisord runs: a new
worker is one more row.  PostgreSQL and RabbitMQ are not in it: they must
be up (and migrated) before any row starts, and each already manages its
own processes (see ci/stack.sh).

Each row:
  name      program name; with procs, processes are name-1 .. name-N (the
            group name, supervisorctl's name:name-N) and "{n}" in any
            value stands for the process's number
  procs     setting holding how many processes (default: one)
  command   argv; "{x}" is the setting x
  env       the process's own environment (on top of COMMON_ENV)
  passes    variables handed through from ci/stack.sh's caller when set
  binary    its identity (device, inode, mtime, size) joins the process's
            environment, so `supervisorctl update` restarts the process
            when the file is rebuilt in place, as when its settings change
  log       stderr goes to this file (every VetRed process logs JSON
            lines; a sanitizer's report lands there too), and stdout too
            unless stdout is False (then it is dropped)
  rotate    supervisord rotates log past log_max bytes (one old file,
            .1); otherwise the program rotates its own or ci/stack.sh
            rotate does
  stop      (signal, seconds): the signal supervisord sends on stop, and
            how long it waits before SIGKILL
  priority  start order, lowest first; stop runs the other way round

Every row restarts on an unexpected exit (a crash, a signal other than the
stop signal answered by exit 0): autorestart=unexpected.  A process told
to stop (SIGTERM, exit 0) stays stopped until `ci/stack.sh start`.
"""
import os
import shlex
import sys

# Sanitizer settings of the ASan/UBSan builds (ci/test.sh) reach every
# process; the API's own tunables reach the API.
SANITIZERS = ("ASAN_OPTIONS", "UBSAN_OPTIONS", "LSAN_OPTIONS")
API_TUNABLES = (
    "VETRED_ACCESS_TOKEN_TTL_S", "VETRED_API_BACKLOG",
    "VETRED_DB_STATEMENT_TIMEOUT_MS", "VETRED_JWT_AUDIENCE",
    "VETRED_JWT_ISSUER", "VETRED_LOG_LEVEL", "VETRED_MAX_BODY_BYTES",
    "VETRED_RATE_BURST", "VETRED_RATE_PER_USER",
    "VETRED_REFRESH_TOKEN_TTL_DAYS",
)
SCHEDULER_TUNABLES = (
    "VETRED_LOG_LEVEL", "VETRED_RELAY_BATCH", "VETRED_RELAY_POLL_MS",
    "VETRED_RELAY_LEASE_MS", "VETRED_RELAY_CONFIRM_TIMEOUT_MS",
    "VETRED_RELAY_BACKOFF_MAX_MS",
)
WORKER_TUNABLES = (
    "VETRED_LOG_LEVEL", "VETRED_WORKER_PREFETCH", "VETRED_WORKER_MAX_ATTEMPTS",
    "VETRED_WORKER_MAX_BYTES",
    "VETRED_WORKER_BACKOFF_MAX_MS", "VETRED_OUTBOX_RETENTION_DAYS",
    "VETRED_SEAL_MAX_BATCHES",
)
COMMON_ENV = {"VETRED_STACK": "{dir}"}

SERVICES = [
    dict(name="api", procs="api_procs", priority=200,
         command=["{bin}/vetred-api"],
         env={
             "VETRED_DATABASE_URL": "{api_db_url}",
             "VETRED_AMQP_URL": "{amqp_url}",
             "VETRED_API_THREADS": "{api_threads}",
             "VETRED_API_SOCKET": "{rundir}/api-{n}.sock",
             "VETRED_API_INSTANCE": "api-{n}",
             "VETRED_JWT_KEYS": "{jwt_keys}",
             "VETRED_COMMON_PASSWORDS_FILE": "{common_passwords}",
             "VETRED_DATA_KEYS": "{data_keys}",
             "VETRED_SEARCH_KEY": "{search_key}",
             "VETRED_METRICS_ADDR": "127.0.0.1:{metrics_port+n}",
             "VETRED_LOG_FILE": "{logdir}/api-{n}.log",
             "VETRED_LOG_MAX_BYTES": "{log_max}",
             "VETRED_CORS_ORIGINS": "{cors_origins}",
         },
         passes=API_TUNABLES, binary="{bin}/vetred-api",
         log="{logdir}/api-{n}.log", rotate=False, stop=("TERM", 15)),
    # The outbox relay; a second row (or VETRED_* on another host) is a
    # standby that takes over through the lease.
    dict(name="scheduler", priority=150,
         command=["{bin}/vetred-scheduler"],
         env={
             "VETRED_DATABASE_URL": "{db_url}",
             "VETRED_AMQP_URL": "{amqp_url}",
             "VETRED_SCHEDULER_METRICS_ADDR": "127.0.0.1:{metrics_port_sched}",
             "VETRED_LOG_FILE": "{logdir}/scheduler.log",
             "VETRED_LOG_MAX_BYTES": "{log_max}",
         },
         passes=SCHEDULER_TUNABLES, binary="{bin}/vetred-scheduler",
         log="{logdir}/scheduler.log", rotate=False, stop=("TERM", 15)),
    # The engine's own consumers: its jobs (outbox purge, audit sealing)
    # and the dead-letter drain.  More rows may run: they compete.
    dict(name="worker", priority=160,
         command=["{bin}/vetred-worker"],
         env={
             "VETRED_DATABASE_URL": "{db_url}",
             "VETRED_AMQP_URL": "{amqp_url}",
             "VETRED_WORKER_INSTANCE": "worker-1",
             "VETRED_ICAL_DIR": "{dir}/ical",
             "VETRED_WORKER_METRICS_ADDR": "127.0.0.1:{metrics_port_worker}",
             "VETRED_LOG_FILE": "{logdir}/worker.log",
             "VETRED_LOG_MAX_BYTES": "{log_max}",
         },
         passes=WORKER_TUNABLES, binary="{bin}/vetred-worker",
         log="{logdir}/worker.log", rotate=False, stop=("TERM", 15)),
    # In the foreground under supervisord; QUIT: finish what is in flight.
    dict(name="nginx", priority=300,
         command=["nginx", "-p", "{ngx}", "-c", "{ngx}/nginx.conf",
                  "-e", "{ngx}/error.log", "-g", "daemon off;"],
         log="{ngx}/stderr.log", rotate=True, stop=("QUIT", 15)),
]

SETTINGS = ("dir", "repo", "bin", "rundir", "logdir", "ngx", "db_url",
            "api_db_url", "amqp_url", "api_procs", "api_threads",
            "jwt_keys", "common_passwords", "data_keys", "search_key",
            "metrics_port", "metrics_port_sched", "metrics_port_worker",
            "log_max", "cors_origins")

class Settings(dict):
    """format_map source: "{x}" is a setting, "{n}" the process number,
    "{metrics_port+n}" the setting plus the number."""

    def __init__(self, values, n):
        super().__init__(values)
        self.n = n

    def __missing__(self, key):
        if key == "n":
            return str(self.n)
        if key.endswith("+n") and key[:-2] in self:
            return str(int(self[key[:-2]]) + self.n)
        raise KeyError(key)


def fill(template, settings, n):
    return template.format_map(Settings(settings, n))


def conf_value(s, where):
    """A value as supervisord reads it: % doubled (it expands %(x)s); no
    newline and nothing it would take for a comment."""
    if "\n" in s or any(ws + c in s for ws in " \t" for c in ";#"):
        sys.exit("services: %s: a newline or ' ;' / ' #' cannot be "
                 "written to supervisord.conf: %r" % (where, s))
    return s.replace("%", "%%")


def env_value(s, where):
    if '"' in s:
        sys.exit("services: %s: a double quote cannot be passed through "
                 "supervisord: %r" % (where, s))
    return '"%s"' % conf_value(s, where)


def identity(path):
    try:
        st = os.stat(path)
    except OSError:
        return "missing"
    return "%d:%d:%d:%d" % (st.st_dev, st.st_ino, st.st_mtime_ns, st.st_size)


def processes(row, settings):
    """(supervisorctl name, program name, number) of each process of row."""
    if "procs" not in row:
        return [(row["name"], row["name"], 1)]
    name = row["name"]
    return [("%s:%s-%d" % (name, name, i), "%s-%d" % (name, i), i)
            for i in range(1, int(settings[row["procs"]]) + 1)]


def names(settings):
    """supervisorctl's names of every process, in start order."""
    return [full for row in sorted(SERVICES, key=lambda r: r["priority"])
            for full, _, _ in processes(row, settings)]


def program(row, settings, prog, n):
    where = "[program:%s]" % prog
    sig, wait = row["stop"]
    env = {k: fill(v, settings, n) for k, v in COMMON_ENV.items()}
    env.update((k, fill(v, settings, n)) for k, v in row.get("env", {}).items())
    for var in SANITIZERS + tuple(row.get("passes", ())):
        if var in os.environ and var not in env:
            env[var] = os.environ[var]
    if "binary" in row:
        env["VETRED_STACK_BINARY"] = identity(fill(row["binary"], settings, n))
    command = " ".join(shlex.quote(fill(a, settings, n)) for a in row["command"])
    rotate = row["rotate"]
    lines = [
        where,
        "command=" + conf_value(command, where),
        "directory=" + conf_value(settings["repo"], where),
        "environment=" + ",".join("%s=%s" % (k, env_value(v, where))
                                  for k, v in sorted(env.items())),
        "priority=%d" % row["priority"],
        "autostart=true",
        "autorestart=unexpected",
        "exitcodes=0",
        "startsecs=1",
        "startretries=5",
        "stopsignal=" + sig,
        "stopwaitsecs=%d" % wait,
        "killasgroup=true",
    ]
    log = conf_value(fill(row["log"], settings, n), where)
    size = "stdout_logfile_maxbytes=%s" % (settings["log_max"] if rotate else "0")
    keep = "stdout_logfile_backups=%d" % (1 if rotate else 0)
    if row.get("stdout", True):
        lines += ["redirect_stderr=true", "stdout_logfile=" + log, size, keep]
    else:
        lines += ["redirect_stderr=false", "stdout_logfile=NONE",
                  "stderr_logfile=" + log, "stderr" + size[6:], "stderr" + keep[6:]]
    return "\n".join(lines) + "\n"


def sections(row, settings):
    procs = processes(row, settings)
    out = "".join("\n" + program(row, settings, prog, n) for _, prog, n in procs)
    if "procs" in row:
        # One group: its processes start and stop together, in parallel.
        out += "\n[group:%s]\nprograms=%s\npriority=%d\n" % (
            row["name"], ",".join(prog for _, prog, _ in procs), row["priority"])
    return out


def conf(settings):
    sup = os.path.join(settings["dir"], "supervisor")
    head = """\
; Written by ci/stack.sh start from the table in ci/services.py; edits are lost.
[supervisord]
logfile={sup}/supervisord.log
logfile_maxbytes={log_max}
logfile_backups=1
pidfile={sup}/supervisord.pid
childlogdir={sup}
identifier=vetred:{dir}
nodaemon=false
strip_ansi=false

[unix_http_server]
file={sup}/supervisor.sock
chmod=0700

[supervisorctl]
serverurl=unix://{sup}/supervisor.sock

[rpcinterface:supervisor]
supervisor.rpcinterface_factory = supervisor.rpcinterface:make_main_rpcinterface
""".format(sup=conf_value(sup, "[supervisord]"),
           dir=conf_value(settings["dir"], "[supervisord]"),
           log_max=settings["log_max"])
    return head + "".join(sections(r, settings) for r in SERVICES)


def main(argv):
    if len(argv) < 2 or argv[1] not in ("conf", "names"):
        print(__doc__.strip(), file=sys.stderr)
        return 2
    settings = {}
    for arg in argv[2:]:
        key, eq, value = arg.partition("=")
        if not eq or key not in SETTINGS:
            sys.exit("services: unknown setting %r" % arg)
        settings[key] = value
    missing = [k for k in SETTINGS if k not in settings]
    if missing:
        sys.exit("services: settings missing: " + " ".join(missing))
    if argv[1] == "conf":
        sys.stdout.write(conf(settings))
    else:
        print("\n".join(names(settings)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
