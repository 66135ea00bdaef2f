"""The data layer: the contract, configuration and mapping, reading, validation and engine checks.

Open a source with :func:`open_source`: a folder of CSV / Parquet files or a DuckDB file
(:class:`FileSource`), a ``postgresql://`` URL (:class:`PostgresSource`) or a Spark session
(:class:`SparkSource`); all are :class:`DataSource`\\ s, checked against the contract
(:mod:`metrics_lib.data.contract`) the same way. The modules:

* :mod:`~metrics_lib.data.contract`: every table and column a user brings, declared once;
* :mod:`~metrics_lib.data.config`: the project's folders, ``source.yml`` and ``mapping.yml``;
* :mod:`~metrics_lib.data.parsing` and :mod:`~metrics_lib.data.validation`: raw columns into the
  contract's types, and broken rules into messages that name the rows;
* :mod:`~metrics_lib.data.engine_checks` and :mod:`~metrics_lib.data.check_cache`: the contract
  checked in the engine, and clean checks remembered between runs;
* :mod:`~metrics_lib.data.sources`: the kinds of source and :func:`open_source`;
* :mod:`~metrics_lib.data.safe_io`: the one way an input file is opened (regular files only,
  configuration files of at most 1 MiB, file types told by their first bytes);
* :mod:`~metrics_lib.data.csv_out`: the one writer of CSV files (no formulas a spreadsheet would
  evaluate, no free text unless asked).
"""

from metrics_lib.data.config import DEMO_DATA, PROJECT_ROOT, ColumnMapping, SourceConfig, resolve_path
from metrics_lib.data.contract import ContractOptions
from metrics_lib.data.sources import (
    DataSource,
    EngineSource,
    FileSource,
    PostgresSource,
    SparkSource,
    data_argument,
    is_database_url,
    open_source,
    redact,
)

__all__ = [
    "open_source",
    "DataSource",
    "FileSource",
    "EngineSource",
    "PostgresSource",
    "SparkSource",
    "PROJECT_ROOT",
    "DEMO_DATA",
    "resolve_path",
    "SourceConfig",
    "ColumnMapping",
    "ContractOptions",
    "is_database_url",
    "data_argument",
    "redact",
]
