"""A number the data cannot define is null with its reason, never 0: checked for every headline
metric against every input it may read.

The cases come from the registries, not from a hand-made list: the metrics from
:data:`~metrics_lib.metrics.catalogue.HEADLINE`, the tables and optional columns each one cannot
do without from its ``needs``, and the other optional columns of those tables from the contract
(:data:`~metrics_lib.data.contract.TABLES`). On a small generated demo source (every table and
column present, every metric defined) each input is taken away in turn:

* a table a metric needs, removed: the metric is null, its reason names the table;
* an optional column a metric needs (``orders.order_type``), removed or left empty in every row:
  the metric is null, its reason names the column;
* every row of a table a metric needs set aside in quarantine: the metric is null and says so;
* any other optional column of a table a metric reads, removed: the metric keeps its value, so
  a metric that quietly depends on a column it does not declare shows up here;
* a required column that may be empty, left empty in every row: the contract refuses the source,
  or no metric that had a value turns into a made-up 0 (it keeps a number, or is null with a
  reason).
"""

from __future__ import annotations

import math
import shutil

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from conftest import valid_tables

from metrics_lib.core.errors import ContractError
from metrics_lib.data import contract as C
from metrics_lib.data import open_source
from metrics_lib.demo import write_demo_data
from metrics_lib.metrics.catalogue import HEADLINE
from metrics_lib.metrics.scorecard import headline_metrics

PERIOD = "2025"  # a year: every metric of the small source is defined in it

NEEDED_TABLES = sorted({n.partition(".")[0] for h in HEADLINE.values() for n in h.needs})
NEEDED_COLUMNS = sorted({n for h in HEADLINE.values() for n in h.needs if "." in n})
OTHER_OPTIONAL_COLUMNS = sorted(
    f"{t}.{c.name}"
    for t in NEEDED_TABLES
    for c in C.TABLES[t].columns
    if not c.required and f"{t}.{c.name}" not in NEEDED_COLUMNS
)

NULLABLE_COLUMNS = sorted(
    f"{t}.{c.name}" for t in NEEDED_TABLES for c in C.TABLES[t].columns if c.required and c.nullable
)


def needing(need: str) -> list[str]:
    """The metrics that declare ``need``; for a table, also those that need one of its columns."""
    return [
        h.id for h in HEADLINE.values() if need in h.needs or any(n.startswith(need + ".") for n in h.needs)
    ]


def reading(table: str) -> list[str]:
    """The metrics that read ``table`` (it is among their needs), with or without a column."""
    return [h.id for h in HEADLINE.values() if table in {n.partition(".")[0] for n in h.needs}]


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    folder = tmp_path_factory.mktemp("demo")
    write_demo_data(folder, customers=300, seed=3)
    return folder


@pytest.fixture(scope="module")
def baseline(demo):
    return headline_metrics(open_source(demo), PERIOD)["metrics"]


def variant(demo, folder, table: str, change) -> object:
    """A copy of the demo source with ``change(arrow_table)`` applied to ``table`` (None removes it)."""
    shutil.copytree(demo, folder)
    path = folder / f"{table}.parquet"
    changed = change(pq.read_table(path))
    if changed is None:
        path.unlink()
    else:
        pq.write_table(changed, path)
    return folder


def drop_column(column: str):
    return lambda t: t.drop_columns([column])


def empty_column(column: str):
    def change(t: pa.Table) -> pa.Table:
        i = t.schema.get_field_index(column)
        return t.set_column(
            i, t.schema.field(i).with_nullable(True), pa.nulls(len(t), t.schema.field(i).type)
        )

    return change


def test_the_registry_declares_what_is_checked_here():
    # the optional columns declared as needs exist in the contract and are optional there
    for need in NEEDED_COLUMNS:
        table, column = need.split(".")
        assert not C.TABLES[table].column(column).required, need
    assert {"orders.order_type", "customers.referred_by", "orders.cost"} <= set(NEEDED_COLUMNS)
    assert needing("orders.order_type") == ["return_rate", "upsell_rate"]
    assert needing("customers.referred_by") == ["referral_rate"]


def test_every_metric_is_defined_on_the_full_source(baseline):
    undefined = {m: r["reason"] for m, r in baseline.items() if r["value"] is None}
    assert not undefined, "the checks below need every metric defined on the full source"
    assert set(baseline) == set(HEADLINE)


@pytest.mark.parametrize("table", NEEDED_TABLES)
def test_a_metric_without_a_table_it_needs_is_null_with_the_reason(demo, tmp_path, table):
    folder = variant(demo, tmp_path / "data", table, lambda t: None)
    ids = needing(table)
    got = headline_metrics(open_source(folder), PERIOD, ids=ids)["metrics"]
    for mid in ids:
        assert got[mid]["value"] is None, f"{mid} = {got[mid]['value']} without table {table}"
        assert table in got[mid]["reason"] and "needs table(s)" in got[mid]["reason"], got[mid]["reason"]
        assert got[mid]["status"] == "skipped"


