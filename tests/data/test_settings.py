"""Typed settings: every value of source.yml and mapping.yml is checked when the file is read.

A wrong value stops with one message naming the file, the setting, the value, what is allowed and
an example line, before any data is read; values written the ways YAML allows (a date quoted or
not, a period as a number) are accepted.
"""

from __future__ import annotations

from datetime import date

import pytest

from metrics_lib.core.errors import WorkbookError
from metrics_lib.data import ColumnMapping, SourceConfig, open_source


def _write(path, text: str):
    path.write_text(text, encoding="utf-8")
    return path


def test_a_full_source_yml_is_read_into_its_types(tmp_path):
    cfg = SourceConfig.read(
        _write(
            tmp_path / "source.yml",
            (
                "name: Acme\ndescription: 2025 export\nstrategy_change_date: 2024-07-01\ndefault_period: 2025\n"
                "inactivity_days: '90'\ncsat_scale: [1, 10]\nces_scale: [0, 6]\ngenerator: {seed: 7}\n"
                "strategy_change_label: ' new pricing '\n"
            ),
        )
    )
    assert (cfg.name, cfg.description, cfg.strategy_change_date, cfg.default_period, cfg.inactivity_days) == (
        "Acme",
        "2025 export",
        date(2024, 7, 1),
        "2025",
        90,
    )
    assert (cfg.options.csat_scale, cfg.options.ces_scale) == ((1, 10), (0, 6))
    assert cfg.strategy_change_label == "new pricing"  # trimmed; absent: "" (the change is unnamed)
    assert SourceConfig.read(_write(tmp_path / "bare.yml", "name: x\n")).strategy_change_label == ""
    assert cfg.extra == {"generator": {"seed": 7}}  # other keys are kept for the tools that wrote them
    assert cfg.close_window_days == 90  # the default
    assert (
        SourceConfig.read(_write(tmp_path / "window.yml", "close_window_days: '60'\n")).close_window_days
        == 60
    )


