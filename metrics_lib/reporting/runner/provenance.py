"""Where a report run comes from: the project folder, the installed versions of the packages a
report depends on, the project's git commit and the UTC timestamps written into manifests."""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

_VERSIONED = {
    "metrics_lib": "metrics-lib",
    "pandas": "pandas",
    "duckdb": "duckdb",
    "ibis": "ibis-framework",
    "papermill": "papermill",
    "nbconvert": "nbconvert",
}


def project_root() -> Path:
    """The project folder (where ``notebooks/`` and the demo data live)."""
    from metrics_lib.data import PROJECT_ROOT

    return PROJECT_ROOT


def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a report depends on (``None`` when absent)."""
    from importlib import metadata

    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for key, dist in _VERSIONED.items():
        try:
            out[key] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[key] = None
    if out["metrics_lib"] is None:
        from metrics_lib import __version__

        out["metrics_lib"] = __version__
    return out


def git_state(root: Path | None = None) -> dict[str, object]:
    """The project's commit and whether tracked files differ from it; ``None`` without git."""
    root = root or project_root()

    def git(*args):
        return subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=10, check=True
        ).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    try:
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        dirty = None
    return {"commit": commit, "dirty": dirty}


def now() -> str:
    """The current UTC time to the second, ISO 8601, as written into manifests."""
    return datetime.now(UTC).isoformat(timespec="seconds")
