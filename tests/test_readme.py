"""The README stays true: every `python -m metrics_lib` command it shows runs, and its mapping
example loads a CRM export with those column names. (`make report` and `make test` are run by
make and CI themselves.)"""

from __future__ import annotations

import json
import re
import shlex
import shutil
import subprocess
import sys

import duckdb
import pandas as pd
import pytest
import yaml

from metrics_lib.data import DEMO_DATA, PROJECT_ROOT, open_source
from metrics_lib.metrics.scorecard import headline_metrics, to_json

pytestmark = pytest.mark.integration  # runs every command the README shows

README = (PROJECT_ROOT / "README.md").read_text(encoding="utf-8")


def _blocks(lang: str) -> list[str]:
    return re.findall(rf"```{lang}\n(.*?)```", README, flags=re.S)


def _commands() -> list[str]:
    cmds = []
    for block in _blocks("bash"):
        for line in block.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith((".venv/bin/python -m metrics_lib", ".venv/bin/papermill")):
                cmds.append(line)
    return cmds


@pytest.fixture(scope="module")
def user_exports(tmp_path_factory):
    """The README's example paths, made real: a CSV export folder and a DuckDB file."""
    root = tmp_path_factory.mktemp("home")
    src = open_source(DEMO_DATA)
    folder = root / "exports" / "crm-2025"
    folder.mkdir(parents=True)
    con = duckdb.connect(str(root / "exports" / "crm.duckdb"))
    for table in ("customers", "orders"):
        df = src.frame(table)
        df.to_csv(folder / f"{table}.csv", index=False, date_format="%Y-%m-%d")
        con.register("frame", df)
        con.execute(f"CREATE TABLE {table} AS SELECT * FROM frame")
        con.unregister("frame")
    con.close()
    _export_shapes(root / "exports")
    return root


def _text_block(header: str) -> str:
    """The ```text block of the README that starts with ``header``."""
    return next(b for b in _blocks("text") if b.startswith(header))


def _yaml_block(key: str) -> str:
    return next(b for b in _blocks("yaml") if key in b)


def _export_shapes(exports):
    """The README's "Common export shapes" examples as the folders its commands name: a ticket
    event log with the README's mapping, and leads with its `open_deal_max_age_days`."""
    helpdesk, leads = exports / "helpdesk", exports / "leads"
    helpdesk.mkdir()
    leads.mkdir()
    mapping = _yaml_block("events:")
    (helpdesk / "mapping.yml").write_text(mapping)
    source = yaml.safe_load(mapping)["tables"]["tickets"]["source"]
    (helpdesk / source).write_text(_text_block("Case ID,"))
    (leads / "deals.csv").write_text(_text_block("deal_id,"))
    (leads / "source.yml").write_text(_yaml_block("open_deal_max_age_days"))


def test_readme_shows_commands():
    assert len(_commands()) >= 5


