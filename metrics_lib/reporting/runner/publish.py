"""Publishing a report run: the period index page and the overview page across periods (from the
page skeleton and stylesheet in ``reporting/templates/``), the manifests they are built from, the
data-quality banner, atomic writes, the removal of temporary folders left by killed runs, and the
move of a finished period folder into place."""

from __future__ import annotations

import errno
import html
import json
import os
import re
import secrets
import shutil
import stat
import time
from collections.abc import Iterable
from contextlib import contextmanager
from dataclasses import asdict
from pathlib import Path
from string import Template
from typing import IO
from urllib.parse import quote

from metrics_lib.core.errors import WorkbookError
from metrics_lib.core.jsonsafe import dumps
from metrics_lib.core.periods import Period, parse_period
from metrics_lib.data.safe_io import file_kind, open_regular
from metrics_lib.reporting.format import format_duration
from metrics_lib.reporting.runner.provenance import now

try:
    import fcntl
except ImportError:  # not POSIX: no lock can be taken, so no staging folder is ever cleaned
    fcntl = None  # type: ignore[assignment]

MANIFEST_SCHEMA = 1
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"

# -- pages ----------------------------------------------------------------------------------------

_CSS = (TEMPLATES / "page.css").read_text(encoding="utf-8")
_PAGE = Template((TEMPLATES / "page.html").read_text(encoding="utf-8"))


def _e(value) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _href(*parts: str) -> str:
    return _e("/".join(quote(p) for p in parts))


def page_html(title: str, body: str) -> str:
    """A whole HTML page from the run's page skeleton and stylesheet; ``body`` is already HTML."""
    return _PAGE.substitute(title=_e(title), css=_CSS, body=body)


def nav_for(period: str, family: str, status: str) -> str:
    """The navigation bar at the top of one report page (period index, overview, executed notebook)."""
    state = " <span class='failed'>this notebook failed</span>" if status == "failed" else ""
    return (
        f"<nav class='mlr-nav'><a href='index.html'>&larr; {_e(period)}</a>"
        f"<a href='../index.html'>all periods</a>"
        f"<a href='{_href('notebooks', family + '.ipynb')}'>executed notebook</a>{state}</nav>"
    )


def _status_class(status: str) -> str:
    return "st st-" + re.sub(r"[^a-z]+", "-", str(status).lower()).strip("-")


def _verdict_metrics(manifest: dict) -> list[dict]:
    """The outcome metrics a run kept in the manifest (:func:`~metrics_lib.reporting.verdict.run_verdict`),
    or none (an older run, or they could not be computed)."""
    verdict = manifest.get("verdict")
    if not isinstance(verdict, dict) or not isinstance(verdict.get("metrics"), list):
        return []
    return [m for m in verdict["metrics"] if isinstance(m, dict)]


def _metric_cell(m: dict | None) -> str:
    """One outcome metric in an index: its value coloured by status, the change under it."""
    if m is None:
        return "<td class='none'>&ndash;</td>"
    title = f"{m.get('status')}" + (f"; target {m['target']}" if m.get("target") else "")
    return (
        f"<td class='metric' title='{_e(title)}'><span class='{_status_class(m.get('status', ''))}'>"
        f"{_e(m.get('value'))}</span><br><span class='chg {_e(m.get('tone', 'neutral'))}'>"
        f"{_e(m.get('change'))}</span></td>"
    )


def verdict_html(manifest: dict) -> str:
    """The period's outcome metrics as its index page opens with them: the one-line summary and
    a table of value, target, status and change."""
    verdict = manifest.get("verdict") if isinstance(manifest.get("verdict"), dict) else {}
    if verdict.get("error"):
        return f"<p class='note'>{_e(verdict['error'])}</p>"
    metrics = _verdict_metrics(manifest)
    if not metrics:
        return ""
    rows = "".join(
        f"<tr><td>{_e(m.get('name'))}</td><td class='num'><strong>{_e(m.get('value'))}</strong></td>"
        f"<td class='num'>{_e(m.get('target'))}</td>"
        f"<td><span class='{_status_class(m.get('status', ''))}'>{_e(m.get('status'))}</span></td>"
        f"<td class='chg {_e(m.get('tone', 'neutral'))}'>{_e(m.get('change'))}</td></tr>"
        for m in metrics
    )
    return (
        f"<p class='verdict'>{_e(verdict.get('summary'))}</p>"
        "<table class='dash'><thead><tr><th>outcome metric</th><th>value</th><th>target</th>"
        "<th>status</th><th>change since the previous period</th></tr></thead>"
        f"<tbody>{rows}</tbody></table>"
    )


