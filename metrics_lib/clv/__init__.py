r"""Probabilistic customer lifetime value for non-contractual buying: BG/NBD and Gamma-Gamma.

A customer who buys whenever they like (no subscription) never tells us they have left. The
BG/NBD model (Fader, Hardie & Lee 2005a) reads each customer's purchase history as a Poisson
buying process that stops, unannounced, after some purchase; the Gamma-Gamma model (Colombo &
Jiang 1999; Fader, Hardie & Lee 2005b) adds how much each purchase is worth. Together they give
expected future purchases, the probability that a customer is still "alive", and a discounted
CLV per customer.

The models are fitted by maximum likelihood on a per-customer summary:

``frequency``
    number of *repeat* purchase days (purchases on the same day count once, the first day not at
    all);
``recency``
    time from the first to the last purchase day (0 when ``frequency`` is 0);
``T``
    time from the first purchase day to the end of the observation period;
``monetary_value``
    mean value per repeat purchase day (the first day's value excluded; 0 when ``frequency`` is 0).

Times are in the summary's time unit: ``"D"`` days, ``"W"`` weeks of 7 days (the default) or
``"M"`` months of 30.4375 days (365.25 / 12, the mean Gregorian month, as elsewhere in the
package). The unit travels with the summary in ``summary.attrs["time_unit"]``; every rate, horizon
and discount rate of this module is per unit of it.

The summary is computed on the engine (Ibis on DuckDB), so ten million orders take seconds; the
fitters group identical ``(frequency, recency, T)`` rows and weight them, so a million customers
fit in seconds too.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005a). "Counting your customers" the easy
   way: an alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284.
.. [2] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005b). RFM and CLV: using iso-value curves
   for customer base analysis. *Journal of Marketing Research* 42(4), 415-430.
.. [3] Colombo, R. and Jiang, W. (1999). A stochastic RFM model. *Journal of Interactive
   Marketing* 13(3), 2-12.
"""

from __future__ import annotations

import math
import warnings
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
from scipy import special  # optimize and stats are imported where used: the summary needs neither

from metrics_lib.core.engine import disable_progress_bar
from metrics_lib.core.errors import MAX_EXAMPLES, WorkbookError
from metrics_lib.core.results import ConfidenceInterval

__all__ = [
    "TIME_UNITS",
    "MIN_CUSTOMERS",
    "CLVInputError",
    "summarize_transactions",
    "calibration_holdout_split",
    "BetaGeoModel",
    "GammaGammaModel",
    "calibration_holdout_table",
    "probability_alive_matrix",
    "simulate_bgnbd",
    "simulate_gamma_gamma",
]

#: Days in one time unit of a summary.
TIME_UNITS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 30.4375}

#: Fewest customers (BG/NBD) or repeat buyers with a positive spend (Gamma-Gamma) a fit accepts.
MIN_CUSTOMERS = 10

_LOG_BOUND = 15.0  # optimise log-parameters in [-15, 15]: natural values in [3e-7, 3e6]


class CLVInputError(WorkbookError, ValueError):
    """Transactions or a customer summary that the CLV models cannot use (says which and why)."""


# --------------------------------------------------------------------------------------------
# From transactions to the per-customer summary (on the engine)
# --------------------------------------------------------------------------------------------


def summarize_transactions(transactions, *, customer_col: str = "customer_id",
                           date_col: str = "order_date", value_col: str | None = None,
                           observation_end, time_unit: str = "W") -> pd.DataFrame:
    """One row per customer: ``frequency``, ``recency``, ``T`` (and ``monetary_value``).

    Purchases on the same day are merged into one purchase day (their values summed);
    transactions after ``observation_end`` are ignored, and so are rows with no customer or date.
    The aggregation runs on the engine: a pandas DataFrame is wrapped with ``ibis.memtable`` and
    run on an in-memory DuckDB connection, an Ibis table on its own backend.

    .. math::

        \\text{frequency} = \\text{purchase days} - 1, \\quad
        \\text{recency} = \\frac{\\text{last day} - \\text{first day}}{u}, \\quad
        T = \\frac{\\text{observation end} - \\text{first day}}{u}

    where :math:`u` is the length of the time unit in days (:data:`TIME_UNITS`), and
    ``monetary_value`` = (total value - first day's value) / ``frequency`` (0 when ``frequency``
    is 0).

    Parameters
    ----------
    transactions : pandas.DataFrame or ibis Table
        Long format, one row per purchase (order).
    customer_col, date_col : str
        Column names; ``date_col`` holds dates, timestamps (truncated to the day) or ISO date text.
    value_col : str, optional
        The order value; when given the result has ``monetary_value``. Missing values count as 0.
    observation_end : date-like
        Last day of the observation period (inclusive).
    time_unit : {"D", "W", "M"}
        Days, weeks (7 days) or months (30.4375 days).

    Returns
    -------
    pandas.DataFrame
        Indexed by customer id (sorted), ``frequency`` (int), ``recency`` and ``T`` (float), and
        ``monetary_value`` when ``value_col`` is given. ``attrs`` holds ``time_unit`` and
        ``observation_end``.

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                        "order_date": ["2025-01-01", "2025-01-01", "2025-01-15", "2025-01-08"],
    ...                        "revenue": [10.0, 5.0, 20.0, 7.0]})
    >>> summarize_transactions(orders, value_col="revenue",  # doctest: +NORMALIZE_WHITESPACE
    ...                        observation_end="2025-01-29")
                 frequency  recency    T  monetary_value
    customer_id
    a                    1      2.0  4.0            20.0
    b                    0      0.0  3.0             0.0
    """
    unit = _time_unit(time_unit)
    end = _as_date("observation_end", observation_end)
    table, run = _engine_table(transactions)
    _check_columns(table, customer_col, date_col, value_col)
    expr = _summary_expr(table, customer_col, date_col, value_col, end, unit)
    out = run(expr.order_by("customer"))
    return _finish_summary(out, customer_col, time_unit, end)


