"""A team's week in figures, read from the event log as it stood at the week's end.

Pure reads: nothing here writes, and nothing reads the clock. Every figure comes from
event snapshots dated before ``end``, so a digest computed late (or again) for the same
week gives the same numbers; the handoffs table is read only for what never changes
(title, requester, created).

Rules (also in docs/team-digest.md):

- A week is ``[start, end)``. An event counts for the team recorded in its own snapshot
  (the state after it): a handoff moved from sales to accounting on Wednesday is sales'
  until then and accounting's from the move on.
- ``opened``: handoffs whose ``created`` event falls in the week, for the first team their
  history gives them before ``end`` (the created event's own team, or, for a handoff
  created with no owner, the team of the answer that named one). ``rush_by_requester``
  counts those of them that are rush as of ``end``.
- A *completion* is a handoff's last ``done`` of the week while in the team: done,
  reopened and done again in one week is one completion, judged at the final ``done``.
  ``closed`` counts handoffs with a ``done`` or ``cancelled`` in the week.
- ``median_ack_hours``: from the event that gave the owner (created with an owner,
  ``owner_assigned``, ``reassigned``, ``declined`` to someone) to the first
  ``acknowledged`` after it, for such first acks in the week, in business hours of the
  owner's calendar. A second ``ack`` (a new date, an ack after a reopen) is not counted.
- ``median_done_hours``: from creation to the completion, in the completing owner's
  business hours. ``on_time_rate``: completions whose local date (the owner's) is on or
  before the due date in the ``done`` snapshot, among completions that had a due date.
- ``thanks_given``: ``thanked`` events in the week. ``done_not_thanked``: completions with
  no ``thanked`` after them and before ``end``. ``top_helpers``: completions per owner,
  most first, ties by email, at most five.
- As of ``end`` (the latest event of each handoff dated before it): ``open_now`` (open,
  acknowledged or blocked), ``overdue_now`` (of those, due before ``end``'s date in the
  owner's calendar; the org's when there is no owner), ``oldest_open`` (five, oldest
  first) and ``needs_someone`` (no owner, blocked, or overdue).
- ``previous`` is the same record for the week before: as long as this one, ending at
  ``start`` (wall-clock when both bounds share a timezone, so DST does not shift it).
- ``is_empty``: nothing opened, nothing closed and nothing open: the digest is skipped.
- Bounds are compared to the second, as the log stores them. Handoffs with no team
  belong to no team's figures.
"""

from __future__ import annotations

import sqlite3
import statistics
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from nudger.config import Config
from nudger.core.calendars import calendar_for
from nudger.core.records import OPEN_STATES
from nudger.state.store import Store, iso

TOP_HELPERS = 5
OLDEST_OPEN = 5


@dataclass(frozen=True)
class OpenHandoff:
    """An open handoff as it stood at the end of the week."""

    id: int
    title: str
    owner: str | None
    created: datetime
    due: date | None
    status: str


@dataclass(frozen=True)
class NeedsSomeone:
    """An open handoff someone should look at, and why (``"no owner"``, ``"blocked: …"``,
    ``"overdue (due YYYY-MM-DD)"``, joined by ``"; "`` when several apply)."""

    id: int
    title: str
    why: str
    owner: str | None
    status: str
    due: date | None


@dataclass(frozen=True)
class TeamWeek:
    """One team's figures for the week ``[start, end)``, with last week's in ``previous``."""

    team: str
    start: datetime
    end: datetime
    opened: int
    closed: int
    done: int
    open_now: int
    overdue_now: int
    median_ack_hours: float | None
    median_done_hours: float | None
    on_time_rate: float | None
    rush_by_requester: tuple[tuple[str, int], ...]  # most first, ties by email
    thanks_given: int
    done_not_thanked: int
    top_helpers: tuple[tuple[str, int], ...]  # (owner, completions), at most five
    oldest_open: tuple[OpenHandoff, ...]
    needs_someone: tuple[NeedsSomeone, ...]
    previous: TeamWeek | None = None

    @property
    def is_empty(self) -> bool:
        """Nothing opened, closed or open: the team digest for this week is skipped."""
        return self.opened == 0 and self.closed == 0 and self.open_now == 0


