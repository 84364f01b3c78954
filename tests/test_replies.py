"""reply_text / strip_reply: a colleague's own words, without quoted history or signature."""

import time
from pathlib import Path

import pytest

from nudger.mail.message import parse_message
from nudger.mail.replies import is_mobile_signature, reply_text, strip_name_signature, strip_reply

FIXTURES = Path(__file__).parent / "fixtures" / "parsing" / "replies"


@pytest.mark.parametrize(("name", "expected"), [
    ("gmail_en.eml", "ack, will have it by Thursday"),
    ("gmail_split_header.eml", "done\nshipped via FedEx today"),
    ("outlook_desktop.eml", "blocked waiting on legal"),
    ("outlook_web_de.eml", "erledigt"),
    ("apple_iphone_fr.eml", "c'est fait"),
    ("html_outlook_only.eml", "due Dec 4\nneed the specs first"),
    ("html_gmail_only.eml", "snooze 3d"),
    ("signature_dashes.eml", "done\nsent the quote to Priya"),
    ("mobile_de.eml", "ack"),
    ("es_escribio.eml", "blocked falta la orden de compra"),
    ("bottom_posted.eml", "ack"),
])
def test_reply_families(name, expected):
    assert reply_text(parse_message((FIXTURES / name).read_bytes())) == expected


@pytest.mark.parametrize("header", [
    "On Mon, Nov 23, 2026 at 9:14 AM Nudger <handoffs@acme.test> wrote:",
    "Le lun. 23 nov. 2026 à 09:14, Nudger <handoffs@acme.test> a écrit :",
    "Am Mo., 23. Nov. 2026 um 09:14 Uhr schrieb Nudger <handoffs@acme.test>:",
    "El lun, 23 nov 2026 a las 9:14, Nudger (<handoffs@acme.test>) escribió:",
    "Em seg., 23 de nov. de 2026 às 09:14, Nudger <handoffs@acme.test> escreveu:",
    "Il giorno lun 23 nov 2026 alle ore 09:14 Nudger <handoffs@acme.test> ha scritto:",
    "Op ma 23 nov. 2026 om 09:14 schreef Nudger <handoffs@acme.test>:",
    "Den mån 23 nov. 2026 kl 09:14 skrev Nudger <handoffs@acme.test>:",
    "pon., 23 lis 2026 o 09:14 Nudger <handoffs@acme.test> napisał(a):",
    "пн, 23 нояб. 2026 г. в 09:14, Nudger <handoffs@acme.test>:\nНаписал:".replace("\nНаписал:", " написал:"),
    "2026年11月23日(月) 9:14 Nudger <handoffs@acme.test>:\nのメッセージ:".replace("\n", ""),
    "在 2026年11月23日，上午9:14，Nudger <handoffs@acme.test> 写道：",
    "23 Kas 2026 Pzt 09:14 tarihinde Nudger <handoffs@acme.test> şunu yazdı:",
    "2026-11-23 9:14 GMT-06:00 Nudger <handoffs@acme.test>:",
    "On Mon, Nov 23, 2026 at 9:14 AM Nudger <\nhandoffs@acme.test> wrote:",
    "On 23 Nov 2026, at 09:14, Nudger\n<handoffs@acme.test>\nwrote:",
])
def test_quote_headers_in_many_languages(header):
    text = f"ack\n\n{header}\n\n> New handoff #12\n> reply done when done"
    assert strip_reply(text) == "ack"


@pytest.mark.parametrize("separator", [
    "-----Original Message-----", "-----Ursprüngliche Nachricht-----", "-----Message d'origine-----",
    "-----Mensaje original-----", "________________________________", "---------- Forwarded message ---------",
])
def test_outlook_separators(separator):
    text = f"done\n\n{separator}\nFrom: Nudger <handoffs@acme.test>\nSent: Monday\nTo: Dana\nSubject: [#12]\n\nbody"
    assert strip_reply(text) == "done"


def test_outlook_header_block_without_separator_is_cut():
    text = "ack\n\nDe : Nudger <handoffs@acme.test>\nEnvoyé : lundi\nÀ : Dana\nObjet : [#12] Devis\n\nquoted"
    assert strip_reply(text) == "ack"


def test_bold_markdown_headers_from_html_conversion_are_cut():
    text = "on it\n\n*From:* Nudger <handoffs@acme.test>\n*Sent:* Monday\n*To:* Dana\n*Subject:* x\n\nold"
    assert strip_reply(text) == "on it"


