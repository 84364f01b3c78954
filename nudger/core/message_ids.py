"""Our Message-IDs: derived from each email's dedupe key, so a resend after a crash is the
same message, and recognisable, so our own mail coming back is a loop, not a reply."""

from __future__ import annotations

import hashlib

MESSAGE_ID_PREFIX = "nudger-"


def message_id_for(key: str, domain: str) -> str:
    digest = hashlib.sha256(key.encode()).hexdigest()[:24]
    return f"{MESSAGE_ID_PREFIX}{digest}@{domain}"


def root_message_id(handoff_id: int, created: str, domain: str) -> str:
    """The id every email about a handoff threads to (References), never sent itself."""
    return message_id_for(f"root:{handoff_id}:{created}", domain)


def is_ours(message_id: str, domain: str) -> bool:
    mid = message_id.lower()
    return mid.startswith(MESSAGE_ID_PREFIX) and mid.endswith("@" + domain.lower())
