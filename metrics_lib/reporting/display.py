"""Tables as a reader sees them: every column in its kind, under a plain-language header.

The Workbook's sections return pandas frames of numbers, which plots and code read as they are;
:class:`ReportTable` is such a frame that a notebook *shows* through :func:`display_table`: shares
as percentages, money with separators (and the data's currency), counts as whole numbers, days
and hours with their unit, p-values as ``p < 0.001``, flags as yes/no, undefined values as
``n/a (reason)``, intervals as one ``95% CI`` column, and long text never cut off.

Each column's kind comes from :data:`COLUMNS` (the columns the metrics layer returns), from the
``kinds`` given to :func:`shown`, or from its type (a whole number is a count, a flag yes/no, any
other number two decimals); every cell is written by :func:`~.format.format_cell`.
"""

from __future__ import annotations

import html

import pandas as pd

from metrics_lib.reporting.format import format_cell, format_interval

__all__ = ["COLUMNS", "INDEX_NAMES", "ReportTable", "display_table", "plain_index", "shown"]

#: Known columns: their header and kind (:data:`~.format.CELL_KINDS`).
COLUMNS: dict[str, tuple[str, str]] = {
    "n": ("answers", "count"),
    "promoters": ("promoters", "count"),
    "passives": ("passives", "count"),
    "detractors": ("detractors", "count"),
    "promoter_share": ("promoters (share)", "share"),
    "passive_share": ("passives (share)", "share"),
    "detractor_share": ("detractors (share)", "share"),
    "nps": ("NPS", "nps"),
    "csat": ("CSAT (share satisfied)", "share"),
    "ces": ("CES (mean, higher is easier)", "score"),
    "easy_share": ("easy answers (share)", "share"),
    "mean_score": ("mean score", "score"),
    "low_sample": ("fewer than 30 answers", "bool"),
    "current": ("this report's period", "bool"),
    "customers": ("customers", "count"),
    "churned": ("churned", "count"),
    "churn_rate": ("churn rate", "share"),
    "spend": ("acquisition spend", "money"),
    "new_customers": ("new customers", "count"),
    "cac": ("CAC (spend per new customer)", "money"),
    "tickets": ("tickets", "count"),
    "unanswered": ("still unanswered", "count"),
    "first_response_median_h": ("first response, median", "hours"),
    "first_response_p90_h": ("first response, 90th percentile", "hours"),
    "within_target": ("answered within target", "share"),
    "resolution_median_h": ("resolution, median", "hours"),
    "first_response_hours": ("first response", "hours"),
    "resolution_hours": ("resolution", "hours"),
    "unanswered_hours": ("waiting, unanswered", "hours"),
    "contacts_to_resolve": ("contacts to resolve", "count"),
    "reviews": ("reviews", "count"),
    "average_rating": ("average rating (1-5)", "score"),
    "positive_share": ("4-5 star reviews (share)", "share"),
    "sessions": ("sessions", "count"),
    "page_views": ("page views", "count"),
    "pages_per_session": ("pages per session", "score"),
    "avg_time_on_page_s": ("average time on page", "seconds"),
    "bounce_rate": ("bounce rate", "share"),
    "referrals": ("customers referred", "count"),
    "start_date": ("started", "date"),
    "response_date": ("answered", "date"),
    "cost": ("cost", "money"),
    "treated": ("treated group", "count"),
    "control": ("control group", "count"),
    "treated_rate": ("treated conversion", "share"),
    "control_rate": ("control conversion", "share"),
    "lift": ("lift", "points"),
    "p_value": ("p-value", "p_value"),
    "significant": ("beyond noise", "bool"),
    "detectable_lift": ("smallest detectable lift", "points"),
    "incremental_profit": ("incremental gross profit", "money"),
    "incremental_roi": ("incremental ROI", "ratio"),
    "share": ("share of customers", "share"),
    "deals": ("deals", "count"),
    "mean_days": ("mean time in stage", "days"),
    "median_days": ("median time in stage", "days"),
    "open_deals": ("still open", "count"),
    "bottleneck": ("bottleneck", "bool"),
    "entered": ("deals entered", "count"),
    "conversion": ("conversion from the stage before", "share"),
    "share_of_first": ("share of the first stage", "share"),
    "default_weight": ("default weight", "share"),
    "weight": ("weight in the score", "share"),
    "auc": ("AUC (0.5 = chance)", "score"),
    "customer_share": ("customers (share)", "share"),
    "revenue": ("revenue", "money"),
    "revenue_share": ("revenue (share)", "share"),
    "profit": ("gross profit", "money"),
    "profit_share": ("gross profit (share)", "share"),
    "gross_profit": ("gross profit", "money"),
    "gross_margin": ("gross margin", "share"),
    "orders": ("orders", "count"),
    "buyers": ("buyers", "count"),
    "in_period": ("in this report's period", "bool"),
    "tenure_months": ("tenure", "months"),
    "estimate": ("estimate", "score"),
    "standard error": ("standard error", "score"),
    "score": ("score", "count"),
    "customer_id": ("customer", "text"),
}

