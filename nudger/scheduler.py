"""The schedule stage of a run: queue every scheduled email that is owed at ``now``.

Each handoff, person and team has a row in the ``schedule`` table with the next time it
must be looked at; a run reads only the rows that are due (an idle run reads one index
entry). For a due subject it computes its slots (``core.schedule``, pure), queues those
owed through the one outbox path, and stores when to look again. A change to a handoff
makes its row due at once. A config edit that moves times makes every row due once; the
outbox's dedupe keys make sure nothing sent is sent again.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from nudger.config import Config
from nudger.crashpoints import crash_point
from nudger.runtime import Runtime
from nudger.state.schedule_rows import DigestChoice

if TYPE_CHECKING:
    from collections.abc import Container

    from nudger.core.schedule import History, Slot
    from nudger.state.handoff_rows import Requested

log = logging.getLogger("nudger.schedule")

BATCH = 200  # subjects per transaction: bounded work between commits


@dataclass
class ScheduleSummary:
    looked_at: int = 0
    queued: int = 0
    skipped_empty: int = 0


def fingerprint(config: Config) -> str:
    """What the schedule's times depend on; when it changes, every subject is looked at again."""
    return config.schedule_fingerprint


def subjects_from_config(config: Config) -> list[str]:
    return [*(f"p:{p.email}" for p in config.people), *(f"t:{name}" for name in config.teams)]


@dataclass
class _Batch:
    """What the schedule reads for a batch of subjects, a few queries for all of them: the
    handoffs' requesters, histories and owners' notices, the people's digest choices, and
    since when the config's preferences hold."""

    handoffs: dict[int, Requested]
    histories: dict[int, History]
    choices: dict[str, DigestChoice]
    config_since: datetime | None

    @classmethod
    def read(cls, rt: Runtime, subjects: list[str], config_since: str | None) -> _Batch:
        from nudger.core import schedule
        from nudger.core.schedule import History

        ids = [int(s[2:]) for s in subjects if s.startswith("h:") and s[2:].isdigit()]
        emails = [s[2:] for s in subjects if s.startswith("p:")]
        histories = {i: History(steps) for i, steps in rt.store.histories(ids).items()}
        # The owners' notices (an ack reminder counts from when one reached its owner), for
        # the handoffs whose ack reminders are not settled.
        unsettled = [i for i, h in histories.items() if h.events and any(
            not schedule.ack_settled(h, owner, rt.now) for _, owner, _ in h.assignments())]
        for i, notices in rt.store.owner_notices(unsettled).items():
            histories[i].notices = notices
        return cls(rt.store.handoff_requesters(ids), histories,
                   rt.store.digest_choices_for(emails) if emails else {},
                   datetime.fromisoformat(config_since) if config_since else None)

    def ack_keys(self) -> list[str]:
        """The ack reminders these histories could owe: their keys, to skip those already sent."""
        return [f"ack_reminder:{i}:{owner}" for i, h in self.histories.items() for _, owner, _ in h.assignments()]

    def slots(self, rt: Runtime, subject: str, sent: Container[str] = (), until: datetime | None = None) -> list[Slot]:
        from nudger.core import schedule

        kind, _, name = subject.partition(":")
        if kind == "h":
            handoff = self.handoffs.get(int(name)) if name.isdigit() else None
            if handoff is None:
                return []
            return schedule.handoff_slots(handoff, self.histories[handoff.id], rt.config, sent, rt.now)
        if kind == "p":
            choice = self.choices.get(name)
            if choice is None or choice.since is None:  # the config's choice, since its last edit
                return schedule.person_slots(name, _config_digest(rt, name), rt.config, rt.now, until,
                                             since=self.config_since)
            slots = schedule.person_slots(name, choice.digest, rt.config, rt.now, until, since=choice.since)
            # The digest slot just before the reply is owed as the digest that held then,
            # whether or not a run came between the slot and the reply.
            before = choice.previous or _config_digest(rt, name)
            since = choice.previous_since if choice.previous else self.config_since
            owed = [s for s in schedule.person_slots(name, before, rt.config, choice.since, since=since)
                    if s.at < choice.since and s.kind in ("daily_digest", "weekly_digest")]
            return owed + slots
        if kind == "t" and rt.config.team_named(name):
            return schedule.team_slots(name, rt.config, rt.now, until)
        return []


def _config_digest(rt: Runtime, email: str) -> str:
    person = rt.config.person_by_email(email)
    return person.digest if person else "none"


def slots_for(rt: Runtime, subject: str, until: datetime | None = None) -> list[Slot]:
    """Every slot of one subject, past and future, as the pure schedule computes them."""
    return _Batch.read(rt, [subject], rt.store.setting("schedule_config_at")).slots(rt, subject, until=until)


def look_again_if_config_changed(rt: Runtime) -> None:
    """A config edit that moves times makes every subject due once (and the people's config
    preferences hold from now)."""
    mark = fingerprint(rt.config)
    if rt.store.setting("schedule_config") != mark:
        rt.store.reset_schedule(subjects_from_config(rt.config))
        with rt.store.transaction():
            rt.store.set_setting("schedule_config", mark)
            rt.store.set_setting("schedule_config_at", rt.now.isoformat())


