"""`nudger demo` as a new user meets it: run by the console script the README's install
leaves in .venv/bin (not on PATH), read line by line, its follow-up commands pasted as
printed, and its mail/index.html read in real headless Chromium at phone and desktop widths."""

from __future__ import annotations

import email
import json
import os
import re
import shlex
import subprocess
import sys
from collections import Counter
from dataclasses import dataclass
from email.policy import default as default_policy
from email.utils import parsedate_to_datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from chromium import Browser

from nudger.config import load_config

NUDGER = Path(sys.executable).parent / "nudger"  # what `pip install -e .` put beside the venv's python
RAW_TEMPLATE = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
UNSET = re.compile(r"\b(?:None|undefined|null|nan)\b")
STEP = re.compile(r"^  (?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) \d\d \w{3} \d\d:\d\d ([A-Z]{3}), (\w+)'s time: (.+)$")
SENT = re.compile(r"^      → (\w+) to ([\w ]+), (\d\d:\d\d) ([A-Z]{3}): (.+)$")


@dataclass(frozen=True)
class Demo:
    root: Path  # nudger-demo/
    output: str

    @property
    def config(self) -> Path:
        return self.root / "nudger.toml"

    @property
    def emails(self) -> list[Path]:
        return sorted((self.root / "mail" / "outbox" / "new").glob("*.eml"))

    def follow_ups(self) -> list[list[str]]:
        tail = self.output[self.output.index("Try next"):]
        return [shlex.split(line) for line in tail.splitlines() if line.startswith("    ")]


def clean_env(home: Path) -> dict[str, str]:
    """A shell where the virtualenv is not on PATH and no nudger settings are set."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NUDGER_") and k != "VIRTUAL_ENV"}
    env.update(PATH="/usr/bin:/bin", HOME=str(home))
    return env


def run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, env=clean_env(cwd), capture_output=True, text=True, timeout=180)


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> Demo:
    here = tmp_path_factory.mktemp("new-user")
    done = run([str(NUDGER), "demo"], here)
    assert done.returncode == 0, done.stderr
    return Demo(here / "nudger-demo", done.stdout)


def test_the_follow_up_commands_work_pasted_as_printed_without_nudger_on_path(demo: Demo, tmp_path: Path) -> None:
    commands = demo.follow_ups()
    assert len(commands) >= 4
    for command in commands:
        assert command[:3] == [str(NUDGER.resolve()), "--config", str(demo.config)], command
        done = run(command, tmp_path)  # another folder: every path in it is absolute
        assert done.returncode == 0, f"{shlex.join(command)}: {done.stderr}"
        assert done.stdout.strip() and "Traceback" not in done.stderr
    items = run([*commands[0][:3], "items", "--json"], tmp_path)
    assert [i["status"] for i in json.loads(items.stdout)] == ["open", "done", "done"]


def test_status_after_the_demo_shows_its_last_run(demo: Demo, tmp_path: Path) -> None:
    status = run([str(NUDGER), "--config", str(demo.config), "status", "--json"], tmp_path)
    last = json.loads(status.stdout)["last_run"]
    assert last is not None, status.stdout
    newest = max(parsedate_to_datetime(str(_message(p)["Date"])) for p in demo.emails)
    from datetime import datetime

    assert datetime.fromisoformat(last["now"]) == newest, "the last run is the one that sent the last email"
    shown = run([str(NUDGER), "--config", str(demo.config), "status"], tmp_path).stdout
    assert "last run:" in shown and "never" not in shown


def test_the_demo_runs_as_a_module_and_says_so_in_its_commands(tmp_path: Path) -> None:
    done = run([sys.executable, "-m", "nudger", "demo", "here"], tmp_path)
    assert done.returncode == 0, done.stderr
    commands = Demo(tmp_path / "here", done.stdout).follow_ups()
    assert commands[0][:4] == [sys.executable, "-m", "nudger", "--config"]
    assert run(commands[0], tmp_path).returncode == 0


def _message(path: Path) -> email.message.EmailMessage:
    msg = email.message_from_bytes(path.read_bytes(), policy=default_policy)
    assert isinstance(msg, email.message.EmailMessage)
    return msg


def logical_lines(output: str) -> list[str]:
    """The console's lines with the wrapping undone: a step's head continues on lines indented
    6 (not starting with an arrow), an email's on lines indented 8."""
    lines: list[str] = []
    for line in output.splitlines():
        if lines and (line.startswith(" " * 8) or (line.startswith(" " * 6) and line[6:7] not in "→⏸")):
            lines[-1] += " " + line.strip()
        else:
            lines.append(line)
    return lines


