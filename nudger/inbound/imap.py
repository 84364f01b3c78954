"""The IMAP source: a shared mailbox read in batches, each message moved away after its commit.

Rules (README "Reading a shared mailbox over IMAP" has them for admins):

- Everything in ``folder`` that is not ``\\Deleted`` is pending, read or unread: what nudger
  has handled it moves to ``processed_folder``, what it quarantined to ``quarantine_folder``
  (both created when missing), so the folder shows only what is still to do.
- One session per run, opened by the first ``fetch``: a server that is down fails the fetch
  stage (exit 75) while the run still schedules and delivers. A refused login, a missing
  folder or a certificate that does not verify is a configuration error (exit 78); a login
  answered with RFC 5530's ``[UNAVAILABLE]`` (or ``INUSE``, ``LIMIT``, ``SERVERBUG``) is
  temporary (exit 75): the server could not check it now.
- Messages are read in UID order, in batches of ``fetch_batch`` messages or about
  ``BATCH_BYTES``, whichever comes first (the sizes are asked for once, in one command), with
  ``BODY.PEEK[]`` so nothing is flagged \\Seen, and ``INTERNALDATE`` as the arrival time.
- ``acknowledge`` only records the UID: the moves of a batch go in one command (``UID MOVE``;
  without MOVE, ``UID COPY`` + ``\\Deleted`` + ``UID EXPUNGE`` of exactly those UIDs) before
  the next batch is read, and at the end. A run that dies before a move leaves committed
  messages in the folder; the next run finds them already seen (dedupe) and moves them then.
- No UID is kept between runs, so a UIDVALIDITY change (a rebuilt mailbox) needs nothing:
  the folder still holds only what is pending, and dedupe recognises anything seen before.
"""

from __future__ import annotations

import logging
import re
import ssl
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from nudger.errors import ConfigError, TemporaryFailure
from nudger.inbound.sources import RawMessage
from nudger.lifecycle import Closing

if TYPE_CHECKING:
    from imapclient import IMAPClient

    from nudger.config import InboundConfig

log = logging.getLogger("nudger.imap")

BATCH_BYTES = 20 * 1024 * 1024  # bounds a batch's memory: 200 messages of 25 MB would not fit
_T = TypeVar("_T")


# RFC 5530 response codes that say "not now" rather than "not you": the password database
# behind the server is down (UNAVAILABLE), a resource is busy (INUSE), a limit such as
# connections per user is reached (LIMIT), the server hit a bug (SERVERBUG). A run is
# simply tried again (exit 75); AUTHENTICATIONFAILED and the rest are the config's (78).
_NOT_NOW = re.compile(r"\[(?:UNAVAILABLE|INUSE|LIMIT|SERVERBUG)\]", re.IGNORECASE)


def _server_words(exc: BaseException) -> str:
    """The server's answer in an imapclient error, without the ``b'...'`` of its repr."""
    text = _one_line(exc)
    if len(text) > 2 and text[:2] in ("b'", 'b"') and text[-1] == text[1]:
        text = text[2:-1]
    return text


def _one_line(text: object) -> str:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    return " ".join(str(text).split())


