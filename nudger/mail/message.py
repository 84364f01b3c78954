"""Raw bytes to a ParsedMail: headers decoded safely, the main body picked, attachments split off.

Inbound mail is hostile or broken often enough that nothing here may raise: every header is
read inside its own error handling (the stdlib raises lazily on some malformed headers), and
every charset falls back to something that decodes.
"""

from __future__ import annotations

import base64
import binascii
import email
import email.utils
import functools
import itertools
import quopri
import re
from dataclasses import dataclass, field, replace
from datetime import datetime
from email import policy
from email.header import decode_header, make_header
from email.headerregistry import BaseHeader, HeaderRegistry, UnstructuredHeader
from email.message import EmailMessage, Message
from email.parser import BytesParser

from nudger.mail.html_text import html_to_text

_CRLF = re.compile(r"[\r\n]+")
_WS = re.compile(r"\s+")
_MSGID = re.compile(r"<([^<>\s]{1,998})>")
_UNSAFE_FILENAME = re.compile(r"[\x00-\x1f\x7f/\\]+")
_SURROGATES = re.compile(r"[\udc80-\udcff]")


# Structural MIME headers are read the simple way (as text, split on ";"), never by the
# strict parser: it is quadratic or worse on hostile values (a 100 KB Content-Transfer-Encoding
# took 65 s) and recurses without bound on nested comments.
_SIMPLE_HEADERS = frozenset({
    "content-type", "content-disposition", "content-transfer-encoding", "content-id",
    "content-description", "content-language", "content-location", "mime-version",
})
MAX_MIME_HEADER = 998  # longer values of those are cut: even the simple parameter split is quadratic
MAX_STRICT_HEADER = 1024  # any header longer than this is read as plain text, not parsed
MAX_PLAIN_HEADER = 16384  # and cut to this: even the plain text reading costs ~4 µs a character


class _BoundedHeaders(HeaderRegistry):
    """The default header registry, with the strict parser kept to short values it is fast on."""

    def __init__(self) -> None:
        super().__init__()
        self._classes: dict[str, type[BaseHeader]] = {}

    def __getitem__(self, name: str) -> type[BaseHeader]:
        """The header class for ``name``, made once (the stdlib makes a new class on every read)."""
        key = name.lower()
        cls = self._classes.get(key)
        if cls is None:
            cls = self._classes[key] = super().__getitem__(key)
        return cls

    def __call__(self, name: str, value: str) -> BaseHeader:
        simple = name.lower() in _SIMPLE_HEADERS
        if simple or len(value) > MAX_STRICT_HEADER:
            value = value[:MAX_MIME_HEADER if simple else MAX_PLAIN_HEADER]
            return self["x-nudger-unstructured"](name, value)  # not registered: the plain text class
        return super().__call__(name, value)


_REGISTRY = _BoundedHeaders()
POLICY = policy.default.clone(header_factory=_REGISTRY)  # the header objects, where one is asked for

# Headers the registry parses by their own grammar (addresses, dates, Message-ID); every other
# one, and any value too long for the strict parser, reads as plain unstructured text.
_STRUCTURED = frozenset(
    name for name, cls in HeaderRegistry().registry.items() if not issubclass(cls, UnstructuredHeader)
) - _SIMPLE_HEADERS


def header_text(name: str, value: str) -> str | BaseHeader:
    """What the default policy's header object for this raw value reads as, without building one
    where that is plain text: an unstructured value with no encoded-word and no 8-bit byte reads
    as itself, line ends removed. Anything else (an address, a date, an encoded-word, raw 8-bit)
    gets the registry's own object, bounded as above, so every reading stays the stdlib's."""
    text = value.replace("\r", "").replace("\n", "") if "\r" in value or "\n" in value else value
    key = name.lower()
    if key in _SIMPLE_HEADERS:
        text = text[:MAX_MIME_HEADER]
    elif len(text) > MAX_STRICT_HEADER:
        text = text[:MAX_PLAIN_HEADER]
        return _REGISTRY(name, text) if "=?" in text or not text.isascii() else text
    elif key in _STRUCTURED:
        return _header_object(name, text)
    if "=?" in text or not text.isascii():
        return _header_object(name, text)
    return text


