"""``nudger demo``: a small sales org's fortnight, played through the real pipeline.

Sam in sales forwards customer emails; Legal and Accounting (who ask for different lead
times) get them; Dana acknowledges and finishes; Sam says thanks; an out-of-office reply is
ignored. Pat in Legal never answers, so the schedule takes over: a reminder, the due date,
overdue alerts, Sam told, and an escalation to the admin. Along the way: Sam's daily
digest, Monday's team digests and Friday's prompt to thank. Every step is a real email in
the inbound Maildir or a real cron run at the moment something falls due; each is told in
the local time of the person it concerns, every email with the reason it went
(``demo_reasons``), and the whole timeline is written to ``mail/index.html`` (``demo_page``).
"""

from __future__ import annotations

import email
import os
import shutil
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from email.message import EmailMessage
from email.policy import default as default_policy
from email.utils import parseaddr
from pathlib import Path
from zoneinfo import ZoneInfo

from nudger.config import Config, load_config, load_secrets
from nudger.errors import NudgerError
from nudger.inbound.sources import MaildirSource
from nudger.maildir import deliver_to_maildir
from nudger.ops import demo_reasons, sample_mail
from nudger.ops.invocation import shell_line
from nudger.ops.local_time import short_day
from nudger.outbound.transports import MaildirTransport
from nudger.pipeline import RunSummary, run_once
from nudger.runtime import Runtime
from nudger.state.store import Store

MARKER = ".nudger-demo"
TZ = ZoneInfo("America/Chicago")  # the org's, and everyone's but Sam's
NY = ZoneInfo("America/New_York")  # Sam's
SAM = "Sam Seller <sam@acme.test>"
MAX_RUNS = 500  # a perfect cron over a fortnight runs a few dozen times; more is a bug, not a story


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

# Who is who, said once at the top of the console and of index.html.
CAST = (
    "Sam Seller sells from New York; everyone else works in Chicago, an hour behind: Maria Boss "
    "leads Sales and is the admin, Dana Numbers leads Accounting (which asks for 7 business days' "
    "notice) with Lee Ledger, and Pat Counsel is Legal (2 days' notice). Pat never answers."
)
HOW_TO_READ = (
    "Each step is told at the local time of the person who acts (a cron run: of the first person "
    "it mails); each email at its recipient's own time, with why it went. The cron runs "
    "`nudger run` whenever something falls due."
)


class FolderTaken(NudgerError):
    """The demo's folder holds something else: the demo never writes into it (exit 2, as a
    wrong argument)."""

    exit_code = 2


def at(day: int, hour: int, minute: int = 0, month: int = 11, tz: ZoneInfo = TZ) -> datetime:
    return datetime(2026, month, day, hour, minute, tzinfo=tz)


def dec(day: int, hour: int, minute: int = 0, tz: ZoneInfo = TZ) -> datetime:
    return at(day, hour, minute, month=12, tz=tz)


END = dec(4, 9, 0)  # the story stops on Friday 4 December at 09:00 in Chicago


@dataclass(frozen=True)
class DemoEmail:
    """One email the demo sent, as its timeline shows it."""

    outbox_id: int
    kind: str
    to: str
    to_name: str
    at: datetime  # when it went, in the recipient's own time
    subject: str
    why: str
    headline: str  # a few words for the cron run that sent it: what fell due
    file: Path  # its .eml in the outbound Maildir


@dataclass(frozen=True)
class Step:
    """One moment of the story: someone writes, or cron runs; and what nudger sent then."""

    at: datetime  # in the local time of ``whose``
    whose: str  # the first name of the person whose clock ``at`` is
    what: str
    sent: tuple[DemoEmail, ...] = ()
    waiting: tuple[str, ...] = ()  # emails queued now that wait for their recipient's business hours
    quiet: str = ""  # why nothing went, when nothing did

    @property
    def cron(self) -> bool:
        return self.what.startswith("cron")


@dataclass(frozen=True)
class FollowUp:
    """A command to try after the demo, as it can be pasted into a shell."""

    what: str
    command: str


