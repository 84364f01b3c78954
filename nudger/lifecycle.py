"""The lifecycle every edge shares: a command opens it, uses it, and closes it with ``with``.

Sources, transports and the runtime each may hold something that outlives a call (a SQLite
connection now, an IMAP or SMTP session later). ``with`` closes it after the command even
when the command fails, so a cron run never leaves a session or a connection behind.
"""

from __future__ import annotations

from typing import Self


class Closing:
    """``with x as y`` gives ``x`` back and calls ``close()`` on the way out, error or not.

    ``close()`` here has nothing to release; an edge that holds something overrides it.
    It must be safe to call twice.
    """

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        return None
