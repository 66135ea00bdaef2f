"""Report tables for what the data holds beyond the headline metrics, as the notebooks call them
through ``Workbook.sections``: social media activity and the spread of referrals (advocacy),
revenue by order type and by customer age with the cost of retention (value), and sales by rep
and team (pipeline).

Each returns a :class:`~metrics_lib.reporting.mrr_sections.SectionView`: ``numbers`` unrounded,
``table`` formatted through :mod:`metrics_lib.reporting.format`, ``note`` for an empty section
or what the reader should know (groups hidden, the window).
"""

from __future__ import annotations

import pandas as pd

from metrics_lib.core.results import quietly
from metrics_lib.formulas import value
from metrics_lib.metrics import aggregate_marketing, aggregate_revenue, engagement_views, sales_views
from metrics_lib.reporting.format import format_value, format_window
from metrics_lib.reporting.mrr_sections import SectionView, formatted, skipped

__all__ = ["CoverageSections"]


def _interval(low, high, unit: str) -> list[str]:
    return [
        "n/a" if pd.isna(lo) else f"{format_value(lo, unit)} to {format_value(hi, unit)}"
        for lo, hi in zip(low, high)
    ]


def _with_interval(
    numbers: pd.DataFrame, units: dict[str, str], names: dict[str, str], unit: str
) -> pd.DataFrame:
    """``formatted`` with the ``ci_low`` / ``ci_high`` columns as one ``95% CI`` column after the
    first column of ``unit``."""
    table = formatted(numbers, units, names)
    first = next(names.get(c, c) for c, u in units.items() if u == unit)
    table.insert(
        table.columns.get_loc(first) + 1, "95% CI", _interval(numbers["ci_low"], numbers["ci_high"], unit)
    )
    return table


