"""Profitability formulas of the value family: gross profit and margin, the return rate, and what
it costs to keep a customer. Pure functions of amounts and counts, re-exported by
:mod:`metrics_lib.formulas.value`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from metrics_lib.core.inputs import check_values, check_whole_count
from metrics_lib.core.results import (
    NAN,
    ValueResult,
    check_count,
    undefined,
)

__all__ = ["gross_margin", "gross_profit", "retention_cost_per_client", "return_rate"]


def retention_cost_per_client(retention_spend, customers_retained) -> ValueResult:
    r"""Retention spend per customer retained.

    .. math:: \text{retention cost per client} = \frac{\text{retention spend}}{\text{customers retained}}

    Parameters
    ----------
    retention_spend : float
        Spend on retention in the period, >= 0.
    customers_retained : int
        Customers retained in the period.

    Returns
    -------
    ValueResult
        ``value`` >= 0 (``unit`` "currency"), ``numerator`` spend, ``denominator`` customers.

    Raises
    ------
    ValueError
        If the spend is negative or not finite, or the count is not a whole number >= 0.

    Notes
    -----
    No customers retained: NaN with a reason. Compare the value with the average revenue of
    long-term customers in the same period.

    Examples
    --------
    >>> retention_cost_per_client(9_000, 450).value
    20.0
    """
    spend = check_count("retention_spend", retention_spend)
    kept = check_whole_count("customers_retained", customers_retained)
    if kept == 0:
        return ValueResult(
            NAN,
            spend,
            0,
            0,
            unit="currency",
            reason=undefined("retention cost per client is undefined: customers_retained is 0"),
        )
    return ValueResult(spend / kept, spend, kept, kept, unit="currency")


def gross_profit(revenue, cost) -> ValueResult:
    r"""Gross profit: revenue minus cost.

    .. math:: \text{gross profit} = \sum \text{revenue} - \sum \text{cost}

    Parameters
    ----------
    revenue : float or list, numpy array or pandas Series of float
        Revenue, >= 0: a total or one amount per row (e.g. per order).
    cost : float or sequence of float
        Cost, >= 0, in the same shape as ``revenue``.

    Returns
    -------
    ValueResult
        ``value`` (``unit`` "currency"; negative at a loss) with ``components`` revenue and cost,
        ``n`` the number of rows when arrays were given.

    Raises
    ------
    ValueError
        If an amount is negative, missing or not finite, or the arrays differ in length.

    Notes
    -----
    Always defined: no rows gives a gross profit of 0 (nothing sold, nothing earned).

    Examples
    --------
    >>> gross_profit(10_000, 6_000).value
    4000.0
    >>> gross_profit([100, 250, 50], [60, 150, 40]).value
    150.0
    """
    rev, cst, n = _revenue_cost(revenue, cost)
    return ValueResult(rev - cst, n=n, unit="currency", components={"revenue": rev, "cost": cst})


def gross_margin(revenue, cost) -> ValueResult:
    r"""Gross margin: gross profit as a share of revenue.

    .. math:: \text{gross margin} = \frac{\sum \text{revenue} - \sum \text{cost}}{\sum \text{revenue}}

    Parameters
    ----------
    revenue : float or list, numpy array or pandas Series of float
        Revenue, >= 0: a total or one amount per row.
    cost : float or sequence of float
        Cost, >= 0, in the same shape as ``revenue``.

    Returns
    -------
    ValueResult
        ``value`` <= 1 (``unit`` "share"; negative when cost exceeds revenue), ``numerator``
        gross profit, ``denominator`` revenue.

    Raises
    ------
    ValueError
        If an amount is negative, missing or not finite, or the arrays differ in length.

    Notes
    -----
    Zero revenue: NaN with a reason. Multiply by 100 for gross margin %.

    Examples
    --------
    >>> gross_margin(10_000, 6_000).value
    0.4
    """
    rev, cst, n = _revenue_cost(revenue, cost)
    profit = rev - cst
    components = {"revenue": rev, "cost": cst}
    if rev == 0:
        return ValueResult(
            NAN,
            profit,
            rev,
            n,
            unit="share",
            components=components,
            reason=undefined("gross margin is undefined: revenue is 0"),
        )
    return ValueResult(profit / rev, profit, rev, n, unit="share", components=components)


def return_rate(returned, gross_sales) -> ValueResult:
    r"""Returns as a share of what was sold: the value given back over the gross sales.

    .. math:: \text{return rate} = \frac{\text{returned value}}{\text{gross sales}}

    Parameters
    ----------
    returned : float
        The value refunded by returns in the period, >= 0 (the returns' negative revenue, as a
        positive amount).
    gross_sales : float
        The revenue of the period's orders before returns, >= 0.

    Returns
    -------
    ValueResult
        ``value`` >= 0 (``unit`` "share"), ``numerator`` the returned value, ``denominator`` the
        gross sales. A share of money, not of orders, so it has no sampling interval.

    Notes
    -----
    A return is counted in the period it happens, whatever period the sale was in, so the rate
    can exceed 1 in a period of few sales and many returns. No sales: NaN with a reason.

    Examples
    --------
    >>> return_rate(70, 1_000).value
    0.07
    >>> return_rate(0, 0).reason
    'return rate is undefined: there are no sales (gross sales are 0)'
    """
    back = check_count("returned", returned)
    sales = check_count("gross_sales", gross_sales)
    if sales == 0:
        return ValueResult(
            NAN,
            back,
            sales,
            unit="share",
            reason=undefined("return rate is undefined: there are no sales (gross sales are 0)"),
        )
    return ValueResult(back / sales, back, sales, unit="share")


def _revenue_cost(revenue: Any, cost: Any) -> tuple[float, float, int | None]:
    """Totals of revenue and cost, given as two scalars or two equally long arrays."""
    if np.ndim(revenue) == 0 and np.ndim(cost) == 0 and not isinstance(revenue, (pd.Series, pd.Index)):
        return check_count("revenue", revenue), check_count("cost", cost), None
    rev = check_values("revenue", revenue, low=0, missing="reject")
    cst = check_values("cost", cost, low=0, missing="reject")
    if rev.size != cst.size:
        raise ValueError(
            f"`revenue` ({rev.size} values) and `cost` ({cst.size} values) must have the "
            "same length: one amount of each per row"
        )
    return float(rev.sum()), float(cst.sum()), int(rev.size)
