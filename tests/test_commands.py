"""The reply grammar: commands, aliases, lines, notes, did-you-mean, JSON."""

from datetime import date

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nudger.core.business_time import BusinessCalendar
from nudger.core.commands import COMMAND_NAMES, NOT_TYPOS, Command, Suggestion, parse_commands

MONDAY = date(2026, 11, 23)
FRIDAY = date(2026, 11, 27)


@pytest.fixture(scope="module")
def cal() -> BusinessCalendar:
    return BusinessCalendar.build("America/Chicago")


def parse(text: str, cal: BusinessCalendar, order: str = "MDY"):
    return parse_commands(text, MONDAY, cal, order)


def one(text: str, cal: BusinessCalendar) -> Command:
    result = parse(text, cal)
    assert isinstance(result, list) and len(result) == 1, result
    return result[0]


def test_command_names_follow_design():
    assert COMMAND_NAMES == (
        "ack", "done", "due", "snooze", "blocked", "unblock", "reassign", "decline", "cancel",
        "reopen", "thanks", "note", "status", "help", "daily", "weekly", "no_digest",
    )  # fmt: skip


# -- every command and alias ---------------------------------------------------------------


@pytest.mark.parametrize(
    "text, name",
    [
        ("ack", "ack"),
        ("on it", "ack"),
        ("yes", "ack"),
        ("will do", "ack"),
        ("acked", "ack"),
        ("acknowledged", "ack"),
        ("done", "done"),
        ("finished", "done"),
        ("completed", "done"),
        ("all done", "done"),
        ("due friday", "due"),
        ("snooze 3d", "snooze"),
        ("blocked waiting on legal", "blocked"),
        ("unblock", "unblock"),
        ("unblocked", "unblock"),
        ("reassign @lee", "reassign"),
        ("decline not my area", "decline"),
        ("declined", "decline"),
        ("cancel", "cancel"),
        ("cancelled", "cancel"),
        ("canceled", "cancel"),
        ("reopen", "reopen"),
        ("re-open", "reopen"),
        ("reopened", "reopen"),
        ("thanks", "thanks"),
        ("thank you", "thanks"),
        ("thankyou", "thanks"),
        ("thank u", "thanks"),
        ("thx", "thanks"),
        ("thanx", "thanks"),
        ("many thanks", "thanks"),
        ("ty", "thanks"),
        ("tysm!", "thanks"),
        ("note the customer called", "note"),
        ("status", "status"),
        ("help", "help"),
        ("daily", "daily"),
        ("weekly", "weekly"),
        ("no digest", "no_digest"),
        ("no digests", "no_digest"),
        ("no_digest", "no_digest"),
        ("nodigest", "no_digest"),
        ("no-digest", "no_digest"),
    ],
)
def test_each_command_and_alias(cal, text, name):
    assert one(text, cal).name == name
    assert one(text.upper(), cal).name == name


@pytest.mark.parametrize(
    "text, name, args",
    [
        ("Done.", "done", ""),
        ("ACK!", "ack", ""),
        ("thanks!!", "thanks", ""),
        ("On it!", "ack", ""),
        ("thank you so much", "thanks", "so much"),
        ("Thanks, Dana - you saved the deal!", "thanks", "Dana - you saved the deal!"),
        ("**Done**", "done", ""),
        ("- ack", "ack", ""),
        ("done :)", "done", ""),
        ("Blocked: waiting on legal", "blocked", "waiting on legal"),
        ("blocked \u2014 waiting on legal.", "blocked", "waiting on legal."),
        ("note: the customer called", "note", "the customer called"),
        ("Daily digest please", "daily", "digest please"),
        ("status?", "status", ""),
        ("Help!", "help", ""),
        ("  done  ", "done", ""),
        ("\n\n  done\n", "done", ""),
    ],
)
def test_punctuation_is_ignored(cal, text, name, args):
    cmd = one(text, cal)
    assert (cmd.name, cmd.args) == (name, args)


@pytest.mark.parametrize(
    "text",
    [
        "yesterday I sent it",
        "Donald called about this",
        "done-ish, still need the PO",
        "noted",
        "Due to the delay, I need more time",
        "Daily standup moved to 10",
        "Weekly numbers attached",
        "Help me understand what they need",
        "Status update: shipped",
        "Done?",
        "Done?? The customer is waiting",
        "Cancel? Really?",
        "Ty, can you check the PO?",
        "ok",
        "okay",
        "Got it",
        "yep",
        "nope",
        "no, that's not mine",
        "Thanksgiving plans?",
        "Notes from the call: ...",
        "@dana done",
    ],
)
def test_not_commands_become_notes(cal, text):
    assert parse(text, cal) == [Command("note", text)]


# -- lines and notes ----------------------------------------------------------------------


