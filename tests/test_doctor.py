"""`nudger doctor`'s "ok" means the next run works, and its failure is the run's failure.

Each permission case makes the real condition on a real workspace (chmod on the Maildir
folders, the database file and folder, the key file, the log) and runs `doctor` and then
`run` as a process that the modes bind (tests/unprivileged.py: as root, without the two
capabilities that let root ignore them). Doctor must fail with the exact words and fix, and
the run must fail the same way, with exit 78: a permission is configuration, not a busy
database to retry (75). Then the mode is put back and the next run loses nothing.
"""

from __future__ import annotations

import json
import os
import sqlite3
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import ORG_TOML, Workspace, make_forward
from unprivileged import bound_by_modes, nudger

from nudger.ops.doctor import CHECKS
from nudger.permissions import running_user, user_name

ME = user_name(os.geteuid())  # the workspace's owner, and who the bound child runs as
USER = running_user()
NOW = "2026-11-23T09:05"


@pytest.fixture
def modes() -> Iterator[list[tuple[Path, int]]]:
    """Paths whose mode a test changed; put back afterwards (so the temp dir can be removed)."""
    changed: list[tuple[Path, int]] = []
    yield changed
    for path, mode in reversed(changed):
        path.chmod(mode)


def chmod(modes: list[tuple[Path, int]], path: Path, mode: int) -> None:
    modes.append((path, stat.S_IMODE(path.stat().st_mode)))
    path.chmod(mode)


def restore(modes: list[tuple[Path, int]]) -> None:
    while modes:
        path, mode = modes.pop()
        path.chmod(mode)


def failure(doctor, what: str, fix: str) -> None:
    """Doctor failed (exit 1) with exactly this line and this fix."""
    assert doctor.returncode == 1, (doctor.returncode, doctor.stdout, doctor.stderr)
    assert f"[FAIL] {what}\n       fix: {fix}\n" in doctor.stdout, doctor.stdout
    assert "Traceback" not in doctor.stdout + doctor.stderr


def predicted(run, told: str, exit_code: int = 78) -> None:
    """The run failed the way doctor said: this exit status, the same words on stderr."""
    assert run.returncode == exit_code, (run.returncode, run.stdout, run.stderr)
    assert f"nudger: {told}\n" in run.stderr, run.stderr
    assert "Traceback" not in run.stdout + run.stderr


def pending(ws: Workspace) -> list[str]:
    return sorted(p.name for p in (ws.inbox / "new").iterdir())


def outbox_rows(ws: Workspace) -> list[dict]:
    return json.loads(ws.cli("outbox", "--all", "--json").output)


@pytest.fixture
def site(ws: Workspace) -> Workspace:
    """A workspace one run has set up (database, key-less: the env secret, Maildirs)."""
    ws.run("2026-11-23T08:00")
    return ws


def test_the_child_process_is_bound_by_file_modes(tmp_path: Path, modes) -> None:
    """The mechanism the tests below stand on: if this passed as root with the modes ignored,
    every case below would be testing nothing."""
    secret = tmp_path / "secret.txt"
    secret.write_text("x")
    chmod(modes, secret, 0)
    read = bound_by_modes(["python3", "-c", f"open({str(secret)!r}).read()"], dict(os.environ), tmp_path)
    assert read.returncode == 1 and "PermissionError" in read.stderr


# --- the inbound Maildir ------------------------------------------------------------------------

def test_an_unreadable_inbox_new_fails_doctor_and_the_run_with_78_and_still_delivers(site: Workspace, modes):
    site.deliver(make_forward(date="Sun, 22 Nov 2026 23:00:00 -0600"), arrived="2026-11-22T23:00")
    site.run("2026-11-22T23:05")  # the receipt goes now; Dana's notice waits for her 08:00
    assert [s.kind for s in site.sent()] == ["receipt"]
    site.deliver(make_forward(note="@lee the bank letter, due 12/4"), name="1700000009.second.host")
    new = site.inbox / "new"
    chmod(modes, new, 0)
    what = (f"the inbound Maildir folder {new}: {USER} may not list, create files in or enter it "
            f"(owner {ME}, mode 0000); new mail is read there and moved out to cur/")
    fix = f"make it readable and writable by the user cron runs nudger as ({ME} here): chmod u+rwx {new}"
    failure(nudger(site, "doctor"), what, fix)
    predicted(nudger(site, "run", "--now", NOW), f"could not fetch mail: {what}; fix: {fix}")
    assert sorted(s.kind for s in site.sent()) == ["new_handoff", "receipt"], "it still delivered"
    restore(modes)
    assert pending(site) == ["1700000009.second.host"]
    site.run("2026-11-23T09:10")
    assert [i["owner"] for i in site.items()] == ["dana@acme.test", "lee@acme.test"]


