"""Calendar periods: parsing, bounds, stepping and the latest complete period."""

from __future__ import annotations

from datetime import date

import pandas as pd
import pytest

from metrics_lib.core.periods import (
    Period,
    PeriodError,
    latest_complete,
    latest_within,
    parse_period,
    period_containing,
    period_range,
)


@pytest.mark.parametrize(
    "label, kind, start, end, days",
    [
        ("2025-03", "month", date(2025, 3, 1), date(2025, 3, 31), 31),
        ("2024-02", "month", date(2024, 2, 1), date(2024, 2, 29), 29),
        ("2025-02", "month", date(2025, 2, 1), date(2025, 2, 28), 28),
        ("2025-12", "month", date(2025, 12, 1), date(2025, 12, 31), 31),
        ("2025-Q1", "quarter", date(2025, 1, 1), date(2025, 3, 31), 90),
        ("2024-Q1", "quarter", date(2024, 1, 1), date(2024, 3, 31), 91),
        ("2025-Q4", "quarter", date(2025, 10, 1), date(2025, 12, 31), 92),
        ("2025", "year", date(2025, 1, 1), date(2025, 12, 31), 365),
        ("2024", "year", date(2024, 1, 1), date(2024, 12, 31), 366),
    ],
)
def test_start_end_days(label, kind, start, end, days):
    p = parse_period(label)
    assert (p.kind, p.start, p.end, p.days, p.label, str(p)) == (kind, start, end, days, label, label)


@pytest.mark.parametrize(
    "label, previous",
    [
        ("2025-03", "2025-02"),
        ("2025-01", "2024-12"),
        ("2025-Q3", "2025-Q2"),
        ("2025-Q1", "2024-Q4"),
        ("2025", "2024"),
    ],
)
def test_previous(label, previous):
    assert parse_period(label).previous() == parse_period(previous)


def test_shift_crosses_years_both_ways():
    assert parse_period("2025-11").shift(3).label == "2026-02"
    assert parse_period("2025-Q2").shift(-6).label == "2023-Q4"
    assert parse_period("2025").shift(0) == parse_period("2025")


def test_lower_case_q_and_surrounding_spaces_are_accepted():
    assert parse_period(" 2025-q2 ") == parse_period("2025-Q2")
    p = parse_period("2025-Q2")
    assert parse_period(p) is p


@pytest.mark.parametrize(
    "d, inside",
    [
        ("2025-03-31", False),
        ("2025-04-01", True),
        ("2025-06-30 23:59", True),
        (pd.Timestamp("2025-07-01"), False),
        (date(2025, 5, 15), True),
    ],
)
def test_contains_is_start_inclusive_end_exclusive(d, inside):
    assert parse_period("2025-Q2").contains(d) is inside


def test_periods_order_by_start():
    assert parse_period("2024-Q4") < parse_period("2025-Q1") < parse_period("2025-Q2")


def test_period_range():
    assert [p.label for p in period_range("2024-11", "2025-02")] == [
        "2024-11",
        "2024-12",
        "2025-01",
        "2025-02",
    ]
    assert [p.label for p in period_range("2024-Q4", "2025-Q1")] == ["2024-Q4", "2025-Q1"]
    assert period_range("2025", "2025") == [parse_period("2025")]


def test_period_range_errors():
    with pytest.raises(
        PeriodError, match=r"'2025-Q1' and '2025-03' are of different kinds \(quarter, month\)"
    ):
        period_range("2025-Q1", "2025-03")
    with pytest.raises(PeriodError, match=r"period range '2025-03' to '2025-01' runs backwards"):
        period_range("2025-03", "2025-01")


@pytest.mark.parametrize(
    "d, kind, label",
    [
        ("2025-05-17", "month", "2025-05"),
        ("2025-05-17", "quarter", "2025-Q2"),
        ("2025-12-31", "quarter", "2025-Q4"),
        ("2025-05-17", "year", "2025"),
    ],
)
def test_period_containing(d, kind, label):
    assert period_containing(d, kind).label == label


