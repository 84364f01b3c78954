"""The handoff state machine: (handoff, commands, actor, now) → the handoff after, events, notices.

Pure. Creation is an operation like every command. A message's commands apply all together
or not at all: the first one that is not allowed refuses the whole message, with a reason
the person can act on. Every event carries the state it leaves the handoff in, so the
event log alone answers "what was it at time T".
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from nudger.config import Config
from nudger.core.business_time import BusinessCalendar
from nudger.core.commands import Command
from nudger.core.dates import find_due, parse_date, parse_date_prefix, snooze_until
from nudger.core.intake import HandoffPlan, find_priority
from nudger.core.records import CLOSED_STATES, Event, Handoff, Notice
from nudger.core.routing import Routing, find_mentions, resolve, route_team


@dataclass
class Outcome:
    """What applying a message (or creating a handoff) does; the store commits it whole."""

    before: Handoff | None  # None: a new handoff
    after: Handoff
    events: list[Event] = field(default_factory=list)
    notices: list[Notice] = field(default_factory=list)
    digest_choice: str | None = None
    cursor: tuple[str, int] | None = None  # (team, new round-robin position)

    @property
    def changes(self) -> dict[str, Any]:
        return self.before.differences(self.after) if self.before else {}


class Refused(Exception):
    """A command that this person may not give now; the message says why and how."""


@dataclass
class Context:
    """What a command handler may read: the config, the clock, the actor and the calendar."""

    config: Config
    now: datetime  # when the message arrived
    today: date  # the actor's own date when they wrote
    actor: str
    roles: frozenset[str]
    calendar: BusinessCalendar
    cursor_of: Mapping[str, int]

    def route(self, routing: Routing, out: Outcome) -> None:
        """Remember where a team's round robin moved to, for the store to keep."""
        if routing.cursor is not None and routing.team:
            out.cursor = (routing.team.name, routing.cursor)

    def cursor(self, team_name: str | None) -> int:
        return self.cursor_of.get(team_name, 0) if team_name else 0


Handler = Callable[[Outcome, Command, Context], None]


# --- building blocks -------------------------------------------------------------------


def _set(out: Outcome, **changes: Any) -> Handoff:
    out.after = out.after.changed(**changes)
    return out.after


def _event(out: Outcome, kind: str, words: str = "", data: Mapping[str, Any] | None = None,
           **more: Any) -> None:
    """Record ``kind`` with the state the handoff is in now (call after its changes)."""
    out.events.append(Event(kind, out.after.state, {**(data or {}), **more}, words or ""))


def _tell(out: Outcome, ctx: Context, kind: str, recipients: list[str | None], **context: Any) -> None:
    """News for each recipient, never for the person who acted (one may be owner and requester)."""
    people = [r for r in dict.fromkeys(recipients) if r and r != ctx.actor]
    for to in people:
        also = [r for r in people if r != to]
        # due_then: the date as of this command, for the `changes` email that tells each in turn
        out.notices.append(Notice(kind, to, out.after.id,
                                  context={**context, "also_told": also, "due_then": out.after.due}))


def _others(h: Handoff, ctx: Context) -> list[str | None]:
    """'The other side': requester for the owner, owner for the requester, both for a watcher."""
    out: list[str | None]
    if ctx.roles == {"manager"}:  # the person an escalation went to: their words reach the owner
        out = [h.owner]
    elif "owner" in ctx.roles:
        out = [h.requester]
    elif "requester" in ctx.roles:
        out = [h.owner]
    else:
        out = [h.owner, h.requester]
    return [e for e in out if e != ctx.actor]


def _need_open(h: Handoff, what: str) -> None:
    if not h.is_open:
        raise Refused(f"#{h.id} is {h.status}, so it can't be {what}. Reply `reopen` first if it needs more work.")


def _set_due(out: Outcome, new_due: date, words: str = "") -> None:
    old = out.after.due
    if old == new_due:
        return  # "ack friday" when it is already due Friday changes nothing
    _set(out, due=new_due)
    _event(out, "due_changed", words, data={"from": old.isoformat() if old else None, "to": new_due.isoformat()})


# --- creation --------------------------------------------------------------------------


