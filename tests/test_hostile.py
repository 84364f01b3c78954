"""No input may stall a run: every stage's cost follows the input's size, a message has a
time budget, and one that kept killing runs is set aside so the mail behind it moves.

Correctness only (the timings are bench/hostile.py's): each case would take minutes, or
be quarantined by the time budget, if its stage were still quadratic."""

from __future__ import annotations

import json
import signal
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from conftest import ORG_TOML, Workspace, make_forward, make_plain
from fuzzmail import RunPath
from test_crash import nudger

from nudger.mail.forward_headers import header_line, unknown_header_line
from nudger.mail.message import mime_parts, parse_message


@pytest.fixture(scope="module")
def run_path(tmp_path_factory: pytest.TempPathFactory) -> RunPath:
    return RunPath(tmp_path_factory.mktemp("hostile"), ORG_TOML)


def forward_with(line: str, *, extra: str = "") -> bytes:
    return (f"From: Sam Seller <sam@acme.test>\r\nTo: handoffs@acme.test\r\nSubject: Fwd: W-9\r\n{extra}"
            "Message-ID: <" + str(abs(hash(line + extra))) + "@acme.test>\r\n"
            "Date: Tue, 1 Dec 2026 09:00:00 -0600\r\nContent-Type: text/plain; charset=utf-8\r\n\r\n"
            f"@dana please send the W-9\r\n\r\n{line}\r\n").encode()


def test_quoted_header_pattern_is_linear() -> None:
    # "From" + 300,000 spaces backtracked for ~10 minutes; each of these is now one pass.
    for pad in (" ", "\xa0", "\t", " *", "* "):
        assert header_line("From" + pad * 150_000 + "x") is None
        assert not unknown_header_line("Von" + pad * 150_000 + "x")
    assert header_line("**From:** Bill <bill@initech.example>") == ("from", "Bill <bill@initech.example>")
    assert header_line("Von *: Bill") == ("from", "Bill")


@pytest.mark.parametrize("line", [
    "From" + " " * 300_000 + "x",
    "From" + "\xa0" * 300_000 + "*x",
    "wrote" + " " * 300_000 + "x",
    "#1" + " " * 300_000 + "x",
    "priority" + " " * 300_000 + "x",
    "snooze 5" + " " * 300_000 + "x",
    "Re" + " " * 300_000 + "x",
    "12:" + " " * 300_000 + "x",
    "a" * 300_000,
])
def test_a_line_built_to_backtrack_is_read_as_a_normal_forward(run_path: RunPath, line: str) -> None:
    verdict = run_path.feed(forward_with(line))
    assert verdict.outcome == "created", verdict
    assert not verdict.escaped and not verdict.internal


@pytest.mark.parametrize("header", ["Content-Transfer-Encoding", "Content-Type", "Content-Disposition", "To",
                                    "Subject", "References", "X-Junk"])
@pytest.mark.parametrize("junk", ['"', "a;", "(", "@"])
def test_a_100_kb_header_is_read_without_the_strict_parser(run_path: RunPath, header: str, junk: str) -> None:
    # A 100 KB Content-Transfer-Encoding took the strict parser 65 s; "(" recursed without end.
    value = junk * 100_000
    raw = forward_with("see below", extra=f"{header}: {value}\r\n")
    verdict = run_path.feed(raw)
    assert verdict.outcome in ("created", "refused"), verdict
    mail = parse_message(raw)
    assert mail.from_addr is not None and mail.from_addr.email == "sam@acme.test"
    assert "@dana" in mail.text


def test_mime_headers_read_simply_still_give_type_charset_and_filename() -> None:
    raw = (b"From: a@acme.test\r\nContent-Type: multipart/mixed;\r\n boundary=\"=_b\"\r\n\r\n--=_b\r\n"
           b"Content-Type: text/plain; charset=\"iso-8859-1\"\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
           b"J=F6rg\r\n--=_b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment;\r\n"
           b" filename*=utf-8''%E2%82%AC%20invoice.pdf\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERg==\r\n"
           b"--=_b--\r\n")
    mail = parse_message(raw)
    assert mail.text.strip() == "Jörg"
    assert [(a.filename, a.content_type, a.data) for a in mail.attachments] == [
        ("€ invoice.pdf", "application/pdf", b"%PDF")]


def test_600000_parts_are_refused_by_the_parts_limit_before_parsing(run_path: RunPath) -> None:
    raw = (b"From: sam@acme.test\r\nTo: handoffs@acme.test\r\nSubject: parts\r\nMessage-ID: <parts@acme.test>\r\n"
           b"Content-Type: multipart/mixed; boundary=b\r\n\r\n"
           + b"--b\r\nContent-Type: text/plain\r\n\r\nx\r\n" * 600_000 + b"--b--\r\n")
    assert mime_parts(raw, 1000) > 1000
    verdict = run_path.feed(raw)
    assert verdict.outcome == "quarantined"
    (reason, size), = run_path.store.db.execute(
        "select reason, length(raw) from quarantine order by id desc limit 1").fetchall()
    assert "more than 1000 MIME parts" in reason and "max_parts" in reason
    assert size == len(raw)  # kept whole
    # A message with many "--" lines that are not MIME delimiters is not refused.
    plain = forward_with("\r\n".join(["-- a dashed line"] * 2000))
    assert mime_parts(plain, 1000) <= 1000


def test_a_message_over_its_time_budget_is_quarantined_and_the_run_goes_on(tmp_path: Path) -> None:
    ws = Workspace(tmp_path, ORG_TOML + "\n[limits]\nmessage_seconds = 0.000001\n")
    ws.deliver(make_forward(), name="1700000001.a.host")
    ws.run("2026-11-23T09:05")
    held = json.loads(ws.cli("quarantine", "--json").output)
    assert len(held) == 1 and "longer than 1e-06 s" in held[0]["reason"], held
    assert "message_seconds" in held[0]["reason"]
    assert not list((ws.inbox / "new").iterdir())  # taken from the source, kept whole in quarantine


