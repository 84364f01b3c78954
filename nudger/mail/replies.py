"""What the sender of a reply wrote themselves: no quoted history, no signature, no forwarded part.

Each line is classified (text, empty, quote, attribution such as "On … wrote:", header of a
quoted Outlook block, signature delimiter, mobile signature), and a few rules on that
sequence decide what to keep; the rules follow discourse's email_reply_trimmer, which
reads top-posted, bottom-posted and interleaved replies alike. Every regular expression
here is anchored or bounded, and joins of wrapped lines are capped, so no input is slow.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from nudger.mail.forward_headers import ATTRIBUTION_STARTS, WROTE_VERBS, header_line, is_separator
from nudger.mail.message import to_lf

TEXT, EMPTY, QUOTE, ATTRIBUTION, HEADER, DELIMITER, SIGNATURE = "t", "e", "q", "b", "h", "d", "s"

_ZERO_WIDTH = dict.fromkeys(map(ord, "\ufeff\u200b\u200c\u200d\u200e\u200f\u2060"), None)
_QUOTE = re.compile(r"^[ \t]*(?:>|[A-Za-z]{1,10}>(?=[ \t>]|$))")
_DELIMITER = re.compile(r"^[ \t]*(?:[-_=*~+]{2,}|[—–─━]{3,}|ᐧ+)[ \t]*$")
_UNDERSCORE_RULE = re.compile(r"^[ \t]*_{2,}[ \t]*$")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u9fff\uac00-\ud7af]")

_LATIN_VERBS = [v for v in WROTE_VERBS if not _CJK.search(v)]
_CJK_VERBS = [v for v in WROTE_VERBS if _CJK.search(v)]
_VERB = (
    "(?:(?<![^\\W\\d_])(?:" + "|".join(sorted(_LATIN_VERBS, key=len, reverse=True)) + ")(?![^\\W\\d_])"
    "|(?:" + "|".join(_CJK_VERBS) + "))"
)
# "… wrote:" / "… a écrit :" / "… wrote ----" at the very end of a (joined) line
_ENDS_WITH_VERB = re.compile(_VERB + r"[ \t]*(?:(?:[:：]|-{2,})[ \t]*)?$", re.I)
# "Am … schrieb Name <addr>:" / "Name <addr> schrieb am …:" - the verb inside, a colon at the end
_HAS_VERB = re.compile(_VERB, re.I)
_STARTS = re.compile(
    r"^[ \t]*(?:-{2,}[ \t]*)?(?:"
    + "|".join(re.escape(s) for s in ATTRIBUTION_STARTS if s[0].isalpha())
    + r")(?![^\W\d_])",
    re.I,
)
_DATE_START = re.compile(r"^[ \t]*\d{4}(?:[-/.]\d{1,2}[-/.]\d{1,2}\b|年\d{1,2}月\d{1,2}日)")
# "Thu, 26 Jun 2014 14:00:51 +0400 от Alexander L <abc@example.com>:" (mail.ru), "2022年1月1日(金) 9:00
# 田中太郎 <taro@example.com>:" (Gmail ja): no verb, but a dated line that ends in "<address>:"
_ADDRESS_COLON_END = re.compile(r"<[^<>\s@]{1,64}@[^<>\s]{1,255}>[ \t]*[:：]$")
_YEAR = re.compile(r"(?<!\d)(?:19|20)\d{2}(?!\d)")
# "On 11-Apr-2011, at 6:54 PM, Roman <r@example.com> sent:"
_SENT_END = re.compile(r"[\w.+-]@[\w.-]+>?[ \t]+sent[ \t]*:$", re.I)
_TIME = re.compile(r"\d{1,2}[:.]\d{2}")
_EMAILISH = re.compile(r"[\w.+-]@[\w-]")
_CONTINUATION_STOP = re.compile(r"^(?:On|Op|Le|Am|El|Em|Il|Den|Dnia|Dne|W dniu)[ \t][^\n]*\d")

_URLISH = re.compile(r"\[([^\]\n]{0,60})\]\([^)\n]{0,400}\)|<[^<>\n]{0,400}>|\(https?:[^)\n]{0,400}\)|https?://\S{1,400}")
_SIG_SENT = re.compile(
    r"^[ \t]*[(<]*[ \t]*(?:sent|sended|envoy[ée]|enviad[oa]|inviato|verzonden|verstuurd|gesendet|wys[łl]ane|"
    r"wys[łl]ano|odesl[áa]no|odoslan[ée]|sendt|skickat|l[äa]hetetty|отправлено|надіслано|g[öo]nderildi|"
    r"poslano|trimis|elk[üu]ldve|get|from)[ \t]+"
    r"(?:from|with|via|using|by|on|depuis|de|desde|da|dal|dallo|met|vanaf|von|mit|z|ze|fra|fr[åa]n|с|з|com|do|"
    r"par|avec|con|från)\b(?P<rest>[^\n]{0,120})$",
    re.I,
)
_SIG_OTHER = re.compile(
    r"^[ \t]*(?:get outlook for \w+|get the outlook app\b.*|von meine[mn]? [^\n]{1,40} gesendet\.?|"
    r"diese nachricht wurde von meine[mn]? [^\n]{1,80} gesendet\.?|envoy[ée] (?:de|depuis) mon [^\n]{1,40}|"
    r"(?:從我的|发自我的|來自我的|寄自我的|傳送自我的)[^\n]{1,40}|[^\n]{1,30}から送信|[^\n]{1,30}에서 보냄|"
    r"<<\s*sent by [^\n]{1,40}>>|\(\s*sent from [^\n]{1,40}\)|sent from my \w[^\n,;]{0,40}|"
    r"(?:sent|envoy[ée]|enviado|inviato|gesendet) (?:from|depuis|desde|da|von) "
    r"(?:my|mon|mi|il mio|meinem) [^\n,;]{1,40})[ \t]*$",
    re.I,
)
_NAME_ONLY = re.compile(r"^[ \t]*[\"'“]?[^\W\d_][^\W\d_.'’-]*(?:[ \t]+[^\W\d_][\w.'’-]*){0,3}[\"'”]?[ \t]*$")
_EXCUSE = re.compile(r"^[ \t]*[.,;!:-]*[ \t]*(?:please|pls|plz|excuse|pardon|forgive|sorry)\b", re.I)

# "reply On Wed, Apr 4, 2012 at 3:59 PM, bob@example.com wrote:" / "reply--- On …": a client that
# unwrapped the text glued the attribution onto the last line of the reply
_GLUED_START = re.compile(r"(?:(?<=\S)-{2,}[ \t]*|(?<=\S)[ \t]+)(?=(?:On|Le|Am|El|Em|Il|Op|Den|Dnia|W dniu)[ \t])")
# a wrapped link inside quoted text whose continuation lost its ">": "(http://…) >", "_nonce=3d)"
_URL_ONLY = re.compile(r"^[(<]?https?://\S{1,400}?[)>]?(?:[ \t]+>)?$")

_MAX_JOIN = 5
_TEXT_THEN_ATTRIBUTION = re.compile(r"te*b")
_MAX_JOINED = 400


@dataclass
class _Line:
    text: str
    kind: str
    span: int = 1  # lines this marker covers (an attribution wrapped over several lines)


def is_mobile_signature(line: str) -> bool:
    """"Sent from my iPhone" and its kin in several languages, not "Sent from my desk, is easier …"."""
    if len(line) > 600:
        return False
    s = _URLISH.sub(lambda m: m.group(1) or "", line).strip()
    if not s or len(s) > 160:
        return False
    m = _SIG_SENT.match(s)
    if m:
        rest = m.group("rest").strip(" )>")
        head, sep, tail = _split_clause(rest)
        if sep and tail.strip() and not _EXCUSE.match(sep + tail):
            return False
        return len(head.split()) <= 6
    return bool(_SIG_OTHER.match(s))


def _split_clause(rest: str) -> tuple[str, str, str]:
    for i, ch in enumerate(rest):
        if ch in ",;!" or (ch == "." and (i + 1 == len(rest) or rest[i + 1] == " ")):
            return rest[:i], rest[i], rest[i + 1:]
    return rest, "", ""


def attribution_match(joined: str) -> bool:
    """Is this (possibly joined) line a quote header such as "On <date>, <name> wrote:"?"""
    s = joined.strip()
    if not s or len(s) > _MAX_JOINED:
        return False
    if is_separator(s):
        return True
    has_anchor = bool(_EMAILISH.search(s) or re.search(r"\d", s))
    tail = s[-60:]
    if has_anchor and _ENDS_WITH_VERB.search(tail):
        return True
    if has_anchor and s[-1] in ":：" and (_EMAILISH.search(s) or _STARTS.match(s)) and _HAS_VERB.search(s):
        return True
    if _DATE_START.match(s) and len(s) < 200 and (_TIME.search(s) or _EMAILISH.search(s)):
        return True
    if len(s) < 200 and _ADDRESS_COLON_END.search(s) and _TIME.search(s) and _YEAR.search(s):
        return True
    if _SENT_END.search(s) and _STARTS.match(s) and re.search(r"\d", s):
        return True
    return False


def _starts_like_attribution(line: str) -> bool:
    return bool(_STARTS.match(line) or _DATE_START.match(line) or line.lstrip()[:1].isdigit()
                or _EMAILISH.search(line) or line.rstrip().endswith("<"))


def attribution_span(lines: list[str], i: int) -> int:
    """How many lines starting at i form an attribution (0 when none)."""
    line = lines[i]
    if attribution_match(line):
        if _DATE_START.match(line) and not line.rstrip().endswith((":", "：")):
            longer = _join_span(lines, i, want_colon=True)
            if longer:
                return longer
        return 1 + _colon_tail(lines, i)
    if not _starts_like_attribution(line):
        return 0
    span = _join_span(lines, i, want_colon=False)
    return span + _colon_tail(lines, i + span - 1) if span else 0


def _colon_tail(lines: list[str], i: int) -> int:
    """Lines that finish an attribution recognised without its colon: "… schreef" then
    "Nudger <n@x>:", or "Nudger <n@x> schrieb" then "am Mo., 23. Nov. 2026, 09:14:"."""
    if lines[i].rstrip().endswith((":", "：")):
        return 0
    if i + 1 < len(lines) and lines[i + 1].strip() in (":", "："):
        return 1  # "a écrit" / ":" (the space before a French colon was a wrap point)
    for extra in (1, 2):
        tail = lines[i + 1:i + 1 + extra]
        if len(tail) < extra or any(
            not x.strip() or len(x) > 100 or _QUOTE.match(x) or header_line(x.strip()) for x in tail
        ):
            return 0
        if tail[-1].rstrip().endswith((":", "：")):
            joined = " ".join(x.strip() for x in tail)
            return extra if (_EMAILISH.search(joined) or _TIME.search(joined) or re.search(r"\d{4}", joined)) else 0
    return 0


def _could_end(line: str) -> bool:
    """Cheap test before a costly one: an attribution ends in a colon, dashes or a verb."""
    return line[-1] in ":：-" or bool(_ENDS_WITH_VERB.search(line[-40:])) or bool(_DATE_START.match(line))


def _join_span(lines: list[str], i: int, want_colon: bool) -> int:
    parts = [lines[i].strip()]
    j = i + 1
    used = 1
    while j < len(lines) and used < _MAX_JOIN + 2:
        nxt = lines[j].strip()
        j += 1
        used += 1
        if not nxt:
            continue
        if _CONTINUATION_STOP.match(nxt) or (_STARTS.match(nxt) and attribution_match(nxt) and not _dated(parts)):
            return 0  # the next line starts its own attribution; this one is text
        parts.append(nxt)
        joined = " ".join(parts)
        if len(joined) > _MAX_JOINED:
            return 0
        if _could_end(nxt) and attribution_match(joined) and (not want_colon or joined.endswith((":", "："))):
            return j - i
        if len(parts) > _MAX_JOIN:
            return 0
    return 0


def _dated(parts: list[str]) -> bool:
    """The lines so far open an attribution with a date ("On Mon, Nov 23, 2026"), so a next
    line that reads as one by itself ("at 9:14 AM Nudger <n@x> wrote:") is its end, not a new one."""
    return bool(_STARTS.match(parts[0]) and _TIME.search(" ".join(parts)) or re.search(r"\d{4}", " ".join(parts)))


def _absorb_wrapped_heads(lines: list[_Line]) -> None:
    """"On Mon, Nov 23, 2026" / "AM Nudger <n@x> wrote:": when only the last piece of a wrapped
    attribution was recognised, the pieces above it (no blank line between) belong to it."""
    k = len(lines)
    while k > 1:
        k -= 1
        if lines[k].kind != ATTRIBUTION:
            continue
        head = lines[k].text.lstrip()
        if (head.startswith("<") and k > 1 and lines[k - 1].kind == TEXT and _NAME_ONLY.match(lines[k - 1].text)
                and lines[k - 2].kind == EMPTY and any(x.kind == TEXT for x in lines[:k - 1])):
            # "Nudger" / "<n@x> schrieb am …:": the name went onto the line above
            lines[k - 1:k + 1] = [
                _Line(lines[k - 1].text + "\n" + lines[k].text, ATTRIBUTION, lines[k - 1].span + lines[k].span)
            ]
            k -= 1
            continue
        for start in range(k - 1, max(-1, k - 4), -1):
            if lines[start].kind != TEXT or len(lines[start].text) > 200:
                break
            if not _STARTS.match(lines[start].text):
                continue
            joined = " ".join(x.text.strip() for x in lines[start:k + 1])
            if attribution_match(joined) and _dated(
                [lines[start].text.strip()] + [x.text for x in lines[start + 1:k + 1]]
            ):
                merged = _Line(
                    "\n".join(x.text for x in lines[start:k + 1]), ATTRIBUTION, sum(x.span for x in lines[start:k + 1])
                )
                lines[start:k + 1] = [merged]
                k = start
            break


def _split_glued(raw: list[str]) -> list[str]:
    out: list[str] = []
    for line in raw:
        if 20 < len(line) <= _MAX_JOINED and not _QUOTE.match(line) and _ENDS_WITH_VERB.search(line[-40:]):
            for m in _GLUED_START.finditer(line):
                head, tail = line[:m.start()], line[m.end():]
                if head.strip() and tail.rstrip().endswith((":", "：")) and attribution_match(tail):
                    out.extend((head.rstrip(" \t-"), tail))
                    break
            else:
                out.append(line)
        else:
            out.append(line)
    return out


def _quote_continuation(prev: str, line: str) -> bool:
    s = line.strip()
    if not s or len(s) > 400:
        return False
    if _URL_ONLY.match(s):
        return True
    return " " not in s and (
        (s.endswith(")") and prev.count("(") > prev.count(")"))
        or (s.endswith(">") and prev.count("<") > prev.count(">"))
    )


def _mark_quote_continuations(lines: list[_Line]) -> None:
    """A text line right between two quoted lines that only carries the rest of a wrapped link
    is part of the quote (talon's "link breaks quotation markers")."""
    for k in range(1, len(lines) - 1):
        if (lines[k].kind == TEXT and lines[k - 1].kind == QUOTE and lines[k + 1].kind == QUOTE
                and _quote_continuation(lines[k - 1].text, lines[k].text)):
            lines[k].kind = QUOTE


def _demote_underscore_rules(lines: list[_Line]) -> None:
    """An underscore rule is Outlook's line above a quoted header block, or a signature
    delimiter; one followed by more of the sender's own paragraphs and no header, quote or
    attribution right below is just a rule in the text (discourse's delimiter_inside_new_reply)."""
    for k, line in enumerate(lines):
        if line.kind != DELIMITER or not _UNDERSCORE_RULE.match(line.text):
            continue
        below = [x for x in lines[k + 1:k + 8] if x.kind != EMPTY]
        if (len(below) >= 3 and all(x.kind == TEXT for x in below[:3])
                and any(len(x.text.strip()) > 40 for x in below[:2]) and lines[k - 1:k] and lines[k - 1].kind == EMPTY):
            line.kind = TEXT


def classify(text: str) -> list[_Line]:
    """One _Line per line (an attribution over several lines becomes one)."""
    raw = _split_glued(to_lf(text).translate(_ZERO_WIDTH).split("\n"))
    out: list[_Line] = []
    i = 0
    while i < len(raw):
        line = raw[i]
        stripped = line.strip()
        if not stripped:
            out.append(_Line(line, EMPTY))
        elif _QUOTE.match(line):
            out.append(_Line(line, QUOTE))
        elif _DELIMITER.match(line):
            out.append(_Line(line, DELIMITER))
        elif is_mobile_signature(line):
            out.append(_Line(line, SIGNATURE))
        else:
            span = attribution_span(raw, i)
            if span:
                out.append(_Line("\n".join(raw[i:i + span]), ATTRIBUTION, span))
                i += span
                continue
            out.append(_Line(line, HEADER if header_line(stripped) else TEXT))
        i += 1
    _absorb_wrapped_heads(out)
    _mark_bare_attributions(out)
    _mark_quote_continuations(out)
    _demote_underscore_rules(out)
    return out


def _mark_bare_attributions(lines: list[_Line]) -> None:
    """"Jane Doe wrote:" right above a quote is an attribution even without a date or address."""
    for k, line in enumerate(lines):
        if line.kind != TEXT or len(line.text) > 200 or not line.text.rstrip().endswith((":", "：")):
            continue
        if not _ENDS_WITH_VERB.search(line.text.rstrip()[-40:]):
            continue
        nxt = next((x for x in lines[k + 1:k + 4] if x.kind != EMPTY), None)
        if nxt is not None and nxt.kind == QUOTE:
            line.kind = ATTRIBUTION


def _first(kinds: str, wanted: str) -> int:
    return kinds.find(wanted)


def _header_block_start(kinds: str, lines: list[_Line] | None = None) -> int:
    """Index of the first run of 3+ header lines that follows some text, -1 when none. With the
    lines, also a shorter block after a blank line that can only be a quoted message's: a From
    with an address, or two headers one of which is a From or Date with an address or a year."""
    found = -1
    for m in re.finditer(r"h(?:h|t(?=h)){2,}", kinds):
        if TEXT in kinds[:m.start()]:
            found = m.start()
            break
    if lines is None:
        return found
    for m in re.finditer(r"(?<=e)h+", kinds[:found] if found >= 0 else kinds):
        if TEXT not in kinds[:m.start()]:
            continue
        heads = [header_line(x.text.strip()) for x in lines[m.start():m.end()]]
        strong = [h for h in heads if h and h[0] in ("from", "date")
                  and (_EMAILISH.search(h[1]) or (h[0] == "date" and _YEAR.search(h[1])))]
        if any(h[0] == "from" and _EMAILISH.search(h[1]) for h in strong) or (len(heads) >= 2 and strong):
            return m.start()
    return found


def trim(lines: list[_Line]) -> list[_Line]:
    """Apply the keep/drop rules to classified lines."""
    kinds = "".join(x.kind for x in lines)

    def cut(n: int) -> None:
        nonlocal lines, kinds
        lines, kinds = lines[:n], kinds[:n]

    for marker in (DELIMITER, SIGNATURE):
        at = kinds.find(marker)
        # A phone's "Sent from my iPhone" above everything the person wrote signs nothing:
        # some clients put it first. Drop that line and read on.
        while marker == SIGNATURE and at >= 0 and TEXT not in kinds[:at]:
            lines = [*lines[:at], _Line("", EMPTY), *lines[at + 1:]]
            kinds = kinds[:at] + EMPTY + kinds[at + 1:]
            at = kinds.find(marker)
        if at >= 0:
            cut(at)
    at = _header_block_start(kinds, lines)
    if at >= 0:
        cut(at)
        # an Outlook block is usually preceded by its separator (already a delimiter) or a blank
    first_text = kinds.find(TEXT)
    if first_text < 0:
        return []
    # bottom-posting: quoted history first, then only the new text
    head = kinds[:first_text].lstrip(EMPTY)
    if head.startswith(ATTRIBUTION) and not re.search(r"[qbh]", kinds[first_text:]):
        return lines[first_text:]
    # text, then an attribution followed by no quote: everything from the attribution on is history
    starts = [m.end() - 1 for m in _TEXT_THEN_ATTRIBUTION.finditer(kinds)]
    last_q = kinds.rfind(QUOTE)
    after_last_q = [b for b in starts if b > last_q]
    if after_last_q:
        cut(after_last_q[0])
    else:
        # text, then an attribution, quotes and only a little text (a signature) to the end
        last_qbh = max(kinds.rfind(QUOTE), kinds.rfind(ATTRIBUTION), kinds.rfind(HEADER))
        last_t_inside = kinds.rfind(TEXT, 0, last_qbh)
        for b in starts:
            if b > last_t_inside and kinds.count(TEXT, b) < 7:
                cut(b)
                break
    # text, then a quote that ends the message
    last_t = kinds.rfind(TEXT)
    if 0 <= last_t < len(kinds) - 1 and not kinds[last_t + 1:].strip("qbe"):
        cut(last_t + 1)
    return [x for x in lines if x.kind != ATTRIBUTION]


MAX_REPLY_LINES = 20_000  # what a person wrote is above this; reading a million lines took 49 s


def strip_reply(text: str) -> str:
    """The new text of a plain-text reply, without quoted history or signature. Never raises.

    Only the first MAX_REPLY_LINES lines are read (a reply written below 20,000 quoted lines
    is not seen), so that the cost of a message has a ceiling whatever its length."""
    text = text or ""
    if text.count("\n") > MAX_REPLY_LINES:
        text = "\n".join(text.split("\n", MAX_REPLY_LINES)[:MAX_REPLY_LINES])
    try:
        kept = trim(classify(text))
    except Exception:  # noqa: BLE001 - the parser must not stop the run; an empty text is safe
        return ""
    return "\n".join(x.text for x in kept).strip().replace("\r", "")


_VALEDICTION = re.compile(
    r"^(?:best(?: regards| wishes)?|(?:kind |warm |many )?(?:regards|thanks)|thank you|cheers|br|rgds|"
    r"(?:viele |beste |liebe |freundliche )?gr(?:ü|ue|u)(?:ß|ss)(?:e|en)?|"
    r"mit freundlichen gr(?:ü|ue)(?:ß|ss)en|mfg|lg|vg|"
    r"merci|cordialement|bien cordialement|bien à vous|amitiés|saludos|un saludo|atentamente|saluti|"
    r"cordiali saluti|grazie|(?:met )?(?:vriendelijke )?groet(?:en)?|mvg|hälsningar|med vänlig hälsning|mvh|"
    r"hilsen|venlig hilsen|pozdrawiam|pozdrav|s pozdravem|s pozdrawem|üdvözlettel|üdv|с уважением|"
    r"obrigad[oa]|abraços?|atenciosamente)\b[ \t,.!]*",
    re.I,
)


def strip_name_signature(text: str, name: str) -> str:
    """Drop a closing paragraph that only signs the message ("Gruß Jonas", "Camille Martin /
    Acme France", "Thanks,\nDana"): it names the sender, is short, and follows other text."""
    parts = [p for p in re.split(r"\n[ \t]*\n", text or "") if p.strip()]
    if len(parts) < 2 or not name:
        return text
    lines = [x.strip() for x in parts[-1].strip().split("\n")]
    if len(lines) > 4 or any(len(x) > 70 for x in lines) or any(x.startswith(">") for x in lines):
        return text
    if "," in name:  # Outlook's "Seller, Sam"
        last, _, given = name.partition(",")
        name = f"{given.strip()} {last.strip()}"
    names = {name.lower(), name.split()[0].lower()} if name.split() else set()
    first = _VALEDICTION.sub("", lines[0]).strip(" ,.!").lower()
    if not first and len(lines) > 1:
        first = lines[1].strip(" ,.!").lower()
    signed = first in names or any(first.startswith(n + " ") or first.startswith(n + ",") for n in names if " " in n)
    if not signed:
        return text
    cut = text.rstrip().rfind(parts[-1].strip())
    return text[:cut].rstrip() if cut > 0 else text


def reply_text(mail) -> str:  # noqa: ANN001 - ParsedMail, imported lazily to keep this module pure
    """What the sender of `mail` wrote themselves; HTML-only mail is cut at its quote markup first."""
    try:
        name = getattr(getattr(mail, "from_addr", None), "name", "") or ""
        if getattr(mail, "text_from_html", False) and mail.html:
            from nudger.mail.html_text import html_to_text

            own = strip_reply(html_to_text(mail.html, drop_quotes=True))
            if own:
                return strip_name_signature(own, name)
        return strip_name_signature(strip_reply(mail.text or ""), name)
    except Exception:  # noqa: BLE001
        return ""
