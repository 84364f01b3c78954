"""Docs cannot drift: every config key the reader reads is in config/nudger.example.toml, and
every command and option of the CLI is in README.md's Commands section.

Both lists come from the code itself: the keys by recording what the real reader asks each
table for while it loads the example, the commands and options by walking the click group.
Someone who adds a key or an option and not its documentation fails here, by name.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator
from pathlib import Path

import click
import pytest

from nudger.cli import cli
from nudger.config import SCHEMA, config_from_dict
from nudger.config import reader as config_reader

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "nudger.example.toml"
README = ROOT / "README.md"


# --- config keys -----------------------------------------------------------------------------

def example_in_full() -> dict:
    """The example with its commented-out keys (IMAP, SMTP, optional ones) switched on: every
    key it documents, as TOML."""
    text = re.sub(r"^# (?=[a-z_]+ = )", "", EXAMPLE.read_text(encoding="utf-8"), flags=re.M)
    return tomllib.loads(text)


def documented(data: dict) -> set[str]:
    """"section.key" for each key in the example; [[people]] and [teams.*] by their fields."""
    found = set()
    for section, table in data.items():
        rows = table if isinstance(table, list) else list(table.values()) if section == "teams" else [table]
        found |= {f"{section}.{key}" for row in rows for key in row}
    return found


def keys_read(monkeypatch: pytest.MonkeyPatch, data: dict) -> set[str]:
    """"section.key" for every key the reader looks up while it validates ``data``."""
    seen: set[str] = set()
    real = config_reader._Table._get

    def recording(table: config_reader._Table, key: str, *args: object) -> object:
        section = re.sub(r"\[\d+\]$", "", table.where).split(".")[0]  # people[2] -> people, teams.x -> teams
        seen.add(f"{section}.{key}")
        return real(table, key, *args)

    monkeypatch.setattr(config_reader._Table, "_get", recording)
    config_from_dict(data, base_dir=ROOT / "config",
                     env={"NUDGER_IMAP_PASSWORD": "x", "NUDGER_SMTP_PASSWORD": "x", "HOME": "/home/x"})
    monkeypatch.undo()
    return seen


@pytest.fixture(scope="module")
def every_key_read() -> set[str]:
    """What the reader reads of the full example, with maildirs and again with IMAP and SMTP
    (a key read only on one of those paths counts too)."""
    found: set[str] = set()
    for inbound, outbound in (("maildir", "maildir"), ("imap", "smtp")):
        data = example_in_full()
        data["inbound"]["source"], data["outbound"]["transport"] = inbound, outbound
        with pytest.MonkeyPatch.context() as mp:
            found |= keys_read(mp, data)
    return found


def test_every_key_the_reader_reads_is_in_the_example(every_key_read: set[str]) -> None:
    missing = every_key_read - documented(example_in_full())
    assert not missing, f"read by nudger/config/reader.py, missing from {EXAMPLE.name}: {sorted(missing)}"


def test_every_key_the_reader_accepts_is_read(every_key_read: set[str]) -> None:
    """SCHEMA is what the reader lets through; a key in it that nothing reads would be
    accepted and silently ignored."""
    accepted = {f"{section}.{key}" for section, keys in SCHEMA.items() for key in keys}
    assert accepted == every_key_read, (f"accepted, never read: {sorted(accepted - every_key_read)}; "
                                        f"read, not in SCHEMA: {sorted(every_key_read - accepted)}")


def test_the_example_with_every_key_switched_on_loads() -> None:
    """Each key the example documents exists (the reader refuses unknown ones) and its example
    value is valid."""
    config = config_from_dict(example_in_full(), base_dir=ROOT / "config", env={"HOME": "/home/x"})
    assert config.inbound.server.host == "imap.acme.test" and config.outbound.server.port == 465


# --- commands and options ----------------------------------------------------------------------

def commands_section() -> str:
    text = README.read_text(encoding="utf-8")
    start = text.index("\n## Commands\n")
    end = text.find("\n## ", start + 1)
    return text[start:end if end != -1 else None]


def rows() -> list[tuple[list[list[str]], str]]:
    """Each table row of the section: the `nudger ...` forms in its first cell (as lists of
    words, each word a list of alternatives: `show\\|retry` -> ["show", "retry"]) and the row."""
    found = []
    for line in commands_section().splitlines():
        if not line.startswith("| `nudger"):
            continue
        first = re.split(r"(?<!\\)\|", line)[1]
        forms = [[word.strip("[]").split("|") for word in span.replace("\\|", "|").split()[1:]]
                 for span in re.findall(r"`(nudger [^`]*)`", first)]
        found.append((forms, line))
    return found


def command_paths(group: click.Group, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], click.Command]]:
    for name, command in sorted(group.commands.items()):
        if command.hidden:
            continue
        yield (*path, name), command
        if isinstance(command, click.Group):
            yield from command_paths(command, (*path, name))


def global_options() -> set[str]:
    """--config, -v, -q, -h/--help, --version: the group's own, taken by every command too."""
    ctx = click.Context(cli)
    return {name for p in cli.get_params(ctx) if isinstance(p, click.Option) for name in p.opts}


def documenting(path: tuple[str, ...]) -> list[str]:
    """The rows whose first cell names this command (`nudger outbox [retry ID]` names both
    `outbox` and `outbox retry`)."""
    return [line for forms, line in rows()
            if any(len(form) >= len(path) and all(word in form[i] for i, word in enumerate(path))
                   for form in forms)]


def mentions(text: str, option: str) -> bool:
    return re.search(rf"(?<![\w-]){re.escape(option)}(?![\w-])", text) is not None


COMMANDS = list(command_paths(cli))


@pytest.mark.parametrize("path", [p for p, _ in COMMANDS], ids=" ".join)
def test_every_command_and_its_options_are_in_the_readme(path: tuple[str, ...]) -> None:
    command = dict(COMMANDS)[path]
    lines = documenting(path)
    assert lines, f"README.md's Commands table has no row for `nudger {' '.join(path)}`"
    own = [name for p in command.params if isinstance(p, click.Option) for name in p.opts
           if name not in global_options()]
    missing = [name for name in own if not any(mentions(line, name) for line in lines)]
    assert not missing, f"`nudger {' '.join(path)}` options missing from its README row: {missing}"


def test_the_options_every_command_takes_are_in_the_readme() -> None:
    section = commands_section()
    missing = sorted(name for name in global_options() if not mentions(section, name))
    assert not missing, f"README.md's Commands section does not mention {missing}"


def test_the_row_reader_finds_what_the_table_says() -> None:
    """The check above is only as good as its reading of the table."""
    assert documenting(("run",)) and documenting(("quarantine", "export"))
    assert not documenting(("quarantine", "nonsense"))
    assert not documenting(("nonsense",))