def period_index_html(manifest: dict) -> str:
    """The page of one period: its outcome metrics against their targets, then each family with
    its status, duration and error or reason."""
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
            f"<td class='num meta'>{_e(format_duration(nb.get('duration_s')))}</td>"
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
        f"generated {_e(manifest.get('ended'))} in {_e(format_duration(manifest.get('duration_s')))} &middot; "
        f"commit {_e(commit_text)}</p>" + verdict_html(manifest) + "<h2>Reports</h2>"
        f"<p>{_e(counts.get('ok', 0))} ok, {_e(counts.get('failed', 0))} failed, "
        f"{_e(counts.get('skipped', 0))} skipped</p>"
        "<table><thead><tr><th>family</th><th>status</th><th>duration</th><th>error or reason</th>"
        "<th>executed notebook</th></tr></thead><tbody>" + "".join(rows) + "</tbody></table>"
        "<p class='meta'><a href='manifest.json'>manifest.json</a>: parameters, versions and input "
        "fingerprints of this run</p>"
    )
    return page_html(f"Reports for {period}", body)


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
        if period.label != child.name:
            continue
        manifest = _read_manifest(child)
        if isinstance(manifest, dict) and isinstance(manifest.get("notebooks"), list):
            found.append((period, manifest))
    found.sort(key=lambda pm: (pm[0].end, -pm[0].months), reverse=True)
    return [m for _, m in found]


def overview_html(manifests: list[dict]) -> str:
    """The page across periods, a dashboard: per period its outcome metrics, each coloured by its
    status against the target with its change, then its reports, each a link coloured by whether
    it ran (the time it took, small)."""
    families = _family_order(
        (nb["family"], nb.get("notebook", "")) for m in manifests for nb in m["notebooks"]
    )
    names: dict[str, str] = {}  # outcome metric id -> name, in the order of the newest run
    for m in manifests:
        for metric in _verdict_metrics(m):
            names.setdefault(str(metric.get("id")), str(metric.get("name")))
    head = "".join(f"<th>{_e(n)}</th>" for n in names.values()) or "<th>outcome metrics</th>"
    rows = []
    for m in manifests:
        period = m["period"]
        by_family = {nb["family"]: nb for nb in m["notebooks"]}
        metrics = {str(x.get("id")): x for x in _verdict_metrics(m)}
        cells = [_metric_cell(metrics.get(mid)) for mid in names] or [_metric_cell(None)]
        reports = []
        for fam in families:
            nb = by_family.get(fam)
            if nb is None:
                continue
            status = nb["status"]
            note = nb.get("error") or nb.get("reason") or ""
            dur = format_duration(nb.get("duration_s"))
            title = "; ".join(t for t in (status, dur, note) if t)
            state = "" if status == "ok" else f" <span class='{_e(status)}'>({_e(status)})</span>"
            if nb.get("html"):
                link = f"<a class='{_e(status)}' href='{_href(period, nb['html'])}' title='{_e(title)}'>{_e(fam)}</a>"
            else:
                link = f"<span class='{_e(status)}' title='{_e(title)}'>{_e(fam)}</span>"
            reports.append(link + state)
        verdict = m.get("verdict") if isinstance(m.get("verdict"), dict) else {}
        short = verdict.get("short") or ("outcome metrics not computed" if verdict.get("error") else "")
        rows.append(
            f"<tr><th rowspan='2'><a href='{_href(period, 'index.html')}'>{_e(period)}</a>"
            f"<div class='meta' title='{_e(verdict.get('summary') or verdict.get('error') or '')}'>"
            f"{_e(short)}</div></th>{''.join(cells)}</tr>"
            f"<tr class='reports'><td colspan='{max(len(names), 1)}'>reports: "
            f"{' &middot; '.join(reports)}</td></tr>"
        )
    if manifests:
        table = (
            f"<table class='dash'><thead><tr><th>period</th>{head}</tr></thead>"
            f"<tbody>{''.join(rows)}</tbody></table>"
            "<p class='meta'>Each outcome metric is coloured by its status against its target "
            "(green on target, amber near, red off); under it, the change since the previous period, "
            "coloured when beyond noise. Hover over a metric for its target, over a report for its "
            "run time or why it failed or was skipped.</p>"
        )
    else:
        table = "<p>No reports yet: run <code>python -m metrics_lib run</code>.</p>"
    return page_html(
        "Metric reports", f"<h1>Metric reports</h1>{table}<p class='meta'>updated {_e(now())}</p>"
    )


