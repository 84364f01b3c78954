"""One inbound message, start to finish: classify → parse → decide → render → commit.

Everything a message causes (the inbound record, the handoff's changes and events, every
outgoing email) is written in one transaction; the source is told only after it commits.
"""

from __future__ import annotations

import hashlib
import logging
import re
from dataclasses import dataclass
from datetime import datetime
from email.parser import BytesHeaderParser
from email.policy import compat32
from typing import Any

from nudger.config import Config
from nudger.core.calendars import calendar_for
from nudger.core.classify import Verdict, classify, not_an_email, passed_authentication
from nudger.core.commands import Command, Suggestion, parse_commands
from nudger.core.handoffs import (
    DIGEST_CHOICES,
    Context,
    Notice,
    Outcome,
    Refused,
    apply_commands,
    owner_from_answer,
    roles_of,
)
from nudger.core.intake import HandoffPlan, plan_handoff, sent_time
from nudger.core.tokens import token_matches
from nudger.mail.forwards import Forward, find_forward
from nudger.mail.message import Attachment, ParsedMail, parse_message
from nudger.mail.replies import reply_text
from nudger.outbound.render import ANSWERS, root_message_id
from nudger.runtime import Runtime
from nudger.state.store import Store, iso

log = logging.getLogger("nudger.ingest")


class Quarantine(Exception):
    """This message cannot be handled; keep it whole with this reason."""


def dedupe_key(raw: bytes) -> str:
    """The Message-ID when there is a usable one, else a hash of the whole message."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:65536], headersonly=True)
        mid = str(headers.get("Message-ID") or "").strip()
    except Exception:  # noqa: BLE001 - any header we cannot read falls back to the hash
        mid = ""
    mid = re.sub(r"\s+", "", mid).strip("<>")
    if mid and len(mid) <= 250 and "@" in mid:
        return f"mid:{mid}"
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def body_hash(raw: bytes) -> str:
    """The message after its header: what a redelivery keeps and a different message changes."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = raw.find(sep)
        if at >= 0:
            return hashlib.sha256(raw[at + len(sep):]).hexdigest()
    return hashlib.sha256(raw).hexdigest()


def tell_sender_quarantined(rt: Runtime, raw: bytes, key: str, reason: str, quarantine_id: int) -> int:
    """A person in an allowed domain hears that their email was kept, not handled, and why.

    Only the header is read again (the body may be what failed); automated mail gets nothing.
    """
    end = raw.find(b"\n\n", 0, 262144)
    mail = parse_message(raw[: end if end >= 0 else 65536] + b"\n\n")
    sender = sender_of(mail)
    if not_an_email(mail) or not sender or not in_allowed_domain(rt.config, sender):
        return 0
    if classify(mail, rt.config).kind not in ("handoff", "reply"):
        return 0
    notice = Notice("quarantined", sender, None, answer=True,
                    context={"reason": reason, "quarantine_id": quarantine_id, "subject": mail.subject})
    return _enqueue(rt, [notice], None, key, mail)


def sender_of(mail: ParsedMail) -> str:
    return mail.from_addr.email.strip().lower() if mail.from_addr else ""


def in_allowed_domain(config: Config, email: str) -> bool:
    return email.rpartition("@")[2].lower() in {d.lower() for d in config.security.allowed_domains}


@dataclass
class Result:
    """What happened to one message, for the inbound record, logs and the run summary."""

    kind: str
    outcome: str  # created | applied | answered | refused | ignored | quarantined
    reasons: list[str]
    handoff_id: int | None = None
    authorised: bool = False
    queued: int = 0


def ingest_message(rt: Runtime, raw: bytes, key: str) -> Result:
    """Decide and write everything one message causes, in the caller's transaction."""
    limit = rt.config.limits.max_message_mb * 1024 * 1024
    if len(raw) > limit:
        raise Quarantine(
            f"message is {len(raw) / 1048576:.1f} MB; the limit is "
            f"{rt.config.limits.max_message_mb:g} MB ([limits] max_message_mb)"
        )
    mail = parse_message(raw)
    if reason := not_an_email(mail):
        raise Quarantine(reason)
    verdict = classify(mail, rt.config)
    if verdict.kind in ("loop", "bounce", "auto_reply"):
        result = Result(verdict.kind, "ignored", verdict.reasons)
    elif verdict.kind == "handoff":
        result = _new_handoff(rt, mail, verdict, key)
    else:
        result = _reply(rt, mail, verdict, key)
    rt.store.record_inbound(
        {
            "dedupe_key": key,
            "message_id": mail.message_id,
            "received": iso(rt.now),
            "sender": sender_of(mail),
            "subject": mail.subject[:500],
            "kind": result.kind,
            "authorised": int(result.authorised),
            "reasons": result.reasons,
            "handoff_id": result.handoff_id,
            "outcome": result.outcome,
            "body_hash": body_hash(raw),
        }
    )
    return result


