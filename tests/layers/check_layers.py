#!/usr/bin/env python3
"""check_layers.py - the layers of the C code call downward only.

Builds the #include graph of lib/ and of fcgi-api/ and fails when:
  - a header of fcgi-api/ is not given a layer below (LAYERS);
  - a file includes a header of a layer above its own (a .c file is of
    the layer of the header it implements: the one declaring the api_
    names it defines; main.c, which implements none, is of the top one);
  - a .c file names an api_ function or object declared in a header of a
    layer above its own (a prototype of its own would get round the
    includes, not round this);
  - the modules (a header with the files implementing it) include each
    other in a circle, in lib/ or in fcgi-api/;
  - anything in lib/ includes a header of a service directory (fcgi-api/,
    db/, ...): the shared core knows no service.

Usage: check_layers.py [ROOT]     (default: the repository)
       check_layers.py --self-test   (the checks fail on trees that break them)
"""
import os
import re
import sys
import tempfile

# fcgi-api/: the layers, bottom first, and the headers of each
# (fcgi-api/req.h and docs/ARCHITECTURE.md say what each layer is).
LAYERS = [
    ("base", ["req.h", "sql.h", "metrics.h"]),
    ("transport", ["transport.h"]),
    ("problem", ["problem.h"]),
    ("input", ["params.h"]),
    ("authz", ["authz.h"]),
    ("resources", ["resources.h"]),
    ("routing", ["route.h"]),
    ("process", ["monitor.h"]),
]
SERVICES = {"fcgi-api": ("api_", LAYERS)}
LIB = "lib"
NOT_SERVICES = {LIB, "tests", "build", "var", ".git"}

INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]', re.M)


def strip(text):
    """The C text without comments and string or character literals."""
    out = re.sub(r'/\*.*?\*/', ' ', text, flags=re.S)
    out = re.sub(r'//[^\n]*', ' ', out)
    return re.sub(r'"(\\.|[^"\\\n])*"|\'(\\.|[^\'\\\n])*\'', '""', out)


def sources(d):
    return sorted(os.path.join(d, f) for f in os.listdir(d)
                  if f.endswith((".c", ".h")))


def service_dirs(root):
    return sorted(d for d in os.listdir(root)
                  if os.path.isdir(os.path.join(root, d))
                  and d not in NOT_SERVICES
                  and any(f.endswith((".c", ".h"))
                          for f in os.listdir(os.path.join(root, d))))


def includes(root, path):
    """(kind, name, resolved path or None) of each include of path."""
    own = os.path.dirname(path)
    for kind, name in INCLUDE.findall(open(path, encoding="utf-8").read()):
        hit = None
        if kind == '"':
            for d in (own, os.path.join(root, LIB)):
                if os.path.exists(os.path.join(d, name)):
                    hit = os.path.normpath(os.path.join(d, name))
                    break
        yield kind, name, hit


def declared(path, prefix):
    """The prefixed functions, objects and types a header declares."""
    return set(re.findall(r'\b(%s\w+)\s*[(\[;]' % prefix,
                          strip(open(path, encoding="utf-8").read())))


def defined(path, prefix):
    """The prefixed names a .c file defines (BSD style: name at column 0)."""
    text = open(path, encoding="utf-8").read()
    code = strip(text)
    names = set(re.findall(r'^(%s\w+)\s*\(' % prefix, code, re.M))
    names |= set(m.group(1) for m in re.finditer(
        r'^(?!static)[^\s#][^;(]*?\b(%s\w+)\s*(\[[^\]]*\])?\s*=' % prefix,
        code, re.M))
    names |= set(re.findall(r'\.globa?l\s+(%s\w+)' % prefix, text))
    return names


def cycle(graph):
    """One circle of graph (node -> set of nodes) as a list, or None."""
    state, stack = {}, []

    def visit(n):
        state[n] = 1
        stack.append(n)
        for m in sorted(graph.get(n, ())):
            if state.get(m) == 1:
                return stack[stack.index(m):] + [m]
            if m not in state:
                found = visit(m)
                if found:
                    return found
        stack.pop()
        state[n] = 2
        return None

    for n in sorted(graph):
        if n not in state:
            found = visit(n)
            if found:
                return found
    return None


