"""Shared helpers: a tiny valid data source written from Python dicts, and figure clean-up.

``valid_tables()`` is the whole source as ``{table: [row dict, ...]}``; row ``i`` of a table is
line ``i + 2`` of its CSV file (line 1 is the header). ``make_source`` writes such tables into a
fresh folder under ``tmp_path``, optionally after changing a few cells, so a test breaks exactly
one rule and states it in one line.
"""

from __future__ import annotations

import copy
import csv
import itertools
import os
import sys
from pathlib import Path

import pytest
from hypothesis import settings

os.environ.setdefault("MPLBACKEND", "Agg")

# Property tests assert numbers, never speed (speed is measured in bench/): on a busy shared
# machine hypothesis' default 200 ms deadline per example fails tests that are correct.
settings.register_profile("no-deadline", deadline=None)
settings.load_profile("no-deadline")

_VALID: dict[str, list[dict[str, str]]] = {
    "customers": [
        {
            "customer_id": "C1",
            "signup_date": "2025-01-05",
            "acquisition_channel": "web",
            "segment": "smb",
            "region": "north",
            "referred_by": "",
        },
        {
            "customer_id": "C2",
            "signup_date": "2025-01-20",
            "acquisition_channel": "referral",
            "segment": "smb",
            "region": "south",
            "referred_by": "C1",
        },
        {
            "customer_id": "C3",
            "signup_date": "2025-02-11",
            "acquisition_channel": "ads",
            "segment": "enterprise",
            "region": "north",
            "referred_by": "",
        },
        {
            "customer_id": "C4",
            "signup_date": "2025-03-02",
            "acquisition_channel": "web",
            "segment": "mid",
            "region": "east",
            "referred_by": "",
        },
    ],
    "orders": [
        {
            "order_id": "O1",
            "customer_id": "C1",
            "order_date": "2025-01-06",
            "revenue": "120.00",
            "cost": "40.00",
            "order_type": "new",
        },
        {
            "order_id": "O2",
            "customer_id": "C1",
            "order_date": "2025-02-10",
            "revenue": "80.50",
            "cost": "30.00",
            "order_type": "repeat",
        },
        {
            "order_id": "O3",
            "customer_id": "C2",
            "order_date": "2025-01-21",
            "revenue": "200",
            "cost": "",
            "order_type": "new",
        },
        {
            "order_id": "O4",
            "customer_id": "C3",
            "order_date": "2025-03-15",
            "revenue": "950.25",
            "cost": "300",
            "order_type": "upsell",
        },
    ],
    "surveys": [
        {
            "response_id": "S1",
            "customer_id": "C1",
            "response_date": "2025-02-01",
            "survey": "nps",
            "score": "9",
            "touchpoint": "onboarding",
            "comment": "quick setup",
        },
        {
            "response_id": "S2",
            "customer_id": "C2",
            "response_date": "2025-02-03",
            "survey": "nps",
            "score": "6",
            "touchpoint": "onboarding",
            "comment": "",
        },
        {
            "response_id": "S3",
            "customer_id": "C3",
            "response_date": "2025-03-20",
            "survey": "csat",
            "score": "4",
            "touchpoint": "support",
            "comment": "",
        },
        {
            "response_id": "S4",
            "customer_id": "C1",
            "response_date": "2025-03-22",
            "survey": "ces",
            "score": "2",
            "touchpoint": "support",
            "comment": "easy",
        },
    ],
    "deals": [
        {
            "deal_id": "D1",
            "customer_id": "C1",
            "owner": "ana",
            "team": "east",
            "source": "inbound",
            "created_date": "2024-12-10",
            "closed_date": "2025-01-05",
            "outcome": "won",
            "amount": "120",
            "deal_type": "new_business",
        },
        {
            "deal_id": "D2",
            "customer_id": "",
            "owner": "ben",
            "team": "west",
            "source": "outbound",
            "created_date": "2025-01-15",
            "closed_date": "2025-02-01",
            "outcome": "lost",
            "amount": "500",
            "deal_type": "new_business",
        },
        {
            "deal_id": "D3",
            "customer_id": "C3",
            "owner": "ana",
            "team": "east",
            "source": "inbound",
            "created_date": "2025-03-01",
            "closed_date": "",
            "outcome": "open",
            "amount": "",
            "deal_type": "upsell",
        },
    ],
    "tickets": [
        {
            "ticket_id": "T1",
            "customer_id": "C1",
            "opened_at": "2025-02-02 09:00:00",
            "first_response_at": "2025-02-02 09:30:00",
            "resolved_at": "2025-02-02 12:00:00",
            "contacts_to_resolve": "1",
            "channel": "email",
        },
        {
            "ticket_id": "T2",
            "customer_id": "C2",
            "opened_at": "2025-02-05 14:00:00",
            "first_response_at": "2025-02-06 08:00:00",
            "resolved_at": "2025-02-07 10:00:00",
            "contacts_to_resolve": "3",
            "channel": "phone",
        },
        {
            "ticket_id": "T3",
            "customer_id": "C3",
            "opened_at": "2025-03-10 11:15:00",
            "first_response_at": "",
            "resolved_at": "",
            "contacts_to_resolve": "",
            "channel": "chat",
        },
    ],
    "subscriptions": [
        {
            "subscription_id": "SUB1",
            "customer_id": "C1",
            "plan": "basic",
            "start_date": "2025-01-05",
            "end_date": "2026-01-04",
            "cancelled_date": "",
            "mrr": "10",
            "renewed_from": "",
        },
        {
            "subscription_id": "SUB2",
            "customer_id": "C3",
            "plan": "pro",
            "start_date": "2025-02-11",
            "end_date": "2026-02-10",
            "cancelled_date": "2025-03-01",
            "mrr": "99.5",
            "renewed_from": "",
        },
    ],
    "campaigns": [
        {
            "campaign_id": "K1",
            "name": "spring mail",
            "channel": "email",
            "start_date": "2025-03-01",
            "end_date": "2025-03-31",
            "cost": "300",
        },
    ],
    "campaign_members": [
        {
            "campaign_id": "K1",
            "customer_id": "C1",
            "group": "treatment",
            "converted": "true",
            "revenue": "80",
        },
        {"campaign_id": "K1", "customer_id": "C2", "group": "treatment", "converted": "false", "revenue": ""},
        {"campaign_id": "K1", "customer_id": "C3", "group": "control", "converted": "false", "revenue": ""},
    ],
}


