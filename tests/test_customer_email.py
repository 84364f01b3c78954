"""The customer's email as the owner and the watchers see it: whole, readable, with its files."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from conftest import Workspace
from email_samples import CUSTOMER_TEXT, URL, outlook_forward

from nudger.mail.forwards import find_forward
from nudger.mail.html_text import html_to_text
from nudger.mail.message import parse_message
from nudger.ops import sample_mail


def test_an_outlook_html_only_forward_keeps_paragraphs_and_reads_its_table_as_rows() -> None:
    fwd = find_forward(parse_message(outlook_forward()))
    assert fwd is not None
    body = fwd.body
    assert body.startswith("Hi Sam,\n\nPlease find the order details below. The portal link is " + URL + "\n\n")
    assert "Item | Qty | Price\nTPS licence (annual) | 12 | $1,200.00\nSupport | 1 | $300.00" in body
    assert [a.email for a in fwd.cc] == ["peter@initech.example", "ap@initech.example", "lee@acme.test"]


def test_a_label_cell_reads_into_its_value_and_layout_tables_keep_their_paragraphs() -> None:
    text = html_to_text("<table><tr><th>From:</th><td>Ellen</td></tr></table>"
                        "<table><tr><td><p>First paragraph.</p><p>Second.</p></td><td></td></tr></table>"
                        "<table><tr><td><table><tr><td>a</td><td>b</td></tr></table></td><td>side</td></tr></table>")
    assert "From: Ellen" in text
    assert "First paragraph.\n\nSecond." in text
    assert "a | b" in text and "side" in text


def test_an_inline_cid_logo_is_not_an_attachment_but_a_file_is() -> None:
    mail = parse_message(outlook_forward())
    [logo] = mail.attachments
    assert logo.inline and logo.content_id == "image001.png@01DA1234.5678ABCD"
    assert mail.files == []


def test_the_owner_sees_the_customer_email_whole_and_the_watcher_is_told_of_its_files(ws: Workspace) -> None:
    raw = outlook_forward()
    # The same forward with a real attachment besides the logo, copied to Lee (a watcher).
    from email import message_from_bytes
    from email.policy import default

    msg = message_from_bytes(raw, policy=default)
    msg["Cc"] = "Lee Ledger <lee@acme.test>"
    msg.make_mixed()  # type: ignore[attr-defined]
    msg.add_attachment(b"%PDF-1.4 order", maintype="application", subtype="pdf",  # type: ignore[attr-defined]
                       filename="order-form.pdf")
    ws.deliver(msg.as_bytes())
    ws.run("2026-11-23T10:00")
    [owner] = ws.sent_to("dana@acme.test", "new_handoff")
    names = [p.get_filename() for p in owner.msg.iter_attachments()]
    assert names == ["order-form.pdf", "handoff-1.ics"], "the signature logo is not passed on as the customer's file"
    text = owner.text.replace("\r\n", "\n")
    assert "\nTo:      Sam Seller <sam@acme.test>\n" in text
    assert ("\nCc:      Peter Gibbons <peter@initech.example>, Accounts Payable\n"
            "         <ap@initech.example>, Lee Ledger <lee@acme.test>\n") in text, "hanging indent"
    assert "Item | Qty | Price" in text and CUSTOMER_TEXT[1] in text
    assert "Cc:</b> Peter Gibbons &lt;peter@initech.example&gt;" in owner.html
    [watcher] = ws.sent_to("lee@acme.test", "new_handoff")
    assert list(watcher.msg.iter_attachments()) == []
    assert "The customer's email came with order-form.pdf (14 bytes); Dana Numbers has the files." in \
        " ".join(watcher.text.split())


def test_a_reply_signature_logo_is_not_relayed_as_a_file() -> None:
    html = '<p>thanks</p><img src="cid:logo@x">'
    raw = sample_mail.plain("sam@acme.test", "Re: x", "thanks", to="h@acme.test",
                            date=datetime(2026, 11, 23, 9, tzinfo=timezone(timedelta(hours=-6))))
    from email import message_from_bytes
    from email.policy import default

    msg = message_from_bytes(raw, policy=default)
    msg.add_alternative(html, subtype="html")  # type: ignore[attr-defined]
    msg.get_payload()[1].add_related(b"png", maintype="image", subtype="png", cid="<logo@x>")  # type: ignore[index]
    mail = parse_message(msg.as_bytes())
    assert len(mail.attachments) == 1 and mail.files == []


def test_a_signature_logo_s_alt_text_is_not_read_as_the_customer_s_words() -> None:
    html = ('<p>Please send the W-9.</p><p>Bill</p><img src="cid:image001.png@01DA" alt="Contoso">'
            '<p>Our figures:</p><img src="https://contoso.example/q3.png" alt="Q3 sales chart">')
    text = html_to_text(html)
    assert "Contoso" not in text and "Q3 sales chart" in text and "Please send the W-9." in text
