"""Broken sources nobody wrote down: a property-based fuzz test of ``validate`` and ``metrics``.

Starting from the small valid source of ``conftest.py`` (``valid_tables`` / ``write_source``),
hypothesis breaks one to three things in it, the way files arrive from other tools or careless
hands: bytes inserted, replaced or cut (NUL, ESC, BEL, stray quotes, line breaks, bytes that are
not UTF-8), a cell replaced by an odd value (``inf``, ``1e300``, a 20-digit number, ``0001-01-01``,
``9999-12-31``, a partial date, an hour-only offset, a formula, a very long text), a header renamed,
doubled, emptied or dropped, the whole file re-encoded (Latin-1, UTF-16, a byte order mark,
Windows line ends, semicolons for commas) or cut short. Whatever it gets, the command line must
keep its promises:

* ``validate`` exits 0 (clean), 1 (problems found) or 2 (an error it explains), ``metrics`` 0 or 2;
* no traceback and no "unexpected" crash reach the user;
* the input files are byte-identical afterwards, and no file is added beside them.

The run is bounded and reproducible: ``derandomize=True`` makes hypothesis draw the same examples
on every run (so CI and a laptop see the same inputs), ``max_examples`` keeps it to a minute or
so, and a failure prints the exact mutation to replay.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import tempfile
from pathlib import Path

from conftest import valid_tables, write_source
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from metrics_lib import cli

TABLES = sorted(valid_tables())

#: Values users' tools write into cells: each has broken a reader somewhere.
ODD_VALUES = [
    "",
    " ",
    "NaN",
    "nan",
    "inf",
    "-inf",
    "Infinity",
    "1e300",
    "-1e300",
    "1e500",
    "1e-400",
    "12345678901234567890",
    "18446744073709551615",
    "-9223372036854775809",
    "0x1F",
    "1_000",
    "1.234,56",
    "€12",
    "12 %",
    "-0",
    "7.5",
    "٣",
    "true",
    "yes",
    "TRUE",
    "0001-01-01",
    "9999-12-31",
    "2262-04-12",
    "1677-09-21",
    "2025",
    "2025-03",
    "2025-02-30",
    "2025-13-01",
    "31/12/2025",
    "2025-02-02 09:00:00+05",
    "2025-02-02T09:00:00Z",
    "2025-02-02 25:61:00",
    "C1 ",
    " C1",
    "c1",
    '=HYPERLINK("http://x","y")',
    "@SUM(A1)",
    "+cmd|' /C calc'!A0",
    "\x1b[2J\x1b[31mred",
    "bell\x07",
    "nul\x00byte",
    "tab\there",
    "line\nbreak",
    "cr\rreturn",
    'quote"inside',
    "'single",
    "\u202eevil",
    "\ufeffbom",
    "x" * 5000,
    "None",
    "NULL",
    "-",
]

#: Bytes inserted or written over the file's own.
ODD_BYTES = [
    b"\x00",
    b"\x1b",
    b"\x07",
    b'"',
    b",",
    b"\n",
    b"\r",
    b"\r\n",
    b";",
    b"\t",
    b"\xff",
    b"\xe9",
    b"\xc3",
    b"\xef\xbb\xbf",
    b"\x1f\x8b",
    b"\\",
    b"=",
    b" ",
]


def _text(data: bytes) -> str:
    """The file as text, whatever an earlier mutation did to its bytes (they round-trip)."""
    return data.decode("utf-8", "surrogateescape")


def _cells(data: bytes) -> list[list[str]]:
    return [line.split(",") for line in _text(data).split("\n")]


def _join(rows: list[list[str]]) -> bytes:
    return "\n".join(",".join(r) for r in rows).encode("utf-8", "surrogateescape")


@st.composite
def mutation(draw):
    """One change to one file: ``(table, kind, function from bytes to bytes)``; the kind and its
    arguments are in the repr so a failing example says what was done."""
    table = draw(st.sampled_from(TABLES))
    kind = draw(st.sampled_from(["bytes", "cell", "header", "encoding", "structure"]))
    if kind == "bytes":
        op = draw(st.sampled_from(["insert", "replace", "delete"]))
        at = draw(st.floats(0, 1))
        chunk = draw(st.sampled_from(ODD_BYTES) | st.binary(min_size=1, max_size=8))

        def change(data: bytes) -> bytes:
            i = int(at * len(data))
            if op == "insert":
                return data[:i] + chunk + data[i:]
            if op == "replace":
                return data[:i] + chunk + data[i + len(chunk) :]
            return data[:i] + data[i + len(chunk) :]

        return table, (kind, op, at, chunk), change
    if kind == "cell":
        row = draw(st.integers(1, 4))
        col = draw(st.integers(0, 9))
        value = draw(st.sampled_from(ODD_VALUES) | st.text(max_size=12))
        quote = draw(st.booleans())

        def change(data: bytes) -> bytes:
            rows = _cells(data)
            r = rows[max(0, min(row, len(rows) - 2))]
            cell = '"' + value.replace('"', '""') + '"' if quote else value
            r[col % len(r)] = cell
            return _join(rows)

        return table, (kind, row, col, value, quote), change
    if kind == "header":
        op = draw(st.sampled_from(["rename", "double", "empty", "drop", "pad", "add"]))
        col = draw(st.integers(0, 9))
        name = draw(
            st.sampled_from(["", " ", "Order ID", "revenue\x1b[1m", "REVENUE", "a;b", "x" * 300])
            | st.text(max_size=10)
        )

        def change(data: bytes) -> bytes:
            rows = _cells(data)
            head = rows[0]
            i = col % len(head)
            if op == "rename":
                head[i] = name
            elif op == "double":
                head[i] = head[(i + 1) % len(head)]
            elif op == "empty":
                head[i] = ""
            elif op == "pad":
                head[i] = f" {head[i]} "
            elif op == "add":
                for r in rows:
                    r.append(name if r is head else "1")
            else:
                for r in rows:
                    if i < len(r):
                        del r[i]
            return _join(rows)

        return table, (kind, op, col, name), change
    if kind == "encoding":
        enc = draw(
            st.sampled_from(
                [
                    "latin-1 é",
                    "utf-16",
                    "utf-16-be",
                    "bom",
                    "double bom",
                    "crlf",
                    "cr",
                    "semicolons",
                    "tabs",
                    "gzip",
                    "no final newline",
                ]
            )
        )

        def change(data: bytes) -> bytes:
            text = _text(data)
            if enc == "latin-1 é":
                text = text.replace("north", "Nørth é", 1).replace("spring", "Frühling", 1)
                return text.encode("latin-1", "replace")
            if enc in ("utf-16", "utf-16-be"):
                return text.encode(enc, "replace")
            if enc == "bom":
                return b"\xef\xbb\xbf" + data
            if enc == "double bom":
                return b"\xef\xbb\xbf\xef\xbb\xbf" + data
            if enc == "crlf":
                return data.replace(b"\n", b"\r\n")
            if enc == "cr":
                return data.replace(b"\n", b"\r")
            if enc == "semicolons":
                return data.replace(b",", b";")
            if enc == "tabs":
                return data.replace(b",", b"\t")
            if enc == "gzip":
                import gzip

                return gzip.compress(data, mtime=0)
            return data.rstrip(b"\n")

        return table, (kind, enc), change
    op = draw(
        st.sampled_from(
            ["truncate", "duplicate line", "delete line", "blank lines", "empty", "header only", "swap lines"]
        )
    )
    at = draw(st.floats(0, 1))

    def change(data: bytes) -> bytes:
        lines = data.split(b"\n")
        i = int(at * (len(lines) - 1))
        if op == "truncate":
            return data[: int(at * len(data))]
        if op == "duplicate line":
            return b"\n".join(lines[: i + 1] + lines[i:])
        if op == "delete line":
            return b"\n".join(lines[:i] + lines[i + 1 :])
        if op == "blank lines":
            return b"\n".join(lines[:i] + [b"", b"  ", b""] + lines[i:])
        if op == "empty":
            return b""
        if op == "header only":
            return lines[0] + b"\n"
        j = (i + 1) % len(lines)
        lines[i], lines[j] = lines[j], lines[i]
        return b"\n".join(lines)

    return table, (kind, op, at), change


def _fingerprint(folder: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def _run(argv: list[str]) -> tuple[int, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli.main(argv)
        except SystemExit as exc:  # argparse
            code = exc.code
    return code, out.getvalue() + err.getvalue()


@settings(
    max_examples=60,
    deadline=None,
    derandomize=True,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(st.lists(mutation(), min_size=1, max_size=3))
def test_mutated_sources_get_a_message_never_a_crash_and_stay_untouched(mutations):
    with tempfile.TemporaryDirectory() as tmp:
        folder = write_source(Path(tmp) / "data", valid_tables())
        for table, _what, change in mutations:
            path = folder / f"{table}.csv"
            path.write_bytes(change(path.read_bytes()))
        before = _fingerprint(folder)

        code, text = _run(["validate", "--data", str(folder)])
        assert code in (0, 1, 2), f"validate exited {code}:\n{text}"
        assert "Traceback" not in text and "unexpected" not in text, text
        assert "\x1b" not in text and "\x07" not in text and "\x00" not in text, (
            "raw control characters printed"
        )

        code, text = _run(["metrics", "--data", str(folder), "--period", "2025-Q1"])
        assert code in (0, 2), f"metrics exited {code}:\n{text}"
        assert "Traceback" not in text and "unexpected" not in text, text
        assert "\x1b" not in text and "\x07" not in text and "\x00" not in text, (
            "raw control characters printed"
        )

        assert _fingerprint(folder) == before, "an input file was changed, removed or added"
