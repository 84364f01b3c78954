"""End to end through the CLI: replies to a digest act on the handoffs they name (`done #12`)."""

from __future__ import annotations

import json

from conftest import Workspace, make_forward, make_reply

from nudger.core.tokens import digest_address

DANA = "Dana Numbers <dana@acme.test>"
SAM = "Sam Seller <sam@acme.test>"
LEE = "Lee Ledger <lee@acme.test>"


def digest_to(ws: Workspace, email: str) -> str:
    """The Reply-To of a digest sent to ``email``."""
    return digest_address(ws.env["NUDGER_SECRET"].encode(), "handoffs", "acme.test", email)


def reply_to_digest(ws: Workspace, sender: str, text: str, *, to_digest_of: str | None = None,
                    message_id: str | None = None, date: str = "Mon, 23 Nov 2026 11:00:00 -0600") -> bytes:
    """``sender`` replies to their digest (or, with ``to_digest_of``, to someone else's)."""
    email = sender.rpartition("<")[2].rstrip(">")
    return make_reply(None, text, sender=sender, to=digest_to(ws, to_digest_of or email),
                      message_id=message_id, date=date)


def two_handoffs(ws: Workspace, second_owner: str = "dana") -> None:
    """#1: Sam → Dana (W-9, due Friday 11-27). #2: Sam → ``second_owner`` (due 12/10)."""
    ws.deliver(make_forward())
    ws.deliver(make_forward(f"@{second_owner} please send the insurance certificate, due 12/10",
                            subject="Fwd: insurance certificate"))
    ws.run("2026-11-23T09:05")
    assert [(i["id"], i["owner"]) for i in ws.items()] == [(1, "dana@acme.test"), (2, f"{second_owner}@acme.test")]


def by_id(ws: Workspace) -> dict[int, dict]:
    return {i["id"]: i for i in ws.items()}


def timeline(ws: Workspace, hid: int) -> list[str]:
    return [e["kind"] for e in json.loads(ws.cli("show", str(hid), "--json").output)["timeline"]]


def flat(text: str) -> str:
    """The text without its line wrapping."""
    return " ".join(text.split())


def new_mail(ws: Workspace, before: int):
    return ws.sent()[before:]


def test_done_by_owner_closes_and_tells_requester(ws: Workspace) -> None:
    two_handoffs(ws)
    before = len(ws.sent())
    ws.deliver(reply_to_digest(ws, DANA, "done #1\nshipped via FedEx today"))
    ws.run("2026-11-23T11:00")
    items = by_id(ws)
    assert items[1]["status"] == "done" and items[2]["status"] == "open"
    [done] = ws.sent_to("sam@acme.test", "done")
    assert done.msg["Subject"].startswith("[#1] ")
    assert "shipped via FedEx today" in done.text and "Reply `thanks`" in done.text
    assert [s.kind for s in new_mail(ws, before)] == ["done"], "no answer to Dana when all applied"
    assert timeline(ws, 1)[-1] == "done"


def test_thanks_by_requester_reaches_owner_with_the_words(ws: Workspace) -> None:
    two_handoffs(ws)
    ws.deliver(reply_to_digest(ws, DANA, "done #1"))
    ws.run("2026-11-23T11:00")
    ws.deliver(reply_to_digest(ws, SAM, "thanks #1 great work, the customer is set up",
                               date="Mon, 23 Nov 2026 12:00:00 -0600"))
    ws.run("2026-11-23T12:00")
    [thanks] = ws.sent_to("dana@acme.test", "thanks")
    assert thanks.msg["Subject"].startswith("[#1] ")
    assert "Sam Seller says thank you for #1" in thanks.text
    assert "great work, the customer is set up" in thanks.text
    assert "#1 great" not in thanks.text, "the number is not part of the words"
    assert '"great work, the customer is set up"' in thanks.text, "nor the command word"
    shown = json.loads(ws.cli("show", "1", "--json").output)
    assert shown["timeline"][-1]["kind"] == "thanked"
    assert "great work" in shown["timeline"][-1]["words"]


def test_ack_with_a_date_sets_the_due_date(ws: Workspace) -> None:
    two_handoffs(ws)
    assert by_id(ws)[2]["due"] == "2026-12-10"
    ws.deliver(reply_to_digest(ws, DANA, "ack #2 friday"))
    ws.run("2026-11-23T11:00")
    item = by_id(ws)[2]
    assert (item["status"], item["due"]) == ("acknowledged", "2026-11-27")
    [told] = ws.sent_to("sam@acme.test", "acknowledged")
    assert told.msg["Subject"].startswith("[#2] ")
    assert by_id(ws)[1]["status"] == "open"


