"""HTML email bodies to readable plain text, optionally without the quoted history.

Built on the standard library's html.parser rather than html2text or inscriptis (see
docs/parsing.md): html2text writes Markdown (it escapes `-`, `1.` and `+` at line starts,
glues table cells together), and inscriptis drops the blockquote structure that quote
detection needs. Mail clients' HTML is simple enough that a small renderer gets lines right:
block elements and <br> break lines, <blockquote> becomes `> `, <hr> becomes Outlook's
underscore rule, and nothing is Markdown-escaped.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html import unescape
from html.parser import HTMLParser

_BLOCK = frozenset(
    "address article aside blockquote center dd details dialog div dl dt fieldset figcaption "
    "figure footer form h1 h2 h3 h4 h5 h6 header hr li main nav ol p pre section summary table "
    "tbody thead tfoot tr ul title".split()
)
_SKIP = frozenset("script style head template noscript object svg math".split())
_VOID = frozenset("area base br col embed hr img input link meta param source track wbr".split())
_SPACES = re.compile(r"[ \t\r\n\f\v]+")
_HR = "_" * 32
# A "<" with no ">" before the next "<" cannot open a tag; html.parser rescans to the end of
# the document for each one (quadratic), so they are escaped first.
_LONE_LT = re.compile(r"<(?=[^<>]*(?:<|$))")
_MAX_HTML = 300_000  # html.parser needs ~1 s per MB; past this an email is not a note to read
_LT_STAND_IN = "\ue000"  # restored to "<" after rendering (an entity would cost a charref each)

# Elements after which a reply's own text is over: the quoted history of Gmail, Outlook
# (desktop, web, mobile), Apple Mail, Thunderbird and Yahoo, by the markers they write.
_CUT_IDS = ("appendonsend", "divrplyfwdmsg", "olk_src_body_section", "mail-editor-reference-message-container")
_CUT_CLASSES = ("gmail_quote", "gmail_extra", "moz-cite-prefix", "yahoo_quoted", "ymail_android_signature",
                "protonmail_quote", "zmail_extra", "moz-forward-container", "divrplyfwdmsg")
_OUTLOOK_RULE = re.compile(
    r"border-top\s*:\s*(?:solid\s*#(?:e1e1e1|b5c4df)|1(?:\.0)?pt\s+solid\s+(?:#e1e1e1|#b5c4df|rgb\(\s*225,\s*225,\s*225\s*\)))",
    re.I,
)


_NO_MARGIN = re.compile(r"(?:^|;)\s*margin\s*:\s*0(?:in|cm|px|pt|em)?\s*(?:;|$)", re.IGNORECASE)


def _is_tight(attrs: list[tuple[str, str | None]]) -> bool:
    """A paragraph drawn without margins: Word/Outlook's MsoNormal, or an inline margin:0.

    Outlook writes every line as such a <p>; a blank line between each would double-space
    every note and body it sends.
    """
    values = {k.lower(): (v or "") for k, v in attrs}
    if "msonormal" in values.get("class", "").lower().split():
        return True
    return bool(_NO_MARGIN.search(values.get("style", "")))


@dataclass
class _Row:
    """An open table row: where its lines and each cell's lines start in the output."""

    start: int
    depth: int
    prefix: str
    cells: list[int] = field(default_factory=list)
    nested: bool = False


