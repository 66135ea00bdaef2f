"""The maximum-likelihood machinery shared by the BG/NBD and Gamma-Gamma models.

:class:`MLModel` fits log-parameters with L-BFGS-B and derives standard errors and Wald intervals
from the numerical Hessian; :func:`check_summary` checks every rule the models rely on (with a few
offending customers in the message); :func:`grouped` turns a summary into distinct rows and
weights; :func:`arrays` and :func:`shape_like` let the prediction methods take scalars or arrays.
:data:`MIN_CUSTOMERS` is the smallest sample a fit accepts.
"""

from __future__ import annotations

import copy
import json
import math
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from metrics_lib.clv._checks import CLVInputError
from metrics_lib.core.errors import MAX_EXAMPLES
from metrics_lib.core.results import ConfidenceInterval

__all__ = [
    "MIN_CUSTOMERS",
    "LOG_BOUND",
    "MLModel",
    "arrays",
    "check_same_unit",
    "check_summary",
    "delta_method_interval",
    "grouped",
    "shape_like",
]

#: Fewest customers (BG/NBD) or repeat buyers with a positive spend (Gamma-Gamma) a fit accepts.
MIN_CUSTOMERS = 10

LOG_BOUND = 15.0  # optimise log-parameters in [-15, 15]: natural values in [3e-7, 3e6]


# --------------------------------------------------------------------------------------------
# Checking a summary
# --------------------------------------------------------------------------------------------


def _examples(summary: pd.DataFrame, mask: np.ndarray, columns: tuple[str, ...]) -> str:
    """``"3 customers (C1: recency=9, T=7.5; ...)"``: how many rows break a rule, and a few of them."""
    n = int(mask.sum())
    rows = summary.loc[mask, list(columns)].head(MAX_EXAMPLES)
    shown = [
        "{}: {}".format(idx, ", ".join(f"{c}={_num(v)}" for c, v in zip(columns, values)))
        for idx, values in zip(rows.index, rows.to_numpy(dtype=object))
    ]
    more = f"; and {n - len(shown)} more" if n > len(shown) else ""
    return f"{n} customer{'s' if n != 1 else ''} ({'; '.join(shown)}{more})"


def _num(value) -> str:
    try:
        return f"{float(value):g}"
    except (TypeError, ValueError):
        return repr(value)


def check_summary(summary, columns: tuple[str, ...]) -> pd.DataFrame:
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


def check_same_unit(model_unit: str | None, summary: pd.DataFrame) -> None:
    """Refuse a summary in another time unit than the one the model was fitted on."""
    unit = summary.attrs.get("time_unit")
    if model_unit and unit and unit != model_unit:
        raise CLVInputError(
            f"the model was fitted on a summary in time unit {model_unit!r} but this summary is in "
            f"{unit!r}; summarise both with the same time_unit"
        )


def grouped(data: pd.DataFrame, columns: list[str]):
    """Distinct rows of ``columns`` and how many customers share each (the likelihood weights)."""
    counts = data.groupby(columns, sort=False).size()
    keys = counts.index.to_frame(index=False)
    return [keys[c].to_numpy(dtype="float64") for c in columns], counts.to_numpy(dtype="float64")


# --------------------------------------------------------------------------------------------
# Shared fitting machinery
# --------------------------------------------------------------------------------------------


