"""The ``nudger`` command: parses options, calls the library, prints. No SQL, no MIME here.

What a command opens (runtime, source, transport) comes from ``nudger.app`` and is used in a
``with``, so it is closed when the command ends, even on error.
"""

from __future__ import annotations

import json
import logging
import os
import sys
from collections.abc import Callable, Mapping
from datetime import UTC, date, datetime, timedelta, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

import click

from nudger import __version__
from nudger.app import open_runtime, open_source, open_transport
from nudger.config import Config, find_config_path, load_secrets
from nudger.core.records import Handoff

if TYPE_CHECKING:
    from nudger.state.store import Store
from nudger.errors import (
    ConfigError,
    DamagedDatabase,
    NudgerError,
    StorageFailure,
    TemporaryFailure,
    database_damage,
    storage_failure,
)

log = logging.getLogger("nudger.cli")
T = TypeVar("T")


class NudgerGroup(click.Group):
    """Turns nudger's errors into one plain line and the right exit code; no tracebacks."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except NudgerError as exc:
            _fail(exc)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit):
            raise
        except BrokenPipeError:  # `nudger items | head`: the reader has gone; so do we, quietly
            sys.stderr.close()
            sys.exit(0)
        except Exception as exc:  # noqa: BLE001
            if (damage := database_damage(exc)) is not None:  # found corrupt mid-command: 78, not 75
                loaded = (ctx.obj or {}).get("loaded")
                _fail(DamagedDatabase(loaded.database_path if loaded else "file", damage))
            if (fault := storage_failure(exc)) is not None:  # a full disk, a read-only database: retry later
                click.echo(f"nudger: {fault}", err=True)
                sys.exit(fault.exit_code)
            _unexpected(exc, (ctx.obj or {}).get("verbosity", 0) > 0)
            sys.exit(1)


def _fail(exc: NudgerError) -> NoReturn:
    """The error's one line on stderr and its exit code. A damaged database is also logged, as
    a run's other failures are: each cron run meets it again until someone fixes it by hand."""
    if isinstance(exc, DamagedDatabase):
        log.error("%s", exc.told(), extra={"console": False})
    click.echo(f"nudger: {exc.told()}", err=True)
    sys.exit(exc.exit_code)


def _unexpected(exc: Exception, verbose: bool) -> None:
    """One line on stderr. The traceback goes to the log file when there is one, and to stderr
    with ``-v``; the line says where it is, or how to get it."""
    import traceback

    from nudger.log import log_file

    path = log_file()
    if path is not None:
        logging.getLogger("nudger").exception("unexpected error", extra={"console": False})
    if verbose:
        click.echo(traceback.format_exc().rstrip(), err=True)
    where = f" (traceback in {path})" if path else "" if verbose else " (run again with -v for the traceback)"
    click.echo(f"nudger: unexpected error: {type(exc).__name__}: {exc}{where}", err=True)


def _remember_config(ctx: click.Context, _param: click.Parameter, value: str | None) -> str | None:
    if value:
        ctx.ensure_object(dict)["config"] = value
    return value


def _remember_verbose(ctx: click.Context, _param: click.Parameter, value: int) -> int:
    if value:
        ctx.ensure_object(dict)["verbosity"] = value
    return value


def _remember_quiet(ctx: click.Context, _param: click.Parameter, value: bool) -> bool:
    if value:
        ctx.ensure_object(dict)["verbosity"] = -1
    return value


def _remember_tz(ctx: click.Context, param: click.Parameter, value: str | None) -> str | None:
    if value:
        from nudger.ops.local_time import parse_zone

        try:
            ctx.ensure_object(dict)["tz"] = parse_zone(value)
        except ValueError as exc:
            raise click.BadParameter(str(exc), ctx=ctx, param=param) from None
    return value


def config_option(f: Any) -> Any:
    """``--config``, ``--tz``, ``-v`` and ``-q`` work before or after the command name."""
    f = click.option("-q", "--quiet", is_flag=True, expose_value=False, callback=_remember_quiet,
                     is_eager=True, help="Only errors on stderr.")(f)
    f = click.option("-v", "--verbose", count=True, expose_value=False, callback=_remember_verbose,
                     is_eager=True, help="More output on stderr, tracebacks included (-vv for debug).")(f)
    f = click.option("--tz", "tz_name", metavar="ZONE", expose_value=False, callback=_remember_tz, is_eager=True,
                     help="Print times in this IANA timezone, e.g. Europe/Paris (default: [org] timezone); "
                          "--json output never changes with it.")(f)
    # A plain string, not click.Path: a folder or an unreadable file is the config's error (exit 78),
    # the same whether it was named here or by $NUDGER_CONFIG.
    return click.option(
        "--config", "config_path", metavar="FILE", expose_value=False, callback=_remember_config, is_eager=True,
        help="Config file (default: $NUDGER_CONFIG, else ./config/nudger.toml).",
    )(f)


class HandoffNumber(click.ParamType):
    """A number as people write it: ``12`` or ``#12`` (as in subjects and digests)."""

    name = "ID"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int):
            return value
        text = str(value).strip().removeprefix("#")
        if text.isdigit():
            return int(text)
        self.fail(f"{value!r} is not a number like 12 or #12", param, ctx)


ID = HandoffNumber()


def now_option(f: Any) -> Any:
    return click.option(
        "--now", "now_text", metavar="ISO8601",
        help="Pretend it is this time (without an offset: the org's local time). For tests and replays.",
    )(f)


