"""The whole pipeline beside its floors, on one seeded realistic inbox, in one run.

    .venv/bin/python bench/pipeline.py [--messages N] [--rounds R] [--write-results]

Per round (interleaved, so machine noise hits both sides alike), each in a fresh process:
- ingest: nudger's Maildir ingest of the forwards, then of the replies to its notices
  (parse, classify, decide, render, commit; schedule stage included) vs the parse floor:
  ``message_from_bytes(policy=default)`` + ``get_body().get_content()`` of the same files;
- delivery: nudger's deliver stage vs writing the same prebuilt bytes through tmp/ + fsync +
  rename into a Maildir;
- idle: ``nudger run -q`` with nothing to do vs ``python -c pass``;
- the work floor: the parse floor, plus one FULL commit per message inserting the bytes of the
  emails it caused (``store_floor``), plus the write floor: the I/O the promises need (one
  durable commit per message, an fsync per email) with no reading, deciding or rendering.
Figures are CPU ms per message (median of the rounds, min–max), wall seconds, peak RSS (at the
full inbox and at a quarter of it: it must be flat) and SQL statements per forward and per
reply (counted in an untimed run). Then the rows of the schedule and mail-server benches, one
round each: the first full schedule pass at ``--schedule-handoffs`` (default 100,000),
the IMAP source vs raw imapclient FETCH on a private Dovecot and SMTP delivery vs raw
aiosmtplib to aiosmtpd (2,000 messages at most). ``--write-results`` puts the table into
bench/RESULTS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

import corpus  # noqa: E402

NOW = datetime(2026, 11, 23, 9, 5, tzinfo=ZoneInfo("America/Chicago"))  # a Monday morning
REPLIES_AT = NOW.replace(hour=11)
KEY = "6b" * 32


@dataclass(frozen=True)
class Inbox:
    """The seeded messages on disk: forwards (and auto-replies), then the replies."""

    root: Path
    config: str
    forwards: list[Path]
    replies: list[Path]

    @property
    def files(self) -> list[Path]:
        return self.forwards + self.replies


def build(root: Path, n: int) -> Inbox:
    """Forwards first; the replies answer the notices a reference run sent (same key, same ids)."""
    config, people = corpus.org()
    fwd_dir, rep_dir = root / "corpus" / "forwards", root / "corpus" / "replies"
    fwd_dir.mkdir(parents=True)
    rep_dir.mkdir(parents=True)
    forwards = []
    for i, raw in enumerate(corpus.forwards(n, people, NOW.replace(hour=8))):
        forwards.append(fwd_dir / f"{i:06d}.eml")
        forwards[-1].write_bytes(raw)
    reference = root / "reference"
    _workspace(reference, config, forwards)
    _child(reference, "forwards")
    by_email = {p.email: p for p in people}
    replies = []
    for i, path in enumerate(sorted((reference / "mail" / "outbox" / "new").iterdir())):
        text = path.read_bytes()
        if b"X-Nudger-Kind: new_handoff" not in text or len(replies) >= n // 2:
            continue
        to = text.split(b"\nDelivered-To: ", 1)[1].split(b"\r\n", 1)[0].decode()
        words = corpus.REPLY_WORDS[i % len(corpus.REPLY_WORDS)]
        replies.append(rep_dir / f"{len(replies):06d}.eml")
        replies[-1].write_bytes(corpus.reply_to(text.split(b"\r\n", 2)[2], words, by_email[to], REPLIES_AT))
    shutil.rmtree(reference)
    return Inbox(root, config, forwards, replies)


def _workspace(ws: Path, config: str, files: list[Path]) -> None:
    if ws.exists():
        shutil.rmtree(ws)
    for sub in ("tmp", "new", "cur"):
        (ws / "mail" / "inbox" / sub).mkdir(parents=True)
    (ws / "nudger.toml").write_text(config)
    _drop(ws, files)


def _drop(ws: Path, files: list[Path]) -> None:
    for f in files:
        shutil.copyfile(f, ws / "mail" / "inbox" / "new" / f"{f.parent.name}-{f.name}")


def _child(ws: Path, phase: str, *, count: bool = False) -> dict:
    """One measured phase in a fresh process (its own RSS, no warm caches from the last).
    ``count``: count SQL statements instead of timing (see ``child``)."""
    command = [sys.executable, __file__, "--child", str(ws), phase] + (["--count"] if count else [])
    out = subprocess.run(command, capture_output=True, text=True, check=True, env={**os.environ, "NUDGER_SECRET": KEY})
    return json.loads(out.stdout.strip().splitlines()[-1])


def child(ws: Path, phase: str, count: bool = False) -> None:
    """Run ingest (+ schedule) and delivery, timing each; print one JSON line.

    Statements are counted only in a run of their own (``count``), never in a timed one:
    CPython's trace callback hands over each statement with its parameters expanded into the
    SQL text, so every insert of an email's bytes became a 40 KB hex string (a third of the
    SQL CPU of the timed runs before this)."""
    from nudger.app import open_runtime, open_source, open_transport
    from nudger.config import load_config
    from nudger.pipeline import RunSummary, deliver_due, ingest_from, schedule_stage

    config = load_config(ws / "nudger.toml", os.environ)
    now = NOW if phase == "forwards" else REPLIES_AT
    statements = 0

    def counted(_sql: str) -> None:
        nonlocal statements
        statements += 1

    with open_runtime(config, now, os.environ) as rt, open_source(config) as source, \
            open_transport(config) as transport:
        if count:
            rt.store.db.conn.set_trace_callback(counted)
        summary = RunSummary()
        c0, w0 = time.process_time(), time.perf_counter()
        ingest_from(rt, source, summary)
        schedule_stage(rt, summary)
        c1, w1 = time.process_time(), time.perf_counter()
        ingest_statements = statements
        deliver_due(rt, transport, summary)
        c2, w2 = time.process_time(), time.perf_counter()
    print(json.dumps({
        "ingest_cpu": c1 - c0, "ingest_wall": w1 - w0, "deliver_cpu": c2 - c1, "deliver_wall": w2 - w1,
        "statements": ingest_statements, "sent": summary.sent, "handoffs": summary.created,
        "applied": summary.applied, "refused": summary.refused, "quarantined": summary.quarantined,
        "rss_mb": peak_rss_mb(),
    }))


def peak_rss_mb() -> float:
    """This process's own peak RSS (the kernel's VmHWM). Not ``ru_maxrss``: on Linux a child
    inherits the high-water mark of the parent it was forked from (exec records the old
    memory map's), so the quarter-inbox child, started after the parent had held every sent
    email in write_floor, read 227 MB for a run whose own peak was 70 MB."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def parse_floor(files: list[Path]) -> tuple[float, float]:
    """The stdlib parse of the same files: CPU and wall seconds."""
    from email import message_from_bytes
    from email.policy import default

    c0, w0 = time.process_time(), time.perf_counter()
    for f in files:
        msg = message_from_bytes(f.read_bytes(), policy=default)
        body = msg.get_body(("plain", "html"))  # type: ignore[attr-defined]
        if body is not None:
            body.get_content()
    return time.process_time() - c0, time.perf_counter() - w0


def write_floor(ws: Path) -> tuple[float, float, int]:
    """Write the bytes nudger delivered again, the same way (tmp/, fsync, rename)."""
    from nudger.maildir import deliver_to_maildir

    sent = sorted((ws / "mail" / "outbox" / "new").iterdir())
    data = [p.read_bytes() for p in sent]
    target = ws / "floor-outbox"
    c0, w0 = time.process_time(), time.perf_counter()
    for i, raw in enumerate(data):
        deliver_to_maildir(target, raw, f"{i:08d}.eml")
    return time.process_time() - c0, time.perf_counter() - w0, len(data)


def store_floor(ws: Path, messages: int) -> tuple[float, float]:
    """What the durable bookkeeping needs at least: one SQLite transaction per inbound message,
    committed at synchronous=FULL in WAL mode (nudger's one durable commit per message), that
    inserts the bytes of the emails the message caused (the sent emails, in order, split evenly
    over the messages). No parse, no decision, no render: the floor of "store what was decided"."""
    import sqlite3

    sent = sorted((ws / "mail" / "outbox" / "new").iterdir())
    data = [p.read_bytes() for p in sent]
    path = ws / "floor-store.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("pragma journal_mode = wal")
    conn.execute("pragma synchronous = full")
    conn.execute("create table email (id integer primary key, message integer not null, raw blob not null)")
    per = len(data) / max(messages, 1)
    c0, w0 = time.process_time(), time.perf_counter()
    for i in range(messages):
        conn.execute("begin immediate")
        conn.executemany("insert into email (message, raw) values (?, ?)",
                         [(i, raw) for raw in data[round(i * per):round((i + 1) * per)]])
        conn.execute("commit")
    cpu, wall = time.process_time() - c0, time.perf_counter() - w0
    conn.close()
    return cpu, wall


def idle(ws: Path) -> tuple[float, float]:
    nudger = Path(sys.executable).with_name("nudger")
    env = {**os.environ, "NUDGER_SECRET": KEY}
    later = REPLIES_AT.replace(hour=12).isoformat()
    command = [str(nudger), "--config", str(ws / "nudger.toml"), "run", "-q", "--now", later]
    subprocess.run(command, cwd=ws, env=env, check=True)  # whatever the replies left to schedule
    w0 = time.perf_counter()
    subprocess.run(command, cwd=ws, env=env, check=True)  # idle: nothing new, nothing due
    w1 = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    return w1 - w0, time.perf_counter() - w1


def one_round(inbox: Inbox, ws: Path) -> dict:
    floor_cpu, floor_wall = parse_floor(inbox.files)
    _workspace(ws, inbox.config, inbox.forwards)
    fwd = _child(ws, "forwards")
    _drop(ws, inbox.replies)
    rep = _child(ws, "replies")
    wcpu, wwall, written = write_floor(ws)
    scpu, swall = store_floor(ws, len(inbox.files))
    idle_run, idle_floor = idle(ws)
    return {"floor_cpu": floor_cpu, "floor_wall": floor_wall, "fwd": fwd, "rep": rep, "write_cpu": wcpu,
            "write_wall": wwall, "written": written, "store_cpu": scpu, "store_wall": swall,
            "idle": idle_run, "idle_floor": idle_floor}


def _ms(seconds: list[float], n: int) -> str:
    per = sorted(s * 1000 / max(n, 1) for s in seconds)
    return f"{statistics.median(per):.2f} ({per[0]:.2f}–{per[-1]:.2f})"


def count_statements(inbox: Inbox, ws: Path) -> tuple[int, int]:
    """The same two phases once more, untimed, counting every SQL statement."""
    _workspace(ws, inbox.config, inbox.forwards)
    fwd = _child(ws, "forwards", count=True)
    _drop(ws, inbox.replies)
    rep = _child(ws, "replies", count=True)
    shutil.rmtree(ws)
    return fwd["statements"], rep["statements"]


Row = tuple[str, str, str, str]


def server_rows(root: Path, messages: int, handoffs: int) -> list[Row]:
    """The rows the follow-through and mail-server issues add, measured by their own benches
    in this run: the schedule's first full pass at ``handoffs`` (bench/schedule.py), the IMAP
    source beside raw imapclient FETCH on a private Dovecot (bench/imap.py), the deliver stage
    over SMTP beside raw aiosmtplib to aiosmtpd (bench/smtp.py); one round each. A part that
    fails is a FAILED row with its error, not a lost run."""
    n = min(messages, 2000)
    parts: list[tuple[str, Callable[[], Row]]] = [
        (f"schedule pass at {handoffs:,} handoffs", lambda: _schedule_row(root, handoffs)),
        (f"IMAP, {n:,} messages", lambda: _imap_row(n)),
        (f"SMTP, {n:,} emails", lambda: _smtp_row(n)),
    ]
    rows: list[Row] = []
    for name, part in parts:
        print(f"{name} ...", file=sys.stderr)
        try:
            rows.append(part())
        except (Exception, AssertionError) as exc:  # noqa: BLE001 - the other figures still stand
            rows.append((name, f"failed: {type(exc).__name__}: {exc}"[:200], "", "FAILED"))
    return rows


def _schedule_row(root: Path, handoffs: int) -> Row:
    import schedule

    people = max(handoffs // 10, 10)
    built = schedule.Built.from_json(schedule._child("--build", str(root / "schedule"), str(handoffs), str(people)))
    passed = schedule._child("--pass-only", str(built.config_path))
    shutil.rmtree(root / "schedule")
    limit = "<= 30 s" if handoffs >= 100_000 else ""
    return (f"schedule: first full pass, {handoffs:,} handoffs / {people:,} people, wall / CPU / peak RSS",
            f"{passed['wall_s']:.2f} s / {passed['cpu_s']:.2f} s / {passed['rss_mb']:.0f} MB", limit,
            ("ok" if passed["wall_s"] <= 30 else "MISSED") if limit else "")


def _imap_row(n: int) -> Row:
    import imap

    server = imap.dovecot.start()
    try:
        f = imap.measure(server, n, rounds=1)
    finally:
        imap.dovecot.stop(server)
    return (f"IMAP source / raw imapclient FETCH, same parse, {n:,} messages, CPU (client + server)",
            f"{f.cpu_ratio:.2f}x ({f.nudger_cpu:.2f} s / {f.raw_cpu:.2f} s; wall {f.ratio:.2f}x)"
            + ("" if f.same else "; NOT the same messages"), f"<= {imap.TARGET}x",
            "ok" if f.cpu_ratio <= imap.TARGET and f.same else "MISSED")


def _smtp_row(n: int) -> Row:
    import smtp

    r = smtp.run(n, 1, out=lambda *_: None)
    return (f"SMTP deliver stage / raw aiosmtplib, same bytes, {smtp.CONCURRENCY} connections, {n:,} emails, wall",
            f"{r['ratio']:.2f}x ({r['nudger']:.2f} s / {r['raw']:.2f} s)", f"<= {smtp.TARGET}x",
            "ok" if r["ratio"] <= smtp.TARGET else "MISSED")


def table(inbox: Inbox, rounds: list[dict], quarter_rss: float, statements: tuple[int, int],
          more: list[Row] | None = None) -> str:
    n = len(inbox.files)
    nudger_cpu = [r["fwd"]["ingest_cpu"] + r["rep"]["ingest_cpu"] + r["fwd"]["deliver_cpu"] + r["rep"]["deliver_cpu"]
                  for r in rounds]
    ingest_cpu = [r["fwd"]["ingest_cpu"] + r["rep"]["ingest_cpu"] for r in rounds]
    deliver_cpu = [r["fwd"]["deliver_cpu"] + r["rep"]["deliver_cpu"] for r in rounds]
    floor = [r["floor_cpu"] for r in rounds]
    work = [r["floor_cpu"] + r["store_cpu"] + r["write_cpu"] for r in rounds]
    sent = rounds[0]["written"]
    ratio = statistics.median(nudger_cpu) / statistics.median(floor)
    work_ratio = statistics.median(nudger_cpu) / statistics.median(work)
    deliver_ratio = statistics.median(deliver_cpu) / statistics.median([r["write_cpu"] for r in rounds])
    rss = max(max(r["fwd"]["rss_mb"], r["rep"]["rss_mb"]) for r in rounds)
    idle_run = statistics.median(r["idle"] for r in rounds)
    idle_floor = statistics.median(r["idle_floor"] for r in rounds)
    r0 = rounds[0]
    fwd_stmts = statements[0] / max(len(inbox.forwards), 1)
    rep_stmts = statements[1] / max(len(inbox.replies), 1)

    def verdict(ok: bool) -> str:
        return "ok" if ok else "MISSED"

    rows = [
        ("inbox", f"{len(inbox.forwards)} forwards and auto-replies, {len(inbox.replies)} replies; "
                  f"{r0['fwd']['handoffs']} handoffs; {sent} emails sent", "", ""),
        ("parse floor, CPU ms/message", _ms(floor, n), "", ""),
        ("nudger ingest (+ schedule), CPU ms/message", _ms(ingest_cpu, n), "", ""),
        ("nudger delivery, CPU ms/email sent", _ms(deliver_cpu, sent), "", ""),
        ("write floor, CPU ms/email", _ms([r["write_cpu"] for r in rounds], sent), "", ""),
        ("store floor (a FULL commit of the emails' bytes per message), CPU ms/message",
         _ms([r["store_cpu"] for r in rounds], n), "", ""),
        ("whole pipeline / parse floor, CPU", f"{ratio:.2f}x", "<= 1.5x", verdict(ratio <= 1.5)),
        ("whole pipeline / work floor (parse + store + write floors), CPU", f"{work_ratio:.2f}x", "", ""),
        ("work floor / parse floor, CPU: what the promises' I/O alone costs",
         f"{statistics.median(work) / statistics.median(floor):.2f}x", "", ""),
        ("delivery / write floor, CPU", f"{deliver_ratio:.2f}x", "", ""),
        ("wall: ingest+delivery / parse floor",
         f"{statistics.median(r['fwd']['ingest_wall'] + r['fwd']['deliver_wall'] + r['rep']['ingest_wall'] + r['rep']['deliver_wall'] for r in rounds):.2f} s"  # noqa: E501
         f" / {statistics.median(r['floor_wall'] for r in rounds):.2f} s", "", ""),
        ("peak RSS, full inbox / a quarter", f"{rss:.0f} MB / {quarter_rss:.0f} MB", "<= 200 MB, flat",
         verdict(max(rss, quarter_rss) <= 200 and rss <= quarter_rss * 1.5)),
        ("idle `nudger run -q` / `python -c pass`", f"{idle_run:.3f} s / {idle_floor:.3f} s", "<= 0.3 s",
         verdict(idle_run <= 0.3)),
        ("SQL statements per forward / per reply", f"{fwd_stmts:.1f} / {rep_stmts:.1f}", "", ""),
        *(more or []),
    ]
    lines = ["| figure | measured (median, min–max) | target | |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    return "\n".join(lines)


def write_results(text: str) -> None:
    path = HERE / "RESULTS.md"
    start, end = "<!-- bench/pipeline.py -->", "<!-- /bench/pipeline.py -->"
    body = path.read_text() if path.exists() else "# Benchmarks\n"
    block = f"{start}\n{text}\n{end}"
    if start in body and end in body:
        body = body[:body.index(start)] + block + body[body.index(end) + len(end):]
    else:
        body = body.replace("# Benchmarks\n", f"# Benchmarks\n\n{block}\n", 1)
    path.write_text(body)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--messages", type=int, default=10_000, help="forwards and auto-replies (replies: half)")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--write-results", action="store_true")
    ap.add_argument("--schedule-handoffs", type=int, default=100_000,
                    help="the schedule pass's size (people: a tenth); 0 leaves out the schedule, IMAP and SMTP rows")
    ap.add_argument("--child", nargs=2, help=argparse.SUPPRESS)
    ap.add_argument("--count", action="store_true", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        child(Path(args.child[0]), args.child[1], args.count)
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"building a seeded inbox of {args.messages} messages ...", file=sys.stderr)
        inbox = build(root, args.messages)
        rounds = []
        for i in range(args.rounds):
            print(f"round {i + 1} of {args.rounds} ...", file=sys.stderr)
            rounds.append(one_round(inbox, root / "ws"))
        print("counting SQL statements (untimed) ...", file=sys.stderr)
        statements = count_statements(inbox, root / "count")
        quarter = Inbox(root, inbox.config, inbox.forwards[: len(inbox.forwards) // 4], [])
        _workspace(root / "q", quarter.config, quarter.forwards)
        quarter_rss = _child(root / "q", "forwards")["rss_mb"]
        more = server_rows(root, args.messages, args.schedule_handoffs) if args.schedule_handoffs else []
        when = datetime.now().strftime("%Y-%m-%d")
        text = (f"## Whole pipeline vs its floors (`bench/pipeline.py --messages {args.messages}`)\n\n"
                f"{when}, Python {sys.version.split()[0]}, {os.cpu_count()} CPUs; {args.rounds} interleaved rounds.\n\n"
                + table(inbox, rounds, quarter_rss, statements, more))
        print(text)
        if args.write_results:
            write_results(text)


if __name__ == "__main__":
    main()