@functools.lru_cache(maxsize=256)
def _header_object(name: str, value: str) -> BaseHeader:
    """The registry's object for a value of at most MAX_STRICT_HEADER characters, remembered:
    a message's Subject is read for its record and again by the classifier. Header objects are
    immutable, so a remembered one reads as a new one would."""
    return _REGISTRY(name, value)


class _Reading(policy.Compat32):
    """compat32 (headers kept as their raw text, no header objects while parsing), with every
    header the MIME code reads answered as the default policy would answer it (``header_text``):
    the parser and ``get_content_type`` and friends ask for Content-Type many times a part."""

    def header_fetch_parse(self, name: str, value: str) -> str | BaseHeader:
        if not isinstance(value, str):
            return value
        return header_text(name, value)


READING = _Reading(message_factory=EmailMessage)  # the message class the default policy makes

_BOUNDARY_VALUE = re.compile(rb'[ \t]*=[ \t]*"?([^"\r\n;]{1,200})')


def mime_parts(raw: bytes, limit: int) -> int:
    """How many MIME part delimiters the message holds, counted up to just past ``limit``.

    Counted on the bytes before parsing, so a message of 600,000 parts is refused in
    milliseconds instead of costing the parser minutes and gigabytes. Only lines that start
    with a declared boundary count; a plain message pays one ``bytes.count``.
    """
    dashes = raw.count(b"\n--")
    if dashes <= limit:
        return dashes
    total = 0
    boundaries = _declared_boundaries(raw)
    if boundaries is None:
        return limit + 1  # hundreds of nested multiparts: no mail client writes that
    for boundary in boundaries:
        if not boundary:
            continue
        total += raw.count(b"\n--" + boundary)
        if total > limit:
            break
    return total


def _declared_boundaries(raw: bytes, most: int = 200) -> dict[bytes, None] | None:
    """The boundary parameters the message declares (None past ``most``). Found with
    ``bytes.find`` (a case-insensitive regex over 20 MB took 0.75 s): "boundary" and
    "Boundary" are what mailers write; an all-capitals one is simply not counted."""
    found: dict[bytes, None] = {}
    at = raw.find(b"oundary")
    while at >= 0:
        m = _BOUNDARY_VALUE.match(raw, at + 7)
        if m and raw[at - 1:at].lower() == b"b":
            found[m.group(1).strip()] = None
            if len(found) > most:
                return None
        at = raw.find(b"oundary", at + 7)
    return found


@dataclass(frozen=True)
class Address:
    name: str
    email: str

    def as_json(self) -> dict:
        return {"name": self.name or None, "email": self.email}


@dataclass(frozen=True)
class Attachment:
    filename: str
    content_type: str
    data: bytes
    content_id: str = ""
    # Shown inside the HTML body (a signature logo referenced as ``cid:``), not a file the
    # sender attached: kept for the record, never passed on as the customer's attachment.
    inline: bool = False

    @property
    def size(self) -> int:
        return len(self.data)


