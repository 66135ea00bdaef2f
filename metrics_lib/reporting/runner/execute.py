"""Executing the notebooks: the kernel's environment, one notebook run with papermill and rendered
to a self-contained HTML page without code (through the nbconvert template
``reporting/templates/metrics_offline.html.j2``, with everything fetched from the network
removed), the error page shown when it cannot be rendered, and the steps of a run executed one
after the other or in parallel worker processes."""

from __future__ import annotations

import html
import os
import re
import shutil
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

from metrics_lib.reporting.runner.provenance import now, project_root
from metrics_lib.reporting.runner.publish import TEMPLATES, nav_for, page_html

KERNEL_NAME = "python3"

# -- executing and rendering one notebook (runs in a worker process with --jobs > 1) ------------

_REMOTE_TAGS = [
    re.compile(r"<script\b[^>]*\bsrc\s*=\s*[\"']?\s*(?:https?:)?//[^>]*>\s*</script\s*>", re.I | re.S),
    re.compile(r"<link\b[^>]*\bhref\s*=\s*[\"']?\s*(?:https?:)?//[^>]*>", re.I | re.S),
]
_STYLE_BLOCK = re.compile(r"(<style\b[^>]*>)(.*?)(</style\s*>)", re.I | re.S)
_CSS_COMMENT = re.compile(r"/\*.*?\*/", re.S)

_exporter = None

#: Cells left out of the HTML: the nbval check cell (test scaffolding) and anything tagged
#: ``report-hidden`` (the scaffolding's heading). nbval finds its cell by the
#: ``# NBVAL_CHECK_OUTPUT`` marker, not by these tags, so it still checks it.
HIDDEN_CELL_TAGS = frozenset({"report-hidden", "nbval-check"})


