"""Getting started: ``nudger init`` writes a commented config and the Maildirs."""

from __future__ import annotations

import shlex
from collections.abc import Iterator
from pathlib import Path

from nudger.config import starter_config_text
from nudger.maildir import ensure_maildir
from nudger.ops.invocation import shell_line
from nudger.private import adopt


def example_config() -> Path:
    """The documented example: inside the installed package, or the source tree's config/."""
    here = Path(__file__).parent.parent
    packaged = here / "data" / "nudger.example.toml"
    return packaged if packaged.exists() else here.parent / "config" / "nudger.example.toml"


def _folders(path: Path) -> None:
    """``mkdir -p``, each folder made taking its parent's owner when run as root (``adopt``)."""
    missing = []
    while not path.exists():
        missing.append(path)
        path = path.parent
    for folder in reversed(missing):
        folder.mkdir(exist_ok=True)
        adopt(folder)


def init_workspace(directory: Path, domain: str) -> Iterator[str]:
    """Write config/nudger.toml and the Maildirs; never overwrite an existing config."""
    directory = directory.resolve()
    config_path = directory / "config" / "nudger.toml"
    if config_path.exists():
        yield f"{config_path} already exists; left as it is."
    else:
        _folders(config_path.parent)
        config_path.write_text(starter_config_text(domain), encoding="utf-8")
        adopt(config_path)
        yield f"wrote {config_path}"
    example = config_path.parent / "nudger.example.toml"
    if not example.exists() and example_config().exists():
        example.write_text(example_config().read_text(encoding="utf-8"), encoding="utf-8")
        adopt(example)
        yield f"wrote {example} (every key, with its default)"
    for sub in ("mail/inbox", "mail/outbox"):
        ensure_maildir(config_path.parent / sub)
        yield f"made Maildir {config_path.parent / sub}"
    yield ""
    yield "Next:"
    config = str(config_path)
    yield f"  1. Edit {config_path}: add your [[people]] and [teams] (see {example.name} beside it)."
    yield f"  2. Check it:          {shell_line('--config', config, 'doctor')}"
    yield f"  3. Add to crontab:    */5 * * * * NUDGER_CONFIG={shlex.quote(config)} {shell_line('run', '-q')}"
    yield "     (with NUDGER_SECRET and any password variables: see crontab.example)."
    address = f"handoffs@{domain}" if domain else "the handoff address"
    yield f"  4. Deliver mail for {address} into {config_path.parent / 'mail/inbox'},"
    yield "     or read a shared mailbox over IMAP ([inbound] source = \"imap\"; docs/operating.md),"
    yield f"     or pipe it to: {shell_line('--config', config, 'ingest', '-')}"
