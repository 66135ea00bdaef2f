"""One benchmark task per call: ``python bench/tasks.py TASK DATA_DIR``.

Each task runs in its own process so that ``bench/run.py`` can read its wall time and peak
memory (the child's maximum resident set size) without one task's memory counting for another.
"""

from __future__ import annotations

import sys
import time
from datetime import date
from pathlib import Path

OBSERVATION_END = date(2025, 12, 31)


def _compute_time(t0: float) -> None:
    """Say how long the work took after the imports (the runner records it beside the wall time)."""
    print(f"compute: {time.perf_counter() - t0:.2f} s", file=sys.stderr)


def _summarize(orders, t0: float) -> int:
    """Our weekly customer summary of ``orders`` (a table or a DataFrame); the compute time since
    ``t0`` is reported, the number of customers returned."""
    from metrics_lib.clv import summarize_transactions

    out = summarize_transactions(
        orders,
        customer_col="customer_id",
        date_col="order_date",
        value_col="revenue",
        observation_end=OBSERVATION_END,
        time_unit="W",
    )
    _compute_time(t0)
    return len(out)


def summary_ours(data: Path, **connect) -> int:
    import ibis

    import metrics_lib.clv  # noqa: F401  (imported before the clock starts, as before)

    t0 = time.perf_counter()
    con = ibis.duckdb.connect(**connect)
    orders = con.read_parquet(str(data / "orders.parquet"))
    return _summarize(orders, t0)


def summary_ours_capped(data: Path) -> int:
    """As summary_ours, on a DuckDB connection told to keep its memory under 600 MB."""
    return summary_ours(data, memory_limit="600MB")


def summary_pandas(data: Path) -> int:
    import pandas as pd

    t0 = time.perf_counter()
    o = pd.read_parquet(data / "orders.parquet", columns=["customer_id", "order_date", "revenue"])
    return _pandas_summary(o, t0)


def _pandas_summary(o, t0: float) -> int:
    import pandas as pd

    o = o[["customer_id", "order_date", "revenue"]]
    o["order_date"] = pd.to_datetime(o["order_date"])
    days = o.groupby(["customer_id", "order_date"], sort=False)["revenue"].sum().reset_index()
    g = days.groupby("customer_id", sort=False)
    first, last, n = g["order_date"].min(), g["order_date"].max(), g["order_date"].size()
    total, first_value = g["revenue"].sum(), g["revenue"].first()
    end = pd.Timestamp(OBSERVATION_END)
    out = pd.DataFrame(
        {
            "frequency": n - 1,
            "recency": (last - first).dt.days / 7.0,
            "T": (end - first).dt.days / 7.0,
        }
    )
    # first purchase day excluded from the monetary value (days sorted by date within customer)
    days = days.sort_values(["customer_id", "order_date"])
    first_value = days.groupby("customer_id", sort=False)["revenue"].first()
    repeat = (total - first_value.reindex(total.index)) / out["frequency"].where(out["frequency"] > 0)
    out["monetary_value"] = repeat.fillna(0.0)
    _compute_time(t0)
    return len(out)


def summary_lifetimes(data: Path) -> int:
    import pandas as pd
    from lifetimes.utils import summary_data_from_transaction_data

    t0 = time.perf_counter()
    o = pd.read_parquet(data / "orders.parquet", columns=["customer_id", "order_date", "revenue"])
    out = summary_data_from_transaction_data(
        o,
        "customer_id",
        "order_date",
        monetary_value_col="revenue",
        observation_period_end=str(OBSERVATION_END),
        freq="W",
    )
    _compute_time(t0)
    return len(out)


def metrics_quarter(data: Path) -> int:
    """Cold: nothing remembered from earlier runs, every table checked against the contract."""
    import os

    os.environ["METRICS_LIB_CACHE_DIR"] = "off"
    return _metrics_quarter(data)


def metrics_quarter_warm(data: Path) -> int:
    """Warm: the clean checks of an earlier run on the same files are remembered (the runner
    makes one untimed run first), as for a second period, a report notebook or a rerun."""
    import os

    os.environ["METRICS_LIB_CACHE_DIR"] = str(Path(__file__).resolve().parent / "data" / "check-cache")
    return _metrics_quarter(data)


def _metrics_quarter(data: Path) -> int:
    from metrics_lib.data import open_source
    from metrics_lib.metrics.scorecard import headline_metrics

    t0 = time.perf_counter()
    out = headline_metrics(open_source(data), "2025-Q3")
    _compute_time(t0)
    return len(out["metrics"])


#: Orders in the in-memory summary tasks (the first rows of the bench data's orders).
FRAME_ROWS = 5_000_000


def _orders_frame(data: Path):
    """The first :data:`FRAME_ROWS` orders as a pandas DataFrame, every column (read untimed)."""
    import pyarrow.parquet as pq

    table = pq.ParquetFile(data / "orders.parquet").iter_batches(batch_size=FRAME_ROWS)
    return next(table).to_pandas(date_as_object=False)


