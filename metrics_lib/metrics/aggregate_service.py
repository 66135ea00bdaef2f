"""The service desk's period-level aggregations over the tickets table: response and resolution
times of the tickets opened in the period, with the wait of those still unanswered as of the data's
last ticket timestamp (:func:`ticket_times`, :func:`tickets_as_of`), and the tickets resolved in
the period, in one contact or more (:func:`resolved_tickets`). They take a
:class:`~metrics_lib.metrics.aggregate.Scope` like the rest of :mod:`metrics_lib.metrics.aggregate`.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from metrics_lib.core.engine import count_true
from metrics_lib.metrics.aggregate import Scope, count

__all__ = [
    "ResolvedTickets",
    "tickets_as_of",
    "TICKET_TIME_COLUMNS",
    "ticket_times",
    "resolved_tickets",
]


@dataclass(frozen=True)
class ResolvedTickets:
    """Tickets resolved in the period, those resolved in one contact, and those whose
    ``contacts_to_resolve`` is empty (:func:`resolved_tickets`)."""

    resolved: int
    resolved_first_contact: int
    contacts_unknown: int = 0


def tickets_as_of(scope: Scope) -> pd.Timestamp | None:
    """The data's last ticket timestamp: the latest ``opened_at``, ``first_response_at`` or
    ``resolved_at`` of the whole tickets table (whatever the segment); None when it has none."""
    t = scope.source.table("tickets")
    row = (
        t.aggregate(
            opened=t.opened_at.max(), responded=t.first_response_at.max(), resolved=t.resolved_at.max()
        )
        .execute()
        .iloc[0]
    )
    stamps = [pd.Timestamp(v) for v in row if not pd.isna(v)]
    return max(stamps) if stamps else None


#: The columns of :func:`ticket_times`, in order.
TICKET_TIME_COLUMNS = (
    "ticket_id",
    "first_response_hours",
    "resolution_hours",
    "contacts_to_resolve",
    "channel",
    "unanswered_hours",
)


def ticket_times(scope: Scope) -> pd.DataFrame:
    """Tickets opened in the period: hours to first response and to resolution, contacts, channel,
    and ``unanswered_hours``: for a ticket with no first response, the hours it has waited as of
    the data's last ticket timestamp (:func:`tickets_as_of`); NaN for answered tickets."""
    t = scope.table("tickets")
    p = t.filter(scope.during(t.opened_at))
    df = p.select(
        "ticket_id", "opened_at", "first_response_at", "resolved_at", "contacts_to_resolve", "channel"
    ).execute()
    # the differences are taken here, on the period's rows: engines disagree on sub-second parts
    # (Spark's epoch seconds are whole seconds, DuckDB's and PostgreSQL's are not)
    opened = pd.to_datetime(df.pop("opened_at"))
    for col, out in (("first_response_at", "first_response_hours"), ("resolved_at", "resolution_hours")):
        df[out] = (pd.to_datetime(df.pop(col)) - opened).dt.total_seconds() / 3600.0
    unanswered = df["first_response_hours"].isna()
    as_of = tickets_as_of(scope) if unanswered.any() else None
    waited = (as_of - opened).dt.total_seconds() / 3600.0 if as_of is not None else float("nan")
    df["unanswered_hours"] = pd.Series(waited, index=df.index, dtype="float64").where(unanswered)
    return df[list(TICKET_TIME_COLUMNS)]


def resolved_tickets(scope: Scope) -> ResolvedTickets:
    """Tickets resolved in the period, those resolved in one contact, and those that do not say
    how many contacts they took (``contacts_to_resolve`` empty: absent from the data, or not
    filled for that ticket)."""
    t = scope.table("tickets")
    r = t.filter(scope.during(t.resolved_at))
    counts = r.aggregate(
        resolved=r.count(),
        resolved_first_contact=count_true(r.contacts_to_resolve == 1),
        contacts_unknown=count_true(r.contacts_to_resolve.isnull()),
    ).execute()
    row = counts.iloc[0]
    return ResolvedTickets(
        resolved=count(row["resolved"]),
        resolved_first_contact=count(row["resolved_first_contact"]),
        contacts_unknown=count(row["contacts_unknown"]),
    )