@pytest.mark.parametrize("command", _commands())
def test_readme_command_runs(command, user_exports, tmp_path):
    command = (
        command.replace("~", str(user_exports))
        .replace("/tmp/demo-100k", str(tmp_path / "demo"))
        .replace("/tmp/retention-2025-Q1.ipynb", str(tmp_path / "out.ipynb"))
        .replace("/tmp/scorecard.ipynb", str(tmp_path / "scorecard.ipynb"))
    )
    args = shlex.split(command)
    if args[0] == ".venv/bin/papermill":
        args = [sys.executable, "-m", "papermill", *args[1:]]
    else:
        assert args[0] == ".venv/bin/python"
        args = [sys.executable, *args[1:]]
    if args[3:4] == ["run"]:
        args += ["--out", str(tmp_path / "reports")]  # keep the project's reports/ untouched
    proc = subprocess.run(args, cwd=PROJECT_ROOT, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "Traceback" not in proc.stderr


def test_readme_mapping_example_loads_an_export(tmp_path):
    mapping = yaml.safe_load(_blocks("yaml")[0])
    (tmp_path / "mapping.yml").write_text(_blocks("yaml")[0])
    orders = mapping["tables"]["orders"]
    theirs = {ours: their for their, ours in orders["columns"].items()}
    pd.DataFrame(
        {
            theirs["order_id"]: ["A-1", "A-2"],
            theirs["customer_id"]: ["K1", "K1"],
            theirs["order_date"]: ["31/01/2025", "03/02/2025"],
            theirs["revenue"]: ["100", "20.5"],
        }
    ).to_csv(tmp_path / orders["source"], index=False)
    cust = {ours: their for their, ours in mapping["tables"]["customers"]["columns"].items()}
    pd.DataFrame({cust["customer_id"]: ["K1"], cust["signup_date"]: ["2025-01-31"]}).to_csv(
        tmp_path / "customers.csv", index=False
    )
    df = open_source(tmp_path).frame("orders")
    assert df["order_date"].dt.strftime("%Y-%m-%d").tolist() == ["2025-01-31", "2025-02-03"]
    assert df["revenue"].tolist() == [100.0, 20.5]


def test_readme_json_example_is_the_real_output():
    """The JSON example is today's `metrics --format json` for its period on the demo data,
    trimmed to one metric: the same top-level keys and values (but the data's full path), and the
    metric's record field for field, value for value."""
    example = json.loads(_blocks("json")[0])
    real = json.loads(to_json(headline_metrics(open_source(DEMO_DATA), example["period"])))
    assert list(example) == list(real)
    assert example["source"].endswith("/data/demo")
    top = [k for k in real if k not in ("source", "metrics")]
    assert {k: example[k] for k in top} == {k: real[k] for k in top}
    assert list(example["metrics"]) == ["churn_rate"]
    assert example["metrics"]["churn_rate"] == real["metrics"]["churn_rate"]
    assert list(example["metrics"]["churn_rate"]) == list(real["metrics"]["churn_rate"])  # and in order


def test_every_make_target_the_readme_shows_exists():
    makefile = (PROJECT_ROOT / "Makefile").read_text(encoding="utf-8")
    targets = set(re.findall(r"^([a-zA-Z_-]+):", makefile, flags=re.M))
    shown = {
        line.split()[1]
        for block in _blocks("bash")
        for line in block.splitlines()
        if line.startswith("make ")
    }
    assert {"report", "test", "lint", "test-quick"} <= shown
    assert shown <= targets, f"README shows make targets the Makefile lacks: {shown - targets}"


def test_readme_export_shapes_give_the_numbers_it_states(user_exports, tmp_path):
    """The worked examples of "Common export shapes": first responses after 1 and 3 hours
    (median 2), first contact resolution 1 of 2; with stale deals, the 2025-Q2 win rate 1 of 2
    and a 50-day cycle."""
    exports = user_exports / "exports"
    service = headline_metrics(open_source(exports / "helpdesk"), "2025-01", ids="service")["metrics"]
    assert service["first_response_hours_median"]["value"] == pytest.approx(2.0)
    fcr = service["first_contact_resolution"]
    assert (fcr["numerator"], fcr["denominator"]) == (1.0, 2.0)
    pipeline = headline_metrics(open_source(exports / "leads"), "2025-Q2", ids="pipeline")["metrics"]
    assert (pipeline["win_rate"]["numerator"], pipeline["win_rate"]["denominator"]) == (1.0, 2.0)
    assert pipeline["sales_cycle_days"]["value"] == pytest.approx(50.0)
    # the same when a later export shows D3 won on 2025-05-15, after its 90 days
    leads = shutil.copytree(exports / "leads", tmp_path / "leads")
    deals = (leads / "deals.csv").read_text()
    won_late = deals.replace("D3,,2025-01-05,,open,80", "D3,,2025-01-05,2025-05-15,won,80")
    assert won_late != deals
    (leads / "deals.csv").write_text(won_late)
    later = headline_metrics(open_source(leads), "2025-Q2", ids="pipeline")["metrics"]
    assert later["win_rate"] == pipeline["win_rate"]
    assert later["sales_cycle_days"] == pipeline["sales_cycle_days"]
