"""When each scheduled email is due: a pure function of (history, people, calendars, now).

A slot is one email that the schedule owes someone at one instant, with the dedupe key
that makes it once-only. Whether a handoff's slot is owed is read from its event log *as of
the slot's time*, never from the moment a run gets to it, so a cron every 5 minutes, every
hour or every 6 hours owes the same set. Rules (also in docs/schedule.md):

- ``ack_reminder``: ``ack_reminder_hours`` business hours (owner's calendar) after the
  owner's new-handoff notice reached them (its outbox row's send time; while it waits in the
  outbox, no earlier than now; with no row, the assignment), if the handoff is still open and
  theirs then. None when the notice never reached them (dead, bounced). Once per handoff and
  owner.
- ``due_soon``: ``digest_time`` on the owner's last business day on or before the due date,
  if open or acknowledged then (not blocked, done or cancelled).
- ``overdue``: ``digest_time`` on the owner's first business day after the due date, then
  every ``overdue_repeat_days`` business days, ``overdue_max_repeats`` repeats at most; only
  while open or acknowledged (a blocked owner is not chased). ``overdue_notice`` tells the
  requester with the first overdue alert that went out for that date.
- ``escalation``: ``digest_time`` on the ``escalate_after_days``-th business day after the
  due date, if not done or cancelled: to the owner's manager, else the team's lead (if not
  the owner), else ``[org] admin``. Once per handoff and due date.
- A snooze or a new date starts the count again: every key carries the due date.
- Downtime: slots of one series (a digest; the due-soon/overdue chase of one due date)
  supersede each other, so a run after an outage sends only the latest one that is due; a
  ``due_soon`` whose overdue alert is due is dropped. Every other missed slot goes once.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Container, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Protocol

from nudger.config import Config
from nudger.core.business_time import BusinessCalendar
from nudger.core.calendars import calendar_for
from nudger.core.records import HandoffState, OwnerNotice

CHASED = ("open", "acknowledged")  # states in which the owner is reminded
_ASSIGNING = ("created", "owner_assigned", "reassigned", "declined")


@dataclass(frozen=True)
class Slot:
    """One scheduled email owed to one person at one instant."""

    kind: str
    to: str
    at: datetime  # when it is owed; the outbox then waits for the recipient's business hours
    key: str  # the outbox dedupe key: the ledger of what was sent
    handoff_id: int | None = None
    series: str | None = None  # a later due slot of the same series supersedes this one
    context: Mapping[str, Any] = field(default_factory=dict)
    still_owed: bool = True  # what it asks for has not happened since (read from the latest state)
    replaces: tuple[str, ...] = ()  # outbox keys (LIKE patterns) of held mail this one makes moot


class Moment(Protocol):
    """What the schedule reads of an event: a full ``Event`` or a light ``Step``."""

    @property
    def kind(self) -> str: ...
    @property
    def state(self) -> HandoffState: ...
    @property
    def actor(self) -> str | None: ...
    @property
    def at(self) -> datetime | None: ...
    @property
    def id(self) -> int: ...


class Asked(Protocol):
    """What the schedule reads of a handoff itself: its number and who asked for it."""

    @property
    def id(self) -> int: ...
    @property
    def requester(self) -> str: ...


class History:
    """A handoff's events in time order, answering "what was it at T"."""

    def __init__(self, events: Sequence[Moment], notices: Sequence[OwnerNotice] = ()):
        self.notices: Sequence[OwnerNotice] = notices  # the owners' new-handoff notices, oldest first
        self.events = sorted((e for e in events if e.at is not None), key=lambda e: (e.at, e.id))
        # In UTC: comparing instants of one zone is quick; of two zones, each comparison
        # asks both for their offset.
        self._times = [_utc(e.at) for e in self.events if e.at is not None]
        self._assignments: list[tuple[datetime, str, str | None]] | None = None

    def state_at(self, t: datetime) -> HandoffState | None:
        i = bisect_right(self._times, _utc(t))
        return self.events[i - 1].state if i else None

    def assignments(self) -> list[tuple[datetime, str, str | None]]:
        """(when, new owner, who handed it over) for each time the handoff reached an owner."""
        if self._assignments is None:
            self._assignments = self._find_assignments()
        return self._assignments

    def _find_assignments(self) -> list[tuple[datetime, str, str | None]]:
        found = []
        last: str | None = None
        for e in self.events:
            if e.kind in _ASSIGNING and e.state.owner and e.state.owner != last and e.at:
                found.append((e.at, e.state.owner, e.actor))
            last = e.state.owner
        return found

    def told_at(self, owner: str, assigned: datetime, now: datetime | None) -> datetime | None:
        """When the notice of an assignment reached its owner: the first new-handoff notice
        to them queued at or after it. While it waits in the outbox, the earliest it can go
        (a lower bound: the schedule looks again then). None when it never will."""
        for notice in self.notices:
            if notice.to == owner and notice.queued >= assigned:
                if notice.sent is not None:
                    return notice.sent
                if notice.waits_until is not None:
                    return max(notice.waits_until, now) if now else notice.waits_until
                return None
        return assigned  # no notice on record (a loop limit held it back): the assignment

    def dues(self) -> list[tuple[date, str | None]]:
        """Each due date the handoff had, with the owner it last had under that date."""
        seen: dict[date, str | None] = {}
        for e in self.events:
            if e.state.due:
                seen[e.state.due] = e.state.owner or seen.get(e.state.due)
        return list(seen.items())


