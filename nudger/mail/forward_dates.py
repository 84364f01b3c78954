"""Dates as mail clients print them in forwarded header blocks, to ISO 8601.

The `inspect` contract wants ISO 8601 with an offset when known. Clients print dates in the
user's language and style ("November 22, 2026 at 6:40:00 PM CST", "Mi., 27. Okt. 2021 um
09:31 Uhr", "26. lokakuuta 2021 klo 14.25.08 UTC+3", "22/11/2026 18:40"), so the value is
read piece by piece: zone, then time, then the date (a month name in one of ~20 languages,
or numbers). A zone we do not know gives a naive time rather than a wrong offset; a value
we cannot read at all is returned as written. Every pattern is anchored or bounded, and
input is capped, so this costs microseconds.
"""

from __future__ import annotations

import email.utils
import re
from datetime import date, datetime, timedelta, timezone

_MAX = 200

# Month names and abbreviations by language, January first. Exact tokens only (no prefix
# matching: Finnish "marraskuuta" is November, not March).
_MONTH_NAMES: tuple[str, ...] = (
    # en
    "january february march april may june july august september october november december",
    "jan feb mar apr may jun jul aug sep oct nov dec",
    # de (incl. Austrian)
    "januar februar märz april mai juni juli august september oktober november dezember",
    "jänner feber mrz apr mai jun jul aug sept okt nov dez",
    # fr
    "janvier février mars avril mai juin juillet août septembre octobre novembre décembre",
    "janv févr mars avr mai juin juil aout sept oct nov déc",
    "janv fevr mars avr mai juin juil aout sept oct nov decembre",
    # es, ca
    "enero febrero marzo abril mayo junio julio agosto septiembre octubre noviembre diciembre",
    "ene feb mar abr may jun jul ago setiembre oct nov dic",
    "gener febrer març abril maig juny juliol agost setembre octubre novembre desembre",
    # it
    "gennaio febbraio marzo aprile maggio giugno luglio agosto settembre ottobre novembre dicembre",
    "gen feb mar apr mag giu lug ago set ott nov dic",
    # pt
    "janeiro fevereiro março abril maio junho julho agosto setembro outubro novembro dezembro",
    "jan fev marco abr mai jun jul ago set out nov dez",
    # nl
    "januari februari maart april mei juni juli augustus september oktober november december",
    "jan feb mrt apr mei jun jul aug sep okt nov dec",
    # sv, da, no
    "januari februari mars april maj juni juli augusti september oktober november december",
    "januar februar marts april maj juni juli august september oktober november desember",
    "jan feb mar apr mai jun jul aug sep okt nov des",
    # fi (nominative, partitive, short)
    "tammikuu helmikuu maaliskuu huhtikuu toukokuu kesäkuu heinäkuu elokuu syyskuu lokakuu marraskuu joulukuu",
    "tammikuuta helmikuuta maaliskuuta huhtikuuta toukokuuta kesäkuuta heinäkuuta elokuuta syyskuuta "
    "lokakuuta marraskuuta joulukuuta",
    "tammi helmi maalis huhti touko kesä heinä elo syys loka marras joulu",
    # pl (nominative, genitive, short)
    "styczeń luty marzec kwiecień maj czerwiec lipiec sierpień wrzesień październik listopad grudzień",
    "stycznia lutego marca kwietnia maja czerwca lipca sierpnia września października listopada grudnia",
    "sty lut mar kwi maj cze lip sie wrz paź lis gru",
    # cs
    "leden únor březen duben květen červen červenec srpen září říjen listopad prosinec",
    "ledna února března dubna května června července srpna září října listopadu prosince",
    # sk
    "január február marec apríl máj jún júl august september október november december",
    "januára februára marca apríla mája júna júla augusta septembra októbra novembra decembra",
    # sl
    "januar februar marec april maj junij julij avgust september oktober november december",
    # hr (listopad is October here; see _CROATIAN)
    "siječanj veljača ožujak travanj svibanj lipanj srpanj kolovoz rujan listopad studeni prosinac",
    "siječnja veljače ožujka travnja svibnja lipnja srpnja kolovoza rujna listopada studenoga prosinca",
    "sij velj ožu tra svi lip srp kol ruj lis studenog pro",
    # hu
    "január február március április május június július augusztus szeptember október november december",
    "jan febr márc ápr máj jún júl aug szept okt nov dec",
    # ro
    "ianuarie februarie martie aprilie mai iunie iulie august septembrie octombrie noiembrie decembrie",
    "ian feb mar apr mai iun iul aug sept oct noi dec",
    # tr
    "ocak şubat mart nisan mayıs haziran temmuz ağustos eylül ekim kasım aralık",
    "oca şub mar nis may haz tem ağu eyl eki kas ara",
    # ru (nominative, genitive, short)
    "январь февраль март апрель май июнь июль август сентябрь октябрь ноябрь декабрь",
    "января февраля марта апреля мая июня июля августа сентября октября ноября декабря",
    "янв февр мар апр мая июн июл авг сент окт нояб дек",
    "янв фев мар апр май июн июл авг сен окт ноя дек",
    # uk (nominative, genitive, short)
    "січень лютий березень квітень травень червень липень серпень вересень жовтень листопад грудень",
    "січня лютого березня квітня травня червня липня серпня вересня жовтня листопада грудня",
    "січ лют бер квіт трав черв лип серп вер жовт лист груд",
)

