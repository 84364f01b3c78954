"""The reply grammar of DESIGN.md "Replies": ``ack``, ``done``, ``due friday`` … by email.

Pure: ``parse_commands(text, today, calendar)`` turns what a person wrote (quoted history
and signature already stripped) into commands, a did-you-mean suggestion, or a note.

Rules chosen where DESIGN.md is silent (also in docs/dates-and-commands.md):

- A command word is matched case-insensitively at the start of a line, after any leading
  punctuation or bullets ("**Done**", "- ack"), and must end at a word boundary:
  "yesterday" is not "yes", "Donald" is not "done", and "done-ish" / "done's" are not
  "done". Punctuation after it is ignored ("Done.", "ACK!", "thanks!!", "On it!").
- Aliases beyond DESIGN's table: ``acked``, ``acknowledge(d)`` (ack); ``all done`` (done);
  ``unblocked`` (unblock); ``declined`` (decline); ``cancelled``/``canceled`` (cancel);
  ``re-open``, ``reopened`` (reopen); ``thank u``, ``thankyou``, ``thanx``, ``many thanks``,
  ``tysm``, ``ty`` (thanks; ``ty``/``tysm`` only as the whole line: "Ty, can you…" is a
  name); ``no digests``, ``no_digest``, ``nodigest``, ``no-digest`` (no_digest).
  Not commands: "ok", "okay", "got it", "yep", "sure": they are relayed as a note, because
  they may only mean "received", not "I commit".
- Not a command although it starts with a command word: "due to …" (prose); a
  state-changing word followed by "?" ("Done?", "cancel?": a question); ``status``,
  ``help``, ``daily``, ``weekly`` and ``no digest`` with other words after them on the line
  ("Daily standup moved", "Help me understand…"): these take no arguments, so extra words
  mean prose (allowed after them: please, pls, thanks, digest(s), email(s), punctuation).
- Command lines continue until the first blank line or the first line that is not a
  command; everything from there (blank lines kept, trimmed) is the note of the last
  command, joined to its line's arguments with "\\n". ``thanks`` counts only on the first
  line: later, "Thanks," is a sign-off, not a command.
- Arguments: the rest of the line without leading punctuation ("due: 12/4" → "12/4");
  arguments with no letter or digit ("done :)") are empty.
- Dates: ``due <date>`` reads a date at the start of its line's arguments ("due friday -
  customer moved the meeting" works). ``ack <date or phrase>``: a bare date ("ack friday",
  "on it, by 12/4", "will do it tomorrow"), else a due phrase anywhere in its arguments and
  note ("ack\\nI'll have it by Friday"). ``snooze`` keeps ``due`` None (the caller needs
  the current due date: ``dates.snooze_until``) but checks the format.
- Invalid arguments still give the command, with ``error`` set to a sentence for the reply
  (``due`` without a readable date, ``snooze`` without "3d"/"1w", ``reassign`` without a
  person). ``Command.target`` is the person named by ``reassign`` ("@lee", an address, or
  the bare word after "to").
- Handoff numbers (``ref``): ``#N`` right after the command word names the handoff the
  line acts on (``done #12``, ``ack #14 friday``, ``thanks #9, great work``, ``done: #12``);
  ``#N`` before the command word works too (``#12 done``, ``#12: done``), since a line that
  is only a number and a command cannot mean anything else. Several numbers (``done #12
  #14``, ``done #12, #14``, ``done #12 and #14``) give one command per number with the same
  arguments. The numbers are not part of ``args``; ``raw`` is the line as written without
  them ("Thanks #9, great work" → "Thanks, great work"), so ``thanks #9 great work`` relays
  what ``thanks great work`` in a reply to #9's own email would. A number anywhere else
  ("done, see #12") is just text. The checks on what follows a command word apply to what
  follows its numbers: "done #12?" asks, "status #12" and "ty #9" are commands. A line
  with a number is a command on any line, ``thanks`` included. When the first command
  lines carry a number (or are only status, help and digest choices, which take no note),
  a later line that is a command with a number starts a new command even after a blank
  line or a note (one reply to a digest may hold several handoffs, each with its own
  note); otherwise the lines and notes rules above are unchanged.
- Did you mean: only when the whole text is one word of 3–20 letters that is not a command,
  within an edit distance (with transpositions) of 1 of a command word or alias for words
  up to 5 letters, 2 for longer words, and not a common English word that is plainly
  meant ("not", "one", "gone", "nope", "yep", "noted", "the", "deadline", "statue" …; see
  ``NOT_TYPOS``). Plausible slips of the command itself are suggested ("dne", "ackk",
  "tanks", "thank", "complete", "unlocked"). ``Suggestion.suggestion`` is the alias
  the word is closest to (what to write), ``Suggestion.command`` its canonical name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date
from typing import TYPE_CHECKING, Any

from nudger.core.dates import find_due, parse_date, parse_date_prefix, snooze_span

if TYPE_CHECKING:
    from nudger.core.business_time import BusinessCalendar

__all__ = ["COMMAND_NAMES", "NOT_TYPOS", "Command", "Suggestion", "parse_commands"]


@dataclass(frozen=True)
class Command:
    """One command from a reply. ``raw`` and ``error`` do not take part in equality."""

    name: str
    args: str
    due: date | None = None
    raw: str = field(default="", compare=False, repr=False)
    error: str | None = field(default=None, compare=False)
    ref: int | None = None  # the handoff named on the line ("done #12"), else None

    def as_json(self) -> dict[str, Any]:
        """The shape of ``inspect``'s ``commands`` items (DESIGN.md), plus ``ref`` when named."""
        out: dict[str, Any] = {"name": self.name, "args": self.args}
        if self.due is not None:
            out["due"] = self.due.isoformat()
        if self.ref is not None:
            out["ref"] = self.ref
        return out

    @property
    def target(self) -> str | None:
        """For ``reassign``: the person named ("@lee", "lee@acme.test" or "lee"), else None."""
        first_line = self.args.split("\n", 1)[0]
        if m := _P_MENTION.search(first_line):
            return m.group(0)
        if m := _P_BARE_TARGET.match(first_line):
            return m["who"]
        return None


