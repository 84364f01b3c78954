"""Reply addresses that prove who a notification was sent to.

``<local>+<id>.<token>@<domain>`` for a handoff, ``<local>+d.<token>@<domain>`` for digests and
``<local>+bounce.<n>@<domain>`` as the envelope sender. The token is 16 lowercase base32
characters of an HMAC over the handoff and the recipient, compared in constant time.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

TOKEN_LENGTH = 16
_TAG = re.compile(r"^(?P<kind>\d{1,12}|d)\.(?P<token>[a-z2-7]{16})$", re.IGNORECASE)
_BOUNCE = re.compile(r"^bounce\.(?P<n>\d{1,12})$", re.IGNORECASE)


def make_token(secret: bytes, subject: str, recipient: str) -> str:
    mac = hmac.new(secret, f"{subject}\x00{recipient.strip().lower()}".encode(), hashlib.sha256)
    return base64.b32encode(mac.digest()).decode("ascii")[:TOKEN_LENGTH].lower()


def reply_address(secret: bytes, local: str, domain: str, handoff_id: int, recipient: str) -> str:
    return f"{local}+{handoff_id}.{make_token(secret, str(handoff_id), recipient)}@{domain}"


def digest_address(secret: bytes, local: str, domain: str, recipient: str) -> str:
    return f"{local}+d.{make_token(secret, 'd', recipient)}@{domain}"


def bounce_address(local: str, domain: str, outbox_id: int) -> str:
    return f"{local}+bounce.{outbox_id}@{domain}"


@dataclass(frozen=True)
class AddressTag:
    """What the part after ``+`` in one of our addresses says."""

    kind: str  # "handoff", "digest", "bounce" or "tag" (plus-addressing: a team or handle)
    handoff_id: int | None = None
    token: str | None = None
    value: str | None = None


def read_tag(address: str, local: str, domain: str) -> AddressTag | None:
    """The tag of ``local+tag@domain``; None for any other address (or ours without a tag)."""
    addr = address.strip().lower()
    if "@" not in addr:
        return None
    addr_local, _, addr_domain = addr.rpartition("@")
    if addr_domain != domain.lower() or not addr_local.startswith(local.lower() + "+"):
        return None
    tag = addr_local[len(local) + 1 :]
    if m := _TAG.match(tag):
        kind = m["kind"]
        if kind == "d":
            return AddressTag("digest", token=m["token"])
        return AddressTag("handoff", handoff_id=int(kind), token=m["token"])
    if m := _BOUNCE.match(tag):
        return AddressTag("bounce", value=m["n"])
    return AddressTag("tag", value=tag) if tag else None


def token_matches(secrets: tuple[bytes, ...], subject: str, recipient: str, token: str) -> bool:
    """Constant-time check against the current and any previous secret."""
    token = token.lower()
    ok = False
    for secret in secrets:
        ok |= hmac.compare_digest(make_token(secret, subject, recipient), token)
    return ok
