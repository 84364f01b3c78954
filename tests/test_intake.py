"""Planning a new handoff from a forward (DESIGN.md "Inbound: creating a handoff"), by table:
owner and team, due date and lead time, priority, watchers, title, and the no-owner plan.

The org is conftest's: Chicago, US holidays (Thanksgiving is Thursday 2026-11-26), Sam the
requester in New York, accounting with a 7-business-day lead time and 3-day turnaround.
"""

from __future__ import annotations

import tomllib
from datetime import UTC, date, datetime
from email.message import EmailMessage

import pytest
from conftest import ORG_TOML

from nudger.config import config_from_dict
from nudger.core.intake import clean_title, plan_handoff
from nudger.mail.message import parse_message

CONFIG = config_from_dict(tomllib.loads(ORG_TOML), env={})
_NO_HOLIDAYS = tomllib.loads(ORG_TOML)
del _NO_HOLIDAYS["org"]["holidays"]
NO_HOLIDAYS = config_from_dict(_NO_HOLIDAYS, env={})

SAM, MARIA, DANA, LEE = "sam@acme.test", "maria@acme.test", "dana@acme.test", "lee@acme.test"
MONDAY_9AM = "Mon, 23 Nov 2026 09:00:00 -0600"
NOW = datetime(2026, 11, 23, 15, 5, tzinfo=UTC)  # Monday 09:05 in Chicago


def d(month: int, day: int) -> date:
    return date(2026, month, day)


def forward(note: str, *, subject: str = "Fwd: W-9 request", sender: str = "Sam Seller <sam@acme.test>",
            cc: str | None = None, sent: str = MONDAY_9AM):
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = "handoffs@acme.test"
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    msg["Date"] = sent
    msg.set_content(f"{note}\n\n---------- Forwarded message ---------\nFrom: Bill <bill@initech.example>\n"
                    "Subject: W-9 request\n\nCould you send us your W-9?\n")
    return parse_message(msg.as_bytes())


def plan(note: str, *, plus: list[str] | None = None, forwarded_subject: str | None = "W-9 request",
         now: datetime = NOW, cursor_of: dict[str, int] | None = None, config=CONFIG, **mail):
    return plan_handoff(forward(note, **mail), note, forwarded_subject, plus or [], config, now, cursor_of)


# --- owner and team ----------------------------------------------------------------------

@pytest.mark.parametrize(("note", "plus", "subject", "owner", "team"), [
    ("@dana can you send the W-9?", [], "Fwd: W-9", DANA, "accounting"),
    ("@lee can you send the W-9?", [], "Fwd: W-9", LEE, "accounting"),  # the person's own team
    ("@finance please", [], "Fwd: W-9", DANA, "accounting"),  # alias → the lead
    ("@maria please", [], "Fwd: W-9", MARIA, "sales"),
    ("dana@acme.test please", [], "Fwd: W-9", DANA, "accounting"),
    ("please", ["accounting"], "Fwd: W-9", DANA, "accounting"),
    ("please", [], "[accounting] Fwd: W-9", DANA, "accounting"),
    ("please", ["sales"], "[accounting] W-9", MARIA, "sales"),  # plus-address before subject tag
    ("@lee please", ["sales"], "[accounting] W-9", LEE, "accounting"),  # the note before both
], ids=["handle", "member", "alias", "sales", "address", "plus", "subject-tag", "plus-wins",
        "note-wins"])
def test_owner_and_team(note, plus, subject, owner, team):
    p = plan(note, plus=plus, subject=subject)
    assert (p.owner.email, p.team.name) == (owner, team)


@pytest.mark.parametrize(("cursor_of", "owner", "cursor"), [
    (None, LEE, ("support", 1)),
    ({"support": 1}, MARIA, ("support", 2)),
    ({"support": 2}, LEE, ("support", 3)),
])
def test_a_round_robin_team_takes_turns_and_the_plan_keeps_the_move(cursor_of, owner, cursor):
    p = plan("@support please", cursor_of=cursor_of)
    assert (p.owner.email, p.team.name, p.cursor) == (owner, "support", cursor)


def test_a_lead_routed_team_moves_no_cursor():
    assert plan("@accounting please").cursor is None


# --- due date and lead time --------------------------------------------------------------