@dataclass(frozen=True)
class Suggestion:
    """A lone word close to a command ("dne" → "done"): answered with "did you mean"."""

    word: str
    suggestion: str  # the command word or alias it is closest to, as the person would write it
    command: str = ""  # its canonical name

    def as_json(self) -> dict[str, str]:
        return {"word": self.word, "suggestion": self.suggestion, "command": self.command}


# Canonical name → pattern of its words. Order only matters for overlapping aliases.
_COMMANDS: tuple[tuple[str, str], ...] = (
    ("ack", r"ack(?:ed|nowledged?)?|on\s+it|yes|will\s+do"),
    ("done", r"done|all\s+done|finished|completed"),
    ("due", r"due(?!\s+to\b)"),
    ("snooze", r"snooze"),
    ("blocked", r"blocked"),
    ("unblock", r"unblock(?:ed)?"),
    ("reassign", r"reassign"),
    ("decline", r"declined?"),
    ("cancel", r"cancel(?:l?ed)?"),
    ("reopen", r"re-?open(?:ed)?"),
    ("thanks", r"thanks|thank[\s_-]*(?:you|u)|thanx|thx|many\s+thanks|tysm|ty"),
    ("note", r"note"),
    ("status", r"status"),
    ("help", r"help"),
    ("daily", r"daily"),
    ("weekly", r"weekly"),
    ("no_digest", r"no[\s_-]*digests?"),
)
COMMAND_NAMES: tuple[str, ...] = tuple(name for name, _ in _COMMANDS)

# Words a person would type, for "did you mean" (aliases of 3+ letters).
_SPELLINGS: tuple[tuple[str, str], ...] = (
    ("ack", "ack"), ("ack", "acked"), ("ack", "acknowledge"), ("ack", "acknowledged"),
    ("ack", "on it"), ("ack", "yes"), ("ack", "will do"),
    ("done", "done"), ("done", "finished"), ("done", "completed"),
    ("due", "due"), ("snooze", "snooze"), ("blocked", "blocked"), ("unblock", "unblock"),
    ("unblock", "unblocked"), ("reassign", "reassign"), ("decline", "decline"),
    ("decline", "declined"), ("cancel", "cancel"), ("cancel", "cancelled"),
    ("reopen", "reopen"), ("thanks", "thanks"), ("thanks", "thank you"), ("thanks", "thx"),
    ("note", "note"), ("status", "status"), ("help", "help"), ("daily", "daily"),
    ("weekly", "weekly"), ("no_digest", "no digest"),
)  # fmt: skip

