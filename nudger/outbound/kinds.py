"""Every kind of email nudger sends, in one table.

A kind says whether it is an *answer* (to a person's own message: sent at once, at any hour,
threaded to their message, ``Auto-Submitted: auto-replied``) or waits for the recipient's
business hours; its subject prefix; the shape of its dedupe key; the variables its templates
may use beyond the layout's (with their defaults, so a typo in a template still fails); and
one context function for what it must look up. Its templates are ``<name>.txt`` and
``<name>.html``. Adding a kind is one entry here plus its two templates.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

from nudger.core.records import OPEN_STATES, Handoff, Notice
from nudger.outbound import digests

if TYPE_CHECKING:
    from nudger.config import Config
    from nudger.state.store import Store

# Every template may use these (the layout's own); a kind's fields come on top.
LAYOUT_FIELDS: Mapping[str, Any] = MappingProxyType({
    "actor": None, "also_told": [], "attachments": [], "skipped_attachments": [], "customer_files": [],
    "can_do": (),  # a digest's commands that its reader can use: ("done", "ack", "thanks", "note")
    "examples": {},  # command -> a handoff number in this email, for the footer's sample commands
    "far_due": False,  # the new due date is most of a year away (a yearless date whose day had passed)
    "names": {},  # email -> the name a person outside [[people]] gave in their From (the `person` filter)
    "one_of_changes": False,  # a step of a `changes` email: its card is the email's own, shown once at the end
})


@dataclass(frozen=True)
class KindInput:
    """What a kind's context function is given."""

    notice: Notice
    handoff: Handoff | None
    config: Config
    lookup: Store  # read-only here: what a context function may look up


def per_cause(notice: Notice, cause: str) -> str:
    """Mail caused by one inbound message: one per (kind, handoff, recipient, message)."""
    return f"{notice.kind}:{notice.handoff_id or '-'}:{notice.to}:{cause}"


@dataclass(frozen=True)
class Kind:
    name: str
    subject: str  # prefix, formatted with the context: 'Did you mean "{suggestion}"?' (ASCII: no RFC 2047)
    answer: bool = False
    fields: Mapping[str, Any] = field(default_factory=dict)
    key: Callable[[Notice, str], str] = per_cause
    context: Callable[[KindInput], dict[str, Any]] | None = None
    scheduled: bool = False  # queued by the schedule stage, with the slot's own key and time
    about_a_handoff: bool = True  # False: a digest, about a person's or team's handoffs

    @property
    def hold(self) -> str:
        """'none': at once, any hour; 'business_hours': the recipient's next business hours."""
        return "none" if self.answer else "business_hours"

    @property
    def templates(self) -> tuple[str, str]:
        return f"{self.name}.txt", f"{self.name}.html"

    def subject_prefix(self, context: Mapping[str, Any]) -> str:
        try:
            return self.subject.format_map(context) if "{" in self.subject else self.subject
        except (KeyError, IndexError, ValueError):
            return self.subject.split("{", 1)[0].strip()


def _directory(inp: KindInput) -> dict[str, Any]:
    """Teams and handles, for the email that asks who should take a handoff."""
    c = inp.config
    return {
        "teams": [{"name": t.name, "aliases": list(t.aliases), "lead": t.lead} for t in c.teams.values()],
        "people": [{"handle": p.handle, "name": p.name, "team": p.team} for p in c.people],
    }


def _open_items(inp: KindInput) -> dict[str, Any]:
    """`status` sent to the handoff address: every open handoff the person owns or asked for."""
    if inp.handoff is not None:
        return {"open_items": []}
    items = [h for h in inp.lookup.open_handoffs_for(inp.notice.to) if h.status in OPEN_STATES]
    return {"open_items": items}


