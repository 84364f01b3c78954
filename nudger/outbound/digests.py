"""What the scheduled emails say: each kind's context, read from the event log as of the
slot's time (``as_of`` in the notice), so a late run writes what an on-time run would have.

A digest with nothing in it is not sent (``is_empty``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from nudger.config.model import team_label
from nudger.core.calendars import calendar_for
from nudger.core.records import OPEN_STATES, Handoff

if TYPE_CHECKING:
    from nudger.outbound.kinds import KindInput

SECTION_CAP = 10  # items shown per section; the rest are counted ("and 12 more")
RECENT = timedelta(days=7)


@dataclass(frozen=True)
class Item:
    """One handoff line in a digest."""

    id: int
    title: str
    status: str
    due: Any
    other: str | None  # the person on the other side: the owner, or the requester
    days_late: int
    rush: bool = False


@dataclass(frozen=True)
class Section:
    title: str
    items: list[Item]
    more: int = 0


def _as_of(inp: KindInput) -> datetime:
    """The slot's time: the schedule (or ``preview``) says as of when the email is written."""
    at = inp.notice.context.get("as_of") or inp.notice.not_before
    if not isinstance(at, datetime):
        raise ValueError(f"{inp.notice.kind}: a scheduled email needs the time it is written as of")
    return at


def _item(h: Handoff, other: str | None, today: Any, inp: KindInput) -> Item:
    cal = calendar_for(inp.config, inp.notice.to)
    open_and_late = h.status in OPEN_STATES and h.due and h.due < today
    late = cal.business_days_between(h.due, today) if open_and_late and h.due else 0
    return Item(h.id, h.title, h.status, h.due, other, late, h.rush)


def _section(title: str, items: list[Item]) -> Section:
    # Most overdue first, then the soonest due, then the oldest.
    items = sorted(items, key=lambda i: (-i.days_late, str(i.due or "9999"), i.id))
    return Section(title, items[:SECTION_CAP], max(0, len(items) - SECTION_CAP))


def personal_digest(inp: KindInput) -> dict[str, Any]:
    """What you owe, what is owed to you, what waits for your ack, what was done and not thanked."""
    email, at = inp.notice.to, _as_of(inp)
    store = inp.lookup
    today = calendar_for(inp.config, email).local(at).date()
    # Only what the digest can show is read in full: what was open at the slot, and the
    # week's completions not thanked (their status then is checked below).
    statuses = store.statuses_as_of(store.handoff_ids_involving(email, at - RECENT), at)
    done = [hid for hid, _done, thanked in store.completions(email, at - RECENT, at) if not thanked]
    shown = {hid for hid, status in statuses.items() if status in OPEN_STATES} | set(done)
    handoffs = store.handoffs_as_of(sorted(shown & statuses.keys()), at)
    mine = [h for h in handoffs if h.owner == email and h.status in OPEN_STATES]
    asked = [h for h in handoffs if h.requester == email and h.owner != email and h.status in OPEN_STATES]
    by_id = {h.id: h for h in handoffs}
    unthanked = [by_id[hid] for hid in done if hid in by_id and by_id[hid].status == "done"]
    sections = [
        _section("Waiting for your ack", [_item(h, h.requester, today, inp) for h in mine if h.status == "open"]),
        _section("You owe", [_item(h, h.requester, today, inp) for h in mine if h.status != "open"]),
        _section("Owed to you", [_item(h, h.owner, today, inp) for h in asked]),
        _section("Done, not yet thanked", [_item(h, h.owner, today, inp) for h in unthanked]),
    ]
    # Only the commands this reader can use: `done`/`ack` for what they owe, `thanks` for
    # what was done for them; a note suits every item.
    can_do = (("done", "ack") if mine else ()) + (("thanks",) if unthanked else ()) + ("note",)
    shown_sections = [s for s in sections if s.items]
    waiting, owing = sections[0].items, sections[1].items
    firsts = {
        "done": (owing or waiting), "ack": (waiting or owing), "thanks": sections[3].items,
        "note": [i for s in shown_sections for i in s.items],
    }
    return {"sections": shown_sections, "as_of": at, "today": today, "can_do": can_do,
            "examples": _examples(can_do, {c: [i.id for i in items] for c, items in firsts.items()}),
            "names": _requester_names(handoffs)}


def _examples(can_do: tuple[str, ...], ids: dict[str, list[int]]) -> dict[str, int]:
    """The footer's sample commands name numbers that are in this email (a reader copies them)."""
    return {c: ids[c][0] for c in can_do if ids.get(c)}


def _requester_names(handoffs: list[Handoff]) -> dict[str, str]:
    """Requesters outside ``[[people]]`` by the names their forwards gave (the `person` filter)."""
    return {h.requester.lower(): h.requester_name for h in handoffs if h.requester_name}


