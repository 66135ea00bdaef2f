"""Targets of the headline metrics and the status of a value against its target.

:class:`Target` is one metric's goal (value, better direction, tolerance); :func:`read_targets`
reads them from a YAML file, :func:`default_targets_path` finds the file that applies to a data
source (beside it, else the package's :data:`DEFAULT_TARGETS`), and :func:`status_for` grades a
value as on target, near, off, no target or undefined.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

from metrics_lib.core.errors import WorkbookError
from metrics_lib.data.config import read_yaml_config
from metrics_lib.metrics.catalogue import HEADLINE

#: The package's targets, used when no ``targets.yml`` lies beside the data.
DEFAULT_TARGETS = Path(__file__).with_name("default_targets.yml")

__all__ = ["DEFAULT_TARGETS", "Target", "read_targets", "default_targets_path", "status_for"]


@dataclass(frozen=True)
class Target:
    metric: str
    target: float
    direction: str  # "higher" or "lower" is better
    near: float = 0.0


def read_targets(path, *, what: str | None = None) -> dict[str, Target]:
    """Targets from a YAML file: ``targets: {metric: {target, direction, near}}``, read by the one
    bounded reader of configuration files; ``what`` (``--targets``) names where the path came from."""
    path = Path(path)
    raw = read_yaml_config(path, what=what or "targets file")
    entries = raw.get("targets")
    if not isinstance(entries, dict):
        raise WorkbookError(
            f"{path}: expected a `targets:` mapping of metric ids to {{target, direction, near}}"
        )
    out = {}
    for metric, spec in entries.items():
        if metric not in HEADLINE:
            raise WorkbookError(f"{path}: `{metric}` is not a headline metric; known: {', '.join(HEADLINE)}")
        if not isinstance(spec, dict) or "target" not in spec:
            raise WorkbookError(f"{path}: `{metric}` needs at least `target:` (and `direction:`, `near:`)")
        direction = spec.get("direction", HEADLINE[metric].direction)
        if direction not in ("higher", "lower"):
            raise WorkbookError(f"{path}: `{metric}` direction {direction!r} must be 'higher' or 'lower'")
        try:
            out[metric] = Target(metric, float(spec["target"]), direction, float(spec.get("near", 0.0)))
        except (TypeError, ValueError):
            raise WorkbookError(f"{path}: `{metric}` target and near must be numbers") from None
    return out


def default_targets_path(source) -> Path:
    """``targets.yml`` beside a folder source (``<name>.targets.yml`` beside a DuckDB file) when it
    exists, else the package's defaults (also for databases, which have no folder)."""
    if source.kind == "folder":
        beside = source.path / "targets.yml"
    elif source.kind == "duckdb":
        beside = source.path.with_suffix(".targets.yml")
    else:
        return DEFAULT_TARGETS
    return beside if beside.exists() else DEFAULT_TARGETS


def status_for(value: float, target: Target | None) -> str:
    """``on target``, ``near`` (within the tolerance), ``off``, ``no target`` or ``undefined``.

    Examples
    --------
    >>> status_for(0.82, Target("csat", 0.80, "higher", 0.05))
    'on target'
    >>> status_for(0.77, Target("csat", 0.80, "higher", 0.05))
    'near'
    >>> status_for(0.04, Target("churn_rate", 0.03, "lower", 0.005))
    'off'
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "undefined"
    if target is None:
        return "no target"
    gap = value - target.target if target.direction == "higher" else target.target - value
    if gap >= 0:
        return "on target"
    return "near" if -gap <= target.near + 1e-9 * max(1.0, abs(target.target)) else "off"
