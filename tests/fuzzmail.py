"""Hostile and broken email as hypothesis strategies, and the run path they go through.

Shared by the suite's fuzz test (a bounded, derandomized profile) and ``bench/fuzz.py``
(the long run, not in CI). Messages are built from parts so that most of them get past the
first check and reach the parser, the classifier and the decision code: malformed MIME,
bad and unknown charsets, broken base64 and quoted-printable, deep nesting, huge and
repeated headers, raw 8-bit (RFC 6532) addresses and Message-IDs, forged trace headers,
lines built to make patterns backtrack, and plain binary junk.
"""

from __future__ import annotations

import base64
import traceback
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from hypothesis import strategies as st

from nudger.config import load_config
from nudger.inbound.sources import RawMessage, StdinSource
from nudger.pipeline import RunSummary, ingest_one
from nudger.runtime import Runtime
from nudger.state.store import Store

ALLOWED = "acme.test"

_SENDERS = (
    "sam@acme.test", "Sam Seller <sam@acme.test>", "dana@acme.test", "Jörg Müller <jörg@acme.test>",
    "=?utf-8?q?J=C3=B6rg?= <joerg@acme.test>", "eve@evil.example@acme.test", "eve%evil.example@acme.test",
    "evil.example!eve@acme.test", "\"eve@evil.example\" <eve@evil.example>", "customer@example.com",
    "MAILER-DAEMON@acme.test", "postmaster@acme.test", "noreply@acme.test", "<>", "", "@acme.test",
    "sam@acme.test, eve@evil.example", "(comment) sam@acme.test", "sam@ACME.TEST", "sam@acme.test.",
    "\"Sam\r\nBcc: x@evil.example\" <sam@acme.test>", "Зоя <зоя@пример.рф>", "björn@acme.test",
)
_TO = ("handoffs@acme.test", "handoffs+7.abcdefghijklmnop@acme.test", "handoffs+d.abcdefghijklmnop@acme.test",
       "handoffs+bounce.3@acme.test", "someone@example.com", "", "handoffs@acme.test, dana@acme.test")
_CHARSETS = ("utf-8", "iso-8859-1", "windows-1252", "x-unknown", "utf-7", "", "us-ascii", "gb2312",
             "utf-16", "\"utf-8", "utf-8'en'", "koi8-r")
_CTES = ("7bit", "8bit", "base64", "quoted-printable", "binary", "x-uuencode", "bogus", "")
_TYPES = ("text/plain", "text/html", "application/pdf", "image/png", "message/rfc822", "text/calendar",
          "message/delivery-status", "application/octet-stream", "text/x-garbage", "multipart/alternative",
          "", "text/")
_FRAGMENTS = (
    "From:", "Von:", "Sent:", "-----Original Message-----", "---------- Forwarded message ---------",
    "On Mon, 1 Jan 2024 at 10:00, Sam <sam@acme.test> wrote:", "> ", ">>>>", "done", "ack friday",
    "due 2026-13-45", "snooze 5", "#12", "@dana", "priority: rush", "**From:**", "Auto-Submitted: auto-replied",
    "=?utf-8?b?", "?=", "=\r\n", "\xa0", "*", "\t", "ü", "\ufeff", "\u202e", "\x00", "é", "日本語",
    "Automatická odpověď", "Out of office",
)
_EXTRA_HEADERS = (
    "Auto-Submitted: auto-replied", "Precedence: bulk", "X-Autoreply: yes", "List-Id: <l.example.com>",
    "X-MS-Exchange-Inbox-Rules-Loop: sam@acme.test", "X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent",
    "X-Vacation: yes", "X-Loop: handoffs@acme.test",
    "Authentication-Results: mx.acme.test; dkim=pass header.d=acme.test; dmarc=pass header.from=acme.test",
    "Authentication-Results: mx.acme.test; dkim=fail header.d=acme.test",
    "Received: from mx.acme.test by mx.acme.test", "In-Reply-To: <nudger.7.1@acme.test>",
    "References: <nudger.7.1@acme.test> <x@y>", "Content-Transfer-Encoding: base64", "MIME-Version: 1.0",
    "Date: Mon, 30 Nov 2026 10:00:00 -0600", "Date: yesterday", "Date: Mon, 99 Foo 2026 99:99:99 +9999",
)


