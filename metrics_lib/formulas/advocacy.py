"""Advocacy and engagement formulas.

Referral rate, referrals per referrer, a review summary, bounce rate and a web engagement
summary. No database access and no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from metrics_lib.core.inputs import check_number, check_values
from metrics_lib.core.results import (
    NAN,
    NO_CI,
    ConfidenceInterval,
    MeanResult,
    RateResult,
    Result,
    ValueResult,
    check_confidence_level,
    check_count,
    undefined,
)
from metrics_lib.core.stats import mean_result, rate_result

__all__ = [
    "ReviewSummary",
    "WebEngagementSummary",
    "bounce_rate",
    "referral_rate",
    "referrals_per_referrer",
    "review_summary",
    "web_engagement_summary",
]


def referral_rate(referred_new_customers, new_customers, *, confidence_level: float = 0.95) -> RateResult:
    r"""Share of the new customers of a period who came through a referral.

    .. math:: \text{referral rate} = \frac{\text{new customers referred}}{\text{new customers}}

    Parameters
    ----------
    referred_new_customers : int
        New customers with a referrer (``referred_by`` not null).
    new_customers : int
        All customers acquired in the period.
    confidence_level : float, default 0.95
        Level of the Wilson interval.

    Returns
    -------
    RateResult

    Raises
    ------
    ValueError
        If a count is negative or ``referred_new_customers`` exceeds ``new_customers``.

    Notes
    -----
    No new customers gives NaN with a reason.

    Examples
    --------
    >>> referral_rate(12, 80).value
    0.15
    """
    return rate_result(
        referred_new_customers,
        new_customers,
        numerator_name="referred_new_customers",
        denominator_name="new_customers",
        what="referral rate",
        confidence_level=confidence_level,
    )


def referrals_per_referrer(referrals, referrers) -> ValueResult:
    r"""Average number of new customers brought in by each referring customer.

    .. math:: \text{referrals per referrer} = \frac{\text{referrals}}{\text{referrers}}

    Parameters
    ----------
    referrals : int
        New customers acquired through a referral in the period.
    referrers : int
        Distinct customers who referred at least one of them.

    Returns
    -------
    ValueResult
        ``value`` >= 0 with ``numerator`` = referrals and ``denominator`` = referrers.

    Raises
    ------
    ValueError
        If a count is negative or not finite.

    Notes
    -----
    With referrers defined as customers who referred someone, the value is at least 1; it is
    not checked, so a wider definition (e.g. members of a referral programme) also works.
    No referrers gives NaN with a reason.

    Examples
    --------
    >>> referrals_per_referrer(30, 20).value
    1.5
    """
    num = check_count("referrals", referrals)
    den = check_count("referrers", referrers)
    if den == 0:
        reason = undefined("referrals per referrer is undefined: referrers is 0")
        return ValueResult(NAN, num, den, n=0, unit="referrals per referrer", reason=reason)
    return ValueResult(num / den, num, den, n=int(den), unit="referrals per referrer")


@dataclass(frozen=True)
class ReviewSummary(Result):
    """Review volume, average rating (``value``, with ``mean``) and share of positive ratings.

    ``ci`` is the interval of the average rating (the same as ``mean.ci``).
    """

    value: float
    volume: int
    mean: MeanResult
    positive: RateResult
    scale: tuple[float, float] = (1, 5)
    positive_threshold: float = 4
    ci: ConfidenceInterval = NO_CI
    reason: str | None = None


def review_summary(
    ratings, *, positive_threshold: float = 4, scale=(1, 5), confidence_level: float = 0.95
) -> ReviewSummary:
    r"""Volume, average rating and share of positive ratings of a set of reviews.

    .. math:: \bar r = \frac{1}{n}\sum_i r_i, \qquad
              \text{positive share} = \frac{\#\{i : r_i \ge \text{threshold}\}}{n}

    Parameters
    ----------
    ratings : array-like of float
        One rating per review, on ``scale``.
    positive_threshold : float, default 4
        Lowest rating that counts as positive (4 and 5 of 5 by default).
    scale : (low, high), default (1, 5)
        The rating scale; every rating must lie in it.
    confidence_level : float, default 0.95
        Level of the t interval (mean) and the Wilson interval (positive share).

    Returns
    -------
    ReviewSummary
        ``value`` = the average rating, ``volume`` = reviews counted, ``mean`` (a
        :class:`MeanResult` with the interval), ``positive`` (a :class:`RateResult`).

    Raises
    ------
    ValueError
        If ``scale`` is not two increasing numbers, the threshold lies outside it, or a rating
        lies outside it.

    Notes
    -----
    Missing ratings (NaN) are not reviews and are dropped. No ratings gives volume 0 and NaN
    with a reason.

    Examples
    --------
    >>> s = review_summary([5, 4, 3, 5, 1])
    >>> s.volume, s.value, s.positive.value
    (5, 3.6, 0.6)
    """
    level = check_confidence_level(confidence_level)
    try:
        low, high = (float(x) for x in scale)
    except (TypeError, ValueError):
        raise ValueError(f"`scale` ({scale!r}) must be two numbers (low, high), e.g. (1, 5)") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"`scale` ({scale!r}) must be two finite numbers with low < high")
    threshold = check_number("positive_threshold", positive_threshold, low=low, high=high)
    arr = check_values("ratings", ratings, low=low, high=high)
    mean = mean_result(arr, unit="rating", what="average rating", confidence_level=level, low=low, high=high)
    positive = rate_result(
        int((arr >= threshold).sum()),
        arr.size,
        numerator_name=f"ratings >= {threshold:g}",
        denominator_name="ratings",
        what="positive review share",
        confidence_level=level,
    )
    reason = None if arr.size else "review summary is undefined: no ratings"
    return ReviewSummary(mean.value, int(arr.size), mean, positive, (low, high), threshold, mean.ci, reason)


def bounce_rate(bounces, sessions, *, confidence_level: float = 0.95) -> RateResult:
    r"""Share of web sessions that viewed a single page.

    .. math:: \text{bounce rate} = \frac{\text{single-page sessions}}{\text{sessions}}

    Parameters
    ----------
    bounces : int
        Single-page sessions.
    sessions : int
        All sessions.
    confidence_level : float, default 0.95
        Level of the Wilson interval.

    Returns
    -------
    RateResult

    Raises
    ------
    ValueError
        If a count is negative or ``bounces`` exceeds ``sessions``.

    Notes
    -----
    Lower is better. No sessions gives NaN with a reason.

    Examples
    --------
    >>> bounce_rate(450, 1000).value
    0.45
    """
    return rate_result(
        bounces,
        sessions,
        numerator_name="bounces",
        denominator_name="sessions",
        what="bounce rate",
        confidence_level=confidence_level,
    )


@dataclass(frozen=True)
class WebEngagementSummary(Result):
    """Web engagement over a period: totals, pages per session, time on page and bounce rate.

    ``value`` (the headline) is the bounce rate and ``ci`` its Wilson interval.
    """

    value: float
    sessions: float
    page_views: float
    pages_per_session: ValueResult
    average_time_on_page_s: ValueResult
    bounce_rate: RateResult
    ci: ConfidenceInterval = NO_CI
    reason: str | None = None


def _total(name: str, x) -> float:
    """A count given as one number or as per-day values (summed)."""
    if np.ndim(x) == 0:
        return check_count(name, x)
    arr = check_values(name, x, low=0.0)
    return float(arr.sum())


def web_engagement_summary(
    sessions, page_views, bounces, total_time_on_page_s, *, confidence_level: float = 0.95
) -> WebEngagementSummary:
    r"""Pages per session, average time on page and bounce rate from web totals.

    .. math:: \text{pages per session} = \frac{\text{page views}}{\text{sessions}}, \qquad
              \text{avg time on page} = \frac{\text{total time on page (s)}}{\text{page views}},
              \qquad \text{bounce rate} = \frac{\text{bounces}}{\text{sessions}}

    Parameters
    ----------
    sessions, page_views, bounces, total_time_on_page_s : float or array-like
        Period totals, or per-day values (e.g. the ``web_engagement`` table's columns), which
        are summed. Missing days (NaN) count as 0.
    confidence_level : float, default 0.95
        Level of the bounce rate's Wilson interval.

    Returns
    -------
    WebEngagementSummary
        ``sessions``, ``page_views``, ``pages_per_session``, ``average_time_on_page_s`` (both
        :class:`ValueResult`), ``bounce_rate`` (:class:`RateResult`); ``value`` is the bounce rate.

    Raises
    ------
    ValueError
        If a total is negative or not finite, or ``bounces`` exceeds ``sessions``.

    Notes
    -----
    Ratios are of totals, not averages of daily ratios, so a busy day weighs more than a quiet
    one. No sessions makes pages per session and bounce rate NaN; no page views makes the time
    on page NaN; each with a reason.

    Examples
    --------
    >>> w = web_engagement_summary(1000, 3500, 450, 210_000)
    >>> w.pages_per_session.value, w.average_time_on_page_s.value, w.bounce_rate.value
    (3.5, 60.0, 0.45)
    """
    level = check_confidence_level(confidence_level)
    s = _total("sessions", sessions)
    pv = _total("page_views", page_views)
    b = _total("bounces", bounces)
    t = _total("total_time_on_page_s", total_time_on_page_s)
    bounce = rate_result(
        b,
        s,
        numerator_name="bounces",
        denominator_name="sessions",
        what="bounce rate",
        confidence_level=level,
    )
    if s == 0:
        pps = ValueResult(
            NAN,
            pv,
            s,
            n=0,
            unit="pages per session",
            reason=undefined("pages per session is undefined: sessions is 0"),
        )
    else:
        pps = ValueResult(pv / s, pv, s, n=int(s), unit="pages per session")
    if pv == 0:
        top = ValueResult(
            NAN,
            t,
            pv,
            n=0,
            unit="seconds",
            reason=undefined("average time on page is undefined: page_views is 0"),
        )
    else:
        top = ValueResult(t / pv, t, pv, n=int(pv), unit="seconds")
    return WebEngagementSummary(bounce.value, s, pv, pps, top, bounce, bounce.ci, bounce.reason)
