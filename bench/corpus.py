"""A seeded, realistic inbox for the pipeline benchmark, and the org that makes it real.

Forwards as Gmail, Outlook (HTML only, windows-1252) and Apple Mail write them, with notes,
@mentions, due dates and PDFs; latin-1 bodies; out-of-office auto-replies; and (built from
the notices nudger sent) replies with quoted history. Same seed, same bytes.
"""

from __future__ import annotations

import base64
import hashlib
import quopri
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

DOMAIN = "acme.test"
TEAMS = ("accounting", "legal", "support", "onboarding")
FIRST = ("Dana", "Lee", "Noor", "Jörg", "Amélie", "Sam", "Priya", "Tomás", "Zoë", "Kenji", "Ola", "Maria")
LAST = ("Numbers", "Ledger", "Hassan", "Müller", "Lefèvre", "Seller", "Raman", "García", "Brontë", "Sato")
CUSTOMERS = ("Initech", "Globex", "Umbrella", "Soylent", "Hooli", "Vandelay", "Stark", "Wayne", "Acmé Café")
ASKS = (
    "can you send them our W-9?", "please set up their vendor account", "they need the signed NDA back",
    "could you fix the invoice address?", "they want a quote for 40 seats", "please review the MSA redlines",
    "send the SOC 2 report", "they need a credit note for March", "set up SSO for their team",
)
DUES = ("due friday", "by tomorrow", "due next tuesday", "by 12/18", "", "due in 3 days", "")
PARAGRAPH = (
    "Thanks again for the call earlier this week. As discussed, our procurement team needs a few "
    "documents before we can move forward with the order, and our finance people close the books "
    "on the twentieth, so anything after that slips to next month. "
)


@dataclass(frozen=True)
class Person:
    email: str
    name: str
    handle: str
    team: str


def org(people_count: int = 2000, seed: int = 7) -> tuple[str, list[Person]]:
    """The config (TOML text) and its people: sellers who forward, owners in teams. Enough of
    them that a seller's backlog stays within what one person sends (the loop limits: 30
    answers an hour), as in a real org."""
    rng = random.Random(seed)
    people = []
    for i in range(people_count):
        first, last = rng.choice(FIRST), rng.choice(LAST)
        handle = f"p{i:03d}"
        team = "sales" if i % 5 == 0 else TEAMS[i % len(TEAMS)]
        people.append(Person(f"{handle}@{DOMAIN}", f"{first} {last}", handle, team))
    lines = [
        "[org]", f'domain = "{DOMAIN}"', 'timezone = "America/Chicago"', 'holidays = "US"',
        f'admin = "{people[0].handle}"',
        "", "[database]", 'path = "state/nudger.db"', "", "[inbound]", 'source = "maildir"', 'path = "mail/inbox"',
        "", "[outbound]", 'transport = "maildir"', 'path = "mail/outbox"', "",
        "[security]", 'trusted_authserv_ids = ["mx.acme.test"]', "",
    ]
    for p in people:
        lines += ["[[people]]", f'email = "{p.email}"', f'name = "{p.name}"', f'handle = "{p.handle}"',
                  f'team = "{p.team}"', ""]
    for team in ("sales", *TEAMS):
        members = [p.handle for p in people if p.team == team]
        lines += [f"[teams.{team}]", f'lead = "{members[0]}"', f"members = {members!r}".replace("'", '"'), ""]
    return "\n".join(lines), people


def _pdf(rng: random.Random, size: int) -> bytes:
    body = bytes(rng.getrandbits(8) for _ in range(size))
    return b"%PDF-1.4\n" + body + b"\n%%EOF\n"


def _customer(rng: random.Random) -> tuple[str, str]:
    company = rng.choice(CUSTOMERS)
    first = rng.choice(FIRST)
    local = first.lower().encode("ascii", "ignore").decode() or "buyer"
    return f"{first} {rng.choice(LAST)}", f"{local}@{company.split()[0].lower()}.example"


def _note(rng: random.Random, owners: list[Person]) -> str:
    who = rng.choice(owners)
    mention = f"@{who.handle}" if rng.random() < 0.7 else f"@{who.team}"
    return f"{mention} {rng.choice(ASKS)} {rng.choice(DUES)}".strip()


def _bytes(msg: EmailMessage) -> bytes:
    """The message's bytes with boundaries named by order, not at random: same seed, same bytes."""
    raw = msg.as_bytes()
    names: dict[bytes, bytes] = {}
    for found in re.findall(rb"={15}\d+==", raw):
        names.setdefault(found, b"=_part_%d_=" % len(names))
    for old, new in names.items():
        raw = raw.replace(old, new)
    return raw


