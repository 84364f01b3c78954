"""Every kind of email, rendered for each person it goes to, with the data that breaks layouts.

The handoff comes from a real Outlook HTML-only forward (parsed by nudger's own reader): a
123-character URL, a table of line items, an inline ``cid:`` logo, a Cc list. The note is
long, the reasons and words are long, the titles are long. The layout tests load these in
Chromium; the text tests read their plain parts.
"""

from __future__ import annotations

import email
import tomllib
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from email.message import EmailMessage
from email.policy import default as default_policy
from typing import Any

from conftest import ORG_TOML

from nudger.config import config_from_dict
from nudger.core.records import Handoff, Notice
from nudger.mail.forwards import find_forward
from nudger.mail.message import Attachment, parse_message
from nudger.ops import sample_mail
from nudger.outbound.digests import Figure, Item, Section
from nudger.outbound.kinds import KINDS
from nudger.outbound.render import Renderer
from nudger.state.metrics import NeedsSomeone, OpenHandoff, TeamWeek

URL = ("https://portal.initech.example/procurement/vendors/onboarding/forms/order-form-2026-11-q4"
       "?ref=email&campaign=winter-renewal")
assert len(URL) == 123
NOW = datetime(2026, 11, 23, 15, 0, tzinfo=UTC)
CONFIG = config_from_dict(tomllib.loads(ORG_TOML), env={})
SAM, DANA, LEE, MARIA = "sam@acme.test", "dana@acme.test", "lee@acme.test", "maria@acme.test"
NOTE = ("@dana can you send Initech the signed order form and our W-9 by friday? They are waiting on it to "
        "raise the PO, and Bill says procurement closes the quarter early this year, so anything after Friday "
        "slips to January. The pricing we agreed is in the thread below; the portal wants the PDF, not a link.")
WORDS = ("Sent the W-9 and the countersigned order form through the portal; Bill confirmed receipt. "
         "The PO number is INI-2026-4471, see " + URL)
CUSTOMER_TEXT = ["Hi Sam,", f"Please find the order details below. The portal link is {URL}",
                 "Our AP team needs the W-9 before the PO can be raised.", "Thanks,", "Bill"]


def outlook_forward() -> bytes:
    return sample_mail.outlook_forward(
        NOTE, sender="Sam Seller <sam@acme.test>", to="handoffs@acme.test",
        subject="FW: Order form and W-9 for the Q4 renewal of the TPS licences [EXT]",
        date=datetime(2026, 11, 23, 9, 0, tzinfo=timezone(timedelta(hours=-6))),
        customer="Bill Lumbergh <bill@initech.example>", customer_to="Sam Seller <sam@acme.test>",
        customer_cc="Peter Gibbons <peter@initech.example>, Accounts Payable <ap@initech.example>, "
                    "Lee Ledger <lee@acme.test>",
        customer_subject="Order form and W-9 for the Q4 renewal of the TPS licences",
        paragraphs=CUSTOMER_TEXT,
        table=[("Item", "Qty", "Price"), ("TPS licence (annual)", "12", "$1,200.00"), ("Support", "1", "$300.00")],
        customer_date=datetime(2026, 11, 22, 18, 15),
    )


def handoff(**changes: Any) -> Handoff:
    fwd = find_forward(parse_message(outlook_forward()))
    assert fwd is not None
    base = Handoff(id=42, title="Order form and W-9 for the Q4 renewal of the TPS licences", status="open",
                   requester=SAM, created=NOW, updated=NOW, owner=DANA, team="accounting",
                   due=date(2026, 11, 27), rush=True, watchers=(LEE,), note=NOTE, forwarded=fwd.as_json(),
                   root_message_id="root@mail.acme.test", has_source=True, due_asked=True)
    return base.changed(**changes)


@dataclass(frozen=True)
class Sample:
    label: str  # kind, and whose copy: "done-requester"
    kind: str
    msg: EmailMessage
    raw: bytes = b""  # the bytes nudger would send

    @property
    def html(self) -> str:
        part = self.msg.get_body(("html",))
        return part.get_content() if part else ""

    @property
    def text(self) -> str:
        part = self.msg.get_body(("plain",))
        return part.get_content().replace("\r\n", "\n") if part else ""


