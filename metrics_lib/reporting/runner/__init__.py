"""Run the report notebooks for one or more periods and publish them as offline HTML.

Every notebook ``notebooks/NN_<family>.ipynb`` is executed with papermill for each period and
rendered without its code. A period is written to ``<out>/<period>/``::

    <out>/index.html                     every period x family, newest period first
    <out>/<period>/index.html            the period's families: status, duration, error
    <out>/<period>/<family>.html         one report, self-contained (no network)
    <out>/<period>/notebooks/<family>.ipynb   the executed notebook
    <out>/<period>/manifest.json         parameters, timings, statuses, versions, input hashes
    <out>/<period>/lists/*.csv           action lists (at-risk high-value customers, detractors)

A period is built in ``<out>/.tmp-<period>-<pid>`` and renamed into place when complete, so a
folder named after a period is always a finished run.

The runner works in steps, one module each: :mod:`.plan` settles what to run, :mod:`.execute`
runs and renders the notebooks, :mod:`.publish` writes the pages and manifests and moves a
finished period into place, :mod:`.provenance` records versions and the git commit, and
:mod:`.run` holds :func:`run_reports`, which drives them; :mod:`.lists` writes the action lists.
The command line (``metrics-lib run``) lives in :mod:`metrics_lib.cli`.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from metrics_lib.reporting.runner.plan import discover_notebooks
    from metrics_lib.reporting.runner.publish import overview_html, period_index_html, read_manifests
    from metrics_lib.reporting.runner.run import NotebookResult, RunSummary, run_reports

#: Where each name lives. Imported when first asked for: a worker process that only executes
#: notebooks (:mod:`.execute`) then never imports the metrics, their engines and statistics
#: (about 130 MB per worker).
_HOMES = {
    "discover_notebooks": "plan",
    "overview_html": "publish",
    "period_index_html": "publish",
    "read_manifests": "publish",
    "NotebookResult": "run",
    "RunSummary": "run",
    "run_reports": "run",
}


def __getattr__(name: str):
    if name not in _HOMES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f"{__name__}.{_HOMES[name]}"), name)


__all__ = [
    "NotebookResult",
    "RunSummary",
    "run_reports",
    "discover_notebooks",
    "overview_html",
    "period_index_html",
    "read_manifests",
]
