"""Satisfaction and loyalty formulas: CSAT, NPS and CES.

Pure functions on survey answers or on the counts behind them. Every answer must be a whole
number on the survey's scale; missing answers (NaN, None, pandas NA) are dropped before counting,
because a blank is no answer rather than a low one. No database access and no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from scipy import stats as sps

from metrics_lib.core.inputs import check_alpha, check_scale, check_scores, check_whole_count, z_critical
from metrics_lib.core.results import (
    NAN,
    ComparisonResult,
    ConfidenceInterval,
    MeanResult,
    NPSResult,
    RateResult,
    Result,
    check_confidence_level,
    undefined,
)
from metrics_lib.core.stats import mean_result, rate_result

__all__ = [
    "CESResult",
    "CSATResult",
    "LOW_SAMPLE_THRESHOLD",
    "ces",
    "compare_nps",
    "csat",
    "csat_from_counts",
    "low_sample",
    "nps",
    "nps_from_counts",
]

#: Below this many answers a score is flagged as resting on a low sample (docs/metrics.md); the
#: workbook flags any number resting on fewer answers or units the same way.
LOW_SAMPLE_THRESHOLD = 30

NPS_METHODS = ("wald", "adjusted_wald")


@dataclass(frozen=True)
class CSATResult(Result):
    """CSAT: the share of satisfied answers, with the mean score beside it.

    ``value`` is the share in [0, 1] (``percent`` gives it times 100), ``numerator`` the satisfied
    answers, ``denominator`` = ``n`` all answers, ``ci`` a Wilson interval for the share and
    ``mean`` the mean score with its Student-t interval.
    """

    value: float
    numerator: int
    denominator: int
    ci: ConfidenceInterval
    n: int
    mean: MeanResult
    scale: tuple[int, int] = (1, 5)
    satisfied_threshold: int = 4
    unit: str = "share"
    reason: str | None = None

    @property
    def percent(self) -> float:
        """CSAT % as reported on a dashboard: ``value * 100``."""
        return self.value * 100


@dataclass(frozen=True)
class CESResult(Result):
    """Customer effort: the mean answer with its Student-t interval and the share of easy answers.

    ``value`` is the mean score on ``scale``; ``easy`` is a :class:`RateResult` (easy answers /
    all answers, Wilson interval).
    """

    value: float
    n: int
    ci: ConfidenceInterval
    median: float
    std: float
    easy: RateResult
    scale: tuple[int, int] = (1, 7)
    higher_is_easier: bool = True
    easy_threshold: int = 5
    unit: str = "score"
    reason: str | None = None


def csat(scores, *, scale=(1, 5), satisfied_threshold: int = 4, confidence_level: float = 0.95) -> CSATResult:
    r"""Customer satisfaction: the share of answers at or above the "satisfied" threshold.

    .. math:: \text{CSAT} = \frac{\#\{\text{answers} \ge \text{threshold}\}}{\#\{\text{answers}\}}

    Parameters
    ----------
    scores : list, numpy array or pandas Series of int
        One answer per response, whole numbers on ``scale``; missing answers are dropped.
    scale : (int, int), default (1, 5)
        Lowest and highest possible answer.
    satisfied_threshold : int, default 4
        Answers at or above it count as satisfied (4 and 5 on a 1-5 scale; some teams use 9 on
        1-10).
    confidence_level : float, default 0.95
        Level of the Wilson interval of the share and of the t interval of the mean.

    Returns
    -------
    CSATResult
        ``value`` in [0, 1] with ``numerator``, ``denominator``, Wilson ``ci``, ``n`` and the
        ``mean`` score (a :class:`MeanResult` with a Student-t interval).

    Raises
    ------
    ValueError
        If an answer lies outside ``scale`` or is not a whole number, if ``scale`` is not a pair
        of whole numbers, or if ``satisfied_threshold`` lies outside ``scale``.

    Notes
    -----
    With no answers CSAT is undefined: ``value`` and ``mean.value`` are NaN and ``reason`` says
    why. With a single answer the share is 0 or 1 with a wide Wilson interval and the mean has
    no interval (NaN bounds). Use :func:`low_sample` to flag fewer than 30 answers.

    Examples
    --------
    >>> r = csat([5, 4, 4, 3, 5, 2, 5, 4, 1, 5])
    >>> r.value, r.numerator, r.denominator, r.percent
    (0.7, 7, 10, 70.0)
    >>> r.mean.value
    3.8
    >>> csat([9, 10, 7, 8], scale=(1, 10), satisfied_threshold=9).value
    0.5
    """
    low, high = check_scale("scale", scale)
    threshold = _check_threshold("satisfied_threshold", satisfied_threshold, low, high)
    level = check_confidence_level(confidence_level)
    answers = check_scores("scores", scores, low=low, high=high)
    satisfied = int((answers >= threshold).sum())
    n = int(answers.size)
    if n == 0:
        reason = undefined("CSAT is undefined: no answers")
        mean = MeanResult(NAN, 0, ConfidenceInterval(NAN, NAN, level, "t"), reason=reason)
        return CSATResult(
            NAN,
            0,
            0,
            ConfidenceInterval(NAN, NAN, level, "wilson"),
            0,
            mean,
            (low, high),
            threshold,
            reason=reason,
        )
    share = rate_result(satisfied, n, confidence_level=level)
    mean = mean_result(
        answers, unit="score", what="mean CSAT score", confidence_level=level, low=low, high=high
    )
    return CSATResult(share.value, satisfied, n, share.ci, n, mean, (low, high), threshold)


def csat_from_counts(satisfied, total, *, confidence_level: float = 0.95) -> RateResult:
    r"""CSAT from counts: satisfied answers over all answers.

    .. math:: \text{CSAT} = \frac{\text{satisfied}}{\text{total}}

    Parameters
    ----------
    satisfied : int
        Answers at or above the satisfied threshold.
    total : int
        All answers.
    confidence_level : float, default 0.95
        Level of the Wilson interval.

    Returns
    -------
    RateResult
        ``value`` in [0, 1] with ``numerator``, ``denominator`` and a Wilson ``ci``.

    Raises
    ------
    ValueError
        If a count is negative or not whole, or ``satisfied`` exceeds ``total``.

    Notes
    -----
    With ``total`` 0 CSAT is undefined: ``value`` is NaN and ``reason`` says why.

    Examples
    --------
    >>> r = csat_from_counts(80, 100)
    >>> r.value, round(r.ci.low, 4), round(r.ci.high, 4)
    (0.8, 0.7112, 0.8666)
    """
    sat = check_whole_count("satisfied", satisfied)
    tot = check_whole_count("total", total)
    return rate_result(
        sat,
        tot,
        numerator_name="satisfied",
        denominator_name="total",
        what="CSAT",
        confidence_level=confidence_level,
    )


def nps(scores, *, confidence_level: float = 0.95, method: str = "wald") -> NPSResult:
    r"""Net Promoter Score from 0-10 answers: % promoters (9-10) minus % detractors (0-6).

    .. math:: \text{NPS} = 100\,\frac{\#\{9, 10\} - \#\{0, \dots, 6\}}{n}

    Parameters
    ----------
    scores : list, numpy array or pandas Series of int
        Answers 0-10 to "How likely are you to recommend us?"; missing answers are dropped.
    confidence_level : float, default 0.95
        Level of the interval.
    method : {"wald", "adjusted_wald"}, default "wald"
        Interval method; see :func:`nps_from_counts`.

    Returns
    -------
    NPSResult
        ``value`` in [-100, 100] with the group counts and shares, ``variance`` of the per-answer
        score and ``ci``.

    Raises
    ------
    ValueError
        If an answer is outside 0-10 or not a whole number, or ``method`` is unknown.

    Notes
    -----
    Passives (7-8) count in ``n`` but in neither share's numerator. No answers: NaN with a
    reason. The interval is computed as in :func:`nps_from_counts`.

    Examples
    --------
    >>> r = nps([10, 9, 9, 8, 7, 6, 3, 10, 9, 0])
    >>> r.value, r.promoters, r.passives, r.detractors
    (20.0, 5, 2, 3)
    """
    answers = check_scores("scores", scores, low=0, high=10)
    promoters = int((answers >= 9).sum())
    detractors = int((answers <= 6).sum())
    passives = int(answers.size) - promoters - detractors
    return nps_from_counts(promoters, passives, detractors, confidence_level=confidence_level, method=method)


def nps_from_counts(
    promoters, passives, detractors, *, confidence_level: float = 0.95, method: str = "wald"
) -> NPSResult:
    r"""Net Promoter Score from the counts of promoters, passives and detractors.

    With :math:`P` and :math:`D` the promoter and detractor shares of the :math:`n` answers,

    .. math::

        \text{NPS} = 100\,(P - D), \qquad
        \sigma^2 = (P + D) - (P - D)^2, \qquad
        \text{CI} = \text{NPS} \pm 100\, z \sqrt{\sigma^2 / n}

    where :math:`\sigma^2` is the variance of the per-answer score (+1 promoter, 0 passive,
    -1 detractor). The ``"adjusted_wald"`` method computes the same interval after adding 3 to
    :math:`n` and 3/4 to each of the promoter and detractor counts.

    Parameters
    ----------
    promoters, passives, detractors : int
        Answers 9-10, 7-8 and 0-6.
    confidence_level : float, default 0.95
        Level of the interval.
    method : {"wald", "adjusted_wald"}, default "wald"
        ``"wald"``: the interval above on the observed shares. ``"adjusted_wald"``: the same on
        the adjusted counts, centred on the adjusted score; it behaves better at small ``n``.

    Returns
    -------
    NPSResult
        ``value`` in [-100, 100] (always the observed score), ``n``, the three counts and shares,
        ``variance`` (of the observed per-answer score) and ``ci`` clipped to [-100, 100].

    Raises
    ------
    ValueError
        If a count is negative or not a whole number, or ``method`` is unknown.

    Notes
    -----
    - No answers: every field but the counts is NaN and ``reason`` says why.
    - The Wald interval collapses to a point when every answer is in one group (the observed
      variance is 0), e.g. all promoters gives [100, 100]; prefer ``"adjusted_wald"`` there.
    - The adjusted-Wald interval is centred on the adjusted score, which is pulled towards 0, so
      at small ``n`` with extreme shares it can leave out the observed score: one promoter gives
      NPS 100 and the interval [-48.5, 98.5].

    Examples
    --------
    >>> r = nps_from_counts(50, 30, 20)
    >>> r.value, r.promoter_share, r.detractor_share, round(r.variance, 2)
    (30.0, 0.5, 0.2, 0.61)
    >>> round(r.ci.low, 2), round(r.ci.high, 2)
    (14.69, 45.31)
    >>> a = nps_from_counts(50, 30, 20, method="adjusted_wald")
    >>> round(a.ci.low, 2), round(a.ci.high, 2)
    (14.05, 44.2)
    >>> nps_from_counts(10, 0, 0).value, nps_from_counts(0, 0, 10).value
    (100.0, -100.0)
    """
    p = check_whole_count("promoters", promoters)
    m = check_whole_count("passives", passives)
    d = check_whole_count("detractors", detractors)
    level = check_confidence_level(confidence_level)
    if method not in NPS_METHODS:
        raise ValueError(f"`method` ({method!r}) must be one of {', '.join(map(repr, NPS_METHODS))}")
    n = p + m + d
    if n == 0:
        reason = undefined("NPS is undefined: no answers")
        return NPSResult(
            NAN, 0, 0, 0, 0, NAN, NAN, NAN, ConfidenceInterval(NAN, NAN, level, method), NAN, reason=reason
        )
    value = 100.0 * (p - d) / n
    share_p, share_d = p / n, d / n
    variance = _score_variance(share_p, share_d)
    if method == "wald":
        centre, half = value, 100.0 * z_critical(level) * math.sqrt(variance / n)
    else:
        n_adj = n + 3
        share_p_adj, share_d_adj = (p + 0.75) / n_adj, (d + 0.75) / n_adj
        centre = 100.0 * (share_p_adj - share_d_adj)
        half = 100.0 * z_critical(level) * math.sqrt(_score_variance(share_p_adj, share_d_adj) / n_adj)
    ci = ConfidenceInterval(max(-100.0, centre - half), min(100.0, centre + half), level, method)
    return NPSResult(value, n, p, m, d, share_p, m / n, share_d, ci, variance)


def compare_nps(current: NPSResult, previous: NPSResult, *, alpha: float = 0.05) -> ComparisonResult:
    r"""Whether NPS changed between two periods (or groups): a two-sample z-test.

    With :math:`\sigma_i^2 = (P_i + D_i) - (P_i - D_i)^2` the per-answer score variance of each
    period and scores in share units (NPS / 100),

    .. math::

        z = \frac{\text{NPS}_1/100 - \text{NPS}_2/100}{\sqrt{\sigma_1^2 / n_1 + \sigma_2^2 / n_2}},
        \qquad p = 2\,(1 - \Phi(|z|))

    Parameters
    ----------
    current, previous : NPSResult
        From :func:`nps` or :func:`nps_from_counts`.
    alpha : float, default 0.05
        Significance level; also sets the ``1 - alpha`` interval of the difference.

    Returns
    -------
    ComparisonResult
        ``value`` = ``current.value - previous.value`` in NPS points, ``statistic`` z,
        ``p_value`` two-sided, ``ci`` of the difference in NPS points (clipped to [-200, 200]).

    Raises
    ------
    ValueError
        If either argument is not an :class:`NPSResult`, or ``alpha`` is not in (0, 1).

    Notes
    -----
    - A period with no answers: the comparison is NaN with a reason.
    - Both variances 0 (each period's answers all in one group): no noise to test against;
      equal scores give ``p_value`` 1, different scores give NaN with a reason.

    Examples
    --------
    >>> c = compare_nps(nps_from_counts(50, 30, 20), nps_from_counts(40, 30, 30))
    >>> c.value, round(c.statistic, 3), round(c.p_value, 4)
    (20.0, 1.754, 0.0794)
    """
    for name, res in (("current", current), ("previous", previous)):
        if not isinstance(res, NPSResult):
            raise ValueError(
                f"`{name}` ({type(res).__name__}) must be an NPSResult from nps() or nps_from_counts()"
            )
    alpha = check_alpha(alpha)
    test = "two-sample z (NPS)"
    diff = current.value - previous.value
    if not (current.defined and previous.defined):
        reason = undefined("NPS comparison is undefined: a period has no answers")
        return ComparisonResult(NAN, current.value, previous.value, alpha=alpha, test=test, reason=reason)
    var_cur = _score_variance(current.promoters / current.n, current.detractors / current.n)
    var_prev = _score_variance(previous.promoters / previous.n, previous.detractors / previous.n)
    se = math.sqrt(var_cur / current.n + var_prev / previous.n)
    level = 1 - alpha
    if se == 0:
        if diff == 0:
            ci = ConfidenceInterval(0.0, 0.0, level, "z")
            return ComparisonResult(0.0, current.value, previous.value, 1.0, 0.0, alpha, test, ci)
        reason = undefined("NPS z-test is undefined: neither period varies (all answers in one group)")
        return ComparisonResult(diff, current.value, previous.value, alpha=alpha, test=test, reason=reason)
    z = (diff / 100.0) / se
    p_value = float(2 * sps.norm.sf(abs(z)))
    half = 100.0 * z_critical(level) * se
    ci = ConfidenceInterval(max(-200.0, diff - half), min(200.0, diff + half), level, "z")
    return ComparisonResult(diff, current.value, previous.value, p_value, float(z), alpha, test, ci)


def ces(
    scores,
    *,
    scale=(1, 7),
    higher_is_easier: bool = True,
    easy_threshold: int = 5,
    confidence_level: float = 0.95,
) -> CESResult:
    r"""Customer effort score: the mean answer and the share of "easy" answers.

    .. math::

        \text{CES} = \frac{1}{n}\sum_i s_i, \qquad
        \text{easy share} = \frac{\#\{s_i \ge t\}}{n}
        \;\; (\text{or } \#\{s_i \le t\} \text{ when lower is easier})

    Parameters
    ----------
    scores : list, numpy array or pandas Series of int
        One answer per response, whole numbers on ``scale``; missing answers are dropped.
    scale : (int, int), default (1, 7)
        Lowest and highest possible answer (1-7 agreement that it was easy, or 0-10, ...).
    higher_is_easier : bool, default True
        Direction of the scale. When False, low answers mean little effort.
    easy_threshold : int, default 5
        Answers at or above it (at or below it when ``higher_is_easier`` is False) count as easy.
    confidence_level : float, default 0.95
        Level of the t interval of the mean and the Wilson interval of the easy share.

    Returns
    -------
    CESResult
        ``value`` the mean score with Student-t ``ci``, ``median``, ``std`` and ``easy`` (a
        :class:`RateResult`).

    Raises
    ------
    ValueError
        If an answer lies outside ``scale`` or is not whole, or ``easy_threshold`` lies outside
        ``scale``.

    Notes
    -----
    No answers: NaN with a reason. One answer: the mean with NaN interval bounds. The mean is
    reported on the scale as given; it is not flipped when lower is easier.

    Examples
    --------
    >>> r = ces([7, 6, 5, 3, 2, 6, 7, 4])
    >>> r.value, r.easy.value, r.easy.numerator
    (5.0, 0.625, 5.0)
    >>> ces([1, 2, 5, 4], scale=(1, 5), higher_is_easier=False, easy_threshold=2).easy.value
    0.5
    """
    low, high = check_scale("scale", scale)
    threshold = _check_threshold("easy_threshold", easy_threshold, low, high)
    if not isinstance(higher_is_easier, bool):
        raise ValueError(f"`higher_is_easier` ({higher_is_easier!r}) must be True or False")
    level = check_confidence_level(confidence_level)
    answers = check_scores("scores", scores, low=low, high=high)
    n = int(answers.size)
    if n == 0:
        reason = undefined("CES is undefined: no answers")
        easy = RateResult(NAN, 0, 0, ConfidenceInterval(NAN, NAN, level, "wilson"), 0, reason=reason)
        return CESResult(
            NAN,
            0,
            ConfidenceInterval(NAN, NAN, level, "t"),
            NAN,
            NAN,
            easy,
            (low, high),
            higher_is_easier,
            threshold,
            reason=reason,
        )
    is_easy = answers >= threshold if higher_is_easier else answers <= threshold
    easy = rate_result(
        int(is_easy.sum()),
        n,
        numerator_name="easy answers",
        denominator_name="answers",
        what="easy share",
        confidence_level=level,
    )
    mean = mean_result(answers, unit="score", what="CES", confidence_level=level, low=low, high=high)
    return CESResult(
        mean.value, n, mean.ci, mean.median, mean.std, easy, (low, high), higher_is_easier, threshold
    )


def low_sample(n: Any, *, threshold: int = LOW_SAMPLE_THRESHOLD) -> bool:
    """True when a score rests on fewer than ``threshold`` answers (default 30).

    Parameters
    ----------
    n : int or a result with an ``n`` field
        Sample size, or e.g. the :class:`NPSResult` / :class:`CSATResult` itself.
    threshold : int, default 30
        Smallest sample that is not flagged.

    Raises
    ------
    ValueError
        If ``n`` or ``threshold`` is not a whole number >= 0.

    Examples
    --------
    >>> low_sample(12), low_sample(30), low_sample(nps_from_counts(50, 30, 20))
    (True, False, False)
    """
    size = check_whole_count("n", getattr(n, "n", n))
    limit = check_whole_count("threshold", threshold)
    return size < limit


def _score_variance(share_p: float, share_d: float) -> float:
    # Rounding can push a zero variance a hair below 0.
    return max(0.0, (share_p + share_d) - (share_p - share_d) ** 2)


def _check_threshold(name: str, value: Any, low: int, high: int) -> int:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not float(value).is_integer()
        or not low <= value <= high
    ):
        raise ValueError(f"`{name}` ({value!r}) must be a whole number within the scale {low}-{high}")
    return int(value)