def create(plan: HandoffPlan, ctx: Context, *, forwarded: Mapping[str, Any] | None,
           has_source: bool, notice_days: int) -> Outcome:
    """A new handoff from its plan: the `created` event holds the initial values."""
    owner = plan.owner.email if plan.owner else None
    h = Handoff(
        id=0, title=plan.title, status="open", requester=plan.requester, created=ctx.now,
        updated=ctx.now, owner=owner, team=plan.team.name if plan.team else None, due=plan.due,
        priority=plan.priority, rush=plan.rush, watchers=tuple(plan.watchers), note=plan.note,
        due_asked=plan.due_from_note, requester_name=plan.requester_name,
        forwarded=forwarded, has_source=has_source,
    )
    out = Outcome(None, h, cursor=plan.cursor)
    _event(out, "created", plan.note, reasons=plan.reasons, watchers=list(plan.watchers),
           title=plan.title)
    if owner is not None:  # the timeline shows who the requester handed it to
        _event(out, "owner_assigned", data={"by": plan.requester, "from": None, "to": owner})
    if owner is None:
        out.notices.append(Notice("no_owner", plan.requester, 0))
        return out
    out.notices.append(Notice("receipt", plan.requester, 0, context={
        "lead_days": plan.lead_days, "notice_days": notice_days,
        "also_told": [owner, *plan.watchers]}))
    out.notices.append(Notice("new_handoff", owner, 0, context={"also_told": list(plan.watchers)}))
    for watcher in plan.watchers:
        out.notices.append(Notice("new_handoff", watcher, 0, context={"also_told": [owner]}))
    return out


# --- commands --------------------------------------------------------------------------


def do_ack(out: Outcome, cmd: Command, ctx: Context) -> None:
    h = out.after
    if h.status == "blocked":
        raise Refused(f"#{h.id} is blocked. Reply `unblock` when you can go ahead.")
    _need_open(h, "acknowledged")
    _set(out, status="acknowledged")
    _event(out, "acknowledged", cmd.args, due=cmd.due.isoformat() if cmd.due else None)
    if cmd.due:
        _set_due(out, cmd.due)
    moved = cmd.due is not None and cmd.due != h.due
    _tell(out, ctx, "acknowledged", [h.requester], words=_beyond_the_date(cmd, ctx),
          new_due=cmd.due if moved else None, old_due=h.due if moved else None)


def _beyond_the_date(cmd: Command, ctx: Context) -> str:
    """What an ``ack <date>`` or ``due <date>`` says besides its date: "friday" alone is not
    words to relay, "friday\nsorry, month-end close" is."""
    if not cmd.due:
        return cmd.args
    order = ctx.config.org.date_order
    if parse_date(cmd.args, ctx.today, ctx.calendar, order) == cmd.due:
        return ""
    found = parse_date_prefix(cmd.args, ctx.today, ctx.calendar, order)
    if found and found[0] == cmd.due:
        return found[1].rstrip(" \t,;:-\u2013\u2014")  # their own full stop is kept
    return cmd.args


def do_done(out: Outcome, cmd: Command, ctx: Context) -> None:
    h = out.after
    _need_open(h, "marked done")
    _set(out, status="done", blocked_reason=None, prev_status=None)
    _event(out, "done", cmd.args)
    _tell(out, ctx, "done", [h.requester, *[w for w in h.watchers if w != ctx.actor]], words=cmd.args)
    for notice in out.notices:
        if notice.kind == "done" and notice.to == h.requester:
            notice.context["prompt_thanks"] = True


def do_due(out: Outcome, cmd: Command, ctx: Context) -> None:
    h = out.after
    _need_open(h, "given a new date")
    if cmd.name == "snooze":
        new_due = snooze_until(cmd.args, h.due, ctx.today, ctx.calendar)
        if new_due is None:
            raise Refused(cmd.error or f"I could not read {cmd.args!r} as a snooze. Try `snooze 3d` or `snooze 1w`.")
    else:
        new_due = cmd.due
        if new_due is None:
            raise Refused(
                cmd.error
                or f"I could not read {cmd.args!r} as a date. Try `due friday`, `due 12/4` or `due 2026-12-04`."
            )
    if new_due == h.due:
        return  # nothing moved: nobody needs to hear about it
    _set_due(out, new_due, cmd.args)
    if "requester" in ctx.roles:
        _set(out, due_asked=True)
    told = [h.owner, h.requester] if ctx.roles == {"manager"} else _others(h, ctx)
    words = _beyond_the_date(cmd, ctx) if cmd.name != "snooze" else ""
    _tell(out, ctx, "due_changed", told, new_due=new_due, old_due=h.due, words=words)


def do_blocked(out: Outcome, cmd: Command, ctx: Context) -> None:
    h = out.after
    if h.status == "blocked":
        raise Refused(f"#{h.id} is already blocked ({h.blocked_reason or 'no reason given'}).")
    _need_open(h, "blocked")
    _set(out, prev_status=h.status, status="blocked", blocked_reason=cmd.args or None)
    _event(out, "blocked", cmd.args, was=h.status)
    _tell(out, ctx, "blocked", [h.requester, *h.watchers], reason=cmd.args)