def get_config(ctx: click.Context, required: bool = True, *, log_must_open: bool = True) -> Config | None:
    """The config, loaded once per command, with logging set up from it. A log file the user
    may not write is a config error, except for `doctor` (``log_must_open``), which reports it."""
    obj = ctx.ensure_object(dict)
    if "loaded" in obj:
        return obj["loaded"]
    path = find_config_path(obj.get("config"), os.environ)
    if path is None:
        if required:
            raise ConfigError(
                "no config found: pass --config FILE, set NUDGER_CONFIG, or run `nudger init` here"
            )
        return None
    from nudger.config.cache import load_config_cached

    config = load_config_cached(path, os.environ)  # validated once per edit, not every cron run
    obj["loaded"] = config
    from nudger.log import configure_logging

    try:
        configure_logging(config, obj.get("verbosity", 0))
    except ConfigError:
        if log_must_open:
            raise
    return config


def parse_now(text: str | None, config: Config | None) -> datetime:
    if not text:
        return datetime.now(UTC)
    try:
        value = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError as exc:
        raise click.BadParameter(
            f"{text!r} is not an ISO 8601 time, e.g. 2026-11-23T09:30", param_hint="--now"
        ) from exc
    if value.tzinfo is None:
        from zoneinfo import ZoneInfo  # only for a --now without an offset: cron runs never need it

        value = value.replace(tzinfo=ZoneInfo(config.org.timezone if config else "UTC"))
    return value


def emit_json(data: Any) -> None:
    click.echo(json.dumps(data, indent=2, ensure_ascii=False, default=str))



class NotFound(click.ClickException):
    """A handoff, email or message number that does not exist: the caller's mistake, so a
    usage error (exit 2), as an unknown option is; exit 1 stays for what nobody expected."""

    exit_code = 2

@click.group(cls=NudgerGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="nudger")
@config_option
@click.pass_context
def cli(ctx: click.Context) -> None:
    """nudger: forwarded emails become tracked handoffs; replies drive them to done.

    Forward a customer email to the handoff address with a note ("@dana W-9 please, due
    friday"); nudger tells the owner, and people answer by replying ack, done, blocked,
    due friday or thanks. Run `nudger run` from cron every few minutes.
    """
    ctx.ensure_object(dict).setdefault("verbosity", 0)


@cli.command()
@config_option
@now_option
@click.pass_context
def run(ctx: click.Context, now_text: str | None) -> None:
    """Fetch mail, apply it, and deliver what is due. The cron entry.

    Prints one line when it did something (or on a terminal), nothing when idle; a
    failure is one line on stderr with its reason. Exits 0 at once if another run holds
    the lock; 75 if fetching mail failed or the mail relay could not be reached (every
    email it tried stays queued, no attempt spent), after the rest of the run; 78 on a
    configuration error (a refused IMAP or SMTP login, or a server certificate that does not
    verify, too, after the run still scheduled and delivered).
    """
    from nudger.lock import run_lock
    from nudger.pipeline import run_once

    config = get_config(ctx)
    assert config is not None
    now = parse_now(now_text, config)
    with run_lock(config.database_path) as held:
        if not held:
            if sys.stdout.isatty() or ctx.obj.get("verbosity", 0) > 0:
                click.echo("another nudger run is in progress; nothing to do")
            return
        # Source and transport first: a kind not built yet stops the run before it is recorded.
        with (open_source(config, os.environ) as source, open_transport(config) as transport,
              open_runtime(config, now, os.environ) as rt):
            started = datetime.now(UTC)
            summary = run_once(rt, source, transport)
            _record_run(lambda: rt.store.record_run(started, now, datetime.now(UTC), summary.as_json()))
    if (summary.did_something() or sys.stdout.isatty()) and ctx.obj.get("verbosity", 0) >= 0:
        click.echo(summary.line())
    problems = _run_problems(summary)
    if problems:  # each said once; the exit code is the most pressing one's (a config error first)
        worst = next((p for p in problems if isinstance(p, ConfigError)), problems[0])
        for other in problems:
            if other is not worst:
                click.echo(f"nudger: {other.told()}", err=True)
        raise worst


def _run_problems(summary: Any) -> list[NudgerError]:
    """What went wrong in a run that still did the rest, in the order the stages met them."""
    problems: list[NudgerError] = []
    if summary.fetch_error:
        cls = ConfigError if summary.fetch_config_error else TemporaryFailure
        problems.append(cls(f"could not fetch mail: {summary.fetch_error}"))
    if summary.store_error:
        problems.append(StorageFailure(
            f"{summary.store_error} (mail not yet stored stays where it was; the next run retries)"))
    if summary.relay_down():
        n = summary.waiting()
        waiting = f"{n} email{'s' * (n != 1)} {'stays' if n == 1 else 'stay'} queued"
        if summary.relay_cause == "login":
            problems.append(ConfigError(f"the mail relay refused our login: {summary.relay_error}; {waiting}",
                                        fix=summary.relay_fix))
        elif summary.relay_cause == "certificate":
            problems.append(ConfigError(f"the mail relay cannot be trusted: {summary.relay_error}; {waiting}",
                                        fix=summary.relay_fix))
        else:
            problems.append(TemporaryFailure(f"the mail relay is unreachable: {summary.relay_error}; {waiting} "
                                             "for the next run (no attempt spent)"))
    if summary.deliver_error:  # an outbound Maildir we may not write: nothing was tried
        problems.append(ConfigError(f"could not deliver mail: {summary.deliver_error}"))
    return problems


def _record_run(write: Callable[[], T]) -> T | None:
    """The runs table is a record, not the work: a full disk there must not stop the run."""
    try:
        return write()
    except Exception as exc:
        if storage_failure(exc) is None:
            raise
        log.error("could not record the run: %s", exc)
        return None


