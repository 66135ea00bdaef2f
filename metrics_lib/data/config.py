"""Where the data is and what the files beside it say: the project's folders, path resolution,
``source.yml`` (:class:`SourceConfig`), the column mapping ``mapping.yml`` (:class:`ColumnMapping`,
:class:`TableMapping`) and the one YAML reader both use, plus :class:`Location`, where one table of
the contract was found. Nothing here reads a table.
"""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field, replace
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import yaml

from metrics_lib.core.errors import WorkbookError
from metrics_lib.core.periods import FIRST_YEAR, LAST_YEAR, PeriodError, parse_period
from metrics_lib.data import contract as C
from metrics_lib.data.safe_io import read_config_text

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
        raw = _read_yaml(path)
        for key in raw:
            close = difflib.get_close_matches(str(key), cls.SETTINGS, n=1, cutoff=0.8)
            if key not in cls.SETTINGS and close:
                raise WorkbookError(
                    f"{path}: unknown setting `{key}`; did you mean `{close[0]}`? The settings are: "
                    f"{', '.join(cls.SETTINGS)}"
                )
        s = _Settings(path, raw)
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
        raw = _read_yaml(path)
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
            s = _Settings(path, entry, within=f"tables: {table}: ")
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
    s = _Settings(path, raw, within="tables: tickets: events: ")
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
        raise _Settings(path, {}, f"tables: {table}: ").refuse(
            "date_formats",
            raw,
            "it must map each date column of the contract to its format, one `column: format` per line",
            example,
        )
    inner = _Settings(path, raw, within)
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


def _order_rules(path: Path, s: _Settings, table: str) -> tuple[LineItems | None, ReturnRule | None]:
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
        inner = _Settings(path, raw if isinstance(raw, dict) else None, "tables: orders: lines: ")
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
        inner = _Settings(path, raw, "tables: orders: returns: ")
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


#: The strftime codes a ``date_format`` may use (those pandas and Python's strptime read).
_DATE_CODES = set("aAbBdHIjmMpSfyYzZ%")


def _show(value) -> str:
    """A setting's value as YAML writes it, on one line and short: ``true``, ``null``, ``7.5``,
    ``[5, 1]``, ``{a: null}``, text in quotes (``'six months'``, ``"new\\npricing"``)."""
    if isinstance(value, str):
        style = "'" if value.isprintable() else '"'
    else:
        style = None
    try:
        text = yaml.safe_dump(
            value, default_flow_style=True, default_style=style, width=1 << 30, allow_unicode=True
        )
    except yaml.YAMLError:  # not a YAML value (never read from a file): as Python writes it
        text = repr(value)
    text = text.strip().removesuffix("...").strip()  # a value alone is a document that ends in `...`
    return text if len(text) <= 60 else text[:57] + "..."