@pytest.mark.parametrize("line", [
    "Sent from my iPhone", "Sent from my Samsung Galaxy smartphone.", "Envoyé de mon iPhone",
    "Von meinem iPhone gesendet", "Enviado desde mi iPhone", "Inviato da iPhone", "Verzonden vanaf mijn iPhone",
    "Skickat från min iPhone", "Sendt fra min iPhone", "Wysłane z iPhone'a", "Отправлено с iPhone",
    "Enviado do meu iPhone", "Get Outlook for Android", "Sent from my cell, please excuse typos.",
    "iPhoneから送信", "发自我的iPhone",
])
def test_mobile_signatures_in_translation(line):
    assert is_mobile_signature(line)
    assert strip_reply(f"done\n\n{line}") == "done"


def test_sent_from_in_a_sentence_is_kept():
    assert not is_mobile_signature("Sent from my desk, which is much easier than my phone.")
    assert strip_reply("ack\n\nSent from my desk, which is much easier than my phone.").endswith("phone.")


def test_signature_delimiter_only_on_its_own_line():
    assert strip_reply("done -- shipped\n\n-- \nDana") == "done -- shipped"


def test_interleaved_reply_keeps_context_and_drops_trailing_quote():
    text = (
        "On Mon, Nov 23, 2026 at 9:14 AM Sam <sam@acme.test> wrote:\n> Can you do Friday?\n\n"
        "Yes, Friday works.\n\n> And the price?\n\nSame as last time.\n\n> Thanks\n> Sam\n"
    )
    out = strip_reply(text)
    assert out.startswith("> Can you do Friday?")
    assert "Same as last time." in out
    assert not out.endswith("Sam")


def test_text_that_only_mentions_writing_is_not_a_quote_header():
    text = "On this day\n\nI wrote something:\n\nwhich matters."
    assert strip_reply(text) == text


def test_quote_only_message_is_empty():
    assert strip_reply("> everything is quoted\n> here") == ""


def test_empty_and_whitespace():
    assert strip_reply("") == ""
    assert strip_reply("\n\n   \n") == ""


@pytest.mark.parametrize("text", [
    "\n".join(f"On {i} Mon 2020 someone" for i in range(5000)),
    ">" * 200_000,
    ("-" * 40 + " x " + "-" * 40 + "\n") * 3000,
    "a@b " * 100_000,
    "\n".join(("> q" if i % 2 else "text") for i in range(20000)),
])
def test_pathological_inputs_are_fast(text):
    start = time.perf_counter()
    strip_reply(text)
    # A guard against catastrophic backtracking (minutes), not a speed target: bench/ measures speed.
    assert time.perf_counter() - start < 10.0


def test_bare_name_wrote_above_a_quote_is_cut():
    assert strip_reply("ack\n\nJohn Doe wrote:\n> quoted\n> more") == "ack"
    assert strip_reply("Here is what I wrote:\n\nhello there") == "Here is what I wrote:\n\nhello there"


def test_outlook_web_html_reply_cut_at_its_border_rule():
    html = (
        '<div>done, invoice sent</div><div id="x"><div style="border:none; border-top:1pt solid rgb(225, 225, 225);'
        ' padding:3pt 0in 0in"><p><b>From:</b> Nudger &lt;handoffs@acme.test&gt;<br><b>Sent:</b> Monday</p></div>'
        "<p>Reply ack to confirm</p></div>"
    )
    raw = ("From: d@acme.test\nSubject: RE: [#3] x\nContent-Type: text/html; charset=utf-8\n\n" + html).encode()
    assert reply_text(parse_message(raw)) == "done, invoice sent"


@pytest.mark.parametrize(("name", "expected"), [
    ("attribution_three_lines.eml", "ack friday"),
    ("fr_a_ecrit_wrapped_iphone.eml", "done"),
    ("de_schrieb_iphone.eml", "blocked Spedition antwortet nicht"),
    ("es_outlook_enviado_el.eml", "due 12/4"),
    ("es_escribio_wrapped_iphone.eml", "thanks! muy rápido"),
    ("nl_op_schreef.eml", "done, offerte verstuurd"),
    ("sv_den_skrev.eml", "thanks, snyggt jobbat"),
    ("outlook_fr_de_envoye.eml", "ack"),                      # "Camille Martin / Acme France" signs it
    ("ursprungliche_nachricht.eml", "reassign @lee"),         # "Gruß Jonas" signs it
    ("html_apple_blockquote_cite.eml", "done\ntrade-in offer sent"),
    ("html_outlook_mobile_divrplyfwdmsg.eml", "snooze 1w"),
    ("html_outlook_web_appendonsend.eml", "blocked waiting on the carrier's report"),
    ("gmail_multipart_signature.eml", "done\nextended to Jan 31"),
    ("mail_for_windows.eml", "on it"),
])
def test_more_reply_families(name, expected):
    assert reply_text(parse_message((FIXTURES / name).read_bytes())) == expected