def _msgid(rng: random.Random) -> str:
    return f"<{rng.getrandbits(64):016x}@{DOMAIN}>"


def _headers(msg: EmailMessage, sender: Person, subject: str, when: datetime, rng: random.Random) -> None:
    msg["From"] = f"{sender.name} <{sender.email}>"
    msg["To"] = f"handoffs@{DOMAIN}"
    msg["Subject"] = subject
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = _msgid(rng)
    msg["Authentication-Results"] = "mx.acme.test; dkim=pass header.d=acme.test; spf=pass"


def gmail_forward(rng: random.Random, sender: Person, owners: list[Person], when: datetime) -> bytes:
    name, addr = _customer(rng)
    note, subject = _note(rng, owners), f"Order {rng.randint(1000, 9999)}"
    quoted = (f"---------- Forwarded message ---------\nFrom: {name} <{addr}>\n"
              f"Date: {format_datetime(when - timedelta(hours=5))}\nSubject: {subject}\n"
              f"To: {sender.name} <{sender.email}>\n\n"
              f"Hi {sender.name.split()[0]},\n\n{PARAGRAPH * rng.randint(1, 4)}\n\nBest,\n{name}\n")
    msg = EmailMessage()
    _headers(msg, sender, f"Fwd: {subject}", when, rng)
    msg.set_content(f"{note}\n\n{quoted}")
    msg.add_alternative(f"<div dir=\"ltr\">{note}<br><br><div class=\"gmail_quote\">"
                        + quoted.replace("\n", "<br>") + "</div></div>", subtype="html")
    if rng.random() < 0.4:
        msg.add_attachment(_pdf(rng, rng.randint(20_000, 120_000)), maintype="application", subtype="pdf",
                           filename=f"{subject}.pdf")
    return _bytes(msg)


def outlook_forward(rng: random.Random, sender: Person, owners: list[Person], when: datetime) -> bytes:
    """HTML only, windows-1252, quoted-printable: what Outlook on Windows sends."""
    name, addr = _customer(rng)
    note, subject = _note(rng, owners), f"RE: Contract – {rng.choice(CUSTOMERS)}"
    html = (f"<html><head><meta http-equiv=\"Content-Type\" content=\"text/html; charset=windows-1252\"></head>"
            f"<body><p class=\"MsoNormal\">{note}</p><p class=\"MsoNormal\">&nbsp;</p>"
            f"<div style=\"border:none;border-top:solid #E1E1E1 1.0pt\"><p class=\"MsoNormal\"><b>From:</b> {name} "
            f"&lt;{addr}&gt;<br><b>Sent:</b> Monday, November 23, 2026 8:12 AM<br><b>To:</b> {sender.name} "
            f"&lt;{sender.email}&gt;<br><b>Subject:</b> {subject}</p></div>"
            f"<p class=\"MsoNormal\">Hello – {PARAGRAPH * rng.randint(1, 3)} “quoted” terms apply.</p>"
            "<table><tr><td>Item</td><td>Qty</td><td>Price</td></tr><tr><td>Seats</td><td>40</td><td>€1,200</td></tr>"
            "</table></body></html>")
    body = quopri.encodestring(html.encode("cp1252")).decode("ascii")
    head = (f"From: {sender.name} <{sender.email}>\r\nTo: handoffs@{DOMAIN}\r\nSubject: FW: {subject}\r\n"
            f"Date: {format_datetime(when)}\r\nMessage-ID: {_msgid(rng)}\r\n"
            "Authentication-Results: mx.acme.test; dkim=pass header.d=acme.test; spf=pass\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/html; charset=\"windows-1252\"\r\n"
            "Content-Transfer-Encoding: quoted-printable\r\nThread-Topic: Contract\r\nX-MS-Has-Attach: \r\n\r\n")
    return _encode_header_words(head).encode("ascii", "replace") + body.replace("\n", "\r\n").encode("ascii")


def apple_forward(rng: random.Random, sender: Person, owners: list[Person], when: datetime) -> bytes:
    name, addr = _customer(rng)
    note, subject = _note(rng, owners), f"Renewal for {rng.choice(CUSTOMERS)}"
    text = (f"{note}\n\nBegin forwarded message:\n\nFrom: {name} <{addr}>\nSubject: {subject}\n"
            f"Date: November 22, 2026 at 6:15:00 PM CST\nTo: {sender.name} <{sender.email}>\n\n"
            f"{PARAGRAPH * rng.randint(1, 3)}\n\n{name}\n")
    msg = EmailMessage()
    _headers(msg, sender, f"Fwd: {subject}", when, rng)
    msg.set_content(text)
    if rng.random() < 0.3:
        msg.add_attachment(_pdf(rng, rng.randint(10_000, 60_000)), maintype="application", subtype="pdf",
                           filename="quote.pdf")
    return _bytes(msg)


