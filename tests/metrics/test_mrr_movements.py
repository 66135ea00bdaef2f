"""The period's MRR movements from the subscriptions, on a hand-made book and on the demo data.

The book (MRR per month; terms run ``start_date <= day < end_date``, a cancellation ends a term on
its date). Snapshots of 2025-Q1: the day before (2024-12-31) and the last day (2025-03-31):

========  =================================================================  ======  =====  ============
customer  subscriptions                                                      start   end    movement
========  =================================================================  ======  =====  ============
A         100 from 2024-01-01 to 2026-01-01; 50 more from 2025-02-01          100     150    expansion 50
B         200 from 2024-06-01 to 2025-06-01, cancelled 2025-02-15             200     0      churned 200
C         80 from 2024-03-01 to 2025-03-01, renewed at 60 to 2026-03-01       80      60     contraction 20
D         40 from 2025-01-10 (first subscription)                            0       40     new 40
E         70 in 2024-01-01 to 2024-07-01; 90 from 2025-03-01                 0       90     reactivation 90
F         30 from 2025-01-05 to 2025-02-05 (joins and leaves in the quarter)  0       0      none
H         25 from 2024-04-01 to 2025-03-31 (ends on the last day)             25      0      churned 25
I         55 cancelled on its start day 2024-05-01 (never paid); 35 from      0       35     new 35
          2025-02-01
J         100 from 2024-01-01, cancelled 2025-01-15; 100 from 2025-02-10      100     100    none
========  =================================================================  ======  =====  ============

Start 505, end 475 = 505 + new 75 + expansion 50 + reactivation 90 - contraction 20 - churned 225.
J churns in January and comes back in February: month by month it is churned 100 then
reactivation 100, over the quarter nothing, so a quarter's movements are not the sum of its months'.
"""

from __future__ import annotations

import math

import pandas as pd
import pytest

from metrics_lib.core.periods import parse_period
from metrics_lib.data import DEMO_DATA, open_source
from metrics_lib.formulas.subscriptions import mrr_movements
from metrics_lib.metrics.aggregate_subscriptions import revenue_retention
from metrics_lib.metrics.mrr_views import mrr_trend, mrr_waterfall
from metrics_lib.metrics.period_data import PeriodData
from metrics_lib.metrics.scorecard import headline_metrics

SUBS = [
    ("S1", "A", "2024-01-01", "2026-01-01", "", 100, ""),
    ("S2", "A", "2025-02-01", "2026-02-01", "", 50, ""),
    ("S3", "B", "2024-06-01", "2025-06-01", "2025-02-15", 200, ""),
    ("S4", "C", "2024-03-01", "2025-03-01", "", 80, ""),
    ("S5", "C", "2025-03-01", "2026-03-01", "", 60, "S4"),
    ("S6", "D", "2025-01-10", "2026-01-10", "", 40, ""),
    ("S7", "E", "2024-01-01", "2024-07-01", "", 70, ""),
    ("S8", "E", "2025-03-01", "2026-03-01", "", 90, ""),
    ("S9", "F", "2025-01-05", "2025-02-05", "", 30, ""),
    ("S10", "H", "2024-04-01", "2025-03-31", "", 25, ""),
    ("S11", "I", "2024-05-01", "2025-05-01", "2024-05-01", 55, ""),
    ("S12", "I", "2025-02-01", "2026-02-01", "", 35, ""),
    ("S13", "J", "2024-01-01", "2026-01-01", "2025-01-15", 100, ""),
    ("S14", "J", "2025-02-10", "2026-02-10", "", 100, ""),
]
MOVES = ("new", "expansion", "reactivation", "contraction", "churned")


def _write(folder, subs):
    ids = sorted({s[1] for s in subs})
    pd.DataFrame(
        {
            "customer_id": ids,
            "signup_date": "2023-12-01",
            "acquisition_channel": "organic",
            "segment": "SMB",
            "region": "north",
            "referred_by": "",
        }
    ).to_csv(folder / "customers.csv", index=False)
    pd.DataFrame(
        subs,
        columns=[
            "subscription_id",
            "customer_id",
            "start_date",
            "end_date",
            "cancelled_date",
            "mrr",
            "renewed_from",
        ],
    ).assign(plan="basic").to_csv(folder / "subscriptions.csv", index=False)
    return open_source(folder)


