"""The planted effects of the demo data: :class:`DemoEffects` and the checks of its values.

Every effect the generator plants (the strategy change and what it moves, churn by NPS group,
seasonality, segment mix, prices, campaign lift, ...) is a documented field of the frozen
dataclass :class:`DemoEffects`, validated on construction, so a reader knows what the metrics
should find and the generator can be re-run with other settings.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class DemoEffects:
    """Every effect planted in the demo data, so a reader knows what the metrics should find.

    Fields named ``*_before`` / ``*_after`` switch on ``strategy_change_date``; three-element
    tuples are in the order (SMB, Mid-Market, Enterprise) or (detractor, passive, promoter) as
    named.

    Attributes
    ----------
    strategy_change_date : str
        ISO date on which the company rolled out a CRM and started a customer-success programme.
        Event-level effects (surveys, tickets, deals) switch on the event's own date; monthly
        processes (churn, retention spend) switch in the first month starting on or after it.
    csat_satisfied_before, csat_satisfied_after : float
        Share of CSAT answers (1-5) that are 4 or 5. Default 0.70 -> 0.84: CSAT % rises by about
        14 points.
    ces_mean_before, ces_mean_after : float
        Mean customer-effort answer on 1-7 (7 = very easy) for a ticket solved in one contact;
        every extra contact costs half a point. Default 4.6 -> 5.5.
    nps_promoters_before, nps_detractors_before, nps_promoters_after, nps_detractors_after : float
        Share of customers whose latent sentiment makes them promoters / detractors before and
        after. Each customer has a sentiment ``u ~ U(0, 1)``; below the detractor share they are
        a detractor, above ``1 - promoter share`` a promoter. Their NPS answers are drawn within
        that group. Defaults 0.32 / 0.35 before and 0.47 / 0.18 after: a population NPS of -3
        and +29; because detractors churn first, the NPS measured on surveyed (active) customers
        comes out at about +5 before and +35 after.
    first_response_hours_before, first_response_hours_after : float
        Median hours from a ticket being opened to the first answer (lognormal). Default 6.0 ->
        1.5: the share answered within 2 hours jumps.
    first_contact_resolution_before, first_contact_resolution_after : float
        Probability that a ticket is solved in one contact. Default 0.62 -> 0.78.
    churn_multiplier_after : float
        Multiplier on every customer's monthly churn hazard after the change. Default 0.6.
    nps_churn_multipliers : tuple of 3 floats
        Multiplier on the monthly churn hazard by the customer's current NPS group (detractor,
        passive, promoter). Default (2.5, 1.0, 0.5): detractors churn five times as often as
        promoters.
    segment_monthly_churn : tuple of 3 floats
        Base monthly churn hazard of a passive customer before the change, by segment. Default
        (0.028, 0.016, 0.009). Churn happens either as a mid-term cancellation or as a
        non-renewal at the end of the annual term (see ``mid_term_cancel_share``).
    mid_term_cancel_share : float
        Part of the hazard realised as mid-term cancellations; the rest accumulates over the
        term into the probability of not renewing. Default 0.5.
    sales_cycle_days_before, sales_cycle_days_after : float
        Median days from deal creation to close for new business (lognormal); renewal and
        expansion deals move in proportion. Default 60 -> 40.
    win_probability_before, win_probability_after : float
        Share of closed new-business deals that are won (lost prospects are drawn around each
        won deal at the odds ``(1 - p) / p``). Default 0.22 -> 0.32.
    seasonality : tuple of 12 floats
        Multiplier by calendar month (January first) on signups, add-on purchases and web
        traffic. Default: Q4 high (1.1-1.25), July and August low (0.8).
    annual_signup_growth : float
        Yearly growth of the signup rate. Default 0.35.
    segment_shares : tuple of 3 floats
        Share of customers in each segment. Default (0.70, 0.22, 0.08).
    segment_median_mrr : tuple of 3 floats
        Median monthly recurring revenue at signup by segment (lognormal). Default (250, 1200,
        5000).
    mrr_sigma : float
        Log-scale spread of MRR within a segment. Default 0.7.
    segment_monthly_tickets : tuple of 3 floats
        Support tickets per active customer-month for a passive customer, by segment. Default
        (0.15, 0.4, 1.0).
    nps_ticket_multipliers : tuple of 3 floats
        Multiplier on the ticket rate by NPS group. Default (1.4, 1.0, 0.8).
    segment_monthly_addons : tuple of 3 floats
        Add-on purchases (upsells and cross-sells) per active customer-month in an average
        month, by segment, before seasonality. Default (0.22, 0.4, 0.7).
    renewal_mrr_change : tuple of 3 floats
        Median log change of MRR at renewal by NPS group: detractors contract, promoters expand.
        Default (-0.06, 0.02, 0.08).
    cost_ratio_beta : tuple of 2 floats
        Beta(a, b) parameters of each customer's cost-to-revenue ratio (services cost a quarter
        more, upsells a tenth less). The wide default (1.2, 1.8), mean 0.4, spreads gross
        margins from near zero to above 90 %. With the MRR spread it keeps all four profit x
        loyalty groups well populated (split at the medians of gross profit and tenure, the two
        off-diagonal groups each hold about 15 % of customers: gross profit grows with tenure,
        so they can never reach 25 %).
    campaign_conversion_treatment, campaign_conversion_control : float
        Conversion probability of campaign members who got the campaign and of the held-out
        control group. Default 0.10 vs 0.06: a 4-point lift.
    campaign_control_share : float
        Share of campaign members held out as control. Default 0.10.
    retention_spend_per_customer_before, retention_spend_per_customer_after : float
        Monthly customer-success spend per active customer. Default 10 -> 25: retention spend
        rises after the change.
    referrer_weights : tuple of 3 floats
        Relative chance of being named as referrer by NPS group. Default (0.3, 1.0, 3.0):
        promoters refer most.
    """

    strategy_change_date: str = "2024-07-01"
    csat_satisfied_before: float = 0.70
    csat_satisfied_after: float = 0.84
    ces_mean_before: float = 4.6
    ces_mean_after: float = 5.5
    nps_promoters_before: float = 0.32
    nps_detractors_before: float = 0.35
    nps_promoters_after: float = 0.47
    nps_detractors_after: float = 0.18
    first_response_hours_before: float = 6.0
    first_response_hours_after: float = 1.5
    first_contact_resolution_before: float = 0.62
    first_contact_resolution_after: float = 0.78
    churn_multiplier_after: float = 0.6
    nps_churn_multipliers: tuple[float, float, float] = (2.5, 1.0, 0.5)
    segment_monthly_churn: tuple[float, float, float] = (0.028, 0.016, 0.009)
    mid_term_cancel_share: float = 0.5
    sales_cycle_days_before: float = 60.0
    sales_cycle_days_after: float = 40.0
    win_probability_before: float = 0.22
    win_probability_after: float = 0.32
    seasonality: tuple[float, ...] = (0.95, 0.95, 1.0, 1.0, 1.0, 0.95, 0.8, 0.8, 1.0, 1.1, 1.2, 1.25)
    annual_signup_growth: float = 0.35
    segment_shares: tuple[float, float, float] = (0.70, 0.22, 0.08)
    segment_median_mrr: tuple[float, float, float] = (250.0, 1200.0, 5000.0)
    mrr_sigma: float = 0.7
    segment_monthly_tickets: tuple[float, float, float] = (0.15, 0.4, 1.0)
    nps_ticket_multipliers: tuple[float, float, float] = (1.4, 1.0, 0.8)
    segment_monthly_addons: tuple[float, float, float] = (0.22, 0.4, 0.7)
    renewal_mrr_change: tuple[float, float, float] = (-0.06, 0.02, 0.08)
    cost_ratio_beta: tuple[float, float] = (1.2, 1.8)
    campaign_conversion_treatment: float = 0.10
    campaign_conversion_control: float = 0.06
    campaign_control_share: float = 0.10
    retention_spend_per_customer_before: float = 10.0
    retention_spend_per_customer_after: float = 25.0
    referrer_weights: tuple[float, float, float] = (0.3, 1.0, 3.0)

    def __post_init__(self) -> None:
        try:
            dt.date.fromisoformat(str(self.strategy_change_date))
        except ValueError:
            raise ValueError(
                f"`strategy_change_date` ({self.strategy_change_date!r}) must be an ISO date "
                "such as '2024-07-01'"
            ) from None
        for name, (low, high) in _SCALAR_RANGES.items():
            _check_range(name, getattr(self, name), low, high)
        for era in ("before", "after"):
            total = getattr(self, f"nps_promoters_{era}") + getattr(self, f"nps_detractors_{era}")
            if total > 1:
                raise ValueError(
                    f"`nps_promoters_{era}` + `nps_detractors_{era}` ({total:g}) cannot exceed 1"
                )
        for name, size in _TUPLE_SIZES.items():
            values = tuple(float(v) for v in getattr(self, name))
            if len(values) != size:
                raise ValueError(f"`{name}` needs {size} values, got {len(values)}")
            if name != "renewal_mrr_change" and min(values) < 0:
                raise ValueError(f"`{name}` ({values}) cannot hold negative values")
            object.__setattr__(self, name, values)  # lists become tuples, numbers floats
        if min(self.cost_ratio_beta) <= 0:
            raise ValueError(f"`cost_ratio_beta` ({self.cost_ratio_beta}) must be positive")
        if not np.isclose(sum(self.segment_shares), 1.0):
            raise ValueError(f"`segment_shares` ({self.segment_shares}) must sum to 1")
        if max(self.segment_monthly_churn) * max(self.nps_churn_multipliers) >= 1:
            raise ValueError(
                "`segment_monthly_churn` x `nps_churn_multipliers` must stay below 1 (a monthly hazard)"
            )

    def to_dict(self) -> dict[str, object]:
        """Plain Python values (tuples as lists) for YAML or JSON."""
        return {
            key: list(val) if isinstance(val, tuple) else val for key, val in dataclasses.asdict(self).items()
        }


_PROBABILITY = (0.0, 1.0)
_POSITIVE = (1e-9, np.inf)
_SCALAR_RANGES = {
    "csat_satisfied_before": _PROBABILITY,
    "csat_satisfied_after": _PROBABILITY,
    "ces_mean_before": (1.0, 7.0),
    "ces_mean_after": (1.0, 7.0),
    "nps_promoters_before": _PROBABILITY,
    "nps_detractors_before": _PROBABILITY,
    "nps_promoters_after": _PROBABILITY,
    "nps_detractors_after": _PROBABILITY,
    "first_response_hours_before": _POSITIVE,
    "first_response_hours_after": _POSITIVE,
    "first_contact_resolution_before": _PROBABILITY,
    "first_contact_resolution_after": _PROBABILITY,
    "churn_multiplier_after": (0.0, np.inf),
    "mid_term_cancel_share": _PROBABILITY,
    "sales_cycle_days_before": _POSITIVE,
    "sales_cycle_days_after": _POSITIVE,
    "win_probability_before": (0.01, 1.0),
    "win_probability_after": (0.01, 1.0),
    "annual_signup_growth": (-0.99, np.inf),
    "mrr_sigma": (0.0, np.inf),
    "campaign_conversion_treatment": _PROBABILITY,
    "campaign_conversion_control": _PROBABILITY,
    "campaign_control_share": _PROBABILITY,
    "retention_spend_per_customer_before": (0.0, np.inf),
    "retention_spend_per_customer_after": (0.0, np.inf),
}
_TUPLE_SIZES = {
    "nps_churn_multipliers": 3,
    "segment_monthly_churn": 3,
    "seasonality": 12,
    "segment_shares": 3,
    "segment_median_mrr": 3,
    "segment_monthly_tickets": 3,
    "nps_ticket_multipliers": 3,
    "segment_monthly_addons": 3,
    "renewal_mrr_change": 3,
    "cost_ratio_beta": 2,
    "referrer_weights": 3,
}


def _check_range(name: str, value: float, low: float, high: float) -> None:
    if not low <= float(value) <= high:
        raise ValueError(f"`{name}` ({value}) must be between {low:g} and {high:g}")
