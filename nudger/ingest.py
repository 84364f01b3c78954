"""One inbound message, start to finish: read → authorise → decide → commit → queue.

Everything a message causes (the inbound record, the handoff's changes and events, every
outgoing email) is written in the caller's transaction; the source is told only after it
commits. What the message changes happened when it arrived (``at``), not when a run got
to it, so every cron interval writes the same history.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime

from nudger.core.calendars import calendar_for
from nudger.core.classify import not_an_email
from nudger.core.commands import Command, Suggestion, suggest_for_line
from nudger.core.handoffs import (
    DIGEST_CHOICES,
    Context,
    Outcome,
    Refused,
    apply_commands,
    create,
    owner_from_answer,
)
from nudger.core.intake import plan_handoff, sent_time
from nudger.core.reading import Reading, read_message
from nudger.core.records import Handoff, Notice
from nudger.core.tokens import token_matches
from nudger.crashpoints import crash_point
from nudger.inbound.identity import body_hash
from nudger.mail.message import Attachment, mime_parts, parse_message
from nudger.outbound.notify import Cause, queue
from nudger.runtime import Runtime
from nudger.state.store import InboundRecord, Store

log = logging.getLogger("nudger.ingest")

MAX_ATTACHMENTS = 50


class Quarantine(Exception):
    """This message cannot be handled; keep it whole with this reason."""


@dataclass
class Result:
    """What happened to one message, for the inbound record, logs and the run summary."""

    kind: str
    outcome: str  # created | applied | answered | refused | ignored | quarantined
    reasons: list[str]
    handoff_id: int | None = None
    authorised: bool = False
    queued: int = 0


@dataclass
class Inbound:
    """One message being handled: the run, what was read, why mail is queued, when it arrived."""

    rt: Runtime
    reading: Reading
    cause: Cause
    at: datetime
    reasons: list[str] = field(default_factory=list)

    @property
    def sender(self) -> str:
        return self.reading.sender

    def answer(self, notices: list[Notice], handoff: Handoff | None = None) -> int:
        if name := self.reading.sender_name:  # mentioned or answered, they are called by it
            for notice in notices:
                notice.context.setdefault("names", {self.sender: name})
        return queue(self.rt, notices, self.cause, handoff)

    def context(self, roles: frozenset[str], positions: dict[str, int] | None = None) -> Context:
        cal = calendar_for(self.rt.config, self.sender)
        today = cal.local(sent_time(self.reading.mail, self.at)).date()
        return Context(self.rt.config, self.at, today, self.sender, roles, cal,
                       _Cursors(self.rt.store) if positions is None else positions)


    def commit(self, outcome: Outcome, attachments: list[Attachment] | None = None,
               source_raw: bytes | None = None) -> tuple[Handoff, int]:
        """The one commit path: the handoff's change and events, then its mail."""
        rt = self.rt
        saved = rt.store.apply(outcome, actor=self.sender, at=self.at, recorded=rt.now,
                               domain=rt.config.handoff_domain, source_raw=source_raw)
        limit = rt.config.limits.attach_max_mb
        relayed = split_attachments(attachments or [], limit)
        for notice in outcome.notices:
            if notice.handoff_id == 0:
                notice.handoff_id = saved.id
            notice.context.setdefault("actor", self.sender)
            if notice.kind == "new_handoff" and "attachments" not in notice.context:
                # The owner gets the customer's files, also when it reaches them later.
                customer = _source_attachments(rt, saved) if outcome.before else attachments or []
                sent, skipped = split_attachments(customer, limit)
                if notice.to == saved.owner:
                    notice.context.update(attachments=sent, skipped_attachments=skipped)
                else:  # a watcher hears what came with it, without the files
                    notice.context.update(customer_files=customer)
            elif outcome.before and attachments and kind_holds(notice):
                # What the person attached to their reply (the signed form) goes along.
                notice.context.update(attachments=relayed[0], skipped_attachments=relayed[1])
        return saved, self.answer(outcome.notices, saved)


class _Cursors(Mapping[str, int]):
    """The teams' round-robin cursors, read only when a command routes (a decline, a
    reassignment to a team): most replies never look."""

    def __init__(self, store: Store):
        self._store = store
        self._read: dict[str, int] | None = None

    def _all(self) -> dict[str, int]:
        if self._read is None:
            self._read = self._store.round_robin_positions()
        return self._read

    def __getitem__(self, team: str) -> int:
        return self._all()[team]

    def __iter__(self) -> Iterator[str]:
        return iter(self._all())

    def __len__(self) -> int:
        return len(self._all())

