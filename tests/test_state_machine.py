"""The handoff state machine, table by table: who may give which command, what each command
does from each status, the events it records (with the state after each) and who is told.

Every expected value below is written out from DESIGN.md ("Replies: commands by email", its
"who" column and "States"), never computed from ``nudger.core.handoffs.COMMANDS``.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime, timedelta

import pytest
from conftest import ORG_TOML

from nudger.config import config_from_dict
from nudger.core.calendars import calendar_for
from nudger.core.commands import Command
from nudger.core.handoffs import (
    COMMANDS,
    Context,
    Outcome,
    Refused,
    apply_commands,
    create,
    owner_from_answer,
)
from nudger.core.intake import HandoffPlan
from nudger.core.records import Handoff, HandoffState

CONFIG = config_from_dict(tomllib.loads(ORG_TOML), env={})
_LEGAL = tomllib.loads(ORG_TOML)
_LEGAL["teams"]["legal"] = {"lead": "lee", "members": ["lee"]}
LEGAL_CONFIG = config_from_dict(_LEGAL, env={})  # a team whose only person is lee

NOW = datetime(2026, 11, 23, 17, 0, tzinfo=UTC)  # Monday 11:00 in Chicago, 12:00 in New York
TODAY = date(2026, 11, 23)
FRIDAY = date(2026, 11, 27)
DEC_1 = date(2026, 12, 1)
DEC_2 = date(2026, 12, 2)
DEC_4 = date(2026, 12, 4)
DEC_10 = date(2026, 12, 10)

SAM = "sam@acme.test"  # the requester (sales)
DANA = "dana@acme.test"  # the owner (accounting's lead)
LEE = "lee@acme.test"  # accounting member, support member
MARIA = "maria@acme.test"  # the watcher (sales lead)
PAT = "pat@acme.test"  # in the allowed domain, on nothing

OPEN, ACK, BLOCKED, DONE, CANCELLED = "open", "acknowledged", "blocked", "done", "cancelled"
STATUSES = (OPEN, ACK, BLOCKED, DONE, CANCELLED)
R = Refused
Y, N = True, False

# One sample of each command, as parse_commands would give it.
CMD = {
    "ack": Command("ack", ""),
    "done": Command("done", "sent it", raw="done sent it"),
    "due": Command("due", "12/4", due=DEC_4),
    "snooze": Command("snooze", "3d"),
    "blocked": Command("blocked", "waiting on the CFO"),
    "unblock": Command("unblock", ""),
    "reassign": Command("reassign", "@lee"),
    "decline": Command("decline", "not mine"),
    "cancel": Command("cancel", "deal lost"),
    "reopen": Command("reopen", "they came back"),
    "thanks": Command("thanks", "you saved the deal", raw="Thanks, you saved the deal"),
    "note": Command("note", "they called again"),
    "status": Command("status", ""),
    "help": Command("help", ""),
    "daily": Command("daily", ""),
    "weekly": Command("weekly", ""),
    "no_digest": Command("no_digest", ""),
}

# DESIGN.md's "who" column, written out. "none": someone in the allowed domains who is not
# on the handoff; "both": one person who is the owner and the requester.
#   command       who may (as the refusal says it)              owner requester watcher none both
PERMISSIONS = [
    ("ack", "the owner",                                        Y, N, N, N, Y),
    ("done", "the owner",                                       Y, N, N, N, Y),
    ("due", "the owner or the requester",                       Y, Y, N, N, Y),
    ("snooze", "the owner or the requester",                    Y, Y, N, N, Y),
    ("blocked", "the owner",                                    Y, N, N, N, Y),
    ("unblock", "the owner",                                    Y, N, N, N, Y),
    ("reassign", "the owner or the requester",                  Y, Y, N, N, Y),
    ("decline", "the owner or the requester",                   Y, Y, N, N, Y),
    ("cancel", "the requester",                                 N, Y, N, N, Y),
    ("reopen", "the requester",                                 N, Y, N, N, Y),
    ("thanks", "the requester or a watcher",                    N, Y, Y, N, Y),
    ("note", "the owner or the requester or a watcher",         Y, Y, Y, N, Y),
    ("status", None,                                            Y, Y, Y, Y, Y),
    ("help", None,                                              Y, Y, Y, Y, Y),
    ("daily", None,                                             Y, Y, Y, Y, Y),
    ("weekly", None,                                            Y, Y, Y, Y, Y),
    ("no_digest", None,                                         Y, Y, Y, Y, Y),
]  # fmt: skip
ROLE_COLUMNS = ("owner", "requester", "watcher", "none", "both")
YOU_ARE = {
    "owner": "you are the owner",
    "requester": "you are the requester",
    "watcher": "you are a watcher",
    "none": "you are not on this handoff",
}

# DESIGN.md "States", written out: the status after each command from each status.
#               from: open       acknowledged  blocked*  done  cancelled   (*blocked from acknowledged)
TRANSITIONS = {
    "ack":       (ACK,       ACK,       R,         R,    R),
    "done":      (DONE,      DONE,      DONE,      R,    R),
    "due":       (OPEN,      ACK,       BLOCKED,   R,    R),
    "snooze":    (OPEN,      ACK,       BLOCKED,   R,    R),
    "blocked":   (BLOCKED,   BLOCKED,   R,         R,    R),
    "unblock":   (R,         R,         ACK,       R,    R),
    "reassign":  (OPEN,      OPEN,      OPEN,      R,    R),
    "decline":   (OPEN,      OPEN,      OPEN,      R,    R),
    "cancel":    (CANCELLED, CANCELLED, CANCELLED, R,    R),
    "reopen":    (R,         R,         R,         OPEN, OPEN),
    "thanks":    (OPEN,      ACK,       BLOCKED,   DONE, CANCELLED),
    "note":      (OPEN,      ACK,       BLOCKED,   DONE, CANCELLED),
    "status":    (OPEN,      ACK,       BLOCKED,   DONE, CANCELLED),
    "help":      (OPEN,      ACK,       BLOCKED,   DONE, CANCELLED),
    "daily":     (OPEN,      ACK,       BLOCKED,   DONE, CANCELLED),
    "weekly":    (OPEN,      ACK,       BLOCKED,   DONE, CANCELLED),
    "no_digest": (OPEN,      ACK,       BLOCKED,   DONE, CANCELLED),
}  # fmt: skip

# A status each command can be given from (the permission tests need an allowed command to work).
START = {"unblock": BLOCKED, "reopen": DONE}
# Commands that answer the sender only: their mail goes to the actor by design.
ANSWER_KINDS = {"status", "help", "digest_choice", "calendar_update"}


def make_handoff(status: str = OPEN, **changes) -> Handoff:
    """#7: Sam handed the W-9 to Dana (accounting), due Friday; Maria watches."""
    h = Handoff(
        id=7, title="W-9 for Initech", status=status, requester=SAM,
        created=NOW - timedelta(hours=2), updated=NOW - timedelta(hours=2), owner=DANA,
        team="accounting", due=FRIDAY, watchers=(MARIA,),
    )
    if status == BLOCKED:
        h = h.changed(prev_status=ACK, blocked_reason="waiting on the CFO")
    return h.changed(**changes)


