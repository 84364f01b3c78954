"""A time budget for reading one message: past it, the message is quarantined and the run goes on.

Every stage is meant to cost time in proportion to the input (linear patterns, bounded
headers, a parts limit), but the stdlib parser and the rest of the reading stack are large;
the budget is what guarantees that no single message holds the run, and so the mail behind
it, however it was built.

How it interrupts depends on the thread that reads:

- the main thread (``nudger run``, ``nudger ingest``, the MTA pipe): SIGALRM. The regex
  engine checks for signals, so even a pattern stuck backtracking is interrupted.
- any other thread (a program or a test that runs nudger off its main thread, where Python
  allows no signal handler): a watchdog thread raises ``OverBudget`` in the reading thread
  (CPython's ``PyThreadState_SetAsyncExc``). It lands at the next bytecode, so it stops any
  Python loop, but one long call into C (a single regex search, a decode) finishes first;
  nudger's patterns are linear, so no such call is long. On an interpreter without that
  call the budget cannot apply off the main thread, and ``max_attempts`` is the backstop.
"""

from __future__ import annotations

import signal
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from types import FrameType


class OverBudget(BaseException):
    """Reading the message took longer than its budget.

    A BaseException, so the parser's many ``except Exception`` (which keep one bad header
    from failing the whole message) cannot swallow it. The watchdog raises the class itself
    (no arguments), so the message comes from ``seconds``, set per budget on a subclass.
    """

    seconds: float = 0

    def __str__(self) -> str:
        if self.args:
            return str(self.args[0])
        return f"reading it took longer than {self.seconds:g} s ([limits] message_seconds)"


@contextmanager
def time_budget(seconds: float) -> Iterator[None]:
    """Raise OverBudget inside the block once ``seconds`` have passed, on whichever thread."""
    if seconds <= 0:
        yield
    elif threading.current_thread() is threading.main_thread():
        with _alarm(seconds):
            yield
    else:
        with _watchdog(seconds):
            yield


@contextmanager
def _alarm(seconds: float) -> Iterator[None]:
    def expired(_signum: int, _frame: FrameType | None) -> None:
        raise OverBudget(f"reading it took longer than {seconds:g} s ([limits] message_seconds)")

    previous = signal.signal(signal.SIGALRM, expired)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


@contextmanager
def _watchdog(seconds: float) -> Iterator[None]:
    """A timer thread that raises in this one, disarmed (and anything it raised but not yet
    delivered taken here) when the block ends: nothing lands after it."""
    raise_in = _async_raiser()
    if raise_in is None:
        yield
        return
    reader = threading.get_ident()
    late: type[OverBudget] = type("OverBudget", (OverBudget,), {"seconds": seconds})
    lock = threading.Lock()
    state = {"over": False, "fired": False}

    def expire() -> None:
        with lock:
            if not state["over"]:
                state["fired"] = raise_in(reader, late)

    timer = threading.Timer(seconds, expire)
    timer.daemon = True
    timer.start()
    try:
        yield
    finally:
        with lock:
            state["over"] = True
            timer.cancel()
            if state["fired"]:
                # Whether or not it landed, settle it here. Not by withdrawing it (NULL): CPython
                # 3.11 then leaves the interpreter's "async exception pending" flag set for good,
                # which no thread ever clears, and a profiled frame (cProfile) spins on it
                # forever. A harmless exception of our own replaces any still pending, and is
                # taken (which clears the flag) inside this try.
                try:
                    raise_in(reader, _Settled)
                    for _ in range(10_000):
                        pass
                except (_Settled, late):
                    pass


class _Settled(BaseException):
    """Raised in the reading thread by itself, to take a watchdog's exception that fired late."""


def _async_raiser() -> Callable[[int, type[BaseException]], bool] | None:
    """CPython's PyThreadState_SetAsyncExc as ``(thread id, exception class) -> bool``; None
    where the interpreter has no such call."""
    try:
        import ctypes

        call = ctypes.pythonapi.PyThreadState_SetAsyncExc
    except (ImportError, AttributeError):
        return None

    def raise_in(thread: int, exc: type[BaseException]) -> bool:
        return bool(call(ctypes.c_ulong(thread), ctypes.py_object(exc)))

    return raise_in
