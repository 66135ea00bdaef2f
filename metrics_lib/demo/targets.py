"""The demo company's targets: one per headline metric, written as ``targets.yml`` beside the
demo data so that its scorecard grades every number.

The values are what a business of the demo's size and story would aim for in 2025 (quarterly
totals for the amounts that grow with the period's length); the direction of each is the
catalogue's (a test checks). :func:`targets_yaml` gives the file's text, the same bytes on every
run.
"""

from __future__ import annotations

__all__ = ["DEMO_TARGETS", "targets_yaml"]

#: metric id -> (target, better direction, near, period length of a metric that depends on it)
DEMO_TARGETS: dict[str, tuple[float, str, float, str | None]] = {
    "revenue": (17_500_000, "higher", 1_000_000, "quarter"),
    "gross_profit": (10_500_000, "higher", 600_000, "quarter"),
    "gross_margin": (0.60, "higher", 0.02, None),
    "orders": (6_000, "higher", 300, "quarter"),
    "average_order_value": (2_800, "higher", 150, None),
    "active_customers": (3_000, "higher", 150, None),
    "new_customers": (450, "higher", 50, "quarter"),
    "repeat_customer_rate": (0.55, "higher", 0.05, "quarter"),
    "churn_rate": (0.03, "lower", 0.005, "quarter"),
    "retention_rate": (0.97, "higher", 0.005, "quarter"),
    "renewal_rate": (0.85, "higher", 0.03, None),
    "net_revenue_retention": (1.00, "higher", 0.01, "quarter"),
    "gross_revenue_retention": (0.95, "higher", 0.02, "quarter"),
    "mrr_new": (500_000, "higher", 50_000, "quarter"),
    "mrr_expansion": (60_000, "higher", 10_000, "quarter"),
    "mrr_reactivation": (5_000, "higher", 5_000, "quarter"),
    "mrr_contraction": (30_000, "lower", 5_000, "quarter"),
    "mrr_churned": (50_000, "lower", 10_000, "quarter"),
    "quick_ratio": (4.0, "higher", 1.0, "quarter"),
    "arpa": (1_200, "higher", 100, None),
    "return_rate": (0.05, "lower", 0.01, None),
    "new_revenue": (8_000_000, "higher", 500_000, "quarter"),
    "retention_cost_per_client": (100, "lower", 20, "quarter"),
    "clv": (75_000, "higher", 5_000, None),
    "cac": (9_000, "lower", 1_000, None),
    "ltv_cac_ratio": (3.0, "higher", 0.5, None),
    "csat": (0.80, "higher", 0.05, None),
    "nps": (30, "higher", 5, None),
    "ces": (5.0, "higher", 0.3, None),
    "close_rate": (0.40, "higher", 0.05, None),
    "win_rate": (0.45, "higher", 0.05, None),
    "average_deal_size": (10_000, "higher", 1_000, None),
    "sales_cycle_days": (30, "lower", 5, None),
    "sales_velocity": (150_000, "higher", 20_000, None),
    "upsell_rate": (0.50, "higher", 0.05, "quarter"),
    "first_contact_resolution": (0.75, "higher", 0.05, None),
    "first_response_hours_median": (2.0, "lower", 0.5, None),
    "first_response_hours_mean": (2.5, "lower", 0.5, None),
    "first_response_within_target": (0.80, "higher", 0.05, None),
    "unanswered_ticket_share": (0.02, "lower", 0.02, None),
    "referral_rate": (0.15, "higher", 0.03, None),
    "bounce_rate": (0.45, "lower", 0.05, None),
    "campaign_roi": (1.0, "higher", 0.5, None),
    "health_score_mean": (7.0, "higher", 0.5, None),
    "healthy_customer_share": (0.80, "higher", 0.05, None),
}

_HEADER = """\
# Targets of the demo company's scorecard: per headline metric, the target value, which direction
# is better, how far off still counts as "near", and for the metrics that depend on the period's
# length the length the target is meant for (`per`: month, quarter or year). Totals, the retention
# cost per client and churn or retention rates convert to other lengths; the repeat customer and
# upsell rates and the quick ratio apply to that length only.
# Shares are fractions (0.80 = 80%). Written by `metrics_lib demo-data`; edit a copy for your data.
targets:
"""


def _number(x: float) -> str:
    return repr(x)


def targets_yaml() -> str:
    """The demo's ``targets.yml``.

    Examples
    --------
    >>> targets_yaml().splitlines()[7]
    '  revenue: {target: 17500000, direction: higher, near: 1000000, per: quarter}'
    """
    lines = [_HEADER.rstrip("\n")]
    for metric, (target, direction, near, per) in DEMO_TARGETS.items():
        spec = f"target: {_number(target)}, direction: {direction}, near: {_number(near)}"
        if per:
            spec += f", per: {per}"
        lines.append(f"  {metric}: {{{spec}}}")
    return "\n".join(lines) + "\n"