def _week(h: Handoff) -> TeamWeek:
    return TeamWeek(
        team="accounting", start=NOW - timedelta(days=7), end=NOW, opened=9, closed=7, done=6, open_now=4,
        overdue_now=1, median_ack_hours=3.5, median_done_hours=30.25, on_time_rate=0.857,
        rush_by_requester=((SAM, 3),), thanks_given=4, done_not_thanked=2, top_helpers=((DANA, 4), (LEE, 2)),
        oldest_open=(OpenHandoff(h.id, h.title, DANA, NOW - timedelta(days=12), h.due, "acknowledged"),),
        needs_someone=(NeedsSomeone(43, "Refund for the duplicated November invoice " + URL, "no owner", None,
                                    "open", None),),
    )


def _digest_sections(h: Handoff) -> list[Section]:
    mine = [Item(h.id, h.title, "acknowledged", h.due, SAM, 2, True),
            Item(44, "Credit memo " + URL, "blocked", date(2026, 11, 30), SAM, 0)]
    return [Section("You owe", mine), Section("Owed to you", [Item(45, "Tax-exempt certificate", "open",
                                                                   date(2026, 12, 1), LEE, 0)], more=12)]


def _contexts(h: Handoff) -> dict[str, list[tuple[str, Handoff | None, dict[str, Any]]]]:
    """Per kind: (recipient, the handoff as of that email, the notice's context)."""
    done = h.changed(status="done")
    blocked = h.changed(status="blocked", blocked_reason="waiting for the signed order form from Initech legal")
    cancelled, declined = h.changed(status="cancelled"), h.changed(owner=LEE)
    long_reason = "the order form is no longer needed: Initech moved the renewal to their January budget " + URL
    att = [Attachment("Initech order form (signed) - Q4 renewal of the TPS licences.pdf", "application/pdf",
                      b"%PDF-1.4 " * 400)]
    history = [{"at": NOW - timedelta(days=6), "actor": SAM, "what": "asked for it", "words": NOTE},
               {"at": NOW - timedelta(days=5), "actor": DANA, "what": "confirmed, due 2026-11-27", "words": ""},
               {"at": NOW - timedelta(days=2), "actor": DANA, "what": "was blocked", "words": WORDS}]
    return {
        "receipt": [(SAM, h, {"lead_days": 7, "notice_days": 4, "also_told": [DANA, LEE]})],
        "no_owner": [(SAM, h.changed(owner=None, team=None), {})],
        "refusal": [(LEE, h, {"reason": "only the requester or the owner can cancel #42.",
                              "how": "Ask Sam Seller to cancel it, or reply with a note and I'll pass it on."})],
        "status": [(SAM, h, {}), (SAM, None, {"open_items": [h, blocked.changed(id=44, title="Credit memo " + URL)]})],
        "help": [(SAM, None, {})],
        "did_you_mean": [(DANA, h, {"word": "dnoe", "suggestion": "done"})],
        "digest_choice": [(DANA, None, {"choice": "weekly"})],
        "owner_assigned": [(SAM, h, {"new_owner": DANA})],
        "calendar_update": [(DANA, h.changed(status="acknowledged", due=date(2026, 12, 4)), {
                                "actor": DANA, "old_due": h.due, "new_due": date(2026, 12, 4), "acked": True,
                                "also_told": [SAM]})],
        "quarantined": [(SAM, None, {"reason": "the attachments are 41.2 MB; the limit is 25 MB.",
                                     "quarantine_id": 7, "subject": "FW: Scans of every signed page " + URL})],
        "new_handoff": [(DANA, h, {"attachments": att}), (LEE, h, {"customer_files": att})],
        "acknowledged": [(SAM, h.changed(status="acknowledged", due=date(2026, 12, 1)), {
                             "actor": DANA, "words": "tuesday works", "new_due": date(2026, 12, 1),
                             "old_due": h.due})],
        "done": [(SAM, done, {"actor": DANA, "words": WORDS, "prompt_thanks": True}), (LEE, done, {"words": WORDS})],
        "blocked": [(SAM, blocked, {"actor": DANA, "reason": blocked.blocked_reason}), (LEE, blocked, {})],
        "unblocked": [(SAM, h.changed(status="acknowledged"), {"actor": DANA, "words": WORDS})],
        "due_changed": [(DANA, h.changed(due=date(2026, 12, 4)), {"actor": SAM, "new_due": date(2026, 12, 4),
                                                                   "words": "Bill can wait until the 4th"})],
        "reassigned": [(SAM, declined, {"actor": DANA, "new_owner": LEE, "words": "Lee has the AP portal login"})],
        "declined": [(SAM, declined, {"actor": DANA, "reason": long_reason, "new_owner": LEE}),
                     (SAM, h.changed(owner=None), {"actor": DANA, "reason": "not ours", "back_to_requester": True})],
        "cancelled": [(DANA, cancelled, {"actor": SAM, "reason": long_reason})],
        "reopened": [(DANA, h.changed(status="acknowledged"), {"actor": SAM, "reason": "Bill needs a copy too"})],
        "thanks": [(DANA, done, {"actor": SAM, "words": "You saved the quarter. Bill says thanks too! " + URL})],
        "note": [(DANA, h, {"actor": SAM, "words": WORDS + "\n\nAlso:\n- one\n- two"}), (LEE, h, {"actor": SAM})],
        "changes": [(SAM, h.changed(status="acknowledged"), {"actor": DANA, "parts": [
                        Notice("unblocked", SAM, h.id), Notice("acknowledged", SAM, h.id, context={
                            "words": "the signed form came this morning " + URL, "new_due": date(2026, 11, 27)})]}),
                    (DANA, h, {"actor": SAM, "also_told": [LEE], "parts": [
                        Notice("reopened", DANA, h.id, context={"reason": ""}),
                        Notice("due_changed", DANA, h.id, context={"new_due": date(2026, 12, 4),
                                                                   "old_due": h.due, "words": WORDS})]})],
        "undeliverable": [(SAM, h, {"failed_to": DANA, "failed_kind": "new_handoff", "how": "bounced",
                                    "never_got": True,
                                    "reason": "550 5.1.1 <dana@acme.test>: Recipient address rejected: User unknown "
                                              "in virtual mailbox table " + URL}),
                          (SAM, h.changed(status="acknowledged"), {
                              "failed_to": DANA, "failed_kind": "overdue", "how": "gave_up", "never_got": False,
                              "failed_subject": "[#42] Overdue: Order form and W-9",
                              "reason": "gave up after 16 temporary failures; the last: RCPT: 452 4.2.2 "
                                        "Mailbox full"})],
        "ack_reminder": [(DANA, h, {"asked_at": NOW - timedelta(days=1), "by": SAM})],
        "due_soon": [(DANA, h.changed(status="acknowledged"), {})],
        "overdue": [(DANA, h.changed(status="acknowledged", due=date(2026, 11, 18)),
                     {"days_late": 3, "n": 2, "last": True})],
        "overdue_notice": [(SAM, h.changed(status="acknowledged"), {"days_late": 1})],
        "escalation": [(MARIA, blocked.changed(due=date(2026, 11, 17)),
                        {"days_late": 4, "escalated_as": "manager", "history": history})],
        "daily_digest": [(DANA, None, {"sections": _digest_sections(h)})],
        "weekly_digest": [(DANA, None, {"sections": _digest_sections(h)})],
        "team_digest": [(DANA, None, {"team": "accounting", "week": _week(h), "figures": [
            Figure("Opened", "9", "5"), Figure("Median time to done", "30.2 h", "-"),
            Figure("On time", "86%", "75%")]})],
        "appreciation": [(SAM, None, {"items": [done, done.changed(id=44, title="Credit memo " + URL)]})],
    }


def samples() -> list[Sample]:
    """Every kind, for every person the table above sends it to, as the bytes nudger would send."""
    renderer = Renderer(CONFIG, b"k" * 32)
    h = handoff()
    table = _contexts(h)
    assert set(table) == set(KINDS), f"kinds without a sample: {sorted(set(KINDS) - set(table))}"
    out = []
    for kind, cases in table.items():
        seen: dict[str, int] = {}
        for to, about, context in cases:
            role = about.role_of(to) if about else "someone"
            n = seen[role] = seen.get(role, 0) + 1
            label = f"{kind}-{role}" + (f"-{n}" if n > 1 else "")
            notice = Notice(kind, to, about.id if about else None, context=dict(context), key=label)
            raw = renderer.render(notice, about, label, NOW, in_reply_to="m@mail.acme.test",
                                  about="FW: Order form").raw
            msg = email.message_from_bytes(raw, policy=default_policy)
            assert isinstance(msg, EmailMessage)
            out.append(Sample(label, kind, msg, raw))
    return out