def kind_holds(notice: Notice) -> bool:
    from nudger.outbound.kinds import kind_of

    return kind_of(notice).hold != "none"


def _source_attachments(rt: Runtime, handoff: Handoff) -> list[Attachment]:
    raw = rt.store.handoff_source(handoff.id) if handoff.has_source else None
    if raw is None:
        return []
    return read_message(parse_message(raw), rt.config, rt.now).customer_attachments


def split_attachments(attachments: list[Attachment], limit_mb: float) -> tuple[list[Attachment], list[Attachment]]:
    """Attach in order while the total stays within the limit (and 50 files); list the rest."""
    budget = int(limit_mb * 1024 * 1024)
    sent: list[Attachment] = []
    skipped: list[Attachment] = []
    for att in attachments:
        if att.size <= budget and len(sent) < MAX_ATTACHMENTS:
            sent.append(att)
            budget -= att.size
        else:
            skipped.append(att)
    return sent, skipped


def ingest_message(rt: Runtime, raw: bytes, key: str, arrived: datetime | None = None) -> Result:
    """Decide and write everything one message causes, in the caller's transaction."""
    limit = rt.config.limits.max_message_mb * 1024 * 1024
    if len(raw) > limit:
        raise Quarantine(
            f"message is {len(raw) / 1048576:.1f} MB; the limit is "
            f"{rt.config.limits.max_message_mb:g} MB ([limits] max_message_mb)"
        )
    parts = mime_parts(raw, rt.config.limits.max_parts)
    if parts > rt.config.limits.max_parts:
        raise Quarantine(f"message has more than {rt.config.limits.max_parts} MIME parts; not read "
                         "([limits] max_parts)")
    mail = parse_message(raw)
    crash_point("while_reading")  # where a message that stalls or kills the run would be
    if reason := not_an_email(mail):
        raise Quarantine(reason)
    at = min(arrived or rt.now, rt.now)
    m = Inbound(rt, read_message(mail, rt.config, at), Cause(key, mail.message_id, mail.subject), at)
    verdict = m.reading.verdict
    m.reasons = list(verdict.reasons)
    if verdict.kind == "bounce" and verdict.outbox_id is not None:
        from nudger.outbound.failures import apply_bounce

        bounce = apply_bounce(rt, raw, verdict.outbox_id)
        m.reasons.append(bounce.reason)
        result = Result("bounce", bounce.outcome, m.reasons, bounce.handoff_id, False, bounce.queued)
    elif verdict.kind in ("loop", "bounce", "auto_reply"):
        result = Result(verdict.kind, "ignored", m.reasons)
    elif verdict.kind == "handoff":
        result = _new_handoff(m)
    else:
        result = _reply(m)
    rt.store.record_inbound(InboundRecord(
        key=key, received=at, kind=result.kind, outcome=result.outcome, reasons=result.reasons,
        body_hash=body_hash(raw), authorised=result.authorised, message_id=mail.message_id,
        sender=m.sender, subject=mail.subject, handoff_id=result.handoff_id,
    ), claim=True)
    return result


def tell_sender_quarantined(rt: Runtime, raw: bytes, key: str, reason: str, quarantine_id: int) -> int:
    """A person in an allowed domain hears that their email was kept, not handled, and why.

    Only the header is read again (the body may be what failed); automated mail gets nothing.
    """
    ends = [at for at in (raw.find(b"\n\n", 0, 262144), raw.find(b"\r\n\r\n", 0, 262144)) if at >= 0]
    mail = parse_message(raw[: min(ends) if ends else 65536] + b"\n\n")
    reading = read_message(mail, rt.config, rt.now)
    if not_an_email(mail) or not reading.allowed or reading.verdict.kind not in ("handoff", "reply"):
        return 0
    notice = Notice("quarantined", reading.sender, None,
                    context={"reason": reason, "quarantine_id": quarantine_id, "subject": mail.subject,
                             "names": {reading.sender: reading.sender_name}})
    return queue(rt, [notice], Cause(key, mail.message_id, mail.subject))


# --- new handoffs ----------------------------------------------------------------------


