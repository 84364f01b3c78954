"""The text `nudger init` writes, and the list of keys the docs are checked against."""

from __future__ import annotations

from nudger.config.model import SCHEMA


def known_keys() -> list[str]:
    """Every key the loader accepts, dotted: "org.domain", "people.email", "teams.*.lead"."""
    return [f"{section}.*.{key}" if section == "teams" else f"{section}.{key}"
            for section, keys in SCHEMA.items() for key in keys]


_STARTER = '''\
# nudger configuration, written by `nudger init`.
# Every key is documented, with its default, in nudger.example.toml (shipped with nudger).
# Relative paths are relative to this file's folder.

[org]
domain = "{domain}"                      # the only required key
# handoff_address = "handoffs@{domain}"  # where people forward work
# timezone = "UTC"                       # e.g. "America/Chicago"
# business_days = ["mon", "tue", "wed", "thu", "fri"]
# business_hours = ["08:00", "18:00"]
# holidays = "US"                        # country code; default: none
# admin = "maria"                        # a handle: escalations of last resort, team digests

[database]
path = "nudger.db"

[inbound]
source = "maildir"                       # or "imap" (host, username, password_env, ...)
path = "mail/inbox"

[outbound]
transport = "maildir"                    # or "smtp" (host, port, username, password_env, ...)
path = "mail/outbox"
# keep_sent_days = 30                    # then a sent email's bytes are dropped (the facts stay)

# [security]
# allowed_domains = ["{domain}"]         # who may send handoffs; default: [domain]
# The reply-token key comes from $NUDGER_SECRET, else nudger.key next to the database.

# [[people]]
# email = "sam@{domain}"
# name = "Sam Seller"
# team = "sales"
# manager = "maria"
# digest = "daily"                       # "daily" | "weekly" | "none"
#
# [[people]]
# email = "maria@{domain}"
# name = "Maria Boss"
# team = "sales"
#
# [teams.sales]
# lead = "maria"
#
# [teams.accounting]
# aliases = ["finance"]
# min_lead_days = 7                      # business days of notice; less is a rush
'''


def starter_config_text(domain: str = "example.com") -> str:
    """The commented config `nudger init` writes: working maildirs, example people commented."""
    return _STARTER.format(domain=domain)