def schedule_due(rt: Runtime) -> ScheduleSummary:
    """Queue what is owed now; in batches, each one transaction (crash-safe: queued mail and
    the rows' next times commit together)."""
    summary = ScheduleSummary()
    look_again_if_config_changed(rt)
    subjects = rt.store.due_subjects(rt.now, BATCH)
    if not subjects:  # an idle run: one index read, and none of the schedule's code imported
        return summary
    from nudger.state.metrics import remembering

    config_since = rt.store.setting("schedule_config_at") or ""
    with remembering():  # a team's week is read once for its lead and the admin
        while subjects:
            with rt.store.transaction():
                _look_at(rt, subjects, config_since, summary)
                crash_point("inside_schedule")
            crash_point("after_schedule")
            if len(subjects) < BATCH:
                break
            subjects = rt.store.due_subjects(rt.now, BATCH)
    return summary


def _look_at(rt: Runtime, subjects: list[str], config_since: str, summary: ScheduleSummary) -> None:
    """One batch: its reads in a few queries, then each subject's owed slots queued in order."""
    from nudger.core import schedule

    batch = _Batch.read(rt, subjects, config_since)
    acked = rt.store.sent_keys(batch.ack_keys())
    slots = {s: batch.slots(rt, s, acked) for s in subjects}
    sent = rt.store.sent_keys([slot.key for found in slots.values() for slot in found])
    nexts: list[tuple[str, datetime | None]] = []
    for subject in subjects:
        summary.looked_at += 1
        for slot in schedule.owed(slots[subject], rt.now, sent):
            if queue_slot(rt, slot):
                summary.queued += 1
                sent.add(slot.key)
            else:
                summary.skipped_empty += 1
        nexts.append((subject, schedule.next_at(slots[subject], rt.now, sent)))
    rt.store.set_next_many(nexts)


def queue_slot(rt: Runtime, slot: Slot) -> bool:
    """Write one slot's email as of its time and queue it; False when it has nothing to say."""
    from nudger.core.records import Notice
    from nudger.outbound.notify import Cause, queue

    handoff = None
    if slot.handoff_id is not None:
        found = rt.store.handoffs_as_of([slot.handoff_id], slot.at)
        if not found:
            return False
        handoff = found[0]
    # Written as of its slot, sent no earlier than now: a late run still waits for the
    # recipient's business hours (a run on Saturday after an outage sends on Monday).
    notice = Notice(slot.kind, slot.to, slot.handoff_id, context={**slot.context, "as_of": slot.at},
                    key=slot.key, not_before=max(slot.at, rt.now))
    if queue(rt, [notice], Cause(slot.key), handoff) == 0:
        return False
    rt.store.supersede(slot.replaces, slot.key)  # yesterday's digest still held: today's replaces it
    return True


def upcoming(rt: Runtime, until: datetime) -> list[Slot]:
    """Every slot after now and up to ``until`` not sent yet (for `nudger upcoming`): what
    the schedule will owe if nothing else happens. Digests are listed even when they might
    turn out empty on the day."""
    subjects = sorted({s for s, _ in rt.store.schedule_rows()} | set(subjects_from_config(rt.config)))
    config_since = rt.store.setting("schedule_config_at")
    found: list[Slot] = []
    for i in range(0, len(subjects), BATCH):
        chunk = subjects[i:i + BATCH]
        batch = _Batch.read(rt, chunk, config_since)
        slots = [s for subject in chunk for s in batch.slots(rt, subject, until=until) if rt.now < s.at <= until]
        sent = rt.store.sent_keys([s.key for s in slots])
        found += [s for s in slots if s.key not in sent and not _empty_now(rt, s)]
    return sorted(found, key=lambda s: (s.at, s.to, s.key))


def _empty_now(rt: Runtime, slot: Slot) -> bool:
    """A digest that would have nothing in it if it were written now (a forecast: by its
    day it may have something)."""
    from nudger.core.records import Notice
    from nudger.outbound.digests import is_empty
    from nudger.outbound.kinds import KINDS, KindInput

    kind = KINDS[slot.kind]
    if kind.about_a_handoff or kind.context is None:
        return False
    notice = Notice(slot.kind, slot.to, None, context={**slot.context, "as_of": max(slot.at, rt.now)})
    return is_empty(slot.kind, kind.context(KindInput(notice, None, rt.config, rt.store)))


def next_for_handoff(rt: Runtime, handoff_id: int) -> Slot | None:
    """The handoff's next scheduled email, if nothing else happens (for `nudger show`)."""
    slots = [s for s in slots_for(rt, f"h:{handoff_id}") if s.at > rt.now]
    sent = rt.store.sent_keys([s.key for s in slots])
    return min((s for s in slots if s.key not in sent), key=lambda s: s.at, default=None)
