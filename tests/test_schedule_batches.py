"""The schedule reads its subjects in batches (a few queries per 200 subjects, light event
records, remembered calendar sums and team weeks); it must queue exactly what reading one
subject at a time did. The reference below is that per-subject pass, kept here as the oracle:
each handoff read with ``Store.handoff`` and its full decoded events, each person's digest
choice looked up alone, every ledger key asked per subject, team weeks computed afresh.

Both run the same simulated fortnight of the small org (two timezones, a holiday, DST,
acks, snoozes, blocks, a 3-day outage) and a fortnight of a seeded 200-handoff org built
by the benchmark's builder; the outbox rows (recipient, dedupe key, send time, subject,
body, status) must be identical.
"""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime, timedelta
from pathlib import Path

import pytest
import test_schedule_sim as sim
from test_bench_schedule import bench

from nudger import scheduler
from nudger.config import load_config
from nudger.core import schedule
from nudger.runtime import Runtime
from nudger.scheduler import BATCH, ScheduleSummary, look_again_if_config_changed, queue_slot, schedule_due
from nudger.state.store import Store


def per_subject_pass(rt: Runtime) -> ScheduleSummary:
    """The schedule stage as it was before batching: every read per subject."""
    summary = ScheduleSummary()
    look_again_if_config_changed(rt)
    while subjects := rt.store.due_subjects(rt.now, BATCH):
        with rt.store.transaction():
            choices = rt.store.digest_choices()
            for subject in subjects:
                summary.looked_at += 1
                slots = _slots(rt, subject, choices)
                sent = rt.store.sent_keys([s.key for s in slots])
                for slot in schedule.owed(slots, rt.now, sent):
                    if queue_slot(rt, slot):
                        summary.queued += 1
                        sent.add(slot.key)
                    else:
                        summary.skipped_empty += 1
                rt.store.set_next(subject, schedule.next_at(slots, rt.now, sent))
        if len(subjects) < BATCH:
            break
    return summary


def _slots(rt: Runtime, subject: str, choices: dict[str, str]) -> list[schedule.Slot]:
    kind, _, name = subject.partition(":")
    if kind == "h":
        handoff = rt.store.handoff(int(name))
        return schedule.handoff_slots(handoff, rt.store.events(handoff.id), rt.config) if handoff else []
    if kind == "p":
        person = rt.config.person_by_email(name)
        digest = choices.get(name) or (person.digest if person else "none")
        if choices.get(name):
            since = rt.store.digest_chosen_at(name)
        else:
            at = rt.store.setting("schedule_config_at")
            since = datetime.fromisoformat(at) if at else None
        return schedule.person_slots(name, digest, rt.config, rt.now, since=since)
    if kind == "t" and rt.config.team_named(name):
        return schedule.team_slots(name, rt.config, rt.now)
    return []


def outbox_rows(db: Path | Store) -> list[tuple]:
    """Every outbox row as the recipient would see it, body bytes and all."""
    conn = db.db.conn if isinstance(db, Store) else sqlite3.connect(db)
    return conn.execute("select recipient, dedupe_key, send_after, subject, b.raw, status, last_error from outbox o"
                        " left join outbox_bytes b on b.id = o.id order by dedupe_key").fetchall()


@pytest.fixture
def per_subject(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(scheduler, "schedule_due", per_subject_pass)


def test_the_small_org_fortnight_per_subject(tmp_path: Path, request: pytest.FixtureRequest) -> None:
    outage = (sim.z("2026-03-25T12:00"), sim.z("2026-03-28T12:00"))
    batched, _ = sim.simulate(tmp_path / "batched", timedelta(hours=1), outage)
    request.getfixturevalue("per_subject")
    single, _ = sim.simulate(tmp_path / "single", timedelta(hours=1), outage)
    mail = outbox_rows(batched.store)
    assert len(mail) > 40 and {r[1].split(":")[0] for r in mail} >= sim.SCHEDULED
    assert mail == outbox_rows(single.store)


def _fortnight(built, root: Path, run) -> list[tuple]:  # type: ignore[no-untyped-def]
    """The built org from the bench's Monday on, a run every 6 hours for 14 days; what a run
    queued for now is delivered before the next (as the deliver stage would)."""
    shutil.copytree(built.root, root)
    config = load_config(root / built.config_path.name, {})
    store = Store.open(config.database_path)
    clock = bench.BENCH_NOW
    while clock < bench.BENCH_NOW + timedelta(days=14):
        run(Runtime(config, store, clock, bench.SECRET.encode()))
        with store.transaction():
            store.db.conn.execute("update outbox set status = 'sent' where status = 'queued' and send_after <= ?",
                                  [clock.isoformat()])
        clock += timedelta(hours=6)
    rows = outbox_rows(store)
    store.close()
    return rows


def test_a_seeded_org_fortnight_per_subject(tmp_path: Path) -> None:
    built = bench.build(tmp_path / "built", 200, 20)
    batched = _fortnight(built, tmp_path / "batched", schedule_due)
    single = _fortnight(built, tmp_path / "single", per_subject_pass)
    new = [r for r in batched if r[4]]  # the ledger the builder wrote has no bodies
    assert len(new) > 40 and {"team_digest", "daily_digest", "overdue", "escalation"} <= {
        r[1].split(":")[0] for r in new}
    assert batched == single
