"""Arrow columns of the demo tables: the schemas from the data contract and column builders.

:data:`SCHEMAS` holds the Arrow schema of every table, taken from the data contract (the one
place tables are declared); the builders turn numpy arrays of codes, day numbers and
microseconds into Arrow id, label, date and timestamp columns, with nulls where not valid.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from metrics_lib.data.contract import TABLES, arrow_schema

#: The Arrow schema of each table, from the data contract (the one place tables are declared).
SCHEMAS: dict[str, pa.Schema] = {name: arrow_schema(spec) for name, spec in TABLES.items()}


def flat(texts_by_tone) -> list[str]:
    return [text for texts in texts_by_tone for text in texts]


def id_width(count: int, minimum: int) -> int:
    """Digits needed for ids up to ``count``, at least ``minimum``."""
    return max(minimum, len(str(int(count))))


def ids(prefix: str, numbers: np.ndarray, width: int, *, valid: np.ndarray | None = None) -> pa.Array:
    """Fixed-width ids such as ``C0000042``, built as Arrow buffers without Python strings."""
    numbers = np.asarray(numbers, dtype=np.int64)
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    step = head.size + width
    chars = np.empty((numbers.size, step), dtype=np.uint8)
    chars[:, : head.size] = head
    rest = np.maximum(numbers, 0)
    for position in range(step - 1, head.size - 1, -1):
        chars[:, position] = 48 + rest % 10
        rest //= 10
    total = numbers.size * step
    offsets = np.arange(0, total + 1, step, dtype=np.int64 if total >= 2**31 else np.int32)
    kind = pa.large_string() if offsets.dtype == np.int64 else pa.string()
    bitmap, nulls = None, 0
    if valid is not None:
        bitmap = pa.py_buffer(np.packbits(np.asarray(valid, dtype=bool), bitorder="little"))
        nulls = int(numbers.size - np.count_nonzero(valid))
    buffers = [bitmap, pa.py_buffer(offsets), pa.py_buffer(chars)]
    array = pa.Array.from_buffers(kind, numbers.size, buffers, nulls)
    return array.cast(pa.string()) if kind != pa.string() else array


def labels(names, codes: np.ndarray, *, valid: np.ndarray | None = None) -> pa.Array:
    """Strings picked from ``names`` by integer code; null where ``valid`` is False."""
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    index = pa.array(np.asarray(codes, dtype=np.int32), mask=mask)
    return pa.array(list(names), pa.string()).take(index)


def dates(days: np.ndarray, *, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(np.asarray(days, dtype=np.int32), pa.int32(), mask=mask).cast(pa.date32())


def timestamps(micros: np.ndarray, *, valid: np.ndarray | None = None) -> pa.Array:
    mask = None if valid is None else ~np.asarray(valid, dtype=bool)
    return pa.array(np.asarray(micros, dtype=np.int64), pa.int64(), mask=mask).cast(pa.timestamp("us"))