@pytest.mark.parametrize(("text", "name", "expected"), [
    ("ack\n\nGruß Jonas", "Jonas Becker", "ack"),
    ("done\n\nThanks,\nDana", "Dana Numbers", "done"),
    ("done\n\nDana Numbers\nAccounting, Acme", "Dana Numbers", "done"),
    ("ack\n\nSam Seller | Account Executive", "Seller, Sam", "ack"),
    ("done\n\nDana will follow up with the customer", "Dana Numbers", "done\n\nDana will follow up with the customer"),
    ("Dana", "Dana Numbers", "Dana"),                          # nothing else: not a signature
    ("done\n\nThanks,\nPriya", "Dana Numbers", "done\n\nThanks,\nPriya"),
])
def test_closing_paragraph_that_names_the_sender_is_a_signature(text, name, expected):
    assert strip_name_signature(text, name) == expected


def test_reply_text_has_no_carriage_returns():
    raw = (b"From: d@acme.test\r\nSubject: Re: [#1] x\r\n\r\ndone\rshipped\r\r\n\r\n"
           b"On Mon, Nov 23, 2026 at 9:14 AM N <n@acme.test> wrote:\r\n> q\r\n")
    assert reply_text(parse_message(raw)) == "done\nshipped"


def _wraps(header: str):
    """Every way a client could wrap the header over two or three lines (at spaces)."""
    words = header.split(" ")
    for a in range(1, len(words)):
        yield " ".join(words[:a]) + "\n" + " ".join(words[a:])
        for b in range(a + 1, len(words)):
            yield " ".join(words[:a]) + "\n" + " ".join(words[a:b]) + "\n" + " ".join(words[b:])


@pytest.mark.parametrize("header", [
    "On Mon, Nov 23, 2026 at 9:14 AM Nudger <handoffs@acme.test> wrote:",
    "Le lun. 23 nov. 2026 à 09:14, Nudger <handoffs@acme.test> a écrit :",
    "Am Mo., 23. Nov. 2026 um 09:14 Uhr schrieb Nudger <handoffs@acme.test>:",
    "El lun, 23 nov 2026 a las 9:14, Nudger (<handoffs@acme.test>) escribió:",
    "Op ma 23 nov. 2026 om 09:14 schreef Nudger <handoffs@acme.test>:",
    "Den mån 23 nov. 2026 kl 09:14 skrev Nudger <handoffs@acme.test>:",
    "Il giorno lun 23 nov 2026 alle ore 09:14 Nudger <handoffs@acme.test> ha scritto:",
    "Nudger <handoffs@acme.test> schrieb am Mo., 23. Nov. 2026, 09:14:",
    "Le 23/11/2026 à 09:14, Nudger a écrit :",
])
def test_attribution_wrapped_anywhere_over_two_or_three_lines(header):
    wrong = [w for w in _wraps(header) for tail in ("\n\n> old\n> more\n", "\n\nold text, not quoted\n")
             if strip_reply(f"ack\n\n{w}{tail}") != "ack"]
    assert wrong == []


def test_a_command_above_a_bare_address_attribution_is_kept():
    assert strip_reply("ack\n<handoffs@acme.test> wrote:\n> x") == "ack"


# ---- shapes found by the generalization check (docs/parsing.md); our own wording throughout


@pytest.mark.parametrize("text", [
    "done, see the attached quote\n\n-----Reply Message-----\n\nearlier text here",
    "erledigt\n\n-----Antwort Nachricht-----\n\nfrüherer Text",
])
def test_more_original_message_separators(text):
    assert strip_reply(text) in ("done, see the attached quote", "erledigt")


