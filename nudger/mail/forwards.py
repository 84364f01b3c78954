"""The customer's original email inside a salesperson's forward, and the note written above it.

Three shapes are read: a message/rfc822 attachment; an inline header block ("From: … /
Date: … / Subject: …" in any of the languages in forward_headers, optionally under a
separator line, quoted with `>` by Apple Mail, glued onto one line by Yahoo); and Outlook
for Mac's "On <date>, <name> wrote:" under a forward subject (FW:, WG:, TR: …). A header
block under a reply subject (Re:, AW: …) with no separator above it is a reply, not a forward.
The outermost forwarded message wins; its body keeps whatever it forwarded in turn.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from nudger.mail.forward_dates import parse_forward_date, to_datetime
from nudger.mail.forward_headers import (
    FORWARD_PREFIX_RE,
    GATEWAY_TAGS,
    HEADER_NAME_RE,
    REPLY_PREFIX_RE,
    ROLE_OF,
    header_line,
    is_separator,
    iso_date,
    unknown_header_line,
)
from nudger.mail.message import Address, Attachment, ParsedMail, parse_message, to_lf
from nudger.mail.replies import attribution_span, strip_name_signature, strip_reply

_ZERO_WIDTH = dict.fromkeys(map(ord, "\u200b\u200c\u200d\u200e\u200f\u2060"), None)
_QUOTE_PREFIX = re.compile(r"^(?:[ \t]?>){1,64}[ \t]?")
_PREFIX_RUN = re.compile(
    r"^[ \t]*(?:(?P<word>" + FORWARD_PREFIX_RE + "|" + REPLY_PREFIX_RE + r")"
    r"[ \t]*(?:(?:\[\d{1,4}\]|\(\d{1,4}\))[ \t]*)?[:：][ \t]*"
    r"|\[(?:" + "|".join(re.escape(t) for t in GATEWAY_TAGS) + r")\][ \t]*)",
    re.I,
)
_FORWARD_WORD = re.compile(r"^(?:" + FORWARD_PREFIX_RE + r")$", re.I)
_REPLY_WORD = re.compile(r"^(?:" + REPLY_PREFIX_RE + r")$", re.I)
_EMAIL = re.compile(r"[^\s<>()\[\]\"',;:]{1,200}@[^\s<>()\[\]\"',;:]{1,200}")
_MAILTO_ANGLE = re.compile(r"<mailto:[^<>\s]{0,300}>", re.I)
_MAILTO_SQUARE = re.compile(r"\[mailto:([^\]\s]{0,300})\]", re.I)
_YAHOO_HEAD = re.compile(r"^[ \t]*-{2,}[ \t]*(?P<title>[^-\n]{2,80}?)[ \t]*-{2,}[ \t]*(?P<rest>\S.*)$")
_ROLE_ORDER_KEYS = re.compile(r"(?P<name>" + HEADER_NAME_RE + r")(?:[ \t]*[:：]|[ \t](?=\S))", re.I)
_ATTR_ADDR = re.compile(
    r"[\"“«]?(?P<name>[^\"“”«»<>()\n,]{1,80}?)[\"”»]?[ \t]*[<(\[]{1,2}[ \t]*"
    r"(?:mailto:)?(?P<email>[^\s<>()\[\]]{1,200}@[^\s<>()\[\]]{1,200}?)[ \t]*[>)\]]"
)
_MAX_LINES = 20000


@dataclass
class Forward:
    note: str
    from_addr: Address | None
    to: list[Address] = field(default_factory=list)
    cc: list[Address] = field(default_factory=list)
    date: str | None = None
    subject: str = ""
    body: str = ""
    attachments: list[Attachment] = field(default_factory=list)

    def __post_init__(self) -> None:
        """No CR survives into what callers store and show, whatever path built the Forward."""
        self.note, self.body, self.subject = to_lf(self.note or ""), to_lf(self.body or ""), to_lf(self.subject or "")

    def as_json(self) -> dict:
        return {
            "from": self.from_addr.as_json() if self.from_addr else None,
            "to": [a.as_json() for a in self.to],
            "cc": [a.as_json() for a in self.cc],
            "date": self.date,
            "subject": self.subject,
            "body": self.body,
        }


# ---------------------------------------------------------------- subjects


def subject_prefixes(subject: str) -> tuple[bool, bool]:
    """(has a forward prefix, has a reply prefix) in the leading run of prefixes."""
    fwd = rep = False
    s = subject or ""
    for _ in range(10):
        m = _PREFIX_RUN.match(s)
        if not m:
            break
        word = (m.group("word") or "").strip()
        if word and _FORWARD_WORD.match(word):
            fwd = True
        elif word and _REPLY_WORD.match(word):
            rep = True
        s = s[m.end():]
    return fwd, rep


def strip_subject_prefix(subject: str) -> str | None:
    """The subject without its first Re:/Fwd:/[EXT] prefix, or None when it has none."""
    m = _PREFIX_RUN.match(subject)
    return subject[m.end():] if m else None


def strip_subject_prefixes(subject: str) -> str:
    s = subject or ""
    for _ in range(10):
        rest = strip_subject_prefix(s)
        if rest is None:
            break
        s = rest
    return s.strip()


# ---------------------------------------------------------------- addresses


def parse_address_list(value: str) -> list[Address]:
    """Addresses as clients print them in quoted headers: `Name <a@b>`, `Name [mailto:a@b]`,
    `a@b <a@b>`, `Name <a@b<mailto:a@b>>`, bare names; never raises."""
    v = _MAILTO_ANGLE.sub("", value or "")
    v = _MAILTO_SQUARE.sub(r"<\1>", v)
    items = _split_list(v)
    merged: list[str] = []
    for item in items:
        # Outlook prints "Seller, Sam <sam@acme.test>" unquoted: a bare name before a named address
        if merged and not _EMAIL.search(merged[-1]) and _EMAIL.search(item) and re.match(r"^[^<\[(@]+[<\[(]", item):
            merged[-1] = merged[-1] + ", " + item
        else:
            merged.append(item)
    out = []
    for item in merged:
        addr = _parse_one(item)
        if addr:
            out.append(addr)
    return out


def _split_list(value: str) -> list[str]:
    items: list[str] = []
    buf: list[str] = []
    depth, quoted = 0, False
    for ch in value:
        if ch == '"':
            quoted = not quoted
        elif ch in "<([" and not quoted:
            depth += 1
        elif ch in ">)]" and not quoted:
            depth = max(0, depth - 1)
        if ch in ",;" and not quoted and depth == 0:
            items.append("".join(buf))
            buf = []
            continue
        buf.append(ch)
    items.append("".join(buf))
    return [i.strip() for i in items if i.strip()]


def _parse_one(item: str) -> Address | None:
    m = _EMAIL.search(item)
    email = m.group(0).strip(".") if m else ""
    name = item
    if m:
        name = item[:m.start()] + item[m.end():]
    name = re.sub(r"[<>()\[\]]", " ", name)
    name = " ".join(name.split()).strip(" \"'“”«»,;:*")
    if name.lower() == email.lower():
        name = ""
    if not email and not name:
        return None
    return Address(name=name, email=email)


# ---------------------------------------------------------------- header blocks


@dataclass
class _Block:
    start: int                 # first header line
    end: int                   # one past the last header line
    headers: dict[str, str]
    depth: int                 # quote depth of the header lines
    note_end: int              # where the note above ends (separator lines excluded)
    separated: bool            # a separator line sits right above


def _depth(line: str) -> tuple[int, str]:
    m = _QUOTE_PREFIX.match(line)
    if not m:
        return 0, line
    return m.group(0).count(">"), line[m.end():]


def _split_yahoo(lines: list[str]) -> list[str]:
    """Yahoo glues its forward header onto one line: `----- Forwarded Message ----- From: …To: …`."""
    out = []
    for line in lines:
        depth, body = _depth(line)
        m = _YAHOO_HEAD.match(body) if len(body) < 2000 else None
        head = header_line(m.group("rest")) if m else None
        if m and head and head[0] == "from":
            prefix = "> " * depth
            out.append(prefix + "----- " + m.group("title").strip() + " -----")
            out.extend(prefix + h for h in _glued_headers(m.group("rest")))
            continue
        out.append(line)
    return out


def _glued_headers(rest: str) -> list[str]:
    """Split `From: a <x@y>To: b <z@w>Sent: …Subject: …` at each header name, in order."""
    positions: list[tuple[int, str]] = []  # (offset, role)
    for m in _ROLE_ORDER_KEYS.finditer(rest):
        role = ROLE_OF.get(m.group("name").lower())
        if role is None:
            continue
        if positions and role in {r for _, r in positions}:
            continue
        if (
            positions
            and m.start() > 0
            and rest[m.start() - 1].isalpha()
            and rest[m.start() - 1].islower()
            and m.group("name")[0].islower()
        ):
            continue
        if positions and not _value_done(rest[positions[-1][0]:m.start()], positions[-1][1]):
            continue
        positions.append((m.start(), role))
    if not positions:
        return [rest]
    cuts = [p for p, _ in positions] + [len(rest)]
    lines = []
    for a, b in zip(cuts, cuts[1:], strict=False):
        chunk = rest[a:b].strip()
        name_m = _ROLE_ORDER_KEYS.match(chunk)
        if name_m and ":" not in chunk[:name_m.end()]:
            chunk = name_m.group("name") + ": " + chunk[name_m.end():].strip()
        lines.append(chunk)
    return lines


def _value_done(chunk: str, role: str) -> bool:
    """Whether the text so far can be a whole value of that role (an address list must have ended)."""
    value = chunk.split(":", 1)[1] if ":" in chunk[:40] else chunk
    value = value.strip()
    if role in ("from", "to", "cc", "reply_to"):
        return bool(value) and (value.endswith(">") or bool(_EMAIL.search(value)))
    if role == "date":
        return bool(re.search(r"\d", value))
    return bool(value)


def _find_block(lines: list[str], begin: int = 0) -> _Block | None:
    i = begin
    n = len(lines)
    while i < n:
        depth, body = _depth(lines[i])
        hl = header_line(body)
        if hl is None:
            i += 1
            continue
        headers: dict[str, str] = {}
        roles: list[str] = []
        j = i
        last_role = None
        # Under a separator line, some clients (BlackBerry, older Outlook) leave a blank line
        # between header lines; elsewhere a blank line ends the block.
        spaced = _note_end(lines, i, depth)[1]
        while j < n:
            d, b = _depth(lines[j])
            if d != depth:
                break
            if spaced and not b.strip() and headers:
                k = j + 1
                while k < n and k - j < 2 and not _depth(lines[k])[1].strip():
                    k += 1  # up to two blank lines
                nd, nb = _depth(lines[k]) if k < n else (-1, "")
                nh = header_line(nb) if nd == depth else None
                if nh is not None and nh[0] not in headers:
                    j = k
                    continue
            h = header_line(b)
            if h is not None and h[0] not in headers:
                headers[h[0]] = h[1]
                roles.append(h[0])
                last_role = h[0]
                j += 1
                continue
            if h is not None:
                break
            if unknown_header_line(b) and j + 1 < n and _next_is_header(lines, j + 1, depth):
                j += 1
                continue
            # a wrapped value: only between two header lines, at most two lines
            k = j
            while k < n and k - j < 2 and b.strip() and header_line(b) is None:
                k += 1
                if k < n:
                    d, b = _depth(lines[k])
            if k < n and k > j and d == depth and header_line(b) is not None and last_role:
                extra = " ".join(_depth(x)[1].strip() for x in lines[j:k])
                headers[last_role] = (headers[last_role] + " " + extra).strip()
                j = k
                continue
            break
        if last_role and _wrapped_last_value(lines, j, depth, last_role, headers[last_role]):
            headers[last_role] = headers[last_role] + " " + _depth(lines[j])[1].strip()
            j += 1
        if "from" in headers and len(set(roles)) >= 2 and ({"date", "subject", "to"} & set(roles)):
            note_end, separated = _note_end(lines, i, depth)
            return _Block(i, j, headers, depth, note_end, separated)
        i = max(j, i + 1)
    return None


def _wrapped_last_value(lines: list[str], j: int, depth: int, role: str, value: str) -> bool:
    """The block's last value went on over one more line: a list ending in `,`/`;`, or a long
    subject cut at the client's wrap width, then the blank line every client puts before the body."""
    if j >= len(lines) or j < 1:
        return False
    d, b = _depth(lines[j])
    if d != depth or not b.strip() or len(b) > 200 or is_separator(b):
        return False
    blank_after = j + 1 >= len(lines) or not _depth(lines[j + 1])[1].strip()
    if role in ("to", "cc") and value.rstrip().endswith((",", ";")):
        return True
    return role == "subject" and blank_after and len(_depth(lines[j - 1])[1].rstrip()) >= 60


