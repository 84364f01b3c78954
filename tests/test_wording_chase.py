"""Reminders and team names as their readers see them: an owner who never acked is offered
what fits (done, a date they can keep, decline), and teams go by their names."""

from __future__ import annotations

from conftest import Workspace, make_forward

from nudger.config.model import team_label


def _days(ws: Workspace, *days: str) -> None:
    for day in days:
        for hour in ("08:05", "09:05", "12:05"):
            ws.run(f"{day}T{hour}")


def test_a_reminder_to_an_owner_who_never_acked_offers_ack_with_a_date_not_blocked(ws: Workspace) -> None:
    ws.deliver(make_forward())
    _days(ws, "2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27", "2026-11-30", "2026-12-01")
    chased = ws.sent_to("dana@acme.test", "due_soon") + ws.sent_to("dana@acme.test", "overdue")
    assert {s.kind for s in chased} == {"due_soon", "overdue"}, [s.kind for s in chased]
    for s in chased:
        text = " ".join(s.text.split())
        assert "You haven't confirmed it yet" in text and "`ack <date>` with a date you can keep" in text
        assert ".\r\n\r\n#1 W-9 request\r\n  Due:" in s.text, "a blank line before the card"
        assert "blocked <reason>" not in text and "`due <date>`" not in text
        assert "Reply with: done | ack <date> | decline <reason> | reassign @someone" in text
        assert "mailto:" in s.html and "Confirm a new date" in s.html and ">Blocked<" not in s.html


def test_a_reminder_to_an_owner_who_acked_offers_due_and_blocked(ws: Workspace) -> None:
    ws.answer(ws.handed_over(), "ack", "2026-11-23T09:30")
    _days(ws, "2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27", "2026-11-30")
    chased = ws.sent_to("dana@acme.test", "due_soon") + ws.sent_to("dana@acme.test", "overdue")
    assert chased
    for s in chased:
        text = " ".join(s.text.split())
        assert "You haven't confirmed" not in text and "`blocked <reason>`" in text


def test_teams_go_by_their_names_in_emails() -> None:
    assert team_label("accounting") == "Accounting"
    assert team_label("field_sales") == "Field Sales"
    assert team_label("EMEA") == "EMEA" and team_label("McKinsey-Ops") == "McKinsey Ops"


def test_the_owner_line_names_the_team(ws: Workspace) -> None:
    ws.deliver(make_forward(note="@accounting please send the W-9, due friday"))
    ws.run("2026-11-23T09:05")
    [notice] = [s for s in ws.sent() if s.kind == "new_handoff"]
    assert "(Accounting)" in notice.text and "(accounting)" not in notice.text


def test_words_after_a_new_date_are_relayed_with_their_own_full_stop(ws: Workspace) -> None:
    notice = ws.handed_over()
    ws.answer(notice, "ack", "2026-11-23T09:30")
    ws.answer(notice, "due 12/4 - The customer asked for more time.", "2026-11-23T11:35",
              date="Mon, 23 Nov 2026 11:30:00 -0600")
    [moved] = ws.sent_to("sam@acme.test", "due_changed")
    assert "They wrote: The customer asked for more time.\r\n" in moved.text


STATE_CHANGES = ("acknowledged", "blocked", "unblocked", "done", "cancelled", "reopened", "due_changed",
                 "thanks", "note", "declined", "reassigned", "changes")


def test_every_state_change_email_carries_the_handoffs_card(ws: Workspace, tmp_path) -> None:
    """The short emails (done, blocked, a note, …) show the card too: due date, status badge,
    owner, requester, in HTML and in text, so the reader sees where it stands at a glance."""
    ws.deliver(make_forward(note="@accounting please send the W-9, due friday"))
    ws.run("2026-11-23T09:05")
    for kind in STATE_CHANGES:
        html = tmp_path / f"{kind}.html"
        out = ws.cli("preview", kind, "--to", "sam@acme.test", "--handoff", "1", "--html", str(html),
                     "--now", "2026-11-23T10:00").output
        assert "  Status:    " in out and "  Owner:     Dana Numbers (Accounting)" in out, (kind, out)
        page = html.read_text()
        assert 'class="badge badge-' in page and "#1 W-9 request" in page, kind