def test_two_handoffs_in_one_reply(ws: Workspace) -> None:
    two_handoffs(ws)
    before = len(ws.sent())
    ws.deliver(reply_to_digest(ws, DANA, "done #1\nsent the W-9\n\nack #2 friday\nneed the policy number"))
    ws.run("2026-11-23T11:00")
    items = by_id(ws)
    assert (items[1]["status"], items[2]["status"], items[2]["due"]) == ("done", "acknowledged", "2026-11-27")
    mail = new_mail(ws, before)
    # #2's new date moves Dana's calendar entry: the one answer to her, about #2 alone
    assert sorted((s.kind, s.msg["Subject"][:4]) for s in mail) == [
        ("acknowledged", "[#2]"), ("calendar_update", "[#2]"), ("done", "[#1]")]
    done = next(s for s in mail if s.kind == "done")
    ack = next(s for s in mail if s.kind == "acknowledged")
    assert "sent the W-9" in done.text and "policy number" not in done.text
    assert "need the policy number" in ack.text and "sent the W-9" not in ack.text
    assert len({s.msg["Message-ID"] for s in mail}) == 3, "one dedupe key per email"


def test_same_handoff_twice_and_digest_choice_in_one_reply(ws: Workspace) -> None:
    two_handoffs(ws)
    ws.deliver(reply_to_digest(ws, DANA, "weekly\nack #2\ndone #1\ndue #2 12/4"))
    ws.run("2026-11-23T11:00")
    items = by_id(ws)
    assert (items[1]["status"], items[2]["status"], items[2]["due"]) == ("done", "acknowledged", "2026-12-04")
    [choice] = ws.sent_to("dana@acme.test", "digest_choice")
    assert "weekly" in choice.text
    assert not ws.sent_to("dana@acme.test", "refusal")
    assert timeline(ws, 2)[-2:] == ["acknowledged", "due_changed"]


def test_a_line_for_someone_elses_handoff_is_refused_the_other_applies(ws: Workspace) -> None:
    two_handoffs(ws, second_owner="lee")
    before = len(ws.sent())
    ws.deliver(reply_to_digest(ws, DANA, "done #1\ndone #2"))
    ws.run("2026-11-23T11:00")
    items = by_id(ws)
    assert (items[1]["status"], items[2]["status"]) == ("done", "open")
    mail = new_mail(ws, before)
    assert sorted(s.kind for s in mail) == ["done", "refusal"]
    [refusal] = ws.sent_to("dana@acme.test", "refusal")
    assert refusal.msg["Auto-Submitted"] == "auto-replied"
    assert "`done #2`: `done` is for the owner of #2; you are not on this handoff." in flat(refusal.text)
    assert "Some lines of your email were not applied:" in flat(refusal.text)
    assert "changed nothing" not in flat(refusal.text) and "Applied: `done #1`." in flat(refusal.text)
    assert str(refusal.msg["Subject"]).startswith("Partly applied: ")
    assert timeline(ws, 2) == ["created", "owner_assigned"]


def test_role_and_state_refusals_are_listed_in_one_answer(ws: Workspace) -> None:
    two_handoffs(ws)
    ws.deliver(reply_to_digest(ws, DANA, "done #1"))
    ws.run("2026-11-23T11:00")
    before = len(ws.sent())
    # Sam is the requester: he may not say done; #1 is closed already for Dana; #99 does not exist.
    ws.deliver(reply_to_digest(ws, SAM, "done #2\nthanks #1 great\nack #99",
                               date="Mon, 23 Nov 2026 12:00:00 -0600"))
    ws.deliver(reply_to_digest(ws, DANA, "done #1\nack #2", date="Mon, 23 Nov 2026 12:00:00 -0600"))
    ws.run("2026-11-23T12:00")
    items = by_id(ws)
    assert (items[1]["status"], items[2]["status"]) == ("done", "acknowledged")
    [to_sam] = [s for s in new_mail(ws, before) if "sam@" in s.to and s.kind == "refusal"]
    assert "`done #2`: `done` is for the owner of #2; you are the requester." in flat(to_sam.text)
    assert "`ack #99`: I could not find #99." in flat(to_sam.text)
    assert "Applied: `thanks #1 great`." in flat(to_sam.text)
    [to_dana] = [s for s in new_mail(ws, before) if "dana@" in s.to and s.kind == "refusal"]
    assert "`done #1`: #1 is done, so it can't be marked done." in flat(to_dana.text)
    assert ws.sent_to("dana@acme.test", "thanks") and ws.sent_to("sam@acme.test", "acknowledged")