def do_unblock(out: Outcome, cmd: Command, ctx: Context) -> None:
    h = out.after
    if h.status != "blocked":
        raise Refused(f"#{h.id} is not blocked; it is {h.status}.")
    back_to = h.prev_status or "open"
    _set(out, status=back_to, prev_status=None, blocked_reason=None)
    _event(out, "unblocked", cmd.args, to=back_to)
    _tell(out, ctx, "unblocked", [h.requester], words=cmd.args)


def do_reassign(out: Outcome, cmd: Command, ctx: Context) -> None:
    h = out.after
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
    routing = resolve(first, ctx.config, ctx.cursor(first.team.name if first.team else None),
                      frozenset({h.owner or ""}))
    if routing.owner is None:
        raise Refused(f"{first.text} has no one to route to.")
    ctx.route(routing, out)
    _hand_over(out, ctx, routing.owner.email, routing.team.name if routing.team else h.team, "reassigned", cmd.args)


def do_decline(out: Outcome, cmd: Command, ctx: Context) -> None:
    h = out.after
    _need_open(h, "declined")
    team = ctx.config.team_named(h.team) if h.team else None
    if team:
        routing = route_team(team, ctx.config, ctx.cursor(team.name), frozenset({h.owner or "", ctx.actor}))
        ctx.route(routing, out)
        if routing.owner:
            _hand_over(out, ctx, routing.owner.email, team.name, "declined", cmd.args)
            return
    _set(out, owner=None, status="open", prev_status=None, blocked_reason=None)
    _event(out, "declined", cmd.args, data={"by": ctx.actor, "from": h.owner, "to": None, "was": h.status})
    _tell(out, ctx, "declined", [e for e in (h.requester, h.owner) if e != ctx.actor], reason=cmd.args,
          back_to_requester=True)


def _hand_over(out: Outcome, ctx: Context, new_owner: str, team: str | None, why: str, words: str) -> None:
    h = out.after
    watchers = tuple(w for w in h.watchers if w != new_owner)
    _set(out, owner=new_owner, team=team, status="open", prev_status=None, blocked_reason=None,
         watchers=watchers)
    _event(out, why, words, data={"by": ctx.actor, "from": h.owner, "to": new_owner, "was": h.status,
                               "team_from": h.team})
    out.notices.append(Notice("new_handoff", new_owner, h.id,
                              context={"why": why, "by": ctx.actor, "words": words, "also_told": []}))
    _tell(out, ctx, why, [e for e in (h.requester, h.owner) if e not in (ctx.actor, new_owner)],
          words=words, new_owner=new_owner)


def do_cancel(out: Outcome, cmd: Command, ctx: Context) -> None:
    h = out.after
    _need_open(h, "cancelled")
    _set(out, status="cancelled", prev_status=None, blocked_reason=None)
    _event(out, "cancelled", cmd.args, was=h.status)
    _tell(out, ctx, "cancelled", [h.owner], reason=cmd.args)


def do_reopen(out: Outcome, cmd: Command, ctx: Context) -> None:
    h = out.after
    if h.status not in CLOSED_STATES:
        raise Refused(f"#{h.id} is still {h.status}; only a done or cancelled handoff can be reopened.")
    # A date that passed while it was closed is no commitment: the team's turnaround from
    # today, so a reopened handoff is not overdue (and escalated) the morning after.
    due = h.due
    if due is not None and due < ctx.today:
        team = ctx.config.team_named(h.team) if h.team else None
        due = ctx.calendar.add_business_days(ctx.today, team.turnaround_days if team else 3)
    moved = due != h.due
    _set(out, status="open", prev_status=None, due=due, rush=h.rush and not moved)
    data: dict[str, Any] = {"was": h.status}
    if moved and h.due and due:
        data.update(due_from=h.due.isoformat(), due_to=due.isoformat())
    _event(out, "reopened", cmd.args, data=data)
    _tell(out, ctx, "reopened", [h.owner], reason=cmd.args, due_was=h.due if moved else None)


def do_thanks(out: Outcome, cmd: Command, ctx: Context) -> None:
    h = out.after
    if not h.owner:
        raise Refused(f"#{h.id} has no owner yet, so there is no one to thank.")
    # Relayed as written ("Thanks Dana, you saved the deal!"), but a prompt's `thanks #3 <your
    # words>` relays the words, and a bare `thanks` none (the email says thank you itself).
    words = "" if not cmd.args.strip(" !.") else cmd.args if cmd.ref is not None else (cmd.raw or cmd.args)
    _event(out, "thanked", words, to=h.owner)
    _tell(out, ctx, "thanks", [h.owner], words=words)


