"""Where the data is and what the files beside it say: the project's folders, path resolution,
``source.yml`` (:class:`SourceConfig`), the column mapping ``mapping.yml`` (:class:`ColumnMapping`,
:class:`TableMapping`) and the one YAML reader both use, plus :class:`Location`, where one table of
the contract was found. Nothing here reads a table.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path

import pandas as pd

from metrics_lib.core.errors import WorkbookError
from metrics_lib.data import contract as C
from metrics_lib.data.settings_reader import SettingsReader, read_yaml_config, read_yaml_text

__all__ = [
    "PROJECT_ROOT",
    "DEMO_DATA",
    "resolve_path",
    "SourceConfig",
    "EventRule",
    "TableMapping",
    "LineItems",
    "ReturnRule",
    "ColumnMapping",
    "Location",
    "read_yaml_config",
    "read_yaml_text",
]

#: The repository's root folder (``metrics_lib/data/config.py`` is two levels below it).
PROJECT_ROOT = Path(__file__).resolve().parents[2]
DEMO_DATA = PROJECT_ROOT / "data" / "demo"


def resolve_path(path, *, base: Path = PROJECT_ROOT) -> Path:
    """An absolute path; a relative one is taken from ``base`` (the project), not the cwd."""
    p = Path(path).expanduser()
    return p if p.is_absolute() else (base / p).resolve()


@dataclass(frozen=True)
class SourceConfig:
    """What ``source.yml`` beside the data may say (all optional)."""

    name: str = ""
    description: str = ""
    strategy_change_date: date | None = None
    strategy_change_label: str = ""  # what changed on that date ("new pricing"); empty: unnamed
    default_period: str | None = None
    inactivity_days: int = 180
    close_window_days: int = 90
    currency: str = ""  # what amounts are in, shown with them ("EUR", "$"); empty: plain numbers
    # deals: a deal still open this many days after its creation counts as lost on created + N
    # days (None, the default: open deals stay open)
    open_deal_max_age_days: int | None = None
    options: C.ContractOptions = field(default_factory=C.ContractOptions)
    extra: dict = field(default_factory=dict)

    #: The settings source.yml may hold; other keys are kept in :attr:`extra` (a key close to one
    #: of these is taken for a misspelling and refused).
    SETTINGS = (
        "name",
        "description",
        "strategy_change_date",
        "strategy_change_label",
        "default_period",
        "inactivity_days",
        "close_window_days",
        "currency",
        "open_deal_max_age_days",
        "csat_scale",
        "ces_scale",
    )

    @classmethod
    def read(cls, path: Path) -> SourceConfig:
        """The settings of ``path`` (none when it does not exist), each one checked: a value of the
        wrong kind is refused with the file, the setting, the value, what is allowed and an example."""
        if not path.exists():
            return cls()
        raw = read_yaml_config(path)
        for key in raw:
            close = difflib.get_close_matches(str(key), cls.SETTINGS, n=1, cutoff=0.8)
            if key not in cls.SETTINGS and close:
                raise WorkbookError(
                    f"{path}: unknown setting `{key}`; did you mean `{close[0]}`? The settings are: "
                    f"{', '.join(cls.SETTINGS)}"
                )
        s = SettingsReader(path, raw)
        return cls(
            name=s.text("name"),
            description=s.text("description"),
            strategy_change_date=s.date("strategy_change_date", example="2024-07-01"),
            strategy_change_label=s.label("strategy_change_label", example="new pricing"),
            default_period=s.period("default_period"),
            inactivity_days=s.whole("inactivity_days", 180, low=1, high=3650, unit="days"),
            close_window_days=s.whole("close_window_days", 90, low=1, high=3650, unit="days"),
            currency=s.label("currency", example="EUR", longest=5),
            open_deal_max_age_days=(
                s.whole("open_deal_max_age_days", 0, low=1, high=3650, unit="days", example="180") or None
            ),
            options=C.ContractOptions(
                csat_scale=s.scale("csat_scale", (1, 5)),
                ces_scale=s.scale("ces_scale", (1, 7)),
            ),
            extra={k: v for k, v in raw.items() if k not in cls.SETTINGS},
        )


@dataclass(frozen=True)
class EventRule:
    """How a ticket event log (one row per event: case id, activity, timestamp) becomes the
    tickets table, one row per case (``events:`` of the tickets table in ``mapping.yml``).

    ``case``, ``activity`` and ``timestamp`` name the log's columns; the other fields list the
    activity values that mean a ticket was opened (empty: its first event opens it), first
    answered, resolved, and that count as an agent's response (empty: the log gives no
    ``contacts_to_resolve``). :mod:`metrics_lib.data.event_log` does the conversion."""

    case: str
    activity: str
    timestamp: str
    opened: tuple[str, ...] = ()
    first_response: tuple[str, ...] = ()
    resolved: tuple[str, ...] = ()
    responses: tuple[str, ...] = ()

    #: The contract columns the rule gives (the mapping's ``columns`` may not map onto them).
    GIVES = ("ticket_id", "opened_at", "first_response_at", "resolved_at", "contacts_to_resolve")
    COLUMNS = ("case", "activity", "timestamp")
    ACTIVITIES = ("opened", "first_response", "resolved", "responses")


@dataclass(frozen=True)
class LineItems:
    """An orders export with one row per invoice line (``lines:`` in ``mapping.yml``): the lines
    of one ``order_id`` roll up into one order whose revenue is the sum of quantity x unit price.
    ``quantity`` and ``unit_price`` name the export's columns."""

    quantity: str
    unit_price: str


