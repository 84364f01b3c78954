"""Outgoing MIME written as bytes directly: headers folded by RFC 5322, non-ASCII words as
RFC 2047 encoded-words, bodies in quoted-printable and base64 by ``binascii``.

The stdlib's generator spent a third of a run's CPU on each outgoing email (header objects,
charset lookups, a policy fold per header) and folded ``Subject`` and ``In-Reply-To`` right
after the colon when the first word was long, which some readers take as a leading space.
Here a header's first word always stays on its line; lines are folded at spaces before 78
columns when they can be and never exceed 998. Every email still parses with the stdlib's
strict policy to the same headers, text, HTML and attachments (tests/test_mime.py).
"""

from __future__ import annotations

import binascii
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Protocol
from urllib.parse import quote

CRLF = b"\r\n"
SOFT_LIMIT = 78
HARD_LIMIT = 998
_WORD_CHUNK = 45  # UTF-8 bytes per encoded-word: "=?utf-8?b?" + 60 base64 chars + "?=" = 72 <= 75


class AttachmentLike(Protocol):
    @property
    def filename(self) -> str: ...
    @property
    def content_type(self) -> str: ...
    @property
    def data(self) -> bytes: ...


@dataclass(frozen=True)
class Attachment:
    """A file part: its type (with parameters such as a calendar's ``method``), name and bytes."""

    filename: str
    content_type: str
    data: bytes
    params: tuple[tuple[str, str], ...] = field(default=())
    inline: bool = False


def fold(name: str, value: str) -> bytes:
    """One header line (folded), ending in CRLF. Non-ASCII words become encoded-words."""
    if len(name) + 2 + len(value) <= SOFT_LIMIT and value.isascii() and "=?" not in value \
            and "\r" not in value and "\n" not in value:
        return f"{name}: {value}".encode("ascii") + CRLF  # most headers: what _folded writes for them
    return _folded(name, value)


def _folded(name: str, value: str) -> bytes:
    words = _words(value)
    line = f"{name}:"
    lines = []
    for i, word in enumerate(words):
        if i and word and len(line) + 1 + len(word) > SOFT_LIMIT:
            lines.append(line)
            line = " " + word
        else:
            line += " " + word
    lines.append(line)
    out = "\r\n".join(lines)
    if any(len(chunk) > HARD_LIMIT for chunk in lines):
        raise ValueError(f"{name}: a word longer than {HARD_LIMIT} characters cannot be folded")
    return out.encode("ascii") + CRLF


def _words(value: str) -> list[str]:
    """The value's words, runs of non-ASCII ones each turned into encoded-words.

    Whitespace between two encoded-words is dropped by a reader, so the spaces inside a run
    go inside the encoding; the space between an encoded run and a plain word stays plain.
    """
    raw = value.replace("\r", " ").replace("\n", " ").split(" ")
    out: list[str] = []
    run: list[str] = []
    for word in raw:
        if not word.isascii() or "=?" in word:
            run.append(word)
            continue
        if run:
            out += encoded_words(" ".join(run))
            run = []
        out.append(word)
    if run:
        out += encoded_words(" ".join(run))
    return out


def encoded_words(text: str) -> list[str]:
    """RFC 2047 B-encoded words, never splitting a character across two of them."""
    chunks: list[bytes] = []
    current = b""
    for ch in text:
        b = ch.encode("utf-8")
        if len(current) + len(b) > _WORD_CHUNK:
            chunks.append(current)
            current = b""
        current += b
    if current:
        chunks.append(current)
    return [f"=?utf-8?b?{binascii.b2a_base64(c, newline=False).decode('ascii')}?=" for c in chunks]


def _param(name: str, value: str) -> str:
    """``name="value"``, or RFC 2231 ``name*=utf-8''…`` for a value that is not plain ASCII or
    holds "=?" (the header folder would take it for an encoded-word and encode the whole
    parameter: a file named "=?x.pdf" reached readers with no name)."""
    if value.isascii() and all(c >= " " for c in value) and "=?" not in value:
        escaped = value.replace("\\", "\\\\").replace('"', '\\"')
        return f'{name}="{escaped}"'
    return f"{name}*=utf-8''{quote(value, safe='')}"


