"""From transactions to the per-customer summary the CLV models are fitted on (on the engine).

The summary has one row per customer:

``frequency``
    number of *repeat* purchase days (purchases on the same day count once, the first day not at
    all);
``recency``
    time from the first to the last purchase day (0 when ``frequency`` is 0);
``T``
    time from the first purchase day to the end of the observation period;
``monetary_value``
    mean value per repeat purchase day (the first day's value excluded; 0 when ``frequency`` is 0),
    net of the customer's returns.

Returns are rows with a negative value (a refund). They are not purchases, so they make no
purchase day and change neither ``frequency``, ``recency`` nor ``T``. The value is net: a refund
cannot be matched to the purchase it undoes, so each customer's refunds are spread over all their
purchases in proportion to value, and ``monetary_value`` is the repeat purchases' mean value times
the share the customer kept, 1 - refunds / purchases (0 when everything came back). Net, not
gross, because the Gamma-Gamma model then predicts the value a customer leaves with the
business, as the rest of the workbook's revenue is net of returns.

Times are in the summary's time unit: ``"D"`` days, ``"W"`` weeks of 7 days (the default) or
``"M"`` months of 30.4375 days (365.25 / 12, the mean Gregorian month, as elsewhere in the
package). The unit travels with the summary in ``summary.attrs["time_unit"]``; every rate, horizon
and discount rate of the models is per unit of it. :func:`summarize_transactions` builds it, and
:func:`calibration_holdout_split` builds it for a calibration period with what each customer did
in the holdout period after it; both run on the engine (Ibis on DuckDB), so ten million orders
take seconds.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pandas as pd

from metrics_lib.clv._checks import CLVInputError
from metrics_lib.core.engine import ibis_duckdb_connect

__all__ = ["TIME_UNITS", "summarize_transactions", "calibration_holdout_split"]

#: Days in one time unit of a summary.
TIME_UNITS: dict[str, float] = {"D": 1.0, "W": 7.0, "M": 30.4375}


def summarize_transactions(
    transactions,
    *,
    customer_col: str = "customer_id",
    date_col: str = "order_date",
    value_col: str | None = None,
    observation_end,
    time_unit: str = "W",
) -> pd.DataFrame:
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
    ``monetary_value`` = (total value - first day's value) / ``frequency`` x (1 - refunds /
    total value) (0 when ``frequency`` is 0). A row with a negative value is a return (refund):
    no purchase day, only the netting (see the module's notes).

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

    A refund of 7 from ``a`` (of 35 bought: a keeps 80%) nets the repeat purchase's 20 to 16,
    and is no purchase day:

    >>> refund = pd.DataFrame({"customer_id": ["a"], "order_date": ["2025-01-22"], "revenue": [-7.0]})
    >>> summarize_transactions(pd.concat([orders, refund]), value_col="revenue",
    ...                        observation_end="2025-01-29").loc["a"].to_dict()
    {'frequency': 1.0, 'recency': 2.0, 'T': 4.0, 'monetary_value': 16.0}
    """
    unit = _time_unit(time_unit)
    end = _as_date("observation_end", observation_end)
    table, run = _engine_table(transactions)
    _check_columns(table, customer_col, date_col, value_col)
    expr = _summary_expr(table, customer_col, date_col, value_col, end, unit, _on_duckdb(transactions))
    out = run(expr.order_by("customer"))
    return _finish_summary(out, customer_col, time_unit, end)


