"""A time budget for reading one message: past it, the message is quarantined and the run goes on.

Every stage is meant to cost time in proportion to the input (linear patterns, bounded
headers, a parts limit), but the stdlib parser and the rest of the reading stack are large;
the budget is what guarantees that no single message holds the run, and so the mail behind
it, however it was built. It uses SIGALRM, so it applies on the main thread only (where
``nudger run`` and ``nudger ingest`` read mail); the regex engine checks for signals, so
even a pattern stuck backtracking is interrupted.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType


class OverBudget(BaseException):
    """Reading the message took longer than its budget.

    A BaseException, so the parser's many ``except Exception`` (which keep one bad header
    from failing the whole message) cannot swallow it.
    """


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise OverBudget inside the block once ``seconds`` have passed (main thread only)."""
    if seconds <= 0 or threading.current_thread() is not threading.main_thread():
        yield
        return

    def expired(_signum: int, _frame: FrameType | None) -> None:
        raise OverBudget(f"reading it took longer than {seconds:g} s ([limits] message_seconds)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
