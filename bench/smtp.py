"""SMTP delivery speed: nudger's deliver stage beside raw aiosmtplib, to the same aiosmtpd.

    .venv/bin/python bench/smtp.py [N] [ROUNDS]      (default 10,000 notifications, 2 rounds)

Target (issue 13): delivering N queued notifications takes at most 1.5x the time raw
aiosmtplib takes to send the same prebuilt messages over the same number of reused
connections (`concurrency`, 4). The server is aiosmtpd on 127.0.0.1 in a process of its own
(in this process it would share the GIL with the client being measured) and counts what it
accepts. nudger's side is `deliver_due` on a real SQLite outbox: claiming the rows, the
business-hours check, stamping each Date, one transaction per answer, and QUIT at the end.
The rows are real notifications (receipts and owner notices rendered by ingesting forwards),
cloned with their own Message-IDs. Rounds alternate raw and nudger; the best of each counts.
"""

from __future__ import annotations

import asyncio
import multiprocessing as mp
import re
import sys
import tempfile
import time
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from conftest import ORG_TOML, make_forward  # noqa: E402
from smtp_server import free_port  # noqa: E402

from nudger.config import Config, load_config  # noqa: E402
from nudger.inbound.sources import MaildirSource  # noqa: E402
from nudger.maildir import deliver_to_maildir  # noqa: E402
from nudger.pipeline import RunSummary, deliver_due, ingest_from  # noqa: E402
from nudger.runtime import Runtime  # noqa: E402
from nudger.state.store import Store, iso  # noqa: E402

TARGET = 1.5
CONCURRENCY = 4
NOW = datetime(2026, 11, 23, 9, 5, tzinfo=ZoneInfo("America/Chicago"))
FORWARDS = 25  # rendered for real; their 50 emails are cloned up to N


def toml(port: int) -> str:
    return ORG_TOML.replace(
        '[outbound]\ntransport = "maildir"\npath = "mail/outbox"\n',
        f'[outbound]\ntransport = "smtp"\nhost = "127.0.0.1"\nport = {port}\ntls = "none"\n'
        f"concurrency = {CONCURRENCY}\n") + (
        # The cloned notifications go to the org's few people: the hourly cap per recipient
        # (30 by default) would hold all but 90 of them for later hours.
        "\n[limits]\nmail_per_recipient_hour = 1000000\n")


# --- the server, in its own process -------------------------------------------------------


class Counter:
    """An aiosmtpd handler that accepts everything and counts messages."""

    def __init__(self, count: Any) -> None:  # a multiprocessing Value("i")
        self.count = count

    async def handle_DATA(self, server, session, envelope):  # noqa: ANN001, N802
        with self.count.get_lock():
            self.count.value += 1
        return "250 2.0.0 Ok: queued"


def serve(port: int, count, ready, stop) -> None:  # noqa: ANN001
    from aiosmtpd.controller import Controller

    controller = Controller(Counter(count), hostname="127.0.0.1", port=port, ready_timeout=10)
    controller.start()
    ready.set()
    stop.wait()
    controller.stop()


# --- what is sent ------------------------------------------------------------------------------


def build(root: Path, n: int, port: int) -> tuple[Config, Store]:
    """A workspace whose outbox holds n queued, real notifications, due now."""
    (root / "nudger.toml").write_text(toml(port))
    config = load_config(root / "nudger.toml", {})
    store = Store.open(config.database_path)
    rt = Runtime(config, store, NOW, b"k" * 32)
    assert config.inbound.path is not None
    source = MaildirSource(config.inbound.path)
    for i in range(FORWARDS):
        owner = ("dana", "lee")[i % 2]
        deliver_to_maildir(source.path, make_forward(f"@{owner} item {i}, due friday"), f"{i:08d}.f.bench")
    ingest_from(rt, source, RunSummary())
    models = store.db.conn.execute(
        "select kind, handoff_id, recipient, message_id, subject, b.raw from outbox o"
        " join outbox_bytes b on b.id = o.id").fetchall()
    with store.transaction():
        store.db.conn.execute("delete from outbox")
        store.db.conn.execute("delete from outbox_bytes")
        for i in range(n):
            kind, hid, recipient, mid, subject, raw = models[i % len(models)]
            new_id = f"bench{i:06d}.{mid}"
            store.enqueue({"dedupe_key": f"bench:{i}", "kind": kind, "handoff_id": hid, "recipient": recipient,
                           "message_id": new_id, "subject": subject,
                           "raw": raw.replace(mid.encode(), new_id.encode()), "send_after": iso(NOW),
                           "created": iso(NOW)})
    return config, store