def _utc(t: datetime) -> datetime:
    return t if t.tzinfo is UTC else t.astimezone(UTC)


def _clock(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))


def _week(d: date) -> str:
    year, week, _ = d.isocalendar()
    return f"{year}-W{week:02d}"


def escalation_target(config: Config, owner: str, team: str | None) -> tuple[str, str] | None:
    """(email, why) of who hears that a commitment is badly overdue, or None (remembered
    per config)."""
    key = ("escalation_target", owner, team)
    if key not in config.derived:
        config.derived[key] = _escalation_target(config, owner, team)
    return config.derived[key]


def _escalation_target(config: Config, owner: str, team: str | None) -> tuple[str, str] | None:
    person = config.person_by_email(owner)
    if person and person.manager and (manager := config.person_by_handle(person.manager)):
        return manager.email, "manager"
    team_spec = config.team_named(team) if team else (config.team_of(person) if person else None)
    if team_spec and team_spec.lead and (lead := config.person_by_handle(team_spec.lead)):
        if lead.email != owner:
            return lead.email, "team lead"
    if config.org.admin and (admin := config.person_by_handle(config.org.admin)):
        if admin.email != owner:
            return admin.email, "admin"
    return None


def handoff_slots(h: Asked, events: Sequence[Moment] | History, config: Config,
                  known_sent: Container[str] = (), now: datetime | None = None) -> list[Slot]:
    """Every slot this handoff's history owes, past and future (future ones assume nothing
    more happens: a new event makes the schedule read the handoff again).

    Each slot also says whether it is ``still_owed`` by the latest state: a reminder whose
    run comes very late (an outage) is dropped when what it asks for has happened since.
    An ack reminder whose key is in ``known_sent`` is left out (once sent, it is never owed again;
    its business hours are the costliest sum here). ``now`` bounds when a notice still in the
    outbox can reach its owner.
    """
    history = events if isinstance(events, History) else History(events)
    if not history.events:
        return []
    latest = history.events[-1].state
    n = config.nudges
    at_digest = _clock(n.digest_time)
    slots: list[Slot] = []

    for assigned, owner, by in history.assignments():
        if f"ack_reminder:{h.id}:{owner}" in known_sent or (now is not None and ack_settled(history, owner, now)):
            continue
        told = history.told_at(owner, assigned, now)
        if told is None:
            continue  # the notice never reached them: the requester hears that instead
        cal = calendar_for(config, owner)
        t = cal.add_business_hours(told, n.ack_reminder_hours)
        s = history.state_at(t)
        if s and s.owner == owner and s.status == "open":
            still = latest.owner == owner and latest.status == "open"
            slots.append(Slot("ack_reminder", owner, t, f"ack_reminder:{h.id}:{owner}", h.id,
                              context={"asked_at": assigned, "by": by},  # when it was handed over
                              still_owed=still))

    for due, due_owner in history.dues():
        if due_owner is None:
            continue
        d = due.isoformat()
        cal = calendar_for(config, due_owner)
        chased = latest.due == due and latest.status in CHASED
        chase = f"chase:{h.id}:{d}"
        soon = cal.at_local(cal.last_business_day_on_or_before(due), at_digest)
        s = history.state_at(soon)
        if s and s.due == due and s.status in CHASED and s.owner:
            slots.append(Slot("due_soon", s.owner, soon, f"due_soon:{h.id}:{d}", h.id, chase, still_owed=chased))
        # Alerts every overdue_repeat_days business days; days spent blocked send none and
        # use none of the overdue_max_repeats up.
        first_day = cal.first_business_day_after(due)
        horizon = _horizon(history)
        sent = 0
        day = first_day
        for i in range(_MAX_ALERT_DAYS):
            if sent > n.overdue_max_repeats:
                break
            if i:
                day = cal.add_business_days(day, n.overdue_repeat_days)  # step on: linear, not i * repeat
            t = cal.at_local(day, at_digest)
            s = history.state_at(t)
            if s is None or s.due != due or s.status not in (*CHASED, "blocked"):
                if t > horizon:
                    break  # the latest state is not chased for this date: nothing more will come
                continue
            if s.status == "blocked" or not s.owner:
                continue
            late = cal.business_days_between(due, day)
            slots.append(Slot("overdue", s.owner, t, f"overdue:{h.id}:{d}:{sent}", h.id, chase,
                              {"n": sent, "days_late": late, "last": sent == n.overdue_max_repeats},
                              still_owed=chased, replaces=(f"due_soon:{h.id}:{d}", f"overdue:{h.id}:{d}:%")))
            if sent == 0:  # the requester hears with the first alert, at their own morning
                told = max(t, calendar_for(config, h.requester).at_local(day, at_digest))
                slots.append(Slot("overdue_notice", h.requester, told, f"overdue_notice:{h.id}:{d}", h.id,
                                  context={"days_late": late}, still_owed=chased))
            sent += 1
        # The day is counted in the owner's calendar; the hour is the recipient's own.
        day = cal.add_business_days(due, n.escalate_after_days)
        s = history.state_at(cal.at_local(day, at_digest))
        target = escalation_target(config, s.owner, s.team) if s and s.owner else None
        if target:
            t = calendar_for(config, target[0]).at_local(day, at_digest)
            s = history.state_at(t)
            if s and s.due == due and s.status in (*CHASED, "blocked") and s.owner:
                still = latest.due == due and latest.status in (*CHASED, "blocked")
                slots.append(Slot("escalation", target[0], t, f"escalation:{h.id}:{d}", h.id,
                                  context={"days_late": n.escalate_after_days, "escalated_as": target[1]},
                                  still_owed=still))
    return slots


