"""``nudger preview``: any email kind, written as it would be now, sent and recorded nowhere.

Scheduled kinds are written as of ``now`` from the event log, exactly as the schedule would
write them; a digest with nothing in it says so instead of rendering blank.
"""

from __future__ import annotations

import email
from dataclasses import dataclass
from datetime import tzinfo
from email.message import EmailMessage
from email.policy import default as default_policy
from zoneinfo import ZoneInfo

from nudger.core.records import Handoff, Notice
from nudger.errors import NudgerError
from nudger.ops.local_time import when
from nudger.outbound.digests import is_empty
from nudger.outbound.kinds import KINDS, KindInput
from nudger.runtime import Runtime


class PreviewError(NudgerError):
    exit_code = 2


@dataclass(frozen=True)
class Preview:
    subject: str
    to: str
    text: str
    html: str
    raw: bytes
    empty: bool  # a digest that would not be sent today: nothing in it
    note: str = ""  # what the schedule says of this email for this handoff


def _pick_handoff(rt: Runtime, to: str, handoff_id: int | None, zone: tzinfo) -> Handoff:
    if handoff_id is not None:
        found = rt.store.handoffs_as_of([handoff_id], rt.now)
        if not found:
            raise PreviewError(f"no handoff #{handoff_id} as of {when(rt.now, zone, rt.now)} (see `nudger items`)")
        return found[0]
    ids = rt.store.handoff_ids_involving(to, rt.now)
    found = rt.store.handoffs_as_of(ids[-1:], rt.now) if ids else []
    if not found:
        raise PreviewError(f"{to} is on no handoff yet: pass --handoff ID")
    return found[0]


def _team_of(rt: Runtime, to: str, asked: str | None) -> str:
    """The team named by ``--team`` (a name or an alias), else the one ``to`` leads, else theirs."""
    if asked is not None:
        found = rt.config.team_named(asked)
        if found is None:
            known = ", ".join(sorted(rt.config.teams)) or "none: the config has no teams"
            raise PreviewError(f"unknown team {asked!r}; the teams are: {known}")
        return found.name
    led = [t.name for t in rt.config.teams.values()
           if t.lead and (p := rt.config.person_by_handle(t.lead)) and p.email == to]
    person = rt.config.person_by_email(to)
    own = rt.config.team_of(person) if person else None
    team = led[0] if led else own.name if own else next(iter(rt.config.teams), None)
    if team is None:
        raise PreviewError("there are no teams in the config, so there is no team digest to show")
    return team


def preview(rt: Runtime, kind_name: str, to: str, handoff_id: int | None = None,
            team: str | None = None, zone: tzinfo | None = None) -> Preview:
    """``zone``: where the note's times are told (default: the org's timezone)."""
    kind = KINDS.get(kind_name)
    if kind is None:
        raise PreviewError(f"unknown kind {kind_name!r}; one of: {', '.join(KINDS)}")
    if team is not None and kind.name != "team_digest":
        raise PreviewError(f"--team is for team_digest; {kind.name} is not about a team")
    to = to.strip().lower()
    zone = zone or ZoneInfo(rt.config.org.timezone)
    handoff = _pick_handoff(rt, to, handoff_id, zone) if kind.about_a_handoff else None
    context: dict[str, object] = {"as_of": rt.now}
    note = ""
    if kind.name == "team_digest":
        context["team"] = _team_of(rt, to, team)
    if kind.scheduled and handoff is not None:
        context, note = _as_scheduled(rt, kind.name, handoff, to, context, zone)
    notice = Notice(kind.name, to, handoff.id if handoff else None, context=context,
                    key=f"preview:{kind.name}:{to}", not_before=rt.now)
    extra = kind.context(KindInput(notice, handoff, rt.config, rt.store)) if kind.context else None
    rendered = rt.renderer.render(notice, handoff, notice.key or "preview", rt.now, extra=extra)
    msg = email.message_from_bytes(rendered.raw, policy=default_policy)
    assert isinstance(msg, EmailMessage)
    text, html = msg.get_body(("plain",)), msg.get_body(("html",))
    return Preview(rendered.subject, to, text.get_content() if text else "", html.get_content() if html else "",
                   rendered.raw, kind.scheduled and is_empty(kind.name, extra or {}), note)


def _as_scheduled(rt: Runtime, kind: str, handoff: Handoff, to: str, context: dict[str, object],
                  zone: tzinfo) -> tuple[dict[str, object], str]:
    """The facts the schedule computes for this kind of email about this handoff (days late,
    which repeat, as whose manager), from its latest slot up to now, else its next one."""
    from nudger.scheduler import slots_for

    slots = [s for s in slots_for(rt, f"h:{handoff.id}") if s.kind == kind]
    mine = [s for s in slots if s.to == to] or slots
    past = [s for s in mine if s.at <= rt.now]
    slot = past[-1] if past else (min(mine, key=lambda s: s.at) if mine else None)
    if slot is None:
        return context, f"no {kind} is scheduled for #{handoff.id} as things stand"
    told = when(slot.at, zone, rt.now)
    note = (f"as the schedule owed it on {told}" if slot.at <= rt.now else f"scheduled for {told}")
    if slot.to != to:
        note += f" (to {slot.to}, not {to})"
    return {**slot.context, **context}, note
