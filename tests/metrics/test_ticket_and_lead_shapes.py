"""Real exports as they come: a ticket event log converted by the mapping's ``events:`` rule,
tickets without ``contacts_to_resolve``, leads that are never closed (``open_deal_max_age_days``)
and pipeline-only or support-only data. Every number is worked out by hand from the small
fixtures written here."""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from metrics_lib import cli
from metrics_lib.data import open_source
from metrics_lib.metrics.aggregate import Scope
from metrics_lib.metrics.aggregate_pipeline import pipeline_summary
from metrics_lib.metrics.scorecard import family_availability, headline_metrics

# Three cases. First responses: T1 after 1 h, T2 after 3 h, T3 after 0.5 h: median 1 h, 2 of 3
# within the 2-hour target. T1 has two agent replies before its resolution, T2 one; T3 is open:
# first contact resolution 1 of 2 resolved.
LOG = """Case ID,Activity,Timestamp,Customer,Channel
T1,Ticket created,2025-01-06 09:00:00,C1,email
T2,Ticket created,2025-01-06 08:00:00,C2,phone
T1,Agent reply,2025-01-06 10:00:00,,
T1,Agent reply,2025-01-06 12:00:00,,
T2,Agent reply,2025-01-06 11:00:00,,
T2,Resolved,2025-01-06 15:00:00,,
T1,Resolved,2025-01-07 09:00:00,,
T3,Ticket created,2025-01-08 09:00:00,C1,chat
T3,Agent reply,2025-01-08 09:30:00,,
"""

RULE = """tables:
  tickets:
    source: helpdesk.csv
    events:
      case: Case ID
      activity: Activity
      timestamp: Timestamp
      opened: Ticket created
      first_response: Agent reply
      resolved: [Resolved]
{responses}    columns:
      Customer: customer_id
      Channel: channel
"""


def _log_folder(tmp_path: Path, *, responses: bool = True, log: str = LOG, rule: str = RULE) -> Path:
    folder = tmp_path / "helpdesk"
    folder.mkdir()
    (folder / "helpdesk.csv").write_text(log)
    (folder / "mapping.yml").write_text(
        rule.format(responses="      responses: [Agent reply]\n" if responses else "")
    )
    return folder


def _cli_json(capsys, *args) -> dict:
    code = cli.main(["metrics", *args, "--format", "json"])
    out = capsys.readouterr().out
    assert code == 0
    return json.loads(out)


def _digest(folder: Path) -> dict:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(folder.iterdir())}


def test_event_log_gives_the_service_metrics_worked_by_hand(tmp_path, capsys):
    folder = _log_folder(tmp_path)
    before = _digest(folder)
    m = _cli_json(capsys, "--data", str(folder), "--period", "2025-01")["metrics"]
    assert m["first_response_hours_median"]["value"] == pytest.approx(1.0)
    assert m["first_response_hours_median"]["n"] == 3
    assert (
        m["first_response_within_target"]["numerator"],
        m["first_response_within_target"]["denominator"],
    ) == (
        2.0,
        3.0,
    )
    assert (m["first_contact_resolution"]["numerator"], m["first_contact_resolution"]["denominator"]) == (
        1.0,
        2.0,
    )
    assert m["unanswered_ticket_share"]["value"] == 0.0
    assert _digest(folder) == before  # the log is only read


def test_event_log_tickets_one_row_per_case(tmp_path):
    tickets = open_source(_log_folder(tmp_path)).frame("tickets").set_index("ticket_id")
    assert list(tickets.index) == ["T1", "T2", "T3"]
    assert tickets.loc["T1", "customer_id"] == "C1" and tickets.loc["T3", "channel"] == "chat"
    assert str(tickets.loc["T1", "resolved_at"]) == "2025-01-07 09:00:00"
    assert tickets["contacts_to_resolve"].tolist()[:2] == [2, 1]
    assert tickets["contacts_to_resolve"].isna().tolist() == [False, False, True]


def test_log_without_responses_leaves_only_first_contact_resolution_undefined(tmp_path, capsys):
    folder = _log_folder(tmp_path, responses=False)
    m = _cli_json(capsys, "--data", str(folder), "--period", "2025-01")["metrics"]
    fcr = m["first_contact_resolution"]
    assert fcr["value"] is None and "`contacts_to_resolve`" in fcr["reason"]
    assert m["first_response_hours_median"]["value"] == pytest.approx(1.0)
    assert m["first_response_within_target"]["value"] == pytest.approx(2 / 3)


