"""The stylesheet moved into each element's ``style`` attribute, paid for once per run.

Many mail clients drop ``<style>``, so every element carries its styles inline. css-inline
does that, but parsing the stylesheet and the whole email, then writing it out again, cost
about as much as rendering the email. When every selector is simple (a tag, classes, or a
tag with classes: no combinators, no pseudo-classes, no attributes, no ``*``), which rules
reach an element depends only on its tag and its ``class``: css-inline computes that style
once for each such pair (on a small probe document holding the same stylesheets) and every
later email gets the cached value pasted into its tags. The result parses to the same
document as css-inline's own output (tests/test_inline.py checks every kind of email); an
email this cannot promise that for (a complex selector, a ``<link>``, an element with a
style of its own, one the probe cannot place) goes through css-inline whole.
"""

from __future__ import annotations

import re
from typing import Any

# Style elements, then the start tags between them. Text never holds "<" (autoescape); a
# tag's attributes end at the first ">", which is checked to be outside quotes.
_STYLE_OPEN = re.compile(r"<style\b([^>]*)>", re.I)
_STYLE_CLOSE = re.compile(r"</style\s*>", re.I)
_START_TAG = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)([^>]*)>")
_ATTR = re.compile(r"""([^\s=/>"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?""")
_COMMENT = re.compile(r"/\*.*?\*/", re.S)
_BRACES = re.compile(r"[{}]")
_SIMPLE = re.compile(r"(?:[a-zA-Z][a-zA-Z0-9-]*)?(?:\.[a-zA-Z_-][a-zA-Z0-9_-]*)*")
_PROBED = re.compile(r"<([a-zA-Z][a-zA-Z0-9-]*)\b[^>]*\bdata-nudger-probe=\"(\d+)\"[^>]*>")
_DOCTYPE = re.compile(r"\s*<!DOCTYPE html>", re.I)
_VOID = frozenset({"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track",
                   "wbr"})
_STYLE_VALUE = re.compile(r'\bstyle="([^"]*)"')
# The class attribute when it is the tag's first (nothing before it that could also be one).
_CLASS = re.compile(r"""^\s+class\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+))""", re.I)
# Where the HTML parser keeps an element of this tag, for the probe.
_IN_TABLE = {"td": "<table><tr>{}</tr></table>", "th": "<table><tr>{}</tr></table>", "tr": "<table>{}</table>",
             "tbody": "<table>{}</table>", "thead": "<table>{}</table>", "tfoot": "<table>{}</table>",
             "caption": "<table>{}</table>", "colgroup": "<table>{}</table>",
             "col": "<table><colgroup>{}</colgroup></table>"}
_IN_HEAD = frozenset({"title", "meta", "base", "link", "style", "script", "noscript", "template"})
_DOCUMENT = frozenset({"html", "head", "body"})
_IMPLIED = frozenset({"tbody", "colgroup"})
_DOCUMENT_TAG = {tag: re.compile(rf"<{tag}\b", re.I) for tag in _DOCUMENT}
_LINK = re.compile(r"<link\b", re.I)


class Inliner:
    """css-inline's result for our templates' HTML; one per run (the probes are cached)."""

    def __init__(self) -> None:
        self._full: Any = None
        self._sheets: dict[str, _Sheet | None] = {}

    def inline(self, html: str) -> str:
        if not _DOCTYPE.match(html):
            return self.full(html)  # quirks mode (class names match in any case there): not probed
        styles = _style_elements(html)
        key = "\x00".join(whole for whole, _, _, _ in styles)
        if key not in self._sheets:
            self._sheets[key] = _Sheet.of(styles, self)
        sheet = self._sheets[key]
        if sheet is not None:
            out = sheet.apply(html, styles)
            if out is not None:
                return out
        return self.full(html)

    def full(self, html: str) -> str:
        """css-inline over the whole email: the reference, and the way for what a sheet refuses."""
        if self._full is None:
            import css_inline  # imported on the first email rendered, not by every command

            self._full = css_inline.CSSInliner(load_remote_stylesheets=False)
        return str(self._full.inline(html))


