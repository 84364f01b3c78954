"""The words mail clients write around quoted and forwarded mail, in the languages sales teams use.

Kept apart from the parsing code so a missing language is a one-line fix. Sources: what
Gmail, Outlook (desktop, web, mobile, Mac), Apple Mail, Thunderbird, Yahoo, Zoho, HubSpot,
Missive and IONOS write in their localised versions.
"""

from __future__ import annotations

import re

from nudger.mail.forward_dates import parse_forward_date

# Header names in a quoted header block ("From: …", "Von: …"), by role. Matched case-insensitively.
HEADER_NAMES: dict[str, tuple[str, ...]] = {
    "from": (
        "From", "Von", "De", "De la", "Da", "Van", "Od", "От", "Від", "Від кого", "Fra", "Från", "Frá",
        "Lähettäjä", "Feladó", "Kimden", "Gönderen", "Šalje", "Pošiljatelj", "Pošiljalac", "Pošiljatelj",
        "Saatja", "Siuntėjas", "Sūtītājs", "No", "Από", "Αποστολέας", "Nga", "Dari", "Người gửi",
        "发件人", "寄件者", "發件人", "差出人", "送信者", "보낸 사람", "보낸사람", "Afsender", "Avsändare",
        "Odesílatel", "Absender", "Expéditeur", "Expeditorul", "Expeditor", "От кого", "Remitente",
        "Mittente", "Remetente", "Nadawca",
        "Отправитель", "Відправник", "Подател", "Від:", "Kimden", "Kirjoittaja",
    ),
    "to": (
        "To", "An", "À", "A", "Para", "Aan", "Do", "Komu", "Кому", "Til", "Till", "Vastaanottaja",
        "Címzett", "Kime", "Prima", "Pre", "Către", "Catre", "Za", "Adresat", "Saaja", "Kam", "Kenen",
        "Προς", "Kepada", "Đến", "Tới", "收件人", "收件者", "宛先", "받는 사람", "받는사람", "Modtager",
        "Mottaker", "Mottagare", "Empfänger", "Pour", "Destinataire", "Destinatario", "Destinatário",
        "Adresát", "Příjemce", "Destinatarul", "Получатель", "Одержувач", "До", "Ontvanger",
    ),
    "cc": (
        "Cc", "CC", "Kopie", "Kopi", "Kopia", "Kopio", "Copie", "Copie à", "Copia", "Copia a", "Cópia",
        "Másolat", "Másolatot kap", "Bilgi", "Копия", "Копія", "DW", "Dw", "Kópia", "Kopija", "Kopie an",
        "Κοιν", "Κοιν.", "Κοιν/ση", "Tembusan", "Đồng gửi", "抄送", "副本", "抄送人", "참조", "Kopiera",
        "Kopie aan", "Kopie:", "Cco", "Bcc", "BCC", "Bcc", "Blindkopie", "Skrytá kopie", "UDW",
    ),
    "date": (
        "Date", "Sent", "Datum", "Dato", "Sendt dato", "Gesendet", "Envoyé", "Envoyé le", "Fecha", "Enviado",
        "Enviado el",
        "Data", "Inviato", "Verzonden", "Verstuurd", "Wysłano", "Wysłane", "Отправлено", "Відправлено",
        "Дата", "Sendt", "Skickat", "Lähetetty", "Päivämäärä", "Päiväys", "Elküldve", "Küldve", "Dátum",
        "Tarih", "Gönderildi", "Gönderme tarihi", "Poslano", "Posláno", "Odesláno", "Odoslané",
        "Trimis", "Dată", "Kuupäev", "Saadetud", "Išsiųsta", "Nosūtīts", "Ημερομηνία", "Στάλθηκε",
        "Tanggal", "Terkirim", "Ngày", "Đã gửi", "发送时间", "日期", "時間", "寄件日期", "送信日時",
        "日付", "보낸 날짜", "날짜", "Sendt:", "Datum en tijd", "Wysłany", "Aika",
    ),
    "subject": (
        "Subject", "Betreff", "Objet", "Sujet", "Asunto", "Assunto", "Oggetto", "Onderwerp", "Temat",
        "Тема", "Emne", "Ämne", "Aihe", "Tárgy", "Konu", "Predmet", "Předmět", "Subiect", "Teema",
        "Tema", "Tēma", "Θέμα", "Perihal", "Subjek", "Chủ đề", "主题", "主旨", "件名", "제목", "Otsikko",
        "Naslov", "Тема:", "Betreff:", "Subiectul",
    ),
    "reply_to": (
        "Reply-To", "Reply To", "Antwort an", "Répondre à", "Responder a", "Rispondi a", "Risposta",
        "Beantwoorden", "Antwoord aan", "Odpowiedź do", "Svar til", "Svara till", "Vastausosoite",
        "Válaszcím", "Yanıtla", "Odpověď na", "Ответить", "Відповісти",
    ),
}

