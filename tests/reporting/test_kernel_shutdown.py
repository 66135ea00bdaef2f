"""A report run shuts its kernels down without noise on the console.

jupyter_client interrupts a kernel (SIGINT) before asking it to shut down; papermill shuts the kernel
down right after the reply to its last request, and a SIGINT landing while the kernel is still
closing that request made it print ``[IPKernelApp] ERROR | KeyboardInterrupt caught in kernel.``
on the run's stderr, although every notebook was fine (about one notebook in five here). The
runner's kernel manager asks an idle kernel to shut down and interrupts only a kernel still busy
in a cell.
"""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time

import pytest
from test_report import write_data, write_notebook

from metrics_lib.data import PROJECT_ROOT
from metrics_lib.reporting.runner.execute import _kernel_manager_class

pytestmark = pytest.mark.integration  # starts kernels


def test_a_run_prints_no_kernel_noise(tmp_path):
    nbs = tmp_path / "notebooks"
    nbs.mkdir()
    for i, name in enumerate(("first", "second", "third", "fourth", "fifth", "sixth"), start=1):
        write_notebook(nbs / f"{i:02d}_{name}.ipynb", ["print('report for', period)"])
    data = write_data(tmp_path / "data")
    out = tmp_path / "reports"
    proc = subprocess.run(
        [sys.executable, "-m", "metrics_lib", "run", "--data", str(data), "--notebooks", str(nbs)]
        + ["--out", str(out), "--period", "2025-03", "--jobs", "2"],
        cwd=PROJECT_ROOT,
        env={**os.environ, "METRICS_LIB_CACHE_DIR": "off"},
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode == 0, proc.stderr
    assert "6 ok, 0 failed" in proc.stdout
    assert not [line for line in proc.stderr.splitlines() if "[IPKernelApp]" in line], proc.stderr


async def _shut_down(busy: bool) -> tuple[int, bool, float]:
    """Start a kernel under the runner's kernel manager, optionally leave it running a long cell,
    shut it down: how many interrupts it was sent, whether it is still alive, how long it took."""
    km = _kernel_manager_class()(kernel_name="python3")
    interrupts = []
    interrupt = km.interrupt_kernel

    async def counted():
        interrupts.append(time.monotonic())
        await interrupt()

    km.interrupt_kernel = counted
    await km.start_kernel()
    kc = km.client()
    kc.start_channels()
    try:
        await kc.wait_for_ready(timeout=60)
        if busy:
            kc.execute("import time\ntime.sleep(120)")
            await asyncio.sleep(1)
        started = time.monotonic()
        await km.shutdown_kernel()
        took = time.monotonic() - started
        return len(interrupts), await km.is_alive(), took
    finally:
        kc.stop_channels()


def test_an_idle_kernel_is_shut_down_without_an_interrupt():
    interrupts, alive, _took = asyncio.run(_shut_down(busy=False))
    assert (interrupts, alive) == (0, False)


def test_a_kernel_busy_in_a_cell_is_interrupted_and_stopped():
    interrupts, alive, took = asyncio.run(_shut_down(busy=True))
    assert (interrupts, alive) == (1, False)
    assert took < 30  # not the two minutes of the cell
