"""The reply grammar's handoff numbers: `done #12`, `ack #14 friday`, `#12 done`, several lines."""

from datetime import date

import pytest

from nudger.core.business_time import BusinessCalendar
from nudger.core.commands import Command, parse_commands

MONDAY = date(2026, 11, 23)
FRIDAY = date(2026, 11, 27)


@pytest.fixture(scope="module")
def cal() -> BusinessCalendar:
    return BusinessCalendar.build("America/Chicago")


def parse(text: str, cal: BusinessCalendar) -> list[Command]:
    result = parse_commands(text, MONDAY, cal)
    assert isinstance(result, list), result
    return result


def shape(cmds: list[Command]) -> list[tuple]:
    return [(c.name, c.ref, c.args, c.due) for c in cmds]


@pytest.mark.parametrize(
    "text, expected",
    [
        ("done #12", ("done", 12, "", None)),
        ("ack #14 friday", ("ack", 14, "friday", FRIDAY)),
        ("On it #14, by Friday", ("ack", 14, "by Friday", FRIDAY)),
        ("ack #14 I'll have it by Friday", ("ack", 14, "I'll have it by Friday", FRIDAY)),
        ("thanks #9 great work", ("thanks", 9, "great work", None)),
        ("due #3 12/4", ("due", 3, "12/4", date(2026, 12, 4))),
        ("due: #3 friday - they moved", ("due", 3, "friday - they moved", FRIDAY)),
        ("note #5 called them", ("note", 5, "called them", None)),
        ("blocked #7 waiting on legal", ("blocked", 7, "waiting on legal", None)),
        ("snooze #7 3d", ("snooze", 7, "3d", None)),
        ("reassign #7 @lee", ("reassign", 7, "@lee", None)),
        ("Done: #12.", ("done", 12, "", None)),
        ("**Done** #12", ("done", 12, "", None)),
        ("done #12 and sent it", ("done", 12, "and sent it", None)),
        ("status #3", ("status", 3, "", None)),
        ("ty #9", ("thanks", 9, "", None)),
        ("help #3", ("help", 3, "", None)),
        # the number before the command word
        ("#12 done", ("done", 12, "", None)),
        ("#12: done", ("done", 12, "", None)),
        ("- #14 ack friday", ("ack", 14, "friday", FRIDAY)),
    ],
)
def test_a_number_names_the_handoff_and_is_not_an_argument(text, expected, cal):
    assert shape(parse(text, cal)) == [expected]


def test_several_numbers_on_one_line_are_one_command_each(cal):
    for text in ("done #12 #14", "done #12, #14", "done #12 and #14", "done #12 & #14", "#12, #14: done"):
        assert shape(parse(text, cal)) == [("done", 12, "", None), ("done", 14, "", None)], text
    assert shape(parse("done #12 #12", cal)) == [("done", 12, "", None)]
    assert shape(parse("done #12, #14\nshipped both today", cal)) == [
        ("done", 12, "shipped both today", None), ("done", 14, "shipped both today", None)]


@pytest.mark.parametrize(
    "text",
    [
        "done, see #12",  # not right after the command word
        "done for #12",
        "done #12abc",
        "done 12",  # a number without "#" is not a handoff ("ack 12/4" is a date)
    ],
)
def test_a_number_elsewhere_is_just_text(text, cal):
    [cmd] = parse(text, cal)
    assert cmd.ref is None and cmd.name == "done"


@pytest.mark.parametrize("text", ["#12 done #14", "done #12?", "#12 is done", "#12", "#12 due to the delay"])
def test_ambiguous_or_prose_lines_are_notes(text, cal):
    assert parse(text, cal) == [Command("note", text)]


def test_raw_is_the_line_as_written_without_the_number(cal):
    assert [c.raw for c in parse("thanks #9 great work", cal)] == ["thanks great work"]
    assert [c.raw for c in parse("Thanks #9, you saved the deal!", cal)] == ["Thanks, you saved the deal!"]
    assert [c.raw for c in parse("Thanks #9!", cal)] == ["Thanks!"]
    assert [(c.raw, c.args) for c in parse("thanks (#9) great work", cal)] == [("thanks great work", "great work")]
    assert [c.raw for c in parse("#9 thanks, great work", cal)] == ["thanks, great work"]
    [cmd] = parse("thanks #9 great work\nthe customer signed", cal)
    assert (cmd.args, cmd.raw) == ("great work\nthe customer signed", "thanks great work\nthe customer signed")


def test_several_lines_each_with_its_own_note(cal):
    text = "done #1\nshipped via FedEx\n\nthanks #2 great work\n\nack #3 friday\nneed the PO first\n\nThanks,\nDana"
    assert shape(parse(text, cal)) == [
        ("done", 1, "shipped via FedEx", None),
        ("thanks", 2, "great work", None),
        ("ack", 3, "friday\nneed the PO first\n\nThanks,\nDana", FRIDAY),
    ]


def test_consecutive_lines_mix_numbers_and_digest_choices(cal):
    assert shape(parse("weekly\ndone #1\nack #2 friday", cal)) == [
        ("weekly", None, "", None), ("done", 1, "", None), ("ack", 2, "friday", FRIDAY)]
    # Only a digest choice, status or help above: a numbered line below a blank still counts.
    assert shape(parse("no digest\n\ndone #1", cal)) == [("no_digest", None, "", None), ("done", 1, "", None)]


def test_without_numbers_the_lines_and_notes_rules_are_unchanged(cal):
    # A numbered line below a note of a command without a number stays part of that note.
    assert shape(parse("done\n\nthanks #2", cal)) == [("done", None, "thanks #2", None)]
    assert shape(parse("done\nThanks,\nDana", cal)) == [("done", None, "Thanks,\nDana", None)]
    # "thanks" with no number under another command is still a sign-off.
    assert shape(parse("done #1\nThanks,\nDana", cal)) == [("done", 1, "Thanks,\nDana", None)]
    # ...but with a number it is a command on any line.
    assert shape(parse("done #1\nthanks #2", cal)) == [("done", 1, "", None), ("thanks", 2, "", None)]


def test_json_has_ref_only_when_named(cal):
    [cmd] = parse("ack #14 friday", cal)
    assert cmd.as_json() == {"name": "ack", "args": "friday", "due": "2026-11-27", "ref": 14}
    [cmd] = parse("ack friday", cal)
    assert cmd.as_json() == {"name": "ack", "args": "friday", "due": "2026-11-27"}
    assert Command("done", "").as_json() == {"name": "done", "args": ""}


def test_ref_takes_part_in_equality(cal):
    assert Command("done", "", ref=1) != Command("done", "", ref=2)
    assert Command("done", "") == Command("done", "", ref=None)
    assert parse("done #1", cal) == [Command("done", "", ref=1)]