# The wording of separator lines that open a forwarded or quoted message (matched inside
# the line, case-insensitively; the line itself must look like a separator, see forwards.py).
SEPARATOR_PHRASES: tuple[str, ...] = (
    # English
    "forwarded message", "original message", "reply message", "begin forwarded message", "forwarded by",
    "message forwarded", "forwarded e-mail", "forwarded email", "forwarded mail",
    # German, Dutch, Scandinavian, Finnish
    "weitergeleitete nachricht", "ursprüngliche nachricht", "antwort nachricht", "originalnachricht",
    "anfang der weitergeleiteten", "doorgestuurd bericht", "oorspronkelijk bericht",
    "origineel bericht", "begin doorgestuurd", "videresendt melding", "videresendt besked",
    "videresendt meddelelse", "oprindelig meddelelse", "opprinnelig melding", "vidarebefordrat",
    "ursprungligt meddelande", "välitetty viesti", "edelleenlähetetty viesti", "alkuperäinen viesti",
    # Romance
    "message transféré", "message d'origine", "message original", "début du message",
    "mensaje reenviado", "mensaje original", "inicio del mensaje", "messaggio inoltrato",
    "messaggio originale", "inizio messaggio", "mensagem encaminhada", "mensagem reencaminhada",
    "mensagem original", "início da mensagem", "mesaj redirecționat", "mesaj redirectionat",
    "mesajul redirecționat", "mesajul redirectionat",
    "mesaj transmis", "mesajul original", "mesaj original", "missatge reenviat",
    # Slavic, Baltic, Hungarian, Greek, Turkish
    "przekazana wiadomość", "wiadomość przekazana", "oryginalna wiadomość", "preposlaná správa",
    "začiatok preposlanej", "pôvodná správa", "přeposlaná zpráva", "původní zpráva",
    "proslijeđena poruka", "započni proslijeđenu", "izvorna poruka", "originalna poruka",
    "posredovano sporočilo", "izvirno sporočilo", "továbbított levél", "továbbított üzenet",
    "eredeti üzenet", "пересылаемое сообщение", "перенаправленное сообщение", "исходное сообщение",
    "пересланное сообщение", "переслане повідомлення", "перенаправлене повідомлення",
    "початок листа", "оригінальне повідомлення", "препратено съобщение", "оригинално съобщение",
    "προωθημένο μήνυμα", "αρχικό μήνυμα", "iletilen ileti", "ileti başlangıcı", "özgün ileti",
    "orijinal mesaj", "iletilmiş mesaj", "persiųstas laiškas", "pārsūtīta ziņa", "edastatud kiri",
    # Asian
    "转发的邮件", "原始邮件", "轉寄的郵件", "原始郵件", "転送されたメッセージ", "元のメッセージ",
    "전달된 메시지", "원본 메시지", "tin nhắn đã chuyển tiếp", "pesan yang diteruskan",
    "fwd.msg", "fwd:",
)

# Verbs that end an attribution line ("On <date>, <name> wrote:") in many languages.
WROTE_VERBS: tuple[str, ...] = (
    "wrote", "writes", "has written", "a écrit", "écrit", "schrieb", "geschrieben", "schreef",
    "het volgende geschreven", "geschreven", "escribió", "escribio", "escreveu", "ha scritto",
    "scrisse", "napisał\\(a\\)", "napisał", "napisała", "napisal\\(a\\)", "napsal\\(a\\)", "napsal",
    "napísal\\(a\\)", "napísal", "skrev følgende", "skrev", "kirjoitti", "írta", "ezt írta",
    "şunu yazdı", "yazdı", "написал\\(а\\)", "написал", "написала", "написав\\(ла\\)", "написав",
    "пише", "написа", "a scris", "je napisal", "je napisao", "je napisala", "rašė", "rakstīja",
    "kirjutas", "έγραψε", "写道", "寫道", "のメッセージ", "님이 작성", "작성", "đã viết", "menulis",
    "escrigué", "va escriure",
)

# Words that begin an attribution line before the date ("On", "Le", "Am", …).
ATTRIBUTION_STARTS: tuple[str, ...] = (
    "on", "le", "am", "el", "em", "il", "op", "den", "dnia", "w dniu", "dne", "dňa", "dana",
    "at", "in", "kom", "pada", "vào", "στις", "ngày", "в", "у", "den", "je", "---- on", "-----",
)

