"""The close rate counts the wins within `close_window_days` of a lead's creation, so a past
period's close rate does not grow as newer data arrives; a period whose leads have not all had
the window by the deals' last date is flagged.

Hand-worked deals (close window 90 days):

====  ==========  ==========  =======  ================================
deal  created     closed      outcome  in 2025-Q1's close rate
====  ==========  ==========  =======  ================================
D1    2025-01-10  2025-02-01  won      won after 22 days: a win
D2    2025-01-15  2025-04-15  won      after 90 days: a win (inclusive)
D3    2025-02-01  2025-05-02  won      after 90 days: a win
D4    2025-02-10  2025-05-12  won      after 91 days: a lead, not a win
D5    2025-03-01  2025-03-20  lost     a lead
D6    2025-03-31              open     a lead
D7    2024-12-31  2025-01-05  won      created in 2024: not Q1's
D8    2025-07-01              open     the deals' last date
D9    2024-10-01  2024-10-20  lost     the deals' first date
====  ==========  ==========  =======  ================================

Close rate of 2025-Q1 = 3 wins / 6 leads = 0.5 (counting every win, as before: 4 / 6). Its last
lead (31 March) has had 90 days by 29 June, and the data runs to 1 July: the rate is final.
"""

from __future__ import annotations

import tempfile
from datetime import date, timedelta
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics_lib.data import open_source
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics import aggregate_pipeline
from metrics_lib.metrics.scorecard import headline_metrics

DEALS = [
    ("D1", "2025-01-10", "2025-02-01", "won"),
    ("D2", "2025-01-15", "2025-04-15", "won"),
    ("D3", "2025-02-01", "2025-05-02", "won"),
    ("D4", "2025-02-10", "2025-05-12", "won"),
    ("D5", "2025-03-01", "2025-03-20", "lost"),
    ("D6", "2025-03-31", "", "open"),
    ("D7", "2024-12-31", "2025-01-05", "won"),
    ("D8", "2025-07-01", "", "open"),
    ("D9", "2024-10-01", "2024-10-20", "lost"),
]
COLUMNS = [
    "deal_id",
    "customer_id",
    "owner",
    "team",
    "source",
    "created_date",
    "closed_date",
    "outcome",
    "amount",
    "deal_type",
]


def _write(folder: Path, deals, source_yml: str = "") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    rows = [(d, "", "ana", "east", "inbound", c, cl, o, "100", "new_business") for d, c, cl, o in deals]
    pd.DataFrame(rows, columns=COLUMNS).to_csv(folder / "deals.csv", index=False)
    if source_yml:
        (folder / "source.yml").write_text(source_yml, encoding="utf-8")
    return folder


def _close_rate(folder: Path, period: str) -> dict:
    return headline_metrics(open_source(folder), period, ids=["close_rate"])


def test_wins_count_within_the_close_window_of_the_lead(tmp_path):
    out = _close_rate(_write(tmp_path / "deals", DEALS), "2025-Q1")
    rec = out["metrics"]["close_rate"]
    assert (rec["value"], rec["numerator"], rec["denominator"]) == (0.5, 3, 6)
    assert rec["comparison"] is None and not any("close_rate" in n for n in out["notes"])


def test_the_close_window_is_a_setting(tmp_path):
    folder = _write(tmp_path / "deals", DEALS, "close_window_days: 91\n")
    assert _close_rate(folder, "2025-Q1")["metrics"]["close_rate"]["numerator"] == 4  # D4 within 91 days
    summary = aggregate_pipeline.pipeline_summary(agg.Scope.of(open_source(folder), "2025-Q1"))
    assert (summary.close_window_days, summary.last_date, summary.period_end) == (
        91,
        date(2025, 7, 1),
        date(2025, 3, 31),
    )


def test_a_period_whose_window_is_still_open_is_flagged(tmp_path):
    # the data ends on 12 May (D4's close, D8 left out): leads created from 12 Feb on (12 May - 90
    # days + 1) have not had their 90 days, so the rate can still rise; it is not compared
    out = _close_rate(_write(tmp_path / "deals", DEALS[:7] + DEALS[8:]), "2025-Q1")
    rec = out["metrics"]["close_rate"]
    assert rec["value"] == 0.5  # the value so far, with the same definition
    note = (
        "the close rate of 2025-Q1 is incomplete: its leads created from 2025-02-12 on have not had the "
        "90-day close window (close_window_days in source.yml) by the deals' last date, 2025-05-12, so it "
        "can still rise as they close"
    )
    assert rec["comparison"] == f"not comparable: {note}"
    assert rec["change"] is None and rec["p_value"] is None and rec["significant"] is None
    assert f"close_rate: {note}" in out["notes"]
    # a month none of whose leads has had the window
    march = _close_rate(_write(tmp_path / "deals", DEALS[:7] + DEALS[8:]), "2025-03")["metrics"]["close_rate"]
    assert "none of its leads has had the 90-day close window" in march["comparison"]


START = date(2025, 1, 1)
deal = st.tuples(st.integers(0, 300), st.integers(0, 200), st.sampled_from(["won", "lost", "open"]))


def _snapshot(deals, as_of: date):
    """The deals as a CRM export of ``as_of`` shows them: created by then, closed only if closed
    by then (else still open), plus one lead created that day (the export's last date)."""
    out = []
    for i, (created, cycle, outcome) in enumerate(deals):
        c = START + timedelta(days=created)
        if c > as_of:
            continue
        closed = c + timedelta(days=cycle)
        done = outcome != "open" and closed <= as_of
        out.append((f"D{i}", str(c), str(closed) if done else "", outcome if done else "open"))
    out.append(("LAST", str(as_of), "", "open"))
    return out


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(deals=st.lists(deal, min_size=1, max_size=40), first=st.integers(90, 200), later=st.integers(1, 200))
def test_a_past_period_does_not_change_when_newer_data_arrives(deals, first, later):
    # January's leads have all had 90 days by 1 May (31 Jan + 90 days); the export of a day from
    # then on and a later export (more deals created, open deals won or lost since, wins after the
    # window) give January the same close rate
    as_of = date(2025, 1, 31) + timedelta(days=first)
    with tempfile.TemporaryDirectory() as tmp:
        early = _close_rate(_write(Path(tmp) / "early", _snapshot(deals, as_of)), "2025-01")
        late = _close_rate(
            _write(Path(tmp) / "late", _snapshot(deals, as_of + timedelta(days=later))), "2025-01"
        )
    a, b = early["metrics"]["close_rate"], late["metrics"]["close_rate"]
    assert (a["value"], a["numerator"], a["denominator"]) == (b["value"], b["numerator"], b["denominator"])
    assert not any(n.startswith("close_rate") for n in early["notes"] + late["notes"])


def test_a_win_after_the_window_never_counts(tmp_path):
    # the same deals exported in May and in December: a lead of January won in June (after 150
    # days) would have raised January's close rate from 1/3 to 2/3 by December; it is not a win
    deals = [(10, 150, "won"), (5, 10, "won"), (20, 30, "lost")]
    may = _close_rate(_write(tmp_path / "may", _snapshot(deals, date(2025, 5, 31))), "2025-01")
    december = _close_rate(_write(tmp_path / "dec", _snapshot(deals, date(2025, 12, 31))), "2025-01")
    for out in (may, december):
        rec = out["metrics"]["close_rate"]
        assert (rec["numerator"], rec["denominator"]) == (1, 3) and rec["value"] == pytest.approx(1 / 3)
