"""The one way the project opens a file it reads: regular files only, configs of bounded size.

Every input (a table's CSV or Parquet file, a DuckDB file, ``source.yml``, ``mapping.yml``, a
targets file) is looked at with :func:`os.stat` before it is opened, so a FIFO, a device, a socket
or a folder in its place is named in a message instead of blocking the program forever or being
read without end (``/dev/zero``); the open itself is non-blocking, so even a FIFO swapped in
between the look and the open cannot hang it. Configuration files are read whole but never more
than :data:`CONFIG_LIMIT`. :func:`sniff` tells a file's real type from its first bytes (an SQLite
database or a gzip archive named ``.duckdb``, an Excel workbook named ``.csv``), so that it is
named before a reader misreads it.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import BinaryIO

from metrics_lib.core.errors import WorkbookError

__all__ = [
    "CONFIG_LIMIT",
    "file_kind",
    "check_regular",
    "is_regular",
    "open_regular",
    "read_config_text",
    "sniff",
]

#: The largest configuration file read (``source.yml``, ``mapping.yml``, a targets file): 1 MiB,
#: a thousand times what one needs.
CONFIG_LIMIT = 1 << 20

_KINDS = (
    (stat.S_ISDIR, "a folder"),
    (stat.S_ISFIFO, "a named pipe (FIFO)"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)

#: First bytes of the file types users hand over by mistake, and what to say of each.
_MAGIC = (
    (b"SQLite format 3\x00", "an SQLite database"),
    (b"\x1f\x8b", "a gzip-compressed file"),
    (b"PK\x03\x04", "a ZIP archive (an Excel .xlsx workbook is one)"),
    (b"PAR1", "a Parquet file"),
    (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", "an old Excel (.xls) or other Office file"),
    (b"BZh", "a bzip2-compressed file"),
    (b"\xfd7zXZ\x00", "an xz-compressed file"),
    (b"(\xb5/\xfd", "a zstd-compressed file"),
    (b"%PDF", "a PDF document"),
)


def file_kind(mode: int) -> str:
    """What a file of this ``st_mode`` is, in words (``a regular file``, ``a folder``, ...)."""
    if stat.S_ISREG(mode):
        return "a regular file"
    for test, name in _KINDS:
        if test(mode):
            return name
    return "not a regular file"


def _label(path, what: str | None) -> str:
    return f"{what} {path}" if what else str(path)


def check_regular(
    path, *, what: str | None = None, limit: int | None = None, fix: str = "give the path of a file"
) -> os.stat_result:
    """The file's :func:`os.stat`, once it is known to be a regular file (of at most ``limit``
    bytes); otherwise a :class:`WorkbookError` naming ``what`` (``--targets``, ``targets file``)
    and the path, what is there instead and the ``fix``. Never opens the file."""
    label = _label(path, what)
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise WorkbookError(f"{label}: file not found; check the path") from None
    except PermissionError:
        raise WorkbookError(
            f"{label}: permission denied; make the file readable (chmod u+r) or copy it somewhere you can read"
        ) from None
    except OSError as exc:
        raise WorkbookError(f"{label}: cannot be read ({exc.strerror or exc})") from None
    if not stat.S_ISREG(st.st_mode):
        kind = file_kind(st.st_mode)
        raise WorkbookError(f"{label}: this is {kind}, not a regular file, so it is not read; {fix}")
    if limit is not None and st.st_size > limit:
        raise WorkbookError(
            f"{label}: {st.st_size:,} bytes, more than the {limit:,} bytes ({limit >> 20} MiB) a "
            "configuration file may have; give the right file (a few lines of YAML)"
        )
    return st


def is_regular(path) -> bool:
    """Whether ``path`` is a regular file (following symbolic links), without opening it."""
    try:
        return stat.S_ISREG(os.stat(path).st_mode)
    except OSError:
        return False


def open_regular(
    path, *, what: str | None = None, limit: int | None = None, fix: str = "give the path of a file"
) -> BinaryIO:
    """``path`` opened for reading in binary, once :func:`check_regular` has passed.

    The open is non-blocking and checked again on the open descriptor, so a FIFO or device put in
    the file's place after the check is refused too, never waited on.
    """
    check_regular(path, what=what, limit=limit, fix=fix)
    flags = (
        os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0)
    )
    try:
        fd = os.open(path, flags)
    except PermissionError:
        raise WorkbookError(
            f"{_label(path, what)}: permission denied; make the file readable (chmod u+r) or copy it "
            "somewhere you can read"
        ) from None
    except OSError as exc:
        raise WorkbookError(f"{_label(path, what)}: cannot be opened ({exc.strerror or exc})") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise WorkbookError(
                f"{_label(path, what)}: this is {file_kind(st.st_mode)}, not a regular file, so it is not read"
            )
        if hasattr(os, "set_blocking"):
            os.set_blocking(fd, True)  # a regular file: reads never wait; plain reads from here on
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def read_config_text(path, *, what: str | None = None, limit: int = CONFIG_LIMIT) -> str:
    """A configuration file's text: a regular file of at most ``limit`` bytes, in UTF-8."""
    fix = "it must be a YAML file of a few lines: give the path of one, or put one in its place"
    with open_regular(path, what=what, limit=limit, fix=fix) as fh:
        data = fh.read(limit + 1)
    if len(data) > limit:  # it grew after the check
        raise WorkbookError(
            f"{_label(path, what)}: more than the {limit:,} bytes ({limit >> 20} MiB) a configuration "
            "file may have; give the right file (a few lines of YAML)"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise WorkbookError(
            f"{_label(path, what)}: not UTF-8 text (byte {exc.start}: {data[exc.start : exc.start + 1]!r}); "
            + (
                f"this is {found}, not a YAML file: give the YAML file itself, unpacked, as text"
                if (found := sniff(data))
                else "save the file as UTF-8"
            )
        ) from None


def sniff(head: bytes | os.PathLike | str) -> str | None:
    """The file type its first bytes give away (``an SQLite database``, ``a gzip-compressed
    file``, ...), or None; ``head`` is the bytes or the path of a regular file."""
    if not isinstance(head, bytes):
        try:
            with open_regular(Path(head)) as fh:
                head = fh.read(16)
        except WorkbookError:
            return None
    for magic, name in _MAGIC:
        if head.startswith(magic):
            return name
    return None
