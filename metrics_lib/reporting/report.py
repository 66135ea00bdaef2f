"""Run the report notebooks for one or more periods and publish them as offline HTML.

Every notebook ``notebooks/NN_<family>.ipynb`` is executed with papermill for each period and
rendered without its code. A period is written to ``<out>/<period>/``::

    <out>/index.html                     every period x family, newest period first
    <out>/<period>/index.html            the period's families: status, duration, error
    <out>/<period>/<family>.html         one report, self-contained (no network)
    <out>/<period>/notebooks/<family>.ipynb   the executed notebook
    <out>/<period>/manifest.json         parameters, timings, statuses, versions, input hashes

A period is built in ``<out>/.tmp-<period>-<pid>`` and renamed into place when complete, so a
folder named after a period is always a finished run.
"""

from __future__ import annotations

import argparse
import html
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable, Iterable
from urllib.parse import quote

from metrics_lib.core.errors import WorkbookError
from metrics_lib.core.periods import Period, parse_period, period_range

__all__ = [
    "NotebookResult",
    "RunSummary",
    "run_reports",
    "discover_notebooks",
    "add_run_parser",
    "main_run",
]

KERNEL_NAME = "python3"
MANIFEST_SCHEMA = 1
_NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
_FAMILY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_TEMP_PREFIXES = (".tmp-", ".old-")
_VERSIONED = {
    "metrics_lib": "metrics-lib",
    "pandas": "pandas",
    "duckdb": "duckdb",
    "ibis": "ibis-framework",
    "papermill": "papermill",
    "nbconvert": "nbconvert",
}


def _project_root() -> Path:
    from metrics_lib.data.source import PROJECT_ROOT

    return PROJECT_ROOT


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


# -- discovery and checks ------------------------------------------------------------------------

def discover_notebooks(notebooks_dir=None) -> dict[str, Path]:
    """The report notebooks of a folder, ``{family: path}`` in file-name order.

    A notebook is a file ``NN_<family>.ipynb`` (two digits, an underscore, the family name).
    """
    folder = Path(notebooks_dir) if notebooks_dir is not None else _project_root() / "notebooks"
    folder = folder.expanduser().resolve()
    if not folder.is_dir():
        raise WorkbookError(f"{folder}: notebooks folder not found")
    found: dict[str, Path] = {}
    for path in sorted(folder.glob(_NOTEBOOK_GLOB)):
        family = path.stem[3:]
        if not _FAMILY_NAME.match(family):
            raise WorkbookError(
                f"{path}: the family name `{family}` may only hold letters, digits, '_' and '-'; "
                "rename the notebook NN_<family>.ipynb"
            )
        if family in found:
            raise WorkbookError(
                f"{path}: family `{family}` already comes from {found[family].name}; keep one notebook "
                "per family"
            )
        found[family] = path
    if not found:
        raise WorkbookError(f"{folder}: no report notebooks (files named NN_<family>.ipynb)")
    return found


def _select_families(available: dict[str, Path], families) -> dict[str, Path]:
    if families is None:
        return dict(available)
    if isinstance(families, str):
        families = families.split(",")
    wanted = [str(f).strip() for f in families if str(f).strip()]
    if not wanted:
        raise WorkbookError(f"no family given; known families: {', '.join(available)}")
    unknown = [f for f in wanted if f not in available]
    if unknown:
        raise WorkbookError(
            f"unknown famil{'ies' if len(unknown) > 1 else 'y'} {', '.join(f'`{f}`' for f in unknown)}; "
            f"known families: {', '.join(available)}"
        )
    return {f: p for f, p in available.items() if f in wanted}


def _parse_periods(periods) -> list[Period]:
    if isinstance(periods, (str, Period)):
        periods = [periods]
    out: list[Period] = []
    for p in periods:
        parsed = parse_period(p)
        if parsed not in out:
            out.append(parsed)
    return out


def _check_parameters(notebooks: dict[str, Path], parameters: dict) -> None:
    import papermill

    for name in parameters:
        if not isinstance(name, str) or not _PARAMETER_NAME.match(name):
            raise WorkbookError(f"parameter name {name!r} is not a Python identifier")
    for family, path in notebooks.items():
        known = papermill.inspect_notebook(str(path))
        if not known:
            raise WorkbookError(
                f"{path.name}: no cell tagged `parameters`; tag the cell that holds period, data, "
                "targets, segment and as_of"
            )
        unknown = [p for p in parameters if p not in known]
        if unknown:
            raise WorkbookError(
                f"{path.name} has no parameter {', '.join(f'`{u}`' for u in unknown)}; "
                f"its parameters: {', '.join(known)}"
            )


