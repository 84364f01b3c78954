"""``nudger inspect``: what nudger reads in a message, without touching any state."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nudger.config import Config
from nudger.core.classify import not_an_email
from nudger.core.commands import Suggestion
from nudger.core.intake import plan_handoff
from nudger.core.reading import read_message
from nudger.mail.message import parse_message


def inspect_bytes(
    raw: bytes, config: Config, secrets: tuple[bytes, ...] = (), now: datetime | None = None
) -> dict[str, Any]:
    """The inspect JSON object for one message (see DESIGN.md "Surfaces"): the same reading
    ``ingest`` acts on, without the state it would consult."""
    mail = parse_message(raw)
    if reason := not_an_email(mail):
        raise ValueError(reason)
    reading = read_message(mail, config, now or mail.date or datetime.now(UTC))
    verdict = reading.verdict
    reasons = list(verdict.reasons)
    handoff = None
    commands: list[dict[str, Any]] = []
    authorised = False
    if verdict.kind == "reply":
        subject = "d" if verdict.digest_reply else str(verdict.handoff_id)
        proof = reading.proof(secrets, subject if verdict.token else None, None)
        authorised = proof is not None
        if proof:
            reasons.append(proof)
        elif verdict.token and secrets:
            reasons.append("token not made for the sender")
        else:
            reasons.append("no state consulted: authorisation needs the handoff's participants")
        parsed = reading.commands
        if isinstance(parsed, Suggestion):
            reasons.append(f"{parsed.word!r} looks like a typo of {parsed.suggestion!r}")
        else:
            commands = [c.as_json() for c in parsed]
    elif verdict.kind == "handoff":
        authorised = reading.allowed
        reasons.append(
            f"sender {reading.sender} is in allowed_domains" if authorised
            else f"sender {reading.sender or '(none)'} is not in allowed_domains"
        )
        fwd = reading.forward
        plan = plan_handoff(mail, reading.text, fwd.subject if fwd else None, verdict.plus_tags, config,
                            reading.now)
        handoff = plan.as_json()
        reasons += plan.reasons
    return {
        "kind": verdict.kind,
        "authorised": authorised,
        "reasons": reasons,
        "from": mail.from_addr.as_json() if mail.from_addr else {"name": None, "email": None},
        "to": [a.as_json() for a in mail.to],
        "subject": mail.subject,
        "date": mail.date.isoformat() if mail.date else None,
        "message_id": mail.message_id,
        "text": reading.text,
        "forwarded": reading.forward.as_json() if reading.forward else None,
        "handoff": handoff,
        "commands": commands,
        "attachments": [{"filename": a.filename, "content_type": a.content_type, "size": a.size}
                        for a in mail.attachments],
        "defects": mail.defects,
    }


def unknown(path: str, reason: str) -> dict[str, Any]:
    """The object for a file that could not be read as an email: every field, empty."""
    return {"file": path, "kind": "unknown", "authorised": False, "reasons": [reason],
            "from": {"name": None, "email": None}, "to": [], "subject": "", "date": None,
            "message_id": None, "text": "", "forwarded": None, "handoff": None, "commands": [],
            "attachments": [], "defects": []}


def inspect_file(
    path: str, config: Config, secrets: tuple[bytes, ...] = (), data: bytes | None = None
) -> dict[str, Any]:
    """Never raises: an unreadable or unparseable file is ``kind: unknown`` with its reason."""
    try:
        raw = data if data is not None else Path(path).read_bytes()
    except OSError as exc:
        return unknown(path, f"cannot read: {exc.strerror or exc}")
    try:
        return {"file": path, **inspect_bytes(raw, config, secrets)}
    except ValueError as exc:
        return unknown(path, str(exc))
    except Exception as exc:  # noqa: BLE001 - inspect reports, it never crashes
        return unknown(path, f"cannot parse: {type(exc).__name__}: {exc}")