def test_a_message_that_killed_three_runs_is_quarantined_and_the_mail_behind_it_moves(ws: Workspace) -> None:
    ws.deliver(make_plain("sam@acme.test", "Fwd: the one that kills", "@dana W-9 please"), name="1700000001.a.host")
    ws.deliver(make_forward(note="@lee the bank letter, due 12/4"), name="1700000002.b.host")
    for _ in range(3):  # each run dies while reading the oldest message (a timeout, the OOM killer)
        killed = nudger(ws, "run", "--now", "2026-11-23T09:05", crash_at="while_reading")
        assert killed.returncode == -signal.SIGKILL, killed.stderr
    again = nudger(ws, "run", "--now", "2026-11-23T09:06")
    assert again.returncode == 0, again.stderr
    held = json.loads(nudger(ws, "quarantine", "--json").stdout)
    assert len(held) == 1 and "stopped 3 runs" in held[0]["reason"] and "max_attempts" in held[0]["reason"]
    items = json.loads(nudger(ws, "items", "--json").stdout)
    assert [i["owner"] for i in items] == ["lee@acme.test"]
    assert not list((ws.inbox / "new").iterdir())


def test_a_message_killed_once_is_read_normally_on_the_next_run(ws: Workspace) -> None:
    ws.deliver(make_forward())
    assert nudger(ws, "run", "--now", "2026-11-23T09:05", crash_at="while_reading").returncode == -signal.SIGKILL
    assert nudger(ws, "run", "--now", "2026-11-23T09:06").returncode == 0
    assert json.loads(nudger(ws, "quarantine", "--json").stdout) == []
    assert [i["owner"] for i in json.loads(nudger(ws, "items", "--json").stdout)] == ["dana@acme.test"]
    with sqlite3.connect(ws.root / "state" / "nudger.db") as db:  # closed with the message's record
        assert db.execute("select count(*) from attempts").fetchone() == (0,)


def test_a_header_repeated_thousands_of_times_is_read_in_its_first_occurrences(run_path: RunPath) -> None:
    # Found by bench/fuzz.py: each occurrence went through the strict parser, ~0.08 s apiece.
    repeated = "".join(f"Cc: \"a\" <{'a' * 900}@acme.test>, (x\r\n" for _ in range(3000))
    raw = forward_with("see below", extra=repeated)
    mail = parse_message(raw)
    assert len(mail.header_all("Cc")) == 20
    assert mail.from_addr is not None and mail.from_addr.email == "sam@acme.test"
    verdict = run_path.feed(raw)
    assert verdict.outcome == "created" and not verdict.internal


def test_the_time_budget_holds_off_the_main_thread_too(tmp_path: Path) -> None:
    """A program that runs nudger from a worker thread (a test runner, a service embedding
    it) gets the same guarantee: no SIGALRM there, so a watchdog raises in the reading thread."""
    ws = Workspace(tmp_path, ORG_TOML + "\n[limits]\nmessage_seconds = 0.000001\n")
    ws.deliver(make_forward(), name="1700000001.a.host")
    ws.deliver(make_forward("@lee the bank letter, due 12/4", message_id="<b@mail.acme.test>"),
               name="1700000002.b.host")
    results: list = []
    worker = threading.Thread(target=lambda: results.append(ws.run("2026-11-23T09:05")))
    worker.start()
    worker.join(timeout=120)
    assert not worker.is_alive() and results, "the run in the worker thread finished"
    held = json.loads(ws.cli("quarantine", "--json").output)
    assert len(held) == 2 and all("longer than 1e-06 s" in h["reason"] for h in held), held
    assert not list((ws.inbox / "new").iterdir())  # the run went on past the first


def test_a_budget_that_was_not_used_up_leaves_nothing_behind_in_the_thread() -> None:
    """The watchdog is disarmed when the reading ends: nothing is raised later in the thread."""
    from nudger.budget import time_budget

    done: list[str] = []

    def work() -> None:
        with time_budget(0.05):
            sum(range(1000))
        deadline = time.monotonic() + 0.2
        while time.monotonic() < deadline:  # past the budget, outside it: must not be interrupted
            sum(range(1000))
        done.append("ok")

    worker = threading.Thread(target=work)
    worker.start()
    worker.join(timeout=10)
    assert done == ["ok"]


def test_a_budget_that_fired_in_a_worker_leaves_the_interpreter_sound() -> None:
    """Found in CI: the watchdog used to withdraw a late exception with NULL, which on CPython
    3.11 leaves the interpreter's pending-exception flag set for good; the next profiled call
    in any thread then spun forever. Run in a child, so a regression fails instead of hanging."""
    import subprocess
    import sys

    child = (
        "import cProfile, threading\n"
        "from nudger.budget import OverBudget, time_budget\n"
        "fired = []\n"
        "def work():\n"
        "    for _ in range(20):\n"
        "        try:\n"
        "            with time_budget(0.001):\n"
        "                while True: pass\n"
        "        except OverBudget:\n"
        "            fired.append(1)\n"
        "t = threading.Thread(target=work); t.start(); t.join()\n"
        "assert len(fired) == 20, fired\n"
        "assert cProfile.Profile().runcall(lambda: sum(range(10))) == 45\n"
        "print('sound', len(fired))\n"
    )
    done = subprocess.run([sys.executable, "-c", child], capture_output=True, text=True, timeout=30)
    assert done.returncode == 0 and done.stdout.startswith("sound"), (done.stdout, done.stderr)
