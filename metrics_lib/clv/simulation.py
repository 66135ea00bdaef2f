"""Simulated customers from the BG/NBD and Gamma-Gamma generative processes, for tests, examples
and checking a fit: :func:`simulate_bgnbd` draws ``frequency``, ``recency`` and ``T``;
:func:`simulate_gamma_gamma` draws mean spend per repeat purchase.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

__all__ = ["simulate_bgnbd", "simulate_gamma_gamma"]


def simulate_bgnbd(
    n: int, *, r: float, alpha: float, a: float, b: float, T, rng: np.random.Generator | None = None
) -> pd.DataFrame:
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
    out = pd.DataFrame(
        {"frequency": x.astype("int64"), "recency": tx, "T": T_}, index=pd.RangeIndex(n, name="customer_id")
    )
    out.attrs["time_unit"] = "W"
    return out


def simulate_gamma_gamma(
    frequency, *, p: float, q: float, gamma: float, rng: np.random.Generator | None = None
) -> np.ndarray:
    """Mean spend per repeat purchase for customers with these frequencies (0 where frequency is 0)."""
    rng = np.random.default_rng() if rng is None else rng
    x = np.asarray(frequency, dtype=float)
    nu = rng.gamma(q, 1 / gamma, x.shape)
    pos = x > 0
    total = np.zeros(x.shape)
    total[pos] = rng.gamma(p * x[pos], 1 / nu[pos])
    return np.where(pos, total / np.where(pos, x, 1), 0.0)