def calibration_holdout_split(transactions, *, customer_col: str = "customer_id",
                              date_col: str = "order_date", value_col: str | None = None,
                              calibration_end, observation_end,
                              time_unit: str = "W") -> pd.DataFrame:
    """The calibration summary and what each of its customers did in the holdout period after it.

    Customers whose first purchase is on or before ``calibration_end`` are kept. Their
    ``frequency``, ``recency``, ``T`` (and ``monetary_value``) use the transactions up to
    ``calibration_end`` only; the holdout is ``(calibration_end, observation_end]``:

    ``frequency_holdout``
        purchase days in the holdout (every one is a repeat purchase);
    ``monetary_value_holdout``
        mean value per holdout purchase day, 0 when there were none (only with ``value_col``);
    ``duration_holdout``
        length of the holdout in time units (the same for everyone).

    Parameters are those of :func:`summarize_transactions`, plus ``calibration_end`` (inclusive,
    before ``observation_end``). Transactions after ``observation_end`` are ignored.

    Examples
    --------
    >>> orders = pd.DataFrame({"customer_id": ["a", "a", "a", "b"],
    ...                        "order_date": ["2025-01-01", "2025-01-08", "2025-01-22", "2025-01-20"]})
    >>> calibration_holdout_split(orders, calibration_end="2025-01-15",  # doctest: +NORMALIZE_WHITESPACE
    ...                           observation_end="2025-01-29")
                 frequency  recency    T  frequency_holdout  duration_holdout
    customer_id
    a                    1      1.0  2.0                  1               2.0
    """
    import ibis

    unit = _time_unit(time_unit)
    cal_end = _as_date("calibration_end", calibration_end)
    obs_end = _as_date("observation_end", observation_end)
    if cal_end >= obs_end:
        raise CLVInputError(
            f"`calibration_end` ({cal_end}) must be before `observation_end` ({obs_end}): the "
            "holdout period runs from the day after calibration_end to observation_end"
        )
    table, run = _engine_table(transactions)
    _check_columns(table, customer_col, date_col, value_col)
    cal = _summary_expr(table, customer_col, date_col, value_col, cal_end, unit)
    hold = _purchase_days(table, customer_col, date_col, value_col, after=cal_end, through=obs_end)
    metrics = {"frequency_holdout": hold.count()}
    if value_col is not None:
        metrics["value_holdout"] = hold.value.sum()
    hold = hold.group_by("customer").aggregate(**metrics).rename(customer_h="customer")
    joined = cal.left_join(hold, cal.customer == hold.customer_h)
    n_hold = joined.frequency_holdout.fill_null(0)
    cols = {name: joined[name] for name in cal.columns}
    cols["frequency_holdout"] = n_hold.cast("int64")
    if value_col is not None:
        cols["monetary_value_holdout"] = ibis.ifelse(
            n_hold > 0,
            joined.value_holdout.fill_null(0.0).cast("float64") / n_hold.cast("float64"),
            0.0,
        )
    duration = (obs_end - cal_end).days / unit
    expr = joined.select(**cols).order_by("customer")
    out = run(expr)
    out["duration_holdout"] = float(duration)
    out = _finish_summary(out, customer_col, time_unit, cal_end)
    out.attrs["observation_end"] = obs_end.isoformat()
    out.attrs["calibration_end"] = cal_end.isoformat()
    return out


def _time_unit(time_unit: str) -> float:
    if time_unit not in TIME_UNITS:
        raise CLVInputError(
            f"`time_unit` ({time_unit!r}) must be one of {', '.join(map(repr, TIME_UNITS))} "
            "(days, weeks of 7 days, months of 30.4375 days)"
        )
    return TIME_UNITS[time_unit]


def _as_date(name: str, value: Any) -> date:
    try:
        ts = pd.Timestamp(value)
    except (TypeError, ValueError):
        ts = pd.NaT
    if ts is pd.NaT or pd.isna(ts):
        raise CLVInputError(f"`{name}` ({value!r}) is not a date; write it as YYYY-MM-DD")
    return ts.date()


def _engine_table(transactions):
    """The transactions as an Ibis table and a function that executes expressions on it."""
    import ibis
    from ibis.expr.types import Table

    if isinstance(transactions, Table):
        return transactions, lambda expr: expr.execute()
    if isinstance(transactions, pd.DataFrame):
        con = ibis.duckdb.connect()
        disable_progress_bar(con)
        return ibis.memtable(transactions), con.execute
    raise CLVInputError(
        f"`transactions` must be a pandas DataFrame or an Ibis table, not {type(transactions).__name__}"
    )


def _check_columns(table, *names) -> None:
    for name in names:
        if name is not None and name not in table.columns:
            raise CLVInputError(
                f"the transactions have no column `{name}`; columns: {', '.join(table.columns)}. "
                "Pass the right name with customer_col=, date_col= or value_col="
            )


def _day(table, date_col):
    """The date column as a date (timestamps truncated to the day, ISO text parsed)."""
    col = table[date_col]
    dtype = col.type()
    if dtype.is_timestamp():
        return col.date()
    if dtype.is_date():
        return col
    if dtype.is_string():
        return col.cast("timestamp").date()
    raise CLVInputError(
        f"column `{date_col}` holds {dtype}, not dates; give dates, timestamps or ISO date text"
    )


def _purchase_days(table, customer_col, date_col, value_col, *, after: date | None = None,
                   through: date):
    """One row per customer and purchase day in ``(after, through]`` (values of the day summed;
    missing values as 0). The days are filtered before grouping, so the engine groups less."""
    col = table[date_col]
    day = _day(table, date_col)
    keep = table[customer_col].notnull() & col.notnull() & (day <= through)
    if after is not None:
        keep &= day > after
    t = table.filter(keep)
    fields = {"customer": t[customer_col], "day": _day(t, date_col)}
    if value_col is not None:
        fields["value"] = t[value_col].cast("float64").fill_null(0.0)
    t = t.select(**fields)
    metrics = {"value": t.value.sum()} if value_col is not None else {"n": t.count()}
    out = t.group_by(["customer", "day"]).aggregate(**metrics)
    return out.drop("n") if value_col is None else out