@dataclass(frozen=True)
class DemoResult:
    config_path: Path
    outbox: Path  # the outbound Maildir
    index: Path  # the timeline, mail/index.html
    steps: tuple[Step, ...]
    summary: RunSummary
    follow_ups: tuple[FollowUp, ...]

    @property
    def emails(self) -> list[DemoEmail]:
        return [mail for step in self.steps for mail in step.sent]


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
        raise FolderTaken(f"{directory} exists and is not a nudger demo folder; pick another DIRECTORY")
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


class Play:
    """The story's runner: feeds each email to the inbound Maildir, runs the pipeline at that
    moment (and at every moment in between that something falls due), and keeps the steps."""

    def __init__(self, config: Config, echo: Callable[[str], None]) -> None:
        assert config.inbound.path and config.outbound.path
        self.config, self.echo = config, echo
        self.secret, self.previous = load_secrets(config, {})
        self.inbox, self.outbox = config.inbound.path, config.outbound.path
        self.source, self.transport = MaildirSource(self.inbox), MaildirTransport(self.outbox)
        self.store = Store.open(config.database_path)
        self.steps: list[Step] = []
        self.total = RunSummary()
        self._told_sent: set[int] = set()  # outbox ids already shown as sent
        self._told_waiting: set[int] = set()  # ... and as waiting for business hours
        self._reasons: dict[str, datetime] = {}  # each reason told, and when first: said once in full
        self._runs = 0

    def act(self, who: str, when: datetime, what: str, message: Callable[[], bytes] | None = None,
            quiet: str = "") -> None:
        """``who`` writes at ``when`` (in their own time); cron has run up to then."""
        self.cron_until(when)
        sent, waiting = self._run(when, message)
        self._add(Step(when, who, what, sent, waiting, quiet))

    def cron_until(self, until: datetime) -> None:
        """The cron runs between two story steps, each at the moment something falls due
        (a perfect cron; a real one every 5 minutes sends the same emails a little later)."""
        while (due := self.store.next_work_at()) is not None and due < until:
            sent, waiting = self._run(due, None)
            if not sent and not waiting:
                continue  # a slot with nothing in it (an empty digest): nothing to tell
            first = sent[0].at if sent else due.astimezone(TZ)
            whose = sent[0].to_name.split()[0] if sent else "Chicago"
            headlines = dict.fromkeys(mail.headline for mail in sent)
            self._add(Step(first, whose, "cron runs nudger: " + "; ".join(headlines), sent, waiting))

    def _add(self, step: Step) -> None:
        if not self.steps or self.steps[-1].at.date() != step.at.date():
            self.echo(f"\n{demo_reasons.day_title(step.at)}")
        self.steps.append(step)
        for line in step_lines(step, self._reasons):
            self.echo(line)

    def _run(self, when: datetime,
             message: Callable[[], bytes] | None) -> tuple[tuple[DemoEmail, ...], tuple[str, ...]]:
        """One `nudger run` at ``when``: what it sent, and what it queued that must wait."""
        self._runs += 1
        if self._runs > MAX_RUNS:
            raise RuntimeError(f"demo: more than {MAX_RUNS} runs; the schedule keeps falling due")
        if message is not None:
            deliver_to_maildir(self.inbox, message(), f"{int(when.timestamp())}.demo{self._runs:03d}.acme")
        summary = run_once(Runtime(self.config, self.store, when, self.secret, self.previous),
                           self.source, self.transport)
        self.store.record_run(when, when, when, summary.as_json())  # so `status` shows the demo's last run
        for name in ("ingested", "created", "applied", "refused", "ignored", "queued", "scheduled", "sent"):
            setattr(self.total, name, getattr(self.total, name) + getattr(summary, name))
        rows = self.store.outbox_log()
        sent = sorted((r for r in rows if r["status"] == "sent" and r["id"] not in self._told_sent),
                      key=lambda r: (r["send_after"], r["id"]))
        waiting = [r for r in rows if r["status"] == "queued" and r["id"] not in self._told_waiting]
        self._told_sent.update(r["id"] for r in sent)
        self._told_waiting.update(r["id"] for r in waiting)
        return (tuple(self._shown(r) for r in sent),
                tuple(demo_reasons.held(self._facts(r), datetime.fromisoformat(r["send_after"])) for r in waiting))

    def _facts(self, row: dict) -> demo_reasons.Facts:
        handoff = self.store.handoff(row["handoff_id"]) if row["handoff_id"] else None
        sent = datetime.fromisoformat(row["sent"] or row["send_after"])
        return demo_reasons.Facts(self.config, row["kind"], row["recipient"], row["dedupe_key"], handoff,
                                  datetime.fromisoformat(row["created"]), sent)

    def _shown(self, row: dict) -> DemoEmail:
        facts = self._facts(row)
        person = self.config.person_by_email(row["recipient"])
        return DemoEmail(row["id"], row["kind"], row["recipient"], person.name if person else row["recipient"],
                         facts.local(facts.sent), row["subject"], demo_reasons.why(facts),
                         demo_reasons.headline(facts), self.transport.file_for(row["id"]))