_P_COMMAND = re.compile(
    r"(?>(?:[^\w@]|_)*)(?:" + "|".join(f"(?P<{n}>{p})" for n, p in _COMMANDS) + r")(?!\w|[-'’]\w)",
    re.IGNORECASE,
)
_NO_ARGS = frozenset({"status", "help", "daily", "weekly", "no_digest"})
_ASKABLE = frozenset({"status", "help", "note", "thanks"})  # "status?" still asks for it
_WHOLE_LINE_ONLY = re.compile(r"ty|tysm", re.IGNORECASE)
_NO_ARGS_FILLER = frozenset(
    "please pls plz thanks thank you thx digest digests email emails summary".split()
)
_P_WORDS = re.compile(r"[^\W_]+")
_P_MENTION = re.compile(r"@[\w.-]+|(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)+")  # starts a word: linear
_P_BARE_TARGET = re.compile(
    r"(?>(?:to\s+)?)(?!(?:the|a|an|someone|somebody|anyone|whoever)\b)(?P<who>[a-z][\w.-]*)",
    re.IGNORECASE,
)
_P_LEADING_OBJECT = re.compile(r"(?:it|this|that|them|these|those)\s+", re.IGNORECASE)
_P_LONE_WORD = re.compile(r"[^\w]*(?P<word>[a-z]{3,20})[^\w]*", re.IGNORECASE)
# Handoff numbers on a command line: "#12", "#12 #14", "#12, #14", "#12 and #14".
_REFS = r"#\d{1,9}(?:\s*(?:(?:,|&|\+|and\b)\s*)?#\d{1,9})*(?!\w)"
_P_REFS = re.compile(_REFS, re.IGNORECASE)
_P_REF_NUMBER = re.compile(r"#(\d{1,9})")
_P_GAP = re.compile(r"[^\w#@?\n]*")  # between a command word and its number
_P_LEADING_REFS = re.compile(r"(?>(?:[^\w@#]|_)*)(?P<refs>" + _REFS + r")[\s:,.)\u2013\u2014-]*", re.IGNORECASE)

# Real words near a command that a person would write as they are (never "did you mean").
NOT_TYPOS = frozenset(
    """
    ace aced act acted ask asked assign back backed backer bake baked balked banked barked
    bone booked cached cancer cancers candle chance chanced chances channel chanel
    checked clicked cone compete competed completely computed conceal concealed conceded
    cracked cue dainty dairy daisy dally danced dancer dances dane deadline deadly dealing
    dearly deceive deceived decide decided declare declared deeply define defined denote
    destined detained die digest digests dine docked doe dole dome donate dope dose dote
    dove doze drone dub dude duel dues duet dug duh duke dune duo dupe dye dyes easily eyes
    fairly family fished gaily gone hack hacked hacker heap held hell hello helm helped
    helper helps hemp hep hone hue incline jack jacket keenly kelp kicked knit knocked
    knowledge lack lacked licked looked mainly marked masked meekly mocked mote nit node
    none nope nose not noted notes notice obit omit one opened pack packed packet parcel
    parked picked punished rack racked racket ranked realign redesign redone repent resign
    rote rue sack sacked sacred shocked sneeze snooped snoopy sue stacked stacks stages
    stairs stakes stalls stamps stands stares starts startup stated states static statue
    statute stocked sucked sunblock tack talked tanked tasked tax than thankful the things
    thinks tho thy ticked tone tote tracked tracks unacknowledged undone unfinished
    uncompleted unit unopened vainly vote walked weakly weekday whelp wicked wildly willed
    willow yea yeah yeas yelp yen yep yet yew yup zone okay cool great sure fine agreed
    """.split()
)


def _distance(a: str, b: str, limit: int) -> int:
    """Edit distance with adjacent transpositions (OSA), giving up above ``limit``."""
    if abs(len(a) - len(b)) > limit:
        return limit + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], prev2[j - 2] + 1)
        prev2, prev = prev, cur
    return prev[len(b)]


