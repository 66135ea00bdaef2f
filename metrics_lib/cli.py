"""Command line: ``python -m metrics_lib <command>`` (also installed as ``metrics-lib``)."""

from __future__ import annotations

import argparse
import sys
import time
import traceback
import warnings
from pathlib import Path

from metrics_lib.core.engine import out_of_memory_message
from metrics_lib.core.errors import WorkbookError, printable

__all__ = ["main", "build_parser", "main_run"]


def _progress(message: str) -> None:
    print(f"  {message}", file=sys.stderr, flush=True)


def _source(args):
    from metrics_lib.data import data_argument, open_source

    return open_source(
        data_argument(args.data),
        mapping=args.mapping,
        on_invalid=getattr(args, "on_invalid", "strict"),
    )


def cmd_demo_data(args) -> int:
    from metrics_lib.demo import write_demo_data

    out = Path(args.out)
    t0 = time.perf_counter()
    print(f"Generating demo data: {args.customers:,} customers, seed {args.seed} -> {out}", file=sys.stderr)
    rows = write_demo_data(out, customers=args.customers, seed=args.seed, progress=_progress)
    for table, n in rows.items():
        print(f"{table:<18} {n:>12,} rows")
    print(f"done in {time.perf_counter() - t0:.1f} s", file=sys.stderr)
    return 0


def cmd_validate(args) -> int:
    src = _source(args)
    report = src.validate()
    print(report.to_text())
    # with --on-invalid quarantine, rows set aside are no reason to stop: the commands go on
    return 0 if report.usable else 1


def cmd_metrics(args) -> int:
    from metrics_lib.core.periods import parse_period
    from metrics_lib.metrics.scorecard import headline_metrics, to_json
    from metrics_lib.reporting.format import format_table

    if args.period is not None:
        parse_period(args.period)  # a malformed period is rejected before any data is read
    _check_targets(args.targets)
    src = _source(args)
    period = args.period or src.default_period().label
    result = headline_metrics(src, period, targets=args.targets, segment=args.segment)
    print(to_json(result) if args.format == "json" else format_table(result))
    _note_set_aside(src)
    if args.format == "json":  # the text table shows its notes itself
        for note in result["notes"]:
            print(f"note: {note}", file=sys.stderr)
    return 0


def _check_targets(path) -> None:
    """A ``--targets`` file read once up front, so that every message about it names --targets."""
    if path:
        from metrics_lib.metrics.targets import read_targets

        read_targets(path, what="--targets")


def _note_set_aside(src) -> None:
    """With ``--on-invalid quarantine``: say which rows were left out, where, and why."""
    for table, rejected in src.rejected.items():
        print(
            f"note: {len(rejected)} row(s) of table `{table}` set aside (--on-invalid quarantine); "
            "the metrics above are computed without them:",
            file=sys.stderr,
        )
        for problem in src.set_aside(table):
            print("  " + problem.describe().replace("\n", "\n  "), file=sys.stderr)


def add_run_parser(subparsers) -> argparse.ArgumentParser:
    """Add the ``run`` subcommand to a CLI's subparsers."""
    p = subparsers.add_parser(
        "run",
        help="execute and render the report notebooks for one or more periods",
        description="Run every report notebook (or --families) for each period with papermill, render "
        "it to self-contained HTML without code, and write <out>/<period>/ with a manifest and an "
        "index, plus <out>/index.html across periods. Exit code 1 when any notebook failed.",
    )
    p.add_argument(
        "--period",
        action="append",
        metavar="P",
        help="2025-03, 2025-Q1 or 2025; repeat for several (default: the source's default period)",
    )
    p.add_argument("--from", dest="first", metavar="P", help="first period of a range (with --to)")
    p.add_argument("--to", dest="last", metavar="Q", help="last period of a range (with --from)")
    p.add_argument(
        "--data",
        metavar="SRC",
        help="folder of CSV/Parquet files or a .duckdb file (default: the bundled demo data)",
    )
    p.add_argument("--mapping", metavar="FILE", help="YAML file renaming your columns to the contract's")
    p.add_argument("--families", metavar="F1,F2", help="only these families (default: every notebook)")
    p.add_argument(
        "--jobs",
        type=int,
        default=None,
        metavar="N",
        help="notebooks run at once in separate processes (default and at most: the CPU count)",
    )
    p.add_argument("--out", default="reports", metavar="DIR", help="output folder (default: reports)")
    p.add_argument("--targets", metavar="FILE", help="targets YAML passed to the notebooks")
    p.add_argument("--segment", metavar="NAME", help="only customers of this segment")
    p.add_argument(
        "--on-invalid",
        choices=("strict", "quarantine"),
        default="strict",
        help="strict (default): stop when the data breaks the contract; quarantine: set the "
        "offending rows aside into <out>/<period>/rejected/ and flag every report",
    )
    p.add_argument(
        "--show-pii",
        action="store_true",
        help="include free text that may hold personal data (survey comments, review texts) in the "
        "reports and in rejected/<table>.csv",
    )
    p.add_argument("--notebooks", metavar="DIR", help=argparse.SUPPRESS)
    # after the command too (`run --period X --debug`); SUPPRESS keeps one given before it
    p.add_argument(
        "--debug", action="store_true", default=argparse.SUPPRESS, help="show full tracebacks on errors"
    )
    p.set_defaults(func=cmd_run)
    return p