def calibration_holdout_split(
    transactions,
    *,
    customer_col: str = "customer_id",
    date_col: str = "order_date",
    value_col: str | None = None,
    calibration_end,
    observation_end,
    time_unit: str = "W",
) -> pd.DataFrame:
    """The calibration summary and what each of its customers did in the holdout period after it.

    Customers whose first purchase is on or before ``calibration_end`` are kept. Their
    ``frequency``, ``recency``, ``T`` (and ``monetary_value``) use the transactions up to
    ``calibration_end`` only; the holdout is ``(calibration_end, observation_end]``:

    ``frequency_holdout``
        purchase days in the holdout (every one is a repeat purchase);
    ``monetary_value_holdout``
        mean value per holdout purchase day, net of the holdout's refunds as in
        :func:`summarize_transactions`, 0 when there were none (only with ``value_col``);
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
    cal = _summary_expr(table, customer_col, date_col, value_col, cal_end, unit, _on_duckdb(transactions))
    hold = _purchase_days(table, customer_col, date_col, value_col, after=cal_end, through=obs_end)
    metrics = {"frequency_holdout": hold.count()}
    if value_col is not None:
        metrics["value_holdout"] = hold.value.sum()
    hold = hold.group_by("customer").aggregate(**metrics)
    if value_col is not None:
        back = _refunds(table, customer_col, date_col, value_col, after=cal_end, through=obs_end)
        hold = hold.left_join(back, "customer").drop("customer_right")
        hold = hold.mutate(value_holdout=hold.value_holdout * _kept(hold.value_holdout, hold.refunded))
    hold = hold.rename(customer_h="customer")
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
    ts: pd.Timestamp | None
    try:
        ts = pd.Timestamp(value)  # NaT for None, "NaT" and the like
    except (TypeError, ValueError):
        ts = None
    if ts is None or pd.isna(ts):
        raise CLVInputError(f"`{name}` ({value!r}) is not a date; write it as YYYY-MM-DD")
    return ts.date()


def _engine_table(transactions):
    """The transactions as an Ibis table and a function that executes expressions on it."""
    import ibis
    from ibis.expr.types import Table

    if isinstance(transactions, Table):
        return transactions, lambda expr: expr.execute()
    if isinstance(transactions, pd.DataFrame):
        con = ibis_duckdb_connect()
        return ibis.memtable(transactions), con.execute
    raise CLVInputError(
        f"`transactions` must be a pandas DataFrame or an Ibis table, not {type(transactions).__name__}"
    )


def _on_duckdb(transactions) -> bool:
    """Whether the transactions are aggregated by DuckDB (a DataFrame always is)."""
    if isinstance(transactions, pd.DataFrame):
        return True
    try:
        return transactions.get_backend().name == "duckdb"
    except Exception:  # an unbound table: no backend to ask
        return False


_duckdb_arg_min = None


def _first_day_value(days, on_duckdb: bool):
    """Each customer's value of their first purchase day. On DuckDB its ``arg_min`` aggregate,
    grouped by hashing; elsewhere Ibis's ``argmin``, which DuckDB would run as an ordered
    aggregate (``first(value ORDER BY day)``, a sort within every group) at about twice the time
    of the whole summary."""
    if not on_duckdb:
        return days.value.argmin(days.day)
    global _duckdb_arg_min
    if _duckdb_arg_min is None:
        import ibis

        @ibis.udf.agg.builtin(name="arg_min")
        def arg_min(arg: float, key: date) -> float:  # type: ignore[empty-body]
            """DuckDB's arg_min: ``arg`` of the row with the smallest ``key``."""

        _duckdb_arg_min = arg_min
    return _duckdb_arg_min(days.value, days.day)


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


def _purchase_days(table, customer_col, date_col, value_col, *, after: date | None = None, through: date):
    """One row per customer and purchase day in ``(after, through]`` (values of the day summed;
    missing values as 0). The days are filtered before grouping, so the engine groups less."""
    col = table[date_col]
    day = _day(table, date_col)
    keep = table[customer_col].notnull() & col.notnull() & (day <= through)
    if after is not None:
        keep &= day > after
    if value_col is not None:  # a negative value is a return: no purchase day
        keep &= table[value_col].isnull() | (table[value_col] >= 0)
    t = table.filter(keep)
    fields = {"customer": t[customer_col], "day": _day(t, date_col)}
    if value_col is not None:
        fields["value"] = t[value_col].cast("float64").fill_null(0.0)
    t = t.select(**fields)
    metrics = {"value": t.value.sum()} if value_col is not None else {"n": t.count()}
    out = t.group_by(["customer", "day"]).aggregate(**metrics)
    return out.drop("n") if value_col is None else out


def _refunds(table, customer_col, date_col, value_col, *, after: date | None = None, through: date):
    """Per customer, the value given back by returns (rows with a negative value) in ``(after,
    through]``, as a positive ``refunded``."""
    value = table[value_col].cast("float64")
    day = _day(table, date_col)
    keep = table[customer_col].notnull() & table[date_col].notnull() & (day <= through) & (value < 0)
    if after is not None:
        keep &= day > after
    t = table.filter(keep)
    return t.group_by(customer=t[customer_col]).aggregate(refunded=-t[value_col].cast("float64").sum())


def _kept(bought, refunded):
    """The share of ``bought`` a customer kept after ``refunded`` came back, in [0, 1] (1 with
    no refund or nothing bought)."""
    import ibis

    share = 1.0 - refunded.fill_null(0.0) / bought.nullif(0.0)
    return ibis.greatest(ibis.least(share.fill_null(1.0), 1.0), 0.0)


def _summary_expr(table, customer_col, date_col, value_col, end: date, unit: float, on_duckdb: bool = False):
    import ibis

    days = _purchase_days(table, customer_col, date_col, value_col, through=end)
    metrics = {"first": days.day.min(), "last": days.day.max(), "n_days": days.count()}
    if value_col is not None:
        metrics["total"] = days.value.sum()
        metrics["first_value"] = _first_day_value(days, on_duckdb)
    per = days.group_by("customer").aggregate(**metrics)
    if value_col is not None:
        back = _refunds(table, customer_col, date_col, value_col, through=end)
        per = per.left_join(back, "customer").drop("customer_right")
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
            per.n_days > 1,
            (per.total - per.first_value).cast("float64") / repeat * _kept(per.total, per.refunded),
            0.0,
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
