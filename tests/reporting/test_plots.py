"""The plot functions: each draws the expected artists on the axes it is given and returns them.

Inputs are small hand-made tables shaped like the Workbook's, so every count below can be checked
by eye. Figures are closed after each test by the autouse fixture in conftest.py.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
import pytest  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402

from metrics_lib.formulas.relationships import assign_relationship_group  # noqa: E402
from metrics_lib.reporting import plots  # noqa: E402


def texts(ax) -> list[str]:
    return [t.get_text() for t in ax.texts]


def trend_frame(target=2.0) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "period": ["2025-Q2", "2025-Q3", "2025-Q4"],
            "metric": "first_response_hours_median",
            "label": "first response hours median",
            "value": [3.0, 2.5, 1.5],
            "ci_low": [2.8, 2.3, 1.4],
            "ci_high": [3.2, 2.7, 1.6],
            "n": [100, 110, 120],
            "unit": "hours",
            "direction": "lower",
            "target": target,
            "current": [False, False, True],
        }
    )


def test_theme_is_applied_on_import():
    assert tuple(plt.rcParams["figure.figsize"]) == (9.0, 4.5)
    assert plt.rcParams["font.size"] == 11


def test_importing_plots_leaves_pandas_options_alone():
    code = (
        "import pandas as pd\n"
        "before = pd.describe_option('', _print_desc=False)\n"
        "import metrics_lib.reporting.plots\n"
        "print(before == pd.describe_option('', _print_desc=False))"
    )
    root = Path(plots.__file__).resolve().parents[2]
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={**os.environ, "MPLBACKEND": "Agg", "PYTHONPATH": str(root)},
        cwd=root,
    )
    assert out.stdout.strip() == "True"


def test_trend_draws_line_band_current_marker_and_target():
    fig, ax = plt.subplots()
    out = plots.plot_trend(trend_frame(), "first_response_hours_median", ax=ax)
    assert out is ax
    value_line = [ln for ln in ax.lines if ln.get_label() == "first response hours median"][0]
    assert list(value_line.get_ydata()) == [3.0, 2.5, 1.5]
    target = [ln for ln in ax.lines if ln.get_label().startswith("target")]
    assert len(target) == 1 and list(target[0].get_ydata()) == [2.0, 2.0]
    current = [c for c in ax.collections if c.get_label() == "current period"]
    assert len(current) == 1 and current[0].get_offsets().tolist() == [[2.0, 1.5]]
    assert any(c.get_label() == "95% CI" for c in ax.collections)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["2025-Q2", "2025-Q3", "2025-Q4"]
    assert ax.get_title(loc="left") == "First response hours median by period"
    assert ax.get_xlabel() == "period"


def test_trend_without_target_has_no_target_line():
    ax = plots.plot_trend(trend_frame(target=None), "first_response_hours_median")
    assert isinstance(ax, Axes)
    assert not [ln for ln in ax.lines if ln.get_label().startswith("target")]


def test_trend_of_a_metric_not_in_the_table_says_so():
    ax = plots.plot_trend(trend_frame(), "nps")
    assert texts(ax) == ["no trend of nps for this period"]


def test_trend_of_a_metric_the_data_never_defines_says_not_available():
    frame = trend_frame().assign(value=np.nan, ci_low=np.nan, ci_high=np.nan)  # e.g. pipeline-only data
    ax = plots.plot_trend(frame, "first_response_hours_median")
    assert texts(ax) == ["first response hours median: not available in these periods"]
    assert not ax.lines


def _nps_mix(periods) -> pd.DataFrame:
    """Two periods' answer mix: promoters 50% then 40%, passives 20% then 40%, NPS +20 both."""
    return pd.DataFrame(
        {
            "n": [10, 20],
            "promoter_share": [0.5, 0.4],
            "passive_share": [0.2, 0.4],
            "detractor_share": [0.3, 0.2],
            "nps": [20.0, 20.0],
            "current": [False, True],
        },
        index=pd.Index(periods, name="period"),
    )


def test_nps_mix_stacks_three_bars_per_period_with_the_score_on_top():
    ax = plots.plot_nps_mix(_nps_mix(["2025-Q3", "2025-Q4"]))
    assert len(ax.patches) == 6
    heights = sorted(round(p.get_height(), 6) for p in ax.patches)
    assert heights == [20.0, 20.0, 30.0, 40.0, 40.0, 50.0]
    assert texts(ax) == ["+20", "+20"]
    assert ax.get_ylabel() == "share of answers"


