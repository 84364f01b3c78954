"""A run, as named stages: recover → fetch and ingest → deliver.

Each message is isolated: whatever goes wrong with one is quarantined with its reason and
the run goes on. The source hears ``acknowledge`` only after the message's commit.
"""

from __future__ import annotations

import logging
import re
import traceback
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from nudger.budget import OverBudget, time_budget
from nudger.crashpoints import crash_point
from nudger.errors import ConfigError, StorageFailure, TemporaryFailure, database_damage, storage_failure
from nudger.inbound.sources import InboundSource, RawMessage
from nudger.outbound.transports import DeliveryResult, Outgoing, Transport
from nudger.runtime import Runtime

log = logging.getLogger("nudger.run")

RETRY_FIRST = timedelta(minutes=5)
RETRY_MAX = timedelta(hours=6)
MAX_TEMPORARY_FAILURES = 16  # the 16th comes about 2.4 days after the first, with this backoff
BATCH = 200  # outbox rows claimed at once: their bytes are held in memory until answered (RSS)
MAX_BATCHES = 1000  # a bound on one run's deliver loop, never reached in practice


@dataclass
class RunSummary:
    ingested: int = 0
    created: int = 0
    applied: int = 0
    refused: int = 0
    ignored: int = 0
    duplicates: int = 0
    quarantined: int = 0
    queued: int = 0
    scheduled: int = 0  # of the queued: reminders, alerts and digests
    sent: int = 0
    retry: int = 0
    dead: int = 0
    untried: int = 0  # emails left queued by the relay's trouble, no attempt spent (see ``deliver_due``)
    recovered: int = 0
    attempted: int = 0  # emails handed to the transport
    relay_failures: int = 0  # of them, answered by the relay's trouble (unreachable, login, certificate)
    relay_error: str | None = None  # the relay's trouble in words (the last one seen)
    relay_cause: str = ""  # "unreachable" | "login" | "certificate"
    relay_fix: str = ""  # what the admin does about a login or certificate refused
    relay_retries: int = 0  # of ``retry``, those the relay's trouble caused (a connection lost mid-message)
    fetch_error: str | None = None
    fetch_config_error: bool = False  # the source's settings are wrong (a refused login): exit 78
    store_error: str | None = None  # our database or disk refused a write: exit 75, mail left at its source
    deliver_error: str | None = None  # the transport cannot deliver at all (an unwritable Maildir): exit 78
    outcomes: list[str] = field(default_factory=list)

    def did_something(self) -> bool:
        """Work done, worth the one line on stdout. A failure is not: the command reports
        it on stderr with its reason, once (under cron both streams reach the admin)."""
        return any((self.ingested, self.duplicates, self.queued, self.sent, self.retry - self.relay_retries,
                    self.dead))

    def relay_down(self) -> bool:
        """Every email this run tried met the relay's trouble: none was refused or taken."""
        return self.attempted > 0 and self.relay_failures == self.attempted

    def waiting(self) -> int:
        """Emails the relay's trouble left queued: untried, and retried after a lost connection."""
        return self.untried + self.relay_retries

    def line(self) -> str:
        detail = [f"{n} {label}" for n, label in (
            (self.created, "new"), (self.applied, "applied"), (self.refused, "refused"),
            (self.ignored, "ignored"), (self.quarantined, "quarantined")) if n]
        parts = [f"ingested {self.ingested}" + (f" ({', '.join(detail)})" if detail else "")]
        if self.duplicates:
            parts.append(f"{self.duplicates} already seen")
        parts += [f"queued {self.queued}" + (f" ({self.scheduled} scheduled)" if self.scheduled else ""),
                  f"sent {self.sent}"]
        if self.retry or self.dead:
            parts.append(f"retry {self.retry} · dead {self.dead}")
        # The reasons go to stderr (and the log), once: here only that something failed.
        if self.relay_down():
            parts.append({"login": "relay refused our login", "certificate": "relay certificate untrusted"}.get(
                self.relay_cause, "relay unreachable"))
        if self.fetch_error:
            parts.append("fetch failed")
        if self.store_error:
            parts.append("storing failed")
        if self.deliver_error:
            parts.append("delivery stopped")
        return " · ".join(parts)

    def as_json(self) -> dict:
        data = asdict(self)
        data.pop("outcomes")
        return data


