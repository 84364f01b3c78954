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

import os
from collections.abc import Mapping
from datetime import datetime
from typing import TYPE_CHECKING

from nudger.config import Config, load_secrets
from nudger.errors import ConfigError

if TYPE_CHECKING:
    from nudger.inbound.sources import InboundSource
    from nudger.outbound.smtp import SmtpSettings
    from nudger.outbound.transports import Transport
    from nudger.runtime import Runtime


def open_runtime(config: Config, now: datetime, env: Mapping[str, str]) -> Runtime:
    """The store (opened and migrated), the clock and the signing keys; closing it closes the store."""
    from nudger.core.business_time import keep_holidays_on
    from nudger.runtime import Runtime
    from nudger.state.holiday_file import holiday_file
    from nudger.state.store import Store

    secret, previous = load_secrets(config, env)
    store = Store.open(config.database_path)
    keep_holidays_on(holiday_file(config.database_path))  # beside the database, as compiled templates are
    return Runtime(config, store, now, secret, previous)


def open_source(config: Config, env: Mapping[str, str] | None = None) -> InboundSource:
    """Where `nudger run` reads mail. Opening connects to nothing (IMAP logs in on the first
    fetch); an IMAP password variable that is not set is a config error (exit 78)."""
    if config.inbound.source == "maildir":
        from nudger.inbound.sources import MaildirSource

        assert config.inbound.path is not None
        return MaildirSource(config.inbound.path)
    # imapclient is imported by the IMAP source only when it connects: Maildir runs never load it.
    from nudger.inbound.imap import ImapSource

    return ImapSource(config.inbound, server_password(config, "inbound", env), f"{config.source}: inbound")


def server_password(config: Config, section: str, env: Mapping[str, str] | None = None) -> str | None:
    """The password of [inbound] or [outbound], from the environment variable the config names."""
    import os

    server = config.inbound.server if section == "inbound" else config.outbound.server
    if server.password_env is None:
        return None
    value = (os.environ if env is None else env).get(server.password_env)
    if not value:
        raise ConfigError(f"{config.source}: {section}.password_env: ${server.password_env} is not set "
                          f"(it holds the password for {server.username} on {server.host})")
    return value


def open_transport(config: Config, env: Mapping[str, str] | None = None) -> Transport:
    """Where outgoing mail goes. SMTP connects on the first delivery, not here; its password
    comes from the environment variable the config names (missing: a config error, exit 78)."""
    if config.outbound.transport == "maildir":
        from nudger.outbound.transports import MaildirTransport

        assert config.outbound.path is not None
        return MaildirTransport(config.outbound.path)
    from nudger.outbound.smtp import SmtpTransport

    return SmtpTransport(smtp_settings(config, os.environ if env is None else env))


def smtp_settings(config: Config, env: Mapping[str, str]) -> SmtpSettings:
    """The relay's address, TLS mode, login, timeout and pool size, the password read from ``env``."""
    from nudger.outbound.smtp import SmtpSettings

    server = config.outbound.server
    assert server.host is not None and server.port is not None
    return SmtpSettings(host=server.host, port=server.port, tls=server.tls, username=server.username,
                        password=server_password(config, "outbound", env), concurrency=config.outbound.concurrency,
                        timeout=server.timeout)