class _Settings:
    """The values of one settings mapping (``source.yml``, one table of ``mapping.yml``), read as
    the types they must have.

    Every refusal names the file, the setting (``within`` prefixes it, e.g. ``tables: orders: ``),
    the value, what is allowed and an example of a correct line.
    """

    def __init__(self, path: Path, raw, within: str = ""):
        self.path, self.within = path, within
        if raw is None:
            raw = {}
        if not isinstance(raw, dict):
            where = within.rstrip(": ") or "the top level"
            raise WorkbookError(
                f"{path}: `{where}` holds {_show(raw)}, but it must be a mapping of settings to values "
                "(`setting: value`, one per line, indented below it)"
            )
        self.raw = raw

    def refuse(self, key: str, value, allowed: str, example: str) -> WorkbookError:
        return WorkbookError(
            f"{self.path}: setting `{self.within}{key}` is {_show(value)}, which is not allowed: {allowed}; "
            f"for example `{key}: {example}`"
        )

    def only(self, keys: tuple[str, ...], example: str, what: str = "a table's settings") -> None:
        for key in self.raw:
            if key not in keys:
                close = difflib.get_close_matches(str(key), keys, n=1, cutoff=0.5)
                raise WorkbookError(
                    f"{self.path}: `{self.within}{key}` is not a setting"
                    + (f" (did you mean `{close[0]}`?)" if close else "")
                    + f"; {what} are {', '.join(keys)}, e.g.\n{example}"
                )

    def text(self, key: str, default: str | None = "", example: str = "My company") -> str | None:
        value = self.raw.get(key)
        if value is None:
            return default
        if isinstance(value, (dict, list)):
            raise self.refuse(key, value, "it must be a single piece of text", example)
        return str(value)

    def label(self, key: str, example: str, longest: int = 80) -> str:
        """A short name shown in headings: one line of printable text of at most ``longest``
        characters (empty when the setting is absent)."""
        value = self.text(key, default=None, example=example)
        if value is None:
            return ""
        value = value.strip()
        if not value or len(value) > longest or not value.isprintable():
            raise self.refuse(
                key,
                value,
                f"it must be a short name on one line: 1 to {longest} printable characters",
                example,
            )
        return value

    def whole(self, key: str, default: int, *, low: int, high: int, unit: str, example: str = "") -> int:
        value = self.raw.get(key)
        if value is None:
            return default
        if isinstance(value, str) and value.strip().isdigit():
            value = int(value)
        if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
            raise self.refuse(
                key,
                value,
                f"it must be a whole number of {unit} from {low} to {high}",
                example or str(default),
            )
        return value

    def date(self, key: str, example: str) -> date | None:
        value = self.raw.get(key)
        if value is None:
            return None
        if isinstance(value, datetime):
            value = value.date()
        if isinstance(value, str):
            try:
                value = date.fromisoformat(value.strip())
            except ValueError:
                pass
        if not isinstance(value, date) or not FIRST_YEAR <= value.year <= LAST_YEAR:
            raise self.refuse(
                key,
                value,
                f"it must be a date written YYYY-MM-DD, in the years {FIRST_YEAR} to {LAST_YEAR}",
                example,
            )
        return value

    def period(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return None
        try:
            return parse_period(str(value)).label
        except PeriodError as exc:
            raise self.refuse(key, str(value), str(exc), "2025-Q1") from None

    def scale(self, key: str, default: tuple[int, int]) -> tuple[int, int]:
        value = self.raw.get(key)
        if value is None:
            return default
        ok = (
            isinstance(value, (list, tuple))
            and len(value) == 2
            and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
        )
        if not ok or not 0 <= value[0] < value[1] <= 100:
            raise self.refuse(
                key,
                value,
                "it must be the lowest and the highest score, two whole numbers from 0 to 100, lowest first",
                f"[{default[0]}, {default[1]}]",
            )
        return (value[0], value[1])

    def renames(self, key: str, table: str) -> dict[str, str]:
        value = self.raw.get(key)
        if value is None:
            return {}
        example = f"{{Their Name: {C.TABLES[table].column_names[0]}}}"
        if not isinstance(value, dict):
            raise self.refuse(
                key,
                value,
                "it must map each of your column names to the contract's, one `Their Name: "
                "our_name` per line (a mapping, not a list)",
                example,
            )
        for theirs, ours in value.items():
            if (
                theirs is None
                or ours is None
                or isinstance(theirs, (dict, list))
                or isinstance(ours, (dict, list))
            ):
                raise self.refuse(
                    key,
                    {theirs: ours},
                    "each line must name one of your columns and one contract column",
                    example,
                )
        return {str(k): str(v) for k, v in value.items()}

    def date_format(self, key: str) -> str | None:
        value = self.raw.get(key)
        if value is None:
            return None
        allowed = (
            "it must be a strftime pattern with a year (%Y or %y), a month (%m, %b or %B) and a day "
            '(%d; without one, as in "%Y-%m", each date is its month\'s first day), optionally a time '
            "(%H:%M:%S), using only the codes %" + " %".join(sorted(_DATE_CODES))
        )
        example = '"%d/%m/%Y"'
        if not isinstance(value, str):
            raise self.refuse(key, value, allowed, example)
        codes, i = [], 0
        while (i := value.find("%", i)) != -1:
            codes.append(value[i + 1 : i + 2])
            i += 2
        has = set(codes)
        unknown = sorted(has - _DATE_CODES)
        if unknown:
            shown = ", ".join(f"%{c}" if c else "a lone % at the end" for c in unknown)
            allowed = f"{shown} is not a date code; {allowed}"
        # no day is a choice the mapping states for a column of months ("%Y-%m"), never a default
        if unknown or not has & {"Y", "y"} or not has & {"m", "b", "B"}:
            raise self.refuse(key, value, allowed, example)
        try:
            pd.to_datetime(pd.Series(["x"]), format=value, errors="coerce")
        except ValueError as exc:
            raise self.refuse(key, value, f"{allowed} ({exc})", example) from None
        return value


class _TextDates(yaml.SafeLoader):
    """YAML's safe loader with dates and times left as text: each setting reads its own values
    (:class:`_Settings`), so that ``2024-13-01`` is named with its setting instead of stopping the
    parser."""


_TextDates.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def read_yaml_config(path, *, what: str | None = None) -> dict:
    """The one reader of the YAML configuration files (``source.yml``, ``mapping.yml``, targets):
    a regular file of at most 1 MiB (:func:`~metrics_lib.data.safe_io.read_config_text`), parsed
    safely, with a mapping at the top level. ``what`` (``--targets``) names the setting that gave
    the path in every message."""
    label = f"{what} {path}" if what else str(path)
    return read_yaml_text(read_config_text(path, what=what), what=label)


def read_yaml_text(text: str, *, what: str) -> dict:
    """YAML text (a file's, or a parameter's such as ``'{"nps": 40}'``) parsed as
    :func:`read_yaml_config` parses a file: safely, with a mapping at the top level; ``what``
    names where it came from in every message."""
    label = what
    try:
        raw = yaml.load(text, Loader=_TextDates) or {}
    except yaml.YAMLError as exc:
        raise WorkbookError(f"{label}: {_yaml_error(exc)}") from None
    except (ValueError, TypeError, OverflowError) as exc:  # a tagged value its constructor refuses
        raise WorkbookError(
            f"{label}: a value cannot be read ({exc}); correct it or write it as text"
        ) from None
    except RecursionError:
        raise WorkbookError(
            f"{label}: nested too deeply to be a configuration file; give the right file"
        ) from None
    if not isinstance(raw, dict):
        raise WorkbookError(f"{label}: expected a mapping of keys to values at the top level")
    return raw


_read_yaml = read_yaml_config


#: What the parser was inside when a file ended too early (its ``context``), and how to close it.
_OPENERS = {
    "flow sequence": ("the bracket `[`", "close the list with `]` on that line"),
    "flow mapping": ("the brace `{`", "close it with `}` on that line"),
    "quoted scalar": ("the quote", "end the text with the same quote it starts with"),
}


def _yaml_error(exc: yaml.YAMLError) -> str:
    """The parser's complaint on one line: where (line and column, from 1), what, and the fix."""
    problem = getattr(exc, "problem", None) or (str(exc).splitlines() or [type(exc).__name__])[0]
    mark = getattr(exc, "problem_mark", None)
    context, start = getattr(exc, "context", None), getattr(exc, "context_mark", None)
    unclosed = "end of stream" in problem or "<stream end>" in problem
    closing = "close the bracket or the quote opened last"
    if unclosed and start is not None:  # the file ended inside brackets or quotes: where they open
        opened, closing = next(
            (v for k, v in _OPENERS.items() if k in (context or "")),
            ("a bracket or quote", closing),
        )
        mark, problem = start, f"{opened} opened there is never closed"
    elif context and start is not None and mark is not None and start.line != mark.line:
        problem += f", {context} from line {start.line + 1}"
    mark = mark or start
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark is not None else ""
    if "\\t" in problem or "\t" in problem:
        fix = "indent with spaces, not tabs"
    elif unclosed:
        fix = closing
    elif "mapping values are not allowed" in problem:
        fix = (
            "put a value holding `: ` in quotes ('a: b'), and indent the settings under a heading by "
            "the same number of spaces"
        )
    elif "cannot start any token" in problem or "undefined alias" in problem:
        fix = "put a value that starts with @, `, * or & in quotes"
    else:
        fix = (
            "correct the indentation (spaces, not tabs), the `setting: value` colons and the quotes "
            "and brackets there"
        )
    return f"not valid YAML{where} ({problem}); {fix}"


@dataclass(frozen=True)
class Location:
    """Where one table of the contract was found."""

    table: str
    format: str  # csv, parquet, duckdb (or the engine: postgres, spark)
    path: Path  # for a table in an engine: the source and the table's name, as text
    name: str  # file name, or table name inside the DuckDB file