class _Renderer(HTMLParser):
    def __init__(self, drop_quotes: bool) -> None:
        super().__init__(convert_charrefs=True)
        self.drop_quotes = drop_quotes
        self.lines: list[str] = []
        self.current: list[str] = []
        self.quote_depth = 0
        self.pre_depth = 0
        self.skip_depth = 0
        self.dropped_depth = 0  # inside a blockquote being dropped
        self.stack: list[str] = []
        self.open_count: dict[str, int] = {}
        self.stopped = False
        self.list_stack: list[list[int]] = []  # [is_ordered, counter]
        self.tight_p: list[bool] = []  # per open <p>: margin-less (Outlook's MsoNormal)
        self.rows: list[_Row] = []  # open <tr>s, innermost last
        self.table_depth = 0

    # -- output helpers
    def _prefix(self) -> str:
        return ">" * self.quote_depth + " " if self.quote_depth else ""

    def _break(self, blank: bool = False, hard: bool = False) -> None:
        """End the current line: always for <br> (hard), only when it has text for a block."""
        text = "".join(self.current)
        if not self.pre_depth:
            text = text.strip(" ")
        self.current = []
        if text or hard:
            self.lines.append((self._prefix() + text).rstrip())
        if blank and self.lines and self.lines[-1].strip("> "):
            self.lines.append(self._prefix().rstrip())

    def _emit(self, text: str) -> None:
        if self.stopped or self.skip_depth or self.dropped_depth:
            return
        if not self.pre_depth:
            text = _SPACES.sub(" ", text)
            if not self.current or self.current[-1].endswith(" "):
                text = text.lstrip(" ")
        if text:
            self.current.append(text)
            if len(self.current) > 64:  # keep the per-call checks above O(1)
                self.current = ["".join(self.current)]

    # -- parser callbacks
    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if self.stopped:
            return
        tag = tag.lower()
        if tag not in _VOID and len(self.stack) < 512:
            self.stack.append(tag)
            self.open_count[tag] = self.open_count.get(tag, 0) + 1
        if self.skip_depth or tag in _SKIP:
            if tag in _SKIP and tag not in _VOID:
                self.skip_depth += 1
            return
        if self.drop_quotes and not self.dropped_depth and self._is_cut(tag, attrs):
            self._break()
            self.stopped = True
            return
        if self.dropped_depth:
            if tag == "blockquote":
                self.dropped_depth += 1
            return
        if tag == "blockquote":
            self._break()
            if self.drop_quotes:
                self.dropped_depth = 1
                return
            self.quote_depth += 1
            return
        if tag == "br":
            self._break(hard=True)
        elif tag == "hr":
            self._break()
            self.lines.append(self._prefix() + _HR)
        elif tag in ("ul", "ol"):
            self._break()
            self.list_stack.append([tag == "ol", 0])
        elif tag == "li":
            self._break()
            marker = "- "
            if self.list_stack:
                self.list_stack[-1][1] += 1
                if self.list_stack[-1][0]:
                    marker = f"{self.list_stack[-1][1]}. "
            self.current.append(marker)
        elif tag == "pre":
            self._break()
            self.pre_depth += 1
        elif tag == "table":
            self._break()
            self.table_depth += 1
            if self.rows:
                self.rows[-1].nested = True
        elif tag == "tr":
            self._break()
            if len(self.rows) < 64:
                self.rows.append(_Row(len(self.lines), self.table_depth, self._prefix()))
        elif tag in ("td", "th"):
            self._break()
            if self.rows and self.rows[-1].depth == self.table_depth and len(self.rows[-1].cells) < 64:
                self.rows[-1].cells.append(len(self.lines))
        elif tag == "p":
            tight = _is_tight(attrs)
            if len(self.tight_p) < 512:
                self.tight_p.append(tight)
            self._break(blank=not tight)
        elif tag in _BLOCK:
            self._break()
        elif tag == "img":
            # An image's words stand in for it, but not a signature logo's: an image shown by
            # ``cid:`` is part of the sender's mail (a logo, a banner), and its alt ("Contoso")
            # would read as a stray line of the customer's words.
            found = dict(attrs)
            alt = found.get("alt") or ""
            if alt.strip() and len(alt) < 60 and not (found.get("src") or "").strip().lower().startswith("cid:"):
                self._emit(alt)

    def handle_endtag(self, tag: str) -> None:
        tag = tag.lower()
        if tag in _VOID:
            return
        if not self.open_count.get(tag):
            return
        while self.stack:
            popped = self.stack.pop()
            self.open_count[popped] -= 1
            if popped == tag:
                break
        if self.stopped:
            return
        if tag in _SKIP:
            self.skip_depth = max(0, self.skip_depth - 1)
            return
        if self.skip_depth:
            return
        if self.dropped_depth:
            if tag == "blockquote":
                self.dropped_depth -= 1
            return
        if tag == "blockquote":
            self._break()
            self.quote_depth = max(0, self.quote_depth - 1)
            self._break(blank=True)
        elif tag == "pre":
            self._break()
            self.pre_depth = max(0, self.pre_depth - 1)
        elif tag in ("ul", "ol"):
            self._break()
            if self.list_stack:
                self.list_stack.pop()
        elif tag == "p":
            self._break(blank=not (self.tight_p.pop() if self.tight_p else False))
        elif tag == "tr":
            self._end_rows(self.table_depth)
        elif tag == "table":
            self._end_rows(self.table_depth)
            self.table_depth = max(0, self.table_depth - 1)
        elif tag in _BLOCK:
            self._break()

    def _end_rows(self, depth: int) -> None:
        """Close the open rows of the table at ``depth``; a simple one becomes one line."""
        self._break()
        while self.rows and self.rows[-1].depth >= depth:
            self._join_row(self.rows.pop())

    def _join_row(self, row: _Row) -> None:
        """A row of short cells (a line item, a label and its value) reads as one line, its
        cells joined by " | " (after a "Label:" cell, a space), instead of one cell per line. Rows holding paragraphs or
        another table (the layout tables mail clients wrap everything in) are left alone."""
        if row.nested or len(row.cells) < 2 or row.start > len(self.lines):
            return
        bounds = [*row.cells, len(self.lines)]
        cells = []
        for begin, end in zip(bounds, bounds[1:], strict=False):
            parts = [line[len(row.prefix):].strip() for line in self.lines[begin:end]]
            if any(not line.startswith(row.prefix.rstrip()) for line in self.lines[begin:end]):
                return
            text = " ".join(p for p in parts if p)
            if len(text) > 80 or len([p for p in parts if p]) > 3:
                return
            if text:
                cells.append(text)
        if len(cells) < 2 or any(self.lines[i].strip("> ") for i in range(row.start, row.cells[0])):
            return
        joined = cells[0]
        for cell in cells[1:]:  # a label cell ("From:", "Qty:") reads into its value
            joined += (" " if joined.endswith((":", "：")) else " | ") + cell
        del self.lines[row.start:]
        self.lines.append(row.prefix + joined)

    def handle_data(self, data: str) -> None:
        self._emit(data)

    def _is_cut(self, tag: str, attrs: list[tuple[str, str | None]]) -> bool:
        values = {k.lower(): (v or "") for k, v in attrs}
        ident = values.get("id", "").lower()
        if ident and any(ident.startswith(c) for c in _CUT_IDS):
            return True
        classes = values.get("class", "").lower().split()
        if any(c in _CUT_CLASSES for c in classes):
            return True
        if tag == "blockquote" and values.get("type", "").lower() == "cite":
            return True
        if tag == "div" and _OUTLOOK_RULE.search(values.get("style", "")):
            return True
        return False

    def text(self) -> str:
        self._break()
        out: list[str] = []
        for line in self.lines:
            if not line.strip("> ") and out and not out[-1].strip("> "):
                continue
            out.append(line)
        return "\n".join(out).strip("\n") + ("\n" if out else "")


def html_to_text(html: str, drop_quotes: bool = False) -> str:
    """Readable text of an HTML body; with drop_quotes, stop at the quoted history. Never raises."""
    if not html:
        return ""
    html = html[:_MAX_HTML]
    if "\r" in html:  # a replace that finds nothing still copies the text
        html = html.replace("\r\n", "\n").replace("\r", "\n")
    renderer = _Renderer(drop_quotes)
    try:
        renderer.feed(_LONE_LT.sub(_LT_STAND_IN, html))
        renderer.close()
    except Exception:  # noqa: BLE001 - malformed markup: keep what was rendered so far
        pass
    try:
        return renderer.text().replace(_LT_STAND_IN, "<")
    except Exception:  # noqa: BLE001
        return unescape(re.sub(r"<[^>]{0,2000}>", " ", html))