def test_each_step_says_what_happened_at_whose_time_and_each_email_when_and_why(demo: Demo) -> None:
    config = load_config(demo.config, env={})
    first_names = {p.name.split()[0]: p for p in config.people}
    lines = logical_lines(demo.output)
    steps = [m.groups() for line in lines if (m := STEP.match(line))]
    assert len(steps) >= 15
    for zone, whose, what in steps:
        person = first_names[whose]  # a person of the demo, whose clock it is
        assert zone == ("EST" if person.timezone == "America/New_York" else "CST"), (zone, whose)
        assert "cron: something fell due" not in what and "→" not in what
    shown = Counter()
    for line in lines:
        if m := SENT.match(line):
            kind, name, hhmm, zone, why = m.groups()
            assert why.endswith(".") and len(why) > 10, line
            shown[(kind, name, f"{hhmm} {zone}")] += 1
    sent = Counter()
    for path in demo.emails:
        msg = _message(path)
        person = config.person_by_email(str(msg["To"].addresses[0].addr_spec))
        assert person is not None
        local = parsedate_to_datetime(str(msg["Date"])).astimezone(ZoneInfo(person.timezone))
        sent[(str(msg["X-Nudger-Kind"]), person.name, f"{local:%H:%M} {local.tzname()}")] += 1
    assert shown == sent, "every email on the console, at its recipient's own time"
    assert "(Thu 26 Nov is Thanksgiving Day)" in demo.output, "the notice held over the holiday says why"
    assert "asks for 7 business days' notice" in demo.output, "the rush receipt says what the team needs"
    index = next(line for line in lines if line.strip().endswith("index.html"))
    assert Path(index.strip()) == demo.root / "mail" / "index.html"


# --- mail/index.html in Chromium ---------------------------------------------------------

@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory):
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


DOC = "document.getElementById('f').contentDocument"
READ = f"""
(() => {{
  const doc = {DOC};
  const mails = [...doc.querySelectorAll('.mail')];
  return JSON.stringify({{
    text: doc.body.textContent,
    mails: mails.map(m => ({{
      id: m.id, when: m.querySelector('.meta time').getAttribute('datetime'),
      to: m.querySelector('.to').textContent, subject: m.querySelector('.subject').textContent,
      why: m.querySelector('.why').textContent, kind: m.querySelector('.kind').textContent,
      plain: m.querySelector('pre').textContent,
      frame: (() => {{ const f = m.querySelector('iframe'), d = f.contentDocument;
                       return {{width: f.clientWidth, scroll: d.documentElement.scrollWidth,
                               text: d.body.innerText}}; }})(),
    }})),
  }});
}})()
"""


@pytest.mark.parametrize("width", (375, 1024))
@pytest.mark.parametrize("dark", (False, True))
def test_the_index_lists_every_email_readable_as_html_and_text_and_fits_the_screen(
        demo: Demo, browser: Browser, tmp_path: Path, width: int, dark: bool) -> None:
    page = demo.root / "mail" / "index.html"
    html = page.read_text(encoding="utf-8")
    assert not re.search(r"""(?:src|href)=["']?(?:https?:)?//|<link\b|@import|url\(""", html), "self-contained"
    opened = html.replace("<details>", "<details open>").replace(' loading="lazy"', "")  # every email open
    seen = browser.layout(opened, width, tmp_path / f"index-{width}{'-dark' if dark else ''}.png", dark=dark)
    assert seen.scroll_width <= width, f"index.html at {width} px is {seen.scroll_width} px wide: {seen.widest}"
    found = json.loads(browser.evaluate(READ))
    mails, files = found["mails"], demo.emails
    assert len(mails) == len(files), "every email the demo sent is listed"
    assert [m["id"] for m in mails] == [f"email-{i}" for i in range(1, len(files) + 1)]
    from datetime import datetime

    times = [datetime.fromisoformat(m["when"]) for m in mails]
    assert times == sorted(times), "in the order they went"
    by_subject = Counter(str(_message(p)["Subject"]) for p in files)
    assert Counter(m["subject"] for m in mails) == by_subject
    for m, when in zip(mails, times, strict=True):
        assert when.tzinfo is not None and m["why"].startswith("Why: ") and len(m["why"]) > 30, m
        assert "<" in m["to"] and "@acme.test" in m["to"], m["to"]
        assert len(m["plain"].split()) >= 8, f"{m['subject']}: no plain text"
        assert len(m["frame"]["text"].split()) >= 8, f"{m['subject']}: the HTML part shows nothing"
        assert m["frame"]["scroll"] <= m["frame"]["width"], f"{m['subject']}: its HTML scrolls sideways at {width} px"
    text = found["text"]
    assert not RAW_TEMPLATE.search(text), RAW_TEMPLATE.search(text)
    assert not UNSET.search(text), UNSET.search(text)
    assert {m["kind"] for m in mails} >= {"receipt", "new_handoff", "ack_reminder", "due_soon", "overdue",
                                           "overdue_notice", "escalation", "daily_digest", "team_digest",
                                           "appreciation"}


def test_the_page_writes_commands_as_code_not_backticks(demo: Demo) -> None:
    """The console's `ack` reads as a code span on the page; the emails' own text (in <pre>
    and the HTML frames) is left as the emails are."""
    import re

    page = (demo.root / "mail" / "index.html").read_text()
    ours = re.sub(r"<pre>.*?</pre>", "", re.sub(r'srcdoc="[^"]*"', "", page), flags=re.S)
    assert "`" not in ours
    assert "<code>nudger run</code>" in ours
