"""Reading the TOML file: every mistake an admin can make becomes one line naming the key.

`SCHEMA` (in ``model``) is the single list of keys: the reader refuses anything not in it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import replace
from pathlib import Path
from types import MappingProxyType
from typing import Any, Literal, overload

from nudger.config.model import (
    DIGESTS,
    LOG_LEVELS,
    ROUTINGS,
    SCHEMA,
    TLS_MODES,
    WEEKDAYS,
    Config,
    InboundConfig,
    LimitsConfig,
    LoggingConfig,
    NudgesConfig,
    OrgConfig,
    OutboundConfig,
    Person,
    SecurityConfig,
    ServerConfig,
    Team,
)
from nudger.errors import ConfigError

_FULL_WEEKDAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
# Handles and team names follow "@" in free text, so they must not end in punctuation.
_NAME_RE = re.compile(r"^[a-z0-9](?:[a-z0-9._-]*[a-z0-9])?$")
_DOMAIN_RE = re.compile(r"^(?=.{1,253}$)[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?"
                        r"(?:\.[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?)*$")
_LOCAL_RE = re.compile(r"^[a-z0-9!#$%&'*+/=?^_`{|}~-]+(?:\.[a-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_TIME_RE = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
_HOLIDAYS_RE = re.compile(r"^[A-Z]{2,3}(?:-[A-Z0-9]{1,5})?$")
# Reply-To is <local>+<id>.<16-char token>; RFC 5321 caps a local part at 64 octets.
_MAX_HANDOFF_LOCAL = 36


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "true/false"
    return {str: "a string", int: "a whole number", float: "a number", list: "a list",
            dict: "a table"}.get(type(value), "a date/time")


def _shown(value: Any) -> str:
    """A value quoted for a one-line message: control characters are escaped."""
    if not isinstance(value, str):
        return repr(value)
    return '"' + re.sub(r"[\x00-\x1f\x7f]", lambda m: repr(m[0])[1:-1], value) + '"'


def _suggest(word: str, choices: Iterable[str]) -> str | None:
    import difflib  # only on the error path; cron runs should not pay for it

    close = difflib.get_close_matches(word.lower(), list(choices), n=1, cutoff=0.6)
    return close[0] if close else None


class _Table:
    """Typed, strict access to one TOML table; every complaint names the file and the key."""

    def __init__(self, file: str, where: str, data: Any, keys: tuple[str, ...]):
        self.file, self.where, self.keys = file, where, keys
        if not isinstance(data, dict):
            raise ConfigError(f"{file}: {where}: expected a table, got {_kind(data)}")
        self.data = data
        for key in data:
            if key not in keys:
                guess = _suggest(key, keys)
                hint = (f'did you mean "{self.path(guess)}"?' if guess
                        else "known keys: " + ", ".join(keys))
                raise ConfigError(f"{file}: unknown key {_shown(self.path(key))} ({hint})")

    def path(self, key: str) -> str:
        return f"{self.where}.{key}" if self.where else key

    def fail(self, key: str, message: str) -> ConfigError:
        return ConfigError(f"{self.file}: {self.path(key)}: {message}")

    def _get(self, key: str, default: Any, want: str, ok: tuple[type, ...]) -> Any:
        assert key in self.keys, f"{self.where}.{key} missing from SCHEMA"
        value = self.data.get(key, default)
        if value is None or value is default:
            return value
        if isinstance(value, bool) != (bool in ok) or not isinstance(value, ok):
            raise self.fail(key, f"expected {want}, got {_shown(value)} ({_kind(value)})")
        return value

    # Given a default (and, for text, with empty not turned into None) an accessor never gives
    # None: TOML has no null, so a key is either absent (the default) or a checked value. The
    # overloads say so, and callers need no check for a None that cannot happen.
    @overload
    def text(self, key: str, default: str, *, empty_is_none: Literal[False] = False,
             choices: tuple[str, ...] | None = None) -> str: ...
    @overload
    def text(self, key: str, default: str | None = None, *, empty_is_none: bool = False,
             choices: tuple[str, ...] | None = None) -> str | None: ...
    def text(self, key: str, default: str | None = None, *, empty_is_none: bool = False,
             choices: tuple[str, ...] | None = None) -> str | None:
        value = self._get(key, default, "a string", (str,))
        if value is None:
            return None
        if _CONTROL.search(value):
            raise self.fail(key, f"{_shown(value)} contains a control character")
        value = value.strip()
        if not value:
            if empty_is_none:
                return None
            raise self.fail(key, "must not be empty")
        if choices is not None:
            value = value.lower()
            if value not in choices:
                raise self.fail(key, _choice_message(value, choices))
        return value

    def required(self, key: str, example: str) -> str:
        value = self.text(key)
        if value is None:
            raise self.fail(key, f"required (e.g. {key} = {_shown(example)})")
        return value

    @overload
    def integer(self, key: str, default: int, minimum: int = 0,
                maximum: int | None = None) -> int: ...
    @overload
    def integer(self, key: str, default: int | None, minimum: int = 0,
                maximum: int | None = None) -> int | None: ...
    def integer(self, key: str, default: int | None, minimum: int = 0,
                maximum: int | None = None) -> int | None:
        value = self._get(key, default, "a whole number", (int,))
        if value is not None and (value < minimum or (maximum is not None and value > maximum)):
            limit = f"between {minimum} and {maximum}" if maximum is not None else f">= {minimum}"
            raise self.fail(key, f"must be {limit}, got {value}")
        return value

    def number(self, key: str, default: float, *, positive: bool) -> float:
        value = float(self._get(key, default, "a number", (int, float)))
        if value < 0 or (positive and value == 0) or value != value or value == float("inf"):
            raise self.fail(key, f"must be {'more than' if positive else 'at least'} 0, got {value:g}")
        return value

    @overload
    def texts(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]: ...
    @overload
    def texts(self, key: str, default: tuple[str, ...] | None) -> tuple[str, ...] | None: ...
    def texts(self, key: str, default: tuple[str, ...] | None) -> tuple[str, ...] | None:
        value = self._get(key, default, "a list of strings", (list, tuple))
        if value is None:
            return None
        for i, item in enumerate(value):
            if not isinstance(item, str) or not item.strip():
                raise self.fail(f"{key}[{i}]", f"expected a non-empty string, got {_shown(item)}")
        return tuple(item.strip() for item in value)


def _choice_message(value: str, choices: Iterable[str]) -> str:
    choices = list(choices)
    guess = _suggest(value, choices)
    hint = f' (did you mean "{guess}"?)' if guess else ""
    return f"{_shown(value)} is not one of: {', '.join(choices)}{hint}"


def _weekday(table: _Table, key: str, value: str, index: int | None = None) -> str:
    """Accepts "mon", "Monday", "tues"; returns the three-letter form."""
    word = value.lower()
    for short, full in zip(WEEKDAYS, _FULL_WEEKDAYS, strict=True):
        if len(word) >= 3 and full.startswith(word):
            return short
    name = key if index is None else f"{key}[{index}]"
    raise table.fail(name, _choice_message(word, WEEKDAYS))


def _time(table: _Table, key: str, value: str) -> str:
    match = _TIME_RE.match(value)
    if not match:
        raise table.fail(key, f'{_shown(value)} is not a time like "08:00" (24-hour HH:MM)')
    return f"{int(match[1]):02d}:{match[2]}"


def _zone(table: _Table, key: str, value: str) -> str:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError, available_timezones

    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        guess = _suggest(value, available_timezones())
        hint = f' (did you mean "{guess}"?)' if guess else ' (an IANA name like "Europe/Berlin")'
        raise table.fail(key, f"{_shown(value)} is not a known timezone{hint}") from None
    return value


def _email(table: _Table, key: str, value: str) -> str:
    address = value.lower()
    local, _, domain = address.rpartition("@")
    if not (local and _LOCAL_RE.match(local) and len(local) <= 64 and _DOMAIN_RE.match(domain)):
        raise table.fail(key, f"{_shown(value)} is not an email address like name@example.com")
    return address


def _domain(table: _Table, key: str, value: str) -> str:
    if not _DOMAIN_RE.match(value.lower()):
        raise table.fail(key, f"{_shown(value)} is not a domain name like example.com")
    return value.lower()


def _name(table: _Table, key: str, value: str, what: str) -> str:
    name = value.lower()
    if not _NAME_RE.match(name):
        raise table.fail(key, f"{_shown(value)} is not a usable {what} "
                              "(letters, digits and . _ - inside; it follows @ in notes)")
    return name


@overload
def _path(value: str, base: Path | None, env: Mapping[str, str]) -> Path: ...
@overload
def _path(value: str | None, base: Path | None, env: Mapping[str, str]) -> Path | None: ...
def _path(value: str | None, base: Path | None, env: Mapping[str, str]) -> Path | None:
    if value is None:
        return None
    if (value == "~" or value.startswith("~/")) and env.get("HOME"):
        value = env["HOME"] + value[1:]
    path = Path(value)
    return path if path.is_absolute() or base is None else base / path


def _handle_ref(table: _Table, key: str, value: str | None, handles: set[str]) -> str | None:
    """A reference to a person by handle; a typo names the handles that do exist."""
    if value is None:
        return None
    handle = value.lstrip("@").lower()
    if handle not in handles:  # a set: a directory of 10,000 people is read in linear time
        known = sorted(handles)
        guess = _suggest(handle, known)
        hint = f'did you mean "{guess}"? ' if guess else ""
        listed = ", ".join(known[:20]) + (f", … ({len(known)} in all)" if len(known) > 20 else "")
        raise table.fail(key, f"{_shown(value)} names no person ({hint}handles: "
                              f"{listed or 'none; add [[people]]'})")
    return handle


def _section(file: str, data: dict, name: str) -> _Table:
    return _Table(file, name, data.get(name, {}), SCHEMA[name])


def _read_org(file: str, data: dict) -> tuple[_Table, OrgConfig]:
    t = _section(file, data, "org")
    domain = _domain(t, "domain", t.required("domain", "acme.test"))
    address = _email(t, "handoff_address", t.text("handoff_address", f"handoffs@{domain}"))
    local = address.rsplit("@", 1)[0]
    if "+" in local or len(local) > _MAX_HANDOFF_LOCAL:
        raise t.fail("handoff_address", f"local part {_shown(local)} must have no '+' and at "
                     f"most {_MAX_HANDOFF_LOCAL} characters (nudger adds +<id>.<token>)")
    days = t.texts("business_days", WEEKDAYS[:5])
    if not days:
        raise t.fail("business_days", "must name at least one day")
    days = tuple(_weekday(t, "business_days", d, i) for i, d in enumerate(days))
    if len(set(days)) != len(days):
        raise t.fail("business_days", "names a day twice")
    hours = t.texts("business_hours", ("08:00", "18:00"))
    if len(hours) != 2:
        raise t.fail("business_hours", f'expected ["start", "end"] like ["08:00", "18:00"], '
                     f"got {len(hours)} items")
    start, end = (_time(t, f"business_hours[{i}]", h) for i, h in enumerate(hours))
    if start >= end:
        raise t.fail("business_hours", f"start {start} must be before end {end}")
    holidays = t.text("holidays", empty_is_none=True)
    if holidays is not None:
        holidays = holidays.upper()
        if not _HOLIDAYS_RE.match(holidays):
            raise t.fail("holidays", f"{_shown(holidays)} is not a country code like "
                         '"US" or "DE" (optionally with a subdivision: "US-CA")')
    order = t.text("date_order", "MDY").upper()
    if order not in ("MDY", "DMY"):
        raise t.fail("date_order", _choice_message(order, ("MDY", "DMY")))
    org = OrgConfig(
        domain=domain, handoff_address=address,
        timezone=_zone(t, "timezone", t.text("timezone", "UTC")),
        business_days=days, business_hours=(start, end), holidays=holidays,
        date_order=order, admin=t.text("admin", empty_is_none=True),
        timezone_given=t.text("timezone") is not None)
    return t, org


def _read_mailbox(t: _Table, kind_key: str, kinds: tuple[str, str], default_path: str,
                  base: Path | None, env: Mapping[str, str]
                  ) -> tuple[str, Path | None, ServerConfig]:
    """The keys [inbound] and [outbound] share, as (kind, path, server); the remote ones are
    checked only when used."""
    kind = t.text(kind_key, "maildir", choices=kinds)
    tls = t.text("tls", "ssl", choices=TLS_MODES)
    path = _path(t.text("path", default_path if kind == "maildir" else None), base, env)
    host = t.text("host")
    port = t.integer("port", None, 1, 65535)
    username = t.text("username", empty_is_none=True)
    password_env = t.text("password_env", empty_is_none=True)
    timeout = t.number("timeout", 30.0, positive=True)
    if kind != "maildir":
        if host is None:
            raise t.fail("host", f'required when {kind_key} = "{kind}"')
        if username and not password_env:
            raise t.fail("password_env", "required with username: the name of the "
                         "environment variable that holds the password")
        port = port or ServerConfig.default_port(kind, tls)
    server = ServerConfig(host=host, port=port, username=username, password_env=password_env,
                          tls=tls, timeout=timeout)
    return kind, path, server


def _read_people(file: str, data: dict, org: OrgConfig) -> list[tuple[_Table, dict[str, Any]]]:
    raw = data.get("people", [])
    if not isinstance(raw, list):
        raise ConfigError(f"{file}: people: expected [[people]] tables, got {_kind(raw)}")
    people: list[tuple[_Table, dict[str, Any]]] = []
    emails: dict[str, int] = {}
    handles: dict[str, int] = {}
    for i, entry in enumerate(raw):
        t = _Table(file, f"people[{i}]", entry, SCHEMA["people"])
        written = t.required("email", "sam@acme.test")
        email = _email(t, "email", written)
        if email == org.handoff_address:
            raise t.fail("email", f"{_shown(email)} is the handoff address itself")
        if email in emails:
            raise t.fail("email", f"{_shown(email)} is listed twice (also people[{emails[email]}])")
        emails[email] = i
        local = email.split("@")[0]
        given = t.text("handle")
        if given is None and not _NAME_RE.match(local):
            raise t.fail("handle", f"{_shown(local)} (from the email) is not a usable handle; "
                         "set handle = \"...\" (letters, digits and . _ -)")
        handle = _name(t, "handle", given or local, "handle")
        if handle in handles:
            raise t.fail("handle", f"{_shown(handle)} is already used by people[{handles[handle]}]")
        handles[handle] = i
        team = t.text("team", empty_is_none=True)
        people.append((t, dict(
            email=email, name=t.text("name", written.rsplit("@", 1)[0]), handle=handle,
            team=_name(t, "team", team, "team name") if team else None,
            manager=t.text("manager", empty_is_none=True),
            digest=t.text("digest", "none", choices=DIGESTS),
            timezone=_zone(t, "timezone", t.text("timezone", org.timezone)))))
    return people


def _read_teams(file: str, data: dict, handles: set[str]) -> list[tuple[_Table, dict[str, Any]]]:
    raw = data.get("teams", {})
    if not isinstance(raw, dict):
        raise ConfigError(f"{file}: teams: expected [teams.<name>] tables, got {_kind(raw)}")
    teams: list[tuple[_Table, dict[str, Any]]] = []
    taken: dict[str, str] = {}  # name or alias -> what it already names
    for key, entry in raw.items():
        t = _Table(file, f"teams.{key}", entry, SCHEMA["teams"])
        outer = _Table(file, "teams", {}, ())
        name = _name(outer, key, key, "team name")
        aliases = tuple(_name(t, f"aliases[{i}]", a, "team alias")
                        for i, a in enumerate(t.texts("aliases", ())))
        for i, word in enumerate((name, *aliases)):
            where = key if i == 0 else f"{key}.aliases[{i - 1}]"
            if word in handles:
                raise outer.fail(where, f"{_shown(word)} is also a person's handle; "
                                 "@mentions would be ambiguous")
            if word in taken:
                raise outer.fail(where, f"{_shown(word)} is already {taken[word]}")
            taken[word] = f'the name or an alias of team "{name}"'
        members = t.texts("members", None)
        teams.append((t, dict(
            name=name, aliases=aliases,
            lead=_handle_ref(t, "lead", t.text("lead", empty_is_none=True), handles),
            members=None if members is None else tuple(
                _handle_ref(t, f"members[{i}]", m, handles) for i, m in enumerate(members)),
            routing=t.text("routing", "lead", choices=ROUTINGS),
            min_lead_days=t.integer("min_lead_days", 0),
            turnaround_days=t.integer("turnaround_days", 3))))
    return teams


def config_from_dict(data: dict, source: Path | None = None, base_dir: Path | None = None,
                     env: Mapping[str, str] | None = None) -> Config:
    """Validate parsed TOML into a Config. Relative paths resolve against `base_dir`,
    else the folder of `source`, else stay relative (to the working directory)."""
    env = os.environ if env is None else env
    file = str(source) if source is not None else "config"
    if base_dir is None and source is not None:
        base_dir = Path(source).absolute().parent
    _Table(file, "", data, tuple(SCHEMA))

    org_table, org = _read_org(file, data)
    database = _section(file, data, "database")
    database_path = _path(database.text("path", "nudger.db"), base_dir, env)

    inbound_t = _section(file, data, "inbound")
    source_kind, inbound_path, inbound_server = _read_mailbox(
        inbound_t, "source", ("maildir", "imap"), "mail/inbox", base_dir, env)
    if source_kind == "imap":
        if inbound_server.username is None:
            raise inbound_t.fail("username", 'required when source = "imap"')
    folder = inbound_t.text("folder", "INBOX")
    processed = inbound_t.text("processed_folder", "Processed")
    quarantine = inbound_t.text("quarantine_folder", "Quarantine")
    for key, name in (("processed_folder", processed), ("quarantine_folder", quarantine)):
        if name.lower() == folder.lower():  # moving a message where it is would read it forever
            raise inbound_t.fail(key, f"{_shown(name)} must differ from folder ({_shown(folder)})")
    if processed.lower() == quarantine.lower():
        raise inbound_t.fail("quarantine_folder", f"{_shown(quarantine)} must differ from processed_folder, "
                             "so that what needs a look is not hidden among what was handled")
    inbound = InboundConfig(source=source_kind, path=inbound_path, server=inbound_server,
                            folder=folder, processed_folder=processed, quarantine_folder=quarantine,
                            fetch_batch=inbound_t.integer("fetch_batch", 200, 1, 10000))

    outbound_t = _section(file, data, "outbound")
    transport_kind, outbound_path, outbound_server = _read_mailbox(
        outbound_t, "transport", ("maildir", "smtp"), "mail/outbox", base_dir, env)
    outbound = OutboundConfig(transport=transport_kind, path=outbound_path,
                              server=outbound_server,
                              concurrency=outbound_t.integer("concurrency", 4, 1),
                              from_name=outbound_t.text("from_name", "Nudger"),
                              keep_sent_days=outbound_t.integer("keep_sent_days", 30, 1))

    sec = _section(file, data, "security")
    security = SecurityConfig(
        secret_env=sec.text("secret_env", "NUDGER_SECRET"),
        previous_secret_env=sec.text("previous_secret_env", "NUDGER_SECRET_OLD",
                                     empty_is_none=True),
        allowed_domains=tuple(_domain(sec, f"allowed_domains[{i}]", d) for i, d in
                              enumerate(sec.texts("allowed_domains", (org.domain,)))),
        trusted_authserv_ids=tuple(a.lower() for a in sec.texts("trusted_authserv_ids", ())))

    lim = _section(file, data, "limits")
    limits = LimitsConfig(max_message_mb=lim.number("max_message_mb", 25, positive=True),
                          attach_max_mb=lim.number("attach_max_mb", 10, positive=False),
                          max_parts=int(lim.number("max_parts", 1000, positive=True)),
                          message_seconds=lim.number("message_seconds", 60, positive=True),
                          max_attempts=max(1, int(lim.number("max_attempts", 3, positive=True))),
                          mail_per_recipient_hour=max(1, int(lim.number("mail_per_recipient_hour", 30,
                                                                        positive=True))))
    log = _section(file, data, "logging")
    logging = LoggingConfig(path=_path(log.text("path", empty_is_none=True), base_dir, env),
                            level=log.text("level", "info", choices=LOG_LEVELS))
    nud = _section(file, data, "nudges")
    nudges = NudgesConfig(
        ack_reminder_hours=nud.number("ack_reminder_hours", 4, positive=True),
        overdue_repeat_days=nud.integer("overdue_repeat_days", 2, 1),
        overdue_max_repeats=nud.integer("overdue_max_repeats", 3, 0),
        escalate_after_days=nud.integer("escalate_after_days", 3, 1),
        digest_time=_time(nud, "digest_time", nud.text("digest_time", "08:00")),
        weekly_day=_weekday(nud, "weekly_day", nud.text("weekly_day", "mon")),
        appreciation_day=_weekday(nud, "appreciation_day", nud.text("appreciation_day", "fri")))
    tpl = _section(file, data, "templates")
    templates_path = _path(tpl.text("path", empty_is_none=True), base_dir, env)

    raw_people = _read_people(file, data, org)
    handles = {p["handle"] for _, p in raw_people}
    org = replace(org, admin=_handle_ref(org_table, "admin", org.admin, handles))
    raw_teams = _read_teams(file, data, handles)
    alias_of = {w: t["name"] for _, t in raw_teams for w in (t["name"], *t["aliases"])}

    people: list[Person] = []
    for t, p in raw_people:
        p["manager"] = _handle_ref(t, "manager", p["manager"], handles)
        if p["manager"] == p["handle"]:
            raise t.fail("manager", f"{_shown(p['handle'])} cannot be their own manager")
        if p["team"] is not None:
            p["team"] = alias_of.get(p["team"], p["team"])
        people.append(Person(**p))

    teams: dict[str, Team] = {}
    for t, spec in raw_teams:
        if spec["members"] is None:
            spec["members"] = tuple(p.handle for p in people if p.team == spec["name"])
        if len(set(spec["members"])) != len(spec["members"]):
            raise t.fail("members", "lists a person twice")
        if spec["routing"] == "round_robin" and not spec["members"]:
            raise t.fail("members", 'routing = "round_robin" needs at least one member')
        if spec["lead"] is None and not spec["members"]:
            raise t.fail("lead", f'team "{spec["name"]}" has no lead and no members '
                         f'(set lead, members, or team = "{spec["name"]}" on a person)')
        teams[spec["name"]] = Team(**spec)
    for (t, _), person in zip(raw_people, people, strict=True):
        # A person's team with no [teams.x] table is a team with the defaults.
        if person.team is not None and person.team not in teams:
            if person.team in handles:
                raise t.fail("team", f"{_shown(person.team)} is also a person's handle; "
                             "@mentions would be ambiguous")
            members = tuple(q.handle for q in people if q.team == person.team)
            teams[person.team] = Team(person.team, (), None, members, "lead", 0, 3, declared=False)

    return Config(org=org, database_path=database_path, inbound=inbound, outbound=outbound,
                  security=security, limits=limits, logging=logging, nudges=nudges,
                  templates_path=templates_path, people=tuple(people),
                  teams=MappingProxyType(teams), source=source)


def load_config(path: str | Path, env: Mapping[str, str] | None = None) -> Config:
    """Read and validate one TOML file; `env` supplies HOME for "~/" paths."""
    path = Path(path)
    return config_from_bytes(read_config_bytes(path), path, env)


def read_config_bytes(path: Path) -> bytes:
    """The config file as stored; a missing or unreadable file is a config error."""
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file (write one with `nudger init`)") from None
    except IsADirectoryError:
        raise ConfigError(f"{path}: is a folder, not a config file") from None
    except PermissionError as exc:
        from nudger.permissions import denied_file

        denied = denied_file(path, "the config file", why="every command reads it first")
        if denied is not None:  # names the file, its owner and mode, this user and the chmod/chown
            raise denied from None
        raise ConfigError(f"{path}: cannot read: {exc.strerror}", fix=(
            "make it readable by the user cron runs nudger as (and its folders enterable)")) from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror}") from None


def config_from_bytes(raw: bytes, path: Path, env: Mapping[str, str] | None = None) -> Config:
    """Validate the bytes of the config file at ``path``."""
    import tomllib  # here: a run whose config comes from its cache never parses TOML

    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = exc.object.count(b"\n", 0, exc.start) + 1
        raise ConfigError(f"{path}: line {line}: not valid UTF-8") from None
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    return config_from_dict(data, source=path, env=env)


def find_config_path(explicit: str | Path | None, env: Mapping[str, str]) -> Path | None:
    """--config PATH, else $NUDGER_CONFIG, else ./config/nudger.toml if it exists."""
    if explicit:
        return Path(explicit)
    if env.get("NUDGER_CONFIG"):
        return Path(env["NUDGER_CONFIG"])
    local = Path("config/nudger.toml")
    return local if local.is_file() else None


def default_config(domain: str = "example.com") -> Config:
    """Built-in defaults, for commands (`inspect`) that must work with no config at all."""
    return config_from_dict({"org": {"domain": domain}}, env={})
