"""What every stage of a run needs: config, state, the clock and the signing keys.

Kept light on purpose: an idle cron run imports this, not the parsing and rendering stack.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TYPE_CHECKING

from nudger.config import Config
from nudger.state.store import Store

if TYPE_CHECKING:
    from nudger.outbound.render import Renderer


@dataclass
class Runtime:
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
