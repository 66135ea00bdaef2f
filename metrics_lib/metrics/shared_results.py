"""A period's aggregates computed once per report run and shared by every notebook of the run.

The nine report notebooks of a period each need the aggregates of the period, of the period
before it (for the change and its test) and of the seven before that (for the trends), and the
notebooks of the next period need most of them again. Without sharing, each notebook queries the
engine for them anew.

When the environment variable ``METRICS_LIB_SHARED_RESULTS`` names a folder (the report runner
sets it for its kernels, to a folder of its own that it removes at the end of the run), each
aggregate of a :class:`~metrics_lib.metrics.period_data.PeriodData` declared with
:class:`shared_property` is looked up there before it is computed, and written there once it is.
A result that one process of the run is computing is waited for, not computed a second time
beside it (a file lock per result). Everything else stays as it was: the same formulas run on the
same aggregates, so a notebook gives the same numbers with the folder or without it (in
JupyterLab, under plain papermill), computing what it needs when no shared result is there.

An aggregate is found only under its key (:func:`period_key`): the data (the path, size,
modification time, inode and a sampled fingerprint of the content of every input file, as the
check cache remembers them), the column mapping, the data source's settings, the rule for rows that
break the contract, the segment, the period, and the code that computes it. Anything else (a
changed file, another mapping or segment, another version of this package) is another key, so a
stale result is never used. A source that is not a folder of files (a database) is never shared:
its data can change while the run goes on, and nothing cheap says whether it did.

Within a run, the notebooks one kernel runs one after the other also share the opened and checked
data source (:func:`open_report_source`), as long as its files are unchanged, and a notebook does
not check again, table by table and foreign key by foreign key, the files the runner checked
clean (:func:`mark_checked`).
"""

from __future__ import annotations

import hashlib
import os
import pickle
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Generic, TypeVar, overload

__all__ = [
    "ENV_VAR",
    "shared_folder",
    "period_key",
    "shared_property",
    "shared_call",
    "found_call",
    "code_digest",
    "open_report_source",
    "mark_checked",
]

#: The environment variable naming the run's folder of shared aggregates.
ENV_VAR = "METRICS_LIB_SHARED_RESULTS"

_PACKAGE = Path(__file__).resolve().parent.parent
# the code that computes aggregates; the reporting layer, the demo generator and the CLI do not
_CODE_PARTS = ("core", "data", "formulas", "clv", "metrics")
_code_digest: str | None = None

T = TypeVar("T")
_MISSING = object()


def shared_folder() -> Path | None:
    """The folder of shared aggregates named by :data:`ENV_VAR`, or None (no sharing) when the
    variable is unset, empty, or names no folder."""
    text = os.environ.get(ENV_VAR, "").strip()
    if not text:
        return None
    folder = Path(text).expanduser()
    return folder if folder.is_dir() else None


def code_digest() -> str:
    """A digest of the package code that computes numbers (core, data, formulas, clv, metrics)."""
    global _code_digest
    if _code_digest is None:
        h = hashlib.sha256()
        for part in _CODE_PARTS:
            for path in sorted((_PACKAGE / part).rglob("*.py")):
                h.update(str(path.relative_to(_PACKAGE)).encode())
                h.update(path.read_bytes())
        _code_digest = h.hexdigest()
    return _code_digest


def source_key(source) -> str | None:
    """What the aggregates of ``source`` depend on besides the period and segment, as a digest;
    None for a source that is not a folder of files. Worked out once per source."""
    cached = source.__dict__.get("_shared_results_key", _MISSING)
    if cached is not _MISSING:
        return cached
    key = _source_key(source)
    source.__dict__["_shared_results_key"] = key
    return key


def _source_key(source) -> str | None:
    from metrics_lib.data.check_cache import content_digest

    if getattr(source, "kind", None) != "folder":
        return None
    h = hashlib.sha256()
    mapping = getattr(getattr(source, "mapping", None), "path", None)
    h.update(repr((str(source.path), getattr(source, "on_invalid", None), repr(source.config))).encode())
    if mapping:
        h.update(Path(mapping).read_bytes())
    for table, loc in sorted(source.locations.items()):
        path = loc.path
        if not isinstance(path, Path):
            return None
        st = path.stat()
        h.update(repr((table, str(path), st.st_size, st.st_mtime_ns, st.st_ino)).encode())
        h.update(content_digest(path, st.st_size).encode())
    h.update(code_digest().encode())
    return h.hexdigest()


