"""One period's numbers split by a grouping: survey scores per touchpoint, segment or channel,
the survey comments themselves, reviews per platform, ticket response times per channel,
acquisition cost per channel, and the customers who referred the most.

Each function takes a :class:`~metrics_lib.metrics.aggregate.Scope` (source, period or date
window, segment) and returns a pandas DataFrame with one row per group (and an ``all`` row where
a total reads naturally), unrounded: rounding for display is the reader's.
"""

from __future__ import annotations

import ibis
import pandas as pd

from metrics_lib.core.errors import WorkbookError
from metrics_lib.core.results import quietly
from metrics_lib.formulas import advocacy, satisfaction, service, value
from metrics_lib.formulas.satisfaction import LOW_SAMPLE_THRESHOLD
from metrics_lib.metrics import aggregate as agg
from metrics_lib.metrics import aggregate_marketing, aggregate_service

__all__ = [
    "BREAKDOWNS",
    "RESPONSE_SUMMARY_COLUMNS",
    "check_breakdown",
    "survey_breakdown",
    "survey_comments",
    "reviews_by_platform",
    "response_summary",
    "cac_by_channel",
    "top_referrers",
]

#: What a survey breakdown can group by, and the column it groups on.
BREAKDOWNS = {"touchpoint": "touchpoint", "segment": "segment", "channel": "acquisition_channel"}

#: The score range of each NPS group whose comments :func:`survey_comments` selects.
_NPS_GROUPS = {"detractor": (0, 6), "passive": (7, 8), "promoter": (9, 10), "all": (0, 10)}


def check_breakdown(survey: str, by: str) -> None:
    """Raise WorkbookError unless ``survey`` is csat, nps or ces and ``by`` is in :data:`BREAKDOWNS`."""
    if survey not in ("csat", "nps", "ces"):
        raise WorkbookError(f"survey {survey!r} must be one of 'csat', 'nps', 'ces'")
    if by not in BREAKDOWNS:
        raise WorkbookError(f"by {by!r} must be one of {', '.join(map(repr, BREAKDOWNS))}")


def breakdown_columns(survey: str) -> list[str]:
    """The columns of :func:`survey_breakdown` for ``survey``."""
    extra = {"csat": ["mean_score"], "nps": [], "ces": ["easy_share"]}[survey]
    return ["n", survey, "ci_low", "ci_high", *extra, "low_sample"]


def survey_breakdown(scope: agg.Scope, survey: str, by: str = "touchpoint") -> pd.DataFrame:
    """CSAT, NPS or CES of the period per touchpoint, customer segment or acquisition channel.

    One row per group and a final ``all`` row: ``n`` answers, the score (CSAT as a share of
    satisfied answers, NPS in [-100, 100], CES as the mean answer) with its 95% interval, and
    ``low_sample`` where fewer than 30 answers make the number fragile. The CSAT and CES scales
    are the source's (``source.yml``).
    """
    check_breakdown(survey, by)
    cols = breakdown_columns(survey)
    s = scope.table("surveys")
    answers = s.filter(scope.during(s.response_date) & (s.survey == survey))
    if by == "touchpoint":
        frame = answers.select(group=answers.touchpoint, score=answers.score).execute()
    else:
        c = scope.customers()
        j = answers.join(c, "customer_id")
        frame = j.select(group=j[BREAKDOWNS[by]], score=j.score).execute()
    frame["group"] = frame["group"].astype(object).where(frame["group"].notna(), "(none)")
    opts = scope.source.config.options
    rows = {}
    groups = [(g, part["score"]) for g, part in frame.groupby("group", sort=True)]
    for label, scores in groups + [("all", frame["score"])]:
        scores = scores.astype(float)
        if survey == "csat":
            r = quietly(satisfaction.csat, scores, scale=opts.csat_scale)
            row = {
                "n": r.n,
                survey: r.value,
                "ci_low": r.ci.low,
                "ci_high": r.ci.high,
                "mean_score": r.mean.value,
            }
        elif survey == "nps":
            r = quietly(satisfaction.nps, scores)
            row = {"n": r.n, survey: r.value, "ci_low": r.ci.low, "ci_high": r.ci.high}
        else:
            r = quietly(satisfaction.ces, scores, scale=opts.ces_scale)
            row = {
                "n": r.n,
                survey: r.value,
                "ci_low": r.ci.low,
                "ci_high": r.ci.high,
                "easy_share": r.easy.value,
            }
        row["low_sample"] = bool(r.n < LOW_SAMPLE_THRESHOLD)
        rows[label] = row
    out = pd.DataFrame.from_dict(rows, orient="index")[cols]
    out.index.name = by
    return out


def survey_comments(
    scope: agg.Scope, survey: str = "nps", *, group: str = "detractor", n: int = 10
) -> pd.DataFrame:
    """The latest ``n`` survey comments of the period from one NPS group (``detractor``,
    ``passive``, ``promoter``; ``all`` for every answer; other surveys give every answer), with
    customer id (the index), date (``YYYY-MM-DD``), score and touchpoint. Free text may hold
    personal data: whether to show it is the caller's decision."""
    cols = ["customer_id", "response_date", "score", "touchpoint", "comment"]
    if group not in _NPS_GROUPS:
        raise WorkbookError(f"group {group!r} must be one of {', '.join(_NPS_GROUPS)}")
    low, high = _NPS_GROUPS[group] if survey == "nps" else (None, None)
    s = scope.table("surveys")
    q = s.filter(scope.during(s.response_date) & (s.survey == survey) & s.comment.notnull())
    if low is not None:
        q = q.filter(q.score.between(low, high))
    frame = q.order_by([ibis.desc("response_date"), "response_id"]).limit(n).select(*cols).execute()
    frame["response_date"] = pd.to_datetime(frame["response_date"]).dt.strftime("%Y-%m-%d")
    return frame.set_index("customer_id")