class MLModel:
    """Maximum likelihood over log-parameters with a Wald covariance from the numerical Hessian."""

    _names: tuple[str, ...] = ()

    # Set by fit (all four) or from_params (params_ and time_unit_ only; summary_ stays unset).
    params_: dict[str, float]
    time_unit_: str | None
    summary_: pd.DataFrame
    n_customers_: int

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
            raise CLVInputError(
                f"{cls.__name__}.from_params takes exactly {', '.join(cls._names)}; "
                f"got {', '.join(params) or 'nothing'}"
            )
        for name, value in params.items():
            if not (isinstance(value, (int, float)) and math.isfinite(value) and value > 0):
                raise CLVInputError(f"parameter `{name}` ({value!r}) must be a number > 0")
        model = cls()
        model.params_ = {name: float(params[name]) for name in cls._names}
        model.time_unit_ = None
        return model

    def _loglik(self, *args: Any, **kwargs: Any):  # pragma: no cover - abstract
        """``(log_params, *data, gradient=False)`` -> ``(total log-likelihood, gradient or None)``.

        Subclasses define it as a static method naming their data columns; ``*args, **kwargs``
        here lets each take its own columns and keywords.
        """
        raise NotImplementedError

    def _objective(self, log_params, data, n):
        ll, grad = self._loglik(log_params, *data, gradient=True)
        theta = np.exp(log_params)
        value = -ll / n + self.penalizer * float(np.sum(theta**2))
        return value, -grad / n + self.penalizer * 2 * theta**2

    def _optimise(self, start, data, n) -> None:
        bounds = [(-LOG_BOUND, LOG_BOUND)] * len(start)
        from scipy import optimize

        res = optimize.minimize(
            self._objective,
            np.asarray(start, dtype=float),
            args=(data, n),
            jac=True,
            method="L-BFGS-B",
            bounds=bounds,
            options={"maxiter": 2000, "ftol": 1e-14, "gtol": 1e-9},
        )
        lp = res.x
        # a line search that stops at a stationary point (ABNORMAL with a vanishing gradient) has
        # found the optimum to the precision of the objective
        stationary = res.jac is not None and float(np.max(np.abs(res.jac))) < 1e-6
        self.converged_ = bool(res.success) or stationary
        if not self.converged_:
            warnings.warn(
                f"{type(self).__name__}: the optimiser did not converge ({res.message})",
                RuntimeWarning,
                stacklevel=3,
            )
        at_bound = np.abs(lp) >= LOG_BOUND - 1e-6
        if at_bound.any():
            names = ", ".join(n_ for n_, b in zip(self._names, at_bound) if b)
            warnings.warn(
                f"{type(self).__name__}: {names} ran to the edge of the search range; "
                "the data cannot pin them down (try penalizer > 0)",
                RuntimeWarning,
                stacklevel=3,
            )
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
            ok = bool(np.all(np.diag(cov) > 0) and np.all(np.isfinite(cov)))
        except np.linalg.LinAlgError:
            ok = False
        if not ok:
            warnings.warn(
                f"{type(self).__name__}: the Hessian is not positive definite at the "
                "estimate; standard errors are NaN",
                RuntimeWarning,
                stacklevel=4,
            )
            cov = np.full((k, k), np.nan)
        self._set_covariance(lp, cov, level)

    def _set_covariance(self, lp, cov, level: float = 0.95) -> None:
        theta = np.exp(lp)
        se_log = np.sqrt(np.diag(cov))
        from scipy import stats

        z = stats.norm.ppf(0.5 + level / 2)
        self.covariance_log_ = cov
        self.standard_errors_ = {name: float(t * s) for name, t, s in zip(self._names, theta, se_log)}
        self.confidence_intervals_ = {
            name: ConfidenceInterval(
                float(np.exp(lv - z * s)), float(np.exp(lv + z * s)), level, "Wald on the log scale"
            )
            for name, lv, s in zip(self._names, lp, se_log)
        }

    # -- saving and loading a fit -----------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        """The fit as plain JSON types: model, parameters, standard errors, the covariance of the
        log-parameters, log-likelihood, customers, time unit and penalizer (NaN written as None).
        The data fitted on is not included; :meth:`from_dict` gives a model that predicts the
        same for the same inputs."""
        self.require_fit()
        cov = getattr(self, "covariance_log_", None)
        out: dict[str, Any] = {
            "model": type(self).__name__,
            "params": dict(self.params_),
            "standard_errors": {k: _json_number(v) for k, v in getattr(self, "standard_errors_", {}).items()},
            "covariance_log": None if cov is None else [[_json_number(v) for v in row] for row in cov],
            "log_params": [float(v) for v in lp]
            if (lp := getattr(self, "_log_params", None)) is not None
            else None,
            "log_likelihood": _json_number(getattr(self, "log_likelihood_", None)),
            "n_customers": getattr(self, "n_customers_", None),
            "time_unit": self.time_unit_,
            "penalizer": self.penalizer,
            "converged": getattr(self, "converged_", None),
        }
        out.update(self._extra_state())
        return out

    def _extra_state(self) -> dict[str, Any]:
        """What a subclass saves beyond the parameters (see :meth:`to_dict`)."""
        return {}

    def _load_extra_state(self, data: dict[str, Any]) -> None:
        """Restore what :meth:`_extra_state` saved."""

    @classmethod
    def from_dict(cls, data: dict[str, Any]):
        """A model from :meth:`to_dict`'s output: same parameters, standard errors, intervals and
        predictions (for inputs given explicitly; the fitted data is not saved)."""
        if not isinstance(data, dict) or data.get("model") != cls.__name__:
            found = data.get("model") if isinstance(data, dict) else type(data).__name__
            raise CLVInputError(f"this is not a saved {cls.__name__} (it says {found!r})")
        try:
            model = cls.from_params(**{k: float(v) for k, v in data["params"].items()})
            model.penalizer = float(data.get("penalizer") or 0.0)
            model.time_unit_ = data.get("time_unit")
            if data.get("n_customers") is not None:
                model.n_customers_ = int(data["n_customers"])
            if data.get("log_likelihood") is not None:
                model.log_likelihood_ = float(data["log_likelihood"])
            if data.get("converged") is not None:
                model.converged_ = bool(data["converged"])
            if data.get("covariance_log") is not None:
                cov = np.array(
                    [[np.nan if v is None else float(v) for v in row] for row in data["covariance_log"]]
                )
                saved = data.get("log_params")
                model._log_params = (
                    np.array(saved, dtype=float)
                    if saved is not None
                    else np.log([model.params_[k] for k in cls._names])
                )
                model._set_covariance(model._log_params, cov)
            model._load_extra_state(data)
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise CLVInputError(f"the saved {cls.__name__} is incomplete or damaged ({exc})") from None
        return model

    def to_json(self) -> str:
        """:meth:`to_dict` as a JSON text."""
        return json.dumps(self.to_dict(), allow_nan=False)

    @classmethod
    def from_json(cls, text: str):
        """A model from :meth:`to_json`'s text (see :meth:`from_dict`)."""
        try:
            data = json.loads(text)
        except (TypeError, ValueError) as exc:
            raise CLVInputError(f"the saved {cls.__name__} is not valid JSON ({exc})") from None
        return cls.from_dict(data)

    def with_params(self, params: dict[str, float]):
        """A shallow copy of the model with other parameter values (the data stays attached)."""
        other = copy.copy(self)
        other.params_ = {k: float(params[k]) for k in self._names}
        return other

    def _fitted_summary(self) -> pd.DataFrame:
        self.require_fit()
        if getattr(self, "summary_", None) is None:
            raise CLVInputError(
                f"this {type(self).__name__} was built from parameters, not fitted "
                "on a summary: give the customers' values explicitly"
            )
        return self.summary_

    def require_fit(self) -> None:
        """Refuse to predict before the model is fitted (or built with :meth:`from_params`)."""
        if not hasattr(self, "params_"):
            raise CLVInputError(f"{type(self).__name__} is not fitted yet: call .fit(summary) first")


