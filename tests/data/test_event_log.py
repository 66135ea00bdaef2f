"""The ``events:`` rule of ``mapping.yml`` (a ticket event log read as the tickets table): each
setting checked when the mapping is read, and the conversion's choices per case."""

from __future__ import annotations

import pytest

from metrics_lib.core.errors import WorkbookError
from metrics_lib.data import open_source
from metrics_lib.data.config import ColumnMapping, EventRule

HEAD = "tables:\n  tickets:\n    source: log.csv\n"
RULE = "    events:\n      case: Case\n      activity: Activity\n      timestamp: At\n"


def _read(tmp_path, text: str) -> ColumnMapping:
    path = tmp_path / "mapping.yml"
    path.write_text(text)
    return ColumnMapping.read(path)


def test_a_rule_is_read_into_its_types(tmp_path):
    m = _read(tmp_path, HEAD + RULE + "      opened: Created\n      resolved: [Solved, Closed]\n")
    assert m.for_table("tickets").events == EventRule(
        "Case", "Activity", "At", opened=("Created",), resolved=("Solved", "Closed")
    )


@pytest.mark.parametrize(
    "text, message",
    [
        (
            HEAD + RULE + "      resolvd: Closed\n",
            r"`tables: tickets: events: resolvd` is not a setting \(did you mean `resolved`\?\)",
        ),
        (
            HEAD + "    events:\n      case: Case\n      activity: Activity\n",
            r"`tables: tickets: events` needs `timestamp`",
        ),
        (
            HEAD + RULE + "      opened: {a: b}\n",
            r"setting `tables: tickets: events: opened` is \{a: b\}, which is not allowed",
        ),
        (
            HEAD + RULE + "    columns:\n      Case: ticket_id\n",
            r"maps a column to `ticket_id`, which its `events` rule builds from the log",
        ),
        (
            HEAD + '    date_formats:\n      opened_at: "%d/%m/%Y %H:%M"\n' + RULE,
            r"mapping.yml: table `tickets` has both `events` and `date_formats`.*"
            r"use `date_format` for the log's timestamp column",
        ),
    ],
    ids=[
        "misspelled setting",
        "missing column",
        "activity not text",
        "column mapped onto the rule's",
        "date_formats with a log",
    ],
)
def test_a_wrong_rule_is_refused_when_read(tmp_path, text, message):
    with pytest.raises(WorkbookError, match=message):
        _read(tmp_path, text)


def test_without_an_opening_activity_the_first_event_opens_the_ticket(tmp_path):
    """T1's first event (a reply at 08:00) opens it; it is resolved at its LATEST resolving event
    (reopened, then closed again at 12:00); an event with no activity still belongs to it."""
    (tmp_path / "log.csv").write_text(
        "Case,Activity,At,Customer\n"
        "T1,Reply,2025-01-06 08:00:00,C1\n"
        "T1,Closed,2025-01-06 09:00:00,\n"
        "T1,,2025-01-06 10:00:00,\n"
        "T1,Closed,2025-01-06 12:00:00,\n"
    )
    (tmp_path / "mapping.yml").write_text(
        HEAD
        + RULE
        + "      first_response: Reply\n      resolved: Closed\n    columns:\n      Customer: customer_id\n"
    )
    t = open_source(tmp_path).frame("tickets").iloc[0]
    assert (str(t["opened_at"]), str(t["first_response_at"]), str(t["resolved_at"])) == (
        "2025-01-06 08:00:00",
        "2025-01-06 08:00:00",
        "2025-01-06 12:00:00",
    )
    assert t["customer_id"] == "C1"


FRESH_LOG = (
    "Case,Activity,At,Customer\n"
    "T1,Created,2025-01-06 09:00:00,C1\n"
    "T2,Created,2025-01-06 08:00:00,C2\n"
    "T1,Reply,2025-01-06 10:00:00,\n"
    "T2,Reply,2025-01-06 11:00:00,\n"
)
FRESH_RULE = (
    "      opened: Created\n      first_response: Reply\n      resolved: Solved\n      responses: Reply\n"
    "    columns:\n      Customer: customer_id\n"
)


def test_a_log_with_no_resolved_event_yet_is_a_note_and_leaves_resolution_empty(tmp_path):
    """A new help desk: T1 answered after 1 h, T2 after 3 h, neither resolved (no `Solved`
    event, not close to any activity of the log). The run goes on: first response median 2 h;
    resolution and contacts to resolve are empty, so first contact resolution is null."""
    from metrics_lib.metrics.scorecard import headline_metrics

    (tmp_path / "log.csv").write_text(FRESH_LOG)
    (tmp_path / "mapping.yml").write_text(HEAD + RULE + FRESH_RULE)
    src = open_source(tmp_path)
    t = src.frame("tickets")
    assert t["resolved_at"].isna().all() and t["contacts_to_resolve"].isna().all()
    report = src.validate()
    assert report.ok
    assert any("has activity 'Solved', listed under `events: resolved`" in n for n in report.notes)
    m = headline_metrics(src, "2025-01", ids="service")["metrics"]
    assert m["first_response_hours_median"]["value"] == 2.0
    assert m["first_contact_resolution"]["value"] is None
    assert "contacts_to_resolve" in m["first_contact_resolution"]["reason"]


@pytest.mark.parametrize(
    "rule, message",
    [
        (
            FRESH_RULE.replace("Solved", "Repl"),
            r"(?s)lists activity 'Repl' under `resolved`.*did you mean 'Reply'\?",
        ),
        (FRESH_RULE.replace("opened: Created", "opened: New"), r"lists activity 'New' under `opened`"),
    ],
    ids=["typo", "no opening event"],
)
def test_a_typo_or_a_missing_opening_activity_is_still_refused(tmp_path, rule, message):
    (tmp_path / "log.csv").write_text(FRESH_LOG)
    (tmp_path / "mapping.yml").write_text(HEAD + RULE + rule)
    with pytest.raises(WorkbookError, match=message):
        open_source(tmp_path).frame("tickets")


def test_date_format_reads_the_logs_timestamps(tmp_path):
    """`date_format` is the format of the log's timestamp column: 06/01/2025 is 6 January."""
    (tmp_path / "log.csv").write_text(
        "Case,Activity,At,Customer\nT1,Created,06/01/2025 09:00,C1\nT1,Reply,06/01/2025 10:30,\n"
    )
    (tmp_path / "mapping.yml").write_text(
        HEAD
        + '    date_format: "%d/%m/%Y %H:%M"\n'
        + RULE
        + FRESH_RULE.replace("      resolved: Solved\n", "")
    )
    t = open_source(tmp_path).frame("tickets").iloc[0]
    assert (str(t["opened_at"]), str(t["first_response_at"])) == (
        "2025-01-06 09:00:00",
        "2025-01-06 10:30:00",
    )
