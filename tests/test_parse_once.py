"""One parse per message, no header objects for plain mail, and every reading the stdlib's.

The reading policy (compat32: headers kept as text, each read answered as the default
policy's header object would read) is held against the default policy itself on hostile
and broken messages: every part's type, parameters, filename, charset and payload, and every
header read, alike. The dedupe key's header scan is held against the stdlib's header parser
on odd header blocks. And real ingests are profiled: one parse of the message, and no header
object built on the way for plain mail.
"""

from __future__ import annotations

import cProfile
import email
import pstats
from datetime import UTC, datetime
from email.message import Message
from email.parser import BytesHeaderParser, BytesParser
from email.policy import compat32
from pathlib import Path

from conftest import ORG_TOML
from fuzzmail import RunPath, corpus_messages, hostile_message, mutated
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nudger.config import load_config
from nudger.core.classify import not_an_email
from nudger.core.reading import read_message
from nudger.inbound.identity import dedupe_key
from nudger.mail.message import POLICY, READING, header_text, parse_message, undo_8bit

FIXTURES = Path(__file__).parent / "fixtures"
CHECKS = settings(max_examples=300, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))


def _outcome(call):  # type: ignore[no-untyped-def]
    """What a read gives, or the exception it raises (by type): both must agree on either."""
    try:
        value = call()
    except Exception as exc:  # noqa: BLE001
        return ("raises", type(exc).__name__)
    return value if isinstance(value, (bytes, type(None), bool, list, tuple)) else str(value)


def _part_reading(part: Message) -> list[object]:
    return [_outcome(f) for f in (
        part.get_content_type, part.get_content_maintype, part.get_params, part.get_filename,
        part.get_content_charset, part.get_content_disposition, part.get_boundary, part.is_multipart,
        lambda: part.get_payload(decode=True), lambda: part.get("Content-ID"),
        lambda: part.get("Content-Transfer-Encoding"), lambda: [type(d).__name__ for d in part.defects],
        lambda: list(part.raw_items()),
        lambda: [str(part.policy.header_fetch_parse(k, v)) for k, v in part.raw_items()],
    )]


def _same_tree(raw: bytes) -> None:
    ours = BytesParser(policy=READING).parsebytes(raw)
    stdlib = email.message_from_bytes(raw, policy=POLICY)
    mine, theirs = list(ours.walk()), list(stdlib.walk())
    assert len(mine) == len(theirs)
    for a, b in zip(mine, theirs, strict=True):
        assert type(a) is type(b)
        assert _part_reading(a) == _part_reading(b)


@CHECKS
@given(raw=st.one_of(hostile_message(), mutated(corpus_messages(FIXTURES))))
def test_the_reading_policy_reads_every_part_as_the_default_policy(raw: bytes) -> None:
    _same_tree(raw)


def test_the_fixtures_read_alike() -> None:
    for path in sorted(FIXTURES.rglob("*.eml")):
        _same_tree(path.read_bytes())


_NAMES = ("Subject", "From", "To", "Cc", "Reply-To", "Date", "Message-ID", "Content-Type", "Content-Disposition",
          "Content-Transfer-Encoding", "MIME-Version", "Return-Path", "Auto-Submitted", "List-Id", "X-Junk",
          "Delivered-To", "References", "Sender", "Resent-From")
_PIECES = (
    "plain", " ", "\t", "\r\n ", "\r\n\t", "\n ", "\r", "=?utf-8?q?J=C3=B6rg?=", "=?utf-8?b?SsO2cmc=?=",
    "=?iso-8859-1?q?caf=E9?=", "=?x-unknown?q?abc?=", "=?utf-8?q?broken", "=?utf-8?x?abc?=", "=?=", "?=",
    "=?utf-8?q?a?==?utf-8?q?b?=", "\udcc3\udca9", "\udce9", "é", "<a@b>", "\"Sam, S.\" <sam@acme.test>", ",", ";",
    "(comment)", "\\", "\"", "text/plain; charset=utf-8", "multipart/mixed; boundary=\"b1\"", "attachment;",
    " filename*=utf-8''%E2%82%AC.pdf", "Mon, 30 Nov 2026 10:00:00 -0600", "yesterday", "\x00", "\x7f",
)


@CHECKS
@given(name=st.sampled_from(_NAMES), value=st.one_of(
    st.lists(st.sampled_from(_PIECES), max_size=12).map("".join),
    st.tuples(st.sampled_from(_PIECES), st.integers(150, 1200)).map(lambda t: t[0] * t[1])))
def test_a_header_reads_as_its_default_policy_object(name: str, value: str) -> None:
    """Encoded-words (good, malformed, unknown charset), folding, raw 8-bit, values past the
    strict parser's bound: the text is the header object's, whether or not one was built."""
    assert _outcome(lambda: header_text(name, value)) == _outcome(lambda: POLICY.header_fetch_parse(name, value))


def _stdlib_message_id_key(raw: bytes) -> str:
    """The dedupe key as the stdlib's compat32 header parser of the first 64 KB reads it."""
    import hashlib
    import re

    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:65536], headersonly=True)
        mid = next((str(v) for k, v in headers.raw_items() if k.lower() == "message-id"), "").strip()
    except Exception:  # noqa: BLE001
        mid = ""
    mid = re.sub(r"\s+", "", undo_8bit(mid)).strip("<>")
    if mid and len(mid) <= 250 and "@" in mid:
        return f"mid:{mid}"
    return "sha256:" + hashlib.sha256(raw).hexdigest()


