"""Subscription revenue formulas: the MRR movements of a period, the quick ratio and ARPA.

A period's MRR movements explain how the monthly recurring revenue at its start became the MRR at
its end, customer by customer, from two snapshots (the day before the period and its last day):

.. math:: \\text{MRR}_\\text{end} = \\text{MRR}_\\text{start} + \\text{new} + \\text{expansion}
          + \\text{reactivation} - \\text{contraction} - \\text{churned}

Gross and net revenue retention (:mod:`metrics_lib.formulas.retention`) use the same start MRR,
expansion, contraction and churned amounts. Pure functions of arrays and amounts: no database
access and no I/O.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from metrics_lib.core.inputs import as_float_array
from metrics_lib.core.results import NAN, NO_CI, ValueResult, check_count, undefined
from metrics_lib.core.stats import t_interval

__all__ = ["MRRMovements", "mrr_movements", "quick_ratio", "arpa"]


@dataclass(frozen=True)
class MRRMovements:
    """The MRR at a period's start and end and the movements between them (all amounts >= 0).

    ``start`` and ``end`` are the MRR of every customer on the two snapshot days; ``new`` and
    ``reactivation`` the end MRR of customers with none at the start (never before, or before but
    not at the start); ``expansion`` and ``contraction`` the change of customers paying at both
    snapshots; ``churned`` the start MRR of customers paying nothing at the end."""

    start: float
    new: float
    expansion: float
    reactivation: float
    contraction: float
    churned: float
    end: float

    @property
    def bridged_end(self) -> float:
        """start + new + expansion + reactivation - contraction - churned: equals :attr:`end`."""
        return self.start + self.new + self.expansion + self.reactivation - self.contraction - self.churned


def mrr_movements(start_mrr, end_mrr, had_mrr_before) -> MRRMovements:
    r"""Classify each customer's change of MRR between two snapshots and sum each movement.

    Parameters
    ----------
    start_mrr, end_mrr : array-like of float
        Each customer's MRR on the snapshot day before the period and on its last day (0 when
        not paying), aligned.
    had_mrr_before : array-like of bool
        Whether the customer had MRR above 0 on some day before the period.

    Returns
    -------
    MRRMovements
        For each customer exactly one movement applies: *new* (0 at the start, never paid before,
        > 0 at the end), *reactivation* (0 at the start, paid before, > 0 at the end), *expansion*
        (> 0 at both, up), *contraction* (> 0 at both, down), *churned* (> 0 at the start, 0 at
        the end). The movements bridge the start to the end exactly.

    Raises
    ------
    ValueError
        If the arrays differ in length or an MRR is negative or not finite.

    Notes
    -----
    Movements are net over the period: a customer who upgrades and downgrades back inside the
    period moves nothing, and one who joins and leaves inside it is in neither snapshot. So a
    quarter's movements are not the sum of its months' movements (the start and end MRR are).

    Examples
    --------
    >>> m = mrr_movements([100, 50, 0, 0, 80], [120, 0, 30, 40, 60], [True, True, False, True, True])
    >>> m.new, m.expansion, m.reactivation, m.contraction, m.churned
    (30.0, 20.0, 40.0, 20.0, 50.0)
    >>> m.start, m.end, m.bridged_end
    (230.0, 250.0, 250.0)
    """
    m0 = as_float_array("start_mrr", start_mrr)
    m1 = as_float_array("end_mrr", end_mrr)
    before = np.asarray(had_mrr_before, dtype=bool).ravel()
    if not (m0.size == m1.size == before.size):
        raise ValueError(
            f"`start_mrr` ({m0.size}), `end_mrr` ({m1.size}) and `had_mrr_before` ({before.size}) must "
            "have one value per customer each"
        )
    for name, arr in (("start_mrr", m0), ("end_mrr", m1)):
        bad = ~np.isfinite(arr) | (arr < 0)
        if bad.any():
            raise ValueError(f"`{name}` must be finite amounts >= 0; found {arr[bad][:3].tolist()}")
    both = (m0 > 0) & (m1 > 0)
    delta = m1 - m0
    joined = (m0 == 0) & (m1 > 0)
    return MRRMovements(
        start=float(m0.sum()),
        new=float(m1[joined & ~before].sum()),
        expansion=float(delta[both & (delta > 0)].sum()),
        reactivation=float(m1[joined & before].sum()),
        contraction=float(-delta[both & (delta < 0)].sum()),
        churned=float(m0[(m0 > 0) & (m1 == 0)].sum()),
        end=float(m1.sum()),
    )


def quick_ratio(new_mrr, expansion_mrr, reactivation_mrr, contraction_mrr, churned_mrr) -> ValueResult:
    r"""MRR gained for each unit of MRR lost in a period (the SaaS quick ratio).

    .. math:: \text{quick ratio} = \frac{\text{new} + \text{expansion} + \text{reactivation}}
              {\text{contraction} + \text{churned}}

    Parameters
    ----------
    new_mrr, expansion_mrr, reactivation_mrr : float
        MRR gained in the period (amounts >= 0).
    contraction_mrr, churned_mrr : float
        MRR lost in the period (amounts >= 0).

    Returns
    -------
    ValueResult
        ``value`` >= 0 (``unit`` "ratio"), ``numerator`` the MRR gained, ``denominator`` the MRR
        lost, ``components`` the five movements.

    Raises
    ------
    ValueError
        If an amount is negative or not finite.

    Notes
    -----
    Above 1 the recurring revenue grows; 4 is often quoted as the mark of efficient growth. With
    no MRR lost the ratio is unbounded: NaN with a reason, not infinity.

    Examples
    --------
    >>> quick_ratio(3_000, 1_000, 0, 500, 1_500).value
    2.0
    >>> quick_ratio(3_000, 0, 0, 0, 0).reason
    'quick ratio is undefined: no MRR was lost (contraction + churned is 0)'
    """
    names = ("new_mrr", "expansion_mrr", "reactivation_mrr", "contraction_mrr", "churned_mrr")
    amounts = dict(
        zip(names, (new_mrr, expansion_mrr, reactivation_mrr, contraction_mrr, churned_mrr), strict=True)
    )
    components = {k: check_count(k, v) for k, v in amounts.items()}
    gained = components["new_mrr"] + components["expansion_mrr"] + components["reactivation_mrr"]
    lost = components["contraction_mrr"] + components["churned_mrr"]
    if lost == 0:
        reason = undefined("quick ratio is undefined: no MRR was lost (contraction + churned is 0)")
        return ValueResult(NAN, gained, lost, unit="ratio", components=components, reason=reason)
    return ValueResult(gained / lost, gained, lost, unit="ratio", components=components)


def arpa(total_mrr, accounts, *, mrr_std=NAN, confidence_level: float = 0.95) -> ValueResult:
    r"""Average revenue per account: the MRR of the paying accounts over their number.

    .. math:: \text{ARPA} = \frac{\text{MRR}}{\text{accounts with MRR} > 0}

    Parameters
    ----------
    total_mrr : float
        MRR of the accounts on the snapshot day (>= 0).
    accounts : int
        Accounts with MRR above 0 that day.
    mrr_std : float, optional
        Sample standard deviation of the accounts' MRR; gives a Student-t interval when known.
    confidence_level : float, default 0.95

    Returns
    -------
    ValueResult
        ``value`` (``unit`` "currency"), ``numerator`` the MRR, ``denominator`` = ``n`` the
        accounts, ``ci`` the t interval, truncated at 0 (NaN bounds without ``mrr_std`` or with
        one account).

    Raises
    ------
    ValueError
        If an amount is negative or not finite, or ``accounts`` is not a whole count.

    Examples
    --------
    >>> arpa(12_000, 40).value
    300.0
    >>> r = arpa(400.0, 4, mrr_std=18.2574)
    >>> round(r.ci.low, 2), round(r.ci.high, 2)
    (70.95, 129.05)
    >>> arpa(0, 0).reason
    'ARPA is undefined: no account pays MRR (accounts is 0)'
    """
    mrr = check_count("total_mrr", total_mrr)
    n = check_count("accounts", accounts)
    if n != int(n):
        raise ValueError(f"`accounts` ({accounts}) must be a whole number of accounts")
    n = int(n)
    if n == 0:
        reason = undefined("ARPA is undefined: no account pays MRR (accounts is 0)")
        return ValueResult(NAN, mrr, 0, n=0, unit="currency", reason=reason)
    mean = mrr / n
    std = float(mrr_std)
    ci = (
        t_interval(mean, std, n, confidence_level=confidence_level, low=0.0) if not math.isnan(std) else NO_CI
    )
    return ValueResult(mean, mrr, n, n=n, ci=ci, unit="currency")