def test_unknown_activity_is_named_with_the_closest(tmp_path, capsys):
    folder = _log_folder(tmp_path, rule=RULE.replace("resolved: [Resolved]", "resolved: [Resolvd]"))
    code = cli.main(["validate", "--data", str(folder)])
    out = " ".join((capsys.readouterr().out).split())
    assert code == 1
    assert (
        "lists activity 'Resolvd' under `resolved`, but no event of the log (column `Activity`) has it" in out
    )
    assert "did you mean 'Resolved'?" in out


def test_events_rule_only_for_tickets(tmp_path, capsys):
    rule = "tables:\n  orders:\n    events:\n      case: Case ID\n      activity: Activity\n      timestamp: Timestamp\n"
    folder = _log_folder(tmp_path, rule=rule)
    assert cli.main(["validate", "--data", str(folder)]) == 2
    assert "only the tickets table can be" in capsys.readouterr().err


TICKETS = """ticket_id,customer_id,opened_at,first_response_at,resolved_at,{extra}channel
T1,C1,2025-01-06 09:00:00,2025-01-06 10:00:00,2025-01-07 09:00:00,{c1}email
T2,C2,2025-01-06 08:00:00,2025-01-06 11:00:00,2025-01-06 15:00:00,{c2}phone
"""


@pytest.mark.parametrize(
    "extra, c1, c2, reason",
    [
        ("", "", "", "which the data source lacks or leaves empty in every row"),
        (
            "contacts_to_resolve,",
            "1,",
            ",",
            "1 of the 2 tickets resolved in the period leave `contacts_to_resolve` empty",
        ),
    ],
    ids=["column absent", "empty for a resolved ticket"],
)
def test_tickets_without_contacts_load_and_leave_fcr_null(tmp_path, extra, c1, c2, reason):
    folder = tmp_path / "desk"
    folder.mkdir()
    (folder / "tickets.csv").write_text(TICKETS.format(extra=extra, c1=c1, c2=c2))
    m = headline_metrics(open_source(folder), "2025-01", ids="service")["metrics"]
    assert m["first_contact_resolution"]["value"] is None
    assert reason in m["first_contact_resolution"]["reason"]
    assert m["first_response_hours_median"]["value"] == pytest.approx(2.0)  # 1 h and 3 h


# Deals, and the deals' last date 2025-09-30. With open_deal_max_age_days 90, D3 (created
# 2025-01-05, open) is lost on 2025-04-05 and D5 (created 2025-06-01) on 2025-08-30; D6
# (created 2025-09-30) has not had its 90 days and stays open.
DEALS = """deal_id,customer_id,created_date,closed_date,outcome,amount
D1,,2025-01-01,2025-01-31,won,100
D2,,2025-01-10,2025-02-10,lost,50
D3,,2025-01-05,,open,80
D4,,2025-03-01,2025-04-20,won,200
D5,,2025-06-01,,open,60
D6,,2025-09-30,,open,70
"""


def _deals_folder(tmp_path: Path, max_age: int | None) -> Path:
    folder = tmp_path / f"funnel-{max_age}"
    folder.mkdir()
    (folder / "deals.csv").write_text(DEALS)
    if max_age is not None:
        (folder / "source.yml").write_text(f"open_deal_max_age_days: {max_age}\n")
    return folder


def test_stale_deals_count_as_lost_in_win_rate_worked_by_hand(tmp_path, capsys):
    on = _deals_folder(tmp_path, 90)
    q2 = _cli_json(capsys, "--data", str(on), "--period", "2025-Q2")["metrics"]
    # closed in Q2: D4 won, D3 lost as stale on 2025-04-05
    assert (q2["win_rate"]["numerator"], q2["win_rate"]["denominator"]) == (1.0, 2.0)
    assert q2["sales_cycle_days"]["value"] == pytest.approx(50.0)  # D4: 2025-03-01 to 2025-04-20
    q3 = _cli_json(capsys, "--data", str(on), "--period", "2025-Q3")["metrics"]
    assert (q3["win_rate"]["numerator"], q3["win_rate"]["denominator"]) == (0.0, 1.0)  # D5
    src = open_source(on)
    p = pipeline_summary(Scope.of(src, "2025-Q2"))
    assert (p.won, p.lost, p.stale_lost) == (1, 1, 1)
    # at the end of Q3 only D6 is open (D3 and D5 were closed as stale)
    assert pipeline_summary(Scope.of(src, "2025-Q3")).open_at_end == 1


def test_stale_deals_are_off_by_default(tmp_path, capsys):
    off = _deals_folder(tmp_path, None)
    q2 = _cli_json(capsys, "--data", str(off), "--period", "2025-Q2")["metrics"]
    assert (q2["win_rate"]["numerator"], q2["win_rate"]["denominator"]) == (1.0, 1.0)
    q3 = _cli_json(capsys, "--data", str(off), "--period", "2025-Q3")["metrics"]
    assert q3["win_rate"]["value"] is None


