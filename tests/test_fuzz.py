"""Hostile and broken mail through the same path as a run: nothing escapes the message's own
handling, nothing is quarantined because our code raised, nothing is sent outside
allowed_domains. Bounded and derandomized (the "ci" profile); ``bench/fuzz.py`` runs the
same strategies for as long as you like."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import ORG_TOML
from fuzzmail import RunPath, corpus_messages, hostile_message, mutated
from hypothesis import HealthCheck, given, settings

FIXTURES = corpus_messages(Path(__file__).parent / "fixtures")
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]


@pytest.fixture(scope="module")
def run_path(tmp_path_factory: pytest.TempPathFactory) -> RunPath:
    return RunPath(tmp_path_factory.mktemp("fuzz"), ORG_TOML)


def check(run_path: RunPath, raw: bytes) -> None:
    verdict = run_path.feed(raw)
    assert not verdict.escaped, verdict.escaped
    assert not verdict.internal, verdict.internal
    assert not verdict.outsiders, verdict.outsiders
    assert verdict.outcome in ("created", "applied", "answered", "refused", "ignored", "quarantined", "duplicate")


@settings(max_examples=120, suppress_health_check=_SLOW_OK)
@given(raw=hostile_message())
def test_built_hostile_mail_is_handled_through_the_run_path(run_path: RunPath, raw: bytes) -> None:
    check(run_path, raw)


@settings(max_examples=80, suppress_health_check=_SLOW_OK)
@given(raw=mutated(FIXTURES))
def test_broken_real_mail_is_handled_through_the_run_path(run_path: RunPath, raw: bytes) -> None:
    check(run_path, raw)