def write_overview(out) -> Path:
    """Rewrite ``<out>/index.html`` from the manifests found under ``out``."""
    out = Path(out)
    target = out / "index.html"
    _write_atomic(target, overview_html(read_manifests(out)))
    return target


def _write_atomic(path: Path, text: str) -> None:
    """Write ``path`` whole or not at all: into a marked staging folder of this run, then renamed
    into place (a killed run leaves only that folder, which a later run removes). The folder's
    name holds a random part, so that runs with the same process id (in other containers) never
    share it."""
    staging = make_staging(path.parent, f"{path.stem}-{secrets.token_hex(4)}")
    try:
        (staging / path.name).write_text(text, encoding="utf-8")
        os.replace(staging / path.name, path)
    finally:
        discard_staging(staging)


# -- folders ----------------------------------------------------------------------------------------
#
# A run removes or replaces only what a run made. Every folder it makes in --out (a period being
# built, ``.tmp-<period>-<pid>``; a published period; the previous version of a period moved
# aside, ``.old-<period>-<pid>``) carries the file RUN_MARK with exactly _MARK_TEXT in it, and
# nothing without that mark is ever removed; a period folder or overview page that a run did not
# make stops the run before anything runs.
#
# Whether the run that made a staging folder is still going is told by a lock, not by the process
# id in the name (a run in another PID namespace, a container, has an id that means nothing here):
# the run holds an exclusive flock on the folder's mark from the moment it writes the mark until
# the folder is published or removed, and the system drops the lock when the process ends, however
# it ends. A later run removes a marked staging folder only when it can take that lock at once.

#: The file that marks a folder as made by a run.
RUN_MARK = ".metrics_lib-run"
_MARK_TEXT = (
    "This folder was made by `python -m metrics_lib run`; later runs remove or replace it.\n"
    "Keep your own files elsewhere.\n"
)
_STAGING = re.compile(r"\.(?:tmp|old)-.+-(\d+)")
_OVERVIEW_TITLE = "<title>Metric reports</title>"

#: The marks this process holds locked, by folder (see :func:`discard_staging`).
_HELD: dict[Path, IO[str]] = {}


def _flock(fh: IO) -> bool:
    """Take an exclusive lock on an open mark without waiting: True when taken, False when another
    open of the mark holds it or the folder's file system cannot lock (then nobody can tell
    whether its run is alive, and the folder is left alone)."""
    if fcntl is None:  # not POSIX
        return False
    try:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _mark(folder: Path) -> None:
    """Write the run's mark into ``folder`` and hold it locked until the folder is published or
    removed: locked first, then written, so that a complete mark is never unlocked while this
    run lives."""
    fh = open(folder / RUN_MARK, "x", encoding="utf-8")  # held open: the lock lasts while it is
    try:
        _flock(fh)
        fh.write(_MARK_TEXT)
        fh.flush()
    except BaseException:
        fh.close()
        raise
    _HELD[folder] = fh


def _release(folder: Path) -> None:
    """Drop this process's lock on the mark of ``folder`` (wherever the folder went since)."""
    fh = _HELD.pop(folder, None)
    if fh is not None:
        fh.close()


@contextmanager
def _locked_mark(folder: Path):
    """Yield True while holding the lock on the mark of ``folder``, a real folder (not a link)
    carrying a run's mark; False when its run is alive (the lock is held elsewhere) or the mark
    cannot be opened without following a link."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    dir_flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_DIRECTORY", 0)
    try:
        dir_fd = os.open(folder, dir_flags)
    except OSError:
        yield False
        return
    try:
        fd = os.open(RUN_MARK, flags, dir_fd=dir_fd)
    except OSError:
        yield False
        return
    finally:
        os.close(dir_fd)
    with os.fdopen(fd, "rb") as fh:
        yield stat.S_ISREG(os.fstat(fd).st_mode) and _flock(fh)


def is_ours(folder: Path) -> bool:
    """Whether ``folder`` is a real folder (not a link) carrying a run's mark."""
    mark = folder / RUN_MARK
    try:
        if folder.is_symlink() or not folder.is_dir() or mark.is_symlink() or not mark.is_file():
            return False
        if mark.stat().st_size != len(_MARK_TEXT.encode()):
            return False
        return mark.read_text(encoding="utf-8") == _MARK_TEXT
    except (OSError, UnicodeDecodeError):
        return False