def context(actor: str, handoff: Handoff, *, cursor_of=None, config=CONFIG) -> Context:
    return Context(config, NOW, TODAY, actor, handoff.roles_of(actor), calendar_for(config, actor),
                   cursor_of or {})


def apply(handoff: Handoff, actor: str, *commands: Command, cursor_of=None, config=CONFIG) -> Outcome:
    ctx = context(actor, handoff, cursor_of=cursor_of, config=config)
    return apply_commands(handoff, list(commands), ctx)


def as_role(role: str, status: str) -> tuple[Handoff, str]:
    """The handoff and the person acting, for one column of the permission matrix."""
    if role == "both":
        return make_handoff(status, owner=SAM, team="sales"), SAM
    actor = {"owner": DANA, "requester": SAM, "watcher": MARIA, "none": PAT}[role]
    return make_handoff(status), actor


def told(out: Outcome) -> set[tuple[str, str]]:
    return {(n.kind, n.to) for n in out.notices}


def owner_may(command: str) -> bool:
    return next(row[2] for row in PERMISSIONS if row[0] == command)


# --- the permission matrix ---------------------------------------------------------------


def test_the_tables_cover_every_command_exactly():
    assert {row[0] for row in PERMISSIONS} == set(COMMANDS)
    assert set(TRANSITIONS) == set(COMMANDS)
    assert set(CMD) == set(COMMANDS)