def test_stale_setting_is_checked(tmp_path, capsys):
    folder = _deals_folder(tmp_path, None)
    (folder / "source.yml").write_text("open_deal_max_age_days: -5\n")
    assert cli.main(["validate", "--data", str(folder)]) == 2
    err = capsys.readouterr().err
    assert "setting `open_deal_max_age_days` is -5" in err and "open_deal_max_age_days: 180" in err


def test_pipeline_only_and_support_only_families(tmp_path):
    deals = family_availability(open_source(_deals_folder(tmp_path, None)))
    support = family_availability(open_source(_log_folder(tmp_path)))
    assert [f["family"] for f in deals if f["available"]] == ["pipeline"]
    assert [f["family"] for f in support if f["available"]] == ["service"]
    retention = next(f for f in support if f["family"] == "retention")
    assert retention["reason"] == "the data lacks table(s) customers, orders, subscriptions"


def test_workbook_lists_the_families_and_says_how_many_deals_went_stale(tmp_path):
    from metrics_lib.reporting.workbook import Workbook

    wb = Workbook("2025-Q2", str(_deals_folder(tmp_path, 90)), restrict_paths=False)
    families = wb.families()
    assert families.loc["pipeline", "reported"] == "5 metrics"  # all but the upsell rate (orders)
    assert families.loc["service", "reported"] == "not available"
    assert families.loc["service", "reason"] == "the data lacks table(s) tickets"
    stale = wb.summary().loc["stale deals", "value"]
    assert stale == "1 of 1 lost deals were open 90+ days"


@pytest.mark.integration
@pytest.mark.parametrize(
    "shape, ran, skipped", [("pipeline", "pipeline", "service"), ("support", "service", "pipeline")]
)
def test_run_renders_the_families_the_data_has(tmp_path, shape, ran, skipped):
    """``run`` through the real command line: the scorecard and the data's own family render,
    the other family is skipped and said so."""
    folder = _deals_folder(tmp_path, 90) if shape == "pipeline" else _log_folder(tmp_path)
    period = "2025-Q2" if shape == "pipeline" else "2025-01"
    out = tmp_path / "reports"
    families = f"scorecard,{ran},{skipped}"
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "metrics_lib",
            "run",
            "--data",
            str(folder),
            "--period",
            period,
            "--families",
            families,
            "--out",
            str(out),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert f"{skipped} ... skipped (the data source lacks table(s)" in proc.stdout + proc.stderr
    manifest = json.loads((out / period / "manifest.json").read_text())
    status = {n["family"]: n["status"] for n in manifest["notebooks"]}
    assert status == {"scorecard": "ok", ran: "ok", skipped: "skipped"}
    html = (out / period / "scorecard.html").read_text()
    assert f"skipped: {skipped}" in html  # the family the data cannot give, with what it needs
    assert ("win rate" if ran == "pipeline" else "first contact resolution") in html


STAGES = """deal_id,stage,entered_at
D1,qualify,2025-01-01 00:00:00
D1,proposal,2025-01-10 00:00:00
D1,won,2025-01-31 00:00:00
D3,qualify,2025-01-05 00:00:00
D3,proposal,2025-02-01 00:00:00
"""


@pytest.mark.parametrize("max_age, proposal_days", [(90, (21 + 63) / 2), (None, (21 + 150) / 2)])
def test_stale_deal_ends_its_last_stage_when_it_counts_as_lost(tmp_path, max_age, proposal_days):
    """D1 spends 21 days in proposal (10 to 31 January). D3 entered proposal on 1 February and
    stays open: closed as stale on 5 April it spent 63 days there; otherwise its stage runs to
    the end of the window (the four quarters to 2025-Q2 end on 30 June: 150 days)."""
    from metrics_lib.reporting.workbook import Workbook

    folder = _deals_folder(tmp_path, max_age)
    (folder / "deal_stages.csv").write_text(STAGES)
    stages = Workbook("2025-Q2", str(folder), restrict_paths=False).pipeline_stages(months=12)
    assert stages.time_in_stage.loc["proposal", "mean_days"] == pytest.approx(proposal_days)
    assert stages.time_in_stage.loc["qualify", "mean_days"] == pytest.approx((9 + 27) / 2)