# --- new handoffs ----------------------------------------------------------------------


def _new_handoff(rt: Runtime, mail: ParsedMail, verdict: Verdict, key: str) -> Result:
    sender = sender_of(mail)
    reasons = list(verdict.reasons)
    if not sender or not in_allowed_domain(rt.config, sender):
        reasons.append(f"sender {sender or '(none)'} is not in allowed_domains: no handoff, no reply")
        return Result("handoff", "refused", reasons)
    reasons.append(f"sender {sender} is in allowed_domains")
    fwd = find_forward(mail)
    note = fwd.note if fwd else reply_text(mail)
    if fwd is None and (asked := _only_questions(_parse(rt, mail, sender, note))):
        reasons.append("asks only " + " and ".join(c.name for c in asked) + ": answered, no handoff")
        queued = _enqueue(rt, _answers(rt, asked, sender, None), None, key, mail)
        return Result("handoff", "answered", reasons, None, True, queued)
    cursors = rt.store.round_robin_positions()
    plan = plan_handoff(mail, note, fwd.subject if fwd else None, verdict.plus_tags, rt.config, rt.now, cursors)
    reasons += plan.reasons
    handoff = _create(rt, mail, plan, fwd)
    notices = _intake_notices(rt, mail, plan, fwd, handoff)
    queued = _enqueue(rt, notices, handoff, key, mail)
    return Result("handoff", "created", reasons, handoff["id"], True, queued)


def _create(rt: Runtime, mail: ParsedMail, plan: HandoffPlan, fwd: Forward | None) -> dict[str, Any]:
    created = iso(rt.now)
    row = {
        "title": plan.title,
        "status": "open",
        "owner": plan.owner.email if plan.owner else None,
        "requester": plan.requester,
        "team": plan.team.name if plan.team else None,
        "due": plan.due.isoformat(),
        "priority": plan.priority,
        "rush": plan.rush,
        "created": created,
        "updated": created,
        "watchers": plan.watchers,
        "note": plan.note,
        "forwarded": fwd.as_json() if fwd else None,
        "source_raw": mail.raw if customer_attachments(mail, fwd) else None,
    }
    handoff_id = rt.store.insert_handoff(row)
    root = root_message_id(handoff_id, created, rt.config.handoff_domain)
    rt.store.update_handoff(handoff_id, {"root_message_id": root})
    rt.store.add_event(handoff_id, rt.now, "created", plan.requester, {"reasons": plan.reasons})
    if plan.owner:
        rt.store.add_event(handoff_id, rt.now, "owner_assigned", plan.requester, {"to": plan.owner.email})
    if plan.cursor:
        rt.store.set_round_robin_position(*plan.cursor)
    handoff = rt.store.handoff(handoff_id)
    assert handoff is not None
    return handoff


def customer_attachments(mail: ParsedMail, fwd: Forward | None) -> list[Attachment]:
    """Everything attached to the handoff: the forwarded email's files and the outer ones."""
    found: list[Attachment] = []
    seen: set[tuple[str, bytes]] = set()
    for att in [*(fwd.attachments if fwd else []), *mail.attachments]:
        key = (att.filename, hashlib.sha256(att.data).digest())
        if key not in seen:
            seen.add(key)
            found.append(att)
    return found


MAX_ATTACHMENTS = 50


def split_attachments(attachments: list[Attachment], limit_mb: float) -> tuple[list[Attachment], list[Attachment]]:
    """Attach in order while the total stays within the limit (and 50 files); list the rest."""
    budget = int(limit_mb * 1024 * 1024)
    sent, skipped = [], []
    for att in attachments:
        if att.size <= budget and len(sent) < MAX_ATTACHMENTS:
            sent.append(att)
            budget -= att.size
        else:
            skipped.append(att)
    return sent, skipped