def _periods_from_args(args) -> list[str] | None:
    from metrics_lib.core.periods import period_range

    periods = list(args.period or [])
    if (args.first is None) != (args.last is None):
        raise WorkbookError("--from and --to go together: give both ends of the range")
    if args.first is not None:
        periods += [p.label for p in period_range(args.first, args.last)]
    return periods or None


def cmd_run(args) -> int:
    """The ``run`` command: 0 when every notebook ran, 1 when any failed."""
    from metrics_lib.data import data_argument
    from metrics_lib.reporting.runner import run_reports

    periods = _periods_from_args(args)
    extra = {}
    if args.targets:
        _check_targets(args.targets)
        extra["targets"] = str(Path(args.targets).expanduser().resolve())
    if args.segment:
        extra["segment"] = args.segment
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
        show_pii=args.show_pii,
        progress=lambda line: print(line, flush=True),
    )
    return 0 if summary.ok else 1


def _short_warning(message, category, filename, lineno, file=None, line=None) -> None:
    print(f"warning: {message}", file=sys.stderr if file is None else file)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="metrics-lib",
        description="Customer-centric sales metrics from your own data: validate a data source, "
        "generate demo data, compute a period's metrics and render the report notebooks.",
        epilog="Add --debug to any command to see the Python traceback of an error.",
    )
    parser.add_argument("--debug", action="store_true", help="show full tracebacks on errors")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    def debug_arg(p):
        # also accepted after the command (`validate --data X --debug`); SUPPRESS keeps the value
        # given before the command when it is absent here
        p.add_argument(
            "--debug", action="store_true", default=argparse.SUPPRESS, help="show full tracebacks on errors"
        )

    def data_args(p):
        p.add_argument(
            "--data",
            metavar="SRC",
            help="folder of CSV/Parquet files, a .duckdb file or a "
            "postgresql://user@host:port/dbname URL (default: the bundled demo data)",
        )
        p.add_argument(
            "--mapping",
            metavar="FILE",
            help="YAML file renaming your columns to the contract's "
            "(default: mapping.yml beside the data, if present)",
        )
        p.add_argument(
            "--on-invalid",
            choices=("strict", "quarantine"),
            default="strict",
            help="strict (default) stops at a table that breaks the contract; quarantine sets the "
            "offending rows aside, says which, and goes on",
        )

    p = sub.add_parser(
        "demo-data",
        help="generate the fictional demo company's tables as Parquet",
        description="Generate every table of the data contract for a fictional B2B company, "
        "deterministically for a seed, with the planted effects documented in DemoEffects.",
    )
    p.add_argument(
        "--customers", type=int, default=4000, metavar="N", help="number of customers (default 4000)"
    )
    p.add_argument("--seed", type=int, default=7, metavar="S", help="random seed (default 7)")
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write the Parquet files into")
    debug_arg(p)
    p.set_defaults(func=cmd_demo_data)

    p = sub.add_parser(
        "validate",
        help="check a data source against the contract and summarise it",
        description="Print rows per table, date ranges and every contract problem found. "
        "Exit code 1 when a problem was found.",
    )
    data_args(p)
    debug_arg(p)
    p.set_defaults(func=cmd_validate)

    p = sub.add_parser(
        "metrics",
        help="print every headline metric of a period",
        description="Compute every headline metric for one period, with its numerator, "
        "denominator, sample size, interval and status against the targets.",
    )
    data_args(p)
    p.add_argument(
        "--period", metavar="P", help="2025-03, 2025-Q1 or 2025 (default: the source's default period)"
    )
    p.add_argument("--format", choices=("json", "table"), default="table")
    p.add_argument("--targets", metavar="FILE", help="targets YAML (default: targets.yml beside the data)")
    p.add_argument("--segment", metavar="NAME", help="only customers of this segment")
    debug_arg(p)
    p.set_defaults(func=cmd_metrics)
    add_run_parser(sub)
    return parser


def main(argv: list[str] | None = None) -> int:
    return _handled(build_parser().parse_args(argv))


def _handled(args) -> int:
    """Run the parsed command: a WorkbookError (or DuckDB running out of the memory it may use)
    is one line and exit 2, anything else a plain line and exit 3; tracebacks only on --debug."""
    debug = getattr(args, "debug", False)
    try:
        with warnings.catch_warnings():
            if not debug:  # one line per warning, without the library's source line
                warnings.showwarning = _short_warning
            return args.func(args)
    except WorkbookError as exc:
        if debug:
            traceback.print_exc()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # an unexpected failure: say so plainly, traceback on --debug
        hint = out_of_memory_message(exc)
        if debug:
            traceback.print_exc()
        if hint:
            print(f"error: {hint}", file=sys.stderr)
            return 2
        if not debug:
            print(
                f"error: unexpected {type(exc).__name__}: {printable(str(exc), keep=chr(10))}\n"
                "(run again with --debug for the traceback)",
                file=sys.stderr,
            )
        return 3


def main_run(argv: list[str] | None = None) -> int:
    """``metrics-lib run`` on its own: ``main_run(["--period", "2025-03"])``."""
    parser = argparse.ArgumentParser(prog="metrics-lib")
    sub = parser.add_subparsers(dest="command", required=True)
    add_run_parser(sub)
    args = parser.parse_args(["run", *(argv if argv is not None else sys.argv[1:])])
    return _handled(args)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
