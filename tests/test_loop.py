"""End to end through the CLI: a forward becomes a handoff and replies drive it to thanks."""

from __future__ import annotations

import json
import re

from conftest import Workspace, make_forward, make_plain, make_reply, reply_local


def start(ws: Workspace, **kw) -> None:
    ws.deliver(make_forward(**kw))
    ws.run("2026-11-23T09:05")


def test_forward_to_thanks(ws: Workspace) -> None:
    start(ws, attachment=("w9-form.pdf", b"%PDF-1.4 fake w9"))
    [item] = ws.items()
    assert item["owner"] == "dana@acme.test"
    assert item["requester"] == "sam@acme.test"
    assert item["team"] == "accounting"
    assert item["due"] == "2026-11-27"
    assert item["title"] == "W-9 request"
    assert item["status"] == "open"

    [receipt] = ws.sent_to("sam@acme.test", "receipt")
    assert receipt.msg["Auto-Submitted"] == "auto-replied"
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    assert notice.msg["Auto-Submitted"] == "auto-generated"
    assert notice.msg["X-Auto-Response-Suppress"] == "All"
    assert str(notice.msg["Subject"]).startswith(f"[#{item['id']}] ")
    assert re.fullmatch(r"handoffs\+1\.[a-z2-7]{16}@acme\.test", str(notice.msg["Reply-To"]))
    assert "bill@initech.example" in notice.text and "Could you send us your W-9" in notice.text
    assert "@dana can you send them our W-9?" in notice.text
    assert [p.get_filename() for p in notice.msg.iter_attachments()] == ["w9-form.pdf", "handoff-1.ics"]
    assert all(len(line) <= 72 for line in notice.text.splitlines() if " " in line.strip())
    assert "<" not in notice.msg["Message-ID"][1:-1]
    root = notice.msg["References"]
    assert root and notice.msg["In-Reply-To"] == root

    ws.deliver(make_reply(notice, "ack", sender="Dana Numbers <dana@acme.test>"))
    ws.run("2026-11-23T11:00")
    assert ws.items()[0]["status"] == "acknowledged"
    [told] = ws.sent_to("sam@acme.test", "acknowledged")
    assert "Dana Numbers confirmed #1" in told.text
    assert told.msg["References"] == root

    ws.deliver(make_reply(notice, "done\nshipped via FedEx today", sender="dana@acme.test",
                          date="Tue, 24 Nov 2026 10:00:00 -0600"))
    ws.run("2026-11-24T10:05")
    assert ws.items()[0]["status"] == "done"
    [done] = ws.sent_to("sam@acme.test", "done")
    assert "shipped via FedEx today" in done.text
    assert "Reply `thanks`" in done.text

    ws.deliver(make_reply(done, "Thanks so much, you saved the deal!", sender="sam@acme.test",
                          date="Tue, 24 Nov 2026 10:30:00 -0600"))
    ws.run("2026-11-24T10:35")
    [thanks] = ws.sent_to("dana@acme.test", "thanks")
    assert "you saved the deal!" in thanks.text
    assert "Sam Seller says thank you" in thanks.text

    shown = json.loads(ws.cli("show", "1", "--json").output)
    kinds = [e["kind"] for e in shown["timeline"]]
    assert kinds == ["created", "owner_assigned", "acknowledged", "done", "thanked"]


