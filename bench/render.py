"""What one forward and one reply cost once a run is warm: CPU, SQL statements, commits that
wait for the disk, and where a rendered email's time goes.

    .venv/bin/python bench/render.py [--messages N] [--rounds R]

The seeded inbox of bench/pipeline.py (N forwards and auto-replies, then N/2 replies to the
notices), ingested by the run's own stages (``run_once``'s synchronous level included) in a
fresh process per round. CPU is getrusage's user + system time of each message after the
first 50 (imports, template compiles and the stylesheet's probes are paid once a run, not
per message); the schedule stage is left out (a first run looks at every person once).
Statements are what SQLite's trace callback sees (an executemany row counts as one), in a run
of their own that is not timed: CPython hands the callback each statement with its parameters
expanded (an email's bytes as hex), which cost about 0.2 ms a forward when it watched the
timed runs.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import pipeline  # noqa: E402

WARMUP = 50


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _timed(owner: Any, name: str, spent: dict[str, float], calls: Counter[str], label: str) -> None:
    """Count the CPU of ``owner.name`` under ``label`` (a wrapper, a few µs a call)."""
    inner: Callable[..., Any] = getattr(owner, name)

    def timed(*args: Any, **kwargs: Any) -> Any:
        start = time.process_time()
        try:
            return inner(*args, **kwargs)
        finally:
            spent[label] += time.process_time() - start
            calls[label] += 1

    setattr(owner, name, timed)


class _Trace:
    """SQLite's trace callback: statements, and commits by the synchronous level they ran at."""

    def __init__(self) -> None:
        self.statements = 0
        self.level = 1  # the run's own: run_once works at NORMAL
        self.commits: Counter[int] = Counter()

    def __call__(self, sql: str) -> None:
        self.statements += 1
        text = sql.strip().lower()
        if text.startswith("pragma synchronous ="):
            self.level = int(text.rsplit("=", 1)[1])
        elif text == "commit":
            self.commits[self.level] += 1


def child(ws: Path, inbox_json: Path, count: bool = False) -> None:
    """Both phases in this process; one JSON line. ``count``: SQL statements and commits
    counted (the trace callback on), CPU not worth reading."""
    import jinja2

    from nudger.app import open_runtime, open_source
    from nudger.config import load_config
    from nudger.outbound import render
    from nudger.pipeline import RunSummary, ingest_one

    files = json.loads(inbox_json.read_text())
    spent: defaultdict[str, float] = defaultdict(float)
    calls: Counter[str] = Counter()
    _timed(render.Renderer, "render", spent, calls, "render (whole email)")
    _timed(jinja2.Template, "render", spent, calls, "jinja: text and HTML")
    _timed(render.Inliner, "inline", spent, calls, "stylesheet inlined")
    _timed(render, "wire", spent, calls, "MIME bytes")
    _timed(render, "invite_for", spent, calls, ".ics")
    config = load_config(ws / "nudger.toml", os.environ)
    out: dict[str, Any] = {}
    for phase, now in (("forwards", pipeline.NOW), ("replies", pipeline.REPLIES_AT)):
        if phase == "replies":
            pipeline._drop(ws, [Path(p) for p in files["replies"]])
        with open_runtime(config, now, os.environ) as rt, open_source(config) as source, \
                rt.store.db.synchronous("normal"):
            trace = _Trace()
            if count:
                rt.store.db.conn.set_trace_callback(trace)
            summary = RunSummary()
            cpu = 0.0
            n = stmts = full = 0
            spent.clear()
            calls.clear()
            for i, raw in enumerate(source.fetch()):
                if i == WARMUP:
                    spent.clear()
                    calls.clear()
                start, s0, f0 = _cpu(), trace.statements, trace.commits[2]
                ingest_one(rt, source, raw, summary)
                if i >= WARMUP:
                    cpu += _cpu() - start
                    n += 1
                    stmts += trace.statements - s0
                    full += trace.commits[2] - f0
        emails = max(calls["render (whole email)"], 1)
        out[phase] = {"cpu_ms": 1000 * cpu / max(n, 1), "statements": stmts / max(n, 1),
                      "full_commits": full / max(n, 1), "emails_per_message": emails / max(n, 1),
                      "per_email_ms": {k: 1000 * v / emails for k, v in spent.items()},
                      "messages": n, "created": summary.created, "applied": summary.applied}
    print(json.dumps(out))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=400, help="forwards and auto-replies (replies: half)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--count", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child[0]), Path(args.child[1]), args.count)
        return
    env = {**os.environ, "NUDGER_SECRET": pipeline.KEY}
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"building a seeded inbox of {args.messages} messages ...", file=sys.stderr)
        inbox = pipeline.build(root, args.messages)
        listing = root / "inbox.json"
        listing.write_text(json.dumps({"replies": [str(p) for p in inbox.replies]}))
        rounds = []
        for i in range(args.rounds + 1):  # the last one counts statements, untimed
            counting = i == args.rounds
            print("counting statements (untimed) ..." if counting else f"round {i + 1} of {args.rounds} ...",
                  file=sys.stderr)
            pipeline._workspace(root / "ws", inbox.config, inbox.forwards)
            command = [sys.executable, __file__, "--child", str(root / "ws"), str(listing)]
            done = subprocess.run(command + (["--count"] if counting else []),
                                  capture_output=True, text=True, check=True, env=env)
            rounds.append(json.loads(done.stdout.strip().splitlines()[-1]))
        counted = rounds.pop()
    for phase in ("forwards", "replies"):
        cpu = sorted(r[phase]["cpu_ms"] for r in rounds)
        r0 = counted[phase]
        print(f"{phase}: {statistics.median(cpu):.2f} ms CPU a message ({cpu[0]:.2f}-{cpu[-1]:.2f}, "
              f"{len(cpu)} rounds), {r0['statements']:.1f} SQL statements, {r0['full_commits']:.2f} commits "
              f"waiting for the disk, {r0['emails_per_message']:.2f} emails rendered")
        for label in r0["per_email_ms"]:
            per = statistics.median(r[phase]["per_email_ms"].get(label, 0.0) for r in rounds)
            print(f"  {label:28s} {per:.3f} ms an email")


if __name__ == "__main__":
    main()
