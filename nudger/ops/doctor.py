"""``nudger doctor``: check each part a run needs, and say how to fix what fails."""

from __future__ import annotations

from collections.abc import Iterator, Mapping

from nudger.config import Config
from nudger.maildir import ensure_maildir


def checkup(config: Config, env: Mapping[str, str]) -> Iterator[tuple[bool, str, str]]:
    """(ok, what was checked, how to fix it) for each part nudger needs."""
    from nudger.config import load_secrets
    from nudger.state.store import Store

    yield True, f"config {config.source or '(defaults)'} loads", ""
    try:
        store = Store.open(config.database_path)
        store.close()
        yield True, f"database {config.database_path} opens and is migrated", ""
    except Exception as exc:  # noqa: BLE001 - doctor reports every failure
        yield False, f"database {config.database_path}: {exc}", "check the folder exists and is writable"
    try:
        load_secrets(config, env)
        yield True, "reply-token secret available", ""
    except Exception as exc:  # noqa: BLE001
        yield False, f"reply-token secret: {exc}", f"set ${config.security.secret_env} (16+ characters)"
    if config.inbound.source == "imap":
        yield from _check_imap(config, env)
    if config.outbound.transport == "smtp":
        yield from _check_smtp(config, env)
    for label, kind, path in (
        ("inbound", config.inbound.source, config.inbound.path),
        ("outbound", config.outbound.transport, config.outbound.path),
    ):
        if (label == "inbound" and kind == "imap") or (label == "outbound" and kind == "smtp"):
            continue  # checked above
        if kind == "maildir" and path is not None:
            try:
                ensure_maildir(path)
                yield True, f"{label} Maildir {path} is usable", ""
            except OSError as exc:
                yield False, f"{label} Maildir {path}: {exc.strerror}", "create it or fix its permissions"
        else:
            yield False, f"{label} {kind}: not available in this version", f"set {label} to maildir"
    yield from _check_templates(config)
    yield from _check_bounces(config)
    if config.org.holidays:
        from nudger.core.business_time import check_holidays

        try:
            check_holidays(config.org.holidays)
            yield True, f"holidays {config.org.holidays} known", ""
        except Exception as exc:  # noqa: BLE001
            yield False, f"holidays {config.org.holidays}: {exc}", "use a country code such as US or DE"


def _check_imap(config: Config, env: Mapping[str, str]) -> Iterator[tuple[bool, str, str]]:
    """Log in, open the folder, make sure both destination folders exist (creating them, as the
    run would): "ok" means the next run can read and move mail."""
    from nudger.app import server_password
    from nudger.errors import ConfigError, TemporaryFailure
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
    from nudger.errors import ConfigError
    from nudger.outbound.smtp import probe

    server = config.outbound.server
    try:
        settings = smtp_settings(config, env)
    except ConfigError as exc:
        yield False, f"SMTP {server.host}:{server.port}: {exc}", \
            f"export {server.password_env}=<the password of {server.username}>"
        return
    yield from probe(settings)


def _check_bounces(config: Config) -> Iterator[tuple[bool, str, str]]:
    """Addresses whose mail was refused for good: nobody there reads what nudger sends."""
    from nudger.state.store import Store

    try:
        store = Store.open(config.database_path)
    except Exception:  # noqa: BLE001 - the database check above already said why
        return
    try:
        bouncing = store.hard_bouncing()
    finally:
        store.close()
    for b in bouncing:
        who = config.person_by_email(b["address"])
        yield False, (f"{b['address']} hard-bounces: outgoing #{b['outbox_id']} on {b['at']}: {b['reason']}"), (
            f"correct {who.handle}'s email in [[people]] and reassign what they own" if who else
            "correct the address; it clears when mail from it arrives") + \
            f"; `nudger outbox retry {b['outbox_id']}` sends it again"
    if not bouncing:
        yield True, "no address hard-bounces", ""


def _check_templates(config: Config) -> Iterator[tuple[bool, str, str]]:
    """Every kind in the registry renders with the configured templates (and their overrides),
    its context built for real against an empty database."""
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
    for kind in KINDS.values():
        notice = Notice(kind.name, "someone@example.com", 1 if kind.about_a_handoff else None,
                        context=dict(context))
        about = sample if notice.handoff_id else None
        try:
            extra = kind.context(KindInput(notice, about, config, empty)) if kind.context else None
            renderer.render(notice, about, f"doctor:{kind.name}", now, extra=extra)
        except Exception as exc:  # noqa: BLE001
            broken.append(f"{kind.name}: {exc}")
    empty.close()
    if broken:
        yield False, "templates: " + "; ".join(broken), "fix or remove the override in [templates] path"
    else:
        yield True, f"all {len(KINDS)} email templates render", ""
