"""May the user running nudger use a path the way a run needs to? Asked of the kernel
(``os.access``: mode bits, owner, group, and what root's capabilities let through) before the
run needs the path, so that a folder cron's user cannot write is a configuration error that
names the folder and the fix (exit 78), never a failed write mid-run that looks like a busy or
broken disk (exit 75, retried forever) or a message's fault.

A file system mounted read-only is not a permission: it is left to the storage-fault path
(``nudger.errors.storage_failure``, exit 75), as a full disk is.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable
from pathlib import Path

from nudger.errors import ConfigError

try:
    import pwd
except ImportError:  # pragma: no cover - not a Unix
    pwd = None  # type: ignore[assignment]


def user_name(uid: int) -> str:
    if pwd is not None:
        try:
            return pwd.getpwuid(uid).pw_name
        except KeyError:
            pass
    return f"uid {uid}"


def running_user() -> str:
    """"nudger (uid 998)": who this process acts as, for messages."""
    uid = os.geteuid()
    return f"{user_name(uid)} (uid {uid})"


def denied_folder(path: Path, role: str, *, read: bool = False, write: bool = False,
                  why: str = "", maildir: bool = False) -> ConfigError | None:
    """Why this process may not enter ``path`` (and list it when ``read``, create and remove
    files in it when ``write``), or None when it may. A folder that does not exist yet must be
    creatable from its nearest existing parent (nudger creates its folders); when that parent
    is not ours (/var/lib, /srv), the fix is to create the folder (a Maildir with its cur/,
    new/ and tmp/ when ``maildir``) and give it to this user, never to chown the parent."""
    path = Path(os.path.abspath(path))
    blocked = _unreachable(path)
    if blocked is not None:
        return blocked
    if not os.path.isdir(path):
        parent = _nearest_existing(path)
        if os.access(parent, os.W_OK | os.X_OK) or _read_only_fs(parent):
            return None
        lacks = tuple(n for n, flag in (("write", os.W_OK), ("enter", os.X_OK)) if not os.access(parent, flag))
        denied = _denied(parent, "the folder", ("write", "enter"),
                         f"{role} {path} does not exist yet, and nudger creates it there", lacks)
        if _owner(parent) == os.geteuid():
            return denied  # our own folder, without its write bit: chmod u+wx is the fix
        return ConfigError(str(denied), fix=_create_for_me(path, parent, maildir))
    wanted = (("read", os.R_OK),) * read + (("write", os.W_OK),) * write + (("enter", os.X_OK),)
    missing = tuple(name for name, flag in wanted if not os.access(path, flag))
    if not missing or (missing == ("write",) and _read_only_fs(path)):
        return None
    return _denied(path, role, tuple(name for name, _ in wanted), why, missing)


def denied_file(path: Path, role: str, *, write: bool = False, why: str = "") -> ConfigError | None:
    """Why this process may not read (and, when ``write``, write) the file ``path``, or None
    when it may or when there is no such file (its folder then decides)."""
    path = Path(os.path.abspath(path))
    blocked = _unreachable(path)
    if blocked is not None:
        return blocked
    if not os.path.lexists(path):
        return None
    wanted = (("read", os.R_OK),) + (("write", os.W_OK),) * write
    missing = tuple(name for name, flag in wanted if not os.access(path, flag))
    if not missing or (missing == ("write",) and _read_only_fs(path)):
        return None
    return _denied(path, role, tuple(name for name, _ in wanted), why, missing)


def _owner(path: Path) -> int:
    try:
        return os.stat(path).st_uid
    except OSError:
        return -1


def _create_for_me(path: Path, parent: Path, maildir: bool) -> str:
    """Make the missing folder ``path`` and give it to the user running nudger, as root."""
    me = user_name(os.geteuid())
    if maildir:
        made = (f"mkdir -p {path}/cur {path}/new {path}/tmp && chown -R {me} {path} (or create only {path} "
                "and chown it: nudger makes cur/, new/ and tmp/ in it)")
    else:
        made = f"mkdir -p {path} && chown {me} {path}"
    return (f"create {path} and give it to the user cron runs nudger as ({me} here), as root: {made}; "
            f"leave {parent} as it is (never chown a system folder to nudger's user)")


def _unreachable(path: Path) -> ConfigError | None:
    """A folder above ``path`` this process may not enter: nothing below it can be used."""
    for folder in reversed(path.parents):
        if not os.path.isdir(folder):
            return None  # missing from here down: created later, checked by the caller
        if not os.access(folder, os.X_OK):
            return _denied(folder, "the folder", ("enter",), f"{path} is inside it", ("enter",))
    return None


def _nearest_existing(path: Path) -> Path:
    for folder in path.parents:
        if os.path.isdir(folder):
            return folder
    return Path(path.anchor)


def _read_only_fs(path: Path) -> bool:
    try:
        return bool(os.statvfs(path).f_flag & os.ST_RDONLY)
    except OSError:
        return False


_VERBS = {"read": "read", "write": "write", "enter": "enter"}
_FOLDER_VERBS = {"read": "list", "write": "create files in", "enter": "enter"}
_BITS = {"read": "r", "write": "w", "enter": "x"}


def _denied(path: Path, role: str, needed: tuple[str, ...], why: str,
            missing: tuple[str, ...] | None = None) -> ConfigError:
    """The error: who may not do what to which path (its owner and mode), and the command
    that lets the user running nudger do what a run needs."""
    missing = missing or needed
    try:
        st = os.lstat(path)
        owner, mode, is_dir = st.st_uid, stat.S_IMODE(st.st_mode), stat.S_ISDIR(st.st_mode)
    except OSError:
        owner, mode, is_dir = -1, 0, True
    verbs = _FOLDER_VERBS if is_dir else _VERBS
    me = os.geteuid()
    what = (f"{role} {path}: {running_user()} may not {_or(verbs[m] for m in missing)} it "
            f"(owner {user_name(owner)}, mode {mode:04o})" + (f"; {why}" if why else ""))
    bits = "".join(_BITS[n] for n in ("read", "write", "enter") if n in needed)
    if owner == me:
        command = f"chmod u+{bits} {path}"
    else:
        owner_lacks = any(not mode & {"r": stat.S_IRUSR, "w": stat.S_IWUSR, "x": stat.S_IXUSR}[b] for b in bits)
        command = f"chown {user_name(me)} {path}" + (f" && chmod u+{bits} {path}" if owner_lacks else "")
        if owner != 0:  # never advise running as root
            command += f" (or run nudger as {user_name(owner)}, who owns it)"
    able = _and(word for n, word in (("read", "readable"), ("write", "writable")) if n in needed) or "searchable"
    fix = f"make it {able} by the user cron runs nudger as ({user_name(me)} here): {command}"
    return ConfigError(what, fix=fix)


def _or(words: Iterable[str]) -> str:
    return _joined(list(words), "or")


def _and(words: Iterable[str]) -> str:
    return _joined(list(words), "and")


def _joined(items: list[str], word: str) -> str:
    return "" if not items else items[0] if len(items) == 1 else f"{', '.join(items[:-1])} {word} {items[-1]}"
