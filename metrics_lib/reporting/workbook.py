"""What the notebooks call: one object per report holding the period, the data source and targets.

A notebook's parameters go straight into :class:`Workbook`; it checks that paths stay inside the
project and resolves the rest into a :class:`~metrics_lib.metrics.context.ReportContext` (the
opened source, period, known segment, as-of date), then hands out display-ready tables from the
metrics layer:

- headline numbers: :meth:`~Workbook.headline` (the display table), :meth:`~Workbook.headline_numbers`
  (rounded, for nbval), :meth:`~Workbook.trend` (a metric over periods);
- one method per report section: ``nps_mix``, ``breakdown``, ``nps_churn``, ``cohort_retention``,
  ``revenue_trend``, ``cac_by_channel``, ``clv_steps``, ``pipeline_stages``, ``response_times``,
  ``response_summary``, ``reviews``, ``web_engagement``, ``top_referrers``, ``campaign_lift``,
  ``detectable_lifts``, ``health_distribution``, ``health_validation`` and ``relationship_groups``.

Every section returns a pandas DataFrame or a small frozen dataclass of them. The numbers are
computed in :mod:`metrics_lib.metrics` (through the engine and the formula modules), never here,
in the notebooks or in the plots: the Workbook resolves parameters, keeps each period's
aggregates, chooses what to show, and rounds for display. When the data lacks a table a section
needs, it raises nothing: it returns empty frames whose ``attrs["note"]`` (or ``note`` field)
says ``"skipped: needs <tables>"``, which the plots draw.
"""

from __future__ import annotations

from dataclasses import replace
from functools import cached_property, partial
from pathlib import Path

import pandas as pd

from metrics_lib.core.errors import WorkbookError
from metrics_lib.core.periods import Period, parse_period
from metrics_lib.core.results import quietly
from metrics_lib.data import PROJECT_ROOT, resolve_path
from metrics_lib.formulas.satisfaction import LOW_SAMPLE_THRESHOLD
from metrics_lib.metrics import (
    aggregate,
    aggregate_service,
    analyses,
    breakdowns,
    campaigns,
    clv_views,
    cohorts,
    health_views,
    scorecard,
    trends,
)
from metrics_lib.metrics.catalogue import HEADLINE
from metrics_lib.metrics.clv_views import period_clv_models
from metrics_lib.metrics.cohorts import CohortView, RelationshipGroups
from metrics_lib.metrics.context import ReportContext
from metrics_lib.metrics.period_data import PeriodData
from metrics_lib.metrics.pipeline_views import PipelineStages, pipeline_stages
from metrics_lib.metrics.shared_results import shared_call
from metrics_lib.metrics.targets import resolve_targets
from metrics_lib.reporting import about, churn, clv_report, verdict, views
from metrics_lib.reporting.display import shown
from metrics_lib.reporting.export_shapes import family_table
from metrics_lib.reporting.format import (
    Markdown,
    format_change,
    format_significance,
    format_value,
    format_window,
    markdown_escape,
)
from metrics_lib.reporting.sections import ReportSections
from metrics_lib.reporting.views import CLVModelsView, HealthValidationView

__all__ = ["Workbook"]


def _checked_path(text: str, what: str, restrict: bool) -> Path:
    """The parameter as an absolute path. A relative path starts at the project folder and may
    not climb out of it (``../../etc``); an absolute path is the caller's explicit choice."""
    path = resolve_path(text)
    root = PROJECT_ROOT.resolve()
    if restrict and not Path(text).expanduser().is_absolute() and root not in (path, *path.parents):
        raise WorkbookError(
            f"{what} {text!r} leads outside the project folder {root}; relative paths "
            "start at the project folder and must stay inside it (give an absolute path "
            "for data kept elsewhere)"
        )
    return path


def _skipped_frame(columns, missing, index_name=None) -> pd.DataFrame:
    """An empty table whose ``attrs["note"]`` says which tables the data lacks."""
    frame = pd.DataFrame(columns=list(columns))
    if index_name:
        frame.index.name = index_name
    frame.attrs["note"] = f"skipped: needs {', '.join(missing)}"
    return shown(frame)


