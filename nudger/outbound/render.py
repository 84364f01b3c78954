"""Notices become emails: one Jinja2 environment, a text and an HTML template per kind.

Every email gets one recipient, the token Reply-To, a ``[#id]`` subject, a Message-ID fixed by
its dedupe key (a resend after a crash is the same message), threading to the handoff's root
id, RFC 3834 Auto-Submitted, Exchange's suppression header and our loop header.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from email.utils import format_datetime
from functools import lru_cache
from pathlib import Path
from typing import Any

from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    pass_context,
    select_autoescape,
)
from markupsafe import Markup

from nudger.config import Config
from nudger.config.model import team_label
from nudger.core.calendars import calendar_for
from nudger.core.classify import LOOP_HEADER
from nudger.core.message_ids import message_id_for
from nudger.core.records import Handoff, Notice
from nudger.core.tokens import digest_address, reply_address
from nudger.outbound.actions import actions_for, with_mailto
from nudger.outbound.inline import Inliner
from nudger.outbound.invites import invite_for, invite_method
from nudger.outbound.kinds import LAYOUT_FIELDS, Kind, kind_of
from nudger.outbound.mime import encoded_words, wire
from nudger.outbound.template_cache import template_cache

WIDTH = 72
# How a handoff's status reads in the card's badge and the text part's Status line.
STATUS_WORDS = {"open": "waiting for confirmation", "acknowledged": "confirmed", "blocked": "blocked",
                "done": "done", "cancelled": "cancelled"}


def builtin_templates() -> Path:
    """Inside the installed package, or the source tree's top-level templates/."""
    here = Path(__file__).parent.parent
    packaged = here / "templates"
    return packaged if packaged.is_dir() else here.parent / "templates"


def safe_header(value: str, limit: int = 200) -> str:
    """Inbound text put into a header: no CR/LF or control characters, bounded length."""
    value = re.sub(r"[\x00-\x1f\x7f]+", " ", value or "")
    value = " ".join(value.split())
    return value if len(value) <= limit else value[: limit - 1] + "…"


VERBATIM = "\x1f"  # a line of its own in a template: start or end text kept as written


def wrap_text(text: str, width: int = WIDTH) -> str:
    """Wrap our prose at 72 columns; bullets and '> ' keep their prefix.

    Text between two VERBATIM lines (the customer's own email) is left as its author wrote it.
    """
    out = []
    verbatim = False
    for line in text.splitlines():
        # Only spaces and tabs around the marker: str.strip() treats \x1f itself as whitespace.
        if line.strip(" \t\r") == VERBATIM:
            verbatim = not verbatim
            continue
        if verbatim or len(line) <= width or "://" in line and len(line.split()) == 1:
            out.append(line)
            continue
        out.append(_wrapped(line, width))
    return "\n".join(out)


@lru_cache(maxsize=2048)
def _wrapped(line: str, width: int) -> str:
    """One long line wrapped; the same lines ("Reply with: …", a team's rush note) come back
    in email after email of a run."""
    m = re.match(r"^(\s*(?:>\s?)*(?:[-*•]\s+|\d+\.\s+|[A-Z][A-Za-z]{1,12}:\s{2,})?)", line)
    lead = m.group(1) if m else ""
    # A bullet's or a "Label:   " column's continuation lines hang under its text.
    cont = re.sub(r"[-*•]|\d+\.|[A-Za-z]+:", lambda x: " " * len(x.group(0)), lead) if lead.strip(" >") else lead
    return textwrap.fill(line[len(lead):], width, initial_indent=lead, subsequent_indent=cont,
                         break_long_words=False, break_on_hyphens=False)


def human_date(value: str | date | None) -> str:
    if not value:
        return "no date"
    return _human_date(date.fromisoformat(value) if isinstance(value, str) else value)


@lru_cache(maxsize=4096)
def _human_date(d: date) -> str:
    """A run writes a few dates thousands of times (each card's due date, twice an email)."""
    return f"{d:%a} {d.day} {d:%b %Y}"


# "ack 11/20" said on 23 Nov is next year's 20 Nov (DESIGN: a date without a year is the next
# one): the email says so, in case this year's was meant.
FAR_DAYS = 300

_ISO_DAY = re.compile(r"\b(\d{4}-\d{2}-\d{2})\b")