_KINDS = (
    # answers
    Kind("receipt", "Received", answer=True, fields={"lead_days": 0, "notice_days": 0}),
    Kind("no_owner", "Who should take this?", answer=True, fields={"teams": [], "people": []},
         context=_directory),
    Kind("refusal", "{verdict}", answer=True, fields={"reason": "", "how": "", "verdict": "Not changed",
                                                      "partly": False}),
    Kind("status", "Status", answer=True, fields={"open_items": [], "with_help": False}, context=_open_items),
    Kind("help", "How to reply", answer=True),
    Kind("did_you_mean", 'Did you mean "{suggestion}"?', answer=True,
         fields={"word": "", "suggestion": ""}),
    Kind("digest_choice", "Digest", answer=True, fields={"choice": None}),
    Kind("owner_assigned", "Assigned", answer=True, fields={"new_owner": None}),
    # The owner moved the date themselves and gets no other email from that reply: the moved
    # calendar entry, with a line that confirms the date.
    Kind("calendar_update", "Date changed", answer=True,
         fields={"old_due": None, "new_due": None, "acked": False, "date_moved": True}),
    Kind("quarantined", "Not handled", answer=True,
         fields={"reason": "", "quarantine_id": None, "subject": ""}),
    # news for other people: inside their business hours
    Kind("new_handoff", "New handoff", fields={"why": None, "by": None, "words": ""}),
    Kind("acknowledged", "Confirmed", fields={"words": "", "new_due": None, "old_due": None}),
    Kind("done", "Done", fields={"words": "", "prompt_thanks": False}),
    Kind("blocked", "Blocked", fields={"reason": ""}),
    Kind("unblocked", "Unblocked", fields={"words": ""}),
    Kind("due_changed", "New date", fields={"new_due": None, "old_due": None, "words": ""}),
    Kind("reassigned", "Reassigned", fields={"words": "", "new_owner": None}),
    Kind("declined", "Declined",
         fields={"reason": "", "words": "", "new_owner": None, "back_to_requester": False}),
    Kind("cancelled", "Cancelled", fields={"reason": ""}),
    Kind("reopened", "Reopened", fields={"reason": "", "due_was": None}),
    Kind("thanks", "Thanks", fields={"words": ""}),
    Kind("note", "Note", fields={"words": ""}),
    # Several of the above to one person from one reply ("unblock" then "ack friday"): one email.
    Kind("changes", "{summary}", fields={"parts": [], "parts_text": [], "parts_html": [], "summary": "Updated"}),
    Kind("undeliverable", "Not delivered",
         fields={"failed_to": "", "failed_kind": "", "failed_subject": "", "reason": "", "how": "",
                 "never_got": False}),
    # scheduled: the schedule stage queues these with the slot's key and time
    Kind("ack_reminder", "Please confirm", scheduled=True, fields={"asked_at": None, "by": None}),
    Kind("due_soon", "Due soon", scheduled=True),
    Kind("overdue", "Overdue", scheduled=True, fields={"days_late": 0, "n": 0, "last": False}),
    Kind("overdue_notice", "Overdue", scheduled=True, fields={"days_late": 0}),
    Kind("escalation", "Escalation", scheduled=True, fields={"days_late": 0, "escalated_as": "manager", "history": []},
         context=digests.escalation),
    Kind("daily_digest", "Your handoffs today", scheduled=True, about_a_handoff=False, fields={"sections": []},
         context=digests.personal_digest),
    Kind("weekly_digest", "Your handoffs this week", scheduled=True, about_a_handoff=False, fields={"sections": []},
         context=digests.personal_digest),
    Kind("team_digest", "Team {team_name}: the week", scheduled=True, about_a_handoff=False,
         fields={"team": "", "team_name": "", "week": None, "figures": []}, context=digests.team_digest),
    Kind("appreciation", "Say thanks", scheduled=True, about_a_handoff=False, fields={"items": []},
         context=digests.appreciation),
)


KINDS: Mapping[str, Kind] = MappingProxyType({k.name: k for k in _KINDS})


def kind_of(notice: Notice) -> Kind:
    try:
        return KINDS[notice.kind]
    except KeyError:
        raise ValueError(f"unknown email kind {notice.kind!r}; known: {', '.join(KINDS)}") from None
