"""The IMAP benchmark, small: both passes read the same messages in the same order, nudger's
moves every one to Processed (correctness only: the bench measures time,
tests never do)."""

from __future__ import annotations

from email import message_from_bytes

from conftest import load_bench

bench = load_bench("imap")


def test_the_messages_are_realistic_and_distinct():
    messages = bench.build_messages(20)
    ids = [message_from_bytes(raw)["Message-ID"] for raw in messages]
    assert len(set(ids)) == 20
    assert sum(b"w9.pdf" in raw for raw in messages) == 2  # one in ten carries an attachment
    assert sum(b"Forwarded message" in raw for raw in messages) == 16


def test_both_passes_read_the_same_messages_in_either_order_and_nudger_moves_them(dovecot):
    figures = bench.measure(dovecot, 30, batch=7, rounds=2)
    assert figures.same and figures.messages == 30 and figures.rounds == 2
    assert figures.raw_s > 0 and figures.nudger_s > 0 and figures.megabytes > 0
