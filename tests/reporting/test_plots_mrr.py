"""The MRR plots draw what the MRR sections give them, and an empty section's note."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402

from metrics_lib.reporting.plots_mrr import plot_mrr_trend, plot_mrr_waterfall  # noqa: E402


@pytest.fixture(autouse=True)
def _close():
    yield
    plt.close("all")


WATERFALL = pd.DataFrame(
    {
        "change": [505.0, 75.0, 50.0, 90.0, -20.0, -225.0, 475.0],
        "before": [0.0, 505.0, 580.0, 630.0, 720.0, 700.0, 0.0],
        "after": [505.0, 580.0, 630.0, 720.0, 700.0, 475.0, 475.0],
        "kind": ["total", "gain", "gain", "gain", "loss", "loss", "total"],
    },
    index=pd.Index(
        ["start MRR", "new", "expansion", "reactivation", "contraction", "churned", "end MRR"], name="step"
    ),
)


def test_waterfall_floats_each_movement_between_the_mrr_before_and_after():
    ax = plot_mrr_waterfall(WATERFALL)
    bars = ax.patches
    assert len(bars) == 7
    # churned: from 700 down to 475
    assert (bars[5].get_y(), bars[5].get_height()) == (475.0, 225.0)
    assert [t.get_text() for t in ax.texts][4:6] == ["-20", "-225"]


def test_trend_draws_one_bar_per_period_with_arr_on_the_right():
    frame = pd.DataFrame({"end_mrr": [100.0, 150.0], "current": [False, True]}, index=["2025-Q3", "2025-Q4"])
    ax = plot_mrr_trend(frame)
    assert [b.get_height() for b in ax.patches] == [100.0, 150.0]
    assert "ARR" in ax.child_axes[0].get_ylabel()


def test_an_empty_section_draws_its_note():
    frame = pd.DataFrame(columns=["end_mrr", "current"])
    frame.attrs["note"] = "skipped: needs subscriptions"
    ax = plot_mrr_trend(frame)
    assert ax.texts[0].get_text() == "skipped: needs subscriptions"


def test_trend_marks_the_strategy_change_between_the_periods_it_separates():
    from datetime import date

    frame = pd.DataFrame(
        {"end_mrr": [100.0, 150.0, 170.0], "current": [False, False, True]},
        index=["2025-Q2", "2025-Q3", "2025-Q4"],
    )
    ax = plot_mrr_trend(frame)
    assert not ax.lines  # no change date: no line
    frame.attrs["strategy_change"] = (date(2025, 7, 1), "New pricing (01 Jul 2025)")
    ax = plot_mrr_trend(frame, ax=plt.figure().gca())
    # 2025-Q3 starts on 01 Jul 2025: between 2025-Q2 (x=0) and 2025-Q3 (x=1)
    assert [list(ln.get_xdata()) for ln in ax.lines] == [[0.5, 0.5]]
    assert "New pricing (01 Jul 2025)" in [t.get_text() for t in ax.texts]