def test_a_quoted_date_and_a_quarter_are_accepted(tmp_path):
    cfg = SourceConfig.read(
        _write(tmp_path / "source.yml", "strategy_change_date: '2024-07-01'\ndefault_period: 2025-q4\n")
    )
    assert cfg.strategy_change_date == date(2024, 7, 1) and cfg.default_period == "2025-Q4"


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "inactivity_days: six months",
            r"setting `inactivity_days` is 'six months', which is not allowed: it must "
            r"be a whole number of days from 1 to 3650; for example `inactivity_days: 180`",
        ),
        ("inactivity_days: 0", r"setting `inactivity_days` is 0, which is not allowed"),
        ("inactivity_days: 7.5", r"setting `inactivity_days` is 7\.5, which is not allowed"),
        ("inactivity_days: true", r"setting `inactivity_days` is true, which is not allowed"),
        # a value shown as YAML writes it, not as Python does (True, None, ['a'])
        ("close_window_days: true", r"setting `close_window_days` is true, which is not allowed"),
        ("close_window_days: [30, 60]", r"setting `close_window_days` is \[30, 60\], which is not allowed"),
        (
            "close_window_days: {days: 60}",
            r"setting `close_window_days` is \{days: 60\}, which is not allowed",
        ),
        (
            "close_window_days: a quarter",
            r"setting `close_window_days` is 'a quarter', which is not allowed: it must be a whole "
            r"number of days from 1 to 3650; for example `close_window_days: 90`",
        ),
        ("close_window_days: 0", r"setting `close_window_days` is 0, which is not allowed"),
        ("close_window_days: -30", r"setting `close_window_days` is -30, which is not allowed"),
        (
            "close_windows_days: 60",
            r"unknown setting `close_windows_days`; did you mean `close_window_days`\?",
        ),
        (
            "strategy_change_date: next tuesday",
            r"setting `strategy_change_date` is 'next tuesday', which is not "
            r"allowed: it must be a date written YYYY-MM-DD, in the years 1678 to "
            r"2261; for example `strategy_change_date: 2024-07-01`",
        ),
        ("strategy_change_date: 2024-13-01", r"setting `strategy_change_date` is '2024-13-01'"),
        (
            "strategy_change_date: !!timestamp 2024-13-01",
            r"a value cannot be read \(month must be in 1\.\.12\)",
        ),
        (
            "strategy_change_date: 0001-01-01",
            r"setting `strategy_change_date` is 0001-01-01, which is not allowed",
        ),
        (
            "default_period: 2025-13",
            r"setting `default_period` is '2025-13', which is not allowed: period '2025-13': "
            r"month 13 does not exist; .*for example `default_period: 2025-Q1`",
        ),
        (
            "default_period: 9999",
            r"setting `default_period` is '9999', which is not allowed: period '9999': year "
            r"9999 is outside the years this tool handles",
        ),
        (
            "csat_scale: [5, 1]",
            r"setting `csat_scale` is \[5, 1\], which is not allowed: it must be the lowest and "
            r"the highest score, two whole numbers from 0 to 100, lowest first; for example "
            r"`csat_scale: \[1, 5\]`",
        ),
        ("csat_scale: [1, 1]", r"setting `csat_scale` is \[1, 1\]"),
        ("ces_scale: 7", r"setting `ces_scale` is 7, which is not allowed.*`ces_scale: \[1, 7\]`"),
        ("ces_scale: [1, 7, 9]", r"setting `ces_scale` is \[1, 7, 9\]"),
        ("ces_scale: [1, seven]", r"setting `ces_scale` is \[1, seven\]"),
        (
            "name: [a, b]",
            r"setting `name` is \[a, b\], which is not allowed: it must be a single piece of text",
        ),
        (
            "strategy_change_label: [new, pricing]",
            r"setting `strategy_change_label` is \[new, pricing\], which is not allowed: it must be a "
            r"single piece of text; for example `strategy_change_label: new pricing`",
        ),
        (
            'strategy_change_label: "new\\npricing"',
            r'setting `strategy_change_label` is "new\\npricing", which is not allowed: it must be a short '
            r"name on one line: 1 to 80 printable characters; for example `strategy_change_label: new pricing`",
        ),
        ("strategy_change_label: ' '", r"setting `strategy_change_label` is '', which is not allowed"),
        (
            "inactivty_days: 90",
            r"unknown setting `inactivty_days`; did you mean `inactivity_days`\? The settings "
            r"are: name, description",
        ),
    ],
)
def test_a_wrong_setting_names_file_setting_value_rule_and_example(tmp_path, text, message):
    path = _write(tmp_path / "source.yml", text + "\n")
    with pytest.raises(WorkbookError, match=rf"^{tmp_path}/source\.yml: {message}"):
        SourceConfig.read(path)


def test_a_reversed_scale_is_one_message_before_any_row_is_read(make_source):
    folder = make_source()
    _write(folder / "source.yml", "csat_scale: [5, 1]\n")
    with pytest.raises(WorkbookError, match=r"setting `csat_scale` is \[5, 1\]") as info:
        open_source(folder)
    assert "row" not in str(info.value)


def test_a_mapping_is_read_into_its_types(tmp_path):
    m = ColumnMapping.read(
        _write(
            tmp_path / "m.yml",
            (
                "tables:\n  orders:\n    source: export.csv\n    date_format: '%d/%m/%Y %H:%M'\n"
                "    columns:\n      Order Number: order_id\n      2024: revenue\n  customers:\n"
            ),
        )
    )
    orders = m.for_table("orders")
    assert (orders.source, orders.date_format) == ("export.csv", "%d/%m/%Y %H:%M")
    assert orders.columns == {"Order Number": "order_id", "2024": "revenue"}
    assert m.for_table("customers").columns == {}