@dataclass(frozen=True)
class ReturnRule:
    """Which orders are returns (``returns:`` in ``mapping.yml``): those whose id starts with
    ``order_id_prefix``, or, with ``negative_revenue``, those whose revenue (after rolling lines up)
    is below 0. Their ``order_type`` becomes ``return``."""

    order_id_prefix: str | None = None
    negative_revenue: bool = False

    def marks(self, order_id: pd.Series, revenue: pd.Series) -> pd.Series:
        """The rows this rule marks as returns."""
        if self.order_id_prefix is not None:
            return order_id.str.startswith(self.order_id_prefix).fillna(False).astype(bool)
        return (revenue < 0).fillna(False).astype(bool)


@dataclass(frozen=True)
class TableMapping:
    source: str | None = None  # file name in the folder, or table name in the DuckDB file
    columns: dict[str, str] = field(default_factory=dict)  # theirs -> ours
    date_format: str | None = None
    events: EventRule | None = None  # tickets only: the table is built from an event log
    date_formats: dict[str, str] = field(default_factory=dict)  # our date column -> its format
    lines: LineItems | None = None  # orders only: one row per line, rolled up into orders
    returns: ReturnRule | None = None  # orders only: the rule that marks returns

    def date_format_for(self, column: str) -> str | None:
        """The format of one date column: its own (``date_formats``), else the table's."""
        return self.date_formats.get(column, self.date_format)

    @property
    def reshapes(self) -> bool:
        """Whether rows are rolled up or retyped on load (done in pandas, never in place)."""
        return self.lines is not None or self.returns is not None


@dataclass(frozen=True)
class ColumnMapping:
    """Renames a user's CRM export to the contract, read from a YAML file::

    tables:
      orders:
        source: sales_export.csv     # optional: the file (or DuckDB table) holding it
        date_format: "%d/%m/%Y"      # optional: when dates are not YYYY-MM-DD
        date_formats:                # optional: one column's own format (wins over date_format)
          order_date: "%m/%d/%Y %H:%M"
        columns:                     # their name: our name
          Order Number: order_id
          Account: customer_id
        lines:                       # orders only: one row per invoice line
          quantity: Quantity
          unit_price: Unit Price
        returns:                     # orders only: which orders are returns
          order_id_prefix: C         # or `negative_revenue: true`

    The tickets table may instead be built from an event log (one row per event) with an
    ``events:`` rule (:class:`EventRule`, converted by :mod:`metrics_lib.data.event_log`).
    """

    tables: dict[str, TableMapping] = field(default_factory=dict)
    path: Path | None = None

    @classmethod
    def read(cls, path) -> ColumnMapping:
        path = Path(path)
        raw = read_yaml_config(path)
        tables = raw.get("tables")
        if not isinstance(tables, dict):
            raise WorkbookError(f"{path}: the mapping file needs a `tables:` section, one entry per table")
        out = {}
        for table, entry in tables.items():
            if table not in C.TABLES:
                raise WorkbookError(
                    f"{path}: table `{table}` is not in the data contract; "
                    f"known tables: {', '.join(C.TABLES)}"
                )
            s = SettingsReader(path, entry, within=f"tables: {table}: ")
            s.only(_TABLE_SETTINGS, example=f"tables:\n  {table}:\n    source: export.csv")
            columns = s.renames("columns", table)
            spec = C.TABLES[table]
            for theirs, ours in columns.items():
                if ours not in spec.column_names:
                    raise WorkbookError(
                        f"{path}: table `{table}` maps `{theirs}` to `{ours}`, which is not a column "
                        f"of the contract; columns: {', '.join(spec.column_names)}"
                    )
            targets: dict[str, list[str]] = {}
            for theirs, ours in columns.items():
                targets.setdefault(ours, []).append(theirs)
            for ours, theirs in targets.items():
                if len(theirs) > 1:
                    raise WorkbookError(
                        f"{path}: table `{table}` maps {len(theirs)} columns "
                        f"({', '.join(f'`{t}`' for t in theirs)}) to `{ours}`; map exactly one"
                    )
            source = s.text("source", None, example=f"{table}_export.csv")
            lines, returns = _order_rules(path, s, table)
            out[table] = TableMapping(
                source or None,
                columns,
                s.date_format("date_format"),
                date_formats=_date_formats(path, s.raw, table),
                lines=lines,
                returns=returns,
            )
            if "events" in s.raw and s.raw.get("date_formats") is not None:
                raise WorkbookError(
                    f"{path}: table `{table}` has both `events` and `date_formats`; an event log has "
                    f"one timestamp column (`events: timestamp`), so `date_formats` has no column to "
                    f"apply to: remove it and use `date_format` for the log's timestamp column, e.g. "
                    f'`date_format: "%d/%m/%Y %H:%M"`'
                )
            if "events" in s.raw:  # tickets: the table is built from an event log
                out[table] = replace(out[table], events=_event_rule(path, table, s.raw["events"], columns))
        return cls(out, path)

    def for_table(self, table: str) -> TableMapping:
        return self.tables.get(table, TableMapping())


