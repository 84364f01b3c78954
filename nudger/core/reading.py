"""One reading of a message, shared by ``ingest`` (which acts on it) and ``inspect`` (which
only shows it): who sent it, what kind it is, what they wrote, the forward it carries, its
commands, its attachments, and whether it proves who it came from.

Each part is read once, when first asked for: an auto-reply is never parsed for commands.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from nudger.config import Config
from nudger.core.calendars import calendar_for
from nudger.core.classify import Verdict, classify, passed_authentication
from nudger.core.commands import Command, Suggestion, parse_commands
from nudger.core.intake import display_name, sent_time
from nudger.core.tokens import token_matches
from nudger.mail.forwards import Forward, find_forward
from nudger.mail.message import Attachment, ParsedMail
from nudger.mail.replies import reply_text

# A plain addr-spec (RFC 5322 dot-atom @ domain; RFC 6532 letters allowed): no quoted local
# part, no second "@", and no "%" or "!" (source-routing forms an MTA may rewrite to reach an
# outsider: eve%evil.example@acme.test, evil.example!eve@acme.test).
_ATOM = r"[\w#$&'*+/=?^`{|}~-]+"
_LABEL = r"[^\W_](?:[\w-]{0,61}[^\W_])?"
_PLAIN_ADDRESS = re.compile(rf"{_ATOM}(?:\.{_ATOM})*@{_LABEL}(?:\.{_LABEL})+")


def plain_address(email: str) -> bool:
    """Is this one mailbox, written the plain way, and nothing that could route elsewhere?"""
    local, _, domain = email.rpartition("@")
    return (len(email) <= 254 and 0 < len(local) <= 64 and len(domain) <= 253
            and _PLAIN_ADDRESS.fullmatch(email) is not None)


def in_allowed_domain(config: Config, email: str) -> bool:
    """Only a plain addr-spec in an allowed domain counts: ``eve@evil.example@acme.test`` (read
    as ``@acme.test``), quoted local parts and routing forms never do."""
    if not plain_address(email):
        return False
    return email.rpartition("@")[2].lower() in {d.lower() for d in config.security.allowed_domains}


def sender_of(mail: ParsedMail) -> str:
    return mail.from_addr.email.strip().lower() if mail.from_addr else ""


@dataclass
class Reading:
    mail: ParsedMail
    config: Config
    now: datetime  # when it arrived: relative dates are read as of the sender's Date, never later

    @cached_property
    def verdict(self) -> Verdict:
        return classify(self.mail, self.config)

    @cached_property
    def sender(self) -> str:
        return sender_of(self.mail)

    @cached_property
    def sender_name(self) -> str:
        """The name the sender's From header gave ("" when none): we call a sender who is not
        in ``[[people]]`` by it."""
        return display_name(self.mail.from_addr.name, self.sender) if self.mail.from_addr else ""

    @property
    def allowed(self) -> bool:
        return bool(self.sender) and in_allowed_domain(self.config, self.sender)

    @cached_property
    def forward(self) -> Forward | None:
        return find_forward(self.mail) if self.verdict.kind == "handoff" else None

    @cached_property
    def text(self) -> str:
        """What the sender wrote themselves: the note above a forward, else their reply."""
        return self.forward.note if self.forward else reply_text(self.mail)

    @cached_property
    def commands(self) -> list[Command] | Suggestion:
        """The reply grammar, with dates read in the sender's own calendar as of when they wrote."""
        cal = calendar_for(self.config, self.sender)
        today = cal.local(sent_time(self.mail, self.now)).date()
        return parse_commands(self.text, today, cal, self.config.org.date_order)

    @cached_property
    def customer_attachments(self) -> list[Attachment]:
        """Everything attached to a new handoff: the forwarded email's files and the outer ones,
        each once (the same file attached twice is sent once). Images the HTML shows inline
        (``cid:`` signature logos) are not attachments anyone chose to send."""
        found: list[Attachment] = []
        seen: set[tuple[str, bytes]] = set()
        for att in [*(self.forward.attachments if self.forward else []), *self.mail.attachments]:
            if att.inline:
                continue
            key = (att.filename, hashlib.sha256(att.data).digest())
            if key not in seen:
                seen.add(key)
                found.append(att)
        return found

    def questions(self) -> list[Command]:
        """The commands, when every one of them only asks (status, help); else nothing."""
        parsed = self.commands
        if isinstance(parsed, list) and parsed and all(c.name in QUESTIONS for c in parsed):
            return parsed
        return []

    def proof(self, secrets: tuple[bytes, ...], token_subject: str | None,
              roles: frozenset[str] | None) -> str | None:
        """How the message proves who sent it, or None.

        A token made for the sender for ``token_subject`` (a handoff number, or "d" for a
        digest) proves it. Failing that, a trusted server's DKIM/DMARC pass for the sender's
        domain proves it for a participant (``roles``; None when no state was consulted, as
        in ``inspect``).
        """
        v = self.verdict
        if v.token and token_subject is not None and secrets and token_matches(
                secrets, token_subject, self.sender, v.token):
            return "reply address made for the sender"
        if roles is not None and not roles:
            return None
        dk = passed_authentication(self.mail, self.config)
        if dk is None:
            return None
        who = f"participant ({', '.join(sorted(roles))})" if roles else "participants not consulted"
        return f"{who}; {dk}"


QUESTIONS = ("status", "help")


def read_message(mail: ParsedMail, config: Config, now: datetime) -> Reading:
    return Reading(mail, config, now)
