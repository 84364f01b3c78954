"""Rendering: the kind registry, strict templates, and the customer's text kept as written."""

from __future__ import annotations

import email
from datetime import UTC, datetime
from email.policy import default as default_policy

import pytest
from jinja2 import Environment, FileSystemLoader, meta

from nudger.config import config_from_dict
from nudger.core.records import Handoff, Notice
from nudger.outbound.kinds import KINDS, LAYOUT_FIELDS
from nudger.outbound.render import VERBATIM, Renderer, builtin_templates, wrap_text

CONFIG = config_from_dict({"org": {"domain": "acme.test"},
                           "people": [{"email": "dana@acme.test", "name": "Dana Numbers"}]}, env={})
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
LONG = "This line of the customer's email is long enough that our own prose would be wrapped at 72."


def test_text_between_verbatim_markers_is_left_as_written() -> None:
    text = f"Our prose. {LONG}\n{VERBATIM}\n{LONG}\n  indented, kept\n{VERBATIM}\nAfter."
    out = wrap_text(text)
    assert VERBATIM not in out  # the markers themselves never reach anyone
    lines = out.splitlines()
    assert LONG in lines and "  indented, kept" in lines
    assert all(len(line) <= 72 for line in lines if line != LONG)
    assert lines[-1] == "After."


def test_the_new_handoff_notice_carries_the_customer_email_unwrapped_and_no_markers() -> None:
    forwarded = {"from": {"name": "Bill", "email": "bill@initech.example"}, "to": [], "cc": [],
                 "date": "2026-11-22T18:15:00-06:00", "subject": "W-9", "body": LONG + "\nThanks,\nBill"}
    h = Handoff(id=7, title="W-9", status="open", requester="sam@acme.test", created=NOW, updated=NOW,
                owner="dana@acme.test", forwarded=forwarded)
    raw = Renderer(CONFIG, b"k" * 32).render(Notice("new_handoff", "dana@acme.test", 7), h, "k:1", NOW).raw
    msg = email.message_from_bytes(raw, policy=default_policy)
    text = msg.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "\x1f" not in text
    assert LONG in text.splitlines()


def _variables(env: Environment, name: str, seen: set[str] | None = None) -> set[str]:
    seen = seen if seen is not None else set()
    if name in seen:
        return set()
    seen.add(name)
    ast = env.parse(env.loader.get_source(env, name)[0])  # type: ignore[union-attr]
    found = set(meta.find_undeclared_variables(ast))
    for ref in meta.find_referenced_templates(ast):
        if ref:
            found |= _variables(env, ref, seen)
    return found


@pytest.mark.parametrize("kind", sorted(KINDS))
def test_each_kind_declares_every_variable_its_templates_use(kind: str) -> None:
    """A kind's templates may use the layout's variables and the kind's own fields, and
    nothing else: a variable missing from both is a typo that must fail, not render blank."""
    env = Environment(loader=FileSystemLoader(str(builtin_templates())))
    filters = ("date", "size", "when", "person", "addresses", "team", "dates", "quoted", "one_line")
    env.filters.update({f: (lambda v, *a: v) for f in filters})
    spec = KINDS[kind]
    used = set().union(*(_variables(env, t) for t in spec.templates))
    given = {"handoff", "recipient", "role", "reply_address", "handoff_address", "from_name", "kind",
             "today", "overdue", "status_word", "actions",
             *LAYOUT_FIELDS, *spec.fields}
    assert used <= given, f"{kind} templates use undeclared {sorted(used - given)}"


def test_a_template_naming_an_undeclared_variable_fails(tmp_path) -> None:
    (tmp_path / "note.txt").write_text("{% extends '_base.txt' %}{% block body %}{{ wrods }}{% endblock %}")
    (tmp_path / "note.html").write_text("x")
    config = config_from_dict({"org": {"domain": "acme.test"}, "templates": {"path": str(tmp_path)}}, env={})
    h = Handoff(id=1, title="t", status="open", requester="sam@acme.test", created=NOW, updated=NOW)
    with pytest.raises(Exception, match="wrods"):
        Renderer(config, b"k" * 32).render(Notice("note", "sam@acme.test", 1), h, "k", NOW)


def test_answers_go_at_any_hour_and_news_waits() -> None:
    assert {k.name for k in KINDS.values() if k.hold == "none"} == {
        "receipt", "no_owner", "refusal", "status", "help", "did_you_mean", "digest_choice",
        "owner_assigned", "quarantined", "calendar_update"}