#: Why a known column's value can be missing, written beside ``n/a``.
REASONS = {
    "conversion": "first stage",
    "first_response_median_h": "none answered",
    "first_response_p90_h": "none answered",
    "within_target": "no tickets",
    "resolution_median_h": "none resolved",
    "resolution_hours": "open",
    "unanswered_hours": "answered",
    "first_response_hours": "not answered",
    "churn_rate": "no customers",
    "nps": "no answers",
    "csat": "no answers",
    "ces": "no answers",
    "auc": "no churners to compare",
}

#: Plain-language names of the row labels' columns.
INDEX_NAMES = {
    "nps_group": "NPS group before the period",
    "band": "health band",
    "referred_by": "referring customer",
    "group": "relationship group",
    "previous": "group last period",
    "current": "group this period",
    "period_index": "months since signup",
    "order_type": "order type",
    "customer_id": "customer",
}

#: Pairs of interval columns shown as one ``low to high`` column, named here, in the kind of the
#: column before the pair.
_INTERVALS = {("ci_low", "ci_high"): "95% CI", ("roi_ci_low", "roi_ci_high"): "ROI 95% CI"}


def _header(name) -> str:
    if name in COLUMNS:
        return COLUMNS[name][0]
    return str(name).replace("_", " ")


def _kind(frame: pd.DataFrame, name, kinds: dict) -> str:
    if name in kinds:
        return kinds[name]
    if name in COLUMNS:
        return COLUMNS[name][1]
    dtype = frame[name].dtype
    if pd.api.types.is_bool_dtype(dtype):
        return "bool"
    if pd.api.types.is_integer_dtype(dtype):
        return "count"
    if pd.api.types.is_float_dtype(dtype):
        return "score"
    if pd.api.types.is_datetime64_any_dtype(dtype):
        return "date"
    return "text"


def _column(frame, name, kind, reasons, currency) -> list[str]:
    reason = reasons.get(name, REASONS.get(name))
    return [format_cell(v, kind, reason=reason, currency=currency) for v in frame[name]]


#: Index levels whose values name someone or something in the user's systems (a rep, a team, a
#: segment, a campaign): shown exactly as in the data, like every ``..._id``.
IDENTIFIER_LEVELS = frozenset(
    {"owner", "team", "segment", "referrer", "referred_by", "customer", "campaign", "name"}
)


def _labels(values, name=None) -> list[str]:
    """Index labels as text; category values read as words (``paid_search`` -> ``paid search``),
    identifiers (a level named ``..._id`` or in :data:`IDENTIFIER_LEVELS`) stay as they are."""
    words = not str(name).endswith("_id") and str(name) not in IDENTIFIER_LEVELS
    return [
        v.replace("_", " ") if words and isinstance(v, str) else v
        for v in (format_cell(v, "date" if hasattr(v, "strftime") else "text", reason="") for v in values)
    ]


def plain_index(frame: pd.DataFrame) -> pd.DataFrame:
    """A copy of ``frame`` (a table already written as text) with its index as a reader sees it:
    plain-language level names (:data:`INDEX_NAMES`) and category values in words.

    >>> t = pd.DataFrame({"orders": ["3"]}, index=pd.Index(["cross_sell"], name="order_type"))
    >>> plain_index(t).index.tolist(), plain_index(t).index.name
    (['cross sell'], 'order type')
    """
    names = [INDEX_NAMES.get(n, _header(n)) if n is not None else None for n in frame.index.names]
    levels = [_labels(frame.index.get_level_values(i), n) for i, n in enumerate(frame.index.names)]
    index = pd.MultiIndex.from_arrays(levels, names=names) if len(levels) > 1 else pd.Index(levels[0])
    index.names = names
    return frame.set_axis(index)


