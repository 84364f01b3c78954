"""Emails as people and their mail clients write them, for the demo, the tests and the bench.

One builder each for a forward, a new email, a reply and an out-of-office, so the demo's
story, the tests and the benchmark feed nudger the same shapes of mail and can't drift
apart. Nothing on the cron path imports this: nudger only reads such emails.
"""

from __future__ import annotations

import mimetypes
from collections.abc import Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid, parseaddr, parsedate_to_datetime

MSGID_DOMAIN = "mail.acme.test"


def forward(
    note: str,
    *,
    sender: str,
    to: str,
    subject: str,
    date: datetime,
    customer: str,
    customer_subject: str,
    customer_body: str,
    customer_date: datetime,
    cc: str | None = None,
    message_id: str | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    """A Gmail-style inline forward: the note on top, then the customer's email (sent by
    ``customer`` to ``sender``) under Gmail's separator and header block, as people do it."""
    msg = _start(sender, to, subject, date, message_id, cc=cc)
    msg.set_content(
        f"{note}\n\n---------- Forwarded message ---------\n"
        f"From: {customer}\nDate: {_gmail_date(customer_date)}\nSubject: {customer_subject}\n"
        f"To: {sender}\n\n{customer_body}\n"
    )
    _attach(msg, attachment)
    return msg.as_bytes()


def outlook_forward(
    note: str,
    *,
    sender: str,
    to: str,
    subject: str,
    date: datetime,
    customer: str,
    customer_to: str,
    customer_cc: str,
    customer_subject: str,
    paragraphs: list[str],
    table: list[tuple[str, ...]],
    customer_date: datetime,
    message_id: str | None = None,
) -> bytes:
    """An Outlook desktop forward with no text part at all: MsoNormal paragraphs, the
    customer's header block under Outlook's rule, a table of line items and a signature
    logo shown inline (``cid:``) from a multipart/related part, as Outlook sends them."""
    from html import escape

    msg = _start(sender, to, subject, date, message_id)
    head = "".join(
        f"<b>{label}:</b> {escape(value)}<br>"
        for label, value in (("From", customer), ("Sent", customer_date.strftime("%A, %B %-d, %Y %-I:%M %p")),
                             ("To", customer_to), ("Cc", customer_cc), ("Subject", customer_subject))
    )
    rows = "".join(
        "<tr>" + "".join(f'<td style="padding:0 6pt"><p class="MsoNormal">{escape(c)}</p></td>' for c in row) + "</tr>"
        for row in table
    )
    body = "".join(f'<p class="MsoNormal">{escape(p)}<o:p></o:p></p><p class="MsoNormal">&nbsp;</p>'
                   for p in paragraphs)
    html = (
        '<html><head><meta http-equiv="Content-Type" content="text/html; charset=utf-8"></head>'
        '<body lang="EN-US"><div class="WordSection1">'
        f'<p class="MsoNormal">{escape(note)}<o:p></o:p></p><p class="MsoNormal">&nbsp;</p>'
        '<div style="border:none;border-top:solid #E1E1E1 1.0pt;padding:3.0pt 0in 0in 0in">'
        f'<p class="MsoNormal">{head}</p></div><p class="MsoNormal">&nbsp;</p>'
        f'{body}<table class="MsoNormalTable" border="1" cellspacing="0" cellpadding="0">{rows}</table>'
        '<p class="MsoNormal">&nbsp;</p><p class="MsoNormal"><img width="120" height="40" '
        'src="cid:image001.png@01DA1234.5678ABCD" alt="Initech"></p></div></body></html>'
    )
    msg.set_content(html, subtype="html")
    logo = (b"\x89PNG\r\n\x1a\n" + b"\0" * 64)
    msg.add_related(logo, maintype="image", subtype="png", cid="<image001.png@01DA1234.5678ABCD>",
                    filename="image001.png")
    return msg.as_bytes()


def plain(
    sender: str,
    subject: str,
    body: str,
    *,
    to: str,
    date: datetime | None = None,
    message_id: str | None = None,
    headers: Mapping[str, str] | None = None,
    attachment: tuple[str, bytes] | None = None,
) -> bytes:
    """A new email that is neither a forward nor a reply. Without ``date`` it has no Date
    header, so nudger takes the time it arrived."""
    msg = _start(sender, to, subject, date, message_id, headers=headers)
    msg.set_content(body)
    _attach(msg, attachment)
    return msg.as_bytes()


def reply(
    notice: EmailMessage,
    text: str,
    *,
    sender: str,
    date: datetime,
    to: str | None = None,
    message_id: str | None = None,
    headers: Mapping[str, str] | None = None,
) -> bytes:
    """A person's answer to one of nudger's emails: threaded on it, sent to its Reply-To
    (unless ``to``), with the new text above Gmail's "On … wrote:" and the quoted notice."""
    parent = str(notice["Message-ID"])
    msg = _start(sender, to or str(notice["Reply-To"]), "Re: " + str(notice["Subject"]), date, message_id,
                 headers={"In-Reply-To": parent, "References": parent, **(headers or {})})
    quoted = "\n".join("> " + line for line in _text(notice).splitlines())
    when = _gmail_date(parsedate_to_datetime(str(notice["Date"])))
    msg.set_content(f"{text}\n\nOn {when} {notice['From']} wrote:\n{quoted}\n")
    return msg.as_bytes()


def out_of_office(notice: EmailMessage, *, sender: str, date: datetime, back: str = "next week") -> bytes:
    """The auto-reply a mail server sends in answer to ``notice`` while ``sender`` is away,
    marked ``Auto-Submitted`` (RFC 3834) as such servers do."""
    msg = _start(sender, str(notice["Reply-To"]), "Automatic reply: " + str(notice["Subject"]), date, None,
                 headers={"In-Reply-To": str(notice["Message-ID"]), "Auto-Submitted": "auto-replied"})
    name = parseaddr(sender)[0] or sender
    msg.set_content(f"I'm out of the office until {back} with limited access to email.\n\n{name}\n")
    return msg.as_bytes()


def _start(sender: str, to: str, subject: str, date: datetime | None, message_id: str | None, *,
           cc: str | None = None, headers: Mapping[str, str] | None = None) -> EmailMessage:
    msg = EmailMessage()
    msg["From"] = sender
    msg["To"] = to
    if cc:
        msg["Cc"] = cc
    msg["Subject"] = subject
    if date is not None:
        msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id or make_msgid(domain=MSGID_DOMAIN)
    for name, value in (headers or {}).items():
        msg[name] = value
    return msg


def _attach(msg: EmailMessage, attachment: tuple[str, bytes] | None) -> None:
    if attachment:
        filename, data = attachment
        maintype, subtype = (mimetypes.guess_type(filename)[0] or "application/octet-stream").split("/")
        msg.add_attachment(data, maintype=maintype, subtype=subtype, filename=filename)


def _text(msg: EmailMessage) -> str:
    body = msg.get_body(("plain",))
    return body.get_content() if body else ""


def _gmail_date(when: datetime) -> str:
    """How Gmail writes a date in a forward's header block and a reply's attribution."""
    return when.strftime("%a, %b %-d, %Y at %-I:%M %p")
