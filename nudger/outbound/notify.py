"""The one way into the outbox: a notice becomes a rendered email in an outbox row.

Inbound messages, the scheduler, the quarantine and bounce handling all queue mail here.
Each notice gets its dedupe key (the kind's shape, filled from its cause: a message's key, a
scheduled slot) and its send time: an answer at once, other mail at the start of the
recipient's next business hours. The outbox's unique dedupe key is the ledger of what was
sent: queuing the same notice twice is a no-op.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from nudger.core.calendars import calendar_for
from nudger.core.records import Handoff, Notice
from nudger.outbound.digests import is_empty
from nudger.outbound.kinds import KINDS, KindInput, kind_of
from nudger.outbound.limits import over_limit
from nudger.runtime import Runtime
from nudger.state.store import iso

log = logging.getLogger("nudger.notify")
ANSWER_KINDS = tuple(k.name for k in KINDS.values() if k.answer)
RELAY_KINDS = tuple(k.name for k in KINDS.values() if not k.answer and not k.scheduled)


@dataclass(frozen=True)
class Cause:
    """Why mail is queued. ``key`` fills the kinds' dedupe keys; an answer threads to the
    person's own message (``message_id``) and, without a handoff, is titled after its subject."""

    key: str
    message_id: str | None = None
    subject: str = ""


def send_time(rt: Runtime, notice: Notice) -> datetime:
    earliest = notice.not_before or rt.now
    if kind_of(notice).hold == "none":
        return earliest
    return calendar_for(rt.config, notice.to).next_business_start(earliest)


def queue(rt: Runtime, notices: list[Notice], cause: Cause, handoff: Handoff | None = None) -> int:
    """Render and queue each notice in the caller's transaction; returns how many are new."""
    queued = 0
    # When each person in this batch hears: "Also told" says so when their email waits.
    told_at = {n.to: send_time(rt, n) for n in notices}
    for notice in notices:
        kind = kind_of(notice)
        if not kind.scheduled and (why := over_limit(rt.store, notice.to, notice.handoff_id, kind.answer,
                                                      ANSWER_KINDS if kind.answer else RELAY_KINDS, rt.now)):
            log.warning("%s to %s about #%s: %s", notice.kind, notice.to, notice.handoff_id, why)
            continue
        if notice.handoff_id is not None and (handoff is None or handoff.id != notice.handoff_id):
            handoff = rt.store.handoff(notice.handoff_id)
        about = handoff if notice.handoff_id is not None else None
        key = notice.key or kind.key(notice, cause.key)
        send_after = send_time(rt, notice)
        extra = kind.context(KindInput(notice, about, rt.config, rt.store)) if kind.context else None
        if notice.context.get("also_told"):
            extra = {**(extra or {}), "told_at": told_at}
        if kind.scheduled and is_empty(kind.name, extra or {}):
            continue  # a digest with nothing in it is not sent
        rendered = rt.renderer.render(notice, about, key, send_after, extra=extra,
                                      in_reply_to=cause.message_id, about=cause.subject)
        queued += int(rt.store.enqueue({
            "dedupe_key": key,
            "kind": notice.kind,
            "handoff_id": notice.handoff_id,
            "recipient": notice.to,
            "message_id": rendered.message_id,
            "subject": rendered.subject,
            "raw": rendered.raw,
            "send_after": iso(send_after),
            "created": iso(rt.now),
        }))
    return queued