def test_a_read_only_inbox_cur_fails_before_any_message_is_committed(site: Workspace, modes):
    site.deliver(make_forward())
    cur = site.inbox / "cur"
    chmod(modes, cur, 0o555)
    what = (f"the inbound Maildir folder {cur}: {USER} may not create files in it (owner {ME}, mode 0555); "
            "read mail is moved there, flagged S")
    fix = f"make it readable and writable by the user cron runs nudger as ({ME} here): chmod u+rwx {cur}"
    failure(nudger(site, "doctor"), what, fix)
    predicted(nudger(site, "run", "--now", NOW), f"could not fetch mail: {what}; fix: {fix}")
    assert site.items() == [] and len(pending(site)) == 1  # not committed, then stuck in new/ for ever
    restore(modes)
    site.run("2026-11-23T09:10")
    assert len(site.items()) == 1 and pending(site) == []


def test_an_unreadable_message_is_named_and_does_not_hold_up_the_others(site: Workspace, modes):
    site.deliver(make_forward(), name="1700000001.first.host")
    locked = site.deliver(make_forward(note="@lee the bank letter, due 12/4"), name="1700000002.second.host")
    chmod(modes, locked, 0o200)
    what = (f"the inbound message {locked}: {USER} may not read it (owner {ME}, mode 0200); "
            "it stays in the Maildir, unread")
    fix = (f"make it readable by the user cron runs nudger as ({ME} here): chmod u+r {locked}; and have "
           "whatever delivers into the Maildir leave its files readable by that user")
    failure(nudger(site, "doctor"), what, fix)
    predicted(nudger(site, "run", "--now", NOW), f"could not fetch mail: {what}; fix: {fix}")
    assert [i["owner"] for i in site.items()] == ["dana@acme.test"]  # the readable one went through
    assert pending(site) == ["1700000002.second.host"]
    restore(modes)
    site.run("2026-11-23T09:10")
    assert [i["owner"] for i in site.items()] == ["dana@acme.test", "lee@acme.test"]


def test_a_missing_maildir_in_a_system_folder_is_created_for_the_user_never_the_folder_chowned(tmp_path: Path):
    """The Maildir's parent is not ours (as /var/lib is): the fix creates the Maildir and gives
    it to the user nudger runs as; it never says to chown the parent to that user."""
    if os.geteuid() == 0:  # a folder of another user's, as /var/lib is root's for a cron user
        system = tmp_path / "varlib"
        system.mkdir(mode=0o755)
        os.chown(system, 1, 1)
    else:
        system = Path("/var/lib")
        assert not os.access(system, os.W_OK)
    mail = system / f"nudger-test-{os.getpid()}" / "inbox"
    ws = Workspace(tmp_path, ORG_TOML.replace('path = "mail/inbox"', f'path = "{mail}"'))
    owner = user_name(system.stat().st_uid)
    what = (f"the folder {system}: {USER} may not create files in it (owner {owner}, mode 0755); "
            f"the inbound Maildir {mail} does not exist yet, and nudger creates it there")
    fix = (f"create {mail} and give it to the user cron runs nudger as ({ME} here), as root: "
           f"mkdir -p {mail}/cur {mail}/new {mail}/tmp && chown -R {ME} {mail} (or create only {mail} and "
           f"chown it: nudger makes cur/, new/ and tmp/ in it); leave {system} as it is (never chown a "
           "system folder to nudger's user)")
    doctor = nudger(ws, "doctor")
    failure(doctor, what, fix)
    assert f"chown {ME} {system}" not in doctor.stdout
    predicted(nudger(ws, "run", "--now", NOW), f"could not fetch mail: {what}; fix: {fix}")
    if os.geteuid() == 0:  # the fix, done as it says, works
        for sub in ("cur", "new", "tmp"):
            (mail / sub).mkdir(parents=True)
        assert nudger(ws, "run", "--now", NOW).returncode == 0


# --- the outbound Maildir -----------------------------------------------------------------------

@pytest.mark.parametrize("sub, why", [("tmp", "each email is written there first"),
                                      ("new", "each email is renamed there from tmp/")])