def _read_manifest(folder: Path):
    """The parsed ``manifest.json`` of a period folder, or None when there is none to read (a
    regular file of at most 16 MiB holding JSON)."""
    try:
        with open_regular(folder / "manifest.json", limit=1 << 24) as fh:
            return json.loads(fh.read().decode("utf-8"))
    except (WorkbookError, OSError, ValueError):
        return None


def _is_period_of_ours(folder: Path) -> bool:
    """A period folder a run published: marked, or (published before marks existed) holding a
    run's manifest for this very period."""
    if is_ours(folder):
        return True
    if folder.is_symlink() or (folder / "manifest.json").is_symlink():
        return False
    found = _read_manifest(folder)
    return (
        isinstance(found, dict)
        and "schema" in found
        and found.get("period") == folder.name
        and isinstance(found.get("notebooks"), list)
    )


def _is_overview_of_ours(page: Path) -> bool:
    if page.is_symlink():
        return False
    try:
        with open_regular(page) as fh:
            head = fh.read(4096)
    except (WorkbookError, OSError):
        return False
    return _OVERVIEW_TITLE.encode() in head


def _remove_leftover(folder: Path) -> None:
    """Remove a staging folder that has this run's name, left by a killed run that had this
    process id; anything a run did not make, or a live run's folder, is left alone and this run
    stops."""
    if not is_ours(folder):
        raise WorkbookError(
            f"{folder}: this was not made by a report run (it lacks the run's mark {RUN_MARK}), so it is "
            "left alone and nothing was written; move it away, or choose another folder with --out"
        )
    with _locked_mark(folder) as locked:
        if not locked:
            raise WorkbookError(
                f"{folder}: another run that is still going (with the same process id, in another "
                "container) is building this period in --out, so it is left alone and nothing was "
                "written; wait for that run to finish, or choose another folder with --out"
            )
        shutil.rmtree(folder)


def staging_path(out: Path, name: str) -> Path:
    """Where this run builds ``name`` (a period): ``<out>/.tmp-<name>-<pid>``."""
    return out / f".tmp-{name}-{os.getpid()}"


def make_staging(out: Path, name: str) -> Path:
    """This run's own marked folder :func:`staging_path`, its mark locked for as long as this
    process lives or until :func:`discard_staging` (publishing a period also releases it)."""
    folder = staging_path(out, name)
    if folder.exists() or folder.is_symlink():
        _remove_leftover(folder)  # left by an earlier process that had this pid
    folder.mkdir()
    try:
        _mark(folder)
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    return folder


def discard_staging(folder: Path) -> None:
    """Remove a staging folder of this run (when it was not published) and release its lock."""
    try:
        shutil.rmtree(folder, ignore_errors=True)
    finally:
        _release(folder)


def clean_stale(out: Path) -> list[Path]:
    """Remove the staging folders of runs that were killed: only folders named
    ``.tmp-*-<pid>`` or ``.old-*-<pid>`` that carry a run's mark whose lock no running process
    holds (see the note on folders above). Nothing else in ``out`` is touched, whatever its name,
    and no link is followed."""
    removed: list[Path] = []
    if not out.is_dir():
        return removed
    for child in out.iterdir():
        if not _STAGING.fullmatch(child.name) or not is_ours(child):
            continue
        with _locked_mark(child) as locked:
            if not locked:  # its run is still going (in this PID namespace or another)
                continue
            shutil.rmtree(child, ignore_errors=True)
        removed.append(child)
    return removed


