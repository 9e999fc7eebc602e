#!/usr/bin/env python3
"""GET one path straight from a vetred-api process over FastCGI.

Usage: fcgi_get.py ADDRESS PATH [--wait SECONDS]

ADDRESS is host:port (what VETRED_API_SOCKET names in compose, e.g. the
replica's container address and 9000) or the path of a unix socket (the
local stack's var/*/run/api-N.sock).  Prints the status and the body;
exits 0 on status 200, 1 otherwise.  With --wait, tries again every
second until a 200 or SECONDS have passed.  This reaches one replica
whatever nginx balances to, which is how the CI compose job checks
/ready on each of them.
"""
import socket
import struct
import sys
import time

FCGI_BEGIN_REQUEST, FCGI_END_REQUEST, FCGI_PARAMS, FCGI_STDIN = 1, 3, 4, 5
FCGI_STDOUT, FCGI_STDERR, FCGI_RESPONDER = 6, 7, 1


def record(rtype, body, req_id=1):
    """One FastCGI record (version 1, no padding)."""
    return struct.pack("!BBHHBx", 1, rtype, req_id, len(body), 0) + body


def pair(name, value):
    """A name-value pair of FCGI_PARAMS."""
    out = b""
    for s in (name, value):
        n = len(s)
        out += struct.pack("!B", n) if n < 128 else struct.pack("!I", n | 0x80000000)
    return out + name + value


def connect(address, timeout):
    if "/" in address or ":" not in address:
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.settimeout(timeout)
        s.connect(address)
        return s
    host, _, port = address.rpartition(":")
    return socket.create_connection((host, int(port)), timeout=timeout)


def get(address, path, timeout=5.0):
    """(status, body) of GET path from the FastCGI server at address."""
    uri = path.encode()
    params = {
        b"REQUEST_METHOD": b"GET", b"REQUEST_URI": uri,
        b"SCRIPT_NAME": uri.split(b"?")[0],
        b"QUERY_STRING": uri.partition(b"?")[2], b"SERVER_PROTOCOL": b"HTTP/1.1",
        b"REMOTE_ADDR": b"127.0.0.1", b"CONTENT_LENGTH": b"",
        b"REQUEST_ID": b"fcgi-get-probe",
    }
    body = b"".join(pair(k, v) for k, v in params.items())
    s = connect(address, timeout)
    try:
        s.sendall(record(FCGI_BEGIN_REQUEST, struct.pack("!HB5x", FCGI_RESPONDER, 0))
                  + record(FCGI_PARAMS, body) + record(FCGI_PARAMS, b"")
                  + record(FCGI_STDIN, b""))
        data, out = b"", b""
        while True:
            while len(data) < 8:
                chunk = s.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed before the end of the request")
                data += chunk
            _, rtype, _, clen, plen = struct.unpack("!BBHHBx", data[:8])
            while len(data) < 8 + clen + plen:
                chunk = s.recv(65536)
                if not chunk:
                    raise ConnectionError("connection closed inside a record")
                data += chunk
            content, data = data[8:8 + clen], data[8 + clen + plen:]
            if rtype == FCGI_STDOUT:
                out += content
            elif rtype == FCGI_END_REQUEST:
                break
    finally:
        s.close()
    head, _, rest = out.partition(b"\r\n\r\n")
    status = 200
    for line in head.split(b"\r\n"):
        if line.lower().startswith(b"status:"):
            status = int(line.split()[1])
    return status, rest.decode("utf-8", "replace")


def main(argv):
    args = argv[1:]
    wait = 0.0
    if "--wait" in args:
        i = args.index("--wait")
        wait = float(args[i + 1])
        del args[i:i + 2]
    if len(args) != 2:
        print(__doc__.strip(), file=sys.stderr)
        return 2
    deadline = time.monotonic() + wait
    while True:
        try:
            status, body = get(args[0], args[1])
        except (OSError, ValueError) as e:
            status, body = 0, "no answer: %s" % e
        if status == 200 or time.monotonic() >= deadline:
            break
        time.sleep(1)
    print("%s %s: %d %s" % (args[0], args[1], status, body.strip()))
    return 0 if status == 200 else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
