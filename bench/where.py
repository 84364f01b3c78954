"""Where the pipeline's CPU goes, stage by stage, on bench/pipeline.py's seeded inbox.

    .venv/bin/python bench/where.py [--messages N]

Each named stage (a function of the pipeline) is timed inclusively with ``time.process_time``
(user + system CPU, the figure bench/pipeline.py compares with its floors) around every call,
in the forwards phase and then the replies phase, each in a process of its own. A stage's
figure includes the stages it calls (``render`` is inside ``queue``, which is inside
``commit``), so the column does not add up; the few timer calls per message cost about 1 %.
A profiler that samples wall time (py-spy) shows fsync waits as work; cProfile's own cost
per Python call makes Jinja and the parser look several times dearer than they are.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import io
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pipeline  # noqa: E402

# (module, attribute, what it is), in the order a message meets them.
STAGES = [
    ("nudger.pipeline", "ingest_one", "one message, end to end (dedupe, commit, acknowledge)"),
    ("nudger.inbound.identity", "dedupe_key", "its dedupe key (header only)"),
    ("nudger.state.inbound_log", "InboundLog.begin_attempt", "its attempt counted (own commit)"),
    ("nudger.ingest", "ingest_message", "read, decide, write (inside the FULL commit)"),
    ("nudger.mail.message", "parse_message", "parse (compat32, once)"),
    ("nudger.core.reading", "Reading.verdict", "classify: forward, reply, auto-reply, bounce"),
    ("nudger.core.reading", "Reading.forward", "find the forwarded email"),
    ("nudger.core.reading", "Reading.commands", "read the reply's commands"),
    ("nudger.core.intake", "plan_handoff", "plan the handoff: owner, due date, team"),
    ("nudger.state.store", "Store.apply", "SQL: the handoff and its events"),
    ("nudger.outbound.notify", "queue", "the emails it causes, queued"),
    ("nudger.outbound.render", "Renderer.render", "render one email"),
    ("nudger.outbound.render", "Renderer.context", "its template context"),
    ("nudger.outbound.inline", "Inliner.inline", "CSS inlined"),
    ("nudger.outbound.invites", "invite_for", "the .ics"),
    ("nudger.outbound.mime", "wire", "MIME bytes"),
    ("nudger.outbound.limits", "over_limit", "loop limits (one query)"),
    ("nudger.state.outbox", "OutboxRows.enqueue", "SQL: the email queued"),
    ("nudger.inbound.sources", "MaildirSource.acknowledge", "the inbox lets it go (new/ to cur/)"),
    ("nudger.pipeline", "schedule_stage", "the schedule pass"),
    ("nudger.pipeline", "deliver_due", "delivery, all of it"),
    ("nudger.maildir", "deliver_to_maildir", "write one email (tmp/, fsync, rename)"),
    ("nudger.pipeline", "record_result", "SQL: its answer recorded (own commit)"),
]


def _patch(spent: dict[str, list[float]]) -> None:
    def timed(fn: Callable[..., Any], name: str) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            start = time.process_time()
            try:
                return fn(*args, **kwargs)
            finally:
                entry = spent[name]
                entry[0] += 1
                entry[1] += time.process_time() - start
        return wrapper

    for module_name, attr, _ in STAGES:
        module = importlib.import_module(module_name)
        owner: Any = module
        *path, last = attr.split(".")
        for part in path:
            owner = getattr(owner, part)
        found = vars(owner)[last] if isinstance(owner, type) else getattr(owner, last)
        if isinstance(found, functools.cached_property):
            found.func = timed(found.func, attr)
            continue
        wrapped = timed(found, attr)
        setattr(owner, last, wrapped)
        if not path:  # modules that imported the function by name get the timed one too
            for name, other in list(sys.modules.items()):
                if name.startswith("nudger") and getattr(other, last, None) is found:
                    setattr(other, last, wrapped)
    _time_commits(spent)


def _time_commits(spent: dict[str, list[float]]) -> None:
    """``Rows.transaction``'s COMMIT (and its fsync, at FULL) apart from the work inside."""
    from nudger.state.db import Rows

    inner = Rows.transaction.__wrapped__  # type: ignore[attr-defined]

    @contextlib.contextmanager
    def transaction(self: Rows) -> Iterator[Any]:
        steps = inner(self)
        value = next(steps)
        yield value
        start = time.process_time()
        with contextlib.suppress(StopIteration):
            next(steps)
        entry = spent["COMMIT"]
        entry[0] += 1
        entry[1] += time.process_time() - start

    Rows.transaction = transaction  # type: ignore[method-assign,assignment]


def child(ws: Path, phase: str) -> None:
    spent: dict[str, list[float]] = defaultdict(lambda: [0, 0.0])
    _patch(spent)
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        pipeline.child(ws, phase)
    print(json.dumps({"run": json.loads(out.getvalue().strip().splitlines()[-1]), "spent": spent}))


def table(phase: str, messages: int, result: dict[str, Any]) -> str:
    run, spent = result["run"], result["spent"]
    what = {attr: text for _, attr, text in STAGES} | {"COMMIT": "every COMMIT (FULL: the WAL synced)"}
    lines = [f"### {phase}: {messages} messages, {run['sent']} emails sent; CPU ms per message "
             f"(ingest {run['ingest_cpu'] * 1000 / messages:.2f}, delivery "
             f"{run['deliver_cpu'] * 1000 / messages:.2f})", "",
             "| stage | what | calls per message | CPU ms per message | µs per call |",
             "| --- | --- | --- | --- | --- |"]
    for name, (calls, cpu) in sorted(spent.items(), key=lambda kv: -kv[1][1]):
        lines.append(f"| `{name}` | {what.get(name, '')} | {calls / messages:.2f} | {cpu * 1000 / messages:.3f} |"
                     f" {cpu * 1e6 / max(calls, 1):.0f} |")
    return "\n".join(lines)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=2000, help="forwards and auto-replies (replies: half)")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1])
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"building a seeded inbox of {args.messages} messages ...", file=sys.stderr)
        inbox = pipeline.build(root, args.messages)
        ws = root / "ws"
        pipeline._workspace(ws, inbox.config, inbox.forwards)
        env = {**os.environ, "NUDGER_SECRET": pipeline.KEY}
        for phase, files in (("forwards", inbox.forwards), ("replies", inbox.replies)):
            if phase == "replies":
                pipeline._drop(ws, inbox.replies)
            out = subprocess.run([sys.executable, __file__, "--child", str(ws), phase], capture_output=True,
                                 text=True, check=True, env=env)
            print(table(phase, len(files), json.loads(out.stdout.strip().splitlines()[-1])) + "\n")


if __name__ == "__main__":
    main()