def test_nps_mix_marks_the_strategy_change_between_the_periods_it_separates():
    from datetime import date

    frame = _nps_mix(["2025-Q2", "2025-Q3"])
    assert not plots.plot_nps_mix(frame).lines
    frame.attrs["strategy_change"] = (date(2025, 7, 1), "New pricing (01 Jul 2025)")
    ax = plots.plot_nps_mix(frame, ax=plt.figure().gca())
    assert [list(ln.get_xdata()) for ln in ax.lines] == [[0.5, 0.5]]
    assert "New pricing (01 Jul 2025)" in texts(ax)


def test_cohort_heatmap_annotates_percent_and_cohort_sizes():
    matrix = pd.DataFrame(
        [[1.0, 0.5, 0.25], [1.0, 0.0, np.nan]], index=["2025-01", "2025-02"], columns=[0, 1, 2]
    )
    sizes = pd.Series({"2025-01": 4, "2025-02": 2})
    ax = plots.plot_cohort_retention(matrix, sizes=sizes)
    shown = [t for t in texts(ax) if t]
    assert shown == ["100", "50", "25", "100", "0"]
    assert [t.get_text() for t in ax.get_yticklabels()] == ["2025-01 (n=4)", "2025-02 (n=2)"]
    assert ax.get_xlabel() == "months since signup"


def test_funnel_draws_one_bar_per_stage_with_conversion():
    funnel = pd.DataFrame(
        {
            "deals": [100, 50, 20],
            "entered": [100, 50, 20],
            "conversion": [np.nan, 0.5, 0.4],
            "share_of_first": [1.0, 0.5, 0.2],
        },
        index=pd.Index(["lead", "proposal", "won"], name="stage"),
    )
    ax = plots.plot_funnel(funnel)
    assert [p.get_width() for p in ax.patches] == [100, 50, 20]
    assert texts(ax) == ["100", "50  (50% of the stage before)", "20  (40% of the stage before)"]


def test_time_in_stage_highlights_the_bottleneck():
    table = pd.DataFrame(
        {
            "deals": [5, 4, 3],
            "mean_days": [3.0, 9.0, 2.0],
            "median_days": [2.0, 6.0, 2.0],
            "open_deals": [0, 1, 0],
            "bottleneck": [False, True, False],
        },
        index=pd.Index(["lead", "proposal", "negotiation"], name="stage"),
    )
    ax = plots.plot_time_in_stage(table)
    colours = [to_hex(p.get_facecolor()) for p in ax.patches]
    assert colours == [plots.PALETTE["main"], plots.PALETTE["bad"], plots.PALETTE["main"]]
    assert ax.get_title(loc="left") == "Days in each stage (bottleneck: proposal)"
    assert "9.0 d  bottleneck" in texts(ax)


def test_response_times_mark_the_target_and_the_share_within_it():
    ax = plots.plot_response_times(pd.Series([0.5, 1.0, 1.5, 3.0, 4.0]), target_hours=2.0)
    target = [ln for ln in ax.lines if ln.get_label() == "target 2 h"]
    assert len(target) == 1 and list(target[0].get_xdata()) == [2.0, 2.0]
    assert ax.get_title(loc="left").startswith("First response time: 60.0% within 2 h")
    assert ax.get_xscale() == "log"
    assert sum(p.get_height() for p in ax.patches) == 5


def test_relationship_quadrant_draws_splits_and_group_names():
    frame = pd.DataFrame(
        {
            "customer_id": list("abcd"),
            "profit": [10.0, 5000.0, 20.0, 8000.0],
            "tenure_months": [1.0, 2.0, 30.0, 40.0],
        }
    )
    frame["group"] = assign_relationship_group(frame["profit"], frame["tenure_months"])
    frame.attrs.update(profit_split=15.0, loyalty_split=2.0)
    ax = plots.plot_relationship_quadrant(frame)
    assert {"strangers", "butterflies", "barnacles", "true friends"} <= set(texts(ax))
    horizontal = [ln for ln in ax.lines if list(ln.get_ydata()) == [15.0, 15.0]]
    vertical = [ln for ln in ax.lines if list(ln.get_xdata()) == [2.0, 2.0]]
    assert len(horizontal) == 1 and len(vertical) == 1
    assert sum(len(c.get_offsets()) for c in ax.collections) == 4


