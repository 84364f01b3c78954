"""find_forward: the customer's email out of a forward from each client and language family."""

import time
from pathlib import Path

import pytest

from nudger.mail.forward_dates import parse_forward_date
from nudger.mail.forwards import (
    find_forward,
    parse_address_list,
    strip_subject_prefixes,
    subject_prefixes,
)
from nudger.mail.message import Address, parse_message

FIXTURES = Path(__file__).parent / "fixtures" / "parsing" / "forwards"


def fwd_of(name: str):
    return find_forward(parse_message((FIXTURES / name).read_bytes()))


# file, note, sender, subject, first body line, last body line
CASES = [
    ("gmail_en.eml", "@dana can you send Globex a quote for the 40 units? due Friday",
     Address("Priya Natarajan", "priya@globex.example"), "Quote for 40 units?", "Hi Sam,", "Priya"),
    ("gmail_de_html_only.eml", "@accounting bitte prüfen, der Kunde sagt die Rechnung ist doppelt.",
     Address("Jürgen Müller", "j.mueller@kunde.example"), "Rechnung 2026-118", "Guten Tag,", "Jürgen Müller"),
    ("outlook_desktop_en.eml", "@lee please issue the RMA; priority: high",
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
    assert fwd_of("apple_mail_nl.eml").date == "2026-11-26T15:12:09+01:00"  # "26 november 2026 om 15:12:09 CET"
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
    raw = (b"From: a@b.c\nSubject: Re: x\n\nThanks!\n\n"
           b"On Mon, Nov 23, 2026 at 9:14 AM Bob <bob@x.example> wrote:\n> hi\n")
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
        "<html><body><div>Please quote this one.</div><div><br>"
        "<blockquote type=\"cite\"><div>Begin forwarded message:</div>"
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


# ---------------------------------------------------------------- forwarded dates
@pytest.mark.parametrize(("raw", "iso"), [
    # English clients
    ("November 22, 2026 at 6:40:00 PM CST", "2026-11-22T18:40:00-06:00"),   # Apple Mail
    ("Sun, Nov 22, 2026 at 6:15 PM", "2026-11-22T18:15:00"),                # Gmail: no zone printed
    ("Sunday, November 22, 2026 6:15 PM", "2026-11-22T18:15:00"),           # Outlook desktop
    ("22/11/2026 18:40", "2026-11-22T18:40:00"),                            # Outlook for Mac
    ("Sun, 22 Nov 2026 18:40:00 +0100 (CET)", "2026-11-22T18:40:00+01:00"),  # RFC 2822
    ("Sun, 22 Nov 2026 18:40:00 GMT", "2026-11-22T18:40:00+00:00"),
    ("Monday, November 23, 2026 9:00 AM (Pacific Standard Time)", "2026-11-23T09:00:00-08:00"),
    ("Tuesday, November 24, 2026, 09:26:50 AM GMT+1", "2026-11-24T09:26:50+01:00"),
    ("Thursday, 26 November 2026 8:16 p.m.", "2026-11-26T20:16:00"),
    ("11/22/2026 6:40 PM EST", "2026-11-22T18:40:00-05:00"),
    ("2026-11-22T18:40:00+01:00", "2026-11-22T18:40:00+01:00"),
    ("2026-11-22", "2026-11-22"),
    # localised month and day names
    ("Mi., 25. Nov. 2026 um 09:31 Uhr", "2026-11-25T09:31:00"),              # de Gmail
    ("26. November 2026 um 14:25:08 MEZ", "2026-11-26T14:25:08+01:00"),      # de Apple
    ("mar. 24 nov. 2026 à 09:31", "2026-11-24T09:31:00"),                    # fr: "mar." is Tuesday
    ("lundi 23 novembre 2026 à 15:20:05 +0100", "2026-11-23T15:20:05+01:00"),
    ("mar, 24 nov 2026 a las 9:31", "2026-11-24T09:31:00"),                  # es Gmail
    ("martes, 24 de noviembre de 2026 09:26:50 CET", "2026-11-24T09:26:50+01:00"),
    ("martedì 24 novembre 2026, 09:26:50 CET", "2026-11-24T09:26:50+01:00"),  # it
    ("dinsdag 24 november 2026 om 09:26", "2026-11-24T09:26:00"),            # nl
    ("qua., 25 de nov. de 2026 às 09:31", "2026-11-25T09:31:00"),            # pt-BR
    ("quarta, 25/11/2026 à(s) 09:31", "2026-11-25T09:31:00"),                # pt
    ("tisdag 24 november 2026 09:26:50 CET", "2026-11-24T09:26:50+01:00"),   # sv
    ("ons. 25. nov. 2026 kl. 09.31", "2026-11-25T09:31:00"),                 # da/no, dotted time
    ("26. marraskuuta 2026 klo 14.25.08 UTC+2", "2026-11-26T14:25:08+02:00"),  # fi: not March
    ("śr., 25 lis 2026 o 09:31", "2026-11-25T09:31:00"),                     # pl
    ("czwartek, 26 listopada 2026 o 12:46", "2026-11-26T12:46:00"),          # pl: listopad = November
    ("26. studenoga 2026. u 14:25:08 CET", "2026-11-26T14:25:08+01:00"),         # hr
    ("st 25. 11. 2026 o 9:31", "2026-11-25T09:31:00"),                       # sk numeric with spaces
    ("pátek 27. listopadu 2026 10:00", "2026-11-27T10:00:00"),               # cs
    ("2026. november 26. 14:25:08 CET", "2026-11-26T14:25:08+01:00"),        # hu: year first
    ("mie., 25 nov. 2026 la 09:31", "2026-11-25T09:31:00"),                  # ro
    ("25 Kas 2026 Çar, 09:31", "2026-11-25T09:31:00"),                       # tr
    ("ср, 25 нояб. 2026 г. в 09:31", "2026-11-25T09:31:00"),                 # ru
    ("26 листопада 2026 р. о 14:25:08 GMT+2", "2026-11-26T14:25:08+02:00"),  # uk
    ("2026年11月23日 下午6:15", "2026-11-23T18:15:00"),
    ("=E2=80=8E16/=E2=80=8E02/=E2=80=8E2016 14:53", "2016-02-16T14:53:00"),  # QP left-to-right marks
])
def test_client_dates_become_iso(raw, iso):
    assert parse_forward_date(raw) == iso


def test_croatian_listopad_is_october():
    # Croatian names October "listopad"; Polish and Czech name November so
    assert parse_forward_date("26. listopada 2021. u 14:25:08 EEST") == "2021-10-26T14:25:08+03:00"


@pytest.mark.parametrize(("raw", "iso"), [
    ("Friday, 27 November 2026 5:08 p.m. IST", "2026-11-27T17:08:00"),  # IST: India, Israel or Ireland
    ("Friday, 27 November 2026 17:08 XYZT", "2026-11-27T17:08:00"),
])
def test_unknown_zone_gives_naive_time_not_a_wrong_offset(raw, iso):
    assert parse_forward_date(raw) == iso


def test_ambiguous_numeric_dates_follow_the_clock():
    assert parse_forward_date("03/04/2026 10:00") == "2026-04-03T10:00:00"      # 24-hour clock: day first
    assert parse_forward_date("03/04/2026 10:00 AM") == "2026-03-04T10:00:00"   # 12-hour clock: US order
    assert parse_forward_date("03/04/2026 10:00", day_first=False) == "2026-03-04T10:00:00"


@pytest.mark.parametrize("raw", ["sometime last week", "Sun, Nov 22 at 6:15 PM", "31/02/2026 10:00", "yesterday 25:99"])
def test_unreadable_dates_are_kept_as_written(raw):
    assert parse_forward_date(raw) == raw


def test_empty_is_none():
    assert parse_forward_date("") is None
    assert parse_forward_date(None) is None


def test_hostile_input_is_fast():
    start = time.perf_counter()
    for raw in ("1:" * 50_000, "jan " * 50_000, "+0" * 50_000, "GMT+" * 50_000, "1." * 50_000):
        parse_forward_date(raw)
    # A guard against catastrophic backtracking (minutes), not a speed target: bench/ measures speed.
    assert time.perf_counter() - start < 10.0


# ---------------------------------------------------------------- more clients (own fixtures)

_GREG = Address("Greg Hale", "greg.hale@hale-logistics.example")

# file, note, sender, subject, date, body, to, cc
MORE = [
    ("outlook_desktop_html_only_en.eml", "@dana can you put the renewal quote together? due Friday", _GREG,
     "Renewal quote for 2027", "2026-11-22T18:15:00",
     "Hi Sam,\n\nOur contract ends on 31 December. Could you send a renewal quote for 120 seats?\n\nThanks,\nGreg",
     ["sam@acme.test"], ["ap@hale-logistics.example"]),
    ("outlook_desktop_html_only_de.eml", "@lee bitte mit der Spedition klären.",
     Address("Jürgen Weiß", "j.weiss@kunde-gmbh.example"), "Lieferverzug Auftrag 4471", "2026-11-23T08:02:00",
     "Sehr geehrter Herr Seller,\n\ndie Lieferung zu Auftrag 4471 ist seit einer Woche überfällig.\n\n"
     "Mit freundlichen Grüßen\nJürgen Weiß", ["sam@acme.test"], []),
    ("gmail_html_only_en.eml", "@accounting can you extend the pilot invoice by a month?",
     Address("Nora Lindqvist", "nora@fjord-tech.example"), "Pilot extension", "2026-11-22T18:15:00",
     "Hi Sam,\n\nWe need another month before we decide. Can the pilot run until January 31?\n\nNora",
     ["sam@acme.test"], ["it@fjord-tech.example"]),
    ("bold_labels_wrapped_text.eml", "@lee please arrange a replacement, rush",
     Address("Oksana Kovalenko", "oksana.kovalenko@stroy-import.example"),
     "Damaged shipment on order 88-2231, two crates broken again, replacement needed (second attempt)",
     "2026-11-20T16:12:00",
     "Dear Sam,\n\nTwo of the five crates arrived broken again. Photos are attached.\n\nRegards,\nOksana",
     ["sam@acme.test", "returns@acme.test"], []),
    ("yahoo_multipart_en.eml", "@dana pricing for 500 units please",
     Address("Ray Castillo", "ray.castillo@yahoo.example"), "Bulk order pricing", "2026-11-23T09:26:50-06:00",
     "Hello Sam,\nWhat is your best price for 500 units delivered to Austin?\nRay", ["sam@acme.test"], []),
    ("aol_original_message.eml", "@support can someone call him back today?",
     Address("Walt Brennan", "waltbrennan@aol.example"), "Warranty claim", "2026-11-23T08:05:00",
     "Sam,\nThe compressor failed after 3 months. Serial number 55-A-1029. Please advise.\nWalt",
     ["sam@acme.test"], []),
    ("zoho_spaced_colons.eml", "@dana please book the onboarding call",
     Address("Arjun Mehta", "arjun@vistara-apps.example"), "Onboarding call", "2026-11-23T10:11:12+05:30",
     "Hi Sam,\n\nCan we schedule onboarding for next Wednesday, 3 PM IST?\n\nRegards,\nArjun",
     ["sam@acme.test"], []),
    ("thunderbird_html_table.eml", "@dana offerte graag voor vrijdag",
     Address("Ellen de Boer", "ellen@deboer-bv.example"), "Offerte aanvraag kantoorstoelen",
     "2026-11-23T10:11:12+01:00",
     "Beste Sam,\n\nWij zoeken 40 kantoorstoelen. Kunt u een offerte sturen?\n\nMet vriendelijke groet,\nEllen",
     ["sam@acme.test"], []),
    ("apple_mail_en_text.eml", "@dana what can we offer?",
     Address("Luis Ortega", "luis.ortega@ortega-farms.example"), "Trade-in value", "2026-11-22T18:40:00-06:00",
     "Sam,\nWhat would you give us for the two 2019 tractors?\nLuis", ["sam@acme.test"], []),
    ("outlook_mac_header_block_en.eml", "@accounting please check, they say they paid twice",
     Address("Fiona Walsh", "fiona.walsh@walsh-dental.example"), "Invoice 2026-0419 query", "2026-11-22T18:40:00",
     "Hi Sam,\n\nWe were charged twice for invoice 2026-0419. Could you refund one payment?\n\nFiona",
     ["sam@acme.test"], []),
    ("rfc822_base64_crlf.eml", "@dana samples please",
     Address("Kenji Watanabe", "kenji@sakura-trading.example"), "Sample request", "2026-11-24T09:10:00+09:00",
     "Dear Sam,\n\nPlease send two samples of model K-20.\nDelivery to Kobe.\n\nKenji", ["sam@acme.test"], []),
]


@pytest.mark.parametrize(
    ("name", "note", "sender", "subject", "date", "body", "to", "cc"), MORE, ids=[c[0] for c in MORE]
)
def test_more_forward_families(name, note, sender, subject, date, body, to, cc):
    fwd = fwd_of(name)
    assert fwd is not None
    assert (fwd.note, fwd.from_addr, fwd.subject, fwd.date, fwd.body) == (note, sender, subject, date, body)
    assert [a.email for a in fwd.to] == to
    assert [a.email for a in fwd.cc] == cc
    assert "\r" not in fwd.note + fwd.body + fwd.subject


def test_note_below_the_forwarded_part_stays_in_the_body():
    # Decided: below a header block, nothing tells the forwarder's words from the customer's
    # (plain text has no end marker), so all of it is the forwarded body and the note is empty;
    # nothing is lost, and the no-owner reply asks the forwarder to name one.
    fwd = fwd_of("note_below_forward.eml")
    assert fwd.note == ""
    assert fwd.from_addr == Address("Hannah Cole", "hannah@cole-partners.example")
    assert fwd.body.endswith("@legal can you answer this one?")


def test_carriage_returns_never_survive():
    raw = (b"From: s@acme.test\r\nSubject: Fwd: x\r\n\r\nplease\r\rcall\r\n\r\n"
           b"---------- Forwarded message ---------\r\n"
           b"From: A <a@x.example>\r\nDate: Sun, Nov 22, 2026 at 6:15 PM\r\nSubject: x\r\nTo: s@acme.test\r\n\r\n"
           b"line one\rline two\r\r\nline three\r\n")
    fwd = find_forward(parse_message(raw))
    assert fwd.note == "please\n\ncall"
    assert fwd.body == "line one\nline two\nline three"


def test_forward_note_loses_the_forwarders_signature():
    raw = (b"From: \"Seller, Sam\" <sam@acme.test>\nSubject: FW: x\n\n"
           b"please take this\n\nSam Seller | sam@acme.test\n\n"
           b"From: A <a@x.example>\nSent: Sunday, November 22, 2026 6:15 PM\nTo: sam@acme.test\nSubject: x\n\nhello\n")
    assert find_forward(parse_message(raw)).note == "please take this"


# ---- header words found by the generalization check (docs/parsing.md); our own messages


def test_mail_ru_forward_header():
    raw = ("From: s@acme.example\nSubject: Fwd: Заказ\nContent-Type: text/plain; charset=utf-8\n\n"
           "-------- Пересылаемое сообщение --------\nОт кого: Анна Петрова <anna@shop.example>\n"
           "Кому: Sam <s@acme.example>\nДата: Понедельник, 23 ноября 2026, 9:14 +03:00\nТема: Заказ\n\n"
           "Здравствуйте, нужен счёт.\n").encode()
    fwd = find_forward(parse_message(raw))
    assert fwd is not None and fwd.from_addr.email == "anna@shop.example" and fwd.subject == "Заказ"
    assert fwd.body == "Здравствуйте, нужен счёт."


def test_romanian_apple_mail_forward_header():
    raw = ("From: s@acme.example\nSubject: Fwd: Comanda\nContent-Type: text/plain; charset=utf-8\n\n"
           "> Începe mesajul redirecționat:\n>\n> Expeditorul: Ana Pop <ana@shop.example>\n"
           "> Subiectul: Comanda\n> Dată: 23 noiembrie 2026, 09:14:05 EET\n> Destinatarul: s@acme.example\n>\n"
           "> Bună ziua, aveți factura?\n").encode()
    fwd = find_forward(parse_message(raw))
    assert fwd is not None and fwd.from_addr.email == "ana@shop.example" and fwd.subject == "Comanda"
    assert fwd.body == "Bună ziua, aveți factura?"


def test_blank_lines_between_headers_under_a_separator() -> None:
    """BlackBerry and older Outlook leave blank lines between the forwarded header lines."""
    from nudger.mail.forwards import find_forward
    from nudger.mail.message import parse_message

    raw = (
        b"From: Sam <sam@acme.test>\nTo: handoffs@acme.test\nSubject: FW: Order status\n\n"
        b"@dana can you check this order?\n\n-----Original Message-----\n"
        b"From: Customer Person <cp@customer.example>\n\nDate: Mon, 23 Nov 2026 08:00:00 -0500\n"
        b"To: sam@acme.test\n\n\nSubject: Order status\n\n\nHi Sam, where is order 4471?\nThanks, CP\n"
    )
    fwd = find_forward(parse_message(raw))
    assert fwd is not None and fwd.from_addr and fwd.from_addr.email == "cp@customer.example"
    assert (fwd.subject, fwd.note, fwd.date) == ("Order status", "@dana can you check this order?",
                                                 "2026-11-23T08:00:00-05:00")
    assert fwd.body == "Hi Sam, where is order 4471?\nThanks, CP"
