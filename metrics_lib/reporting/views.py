"""The report sections' sentences and small summary tables: what the metrics layer's numbers say,
in words, as the notebooks show them.

The metrics layer returns numbers (unrounded, with their cut points, p-values and shares as
fields); everything a reader sees as text is written here, through :mod:`.format`:

* :func:`clv_steps_table`: the headline CLV step by step, each value in its unit;
* :class:`CLVModelsView`: the probabilistic CLV models with their :meth:`~CLVModelsView.summary`;
* :func:`describe_bands`: the health bands' cut points and where they come from;
* :class:`HealthValidationView`: whether the health score predicts churn, with its
  :attr:`~HealthValidationView.reading`, :attr:`~HealthValidationView.separation` and
  :meth:`~HealthValidationView.summary`;
* :func:`nps_churn_verdict`: whether detractors churn differently from promoters;
* :func:`detectable_lift_table`: each campaign's lift against the smallest lift its groups detect.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields

import pandas as pd

from metrics_lib.core.results import ComparisonResult
from metrics_lib.formulas import health
from metrics_lib.metrics.analyses import NPSChurn
from metrics_lib.metrics.clv_views import FREQUENCY_STEP, CLVView
from metrics_lib.metrics.health_views import BandCuts, HealthValidation
from metrics_lib.reporting.display import shown
from metrics_lib.reporting.format import format_change, format_p_value, format_value, format_window

__all__ = [
    "CLVModelsView",
    "HealthValidationView",
    "clv_steps_table",
    "describe_bands",
    "detectable_lift_table",
    "nps_churn_verdict",
]


def _fields(view) -> dict:
    return {f.name: getattr(view, f.name) for f in fields(view)}


def _percent(share: float) -> str:
    return format_value(share, "share")


def _points(share: float) -> str:
    """A share in percentage points, without sign or unit (``8.2``)."""
    return f"{100 * share:.1f}"


def _difference(comp: ComparisonResult) -> str:
    """``more by 8.2 points; p < 0.001``: the direction and size of a difference of two rates."""
    more = "more" if comp.value > 0 else "less"
    return f"{more} by {_points(abs(comp.value))} points; {format_p_value(comp.p_value)}"


def _summary(rows: list[tuple[str, str]]) -> pd.DataFrame:
    return shown(pd.DataFrame(rows, columns=["", "value"]).set_index(""))


# -- CLV -------------------------------------------------------------------------------------------
def clv_steps_table(steps: pd.DataFrame) -> pd.DataFrame:
    """:func:`metrics_lib.metrics.clv_views.clv_steps` as a reader sees it: each ``value`` in its
    unit beside ``how`` it is computed (the purchase frequency divided by the share of the twelve
    months the orders cover, when below 1); ``attrs["window"]`` the twelve months in words."""
    how = steps["how"].copy()
    share = steps.attrs.get("share_of_year_covered", 1.0)
    if share < 1 and FREQUENCY_STEP in how.index:
        how[FREQUENCY_STEP] += f" / {share:.3f} (the share of the 12 months the orders cover)"
    values = [format_value(v, u) for v, u in zip(steps["value"], steps["unit"])]
    out = pd.DataFrame({"value": values, "how": how}, index=steps.index)
    out.attrs.update(steps.attrs)
    window = steps.attrs.get("window")
    out.attrs["window"] = "none" if window is None else format_window(window)
    return out


@dataclass(frozen=True)
class CLVModelsView(CLVView):
    """:class:`~metrics_lib.metrics.clv_views.CLVView` with its summary table."""

    @classmethod
    def of(cls, view: CLVView) -> CLVModelsView:
        return cls(**_fields(view))

    def summary(self) -> pd.DataFrame:
        """Customers, mean probability alive, expected purchases and CLV, as a small table."""
        k = self.key_numbers()
        if k is None:
            return shown(pd.DataFrame({"value": [self.note or "no customers"]}, index=["note"]))
        weeks = self.horizon_weeks
        interval = [
            (
                "  95% interval (mean of the customers' bounds)",
                f"{format_value(k.mean_clv_low, 'currency')} to {format_value(k.mean_clv_high, 'currency')}",
            )
        ]
        rows = dict(
            [
                ("customers modelled", format_value(k.customers, "count")),
                ("mean probability alive", _percent(k.mean_probability_alive)),
                (f"expected purchase days, next {weeks} weeks (mean)", f"{k.mean_expected_purchases:.2f}"),
                (f"discounted CLV, next {weeks} weeks (mean)", format_value(k.mean_clv, "currency")),
                *(interval if not math.isnan(k.mean_clv_low) else []),
                (
                    "discounted CLV of the top 10% of customers (share of all)",
                    _percent(k.top_decile_clv_share),
                ),
            ]
        )
        return shown(pd.DataFrame({"value": list(rows.values())}, index=list(rows)))


# -- health ----------------------------------------------------------------------------------------
def describe_bands(cuts: BandCuts) -> str:
    """The health bands' cut points and where they come from, in a sentence."""
    higher, middle, lower = health.RISK_BANDS
    bands = f"{higher} below {cuts.low:.2f}, {middle} from {cuts.low:.2f} to below {cuts.high:.2f}, {lower} from {cuts.high:.2f}"
    customers = format_value(cuts.customers, "count")
    if cuts.fixed:
        return (
            f"{bands}: the fixed cut points of the 1-10 scale, as the calibration period "
            f"{cuts.calibration} scored only {customers} customers (fewer than "
            f"{health.MIN_CALIBRATION_CUSTOMERS})"
        )
    return f"{bands}: the terciles of the {customers} scores at the end of {cuts.calibration}"


