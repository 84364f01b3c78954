"""The validated config, remembered between runs beside the config file.

Reading and validating a directory of 10,000 people takes about half a second, and a cron
run every 5 minutes that finds nothing to do should take less than that altogether. So the
validated ``Config`` is kept in ``.<config name>.validated`` next to the file, under a key
made of everything the result depends on: the file's bytes (its SHA-256: any edit, even one
that keeps the size and the mtime, is a miss), its absolute path (relative paths resolve
against its folder), ``HOME`` (for "~/" paths: the only variable the reader consults, a test
checks) and the code that validates it (nudger's version and its config modules' sizes and
mtimes). Any difference, or a cache that cannot be read, means a full read and validation;
a config with a mistake is never cached, so its error shows on every run. The people are
unpickled only when something asks for them (``Config.__getstate__``): an idle run needs none.

The cache is as trusted as the config beside it: it is loaded only when it belongs to the
user running nudger and nobody else may write it (written 0600, replaced atomically). A
folder nudger cannot write to just means no cache.
"""

from __future__ import annotations

import hashlib
import logging
import os
import pickle
from collections.abc import Mapping
from pathlib import Path
from typing import BinaryIO

from nudger.config.model import Config
from nudger.config.reader import config_from_bytes, read_config_bytes
from nudger.private import open_private, replace_private, trusted

log = logging.getLogger("nudger.config")

_MAGIC = b"nudger validated config 2\n"  # 2: the people pickled apart (model.Config)


def cache_path(path: Path) -> Path:
    return path.with_name(f".{path.name}.validated")


def load_config_cached(path: str | Path, env: Mapping[str, str]) -> Config:
    """``load_config``, answered from the cache when nothing it depends on has changed."""
    path = Path(path)
    raw = read_config_bytes(path)
    key = _key(raw, path, env)
    cached = _read(cache_path(path), key)
    if cached is not None:
        return cached
    config = config_from_bytes(raw, path, env)
    _write(cache_path(path), key, config)
    return config


def _key(raw: bytes, path: Path, env: Mapping[str, str]) -> bytes:
    from nudger import __version__

    code = os.path.dirname(__file__)
    parts = [__version__, str(path.absolute()), env.get("HOME") or ""]
    for name in sorted(n for n in os.listdir(code) if n.endswith(".py")):  # not glob: no pattern to compile
        st = os.stat(os.path.join(code, name))
        parts.append(f"{name}:{st.st_size}:{st.st_mtime_ns}")
    digest = hashlib.sha256("\n".join(parts).encode())
    digest.update(b"\0")
    digest.update(raw)
    return digest.hexdigest().encode() + b"\n"


def _read(where: Path, key: bytes) -> Config | None:
    try:
        with open_private(where) as f:
            if not trusted(f.fileno(), where, log):
                return None
            if f.read(len(_MAGIC)) != _MAGIC or f.read(len(key)) != key:
                return None
            config = pickle.load(f)
    except FileNotFoundError:
        return None
    except Exception as exc:  # a torn or foreign file: read and validate the config again
        log.debug("%s: not used: %s", where, exc)
        return None
    return config if isinstance(config, Config) else None


def _write(where: Path, key: bytes, config: Config) -> None:
    """Written by root too: the file is the workspace owner's (``adopt``), whose runs read it;
    a read-only folder means no cache, and every run validates."""
    def write(f: BinaryIO) -> None:
        f.write(_MAGIC + key)
        pickle.dump(config, f, protocol=pickle.HIGHEST_PROTOCOL)

    replace_private(where, write, log)