def test_health_bands_draw_churn_with_intervals_per_band():
    bands = pd.DataFrame(
        {
            "customers": [0, 50, 200],
            "churned": [0, 5, 4],
            "churn_rate": [np.nan, 0.1, 0.02],
            "ci_low": [np.nan, 0.04, 0.008],
            "ci_high": [np.nan, 0.21, 0.05],
        },
        index=pd.Index(["at risk", "neutral", "healthy"], name="band"),
    )
    ax = plots.plot_health_bands(bands)
    # a dot per band with its interval, no bars: the empty band has no dot and says why
    assert not ax.patches
    dots = ax.lines[0]
    assert np.isnan(dots.get_xdata()[0]) and list(dots.get_xdata()[1:]) == [0.1, 0.02]
    assert texts(ax) == ["no customer scored in this band at the start", "10.0% (n=50)", "2.0% (n=200)"]
    assert ax.get_xlabel() == "churn rate (dot) with its 95% interval"


def test_lift_draws_one_interval_per_campaign_and_the_zero_line():
    frame = pd.DataFrame(
        {
            "lift": [0.05, -0.01],
            "ci_low": [0.01, -0.04],
            "ci_high": [0.09, 0.02],
            "p_value": [0.01, 0.6],
            "significant": [True, False],
        },
        index=pd.Index(["spring", "autumn"], name="campaign"),
    )
    ax = plots.plot_lift(frame)
    assert len(ax.containers) == 2
    assert [t.get_text() for t in ax.get_yticklabels()] == ["spring", "autumn"]
    zero = [ln for ln in ax.lines if list(ln.get_xdata()) == [0, 0]]
    assert len(zero) == 1
    assert texts(ax)[0].strip() == "+5.0 pp (p=0.010)"


def test_revenue_highlights_the_period_months():
    frame = pd.DataFrame(
        {
            "revenue": [100.0, 120.0, 130.0],
            "gross_profit": [40.0, 50.0, 55.0],
            "in_period": [False, True, True],
        },
        index=pd.Index(["2025-10", "2025-11", "2025-12"]),
    )
    ax = plots.plot_revenue(frame)
    colours = [to_hex(p.get_facecolor()) for p in ax.patches]
    assert colours == [plots.PALETTE["main"], plots.PALETTE["current"], plots.PALETTE["current"]]


@pytest.mark.parametrize(
    "draw",
    [
        plots.plot_nps_mix,
        plots.plot_cohort_retention,
        plots.plot_funnel,
        plots.plot_time_in_stage,
        plots.plot_relationship_quadrant,
        plots.plot_health_bands,
        plots.plot_lift,
        plots.plot_revenue,
    ],
)
def test_an_empty_table_draws_its_note_instead_of_failing(draw):
    empty = pd.DataFrame(columns=["x"])
    empty.attrs["note"] = "skipped: needs deal_stages"
    ax = draw(empty)
    assert texts(ax) == ["skipped: needs deal_stages"]


def test_plots_draw_on_the_current_axes_when_none_is_given():
    fig, (left, right) = plt.subplots(1, 2)
    plt.sca(left)
    assert plots.plot_trend(trend_frame(), "first_response_hours_median") is left
    assert plots.plot_response_times([1.0, 3.0], ax=right) is right


def test_a_year_without_data_is_a_gap_in_the_trend_not_a_zero():
    from metrics_lib.reporting.workbook import Workbook

    # the demo data starts on 2022-01-01: 2020 and 2021 have no orders, hence no revenue at all
    trend = Workbook("2025", "data/demo").trend(["revenue"], periods=6)
    values = trend.set_index("period")["value"]
    assert values[["2020", "2021"]].isna().all() and (values[["2022", "2023", "2024", "2025"]] > 0).all()
    ax = plots.plot_trend(trend, "revenue")
    drawn = [ln for ln in ax.lines if ln.get_label() == "revenue"][0].get_ydata()
    assert np.isnan(drawn[:2]).all() and 0 not in list(drawn)


