"""The config loader: defaults, paths, teams, lookups, secrets, and one test per kind of
mistake an admin can make (each must name the file and the key)."""

import dataclasses
import os
import re
import stat
import tomllib
from pathlib import Path

import pytest

from nudger.config import (
    SCHEMA,
    Config,
    ServerConfig,
    config_from_dict,
    default_config,
    find_config_path,
    key_file_path,
    known_keys,
    load_config,
    load_secrets,
    starter_config_text,
)
from nudger.errors import ConfigError

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "config" / "nudger.example.toml"

ORG = """\
[org]
domain = "acme.test"
"""

PEOPLE = ORG + """
[[people]]
email = "sam@acme.test"
team = "sales"
manager = "maria"

[[people]]
email = "Maria@Acme.test"
name = "Maria Boss"
team = "sales"

[[people]]
email = "dana@acme.test"
team = "accounting"

[[people]]
email = "lee@acme.test"
team = "accounting"
"""


def write(tmp_path: Path, text: str, name: str = "nudger.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def load(tmp_path: Path, text: str) -> Config:
    return load_config(write(tmp_path, text), env={})


def error(tmp_path: Path, text: str) -> str:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as info:
        load_config(path, env={})
    message = str(info.value)
    assert message.startswith(f"{path}: "), message
    assert "\n" not in message
    return message


# --- the shipped files --------------------------------------------------------------------

def test_example_file_loads_and_describes_the_example_org():
    config = load_config(EXAMPLE, env={})
    assert config.org.domain == "acme.test"
    assert [p.handle for p in config.people] == ["sam", "maria", "dana", "lee"]
    assert list(config.teams) == ["sales", "accounting"]
    assert config.team_named("finance").lead == "dana"


def _sections(text: str) -> dict[str, str]:
    """Example text split by table header; [[people]] and [teams.x] blocks are merged."""
    blocks: dict[str, str] = {}
    current = ""
    for line in text.splitlines():
        header = re.match(r"^\[\[?([a-z_]+)[.\]]", line)
        if header:
            current = header[1]
        blocks[current] = blocks.get(current, "") + line + "\n"
    return blocks


# That the example documents every key the reader reads: tests/test_docs.py.


def test_every_example_key_is_preceded_by_a_comment():
    lines = _sections(EXAMPLE.read_text())
    for section, keys in SCHEMA.items():
        for key in keys:
            block = lines[section].splitlines()
            at = next(i for i, line in enumerate(block) if re.match(rf"^#? ?{key} = ", line))
            assert block[at - 1].startswith("#") or "#" in block[at], f"{section}.{key}"


def test_known_keys_come_from_the_schema():
    assert "org.domain" in known_keys()
    assert "people.manager" in known_keys()
    assert "teams.*.min_lead_days" in known_keys()
    assert len(known_keys()) == sum(len(keys) for keys in SCHEMA.values())


def test_local_config_loads_with_paths_beside_it():
    config = load_config(ROOT / "config" / "nudger.toml", env={})
    assert config.database_path == ROOT / "config" / "nudger.db"
    assert config.inbound.path == ROOT / "config" / "mail" / "inbox"
    assert config.outbound.path == ROOT / "config" / "mail" / "outbox"


def test_starter_config_loads(tmp_path):
    text = starter_config_text("acme.test")
    config = load(tmp_path, text)
    assert config.org.domain == "acme.test"
    assert config.inbound.source == "maildir" and config.outbound.transport == "maildir"
    assert "[[people]]" in text  # examples are there, commented out
    assert config.people == ()


# --- defaults -------------------------------------------------------------------------------

def test_only_the_domain_is_required(tmp_path):
    config = load(tmp_path, ORG)
    org = config.org
    assert org.handoff_address == "handoffs@acme.test"
    assert (org.timezone, org.date_order, org.holidays, org.admin) == ("UTC", "MDY", None, None)
    assert org.business_days == ("mon", "tue", "wed", "thu", "fri")
    assert org.business_hours == ("08:00", "18:00")
    assert config.database_path == tmp_path / "nudger.db"
    assert config.inbound == dataclasses.replace(
        config.inbound, source="maildir", path=tmp_path / "mail" / "inbox",
        server=ServerConfig(host=None, port=None, username=None, password_env=None, tls="ssl"),
        folder="INBOX", processed_folder="Processed")
    out = config.outbound
    assert (out.transport, out.path, out.server.tls, out.concurrency, out.from_name) == (
        "maildir", tmp_path / "mail" / "outbox", "ssl", 4, "Nudger")
    sec = config.security
    assert (sec.secret_env, sec.previous_secret_env) == ("NUDGER_SECRET", "NUDGER_SECRET_OLD")
    assert sec.allowed_domains == ("acme.test",) and sec.trusted_authserv_ids == ()
    assert (config.limits.max_message_mb, config.limits.attach_max_mb) == (25, 10)
    assert (config.logging.path, config.logging.level) == (None, "info")
    n = config.nudges
    assert (n.ack_reminder_hours, n.overdue_repeat_days, n.escalate_after_days) == (4, 2, 3)
    assert (n.digest_time, n.weekly_day, n.appreciation_day) == ("08:00", "mon", "fri")
    assert config.templates_path is None
    assert config.people == () and dict(config.teams) == {}
    assert config.source == tmp_path / "nudger.toml"


def test_default_config_without_a_file():
    config = default_config("example.org")
    assert config.org.handoff_address == "handoffs@example.org"
    assert config.source is None
    assert config.database_path == Path("nudger.db")  # relative to the working directory
    assert config.handoff_local == "handoffs" and config.handoff_domain == "example.org"


def test_person_defaults_come_from_the_email_and_org(tmp_path):
    config = load(tmp_path, ORG.replace('"acme.test"', '"acme.test"\ntimezone = "Europe/Berlin"')
                  + '[[people]]\nemail = "Lee.Ledger@ACME.test"\n')
    (lee,) = config.people
    assert lee.email == "lee.ledger@acme.test"
    assert (lee.name, lee.handle) == ("Lee.Ledger", "lee.ledger")
    assert (lee.team, lee.manager, lee.digest, lee.timezone) == (None, None, "none",
                                                                 "Europe/Berlin")


def test_values_are_normalised(tmp_path):
    config = load(tmp_path, """
[org]
domain = "ACME.test"
handoff_address = "Desk@Acme.Test"
business_days = ["Monday", "tues", "WED"]
business_hours = ["8:30", "17:00"]
holidays = "us-ca"
date_order = "dmy"
[nudges]
weekly_day = "Friday"
digest_time = "7:05"
[logging]
level = "DEBUG"
""")
    assert config.org.domain == "acme.test" and config.org.handoff_address == "desk@acme.test"
    assert config.org.business_days == ("mon", "tue", "wed")
    assert config.org.business_hours == ("08:30", "17:00")
    assert (config.org.holiday_country, config.org.holiday_subdivision) == ("US", "CA")
    assert config.org.date_order == "DMY"
    assert (config.nudges.weekly_day, config.nudges.digest_time) == ("fri", "07:05")
    assert config.logging.level == "debug"


def test_remote_mailboxes_get_default_ports(tmp_path):
    config = load(tmp_path, ORG + """
[inbound]
source = "imap"
host = "imap.acme.test"
username = "handoffs"
password_env = "IMAP_PW"
[outbound]
transport = "smtp"
host = "smtp.acme.test"
tls = "starttls"
""")
    assert (config.inbound.server.port, config.inbound.path) == (993, None)
    assert (config.outbound.server.port, config.outbound.path, config.outbound.server.username) == (
        587, None, None)


@pytest.mark.parametrize(("protocol", "tls", "port"), [
    ("imap", "ssl", 993), ("imap", "starttls", 143), ("imap", "none", 143),
    ("smtp", "ssl", 465), ("smtp", "starttls", 587), ("smtp", "none", 25),
])
def test_default_port_by_protocol_and_tls(tmp_path, protocol, tls, port):
    assert ServerConfig.default_port(protocol, tls) == port
    section = ('[inbound]\nsource = "imap"\nhost = "h"\nusername = "u"\npassword_env = "P"\n'
               if protocol == "imap" else '[outbound]\ntransport = "smtp"\nhost = "h"\n')

    def server(text: str) -> ServerConfig:
        config = load(tmp_path, ORG + section + text)
        return config.inbound.server if protocol == "imap" else config.outbound.server

    assert server(f'tls = "{tls}"\n').port == port
    assert server(f'tls = "{tls}"\nport = 2525\n').port == 2525  # a port written down wins


def test_a_maildir_has_no_port(tmp_path):
    config = load(tmp_path, ORG)
    assert (config.inbound.server.port, config.outbound.server.port) == (None, None)


def test_previous_secret_env_can_be_turned_off(tmp_path):
    config = load(tmp_path, ORG + '[security]\nprevious_secret_env = ""\n')
    assert config.security.previous_secret_env is None


def test_config_is_frozen_and_replaceable(tmp_path):
    config = load(tmp_path, ORG)
    with pytest.raises(dataclasses.FrozenInstanceError):
        config.org = None
    changed = dataclasses.replace(config, nudges=dataclasses.replace(config.nudges,
                                                                    digest_time="09:00"))
    assert changed.nudges.digest_time == "09:00" and config.nudges.digest_time == "08:00"


# --- paths ----------------------------------------------------------------------------------

def test_relative_paths_are_relative_to_the_config_file(tmp_path, monkeypatch):
    folder = tmp_path / "etc"
    folder.mkdir()
    monkeypatch.chdir(tmp_path)
    config = load_config(write(folder, ORG + """
[database]
path = "state/nudger.db"
[inbound]
path = "in"
[outbound]
path = "/srv/out"
[logging]
path = "../log/nudger.log"
[templates]
path = "tpl"
"""), env={})
    assert config.database_path == folder / "state" / "nudger.db"
    assert config.inbound.path == folder / "in"
    assert config.outbound.path == Path("/srv/out")
    assert config.logging.path == folder / ".." / "log" / "nudger.log"
    assert config.templates_path == folder / "tpl"


def test_relative_config_path_still_resolves_absolutely(tmp_path, monkeypatch):
    write(tmp_path, ORG)
    monkeypatch.chdir(tmp_path)
    config = load_config("nudger.toml", env={})
    assert config.database_path == tmp_path / "nudger.db"
    assert config.source == Path("nudger.toml")


def test_home_paths_use_the_given_environment(tmp_path):
    config = load_config(write(tmp_path, ORG + '[database]\npath = "~/nudger/n.db"\n'),
                         env={"HOME": "/home/nudge"})
    assert config.database_path == Path("/home/nudge/nudger/n.db")


def test_config_from_dict_base_dir(tmp_path):
    config = config_from_dict({"org": {"domain": "acme.test"}}, base_dir=tmp_path)
    assert config.database_path == tmp_path / "nudger.db"


# --- teams and lookups ----------------------------------------------------------------------

def test_implicit_teams_have_the_defaults(tmp_path):
    config = load(tmp_path, PEOPLE)
    assert list(config.teams) == ["sales", "accounting"]
    sales = config.teams["sales"]
    assert sales == type(sales)("sales", (), None, ("sam", "maria"), "lead", 0, 3, declared=False)
    assert config.teams["accounting"].members == ("dana", "lee")


def test_team_members_default_to_the_people_of_the_team(tmp_path):
    config = load(tmp_path, PEOPLE + """
[teams.accounting]
aliases = ["Finance", "ar"]
lead = "dana"
routing = "round_robin"
min_lead_days = 7
""")
    accounting = config.teams["accounting"]
    assert accounting.members == ("dana", "lee")
    assert (accounting.aliases, accounting.routing, accounting.min_lead_days,
            accounting.turnaround_days) == (("finance", "ar"), "round_robin", 7, 3)
    assert list(config.teams) == ["accounting", "sales"]  # explicit first, then implicit


def test_a_person_may_name_their_team_by_alias(tmp_path):
    config = load(tmp_path, PEOPLE.replace('team = "accounting"', 'team = "Finance"', 1)
                  + '[teams.accounting]\naliases = ["finance"]\n')
    dana = config.person_by_handle("dana")
    assert dana.team == "accounting"
    assert config.team_of(dana).name == "accounting"


def test_lookups_are_case_insensitive(tmp_path):
    config = load(tmp_path, PEOPLE + '[teams.accounting]\naliases = ["finance", "ar"]\n')
    maria = config.person_by_email("MARIA@acme.TEST ")
    assert maria.email == "maria@acme.test" and maria.name == "Maria Boss"
    assert config.person_by_handle("Maria") is maria
    assert config.person_by_handle("@maria") is maria
    assert config.person_by_handle("mara") is None
    assert config.person_by_email("customer@example.com") is None
    assert config.team_named("AR") is config.teams["accounting"]
    assert config.team_named("@Accounting") is config.teams["accounting"]
    assert config.team_named("Sales") is config.teams["sales"]
    assert config.team_named("legal") is None
    assert config.team_of(maria) is config.teams["sales"]


def test_team_of_falls_back_to_membership(tmp_path):
    config = load(tmp_path, ORG + """
[[people]]
email = "kim@acme.test"
[teams.support]
members = ["kim"]
""")
    kim = config.person_by_handle("kim")
    assert kim.team is None
    assert config.team_of(kim).name == "support"
    assert config.team_of(dataclasses.replace(kim, handle="nobody")) is None


def test_handoff_address_parts(tmp_path):
    config = load(tmp_path, ORG + 'handoff_address = "work@mail.acme.test"\n')
    assert (config.handoff_local, config.handoff_domain) == ("work", "mail.acme.test")


# --- errors: each names the file and the key ------------------------------------------------

def test_config_error_exits_78():
    assert ConfigError.exit_code == 78


def test_unknown_top_level_key_suggests_the_right_one(tmp_path):
    message = error(tmp_path, ORG + "[limts]\nmax_message_mb = 5\n")
    assert message.endswith('unknown key "limts" (did you mean "limits"?)')


@pytest.mark.parametrize("text, expected", [
    (ORG + 'domian = "x"\n', 'unknown key "org.domian" (did you mean "org.domain"?)'),
    (PEOPLE + '[[people]]\nemail = "x@acme.test"\nemial = "y"\n',
     'unknown key "people[4].emial" (did you mean "people[4].email"?)'),
    (PEOPLE + "[teams.sales]\nleed = \"maria\"\n",
     'unknown key "teams.sales.leed" (did you mean "teams.sales.lead"?)'),
    (ORG + "[nudges]\nzzz = 1\n", 'unknown key "nudges.zzz" (known keys: ack_reminder_hours'),
])
def test_unknown_keys_at_any_level(tmp_path, text, expected):
    assert expected in error(tmp_path, text)


@pytest.mark.parametrize("text, expected", [
    (ORG + '[limits]\nmax_message_mb = "25"\n',
     'limits.max_message_mb: expected a number, got "25" (a string)'),
    (ORG + "[nudges]\noverdue_repeat_days = 1.5\n",
     "nudges.overdue_repeat_days: expected a whole number, got 1.5 (a number)"),
    (ORG + "[outbound]\nconcurrency = true\n",
     "outbound.concurrency: expected a whole number, got True (true/false)"),
    (ORG + 'business_days = "mon"\n', 'org.business_days: expected a list of strings'),
    (ORG + "business_days = [1]\n", "org.business_days[0]: expected a non-empty string"),
    ('org = "acme.test"\n', "org: expected a table, got a string"),
    (ORG + '[people]\nemail = "sam@acme.test"\n', "people: expected [[people]] tables"),
    ('teams = ["sales"]\n' + ORG, "teams: expected [teams.<name>] tables"),
    (ORG + 'teams = ["sales"]\n', 'unknown key "org.teams"'),
    (ORG + "[teams]\nsales = 1\n", "teams.sales: expected a table, got a whole number"),
    (ORG + "[outbound]\nconcurrency = 0\n", "outbound.concurrency: must be >= 1, got 0"),
    (ORG + "[inbound]\nport = 70000\n", "inbound.port: must be between 1 and 65535"),
    (ORG + "[limits]\nmax_message_mb = 0\n", "limits.max_message_mb: must be more than 0"),
    (ORG + "[limits]\nattach_max_mb = -1\n", "limits.attach_max_mb: must be at least 0"),
    (ORG + 'from_name = "x"\n', 'unknown key "org.from_name"'),
    (ORG + '[outbound]\nfrom_name = "Nudger\\r\\nBcc: x@evil.test"\n',
     r'outbound.from_name: "Nudger\r\nBcc: x@evil.test" contains a control character'),
    (ORG + '[outbound]\nfrom_name = "  "\n', "outbound.from_name: must not be empty"),
])
def test_wrong_types_and_ranges(tmp_path, text, expected):
    assert expected in error(tmp_path, text)


@pytest.mark.parametrize("text, expected", [
    (PEOPLE.replace("manager", 'digest = "dialy"\nmanager'),
     'people[0].digest: "dialy" is not one of: daily, weekly, none (did you mean "daily"?)'),
    (PEOPLE + '[teams.sales]\nrouting = "roundrobin"\n',
     'teams.sales.routing: "roundrobin" is not one of: lead, round_robin '
     '(did you mean "round_robin"?)'),
    (ORG + '[inbound]\nsource = "pop3"\n', 'inbound.source: "pop3" is not one of: maildir, imap'),
    (ORG + '[outbound]\ntransport = "smtps"\n',
     'outbound.transport: "smtps" is not one of: maildir, smtp (did you mean "smtp"?)'),
    (ORG + '[outbound]\ntls = "tls"\n', 'outbound.tls: "tls" is not one of: ssl, starttls, none'),
    (ORG + 'date_order = "YMD"\n', 'org.date_order: "YMD" is not one of: MDY, DMY'),
    (ORG + 'business_days = ["mon", "thurz"]\n', 'org.business_days[1]: "thurz" is not one of'),
    (ORG + 'business_days = ["mon", "Monday"]\n', "org.business_days: names a day twice"),
    (ORG + "business_days = []\n", "org.business_days: must name at least one day"),
    (ORG + '[nudges]\nweekly_day = "mo"\n', 'nudges.weekly_day: "mo" is not one of: mon'),
    (ORG + '[nudges]\nappreciation_day = "friyay"\n', "nudges.appreciation_day: "),
    (ORG + '[nudges]\ndigest_time = "8am"\n', 'nudges.digest_time: "8am" is not a time like'),
    (ORG + 'business_hours = ["08:00", "24:00"]\n', 'org.business_hours[1]: "24:00" is not a'),
    (ORG + 'business_hours = ["18:00", "08:00"]\n',
     "org.business_hours: start 18:00 must be before end 08:00"),
    (ORG + 'business_hours = ["08:00"]\n', 'org.business_hours: expected ["start", "end"]'),
    (ORG + 'timezone = "America/Chicgo"\n',
     'org.timezone: "America/Chicgo" is not a known timezone (did you mean "America/Chicago"?)'),
    (ORG + 'timezone = "../../etc/passwd"\n', 'org.timezone: "../../etc/passwd" is not a known'),
    (PEOPLE.replace("manager", 'timezone = "Mars/Base"\nmanager'),
     'people[0].timezone: "Mars/Base" is not a known timezone'),
    (ORG + 'handoff_address = "handoffs"\n',
     'org.handoff_address: "handoffs" is not an email address'),
    (ORG + 'handoff_address = "hand+offs@acme.test"\n', "org.handoff_address: local part"),
    (ORG + '[[people]]\nemail = "sam at acme.test"\n',
     'people[0].email: "sam at acme.test" is not an email address'),
    (ORG + '[[people]]\nemail = "handoffs@acme.test"\n', "people[0].email: "),
    (ORG + '[[people]]\nname = "Sam"\n', "people[0].email: required"),
    (ORG + "[[people]]\nemail = \"o'brien@acme.test\"\n",
     "people[0].handle: \"o'brien\" (from the email) is not a usable handle"),
    (ORG + '[[people]]\nemail = "sam@acme.test"\nhandle = "sam."\n',
     'people[0].handle: "sam." is not a usable handle'),
    (ORG + '[security]\nallowed_domains = ["acme.test", "bad domain"]\n',
     'security.allowed_domains[1]: "bad domain" is not a domain name'),
    (ORG + 'holidays = "United States"\n', 'org.holidays: "UNITED STATES" is not a country'),
    (ORG + '[logging]\nlevel = "warn"\n',
     'logging.level: "warn" is not one of: debug, info, warning, error '
     '(did you mean "warning"?)'),
])
def test_bad_values_name_the_key(tmp_path, text, expected):
    assert expected in error(tmp_path, text)


@pytest.mark.parametrize("text, expected", [
    (PEOPLE.replace('manager = "maria"', 'manager = "mara"'),
     'people[0].manager: "mara" names no person (did you mean "maria"? '
     "handles: dana, lee, maria, sam)"),
    (PEOPLE.replace('manager = "maria"', 'manager = "sam"'),
     'people[0].manager: "sam" cannot be their own manager'),
    (PEOPLE.replace('domain = "acme.test"', 'domain = "acme.test"\nadmin = "boss"'),
     'org.admin: "boss" names no person (handles: dana, lee, maria, sam)'),
    (ORG + 'admin = "boss"\n', 'org.admin: "boss" names no person (handles: none; add'),
    (PEOPLE + '[teams.sales]\nlead = "mario"\n', 'teams.sales.lead: "mario" names no person'),
    (PEOPLE + '[teams.sales]\nmembers = ["sam", "kim"]\n',
     'teams.sales.members[1]: "kim" names no person'),
    (PEOPLE + '[teams.sales]\nmembers = ["sam", "sam"]\n',
     "teams.sales.members: lists a person twice"),
    (PEOPLE + '[teams.legal]\nrouting = "round_robin"\n',
     'teams.legal.members: routing = "round_robin" needs at least one member'),
    (PEOPLE + "[teams.legal]\nmin_lead_days = 2\n", 'teams.legal.lead: team "legal" has no lead'),
])
def test_handles_must_name_people(tmp_path, text, expected):
    assert expected in error(tmp_path, text)


@pytest.mark.parametrize("text, expected", [
    (PEOPLE + '[[people]]\nemail = "SAM@acme.test"\nhandle = "sammy"\n',
     'people[4].email: "sam@acme.test" is listed twice (also people[0])'),
    (PEOPLE + '[[people]]\nemail = "sam@other.test"\n',
     'people[4].handle: "sam" is already used by people[0]'),
    (PEOPLE + '[[people]]\nemail = "x@acme.test"\nhandle = "Maria"\n',
     'people[4].handle: "maria" is already used by people[1]'),
    (PEOPLE + '[teams.sam]\nlead = "maria"\n', 'teams.sam: "sam" is also a person\'s handle'),
    (PEOPLE + '[teams.sales]\n[teams.accounting]\naliases = ["sales"]\n',
     'teams.accounting.aliases[0]: "sales" is already the name or an alias of team'),
    (PEOPLE + '[teams.sales]\naliases = ["dana"]\n',
     'teams.sales.aliases[0]: "dana" is also a person\'s handle'),
    (PEOPLE + '[[people]]\nemail = "x@acme.test"\nteam = "lee"\n',
     'people[4].team: "lee" is also a person\'s handle'),
])
def test_duplicates_and_ambiguities(tmp_path, text, expected):
    assert expected in error(tmp_path, text)


@pytest.mark.parametrize("text, expected", [
    ("", 'org.domain: required (e.g. domain = "acme.test")'),
    ('[org]\ntimezone = "UTC"\n', "org.domain: required"),
    ('[org]\ndomain = "acme test"\n', 'org.domain: "acme test" is not a domain name'),
    (ORG + '[inbound]\nsource = "imap"\n', 'inbound.host: required when source = "imap"'),
    (ORG + '[inbound]\nsource = "imap"\nhost = "imap"\n',
     'inbound.username: required when source = "imap"'),
    (ORG + '[inbound]\nsource = "imap"\nhost = "imap"\nusername = "u"\n',
     "inbound.password_env: required with username"),
    (ORG + '[outbound]\ntransport = "smtp"\n', 'outbound.host: required when transport = "smtp"'),
    (ORG + '[outbound]\ntransport = "smtp"\nhost = "mx"\nusername = "u"\n',
     "outbound.password_env: required with username"),
])
def test_required_keys(tmp_path, text, expected):
    assert expected in error(tmp_path, text)


def test_invalid_toml_gives_the_line(tmp_path):
    message = error(tmp_path, ORG + "\n[limits]\nmax_message_mb = = 3\n")
    assert "invalid TOML" in message and "line 5" in message


def test_duplicate_table_is_invalid_toml(tmp_path):
    assert "invalid TOML" in error(tmp_path, ORG + ORG)


def test_not_utf8_gives_the_line(tmp_path):
    path = tmp_path / "nudger.toml"
    path.write_bytes(ORG.encode() + b'timezone = "\xff"\n')
    with pytest.raises(ConfigError, match=rf"^{re.escape(str(path))}: line 3: not valid UTF-8"):
        load_config(path, env={})


def test_missing_file(tmp_path):
    with pytest.raises(ConfigError, match=r"/nope\.toml: no such file"):
        load_config(tmp_path / "nope.toml")


def test_folder_instead_of_file(tmp_path):
    with pytest.raises(ConfigError, match="is a folder"):
        load_config(tmp_path)


def test_config_from_dict_names_a_source_even_without_a_file():
    with pytest.raises(ConfigError, match=r'^config: unknown key "nope"'):
        config_from_dict({"org": {"domain": "acme.test"}, "nope": 1})


# --- where the config is found --------------------------------------------------------------

def test_find_config_path_order(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert find_config_path(None, {}) is None
    (tmp_path / "config").mkdir()
    write(tmp_path / "config", ORG)
    assert find_config_path(None, {}) == Path("config/nudger.toml")
    assert find_config_path(None, {"NUDGER_CONFIG": "/etc/n.toml"}) == Path("/etc/n.toml")
    assert find_config_path("x.toml", {"NUDGER_CONFIG": "/etc/n.toml"}) == Path("x.toml")
    assert find_config_path(None, {"NUDGER_CONFIG": ""}) == Path("config/nudger.toml")


# --- secrets --------------------------------------------------------------------------------

@pytest.fixture
def db_config(tmp_path) -> Config:
    return load(tmp_path, ORG + '[database]\npath = "var/state/nudger.db"\n')


def test_secret_from_the_environment(db_config):
    current, previous = load_secrets(db_config, {"NUDGER_SECRET": "s" * 32})
    assert current == b"s" * 32 and previous == ()
    assert not key_file_path(db_config).exists()


def test_previous_secret_from_the_environment(db_config):
    env = {"NUDGER_SECRET": "new-secret-0123456789", "NUDGER_SECRET_OLD": "old-secret-0123456789"}
    assert load_secrets(db_config, env) == (b"new-secret-0123456789", (b"old-secret-0123456789",))


def test_secret_env_names_are_configurable(tmp_path):
    config = load(tmp_path, ORG + '[security]\nsecret_env = "K"\nprevious_secret_env = "K0"\n')
    assert load_secrets(config, {"K": "k" * 16, "K0": "o" * 16}) == (b"k" * 16, (b"o" * 16,))


def test_short_secret_is_refused(db_config):
    with pytest.raises(ConfigError, match=r"security\.secret_env: \$NUDGER_SECRET is 5 char"):
        load_secrets(db_config, {"NUDGER_SECRET": "short"})


def test_key_file_is_created_private_and_reused(db_config):
    path = key_file_path(db_config)
    assert path == db_config.database_path.parent / "nudger.key"
    current, previous = load_secrets(db_config, {})
    assert path.exists() and previous == ()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert len(current) == 32 and bytes.fromhex(path.read_text()) == current
    assert load_secrets(db_config, {}) == (current, ())
    assert [p.name for p in path.parent.iterdir()] == ["nudger.key"]  # no temp file left


def test_key_file_with_previous_env_secret(db_config):
    current, _ = load_secrets(db_config, {})
    assert load_secrets(db_config, {"NUDGER_SECRET_OLD": "o" * 20}) == (current, (b"o" * 20,))


def test_moving_to_an_env_secret_keeps_the_file_key_as_previous(db_config):
    file_key, _ = load_secrets(db_config, {})
    assert load_secrets(db_config, {"NUDGER_SECRET": "e" * 20}) == (b"e" * 20, (file_key,))


def test_key_file_readable_by_others_is_refused(db_config):
    load_secrets(db_config, {})
    os.chmod(key_file_path(db_config), 0o644)
    with pytest.raises(ConfigError, match="readable by others"):
        load_secrets(db_config, {})


def test_corrupt_key_file_is_refused(db_config):
    path = key_file_path(db_config)
    path.parent.mkdir(parents=True)
    path.write_text("not hex\n")
    path.chmod(0o600)
    with pytest.raises(ConfigError, match="not a nudger key file"):
        load_secrets(db_config, {})


def test_example_file_is_valid_toml_for_other_tools():
    data = tomllib.loads(EXAMPLE.read_text())
    assert data["org"]["domain"] == "acme.test"