@cli.command()
@click.argument("source", metavar="-|FILE")
@config_option
@now_option
@click.pass_context
def ingest(ctx: click.Context, source: str, now_text: str | None) -> None:
    """Take one message from stdin (an MTA pipe) or a file.

    Exits 75 on a temporary failure (database busy) and on a configuration error too, so
    the MTA keeps the message and retries instead of bouncing it while you fix the config.
    Answers go out now if no run is busy, else with the next run.
    """
    try:
        _ingest(ctx, source, now_text)
    except ConfigError as exc:
        raise TemporaryFailure(f"{exc} (the MTA keeps the message until this is fixed)", fix=exc.fix) from exc


def _ingest(ctx: click.Context, source: str, now_text: str | None) -> None:
    from nudger.inbound.sources import FileSource, StdinSource
    from nudger.lock import run_lock
    from nudger.pipeline import RunSummary, deliver_due, guarded, ingest_from

    config = get_config(ctx)
    assert config is not None
    now = parse_now(now_text, config)
    try:
        src = StdinSource() if source == "-" else FileSource(Path(source))
    except OSError as exc:
        raise click.ClickException(f"cannot read {source}: {exc.strerror or exc}") from exc
    # The transport is opened (not connected) first: a config error defers the mail untouched.
    with src, open_transport(config) as transport, open_runtime(config, now, os.environ) as rt:
        summary = RunSummary()
        guarded(summary, "ingest", lambda: ingest_from(rt, src, summary))
        if summary.store_error:
            raise StorageFailure(f"{summary.store_error} (the MTA keeps the message and retries)")
        if summary.fetch_error:
            raise TemporaryFailure(summary.fetch_error)
        with run_lock(config.database_path) as held:
            if held:
                guarded(summary, "deliver", lambda: deliver_due(rt, transport, summary))
    if ctx.obj.get("verbosity", 0) > 0 or sys.stdout.isatty():
        click.echo(summary.line())
    if summary.deliver_error:  # the message is stored (exit 0: the MTA must not send it again)
        click.echo(f"nudger: stored; could not deliver mail: {summary.deliver_error}", err=True)


@cli.command()
@click.argument("files", nargs=-1, required=True, metavar="FILE...|-")
@click.option("--json", "as_json", is_flag=True, help="JSON Lines: one object per file, in order.")
@config_option
@click.pass_context
def inspect(ctx: click.Context, files: tuple[str, ...], as_json: bool) -> None:
    """Show how nudger reads messages, without changing anything.

    Works with no config at all (built-in defaults). Every file yields one object; an
    unreadable or unparseable one has kind "unknown" and its reason.
    """
    from nudger.config import default_config
    from nudger.ops.inspection import inspect_file

    config = get_config(ctx, required=False) or default_config()
    secrets: tuple[bytes, ...] = ()
    # Reading keys must not create one: inspect touches no state.
    from nudger.config import key_file_path

    has_key = bool(os.environ.get(config.security.secret_env)) or key_file_path(config).exists()
    if config.source is not None and has_key:
        try:
            secret, previous = load_secrets(config, os.environ)
            secrets = (secret, *previous)
        except NudgerError:
            secrets = ()
    for path in files:
        data = sys.stdin.buffer.read() if path == "-" else None
        result = inspect_file(path, config, secrets, data)
        if len(files) == 1 and as_json:
            result.pop("file", None)
        if as_json:
            click.echo(json.dumps(result, ensure_ascii=False, default=str))
        else:
            _print_inspection(result)


def _print_inspection(r: dict[str, Any]) -> None:
    click.echo(f"{r.get('file', '')}: {r['kind']} ({'authorised' if r.get('authorised') else 'not authorised'})")
    for reason in r.get("reasons", []):
        click.echo(f"  - {reason}")
    if r.get("handoff"):
        h = r["handoff"]
        click.echo(f"  handoff: {h['title']!r} owner={h['owner']} team={h['team']} due={h['due']} "
                   f"priority={h['priority']} rush={h['rush']} watchers={', '.join(h['watchers']) or '-'}")
    if r.get("forwarded"):
        f = r["forwarded"]
        sender = (f.get("from") or {}).get("email")
        click.echo(f"  forwarded: from {sender}, subject {f.get('subject')!r}, {len(f.get('body') or '')} chars")
    for c in r.get("commands", []):
        click.echo(f"  command: {c['name']} {c['args']!r}" + (f" due {c['due']}" if c.get("due") else ""))
    if r.get("text"):
        click.echo("  text: " + r["text"][:300].replace("\n", "\n        "))


def item_json(h: Handoff, overdue: bool) -> dict[str, Any]:
    """A handoff as `items --json` and `show --json` print it (DESIGN.md "Surfaces")."""
    return {
        "id": h.id, "title": h.title, "status": h.status, "owner": h.owner, "requester": h.requester,
        "requester_name": h.requester_name or None,
        "team": h.team, "due": h.due.isoformat() if h.due else None, "rush": h.rush,
        "priority": h.priority, "created": h.created.isoformat(), "updated": h.updated.isoformat(),
        "watchers": list(h.watchers), "blocked_reason": h.blocked_reason, "overdue": overdue,
    }


def _zone(ctx: click.Context, config: Config) -> tzinfo:
    """Where the printed times are: ``--tz``, else the org's timezone."""
    from zoneinfo import ZoneInfo

    return ctx.ensure_object(dict).get("tz") or ZoneInfo(config.org.timezone)


