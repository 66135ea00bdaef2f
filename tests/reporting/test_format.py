"""Display text of numbers: one formatter per kind, exact strings."""

from __future__ import annotations

import math

from metrics_lib.reporting.format import (
    format_change,
    format_duration,
    format_significance,
    format_table,
    format_tick,
    format_value,
    short_number,
)


def test_values_in_their_units():
    assert format_value(0.1234, "share") == "12.3%"
    assert format_value(1234567.8, "currency") == "1,234,568"
    assert format_value(12.345, "score") == "12.35"
    assert format_value(None, "share") == "n/a" and format_value(math.nan, "count") == "n/a"


def test_the_text_table_variant_writes_a_dash_and_keeps_cents_per_day():
    assert format_value(None, "share", missing="-") == "-"
    # the workbook's tables round half to even
    assert format_value(1234.5, "currency per day") == "1,234 per day"
    assert format_value(1234.5, "currency per day", whole_units=("currency", "count")) == "1,234.50"
    assert format_value(45_000, "currency", short=True) == "45k"


def test_short_numbers_and_ticks():
    assert (short_number(2_500_000), short_number(45_000), short_number(9_876)) == ("2.5M", "45k", "9,876")
    assert format_tick(0.25, "share") == "25%"
    assert format_tick(1.5, "score") == "1.5" and format_tick(2.0, "score") == "2"


def test_changes_significance_and_durations():
    assert format_change(0.015, "share") == "+1.5 pp"
    assert format_change(0.015, "share", missing="-", points="pp") == "+1.5pp"
    assert format_change(None, "share") == "n/a" and format_change(math.nan, "count") == "n/a"
    assert format_significance(None, None) == "not tested"
    assert format_significance(0.01234, True) == "significant (p=0.012)"
    assert format_significance(0.5, False) == "within noise (p=0.500)"
    assert format_duration(None) == "" and format_duration(3.14159) == "3.1 s"


def test_a_change_is_written_by_the_rule_of_its_value():
    # the demo's 2025-Q4 revenue 18,417,880 moved by +4,127,849.46 and its orders by +1,685:
    # money and counts show no cents beside values that show none
    assert format_value(18_417_880.03, "currency") == "18,417,880"
    assert format_change(4_127_849.46, "currency") == "+4,127,849"
    assert format_change(1685.0, "count") == "+1,685" and format_change(-411.0, "count") == "-411"
    assert format_change(23_380.54, "currency per day") == "+23,381"
    # days and hours carry their unit; other units keep two decimals
    assert format_value(25.0, "days") == "25.0 days" and format_change(-2.0, "days") == "-2.0 days"
    assert format_change(0.07, "hours") == "+0.07 h" and format_change(0.7449840292, "score") == "+0.74"
    # the text table keeps the cents of amounts per day, in the change as in the value
    table_units = ("currency", "count")
    assert format_change(23_380.54, "currency per day", whole_units=table_units) == "+23,380.54"
    assert format_change(4_127_849.46, "currency", whole_units=table_units) == "+4,127,849"


def test_text_table_of_headline_metrics():
    result = {
        "period": "2025-Q1",
        "start": "2025-01-01",
        "end": "2025-03-31",
        "previous_period": "2024-Q4",
        "metrics": {
            "churn_rate": {
                "unit": "share",
                "value": 0.05,
                "ci_low": 0.04,
                "ci_high": 0.06,
                "previous": 0.06,
                "change": -0.01,
                "significant": False,
                "target": 0.05,
                "status": "on",
            },
            "ces": {
                "unit": "score",
                "value": None,
                "ci_low": None,
                "ci_high": None,
                "previous": None,
                "change": None,
                "significant": None,
                "target": None,
                "status": "skipped",
                "reason": "needs surveys",
            },
        },
    }
    lines = format_table(result).splitlines()
    assert lines[0] == "Period 2025-Q1 (2025-01-01 to 2025-03-31), previous 2024-Q4"
    assert lines[4].split() == ["churn_rate", "5.0%", "[4.0%,", "6.0%]", "6.0%", "-1.0pp", "no", "5.0%", "on"]
    assert lines[5].split() == ["ces", "-", "-", "-", "skipped"]
    assert lines[6].strip() == "(needs surveys)"