def test_the_strategy_change_is_marked_between_the_periods_it_separates():
    from datetime import date

    frame = trend_frame()
    frame.attrs["strategy_change"] = (date(2025, 7, 1), "New pricing (01 Jul 2025)")
    ax = plots.plot_trend(frame, "first_response_hours_median")
    # 2025-Q3 starts on 01 Jul 2025: the line sits between 2025-Q2 (x=0) and 2025-Q3 (x=1)
    vertical = [ln for ln in ax.lines if list(ln.get_xdata()) == [0.5, 0.5]]
    assert len(vertical) == 1 and "New pricing (01 Jul 2025)" in texts(ax)
    frame.attrs["strategy_change"] = (date(2020, 1, 1), "before the axis")
    ax = plots.plot_trend(frame, "first_response_hours_median", ax=plt.figure().gca())
    assert "before the axis" not in texts(ax)


def test_percent_ticks_never_repeat_or_round():
    # a month's churn axis from 1.4% to 2.2%: whole percentages would read "1%, 2%, 2%, 2%"
    frame = trend_frame()
    frame["unit"], frame["value"] = "share", [0.014, 0.022, 0.018]
    frame["ci_low"], frame["ci_high"] = frame["value"] - 0.001, frame["value"] + 0.001
    ax = plots.plot_trend(frame.assign(target=None), "first_response_hours_median")
    ax.figure.canvas.draw()
    labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
    assert len(labels) == len(set(labels)) >= 3
    locs = ax.yaxis.get_majorticklocs()
    assert all(abs(float(lb.rstrip("%")) - 100 * v) < 1e-9 for lb, v in zip(labels, locs))


def test_cohort_scale_runs_from_0_to_100_and_hatches_months_not_observed():
    matrix = pd.DataFrame({0: [1.0, 1.0], 1: [0.9, np.nan]}, index=["2025-01", "2025-02"])
    ax = plots.plot_cohort_retention(matrix)
    mesh = ax.collections[0]
    assert mesh.get_clim() == (0, 100)
    assert ax.patch.get_hatch() == "///"
    assert [t.get_text() for t in ax.get_legend().get_texts()] == ["not observed yet"]


@pytest.mark.parametrize(
    ("unit", "locs", "labels"),
    [
        ("share", [0.014, 0.016, 0.018], ["1.4%", "1.6%", "1.8%"]),
        ("share", [0.0, 0.025, 0.05], ["0.0%", "2.5%", "5.0%"]),
        ("count", [0, 2000, 4000, 10000], ["0", "2k", "4k", "10k"]),
        ("currency", [1e6, 1.05e6, 1.1e6], ["1.00M", "1.05M", "1.10M"]),
        ("hours", [1, 1.5, 2], ["1.0 h", "1.5 h", "2.0 h"]),
    ],
)
def test_tick_labels_in_their_unit_are_exact_and_distinct(unit, locs, labels):
    from metrics_lib.reporting.plot_marks import UnitFormatter

    formatter = UnitFormatter(unit)
    formatter.set_locs(locs)
    assert [formatter(v) for v in locs] == labels


def test_plot_survival_draws_fitted_band_and_observed_points():
    from metrics_lib.reporting.plots_clv import plot_survival

    frame = pd.DataFrame(
        {
            "observed": [1.0, 0.77, 0.64, None],
            "fitted": [1.0, 0.77, 0.65, 0.56],
            "fitted_low": [1.0, 0.75, 0.62, 0.53],
            "fitted_high": [1.0, 0.79, 0.67, 0.59],
        },
        index=pd.Index([0, 1, 2, 3], name="t"),
    )
    ax = plot_survival(frame, term="year")
    lines = {line.get_label(): line for line in ax.get_lines()}
    assert list(lines["observed (cohorts pooled)"].get_xdata()) == [0, 1, 2]
    assert list(lines["fitted (sBG)"].get_ydata()) == [1.0, 0.77, 0.65, 0.56]
    assert ax.get_xlabel() == "years since the first contract"
    empty = pd.DataFrame()
    empty.attrs["note"] = "skipped: needs subscriptions"
    ax2 = plot_survival(empty, ax=plt.figure().gca())
    assert ax2.texts[0].get_text() == "skipped: needs subscriptions"


