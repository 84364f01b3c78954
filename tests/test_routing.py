"""Who a handoff is for (DESIGN.md "Inbound: creating a handoff", Owner and Watchers), by table:
mentions in the note, plus-addresses, subject tags, their precedence, and team routing.
"""

from __future__ import annotations

import tomllib

import pytest
from conftest import ORG_TOML

from nudger.config import config_from_dict
from nudger.core.routing import (
    choose_owner,
    find_mentions,
    plus_mentions,
    resolve,
    route_team,
    subject_tags,
)

CONFIG = config_from_dict(tomllib.loads(ORG_TOML), env={})
SAM, MARIA, DANA, LEE = "sam@acme.test", "maria@acme.test", "dana@acme.test", "lee@acme.test"
ACCOUNTING, SUPPORT, SALES = (CONFIG.teams[n] for n in ("accounting", "support", "sales"))


def named(mentions) -> list[str]:
    """Each mention as the handle or team it names: "dana", "team:accounting"."""
    return [m.person.handle if m.person else f"team:{m.team.name}" for m in mentions]


# --- mentions ----------------------------------------------------------------------------

@pytest.mark.parametrize(("text", "expected"), [
    ("@dana can you send the W-9?", ["dana"]),
    ("@Dana please", ["dana"]),  # handles are typed by people
    ("@accounting please", ["team:accounting"]),
    ("@finance please", ["team:accounting"]),  # an alias
    ("@AR please", ["team:accounting"]),
    ("ask dana@acme.test for it", ["dana"]),  # a directory address
    ("ask Dana@ACME.test for it", ["dana"]),
    ("ask <lee@acme.test>", ["lee"]),
    ("@dana, then @lee.", ["dana", "lee"]),  # trailing punctuation
    ("thanks @dana!", ["dana"]),
    ("(@lee) and @dana's team", ["lee", "dana"]),
    ("mail dana@acme.test.", ["dana"]),
    ("@nobody and @dana", ["dana"]),  # unknown handles are ignored
    ("@nobody", []),
    ("bill@initech.example wrote to us", []),  # the customer is never an owner
    ("xdana@acme.test", []),  # not dana's address
    ("dana@acme.testing", []),
    ("mail me@dana", []),  # an @ inside a word is not a mention
    ("lee@acme.test first, then @dana", ["lee", "dana"]),  # in text order, whatever the form
    ("@dana or @accounting or @support", ["dana", "team:accounting", "team:support"]),
    ("@maria cc @sales", ["maria", "team:sales"]),
], ids=lambda v: v if isinstance(v, str) else None)
def test_find_mentions(text, expected):
    mentions = find_mentions(text, CONFIG)
    assert named(mentions) == expected
    assert [m.position for m in mentions] == sorted(m.position for m in mentions)


@pytest.mark.parametrize(("text", "skip", "expected"), [
    ("@dana please\n--\nSam Seller\nsam@acme.test", SAM, ["dana"]),
    ("@dana please\n--\nSAM@acme.test", "Sam@Acme.Test", ["dana"]),
    ("sam@acme.test lee@acme.test", SAM, ["lee"]),
    ("sam@acme.test lee@acme.test", "", ["sam", "lee"]),  # someone else's note may name sam
])
def test_find_mentions_skips_the_senders_own_address(text, skip, expected):
    assert named(find_mentions(text, CONFIG, skip_email=skip)) == expected


def test_a_mention_keeps_where_and_how_it_was_named():
    (mention,) = find_mentions("hi @finance", CONFIG)
    assert (mention.text, mention.position, mention.person, mention.team) == ("@finance", 3, None, ACCOUNTING)


# --- subject tags and plus-addresses -----------------------------------------------------

@pytest.mark.parametrize(("subject", "expected"), [
    ("[accounting] W-9", ["team:accounting"]),
    ("Fwd: [Finance] W-9", ["team:accounting"]),
    ("[EXT] [ar] W-9", ["team:accounting"]),  # gateway tags name no one
    ("[dana] W-9", ["dana"]),
    ("[rush] W-9", []),  # a priority, not a person
    ("[#12] W-9", []),
    ("[acme corp] W-9", []),
    ("W-9", []),
])
def test_subject_tags(subject, expected):
    assert named(subject_tags(subject, CONFIG)) == expected


@pytest.mark.parametrize(("tags", "expected"), [
    (["accounting"], ["team:accounting"]),
    (["Finance"], ["team:accounting"]),
    (["lee"], ["lee"]),
    (["nobody"], []),
    (["nobody", "sales"], ["team:sales"]),
    ([], []),
])
def test_plus_mentions(tags, expected):
    assert named(plus_mentions(tags, CONFIG)) == expected


# --- precedence: the note, then plus-addressing, then a subject tag ----------------------