def _text(max_size: int = 300) -> st.SearchStrategy[str]:
    """Text with the pieces parsers trip on mixed into arbitrary unicode (no lone surrogates)."""
    piece = st.one_of(st.sampled_from(_FRAGMENTS),
                      st.text(st.characters(blacklist_categories=("Cs",)), max_size=40))
    return st.lists(piece, max_size=max(1, max_size // 20)).map(" ".join)


@st.composite
def pumped_line(draw: st.DrawFn) -> str:
    """A line made to stall a backtracking pattern: a keyword, then one character many times."""
    head = draw(st.sampled_from(("From", "**Von", "Sent", "wrote", "On", "Re", "#1", "priority", "snooze 5",
                                 "a@", "--", ">", "done", "12:", "due", "")))
    pump = draw(st.sampled_from((" ", "\t", "\xa0", "*", "-", "a", ".", ":", "@", "> ", "=", "#1 ")))
    return head + pump * draw(st.integers(1000, 20000)) + draw(st.sampled_from(("", "x", "!", ":")))


def _encode(text: str, charset: str, cte: str) -> bytes:
    try:
        data = text.encode(charset.strip("\"'") or "utf-8", "replace")
    except (LookupError, UnicodeError):
        data = text.encode("utf-8", "surrogateescape")
    if cte == "base64":
        return base64.encodebytes(data)
    if cte == "quoted-printable":
        import quopri

        return quopri.encodestring(data)
    return data


@st.composite
def mime_part(draw: st.DrawFn, depth: int = 0) -> bytes:
    ctype = draw(st.sampled_from(_TYPES))
    if ctype.startswith("multipart") or (depth < 6 and draw(st.integers(0, 4)) == 0):
        boundary = draw(st.sampled_from(("b1", "b2", "=_x", "", "b1 b1", "a" * 300))) + str(depth)
        children = draw(st.lists(mime_part(depth + 1), max_size=3 if depth < 6 else 0))
        sub = draw(st.sampled_from(("mixed", "alternative", "related", "report", "signed")))
        body = b"".join(b"--" + boundary.encode() + b"\r\n" + c + b"\r\n" for c in children)
        if draw(st.booleans()):
            body += b"--" + boundary.encode() + b"--\r\n"
        return (f"Content-Type: multipart/{sub}; boundary=\"{boundary}\"\r\n\r\n").encode() + body
    charset, cte = draw(st.sampled_from(_CHARSETS)), draw(st.sampled_from(_CTES))
    text = draw(st.one_of(_text(), pumped_line())) if ctype.startswith("text") or not ctype else ""
    data = _encode(text, charset, cte) if text else draw(st.binary(max_size=300))
    if cte == "base64" and draw(st.booleans()):
        data = data[: max(0, len(data) - draw(st.integers(0, 5)))] + b"!*"  # broken base64
    name = draw(st.sampled_from(("", "; name=\"a.pdf\"", "; name*=utf-8''%E2%82%AC.pdf", "; name=\"" + "x" * 400)))
    head = f"Content-Type: {ctype}{'; charset=' + charset if charset else ''}{name}\r\n"
    if cte:
        head += f"Content-Transfer-Encoding: {cte}\r\n"
    if draw(st.booleans()):
        head += "Content-Disposition: " + draw(st.sampled_from(("attachment", "inline", "attachment; filename=",
                                                                 "attachment; filename=\"../../etc/passwd\""))) + "\r\n"
    return head.encode("utf-8", "surrogateescape") + b"\r\n" + data


@st.composite
def hostile_message(draw: st.DrawFn) -> bytes:
    """One inbound message: usually nearly right (so it reaches the deep stages), sometimes junk."""
    if draw(st.integers(0, 19)) == 0:
        return draw(st.binary(max_size=3000))
    lines = [
        "From: " + draw(st.one_of(st.sampled_from(_SENDERS), _text(80))),
        "To: " + draw(st.sampled_from(_TO)),
        "Subject: " + draw(st.one_of(_text(120), st.sampled_from(("Fwd: Invoice", "Re: [#7] W-9", "Automatická odpověď",
                                                                   "Undeliverable: x", "Réponse automatique")))),
        "Message-ID: " + draw(st.sampled_from(("<a@b>", "<jörg.1@acme.test>", "<\xe9@x>", "", "<>", "no-brackets",
                                               "<" + "x" * 300 + "@y>"))) + str(draw(st.integers(0, 10**9))),
    ]
    lines += draw(st.lists(st.sampled_from(_EXTRA_HEADERS), max_size=4))
    if draw(st.integers(0, 9)) == 0:  # one huge or much repeated header
        name = draw(st.sampled_from(("Subject", "To", "Content-Type", "Content-Transfer-Encoding", "References",
                                     "Authentication-Results", "X-Junk")))
        value = draw(st.sampled_from(("\"", "a;", "(", " a", "@", "=?utf-8?q?a?= ", "<a@b>,")))
        lines.append(f"{name}: " + value * draw(st.integers(100, 30000)))
    head = "\r\n".join(lines).encode("utf-8", "surrogateescape")
    if draw(st.booleans()):
        head = head.replace("ö".encode(), b"\xf6")  # Latin-1 bytes where UTF-8 was expected
    raw = head + b"\r\n" + draw(mime_part())
    newline = draw(st.sampled_from((b"\r\n", b"\n", b"\r")))
    return raw.replace(b"\r\n", newline) if newline != b"\r\n" else raw


@dataclass
class Verdict:
    """What the run path made of one input."""

    outcome: str
    seconds: float  # wall clock, what the time budget counts
    escaped: str = ""  # an exception out of ingest_one: the run would have stopped
    internal: str = ""  # quarantined because our code raised, not because the mail was bad
    outsiders: list[str] = field(default_factory=list)  # mail queued to someone outside allowed_domains
    cpu: float = 0.0  # CPU seconds: the cost itself, whatever else the machine is doing


class RunPath:
    """One runtime over a real SQLite file in ``root``: every input goes through ``ingest_one``,
    as a message fetched by ``nudger run`` does."""

    def __init__(self, root: Path, toml: str):
        (root / "nudger.toml").write_text(toml)
        self.config = load_config(root / "nudger.toml", {})
        self.store = Store.open(self.config.database_path)
        # No fsync: what is measured is the code, not the disk (durability changes no decision).
        self.store.db.execute("pragma synchronous = off")
        self.now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)
        self.n = 0

    def feed(self, raw: bytes) -> Verdict:
        import time

        self.n += 1
        rt = Runtime(self.config, self.store, self.now, b"fuzz-secret-0123456789abcdef")
        before = self.store.db.execute("select coalesce(max(id), 0) from outbox").fetchone()[0]
        held = self.store.db.execute("select coalesce(max(id), 0) from quarantine").fetchone()[0]
        start, cpu = time.perf_counter(), time.process_time()
        try:
            outcome = ingest_one(rt, StdinSource(raw), RawMessage(f"fuzz/{self.n}", raw), RunSummary())
        except Exception:  # noqa: BLE001 - that is what is being counted
            return Verdict("escaped", time.perf_counter() - start, escaped=traceback.format_exc(),
                           cpu=time.process_time() - cpu)
        verdict = Verdict(outcome, time.perf_counter() - start, cpu=time.process_time() - cpu)
        for (detail,) in self.store.db.execute("select detail from quarantine where id > ?", [held]):
            if detail:
                verdict.internal = detail
        for (to,) in self.store.db.execute("select recipient from outbox where id > ?", [before]):
            if not to.lower().endswith("@" + ALLOWED):
                verdict.outsiders.append(to)
        return verdict


@st.composite
def mutated(draw: st.DrawFn, corpus: tuple[bytes, ...]) -> bytes:
    """A real message (from the parser's corpus) with a few changes a broken gateway or an
    attacker makes: bytes flipped, lines cut, repeated, pumped, charsets swapped, the end lost."""
    raw = bytearray(draw(st.sampled_from(corpus)))
    for _ in range(draw(st.integers(1, 4))):
        if not raw:
            break
        at = draw(st.integers(0, len(raw) - 1))
        how = draw(st.integers(0, 6))
        if how == 0:
            raw[at] = draw(st.integers(0, 255))
        elif how == 1:
            del raw[at:]
        elif how == 2:
            end = raw.find(b"\n", at)
            line = bytes(raw[at:end if end > 0 else len(raw)])
            raw[at:at] = line * draw(st.integers(2, 200))
        elif how == 3:
            raw[at:at] = draw(pumped_line()).encode()
        elif how == 4:
            raw[at:at] = draw(st.sampled_from(_FRAGMENTS)).encode("utf-8", "surrogateescape")
        elif how == 5:
            raw = bytearray(bytes(raw).replace(b"utf-8", draw(st.sampled_from(_CHARSETS)).encode(), 1))
        else:
            header = draw(st.sampled_from(_EXTRA_HEADERS)).encode()
            raw = bytearray(bytes(raw).replace(b"\n", b"\n" + header + b"\n", 1))
    return bytes(raw)


def corpus_messages(root: Path) -> tuple[bytes, ...]:
    return tuple(p.read_bytes() for p in sorted(root.rglob("*.eml")))