def team_week(source: sqlite3.Connection | Store, config: Config, team: str, start: datetime,
              end: datetime, *, with_previous: bool = True) -> TeamWeek:
    """The team's week ``[start, end)`` (aware datetimes), read from the event log as of
    ``end``; ``previous`` holds the week before unless ``with_previous`` is false."""
    conn = source if isinstance(source, sqlite3.Connection) else source.db.conn
    for bound in (start, end):
        if bound.tzinfo is None or bound.utcoffset() is None:
            raise ValueError(f"naive datetime {bound.isoformat()}: pass an aware datetime")
    if not start < end:
        raise ValueError(f"the week must start before it ends: {start.isoformat()} .. {end.isoformat()}")
    known = config.team_named(team)
    name = known.name if known else team.strip().lower()
    key = (id(conn), id(config), name, start, start.tzinfo, end, end.tzinfo, with_previous)
    if _remembered is not None and key in _remembered:
        return _remembered[key]
    with _snapshot(conn):
        previous = None
        if with_previous:
            previous = _week(conn, config, name, start - (end - start), start, None)
        week = _week(conn, config, name, start, end, previous)
    if _remembered is not None:
        _remembered[key] = week
    return week


_remembered: dict[tuple[Any, ...], TeamWeek] | None = None


@contextmanager
def remembering() -> Iterator[None]:
    """Inside, a team's week asked for again (its lead's digest and the admin's, at the same
    instant) is read once. For a stage that writes no events meanwhile: the schedule's pass."""
    global _remembered
    outer = _remembered
    _remembered = {} if outer is None else outer
    try:
        yield
    finally:
        _remembered = outer


# --- queries --------------------------------------------------------------------------
#
# Every query starts from the team's own events through the (team, at, handoff_id) index:
# a range on ``at`` for the week's events, and the team's handoffs up to ``end`` for what is
# open then; each handoff's events are reached through the (handoff_id, at) index (a reverse
# probe for "the latest event before end"). CROSS JOIN fixes that join order (SQLite never
# reorders a CROSS JOIN). See docs/team-digest.md for the plans.

_WEEK_EVENTS = """
from events e cross join handoffs h
where e.team = :team and e.at >= :start and e.at < :end and h.id = e.handoff_id
  and h.created < :end"""

WEEK_COUNTS = f"""
select count(distinct case when e.kind in ('done', 'cancelled') then e.handoff_id end) as closed,
       count(distinct case when e.kind = 'done' then e.handoff_id end) as done,
       count(case when e.kind = 'thanked' then 1 end) as thanks_given
{_WEEK_EVENTS} and e.kind in ('done', 'cancelled', 'thanked')"""

# The team a handoff is opened for: the first team in its history (the created event's,
# or the one the answer naming an owner gave it); rush as the handoff stood at ``end``.
# A handoff created in the week got its first team in the week too (no event precedes the
# created one), so the candidates are the handoffs with an event of the team in the week.
OPENED_BY_REQUESTER = """
with candidates as materialized (
  select distinct k.handoff_id as id from events k
  where k.team = :team and k.at >= :start and k.at < :end
), created as materialized (
  select h.requester,
    (select t.team from events t where t.handoff_id = h.id and t.at < :end and t.team is not null
      order by t.at, t.id limit 1) as team,
    (select r.rush from events r where r.handoff_id = h.id and r.at < :end
      order by r.at desc, r.id desc limit 1) as rush
  from candidates k cross join handoffs h cross join events c
  where h.id = k.id and h.created < :end and c.handoff_id = h.id and c.at >= :start and c.at < :end
    and c.kind = 'created'
)
select requester, count(*) as opened, coalesce(sum(rush), 0) as rush
from created where team = :team group by requester order by rush desc, requester"""

