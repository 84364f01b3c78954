"""The long fuzz run (not in CI): hostile and broken mail through the run path, counted.

    .venv/bin/python bench/fuzz.py [N] [--corpus DIR] [--seed S] [--keep DIR]

Feeds N inputs (default 10,000) through ``ingest_one`` on a real SQLite file, as a message
fetched by ``nudger run`` goes: half built by the strategies in ``tests/fuzzmail.py``, half
real messages (tests/fixtures, plus the parser corpus when ``--corpus`` names it) broken
by mutations. Prints, beside their targets: inputs, escapes (an exception out of the
message's own handling: the run would stop), internal exceptions (quarantined because our
code raised, not because the mail was bad), mail queued outside allowed_domains, and the
slowest input with its time. ``--keep`` writes the slowest input and every failing one
there, to turn into a test. A progress line every 10,000 inputs.
"""

from __future__ import annotations

import argparse
import collections
import logging
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from conftest import ORG_TOML  # noqa: E402
from fuzzmail import RunPath, Verdict, corpus_messages, hostile_message, mutated  # noqa: E402
from hypothesis import HealthCheck, Phase, given, settings  # noqa: E402
from hypothesis import strategies as st  # noqa: E402

SLOWEST_TARGET = 5.0  # seconds for one input; the per-message budget ([limits] message_seconds) is 60
BATCH = 5000  # inputs per database: a fresh file now and then keeps one run's state from growing without end


def main() -> None:
    logging.getLogger("nudger").addHandler(logging.NullHandler())
    logging.getLogger("nudger").propagate = False
    parser = argparse.ArgumentParser()
    parser.add_argument("n", type=int, nargs="?", default=10_000)
    parser.add_argument("--corpus", type=Path)
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--keep", type=Path)
    args = parser.parse_args()
    messages = corpus_messages(Path(__file__).resolve().parent.parent / "tests" / "fixtures")
    if args.corpus:
        messages += corpus_messages(args.corpus)
    strategy = st.one_of(hostile_message(), mutated(messages))
    counts: collections.Counter[str] = collections.Counter()
    escapes: list[Verdict] = []
    internal: list[Verdict] = []
    outsiders: list[Verdict] = []
    slowest: tuple[float, bytes] = (0.0, b"")  # by CPU seconds: wall time on a shared machine measures the others
    slowest_wall = 0.0
    keep = args.keep
    if keep:
        keep.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        state = {"path": None, "batch": -1}

        def path_for(i: int) -> RunPath:
            if i // BATCH != state["batch"]:
                state["batch"] = i // BATCH
                root = Path(tmp) / f"b{state['batch']}"
                root.mkdir()
                state["path"] = RunPath(root, ORG_TOML)
            return state["path"]  # type: ignore[return-value]

        @settings(max_examples=args.n, database=None, deadline=None, derandomize=args.seed is not None,
                  phases=[Phase.generate], suppress_health_check=list(HealthCheck))
        @given(raw=strategy)
        def feed(raw: bytes) -> None:
            nonlocal slowest, slowest_wall
            i = sum(counts.values())
            verdict = path_for(i).feed(raw)
            counts[verdict.outcome] += 1
            if verdict.cpu > slowest[0]:
                slowest = (verdict.cpu, raw)
            slowest_wall = max(slowest_wall, verdict.seconds)
            for found, bucket in ((verdict.escaped, escapes), (verdict.internal, internal),
                                  (verdict.outsiders, outsiders)):
                if found:
                    bucket.append(verdict)
                    if keep:
                        (keep / f"fail-{i}.eml").write_bytes(raw)
                        (keep / f"fail-{i}.txt").write_text(str(found))
            done = i + 1
            if done % 10_000 == 0:
                print(f"  {done:,} inputs, {time.perf_counter() - started:,.0f} s: {len(escapes)} escapes, "
                      f"{len(internal)} internal, {len(outsiders)} outside, slowest {slowest[0]:.2f} s CPU", flush=True)

        feed()
    total = sum(counts.values())
    elapsed = time.perf_counter() - started
    print(f"inputs               {total:>10,}   (asked {args.n:,}; {total / elapsed:,.0f}/s over {elapsed:,.0f} s)")
    print(f"escapes              {len(escapes):>10}   target 0")
    print(f"internal exceptions  {len(internal):>10}   target 0")
    print(f"mail to outsiders    {len(outsiders):>10}   target 0")
    print(f"slowest input        {slowest[0]:>10.3f} s CPU, target < {SLOWEST_TARGET:g} s ({len(slowest[1]):,} bytes; "
          f"slowest wall clock {slowest_wall:.2f} s)")
    print("outcomes             " + ", ".join(f"{k} {v:,}" for k, v in counts.most_common()))
    for verdict in (escapes + internal)[:3]:
        print("---\n" + (verdict.escaped or verdict.internal).strip().splitlines()[-1])
    if keep:
        (keep / "slowest.eml").write_bytes(slowest[1])


if __name__ == "__main__":
    main()
