"""open_source picks the kind of source; every kind shares one set-up and one with_options.

(PostgreSQL and Spark themselves are exercised in test_engines.py; here a stand-in Spark session
checks the dispatch without pyspark.)
"""

from __future__ import annotations

from pathlib import Path

import pytest

from metrics_lib.core.errors import WorkbookError
from metrics_lib.data import (
    DEMO_DATA,
    DataSource,
    FileSource,
    SourceConfig,
    SparkSource,
    check_cache,
    open_source,
)


def test_a_folder_or_nothing_opens_a_file_source(make_source):
    assert isinstance(open_source(), FileSource) and open_source().path == DEMO_DATA
    src = open_source(make_source())
    assert isinstance(src, FileSource) and isinstance(src, DataSource) and src.kind == "folder"


def test_a_relative_path_resolves_from_base(make_source):
    folder = make_source()
    src = open_source(folder.name, base=folder.parent)
    assert src.path == folder


def test_the_base_class_is_not_a_source_of_its_own():
    with pytest.raises(TypeError):
        DataSource(DEMO_DATA)


def test_database_is_only_for_a_spark_session(make_source):
    with pytest.raises(WorkbookError, match="only with a Spark session"):
        open_source(make_source(), database="crm")


def test_with_options_reopens_the_same_kind_with_the_settings_changed(make_source):
    src = open_source(make_source(), on_invalid="quarantine")
    other = src.with_options(inactivity_days=90)
    assert type(other) is FileSource and other.path == src.path and other.on_invalid == "quarantine"
    assert other.config.inactivity_days == 90 and src.config.inactivity_days == 180
    assert other.config.options == src.config.options


def test_a_file_source_takes_settings_like_an_engine(make_source, tmp_path):
    (tmp_path / "elsewhere.yml").write_text("inactivity_days: 30\n", encoding="utf-8")
    assert FileSource(make_source(), config=tmp_path / "elsewhere.yml").config.inactivity_days == 30
    assert FileSource(make_source(), config=SourceConfig(name="x")).config.name == "x"


class _Catalog:
    def listTables(self, database=None):  # noqa: N802 - Spark's name
        return []


class _Context:
    appName = "fake"


def _fake_spark_session():
    """An object whose class looks like pyspark's SparkSession, without pyspark."""
    cls = type("SparkSession", (), {"catalog": _Catalog(), "sparkContext": _Context()})
    cls.__module__ = "pyspark.sql.session"
    return cls()


def test_a_spark_session_opens_a_spark_source():
    session = _fake_spark_session()
    src = open_source(session, database="crm")
    assert isinstance(src, SparkSource) and src.database == "crm" and src.tables == []
    assert str(src.path) == "spark://fake/crm" and src.config.name == "Spark crm tables"
    again = src.with_options(inactivity_days=90)
    assert type(again) is SparkSource and again.session is session and again.database == "crm"
    assert again.config.inactivity_days == 90


def test_the_check_cache_digest_covers_modules_that_exist():
    here = Path(check_cache.__file__).parent
    assert all((here / name).is_file() for name in check_cache._DECIDING_CODE)
    assert len(check_cache._contract_digest()) == 64