def _refuse_password_in_url(data) -> None:
    """A database URL reaches every notebook as a parameter, so it may not carry a password."""
    from urllib.parse import urlsplit

    from metrics_lib.data.engines import is_database_url, redact

    if is_database_url(data) and urlsplit(data.strip()).password is not None:
        raise WorkbookError(
            f"cannot run the reports: the URL {redact(data.strip())} holds a password, which would be "
            "written into every executed notebook; drop it from the URL and give it in PGPASSWORD "
            "or ~/.pgpass"
        )


def _open_source(data, mapping, on_invalid="strict"):
    from metrics_lib.core.errors import ContractError
    from metrics_lib.data.source import DataSource

    try:
        src = DataSource(data, mapping=mapping, on_invalid=on_invalid)
        src.check_all()
    except ContractError as exc:
        raise WorkbookError(
            f"cannot run the reports: the data source breaks the contract, so no notebook was run "
            f"(run `python -m metrics_lib validate` for a summary).\n{exc}"
        ) from None
    except WorkbookError as exc:
        raise WorkbookError(f"cannot run the reports: {exc}") from None
    if not src.tables:
        raise WorkbookError(
            f"cannot run the reports: {src.path} holds no table of the data contract "
            "(customers.csv, orders.parquet, ...)"
        )
    return src


# -- provenance -------------------------------------------------------------------------------

def package_versions() -> dict[str, str | None]:
    """Installed versions of the packages a report depends on (``None`` when absent)."""
    from importlib import metadata

    out: dict[str, str | None] = {"python": sys.version.split()[0]}
    for key, dist in _VERSIONED.items():
        try:
            out[key] = metadata.version(dist)
        except metadata.PackageNotFoundError:
            out[key] = None
    if out["metrics_lib"] is None:
        from metrics_lib import __version__

        out["metrics_lib"] = __version__
    return out


def git_state(root: Path | None = None) -> dict[str, object]:
    """The project's commit and whether tracked files differ from it; ``None`` without git."""
    root = root or _project_root()

    def git(*args):
        return subprocess.run(["git", "-C", str(root), *args], capture_output=True, text=True,
                              timeout=10, check=True).stdout.strip()

    try:
        commit = git("rev-parse", "HEAD")
    except (OSError, subprocess.SubprocessError):
        return {"commit": None, "dirty": None}
    try:
        dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    except (OSError, subprocess.SubprocessError):
        dirty = None
    return {"commit": commit, "dirty": dirty}


def _now() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="seconds")


# -- executing and rendering one notebook (runs in a worker process with --jobs > 1) ------------

_OFFLINE_TEMPLATE = """\
{%- extends 'index.html.j2' -%}
{%- block html_head_js -%}{%- endblock html_head_js -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block extra_css -%}
<style type="text/css">
.mlr-nav { font: 14px system-ui, sans-serif; padding: 8px 16px; border-bottom: 1px solid #ddd; }
.mlr-nav a { margin-right: 1.5em; }
.mlr-nav .failed { color: #b00020; font-weight: 600; }
</style>
{%- endblock extra_css -%}
{%- block body_header -%}
{{ super() }}
{{ resources.get('report_nav', '') }}
{%- endblock body_header -%}
"""

_REMOTE_TAGS = [
    re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?\s*(?:https?:)?//[^>]*>\s*</script\s*>", re.I | re.S),
    re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?\s*(?:https?:)?//[^>]*>", re.I | re.S),
]
_STYLE_BLOCK = re.compile(r"(<style\b[^>]*>)(.*?)(</style\s*>)", re.I | re.S)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)

_exporter = None


def _html_exporter():
    global _exporter
    if _exporter is None:
        from jinja2 import DictLoader
        from nbconvert import HTMLExporter

        _exporter = HTMLExporter(
            template_name="lab",
            template_file="metrics_offline.html.j2",
            extra_loaders=[DictLoader({"metrics_offline.html.j2": _OFFLINE_TEMPLATE})],
            exclude_input=True,
            exclude_input_prompt=True,
            exclude_output_prompt=True,
        )
    return _exporter