@pytest.mark.parametrize("header", [
    # mail.ru: "<date> от <name> <addr>:" (no verb)
    "Mon, 23 Nov 2026 09:14:05 +0300 от Anna Petrova <anna@shop.example>:",
    # Gmail in Japanese: "<date>(曜) <time> <name> <addr>:" (no verb)
    "2026年11月23日(月) 9:14 山田花子 <hanako@shop.example>:",
    # "… sent:" instead of "… wrote:"
    "On 23-Nov-2026, at 9:14 AM, Dana Lee <dana@shop.example> sent:",
])
def test_attributions_without_a_wrote_verb(header):
    text = f"ack, shipping Monday\n\n{header}\n\n> can you ship this week?\n> Dana\n"
    assert strip_reply(text) == "ack, shipping Monday"


def test_dated_line_ending_in_an_address_is_text_without_a_year():
    text = "call me at 10:30 about the renewal for Bob <bob@shop.example>:\nhe wants two seats"
    assert strip_reply(text) == text


@pytest.mark.parametrize(("text", "expected"), [
    ("ok On Mon, Nov 23, 2026 at 9:14 AM, dana@shop.example wrote:\n> ship it?", "ok"),
    ("ok, will do--- On Mon, Nov 23, 2026 at 9:14 AM, dana@shop.example wrote:\n> ship it?", "ok, will do"),
    ("first line\nsecond - line--- On Mon, Nov 23, 2026 at 9:14 AM, dana@shop.example wrote:\n> ship it?",
     "first line\nsecond - line"),
])
def test_attribution_glued_onto_the_last_reply_line(text, expected):
    assert strip_reply(text) == expected


def test_sentence_mentioning_on_and_wrote_is_kept():
    text = "We met On Monday and she wrote back\nthanks"
    assert strip_reply(text) == text


def test_wrapped_link_inside_a_quote_does_not_leak_the_quote():
    text = ("ok\n\nOn Mon, Nov 23, 2026 at 9:14 AM, Dana <dana@shop.example> wrote:\n\n"
            "> Your order is ready, track it here (https://track.example/a/b\n"
            "c/d?id=77)\n>\n> and the invoice is at\n (https://billing.example/inv/9) >\n> Dana\n")
    assert strip_reply(text) == "ok"


def test_inline_answer_between_quotes_is_kept():
    text = "> can you ship Monday?\nyes, Monday works for us\n> and the invoice?\nsent yesterday"
    assert "yes, Monday works for us" in strip_reply(text)


def test_em_dash_rule_is_a_delimiter():
    text = "周末的安排已经确认。\n\n——————————————\n\n小满\n活动协调人"
    assert strip_reply(text) == "周末的安排已经确认。"


def test_underscore_rule_inside_the_new_text_is_kept():
    text = ("Hi Dana,\n\nthe first half of my answer is here.\n\n" + "_" * 60 + "\n\n"
            "and the second half of the answer comes after the rule, as I wrote it.\n\nBest,\nSam\n\n"
            "On Mon, Nov 23, 2026 at 9:14 AM Dana <dana@shop.example> wrote:\n> question\n")
    got = strip_reply(text)
    assert "second half of the answer" in got and "question" not in got


def test_underscore_rule_above_a_quoted_outlook_header_still_cuts():
    text = ("done\n\n" + "_" * 32 + "\nFrom: Dana <dana@shop.example>\nSent: Monday, November 23, 2026 9:14 AM\n"
            "To: Sam <sam@acme.example>\nSubject: ship?\n\nship this week?\n")
    assert strip_reply(text) == "done"


@pytest.mark.parametrize("tail", [
    "Date: Mon, 23 Nov 2026 09:14:05 -0600\nTo: sam@acme.example",
    "From: dana@shop.example\n\n<https://track.example/c/abc\n>  <sam@acme.example>\n\nRequested by: ",
])
def test_short_quoted_header_block_after_a_blank_line_is_cut(tail):
    assert strip_reply(f"9am works\n\n{tail}") == "9am works"


def test_header_like_lines_without_address_or_date_are_kept():
    text = "agenda below\n\nTo: everyone on the team\nSubject: pricing for Globex"
    assert strip_reply(text) == text


def test_phone_signature_above_the_reply_signs_nothing() -> None:
    from nudger.mail.replies import strip_reply

    quote = "\n\nOn Mon, Nov 23, 2026 at 9:05 AM Nudger <handoffs@acme.test> wrote:\n> New handoff\n"
    assert strip_reply("Sent from my iPhone\n\nack" + quote) == "ack"
    assert strip_reply("Envoyé de mon iPhone\n\ndone\nshipped today" + quote) == "done\nshipped today"
    assert strip_reply("Sent from my iPhone" + quote) == ""
