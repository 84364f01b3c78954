"""Configuration: one TOML file, read once into frozen dataclasses.

``model`` holds the typed records, ``reader`` turns TOML into them (every mistake is a
one-line `ConfigError` naming the file and the key, exit 78), ``keys`` finds the reply-token
key, ``starter`` writes the config `nudger init` leaves behind.
"""

from nudger.config.keys import key_file_path, load_secrets
from nudger.config.model import (
    SCHEMA,
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
from nudger.config.reader import config_from_dict, default_config, find_config_path, load_config
from nudger.config.starter import known_keys, starter_config_text

__all__ = [
    "SCHEMA", "Config", "InboundConfig", "LimitsConfig", "LoggingConfig", "NudgesConfig",
    "OrgConfig", "OutboundConfig", "Person", "SecurityConfig", "ServerConfig", "Team",
    "config_from_dict", "default_config", "find_config_path", "key_file_path", "known_keys",
    "load_config", "load_secrets", "starter_config_text",
]
