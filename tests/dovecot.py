"""A private Dovecot IMAP server on 127.0.0.1, for tests and benchmarks (no system service touched).

One server per test session (``dovecot_server`` in conftest): its own config, a passwd-file
user per mailbox and Maildir storage under a temp dir. Each test takes a fresh user
(``server.mailbox()``), so tests share the process but never a mailbox; the user
``unavailable`` (``server.unavailable()``) meets a password database that is down. A second server with
``imap_capability`` lacking MOVE tests the COPY + \\Deleted + UID EXPUNGE fallback.

Traps (../shared/NOTES.md): a passwd-file user may not be uid 0 (we use 65534), and every
directory on the path must be traversable (0755) by Dovecot's unprivileged processes.
"""

from __future__ import annotations

import itertools
import json
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from imapclient import IMAPClient
from loopback import free_port

DOVECOT = shutil.which("dovecot") or "/usr/sbin/dovecot"
NOBODY = 65534
PASSWORD = "imap-test-password"
USERS = 300  # mailboxes per server and session


def _user(n: int) -> str:
    return f"handoffs{n}"

_CONF = """\
base_dir = {root}/run
state_dir = {root}/state
instance_name = nudger-test-{port}
listen = 127.0.0.1
protocols = imap
{ssl}
disable_plaintext_auth = no
auth_mechanisms = plain login
log_path = {root}/dovecot.log
mail_location = maildir:{root}/mail/%u
mail_uid = {uid}
mail_gid = {uid}
first_valid_uid = {uid}
last_valid_uid = {uid}
first_valid_gid = {uid}
default_internal_user = nobody
default_internal_group = nogroup
default_login_user = nobody
{capability}
passdb {{
  # The user "unavailable" meets a password database that is down: a temporary failure
  # (RFC 5530 [UNAVAILABLE]), as when the LDAP server behind a real one does not answer.
  driver = checkpassword
  args = {root}/down
  username_filter = unavailable
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN username_format=%u {root}/users
}}
userdb {{
  driver = passwd-file
  args = username_format=%u {root}/users
}}
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    address = 127.0.0.1
    port = {ssl_port}
    ssl = yes
  }}
}}
service anvil {{
  chroot =
}}
service imap-login {{
  chroot =
}}
namespace inbox {{
  inbox = yes
  separator = /
}}
"""


@dataclass(frozen=True)
class Mailbox:
    """One user's mailbox on the server: log in with ``connect()``, or point nudger at it."""

    host: str
    port: int
    user: str
    password: str
    root: Path  # the user's Maildir on disk (for tests that must reach behind the server)

    def connect(self) -> IMAPClient:
        client = IMAPClient(self.host, self.port, ssl=False, timeout=10)
        client.login(self.user, self.password)
        return client

    def append(self, raw: bytes, folder: str = "INBOX", when: datetime | None = None) -> None:
        with self.connect() as client:
            client.append(folder, raw, msg_time=when)

    def append_many(self, messages: list[bytes], folder: str = "INBOX") -> None:
        with self.connect() as client:
            for raw in messages:
                client.append(folder, raw)

    def uids(self, folder: str = "INBOX") -> list[int]:
        """The UIDs of the folder's undeleted messages; a folder that does not exist is empty."""
        with self.connect() as client:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            return sorted(client.search(["UNDELETED"]))

    def messages(self, folder: str = "INBOX") -> list[bytes]:
        with self.connect() as client:
            if not client.folder_exists(folder):
                return []
            client.select_folder(folder, readonly=True)
            uids = sorted(client.search(["ALL"]))
            fetched = client.fetch(uids, ["BODY.PEEK[]"]) if uids else {}
            return [fetched[u][b"BODY[]"] for u in uids]

    def flags(self, folder: str = "INBOX") -> dict[int, tuple[bytes, ...]]:
        with self.connect() as client:
            client.select_folder(folder, readonly=True)
            uids = client.search(["ALL"])
            return {u: d[b"FLAGS"] for u, d in client.fetch(uids, ["FLAGS"]).items()} if uids else {}

    def toml(self, folder: str = "INBOX", port: int | None = None, **extra: object) -> str:
        """The [inbound] section that reads this mailbox (password in $NUDGER_IMAP_PASSWORD);
        ``port``: another way in (a CuttingProxy's); ``extra``: more keys, or other values."""
        keys: dict[str, object] = {"source": "imap", "host": self.host, "port": port or self.port,
                                   "username": self.user, "password_env": "NUDGER_IMAP_PASSWORD",
                                   "tls": "none", "folder": folder, "timeout": 10, **extra}
        return "[inbound]\n" + "".join(f"{key} = {json.dumps(value)}\n" for key, value in keys.items())