# Subject prefixes (outer subject) that mark a reply and a forward.
REPLY_PREFIXES: tuple[str, ...] = (
    "re", "aw", "sv", "vs", "antw", "antwort", "r", "rif", "res", "odp", "ynt", "atb", "vá", "ha",
    "відп", "отв", "回复", "答复", "回覆", "답장", "απ",
)
FORWARD_PREFIXES: tuple[str, ...] = (
    "fw", "fwd", "wg", "tr", "rv", "i", "pd", "vb", "enc", "doorst", "redir", "İlt", "ilt", "fs",
    "videresend", "vl", "tov", "továbbítás", "továbbítva", "přeposlat", "pr", "preposl", "prosl", "przekaż",
    "пересл", "переслать", "fwd.", "转发", "轉寄", "전달", "転送", "πρθ", "rd", "enc.",
)


def _alternation(words: tuple[str, ...]) -> str:
    """Longest first (so "Forwarded" wins over "Fwd"), then by text: the same pattern every run."""
    return "|".join(sorted({re.escape(w.rstrip(":")) for w in words}, key=lambda w: (-len(w), w)))


# role by lower-cased name, for lookups after a match
ROLE_OF: dict[str, str] = {name.rstrip(":").lower(): role for role, names in HEADER_NAMES.items() for name in names}

HEADER_NAME_RE = _alternation(tuple(ROLE_OF.keys()))
SEPARATOR_RE = _alternation(SEPARATOR_PHRASES)
_VERB_ALTS = "|".join(sorted(set(WROTE_VERBS), key=len, reverse=True))
WROTE_RE = _VERB_ALTS
REPLY_PREFIX_RE = _alternation(REPLY_PREFIXES)
# Tags mail gateways put in front of a subject ("[EXTERNAL] Re: ..."): never part of a title.
GATEWAY_TAGS = ("external", "ext", "extern", "external sender", "external email", "caution")
FORWARD_PREFIX_RE = _alternation(FORWARD_PREFIXES)

_HEADER_LINE = re.compile(
    r"^\*{0,2}[ \t]*(?P<name>" + HEADER_NAME_RE + r")[ \t\xa0]*(?:\*{1,2}[ \t\xa0]*)?"
    r"[:：][ \t\xa0]*(?:\*{1,2}[ \t]*)?(?P<value>.*)$",
    re.I,
)
_PHRASE = re.compile(SEPARATOR_RE, re.I)
_DASHED = re.compile(r"^[-_=~*]{2,}[ \t]*(?P<inner>[^-_=~]{1,80}?)[ \t]*[-_=~*]{2,}$")
_RULE = re.compile(r"^[-_=~*]{5,}$")


def header_line(line: str) -> tuple[str, str] | None:
    """(role, value) when the line is a header of a quoted message ("From: …", "*Von:* …")."""
    m = _HEADER_LINE.match(line.strip())
    if not m:
        return None
    value = m.group("value")[:4000].strip().strip("*").strip()
    return ROLE_OF[m.group("name").lower()], value


def is_separator(line: str, generic: bool = False) -> bool:
    """A line that opens a forwarded or original message ("---- Forwarded message ----",
    "Begin forwarded message:", "-----Original Message-----"). With generic, any dashed
    title or long rule counts too (used right above a header block)."""
    s = line.strip().strip("*").strip()
    if not s or len(s) > 100:
        return False
    dashed = _DASHED.match(s)
    if generic and (dashed or _RULE.match(s)):
        return True
    if not (dashed or s[0] in "-_=" or s[-1] in ":："):
        return False
    m = _PHRASE.search(s)
    if not m:
        return False
    if dashed or s.startswith(("-", "_", "=")):
        return True
    rest = (s[:m.start()] + s[m.end():]).strip(" :：-_*")
    return s.endswith((":", "：")) and len(rest) <= 20 or not rest


# ---------------------------------------------------------------- dates


def iso_date(raw: str) -> str | None:
    """ISO 8601 for a forwarded Date/Sent value (offset when known), else the value as written."""
    return parse_forward_date(raw)


_UNKNOWN_HEADER = re.compile(r"^\*{0,2}[^\W\d][\w .'-]{0,24}?[ \t\xa0]*(?:\*{1,2})?[:：][ \t\xa0]")


def unknown_header_line(line: str) -> bool:
    """`Word: value` in a header block whose name we do not know (another language, X-headers)."""
    return bool(_UNKNOWN_HEADER.match(line.strip()))