def ack_settled(history: History, owner: str, now: datetime) -> bool:
    """No ack reminder to ``owner`` can be owed at ``now`` or later, whenever their notice
    went: the handoff is no longer open and theirs, and has not changed for longer than a
    late run's grace (``owed``), so a slot before now is not sent and none is ahead. Most of
    a long history is settled: its notices are not read, its business hours not summed."""
    latest = history.events[-1].state
    if latest.owner == owner and latest.status == "open":
        return False
    return now - _horizon(history) > CATCH_UP_GRACE


_MAX_ALERT_DAYS = 60  # overdue alert days looked at per due date (blocked days send none)


def _horizon(history: History) -> datetime:
    """The last moment the history knows about: later states are only assumed."""
    return history._times[-1] if history._times else datetime.min.replace(tzinfo=UTC)


def _business_days_around(cal: BusinessCalendar, now: datetime, weekday: int | None) -> tuple[date, date]:
    """The latest business day (on ``weekday`` if given) on or before today, and the next one after."""
    today = cal.local(now).date()
    back = today
    for _ in range(3700):
        if cal.is_business_day(back) and (weekday is None or back.weekday() == weekday):
            break
        back -= timedelta(days=1)
    ahead = today + timedelta(days=1)
    for _ in range(3700):
        if cal.is_business_day(ahead) and (weekday is None or ahead.weekday() == weekday):
            break
        ahead += timedelta(days=1)
    return back, ahead


def _weekly_days(cal: BusinessCalendar, now: datetime, weekday: int) -> tuple[date, date]:
    """This week's ``weekday`` on or before today and the next one: a weekly slot is kept on
    its day even when that is a holiday (the outbox then waits for the next business hours)."""
    today = cal.local(now).date()
    back = today - timedelta(days=(today.weekday() - weekday) % 7)
    return back, back + timedelta(days=7)


def _more_days(days: tuple[date, date], step: int, cal: BusinessCalendar, until: datetime | None,
               business_only: bool) -> list[date]:
    """The two days around now, and (for `nudger upcoming`) every later one up to ``until``."""
    found = list(days)
    if until is None:
        return found
    d = found[-1]
    last = cal.local(until).date()
    while (d := d + timedelta(days=step)) <= last:
        if not business_only or cal.is_business_day(d):
            found.append(d)
    return found