def test_an_escalation_to_the_admin_says_why_and_lists_the_chasing_so_far(ws: Workspace) -> None:
    """Nobody above the owner: the admin hears it, told why, and sees the reminders and alerts
    the owner already had, with days as the emails write them."""
    ws.deliver(make_forward())
    days = ("2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27", "2026-11-30",
            "2026-12-01", "2026-12-02", "2026-12-03")
    _days(ws, *days)
    escalations = [s for s in ws.sent() if s.kind == "escalation"]
    assert len(escalations) == 1
    text = " ".join(escalations[0].text.split())
    assert "went to Dana Numbers" in text and "An overdue alert went to Dana Numbers" in text
    assert "2026-" not in text.split("What happened so far:")[1].split("You can reply")[0]
    assert ".\r\n\r\nWhat happened so far:" in escalations[0].text


def test_a_title_with_quotes_of_its_own_is_not_quoted_again(ws: Workspace) -> None:
    ws.deliver(make_forward(subject="Fwd: “Urgent” price list"))
    ws.run("2026-11-23T09:05")
    [receipt] = ws.sent_to("sam@acme.test", "receipt")
    text = " ".join(receipt.text.split())
    assert "“Urgent” price list" in text and "\"“Urgent”" not in text
    ws.deliver(make_forward(subject="Fwd: Price list", message_id="<b@mail.acme.test>"))
    ws.run("2026-11-23T09:10")
    assert '"Price list"' in " ".join(ws.sent_to("sam@acme.test", "receipt")[-1].text.split())


def test_status_and_help_in_one_reply_are_one_answer(ws: Workspace) -> None:
    notice = ws.handed_over()
    before = len(ws.sent())
    ws.answer(notice, "status\nhelp", "2026-11-23T09:30")
    [answer] = ws.sent()[before:]
    assert answer.kind == "status" and "Here is where #1 stands" in answer.text
    assert "reassign @someone   hand it to someone else" in answer.text and "reassign @someone" in answer.html


def test_the_team_digest_names_the_team(ws: Workspace) -> None:
    """Its subject and first line say "Accounting", not the config key (the notice's own
    context carries the key, for the dedupe key and --team)."""
    ws.handed_over()
    for day in ("2026-11-23", "2026-11-24", "2026-11-25", "2026-11-26", "2026-11-27", "2026-11-30"):
        ws.run(f"{day}T08:05")
    digests = [s for s in ws.sent() if s.kind == "team_digest" and "Accounting" in str(s.msg["Subject"])]
    assert digests, [str(s.msg["Subject"]) for s in ws.sent() if s.kind == "team_digest"]
    assert all("Team accounting" not in d.text and "Team Accounting, the week" in d.text for d in digests)


def test_a_blocked_reason_over_two_lines_stays_inside_the_card(ws: Workspace) -> None:
    notice = ws.handed_over()
    ws.answer(notice, "ack", "2026-11-23T09:30")
    ws.answer(notice, "blocked waiting on the bank\nthey said next week", "2026-11-23T11:05")
    [told] = ws.sent_to("sam@acme.test", "blocked")
    assert "  Status:    [BLOCKED]: waiting on the bank / they said next week\r\n" in told.text
    card = told.text.split("#1 W-9 request\r\n", 1)[1]
    assert all(line.startswith("  ") or not line for line in card.split("\r\n-- ")[0].split("\r\n"))


def test_an_ack_reminder_says_when_the_handoff_was_handed_over(ws: Workspace) -> None:
    """Handed over at 21:00, the notice waits for Dana's morning; the reminder names 21:00."""
    ws.deliver(make_forward(date="Mon, 23 Nov 2026 21:00:00 -0600"), arrived="2026-11-23T21:00")
    ws.run("2026-11-23T21:05")
    _days(ws, "2026-11-24", "2026-11-25")
    [reminder] = ws.sent_to("dana@acme.test", "ack_reminder")
    assert "handed you #1 \"W-9 request\" on Mon 23 Nov, 21:00" in " ".join(reminder.text.split())


def test_a_yearless_date_that_has_passed_is_next_years_and_the_email_says_so(ws: Workspace) -> None:
    notice = ws.handed_over()
    ws.answer(notice, "ack 11/20", "2026-11-23T11:05")
    [told] = ws.sent_to("sam@acme.test", "acknowledged")
    [mine] = ws.sent_to("dana@acme.test", "calendar_update")
    for sent in (told, mine):
        text = " ".join(sent.text.split())
        assert "to Sat 20 Nov 2027" in text and "this year's has passed" in text
        assert "this year&#39;s has passed" in sent.html or "this year's has passed" in sent.html
    ws.answer(notice, "due 12/4", "2026-11-23T11:35", date="Mon, 23 Nov 2026 11:30:00 -0600")
    [moved] = ws.sent_to("sam@acme.test", "due_changed")
    assert "has passed" not in moved.text, "a near date says nothing more"