def check_out(out: Path, labels: list[str]) -> None:
    """Refuse, before anything runs or is written, an ``out`` the reports cannot go to: a file, a
    folder that cannot be written, or one holding a period folder or an ``index.html`` that a run
    did not make (they would be replaced)."""
    if out.exists() and not out.is_dir():
        raise WorkbookError(
            f"--out {out}: this is {_kind(out)}, not a folder; give a folder for the reports (it is created "
            "when missing)"
        )
    existing = out
    while not existing.exists() and existing != existing.parent:
        existing = existing.parent
    if not existing.is_dir():
        raise WorkbookError(f"--out {out}: {existing} is {_kind(existing)}, not a folder; give another path")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise WorkbookError(
            f"--out {out}: cannot write in {existing} (permission denied or a read-only disk); choose a "
            "folder you can write to"
        )
    for label in labels:
        final = out / label
        if (final.exists() or final.is_symlink()) and not _is_period_of_ours(final):
            raise WorkbookError(
                f"--out {out}: {final} is not a report folder made by a run (no {RUN_MARK} or "
                "manifest.json), so it is not replaced and nothing was run; move it away, or choose "
                "another folder with --out"
            )
    index = out / "index.html"
    if (index.exists() or index.is_symlink()) and not _is_overview_of_ours(index):
        raise WorkbookError(
            f"--out {out}: {index} is not the overview page of a run, so it is not replaced and nothing "
            "was run; move it away, or choose another folder with --out"
        )


def _kind(path: Path) -> str:
    try:
        return file_kind(path.stat().st_mode)
    except OSError:
        return "not a folder"


@contextmanager
def writing_to(out: Path):
    """Turn a failure to write the reports (a full disk, permission denied, a read-only disk)
    into a :class:`WorkbookError` that names ``--out`` and the file."""
    try:
        yield
    except OSError as exc:
        if exc.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", -1)):
            what, fix = "the disk is full", "free some space or choose another folder with --out"
        elif exc.errno in (errno.EACCES, errno.EPERM):
            what, fix = "permission denied", "choose a folder you can write to with --out"
        elif exc.errno == errno.EROFS:
            what, fix = "the disk is read-only", "choose a folder on a writable disk with --out"
        else:
            what, fix = exc.strerror or type(exc).__name__, "check the folder, or choose another with --out"
        where = f" ({exc.filename})" if exc.filename else ""
        raise WorkbookError(
            f"--out {out}: cannot write the reports{where}: {what}; {fix}. Periods finished before "
            "this are in place; the others were not written"
        ) from None


def _publish(tmp: Path, final: Path) -> None:
    """Move a finished period folder into place, replacing an older one that a run made (moved
    aside, with its mark locked, and back into place if the move of the new one fails)."""
    if not (final.exists() or final.is_symlink()):
        os.replace(tmp, final)
        _release(tmp)
        return
    if not _is_period_of_ours(final):
        raise WorkbookError(
            f"{final}: not a report folder made by a run, so it is not replaced; move it away, or "
            "choose another folder with --out"
        )
    aside = final.with_name(f".old-{final.name}-{os.getpid()}")
    if aside.exists() or aside.is_symlink():
        _remove_leftover(aside)
    if not is_ours(final):
        _mark(final)  # published before marks existed: marked, so that a killed run's leftover goes too
    with _locked_mark(final):
        os.replace(final, aside)
        try:
            os.replace(tmp, final)
        except BaseException:
            os.replace(aside, final)
            raise
        finally:
            _release(final)
        _release(tmp)
        shutil.rmtree(aside, ignore_errors=True)


def quality_banner(rejected: dict) -> str:
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


def period_banner(notes: list[str], *, complete: bool) -> str:
    """The banner shown at the top of every report of a period that is partial (``complete``
    False) or compared with a partial period: the coverage notes, which name the dates."""
    if not notes:
        return ""
    title = "Incomplete period" if not complete else "Incomplete previous period"
    return (
        '<div class="dq-banner period-banner" role="alert" style="background:#fff4e5;border:1px solid '
        '#e0a040;padding:10px 14px;margin:10px 0;font:14px system-ui,sans-serif">'
        f"<strong>{title}:</strong> " + "<br>".join(_e(n) for n in notes) + "</div>"
    )


def finish_period(entry: dict, final: Path, context: dict) -> None:
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
        "ended": now(),
        "duration_s": round(time.perf_counter() - entry["t0"], 2),
        **context,
        "notebooks": [asdict(r) for r in results],
    }
    tmp: Path = entry["tmp"]
    (tmp / "manifest.json").write_text(dumps(manifest) + "\n", encoding="utf-8")
    (tmp / "index.html").write_text(period_index_html(manifest), encoding="utf-8")
    _publish(tmp, final)