def _summary_expr(table, customer_col, date_col, value_col, end: date, unit: float):
    import ibis

    days = _purchase_days(table, customer_col, date_col, value_col, through=end)
    metrics = {"first": days.day.min(), "last": days.day.max(), "n_days": days.count()}
    if value_col is not None:
        metrics["total"] = days.value.sum()
        metrics["first_value"] = days.value.argmin(days.day)
    per = days.group_by("customer").aggregate(**metrics)
    end_lit = ibis.date(end)
    cols = {
        "customer": per.customer,
        "frequency": (per.n_days - 1).cast("int64"),
        "recency": per.last.delta(per.first, unit="day").cast("float64") / unit,
        "T": end_lit.delta(per.first, unit="day").cast("float64") / unit,
    }
    if value_col is not None:
        repeat = (per.n_days - 1).cast("float64")
        cols["monetary_value"] = ibis.ifelse(
            per.n_days > 1, (per.total - per.first_value).cast("float64") / repeat, 0.0
        )
    return per.select(**cols)


def _finish_summary(out: pd.DataFrame, customer_col: str, time_unit: str, end: date) -> pd.DataFrame:
    out = out.set_index("customer")
    out.index.name = customer_col
    out["frequency"] = out["frequency"].astype("int64")
    for name in out.columns:
        if name not in ("frequency", "frequency_holdout"):
            out[name] = out[name].astype("float64")
    out.attrs["time_unit"] = time_unit
    out.attrs["observation_end"] = end.isoformat()
    return out


# --------------------------------------------------------------------------------------------
# Checking a summary
# --------------------------------------------------------------------------------------------


def _examples(summary: pd.DataFrame, mask: np.ndarray, columns: tuple[str, ...]) -> str:
    """``"3 customers (C1: recency=9, T=7.5; ...)"``: how many rows break a rule, and a few of them."""
    n = int(mask.sum())
    rows = summary.loc[mask, list(columns)].head(MAX_EXAMPLES)
    shown = ["{}: {}".format(idx, ", ".join(f"{c}={_num(v)}" for c, v in zip(columns, values)))
             for idx, values in zip(rows.index, rows.to_numpy(dtype=object))]
    more = f"; and {n - len(shown)} more" if n > len(shown) else ""
    return f"{n} customer{'s' if n != 1 else ''} ({'; '.join(shown)}{more})"


def _num(value) -> str:
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return repr(value)


def _check_summary(summary, columns: tuple[str, ...]) -> pd.DataFrame:
    """The summary's columns as float arrays, after checking every rule the models rely on."""
    if not isinstance(summary, pd.DataFrame):
        raise CLVInputError(
            f"the summary must be a pandas DataFrame (from summarize_transactions), "
            f"not {type(summary).__name__}"
        )
    missing = [c for c in columns if c not in summary.columns]
    if missing:
        raise CLVInputError(
            f"the summary has no column {', '.join(f'`{c}`' for c in missing)}; columns: "
            f"{', '.join(map(str, summary.columns))}. Build it with summarize_transactions"
            + (" and value_col=" if "monetary_value" in missing else "")
        )
    data = pd.DataFrame(index=summary.index)
    for col in columns:
        try:
            values = summary[col].to_numpy(dtype="float64", na_value=np.nan)
        except (TypeError, ValueError):
            raise CLVInputError(f"column `{col}` of the summary must hold numbers") from None
        data[col] = values
        bad = ~np.isfinite(values)
        if bad.any():
            raise CLVInputError(
                f"column `{col}` is missing or infinite for {_examples(summary, bad, (col,))}: "
                "fill it for every customer or drop those rows"
            )
        neg = values < 0
        if neg.any():
            raise CLVInputError(
                f"column `{col}` is negative for {_examples(summary, neg, (col,))}: "
                f"`{col}` must be >= 0: check the dates and values of these customers' orders "
                "(refunds count as negative values: net them out before summarising)"
            )
    freq = data["frequency"].to_numpy()
    frac = freq != np.round(freq)
    if frac.any():
        raise CLVInputError(
            f"column `frequency` is not a whole number for {_examples(summary, frac, ('frequency',))}: "
            "frequency counts repeat purchase days: build the summary with summarize_transactions"
        )
    if "recency" in data and "T" in data:
        late = data["recency"].to_numpy() > data["T"].to_numpy() * (1 + 1e-12) + 1e-12
        if late.any():
            raise CLVInputError(
                f"column `recency` is greater than `T` for "
                f"{_examples(summary, late, ('recency', 'T'))}: "
                "recency runs from the first to the last purchase and T from the first purchase "
                "to the end of the observation period: choose an observation_end on or after the "
                "last purchase and rebuild the summary with summarize_transactions"
            )
    return data


def _check_same_unit(model_unit: str | None, summary: pd.DataFrame) -> None:
    unit = summary.attrs.get("time_unit")
    if model_unit and unit and unit != model_unit:
        raise CLVInputError(
            f"the model was fitted on a summary in time unit {model_unit!r} but this summary is in "
            f"{unit!r}; summarise both with the same time_unit"
        )


def _grouped(data: pd.DataFrame, columns: list[str]):
    """Distinct rows of ``columns`` and how many customers share each (the likelihood weights)."""
    counts = data.groupby(columns, sort=False).size()
    keys = counts.index.to_frame(index=False)
    return [keys[c].to_numpy(dtype="float64") for c in columns], counts.to_numpy(dtype="float64")


# --------------------------------------------------------------------------------------------
# Shared fitting machinery
# --------------------------------------------------------------------------------------------


