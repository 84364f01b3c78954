"""How fast does a run ingest a mailbox? Prints messages/s and SQL statements per message.

    .venv/bin/python bench/ingest.py [N]

Builds a temp workspace, drops N forwards (and N/2 replies) into the inbound Maildir, and
times `run_once` end to end (parse, classify, decide, render, commit, deliver to a Maildir).
Its statement count comes from a second, untimed run with SQLite's trace callback on (the
callback gets each statement with its parameters expanded, which slows what it watches).
"""

from __future__ import annotations

import email
import sys
import tempfile
import time
from datetime import datetime
from email.policy import default
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from conftest import ORG_TOML, make_forward  # noqa: E402

from nudger.config import load_config  # noqa: E402
from nudger.inbound.sources import MaildirSource
from nudger.maildir import deliver_to_maildir  # noqa: E402
from nudger.ops import sample_mail  # noqa: E402
from nudger.outbound.transports import MaildirTransport  # noqa: E402
from nudger.pipeline import run_once  # noqa: E402
from nudger.runtime import Runtime  # noqa: E402
from nudger.state.store import Store  # noqa: E402


def _runs(n: int, count: bool) -> dict:
    """Forwards, then acks to half the owners' notices, then an idle run, in a fresh workspace;
    seconds of each and, with ``count``, SQL statements (the callback slows what it watches)."""
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "nudger.toml").write_text(ORG_TOML)
        config = load_config(root / "nudger.toml", {})
        store = Store.open(config.database_path)
        statements = 0

        def counted(_sql: str) -> None:
            nonlocal statements
            statements += 1

        if count:
            store.db.conn.set_trace_callback(counted)
        inbox = MaildirSource(config.inbound.path)
        outbox = MaildirTransport(config.outbound.path)
        for i in range(n):
            deliver_to_maildir(inbox.path, make_forward(f"@dana item {i}, due friday"), f"{i:08d}.f.bench")
        now = datetime(2026, 11, 23, 9, 5, tzinfo=ZoneInfo("America/Chicago"))
        start = time.perf_counter()
        summary = run_once(Runtime(config, store, now, b"k" * 32), inbox, outbox)
        out: dict = {"forwards_s": time.perf_counter() - start, "forwards_sql": statements,
                     "forwards_line": summary.line()}
        sent = [
            email.message_from_bytes(p.read_bytes(), policy=default)
            for p in sorted((outbox.path / "new").iterdir())
        ]
        notices = [msg for msg in sent if "dana" in str(msg["To"])]
        for i, notice in enumerate(notices[: n // 2]):
            ack = sample_mail.reply(notice, "ack", sender="dana@acme.test", date=now.replace(hour=11))  # type: ignore[arg-type]
            deliver_to_maildir(inbox.path, ack, f"{n + i:08d}.r.bench")
        statements = 0
        start = time.perf_counter()
        summary = run_once(Runtime(config, store, now.replace(hour=11), b"k" * 32), inbox, outbox)
        out.update(replies_s=time.perf_counter() - start, replies_sql=statements, replies_line=summary.line(),
                   replies=max(len(notices[: n // 2]), 1))
        start = time.perf_counter()
        run_once(Runtime(config, store, now.replace(hour=12), b"k" * 32), inbox, outbox)
        out["idle_s"] = time.perf_counter() - start
        store.close()
    return out


def main(n: int) -> None:
    timed, counted = _runs(n, count=False), _runs(n, count=True)
    m = timed["replies"]
    print(f"forwards: {n} in {timed['forwards_s']:.2f} s = {n / timed['forwards_s']:.0f} messages/s, "
          f"{counted['forwards_sql'] / n:.1f} SQL statements per message; {timed['forwards_line']}")
    print(f"replies:  {m} in {timed['replies_s']:.2f} s = {m / timed['replies_s']:.0f} messages/s, "
          f"{counted['replies_sql'] / m:.1f} SQL statements per message; {timed['replies_line']}")
    print(f"idle run: {timed['idle_s'] * 1000:.1f} ms")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 500)
