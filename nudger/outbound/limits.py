"""Limits that keep nudger out of mail loops with automated senders (RFC 3834's spirit).

An automated sender that carries none of the standard headers (an out-of-office reply, a
challenge-response filter, an Exchange rule forwarding our notice back) looks like a person,
and a person is answered. So answers and relayed news are counted per recipient in the
outbox: past a limit the notice is not queued (and logged), however the loop is built.
The limits are far above what a person causes: a loop of one round per cron run meets them
within a few hours; a salesperson clearing a Monday backlog (30 forwards in an hour, 100 in a
day) still gets every receipt.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from nudger.state.store import Store


@dataclass(frozen=True)
class Limit:
    what: str
    answers: bool  # answers to the person's own mail, or news relayed to them
    per_handoff: bool  # counted for one handoff (or all mail with no handoff), else for all
    window: timedelta
    most: int


LIMITS = (
    Limit("answers about one handoff in a day", True, True, timedelta(days=1), 5),
    Limit("answers in an hour", True, False, timedelta(hours=1), 30),
    Limit("answers in a day", True, False, timedelta(days=1), 100),
    Limit("relayed notes about one handoff in an hour", False, True, timedelta(hours=1), 10),
    Limit("relayed notes about one handoff in a day", False, True, timedelta(days=1), 30),
)


def over_limit(store: Store, recipient: str, handoff_id: int | None, answer: bool, kinds: tuple[str, ...],
               now: datetime) -> str | None:
    """Why one more of these must not be queued to ``recipient``, or None (every limit that
    applies counted in one query)."""
    limits = [limit for limit in LIMITS if limit.answers == answer]
    counts = store.count_queued_to(recipient, kinds, handoff_id,
                                   [(now - limit.window, limit.per_handoff) for limit in limits])
    for limit, count in zip(limits, counts, strict=True):
        if count >= limit.most:
            return f"{count} {limit.what} to {recipient} already (limit {limit.most}): not queued, a loop is likely"
    return None
