"""Outgoing MIME built as bytes (nudger.outbound.mime) reads back, under the stdlib's strict
policy, as exactly what was put in: headers, text, HTML and files; over every email kind and
over generated headers and bodies. And headers fold as RFC 5322 asks."""

from __future__ import annotations

import email
import re
from email.message import EmailMessage
from email.policy import strict

import pytest
from email_samples import samples
from hypothesis import given
from hypothesis import strategies as st

from nudger.outbound.mime import Attachment, _folded, fold, wire

SAMPLES = samples()


def _strict(raw: bytes) -> EmailMessage:
    msg = email.message_from_bytes(raw, policy=strict)
    assert isinstance(msg, EmailMessage)
    for part in msg.walk():
        assert not part.defects, part.defects
    return msg


def _header_lines(raw: bytes) -> list[bytes]:
    return raw.split(b"\r\n\r\n", 1)[0].split(b"\r\n")


@pytest.mark.parametrize("label", [s.label for s in SAMPLES])
def test_every_email_kind_parses_strictly_and_folds_after_a_word(label: str) -> None:
    sample = next(s for s in SAMPLES if s.label == label)
    source = sample.raw
    msg = _strict(source)
    assert str(msg["Subject"]) == str(sample.msg["Subject"])
    assert msg.get_body(("plain",)) is not None and msg.get_body(("html",)) is not None
    for line in _header_lines(source):
        assert len(line) <= 998
        assert not re.fullmatch(rb"[A-Za-z-]+:\s*", line), f"folded right after the colon: {line!r}"


def _reference(headers: list[tuple[str, str]], text: str, html: str, files: list[Attachment]) -> EmailMessage:
    """The same email built by the stdlib's own EmailMessage API."""
    msg = EmailMessage()
    for name, value in headers:
        msg[name] = value
    msg.set_content(text)
    msg.add_alternative(html, subtype="html")
    for f in files:
        maintype, subtype = f.content_type.split("/")
        msg.add_attachment(f.data, maintype=maintype, subtype=subtype, filename=f.filename)
    return msg


def _read(msg: EmailMessage) -> tuple:
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    files = [(p.get_filename(), p.get_content_type(), p.get_payload(decode=True)) for p in msg.iter_attachments()]
    heads = [(n, str(msg[n])) for n in ("From", "To", "Subject", "Message-ID", "In-Reply-To", "References")
             if msg[n] is not None]
    assert text is not None and html is not None
    def lines(s: str) -> str:  # line ends are the wire's (CRLF) whatever the reader hands back
        return s.replace("\r\n", "\n")

    return heads, lines(text.get_content()), lines(html.get_content()), files


def test_each_kind_reads_the_same_as_the_stdlibs_own_build() -> None:
    for sample in SAMPLES:
        heads, text, html, files = _read(sample.msg)
        atts = [Attachment(name or "attachment", ctype, data) for name, ctype, data in files]
        ours = _strict(wire(heads, text, html, atts))
        theirs = email.message_from_bytes(_reference(heads, text, html, atts).as_bytes(), policy=strict)
        assert isinstance(theirs, EmailMessage)
        assert _read(ours) == (heads, text, html, files), sample.label  # exactly what went in
        # The stdlib reads the same, but for what its own build adds: a newline at the end of
        # each body, and a leading space in a subject it folded right after the colon.
        t_heads, t_text, t_html, t_files = _read(theirs)
        assert [(n, v.strip()) for n, v in t_heads] == heads and t_files == files, sample.label
        assert (t_text.rstrip("\n"), t_html.rstrip("\n")) == (text.rstrip("\n"), html.rstrip("\n")), sample.label


words = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), min_size=1, max_size=30).filter(
    lambda w: w.strip() == w and " " not in w and "=?" not in w)
phrase = st.lists(words, min_size=1, max_size=12).map(" ".join)
LINE_BREAKS = "\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029"  # str.splitlines() breaks there too
body = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=LINE_BREAKS), max_size=400)


@given(subject=phrase, text=body, html=body, filename=words, data=st.binary(max_size=300))
def test_what_goes_in_comes_out(subject: str, text: str, html: str, filename: str, data: bytes) -> None:
    heads = [("From", '"Nudger" <handoffs@acme.test>'), ("To", "dana@acme.test"), ("Subject", subject),
             ("Message-ID", "<x@acme.test>")]
    msg = _strict(wire(heads, text, html, [Attachment(filename, "application/pdf", data)]))
    assert str(msg["Subject"]) == subject
    text_part, html_part = msg.get_body(("plain",)), msg.get_body(("html",))
    assert text_part is not None and html_part is not None
    assert text_part.get_content().replace("\r\n", "\n") == text.replace("\r\n", "\n")
    assert html_part.get_content().replace("\r\n", "\n") == html.replace("\r\n", "\n")
    (att,) = list(msg.iter_attachments())
    assert att.get_filename() == filename and att.get_payload(decode=True) == data


@pytest.mark.parametrize("filename", ["=?utf-8?b?x.pdf", "quote =? in it.txt", "a=?b?=.ics"])
def test_a_file_whose_name_looks_like_an_encoded_word_keeps_its_name(filename: str) -> None:
    heads = [("From", "handoffs@acme.test"), ("To", "dana@acme.test"), ("Subject", "s"), ("Message-ID", "<x@a>")]
    msg = _strict(wire(heads, "t", "<p>h</p>", [Attachment(filename, "application/pdf", b"%PDF-1.4")]))
    (att,) = list(msg.iter_attachments())
    assert att.get_filename() == filename and att.get_payload(decode=True) == b"%PDF-1.4"


def test_a_long_subject_folds_at_spaces_and_keeps_its_first_word_on_the_header_line() -> None:
    subject = "[#12] Overdue: " + " ".join(["renewal"] * 20)
    lines = fold("Subject", subject).decode().split("\r\n")[:-1]
    assert lines[0].startswith("Subject: [#12]") and all(len(line) <= 78 for line in lines)
    assert all(line.startswith(" ") for line in lines[1:])
    long_id = "<" + "a" * 90 + "@acme.test>"
    assert fold("In-Reply-To", long_id) == f"In-Reply-To: {long_id}\r\n".encode()


def test_only_the_words_that_need_it_are_encoded() -> None:
    line = fold("Subject", "Réunion about the “Q4” order").decode()
    assert line.startswith("Subject: =?utf-8?b?") and " about the " in line


@given(st.sampled_from(["Subject", "To", "X-Nudger-Kind", "In-Reply-To"]),
       st.text(st.characters(min_codepoint=1, max_codepoint=0x24F), max_size=90))
def test_a_short_plain_header_is_written_as_the_folding_writes_it(name: str, value: str) -> None:
    assert fold(name, value) == _folded(name, value)
