"""Domains that stand for "your domain here": written in guides or reserved for documentation.

One check, asked by `nudger init` (which refuses to write one) and by `nudger doctor` (which
warns about a config that has one): mail sent from such a domain never gets an answer back.
"""

from __future__ import annotations

# Reserved for documentation (RFC 2606) or written in guides: mail there never reaches anyone.
PLACEHOLDER_DOMAINS = ("example.com", "example.net", "example.org", "yourcompany.com", "yourdomain.com")
PLACEHOLDER_TLDS = ("example", "invalid", "localhost")


def is_placeholder(domain: str) -> bool:
    domain = domain.lower().rstrip(".")
    return (any(domain == d or domain.endswith("." + d) for d in PLACEHOLDER_DOMAINS)
            or domain.rsplit(".", 1)[-1] in PLACEHOLDER_TLDS)