@pytest.mark.parametrize(("role", "expected"), [
    ("owner", {"owner"}), ("requester", {"requester"}), ("watcher", {"watcher"}),
    ("none", set()), ("both", {"owner", "requester"}),
])
def test_each_role_column_is_the_role_it_claims(role, expected):
    handoff, actor = as_role(role, OPEN)
    assert handoff.roles_of(actor) == expected


ALLOWED = [pytest.param(cmd, role, id=f"{cmd}-by-{role}")
           for cmd, _who, *cells in PERMISSIONS for role, ok in zip(ROLE_COLUMNS, cells, strict=True) if ok]
REFUSED = [pytest.param(cmd, role, who, id=f"{cmd}-by-{role}")
           for cmd, who, *cells in PERMISSIONS for role, ok in zip(ROLE_COLUMNS, cells, strict=True) if not ok]


@pytest.mark.parametrize(("command", "role"), ALLOWED)
def test_role_may_give_the_command(command, role):
    handoff, actor = as_role(role, START.get(command, OPEN))
    out = apply(handoff, actor, CMD[command])
    assert out.events or out.notices or out.digest_choice


@pytest.mark.parametrize(("command", "role", "who_may"), REFUSED)
def test_role_is_refused_with_who_may(command, role, who_may):
    handoff, actor = as_role(role, START.get(command, OPEN))
    with pytest.raises(Refused) as refusal:
        apply(handoff, actor, CMD[command])
    message = str(refusal.value)
    assert f"`{command}` is for {who_may} of #7" in message
    assert YOU_ARE[role] in message


# --- every transition --------------------------------------------------------------------

TRANSITION_CASES = [pytest.param(cmd, frm, after, id=f"{cmd}-from-{frm}")
                    for cmd, row in TRANSITIONS.items() for frm, after in zip(STATUSES, row, strict=True)]


@pytest.mark.parametrize(("command", "from_status", "expected"), TRANSITION_CASES)
def test_command_from_status(command, from_status, expected):
    handoff = make_handoff(from_status)
    actor = DANA if owner_may(command) else SAM
    if expected is Refused:
        with pytest.raises(Refused) as refusal:
            apply(handoff, actor, CMD[command])
        assert from_status in str(refusal.value)  # says what it is now
    else:
        assert apply(handoff, actor, CMD[command]).after.status == expected


@pytest.mark.parametrize("was", [OPEN, ACK])
def test_blocked_remembers_where_it_was(was):
    out = apply(make_handoff(was), DANA, CMD["blocked"])
    assert (out.after.status, out.after.prev_status, out.after.blocked_reason) == (
        BLOCKED, was, "waiting on the CFO")
    assert out.events[-1].data == {"was": was}


@pytest.mark.parametrize("was", [OPEN, ACK])
def test_unblock_returns_to_where_it_was_and_says_so(was):
    blocked = apply(make_handoff(was), DANA, CMD["blocked"]).after
    out = apply(blocked, DANA, CMD["unblock"])
    assert (out.after.status, out.after.prev_status, out.after.blocked_reason) == (was, None, None)
    assert [(e.kind, e.data) for e in out.events] == [("unblocked", {"to": was})]


def test_blocked_then_unblock_in_one_message_round_trips():
    out = apply(make_handoff(ACK), DANA, CMD["blocked"], CMD["unblock"])
    assert [e.kind for e in out.events] == ["blocked", "unblocked"]
    assert out.after.status == ACK


