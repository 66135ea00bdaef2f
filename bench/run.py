"""Benchmark: wall time and peak memory of the workbook's heavy steps, side by side with peers.

Usage (``make bench`` runs the default)::

    python bench/run.py [--customers 1000000] [--repeats 3] [--tasks summary_ours,summary_pandas]

The data set is generated once with the demo generator and cached under ``bench/data/``.
Each task runs ``--repeats`` times, each time in a fresh process; the table shows medians of the
wall time (process start to exit) and, where the task reports it, of the time after the imports,
and the ratios against the peers; everything is written to ``bench/results.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# tasks that run once untimed first, so that what they measure is a second run
WARM_TASKS = {"metrics_quarter_warm"}
# the per-period report tasks use the small committed demo data: rendering cost does not
# grow with the data, and 8 periods x 9 notebooks at 10M orders would take an hour here
SMALL_DATA_TASKS = {"reports_1_period", "reports_8_periods_jobs1", "reports_8_periods_jobs2"}
#: What each task should reach, printed beside its figure.
TARGETS = {
    "summary_frame_ours": "<= 1.15x summary_frame_duckdb (after reading)",
    "metrics_quarter": "<= 10 s",
    "reports_1_period": "<= 4x the demo's cold metrics (about 20 s)",
    "reports_1_period_1m": "<= 4x metrics_quarter (about 60 s), whole run <= 4 GB",
    "reports_8_periods_1m_jobs2": "<= 300 s",
}
DEFAULT_TASKS = [
    "summary_ours",
    "summary_ours_capped",
    "summary_pandas",
    "summary_lifetimes",
    "metrics_quarter",
    "metrics_quarter_warm",
    "summary_frame_ours",
    "summary_frame_duckdb",
    "summary_frame_pandas",
    "clv_fit",
    "reports_1_period",
    "reports_8_periods_jobs1",
    "reports_8_periods_jobs2",
]


def ensure_data(customers: int) -> Path:
    out = HERE / "data" / f"demo-{customers}"
    if (out / "orders.parquet").exists():
        return out
    print(f"generating {customers:,} customers into {out} (cached for later runs)", flush=True)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "metrics_lib",
            "demo-data",
            "--customers",
            str(customers),
            "--seed",
            "1",
            "--out",
            str(out),
        ],
        check=True,
        cwd=ROOT,
    )
    return out


def _tree_rss_mb(root: int) -> float:
    """Resident memory of a process and all its descendants (worker processes, kernels), in MB."""
    children: dict[int, list[int]] = {}
    rss: dict[int, int] = {}
    page = os.sysconf("SC_PAGE_SIZE")
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as fh:
                fields = fh.read().rsplit(")", 1)[1].split()
            with open(f"/proc/{entry}/statm") as fh:
                rss[int(entry)] = int(fh.read().split()[1]) * page
        except (OSError, IndexError, ValueError):
            continue
        children.setdefault(int(fields[1]), []).append(int(entry))
    total, todo = 0, [root]
    while todo:
        pid = todo.pop()
        total += rss.get(pid, 0)
        todo.extend(children.get(pid, []))
    return total / 2**20


def measure(task: str, data: Path) -> dict:
    """Run one task in a child process; its wall time, peak resident memory of the child alone,
    and peak resident memory of the child with every process it started (sampled twice a
    second: worker processes and notebook kernels included)."""
    import threading

    t0 = time.perf_counter()
    proc = subprocess.Popen(
        [sys.executable, str(HERE / "tasks.py"), task, str(data)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    peak = [0.0]
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.5):
            peak[0] = max(peak[0], _tree_rss_mb(proc.pid))

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    _, status, usage = os.wait4(proc.pid, 0)
    done.set()
    sampler.join()
    wall = time.perf_counter() - t0
    out, err = proc.stdout.read(), proc.stderr.read()
    if os.waitstatus_to_exitcode(status) != 0:
        return {"ok": False, "error": (err.strip().splitlines() or ["failed"])[-1]}
    compute = [float(line.split()[1]) for line in err.splitlines() if line.startswith("compute: ")]
    return {
        "ok": True,
        "seconds": wall,
        "compute_s": compute[-1] if compute else None,
        "peak_mb": usage.ru_maxrss / 1024,
        "peak_tree_mb": max(peak[0], usage.ru_maxrss / 1024),
        "rows": out.strip(),
        "note": err.strip()[-200:],
    }


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--customers", type=int, default=1_000_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--tasks", default=",".join(DEFAULT_TASKS))
    parser.add_argument("--out", default=str(HERE / "results.json"))
    args = parser.parse_args(argv)
    big = ensure_data(args.customers)
    small = ROOT / "data" / "demo"
    results = {}
    for task in args.tasks.split(","):
        data = small if task in SMALL_DATA_TASKS else big
        runs = []
        if task in WARM_TASKS:
            print(f"[{task}] untimed run to warm up ...", flush=True)
            measure(task, data)
        for i in range(args.repeats):
            print(f"[{task}] run {i + 1}/{args.repeats} on {data.name} ...", end=" ", flush=True)
            r = measure(task, data)
            print(
                f"{r['seconds']:.1f} s, {r['peak_mb']:.0f} MB" if r["ok"] else f"failed: {r['error']}",
                flush=True,
            )
            runs.append(r)
            if not r["ok"]:
                break
        ok = [r for r in runs if r["ok"]]
        results[task] = {
            "data": str(data),
            "runs": runs,
            "median_s": statistics.median(r["seconds"] for r in ok) if ok else None,
            "median_peak_mb": statistics.median(r["peak_mb"] for r in ok) if ok else None,
            "median_peak_tree_mb": statistics.median(r["peak_tree_mb"] for r in ok) if ok else None,
            "median_compute_s": (
                statistics.median(r["compute_s"] for r in ok)
                if ok and all(r["compute_s"] is not None for r in ok)
                else None
            ),
        }

    def ratio(a, b):
        x, y = results.get(a, {}).get("median_s"), results.get(b, {}).get("median_s")
        return None if not x or not y else y / x

    def compute_ratio(a, b):
        x, y = results.get(a, {}).get("median_compute_s"), results.get(b, {}).get("median_compute_s")
        return None if not x or not y else y / x

    ratios = {
        "summary: lifetimes / ours": ratio("summary_ours", "summary_lifetimes"),
        "summary: pandas / ours": ratio("summary_ours", "summary_pandas"),
        "summary after imports: lifetimes / ours": compute_ratio("summary_ours", "summary_lifetimes"),
        "summary after imports: pandas / ours": compute_ratio("summary_ours", "summary_pandas"),
        "8 periods throughput: jobs 2 / jobs 1": ratio("reports_8_periods_jobs2", "reports_8_periods_jobs1"),
        "summary of a DataFrame after reading: ours / hand-written DuckDB": compute_ratio(
            "summary_frame_duckdb", "summary_frame_ours"
        ),
        "1M: reports of one period / cold metrics": ratio("metrics_quarter", "reports_1_period_1m"),
    }
    print()
    print(f"{'task':<28} {'median s':>9} {'after imports s':>16} {'peak MB':>9} {'all procs MB':>13}  target")
    for task, r in results.items():
        s = "failed" if r["median_s"] is None else f"{r['median_s']:.2f}"
        c = "" if r["median_compute_s"] is None else f"{r['median_compute_s']:.2f}"
        m = "" if r["median_peak_mb"] is None else f"{r['median_peak_mb']:.0f}"
        t = "" if r["median_peak_tree_mb"] is None else f"{r['median_peak_tree_mb']:.0f}"
        print(f"{task:<28} {s:>9} {c:>16} {m:>9} {t:>13}  {TARGETS.get(task, '')}")
    print()
    for name, v in ratios.items():
        print(f"{name:<66} {'n/a' if v is None else f'{v:.2f}x'}")
    Path(args.out).write_text(
        json.dumps(
            {
                "customers": args.customers,
                "repeats": args.repeats,
                "machine": {
                    "cpus": os.cpu_count(),
                    "python": platform.python_version(),
                    "platform": platform.platform(),
                },
                "results": results,
                "ratios": ratios,
            },
            indent=2,
        )
    )
    print(f"\nwritten to {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