@pytest.fixture(scope="module")
def book(tmp_path_factory):
    return _write(tmp_path_factory.mktemp("book"), SUBS)


def _moves(m):
    return tuple(getattr(m, k) for k in MOVES)


def _bridge(m):
    return m.start_mrr + m.new + m.expansion + m.reactivation - m.contraction - m.churned


def test_quarter_movements_by_hand(book):
    m = PeriodData(book, "2025-Q1").mrr
    assert (m.start_mrr, m.end_mrr) == (505, 475)
    assert _moves(m) == (75, 50, 90, 20, 225)
    assert _bridge(m) == m.end_mrr
    assert (m.customers, m.end_accounts) == (5, 6)  # A B C H J at the start; A C D E I J at the end


def test_month_movements_by_hand(book):
    jan, feb, mar = (PeriodData(book, f"2025-{k:02d}").mrr for k in (1, 2, 3))
    # January: D new 40, J churned 100 (cancelled 01-15); F joined and left by 02-05, so paid on 01-31
    assert (jan.start_mrr, jan.end_mrr) == (505, 475)
    assert _moves(jan) == (70, 0, 0, 0, 100)
    # February: A +50, B churned 200, F churned 30, I new 35, J back 100
    assert _moves(feb) == (35, 50, 100, 0, 230)
    # March: C 80 -> 60, E back 90, H churned 25
    assert _moves(mar) == (0, 0, 90, 20, 25)
    for m in (jan, feb, mar):
        assert _bridge(m) == pytest.approx(m.end_mrr)


def test_the_snapshots_chain_but_the_movements_do_not_add_up(book):
    q1 = PeriodData(book, "2025-Q1").mrr
    months = [PeriodData(book, f"2025-{k:02d}").mrr for k in (1, 2, 3)]
    assert q1.start_mrr == months[0].start_mrr and q1.end_mrr == months[-1].end_mrr
    assert months[0].end_mrr == months[1].start_mrr and months[1].end_mrr == months[2].start_mrr
    # J: churned 100 in January, reactivation 100 in February, nothing over the quarter
    assert sum(m.churned for m in months) - q1.churned == 100 + 30  # and F, who paid only on 01-31
    assert sum(m.reactivation for m in months) - q1.reactivation == 100


def test_headlines_of_the_book(book):
    rec = headline_metrics(book, "2025-Q1", ids=["retention"])["metrics"]
    assert rec["mrr_new"]["value"] == 75 and rec["mrr_churned"]["value"] == 225
    assert rec["mrr_reactivation"]["value"] == 90
    assert rec["quick_ratio"]["value"] == pytest.approx(215 / 245)
    # ARPA: 475 over A 150, C 60, D 40, E 90, I 35, J 100
    assert rec["arpa"]["value"] == pytest.approx(475 / 6) and rec["arpa"]["n"] == 6
    assert rec["net_revenue_retention"]["value"] == pytest.approx((505 + 50 - 20 - 225) / 505)
    assert rec["gross_revenue_retention"]["value"] == pytest.approx((505 - 225 - 20) / 505)


def test_quick_ratio_is_null_with_a_reason_when_nothing_was_lost(tmp_path):
    src = _write(tmp_path, [("S1", "A", "2024-01-01", "2026-01-01", "", 100, ""), SUBS[5]])
    rec = headline_metrics(src, "2025-Q1", ids=["quick_ratio", "mrr_new"])["metrics"]
    assert rec["quick_ratio"]["value"] is None and "no MRR was lost" in rec["quick_ratio"]["reason"]
    assert rec["mrr_new"]["value"] == 40


def test_a_later_customer_leaves_the_period_unchanged(tmp_path, book):
    later = _write(tmp_path, [*SUBS, ("S15", "K", "2025-05-01", "2026-05-01", "", 500, "")])
    assert PeriodData(later, "2025-Q1").mrr == PeriodData(book, "2025-Q1").mrr