def valid_tables() -> dict[str, list[dict[str, str]]]:
    """A fresh copy of the tiny valid source: ``{table: [row, ...]}``, every value as CSV text."""
    return copy.deepcopy(_VALID)


def write_csv(path: Path, rows: list[dict[str, str]], columns: list[str] | None = None) -> Path:
    """Write rows as a UTF-8 CSV file with ``\\n`` line ends; ``columns`` defaults to the first row's."""
    columns = columns if columns is not None else list(rows[0])
    with open(path, "w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        writer.writeheader()
        writer.writerows(rows)
    return path


def write_source(folder: Path, tables: dict[str, list[dict[str, str]]]) -> Path:
    """Write each table as ``<table>.csv`` into ``folder`` (created) and return the folder."""
    folder.mkdir(parents=True, exist_ok=True)
    for table, rows in tables.items():
        write_csv(folder / f"{table}.csv", rows)
    return folder


@pytest.fixture
def make_source(tmp_path):
    """Write the valid source into a new folder, after optional changes, and return the folder.

    ``make_source(set={("orders", 1, "revenue"): "-5"})`` changes one cell (row 1 is CSV line 3);
    ``drop=("tickets",)`` leaves tables out; ``tables=`` replaces the whole content.
    """
    counter = itertools.count()

    def make(tables=None, *, set=None, drop=()):
        tables = valid_tables() if tables is None else tables
        for (table, row, column), value in (set or {}).items():
            tables[table][row][column] = value
        for table in drop:
            del tables[table]
        return write_source(tmp_path / f"source{next(counter)}", tables)

    return make


def partial_tables() -> dict[str, list[dict[str, str]]]:
    """Customers and orders whose dates run from 2024-02-10 to 2025-12-09 (a year whose data ends
    on 9 December after a year that starts on 10 February): 2025-Q2 holds orders of 100 and 300,
    2025-Q3 of 150, 250 and 50 (tests/metrics/test_coverage.py)."""
    customers = [("C1", "2024-02-10"), ("C2", "2024-05-15"), ("C3", "2025-07-15"), ("C4", "2025-09-30")]
    orders = [
        ("O1", "C1", "2024-02-10", "100"),  # the data's first date
        ("O2", "C2", "2024-05-15", "200"),
        ("O3", "C1", "2025-04-10", "100"),
        ("O4", "C2", "2025-05-20", "300"),
        ("O5", "C3", "2025-07-15", "150"),
        ("O6", "C1", "2025-08-01", "250"),
        ("O7", "C4", "2025-09-30", "50"),
        ("O8", "C3", "2025-12-09", "400"),  # the data's last date
    ]
    return {
        "customers": [
            {
                "customer_id": c,
                "signup_date": d,
                "acquisition_channel": "web",
                "segment": "smb",
                "region": "north",
                "referred_by": "",
            }
            for c, d in customers
        ],
        "orders": [
            {
                "order_id": o,
                "customer_id": c,
                "order_date": d,
                "revenue": r,
                "cost": "10",
                "order_type": "new",
            }
            for o, c, d, r in orders
        ],
    }


@pytest.fixture(scope="module")
def partial_source(tmp_path_factory):
    """A folder of :func:`partial_tables` (shared by a module's tests: do not change it)."""
    return write_source(tmp_path_factory.mktemp("partial") / "data", partial_tables())


@pytest.fixture(autouse=True)
def _close_figures():
    """Close every matplotlib figure a test left open.

    matplotlib is imported only if the test imported pyplot; ``MPLBACKEND`` (set above) keeps it
    on the non-interactive Agg backend.
    """
    yield
    if "matplotlib.pyplot" in sys.modules:
        import matplotlib.pyplot as plt

        plt.close("all")


@pytest.fixture(scope="module")
def chromium():
    """Headless Debian Chromium for the browser checks; skipped only when absent outside CI."""
    from browser import CHROMIUM, Chromium

    if not CHROMIUM.exists():
        reason = f"{CHROMIUM} not found; install Debian's `chromium` package to run the browser check"
        if os.environ.get("CI"):
            pytest.fail(f"{reason} (CI is set, so the check may not be skipped)")
        pytest.skip(reason)
    with Chromium() as browser:
        yield browser


@pytest.fixture(autouse=True)
def _check_cache(tmp_path_factory, monkeypatch):
    """Each test remembers clean checks in its own cache folder, never the user's."""
    monkeypatch.setenv("METRICS_LIB_CACHE_DIR", str(tmp_path_factory.mktemp("check-cache")))


@pytest.fixture
def cli_run(capsys):
    """Run ``python -m metrics_lib ARGS`` in-process: ``(exit code, stdout + stderr)``, after checking
    that no traceback and no "unexpected" crash reached the user."""
    from metrics_lib import cli

    def run(*argv) -> tuple[int, str]:
        capsys.readouterr()
        code = cli.main([str(a) for a in argv])
        out, err = capsys.readouterr()
        text = out + err
        assert "Traceback" not in text and "unexpected" not in text, text
        return code, text

    return run
