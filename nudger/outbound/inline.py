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
_SIMPLE = re.compile(r"(?:[a-zA-Z][a-zA-Z0-9-]*)?(?:\.[a-zA-Z_-][a-zA-Z0-9_-]*)*")
_PROBE = 'data-nudger-probe=""'
_PROBED = re.compile(r"<[a-zA-Z][^>]*\bdata-nudger-probe=\"\"[^>]*>")
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


class Inliner:
    """css-inline's result for our templates' HTML; one per run (the probes are cached)."""

    def __init__(self) -> None:
        self._full: Any = None
        self._sheets: dict[str, _Sheet | None] = {}

    def inline(self, html: str) -> str:
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
        if "<!--" in html or re.search(r"<link\b", html, re.I):
            return None  # a comment may hold a "<"; css-inline would read (or drop) linked stylesheets
        for tag in self.tags & _DOCUMENT:
            if not re.search(rf"<{tag}\b", html, re.I):
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
        """Each start tag with its style attribute; None for a tag this cannot answer for."""
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
            style = self.style(tag.lower(), classes)
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

    def style(self, tag: str, classes: str | None) -> str | None:
        """The style attribute css-inline writes on such an element, as it writes it ("":
        none), or None when the probe could not place it."""
        key = (tag, classes)
        if key not in self.cache:
            self.cache[key] = self._probe(tag, classes) if classes or tag in self.tags else ""
        return self.cache[key]

    def _probe(self, tag: str, classes: str | None) -> str | None:
        attrs = _PROBE
        if classes is not None:
            attrs += f' class="{_quote(classes)}"'
        head, body = self.head, ""
        if tag in _DOCUMENT:
            doc = {"html": f"<html {attrs}><head>{head}</head><body></body></html>",
                   "head": f"<html><head {attrs}>{head}</head><body></body></html>",
                   "body": f"<html><head>{head}</head><body {attrs}></body></html>"}[tag]
        else:
            element = f"<{tag} {attrs}></{tag}>"
            if tag in _IN_HEAD:
                head += element
            else:
                body = _IN_TABLE.get(tag, "{}").format(element)
            doc = f"<html><head>{head}</head><body>{body}</body></html>"
        out = self.inliner.full(doc)
        found = _PROBED.search(out)
        if found is None or not found.group(0).lower().startswith(f"<{tag}"):
            return None
        value = _STYLE_VALUE.search(found.group(0).replace(_PROBE, ""))
        return value.group(1) if value else ""


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
        depth, j = 0, start
        while j < len(css):
            depth += {"{": 1, "}": -1}.get(css[j], 0)
            j += 1
            if depth == 0:
                break
        i = j
    out.append(css[i:])
    return "".join(out)
