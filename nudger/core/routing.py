"""Who a handoff is for: mentions in the note, plus-addresses, subject tags, team routing.

Only people in the directory can own a handoff; the customer's address never does.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nudger.config import Config, Person, Team

_MENTION = re.compile(r"(?<![\w.@+-])@([a-z0-9][a-z0-9._-]{0,63})", re.IGNORECASE)
_EMAIL = re.compile(r"(?<![a-z0-9._%+-])[a-z0-9._%+-]{1,64}@[a-z0-9.-]{1,253}\.[a-z]{2,63}", re.IGNORECASE)
_BRACKET_TAG = re.compile(r"\[([^\[\]\s#]{1,40})\]")


@dataclass(frozen=True)
class Mention:
    """A person or a team named in a note, with where and how it was named."""

    text: str
    position: int
    person: Person | None = None
    team: Team | None = None


def _lookup(name: str, config: Config) -> tuple[Person | None, Team | None]:
    name = name.rstrip("._-")
    person = config.person_by_handle(name)
    if person:
        return person, None
    team = config.team_named(name)
    return None, team


def find_mentions(text: str, config: Config, skip_email: str = "") -> list[Mention]:
    """@handles, @teams (names or aliases) and directory email addresses, in text order.

    ``skip_email`` (the sender's own address, as in a signature) is never a mention.
    """
    found: list[Mention] = []
    for m in _MENTION.finditer(text):
        person, team = _lookup(m.group(1), config)
        if person or team:
            found.append(Mention(m.group(0), m.start(), person, team))
    for m in _EMAIL.finditer(text):
        person = config.person_by_email(m.group(0).rstrip("."))
        if person and person.email != skip_email.lower():
            found.append(Mention(m.group(0), m.start(), person, None))
    found.sort(key=lambda mention: mention.position)
    return found


def subject_tags(subject: str, config: Config) -> list[Mention]:
    """``[accounting]``-style tags in the subject that name a team or a person."""
    tags = []
    for m in _BRACKET_TAG.finditer(subject):
        person, team = _lookup(m.group(1), config)
        if person or team:
            tags.append(Mention(m.group(0), m.start(), person, team))
    return tags


def plus_mentions(tags: list[str], config: Config) -> list[Mention]:
    found = []
    for i, tag in enumerate(tags):
        person, team = _lookup(tag, config)
        if person or team:
            found.append(Mention(f"+{tag}", i, person, team))
    return found


@dataclass(frozen=True)
class Routing:
    owner: Person | None
    team: Team | None
    reason: str
    cursor: int | None = None  # the team's new round-robin position, when it moved


def team_members(team: Team, config: Config) -> tuple[Person, ...]:
    """The team's members who are in the directory, in the team's order. Remembered for the
    config: a large team's members were looked up one by one for every handoff it took."""
    key = ("team_members", team.name)
    found: tuple[Person, ...] | None = config.derived.get(key)
    if found is None:
        found = config.derived[key] = tuple(p for h in team.members if (p := config.person_by_handle(h)))
    return found


def route_team(team: Team, config: Config, cursor: int, exclude: frozenset[str] = frozenset()) -> Routing:
    """A team's lead, or the next member in round-robin order, skipping ``exclude`` emails."""
    members = team_members(team, config)
    if exclude:
        members = tuple(p for p in members if p.email not in exclude)
    lead = config.person_by_handle(team.lead) if team.lead else None
    if team.routing == "round_robin" and members:
        owner = members[cursor % len(members)]
        return Routing(owner, team, f"team {team.name}: round robin", cursor + 1)
    if lead and lead.email not in exclude:
        return Routing(lead, team, f"team {team.name}: its lead")
    if members:
        return Routing(members[0], team, f"team {team.name}: first member (no lead)")
    return Routing(None, team, f"team {team.name} has no one to route to")


def resolve(mention: Mention, config: Config, cursor: int, exclude: frozenset[str] = frozenset()) -> Routing:
    if mention.person:
        return Routing(mention.person, config.team_of(mention.person), f"{mention.text} in the note")
    assert mention.team is not None
    return route_team(mention.team, config, cursor, exclude)


def choose_owner(
    note: str, plus_tags: list[str], subject: str, config: Config, cursor_of: dict[str, int],
    requester: str = "",
) -> tuple[Routing | None, list[Mention]]:
    """First match wins: the note, then plus-addressing, then a subject tag.

    Returns the routing (None when nobody was named) and the note's further mentions,
    which make watchers.
    """
    mentions = find_mentions(note, config, skip_email=requester)
    sources = [
        ("note", mentions),
        ("plus-address", plus_mentions(plus_tags, config)),
        ("subject tag", subject_tags(subject, config)),
    ]
    for where, found in sources:
        if found:
            first = found[0]
            routing = resolve(first, config, cursor_of.get(first.team.name, 0) if first.team else 0)
            reason = f"owner from {where} {first.text}: {routing.reason}"
            rest = mentions[1:] if where == "note" else mentions
            return Routing(routing.owner, routing.team, reason, routing.cursor), rest
    return None, mentions
