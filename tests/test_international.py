"""RFC 6532 mail: raw UTF-8 (and Latin-1 from older mailers) in addresses, names and
Message-IDs is stored decoded, never quarantined for a UnicodeEncodeError."""

from __future__ import annotations

import json

import pytest
from conftest import ORG_TOML, Workspace
from fuzzmail import RunPath

from nudger.inbound.identity import dedupe_key
from nudger.mail.message import parse_message


def forward(sender: bytes, message_id: bytes, subject: bytes = b"Fwd: W-9") -> bytes:
    return (b"From: " + sender + b"\r\nTo: handoffs@acme.test\r\nSubject: " + subject + b"\r\nMessage-ID: "
            + message_id + b"\r\nDate: Mon, 23 Nov 2026 09:00:00 -0600\r\nContent-Type: text/plain; charset=utf-8"
            b"\r\n\r\n@dana please send the W-9\r\n")


@pytest.mark.parametrize("sender, name, address", [
    ("Jörg Müller <jörg@acme.test>".encode(), "Jörg Müller", "jörg@acme.test"),
    ("Jörg Müller <jörg@acme.test>".encode("latin-1"), "Jörg Müller", "jörg@acme.test"),
    ("Зоя <зоя@acme.test>".encode(), "Зоя", "зоя@acme.test"),
])
def test_raw_8bit_addresses_are_read_as_their_characters(sender: bytes, name: str, address: str) -> None:
    mail = parse_message(forward(sender, "<jörg.1@acme.test>".encode()))
    assert mail.from_addr is not None and (mail.from_addr.name, mail.from_addr.email) == (name, address)
    assert mail.message_id == "jörg.1@acme.test"


def test_raw_8bit_message_ids_key_the_same_message_the_same_way() -> None:
    utf8 = forward(b"sam@acme.test", "<jörg.1@acme.test>".encode())
    assert dedupe_key(utf8) == "mid:jörg.1@acme.test" == dedupe_key(utf8 + b"\r\n")
    assert dedupe_key(forward(b"sam@acme.test", "<jörg.1@acme.test>".encode("latin-1"))) == "mid:jörg.1@acme.test"


@pytest.mark.parametrize("encoding", ["utf-8", "latin-1"])
def test_an_international_sender_gets_a_handoff_not_a_quarantine(tmp_path, encoding: str) -> None:
    ws = Workspace(tmp_path, ORG_TOML)
    ws.deliver(forward("Jörg Müller <joerg@acme.test>".encode(encoding),
                       f"<jörg.{encoding}@acme.test>".encode(encoding), "Fwd: Angebot für Müller".encode(encoding)))
    ws.run("2026-11-23T09:05")
    assert json.loads(ws.cli("quarantine", "--json").output) == []
    [item] = ws.items()
    assert item["title"] == "Angebot für Müller" and item["owner"] == "dana@acme.test"
    assert item["requester"] == "joerg@acme.test"
    assert len(ws.sent_to("joerg@acme.test", "receipt")) == 1


def test_a_mailbox_of_8bit_headers_quarantines_nothing_for_an_internal_error(tmp_path) -> None:
    path = RunPath(tmp_path, ORG_TOML)
    names = ["Jörg", "Zoë", "Ærøskøbing", "Łukasz", "Ντίνα", "李雷", "\ufffd"]
    for i, who in enumerate(names):
        for encoding in ("utf-8", "latin-1", "cp1252"):
            raw = forward(f"{who} <{who.lower()}@acme.test>".encode(encoding, "replace"),
                          f"<{who}.{i}.{encoding}@acme.test>".encode(encoding, "replace"))
            verdict = path.feed(raw)
            assert not verdict.internal and not verdict.escaped, verdict
    (count,) = path.store.db.execute("select count(*) from quarantine").fetchone()
    assert count == 0
