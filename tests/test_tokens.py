"""Reply tokens: bound to handoff and recipient, constant-time, case-insensitive, rotatable."""

from nudger.core.tokens import (
    bounce_address,
    digest_address,
    make_token,
    read_tag,
    reply_address,
    token_matches,
)

KEY, OLD = b"k" * 32, b"o" * 32


def test_reply_address_shape_and_binding() -> None:
    addr = reply_address(KEY, "handoffs", "acme.test", 42, "Dana@Acme.test")
    local = addr.split("@")[0]
    assert len(local) <= 64
    tag = read_tag(addr.upper(), "handoffs", "acme.test")
    assert tag and tag.kind == "handoff" and tag.handoff_id == 42
    assert token_matches((KEY,), "42", "dana@acme.test", tag.token or "")
    assert not token_matches((KEY,), "42", "lee@acme.test", tag.token or "")
    assert not token_matches((KEY,), "43", "dana@acme.test", tag.token or "")
    assert len(make_token(KEY, "42", "x@y")) == 16


def test_previous_secret_still_accepted() -> None:
    token = make_token(OLD, "7", "sam@acme.test")
    assert token_matches((KEY, OLD), "7", "sam@acme.test", token)
    assert not token_matches((KEY,), "7", "sam@acme.test", token)


def test_other_tags() -> None:
    assert read_tag(digest_address(KEY, "handoffs", "acme.test", "s@a"), "handoffs", "acme.test").kind == "digest"
    bounce = read_tag(bounce_address("handoffs", "acme.test", 9), "handoffs", "acme.test")
    assert bounce.kind == "bounce" and bounce.value == "9"
    plus = read_tag("handoffs+accounting@acme.test", "handoffs", "acme.test")
    assert plus.kind == "tag" and plus.value == "accounting"
    assert read_tag("handoffs@acme.test", "handoffs", "acme.test") is None
    assert read_tag("handoffs+1.abc@other.test", "handoffs", "acme.test") is None