def run_once(rt: Runtime, source: InboundSource, transport: Transport) -> RunSummary:
    """One cron run. Fetch failures don't stop delivery; the caller exits 75 for them.

    Only each ingested message's commit waits for the disk (synchronous = FULL, before the
    source lets the message go); every other commit of the run is bookkeeping that a power
    cut may roll back to an earlier state and the next run redoes (docs/delivery.md,
    "What is committed when")."""
    summary = RunSummary()

    def recover() -> None:
        summary.recovered = rt.store.recover_sending()

    with rt.store.db.synchronous("normal"):
        for stage, step in (("recover", recover), ("ingest", lambda: ingest_from(rt, source, summary)),
                            ("schedule", lambda: schedule_stage(rt, summary)),
                            ("deliver", lambda: deliver_due(rt, transport, summary)),
                            ("forget", lambda: forget_sent(rt))):
            guarded(summary, stage, step)
    return summary


def guarded(summary: RunSummary, stage: str, step: Callable[[], None]) -> None:
    """Run one stage; a fault of our own storage ends that stage only (the next ones still
    run: delivery after a failed ingest) and is remembered for exit 75. Anything else raises."""
    try:
        step()
    except Exception as exc:
        fault = storage_failure(exc)
        if fault is None:
            raise
        summary.store_error = summary.store_error or str(fault)
        log.error("%s stage: %s", stage, fault, extra=_LOG_ONLY)


def forget_sent(rt: Runtime) -> None:
    """Sent mail's bytes are kept ``keep_sent_days`` (for a look at what went out), then
    dropped: the outbox row, its dedupe key and the event log keep the facts. The attempt
    counts of messages recorded since go too."""
    rt.store.forget_sent_bytes(rt.now - timedelta(days=rt.config.outbound.keep_sent_days))
    rt.store.forget_attempts()


def schedule_stage(rt: Runtime, summary: RunSummary) -> None:
    """Queue the reminders, alerts and digests owed now (see ``nudger.scheduler``)."""
    from nudger.scheduler import schedule_due

    done = schedule_due(rt)
    summary.scheduled += done.queued
    summary.queued += done.queued


def ingest_from(rt: Runtime, source: InboundSource, summary: RunSummary) -> None:
    """Every message the source has, one at a time. A failing source (or a busy database) ends
    the stage with ``fetch_error``; the run goes on to schedule and deliver."""
    messages = source.fetch()
    try:
        while True:
            try:
                raw = next(messages)
            except StopIteration:
                return
            except ConfigError as exc:  # the source's own settings (a refused login): still deliver
                summary.fetch_error, summary.fetch_config_error = exc.told(), True
                log.error("fetch failed: %s", exc, extra=_LOG_ONLY)
                return
            ingest_one(rt, source, raw, summary)
    except StorageFailure:
        raise  # the run's own storage: the message stays at its source (see ``guarded``)
    except TemporaryFailure as exc:
        summary.fetch_error = str(exc)
        log.error("fetch failed: %s", exc, extra=_LOG_ONLY)
    except OSError as exc:
        summary.fetch_error = f"{type(exc).__name__}: {exc}"
        log.error("fetch failed: %s", summary.fetch_error, extra=_LOG_ONLY)


# The command prints the fetch failure as its one line on stderr; the log file keeps it too.
_LOG_ONLY = {"console": False}