def person_slots(email: str, digest: str, config: Config, now: datetime,
                 until: datetime | None = None, since: datetime | None = None) -> list[Slot]:
    """A person's digest (daily on business days, or weekly) and their Friday appreciation
    prompt: the latest slot at or before ``now`` and the next one of each series (and every
    one up to ``until`` when given)."""
    from nudger.core.business_time import DAY_NAMES

    cal = calendar_for(config, email)
    at = _clock(config.nudges.digest_time)
    slots = []
    if digest == "daily":
        for d in _more_days(_business_days_around(cal, now, None), 1, cal, until, True):
            slots.append(Slot("daily_digest", email, cal.at_local(d, at), f"daily_digest:{email}:{d.isoformat()}",
                              series=f"daily:{email}", context={"day": d}, replaces=(f"daily_digest:{email}:%",)))
    elif digest == "weekly":
        for d in _more_days(_weekly_days(cal, now, DAY_NAMES.index(config.nudges.weekly_day)), 7, cal, until, False):
            slots.append(Slot("weekly_digest", email, cal.at_local(d, at), f"weekly_digest:{email}:{_week(d)}",
                              series=f"weekly:{email}", context={"day": d}, replaces=(f"weekly_digest:{email}:%",)))
    if since is not None:  # a digest chosen at 13:00 starts with the next one, not this morning's
        slots = [s for s in slots if s.at >= since]
    for d in _more_days(_weekly_days(cal, now, DAY_NAMES.index(config.nudges.appreciation_day)), 7, cal, until,
                        False):
        slots.append(Slot("appreciation", email, cal.at_local(d, at), f"appreciation:{email}:{_week(d)}",
                          series=f"appreciation:{email}", context={"day": d}, replaces=(f"appreciation:{email}:%",)))
    return slots


def team_slots(team: str, config: Config, now: datetime, until: datetime | None = None) -> list[Slot]:
    """The weekly team digest for the team's lead and the org admin, on ``weekly_day``."""
    from nudger.core.business_time import DAY_NAMES

    spec = config.team_named(team)
    recipients = []
    if spec and spec.lead and (lead := config.person_by_handle(spec.lead)):
        recipients.append(lead.email)
    if config.org.admin and (admin := config.person_by_handle(config.org.admin)):
        recipients.append(admin.email)
    slots = []
    at = _clock(config.nudges.digest_time)
    for to in dict.fromkeys(recipients):
        cal = calendar_for(config, to)
        for d in _more_days(_weekly_days(cal, now, DAY_NAMES.index(config.nudges.weekly_day)), 7, cal, until, False):
            slots.append(Slot("team_digest", to, cal.at_local(d, at), f"team_digest:{team}:{_week(d)}:{to}",
                              series=f"team:{team}:{to}", context={"team": team, "day": d},
                              replaces=(f"team_digest:{team}:%:{to}",)))
    return slots


CATCH_UP_GRACE = timedelta(hours=6)  # a run this late still sends what was owed at the slot


def owed(slots: Iterable[Slot], now: datetime, sent: set[str]) -> list[Slot]:
    """The slots to send now: due, not sent, and not superseded by a later due slot of
    their series (after downtime only the latest digest or chase goes).

    A run up to ``CATCH_UP_GRACE`` after a slot sends it as the slot owed it, so crons every
    5 minutes and every 6 hours send the same set. A run later than that (an outage) drops a
    reminder whose point has passed since: no "please confirm" for work confirmed meanwhile.
    """
    due = [s for s in slots if s.at <= now]
    latest: dict[str, datetime] = {}
    for s in due:
        if s.series and s.at > latest.get(s.series, datetime.min.replace(tzinfo=s.at.tzinfo)):
            latest[s.series] = s.at
    return sorted((s for s in due if s.key not in sent and (s.series is None or s.at >= latest[s.series])
                   and (s.still_owed or now - s.at <= CATCH_UP_GRACE)),
                  key=lambda s: (s.at, s.key))


def next_at(slots: Iterable[Slot], now: datetime, sent: set[str]) -> datetime | None:
    """When the schedule must look at this subject again: its next slot not yet sent."""
    future = [s.at for s in slots if s.at > now and s.key not in sent]
    return min(future) if future else None
