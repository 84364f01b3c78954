"""A sender counts as in allowed_domains only with a plain, valid addr-spec: a second "@",
a quoted local part or a source route (% or !) never does, so nothing is created for or
sent to such an address."""

from __future__ import annotations

import pytest
from conftest import Workspace, make_forward

from nudger.core.reading import plain_address


@pytest.mark.parametrize("address, plain", [
    ("sam@acme.test", True), ("sam.seller+crm@acme.test", True), ("o'brien@acme.test", True),
    ("jörg@acme.test", True), ("sam@mail.acme.test", True),
    ("@acme.test", False), ("eve@evil.example@acme.test", False), ("eve%evil.example@acme.test", False),
    ("evil.example!eve@acme.test", False), ('"eve@evil"@acme.test', False), ("sam@acme.test.", False),
    ("sam@acme", False), ("sam..x@acme.test", False), (".sam@acme.test", False), ("sam@-acme.test", False),
    ("sam @acme.test", False), ("sam@acme..test", False), ("x" * 65 + "@acme.test", False), ("", False),
])
def test_plain_addr_spec(address: str, plain: bool) -> None:
    assert plain_address(address) is plain


@pytest.mark.parametrize("sender", [
    "eve@evil.example@acme.test", "Eve <eve@evil.example@acme.test>", "eve%evil.example@acme.test",
    "evil.example!eve@acme.test", '"eve@evil.example"@acme.test', "Eve <@acme.test>",
])
def test_an_address_that_is_not_what_it_seems_gets_no_handoff_and_no_mail(ws: Workspace, sender: str) -> None:
    ws.deliver(make_forward(sender=sender))
    ws.run("2026-11-23T09:05")
    assert ws.items() == [] and ws.sent() == []