@pytest.mark.parametrize("how", ["removed", "empty"])
@pytest.mark.parametrize("need", NEEDED_COLUMNS)
def test_a_metric_without_an_optional_column_it_needs_is_null_with_the_reason(demo, tmp_path, need, how):
    table, column = need.split(".")
    change = drop_column(column) if how == "removed" else empty_column(column)
    folder = variant(demo, tmp_path / "data", table, change)
    ids = needing(need)
    got = headline_metrics(open_source(folder), PERIOD, ids=ids)["metrics"]
    for mid in ids:
        assert got[mid]["value"] is None, f"{mid} = {got[mid]['value']} with {need} {how}"
        assert f"({need})" in got[mid]["reason"] and "lacks or leaves empty" in got[mid]["reason"]
        assert got[mid]["previous"] is None and got[mid]["change"] is None


@pytest.mark.parametrize("need", OTHER_OPTIONAL_COLUMNS)
def test_an_optional_column_a_metric_does_not_declare_leaves_it_unchanged(demo, tmp_path, baseline, need):
    table, column = need.split(".")
    folder = variant(demo, tmp_path / "data", table, drop_column(column))
    ids = reading(table)
    got = headline_metrics(open_source(folder), PERIOD, ids=ids)["metrics"]
    for mid in ids:
        before, after = baseline[mid]["value"], got[mid]["value"]
        assert after is not None and math.isclose(after, before, rel_tol=1e-9), (
            f"{mid} moved from {before} to {after} without {need}: declare it in the metric's needs"
        )


@pytest.mark.parametrize("table", NEEDED_TABLES)
def test_a_metric_whose_table_was_set_aside_whole_is_null_and_says_so(demo, tmp_path, table):
    # every row breaks a rule of its key (an empty key column), so quarantine sets them all aside
    key = next(c for c in C.TABLES[table].columns if c.required and not c.nullable)
    folder = variant(demo, tmp_path / "data", table, empty_column(key.name))
    src = open_source(folder, on_invalid="quarantine")
    ids = needing(table)
    got = headline_metrics(src, PERIOD, ids=ids)["metrics"]
    assert (
        src.rows(table) == 0
        and len(src.rejected[table]) == pq.read_metadata(demo / f"{table}.parquet").num_rows
    )
    for mid in ids:
        assert got[mid]["value"] is None, f"{mid} = {got[mid]['value']} with every {table} row set aside"
        assert f"every row of table `{table}` was set aside (quarantine)" in got[mid]["reason"]


@pytest.mark.parametrize("column", NULLABLE_COLUMNS)
def test_an_empty_column_never_makes_a_metric_zero(demo, tmp_path, baseline, column):
    table, name = column.split(".")
    folder = variant(demo, tmp_path / "data", table, empty_column(name))
    try:
        got = headline_metrics(open_source(folder), PERIOD, ids=reading(table))["metrics"]
    except ContractError as exc:  # the contract refuses it (a rule needs the column): no number at all
        assert name in str(exc)
        return
    for mid, rec in got.items():
        if rec["value"] is None:
            assert rec["reason"], f"{mid} is null without a reason with {column} empty"
        else:
            assert rec["value"] != 0 or baseline[mid]["value"] == 0, f"{mid} became 0 with {column} empty"


def test_a_campaign_without_a_channel_or_members_keeps_its_cost(make_source):
    # what the registry test above found: a campaign with no channel, or with no members, fell out
    # of the campaign ROI. Q1's orders: revenue 1,350.75, cost 40 + 30 + 100 + 300 = 470, so the
    # margin is 880.75 / 1,350.75; K1 (no channel, cost 300) brought 80 of revenue, K2 (no members)
    # cost 100: ROI = (80 x 880.75 / 1,350.75 - 400) / 400
    tables = valid_tables()
    tables["orders"][2]["cost"] = "100"
    tables["campaigns"][0]["channel"] = ""
    tables["campaigns"].append(
        {
            "campaign_id": "K2",
            "name": "banner",
            "channel": "web",
            "start_date": "2025-03-05",
            "end_date": "2025-03-20",
            "cost": "100",
        }
    )
    src = open_source(make_source(tables=tables))
    roi = headline_metrics(src, "2025-Q1", ids=["campaign_roi"])["metrics"]["campaign_roi"]["value"]
    assert roi == pytest.approx((80 * 880.75 / 1350.75 - 400) / 400)