def _shown_labels(axis) -> list:
    """The tick labels drawn inside the axis's view, with their extents on the canvas."""
    low, high = sorted(axis.get_view_interval())
    return [
        t
        for t, loc in zip(axis.get_ticklabels(), axis.get_majorticklocs())
        if t.get_text() and low - 1e-9 <= loc <= high + 1e-9
    ]


def test_relationship_quadrant_profit_labels_are_distinct_apart_and_show_losses():
    profit = [-400.0, 50.0, 300.0, 2_000.0, 40_000.0, 350_000.0]
    frame = pd.DataFrame({"profit": profit, "tenure_months": [1.0, 2.0, 3.0, 30.0, 40.0, 50.0]})
    frame["group"] = assign_relationship_group(frame["profit"], frame["tenure_months"])
    ax = plots.plot_relationship_quadrant(frame)
    ax.figure.canvas.draw()
    labels = _shown_labels(ax.yaxis)
    text = [t.get_text() for t in labels]
    # one tick per decade from the first loss below the data to the decade above the top
    assert text == ["-1,000", "0", "1,000", "10k", "100k", "1.0M"][: len(text)] and len(text) >= 5
    boxes = sorted((t.get_window_extent() for t in labels), key=lambda b: b.y0)
    assert all(lower.y1 <= upper.y0 for lower, upper in zip(boxes, boxes[1:]))  # none overlap


def test_probability_alive_shows_a_few_recency_labels_and_a_rounded_observation_time():
    rec = np.arange(209, dtype=float)
    matrix = pd.DataFrame(
        np.full((21, len(rec)), 0.5), index=pd.Index(range(21), name="frequency"), columns=rec
    )
    matrix.attrs.update(time_unit="W", T=208.429)
    ax = plots.plot_probability_alive(matrix)
    ax.figure.canvas.draw()
    xlabels = [t.get_text() for t in ax.get_xticklabels() if t.get_text()]
    assert 4 <= len(xlabels) <= 9 and xlabels[0] == "0"
    assert all(t.get_rotation() == 0 for t in ax.get_xticklabels())
    assert len([t for t in ax.get_yticklabels() if t.get_text()]) <= 9
    title = ax.get_title(loc="left")
    assert title == "Probability a customer observed for 208 weeks (about 4 years) is still alive"


def test_a_figure_is_described_by_its_titles_in_the_image_metadata():
    from metrics_lib.reporting.plot_marks import describe_figure, with_description

    ax = plots.plot_nps_mix(pd.DataFrame())
    fig = ax.figure
    assert describe_figure(fig) == "Chart: NPS mix"
    retina = lambda f: ("PNGDATA", {"width": 450, "height": 225})  # noqa: E731
    assert with_description(retina, fig) == (
        "PNGDATA",
        {"width": 450, "height": 225, "alt": "Chart: NPS mix"},
    )
    assert with_description(lambda f: "PNGDATA", fig) == ("PNGDATA", {"alt": "Chart: NPS mix"})
    assert with_description(lambda f: None, fig) is None  # an empty figure draws nothing
    assert describe_figure(plt.figure()) is None


def test_the_report_html_gives_each_described_chart_its_alternative_text():
    import nbformat
    from bs4 import BeautifulSoup

    from metrics_lib.reporting.runner.execute import render_notebook

    png = "iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mP8z8BQDwAEhQGAhKmMIQAAAABJRU5ErkJggg=="
    described = {"image/png": {"width": 450, "height": 225, "alt": 'Chart: NPS "mix" <by period>'}}
    nb = nbformat.v4.new_notebook()
    nb.cells = [
        nbformat.v4.new_code_cell(
            "plot()",
            outputs=[
                nbformat.v4.new_output("display_data", data={"image/png": png}, metadata=described),
                nbformat.v4.new_output("display_data", data={"image/png": png}),
            ],
        )
    ]
    images = BeautifulSoup(render_notebook(nb, title="t"), "html.parser").find_all("img")
    assert [(i["alt"], i.get("width"), i.get("height")) for i in images] == [
        ('Chart: NPS "mix" <by period>', "450", "225"),
        ("No description has been provided for this image", None, None),  # nbconvert's default
    ]