def test_before_after_on_pipeline_only_data_leaves_the_other_families_untested(tmp_path):
    """Before 2025-04-01 (90 days): D1 won, D2 lost; from it: D4 won, D3 lost as stale on
    2025-04-05. Win rate 1 of 2 on both sides; churn, CSAT, NPS and first response have no data."""
    from metrics_lib.reporting.workbook import Workbook

    folder = _deals_folder(tmp_path, None)
    (folder / "source.yml").write_text("open_deal_max_age_days: 90\nstrategy_change_date: 2025-04-01\n")
    table = Workbook("2025-Q2", str(folder), restrict_paths=False).before_after(window_days=90)
    numbers = table.attrs["numbers"]
    assert (numbers.loc["win_rate", "before"], numbers.loc["win_rate", "after"]) == (0.5, 0.5)
    assert table.loc["churn rate", "change vs noise"] == "not tested"
    assert numbers.loc[["churn_rate", "csat", "nps", "first_response_hours_median"], "after"].isna().all()


def test_a_stale_deal_won_in_a_later_export_leaves_past_numbers_unchanged(tmp_path):
    """The first export has D3 open (lost as stale on 2025-04-05); the next has it won on
    2025-05-15, 130 days after its creation. Its 90 days ended open, so it stays lost on
    2025-04-05: Q2's win rate is 1 of 2 (D4 won, D3 lost), its sales cycle 50 days (D4 only),
    and the leaderboard, the referral win rate and the stage funnel read the same deals (D3's
    proposal stage ends on 2025-04-05 whether or not a won stage follows). The deals' last
    date is 2025-09-30 (D6) in both exports."""
    from metrics_lib.metrics.engagement_views import referral_lead_conversion
    from metrics_lib.metrics.sales_views import sales_leaderboard
    from metrics_lib.reporting.workbook import Workbook

    extra = ",ann,east,referral,new_business"
    open_rows = "\n".join(r + extra for r in DEALS.strip().splitlines()[1:])
    header = "deal_id,customer_id,created_date,closed_date,outcome,amount,owner,team,source,deal_type\n"
    late_won = open_rows.replace("D3,,2025-01-05,,open,80", "D3,,2025-01-05,2025-05-15,won,80")
    assert late_won != open_rows
    numbers = []
    for name, rows, stages in (
        ("first", open_rows, STAGES),
        ("next", late_won, STAGES + "D3,won,2025-05-15 00:00:00\n"),
    ):
        folder = tmp_path / name
        folder.mkdir()
        (folder / "deals.csv").write_text(header + rows + "\n")
        (folder / "deal_stages.csv").write_text(stages)
        (folder / "source.yml").write_text("open_deal_max_age_days: 90\n")
        src = open_source(folder)
        q2 = Scope.of(src, "2025-Q2")
        numbers.append(
            {
                "metrics": [
                    headline_metrics(src, p, ids="pipeline")["metrics"] for p in ("2025-Q2", "2025-Q3")
                ],
                "summary": pipeline_summary(q2),
                "leaderboard": sales_leaderboard(q2, min_closed=1).to_dict("records"),
                "referrals": referral_lead_conversion(q2).to_dict("index"),
                "stages": Workbook("2025-Q2", str(folder), restrict_paths=False)
                .pipeline_stages(months=12)
                .time_in_stage.to_dict("index"),
            }
        )
    first, later = numbers
    assert json.dumps(first, default=str, sort_keys=True) == json.dumps(later, default=str, sort_keys=True)
    q2 = first["metrics"][0]
    assert (q2["win_rate"]["numerator"], q2["win_rate"]["denominator"]) == (1.0, 2.0)
    assert q2["sales_cycle_days"]["value"] == pytest.approx(50.0)
    assert (first["summary"].won, first["summary"].lost, first["summary"].stale_lost) == (1, 1, 1)
    assert first["summary"].last_date.isoformat() == "2025-09-30"
    assert [(r["closed"], r["won"]) for r in first["leaderboard"]] == [(2, 1)]
    assert (first["referrals"]["referral"]["closed"], first["referrals"]["referral"]["won"]) == (2, 1)
    assert first["stages"]["proposal"]["mean_days"] == pytest.approx((21 + 63) / 2)  # D1, D3


def test_the_deals_last_date_is_the_exports_even_when_its_latest_close_went_stale(tmp_path):
    """D1, created 2025-01-01 and won 2025-06-30, counts as lost on 2025-04-01 (90 days); the
    deals' last date, which says whether a close window has passed, stays 2025-06-30."""
    folder = tmp_path / "late"
    folder.mkdir()
    (folder / "deals.csv").write_text(
        "deal_id,customer_id,created_date,closed_date,outcome,amount\nD1,,2025-01-01,2025-06-30,won,100\n"
    )
    (folder / "source.yml").write_text("open_deal_max_age_days: 90\n")
    p = pipeline_summary(Scope.of(open_source(folder), "2025-Q2"))
    assert (p.won, p.lost, p.stale_lost) == (0, 1, 1)
    assert p.last_date.isoformat() == "2025-06-30"
