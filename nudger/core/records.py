"""The domain's records: a handoff, its state at one instant, and an event of its history.

Decoded once, by the store: dates are dates, times are aware UTC datetimes, watchers a
tuple. Frozen, so a stage can pass them on without wondering who changed what.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from datetime import date, datetime
from typing import Any, NamedTuple

OPEN_STATES = ("open", "acknowledged", "blocked")
CLOSED_STATES = ("done", "cancelled")
HANDOFF_STATES = (*OPEN_STATES, *CLOSED_STATES)


@dataclass(frozen=True)
class HandoffState:
    """What a handoff is at one instant: what every event records as the state after it."""

    status: str
    owner: str | None
    team: str | None
    due: date | None
    priority: str
    rush: bool

    def as_json(self) -> dict[str, Any]:
        return {"status": self.status, "owner": self.owner, "team": self.team,
                "due": self.due.isoformat() if self.due else None, "priority": self.priority,
                "rush": self.rush}


@dataclass(frozen=True)
class Handoff:
    """One tracked commitment. ``id`` is 0 until the store has given it a number."""

    id: int
    title: str
    status: str
    requester: str
    created: datetime
    updated: datetime
    owner: str | None = None
    team: str | None = None
    due: date | None = None
    priority: str = "normal"
    rush: bool = False
    watchers: tuple[str, ...] = ()
    note: str = ""
    forwarded: Mapping[str, Any] | None = None
    root_message_id: str | None = None
    blocked_reason: str | None = None
    prev_status: str | None = None
    has_source: bool = False  # the forward as received is kept (attachments for a later owner)
    due_asked: bool = False  # the requester asked for this date (it may be a rush), not a default
    requester_name: str = ""  # the display name of the forward's From ("" when it had none)

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATES

    @property
    def state(self) -> HandoffState:
        return HandoffState(self.status, self.owner, self.team, self.due, self.priority, self.rush)

    @property
    def participants(self) -> tuple[str, ...]:
        """Requester, owner and watchers, each once."""
        return tuple(dict.fromkeys(e for e in (self.requester, self.owner, *self.watchers) if e))

    def roles_of(self, email: str) -> frozenset[str]:
        """Every role ``email`` has on this handoff (a requester may also watch, say)."""
        email = (email or "").lower()
        roles = set()
        if email and email == self.requester.lower():
            roles.add("requester")
        if email and email == (self.owner or "").lower():
            roles.add("owner")
        if email and email in (w.lower() for w in self.watchers):
            roles.add("watcher")
        return frozenset(roles)

    def role_of(self, email: str) -> str:
        """The one role an email to this person is written for: owner, requester, watcher."""
        roles = self.roles_of(email)
        return next((r for r in ("owner", "requester", "watcher") if r in roles), "someone")

    def changed(self, **changes: Any) -> Handoff:
        return replace(self, **changes)

    def differences(self, other: Handoff) -> dict[str, Any]:
        """The fields whose values differ in ``other``: what a store update writes."""
        return {f.name: getattr(other, f.name) for f in fields(self)
                if getattr(self, f.name) != getattr(other, f.name)}


@dataclass(frozen=True)
class Event:
    """One change in a handoff's history, with the state it left the handoff in.

    ``at`` is when the message that caused it arrived (never after the run's clock), so
    every cron interval writes the same history; ``recorded`` is when a run wrote it.
    ``words`` is what the person wrote themselves (a reason, a note, their thanks).
    """

    kind: str
    state: HandoffState
    data: Mapping[str, Any] = field(default_factory=dict)
    words: str = ""
    actor: str | None = None
    at: datetime | None = None
    recorded: datetime | None = None
    handoff_id: int = 0
    id: int = 0

    def as_json(self) -> dict[str, Any]:
        return {"at": self.at.isoformat() if self.at else None, "kind": self.kind,
                "actor": self.actor, "words": self.words, "data": dict(self.data),
                "state": self.state.as_json(),
                "recorded": self.recorded.isoformat() if self.recorded else None}


class Step(NamedTuple):
    """An event as the schedule reads it: when, what, who, and the state it left; its words
    and JSON data are not decoded (a schedule pass reads half a million of them, so a
    tuple: twice as quick to make as a frozen dataclass)."""

    kind: str
    state: HandoffState
    actor: str | None
    at: datetime
    id: int


class OwnerNotice(NamedTuple):
    """A new-handoff notice to an owner as the schedule reads it from the outbox: when it was
    queued, when it reached them (``sent``), or until when it waits (``waits_until``, while
    queued); both None when it never will (dead, bounced). The ack reminder counts from it."""

    to: str
    queued: datetime
    sent: datetime | None
    waits_until: datetime | None


@dataclass
class Notice:
    """One email to one person, before rendering.

    The kind (see ``nudger.outbound.kinds``) decides whether it is an answer, how it waits
    for business hours and how its dedupe key is shaped; ``key`` and ``not_before`` are
    filled in by whoever knows the cause (the inbound message, the scheduled slot).
    """

    kind: str
    to: str
    handoff_id: int | None = None
    context: dict[str, Any] = field(default_factory=dict)
    key: str | None = None  # the outbox dedupe key: the ledger of what was sent
    not_before: datetime | None = None  # earliest send time, before any business-hours hold