def _html_exporter():
    global _exporter
    if _exporter is None:
        from jinja2 import FileSystemLoader
        from nbconvert import HTMLExporter
        from traitlets.config import Config

        config = Config()
        config.TagRemovePreprocessor.enabled = True
        config.TagRemovePreprocessor.remove_cell_tags = set(HIDDEN_CELL_TAGS)
        _exporter = HTMLExporter(
            config=config,
            template_name="lab",
            template_file="metrics_offline.html.j2",
            extra_loaders=[FileSystemLoader(str(TEMPLATES))],
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
    root = str(project_root())
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


@contextmanager
def sharing_results(folder: Path):
    """While the notebooks run: their kernels (and the worker processes starting them) share each
    period's aggregates through ``folder`` (:mod:`metrics_lib.metrics.shared_results`)."""
    from metrics_lib.metrics.shared_results import ENV_VAR

    saved = os.environ.get(ENV_VAR)
    os.environ[ENV_VAR] = str(folder)
    try:
        yield
    finally:
        if saved is None:
            os.environ.pop(ENV_VAR, None)
        else:
            os.environ[ENV_VAR] = saved


def _transport(folder: str) -> dict:
    """Talk to the kernel over Unix sockets in a private folder rather than loopback TCP ports."""
    if os.name != "posix":
        return {}
    from traitlets.config import Config

    config = Config()
    config.KernelManager.transport = "ipc"
    config.KernelManager.ip = os.path.join(folder, "kernel")
    return {"config": config}


#: Seconds a kernel asked to shut down has to exit before it is interrupted (an idle kernel exits
#: in a fraction of this; one still in a cell, which timed out, does not).
SHUTDOWN_GRACE_S = 1.0

_kernel_manager = None


def _kernel_manager_class():
    """The kernel manager the notebooks run under: jupyter_client's, except that it asks the
    kernel to shut down before interrupting it, and interrupts only a kernel still running after
    :data:`SHUTDOWN_GRACE_S`.

    jupyter_client interrupts every kernel (SIGINT) before asking it to shut down. papermill asks
    for the kernel's info after the last cell and shuts the kernel down as soon as the reply
    arrives; a SIGINT that lands while the kernel is still closing that request raises
    KeyboardInterrupt there, and the kernel writes ``[IPKernelApp] ERROR | KeyboardInterrupt
    caught in kernel.`` to the run's stderr although the notebook finished. An idle kernel needs
    no interrupt: the shutdown request stops it. A kernel busy in a cell (one that timed out) is
    interrupted as before, then stopped, terminated or killed by jupyter_client's usual steps.
    """
    global _kernel_manager
    if _kernel_manager is None:
        import asyncio

        from jupyter_client import AsyncKernelManager

        class QuietShutdownKernelManager(AsyncKernelManager):
            async def shutdown_kernel(self, now: bool = False, restart: bool = False) -> None:
                if now or restart or not self.owns_kernel or not self.has_kernel:
                    await super().shutdown_kernel(now=now, restart=restart)
                    return
                self.shutting_down = True  # as jupyter_client: keeps the restarter out
                self.stop_restarter()
                await self.request_shutdown()
                loop = asyncio.get_running_loop()
                deadline = loop.time() + SHUTDOWN_GRACE_S
                while await self.is_alive() and loop.time() < deadline:
                    await asyncio.sleep(0.05)
                if await self.is_alive():
                    await self.interrupt_kernel()
                await self.finish_shutdown()
                await self.cleanup_resources()

        _kernel_manager = QuietShutdownKernelManager
    return _kernel_manager


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
    return page_html(
        title,
        f"{nav_html}<h1>{html.escape(title)}</h1>"
        f"<p class='failed'>The report could not be rendered:</p><pre>{html.escape(message)}</pre>",
    )


#: Run in the warm kernel before each notebook: an empty namespace and execution count, no open
#: figures, the notebook's working folder. Imported modules stay, which is what saves the time.
_RESET = """\
get_ipython().reset(new_session=True)
import os as _os, sys as _sys
_os.chdir({cwd!r})
if "matplotlib.pyplot" in _sys.modules:
    _sys.modules["matplotlib.pyplot"].close("all")
del _os, _sys
"""


class WarmKernel:
    """One kernel that runs the notebooks of this process one after the other (a worker's, or
    the runner's with ``--jobs 1``).

    Starting a kernel and importing pandas, matplotlib, scipy and this package take a few seconds
    per notebook, more than most notebooks compute. The kernel is started once and, before each
    notebook, its namespace is emptied (:data:`_RESET`): a notebook still sees none of the
    previous one's variables, only the modules already imported. After a notebook that failed
    (an error, a cell that timed out, a kernel that died) the kernel is shut down and the next
    notebook gets a new one, so a broken kernel never runs another report.
    """

    def __init__(self) -> None:
        self.km = None
        self.kc = None
        self.cwd: str | None = None
        self._sockets: str | None = None

    def _run(self, coro_fn, *args, **kwargs):
        from jupyter_core.utils import run_sync

        return run_sync(coro_fn)(*args, **kwargs)

    def _start(self, cwd: str) -> None:
        self._sockets = tempfile.mkdtemp(prefix="mlr-kernel-")
        km = _kernel_manager_class()(kernel_name=KERNEL_NAME, **_transport(self._sockets))
        with _kernel_environment():
            self._run(km.start_kernel, extra_arguments=["--HistoryManager.hist_file=:memory:"], cwd=cwd)
        self.km, self.cwd = km, cwd
        kc = km.client()
        kc.start_channels()
        self.kc = kc
        self._run(kc.wait_for_ready, timeout=60)
        kc.allow_stdin = False
        # papermill's client asks the manager for a client of its own and never closes it; two
        # clients of one kernel share the session's identity, and the kernel's replies reach only
        # the newer one. So every notebook is run through this one client, its channels open.
        kc.start_channels = lambda *args, **kwargs: None
        km.client = lambda *args, **kwargs: kc

    def ready(self, cwd: str):
        """The kernel manager and client for a notebook run in ``cwd``, with an empty namespace."""
        if self.km is not None and (self.cwd != cwd or not self._run(self.km.is_alive)):
            self.close()
        if self.km is None:
            try:
                self._start(cwd)
            except BaseException:
                self.close()
                raise
            return self.km, self.kc
        reply = self._run(
            self.kc.execute_interactive, _RESET.format(cwd=cwd), silent=True, store_history=False, timeout=60
        )
        if reply["content"].get("status") != "ok":
            self.close()
            return self.ready(cwd)
        return self.km, self.kc

    def close(self) -> None:
        """Shut the kernel down (when one is running) and remove its socket folder."""
        km, kc, sockets = self.km, self.kc, self._sockets
        self.km = self.kc = self.cwd = self._sockets = None
        try:
            if kc is not None:
                kc.stop_channels()
            if km is not None and self._run(km.is_alive):
                self._run(km.shutdown_kernel)
        except Exception:  # a kernel that died or will not stop: its process is gone or orphaned
            pass
        finally:
            if km is not None:
                try:
                    self._run(km.cleanup_resources)
                except Exception:
                    pass
            if sockets:
                shutil.rmtree(sockets, ignore_errors=True)


#: This process's warm kernel (see :class:`WarmKernel`).
_WARM = WarmKernel()


def close_warm_kernel() -> None:
    """Shut this process's warm kernel down (at the end of a run, or as a worker exits)."""
    _WARM.close()


def execute_and_render(task: dict) -> dict:
    """Execute one notebook with papermill and render it; never raises for a notebook's failure.

    ``task`` holds ``notebook``, ``executed``, ``html`` (paths), ``parameters``, ``cwd``, ``title``,
    ``period``, ``family`` and ``cell_timeout``. Returns ``status``, ``error``, ``started``, ``ended`` and
    ``duration_s``. The notebook runs in this process's :class:`WarmKernel`.
    """
    import nbformat
    import papermill

    started, t0 = now(), time.perf_counter()
    executed = Path(task["executed"])
    error = None
    try:
        km, _kc = _WARM.ready(task["cwd"])
        papermill.execute_notebook(
            task["notebook"],
            str(executed),
            parameters=task["parameters"],
            kernel_name=KERNEL_NAME,
            cwd=task["cwd"],
            progress_bar=False,
            log_output=False,
            request_save_on_cell_execute=False,
            execution_timeout=task.get("cell_timeout"),
            km=km,
        )
    except Exception as exc:  # the notebook failed (or its kernel did): keep going
        error = _describe_error(exc) or "the notebook failed"
        _WARM.close()  # the next notebook gets a new kernel
    nav_html = nav_for(task["period"], task["family"], "failed" if error else "ok")
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
        "ended": now(),
        "duration_s": round(time.perf_counter() - t0, 2),
    }


