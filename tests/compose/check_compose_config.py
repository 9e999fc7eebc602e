#!/usr/bin/env python3
"""Checks of the normalized compose configuration (`docker compose config`).

Usage: check_compose_config.py CONFIG DOCKERFILE ROOT "SERVICES" "BUILT" WORKFLOW

Prints one "PASS msg" or "FAIL msg" line per check (check_compose.sh counts
them):
- the expected services exist, the built ones build from this repository's
  Dockerfile with a stage that exists;
- every URL in the services' environment, command, entrypoint and
  healthcheck is parsed the way the services parse it: PostgreSQL URIs by
  libpq's own PQconninfoParse, AMQP URIs by librabbitmq's own
  amqp_parse_url (both through ctypes), so the vhost is the decoded path
  and an empty path is the vhost '' (refused: the broker has no such
  vhost).  Each must name a service of the file, a port, and credentials
  (and database or vhost) that the postgres/rabbitmq service (or
  deploy/postgres-init.sql) actually creates;
- the GitHub Actions workflow is valid YAML with the jobs CI needs, and its
  compose job tears the stack down whatever happened.
"""
import ctypes
import ctypes.util
import os
import re
import sys
import urllib.parse

try:
    import yaml
except ImportError:
    print("FAIL python3 module yaml (PyYAML) is missing")
    sys.exit(0)

URL_RE = re.compile(r"\b([a-zA-Z][a-zA-Z0-9+.-]*)://[^\s\"'`]+")


def result(good, msg):
    print(("PASS " if good else "FAIL ") + msg)


# ---------------------------------------------------------------- parsers

class PQconninfoOption(ctypes.Structure):
    _fields_ = [("keyword", ctypes.c_char_p), ("envvar", ctypes.c_char_p),
                ("compiled", ctypes.c_char_p), ("val", ctypes.c_char_p),
                ("label", ctypes.c_char_p), ("dispchar", ctypes.c_char_p),
                ("dispsize", ctypes.c_int)]


class AmqpConnectionInfo(ctypes.Structure):
    _fields_ = [("user", ctypes.c_char_p), ("password", ctypes.c_char_p),
                ("host", ctypes.c_char_p), ("vhost", ctypes.c_char_p),
                ("port", ctypes.c_int), ("ssl", ctypes.c_int)]


def load(name, soname):
    path = ctypes.util.find_library(name) or soname
    try:
        return ctypes.CDLL(path)
    except OSError:
        return None


libpq = load("pq", "libpq.so.5")
librabbitmq = load("rabbitmq", "librabbitmq.so.4")
if libpq is not None:
    libpq.PQconninfoParse.restype = ctypes.POINTER(PQconninfoOption)
    libpq.PQconninfoParse.argtypes = [ctypes.c_char_p, ctypes.POINTER(ctypes.c_char_p)]
    libpq.PQconninfoFree.argtypes = [ctypes.POINTER(PQconninfoOption)]
    libpq.PQfreemem.argtypes = [ctypes.c_void_p]
if librabbitmq is not None:
    librabbitmq.amqp_parse_url.argtypes = [ctypes.c_char_p, ctypes.POINTER(AmqpConnectionInfo)]
    librabbitmq.amqp_parse_url.restype = ctypes.c_int


def parse_pg(url):
    """libpq's options of a conninfo/URI as a dict, or raise ValueError."""
    err = ctypes.c_char_p()
    opts = libpq.PQconninfoParse(url.encode(), ctypes.byref(err))
    if not opts:
        msg = err.value.decode().strip() if err.value else "out of memory"
        raise ValueError(msg)
    out, i = {}, 0
    while opts[i].keyword is not None:
        if opts[i].val is not None:
            out[opts[i].keyword.decode()] = opts[i].val.decode()
        i += 1
    libpq.PQconninfoFree(opts)
    return out