def _json_number(value):
    if value is None:
        return None
    value = float(value)
    return value if math.isfinite(value) else None


_SCALES: dict[str, tuple[Callable, Callable]] = {
    "log": (np.log, np.exp),
    "logit": (lambda p: np.log(p) - np.log1p(-p), lambda x: 1 / (1 + np.exp(-x))),
    "identity": (lambda v: v, lambda v: v),
}


def delta_method_interval(
    models: Sequence[MLModel],
    predict: Callable[..., Any],
    *,
    scale: str = "log",
    confidence_level: float = 0.95,
    step: float = 1e-4,
):
    r"""Interval of a prediction from the fits' uncertainty, by the delta method.

    ``predict(*models)`` gives an array (or number) from fitted models; its variance on the
    chosen ``scale`` (``"log"`` for positive amounts, ``"logit"`` for probabilities,
    ``"identity"``) is :math:`\sum_m g_m^	op \Sigma_m g_m`, with :math:`g_m` the gradient over
    model m's log-parameters (central differences of width ``step``) and :math:`\Sigma_m` its
    ``covariance_log_``: the models' estimates are taken as independent. The bounds are
    ``estimate ± z·SE`` on that scale, carried back.

    Returns
    -------
    (estimate, low, high)
        Arrays (floats when ``predict`` gives a number); the bounds are NaN where a model has no
        finite covariance or the prediction is not finite, or outside the scale's range.
    """
    from scipy import stats

    forward, back = _SCALES[scale]
    z = stats.norm.ppf(0.5 + confidence_level / 2)
    base = np.asarray(predict(*models), dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        centre = forward(base)
        var = np.zeros_like(base)
        for i, model in enumerate(models):
            cov = getattr(model, "covariance_log_", None)
            if cov is None or not np.all(np.isfinite(cov)):
                var = var + np.nan
                continue
            lp = np.log([model.params_[k] for k in model._names])
            grads = []
            for j in range(len(lp)):
                shifted = []
                for sign in (1, -1):
                    p = lp.copy()
                    p[j] += sign * step
                    trial = list(models)
                    trial[i] = model.with_params(dict(zip(model._names, np.exp(p))))
                    shifted.append(forward(np.asarray(predict(*trial), dtype="float64")))
                grads.append((shifted[0] - shifted[1]) / (2 * step))
            g = np.stack(grads)
            var = var + np.einsum("i...,ij,j...->...", g, cov, g)
        se = np.sqrt(var)
        low, high = back(centre - z * se), back(centre + z * se)
        # at the edge of the scale (a probability of exactly 1) the prediction does not move
        edge = np.isfinite(base) & ~np.isfinite(centre)
        low, high = np.where(edge, base, low), np.where(edge, base, high)
    if base.ndim == 0:
        return float(base), float(low), float(high)
    return base, low, high


def arrays(*values):
    """Broadcast inputs to float arrays; also whether they were all scalars."""
    out = np.broadcast_arrays(*[np.asarray(v, dtype="float64") for v in values])
    return out, all(np.ndim(v) == 0 for v in values)


def shape_like(result: np.ndarray, scalar: bool):
    """A float when every input was a scalar (see :func:`arrays`), else the array."""
    return float(result) if scalar else result
