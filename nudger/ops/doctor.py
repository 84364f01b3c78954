"""``nudger doctor``: check each part a run needs, say how to fix what fails, and warn about
what works but is most likely a mistake.

"ok" means the next run works: each check asks the code the run itself uses (``Store.open``
and a write transaction, ``load_secrets``, the Maildir source's ``check``, the transport's
``ready``, the business calendar, the renderer), as the user doctor runs as, so a failure
here carries the very words, and the fix, that the run would print.
"""

from __future__ import annotations

import difflib
import os
from collections.abc import Generator, Iterable, Iterator, Mapping
from dataclasses import dataclass
from datetime import tzinfo
from pathlib import Path
from zoneinfo import ZoneInfo

from nudger.config import Config
from nudger.config.domains import is_placeholder
from nudger.errors import ConfigError, DamagedDatabase, NudgerError, TemporaryFailure, database_damage, storage_failure
from nudger.permissions import running_user, user_name


@dataclass(frozen=True)
class Check:
    """One of doctor's checks, as docs/operating.md lists them (a test keeps the two equal)."""

    name: str
    fails: bool  # True: a problem fails doctor (exit 1); False: it only warns (exit 0)
    about: str


CHECKS: tuple[Check, ...] = (
    Check("config", True, "the config file loads and validates (when it does not, doctor stops there, exit 78)"),
    Check("user", False, "who doctor runs as; warns when it runs as root on files that belong to another "
                         "user, since root passes every permission check that user would fail"),
    Check("domain", False, "[org] domain and the handoff address are not a placeholder such as example.com "
                           "(replies could not come back)"),
    Check("people", False, "[[people]] lists someone (else no forward finds an owner)"),
    Check("teams", False, "each person's `team` has a [teams.<name>] table (else: did you mean …)"),
    Check("timezone", False, "[org] timezone is set (else everyone's hours and digests are in UTC)"),
    Check("holidays", True, "[org] holidays is a country code the holidays package knows (with close codes "
                            "when not)"),
    Check("database", True, "the database folder and files can be created, read and written by this user, "
                            "the database opens (a damaged file, or one that is not a database, is named "
                            "with its fix), is migrated and takes a write lock"),
    Check("secret", True, "the reply-token key: $NUDGER_SECRET (16+ characters), else the key file is "
                          "readable (or can be created) and private"),
    Check("log", True, "[logging] path can be created and appended to"),
    Check("imap", True, "IMAP: log in, open the folder, the processed and quarantine folders exist or are "
                        "created, how mail is moved"),
    Check("inbound", True, "inbound Maildir: new/ and cur/ can be listed and written, every waiting message "
                           "can be read"),
    Check("smtp", True, "SMTP: connect, EHLO, STARTTLS and AUTH as a run would; nothing is sent"),
    Check("outbound", True, "outbound Maildir: tmp/ and new/ can be written"),
    Check("templates", True, "every email kind renders with the configured templates"),
    Check("bounces", True, "no address hard-bounces"),
)
_FAILS = {c.name: c.fails for c in CHECKS}


@dataclass(frozen=True)
class Finding:
    """What one check found: ``level`` is "ok", "warning" or "fail"; ``fix`` is the remedy."""

    check: str
    level: str
    what: str
    fix: str = ""

    def __post_init__(self) -> None:
        assert self.check in _FAILS and (self.level != "fail" or _FAILS[self.check]), self


def ok(check: str, what: str) -> Finding:
    return Finding(check, "ok", what)


def warning(check: str, what: str, fix: str) -> Finding:
    return Finding(check, "warning", what, fix)


def failed(check: str, what: str, fix: str) -> Finding:
    return Finding(check, "fail", what, fix)


def from_error(check: str, exc: NudgerError, fallback_fix: str, what: str = "") -> Finding:
    """A failure in the run's own words: its message, and its fix when it carries one."""
    return failed(check, what or str(exc), exc.fix or fallback_fix)


def checkup(config: Config, env: Mapping[str, str], zone: tzinfo | None = None) -> Iterator[Finding]:
    """Every check, in the order a run meets the parts; times told in ``zone`` (``--tz``, else
    the org's)."""
    yield ok("config", f"config {config.source or '(defaults)'} loads")
    yield _check_user(config)
    yield from _check_directory(config)
    calendar_ok = yield from _check_holidays(config)
    yield from _check_database(config)
    yield from _check_secret(config, env)
    yield from _check_log(config)
    if config.inbound.source == "imap":
        yield from _findings("imap", _check_imap(config, env))
    elif config.inbound.path is not None:
        yield from _check_inbound(config.inbound.path)
    if config.outbound.transport == "smtp":
        yield from _findings("smtp", _check_smtp(config, env))
    elif config.outbound.path is not None:
        yield from _check_outbound(config.outbound.path)
    if calendar_ok:  # every email reads the calendar: with a bad holidays code none renders
        yield from _check_templates(config)
    yield from _check_bounces(config, zone or ZoneInfo(config.org.timezone))


