"""The validated config is remembered between runs, and never once it is stale: any change to
the file (even one keeping its size and mtime), its place or HOME reads and validates it
again; a broken config is never remembered; a cache someone else could write is ignored."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from conftest import ORG_TOML

from nudger.config import cache, load_config
from nudger.config.cache import cache_path, load_config_cached
from nudger.errors import ConfigError


@pytest.fixture
def validations(monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    """Each full validation the cache falls back to, by file (the real reader still runs)."""
    seen: list[Path] = []
    real = cache.config_from_bytes

    def counted(raw, path, env=None):  # type: ignore[no-untyped-def]
        seen.append(path)
        return real(raw, path, env)

    monkeypatch.setattr(cache, "config_from_bytes", counted)
    return seen


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_a_second_read_comes_from_the_cache(tmp_path: Path, validations: list[Path]) -> None:
    path = write(tmp_path / "nudger.toml", ORG_TOML)
    first = load_config_cached(path, {"HOME": "/home/x"})
    second = load_config_cached(path, {"HOME": "/home/x"})
    assert validations == [path]
    assert second == first == load_config(path, {"HOME": "/home/x"})
    assert second.person_by_handle("dana") == first.person_by_handle("dana")
    assert dict(second.teams) == dict(first.teams)
    assert stat.S_IMODE(cache_path(path).stat().st_mode) == 0o600


def test_an_edit_keeping_size_and_mtime_is_read_again(tmp_path: Path, validations: list[Path]) -> None:
    path = write(tmp_path / "nudger.toml", ORG_TOML)
    assert load_config_cached(path, {}).org.timezone == "America/Chicago"
    st = path.stat()
    write(path, ORG_TOML.replace('timezone = "America/Chicago"', 'timezone = "America/Detroit"', 1))
    os.utime(path, ns=(st.st_atime_ns, st.st_mtime_ns))
    assert path.stat().st_size == st.st_size
    assert load_config_cached(path, {}).org.timezone == "America/Detroit"
    assert len(validations) == 2


def test_home_and_the_files_place_are_part_of_the_key(tmp_path: Path, validations: list[Path]) -> None:
    text = ORG_TOML.replace('path = "state/nudger.db"', 'path = "~/nudger.db"')
    path = write(tmp_path / "a" / "nudger.toml", text)
    assert load_config_cached(path, {"HOME": "/home/a"}).database_path == Path("/home/a/nudger.db")
    assert load_config_cached(path, {"HOME": "/home/b"}).database_path == Path("/home/b/nudger.db")
    moved = write(tmp_path / "b" / "nudger.toml", ORG_TOML)
    cache_path(path).rename(cache_path(moved))  # a cache copied along with the config
    assert load_config_cached(moved, {}).database_path == tmp_path / "b" / "state" / "nudger.db"
    assert len(validations) == 3


def test_a_broken_config_is_never_remembered(tmp_path: Path, validations: list[Path]) -> None:
    broken = ORG_TOML.replace('timezone = "America/Chicago"', 'timezone = "Mars/Base"', 1)
    path = write(tmp_path / "nudger.toml", broken)
    for _ in range(2):
        with pytest.raises(ConfigError, match="Mars/Base"):
            load_config_cached(path, {})
    assert not cache_path(path).exists()
    assert len(validations) == 2


def test_a_cache_others_may_write_or_a_torn_one_is_not_used(tmp_path: Path, validations: list[Path]) -> None:
    path = write(tmp_path / "nudger.toml", ORG_TOML)
    load_config_cached(path, {})
    cache_path(path).chmod(0o666)
    assert load_config_cached(path, {}) == load_config(path, {})
    assert stat.S_IMODE(cache_path(path).stat().st_mode) == 0o600  # written again, for you only
    cache_path(path).write_bytes(cache_path(path).read_bytes()[:-40])
    cache_path(path).chmod(0o600)
    assert load_config_cached(path, {}) == load_config(path, {})
    assert len(validations) == 3


def test_a_cache_that_cannot_be_written_means_none(tmp_path: Path, validations: list[Path]) -> None:
    """As in a folder nudger may not write to (a folder in the cache's place stands for it:
    the tests may run as root, who writes anywhere)."""
    path = write(tmp_path / "nudger.toml", ORG_TOML)
    cache_path(path).mkdir()
    assert load_config_cached(path, {}) == load_config_cached(path, {}) == load_config(path, {})
    assert len(validations) == 2 and not list(tmp_path.glob("*.tmp"))


class Recording(Mapping[str, str]):
    def __init__(self, values: dict[str, str]):
        self.values, self.asked = values, set()

    def __getitem__(self, key: str) -> str:
        self.asked.add(key)
        return self.values[key]

    def get(self, key, default=None):  # type: ignore[no-untyped-def, override]
        self.asked.add(key)
        return self.values.get(key, default)

    def __iter__(self) -> Iterator[str]:
        raise AssertionError("the reader must not walk the environment")

    def __len__(self) -> int:
        return len(self.values)


def test_the_reader_consults_only_home(tmp_path: Path) -> None:
    """The cache keys on HOME alone: if the reader ever reads another variable, key on it too."""
    text = ORG_TOML.replace('path = "state/nudger.db"', 'path = "~/nudger.db"')
    env = Recording({"HOME": "/home/x", "NUDGER_SECRET": "s" * 40, "PATH": "/bin"})
    load_config(write(tmp_path / "nudger.toml", text), env)
    assert env.asked == {"HOME"}