def step_lines(step: Step, told: dict[str, datetime], width: int = 100) -> list[str]:
    """A step as the console shows it: when and whose time, what happened, then each email
    that went (kind, recipient, their time, why) and each that waits. A reason already told
    (the same daily digest, again) is not spelled out again: ``told`` remembers when it was."""
    head = f"  {short_day(step.at)} {step.at:%H:%M} {step.at.tzname()}, {step.whose}'s time: {step.what}"
    lines = textwrap.wrap(head, width, subsequent_indent=" " * 6)
    for mail in step.sent:
        why = mail.why if mail.why not in told else f"as on {short_day(told[mail.why])}."
        told.setdefault(mail.why, mail.at)
        lines += textwrap.wrap(f"→ {mail.kind} to {mail.to_name}, {mail.at:%H:%M} {mail.at.tzname()}: {why}",
                               width, initial_indent=" " * 6, subsequent_indent=" " * 8)
    for note in step.waiting:
        lines += textwrap.wrap(f"⏸ {note}", width, initial_indent=" " * 6, subsequent_indent=" " * 8)
    if not step.sent and not step.waiting:
        lines += textwrap.wrap(f"→ nothing sent: {step.quiet or 'nothing was due'}", width,
                               initial_indent=" " * 6, subsequent_indent=" " * 8)
    return lines


def play_story(play: Play) -> None:
    """The fortnight. Sam's steps are at his New York time, everyone else's at Chicago's."""
    outbox = play.outbox
    play.act("Sam", at(23, 10, 12, tz=NY), "Sam forwards Globex's NDA redlines to @legal, due Friday", lambda: forward(
        "@legal can you review Globex's redlines on the NDA? They want to sign by Friday.\n"
        "due friday\n\nThanks,\nSam",
        "Hank Scorpio <hank.scorpio@globex.example>", "NDA redlines",
        "Hi Sam,\n\nAttached are our redlines on section 4 (term) and 7 (liability).\n"
        "If your counsel can turn these around this week we can sign on Friday.\n\nBest,\nHank",
        at(23, 10, 12, tz=NY), at(22, 18, 40)))
    play.act("Sam", at(23, 11, 5, tz=NY), "Sam forwards Initech's W-9 request to @finance (Accounting), "
             "due Wednesday: two days' notice where Accounting asks for seven", lambda: forward(
        "@finance Initech needs our W-9 and a bank letter to set us up as a vendor.\n"
        "by Wednesday please !rush",
        "Bill Lumbergh <bill.lumbergh@initech.example>", "Vendor setup: W-9 and bank letter",
        "Hi Sam,\n\nTo get your first invoice paid this month we need a signed W-9 and a bank\n"
        "confirmation letter on your letterhead.\n\nThanks,\nBill", at(23, 11, 5, tz=NY), at(23, 8, 15)))
    play.act("Pat", at(23, 10, 20), "Pat's mailbox answers the notice about #1 with an out-of-office reply",
             lambda: sample_mail.out_of_office(latest(outbox, "pat@acme.test"), sender="Pat Counsel <pat@acme.test>",
                                               date=at(23, 10, 20), back="Wednesday"),
             quiet="nudger never answers an automatic reply, and keeps chasing Pat")
    play.act("Dana", at(23, 13, 30), "Dana replies \"ack, on it.\" to the notice about #2", lambda: reply(
        outbox, "new_handoff", "Dana Numbers <dana@acme.test>", "ack, on it.", at(23, 13, 30)))
    play.act("Dana", at(25, 16, 20), "Dana replies \"done\" to #2, with a note: \"W-9 and bank letter sent\"",
             lambda: reply(outbox, "new_handoff", "Dana Numbers <dana@acme.test>",
                           "done\nW-9 and bank letter sent to Bill at Initech.", at(25, 16, 20)))
    play.act("Sam", at(25, 17, 45, tz=NY), "Sam replies to the done email: \"Thanks Dana, you saved the deal!\"",
             lambda: reply(outbox, "done", SAM, "Thanks Dana, you saved the deal!", at(25, 17, 45, tz=NY)))
    play.act("Sam", at(25, 23, 10, tz=NY), "Sam, late on the night before Thanksgiving, forwards Globex's quote "
             "request to @lee, due 4 December", lambda: forward(
        "@lee can you send Globex an updated quote with the 5% discount? by Dec 4",
        "Hank Scorpio <hank.scorpio@globex.example>", "Updated quote",
        "Sam, can we get the revised quote before our budget meeting?\n\nHank",
        at(25, 23, 10, tz=NY), at(25, 17, 2)))
    play.act("Lee", dec(1, 10, 0), "Lee replies \"done\" to #3, never having sent an ack: \"Quote v2 sent\"",
             lambda: reply(outbox, "new_handoff", "Lee Ledger <lee@acme.test>", "done\nQuote v2 sent to Hank.",
                           dec(1, 10, 0)))
    play.cron_until(END)


