"""Each module of metrics_lib uses only what its siblings make public.

A name with a leading underscore belongs to its module: another module that imports it depends on
a detail its owner may change without warning. What a sibling needs is public (no underscore,
with a docstring). The layering itself (imports point down, no cycles) is import-linter's job
(``make lint``); this test checks the names.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parent.parent / "metrics_lib"


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _private_imports(source: str, module: str, *, is_package: bool = False) -> list[tuple[int, str, str]]:
    """``(line, imported from, name)`` for every underscore name ``module`` imports from another
    metrics_lib module (dunder names such as ``__version__`` are public by convention)."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.ImportFrom):
            continue
        if node.level:  # a relative import: resolve it against this module's package
            base = module.split(".") if is_package else module.split(".")[:-1]
            base = base[: len(base) - (node.level - 1)]
            target = ".".join(base + ([node.module] if node.module else []))
        else:
            target = node.module or ""
        if target != "metrics_lib" and not target.startswith("metrics_lib."):
            continue
        for alias in node.names:
            name = alias.name
            if name.startswith("_") and not (name.startswith("__") and name.endswith("__")):
                found.append((node.lineno, target, name))
    return found


def test_no_module_imports_a_private_name_from_another():
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        module = _module_name(path)
        source = path.read_text(encoding="utf-8")
        for line, target, name in _private_imports(source, module, is_package=path.name == "__init__.py"):
            offenders.append(f"{path.relative_to(PACKAGE.parent)}:{line}: from {target} import {name}")
    assert not offenders, (
        "these modules import a private name from another module; make the name public in its "
        "module (drop the underscore, give it a docstring) and import that:\n" + "\n".join(offenders)
    )


def test_the_check_finds_absolute_and_relative_private_imports():
    source = (
        "from metrics_lib.metrics.aggregate import Scope, _count\n"
        "from .publish import _page as page\n"
        "from metrics_lib import __version__\n"
        "from pandas import _libs\n"
    )
    assert _private_imports(source, "metrics_lib.reporting.runner.run") == [
        (1, "metrics_lib.metrics.aggregate", "_count"),
        (2, "metrics_lib.reporting.runner.publish", "_page"),
    ]