class _MLModel:
    """Maximum likelihood over log-parameters with a Wald covariance from the numerical Hessian."""

    _names: tuple[str, ...] = ()

    def __init__(self, penalizer: float = 0.0):
        if not (isinstance(penalizer, (int, float)) and math.isfinite(penalizer) and penalizer >= 0):
            raise CLVInputError(f"`penalizer` ({penalizer!r}) must be a finite number >= 0")
        self.penalizer = float(penalizer)

    def __repr__(self) -> str:
        if not hasattr(self, "params_"):
            return f"{type(self).__name__}(penalizer={self.penalizer:g}) (not fitted)"
        shown = ", ".join(f"{k}={v:.4g}" for k, v in self.params_.items())
        n = getattr(self, "n_customers_", None)
        return f"{type(self).__name__}({shown}" + (f"; n={n})" if n is not None else ")")

    @classmethod
    def from_params(cls, **params: float):
        """A model with given parameters (e.g. published ones) and no data: for predictions only.

        The prediction methods then need their inputs given explicitly.
        """
        if sorted(params) != sorted(cls._names):
            raise CLVInputError(f"{cls.__name__}.from_params takes exactly {', '.join(cls._names)}; "
                                f"got {', '.join(params) or 'nothing'}")
        for name, value in params.items():
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise CLVInputError(f"parameter `{name}` ({value!r}) must be a number > 0")
        model = cls()
        model.params_ = {name: float(params[name]) for name in cls._names}
        model.time_unit_ = None
        return model

    def _loglik(self, log_params, *data, gradient: bool = False):  # pragma: no cover - abstract
        raise NotImplementedError

    def _objective(self, log_params, data, n):
        ll, grad = self._loglik(log_params, *data, gradient=True)
        theta = np.exp(log_params)
        value = -ll / n + self.penalizer * float(np.sum(theta**2))
        return value, -grad / n + self.penalizer * 2 * theta**2

    def _optimise(self, start, data, n) -> None:
        bounds = [(-_LOG_BOUND, _LOG_BOUND)] * len(start)
        from scipy import optimize

        res = optimize.minimize(self._objective, np.asarray(start, dtype=float), args=(data, n),
                                jac=True, method="L-BFGS-B", bounds=bounds,
                                options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9})
        lp = res.x
        self.converged_ = bool(res.success)
        if not res.success:
            warnings.warn(f"{type(self).__name__}: the optimiser did not converge ({res.message})",
                          RuntimeWarning, stacklevel=3)
        at_bound = np.abs(lp) >= _LOG_BOUND - 1e-6
        if at_bound.any():
            names = ", ".join(n_ for n_, b in zip(self._names, at_bound) if b)
            warnings.warn(f"{type(self).__name__}: {names} ran to the edge of the search range; "
                          "the data cannot pin them down (try penalizer > 0)",
                          RuntimeWarning, stacklevel=3)
        self._log_params = lp
        self.params_ = {k: float(v) for k, v in zip(self._names, np.exp(lp))}
        self.log_likelihood_ = float(self._loglik(lp, *data)[0])
        self._covariance(lp, data, n)

    def _covariance(self, lp, data, n, *, level: float = 0.95) -> None:
        k = len(lp)
        hess = np.empty((k, k))
        for i in range(k):
            h = 1e-4 * max(1.0, abs(lp[i]))
            up, dn = lp.copy(), lp.copy()
            up[i] += h
            dn[i] -= h
            hess[i] = (self._objective(up, data, n)[1] - self._objective(dn, data, n)[1]) * n / (2 * h)
        hess = (hess + hess.T) / 2
        try:
            cov = np.linalg.inv(hess)
            ok = np.all(np.diag(cov) > 0) and np.all(np.isfinite(cov))
        except np.linalg.LinAlgError:
            ok = False
        if not ok:
            warnings.warn(f"{type(self).__name__}: the Hessian is not positive definite at the "
                          "estimate; standard errors are NaN", RuntimeWarning, stacklevel=4)
            cov = np.full((k, k), np.nan)
        theta = np.exp(lp)
        se_log = np.sqrt(np.diag(cov))
        from scipy import stats

        z = stats.norm.ppf(0.5 + level / 2)
        self.covariance_log_ = cov
        self.standard_errors_ = {name: float(t * s) for name, t, s in zip(self._names, theta, se_log)}
        self.confidence_intervals_ = {
            name: ConfidenceInterval(float(np.exp(l - z * s)), float(np.exp(l + z * s)), level,
                                     "Wald on the log scale")
            for name, l, s in zip(self._names, lp, se_log)
        }

    def _fitted_summary(self) -> pd.DataFrame:
        self._require_fit()
        if getattr(self, "summary_", None) is None:
            raise CLVInputError(f"this {type(self).__name__} was built from parameters, not fitted "
                                "on a summary: give the customers' values explicitly")
        return self.summary_

    def _require_fit(self) -> None:
        if not hasattr(self, "params_"):
            raise CLVInputError(f"{type(self).__name__} is not fitted yet: call .fit(summary) first")


def _arrays(*values):
    """Broadcast inputs to float arrays; also whether they were all scalars."""
    arrays = np.broadcast_arrays(*[np.asarray(v, dtype="float64") for v in values])
    return arrays, all(np.ndim(v) == 0 for v in values)


def _shape_like(result: np.ndarray, scalar: bool):
    return float(result) if scalar else result


# --------------------------------------------------------------------------------------------
# BG/NBD
# --------------------------------------------------------------------------------------------


