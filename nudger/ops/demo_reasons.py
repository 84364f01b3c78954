"""Why each email of the demo went, in one plain sentence, from the same facts nudger used.

The demo's timeline (on the console and in ``index.html``) shows every email with its reason:
who acted, which rule of the schedule fell due and with which setting. The sentences are
written from the email's kind, its handoff, its recipient and the config, so a change to the
story or to the demo org's settings changes them too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from nudger.config import Config, Person
from nudger.core.calendars import calendar_for
from nudger.core.records import Handoff
from nudger.core.schedule import escalation_target
from nudger.ops.local_time import short_day

DAY_NAMES = {"mon": "Monday", "tue": "Tuesday", "wed": "Wednesday", "thu": "Thursday", "fri": "Friday",
             "sat": "Saturday", "sun": "Sunday"}


@dataclass(frozen=True)
class Facts:
    """What is known about one outgoing email when it is explained."""

    config: Config
    kind: str
    to: str  # the recipient's address
    key: str  # its dedupe key: kind, handoff, due, n ... (DESIGN.md "Scheduled")
    handoff: Handoff | None
    queued: datetime  # when it was queued
    sent: datetime  # when it went

    def person(self, email: str | None) -> Person | None:
        return self.config.person_by_email(email) if email else None

    def first(self, email: str | None) -> str:
        """A person's first name, as the story calls them ("Pat"); an outsider's address."""
        person = self.person(email)
        return person.name.split()[0] if person and person.name.split() else (email or "nobody")

    @property
    def reader(self) -> str:
        return self.first(self.to)

    @property
    def owner(self) -> str:
        return self.first(self.handoff.owner if self.handoff else None)

    @property
    def requester(self) -> str:
        return self.first(self.handoff.requester if self.handoff else None)

    @property
    def number(self) -> str:
        return f"#{self.handoff.id}" if self.handoff else "the handoff"

    @property
    def due(self) -> str:
        return day(self.handoff.due) if self.handoff and self.handoff.due else "no date"

    def team(self, name: str | None = None) -> str:
        """A team as people say it: "Legal"."""
        name = name or (self.handoff.team if self.handoff else None)
        return name.capitalize() if name else "no team"

    def local(self, at: datetime) -> datetime:
        return calendar_for(self.config, self.to).local(at)


def day(d: date | datetime) -> str:
    return short_day(d)


def day_title(at: date | datetime) -> str:
    """"Tuesday 1 December": a heading of the timeline."""
    return f"{at:%A} {at.day} {at:%B}"


def clock(at: datetime) -> str:
    """A local time with its zone: "Mon 23 Nov 10:12 EST"."""
    return f"{short_day(at)} {at:%H:%M} {at.tzname()}"


def city(timezone: str) -> str:
    """"America/New_York" -> "New York": where a person's 08:00 is."""
    return timezone.rsplit("/", 1)[-1].replace("_", " ")


def _receipt(f: Facts) -> str:
    text = (f"{f.requester}'s forward is now handoff {f.number}, owned by {f.owner} and due {f.due}. "
            f"It answers {f.requester}'s own email, so it goes at once, at any hour")
    team = f.config.team_named(f.handoff.team) if f.handoff and f.handoff.team else None
    if f.handoff and f.handoff.rush and team:
        text += (f". It is a rush: {f.team()} asks for {team.min_lead_days} business days' notice, "
                 f"and the receipt says so kindly")
    return text


def _new_handoff(f: Facts) -> str:
    h = f.handoff
    team = f.config.team_named(h.team) if h and h.team else None
    owner = f.person(h.owner if h else None)
    if team and owner and team.lead == owner.handle:
        how = f"{f.requester} handed {f.number} to {f.team()}, whose handoffs go to its lead, {f.owner}"
    else:
        how = f"{f.requester}'s note named {f.owner} (@{owner.handle if owner else '?'}) for {f.number}"
    return f"{how}; due {f.due}"


def _ack_reminder(f: Facts) -> str:
    hours = f.config.nudges.ack_reminder_hours
    return (f"{hours:g} of {f.owner}'s business hours after the notice reached them (ack_reminder_hours = "
            f"{hours:g}), {f.number} still has no \"ack\"; one reminder only")


def _due_soon(f: Facts) -> str:
    sent, due = f.local(f.sent).date(), f.handoff.due if f.handoff else None
    when = "today" if due == sent else f"on {f.due}, and this is the last business day before it"
    return (f"{f.number} is due {when}, and not done: {f.owner} is reminded at "
            f"{f.config.nudges.digest_time}, their time")


def _overdue(f: Facts) -> str:
    n = int(f.key.rsplit(":", 1)[-1]) if f.key.rsplit(":", 1)[-1].isdigit() else 0
    nudges = f.config.nudges
    if n == 0:
        return (f"{f.number} was due {f.due} and is not done: the first overdue alert, at "
                f"{nudges.digest_time} on the next business day")
    return (f"{f.number} is still not done: overdue alert {n + 1}, every {nudges.overdue_repeat_days} business "
            f"days (overdue_repeat_days), at most {nudges.overdue_max_repeats} repeats (overdue_max_repeats)")


def _overdue_notice(f: Facts) -> str:
    return (f"{f.owner} has just been chased about {f.number} (due {f.due}): {f.requester}, who asked for it, "
            f"is told, with the first overdue alert")


