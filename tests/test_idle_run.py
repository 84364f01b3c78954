"""An idle cron run (nothing in the inbox, nothing due) does only what it must: most runs are
idle, so whatever one imports or reads every cron tick pays for, all day.

Checked in a fresh interpreter, the way cron starts one: the modules it imported, the people
it built from the config's cache, and every SQL statement it sent."""

from __future__ import annotations

import json
import os
import subprocess
import sys

from conftest import Workspace

NOW = "2026-11-23T09:00:00-06:00"  # a Monday, inside business hours; with an offset, as cron's clock is

IDLE_RUN = f"""
import gc, json, sqlite3, sys
statements = []
connect = sqlite3.connect
def traced(*args, **kwargs):
    conn = connect(*args, **kwargs)
    conn.set_trace_callback(statements.append)
    return conn
sqlite3.connect = traced
import nudger.pipeline
run_once, runs = nudger.pipeline.run_once, []
def kept(rt, *args):  # keeps the run's config alive, to count the people it holds once the run ends
    runs.append(rt)
    return run_once(rt, *args)
nudger.pipeline.run_once = kept
from nudger.cli import cli
try:
    cli(["run", "--now", {NOW!r}])
except SystemExit as exc:
    assert not exc.code, exc.code
from nudger.config.model import Person
assert len(runs) == 1
people = sum(isinstance(o, Person) for o in gc.get_objects())
print(json.dumps({{"modules": sorted(sys.modules), "people": people, "sql": statements}}))
"""

# Never on the idle path, with why (a name covers its submodules too).
NOT_IMPORTED = {
    "jinja2": "templates: only to write an email",
    "css_inline": "only to write an email",
    "icalendar": "only to write an email with a due date",
    "email": "the stdlib's mail parser and writer: only for a message or an email",
    "imapclient": "IMAP: not this config's source, and only when it connects",
    "aiosmtplib": "SMTP: not this config's transport, and only when it delivers",
    "sqlite_utils": "only for a pending migration (its Database() scans every package's entry points)",
    "holidays": "a calendar is built only for work that is due",
    "tomllib": "the config comes from its cache",
    "secrets": "hmac and random for a key file that exists already",
    "nudger.ingest": "the parsing stack",
    "nudger.mail": "the parsing stack",
    "nudger.outbound.render": "the rendering stack",
    "nudger.outbound.mime": "the rendering stack",
    "nudger.outbound.notify": "queueing an email",
    "nudger.core.schedule": "the schedule's slots: only for a subject that is due",
    "nudger.core.calendars": "only for work that is due",
    "nudger.state.metrics": "a team digest's figures",
    "nudger.state.migrations": "only when the schema is behind",
    "nudger.core.tokens": "reply tokens: only to write or read an email",
}


def idle_run(ws: Workspace) -> dict:
    env = {**os.environ, **ws.env}
    done = subprocess.run([sys.executable, "-c", IDLE_RUN], capture_output=True, text=True, env=env,
                          cwd=ws.root, timeout=120)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout.strip().splitlines()[-1])


def test_an_idle_run_imports_only_what_it_needs(ws: Workspace) -> None:
    ws.run(NOW)  # the first run makes the database, schedules everyone and caches the config
    seen = idle_run(ws)
    loaded = {name: why for name, why in NOT_IMPORTED.items()
              if any(m == name or m.startswith(name + ".") for m in seen["modules"])}
    assert loaded == {}


def test_an_idle_run_builds_no_person_and_reads_no_schema(ws: Workspace) -> None:
    ws.run(NOW)
    seen = idle_run(ws)
    assert seen["people"] == 0  # the directory is unpickled only when something asks for a person
    sql = [s.lower() for s in seen["sql"]]
    schema_reads = [s for s in sql if any(w in s for w in ("sqlite_master", "sqlite_schema", "table_info",
                                                            "index_list", "_sqlite_migrations"))]
    assert schema_reads == []
    assert "pragma user_version" in sql  # the schema is known current by the file's header
    assert sum(s.startswith("commit") for s in sql) <= 3  # the run's record, and nothing else to write


def test_the_people_of_a_cached_config_are_built_when_asked_for(ws: Workspace) -> None:
    """The same directory either way, and the schedule's fingerprint kept without them."""
    from nudger.config import load_config
    from nudger.config.cache import load_config_cached

    fresh = load_config_cached(ws.config, {})  # validated, and cached
    cached = load_config_cached(ws.config, {})
    assert cached is not fresh
    assert "people" not in vars(cached)
    assert cached.schedule_fingerprint == fresh.schedule_fingerprint
    assert "people" not in vars(cached)
    assert cached.person_by_handle("dana") == fresh.person_by_handle("dana")
    assert cached.people == fresh.people and cached == fresh == load_config(ws.config, {})
    assert "_people_pickled" not in vars(cached)
