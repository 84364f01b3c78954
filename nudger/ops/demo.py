"""``nudger demo``: a small sales org's fortnight, played through the real pipeline.

Sam in sales forwards customer emails; Legal and Accounting (who ask for different lead
times) get them; Dana acknowledges and finishes; Sam says thanks; an out-of-office reply is
ignored. Pat in Legal never answers, so the schedule takes over: a reminder, the due date,
overdue alerts, Sam told, and an escalation to the admin. Along the way: Sam's daily
digest, Monday's team digests and Friday's prompt to thank. Every step is a real email in
the inbound Maildir or a real cron run at its real local time.
"""

from __future__ import annotations

import email
import os
import shutil
from collections.abc import Callable
from datetime import datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo

from nudger.config import load_config, load_secrets
from nudger.core.calendars import calendar_for
from nudger.inbound.sources import MaildirSource
from nudger.maildir import deliver_to_maildir
from nudger.ops import sample_mail
from nudger.outbound.kinds import KINDS
from nudger.outbound.transports import MaildirTransport
from nudger.pipeline import RunSummary, run_once
from nudger.runtime import Runtime
from nudger.state.store import Store

MARKER = ".nudger-demo"
TZ = ZoneInfo("America/Chicago")
SAM = "Sam Seller <sam@acme.test>"
CRON = "(cron: something fell due)"

DEMO_CONFIG = """\
# The demo org. Every key is explained in nudger.example.toml.
[org]
domain = "acme.test"
timezone = "America/Chicago"
holidays = "US"
admin = "maria"

[database]
path = "nudger.db"

[inbound]
source = "maildir"
path = "mail/inbox"

[outbound]
transport = "maildir"
path = "mail/outbox"
from_name = "Acme Handoffs"

[logging]
path = "nudger.log"

[[people]]
email = "sam@acme.test"
name = "Sam Seller"
handle = "sam"
team = "sales"
manager = "maria"
timezone = "America/New_York"
digest = "daily"

[[people]]
email = "maria@acme.test"
name = "Maria Boss"
handle = "maria"
team = "sales"

[[people]]
email = "dana@acme.test"
name = "Dana Numbers"
handle = "dana"
team = "accounting"
manager = "maria"

[[people]]
email = "lee@acme.test"
name = "Lee Ledger"
handle = "lee"
team = "accounting"

[[people]]
email = "pat@acme.test"
name = "Pat Counsel"
handle = "pat"
team = "legal"

[teams.sales]
lead = "maria"

[teams.accounting]
aliases = ["finance", "ar"]
lead = "dana"
min_lead_days = 7
turnaround_days = 5

[teams.legal]
lead = "pat"
min_lead_days = 2
"""


def at(day: int, hour: int, minute: int = 0, month: int = 11) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=TZ)


def dec(day: int, hour: int, minute: int = 0) -> datetime:
    return at(day, hour, minute, month=12)


def next_due(store: Store) -> datetime | None:
    """The next moment a run has work: a schedule slot falls due or held mail may go."""
    found = store.db.conn.execute(
        "select min(t) from (select min(next_at) as t from schedule where next_at > ''"
        " union all select min(send_after) from outbox where status = 'queued')").fetchone()[0]
    return datetime.fromisoformat(found) if found else None


def latest(outbox: Path, to: str, kind: str | None = None) -> EmailMessage:
    """The newest email nudger sent to ``to`` (of ``kind``, if given): what the next step answers."""
    address, found = parseaddr(to)[1], None
    for path in sorted((outbox / "new").iterdir()):
        msg = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        if parseaddr(str(msg["To"]))[1] == address and (kind is None or msg["X-Nudger-Kind"] == kind):
            found = msg
    if found is None:
        raise RuntimeError(f"demo: no {kind or 'email'} for {address} in {outbox}")
    return found


def forward(note: str, customer: str, customer_subject: str, customer_body: str, sent: datetime,
            customer_sent: datetime) -> bytes:
    """Sam forwards a customer's email to the handoff address with a note on top."""
    return sample_mail.forward(note, sender=SAM, to="handoffs@acme.test", subject="Fwd: " + customer_subject, date=sent,
                               customer=customer, customer_subject=customer_subject,
                               customer_body=customer_body, customer_date=customer_sent)


def reply(outbox: Path, kind: str, sender: str, text: str, sent: datetime) -> bytes:
    """``sender`` answers the newest ``kind`` email nudger sent them, quoting it."""
    return sample_mail.reply(latest(outbox, sender, kind), text, sender=sender, date=sent)


def prepare(directory: Path) -> Path:
    """A fresh demo workspace; refuses to touch a folder that isn't one of ours."""
    directory = directory.resolve()
    if directory.exists() and any(directory.iterdir()) and not (directory / MARKER).exists():
        from nudger.errors import NudgerError

        raise NudgerError(f"{directory} exists and is not a nudger demo folder; pick another DIRECTORY")
    for name in ("mail", "nudger.db", "nudger.db-wal", "nudger.db-shm", "nudger.db.lock", "nudger.log"):
        target = directory / name
        if target.is_dir():
            shutil.rmtree(target)
        elif target.exists():
            target.unlink()
    directory.mkdir(parents=True, exist_ok=True)
    (directory / MARKER).write_text("made by `nudger demo`; safe to delete\n")
    (directory / "nudger.toml").write_text(DEMO_CONFIG)
    return directory / "nudger.toml"


