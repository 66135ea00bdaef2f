"""Result types shared by every metric.

Every metric returns a small frozen dataclass rather than a bare float, so the number travels
with where it came from (numerator, denominator, sample size) and how sure it is (an interval).
An undefined metric has ``value`` NaN and a ``reason``; it is never 0 and never an exception.
"""

from __future__ import annotations

import math
import warnings
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

__all__ = [
    "ConfidenceInterval",
    "ComparisonResult",
    "MeanResult",
    "MetricUndefinedWarning",
    "NPSResult",
    "RateResult",
    "Result",
    "ValueResult",
    "NO_CI",
    "check_confidence_level",
    "check_count",
    "quietly",
    "undefined",
]

NAN = float("nan")


class MetricUndefinedWarning(UserWarning):
    """Warned when a metric is undefined for the data it was given (its value is NaN)."""


@dataclass(frozen=True)
class ConfidenceInterval:
    """A two-sided interval around an estimate.

    ``low`` and ``high`` are NaN when no interval can be computed (with ``method`` saying why
    in the owning result's ``reason``).
    """

    low: float
    high: float
    level: float = 0.95
    method: str = ""

    def contains(self, x: float) -> bool:
        return self.low <= x <= self.high


NO_CI = ConfidenceInterval(NAN, NAN, 0.95, "none")


@dataclass(frozen=True)
class Result:
    """Fields and behaviour common to every result."""

    def __post_init__(self) -> None:  # pragma: no cover - overridden where needed
        pass

    @property
    def defined(self) -> bool:
        return not math.isnan(self.value)  # type: ignore[attr-defined]

    def to_dict(self) -> dict[str, Any]:
        """Plain-Python fields for JSON: value, numerator, denominator, n, ci_low, ci_high, ..."""
        out: dict[str, Any] = {}
        for key, val in asdict(self).items():
            if key == "ci":
                out["ci_low"] = _plain(val["low"])
                out["ci_high"] = _plain(val["high"])
                out["ci_level"] = _plain(val["level"])
            else:
                out[key] = _plain(val)
        return out


def _plain(val: Any) -> Any:
    """NaN -> None and numpy scalars -> Python scalars, so JSON has no NaN."""
    if isinstance(val, dict):
        return {k: _plain(v) for k, v in val.items()}
    if isinstance(val, (list, tuple)):
        return [_plain(v) for v in val]
    if isinstance(val, np.generic):
        val = val.item()
    if isinstance(val, float) and math.isnan(val):
        return None
    return val


@dataclass(frozen=True)
class RateResult(Result):
    """A share ``numerator / denominator`` in [0, 1] with a confidence interval.

    ``n`` is the sample size the interval rests on (normally the denominator).
    """

    value: float
    numerator: float
    denominator: float
    ci: ConfidenceInterval = NO_CI
    n: int = 0
    unit: str = "share"
    reason: str | None = None


@dataclass(frozen=True)
class MeanResult(Result):
    """A mean (or other location statistic) of a sample, with its interval."""

    value: float
    n: int
    ci: ConfidenceInterval = NO_CI
    median: float = NAN
    std: float = NAN
    unit: str = ""
    reason: str | None = None


@dataclass(frozen=True)
class NPSResult(Result):
    """Net Promoter Score in [-100, 100] with the group counts and shares behind it."""

    value: float
    n: int
    promoters: int
    passives: int
    detractors: int
    promoter_share: float
    passive_share: float
    detractor_share: float
    ci: ConfidenceInterval = NO_CI
    variance: float = NAN
    unit: str = "score"
    reason: str | None = None


@dataclass(frozen=True)
class ValueResult(Result):
    """A derived quantity (money, a ratio of aggregates, a count) that is not a sample share.

    ``numerator`` and ``denominator`` are filled where the value is a ratio; ``components``
    holds the named inputs of composite formulas (e.g. the factors of CLV).
    """

    value: float
    numerator: float = NAN
    denominator: float = NAN
    n: int | None = None
    ci: ConfidenceInterval = NO_CI
    unit: str = ""
    components: dict[str, float] = field(default_factory=dict)
    reason: str | None = None


@dataclass(frozen=True)
class ComparisonResult(Result):
    """The change of a metric between two periods or groups, and whether it is beyond noise.

    ``value`` is ``current - previous``; ``significant`` is True when ``p_value < alpha``.
    """

    value: float
    current: float
    previous: float
    p_value: float = NAN
    statistic: float = NAN
    alpha: float = 0.05
    test: str = ""
    ci: ConfidenceInterval = NO_CI
    reason: str | None = None

    @property
    def significant(self) -> bool:
        return bool(not math.isnan(self.p_value) and self.p_value < self.alpha)

    def to_dict(self) -> dict[str, Any]:
        out = super().to_dict()
        out["significant"] = self.significant
        return out


def undefined(reason: str, *, warn: bool = True) -> str:
    """Warn that a metric is undefined and return ``reason`` for the result's field."""
    if warn:
        warnings.warn(reason, MetricUndefinedWarning, stacklevel=3)
    return reason


def quietly(fn: Any, *args: Any, **kwargs: Any) -> Any:
    """``fn(*args, **kwargs)`` with its "undefined" warnings silenced: the result carries the reason."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetricUndefinedWarning)
        return fn(*args, **kwargs)


def check_confidence_level(confidence_level: float) -> float:
    """Return ``confidence_level`` if it lies strictly in (0, 1), else raise ValueError."""
    if not (isinstance(confidence_level, (int, float)) and 0 < confidence_level < 1):
        raise ValueError(
            f"`confidence_level` ({confidence_level!r}) must lie strictly between 0 and 1, e.g. 0.95"
        )
    return float(confidence_level)


def check_count(name: str, value: Any) -> float:
    """Return ``value`` as a float if it is a finite count >= 0, else raise ValueError."""
    try:
        x = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"`{name}` ({value!r}) must be a number >= 0") from None
    if math.isnan(x) or math.isinf(x) or x < 0:
        raise ValueError(f"`{name}` ({value!r}) must be a finite number >= 0")
    return x
