"""Customer service formulas.

First contact resolution, and one summary (median, mean, 90th percentile, share within target)
that serves both first response times and resolution times. No database access and no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metrics_lib.core.inputs import check_number, check_values
from metrics_lib.core.quantiles import median_interval
from metrics_lib.core.results import (
    NAN,
    NO_CI,
    ConfidenceInterval,
    RateResult,
    Result,
    check_confidence_level,
    undefined,
)
from metrics_lib.core.stats import mean_result, rate_result

__all__ = [
    "TimeSummary",
    "first_contact_resolution",
    "response_time_summary",
    "response_within_target",
    "unanswered_share",
]


def first_contact_resolution(
    resolved_in_one_contact, resolved, *, confidence_level: float = 0.95
) -> RateResult:
    r"""Share of the resolved tickets that were resolved in a single contact.

    .. math:: \text{FCR} = \frac{\text{tickets resolved in one contact}}{\text{tickets resolved}}

    Parameters
    ----------
    resolved_in_one_contact : int
        Resolved tickets with ``contacts_to_resolve == 1``.
    resolved : int
        Tickets resolved in the period (open tickets are not counted).
    confidence_level : float, default 0.95
        Level of the Wilson interval.

    Returns
    -------
    RateResult

    Raises
    ------
    ValueError
        If a count is negative or ``resolved_in_one_contact`` exceeds ``resolved``.

    Notes
    -----
    The denominator is resolved tickets, not all tickets: an open ticket has not yet shown
    whether one contact was enough. No resolved tickets gives NaN with a reason.

    Examples
    --------
    >>> first_contact_resolution(72, 90).value
    0.8
    >>> first_contact_resolution(0, 0).reason
    'first contact resolution is undefined: resolved is 0'
    """
    return rate_result(
        resolved_in_one_contact,
        resolved,
        numerator_name="resolved_in_one_contact",
        denominator_name="resolved",
        what="first contact resolution",
        confidence_level=confidence_level,
    )


@dataclass(frozen=True)
class TimeSummary(Result):
    """Summary of service times in hours; ``value`` (the headline) is the median.

    ``ci`` is the distribution-free interval for the median, ``mean_ci`` the t interval for the
    mean, ``within_target`` the share of times at or under ``target_hours``.
    """

    value: float
    n: int
    median: float
    mean: float
    p90: float
    within_target: RateResult
    target_hours: float
    quantity: str = "first response time"
    ci: ConfidenceInterval = NO_CI
    mean_ci: ConfidenceInterval = NO_CI
    unit: str = "hours"
    reason: str | None = None


def response_time_summary(
    hours, *, target_hours: float = 2.0, quantity: str = "first response time", confidence_level: float = 0.95
) -> TimeSummary:
    r"""Median, mean and 90th percentile of service times, and the share within the target.

    .. math:: \text{within target} = \frac{\#\{i : h_i \le \text{target}\}}{n}, \qquad
              p_{90} = Q(0.9) \text{ (linear interpolation between order statistics)}

    Serves first response times (the default) and resolution times alike: pass
    ``quantity="resolution time"`` and the matching target.

    Parameters
    ----------
    hours : array-like of float
        One time per ticket, in hours (>= 0).
    target_hours : float, default 2.0
        The service target, in hours (> 0).
    quantity : str, default "first response time"
        What the times measure; used in the result and in reasons.
    confidence_level : float, default 0.95
        Level of the intervals.

    Returns
    -------
    TimeSummary
        ``value`` = ``median``, with ``mean``, ``p90``, ``n``, ``ci`` (median), ``mean_ci`` and
        ``within_target`` (a :class:`RateResult`).

    Raises
    ------
    ValueError
        If a time is negative or infinite, or ``target_hours`` is not a positive number.

    Notes
    -----
    A time equal to the target counts as within it. The 90th percentile interpolates linearly
    between order statistics (numpy's default, Hyndman-Fan type 7). Missing times (NaN: tickets
    not yet answered or not yet resolved) are left out of every statistic, so report the number
    still open beside this summary. No times gives NaN everywhere with a reason.

    Examples
    --------
    >>> s = response_time_summary([0.5, 1, 1.5, 2, 3, 4, 5, 6, 8, 10])
    >>> s.median, s.mean, round(s.p90, 6)
    (3.5, 4.1, 8.2)
    >>> s.within_target.value
    0.4
    """
    level = check_confidence_level(confidence_level)
    target = check_number("target_hours", target_hours, low=0.0, low_inclusive=False)
    if not isinstance(quantity, str) or not quantity.strip():
        raise ValueError(f"`quantity` ({quantity!r}) must be a non-empty name, e.g. 'resolution time'")
    arr = check_values("hours", hours, low=0.0)
    within = rate_result(
        int((arr <= target).sum()),
        arr.size,
        numerator_name=f"times <= {target:g} h",
        denominator_name="times",
        what=f"share of {quantity} within target",
        confidence_level=level,
    )
    if arr.size == 0:
        reason = undefined(f"{quantity} summary is undefined: no times")
        return TimeSummary(
            NAN,
            0,
            NAN,
            NAN,
            NAN,
            within,
            target,
            quantity,
            ConfidenceInterval(NAN, NAN, level, "none"),
            ConfidenceInterval(NAN, NAN, level, "none"),
            reason=reason,
        )
    m = mean_result(arr, unit="hours", what=quantity, confidence_level=level, low=0.0)
    return TimeSummary(
        value=m.median,
        n=int(arr.size),
        median=m.median,
        mean=m.value,
        p90=float(np.quantile(arr, 0.9)),
        within_target=within,
        target_hours=target,
        quantity=quantity,
        ci=median_interval(arr, level),
        mean_ci=m.ci,
    )


def response_within_target(
    response_hours, unanswered_hours, *, target_hours: float = 2.0, confidence_level: float = 0.95
) -> RateResult:
    r"""Share of tickets answered within the target, counting a ticket never answered as a miss
    once it has waited longer than the target (a breach, as support tools count it).

    .. math:: \text{within target} = \frac{\#\{\text{answered in} \le T\}}
              {\#\{\text{answered}\} + \#\{\text{unanswered, waiting} > T\}}

    Parameters
    ----------
    response_hours : array-like of float
        Per ticket, hours from opening to the first response; NaN for a ticket not answered.
    unanswered_hours : array-like of float
        Per ticket (aligned with ``response_hours``), hours an unanswered ticket has waited as of
        the data's last timestamp; read only where ``response_hours`` is NaN (NaN elsewhere).
    target_hours : float, default 2.0
        The service target, in hours (> 0).
    confidence_level : float, default 0.95
        Level of the Wilson interval.

    Returns
    -------
    RateResult
        ``numerator`` = tickets answered within the target, ``denominator`` = ``n`` = tickets
        answered plus unanswered tickets older than the target.

    Raises
    ------
    ValueError
        If the lengths differ, a time is negative or infinite, an unanswered ticket has no
        waiting time, or ``target_hours`` is not a positive number.

    Notes
    -----
    A time equal to the target is within it, and an unanswered ticket that has waited exactly
    the target is not yet a miss. An unanswered ticket still within the target is in neither
    count: it can still be answered in time. Once a ticket is a miss it stays one, so the share
    of a past period does not change when later data arrives. No answered and no overdue ticket
    gives NaN with a reason.

    Examples
    --------
    >>> nan = float("nan")
    >>> r = response_within_target([0.5, 1.0, 3.0, nan, nan], [nan, nan, nan, 30.0, 1.0])
    >>> r.value, r.numerator, r.denominator
    (0.5, 2.0, 4.0)
    """
    target = check_number("target_hours", target_hours, low=0.0, low_inclusive=False)
    response = _aligned("response_hours", response_hours)
    waiting = _aligned("unanswered_hours", unanswered_hours)
    if response.size != waiting.size:
        raise ValueError(
            f"`response_hours` ({response.size} values) and `unanswered_hours` ({waiting.size} values) "
            "must have the same length: one of each per ticket"
        )
    open_ = np.isnan(response)
    if np.isnan(waiting[open_]).any():
        at = int(np.flatnonzero(open_ & np.isnan(waiting))[0])
        raise ValueError(
            f"`unanswered_hours` is missing at position {at}, an unanswered ticket; give the hours it "
            "has waited as of the data's last timestamp"
        )
    for name, arr in (("response_hours", response[~open_]), ("unanswered_hours", waiting[open_])):
        if arr.size and arr.min() < 0:
            raise ValueError(f"`{name}` contains {arr.min():g}; hours must be >= 0")
    answered = response[~open_]
    overdue = int((waiting[open_] > target).sum())
    return rate_result(
        int((answered <= target).sum()),
        int(answered.size) + overdue,
        numerator_name=f"answered <= {target:g} h",
        denominator_name="answered or overdue tickets",
        what="share answered within target",
        confidence_level=confidence_level,
    )


def unanswered_share(unanswered, tickets, *, confidence_level: float = 0.95) -> RateResult:
    r"""Share of the tickets that have no first response yet.

    .. math:: \text{unanswered share} = \frac{\text{tickets without a first response}}{\text{tickets}}

    Parameters
    ----------
    unanswered : int
        Tickets opened in the period that had no first response as of the data's last timestamp.
    tickets : int
        Tickets opened in the period.
    confidence_level : float, default 0.95
        Level of the Wilson interval.

    Returns
    -------
    RateResult

    Raises
    ------
    ValueError
        If a count is negative or ``unanswered`` exceeds ``tickets``.

    Notes
    -----
    Report it beside :func:`response_within_target` and the median response time: the median
    is over answered tickets only. No tickets gives NaN with a reason.

    Examples
    --------
    >>> unanswered_share(2, 10).value
    0.2
    >>> unanswered_share(0, 0).reason
    'unanswered ticket share is undefined: tickets is 0'
    """
    return rate_result(
        unanswered,
        tickets,
        numerator_name="unanswered",
        denominator_name="tickets",
        what="unanswered ticket share",
        confidence_level=confidence_level,
    )


def _aligned(name: str, values) -> np.ndarray:
    """Per-ticket floats with NaN kept in place (row-aligned inputs)."""
    if isinstance(values, (str, bytes)) or np.ndim(values) == 0:
        raise ValueError(f"`{name}` ({values!r}) must be a sequence of hours (list, array or Series)")
    try:
        arr = np.asarray(
            values.to_numpy(dtype="float64", na_value=np.nan) if hasattr(values, "to_numpy") else values,
            dtype="float64",
        ).ravel()
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` must contain numbers only") from None
    if np.isinf(arr).any():
        raise ValueError(f"`{name}` contains an infinite value; only finite hours (or NaN) are allowed")
    return arr
