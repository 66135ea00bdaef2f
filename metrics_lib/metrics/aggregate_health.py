"""The customer-level aggregations behind the health score: per customer active at the period's
end, the components scaled to [0, 1] (:func:`health_components`: recency, NPS, support load,
first-contact resolution, renewals), built from the latest NPS answer up to a day
(:func:`latest_nps_scores`) and the subscription terms due and renewed in a window up to a day
(:func:`renewal_record`). They take a :class:`~metrics_lib.metrics.aggregate.Scope` and return Ibis
tables or a pandas frame, with activity as :func:`~metrics_lib.metrics.aggregate.active_flags`
defines it.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd

from metrics_lib.core.engine import count_true
from metrics_lib.metrics.aggregate import Scope, active_flags, customer_purchases
from metrics_lib.metrics.shared_results import shared_call

__all__ = [
    "latest_nps_scores",
    "renewal_record",
    "health_components",
    "period_health_components",
]


def latest_nps_scores(scope: Scope, day: datetime, *, inclusive: bool = True):
    """Per customer, the score of their latest NPS answer on or before ``day`` (strictly before it
    with ``inclusive=False``); answers given on the same latest day are averaged.

    Returns an Ibis table with columns ``customer_id`` and ``score`` (float64); customers who never
    answered by then have no row.
    """
    s = scope.table("surveys")
    n = s.filter((s.survey == "nps") & ((s.response_date <= day) if inclusive else (s.response_date < day)))
    latest = n.group_by("customer_id").aggregate(last=n.response_date.max())
    nl = n.join(latest, [n.customer_id == latest.customer_id, n.response_date == latest.last])
    return nl.group_by(nl.customer_id).aggregate(score=nl.score.cast("float64").mean())


def renewal_record(scope: Scope, day: datetime, *, window_days: int = 365):
    """Per customer, the subscription terms that came due in the ``window_days`` up to ``day``
    and those of them renewed by ``day``.

    A term comes due when its ``end_date`` or its ``cancelled_date`` falls in
    ``(day - window_days, day]``; it is renewed when a later term names it in ``renewed_from``
    and started on or before ``day`` (nothing after ``day`` is looked at). Returns an Ibis table
    with ``customer_id``, ``terms_due`` and ``terms_renewed`` (float64); customers with no term
    due have no row.
    """
    s = scope.table("subscriptions")
    since = day - timedelta(days=window_days)

    def within(col):
        return ((col > since) & (col <= day)).fill_null(False)

    due = s.filter(within(s.end_date) | within(s.cancelled_date))
    successors = (
        s.filter(s.renewed_from.notnull() & (s.start_date <= day)).select(sid=s.renewed_from).distinct()
    )
    flagged = due.left_join(successors, due.subscription_id == successors.sid)
    return flagged.group_by("customer_id").aggregate(
        terms_due=flagged.count().cast("float64"),
        terms_renewed=count_true(flagged.sid.notnull()).cast("float64"),
    )


def health_components(
    scope: Scope, *, support_window_days: int = 90, renewal_window_days: int = 365
) -> pd.DataFrame:
    """Per customer active at the period's end, the health components scaled to [0, 1] (1 = healthy).

    * ``recency``: 1 - days since the last order / inactivity_days (clipped at 0);
    * ``nps``: the latest NPS answer up to the period's end / 10 (0.5, neutral, when never asked);
    * ``support_load``: 1 - tickets opened in the last ``support_window_days`` / 5 (clipped at 0);
    * ``resolution``: share of those tickets resolved in one contact (1 when there were none);
    * ``renewal``: share of the customer's subscription terms due in the last
      ``renewal_window_days`` that were renewed (:func:`renewal_record`); NaN (scored on the
      other components) when none came due.

    A component the data cannot give is not a column: ``nps`` needs surveys, ``support_load``
    tickets, ``resolution`` tickets with ``contacts_to_resolve``, ``renewal`` subscriptions with
    ``renewed_from``.
    """
    end = scope.last_day
    flags, _ = active_flags(scope, end, end)
    joined = flags.filter(flags.at_b).select("customer_id")
    o = customer_purchases(scope.table("orders"))
    # an order inactivity_days or more before the end scores 0, as no order does: skip them
    o = o.filter((o.order_date <= end) & (o.order_date > end - timedelta(days=scope.inactivity_days)))
    parts = [o.group_by("customer_id").aggregate(last_order=o.order_date.max())]
    if scope.has("surveys"):
        parts.append(latest_nps_scores(scope, end))
    # resolution in one contact is a component only where the tickets say how many contacts
    contacts = scope.has("tickets") and scope.source.has_values("tickets", "contacts_to_resolve")
    if scope.has("tickets"):
        t = scope.table("tickets")
        recent = t.filter(
            (t.opened_at > end - timedelta(days=support_window_days)) & (t.opened_at < scope.next_start)
        )
        parts.append(
            recent.group_by("customer_id").aggregate(
                tickets=recent.count().cast("float64"),
                first=count_true(recent.contacts_to_resolve == 1).cast("float64"),
                resolved=count_true(recent.contacts_to_resolve.notnull()).cast("float64"),
            )
        )
    renewals = scope.has("subscriptions") and scope.source.has_values("subscriptions", "renewed_from")
    if renewals:
        parts.append(renewal_record(scope, end, window_days=renewal_window_days))
    for part in parts:  # one query: the engine joins, pandas gets one row per active customer
        joined = joined.left_join(part, "customer_id").drop("customer_id_right")
    frame = joined.execute()
    if frame.empty:
        names = (
            ["recency"]
            + ["nps"] * scope.has("surveys")
            + ["support_load"] * scope.has("tickets")
            + ["resolution"] * contacts
        )
        return pd.DataFrame(columns=["customer_id", *names, *["renewal"] * renewals])
    frame = frame.sort_values("customer_id", kind="stable").reset_index(drop=True)
    days = (pd.Timestamp(end) - pd.to_datetime(frame.pop("last_order"))).dt.days
    out = frame[["customer_id"]].copy()
    out["recency"] = (1 - days / scope.inactivity_days).clip(lower=0, upper=1).fillna(0.0)
    if scope.has("surveys"):
        out["nps"] = (frame["score"] / 10.0).fillna(0.5)
    if scope.has("tickets"):
        tickets = frame["tickets"].fillna(0)
        first, resolved = frame["first"].fillna(0), frame["resolved"].fillna(0)
        out["support_load"] = (1 - tickets / 5.0).clip(lower=0)
        if contacts:
            out["resolution"] = (first / resolved.where(resolved > 0)).fillna(1.0)
    if renewals:
        due = frame["terms_due"]
        out["renewal"] = frame["terms_renewed"].fillna(0) / due.where(due > 0)
    return out


def period_health_components(scope: Scope) -> pd.DataFrame:
    """:func:`health_components` with its default windows, computed once per report run and shared
    by every report and list that scores customers' health
    (:func:`~metrics_lib.metrics.shared_results.shared_call`); outside a run simply computed."""
    return shared_call(scope.source, health_components, scope)