_CHURN_DIGITS = {"churn_rate": 4, "ci_low": 4, "ci_high": 4}


def _number(value) -> float | None:
    """A number for the formatters: None for a missing one (None or NaN)."""
    return None if value is None or pd.isna(value) else float(value)


def _capitalised(text: str) -> str:
    return text[:1].upper() + text[1:]


def _formatted_did(did: pd.DataFrame, comparison: str | None) -> pd.DataFrame:
    """The difference-in-differences table formatted like the before/after table."""
    rows = []
    for mid, r in did.iterrows():
        unit, p = HEADLINE[mid].unit, _number(r["p_value"])
        row = {"metric": HEADLINE[mid].label}
        for col in ("treated change", "comparison change", "difference in differences"):
            row[col] = format_change(_number(r[col]), unit)
        row["difference vs noise"] = format_significance(p, p is not None and p < 0.05, comparison)
        rows.append(row)
    return pd.DataFrame(rows).set_index("metric")


class Workbook:
    """The context of one report: period, data source, targets, segment and as-of date.

    Parameters are the notebook's; empty strings mean "the default". Relative paths resolve
    from the project folder, so a notebook runs the same from any working directory, and may
    not climb out of it (``restrict_paths=False`` lifts that for analysts calling the library
    directly); absolute paths are taken as given. ``data`` may also be a ``postgresql://`` URL.
    """

    def __init__(
        self,
        period: str = "",
        data: str = "",
        targets: str | dict = "",
        segment: str = "",
        as_of: str = "",
        mapping: str = "",
        on_invalid: str = "strict",
        show_pii: bool = False,
        *,
        restrict_paths: bool = True,
    ):
        self.show_pii = bool(show_pii)
        self.context = ReportContext.resolve(
            data,
            period=period,
            targets=targets,
            segment=segment,
            as_of=as_of,
            mapping=mapping,
            on_invalid=on_invalid,
            check_path=partial(_checked_path, restrict=restrict_paths),
        )
        _ = self._target_map  # a bad targets file or mapping stops the report here

    @property
    def source(self):
        return self.context.source

    @property
    def period(self) -> Period:
        return self.context.period

    @property
    def targets(self) -> Path | dict | None:
        return self.context.targets

    @property
    def segment(self) -> str | None:
        return self.context.segment

    @property
    def as_of(self):
        return self.context.as_of

    @property
    def incomplete(self) -> bool:
        return self.context.incomplete

    # -- what the report is about --------------------------------------------------------
    def summary(self) -> pd.DataFrame:
        """About the data: period, source, as-of date, rows of each table (the segment's, with one),
        guest orders and returns, rows set aside and families skipped (:mod:`.about`)."""
        return about.about_the_data(self)

    @cached_property
    def sections(self) -> ReportSections:
        """More report sections: MRR, social, referrals, revenue mix, sales by rep (:mod:`~metrics_lib.reporting.sections`)."""
        return ReportSections(self)

    def families(self) -> pd.DataFrame:
        """Each metric family: how many metrics the data lets the scorecard report, or why none."""
        return family_table(scorecard.family_availability(self.source))

    def context_line(self) -> Markdown:
        """One line on period, data and segment for a report's top (:mod:`.verdict`)."""
        return verdict.context_line(self)

    def verdict(self, periods: int = 8) -> verdict.Verdict:
        """The scorecard's answer first (:func:`metrics_lib.reporting.verdict.scorecard_verdict`)."""
        return verdict.scorecard_verdict(self, periods)

    # -- headline numbers ----------------------------------------------------------------
    def records(self, ids=None, *, period=None) -> dict:
        """The raw headline records (as in ``metrics --format json``) for metric ids or families."""
        p = parse_period(period) if period else self.period
        out = quietly(
            scorecard.headline_metrics,
            self.source,
            p,
            targets=self.targets,
            segment=self.segment,
            ids=ids,
            as_of=self.as_of,
        )
        return out["metrics"]

    @cached_property
    def _record_cache(self) -> dict:
        return {}

    def _records_for(self, ids) -> dict:
        """Records of the chosen metrics, each computed once per Workbook."""
        chosen = [h.id for h in scorecard.select_headlines(ids)]
        missing = [m for m in chosen if m not in self._record_cache]
        if missing:
            self._record_cache.update(self.records(missing))
        return {m: self._record_cache[m] for m in chosen}

    def headline(self, ids=None) -> pd.DataFrame:
        """A display table: value, 95% interval, sample size, previous period, same period last year,
        change and whether it is beyond noise, target and status, and a note for low samples or
        undefined metrics."""
        rows, fmt = [], partial(format_value, currency=self.source.config.currency)
        whole = not self.context.coverage_notes()  # then a "not comparable" is the metric's own
        ly, last = verdict.last_year_values(self, ids)
        for mid, rec in self._records_for(ids).items():
            unit = rec["unit"]
            ci = (
                "n/a"
                if rec["ci_low"] is None
                else f"{fmt(rec['ci_low'], unit)} to {fmt(rec['ci_high'], unit)}"
            )
            n = rec.get("n")
            note = rec.get("reason") or ""
            if n is not None and 0 < n < LOW_SAMPLE_THRESHOLD:
                note = (note + "; " if note else "") + f"low sample (n={n})"
            if rec.get("target_reason"):  # a target set, but not for this segment or length
                note = (note + "; " if note else "") + rec["target_reason"]
            if whole and rec.get("comparison"):  # a value not final yet, e.g. an open close window
                note = (note + "; " if note else "") + rec["comparison"].removeprefix("not comparable: ")
            rows.append(
                {
                    "metric": HEADLINE[mid].label,
                    "value": fmt(rec["value"], unit),
                    "95% CI": ci,
                    "n": "" if n is None else f"{n:,}",
                    f"previous ({self.period.previous().label})": fmt(rec["previous"], unit),
                    f"last year ({ly})": fmt(last[mid]["value"], unit),
                    "change": format_change(rec.get("change"), unit),
                    "change vs noise": format_significance(
                        rec.get("p_value"), rec.get("significant"), rec.get("comparison")
                    ),
                    "target": fmt(rec["target"], unit) if rec["target"] is not None else "",
                    "status": rec["status"],
                    "note": note,
                }
            )
        return self._shown(pd.DataFrame(rows).set_index("metric"), headers={"n": "n"})

    def headline_numbers(self, ids=None, digits: int = 4) -> pd.Series:
        """Rounded headline values, for the cells that nbval compares between runs."""
        vals = {}
        for mid, rec in self._records_for(ids).items():
            v = rec["value"]
            vals[mid] = None if v is None else round(float(v), digits)
        return pd.Series(vals, name=self.period.label, dtype=object)

    # -- shared plumbing -------------------------------------------------------------------
    @cached_property
    def _period_cache(self) -> dict:
        return {}

    def _period_data(self, p: Period) -> PeriodData:
        """The aggregates of period ``p``, built once and reused by trend and the sections."""
        if p.label not in self._period_cache:
            self._period_cache[p.label] = PeriodData(self.source, p, self.segment)
        return self._period_cache[p.label]

    def _shown(self, frame: pd.DataFrame, kinds=None, **options) -> pd.DataFrame:
        frame.attrs["strategy_change"] = (self.source.config.strategy_change_date, self.strategy_change())
        return shown(frame, kinds, currency=self.source.config.currency, **options)

    def _scope(self, p=None) -> aggregate.Scope:
        return self.context.scope(p)

    @cached_property
    def _target_map(self) -> dict:
        return resolve_targets(self.targets, self.source)

    def _missing(self, *tables) -> list[str]:
        return self.context.missing(*tables)

    def _window_label(self, months: int = 12) -> str:
        return format_window(self.context.window(months))

    def _periods(self, periods: int) -> list[Period]:
        if not isinstance(periods, int) or isinstance(periods, bool) or periods < 1:
            raise WorkbookError(f"periods ({periods!r}) must be a whole number >= 1")
        return [self.period.shift(-k) for k in range(periods - 1, -1, -1)]

    def _period_datas(self, periods: int) -> list[PeriodData]:
        return [self._period_data(p) for p in self._periods(periods)]

    # -- trends ------------------------------------------------------------------------------
    def trend(self, ids, *, periods: int = 8) -> pd.DataFrame:
        """Long table of the metrics over the last ``periods`` periods ending with this one.

        One row per period and metric: ``value`` with ``ci_low`` / ``ci_high`` and ``n``, the
        metric's ``target`` (None without one), ``direction`` and whether the row is the
        ``current`` period (:func:`metrics_lib.metrics.trends.metric_trend`). Each period's
        aggregates are computed once and kept for the other sections.
        """
        heads = scorecard.select_headlines(ids)
        return self._shown(
            trends.metric_trend(self._period_datas(periods), heads, self._target_map, self.period)
        )

    def revenue_trend(self, months: int = 12) -> pd.DataFrame:
        """Revenue, gross profit, gross margin, orders and buyers per month for the ``months``
        months ending with the period; ``in_period`` marks the period's own months."""
        cols = ["revenue", "gross_profit", "gross_margin", "orders", "buyers", "in_period"]
        if missing := self._missing("orders"):
            return _skipped_frame(cols, missing, "month")
        out = trends.revenue_trend(self._scope(), months=months)
        return self._shown(out.round({"revenue": 2, "gross_profit": 2, "gross_margin": 4}))

    # -- satisfaction -------------------------------------------------------------------------
    def nps_mix(self, periods: int = 8) -> pd.DataFrame:
        """Promoters, passives and detractors per period (counts and shares) with the NPS and its
        95% interval, for the last ``periods`` periods; ``current`` marks this period."""
        cols = trends.NPS_MIX_COLUMNS
        if missing := self._missing("surveys"):
            return _skipped_frame(cols, missing, "period")
        out = trends.nps_mix(self._period_datas(periods), self.period)
        return self._shown(out).round(
            {
                "promoter_share": 4,
                "passive_share": 4,
                "detractor_share": 4,
                "nps": 2,
                "ci_low": 2,
                "ci_high": 2,
            }
        )

    def comments(self, survey: str = "nps", *, group: str = "detractor", n: int = 10) -> pd.DataFrame:
        """The latest ``n`` survey comments of the period from one NPS group (``detractor``,
        ``passive``, ``promoter``; ``all`` for every answer), with customer id, date and score.

        Free text may hold names, e-mail addresses and phone numbers, so it is shown only when the
        report was asked for it (``show_pii=True``, ``run --show-pii``); otherwise the table is
        empty and ``attrs["note"]`` says why.
        """
        cols = ["customer_id", "response_date", "score", "touchpoint", "comment"]
        if missing := self._missing("surveys"):
            return _skipped_frame(cols, missing)
        if not self.show_pii:
            frame = pd.DataFrame(columns=cols)
            frame.attrs["note"] = (
                "comments hidden: free text may hold personal data; run the report "
                "with --show-pii to see them"
            )
            return shown(frame)
        return self._shown(breakdowns.survey_comments(self._scope(), survey, group=group, n=n))

    def breakdown(self, survey: str, by: str = "touchpoint") -> pd.DataFrame:
        """CSAT, NPS or CES of the period per touchpoint, customer segment or acquisition channel.

        One row per group and a final ``all`` row: ``n`` answers, the score (CSAT as a share of
        satisfied answers, NPS in [-100, 100], CES as the mean answer) with its 95% interval, and
        ``low_sample`` where fewer than 30 answers make the number fragile.
        """
        breakdowns.check_breakdown(survey, by)
        cols = breakdowns.breakdown_columns(survey)
        if missing := self._missing("surveys", *(("customers",) if by != "touchpoint" else ())):
            return _skipped_frame(cols, missing, by)
        out = breakdowns.survey_breakdown(self._scope(), survey, by)
        return self._shown(out.round(4 if survey == "csat" else 2))

    def nps_churn(self) -> pd.DataFrame:
        """Does NPS track churn here? Churn in this period by each customer's latest NPS group
        before it started (:func:`metrics_lib.metrics.analyses.nps_vs_churn`); the sentence that reads
        it is in ``attrs["verdict"]``."""
        cols = ["customers", "churned", "churn_rate", "ci_low", "ci_high"]
        if missing := self._missing("customers", "surveys") or (
            [] if self._scope().contractual else self._missing("orders")
        ):
            return _skipped_frame(cols, missing, "nps_group")
        result = shared_call(
            self.source, analyses.nps_vs_churn, self.source, self.period, segment=self.segment
        )
        table = result.table.round(_CHURN_DIGITS)
        table.attrs["verdict"] = views.nps_churn_verdict(result)
        return self._shown(table)

    # -- retention -------------------------------------------------------------------------
    def cohort_retention(self, months: int = 12) -> CohortView:
        """Share of each monthly signup cohort still active k months after signing up
        (:func:`metrics_lib.metrics.cohorts.cohort_retention`): cohorts of the ``months`` months
        ending with the period, activity as behind churn everywhere in the workbook, months after
        the period not observed (NaN)."""
        cohorts.check_months(months)
        missing = self._missing("customers") or ([] if self._scope().contractual else self._missing("orders"))
        if missing:
            empty = _skipped_frame([], missing, "cohort")
            return CohortView(empty, pd.Series(dtype="int64", name="customers"), "", empty.attrs["note"])
        view = cohorts.cohort_retention(self._scope(), months)
        return replace(view, matrix=self._shown(view.matrix.round(4), "share"))

    # -- value -------------------------------------------------------------------------------
    def cac_by_channel(self) -> pd.DataFrame:
        """Acquisition spend, new customers and CAC per acquisition channel in the period; with a
        segment, the segment's share of each channel's spend (by its share of the channel's new
        customers, :func:`metrics_lib.metrics.aggregate_marketing.acquisition_spend_by_channel`)."""
        cols = ["spend", "new_customers", "cac"]
        if missing := self._missing("customers", "marketing_spend"):
            return _skipped_frame(cols, missing, "channel")
        out = breakdowns.cac_by_channel(self._scope())
        out["spend"] = [round(float(v), 2) for v in out["spend"]]
        gap = dict.fromkeys(["spend", "cac"], "no acquisition spend in the data") if out.attrs else None
        return self._shown(out.round({"cac": 2}), reasons=gap)

    # -- pipeline ----------------------------------------------------------------------------
    def pipeline_stages(self, months: int = 12) -> PipelineStages:
        """Time in stage, the stage funnel and the bottleneck for the deals created in the
        ``months`` months (default four quarters) ending with the period
        (:func:`metrics_lib.metrics.pipeline_views.pipeline_stages`); open deals' current stage
        runs to the period's end (or the as-of date, if earlier)."""
        window = self._window_label(months)
        if missing := self._missing("deals", "deal_stages"):
            t = _skipped_frame(
                ["deals", "mean_days", "median_days", "open_deals", "bottleneck"], missing, "stage"
            )
            f = _skipped_frame(["deals", "entered", "conversion", "share_of_first"], missing, "stage")
            return PipelineStages(t, f, None, 0, window, t.attrs["note"])
        stages = pipeline_stages(self._scope(self.context.window(months)), as_of=self.as_of)
        if stages.note:
            return replace(stages, window=window)
        f = stages.funnel.round(4)  # "entered" says the same as "deals" unless a deal skipped a stage
        f = f.drop(columns="entered") if f["entered"].equals(f["deals"]) else f
        t, f = self._shown(stages.time_in_stage.round(2)), self._shown(f)
        return replace(stages, time_in_stage=t, funnel=f, window=window)

    # -- service -------------------------------------------------------------------------------
    def response_times(self) -> pd.DataFrame:
        """The period's tickets: hours to first response and to resolution (NaN while open),
        contacts to resolve, channel, and for a ticket not answered the hours it has waited as of
        the data's last ticket timestamp (``unanswered_hours``)."""
        cols = aggregate_service.TICKET_TIME_COLUMNS
        if missing := self._missing("tickets"):
            return _skipped_frame(cols, missing)
        return self._shown(aggregate_service.ticket_times(self._scope()).reset_index(drop=True))

    def response_summary(self, by: str = "channel", *, target_hours: float = 2.0) -> pd.DataFrame:
        """First response and resolution times of the period's tickets per channel: median and
        90th percentile (hours, answered tickets), the share answered within ``target_hours``
        with its interval (a ticket never answered counts as a miss once older than the target),
        and tickets still unanswered."""
        cols = breakdowns.RESPONSE_SUMMARY_COLUMNS
        if by != "channel":
            raise WorkbookError(f"by {by!r} must be 'channel'")
        if missing := self._missing("tickets"):
            return _skipped_frame(cols, missing, by)
        return self._shown(breakdowns.response_summary(self._scope(), target_hours=target_hours).round(3))

    # -- advocacy ------------------------------------------------------------------------------
    def reviews(self) -> pd.DataFrame:
        """Reviews of the period per platform: volume, average rating with its interval and the
        share of positive (4-5 of 5) ratings."""
        cols = ["reviews", "average_rating", "ci_low", "ci_high", "positive_share"]
        if missing := self._missing("reviews"):
            return _skipped_frame(cols, missing, "platform")
        return self._shown(breakdowns.reviews_by_platform(self._scope()).round(3))

    def web_engagement(self, periods: int = 4) -> pd.DataFrame:
        """Sessions, page views, pages per session, average time on page (s) and bounce rate per
        period for the last ``periods`` periods."""
        cols = ["sessions", "page_views", "pages_per_session", "avg_time_on_page_s", "bounce_rate"]
        if missing := self._missing("web_engagement"):
            return _skipped_frame(cols, missing, "period")
        return self._shown(trends.web_engagement(self._period_datas(periods)).round(3))

    def top_referrers(self, n: int = 10) -> pd.DataFrame:
        """The customers who referred the most new customers in the last 12 months."""
        if missing := self._missing("customers"):
            return _skipped_frame(["referrals", "segment"], missing, "referred_by")
        return self._shown(breakdowns.top_referrers(self._scope(self.context.window(12)), n))

    # -- marketing -----------------------------------------------------------------------------
    def campaign_lift(self, months: int = 12) -> pd.DataFrame:
        """Per campaign started in the ``months`` months (default four quarters) ending with the
        period: conversion of the treated group against the held-out control, the lift with its
        95% interval and p-value, the smallest lift the groups could detect, incremental gross
        profit and ROI with its interval (:func:`metrics_lib.metrics.campaigns.campaign_lift`)."""
        if missing := self._missing("campaigns", "campaign_members"):
            return _skipped_frame(campaigns.LIFT_COLUMNS, missing, "campaign")
        out = campaigns.campaign_lift(self._scope(self.context.window(months)))
        if out.empty:
            return self._shown(out)
        return self._shown(out).round(
            {
                "treated_rate": 4,
                "control_rate": 4,
                "lift": 4,
                "ci_low": 4,
                "ci_high": 4,
                "p_value": 4,
                "detectable_lift": 4,
                "incremental_profit": 2,
                "incremental_roi": 3,
                "roi_ci_low": 3,
                "roi_ci_high": 3,
            }
        )

    def detectable_lifts(self, months: int = 12) -> pd.DataFrame:
        """Per campaign of :meth:`campaign_lift`: the smallest lift in conversion its group sizes
        could detect (two-sided two-proportion test, alpha 0.05, power 0.8, at the control group's
        conversion) beside the lift seen, with a sentence reading them
        (:func:`metrics_lib.metrics.campaigns.detectable_lifts`); the control's rate as a
        percentage, lifts in percentage points."""
        return views.detectable_lift_table(campaigns.detectable_lifts(self.campaign_lift(months)))

    # -- health and relationship groups --------------------------------------------------------
    def health_distribution(self) -> pd.DataFrame:
        """Customers active at the period's end per health band (higher risk, middle, lower risk:
        cut points from the previous period's score terciles, in ``attrs["cuts"]`` and in words in
        ``attrs["bands"]``), with their share and mean score
        (:func:`metrics_lib.metrics.health_views.health_distribution`)."""
        if missing := self._missing("customers", "orders"):
            return _skipped_frame(["customers", "share", "mean_score"], missing, "band")
        out = health_views.health_distribution(self._scope()).round(3)
        out.attrs["bands"] = views.describe_bands(out.attrs["cuts"])
        return self._shown(out)

    def health_validation(self) -> HealthValidationView:
        """Does the health score predict churn? The score of each customer at the end of the
        PREVIOUS period against whether they were lost in THIS period, per band, whether the
        bands separate churn, the AUC, and each component's effective weight and AUC
        (:func:`metrics_lib.metrics.health_views.health_validation`)."""
        cols = ["customers", "churned", "churn_rate", "ci_low", "ci_high", "mean_score"]
        if missing := self._missing("customers", "orders"):
            empty = _skipped_frame(cols, missing, "band")
            return HealthValidationView(
                empty, float("nan"), (float("nan"), float("nan")), 0, 0, empty.attrs["note"]
            )
        hv = shared_call(self.source, health_views.health_validation, self._scope())
        return HealthValidationView.of(
            hv,
            bands=self._shown(hv.bands.round({**_CHURN_DIGITS, "mean_score": 2})),
            components=self._shown(hv.components.round(3).sort_values("auc", ascending=False)),
        )

    def churn_model(self) -> churn.ChurnModelView:
        """The fitted churn model against the health score, and the at-risk list it gives
        (:func:`metrics_lib.reporting.churn.churn_model_view`)."""
        return churn.churn_model_view(self._scope(), self._missing("customers", "orders"))

    def relationship_groups(self, *, loyalty: str = "tenure") -> RelationshipGroups:
        """Strangers, butterflies, barnacles and true friends among the customers active at the
        period's end: gross profit over the last 12 months x loyalty (tenure in months, or the
        BG/NBD probability of still buying with ``loyalty="probability_alive"``), split at
        the medians; what each group holds, what to do with it, and how customers moved between
        groups since the previous period (:func:`metrics_lib.metrics.cohorts.relationship_groups`)."""
        if missing := self._missing("customers", "orders"):
            e = _skipped_frame([], missing)
            return RelationshipGroups(e, e, e, e, float("nan"), float("nan"), float("nan"), e.attrs["note"])
        groups = cohorts.relationship_groups(self._scope(), loyalty=loyalty)
        s, t = self._shown(groups.summary.round(4)), self._shown(groups.transitions.round(4), "share")
        return replace(groups, summary=s, transitions=t)

    # -- CLV step by step, probabilistic CLV and before/after ---------------------------------
    def clv_steps(self) -> pd.DataFrame:
        """The headline CLV step by step: the seeds' four-step CLV over the twelve months ending
        with the period (average purchase value, purchase frequency, customer value, lifespan),
        then x gross margin, the margin CLV the headline reports
        (:func:`metrics_lib.metrics.clv_views.clv_steps`); values formatted in their units,
        ``attrs["window"]`` the twelve months."""
        if missing := self._missing("customers", "orders"):
            return _skipped_frame(["value", "how"], missing, "step")
        return self._shown(views.clv_steps_table(clv_views.clv_steps(self._period_data(self.period))))

    def clv_models(
        self, *, horizon_weeks: int = 52, holdout_weeks: int = 26, annual_discount_rate: float = 0.1, fits=""
    ) -> CLVModelsView:
        """BG/NBD + Gamma-Gamma fitted on purchase days up to the period's end (weekly summary),
        checked against a holdout of the last ``holdout_weeks``, and each customer's discounted
        CLV over ``horizon_weeks`` at ``annual_discount_rate``
        (:func:`metrics_lib.metrics.clv_views.clv_models`); ``fits``: a ``clv_models.json`` to reuse."""
        empty = pd.DataFrame()
        if missing := self._missing("orders"):
            return CLVModelsView(
                empty, empty, empty, empty, horizon_weeks, f"skipped: needs {', '.join(missing)}"
            )
        view = period_clv_models(
            self._scope(),
            horizon_weeks=horizon_weeks,
            holdout_weeks=holdout_weeks,
            annual_discount_rate=annual_discount_rate,
            fits=clv_report.load_fits(self, fits),
        )
        return CLVModelsView.of(replace(view, parameters=self._shown(view.parameters)))

    def contractual_clv(self, *, fits: str = "", annual_discount_rate: float = 0.10):
        """The sBG model of renewals and each contract's value (:func:`.clv_report.contractual_clv`)."""
        return clv_report.contractual_clv(self, fits=fits, annual_discount_rate=annual_discount_rate)

    def strategy_change(self) -> str:
        """The change the before/after comparison is about, as a reader sees it: the data source's
        ``strategy_change_label`` with its date (``New pricing (01 Jul 2024)``), else ``the change
        on 01 Jul 2024``; empty when ``source.yml`` sets no ``strategy_change_date``."""
        config = self.source.config
        if config.strategy_change_date is None:
            return ""
        when = f"{config.strategy_change_date:%d %b %Y}"
        label = config.strategy_change_label
        return f"{label} ({when})" if label else f"the change on {when}"

    def before_after_heading(
        self, question: str = "did it change how we sell and serve?", *, level: int = 2
    ) -> Markdown:
        """The before/after section's heading (``level`` 2 is ``##``), naming the change from
        ``source.yml`` (:meth:`strategy_change`): ``## New pricing (01 Jul 2024): did it change
        how we sell and serve?``; a notebook shows it rendered as a heading."""
        name = _capitalised(self.strategy_change() or "the strategy change")
        return Markdown(f"{'#' * level} {markdown_escape(name)}: {question}")

    def before_after_note(self, table: pd.DataFrame) -> Markdown:
        """What a :meth:`before_after` table compares with what (its note), shown as text."""
        return Markdown(markdown_escape(table.attrs.get("note", "")))

    def before_after(self, *, window_days: int = 365, comparison_segment: str = "") -> pd.DataFrame:
        """Close rate, win rate, cycle, churn, CSAT, NPS and first response over the ``window_days``
        before the data source's strategy change date against the same span from it
        (:func:`metrics_lib.metrics.analyses.before_after`), formatted like :meth:`headline`: one
        row per metric, the two windows' values (their dates in the column names), the change and
        whether it is beyond noise (``not comparable`` when the data does not cover both windows
        whole). ``attrs["note"]`` says what is compared with what, ``attrs["numbers"]`` holds the
        unformatted numbers and, with ``comparison_segment``, ``attrs["did"]`` the
        difference-in-differences."""
        change = self.source.config.strategy_change_date
        if change is None:
            frame = pd.DataFrame(columns=["before", "after", "change", "change vs noise"])
            frame.attrs["note"] = "skipped: the data source's source.yml sets no strategy_change_date"
            return shown(frame)
        result = shared_call(
            self.source,
            analyses.before_after,
            self.source,
            change,
            window_days=window_days,
            segment=self.segment,
            comparison_segment=comparison_segment or None,
            as_of=self.as_of,
        )
        before, after = (format_window(w) for w in (result.before, result.after))
        rows = []
        for mid, r in result.table.iterrows():
            unit = HEADLINE[mid].unit
            rows.append(
                {
                    "metric": HEADLINE[mid].label,
                    f"before ({before})": format_value(
                        r["before"], unit, currency=self.source.config.currency
                    ),
                    f"after ({after})": format_value(r["after"], unit, currency=self.source.config.currency),
                    "change": format_change(_number(r["change"]), unit),
                    "change vs noise": format_significance(
                        _number(r["p_value"]), r["significant"], result.comparison
                    ),
                }
            )
        table = pd.DataFrame(rows).set_index("metric")
        table.attrs["note"] = (
            f"{_capitalised(self.strategy_change())}: the {window_days} days before it ({before}) "
            f"against the {window_days} days from it ({after})"
            + (f"; {result.comparison}" if result.comparison else "")
        )
        table.attrs["numbers"] = result.table
        if result.did is not None:
            table.attrs["did"] = _formatted_did(result.did, result.comparison)
            table.attrs["did_numbers"] = result.did
        return self._shown(table)