class BetaGeoModel(_MLModel):
    r"""BG/NBD model of repeat buying (Fader, Hardie & Lee 2005a), fitted by maximum likelihood.

    While alive, a customer buys as a Poisson process with rate :math:`\lambda \sim
    \text{Gamma}(r, \alpha)`; after each repeat purchase they drop out for good with probability
    :math:`p \sim \text{Beta}(a, b)`. For a customer with ``x`` repeat purchases, the last at
    ``t_x``, observed for ``T``:

    .. math::

        L = \frac{B(a, b + x)}{B(a, b)} \frac{\Gamma(r + x)\,\alpha^r}{\Gamma(r)\,(\alpha + T)^{r+x}}
          + \delta_{x>0}\,\frac{B(a + 1, b + x - 1)}{B(a, b)}
            \frac{\Gamma(r + x)\,\alpha^r}{\Gamma(r)\,(\alpha + t_x)^{r+x}}

    evaluated in log space (``gammaln`` and ``logaddexp``), so frequencies in the hundreds and
    long histories stay finite.

    Parameters
    ----------
    penalizer : float
        L2 penalty: the fit minimises ``-mean log-likelihood + penalizer * (r² + α² + a² + b²)``.
        0 (the default) is plain maximum likelihood; a small value (0.001-0.1) keeps parameters
        finite on data that cannot identify them.

    Attributes
    ----------
    params_ : dict
        ``r``, ``alpha``, ``a``, ``b`` (alpha in the summary's time unit).
    standard_errors_ : dict
        From the inverse numerical Hessian of the objective on the log scale, carried to the
        natural scale by the delta method (SE(θ) = θ · SE(log θ)).
    confidence_intervals_ : dict of ConfidenceInterval
        95% Wald intervals on the log scale, exponentiated (always positive).
    log_likelihood_ : float
        Total log-likelihood at the estimate.
    n_customers_ : int
    summary_ : pandas.DataFrame
        The summary fitted; the default input of the prediction methods.
    time_unit_ : str or None
        The summary's ``attrs["time_unit"]``.

    Notes
    -----
    Identical ``(frequency, recency, T)`` rows are grouped and weighted, and the gradient is
    analytic, so a million customers fit in seconds. The optimiser is L-BFGS-B over the
    log-parameters within [-15, 15].

    Examples
    --------
    >>> rng = np.random.default_rng(0)
    >>> summary = simulate_bgnbd(2_000, r=0.5, alpha=5.0, a=0.8, b=3.0, T=52, rng=rng)
    >>> model = BetaGeoModel().fit(summary)
    >>> sorted(model.params_)
    ['a', 'alpha', 'b', 'r']
    >>> model.probability_alive(0, 0, 52)
    1.0
    """

    _names = ("r", "alpha", "a", "b")

    def fit(self, summary: pd.DataFrame) -> "BetaGeoModel":
        """Fit on a summary with ``frequency``, ``recency`` and ``T``; returns ``self``."""
        data = _check_summary(summary, ("frequency", "recency", "T"))
        n = len(data)
        if n < MIN_CUSTOMERS:
            raise CLVInputError(
                f"the summary has {n} customers; the BG/NBD model needs at least {MIN_CUSTOMERS} "
                "(in practice hundreds) to estimate its four parameters: widen the period or the "
                "segment"
            )
        if not (data["frequency"] > 0).any():
            raise CLVInputError(
                f"no customer of the {n} in the summary has a repeat purchase (column `frequency` "
                "is 0 everywhere), so there is nothing to fit: the model learns from repeat "
                "buying. Use a longer observation period, or check that customer ids are stable "
                "across orders"
            )
        (x, tx, T), w = _grouped(data, ["frequency", "recency", "T"])
        mean_x = float(np.average(x, weights=w))
        mean_T = float(np.average(T, weights=w))
        start = np.log([1.0, max(mean_T, 1e-3) / max(mean_x, 1e-3), 1.0, 1.0])
        start = np.clip(start, -_LOG_BOUND + 1, _LOG_BOUND - 1)
        self._optimise(start, (x, tx, T, w), n)
        self.n_customers_ = n
        self.summary_ = summary
        self.time_unit_ = summary.attrs.get("time_unit")
        return self

    @staticmethod
    def _loglik(log_params, x, tx, T, w=None, gradient: bool = False, rows: bool = False):
        r, alpha, a, b = np.exp(log_params)
        pos = x > 0
        xs = np.where(pos, x, 1.0)  # keeps b + x - 1 > 0 where the second term is absent
        common = (special.gammaln(r + x) - special.gammaln(r) + r * np.log(alpha)
                  + special.gammaln(b + x) - special.gammaln(a + b + x)
                  - special.gammaln(b) + special.gammaln(a + b))
        log_aT, log_atx = np.log(alpha + T), np.log(alpha + tx)
        l1 = -(r + x) * log_aT
        l2 = np.where(pos, np.log(a) - np.log(b + xs - 1) - (r + x) * log_atx, -np.inf)
        m = np.logaddexp(l1, l2)
        ll = common + m
        if rows:
            return ll, None
        w = np.ones_like(x) if w is None else w
        total = float(np.dot(w, ll))
        if not gradient:
            return total, None
        w1, w2 = np.exp(l1 - m), np.exp(l2 - m)
        dr = special.digamma(r + x) - special.digamma(r) + np.log(alpha) - w1 * log_aT - w2 * log_atx
        dalpha = r / alpha - (r + x) * (w1 / (alpha + T) + w2 / (alpha + tx))
        da = special.digamma(a + b) - special.digamma(a + b + x) + w2 / a
        db = (special.digamma(b + x) - special.digamma(a + b + x) - special.digamma(b)
              + special.digamma(a + b) - w2 / (b + xs - 1))
        grad = np.array([np.dot(w, g) for g in (dr, dalpha, da, db)]) * np.array([r, alpha, a, b])
        return total, grad

    def log_likelihood(self, frequency, recency, T, params: dict | None = None) -> np.ndarray:
        """Per-customer log-likelihood at ``params`` (default: the fitted ones)."""
        (x, tx, T_), scalar = _arrays(frequency, recency, T)
        p = params if params is not None else self._fitted()
        lp = np.log([p["r"], p["alpha"], p["a"], p["b"]])
        return _shape_like(self._loglik(lp, x, tx, T_, rows=True)[0], scalar)

    def _fitted(self) -> dict:
        self._require_fit()
        return self.params_

    def _inputs(self, frequency, recency, T):
        if frequency is None and recency is None and T is None:
            s = self._fitted_summary()
            return (s["frequency"].to_numpy(float), s["recency"].to_numpy(float),
                    s["T"].to_numpy(float)), s.index
        if frequency is None or recency is None or T is None:
            raise CLVInputError("give all of frequency, recency and T, or none (the fitted summary)")
        return (frequency, recency, T), None

    def _alive_logit(self, x, tx, T):
        """log of a/(b+x-1) ((α+T)/(α+t_x))^(r+x): P(alive) = 1 / (1 + exp(this)); -inf at x=0."""
        p = self._fitted()
        r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
        pos = x > 0
        xs = np.where(pos, x, 1.0)
        d = (np.log(a) - np.log(b + xs - 1)
             + (r + x) * (np.log(alpha + T) - np.log(alpha + tx)))
        return np.where(pos, d, -np.inf)

    def probability_alive(self, frequency=None, recency=None, T=None):
        r"""Probability that a customer is still alive at the end of their observation.

        .. math:: P(\text{alive}) = \left(1 + \delta_{x>0}\frac{a}{b + x - 1}
                  \left(\frac{\alpha + T}{\alpha + t_x}\right)^{r+x}\right)^{-1}

        1 for a customer with no repeat purchase (in the model nobody drops out at the first
        purchase). Arguments broadcast; all None means the fitted summary (a Series by customer).
        """
        (f, rec, T_), index = self._inputs(frequency, recency, T)
        (x, tx, TT), scalar = _arrays(f, rec, T_)
        result = special.expit(-self._alive_logit(x, tx, TT))
        if index is not None:
            return pd.Series(result, index=index, name="probability_alive")
        return _shape_like(result, scalar)

    def expected_purchases(self, t, frequency=None, recency=None, T=None):
        r"""Expected repeat purchases in the next ``t`` time units, given each customer's history.

        .. math::

            E[Y(t) \mid x, t_x, T] = \frac{a + b + x - 1}{a - 1}
            \frac{1 - \left(\frac{\alpha + T}{\alpha + T + t}\right)^{r+x}
                  {}_2F_1\!\left(r + x, b + x; a + b + x - 1; \frac{t}{\alpha + T + t}\right)}
                 {1 + \delta_{x>0} \frac{a}{b + x - 1}
                  \left(\frac{\alpha + T}{\alpha + t_x}\right)^{r+x}}

        (Fader, Hardie & Lee 2005a, eq. 10). The hypergeometric term is evaluated after Euler's
        transformation, :math:`(1-z)^{a-1}\,{}_2F_1(a - 1, a + b - 1 - r; a + b + x - 1; z)`,
        whose parameters do not grow with ``x``, so large frequencies stay finite.
        Arguments broadcast; with frequency, recency and T all None the fitted summary is used
        and a Series by customer comes back.
        """
        (f, rec, T_), index = self._inputs(frequency, recency, T)
        (tt, x, tx, TT), scalar = _arrays(t, f, rec, T_)
        if np.any(tt < 0):
            raise CLVInputError(f"`t` must be >= 0 time units, got {np.min(tt)!r}")
        result = self._conditional(tt, x, tx, TT)
        if index is not None:
            return pd.Series(result, index=index, name="expected_purchases")
        return _shape_like(result, scalar)

    def _conditional(self, t, x, tx, T):
        p = self._fitted()
        r, alpha, a, b = p["r"], p["alpha"], p["a"], p["b"]
        if abs(a - 1) < 1e-8:  # removable singularity of the closed form
            a = 1 + 1e-8
        z = t / (alpha + T + t)
        hyp = special.hyp2f1(a - 1, a + b - 1 - r, a + b + x - 1, z)
        tail = np.exp((a - 1) * np.log1p(-z)) * hyp
        num = (a + b + x - 1) / (a - 1) * (1 - tail)
        return num * special.expit(-self._alive_logit(x, tx, T))

    def expected_purchases_new_customer(self, t):
        r"""Expected repeat purchases in ``t`` time units after a new customer's first purchase.

        .. math:: E[X(t)] = \frac{a + b - 1}{a - 1}\left[1 - \left(\frac{\alpha}{\alpha + t}
                  \right)^r {}_2F_1\!\left(r, b; a + b - 1; \frac{t}{\alpha + t}\right)\right]
        """
        (tt,), scalar = _arrays(t)
        if np.any(tt < 0):
            raise CLVInputError(f"`t` must be >= 0 time units, got {np.min(tt)!r}")
        zero = np.zeros_like(tt)
        return _shape_like(self._conditional(tt, zero, zero, zero), scalar)