def check_dir(root, d, prefix, layers, errors):
    """Layers, symbols and circles of one directory of C files."""
    base = os.path.join(root, d)
    rank = {}
    for i, (layer, headers) in enumerate(layers):
        for h in headers:
            rank[os.path.join(base, h)] = (i, layer)
            if not os.path.exists(os.path.join(base, h)):
                errors.append("%s/%s: listed in a layer but missing" % (d, h))
    top = (len(layers) - 1, layers[-1][0]) if layers else (0, d)
    files = sources(base)
    headers = [f for f in files if f.endswith(".h")]
    for h in headers:
        if h not in rank:
            if layers:
                errors.append("%s: a header with no layer (add it to "
                              "LAYERS in %s)" % (os.path.relpath(h, root),
                                                 os.path.relpath(__file__)))
            rank[h] = top
    decl = {h: declared(h, prefix) for h in headers}
    owner = {n: h for h in headers for n in decl[h]}

    module = {h: h for h in headers}
    for c in (f for f in files if f.endswith(".c")):
        impl = {owner[n] for n in defined(c, prefix) if n in owner}
        rel = os.path.relpath(c, root)
        if len(impl) > 1:
            errors.append("%s: implements %s: one module a file" % (
                rel, ", ".join(sorted(os.path.basename(h) for h in impl))))
        if impl:
            module[c] = sorted(impl)[0]
            rank[c] = rank[module[c]]
        else:
            module[c] = c
            rank[c] = top

    graph = {}
    for f in files:
        rel = os.path.relpath(f, root)
        for kind, name, hit in includes(root, f):
            if hit is None or os.path.dirname(hit) != base:
                continue
            if rank[hit][0] > rank[f][0]:
                errors.append("%s (%s) includes %s (%s): layers call "
                              "downward only" % (rel, rank[f][1], name,
                                                 rank[hit][1]))
            if module[hit] != module[f]:
                graph.setdefault(module[f], set()).add(module[hit])
        if f.endswith(".c"):
            used = set(re.findall(r'\b(%s\w+)\b' % prefix,
                                  strip(open(f, encoding="utf-8").read())))
            for n in sorted(used):
                h = owner.get(n)
                if h is not None and rank[h][0] > rank[f][0]:
                    errors.append("%s (%s) uses %s of %s (%s): layers "
                                  "call downward only" % (
                                      rel, rank[f][1], n,
                                      os.path.basename(h), rank[h][1]))
    found = cycle(graph)
    if found:
        errors.append("%s: modules include each other in a circle: %s" % (
            d, " -> ".join(os.path.relpath(n, root) for n in found)))
    return sum(len(v) for v in graph.values())


def check_lib(root, errors):
    """lib/ includes nothing of a service directory."""
    service_headers = {}
    for s in service_dirs(root):
        for f in sources(os.path.join(root, s)):
            if f.endswith(".h"):
                service_headers.setdefault(os.path.basename(f), s)
    for f in sources(os.path.join(root, LIB)):
        rel = os.path.relpath(f, root)
        for kind, name, hit in includes(root, f):
            base = os.path.basename(name)
            if hit is not None and os.path.dirname(hit) != os.path.join(
                    root, LIB):
                errors.append("%s includes %s: lib/ knows no service" % (
                    rel, os.path.relpath(hit, root)))
            elif kind == '"' and hit is None:
                errors.append("%s includes \"%s\", which is not in lib/"
                              % (rel, name))
            elif kind == '<' and (base in service_headers or
                                  name.split("/")[0] in service_dirs(root)):
                errors.append("%s includes <%s> of %s/: lib/ knows no "
                              "service" % (rel, name, service_headers.get(
                                  base, name.split("/")[0])))


def check(root):
    errors = []
    check_lib(root, errors)
    edges = check_dir(root, LIB, "vr_", [], errors)
    for d, (prefix, layers) in SERVICES.items():
        if os.path.isdir(os.path.join(root, d)):
            edges += check_dir(root, d, prefix, layers, errors)
    return errors, edges


def write(root, files):
    for path, text in files.items():
        os.makedirs(os.path.dirname(os.path.join(root, path)), exist_ok=True)
        with open(os.path.join(root, path), "w", encoding="utf-8") as fp:
            fp.write(text)