def run_demo(directory: Path, echo: Callable[[str], None]) -> DemoResult:
    from nudger.ops.demo_page import write_index

    config_path = prepare(directory)
    config = load_config(config_path, {k: v for k, v in os.environ.items() if k != "NUDGER_SECRET"})
    play = Play(config, echo)
    echo(f"nudger demo: a small sales org's fortnight, played through the real pipeline in {config_path.parent}")
    echo("")
    for paragraph in (CAST, HOW_TO_READ):
        echo(textwrap.fill(paragraph, 100))
    try:
        play_story(play)
    finally:
        play.store.close()
    result = DemoResult(config_path, play.outbox, play.outbox.parent / "index.html", tuple(play.steps), play.total,
                        follow_ups(config_path))
    write_index(result, CAST, HOW_TO_READ)
    for line in closing_lines(result):
        echo(line)
    return result


def follow_ups(config_path: Path) -> tuple[FollowUp, ...]:
    """Commands to try next, with this nudger's full path and the demo's config: they work
    pasted as they are, right after `pip install`, whatever PATH says."""
    base = ["--config", str(config_path)]
    now = ["--now", f"{END:%Y-%m-%dT%H:%M}"]  # the demo's clock, not today's
    return (
        FollowUp("The three handoffs:", shell_line(*base, "items")),
        FollowUp("Pat's handoff #1: its timeline, its emails and the next one due:",
                 shell_line(*base, "show", "1", *now)),
        FollowUp("Counts, the outbox and the demo's last run:", shell_line(*base, "status")),
        FollowUp("What would go out next, to whom, in their time:", shell_line(*base, "upcoming", *now)),
    )


def closing_lines(result: DemoResult) -> list[str]:
    s = result.summary
    return [
        "",
        f"{len(result.emails)} emails went out: {s.created} handoffs created, {s.applied} replies applied, "
        f"{s.ignored} automatic {'reply' if s.ignored == 1 else 'replies'} ignored, "
        f"{s.scheduled} reminders, alerts and digests.",
        "Every email, as HTML and as plain text, with why it went (open it in a browser):",
        f"  {result.index}",
        f"The emails themselves: {result.outbox / 'new'} (one .eml file each).",
        "",
        "Try next (each command works pasted as it is):",
        *[line for f in result.follow_ups for line in (f"  {f.what}", f"    {f.command}")],
    ]
