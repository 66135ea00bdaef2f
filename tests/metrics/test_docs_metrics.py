"""docs/metrics.md documents exactly the metrics that `metrics` prints, and no document of the
repository links outside it (users of the repository have nothing beside it)."""

from __future__ import annotations

import contextlib
import io
import json
import re
from pathlib import Path

import pytest

from metrics_lib.cli import main
from metrics_lib.data import DEMO_DATA, PROJECT_ROOT

DOC = PROJECT_ROOT / "docs" / "metrics.md"

# the repository's documents and text files that could link somewhere
LINKING_FILES = (
    "README.md",
    "docs/*.md",
    "bench/README.md",
    "notebooks/*.ipynb",
    "Makefile",
    "pyproject.toml",
    "environment.yml",
)

FAMILY_HEADING = re.compile(r"^## .*\(family `([a-z_]+)`\)\s*$")
METRIC_HEADING = re.compile(r"^### `([a-z0-9_]+)`")
SUMMARY_ROW = re.compile(r"^\| `([a-z0-9_]+)` \|(.*)\|\s*$")


def _print(period: str) -> dict[str, dict]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["metrics", "--data", str(DEMO_DATA), "--period", period, "--format", "json"])
    assert code == 0, err.getvalue()
    return json.loads(out.getvalue())["metrics"]


@pytest.fixture(scope="module")
def printed() -> dict[str, dict]:
    """The metrics `metrics --format json` prints for the demo data, run in-process."""
    return _print("2025-Q4")


@pytest.fixture(scope="module")
def settled() -> dict[str, dict]:
    """The same for 2025-Q3, whose close window has passed (2025-Q4's has not, so its close rate
    is not compared and prints no test)."""
    return _print("2025-Q3")


@pytest.fixture(scope="module")
def doc() -> str:
    return DOC.read_text(encoding="utf-8")


def _sections(doc: str) -> dict[str, str | None]:
    """Each documented metric id and the family of the section its heading is in."""
    family, out = None, {}
    for line in doc.splitlines():
        if line.startswith("## "):
            m = FAMILY_HEADING.match(line)
            family = m[1] if m else None
        elif m := METRIC_HEADING.match(line):
            assert m[1] not in out, f"`{m[1]}` has two entries in {DOC.name}"
            out[m[1]] = family
    return out


def _summary_rows(doc: str) -> dict[str, list[str]]:
    """The cells after the id of each row of the families' summary tables."""
    family, rows = None, {}
    for line in doc.splitlines():
        if line.startswith("## "):
            family = FAMILY_HEADING.match(line)
        elif family and (m := SUMMARY_ROW.match(line)):
            rows[m[1]] = [cell.strip() for cell in m[2].split("|")]
    return rows


def test_every_printed_metric_is_documented(printed, doc):
    assert len(printed) >= 30
    documented = _sections(doc)
    missing = [mid for mid in printed if f"`{mid}`" not in doc or mid not in documented]
    assert not missing, f"{DOC.name} has no `### `id`` entry for: {', '.join(missing)}"


def test_no_documented_metric_is_unknown(printed, doc):
    unknown = sorted((set(_sections(doc)) | set(_summary_rows(doc))) - set(printed))
    assert not unknown, f"{DOC.name} documents metrics that `metrics` does not print: {unknown}"


def test_each_metric_is_documented_in_its_family(printed, doc):
    sections = _sections(doc)
    wrong = {
        mid: (sections.get(mid), rec["family"])
        for mid, rec in printed.items()
        if sections.get(mid) != rec["family"]
    }
    assert not wrong, f"(section in {DOC.name}, family printed) differ: {wrong}"


def test_summary_tables_match_unit_direction_and_test(printed, settled, doc):
    """Each family's table row gives the unit, the better direction and the change test that the
    JSON prints (the demo data defines every metric, so every test is run; a metric not comparable
    in 2025-Q4 is read from 2025-Q3)."""
    rows = _summary_rows(doc)
    assert set(rows) == set(printed), f"summary rows missing for {sorted(set(printed) - set(rows))}"
    for mid, rec in printed.items():
        _name, unit, better, _interval, test = rows[mid]
        tested = settled[mid] if rec.get("comparison") else rec
        assert not tested.get("comparison"), f"{mid}: {tested['comparison']}"
        assert (unit, better, test) == (rec["unit"], rec["direction"], tested.get("test") or "none"), mid


def _linking_files() -> list[Path]:
    files = sorted({p for pattern in LINKING_FILES for p in PROJECT_ROOT.glob(pattern)})
    assert PROJECT_ROOT / "README.md" in files and DOC in files
    return files


def _texts(path: Path) -> list[str]:
    """The text of a file; for a notebook, the source of each cell."""
    raw = path.read_text(encoding="utf-8")
    if path.suffix != ".ipynb":
        return [raw]
    cells = json.loads(raw).get("cells", [])
    return ["".join(c["source"]) if isinstance(c["source"], list) else c["source"] for c in cells]


MARKDOWN_LINK = re.compile(r"\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
HTML_LINK = re.compile(r"""(?:href|src)\s*=\s*["']([^"']+)["']""")
RELATIVE_PATH = re.compile(r"""(?<![\w.~/-])((?:\.\./)+[^\s"'`)<>\]]*)""")


def _targets(text: str) -> tuple[list[str], list[str]]:
    """(link targets, other paths that start with ../) in a text."""
    links = MARKDOWN_LINK.findall(text) + HTML_LINK.findall(text)
    return links, RELATIVE_PATH.findall(text)


def _inside(base: Path, target: str) -> bool:
    target = target.split("#", 1)[0].split("?", 1)[0]
    if not target:
        return True
    where = PROJECT_ROOT / target.lstrip("/") if target.startswith("/") else base / target
    return where.resolve().is_relative_to(PROJECT_ROOT.resolve())


def _is_url(target: str) -> bool:
    return bool(re.match(r"^[a-zA-Z][a-zA-Z0-9+.-]*:", target))


def test_no_document_links_outside_the_repository():
    outside = []
    for path in _linking_files():
        rel = path.relative_to(PROJECT_ROOT)
        for text in _texts(path):
            if "../shared" in text:
                outside.append(f"{rel}: mentions ../shared")
            links, paths = _targets(text)
            for target in [t for t in links if not _is_url(t)] + paths:
                if not _inside(path.parent, target):
                    outside.append(f"{rel}: {target}")
    assert not outside, "links or paths that climb out of the repository:\n" + "\n".join(outside)


def test_relative_links_of_the_documents_resolve():
    broken = []
    for path in _linking_files():
        if path.suffix != ".md":
            continue
        links, _ = _targets(path.read_text(encoding="utf-8"))
        for target in links:
            file_part = target.split("#", 1)[0]
            if _is_url(target) or not file_part:
                continue
            if not (path.parent / file_part).exists():
                broken.append(f"{path.relative_to(PROJECT_ROOT)}: {target}")
    assert not broken, "links to files that do not exist:\n" + "\n".join(broken)


def test_readme_links_the_metric_definitions():
    readme = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")
    assert "](docs/metrics.md)" in readme
