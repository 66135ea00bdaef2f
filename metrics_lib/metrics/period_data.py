"""The aggregates of one period, computed once on the engine and shared by the headline metrics.

:class:`PeriodData` wraps a :class:`~metrics_lib.metrics.aggregate.Scope` (source, period or date
window, segment) and exposes each aggregation of :mod:`metrics_lib.metrics.aggregate` as a cached
attribute, plus the annualised churn rate, the survey scores and the orders of the twelve months
ending with the period (CLV's purchase window), so that metrics sharing an aggregate (and the
tests of their change) query the engine once. Within a report run the aggregates are computed
once for all the run's notebooks (:mod:`metrics_lib.metrics.shared_results`).
"""

from __future__ import annotations

from datetime import timedelta
from functools import cached_property

import pandas as pd

from metrics_lib.core.results import NAN
from metrics_lib.formulas import retention
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics import (
    aggregate_health,
    aggregate_marketing,
    aggregate_pipeline,
    aggregate_service,
    aggregate_subscriptions,
    aggregate_value,
)
from metrics_lib.metrics.context import trailing_window
from metrics_lib.metrics.shared_results import shared, shared_property

__all__ = ["PeriodData"]


class PeriodData:
    """The aggregates of one period, each computed once on the engine and reused by the metrics."""

    def __init__(self, source, period, segment=None):
        self.scope = agg.Scope.of(source, period, segment)
        self.source = source

    def has(self, *needs) -> bool:
        """Whether the source has these tables (``"orders"``) and optional columns with values
        (``"orders.cost"``), as a headline's ``needs`` names them."""
        for need in needs:
            table, _, column = need.partition(".")
            if not self.source.has(table) or (column and not self.source.has_values(table, column)):
                return False
        return True

    @shared_property
    def activity(self) -> agg.ActivityCounts:
        return agg.activity_counts(self.scope)

    @shared_property
    def orders(self) -> agg.OrdersSummary:
        return agg.orders_summary(self.scope)

    @shared_property
    def new(self) -> agg.NewCustomers:
        return agg.new_customers_summary(self.scope)

    @shared_property
    def pipeline(self) -> aggregate_pipeline.PipelineSummary:
        return aggregate_pipeline.pipeline_summary(self.scope)

    @shared_property
    def won(self):
        return aggregate_pipeline.won_deals(self.scope)

    @shared_property
    def tickets(self):
        return aggregate_service.ticket_times(self.scope)

    @shared_property
    def resolved(self) -> aggregate_service.ResolvedTickets:
        return aggregate_service.resolved_tickets(self.scope)

    @shared_property
    def spend(self) -> aggregate_marketing.SpendSummary:
        return aggregate_marketing.spend_summary(self.scope)

    @cached_property
    def year_window(self) -> agg.DateWindow:
        """The twelve calendar months ending with the period, cut to the days from the first to
        the last order of the data (whole source, not the segment); empty when they do not meet."""
        w = trailing_window(self.scope.period)
        span = self.source.date_span("orders") if self.source.has("orders") else None
        if span is None:
            return agg.DateWindow(w.start, w.start)
        start, end = max(w.start, span[0]), min(w.next_start, span[1] + timedelta(days=1))
        return agg.DateWindow(start, max(start, end))

    @cached_property
    def year_covered(self) -> float:
        """The share of the twelve months ending with the period that :attr:`year_window` holds
        (1.0 when the orders cover them whole)."""
        return self.year_window.days / trailing_window(self.scope.period).days

    @shared_property
    def year_orders(self) -> agg.OrdersSummary:
        """The orders of :attr:`year_window` (the segment's, with a segment)."""
        return agg.orders_summary(agg.Scope(self.source, self.year_window, self.scope.segment))

    @shared_property
    def year_buyer_profit(self) -> aggregate_value.BuyerProfit:
        """Gross profit per buying customer over :attr:`year_window` (the headline CLV's interval)."""
        return aggregate_value.buyer_profit_spread(
            agg.Scope(self.source, self.year_window, self.scope.segment)
        )

    @cached_property
    def annual_churn(self) -> float:
        r = retention.churn_rate(self.activity.active_at_start, self.activity.lost)
        if not r.defined:
            return NAN
        return retention.convert_churn_rate(
            r.value, days_measured=self.scope.period.days, days_target=365
        ).value

    @cached_property
    def health_components(self) -> pd.DataFrame:
        # once per period: the health metric and its t-test both use it (and, in a report run, the
        # health report, the churn model and the at-risk list)
        return aggregate_health.period_health_components(self.scope)

    @shared_property
    def mrr(self) -> aggregate_subscriptions.RevenueRetention:
        return aggregate_subscriptions.revenue_retention(self.scope)

    def scores(self, survey: str) -> pd.Series:
        # each query once per period: a remote engine answers each in a fraction of a second, not
        # in microseconds
        cache = self.__dict__.setdefault("_scores", {})
        if survey not in cache:
            cache[survey] = shared(self, f"scores-{survey}", lambda: agg.survey_scores(self.scope, survey))
        return cache[survey]
