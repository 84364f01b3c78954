"""parse_message: headers decoded safely, the right body picked, attachments split off, never a crash."""

from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from nudger.mail.forwards import find_forward
from nudger.mail.html_text import html_to_text
from nudger.mail.message import Address, parse_message
from nudger.mail.replies import reply_text

FIXTURES = Path(__file__).parent / "fixtures" / "parsing"


def load(name: str):
    return parse_message((FIXTURES / name).read_bytes())


def test_headers_addresses_and_ids():
    mail = load("replies/gmail_en.eml")
    assert mail.from_addr == Address("Dana Numbers", "dana@acme.test")
    assert mail.from_addr.as_json() == {"name": "Dana Numbers", "email": "dana@acme.test"}
    assert mail.to[0].email == "handoffs+12.abcdefghijklmnop@acme.test"
    assert mail.subject == "Re: [#12] Quote for 40 units?"
    assert mail.in_reply_to == ["handoff-12@acme.test"]
    assert mail.references == ["handoff-12@acme.test"]
    assert mail.date is not None and mail.date.utcoffset().total_seconds() == -6 * 3600
    assert mail.header("subject") == mail.subject
    assert mail.header("X-Missing") == ""
    assert mail.header_all("Received") == []


def test_multipart_alternative_prefers_plain_and_keeps_html():
    mail = load("forwards/gmail_en.eml")
    assert mail.text.startswith("@dana can you send Globex")
    assert mail.html is not None and "gmail_quote" in mail.html
    assert not mail.text_from_html


def test_html_only_body_is_converted():
    mail = load("forwards/gmail_de_html_only.eml")
    assert mail.text_from_html
    assert "Weitergeleitete Nachricht" in mail.text
    assert "Von: Jürgen Müller <j.mueller@kunde.example>" in mail.text


def test_lying_charset_falls_back_and_notes_a_defect():
    mail = load("forwards/lying_charset_latin1.eml")
    assert "À traiter vite" in mail.text
    assert any("charset" in d for d in mail.defects)


def test_declared_koi8r_is_honoured():
    assert "нужен счёт" in load("forwards/multipart_alternative_ru.eml").text


def test_rfc822_part_is_kept_raw_not_as_attachment():
    mail = load("forwards/rfc822_attachment.eml")
    assert mail.attachments == []
    assert len(mail.attached_messages) == 1
    inner = parse_message(mail.attached_messages[0])
    assert inner.subject == "Re: Purchase order 7781"
    assert [a.filename for a in inner.attachments] == ["PO-7781.pdf"]
    assert inner.attachments[0].size > 0


def test_encoded_word_with_crlf_and_broken_headers_do_not_raise():
    raw = (
        b"From: =?utf-8?q?Evil=0D=0ABcc=3A_x?= <evil@example.com>\r\n"
        b"To: =?utf-8?b?!!!notbase64?= <a@b.c>, broken <<>>\r\n"
        b"Subject: =?utf-8?q?line=0Abreak?=\r\n"
        b"Date: not a date\r\n"
        b"Message-ID: no-brackets@x\r\n"
        b"Content-Type: text/plain; charset=does-not-exist\r\n"
        b"Content-Transfer-Encoding: base64\r\n\r\n"
        b"@@@not base64@@@\r\n"
    )
    mail = parse_message(raw)
    assert "\n" not in mail.subject and "\r" not in mail.subject
    assert all("\n" not in a.name and "\r" not in a.name for a in [mail.from_addr, *mail.to] if a)
    assert mail.date is None
    assert mail.message_id == "no-brackets@x"
    assert any("Date" in d for d in mail.defects)


def test_headerless_and_empty_input():
    assert parse_message(b"").text == ""
    mail = parse_message(b"just some text\nwith no headers\n")
    assert mail.from_addr is None and mail.subject == ""


def test_attachment_filename_is_sanitised():
    raw = (
        b"From: a@b.c\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary=x\n\n--x\n"
        b"Content-Type: text/plain\n\nhello\n--x\nContent-Type: application/octet-stream\n"
        b'Content-Disposition: attachment; filename="../../etc/pass\\nwd"\n\nDATA\n--x--\n'
    )
    att = parse_message(raw).attachments[0]
    assert "/" not in att.filename and "\n" not in att.filename
    assert att.data == b"DATA"