_MONTHS: dict[str, int] = {}
for _row in _MONTH_NAMES:
    for _i, _word in enumerate(_row.split(), start=1):
        _MONTHS.setdefault(_word, _i)
# conflicts resolved towards the language that prints the form (Polish/Czech listopad is November)
_MONTHS.update({"sept": 9, "listopad": 11, "listopada": 11, "lis": 11, "lip": 7, "decembre": 12})
_CROATIAN = re.compile(r"\d\.\s+u\s+\d|\b(?:ponedjeljak|utorak|srijeda|četvrtak|petak|subota|nedjelja)\b", re.I)
_CROATIAN_MONTHS = {"listopad": 10, "listopada": 10, "lis": 10, "lip": 6, "srp": 7}

# Zone abbreviations with one meaning in mail (IST, AST, … are ambiguous and left out: naive).
_ZONES: dict[str, float] = {
    "UTC": 0, "GMT": 0, "UT": 0, "Z": 0, "WET": 0, "WEST": 1, "BST": 1, "CET": 1, "CEST": 2, "MEZ": 1,
    "MESZ": 2, "SEČ": 1, "SELČ": 2, "EET": 2, "EEST": 3, "OEZ": 2, "OESZ": 3, "MSK": 3, "EST": -5,
    "EDT": -4, "CST": -6, "CDT": -5, "MST": -7, "MDT": -6, "PST": -8, "PDT": -7, "AKST": -9, "AKDT": -8,
    "HST": -10, "JST": 9, "KST": 9, "HKT": 8, "SGT": 8, "AEST": 10, "AEDT": 11, "ACST": 9.5, "ACDT": 10.5,
    "AWST": 8, "NZST": 12, "NZDT": 13, "SAST": 2, "BRT": -3,
}
_ZONE_NAMES: dict[str, float] = {
    "eastern standard time": -5, "eastern daylight time": -4, "central standard time": -6,
    "central daylight time": -5, "mountain standard time": -7, "mountain daylight time": -6,
    "pacific standard time": -8, "pacific daylight time": -7, "coordinated universal time": 0,
    "greenwich mean time": 0, "british summer time": 1, "central european standard time": 1,
    "central european summer time": 2, "central european time": 1, "eastern european time": 2,
    "eastern european summer time": 3, "eastern european standard time": 2, "gmt standard time": 0,
    "w. europe standard time": 1, "romance standard time": 1,
}