def _intake_notices(
    rt: Runtime, mail: ParsedMail, plan: HandoffPlan, fwd: Forward | None, handoff: dict[str, Any]
) -> list[Notice]:
    hid = handoff["id"]
    cal = calendar_for(rt.config, plan.requester)
    notice_days = cal.business_days_between(cal.local(rt.now).date(), plan.due)
    notices = []
    if plan.owner is None:
        notices.append(Notice("no_owner", plan.requester, hid, answer=True))
        return notices
    told = [plan.owner.email, *plan.watchers]
    notices.append(
        Notice("receipt", plan.requester, hid, answer=True,
               context={"lead_days": plan.lead_days, "notice_days": notice_days, "also_told": told})
    )
    sent, skipped = split_attachments(customer_attachments(mail, fwd), rt.config.limits.attach_max_mb)
    notices.append(
        Notice("new_handoff", plan.owner.email, hid,
               context={"attachments": sent, "skipped_attachments": skipped, "also_told": plan.watchers})
    )
    for watcher in plan.watchers:
        notices.append(Notice("new_handoff", watcher, hid, context={"also_told": [plan.owner.email]}))
    return notices


# --- replies -------------------------------------------------------------------------


def _reply(rt: Runtime, mail: ParsedMail, verdict: Verdict, key: str) -> Result:
    sender = sender_of(mail)
    allowed = bool(sender) and in_allowed_domain(rt.config, sender)
    reasons = list(verdict.reasons)
    handoff = None
    if verdict.handoff_id is not None:
        handoff = rt.store.handoff(verdict.handoff_id)
    elif verdict.thread_ids:
        handoff = rt.store.handoff_by_root(verdict.thread_ids)

    def refuse(reason: str, how: str = "", with_handoff: bool = True) -> Result:
        reasons.append(reason)
        if not allowed:
            reasons.append(f"{sender or '(no sender)'} is outside allowed_domains: no reply")
            return Result("reply", "refused", reasons, handoff["id"] if handoff else None)
        notice = Notice("refusal", sender, handoff["id"] if handoff and with_handoff else None,
                        answer=True, context={"reason": reason, "how": how})
        queued = _enqueue(rt, [notice], handoff if with_handoff else None, key, mail)
        return Result("reply", "refused", reasons, handoff["id"] if handoff else None, False, queued)

    if verdict.digest_reply:
        if not verdict.token or not token_matches(rt.secrets, "d", sender, verdict.token):
            return refuse("this digest reply address was made for someone else.",
                          "Reply to your own digest or notification.", with_handoff=False)
        reasons.append("digest token made for the sender")
        return _digest_reply(rt, mail, sender, reasons, key)

    if handoff is None:
        what = f"#{verdict.handoff_id}" if verdict.handoff_id is not None else "the handoff it answers"
        return refuse(f"I could not find {what}.",
                      "Reply to the latest email about the handoff, or reply `status` to any of mine.",
                      with_handoff=False)

    roles = roles_of(handoff, sender)
    text = reply_text(mail)
    parsed = _parse(rt, mail, sender, text)
    auth = None
    if verdict.token and token_matches(rt.secrets, str(handoff["id"]), sender, verdict.token):
        auth = "reply address made for the sender"
    elif roles and (dk := passed_authentication(mail, rt.config)):
        auth = f"participant ({', '.join(sorted(roles))}); {dk}"
    if auth is None and allowed and (asked := _only_questions(parsed)):
        reasons.append("asks only " + " and ".join(c.name for c in asked) + ": answered to an allowed domain")
        queued = _enqueue(rt, _answers(rt, asked, sender, handoff), handoff, key, mail)
        return Result("reply", "answered", reasons, handoff["id"], False, queued)
    if auth is None:
        if verdict.token and _token_for_participant(rt, handoff, verdict.token):
            why = "this reply address was made for someone else on the handoff."
            how = "Please reply from your own copy of the email, so everyone knows who said what."
        elif verdict.token:
            why = "the reply address is not valid (its code does not match)."
            how = "Reply to an email from me rather than typing the address."
        elif roles:
            why = "I could not confirm the message came from you (no valid reply address)."
            how = "Reply to one of my emails about it, so its reply address is used."
        else:
            why = f"you are not on #{handoff['id']}."
            how = "Ask its requester or owner to add you, or reply `status` to one of my emails."
        return refuse(why, how)
    reasons.append(f"authorised: {auth}")
    return _apply_reply(rt, mail, handoff, sender, roles, key, reasons, text, parsed)


