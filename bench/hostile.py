"""The slowest messages we can build, timed through the run path: does any stall a run?

    .venv/bin/python bench/hostile.py [--quick]

Each case is a message made to hit one known weakness at full size: a quoted-header line of
300,000 spaces ("From" + spaces, the pattern that backtracked ~10 minutes), every line
keyword the parsers look for followed by 300,000 of one character, 100 KB values of every
header the reader touches, 600,000 MIME parts, MIME nested 5,000 deep, a million short
lines, HTML of lone "<", and a 20 MB attachment. Prints each case slower than 0.5 CPU seconds, then
the slowest beside the target: well under the per-message budget ([limits] message_seconds,
60 s), and the parts limit refusing 600,000 parts in well under a second. ``--quick`` uses
a tenth of the sizes.
"""

from __future__ import annotations

import logging
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from conftest import ORG_TOML  # noqa: E402
from fuzzmail import RunPath  # noqa: E402

TARGET_SLOWEST = 5.0
TARGET_PARTS = 1.0

LINE_HEADS = ("From", "**Von", "Sent", "De", "wrote", "schrieb", "On", "Re", "Fw", "#1", "priority", "snooze 5",
              "due", "done", "a@", "--", "> ", "12:", "http://", "[", "")
PUMPS = (" ", "\t", "\xa0", "*", "-", "a", ".", ":", "@", "> ", "=", "#1 ", "1", "<", "_")
HEADERS = ("From", "To", "Cc", "Reply-To", "Subject", "Message-ID", "In-Reply-To", "References", "Date",
           "Content-Type", "Content-Transfer-Encoding", "Content-Disposition", "MIME-Version",
           "Authentication-Results", "Auto-Submitted", "Received", "X-MS-Exchange-Inbox-Rules-Loop")
JUNK = ('"', "a;", "(", " a", "@", "=?utf-8?q?a?= ", "<a@b>,", "\\", "a,", ";\"", "<")


def message(subject: str, body: str, extra: str = "") -> bytes:
    head = (f"From: Sam Seller <sam@acme.test>\r\nTo: handoffs@acme.test\r\nSubject: {subject}\r\n"
            f"Message-ID: <{time.perf_counter_ns()}@acme.test>\r\nDate: Tue, 1 Dec 2026 09:00:00 -0600\r\n{extra}"
            "Content-Type: text/plain; charset=utf-8\r\n\r\n")
    return (head + body).encode("utf-8")


def cases(scale: int) -> Iterator[tuple[str, bytes]]:
    n = 300_000 // scale
    for head in LINE_HEADS:
        for pump in PUMPS:
            line = head + pump * (n // len(pump)) + "x"
            yield f"body line {head!r}+{pump!r}*{n:,}", message("Fwd: invoice", f"please handle\r\n\r\n{line}\r\n")
            yield f"reply line {head!r}+{pump!r}*{n:,}", message("Re: [#1] invoice", f"{line}\r\n")
    size = 100_000 // scale
    for name in HEADERS:
        for junk in JUNK:
            value = junk * (size // len(junk))
            yield f"header {name}: {junk!r}*{size:,}", message("Fwd: x", "body\r\n", f"{name}: {value}\r\n")
    yield "600,000 MIME parts" if scale == 1 else f"{600_000 // scale:,} MIME parts", (
        b"From: sam@acme.test\r\nTo: handoffs@acme.test\r\nSubject: parts\r\nContent-Type: multipart/mixed; "
        b"boundary=b\r\n\r\n" + b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" * (600_000 // scale) + b"--b--\r\n")
    depth = 5000 // scale
    nested = b"".join(b"Content-Type: multipart/mixed; boundary=b%d\r\n\r\n--b%d\r\n" % (i, i) for i in range(depth))
    yield f"MIME nested {depth:,} deep", b"From: sam@acme.test\r\nTo: handoffs@acme.test\r\nSubject: deep\r\n" + nested
    yield f"{1_000_000 // scale:,} short lines", message("Fwd: lines", "a\r\n" * (1_000_000 // scale))
    yield f"{1_000_000 // scale:,} quoted lines", message("Re: [#1] x", "> a\r\n" * (1_000_000 // scale))
    html = "<" * (300_000 // scale)
    yield f"HTML of {len(html):,} lone '<'", message("Fwd: html", "").replace(
        b"text/plain", b"text/html") + html.encode()
    blob = b"QUJD" * (5_000_000 // scale)
    yield f"{len(blob) / 1e6:.0f} MB base64 attachment", (
        b"From: sam@acme.test\r\nTo: handoffs@acme.test\r\nSubject: Fwd: big\r\nContent-Type: multipart/mixed; "
        b"boundary=b\r\n\r\n--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: "
        b"application/pdf; name=a.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\n" + blob + b"\r\n--b--\r\n")
    yield "one 300,000-character word", message("Fwd: word", "a" * (300_000 // scale))


def main() -> None:
    logging.getLogger("nudger").addHandler(logging.NullHandler())
    logging.getLogger("nudger").propagate = False
    scale = 10 if "--quick" in sys.argv else 1
    worst: list[tuple[float, str, str]] = []
    parts_time = 0.0
    with tempfile.TemporaryDirectory() as tmp:
        path = RunPath(Path(tmp), ORG_TOML)
        path.feed(message("Fwd: warm up", "templates compiled, imports done\r\n"))
        parts = message("Fwd: warm up", "\r\n--b\r\n" * 1001)
        path.feed(parts.replace(b"text/plain;", b"multipart/mixed; boundary=b;"))
        for _i, (name, raw) in enumerate(cases(scale)):
            verdict = path.feed(raw)
            problem = verdict.escaped or verdict.internal
            worst.append((verdict.cpu, name, verdict.outcome))
            if "MIME parts" in name:
                parts_time = verdict.cpu
            if verdict.cpu > 0.5 or problem:
                print(f"  {verdict.cpu:7.2f} s CPU ({verdict.seconds:.2f} s wall)  {name}: {verdict.outcome}"
                      + (f" -- {problem.strip().splitlines()[-1]}" if problem else ""), flush=True)
    worst.sort(reverse=True)
    print(f"cases                {len(worst)}")
    print(f"slowest              {worst[0][0]:.2f} s   target < {TARGET_SLOWEST:g} s  ({worst[0][1]}: {worst[0][2]})")
    print(f"600,000 MIME parts   {parts_time:.2f} s   target < {TARGET_PARTS:g} s (refused by [limits] max_parts)")
    print("next slowest         " + "; ".join(f"{s:.2f} s {n}" for s, n, _ in worst[1:6]))


if __name__ == "__main__":
    main()