def display_table(
    frame: pd.DataFrame,
    kinds: dict | None = None,
    *,
    headers: dict | None = None,
    reasons: dict | None = None,
    currency: str = "",
) -> pd.DataFrame:
    """``frame`` as text cells under plain-language headers, ready to show.

    ``kinds`` maps columns to cell kinds (:data:`~.format.CELL_KINDS`) where :data:`COLUMNS` or
    the type would choose wrongly, ``headers`` columns to headers, ``reasons`` columns to why a
    missing value is missing (``n/a (first stage)``); ``currency`` is the data's currency.
    Interval pairs (``ci_low`` / ``ci_high``) become one ``95% CI`` column.

    >>> t = pd.DataFrame({"n": [119], "csat": [0.8319], "ci_low": [0.7546], "ci_high": [0.8886],
    ...                   "low_sample": [False]}, index=pd.Index(["onboarding"], name="touchpoint"))
    >>> display_table(t).iloc[0].tolist()
    ['119', '83.2%', '75.5% to 88.9%', 'no']
    >>> list(display_table(t).columns)
    ['answers', 'CSAT (share satisfied)', '95% CI', 'fewer than 30 answers']
    """
    kinds, headers, reasons = dict(kinds or {}), dict(headers or {}), dict(reasons or {})
    out: dict[str, list[str]] = {}
    columns = list(frame.columns)
    skip: set = set()
    previous = None
    for name in columns:
        if name in skip:
            continue
        pair = next(((lo, hi) for lo, hi in _INTERVALS if name == lo and hi in columns), None)
        if pair is not None:
            kind = _kind(frame, previous, kinds) if previous is not None else "score"
            if kind == "count":
                kind = "score"
            title = headers.get(pair[0], _INTERVALS[pair])
            out[title] = [
                format_interval(lo, hi, kind, currency=currency)
                for lo, hi in zip(frame[pair[0]], frame[pair[1]])
            ]
            skip.add(pair[1])
            continue
        kind = _kind(frame, name, kinds)
        out[headers.get(name, _header(name))] = _column(frame, name, kind, reasons, currency)
        previous = name
    names = [INDEX_NAMES.get(n, _header(n)) if n is not None else None for n in frame.index.names]
    levels = [_labels(frame.index.get_level_values(i), n) for i, n in enumerate(frame.index.names)]
    index = pd.MultiIndex.from_arrays(levels, names=names) if len(levels) > 1 else pd.Index(levels[0])
    index.names = names
    table = pd.DataFrame(out, index=index, columns=list(out) or None)
    if frame.columns.name is not None:
        table.columns.name = INDEX_NAMES.get(frame.columns.name, _header(frame.columns.name))
    return table


def _whole():
    """pandas' display options, for this rendering only, that show every row, column and character."""
    return pd.option_context(
        "display.max_colwidth", None, "display.max_rows", None, "display.max_columns", None
    )


class ReportTable(pd.DataFrame):
    """A frame of numbers that shows itself formatted (:func:`display_table`): code and plots read
    its numbers, a notebook shows its text. Make one with :func:`shown`."""

    _metadata = ["display_kinds", "display_headers", "display_reasons", "display_currency"]

    @property
    def _constructor(self):
        return ReportTable

    def display(self) -> pd.DataFrame:
        """The table as it is shown: text cells under plain-language headers."""
        return display_table(
            self,
            getattr(self, "display_kinds", None),
            headers=getattr(self, "display_headers", None),
            reasons=getattr(self, "display_reasons", None),
            currency=getattr(self, "display_currency", "") or "",
        )

    def _note(self) -> str | None:
        note = self.attrs.get("note")
        return str(note) if self.empty and note else None

    def _repr_html_(self) -> str:  # type: ignore[override]
        note = self._note()
        if note is not None:
            return f"<p><em>{html.escape(note)}</em></p>"
        with _whole():
            return self.display().to_html(na_rep="", notebook=True, border=0)

    def __repr__(self) -> str:
        note = self._note()
        if note is not None:
            return note
        with _whole():
            return self.display().to_string(na_rep="")


def shown(
    frame: pd.DataFrame,
    kinds: dict | str | None = None,
    *,
    headers: dict | None = None,
    reasons: dict | None = None,
    currency: str = "",
) -> ReportTable:
    """``frame`` as a :class:`ReportTable` (same numbers, same ``attrs``) that shows itself through
    :func:`display_table` with these options; ``kinds`` one kind for every column, or a mapping."""
    if isinstance(kinds, str):
        kinds = dict.fromkeys(frame.columns, kinds)
    table = ReportTable(frame)
    table.attrs = dict(frame.attrs)
    table.display_kinds = dict(kinds or {})
    table.display_headers = dict(headers or {})
    table.display_reasons = dict(reasons or {})
    table.display_currency = currency
    return table