def _findings(check: str, found: Iterable[tuple[bool, str, str]]) -> Iterator[Finding]:
    for good, what, fix in found:
        yield ok(check, what) if good else failed(check, what, fix)


# --- who is asking ----------------------------------------------------------------------

def _check_user(config: Config) -> Finding:
    """Root passes every permission check: if cron runs nudger as someone else, doctor as root
    says "ok" to what that user's run will fail (and what it creates belongs to root)."""
    me = os.geteuid()
    if me == 0:
        for path in _workspace_paths(config):
            try:
                owner = path.stat().st_uid
            except OSError:
                continue
            if owner != 0:
                name = user_name(owner)
                return warning("user", (
                    f"doctor runs as root, but {path} belongs to {name}: root passes every permission "
                    f"check, so what fails for {name} (if cron runs nudger as {name}) passes here "
                    f"(what doctor creates, such as the database and the key file, is given to the "
                    f"owner of the folder it is made in)"),
                    f"run doctor as the user cron runs nudger as: sudo -u {name} nudger doctor")
    return ok("user", f"running as {running_user()}: files are checked for this user, so run doctor as "
                      "the user cron runs nudger as")


def _workspace_paths(config: Config) -> list[Path]:
    paths = [config.source.parent if config.source else None, config.database_path.parent,
             config.inbound.path, config.outbound.path]
    return [Path(p) for p in paths if p is not None]


# --- what the config says -------------------------------------------------------------------

def _check_directory(config: Config) -> Iterator[Finding]:
    """Warnings: the config loads and a run works, but people will not get what they expect."""
    org = config.org
    placeholders = [f"[org] domain = {org.domain!r}"] if is_placeholder(org.domain) else []
    if is_placeholder(config.handoff_domain) and org.handoff_address != f"handoffs@{org.domain}":
        placeholders.append(f"[org] handoff_address = {org.handoff_address!r}")
    if placeholders:
        yield warning("domain", (
            f"{' and '.join(placeholders)} {'is a placeholder' if len(placeholders) == 1 else 'are placeholders'}"
            ": every email's From and reply "
            f"address ({config.handoff_local}+<id>.<token>@{config.handoff_domain}) point at a domain that is "
            "not yours, so replies can't come back: nobody can ack, finish or thank by email"),
            "set [org] domain to your mail domain (and handoff_address, if you set it, to the address "
            "that delivers into nudger's inbox)")
    else:
        yield ok("domain", f"handoff address {org.handoff_address}")
    if not config.people:
        yield warning("people", (
            "[[people]] lists nobody: no forward can find an owner (each gets the \"who should take "
            "this?\" answer), and nobody gets reminders or digests"),
            "add a [[people]] table (email, name, team) for each person who takes handoffs")
    else:
        yield ok("people", f"{len(config.people)} people in {len(config.teams)} team(s)")
        yield from _check_teams(config)
    if not org.timezone_given:
        yield warning("timezone", (
            "[org] timezone is not set, so it is UTC: business hours, digest_time and the due dates "
            "people write are read in UTC for everyone without a timezone of their own"),
            'set [org] timezone to your office\'s zone, e.g. timezone = "America/Chicago" '
            '(or timezone = "UTC" if that is what you mean)')
    else:
        yield ok("timezone", f"timezone {org.timezone}")


def _check_teams(config: Config) -> Iterator[Finding]:
    """A person's `team` with no [teams.<name>] table is a team with the defaults (DESIGN), and
    most often a typo of a real one: say which."""
    declared = {t.name: t for t in config.teams.values() if t.declared}
    words = {w: t.name for t in declared.values() for w in (t.name, *t.aliases)}
    implicit = [t for t in config.teams.values() if not t.declared]
    for team in implicit:
        who = [p.handle for p in config.people if p.team == team.name]
        close = difflib.get_close_matches(team.name, list(words), n=1, cutoff=0.6)
        guess = words[close[0]] if close else None
        what = (f"team {team.name!r} (of {', '.join(who)}) has no [teams.{team.name}] table: it is a team of "
                "its own with the defaults (no lead, routed to its first member, turnaround 3 days)")
        if guess:
            yield warning("teams", f"{what}; did you mean {guess!r}?",
                          f'set team = "{guess}" for {", ".join(who)}, or add a [teams.{team.name}] table '
                          "if it is a team of its own")
        else:
            yield warning("teams", what, f"add a [teams.{team.name}] table (lead, members), or correct the "
                                         f"team of {', '.join(who)}")
    if not implicit:
        yield ok("teams", "every person's team has its [teams] table")