def appreciation(inp: KindInput) -> dict[str, Any]:
    """The requester's completions of the last 7 days that nobody has thanked yet."""
    email, at = inp.notice.to, _as_of(inp)
    store = inp.lookup
    done = [hid for hid, _at, thanked in store.completions(email, at - RECENT, at) if not thanked]
    handoffs = {h.id: h for h in store.handoffs_as_of(sorted(set(done)), at)}
    items = [handoffs[hid] for hid in dict.fromkeys(done) if hid in handoffs and handoffs[hid].status == "done"]
    ids = [h.id for h in items]
    return {"items": items, "as_of": at, "can_do": ("thanks", "note"),
            "examples": _examples(("thanks", "note"), {"thanks": ids, "note": ids}), "names": _requester_names(items)}


_TOLD = {
    "created": "asked for it", "owner_assigned": "handed it to", "acknowledged": "confirmed",
    "due_changed": "moved the date", "blocked": "was blocked", "unblocked": "unblocked it",
    "reassigned": "reassigned it to", "declined": "declined it", "note": "wrote",
    "reopened": "reopened it",
}


def escalation(inp: KindInput) -> dict[str, Any]:
    """The handoff's story up to the slot: asked when, acked with what date, date changes, blocks."""
    h = inp.handoff
    assert h is not None
    at = _as_of(inp)
    lines: list[dict[str, Any]] = []
    for e in inp.lookup.events(h.id):
        if e.at is None or e.at > at or e.kind not in _TOLD:
            continue
        what = _TOLD[e.kind]
        data = e.data
        if e.kind in ("owner_assigned", "reassigned") and data.get("to"):
            person = inp.config.person_by_email(str(data["to"]))
            what = f"{what} {person.name if person else data['to']}"
        if e.kind == "due_changed":
            what = f"moved the date from {_day(data.get('from'))} to {_day(data.get('to'))}"
        if e.kind == "acknowledged":
            what = f"confirmed, due {_day(e.state.due)}"
        lines.append({"at": e.at, "actor": e.actor, "what": what, "words": e.words})
    # What nudger already did to chase it: the manager should know the owner was asked.
    for m in inp.lookup.outbox_for_handoff(h.id):
        sent = datetime.fromisoformat(m["sent"]) if m["sent"] and m["status"] == "sent" else None
        if sent is None or sent > at or m["kind"] not in _CHASES:
            continue
        person = inp.config.person_by_email(m["recipient"])
        lines.append({"at": sent, "actor": None, "words": "",
                      "what": f"{_CHASES[m['kind']]} went to {person.name if person else m['recipient']}"})
    lines.sort(key=lambda line: line["at"])
    return {"history": lines, "as_of": at}


_CHASES = {"ack_reminder": "A reminder to confirm", "due_soon": "A due-soon reminder", "overdue": "An overdue alert"}


def _day(value: Any) -> str:
    from nudger.outbound.render import human_date

    return human_date(value) if value else "-"


@dataclass(frozen=True)
class Figure:
    """One line of the team digest's table: this week beside last week."""

    label: str
    this: str
    last: str


def _shown(value: float | int | None, kind: str = "n") -> str:
    if value is None:
        return "-"
    if kind == "%":
        return f"{value * 100:.0f}%"
    if kind == "h":
        return f"{value:.1f} h"
    return str(value)


def team_digest(inp: KindInput) -> dict[str, Any]:
    """The week to the slot for one team, from the event log, each figure beside last week's."""
    from nudger.state.metrics import team_week

    at = _as_of(inp)
    team = str(inp.notice.context.get("team") or "")
    week = team_week(inp.lookup, inp.config, team, at - RECENT, at)
    last = week.previous
    rows = [
        ("Opened", "opened", "n"), ("Closed", "closed", "n"), ("Overdue now", "overdue_now", "n"),
        ("Median time to ack", "median_ack_hours", "h"), ("Median time to done", "median_done_hours", "h"),
        ("On time", "on_time_rate", "%"), ("Thanks given", "thanks_given", "n"),
        ("Done, not thanked", "done_not_thanked", "n"),
    ]
    figures = [Figure(label, _shown(getattr(week, attr), kind), _shown(getattr(last, attr), kind) if last else "-")
               for label, attr, kind in rows]
    names = inp.lookup.requester_names([who for who, _n in week.rush_by_requester])
    return {"week": week, "figures": figures, "team": team, "team_name": team_label(team), "as_of": at, "names": names}


def is_empty(kind: str, context: dict[str, Any]) -> bool:
    if kind in ("daily_digest", "weekly_digest"):
        return not context.get("sections")
    if kind == "appreciation":
        return not context.get("items")
    if kind == "team_digest":
        week = context.get("week")
        return week is None or bool(getattr(week, "is_empty", False))
    return False