_CLEAN = re.compile(r"=E2=80=8[EF]|[\u200b-\u200f\u2060\ufeff\u202a-\u202e]")
_OFFSET = re.compile(
    r"\(?\b(?:GMT|UTC|UT)[ \t]*(?P<s1>[+\-−])[ \t]*(?P<h1>\d{1,2})(?::?(?P<m1>\d{2}))?\)?"
    r"|(?<![\w:+\-])(?P<s2>[+\-−])(?P<h2>\d{2}):?(?P<m2>\d{2})(?![\d:])"
)
_ABBREV = re.compile(r"(?<![^\W\d_])(?P<z>[A-ZČ]{1,5})(?![^\W\d_])")
_ZONE_NAME = re.compile(
    r"\b(?:" + "|".join(re.escape(k) for k in sorted(_ZONE_NAMES, key=len, reverse=True)) + r")\b", re.I
)
_TIME_COLON = re.compile(
    r"(?:(?P<pre>上午|下午|午前|午後|오전|오후)[ \t]*)?"
    r"(?<![\d:])(?P<h>\d{1,2}):(?P<mi>\d{2})(?::(?P<s>\d{2}))?(?![\d:])"
    r"(?:[ \t]*(?P<ampm>[AaPp])\.?[ \t]?[Mm]\.?(?![^\W\d_]))?"
)
_TIME_DOT = re.compile(
    r"(?<![\d.])(?P<h>\d{1,2})\.(?P<mi>\d{2})(?:\.(?P<s>\d{2}))?(?![.\d])"
    r"(?:[ \t]*(?P<ampm>[AaPp])\.?[ \t]?[Mm]\.?(?![^\W\d_]))?"
)
_ISO_DATE = re.compile(r"(?<!\d)(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})(?!\d)")
_CJK_DATE = re.compile(r"(?P<y>\d{4})[ \t]*[年년][ \t]*(?P<m>\d{1,2})[ \t]*[月월][ \t]*(?P<d>\d{1,2})[ \t]*[日일]?")
_NUM_DATE = re.compile(
    r"(?<![\d.:/])(?P<a>\d{1,2})[ \t]?(?P<sep>[./-])[ \t]?(?P<b>\d{1,2})"
    r"[ \t]?(?P=sep)[ \t]?(?P<y>\d{4}|\d{2})(?![\d:/])"
)
_WORD = re.compile(r"[^\W\d_]{2,20}")
_NUMBER = re.compile(r"(?<!\d)\d{1,4}(?!\d)")


def parse_forward_date(raw: str | None, day_first: bool | None = None) -> str | None:
    """ISO 8601 for a date as a mail client printed it; the value as written when unreadable.

    `day_first` settles 03/04/2026 (both numbers ≤ 12); by default a 12-hour clock means
    the US order (month first) and a 24-hour clock the European one.
    """
    text = " ".join((raw or "").split())
    if not text:
        return None
    value = to_datetime(text[:_MAX], day_first)
    return text if value is None else value.isoformat()


def to_datetime(raw: str, day_first: bool | None = None) -> datetime | date | None:
    """A datetime (aware when the zone is known), a date when no time is given, else None."""
    s = _CLEAN.sub("", raw or "")[:_MAX].strip()
    if not s:
        return None
    quick = _quick(s)
    if quick is not None:
        return quick
    croatian = bool(_CROATIAN.search(s))
    offset, s = _take_zone(s)
    hms, s = _take_time(s)
    ymd = _take_date(s, day_first, hms[3] if hms else None, croatian)
    if ymd is None:
        return None
    try:
        if hms is None:
            return date(*ymd)
        value = datetime(*ymd, hms[0], hms[1], hms[2])
    except ValueError:
        return None
    if offset is not None:
        value = value.replace(tzinfo=timezone(timedelta(minutes=offset)))
    return value


def _quick(s: str) -> datetime | None:
    """ISO 8601 and RFC 2822 as they are."""
    if s[:4].isdigit() and "T" in s[8:12]:
        try:
            return datetime.fromisoformat(s.replace("Z", "+00:00"))
        except ValueError:
            return None
    if re.match(
        r"^(?:[A-Za-z]{3},[ \t]*)?\d{1,2}[ \t]+[A-Za-z]{3}[ \t]+\d{4}[ \t]+"
        r"\d{1,2}:\d{2}(?::\d{2})?[ \t]+[+-]\d{4}(?:[ \t]*\([^()]{0,40}\))?$",
        s,
    ):
        try:
            return email.utils.parsedate_to_datetime(s)
        except (TypeError, ValueError, IndexError):
            return None
    return None


