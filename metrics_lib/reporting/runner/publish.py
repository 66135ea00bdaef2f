"""Publishing a report run: the period index page and the overview page across periods (from the
page skeleton and stylesheet in ``reporting/templates/``), the manifests they are built from, the
data-quality banner, atomic writes, the removal of temporary folders left by killed runs, and the
move of a finished period folder into place."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import time
from collections.abc import Iterable
from dataclasses import asdict
from pathlib import Path
from string import Template
from urllib.parse import quote

from metrics_lib.core.errors import WorkbookError
from metrics_lib.core.periods import Period, parse_period
from metrics_lib.reporting.runner.provenance import _now

MANIFEST_SCHEMA = 1
_TEMP_PREFIXES = (".tmp-", ".old-")
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# -- pages ----------------------------------------------------------------------------------------

_CSS = (TEMPLATES / "page.css").read_text(encoding="utf-8")
_PAGE = Template((TEMPLATES / "page.html").read_text(encoding="utf-8"))


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _href(*parts: str) -> str:
    return _e("/".join(quote(p) for p in parts))


def _page(title: str, body: str) -> str:
    return _PAGE.substitute(title=_e(title), css=_CSS, body=body)


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
        executed = (
            f"<a href='{_href(*nb['executed'].split('/'))}'>{_e(Path(nb['executed']).name)}</a>"
            if nb.get("executed")
            else ""
        )
        rows.append(
            f"<tr><td>{name}</td><td class='{_e(status)}'>{_e(status)}</td>"
            f"<td class='num'>{_e(_duration(nb.get('duration_s')))}</td>"
            f"<td class='note'>{_e(note)}</td><td>{executed}</td></tr>"
        )
    git = manifest.get("git") or {}
    commit = git.get("commit")
    commit_text = (
        (commit[:12] + (" (with uncommitted changes)" if git.get("dirty") else "")) if commit else "unknown"
    )
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
        "<th>executed notebook</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        "<p class='meta'><a href='manifest.json'>manifest.json</a>: parameters, versions and input "
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
            cells.append(
                f"<td class='{_e(status)}'>{label}"
                + (f" <span class='meta'>{_e(dur)}</span>" if dur else "")
                + "</td>"
            )
        rows.append(
            f"<tr><th><a href='{_href(period, 'index.html')}'>{_e(period)}</a></th>{''.join(cells)}</tr>"
        )
    if manifests:
        table = (
            f"<table><thead><tr><th>period</th>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"
            "<p class='meta'>Hover over a failed or skipped cell to see why.</p>"
        )
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


def _quality_banner(rejected: dict) -> str:
    """The data-quality banner shown at the top of every report when rows were set aside."""
    if not rejected:
        return ""
    total = sum(len(f) for f in rejected.values())
    parts = ", ".join(f"{len(f):,} in {_e(t)}" for t, f in rejected.items())
    return (
        '<div class="dq-banner" role="alert" style="background:#fff4e5;border:1px solid #e0a040;'
        'padding:10px 14px;margin:10px 0;font:14px system-ui,sans-serif">'
        f"<strong>Data quality:</strong> {total:,} row{'s' if total != 1 else ''} broke the data contract "
        f"and were set aside ({parts}); every number here excludes them. They are listed with the "
        "reason in this period's <code>rejected/</code> folder.</div>"
    )


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