def make_offline(page: str) -> str:
    """Drop every script or stylesheet fetched from the network, and CSS comments (which hold
    reference URLs), from a rendered page."""
    for pattern in _REMOTE_TAGS:
        page = pattern.sub("", page)
    return _STYLE_BLOCK.sub(lambda m: m[1] + _CSS_COMMENT.sub("", m[2]) + m[3], page)


def render_notebook(nb, *, title: str, nav_html: str = "") -> str:
    """A notebook as a self-contained HTML page without code: outputs and markdown only."""
    body, _ = _html_exporter().from_notebook_node(
        nb, resources={"metadata": {"name": title}, "report_nav": nav_html}
    )
    return make_offline(body)


@contextmanager
def _kernel_environment():
    """The kernel inherits this process's environment: let it import this metrics_lib, draw
    plots inline even when the caller set ``MPLBACKEND=Agg`` (which would leave every report
    without its figures), and keep the debugger's frozen-modules warning off the console."""
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", "PYDEVD_DISABLE_FILE_VALIDATION", "MPLBACKEND")}
    root = str(_project_root())
    paths = [p for p in (saved["PYTHONPATH"] or "").split(os.pathsep) if p]
    os.environ["PYTHONPATH"] = os.pathsep.join([root] + [p for p in paths if p != root])
    os.environ["PYDEVD_DISABLE_FILE_VALIDATION"] = "1"
    os.environ["MPLBACKEND"] = "module://matplotlib_inline.backend_inline"
    try:
        yield
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v


def _transport(folder: str) -> dict:
    """Talk to the kernel over Unix sockets in a private folder rather than loopback TCP ports."""
    if os.name != "posix":
        return {}
    from traitlets.config import Config

    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = os.path.join(folder, "kernel")
    return {"config": config}


def _first_line(text: str) -> str:
    for line in str(text).splitlines():
        if line.strip():
            return line.strip()
    return ""


def _describe_error(exc: BaseException) -> str:
    ename = getattr(exc, "ename", None)
    if ename is not None:  # papermill's PapermillExecutionError: the notebook's own exception
        value = _first_line(getattr(exc, "evalue", "") or "")
        return f"{ename}: {value}" if value else str(ename)
    value = _first_line(str(exc))
    return f"{type(exc).__name__}: {value}" if value else type(exc).__name__


def _error_page(title: str, message: str, nav_html: str) -> str:
    return _page(title, f"{nav_html}<h1>{html.escape(title)}</h1>"
                 f"<p class='failed'>The report could not be rendered:</p><pre>{html.escape(message)}</pre>")


def execute_and_render(task: dict) -> dict:
    """Execute one notebook with papermill and render it; never raises for a notebook's failure.

    ``task`` holds ``notebook``, ``executed``, ``html`` (paths), ``parameters``, ``cwd``, ``title``,
    ``period``, ``family`` and ``cell_timeout``. Returns ``status``, ``error``, ``started``, ``ended`` and
    ``duration_s``.
    """
    import nbformat
    import papermill

    started, t0 = _now(), time.perf_counter()
    executed = Path(task["executed"])
    error = None
    try:
        with tempfile.TemporaryDirectory(prefix="mlr-kernel-") as sockets, _kernel_environment():
            papermill.execute_notebook(
                task["notebook"], str(executed), parameters=task["parameters"],
                kernel_name=KERNEL_NAME, cwd=task["cwd"], progress_bar=False, log_output=False,
                request_save_on_cell_execute=False, execution_timeout=task.get("cell_timeout"),
                **_transport(sockets),
            )
    except Exception as exc:  # the notebook failed (or its kernel did): keep going
        error = _describe_error(exc) or "the notebook failed"
    nav_html = _nav_for(task["period"], task["family"], "failed" if error else "ok")
    try:
        nb = nbformat.read(str(executed), as_version=4)
        page = render_notebook(nb, title=task["title"], nav_html=nav_html)
    except Exception as exc:
        page = _error_page(task["title"], error or _describe_error(exc), nav_html)
        if error is None:
            error = f"rendering failed: {_describe_error(exc)}"
    if task.get("banner"):
        page = re.sub(r"(<body[^>]*>)", lambda m: m[1] + task["banner"], page, count=1)
    Path(task["html"]).write_text(page, encoding="utf-8")
    return {
        "status": "failed" if error else "ok",
        "error": error,
        "started": started,
        "ended": _now(),
        "duration_s": round(time.perf_counter() - t0, 2),
    }


