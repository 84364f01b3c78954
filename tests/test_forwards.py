"""find_forward: the customer's email out of a forward from each client and language family."""

from pathlib import Path

import pytest

from nudger.forwards import (
    find_forward,
    parse_address_list,
    strip_subject_prefixes,
    subject_prefixes,
)
from nudger.message import Address, parse_message

FIXTURES = Path(__file__).parent / "fixtures" / "parsing" / "forwards"


def fwd_of(name: str):
    return find_forward(parse_message((FIXTURES / name).read_bytes()))


# file, note, sender, subject, first body line, last body line
CASES = [
    ("gmail_en.eml", "@dana can you send Globex a quote for the 40 units? due Friday",
     Address("Priya Natarajan", "priya@globex.example"), "Quote for 40 units?", "Hi Sam,", "Priya"),
    ("gmail_de_html_only.eml", "@accounting bitte prüfen, der Kunde sagt die Rechnung ist doppelt.",
     Address("Jürgen Müller", "j.mueller@kunde.example"), "Rechnung 2026-118", "Guten Tag,", "Jürgen Müller"),
    ("outlook_desktop_en.eml", "@lee please issue the RMA; priority: high\n\nSam Seller | Account Executive | Acme",
     Address("Bob Stone", "bob.stone@initech.example"), "RE: RMA for order 5521", "Sam,", "Bob"),
    ("outlook_web_fr.eml", "Merci de regarder rapidement.",
     Address("Camille Durand", "camille.durand@client.example"), "Problème de connexion", "Bonjour,", "Camille"),
    ("outlook_mobile_es.eml", "@dana [rush] necesitan factura hoy\n\nObtener Outlook para iOS",
     Address("Lucía Gómez", "lucia@cliente.example"), "Pedido urgente", "Hola Sam,", "Gracias"),
    ("outlook_html_only_pl.eml", "@dana proszę o ofertę do piątku",
     Address("Krzysztof Nowak", "k.nowak@klient.example"), "Zapytanie ofertowe", "Dzień dobry,", "Krzysztof"),
    ("outlook_mac_it.eml", "@lee puoi verificare con il corriere?",
     Address("Mario Rossi", "mario.rossi@cliente.example"), "Consegna ritardata", "Buongiorno,", "Mario"),
    ("apple_mail_nl.eml", "Graag een offerte voor vrijdag.",
     Address("Pieter de Vries", "pieter@klant.example"), "Offerte aanvraag", "Beste Sam,", "Pieter"),
    ("thunderbird_sv.eml", "@lee", Address("Anna Berg", "anna.berg@kund.example"), "Leveransdatum", "Hej,", "Anna"),
    ("yahoo_pt.eml", "@dana contrato para revisão",
     Address("João Silva", "joao.silva@cliente.example"), "Contrato anual", "Olá Sam,", "Abraço"),
    ("multipart_alternative_ru.eml", "@dana нужен счёт", Address("Иван Петров", "ivan@klient.example"), "Счёт",
     "Здравствуйте, пришлите, пожалуйста, счёт.", "Здравствуйте, пришлите, пожалуйста, счёт."),
    ("lying_charset_latin1.eml", "À traiter vite, merci.",
     Address("Hélène Lefèvre", "helene@client.example"), "Réclamation", "La commande est arrivée abîmée.",
     "La commande est arrivée abîmée."),
    ("rfc822_attachment.eml", "@dana PO attached, please invoice.",
     Address("Kenji Sato", "kenji@client.example"), "Re: Purchase order 7781",
     "Please find our PO attached. Delivery to Osaka.", "Kenji"),
]


@pytest.mark.parametrize(("name", "note", "sender", "subject", "first", "last"), CASES, ids=[c[0] for c in CASES])
def test_forward_families(name, note, sender, subject, first, last):
    fwd = fwd_of(name)
    assert fwd is not None
    assert fwd.note == note
    assert fwd.from_addr == sender
    assert fwd.subject == subject
    lines = fwd.body.splitlines()
    assert lines[0] == first and lines[-1] == last
    assert not any(line.startswith(">") for line in lines)


def test_recipients_and_dates():
    fwd = fwd_of("gmail_en.eml")
    assert fwd.to == [Address("Sam Seller", "sam@acme.test")]
    assert fwd.cc == [Address("Ops Team", "ops@globex.example")]
    assert fwd.date == "2026-11-20T16:45:00"
    assert fwd_of("thunderbird_sv.eml").date == "2026-11-26T14:03:00+01:00"
    assert fwd_of("rfc822_attachment.eml").date == "2026-11-25T22:10:00+09:00"
    assert fwd_of("outlook_desktop_en.eml").date == "2026-11-24T17:12:00"
    assert fwd_of("apple_mail_nl.eml").date == "26 november 2026 om 15:12:09 CET"  # kept as written
    outlook = fwd_of("outlook_desktop_en.eml")
    assert outlook.to == [Address("Seller, Sam", "sam@acme.test")]
    assert [a.email for a in outlook.cc] == ["returns@initech.example", "alice.wu@initech.example"]