def ingest_one(rt: Runtime, source: InboundSource, raw: RawMessage, summary: RunSummary,
               key: str | None = None) -> str:
    """Dedupe → ingest in one transaction (or quarantine) → acknowledge at the source.

    ``key``: the dedupe key the message is already known by (one released from quarantine).
    """
    # Imported here: the parsing and rendering stack costs ~0.3 s, and most cron runs are idle.
    from nudger.inbound.identity import body_hash, dedupe_key
    from nudger.ingest import Quarantine, ingest_message
    from nudger.state.store import AlreadyRecorded, InboundCheck

    if key is not None:
        check = InboundCheck("redelivery" if rt.store.inbound_seen(key) else "new", key)
    else:
        check = rt.store.inbound_check(dedupe_key(raw.data), body_hash(raw.data))
    key = check.key
    if check.verdict == "reused_id":
        # The same Message-ID on a different message: not a redelivery. Keep it, don't drop it.
        reason = (f"its Message-ID was already used by a different message (inbound "
                  f"#{check.seen_id}); kept here rather than dropped as a duplicate")
        quarantine_message(rt, raw, key, reason, "")
        source.acknowledge(raw.key, quarantined=True)
        summary.ingested += 1
        summary.quarantined += 1
        log.warning("%s: quarantined: %s", raw.key, reason)
        return "quarantined"
    if check.verdict == "redelivery":
        rt.store.record_redelivery(key)
        source.acknowledge(raw.key)
        summary.duplicates += 1
        log.info("%s: already seen (%s): recorded, no reply", raw.key, key)
        return "duplicate"
    crash_point("before_commit")
    limits = rt.config.limits
    try:
        tries = rt.store.begin_attempt(key, rt.now)  # committed first: a run killed below still counts it
        if tries >= limits.max_attempts:
            raise Quarantine(f"reading it stopped {tries} runs (killed or timed out) before this one; kept "
                             f"here so the mail behind it moves on ([limits] max_attempts)")
        # The one commit of a run that waits for the disk: the source lets the message go after it.
        with rt.store.db.synchronous("full"), rt.store.transaction():
            with time_budget(limits.message_seconds):
                # Its record is written last, under the write lock: when `ingest -` and a run
                # raced for one message, the second to get there rolls back (AlreadyRecorded).
                result = ingest_message(rt, raw.data, key, raw.arrived)
            crash_point("inside_commit")
        outcome = result.outcome
        summary.queued += result.queued
        log.info("%s: %s %s%s: %s", raw.key, result.kind, outcome,
                 f" #{result.handoff_id}" if result.handoff_id else "", "; ".join(result.reasons))
    except AlreadyRecorded:
        source.acknowledge(raw.key)
        summary.duplicates += 1
        return "duplicate"
    except (TemporaryFailure, ConfigError):
        raise  # not this message's fault: it stays at the source for the next run
    except (Exception, OverBudget) as exc:  # noqa: BLE001 - one bad message never stops the run
        if (fault := storage_failure(exc)) is not None:
            raise fault from exc  # a full disk, a read-only database: not the message's fault either
        if database_damage(exc) is not None:
            raise  # a corrupt database file: not the message's fault; the CLI says so (78)
        plain = isinstance(exc, (Quarantine, OverBudget))
        reason = str(exc) if plain else f"{type(exc).__name__}: {exc}"
        detail = "" if plain else traceback.format_exc()
        if not quarantine_message(rt, raw, key, reason, detail):
            source.acknowledge(raw.key)  # another process recorded it meanwhile
            summary.duplicates += 1
            return "duplicate"
        outcome = "quarantined"
        log.warning("%s: quarantined: %s", raw.key, reason)
    crash_point("after_commit")
    source.acknowledge(raw.key, quarantined=outcome == "quarantined")
    summary.ingested += 1
    field_name = {"created": "created", "applied": "applied", "answered": "applied", "refused": "refused",
                  "quarantined": "quarantined"}.get(outcome, "ignored")
    setattr(summary, field_name, getattr(summary, field_name) + 1)
    summary.outcomes.append(outcome)
    return outcome


def quarantine_message(rt: Runtime, raw: RawMessage, key: str, reason: str, detail: str) -> bool:
    """Keep the whole message with its reason, record it so a redelivery is not re-tried, and
    tell the person who sent it (when they are one of ours). False, and nothing kept, when
    another process recorded the message meanwhile (``ingest -`` racing a run)."""
    from nudger.inbound.identity import body_hash
    from nudger.ingest import tell_sender_quarantined
    from nudger.state.store import InboundRecord

    with rt.store.db.synchronous("full"), rt.store.transaction():
        if rt.store.inbound_seen(key):
            return False
        record = InboundRecord(key=key, received=rt.now, kind="unknown", outcome="quarantined",
                               reasons=[reason], body_hash=body_hash(raw.data))
        qid = rt.store.quarantine(raw.data, reason, detail, raw.key, rt.now, record)
        rt.store.end_attempt(key)
        try:
            with rt.store.db.atomic(), time_budget(rt.config.limits.message_seconds):
                # a savepoint: if telling fails, the quarantine still holds
                tell_sender_quarantined(rt, raw.data, key, reason, qid)
        except (Exception, OverBudget):  # noqa: BLE001
            log.exception("%s: could not tell the sender about quarantine #%s", raw.key, qid)
    return True


