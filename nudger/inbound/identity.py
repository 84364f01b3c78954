"""How a message is known again: its dedupe key and the hash of its body.

A redelivery keeps both; a different message that reuses a Message-ID keeps the key but
not the body hash, and must not be dropped as a duplicate.
"""

from __future__ import annotations

import hashlib
import re
from email.parser import BytesHeaderParser
from email.policy import compat32

from nudger.mail.message import undo_8bit


def dedupe_key(raw: bytes) -> str:
    """The Message-ID when there is a usable one, else a hash of the whole message."""
    try:
        headers = BytesHeaderParser(policy=compat32).parsebytes(raw[:65536], headersonly=True)
        # raw_items: the stdlib shows raw 8-bit (RFC 6532) as U+FFFD, which undo_8bit reads back
        mid = next((str(v) for k, v in headers.raw_items() if k.lower() == "message-id"), "").strip()
    except Exception:  # noqa: BLE001 - any header we cannot read falls back to the hash
        mid = ""
    mid = re.sub(r"\s+", "", undo_8bit(mid)).strip("<>")
    if mid and len(mid) <= 250 and "@" in mid:
        return f"mid:{mid}"
    return "sha256:" + hashlib.sha256(raw).hexdigest()


def body_hash(raw: bytes) -> str:
    """The message after its header: what a redelivery keeps and a different message changes."""
    for sep in (b"\r\n\r\n", b"\n\n"):
        at = raw.find(sep)
        if at >= 0:
            return hashlib.sha256(raw[at + len(sep):]).hexdigest()
    return hashlib.sha256(raw).hexdigest()