@pytest.mark.parametrize(("note", "plus", "subject", "owner", "source"), [
    ("@lee please", ["sales"], "[support] W-9", LEE, "note"),
    ("please handle", ["sales"], "[accounting] W-9", MARIA, "plus-address"),
    ("please handle", [], "[accounting] W-9", DANA, "subject tag"),
    ("@nobody please", ["accounting"], "W-9", DANA, "plus-address"),  # unknown names fall through
    ("please handle", ["nobody"], "[lee] W-9", LEE, "subject tag"),
    ("bill@initech.example asked", [], "[accounting] W-9", DANA, "subject tag"),
    ("see sam@acme.test", ["accounting"], "W-9", DANA, "plus-address"),  # the requester's own address
], ids=["note-wins", "plus-over-subject", "subject", "unknown-handle", "unknown-plus", "customer",
        "own-address"])
def test_first_match_wins(note, plus, subject, owner, source):
    routing, _ = choose_owner(note, plus, subject, CONFIG, {}, requester=SAM)
    assert routing is not None
    assert routing.owner is not None and routing.owner.email == owner
    assert routing.reason.startswith(f"owner from {source} ")


@pytest.mark.parametrize(("note", "plus", "subject"), [
    ("can someone send the W-9?", [], "Fwd: W-9"),
    ("bill@initech.example asked", ["nobody"], "[rush] W-9"),
    ("@nobody", [], "[acme] W-9"),
])
def test_no_one_named_gives_no_routing(note, plus, subject):
    assert choose_owner(note, plus, subject, CONFIG, {}, requester=SAM) == (None, [])


@pytest.mark.parametrize(("note", "plus", "owner", "further"), [
    ("@dana cc @lee", [], DANA, ["lee"]),
    ("@dana fyi @maria and @sales", [], DANA, ["maria", "team:sales"]),
    ("@dana", [], DANA, []),
    ("fyi @maria", [], MARIA, []),  # the first mention is the owner, not a watcher
    ("fyi lee@acme.test", ["accounting"], LEE, []),  # the note wins even with a plus-address
])
def test_further_mentions_are_returned_for_watchers(note, plus, owner, further):
    routing, rest = choose_owner(note, plus, "W-9", CONFIG, {}, requester=SAM)
    assert routing is not None and routing.owner is not None
    assert (routing.owner.email, named(rest)) == (owner, further)


# --- team routing ------------------------------------------------------------------------

@pytest.mark.parametrize(("team", "cursor", "exclude", "owner", "new_cursor"), [
    (ACCOUNTING, 0, set(), DANA, None),  # routing = "lead"
    (ACCOUNTING, 5, set(), DANA, None),  # the cursor means nothing to a lead team
    (ACCOUNTING, 0, {DANA}, LEE, None),  # the lead is skipped: the first member left
    (ACCOUNTING, 0, {DANA, LEE}, None, None),  # no one left
    (SALES, 0, set(), MARIA, None),
    (SALES, 0, {MARIA}, SAM, None),
    (SUPPORT, 0, set(), LEE, 1),  # round robin over [lee, maria]
    (SUPPORT, 1, set(), MARIA, 2),
    (SUPPORT, 2, set(), LEE, 3),  # wraps
    (SUPPORT, 7, set(), MARIA, 8),
    (SUPPORT, 0, {LEE}, MARIA, 1),  # exclude skips people
    (SUPPORT, 1, {LEE}, MARIA, 2),
    (SUPPORT, 0, {LEE, MARIA}, None, None),  # no one left (and no lead)
])
def test_route_team(team, cursor, exclude, owner, new_cursor):
    routing = route_team(team, CONFIG, cursor, frozenset(exclude))
    assert (routing.owner.email if routing.owner else None, routing.team, routing.cursor) == (
        owner, team, new_cursor)


def test_round_robin_takes_turns_as_the_cursor_advances():
    owners, cursor = [], 0
    for _ in range(5):
        routing = route_team(SUPPORT, CONFIG, cursor)
        owners.append(routing.owner.email)
        cursor = routing.cursor
    assert owners == [LEE, MARIA, LEE, MARIA, LEE]


def test_a_team_with_no_one_left_says_so():
    routing = route_team(SUPPORT, CONFIG, 0, frozenset({LEE, MARIA}))
    assert routing.owner is None
    assert routing.reason == "team support has no one to route to"


@pytest.mark.parametrize(("text", "cursor", "owner", "team"), [
    ("@lee", 0, LEE, "accounting"),  # a person's team is their own
    ("@maria", 0, MARIA, "sales"),
    ("@finance", 0, DANA, "accounting"),
    ("@support", 1, MARIA, "support"),
])
def test_resolve_a_person_or_a_team(text, cursor, owner, team):
    (mention,) = find_mentions(text, CONFIG)
    routing = resolve(mention, CONFIG, cursor)
    assert (routing.owner.email, routing.team.name) == (owner, team)


def test_choose_owner_uses_the_teams_own_cursor_and_reports_the_move():
    routing, _ = choose_owner("@support", [], "", CONFIG, {"support": 1, "accounting": 9})
    assert routing is not None and routing.owner is not None
    assert (routing.owner.email, routing.cursor) == (MARIA, 2)
