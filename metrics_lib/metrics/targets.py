"""Targets of the headline metrics and the status of a value against its target.

:class:`Target` is one metric's goal (value, better direction, tolerance, and for a metric that
grows with the period's length the length it is set for); :func:`read_targets` reads them from a
YAML file over the package's :data:`DEFAULT_TARGETS` (a file that sets a few metrics keeps the
defaults of the others), :func:`targets_from_mapping` takes them from a mapping such as
``{"nps": 40}`` (a report's ``targets`` parameter), :func:`resolve_targets` finds the ones that
apply to a data source, and :func:`status_for` grades a value as on target, near, off, no target
or undefined.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from metrics_lib.core.errors import WorkbookError
from metrics_lib.data.config import read_yaml_config, read_yaml_text
from metrics_lib.metrics.catalogue import HEADLINE

#: The package's targets, used when no ``targets.yml`` lies beside the data.
DEFAULT_TARGETS = Path(__file__).with_name("default_targets.yml")

__all__ = [
    "DEFAULT_TARGETS",
    "Target",
    "read_targets",
    "targets_from_mapping",
    "resolve_targets",
    "default_targets_path",
    "status_for",
    "applicable",
    "COMPANY_TOTALS",
]

#: Months in each period length a target may be set ``per``.
PER_MONTHS = {"month": 1, "quarter": 3, "year": 12}

#: How a target set per one period length carries over to another: totals over the period in
#: proportion to its length; the share lost (churn) and the shares kept (retention, revenue
#: retention) compound, as churn converts between period lengths (docs/metrics.md).
_SCALING = {
    "revenue": "total",
    "gross_profit": "total",
    "orders": "total",
    "new_customers": "total",
    "churn_rate": "lost",
    "retention_rate": "kept",
    "net_revenue_retention": "kept",
    "gross_revenue_retention": "kept",
    # MRR movements and first-year revenue are sums over the period, like revenue
    "new_revenue": "total",
    "mrr_new": "total",
    "mrr_expansion": "total",
    "mrr_reactivation": "total",
    "mrr_contraction": "total",
    "mrr_churned": "total",
}

#: Rates that depend on the period's length with no defined conversion between lengths (a longer
#: period gives each buyer more days to buy again or upsell): a target set ``per`` a length
#: applies to reports of that length only.
_PER_ONLY = frozenset({"repeat_customer_rate", "upsell_rate", "quick_ratio", "retention_cost_per_client"})

#: Totals and counts of the whole business: a segment's value is a part of them, so their
#: targets apply to the company, not to a segment (unless the targets file sets the segment's).
COMPANY_TOTALS = frozenset(
    {m for m, how in _SCALING.items() if how == "total"} | {"active_customers", "sales_velocity"}
)

_LENGTH_NAMES = {months: name for name, months in PER_MONTHS.items()}


@dataclass(frozen=True)
class Target:
    """One metric's goal; ``per_months`` is the period length it is set for (None: any length)."""

    metric: str
    target: float
    direction: str  # "higher" or "lower" is better
    near: float = 0.0
    per_months: int | None = None
    #: targets the file sets for segments (``segments: {SMB: {revenue: ...}}``): (segment, Target)
    segments: tuple = field(default=(), repr=False)

    def for_months(self, months: int) -> Target:
        """The target for a period of ``months`` months.

        Examples
        --------
        >>> Target("revenue", 300.0, "higher", 30.0, per_months=3).for_months(1).target
        100.0
        >>> round(Target("churn_rate", 0.0784, "lower", 0.0, per_months=12).for_months(3).target, 4)
        0.0202
        """
        if self.per_months is None or months == self.per_months:
            return self
        if self.metric in _PER_ONLY:
            raise WorkbookError(f"`{self.metric}` has no conversion between period lengths")
        k = months / self.per_months
        how = _SCALING[self.metric]
        if how == "total":
            return replace(self, target=self.target * k, near=self.near * k, per_months=months)
        if how == "lost":
            scale = lambda c: 1 - (1 - c) ** k  # noqa: E731
        else:
            scale = lambda r: r**k  # noqa: E731
        low = scale(self.target) - abs(scale(self.target - self.near) - scale(self.target))
        target = scale(self.target)
        return replace(self, target=target, near=target - low, per_months=months)


