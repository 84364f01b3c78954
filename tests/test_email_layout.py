"""Every email kind, as each recipient gets it, read in real headless Chromium at phone and
desktop widths, and every plain-text part read line by line.

One browser serves the whole module. Screenshots go to pytest's temp dir (printed with -s),
never into the repository.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from chromium import Browser
from email_samples import Sample, samples

SAMPLES = samples()
BY_LABEL = {s.label: s for s in SAMPLES}
WIDTHS = (375, 1024)
RAW_TEMPLATE = re.compile(r"\{\{|\}\}|\{%|%\}|\{#|#\}")
UNSET = re.compile(r"\b(?:None|undefined|null|nan)\b")
CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f]")


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Browser]:
    b = Browser(tmp_path_factory.mktemp("chromium-profile"))
    yield b
    b.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("email-screenshots")


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("label", sorted(BY_LABEL))
def test_each_email_fits_the_screen_and_reads_whole(browser: Browser, shots: Path, label: str, width: int) -> None:
    sample = BY_LABEL[label]
    html = sample.html
    assert html, f"{label}: no HTML part"
    for dark in (False, True):
        shot = shots / f"{label}-{width}{'-dark' if dark else ''}.png"
        seen = browser.layout(html, width, shot, dark=dark)
        assert seen.scroll_width <= width, (
            f"{label} at {width} px{' (dark)' if dark else ''} is {seen.scroll_width} px wide; widest: {seen.widest}")
    text = seen.text
    assert len(text.split()) >= 8, f"{label}: almost no text: {text!r}"
    assert not RAW_TEMPLATE.search(text) and not RAW_TEMPLATE.search(sample.text), f"{label}: template syntax shown"
    assert not UNSET.search(text), f"{label}: {UNSET.search(text)!r} in {text!r}"
    assert not UNSET.search(sample.text), f"{label}: {UNSET.search(sample.text)!r} in the text part"


def _customer_lines(sample: Sample) -> set[str]:
    """Lines the customer, the requester or a colleague wrote: shown as written, never rewrapped."""
    from email_samples import CUSTOMER_TEXT, NOTE, URL, WORDS, handoff

    forwarded = handoff().forwarded or {}
    own = [str(forwarded.get("body") or ""), NOTE, WORDS, *CUSTOMER_TEXT, URL]
    return {line.strip() for block in own for line in block.splitlines()}


@pytest.mark.parametrize("label", sorted(BY_LABEL))
def test_each_text_part_keeps_to_72_columns_except_what_people_wrote(label: str) -> None:
    sample = BY_LABEL[label]
    text = sample.text
    assert text.strip(), f"{label}: no text part"
    assert not CONTROL.search(text), f"{label}: control character {CONTROL.search(text)!r}"
    theirs = _customer_lines(sample)
    too_long = [line for line in text.splitlines()
                if len(line) > 72 and not any(t and t in line for t in theirs if len(t) > 40)]
    assert not too_long, f"{label}: lines over 72 columns: {too_long}"


def test_the_customer_email_is_in_the_owners_text_byte_for_byte() -> None:
    from email_samples import handoff

    body = str((handoff().forwarded or {})["body"])
    assert body in BY_LABEL["new_handoff-owner"].text


def _buttons(sample: Sample) -> list[tuple[str, str]]:
    """(href, first line of the reply it prefills) of every link in the HTML part."""
    from html import unescape
    from urllib.parse import parse_qs, urlsplit

    out = []
    for href in re.findall(r'href="([^"]*)"', sample.html):
        href = unescape(href)
        query = parse_qs(urlsplit(href).query)
        out.append((href, (query.get("body") or [""])[0]))
    return out


@pytest.mark.parametrize("label", sorted(BY_LABEL))
def test_every_link_is_a_mailto_reply_to_the_token_address_never_a_web_link(label: str) -> None:
    sample = BY_LABEL[label]
    reply_to = str(sample.msg["Reply-To"])
    for href, _ in _buttons(sample):
        assert href.startswith(f"mailto:{reply_to}?"), f"{label}: {href}"
        assert "subject=Re%3A%20" in href, f"{label}: the reply keeps the subject: {href}"


def test_the_commands_offered_follow_the_state_and_the_role() -> None:
    def offered(label: str) -> set[str]:
        return {body.split()[0] for _, body in _buttons(BY_LABEL[label]) if body.strip()}

    assert offered("done-requester") == {"thanks", "reopen"}
    assert offered("done-watcher") == {"thanks", "note"}
    assert offered("thanks-owner") == {"note"}, "the owner's copy of a thanks offers no ack"
    assert {"ack", "decline"} <= offered("new_handoff-owner") and "done" not in offered("new_handoff-owner")
    assert {"done", "blocked", "due"} <= offered("due_soon-owner") and "ack" not in offered("due_soon-owner")
    assert "unblock" in offered("blocked-watcher") or offered("blocked-watcher") == {"status", "note"}
    assert offered("cancelled-owner") == {"note"}
    assert {"reassign", "due"} <= offered("escalation-someone")
    assert not offered("help-someone") and not offered("daily_digest-someone")
    text = BY_LABEL["done-requester"].text
    assert "Reply with: thanks <words> | reopen | any other text is a note." in text
    assert "due <date>" not in text and "cancel" not in text


def test_the_card_leads_with_the_due_date_and_status_and_badges_what_needs_attention() -> None:
    text = BY_LABEL["overdue-owner"].text
    card = text[text.index("#42 Order form"):].splitlines()
    assert card[1].split() == ["Due:", "Wed", "18", "Nov", "2026", "[OVERDUE]", "[RUSH]"]
    assert card[2].split()[:2] == ["Status:", "confirmed"]
    html = BY_LABEL["overdue-owner"].html
    html = html[html.index('class="hc"'):]
    assert html.index("Due Wed 18 Nov 2026") < html.index("#42 Order form") < html.index("Owner:")
    for badge in ("overdue", "rush", "confirmed"):
        assert f">{badge}</span>" in html
    blocked = BY_LABEL["escalation-someone"].html
    assert ">blocked</span>" in blocked and "waiting for the signed order form" in blocked
    assert "Priority" not in BY_LABEL["due_soon-owner"].text, "normal priority is not news"
    assert "Status:    [BLOCKED]: waiting for the signed order form" in BY_LABEL["escalation-someone"].text


def test_the_stylesheet_is_inlined_and_only_screen_rules_stay_in_a_style_element() -> None:
    html = BY_LABEL["new_handoff-owner"].html
    assert html.count("<style") == 1 and "prefers-color-scheme: dark" in html
    assert 'class="hc-due" style="' in html and "overflow-wrap: anywhere" in html


def test_an_attachment_goes_out_as_its_own_bytes_and_leaves_the_html_readable() -> None:
    msg = BY_LABEL["new_handoff-owner"].msg
    att, ics = list(msg.iter_attachments())
    assert att.get_content() == b"%PDF-1.4 " * 400  # type: ignore[union-attr]
    assert ics.get_content_type() == "text/calendar" and ics.get_param("method") == "REQUEST"
    assert "<html" in BY_LABEL["new_handoff-owner"].html
