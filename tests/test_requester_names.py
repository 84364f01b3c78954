"""A requester who is not in ``[[people]]`` is called by the name their own From header gave
("Pat Rivera <pat@acme.test>"), in every email about the handoff and in the CLI."""

from __future__ import annotations

import json

from conftest import ORG_TOML, Workspace, make_forward, make_reply

DAILY_DANA = ORG_TOML.replace('name = "Dana Numbers"\n', 'name = "Dana Numbers"\ndigest = "daily"\n')
PAT = "Pat Rivera <pat@acme.test>"  # acme.test is allowed; Pat is in no [[people]] entry


def test_the_owner_and_the_requester_see_the_requesters_own_name(tmp_path) -> None:
    ws = Workspace(tmp_path, DAILY_DANA)
    ws.deliver(make_forward("@dana W-9 please, due friday", sender=PAT), arrived="2026-11-23T09:00")
    ws.run("2026-11-23T09:05")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    assert "Pat Rivera handed this to you" in notice.text
    assert "Requester: Pat Rivera" in notice.text and "Pat Rivera" in notice.html
    [receipt] = ws.sent_to("pat@acme.test", "receipt")
    assert receipt.to == "Pat Rivera <pat@acme.test>"
    assert receipt.text.startswith("Hi Pat,")

    ws.deliver(make_reply(notice, "ack", sender="Dana Numbers <dana@acme.test>"), arrived="2026-11-23T11:00")
    ws.run("2026-11-23T11:05")
    [confirmed] = ws.sent_to("pat@acme.test", "acknowledged")
    assert confirmed.text.startswith("Hi Pat,") and confirmed.to == "Pat Rivera <pat@acme.test>"

    ws.run("2026-11-24T08:05")
    [digest] = ws.sent_to("dana@acme.test", "daily_digest")
    assert "Pat Rivera" in digest.text and "pat@acme.test" not in digest.text


def test_the_cli_shows_the_requesters_name(ws: Workspace) -> None:
    ws.deliver(make_forward("@dana W-9 please, due friday", sender=PAT), arrived="2026-11-23T09:00")
    ws.run("2026-11-23T09:05")
    [item] = ws.items()
    assert item["requester"] == "pat@acme.test" and item["requester_name"] == "Pat Rivera"
    shown = ws.cli("show", "1", "--now", "2026-11-23T09:06").output
    assert "Pat Rivera <pat@acme.test>" in shown
    assert "Dana Numbers <dana@acme.test>" in shown  # the owner, by the directory's name


def test_a_directory_name_wins_and_a_bare_address_stays_bare(ws: Workspace) -> None:
    ws.deliver(make_forward("@dana W-9 please, due friday", sender="Sammy <sam@acme.test>",
                            message_id="<a@mail.acme.test>"), arrived="2026-11-23T09:00")
    ws.deliver(make_forward("@dana the Hooli invoice, due friday", sender="kim@acme.test",
                            subject="Fwd: Hooli", message_id="<b@mail.acme.test>"), arrived="2026-11-23T09:01")
    ws.run("2026-11-23T09:05")
    first, second = ws.sent_to("dana@acme.test", "new_handoff")
    assert "Sam Seller handed this to you" in first.text  # the directory's name, not the header's
    assert "kim@acme.test handed this to you" in second.text
    [receipt] = ws.sent_to("kim@acme.test", "receipt")
    assert receipt.to == "kim@acme.test" and receipt.text.startswith("Hi there,")


def test_last_comma_first_reads_as_first_last(ws: Workspace) -> None:
    """Outlook's directory writes "Rivera, Pat": the greeting is still "Hi Pat,"."""
    ws.deliver(make_forward("@dana W-9 please, due friday", sender='"Rivera, Pat" <pat@acme.test>'),
               arrived="2026-11-23T09:00")
    ws.run("2026-11-23T09:05")
    [receipt] = ws.sent_to("pat@acme.test", "receipt")
    assert receipt.text.startswith("Hi Pat,")
    assert json.loads(ws.cli("show", "1", "--json").output)["requester_name"] == "Pat Rivera"