def _token_for_participant(rt: Runtime, handoff: dict[str, Any], token: str) -> bool:
    people = {handoff.get("requester"), handoff.get("owner"), *(handoff.get("watchers") or [])}
    return any(p and token_matches(rt.secrets, str(handoff["id"]), p, token) for p in people)


def _context(rt: Runtime, mail: ParsedMail, sender: str, roles: set[str]) -> Context:
    cal = calendar_for(rt.config, sender)
    today = cal.local(sent_time(mail, rt.now)).date()
    cursors = rt.store.round_robin_positions()
    return Context(rt.config, rt.now, today, sender, roles, cal, cursors)


def _apply_reply(
    rt: Runtime, mail: ParsedMail, handoff: dict[str, Any], sender: str, roles: set[str],
    key: str, reasons: list[str], text: str, parsed: list[Command] | Suggestion,
) -> Result:
    ctx = _context(rt, mail, sender, roles)
    hid = handoff["id"]
    if isinstance(parsed, Suggestion):
        reasons.append(f"{parsed.word!r} looks like a typo of {parsed.suggestion!r}: nothing changed")
        notice = Notice("did_you_mean", sender, hid, answer=True,
                        context={"word": parsed.word, "suggestion": parsed.suggestion})
        return Result("reply", "refused", reasons, hid, True, _enqueue(rt, [notice], handoff, key, mail))
    outcome = owner_from_answer(handoff, text, ctx)
    if outcome is not None:
        reasons.append("the requester named the owner")
    else:
        if not parsed and mail.attachments:
            parsed = [Command("note", "")]  # files with no words: still news for the other side
        if not parsed:
            reasons.append("no text after removing quoted history: nothing to do")
            return Result("reply", "ignored", reasons, hid, True)
        try:
            outcome = apply_commands(handoff, parsed, ctx)
        except Refused as refusal:
            reasons.append(f"refused: {refusal}")
            notice = Notice("refusal", sender, hid, answer=True, context={"reason": str(refusal), "how": ""})
            return Result("reply", "refused", reasons, hid, True, _enqueue(rt, [notice], handoff, key, mail))
        reasons.append("commands: " + ", ".join(c.name for c in parsed))
    queued = _commit_outcome(rt, handoff, outcome, sender, key, mail)
    return Result("reply", "applied", reasons, hid, True, queued)


def _commit_outcome(
    rt: Runtime, handoff: dict[str, Any], outcome: Outcome, actor: str, key: str, mail: ParsedMail
) -> int:
    hid = handoff["id"]
    changes = dict(outcome.changes)
    if changes:
        changes["updated"] = iso(rt.now)
        rt.store.update_handoff(hid, changes)
    for kind, data in outcome.events:
        rt.store.add_event(hid, rt.now, kind, actor, data)
    if outcome.cursor:
        rt.store.set_round_robin_position(*outcome.cursor)
    if outcome.digest_choice:
        rt.store.set_digest_choice(actor, outcome.digest_choice, rt.now)
    fresh = rt.store.handoff(hid) or handoff
    # What the person attached to their reply (the signed form, the quote) goes along with
    # the news to the other side: nothing they sent is dropped.
    relayed = split_attachments(mail.attachments, rt.config.limits.attach_max_mb)
    for notice in outcome.notices:
        notice.context.setdefault("actor", actor)
        if not notice.answer and notice.kind != "new_handoff" and mail.attachments:
            notice.context.update(attachments=relayed[0], skipped_attachments=relayed[1])
        if notice.kind == "new_handoff" and fresh.get("source_raw"):
            source = parse_message(fresh["source_raw"])
            found = customer_attachments(source, find_forward(source))
            sent, skipped = split_attachments(found, rt.config.limits.attach_max_mb)
            notice.context.update(attachments=sent, skipped_attachments=skipped)
    return _enqueue(rt, outcome.notices, fresh, key, mail)


