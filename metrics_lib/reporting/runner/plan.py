"""What a report run will do, settled before any notebook runs: the report notebooks found in a
folder, the families selected, the periods parsed, the parameters checked against every notebook,
and the data source opened and checked against the contract (a database URL may not carry a
password, since it reaches every executed notebook)."""

from __future__ import annotations

import re
from pathlib import Path

from metrics_lib.core.errors import WorkbookError
from metrics_lib.core.periods import Period, parse_period
from metrics_lib.reporting.runner.provenance import project_root

_NOTEBOOK_GLOB = "[0-9][0-9]_*.ipynb"
_FAMILY_NAME = re.compile(r"^[A-Za-z][A-Za-z0-9_-]*$")
_PARAMETER_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def discover_notebooks(notebooks_dir=None) -> dict[str, Path]:
    """The report notebooks of a folder, ``{family: path}`` in file-name order.

    A notebook is a file ``NN_<family>.ipynb`` (two digits, an underscore, the family name).
    """
    folder = Path(notebooks_dir) if notebooks_dir is not None else project_root() / "notebooks"
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


def select_families(available: dict[str, Path], families) -> dict[str, Path]:
    """The notebooks of the families asked for (``"a,b"`` or a list; None: all), in file order."""
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


def parse_periods(periods) -> list[Period]:
    """The periods asked for (one label or several), parsed, without repeats, in the order given."""
    if isinstance(periods, (str, Period)):
        periods = [periods]
    out: list[Period] = []
    for p in periods:
        parsed = parse_period(p)
        if parsed not in out:
            out.append(parsed)
    return out


def check_parameters(notebooks: dict[str, Path], parameters: dict) -> None:
    """Refuse a parameter name that is not an identifier or that some notebook does not take."""
    import papermill

    for name in parameters:
        if not isinstance(name, str) or not _PARAMETER_NAME.match(name):
            raise WorkbookError(f"parameter name {name!r} is not a Python identifier")
    for _family, path in notebooks.items():
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


def refuse_password_in_url(data) -> None:
    """A database URL reaches every notebook as a parameter, so it may not carry a password."""
    from urllib.parse import urlsplit

    from metrics_lib.data import is_database_url, redact

    if is_database_url(data) and urlsplit(data.strip()).password is not None:
        raise WorkbookError(
            f"cannot run the reports: the URL {redact(data.strip())} holds a password, which would be "
            "written into every executed notebook; drop it from the URL and give it in PGPASSWORD "
            "or ~/.pgpass"
        )


def open_checked_source(data, mapping, on_invalid="strict"):
    """The data source opened and checked against the contract, or a WorkbookError saying why not."""
    from metrics_lib.core.errors import ContractError
    from metrics_lib.data import open_source
    from metrics_lib.metrics.shared_results import source_key

    try:
        src = open_source(data, mapping=mapping, on_invalid=on_invalid)
        # the files' identity before they are checked: a file replaced during the checks gets the
        # run's shared results another key, so no notebook takes these checks for it
        source_key(src)
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
