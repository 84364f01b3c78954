"""Logging for operators: one line per event, to ``[logging] path`` or stderr."""

from __future__ import annotations

import logging
import os
import sys
from pathlib import Path

from nudger.config import Config
from nudger.errors import ConfigError
from nudger.private import private_dirs, private_file

_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


class OneLine(logging.Formatter):
    """The console gets one line per event; tracebacks go to the log file only (and to the
    console too with ``-v``)."""

    def __init__(self, fmt: str, tracebacks: bool = False):
        super().__init__(fmt)
        self.tracebacks = tracebacks

    def format(self, record: logging.LogRecord) -> str:
        if self.tracebacks:
            return super().format(record)
        record.message = record.getMessage()
        return self.formatMessage(record)


def log_file() -> Path | None:
    """The log file nudger writes to, if ``[logging] path`` set one."""
    for handler in logging.getLogger("nudger").handlers:
        if isinstance(handler, logging.FileHandler):
            return Path(handler.baseFilename)
    return None


def configure_logging(config: Config | None, verbosity: int = 0) -> None:
    """``-v`` shows info on stderr, ``-q`` only errors; the log file gets the configured level."""
    root = logging.getLogger("nudger")
    for old in list(root.handlers):
        root.removeHandler(old)
        old.close()
    root.propagate = False
    level_name = config.logging.level.upper() if config else "INFO"
    file_level = getattr(logging, level_name, logging.INFO)
    stderr_level = logging.WARNING if verbosity == 0 else logging.INFO if verbosity > 0 else logging.ERROR
    if verbosity > 1:
        stderr_level = logging.DEBUG
    denied = log_file_denied(config) if config else None
    if config and config.logging.path and denied is None:
        private_dirs(config.logging.path.parent)
        private_file(config.logging.path)  # it names people and their reply addresses
        handler: logging.Handler = logging.FileHandler(config.logging.path, encoding="utf-8", delay=True)
        handler.setLevel(file_level)
        handler.setFormatter(logging.Formatter(_FORMAT))
        root.addHandler(handler)
        stderr_level = max(stderr_level, logging.ERROR) if verbosity <= 0 else stderr_level
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(stderr_level)
    console.setFormatter(OneLine("nudger: %(message)s", tracebacks=verbosity > 0))
    console.addFilter(lambda record: getattr(record, "console", True))
    root.addHandler(console)
    root.setLevel(min(file_level, stderr_level))
    if denied is not None:  # the console is set up: what follows can still be told
        raise denied


def log_file_denied(config: Config) -> ConfigError | None:
    """Why the user running nudger may not append to ``[logging] path`` (or create it), or None."""
    from nudger.permissions import denied_file, denied_folder

    path = config.logging.path
    if path is None:
        return None
    return (denied_folder(path.parent, "the log folder", write=not os.path.exists(path),
                          why=f"{path.name} is created there") or
            denied_file(path, "the log file ([logging] path)", write=True, why="every run appends to it"))