def summary_frame_ours(data: Path) -> int:
    """``summarize_transactions`` on an in-memory DataFrame (time after reading it)."""
    import metrics_lib.clv  # noqa: F401  (imported before the clock starts)

    orders = _orders_frame(data)
    t0 = time.perf_counter()
    return _summarize(orders, t0)


def summary_frame_duckdb(data: Path) -> int:
    """The same summary written by hand as one DuckDB query over the DataFrame."""
    import duckdb
    import pyarrow as pa

    orders = _orders_frame(data)
    t0 = time.perf_counter()
    con = duckdb.connect()
    # its columns as Arrow: DuckDB scans them faster than the DataFrame's own string columns
    con.register("orders", pa.Table.from_pandas(orders[["customer_id", "order_date", "revenue"]]))
    out = con.sql(
        f"""
        WITH days AS (
            SELECT customer_id, CAST(order_date AS DATE) AS day, SUM(COALESCE(revenue, 0)) AS value
            FROM orders
            WHERE customer_id IS NOT NULL AND order_date IS NOT NULL
              AND CAST(order_date AS DATE) <= DATE '{OBSERVATION_END}'
            GROUP BY 1, 2
        ), per AS (
            SELECT customer_id, MIN(day) AS first, MAX(day) AS last, COUNT(*) AS n,
                   SUM(value) AS total, ARG_MIN(value, day) AS first_value
            FROM days GROUP BY 1
        )
        SELECT customer_id, n - 1 AS frequency, (last - first) / 7.0 AS recency,
               (DATE '{OBSERVATION_END}' - first) / 7.0 AS T,
               CASE WHEN n > 1 THEN (total - first_value) / (n - 1) ELSE 0 END AS monetary_value
        FROM per ORDER BY customer_id
        """
    ).df()
    _compute_time(t0)
    return len(out)


def summary_frame_pandas(data: Path) -> int:
    """The same summary by pandas groupby on the DataFrame."""
    orders = _orders_frame(data)
    return _pandas_summary(orders, time.perf_counter())


def clv_fit(data: Path) -> int:
    import ibis

    from metrics_lib.clv import BetaGeoModel, GammaGammaModel, summarize_transactions

    con = ibis.duckdb.connect()
    orders = con.read_parquet(str(data / "orders.parquet"))
    summary = summarize_transactions(
        orders,
        customer_col="customer_id",
        date_col="order_date",
        value_col="revenue",
        observation_end=OBSERVATION_END,
        time_unit="W",
    )
    t0 = time.perf_counter()
    BetaGeoModel().fit(summary)
    GammaGammaModel().fit(summary)
    print(f"fit only: {time.perf_counter() - t0:.2f} s", file=sys.stderr)
    return len(summary)


def reports_one_period(data: Path, jobs: int = 1) -> int:
    import tempfile

    from metrics_lib.reporting.runner import run_reports

    with tempfile.TemporaryDirectory() as out:
        s = run_reports(["2025-Q4"], data=data, out=out, jobs=jobs, progress=lambda *_: None)
    return len(s.results)


def reports_eight_periods(data: Path, jobs: int = 1) -> int:
    import tempfile

    from metrics_lib.core.periods import period_range
    from metrics_lib.reporting.runner import run_reports

    periods = [p.label for p in period_range("2024-01", "2024-08")]
    with tempfile.TemporaryDirectory() as out:
        s = run_reports(periods, data=data, out=out, jobs=jobs, progress=lambda *_: None)
    return len(s.results)


def reports_one_period_big(data: Path) -> int:
    """All notebooks of 2025-Q4 on the bench data, ``--jobs`` at its default (the CPU count)."""
    import tempfile

    from metrics_lib.reporting.runner import run_reports

    with tempfile.TemporaryDirectory() as out:
        s = run_reports(["2025-Q4"], data=data, out=out, progress=lambda *_: None)
    return len(s.results)


TASKS = {
    "summary_ours": summary_ours,
    "summary_ours_capped": summary_ours_capped,
    "summary_pandas": summary_pandas,
    "summary_lifetimes": summary_lifetimes,
    "metrics_quarter": metrics_quarter,
    "metrics_quarter_warm": metrics_quarter_warm,
    "summary_frame_ours": summary_frame_ours,
    "summary_frame_duckdb": summary_frame_duckdb,
    "summary_frame_pandas": summary_frame_pandas,
    "clv_fit": clv_fit,
    "reports_1_period": reports_one_period,
    "reports_8_periods_jobs1": lambda d: reports_eight_periods(d, 1),
    "reports_8_periods_jobs2": lambda d: reports_eight_periods(d, 2),
    "reports_1_period_1m": reports_one_period_big,
    "reports_8_periods_1m_jobs2": lambda d: reports_eight_periods(d, 2),
}


if __name__ == "__main__":
    task, data = sys.argv[1], Path(sys.argv[2])
    rows = TASKS[task](data)
    print(rows)
