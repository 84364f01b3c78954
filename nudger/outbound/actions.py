"""The replies an email offers: one list per (recipient's role, handoff's state), shown as
``mailto:`` buttons in the HTML part and as a "Reply with:" line in the text part.

Every action is a reply to the token address with the command prefilled, never a web link:
a link scanner that opens every URL in an email can change nothing. Only commands the
recipient may use in the handoff's current state are offered (a done handoff offers the
requester ``thanks``/``reopen``, not ``due``/``cancel``; the owner of a done handoff is
offered nothing but a note).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from urllib.parse import quote

from nudger.core.records import Handoff


@dataclass(frozen=True)
class Action:
    command: str  # what the reply says on its first line: "ack", "due "
    label: str  # the button's words
    hint: str = ""  # what to type after the command, shown in the text part: "<date>"
    mailto: str = ""

    @property
    def shown(self) -> str:
        """As the text part writes it: ``due <date>``, ``reassign @someone``."""
        if self.hint.startswith("@") and self.command.endswith("@"):
            return self.command[:-1] + self.hint
        return f"{self.command.strip()} {self.hint}".strip()


_ACK = Action("ack", "Confirm (ack)")
_ACK_DATE = Action("ack ", "Confirm a new date", "<date>")
_DONE = Action("done", "Done")
_DUE = Action("due ", "New date", "<date>")
_BLOCKED = Action("blocked ", "Blocked", "<reason>")
_UNBLOCK = Action("unblock", "Unblock")
_DECLINE = Action("decline ", "Decline", "<reason>")
_REASSIGN = Action("reassign @", "Reassign", "@someone")
_CANCEL = Action("cancel", "Cancel")
_REOPEN = Action("reopen", "Reopen")
_THANKS = Action("thanks ", "Say thanks", "<words>")
_NOTE = Action("note ", "Add a note", "<text>")
_STATUS = Action("status", "Status")

_BY_ROLE: dict[str, dict[str, tuple[Action, ...]]] = {
    "owner": {
        "open": (_ACK, _ACK_DATE, _DECLINE, _REASSIGN),
        "acknowledged": (_DONE, _DUE, _BLOCKED, _REASSIGN),
        "blocked": (_UNBLOCK, _DONE, _DUE, _REASSIGN),
        "done": (_NOTE,),
        "cancelled": (_NOTE,),
    },
    "requester": {
        "open": (_STATUS, _DUE, _REASSIGN, _CANCEL),
        "acknowledged": (_STATUS, _DUE, _REASSIGN, _CANCEL),
        "blocked": (_STATUS, _NOTE, _REASSIGN, _CANCEL),
        "done": (_THANKS, _REOPEN),
        "cancelled": (_REOPEN,),
    },
    "watcher": {
        "open": (_STATUS, _NOTE), "acknowledged": (_STATUS, _NOTE), "blocked": (_STATUS, _NOTE),
        "done": (_THANKS, _NOTE), "cancelled": (_NOTE,),
    },
}
_ESCALATED = (_REASSIGN, _DUE, _NOTE)
# A reminder about the date to an owner who never acked: finished, a date they can keep
# (which acks too), or not theirs. Their bare `ack` would keep a date that is near or past.
_CHASED_UNACKED = (_DONE, _ACK_DATE, _DECLINE, _REASSIGN)


def actions_for(kind: str, handoff: Handoff | None, role: str) -> tuple[Action, ...]:
    """The replies worth offering ``role`` on this email; empty where only `help` makes sense."""
    if handoff is None:
        return ()
    if kind == "escalation" and role == "someone":
        return _ESCALATED
    if kind in ("due_soon", "overdue") and role == "owner" and handoff.status == "open":
        return _CHASED_UNACKED
    return _BY_ROLE.get(role, {}).get(handoff.status, ())


def with_mailto(actions: tuple[Action, ...], address: str, subject: str) -> list[Action]:
    """Each action as a ``mailto:`` to the reply address, subject and first line filled in."""
    subject = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    head = f"mailto:{address}?subject={quote(subject, safe='')}&body="  # the same for every button
    return [Action(a.command, a.label, a.hint, head + _quoted(a.command)) for a in actions]


@lru_cache(maxsize=64)
def _quoted(command: str) -> str:
    return quote(command, safe="")