# reassign: (from status, args, cursors) → (new owner, its team, moved cursor)
@pytest.mark.parametrize(("from_status", "args", "cursor_of", "owner", "team", "cursor"), [
    (OPEN, "@lee", {}, LEE, "accounting", None),
    (ACK, "@lee", {}, LEE, "accounting", None),
    (BLOCKED, "@lee", {}, LEE, "accounting", None),
    (OPEN, "lee@acme.test", {}, LEE, "accounting", None),
    (ACK, "@sales", {}, MARIA, "sales", None),
    (ACK, "@accounting", {}, LEE, "accounting", None),  # the current owner is skipped
    (ACK, "@finance", {}, LEE, "accounting", None),
    (OPEN, "@support", {"support": 1}, MARIA, "support", ("support", 2)),
])
def test_reassign_resets_to_open_and_records_from_to_and_was(from_status, args, cursor_of, owner, team, cursor):
    out = apply(make_handoff(from_status), DANA, Command("reassign", args), cursor_of=cursor_of)
    assert (out.after.status, out.after.owner, out.after.team) == (OPEN, owner, team)
    assert (out.after.prev_status, out.after.blocked_reason) == (None, None)
    assert out.cursor == cursor
    event = out.events[-1]
    assert event.kind == "reassigned"
    assert event.data == {"by": DANA, "from": DANA, "to": owner, "was": from_status, "team_from": "accounting"}


def test_reassign_to_a_watcher_takes_them_off_the_watchers():
    out = apply(make_handoff(), SAM, Command("reassign", "@maria"))
    assert (out.after.owner, out.after.watchers) == (MARIA, ())


@pytest.mark.parametrize(("args", "says"), [
    ("@nobody", "I don't know who '@nobody' is"),
    ("", "Say who should take it"),
])
def test_reassign_to_no_one_known_is_refused(args, says):
    with pytest.raises(Refused, match=says):
        apply(make_handoff(), DANA, Command("reassign", args))


# decline: (owner, team, who declines, cursors) → (new owner, moved cursor)
@pytest.mark.parametrize(("owner", "team", "actor", "cursor_of", "new_owner", "cursor"), [
    (DANA, "accounting", DANA, {}, LEE, None),  # the lead declines: the next member
    (LEE, "accounting", LEE, {}, DANA, None),  # a member declines: the lead
    (DANA, "accounting", SAM, {}, LEE, None),  # the requester declines: not the owner again
    (LEE, "support", LEE, {"support": 0}, MARIA, ("support", 1)),  # round robin skips the decliner
    (MARIA, "support", MARIA, {"support": 0}, LEE, ("support", 1)),
])
def test_decline_goes_to_the_teams_routing_skipping_the_decliner(owner, team, actor, cursor_of, new_owner, cursor):
    out = apply(make_handoff(ACK, owner=owner, team=team), actor, CMD["decline"], cursor_of=cursor_of)
    assert (out.after.status, out.after.owner, out.after.team) == (OPEN, new_owner, team)
    assert out.cursor == cursor
    event = out.events[-1]
    assert (event.kind, event.data["from"], event.data["to"], event.data["was"]) == (
        "declined", owner, new_owner, ACK)
    assert ("new_handoff", new_owner) in told(out)


@pytest.mark.parametrize(("owner", "team", "config"), [
    (DANA, None, CONFIG),  # no team to route to
    (LEE, "legal", LEGAL_CONFIG),  # a team with no one left once lee is skipped
])
@pytest.mark.parametrize("from_status", [OPEN, ACK, BLOCKED])
def test_decline_with_no_one_left_goes_back_to_the_requester(owner, team, config, from_status):
    out = apply(make_handoff(from_status, owner=owner, team=team), owner, CMD["decline"], config=config)
    assert (out.after.status, out.after.owner) == (OPEN, None)
    assert [(e.kind, e.data) for e in out.events] == [
        ("declined", {"by": owner, "from": owner, "to": None, "was": from_status})]
    assert [(n.kind, n.to, n.context["back_to_requester"]) for n in out.notices] == [("declined", SAM, True)]


@pytest.mark.parametrize("from_status", [DONE, CANCELLED])
def test_reopen_records_what_it_was(from_status):
    out = apply(make_handoff(from_status), SAM, CMD["reopen"])
    assert (out.after.status, out.after.owner) == (OPEN, DANA)
    assert [(e.kind, e.data) for e in out.events] == [("reopened", {"was": from_status})]


@pytest.mark.parametrize("from_status", [OPEN, ACK, BLOCKED])
def test_cancel_from_any_open_state_clears_the_block(from_status):
    out = apply(make_handoff(from_status), SAM, CMD["cancel"])
    assert (out.after.status, out.after.prev_status, out.after.blocked_reason) == (CANCELLED, None, None)
    assert [(e.kind, e.data) for e in out.events] == [("cancelled", {"was": from_status})]