class _Sheet:
    """One set of style elements whose selectors are all simple, and the style each
    (tag, class, style) gets from it."""

    def __init__(self, inliner: Inliner, head: str, tags: set[str]):
        self.inliner = inliner
        self.head = head  # the style elements that stay, plus the ones css-inline reads
        self.tags = tags  # the tags its rules name
        self.cache: dict[tuple[str, str | None], str | None] = {}
        self.done: dict[str, str] = {}  # a start tag as written → as sent

    @classmethod
    def of(cls, styles: list[tuple[str, str, int, int]], inliner: Inliner) -> _Sheet | None:
        tags: set[str] = set()
        for whole, attrs, _, _ in styles:
            css = whole[whole.index(">") + 1:whole.rindex("<")]
            keep = _attrs(attrs).get("data-css-inline")
            named = _simple_tags(css)
            if keep not in (None, "keep") or named is None:
                return None
            tags |= named
        if tags & _IMPLIED:
            return None  # the parser adds these where a template leaves them out: no tag to style
        return cls(inliner, "".join(whole for whole, _, _, _ in styles), tags)

    def apply(self, html: str, styles: list[tuple[str, str, int, int]]) -> str | None:
        if "<!--" in html or _LINK.search(html):
            return None  # a comment may hold a "<"; css-inline would read (or drop) linked stylesheets
        for tag in self.tags & _DOCUMENT:
            if not _DOCUMENT_TAG[tag].search(html):
                return None  # a rule for an element the parser would add
        out: list[str] = []
        at = 0
        for whole, attrs, start, end in styles:
            if (part := self._tags(html[at:start])) is None:
                return None
            out.append(part)
            if _attrs(attrs).get("data-css-inline") == "keep":
                out.append(whole)  # kept whole; any other style element is read and dropped
            at = end
        if (part := self._tags(html[at:])) is None:
            return None
        out.append(part)
        return "".join(out)

    def _tags(self, html: str) -> str | None:
        """Each start tag with its style attribute; None for a tag this cannot answer for.
        Tags not seen yet are probed all at once, then the tags written again."""
        missing: dict[tuple[str, str | None], None] = {}
        out = self._styled(html, missing)
        if missing:
            self._probe(list(missing))
            out = self._styled(html, {})
        return out

    def _styled(self, html: str, missing: dict[tuple[str, str | None], None]) -> str | None:
        failed = False
        done = self.done

        def element(m: re.Match[str]) -> str:
            nonlocal failed
            whole = m.group(0)
            if (known := done.get(whole)) is not None:
                return known
            tag, attrs = m.group(1), m.group(2)
            if attrs.count('"') % 2 or attrs.count("'") % 2 or ("style" in attrs and "style" in _attrs(attrs)):
                failed = True  # a ">" inside quotes, or a style of its own to merge: css-inline
                return whole
            classes = None
            if "class" in attrs:
                found = _CLASS.search(attrs)
                classes = _attrs(attrs).get("class") if found is None else next(g for g in found.groups()
                                                                                if g is not None)
            key = (tag.lower(), classes)
            if key not in self.cache and (classes or key[0] in self.tags):
                missing[key] = None
                return whole
            style = self.cache.get(key, "")
            if style is None:  # nowhere to probe it
                failed = True
                return whole
            if style:
                close = "/" if attrs.endswith("/") else ""
                value = f'<{tag}{attrs[:-1] if close else attrs} style="{style}"{close}>'
            else:
                value = whole
            if len(done) < 10_000:  # the same tags come back in every email; a bound all the same
                done[whole] = value
            return value

        out = _START_TAG.sub(element, html)
        return None if failed else out

    def _probe(self, keys: list[tuple[str, str | None]]) -> None:
        """The style css-inline writes on each such element, as it writes it ("": none; None:
        the parser would not keep such an element where the probe put it), from one probe
        document holding the same style elements (one each for html, head and body)."""
        for key in keys:
            self.cache[key] = None
        head: list[str] = []
        body: list[str] = []
        for i, (tag, classes) in enumerate(keys):
            attrs = f'data-nudger-probe="{i}"' + (f' class="{_quote(classes)}"' if classes is not None else "")
            if tag in _DOCUMENT:
                html_attrs = f" {attrs}" if tag == "html" else ""
                head_attrs = f" {attrs}" if tag == "head" else ""
                body_attrs = f" {attrs}" if tag == "body" else ""
                self._read(keys, self.inliner.full(
                    f"<!DOCTYPE html><html{html_attrs}><head{head_attrs}>{self.head}</head>"
                    f"<body{body_attrs}></body></html>"))
                continue
            element = f"<{tag} {attrs}>" + ("" if tag in _VOID else f"</{tag}>")
            if tag in _IN_HEAD:
                head.append(element)
            else:
                body.append(_IN_TABLE.get(tag, "{}").format(element))
        if head or body:
            self._read(keys, self.inliner.full(
                f"<!DOCTYPE html><html><head>{self.head}{''.join(head)}</head><body>{''.join(body)}</body></html>"))

    def _read(self, keys: list[tuple[str, str | None]], out: str) -> None:
        for m in _PROBED.finditer(out):
            tag, i = m.group(1).lower(), int(m.group(2))
            if i < len(keys) and keys[i][0] == tag:
                value = _STYLE_VALUE.search(m.group(0))
                self.cache[keys[i]] = value.group(1) if value else ""


