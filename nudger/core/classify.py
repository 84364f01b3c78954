"""What kind of message is this? An ordered tuple of named rules, each with its reason.

Automated mail (our own coming back, bounces, auto-replies) is recognised first and never
answered; then a reply to one of our notifications; anything else is a new handoff.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field

from nudger.config import Config
from nudger.core.message_ids import is_ours
from nudger.core.tokens import AddressTag, read_tag
from nudger.mail.message import ParsedMail

LOOP_HEADER = "X-Nudger-Loop"

_SUBJECT_ID = re.compile(r"\[#(\d{1,12})\]")
_OUT_OF_OFFICE = re.compile(
    r"^\s*(?:auto(?:matic|matische)?[ -]?(?:reply|response|antwort|antwoord)|autoreply|auto:|"
    r"out of (?:the )?office|ooo\b|abwesenheit|abwesend|réponse automatique|"
    r"absence du bureau|respuesta automática|fuera de la oficina|risposta automatica|"
    r"fuori ufficio|automatisch antwoord|afwezig|resposta automática|fora do escritório|"
    r"autosvar|frånvaro|automaattinen vastaus|poza biurem|odpowiedź automatyczna|"
    r"automatické odpověď|vacation|on vacation|away from (?:the )?office)",
    re.IGNORECASE,
)
_BOUNCE_SENDERS = re.compile(r"^(?:mailer-daemon|postmaster|mail-daemon)@", re.IGNORECASE)
_NO_REPLY = re.compile(r"^(?:no-?reply|do-?not-?reply|donotreply|noreply-[\w.-]+|[\w.-]+[.-]noreply)@")
_BOUNCE_SUBJECT = re.compile(
    r"^\s*(?:undeliverable|undelivered mail|delivery status notification|"
    r"mail delivery (?:failed|failure|system)|returned mail|failure notice|"
    r"delivery (?:has )?failed|non remis|unzustellbar|no se puede entregar)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Finding:
    """What a rule found, with its reason and what it learned (a bounce's outbox row)."""

    reason: str
    outbox_id: int | None = None


@dataclass
class Verdict:
    """The kind of a message, why, and which of our addresses or threads it names."""

    kind: str  # handoff | reply | auto_reply | bounce | loop
    reasons: list[str] = field(default_factory=list)
    handoff_id: int | None = None
    token: str | None = None  # the token of a handoff or digest reply address
    digest_reply: bool = False
    plus_tags: list[str] = field(default_factory=list)  # handoffs+<tag>@ seen on a new handoff
    thread_ids: list[str] = field(default_factory=list)  # our Message-IDs it answers
    outbox_id: int | None = None  # a bounce: the outgoing message it reports on (+bounce.<n>)


def our_addresses(mail: ParsedMail, config: Config) -> list[tuple[str, AddressTag]]:
    """Every recipient address that is one of ours with a +tag, in header order."""
    found = []
    candidates = [a.email for a in mail.to + mail.cc]
    for name in ("Delivered-To", "X-Original-To", "Envelope-To"):
        candidates += [h.strip().strip("<>") for h in mail.header_all(name)]
    for addr in candidates:
        tag = read_tag(addr, config.handoff_local, config.handoff_domain)
        if tag is not None:
            found.append((addr, tag))
    return found


def is_our_message_id(message_id: str, config: Config) -> bool:
    return is_ours(message_id, config.handoff_domain)


def rule_loop(mail: ParsedMail, config: Config) -> Finding | None:
    loop = mail.header(LOOP_HEADER)
    if loop and loop.strip().lower() == config.org.handoff_address.lower():
        return Finding(f"carries our {LOOP_HEADER} header: our own mail came back")
    if mail.message_id and is_our_message_id(mail.message_id, config):
        return Finding(f"Message-ID {mail.message_id} is one of ours")
    sender = mail.from_addr.email.lower() if mail.from_addr else ""
    if sender == config.org.handoff_address.lower():
        return Finding("sent from the handoff address itself")
    return None


def rule_bounce(mail: ParsedMail, config: Config) -> Finding | None:
    """A delivery report; when it came to ``+bounce.<n>``, it names outbox row n."""
    numbers = [tag.value or "" for _addr, tag in our_addresses(mail, config) if tag.kind == "bounce"]
    outbox_id = next((int(n) for n in numbers if n.isdigit()), None)
    ctype = mail.header("Content-Type").lower()
    if "multipart/report" in ctype and "delivery-status" in ctype:
        return Finding("a delivery status report (multipart/report)", outbox_id)
    if outbox_id is not None:
        return Finding(f"sent to our bounce address for outgoing message {outbox_id}", outbox_id)
    sender = mail.from_addr.email if mail.from_addr else ""
    if _BOUNCE_SENDERS.match(sender):
        return Finding(f"from {sender}: the mail system itself, never answered")
    if mail.header("Return-Path").strip() == "<>" and _BOUNCE_SUBJECT.match(mail.subject):
        return Finding("null Return-Path with a delivery-failure subject")
    return None


def rule_auto_reply(mail: ParsedMail, config: Config) -> Finding | None:
    reason = _auto_reply(mail, config)
    return Finding(reason) if reason else None


def _auto_reply(mail: ParsedMail, config: Config) -> str | None:
    auto = mail.header("Auto-Submitted").strip().lower()
    if auto and auto != "no":
        return f"Auto-Submitted: {auto} (RFC 3834)"
    for name in ("X-Autoreply", "X-Autorespond", "X-Autogenerated", "X-Auto-Reply"):
        if mail.header(name):
            return f"{name} header present"
    precedence = mail.header("Precedence").strip().lower()
    if precedence in {"bulk", "junk", "list", "auto_reply"}:
        return f"Precedence: {precedence}"
    list_id = mail.header("List-Id")
    if list_id and config.handoff_local.lower() not in list_id.lower():
        return f"mailing-list mail (List-Id: {list_id[:80]})"
    if mail.header("List-Unsubscribe") and not list_id:
        return "bulk mail (List-Unsubscribe)"
    if _OUT_OF_OFFICE.match(mail.subject):
        return f"out-of-office subject: {mail.subject[:80]!r}"
    if mail.header("Return-Path").strip() == "<>":
        return "null Return-Path (RFC 5321: never answer a message with no return address)"
    sender = mail.from_addr.email.lower() if mail.from_addr else ""
    if _NO_REPLY.match(sender):
        return f"sent from a no-reply address ({sender})"
    return None


def not_an_email(mail: ParsedMail) -> str | None:
    """Why these bytes are not an email at all (no header we could read), else None."""
    if any(mail.header(h) for h in ("From", "To", "Subject", "Date", "Message-ID")):
        return None
    return "not an email: it has no From, To, Subject, Date or Message-ID header"


RULES: tuple[tuple[str, Callable[[ParsedMail, Config], Finding | None]], ...] = (
    ("loop", rule_loop),
    ("bounce", rule_bounce),
    ("auto_reply", rule_auto_reply),
)


def classify(mail: ParsedMail, config: Config) -> Verdict:
    """Run the rules in order; the first hit decides. Then: reply to us, or a new handoff."""
    for kind, rule in RULES:
        found = rule(mail, config)
        if found:
            return Verdict(kind, [found.reason], outbox_id=found.outbox_id)
    verdict = Verdict("handoff")
    for _addr, tag in our_addresses(mail, config):
        if tag.kind == "handoff" and verdict.handoff_id is None:
            verdict.kind, verdict.handoff_id, verdict.token = "reply", tag.handoff_id, tag.token
            verdict.reasons.append(f"sent to the reply address of handoff #{tag.handoff_id}")
        elif tag.kind == "digest" and verdict.kind == "handoff":
            verdict.kind, verdict.token, verdict.digest_reply = "reply", tag.token, True
            verdict.reasons.append("sent to a digest reply address")
        elif tag.kind == "tag":
            verdict.plus_tags.append(tag.value or "")
    if verdict.kind == "reply":
        return verdict
    ours = [m for m in mail.in_reply_to + mail.references if is_our_message_id(m, config)]
    if ours:
        verdict.kind = "reply"
        verdict.reasons.append(f"In-Reply-To/References name our message {ours[0]}")
        verdict.thread_ids = ours
        return verdict
    if m := _SUBJECT_ID.search(mail.subject):
        verdict.kind, verdict.handoff_id = "reply", int(m.group(1))
        verdict.reasons.append(f"subject names handoff [#{verdict.handoff_id}]")
        return verdict
    verdict.reasons.append("addressed to the handoff address and not a reply to one of ours")
    return verdict


_AUTH_RESULT = re.compile(r"\b(dkim|dmarc)\s*=\s*(\w+)([^;]*)", re.IGNORECASE)
_PROP = re.compile(r"\b(header\.(?:d|i|from))\s*=\s*\"?([^\s;\"]+)", re.IGNORECASE)


# What a receiving server prepends above a message (RFC 5321 §4.4, RFC 8601, RFC 8617), and
# what filters on it commonly add beside them (SpamAssassin, amavis, Exchange's own stamps).
_TRACE_NAMES = frozenset({
    "return-path", "delivered-to", "x-original-to", "envelope-to", "received", "received-spf",
    "authentication-results", "arc-seal", "arc-message-signature", "arc-authentication-results",
})
_TRACE_PREFIXES = ("x-spam-", "x-virus-", "x-ms-exchange-organization-", "x-forefront-antispam-")
_BY_HOST = re.compile(r"\bby\s+\[?([^\s;()\[\]]{1,255})", re.IGNORECASE)


def _trusted_host(host: str, trusted: set[str]) -> bool:
    host = host.lower().rstrip(".")
    return any(host == t or host.endswith("." + t) for t in trusted)


def trusted_results(mail: ParsedMail, trusted: set[str]) -> list[tuple[str, str]]:
    """(authserv-id, results) of the Authentication-Results headers a trusted server added.

    RFC 8601 §5: only the headers the receiving server prepended count, and those sit at the
    very top, in the block of trace headers above the message's own (From, Subject, …) and
    above the first Received header that a trusted server did not add. One the sender wrote,
    anywhere else, authorises nothing; the MTA must still strip forged ones that claim its
    own authserv-id (a message delivered straight to it could put one right below its own).
    """
    found = []
    for name, value in mail.headers_in_order():
        if name not in _TRACE_NAMES and not name.startswith(_TRACE_PREFIXES):
            break  # the message's own headers start here
        if name == "received":
            by = _BY_HOST.search(value)
            if not by or not _trusted_host(by.group(1), trusted):
                break  # added before the message reached a server we trust
        elif name == "authentication-results":
            serv, _, results = value.partition(";")
            serv_id = serv.strip().split()[0].lower() if serv.strip() else ""
            if serv_id in trusted:
                found.append((serv_id, results))
    return found


def passed_authentication(mail: ParsedMail, config: Config) -> str | None:
    """RFC 8601: a trusted server says DKIM or DMARC passed for the sender's domain.

    Per method, the topmost trusted verdict is the one that counts: a ``pass`` written
    below the trusted server's own ``fail`` is the sender's, not the server's."""
    trusted = {t.lower() for t in config.security.trusted_authserv_ids}
    if not trusted or not mail.from_addr:
        return None
    domain = mail.from_addr.email.rpartition("@")[2].lower()
    decided: set[str] = set()  # methods a header above already gave its verdict on
    for serv_id, results in trusted_results(mail, trusted):
        here = set()
        for method, result, props in _AUTH_RESULT.findall(results):
            method = method.lower()
            here.add(method)
            if method in decided or result.lower() != "pass":
                continue
            for _prop, value in _PROP.findall(props):
                if value.lower().rpartition("@")[2] == domain:
                    return f"{method}=pass for {domain} from trusted {serv_id}"
        decided |= here
    return None
