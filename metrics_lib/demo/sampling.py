"""The calendar of the demo data window and the random-draw helpers every table uses.

:class:`Calendar` turns ISO dates into day numbers (days since 1970-01-01) and months into
indices; the helpers draw categories by group, NPS groups from latent sentiment, era-dependent
values (before / after the strategy change), lognormal amounts and Poisson event days while a
customer is active. All draws come from the one ``numpy.random.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from metrics_lib.demo.effects import DemoEffects

DAY_US = 86_400_000_000
HOUR_US = 3_600_000_000


@dataclass(frozen=True)
class Calendar:
    """Day numbers (days since 1970-01-01) of the data window and of the strategy change."""

    start: int
    end: int  # inclusive
    change: int
    month0: np.datetime64
    n_months: int

    @classmethod
    def build(cls, start: str, end: str, change: str) -> Calendar:
        try:
            first = np.datetime64(str(start), "D")
            last = np.datetime64(str(end), "D")
        except ValueError:
            raise ValueError(f"`start` ({start!r}) and `end` ({end!r}) must be ISO dates") from None
        if last <= first:
            raise ValueError(f"`end` ({end}) must be after `start` ({start})")
        month0 = first.astype("datetime64[M]")
        n_months = int((last.astype("datetime64[M]") - month0).astype(int)) + 1
        change_day = int(np.datetime64(str(change), "D").astype(np.int64))
        return cls(int(first.astype(np.int64)), int(last.astype(np.int64)), change_day, month0, n_months)

    @property
    def stop(self) -> int:
        """First day after the data."""
        return self.end + 1

    @property
    def days(self) -> np.ndarray:
        return np.arange(self.start, self.stop, dtype=np.int64)

    def month_start(self, month: np.ndarray | int) -> np.ndarray:
        """First day of month index ``month`` (0 = the month of ``start``)."""
        return (self.month0 + np.asarray(month)).astype("datetime64[D]").astype(np.int64)

    def month_index(self, day: np.ndarray) -> np.ndarray:
        months = np.asarray(day).astype("datetime64[D]").astype("datetime64[M]")
        return (months - self.month0).astype(np.int64)

    def anniversary(self, month: np.ndarray | int, day_of_month: np.ndarray) -> np.ndarray:
        """The day in month index ``month`` with the given day of month, clipped to its end."""
        first = self.month_start(month)
        length = self.month_start(np.asarray(month) + 1) - first
        return first + np.minimum(day_of_month, length) - 1


def month_of_year(day: np.ndarray) -> np.ndarray:
    """Calendar month 0-11 (0 = January) of day numbers."""
    return np.asarray(day).astype("datetime64[D]").astype("datetime64[M]").astype(np.int64) % 12


def choice_by_group(rng: np.random.Generator, group: np.ndarray, shares) -> np.ndarray:
    """One category per row, drawn from the row of ``shares`` picked by ``group``."""
    cumulative = np.cumsum(np.asarray(shares, dtype=float), axis=1)
    cumulative /= cumulative[:, -1:]
    draw = rng.random(group.size)
    picked = np.zeros(group.size, dtype=np.int64)
    for column in range(cumulative.shape[1] - 1):
        picked += draw >= cumulative[group, column]
    return picked


def nps_group(sentiment: np.ndarray, after, fx: DemoEffects) -> np.ndarray:
    """0 detractor, 1 passive, 2 promoter, from the latent sentiment and the era."""
    detractors = np.where(after, fx.nps_detractors_after, fx.nps_detractors_before)
    promoters = np.where(after, fx.nps_promoters_after, fx.nps_promoters_before)
    group = np.ones(np.shape(sentiment), dtype=np.int64)
    group[sentiment < detractors] = 0
    group[sentiment >= 1.0 - promoters] = 2
    return group


def era_value(after: np.ndarray, before_value: float, after_value: float) -> np.ndarray:
    return np.where(after, after_value, before_value)


def lognormal(rng: np.random.Generator, median, sigma: float, size: int) -> np.ndarray:
    return np.asarray(median) * np.exp(sigma * rng.standard_normal(size))


def poisson_days(
    rng: np.random.Generator,
    cal: Calendar,
    begin: np.ndarray,
    until: np.ndarray,
    monthly_rate: np.ndarray,
    month_factor: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Poisson event days for each customer while active, ``begin <= day < until``.

    ``monthly_rate`` is the expected count per full month of activity; ``begin`` must be sorted
    (customers are in signup order), which lets each month look only at those already signed up.
    Returns (customer index, day), ordered by month.
    """
    who, when = [], []
    for month in range(cal.n_months):
        first, after_last = (int(x) for x in cal.month_start(np.array([month, month + 1])))
        low_bound, high_bound = max(first, cal.start), min(after_last, cal.stop)
        signed = int(np.searchsorted(begin, high_bound))
        if signed == 0:
            continue
        low = np.maximum(begin[:signed], low_bound)
        exposure = np.minimum(until[:signed], high_bound) - low
        np.maximum(exposure, 0, out=exposure)
        factor = 1.0 if month_factor is None else month_factor[month]
        count = rng.poisson(monthly_rate[:signed] * exposure * (factor / (after_last - first)))
        unit = np.repeat(np.arange(signed), count)
        who.append(unit)
        when.append(low[unit] + (rng.random(unit.size) * exposure[unit]).astype(np.int64))
    if not who:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    return np.concatenate(who), np.concatenate(when)
