"""Holiday tables kept beside the database: a later process reads them back without importing
the holidays package (0.18 s of CPU), and never trusts a file it should not."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest

from nudger.core import business_time
from nudger.core.business_time import _holiday_table, _holidays_from_package, _shelved_table, keep_holidays_on
from nudger.state.holiday_file import HolidayFile, holiday_file

US_2026 = _holidays_from_package("US", 2026)


@pytest.fixture(autouse=True)
def no_shelf_after() -> Iterator[None]:
    _shelved_table.cache_clear()
    yield
    keep_holidays_on(None)
    _shelved_table.cache_clear()


def _fresh_process_reads(path: Path, code: str = "US", year: int = 2026) -> dict:
    """Another process: its table, and whether it had to import the package for it."""
    script = (
        "import json, sys\n"
        "from pathlib import Path\n"
        "from nudger.core.business_time import _holiday_table, keep_holidays_on\n"
        "from nudger.state.holiday_file import HolidayFile\n"
        f"keep_holidays_on(HolidayFile(Path({str(path)!r})))\n"
        f"table = _holiday_table({code!r}, {year})\n"
        "print(json.dumps({'imported': 'holidays' in sys.modules,"
        " 'table': {d.isoformat(): n for d, n in table.items()}}))\n"
    )
    out = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def _as_json(table: dict[date, str]) -> dict[str, str]:
    return {d.isoformat(): n for d, n in table.items()}


def test_a_table_worked_out_once_is_read_back_by_the_next_run_without_the_package(tmp_path: Path) -> None:
    shelf = holiday_file(tmp_path / "nudger.db")
    assert shelf is not None and shelf.path == tmp_path / ".nudger.db.holidays"
    keep_holidays_on(shelf)
    assert _holiday_table("US", 2026) == US_2026
    assert shelf.path.stat().st_mode & 0o777 == 0o600

    again = _fresh_process_reads(shelf.path)
    assert again == {"imported": False, "table": _as_json(US_2026)}
    assert _fresh_process_reads(shelf.path, "US", 2027)["imported"]  # another year: worked out, then kept
    assert _fresh_process_reads(shelf.path, "US", 2027)["imported"] is False
    assert _fresh_process_reads(shelf.path)["imported"] is False  # the first year is still there


def test_a_file_anyone_may_write_is_not_read(tmp_path: Path) -> None:
    path = tmp_path / ".n.db.holidays"
    keep_holidays_on(HolidayFile(path))
    _holiday_table("US", 2026)
    forged = json.loads(path.read_text())
    forged["tables"]["US:2026"] = {"2026-03-03": "A day off nobody gave"}
    path.write_text(json.dumps(forged))
    os.chmod(path, 0o666)
    assert _fresh_process_reads(path)["table"] == _as_json(US_2026)


@pytest.mark.parametrize("spoil", ["torn", "other package", "not ours", "another year's days", "a day without a name",
                                   "too deep", "too big"])
def test_a_torn_or_stale_file_means_the_table_is_worked_out_again(tmp_path: Path, spoil: str) -> None:
    path = tmp_path / ".n.db.holidays"
    keep_holidays_on(HolidayFile(path))
    _holiday_table("US", 2026)
    kept = json.loads(path.read_text())
    if spoil == "torn":
        path.write_text(path.read_text()[:40])
    elif spoil == "other package":
        kept["package"] = "holidays 0.1 somewhere else"
        kept["tables"]["US:2026"] = {"2026-03-03": "An older release's day"}
        path.write_text(json.dumps(kept))
    elif spoil == "not ours":
        kept["tables"]["US:2026"] = ["not", "a", "table"]
        path.write_text(json.dumps(kept))
    elif spoil == "another year's days":
        kept["tables"]["US:2026"] = {"2025-12-25": "Christmas Day"}
        path.write_text(json.dumps(kept))
    elif spoil == "a day without a name":
        kept["tables"]["US:2026"]["2026-03-03"] = None
        path.write_text(json.dumps(kept))
    elif spoil == "too deep":
        path.write_text("[" * 200_000)  # JSON the parser gives up on (RecursionError)
    else:
        kept["padding"] = "x" * (5 << 20)  # valid, ours in every field, but no table is this big
        path.write_text(json.dumps(kept))
    found = _fresh_process_reads(path)
    assert found == {"imported": True, "table": _as_json(US_2026)}
    assert _fresh_process_reads(path)["imported"] is False  # rewritten whole by that run


def test_an_unknown_code_still_fails_and_keeps_nothing(tmp_path: Path) -> None:
    path = tmp_path / ".n.db.holidays"
    keep_holidays_on(HolidayFile(path))
    with pytest.raises(ValueError, match="not a country code"):
        _holiday_table("XX", 2026)
    assert not path.exists()


def test_a_folder_nudger_cannot_write_means_no_file_and_the_same_answers(tmp_path: Path) -> None:
    if os.geteuid() == 0:
        folder = tmp_path / "no-such-folder" / "inside"  # root writes anywhere: a folder that is not there
    else:
        folder = tmp_path / "read-only"
        folder.mkdir()
        os.chmod(folder, 0o500)
    keep_holidays_on(HolidayFile(folder / ".n.db.holidays"))
    assert _holiday_table("US", 2026) == US_2026
    assert not (folder / ".n.db.holidays").exists()


def test_no_file_beside_a_relative_database_path() -> None:
    assert holiday_file(Path("nudger.db")) is None
    assert business_time._shelf == []


def test_each_workspace_answers_from_its_own_file(tmp_path: Path) -> None:
    """One process, two workspaces (tests, a long-lived caller): no table crosses over."""
    a, b = HolidayFile(tmp_path / "a" / ".n.db.holidays"), HolidayFile(tmp_path / "b" / ".n.db.holidays")
    for shelf in (a, b):
        shelf.path.parent.mkdir()
        keep_holidays_on(shelf)
        _holiday_table("US", 2026)
    kept = json.loads(a.path.read_text())
    kept["tables"]["US:2026"]["2026-11-24"] = "A's own day off"
    a.path.write_text(json.dumps(kept))
    first, second = HolidayFile(a.path), HolidayFile(b.path)  # as a new run of each would open them
    keep_holidays_on(first)
    assert _holiday_table("US", 2026).get(date(2026, 11, 24)) == "A's own day off"
    keep_holidays_on(second)
    assert date(2026, 11, 24) not in _holiday_table("US", 2026)


def test_a_symlink_in_the_files_place_is_neither_read_nor_written_through(tmp_path: Path) -> None:
    """A workspace owner must not point a root run at some other file: not read as ours, not
    truncated or given away; the link itself is replaced by our file."""
    victim = tmp_path / "victim.json"
    keep_holidays_on(HolidayFile(tmp_path / ".seed.holidays"))
    _holiday_table("US", 2026)
    forged = json.loads((tmp_path / ".seed.holidays").read_text())
    forged["tables"]["US:2026"] = {"2026-03-03": "A day off nobody gave"}
    victim.write_text(json.dumps(forged))
    os.chmod(victim, 0o600)
    link = tmp_path / ".n.db.holidays"
    link.symlink_to(victim)
    found = _fresh_process_reads(link)
    assert found == {"imported": True, "table": _as_json(US_2026)}  # the link's target was not read
    assert json.loads(victim.read_text()) == forged  # nor written through
    assert not link.is_symlink() and json.loads(link.read_text())["tables"]["US:2026"] == _as_json(US_2026)