def parse_amqp(url):
    """librabbitmq's amqp_parse_url: user, password, host, vhost, port, ssl."""
    buf = ctypes.create_string_buffer(url.encode())  # parsed in place
    ci = AmqpConnectionInfo()
    rc = librabbitmq.amqp_parse_url(buf, ctypes.byref(ci))
    if rc != 0:
        raise ValueError("amqp_parse_url refuses it (status %d)" % rc)
    return {"user": ci.user.decode(), "password": ci.password.decode(),
            "host": ci.host.decode(), "vhost": ci.vhost.decode(),
            "port": ci.port, "ssl": bool(ci.ssl)}


# ---------------------------------------------------------------- helpers

def env_of(svc):
    env = svc.get("environment") or {}
    if isinstance(env, list):
        env = dict(e.split("=", 1) if "=" in e else (e, "") for e in env)
    return {k: ("" if v is None else str(v)) for k, v in env.items()}


def strings_of(svc):
    """(where, text) of every string a service hands its processes."""
    for k, v in env_of(svc).items():
        yield "environment %s" % k, v
    for key in ("command", "entrypoint"):
        v = svc.get(key)
        for s in ([v] if isinstance(v, str) else v or []):
            yield key, str(s)
    test = (svc.get("healthcheck") or {}).get("test")
    for s in ([test] if isinstance(test, str) else test or []):
        yield "healthcheck", str(s)


def init_sql_roles(root):
    """Roles deploy/postgres-init.sql creates: {name: password}."""
    roles = {}
    path = os.path.join(root, "deploy", "postgres-init.sql")
    if os.path.exists(path):
        for m in re.finditer(r"CREATE\s+ROLE\s+(\w+)\s[^;]*?PASSWORD\s+'([^']*)'",
                             open(path).read(), re.I):
            roles[m.group(1)] = m.group(2)
    return roles


def hostnames(services):
    names = {}
    for name, svc in services.items():
        names[name] = name
        if svc.get("hostname"):
            names[svc["hostname"]] = name
    return names


def check_pg(where, url, services, root):
    if libpq is None:
        result(False, "%s: libpq is not installed, cannot parse %s" % (where, url))
        return
    try:
        o = parse_pg(url)
    except ValueError as e:
        result(False, "%s: libpq refuses %s: %s" % (where, url, e))
        return
    pg = services.get("postgres") or {}
    penv = env_of(pg)
    owner = penv.get("POSTGRES_USER", "postgres")
    logins = {owner: penv.get("POSTGRES_PASSWORD", "")}
    logins.update(init_sql_roles(root))
    host = o.get("host", "")
    result(hostnames(services).get(host) == "postgres",
           "%s: PostgreSQL host '%s' is the postgres service" % (where, host))
    result(o.get("port", "5432") == "5432",
           "%s: PostgreSQL port %s is the one postgres listens on (5432)" % (where, o.get("port")))
    db = o.get("dbname", "")
    want_db = penv.get("POSTGRES_DB", owner)
    result(db == want_db, "%s: database '%s' is the one postgres creates ('%s')" % (where, db, want_db))
    user = o.get("user", "")
    result(user in logins, "%s: PostgreSQL user '%s' is a role postgres creates (%s)"
           % (where, user, ", ".join(sorted(logins))))
    if user in logins:
        result(o.get("password", "") == logins[user],
               "%s: the password of PostgreSQL user '%s' is the one it is created with" % (where, user))


def check_amqp(where, url, services):
    if librabbitmq is None:
        result(False, "%s: librabbitmq is not installed, cannot parse %s" % (where, url))
        return
    try:
        a = parse_amqp(url)
    except ValueError as e:
        result(False, "%s: %s: %s" % (where, url, e))
        return
    renv = env_of(services.get("rabbitmq") or {})
    want_vhost = renv.get("RABBITMQ_DEFAULT_VHOST", "/")
    result(a["vhost"] != "", "%s: AMQP vhost of %s is not empty (an empty path is the vhost ''; "
           "write %%2f for '/')" % (where, url))
    result(a["vhost"] == want_vhost, "%s: AMQP vhost '%s' is the broker's ('%s')"
           % (where, a["vhost"], want_vhost))
    result(hostnames(services).get(a["host"]) == "rabbitmq",
           "%s: AMQP host '%s' is the rabbitmq service" % (where, a["host"]))
    result(a["port"] == (5671 if a["ssl"] else 5672), "%s: AMQP port %d" % (where, a["port"]))
    result(a["user"] == renv.get("RABBITMQ_DEFAULT_USER", "guest") and
           a["password"] == renv.get("RABBITMQ_DEFAULT_PASS", "guest"),
           "%s: AMQP user '%s' and password are the broker's" % (where, a["user"]))


