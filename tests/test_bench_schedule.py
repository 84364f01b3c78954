"""The schedule benchmark's builder, at 100 handoffs: what it builds is a history a running
nudger could have written, and a full pass over it queues only what is owed (correctness
only: the bench measures time, the tests never do)."""

from __future__ import annotations

import shutil
import sqlite3
from datetime import datetime
from pathlib import Path

import pytest
from conftest import load_bench

from nudger.config import load_config
from nudger.core.calendars import calendar_for
from nudger.outbound.kinds import KINDS
from nudger.runtime import Runtime
from nudger.scheduler import schedule_due
from nudger.state.store import Store

bench = load_bench("schedule")


def queued(store: Store) -> list[tuple[str, str, str, str]]:
    return [tuple(r) for r in store.db.conn.execute(
        "select kind, recipient, dedupe_key, send_after from outbox where status = 'queued' order by id")]


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    return bench.build(tmp_path_factory.mktemp("bench") / "h100", 100, 10)


def full_pass(built, root: Path) -> tuple[list, object, Store]:
    shutil.copytree(built.root, root)
    config = load_config(root / built.config_path.name, {})
    store = Store.open(config.database_path)
    ledger = {r[0] for r in store.db.conn.execute("select dedupe_key from outbox")}
    summary = schedule_due(Runtime(config, store, bench.BENCH_NOW, bench.SECRET.encode()))
    return queued(store), (summary, ledger, config), store


def test_the_built_history_is_consistent(built) -> None:
    conn = sqlite3.connect(built.db_path)
    # Each handoff's row is the state its last event left it in; 3 to 8 events, in time order.
    rows = conn.execute(
        "select h.id, h.status, h.owner, h.team, h.due, e.status, e.owner, e.team, e.due from handoffs h"
        " join events e on e.id = (select x.id from events x where x.handoff_id = h.id order by x.at desc, x.id desc"
        " limit 1)").fetchall()
    assert len(rows) == built.handoffs == 100
    assert all(r[1:5] == r[5:9] for r in rows)
    counts = [n for (n,) in conn.execute("select count(*) from events group by handoff_id")]
    assert min(counts) >= 2 and max(counts) <= 8 and sum(counts) / len(counts) >= 3
    statuses = {s for (s,) in conn.execute("select distinct status from handoffs")}
    assert {"done", "acknowledged", "open"} <= statuses
    # Everything the ledger holds was owed before its end: a running nudger sent it.
    assert conn.execute("select count(*) from outbox where send_after >= ?",
                        [bench.LEDGER_END.isoformat()]).fetchone()[0] == 0
    conn.close()


def test_a_monday_pass_queues_only_what_is_owed_at_its_local_hour(built, tmp_path) -> None:
    mail, (summary, ledger, config), store = full_pass(built, tmp_path / "full")
    assert summary.looked_at == 100 + 10 + built.teams  # every handoff, person and team
    kinds = {kind for kind, *_ in mail}
    assert {"weekly_digest", "team_digest", "overdue", "due_soon", "overdue_notice"} <= kinds
    assert kinds <= {k.name for k in KINDS.values() if k.scheduled}
    people = {p.email for p in config.people}
    for kind, to, key, send_after in mail:
        assert key not in ledger and to in people
        at = datetime.fromisoformat(send_after)
        assert at >= bench.BENCH_NOW and calendar_for(config, to).is_business_time(at), (kind, to, at)
    # Run again at the same moment: nothing more is owed.
    again = schedule_due(Runtime(config, store, bench.BENCH_NOW, bench.SECRET.encode()))
    assert (again.looked_at, again.queued) == (0, 0)
    assert queued(store) == mail
    store.close()


def test_the_schedule_as_a_running_nudger_keeps_it_queues_the_same(built, tmp_path) -> None:
    """The handoffs left out of the steady schedule had every slot behind them, sent."""
    mail, _, store = full_pass(built, tmp_path / "full")
    store.close()
    kept = bench.keep_steady(built, tmp_path / "steady")
    config = load_config(kept.config_path, {})
    store = Store.open(config.database_path)
    summary = schedule_due(Runtime(config, store, bench.BENCH_NOW, bench.SECRET.encode()))
    assert summary.looked_at == kept.steady + 10 + built.teams < 100 + 10 + built.teams
    assert sorted(queued(store)) == sorted(mail)
    store.close()