def retry_quarantined(rt: Runtime, quarantine_id: int, summary: RunSummary) -> str | None:
    """Release a held message and read it again as new (after its cause was fixed).

    Returns what became of it, or None when there is no such held message.
    """
    from nudger.inbound.identity import dedupe_key

    released = rt.store.release_quarantined(quarantine_id, dedupe_key)
    if released is None:
        return None
    from nudger.inbound.sources import StdinSource  # acknowledging a released one: nothing to do

    raw = RawMessage(released.source_key or f"quarantine/{quarantine_id}", released.raw)
    return ingest_one(rt, StdinSource(released.raw), raw, summary, released.dedupe_key)


def backoff(attempts: int) -> timedelta:
    """5 minutes after the first temporary failure, doubling, at most 6 hours apart."""
    return min(RETRY_FIRST * (2 ** max(attempts - 1, 0)), RETRY_MAX)


def deliver_due(rt: Runtime, transport: Transport, summary: RunSummary) -> None:
    """Deliver every email whose time has come, a batch at a time, each answer recorded as it
    comes. Each batch leaves its rows sent, failed, or waiting for a later time, so the loop
    ends; mail a failure causes (the requester told) goes out in the same run.

    A transport that cannot deliver anything (``ready`` fails: a Maildir we may not write)
    stops the stage before any row is claimed: the mail waits, queued, no retry spent, and
    ``deliver_error`` makes the command exit 78.

    A relay that cannot be reached at all (down, our login refused, its certificate
    untrusted) says nothing about the recipients: the emails it leaves "untried" stay queued
    with their attempts untouched and go at the next run, and the stage stops there (the
    transport would answer every later batch the same); only what the relay answers about a
    message counts toward its dead letter (docs/delivery.md, "What each answer does")."""
    try:
        transport.ready()
    except ConfigError as exc:
        summary.deliver_error = exc.told()
        log.error("delivery stopped: %s", summary.deliver_error, extra=_LOG_ONLY)
        return
    for _ in range(MAX_BATCHES):
        rows = rt.store.outbox_due(rt.now, BATCH)
        if not rows:
            break
        ready = _hold_over_hourly_limit(rt, _hold_outside_hours(rt, rows))
        if ready:
            untried = summary.untried
            deliver_batch(rt, transport, ready, summary)
            if summary.untried > untried:  # the relay is out of reach for this run
                summary.untried = rt.store.outbox_due_count(rt.now)  # these and the batches not claimed
                break
    if summary.relay_down():  # the command says it on stderr; the log keeps it too
        log.error("delivery: %s; %d emails stay queued", summary.relay_error, summary.waiting(), extra=_LOG_ONLY)


def deliver_batch(rt: Runtime, transport: Transport, rows: list[dict], summary: RunSummary) -> None:
    """Claim the rows, hand them to the transport, record each answer before the next one."""
    from nudger.core.tokens import bounce_address

    rt.store.mark_sending([r["id"] for r in rows])
    crash_point("after_claim")
    local, domain = rt.config.handoff_local, rt.config.handoff_domain
    batch = [Outgoing(r["id"], bounce_address(local, domain, r["id"]), r["recipient"], dated(rt, r)) for r in rows]
    by_id = {r["id"]: r for r in rows}
    with rt.store.delivery_records():
        for result in transport.deliver(batch):
            crash_point("after_send")
            record_result(rt, by_id[result.outbox_id], result, summary)