def test_refusals(ws: Workspace) -> None:
    start(ws)
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    [receipt] = ws.sent_to("sam@acme.test", "receipt")
    before = len(ws.sent())

    # The requester may not say "done": refused, with a reason, nothing changed.
    ws.deliver(make_reply(receipt, "done", sender="sam@acme.test"))
    # A colleague using Dana's reply address.
    ws.deliver(make_reply(notice, "done", sender="lee@acme.test"))
    # A forged token.
    forged = re.sub(r"\.[a-z2-7]{16}@", ".aaaaaaaaaaaaaaaa@", reply_local(notice))
    ws.deliver(make_reply(notice, "done", sender="dana@acme.test", to=forged))
    # An outsider: no reply at all.
    ws.deliver(make_reply(notice, "done", sender="mallory@evil.example"))
    ws.run("2026-11-23T11:00")

    assert ws.items()[0]["status"] == "open"
    refusals = [s for s in ws.sent()[before:] if s.kind == "refusal"]
    assert sorted(s.msg["To"].addresses[0].addr_spec for s in refusals) == [
        "dana@acme.test", "lee@acme.test", "sam@acme.test",
    ]
    by = {s.msg["To"].addresses[0].addr_spec: s.text for s in refusals}
    assert "`done` is for the owner" in by["sam@acme.test"]
    assert "made for someone else" in by["lee@acme.test"]
    assert "not valid" in by["dana@acme.test"]
    assert not ws.sent_to("evil.example")
    assert all(s.msg["Auto-Submitted"] == "auto-replied" for s in refusals)


def test_second_delivery_is_recorded_not_answered(ws: Workspace) -> None:
    start(ws)
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    reply = make_reply(notice, "ack", sender="dana@acme.test", message_id="<same-reply@mail.acme.test>")
    ws.deliver(reply)
    ws.run("2026-11-23T11:00")
    count = len(ws.sent())
    ws.deliver(reply)
    out = ws.run("2026-11-23T11:05")
    assert "1 already seen" in out.output
    assert len(ws.sent()) == count
    assert ws.items()[0]["status"] == "acknowledged"


def test_forward_at_night_reaches_owner_next_business_morning(ws: Workspace) -> None:
    ws.deliver(make_forward(date="Mon, 23 Nov 2026 22:00:00 -0600"))
    ws.run("2026-11-23T22:00")
    assert ws.sent_to("sam@acme.test", "receipt"), "the requester's receipt goes at once"
    assert not ws.sent_to("dana@acme.test")
    ws.run("2026-11-24T07:55")
    assert not ws.sent_to("dana@acme.test")
    ws.run("2026-11-24T08:00")
    assert ws.sent_to("dana@acme.test", "new_handoff")


def test_no_owner_then_requester_names_one(ws: Workspace) -> None:
    start(ws, note="Can someone send them our W-9?")
    [item] = ws.items()
    assert item["owner"] is None and item["status"] == "open"
    [ask] = ws.sent_to("sam@acme.test", "no_owner")
    assert "@accounting" in ask.text or "accounting" in ask.text
    ws.deliver(make_reply(ask, "@lee please", sender="sam@acme.test"))
    ws.run("2026-11-23T10:00")
    assert ws.items()[0]["owner"] == "lee@acme.test"
    assert ws.sent_to("lee@acme.test", "new_handoff")
    assert ws.sent_to("sam@acme.test", "owner_assigned")


def test_did_you_mean_and_note(ws: Workspace) -> None:
    start(ws)
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    ws.deliver(make_reply(notice, "dne", sender="dana@acme.test"))
    ws.run("2026-11-23T10:00")
    [dym] = ws.sent_to("dana@acme.test", "did_you_mean")
    assert "`done`" in dym.text
    assert ws.items()[0]["status"] == "open"
    ws.deliver(make_reply(notice, "Which entity should be on the form?", sender="dana@acme.test"))
    ws.run("2026-11-23T10:05")
    [note] = ws.sent_to("sam@acme.test", "note")
    assert "Which entity should be on the form?" in note.text
    assert "On Mon, Nov 23" not in note.text, "quoted history must not be relayed"


def test_blocked_unblock_due_and_watchers(ws: Workspace) -> None:
    start(ws, note="@dana W-9 please, due 12/4. cc @lee", cc="Maria Boss <maria@acme.test>")
    [item] = ws.items()
    assert item["due"] == "2026-12-04"
    assert item["watchers"] == ["lee@acme.test", "maria@acme.test"]
    assert ws.sent_to("lee@acme.test", "new_handoff") and ws.sent_to("maria@acme.test", "new_handoff")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    ws.deliver(make_reply(notice, "blocked waiting on legal for the entity name", sender="dana@acme.test"))
    ws.run("2026-11-23T10:00")
    assert ws.items()[0]["status"] == "blocked"
    assert ws.sent_to("sam@acme.test", "blocked") and ws.sent_to("maria@acme.test", "blocked")
    ws.deliver(make_reply(notice, "unblock\ndue friday", sender="dana@acme.test"))
    ws.run("2026-11-23T10:05")
    [item] = ws.items()
    assert item["status"] == "open" and item["due"] == "2026-11-27"


