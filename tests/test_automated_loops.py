"""No loop with automated senders: more automated mail is recognised (Exchange rules,
vacation programs, out-of-office subjects in the languages a sales team meets, reports from
system mailboxes without DSN structure); answers and relays per person are limited; a
relayed note identical to that person's last is dropped; and mail to one person per hour
is capped, the surplus held in the outbox, never dropped."""

from __future__ import annotations

import json

import pytest
from conftest import ORG_TOML, Workspace, make_forward, make_plain, make_reply
from test_loop import start

from nudger.config import load_config
from nudger.core.classify import classify
from nudger.mail.message import parse_message

OUT_OF_OFFICE = [
    "Automatic reply: W-9", "Auto-Reply: W-9", "Out of Office: W-9", "OOO until Monday", "Autoreply: W-9",
    "Automatische Antwort: W-9", "Abwesenheitsnotiz: W-9", "Automatisch antwoord: W-9", "Afwezig: W-9",
    "Réponse automatique : W-9", "Absent du bureau", "Respuesta automática: W-9", "Fuera de la oficina",
    "Resposta automática: W-9", "Ausência temporária", "Risposta automatica: W-9", "Fuori sede fino a lunedì",
    "Autosvar: W-9", "Automatisk svar: W-9", "Frånvarande", "Fraværende", "Automaattinen vastaus: W-9",
    "Odpowiedź automatyczna: W-9", "Automatyczna odpowiedź: W-9", "Automatická odpověď: W-9",
    "Automatická odpoveď: W-9", "Automatikus válasz: W-9", "Răspuns automat: W-9", "Automatski odgovor: W-9",
    "Samodejni odgovor: W-9", "Otomatik yanıt: W-9", "Αυτόματη απάντηση: W-9", "Автоматический ответ: W-9",
    "Автоматична відповідь: W-9", "Автоматичен отговор: W-9", "自动回复: W-9", "自動回覆: W-9", "自動応答: W-9",
    "자동 회신: W-9", "Trả lời tự động: W-9", "Balasan otomatis: W-9", "תשובה אוטומטית: W-9",
]
NOT_OUT_OF_OFFICE = ["Fwd: W-9 request", "Re: [#1] W-9", "Fwd: Automatic reply: W-9", "Quarterly autopay setup",
                     "Absence policy question"]


def kind_of(tmp_path, raw: bytes) -> str:
    (tmp_path / "nudger.toml").write_text(ORG_TOML)
    return classify(parse_message(raw), load_config(tmp_path / "nudger.toml", {})).kind


@pytest.mark.parametrize("subject", OUT_OF_OFFICE)
def test_out_of_office_subjects_in_the_languages_a_sales_team_meets(tmp_path, subject: str) -> None:
    assert kind_of(tmp_path, make_plain("dana@acme.test", subject, "I am away until Monday.")) == "auto_reply"


@pytest.mark.parametrize("subject", NOT_OUT_OF_OFFICE)
def test_ordinary_subjects_are_not_taken_for_out_of_office(tmp_path, subject: str) -> None:
    assert kind_of(tmp_path, make_plain("sam@acme.test", subject, "@dana please")) != "auto_reply"


@pytest.mark.parametrize("header", [
    "X-MS-Exchange-Inbox-Rules-Loop: dana@acme.test", "X-MS-Exchange-Generated-Message-Source: Mailbox Rules Agent",
    "X-Vacation: yes", "X-Autoresponder: on", "X-Loop: dana@acme.test", "X-Mail-Autoreply: yes",
])
def test_automated_headers_are_recognised(tmp_path, header: str) -> None:
    raw = header.encode() + b"\r\n" + make_plain("dana@acme.test", "Re: [#1] W-9", "ok")
    assert kind_of(tmp_path, raw) == "auto_reply"


@pytest.mark.parametrize("sender, subject", [
    ("Microsoft Outlook <MicrosoftExchange329e71ec88ae4615bbc36ab6ce41109e@acme.test>", "Undeliverable: W-9"),
    ("Mail Delivery System <bounces+123@mail.acme.test>", "Delivery Status Notification (Failure)"),
    ("Mail Delivery Subsystem <mail-delivery@acme.test>", "Returned mail: see transcript for details"),
    ("postmaster <mdaemon@acme.test>", "Unzustellbar: W-9"),
])
def test_reports_from_system_mailboxes_without_dsn_structure_are_never_answered(ws: Workspace, sender: str,
                                                                                subject: str) -> None:
    ws.deliver(make_plain(sender, subject, "Your message to bill@initech.example couldn't be delivered."))
    ws.run("2026-11-23T09:05")
    assert ws.items() == [] and ws.sent() == []


