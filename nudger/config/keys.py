"""The reply-token key: from the environment, else a key file made once beside the database."""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from nudger.config.model import KEY_FILE_NAME, Config
from nudger.errors import ConfigError
from nudger.permissions import denied_file, denied_folder
from nudger.private import adopt, private_dirs


def key_file_path(config: Config) -> Path:
    return config.database_path.parent / KEY_FILE_NAME


def load_secrets(config: Config, env: Mapping[str, str]) -> tuple[bytes, tuple[bytes, ...]]:
    """The HMAC key for reply tokens, and older keys still accepted (rotation).

    The current key is $<secret_env> when set, else a key file next to the database that is
    made once. When the env key is set and a key file also exists, the file's key is kept
    as a previous one, so moving from the file to the env does not break outstanding tokens.
    """
    file = str(config.source) if config.source else "config"
    previous: list[bytes] = []
    current_text = env.get(config.security.secret_env, "")
    if current_text:
        if len(current_text) < 16:
            raise ConfigError(f"{file}: security.secret_env: ${config.security.secret_env} is "
                              f"{len(current_text)} characters; use at least 16",
                              fix=f"set ${config.security.secret_env} to a random text of 16 or more characters")
        current = current_text.encode()
        if key_file_path(config).exists():
            previous.append(_read_key_file(key_file_path(config)))
    else:
        current = _key_file(key_file_path(config))
    old_name = config.security.previous_secret_env
    if old_name and env.get(old_name):
        previous.insert(0, env[old_name].encode())
    return current, tuple(dict.fromkeys(k for k in previous if k != current))


def _key_file(path: Path) -> bytes:
    """Create the key once, atomically: write a private temp file, then link it in place."""
    if path.exists():
        return _read_key_file(path)
    denied = denied_folder(path.parent, "the folder of the reply-token key file", write=True,
                           why=f"{path.name} is created there, once")
    if denied is not None:
        raise denied
    private_dirs(path.parent)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{os.urandom(4).hex()}")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.fchmod(fd, 0o600)
        adopt(tmp, fd)  # made by root: the workspace owner's, as the run that reads it
        # os.urandom is what `secrets` reads; importing `secrets` (hmac, random) costs every cron run
        os.write(fd, (os.urandom(32).hex() + "\n").encode())
        os.fsync(fd)
        os.close(fd)
        try:
            os.link(tmp, path)
        except FileExistsError:
            pass  # another run made it first; use theirs
    finally:
        tmp.unlink(missing_ok=True)
    return _read_key_file(path)


def _read_key_file(path: Path) -> bytes:
    try:
        mode = path.stat().st_mode & 0o777
        text = path.read_text(encoding="ascii").strip()
        key = bytes.fromhex(text)
    except PermissionError as exc:
        denied = denied_file(path, "the reply-token key file")
        raise ConfigError(str(denied or f"{path}: cannot read the key file: {exc.strerror}"), fix=(
            f"{denied.fix if denied else 'make it readable by the user cron runs nudger as'}; keep this "
            f"file and its key: every reply address already sent carries a token made with it, so a new "
            f"key (deleting the file, or setting $NUDGER_SECRET instead) would make those replies fail")) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read the key file: {exc.strerror}") from None
    except ValueError:
        raise ConfigError(f"{path}: not a nudger key file (64 hex digits)", fix=(
            f"delete {path} to make a new one (reply links in mail already sent stop working)")) from None
    if len(key) < 16:
        raise ConfigError(f"{path}: key too short ({len(key)} bytes)",
                          fix=f"delete {path} to make a new one (reply links in mail already sent stop working)")
    if mode & 0o077:
        raise ConfigError(f"{path}: the key file is readable by others (mode {mode:04o})",
                          fix=f"chmod 600 {path}")
    return key
