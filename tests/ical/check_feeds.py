#!/usr/bin/env python3
"""Every iCalendar feed the stack wrote, read by an independent parser.

Python's icalendar (installed into var/venv by ci/deps.sh) parses the
renderer's golden file (tests/unit/golden/agenda.ics) and every feed the
calendar worker wrote during the test run (<stack dir>/ical/feeds/*.ics),
and checks what a subscribing client relies on: VERSION, PRODID and
METHOD; each VEVENT with UID, DTSTAMP, DTSTART before DTEND, SEQUENCE,
STATUS and SUMMARY; a VTIMEZONE for every TZID used; UIDs unique; and no
owner's data (no phone number, no e-mail address but the organizer's).
Exits non-zero on any failure, or when no feed was written at all.

Usage: check_feeds.py --dir <stack dir>/ical [--golden FILE]
"""
import argparse
import glob
import os
import re
import sys

import icalendar

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
PHONE = re.compile(r"\+51\d{8,9}|\b9\d{8}\b")
EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,}")
REQUIRED = ("UID", "DTSTAMP", "DTSTART", "DTEND", "SEQUENCE", "STATUS", "SUMMARY")

failures = []


def fail(msg):
    failures.append(msg)
    print("check_feeds: " + msg, file=sys.stderr)


def check(path):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        cal = icalendar.Calendar.from_ical(raw)
    except Exception as e:  # a feed a client cannot read is the failure
        fail("%s: does not parse: %s" % (path, e))
        return 0
    for prop in ("VERSION", "PRODID", "METHOD"):
        if prop not in cal:
            fail("%s: no %s" % (path, prop))
    zones = {str(z["TZID"]) for z in cal.walk("VTIMEZONE")}
    uids = set()
    n = 0
    for ev in cal.walk("VEVENT"):
        n += 1
        uid = str(ev.get("UID"))
        for prop in REQUIRED:
            if prop not in ev:
                fail("%s: %s has no %s" % (path, uid, prop))
        if uid in uids:
            fail("%s: UID %s twice" % (path, uid))
        uids.add(uid)
        for prop in ("DTSTART", "DTEND"):
            tzid = ev[prop].params.get("TZID") if prop in ev else None
            if tzid is not None and tzid not in zones:
                fail("%s: %s %s in %s, which has no VTIMEZONE" % (path, uid, prop, tzid))
        if "DTSTART" in ev and "DTEND" in ev and ev.decoded("DTEND") <= ev.decoded("DTSTART"):
            fail("%s: %s ends before it starts" % (path, uid))
        text = " ".join(str(ev.get(p, "")) for p in ("SUMMARY", "DESCRIPTION", "LOCATION"))
        if PHONE.search(text):
            fail("%s: %s shows a phone number" % (path, uid))
        if EMAIL.search(text):
            fail("%s: %s shows an e-mail address" % (path, uid))
    return n


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--dir", required=True, help="the stack's ical directory")
    ap.add_argument("--golden", default=os.path.join(REPO, "tests", "unit", "golden", "agenda.ics"))
    a = ap.parse_args()
    if check(a.golden) != 4:
        fail("%s: 4 events expected" % a.golden)
    feeds = sorted(glob.glob(os.path.join(a.dir, "feeds", "*.ics")))
    if not feeds:
        fail("no feed under %s/feeds: did the calendar tests run?" % a.dir)
    events = sum(check(f) for f in feeds)
    print("check_feeds: %d feeds, %d events, %d failure(s)" % (len(feeds), events, len(failures)))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