def _suggest(text: str) -> Suggestion | None:
    m = _P_LONE_WORD.fullmatch(text)
    if not m:
        return None
    word = m["word"].lower()
    if word in NOT_TYPOS or _P_COMMAND.fullmatch(word):
        return None  # "Done?" is a question about a command, not a misspelling of one
    limit = 1 if len(word) <= 5 else 2
    best: tuple[int, int, str, str] | None = None
    for rank, (name, spelling) in enumerate(_SPELLINGS):
        for form in {spelling, spelling.replace(" ", "")}:
            d = _distance(word, form, limit)
            if d <= limit and (best is None or (d, rank) < best[:2]):
                best = (d, rank, spelling, name)
    if best is None:
        return None
    return Suggestion(word=m["word"], suggestion=best[2], command=best[3])


def suggest_for_line(line: str) -> str | None:
    """`done #1` for a digest line such as ``dne #1`` (a lone misspelt word and numbers), else None."""
    m = re.fullmatch(r"\s*(\S+)\s+((?:#\d+[\s,]*)+)\s*", line)
    found = _suggest(m[1]) if m else None
    return f"{found.suggestion} {m[2].strip()}" if found and m else None


@dataclass(frozen=True)
class _Line:
    """One command line: its command, its arguments, the handoffs it names, how it was written."""

    name: str
    args: str
    refs: tuple[int, ...]
    raw: str  # the line as written, without its handoff numbers


def _numbers(refs: str) -> tuple[int, ...]:
    return tuple(dict.fromkeys(int(n) for n in _P_REF_NUMBER.findall(refs)))


def _without_refs(head: str, after: str) -> str:
    """The line as written with its numbers taken out: "Thanks #9, great" → "Thanks, great"."""
    after = after.strip()
    if not after:
        return head.rstrip()
    return head.rstrip() + ("" if after[0] in ",.;:!?)" else " ") + after


def _match_line(line: str, first: bool) -> _Line | None:
    """The command on ``line``, else None."""
    line = line.strip()
    body = line
    lead_refs: tuple[int, ...] = ()
    if m := _P_LEADING_REFS.match(line):  # "#12 done"
        body, lead_refs = line[m.end() :], _numbers(m["refs"])
    m = _P_COMMAND.match(body)
    if not m:
        return None
    name = m.lastgroup or ""
    rest = body[m.end() :]
    refs, raw = lead_refs, body
    gap = _P_GAP.match(rest)
    if r := _P_REFS.match(rest, gap.end() if gap else 0):  # "done #12", "**Done** #12", "done: #12"
        if lead_refs:
            return None  # "#12 done #14": which one?
        after = rest[r.end() :]
        if "(" in rest[: r.start()] and after.lstrip().startswith(")"):
            after = after.lstrip()[1:]  # "thanks (#9) great work"
        refs, raw, rest = _numbers(r.group(0)), _without_refs(body[: m.end()], after), after
    if name == "thanks" and not first and not refs:
        return None  # "Thanks," under a command is a sign-off; "thanks #9" is not
    if _WHOLE_LINE_ONLY.fullmatch(m.group(name)) and _P_WORDS.search(rest):
        return None
    if name not in _ASKABLE and rest.lstrip().startswith("?"):
        return None  # "Done?" asks; it does not do
    args = rest.lstrip(" \t:,.;!?-\u2013\u2014").strip()
    if not _P_WORDS.search(args):
        args = ""
    if name in _NO_ARGS and any(w.lower() not in _NO_ARGS_FILLER for w in _P_WORDS.findall(args)):
        return None
    return _Line(name, args, refs, raw)


