"""Renewal cohorts worked by hand, the choice between the contractual and the non-contractual CLV
model, and fits that are saved and reused giving the same numbers as fitting.

The subscriptions of the hand-worked source (annual terms; ``->`` is a renewal):

========  =================================================================================
customer  subscriptions (start to term end; cancelled)
========  =================================================================================
C1        2022-01-10 -> 2023-01-10 -> 2024-01-10 -> 2025-01-10 (to 2026-01-10), MRR 10 now
C2        2022-01-20 to 2023-01-20, not renewed
C3        2022-01-05 -> 2023-01-05 (to 2024-01-05, cancelled 2023-06-01)
C4        2024-06-15 -> 2025-06-15 (to 2026-06-15), MRR 40 now
C5        2025-03-01 to 2026-03-01, MRR 50
C6        2024-06-01 to 2025-06-01, not renewed
========  =================================================================================

By 2025-12-31 the January 2022 cohort (C1, C2, C3) has reached three renewals (the last member's
third anniversary, 2025-01-31 at the latest, has passed): 3 at t=0, 2 at t=1 (C1, C3), 1 at t=2
and t=3 (C1). The June 2024 cohort (C4, C6) has reached one: 2, then 1 (C4). The March 2025
cohort (C5) has reached none and is left out.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from conftest import write_source

from metrics_lib.core.errors import WorkbookError
from metrics_lib.data import DEMO_DATA, open_source
from metrics_lib.metrics.aggregate import Scope
from metrics_lib.metrics.aggregate_subscriptions import renewal_cohorts
from metrics_lib.metrics.clv_contractual import clv_choice, contractual_clv
from metrics_lib.metrics.clv_views import clv_models
from metrics_lib.metrics.period_data import PeriodData
from metrics_lib.reporting.clv_report import fit_clv_models, write_clv_fits
from metrics_lib.reporting.workbook import Workbook

SUBS = [
    ("S1", "C1", "2022-01-10", "2023-01-10", "", 10, ""),
    ("S2", "C1", "2023-01-10", "2024-01-10", "", 10, "S1"),
    ("S3", "C1", "2024-01-10", "2025-01-10", "", 10, "S2"),
    ("S4", "C1", "2025-01-10", "2026-01-10", "", 10, "S3"),
    ("S5", "C2", "2022-01-20", "2023-01-20", "", 20, ""),
    ("S6", "C3", "2022-01-05", "2023-01-05", "", 30, ""),
    ("S7", "C3", "2023-01-05", "2024-01-05", "2023-06-01", 30, "S6"),
    ("S8", "C4", "2024-06-15", "2025-06-15", "", 40, ""),
    ("S9", "C4", "2025-06-15", "2026-06-15", "", 40, "S8"),
    ("S10", "C5", "2025-03-01", "2026-03-01", "", 50, ""),
    ("S11", "C6", "2024-06-01", "2025-06-01", "", 60, ""),
]
COLUMNS = [
    "subscription_id",
    "customer_id",
    "start_date",
    "end_date",
    "cancelled_date",
    "mrr",
    "renewed_from",
]


def _tables(subs=SUBS, *, with_subscriptions=True):
    ids = sorted({s[1] for s in SUBS})
    first = {c: min(s[2] for s in SUBS if s[1] == c) for c in ids}
    tables = {
        "customers": [{"customer_id": c, "signup_date": first[c]} for c in ids],
        "orders": [
            {"order_id": f"O{i}", "customer_id": c, "order_date": first[c], "revenue": "100", "cost": "40"}
            for i, c in enumerate(ids)
        ],
    }
    if with_subscriptions:
        tables["subscriptions"] = [{**dict(zip(COLUMNS, map(str, s))), "plan": "basic"} for s in subs]
    return tables


@pytest.fixture(scope="module")
def hand(tmp_path_factory):
    return open_source(write_source(tmp_path_factory.mktemp("subs") / "data", _tables()))


def test_renewal_cohorts_by_hand(hand):
    r = renewal_cohorts(Scope.of(hand, "2025"))
    assert r.term_months == 12
    expected = pd.DataFrame(
        {0: [3, 2], 1: [2.0, 1.0], 2: [1.0, np.nan], 3: [1.0, np.nan]},
        index=pd.Index(["2022-01", "2024-06"], name="cohort"),
    )
    pd.testing.assert_frame_equal(r.survivors, expected, check_dtype=False)
    assert r.customers["renewals"].to_dict() == {"C1": 3, "C4": 1, "C5": 0}
    assert r.customers["mrr"].to_dict() == {"C1": 10.0, "C4": 40.0, "C5": 50.0}
    assert r.renewals == 5


def test_renewal_cohorts_of_a_past_period_ignore_later_subscriptions(hand):
    # 2025-03 ends before C4's renewal (2025-06-15) starts and before the June 2024 cohort's first
    # anniversary: that cohort has reached no renewal yet, C4 has renewed 0 times and C6's first
    # term still runs
    r = renewal_cohorts(Scope.of(hand, "2025-03"))
    assert r.survivors.index.tolist() == ["2022-01"]
    assert r.survivors.loc["2022-01"].tolist() == [3, 2, 1, 1]
    assert r.customers["renewals"].to_dict() == {"C1": 3, "C4": 0, "C5": 0, "C6": 0}
    assert r.renewals == 4
    # a subscription starting after the period's end changes nothing
    later = [*SUBS, ("S12", "C5", "2026-03-01", "2027-03-01", "", 50, "S10")]
    src = open_source(write_source(hand.path.parent / "later", _tables(later)))
    again = renewal_cohorts(Scope.of(src, "2025-03"))
    pd.testing.assert_frame_equal(again.survivors, r.survivors)
    pd.testing.assert_frame_equal(again.customers, r.customers)


def test_model_choice_follows_the_data(hand, tmp_path):
    assert clv_choice(Scope.of(hand, "2025")).model == "sBG"
    assert clv_choice(Scope.of(hand, "2025")).renewals == 5
    plain = open_source(write_source(tmp_path / "plain", _tables(with_subscriptions=False)))
    assert (clv_choice(Scope.of(plain, "2025")).model, clv_choice(Scope.of(plain, "2025")).basis) == (
        "BG/NBD",
        "no subscriptions",
    )
    unrenewed = [(*s[:6], "") for s in SUBS]
    src = open_source(write_source(tmp_path / "unrenewed", _tables(unrenewed)))
    assert clv_choice(Scope.of(src, "2025")).basis == "no renewals"


def test_too_few_customers_for_the_sbg_model_is_a_note_not_an_error(hand):
    view = contractual_clv(PeriodData(hand, "2025"))
    assert view.customers.empty
    assert view.note == (
        "not fitted: the cohorts hold 5 customers at t=0; the sBG model needs at least 10 (in "
        "practice hundreds): widen the period or the segment"
    )


# -- the demo: fitted once, reused ----------------------------------------------------------------


@pytest.fixture(scope="module")
def demo():
    return open_source(DEMO_DATA)


@pytest.fixture(scope="module")
def demo_fits(demo):
    return fit_clv_models(demo, "2025-Q4")


def test_contractual_view_of_the_demo(demo):
    view = contractual_clv(PeriodData(demo, "2025-Q4"))
    assert view.note == ""
    a, b = view.parameters.loc["alpha", "estimate"], view.parameters.loc["beta", "estimate"]
    # the fitted retention is r(t) = (b + t - 1) / (a + b + t - 1) and the survival its product
    assert view.survival.loc[1, "retention"] == pytest.approx(b / (a + b))
    assert view.survival.loc[3, "fitted"] == pytest.approx(
        np.prod([(b + t - 1) / (a + b + t - 1) for t in (1, 2, 3)])
    )
    c = view.customers
    assert (c["clv_low"] < c["clv"]).all() and (c["clv"] < c["clv_high"]).all()
    # same margin, more renewals made: more value still to come
    per_margin = (c["clv"] / c["margin_per_period"]).groupby(c["renewals"]).first()
    assert per_margin.is_monotonic_increasing


def test_saved_fits_give_the_same_numbers_as_fitting(demo, demo_fits):
    assert set(demo_fits["models"]) == {"bgnbd", "gamma_gamma", "bgnbd_holdout", "sbg"}
    json.dumps(demo_fits, allow_nan=False)  # plain JSON
    fits = demo_fits["models"]
    d = PeriodData(demo, "2025-Q4")
    fresh, loaded = contractual_clv(d), contractual_clv(d, fits=fits)
    for name in ("parameters", "survival", "customers"):
        pd.testing.assert_frame_equal(getattr(fresh, name), getattr(loaded, name))
    fresh_bg, loaded_bg = clv_models(d.scope), clv_models(d.scope, fits=fits)
    for name in ("parameters", "calibration", "alive", "customers"):
        pd.testing.assert_frame_equal(getattr(fresh_bg, name), getattr(loaded_bg, name))


def test_a_saved_fit_is_used_only_for_the_data_it_was_fitted_on(demo, demo_fits):
    d = PeriodData(demo, "2025-Q4")
    fits = json.loads(json.dumps(demo_fits["models"]))
    fits["sbg"]["fit"]["params"]["alpha"] *= 2  # a different fit of the same cohorts is used as given
    assert contractual_clv(d, fits=fits).parameters.loc["alpha", "estimate"] == pytest.approx(
        2 * demo_fits["models"]["sbg"]["fit"]["params"]["alpha"]
    )
    fits["sbg"]["input"] = "0" * 64  # fitted on other cohorts: refitted
    assert contractual_clv(d, fits=fits).parameters.loc["alpha", "estimate"] == pytest.approx(
        demo_fits["models"]["sbg"]["fit"]["params"]["alpha"]
    )


def test_workbook_reads_the_runner_file_for_its_own_period_only(demo, tmp_path):
    path = tmp_path / "clv_models.json"
    assert write_clv_fits(demo, "2025-Q4", None, path)
    saved = json.loads(path.read_text())
    saved["models"]["sbg"]["fit"]["params"]["beta"] = 9.0  # marks the file's fit
    path.write_text(json.dumps(saved))
    wb = Workbook("2025-Q4", str(DEMO_DATA))
    assert wb.contractual_clv(fits=str(path)).parameters.loc["beta", "estimate"] == 9.0
    other = Workbook("2025-Q3", str(DEMO_DATA))
    assert other.contractual_clv(fits=str(path)).parameters.loc["beta", "estimate"] != 9.0
    assert wb.contractual_clv(fits=str(tmp_path / "missing.json")).parameters.loc["beta", "estimate"] != 9.0
    saved["code"] = "0" * 64  # fitted by another version of the package (a report run's old file)
    path.write_text(json.dumps(saved))
    assert wb.contractual_clv(fits=str(path)).parameters.loc["beta", "estimate"] != 9.0
    with pytest.raises(
        WorkbookError, match=r"clv_models '\.\./\.\./x\.json' leads outside the project folder"
    ):
        wb.contractual_clv(fits="../../x.json")


def test_report_without_subscriptions_says_it_uses_bgnbd_and_why(tmp_path):
    from metrics_lib.reporting.plots_clv import plot_survival

    folder = write_source(tmp_path / "plain", _tables(with_subscriptions=False))
    wb = Workbook("2025", str(folder), restrict_paths=False)
    report = wb.contractual_clv()
    assert report.choice().text.startswith("**Model: BG/NBD with Gamma-Gamma, a non-contractual model**")
    assert "the data has no subscriptions" in report.choice().text
    note = "skipped: needs subscriptions"
    for table in (report.summary(), report.parameters_table(), report.top_customers()):
        assert table["value"].tolist() == [note]
    assert plot_survival(report.survival).texts[0].get_text() == note