def _new_handoff(m: Inbound) -> Result:
    rt, reading, reasons = m.rt, m.reading, m.reasons
    sender = m.sender
    if not reading.allowed:
        reasons.append(f"sender {sender or '(none)'} is not in allowed_domains: no handoff, no reply")
        return Result("handoff", "refused", reasons)
    reasons.append(f"sender {sender} is in allowed_domains")
    fwd = reading.forward
    if fwd is None and (asked := reading.questions()):
        reasons.append("asks only " + " and ".join(c.name for c in asked) + ": answered, no handoff")
        return Result("handoff", "answered", reasons, None, True, m.answer(_answers(asked, sender, None)))
    positions = rt.store.round_robin_positions()
    plan = plan_handoff(reading.mail, reading.text, fwd.subject if fwd else None, reading.verdict.plus_tags,
                        rt.config, m.at, positions)
    reasons += plan.reasons
    cal = calendar_for(rt.config, plan.requester)
    attachments = reading.customer_attachments
    outcome = create(plan, m.context(frozenset({"requester"}), positions), forwarded=fwd.as_json() if fwd else None,
                     has_source=bool(attachments),
                     notice_days=cal.business_days_between(cal.local(m.at).date(), plan.due))
    saved, queued = m.commit(outcome, attachments, reading.mail.raw if attachments else None)
    return Result("handoff", "created", reasons, saved.id, True, queued)


# --- replies -------------------------------------------------------------------------


def _reply(m: Inbound) -> Result:
    rt, reading, reasons = m.rt, m.reading, m.reasons
    verdict, sender, allowed = reading.verdict, m.sender, reading.allowed
    handoff = None
    if verdict.handoff_id is not None:
        handoff = rt.store.handoff(verdict.handoff_id)
    elif verdict.thread_ids:
        handoff = rt.store.handoff_by_root(verdict.thread_ids)
    hid = handoff.id if handoff else None

    def refuse(reason: str, how: str = "", about: Handoff | None = handoff) -> Result:
        reasons.append(reason)
        if not allowed:
            reasons.append(f"{sender or '(no sender)'} is outside allowed_domains: no reply")
            return Result("reply", "refused", reasons, hid)
        notice = Notice("refusal", sender, about.id if about else None, context={"reason": reason, "how": how})
        return Result("reply", "refused", reasons, hid, False, m.answer([notice], about))

    if verdict.digest_reply:
        if not reading.proof(rt.secrets, "d", frozenset()):  # only the digest's own token counts
            return refuse("this digest reply address was made for someone else.",
                          "Reply to your own digest or notification.", about=None)
        reasons.append("digest token made for the sender")
        return _digest_reply(m)

    if handoff is None:
        what = f"#{verdict.handoff_id}" if verdict.handoff_id is not None else "the handoff it answers"
        return refuse(f"I could not find {what}.",
                      "Reply to the latest email about the handoff, or reply `status` to any of mine.", about=None)

    roles = handoff.roles_of(sender)
    escalated_to: set[str] | None = None  # read only when the sender has no role of their own
    if not roles:
        escalated_to = rt.store.escalated_to(handoff.id)
        if sender in escalated_to:
            roles = frozenset({"manager"})  # may reassign, set a date, or write to the owner
    auth = reading.proof(rt.secrets, str(handoff.id), roles)
    if auth is None and allowed and (asked := reading.questions()):
        reasons.append("asks only " + " and ".join(c.name for c in asked) + ": answered to an allowed domain")
        queued = m.answer(_answers(asked, sender, handoff), handoff)
        return Result("reply", "answered", reasons, handoff.id, False, queued)
    if auth is None:
        if escalated_to is None:
            escalated_to = rt.store.escalated_to(handoff.id)
        if verdict.token and any(token_matches(rt.secrets, str(handoff.id), p, verdict.token)
                                 for p in (*handoff.participants, *escalated_to)):
            why = "this reply address was made for someone else on the handoff."
            how = "Please reply from your own copy of the email, so everyone knows who said what."
        elif verdict.token:
            why = "the reply address is not valid (its code does not match)."
            how = "Reply to an email from me rather than typing the address."
        elif roles:
            why = "I could not confirm the message came from you (no valid reply address)."
            how = "Reply to one of my emails about it, so its reply address is used."
        else:
            why = f"you are not on #{handoff.id}."
            how = "Ask its requester or owner to add you, or reply `status` to one of my emails."
        return refuse(why, how)
    reasons.append(f"authorised: {auth}")
    return _apply_reply(m, handoff, roles)


