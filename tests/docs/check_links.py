#!/usr/bin/env python3
"""The repository stands alone: its documents link only inside it.

Fails (exit 1, one line per finding) when
  * a tracked file mentions the team's shared directory next to the
    clone (a parent-directory path ending in "shared/"), which a clone
    does not have;
  * a tracked file names the architecture document other than by its
    path in the repository, docs/ARCHITECTURE.md;
  * a link in a tracked Markdown file (README.md, docs/, every *.md) is
    relative and leaves the repository, or names a file or directory
    that does not exist.
Links to web addresses (scheme:...) and same-page anchors are not
followed.  Run from anywhere: python3 tests/docs/check_links.py
"""
import os
import re
import subprocess
import sys
from urllib.parse import unquote

ROOT = os.path.realpath(os.path.join(os.path.dirname(__file__), "..", ".."))
SHARED = re.compile(r"\.\./+" + "shared" + r"\b")
ARCH = "ARCHITECTURE" + ".md"
INLINE = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+[\"'(][^)]*)?\)")
REFDEF = re.compile(r"^\s{0,3}\[[^\]]+\]:\s*<?(\S+?)>?(?:\s+.*)?$")
SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")


def tracked():
    try:
        out = subprocess.run(["git", "-C", ROOT, "ls-files", "-z"],
                             check=True, capture_output=True).stdout
        return [f for f in out.decode().split("\0") if f]
    except (OSError, subprocess.CalledProcessError):
        files = []
        for d, dirs, names in os.walk(ROOT):
            dirs[:] = [x for x in dirs
                       if x not in (".git", "node_modules", "build", "var")]
            files += [os.path.relpath(os.path.join(d, n), ROOT) for n in names]
        return files


def text_of(path):
    try:
        with open(os.path.join(ROOT, path), "rb") as f:
            data = f.read()
    except OSError:
        return None
    if b"\0" in data:
        return None
    return data.decode("utf-8", "replace")


def strip_code(line):
    """A line without its inline code spans (`...`)."""
    return re.sub(r"(`+).*?\1", "", line)


def links(text):
    """(line number, target) of every link outside fenced code blocks."""
    fence = None
    for n, line in enumerate(text.split("\n"), 1):
        m = re.match(r"^\s{0,3}(`{3,}|~{3,})", line)
        if m:
            if fence is None:
                fence = m.group(1)[0]
            elif m.group(1)[0] == fence:
                fence = None
            continue
        if fence is not None:
            continue
        line = strip_code(line)
        for m in INLINE.finditer(line):
            yield n, m.group(1)
        m = REFDEF.match(line)
        if m:
            yield n, m.group(1)


def check_link(md, target):
    """None when fine, else why not."""
    if SCHEME.match(target) or target.startswith("#"):
        return None
    path = unquote(target.split("#", 1)[0].split("?", 1)[0])
    if not path:
        return None
    if path.startswith("/"):
        full = os.path.normpath(os.path.join(ROOT, path.lstrip("/")))
    else:
        full = os.path.normpath(os.path.join(ROOT, os.path.dirname(md), path))
    if os.path.commonpath([ROOT, full]) != ROOT:
        return "leaves the repository"
    if not os.path.exists(full):
        return "does not exist"
    return None


def main():
    problems = []
    files = tracked()
    me = os.path.relpath(os.path.realpath(__file__), ROOT)
    for f in files:
        if f == me:
            continue
        text = text_of(f)
        if text is None:
            continue
        for n, line in enumerate(text.split("\n"), 1):
            if SHARED.search(line):
                problems.append("%s:%d: names a directory outside the "
                                "repository: %s" % (f, n, line.strip()))
            for m in re.finditer(r"(\S*)" + re.escape(ARCH), line):
                if not m.group(1).rstrip("`'\"(<[").endswith("docs/"):
                    problems.append("%s:%d: names %s without its path "
                                    "docs/%s" % (f, n, ARCH, ARCH))
        if f.endswith(".md"):
            for n, target in links(text):
                why = check_link(f, target)
                if why:
                    problems.append("%s:%d: link %s %s" % (f, n, target, why))
    for p in problems:
        print("docs: FAIL: " + p, file=sys.stderr)
    print("docs: %d Markdown files and %d tracked files checked, %d problems"
          % (sum(f.endswith(".md") for f in files), len(files), len(problems)))
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