def _next_is_header(lines: list[str], k: int, depth: int) -> bool:
    d, b = _depth(lines[k])
    return d == depth and (header_line(b) is not None or unknown_header_line(b))


def _note_end(lines: list[str], start: int, depth: int) -> tuple[int, bool]:
    """Index where the note ends: above the block's separator line and blank lines."""
    k = start - 1
    while k >= 0 and not _depth(lines[k])[1].strip():
        k -= 1
    separated = False
    if k >= 0 and is_separator(_depth(lines[k])[1], generic=True):
        separated = True
        k -= 1
    while k >= 0 and not _depth(lines[k])[1].strip():
        k -= 1
    return k + 1, separated


def _after_separator(lines: list[str], depth: int) -> list[str]:
    """Zoho closes its header block with the separator line it opened it with: not body."""
    for k, line in enumerate(lines[:3]):
        d, b = _depth(line)
        if not b.strip():
            continue
        return lines[k + 1:] if d == depth and is_separator(b) else lines
    return lines


def _body(lines: list[str], depth: int) -> str:
    """The forwarded body: quote markers of the block's depth removed, indentation undone."""
    out = []
    all_quoted = all(_depth(x)[0] > depth for x in lines if x.strip() and _depth(x)[1].strip())
    strip = depth + (1 if all_quoted and any(x.strip() for x in lines) else 0)
    for line in lines:
        out.append(_dequote(line, strip) if strip else line)
    text = _dedent("\n".join(out)).strip("\n")
    if text.startswith(" ") and not text.startswith("  "):
        text = text[1:]  # Yahoo puts one space before the first body line
    return text