#: What one table's entry in the mapping file may say.
_TABLE_SETTINGS = ("source", "columns", "date_format", "date_formats", "lines", "returns", "events")

_EVENTS_EXAMPLE = """tables:
  tickets:
    source: helpdesk_events.csv
    events:
      case: Case ID
      activity: Activity
      timestamp: Timestamp
      opened: Ticket created
      first_response: [Agent reply]
      resolved: [Resolved, Closed]"""


def _event_rule(path: Path, table: str, raw, columns: dict[str, str]) -> EventRule:
    """The ``events:`` rule of ``table`` in mapping file ``path``, each setting checked."""
    if table != "tickets":
        raise WorkbookError(
            f"{path}: `tables: {table}: events` builds a table from an event log, which only the "
            f"tickets table can be; remove it from `{table}`"
        )
    s = SettingsReader(path, raw, within="tables: tickets: events: ")
    keys = EventRule.COLUMNS + EventRule.ACTIVITIES
    for key in s.raw:
        if key not in keys:
            close = difflib.get_close_matches(str(key), keys, n=1)
            raise WorkbookError(
                f"{path}: `tables: tickets: events: {key}` is not a setting"
                + (f" (did you mean `{close[0]}`?)" if close else "")
                + f"; an events rule's settings are {', '.join(keys)}, e.g.\n{_EVENTS_EXAMPLE}"
            )
    names = {}
    for key in EventRule.COLUMNS:
        name = s.text(key, None, example="Case ID")
        if name is None or not name.strip():
            raise WorkbookError(
                f"{path}: `tables: tickets: events` needs `{key}`, the event log's column holding "
                f"the {'case (ticket) id' if key == 'case' else key} of each event, e.g.\n{_EVENTS_EXAMPLE}"
            )
        names[key] = name.strip()
    taken = [ours for ours in columns.values() if ours in EventRule.GIVES]
    if taken:
        raise WorkbookError(
            f"{path}: table `tickets` maps a column to {', '.join(f'`{t}`' for t in taken)}, which its "
            "`events` rule builds from the log; map only the other columns (customer_id, channel)"
        )
    activities = {}
    for key in EventRule.ACTIVITIES:
        value = s.raw.get(key)
        if value is None:
            activities[key] = ()
            continue
        values = value if isinstance(value, list) else [value]
        if not values or any(v is None or isinstance(v, (dict, list)) for v in values):
            raise s.refuse(
                key, value, "it must be one activity value of the log or a list of them", "[Agent reply]"
            )
        activities[key] = tuple(str(v).strip() for v in values)
    return EventRule(**names, **activities)


#: The settings only the orders table has.
_ORDER_SETTINGS = ("lines", "returns")