@pytest.mark.parametrize(
    "entry, message",
    [
        (
            'date_format: "%Q"',
            r"setting `tables: orders: date_format` is '%Q', which is not allowed: %Q is not a "
            r"date code; it must be a strftime pattern with a year \(%Y or %y\), a month",
        ),
        ('date_format: "%d/%m"', r"setting `tables: orders: date_format` is '%d/%m', which is not allowed"),
        (
            'date_format: "%Y-%m-%"',
            r"setting `tables: orders: date_format` is '%Y-%m-%', which is not allowed: a lone % at the end is not a date "
            r"code",
        ),
        ("date_format: 20250101", r"setting `tables: orders: date_format` is 20250101, which is not allowed"),
        (
            "columns: [a, b]",
            r"setting `tables: orders: columns` is \[a, b\], which is not allowed: it must map "
            r"each of your column names to the contract's, one `Their Name: our_name` per line \(a "
            r"mapping, not a list\); for example `columns: \{Their Name: order_id\}`",
        ),
        (
            "columns: {Amount: }",
            r"setting `tables: orders: columns` is \{Amount: null\}, which is not allowed: "
            r"each line must name one of your columns and one contract column",
        ),
        (
            "columns: {Amount: [revenue]}",
            r"setting `tables: orders: columns` is \{Amount: \[revenue\]\}, which is not "
            r"allowed",
        ),
        (
            "source: [a.csv, b.csv]",
            r"setting `tables: orders: source` is \[a\.csv, b\.csv\], which is not "
            r"allowed: it must be a single piece of text; for example `source: orders_export\.csv`",
        ),
        (
            "colums: {Amount: revenue}",
            r"`tables: orders: colums` is not a setting \(did you mean `columns`\?\); a "
            r"table's settings are source, columns, date_format",
        ),
    ],
)
def test_a_wrong_mapping_value_names_the_setting(tmp_path, entry, message):
    path = _write(tmp_path / "m.yml", f"tables:\n  orders:\n    {entry}\n")
    with pytest.raises(WorkbookError, match=rf"^{tmp_path}/m\.yml: {message}"):
        ColumnMapping.read(path)


def test_a_table_entry_that_is_not_a_mapping(tmp_path):
    path = _write(tmp_path / "m.yml", "tables:\n  orders:\n    - orders.csv\n")
    with pytest.raises(
        WorkbookError,
        match=r"m\.yml: `tables: orders` holds \[orders\.csv\], but it must be a "
        r"mapping of settings to values",
    ):
        ColumnMapping.read(path)


@pytest.mark.parametrize(
    "text, message",
    [
        (
            "name: Acme: export\n",
            r"not valid YAML at line 1, column 11 \(mapping values are not allowed here\); put a value "
            r"holding `: ` in quotes \('a: b'\)",
        ),
        (
            "csat_scale:\n\t- 1\n",
            r"not valid YAML at line 2, column 1 \(found character '\\t' .*\); indent with spaces",
        ),
        (
            "name: x\ncsat_scale: [1, 5\n",
            r"not valid YAML at line 2, column 13 \(the bracket `\[` opened there is never closed\); close "
            r"the list with `\]` on that line",
        ),
        (
            "name: 'Acme\n",
            r"not valid YAML at line 1, column 7 \(the quote opened there is never closed\); end the text "
            r"with the same quote it starts with",
        ),
        (
            "name: @acme\n",
            r"not valid YAML at line 1, column 7 .*; put a value that starts with @, `, \* or & in quotes",
        ),
    ],
)
def test_a_file_that_is_not_yaml_gets_one_line_with_line_column_and_fix(tmp_path, text, message):
    path = _write(tmp_path / "source.yml", text)
    with pytest.raises(WorkbookError, match=rf"^{tmp_path}/source\.yml: {message}") as info:
        SourceConfig.read(path)
    assert "\n" not in str(info.value) and "<unicode string>" not in str(info.value)
