"""What `nudger items` lists: one row per handoff, people by name, and whether it is overdue."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from nudger.config import Config
from nudger.core.records import Handoff
from nudger.ops.local_time import day, is_overdue, org_zone
from nudger.ops.table import table

HEADER = ("ID", "STATUS", "DUE", "OWNER", "REQUESTER", "TITLE")


def name_of(config: Config, email: str | None, missing: str = "-", given: str = "") -> str:
    """A directory person's name, else the one their mail gave (a requester need not be
    listed), else the address."""
    if not email:
        return missing
    person = config.person_by_email(email)
    return (person.name if person else given) or email


def item_lines(config: Config, handoffs: Iterable[Handoff], now: datetime) -> list[str]:
    """The table: due dates with "overdue" beside them when past due in the owner's calendar,
    rush and the blocked reason after the title."""
    zone = org_zone(config)
    rows = []
    for h in handoffs:
        due = day(h.due, now, zone) + (", overdue" if is_overdue(config, h, now) else "")
        flags = "".join((" [rush]" if h.rush else "",
                         f" [blocked: {h.blocked_reason}]" if h.status == "blocked" and h.blocked_reason else ""))
        rows.append((f"#{h.id}", h.status, due, name_of(config, h.owner, "(no owner)"),
                     name_of(config, h.requester, given=h.requester_name), h.title + flags))
    return table(HEADER, rows)