def test_html_to_text_lines_quotes_and_no_markdown():
    html = (
        "<div>- item one<br>1. two</div><blockquote>quoted<blockquote>deeper</blockquote></blockquote>"
        "<table><tr><td>a</td><td>b</td></tr></table><p>5 &amp; 6</p><script>x()</script>"
    )
    text = html_to_text(html)
    assert "- item one\n1. two" in text
    assert "> quoted" in text and ">> deeper" in text
    assert "a | b" in text and "5 & 6" in text and "x()" not in text
    assert html_to_text(html, drop_quotes=True).strip().splitlines()[-1] == "5 & 6"


def test_html_to_text_is_linear_on_lone_angle_brackets():
    html_to_text("<a@b.c " * 20000)  # quadratic in html.parser without the escape


MIME_PIECES = st.sampled_from([
    b"From: ", b"To: ", b"Subject: ", b"Date: ", b"Content-Type: multipart/mixed; boundary=b\n",
    b"Content-Type: text/html; charset=utf-8\n", b"Content-Type: message/rfc822\n",
    b"Content-Transfer-Encoding: base64\n", b"Content-Transfer-Encoding: quoted-printable\n",
    b"--b\n", b"--b--\n", b"\n", b"=?utf-8?q?a=0D=0Ab?=", b"<x@y>", b"> ", b"On Mon wrote:\n",
    b"From: a <a@b.c>\nSent: x\nTo: y\nSubject: z\n", b"-----Original Message-----\n",
    b"<blockquote>", b"<div class=gmail_quote>", b"\xff\xfe", b"=\n", b"\r\n",
])


@settings(derandomize=True, deadline=None, max_examples=200)
@given(st.one_of(
    st.binary(max_size=2000),
    st.lists(st.one_of(MIME_PIECES, st.binary(max_size=40)), max_size=60).map(b"".join),
))
def test_parsing_never_raises(raw):
    mail = parse_message(raw)
    fwd = find_forward(mail)
    assert isinstance(reply_text(mail), str)
    if fwd is not None:
        assert isinstance(fwd.as_json(), dict)


def test_outlook_msonormal_paragraphs_are_single_lines() -> None:
    from nudger.mail.html_text import html_to_text

    html = (
        "<p class=MsoNormal>Hi Dana,<o:p></o:p></p><p class=MsoNormal><o:p>&nbsp;</o:p></p>"
        "<p class=MsoNormal>Can you send the W-9?<o:p></o:p></p>"
        "<p class=MsoNormal>Thanks,<o:p></o:p></p><p class=MsoNormal>Sam<o:p></o:p></p>"
        '<p style="margin: 0">tight</p><p style="margin:0in">tight too</p><p>loose</p><p>again</p>'
    )
    assert html_to_text(html).split("\n") == [
        "Hi Dana,", "", "Can you send the W-9?", "Thanks,", "Sam", "tight", "tight too", "",
        "loose", "", "again", "",
    ]


def test_encoded_crlf_in_a_display_name_keeps_the_address() -> None:
    raw = (b'From: "Sam =?utf-8?Q?X=0D=0ABcc=3A_x=40evil=2Eexample?=" <sam@acme.test>\n'
           b"To: handoffs@acme.test\nCc: =?utf-8?Q?Lee=0D=0A?= <lee@acme.test>\n\n@dana please\n")
    mail = parse_message(raw)
    assert mail.from_addr is not None and mail.from_addr.email == "sam@acme.test"
    assert "\n" not in mail.from_addr.name and "\r" not in mail.from_addr.name
    assert [a.email for a in mail.cc] == ["lee@acme.test"]


def test_raw_latin1_headers_are_recovered() -> None:
    raw = b"From: J\xfcrgen Wei\xdf <jw@example.de>\nTo: handoffs@acme.test\nSubject: caf\xe9 cr\xe8me\n\nhi\n"
    mail = parse_message(raw)
    assert mail.subject == "café crème"
    assert mail.from_addr is not None and mail.from_addr.name == "Jürgen Weiß"