# Sent Monday 2026-11-23 09:00 Chicago. Accounting needs 7 business days: Dec 3 is the 7th
# (Nov 24, 25, 27, 30, Dec 1, 2, 3; Thanksgiving skipped).
@pytest.mark.parametrize(("note", "due", "from_note", "rush"), [
    ("@dana W-9 please", d(11, 27), False, False),  # turnaround 3 days: Tue, Wed, (Thu off) Fri
    ("@dana W-9 please, due friday", d(11, 27), True, True),  # same date, but asked for: rush
    ("@dana due tomorrow", d(11, 24), True, True),
    ("@dana in 2 business days", d(11, 25), True, True),
    ("@dana due 12/2", d(12, 2), True, True),  # 6 business days
    ("@dana due 12/3", d(12, 3), True, False),  # exactly 7
    ("@dana due 12/10", d(12, 10), True, False),
    ("@dana due 2026-12-04", d(12, 4), True, False),
    ("@dana !rush", d(11, 27), False, False),  # the rush priority is not a lead-time rush
    ("@maria due tomorrow", d(11, 24), True, False),  # sales asks for no lead time
    ("@maria please", d(11, 27), False, False),
    ("@support due tomorrow", d(11, 24), True, False),
], ids=lambda v: v if isinstance(v, str) else None)
def test_due_date_and_rush(note, due, from_note, rush):
    p = plan(note)
    assert (p.due, p.due_from_note, p.rush) == (due, from_note, rush)


@pytest.mark.parametrize(("note", "lead_days"), [
    ("@dana please", 7), ("@maria please", 0), ("please", 0),
])
def test_the_plan_says_what_lead_time_the_team_asks_for(note, lead_days):
    assert plan(note).lead_days == lead_days


def test_a_rush_plan_says_why():
    assert "rush: team accounting asks for 7 business days" in plan("@dana due friday").reasons


# The team's turnaround counts business days in the org's calendar from when it arrived.
@pytest.mark.parametrize(("now", "config", "due"), [
    (NOW, CONFIG, d(11, 27)),  # Mon → Tue, Wed, Fri (Thanksgiving off)
    (NOW, NO_HOLIDAYS, d(11, 26)),  # Mon → Tue, Wed, Thu
    (datetime(2026, 11, 20, 15, 0, tzinfo=UTC), CONFIG, d(11, 25)),  # Fri → Mon, Tue, Wed
    (datetime(2026, 11, 24, 3, 0, tzinfo=UTC), CONFIG, d(11, 27)),  # Tue 03:00 UTC is Mon 21:00 Chicago
    (datetime(2026, 11, 25, 15, 0, tzinfo=UTC), CONFIG, d(12, 1)),  # Wed → Fri, Mon, Tue
], ids=["monday", "monday-no-holidays", "friday", "monday-night-in-chicago", "before-thanksgiving"])
def test_default_due_is_the_turnaround_in_business_days_after_receipt(now, config, due):
    p = plan("@dana please", now=now, config=config)
    assert (p.due, p.due_from_note, p.rush) == (due, False, False)


# A phrase is read in the sender's timezone: 00:30 Tuesday in New York is still Monday in Chicago.
@pytest.mark.parametrize(("sender", "due"), [
    ("Sam Seller <sam@acme.test>", d(11, 25)),  # sam's timezone is New York: tomorrow is Wednesday
    ("Pat <pat@acme.test>", d(11, 24)),  # not in the directory: the org's Chicago, tomorrow is Tuesday
])
def test_a_due_phrase_is_read_in_the_senders_timezone(sender, due):
    p = plan("due tomorrow", sender=sender, sent="Tue, 24 Nov 2026 00:30:00 -0500",
             now=datetime(2026, 11, 24, 5, 35, tzinfo=UTC))
    assert p.due == due


# --- priority ----------------------------------------------------------------------------

@pytest.mark.parametrize(("note", "subject", "priority"), [
    ("@dana priority: high", "Fwd: W-9", "high"),
    ("@dana Priority = low", "Fwd: W-9", "low"),
    ("@dana priority rush", "Fwd: W-9", "rush"),
    ("@dana !rush", "Fwd: W-9", "rush"),
    ("@dana !urgent", "Fwd: W-9", "rush"),
    ("@dana !high", "Fwd: W-9", "high"),
    ("@dana", "[rush] Fwd: W-9", "rush"),
    ("@dana", "Fwd: [high] W-9", "high"),
    ("@dana priority: low", "[rush] W-9", "low"),  # the note before the subject
    ("@dana", "Fwd: W-9", "normal"),
    ("@dana hi!rush", "Fwd: W-9", "normal"),  # "!" inside a word is not a marker
    ("@dana priority: urgent", "Fwd: W-9", "normal"),  # not a priority word
], ids=lambda v: v if isinstance(v, str) else None)
def test_priority(note, subject, priority):
    assert plan(note, subject=subject).priority == priority


# --- watchers ----------------------------------------------------------------------------

