"""Handoffs and their event log: the rows as they are now and as they stood at an instant."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from nudger.core.records import Event, Handoff, HandoffState, Step
from nudger.state.db import Rows, _time, iso


@dataclass(frozen=True, slots=True)
class Requested:
    """A handoff as the schedule needs it beside its history: its number and requester."""

    id: int
    requester: str


def _chunks(ids: list[int], size: int = 500) -> Iterator[list[int]]:
    """Ids in chunks that stay under SQLite's limit on bound parameters."""
    for i in range(0, len(ids), size):
        yield ids[i:i + size]


class HandoffRows(Rows):

    def last_note_words(self, handoff_id: int, actor: str) -> str | None:
        """The words of the last note ``actor`` wrote on the handoff (None: no note yet)."""
        row = self._one("select words from events where handoff_id = ? and kind = 'note' and actor = ?"
                        " order by id desc limit 1", [handoff_id, actor])
        return None if row is None else str(row["words"] or "")

    def handoff(self, handoff_id: int) -> Handoff | None:
        row = self._one(f"select {_HANDOFF_COLUMNS} from handoffs where id = ?", [handoff_id])
        return _decode_handoff(row) if row else None

    def handoff_source(self, handoff_id: int) -> bytes | None:
        """The forward as received, kept only when it carried attachments."""
        row = self._one("select raw from handoff_sources where id = ?", [handoff_id])
        return bytes(row["raw"]) if row else None

    def handoff_by_root(self, message_ids: list[str]) -> Handoff | None:
        if not message_ids:
            return None
        marks = ",".join("?" * len(message_ids))
        row = self._one(
            f"select id from handoffs where root_message_id in ({marks}) "
            f"union select handoff_id from outbox where message_id in ({marks}) and handoff_id is not null"
            f" limit 1",
            [*message_ids, *message_ids],
        )
        return self.handoff(int(row["id"])) if row else None

    def handoffs(self, status: str | None = None) -> list[Handoff]:
        where, params = ("where status = ?", [status]) if status else ("", [])
        rows = self._rows(f"select {_HANDOFF_COLUMNS} from handoffs {where} order by id", params)
        return [_decode_handoff(r) for r in rows]

    def open_handoffs_for(self, email: str) -> list[Handoff]:
        """Open handoffs the person owns or asked for (an index on each, not a scan)."""
        email = email.lower()
        rows = self._rows(
            f"select {_HANDOFF_COLUMNS} from handoffs where status in ('open', 'acknowledged', 'blocked')"
            f" and (owner = ? or requester = ?) order by id",
            [email, email],
        )
        return [_decode_handoff(r) for r in rows]

    def events(self, handoff_id: int) -> list[Event]:
        rows = self._rows(f"select {_EVENT_COLUMNS} from events where handoff_id = ? order by at, id",
                          [handoff_id])
        return [_decode_event(r) for r in rows]

    def requester_names(self, emails: list[str]) -> dict[str, str]:
        """The name each of these requesters gave in their latest forward that had one."""
        found: dict[str, str] = {}
        for i in range(0, len(emails), 500):
            chunk = [e.lower() for e in emails[i:i + 500]]
            marks = ",".join("?" * len(chunk))
            for email, name in self.db.conn.execute(
                    f"select requester, requester_name from handoffs where requester in ({marks})"
                    f" and requester_name is not null order by id", chunk):
                found[email] = name
        return found

    def handoff_requesters(self, ids: list[int]) -> dict[int, Requested]:
        """The number and requester of each of these handoffs that exists: all the schedule
        reads of the handoff row itself (the rest comes from its history)."""
        found: dict[int, Requested] = {}
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            found.update((r[0], Requested(r[0], r[1])) for r in self.db.conn.execute(
                f"select id, requester from handoffs where id in ({marks})", chunk))
        return found

    def histories(self, ids: list[int]) -> dict[int, list[Step]]:
        """Each handoff's events in time order as light steps (no words or data decoded): a
        batch of the schedule in one query by the (handoff_id, at) index."""
        found: dict[int, list[Step]] = {i: [] for i in ids}
        states: dict[tuple[Any, ...], HandoffState] = {}  # one state record per distinct state
        for chunk in _chunks(ids):
            marks = ",".join("?" * len(chunk))
            for hid, eid, at, kind, actor, *state in self.db.conn.execute(
                    f"select handoff_id, id, at, kind, actor, status, owner, team, due, priority, rush"
                    f" from events where handoff_id in ({marks}) order by handoff_id, at, id", chunk):
                key = tuple(state)
                if (s := states.get(key)) is None:
                    status, owner, team, due, priority, rush = state
                    s = states[key] = HandoffState(status or "open", owner, team,
                                                   date.fromisoformat(due) if due else None,
                                                   priority or "normal", bool(rush))
                t = datetime.fromisoformat(at)  # stored in UTC ("+00:00")
                found[hid].append(Step(kind, s, actor, t if t.tzinfo is UTC else t.astimezone(UTC), eid))
        return found

    def state_at(self, handoff_id: int, at: datetime) -> HandoffState | None:
        """The handoff as it stood at instant ``at``: the state its last event up to then left.
        None before it existed."""
        row = self._one(
            f"select {_EVENT_COLUMNS} from events where handoff_id = ? and at <= ?"
            " order by at desc, id desc limit 1",
            [handoff_id, iso(at)],
        )
        return _decode_event(row).state if row else None

    # --- history as of an instant ----------------------------------------------------

    def handoffs_as_of(self, ids: list[int], at: datetime) -> list[Handoff]:
        """These handoffs as they stood at ``at`` (status, owner, team, due, priority, rush
        from the event log); those that did not exist yet are left out."""
        out = []
        for i in range(0, len(ids), 500):
            chunk = ids[i:i + 500]
            marks = ",".join("?" * len(chunk))
            rows = self._rows(
                f"select {_HANDOFF_COLUMNS} from handoffs where id in ({marks}) order by id", chunk)
            states = {e.handoff_id: e.state for e in map(_decode_event, self._rows(
                f"select {_EVENT_COLUMNS} from events e where e.handoff_id in ({marks}) and e.id = ("
                " select e2.id from events e2 where e2.handoff_id = e.handoff_id and e2.at <= ?"
                " order by e2.at desc, e2.id desc limit 1)", [*chunk, iso(at)]))}
            reasons = dict(self.db.conn.execute(
                f"select e.handoff_id, e.words from events e where e.handoff_id in ({marks}) and e.id = ("
                " select e2.id from events e2 where e2.handoff_id = e.handoff_id and e2.at <= ?"
                " and e2.kind = 'blocked' order by e2.at desc, e2.id desc limit 1)", [*chunk, iso(at)]).fetchall())
            for row in rows:
                h = _decode_handoff(row)
                if (s := states.get(h.id)) is not None:
                    why = reasons.get(h.id) if s.status == "blocked" else None
                    out.append(h.changed(status=s.status, owner=s.owner, team=s.team, due=s.due,
                                         priority=s.priority, rush=s.rush, blocked_reason=why or None))
        return out

    def statuses_as_of(self, ids: list[int], at: datetime) -> dict[int, str]:
        """Each handoff's status as it stood at ``at`` (one index probe each, nothing decoded);
        those that did not exist yet are left out."""
        found: dict[int, str] = {}
        for chunk in _chunks(ids):
            values = ", ".join("(?)" for _ in chunk)
            found.update((hid, status or "open") for hid, status in self.db.conn.execute(
                f"with wanted(wanted_id) as (values {values})"
                " select e.handoff_id, e.status from wanted w cross join events e where e.id = ("
                " select x.id from events x where x.handoff_id = w.wanted_id and x.at <= ?"
                " order by x.at desc, x.id desc limit 1)", [*chunk, iso(at)]))
        return found

    def handoff_ids_involving(self, email: str, since: datetime) -> list[int]:
        """Handoffs the person asked for, owns, or owned at some point since ``since``."""
        email = email.lower()
        rows = self.db.conn.execute(  # three index seeks (an OR would scan every handoff)
            "select id from handoffs where requester = ?"
            " union select id from handoffs where owner = ?"
            " union select handoff_id from events where owner = ? and at >= ?",
            [email, email, email, iso(since)]).fetchall()
        return sorted(r[0] for r in rows)

    def escalated_to(self, handoff_id: int) -> set[str]:
        """Who this handoff was escalated to (they may then act on it)."""
        return {r[0] for r in self.db.conn.execute(
            "select recipient from outbox where handoff_id = ? and kind = 'escalation'", [handoff_id])}

    def completions(self, requester: str, since: datetime, until: datetime) -> list[tuple[int, datetime, bool]]:
        """(handoff, done at, thanked since) for the requester's handoffs done in [since, until)."""
        rows = self.db.conn.execute(
            "select e.handoff_id, e.at, exists(select 1 from events t where t.handoff_id = e.handoff_id"
            "   and t.kind = 'thanked' and t.at >= e.at and t.at < ?)"
            " from events e join handoffs h on h.id = e.handoff_id"
            " where h.requester = ? and e.kind = 'done' and e.at >= ? and e.at < ? order by e.at",
            [iso(until), requester.lower(), iso(since), iso(until)]).fetchall()
        return [(r[0], datetime.fromisoformat(r[1]), bool(r[2])) for r in rows]

    def round_robin_positions(self) -> dict[str, int]:
        return {r["team"]: int(r["position"]) for r in self._rows("select team, position from team_cursors")}

    def set_round_robin_position(self, team: str, position: int) -> None:
        self.db.conn.execute(
            "insert into team_cursors (team, position) values (?, ?) on conflict(team)"
            " do update set position = excluded.position",
            [team, position],
        )