def test_rush_when_below_lead_time(ws: Workspace) -> None:
    start(ws, note="@finance W-9 please, by Wednesday")
    [item] = ws.items()
    assert item["owner"] == "dana@acme.test" and item["rush"] is True
    [receipt] = ws.sent_to("sam@acme.test", "receipt")
    assert "asks for 7 business days" in receipt.text


def test_plus_address_and_subject_tag_and_round_robin(ws: Workspace) -> None:
    ws.deliver(make_forward("please handle", to="handoffs+accounting@acme.test"))
    ws.deliver(make_forward("please handle", subject="[support] Fwd: printer"))
    ws.deliver(make_forward("please handle", subject="[support] Fwd: scanner"))
    ws.run("2026-11-23T09:05")
    items = ws.items()
    assert [i["owner"] for i in items] == ["dana@acme.test", "lee@acme.test", "maria@acme.test"]
    assert [i["title"] for i in items] == ["W-9 request", "printer", "scanner"]


def test_outsider_forward_creates_nothing(ws: Workspace) -> None:
    ws.deliver(make_forward(sender="Eve <eve@evil.example>"))
    ws.run("2026-11-23T09:05")
    assert ws.items() == [] and ws.sent() == []


def test_out_of_office_is_ignored(ws: Workspace) -> None:
    start(ws)
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    ws.deliver(make_reply(notice, "I am out of the office until Monday.", sender="dana@acme.test",
                          headers={"Auto-Submitted": "auto-replied"}))
    ws.run("2026-11-23T10:00")
    assert [s.path for s in ws.sent_to("dana@acme.test")] == [notice.path]
    status = json.loads(ws.cli("status", "--json").output)
    assert status["inbound"]["auto_reply"] == 1


def test_dkim_pass_lets_a_participant_act_without_token(ws: Workspace) -> None:
    start(ws)
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    auth = "mx.acme.test; dkim=pass header.d=acme.test header.i=@acme.test; spf=pass"
    reply = make_reply(notice, "ack", sender="dana@acme.test", to="handoffs@acme.test")
    # as the receiving server writes it: above the message's own headers (RFC 8601 §5)
    ws.deliver(f"Authentication-Results: {auth}\r\nReceived: from mail.acme.test by mx.acme.test\r\n".encode()
               + reply)
    ws.run("2026-11-23T10:00")
    assert ws.items()[0]["status"] == "acknowledged"


def test_quarantine_keeps_oversized_message_and_run_goes_on(tmp_path) -> None:
    from conftest import ORG_TOML

    ws = Workspace(tmp_path, ORG_TOML + "\n[limits]\nmax_message_mb = 0.01\n")
    ws.deliver(make_forward(attachment=("big.pdf", b"x" * 20000)))
    ws.deliver(make_forward(note="@lee small one"))
    out = ws.run("2026-11-23T09:05")
    assert "1 quarantined" in out.output
    assert [i["owner"] for i in ws.items()] == ["lee@acme.test"]
    listed = ws.cli("quarantine").output
    assert "the limit is 0.01 MB" in listed
    [told] = ws.sent_to("sam@acme.test", "quarantined")
    assert "smaller attachments" in told.text and told.msg["Auto-Submitted"] == "auto-replied"