def period_key(source, period, segment) -> str | None:
    """The key of the aggregates of ``period`` (a Period or a date window) and ``segment`` of
    ``source``; None when they are not shared."""
    base = source_key(source)
    if base is None:
        return None
    return hashlib.sha256(repr((base, repr(period), segment)).encode()).hexdigest()[:32]


def _file(d, name: str) -> Path | None:
    folder = shared_folder()
    if folder is None:
        return None
    key = d.__dict__.get("_shared_results_period_key", _MISSING)
    if key is _MISSING:
        try:
            key = period_key(d.source, d.scope.period, d.scope.segment)
        except OSError:  # an input file went away: nothing is shared
            key = None
        d.__dict__["_shared_results_period_key"] = key
    return None if key is None else folder / f"{key}-{name}.pkl"


def _write(path: Path, value) -> None:
    """Pickle ``value`` to ``path`` atomically: a reader sees the whole file or none."""
    tmp = None
    try:
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".pkl")
        with os.fdopen(fd, "wb") as fh:
            pickle.dump(value, fh, protocol=pickle.HIGHEST_PROTOCOL)
        os.replace(tmp, path)
    except Exception:  # a full disk or a value that cannot be pickled: it is just not shared
        if tmp is not None:
            Path(tmp).unlink(missing_ok=True)


#: The results this process holds the lock of (a lock is per open file, so the same process
#: asking again for a result it is computing would otherwise wait for itself).
_holding: set[Path] = set()


@contextmanager
def _computing(path: Path) -> Iterator[None]:
    """Hold the lock of the result ``path`` while computing it: a notebook that needs the same
    result meanwhile (the two kernels of a run start on the same period) waits for it instead of
    computing it a second time. The system releases the lock of a process that dies. Where file
    locks are not available (Windows, a network folder without them) each computes its own."""
    fh = None
    if path not in _holding:
        try:
            import fcntl

            fh = open(path.with_name(path.name + ".lock"), "a")
            fcntl.flock(fh, fcntl.LOCK_EX)  # waits while another process computes this very result
        except (ImportError, OSError):
            if fh is not None:
                fh.close()
            fh = None
    if fh is None:
        yield
        return
    _holding.add(path)
    try:
        yield
    finally:
        _holding.discard(path)
        fh.close()  # closing the file releases the lock


def _once(path: Path | None, compute: Callable[[], T]) -> T:
    """The result kept at ``path``, computed (and written there) by the first process of the run
    that needs it; simply computed outside a run (``path`` None)."""
    value = _read(path)
    if value is not _MISSING:
        return value
    if path is None:
        return compute()
    with _computing(path):
        value = _read(path)  # written by the process this one waited for
        if value is _MISSING:
            value = compute()
            _write(path, value)
    return value


def shared(d, name: str, compute: Callable[[], T]) -> T:
    """Aggregate ``name`` of PeriodData ``d``: from the shared folder when there, else computed and
    written there (by one notebook at a time: :func:`_computing`)."""
    return _once(_file(d, name), compute)


class shared_property(Generic[T]):
    """Like :func:`functools.cached_property` on a PeriodData, with the value also looked up in,
    and written to, the run's shared folder (:func:`shared_folder`)."""

    def __init__(self, fn: Callable[[Any], T]) -> None:
        self.fn = fn
        self.name = fn.__name__
        self.__doc__ = fn.__doc__

    def __set_name__(self, owner, name: str) -> None:
        self.name = name

    @overload
    def __get__(self, obj: None, owner: type | None = None) -> shared_property[T]: ...

    @overload
    def __get__(self, obj: object, owner: type | None = None) -> T: ...

    def __get__(self, obj, owner=None):
        if obj is None:
            return self
        if self.name not in obj.__dict__:
            obj.__dict__[self.name] = shared(obj, self.name, lambda: self.fn(obj))
        return obj.__dict__[self.name]


#: The data source the last report of this process opened, by how it was opened (see
#: :func:`open_report_source`).
_opened: dict[tuple, Any] = {}