def _dequote(line: str, levels: int) -> str:
    s = line
    for _ in range(levels):
        m = re.match(r"^[ \t]?>[ \t]?", s)
        if not m:
            break
        s = s[m.end():]
    return s


def _dedent(text: str) -> str:
    lines = text.split("\n")
    indents = [len(x) - len(x.lstrip(" \t")) for x in lines if x.strip()]
    cut = min(indents) if indents else 0
    if cut == 0:
        return text
    return "\n".join(x[cut:] if x.strip() else "" for x in lines)


# ---------------------------------------------------------------- building a Forward


def _clean_text(text: str) -> list[str]:
    lines = to_lf(text or "").translate(_ZERO_WIDTH).split("\n")
    if lines and lines[0].startswith("\ufeff"):
        lines[0] = lines[0][1:]
    return lines[:_MAX_LINES]


def _note(lines: list[str]) -> str:
    return strip_reply("\n".join(lines))


def _from_block(block: _Block, lines: list[str], attachments: list[Attachment]) -> Forward:
    h = block.headers
    senders = parse_address_list(h.get("from", ""))
    return Forward(
        note=_note(lines[:block.note_end]),
        from_addr=senders[0] if senders else None,
        to=parse_address_list(h.get("to", "")),
        cc=parse_address_list(h.get("cc", "")),
        date=iso_date(h.get("date", "")) if h.get("date") else None,
        subject=h.get("subject", "").strip(),
        body=_body(_after_separator(lines[block.end:], block.depth), block.depth),
        attachments=list(attachments),
    )