_HANDOFF_COLUMNS = ("id, title, status, prev_status, owner, requester, team, due, priority, rush,"
                    " created, updated, watchers, note, forwarded, root_message_id, blocked_reason,"
                    " exists(select 1 from handoff_sources s where s.id = handoffs.id) as has_source, due_asked,"
                    " requester_name")
_EVENT_COLUMNS = ("id, handoff_id, at, recorded, kind, actor, data, words, status, owner, team, due,"
                  " priority, rush")


def _decode_handoff(row: dict[str, Any]) -> Handoff:
    created = _time(row["created"]) or datetime.fromtimestamp(0, UTC)
    return Handoff(
        id=int(row["id"]), title=row["title"], status=row["status"], requester=row["requester"],
        created=created, updated=_time(row["updated"]) or created, owner=row["owner"], team=row["team"],
        due=date.fromisoformat(row["due"]) if row["due"] else None, priority=row["priority"] or "normal",
        rush=bool(row["rush"]), watchers=tuple(json.loads(row["watchers"] or "[]")),
        note=row["note"] or "", forwarded=json.loads(row["forwarded"]) if row["forwarded"] else None,
        root_message_id=row["root_message_id"], blocked_reason=row["blocked_reason"],
        prev_status=row["prev_status"], has_source=bool(row["has_source"]),
        due_asked=bool(row["due_asked"]), requester_name=row["requester_name"] or "",
    )


