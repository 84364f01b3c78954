"""The demo's ``mail/index.html``: the fortnight as one page, every email readable in it.

One self-contained file beside the outbound Maildir (no network, no framework): the steps
in time order, each email that went with its recipient's local time, kind, subject and
reason, its HTML part in a sandboxed ``<iframe srcdoc>`` and its text part in a ``<pre>``.
Rendered by one Jinja template with autoescape (``templates/demo/index.html``).
"""

from __future__ import annotations

import email
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from itertools import groupby
from pathlib import Path
from typing import TYPE_CHECKING

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape
from markupsafe import Markup, escape

from nudger.ops.demo_reasons import day_title
from nudger.ops.local_time import short_day
from nudger.outbound.render import builtin_templates

if TYPE_CHECKING:
    from nudger.ops.demo import DemoEmail, DemoResult, Step


@dataclass(frozen=True)
class ShownEmail:
    """An email as the page shows it: its timeline facts and both of its parts."""

    mail: DemoEmail
    number: int  # 1.. in send order
    html: str
    text: str
    href: str  # the .eml file, relative to the page


@dataclass(frozen=True)
class ShownStep:
    step: Step
    emails: tuple[ShownEmail, ...]


@dataclass(frozen=True)
class ShownDay:
    title: str  # "Monday 23 November"
    steps: tuple[ShownStep, ...]


def parts(path: Path) -> tuple[str, str]:
    """(HTML, plain text) of one .eml; a part that is missing is empty."""
    msg = email.message_from_bytes(path.read_bytes(), policy=default_policy)
    assert isinstance(msg, EmailMessage)
    html, text = msg.get_body(("html",)), msg.get_body(("plain",))
    return (str(html.get_content()) if isinstance(html, EmailMessage) else "",
            str(text.get_content()).replace("\r\n", "\n") if isinstance(text, EmailMessage) else "")


def days(result: DemoResult) -> list[ShownDay]:
    """The steps by day, each email with its parts, numbered in the order they went."""
    page = result.index.parent
    numbered: list[ShownStep] = []
    n = 0
    for step in result.steps:
        shown = []
        for mail in step.sent:
            n += 1
            html, text = parts(mail.file)
            shown.append(ShownEmail(mail, n, html, text, mail.file.relative_to(page).as_posix()))
        numbered.append(ShownStep(step, tuple(shown)))
    return [ShownDay(day_title(group[0].step.at), tuple(group))
            for group in (list(g) for _, g in groupby(numbered, key=lambda s: s.step.at.date()))]


def code_spans(text: str) -> Markup:
    """The console's `ack <date>` as <code>ack &lt;date&gt;</code> on the page: escaped, then
    each pair of backticks made a code span (an odd one left is kept as it is)."""
    parts = str(escape(text)).split("`")
    if len(parts) % 2 == 0:
        return Markup(escape(text))
    return Markup("".join(f"<code>{p}</code>" if i % 2 else p for i, p in enumerate(parts)))


def write_index(result: DemoResult, cast: str, how_to_read: str) -> Path:
    env = Environment(loader=FileSystemLoader(str(builtin_templates() / "demo")),
                      autoescape=select_autoescape(default=True), undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["code"] = code_spans
    first, last = result.steps[0].at, result.steps[-1].at
    html = env.get_template("index.html").render(
        result=result, days=days(result), cast=cast, how_to_read=how_to_read, count=len(result.emails),
        span=f"{short_day(first)} to {short_day(last)} {last:%Y}")
    result.index.write_text(html, encoding="utf-8")
    return result.index