# Each first ack of the week with the event that gave its owner.
ACK_PAIRS = f"""
with acks as (
  select e.id, e.handoff_id, e.at, e.owner,
    (select s.id from events s
      where s.handoff_id = e.handoff_id and s.at <= e.at and (s.at < e.at or s.id < e.id)
        and (s.kind in ('owner_assigned', 'reassigned')
             or (s.kind in ('created', 'declined') and s.owner is not null))
      order by s.at desc, s.id desc limit 1) as assignment
  {_WEEK_EVENTS} and e.kind = 'acknowledged'
)
select s.at as assigned, a.at as acked, a.owner
from acks a join events s on s.id = a.assignment
where not exists (
  select 1 from events b
  where b.handoff_id = a.handoff_id and b.kind = 'acknowledged' and b.at >= s.at and b.at <= a.at
    and (b.at > s.at or b.id > s.id) and (b.at < a.at or b.id < a.id))
order by a.at, a.id"""

# A completion: the handoff's last done of the week in the team, and whether a thanks
# followed it before ``end``.
_COMPLETIONS = f"""
with done as (
  select e.id, e.handoff_id, e.at, e.owner, e.due, h.created,
         row_number() over (partition by e.handoff_id order by e.at desc, e.id desc) as nth
  {_WEEK_EVENTS} and e.kind = 'done'
), completions as (
  select d.*, exists (
      select 1 from events t
      where t.handoff_id = d.handoff_id and t.kind = 'thanked' and t.at >= d.at and t.at < :end
        and (t.at > d.at or t.id > d.id)) as thanked
  from done d where d.nth = 1
)"""

COMPLETIONS_BY_OWNER = f"""{_COMPLETIONS}
select owner, count(*) as done, sum(not thanked) as not_thanked
from completions group by owner order by done desc, owner"""

COMPLETION_TIMES = f"""{_COMPLETIONS}
select created, at as done, owner, due from completions order by at, id"""

# The team's open handoffs as of ``end``: each handoff that had the team before ``end``
# (the index's range), as its latest event before ``end`` left it, kept when that event
# still has the team and an open status. The handoff's own row is read only for those
# (most of a team's handoffs were closed long ago: a quarter less time at 2,000 a team).
# Whether one is overdue depends on its owner's calendar: computed in Python (``_open_at_end``).
OPEN_AT_END = """
with mine as materialized (
  select distinct k.handoff_id as id from events k where k.team = :team and k.at < :end
)
select h.id, h.title, h.created, e.status, e.owner, e.due
from mine m cross join events e cross join handoffs h
where e.id = (
    select x.id from events x where x.handoff_id = m.id and x.at < :end
    order by x.at desc, x.id desc limit 1)
  and e.team = :team and e.status in (_OPEN_STATES_)
  and h.id = m.id and h.created < :end
order by h.created, h.id""".replace("_OPEN_STATES_", ", ".join(f"'{s}'" for s in OPEN_STATES))

BLOCKED_REASON = """
select b.words from events b where b.handoff_id = :id and b.kind = 'blocked' and b.at < :end
order by b.at desc, b.id desc limit 1"""

# --- assembly -------------------------------------------------------------------------