@dataclass
class ParsedMail:
    raw: bytes
    from_addr: Address | None = None
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    reply_to: list[Address] = field(default_factory=list)
    subject: str = ""
    date: datetime | None = None
    message_id: str | None = None
    in_reply_to: list[str] = field(default_factory=list)
    references: list[str] = field(default_factory=list)
    text: str = ""
    html: str | None = None
    attachments: list[Attachment] = field(default_factory=list)
    attached_messages: list[bytes] = field(default_factory=list)
    defects: list[str] = field(default_factory=list)
    text_from_html: bool = False  # True when `text` was converted from `html` (no text/plain part)
    _msg: Message | None = field(default=None, repr=False, compare=False)
    _read: dict[str, tuple[str, ...]] = field(default_factory=dict, repr=False, compare=False)
    _by_name: dict[str, list[tuple[str, str]]] | None = field(default=None, repr=False, compare=False)

    @property
    def files(self) -> list[Attachment]:
        """The attachments the sender chose: not the images the HTML shows inline."""
        return [a for a in self.attachments if not a.inline]

    def header(self, name: str) -> str:
        """First occurrence of a header, decoded; '' when missing or unreadable."""
        values = self.header_all(name)
        return values[0] if values else ""

    def headers_in_order(self, most: int = 200) -> list[tuple[str, str]]:
        """The first ``most`` headers as (lower-cased name, cleaned text), top first: the order
        the receiving servers prepended them in; never raises."""
        if self._msg is None:
            return []
        try:
            items = self._msg.raw_items()
            return [(str(k).lower(), _clean(_decode_words(str(v)))) for k, v in itertools.islice(items, most)]
        except Exception:  # noqa: BLE001
            return []

    def header_all(self, name: str) -> list[str]:
        """Every occurrence of a header, decoded, CR/LF removed; never raises. Remembered: the
        classifiers ask for the same headers many times."""
        key = name.lower()
        if key in self._read:
            return list(self._read[key])
        try:
            raws = [header_text(k, v) for k, v in self._raw_headers().get(key, ())]
        except Exception:  # noqa: BLE001 - a header we cannot even read is a missing header
            raws = []
        values = [_clean(v) for v in (_header_str(r) for r in raws)]
        self._read[key] = tuple(values)
        return values

    def _raw_headers(self) -> dict[str, list[tuple[str, str]]]:
        """The raw headers by lower-cased name, made in one pass when first asked for: the
        first MAX_OCCURRENCES of each (a message may repeat a header thousands of times)."""
        if self._by_name is None:
            self._by_name = {}
            try:
                for k, v in self._msg.raw_items() if self._msg is not None else ():
                    found = self._by_name.setdefault(k.lower(), [])
                    if len(found) < MAX_OCCURRENCES:
                        found.append((k, v))
            except Exception:  # noqa: BLE001 - a header we cannot even list is a missing header
                pass
        return self._by_name


def to_lf(text: str) -> str:
    """Every line end as LF: CRLF, lone CR (old Mac, broken gateways) and CRCRLF alike."""
    if "\r" not in text:
        return text
    return text.replace("\r\r\n", "\n").replace("\r\n", "\n").replace("\r", "\n")  # str.replace: 10x a regex on 1 MB


def _clean(value: str) -> str:
    return _WS.sub(" ", _CRLF.sub(" ", undo_8bit(value))).strip()


def undo_8bit(text: str) -> str:
    """Raw 8-bit header bytes (RFC 6532 UTF-8, or Latin-1 from older mailers) as the characters
    they stand for. The stdlib keeps them as lone surrogates, which no database or file accepts."""
    if not _SURROGATES.search(text):
        return text
    data = text.encode("utf-8", "surrogateescape")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _header_str(value: object) -> str:
    """str() of a header object, falling back to a manual RFC 2047 decode of its raw form."""
    try:
        return str(value)
    except Exception:  # noqa: BLE001
        pass
    try:
        return str(make_header(decode_header(getattr(value, "_raw", "") or "")))
    except Exception:  # noqa: BLE001
        return ""


def _raw_header(msg: Message, name: str) -> str:
    """The header's raw text (before the policy's structured parsing), '' when absent."""
    try:
        for key, value in msg.raw_items():
            if key.lower() == name.lower():
                return str(value)
    except Exception:  # noqa: BLE001
        pass
    return ""


def _raw_all(msg: Message, name: str) -> list[str]:
    try:
        return [str(v) for k, v in msg.raw_items() if k.lower() == name.lower()]
    except Exception:  # noqa: BLE001
        return []