def test_text_after_commands_is_the_note_of_the_last(cal):
    assert parse("done\nshipped via FedEx today", cal) == [
        Command("done", "shipped via FedEx today")
    ]


def test_several_command_lines(cal):
    result = parse("ack\ndue friday\nwill confirm with legal", cal)
    assert result == [
        Command("ack", ""),
        Command("due", "friday\nwill confirm with legal", due=FRIDAY),
    ]


def test_line_args_and_note_are_joined(cal):
    result = parse("done - tracking 1Z999\nshipped via FedEx\n\nlet me know", cal)
    assert result == [Command("done", "tracking 1Z999\nshipped via FedEx\n\nlet me know")]


def test_a_blank_line_ends_the_commands(cal):
    assert parse("done\n\nThanks for your patience", cal) == [
        Command("done", "Thanks for your patience")
    ]
    assert parse("ack\n\ndue friday", cal) == [Command("ack", "due friday", due=FRIDAY)]


def test_thanks_is_a_sign_off_after_the_first_line(cal):
    assert parse("done\nThanks,\nDana", cal) == [Command("done", "Thanks,\nDana")]
    assert parse("thanks\nack", cal) == [Command("thanks", ""), Command("ack", "")]


def test_first_line_not_a_command_makes_the_whole_text_a_note(cal):
    text = "I looked at it.\ndone"
    assert parse(text, cal) == [Command("note", text)]


def test_empty_text(cal):
    assert parse("", cal) == []
    assert parse("  \n\t\n", cal) == []


def test_raw_keeps_what_was_written(cal):
    cmd = one("Thanks so much, Dana!\nYou saved the deal", cal)
    assert cmd.raw == "Thanks so much, Dana!\nYou saved the deal"
    assert cmd == Command("thanks", "so much, Dana!\nYou saved the deal")


# -- dates and arguments --------------------------------------------------------------------


@pytest.mark.parametrize(
    "text, due",
    [
        ("due friday", FRIDAY),
        ("due: 12/4", date(2026, 12, 4)),
        ("due Dec 4", date(2026, 12, 4)),
        ("due next tuesday", date(2026, 12, 1)),
        ("due in 3 days", date(2026, 11, 26)),
        ("due eow", FRIDAY),
        ("due 2026-12-04", date(2026, 12, 4)),
        ("due friday - customer moved the meeting", FRIDAY),
        ("Due by Friday works for me", FRIDAY),
    ],
)
def test_due_reads_a_date(cal, text, due):
    cmd = one(text, cal)
    assert (cmd.name, cmd.due, cmd.error) == ("due", due, None)


def test_due_dmy(cal):
    assert one("due 4/12", cal).due == date(2027, 4, 12)
    assert parse("due 4/12", cal, "DMY") == [Command("due", "4/12", due=date(2026, 12, 4))]


def test_due_without_a_date_is_an_error_not_a_note(cal):
    cmd = one("due soon", cal)
    assert (cmd.name, cmd.args, cmd.due) == ("due", "soon", None)
    assert cmd.error and "date" in cmd.error
    assert one("due", cal).error


def test_due_reads_only_its_own_line(cal):
    # the date lives on the command line; a date in the note does not change it
    cmd = one("due\ncustomer said friday", cal)
    assert cmd.due is None and cmd.error


@pytest.mark.parametrize(
    "text, due",
    [
        ("ack", None),
        ("ack friday", FRIDAY),
        ("ack by 12/4", date(2026, 12, 4)),
        ("On it, by Friday", FRIDAY),
        ("Yes, by 12/4", date(2026, 12, 4)),
        ("will do it tomorrow", date(2026, 11, 24)),
        ("ack - I'll have it to you by Friday", FRIDAY),
        ("ack\nI'll have it by Friday", FRIDAY),
        ("ack, checking with legal first", None),
        ("ack - customer called Monday", None),  # a mention is not a commitment
    ],
)
def test_ack_with_a_date(cal, text, due):
    cmd = one(text, cal)
    assert (cmd.name, cmd.due) == ("ack", due)


@pytest.mark.parametrize("arg", ["3d", "3 days", "3", "1w", "1 week", "2 weeks", "for 2 days"])
def test_snooze_valid(cal, arg):
    cmd = one(f"snooze {arg}", cal)
    assert (cmd.name, cmd.args, cmd.due, cmd.error) == ("snooze", arg, None, None)


def test_snooze_with_a_note_is_valid(cal):
    cmd = one("snooze 3d\ncustomer is away", cal)
    assert (cmd.args, cmd.error) == ("3d\ncustomer is away", None)


@pytest.mark.parametrize("text", ["snooze", "snooze forever", "snooze friday", "snooze 0"])
def test_snooze_invalid_has_an_error(cal, text):
    cmd = one(text, cal)
    assert cmd.name == "snooze" and cmd.due is None
    assert cmd.error and "3d" in cmd.error