def prebuilt(store: Store) -> list[tuple[int, str, bytes]]:
    return [(r[0], r[1], r[2]) for r in store.db.conn.execute(
        "select o.id, recipient, b.raw from outbox o join outbox_bytes b on b.id = o.id order by o.id")]


def reset(store: Store) -> None:
    with store.transaction():
        store.db.conn.execute("update outbox set status = 'queued', attempts = 0, sent = null, last_error = null,"
                              " send_after = ?", [iso(NOW)])


# --- the two sides ------------------------------------------------------------------------------


def raw_aiosmtplib(port: int, messages: list[tuple[int, str, bytes]]) -> float:
    """The floor: the same bytes over CONCURRENCY connections, each reused for its share."""
    import aiosmtplib

    async def main() -> None:
        queue: asyncio.Queue[tuple[int, str, bytes]] = asyncio.Queue()
        for m in messages:
            queue.put_nowait(m)

        async def worker() -> None:
            smtp = aiosmtplib.SMTP(hostname="127.0.0.1", port=port, start_tls=False, local_hostname="localhost")
            await smtp.connect()
            while not queue.empty():
                n, rcpt, raw = queue.get_nowait()
                await smtp.sendmail(f"handoffs+bounce.{n}@acme.test", [rcpt], raw)
            await smtp.quit()

        await asyncio.gather(*(worker() for _ in range(CONCURRENCY)))

    start = time.perf_counter()
    asyncio.run(main())
    return time.perf_counter() - start


def nudger_deliver(config: Config, store: Store) -> tuple[float, RunSummary]:
    from nudger.app import open_transport

    summary = RunSummary()
    start = time.perf_counter()
    with open_transport(config, {}) as transport:
        deliver_due(Runtime(config, store, NOW, b"k" * 32), transport, summary)
    return time.perf_counter() - start, summary


def run(n: int, rounds: int, out=print) -> dict[str, float]:  # noqa: ANN001
    """Measure both sides; returns the figures (the smoke test checks correctness with them)."""
    port = free_port()
    ctx = mp.get_context("spawn")
    count, ready, stop = ctx.Value("i", 0), ctx.Event(), ctx.Event()
    server = ctx.Process(target=serve, args=(port, count, ready, stop), daemon=True)
    server.start()
    try:
        assert ready.wait(30), "aiosmtpd did not start"
        with tempfile.TemporaryDirectory() as tmp:
            config, store = build(Path(tmp), n, port)
            messages = prebuilt(store)
            best_raw = best_nudger = float("inf")
            for _ in range(rounds):
                count.value = 0
                best_raw = min(best_raw, raw_aiosmtplib(port, messages))
                assert count.value == n, f"raw: the server accepted {count.value} of {n}"
                reset(store)
                count.value = 0
                seconds, summary = nudger_deliver(config, store)
                best_nudger = min(best_nudger, seconds)
                assert (summary.sent, summary.retry, summary.dead) == (n, 0, 0), summary.line()
                assert count.value == n, f"nudger: the server accepted {count.value} of {n}"
                sent = store.db.conn.execute("select count(*) from outbox where status = 'sent'").fetchone()[0]
                assert sent == n, f"{sent} of {n} rows marked sent"
            store.close()
    finally:
        stop.set()
        server.join(10)
    ratio = best_nudger / best_raw
    out(f"SMTP delivery of {n:,} notifications to aiosmtpd on 127.0.0.1, {CONCURRENCY} reused connections "
        f"(best of {rounds})")
    out(f"  {'':34} {'seconds':>8} {'messages/s':>11}")
    out(f"  {'raw aiosmtplib, prebuilt messages':34} {best_raw:8.2f} {n / best_raw:11.0f}")
    out(f"  {'nudger deliver stage':34} {best_nudger:8.2f} {n / best_nudger:11.0f}")
    verdict = "met" if ratio <= TARGET else "MISSED"
    out(f"  {'nudger / raw':34} {ratio:7.2f}x   target <= {TARGET}x: {verdict}")
    return {"raw": best_raw, "nudger": best_nudger, "ratio": ratio}


_N = re.compile(r"^\d+$")

if __name__ == "__main__":
    args = [a for a in sys.argv[1:] if _N.match(a)]
    run(int(args[0]) if args else 10_000, int(args[1]) if len(args) > 1 else 2)
