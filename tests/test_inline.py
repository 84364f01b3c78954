"""The cached inliner writes the same document css-inline writes, for every kind of email.

css-inline reorders attributes and adds the ``<tbody>`` the parser implies, so the two are
compared as parsed documents: each put through css-inline's own parser and serializer (with
nothing left to inline), then read as a list of start tags (attributes sorted), end tags,
text and comments.
"""

from __future__ import annotations

from html.parser import HTMLParser
from typing import Any

import css_inline
import pytest
from email_samples import samples

from nudger.outbound.inline import Inliner

_REWRITE = css_inline.CSSInliner(inline_style_tags=False, keep_style_tags=True, load_remote_stylesheets=False)


class _Events(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.events: list[tuple[Any, ...]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.events.append(("start", tag, tuple(sorted(attrs, key=lambda a: a[0]))))

    def handle_endtag(self, tag: str) -> None:
        self.events.append(("end", tag))

    def handle_data(self, data: str) -> None:
        self.events.append(("text", data))

    def handle_comment(self, data: str) -> None:
        self.events.append(("comment", data))


def document(html: str) -> list[tuple[Any, ...]]:
    parser = _Events()
    parser.feed(_REWRITE.inline(html))
    parser.close()
    return parser.events


class _Recording(Inliner):
    """Keeps what each email looked like before inlining, and counts the long way round."""

    def __init__(self) -> None:
        super().__init__()
        self.seen: list[str] = []
        self.whole = 0

    def inline(self, html: str) -> str:
        self.seen.append(html)
        return super().inline(html)


@pytest.fixture(scope="module")
def rendered(monkeypatch_module: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """(label, the HTML before inlining) of every sample; no sample went the long way."""
    recorder = _Recording()
    calls = {"full": 0}
    full = Inliner.full

    def counted(self: Inliner, html: str) -> str:
        if "data-nudger-probe" not in html:
            calls["full"] += 1
        return full(self, html)

    monkeypatch_module.setattr("nudger.outbound.render.Inliner", lambda: recorder)
    monkeypatch_module.setattr(Inliner, "full", counted)
    labels = [s.label for s in samples()]
    assert calls["full"] == 0, "some email went through css-inline whole"
    assert len(recorder.seen) == len(labels)
    return list(zip(labels, recorder.seen, strict=True))


@pytest.fixture(scope="module")
def monkeypatch_module() -> Any:
    with pytest.MonkeyPatch.context() as mp:
        yield mp


def test_every_kind_reads_as_css_inline_writes_it(rendered: list[tuple[str, str]]) -> None:
    fast, reference = Inliner(), Inliner()
    assert len(rendered) >= 38
    for label, html in rendered:
        ours = fast.inline(html)
        assert "<style>" not in ours and 'style="' in ours, label
        assert document(ours) == document(reference.full(html)), label


def _page(css: str, body: str, keep: str = "") -> str:
    kept = f'<style data-css-inline="keep">{keep}</style>' if keep else ""
    return f"<!DOCTYPE html><html><head><style>{css}</style>{kept}</head><body>{body}</body></html>"


@pytest.mark.parametrize("css, body", [
    ("p { color: red } .a { margin: 0 } p.a { color: blue }", '<p class="a">x</p><p>y</p><p class="b a">z</p>'),
    ("td { padding: 1px } .x { font-family: \"Segoe UI\", Arial }",
     '<table><tr><td class="x">a &amp; b</td><th class="x">c</th></tr></table>'),
    (".b { color: red }", '<div class="b"><span class="b">x</span></div><br/><img class="b" src="cid:x">'),
    ("li { color: red }", "<ul><li>one</li><li>two</li></ul>"),
])
def test_simple_sheets_read_as_css_inline_writes_them(css: str, body: str) -> None:
    html = _page(css, body, keep="@media (max-width: 480px) { .b { color: blue !important; } }")
    assert document(Inliner().inline(html)) == document(Inliner().full(html))


@pytest.mark.parametrize("css, body", [
    ("div p { color: red }", "<div><p>x</p></div>"),  # a combinator
    ("p:first-child { color: red }", "<p>x</p>"),  # a pseudo-class
    ("[title] { color: red }", '<p title="t">x</p>'),  # an attribute selector
    ("* { margin: 0 }", "<p>x</p>"),  # every element, also the ones the parser adds
    ("p { color: red !important }", '<p style="color: blue">x</p>'),
    ("tbody { color: red }", "<table><tr><td>x</td></tr></table>"),  # added by the parser
    ("p { color: red }", '<p style="margin: 0">x</p>'),  # a style of its own to merge
    ("@import url(x.css); p { color: red }", "<p>x</p>"),
])
def test_anything_else_goes_through_css_inline_whole(css: str, body: str, monkeypatch: pytest.MonkeyPatch) -> None:
    html = _page(css, body)
    whole = []
    full = Inliner.full

    def counted(self: Inliner, page: str) -> str:
        if "data-nudger-probe" not in page:
            whole.append(page)
        return full(self, page)

    monkeypatch.setattr(Inliner, "full", counted)
    assert Inliner().inline(html) == full(Inliner(), html)
    assert whole == [html]


def test_a_style_element_kept_stays_and_the_others_go() -> None:
    dark = "@media (prefers-color-scheme: dark) { .a { color: white } }"
    html = _page(".a { color: red }", '<p class="a">x</p>', keep=dark)
    out = Inliner().inline(html)
    assert '<style data-css-inline="keep">@media (prefers-color-scheme: dark)' in out
    assert ".a { color: red }" not in out
    assert '<p class="a" style="color: red;">x</p>' in out


def test_the_same_tag_is_worked_out_once(monkeypatch: pytest.MonkeyPatch) -> None:
    probes = []
    full = Inliner.full

    def counted(self: Inliner, page: str) -> str:
        probes.append(page)
        return full(self, page)

    monkeypatch.setattr(Inliner, "full", counted)
    inliner = Inliner()
    html = _page(".a { color: red }", '<p class="a">x</p><p class="a">y</p>')
    inliner.inline(html)
    inliner.inline(html.replace("x", "other words"))
    assert len(probes) == 1 and "data-nudger-probe" in probes[0]