def _from_attribution(mail: ParsedMail, lines: list[str]) -> Forward | None:
    """Outlook for Mac forwards as `On <date>, "Name" <addr> wrote:` with the original indented."""
    plain = [_depth(x)[1] for x in lines[:400]]
    for i, line in enumerate(plain):
        if not line.strip():
            continue
        span = attribution_span(plain, i)
        if not span:
            continue
        joined = " ".join(x.strip() for x in plain[i:i + span])
        if "@" not in joined:
            continue
        m = _ATTR_ADDR.search(joined)
        sender = Address(_attr_name(m.group("name")), m.group("email")) if m else None
        return Forward(
            note=_note(lines[:i]),
            from_addr=sender,
            date=(
                _attr_date(joined[:m.start("email")] if m else joined)
                or (_attr_date(joined[m.end():]) if m else None)
            ),
            subject=strip_subject_prefixes(mail.subject),
            body=_body(lines[i + span:], _depth(lines[i])[0]),
            attachments=list(mail.attachments),
        )
    return None


def _attr_name(raw: str) -> str:
    name = raw.strip(" ,\"“”«»")
    # drop the lead-in ("On 28/10/2021 12:46, ") to keep the name next to the address
    parts = re.split(r",[ \t]*|[ \t]+(?:používateľ|időpontban|пользователь|користувач)[ \t]+", name)
    return parts[-1].strip(" \"“”«»") if parts else name


