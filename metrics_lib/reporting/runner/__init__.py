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

from metrics_lib.reporting.runner.plan import discover_notebooks
from metrics_lib.reporting.runner.publish import overview_html, period_index_html, read_manifests
from metrics_lib.reporting.runner.run import NotebookResult, RunSummary, run_reports

__all__ = [
    "NotebookResult",
    "RunSummary",
    "run_reports",
    "discover_notebooks",
    "overview_html",
    "period_index_html",
    "read_manifests",
]
