"""The wiring: open what a command needs from the config.

``cli`` parses options and prints; these functions turn a ``Config`` into the runtime, the
inbound source and the outbound transport. Each returned object is a context manager: the
command opens it with ``with`` so the database connection (later an IMAP or SMTP session)
is closed when the command ends, error or not.

Imports happen inside the functions, and this module's own imports stay light: ``cli``
imports it for every command, and an idle cron run must not pay for the parsing and
rendering stack.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from nudger.config import Config, load_secrets
from nudger.errors import ConfigError

if TYPE_CHECKING:
    from nudger.inbound.sources import InboundSource
    from nudger.outbound.transports import Transport
    from nudger.runtime import Runtime


def open_runtime(config: Config, now: datetime, env: Mapping[str, str]) -> Runtime:
    """The store (opened and migrated), the clock and the signing keys; closing it closes the store."""
    from nudger.runtime import Runtime
    from nudger.state.store import Store

    secret, previous = load_secrets(config, env)
    return Runtime(config, Store.open(config.database_path), now, secret, previous)


def open_source(config: Config) -> InboundSource:
    """Where `nudger run` reads mail; a kind not built yet is a config error (exit 78)."""
    from nudger.inbound.sources import MaildirSource

    if config.inbound.source == "maildir":
        assert config.inbound.path is not None
        return MaildirSource(config.inbound.path)
    raise ConfigError(
        f"{config.source}: inbound.source: \"{config.inbound.source}\" intake is not built yet; "
        "use \"maildir\" (or `nudger ingest -` from your MTA)"
    )


def open_transport(config: Config) -> Transport:
    """Where outgoing mail goes; a kind not built yet is a config error (exit 78)."""
    from nudger.outbound.transports import MaildirTransport

    if config.outbound.transport == "maildir":
        assert config.outbound.path is not None
        return MaildirTransport(config.outbound.path)
    raise ConfigError(
        f"{config.source}: outbound.transport: \"{config.outbound.transport}\" delivery is not built yet; "
        "use \"maildir\""
    )