def dates_in(text: str) -> str:
    """ISO days inside a figure's words (``overdue (due 2026-11-27)``) as the emails write days."""
    def day(m: re.Match[str]) -> str:
        try:
            return human_date(m.group(1))
        except ValueError:
            return m.group(1)

    return _ISO_DAY.sub(day, text)


def human_when(value: str | None) -> str:
    """An ISO timestamp as people write it; anything else is shown as it came."""
    if not value:
        return ""
    try:
        dt = datetime.fromisoformat(value)
    except ValueError:
        return value
    text = f"{dt:%a} {dt.day} {dt:%b %Y}, {dt:%H:%M}"
    return text + (f" ({dt:%z})" if dt.utcoffset() is not None else "")


def human_size(n: int) -> str:
    for unit in ("bytes", "KB", "MB", "GB"):
        if n < 1024 or unit == "GB":
            return f"{n:.0f} {unit}" if unit == "bytes" else f"{n:.1f} {unit}"
        n /= 1024  # type: ignore[assignment]
    return str(n)


def addresses(value: Any) -> str:
    """A stored address or list of them ({"name", "email"}) as a header shows them."""
    items = value if isinstance(value, list) else [value]
    shown = []
    for a in items:
        if not isinstance(a, dict) or not a.get("email"):
            continue
        shown.append(f"{a['name']} <{a['email']}>" if a.get("name") else str(a["email"]))
    return ", ".join(shown)


@dataclass(frozen=True)
class Rendered:
    message_id: str
    subject: str
    raw: bytes