def _store(ctx: click.Context) -> Store:
    """The database, for a command that reads it; closed when the command ends."""
    from nudger.state.store import Store

    config = get_config(ctx)
    assert config is not None
    store = Store.open(config.database_path)
    ctx.call_on_close(store.close)
    return store


@cli.command()
@click.option("--status", type=click.Choice(["open", "acknowledged", "blocked", "done", "cancelled"],
                                            case_sensitive=False),
              help="Only handoffs in this state (any letter case).")
@click.option("--json", "as_json", is_flag=True, help="A JSON list of handoffs (emails, not names; UTC times).")
@config_option
@now_option
@click.pass_context
def items(ctx: click.Context, status: str | None, as_json: bool, now_text: str | None) -> None:
    """List handoffs: number, status, due date (", overdue" once it is past in the owner's
    calendar), owner and requester by name, title (with [rush] and a blocked reason)."""
    from nudger.ops.items import item_lines
    from nudger.ops.local_time import is_overdue

    store = _store(ctx)
    config = get_config(ctx)
    assert config is not None
    now = parse_now(now_text, config)
    handoffs = store.handoffs(status.lower() if status else None)
    if as_json:
        emit_json([item_json(h, is_overdue(config, h, now)) for h in handoffs])
        return
    if not handoffs:
        click.echo("no handoffs" + (f" with status {status}" if status else ""))
        return
    for line in item_lines(config, handoffs, now):
        click.echo(line)


@cli.command()
@click.argument("handoff_id", type=ID, metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="The handoff, its timeline and its emails as JSON (UTC times).")
@config_option
@now_option
@click.pass_context
def show(ctx: click.Context, handoff_id: int, as_json: bool, now_text: str | None) -> None:
    """Show one handoff (ID: 12 or #12), its timeline, its emails and the next scheduled one.

    Times are the org's (or --tz); an email's time also in its recipient's own clock when
    that reads otherwise.
    """
    from nudger.ops.local_time import day, is_overdue, person_zone, theirs, when
    from nudger.ops.table import table
    from nudger.runtime import Runtime
    from nudger.scheduler import next_for_handoff

    store = _store(ctx)
    h = store.handoff(handoff_id)
    if h is None:
        raise NotFound(f"no handoff #{handoff_id} (see `nudger items`)")
    events = store.events(handoff_id)
    mails = store.outbox_for_handoff(handoff_id)
    config = get_config(ctx)
    assert config is not None
    now = parse_now(now_text, config)
    upcoming = next_for_handoff(Runtime(config, store, now, b""), handoff_id)
    next_json = _slot_json(config, upcoming) if upcoming else None
    overdue = is_overdue(config, h, now)
    if as_json:
        emit_json({**item_json(h, overdue), "note": h.note, "forwarded": h.forwarded,
                   "timeline": [e.as_json() for e in events], "emails": mails, "next": next_json})
        return
    zone = _zone(ctx, config)

    blocked = f": {h.blocked_reason}" if h.status == "blocked" and h.blocked_reason else ""
    click.echo(f"#{h.id} {h.title}")
    for label, value in (("status", h.status + blocked),
                         ("owner", _named(config, h.owner)),
                         ("requester", _named(config, h.requester, h.requester_name)), ("team", h.team),
                         ("due", day(h.due, now, zone) + (", overdue" if overdue else "") if h.due else None),
                         ("priority", h.priority)):
        click.echo(f"  {label:<10} {value if value is not None else '-'}")
    if h.rush:
        click.echo("  rush       yes (less notice than the team asks for)")
    if h.watchers:
        click.echo(f"  watchers   {', '.join(_named(config, w) or w for w in h.watchers)}")
    if h.forwarded:
        f = h.forwarded
        click.echo(f"  customer   {(f.get('from') or {}).get('email')} — {f.get('subject')}")
    click.echo(f"  created    {when(h.created, zone, now)}")
    if h.updated != h.created:
        click.echo(f"  updated    {when(h.updated, zone, now)}")
    click.echo("timeline:")
    timeline = [(when(e.at, zone, now), e.kind, _short_name(config, e.actor),
             f"{_event_detail(config, e.data, now, zone)}  {f'“{_one_line(e.words)}”' if e.words else ''}".strip())
            for e in events]
    for line in table(("", "", "", ""), timeline)[1:] if timeline else []:
        click.echo(f"  {line}")
    click.echo("emails:")
    rows = []
    for m in mails:
        at = m["sent"] or m["send_after"]
        label = when(at, zone, now) if m["sent"] or m["status"] != "queued" else f"from {when(at, zone, now)}"
        rows.append((m["status"], m["kind"], f"to {m['recipient']}",
                     label + theirs(at, zone, person_zone(config, m["recipient"])), m["subject"]))
    for line in table(("", "", "", "", ""), rows)[1:] if rows else []:
        click.echo(f"  {line}")
    if next_json:
        click.echo(f"next:      {next_json['kind']} to {next_json['to']} at {when(next_json['at'], zone, now)}"
                   + theirs(next_json["at"], zone, person_zone(config, next_json["to"])))
    elif h.is_open:
        click.echo("next:      nothing scheduled")


def _short_name(config: Config, email: str | None) -> str:
    """A person in a timeline column: the directory's name, else the address."""
    person = config.person_by_email(email) if email else None
    return person.name if person else (email or "")


def _one_line(words: str, limit: int = 160) -> str:
    """Someone's words on one line of the timeline (`show --json` has them whole)."""
    flat = " / ".join(line.strip() for line in words.splitlines() if line.strip())
    return flat if len(flat) <= limit else flat[: limit - 1].rstrip() + "…"