def self_test():
    """A tree that follows the rules passes; each broken rule fails."""
    good = {
        "lib/vr.h": "int vr_x(void);\n",
        "lib/x.c": '#include "vr.h"\nint\nvr_x(void)\n{\n\treturn 0;\n}\n',
        "fcgi-api/req.h": '#include "vr.h"\nvoid api_now(void);\n',
        "fcgi-api/req.c": '#include "req.h"\nvoid\napi_now(void)\n{\n}\n',
        "fcgi-api/sql.h": "extern int api_sql;\n",
        "fcgi-api/sql.c": '#include "sql.h"\nint api_sql = 1;\n',
        "fcgi-api/transport.h": '#include "req.h"\nvoid api_serve(void);\n',
        "fcgi-api/http.c": '#include "transport.h"\nvoid\napi_serve(void)'
                           '\n{\n\tapi_now();\n}\n',
        "fcgi-api/route.h": '#include "req.h"\nvoid api_dispatch(void);\n'
                            'extern const int api_nroutes;\n',
        "fcgi-api/router.c": '#include "route.h"\n#include "transport.h"\n'
                             'const int api_nroutes = 1;\nvoid\n'
                             'api_dispatch(void)\n{\n\tapi_serve();\n}\n',
        "fcgi-api/main.c": '#include "route.h"\nint\nmain(void)\n{\n'
                           '\tapi_dispatch();\n\treturn 0;\n}\n',
        "db/admin.h": "int admin_x(void);\n",
    }
    bad = {
        "an upward include": {"fcgi-api/http.c": '#include "transport.h"\n'
                              '#include "route.h"\nvoid\napi_serve(void)\n'
                              '{\n\tapi_dispatch();\n}\n'},
        "an upward call by a prototype of its own": {
            "fcgi-api/http.c": '#include "transport.h"\nvoid api_dispatch('
                               'void);\nvoid\napi_serve(void)\n{\n'
                               '\tapi_dispatch();\n}\n'},
        "lib including a service header": {
            "lib/x.c": '#include "vr.h"\n#include "../fcgi-api/req.h"\n'},
        "lib including a header found only in a service": {
            "lib/x.c": '#include "vr.h"\n#include "transport.h"\n'},
        "lib including <admin.h> of db/": {
            "lib/x.c": '#include "vr.h"\n#include <admin.h>\n'},
        "a header with no layer": {"fcgi-api/extra.h": "void api_y(void);\n"},
        "a file of two modules": {
            "fcgi-api/req.c": '#include "transport.h"\nvoid\napi_now(void)'
                              '\n{\n}\nvoid\napi_serve(void)\n{\n}\n'},
        "a circle within a layer": {
            "fcgi-api/sql.h": '#include "req.h"\nextern int api_sql;\n',
            "fcgi-api/req.h": '#include "sql.h"\nvoid api_now(void);\n'},
        "a circle in lib/": {
            "lib/a.h": '#include "b.h"\nint vr_a(void);\n',
            "lib/b.h": '#include "a.h"\nint vr_b(void);\n'},
    }
    layers = [("base", ["req.h", "sql.h"]), ("transport", ["transport.h"]),
              ("routing", ["route.h"]), ("process", [])]
    saved = dict(SERVICES)
    SERVICES["fcgi-api"] = ("api_", layers)
    failures = 0
    try:
        with tempfile.TemporaryDirectory() as t:
            write(t, good)
            errors, edges = check(t)
            if errors or edges == 0:
                print("self-test: a tree that follows the rules failed:",
                      errors or "no edges seen")
                failures += 1
        for what, change in bad.items():
            with tempfile.TemporaryDirectory() as t:
                write(t, good)
                write(t, change)
                errors, _ = check(t)
                if not errors:
                    print("self-test: %s went unnoticed" % what)
                    failures += 1
                else:
                    print("self-test: %s: %s" % (what, errors[0]))
    finally:
        SERVICES.clear()
        SERVICES.update(saved)
    return failures


def main(argv):
    if argv[1:] == ["--self-test"]:
        return 1 if self_test() else 0
    root = argv[1] if len(argv) > 1 else os.path.join(
        os.path.dirname(os.path.abspath(__file__)), "..", "..")
    root = os.path.normpath(root)
    errors, edges = check(root)
    for e in errors:
        print(e)
    if errors:
        return 1
    if edges == 0:
        print("no include between modules seen: wrong root?")
        return 1
    print("layers: %d includes between modules, no circle, none upward; "
          "lib/ includes no service" % edges)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