def test_period_containing_unknown_kind():
    with pytest.raises(PeriodError, match=r"period kind 'week' is not one of month, quarter, year"):
        period_containing("2025-05-17", "week")


@pytest.mark.parametrize(
    "last, kind, label",
    [
        ("2025-03-31", "quarter", "2025-Q1"),  # the last day completes the quarter
        ("2025-03-30", "quarter", "2024-Q4"),
        ("2025-05-17", "quarter", "2025-Q1"),
        ("2025-01-15", "month", "2024-12"),
        ("2024-02-29", "month", "2024-02"),
        ("2025-02-28", "month", "2025-02"),
        ("2025-12-30", "year", "2024"),
        ("2025-12-31", "year", "2025"),
    ],
)
def test_latest_complete(last, kind, label):
    assert latest_complete(last, kind).label == label
    assert latest_complete(pd.Timestamp(last), kind).label == label


@pytest.mark.parametrize(
    "first, last, kind, label",
    [
        ("2022-01-02", "2025-12-31", "quarter", "2025-Q4"),  # whole quarters: the latest
        ("2025-01-10", "2025-03-12", "quarter", "2025-Q1"),  # none whole: the one holding the last date
        ("2025-01-01", "2025-03-30", "quarter", "2025-Q1"),  # 2024-Q4 ends before the first date
        ("2025-02-15", "2025-05-20", "quarter", "2025-Q2"),
        ("2025-01-01", "2025-03-31", "quarter", "2025-Q1"),  # exactly one quarter
        ("2025-03-05", "2025-03-20", "month", "2025-03"),
        ("2024-06-01", "2025-12-30", "year", "2025"),  # 2024 starts before the first date
    ],
)
def test_latest_within(first, last, kind, label):
    assert latest_within(first, last, kind).label == label


@pytest.mark.parametrize(
    "text, message",
    [
        ("2025-13", r"period '2025-13': month 13 does not exist; use a month YYYY-MM"),
        ("2025-00", r"period '2025-00': month 00 does not exist"),
        ("2025-Q5", r"period '2025-Q5': quarter Q5 does not exist \(Q1-Q4\)"),
        ("2025-Q0", r"period '2025-Q0': quarter Q0 does not exist \(Q1-Q4\)"),
        (
            "../x",
            r"period '\.\./x' is not a month YYYY-MM \(2025-03\), a quarter YYYY-Qn \(2025-Q1\) or a year YYYY",
        ),
        ("", r"period '' is not a month YYYY-MM"),
        ("2025-3", r"period '2025-3' is not a month YYYY-MM"),
        ("Q1-2025", r"period 'Q1-2025' is not a month"),
        (None, r"period '' is not a month"),
        ("9" * 50, r"period '9{40}\.\.\.' is not a month"),
    ],
)
def test_parse_errors_say_what_is_accepted(text, message):
    with pytest.raises(PeriodError, match=message):
        parse_period(text)


@pytest.mark.parametrize("text", ["9999", "0000-01", "0000", "1677-Q4", "2262-01", "9999-Q4"])
def test_a_year_outside_the_calendar_is_a_period_error_not_a_crash(text):
    # 9999 has no next year to end on (date(10000, 1, 1)), year 0 does not exist; the tool's
    # calendar is the years pandas can hold, the same that bound the dates in the data
    with pytest.raises(
        PeriodError,
        match=rf"period '{text}': year {text[:4]} is outside the years this "
        r"tool handles \(1678 to 2261\); use a month YYYY-MM",
    ):
        parse_period(text)


def test_the_first_and_last_years_of_the_calendar_are_periods():
    assert parse_period("1678-01").start == date(1678, 1, 1)
    assert parse_period("2261").end == date(2261, 12, 31)
    assert parse_period("2261-Q4").next_start == date(2262, 1, 1)


def test_period_error_is_a_value_error():
    with pytest.raises(ValueError, match="does not exist"):
        parse_period("2025-13")


def test_period_is_frozen():
    p = parse_period("2025-Q1")
    assert isinstance(p, Period)
    with pytest.raises(AttributeError, match="cannot assign to field 'year'"):
        p.year = 2026  # type: ignore[misc]