def _event_detail(config: Config, data: Mapping[str, Any], now: datetime, zone: tzinfo) -> str:
    """An event's facts as people read them: dates as `Fri 4 Dec`, people by name."""
    from nudger.ops.local_time import day

    def shown(value: Any) -> str:
        text = str(value)
        if len(text) == 10 and text[4] == "-" and text[7] == "-":
            try:
                return day(date.fromisoformat(text), now, zone)
            except ValueError:
                return text
        return _short_name(config, text) if "@" in text else _one_line(text, 80)

    return ", ".join(f"{k}={shown(v)}" for k, v in data.items() if v and k not in ("reasons", "watchers"))


def _named(config: Config, email: str | None, given: str = "") -> str | None:
    """``Name <email>`` for a person: the directory's name, else the one their mail gave."""
    if not email:
        return None
    person = config.person_by_email(email)
    name = person.name if person else given
    return f"{name} <{email}>" if name else email


def _slot_json(config: Config, slot: Any) -> dict[str, Any]:
    """A scheduled email as `upcoming` and `show` print it: when, in the recipient's own time."""
    from nudger.core.calendars import calendar_for
    from nudger.ops.local_time import short_day

    cal = calendar_for(config, slot.to)
    local = cal.local(cal.next_business_start(slot.at))  # it waits for their business hours
    about = f"#{slot.handoff_id}" if slot.handoff_id else str(slot.context.get("team") or "")
    return {"kind": slot.kind, "to": slot.to, "at": local.isoformat(), "handoff": slot.handoff_id,
            "local": f"{short_day(local)} {local:%H:%M} {local.tzname()}", "key": slot.key, "about": about}


@cli.command()
@click.argument("kind", metavar="KIND")
@click.option("--to", "to", required=True, metavar="EMAIL", help="Whom it is written for.")
@click.option("--handoff", "handoff_id", type=ID, metavar="ID",
              help="The handoff it is about (default: the recipient's latest).")
@click.option("--team", "team", metavar="TEAM",
              help="team_digest only: which team's digest (a name or alias; default: the team the "
                   "recipient leads, else their own).")
@click.option("--html", "html_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the HTML version to this file.")
@config_option
@now_option
@click.pass_context
def preview(ctx: click.Context, kind: str, to: str, handoff_id: int | None, team: str | None,
            html_path: Path | None, now_text: str | None) -> None:
    """Write any email kind as it would go out now, without sending or recording it.

    KIND is one of the kinds nudger sends (receipt, new_handoff, ack_reminder, overdue,
    escalation, daily_digest, team_digest, appreciation, ...). Scheduled kinds are written
    from the history as of --now, exactly as the schedule would.
    """
    from nudger.app import open_runtime
    from nudger.ops.preview import preview as make_preview

    config = get_config(ctx)
    assert config is not None
    with open_runtime(config, parse_now(now_text, config), os.environ) as rt:
        shown = make_preview(rt, kind, to, handoff_id, team, _zone(ctx, config))
    if html_path:
        try:
            html_path.write_text(shown.html, encoding="utf-8")
        except OSError as exc:
            raise click.ClickException(f"cannot write {html_path}: {exc.strerror or exc}") from exc
    click.echo(f"To: {shown.to}\nSubject: {shown.subject}\n")
    if shown.note:
        click.echo(f"({shown.note})\n")
    if shown.empty:
        click.echo("(nothing in it today: this one would not be sent)\n")
    click.echo(shown.text.replace("\r\n", "\n").rstrip())


@cli.command()
@click.option("--days", type=click.IntRange(1, 366), default=7, show_default=True, help="How far ahead.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list of {kind, to, at, handoff}.")
@config_option
@now_option
@click.pass_context
def upcoming(ctx: click.Context, days: int, as_json: bool, now_text: str | None) -> None:
    """What will be sent to whom and when, if nothing else happens: mail already queued and
    the reminders, alerts and digests the schedule owes. Times are the org's (or --tz), and
    the recipient's own when their clock reads otherwise; JSON `at` is in the recipient's."""
    from datetime import timedelta

    from nudger.app import open_runtime
    from nudger.scheduler import upcoming as owed

    config = get_config(ctx)
    assert config is not None
    now = parse_now(now_text, config)
    with open_runtime(config, now, os.environ) as rt:
        until = now + timedelta(days=days)
        rows = [_queued_json(config, r) for r in rt.store.outbox(("queued",))
                if datetime.fromisoformat(r["send_after"]) <= until]
        rows += [_slot_json(config, s) for s in owed(rt, until)]
    rows.sort(key=lambda r: (datetime.fromisoformat(r["at"]), r["to"]))
    if as_json:
        emit_json([{k: r[k] for k in ("kind", "to", "at", "handoff")} for r in rows])
        return
    if not rows:
        click.echo(f"nothing to send in the next {days} day{'s' if days != 1 else ''}")
        return
    from nudger.ops.local_time import person_zone, theirs, when
    from nudger.ops.table import table

    zone = _zone(ctx, config)
    from nudger.config.model import team_label

    lines = table(("WHEN", "EMAIL", "ABOUT", "TO"), [
        (when(r["at"], zone, now), r["kind"],
         team_label(r["about"]) if r["kind"] == "team_digest" else r.get("about", ""),  # --json: the key
         r["to"] + theirs(r["at"], zone, person_zone(config, r["to"]))) for r in rows])
    for line in lines:
        click.echo(line)


