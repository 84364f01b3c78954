"""A new handoff, planned from a parsed forward: owner, watchers, due date, priority, title, rush.

Pure: the message, the config, ``now`` and the round-robin cursors come in; a plan goes out.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from nudger.config import Config, Person, Team
from nudger.core.calendars import calendar_for, org_calendar
from nudger.core.dates import find_due
from nudger.core.routing import Routing, choose_owner
from nudger.mail.forward_headers import GATEWAY_TAGS
from nudger.mail.forwards import strip_subject_prefix
from nudger.mail.message import ParsedMail

_TAG = re.compile(r"^\s*\[([^\[\]]{1,40})\]\s*")
_TRAILING_TAG = re.compile(r"\s*[\[(]([^\[\]()]{1,40})[\])]\s*$")
_PRIORITY_WORDS = ("rush", "high", "normal", "low")
_PRIORITY = re.compile(r"\bpriority\s*(?:[:=]\s*)?(rush|high|normal|low)\b", re.IGNORECASE)
_BANG = re.compile(r"(?<![\w!])!(rush|high|normal|low|urgent)\b", re.IGNORECASE)


def acted_on_tag(tag: str, config: Config) -> bool:
    t = tag.strip().lower()
    return (
        t in GATEWAY_TAGS
        or t in _PRIORITY_WORDS
        or t.startswith("#")
        or config.team_named(t) is not None
        or config.person_by_handle(t) is not None
    )


def clean_title(subject: str, config: Config) -> str:
    """The subject without its run of Re:/Fwd:… prefixes and the bracket tags we act on,
    and without a mail gateway's tag at its end ("… [EXT]", "… (External)")."""
    title = " ".join(subject.split())
    for _ in range(5):
        m = _TRAILING_TAG.search(title)
        if not (m and m.start() > 0 and m.group(1).strip().lower() in GATEWAY_TAGS):
            break
        title = title[: m.start()]
    while True:
        if (rest := strip_subject_prefix(title)) is not None:
            title = rest
            continue
        if (m := _TAG.match(title)) and acted_on_tag(m.group(1), config):
            title = title[m.end() :].lstrip(":： ")
            continue
        return title.strip()


def find_priority(note: str, subject: str) -> str | None:
    if m := _PRIORITY.search(note):
        return m.group(1).lower()
    if m := _BANG.search(note):
        word = m.group(1).lower()
        return "rush" if word == "urgent" else word
    for tag in re.findall(r"\[(\w+)\]", subject):
        if tag.lower() in _PRIORITY_WORDS:
            return tag.lower()
    return None


def sent_time(mail: ParsedMail, now: datetime) -> datetime:
    """When the sender wrote it: the Date header unless it is missing or in the future."""
    if mail.date and mail.date <= now + timedelta(hours=1):
        return mail.date
    return now


_MAX_NAME = 64


def display_name(name: str, email: str) -> str:
    """The name a sender's From header gave, as we call them: "" when it is empty or only an
    address; Outlook's "Rivera, Pat" as "Pat Rivera" (one comma after one word); at most 64
    characters."""
    name = " ".join(name.replace('"', " ").split()).strip(" '")
    if not name or "@" in name or name.lower() == email.lower():
        return ""
    last, comma, first = name.partition(",")
    if comma and first.strip() and "," not in first and len(last.split()) == 1:
        name = f"{first.strip()} {last.strip()}"
    return name[:_MAX_NAME].rstrip()


@dataclass
class HandoffPlan:
    requester: str
    owner: Person | None
    team: Team | None
    watchers: list[str]
    due: date
    due_from_note: bool
    priority: str
    title: str
    rush: bool
    lead_days: int  # business days the team asks for (0: none)
    note: str
    reasons: list[str] = field(default_factory=list)
    cursor: tuple[str, int] | None = None  # (team, new round-robin position)
    requester_name: str = ""  # as their From header gave it: for a requester not in [[people]]

    def as_json(self) -> dict:
        return {
            "owner": self.owner.email if self.owner else None,
            "team": self.team.name if self.team else None,
            "watchers": self.watchers,
            "due": self.due.isoformat(),
            "priority": self.priority,
            "title": self.title,
            "rush": self.rush,
            "requester": self.requester,
        }


def plan_handoff(
    mail: ParsedMail,
    note: str,
    forwarded_subject: str | None,
    plus_tags: list[str],
    config: Config,
    now: datetime,
    cursor_of: dict[str, int] | None = None,
) -> HandoffPlan:
    """Everything DESIGN.md "Inbound" decides about a new handoff, with reasons."""
    requester = mail.from_addr.email.lower() if mail.from_addr else ""
    routing, further = choose_owner(note, plus_tags, mail.subject, config, cursor_of or {}, requester)
    reasons = [routing.reason] if routing else ["no owner named in the note, address or subject"]
    owner = routing.owner if routing else None
    team = _team_for(routing, owner, config)

    watchers: list[str] = []
    for mention in further:
        person = mention.person or (
            config.person_by_handle(mention.team.lead) if mention.team and mention.team.lead else None
        )
        if person and person.email not in watchers:
            watchers.append(person.email)
    for addr in mail.cc:
        person = config.person_by_email(addr.email)
        if person and person.email not in watchers:
            watchers.append(person.email)
    watchers = [w for w in watchers if w not in {requester, owner.email if owner else ""}]

    sender_cal = calendar_for(config, requester)
    sent_day = sender_cal.local(sent_time(mail, now)).date()
    team_cal = org_calendar(config)
    receipt_day = team_cal.local(now).date()
    due = find_due(note, sent_day, sender_cal, config.org.date_order)
    due_from_note = due is not None
    turnaround = team.turnaround_days if team else 3
    if due is None:
        due = team_cal.add_business_days(receipt_day, turnaround)
        reasons.append(f"due: {turnaround} business days after receipt (turnaround)")
    else:
        reasons.append("due: from the note")
    lead_days = team.min_lead_days if team else 0
    # Only a date the requester asked for can break the lead time: the team's own default
    # turnaround is its promise, not a rush.
    rush = due_from_note and bool(lead_days) and team_cal.business_days_between(receipt_day, due) < lead_days
    if rush:
        reasons.append(f"rush: team {team.name if team else ''} asks for {lead_days} business days")

    title = clean_title(mail.subject, config) or clean_title(forwarded_subject or "", config)
    return HandoffPlan(
        requester=requester,
        owner=owner,
        team=team,
        watchers=watchers,
        due=due,
        due_from_note=due_from_note,
        priority=find_priority(note, mail.subject) or "normal",
        title=title or "(no subject)",
        rush=rush,
        lead_days=lead_days,
        note=note,
        requester_name=display_name(mail.from_addr.name, requester) if mail.from_addr else "",
        reasons=reasons,
        cursor=(routing.team.name, routing.cursor)
        if routing and routing.team and routing.cursor is not None
        else None,
    )


def _team_for(routing: Routing | None, owner: Person | None, config: Config) -> Team | None:
    if routing and routing.team:
        return routing.team
    return config.team_of(owner) if owner else None
