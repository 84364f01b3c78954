"""Compiled templates, remembered between runs beside the database.

Jinja compiles each template to Python the first time a process renders it: about 0.25 s of
CPU for the dozen a new-handoff run uses, more than everything else a small cron run does.
So the compiled code is kept in ``.<database name>.templates/``, one file per template,
under Jinja's own key (the template's name and file) mixed with everything else the code
depends on: nudger's version and the Renderer's Environment options (in ``render.py``, by
its size and mtime). Jinja checks the template's source checksum and its own and Python's
bytecode version on load, so an edited template (a custom one under ``[templates] path``
too) is compiled again, never served stale.

The files are code, so they are trusted as the config cache is (``config/cache.py``): loaded
only when they belong to the user running nudger and nobody else may write them (written
0600 in a 0700 folder, replaced atomically). Root trusts only its own. A folder nudger
cannot write just means no cache; a torn or foreign file means a compile.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

from jinja2.bccache import Bucket, BytecodeCache

from nudger.private import open_private, private_dirs, replace_private, trusted

log = logging.getLogger("nudger.render")


def cache_folder(database_path: Path) -> Path:
    return database_path.with_name(f".{database_path.name}.templates")


def template_cache(database_path: Path) -> TemplateCache | None:
    """The cache beside a database with a place of its own; none beside a relative path (a
    config built in code, not read from a file): that would be wherever the process runs."""
    return TemplateCache(cache_folder(database_path)) if database_path.is_absolute() else None


def _code_key() -> str:
    from nudger import __version__
    from nudger.outbound import render

    st = os.stat(render.__file__)
    return f"{__version__}:{st.st_size}:{st.st_mtime_ns}"


class TemplateCache(BytecodeCache):
    """Jinja's bytecode cache, with the config cache's rules for trusting a file."""

    def __init__(self, folder: Path):
        self.folder = folder
        self._code = _code_key()

    def get_cache_key(self, name: str, filename: str | None = None) -> str:
        return hashlib.sha256(f"{self._code}\0{name}\0{filename or ''}".encode()).hexdigest()

    def _file(self, bucket: Bucket) -> Path:
        return self.folder / f"{bucket.key}.cache"

    def load_bytecode(self, bucket: Bucket) -> None:
        where = self._file(bucket)
        try:
            with open_private(where) as f:
                if not trusted(f.fileno(), where, log):
                    return
                bucket.load_bytecode(f)  # a wrong magic, checksum or torn file: Jinja resets it
        except FileNotFoundError:
            return
        except Exception as exc:  # noqa: BLE001 - any unreadable file: compile the template
            log.debug("%s: not used: %s", where, exc)
            bucket.reset()

    def dump_bytecode(self, bucket: Bucket) -> None:
        """A folder nudger cannot make or write: no cache, each run compiles."""
        try:
            private_dirs(self.folder)
        except OSError as exc:
            log.debug("%s: not made: %s", self.folder, exc)
            return
        replace_private(self._file(bucket), bucket.write_bytecode, log)

    def clear(self) -> None:
        for path in self.folder.glob("*.cache"):
            path.unlink(missing_ok=True)