def do_note(out: Outcome, cmd: Command, ctx: Context) -> None:
    _event(out, "note", cmd.args)
    _tell(out, ctx, "note", _others(out.after, ctx), words=cmd.args)


def do_status(out: Outcome, cmd: Command, ctx: Context) -> None:
    out.notices.append(Notice("status", ctx.actor, out.after.id))


def do_help(out: Outcome, cmd: Command, ctx: Context) -> None:
    out.notices.append(Notice("help", ctx.actor, out.after.id))


DIGEST_CHOICES = {"daily": "daily", "weekly": "weekly", "no_digest": "none"}


def do_digest(out: Outcome, cmd: Command, ctx: Context) -> None:
    choice = DIGEST_CHOICES[cmd.name]
    out.digest_choice = choice
    out.notices.append(Notice("digest_choice", ctx.actor, out.after.id, context={"choice": choice}))


ANYONE = frozenset({"requester", "owner", "watcher"})
# name: (who may, handler). "anyone" commands still need the sender to be on the handoff,
# except status/help/digest choices, which only need an allowed domain (checked earlier).
COMMANDS: dict[str, tuple[frozenset[str] | None, Handler]] = {
    "ack": (frozenset({"owner"}), do_ack),
    "done": (frozenset({"owner"}), do_done),
    "due": (frozenset({"owner", "requester", "manager"}), do_due),
    "snooze": (frozenset({"owner", "requester", "manager"}), do_due),
    "blocked": (frozenset({"owner"}), do_blocked),
    "unblock": (frozenset({"owner"}), do_unblock),
    "reassign": (frozenset({"owner", "requester", "manager"}), do_reassign),
    "decline": (frozenset({"owner", "requester"}), do_decline),
    "cancel": (frozenset({"requester"}), do_cancel),
    "reopen": (frozenset({"requester"}), do_reopen),
    "thanks": (frozenset({"requester", "watcher"}), do_thanks),
    "note": (ANYONE | {"manager"}, do_note),
    "status": (None, do_status),
    "help": (None, do_help),
    "daily": (None, do_digest),
    "weekly": (None, do_digest),
    "no_digest": (None, do_digest),
}

_ROLE_WORDS = {"owner": "the owner", "requester": "the requester", "watcher": "a watcher",
               "manager": "the person it was escalated to"}
_ROLE_ORDER = ("owner", "requester", "watcher", "manager")


def apply_commands(handoff: Handoff, commands: list[Command], ctx: Context) -> Outcome:
    """Apply every command in order; raise Refused if any is not allowed (nothing applies)."""
    out = Outcome(handoff, handoff)
    for cmd in commands:
        allowed, handler = COMMANDS[cmd.name]
        if allowed is not None and not (allowed & ctx.roles):
            who = " or ".join(_ROLE_WORDS[r] for r in _ROLE_ORDER if r in allowed and r != "manager")
            also = " (or the person it was escalated to)" if "manager" in allowed else ""
            you = ", ".join(_ROLE_WORDS[r] for r in _ROLE_ORDER if r in ctx.roles) or "not on this handoff"
            raise Refused(f"`{cmd.name}` is for {who} of #{handoff.id}{also}; you are {you}.")
        handler(out, cmd, ctx)
    if out.after != handoff:
        _set(out, updated=ctx.now)
    out.notices = one_email_each(out.notices)
    _calendar_follows(out, handoff, ctx)
    return out


def _calendar_follows(out: Outcome, before: Handoff, ctx: Context) -> None:
    """A reply that moved the date moves the owner's calendar entry too, whoever wrote it.

    The entry rides on an email the owner gets from this reply anyway (the requester's
    `due`, their own `status` answer), so a reply is still one email to each person; when
    the owner gets none (they moved the date themselves: `ack friday`, `due 12/4`), a short
    ``calendar_update`` answer confirms the new date and carries the entry. A new owner's
    notice carries it already."""
    after = out.after
    if before.owner and after.owner != before.owner:
        # Someone else took it from the owner (reassign, decline): the news to them removes
        # their entry; the new owner's notice brings one of their own.
        for n in out.notices:
            if n.to == before.owner and n.handoff_id == after.id and n.kind in NEWS | {"changes"}:
                n.context["calendar_cancel"] = True
        return
    if after.due == before.due or not after.owner or not after.is_open:
        return
    theirs = [n for n in out.notices if n.to == after.owner and n.handoff_id == after.id]
    for n in theirs:
        n.context["date_moved"] = True
    if theirs:
        return
    told = list(dict.fromkeys(n.to for n in out.notices if n.kind in NEWS | {"changes"} and n.to != after.owner))
    acked = before.status != "acknowledged" and after.status == "acknowledged"
    out.notices.append(Notice("calendar_update", after.owner, after.id, context={
        "old_due": before.due, "new_due": after.due, "acked": acked, "also_told": told, "date_moved": True}))