def _with_due(
    name: str,
    line_args: str,
    args: str,
    raw: str,
    today: date,
    calendar: BusinessCalendar,
    date_order: str,
    ref: int | None = None,
) -> Command:
    due: date | None = None
    error: str | None = None
    if name == "due":
        found = parse_date_prefix(line_args, today, calendar, date_order) if line_args else None
        due = found[0] if found else None
        if due is None:
            error = "due needs a date, like 'due friday', 'due 12/4' or 'due in 3 days'"
    elif name == "ack" and args:
        due = parse_date(line_args, today, calendar, date_order)
        if due is None and (m := _P_LEADING_OBJECT.match(line_args)):
            found = parse_date_prefix(line_args[m.end() :], today, calendar, date_order)
            due = found[0] if found else None
        if due is None:
            due = find_due(args, today, calendar, date_order)
    elif name == "snooze":
        if snooze_span(line_args) is None:
            error = "snooze takes business days or weeks, like 'snooze 3d' or 'snooze 1w'"
    elif name == "reassign":
        cmd = Command(name, args)
        if cmd.target is None:
            error = "reassign needs a person, like 'reassign @lee'"
    return Command(name=name, args=args, due=due, raw=raw, error=error, ref=ref)


def _run_at(lines: list[str], i: int, first: bool) -> tuple[list[_Line], int]:
    """The consecutive command lines from ``lines[i]``, and where they stop."""
    run: list[_Line] = []
    while i < len(lines) and lines[i].strip():
        found = _match_line(lines[i], first=first and not run)
        if found is None:
            break
        run += _then(found)
        i += 1
    return run, i


_AFTER_UNBLOCK = frozenset({"ack", "due", "snooze"})  # written as themselves, not as aliases
_P_AND = re.compile(r"(?:and|then|&)\s+", re.IGNORECASE)


def _then(line: _Line) -> list[_Line]:
    """"unblocked, ack friday": an ``ack``, ``due`` or ``snooze`` on an unblock's own line is a
    command of its own (the owner commits to a date again), not words relayed with the
    unblock. Only after ``unblock``, whose words are never anything else: "done, thanks for
    waiting" stays one command."""
    if line.name != "unblock" or not line.args:
        return [line]
    rest = line.args[m.end():] if (m := _P_AND.match(line.args)) else line.args
    word = rest.split(None, 1)[0].rstrip(",.;:!").lower()
    second = _match_line(rest, first=False) if word in _AFTER_UNBLOCK else None
    if second is None or second.name != word or (second.refs and second.refs != line.refs):
        return [line]
    head = line.raw[: max(0, len(line.raw) - len(line.args))].rstrip(" \t,;:-&")
    return [_Line("unblock", "", line.refs, head), _Line(second.name, second.args, line.refs, second.raw)]


def parse_commands(
    text: str, today: date, calendar: BusinessCalendar, date_order: str = "MDY"
) -> list[Command] | Suggestion:
    """Commands in a reply; a Suggestion for a lone near-miss word; else one ``note``."""
    lines = (text or "").strip().splitlines()
    # An interleaved reply may open with the line it answers ("> Can you do it by Friday?"):
    # the command is the person's first own line.
    start = 0
    while start < len(lines) and (not lines[start].strip() or lines[start].lstrip().startswith(">")):
        start += 1
    if start == len(lines):
        return []
    run, i = _run_at(lines, start, first=True)
    if not run:
        whole = "\n".join(lines).strip()
        suggestion = _suggest("\n".join(lines[start:]).strip())
        if suggestion is not None:
            return suggestion
        return [Command(name="note", args=whole, raw=whole)]

    # Each block: command lines, then the note lines under them. Once the first lines name a
    # handoff (or only ask or choose a digest), a later command line with "#N" opens a block.
    blocks: list[tuple[list[_Line], list[str]]] = [(run, [])]
    by_number = any(ln.refs for ln in run) or all(ln.name in _NO_ARGS for ln in run)
    while i < len(lines):
        if by_number and (found := _match_line(lines[i], first=False)) is not None and found.refs:
            run, i = _run_at(lines, i, first=False)
            blocks.append((run, []))
            continue
        blocks[-1][1].append(lines[i])
        i += 1

    commands: list[Command] = []
    for run, note_lines in blocks:
        note = "\n".join(note_lines).strip()
        for k, ln in enumerate(run):
            args, raw = ln.args, ln.raw
            if k == len(run) - 1 and note:
                args = f"{ln.args}\n{note}" if ln.args else note
                raw = f"{raw}\n{note}"
            for ref in ln.refs or (None,):
                commands.append(_with_due(ln.name, ln.args, args, raw, today, calendar, date_order, ref))
    return commands