# -- pages ----------------------------------------------------------------------------------------

_CSS = """
body { font: 15px/1.45 system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2em auto;
       max-width: 72em; padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } table { border-collapse: collapse; margin: 1em 0; }
th, td { border: 1px solid #ddd; padding: 6px 10px; text-align: left; vertical-align: top; }
th { background: #f5f5f5; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.ok { color: #1b7f3b; } .failed { color: #b00020; font-weight: 600; } .skipped { color: #777; }
.none { color: #bbb; } .meta { color: #555; font-size: 0.9em; } .note { color: #555; }
code, pre { font-size: 0.9em; } pre { white-space: pre-wrap; }
"""


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _href(*parts: str) -> str:
    return _e("/".join(quote(p) for p in parts))


def _page(title: str, body: str) -> str:
    return (
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
        "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
        f"<title>{_e(title)}</title>\n<style>{_CSS}</style>\n</head>\n<body>\n{body}\n</body>\n</html>\n"
    )


def _duration(seconds) -> str:
    return "" if seconds is None else f"{seconds:.1f} s"


def _nav_for(period: str, family: str, status: str) -> str:
    state = " <span class='failed'>this notebook failed</span>" if status == "failed" else ""
    return (
        f"<nav class='mlr-nav'><a href='index.html'>&larr; {_e(period)}</a>"
        f"<a href='../index.html'>all periods</a>"
        f"<a href='{_href('notebooks', family + '.ipynb')}'>executed notebook</a>{state}</nav>"
    )


def period_index_html(manifest: dict) -> str:
    """The page of one period: each family with its status, duration and error or reason."""
    period = manifest["period"]
    rows = []
    for nb in manifest["notebooks"]:
        fam, status = nb["family"], nb["status"]
        name = f"<a href='{_href(nb['html'])}'>{_e(fam)}</a>" if nb.get("html") else _e(fam)
        note = nb.get("error") or nb.get("reason") or ""
        executed = (f"<a href='{_href(*nb['executed'].split('/'))}'>{_e(Path(nb['executed']).name)}</a>"
                    if nb.get("executed") else "")
        rows.append(
            f"<tr><td>{name}</td><td class='{_e(status)}'>{_e(status)}</td>"
            f"<td class='num'>{_e(_duration(nb.get('duration_s')))}</td>"
            f"<td class='note'>{_e(note)}</td><td>{executed}</td></tr>"
        )
    git = manifest.get("git") or {}
    commit = git.get("commit")
    commit_text = (commit[:12] + (" (with uncommitted changes)" if git.get("dirty") else "")) if commit else "unknown"
    counts = manifest.get("counts", {})
    body = (
        f"<p><a href='../index.html'>&larr; all periods</a></p>"
        f"<h1>Reports for {_e(period)}</h1>"
        f"<p class='meta'>{_e(manifest.get('period_start'))} to {_e(manifest.get('period_end'))} &middot; "
        f"data: <code>{_e(manifest.get('data_source', {}).get('path'))}</code> &middot; "
        f"generated {_e(manifest.get('ended'))} in {_e(_duration(manifest.get('duration_s')))} &middot; "
        f"commit {_e(commit_text)}</p>"
        f"<p>{_e(counts.get('ok', 0))} ok, {_e(counts.get('failed', 0))} failed, "
        f"{_e(counts.get('skipped', 0))} skipped</p>"
        "<table><thead><tr><th>family</th><th>status</th><th>duration</th><th>error or reason</th>"
        "<th>executed notebook</th></tr></thead><tbody>"
        + "".join(rows)
        + "</tbody></table>"
        f"<p class='meta'><a href='manifest.json'>manifest.json</a>: parameters, versions and input "
        "fingerprints of this run</p>"
    )
    return _page(f"Reports for {period}", body)