def test_help_and_status_answer_anyone_in_allowed_domains(ws: Workspace) -> None:
    start(ws)
    ws.deliver(make_plain("lee@acme.test", "help", "help\n"))
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    ws.deliver(make_reply(notice, "status", sender="maria@acme.test", to="handoffs@acme.test"))
    ws.run("2026-11-23T10:00")
    assert len(ws.items()) == 1, "a bare 'help' is answered, not made a handoff"
    [help_mail] = ws.sent_to("lee@acme.test", "help")
    assert "ack [date]" in help_mail.text
    [status] = ws.sent_to("maria@acme.test", "status")
    assert "#1 W-9 request" in status.text and "Status:    waiting for confirmation" in status.text


def test_reply_attachments_reach_the_other_side(ws: Workspace) -> None:
    start(ws)
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    from email import message_from_bytes
    from email.policy import default

    reply = message_from_bytes(make_reply(notice, "done, signed W-9 attached", sender="dana@acme.test"),
                               policy=default)
    reply.add_attachment(b"%PDF signed", maintype="application", subtype="pdf", filename="W-9 signed.pdf")
    ws.deliver(reply.as_bytes())
    ws.run("2026-11-23T10:00")
    [done] = ws.sent_to("sam@acme.test", "done")
    assert [p.get_filename() for p in done.msg.iter_attachments()] == ["W-9 signed.pdf"]
    assert "Attached: W-9 signed.pdf" in done.text


def test_requesters_own_address_never_makes_them_owner(ws: Workspace) -> None:
    ws.deliver(make_plain("Sam Seller <sam@acme.test>", "[accounting] W-9",
                          "Customer needs our W-9.\n\nThanks,\nSam Seller | sam@acme.test | 555-1234\n"))
    ws.run("2026-11-23T09:05")
    assert ws.items()[0]["owner"] == "dana@acme.test"


def test_attachments_of_a_plain_handoff_reach_the_owner(ws: Workspace) -> None:
    ws.deliver(make_plain("sam@acme.test", "Vendor form", "@dana please fill in the attached form",
                          attachment=("form.pdf", b"%PDF form")))
    ws.run("2026-11-23T09:05")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    assert [p.get_filename() for p in notice.msg.iter_attachments()] == ["form.pdf", "handoff-1.ics"]


def test_answer_naming_owner_also_sets_due_and_priority(ws: Workspace) -> None:
    start(ws, note="Can someone send them our W-9?", cc="Maria Boss <maria@acme.test>")
    [ask] = ws.sent_to("sam@acme.test", "no_owner")
    ws.deliver(make_reply(ask, "@maria due 12/10, priority: high", sender="sam@acme.test"))
    ws.run("2026-11-23T10:00")
    [item] = ws.items()
    assert (item["owner"], item["due"], item["priority"]) == ("maria@acme.test", "2026-12-10", "high")
    assert item["watchers"] == [], "the new owner is no longer a watcher"


def test_done_says_who_else_was_told(ws: Workspace) -> None:
    start(ws, note="@dana W-9 please, cc @lee")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    ws.deliver(make_reply(notice, "done", sender="dana@acme.test"))
    ws.run("2026-11-23T10:00")
    [to_sam] = ws.sent_to("sam@acme.test", "done")
    [to_lee] = ws.sent_to("lee@acme.test", "done")
    assert "Also told: Lee Ledger." in to_sam.text and "Reply `thanks`" in to_sam.text
    assert "Also told: Sam Seller." in to_lee.text and "Reply `thanks`" not in to_lee.text


def test_held_mail_is_dated_when_it_goes_out(ws: Workspace) -> None:
    ws.deliver(make_forward(date="Mon, 23 Nov 2026 22:00:00 -0600"))
    ws.run("2026-11-23T22:00")
    ws.run("2026-11-24T08:00")
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    assert notice.msg["Date"].datetime.hour == 8
    assert b'From: "Nudger" <handoffs@acme.test>' in notice.path.read_bytes()


