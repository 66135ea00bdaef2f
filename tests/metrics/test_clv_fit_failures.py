"""A CLV model fit that fails comes back as a note, never as warnings or numbers built on it.

Thirty identical customers who each bought every week of 2024-2025 leave the BG/NBD nothing to
estimate: the optimiser does not converge. The view is empty, its note says why (as when there
are too few customers), and none of the model's warnings reach the caller.
"""

from __future__ import annotations

import warnings

import pandas as pd
import pytest

from metrics_lib.data import open_source
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics.clv_views import clv_models


@pytest.fixture
def weekly_buyers(tmp_path):
    customers = [f"C{i}" for i in range(30)]
    start = pd.Timestamp("2024-01-01")
    orders = [
        (f"O{i}_{k}", c, (start + pd.Timedelta(weeks=k)).date().isoformat(), 100 + i, 50)
        for i, c in enumerate(customers)
        for k in range(80)
    ]
    pd.DataFrame({"customer_id": customers, "signup_date": "2024-01-01"}).to_csv(
        tmp_path / "customers.csv", index=False
    )
    pd.DataFrame(orders, columns=["order_id", "customer_id", "order_date", "revenue", "cost"]).to_csv(
        tmp_path / "orders.csv", index=False
    )
    return open_source(tmp_path)


def test_a_fit_that_does_not_converge_is_a_note_without_warnings(weekly_buyers):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        view = clv_models(agg.Scope.of(weekly_buyers, "2025-Q4"))
    assert view.note == "not fitted: BG/NBD: the optimiser did not converge"
    assert view.parameters.empty and view.calibration.empty and view.alive.empty and view.customers.empty
    assert view.key_numbers() is None
    runtime = [w for w in caught if issubclass(w.category, RuntimeWarning)]
    assert not runtime, [str(w.message) for w in runtime]
    assert not any("converge" in str(w.message) or "Hessian" in str(w.message) for w in caught)