def _apply_reply(m: Inbound, handoff: Handoff, roles: frozenset[str]) -> Result:
    reading, reasons, sender = m.reading, m.reasons, m.sender
    ctx = m.context(roles)
    parsed: list[Command] | Suggestion = reading.commands
    if isinstance(parsed, Suggestion):
        reasons.append(f"{parsed.word!r} looks like a typo of {parsed.suggestion!r}: nothing changed")
        notice = Notice("did_you_mean", sender, handoff.id,
                        context={"word": parsed.word, "suggestion": parsed.suggestion})
        # Answered, not refused: nothing was asked that nudger would not do (`status` counts
        # refusals for the admin to look at; a typo is the sender's to fix, and they are told).
        return Result("reply", "answered", reasons, handoff.id, True, m.answer([notice], handoff))
    outcome = owner_from_answer(handoff, reading.text, ctx)
    if outcome is not None:
        reasons.append("the requester named the owner")
    else:
        if not parsed and reading.mail.files:
            parsed = [Command("note", "")]  # files with no words: still news for the other side
        if not parsed:
            reasons.append("no text after removing quoted history: nothing to do")
            return Result("reply", "ignored", reasons, handoff.id, True)
        if _same_note_again(m, handoff, parsed):
            reasons.append(f"the same note {sender} last wrote on #{handoff.id}: not relayed again "
                           "(an automatic reply sends the same words each time)")
            return Result("reply", "ignored", reasons, handoff.id, True)
        try:
            outcome = apply_commands(handoff, _only_for(handoff, parsed), ctx)
        except Refused as refusal:
            reasons.append(f"refused: {refusal}")
            notice = Notice("refusal", sender, handoff.id, context={"reason": str(refusal), "how": ""})
            return Result("reply", "refused", reasons, handoff.id, True, m.answer([notice], handoff))
        reasons.append("commands: " + ", ".join(c.name for c in parsed))
    _, queued = m.commit(outcome, reading.mail.files)
    return Result("reply", "applied", reasons, handoff.id, True, queued)


def _same_note_again(m: Inbound, handoff: Handoff, parsed: list[Command]) -> bool:
    """A note word for word the one this person last wrote on this handoff: two automatic
    replies answering each other through us send the same words each round, a person doesn't."""
    if len(parsed) != 1 or parsed[0].name != "note" or not parsed[0].args.strip() or m.reading.mail.attachments:
        return False
    last = m.rt.store.last_note_words(handoff.id, m.sender)
    return last is not None and " ".join(last.split()) == " ".join(parsed[0].args.split())