class Renderer:
    """Renders notices for one config; secrets sign the Reply-To addresses."""

    def __init__(self, config: Config, secret: bytes):
        self.config = config
        self.secret = secret
        # The template's <style> moved into style attributes (many mail clients drop <style>);
        # a <style data-css-inline="keep"> (dark mode, narrow screens) stays as it is.
        self.inliner = Inliner()
        loaders = [FileSystemLoader(str(builtin_templates()))]
        if config.templates_path:
            loaders.insert(0, FileSystemLoader(str(config.templates_path)))
        self.env = Environment(
            loader=ChoiceLoader(loaders),
            autoescape=select_autoescape(enabled_extensions=("html",), default_for_string=False),
            undefined=StrictUndefined,
            trim_blocks=True,
            lstrip_blocks=True,
            keep_trailing_newline=True,
            auto_reload=False,  # a run's templates do not change under it: no stat per email
            cache_size=-1,  # a few dozen templates, each kept: a dict, not an LRU's queue walk per include
            bytecode_cache=template_cache(config.database_path),  # compiled once, not in every run
        )
        self.env.filters["date"] = human_date
        self.env.filters["size"] = human_size
        self.env.filters["when"] = pass_context(lambda ctx, value: self.local_when(ctx, value))
        self.env.filters["person"] = pass_context(lambda ctx, email: self.person_name(email, ctx.get("names")))
        self.env.filters["addresses"] = addresses
        self.env.filters["sentence"] = sentence
        self.env.filters["team"] = team_label
        self.env.filters["dates"] = dates_in
        self.env.filters["quoted"] = quoted
        self.env.filters["one_line"] = one_line

    def local_when(self, ctx: Any, value: datetime | str | None) -> str:
        """A moment of ours in the recipient's own time ("Mon 23 Nov, 09:02"); a date
        string from a customer's email is shown as it was written."""
        if not isinstance(value, datetime):
            return human_when(value)
        recipient = ctx.get("recipient") or {}
        here = calendar_for(self.config, recipient.get("email")).local(value)
        return f"{here:%a} {here.day} {here:%b}, {here:%H:%M}"

    def person_name(self, email: str | None, names: Mapping[str, str] | None = None) -> str:
        """The directory's name, else the one the person's own mail gave (``names``), else
        the address."""
        if not email:
            return "nobody yet"
        person = self.config.person_by_email(email)
        if person:
            return person.name
        return (names or {}).get(email.lower()) or email

    @staticmethod
    def known_names(handoff: Handoff | None, *more: Mapping[str, Any] | None) -> dict[str, str]:
        """Names people outside ``[[people]]`` gave in their own From headers: the handoff's
        requester, and whatever the kind's context or the notice add (``names``)."""
        names: dict[str, str] = {}
        if handoff is not None and handoff.requester_name:
            names[handoff.requester.lower()] = handoff.requester_name
        for source in more:
            names.update((source or {}).get("names") or {})
        return names

    def _parts(self, notice: Notice, parts: list[Notice], handoff: Handoff | None,
               now: datetime) -> dict[str, Any]:
        """The ``changes`` email: each part's own body (its kind's ``body`` block, with its own
        words), one after the other, and a subject that names each ("Unblocked, confirmed")."""
        inherited: dict[str, Any] = {k: notice.context[k] for k in ("actor", "names") if k in notice.context}
        texts, htmls, prefixes = [], [], []
        for part in parts:
            one = Notice(part.kind, notice.to, notice.handoff_id,
                         context={**inherited, **part.context, "also_told": [], "one_of_changes": True})
            kind = kind_of(one)
            # Each step tells the date as it stood after that step ("confirmed, due Thu 3 Dec",
            # then "moved from Thu 3 Dec to Mon 7 Dec"); the card below shows where it ended.
            then = handoff
            if handoff is not None and "due_then" in part.context and part.context["due_then"] != handoff.due:
                then = handoff.changed(due=part.context["due_then"])
            ctx = self.context(one, then, kind, None, now)
            text_name, html_name = kind.templates
            texts.append(self._body(text_name, ctx))
            htmls.append(Markup(self._body(html_name, ctx)))  # rendered with autoescape: safe
            prefixes.append(kind.subject_prefix(ctx))
        prefixes = list(dict.fromkeys(prefixes))
        summary = ", ".join([prefixes[0], *(p[:1].lower() + p[1:] for p in prefixes[1:])])
        return {"parts_text": texts, "parts_html": htmls, "summary": summary}

    def _body(self, name: str, ctx: dict[str, Any]) -> str:
        template = self.env.get_template(name)
        return "".join(template.blocks["body"](template.new_context(ctx))).strip("\n")

    def reply_to(self, notice: Notice) -> str:
        c = self.config
        if notice.handoff_id is None:
            return digest_address(self.secret, c.handoff_local, c.handoff_domain, notice.to)
        return reply_address(self.secret, c.handoff_local, c.handoff_domain, notice.handoff_id, notice.to)

    def context(self, notice: Notice, handoff: Handoff | None, kind: Kind,
                extra: dict[str, Any] | None = None, now: datetime | None = None) -> dict[str, Any]:
        """The layout's variables, the kind's own (defaults, then its context function's), then
        the notice's facts. Anything else a template names is an error (StrictUndefined)."""
        c = self.config
        today = calendar_for(c, notice.to).local(now).date() if now else None
        names = self.known_names(handoff, extra, notice.context)
        ctx: dict[str, Any] = {
            **LAYOUT_FIELDS,
            **kind.fields,
            "kind": notice.kind,
            "handoff": handoff,
            "recipient": {"email": notice.to, "name": self.person_name(notice.to, names)},
            "role": handoff.role_of(notice.to) if handoff else "someone",
            "reply_address": self.reply_to(notice),
            "handoff_address": c.org.handoff_address,
            "from_name": c.outbound.from_name,
            "today": today,
            "overdue": bool(handoff and handoff.is_open and handoff.due and today and handoff.due < today),
            "status_word": STATUS_WORDS.get(handoff.status, handoff.status) if handoff else "",
            "actions": [],
        }
        ctx.update(extra or {})
        ctx.update(notice.context)
        ctx["names"] = names
        ctx["also_told"] = [self._told(e, ctx, now) for e in ctx.get("also_told") or []]
        new_due = ctx.get("new_due")
        ctx["far_due"] = bool(isinstance(new_due, date) and today and (new_due - today).days > FAR_DAYS)
        return ctx

    def _told(self, email: str, ctx: dict[str, Any], now: datetime | None) -> str:
        """A name for "Also told:", with when they will hear if their email waits for their
        business hours ("Lee Ledger (Fri 27 Nov, 08:00, when their day starts)")."""
        name = self.person_name(email, ctx["names"])
        at = (ctx.get("told_at") or {}).get(email)
        if isinstance(at, datetime) and now is not None and at > now + timedelta(minutes=1):
            return f"{name} ({self.local_when(ctx, at)}, when their day starts)"
        return name

    def subject(self, kind: Kind, handoff: Handoff | None, ctx: dict[str, Any], about: str) -> str:
        """``[#id] Prefix: title``; after a question (``Did you mean "done"?``) a dash, not ``?:``."""
        prefix = kind.subject_prefix(ctx)
        sep = " - " if prefix.endswith("?") else ": "
        if handoff:
            return safe_header(f"[#{handoff.id}] {prefix}{sep}{handoff.title}")
        return safe_header(f"{prefix}{sep}{about}" if about else prefix)

    def render(
        self, notice: Notice, handoff: Handoff | None, dedupe_key: str, now: datetime, *,
        extra: dict[str, Any] | None = None, in_reply_to: str | None = None, about: str = "",
    ) -> Rendered:
        """One email. An answer threads to the person's own message (``in_reply_to``) and,
        without a handoff, is titled after the subject it answers (``about``)."""
        c = self.config
        kind = kind_of(notice)
        ctx = self.context(notice, handoff, kind, extra, now)
        parts: list[Notice] = list(ctx.get("parts") or [])
        if parts:
            ctx.update(self._parts(notice, parts, handoff, now))
        subject = self.subject(kind, handoff, ctx, about if kind.answer else "")
        ctx["actions"] = with_mailto(actions_for(notice.kind, handoff, ctx["role"]), ctx["reply_address"], subject)
        text_name, html_name = kind.templates
        text = wrap_text(self.env.get_template(text_name).render(ctx)).strip() + "\n"
        html = self.inliner.inline(self.env.get_template(html_name).render(ctx))
        message_id = message_id_for(dedupe_key, c.handoff_domain)

        refs = []
        if handoff and handoff.root_message_id:
            refs.append(handoff.root_message_id)
        if in_reply_to and kind.answer:
            refs.append(in_reply_to)
        files = list(ctx.get("attachments") or [])
        # Several changes in one email carry the calendar entry any one of them would; any
        # email to the owner from a reply that moved the date carries the moved entry.
        moved = bool(notice.context.get("date_moved"))
        # The last change that has one decides (`cancel` then `reopen`: the entry stays).
        invite_kind = next((k for k in reversed([p.kind for p in parts] or [notice.kind])
                            if invite_method(k, handoff, ctx["role"], moved)), None)
        if invite_kind:
            files.append(invite_for(invite_kind, handoff, ctx["role"], c.handoff_domain, now, ctx["reply_address"],
                                    moved))
        elif notice.context.get("calendar_cancel") and handoff is not None and (gone := invite_for(
                "cancelled", handoff.changed(owner=notice.to), "owner", c.handoff_domain, now,
                ctx["reply_address"])):  # no longer theirs: their entry goes
            files.append(gone)
        to_name = self.person_name(notice.to, ctx["names"])
        headers = [
            ("From", _address(c.outbound.from_name, c.org.handoff_address)),
            ("To", _address(to_name if to_name != notice.to else "", notice.to)),
            ("Reply-To", ctx["reply_address"]),
            ("Subject", subject),
            ("Date", format_datetime(now)),
            ("Message-ID", f"<{message_id}>"),
        ]
        if refs:
            headers += [("In-Reply-To", f"<{refs[-1]}>"), ("References", " ".join(f"<{r}>" for r in refs))]
        headers += [
            ("Auto-Submitted", "auto-replied" if kind.answer else "auto-generated"),
            ("X-Auto-Response-Suppress", "All"),
            (LOOP_HEADER, c.org.handoff_address),
            ("X-Nudger-Kind", notice.kind),
        ]
        return Rendered(message_id, subject, wire(headers, text, html, files))


def one_line(text: object) -> str:
    """Someone's lines in one field of the card (a blocked reason written over two lines)."""
    return " / ".join(line.strip() for line in str(text or "").splitlines() if line.strip())


def quoted(title: object) -> str:
    """A title in our sentence, in double quotes; one with double quotes of its own
    ("“Urgent” price list") is left bare: '"“Urgent” price list"' reads as a typo."""
    text = str(title)
    return text if any(q in text for q in '"“”„') else f'"{text}"'


def sentence(text: object) -> str:
    """Someone's words run into the next sentence of ours: end them with a full stop when
    they have no closing punctuation of their own."""
    words = str(text or "").rstrip()
    return words if not words or words[-1] in ".!?…)\"'”»:" else words + "."


def _address(name: str, addr: str) -> str:
    """``"Name" <addr>``, quoted as DESIGN.md writes it; encoded-words when not ASCII."""
    name = safe_header(name, 78)
    if not name:
        return addr
    if not name.isascii():
        return f"{' '.join(encoded_words(name))} <{addr}>"
    quoted = name.replace("\\", "\\\\").replace('"', '\\"')
    return f'"{quoted}" <{addr}>'