@pytest.mark.parametrize(("command", "new_due"), [
    (Command("due", "12/4", due=DEC_4), DEC_4),
    (Command("snooze", "3d"), DEC_2),  # 3 business days after Friday the 27th
    (Command("snooze", "1w"), DEC_4),  # a week after Friday the 27th
])
@pytest.mark.parametrize("actor", [DANA, SAM])
def test_due_and_snooze_renegotiate_the_date(command, new_due, actor):
    out = apply(make_handoff(ACK), actor, command)
    assert (out.after.due, out.after.status) == (new_due, ACK)
    assert [(e.kind, e.data) for e in out.events] == [
        ("due_changed", {"from": "2026-11-27", "to": new_due.isoformat()})]


@pytest.mark.parametrize(("command", "says"), [
    (Command("due", "someday", error="due needs a date, like 'due friday'"), "due needs a date"),
    (Command("snooze", "a while"), "snooze 3d"),
])
def test_due_or_snooze_without_a_readable_date_is_refused(command, says):
    with pytest.raises(Refused, match=says):
        apply(make_handoff(), DANA, command)


def test_thanks_without_an_owner_is_refused():
    with pytest.raises(Refused, match="no owner yet"):
        apply(make_handoff(owner=None, team=None), SAM, CMD["thanks"])


# --- events record the state after them --------------------------------------------------

# command → (the event kinds it records, the words they keep)
EVENTS = {
    "ack": (["acknowledged"], ""),
    "done": (["done"], "sent it"),
    "due": (["due_changed"], "12/4"),
    "snooze": (["due_changed"], "3d"),
    "blocked": (["blocked"], "waiting on the CFO"),
    "unblock": (["unblocked"], ""),
    "reassign": (["reassigned"], "@lee"),
    "decline": (["declined"], "not mine"),
    "cancel": (["cancelled"], "deal lost"),
    "reopen": (["reopened"], "they came back"),
    "thanks": (["thanked"], "Thanks, you saved the deal"),  # relayed as written
    "note": (["note"], "they called again"),
}


@pytest.mark.parametrize("command", sorted(EVENTS))
def test_command_records_its_event_with_the_state_after_it(command):
    out = apply(make_handoff(START.get(command, OPEN)), DANA if owner_may(command) else SAM, CMD[command])
    kinds, words = EVENTS[command]
    assert [e.kind for e in out.events] == kinds
    assert out.events[-1].state == out.after.state
    assert out.events[-1].words == words


@pytest.mark.parametrize("command", ["status", "help", "daily", "weekly", "no_digest"])
def test_answers_and_digest_choices_record_no_event_and_change_nothing(command):
    handoff = make_handoff()
    out = apply(handoff, SAM, CMD[command])
    assert (out.events, out.after) == ([], handoff)


@pytest.mark.parametrize(("command", "choice"), [("daily", "daily"), ("weekly", "weekly"), ("no_digest", "none")])
def test_digest_choice_is_answered_to_the_person(command, choice):
    out = apply(make_handoff(), MARIA, CMD[command])
    assert out.digest_choice == choice
    assert [(n.kind, n.to, n.context) for n in out.notices] == [("digest_choice", MARIA, {"choice": choice})]


def test_a_change_stamps_updated_with_the_arrival_time():
    assert apply(make_handoff(), DANA, CMD["ack"]).after.updated == NOW


def test_ack_with_the_date_it_already_has_adds_no_due_changed():
    out = apply(make_handoff(), DANA, Command("ack", "friday", due=FRIDAY))
    assert [e.kind for e in out.events] == ["acknowledged"]
    assert (out.after.status, out.after.due) == (ACK, FRIDAY)


def test_ack_with_a_new_date_records_acknowledged_then_due_changed():
    out = apply(make_handoff(), DANA, Command("ack", "12/4", due=DEC_4))
    acknowledged, due_changed = out.events
    assert (acknowledged.kind, acknowledged.state.status, acknowledged.state.due) == ("acknowledged", ACK, FRIDAY)
    assert (due_changed.kind, due_changed.state.status, due_changed.state.due) == ("due_changed", ACK, DEC_4)
    assert due_changed.data == {"from": "2026-11-27", "to": "2026-12-04"}
    assert due_changed.state == out.after.state


