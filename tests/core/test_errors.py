"""Messages for users: every part of a problem is printable, whatever the data put into it."""

from __future__ import annotations

import pytest

from metrics_lib.core.errors import ContractError, Problem, WorkbookError, printable


@pytest.mark.parametrize(
    "text, shown",
    [
        ("rev\x1b[2Jenue\x07", "rev\\x1b[2Jenue\\x07"),  # clear screen, bell
        ("a\x00b\x08c\x7fd", "a\\x00b\\x08c\\x7fd"),  # NUL, backspace, DEL
        ("tab\there\nnew\rline", "tab\\there\\nnew\\rline"),
        ("\x9b31m", "\\x9b31m"),  # a C1 control sequence introducer
        ("abc\u202edcba", "abc\\u202edcba"),  # right-to-left override: would reorder the line
        ("zero\u200bwidth\ufeff", "zero\\u200bwidth\\ufeff"),
        ("Nørth é 日本 €12 'quoted'", "Nørth é 日本 €12 'quoted'"),  # printable text is left alone
    ],
)
def test_printable_escapes_what_a_terminal_would_act_on(text, shown):
    assert printable(text) == shown


def test_printable_keeps_the_line_breaks_it_is_told_to():
    assert printable("one\ntwo\x1b", keep="\n") == "one\ntwo\\x1b"


def test_every_part_of_a_problem_is_escaped():
    p = Problem(
        "orders",
        "rule \x07",
        "fix \x1b[0m",
        file="/x/\x1b]0;title\x07.csv",
        column="rev\x1benue",
        count=1,
        examples=(("line 2", "'a\x1bb'"),),
    )
    text = p.describe()
    assert "\x1b" not in text and "\x07" not in text
    assert text == (
        "/x/\\x1b]0;title\\x07.csv: table `orders`, column `rev\\x1benue`: rule \\x07 (1 row)\n"
        "    line 2: 'a\\x1bb'\n  fix: fix \\x1b[0m"
    )


def test_error_messages_are_escaped_but_keep_their_lines():
    err = ContractError([Problem("orders", "bad \x1b[2J", "fix it"), Problem("customers", "also", "fix")])
    assert str(err).count("\n") == 4 and "\x1b" not in str(err) and "bad \\x1b[2J" in str(err)
    with pytest.raises(WorkbookError, match=r"^mapping\.yml: column `a\\x07`$"):
        raise WorkbookError("mapping.yml: column `a\x07`")