# --------------------------------------------------------------------------------------------
# Gamma-Gamma
# --------------------------------------------------------------------------------------------


class GammaGammaModel(_MLModel):
    r"""Gamma-Gamma model of spend per purchase (Colombo & Jiang 1999; Fader, Hardie & Lee 2005b).

    A customer's purchase values are Gamma(p, ν) around their own mean p/ν, with ν ~ Gamma(q, γ)
    across customers; spend is assumed independent of how often they buy. The mean
    :math:`m_x` of a customer's ``x`` repeat purchase values then has density

    .. math::

        f(m_x \mid x) = \frac{\Gamma(p x + q)}{\Gamma(p x)\,\Gamma(q)}
        \frac{\gamma^q\, m_x^{p x - 1}\, x^{p x}}{(\gamma + m_x x)^{p x + q}}

    The fit uses customers with ``frequency`` > 0 and ``monetary_value`` > 0.

    Parameters
    ----------
    penalizer : float
        L2 penalty: ``-mean log-likelihood + penalizer * (p² + q² + γ²)`` is minimised.

    Attributes
    ----------
    params_ : dict
        ``p``, ``q``, ``gamma`` (γ, written v in some texts), in the summary's currency.
    standard_errors_, confidence_intervals_, log_likelihood_, n_customers_, summary_, time_unit_
        As for :class:`BetaGeoModel`; ``n_customers_`` counts the customers fitted on.
    """

    _names = ("p", "q", "gamma")

    def fit(self, summary: pd.DataFrame) -> "GammaGammaModel":
        """Fit on a summary with ``frequency`` and ``monetary_value``; returns ``self``."""
        data = _check_summary(summary, ("frequency", "monetary_value"))
        used = data[(data["frequency"] > 0) & (data["monetary_value"] > 0)]
        n = len(used)
        if n == 0:
            raise CLVInputError(
                f"no customer of the {len(data)} in the summary has a repeat purchase with a "
                "positive `monetary_value`, so the Gamma-Gamma model has nothing to fit: give "
                "summarize_transactions a value_col, and check that order values are positive"
            )
        if n < MIN_CUSTOMERS:
            raise CLVInputError(
                f"only {n} customers have a repeat purchase with a positive `monetary_value`; the "
                f"Gamma-Gamma model needs at least {MIN_CUSTOMERS} (in practice hundreds): widen "
                "the period or the segment"
            )
        (x, m), w = _grouped(used, ["frequency", "monetary_value"])
        mean_m = float(np.average(m, weights=w))
        start = np.clip(np.log([1.0, 2.0, mean_m]), -_LOG_BOUND + 1, _LOG_BOUND - 1)
        self._optimise(start, (x, m, w), n)
        self.n_customers_ = n
        self.summary_ = summary
        self.time_unit_ = summary.attrs.get("time_unit")
        return self

    @staticmethod
    def _loglik(log_params, x, m, w=None, gradient: bool = False):
        p, q, g = np.exp(log_params)
        px = p * x
        log_m, log_x, log_gxm = np.log(m), np.log(x), np.log(g + m * x)
        ll = (special.gammaln(px + q) - special.gammaln(px) - special.gammaln(q) + q * np.log(g)
              + (px - 1) * log_m + px * log_x - (px + q) * log_gxm)
        w = np.ones_like(x) if w is None else w
        total = float(np.dot(w, ll))
        if not gradient:
            return total, None
        psi_pq = special.digamma(px + q)
        dp = x * (psi_pq - special.digamma(px) + log_m + log_x - log_gxm)
        dq = psi_pq - special.digamma(q) + np.log(g) - log_gxm
        dg = q / g - (px + q) / (g + m * x)
        grad = np.array([np.dot(w, d) for d in (dp, dq, dg)]) * np.array([p, q, g])
        return total, grad

    def expected_spend(self, frequency=None, monetary_value=None):
        r"""Expected value of a customer's future purchases, given their history.

        .. math:: E[M \mid x, m_x] = \frac{(\gamma + m_x x)\,p}{p x + q - 1}
                  = \frac{q - 1}{p x + q - 1}\frac{p\gamma}{q - 1} + \frac{p x}{p x + q - 1} m_x

        a weighted mean of the population mean :math:`p\gamma/(q-1)` and the customer's own mean,
        the customer's weight growing with their purchases. Customers with no repeat purchase get
        the population mean. NaN where :math:`p x + q \le 1` (the mean does not exist).
        All None means the fitted summary (a Series by customer).
        """
        self._require_fit()
        index = None
        if frequency is None and monetary_value is None:
            s = self._fitted_summary()
            frequency, monetary_value, index = s["frequency"], s["monetary_value"], s.index
        elif frequency is None or monetary_value is None:
            raise CLVInputError("give both frequency and monetary_value, or neither (the fitted summary)")
        (x, m), scalar = _arrays(frequency, monetary_value)
        p, q, g = self.params_["p"], self.params_["q"], self.params_["gamma"]
        m = np.where(x > 0, m, 0.0)
        denom = p * x + q - 1
        with np.errstate(divide="ignore", invalid="ignore"):
            result = np.where(denom > 0, (g + m * x) * p / denom, np.nan)
        if index is not None:
            return pd.Series(result, index=index, name="expected_spend")
        return _shape_like(result, scalar)

    def customer_lifetime_value(self, bgnbd_model: BetaGeoModel, summary: pd.DataFrame, *,
                                horizon: int = 12, discount_rate: float = 0.01) -> pd.Series:
        r"""Discounted expected revenue of each customer over the next ``horizon`` time units.

        .. math:: \text{CLV} = E[M \mid x, m_x] \sum_{k=1}^{H}
                  \frac{E[Y(k)] - E[Y(k - 1)]}{(1 + d)^k}

        with :math:`E[Y(k)]` the BG/NBD expected purchases in the next ``k`` units and ``d`` the
        discount rate per unit. Both are in the summary's time unit: with a weekly summary
        ``horizon=52`` is a year and ``discount_rate`` is per week (an annual 10% is about
        0.0018 per week, 0.008 per month). Revenue, not profit: multiply by the gross margin for
        profit.

        Parameters
        ----------
        bgnbd_model : BetaGeoModel
            Fitted on a summary in the same time unit.
        summary : pandas.DataFrame
            ``frequency``, ``recency``, ``T`` and ``monetary_value`` per customer.
        horizon : int
            Number of time units ahead (default 12).
        discount_rate : float
            Per time unit, >= 0 (default 0.01).

        Returns
        -------
        pandas.Series
            ``clv`` by customer, in the currency of ``monetary_value``.
        """
        self._require_fit()
        if not isinstance(bgnbd_model, BetaGeoModel):
            raise CLVInputError("`bgnbd_model` must be a fitted BetaGeoModel")
        bgnbd_model._require_fit()
        if isinstance(horizon, bool) or not isinstance(horizon, (int, np.integer)) or horizon < 1:
            raise CLVInputError(f"`horizon` ({horizon!r}) must be a whole number of time units >= 1")
        if not (isinstance(discount_rate, (int, float)) and math.isfinite(discount_rate)
                and discount_rate >= 0):
            raise CLVInputError(f"`discount_rate` ({discount_rate!r}) must be a number >= 0 per time unit")
        _check_same_unit(bgnbd_model.time_unit_, summary)
        _check_same_unit(self.time_unit_, summary)
        data = _check_summary(summary, ("frequency", "recency", "T", "monetary_value"))
        spend = self.expected_spend(data["frequency"].to_numpy(), data["monetary_value"].to_numpy())
        keys = data[["frequency", "recency", "T"]]
        codes, uniques = pd.MultiIndex.from_frame(keys).factorize()
        ux, utx, uT = (uniques.get_level_values(i).to_numpy(dtype=float) for i in range(3))
        steps = np.arange(1, int(horizon) + 1, dtype=float)
        cum = bgnbd_model._conditional(steps[:, None], ux[None, :], utx[None, :], uT[None, :])
        per_step = np.diff(np.vstack([np.zeros((1, len(ux))), cum]), axis=0)
        discounted = (per_step / (1 + discount_rate) ** steps[:, None]).sum(axis=0)
        return pd.Series(spend * discounted[codes], index=summary.index, name="clv")