def test_unknown_number_changes_nothing(ws: Workspace) -> None:
    two_handoffs(ws)
    before = len(ws.sent())
    ws.deliver(reply_to_digest(ws, DANA, "ack #99 friday"))
    ws.run("2026-11-23T11:00")
    assert {i["status"] for i in ws.items()} == {"open"}
    [refusal] = new_mail(ws, before)
    assert refusal.kind == "refusal" and "dana@" in refusal.to
    assert "Your email changed nothing:" in flat(refusal.text)
    assert "`ack #99 friday`: I could not find #99." in flat(refusal.text)
    assert "not applied" not in flat(refusal.text) and str(refusal.msg["Subject"]).startswith("Not changed: ")


def test_done_without_a_number_is_refused_with_how_to_write_it(ws: Workspace) -> None:
    two_handoffs(ws)
    before = len(ws.sent())
    ws.deliver(reply_to_digest(ws, DANA, "done"))
    ws.run("2026-11-23T11:00")
    assert {i["status"] for i in ws.items()} == {"open"}
    [refusal] = new_mail(ws, before)
    assert refusal.kind == "refusal"
    assert "`done`: which handoff? Put its number after the command, like `done #12`." in flat(refusal.text)
    assert "`ack #14 friday`" in flat(refusal.text)


def test_prose_in_a_digest_reply_is_refused_not_relayed(ws: Workspace) -> None:
    two_handoffs(ws)
    before = len(ws.sent())
    ws.deliver(reply_to_digest(ws, DANA, "Thanks for the summary, I'll look at it later"))
    ws.deliver(reply_to_digest(ws, LEE, "Hi,\nplease remind me tomorrow"))
    ws.run("2026-11-23T11:00")
    mail = new_mail(ws, before)
    assert [s.kind for s in mail] == ["refusal", "refusal"]
    assert "`thanks for the summary, I'll look at it later`: which handoff?" in flat(mail[0].text)
    assert "“Hi,”: not a command" in flat(mail[1].text)
    assert all(len(timeline(ws, h)) == 2 for h in (1, 2))


def test_digest_choices_status_and_help_still_work(ws: Workspace) -> None:
    two_handoffs(ws)
    ws.deliver(reply_to_digest(ws, DANA, "no digest"))
    ws.deliver(reply_to_digest(ws, SAM, "status"))
    ws.deliver(reply_to_digest(ws, LEE, "help"))
    ws.run("2026-11-23T11:00")
    assert ws.sent_to("dana@acme.test", "digest_choice")
    [status] = ws.sent_to("sam@acme.test", "status")
    assert "#1 W-9 request" in status.text and "#2 insurance certificate" in status.text
    assert ws.sent_to("lee@acme.test", "help")
    assert not [s for s in ws.sent() if s.kind == "refusal"]


def test_a_digest_token_made_for_someone_else_changes_nothing(ws: Workspace) -> None:
    two_handoffs(ws)
    before = len(ws.sent())
    # Dana writes to the digest address made for Lee (or Sam): her token is not on it.
    ws.deliver(reply_to_digest(ws, DANA, "done #1\nack #2", to_digest_of="lee@acme.test"))
    ws.deliver(reply_to_digest(ws, DANA, "done #1", to_digest_of="sam@acme.test"))
    # An outsider with Dana's own digest address: no reply at all.
    ws.deliver(make_reply(None, "done #1", sender="mallory@evil.example", to=digest_to(ws, "dana@acme.test")))
    ws.run("2026-11-23T11:00")
    assert {i["status"] for i in ws.items()} == {"open"}
    mail = new_mail(ws, before)
    assert [(s.kind, s.msg["To"].addresses[0].addr_spec) for s in mail] == [
        ("refusal", "dana@acme.test"), ("refusal", "dana@acme.test")]
    assert all("made for someone else" in flat(s.text) for s in mail)
    assert all(timeline(ws, h) == ["created", "owner_assigned"] for h in (1, 2))