def _digest_reply(rt: Runtime, mail: ParsedMail, sender: str, reasons: list[str], key: str) -> Result:
    parsed = _parse(rt, mail, sender, reply_text(mail))
    allowed = {"daily", "weekly", "no_digest", "status", "help"}
    if isinstance(parsed, Suggestion) or not parsed or any(c.name not in allowed for c in parsed):
        reasons.append("a digest reply takes only daily, weekly, no digest, status or help")
        notice = Notice("refusal", sender, None, answer=True, context={
            "reason": "a reply to a digest can only change your digest (daily, weekly, no digest) or ask for status or help.",
            "how": "To act on a handoff, reply to the email about that handoff."})
        return Result("reply", "refused", reasons, None, True, _enqueue(rt, [notice], None, key, mail))
    notices = []
    for cmd in parsed:
        if cmd.name in DIGEST_CHOICES:
            choice = DIGEST_CHOICES[cmd.name]
            rt.store.set_digest_choice(sender, choice, rt.now)
            notices.append(Notice("digest_choice", sender, None, answer=True, context={"choice": choice}))
        else:
            notices += _answers(rt, [cmd], sender, None)
    reasons.append("commands: " + ", ".join(c.name for c in parsed))
    return Result("reply", "applied", reasons, None, True, _enqueue(rt, notices, None, key, mail))


QUESTIONS = ("status", "help")


def _parse(rt: Runtime, mail: ParsedMail, sender: str, text: str) -> list[Command] | Suggestion:
    return read_commands(rt.config, mail, sender, text, rt.now)


def read_commands(
    config: Config, mail: ParsedMail, sender: str, text: str, now: datetime
) -> list[Command] | Suggestion:
    """The reply grammar, with dates read in the sender's own calendar as of when they wrote."""
    cal = calendar_for(config, sender)
    return parse_commands(text, cal.local(sent_time(mail, now)).date(), cal, config.org.date_order)


def _only_questions(parsed: list[Command] | Suggestion) -> list[Command]:
    """The commands, when every one of them only asks (status, help); else nothing."""
    if isinstance(parsed, list) and parsed and all(c.name in QUESTIONS for c in parsed):
        return parsed
    return []


def _answers(rt: Runtime, asked: list[Command], sender: str, handoff: dict[str, Any] | None) -> list[Notice]:
    hid = handoff["id"] if handoff else None
    notices = []
    for cmd in asked:
        context = {} if handoff else {"open_items": open_items_for(rt.store, sender)}
        notices.append(Notice(cmd.name, sender, hid, answer=True, context=context))
    return notices


def open_items_for(store: Store, email: str) -> list[dict[str, Any]]:
    return [
        h for h in store.handoffs()
        if h["status"] in ("open", "acknowledged", "blocked") and email in (h["owner"], h["requester"])
    ]


# --- outgoing ------------------------------------------------------------------------


def _enqueue(
    rt: Runtime, notices: list[Notice], handoff: dict[str, Any] | None, key: str, mail: ParsedMail
) -> int:
    """Render and queue; an answer goes now, other mail waits for the recipient's business hours."""
    queued = 0
    for notice in notices:
        if notice.handoff_id is not None and (handoff is None or handoff["id"] != notice.handoff_id):
            handoff = rt.store.handoff(notice.handoff_id)
        if notice.kind in ANSWERS or notice.answer:
            notice.answer = True
            if mail.message_id:
                notice.context.setdefault("in_reply_to", mail.message_id)
            notice.context.setdefault("in_reply_subject", mail.subject)
            send_after = rt.now
        else:
            send_after = calendar_for(rt.config, notice.to).next_business_start(rt.now)
        dedupe = f"{notice.kind}:{notice.handoff_id or '-'}:{notice.to}:{key}"
        rendered = rt.renderer.render(notice, handoff if notice.handoff_id is not None else None, dedupe, send_after)
        inserted = rt.store.enqueue(
            {
                "dedupe_key": dedupe,
                "kind": notice.kind,
                "handoff_id": notice.handoff_id,
                "recipient": notice.to,
                "message_id": rendered.message_id,
                "subject": rendered.subject,
                "raw": rendered.raw,
                "send_after": iso(send_after),
                "created": iso(rt.now),
            }
        )
        queued += int(inserted)
    return queued