def _family_order(entries: Iterable[tuple[str, str]]) -> list[str]:
    """Families ordered scorecard first, then by notebook file name."""
    best: dict[str, str] = {}
    for family, notebook in entries:
        best[family] = min(best.get(family, notebook), notebook)
    return sorted(best, key=lambda f: (f != "scorecard", best[f], f))


def read_manifests(out) -> list[dict]:
    """The manifests of every finished period under ``out``, newest period first.

    Temporary folders (``.tmp-*``, ``.old-*``) and folders not named after a period are ignored.
    """
    out = Path(out)
    found: list[tuple[Period, dict]] = []
    if not out.is_dir():
        return []
    for child in out.iterdir():
        if not child.is_dir() or child.name.startswith("."):
            continue
        try:
            period = parse_period(child.name)
        except WorkbookError:
            continue
        if period.label != child.name or not (child / "manifest.json").is_file():
            continue
        try:
            manifest = json.loads((child / "manifest.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if isinstance(manifest, dict) and isinstance(manifest.get("notebooks"), list):
            found.append((period, manifest))
    found.sort(key=lambda pm: (pm[0].end, -pm[0].months), reverse=True)
    return [m for _, m in found]


def overview_html(manifests: list[dict]) -> str:
    """The page across periods: a period x family grid, each cell a status linking to the report."""
    families = _family_order(
        (nb["family"], nb.get("notebook", "")) for m in manifests for nb in m["notebooks"]
    )
    head = "".join(f"<th>{_e(f)}</th>" for f in families)
    rows = []
    for m in manifests:
        period = m["period"]
        by_family = {nb["family"]: nb for nb in m["notebooks"]}
        cells = []
        for fam in families:
            nb = by_family.get(fam)
            if nb is None:
                cells.append("<td class='none'>&ndash;</td>")
                continue
            status = nb["status"]
            note = nb.get("error") or nb.get("reason") or ""
            label = _e(status)
            if nb.get("html"):
                label = f"<a class='{_e(status)}' href='{_href(period, nb['html'])}' title='{_e(note)}'>{label}</a>"
            else:
                label = f"<span class='{_e(status)}' title='{_e(note)}'>{label}</span>"
            dur = _duration(nb.get("duration_s"))
            cells.append(f"<td class='{_e(status)}'>{label}" + (f" <span class='meta'>{_e(dur)}</span>" if dur else "")
                         + "</td>")
        rows.append(f"<tr><th><a href='{_href(period, 'index.html')}'>{_e(period)}</a></th>{''.join(cells)}</tr>")
    if manifests:
        table = (f"<table><thead><tr><th>period</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
                 "<p class='meta'>Hover over a failed or skipped cell to see why.</p>")
    else:
        table = "<p>No reports yet: run <code>python -m metrics_lib run</code>.</p>"
    return _page("Metric reports", f"<h1>Metric reports</h1>{table}<p class='meta'>updated {_e(_now())}</p>")


def write_overview(out) -> Path:
    """Rewrite ``<out>/index.html`` from the manifests found under ``out``."""
    out = Path(out)
    target = out / "index.html"
    _write_atomic(target, overview_html(read_manifests(out)))
    return target


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text, encoding="utf-8")
    os.replace(tmp, path)


# -- folders ----------------------------------------------------------------------------------------

def _pid_alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    except OSError:
        return False
    return True


def clean_stale(out: Path) -> list[Path]:
    """Remove temporary folders left by runs that were killed (their process is gone)."""
    removed = []
    if not out.is_dir():
        return removed
    for child in out.iterdir():
        if not child.name.startswith(_TEMP_PREFIXES):
            continue
        m = re.search(r"-(\d+)$", child.name)
        if m and _pid_alive(int(m[1])):
            continue
        if child.is_dir():
            shutil.rmtree(child, ignore_errors=True)
        else:
            child.unlink(missing_ok=True)
        removed.append(child)
    for child in out.glob(".index.html.*.tmp"):
        m = re.search(r"\.(\d+)\.tmp$", child.name)
        if m and not _pid_alive(int(m[1])):
            child.unlink(missing_ok=True)
    return removed


def _publish(tmp: Path, final: Path) -> None:
    """Move a finished period folder into place, replacing an older one."""
    aside = None
    if final.exists():
        aside = final.with_name(f".old-{final.name}-{os.getpid()}")
        if aside.exists():
            shutil.rmtree(aside)
        os.replace(final, aside)
    os.replace(tmp, final)
    if aside is not None:
        shutil.rmtree(aside, ignore_errors=True)


# -- the run ----------------------------------------------------------------------------------------

def _quality_banner(rejected: dict) -> str:
    """The data-quality banner shown at the top of every report when rows were set aside."""
    if not rejected:
        return ""
    total = sum(len(f) for f in rejected.values())
    parts = ", ".join(f"{len(f):,} in {_e(t)}" for t, f in rejected.items())
    return ('<div class="dq-banner" role="alert" style="background:#fff4e5;border:1px solid #e0a040;'
            'padding:10px 14px;margin:10px 0;font:14px system-ui,sans-serif">'
            f"<strong>Data quality:</strong> {total:,} row{'s' if total != 1 else ''} broke the data contract "
            f"and were set aside ({parts}); every number here excludes them. They are listed with the "
            "reason in this period's <code>rejected/</code> folder.</div>")


def run_reports(
    periods=None,
    *,
    data=None,
    mapping=None,
    families=None,
    jobs: int = 1,
    out="reports",
    notebooks_dir=None,
    extra_parameters: dict | None = None,
    cell_timeout: float | None = None,
    on_invalid: str = "strict",
    progress: Callable[[str], None] | None = print,
) -> RunSummary:
    """Execute and render the report notebooks for each period.

    Parameters
    ----------
    periods : str or list of str, optional
        ``2025-03``, ``2025-Q1`` or ``2025`` labels; default: the data source's default period.
    data : path-like, optional
        The data source (folder or ``.duckdb``); relative paths resolve from the project folder,
        as in :class:`~metrics_lib.data.source.DataSource`. A ``postgresql://`` URL (without a
        password: use ``PGPASSWORD`` or ``~/.pgpass``) runs the notebooks on PostgreSQL.
        Default: the demo data.
    mapping : path-like, optional
        Column-mapping YAML for the data source.
    families : str or list of str, optional
        Only these families (``"retention,value"`` or a list); default: every notebook found.
    jobs : int
        Notebooks run at once, each in its own process; capped at the number of CPUs.
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
        a data source that cannot be opened or breaks the contract.
    """
    say = progress or (lambda _msg: None)
    t0 = time.perf_counter()
    if not isinstance(jobs, int) or isinstance(jobs, bool) or jobs < 1:
        raise WorkbookError(f"jobs ({jobs!r}) must be a whole number of 1 or more")
    jobs = min(jobs, os.cpu_count() or 1)
    notebooks_dir = Path(notebooks_dir).expanduser().resolve() if notebooks_dir else _project_root() / "notebooks"
    notebooks = _select_families(discover_notebooks(notebooks_dir), families)
    wanted = _parse_periods(periods) if periods is not None else None
    extra = dict(extra_parameters or {})
    for reserved in ("period", "data"):
        if reserved in extra:
            raise WorkbookError(f"`{reserved}` is set by the runner; pass it as the {reserved} argument")
    if on_invalid not in ("strict", "quarantine"):
        raise WorkbookError(f"on_invalid ({on_invalid!r}) must be 'strict' or 'quarantine'")
    if on_invalid != "strict":
        extra["on_invalid"] = on_invalid
    _check_parameters(notebooks, {"period": "", "data": "", **extra})
    _refuse_password_in_url(data)

    src = _open_source(data, mapping, on_invalid)
    rejected = {table: frame for table, frame in src.rejected.items() if len(frame)}
    banner = _quality_banner(rejected)
    if wanted is None:
        wanted = [src.default_period()]
    if not wanted:
        raise WorkbookError("no period given; pass a period such as 2025-03, 2025-Q1 or 2025")
    missing = src.missing_families()
    inputs = src.fingerprints()
    data_info = {"path": str(src.path), "kind": src.kind, "mapping": str(src.mapping.path) if src.mapping.path else None,
                 "tables": list(src.tables)}
    versions = package_versions()
    git = git_state()

    out = Path(out).expanduser().resolve()
    out.mkdir(parents=True, exist_ok=True)
    clean_stale(out)

    labels = [p.label for p in wanted]
    total = len(labels) * len(notebooks)
    plan: dict[str, dict] = {}
    steps: list[tuple[int, str, str, dict | None]] = []  # (step, period, family, task or None if skipped)
    for period in wanted:
        label = period.label
        tmp = out / f".tmp-{label}-{os.getpid()}"
        if tmp.exists():
            shutil.rmtree(tmp)
        (tmp / "notebooks").mkdir(parents=True)
        if rejected:
            (tmp / "rejected").mkdir()
            for table, frame in rejected.items():
                frame.to_csv(tmp / "rejected" / f"{table}.csv", index=False)
        params = {"period": label, "data": str(src.path), **extra}
        results: dict[str, NotebookResult] = {}
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
                    "notebook": str(path), "executed": str(tmp / res.executed), "html": str(tmp / res.html),
                    "parameters": params, "cwd": str(notebooks_dir), "cell_timeout": cell_timeout,
                    "title": f"{family} \N{EM DASH} {label}", "period": label, "family": family,
                    "banner": banner,
                }
            steps.append((len(steps) + 1, label, family, task))
        plan[label] = {"period": period, "tmp": tmp, "results": results, "started": None, "t0": None,
                       "pending": len(results)}

    def begin(step: int, label: str, family: str) -> None:
        entry = plan[label]
        if entry["t0"] is None:
            entry["started"], entry["t0"] = _now(), time.perf_counter()
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
        tail = (f"ok ({res.duration_s:.1f} s)" if res.status == "ok"
                else f"FAILED ({res.duration_s:.1f} s): {res.error}")
        say(f"[{step}/{total}] {label} {family} ... {tail}")
        settle(label)

    def settle(label: str) -> None:
        entry = plan[label]
        entry["pending"] -= 1
        if entry["pending"] == 0:
            _finish_period(entry, out / label, {
                "parameters": {"period": label, "data": str(src.path), **extra},
                "notebooks_dir": str(notebooks_dir), "kernel": KERNEL_NAME, "data_source": data_info,
                "inputs": inputs, "versions": versions, "git": git,
                "on_invalid": on_invalid,
                "rejected": {t: {"rows": len(f), "file": f"rejected/{t}.csv"} for t, f in rejected.items()},
            })

    try:
        if jobs == 1 or sum(1 for s in steps if s[3] is not None) <= 1:
            for step, label, family, task in steps:
                begin(step, label, family)
                if task is not None:
                    record(step, label, family, execute_and_render(task))
        else:
            _run_parallel(steps, jobs, begin, record)
    except BaseException:
        for entry in plan.values():
            shutil.rmtree(entry["tmp"], ignore_errors=True)
        raise

    index = write_overview(out)
    flat = [r for label in labels for r in plan[label]["results"].values()]
    summary = RunSummary(labels, flat, out, index, round(time.perf_counter() - t0, 2))
    say(summary.text())
    return summary