def _escalation(f: Facts) -> str:
    days = f.config.nudges.escalate_after_days
    h = f.handoff
    target = escalation_target(f.config, h.owner, h.team) if h and h.owner else None
    role = {"manager": f"{f.owner}'s manager", "team lead": f"{f.team()}'s lead",
            "admin": f"the admin ([org] admin), as {f.owner} has no manager and no team lead above them"
            }.get(target[1] if target else "", "who it escalates to")
    return (f"{f.number} is {days} business days overdue (escalate_after_days = {days}): it goes to "
            f"{f.reader}, {role}, with the story so far; once per due date")


def _digest(every: str) -> Callable[[Facts], str]:
    def reason(f: Facts) -> str:
        person, nudges = f.person(f.to), f.config.nudges
        zone = city(person.timezone) if person else "their"
        when = "on each of their business days" if every == "daily" else f"every {DAY_NAMES[nudges.weekly_day]}"
        return (f"{f.reader} chose digest = \"{every}\": what they owe, what is owed to them and what waits, "
                f"at {nudges.digest_time} {zone} time {when}; skipped when empty")
    return reason


def _team_digest(f: Facts) -> str:
    parts = f.key.split(":")
    name = parts[1] if len(parts) > 1 else ""
    team = f.config.team_named(name)
    person = f.person(f.to)
    weekday = DAY_NAMES[f.config.nudges.weekly_day]
    why = ("as its lead" if team and person and team.lead == person.handle
           else "as the admin ([org] admin), who gets every team's")
    return (f"{weekday} morning (weekly_day): team {f.team(name)}'s week, to {f.reader} {why}; "
            f"a team with nothing that week gets none")


def _appreciation(f: Facts) -> str:
    weekday = DAY_NAMES[f.config.nudges.appreciation_day]
    return (f"{weekday} (appreciation_day): work done for {f.reader} in the last 7 days that has no thanks yet, "
            f"each with its one-line reply")


REASONS: dict[str, Callable[[Facts], str]] = {
    "receipt": _receipt,
    "new_handoff": _new_handoff,
    "acknowledged": lambda f: (f"{f.owner} replied \"ack\" to {f.number}: {f.requester}, who asked, "
                               f"hears it is confirmed"),
    "done": lambda f: (f"{f.owner} replied \"done\" to {f.number}: {f.requester} hears it is finished, "
                       f"with a prompt to say thanks"),
    "thanks": lambda f: f"{f.requester} replied \"thanks\" on {f.number}: the words go to {f.owner}",
    "note": lambda f: f"a note on {f.number}, relayed to {f.reader}",
    "ack_reminder": _ack_reminder,
    "due_soon": _due_soon,
    "overdue": _overdue,
    "overdue_notice": _overdue_notice,
    "escalation": _escalation,
    "daily_digest": _digest("daily"),
    "weekly_digest": _digest("weekly"),
    "team_digest": _team_digest,
    "appreciation": _appreciation,
}

HEADLINES: dict[str, Callable[[Facts], str]] = {
    "new_handoff": lambda f: f"the notice of {f.number} reaches {f.reader} as their day starts",
    "ack_reminder": lambda f: f"no \"ack\" from {f.owner} on {f.number}",
    "due_soon": lambda f: f"{f.number} is due" + (" today" if f.handoff and f.handoff.due == f.local(f.sent).date()
                                                  else f" {f.due}"),
    "overdue": lambda f: f"{f.number} is overdue" + ("" if f.key.endswith(":0") else ", still"),
    "overdue_notice": lambda f: f"{f.number} is overdue",
    "escalation": lambda f: (f"{f.number} is {f.config.nudges.escalate_after_days} business days late, "
                             f"escalated to {f.reader}"),
    "daily_digest": lambda f: f"{f.reader}'s daily digest",
    "weekly_digest": lambda f: f"{f.reader}'s weekly digest",
    "team_digest": lambda f: f"{DAY_NAMES[f.config.nudges.weekly_day]}'s team digests",
    "appreciation": lambda f: f"{f.reader}'s prompt to say thanks",
}


def why(f: Facts) -> str:
    """The sentence that says why this email went, and when it waited, why it waited."""
    reason = REASONS.get(f.kind, lambda f: f"a {f.kind} email about {f.number}")(f)
    return reason + waited(f) + "."


def headline(f: Facts) -> str:
    """A few words for the cron run that sent it: what fell due."""
    return HEADLINES.get(f.kind, lambda f: f"{f.kind} to {f.reader}")(f)


def waited(f: Facts) -> str:
    """Mail to other people waits for their business hours; say so, and name a holiday on the way."""
    if (f.sent - f.queued).total_seconds() < 60:
        return ""
    return (f". Queued {clock(f.local(f.queued))}, outside {f.reader}'s business hours"
            f"{_holidays(f, f.sent)}, it waited for the start of their next ones")


def held(f: Facts, until: datetime) -> str:
    """An email queued now that waits: for whom, until when (their time), and any holiday between."""
    return (f"{f.kind} to {f.reader} waits for their business hours: it goes {clock(f.local(until))}"
            f"{_holidays(f, until)}")


def _holidays(f: Facts, until: datetime) -> str:
    """" (Thu 26 Nov is Thanksgiving Day)" for each public holiday of the recipient's between
    queueing and ``until``."""
    cal = calendar_for(f.config, f.to)
    first, last = f.local(f.queued).date(), f.local(until).date()
    names = [f"{day(d)} is {name}" for i in range((last - first).days)
             if (name := cal.holiday_name(d := first + timedelta(days=i)))]
    return f" ({'; '.join(names)})" if names else ""
