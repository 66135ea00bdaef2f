"""A ticket event log (one row per event: case id, activity, timestamp) turned into the tickets
table, one row per case, as the ``events:`` rule of ``mapping.yml`` says
(:class:`~metrics_lib.data.config.EventRule`).

Per case:

* ``ticket_id`` is the case id;
* ``opened_at`` is its earliest event whose activity means opened (with no such values named,
  its earliest event);
* ``first_response_at`` its earliest event whose activity means a first response (empty when it
  has none: never answered);
* ``resolved_at`` its latest event whose activity means resolved (empty when it has none);
* ``contacts_to_resolve``, only when the rule names the activities that are agent responses: the
  responses up to its resolution, a ticket resolved with none counting as resolved in one contact
  (empty while unresolved);
* the columns the mapping's ``columns:`` renames (``customer_id``, ``channel``): the first value
  the case's events give, in the log's order.

The log's timestamps are parsed as the contract's timestamps (``date_format`` applies). Rows of
the result are named by the line (or row) of their case's first event, so every message points
into the log the user has. The log itself is only read.
"""

from __future__ import annotations

import difflib
from dataclasses import replace

import numpy as np
import pandas as pd

from metrics_lib.core.errors import Problem, some
from metrics_lib.data import contract as C
from metrics_lib.data.config import EventRule
from metrics_lib.data.parsing import parse_column, problem_from_rows

__all__ = ["tickets_from_events"]

#: What an activity the log never has means, per setting of the rule.
_ABSENT = {
    "opened": "is opened",
    "first_response": "counts as answered",
    "resolved": "counts as resolved",
    "responses": "counts as agent response (contacts to resolve is empty when no listed response occurs)",
}