def _finish_period(entry: dict, final: Path, context: dict) -> None:
    """Write the period's manifest and index into its temporary folder, then publish it."""
    results = list(entry["results"].values())
    counts = {s: sum(1 for r in results if r.status == s) for s in ("ok", "failed", "skipped")}
    period: Period = entry["period"]
    manifest = {
        "schema": MANIFEST_SCHEMA,
        "period": period.label,
        "period_start": period.start.isoformat(),
        "period_end": period.end.isoformat(),
        "status": "failed" if counts["failed"] else "ok",
        "counts": counts,
        "started": entry["started"],
        "ended": _now(),
        "duration_s": round(time.perf_counter() - entry["t0"], 2),
        **context,
        "notebooks": [asdict(r) for r in results],
    }
    tmp: Path = entry["tmp"]
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=2, default=str) + "\n", encoding="utf-8")
    (tmp / "index.html").write_text(period_index_html(manifest), encoding="utf-8")
    _publish(tmp, final)


def _run_parallel(steps, jobs: int, begin, record) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    workers = min(jobs, sum(1 for s in steps if s[3] is not None))
    queue = list(steps)
    running = {}
    with ProcessPoolExecutor(max_workers=workers, mp_context=multiprocessing.get_context("spawn")) as pool:
        try:
            while queue or running:
                while queue and len(running) < workers:
                    step, label, family, task = queue.pop(0)
                    begin(step, label, family)
                    if task is not None:
                        running[pool.submit(execute_and_render, task)] = (step, label, family, task)
                if not running:
                    continue
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for fut in done:
                    step, label, family, task = running.pop(fut)
                    try:
                        outcome = fut.result()
                    except Exception as exc:  # the worker process itself died
                        now = _now()
                        outcome = {"status": "failed", "error": f"worker process failed: {_describe_error(exc)}",
                                   "started": now, "ended": now, "duration_s": 0.0}
                        if not Path(task["html"]).exists():
                            Path(task["html"]).write_text(
                                _error_page(task["title"], outcome["error"], _nav_for(label, family, "failed")),
                                encoding="utf-8")
                    record(step, label, family, outcome)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise


# -- command line ------------------------------------------------------------------------------------

def add_run_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``run`` subcommand to a CLI's subparsers."""
    p = subparsers.add_parser(
        "run", help="execute and render the report notebooks for one or more periods",
        description="Run every report notebook (or --families) for each period with papermill, render "
        "it to self-contained HTML without code, and write <out>/<period>/ with a manifest and an "
        "index, plus <out>/index.html across periods. Exit code 1 when any notebook failed.",
    )
    p.add_argument("--period", action="append", metavar="P",
                   help="2025-03, 2025-Q1 or 2025; repeat for several (default: the source's default period)")
    p.add_argument("--from", dest="first", metavar="P", help="first period of a range (with --to)")
    p.add_argument("--to", dest="last", metavar="Q", help="last period of a range (with --from)")
    p.add_argument("--data", metavar="SRC", help="folder of CSV/Parquet files or a .duckdb file "
                   "(default: the bundled demo data)")
    p.add_argument("--mapping", metavar="FILE", help="YAML file renaming your columns to the contract's")
    p.add_argument("--families", metavar="F1,F2", help="only these families (default: every notebook)")
    p.add_argument("--jobs", type=int, default=1, metavar="N",
                   help="notebooks run at once in separate processes (default 1, at most the CPU count)")
    p.add_argument("--out", default="reports", metavar="DIR", help="output folder (default: reports)")
    p.add_argument("--targets", metavar="FILE", help="targets YAML passed to the notebooks")
    p.add_argument("--segment", metavar="NAME", help="only customers of this segment")
    p.add_argument("--on-invalid", choices=("strict", "quarantine"), default="strict",
                   help="strict (default): stop when the data breaks the contract; quarantine: set the "
                   "offending rows aside into <out>/<period>/rejected/ and flag every report")
    p.add_argument("--show-pii", action="store_true",
                   help="include free text that may hold personal data (survey comments) in the reports")
    p.add_argument("--notebooks", metavar="DIR", help=argparse.SUPPRESS)
    p.set_defaults(func=cmd_run)
    return p