def open_report_source(data, *, mapping=None, on_invalid: str = "strict"):
    """:func:`~metrics_lib.data.open_source`, except within a report run (:func:`shared_folder`
    set): the source the previous notebook of this kernel opened and checked, when it was opened
    the same way and its files are unchanged (same :func:`source_key`), so that the checks and the
    reading are not repeated for each notebook. A database is always opened anew."""
    from metrics_lib.data import open_source

    if shared_folder() is None:
        return open_source(data, mapping=mapping, on_invalid=on_invalid)
    how = (str(data), str(mapping), on_invalid)
    src = _opened.get(how)
    if src is not None:
        try:
            if source_key(src) is not None and _source_key(src) == source_key(src):
                return src
        except OSError:  # a file went away: open it again, which says what is wrong
            pass
    _opened.clear()
    src = open_source(data, mapping=mapping, on_invalid=on_invalid)
    checks = _read(_checked_marker(src))
    if isinstance(checks, dict):
        # the runner checked these very files whole (foreign keys too) and found nothing wrong:
        # the same checks here would find the same (the key holds files, mapping, settings, code)
        src.trust_checks(checks)
    _opened[how] = src
    return src


def _checked_marker(source) -> Path | None:
    folder = shared_folder()
    try:
        key = source_key(source) if folder is not None else None
    except OSError:
        return None
    return None if folder is None or key is None else folder / f"checked-{key[:32]}"


def mark_checked(source) -> None:
    """Say in the run's shared folder that ``source`` was checked whole, foreign keys included, and
    nothing was set aside, with each table's clean engine check, so that the notebooks of the run
    need not check the same files again (:func:`open_report_source`), whether or not a check cache
    is kept. Nothing is said of a source with rows set aside: each notebook sets them aside
    itself."""
    source.check_all()
    if any(len(frame) for frame in source.rejected.values()):
        return
    marker = _checked_marker(source)
    if marker is not None:
        _write(marker, source.file_checks())  # a view in a DuckDB file: each notebook checks it


def _arg_key(value, source) -> str:
    """A stable text for an argument of :func:`shared_call` (the source, and a scope by its
    period and segment, not by the address of an object)."""
    from metrics_lib.metrics.aggregate import Scope

    if value is source:
        return "source"
    if isinstance(value, Scope) and value.source is source:
        return repr(("scope", repr(value.period), value.segment))
    return repr(value)


def _call_path(source, fn: Callable, args, kwargs) -> Path | None:
    """Where the run keeps the result of ``fn(*args, **kwargs)`` on ``source``; None outside a run
    or for a source that is not shared."""
    folder = shared_folder()
    base = source_key(source) if folder is not None else None
    if folder is None or base is None:
        return None
    text = repr(
        (
            base,
            f"{fn.__module__}.{fn.__qualname__}",
            [_arg_key(a, source) for a in args],
            sorted((k, _arg_key(v, source)) for k, v in kwargs.items()),
        )
    )
    return folder / f"call-{hashlib.sha256(text.encode()).hexdigest()[:32]}.pkl"


def _read(path: Path | None) -> Any:
    if path is None or not path.is_file():
        return _MISSING
    try:
        with open(path, "rb") as fh:
            return pickle.load(fh)
    except Exception:  # unreadable: compute it
        return _MISSING


def shared_call(source, fn: Callable[..., T], *args, not_keyed: dict | None = None, **kwargs) -> T:
    """``fn(*args, **kwargs)``, a section's numbers on ``source`` that two notebooks of a run both
    show (NPS against churn, the health score's validation, the before/after comparison): within a
    run computed once and shared like the aggregates; outside a run simply called.

    ``not_keyed``: more keyword arguments for ``fn`` that change how fast it answers, not what
    (saved model fits): a result computed without them is used as it is."""
    return _once(_call_path(source, fn, args, kwargs), lambda: fn(*args, **kwargs, **(not_keyed or {})))


def found_call(source, fn: Callable[..., T], *args, **kwargs) -> T | None:
    """The result of :func:`shared_call` with these arguments when a notebook of the run has
    computed it, or is computing it (it is waited for); None otherwise (nothing is computed)."""
    path = _call_path(source, fn, args, kwargs)
    value = _read(path)
    if value is _MISSING and path is not None:
        with _computing(path):  # held only while another process computes it
            value = _read(path)
    return None if value is _MISSING else value