# What `_tell` sends the other side: several of these to one person from one reply are one email.
NEWS = frozenset({"acknowledged", "done", "blocked", "unblocked", "due_changed", "reassigned", "declined",
                  "cancelled", "reopened", "thanks", "note"})


def one_email_each(notices: list[Notice]) -> list[Notice]:
    """One reply, one email to each person about each handoff: the news of several commands
    (`unblock`, then `ack friday`) goes as one ``changes`` notice whose ``parts`` are the
    notices it replaces, in order, each person told of once; `status` and `help` together
    are one status answer with the list of commands under it."""
    asked = {kind: {(n.to, n.handoff_id) for n in notices if n.kind == kind} for kind in ("status", "help")}
    for n in notices:  # `status` and `help` in one reply: one answer with both
        if n.kind == "status" and (n.to, n.handoff_id) in asked["help"]:
            n.context["with_help"] = True
    notices = [n for n in notices if not (n.kind == "help" and (n.to, n.handoff_id) in asked["status"])]
    groups: dict[tuple[str, int | None], list[Notice]] = {}
    for n in notices:
        if n.kind in NEWS:
            groups.setdefault((n.to, n.handoff_id), []).append(n)
    out: list[Notice] = []
    for n in notices:
        group = groups.get((n.to, n.handoff_id), []) if n.kind in NEWS else []
        if len(group) < 2:
            out.append(n)
        elif n is group[0]:
            told = list(dict.fromkeys(e for g in group for e in g.context.get("also_told") or []))
            parts = [Notice(g.kind, g.to, g.handoff_id, context={k: v for k, v in g.context.items()
                                                                   if k != "also_told"}) for g in group]
            out.append(Notice("changes", n.to, n.handoff_id, context={"parts": parts, "also_told": told}))
    return out


def owner_from_answer(handoff: Handoff, text: str, ctx: Context) -> Outcome | None:
    """The requester answers 'who should take this?' with an @mention: the handoff is complete.

    The answer reads like a first note ("@dana due 12/10, priority: high"): a date, rush
    and priority given in it change the handoff too, each as an event of its own.
    """
    if handoff.owner or "requester" not in ctx.roles or not handoff.is_open:
        return None
    mentions = find_mentions(text, ctx.config)
    if not mentions:
        return None
    first = mentions[0]
    routing = resolve(first, ctx.config, ctx.cursor(first.team.name if first.team else None))
    if routing.owner is None:
        return None
    out = Outcome(handoff, handoff)
    ctx.route(routing, out)
    owner = routing.owner.email
    _set(out, owner=owner, team=routing.team.name if routing.team else None,
         watchers=tuple(w for w in handoff.watchers if w != owner))
    _event(out, "owner_assigned", text, data={"by": ctx.actor, "from": None, "to": owner})
    due = find_due(text, ctx.today, ctx.calendar, ctx.config.org.date_order)
    if due:
        _set_due(out, due)
        _set(out, due_asked=True)
    if out.after.due and out.after.due_asked:
        # A date the requester asked for, now measured against the lead time of the team
        # that takes it (the first note's date too: there was no team to measure it by).
        lead = routing.team.min_lead_days if routing.team else 0
        received = ctx.calendar.local(handoff.created).date()
        rush = bool(lead) and ctx.calendar.business_days_between(received, out.after.due) < lead
        if rush != out.after.rush:
            _set(out, rush=rush)
            _event(out, "rush_changed", data={"from": handoff.rush, "to": rush, "lead_days": lead})
    if (priority := find_priority(text, "")) and priority != out.after.priority:
        old = out.after.priority
        _set(out, priority=priority)
        _event(out, "priority_changed", data={"from": old, "to": priority})
    _set(out, updated=ctx.now)
    watchers = [w for w in out.after.watchers if w != ctx.actor]
    out.notices.append(Notice("new_handoff", owner, handoff.id, context={"also_told": [handoff.requester, *watchers]}))
    for watcher in watchers:  # watchers get the new-handoff notice once someone owns it
        out.notices.append(Notice("new_handoff", watcher, handoff.id, context={"also_told": [owner]}))
    out.notices.append(Notice("owner_assigned", handoff.requester, handoff.id, context={"new_owner": owner}))
    return out