def no_owner_handoff(**changes) -> Handoff:
    """#7 waiting for an owner: Sam named no one; due is the default Friday."""
    status = changes.pop("status", OPEN)
    return make_handoff(status, **{"owner": None, "team": None, "watchers": (), **changes})


def snapshot(owner, team, due, priority="normal", rush=False, status=OPEN) -> HandoffState:
    return HandoffState(status, owner, team, due, priority, rush)


def test_owner_from_answer_records_each_change_with_its_own_state():
    handoff = no_owner_handoff()
    out = owner_from_answer(handoff, "@dana due 12/1 priority: high", context(SAM, handoff))
    assert out is not None
    assert [(e.kind, e.data, e.state) for e in out.events] == [
        ("owner_assigned", {"by": SAM, "from": None, "to": DANA}, snapshot(DANA, "accounting", FRIDAY)),
        ("due_changed", {"from": "2026-11-27", "to": "2026-12-01"}, snapshot(DANA, "accounting", DEC_1)),
        ("rush_changed", {"from": False, "to": True, "lead_days": 7},
         snapshot(DANA, "accounting", DEC_1, rush=True)),
        ("priority_changed", {"from": "normal", "to": "high"},
         snapshot(DANA, "accounting", DEC_1, "high", rush=True)),
    ]
    assert out.events[-1].state == out.after.state
    assert out.after.updated == NOW


@pytest.mark.parametrize(("answer", "kinds", "owner", "due", "priority", "rush"), [
    ("@dana", ["owner_assigned"], DANA, FRIDAY, "normal", False),
    ("@dana due 12/10 priority: high",  # 12 business days: lead time kept, rush unchanged
     ["owner_assigned", "due_changed", "priority_changed"], DANA, DEC_10, "high", False),
    ("@dana due 11/27",  # the date it had, now below accounting's 7 days
     ["owner_assigned", "rush_changed"], DANA, FRIDAY, "normal", True),
    ("@maria due 12/1",  # sales asks for no lead time
     ["owner_assigned", "due_changed"], MARIA, DEC_1, "normal", False),
    ("@accounting priority: low", ["owner_assigned", "priority_changed"], DANA, FRIDAY, "low", False),
    ("@dana priority: normal", ["owner_assigned"], DANA, FRIDAY, "normal", False),
])
def test_owner_from_answer_records_only_what_changes(answer, kinds, owner, due, priority, rush):
    handoff = no_owner_handoff()
    out = owner_from_answer(handoff, answer, context(SAM, handoff))
    assert out is not None
    assert [e.kind for e in out.events] == kinds
    assert (out.after.owner, out.after.due, out.after.priority, out.after.rush) == (owner, due, priority, rush)
    assert out.events[-1].state == out.after.state


def test_owner_from_answer_tells_the_new_owner_and_the_requester():
    handoff = no_owner_handoff()
    out = owner_from_answer(handoff, "@dana", context(SAM, handoff))
    assert out is not None
    assert [(n.kind, n.to) for n in out.notices] == [("new_handoff", DANA), ("owner_assigned", SAM)]


def test_owner_from_answer_moves_the_round_robin():
    handoff = no_owner_handoff()
    out = owner_from_answer(handoff, "@support", context(SAM, handoff, cursor_of={"support": 1}))
    assert out is not None
    assert (out.after.owner, out.after.team, out.cursor) == (MARIA, "support", ("support", 2))


@pytest.mark.parametrize(("handoff", "actor", "answer"), [
    (make_handoff(), SAM, "@lee"),  # it has an owner already
    (no_owner_handoff(watchers=(MARIA,)), MARIA, "@dana"),  # only the requester answers
    (no_owner_handoff(status=CANCELLED), SAM, "@dana"),  # closed
    (no_owner_handoff(), SAM, "can someone look at this?"),  # no mention
    (no_owner_handoff(), SAM, "@nobody please"),  # no one known
], ids=["has-owner", "not-requester", "closed", "no-mention", "unknown-handle"])
def test_owner_from_answer_is_not_an_answer(handoff, actor, answer):
    assert owner_from_answer(handoff, answer, context(actor, handoff)) is None