def _decode_words(raw: str) -> str:
    """RFC 2047 words decoded; raw 8-bit bytes (no encoded-word at all) read as UTF-8, else cp1252.

    Many mailers still send Latin-1 headers unencoded; the stdlib shows them as U+FFFD.
    """
    raw = undo_8bit(raw)
    if "=?" not in raw:
        return raw  # no encoded-word: decode_header gives it back whole, and make_header as it was
    try:
        return str(make_header(decode_header(raw)))
    except Exception:  # noqa: BLE001
        return raw


def _decoded_header(msg: Message, name: str) -> str:
    raw = _raw_header(msg, name)
    if raw and _SURROGATES.search(raw):
        return _clean(_decode_words(raw))
    try:
        value = msg.get(name)
    except Exception:  # noqa: BLE001 - the stdlib parses lazily and may raise here
        value = None
    if value is not None:
        text = _header_str(value)
        if text:
            return _clean(text)
    raw = _raw_header(msg, name)
    try:
        return _clean(str(make_header(decode_header(raw))))
    except Exception:  # noqa: BLE001
        return _clean(raw)


def parse_addresses(value: str) -> list[Address]:
    """Addresses from a decoded header value; names decoded, no CR/LF; never raises."""
    if not value:
        return []
    try:
        pairs = email.utils.getaddresses([value])
    except Exception:  # noqa: BLE001
        return []
    out = []
    for name, addr in pairs:
        name, addr = _clean(name or ""), _clean(addr or "")
        if not addr and not name:
            continue
        if not addr and "@" in name:
            name, addr = "", name
        out.append(Address(name=name, email=addr))
    return out


def _addresses(msg: Message, name: str) -> list[Address]:
    """Addresses read from the raw header, names decoded after: an encoded-word that decodes to
    CR/LF or "Bcc:" in a display name must not change which addresses there are."""
    out: list[Address] = []
    for raw in _bounded(_raw_all(msg, name)):
        try:
            pairs = email.utils.getaddresses([_CRLF.sub(" ", raw)])
        except Exception:  # noqa: BLE001
            continue
        for display, addr in pairs:
            display, addr = _clean(_decode_words(display or "")), _clean(addr or "")
            if not addr and not display:
                continue
            if not addr and "@" in display:
                display, addr = "", display
            if addr and ("@" not in addr or " " in addr):
                continue  # not an address: let the structured reading below try
            out.append(Address(name=display, email=addr))
    if out:
        return out
    return _structured_addresses(msg, name)


def _structured_addresses(msg: Message, name: str) -> list[Address]:
    try:
        values = msg.get_all(name) or []
    except Exception:  # noqa: BLE001
        values = []
    out: list[Address] = []
    texts = [_clean(_header_str(v)) or _raw_header(msg, name) for v in values[:MAX_OCCURRENCES]]
    for text in _bounded(texts):
        out.extend(parse_addresses(text))
    return out


MAX_ADDRESS_TEXT = 16384  # of one address header, all its occurrences together (~350 addresses)
MAX_OCCURRENCES = 20


def _bounded(values: list[str]) -> list[str]:
    """The first occurrences of a header, cut to MAX_ADDRESS_TEXT in all: the stdlib's address
    parser costs ~35 µs a character, and a hostile message may repeat a header thousands of times."""
    out, left = [], MAX_ADDRESS_TEXT
    for value in values[:MAX_OCCURRENCES]:
        if left <= 0:
            break
        out.append(value[:left])
        left -= len(value)
    return out


def _msgids(value: str) -> list[str]:
    value = undo_8bit(value or "")
    found = _MSGID.findall(value)
    if found:
        return found
    return [v for v in (value or "").split() if v and len(v) < 999]


def _date(msg: Message, defects: list[str]) -> datetime | None:
    raw = _raw_header(msg, "Date").strip()
    if not raw:
        return None
    try:
        value = email.utils.parsedate_to_datetime(_clean(raw))
    except Exception:  # noqa: BLE001
        defects.append(f"unparseable Date header: {raw[:80]!r}")
        return None
    if value is not None and value.tzinfo is None:
        defects.append("Date header without a timezone")
        return None
    return value