_HEAD_PIECES = (
    b"Message-ID: <a@b>", b"message-id:<c@d>", b"MESSAGE-ID: \t<e@f>", b"Message-Id : <g@h>", b" Message-ID: <i@j>",
    b"Message-ID: <k@\xc3\xa9>", b"Message-ID: <l@\xe9>", b"Message-ID: <m@\x85\xa0>", b"Message-ID:", b" <n@o>",
    b"\t<p@q>", b"From: sam@acme.test", b"From sam@acme.test Mon Nov 30", b"Subject: hi", b": no name",
    b"no colon at all", b"X-A: \x0b", b"X-B: \x0c", b"X-C: \x1c", b"X-D: \x1d", b"X-E: \x1e", b"X-F: \x00",
    b"X-G: \x1f", b"", b"Message-ID: <" + b"x" * 300 + b"@y>", b"Message-ID: <a\xc3\r\n \xa9@b>",
)


@settings(max_examples=500, deadline=None, derandomize=True, suppress_health_check=list(HealthCheck))
@given(lines=st.lists(st.tuples(st.sampled_from(_HEAD_PIECES), st.sampled_from((b"\r\n", b"\n", b"\r"))),
                      max_size=8),
       body=st.sampled_from((b"", b"\r\n", b"\n", b"\r\nbody\r\n", b"\nMessage-ID: <body@x>\n")))
def test_the_dedupe_key_reads_the_header_as_the_stdlib_parser(lines: list[tuple[bytes, bytes]], body: bytes) -> None:
    raw = b"".join(line + end for line, end in lines) + body
    assert dedupe_key(raw) == _stdlib_message_id_key(raw)


def test_the_dedupe_key_of_a_header_past_64_kb_is_the_parsers() -> None:
    long = b"X-Long: " + b"a" * 70000 + b"\r\n"
    for raw in (long + b"Message-ID: <late@x>\r\n\r\nbody", b"Message-ID: <early@x>\r\n" + long + b"\r\nbody"):
        assert dedupe_key(raw) == _stdlib_message_id_key(raw)
    assert dedupe_key(b"Message-ID: <early@x>\r\n" + long) == "mid:early@x"


def _calls(stats: pstats.Stats, path_end: str, name: str) -> int:
    return sum(nc for (f, _line, fn), (_cc, nc, *_rest) in stats.stats.items()  # type: ignore[attr-defined]
               if f.endswith(path_end) and fn == name)


def _profiled(work) -> pstats.Stats:  # type: ignore[no-untyped-def]
    prof = cProfile.Profile()
    prof.runcall(work)
    return pstats.Stats(prof)


FORWARD = (b"From: Sam Seller <sam@acme.test>\r\nTo: handoffs@acme.test\r\nSubject: Fwd: Invoice 12\r\n"
           b"Date: Tue, 1 Dec 2026 09:00:00 -0600\r\nMessage-ID: <fwd-1@acme.test>\r\nMIME-Version: 1.0\r\n"
           b"Authentication-Results: mx.acme.test; dkim=pass header.d=acme.test\r\n"
           b"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\n--b1\r\n"
           b"Content-Type: text/plain; charset=utf-8\r\n\r\n@dana please send the W-9, due friday\r\n\r\n"
           b"---------- Forwarded message ---------\r\nFrom: Buyer <buyer@initech.example>\r\n"
           b"Date: Mon, 30 Nov 2026 at 10:00\r\nSubject: Invoice 12\r\nTo: Sam <sam@acme.test>\r\n\r\n"
           b"Hi Sam, we need the W-9.\r\n--b1\r\nContent-Type: application/pdf; name=\"w9.pdf\"\r\n"
           b"Content-Disposition: attachment; filename=\"w9.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\n"
           b"JVBERi0xLjQK\r\n--b1--\r\n")


def test_reading_a_plain_forward_builds_no_header_object(tmp_path: Path) -> None:
    (tmp_path / "nudger.toml").write_text(ORG_TOML)
    config = load_config(tmp_path / "nudger.toml", {})
    now = datetime(2026, 12, 1, 15, 0, tzinfo=UTC)

    def read(raw: bytes) -> None:
        dedupe_key(raw)
        mail = parse_message(raw)
        assert not_an_email(mail) is None
        reading = read_message(mail, config, now)
        assert reading.verdict.kind == "handoff" and reading.forward is not None and reading.commands

    read(FORWARD.replace(b"fwd-1@", b"warm-up@"))  # first-use imports (metadata files are parsed as email)
    stats = _profiled(lambda: read(FORWARD))
    assert _calls(stats, "email/parser.py", "parsestr") == 1  # the dedupe key parsed nothing
    assert _calls(stats, "email/headerregistry.py", "__new__") == 0
    encoded = FORWARD.replace(b"Subject: Fwd: Invoice 12", b"Subject: =?utf-8?q?Fwd:_Facture_d=C3=A9tail?=")
    stats = _profiled(lambda: read(encoded))
    assert _calls(stats, "email/headerregistry.py", "__new__") == 1  # the Subject: the registry decodes it


def test_an_ingest_parses_the_message_once(tmp_path: Path) -> None:
    path = RunPath(tmp_path, ORG_TOML)
    path.feed(FORWARD.replace(b"fwd-1@", b"warm-up@"))  # imports and templates, outside the count
    outcome: list[str] = []
    stats = _profiled(lambda: outcome.append(path.feed(FORWARD).outcome))
    assert outcome == ["created"]
    assert _calls(stats, "email/parser.py", "parsestr") == 1
