"""The report run: :func:`run_reports` plans the run, executes every notebook of every period
(one at a time or in parallel), publishes each period as soon as its last notebook is done and
rewrites the overview; :class:`NotebookResult` and :class:`RunSummary` say what happened."""

from __future__ import annotations

import os
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import pandas as pd

from metrics_lib.core.engine import out_of_memory_message
from metrics_lib.core.errors import WorkbookError, printable
from metrics_lib.core.periods import parse_period
from metrics_lib.data import resolve_path
from metrics_lib.data.csv_out import write_csv
from metrics_lib.metrics.coverage import coverage_notes, period_coverage
from metrics_lib.metrics.shared_results import mark_checked
from metrics_lib.reporting.clv_report import FITS_FILE, write_clv_fits
from metrics_lib.reporting.runner.execute import KERNEL_NAME, run_steps, sharing_results
from metrics_lib.reporting.runner.lists import write_action_lists
from metrics_lib.reporting.runner.plan import (
    check_parameters,
    discover_notebooks,
    open_checked_source,
    parse_periods,
    refuse_password_in_url,
    select_families,
)
from metrics_lib.reporting.runner.provenance import git_state, now, package_versions, project_root
from metrics_lib.reporting.runner.publish import (
    check_out,
    clean_stale,
    discard_staging,
    finish_period,
    make_staging,
    period_banner,
    quality_banner,
    staging_path,
    write_overview,
    writing_to,
)
from metrics_lib.reporting.verdict import run_verdict_or_reason

# -- results -----------------------------------------------------------------------------------


@dataclass
class NotebookResult:
    """What happened to one notebook for one period.

    ``status`` is ``ok``, ``failed`` or ``skipped``; ``error`` is the first line of a failure,
    ``reason`` why a family was skipped. ``html`` and ``executed`` are relative to the period
    folder (``None`` when skipped).
    """

    period: str
    family: str
    notebook: str
    status: str
    parameters: dict = field(default_factory=dict)
    started: str | None = None
    ended: str | None = None
    duration_s: float | None = None
    error: str | None = None
    reason: str | None = None
    html: str | None = None
    executed: str | None = None


@dataclass
class RunSummary:
    """The outcome of :func:`run_reports`."""

    periods: list[str]
    results: list[NotebookResult]
    out: Path
    index: Path
    duration_s: float

    @property
    def ok(self) -> bool:
        """True when no notebook failed (skipped families do not count as failures)."""
        return not any(r.status == "failed" for r in self.results)

    @property
    def counts(self) -> dict[str, int]:
        out = {"ok": 0, "failed": 0, "skipped": 0}
        for r in self.results:
            out[r.status] = out.get(r.status, 0) + 1
        return out

    @property
    def failed(self) -> list[NotebookResult]:
        return [r for r in self.results if r.status == "failed"]

    def period_folder(self, period: str) -> Path:
        return self.out / parse_period(period).label

    def text(self) -> str:
        c = self.counts
        n = len(self.results)
        periods = len(self.periods)
        return (
            f"{n} notebook{'s' if n != 1 else ''} in {periods} period{'s' if periods != 1 else ''}: "
            f"{c['ok']} ok, {c['failed']} failed, {c['skipped']} skipped in {self.duration_s:.1f} s; "
            f"index: {self.index}"
        )


def _as_of_date(text) -> date | None:
    """The notebooks' ``as_of`` parameter as a date, read as the Workbook reads it; None when it
    is not given or not a date (the notebooks then report it)."""
    if not text:
        return None
    try:
        return pd.Timestamp(text).date()
    except (ValueError, TypeError):
        return None


#: The reports that take longest on a large source, started first within a period so that the
#: jobs end together (at 1M customers: scorecard, value and health 50 to 70 s each, pipeline 23 s,
#: retention 10 s, the others under 5 s). The rest follow in the notebooks' order.
LONGEST_FIRST = ("scorecard", "value", "health", "pipeline", "retention")