@pytest.mark.parametrize(("note", "cc", "watchers"), [
    ("@dana cc @lee", None, [LEE]),
    ("@dana", "Lee Ledger <lee@acme.test>, Bill <bill@initech.example>", [LEE]),  # directory people only
    ("@dana fyi @maria", "lee@acme.test", [MARIA, LEE]),  # mentions, then Cc
    ("@dana fyi @lee", "lee@acme.test", [LEE]),  # once
    ("@dana fyi @sales", None, [MARIA]),  # a team watches through its lead
    ("@dana fyi @sam", "sam@acme.test", []),  # never the requester
    ("@dana and @dana", "dana@acme.test", []),  # never the owner
    ("please", "maria@acme.test, dana@acme.test", [MARIA]),  # +accounting's dana owns, not watches
    ("@dana", None, []),
], ids=["mention", "cc", "mention-then-cc", "once", "team-lead", "not-requester", "not-owner",
        "plus-owner", "none"])
def test_watchers(note, cc, watchers):
    # handoffs+accounting@: only the row without a mention in its note routes by it
    assert plan(note, cc=cc, plus=["accounting"]).watchers == watchers


def test_cc_of_the_owner_under_a_subject_tag_is_not_a_watcher():
    p = plan("please", subject="[accounting] W-9", cc="Dana <dana@acme.test>, Lee <lee@acme.test>")
    assert (p.owner.email, p.watchers) == (DANA, [LEE])


# --- title -------------------------------------------------------------------------------

@pytest.mark.parametrize(("subject", "title"), [
    ("Re: Fwd: [accounting] [EXT] W-9", "W-9"),
    ("Fwd: W-9 request", "W-9 request"),
    ("FW: RE: W-9", "W-9"),
    ("FWD: w-9", "w-9"),
    ("RE:Re: W-9", "W-9"),
    ("re:   fwd:  W-9", "W-9"),
    ("WG: AW: Rechnung", "Rechnung"),
    ("TR: RV: SV: VS: Antw: quote", "quote"),
    ("Doorst: offerte", "offerte"),
    ("RES: ENC: proposta", "proposta"),
    ("R: I: offerta", "offerta"),
    ("Odp: PD: oferta", "oferta"),
    ("Re[2]: W-9", "W-9"),
    ("Re: re[3]: W-9", "W-9"),
    ("[rush] Fwd: W-9", "W-9"),
    ("Re: [rush] Fwd: W-9", "W-9"),
    ("[Finance] W-9", "W-9"),  # a team alias we act on
    ("[dana] W-9", "W-9"),  # a handle we act on
    ("[EXTERNAL] Fwd: W-9", "W-9"),
    ("[ext] W-9", "W-9"),
    ("AW: [EXTERN] WG: Angebot", "Angebot"),
    ("[ACME] W-9", "[ACME] W-9"),  # a tag we do not act on stays
    ("Fwd: W-9: Re: the form", "W-9: Re: the form"),  # only the leading run goes
    ("Re: Release notes", "Release notes"),
    ("Iran deal", "Iran deal"),  # "I" is a prefix only with its colon
    ("Fwd:", ""),
    ("Fwd: [accounting]", ""),
])
def test_clean_title(subject, title):
    assert clean_title(subject, CONFIG) == title


@pytest.mark.parametrize(("subject", "forwarded_subject", "title"), [
    ("Fwd: [accounting] [EXT] W-9", "W-9 request", "W-9"),
    ("Fwd:", "Re: W-9 request", "W-9 request"),  # nothing left: the forwarded email's subject
    ("Fwd: [accounting]", "[EXT] W-9 request", "W-9 request"),
    ("Fwd:", "", "(no subject)"),
    ("Fwd:", None, "(no subject)"),
])
def test_plan_title(subject, forwarded_subject, title):
    assert plan("@dana", subject=subject, forwarded_subject=forwarded_subject).title == title


# --- no owner ----------------------------------------------------------------------------

@pytest.mark.parametrize(("note", "subject", "due", "from_note"), [
    ("can someone send the W-9?", "Fwd: W-9", d(11, 27), False),
    ("can someone send the W-9? due friday", "Fwd: W-9", d(11, 27), True),
    ("bill@initech.example wants it by 12/2", "Fwd: W-9", d(12, 2), True),  # the customer owns nothing
    ("@nobody please", "[acme] W-9", d(11, 27), False),
])
def test_the_no_owner_plan(note, subject, due, from_note):
    p = plan(note, subject=subject)
    assert (p.owner, p.team, p.cursor, p.lead_days) == (None, None, None, 0)
    assert (p.due, p.due_from_note, p.rush) == (due, from_note, False)
    assert p.reasons[0] == "no owner named in the note, address or subject"
    assert p.as_json()["owner"] is None


def test_the_no_owner_plan_keeps_cc_watchers():
    assert plan("can someone send the W-9?", cc="Lee <lee@acme.test>").watchers == [LEE]


def test_the_plan_is_for_the_sender():
    p = plan("@dana please", sender="Sam Seller <SAM@acme.test>")
    assert (p.requester, p.note) == (SAM, "@dana please")
