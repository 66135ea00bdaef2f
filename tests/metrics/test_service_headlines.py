"""The service headlines on a hand-made help-desk log: tickets never answered count as misses of
the 2-hour target once older than it, and the unanswered share is reported beside it.

March 2025, ten tickets (hours to the first response):

* T1-T6 answered within 2 h: 0.25, 0.5, 1, 1, 1.5 and 2.0 (2.0 is within);
* T7 and T8 answered later: 3 h and 26 h;
* T9 and T10 never answered, opened on 2 and 20 March.

T11 (April) was resolved on 5 April at 12:00, the data's last ticket timestamp, so T9 and T10 have
waited far longer than 2 h: within target = 6 / (8 answered + 2 overdue) = 60%, the unanswered
share 2 / 10 = 20%. The median response stays over the 8 answered tickets: (1 + 1.5) / 2 = 1.25 h.
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import pytest

from metrics_lib.data import open_source
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics import aggregate_service, breakdowns
from metrics_lib.metrics.scorecard import headline_metrics

RESPONSES = [0.25, 0.5, 1.0, 1.0, 1.5, 2.0, 3.0, 26.0, None, None]


def _tickets(extra=()):
    rows = []
    for i, hours in enumerate(RESPONSES, start=1):
        opened = datetime(2025, 3, 2 if i == 9 else 20 if i == 10 else i, 9, 0)
        answered = "" if hours is None else str(opened + timedelta(hours=hours))
        rows.append((f"T{i}", "C1", str(opened), answered, "", "", "email"))
    rows.append(
        ("T11", "C1", "2025-04-01 09:00:00", "2025-04-01 10:00:00", "2025-04-05 12:00:00", "1", "email")
    )
    rows.extend(extra)
    return pd.DataFrame(
        rows,
        columns=[
            "ticket_id",
            "customer_id",
            "opened_at",
            "first_response_at",
            "resolved_at",
            "contacts_to_resolve",
            "channel",
        ],
    )


def _source(folder, tickets):
    folder.mkdir(parents=True, exist_ok=True)
    pd.DataFrame(
        [("C1", "2024-01-01", "organic", "SMB", "")],
        columns=["customer_id", "signup_date", "acquisition_channel", "segment", "referred_by"],
    ).to_csv(folder / "customers.csv", index=False)
    tickets.to_csv(folder / "tickets.csv", index=False)
    return open_source(folder)


def test_unanswered_tickets_are_misses_and_their_share_is_reported(tmp_path):
    src = _source(tmp_path / "desk", _tickets())
    m = headline_metrics(src, "2025-03", ids=["service"])["metrics"]
    within = m["first_response_within_target"]
    assert (within["value"], within["numerator"], within["denominator"]) == (0.6, 6, 10)
    unanswered = m["unanswered_ticket_share"]
    assert (unanswered["value"], unanswered["numerator"], unanswered["denominator"]) == (0.2, 2, 10)
    assert (unanswered["unit"], unanswered["direction"], unanswered["target"]) == ("share", "lower", 0.02)
    assert unanswered["status"] == "off"
    median = m["first_response_hours_median"]
    assert (median["value"], median["n"]) == (1.25, 8)
    # the service report per channel says the same
    table = breakdowns.response_summary(agg.Scope.of(src, "2025-03"))
    assert table.loc["all", "within_target"] == 0.6 and table.loc["all", "unanswered"] == 2


def test_a_ticket_younger_than_the_target_at_the_data_end_is_not_yet_a_miss(tmp_path):
    # T12, opened at 11:00 on 5 April and unanswered, is 1 h old at the data's last timestamp
    # (T11's resolution, 12:00): April has T11 (answered within 1 h) and T12, pending
    young = [("T12", "C1", "2025-04-05 11:00:00", "", "", "", "chat")]
    src = _source(tmp_path / "desk", _tickets(young))
    m = headline_metrics(src, "2025-04", ids=["service"])["metrics"]
    assert (
        m["first_response_within_target"]["numerator"],
        m["first_response_within_target"]["denominator"],
    ) == (1, 1)
    assert m["unanswered_ticket_share"]["value"] == pytest.approx(1 / 2)
    times = aggregate_service.ticket_times(agg.Scope.of(src, "2025-04")).set_index("ticket_id")
    assert times.loc["T12", "unanswered_hours"] == pytest.approx(1.0)
    assert pd.isna(times.loc["T11", "unanswered_hours"])