def _queued_json(config: Config, row: dict[str, Any]) -> dict[str, Any]:
    from nudger.core.calendars import calendar_for
    from nudger.ops.local_time import short_day

    local = calendar_for(config, row["recipient"]).local(datetime.fromisoformat(row["send_after"]))
    return {"kind": row["kind"], "to": row["recipient"], "at": local.isoformat(), "handoff": row["handoff_id"],
            "local": f"{short_day(local)} {local:%H:%M} {local.tzname()}",
            "about": f"#{row['handoff_id']} queued" if row["handoff_id"] else "queued"}


@cli.command()
@click.option("--json", "as_json", is_flag=True, help="As JSON (fields in the README, \"Commands\").")
@config_option
@now_option
@click.pass_context
def status(ctx: click.Context, as_json: bool, now_text: str | None) -> None:
    """Counts by state, the outbox, the mail read (refused mail too: the latest one named),
    the quarantine and the last run."""
    from nudger.ops.local_time import ago, when

    data = _store(ctx).status_counts()
    if as_json:
        emit_json(data)
        return
    config = get_config(ctx)
    assert config is not None
    now, zone = parse_now(now_text, config), _zone(ctx, config)
    h = data["handoffs"]
    click.echo("handoffs:   " + (", ".join(f"{k} {v}" for k, v in h.items() if v) or "none"))
    o = data["outbox"]
    click.echo(f"outbox:     queued {o['queued']}, sending {o['sending']}, sent {o['sent']}, "
               f"dead {o['dead']}, bounced {o['bounced']}")
    for b in data["hard_bouncing"]:
        click.echo(f"bouncing:   {b['address']} since {when(b['at'], zone, now)} (outbox #{b['outbox_id']}): "
                   f"{b['reason']}")
    read = data["inbound"]
    labels = {"handoff": ("new handoff", "new handoffs"), "reply": ("reply", "replies"),
              "auto_reply": ("auto-reply", "auto-replies"), "bounce": ("bounce", "bounces"),
              "loop": ("loop", "loops")}
    parts = [f"{n} {labels.get(k, (k, k))[n != 1]}" for k, n in read.items() if n]
    click.echo(f"mail read:  {sum(read.values())}" + (f" ({', '.join(parts)})" if parts else ""))
    refused = data["refused"]
    if refused["last"]:
        last = refused["last"]
        click.echo(f"refused:    {refused['count']} (last: {last['sender'] or '(no sender)'}, "
                   f"{ago(last['received'], now)}: {last['reason']}); `nudger inbound --refused` lists them")
    else:
        click.echo("refused:    0")
    q = data["quarantine"]
    click.echo(f"quarantine: {q.get('held', 0)} held" + ("; `nudger quarantine` lists them" if q.get("held") else ""))
    run = data["last_run"]
    if run:
        clock = f" (its clock: {when(run['now'], zone, now)})" if run.get("now") and abs(
            (datetime.fromisoformat(run["now"]) - datetime.fromisoformat(run["finished"])).total_seconds()) > 60 else ""
        wall, finished = datetime.now(UTC), datetime.fromisoformat(run["finished"])
        # A run given a later --now (the demo, a replay) records that time: not "in 44 h".
        since = ago(run["finished"], wall) if finished <= wall + timedelta(minutes=1) else (
            "ahead of this machine's clock (a run given --now)")
        click.echo(f"last run:   {when(run['finished'], zone, now)}, {since}{clock}")
    else:
        click.echo("last run:   never")


@cli.command()
@click.option("--refused", is_flag=True,
              help="Only mail nudger refused: from outside allowed_domains (no reply goes back), or a "
                   "command the sender may not give (they were told why).")
@click.option("--limit", type=click.IntRange(1, 100_000), default=50, show_default=True, help="How many, newest first.")
@click.option("--json", "as_json", is_flag=True, help="A JSON list, newest first (UTC times).")
@config_option
@click.pass_context
def inbound(ctx: click.Context, refused: bool, limit: int, as_json: bool) -> None:
    """The mail nudger read, newest first: when, from whom, what it was taken for, what came
    of it and why (the decisive reason under each). A refused outsider's forward gets no
    answer at all, so this (and `status`) is where it shows."""
    from nudger.ops.local_time import when
    from nudger.ops.table import table

    rows = _store(ctx).received_messages(refused_only=refused, limit=limit)
    if as_json:
        emit_json([r.as_json() for r in rows])
        return
    if not rows:
        click.echo("no refused mail" if refused else "no mail read yet")
        return
    config = get_config(ctx)
    assert config is not None
    zone, now = _zone(ctx, config), datetime.now(UTC)
    lines = table(("ID", "RECEIVED", "FROM", "KIND", "OUTCOME", "SUBJECT"), [
        (str(r.id), when(r.received, zone, now), r.sender or "(no sender)", r.kind,
         r.outcome + (f" #{r.handoff_id}" if r.handoff_id else ""), r.subject or "(no subject)") for r in rows])
    click.echo(lines[0])
    for line, r in zip(lines[1:], rows, strict=True):
        click.echo(line)
        if r.reason:
            click.echo(f"      {r.reason}" + (f" (delivered {r.deliveries} times)" if r.deliveries > 1 else ""))


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@click.option("--all", "show_all", is_flag=True, help="Include sent mail.")
@config_option
@click.pass_context
def outbox(ctx: click.Context, as_json: bool, show_all: bool) -> None:
    """Outgoing mail that is queued, retrying, dead or bounced, with the reason and the next
    attempt (--all: sent and superseded too), times the org's (or --tz).
    `nudger outbox retry ID` sends one again."""
    if ctx.invoked_subcommand is not None:
        return
    from nudger.ops.local_time import when as local

    statuses = ("queued", "sending", "sent", "dead", "bounced", "superseded") if show_all else (
        "queued", "sending", "dead", "bounced")
    rows = _store(ctx).outbox(statuses)
    if as_json:
        emit_json([{**r, "state": _outbox_state(r)} for r in rows])
        return
    if not rows:
        click.echo("outbox is empty" if show_all else
                   "outbox is empty: nothing queued, retrying or failed (--all shows sent mail too)")
        return
    config = get_config(ctx)
    assert config is not None
    zone, now = _zone(ctx, config), datetime.now(UTC)
    from nudger.ops.table import table

    lines, reasons = [], []
    for r in rows:
        state = _outbox_state(r)
        at = r["failed_at"] or r["sent"]
        when = f"next {local(r['send_after'], zone, now)}" if r["status"] == "queued" else (
            local(at, zone, now) if at else "")
        label = "last answer" if state in ("retrying", "queued") else "reason"  # queued: the relay out of reach
        reasons.append(f"      {label}: {r['last_error']}" if (
            state in ("retrying", "queued", "dead", "bounced") and r["last_error"]) else "")
        tries = f" after {r['attempts']} attempt{'s' * (r['attempts'] != 1)}" if state in ("retrying", "dead") else ""
        lines.append((str(r["id"]), state, r["kind"], r["recipient"], when + tries, r["subject"]))
    header, *body = table(("id", "state", "kind", "to", "when", "subject"), lines)
    click.echo(header)
    for line, reason in zip(body, reasons, strict=True):
        click.echo(line + (f"\n{reason}" if reason else ""))


