"""Marketing formulas: campaign ROI and control-group lift.

No database access and no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy import stats as sps

from metrics_lib.core.inputs import check_number
from metrics_lib.core.results import (
    NAN,
    NO_CI,
    ConfidenceInterval,
    RateResult,
    ValueResult,
    _Result,
    check_confidence_level,
    check_count,
    undefined,
)
from metrics_lib.core.stats import compare_rates, rate_result

__all__ = [
    "LiftResult",
    "campaign_roi",
    "control_group_lift",
]


def campaign_roi(attributed_gross_profit, cost) -> ValueResult:
    r"""Return on a campaign's cost: profit attributed to it, net of the cost, per unit of cost.

    .. math:: \text{ROI} = \frac{\text{attributed gross profit} - \text{cost}}{\text{cost}}

    Parameters
    ----------
    attributed_gross_profit : float
        Gross profit (revenue - cost of goods) attributed to the campaign; may be negative.
    cost : float
        The campaign's cost (>= 0).

    Returns
    -------
    ValueResult
        ``value`` as a ratio (0.5 = 50% return; -1 = the whole cost lost and nothing earned),
        ``numerator`` = profit - cost, ``denominator`` = cost; ``components`` holds the profit,
        the cost and the net profit: the campaign's profit-and-loss line.

    Raises
    ------
    ValueError
        If the profit is not a finite number or the cost is negative or not finite.

    Notes
    -----
    ROI uses gross profit, not revenue, so a campaign that sells at a loss cannot look good.
    A campaign with no cost has no ROI: NaN with a reason.

    Examples
    --------
    >>> r = campaign_roi(15_000, 10_000)
    >>> r.value, r.components["net_profit"]
    (0.5, 5000.0)
    """
    profit = check_number("attributed_gross_profit", attributed_gross_profit)
    c = check_count("cost", cost)
    net = profit - c
    components = {"attributed_gross_profit": profit, "cost": c, "net_profit": net}
    if c == 0:
        reason = undefined("campaign ROI is undefined: cost is 0")
        return ValueResult(NAN, net, c, unit="ratio", components=components, reason=reason)
    return ValueResult(net / c, net, c, unit="ratio", components=components)


@dataclass(frozen=True)
class LiftResult(_Result):
    """Conversion lift of a treated group over a held-out control group.

    ``value`` is the absolute lift (treated rate - control rate) with its Wald ``ci`` and the
    two-proportion z-test's ``p_value``. ``notes`` lists the reasons of secondary quantities that
    are undefined (e.g. the relative lift when the control never converted).
    """

    value: float
    treated: RateResult
    control: RateResult
    ci: ConfidenceInterval = NO_CI
    p_value: float = NAN
    statistic: float = NAN
    relative_lift: float = NAN
    incremental_conversions: float = NAN
    incremental_revenue: float = NAN
    incremental_roi: float = NAN
    cost: float = NAN
    test: str = "two-proportion z (pooled)"
    notes: tuple[str, ...] = ()
    reason: str | None = None

    @property
    def significant(self) -> bool:
        """True when the p-value is below ``1 - ci.level``."""
        return bool(not math.isnan(self.p_value) and self.p_value < 1 - self.ci.level)


def control_group_lift(treated_converted, treated_n, control_converted, control_n, *,
                       treated_revenue=None, control_revenue=None, cost=None,
                       confidence_level: float = 0.95) -> LiftResult:
    r"""Lift in conversion of a treated group over a held-out control, and what it earned.

    .. math::
        \Delta = p_t - p_c, \qquad
        \Delta \pm z_{1-\alpha/2}\sqrt{\frac{p_t(1-p_t)}{n_t} + \frac{p_c(1-p_c)}{n_c}}, \qquad
        \text{relative lift} = \frac{\Delta}{p_c}

    .. math::
        \text{incremental conversions} = \Delta\, n_t, \qquad
        \text{incremental revenue} = \left(\frac{R_t}{n_t} - \frac{R_c}{n_c}\right) n_t, \qquad
        \text{incremental ROI} = \frac{\text{incremental revenue} - \text{cost}}{\text{cost}}

    Parameters
    ----------
    treated_converted, treated_n : int
        Converted members and all members of the treated group.
    control_converted, control_n : int
        Converted members and all members of the control group.
    treated_revenue, control_revenue : float, optional
        Total revenue of each group over the same window; give both or neither.
    cost : float, optional
        The campaign's cost; needs both revenues.
    confidence_level : float, default 0.95
        Level of the intervals; the lift is ``significant`` when ``p_value < 1 - level``.

    Returns
    -------
    LiftResult
        ``value`` = absolute lift with Wald ``ci``, ``p_value`` and ``statistic`` of the pooled
        two-proportion z-test, ``treated`` and ``control`` (:class:`RateResult`),
        ``relative_lift``, ``incremental_conversions``, ``incremental_revenue`` and
        ``incremental_roi`` (NaN when their inputs were not given).

    Raises
    ------
    ValueError
        If a count is negative, converted exceeds members, a revenue or the cost is negative,
        only one revenue is given, or a cost is given without the revenues.

    Notes
    -----
    Revenue is compared per member, so groups of different sizes compare fairly, and scaled
    to the treated group: what the treatment added over what those members would have spent
    anyway. Pass gross profit instead of revenue to get a profit-based ROI, comparable with
    :func:`campaign_roi`.

    An empty group makes the lift undefined: NaN with a reason. When both groups have a share of
    0 (or both of 1) the test has no variance: ``p_value`` is 1 and the Wald interval collapses
    to the estimate. The Wald interval is poor for shares near 0 or 1 with small groups. A
    control that never converted makes ``relative_lift`` NaN; a cost of 0 makes
    ``incremental_roi`` NaN; both are explained in ``notes``.

    Examples
    --------
    >>> r = control_group_lift(120, 1000, 100, 1000, treated_revenue=60_000,
    ...                        control_revenue=50_000, cost=4_000)
    >>> round(r.value, 4), round(r.relative_lift, 4), round(r.incremental_conversions, 6)
    (0.02, 0.2, 20.0)
    >>> round(r.ci.low, 4), round(r.ci.high, 4), round(r.p_value, 4)
    (-0.0074, 0.0474, 0.1529)
    >>> r.incremental_revenue, r.incremental_roi
    (10000.0, 1.5)
    """
    level = check_confidence_level(confidence_level)
    treated = rate_result(treated_converted, treated_n, numerator_name="treated_converted",
                          denominator_name="treated_n", what="treated conversion rate",
                          confidence_level=level)
    control = rate_result(control_converted, control_n, numerator_name="control_converted",
                          denominator_name="control_n", what="control conversion rate",
                          confidence_level=level)
    if (treated_revenue is None) != (control_revenue is None):
        raise ValueError(
            f"`treated_revenue` ({treated_revenue!r}) and `control_revenue` ({control_revenue!r}) "
            "must be given together (or both left out)"
        )
    has_revenue = treated_revenue is not None
    rev_t = check_count("treated_revenue", treated_revenue) if has_revenue else NAN
    rev_c = check_count("control_revenue", control_revenue) if has_revenue else NAN
    if cost is not None and not has_revenue:
        raise ValueError(
            f"`cost` ({cost!r}) needs `treated_revenue` and `control_revenue` to give an "
            "incremental ROI"
        )
    c = check_count("cost", cost) if cost is not None else NAN

    if not (treated.defined and control.defined):
        empty = [name for name, r in (("treated", treated), ("control", control)) if not r.defined]
        reason = undefined(f"lift is undefined: the {' and '.join(empty)} group is empty")
        return LiftResult(NAN, treated, control, ConfidenceInterval(NAN, NAN, level, "wald"),
                          cost=c, reason=reason)

    pt, pc = treated.value, control.value
    nt, nc = treated.denominator, control.denominator
    lift = pt - pc
    se = math.sqrt(pt * (1 - pt) / nt + pc * (1 - pc) / nc)
    z = float(sps.norm.ppf(1 - (1 - level) / 2))
    ci = ConfidenceInterval(lift - z * se, lift + z * se, level, "wald")
    test = compare_rates(treated, control, alpha=1 - level)

    notes: list[str] = []
    if pc == 0:
        relative = NAN
        notes.append(undefined("relative lift is undefined: the control group's conversion rate is 0"))
    else:
        relative = lift / pc
    inc_revenue = (rev_t / nt - rev_c / nc) * nt if has_revenue else NAN
    inc_roi = NAN
    if cost is not None:
        if c == 0:
            notes.append(undefined("incremental ROI is undefined: cost is 0"))
        else:
            inc_roi = (inc_revenue - c) / c
    return LiftResult(
        value=lift, treated=treated, control=control, ci=ci, p_value=test.p_value,
        statistic=test.statistic, relative_lift=relative, incremental_conversions=lift * nt,
        incremental_revenue=inc_revenue, incremental_roi=inc_roi, cost=c, notes=tuple(notes),
    )
