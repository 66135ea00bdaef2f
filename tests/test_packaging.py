"""The project's own files agree: environment.yml with pyproject.toml, the Makefile with its help."""

from __future__ import annotations

import re
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def environment() -> dict:
    return yaml.safe_load((ROOT / "environment.yml").read_text(encoding="utf-8"))


def _conda_name_version(spec: str) -> tuple[str, str]:
    name, _, version = re.match(r"^([A-Za-z0-9_.-]+)\s*(=*|[<>!~]=?)\s*(.*)$", spec).groups()
    return name, version


def test_environment_python_agrees_with_requires_python(pyproject, environment):
    requires = SpecifierSet(pyproject["project"]["requires-python"])
    pythons = [
        d
        for d in environment["dependencies"]
        if isinstance(d, str) and d.startswith("python") and _conda_name_version(d)[0] == "python"
    ]
    assert len(pythons) == 1, pythons
    version = _conda_name_version(pythons[0])[1]
    assert version in requires
    # conda gets the oldest supported Python, so the lower bound is what it tests
    lower = [s.version for s in requires if s.operator == ">="]
    assert lower == [version]


def test_environment_installs_the_package_with_dev_extras(pyproject, environment):
    pip = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict) and "pip" in d]
    assert pip == [["-e .[dev]"]]
    assert "pip" in environment["dependencies"]
    assert "dev" in pyproject["project"]["optional-dependencies"]


def test_environment_lists_no_package_that_pyproject_does_not(pyproject, environment):
    project = pyproject["project"]
    declared = {
        canonicalize_name(Requirement(r).name)
        for r in project["dependencies"] + sum(project["optional-dependencies"].values(), [])
    }
    conda = {
        canonicalize_name(_conda_name_version(d)[0])
        for d in environment["dependencies"]
        if isinstance(d, str)
    } - {"python", "pip"}
    pip = {
        canonicalize_name(Requirement(d).name)
        for entry in environment["dependencies"]
        if isinstance(entry, dict)
        for d in entry.get("pip", [])
        if not d.startswith("-e")
    }
    assert conda | pip <= declared, sorted((conda | pip) - declared)


def _makefile_targets() -> dict[str, str]:
    """Each explicit target of the Makefile and the rest of its rule line (its ``##`` help, if any)."""
    targets = {}
    for line in (ROOT / "Makefile").read_text(encoding="utf-8").splitlines():
        m = re.match(r"^([A-Za-z0-9_.-]+)\s*:(?!=)(.*)$", line)
        if m and not m[1].startswith("."):
            targets[m[1]] = m[2]
    return targets


def test_every_makefile_target_has_a_help_comment():
    targets = _makefile_targets()
    assert {"help", "install", "report", "test", "validate"} <= set(targets)
    assert [t for t, rest in targets.items() if not re.search(r"##\s*\S", rest)] == []


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
def test_make_help_lists_the_targets():
    r = subprocess.run(
        ["make", "--no-print-directory", "help"], cwd=ROOT, capture_output=True, text=True, timeout=60
    )
    assert r.returncode == 0, r.stderr
    listed = {line.split()[1] for line in r.stdout.splitlines() if line.startswith("  make ")}
    assert {"report", "test"} <= listed
    assert listed == set(_makefile_targets())


def test_no_module_of_the_package_grows_past_700_lines():
    """Big modules hide their structure; split by what the code does before one grows past 700."""
    long = {
        str(p.relative_to(ROOT)): n
        for p in (ROOT / "metrics_lib").rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 700
    }
    assert not long, f"modules over 700 lines: {long}"


def test_the_package_data_ships_the_templates_and_default_targets():
    """pyproject's package-data must name files that exist, or an installed copy cannot render."""
    data = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-data"]
    for pattern in data["metrics_lib"]:
        assert list((ROOT / "metrics_lib").glob(pattern)), f"package-data pattern {pattern!r} matches no file"
    assert (ROOT / "metrics_lib" / "metrics" / "default_targets.yml").is_file()
    assert (ROOT / "metrics_lib" / "reporting" / "templates" / "metrics_offline.html.j2").is_file()