def start_rank(family: str) -> int:
    """Where ``family`` starts among a period's reports (:data:`LONGEST_FIRST`)."""
    return LONGEST_FIRST.index(family) if family in LONGEST_FIRST else len(LONGEST_FIRST)


def _failure(exc: Exception) -> str:
    """What stopped an extra of the run, in one line (DuckDB out of memory: the setting to raise)."""
    return out_of_memory_message(exc) or f"{type(exc).__name__}: {printable(str(exc))}"


def run_reports(
    periods=None,
    *,
    data=None,
    mapping=None,
    families=None,
    jobs: int | None = None,
    out="reports",
    notebooks_dir=None,
    extra_parameters: dict | None = None,
    cell_timeout: float | None = None,
    on_invalid: str = "strict",
    show_pii: bool = False,
    progress: Callable[[str], None] | None = print,
) -> RunSummary:
    """Execute and render the report notebooks for each period.

    Parameters
    ----------
    periods : str or list of str, optional
        ``2025-03``, ``2025-Q1`` or ``2025`` labels; default: the data source's default period.
    data : path-like, optional
        The data source (folder or ``.duckdb``); relative paths resolve from the project folder,
        as in :func:`~metrics_lib.data.open_source`. A ``postgresql://`` URL (without a
        password: use ``PGPASSWORD`` or ``~/.pgpass``) runs the notebooks on PostgreSQL.
        Default: the demo data.
    mapping : path-like, optional
        Column-mapping YAML for the data source (relative to the current directory); the
        notebooks get it as their ``mapping`` parameter. Default: ``mapping.yml`` beside the data.
    families : str or list of str, optional
        Only these families (``"retention,value"`` or a list); default: every notebook found.
    jobs : int, optional
        Notebooks run at once, each in its own process; default and at most: the number of CPUs.
    out : path-like
        Where the reports go (relative to the current directory).
    notebooks_dir : path-like, optional
        Folder of ``NN_<family>.ipynb`` notebooks; default: the project's ``notebooks/``.
    extra_parameters : dict, optional
        More notebook parameters (``targets``, ``segment``, ``as_of``...); each must be a
        parameter of every selected notebook.
    cell_timeout : float, optional
        Seconds a single cell may run before the notebook is failed; default: no limit.
    on_invalid : {"strict", "quarantine"}
        ``strict`` stops before anything runs when the data breaks the contract; ``quarantine``
        sets the offending rows aside, writes them with the reason to
        ``<out>/<period>/rejected/<table>.csv``, counts them in the manifest and puts a
        data-quality banner at the top of every report.
    show_pii : bool
        Include free text that may hold personal data (survey comments, review texts): in the
        reports (the notebooks' ``show_pii`` parameter) and in ``rejected/<table>.csv`` and
        ``lists/detractor_follow_up.csv``, where it is otherwise replaced by a note. Also taken
        from ``extra_parameters["show_pii"]``.
    progress : callable, optional
        Receives one line per notebook started and finished and a closing summary.

    Returns
    -------
    RunSummary
        ``ok`` is False when any notebook failed.

    Raises
    ------
    WorkbookError
        Before anything runs: a bad period, an unknown family, a parameter no notebook takes,
        a data source that cannot be opened or breaks the contract, an ``out`` that is a file,
        cannot be written, or holds a period folder or ``index.html`` that a run did not make.
        During the run: the reports cannot be written (a full disk); the message names ``--out``.
        A run removes or replaces only folders a run made (see
        :mod:`~metrics_lib.reporting.runner.publish`), never anything else in ``out``.
    """
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    if jobs is None:
        jobs = os.cpu_count() or 1
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise WorkbookError(f"jobs ({jobs!r}) must be a whole number of 1 or more")
    jobs = min(jobs, os.cpu_count() or 1)
    notebooks_dir = (
        Path(notebooks_dir).expanduser().resolve() if notebooks_dir else project_root() / "notebooks"
    )
    notebooks = select_families(discover_notebooks(notebooks_dir), families)
    wanted = parse_periods(periods) if periods is not None else None
    extra = dict(extra_parameters or {})
    for reserved in ("period", "data", "mapping"):
        if reserved in extra:
            raise WorkbookError(f"`{reserved}` is set by the runner; pass it as the {reserved} argument")
    if on_invalid not in ("strict", "quarantine"):
        raise WorkbookError(f"on_invalid ({on_invalid!r}) must be 'strict' or 'quarantine'")
    if on_invalid != "strict":
        extra["on_invalid"] = on_invalid
    show_pii = bool(show_pii or extra.get("show_pii"))
    if show_pii:
        extra["show_pii"] = True
    if mapping is not None:  # the notebooks open the source again: with the same mapping
        extra["mapping"] = str(resolve_path(mapping, base=Path.cwd()))
    check_parameters(notebooks, {"period": "", "data": "", **extra})
    refuse_password_in_url(data)

    src = open_checked_source(data, mapping, on_invalid)
    rejected = {table: frame for table, frame in src.rejected.items() if len(frame)}
    banner = quality_banner(rejected)
    if wanted is None:
        wanted = [src.default_period()]
    if not wanted:
        raise WorkbookError("no period given; pass a period such as 2025-03, 2025-Q1 or 2025")
    missing = src.missing_families()
    inputs = src.fingerprints()
    data_info = {
        "path": str(src.path),
        "kind": src.kind,
        "mapping": str(src.mapping.path) if src.mapping.path else None,
        "tables": list(src.tables),
    }
    versions = package_versions()
    git = git_state()

    out = Path(out).expanduser().resolve()
    labels = [p.label for p in wanted]
    check_out(out, labels)
    with writing_to(out):
        out.mkdir(parents=True, exist_ok=True)
        clean_stale(out)

    total = len(labels) * len(notebooks)
    plan: dict[str, dict] = {}
    steps: list[tuple[int, str, str, dict | None]] = []  # (step, period, family, task or None if skipped)
    as_of = _as_of_date(extra.get("as_of"))
    for period in wanted:
        label = period.label
        tmp = staging_path(out, label)
        cur = period_coverage(src, period, as_of=as_of)
        prev = period_coverage(src, period.previous(), as_of=as_of)
        banners = banner + period_banner(coverage_notes(cur, prev), complete=cur.complete)
        params = {"period": label, "data": str(src.path), **extra}
        results: dict[str, NotebookResult] = {}
        period_steps: list[tuple[str, dict | None]] = []
        for family, path in notebooks.items():
            res = NotebookResult(label, family, path.name, "pending", parameters=dict(params))
            results[family] = res
            task = None
            if family in missing:
                res.status = "skipped"
                res.reason = f"the data source lacks table(s) {', '.join(missing[family])}"
            else:
                res.html = f"{family}.html"
                res.executed = f"notebooks/{family}.ipynb"
                task = {
                    "notebook": str(path),
                    "executed": str(tmp / res.executed),
                    "html": str(tmp / res.html),
                    # the published file: the executed notebook reruns alone with its fits
                    "parameters": {**params, "clv_models": str(out / label / FITS_FILE)}
                    if family == "value"
                    else params,
                    "cwd": str(notebooks_dir),
                    "cell_timeout": cell_timeout,
                    "title": f"{family} \N{EM DASH} {label}",
                    "period": label,
                    "family": family,
                    "banner": banners,
                }
            period_steps.append((family, task))
        period_steps.sort(key=lambda ft: start_rank(ft[0]))  # the longest first: the jobs end together
        first = len(steps) + 1
        steps.extend((first + i, label, family, task) for i, (family, task) in enumerate(period_steps))
        plan[label] = {
            "period": period,
            "tmp": tmp,
            "results": results,
            "started": None,
            "t0": None,
            "pending": len(results),
        }

    def begin(step: int, label: str, family: str) -> None:
        entry = plan[label]
        if entry["t0"] is None:
            entry["started"], entry["t0"] = now(), time.perf_counter()
        res = entry["results"][family]
        if res.status == "skipped":
            say(f"[{step}/{total}] {label} {family} ... skipped ({res.reason})")
            settle(label)
        else:
            say(f"[{step}/{total}] {label} {family} ...")

    def record(step: int, label: str, family: str, outcome: dict) -> None:
        res = plan[label]["results"][family]
        res.status, res.error = outcome["status"], outcome["error"]
        res.started, res.ended, res.duration_s = outcome["started"], outcome["ended"], outcome["duration_s"]
        tail = (
            f"ok ({res.duration_s:.1f} s)"
            if res.status == "ok"
            else f"FAILED ({res.duration_s:.1f} s): {res.error}"
        )
        say(f"[{step}/{total}] {label} {family} ... {tail}")
        settle(label)

    def settle(label: str) -> None:
        entry = plan[label]
        entry["pending"] -= 1
        if entry["pending"] == 0:
            write_extras(label)
            finish_period(
                entry,
                out / label,
                {
                    "parameters": {"period": label, "data": str(src.path), **extra},
                    "notebooks_dir": str(notebooks_dir),
                    "kernel": KERNEL_NAME,
                    "data_source": data_info,
                    "inputs": inputs,
                    "versions": versions,
                    "git": git,
                    "on_invalid": on_invalid,
                    "rejected": {
                        t: {"rows": len(f), "file": f"rejected/{t}.csv"} for t, f in rejected.items()
                    },
                    "verdict": run_verdict_or_reason(src, entry["period"], extra, as_of),  # for the index
                },
            )

    def write_extras(label: str) -> None:
        """The period's CLV fits and action lists, written once its notebooks are done: the models
        and lists the value and health reports computed are in the shared folder by then, so the
        runner computes only what no report did. They are extras: whatever stops them (a full
        disk, DuckDB out of memory) is a line in the output, and the reports are published."""
        tmp = plan[label]["tmp"]
        if "value" in notebooks and "value" not in missing:  # for rerunning the value report alone
            try:
                ok = write_clv_fits(src, label, extra.get("segment"), tmp / FITS_FILE)
                why = "" if ok else "the models could not be fitted or saved"
            except Exception as exc:
                why = _failure(exc)
            if why:
                say(f"{label} {FITS_FILE} not written: {why}")
        try:
            lines = write_action_lists(
                src,
                plan[label]["period"],
                tmp,
                families=notebooks,
                segment=extra.get("segment"),
                show_pii=show_pii,
            )
        except Exception as exc:
            lines = [f"lists not written: {_failure(exc)}"]
        for line in lines:
            say(f"{label} {line}")

    staged: list[Path] = []
    try:
        with writing_to(out):
            shared = make_staging(out, "shared")  # the aggregates the notebooks share (not published)
            staged.append(shared)
            # the runner's own CLV fits and lists are found in, or added to, the shared folder
            with sharing_results(shared):
                mark_checked(src)  # the notebooks need not check the same files again
                for label in labels:
                    tmp = make_staging(out, label)
                    staged.append(tmp)
                    (tmp / "notebooks").mkdir()
                    if rejected:
                        (tmp / "rejected").mkdir()
                        for table, frame in rejected.items():
                            write_csv(
                                frame, tmp / "rejected" / f"{table}.csv", table=table, show_pii=show_pii
                            )
                run_steps(steps, jobs, begin, record)
            index = write_overview(out)
    except BaseException:
        for tmp in staged:  # this run's own folders (a period published is no longer there)
            discard_staging(tmp)
        raise
    discard_staging(shared)

    flat = [r for label in labels for r in plan[label]["results"].values()]
    summary = RunSummary(labels, flat, out, index, round(time.perf_counter() - t0, 2))
    say(summary.text())
    return summary