@pytest.mark.parametrize(
    "text, target",
    [
        ("reassign @lee", "@lee"),
        ("reassign to @lee please, I'm out", "@lee"),
        ("reassign lee@acme.test", "lee@acme.test"),
        ("reassign to lee", "lee"),
        ("reassign @accounting", "@accounting"),
        ("reassign", None),
        ("reassign to the finance folks", None),
    ],
)
def test_reassign_target(cal, text, target):
    cmd = one(text, cal)
    assert cmd.name == "reassign"
    assert cmd.target == target
    assert (cmd.error is None) == (target is not None)


def test_reassign_args(cal):
    assert one("reassign @x", cal) == Command("reassign", "@x")


# -- did you mean ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "word, suggestion, command",
    [
        ("dne", "done", "done"),
        ("dnoe", "done", "done"),
        ("ackk", "ack", "ack"),
        ("tanks", "thanks", "thanks"),
        ("thank", "thanks", "thanks"),
        ("hepl", "help", "help"),
        ("finshed", "finished", "done"),
        ("complete", "completed", "done"),
        ("snoze", "snooze", "snooze"),
        ("blokced", "blocked", "blocked"),
        ("cancle", "cancel", "cancel"),
        ("reasign", "reassign", "reassign"),
        ("stauts", "status", "status"),
        ("weelky", "weekly", "weekly"),
        ("onit", "on it", "ack"),
        ("Dne.", "done", "done"),
    ],
)
def test_did_you_mean(cal, word, suggestion, command):
    result = parse(word, cal)
    assert result == Suggestion(word.strip("."), suggestion, command)
    assert result.as_json() == {
        "word": word.strip("."), "suggestion": suggestion, "command": command
    }


@pytest.mark.parametrize(
    "word",
    [
        "ok", "okay", "not", "none", "gone", "one", "nope", "yep", "noted", "the", "back",
        "sure", "deadline", "statue", "states", "hello", "digest", "weekday", "undone",
        "sue", "resign", "declare", "decide", "channel", "x", "dn", "@dana", "12/4",
    ],
)
def test_no_suggestion_for_real_words(cal, word):
    assert parse(word, cal) == [Command("note", word)]


def test_no_suggestion_for_more_than_one_word(cal):
    assert parse("dne yet", cal) == [Command("note", "dne yet")]
    assert parse("dne\nsorry", cal) == [Command("note", "dne\nsorry")]


def test_a_command_is_never_suggested_for_itself(cal):
    for name in ("done", "ack", "help", "status", "thanks"):
        assert isinstance(parse(name, cal), list)


def test_not_typos_are_lowercase_words():
    assert all(w.isalpha() and w == w.lower() for w in NOT_TYPOS)


# -- JSON ------------------------------------------------------------------------------------


def test_json_shape(cal):
    assert [c.as_json() for c in parse("ack\ndue friday", cal)] == [
        {"name": "ack", "args": ""},
        {"name": "due", "args": "friday", "due": "2026-11-27"},
    ]
    assert one("no digest", cal).as_json() == {"name": "no_digest", "args": ""}
    assert one("snooze 1w", cal).as_json() == {"name": "snooze", "args": "1w"}


def test_error_and_raw_do_not_affect_equality(cal):
    assert one("due soon", cal) == Command("due", "soon")


@settings(derandomize=True, deadline=None, max_examples=200)
@given(
    st.lists(
        st.one_of(
            st.sampled_from(
                ["ack", "done", "due", "friday", "thanks", "snooze", "3d", "\n", "\n\n", "?",
                 "!", "reassign", "@lee", "no digest", "help", "by", "12/4", "dne", "on it"]
            ),
            st.text(max_size=10),
        ),
        max_size=30,
    ).map(" ".join)
)
def test_parse_commands_never_raises(text):
    result = parse_commands(text, MONDAY, BusinessCalendar.build("UTC"))
    assert isinstance(result, (list, Suggestion))
    if isinstance(result, list):
        assert all(c.name in COMMAND_NAMES for c in result)
        assert all(c.args == c.args.strip() for c in result)


def test_interleaved_reply_skips_the_quoted_context_line() -> None:
    from zoneinfo import ZoneInfo

    cal = BusinessCalendar(ZoneInfo("America/Chicago"))
    today = date(2026, 11, 23)
    got = parse_commands("> Can you do it by Friday?\nack, will do\n", today, cal)
    assert [c.name for c in got] == ["ack"]
    only_quote = parse_commands("> Can you do it by Friday?\n", today, cal)
    assert only_quote == []
    assert isinstance(parse_commands("> Can you?\ndne", today, cal), Suggestion)
