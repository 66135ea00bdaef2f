"""Marketing formulas: campaign ROI (on attributed or on incremental profit), control-group lift
and the smallest lift a campaign's group sizes can detect.

No database access and no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from scipy import stats as sps

from metrics_lib.core.inputs import check_alpha, check_number, check_values, check_whole_count, z_critical
from metrics_lib.core.results import (
    NAN,
    NO_CI,
    ConfidenceInterval,
    RateResult,
    Result,
    ValueResult,
    check_confidence_level,
    check_count,
    undefined,
)
from metrics_lib.core.stats import compare_rates, rate_result

__all__ = [
    "LiftResult",
    "campaign_roi",
    "control_group_lift",
    "incremental_campaign_roi",
    "minimum_detectable_lift",
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
class LiftResult(Result):
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


def control_group_lift(
    treated_converted,
    treated_n,
    control_converted,
    control_n,
    *,
    treated_revenue=None,
    control_revenue=None,
    cost=None,
    confidence_level: float = 0.95,
) -> LiftResult:
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
    treated = rate_result(
        treated_converted,
        treated_n,
        numerator_name="treated_converted",
        denominator_name="treated_n",
        what="treated conversion rate",
        confidence_level=level,
    )
    control = rate_result(
        control_converted,
        control_n,
        numerator_name="control_converted",
        denominator_name="control_n",
        what="control conversion rate",
        confidence_level=level,
    )
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
            f"`cost` ({cost!r}) needs `treated_revenue` and `control_revenue` to give an incremental ROI"
        )
    c = check_count("cost", cost) if cost is not None else NAN

    if not (treated.defined and control.defined):
        empty = [name for name, r in (("treated", treated), ("control", control)) if not r.defined]
        reason = undefined(f"lift is undefined: the {' and '.join(empty)} group is empty")
        return LiftResult(
            NAN, treated, control, ConfidenceInterval(NAN, NAN, level, "wald"), cost=c, reason=reason
        )

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
        value=lift,
        treated=treated,
        control=control,
        ci=ci,
        p_value=test.p_value,
        statistic=test.statistic,
        relative_lift=relative,
        incremental_conversions=lift * nt,
        incremental_revenue=inc_revenue,
        incremental_roi=inc_roi,
        cost=c,
        notes=tuple(notes),
    )


def incremental_campaign_roi(
    treated_n,
    treated_revenue,
    treated_revenue_std,
    control_n,
    control_revenue,
    control_revenue_std,
    cost,
    *,
    gross_margin=1.0,
    confidence_level: float = 0.95,
) -> ValueResult:
    r"""Return on campaigns' cost from what the treated groups earned beyond their control groups.

    Per campaign :math:`i` with :math:`n_t` treated members earning :math:`R_t` in all and
    :math:`n_c` control members earning :math:`R_c`, and gross margin :math:`m`:

    .. math::
        I_i = \left(\frac{R_t}{n_t} - \frac{R_c}{n_c}\right) n_t\, m, \qquad
        \text{ROI} = \frac{\sum_i I_i - \text{cost}}{\text{cost}}

    and the normal-approximation interval :math:`\text{ROI} \pm z_{1-\alpha/2}\,
    \sqrt{\sum_i \operatorname{Var} I_i} / \text{cost}` with
    :math:`\operatorname{Var} I_i = m^2 n_t^2 (s_t^2 / n_t + s_c^2 / n_c)`, where
    :math:`s_t, s_c` are the sample standard deviations of the members' revenue in each group
    (the two groups' means are independent; the margin and the cost are taken as known).

    Parameters
    ----------
    treated_n, control_n : int or sequence of int
        Members of each campaign's treated and control group (one entry per campaign).
    treated_revenue, control_revenue : float or sequence of float
        Total revenue of each group's members (a member without revenue counts as 0), >= 0.
    treated_revenue_std, control_revenue_std : float or sequence of float
        Sample standard deviation (``n - 1``) of the members' revenue in each group, >= 0; NaN
        where a group has one member (no interval then).
    cost : float
        The campaigns' total cost, >= 0, including campaigns without members.
    gross_margin : float <= 1 or result, default 1.0
        Turns revenue into gross profit; 1.0 counts revenue itself.
    confidence_level : float, default 0.95
        Level of the interval.

    Returns
    -------
    ValueResult
        ``value`` as a ratio, ``numerator`` = incremental gross profit - cost, ``denominator`` =
        cost, ``n`` = members of both groups, a normal-approximation ``ci``, and
        ``components``: ``incremental_gross_profit``, ``incremental_gross_profit_se``, ``cost``
        and ``net_profit``.

    Raises
    ------
    ValueError
        If the per-campaign inputs differ in length, a count is not a whole number >= 0, or an
        amount is negative or not finite.

    Notes
    -----
    Revenue the control group earned is what the treated members would have earned anyway, so
    raising it never raises the ROI; a campaign whose control group spent more per member than
    its treated group subtracts. A campaign with no treated member adds nothing. Undefined (NaN
    with a reason): a campaign with treated members has no control group (its increment cannot
    be measured), or the cost is 0.

    Examples
    --------
    >>> r = incremental_campaign_roi(1000, 60_000, 150.0, 1000, 50_000, 140.0, 4_000,
    ...                              gross_margin=0.5)
    >>> r.components["incremental_gross_profit"], r.value
    (5000.0, 0.25)
    >>> round(r.components["incremental_gross_profit_se"], 1), round(r.ci.low, 3), round(r.ci.high, 3)
    (3244.2, -1.34, 1.84)
    """
    level = check_confidence_level(confidence_level)
    n_t = _per_campaign("treated_n", treated_n, whole=True)
    n_c = _per_campaign("control_n", control_n, whole=True)
    r_t = _per_campaign("treated_revenue", treated_revenue)
    r_c = _per_campaign("control_revenue", control_revenue)
    s_t = _per_campaign("treated_revenue_std", treated_revenue_std, missing_ok=True)
    s_c = _per_campaign("control_revenue_std", control_revenue_std, missing_ok=True)
    sizes = {len(a) for a in (n_t, n_c, r_t, r_c, s_t, s_c)}
    if len(sizes) != 1:
        raise ValueError(
            "the per-campaign inputs must have one entry per campaign each; their lengths "
            f"differ ({', '.join(str(len(a)) for a in (n_t, n_c, r_t, r_c, s_t, s_c))})"
        )
    c = check_count("cost", cost)
    m = getattr(gross_margin, "value", gross_margin)
    m = check_number("gross_margin", m, high=1)
    members = int(n_t.sum() + n_c.sum())
    if c == 0:
        return ValueResult(
            NAN,
            NAN,
            c,
            members,
            unit="ratio",
            reason=undefined("incremental campaign ROI is undefined: cost is 0"),
        )
    treated = n_t > 0
    if (treated & (n_c == 0)).any():
        return ValueResult(
            NAN,
            NAN,
            c,
            members,
            unit="ratio",
            reason=undefined(
                "incremental campaign ROI is undefined: a campaign with treated members has no control "
                "group (control_n is 0), so what it added cannot be measured"
            ),
        )
    t, k = n_t[treated], n_c[treated]
    increments = (r_t[treated] / t - r_c[treated] / k) * t * m
    variance = float(np.sum(m**2 * t**2 * (s_t[treated] ** 2 / t + s_c[treated] ** 2 / k)))
    profit = float(increments.sum())
    se = math.sqrt(variance) if treated.any() else 0.0
    roi = (profit - c) / c
    z = z_critical(level)
    ci = ConfidenceInterval(roi - z * se / c, roi + z * se / c, level, "normal approximation")
    components = {
        "incremental_gross_profit": profit,
        "incremental_gross_profit_se": se,
        "cost": c,
        "net_profit": profit - c,
    }
    return ValueResult(roi, profit - c, c, members, ci, "ratio", components)


def _per_campaign(name: str, values, *, whole: bool = False, missing_ok: bool = False) -> np.ndarray:
    """One number >= 0 per campaign as a float array (a scalar is one campaign); NaN kept in
    place with ``missing_ok``, rejected otherwise."""
    if np.ndim(values) == 0:
        values = [values]
    check_values(name, values, low=0, missing="drop" if missing_ok else "reject")
    if hasattr(values, "to_numpy"):
        arr = values.to_numpy(dtype="float64", na_value=np.nan)
    else:
        arr = np.asarray(values, dtype="float64").ravel()
    if whole:
        for v in arr:
            check_whole_count(name, float(v))
    return arr


def minimum_detectable_lift(
    control_rate, treated_n, control_n, *, alpha: float = 0.05, power: float = 0.8
) -> ValueResult:
    r"""The smallest rise in conversion over the control group's rate that groups of these sizes
    detect with the given power (minimum detectable effect of a two-proportion test).

    With Cohen's effect size for proportions, :math:`h = 2\arcsin\sqrt{p_t} - 2\arcsin\sqrt{p_c}`,
    a two-sided test at level :math:`\alpha` detects :math:`h` with power :math:`1 - \beta` when

    .. math::
        h = (z_{1-\alpha/2} + z_{1-\beta}) \sqrt{\frac{1}{n_t} + \frac{1}{n_c}}, \qquad
        \text{MDE} = \sin^2\!\left(\arcsin\sqrt{p_c} + \frac{h}{2}\right) - p_c

    (the normal approximation of :class:`statsmodels.stats.power.NormalIndPower`, ignoring the
    far tail's negligible share of the power).

    Parameters
    ----------
    control_rate : float in [0, 1] or RateResult
        The control group's conversion rate.
    treated_n, control_n : int
        Members of the treated and the control group.
    alpha : float, default 0.05
        Significance level of the two-sided test.
    power : float, default 0.8
        The probability of detecting a lift of that size.

    Returns
    -------
    ValueResult
        ``value``: the smallest detectable absolute lift as a share (0.04 = 4 percentage points),
        ``unit`` "share", ``n`` = members, and ``components``: ``control_rate``,
        ``detectable_rate`` (control rate + lift) and ``effect_size_h``.

    Raises
    ------
    ValueError
        If the rate is outside [0, 1], a group size is not a whole number >= 0, or ``alpha`` or
        ``power`` is not strictly between 0 and 1.

    Notes
    -----
    Undefined (NaN with a reason): an empty group, an undefined control rate, or groups so
    small that even a treated rate of 100% would not be detected. A campaign's observed lift
    below its MDE, even when not significant, says the test was too small to tell, not that
    the campaign did nothing.

    Examples
    --------
    >>> round(minimum_detectable_lift(0.10, 1000, 1000).value, 4)
    0.0406
    """
    a = check_alpha(alpha)
    if isinstance(power, bool) or not (isinstance(power, (int, float)) and 0 < power < 1):
        raise ValueError(f"`power` ({power!r}) must lie strictly between 0 and 1, e.g. 0.8")
    nt = check_whole_count("treated_n", treated_n)
    nc = check_whole_count("control_n", control_n)
    rate = getattr(control_rate, "value", control_rate)
    if hasattr(control_rate, "value") and isinstance(rate, float) and math.isnan(rate):
        return ValueResult(
            NAN,
            n=nt + nc,
            unit="share",
            reason=undefined("minimum detectable lift is undefined: the control rate is undefined"),
        )
    p = check_number("control_rate", rate, low=0, high=1)
    if nt == 0 or nc == 0:
        empty = " and ".join(g for g, k in (("treated", nt), ("control", nc)) if k == 0)
        return ValueResult(
            NAN,
            n=nt + nc,
            unit="share",
            reason=undefined(f"minimum detectable lift is undefined: the {empty} group is empty"),
        )
    h = (float(sps.norm.ppf(1 - a / 2)) + float(sps.norm.ppf(power))) * math.sqrt(1 / nt + 1 / nc)
    angle = math.asin(math.sqrt(p)) + h / 2
    components = {"control_rate": p, "detectable_rate": NAN, "effect_size_h": h}
    if angle >= math.pi / 2:
        return ValueResult(
            NAN,
            n=nt + nc,
            unit="share",
            components=components,
            reason=undefined(
                f"minimum detectable lift is undefined: with {nt} treated and {nc} control members not even a "
                "treated conversion rate of 100% would be detected"
            ),
        )
    detectable = math.sin(angle) ** 2
    components["detectable_rate"] = detectable
    return ValueResult(detectable - p, n=nt + nc, unit="share", components=components)