def _attr_date(head: str) -> str | None:
    """The date in the attribution before the sender's address, ISO 8601 when readable."""
    value = to_datetime(head)
    if value is not None:
        return value.isoformat()
    m = re.search(r"\d{1,4}[./-]\d{1,2}[./-]\d{2,4}(?:,?[ \t]+\d{1,2}[:.]\d{2})?", head)
    return m.group(0) if m else None


def _from_attached(mail: ParsedMail) -> Forward | None:
    inner = parse_message(mail.attached_messages[0])
    if inner.from_addr is None and not inner.subject and not inner.text:
        return None
    return Forward(
        note=strip_reply(_outer_note(mail)),
        from_addr=inner.from_addr,
        to=inner.to,
        cc=inner.cc,
        date=inner.date.isoformat() if isinstance(inner.date, datetime) else parse_forward_date(inner.header("Date")),
        subject=inner.subject,
        body=inner.text.strip("\n"),
        attachments=inner.attachments,
    )


def _outer_note(mail: ParsedMail) -> str:
    return mail.text or ""


def find_forward(mail: ParsedMail) -> Forward | None:
    """The forwarded original in `mail`, or None when it holds none. Never raises."""
    try:
        fwd = _find_forward(mail)
        if fwd is not None and mail.from_addr is not None:
            # a signature under the note could name the forwarder's own address as the owner
            fwd.note = strip_name_signature(fwd.note, mail.from_addr.name)
        return fwd
    except Exception:  # noqa: BLE001 - an unreadable forward is read as no forward, not a crash
        return None


def _find_forward(mail: ParsedMail) -> Forward | None:
    if mail.attached_messages:
        fwd = _from_attached(mail)
        if fwd is not None:
            return fwd
    lines = _split_yahoo(_clean_text(mail.text))
    fwd_subject, reply_subject = subject_prefixes(mail.subject)
    block = _find_block(lines)
    if block is not None and (block.separated or fwd_subject or not reply_subject):
        return _from_block(block, lines, mail.attachments)
    if fwd_subject:
        return _from_attribution(mail, lines)
    return None
