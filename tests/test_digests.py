"""Digests people read: by preference (the latest reply wins over the config), capped, never
empty, and never sent twice when the config's times are edited."""

from __future__ import annotations

from conftest import ORG_TOML, Workspace, make_forward, make_reply
from test_digest_reply import reply_to_digest

DAILY_DANA = ORG_TOML.replace('name = "Dana Numbers"\n', 'name = "Dana Numbers"\ndigest = "daily"\n')


def test_a_daily_digest_lists_what_you_owe_and_is_skipped_when_empty(tmp_path) -> None:
    ws = Workspace(tmp_path, DAILY_DANA)
    ws.run("2026-11-23T08:05")  # nothing yet: no digest
    assert ws.sent_to("dana@acme.test", "daily_digest") == []
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    ws.run("2026-11-24T08:05")
    [digest] = ws.sent_to("dana@acme.test", "daily_digest")
    assert "Waiting for your ack" in digest.text and "#1 W-9 request" in digest.text
    assert digest.msg["Reply-To"].addresses[0].username.startswith("handoffs+d.")


def test_a_long_section_is_capped(tmp_path) -> None:
    ws = Workspace(tmp_path, DAILY_DANA)
    for i in range(13):
        ws.deliver(make_forward(f"@dana item {i}, due friday", subject=f"Fwd: item {i}",
                                message_id=f"<cap-{i}@mail.acme.test>"))
    ws.run("2026-11-23T09:05")
    ws.run("2026-11-24T08:05")
    [digest] = ws.sent_to("dana@acme.test", "daily_digest")
    assert digest.text.count(": due Fri 27 Nov") == 10 and "and 3 more" in digest.text


def test_the_latest_reply_wins_over_the_config(tmp_path) -> None:
    ws = Workspace(tmp_path, DAILY_DANA)
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    ws.deliver(reply_to_digest(ws, "Dana Numbers <dana@acme.test>", "no digest",
                               date="Mon, 23 Nov 2026 10:00:00 -0600"))
    ws.run("2026-11-23T10:05")
    ws.run("2026-11-24T08:05")
    assert ws.sent_to("dana@acme.test", "daily_digest") == []  # she asked for none
    ws.deliver(reply_to_digest(ws, "Lee Ledger <lee@acme.test>", "daily", date="Tue, 24 Nov 2026 09:00:00 -0600"))
    ws.deliver(make_forward("@lee the 1099 please, due 12/10", subject="Fwd: 1099",
                            message_id="<lee-1@mail.acme.test>"))
    ws.run("2026-11-24T09:05")
    ws.run("2026-11-25T08:05")
    assert len(ws.sent_to("lee@acme.test", "daily_digest")) == 1  # the config said none; he said daily


def test_editing_the_digest_time_never_sends_a_digest_twice(tmp_path) -> None:
    ws = Workspace(tmp_path, DAILY_DANA)
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    ws.run("2026-11-24T08:05")
    assert len(ws.sent_to("dana@acme.test", "daily_digest")) == 1
    ws.config.write_text(DAILY_DANA + '\n[nudges]\ndigest_time = "09:00"\n')
    ws.run("2026-11-24T09:05")
    assert len(ws.sent_to("dana@acme.test", "daily_digest")) == 1  # today's went already
    ws.run("2026-11-25T08:05")
    assert len(ws.sent_to("dana@acme.test", "daily_digest")) == 1  # now at 09:00
    ws.run("2026-11-25T09:05")
    assert len(ws.sent_to("dana@acme.test", "daily_digest")) == 2


def test_a_digest_reply_thanks_by_number(tmp_path) -> None:
    ws = Workspace(tmp_path, DAILY_DANA)
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    ws.deliver(make_reply(notice, "done", sender="dana@acme.test"))
    ws.run("2026-11-23T11:05")
    ws.run("2026-11-27T08:05")  # Friday: Sam's prompt to thank
    [prompt] = ws.sent_to("sam@acme.test", "appreciation")
    assert "thanks #1" in prompt.text and "Dana Numbers" in prompt.text
    ws.deliver(reply_to_digest(ws, "Sam Seller <sam@acme.test>", "thanks #1 you saved the deal",
                               date="Fri, 27 Nov 2026 10:00:00 -0600"))
    ws.run("2026-11-27T10:05")
    [thanks] = ws.sent_to("dana@acme.test", "thanks")
    assert "you saved the deal" in thanks.text


def test_a_digest_offers_only_the_commands_its_reader_can_use(tmp_path) -> None:
    """The owner may say `done #N`; Sam, who asked and owes nothing, is offered no `done`."""
    both = DAILY_DANA.replace('timezone = "America/New_York"\n', 'timezone = "America/New_York"\ndigest = "daily"\n', 1)
    ws = Workspace(tmp_path, both)
    ws.deliver(make_forward())
    ws.run("2026-11-23T09:05")
    ws.run("2026-11-24T08:05")
    ws.run("2026-11-24T07:05")  # Sam's 08:00 in New York
    [dana] = ws.sent_to("dana@acme.test", "daily_digest")
    [sam] = ws.sent_to("sam@acme.test", "daily_digest")
    # The footer's samples name a number in this email, never one that does not exist.
    assert "`done #N`" in dana.text and "done #1 | ack #1 friday | note #1 <text>\r\nOr: daily" in dana.text
    assert "Owed to you" in sam.text
    assert "done #" not in sam.text and "ack #" not in sam.text and "note #1 <text>" in sam.text
    assert "#12" not in dana.text + sam.text and "#5" not in dana.text + sam.text