def _handoff_row(h: Handoff, only: dict[str, Any] | None = None) -> dict[str, Any]:
    """The columns of a handoff (or just the changed ones), encoded for SQLite."""
    values: dict[str, Any] = {
        "id": h.id, "title": h.title, "status": h.status, "prev_status": h.prev_status,
        "owner": h.owner, "requester": h.requester, "team": h.team,
        "due": h.due.isoformat() if h.due else None, "priority": h.priority, "rush": int(h.rush),
        "created": iso(h.created), "updated": iso(h.updated), "watchers": json.dumps(list(h.watchers)),
        "note": h.note, "forwarded": json.dumps(h.forwarded) if h.forwarded is not None else None,
        "root_message_id": h.root_message_id, "blocked_reason": h.blocked_reason,
        "due_asked": int(h.due_asked), "requester_name": h.requester_name or None,
    }
    if only is not None:
        return {k: v for k, v in values.items() if k in only}
    return values


def _decode_event(row: dict[str, Any]) -> Event:
    state = HandoffState(
        status=row["status"] or "open", owner=row["owner"], team=row["team"],
        due=date.fromisoformat(row["due"]) if row["due"] else None,
        priority=row["priority"] or "normal", rush=bool(row["rush"]),
    )
    return Event(
        kind=row["kind"], state=state, data=json.loads(row["data"] or "{}"), words=row["words"] or "",
        actor=row["actor"], at=_time(row["at"]), recorded=_time(row["recorded"]),
        handoff_id=int(row["handoff_id"]), id=int(row["id"]),
    )
