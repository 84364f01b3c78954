"""Compiled templates kept between runs: the same email either way, never a stale or foreign one."""

from __future__ import annotations

import logging
import os
from datetime import UTC, datetime
from pathlib import Path

from nudger.config import config_from_dict
from nudger.core.records import Handoff, Notice
from nudger.outbound.render import Renderer
from nudger.outbound.template_cache import cache_folder

NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
HANDOFF = Handoff(id=7, title="W-9 for Initech", status="open", requester="sam@acme.test", created=NOW,
                  updated=NOW, owner="dana@acme.test")


def _config(tmp_path: Path, templates: Path | None = None):
    data: dict = {"org": {"domain": "acme.test"}, "database": {"path": str(tmp_path / "state" / "nudger.db")},
                  "people": [{"email": "dana@acme.test", "name": "Dana Numbers"}]}
    if templates is not None:
        data["templates"] = {"path": str(templates)}
    (tmp_path / "state").mkdir(exist_ok=True)
    return config_from_dict(data, env={})


def _render(config, kind: str = "new_handoff") -> bytes:
    """A fresh Renderer each time: a new run, with nothing compiled in memory."""
    return Renderer(config, b"k" * 32).render(Notice(kind, "dana@acme.test", 7), HANDOFF, "k:1", NOW).raw


def _cached(config) -> list[Path]:
    return sorted(cache_folder(config.database_path).glob("*.cache"))


def test_a_second_run_renders_from_the_cache_the_same_bytes(tmp_path: Path) -> None:
    config = _config(tmp_path)
    first = _render(config)
    files = _cached(config)
    assert len(files) >= 3  # the kind's text and html, and the layouts they extend
    assert oct(cache_folder(config.database_path).stat().st_mode & 0o777) == "0o700"
    assert all(f.stat().st_mode & 0o777 == 0o600 for f in files)
    stamps = {f: f.stat().st_mtime_ns for f in files}
    assert _render(config) == first
    assert {f: f.stat().st_mtime_ns for f in _cached(config)} == stamps  # read, not written again


def test_an_edited_template_is_compiled_again_not_served_stale(tmp_path: Path) -> None:
    custom = tmp_path / "tpl"
    custom.mkdir()
    (custom / "note.txt").write_text("{% extends '_base.txt' %}{% block body %}First words.{% endblock %}")
    (custom / "note.html").write_text("<p>First words.</p>")
    config = _config(tmp_path, custom)
    assert b"First words." in _render(config, "note")
    (custom / "note.txt").write_text("{% extends '_base.txt' %}{% block body %}Second words.{% endblock %}")
    (custom / "note.html").write_text("<p>Second words.</p>")
    again = _render(config, "note")
    assert b"Second words." in again and b"First words." not in again


def test_a_cache_file_others_may_write_is_not_used(tmp_path: Path, caplog) -> None:
    config = _config(tmp_path)
    first = _render(config)
    for f in _cached(config):
        f.write_bytes(b"not code")  # what a stranger could put there
        os.chmod(f, 0o666)
    with caplog.at_level(logging.WARNING, logger="nudger.render"):
        assert _render(config) == first
    assert "writable by you only" in caplog.text


def test_a_torn_cache_file_means_a_compile(tmp_path: Path) -> None:
    config = _config(tmp_path)
    first = _render(config)
    for f in _cached(config):
        f.write_bytes(f.read_bytes()[:40])
    assert _render(config) == first


def test_a_folder_nudger_cannot_write_means_no_cache(tmp_path: Path) -> None:
    config = _config(tmp_path)
    folder = cache_folder(config.database_path)
    folder.write_text("a file where the folder would be")
    assert b"W-9 for Initech" in _render(config)
    assert folder.read_text() == "a file where the folder would be"


def test_a_config_built_in_code_writes_no_cache_where_the_process_runs(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    config = config_from_dict({"org": {"domain": "acme.test"}}, env={})
    assert not config.database_path.is_absolute()
    _render(config)
    assert list(tmp_path.iterdir()) == []