def _outbox_state(row: dict[str, Any]) -> str:
    """What `outbox` shows: a queued row that has failed before is 'retrying'."""
    if row["status"] == "queued" and row["attempts"] and row["last_error"]:
        return "retrying"
    return str(row["status"])


@outbox.command("retry")
@click.argument("outbox_id", type=ID, metavar="ID")
@config_option
@now_option
@click.pass_context
def outbox_retry(ctx: click.Context, outbox_id: int, now_text: str | None) -> None:
    """Send one dead, bounced or waiting email again with the next run (same Message-ID)."""
    config = get_config(ctx)
    now = parse_now(now_text, config)
    row = _store(ctx).requeue(outbox_id, now)
    if row is None:
        raise NotFound(f"no outgoing email #{outbox_id}; `nudger outbox --all` lists them")
    if not row["requeued"] and not row["has_raw"]:
        raise click.ClickException(f"#{outbox_id}'s content was dropped after [outbound] keep_sent_days; "
                                   "it cannot be sent again")
    if not row["requeued"]:
        raise click.ClickException(f"#{outbox_id} is {row['status']}, not dead, bounced or waiting: nothing to retry")
    click.echo(f"#{outbox_id} to {row['recipient']} queued again; the next run sends it")


@cli.group(invoke_without_command=True)
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@config_option
@click.pass_context
def quarantine(ctx: click.Context, as_json: bool) -> None:
    """Messages nudger could not handle, kept whole with their reason.

    With no subcommand, lists them: id, time, status, sender, subject and reason.
    """
    if ctx.invoked_subcommand is not None:
        return
    from nudger.ops.local_time import when
    from nudger.ops.quarantine import held_messages

    rows = held_messages(_store(ctx))
    if as_json:
        emit_json([r.as_json() for r in rows])
        return
    if not rows:
        click.echo("quarantine is empty")
    config = get_config(ctx)
    assert config is not None
    zone, now = _zone(ctx, config), datetime.now(UTC)
    for r in rows:
        click.echo(f"{r.id:<4} {when(r.at, zone, now)}  {r.status:<8} {r.sender or '(no sender)'}: "
                   f"{r.subject or '(no subject)'}")
        click.echo(f"     {r.size:,} bytes from {r.source_key or '?'}; {r.reason}")


def _held(ctx: click.Context, quarantine_id: int) -> Any:
    from nudger.ops.quarantine import held_message

    message = held_message(_store(ctx), quarantine_id)
    if message is None:
        raise NotFound(f"no quarantined message #{quarantine_id} (see `nudger quarantine`)")
    return message


@quarantine.command("show")
@click.argument("quarantine_id", type=ID, metavar="ID")
@click.option("--json", "as_json", is_flag=True, help="As JSON.")
@config_option
@click.pass_context
def quarantine_show(ctx: click.Context, quarantine_id: int, as_json: bool) -> None:
    """One quarantined message: its headers, why it was kept, and the error detail if any."""
    message = _held(ctx, quarantine_id)
    if as_json:
        emit_json({**message.held.as_json(), "headers": message.headers, "detail": message.detail})
        return
    from nudger.ops.local_time import when

    held = message.held
    config = get_config(ctx)
    assert config is not None
    kept = when(held.at, _zone(ctx, config), datetime.now(UTC))
    click.echo(f"#{held.id} {held.status}, kept {kept} ({held.size:,} bytes, from {held.source_key or '?'})")
    click.echo(f"reason: {held.reason}")
    click.echo("")
    for name, value in message.headers:
        click.echo(f"{name}: {value}")
    if message.detail:
        click.echo("")
        click.echo(message.detail.rstrip())