# --------------------------------------------------------------------------------------------
# The numbers behind the pictures of a fit (drawn by metrics_lib.reporting.plots)
# --------------------------------------------------------------------------------------------


def calibration_holdout_table(model: BetaGeoModel, split: pd.DataFrame, *,
                              max_frequency: int = 7) -> pd.DataFrame:
    """Mean predicted and actual holdout purchases, by calibration frequency (0 .. max+).

    ``model`` should be fitted on the calibration columns of ``split`` (from
    :func:`calibration_holdout_split`). Customers with ``max_frequency`` or more calibration
    repeat purchases share the last row (labelled e.g. ``"7+"``).

    Returns
    -------
    pandas.DataFrame
        Index ``frequency`` 0 .. ``max_frequency``; columns ``label``, ``customers``, ``actual``
        (mean ``frequency_holdout``) and ``predicted`` (mean expected purchases over
        ``duration_holdout``). Rows with no customers have NaN means. Drawn by
        :func:`metrics_lib.reporting.plots.plot_calibration_holdout`.
    """
    if not isinstance(model, BetaGeoModel):
        raise CLVInputError("`model` must be a fitted BetaGeoModel")
    model._require_fit()
    if (isinstance(max_frequency, bool) or not isinstance(max_frequency, (int, np.integer))
            or max_frequency < 1):
        raise CLVInputError(f"`max_frequency` ({max_frequency!r}) must be a whole number >= 1")
    _check_same_unit(model.time_unit_, split)
    data = _check_summary(split, ("frequency", "recency", "T", "frequency_holdout", "duration_holdout"))
    predicted = model.expected_purchases(data["duration_holdout"].to_numpy(), data["frequency"].to_numpy(),
                                         data["recency"].to_numpy(), data["T"].to_numpy())
    group = np.minimum(data["frequency"].to_numpy(), max_frequency).astype(int)
    frame = pd.DataFrame({"frequency": group, "actual": data["frequency_holdout"].to_numpy(),
                          "predicted": predicted})
    agg = frame.groupby("frequency").agg(customers=("actual", "size"), actual=("actual", "mean"),
                                         predicted=("predicted", "mean"))
    agg = agg.reindex(pd.RangeIndex(max_frequency + 1, name="frequency"))
    agg["customers"] = agg["customers"].fillna(0).astype("int64")
    labels = [str(i) for i in range(max_frequency)] + [f"{max_frequency}+"]
    agg.insert(0, "label", labels)
    return agg


