"""The data contract checked where the data lies: clean typed tables never pass through pandas.

A Parquet file, a DuckDB table, a PostgreSQL or a Spark table already has typed columns. For such
a table :class:`~metrics_lib.data.sources.DataSource` first asks the engine, in a couple of aggregate
queries, whether the table keeps every rule of the contract (:func:`check_in_engine`): no empty
values where they are not allowed, values in range and among the allowed ones, unique keys, the
row rules, and none of the values we know the pandas reader to treat differently (NaN floats,
dates outside what pandas can hold, infinite or absurdly large numbers, integer ids too long
for a float). When every count is zero the table is used in place, renamed and cast to
the contract's types in the query (:func:`contract_expr`). When any count is not zero, or a column
is stored as text that needs parsing, the table goes the careful way instead: it is read into
pandas, parsed and validated there, and the messages name the rows (:meth:`DataSource.frame`).

So the engine only ever says "clean" or "look closer"; what is wrong, and which rows, is always
worked out by one piece of code. A clean result for a file is remembered between runs
(:mod:`metrics_lib.data.check_cache`).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, datetime

from metrics_lib.core.engine import count_true
from metrics_lib.core.periods import FIRST_YEAR, LAST_YEAR
from metrics_lib.data import contract as C

__all__ = [
    "IBIS_TYPES",
    "EngineCheck",
    "cast_to_contract",
    "contract_expr",
    "native_type_problem",
    "check_in_engine",
    "check_table",
    "text_ids",
    "source_columns",
]

#: Contract kind -> the Ibis type a column has in the aggregations (what DuckDB gets from the
#: validated pandas frames: dates are midnight timestamps).
IBIS_TYPES = {
    "id": "string",
    "str": "string",
    "date": "timestamp",
    "timestamp": "timestamp",
    "float": "float64",
    "int": "int64",
    "bool": "boolean",
}

# the dates the parser accepts (pandas holds datetime64[ns] only around them): outside, the
# careful path says which rows
_FIRST_DATE, _END_DATE = datetime(FIRST_YEAR, 1, 1), datetime(LAST_YEAR + 1, 1, 1)


def cast_to_contract(col, dtype, kind: str, date_format: str | None, *, as_stored: bool = False):
    """One column of an engine table as the contract's type, in portable Ibis.

    ``as_stored``: a text id column the check found with no blanks around any id and no empty
    ids (:attr:`EngineCheck.ids_to_trim`), used as stored: trimming every id in every query is
    the largest part of a join on ten million rows."""
    target = IBIS_TYPES[kind]
    if kind in ("id", "str"):
        if dtype.is_floating() and kind == "id":
            col = col.cast("int64")  # ids stored as floats (1.0): as integers, as the parser does
        col = col if dtype.is_string() else col.cast("string")
        # 'C1 ' is 'C1' and blanks alone are empty, as the parser reads them
        trim = kind == "id" and dtype.is_string() and not as_stored
        return col.strip().nullif("") if trim else col
    if kind in ("date", "timestamp"):
        if dtype.is_string():
            col = col.strip()
            col = col.as_timestamp(date_format) if date_format else col.cast("timestamp")
        elif dtype.is_timestamp() and dtype.timezone is not None:
            col = col.cast("timestamp")  # the engine session is in UTC: UTC wall time, as the parser
        if kind == "date":
            # whole days; a date column is read as midnight, as the parser does
            return col.cast("date").cast("timestamp") if not dtype.is_date() else col.cast("timestamp")
        return col if dtype.is_timestamp() and dtype.timezone is None else col.cast("timestamp")
    if kind == "bool":
        if dtype.is_boolean():
            return col
        if dtype.is_numeric():
            return col != 0
        return col.strip().lower().cast("boolean")
    return col.cast(target)


def source_columns(raw, table: str, mapping) -> dict[str, str]:
    """Contract column -> the raw table's column holding it (after the mapping's renames)."""
    tm = mapping.for_table(table)
    theirs = {ours: their for their, ours in tm.columns.items()}
    renamed = set(tm.columns)
    by_name = {str(c).strip(): c for c in raw.columns if c not in renamed}
    out = {}
    for col in C.TABLES[table].columns:
        src = theirs.get(col.name) or by_name.get(col.name)
        if src is not None:
            out[col.name] = src
    return out


#: The characters trimming an id removes from its ends: the parser's (:data:`C.ID_BLANKS`), which
#: are also those of Ibis's ``strip`` on every engine.
BLANKS = tuple(C.ID_BLANKS)


def text_ids(raw, table: str, mapping) -> frozenset[str]:
    """The contract's id columns of ``table`` that the raw table stores as text."""
    schema = raw.schema()
    sources = source_columns(raw, table, mapping)
    return frozenset(
        c.name
        for c in C.TABLES[table].columns
        if c.kind == "id" and c.name in sources and schema[sources[c.name]].is_string()
    )