@quarantine.command("retry")
@click.argument("quarantine_id", type=ID, metavar="ID")
@config_option
@now_option
@click.pass_context
def quarantine_retry(ctx: click.Context, quarantine_id: int, now_text: str | None) -> None:
    """Read a held message again through the normal path (after fixing its cause).

    It is read as new, not skipped as already seen; its answers go out now if no run is busy.
    """
    from nudger.lock import run_lock
    from nudger.pipeline import RunSummary, deliver_due, guarded, retry_quarantined

    config = get_config(ctx)
    assert config is not None
    now = parse_now(now_text, config)
    with open_runtime(config, now, os.environ) as rt:
        summary = RunSummary()
        outcome = retry_quarantined(rt, quarantine_id, summary)
        if outcome is None:
            raise NotFound(f"no held message #{quarantine_id} (see `nudger quarantine`)")
        with run_lock(config.database_path) as held:
            if held:
                with open_transport(config) as transport:
                    guarded(summary, "deliver", lambda: deliver_due(rt, transport, summary))
    click.echo(f"#{quarantine_id}: {outcome} · {summary.line()}")


@quarantine.command("drop")
@click.argument("quarantine_id", type=ID, metavar="ID")
@config_option
@click.pass_context
def quarantine_drop(ctx: click.Context, quarantine_id: int) -> None:
    """Delete a held message's bytes for good; its record stays (status dropped)."""
    if not _store(ctx).drop_quarantined(quarantine_id):
        raise NotFound(f"no held message #{quarantine_id} (see `nudger quarantine`)")
    click.echo(f"#{quarantine_id}: dropped")


@quarantine.command("export")
@click.argument("quarantine_id", type=ID, metavar="ID")
@click.argument("target", type=click.Path(path_type=Path), default=".")
@config_option
@click.pass_context
def quarantine_export(ctx: click.Context, quarantine_id: int, target: Path) -> None:
    """Write a quarantined message, exactly as it came, to TARGET (a file, or a directory for
    quarantine-ID.eml; default: here). Written 0600; an existing file is never overwritten."""
    from nudger.ops.quarantine import export_eml

    message = _held(ctx, quarantine_id)
    if not message.raw:
        raise click.ClickException(f"#{quarantine_id} was dropped: its bytes are gone")
    try:
        path = export_eml(message, target)
    except FileExistsError as exc:
        raise click.ClickException(f"{exc.filename} exists; not overwritten") from exc
    click.echo(str(path))


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default=".")
@click.option("--domain", default=None,
              help="Your email domain: the one people's addresses end in (asked for when not given).")
def init(directory: Path, domain: str | None) -> None:
    """Write a commented config and the Maildirs, and say what to do next."""
    import re
    import sys

    from nudger.config.domains import is_placeholder
    from nudger.ops.workspace import init_workspace

    fresh = not (directory / "config" / "nudger.toml").exists()
    if domain is None and fresh:
        if not sys.stdin.isatty():
            raise click.UsageError("init needs --domain: the domain your people's addresses end in "
                                   "(nudger's address will be handoffs@DOMAIN), e.g. --domain acme.com")
        domain = click.prompt("Your email domain (people's addresses end @...)").strip()
    domain = (domain or "").strip().lower().lstrip("@")
    if fresh and not re.fullmatch(r"[a-z0-9](?:[a-z0-9-]*[a-z0-9])?(?:\.[a-z0-9](?:[a-z0-9-]*[a-z0-9])?)+", domain):
        raise click.BadParameter(f"{domain!r} is not a domain like acme.com", param_hint="--domain")
    if fresh and is_placeholder(domain):
        raise click.BadParameter(
            f"{domain!r} is a placeholder, not your domain: mail from handoffs@{domain} could never be "
            "answered, so nothing was written; give the domain your people's addresses end in, "
            "e.g. --domain acme.com", param_hint="--domain")
    for line in init_workspace(directory, domain):
        click.echo(line)


@cli.command()
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path), default="nudger-demo")
def demo(directory: Path) -> None:
    """Play a small sales org's fortnight in DIRECTORY: forwards, acks, done, thanks, and
    the reminders, overdue alerts, escalation and digests when Legal never answers.

    Creates the workspace (config, Maildirs, database), feeds realistic emails in time
    order and runs the real pipeline whenever something falls due. Prints each step at the
    local time of the person it concerns, each email with why it went; writes the timeline
    with every email to DIRECTORY/mail/index.html; ends with commands to try next, by the
    full path of this nudger. Safe to run again: it starts the story afresh.
    """
    from nudger.ops.demo import run_demo

    run_demo(directory, click.echo)


@cli.command()
@config_option
@click.pass_context
def doctor(ctx: click.Context) -> None:
    """Check what the next run needs, as this user; say how to fix each problem.

    Every check is listed in docs/operating.md. A failure ([FAIL], exit 1) means the next
    run fails the same way; a warning means it works but people will not get what they
    expect (exit 0). Run it as the user cron runs nudger as.
    """
    from nudger.ops.doctor import checkup

    config = get_config(ctx, log_must_open=False)
    assert config is not None
    failures = warnings = 0
    for found in checkup(config, os.environ, _zone(ctx, config)):
        if found.level == "ok":
            click.echo(f"[ok] {found.what}")
        elif found.level == "warning":
            click.echo(f"warning: {found.what}\n         fix: {found.fix}")
            warnings += 1
        else:
            click.echo(f"[FAIL] {found.what}\n       fix: {found.fix}")
            failures += 1
    told = [f"{n} {word}{'s' if n > 1 else ''}" for n, word in ((failures, "failure"), (warnings, "warning")) if n]
    click.echo(f"doctor: {', '.join(told) if told else 'all ok'}" +
               (": the next run will fail until the failures are fixed" if failures else ""))
    if failures:
        raise click.exceptions.Exit(1)
