"""Both real servers at once: mail read from a private Dovecot over IMAP, sent through aiosmtpd
over SMTP, a reply and a bounce coming back through the IMAP inbox."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from conftest import Workspace, make_forward, make_reply
from smtp_server import PASSWORD, SmtpServer
from test_bounces import bounce
from test_smtp import smtp_toml

CHICAGO = ZoneInfo("America/Chicago")


def test_imap_in_smtp_out_a_reply_closes_it_and_a_bounce_reaches_the_requester(
        tmp_path: Path, dovecot, smtp: SmtpServer) -> None:  # noqa: ANN001
    mailbox = dovecot.mailbox()
    toml = smtp_toml(smtp.port).replace('[inbound]\nsource = "maildir"\npath = "mail/inbox"\n', mailbox.toml())
    ws = Workspace(tmp_path, toml)
    ws.env.update(NUDGER_IMAP_PASSWORD=mailbox.password, NUDGER_SMTP_PASSWORD=PASSWORD)

    mailbox.append(make_forward(), when=datetime(2026, 11, 23, 9, 0, tzinfo=CHICAGO))
    mailbox.append(make_forward(note="@lee and the bank letter too, due 12/4"),
                   when=datetime(2026, 11, 23, 9, 1, tzinfo=CHICAGO))
    ws.run("2026-11-23T09:05")
    assert mailbox.uids("INBOX") == []
    dana = next(a for a in smtp.sink.to("dana@acme.test") if a.kind == "new_handoff")
    lee = next(a for a in smtp.sink.to("lee@acme.test") if a.kind == "new_handoff")

    mailbox.append(make_reply(dana, "done\nsent the W-9", sender="dana@acme.test"),  # type: ignore[arg-type]
                   when=datetime(2026, 11, 23, 10, 0, tzinfo=CHICAGO))
    n = int(lee.mail_from.split("+bounce.")[1].split("@")[0])
    mailbox.append(bounce("exim", n, "lee@acme.test", lee.message_id),
                   when=datetime(2026, 11, 23, 10, 1, tzinfo=CHICAGO))
    ws.run("2026-11-23T10:05")
    assert [i["status"] for i in ws.items()] == ["done", "open"]
    to_sam = [a.kind for a in smtp.sink.to("sam@acme.test")]
    assert to_sam.count("done") == 1 and to_sam.count("undeliverable") == 1
    assert not [r for r in smtp.sink.rcpts if "daemon" in r.lower()]  # the bounce is never answered
    assert mailbox.uids("INBOX") == []
    # Nothing twice on the next run.
    before = len(smtp.sink.accepted)
    ws.run("2026-11-23T10:30")
    assert len(smtp.sink.accepted) == before