class CoverageSections:
    """The advocacy, value and pipeline report tables, for the workbook ``wb``."""

    def __init__(self, wb):
        self._wb = wb

    def _lacks(self, *needs: str) -> list[str]:
        """The tables (``"deals"``) and optional columns (``"deals.owner"``) among ``needs`` that
        the source lacks or leaves empty in every row."""
        source = self._wb.source
        out = []
        for need in needs:
            table, _, column = need.partition(".")
            if not source.has(table) or (column and not source.has_values(table, column)):
                out.append(need)
        return out

    # -- advocacy --------------------------------------------------------------------------
    def social_engagement(self) -> SectionView:
        """Follows, shares and likes of the period per platform, with each platform's share of
        the interactions (:func:`metrics_lib.metrics.engagement_views.social_by_platform`)."""
        cols = [*engagement_views.SOCIAL_COLUMNS, "share_of_interactions", "days"]
        if missing := self._lacks("social"):
            return skipped(cols, missing, "platform")
        numbers = engagement_views.social_by_platform(self._wb._scope())
        units = {"follows": "count", "shares": "count", "likes": "count", "share_of_interactions": "share"}
        table = formatted(
            numbers, {**units, "days": "count"}, {"share_of_interactions": "share of interactions"}
        )
        return SectionView(numbers, table, "" if len(numbers) else "no social activity in the period")

    def social_trend(self, periods: int = 4) -> SectionView:
        """Follows, shares and likes per period for the last ``periods`` periods."""
        if missing := self._lacks("social"):
            return skipped([*engagement_views.SOCIAL_COLUMNS, "days"], missing, "period")
        scopes = [self._wb._scope(p) for p in self._wb._periods(periods)]
        numbers = engagement_views.social_trend(scopes)
        units = {"follows": "count", "shares": "count", "likes": "count", "days": "count"}
        return SectionView(numbers, formatted(numbers, units, {"days": "days with data"}))

    def referral_distribution(self, months: int = 12) -> SectionView:
        """How the customers referred in the ``months`` months ending with the period are spread
        over their referrers (:func:`metrics_lib.metrics.engagement_views.referral_distribution`)."""
        if missing := self._lacks("customers", "customers.referred_by"):
            return skipped(engagement_views.REFERRAL_COLUMNS, missing, "referrals each")
        window = self._wb.context.window(months)
        numbers = engagement_views.referral_distribution(self._wb._scope(window))
        units = {
            "referrers": "count",
            "referrals": "count",
            "share_of_referrals": "share",
            "referrals_per_referrer": "ratio",
        }
        names = {
            "share_of_referrals": "share of referrals",
            "referrals_per_referrer": "referrals per referrer",
        }
        note = f"customers who signed up through a referral, {format_window(window)}"
        return SectionView(numbers, formatted(numbers, units, names), note if len(numbers) else f"no {note}")

    def referral_conversion(self, months: int = 12) -> SectionView:
        """Win rate of the new-business deals from referrals against other sources, closed in the
        ``months`` months ending with the period
        (:func:`metrics_lib.metrics.engagement_views.referral_lead_conversion`)."""
        cols = ["closed", "won", "win_rate", "ci_low", "ci_high"]
        if missing := self._lacks("deals", "deals.source", "deals.deal_type"):
            return skipped(cols, missing, "deal source")
        window = self._wb.context.window(months)
        numbers = engagement_views.referral_lead_conversion(self._wb._scope(window))
        units = {"closed": "count", "won": "count", "win_rate": "share"}
        table = _with_interval(numbers, units, {"win_rate": "win rate"}, "share")
        return SectionView(numbers, table, f"new-business deals closed {format_window(window)}")

    # -- value -----------------------------------------------------------------------------
    def revenue_by_order_type(self) -> SectionView:
        """The period's orders, buyers, revenue and its share, gross profit and revenue per buyer
        per order type, cross-sell apart from upsell
        (:func:`metrics_lib.metrics.aggregate_revenue.revenue_by_order_type`)."""
        cols = [
            "orders",
            "buyers",
            "returns",
            "revenue",
            "share_of_revenue",
            "gross_profit",
            "revenue_per_buyer",
        ]
        if missing := self._lacks("orders", "orders.order_type"):
            return skipped(cols, missing, "order_type")
        numbers = aggregate_revenue.revenue_by_order_type(self._wb._scope())
        labels = ["(no type)" if t is None else t for t in numbers.index]
        numbers = numbers.set_axis(pd.Index(labels, name=numbers.index.name))
        units = {
            "orders": "count",
            "buyers": "count",
            "returns": "count",
            "revenue": "currency",
            "share_of_revenue": "share",
            "gross_profit": "currency",
            "revenue_per_buyer": "currency",
        }
        names = {
            "share_of_revenue": "share of revenue",
            "gross_profit": "gross profit",
            "revenue_per_buyer": "revenue per buyer",
        }
        return SectionView(numbers, formatted(numbers, units, names))

    def revenue_by_customer_age(self) -> SectionView:
        """The period's revenue by how long the buyer had been a customer: acquired in the period,
        first year, beyond it, no customer; the first two make the headline new revenue
        (:func:`metrics_lib.metrics.aggregate_revenue.revenue_by_customer_age`)."""
        cols = ["revenue", "share_of_revenue", "orders", "buyers", "returns", "revenue_per_buyer"]
        if missing := self._lacks("customers", "orders"):
            return skipped(cols, missing, "customers")
        numbers = aggregate_revenue.revenue_by_customer_age(self._wb._scope())
        units = {
            "revenue": "currency",
            "share_of_revenue": "share",
            "orders": "count",
            "buyers": "count",
            "returns": "count",
            "revenue_per_buyer": "currency",
        }
        names = {"share_of_revenue": "share of revenue", "revenue_per_buyer": "revenue per buyer"}
        return SectionView(numbers, formatted(numbers, units, names))

    def retention_cost(self) -> SectionView:
        """The period's retention spend, the customers retained and the cost per client retained,
        beside the revenue per customer beyond their first year who bought in the period."""
        if missing := self._lacks("customers", "orders", "marketing_spend"):
            return skipped(["value"], missing, "")
        d = self._wb._period_data(self._wb.period)
        if pd.isna(d.spend.retention):
            cost, note = None, aggregate_marketing.NO_RETENTION_SPEND
        else:
            cost = quietly(value.retention_cost_per_client, d.spend.retention, d.activity.retained)
            note = ""
        if self._wb.segment:
            cost, note = (
                None,
                "retention spend is not split by segment, so the cost per client is for all customers only",
            )
        older = aggregate_revenue.revenue_by_customer_age(self._wb._scope()).loc["beyond the first year"]
        rows = [
            ("retention spend", d.spend.retention, "currency"),
            ("customers retained (active at the start and the end)", d.activity.retained, "count"),
            ("retention cost per client", None if cost is None else cost.value, "currency"),
            ("customers beyond their first year who bought", older["buyers"], "count"),
            ("revenue per customer beyond their first year", older["revenue_per_buyer"], "currency"),
        ]
        numbers = pd.DataFrame(
            {"value": [r[1] for r in rows], "unit": [r[2] for r in rows]},
            index=pd.Index([r[0] for r in rows]),
        )
        table = pd.DataFrame(
            {"value": [format_value(None if v is None or pd.isna(v) else float(v), u) for _, v, u in rows]},
            index=numbers.index,
        )
        return SectionView(numbers, table, note)

    # -- pipeline --------------------------------------------------------------------------
    def sales_leaderboard(self, by: str = "owner", *, min_closed: int = 20) -> SectionView:
        """Deals closed in the period per rep (``by="owner"``) or ``team``: closed, won, win rate
        with its interval, value won and average deal won, by value won; groups with fewer than
        ``min_closed`` closed deals hidden and counted in the note
        (:func:`metrics_lib.metrics.sales_views.sales_leaderboard`)."""
        cols = list(sales_views.LEADERBOARD_COLUMNS)
        if missing := self._lacks("deals", f"deals.{by}", *(["deals.team"] if by == "owner" else [])):
            return skipped(cols, missing, by)
        numbers = sales_views.sales_leaderboard(self._wb._scope(), by=by, min_closed=min_closed)
        units = {
            "closed": "count",
            "won": "count",
            "win_rate": "share",
            "won_value": "currency",
            "average_won": "currency",
        }
        names = {"win_rate": "win rate", "won_value": "value won", "average_won": "average deal won"}
        table = _with_interval(numbers, units, names, "share")
        if by == "owner":
            table.insert(0, "team", numbers["team"].astype(str).tolist())
        table.index.name = "rep" if by == "owner" else "team"
        a = numbers.attrs
        note = ""
        if a["hidden"]:
            which = "rep" if by == "owner" else "team"
            note = (
                f"{a['hidden']} {which}{'s' if a['hidden'] > 1 else ''} with fewer than {a['min_closed']} closed deals "
                f"({format_value(a['hidden_closed'], 'count')} deals) not shown: too few for a win rate"
            )
        return SectionView(numbers, table, note)
