"""What every stage of a run needs: config, state, the clock and the signing keys.

Kept light on purpose: an idle cron run imports this, not the parsing and rendering stack.

Lifecycle: a runtime from ``nudger.app.open_runtime`` owns its store, and ``with`` (or
``close()``) closes that database connection when the command ends, even on error. Code that
shares one store between several runtimes (the demo, the bench) just doesn't close them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from nudger.config import Config
from nudger.lifecycle import Closing
from nudger.state.store import Store

if TYPE_CHECKING:
    from nudger.outbound.render import Renderer


@dataclass
class Runtime(Closing):
    config: Config
    store: Store
    now: datetime
    secret: bytes
    previous_secrets: tuple[bytes, ...] = ()

    @property
    def secrets(self) -> tuple[bytes, ...]:
        return (self.secret, *self.previous_secrets)

    @cached_property
    def renderer(self) -> Renderer:
        from nudger.outbound.render import Renderer

        return Renderer(self.config, self.secret)

    def close(self) -> None:
        """Close the store (safe twice): the runtime is done, and so is its connection."""
        self.store.close()