class DovecotServer:
    """A running private Dovecot; ``stop()`` ends it. ``without`` drops capabilities (e.g. MOVE);
    ``tls``: a throwaway certificate for 127.0.0.1 (``self.cert``), STARTTLS offered on ``port``
    and TLS from the start on ``ssl_port``."""

    def __init__(self, root: Path, without: tuple[str, ...] = (), tls: bool = False):
        self.root = root
        self.host = "127.0.0.1"
        self.port = free_port()
        self.ssl_port = free_port() if tls else 0
        self.cert = root / "cert.pem"
        ssl = "ssl = no"
        if tls:
            key = root / "key.pem"
            subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
                            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
                            "-keyout", str(key), "-out", str(self.cert)], check=True, capture_output=True)
            ssl = f"ssl = yes\nssl_cert = <{self.cert}\nssl_key = <{key}"
        self._users = itertools.count(1)
        for sub in ("run", "state", "mail"):
            (root / sub).mkdir(parents=True, exist_ok=True)
        os.chown(root / "mail", NOBODY, NOBODY)
        # Every user is written before the server starts: Dovecot notices a changed passwd-file by
        # its mtime, which a test adding a user within the same second would not change.
        (root / "users").write_text("".join(
            f"{_user(n)}:{{PLAIN}}{PASSWORD}:{NOBODY}:{NOBODY}::{root}/mail/{_user(n)}::\n"
            for n in range(1, USERS + 1)))
        capability = ""
        if without:
            # Dovecot's own list, less what this server pretends not to have.
            have = ["IMAP4rev1", "SASL-IR", "LOGIN-REFERRALS", "ID", "ENABLE", "IDLE", "SORT", "SORT=DISPLAY",
                    "THREAD=REFERENCES", "THREAD=REFS", "THREAD=ORDEREDSUBJECT", "MULTIAPPEND", "URL-PARTIAL",
                    "CATENATE", "UNSELECT", "CHILDREN", "NAMESPACE", "UIDPLUS", "LIST-EXTENDED", "I18NLEVEL=1",
                    "CONDSTORE", "QRESYNC", "ESEARCH", "ESORT", "SEARCHRES", "WITHIN", "CONTEXT=SEARCH",
                    "LIST-STATUS", "BINARY", "MOVE", "SNIPPET=FUZZY", "PREVIEW=FUZZY", "PREVIEW",
                    "STATUS=SIZE", "SAVEDATE", "LITERAL+", "NOTIFY"]
            capability = "imap_capability = " + " ".join(c for c in have if c not in without)
        down = root / "down"  # checkpassword's "temporary problem" (exit 111), whatever is asked
        down.write_text("#!/bin/sh\nexit 111\n")
        down.chmod(0o755)
        self.conf = root / "dovecot.conf"
        self.conf.write_text(_CONF.format(root=root, port=self.port, ssl_port=self.ssl_port, uid=NOBODY,
                                          capability=capability, ssl=ssl))
        self.proc = subprocess.Popen([DOVECOT, "-F", "-c", str(self.conf)], stdout=subprocess.DEVNULL,
                                     stderr=subprocess.PIPE)
        self._wait_ready()

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"dovecot exited {self.proc.returncode}: {self.log()}"
                                   f"{self.proc.stderr.read().decode() if self.proc.stderr else ''}")
            try:
                with socket.create_connection((self.host, self.port), timeout=1) as s:
                    if s.recv(100).startswith(b"* OK"):
                        return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError(f"dovecot did not answer on {self.host}:{self.port}: {self.log()}")

    def session_cpu(self) -> float:
        """CPU seconds used so far by the server's live IMAP sessions (their ``imap`` processes):
        the benchmark adds them to its own, a figure the shared machine's load does not change."""
        tick = os.sysconf("SC_CLK_TCK")
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                text = stat.read_text()
            except OSError:  # ended meanwhile
                continue
            fields = text[text.rindex(")") + 2:].split()
            if int(fields[1]) == self.proc.pid and text[text.index("(") + 1:text.rindex(")")] == "imap":
                total += int(fields[11]) + int(fields[12])  # utime, stime
        return total / tick

    def log(self) -> str:
        path = self.root / "dovecot.log"
        return path.read_text(errors="replace")[-2000:] if path.exists() else ""

    def mailbox(self) -> Mailbox:
        """A user nobody has used yet in this session: an empty mailbox."""
        n = next(self._users)
        if n > USERS:
            raise RuntimeError(f"all {USERS} test mailboxes are taken; raise dovecot.USERS")
        return Mailbox(self.host, self.port, _user(n), PASSWORD, self.root / "mail" / _user(n))

    def unavailable(self) -> Mailbox:
        """The user whose password database is down: every login is answered
        ``NO [UNAVAILABLE] Temporary authentication failure.``"""
        return Mailbox(self.host, self.port, "unavailable", PASSWORD, self.root / "mail" / "unavailable")

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self.proc.stderr:
            self.proc.stderr.close()