def _style_elements(html: str) -> list[tuple[str, str, int, int]]:
    """Each style element: its text, its attributes, where it starts and ends."""
    found = []
    at = 0
    while (m := _STYLE_OPEN.search(html, at)) is not None:
        close = _STYLE_CLOSE.search(html, m.end())
        end = close.end() if close else len(html)
        found.append((html[m.start():end], m.group(1), m.start(), end))
        at = end
    return found


def _attrs(text: str) -> dict[str, str]:
    """A start tag's attributes (the first of a name wins, as in HTML), values unescaped
    only as far as the probe needs: it re-quotes them."""
    found: dict[str, str] = {}
    for m in _ATTR.finditer(text):
        name = m.group(1).lower()
        if name not in found:
            found[name] = next((g for g in m.groups()[1:] if g is not None), "")
    return found


def _quote(value: str) -> str:
    return value.replace('"', "&quot;")


def _simple_tags(css: str) -> set[str] | None:
    """The tags a stylesheet's rules name, when every rule outside @media has simple
    selectors only (rules inside @media are never inlined), with nothing else at the top
    level (@import, @font-face, …) and no !important; else None."""
    css = _without_media(_COMMENT.sub("", css))
    if "!important" in css or "\\" in css:
        return None
    tags: set[str] = set()
    for block in css.split("}"):
        if not block.strip():
            continue
        if "{" not in block:
            return None
        selectors, _ = block.split("{", 1)
        for selector in selectors.split(","):
            selector = selector.strip()
            if not selector or not _SIMPLE.fullmatch(selector):
                return None
            if tag := selector.split(".", 1)[0].lower():
                tags.add(tag)
    return tags


def _without_media(css: str) -> str:
    """The stylesheet with its @media blocks (nested braces) cut out; anything else that
    starts with @ is left in, and refused by the caller."""
    out, i = [], 0
    while (at := css.find("@media", i)) >= 0:
        out.append(css[i:at])
        start = css.find("{", at)
        if start < 0:
            return css + "@"  # not a block: refused
        depth, j = 0, len(css)
        for brace in _BRACES.finditer(css, start):
            depth += 1 if brace.group() == "{" else -1
            if depth == 0:
                j = brace.end()
                break
        i = j
    out.append(css[i:])
    return "".join(out)