def test_redelivery_applies_nothing_twice(ws: Workspace) -> None:
    two_handoffs(ws)
    raw = reply_to_digest(ws, DANA, "done #1\nnote #2 asked the broker", message_id="<digest-reply@mail.acme.test>")
    ws.deliver(raw)
    ws.run("2026-11-23T11:00")
    count, t1, t2 = len(ws.sent()), timeline(ws, 1), timeline(ws, 2)
    assert t1[-1] == "done" and t2[-1] == "note"
    ws.deliver(raw)
    out = ws.run("2026-11-23T11:05")
    assert "1 already seen" in out.output
    assert len(ws.sent()) == count
    assert (timeline(ws, 1), timeline(ws, 2)) == (t1, t2)


def test_a_reply_attachment_goes_along_only_to_a_single_handoff(ws: Workspace) -> None:
    from email import message_from_bytes
    from email.policy import default

    two_handoffs(ws)
    one = message_from_bytes(reply_to_digest(ws, DANA, "done #1"), policy=default)
    one.add_attachment(b"%PDF w9", maintype="application", subtype="pdf", filename="w9.pdf")
    ws.deliver(one.as_bytes())
    ws.run("2026-11-23T11:00")
    [done] = ws.sent_to("sam@acme.test", "done")
    assert [p.get_filename() for p in done.msg.iter_attachments()] == ["w9.pdf"]

    both = message_from_bytes(reply_to_digest(ws, DANA, "ack #2\nreopen #1",
                                              date="Mon, 23 Nov 2026 12:00:00 -0600"), policy=default)
    both.add_attachment(b"%PDF cert", maintype="application", subtype="pdf", filename="cert.pdf")
    ws.deliver(both.as_bytes())
    ws.run("2026-11-23T12:00")
    [ack] = ws.sent_to("sam@acme.test", "acknowledged")
    assert list(ack.msg.iter_attachments()) == []
    [refusal] = ws.sent_to("dana@acme.test", "refusal")
    assert "`reopen #1`: `reopen` is for the requester of #1" in flat(refusal.text)
    assert "the attached files: not passed on" in flat(refusal.text)


def test_a_number_in_a_reply_to_a_handoffs_own_email(ws: Workspace) -> None:
    two_handoffs(ws)
    notice = next(s for s in ws.sent_to("dana@acme.test", "new_handoff") if s.msg["Subject"].startswith("[#1]"))
    ws.deliver(make_reply(notice, "done #2", sender=DANA))
    ws.run("2026-11-23T11:00")
    assert {i["status"] for i in ws.items()} == {"open"}
    [refusal] = ws.sent_to("dana@acme.test", "refusal")
    assert "you wrote `done #2`, but this email is about #1" in flat(refusal.text)
    assert "reply to its own email or to your digest" in flat(refusal.text)
    ws.deliver(make_reply(notice, "done #1\nsent", sender=DANA, date="Mon, 23 Nov 2026 12:00:00 -0600"))
    ws.run("2026-11-23T12:00")
    assert (by_id(ws)[1]["status"], by_id(ws)[2]["status"]) == ("done", "open")
    [done] = ws.sent_to("sam@acme.test", "done")
    assert "sent" in done.text


def test_inspect_shows_the_number(ws: Workspace) -> None:
    raw = reply_to_digest(ws, DANA, "ack #14 friday\nthanks #9 great work\nweekly")
    out = json.loads(ws.cli("inspect", "-", "--json", input=raw).output)
    assert out["kind"] == "reply"
    assert out["commands"] == [
        {"name": "ack", "args": "friday", "due": "2026-11-27", "ref": 14},
        {"name": "thanks", "args": "great work", "ref": 9},
        {"name": "weekly", "args": ""},
    ]



def test_a_misspelt_command_in_a_digest_reply_gets_did_you_mean_with_its_number(ws: Workspace) -> None:
    two_handoffs(ws)
    ws.deliver(reply_to_digest(ws, DANA, "dne #1"))
    ws.run("2026-11-23T11:00")
    [answer] = ws.sent_to("dana@acme.test", "refusal")
    assert "“dne #1”: not a command (did you mean `done #1`?)." in " ".join(answer.text.split())
    assert by_id(ws)[1]["status"] == "open", "nothing applied"