def _date_formats(path: Path, entry: dict, table: str) -> dict[str, str]:
    """``date_formats`` of one table: each date column of the contract with its own format."""
    raw = entry.get("date_formats")
    if raw is None:
        return {}
    spec = C.TABLES[table]
    dates = [c.name for c in spec.columns if c.kind in ("date", "timestamp")]
    within = f"tables: {table}: date_formats: "
    example = f'{{{dates[0]}: "%d/%m/%Y"}}' if dates else '{order_date: "%d/%m/%Y"}'
    if not isinstance(raw, dict):
        raise SettingsReader(path, {}, f"tables: {table}: ").refuse(
            "date_formats",
            raw,
            "it must map each date column of the contract to its format, one `column: format` per line",
            example,
        )
    inner = SettingsReader(path, raw, within)
    out = {}
    for column in raw:
        if column not in dates:
            raise WorkbookError(
                f"{path}: `{within}{column}` is not a date column of table `{table}` (name the "
                f"contract's column, not yours); its date columns: {', '.join(dates) or 'none'}, e.g. "
                f"`date_formats: {example}`"
            )
        out[str(column)] = inner.date_format(column)
    return out


def _order_rules(path: Path, s: SettingsReader, table: str) -> tuple[LineItems | None, ReturnRule | None]:
    """``lines`` and ``returns`` of one table's entry (orders only), each checked."""
    present = [key for key in _ORDER_SETTINGS if s.raw.get(key) is not None]
    if present and table != "orders":
        raise WorkbookError(
            f"{path}: `tables: {table}: {present[0]}` is a setting of table `orders` only; move it "
            "under `tables: orders:` or remove it"
        )
    lines = None
    if s.raw.get("lines") is not None:
        example = "{quantity: Quantity, unit_price: UnitPrice}"
        raw = s.raw["lines"]
        inner = SettingsReader(path, raw if isinstance(raw, dict) else None, "tables: orders: lines: ")
        if not isinstance(raw, dict):
            raise s.refuse(
                "lines",
                raw,
                "it must name your quantity column and your unit price column",
                example,
            )
        inner.only(("quantity", "unit_price"), example=f"lines: {example}", what="the settings of `lines:`")
        named = {}
        for key in ("quantity", "unit_price"):
            value = inner.text(key, None, example="Quantity" if key == "quantity" else "UnitPrice")
            if not value:
                raise inner.refuse(
                    key, raw.get(key), "it must name the column of your export that holds it", example
                )
            named[key] = value
        clash = [theirs for theirs, ours in s.renames("columns", table).items() if ours == "revenue"]
        if clash:
            raise WorkbookError(
                f"{path}: table `orders` maps `{clash[0]}` to `revenue` and also rolls `lines:` up "
                "into orders, whose revenue is the sum of quantity x unit price; remove one of the two"
            )
        lines = LineItems(named["quantity"], named["unit_price"])
    returns = None
    if s.raw.get("returns") is not None:
        raw = s.raw["returns"]
        example = "{order_id_prefix: C}"
        allowed = (
            "it must hold one rule: `order_id_prefix: <text>` (an order whose id starts with it is a "
            "return) or `negative_revenue: true` (an order whose revenue is below 0 is a return)"
        )
        if not isinstance(raw, dict) or len(raw) != 1:
            raise s.refuse("returns", raw, allowed, example)
        inner = SettingsReader(path, raw, "tables: orders: returns: ")
        inner.only(
            ("order_id_prefix", "negative_revenue"),
            example=f"returns: {example}",
            what="the rules `returns:` may hold",
        )
        if "order_id_prefix" in raw:
            prefix = raw["order_id_prefix"]
            if not isinstance(prefix, (str, int)) or isinstance(prefix, bool) or not str(prefix).strip():
                raise inner.refuse(
                    "order_id_prefix", prefix, "it must be the text return ids start with", "C"
                )
            returns = ReturnRule(order_id_prefix=str(prefix).strip())
        else:
            if raw["negative_revenue"] is not True:
                raise inner.refuse(
                    "negative_revenue",
                    raw["negative_revenue"],
                    "it must be true (leave the rule out when no order is a return)",
                    "true",
                )
            returns = ReturnRule(negative_revenue=True)
    return lines, returns


@dataclass(frozen=True)
class Location:
    """Where one table of the contract was found."""

    table: str
    format: str  # csv, parquet, duckdb (or the engine: postgres, spark)
    path: Path  # for a table in an engine: the source and the table's name, as text
    name: str  # file name, or table name inside the DuckDB file