def record_result(rt: Runtime, row: dict, result: DeliveryResult, summary: RunSummary) -> None:
    """Sent; or a temporary failure, retried with backoff until MAX_TEMPORARY_FAILURES in a row;
    or dead with the server's words (a 5xx for the recipient is a hard failure)."""
    attempts = row["attempts"] + 1  # this one included
    summary.attempted += 1
    if result.relay:
        summary.relay_failures += 1
        summary.relay_error = result.answer.removeprefix("not tried: ")
        if summary.relay_cause in ("", "unreachable"):  # a cause the config can fix is the one told
            summary.relay_cause, summary.relay_fix = result.relay, result.fix
    if result.status == "untried":  # never reached the relay: queued as it was, no attempt spent
        rt.store.mark_untried(row["id"], result.answer)
        summary.untried += 1
        log.info("outbox %s to %s: stays queued: %s", row["id"], row["recipient"], result.answer)
        return
    if result.status == "sent":
        rt.store.mark_sent(row["id"], rt.now, result.answer)
        summary.sent += 1
        return
    if result.status == "retry" and attempts < MAX_TEMPORARY_FAILURES:
        rt.store.mark_retry(row["id"], rt.now + backoff(attempts), result.answer)
        summary.retry += 1
        summary.relay_retries += bool(result.relay)
        # The relay's trouble is said once for the run (see ``deliver_due``), not per email.
        (log.info if result.relay else log.warning)(
            "outbox %s to %s: will retry: %s", row["id"], row["recipient"], result.answer)
        return
    from nudger.core.undeliverable import Failure
    from nudger.outbound.failures import record_failure

    hard = result.status == "dead"
    reason = result.answer if hard else f"gave up after {attempts} temporary failures; the last: {result.answer}"
    summary.queued += record_failure(rt, Failure(row["id"], row["recipient"], row["kind"], reason,
                                                 "refused" if hard else "gave_up", hard, row["subject"]))
    summary.dead += 1
    log.error("outbox %s to %s: dead: %s", row["id"], row["recipient"], reason)


def _hold_over_hourly_limit(rt: Runtime, rows: list[dict]) -> list[dict]:
    """At most ``[limits] mail_per_recipient_hour`` emails to one person in any hour: the rest
    wait in the outbox until the hour has room (held, never dropped), oldest first."""
    most, hour = rt.config.limits.mail_per_recipient_hour, timedelta(hours=1)
    ready: list[dict] = []
    sent: dict[str, list[datetime]] = {}
    with rt.store.transaction():
        for row in rows:
            to = row["recipient"]
            if to not in sent:
                sent[to] = [datetime.fromisoformat(t) for t in rt.store.sent_since(to, rt.now - hour)]
            times = sent[to]
            if len(times) < most:
                ready.append(row)
                times.append(rt.now)
            else:  # room again when the most-th latest of them is an hour old
                rt.store.hold(row["id"], max(times[-most] + hour, rt.now + timedelta(minutes=1)))
    return ready


def _hold_outside_hours(rt: Runtime, rows: list[dict]) -> list[dict]:
    """Mail for other people that a late run finds outside their business hours waits for the
    next ones, even though its time had come: never sent at night because a run was late."""
    from nudger.core.calendars import calendar_for
    from nudger.outbound.kinds import KINDS

    ready = []
    with rt.store.transaction():
        for row in rows:
            kind = KINDS.get(row["kind"])
            cal = calendar_for(rt.config, row["recipient"])
            if kind is None or kind.answer or cal.is_business_time(rt.now):
                ready.append(row)
            else:
                rt.store.hold(row["id"], cal.next_business_start(rt.now))
    return ready


_DATE_LINE = re.compile(rb"^Date: [^\r\n]*\r?\n", re.M)


def dated(rt: Runtime, row: dict) -> bytes:
    """The email as sent now: its Date is when it goes out (in the recipient's time), not when
    it was queued; held mail would otherwise arrive dated hours or days in the past."""
    from email.utils import format_datetime

    from nudger.core.calendars import calendar_for

    raw: bytes = row["raw"]
    end = raw.find(b"\r\n\r\n")
    head, body = (raw[:end], raw[end:]) if end >= 0 else (raw, b"")
    when = calendar_for(rt.config, row["recipient"]).local(rt.now)
    return _DATE_LINE.sub(lambda _m: f"Date: {format_datetime(when)}\r\n".encode(), head, count=1) + body