def check_urls(services, root):
    seen = 0
    for name, svc in sorted(services.items()):
        for where, text in strings_of(svc):
            for m in URL_RE.finditer(text):
                url, scheme = m.group(0), m.group(1).lower()
                label = "service '%s' %s" % (name, where)
                seen += 1
                if scheme in ("postgresql", "postgres"):
                    check_pg(label, url, services, root)
                elif scheme in ("amqp", "amqps"):
                    check_amqp(label, url, services)
                elif scheme in ("http", "https"):
                    u = urllib.parse.urlsplit(url)
                    result(bool(u.hostname), "%s: %s has a host" % (label, url))
                else:
                    result(False, "%s: %s: no service speaks '%s'" % (label, url, scheme))
    result(seen >= 2, "the compose file names its database and broker by URL (%d URLs)" % seen)


# ---------------------------------------------------------------- workflow

def check_workflow(path):
    try:
        wf = yaml.safe_load(open(path))
    except (OSError, yaml.YAMLError) as e:
        result(False, "%s is valid YAML: %s" % (path, e))
        return
    result(isinstance(wf, dict), "%s is valid YAML" % path)
    jobs = (wf or {}).get("jobs") or {}
    for job in ("test", "compose", "compose-up"):
        result(job in jobs, "%s has the job '%s'" % (path, job))
    steps = (jobs.get("compose-up") or {}).get("steps") or []
    runs = [(s.get("run") or "", s) for s in steps if isinstance(s, dict)]
    result(any("docker compose up -d --build" in r for r, _ in runs),
           "the compose-up job runs 'docker compose up -d --build'")
    result(any("fcgi_get.py" in r and "/ready" in r for r, _ in runs),
           "the compose-up job waits for /ready on each API replica")
    result(any("primera_cita.py" in r for r, _ in runs),
           "the compose-up job signs in and books an appointment")
    down = [s for r, s in runs if "docker compose down -v" in r]
    result(bool(down) and all("always()" in str(s.get("if", "")) for s in down),
           "the compose-up job always runs 'docker compose down -v'")


def main(argv):
    path, dockerfile, root, want, built, workflow = argv[1:7]
    cfg = yaml.safe_load(open(path)) or {}
    services = cfg.get("services") or {}
    stages = set()
    for line in open(dockerfile):
        m = re.match(r"\s*FROM\s+\S+\s+AS\s+(\S+)", line, re.I)
        if m:
            stages.add(m.group(1).lower())

    for name in want.split():
        result(name in services, "service '%s' is defined" % name)
    for name in built.split():
        result("build" in (services.get(name) or {}), "service '%s' is built from this repository" % name)

    for name, svc in sorted(services.items()):
        build = svc.get("build")
        if build is None:
            continue
        if isinstance(build, str):
            build = {"context": build}
        ctx = os.path.realpath(os.path.join(root, build.get("context", ".")))
        df = build.get("dockerfile", "Dockerfile")
        result(ctx == os.path.realpath(root),
               "service '%s' builds with the repository root as context (got %s)" % (name, ctx))
        result(os.path.normpath(df) == os.path.normpath(dockerfile),
               "service '%s' builds from %s (got %s)" % (name, dockerfile, df))
        target = build.get("target")
        result(target is None or target.lower() in stages,
               "service '%s' build target '%s' is a stage of %s" % (name, target, dockerfile))

    check_urls(services, root)
    check_workflow(workflow)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