def _params(head: str, params: Iterable[tuple[str, str]]) -> str:
    return "; ".join([head, *(_param(k, v) for k, v in params)])


def quoted_printable(text: str) -> bytes:
    """UTF-8 text as quoted-printable with CRLF line ends (soft breaks within 76 columns)."""
    if "\r" in text:  # rare; a replace that finds nothing still copies a non-ASCII text (12 us for 7 KB)
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    data = text.encode("utf-8")
    return binascii.b2a_qp(data, quotetabs=False, istext=True, header=False).replace(b"\n", CRLF)


def base64_lines(data: bytes) -> bytes:
    encoded = binascii.b2a_base64(data, newline=False)
    return CRLF.join([encoded[i:i + 76] for i in range(0, len(encoded), 76)]) + CRLF  # a list: join sizes it once


def _text_part(subtype: str, text: str) -> bytes:
    return (fold("Content-Type", f'text/{subtype}; charset="utf-8"')
            + fold("Content-Transfer-Encoding", "quoted-printable") + CRLF + quoted_printable(text))


def _file_part(att: AttachmentLike) -> bytes:
    maintype, _, subtype = (att.content_type or "application/octet-stream").partition("/")
    content_type = f"{maintype or 'application'}/{subtype or 'octet-stream'}"
    params = getattr(att, "params", ())
    disposition = "inline" if getattr(att, "inline", False) else "attachment"
    return (fold("Content-Type", _params(content_type, params))
            + fold("Content-Transfer-Encoding", "base64")
            + fold("Content-Disposition", _params(disposition, [("filename", _filename(att.filename))]))
            + CRLF + base64_lines(att.data))


def _filename(name: str | None) -> str:
    """A name a reader can show: no line breaks or controls, at most 120 characters (a header
    line must stay under 998 even percent-encoded)."""
    clean = "".join(c for c in (name or "") if c >= " " and c != "\x7f").strip()
    return clean[:120] or "attachment"


def _multipart(subtype: str, parts: Sequence[bytes], seed: bytes) -> tuple[str, bytes]:
    """The Content-Type value and the body. ``=_`` cannot occur in quoted-printable or base64
    text, so the boundary never collides with a part. It is named after the email's headers
    (``seed``: its Message-ID makes it the email's own), the subtype and the parts' sizes, so
    the same email is the same bytes (a rerun, a test) without hashing every byte of it (a
    third of the MIME time of an email with a PDF). The CRLF before a delimiter belongs to the
    delimiter, so each part's own last line end is kept by adding one."""
    sizes = ",".join(str(len(p)) for p in parts)
    boundary = f"=_nudger_{hashlib.sha256(seed + f'|{subtype}|{sizes}'.encode()).hexdigest()[:24]}"
    body = b"".join(b"--" + boundary.encode("ascii") + CRLF + p + CRLF for p in parts)
    body += b"--" + boundary.encode("ascii") + b"--" + CRLF
    return f'multipart/{subtype}; boundary="{boundary}"', body


def wire(headers: Sequence[tuple[str, str]], text: str, html: str,
         attachments: Sequence[AttachmentLike] = ()) -> bytes:
    """The email as sent: ``headers`` in order, then MIME-Version and the body: text and
    HTML alternatives, inside multipart/mixed when there are files."""
    head = b"".join(fold(name, value) for name, value in headers)
    alt_type, alt_body = _multipart("alternative", [_text_part("plain", text), _text_part("html", html)], head)
    if attachments:
        inner = fold("Content-Type", alt_type) + CRLF + alt_body
        top_type, body = _multipart("mixed", [inner, *(_file_part(a) for a in attachments)], head)
    else:
        top_type, body = alt_type, alt_body
    return head + fold("MIME-Version", "1.0") + fold("Content-Type", top_type) + CRLF + body