def reviews_by_platform(scope: agg.Scope) -> pd.DataFrame:
    """Reviews of the period per platform and ``all``: volume, average rating with its interval
    and the share of positive (4-5 of 5) ratings."""
    cols = ["reviews", "average_rating", "ci_low", "ci_high", "positive_share"]
    r = scope.source.table("reviews")
    frame = r.filter(scope.during(r.review_date)).select("platform", "rating").execute()
    rows = {}
    groups = [(g, part["rating"]) for g, part in frame.groupby("platform", sort=True)]
    for label, ratings in groups + [("all", frame["rating"])]:
        s = quietly(advocacy.review_summary, ratings.astype(float))
        rows[label] = {
            "reviews": s.volume,
            "average_rating": s.value,
            "ci_low": s.ci.low,
            "ci_high": s.ci.high,
            "positive_share": s.positive.value,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")[cols]
    out.index.name = "platform"
    return out


#: The columns of :func:`response_summary`, in order.
RESPONSE_SUMMARY_COLUMNS = (
    "tickets",
    "unanswered",
    "first_response_median_h",
    "first_response_p90_h",
    "within_target",
    "ci_low",
    "ci_high",
    "resolution_median_h",
)


def response_summary(scope: agg.Scope, *, target_hours: float = 2.0) -> pd.DataFrame:
    """First response and resolution times of the period's tickets per channel and ``all``:
    median and 90th percentile (hours, answered tickets), the share answered within
    ``target_hours`` with its interval (a ticket never answered counts as a miss once older than
    the target: :func:`~metrics_lib.formulas.service.response_within_target`), and tickets still
    unanswered."""
    cols = list(RESPONSE_SUMMARY_COLUMNS)
    times = aggregate_service.ticket_times(scope).reset_index(drop=True)
    rows = {}
    groups = [(g, part) for g, part in times.groupby("channel", sort=True)]
    for label, part in groups + [("all", times)]:
        fr = quietly(
            service.response_time_summary, part["first_response_hours"].dropna(), target_hours=target_hours
        )
        rs = quietly(
            service.response_time_summary,
            part["resolution_hours"].dropna(),
            target_hours=target_hours,
            quantity="resolution time",
        )
        within = quietly(
            service.response_within_target,
            part["first_response_hours"],
            part["unanswered_hours"],
            target_hours=target_hours,
        )
        rows[label] = {
            "tickets": len(part),
            "unanswered": int(part["first_response_hours"].isna().sum()),
            "first_response_median_h": fr.median,
            "first_response_p90_h": fr.p90,
            "within_target": within.value,
            "ci_low": within.ci.low,
            "ci_high": within.ci.high,
            "resolution_median_h": rs.median,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")[cols]
    out.index.name = "channel"
    return out


def cac_by_channel(scope: agg.Scope) -> pd.DataFrame:
    """Acquisition spend, new customers and CAC per acquisition channel in the period, and ``all``;
    with a segment, the segment's share of each channel's spend
    (:func:`~metrics_lib.metrics.aggregate_marketing.acquisition_spend_by_channel`). When
    ``marketing_spend`` has no acquisition row at all, spend and CAC are NaN and
    ``attrs["note"]`` says why."""
    cols = ["spend", "new_customers", "cac"]
    new = agg.new_customers_summary(scope).by_channel.set_index("acquisition_channel")["new_customers"]
    spend = aggregate_marketing.acquisition_spend_by_channel(scope)
    recorded = len(spend) > 0 or aggregate_marketing.spend_recorded(scope, "acquisition")
    channels = sorted(set(new.index.dropna()) | set(spend.index.dropna()))
    rows = {}
    for ch in [*channels, "all"]:
        sp = float(spend.sum() if ch == "all" else spend.get(ch, 0.0)) if recorded else float("nan")
        n = int(new.sum() if ch == "all" else new.get(ch, 0))
        cac = quietly(value.cac, sp, n).value if recorded else sp
        rows[ch] = {"spend": sp, "new_customers": n, "cac": cac}
    out = pd.DataFrame.from_dict(rows, orient="index")[cols]
    out.index.name = "channel"
    if not recorded:
        out.attrs["note"] = aggregate_marketing.NO_ACQUISITION_SPEND
    return out


def top_referrers(scope: agg.Scope, n: int = 10) -> pd.DataFrame:
    """The ``n`` customers who referred the most new customers signing up in the scope's period
    (or window), with their segment; ties by referrer id."""
    cols = ["referrals", "segment"]
    c = scope.customers()
    new = c.filter(scope.during(c.signup_date) & c.referred_by.notnull())
    counts = new.group_by("referred_by").aggregate(referrals=new.count())
    j = counts.left_join(c.select("customer_id", "segment"), counts.referred_by == c.customer_id)
    frame = (
        j.select("referred_by", "referrals", "segment")
        .order_by([ibis.desc("referrals"), "referred_by"])
        .limit(n)
        .execute()
    )
    return frame.set_index("referred_by")[cols]