def _separation(comp: ComparisonResult) -> str:
    """Whether the higher-risk band churned more than the lower-risk band, in a sentence."""
    higher, _, lower = health.RISK_BANDS
    if math.isnan(comp.value):
        return f"not enough customers in the {higher} and {lower} bands to compare their churn"
    if comp.significant and comp.value > 0:
        sure = "the bands separate churn risk beyond noise"
    elif comp.significant:
        sure = "the bands point the wrong way"
    else:
        sure = "a difference within noise: the bands do not separate churn risk in this period"
    return (
        f"the {higher} band churned {_percent(comp.current)} against {_percent(comp.previous)} for "
        f"the {lower} band ({_difference(comp)}): {sure}"
    )


@dataclass(frozen=True)
class HealthValidationView(HealthValidation):
    """:class:`~metrics_lib.metrics.health_views.HealthValidation` with what it shows in words."""

    @classmethod
    def of(cls, validation: HealthValidation, **changes) -> HealthValidationView:
        return cls(**{**_fields(validation), **changes})

    @property
    def reading(self) -> str:
        """What the AUC says, in words: better than chance only when its interval is above 0.5."""
        low, high = self.auc_ci
        if math.isnan(self.auc):
            return self.note or self.reason or "undefined"
        if low > 0.5:
            return "the score separates customers who stayed from those who churned better than chance"
        if high < 0.5:
            return "the score points the wrong way: churners scored higher than customers who stayed"
        return "no evidence that the score predicts churn: its AUC is within noise of 0.5 (chance)"

    @property
    def separation(self) -> str:
        """Whether the higher-risk band churned more than the lower-risk one, in a sentence;
        empty when the bands were not compared."""
        return "" if self.band_comparison is None else _separation(self.band_comparison)

    def summary(self) -> pd.DataFrame:
        """Customers scored, churned, the AUC with its 95% interval and its reading, the bands'
        cut points and whether the bands separate churn."""
        low, high = self.auc_ci
        return _summary(
            [
                ("customers scored at the start", format_value(self.customers, "count")),
                ("churned in the period", format_value(self.churned, "count")),
                ("AUC (0.5 = chance, 1 = perfect)", "n/a" if math.isnan(self.auc) else f"{self.auc:.3f}"),
                ("AUC 95% CI", "n/a" if math.isnan(low) else f"{low:.3f} to {high:.3f}"),
                ("reading", self.reading),
                ("bands", describe_bands(self.cuts) if self.cuts else "n/a"),
                ("do the bands separate churn?", self.separation or "n/a"),
            ]
        )


# -- satisfaction and churn ------------------------------------------------------------------------
def nps_churn_verdict(result: NPSChurn) -> str:
    """Whether detractors churned differently from promoters, in a sentence."""
    comp = result.comparison
    if math.isnan(comp.value):
        return "Not enough answers to compare detractors with promoters in this period."
    sure = (
        "a difference beyond noise"
        if comp.significant
        else "a difference within noise: this data does not show that detractors churn differently"
    )
    return (
        f"Detractors churned at {_percent(comp.current)} against {_percent(comp.previous)} for "
        f"promoters ({_difference(comp)}): {sure}."
    )


# -- marketing -------------------------------------------------------------------------------------
def _lift_reading(row) -> str:
    """One campaign's lift against the smallest lift its groups could detect, in a sentence."""
    if row["treated"] == 0 or row["control"] == 0:
        return "no test: a group is empty"
    if math.isnan(row["detectable_lift"]):
        return "groups too small to detect even a treated conversion of 100%"
    mde, lift = _points(row["detectable_lift"]), format_change(row["lift"], "share")
    if row["significant"]:
        return f"lift of {lift} is beyond noise (these groups detect {mde} pp or more)"
    if row["lift"] >= row["detectable_lift"]:
        return f"lift of {lift} reaches the {mde} pp these groups detect, yet is within noise"
    return (
        f"these groups detect a lift of {mde} pp or more; the {lift} seen is below it, "
        "so the test cannot tell whether the campaign worked"
    )


def detectable_lift_table(lifts: pd.DataFrame) -> pd.DataFrame:
    """:func:`metrics_lib.metrics.campaigns.detectable_lifts` as a reader sees it: the control's
    conversion as a percentage, the lift seen and the smallest lift the groups detect in
    percentage points, and a sentence reading them (``reading``) in place of ``significant``."""
    columns = [c for c in lifts.columns if c != "significant"] + ["reading"]
    if lifts.empty:
        out = pd.DataFrame(columns=columns)
        out.index.name = lifts.index.name
        out.attrs.update(lifts.attrs)
        return shown(out)
    out = lifts[columns[:-1]].copy()
    out["reading"] = [_lift_reading(row) for _, row in lifts.iterrows()]
    out["control_rate"] = [format_value(v, "share") for v in lifts["control_rate"]]
    for col in ("lift", "detectable_lift"):
        out[col] = [format_change(v, "share") for v in lifts[col]]
    return shown(out)