def test_owner_from_answer_checks_the_first_notes_date_against_the_new_teams_lead_time():
    plan = HandoffPlan(requester=SAM, owner=None, team=None, watchers=[], due=FRIDAY, due_from_note=True,
                       priority="normal", title="W-9", rush=False, lead_days=0,
                       note="due friday: who can send Initech our W-9?")
    handoff = create(plan, context(SAM, no_owner_handoff()), forwarded=None, has_source=False,
                     notice_days=3).after
    out = owner_from_answer(handoff, "@dana", context(SAM, handoff))
    assert out is not None
    assert out.after.rush is True


def test_owner_from_answer_sends_the_new_handoff_to_the_watchers_too():
    handoff = no_owner_handoff(watchers=(LEE,))
    out = owner_from_answer(handoff, "@dana", context(SAM, handoff))
    assert out is not None
    assert ("new_handoff", LEE) in told(out)


def plan(**changes) -> HandoffPlan:
    fields = dict(requester=SAM, owner=CONFIG.person_by_email(DANA), team=CONFIG.teams["accounting"],
                  watchers=[MARIA], due=FRIDAY, due_from_note=True, priority="high", title="W-9",
                  rush=True, lead_days=7, note="@dana W-9 please, due friday",
                  reasons=["owner from note @dana"])
    return HandoffPlan(**{**fields, **changes})


def test_create_records_created_with_the_initial_values_then_owner_assigned():
    out = create(plan(), context(SAM, make_handoff()), forwarded=None, has_source=False, notice_days=3)
    created, assigned = out.events
    assert (created.kind, created.words) == ("created", "@dana W-9 please, due friday")
    assert created.data == {"reasons": ["owner from note @dana"], "watchers": [MARIA], "title": "W-9"}
    assert (created.state.status, created.state.team, created.state.due, created.state.priority,
            created.state.rush) == (OPEN, "accounting", FRIDAY, "high", True)
    assert (assigned.kind, assigned.data) == ("owner_assigned", {"by": SAM, "from": None, "to": DANA})
    assert assigned.state == out.after.state
    assert (out.before, out.after.id, out.after.created) == (None, 0, NOW)


def test_create_without_an_owner_records_only_created_and_asks_the_requester():
    out = create(plan(owner=None, team=None, rush=False, lead_days=0), context(SAM, make_handoff()),
                 forwarded=None, has_source=False, notice_days=3)
    assert [(e.kind, e.state.owner) for e in out.events] == [("created", None)]
    assert [(n.kind, n.to) for n in out.notices] == [("no_owner", SAM)]


def test_create_tells_requester_owner_and_watchers_who_else_knows():
    out = create(plan(), context(SAM, make_handoff()), forwarded=None, has_source=False, notice_days=3)
    assert [(n.kind, n.to, n.context["also_told"]) for n in out.notices] == [
        ("receipt", SAM, [DANA, MARIA]),
        ("new_handoff", DANA, [MARIA]),
        ("new_handoff", MARIA, [DANA]),
    ]
    assert out.notices[0].context["lead_days"] == 7


def test_create_keeps_the_round_robin_move():
    support = CONFIG.teams["support"]
    out = create(plan(owner=CONFIG.person_by_email(LEE), team=support, cursor=("support", 1)),
                 context(SAM, make_handoff()), forwarded=None, has_source=False, notice_days=3)
    assert out.cursor == ("support", 1)


# --- all or nothing ----------------------------------------------------------------------

@pytest.mark.parametrize(("actor", "commands", "refusal"), [
    (SAM, [CMD["note"], CMD["done"]], "`done` is for the owner"),
    (DANA, [CMD["ack"], CMD["cancel"]], "`cancel` is for the requester"),
    (MARIA, [CMD["thanks"], CMD["due"]], "`due` is for the owner or the requester"),
    (SAM, [CMD["due"], CMD["reopen"]], "still open"),
    (DANA, [CMD["blocked"], CMD["ack"]], "is blocked"),  # refused by the state the first one made
], ids=["note-then-done", "ack-then-cancel", "thanks-then-due", "due-then-reopen", "blocked-then-ack"])
def test_a_refused_command_refuses_the_whole_message(actor, commands, refusal):
    handoff = make_handoff()
    assert apply(handoff, actor, commands[0]).events  # alone, the first one would apply
    with pytest.raises(Refused, match=refusal):
        apply(handoff, actor, *commands)
    assert handoff == make_handoff()


