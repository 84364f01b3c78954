"""The configuration as the rest of nudger sees it: frozen, typed, validated records.

Built once by ``nudger.config.reader``; nothing outside this package reads raw TOML.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, fields
from functools import cached_property
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

# Section -> keys. `people` is an array of tables, `teams` a table of tables keyed by name.
SCHEMA: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "org": ("domain", "handoff_address", "timezone", "business_days", "business_hours",
            "holidays", "date_order", "admin"),
    "database": ("path",),
    "inbound": ("source", "path", "host", "port", "username", "password_env", "folder",
                "processed_folder", "quarantine_folder", "tls", "timeout", "fetch_batch"),
    "outbound": ("transport", "path", "host", "port", "username", "password_env", "tls", "timeout",
                 "concurrency", "from_name", "keep_sent_days"),
    "security": ("secret_env", "previous_secret_env", "allowed_domains", "trusted_authserv_ids"),
    "limits": ("max_message_mb", "attach_max_mb", "max_parts", "message_seconds", "max_attempts",
               "mail_per_recipient_hour"),
    "logging": ("path", "level"),
    "people": ("email", "name", "handle", "team", "manager", "digest", "timezone"),
    "teams": ("aliases", "lead", "members", "routing", "min_lead_days", "turnaround_days"),
    "nudges": ("ack_reminder_hours", "overdue_repeat_days", "overdue_max_repeats", "escalate_after_days",
               "digest_time", "weekly_day", "appreciation_day"),
    "templates": ("path",),
})

WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
DIGESTS = ("daily", "weekly", "none")
ROUTINGS = ("lead", "round_robin")
TLS_MODES = ("ssl", "starttls", "none")
# (protocol, tls) -> the port a server listens on when the config names none.
DEFAULT_PORTS: Mapping[tuple[str, str], int] = MappingProxyType({
    ("imap", "ssl"): 993, ("imap", "starttls"): 143, ("imap", "none"): 143,
    ("smtp", "ssl"): 465, ("smtp", "starttls"): 587, ("smtp", "none"): 25,
})
LOG_LEVELS = ("debug", "info", "warning", "error")
KEY_FILE_NAME = "nudger.key"
_PICKLED_PEOPLE = "_people_pickled"  # a cached config's people until first asked for


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    handle: str
    team: str | None
    manager: str | None
    digest: str
    timezone: str


@dataclass(frozen=True)
class Team:
    name: str
    aliases: tuple[str, ...]
    lead: str | None
    members: tuple[str, ...]
    routing: str
    min_lead_days: int
    turnaround_days: int
    declared: bool = True  # False: only named by people's `team`, no [teams.<name>] table (defaults)

    @property
    def label(self) -> str:
        return team_label(self.name)


def team_label(key: str) -> str:
    """A team as emails name it: ``accounting`` -> ``Accounting``, ``field_sales`` -> ``Field
    Sales``; a key with capitals of its own (``EMEA``, ``McKinsey``) is kept as written. The
    key itself stays the handle people type (``@accounting``)."""
    words = key.replace("_", " ").replace("-", " ").split()
    if key != key.lower():
        return " ".join(words)
    return " ".join(w[:1].upper() + w[1:] for w in words)


@dataclass(frozen=True)
class OrgConfig:
    domain: str
    handoff_address: str
    timezone: str
    business_days: tuple[str, ...]
    business_hours: tuple[str, str]
    holidays: str | None
    date_order: str
    admin: str | None
    timezone_given: bool = True  # False: not in the file, so the default UTC (doctor warns)

    @property
    def holiday_country(self) -> str | None:
        """`holidays = "US-CA"` → "US", so callers need not split the code themselves."""
        return self.holidays.split("-")[0] if self.holidays else None

    @property
    def holiday_subdivision(self) -> str | None:
        return self.holidays.split("-", 1)[1] if self.holidays and "-" in self.holidays else None


@dataclass(frozen=True)
class ServerConfig:
    """How to reach a mail server: shared by [inbound] (IMAP) and [outbound] (SMTP).

    The reader fills in ``port`` from ``default_port`` when the mailbox is remote, so
    whatever connects later reads ``port`` and decides nothing itself.
    """

    host: str | None
    port: int | None
    username: str | None
    password_env: str | None
    tls: str
    # Seconds allowed to connect and then for each read or write: a server that stops answering
    # fails the run's fetch (or delivery) instead of hanging the cron job.
    timeout: float = 30.0

    @staticmethod
    def default_port(protocol: str, tls: str) -> int:
        """IMAP: 993 with ``tls = "ssl"``, else 143. SMTP: 465 ssl, 587 starttls, 25 none."""
        return DEFAULT_PORTS[(protocol, tls)]


@dataclass(frozen=True)
class InboundConfig:
    source: str
    path: Path | None
    server: ServerConfig
    folder: str
    processed_folder: str
    quarantine_folder: str = "Quarantine"
    fetch_batch: int = 200  # IMAP: messages per FETCH (also bounded by size; see inbound/imap.py)


@dataclass(frozen=True)
class OutboundConfig:
    transport: str
    path: Path | None
    server: ServerConfig
    concurrency: int
    from_name: str
    keep_sent_days: int = 30  # then a sent email's bytes are dropped; its row and the event log stay


@dataclass(frozen=True)
class SecurityConfig:
    secret_env: str
    previous_secret_env: str | None
    allowed_domains: tuple[str, ...]
    trusted_authserv_ids: tuple[str, ...]


@dataclass(frozen=True)
class LimitsConfig:
    max_message_mb: float
    attach_max_mb: float
    max_parts: int = 1000  # MIME parts; a message with more is quarantined unparsed
    message_seconds: float = 60  # time budget for reading one message
    max_attempts: int = 3  # runs one message may stop (killed, timed out) before it is quarantined
    mail_per_recipient_hour: int = 30  # outgoing emails to one person in any hour; the rest wait


@dataclass(frozen=True)
class LoggingConfig:
    path: Path | None
    level: str


@dataclass(frozen=True)
class NudgesConfig:
    ack_reminder_hours: float
    overdue_repeat_days: int
    overdue_max_repeats: int
    escalate_after_days: int
    digest_time: str
    weekly_day: str
    appreciation_day: str


@dataclass(frozen=True)
class Config:
    org: OrgConfig
    database_path: Path
    inbound: InboundConfig
    outbound: OutboundConfig
    security: SecurityConfig
    limits: LimitsConfig
    logging: LoggingConfig
    nudges: NudgesConfig
    templates_path: Path | None
    people: tuple[Person, ...]
    teams: Mapping[str, Team] = field(hash=False)
    source: Path | None = None

    @cached_property
    def derived(self) -> dict[tuple[Any, ...], Any]:
        """Answers computed from this config alone (a person's calendar, whom an escalation
        goes to), remembered for its lifetime: the config is frozen, so they never go stale."""
        return {}

    @cached_property
    def schedule_fingerprint(self) -> str:
        """What the schedule's times depend on, hashed: when it changes, the schedule looks at
        every subject again. Kept in the config's cache (at 10,000 people it takes 20 ms, a
        tenth of an idle run, and its people need not be built at all then)."""
        import hashlib

        parts = [repr(self.nudges), repr(self.org.timezone), repr(self.org.business_days),
                 repr(self.org.business_hours), repr(self.org.holidays), repr(self.org.admin)]
        parts += [repr((p.email, p.timezone, p.digest, p.manager, p.team)) for p in self.people]
        parts += [repr((t.name, t.lead, t.members)) for t in self.teams.values()]
        return hashlib.sha256("\n".join(parts).encode()).hexdigest()[:16]

    def __getstate__(self) -> dict[str, Any]:
        """Pickled (the idle run's cache) without what is derived from it, but with the
        schedule's fingerprint; the people as one pickled blob, unpickled on first use: an idle
        run needs none of them, and building 10,000 took most of reading the cache."""
        import pickle

        state = {f.name: getattr(self, f.name) for f in fields(self)}
        state["teams"] = dict(self.teams)  # a mappingproxy does not pickle
        state["people"] = pickle.dumps(self.people, protocol=pickle.HIGHEST_PROTOCOL)
        state["schedule_fingerprint"] = self.schedule_fingerprint
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        people = state.pop("people")
        self.__dict__.update({**state, "teams": MappingProxyType(state["teams"]), _PICKLED_PEOPLE: people})

    if not TYPE_CHECKING:  # hidden from mypy, which would otherwise accept any attribute name

        def __getattr__(self, name: str) -> Any:
            """Reached only for a name not in the instance: ``people`` of an unpickled config."""
            pickled = self.__dict__.get(_PICKLED_PEOPLE) if name == "people" else None
            if pickled is None:
                raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
            import pickle

            people = self.__dict__["people"] = pickle.loads(pickled)
            del self.__dict__[_PICKLED_PEOPLE]
            return people

    @cached_property
    def _by_email(self) -> dict[str, Person]:
        return {p.email: p for p in self.people}

    @cached_property
    def _by_handle(self) -> dict[str, Person]:
        return {p.handle: p for p in self.people}

    @cached_property
    def _team_index(self) -> dict[str, Team]:
        index = {}
        for team in self.teams.values():
            index[team.name] = team
            index.update(dict.fromkeys(team.aliases, team))
        return index

    def person_by_email(self, email: str) -> Person | None:
        return self._by_email.get(email.strip().lower())

    def person_by_handle(self, handle: str) -> Person | None:
        """Accepts "sam", "Sam" or "@sam": notes are typed by people."""
        return self._by_handle.get(handle.strip().lstrip("@").lower())

    def team_named(self, name_or_alias: str) -> Team | None:
        return self._team_index.get(name_or_alias.strip().lstrip("@").lower())

    def team_of(self, person: Person) -> Team | None:
        """The person's own `team`, else the first team that lists them as a member."""
        if person.team:
            return self.teams.get(person.team)
        return next((t for t in self.teams.values() if person.handle in t.members), None)

    @property
    def handoff_local(self) -> str:
        return self.org.handoff_address.rsplit("@", 1)[0]

    @property
    def handoff_domain(self) -> str:
        return self.org.handoff_address.rsplit("@", 1)[1]