def _week(conn: sqlite3.Connection, config: Config, team: str, start: datetime, end: datetime,
          previous: TeamWeek | None) -> TeamWeek:
    params = {"team": team, "start": iso(start), "end": iso(end)}
    counts = _rows(conn, WEEK_COUNTS, params)[0]
    opened = _rows(conn, OPENED_BY_REQUESTER, params)
    by_owner = _rows(conn, COMPLETIONS_BY_OWNER, params)
    ack_hours = [calendar_for(config, r["owner"]).business_hours_between(_time(r["assigned"]), _time(r["acked"]))
                 for r in _rows(conn, ACK_PAIRS, params)]
    done_hours, on_time, with_due = [], 0, 0
    for r in _rows(conn, COMPLETION_TIMES, params):
        calendar = calendar_for(config, r["owner"])
        done = _time(r["done"])
        done_hours.append(calendar.business_hours_between(_time(r["created"]), done))
        if r["due"]:
            with_due += 1
            on_time += calendar.local(done).date() <= date.fromisoformat(r["due"])

    open_rows = _open_at_end(conn, config, params, end)
    oldest = tuple(OpenHandoff(r.id, r.title, r.owner, _time(r.created), _date(r.due), r.status)
                   for r in open_rows[:OLDEST_OPEN])
    needs = tuple(NeedsSomeone(r.id, r.title, _why(conn, r, params), r.owner, r.status, _date(r.due))
                  for r in open_rows if r.owner is None or r.status == "blocked" or r.overdue)
    return TeamWeek(
        team=team, start=start, end=end,
        opened=sum(int(r["opened"]) for r in opened),
        closed=int(counts["closed"]), done=int(counts["done"]),
        open_now=len(open_rows), overdue_now=sum(r.overdue for r in open_rows),
        median_ack_hours=statistics.median(ack_hours) if ack_hours else None,
        median_done_hours=statistics.median(done_hours) if done_hours else None,
        on_time_rate=on_time / with_due if with_due else None,
        rush_by_requester=tuple((r["requester"], int(r["rush"])) for r in opened if r["rush"]),
        thanks_given=int(counts["thanks_given"]),
        done_not_thanked=sum(int(r["not_thanked"]) for r in by_owner),
        top_helpers=tuple((r["owner"], int(r["done"])) for r in by_owner if r["owner"])[:TOP_HELPERS],
        oldest_open=oldest, needs_someone=needs, previous=previous,
    )


@dataclass(frozen=True)
class _OpenRow:
    id: int
    title: str
    created: str  # ISO text in UTC, as stored: its order is time order
    status: str
    owner: str | None
    due: str | None
    overdue: bool


def _open_at_end(conn: sqlite3.Connection, config: Config, params: dict[str, Any], end: datetime) -> list[_OpenRow]:
    """The team's open handoffs as of ``end``, oldest first; overdue when due before ``end``'s
    date in the owner's calendar (the org's when there is no owner or they are not listed)."""
    todays: dict[str | None, str] = {}
    found = []
    for r in _rows(conn, OPEN_AT_END, params):
        owner = r["owner"]
        if owner not in todays:
            todays[owner] = calendar_for(config, owner).local(end).date().isoformat()
        overdue = r["due"] is not None and r["due"] < todays[owner]
        found.append(_OpenRow(int(r["id"]), r["title"], r["created"], r["status"], owner, r["due"], overdue))
    return found


def _why(conn: sqlite3.Connection, row: _OpenRow, params: dict[str, Any]) -> str:
    reasons = []
    if row.owner is None:
        reasons.append("no owner")
    if row.status == "blocked":
        found = conn.execute(BLOCKED_REASON, {"id": row.id, "end": params["end"]}).fetchone()
        reasons.append(f"blocked: {found[0]}" if found and found[0] else "blocked")
    if row.overdue:
        reasons.append(f"overdue (due {row.due})")
    return "; ".join(reasons)


@contextmanager
def _snapshot(conn: sqlite3.Connection) -> Iterator[None]:
    """One read transaction, so every figure sees the same database (WAL: no lock taken on
    writers). Inside a caller's transaction, read within it."""
    if conn.in_transaction:
        yield
        return
    conn.execute("begin")
    try:
        yield
    finally:
        conn.execute("rollback")  # nothing was written: end the read snapshot


def _rows(conn: sqlite3.Connection, sql: str, params: dict[str, Any]) -> list[dict[str, Any]]:
    cur = conn.execute(sql, params)
    cols = [d[0] for d in cur.description]
    return [dict(zip(cols, row, strict=True)) for row in cur.fetchall()]


def _time(value: str) -> datetime:
    return datetime.fromisoformat(value).astimezone(UTC)


def _date(value: str | None) -> date | None:
    return date.fromisoformat(value) if value else None