# --- notices: who is told ----------------------------------------------------------------

# (who acts, command) → who is told. DESIGN: the other side (owner's action → requester,
# requester's → owner, watcher's → both); done and blocked also to watchers; thanks → owner.
NOTICES = [
    ("owner", "ack", {("acknowledged", SAM)}),
    ("owner", "done", {("done", SAM), ("done", MARIA)}),
    ("owner", "due", {("due_changed", SAM), ("calendar_update", DANA)}),  # their entry moves too
    ("requester", "due", {("due_changed", DANA)}),
    ("owner", "snooze", {("due_changed", SAM), ("calendar_update", DANA)}),
    ("requester", "snooze", {("due_changed", DANA)}),
    ("owner", "blocked", {("blocked", SAM), ("blocked", MARIA)}),
    ("owner", "unblock", {("unblocked", SAM)}),
    ("owner", "reassign", {("new_handoff", LEE), ("reassigned", SAM)}),
    ("requester", "reassign", {("new_handoff", LEE), ("reassigned", DANA)}),
    ("owner", "decline", {("new_handoff", LEE), ("declined", SAM)}),
    ("requester", "decline", {("new_handoff", LEE), ("declined", DANA)}),
    ("requester", "cancel", {("cancelled", DANA)}),
    ("requester", "reopen", {("reopened", DANA)}),
    ("requester", "thanks", {("thanks", DANA)}),
    ("watcher", "thanks", {("thanks", DANA)}),
    ("owner", "note", {("note", SAM)}),
    ("requester", "note", {("note", DANA)}),
    ("watcher", "note", {("note", DANA), ("note", SAM)}),
    ("watcher", "status", {("status", MARIA)}),
    ("none", "help", {("help", PAT)}),
    ("requester", "weekly", {("digest_choice", SAM)}),
]


@pytest.mark.parametrize(("role", "command", "expected"), [
    pytest.param(role, command, expected, id=f"{command}-by-{role}")
    for role, command, expected in NOTICES
])
def test_who_is_told(role, command, expected):
    handoff, actor = as_role(role, START.get(command, OPEN))
    assert told(apply(handoff, actor, CMD[command])) == expected


@pytest.mark.parametrize(("role", "command", "also_told"), [
    ("owner", "done", {SAM: [MARIA], MARIA: [SAM]}),
    ("owner", "blocked", {SAM: [MARIA], MARIA: [SAM]}),
    ("watcher", "note", {DANA: [SAM], SAM: [DANA]}),
    ("owner", "ack", {SAM: []}),
    ("requester", "due", {DANA: []}),
])
def test_each_notice_says_who_else_was_told(role, command, also_told):
    handoff, actor = as_role(role, START.get(command, OPEN))
    out = apply(handoff, actor, CMD[command])
    assert {n.to: n.context["also_told"] for n in out.notices} == also_told


def test_done_prompts_only_the_requester_to_thank():
    out = apply(make_handoff(), DANA, CMD["done"])
    assert {n.to: n.context.get("prompt_thanks", False) for n in out.notices} == {SAM: True, MARIA: False}


def test_done_by_an_owner_who_also_watches_is_not_told_to_them():
    out = apply(make_handoff(watchers=(MARIA, DANA)), DANA, CMD["done"])
    assert told(out) == {("done", SAM), ("done", MARIA)}


def test_a_note_from_someone_both_owner_and_requester_goes_to_no_one():
    handoff, actor = as_role("both", OPEN)
    assert apply(handoff, actor, CMD["note"]).notices == []


@pytest.mark.parametrize("command", [
    name for name in sorted(TRANSITIONS) if name not in {"status", "help", "daily", "weekly", "no_digest"}
])
def test_no_one_is_mailed_about_their_own_action(command):
    handoff, actor = as_role("both", START.get(command, OPEN))
    out = apply(handoff, actor, CMD[command])
    assert actor not in {n.to for n in out.notices if n.kind not in ANSWER_KINDS}


def test_due_with_the_date_it_already_has_tells_no_one():
    out = apply(make_handoff(), SAM, Command("due", "friday", due=FRIDAY))
    assert out.events == []
    assert out.notices == []