def _entry(metric, spec, where: str, base: Target | None) -> Target:
    """One target from its entry ``spec``: a number, or ``{target, direction, near, per}``."""
    if metric not in HEADLINE:
        raise WorkbookError(f"{where}: `{metric}` is not a headline metric; known: {', '.join(HEADLINE)}")
    if isinstance(spec, (int, float)) and not isinstance(spec, bool):
        spec = {"target": spec}
    if not isinstance(spec, dict) or "target" not in spec:
        raise WorkbookError(f"{where}: `{metric}` needs at least `target:` (and `direction:`, `near:`)")
    direction = spec.get("direction", HEADLINE[metric].direction)
    if direction not in ("higher", "lower"):
        raise WorkbookError(f"{where}: `{metric}` direction {direction!r} must be 'higher' or 'lower'")
    per = spec.get("per")
    per_ok = metric in _SCALING or metric in _PER_ONLY
    if per is not None and (per not in PER_MONTHS or not per_ok):
        allowed = f"one of {', '.join(PER_MONTHS)}" if per_ok else "left out"
        raise WorkbookError(
            f"{where}: `{metric}` per {per!r} must be {allowed} (only these metrics depend on the "
            f"period's length: {', '.join([*_SCALING, *sorted(_PER_ONLY)])})"
        )
    # what an entry leaves out it keeps from the target it replaces: tolerance and period length
    near = spec["near"] if "near" in spec else (base.near if base is not None else 0.0)
    months = PER_MONTHS[per] if per is not None else (base.per_months if base is not None else None)
    try:
        # a segment's own targets stay with the metric when a mapping replaces its company target
        segments = base.segments if base is not None else ()
        return Target(metric, float(spec["target"]), direction, float(near), months, segments=segments)
    except (TypeError, ValueError):
        raise WorkbookError(f"{where}: `{metric}` target and near must be numbers") from None


def _entries(entries, where: str, base: Mapping[str, Target]) -> dict[str, Target]:
    if not isinstance(entries, dict):
        raise WorkbookError(
            f"{where}: expected a `targets:` mapping of metric ids to {{target, direction, near}}"
        )
    return {str(m): _entry(m, spec, where, base.get(m)) for m, spec in entries.items()}


def _with_segments(targets: dict[str, Target], raw, where: str) -> dict[str, Target]:
    """``targets`` with the segments' own targets of a ``segments: {name: {metric: spec}}``
    mapping attached to each metric's company target (a segment's entry keeps what it leaves out
    from the company's target)."""
    if raw is None:
        return targets
    if not isinstance(raw, dict) or not all(isinstance(v, dict) for v in raw.values()):
        raise WorkbookError(f"{where}: expected `segments:` to map segment names to targets of metrics")
    out = dict(targets)
    for segment, entries in raw.items():
        for metric, spec in entries.items():
            base = out.get(str(metric))
            t = _entry(metric, spec, f"{where} (segment {segment})", base)
            company = base if base is not None else replace(t, target=math.nan)
            out[t.metric] = replace(company, segments=(*company.segments, (str(segment), t)))
    return out


def applicable(target: Target | None, months: int, segment: str | None) -> tuple[Target | None, str | None]:
    """The target of a report of ``months`` months on ``segment`` (None: every customer), or why
    none applies: ``(target, None)``, or ``(None, why)`` with ``why`` the status to show
    (``no target for a segment: the target is the company's total``, ``no target for a month:
    the target is set per quarter``); ``(None, None)`` without a target.

    Examples
    --------
    >>> applicable(Target("revenue", 300.0, "higher", per_months=3), 3, "SMB")
    (None, "no target for a segment: the target is the company's total")
    >>> applicable(Target("upsell_rate", 0.5, "higher", per_months=3), 1, None)
    (None, 'no target for a month: the target is set per quarter')
    >>> applicable(Target("nps", 30.0, "higher"), 1, "SMB")[0].target
    30.0
    """
    if target is None:
        return None, None
    if segment:
        own = dict(target.segments)
        if segment in own:
            target = own[segment]
        elif target.metric in COMPANY_TOTALS:
            return None, "no target for a segment: the target is the company's total"
    if math.isnan(target.target):  # a target set for some segments only
        return None, None
    if target.metric in _PER_ONLY and target.per_months not in (None, months):
        length = _LENGTH_NAMES.get(months, f"{months}-month period")
        return None, f"no target for a {length}: the target is set per {_LENGTH_NAMES[target.per_months]}"
    return target.for_months(months), None