def test_a_read_only_outbox_folder_stops_delivery_with_78_and_spends_no_retry(site: Workspace, modes, sub, why):
    site.deliver(make_forward())
    folder = site.outbox / sub
    chmod(modes, folder, 0o555)
    what = (f"the outbound Maildir folder {folder}: {USER} may not create files in it (owner {ME}, "
            f"mode 0555); {why}")
    fix = f"make it writable by the user cron runs nudger as ({ME} here): chmod u+wx {folder}"
    failure(nudger(site, "doctor"), what, fix)
    predicted(nudger(site, "run", "--now", NOW), f"could not deliver mail: {what}; fix: {fix}")
    assert [i["owner"] for i in site.items()] == ["dana@acme.test"], "the forward was still read"
    rows = outbox_rows(site)
    assert sorted(r["kind"] for r in rows) == ["new_handoff", "receipt"]
    assert {(r["status"], r["attempts"], r["last_error"]) for r in rows} == {("queued", 0, None)}
    # From the MTA pipe the message is stored, so the MTA must not send it again: exit 0, and
    # the same words on stderr (the cron run exits 78 for it).
    ingest = nudger(site, "ingest", "-", "--now", NOW, input=make_forward(note="@lee please, due 12/4"))
    predicted(ingest, f"stored; could not deliver mail: {what}; fix: {fix}", exit_code=0)
    assert [i["owner"] for i in site.items()] == ["dana@acme.test", "lee@acme.test"]
    restore(modes)
    site.run("2026-11-23T09:10")
    assert sorted(s.kind for s in site.sent()) == ["new_handoff", "new_handoff", "receipt", "receipt"]


# --- the database ----------------------------------------------------------------------------------

def database_cases(ws: Workspace) -> dict[str, tuple[Path, int, str, str]]:
    db = ws.root / "state" / "nudger.db"
    state = db.parent
    lock = Path(f"{db}.lock")
    return {
        "file": (db, 0o444,
                 f"the database file {db}: {USER} may not write it (owner {ME}, mode 0444); a run writes it",
                 f"make it readable and writable by the user cron runs nudger as ({ME} here): chmod u+rw {db}"),
        "folder": (state, 0o555,
                   f"the database folder {state}: {USER} may not create files in it (owner {ME}, mode 0555); "
                   "SQLite creates nudger.db-wal and nudger.db-shm there at each open",
                   f"make it writable by the user cron runs nudger as ({ME} here): chmod u+wx {state}"),
        "lock": (lock, 0,
                 f"the database's file {lock}: {USER} may not read or write it (owner {ME}, mode 0000); "
                 "a run writes it",
                 f"make it readable and writable by the user cron runs nudger as ({ME} here): chmod u+rw {lock}"),
    }


@pytest.mark.parametrize("case", ["file", "folder", "lock"])
def test_a_database_the_user_may_not_write_is_a_config_error_78_not_busy_75(site: Workspace, modes, case):
    site.deliver(make_forward())
    path, mode, what, fix = database_cases(site)[case]
    db = site.root / "state" / "nudger.db"
    # The real condition: nothing but the database and the lock is there (and nudger's own
    # caches, dot files), so SQLite would have to create its -wal and -shm (a clean close
    # removed them).
    assert sorted(p.name for p in db.parent.iterdir() if not p.name.startswith(".")) == ["nudger.db",
                                                                                           "nudger.db.lock"]
    chmod(modes, path, mode)
    failure(nudger(site, "doctor"), what, fix)
    predicted(nudger(site, "run", "--now", NOW), f"{what}; fix: {fix}")
    # The MTA pipe still defers (75: the MTA keeps the message), with the same words and fix.
    ingest = nudger(site, "ingest", "-", "--now", NOW, input=make_forward(note="@lee please, due 12/4"))
    predicted(ingest, f"{what} (the MTA keeps the message until this is fixed); fix: {fix}", exit_code=75)
    restore(modes)
    assert len(pending(site)) == 1
    site.run("2026-11-23T09:10")
    assert [i["owner"] for i in site.items()] == ["dana@acme.test"]
    assert json.loads(site.cli("quarantine", "--json").output) == []


def test_a_read_only_database_folder_while_another_connection_has_its_wal_open_still_fails_doctor(
        site: Workspace, modes):
    """SQLite removes -wal and -shm at the last close and makes them at the next open: a run
    works only while someone else holds them, so doctor must not call that ok."""
    db = site.root / "state" / "nudger.db"
    holder = sqlite3.connect(str(db))
    try:
        holder.execute("select count(*) from handoffs").fetchall()
        assert Path(f"{db}-wal").exists() and Path(f"{db}-shm").exists()
        chmod(modes, db.parent, 0o555)
        _, _, what, fix = database_cases(site)["folder"]
        failure(nudger(site, "doctor"), what, fix)
    finally:
        holder.close()