def test_as_json_shape():
    data = fwd_of("gmail_en.eml").as_json()
    assert set(data) == {"from", "to", "cc", "date", "subject", "body"}
    assert data["from"] == {"name": "Priya Natarajan", "email": "priya@globex.example"}


def test_forward_of_forward_keeps_the_inner_forward_whole():
    fwd = fwd_of("forward_of_forward.eml")
    assert fwd.from_addr.email == "maria@acme.test"
    assert fwd.subject == "FW: Damaged pallet"
    assert fwd.body.startswith("Sam, can you take this one?")
    assert "From: Tom Hardy <tom@warehouse.example>" in fwd.body
    assert fwd.body.endswith("The pallet for order 9001 arrived crushed. Photos attached.")


def test_rfc822_attachments_are_the_customers():
    fwd = fwd_of("rfc822_attachment.eml")
    assert [(a.filename, a.content_type) for a in fwd.attachments] == [("PO-7781.pdf", "application/pdf")]


def test_reply_subject_with_bare_header_block_is_not_a_forward():
    assert fwd_of("reply_not_forward.eml") is None


def test_plain_message_is_not_a_forward():
    assert find_forward(parse_message(b"From: a@b.c\nSubject: hello\n\n@dana please call Globex\n")) is None


def test_on_wrote_without_forward_subject_is_a_reply():
    raw = b"From: a@b.c\nSubject: Re: x\n\nThanks!\n\nOn Mon, Nov 23, 2026 at 9:14 AM Bob <bob@x.example> wrote:\n> hi\n"
    assert find_forward(parse_message(raw)) is None


@pytest.mark.parametrize(("subject", "fwd", "rep", "bare"), [
    ("Fwd: Re: Quote", True, True, "Quote"),
    ("WG: AW: Angebot", True, True, "Angebot"),
    ("TR: [EXTERNAL] Offre", True, False, "Offre"),
    ("Re[2]: hello", False, True, "hello"),
    ("RV: ENC: assunto", True, False, "assunto"),
    ("Quote", False, False, "Quote"),
])
def test_subject_prefixes(subject, fwd, rep, bare):
    assert subject_prefixes(subject) == (fwd, rep)
    assert strip_subject_prefixes(subject) == bare


@pytest.mark.parametrize(("value", "expected"), [
    ("John Doe [mailto:john@x.example]", [Address("John Doe", "john@x.example")]),
    ("Thibault <t@acme.example<mailto:t@acme.example>>", [Address("Thibault", "t@acme.example")]),
    ("bessie@acme.example <bessie@acme.example>; \"suzanne@globex.example\" <suzanne@globex.example>",
     [Address("", "bessie@acme.example"), Address("", "suzanne@globex.example")]),
    ("Outlook user", [Address("Outlook user", "")]),
    ("", []),
])
def test_parse_address_list(value, expected):
    assert parse_address_list(value) == expected


def test_apple_mail_html_only_forward():
    html = (
        "<html><body><div>Please quote this one.</div><div><br><blockquote type=\"cite\"><div>Begin forwarded message:</div>"
        "<br><div><span><b>From: </b></span><span>Ana Costa &lt;ana@cliente.example&gt;</span></div>"
        "<div><span><b>Subject: </b></span><span><b>Re: Pricing</b></span></div>"
        "<div><span><b>Date: </b></span><span>26 November 2026 at 10:02:11 GMT</span></div>"
        "<div><span><b>To: </b></span><span>Sam Seller &lt;sam@acme.test&gt;</span></div><br>"
        "<div><div>Hi Sam,</div><div>what would 200 seats cost?</div></div></blockquote></div></body></html>"
    )
    raw = ("From: sam@acme.test\nSubject: Fwd: Re: Pricing\nContent-Type: text/html; charset=utf-8\n\n" + html).encode()
    fwd = find_forward(parse_message(raw))
    assert fwd.note == "Please quote this one."
    assert fwd.from_addr == Address("Ana Costa", "ana@cliente.example")
    assert fwd.subject == "Re: Pricing"
    assert fwd.body == "Hi Sam,\nwhat would 200 seats cost?"
