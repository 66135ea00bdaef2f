"""The data contract: every table and column a user brings, declared once.

Each table is a :class:`TableSpec`; :func:`schema_for` turns it into a pandera schema that checks
nullability, allowed values, ranges, unique keys and row rules (date order, conditional ranges).
Foreign keys span tables and are checked by
:meth:`~metrics_lib.data.sources.DataSource.foreign_key_problems`. Parsing text into
types (CSV files hold only text) happens before validation, in :mod:`metrics_lib.data.parsing`.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd

__all__ = [
    "ColumnSpec",
    "ForeignKey",
    "RowRule",
    "TableSpec",
    "TABLES",
    "FAMILY_TABLES",
    "ContractOptions",
    "schema_for",
    "arrow_schema",
    "MAX_NUMBER",
    "ID_BLANKS",
]

KINDS = ("id", "str", "date", "timestamp", "float", "int", "bool")

#: The largest magnitude a number in the data may have (a quadrillion): far above any amount,
#: count or duration a customer table holds, and small enough that whole numbers stay exact and
#: sums, squares and standard deviations stay finite. Anything larger is a unit error, an id in
#: the wrong column or a placeholder, and is rejected by the parser and the engine checks alike.
MAX_NUMBER = 1e15

#: The white space trimmed from around every id, by the parser and in the engine alike (the
#: characters SQL's TRIM takes, as Ibis writes it): 'C1 ' is the id 'C1', so an order for 'C1 '
#: belongs to customer 'C1', and 'C1' and 'C1 ' in one key column are a duplicate, not two ids.
ID_BLANKS = " \t\n\r\v\f"


@dataclass(frozen=True)
class ColumnSpec:
    """One column of the contract.

    ``kind`` is one of ``id``, ``str``, ``date``, ``timestamp``, ``float``, ``int``, ``bool``.
    An optional column (``required=False``) that is absent is added as all-null. ``free_text``
    marks text people typed (a survey comment, a review), which may hold names, e-mail addresses
    and phone numbers: it is written out only when a run asks for it (``--show-pii``).
    """

    name: str
    kind: str
    required: bool = True
    nullable: bool = False
    unique: bool = False
    allowed: tuple[str, ...] | None = None
    min: float | None = None
    max: float | None = None
    description: str = ""
    free_text: bool = False
    #: rows where this (column, value) holds are exempt from ``min`` (a return's negative revenue)
    min_exempt: tuple[str, str] | None = None

    def min_applies(self, df: pd.DataFrame) -> pd.Series:
        """The rows of ``df`` that ``min`` holds for (all but those ``min_exempt`` names)."""
        if self.min_exempt is None or self.min_exempt[0] not in df:
            return pd.Series(True, index=df.index)
        column, value = self.min_exempt
        return ~(df[column] == value).fillna(False).astype(bool)


@dataclass(frozen=True)
class ForeignKey:
    column: str
    ref_table: str
    ref_column: str


@dataclass(frozen=True)
class RowRule:
    """A rule over several columns of one row.

    ``test`` takes a parsed pandas frame and returns True for the rows that pass; ``engine_test``
    says the same of an Ibis table (so that clean data can be checked where it lies, see
    :mod:`metrics_lib.data.engine_checks`). The two must agree; ``tests/data/test_checks.py`` holds them to it.
    """

    name: str
    columns: tuple[str, ...]
    test: Callable[[pd.DataFrame, ContractOptions], pd.Series]
    fix: str
    engine_test: Callable[[Any, ContractOptions], Any]


@dataclass(frozen=True)
class TableSpec:
    name: str
    description: str
    columns: tuple[ColumnSpec, ...]
    key: tuple[str, ...] = ()
    foreign_keys: tuple[ForeignKey, ...] = ()
    rules: tuple[RowRule, ...] = ()
    date_column: str | None = None

    def column(self, name: str) -> ColumnSpec:
        return next(c for c in self.columns if c.name == name)

    @property
    def column_names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def required_columns(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


@dataclass(frozen=True)
class ContractOptions:
    """Choices a data source may set in its ``source.yml`` (survey scales)."""

    csat_scale: tuple[int, int] = (1, 5)
    ces_scale: tuple[int, int] = (1, 7)
    nps_scale: tuple[int, int] = (0, 10)

    def scale(self, survey: str) -> tuple[int, int]:
        return {"nps": self.nps_scale, "csat": self.csat_scale, "ces": self.ces_scale}[survey]


def _later_or_equal(later: str, earlier: str, fix: str | None = None) -> RowRule:
    def test(df: pd.DataFrame, _opts: ContractOptions) -> pd.Series:
        return df[later].isna() | df[earlier].isna() | (df[later] >= df[earlier])

    def engine_test(t, _opts: ContractOptions):
        return t[later].isnull() | t[earlier].isnull() | (t[later] >= t[earlier])

    return RowRule(
        f"{later} >= {earlier}",
        (earlier, later),
        test,
        fix
        or f"`{later}` must not be before `{earlier}`: check that the two columns are not swapped "
        "or mis-parsed (day-first dates)",
        engine_test,
    )


def _survey_score_in_scale(df: pd.DataFrame, opts: ContractOptions) -> pd.Series:
    ok = pd.Series(True, index=df.index)
    for survey in ("nps", "csat", "ces"):
        low, high = opts.scale(survey)
        rows = df["survey"] == survey
        ok &= ~rows | df["score"].between(low, high)
    return ok


def _survey_score_in_scale_engine(t, opts: ContractOptions):
    ok = None
    for survey in ("nps", "csat", "ces"):
        low, high = opts.scale(survey)
        part = (t["survey"] != survey) | t["score"].between(low, high)
        ok = part if ok is None else ok & part
    return ok


def _closed_iff_not_open(df: pd.DataFrame, _opts: ContractOptions) -> pd.Series:
    is_open = df["outcome"] == "open"
    return is_open == df["closed_date"].isna()


def _closed_iff_not_open_engine(t, _opts: ContractOptions):
    return (t["outcome"] == "open") == t["closed_date"].isnull()


def _bounces_within_sessions(df: pd.DataFrame, _opts: ContractOptions) -> pd.Series:
    return df["bounces"] <= df["sessions"]


def _bounces_within_sessions_engine(t, _opts: ContractOptions):
    return t["bounces"] <= t["sessions"]


# -- orders: returns ----------------------------------------------------------------------------
#: The order type of a return: an order row whose revenue is the (negative) refund.
RETURN = "return"


def _return_not_positive(df: pd.DataFrame, _opts: ContractOptions) -> pd.Series:
    return (
        (df["order_type"] != RETURN).fillna(True).astype(bool) | df["revenue"].isna() | (df["revenue"] <= 0)
    )


def _return_not_positive_engine(t, _opts: ContractOptions):
    return (t["order_type"] != RETURN).fill_null(True) | t["revenue"].isnull() | (t["revenue"] <= 0)


def _col(name, kind, **kw) -> ColumnSpec:
    return ColumnSpec(name, kind, **kw)


TABLES: dict[str, TableSpec] = {
    t.name: t
    for t in [
        TableSpec(
            "customers",
            "One row per customer.",
            (
                _col("customer_id", "id", unique=True),
                _col("signup_date", "date"),
                _col("acquisition_channel", "str", required=False, nullable=True),
                _col("segment", "str", required=False, nullable=True),
                _col("region", "str", required=False, nullable=True),
                _col(
                    "referred_by",
                    "id",
                    required=False,
                    nullable=True,
                    description="customer_id of the referring customer",
                ),
            ),
            key=("customer_id",),
            foreign_keys=(ForeignKey("referred_by", "customers", "customer_id"),),
            date_column="signup_date",
        ),
        TableSpec(
            "orders",
            "One row per order or invoice; a return is a row of type `return` with the refund as "
            "negative revenue.",
            (
                _col("order_id", "id", unique=True),
                _col(
                    "customer_id",
                    "id",
                    nullable=True,
                    description="empty for a guest order: in revenue and orders, not in customer metrics",
                ),
                _col("order_date", "date"),
                _col("revenue", "float", min=0, min_exempt=("order_type", RETURN)),
                _col("cost", "float", required=False, nullable=True, min=0),
                _col(
                    "order_type",
                    "str",
                    required=False,
                    nullable=True,
                    allowed=("new", "repeat", "upsell", "cross_sell", RETURN),
                ),
            ),
            key=("order_id",),
            foreign_keys=(ForeignKey("customer_id", "customers", "customer_id"),),
            rules=(
                RowRule(
                    "a return's revenue is the refund: 0 or negative",
                    ("order_type", "revenue"),
                    _return_not_positive,
                    "write a return's refund as a negative revenue (-25.00 for 25.00 given back), or give "
                    "the row its order type if it is a sale",
                    _return_not_positive_engine,
                ),
            ),
            date_column="order_date",
        ),
        TableSpec(
            "subscriptions",
            "One row per subscription term.",
            (
                _col("subscription_id", "id", unique=True),
                _col("customer_id", "id"),
                _col("plan", "str", required=False, nullable=True),
                _col("start_date", "date"),
                _col("end_date", "date"),
                _col("cancelled_date", "date", nullable=True),
                _col("mrr", "float", min=0),
                _col("renewed_from", "id", required=False, nullable=True),
            ),
            key=("subscription_id",),
            foreign_keys=(
                ForeignKey("customer_id", "customers", "customer_id"),
                ForeignKey("renewed_from", "subscriptions", "subscription_id"),
            ),
            rules=(
                _later_or_equal("end_date", "start_date"),
                _later_or_equal("cancelled_date", "start_date"),
            ),
            date_column="start_date",
        ),
        TableSpec(
            "deals",
            "One row per sales opportunity (lead).",
            (
                _col("deal_id", "id", unique=True),
                _col("customer_id", "id", nullable=True),
                _col("owner", "str", required=False, nullable=True),
                _col("team", "str", required=False, nullable=True),
                _col("source", "str", required=False, nullable=True),
                _col("created_date", "date"),
                _col("closed_date", "date", nullable=True),
                _col("outcome", "str", allowed=("won", "lost", "open")),
                _col("amount", "float", min=0, nullable=True),
                _col(
                    "deal_type",
                    "str",
                    required=False,
                    nullable=True,
                    allowed=("new_business", "upsell", "cross_sell", "renewal"),
                ),
            ),
            key=("deal_id",),
            foreign_keys=(ForeignKey("customer_id", "customers", "customer_id"),),
            rules=(
                _later_or_equal("closed_date", "created_date"),
                RowRule(
                    "closed_date is set exactly when outcome is won or lost",
                    ("outcome", "closed_date"),
                    _closed_iff_not_open,
                    "give won and lost deals a closed_date and leave it empty for open deals",
                    _closed_iff_not_open_engine,
                ),
            ),
            date_column="created_date",
        ),
        TableSpec(
            "deal_stages",
            "Stage history: one row each time a deal enters a stage.",
            (
                _col("deal_id", "id"),
                _col("stage", "str"),
                _col("entered_at", "timestamp"),
            ),
            key=("deal_id", "stage", "entered_at"),
            foreign_keys=(ForeignKey("deal_id", "deals", "deal_id"),),
            date_column="entered_at",
        ),
        TableSpec(
            "surveys",
            "One row per survey answer (NPS, CSAT or CES).",
            (
                _col("response_id", "id", unique=True),
                _col("customer_id", "id"),
                _col("response_date", "date"),
                _col("survey", "str", allowed=("nps", "csat", "ces")),
                _col("score", "int"),
                _col("touchpoint", "str", required=False, nullable=True),
                _col("comment", "str", required=False, nullable=True, free_text=True),
            ),
            key=("response_id",),
            foreign_keys=(ForeignKey("customer_id", "customers", "customer_id"),),
            rules=(
                RowRule(
                    "score within the survey's scale (NPS 0-10, CSAT and CES as configured)",
                    ("survey", "score"),
                    _survey_score_in_scale,
                    "NPS answers are 0-10, CSAT 1-5 and CES 1-7 unless source.yml sets "
                    "`csat_scale` / `ces_scale`; correct the scores or the configured scale",
                    _survey_score_in_scale_engine,
                ),
            ),
            date_column="response_date",
        ),
        TableSpec(
            "tickets",
            "One row per support ticket.",
            (
                _col("ticket_id", "id", unique=True),
                _col("customer_id", "id"),
                _col("opened_at", "timestamp"),
                _col("first_response_at", "timestamp", nullable=True),
                _col("resolved_at", "timestamp", nullable=True),
                # optional: without it (absent, or empty for a resolved ticket) first contact
                # resolution is undefined and every other service metric still works
                _col("contacts_to_resolve", "int", required=False, nullable=True, min=1),
                _col("channel", "str", required=False, nullable=True),
            ),
            key=("ticket_id",),
            foreign_keys=(ForeignKey("customer_id", "customers", "customer_id"),),
            rules=(
                _later_or_equal("first_response_at", "opened_at"),
                _later_or_equal("resolved_at", "opened_at"),
            ),
            date_column="opened_at",
        ),
        TableSpec(
            "marketing_spend",
            "Spend per month and channel, for acquisition or retention.",
            (
                _col("month", "date"),
                _col("channel", "str"),
                _col("campaign_id", "id", required=False, nullable=True),
                _col("purpose", "str", allowed=("acquisition", "retention")),
                _col("spend", "float", min=0),
            ),
            foreign_keys=(ForeignKey("campaign_id", "campaigns", "campaign_id"),),
            date_column="month",
        ),
        TableSpec(
            "campaigns",
            "One row per marketing campaign.",
            (
                _col("campaign_id", "id", unique=True),
                _col("name", "str"),
                _col("channel", "str", required=False, nullable=True),
                _col("start_date", "date"),
                _col("end_date", "date"),
                _col("cost", "float", min=0),
            ),
            key=("campaign_id",),
            rules=(_later_or_equal("end_date", "start_date"),),
            date_column="start_date",
        ),
        TableSpec(
            "campaign_members",
            "Who a campaign targeted, in the treatment or the held-out control group.",
            (
                _col("campaign_id", "id"),
                _col("customer_id", "id"),
                _col("group", "str", allowed=("treatment", "control")),
                _col("converted", "bool"),
                _col("revenue", "float", min=0, required=False, nullable=True),
            ),
            key=("campaign_id", "customer_id"),
            foreign_keys=(
                ForeignKey("campaign_id", "campaigns", "campaign_id"),
                ForeignKey("customer_id", "customers", "customer_id"),
            ),
        ),
        TableSpec(
            "reviews",
            "Public reviews and ratings.",
            (
                _col("review_id", "id", unique=True),
                _col("customer_id", "id", nullable=True),
                _col("review_date", "date"),
                _col("platform", "str", required=False, nullable=True),
                _col("rating", "int", min=1, max=5),
                _col("text", "str", required=False, nullable=True, free_text=True),
            ),
            key=("review_id",),
            foreign_keys=(ForeignKey("customer_id", "customers", "customer_id"),),
            date_column="review_date",
        ),
        TableSpec(
            "web_engagement",
            "Website traffic per day.",
            (
                _col("date", "date", unique=True),
                _col("sessions", "int", min=0),
                _col("page_views", "int", min=0),
                _col("bounces", "int", min=0),
                _col("total_time_on_page_s", "float", min=0),
            ),
            key=("date",),
            rules=(
                RowRule(
                    "bounces <= sessions",
                    ("sessions", "bounces"),
                    _bounces_within_sessions,
                    "a bounce is a single-page session, so bounces cannot exceed sessions",
                    _bounces_within_sessions_engine,
                ),
            ),
            date_column="date",
        ),
        TableSpec(
            "social",
            "Social media activity per day and platform.",
            (
                _col("date", "date"),
                _col("platform", "str"),
                _col("follows", "int", min=0),
                _col("shares", "int", min=0),
                _col("likes", "int", min=0),
            ),
            key=("date", "platform"),
            date_column="date",
        ),
    ]
}

#: The tables each metric family needs; a family whose tables are absent is skipped.
FAMILY_TABLES: dict[str, tuple[str, ...]] = {
    "satisfaction": ("customers", "surveys"),
    "retention": ("customers", "orders"),
    "value": ("customers", "orders"),
    "pipeline": ("deals",),
    "service": ("tickets",),
    "advocacy": ("customers",),
    "marketing": ("campaigns", "campaign_members"),
    "health": ("customers", "orders"),
    # the scorecard reports whatever families the data has (pipeline or support data alone too),
    # and lists the others as not available
    "scorecard": (),
}


_DTYPES = {
    "id": pd.StringDtype(),
    "str": pd.StringDtype(),
    "date": "datetime64[ns]",
    "timestamp": "datetime64[ns]",
    "float": "float64",
    "int": "Int64",
    "bool": "boolean",
}


def arrow_schema(spec: TableSpec):
    """The table as a pyarrow schema (dates as date32, timestamps in microseconds), in contract order."""
    import pyarrow as pa

    types = {
        "id": pa.string(),
        "str": pa.string(),
        "date": pa.date32(),
        "timestamp": pa.timestamp("us"),
        "float": pa.float64(),
        "int": pa.int64(),
        "bool": pa.bool_(),
    }
    return pa.schema([pa.field(c.name, types[c.kind], nullable=c.nullable) for c in spec.columns])


def pandas_dtype(kind: str):
    """The pandas dtype a column of this kind has after parsing."""
    return _DTYPES[kind]


def schema_for(spec: TableSpec, options: ContractOptions | None = None):
    """A pandera schema checking one table's values once its columns are parsed to their types."""
    import pandera.pandas as pa  # only the pandas path needs it (a clean typed table never does)

    opts = options or ContractOptions()
    columns = {}
    for col in spec.columns:
        checks = []
        if col.allowed is not None:
            checks.append(pa.Check.isin(list(col.allowed)))
        if col.min is not None and col.min_exempt is None:
            checks.append(pa.Check.ge(col.min))
        if col.max is not None:
            checks.append(pa.Check.le(col.max))
        columns[col.name] = pa.Column(
            None,
            checks=checks,
            nullable=col.nullable,
            unique=col.unique,
            required=False,
        )
    rules = [
        pa.Check(lambda df, rule=rule: rule.test(df, opts), name=rule.name, element_wise=False)
        for rule in spec.rules
    ]
    # a minimum that some rows are exempt from (a return's negative revenue) needs the whole row;
    # it is named as the column's own minimum check, so its message is the same
    rules += [
        pa.Check(
            lambda df, col=col: ~col.min_applies(df) | df[col.name].isna() | (df[col.name] >= col.min),
            name=f"greater_than_or_equal_to({col.min}) [{col.name}]",
            element_wise=False,
        )
        for col in spec.columns
        if col.min is not None and col.min_exempt is not None
    ]
    unique = list(spec.key) if len(spec.key) > 1 else None
    return pa.DataFrameSchema(columns, checks=rules, unique=unique, name=spec.name, strict=False)
