"""The one reader of the settings files (``source.yml``, ``mapping.yml``, ``targets.yml``): YAML
read safely and within bounds, and each setting checked for its type and range, with a message
naming the file, the setting, the value as YAML writes it, what is allowed and an example line.
"""

from __future__ import annotations

import difflib
from datetime import date, datetime
from pathlib import Path

import pandas as pd
import yaml

from metrics_lib.core.errors import WorkbookError
from metrics_lib.core.periods import FIRST_YEAR, LAST_YEAR, PeriodError, parse_period
from metrics_lib.data import contract as C
from metrics_lib.data.safe_io import read_config_text

__all__ = ["SettingsReader", "read_yaml_config", "read_yaml_text"]

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


class SettingsReader:
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
    (:class:`SettingsReader`), so that ``2024-13-01`` is named with its setting instead of stopping the
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
