"""Where the quarter's metric set spends its time: contract checks per table, then each query.

Usage::

    python bench/profile_metrics.py [DATA_DIR] [--period 2025-Q3] [--warm]
    python bench/profile_metrics.py [DATA_DIR] --summary

Every query the workbook sends to DuckDB is timed and attributed to the ``metrics_lib`` function
that sent it; the contract checks are listed per table. Without ``--warm`` nothing is taken
from the check cache (a cold run, as ``bench/run.py``'s ``metrics_quarter``). ``--summary``
prints DuckDB's EXPLAIN ANALYZE of the per-customer summary query instead.
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default=str(HERE / "data" / "demo-1000000"))
    parser.add_argument("--period", default="2025-Q3")
    parser.add_argument("--warm", action="store_true", help="use the benchmark's check cache")
    parser.add_argument("--summary", action="store_true", help="EXPLAIN ANALYZE the CLV summary query")
    args = parser.parse_args(argv)
    if args.summary:
        return explain_summary(Path(args.data))
    os.environ["METRICS_LIB_CACHE_DIR"] = str(HERE / "data" / "check-cache") if args.warm else "off"

    t0 = time.perf_counter()
    import ibis.backends.duckdb as duckdb_backend

    from metrics_lib.data import engine_checks, open_source
    from metrics_lib.metrics.scorecard import headline_metrics

    imported = time.perf_counter() - t0
    spent: dict[str, list] = collections.defaultdict(lambda: [0, 0.0])

    def timed(method):
        def run(self, expr, *a, **kw):
            start = time.perf_counter()
            try:
                return method(self, expr, *a, **kw)
            finally:
                frames = [f for f in traceback.extract_stack()[:-1] if "metrics_lib" in f.filename]
                where = f"{Path(frames[-1].filename).stem}.{frames[-1].name}" if frames else "?"
                spent[where][0] += 1
                spent[where][1] += time.perf_counter() - start

        return run

    for name in ("execute", "to_pyarrow"):
        setattr(duckdb_backend.Backend, name, timed(getattr(duckdb_backend.Backend, name)))
    per_table = {}
    check = engine_checks.check_in_engine

    def check_timed(expr, table, *a, **kw):
        start = time.perf_counter()
        try:
            return check(expr, table, *a, **kw)
        finally:
            per_table[table] = time.perf_counter() - start

    engine_checks.check_in_engine = check_timed
    start = time.perf_counter()
    headline_metrics(open_source(args.data), args.period)
    total = time.perf_counter() - start

    print(f"imports {imported:.2f} s; metrics {total:.2f} s")
    print(f"contract checks {sum(per_table.values()):.2f} s:")
    for table, s in sorted(per_table.items(), key=lambda kv: -kv[1]):
        print(f"  {table:<20} {s:6.2f} s")
    print("queries by the function that sent them (checks included above):")
    for where, (n, s) in sorted(spent.items(), key=lambda kv: -kv[1][1]):
        if not where.startswith("checks."):
            print(f"  {where:<40} {n:3d} x  {s:6.2f} s")
    return 0


def explain_summary(data: Path) -> int:
    from datetime import date

    import ibis

    from metrics_lib.clv.summary import TIME_UNITS, _summary_expr

    con = ibis.duckdb.connect()
    orders = con.read_parquet(str(data / "orders.parquet"))
    expr = _summary_expr(orders, "customer_id", "order_date", "revenue", date(2025, 12, 31), TIME_UNITS["W"])
    con.raw_sql("SET enable_progress_bar = false")
    print(con.raw_sql("EXPLAIN ANALYZE " + ibis.to_sql(expr, dialect="duckdb")).fetchall()[0][1])
    return 0


if __name__ == "__main__":
    sys.exit(main())
