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
    ],
    ids=["misspelled setting", "missing column", "activity not text", "column mapped onto the rule's"],
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