class ImapSource(Closing):
    """Reads ``config.folder`` on ``config.server``; see the module's rules."""

    def __init__(self, config: InboundConfig, password: str | None, where: str = "inbound"):
        self.config = config
        self.server = config.server
        self.password = password
        self.where = where  # "<config file>: inbound", for configuration errors
        self._client: IMAPClient | None = None
        self._uidvalidity = 0
        self._can_move = self._can_expunge_uids = False
        self._pending: dict[str, list[int]] = {}  # destination folder -> UIDs acknowledged
        self._folders: set[str] = set()  # destinations known to exist in this session

    @property
    def label(self) -> str:
        return f"IMAP {self.server.host}:{self.server.port}"

    # -- the session ------------------------------------------------------------------

    def connect(self) -> IMAPClient:
        """Log in (once per source); errors are a TemporaryFailure or a ConfigError."""
        if self._client is not None:
            return self._client
        from imapclient import IMAPClient, SocketTimeout
        from imapclient.exceptions import CapabilityError, LoginError

        server = self.server
        assert server.host is not None and server.username is not None
        context = ssl.create_default_context() if server.tls != "none" else None
        try:
            client = IMAPClient(server.host, server.port, ssl=server.tls == "ssl", ssl_context=context,
                                timeout=SocketTimeout(connect=server.timeout, read=server.timeout))
        except ssl.SSLCertVerificationError as exc:
            raise self._tls_error(exc) from exc
        except (OSError, ssl.SSLError) as exc:
            raise TemporaryFailure(f"{self.label}: cannot connect: {_one_line(exc) or type(exc).__name__}") from exc
        try:
            client.normalise_times = False  # INTERNALDATE with its offset, not naive local time
            if server.tls == "starttls":
                try:
                    client.starttls(context)
                except CapabilityError as exc:
                    raise ConfigError(f"{self.where}.tls: {self.label} does not offer STARTTLS; "
                                      'use tls = "ssl" (usually port 993)') from exc
            try:
                client.login(server.username, self.password or "")
            except LoginError as exc:
                words = _server_words(exc)
                if _NOT_NOW.search(words):
                    raise TemporaryFailure(
                        f"{self.label} cannot log in {server.username!r} for now ({words}): "
                        "a failure on the server's side; try again later") from exc
                raise ConfigError(
                    f"{self.where}: {self.label} refused the login as {server.username!r} "
                    f"({words}); check inbound.username and ${server.password_env}") from exc
            self._can_move = client.has_capability("MOVE")
            self._can_expunge_uids = client.has_capability("UIDPLUS")
        except ssl.SSLCertVerificationError as exc:
            _drop(client)
            raise self._tls_error(exc) from exc
        except (ConfigError, TemporaryFailure):
            _drop(client)
            raise
        except Exception as exc:
            _drop(client)
            raise self._lost(exc) from exc
        self._client = client
        return client

    def _tls_error(self, exc: ssl.SSLCertVerificationError) -> ConfigError:
        return ConfigError(f"{self.where}.tls: {self.label}: the certificate does not verify "
                           f"({_one_line(exc.verify_message or exc)}); fix the server's certificate, or point "
                           "$SSL_CERT_FILE at the CA that signed it")

    def _lost(self, exc: BaseException) -> TemporaryFailure:
        return TemporaryFailure(f"{self.label}: connection lost: {_one_line(exc) or type(exc).__name__}")

    def _call(self, what: Callable[..., _T], *args: Any, **kwargs: Any) -> _T:
        """One command on the open session; a dropped connection or a refusal is temporary."""
        try:
            return what(*args, **kwargs)
        except (OSError, EOFError) as exc:  # socket.timeout is an OSError
            self._forget()
            raise self._lost(exc) from exc
        except Exception as exc:
            from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

            if isinstance(exc, IMAPClientAbortError):
                self._forget()
                raise self._lost(exc) from exc
            if isinstance(exc, IMAPClientError):
                raise TemporaryFailure(f"{self.label}: {_one_line(exc)}") from exc
            raise

    def _forget(self) -> None:
        """The session is gone: what was acknowledged but not moved is moved by the next run."""
        if self._client is not None:
            _drop(self._client)
        self._client = None
        self._pending.clear()

    def select(self) -> int:
        """Select the folder to read; returns its UIDVALIDITY. A missing folder is a config error."""
        client = self.connect()
        from imapclient.exceptions import IMAPClientAbortError, IMAPClientError

        try:
            info = client.select_folder(self.config.folder)
        except IMAPClientAbortError as exc:
            self._forget()
            raise self._lost(exc) from exc
        except IMAPClientError as exc:
            if self._call(client.folder_exists, self.config.folder):
                raise TemporaryFailure(f"{self.label}: cannot open {self.config.folder!r}: {_one_line(exc)}") from exc
            raise ConfigError(f"{self.where}.folder: {self.label} has no folder {self.config.folder!r}; "
                              "create it or name an existing one") from exc
        except (OSError, EOFError) as exc:
            self._forget()
            raise self._lost(exc) from exc
        self._uidvalidity = int(info.get(b"UIDVALIDITY", 0))
        return self._uidvalidity

    def pending(self) -> int:
        """How many messages wait in the selected folder (for `nudger doctor`)."""
        assert self._client is not None
        return len(self._call(self._client.search, ["UNDELETED"]))

    def ensure_folder(self, name: str) -> bool:
        """Create the folder when missing; True when it was created."""
        return self._ensure_folder(self.connect(), name)

    def move_method(self) -> str:
        if self._can_move:
            return "MOVE"
        if self._can_expunge_uids:
            return "COPY + \\Deleted + UID EXPUNGE (the server has no MOVE)"
        return ("COPY + \\Deleted, left for your mail client to expunge (the server has neither MOVE "
                "nor UIDPLUS; nudger skips \\Deleted messages)")

    def close(self) -> None:
        """Move what was acknowledged, then log out; never raises (the run's result stands)."""
        if self._client is None:
            return
        try:
            self._flush()
        except Exception as exc:  # noqa: BLE001 - the next run moves them (dedupe)
            log.warning("%s: could not move processed messages: %s", self.label, exc)
        client, self._client = self._client, None
        if client is not None:
            try:
                client.logout()
            except Exception:  # noqa: BLE001 - already gone
                _drop(client)

    # -- the source interface ------------------------------------------------------------

    def fetch(self) -> Iterator[RawMessage]:
        client = self.connect()
        self.select()
        uids = sorted(self._call(client.search, ["UNDELETED"]))
        if not uids:
            return
        sizes = self._call(client.fetch, uids, ["RFC822.SIZE"])
        for batch in _batches(uids, {u: int(sizes.get(u, {}).get(b"RFC822.SIZE", 0)) for u in uids},
                              self.config.fetch_batch, BATCH_BYTES):
            fetched = self._call(client.fetch, batch, ["BODY.PEEK[]", "INTERNALDATE"])
            for uid in batch:
                item = fetched.get(uid)
                if item is None or b"BODY[]" not in item:  # expunged meanwhile by someone else
                    continue
                arrived = item.get(b"INTERNALDATE")
                yield RawMessage(self.key(uid), item[b"BODY[]"],
                                 arrived.astimezone(UTC) if isinstance(arrived, datetime) else None)
            self._flush()
        self._flush()

    def key(self, uid: int) -> str:
        return f"{self.config.folder};UIDVALIDITY={self._uidvalidity};UID={uid}"

    def acknowledge(self, key: str, quarantined: bool = False) -> None:
        """Note the UID; it is moved with the rest of its batch (see the module's rules)."""
        folder, _, rest = key.rpartition(";UIDVALIDITY=")
        validity, _, uid = rest.partition(";UID=")
        if folder != self.config.folder or not uid.isdigit() or int(validity or 0) != self._uidvalidity:
            return  # not from this session (a released quarantine, say): nothing to move
        target = self.config.quarantine_folder if quarantined else self.config.processed_folder
        self._pending.setdefault(target, []).append(int(uid))

    def _flush(self) -> None:
        """One move per destination for everything acknowledged so far."""
        client = self._client
        if client is None:
            self._pending.clear()
            return
        for target in list(self._pending):
            uids = self._pending[target]
            self._ensure_folder(client, target)
            if self._can_move:
                self._call(client.move, uids, target)
            else:
                self._call(client.copy, uids, target)
                self._call(client.add_flags, uids, [b"\\Deleted"], silent=True)
                if self._can_expunge_uids:  # never a bare EXPUNGE: it would remove others' \Deleted mail
                    self._call(client.uid_expunge, uids)
            del self._pending[target]

    def _ensure_folder(self, client: IMAPClient, name: str) -> bool:
        if name in self._folders:
            return False
        created = not self._call(client.folder_exists, name)
        if created:
            log.info("%s: creating folder %r", self.label, name)
            self._call(client.create_folder, name)
        self._folders.add(name)
        return created


def _batches(uids: list[int], sizes: dict[int, int], most: int, most_bytes: int) -> Iterator[list[int]]:
    """UIDs in order, cut into runs of at most ``most`` messages and about ``most_bytes``."""
    batch: list[int] = []
    total = 0
    for uid in uids:
        if batch and (len(batch) >= most or total + sizes[uid] > most_bytes):
            yield batch
            batch, total = [], 0
        batch.append(uid)
        total += sizes[uid]
    if batch:
        yield batch


def _drop(client: IMAPClient) -> None:
    """Close the socket without a word: used when the session is already broken."""
    try:
        client.shutdown()
    except Exception:  # noqa: BLE001, S110 - imaplib raises its own errors on a dead socket
        pass
