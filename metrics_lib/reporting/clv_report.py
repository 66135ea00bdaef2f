"""The value report's lifetime-value models as a reader sees them: which model fits the data and
why (:func:`clv_choice`), the sBG model of renewals (:func:`contractual_clv`), and the saved fits
that let a report run reuse the models fitted once per period (:func:`load_fits`,
:func:`write_clv_fits`, ``clv_models.json`` beside the run's manifest).

The :class:`~metrics_lib.reporting.workbook.Workbook` delegates to these functions; the numbers come
from :mod:`metrics_lib.metrics.clv_contractual` and :mod:`metrics_lib.metrics.clv_views`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from metrics_lib.core.errors import WorkbookError
from metrics_lib.core.periods import parse_period
from metrics_lib.core.results import quietly
from metrics_lib.data import PROJECT_ROOT, resolve_path
from metrics_lib.metrics import clv_contractual, clv_views
from metrics_lib.metrics.clv_contractual import FITS_SCHEMA, ContractualCLVView
from metrics_lib.metrics.period_data import PeriodData
from metrics_lib.metrics.shared_results import code_digest
from metrics_lib.reporting.format import Markdown, format_value

__all__ = [
    "ContractualCLVReport",
    "clv_choice",
    "contractual_clv",
    "fit_clv_models",
    "load_fits",
    "write_clv_fits",
]

FITS_FILE = "clv_models.json"


def _range(low, high, unit: str) -> str:
    return f"{format_value(low, unit)} to {format_value(high, unit)}"


def _term(months: int) -> str:
    return "year" if months == 12 else f"{months} months" if months != 1 else "month"


def clv_choice(wb) -> Markdown:
    """Which lifetime model the report uses, and why, in a sentence."""
    if wb._missing("orders") and wb._missing("subscriptions"):
        return Markdown("No lifetime model: the data has neither orders nor subscriptions.")
    c = clv_contractual.clv_choice(wb._scope())
    if c.model == "sBG":
        return Markdown(
            f"**Model: sBG (shifted-beta-geometric), a contractual model.** Customers hold "
            f"subscriptions and renew them ({format_value(c.renewals, 'count')} renewals up to the "
            "period's end), so we see when each one leaves: lifetime is counted in renewals, and "
            "the chance of renewing is allowed to differ from customer to customer. The purchase "
            "models further down (BG/NBD, Gamma-Gamma) assume customers leave unannounced; they "
            "are shown for the buying on top of the contracts, not for lifetime value."
        )
    why = (
        "the subscriptions are never renewed (`renewed_from` is empty), so renewals cannot be counted"
        if c.basis == "no renewals"
        else f"{wb._scope().subscriptions_missing or 'the data has no subscriptions'}: customers buy "
        "when they like and leave unannounced"
    )
    return Markdown(
        f"**Model: BG/NBD with Gamma-Gamma, a non-contractual model**, because {why}. The "
        "contractual sBG section below is therefore empty."
    )


@dataclass(frozen=True)
class ContractualCLVReport(ContractualCLVView):
    """:class:`~metrics_lib.metrics.clv_contractual.ContractualCLVView` with its tables for a reader
    and the sentence saying which lifetime model the report uses and why (:meth:`choice`)."""

    choice_text: str = ""

    @property
    def term_name(self) -> str:
        """The renewal period in words: ``year``, ``month`` or ``6 months``."""
        return _term(self.term_months)

    def choice(self) -> Markdown:
        """Which lifetime model fits the data, and why (:func:`clv_choice`)."""
        return Markdown(self.choice_text)

    def summary(self) -> pd.DataFrame:
        """The fit and what a contract is worth, formatted, with 95% intervals."""
        c = self.customers
        if c.empty:
            return pd.DataFrame({"value": [self.note or "no active contracts"]}, index=["note"])
        term = _term(self.term_months)
        s = self.survival
        r1 = s["retention"].get(1, float("nan"))
        new, low, high = self.new_customer_clv
        rows = {
            "renewal period": f"a {term}" if self.term_months == 12 else term,
            "cohorts fitted (by start month)": format_value(self.cohorts, "count"),
            "first renewal: share who renew (fitted)": format_value(r1, "share"),
            "fifth renewal: share who renew (fitted)": format_value(s["retention"].get(5), "share"),
            "active contracts valued": format_value(len(c), "count"),
            "gross margin applied": format_value(self.gross_margin, "share"),
            "discount rate (a year)": format_value(self.annual_discount_rate, "share"),
            "CLV still to come per active contract (mean)": format_value(c["clv"].mean(), "currency"),
            "  95% interval": _range(c["clv_low"].mean(), c["clv_high"].mean(), "currency"),
            "CLV still to come, all active contracts": format_value(c["clv"].sum(), "currency"),
            "CLV of a new customer at the mean margin": format_value(new, "currency"),
            "  95% interval ": _range(low, high, "currency"),
        }
        return pd.DataFrame({"value": list(rows.values())}, index=list(rows))

    def parameters_table(self) -> pd.DataFrame:
        """alpha and beta with standard errors and 95% intervals, rounded."""
        if self.parameters.empty:
            return pd.DataFrame({"value": [self.note]}, index=["note"])
        p = self.parameters
        return pd.DataFrame(
            {
                "estimate": p["estimate"].map(lambda v: f"{v:.3f}"),
                "standard error": p["standard error"].map(lambda v: f"{v:.3f}"),
                "95% interval": [f"{lo:.3f} to {hi:.3f}" for lo, hi in zip(p["ci_low"], p["ci_high"])],
            },
            index=p.index,
        )

    def top_customers(self, n: int = 10) -> pd.DataFrame:
        """The ``n`` active contracts with the most value still to come, formatted."""
        if self.customers.empty:
            return pd.DataFrame({"value": [self.note or "no active contracts"]}, index=["note"])
        c = self.customers.nlargest(n, "clv")
        return pd.DataFrame(
            {
                "renewals made": c["renewals"].map(lambda v: f"{v:,}"),
                "margin per period": c["margin_per_period"].map(lambda v: format_value(v, "currency")),
                "CLV still to come": c["clv"].map(lambda v: format_value(v, "currency")),
                "95% interval": [_range(lo, hi, "currency") for lo, hi in zip(c["clv_low"], c["clv_high"])],
            },
            index=c.index.rename({"customer_id": "customer"}.get(c.index.name, c.index.name)),
        )


def load_fits(wb, path: str) -> dict | None:
    """The saved fits of ``path`` (``clv_models.json``) when they are for the workbook's period and
    segment and were fitted by this version of the package's code; None otherwise (no path, no
    file, another period, another version: the report then fits itself). A
    relative path starts at the project folder and may not climb out of it."""
    if not path:
        return None
    file = resolve_path(path)
    root = PROJECT_ROOT.resolve()
    if not Path(path).expanduser().is_absolute() and root not in (file, *file.parents):
        raise WorkbookError(
            f"clv_models {path!r} leads outside the project folder {root}; relative paths start at "
            "the project folder and must stay inside it (give an absolute path for a file elsewhere)"
        )
    try:
        data = json.loads(Path(file).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if (
        not isinstance(data, dict)
        or data.get("schema") != FITS_SCHEMA
        or data.get("code") != code_digest()  # fitted by other code: fit again
        or data.get("period") != wb.period.label
        or data.get("segment") != (wb.segment or None)
        or not isinstance(data.get("models"), dict)
    ):
        return None
    return data["models"]


def contractual_clv(wb, *, fits: str = "", annual_discount_rate: float = 0.10) -> ContractualCLVReport:
    """The sBG model of renewals and each active contract's value (see
    :func:`metrics_lib.metrics.clv_contractual.contractual_clv`), fits reused from ``fits``."""
    text = clv_choice(wb).text
    if missing := wb._missing("subscriptions", "orders"):
        view = clv_contractual.empty_view(12, annual_discount_rate, f"skipped: needs {', '.join(missing)}")
    elif clv_contractual.clv_choice(wb._scope()).model != "sBG":
        view = clv_contractual.empty_view(12, annual_discount_rate, "not used: the data is not contractual")
    else:
        view = clv_contractual.period_contractual_clv(
            wb._scope(), annual_discount_rate=annual_discount_rate, fits=load_fits(wb, fits)
        )
    fields = {f: getattr(view, f) for f in view.__dataclass_fields__}
    return ContractualCLVReport(**fields, choice_text=text)


def fit_clv_models(source, period, segment=None) -> dict:
    """Every CLV model the value report fits for the period, as saved in ``clv_models.json``:
    ``{"schema", "period", "segment", "models": {key: {"input": fingerprint, "fit": ...}}}``."""
    p = parse_period(period) if isinstance(period, str) else period
    d = PeriodData(source, p, segment or None)
    record: dict = {}
    if source.has("orders"):  # the view is shared with the value report and the at-risk list
        record.update(quietly(clv_views.period_clv_models, d.scope).fits)
    if source.has("subscriptions") and clv_contractual.clv_choice(d.scope).model == "sBG":
        record.update(quietly(clv_contractual.period_contractual_clv, d.scope).fits)
    return {
        "schema": FITS_SCHEMA,
        "code": code_digest(),
        "period": p.label,
        "segment": segment or None,
        "models": record,
    }


def write_clv_fits(source, period, segment, path) -> bool:
    """Fit the period's CLV models and write them to ``path``; False (nothing written) when that
    fails: the value report then fits them itself."""
    try:
        text = json.dumps(fit_clv_models(source, period, segment), allow_nan=False)
        Path(path).write_text(text + "\n", encoding="utf-8")
    except (WorkbookError, ValueError, TypeError, OSError, ArithmeticError):
        return False
    return True