def latin1_forward(rng: random.Random, sender: Person, owners: list[Person], when: datetime) -> bytes:
    """An 8-bit ISO-8859-1 body, as older clients and some gateways still send."""
    name, addr = _customer(rng)
    note = _note(rng, owners)
    text = (f"{note}\n\n-------- Message original --------\nDe : {name} <{addr}>\nDate : 22/11/2026 18:15\n"
            f"Objet : Facture détaillée\nÀ : {sender.email}\n\nBonjour, la facture reçue comporte une "
            f"erreur d'adresse. Merci de la corriger avant la clôture. Cordialement, {name}\n")
    head = (f"From: {sender.email}\r\nTo: handoffs@{DOMAIN}\r\nSubject: TR: Facture\r\n"
            f"Date: {format_datetime(when)}\r\nMessage-ID: {_msgid(rng)}\r\n"
            "Authentication-Results: mx.acme.test; dkim=pass header.d=acme.test; spf=pass\r\n"
            "MIME-Version: 1.0\r\nContent-Type: text/plain; charset=iso-8859-1\r\n"
            "Content-Transfer-Encoding: 8bit\r\n\r\n")
    return head.encode("ascii") + text.replace("\n", "\r\n").encode("latin-1", "replace")


def auto_reply(rng: random.Random, sender: Person, when: datetime) -> bytes:
    msg = EmailMessage()
    _headers(msg, sender, "Automatic reply: your handoff", when, rng)
    msg["Auto-Submitted"] = "auto-replied"
    msg["X-Auto-Response-Suppress"] = "All"
    msg.set_content(f"I am out of the office until Monday with limited access to email.\n\n{sender.name}")
    return _bytes(msg)


def reply_to(notice: bytes, words: str, sender: Person, when: datetime) -> bytes:
    """A person's reply to one of nudger's notices, quoting it as mail clients do."""
    from email import message_from_bytes
    from email.policy import default

    original = message_from_bytes(notice, policy=default)
    body = original.get_body(("plain",))
    quoted = "\n".join("> " + line for line in (body.get_content() if body else "").splitlines()[:40])
    msg = EmailMessage()
    msg["From"] = f"{sender.name} <{sender.email}>"
    msg["To"] = str(original["Reply-To"] or original["From"])
    subject = str(original["Subject"])
    msg["Subject"] = subject if subject.lower().startswith("re:") else f"Re: {subject}"
    msg["Date"] = format_datetime(when)
    msg["Message-ID"] = f"<reply-{hashlib.sha256(notice + words.encode()).hexdigest()[:20]}@{DOMAIN}>"
    msg["In-Reply-To"] = str(original["Message-ID"])
    msg["References"] = str(original["Message-ID"])
    msg["Authentication-Results"] = "mx.acme.test; dkim=pass header.d=acme.test; spf=pass"
    msg.set_content(f"{words}\n\nOn {original['Date']}, nudger wrote:\n{quoted}\n")
    return _bytes(msg)


def _encode_header_words(head: str) -> str:
    """Outlook writes non-ASCII subjects as RFC 2047 words."""
    out = []
    for line in head.split("\r\n"):
        if line and not line.isascii():
            name, _, value = line.partition(": ")
            phrase, angle, addr = value.partition(" <")  # only the display name is encoded
            word = base64.b64encode(phrase.encode("utf-8")).decode()
            line = f"{name}: =?utf-8?B?{word}?={' <' + addr if angle else ''}"
        out.append(line)
    return "\r\n".join(out)


def forwards(n: int, people: list[Person], start: datetime, seed: int = 11) -> list[bytes]:
    """``n`` inbound messages of the first morning: forwards of four shapes and some auto-replies."""
    rng = random.Random(seed)
    sellers = [p for p in people if p.team == "sales"]
    owners = [p for p in people if p.team != "sales"]
    makers = (gmail_forward, gmail_forward, outlook_forward, apple_forward, latin1_forward)
    out = []
    for i in range(n):
        when = start + timedelta(seconds=7 * i)
        sender = rng.choice(sellers)
        if i % 25 == 24:
            out.append(auto_reply(rng, rng.choice(owners), when))
        else:
            out.append(rng.choice(makers)(rng, sender, owners, when))
    return out


REPLY_WORDS = ("ack friday", "done", "ack", "blocked waiting on legal", "due next tuesday", "ack, on it",
               "ok will do", "done, sent it over")