def _payload_bytes(part: Message) -> bytes | None:
    """``get_payload(decode=True)``: a leaf part's transfer-decoded bytes, None for a multipart.

    The stdlib's types also allow a Message or whatever `set_payload` was given; a parsed leaf
    part always yields bytes, so anything else counts as no payload. May raise, like the stdlib.
    """
    data = part.get_payload(decode=True)
    return data if isinstance(data, bytes) else None


def decode_payload(part: Message, defects: list[str] | None = None) -> str:
    """A text part's content as str: the declared charset, then utf-8, then cp1252 with replacement."""
    try:
        data = _payload_bytes(part)
    except Exception:  # noqa: BLE001
        data = None
    if data is None:
        payload = part.get_payload()
        return payload if isinstance(payload, str) else ""
    charset = None
    try:
        charset = part.get_content_charset()
    except Exception:  # noqa: BLE001
        pass
    for candidate in (charset, "utf-8"):
        if not candidate:
            continue
        try:
            return data.decode(candidate)
        except (LookupError, UnicodeDecodeError, ValueError):
            if defects is not None and candidate == charset:
                defects.append(f"body does not decode as its declared charset {charset!r}")
    try:
        return data.decode("cp1252")
    except UnicodeDecodeError:
        return data.decode("latin-1", errors="replace")


def _filename(part: Message) -> str:
    try:
        name = part.get_filename() or ""
    except Exception:  # noqa: BLE001
        name = ""
    name = _UNSAFE_FILENAME.sub("_", _clean(str(name))).strip(" .")
    return name[:255]


def _content_type(part: Message) -> str:
    try:
        return part.get_content_type()
    except Exception:  # noqa: BLE001
        return "application/octet-stream"


def _is_attachment(part: Message) -> bool:
    try:
        disposition = (part.get_content_disposition() or "").lower()
    except Exception:  # noqa: BLE001
        disposition = ""
    return disposition == "attachment" or (disposition != "inline" and bool(_filename(part)))


def _walk(msg: Message, mail: ParsedMail, bodies: dict[str, str]) -> None:
    """Depth-first over the MIME tree: first text/plain and text/html bodies, the rest attachments."""
    stack = [msg]
    seen = 0
    while stack:
        part = stack.pop(0)
        seen += 1
        if seen > 2000:
            mail.defects.append("too many MIME parts; the rest ignored")
            return
        ctype = _content_type(part)
        if ctype == "message/rfc822":
            mail.attached_messages.append(_rfc822_bytes(part))
            continue
        if part.is_multipart():
            try:
                children = list(part.iter_parts()) if hasattr(part, "iter_parts") else part.get_payload()
            except Exception:  # noqa: BLE001
                children = []
                mail.defects.append("unreadable multipart")
            stack[0:0] = [c for c in children if isinstance(c, Message)]
            continue
        if ctype in ("text/plain", "text/html") and not _is_attachment(part) and ctype not in bodies:
            bodies[ctype] = decode_payload(part, mail.defects)
            continue
        if part is msg and ctype.startswith("text/"):
            bodies.setdefault("text/plain", decode_payload(part, mail.defects))
            continue
        try:
            data = _payload_bytes(part) or b""
        except Exception:  # noqa: BLE001
            data = b""
            mail.defects.append("undecodable attachment")
        mail.attachments.append(Attachment(_filename(part), ctype, data, _content_id(part)))


def _content_id(part: Message) -> str:
    """The part's Content-ID without its angle brackets, or ''."""
    try:
        return str(part.get("Content-ID") or "").strip().strip("<>").strip()[:300]
    except Exception:  # noqa: BLE001
        return ""


