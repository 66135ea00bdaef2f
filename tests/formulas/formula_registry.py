"""The formula registry of test_common.py: one valid call, one undefined call and the checks to run
for each public formula of :mod:`metrics_lib.formulas`, one section per family module.

:data:`REGISTRIES` maps a family module's name to its registry, a ``dict`` of formula name to
spec; test_common.py's docstring documents the spec format. The example data are built here, at
import time of the tests, not in the package.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from metrics_lib.core.results import NAN, NPSResult, ValueResult
from metrics_lib.formulas.advocacy import (
    bounce_rate,
    referral_rate,
    referrals_per_referrer,
    review_summary,
    web_engagement_summary,
)
from metrics_lib.formulas.classification import auc as risk_auc
from metrics_lib.formulas.classification import calibration_table, top_decile_lift
from metrics_lib.formulas.health import (
    auc,
    health_score,
    healthy_share,
)
from metrics_lib.formulas.marketing import (
    campaign_roi,
    control_group_lift,
    incremental_campaign_roi,
    minimum_detectable_lift,
)
from metrics_lib.formulas.pipeline import (
    average_deal_size,
    close_rate,
    sales_cycle_length,
    sales_velocity,
    stage_funnel,
    time_in_stage,
    upsell_rate,
    win_rate,
)
from metrics_lib.formulas.relationships import (
    assign_relationship_group,
    group_transition_matrix,
)
from metrics_lib.formulas.retention import (
    CohortRetention,
    churn_rate,
    cohort_retention,
    convert_churn_rate,
    gross_revenue_retention,
    net_revenue_retention,
    renewal_rate,
    repeat_customer_rate,
    retention_rate,
)
from metrics_lib.formulas.satisfaction import (
    ces,
    compare_nps,
    csat,
    csat_from_counts,
    nps,
    nps_from_counts,
)
from metrics_lib.formulas.service import (
    first_contact_resolution,
    response_time_summary,
    response_within_target,
    unanswered_share,
)
from metrics_lib.formulas.subscriptions import arpa, mrr_movements, quick_ratio
from metrics_lib.formulas.value import (
    average_order_value,
    cac,
    cac_payback_months,
    clv_four_step,
    clv_simple,
    gross_margin,
    gross_profit,
    ltv_cac_ratio,
    retention_cost_per_client,
    return_rate,
)

# -- satisfaction ------------------------------------------------------------------------------


def _no_answers_nps() -> NPSResult:
    """An NPSResult with no answers, built without warning (for the registry's empty call)."""
    return NPSResult(NAN, 0, 0, 0, 0, NAN, NAN, NAN, reason="NPS is undefined: no answers")


_EXAMPLE_SCORES = [5, 4, 4, 3, 5, 2, 5, 4, 1, 5, 3, 4]
_EXAMPLE_NPS = [10, 9, 9, 8, 7, 6, 3, 10, 9, 0, 8, 10, 5, 9]

SATISFACTION: dict[str, dict] = {
    "csat": {
        "func": csat,
        "args": (_EXAMPLE_SCORES,),
        "bounds": (0.0, 1.0),
        "empty": {"args": ([],)},
        "arrays": (0,),
        "intervals": (("value", "ci"),),
    },
    "csat_from_counts": {
        "func": csat_from_counts,
        "args": (80, 100),
        "bounds": (0.0, 1.0),
        "empty": {"args": (0, 0)},
    },
    "nps": {
        "func": nps,
        "args": (_EXAMPLE_NPS,),
        "bounds": (-100.0, 100.0),
        "empty": {"args": ([],)},
        "arrays": (0,),
    },
    "nps_from_counts": {
        "func": nps_from_counts,
        "args": (50, 30, 20),
        "bounds": (-100.0, 100.0),
        "empty": {"args": (0, 0, 0)},
    },
    "compare_nps": {
        "func": compare_nps,
        "args": (nps_from_counts(50, 30, 20), nps_from_counts(40, 30, 30)),
        "bounds": (-200.0, 200.0),
        "empty": {"args": (_no_answers_nps(), nps_from_counts(40, 30, 30))},
    },
    "ces": {
        "func": ces,
        "args": ([7, 6, 5, 3, 2, 6, 7, 4, 1],),
        "bounds": (1.0, 7.0),
        "empty": {"args": ([],)},
        "arrays": (0,),
    },
}


# -- retention ---------------------------------------------------------------------------------

_EXAMPLE_ACTIVITY = pd.DataFrame(
    {
        "customer_id": ["a", "a", "a", "b", "b", "c", "d", "d", "e", "e", "f"],
        "cohort": ["2025-01"] * 6 + ["2025-02"] * 4 + ["2025-03"],
        "period_index": [0, 1, 2, 0, 2, 0, 0, 1, 0, 1, 0],
    }
)


def _matrix_values(result: CohortRetention) -> np.ndarray:
    values = result.matrix.to_numpy(dtype=float).ravel()
    return values[~np.isnan(values)]


RETENTION: dict[str, dict] = {
    "churn_rate": {"func": churn_rate, "args": (100, 10), "bounds": (0.0, 1.0), "empty": {"args": (0, 0)}},
    "retention_rate": {
        "func": retention_rate,
        "args": (100, 90),
        "bounds": (0.0, 1.0),
        "empty": {"args": (0, 0)},
    },
    "convert_churn_rate": {
        "func": convert_churn_rate,
        "args": (0.05,),
        "kwargs": {"days_measured": 30, "days_target": 90},
        "bounds": (0.0, 1.0),
        "empty": {"args": (NAN,)},
    },
    "repeat_customer_rate": {
        "func": repeat_customer_rate,
        "args": (30, 120),
        "bounds": (0.0, 1.0),
        "empty": {"args": (0, 0)},
    },
    "renewal_rate": {"func": renewal_rate, "args": (45, 50), "bounds": (0.0, 1.0), "empty": {"args": (0, 0)}},
    "gross_revenue_retention": {
        "func": gross_revenue_retention,
        "args": (10_000, 500, 300),
        "bounds": (0.0, 1.0),
        "empty": {"args": (0, 0, 0)},
    },
    "net_revenue_retention": {
        "func": net_revenue_retention,
        "args": (10_000, 1_500, 300, 500),
        "bounds": (0.0, None),
        "empty": {"args": (0, 0, 0, 0)},
    },
    "cohort_retention": {
        "func": cohort_retention,
        "args": (_EXAMPLE_ACTIVITY,),
        "bounds": (0.0, 1.0),
        "arrays": (0,),
        "value_of": _matrix_values,
        "empty": {"args": (_EXAMPLE_ACTIVITY.iloc[:0],)},
    },
}


# -- value -------------------------------------------------------------------------------------


def _undefined_value() -> ValueResult:
    """An undefined result built without warning (for the registry's empty calls)."""
    return ValueResult(NAN, reason="no data")


VALUE: dict[str, dict] = {
    "average_order_value": {
        "func": average_order_value,
        "args": (400, 4),
        "kwargs": {"order_values": [80, 120, 90, 110]},
        "bounds": (0.0, None),
        "arrays": ("order_values",),
        "empty": {"args": (0, 0), "kwargs": {"order_values": []}},
    },
    "clv_simple": {
        "func": clv_simple,
        "args": (100, 4, 5),
        "bounds": (0.0, None),
        "empty": {"args": (_undefined_value(), 4, 5)},
    },
    "clv_four_step": {
        "func": clv_four_step,
        "args": (50_000, 500, 125),
        "kwargs": {"annual_churn_rate": 0.2, "gross_margin": 0.4},
        "bounds": (0.0, None),
        "empty": {"args": (0, 0, 0)},
    },
    "cac": {"func": cac, "args": (50_000, 250), "bounds": (0.0, None), "empty": {"args": (1_000, 0)}},
    "ltv_cac_ratio": {
        "func": ltv_cac_ratio,
        "args": (600, 200),
        "bounds": (None, None),
        "empty": {"args": (600, 0)},
    },
    "cac_payback_months": {
        "func": cac_payback_months,
        "args": (200, 25),
        "bounds": (0.0, None),
        "empty": {"args": (200, 0)},
    },
    "retention_cost_per_client": {
        "func": retention_cost_per_client,
        "args": (9_000, 450),
        "bounds": (0.0, None),
        "empty": {"args": (9_000, 0)},
    },
    "gross_profit": {
        "func": gross_profit,
        "args": ([100, 250, 50, 80], [60, 150, 40, 20]),
        "bounds": (None, None),
        "arrays": (0, 1),
    },
    "gross_margin": {
        "func": gross_margin,
        "args": ([100, 250, 50, 80], [60, 150, 40, 20]),
        "bounds": (None, 1.0),
        "arrays": (0, 1),
        "empty": {"args": ([], [])},
    },
    "return_rate": {
        "func": return_rate,
        "args": (70, 1_000),
        "bounds": (0.0, None),
        "empty": {"args": (0, 0)},
    },
}


# -- pipeline ----------------------------------------------------------------------------------

_EXAMPLE_HISTORY = pd.DataFrame(
    {
        "deal_id": [1, 1, 1, 2, 2, 3],
        "stage": ["lead", "proposal", "won", "lead", "proposal", "lead"],
        "entered_at": pd.to_datetime(
            ["2025-01-01", "2025-01-11", "2025-01-15", "2025-01-05", "2025-01-25", "2025-02-01"]
        ),
    }
)

PIPELINE: dict[str, dict] = {
    "close_rate": {"func": close_rate, "args": (10, 100), "bounds": (0.0, 1.0), "empty": {"args": (0, 0)}},
    "win_rate": {"func": win_rate, "args": (30, 70), "bounds": (0.0, 1.0), "empty": {"args": (0, 0)}},
    "upsell_rate": {"func": upsell_rate, "args": (15, 200), "bounds": (0.0, 1.0), "empty": {"args": (0, 0)}},
    "average_deal_size": {
        "func": average_deal_size,
        "args": ([1000.0, 3000.0, 2000.0, 500.0],),
        "bounds": (0.0, None),
        "empty": {"args": ([],)},
        "arrays": (0,),
    },
    "sales_cycle_length": {
        "func": sales_cycle_length,
        "args": ([12, 30, 45, 7, 90, 21, 33, 60, 14, 28],),
        "bounds": (0.0, None),
        "empty": {"args": ([],)},
        "arrays": (0,),
        "intervals": (("value", "ci"), ("mean", "mean_ci")),
    },
    "sales_velocity": {
        "func": sales_velocity,
        "args": (50, 0.2, 10_000, 40),
        "bounds": (0.0, None),
        "empty": {"args": (50, 0.2, 10_000, 0)},
    },
    "time_in_stage": {
        "func": time_in_stage,
        "args": (_EXAMPLE_HISTORY,),
        "kwargs": {"as_of": "2025-03-01", "stage_order": ["lead", "proposal"]},
        "bounds": (0.0, None),
        "arrays": (0,),
        "value_of": lambda t: t[["mean_days", "median_days"]].to_numpy(),
    },
    "stage_funnel": {
        "func": stage_funnel,
        "args": (_EXAMPLE_HISTORY, ["lead", "proposal", "won"]),
        "bounds": (0.0, 1.0),
        "arrays": (0,),
        "value_of": lambda t: t["share_of_first"].to_numpy(),
    },
}


# -- service -----------------------------------------------------------------------------------

SERVICE: dict[str, dict] = {
    "first_contact_resolution": {
        "func": first_contact_resolution,
        "args": (72, 90),
        "bounds": (0.0, 1.0),
        "empty": {"args": (0, 0)},
    },
    "response_time_summary": {
        "func": response_time_summary,
        "args": ([0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10, 0.25, 2.5],),
        "bounds": (0.0, None),
        "empty": {"args": ([],)},
        "arrays": (0,),
        "value_of": lambda s: [s.median, s.mean, s.p90],
        "intervals": (("value", "ci"), ("mean", "mean_ci")),
    },
    "response_within_target": {
        "func": response_within_target,
        "args": ([0.5, 1.0, 3.0, np.nan, np.nan, 2.0], [np.nan, np.nan, np.nan, 30.0, 1.0, np.nan]),
        "bounds": (0.0, 1.0),
        "arrays": (0, 1),
        "empty": {"args": ([np.nan], [1.0])},
    },
    "unanswered_share": {
        "func": unanswered_share,
        "args": (2, 10),
        "bounds": (0.0, 1.0),
        "empty": {"args": (0, 0)},
    },
}


# -- advocacy ----------------------------------------------------------------------------------

ADVOCACY: dict[str, dict] = {
    "referral_rate": {
        "func": referral_rate,
        "args": (12, 80),
        "bounds": (0.0, 1.0),
        "empty": {"args": (0, 0)},
    },
    "referrals_per_referrer": {
        "func": referrals_per_referrer,
        "args": (30, 20),
        "bounds": (0.0, None),
        "empty": {"args": (0, 0)},
    },
    "review_summary": {
        "func": review_summary,
        "args": ([5, 4, 3, 5, 1, 2, 4, 5],),
        "bounds": (1.0, 5.0),
        "empty": {"args": ([],)},
        "arrays": (0,),
        "value_of": lambda s: [s.value, s.mean.value],
    },
    "bounce_rate": {
        "func": bounce_rate,
        "args": (450, 1000),
        "bounds": (0.0, 1.0),
        "empty": {"args": (0, 0)},
    },
    "web_engagement_summary": {
        "func": web_engagement_summary,
        "args": ([400, 600], [1500, 2000], [200, 250], [90_000, 120_000]),
        "bounds": (0.0, None),
        "arrays": (0, 1, 2, 3),
        "empty": {"args": ([0, 0], [0, 0], [0, 0], [0, 0])},
        "value_of": lambda w: [w.value, w.pages_per_session.value, w.average_time_on_page_s.value],
    },
}


# -- marketing ---------------------------------------------------------------------------------

MARKETING: dict[str, dict] = {
    "campaign_roi": {
        "func": campaign_roi,
        "args": (15_000, 10_000),
        "bounds": (-1.0, None),
        "empty": {"args": (15_000, 0)},
    },
    "control_group_lift": {
        "func": control_group_lift,
        "args": (120, 1000, 100, 1000),
        "kwargs": {"treated_revenue": 60_000, "control_revenue": 50_000, "cost": 4_000},
        "bounds": (-1.0, 1.0),
        "empty": {"args": (0, 0, 100, 1000)},
        "value_of": lambda r: [r.value, r.treated.value],
    },
    "incremental_campaign_roi": {
        "func": incremental_campaign_roi,
        # three campaigns: per-group members, revenue and its standard deviation, then the cost
        "args": (
            [1000, 400, 0],
            [60_000.0, 9_000.0, 0.0],
            [150.0, 40.0, NAN],
            [1000, 100, 50],
            [50_000.0, 2_000.0, 900.0],
            [140.0, 30.0, 12.0],
            6_000,
        ),
        "kwargs": {"gross_margin": 0.5},
        "empty": {
            "args": (
                [1000, 400, 0],
                [60_000.0, 9_000.0, 0.0],
                [150.0, 40.0, NAN],
                [1000, 100, 50],
                [50_000.0, 2_000.0, 900.0],
                [140.0, 30.0, 12.0],
                0,
            )
        },
        "arrays": (0, 1, 2, 3, 4, 5),
    },
    "minimum_detectable_lift": {
        "func": minimum_detectable_lift,
        "args": (0.10, 1000, 1000),
        "bounds": (0.0, 0.9),
        "empty": {"args": (0.10, 0, 1000)},
    },
}


# -- health ------------------------------------------------------------------------------------

HEALTH: dict[str, dict] = {
    "health_score": {
        "func": health_score,
        "args": (
            pd.DataFrame(
                {
                    "recency": [1.0, 0.0, 0.5, 0.9],
                    "nps": [0.8, 0.2, np.nan, 1.0],
                    "renewal": [1.0, np.nan, 0.0, 1.0],
                },
                index=pd.Index(["a", "b", "c", "d"], name="customer_id"),
            ),
        ),
        "bounds": (1.0, 10.0),
        "arrays": (0,),
        "value_of": lambda s: s.to_numpy(),
    },
    "healthy_share": {
        "func": healthy_share,
        "args": ([9.1, 7.0, 6.99, 4.2, 8.5],),
        "bounds": (0.0, 1.0),
        "arrays": (0,),
        "empty": {"args": ([],)},
    },
    "auc": {
        "func": auc,
        "args": ([9, 8, 7, 3, 2, 5, 5, 6], [0, 0, 1, 0, 1, 1, 0, 0]),
        "bounds": (0.0, 1.0),
        "arrays": (0, 1),
        "empty": {"args": ([9, 8], [0, 0])},
    },
}


# -- classification ----------------------------------------------------------------------------

CLASSIFICATION: dict[str, dict] = {
    "auc": {
        "func": risk_auc,
        "args": ([0.9, 0.8, 0.7, 0.3, 0.2, 0.5, 0.5, 0.6], [1, 1, 0, 1, 0, 0, 1, 1]),
        "bounds": (0.0, 1.0),
        "arrays": (0, 1),
        "empty": {"args": ([0.9, 0.8], [1, 1])},
    },
    "top_decile_lift": {
        "func": top_decile_lift,
        "args": ([0.9, 0.8, 0.7, 0.3, 0.2, 0.5, 0.5, 0.6, 0.1, 0.4], [1, 1, 0, 1, 0, 0, 1, 0, 0, 0]),
        "bounds": (0.0, None),
        "arrays": (0, 1),
        "empty": {"args": ([0.9, 0.8], [0, 0])},
    },
    "calibration_table": {
        "func": calibration_table,
        "args": ([0.9, 0.8, 0.7, 0.3, 0.2, 0.5, 0.5, 0.6, 0.1, 0.4], [1, 1, 0, 1, 0, 0, 1, 0, 0, 0]),
        "kwargs": {"bins": 3},
        "bounds": (0.0, 1.0),
        "arrays": (0, 1),
        "value_of": lambda t: t["observed"].to_numpy(),
    },
}


# -- relationships -----------------------------------------------------------------------------

RELATIONSHIPS: dict[str, dict] = {
    "assign_relationship_group": {
        "func": assign_relationship_group,
        "args": ([10, 50, 20, 80, 20], [1, 2, 9, 7, 2]),
        "bounds": (0, 3),
        "arrays": (0, 1),
        "value_of": lambda s: s.cat.codes.to_numpy(),
        "key": lambda s: s.value_counts().sort_index().to_dict(),
    },
    "group_transition_matrix": {
        "func": group_transition_matrix,
        "args": (
            ["stranger", "barnacle", "barnacle", "true friend"],
            ["butterfly", "barnacle", "true friend", "true friend"],
        ),
        "bounds": (0, None),
        "arrays": (0, 1),
        "value_of": lambda t: t.counts.to_numpy(),
    },
}


SUBSCRIPTIONS = {
    "mrr_movements": {
        "func": mrr_movements,
        "args": (
            [100.0, 50.0, 0.0, 0.0, 80.0],
            [120.0, 0.0, 30.0, 40.0, 60.0],
            [True, True, False, True, True],
        ),
        "bounds": (0.0, None),
        "arrays": (0, 1, 2),
        "value_of": lambda m: [m.start, m.new, m.expansion, m.reactivation, m.contraction, m.churned, m.end],
    },
    "quick_ratio": {
        "func": quick_ratio,
        "args": (3_000, 1_000, 500, 500, 1_000),
        "bounds": (0.0, None),
        "empty": {"args": (3_000, 0, 0, 0, 0)},
    },
    "arpa": {
        "func": arpa,
        "args": (375.0, 5),
        "kwargs": {"mrr_std": 47.17},
        "bounds": (0.0, None),
        "empty": {"args": (0, 0)},
    },
}


#: Registry of each family module, by module name.
REGISTRIES: dict[str, dict[str, dict]] = {
    "satisfaction": SATISFACTION,
    "retention": RETENTION,
    "value": VALUE,
    "pipeline": PIPELINE,
    "service": SERVICE,
    "advocacy": ADVOCACY,
    "marketing": MARKETING,
    "health": HEALTH,
    "classification": CLASSIFICATION,
    "relationships": RELATIONSHIPS,
    "subscriptions": SUBSCRIPTIONS,
}