def read_targets(path, *, what: str | None = None, defaults: bool = True) -> dict[str, Target]:
    """Targets from a YAML file: ``targets: {metric: {target, direction, near, per}}``, read by the
    one bounded reader of configuration files; ``what`` (``--targets``) names where the path came
    from. A metric the file leaves out keeps the package's default target (:data:`DEFAULT_TARGETS`;
    ``defaults=False`` reads the file alone). ``direction`` defaults to the catalogue's; ``per``
    (``month``, ``quarter`` or ``year``) says which period length a total or a churn or retention
    rate is meant for (:meth:`Target.for_months`)."""
    path = Path(path)
    raw = read_yaml_config(path, what=what or "targets file")
    plain = not defaults or _same_file(path, DEFAULT_TARGETS)
    base = {} if plain else read_targets(DEFAULT_TARGETS, defaults=False)
    targets = {**base, **_entries(raw.get("targets"), str(path), base)}
    return _with_segments(targets, raw.get("segments"), str(path))


def _same_file(a: Path, b: Path) -> bool:
    try:
        return a.resolve() == b.resolve()
    except OSError:
        return False


def targets_from_mapping(mapping, *, base: Mapping[str, Target] | None = None) -> dict[str, Target]:
    """Targets given as a mapping (or its text, ``'{"nps": 40}'``), over ``base``: each metric to a
    number (its target, with the direction from the catalogue and the tolerance of ``base``) or to
    ``{target, direction, near, per}`` as in a targets file; a ``targets:`` key around them is
    allowed.

    Examples
    --------
    >>> targets_from_mapping('{"nps": 40}')["nps"]
    Target(metric='nps', target=40.0, direction='higher', near=0.0, per_months=None)
    """
    base = dict(base or {})
    if isinstance(mapping, str):
        mapping = read_yaml_text(mapping, what="the targets parameter")
    if not isinstance(mapping, Mapping):
        raise WorkbookError(
            f"the targets parameter {mapping!r} must be a targets file or a mapping of metric ids to "
            'targets, such as {"nps": 40}'
        )
    wrapped = "targets" in mapping and set(mapping) <= {"targets", "segments"}
    entries = mapping.get("targets") or {} if wrapped else mapping
    out = {**base, **_entries(dict(entries), "the targets parameter", base)}
    return _with_segments(out, mapping.get("segments") if wrapped else None, "the targets parameter")


def is_mapping_text(spec) -> bool:
    """Whether a ``targets`` parameter is a mapping or the text of one (``{...}``) rather than a
    file."""
    return isinstance(spec, Mapping) or (isinstance(spec, str) and spec.lstrip().startswith("{"))


def resolve_targets(spec, source) -> dict[str, Target]:
    """The targets that apply to a report on ``source``: ``spec`` None or empty gives the file
    beside the data (else the defaults); a path gives that file over the defaults; a mapping (or
    its text) sets some metrics over the file beside the data."""
    if is_mapping_text(spec):
        targets = targets_from_mapping(spec, base=read_targets(default_targets_path(source)))
    else:
        targets = read_targets(spec if spec else default_targets_path(source))
    named = {name for t in targets.values() for name, _ in t.segments}
    for name in sorted(named):  # a segment the data does not have would be ignored without a word
        try:
            source.check_segment(name)
        except WorkbookError as e:
            raise WorkbookError(f"targets `segments: {name}`: {e}") from None
    return targets


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


def status_for(value: float, target: Target | None, why: str | None = None) -> str:
    """``on target``, ``near`` (within the tolerance), ``off``, ``no target`` or ``undefined``.

    Examples
    --------
    >>> status_for(0.82, Target("csat", 0.80, "higher", 0.05))
    'on target'
    >>> status_for(0.77, Target("csat", 0.80, "higher", 0.05))
    'near'
    >>> status_for(0.04, Target("churn_rate", 0.03, "lower", 0.005))
    'off'

    ``why`` is the reason no target applies (:func:`applicable`); its status is the part before
    the colon, such as ``no target for a segment``.
    """
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "undefined"
    if target is None:
        return why.split(":")[0] if why else "no target"
    gap = value - target.target if target.direction == "higher" else target.target - value
    if gap >= 0:
        return "on target"
    return "near" if -gap <= target.near + 1e-9 * max(1.0, abs(target.target)) else "off"