def run_demo(directory: Path, echo: Callable[[str], None]) -> RunSummary:
    config_path = prepare(directory)
    config = load_config(config_path, {k: v for k, v in os.environ.items() if k != "NUDGER_SECRET"})
    secret, previous = load_secrets(config, {})
    assert config.inbound.path and config.outbound.path
    inbox, outbox = config.inbound.path, config.outbound.path
    source, transport = MaildirSource(inbox), MaildirTransport(outbox)
    store = Store.open(config.database_path)
    total = RunSummary()
    n = 0

    def cron_until(until: datetime) -> None:
        """The cron runs between two story steps, each at the moment something falls due
        (a perfect cron; a real one every 5 minutes sends the same emails a little later)."""
        while (due := next_due(store)) is not None and due < until:
            step(due.astimezone(TZ), CRON, None)

    def step(when: datetime, what: str, message: bytes | None) -> None:
        nonlocal n
        if what != CRON:
            cron_until(when)
        if message is not None:
            n += 1
            deliver_to_maildir(inbox, message, f"{int(when.timestamp())}.demo{n:03d}.acme")
        last = store.db.conn.execute("select coalesce(max(id), 0) from outbox").fetchone()[0]
        run_id = store.start_run(when, when)  # so `status` shows the demo's last run
        summary = run_once(Runtime(config, store, when, secret, previous), source, transport)
        store.finish_run(run_id, when, summary.as_json())
        for field in ("ingested", "created", "applied", "refused", "ignored", "queued", "scheduled", "sent"):
            setattr(total, field, getattr(total, field) + getattr(summary, field))
        if what != CRON or summary.did_something():
            echo(f"{when:%a %d %b %H:%M}  {what:<58} → {summary.line()}")
        for kind, to, send_after in store.db.conn.execute(
                "select kind, recipient, send_after from outbox where id > ? order by id", [last]):
            if KINDS[kind].scheduled:
                local = calendar_for(config, to).local(datetime.fromisoformat(send_after))
                person = config.person_by_email(to)
                echo(f"{'':19}↳ {kind} to {person.name if person else to}, "
                     f"{local:%a %d %b %H:%M} their time ({local.tzname()})")

    echo(f"nudger demo in {config_path.parent}\n")
    step(at(23, 9, 12), "Sam forwards Globex's NDA redlines to @legal", forward(
        "@legal can you review Globex's redlines on the NDA? They want to sign by Friday.\n"
        "due friday\n\nThanks,\nSam",
        "Hank Scorpio <hank.scorpio@globex.example>", "NDA redlines",
        "Hi Sam,\n\nAttached are our redlines on section 4 (term) and 7 (liability).\n"
        "If your counsel can turn these around this week we can sign on Friday.\n\nBest,\nHank",
        at(23, 9, 12), at(22, 18, 40)))
    step(at(23, 10, 5), "Sam forwards Initech's W-9 request to finance (rush)", forward(
        "@finance Initech needs our W-9 and a bank letter to set us up as a vendor.\n"
        "by Wednesday please !rush",
        "Bill Lumbergh <bill.lumbergh@initech.example>", "Vendor setup: W-9 and bank letter",
        "Hi Sam,\n\nTo get your first invoice paid this month we need a signed W-9 and a bank\n"
        "confirmation letter on your letterhead.\n\nThanks,\nBill", at(23, 10, 5), at(23, 8, 15)))
    step(at(23, 10, 20), "Pat's out-of-office answers the notice (ignored)",
         sample_mail.out_of_office(latest(outbox, "pat@acme.test"), sender="Pat Counsel <pat@acme.test>",
                                   date=at(23, 10, 20), back="Wednesday"))
    step(at(23, 13, 30), "Dana replies \"ack\"",
         reply(outbox, "new_handoff", "Dana Numbers <dana@acme.test>", "ack, on it.", at(23, 13, 30)))
    step(at(25, 16, 20), "Dana replies \"done\" with a note",
         reply(outbox, "new_handoff", "Dana Numbers <dana@acme.test>",
               "done\nW-9 and bank letter sent to Bill at Initech.", at(25, 16, 20)))
    step(at(25, 16, 45), "Sam replies \"thanks ...\"",
         reply(outbox, "done", SAM, "Thanks Dana, you saved the deal!", at(25, 16, 45)))
    step(at(25, 22, 10), "Sam forwards a late-night request to @lee", forward(
        "@lee can you send Globex an updated quote with the 5% discount? by Dec 4",
        "Hank Scorpio <hank.scorpio@globex.example>", "Updated quote",
        "Sam, can we get the revised quote before our budget meeting?\n\nHank",
        at(25, 22, 10), at(25, 17, 2)))
    step(at(26, 8, 0), "Thanksgiving: a holiday, Lee's notice waits", None)
    step(at(27, 8, 0), "Friday 08:00: Lee's day starts; #1 is due today", None)
    step(at(30, 8, 0), "Monday: #1 is overdue; the team digests", None)
    step(dec(1, 10, 0), "Lee replies \"done\" on the quote",
         reply(outbox, "new_handoff", "Lee Ledger <lee@acme.test>", "done\nQuote v2 sent to Hank.", dec(1, 10, 0)))
    step(dec(2, 8, 0), "Wednesday: #1 is 3 business days late", None)
    step(dec(4, 8, 0), "Friday: the prompt to thank", None)

    emails = sorted((outbox / "new").glob("*.eml"))
    echo("")
    echo(f"{len(emails)} emails are in {outbox / 'new'} (one file each; open them in any mail reader).")
    echo(f"Handoffs: nudger --config {config_path} items     Timeline: nudger --config {config_path} show 2")
    echo(f"Summary: {total.created} handoffs created, {total.applied} replies applied, "
         f"{total.ignored} automated messages ignored, {total.scheduled} scheduled emails, "
         f"{total.sent} emails sent.")
    echo(f"Coming next: nudger --config {config_path} upcoming --now {dec(4, 8, 0):%Y-%m-%dT%H:%M}")
    store.close()
    return total
