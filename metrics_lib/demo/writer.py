"""Generating the demo data set: the tables in memory, or Parquet files, ``source.yml`` and
``targets.yml`` on disk.

:func:`generate_demo_data` returns every table as a pandas frame; :func:`write_demo_data`
writes each table to ``<table>.parquet`` as soon as it is complete (Arrow schemas from the data
contract) plus a ``source.yml`` recording the generator settings. Both run the same simulation,
step by step, from one ``numpy.random.default_rng(seed)``: the order of the steps below fixes
the order of the random draws, hence the data.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import yaml

from metrics_lib.core.errors import WorkbookError, some
from metrics_lib.data.safe_io import open_regular
from metrics_lib.demo.columns import SCHEMAS
from metrics_lib.demo.customers import (
    assign_referrers,
    customers_table,
    draw_customers,
    simulate_lifetimes,
    subscriptions_table,
)
from metrics_lib.demo.effects import DemoEffects
from metrics_lib.demo.marketing import (
    campaign_members_table,
    campaigns_table,
    daily_activity,
    draw_campaigns,
    marketing_spend_table,
    reviews_table,
    social_table,
    web_table,
)
from metrics_lib.demo.orders import draw_orders, orders_table
from metrics_lib.demo.pipeline import deal_stages_table, deals_table, draw_deals
from metrics_lib.demo.sampling import Calendar
from metrics_lib.demo.support import draw_surveys, draw_tickets, surveys_table, tickets_table
from metrics_lib.demo.targets import targets_yaml


def generate_demo_data(
    customers: int = 4000,
    *,
    seed: int = 7,
    effects: DemoEffects | None = None,
    start: str = "2022-01-01",
    end: str = "2025-12-31",
) -> dict[str, pd.DataFrame]:
    """Generate every table of the data contract for the fictional company.

    Parameters
    ----------
    customers : int, default 4000
        Number of customers signing up between ``start`` and ``end``. Per customer there come
        about 10 orders, 5.5 deals, 21 deal stages, 4.5 survey answers and 4.3 tickets.
    seed : int, default 7
        Seed of the one random generator; the same seed gives identical tables.
    effects : DemoEffects, optional
        The planted effects; ``DemoEffects()`` when omitted.
    start, end : str
        First and last day of the data (ISO dates, inclusive).

    Returns
    -------
    dict of str to pandas.DataFrame
        One frame per table, keyed by table name, columns in the data-contract order. Dates are
        ``datetime64[ms]`` at midnight, ``*_at`` columns ``datetime64[us]``, ids and labels
        ``str`` with real missing values, ``contacts_to_resolve`` nullable ``Int64``.

    Raises
    ------
    ValueError
        If ``customers`` is not a positive integer or ``end`` is not after ``start``.

    See Also
    --------
    DemoEffects : what the data should show.
    write_demo_data : the same tables written to Parquet.

    Examples
    --------
    >>> data = generate_demo_data(200, seed=3)
    >>> list(data["orders"].columns)
    ['order_id', 'customer_id', 'order_date', 'revenue', 'cost', 'order_type']
    >>> bool((data["orders"]["revenue"] >= 0).all())
    True
    """
    tables = dict(_iter_tables(customers, seed=seed, effects=effects, start=start, end=end))
    return {name: _to_pandas(tables[name]) for name in SCHEMAS}


def write_demo_data(
    out_dir: str | os.PathLike[str],
    *,
    customers: int = 4000,
    seed: int = 7,
    effects: DemoEffects | None = None,
    progress: Callable[[str], object] | None = None,
) -> dict[str, int]:
    """Generate the demo tables and write them as Parquet files plus a ``source.yml`` and the
    demo company's ``targets.yml`` (:func:`~metrics_lib.demo.targets.targets_yaml`).

    A ``targets.yml`` already in the folder is replaced only when it is one demo-data wrote (the
    same text as this or an earlier version); a file the user edited is kept, with a note through
    ``progress``.

    Each table goes to ``<out_dir>/<table>.parquet`` with an explicit Arrow schema (dates as
    ``date32``, ``*_at`` columns as ``timestamp[us]``), written as soon as it is complete so
    large runs stay within memory. ``source.yml`` names the source, the strategy change date, the
    default period (``"2025-Q4"``) and every generator setting, so the data can be rebuilt.

    Parameters
    ----------
    out_dir : path
        Folder for the files: a new or empty one (created if missing), which is marked as the
        demo's with the file :data:`DEMO_MARK`, or a folder so marked, whose tables and
        ``source.yml`` are then replaced. Into any other folder nothing is written and
        :class:`~metrics_lib.core.errors.WorkbookError` says why.
    customers, seed, effects
        As for :func:`generate_demo_data`.
    progress : callable, optional
        Called with a short message at each step (for a command line to print).

    Returns
    -------
    dict of str to int
        Rows written per table, in data-contract order.

    Examples
    --------
    >>> import tempfile
    >>> with tempfile.TemporaryDirectory() as folder:
    ...     rows = write_demo_data(folder, customers=100, seed=2)
    >>> rows["customers"]
    100
    """
    effects = effects if effects is not None else DemoEffects()
    say = progress if progress is not None else (lambda message: None)
    out = Path(out_dir)
    marked = _check_out(out)
    rows: dict[str, int] = {}
    try:
        out.mkdir(parents=True, exist_ok=True)
        if not marked:  # marked first: a write cut short can be done again
            with open(out / DEMO_MARK, "x", encoding="utf-8") as fh:
                fh.write(_DEMO_MARK_TEXT)
        for name, table in _iter_tables(customers, seed=seed, effects=effects, progress=say):
            say(f"writing {name}.parquet ({table.num_rows:,} rows)")
            pq.write_table(table, out / f"{name}.parquet")
            rows[name] = table.num_rows
            del table
        source = _source_description(customers, seed, effects)
        (out / "source.yml").write_text(yaml.safe_dump(source, sort_keys=False), encoding="utf-8")
        wrote_targets = _write_targets(out / "targets.yml", say)
    except OSError as exc:
        where = f" ({exc.filename})" if exc.filename else ""
        raise WorkbookError(
            f"--out {out}: cannot write the demo data{where}: {exc.strerror or exc}; free some space or "
            "choose a folder you can write to"
        ) from None
    say(f"wrote {len(rows)} tables, source.yml{' and targets.yml' if wrote_targets else ''} to {out}")
    return {name: rows[name] for name in SCHEMAS}


#: The file that marks a folder as made by ``demo-data``, which may replace its tables and
#: ``source.yml`` (the committed ``data/demo`` carries it, so ``make demo-data`` rebuilds it).
DEMO_MARK = ".metrics_lib-demo"
_DEMO_MARK_TEXT = (
    "This folder was made by `python -m metrics_lib demo-data`; running it again with this folder as\n"
    "--out replaces its tables (<table>.parquet) and source.yml. Keep your own files elsewhere.\n"
)


def _check_out(out: Path) -> bool:
    """Whether ``out`` is a folder the demo made (it carries :data:`DEMO_MARK` with the demo's
    text): False for a folder that is new or empty, which the demo may fill; anything else (a file,
    a folder holding something else) is refused with a :class:`WorkbookError` naming --out, and
    nothing is written."""
    if out.exists() and not out.is_dir():
        raise WorkbookError(
            f"--out {out}: this is a file, not a folder; give a folder for the demo data (it is created "
            "when missing)"
        )
    if not out.exists():
        return False
    try:
        entries = sorted(p.name for p in out.iterdir())
    except OSError as exc:
        raise WorkbookError(
            f"--out {out}: the folder cannot be read ({exc.strerror or exc}); choose a new or empty "
            "folder you can write to"
        ) from None
    if not entries:
        return False
    try:
        with open_regular(out / DEMO_MARK, limit=len(_DEMO_MARK_TEXT.encode())) as fh:
            if fh.read().decode("utf-8", errors="replace") == _DEMO_MARK_TEXT:
                return True  # demo data written before: its files are replaced
    except WorkbookError:
        pass
    raise WorkbookError(
        f"--out {out}: this folder is not empty (it holds {some(entries, 5)}) and was not made by "
        f"demo-data (it lacks the mark {DEMO_MARK} that demo-data writes), so nothing was written; "
        "choose an empty or new folder for --out (demo-data creates it)"
    )


#: SHA-256 of the targets.yml texts earlier versions of demo-data wrote, which it may replace.
_EARLIER_TARGETS_SHA256 = frozenset(
    {
        "a84e386058090260067f54f5a5a284e21c435203ca6ae25e6dc1912987fd9f45",
        "8da048254bae2097eb2970d790044cc156185a44e9f91ecd49ba8bc85d8abb60",
        "de472206f24f35f9d6a465c33cd8ca4869fb38ca4a139887b09d3932b5833a9d",
        "8bfecab8e4b528dd1b2efb863dd6663d02525d3837a73ef816148b9a81ffadbf",
    }
)


def _write_targets(path: Path, say: Callable[[str], object]) -> bool:
    """Write the demo's targets to ``path`` when it is missing or holds a text demo-data wrote;
    keep any other file there (the user's edited targets, a link) and say so. Whether it wrote."""
    text = targets_yaml()
    if not os.path.lexists(path):
        with open(path, "x", encoding="utf-8") as fh:
            fh.write(text)
        return True
    try:
        with open_regular(path, limit=1 << 20) as fh:
            old = fh.read()
    except WorkbookError:
        old = None
    if old is not None and not path.is_symlink():
        if old == text.encode("utf-8"):
            return True  # already the demo's targets, byte for byte
        if hashlib.sha256(old).hexdigest() in _EARLIER_TARGETS_SHA256:
            path.write_text(text, encoding="utf-8")
            return True
    say(
        f"kept {path}: it differs from the demo's targets (edited?); to get the demo's targets, "
        "move it away and run demo-data again"
    )
    return False


#: What the demo company changes on its strategy change date (``strategy_change_label``).
STRATEGY_CHANGE_LABEL = "CRM roll-out and customer-success programme"


def _source_description(customers: int, seed: int, effects: DemoEffects) -> dict[str, object]:
    return {
        "name": "demo",
        "description": (
            "Fictional B2B software company selling annual subscriptions billed quarterly, "
            f"add-ons and services, 2022-01-01 to 2025-12-31. Its {STRATEGY_CHANGE_LABEL} start on "
            f"{effects.strategy_change_date}; generated by metrics_lib.demo with the settings below."
        ),
        "strategy_change_date": str(effects.strategy_change_date),
        "strategy_change_label": STRATEGY_CHANGE_LABEL,
        "default_period": "2025-Q4",
        "generator": {"customers": int(customers), "seed": int(seed), **effects.to_dict()},
    }


def _to_pandas(table: pa.Table) -> pd.DataFrame:
    frame = table.to_pandas(date_as_object=False)
    for field in table.schema:
        if pa.types.is_integer(field.type) and field.nullable:
            frame[field.name] = frame[field.name].astype("Int64")
    return frame


# --------------------------------------------------------------------------------------------
# The simulation, step by step
# --------------------------------------------------------------------------------------------


def _iter_tables(
    customers: int,
    *,
    seed: int,
    effects: DemoEffects | None,
    start: str = "2022-01-01",
    end: str = "2025-12-31",
    progress: Callable[[str], object] | None = None,
) -> Iterator[tuple[str, pa.Table]]:
    """Yield ``(name, arrow table)`` as each table is finished (shared state stays in arrays)."""
    if isinstance(customers, bool) or not isinstance(customers, (int, np.integer)) or customers < 1:
        raise ValueError(f"`customers` ({customers!r}) must be a positive integer")
    fx = effects if effects is not None else DemoEffects()
    say = progress if progress is not None else (lambda message: None)
    cal = Calendar.build(start, end, fx.strategy_change_date)
    rng = np.random.default_rng(seed)

    say(f"drawing {customers:,} customers")
    cust = draw_customers(rng, int(customers), cal, fx)
    say("simulating subscriptions and churn month by month")
    subs = simulate_lifetimes(rng, cal, fx, cust)
    assign_referrers(rng, cust, fx)
    yield "customers", customers_table(cust)
    yield "subscriptions", subscriptions_table(cust, subs)

    say("drawing campaigns")
    camp = draw_campaigns(rng, cal, fx, cust)
    yield "campaigns", campaigns_table(camp)
    yield "campaign_members", campaign_members_table(camp, cust)

    say("drawing orders")
    orders = draw_orders(rng, cal, fx, cust, subs, camp)
    yield "marketing_spend", marketing_spend_table(rng, cal, fx, cust, subs, camp)
    del camp

    say("drawing the sales pipeline")
    deals = draw_deals(rng, cal, fx, cust, subs, orders)
    renewed = subs.previous >= 0
    renewals = (subs.customer[renewed], subs.start[renewed])
    del subs
    yield "orders", orders_table(orders, cust)
    del orders
    yield "deals", deals_table(deals, cust)
    say("drawing deal stages")
    yield "deal_stages", deal_stages_table(rng, cal, deals)
    del deals

    say("drawing support tickets")
    tickets = draw_tickets(rng, cal, fx, cust)
    say("drawing surveys")
    surveys = draw_surveys(rng, cal, fx, cust, tickets, renewals)
    yield "tickets", tickets_table(tickets, cust)
    del tickets
    yield "surveys", surveys_table(surveys, cust)
    del surveys

    say("drawing reviews, web and social engagement")
    yield "reviews", reviews_table(rng, cal, fx, cust)
    activity = daily_activity(cal, cust)
    yield "web_engagement", web_table(rng, cal, fx, activity, cust.n)
    yield "social", social_table(rng, cal, activity, cust.n)