@pytest.fixture(scope="module")
def demo():
    return open_source(DEMO_DATA)


@pytest.mark.parametrize("period", ["2024-Q3", "2025-Q4", "2025-11", "2025"])
def test_the_demo_movements_bridge_start_to_end(demo, period):
    m = revenue_retention(PeriodData(demo, period).scope)
    assert _bridge(m) == pytest.approx(m.end_mrr, rel=1e-12)
    assert min(_moves(m)) >= 0 and m.end_accounts > 0 and not math.isnan(m.end_mrr_std)


def test_the_demo_end_of_a_quarter_is_the_start_of_the_next(demo):
    q3, q4 = PeriodData(demo, "2025-Q3").mrr, PeriodData(demo, "2025-Q4").mrr
    assert q3.end_mrr == pytest.approx(q4.start_mrr, rel=1e-12)


def test_the_waterfall_of_the_book_steps_from_start_to_end(book):
    w = mrr_waterfall(PeriodData(book, "2025-Q1"))
    assert w.index.tolist() == [
        "start MRR",
        "new",
        "expansion",
        "reactivation",
        "contraction",
        "churned",
        "end MRR",
    ]
    assert w["change"].tolist() == [505, 75, 50, 90, -20, -225, 475]
    # 505 -> 580 -> 630 -> 720 -> 700 -> 475
    assert w["after"].tolist() == [505, 580, 630, 720, 700, 475, 475]
    assert w["kind"].tolist() == ["total", "gain", "gain", "gain", "loss", "loss", "total"]


def test_the_mrr_trend_of_the_book(book):
    p = parse_period("2025-03")
    t = mrr_trend([PeriodData(book, p.shift(-k)) for k in (2, 1, 0)], p)
    assert t.index.tolist() == ["2025-01", "2025-02", "2025-03"]
    assert t["end_mrr"].tolist() == [475, 430, 475] and t["arr"].tolist() == [5_700, 5_160, 5_700]
    # February ends at A 150, C 80, D 40, H 25, I 35, J 100 = 430; its quick ratio (35 + 50 + 100) / 230;
    # March ARPA 475 over A C D E I J
    assert t.loc["2025-02", "quick_ratio"] == pytest.approx(185 / 230)
    assert t.loc["2025-03", "arpa"] == pytest.approx(475 / 6)
    assert t["current"].tolist() == [False, False, True]


def test_the_engine_agrees_with_the_formula_on_the_demo(demo):
    """The Ibis query and :func:`mrr_movements` (the definition) on the same per-customer
    snapshots of 2025-Q4, worked out here in pandas."""
    s = pd.read_parquet(DEMO_DATA / "subscriptions.parquet")
    for col in ("start_date", "end_date", "cancelled_date"):
        s[col] = pd.to_datetime(s[col])

    def mrr_on(day):
        d = pd.Timestamp(day)
        active = (s.start_date <= d) & (s.end_date > d) & (s.cancelled_date.isna() | (s.cancelled_date > d))
        return s.mrr.where(active, 0.0).groupby(s.customer_id).sum()

    paid = (
        (s.mrr > 0)
        & (s.start_date <= pd.Timestamp("2025-09-30"))
        & (s.end_date > s.start_date)
        & (s.cancelled_date.isna() | (s.cancelled_date > s.start_date))
    )
    before = paid.groupby(s.customer_id).any()
    m0, m1 = mrr_on("2025-09-30"), mrr_on("2025-12-31")
    expected = mrr_movements(m0, m1.reindex(m0.index), before.reindex(m0.index))
    got = PeriodData(demo, "2025-Q4").mrr
    assert (got.start_mrr, got.end_mrr) == pytest.approx((expected.start, expected.end), rel=1e-12)
    assert _moves(got) == pytest.approx(
        (expected.new, expected.expansion, expected.reactivation, expected.contraction, expected.churned),
        rel=1e-9,
    )
