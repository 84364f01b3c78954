"""The handoff state machine: (handoff, commands, actor, now) → changes, events and notices.

Pure. A message's commands apply all together or not at all: the first one that is not
allowed refuses the whole message, with a reason the person can act on.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from nudger.config import Config
from nudger.core.business_time import BusinessCalendar
from nudger.core.commands import Command
from nudger.core.dates import find_due, snooze_until
from nudger.core.intake import find_priority
from nudger.core.routing import find_mentions, resolve, route_team

OPEN_STATES = ("open", "acknowledged", "blocked")
CLOSED_STATES = ("done", "cancelled")


@dataclass
class Notice:
    """One email to one person, before rendering."""

    kind: str
    to: str
    handoff_id: int | None = None
    answer: bool = False  # the answer to a person's own message: sent at once, any hour
    context: dict[str, Any] = field(default_factory=dict)


@dataclass
class Outcome:
    changes: dict[str, Any] = field(default_factory=dict)
    events: list[tuple[str, dict[str, Any]]] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    digest_choice: str | None = None
    cursor: tuple[str, int] | None = None


class Refused(Exception):
    """A command that this person may not give now; the message says why and how."""


def roles_of(handoff: dict[str, Any], email: str) -> set[str]:
    email = email.lower()
    roles = set()
    if email == (handoff.get("requester") or "").lower():
        roles.add("requester")
    if email == (handoff.get("owner") or "").lower():
        roles.add("owner")
    if email in [w.lower() for w in handoff.get("watchers") or []]:
        roles.add("watcher")
    return roles


@dataclass
class Context:
    """What a command handler may read: the config, the clock, the actor and the calendar."""

    config: Config
    now: datetime
    today: date
    actor: str
    roles: set[str]
    calendar: BusinessCalendar
    cursor_of: dict[str, int]


Handler = Callable[[dict[str, Any], Command, Context, Outcome], None]


def _others(h: dict[str, Any], ctx: Context) -> list[str]:
    """'The other side': requester for the owner, owner for the requester, both for a watcher."""
    if "owner" in ctx.roles:
        out = [h["requester"]]
    elif "requester" in ctx.roles:
        out = [h.get("owner")]
    else:
        out = [h.get("owner"), h["requester"]]
    return [e for e in dict.fromkeys(out) if e and e != ctx.actor]


def _tell(out: Outcome, kind: str, recipients: list[str], h: dict[str, Any], **context: Any) -> None:
    recipients = [r for r in dict.fromkeys(recipients) if r]
    for to in recipients:
        also = [r for r in recipients if r != to]
        out.notices.append(Notice(kind, to, h["id"], context={**context, "also_told": also}))


def _set(h: dict[str, Any], out: Outcome, **changes: Any) -> None:
    h.update(changes)
    out.changes.update(changes)


def _need_open(h: dict[str, Any], what: str) -> None:
    if h["status"] not in OPEN_STATES:
        raise Refused(f"#{h['id']} is {h['status']}, so it can't be {what}. Reply `reopen` first if it needs more work.")


def _set_due(h: dict[str, Any], out: Outcome, new_due: date, ctx: Context) -> None:
    old = h.get("due")
    if old == new_due.isoformat():
        return  # "ack friday" when it is already due Friday changes nothing
    _set(h, out, due=new_due.isoformat())
    out.events.append(("due_changed", {"from": old, "to": new_due.isoformat()}))


def do_ack(h: dict, cmd: Command, ctx: Context, out: Outcome) -> None:
    if h["status"] == "blocked":
        raise Refused(f"#{h['id']} is blocked. Reply `unblock` when you can go ahead.")
    _need_open(h, "acknowledged")
    _set(h, out, status="acknowledged")
    out.events.append(("acknowledged", {"args": cmd.args}))
    if cmd.due:
        _set_due(h, out, cmd.due, ctx)
    _tell(out, "acknowledged", [h["requester"]], h, words=cmd.args, new_due=cmd.due)


def do_done(h: dict, cmd: Command, ctx: Context, out: Outcome) -> None:
    _need_open(h, "marked done")
    _set(h, out, status="done", blocked_reason=None)
    out.events.append(("done", {"note": cmd.args}))
    told = [h["requester"], *[w for w in h["watchers"] if w != ctx.actor]]
    _tell(out, "done", told, h, words=cmd.args)
    for notice in out.notices:
        if notice.kind == "done" and notice.to == h["requester"]:
            notice.context["prompt_thanks"] = True


def do_due(h: dict, cmd: Command, ctx: Context, out: Outcome) -> None:
    _need_open(h, "given a new date")
    if cmd.name == "snooze":
        current = date.fromisoformat(h["due"]) if h.get("due") else None
        new_due = snooze_until(cmd.args, current, ctx.today, ctx.calendar)
        if new_due is None:
            raise Refused(cmd.error or f"I could not read {cmd.args!r} as a snooze. Try `snooze 3d` or `snooze 1w`.")
    else:
        new_due = cmd.due
        if new_due is None:
            raise Refused(
                cmd.error or f"I could not read {cmd.args!r} as a date. Try `due friday`, `due 12/4` or `due 2026-12-04`."
            )
    _set_due(h, out, new_due, ctx)
    _tell(out, "due_changed", _others(h, ctx), h, new_due=new_due, words=cmd.args)


def do_blocked(h: dict, cmd: Command, ctx: Context, out: Outcome) -> None:
    if h["status"] == "blocked":
        raise Refused(f"#{h['id']} is already blocked ({h.get('blocked_reason') or 'no reason given'}).")
    _need_open(h, "blocked")
    _set(h, out, prev_status=h["status"], status="blocked", blocked_reason=cmd.args or None)
    out.events.append(("blocked", {"reason": cmd.args}))
    _tell(out, "blocked", [h["requester"], *h["watchers"]], h, reason=cmd.args)


def do_unblock(h: dict, cmd: Command, ctx: Context, out: Outcome) -> None:
    if h["status"] != "blocked":
        raise Refused(f"#{h['id']} is not blocked; it is {h['status']}.")
    _set(h, out, status=h.get("prev_status") or "open", prev_status=None, blocked_reason=None)
    out.events.append(("unblocked", {"note": cmd.args}))
    _tell(out, "unblocked", [h["requester"]], h, words=cmd.args)


def do_reassign(h: dict, cmd: Command, ctx: Context, out: Outcome) -> None:
    _need_open(h, "reassigned")
    mentions = find_mentions(cmd.args, ctx.config)
    if not mentions and cmd.target:
        mentions = find_mentions("@" + cmd.target.lstrip("@"), ctx.config)
    if not mentions:
        raise Refused(
            f"I don't know who {cmd.target!r} is. Say `reassign @handle` or `reassign @team`."
            if cmd.target else "Say who should take it: `reassign @handle` or `reassign @team`."
        )
    first = mentions[0]
    cursor = ctx.cursor_of.get(first.team.name, 0) if first.team else 0
    routing = resolve(first, ctx.config, cursor, frozenset({h.get("owner") or ""}))
    if routing.owner is None:
        raise Refused(f"{first.text} has no one to route to.")
    if routing.cursor is not None and routing.team:
        out.cursor = (routing.team.name, routing.cursor)
    _hand_over(h, out, ctx, routing.owner.email, routing.team.name if routing.team else h.get("team"), "reassigned", cmd.args)


def do_decline(h: dict, cmd: Command, ctx: Context, out: Outcome) -> None:
    _need_open(h, "declined")
    team = ctx.config.team_named(h["team"]) if h.get("team") else None
    routing = None
    if team:
        cursor = ctx.cursor_of.get(team.name, 0)
        exclude = frozenset({h.get("owner") or "", ctx.actor})
        routing = route_team(team, ctx.config, cursor, exclude)
        if routing.cursor is not None:
            out.cursor = (team.name, routing.cursor)
    if routing and routing.owner:
        _hand_over(h, out, ctx, routing.owner.email, team.name if team else None, "declined", cmd.args)
        return
    old_owner = h.get("owner")
    _set(h, out, owner=None, status="open", prev_status=None, blocked_reason=None)
    out.events.append(("declined", {"by": ctx.actor, "reason": cmd.args, "to": None}))
    _tell(out, "declined", [e for e in (h["requester"], old_owner) if e != ctx.actor], h, reason=cmd.args, back_to_requester=True)


def _hand_over(h: dict, out: Outcome, ctx: Context, new_owner: str, team: str | None, why: str, words: str) -> None:
    old_owner = h.get("owner")
    watchers = [w for w in h["watchers"] if w != new_owner]
    _set(h, out, owner=new_owner, team=team, status="open", prev_status=None, blocked_reason=None,
         watchers=watchers)
    out.events.append((why, {"by": ctx.actor, "from": old_owner, "to": new_owner, "words": words}))
    out.notices.append(Notice("new_handoff", new_owner, h["id"], context={"why": why, "by": ctx.actor, "words": words, "also_told": []}))
    told = [e for e in (h["requester"], old_owner) if e and e not in (ctx.actor, new_owner)]
    _tell(out, why, told, h, words=words, new_owner=new_owner)


def do_cancel(h: dict, cmd: Command, ctx: Context, out: Outcome) -> None:
    _need_open(h, "cancelled")
    _set(h, out, status="cancelled", prev_status=None, blocked_reason=None)
    out.events.append(("cancelled", {"reason": cmd.args}))
    _tell(out, "cancelled", [h.get("owner"), *h["watchers"]], h, reason=cmd.args)


def do_reopen(h: dict, cmd: Command, ctx: Context, out: Outcome) -> None:
    if h["status"] not in CLOSED_STATES:
        raise Refused(f"#{h['id']} is still {h['status']}; only a done or cancelled handoff can be reopened.")
    _set(h, out, status="open", prev_status=None)
    out.events.append(("reopened", {"reason": cmd.args}))
    _tell(out, "reopened", [h.get("owner")], h, reason=cmd.args)


def do_thanks(h: dict, cmd: Command, ctx: Context, out: Outcome) -> None:
    if not h.get("owner"):
        raise Refused(f"#{h['id']} has no owner yet, so there is no one to thank.")
    words = cmd.raw or cmd.args  # relayed as written: "Thanks Dana, you saved the deal!"
    out.events.append(("thanked", {"words": words}))
    _tell(out, "thanks", [h["owner"]], h, words=words)


def do_note(h: dict, cmd: Command, ctx: Context, out: Outcome) -> None:
    out.events.append(("note", {"text": cmd.args}))
    _tell(out, "note", _others(h, ctx), h, words=cmd.args)


def do_status(h: dict, cmd: Command, ctx: Context, out: Outcome) -> None:
    out.notices.append(Notice("status", ctx.actor, h.get("id"), answer=True))


def do_help(h: dict, cmd: Command, ctx: Context, out: Outcome) -> None:
    out.notices.append(Notice("help", ctx.actor, h.get("id"), answer=True))


DIGEST_CHOICES = {"daily": "daily", "weekly": "weekly", "no_digest": "none"}


def do_digest(h: dict, cmd: Command, ctx: Context, out: Outcome) -> None:
    choice = DIGEST_CHOICES[cmd.name]
    out.digest_choice = choice
    out.notices.append(Notice("digest_choice", ctx.actor, h.get("id"), answer=True, context={"choice": choice}))


ANYONE = {"requester", "owner", "watcher"}
# name: (who may, handler). "anyone" commands still need the sender to be on the handoff,
# except status/help/digest choices, which only need an allowed domain (checked earlier).
COMMANDS: dict[str, tuple[set[str] | None, Handler]] = {
    "ack": ({"owner"}, do_ack),
    "done": ({"owner"}, do_done),
    "due": ({"owner", "requester"}, do_due),
    "snooze": ({"owner", "requester"}, do_due),
    "blocked": ({"owner"}, do_blocked),
    "unblock": ({"owner"}, do_unblock),
    "reassign": ({"owner", "requester"}, do_reassign),
    "decline": ({"owner", "requester"}, do_decline),
    "cancel": ({"requester"}, do_cancel),
    "reopen": ({"requester"}, do_reopen),
    "thanks": ({"requester", "watcher"}, do_thanks),
    "note": (ANYONE, do_note),
    "status": (None, do_status),
    "help": (None, do_help),
    "daily": (None, do_digest),
    "weekly": (None, do_digest),
    "no_digest": (None, do_digest),
}

_ROLE_WORDS = {"owner": "the owner", "requester": "the requester", "watcher": "a watcher"}


def apply_commands(handoff: dict[str, Any], commands: list[Command], ctx: Context) -> Outcome:
    """Apply every command to a copy of the handoff; raise Refused if any is not allowed."""
    h = dict(handoff)
    h["watchers"] = list(h.get("watchers") or [])
    out = Outcome()
    for cmd in commands:
        allowed, handler = COMMANDS[cmd.name]
        if allowed is not None and not (allowed & ctx.roles):
            who = " or ".join(_ROLE_WORDS[r] for r in sorted(allowed))
            you = ", ".join(_ROLE_WORDS[r] for r in sorted(ctx.roles)) or "not on this handoff"
            raise Refused(f"`{cmd.name}` is for {who} of #{h['id']}; you are {you}.")
        handler(h, cmd, ctx, out)
    return out


def owner_from_answer(handoff: dict[str, Any], text: str, ctx: Context) -> Outcome | None:
    """The requester answers 'who should take this?' with an @mention: the handoff is complete."""
    if handoff.get("owner") or "requester" not in ctx.roles or handoff["status"] not in OPEN_STATES:
        return None
    mentions = find_mentions(text, ctx.config)
    if not mentions:
        return None
    first = mentions[0]
    cursor = ctx.cursor_of.get(first.team.name, 0) if first.team else 0
    routing = resolve(first, ctx.config, cursor)
    if routing.owner is None:
        return None
    h = dict(handoff)
    h["watchers"] = list(h.get("watchers") or [])
    out = Outcome()
    if routing.cursor is not None and routing.team:
        out.cursor = (routing.team.name, routing.cursor)
    team = routing.team.name if routing.team else None
    watchers = [w for w in h["watchers"] if w != routing.owner.email]
    _set(h, out, owner=routing.owner.email, team=team, watchers=watchers)
    out.events.append(("owner_assigned", {"by": ctx.actor, "to": routing.owner.email}))
    # The answer is a note like the first one: "@dana due 12/10, priority: high".
    due = find_due(text, ctx.today, ctx.calendar, ctx.config.org.date_order)
    if due:
        _set_due(h, out, due, ctx)
        lead = routing.team.min_lead_days if routing.team else 0
        received = ctx.calendar.local(datetime.fromisoformat(h["created"])).date()
        _set(h, out, rush=bool(lead) and ctx.calendar.business_days_between(received, due) < lead)
    if priority := find_priority(text, ""):
        _set(h, out, priority=priority)
    out.notices.append(Notice("new_handoff", routing.owner.email, h["id"], context={"also_told": [h["requester"]]}))
    out.notices.append(Notice("owner_assigned", h["requester"], h["id"], answer=True, context={"new_owner": routing.owner.email}))
    return out