def test_two_out_of_office_replies_answering_each_other_stop_at_once(ws: Workspace) -> None:
    """Dana's and Sam's autoresponders carry no standard header; each answers the other's relay."""
    start(ws)
    away = {"dana@acme.test": "I am away until Monday.", "sam@acme.test": "Sam is travelling this week."}
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    who, minute = "dana@acme.test", 10
    for _ in range(12):  # each round: the latest email to `who` is answered by their responder
        ws.deliver(make_reply(notice, away[who], sender=who, date=f"Mon, 23 Nov 2026 10:{minute:02d}:00 -0600"))
        ws.run(f"2026-11-23T10:{minute:02d}")
        minute += 2
        other = "sam@acme.test" if who == "dana@acme.test" else "dana@acme.test"
        relayed = ws.sent_to(other, "note")
        if not relayed or relayed[-1].path == getattr(notice, "path", None):
            break  # nothing new reached the other side: the loop is over
        notice, who = relayed[-1], other
    notes = [s for s in ws.sent() if s.kind == "note"]
    assert len(notes) == 2  # each responder's words went across once
    timeline = json.loads(ws.cli("show", "1", "--json").output)["timeline"]
    assert [e["kind"] for e in timeline].count("note") == 2


def test_a_rule_forwarding_our_notice_back_gets_no_answer(ws: Workspace) -> None:
    start(ws)
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    for i in range(6):
        ws.deliver(make_reply(notice, f"FYI forwarded by rule {i}", sender="dana@acme.test", to="handoffs@acme.test",
                              headers={"X-MS-Exchange-Inbox-Rules-Loop": "dana@acme.test"}))
        ws.run(f"2026-11-23T10:{i:02d}")
    assert [s.kind for s in ws.sent_to("dana@acme.test")] == ["new_handoff"]


def test_answers_to_one_person_about_one_handoff_are_limited(ws: Workspace) -> None:
    """A forwarder that strips every header bounces our refusals back: 5 a day, then silence."""
    start(ws)
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    for i in range(9):  # no token (sent to the bare address), no DKIM: each is refused
        ws.deliver(make_reply(notice, f"done {i}", sender="dana@acme.test", to="handoffs@acme.test"))
        ws.run(f"2026-11-23T10:{i * 2:02d}")
    refusals = ws.sent_to("dana@acme.test", "refusal")
    assert len(refusals) == 5
    assert ws.items()[0]["status"] == "open"


def test_a_challenge_response_filter_gets_a_bounded_number_of_receipts(ws: Workspace) -> None:
    """An internal filter answers each receipt with a new, unthreaded "please confirm" email."""
    ws.deliver(make_plain("filter@acme.test", "Please confirm you are human", "Reply to this email to confirm."))
    for i in range(45):
        ws.run(f"2026-11-23T10:{i:02d}")
        answers = ws.sent_to("filter@acme.test")  # "who should take this?": no one was named
        if len(answers) <= i:
            break  # no new receipt: the filter has nothing to answer
        ws.deliver(make_plain("filter@acme.test", f"Please confirm you are human ({i})", "Reply to confirm."))
    assert len(ws.sent_to("filter@acme.test")) == 30  # answers to one person in an hour


def test_a_salesperson_clearing_a_backlog_gets_every_receipt(ws: Workspace) -> None:
    for i in range(25):
        ws.deliver(make_forward(note=f"@dana W-9 number {i}", subject=f"Fwd: W-9 {i}",
                                message_id=f"<backlog-{i}@acme.test>"))
    ws.run("2026-11-23T09:05")
    assert len(ws.items()) == 25 and len(ws.sent_to("sam@acme.test", "receipt")) == 25


def test_mail_to_one_person_per_hour_is_capped_and_the_rest_waits(tmp_path) -> None:
    ws = Workspace(tmp_path, ORG_TOML + "\n[limits]\nmail_per_recipient_hour = 4\n")
    for i in range(7):
        ws.deliver(make_forward(note=f"@dana W-9 number {i}", subject=f"Fwd: W-9 {i}",
                                message_id=f"<w9-{i}@acme.test>"))
    ws.run("2026-11-23T09:05")
    assert len(ws.items()) == 7
    assert len(ws.sent_to("dana@acme.test", "new_handoff")) == 4
    outbox = ws.cli("outbox").output
    assert outbox.count("new_handoff") == 3 and "queued" in outbox  # held, not dropped
    ws.run("2026-11-23T09:30")
    assert len(ws.sent_to("dana@acme.test", "new_handoff")) == 4  # the hour is not over
    ws.run("2026-11-23T10:06")
    assert len(ws.sent_to("dana@acme.test", "new_handoff")) == 7
