"""A period's aggregates shared by the notebooks of a report run (metrics_lib.metrics.shared_results).

What a user relies on: a notebook shows the same numbers and tables with the run's shared
aggregates as without them, a notebook that finds them does not query the engine again, and a
result is never taken for other data, another segment or another period.
"""

from __future__ import annotations

import pandas as pd
import pytest

from metrics_lib.data import DEMO_DATA, engine_checks, open_source
from metrics_lib.metrics import aggregate, shared_results
from metrics_lib.metrics.scorecard import headline_metrics, to_json
from metrics_lib.metrics.shared_results import ENV_VAR, period_key, source_key
from metrics_lib.reporting.workbook import Workbook

TREND = ["revenue", "churn_rate", "nps", "csat", "win_rate", "first_response_hours_median"]


def _sections(wb: Workbook) -> dict:
    return {
        "headline": wb.headline(),
        "numbers": wb.headline_numbers().to_frame(),
        "trend": wb.trend(TREND, periods=8),
        "nps_mix": wb.nps_mix(periods=8),
        "clv_steps": wb.clv_steps(),
        "nps_churn": wb.nps_churn(),
        "health_bands": wb.health_validation().bands,
        "before_after": wb.before_after(window_days=365),
    }


@pytest.fixture(autouse=True)
def _no_shared_folder(monkeypatch):
    monkeypatch.delenv(ENV_VAR, raising=False)


def test_a_notebooks_numbers_are_the_same_with_and_without_the_shared_results(tmp_path, monkeypatch):
    alone = _sections(Workbook("2025-Q4"))

    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    first = _sections(Workbook("2025-Q4"))  # computes and writes the shared aggregates
    assert any(tmp_path.glob("*-activity.pkl")) and any(tmp_path.glob("call-*.pkl"))

    def no_engine(*_args, **_kwargs):
        raise AssertionError("the engine was queried for an aggregate that was shared")

    monkeypatch.setattr(aggregate, "activity_counts", no_engine)
    monkeypatch.setattr(aggregate, "orders_summary", no_engine)
    monkeypatch.setattr(aggregate, "survey_scores", no_engine)
    written = sorted(tmp_path.iterdir())
    again = _sections(Workbook("2025-Q4"))  # another notebook of the run: reads them
    assert sorted(tmp_path.iterdir()) == written  # nothing computed anew

    for name, frame in alone.items():
        pd.testing.assert_frame_equal(first[name], frame, obj=name)
        pd.testing.assert_frame_equal(again[name], frame, obj=name)


def test_another_period_segment_or_file_content_is_another_key(make_source):
    folder = make_source()
    src = open_source(folder)
    key = period_key(src, "2025-Q1", None)
    assert key == period_key(open_source(folder), "2025-Q1", None)  # the same data opened again
    assert period_key(src, "2025-Q2", None) != key
    assert period_key(src, "2025-Q1", "smb") != key

    orders = folder / "orders.csv"
    lines = orders.read_text().splitlines(keepends=True)
    orders.write_text("".join([lines[0], *lines[2:]]))  # one order fewer
    assert period_key(open_source(folder), "2025-Q1", None) != key


def test_a_source_that_is_not_a_folder_of_files_shares_nothing():
    class Database:
        kind = "postgres"

    assert source_key(Database()) is None


def test_without_the_variable_or_with_a_missing_folder_nothing_is_shared(tmp_path, monkeypatch):
    assert shared_results.shared_folder() is None
    monkeypatch.setenv(ENV_VAR, str(tmp_path / "gone"))
    assert shared_results.shared_folder() is None
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert shared_results.shared_folder() == tmp_path


# Two kernels of a run asking for the same result at once: each runs this script.
_KERNEL = """
import sys, time
from pathlib import Path
from metrics_lib.data import open_source
from metrics_lib.metrics.shared_results import found_call, shared_call

def compute(calls, fail):
    with open(calls, "a") as fh:
        fh.write("computed\\n")
    time.sleep(1.5)  # long enough for the other process to ask meanwhile
    if fail:
        raise SystemExit("the first process died while computing")
    return 42

src, mode = open_source(sys.argv[1]), sys.argv[3]
if mode == "found":  # takes it when computed or being computed, never computes it
    print(found_call(src, compute, sys.argv[2], False))
else:
    print(shared_call(src, compute, sys.argv[2], mode == "fail"))
"""


