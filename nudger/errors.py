"""The exception tree. Each class carries its exit code; only the CLI turns them into words."""

import os


class NudgerError(Exception):
    """Base of every error nudger raises on purpose."""

    exit_code = 1


class ConfigError(NudgerError):
    """The configuration is missing, malformed or names something that does not exist."""

    exit_code = getattr(os, "EX_CONFIG", 78)


class TemporaryFailure(NudgerError):
    """Try again later: a mailbox or relay is unreachable, or the database stays locked."""

    exit_code = getattr(os, "EX_TEMPFAIL", 75)


class MessageError(NudgerError):
    """An inbound message cannot be read at all; it goes to quarantine with this reason."""