def _mark_inline(mail: ParsedMail) -> None:
    """Parts the HTML body shows by ``cid:`` (signature logos, pasted screenshots) are not
    attachments the sender chose."""
    html = (mail.html or "").lower()
    if "cid:" in html:
        mail.attachments = [replace(a, inline=True) if a.content_id and f"cid:{a.content_id.lower()}" in html else a
                            for a in mail.attachments]


def _rfc822_bytes(part: Message) -> bytes:
    try:
        payload = part.get_payload()
        inner = payload[0] if isinstance(payload, list) and payload else None
        encoded = _encoded_rfc822(part, inner)
        if encoded is not None:
            return encoded
        if isinstance(inner, Message):
            return inner.as_bytes(policy=policy.compat32.clone(linesep="\r\n", max_line_length=0))
        return _payload_bytes(part) or b""
    except Exception:  # noqa: BLE001
        try:
            return part.as_bytes(policy=POLICY)
        except Exception:  # noqa: BLE001
            return b""


def _encoded_rfc822(part: Message, inner: object) -> bytes | None:
    """The message inside a base64 or quoted-printable message/rfc822 part (not allowed by
    RFC 2046, sent anyway); the stdlib parses the encoded text as a headerless message."""
    try:
        cte = str(part.get("Content-Transfer-Encoding", "") or "").strip().lower()
    except Exception:  # noqa: BLE001
        return None
    if cte not in ("base64", "quoted-printable"):
        return None
    try:
        if cte == "quoted-printable":
            data = (
                inner.as_bytes(policy=policy.compat32.clone(max_line_length=0)) if isinstance(inner, Message) else b""
            )
            return quopri.decodestring(data) if data else None
        if not isinstance(inner, Message) or (len(inner.keys()) and not inner.defects):
            return None  # headers were readable: the part was not actually encoded
        body = inner.get_payload()
        return base64.b64decode((body if isinstance(body, str) else "").encode("ascii", "ignore"))
    except (ValueError, binascii.Error, TypeError, LookupError):
        return None


def parse_message(raw: bytes) -> ParsedMail:
    """Parse any bytes into a ParsedMail; never raises (what was malformed lands in `defects`)."""
    if not isinstance(raw, (bytes, bytearray)):
        raw = str(raw).encode("utf-8", "replace")
    raw = bytes(raw)
    mail = ParsedMail(raw=raw)
    try:
        msg = BytesParser(policy=READING).parsebytes(raw)
    except Exception as exc:  # noqa: BLE001
        mail.defects.append(f"unparseable message: {exc}")
        mail.text = raw.decode("utf-8", "replace")
        return mail
    mail._msg = msg
    for defect in getattr(msg, "defects", []) or []:
        mail.defects.append(type(defect).__name__)
    senders = _addresses(msg, "From")
    mail.from_addr = senders[0] if senders else None
    mail.to = _addresses(msg, "To")
    mail.cc = _addresses(msg, "Cc")
    mail.reply_to = _addresses(msg, "Reply-To")
    mail.subject = _decoded_header(msg, "Subject")
    mail.date = _date(msg, mail.defects)
    ids = _msgids(_raw_header(msg, "Message-ID"))
    mail.message_id = ids[0] if ids else None
    mail.in_reply_to = _msgids(_raw_header(msg, "In-Reply-To"))
    mail.references = _msgids(_raw_header(msg, "References"))
    bodies: dict[str, str] = {}
    try:
        _walk(msg, mail, bodies)
    except Exception as exc:  # noqa: BLE001
        mail.defects.append(f"unreadable MIME structure: {exc}")
    for key, value in bodies.items():
        bodies[key] = to_lf(value)
    mail.html = bodies.get("text/html")
    _mark_inline(mail)
    if "text/plain" in bodies and (bodies["text/plain"].strip() or not mail.html):
        mail.text = bodies["text/plain"]
    elif mail.html is not None:
        mail.text = html_to_text(mail.html)
        mail.text_from_html = True
    return mail