def _periods_from_args(args) -> list[str] | None:
    periods = list(args.period or [])
    if (args.first is None) != (args.last is None):
        raise WorkbookError("--from and --to go together: give both ends of the range")
    if args.first is not None:
        periods += [p.label for p in period_range(args.first, args.last)]
    return periods or None


def cmd_run(args) -> int:
    """The ``run`` command: 0 when every notebook ran, 1 when any failed."""
    from metrics_lib.data.engines import data_argument

    periods = _periods_from_args(args)
    extra = {}
    if args.targets:
        extra["targets"] = str(Path(args.targets).expanduser().resolve())
    if args.segment:
        extra["segment"] = args.segment
    if args.show_pii:
        extra["show_pii"] = True
    summary = run_reports(
        periods,
        data=data_argument(args.data),
        mapping=args.mapping,
        families=args.families,
        jobs=args.jobs,
        out=args.out,
        notebooks_dir=args.notebooks,
        extra_parameters=extra,
        on_invalid=args.on_invalid,
        progress=lambda line: print(line, flush=True),
    )
    return 0 if summary.ok else 1


def main_run(argv: list[str] | None = None) -> int:
    """``metrics-lib run`` on its own: ``main_run(["--period", "2025-03"])``."""
    parser = argparse.ArgumentParser(prog="metrics-lib")
    sub = parser.add_subparsers(dest="command", required=True)
    add_run_parser(sub)
    args = parser.parse_args(["run", *(argv if argv is not None else sys.argv[1:])])
    try:
        return args.func(args)
    except WorkbookError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
