"""A forged Authentication-Results header authorises nothing: only the ones the receiving
server prepended count, in the trace block at the very top (RFC 8601 §5), and there the
topmost verdict of each method is the server's."""

from __future__ import annotations

import pytest
from conftest import ORG_TOML, Workspace, make_reply

from nudger.config import load_config
from nudger.core.classify import passed_authentication
from nudger.mail.message import parse_message

PASS = "Authentication-Results: mx.acme.test; dkim=pass header.d=acme.test; dmarc=pass header.from=acme.test"
FAIL = "Authentication-Results: mx.acme.test; dkim=fail header.d=acme.test; dmarc=fail header.from=acme.test"
OURS = "Received: from mail.acme.test (mail.acme.test [10.0.0.5]) by mx.acme.test with ESMTPS id 1; Mon, 23 Nov"
THEIRS = "Received: from laptop by smtp.evil.example with ESMTP id 2; Mon, 23 Nov 2026"
MESSAGE = "From: Dana <dana@acme.test>\r\nTo: handoffs@acme.test\r\nSubject: Re: [#1] W-9\r\n"


def verdict(*lines: str, tmp_path) -> str | None:
    (tmp_path / "nudger.toml").write_text(ORG_TOML)
    config = load_config(tmp_path / "nudger.toml", {})
    raw = "\r\n".join(lines).encode() + b"\r\n\r\ndone\r\n"
    return passed_authentication(parse_message(raw), config)


@pytest.mark.parametrize("lines, counts", [
    # the trusted server's own header, at the top: counts
    ((PASS, OURS, MESSAGE), True),
    (("Return-Path: <dana@acme.test>", "Delivered-To: handoffs@acme.test", OURS, PASS,
      "ARC-Seal: i=1; a=rsa-sha256; cv=none", "X-Spam-Status: No", MESSAGE), True),
    # a pass the sender wrote below the trusted server's own fail: the server's fail decides
    ((FAIL, OURS, PASS, MESSAGE), False),
    ((OURS, FAIL, PASS, MESSAGE), False),
    # one sitting among the message's own headers
    ((OURS, "From: Dana <dana@acme.test>", PASS, "To: handoffs@acme.test", "Subject: Re: [#1] W-9"), False),
    ((OURS, MESSAGE, PASS), False),
    # one written above a Received that no trusted server added (it was there before ours saw it)
    ((OURS, THEIRS, PASS, MESSAGE), False),
    ((THEIRS, PASS, MESSAGE), False),
    # an untrusted authserv-id, or a pass for another domain
    (("Authentication-Results: mx.evil.example; dkim=pass header.d=acme.test", OURS, MESSAGE), False),
    (("Authentication-Results: mx.acme.test; dkim=pass header.d=evil.example", OURS, MESSAGE), False),
    # two headers from our server's two filters (DKIM, then DMARC): each method decided once
    (("Authentication-Results: mx.acme.test; dmarc=pass header.from=acme.test",
      "Authentication-Results: mx.acme.test; dkim=fail header.d=acme.test", OURS, MESSAGE), True),
])
def test_only_the_receiving_servers_own_results_count(lines, counts: bool, tmp_path) -> None:
    assert (verdict(*lines, tmp_path=tmp_path) is not None) == counts


def test_a_forged_pass_below_the_servers_fail_applies_no_tokenless_done(ws: Workspace) -> None:
    from test_loop import start

    start(ws)
    [notice] = ws.sent_to("dana@acme.test", "new_handoff")
    reply = make_reply(notice, "done", sender="dana@acme.test", to="handoffs@acme.test")
    ws.deliver(f"{FAIL}\r\n{OURS}\r\n{PASS}\r\n".encode() + reply)
    ws.run("2026-11-23T10:00")
    assert ws.items()[0]["status"] == "open"
    assert [s.kind for s in ws.sent_to("dana@acme.test")] == ["new_handoff", "refusal"]
