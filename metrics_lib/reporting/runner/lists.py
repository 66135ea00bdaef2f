"""The action lists of a report run: ``<period>/lists/at_risk_high_value.csv`` (with the health
report) and ``<period>/lists/detractor_follow_up.csv`` (with the satisfaction report), written by
the one CSV writer (:func:`metrics_lib.data.csv_out.write_csv`: cells safe for a spreadsheet,
survey comments hidden unless the run was given ``--show-pii``). Customers by id only.

:func:`write_action_lists` is the runner's one call; what goes in each list is decided in
:mod:`metrics_lib.metrics.action_lists`.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pandas as pd

from metrics_lib.core.errors import WorkbookError
from metrics_lib.data.csv_out import write_csv
from metrics_lib.metrics import action_lists
from metrics_lib.metrics.aggregate import Scope
from metrics_lib.reporting.format import format_value

__all__ = ["LIST_FAMILIES", "write_action_lists"]

#: Each list's file, the report it goes with, and the table its free text comes from.
LIST_FAMILIES = {
    "at_risk_high_value.csv": ("health", None),
    "detractor_follow_up.csv": ("satisfaction", "surveys"),
}

_BUILDERS: dict[str, Callable[[Scope], pd.DataFrame]] = {
    "at_risk_high_value.csv": action_lists.period_at_risk_high_value,
    "detractor_follow_up.csv": action_lists.detractor_follow_up,
}

#: Decimals kept per numeric column (the CSV stays numeric, for sorting in a spreadsheet).
_DIGITS = {"churn_probability": 4, "health_score": 2, "clv": 2, "clv_at_risk": 2}


def _for_csv(frame: pd.DataFrame) -> pd.DataFrame:
    out = frame.round({c: d for c, d in _DIGITS.items() if c in frame.columns})
    if "response_date" in out.columns:
        out["response_date"] = pd.to_datetime(out["response_date"]).dt.strftime("%Y-%m-%d")
    return out


def write_action_lists(
    source, period, folder: Path, *, families, segment: str | None = None, show_pii: bool = False
) -> list[str]:
    """Write the action lists of ``period`` into ``folder / "lists"`` for the reports among
    ``families``; return one line per list saying what was written (or why not).

    A list that cannot be built (its table is missing, the CLV models do not fit, the data is
    not enough, or anything else fails while building it) is not written and its line says why;
    only a failure to write (a full disk) raises, and the runner then says so in one line and
    publishes the reports all the same.
    """
    wanted = [name for name, (family, _) in LIST_FAMILIES.items() if family in families]
    if not wanted:
        return []
    lines = []
    try:
        scope = Scope.of(source, period, segment)
    except WorkbookError as exc:
        return [f"lists not written: {exc}"]
    for name in wanted:
        try:
            frame = _BUILDERS[name](scope)
        except Exception as exc:  # a list is an extra: whatever breaks it, the reports still run
            lines.append(f"lists/{name} not written: {exc}")
            continue
        if not action_lists.is_list(frame):
            lines.append(f"lists/{name} not written: {frame.attrs.get('note', '')}")
            continue
        (folder / "lists").mkdir(exist_ok=True)
        write_csv(_for_csv(frame), folder / "lists" / name, table=LIST_FAMILIES[name][1], show_pii=show_pii)
        basis = frame.attrs.get("basis")
        lines.append(
            f"lists/{name}: {format_value(len(frame), 'count')} customers" + (f" ({basis})" if basis else "")
        )
    return lines