def _take_zone(s: str) -> tuple[int | None, str]:
    """The UTC offset in minutes (None when absent or unknown) and the text without it."""
    m = _OFFSET.search(s)
    if m:
        sign = -1 if (m.group("s1") or m.group("s2")) in "-−" else 1
        hours = int(m.group("h1") or m.group("h2"))
        minutes = int(m.group("m1") or m.group("m2") or 0)
        rest = s[:m.start()] + " " + s[m.end():]
        rest = _ABBREV.sub(lambda a: "" if a.group("z") in _ZONES else a.group(0), rest)
        if hours <= 14 and minutes < 60:
            return sign * (hours * 60 + minutes), _strip_zone_names(rest)
        return None, rest
    m = _ZONE_NAME.search(s)
    if m:
        return int(_ZONE_NAMES[m.group(0).lower()] * 60), s[:m.start()] + " " + s[m.end():]
    for m in _ABBREV.finditer(s):
        zone = m.group("z")
        if zone in _ZONES and (zone != "Z" or re.search(r"\d[ \t]?$", s[:m.start()])):
            return int(_ZONES[zone] * 60), s[:m.start()] + " " + s[m.end():]
    return None, s


def _strip_zone_names(s: str) -> str:
    return _ZONE_NAME.sub(" ", s)


def _take_time(s: str) -> tuple[tuple[int, int, int, str] | None, str]:
    """(hour, minute, second, clock) and the text without the time; clock is '12' or '24'."""
    for pattern in (_TIME_COLON, _TIME_DOT):
        for m in pattern.finditer(s):
            hour, minute, second = int(m.group("h")), int(m.group("mi")), int(m.group("s") or 0)
            ampm = (m.group("ampm") or "").lower()
            pre = m.groupdict().get("pre") or ""
            if pre in ("下午", "午後", "오후"):
                ampm = "p"
            elif pre:
                ampm = "a"
            if ampm and not 1 <= hour <= 12:
                continue
            if ampm == "p" and hour < 12:
                hour += 12
            elif ampm == "a" and hour == 12:
                hour = 0
            if hour > 23 or minute > 59 or second > 59:
                continue
            return (hour, minute, second, "12" if ampm else "24"), s[:m.start()] + " " + s[m.end():]
    return None, s


def _take_date(s: str, day_first: bool | None, clock: str | None, croatian: bool) -> tuple[int, int, int] | None:
    m = _CJK_DATE.search(s) or _ISO_DATE.search(s)
    if m:
        return int(m.group("y")), int(m.group("m")), int(m.group("d"))
    named = _named_month(s, croatian)
    if named is not None:
        return named
    m = _NUM_DATE.search(s)
    if not m:
        return None
    a, b, year = int(m.group("a")), int(m.group("b")), int(m.group("y"))
    if year < 100:
        year += 2000
    if m.group("sep") == ".":
        first = True
    elif a > 12 >= b:
        first = True
    elif b > 12 >= a:
        first = False
    elif day_first is not None:
        first = day_first
    else:
        first = clock != "12"
    day, month = (a, b) if first else (b, a)
    return year, month, day


def _named_month(s: str, croatian: bool) -> tuple[int, int, int] | None:
    """Day, month name and four-digit year in any order ("26. Okt. 2021", "Oct 26, 2021", "2021. október 26.")."""
    words = list(_WORD.finditer(s))
    found = [w for w in words if w.group(0).lower() in _MONTHS]
    if not found:
        return None
    # "mar, 2 nov 2021" / "mar. 2 nov." (Tuesday in es, fr, it, ro): a leading weekday is not the month
    at = found[1] if len(found) > 1 and found[0] is words[0] else found[0]
    word = at.group(0).lower()
    month = (_CROATIAN_MONTHS if croatian else _MONTHS).get(word) or _MONTHS[word]
    numbers = [(n.start(), n.group(0)) for n in _NUMBER.finditer(s)]
    years = [(p, int(v)) for p, v in numbers if len(v) == 4 and 1900 <= int(v) <= 2200]
    if not years:
        return None
    year_pos, year = years[0]
    days = [(abs(p - at.start()), int(v)) for p, v in numbers if len(v) <= 2 and 1 <= int(v) <= 31 and p != year_pos]
    if not days:
        return None
    return year, month, min(days)[1]
