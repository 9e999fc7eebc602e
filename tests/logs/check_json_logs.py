#!/usr/bin/env python3
"""Every line of the services' logs is one JSON object (a vr_log line).

Usage: check_json_logs.py LOGDIR

Checks what the local stack writes under LOGDIR: migrate.log
(vetred-migrate, the server's notices included), cifrar.log
(vetred-admin), scheduler.log (vetred-scheduler), worker*.log (vetred-worker
and the tests' consumer), api-*.log (vetred-api).  Each line must parse
as a JSON object with string fields time, level, service and msg, level
one of debug/info/warn/error.  Prints one line per file and exits 1 when
any line is not such an object (or a required log is missing).
"""
import glob
import json
import os
import sys

REQUIRED = ("migrate.log", "cifrar.log", "scheduler.log", "worker.log")
LEVELS = {"debug", "info", "warn", "error"}


def bad_line(line):
    """Why a log line is not a vr_log JSON line, or None."""
    try:
        obj = json.loads(line)
    except ValueError as e:
        return "not JSON (%s)" % e
    if not isinstance(obj, dict):
        return "not a JSON object"
    for key in ("time", "level", "service", "msg"):
        if not isinstance(obj.get(key), str):
            return "no string field %r" % key
    if obj["level"] not in LEVELS:
        return "level %r" % obj["level"]
    return None


def check_file(path):
    """(lines, failures) of one file; failures are printed."""
    n = failed = 0
    with open(path, encoding="utf-8", errors="replace") as f:
        for no, line in enumerate(f, 1):
            n += 1
            why = bad_line(line.rstrip("\n"))
            if why is not None:
                failed += 1
                if failed <= 5:
                    print("logs: FAIL %s:%d: %s: %.160s" % (path, no, why, line.rstrip()),
                          file=sys.stderr)
    return n, failed


def main(argv):
    if len(argv) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    logdir = argv[1]
    files = [os.path.join(logdir, f) for f in REQUIRED]
    files += sorted(glob.glob(os.path.join(logdir, "api-*.log")))
    files += sorted(f for f in glob.glob(os.path.join(logdir, "worker-*.log"))
                    if f not in files)
    status = 0
    for path in files:
        if not os.path.exists(path):
            print("logs: FAIL %s is missing" % path, file=sys.stderr)
            status = 1
            continue
        n, failed = check_file(path)
        print("logs: %s: %d lines, %d not JSON" % (path, n, failed))
        if failed:
            status = 1
    return status


if __name__ == "__main__":
    sys.exit(main(sys.argv))