def contract_expr(raw, table: str, mapping, *, plain_ids=frozenset()):
    """The raw engine table renamed to the contract's columns and cast to its types; optional
    columns the table lacks are added as nulls. The text id columns named in ``plain_ids`` are
    used as stored, without trimming (see :func:`cast_to_contract`)."""
    import ibis

    spec = C.TABLES[table]
    tm = mapping.for_table(table)
    schema = raw.schema()
    sources = source_columns(raw, table, mapping)
    columns = {}
    for col in spec.columns:
        src = sources.get(col.name)
        if src is None:
            columns[col.name] = ibis.null().cast(IBIS_TYPES[col.kind])
        else:
            columns[col.name] = cast_to_contract(
                raw[src], schema[src], col.kind, tm.date_format_for(col.name), as_stored=col.name in plain_ids
            )
    return raw.select(**columns)


def native_type_problem(raw, table: str, mapping) -> str | None:
    """Why the raw table cannot be checked in the engine (None when it can).

    It can when the mapping fits it, every required column is there and every column's stored
    type holds the contract's kind without parsing: text ids and labels (or integer ids), dates
    or timestamps, integers for whole numbers, numbers for floats, booleans.
    """
    spec = C.TABLES[table]
    tm = mapping.for_table(table)
    if tm.events is not None:
        return "the mapping builds the table from an event log"
    if tm.reshapes:
        return "the mapping rolls lines up into orders or marks returns, which is done in pandas"
    absent = [theirs for theirs in tm.columns if theirs not in raw.columns]
    if absent:
        return f"the mapping names column(s) the table lacks: {', '.join(absent)}"
    unmapped = {str(c).strip() for c in raw.columns if c not in tm.columns}
    clash = [ours for theirs, ours in tm.columns.items() if ours in unmapped and ours != theirs]
    if clash:
        return f"the mapping renames onto existing column(s): {', '.join(clash)}"
    if len({str(c).strip() for c in raw.columns}) != len(raw.columns):
        return "column names repeat once blanks are trimmed"
    sources = source_columns(raw, table, mapping)
    schema = raw.schema()
    for col in spec.columns:
        src = sources.get(col.name)
        if src is None:
            if col.required:
                return f"required column `{col.name}` is missing"
            continue
        dtype = schema[src]
        ok = {
            "id": dtype.is_string() or dtype.is_integer(),
            "str": dtype.is_string(),
            "date": dtype.is_date() or (dtype.is_timestamp() and dtype.timezone is None),
            "timestamp": dtype.is_timestamp() and dtype.timezone is None or dtype.is_date(),
            "float": dtype.is_floating() or dtype.is_integer() or dtype.is_decimal(),
            "int": dtype.is_integer(),
            "bool": dtype.is_boolean(),
        }[col.kind]
        if not ok:
            return f"column `{col.name}` is stored as {dtype}, which needs parsing as {col.kind}"
    return None


@dataclass
class EngineCheck:
    """What the engine found: rows, the count of rows breaking each check, the span of the
    table's date column, and per text id column the rows whose id reading changes (blanks around
    it, or empty): a column with none is used as stored (:func:`contract_expr`)."""

    rows: int
    violations: dict[str, int] = field(default_factory=dict)
    first_date: date | None = None
    last_date: date | None = None
    cached: bool = False  # True when taken from the cache of an earlier run
    ids_to_trim: dict[str, int] = field(default_factory=dict)

    @property
    def plain_ids(self) -> frozenset[str]:
        """The text id columns whose every id is as stored."""
        return frozenset(name for name, rows in self.ids_to_trim.items() if not rows)

    @property
    def clean(self) -> bool:
        return not any(self.violations.values())


# pandas reads an integer column with empty cells as floats, exact only up to 2**53 (16 digits)
_EXACT_DIGITS = 15


def check_table(
    raw, table: str, mapping, options: C.ContractOptions, *, ids_as_stored: bool = False
) -> EngineCheck:
    """:func:`check_in_engine` of the raw engine table, first with its text ids as stored, which
    spares trimming every id of a large table; only when some id would change when read (blanks
    around it, or empty) is the table checked again with its ids as the parser reads them.

    Only with ``ids_as_stored`` (DuckDB, :attr:`DataSource.ids_as_stored`); else the ids are checked
    as read at once and none is used as stored: an engine whose fixed-width text (PostgreSQL's
    ``char(n)``) compares without the blanks it hands out cannot count them."""
    sources = source_columns(raw, table, mapping)
    schema = raw.schema()
    integer_ids = frozenset(
        c.name
        for c in C.TABLES[table].columns
        if c.kind == "id" and c.name in sources and schema[sources[c.name]].is_integer()
    )
    read = contract_expr(raw, table, mapping)
    if not ids_as_stored:
        return check_in_engine(read, table, options, set(sources), integer_ids)
    texts = text_ids(raw, table, mapping)
    stored = contract_expr(raw, table, mapping, plain_ids=texts)
    found = check_in_engine(stored, table, options, set(sources), integer_ids, text_ids=texts)
    if any(found.ids_to_trim.values()):
        again = check_in_engine(read, table, options, set(sources), integer_ids)
        found = replace(again, ids_to_trim=found.ids_to_trim)
    return found


