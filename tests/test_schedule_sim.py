"""A fortnight of a small org, run in-process with the clock stepped (no sleeps).

Two timezones nine hours apart (Los Angeles, Berlin), weekends, Good Friday (DE), Europe's
spring-forward night, handoffs acked, snoozed, blocked, done early and left overdue. Stepped
every 5 minutes and every 6 hours the runs queue the same set of (recipient, dedupe key);
every kind shows up at its right local time; nothing reaches anyone outside their business
hours; each overdue handoff escalates once; after a 3-day outage one run sends one digest per
person and each missed reminder once.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from nudger.config import load_config
from nudger.core.calendars import calendar_for
from nudger.core.tokens import reply_address
from nudger.inbound.sources import MaildirSource
from nudger.maildir import deliver_to_maildir
from nudger.ops import sample_mail
from nudger.outbound.kinds import KINDS
from nudger.outbound.transports import MaildirTransport
from nudger.pipeline import run_once
from nudger.runtime import Runtime
from nudger.state.store import Store

SECRET = b"simulation-secret-0123456789abcdef"
ORG = """\
[org]
domain = "acme.test"
timezone = "Europe/Berlin"
holidays = "DE"
admin = "maria"

[database]
path = "nudger.db"

[[people]]
email = "sam@acme.test"
name = "Sam Seller"
team = "sales"
manager = "maria"
digest = "daily"
timezone = "America/Los_Angeles"

[[people]]
email = "maria@acme.test"
name = "Maria Boss"
team = "sales"
digest = "weekly"

[[people]]
email = "dana@acme.test"
name = "Dana Numbers"
team = "accounting"
manager = "maria"
digest = "daily"

[[people]]
email = "lee@acme.test"
name = "Lee Ledger"
team = "accounting"
manager = "dana"
digest = "weekly"
timezone = "America/Los_Angeles"

[teams.sales]
lead = "maria"