# --- the key file and the log -------------------------------------------------------------------

def test_an_unreadable_key_file_says_to_make_it_readable_and_keep_it(site: Workspace, modes):
    env = {"NUDGER_CONFIG": str(site.config)}  # no $NUDGER_SECRET: the key file is the key
    assert nudger(site, "run", "--now", "2026-11-23T08:30", env=env).returncode == 0
    key = site.root / "state" / "nudger.key"
    site.deliver(make_forward())
    chmod(modes, key, 0)
    what = f"the reply-token key file {key}: {USER} may not read it (owner {ME}, mode 0000)"
    fix = (f"make it readable by the user cron runs nudger as ({ME} here): chmod u+r {key}; keep this file "
           "and its key: every reply address already sent carries a token made with it, so a new key "
           "(deleting the file, or setting $NUDGER_SECRET instead) would make those replies fail")
    failure(nudger(site, "doctor", env=env), what, fix)
    predicted(nudger(site, "run", "--now", NOW, env=env), f"{what}; fix: {fix}")
    restore(modes)
    assert nudger(site, "run", "--now", "2026-11-23T09:10", env=env).returncode == 0
    assert [i["owner"] for i in site.items()] == ["dana@acme.test"]


def test_a_log_file_the_user_may_not_append_to(tmp_path: Path, modes):
    ws = Workspace(tmp_path, ORG_TOML.replace('[database]\n', '[logging]\npath = "nudger.log"\n\n[database]\n'))
    ws.run("2026-11-23T08:00")
    log = tmp_path / "nudger.log"
    chmod(modes, log, 0o444)
    what = (f"the log file ([logging] path) {log}: {USER} may not write it (owner {ME}, mode 0444); "
            "every run appends to it")
    fix = f"make it readable and writable by the user cron runs nudger as ({ME} here): chmod u+rw {log}"
    failure(nudger(ws, "doctor"), what, fix)
    predicted(nudger(ws, "run", "--now", NOW), f"{what}; fix: {fix}")


# --- warnings: the run works, but not as people expect (exit 0) --------------------------------------

def doctor_out(ws: Workspace, expect: int = 0) -> str:
    return ws.cli("doctor", expect=expect).output


def test_a_sound_site_has_no_warning_and_no_failure(site: Workspace) -> None:
    out = doctor_out(site)
    assert "warning:" not in out and "[FAIL]" not in out
    assert out.rstrip().endswith("doctor: all ok")


def test_a_placeholder_domain_is_a_warning_saying_replies_cannot_come_back(tmp_path: Path) -> None:
    ws = Workspace(tmp_path, ORG_TOML.replace('domain = "acme.test"', 'domain = "example.com"'))
    out = doctor_out(ws)
    assert ("warning: [org] domain = 'example.com' is a placeholder: every email's From and reply address "
            "(handoffs+<id>.<token>@example.com) point at a domain that is not yours, so replies can't come "
            "back: nobody can ack, finish or thank by email\n"
            "         fix: set [org] domain to your mail domain") in out
    assert "[FAIL]" not in out and out.rstrip().endswith("doctor: 1 warning")


def test_no_people_is_a_warning(tmp_path: Path) -> None:
    ws = Workspace(tmp_path, '[org]\ndomain = "acme.test"\ntimezone = "Europe/Berlin"\n')
    out = doctor_out(ws)
    assert "warning: [[people]] lists nobody: no forward can find an owner" in out
    assert "fix: add a [[people]] table (email, name, team) for each person who takes handoffs" in out


def test_a_team_with_no_table_is_a_warning_with_did_you_mean(tmp_path: Path) -> None:
    toml = ORG_TOML.replace('handle = "sam"\nteam = "sales"', 'handle = "sam"\nteam = "sails"').replace(
        'handle = "lee"\nteam = "accounting"', 'handle = "lee"\nteam = "legal"')
    ws = Workspace(tmp_path, toml)
    out = doctor_out(ws)
    assert ("warning: team 'sails' (of sam) has no [teams.sails] table: it is a team of its own with the "
            "defaults (no lead, routed to its first member, turnaround 3 days); did you mean 'sales'?\n"
            '         fix: set team = "sales" for sam, or add a [teams.sails] table if it is a team of its own') in out
    assert ("warning: team 'legal' (of lee) has no [teams.legal] table" in out
            and "fix: add a [teams.legal] table (lead, members), or correct the team of lee" in out)
    assert out.rstrip().endswith("doctor: 2 warnings")


