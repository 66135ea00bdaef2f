"""Clean engine checks remembered between runs, so the same files are not checked twice.

A clean result for a file (Parquet, or a table of a DuckDB file) is remembered in a small cache
(:func:`cache_dir`), keyed by the file's path, size, modification time, inode and a cheap
fingerprint of its content (:func:`content_digest`), the column mapping, the survey scales, this
package's contract and reader code and the engine versions (:func:`cache_key`): the next run on
the same files, a report notebook or another period, skips the checks of
:mod:`metrics_lib.data.engine_checks`. A file rewritten since (new size, modification time, inode
or content, even with the old size and time stamp restored) is checked again; a view in a DuckDB file is never remembered, since
the data behind it is elsewhere. Set ``METRICS_LIB_CACHE_DIR=off`` to turn the cache off.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import asdict
from datetime import date
from pathlib import Path

from metrics_lib.data.engine_checks import EngineCheck
from metrics_lib.data.safe_io import open_regular

__all__ = [
    "cache_dir",
    "cache_key",
    "content_digest",
    "cached_check",
    "remember_check",
    "references_key",
    "references_held",
    "remember_references",
]

#: The modules whose code decides whether a table is "clean" (relative to ``metrics_lib/data``):
#: the contract, the engine checks, the pandas reader they stand in for (parsing and
#: validation) and the sources' reading code. A change to any of them forgets every check.
_DECIDING_CODE = (
    "contract.py",
    "engine_checks.py",
    "check_cache.py",
    "parsing.py",
    "validation.py",
    "sources/base.py",
    "sources/pandas_reader.py",
    "sources/files.py",
    "sources/engines.py",
)


def cache_dir() -> Path | None:
    """Where clean checks are remembered: ``$METRICS_LIB_CACHE_DIR``, else
    ``$XDG_CACHE_HOME/metrics_lib``, else ``~/.cache/metrics_lib``; None when the variable is
    ``off`` (or empty)."""
    explicit = os.environ.get("METRICS_LIB_CACHE_DIR")
    if explicit is not None:
        return (
            None
            if explicit.strip().lower() in ("", "off", "0", "no", "false")
            else Path(explicit).expanduser()
        )
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "metrics_lib"


def _contract_digest() -> str:
    """The code and engine that decide "clean": every module of :data:`_DECIDING_CODE`, and the
    Ibis and DuckDB versions."""
    import duckdb
    import ibis

    here = Path(__file__).parent
    h = hashlib.sha256()
    for name in _DECIDING_CODE:
        h.update((here / name).read_bytes())
    h.update(f"ibis {ibis.__version__} duckdb {duckdb.__version__}".encode())
    return h.hexdigest()


#: A file up to this size is hashed whole for its cache key; a larger one by samples
#: (:func:`content_digest`).
_WHOLE_FILE = 1 << 20
_EDGE = 64 << 10  # bytes hashed at each end of a larger file
_SAMPLES, _SAMPLE = 16, 4 << 10  # blocks hashed across its middle


def content_digest(path: Path, size: int) -> str:
    """A cheap fingerprint of the file's content, so that a file rewritten with the same size and
    modification time (a copy with ``cp -p``, a tool restoring the time stamp) is not taken for the
    one checked before: the whole file up to 1 MiB; else its first and last 64 KiB, 16 blocks of
    4 KiB spread across the middle, and a Parquet file's whole footer (the schema, row groups
    and statistics of every column)."""
    h = hashlib.sha256()
    with open_regular(path) as fh:
        if size <= _WHOLE_FILE:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
            return h.hexdigest()
        h.update(fh.read(_EDGE))
        for k in range(1, _SAMPLES + 1):
            fh.seek(k * size // (_SAMPLES + 1))
            h.update(fh.read(_SAMPLE))
        fh.seek(size - _EDGE)
        tail = fh.read(_EDGE)
        h.update(tail)
        if tail.endswith(b"PAR1"):
            footer = int.from_bytes(tail[-8:-4], "little")
            if _EDGE < footer + 8 <= size:
                fh.seek(size - 8 - footer)
                h.update(fh.read(footer))
    return h.hexdigest()


def cache_key(files: list[Path], table: str, source_name: str, mapping, options) -> str:
    """The key of one table's check: the files' identity (path, size, mtime, inode) and content
    (:func:`content_digest`), the table's name in them, its column mapping, the survey scales and
    the contract code."""
    stats = []
    for f in files:
        st = f.stat()
        stats.append([str(f.resolve()), st.st_size, st.st_mtime_ns, st.st_ino, content_digest(f, st.st_size)])
    text = json.dumps(
        [stats, table, source_name, repr(mapping.for_table(table)), repr(options), _contract_digest()]
    )
    return hashlib.sha256(text.encode()).hexdigest()


def cached_check(key: str) -> EngineCheck | None:
    """The clean check remembered under ``key`` (None when there is none or it cannot be read)."""
    where = cache_dir()
    if where is None:
        return None
    try:
        data = json.loads((where / "checks" / f"{key}.json").read_text())
        return EngineCheck(
            rows=int(data["rows"]),
            violations={k: int(v) for k, v in data["violations"].items()},
            first_date=date.fromisoformat(data["first_date"]) if data["first_date"] else None,
            last_date=date.fromisoformat(data["last_date"]) if data["last_date"] else None,
            cached=True,
            ids_to_trim={k: int(v) for k, v in data["ids_to_trim"].items()},
        )
    except (OSError, ValueError, KeyError, TypeError):
        return None


def remember_check(key: str, check: EngineCheck) -> None:
    """Keep a clean check for later runs; a cache that cannot be written is simply not used."""
    where = cache_dir()
    if where is None or not check.clean:
        return
    data = asdict(check)
    data.pop("cached")
    data["first_date"] = check.first_date.isoformat() if check.first_date else None
    data["last_date"] = check.last_date.isoformat() if check.last_date else None
    try:
        folder = where / "checks"
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}.{os.getpid()}.tmp"
        tmp.write_text(json.dumps(data))
        os.replace(tmp, folder / f"{key}.json")
    except OSError:
        pass


def references_key(table_keys: list[str]) -> str:
    """The key of "every foreign key holds" over tables whose clean checks are remembered under
    ``table_keys`` (each covers its file's identity and content, the mapping and the code)."""
    return hashlib.sha256(json.dumps(["references", sorted(table_keys)]).encode()).hexdigest()


def references_held(key: str) -> bool:
    """Whether an earlier run found every foreign key holding over the same files."""
    where = cache_dir()
    try:
        return where is not None and (where / "references" / f"{key}.json").is_file()
    except OSError:  # a cache that cannot be read is not used
        return False


def remember_references(key: str) -> None:
    """Keep "every foreign key holds" for later runs; a cache that cannot be written is not used."""
    where = cache_dir()
    if where is None:
        return
    try:
        folder = where / "references"
        folder.mkdir(parents=True, exist_ok=True)
        tmp = folder / f".{key}.{os.getpid()}.tmp"
        tmp.write_text("true")
        os.replace(tmp, folder / f"{key}.json")
    except OSError:
        pass