def _check_holidays(config: Config) -> Generator[Finding, None, bool]:
    """The calendar every schedule and email reads; returns whether it could be built."""
    from nudger.core.calendars import org_calendar

    code = config.org.holidays
    try:
        org_calendar(config)
    except ConfigError as exc:
        yield from_error("holidays", exc, "correct [org] holidays")
        return False
    if code:
        yield ok("holidays", f"holidays {code} known")
    return True


# --- what a run opens -------------------------------------------------------------------------

def _check_database(config: Config) -> Iterator[Finding]:
    from nudger.state.store import Store

    path = config.database_path
    try:
        store = Store.open(path)
    except NudgerError as exc:
        yield from_error("database", exc, "another process holds the database: run doctor again when it ends"
                         if isinstance(exc, TemporaryFailure) else "check the folder exists and is writable")
        return
    except Exception as exc:  # noqa: BLE001 - doctor reports every failure
        yield failed("database", f"database {path}: {type(exc).__name__}: {exc}", _disk_fix(exc))
        return
    try:
        with store.transaction():  # BEGIN IMMEDIATE: the write lock every run takes
            pass
    except TemporaryFailure as exc:
        yield from_error("database", exc, "another process holds the write lock: run doctor again when it ends")
        return
    except Exception as exc:  # noqa: BLE001
        if (damage := database_damage(exc)) is not None:
            yield from_error("database", DamagedDatabase(path, damage), "")
        else:
            yield failed("database", f"database {path}: {exc}", _disk_fix(exc))
        return
    finally:
        store.close()
    yield ok("database", f"database {path} opens, is migrated and takes a write lock")


def _disk_fix(exc: BaseException) -> str:
    if storage_failure(exc) is not None:
        return ("the disk refuses writes (full, mounted read-only or failing): make room or remount it; "
                "until then each run exits 75 and leaves the mail where it is")
    return "check the database file is a nudger database, and the disk"


def _check_secret(config: Config, env: Mapping[str, str]) -> Iterator[Finding]:
    from nudger.config import load_secrets

    try:
        load_secrets(config, env)
    except ConfigError as exc:
        yield from_error("secret", exc, f"set ${config.security.secret_env} (16+ characters)")
        return
    source = (f"${config.security.secret_env}" if env.get(config.security.secret_env)
              else f"key file {config.database_path.parent / 'nudger.key'}")
    yield ok("secret", f"reply-token secret available ({source})")


def _check_log(config: Config) -> Iterator[Finding]:
    from nudger.log import log_file_denied

    if config.logging.path is None:
        return
    denied = log_file_denied(config)
    if denied is not None:
        yield from_error("log", denied, "make the log file writable")
    else:
        yield ok("log", f"log file {config.logging.path} is writable")


def _check_inbound(path: Path) -> Iterator[Finding]:
    """The source's own check (what the run does first), then each waiting message's file."""
    from nudger.inbound.sources import MaildirSource, unreadable_messages

    source = MaildirSource(path)
    try:
        source.check()
        waiting = source.pending()
        unreadable = [p for _key, p in waiting if not os.access(p, os.R_OK)]
    except ConfigError as exc:
        yield from_error("inbound", exc, "fix the Maildir's permissions")
        return
    except OSError as exc:
        yield failed("inbound", f"inbound Maildir {path}: {exc.strerror or exc}", "create it or fix its permissions")
        return
    if unreadable:
        yield from_error("inbound", unreadable_messages(unreadable), "make the messages readable")
    else:
        yield ok("inbound", f"inbound Maildir {path} is usable: {len(waiting)} message(s) waiting")


def _check_outbound(path: Path) -> Iterator[Finding]:
    from nudger.outbound.transports import MaildirTransport

    try:
        MaildirTransport(path).ready()
    except ConfigError as exc:
        yield from_error("outbound", exc, "fix the Maildir's permissions")
        return
    except OSError as exc:
        yield failed("outbound", f"outbound Maildir {path}: {exc.strerror or exc}", "create it or fix its permissions")
        return
    yield ok("outbound", f"outbound Maildir {path} is writable")