def probability_alive_matrix(model: BetaGeoModel, max_frequency: int | None = None,
                             max_recency: float | None = None, T: float | None = None) -> pd.DataFrame:
    """P(alive) on a grid of frequency (rows) by recency (columns), for customers observed for ``T``.

    Defaults: ``T`` the longest ``T`` of the fitted summary, ``max_frequency`` its largest
    frequency, ``max_recency`` = ``T``; recency runs over whole time units 0 .. max_recency.
    Cells that no customer can occupy are NaN: recency > T, and recency > 0 with frequency 0.
    Drawn by :func:`metrics_lib.reporting.plots.plot_probability_alive`.
    """
    if not isinstance(model, BetaGeoModel):
        raise CLVInputError("`model` must be a fitted BetaGeoModel")
    model._require_fit()
    s = model.summary_ if getattr(model, "summary_", None) is not None else None
    if s is None and (T is None or max_frequency is None):
        raise CLVInputError("the model was built from parameters: give T and max_frequency")
    T_ = float(s["T"].max()) if T is None else float(T)
    if not (math.isfinite(T_) and T_ >= 0):
        raise CLVInputError(f"`T` ({T!r}) must be a number >= 0")
    max_f = int(s["frequency"].max()) if max_frequency is None else int(max_frequency)
    max_r = T_ if max_recency is None else float(max_recency)
    if max_f < 0 or max_r < 0:
        raise CLVInputError("`max_frequency` and `max_recency` must be >= 0")
    freq = np.arange(max_f + 1, dtype=float)
    rec = np.arange(int(math.floor(max_r)) + 1, dtype=float)
    x, tx = np.meshgrid(freq, rec, indexing="ij")
    prob = model.probability_alive(x, np.minimum(tx, T_), np.full_like(x, T_))
    prob = np.where((tx > T_) | ((x == 0) & (tx > 0)), np.nan, prob)
    out = pd.DataFrame(prob, index=pd.Index(freq.astype(int), name="frequency"),
                       columns=pd.Index(rec, name="recency"))
    out.attrs["time_unit"] = model.time_unit_
    out.attrs["T"] = T_
    return out


# --------------------------------------------------------------------------------------------
# Simulation (for tests, examples and checking a fit)
# --------------------------------------------------------------------------------------------


def simulate_bgnbd(n: int, *, r: float, alpha: float, a: float, b: float, T,
                   rng: np.random.Generator | None = None) -> pd.DataFrame:
    """A summary drawn from the BG/NBD generative process (``T`` a number or one per customer).

    Each customer's rate is Gamma(r, α), their drop-out probability Beta(a, b); while alive they
    buy as a Poisson process, and after each repeat purchase drop out with that probability.
    The time of the x-th of N purchases spread uniformly over (0, T] is T times a Beta(x, N-x+1)
    draw, which keeps the simulation vectorised.
    """
    rng = np.random.default_rng() if rng is None else rng
    T_ = np.broadcast_to(np.asarray(T, dtype=float), (n,)).copy()
    lam = rng.gamma(r, 1 / alpha, n)
    p = rng.beta(a, b, n)
    alive_purchases = rng.poisson(lam * T_)
    last = rng.geometric(p)  # drops out right after this repeat purchase
    x = np.minimum(alive_purchases, last)
    tx = np.zeros(n)
    pos = x > 0
    tx[pos] = T_[pos] * rng.beta(x[pos], alive_purchases[pos] - x[pos] + 1)
    out = pd.DataFrame({"frequency": x.astype("int64"), "recency": tx, "T": T_},
                       index=pd.RangeIndex(n, name="customer_id"))
    out.attrs["time_unit"] = "W"
    return out


def simulate_gamma_gamma(frequency, *, p: float, q: float, gamma: float,
                         rng: np.random.Generator | None = None) -> np.ndarray:
    """Mean spend per repeat purchase for customers with these frequencies (0 where frequency is 0)."""
    rng = np.random.default_rng() if rng is None else rng
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(q, 1 / gamma, x.shape)
    pos = x > 0
    total = np.zeros(x.shape)
    total[pos] = rng.gamma(p * x[pos], 1 / nu[pos])
    return np.where(pos, total / np.where(pos, x, 1), 0.0)