def check_in_engine(
    expr,
    table: str,
    options: C.ContractOptions,
    present: set[str],
    integer_ids: frozenset[str] = frozenset(),
    *,
    text_ids: frozenset[str] = frozenset(),
) -> EngineCheck:
    """Count, in the engine, the rows of the contract-shaped ``expr`` that break each check.

    ``present`` names the contract columns the source table has (absent optional ones are null
    and need no check); ``integer_ids`` the id columns stored as integers, whose ids of more than
    15 digits the pandas reader would round, so those go the careful way; ``text_ids`` the id
    columns ``expr`` holds as stored text, whose ids with blanks around them or empty are
    counted (:attr:`EngineCheck.ids_to_trim`: the checks of such a column hold only when it has
    none). One aggregate query covers nulls, ranges, allowed values, NaN and row rules, and
    single-column keys; a key of several columns takes one more query.
    """
    import ibis

    spec = C.TABLES[table]
    aggs = {"__rows": expr.count()}
    for col in spec.columns:
        if col.name not in present:
            continue
        v = expr[col.name]
        name = col.name
        missing = v.isnull()
        if col.kind == "float":
            nan = v.isnan().fill_null(False)
            aggs[f"{name}: NaN"] = count_true(nan)  # pandas reads NaN as empty: let it decide
            missing = missing | nan
        if not col.nullable:
            aggs[f"{name}: empty"] = count_true(missing)
        if col.allowed is not None:
            aggs[f"{name}: not allowed"] = count_true(v.notnull() & ~v.isin(list(col.allowed)))
        if col.min is not None:
            below = v < col.min
            if col.min_exempt is not None and col.min_exempt[0] in present:
                other, value = col.min_exempt
                below = below & (expr[other] != value).fill_null(True)
            aggs[f"{name}: below minimum"] = count_true(below)
        if col.max is not None:
            aggs[f"{name}: above maximum"] = count_true(v > col.max)
        if col.kind in ("date", "timestamp"):
            aggs[f"{name}: outside {FIRST_YEAR} to {LAST_YEAR}"] = count_true(
                (v < ibis.timestamp(_FIRST_DATE)) | (v >= ibis.timestamp(_END_DATE))
            )
        if col.kind in ("float", "int"):
            # infinite or beyond the contract's largest number, as the parser rejects them (DuckDB
            # sorts NaN above every number: NaN is counted above)
            huge = v.abs() > C.MAX_NUMBER
            aggs[f"{name}: beyond {C.MAX_NUMBER:g}"] = count_true(
                huge & ~v.isnan() if col.kind == "float" else huge
            )
        if col.unique:
            aggs[f"{name}: duplicates"] = v.count() - v.nunique()
        if name in integer_ids:
            aggs[f"{name}: integer id of more than {_EXACT_DIGITS} digits"] = count_true(
                v.length() > _EXACT_DIGITS
            )  # a minus sign counts too: cautious
    for i, rule in enumerate(spec.rules):
        if all(c in present for c in rule.columns):
            aggs[f"rule {i}: {rule.name}"] = count_true(~rule.engine_test(expr, options).fill_null(False))
    trim_checks = {f"__trim {name}": name for name in sorted(text_ids)}
    for key, name in trim_checks.items():
        v = expr[name]
        aggs[key] = count_true((v == "") | v.left(1).isin(BLANKS) | v.right(1).isin(BLANKS))
    if spec.date_column:
        aggs["__first"] = expr[spec.date_column].min()
        aggs["__last"] = expr[spec.date_column].max()
    row = expr.aggregate(**aggs).to_pyarrow().to_pylist()[0]
    rows = int(row.pop("__rows"))
    first, last = row.pop("__first", None), row.pop("__last", None)
    to_trim = {name: int(row.pop(key) or 0) for key, name in trim_checks.items()}
    violations = {k: int(v or 0) for k, v in row.items()}
    if len(spec.key) > 1:
        distinct = expr.select(*spec.key).distinct().count().to_pyarrow().as_py()
        violations[f"key ({', '.join(spec.key)}): duplicates"] = rows - int(distinct)
    return EngineCheck(rows, violations, _as_date(first), _as_date(last), ids_to_trim=to_trim)


def _as_date(value) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value