def _check_imap(config: Config, env: Mapping[str, str]) -> Iterator[tuple[bool, str, str]]:
    """Log in, open the folder, make sure both destination folders exist (creating them, as the
    run would): "ok" means the next run can read and move mail."""
    from nudger.app import server_password
    from nudger.inbound.imap import ImapSource

    inbound = config.inbound
    server = inbound.server
    label = f"IMAP {server.host}:{server.port} (tls {server.tls})"
    try:
        password = server_password(config, "inbound", env)
    except ConfigError as exc:
        yield False, f"{label}: {exc}", f"export {server.password_env}=<the password of {server.username}>"
        return
    with ImapSource(inbound, password) as source:
        try:
            source.connect()
            yield True, f"{label}: logged in as {server.username}", ""
        except ConfigError as exc:
            fix = ("use the right password or user name" if "login" in str(exc)
                   else "set inbound.tls to what the server offers, or fix its certificate")
            yield False, f"{label}: {exc}", fix
            return
        except TemporaryFailure as exc:
            yield False, f"{label}: {exc}", ("check inbound.host, inbound.port and inbound.tls, and that the "
                                             "server is up and reachable from here")
            return
        try:
            source.select()
            yield True, f"IMAP folder {inbound.folder!r}: {source.pending()} message(s) waiting", ""
        except (ConfigError, TemporaryFailure) as exc:
            yield False, f"IMAP folder {inbound.folder!r}: {exc}", "set inbound.folder to a folder that exists"
            return
        for key, name in (("processed_folder", inbound.processed_folder),
                          ("quarantine_folder", inbound.quarantine_folder)):
            try:
                created = source.ensure_folder(name)
                yield True, f"IMAP {key} {name!r} " + ("created" if created else "exists"), ""
            except (ConfigError, TemporaryFailure) as exc:
                yield False, f"IMAP {key} {name!r}: {exc}", f"create it, or set inbound.{key} to one that exists"
        yield True, f"IMAP moves processed mail with {source.move_method()}", ""


def _check_smtp(config: Config, env: Mapping[str, str]) -> Iterator[tuple[bool, str, str]]:
    """Connect, EHLO, STARTTLS and AUTH as a run would (no mail sent): "ok" means it can deliver."""
    from nudger.app import smtp_settings
    from nudger.outbound.smtp import probe

    server = config.outbound.server
    try:
        settings = smtp_settings(config, env)
    except ConfigError as exc:
        yield False, f"SMTP {server.host}:{server.port}: {exc}", \
            f"export {server.password_env}=<the password of {server.username}>"
        return
    yield from probe(settings)


# --- what the run sends -------------------------------------------------------------------

def _check_bounces(config: Config, zone: tzinfo) -> Iterator[Finding]:
    """Addresses whose mail was refused for good: nobody there reads what nudger sends."""
    from datetime import UTC, datetime

    from nudger.ops.local_time import when
    from nudger.state.store import Store

    try:
        store = Store.open(config.database_path)
    except Exception:  # noqa: BLE001 - the database check above already said why
        return
    try:
        bouncing = store.hard_bouncing()
    finally:
        store.close()
    now = datetime.now(UTC)
    for b in bouncing:
        who = config.person_by_email(b["address"])
        yield failed("bounces", (f"{b['address']} hard-bounces: outgoing #{b['outbox_id']} on "
                                 f"{when(b['at'], zone, now)}: "
                                 f"{b['reason']}"), (
            f"correct {who.handle}'s email in [[people]] and reassign what they own" if who else
            "correct the address; it clears when mail from it arrives") +
            f"; `nudger outbox retry {b['outbox_id']}` sends it again")
    if not bouncing:
        yield ok("bounces", "no address hard-bounces")


def _check_templates(config: Config) -> Iterator[Finding]:
    """Every kind in the registry renders with the configured templates (and their overrides),
    its context built for real against an empty database. A config error met while rendering
    is the config's, not the templates'."""
    from datetime import UTC, datetime

    from nudger.core.records import Handoff, Notice
    from nudger.outbound.kinds import KINDS, KindInput
    from nudger.outbound.render import Renderer
    from nudger.state.store import Store

    renderer = Renderer(config, b"doctor-check-key-0123456789")
    now = datetime.now(UTC)
    sample = Handoff(id=1, title="Sample", status="open", requester="someone@example.com",
                     created=now, updated=now, due=now.date())
    context = {"actor": "someone@example.com", "choice": "daily", "word": "dne", "suggestion": "done",
               "as_of": now, "team": next(iter(config.teams), "")}
    empty = Store.open(":memory:")
    broken = []
    try:
        for kind in KINDS.values():
            notice = Notice(kind.name, "someone@example.com", 1 if kind.about_a_handoff else None,
                            context=dict(context))
            about = sample if notice.handoff_id else None
            try:
                extra = kind.context(KindInput(notice, about, config, empty)) if kind.context else None
                renderer.render(notice, about, f"doctor:{kind.name}", now, extra=extra)
            except ConfigError as exc:
                yield from_error("templates", exc, "correct the key it names")
                return
            except Exception as exc:  # noqa: BLE001
                broken.append(f"{kind.name}: {exc}")
    finally:
        empty.close()
    if broken:
        yield failed("templates", "templates: " + "; ".join(broken), "fix or remove the override in [templates] path")
    else:
        yield ok("templates", f"all {len(KINDS)} email templates render")