def test_same_message_raced_by_two_readers_is_one_handoff(ws: Workspace, monkeypatch) -> None:
    from nudger.state.store import InboundCheck, Store

    raw = make_forward(message_id="<race@mail.acme.test>")
    ws.cli("ingest", "-", "--now", "2026-11-23T09:05", input=raw)
    calls = {"n": 0}

    def first_look_misses(self, key, body_hash):  # the other reader committed between our look and our lock
        calls["n"] += 1
        return InboundCheck("new", key)

    monkeypatch.setattr(Store, "inbound_check", first_look_misses)
    ws.deliver(raw)
    out = ws.run("2026-11-23T09:06")
    assert calls["n"] == 1
    assert "already seen" in out.output
    assert len(ws.items()) == 1


def test_unreadable_inbox_still_delivers_then_exits_75(ws: Workspace) -> None:
    ws.cli("ingest", "-", "--now", "2026-11-23T22:00", input=make_forward())
    assert not ws.sent_to("dana@acme.test"), "held for Dana's business hours"
    import shutil

    shutil.rmtree(ws.inbox, ignore_errors=True)
    ws.inbox.parent.mkdir(parents=True, exist_ok=True)
    ws.inbox.write_text("not a folder")
    result = ws.run("2026-11-24T08:00", expect=75)
    assert "could not fetch mail" in result.stderr
    assert ws.sent_to("dana@acme.test", "new_handoff"), "delivery happened anyway"


def test_automated_senders_never_get_an_answer(ws: Workspace) -> None:
    ws.deliver(make_plain("MAILER-DAEMON@acme.test", "hello", "@dana x"))
    ws.deliver(make_plain("noreply@acme.test", "Your report", "@dana x"))
    from email import message_from_bytes
    from email.policy import default

    null_sender = message_from_bytes(make_plain("jira@acme.test", "[JIRA] ticket", "@dana x"), policy=default)
    null_sender["Return-Path"] = "<>"
    ws.deliver(null_sender.as_bytes())
    ws.run("2026-11-23T09:05")
    assert ws.items() == [] and ws.sent() == []


def test_reused_message_id_with_another_body_is_kept_not_dropped(ws: Workspace) -> None:
    ws.deliver(make_forward(message_id="<dup@mail.acme.test>"))
    ws.run("2026-11-23T09:05")
    ws.deliver(make_forward(note="@lee a different request", message_id="<dup@mail.acme.test>"))
    out = ws.run("2026-11-23T09:10")
    assert "1 quarantined" in out.output
    assert "already used by a different message" in ws.cli("quarantine").output
    [told] = ws.sent_to("sam@acme.test", "quarantined")
    assert "Nothing was lost" in told.text
    ws.deliver(make_forward(note="@lee a different request", message_id="<dup@mail.acme.test>"))
    assert "1 already seen" in ws.run("2026-11-23T09:15").output


def test_files_without_words_reach_the_other_side(ws: Workspace) -> None:
    start(ws)
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    from email import message_from_bytes
    from email.policy import default

    reply = message_from_bytes(make_reply(notice, "", sender="dana@acme.test"), policy=default)
    reply.add_attachment(b"%PDF", maintype="application", subtype="pdf", filename="w9.pdf")
    ws.deliver(reply.as_bytes())
    ws.run("2026-11-23T10:00")
    [note] = ws.sent_to("sam@acme.test", "note")
    assert "Dana Numbers sent files for #1" in note.text
    assert [p.get_filename() for p in note.msg.iter_attachments()] == ["w9.pdf"]


def test_a_bounce_names_the_outgoing_message_it_reports_on() -> None:
    from nudger.config import config_from_dict
    from nudger.core.classify import classify
    from nudger.mail.message import parse_message

    config = config_from_dict({"org": {"domain": "acme.test"}}, env={})
    raw = (b"From: MAILER-DAEMON@mx.acme.test\r\nTo: handoffs+bounce.42@acme.test\r\n"
           b"Subject: Undelivered Mail Returned to Sender\r\n\r\nsorry\r\n")
    verdict = classify(parse_message(raw), config)
    assert (verdict.kind, verdict.outbox_id) == ("bounce", 42)
    assert verdict.reasons == ["sent to our bounce address for outgoing message 42"]
