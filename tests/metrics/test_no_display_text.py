"""Only the reporting layer writes numbers as a reader sees them (docs/architecture.md).

The layers below it (metrics, data, formulas, clv) return numbers: unrounded values, cut points,
p-values and shares as fields. A percentage (``{100 * x:.1f}%``), a thousands separator
(``{n:,}``, ``{x:,.0f}``) or percentage points (``{x:+.1f} pp``) written there is display text
in the wrong layer; :mod:`metrics_lib.reporting.format` and :mod:`metrics_lib.reporting.views`
write it instead.

Messages are allowed to show numbers as a reader reads them: text inside a ``raise``, an
exception, warning or :class:`~metrics_lib.core.errors.Problem` being built, or a result's
``reason``, and the few message-building helpers of :data:`MESSAGE_HELPERS`.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "metrics_lib"
LAYERS = ("metrics", "data", "formulas", "clv")

#: Functions (``path::qualified name``) that build messages rather than display numbers, allowed
#: to write numbers for a reader:
MESSAGE_HELPERS = {
    # returns a value problem (rows, rule, fix) that the caller turns into a Problem: the rule
    # names the largest number accepted, with separators so it can be read
    "data/parsing.py::_parse_once",
    # builds the reason a segment's pipeline metric is undefined (how many deals have no customer)
    "metrics/catalogue.py::_segment_deals",
    # the `validate` command's text report (rows per table). Display text that belongs in
    # reporting/format.py; it stays until the data layer's work on the report lands (follow-up)
    "data/validation.py::ValidationReport.to_text",
}

#: Callables whose arguments are messages: exceptions, warnings, problems, undefined reasons.
_MESSAGE_CALL = re.compile(r"(Error|Exception|Warning|Problem|^warn|^undefined|^problem_from_rows)$")

#: A format spec that writes display text: a thousands separator or a percentage.
_DISPLAY_SPEC = re.compile(r"[,_]|%$")

#: Text right after a formatted number that makes it a percentage or percentage points.
_DISPLAY_SUFFIX = re.compile(r"^(%|\s?pp\b|\s?points\b)")

#: The same in a ``str.format`` / ``%`` template.
_DISPLAY_TEMPLATE = re.compile(r"\{[^{}]*:[^{}]*(,|%)[^{}]*\}|\}(%|\s?pp\b)|%[-+ 0#]*[\d.]*[fdg]%%|% of\b")


def _spec_text(node: ast.FormattedValue) -> str:
    spec = node.format_spec
    if spec is None:
        return ""
    return "".join(v.value for v in spec.values if isinstance(v, ast.Constant))


def _display_fstring(node: ast.JoinedStr) -> bool:
    parts = node.values
    for i, part in enumerate(parts):
        if not isinstance(part, ast.FormattedValue):
            continue
        if _DISPLAY_SPEC.search(_spec_text(part)):
            return True
        nxt = parts[i + 1] if i + 1 < len(parts) else None
        if isinstance(nxt, ast.Constant) and isinstance(nxt.value, str) and _DISPLAY_SUFFIX.match(nxt.value):
            return True
    return False


def _display_template(node: ast.AST) -> bool:
    """``"{:,.0f}".format(x)``, ``format(x, ",.0f")`` and ``"%.1f%%" % x``."""
    if isinstance(node, ast.Call):
        f = node.func
        if isinstance(f, ast.Attribute) and f.attr == "format" and isinstance(f.value, ast.Constant):
            return isinstance(f.value.value, str) and bool(_DISPLAY_TEMPLATE.search(f.value.value))
        if isinstance(f, ast.Name) and f.id == "format" and len(node.args) == 2:
            spec = node.args[1]
            return isinstance(spec, ast.Constant) and bool(_DISPLAY_SPEC.search(str(spec.value)))
    if isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mod) and isinstance(node.left, ast.Constant):
        return isinstance(node.left.value, str) and bool(_DISPLAY_TEMPLATE.search(node.left.value))
    return False


def _call_name(node: ast.Call) -> str:
    f = node.func
    return f.id if isinstance(f, ast.Name) else f.attr if isinstance(f, ast.Attribute) else ""


def _in_message(chain: list[ast.AST]) -> bool:
    """Whether the node at the end of ``chain`` (its ancestors first) is part of a message."""
    for parent in chain[:-1]:
        if isinstance(parent, ast.Raise):
            return True
        if isinstance(parent, ast.Call) and _MESSAGE_CALL.search(_call_name(parent)):
            return True
        if isinstance(parent, ast.keyword) and parent.arg == "reason":
            return True
    return False


def display_text(source: str) -> list[tuple[int, str]]:
    """``(line, qualified function name)`` of each piece of display text written outside a
    message in ``source``."""
    found: list[tuple[int, str]] = []

    def visit(node: ast.AST, chain: list[ast.AST], scope: list[str]) -> None:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            scope = [*scope, node.name]
        chain = [*chain, node]
        if isinstance(node, ast.JoinedStr) and _display_fstring(node) or _display_template(node):
            if not _in_message(chain):
                found.append((node.lineno, ".".join(scope) or "<module>"))
            if isinstance(node, ast.JoinedStr):
                return  # one finding per string, not one per nested f-string
        for child in ast.iter_child_nodes(node):
            visit(child, chain, scope)

    visit(ast.parse(source), [], [])
    return found


def test_no_display_text_below_the_reporting_layer():
    offenders = []
    for layer in LAYERS:
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            rel = path.relative_to(PACKAGE).as_posix()
            for line, where in display_text(path.read_text(encoding="utf-8")):
                if f"{rel}::{where}" not in MESSAGE_HELPERS:
                    offenders.append(f"metrics_lib/{rel}:{line} (in {where})")
    assert not offenders, (
        "these lines write numbers as display text (percentages, thousands separators, "
        "percentage points) below the reporting layer; return the numbers and write the text in "
        "metrics_lib/reporting (format.py, views.py), or, for a message, build it in a raise, an "
        "exception, a Problem or a reason:\n" + "\n".join(offenders)
    )


def test_the_check_finds_display_text_and_lets_messages_be():
    source = """
def summary(c, share, n, lift):
    a = f"{100 * share:.1f}%"
    b = {"customers": f"{n:,}", "clv": f"{c:,.0f}"}
    c = f"lift of {lift:+.1f} pp"
    d = "{:,.2f}".format(c)
    e = "%.1f%%" % share
    f = f"{n} customers, {share:.3f} of the year"  # a number, not display text
    if n > 1_000_000:
        raise ValueError(f"{n:,} rows is more than the {1_000_000:,} allowed")
    warnings.warn(f"only {100 * share:.0f}% answered")
    return ValueResult(float("nan"), reason=f"only {n:,} customers")
"""
    assert display_text(source) == [(n, "summary") for n in (3, 4, 4, 5, 6, 7)]