def _digest_reply(m: Inbound) -> Result:
    """A reply to a digest: digest choices, status, help, and commands naming a handoff.

    The digest token already proved who sent it. The lines naming one handoff (``done #12``)
    act on it together, with the sender's roles on it, through the one commit path, as a
    reply to that handoff's own email would; a handoff whose lines are refused (unknown,
    not theirs, not for their role, closed) does not stop the others. Everything that was
    not applied is told in one answer; when everything applied, only the usual mail goes.
    """
    rt, reasons, sender = m.rt, m.reasons, m.sender
    parsed = m.reading.commands
    if isinstance(parsed, Suggestion) or not parsed:
        what = (f"“{parsed.word}” is not a command (did you mean `{parsed.suggestion}`?)"
                if isinstance(parsed, Suggestion) else "I found no text in it")
        reasons.append(f"a digest reply with no command: {what}")
        notice = Notice("refusal", sender, None, context={"reason": f"{what}.", "how": _DIGEST_HOW})
        return Result("reply", "answered", reasons, None, True, m.answer([notice]))  # a typo, not a refusal
    answers: list[Notice] = []  # digest choice, status, help: answers of their own
    by_ref: dict[int, list[Command]] = {}  # in the order first named; each handoff's lines in order
    refused: list[tuple[int, str]] = []  # (where in the reply, what and why), told in that order
    for at, cmd in enumerate(parsed):
        if cmd.ref is not None:
            by_ref.setdefault(cmd.ref, []).append(cmd)
        elif cmd.name in DIGEST_CHOICES:
            choice = DIGEST_CHOICES[cmd.name]
            rt.store.set_digest_choice(sender, choice, m.at)
            answers.append(Notice("digest_choice", sender, None, context={"choice": choice}))
        elif cmd.name in ("status", "help"):
            answers += _answers([cmd], sender, None)
        else:
            refused.append((at, _needs_ref(cmd)))
    queued = m.answer(answers)
    applied: list[str] = []
    acted: list[int] = []
    files = m.reading.mail.files
    for ref, cmds in by_ref.items():
        shown = ", ".join(f"`{_shown(c)}`" for c in cmds)
        at = next(i for i, c in enumerate(parsed) if c.ref == ref)
        handoff = rt.store.handoff(ref)
        if handoff is None:
            refused.append((at, f"{shown}: I could not find #{ref}."))
            continue
        roles = handoff.roles_of(sender)
        try:
            outcome = apply_commands(handoff, cmds, m.context(roles))
        except Refused as refusal:
            refused.append((at, f"{shown}: {refusal}"))
            continue
        # The files go along only when the reply is about one handoff: which one, otherwise?
        _, n = m.commit(outcome, files if len(by_ref) == 1 else None)
        queued += n
        applied.append(shown)
        acted.append(ref)
    if files and len(by_ref) > 1 and acted:
        refused.append((len(parsed), "the attached files: not passed on, since this reply names several "
                        "handoffs. Send them in a reply to the handoff's own email."))
    reasons.append("commands: " + ", ".join(f"{c.name} #{c.ref}" if c.ref is not None else c.name
                                            for c in parsed))
    if applied:
        reasons.append("applied: " + ", ".join(applied))
    refused.sort(key=lambda r: r[0])
    reasons += [f"refused: {r}" for _, r in refused]
    hid = acted[0] if len(acted) == 1 else None
    if refused:
        reason = "\n".join(f"- {r}" for _, r in refused)
        partly = bool(applied or answers)
        how = _DIGEST_HOW if any(c.ref is None for c in parsed if c.name not in _NO_HANDOFF) else (
            "Reply again with the corrected lines, or reply to the handoff's own email.")
        if applied:
            how = "Applied: " + ", ".join(applied) + ".\n\n" + how
        notice = Notice("refusal", sender, None, context={
            "reason": reason, "how": how, "partly": partly, "verdict": "Partly applied" if partly else "Not changed"})
        queued += m.answer([notice])
    return Result("reply", "applied" if applied or answers else "refused", reasons, hid, True, queued)


_NO_HANDOFF = frozenset({*DIGEST_CHOICES, "status", "help"})  # what a digest reply may say without #N
_DIGEST_HOW = ("In a reply to a digest, start each line with a command and the handoff's number: "
               "`done #12`, `ack #14 friday`, `thanks #9 great work`. `daily`, `weekly`, "
               "`no digest`, `status` and `help` need no number.")


def _shown(cmd: Command) -> str:
    """A command line as the answer quotes it: "ack #14 friday" (its own line, not its note)."""
    words = cmd.args.split("\n", 1)[0].strip()
    if words not in cmd.raw.split("\n", 1)[0]:
        words = ""  # the words come from the note under the line
    if len(words) > 40:
        words = words[:39].rstrip() + "…"
    return " ".join(w for w in (cmd.name.replace("_", " "), f"#{cmd.ref}" if cmd.ref is not None else "", words) if w)


def _needs_ref(cmd: Command) -> str:
    """Why a command that acts on a handoff, written without its number, was not applied."""
    if cmd.name == "note" and cmd.raw == cmd.args:  # no command word at all: prose
        first = cmd.args.split("\n", 1)[0].strip()
        if (meant := suggest_for_line(first)) is not None:
            return f"“{first}”: not a command (did you mean `{meant}`?)."
        first = first if len(first) <= 40 else first[:39].rstrip() + "…"
        return f"“{first}”: not a command; a note needs the handoff's number too: `note #12 your words`."
    return f"`{_shown(cmd)}`: which handoff? Put its number after the command, like `{_shown(replace(cmd, ref=12))}`."


def _only_for(handoff: Handoff, commands: list[Command]) -> list[Command]:
    """A reply to one handoff's email acts on that handoff: a line naming another is refused."""
    for cmd in commands:
        if cmd.ref is not None and cmd.ref != handoff.id:
            raise Refused(f"you wrote `{_shown(cmd)}`, but this email is about #{handoff.id}. "
                          f"To act on #{cmd.ref}, reply to its own email or to your digest.")
    return commands


def _answers(asked: list[Command], sender: str, handoff: Handoff | None) -> list[Notice]:
    return [Notice(cmd.name, sender, handoff.id if handoff else None) for cmd in asked]