def _two_kernels(folder, shared, calls, first: str, second: str = "ok") -> list:
    import os
    import subprocess
    import sys
    import time

    env = {**os.environ, ENV_VAR: str(shared)}
    run = [sys.executable, "-c", _KERNEL, str(folder), str(calls)]
    a = subprocess.Popen([*run, first], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    while not calls.exists():  # the first is computing
        time.sleep(0.05)
    b = subprocess.Popen([*run, second], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    return [p.communicate(timeout=120) + (p.returncode,) for p in (a, b)]


def test_a_result_two_kernels_ask_for_at_once_is_computed_once(make_source, tmp_path):
    calls = tmp_path / "calls.txt"
    (a_out, _, a_rc), (b_out, b_err, b_rc) = _two_kernels(make_source(), tmp_path, calls, "ok")
    assert (a_rc, b_rc) == (0, 0), b_err
    assert a_out.strip() == b_out.strip() == "42"  # the second waited and read the first's result
    assert calls.read_text().splitlines() == ["computed"]


def test_a_result_being_computed_is_found_once_computed(make_source, tmp_path):
    calls = tmp_path / "calls.txt"
    (_, _, a_rc), (b_out, b_err, b_rc) = _two_kernels(make_source(), tmp_path, calls, "ok", "found")
    assert (a_rc, b_rc) == (0, 0), b_err
    assert b_out.strip() == "42" and calls.read_text().splitlines() == ["computed"]


def test_a_result_nobody_computes_is_not_found(make_source, tmp_path, monkeypatch):
    from metrics_lib.metrics.shared_results import found_call

    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    assert found_call(open_source(make_source()), pd.DataFrame, "anything") is None


def test_a_result_asked_for_again_while_it_is_computed_does_not_wait_for_itself(
    make_source, tmp_path, monkeypatch
):
    import threading

    from metrics_lib.metrics.shared_results import found_call, shared_call

    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    src = open_source(make_source())
    seen = []

    def compute():
        seen.append(found_call(src, compute))  # this very process is computing it: not there yet
        return 7

    worker = threading.Thread(target=lambda: seen.append(shared_call(src, compute)), daemon=True)
    worker.start()
    worker.join(timeout=60)
    assert not worker.is_alive(), "the process waited for its own lock"
    assert seen == [None, 7]


def test_a_kernel_waiting_for_one_that_dies_computes_the_result_itself(make_source, tmp_path):
    calls = tmp_path / "calls.txt"
    (_, _, a_rc), (b_out, b_err, b_rc) = _two_kernels(make_source(), tmp_path, calls, "fail")
    assert a_rc != 0 and b_rc == 0, b_err
    assert b_out.strip() == "42"
    assert calls.read_text().splitlines() == ["computed", "computed"]


def test_within_a_run_the_next_notebook_reuses_the_checked_source_until_a_file_changes(
    make_source, tmp_path, monkeypatch
):
    folder = make_source()
    alone = Workbook("2025-Q1", str(folder), restrict_paths=False).source
    assert Workbook("2025-Q1", str(folder), restrict_paths=False).source is not alone  # outside a run

    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    first = Workbook("2025-Q1", str(folder), restrict_paths=False).source
    assert Workbook("2025-Q1", str(folder), restrict_paths=False).source is first
    assert Workbook("2025-Q1", str(folder), on_invalid="quarantine", restrict_paths=False).source is not first

    orders = folder / "orders.csv"
    lines = orders.read_text().splitlines(keepends=True)
    orders.write_text("".join([lines[0], *lines[2:]]))
    assert Workbook("2025-Q1", str(folder), restrict_paths=False).source is not first


def test_files_the_runner_checked_clean_are_not_checked_again_by_the_notebooks(
    make_source, tmp_path, monkeypatch
):
    folder = make_source()
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    shared_results.mark_checked(open_source(folder))  # what the runner does before the notebooks
    shared_results._opened.clear()  # a new kernel

    def no_check(*_args, **_kwargs):
        raise AssertionError("the files were checked again")

    monkeypatch.setattr(type(open_source(folder)), "_has_orphans", no_check)
    wb = Workbook("2025-Q1", str(folder), restrict_paths=False)
    assert wb.headline_numbers(["retention"]) is not None

    shared_results._opened.clear()
    lines = (folder / "orders.csv").read_text().splitlines(keepends=True)
    (folder / "orders.csv").write_text("".join([lines[0], *lines[2:]]))  # changed since: checked
    with pytest.raises(AssertionError, match="checked again"):
        Workbook("2025-Q1", str(folder), restrict_paths=False)


def test_without_a_check_cache_the_notebooks_take_the_runners_checks_of_parquet_files(tmp_path, monkeypatch):
    # a scheduled run whose home folder cannot be written keeps no check cache: the kernels still
    # use the runner's checks, and give the same numbers as a source checked on its own
    monkeypatch.setenv("METRICS_LIB_CACHE_DIR", "off")
    alone = to_json(headline_metrics(open_source(DEMO_DATA), "2025-Q4"))
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    runner = open_source(DEMO_DATA)
    shared_results.mark_checked(runner)
    shared_results._opened.clear()  # a new kernel

    def no_check(*_args, **_kwargs):
        raise AssertionError("a table was checked again")

    monkeypatch.setattr(engine_checks, "check_table", no_check)
    src = shared_results.open_report_source(DEMO_DATA)
    assert to_json(headline_metrics(src, "2025-Q4")) == alone
    assert src._frames == {}  # every table used in place, none read into pandas
    assert src.engine_checks and all(c == runner.engine_checks[t] for t, c in src.engine_checks.items())


def test_the_runner_writes_the_fits_and_lists_from_the_models_the_reports_fitted(tmp_path, monkeypatch):
    # the value and health reports fit the CLV models and the churn model and build the at-risk
    # list; once they are done the runner writes clv_models.json and lists/*.csv from them
    import functools

    from metrics_lib.metrics import action_lists, churn_model, clv_contractual, clv_views
    from metrics_lib.reporting import clv_report

    alone = clv_report.fit_clv_models(open_source(), "2025-Q4")["models"]
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    wb = Workbook("2025-Q4")
    wb.clv_models()
    wb.contractual_clv()
    listed = wb.churn_model().at_risk_customers()
    for module, name in (
        (clv_views, "clv_models"),
        (clv_contractual, "contractual_clv"),
        (churn_model, "churn_model"),
    ):

        @functools.wraps(getattr(module, name))
        def fitted_again(*_args, _name=name, **_kwargs):
            raise AssertionError(f"{_name} was computed again by the runner")

        monkeypatch.setattr(module, name, fitted_again)
    runner_source = open_source()
    saved = clv_report.fit_clv_models(runner_source, "2025-Q4")["models"]
    assert set(saved) == set(alone) == {"bgnbd", "gamma_gamma", "bgnbd_holdout", "sbg"}
    for key, fit in saved.items():  # DuckDB's parallel sums may differ in the last bits
        assert fit["fit"]["params"] == pytest.approx(alone[key]["fit"]["params"], rel=1e-9)
    written = action_lists.period_at_risk_high_value(aggregate.Scope.of(runner_source, "2025-Q4"))
    assert list(written["customer_id"].head(len(listed))) == [str(c) for c in listed.index]


def test_relationship_groups_by_probability_alive_take_the_value_reports_fit(tmp_path, monkeypatch):
    from metrics_lib import clv
    from metrics_lib.metrics import cohorts
    from metrics_lib.metrics.clv_views import period_clv_models

    scope = aggregate.Scope.of(open_source(), "2025-Q4")
    alone = cohorts.relationship_customers(scope, "probability_alive")  # fits BG/NBD itself
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    period_clv_models(scope)  # the value report of the run

    def no_fit(*_args, **_kwargs):
        raise AssertionError("BG/NBD fitted again")

    monkeypatch.setattr(clv.BetaGeoModel, "fit", no_fit)
    pd.testing.assert_frame_equal(cohorts.relationship_customers(scope, "probability_alive"), alone)


def test_the_next_periods_churn_model_trains_on_the_features_already_worked_out(tmp_path, monkeypatch):
    # 2025-Q3's model reads 2024-Q3 to 2025-Q3; 2025-Q4's reads 2024-Q4 to 2025-Q4: only
    # 2025-Q4's features are new
    import functools

    from metrics_lib.metrics import churn_model as cm

    source = open_source()
    alone = cm.churn_model(aggregate.Scope.of(source, "2025-Q4")).fit.coefficients
    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    cm.churn_model(aggregate.Scope.of(source, "2025-Q3"))
    worked_out = []
    original = cm._labelled_now

    @functools.wraps(original)
    def counted(source, period, segment):
        worked_out.append(period.label)
        return original(source, period, segment)

    monkeypatch.setattr(cm, "_labelled_now", counted)
    shared = cm.churn_model(aggregate.Scope.of(source, "2025-Q4")).fit.coefficients
    assert worked_out == ["2025-Q4"]
    pd.testing.assert_frame_equal(shared, alone)


def test_the_at_risk_list_is_shared_per_training_periods_of_its_churn_model(tmp_path, monkeypatch):
    import functools

    from metrics_lib.metrics import action_lists

    monkeypatch.setenv(ENV_VAR, str(tmp_path))
    scope = aggregate.Scope.of(open_source(), "2025-Q4")
    built = []
    original = action_lists._at_risk_trained

    @functools.wraps(original)
    def counted(scope, *, training, model=None):
        built.append(training)
        return original(scope, training=training, model=model)

    monkeypatch.setattr(action_lists, "_at_risk_trained", counted)
    default = action_lists.period_at_risk_high_value(scope)
    again = action_lists.period_at_risk_high_value(scope)
    shorter = action_lists.period_at_risk_high_value(scope, training=2)
    assert built == [4, 2]  # the default (four periods) once, two periods once
    pd.testing.assert_frame_equal(again, default)
    assert not shorter.equals(default)