def test_an_unset_timezone_is_a_warning_and_an_explicit_utc_is_not(tmp_path: Path) -> None:
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    unset = Workspace(tmp_path / "a", ORG_TOML.replace('timezone = "America/Chicago"\n', ''))
    out = doctor_out(unset)
    assert "warning: [org] timezone is not set, so it is UTC" in out
    assert 'fix: set [org] timezone to your office\'s zone, e.g. timezone = "America/Chicago"' in out
    explicit = Workspace(tmp_path / "b", ORG_TOML.replace('timezone = "America/Chicago"', 'timezone = "UTC"'))
    out = doctor_out(explicit)
    assert "warning:" not in out and "[ok] timezone UTC" in out


def test_doctor_as_root_on_another_users_site_warns_to_run_as_that_user(site: Workspace) -> None:
    if os.geteuid() != 0:  # not root: nothing to warn about, and doctor says whom it checked as
        assert f"[ok] running as {USER}: files are checked for this user" in doctor_out(site)
        return
    os.chown(site.root / "state", 65534, 65534)
    nobody = user_name(65534)
    out = doctor_out(site)
    assert (f"warning: doctor runs as root, but {site.root / 'state'} belongs to {nobody}: root passes every "
            f"permission check") in out
    assert f"fix: run doctor as the user cron runs nudger as: sudo -u {nobody} nudger doctor" in out


# --- holidays ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("code, says", [
    ("XX", '"XX" is not a country code the holidays package knows (an ISO 3166 code such as US, GB or DE)'),
    ("DEX", '"DEX" is not a country code the holidays package knows (did you mean "DEU" (Germany) or '
            '"MEX" (Mexico)?)'),
    ("US-XX", '"US-XX" is not a subdivision of US the holidays package knows (did you mean "US-TX"?)'),
])
def test_an_unknown_holidays_code_names_the_key_not_the_templates(tmp_path: Path, code: str, says: str):
    ws = Workspace(tmp_path, ORG_TOML.replace('holidays = "US"', f'holidays = "{code}"'))
    ws.deliver(make_forward())
    what = f"{ws.config}: org.holidays: {says}"
    fix = ('set [org] holidays to a country code the holidays package knows, such as "US", "GB" or "DE" '
           '(a subdivision after a dash: "US-CA"), or remove the key for no public holidays')
    out = doctor_out(ws, expect=1)
    assert f"[FAIL] {what}" in out and f"       fix: {fix}\n" in out
    assert "templates" not in out, "the templates are not to blame"
    run = ws.cli("run", "--now", NOW, expect=78)
    assert f"nudger: {what}" in run.stderr and f"; fix: {fix}" in run.stderr
    assert "Traceback" not in run.output + run.stderr
    assert len(pending(ws)) == 1 and ws.items() == []  # the message waits in the inbox


# --- the list in the docs ---------------------------------------------------------------------------

def test_docs_list_every_check_and_whether_it_fails_or_warns() -> None:
    text = (Path(__file__).resolve().parent.parent / "docs" / "operating.md").read_text()
    table = text.split("### What doctor checks", 1)[1].split("\n\n", 2)[1]
    rows = [[cell.strip() for cell in line.strip("|").split("|")] for line in table.splitlines()[2:]]
    documented = [(name.strip("`"), level) for name, level, _about in rows]
    assert documented == [(c.name, "fails" if c.fails else "warns") for c in CHECKS]


# --- the config file ------------------------------------------------------------------------------

@pytest.mark.parametrize("how", ["chmod 000", "another user's"])
def test_an_unreadable_config_names_the_file_the_user_and_the_fix(ws: Workspace, modes, how: str):
    if how == "another user's":
        if os.geteuid() != 0:
            pytest.skip("only root can give a file to another user")
        os.chown(ws.config, 1, 1)
        chmod(modes, ws.config, 0o600)
        fix = (f"make it readable by the user cron runs nudger as ({ME} here): chown {ME} {ws.config} "
               f"(or run nudger as {user_name(1)}, who owns it)")
        owner, mode = user_name(1), "0600"
    else:
        chmod(modes, ws.config, 0)
        fix = f"make it readable by the user cron runs nudger as ({ME} here): chmod u+r {ws.config}"
        owner, mode = ME, "0000"
    told = (f"the config file {ws.config}: {USER} may not read it (owner {owner}, mode {mode}); every command "
            f"reads it first; fix: {fix}")
    for command in (["doctor"], ["run", "--now", NOW], ["items"]):
        predicted(nudger(ws, *command), told)
    restore(modes)
    os.chown(ws.config, os.geteuid(), os.getegid())
    assert nudger(ws, "run", "--now", NOW).returncode == 0
