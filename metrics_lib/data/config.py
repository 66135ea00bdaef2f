"""Where the data is and what the files beside it say: the project's folders, path resolution,
``source.yml`` (:class:`SourceConfig`), the column mapping ``mapping.yml`` (:class:`ColumnMapping`,
:class:`TableMapping`) and the one YAML reader both use, plus :class:`Location`, where one table of
the contract was found. Nothing here reads a table.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd
import yaml

from metrics_lib.core.errors import WorkbookError
from metrics_lib.core.periods import parse_period
from metrics_lib.data import contract as C

__all__ = [
    "PROJECT_ROOT",
    "DEMO_DATA",
    "resolve_path",
    "SourceConfig",
    "TableMapping",
    "ColumnMapping",
    "Location",
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
    default_period: str | None = None
    inactivity_days: int = 180
    options: C.ContractOptions = field(default_factory=C.ContractOptions)
    extra: dict = field(default_factory=dict)

    @classmethod
    def read(cls, path: Path) -> SourceConfig:
        if not path.exists():
            return cls()
        raw = _read_yaml(path)
        known = {
            "name",
            "description",
            "strategy_change_date",
            "default_period",
            "inactivity_days",
            "csat_scale",
            "ces_scale",
        }
        change = raw.get("strategy_change_date")
        opts = C.ContractOptions(
            csat_scale=tuple(raw.get("csat_scale", (1, 5))),
            ces_scale=tuple(raw.get("ces_scale", (1, 7))),
        )
        period = raw.get("default_period")
        if period is not None:
            parse_period(str(period))
        return cls(
            name=str(raw.get("name", "")),
            description=str(raw.get("description", "")),
            strategy_change_date=pd.Timestamp(change).date() if change else None,
            default_period=str(period) if period is not None else None,
            inactivity_days=int(raw.get("inactivity_days", 180)),
            options=opts,
            extra={k: v for k, v in raw.items() if k not in known},
        )


@dataclass(frozen=True)
class TableMapping:
    source: str | None = None  # file name in the folder, or table name in the DuckDB file
    columns: dict[str, str] = field(default_factory=dict)  # theirs -> ours
    date_format: str | None = None


@dataclass(frozen=True)
class ColumnMapping:
    """Renames a user's CRM export to the contract, read from a YAML file::

    tables:
      orders:
        source: sales_export.csv     # optional: the file (or DuckDB table) holding it
        date_format: "%d/%m/%Y"      # optional: when dates are not YYYY-MM-DD
        columns:                     # their name: our name
          Order Number: order_id
          Account: customer_id
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
            entry = entry or {}
            columns = {str(k): str(v) for k, v in (entry.get("columns") or {}).items()}
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
            out[table] = TableMapping(entry.get("source"), columns, entry.get("date_format"))
        return cls(out, path)

    def for_table(self, table: str) -> TableMapping:
        return self.tables.get(table, TableMapping())


def _read_yaml(path: Path) -> dict:
    try:
        with open(path, encoding="utf-8") as fh:
            raw = yaml.safe_load(fh) or {}
    except FileNotFoundError:
        raise WorkbookError(f"{path}: file not found") from None
    except yaml.YAMLError as exc:
        raise WorkbookError(
            f"{path}: not valid YAML ({exc}); correct the indentation, colons and brackets at the line shown"
        ) from None
    except UnicodeDecodeError as exc:
        raise WorkbookError(
            f"{path}: not UTF-8 text (byte {exc.start}: {exc.object[exc.start : exc.start + 1]!r}); "
            "save the file as UTF-8"
        ) from None
    if not isinstance(raw, dict):
        raise WorkbookError(f"{path}: expected a mapping of keys to values at the top level")
    return raw


@dataclass(frozen=True)
class Location:
    """Where one table of the contract was found."""

    table: str
    format: str  # csv, parquet, duckdb (or the engine: postgres, spark)
    path: Path  # for a table in an engine: the source and the table's name, as text
    name: str  # file name, or table name inside the DuckDB file