[teams.accounting]
lead = "dana"
"""

START = datetime(2026, 3, 23, 0, 0, tzinfo=UTC)  # Monday; Berlin springs forward on Sunday 29th
END = datetime(2026, 4, 5, 23, 59, tzinfo=UTC)  # Good Friday is 3 April


def z(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


# (arrival UTC, sender, handoff it answers or None for a forward, text)
STORY = [
    (z("2026-03-23T08:00"), "sam", None, "@dana W-9 for Initech please, due friday"),          # 1: acked, done early
    (z("2026-03-23T08:10"), "sam", None, "@lee can you send Globex the credit form? due wednesday"),  # 2: never acked
    (z("2026-03-23T10:00"), "dana", 1, "ack"),
    (z("2026-03-24T07:00"), "sam", None, "@dana the Hooli invoice copy, due thursday"),          # 3: snoozed, done
    (z("2026-03-24T08:00"), "sam", None, "@lee Umbrella tax exemption, due friday"),             # 4: blocked
    (z("2026-03-24T09:00"), "dana", 3, "ack"),
    (z("2026-03-24T17:00"), "lee", 4, "ack"),
    (z("2026-03-25T08:00"), "sam", None, "@dana Stark's remittance advice, due monday"),         # 5: left overdue
    (z("2026-03-25T09:00"), "dana", 1, "done\nsent it over"),
    (z("2026-03-25T10:00"), "sam", 3, "snooze 1w"),
    (z("2026-03-25T10:30"), "dana", 5, "ack"),
    (z("2026-03-26T17:00"), "lee", 4, "blocked waiting for the signed form"),
    (z("2026-04-01T10:00"), "dana", 3, "done"),
]


@dataclass
class Org:
    root: Path
    store: Store

    @property
    def config_path(self) -> Path:
        return self.root / "nudger.toml"


def make_org(root: Path) -> Org:
    root.mkdir(parents=True, exist_ok=True)
    (root / "nudger.toml").write_text(ORG)
    return Org(root, Store.open(root / "nudger.db"))


def deliver(org: Org, arrived: datetime, sender: str, handoff: int | None, text: str, n: int) -> None:
    if handoff is None:
        raw = sample_mail.forward(
            text, sender=f"{sender}@acme.test", to="handoffs@acme.test", subject=f"Fwd: request {n}",
            date=arrived, customer="Bill <bill@customer.example>", customer_subject=f"request {n}",
            customer_body="Hello, could you send it?", customer_date=arrived - timedelta(hours=1),
            message_id=f"<sim-{n}@mail.acme.test>")
    else:
        raw = sample_mail.plain(f"{sender}@acme.test", f"Re: [#{handoff}] request", text,
                                to=reply_address(SECRET, "handoffs", "acme.test", handoff, f"{sender}@acme.test"),
                                date=arrived, message_id=f"<sim-{n}@mail.acme.test>")
    path = deliver_to_maildir(org.root / "mail" / "inbox", raw, f"{int(arrived.timestamp())}.sim{n:04d}.host")
    os.utime(path, (arrived.timestamp(), arrived.timestamp()))


def simulate(root: Path, step: timedelta, outage: tuple[datetime, datetime] | None = None) -> tuple[Org, list]:
    """Run the org from START to END with a run every ``step`` (none inside ``outage``).
    Returns the org and, for the outage, what the first run after it queued."""
    org = make_org(root)
    config = load_config(org.config_path, {})
    source = MaildirSource(org.root / "mail" / "inbox")
    transport = MaildirTransport(org.root / "mail" / "outbox")
    pending = list(enumerate(STORY, 1))
    clock = START
    after_outage: list = []
    while clock <= END:
        while pending and pending[0][1][0] <= clock:
            n, (arrived, sender, handoff, text) = pending.pop(0)
            deliver(org, arrived, sender, handoff, text, n)
        if outage and outage[0] <= clock < outage[1]:
            clock += step
            continue
        before = {r[0] for r in org.store.db.conn.execute("select id from outbox")}
        run_once(Runtime(config, org.store, clock, SECRET), source, transport)
        if outage and not after_outage and clock >= outage[1]:
            after_outage = [r for r in rows(org) if r["id"] not in before]
        clock += step
    return org, after_outage


def rows(org: Org) -> list[dict]:
    return [dict(zip(("id", "kind", "recipient", "dedupe_key", "send_after", "handoff_id"), r, strict=True))
            for r in org.store.db.conn.execute(
                "select id, kind, recipient, dedupe_key, send_after, handoff_id from outbox order by id")]


@pytest.fixture(scope="module")
def every_5_minutes(tmp_path_factory) -> Org:
    return simulate(tmp_path_factory.mktemp("five"), timedelta(minutes=5))[0]


@pytest.fixture(scope="module")
def every_6_hours(tmp_path_factory) -> Org:
    return simulate(tmp_path_factory.mktemp("six"), timedelta(hours=6))[0]


SCHEDULED = {k.name for k in KINDS.values() if k.scheduled}


def test_every_5_minutes_and_every_6_hours_queue_the_same_mail(every_5_minutes, every_6_hours) -> None:
    fast = {(r["recipient"], r["dedupe_key"]) for r in rows(every_5_minutes)}
    slow = {(r["recipient"], r["dedupe_key"]) for r in rows(every_6_hours)}
    assert fast == slow
    kinds = {r["kind"] for r in rows(every_5_minutes)}
    assert SCHEDULED <= kinds, SCHEDULED - kinds


def _local(org: Org, row: dict) -> datetime:
    config = load_config(org.config_path, {})
    return calendar_for(config, row["recipient"]).local(datetime.fromisoformat(row["send_after"]))


def test_nothing_reaches_anyone_outside_their_business_hours(every_5_minutes) -> None:
    config = load_config(every_5_minutes.config_path, {})
    for row in rows(every_5_minutes):
        if KINDS[row["kind"]].answer:
            continue  # an answer to a person's own message goes at once, at any hour
        cal = calendar_for(config, row["recipient"])
        at = datetime.fromisoformat(row["send_after"])
        assert cal.is_business_time(at), (row, cal.local(at))
    assert not any(_local(every_5_minutes, r).date().isoformat() == "2026-04-03"
                   for r in rows(every_5_minutes)), "Good Friday is a holiday"


def test_each_kind_at_its_local_time(every_5_minutes) -> None:
    by_key = {r["dedupe_key"]: r for r in rows(every_5_minutes)}

    def at(key: str) -> str:
        return _local(every_5_minutes, by_key[key]).strftime("%a %d %H:%M %Z")

    # Lee (Los Angeles) got #2 on Monday at 08:00 his time; 4 business hours later, a reminder.
    assert at("ack_reminder:2:lee@acme.test") == "Mon 23 12:00 PDT"
    assert "ack_reminder:1:dana@acme.test" not in by_key  # Dana acked in time
    assert at("due_soon:2:2026-03-25") == "Wed 25 08:00 PDT"
    assert at("overdue:2:2026-03-25:0") == "Thu 26 08:00 PDT"
    assert at("overdue_notice:2:2026-03-25") == "Thu 26 08:00 PDT"  # Sam is in Los Angeles too
    assert at("overdue:2:2026-03-25:1") == "Mon 30 08:00 PDT"  # every 2 business days
    assert at("overdue:2:2026-03-25:2") == "Wed 01 08:00 PDT"
    assert "overdue:2:2026-03-25:3" not in by_key  # its day is after Good Friday, past the end
    assert at("escalation:2:2026-03-25") == "Mon 30 08:00 CEST"  # to Dana, Lee's manager, in Berlin
    # Berlin springs forward on the 29th: Dana's 08:00 stays 08:00, one per business day
    # (none on Monday the 23rd: at 08:00 she had nothing yet, and an empty digest is not sent).
    dana = sorted(k for k in by_key if k.startswith("daily_digest:dana@"))
    assert [at(k) for k in dana][:5] == ["Tue 24 08:00 CET", "Wed 25 08:00 CET", "Thu 26 08:00 CET",
                                          "Fri 27 08:00 CET", "Mon 30 08:00 CEST"]
    assert not any("2026-04-03" in k for k in dana)  # Good Friday: no daily digest
    # #5 is due Monday the 30th in Berlin: due soon that morning, overdue on Tuesday.
    assert at("due_soon:5:2026-03-30") == "Mon 30 08:00 CEST"
    assert at("overdue:5:2026-03-31:0" if "overdue:5:2026-03-31:0" in by_key else "overdue:5:2026-03-30:0") \
        == "Tue 31 08:00 CEST"
    assert at("escalation:5:2026-03-30") == "Thu 02 08:00 CEST"  # to Maria, Dana's manager
    assert at("weekly_digest:lee@acme.test:2026-W14") == "Mon 30 08:00 PDT"
    assert at("appreciation:sam@acme.test:2026-W13") == "Fri 27 08:00 PDT"  # #1, done, not thanked
    # The appreciation day of the second week is Good Friday: it waits past Easter Monday.
    assert at("appreciation:sam@acme.test:2026-W14") == "Tue 07 08:00 PDT"


@pytest.mark.parametrize("cron", ["every_5_minutes", "every_6_hours"])
def test_each_ack_reminder_comes_a_whole_window_after_the_notice_reached_the_owner(cron, request) -> None:
    """However late the run that told the owner (Lee's notice waits for his morning; a 6-hour
    cron tells him at 11:00), the reminder leaves him his 4 business hours from then."""
    org: Org = request.getfixturevalue(cron)
    config = load_config(org.config_path, {})
    sent = dict(((k, h, r), t) for k, h, r, t in org.store.db.conn.execute(
        "select kind, handoff_id, recipient, sent from outbox where kind in ('new_handoff', 'ack_reminder')"))
    reminders = [(h, r, t) for (k, h, r), t in sent.items() if k == "ack_reminder"]
    assert reminders
    for handoff, owner, at in reminders:
        told = datetime.fromisoformat(sent[("new_handoff", handoff, owner)])
        hours = calendar_for(config, owner).business_hours_between(told, datetime.fromisoformat(at))
        assert hours >= config.nudges.ack_reminder_hours, (handoff, owner, told, at)


def test_snoozed_blocked_and_done_are_quiet(every_5_minutes) -> None:
    keys = {r["dedupe_key"] for r in rows(every_5_minutes)}
    assert not any(k.startswith(("due_soon:3:2026-03-26", "overdue:3:")) for k in keys)  # snoozed, then done
    assert not any(k.startswith(("due_soon:4:", "overdue:4:")) for k in keys)  # blocked: Lee is not chased
    assert not any(k.startswith(("due_soon:1:", "overdue:1:", "escalation:1:")) for k in keys)  # done early


def test_each_overdue_handoff_escalates_exactly_once(every_5_minutes) -> None:
    escalations = [(r["handoff_id"], r["recipient"]) for r in rows(every_5_minutes) if r["kind"] == "escalation"]
    assert sorted(escalations) == [(2, "dana@acme.test"), (4, "dana@acme.test"), (5, "maria@acme.test")]


def test_after_a_three_day_outage_one_run_catches_up_once(tmp_path, every_5_minutes) -> None:
    outage = (z("2026-03-25T12:00"), z("2026-03-28T12:00"))
    org, caught_up = simulate(tmp_path / "outage", timedelta(hours=1), outage)
    digests = [r["recipient"] for r in caught_up if r["kind"].endswith("_digest")]
    assert sorted(digests) == sorted(set(digests)) == ["dana@acme.test", "sam@acme.test"]  # Friday's only
    assert all("2026-03-27" in r["dedupe_key"] for r in caught_up if r["kind"] == "daily_digest")
    keys = {r["dedupe_key"] for r in caught_up}
    # #2 was due Wednesday: its due-soon is dropped (the overdue alert supersedes it) ...
    assert "due_soon:2:2026-03-25" not in keys
    assert {"overdue:2:2026-03-25:0", "overdue_notice:2:2026-03-25"} <= keys
    # ... and every one-off reminder missed in the outage goes once, as on a 5-minute cron.
    missed = {r["dedupe_key"] for r in rows(every_5_minutes)
              if r["kind"] in ("ack_reminder", "overdue_notice", "escalation", "appreciation")
              and outage[0] <= datetime.fromisoformat(r["send_after"]) < outage[1]}
    assert missed <= keys
    assert len(keys) == len(caught_up)
    # The run after the outage is on a Saturday: what it queued waits for Monday's hours.
    config = load_config(org.config_path, {})
    for row in caught_up:
        at = datetime.fromisoformat(row["send_after"])
        assert calendar_for(config, row["recipient"]).is_business_time(at), row
        assert at >= outage[1]
