"""The SMTP benchmark's pieces at 60 messages, against the suite's aiosmtpd: what it sends is
real notifications, each once with its own Message-ID, and both sides deliver all of them
(correctness only: bench/smtp.py measures time, the tests never do)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

from smtp_server import SmtpServer

_path = Path(__file__).resolve().parent.parent / "bench" / "smtp.py"
_spec = importlib.util.spec_from_file_location("bench_smtp", _path)
assert _spec and _spec.loader
bench = importlib.util.module_from_spec(_spec)
sys.modules["bench_smtp"] = bench
_spec.loader.exec_module(bench)


def test_both_sides_deliver_every_notification_once(tmp_path: Path, smtp: SmtpServer) -> None:
    config, store = bench.build(tmp_path, 60, smtp.port)
    messages = bench.prebuilt(store)
    assert len(messages) == 60
    bench.raw_aiosmtplib(smtp.port, messages)
    assert len(smtp.sink.accepted) == 60
    smtp.sink.reset()

    _seconds, summary = bench.nudger_deliver(config, store)
    assert (summary.sent, summary.retry, summary.dead) == (60, 0, 0)
    got = smtp.sink.accepted
    assert len({a.message_id for a in got}) == 60
    assert {a.kind for a in got} == {"receipt", "new_handoff"}
    assert {a.rcpt for a in got} == {"sam@acme.test", "dana@acme.test", "lee@acme.test"}
    ids = {row_id for row_id, _rcpt, _raw in messages}
    assert {int(a.mail_from.split(".")[1].split("@")[0]) for a in got} == ids  # +bounce.<row>
    sent = store.db.conn.execute("select count(*) from outbox where status = 'sent'").fetchone()[0]
    assert sent == 60
    bench.reset(store)
    assert store.db.conn.execute("select count(*) from outbox where status = 'queued'").fetchone()[0] == 60
    store.close()
