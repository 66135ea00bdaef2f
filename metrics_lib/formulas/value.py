"""Value formulas: order value, lifetime value, acquisition cost, profit.

Pure functions on money amounts, counts and small arrays. Money is in the data's currency and
is never converted. Where one formula feeds another (average order value into CLV, CLV and CAC
into LTV:CAC), a result object may be passed in place of a number: its ``value`` is used, and an
undefined input makes the output undefined with a reason naming it. No database access and no
I/O.
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from metrics_lib.core.inputs import as_float_array, check_number, check_whole_count
from metrics_lib.core.results import (
    NAN,
    NO_CI,
    ConfidenceInterval,
    ValueResult,
    check_confidence_level,
    check_count,
    undefined,
)
from metrics_lib.core.stats import mean_result, t_interval
from metrics_lib.formulas.profit import gross_margin, gross_profit, retention_cost_per_client, return_rate

__all__ = [
    "average_order_value",
    "cac",
    "cac_payback_months",
    "clv_four_step",
    "clv_simple",
    "gross_margin",
    "gross_profit",
    "ltv_cac_ratio",
    "margin_clv_interval",
    "retention_cost_per_client",
    "return_rate",
]


def average_order_value(
    revenue, orders, *, order_values=None, order_value_std=None, confidence_level: float = 0.95
) -> ValueResult:
    r"""Revenue per order.

    .. math:: \text{AOV} = \frac{\text{revenue}}{\text{orders}}

    Parameters
    ----------
    revenue : float
        Revenue of the orders, >= 0.
    orders : int
        Number of orders.
    order_values : list, numpy array or pandas Series of float, optional
        The revenue of each order. When given, it must hold ``orders`` values summing to
        ``revenue``, and the result gets a Student-t interval from their spread.
    order_value_std : float, optional
        Instead of ``order_values``: their sample standard deviation (``n - 1`` in the
        denominator), as an engine returns it beside the sum and the count. Gives the same
        interval, :math:`\bar x \pm t_{n-1} \, s / \sqrt{n}`; with one order, or a NaN
        standard deviation (an engine's answer for infinite values), its bounds are NaN.
    confidence_level : float, default 0.95
        Level of the t interval.

    Returns
    -------
    ValueResult
        ``value`` >= 0 (``unit`` "currency"), ``numerator`` revenue, ``denominator`` orders,
        ``n`` orders and, with ``order_values``, a t ``ci``.

    Raises
    ------
    ValueError
        If revenue is negative or not finite, ``orders`` is not a whole number >= 0, or
        ``order_values`` disagrees with ``revenue`` and ``orders`` or holds a missing or
        infinite value.

    Notes
    -----
    Order values are not negative (returns are not orders), so the interval is truncated at 0.
    No orders: NaN with a reason. One order value gives NaN interval bounds (no spread to
    measure).

    Examples
    --------
    >>> average_order_value(12_000, 120).value
    100.0
    >>> r = average_order_value(400, 4, order_values=[80, 120, 90, 110])
    >>> r.value, round(r.ci.low, 2), round(r.ci.high, 2)
    (100.0, 70.95, 129.05)
    """
    rev = check_count("revenue", revenue)
    n_orders = check_whole_count("orders", orders)
    level = check_confidence_level(confidence_level)
    ci = NO_CI
    if order_values is not None and order_value_std is not None:
        raise ValueError("give `order_values` or `order_value_std`, not both")
    if order_value_std is not None:
        std = float(order_value_std)
        if std < 0 or math.isinf(std):
            raise ValueError(f"`order_value_std` ({order_value_std!r}) must be a finite number >= 0 (or NaN)")
        if n_orders:
            ci = t_interval(
                rev / n_orders, std if n_orders > 1 else NAN, n_orders, confidence_level=level, low=0.0
            )
    if order_values is not None:
        values = _order_values(order_values)
        if values.size != n_orders or not math.isclose(values.sum(), rev, rel_tol=1e-9, abs_tol=1e-6):
            raise ValueError(
                f"`order_values` holds {values.size} orders summing to {values.sum():g}, but `orders` "
                f"is {n_orders} and `revenue` is {rev:g}; they must describe the same orders"
            )
        if n_orders:
            ci = mean_result(values, unit="currency", confidence_level=level, low=0.0).ci
    if n_orders == 0:
        reason = undefined("average order value is undefined: orders is 0")
        return ValueResult(NAN, rev, 0, 0, ci, "currency", reason=reason)
    return ValueResult(rev / n_orders, rev, n_orders, n_orders, ci, "currency")


def _order_values(values: Any) -> np.ndarray:
    arr = as_float_array("order_values", values, expected="a sequence of amounts (list, array or Series)")
    bad = arr[~np.isfinite(arr)]
    if bad.size:
        raise ValueError(f"`order_values` contains {float(bad[0])!r}; every order needs a finite amount")
    return arr


def clv_simple(average_order_value, purchases_per_year, lifespan_years) -> ValueResult:
    r"""Customer lifetime value, simple form: order value x yearly purchases x years.

    .. math:: \text{CLV} = \text{AOV} \times f_\text{year} \times L_\text{years}

    Parameters
    ----------
    average_order_value : float or result
        Average order value, >= 0 (e.g. from :func:`average_order_value`).
    purchases_per_year : float
        Purchases per customer per year, >= 0.
    lifespan_years : float
        Expected customer lifespan in years, >= 0.

    Returns
    -------
    ValueResult
        ``value`` >= 0 (``unit`` "currency") with the three factors in ``components``.

    Raises
    ------
    ValueError
        If a factor is negative or not finite.

    Notes
    -----
    This is revenue CLV; multiply by the gross margin (see :func:`clv_four_step`) for profit.
    An undefined input result (NaN) gives NaN with a reason.

    Examples
    --------
    >>> r = clv_simple(100, 4, 5)
    >>> r.value
    2000.0
    >>> r.components
    {'average_order_value': 100.0, 'purchases_per_year': 4.0, 'lifespan_years': 5.0}
    """
    inputs = {
        "average_order_value": average_order_value,
        "purchases_per_year": purchases_per_year,
        "lifespan_years": lifespan_years,
    }
    components, reason = _amounts(inputs, low=0)
    if reason:
        return ValueResult(
            NAN, unit="currency", components=components, reason=undefined(f"CLV is undefined: {reason}")
        )
    value = (
        components["average_order_value"] * components["purchases_per_year"] * components["lifespan_years"]
    )
    return ValueResult(value, unit="currency", components=components)


def clv_four_step(
    revenue,
    purchases,
    customers,
    *,
    lifespan_years=None,
    annual_churn_rate=None,
    gross_margin=None,
    years=1.0,
) -> ValueResult:
    r"""Customer lifetime value from a year of raw data, in four steps.

    .. math::

        \bar v = \frac{\text{revenue}}{\text{purchases}}, \quad
        f = \frac{\text{purchases}}{\text{customers} \times \text{years}}, \quad
        \text{CV} = \bar v\, f, \quad
        L = \text{lifespan} \text{ or } \frac{1}{\text{annual churn}}, \quad
        \text{CLV} = \text{CV} \times L \,(\times\, \text{gross margin})

    Parameters
    ----------
    revenue : float
        Revenue over one year (or ``years``), >= 0.
    purchases : int
        Purchases over the same span.
    customers : int
        Unique customers who bought in that span (each made at least one purchase).
    lifespan_years : float, optional
        Average customer lifespan in years, > 0.
    annual_churn_rate : float in [0, 1] or RateResult, optional
        Used when no lifespan is given: lifespan = 1 / annual churn.
    gross_margin : float <= 1 or result, optional
        When given, the margin CLV (profit, not revenue) is returned.
    years : float, default 1.0
        How many years revenue and purchases cover, > 0: the purchase frequency is per customer
        per year, ``purchases / customers / years`` (a year of data needs no scaling).

    Returns
    -------
    ValueResult
        ``value`` (``unit`` "currency") with ``components``: ``average_purchase_value``,
        ``purchase_frequency``, ``customer_value``, ``lifespan_years`` and, if given,
        ``gross_margin``.

    Raises
    ------
    ValueError
        If an input is out of range, ``customers`` exceeds ``purchases``, or neither or both of
        ``lifespan_years`` and ``annual_churn_rate`` are given.

    Notes
    -----
    - The purchase frequency is per year when revenue and purchases cover ``years`` years; give
      a year of data (the default) rather than scaling a short span, whose buying is seasonal.
    - Undefined (NaN with a reason): no purchases or no customers; an annual churn of 0 (the
      lifespan 1 / churn is unbounded); an undefined churn or margin passed as a result.
    - A negative gross margin gives a negative margin CLV: the customers cost money.

    Examples
    --------
    >>> r = clv_four_step(50_000, 500, 125, lifespan_years=5)
    >>> r.value
    2000.0
    >>> r.components["average_purchase_value"], r.components["purchase_frequency"]
    (100.0, 4.0)
    >>> clv_four_step(50_000, 500, 125, annual_churn_rate=0.2, gross_margin=0.4).value
    800.0
    >>> clv_four_step(25_000, 250, 125, lifespan_years=5, years=0.5).components["purchase_frequency"]
    4.0
    """
    rev = check_count("revenue", revenue)
    n_purchases = check_whole_count("purchases", purchases)
    n_customers = check_whole_count("customers", customers)
    span = check_number("years", years, low=0, low_inclusive=False)
    if n_customers > n_purchases:
        raise ValueError(
            f"`customers` ({n_customers}) cannot exceed `purchases` ({n_purchases}): "
            "every customer counted made at least one purchase"
        )
    if n_purchases and not n_customers:
        raise ValueError(f"`customers` is 0 but `purchases` is {n_purchases}: purchases need customers")
    if (lifespan_years is None) == (annual_churn_rate is None):
        given = "both were given" if lifespan_years is not None else "neither was given"
        raise ValueError(f"give exactly one of `lifespan_years` and `annual_churn_rate` ({given})")
    components: dict[str, float] = {}
    reasons = []
    if n_purchases == 0:
        reasons.append("purchases is 0")
        components["average_purchase_value"] = components["purchase_frequency"] = NAN
    else:
        components["average_purchase_value"] = rev / n_purchases
        components["purchase_frequency"] = n_purchases / n_customers / span
    components["customer_value"] = components["average_purchase_value"] * components["purchase_frequency"]
    if lifespan_years is not None:
        life, why = _amount("lifespan_years", lifespan_years, low=0, low_inclusive=False)
    else:
        churn, why = _amount("annual_churn_rate", annual_churn_rate, low=0, high=1)
        if why is None and churn == 0:
            why = "annual_churn_rate is 0, so the lifespan 1 / churn is unbounded"
        life = NAN if why else 1.0 / churn
    components["lifespan_years"] = life
    if why:
        reasons.append(why)
    value = components["customer_value"] * life
    if gross_margin is not None:
        margin, why = _amount("gross_margin", gross_margin, high=1)
        components["gross_margin"] = margin
        if why:
            reasons.append(why)
        value *= margin
    if reasons:
        return ValueResult(
            NAN,
            unit="currency",
            components=components,
            reason=undefined(f"CLV is undefined: {'; '.join(reasons)}"),
        )
    return ValueResult(value, unit="currency", components=components)


def margin_clv_interval(
    clv,
    profit_per_buyer_std,
    buyers,
    churn,
    at_risk,
    *,
    days_measured,
    confidence_level=0.95,
) -> ConfidenceInterval:
    r"""Delta-method interval of the margin CLV, on the log scale.

    The margin CLV of :func:`clv_four_step` is the mean gross profit per buying customer per
    year over the annual churn, :math:`\text{CLV} = \bar g / (y\, a)`, with
    :math:`a = 1 - (1 - c)^k`, :math:`k = 365 / \text{days measured}` and ``c`` the churn of
    the period. Taking the two as independent,

    .. math::

        \operatorname{Var}(\log \text{CLV}) \approx \frac{s_g^2}{n_b\, \bar g^2}
        + \left(\frac{k (1 - c)^{k - 1}}{a}\right)^2 \frac{c (1 - c)}{n_r}

    with :math:`s_g` the standard deviation of the buyers' gross profit, :math:`n_b` the buyers and
    :math:`n_r` the customers at risk of churning; the bounds are
    :math:`\text{CLV} \, e^{\pm z \sqrt{\cdot}}`, so they stay positive and the interval is wider
    on the side of a small churn, where the lifespan 1 / churn reacts most.

    Parameters
    ----------
    clv : float
        The margin CLV.
    profit_per_buyer_std : float
        Sample standard deviation of the gross profit per buying customer over the same months.
    buyers, at_risk : int
        Buying customers; customers active at the start of the period (the churn's denominator).
    churn : float
        The period's churn rate.
    days_measured : int
        Days of the period the churn is measured over.

    Returns
    -------
    ConfidenceInterval
        NaN bounds (method ``"none"``) when the CLV is not positive, fewer than two customers bought
        or none were at risk.

    Examples
    --------
    A mean profit of 100 (s = 50) over 100 buyers, a yearly churn of 0.2 from 1,600 customers:
    SE(log CLV) = sqrt(0.0025 + 0.0025) = 0.0707, so CLV 500 has the interval 500 e^{±1.96·0.0707}:

    >>> ci = margin_clv_interval(500.0, 50.0, 100, 0.2, 1600, days_measured=365)
    >>> round(ci.low, 1), round(ci.high, 1)
    (435.3, 574.3)
    """
    level = check_confidence_level(confidence_level)
    values = [clv, profit_per_buyer_std, churn]
    if (
        any(v is None or not math.isfinite(float(v)) for v in values)
        or clv <= 0
        or buyers < 2
        or at_risk < 1
        or not 0 < churn <= 1
    ):
        return NO_CI
    k = 365.0 / float(days_measured)
    a = 1.0 - (1.0 - churn) ** k
    mean = clv * a  # mean profit per buyer per year
    var = profit_per_buyer_std**2 / (buyers * mean**2)
    var += (k * (1.0 - churn) ** (k - 1) / a) ** 2 * churn * (1.0 - churn) / at_risk
    from scipy import stats

    half = stats.norm.ppf(0.5 + level / 2) * math.sqrt(var)
    return ConfidenceInterval(clv * math.exp(-half), clv * math.exp(half), level, "delta method (log scale)")


def cac(acquisition_spend, new_customers) -> ValueResult:
    r"""Customer acquisition cost: acquisition spend per new customer.

    .. math:: \text{CAC} = \frac{\text{acquisition spend}}{\text{new customers}}

    Parameters
    ----------
    acquisition_spend : float
        Sales and marketing spend on acquisition in the period, >= 0.
    new_customers : int
        Customers acquired in the period.

    Returns
    -------
    ValueResult
        ``value`` >= 0 (``unit`` "currency"), ``numerator`` spend, ``denominator`` new customers.

    Raises
    ------
    ValueError
        If the spend is negative or not finite, or ``new_customers`` is not a whole number >= 0.

    Notes
    -----
    No new customers: NaN with a reason (spend with nothing to show for it is not a CAC of 0).

    Examples
    --------
    >>> cac(50_000, 250).value
    200.0
    """
    spend = check_count("acquisition_spend", acquisition_spend)
    n_new = check_whole_count("new_customers", new_customers)
    if n_new == 0:
        return ValueResult(
            NAN, spend, 0, 0, unit="currency", reason=undefined("CAC is undefined: new_customers is 0")
        )
    return ValueResult(spend / n_new, spend, n_new, n_new, unit="currency")


def ltv_cac_ratio(ltv, cac) -> ValueResult:
    r"""Lifetime value per unit of acquisition cost (3 or more is the usual target).

    .. math:: \text{LTV:CAC} = \frac{\text{LTV}}{\text{CAC}}

    Parameters
    ----------
    ltv : float or result
        Customer lifetime value (margin CLV preferred); may be negative.
    cac : float or result
        Customer acquisition cost, >= 0.

    Returns
    -------
    ValueResult
        ``value`` (``unit`` "ratio"), ``numerator`` LTV, ``denominator`` CAC.

    Raises
    ------
    ValueError
        If ``ltv`` is not finite or ``cac`` is negative or not finite.

    Notes
    -----
    A CAC of 0 (or an undefined input) gives NaN with a reason.

    Examples
    --------
    >>> ltv_cac_ratio(600, 200).value
    3.0
    """
    values, reason = _amounts({"ltv": ltv}, low=None)
    more, reason2 = _amounts({"cac": cac}, low=0)
    values.update(more)
    reason = reason or reason2
    if reason is None and values["cac"] == 0:
        reason = "cac is 0"
    if reason:
        return ValueResult(
            NAN,
            values["ltv"],
            values["cac"],
            unit="ratio",
            components=values,
            reason=undefined(f"LTV:CAC is undefined: {reason}"),
        )
    return ValueResult(
        values["ltv"] / values["cac"], values["ltv"], values["cac"], unit="ratio", components=values
    )


def cac_payback_months(cac, monthly_gross_profit_per_customer) -> ValueResult:
    r"""Months of gross profit from a new customer needed to earn back its acquisition cost.

    .. math:: \text{payback} = \frac{\text{CAC}}{\text{monthly gross profit per customer}}

    Parameters
    ----------
    cac : float or result
        Customer acquisition cost, >= 0.
    monthly_gross_profit_per_customer : float or result
        Gross profit per new customer per month; may be 0 or negative.

    Returns
    -------
    ValueResult
        ``value`` >= 0 in months, ``numerator`` CAC, ``denominator`` monthly gross profit.

    Raises
    ------
    ValueError
        If ``cac`` is negative or an input is not finite.

    Notes
    -----
    A monthly gross profit of 0 or less never pays the CAC back: NaN with a reason (not
    infinity, so averages stay honest). A CAC of 0 pays back in 0 months.

    Examples
    --------
    >>> cac_payback_months(200, 25).value
    8.0
    """
    values, reason = _amounts({"cac": cac}, low=0)
    more, reason2 = _amounts(
        {"monthly_gross_profit_per_customer": monthly_gross_profit_per_customer}, low=None
    )
    values.update(more)
    reason = reason or reason2
    profit = values["monthly_gross_profit_per_customer"]
    if reason is None and profit <= 0:
        reason = (
            f"monthly_gross_profit_per_customer is {profit:g}, so the acquisition cost is never paid back"
        )
    if reason:
        return ValueResult(
            NAN,
            values["cac"],
            profit,
            unit="months",
            components=values,
            reason=undefined(f"CAC payback is undefined: {reason}"),
        )
    return ValueResult(values["cac"] / profit, values["cac"], profit, unit="months", components=values)


def _amount(name: str, value: Any, **limits) -> tuple[float, str | None]:
    """A number (or a result's ``value``) checked against ``limits``; NaN from a result is a reason."""
    x = getattr(value, "value", value)
    if hasattr(value, "value") and isinstance(x, float) and math.isnan(x):
        why = getattr(value, "reason", None)
        return NAN, f"{name} is undefined" + (f" ({why})" if why else "")
    return check_number(name, x, **limits), None


def _amounts(inputs: dict[str, Any], **limits) -> tuple[dict[str, float], str | None]:
    out: dict[str, float] = {}
    reasons = []
    for name, raw in inputs.items():
        out[name], why = _amount(name, raw, **limits)
        if why:
            reasons.append(why)
    return out, "; ".join(reasons) or None