def start(without: tuple[str, ...] = (), tls: bool = False) -> DovecotServer:
    """A server in a fresh 0755 temp dir outside pytest's 0700 tree (Dovecot must traverse it)."""
    root = Path(tempfile.mkdtemp(prefix="nudger-dovecot-"))
    root.chmod(0o755)
    try:
        return DovecotServer(root, without, tls)
    except Exception:
        shutil.rmtree(root, ignore_errors=True)
        raise


def stop(server: DovecotServer) -> None:
    server.stop()
    shutil.rmtree(server.root, ignore_errors=True)


class CuttingProxy:
    """A TCP relay in front of the server that can drop a session in the middle of an answer.

    Armed with ``cut_at(n)``, it lets the client's n-th body fetch (``BODY.PEEK[]``) through,
    relays the first ``keep`` bytes of the answer, then closes both sides: a connection lost
    mid-batch, as a server restart or a NAT timeout does it. Only the first session is cut.
    """

    def __init__(self, host: str, port: int, keep: int = 400):
        self.upstream = (host, port)
        self.keep = keep
        self.host, self.port = "127.0.0.1", free_port()
        self._cut_at: int | None = None
        self.cuts = 0
        self._listener = socket.create_server((self.host, self.port))
        self._listener.settimeout(0.2)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def cut_at(self, n: int | None) -> None:
        self._cut_at, self.cuts = n, 0

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                client, _ = self._listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            server = socket.create_connection(self.upstream, timeout=10)
            cut_at = self._cut_at if self.cuts == 0 else None
            state = {"fetches": 0, "cutting": False, "relayed": 0}
            threading.Thread(target=self._pump_up, args=(client, server, state, cut_at), daemon=True).start()
            threading.Thread(target=self._pump_down, args=(server, client, state), daemon=True).start()

    def _pump_up(self, client: socket.socket, server: socket.socket, state: dict, cut_at: int | None) -> None:
        try:
            while data := client.recv(65536):
                if cut_at is not None and not state["cutting"]:
                    state["fetches"] += data.count(b"BODY.PEEK[]")
                    if state["fetches"] >= cut_at:
                        state["cutting"] = True
                        self.cuts += 1
                server.sendall(data)
        except OSError:
            pass
        finally:
            _close(client, server)

    def _pump_down(self, server: socket.socket, client: socket.socket, state: dict) -> None:
        try:
            while data := server.recv(65536):
                if state["cutting"]:
                    room = self.keep - state["relayed"]
                    client.sendall(data[:room])
                    state["relayed"] += len(data[:room])
                    if state["relayed"] >= self.keep:
                        break
                else:
                    client.sendall(data)
        except OSError:
            pass
        finally:
            _close(client, server)

    def stop(self) -> None:
        self._stop.set()
        self._listener.close()
        self._thread.join(timeout=5)


def _close(*socks: socket.socket) -> None:
    for s in socks:
        try:
            s.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        s.close()