def tickets_from_events(
    raw: pd.DataFrame, rule: EventRule, renames: dict[str, str], *, date_format, where: str, labeler, mapping
) -> tuple[pd.DataFrame | None, np.ndarray, list[Problem]]:
    """``(tickets, first_rows, problems)``: the log ``raw`` as one row per case, with contract
    names (the other columns of ``renames`` applied, their cells as stored), the position in
    ``raw`` of each case's first event, and the problems found. A column the rule names that the
    log lacks stops there (``tickets`` None), and so does an activity it lacks
    when that looks like a typo (close to an activity of the log) or when no activity listed
    under ``opened`` occurs; any other activity the log lacks (a help desk that has not resolved
    a ticket yet) is a note in ``tickets.attrs["event_notes"]``, its column left empty (with no
    listed response in the log, ``contacts_to_resolve`` too). Timestamps that cannot be read are
    problems whose rows are the cases holding them (so quarantine sets those tickets aside)."""
    raw = raw.reset_index(drop=True)
    names = {str(c).strip(): c for c in raw.columns}
    problems: list[Problem] = []
    for key in EventRule.COLUMNS:
        name = getattr(rule, key)
        if name not in names:
            close = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
            problems.append(
                Problem(
                    "tickets",
                    f"the mapping's events rule names `{name}` as the log's {key} column, which the file lacks",
                    (f"did you mean `{close[0]}`? " if close else "")
                    + f"columns found: {some(list(names))}; correct `events: {key}` in {mapping}",
                    file=where,
                    column=name,
                )
            )
    absent = [theirs for theirs in renames if theirs not in names]
    if absent:
        problems.append(
            Problem(
                "tickets",
                f"the mapping names column(s) {', '.join(f'`{a}`' for a in absent)} that the file lacks",
                f"columns found: {some(list(names))}; correct {mapping}",
                file=where,
            )
        )
    if problems:
        return None, np.arange(0), problems
    case = raw[names[rule.case]].astype("string").str.strip()
    activity = raw[names[rule.activity]].astype("string").str.strip()
    seen = set(activity.dropna())
    notes: list[str] = []
    for key in EventRule.ACTIVITIES:
        values = getattr(rule, key)
        unknown = [v for v in values if v not in seen]
        for value in unknown:
            close = difflib.get_close_matches(value, sorted(seen - set(values)), n=1, cutoff=0.6)
            if not close and not (key == "opened" and len(unknown) == len(values)):
                # a help desk that has not yet answered or resolved a ticket: nothing is wrong
                notes.append(
                    f"{where}: table `tickets`: no event of the log (column `{rule.activity}`) has "
                    f"activity {value!r}, listed under `events: {key}` in {mapping}, so no ticket "
                    f"{_ABSENT[key]} by it"
                )
                continue
            problems.append(
                Problem(
                    "tickets",
                    f"the mapping's events rule lists activity {value!r} under `{key}`, but no event of "
                    f"the log (column `{rule.activity}`) has it",
                    (f"did you mean {close[0]!r}? " if close else "")
                    + f"activities found: {some(sorted(seen))}; correct `events: {key}` in {mapping}",
                    file=where,
                    column=rule.activity,
                )
            )
    if problems:
        return None, np.arange(0), problems
    stamp_spec = C.ColumnSpec(rule.timestamp, "timestamp")
    stamp_raw = raw[names[rule.timestamp]]
    stamps, bad = parse_column(stamp_raw, stamp_spec, date_format)
    events = pd.DataFrame({"case": case, "activity": activity, "at": stamps, "pos": np.arange(len(raw))})
    no_case = events["case"].isna() | (events["case"] == "")
    if no_case.any():  # an event of no ticket: never dropped unsaid
        p = problem_from_rows(
            "tickets",
            where,
            rule.case,
            "an event without a case id belongs to no ticket",
            f"fill `{rule.case}` for every event, or remove the events of no ticket from the log",
            raw[names[rule.activity]].reset_index(drop=True),
            labeler,
            rows=np.flatnonzero(no_case.to_numpy()),
        )
        return None, np.arange(0), [replace(p, rows=())]
    groups = events.groupby("case", sort=False)
    first = groups["pos"].min().sort_values(kind="stable")
    out = pd.DataFrame({"ticket_id": first.index.astype(str)}, index=first.index)

    def when(values: tuple[str, ...], how: str) -> pd.Series:
        chosen = events[events["activity"].isin(values)] if values else events
        return chosen.groupby("case")["at"].agg(how).reindex(first.index)

    out["opened_at"] = when(rule.opened, "min")
    out["first_response_at"] = when(rule.first_response, "min") if rule.first_response else pd.NaT
    out["resolved_at"] = when(rule.resolved, "max") if rule.resolved else pd.NaT
    if rule.responses and not seen.intersection(rule.responses):
        out["contacts_to_resolve"] = pd.array([pd.NA] * len(out), dtype="Int64")  # none counted
    elif rule.responses:
        done = events["case"].map(out["resolved_at"])
        counted = events[events["activity"].isin(rule.responses) & (events["at"] <= done)]
        n = counted.groupby("case").size().reindex(first.index).fillna(0).clip(lower=1)
        out["contacts_to_resolve"] = pd.array(n.where(out["resolved_at"].notna()), dtype="Int64")
    for theirs, ours in renames.items():
        col = raw[names[theirs]]
        filled = events.assign(v=col.iloc[events["pos"]].to_numpy())
        filled = filled[filled["v"].notna() & (filled["v"].astype(str).str.strip() != "")]
        out[ours] = filled.groupby("case", sort=False)["v"].first().reindex(first.index)
    positions = first.to_numpy()
    case_of = pd.Series(np.full(len(raw), -1), dtype="int64")
    case_of.iloc[events["pos"].to_numpy()] = (
        events["case"].map(pd.Series(np.arange(len(first)), index=first.index)).to_numpy()
    )
    for rows, rule_text, fix in bad:
        p = problem_from_rows(
            "tickets",
            where,
            rule.timestamp,
            rule_text,
            fix,
            stamp_raw.reset_index(drop=True),
            labeler,
            rows=rows,
        )
        cases = sorted({int(case_of.iloc[r]) for r in rows if case_of.iloc[r] >= 0})
        problems.append(replace(p, rows=tuple(cases)))
    out = out.reset_index(drop=True)
    out.attrs["event_notes"] = notes
    return out, positions, problems