def _worker_started() -> None:
    """In each worker process: shut its warm kernel down when the worker exits."""
    from multiprocessing.util import Finalize

    Finalize(None, close_warm_kernel, exitpriority=100)


def run_steps(steps, jobs: int, begin, record) -> None:
    """Run the steps ``(step, period, family, task or None)`` in order, or ``jobs`` at a time in
    worker processes; ``begin`` is called as a step starts, ``record`` with its outcome."""
    if jobs == 1 or sum(1 for s in steps if s[3] is not None) <= 1:
        try:
            for step, label, family, task in steps:
                begin(step, label, family)
                if task is not None:
                    record(step, label, family, execute_and_render(task))
        finally:
            close_warm_kernel()
    else:
        _run_parallel(steps, jobs, begin, record)


def _run_parallel(steps, jobs: int, begin, record) -> None:
    import multiprocessing
    from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait

    workers = min(jobs, sum(1 for s in steps if s[3] is not None))
    queue = list(steps)
    running = {}
    with ProcessPoolExecutor(
        max_workers=workers, mp_context=multiprocessing.get_context("spawn"), initializer=_worker_started
    ) as pool:
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
                        stamp = now()
                        outcome = {
                            "status": "failed",
                            "error": f"worker process failed: {_describe_error(exc)}",
                            "started": stamp,
                            "ended": stamp,
                            "duration_s": 0.0,
                        }
                        if not Path(task["html"]).exists():
                            Path(task["html"]).write_text(
                                _error_page(
                                    task["title"], outcome["error"], nav_for(label, family, "failed")
                                ),
                                encoding="utf-8",
                            )
                    record(step, label, family, outcome)
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
