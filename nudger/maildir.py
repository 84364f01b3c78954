"""Maildir on disk, shared by the inbound source and the outbound transport."""

from __future__ import annotations

import os
from pathlib import Path


def ensure_maildir(path: Path) -> Path:
    for sub in ("tmp", "new", "cur"):
        (path / sub).mkdir(parents=True, exist_ok=True)
    return path


def deliver_to_maildir(path: Path, data: bytes, name: str) -> Path:
    """Write through ``tmp/`` and rename into ``new/``; the same name replaces, never doubles."""
    ensure_maildir(path)
    tmp = path / "tmp" / name
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    dst = path / "new" / name
    os.replace(tmp, dst)
    return dst
