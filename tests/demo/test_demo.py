"""Tests of the demo data generator: contract shape, contract rules and every planted effect.

The data is generated once per module (5,000 customers, seed 11). Effect checks compare the
measured quantity before and after the strategy change with a margin well inside what the
defaults plant and well outside sampling noise at this size.
"""

from __future__ import annotations

import dataclasses

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import yaml

from metrics_lib.demo import DemoEffects, generate_demo_data, write_demo_data

N_CUSTOMERS = 5000
SEED = 11
CHANGE = pd.Timestamp("2024-07-01")
FIRST_DAY = pd.Timestamp("2022-01-01")
LAST_DAY = pd.Timestamp("2025-12-31")

CONTRACT = {
    "customers": ["customer_id", "signup_date", "acquisition_channel", "segment", "region", "referred_by"],
    "orders": ["order_id", "customer_id", "order_date", "revenue", "cost", "order_type"],
    "subscriptions": [
        "subscription_id",
        "customer_id",
        "plan",
        "start_date",
        "end_date",
        "cancelled_date",
        "mrr",
        "renewed_from",
    ],
    "deals": [
        "deal_id",
        "customer_id",
        "owner",
        "team",
        "source",
        "created_date",
        "closed_date",
        "outcome",
        "amount",
        "deal_type",
    ],
    "deal_stages": ["deal_id", "stage", "entered_at"],
    "surveys": ["response_id", "customer_id", "response_date", "survey", "score", "touchpoint", "comment"],
    "tickets": [
        "ticket_id",
        "customer_id",
        "opened_at",
        "first_response_at",
        "resolved_at",
        "contacts_to_resolve",
        "channel",
    ],
    "marketing_spend": ["month", "channel", "campaign_id", "purpose", "spend"],
    "campaigns": ["campaign_id", "name", "channel", "start_date", "end_date", "cost"],
    "campaign_members": ["campaign_id", "customer_id", "group", "converted", "revenue"],
    "reviews": ["review_id", "customer_id", "review_date", "platform", "rating", "text"],
    "web_engagement": ["date", "sessions", "page_views", "bounces", "total_time_on_page_s"],
    "social": ["date", "platform", "follows", "shares", "likes"],
}
KEYS = {
    "customers": ["customer_id"],
    "orders": ["order_id"],
    "subscriptions": ["subscription_id"],
    "deals": ["deal_id"],
    "deal_stages": ["deal_id", "stage"],
    "surveys": ["response_id"],
    "tickets": ["ticket_id"],
    "campaigns": ["campaign_id"],
    "campaign_members": ["campaign_id", "customer_id"],
    "reviews": ["review_id"],
    "web_engagement": ["date"],
    "social": ["date", "platform"],
}
CUSTOMER_TABLES = ["orders", "subscriptions", "deals", "surveys", "tickets", "campaign_members", "reviews"]


@pytest.fixture(scope="module")
def data() -> dict[str, pd.DataFrame]:
    return generate_demo_data(N_CUSTOMERS, seed=SEED)


@pytest.fixture(scope="module")
def customers(data) -> pd.DataFrame:
    """Customers indexed by id, with the day they were lost (NaT while still active)."""
    subs = data["subscriptions"].sort_values("start_date")
    last = subs.groupby("customer_id").tail(1).set_index("customer_id")
    ran_out = last["end_date"].where(last["end_date"] <= LAST_DAY)
    lost = last["cancelled_date"].fillna(ran_out)
    out = data["customers"].set_index("customer_id")
    out["lost"] = lost.reindex(out.index)
    return out


def _active_at(customers: pd.DataFrame, day: pd.Timestamp) -> pd.Series:
    """Signed up before ``day`` and not lost before it."""
    return (customers["signup_date"] < day) & (customers["lost"].isna() | (customers["lost"] >= day))


def _churn_by_month(customers: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for start in pd.date_range("2022-02-01", "2025-12-01", freq="MS"):
        stop = start + pd.offsets.MonthBegin()
        active = _active_at(customers, start)
        lost = active & (customers["lost"] < stop)
        rows.append((start, int(active.sum()), int(lost.sum())))
    return pd.DataFrame(rows, columns=["month", "active", "lost"])


def _split(frame: pd.DataFrame, column: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    after = frame[column] >= CHANGE
    return frame[~after], frame[after]


def _nps(scores: pd.Series) -> float:
    return 100.0 * ((scores >= 9).mean() - (scores <= 6).mean())


# ---------------------------------------------------------------------------------------------
# Shape, determinism
# ---------------------------------------------------------------------------------------------


def test_every_table_and_column_in_contract_order(data):
    assert list(data) == list(CONTRACT)
    for table, columns in CONTRACT.items():
        assert list(data[table].columns) == columns, table


def test_same_seed_gives_identical_tables(data):
    again = generate_demo_data(N_CUSTOMERS, seed=SEED)
    for table in CONTRACT:
        pd.testing.assert_frame_equal(data[table], again[table], obj=table)


def test_different_seed_gives_different_tables(data):
    other = generate_demo_data(N_CUSTOMERS, seed=SEED + 1)
    assert not data["orders"]["revenue"].equals(other["orders"]["revenue"])
    assert not data["customers"]["signup_date"].equals(other["customers"]["signup_date"])


def test_column_types(data):
    for table in data.values():
        for column in table.columns:
            if column.endswith("_date") or column in ("date", "month"):
                assert pd.api.types.is_datetime64_dtype(table[column]), column
            if column.endswith("_at"):
                assert str(table[column].dtype) == "datetime64[us]", column
    assert data["tickets"]["contacts_to_resolve"].dtype == "Int64"
    assert data["campaign_members"]["converted"].dtype == bool
    assert pd.api.types.is_integer_dtype(data["surveys"]["score"])
    # real nulls, never the text "nan" or "None"
    for table, column in [("customers", "referred_by"), ("surveys", "comment"), ("deals", "customer_id")]:
        values = data[table][column]
        assert values.isna().any(), (table, column)
        assert not values.isin(["nan", "None", ""]).any(), (table, column)


def test_ids_have_the_documented_form(data):
    assert data["customers"]["customer_id"].iloc[0] == "C0000001"
    assert data["customers"]["customer_id"].str.fullmatch(r"C\d{7}").all()
    assert data["deals"]["owner"].str.fullmatch(r"rep_\d{2}").all()


# ---------------------------------------------------------------------------------------------
# Contract rules
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("table", list(KEYS))
def test_keys_are_unique(data, table):
    assert not data[table].duplicated(KEYS[table]).any()


@pytest.mark.parametrize("table", CUSTOMER_TABLES)
def test_customer_ids_refer_to_customers(data, table):
    known = set(data["customers"]["customer_id"])
    assert set(data[table]["customer_id"].dropna()) <= known


def test_other_foreign_keys(data):
    assert set(data["deal_stages"]["deal_id"]) == set(data["deals"]["deal_id"])
    campaigns = set(data["campaigns"]["campaign_id"])
    assert set(data["campaign_members"]["campaign_id"]) <= campaigns
    assert set(data["marketing_spend"]["campaign_id"].dropna()) == campaigns


def test_categories(data):
    c = data["customers"]
    channels = {"organic", "paid_search", "events", "outbound", "partner", "referral"}
    assert set(c["acquisition_channel"]) == channels
    assert set(c["segment"]) == {"SMB", "Mid-Market", "Enterprise"}
    assert set(c["region"]) == {"North America", "EMEA", "APAC", "LATAM"}
    assert set(data["orders"]["order_type"]) == {"new", "repeat", "upsell", "cross_sell"}
    assert set(data["deals"]["outcome"]) == {"won", "lost", "open"}
    assert set(data["deals"]["deal_type"]) == {"new_business", "upsell", "cross_sell", "renewal"}
    assert set(data["surveys"]["survey"]) == {"nps", "csat", "ces"}
    assert set(data["surveys"]["touchpoint"]) == {"onboarding", "support", "renewal", "relationship"}
    assert set(data["tickets"]["channel"]) == {"email", "phone", "chat", "portal"}
    assert set(data["marketing_spend"]["purpose"]) == {"acquisition", "retention"}
    assert set(data["campaign_members"]["group"]) == {"treatment", "control"}
    assert set(data["reviews"]["platform"]) == {"G2", "Capterra", "Trustpilot"}
    assert set(data["social"]["platform"]) == {"linkedin", "x", "youtube"}


def test_customers_sign_up_inside_the_window(data):
    signup = data["customers"]["signup_date"]
    assert signup.min() >= FIRST_DAY and signup.max() <= LAST_DAY


def test_referred_by_is_set_exactly_for_referrals_and_names_an_earlier_customer(data):
    c = data["customers"]
    referral = c["acquisition_channel"] == "referral"
    assert (c["referred_by"].notna() == referral).all()
    signup = c.set_index("customer_id")["signup_date"]
    ref = c[referral]
    assert (signup.reindex(ref["referred_by"]).to_numpy() < ref["signup_date"].to_numpy()).all()


def test_referrers_lean_towards_promoters(data):
    nps = data["surveys"].query("survey == 'nps'")
    mean_score = nps.groupby("customer_id")["score"].mean()
    referrers = data["customers"]["referred_by"].dropna()
    assert mean_score.reindex(referrers).mean() > mean_score.mean() + 0.5


def test_orders_rules(data):
    o = data["orders"]
    assert (o["revenue"] >= 0).all() and (o["cost"] >= 0).all()
    assert o["order_date"].between(FIRST_DAY, LAST_DAY).all()
    first = o.sort_values(["order_date", "order_id"]).groupby("customer_id").head(1)
    assert (first["order_type"] == "new").all()
    assert (o["order_type"] == "new").sum() == len(data["customers"])
    signup = data["customers"].set_index("customer_id")["signup_date"]
    assert (first["order_date"].to_numpy() == signup.reindex(first["customer_id"]).to_numpy()).all()


def test_subscription_rules(data):
    s = data["subscriptions"]
    assert (s["mrr"] >= 0).all()
    assert (s["end_date"] == s["start_date"] + pd.DateOffset(months=12)).all()
    cancelled = s.dropna(subset=["cancelled_date"])
    assert (cancelled["cancelled_date"] >= cancelled["start_date"]).all()
    assert (cancelled["cancelled_date"] < cancelled["end_date"]).all()
    assert (cancelled["cancelled_date"] <= LAST_DAY).all()
    renewal = s.dropna(subset=["renewed_from"])
    previous = s.set_index("subscription_id").loc[renewal["renewed_from"]]
    assert (previous["customer_id"].to_numpy() == renewal["customer_id"].to_numpy()).all()
    assert (previous["end_date"].to_numpy() == renewal["start_date"].to_numpy()).all()
    assert previous["cancelled_date"].isna().all()
    # renewals change MRR both ways
    change = renewal["mrr"].to_numpy() / previous["mrr"].to_numpy()
    assert (change > 1.02).mean() > 0.2 and (change < 0.98).mean() > 0.1
    # every customer has a first term starting on the signup day
    first = s[s["renewed_from"].isna()].set_index("customer_id")["start_date"]
    assert first.index.is_unique and len(first) == len(data["customers"])
    signup = data["customers"].set_index("customer_id")["signup_date"]
    assert (first.sort_index() == signup.sort_index()).all()


def test_churn_happens_both_by_cancellation_and_by_non_renewal(customers, data):
    s = data["subscriptions"]
    assert s["cancelled_date"].notna().sum() > 200
    renewed = set(s["renewed_from"].dropna())
    ended = s["cancelled_date"].isna() & (s["end_date"] <= LAST_DAY)
    ran_out = s[ended & ~s["subscription_id"].isin(renewed)]
    assert len(ran_out) > 200


def test_deal_rules(data):
    d = data["deals"]
    assert ((d["outcome"] == "open") == d["closed_date"].isna()).all()
    closed = d.dropna(subset=["closed_date"])
    assert (closed["closed_date"] >= closed["created_date"]).all()
    assert (closed["closed_date"] <= LAST_DAY).all()
    assert (d["created_date"] <= LAST_DAY).all()
    assert (d["amount"] >= 0).all()
    won_new = d.query("deal_type == 'new_business' and outcome == 'won'")
    assert won_new["customer_id"].is_unique and len(won_new) == len(data["customers"])
    signup = data["customers"].set_index("customer_id")["signup_date"]
    assert (won_new["closed_date"].to_numpy() == signup.reindex(won_new["customer_id"]).to_numpy()).all()
    prospects = d.query("deal_type == 'new_business' and outcome != 'won'")
    assert prospects["customer_id"].isna().all()
    assert d.query("deal_type != 'new_business'")["customer_id"].notna().all()
    assert (d["outcome"] == "open").sum() > 20


def test_expansion_deals_match_add_on_orders(data):
    won = data["deals"].query("outcome == 'won' and deal_type in ['upsell', 'cross_sell']")
    assert len(won) > 100
    orders = data["orders"].rename(columns={"order_date": "closed_date", "order_type": "deal_type"})
    matched = won.merge(orders, on=["customer_id", "closed_date", "deal_type"])
    matched = matched[np.isclose(matched["amount"], matched["revenue"])]
    assert matched["deal_id"].nunique() == len(won)


def test_deal_stage_history(data):
    d = data["deals"].set_index("deal_id")
    st = data["deal_stages"]
    order = {"lead": 0, "qualified": 1, "proposal": 2, "negotiation": 3, "closed": 4}
    rank = st["stage"].map(order)
    assert rank.notna().all()
    same_deal = st["deal_id"].eq(st["deal_id"].shift())
    # stages in order without gaps (a lost deal jumps to "closed"), times non-decreasing
    step = rank.diff()
    assert (step[same_deal & (st["stage"] != "closed")] == 1).all()
    assert (step[same_deal] > 0).all()
    assert (st["entered_at"].diff()[same_deal] >= pd.Timedelta(0)).all()
    first = st[~same_deal].set_index("deal_id")
    assert (first["stage"] == "lead").all()
    assert (first["entered_at"] == d.loc[first.index, "created_date"]).all()
    closing = st[st["stage"] == "closed"].set_index("deal_id")
    assert (closing["entered_at"] == d.loc[closing.index, "closed_date"]).all()
    assert set(closing.index) == set(d.index[d["outcome"] != "open"])
    reached = st.groupby("deal_id")["stage"].size()
    won = d.index[d["outcome"] == "won"]
    assert (reached.loc[won] == 5).all()
    lost = d.index[d["outcome"] == "lost"]
    assert set(reached.loc[lost]) == {2, 3, 4, 5}
    assert (st["entered_at"] <= LAST_DAY + pd.Timedelta(days=1)).all()


def test_survey_rules(data, customers):
    s = data["surveys"]
    ranges = {"nps": (0, 10), "csat": (1, 5), "ces": (1, 7)}
    for survey, (low, high) in ranges.items():
        scores = s.loc[s["survey"] == survey, "score"]
        assert scores.between(low, high).all() and scores.min() == low and scores.max() == high, survey
    who = customers.loc[s["customer_id"]]
    active = (s["response_date"].to_numpy() >= who["signup_date"].to_numpy()) & (
        who["lost"].isna().to_numpy() | (s["response_date"].to_numpy() < who["lost"].to_numpy())
    )
    assert active.all()
    assert s["response_date"].between(FIRST_DAY, LAST_DAY).all()
    assert 0.03 < s["comment"].notna().mean() < 0.3
    assert (s.loc[s["survey"] == "ces", "touchpoint"] == "support").all()


def test_support_surveys_follow_resolved_tickets(data):
    answers = data["surveys"].query("touchpoint == 'support'").sort_values("response_date")
    assert set(answers["survey"]) == {"csat", "ces"}
    tickets = data["tickets"].dropna(subset=["resolved_at"]).copy()
    tickets["resolved_day"] = tickets["resolved_at"].dt.floor("D").astype("datetime64[ms]")
    tickets = tickets.sort_values("resolved_day")
    paired = pd.merge_asof(
        answers,
        tickets[["customer_id", "resolved_day"]],
        left_on="response_date",
        right_on="resolved_day",
        by="customer_id",
        direction="backward",
    )
    waited = paired["response_date"] - paired["resolved_day"]
    assert waited.notna().all() and (waited <= pd.Timedelta(days=3)).all()


def test_ticket_rules(data):
    t = data["tickets"]
    assert (t["first_response_at"] >= t["opened_at"]).all()
    done = t.dropna(subset=["resolved_at"])
    assert (done["resolved_at"] >= done["first_response_at"]).all()
    assert (t["resolved_at"].isna() == t["contacts_to_resolve"].isna()).all()
    assert (done["contacts_to_resolve"] >= 1).all()
    unresolved = t[t["resolved_at"].isna()]
    assert 0 < len(unresolved) < 0.01 * len(t)
    assert (unresolved["opened_at"] >= LAST_DAY - pd.Timedelta(days=25)).all()
    assert (t["resolved_at"].dropna() < LAST_DAY + pd.Timedelta(days=1)).all()


def test_marketing_spend_rules(data):
    m = data["marketing_spend"]
    assert (m["spend"] >= 0).all()
    assert (m["month"].dt.day == 1).all()
    acquisition = m[m["purpose"] == "acquisition"]
    assert acquisition["campaign_id"].isna().all()
    camp = data["campaigns"].set_index("campaign_id")
    rows = m.dropna(subset=["campaign_id"]).set_index("campaign_id")
    assert np.allclose(rows.loc[camp.index, "spend"], camp["cost"])
    # acquisition spend follows signups from the channel
    c = data["customers"]
    signups = c.groupby([c["signup_date"].dt.to_period("M"), "acquisition_channel"]).size()
    spend = acquisition.groupby([acquisition["month"].dt.to_period("M"), "channel"])["spend"].sum()
    paid = spend.xs("paid_search", level=1)
    paid_signups = signups.xs("paid_search", level=1).reindex(paid.index, fill_value=0)
    assert np.corrcoef(paid, paid_signups)[0, 1] > 0.8


def test_retention_spend_rises_after_the_change(data):
    m = data["marketing_spend"]
    retention = m[(m["purpose"] == "retention") & m["campaign_id"].isna()]
    per_month = retention.groupby("month")["spend"].sum()
    before, after = per_month[per_month.index < CHANGE], per_month[per_month.index >= CHANGE]
    assert after.mean() > 2 * before.mean()


def test_campaign_rules(data, customers):
    camp = data["campaigns"]
    assert 3 * 4 - 1 <= len(camp) <= 3 * 4 and (camp["end_date"] >= camp["start_date"]).all()
    assert (camp["cost"] >= 0).all()
    members = data["campaign_members"].merge(camp[["campaign_id", "start_date"]], on="campaign_id")
    who = customers.loc[members["customer_id"]]
    assert (who["signup_date"].to_numpy() <= members["start_date"].to_numpy()).all()
    still = who["lost"].isna().to_numpy() | (who["lost"].to_numpy() > members["start_date"].to_numpy())
    assert still.all()
    assert (members.loc[~members["converted"], "revenue"] == 0).all()
    assert (members.loc[members["converted"], "revenue"] > 0).all()
    assert 0.07 < (members["group"] == "control").mean() < 0.13


def test_review_web_and_social_rules(data):
    r = data["reviews"]
    assert r["rating"].between(1, 5).all() and r["customer_id"].isna().any()
    w = data["web_engagement"]
    assert len(w) == (LAST_DAY - FIRST_DAY).days + 1
    assert (w["page_views"] >= w["sessions"]).all() and (w["bounces"] <= w["sessions"]).all()
    assert (w[["sessions", "bounces"]] >= 0).all().all() and (w["total_time_on_page_s"] >= 0).all()
    yearly = w.groupby(w["date"].dt.year)["sessions"].mean()
    assert yearly.is_monotonic_increasing
    s = data["social"]
    assert len(s) == 3 * len(w)
    assert (s[["follows", "shares", "likes"]] >= 0).all().all()


# ---------------------------------------------------------------------------------------------
# Planted effects
# ---------------------------------------------------------------------------------------------


def test_csat_share_rises_after_the_change(data):
    csat = data["surveys"].query("survey == 'csat'")
    before, after = _split(csat, "response_date")
    share_before, share_after = (before["score"] >= 4).mean(), (after["score"] >= 4).mean()
    assert 0.65 < share_before < 0.75 and 0.79 < share_after < 0.89


def test_nps_rises_by_a_clear_margin(data):
    nps = data["surveys"].query("survey == 'nps'")
    before, after = _split(nps, "response_date")
    assert _nps(after["score"]) > _nps(before["score"]) + 20
    assert -5 < _nps(before["score"]) < 15 and 25 < _nps(after["score"]) < 45


def test_ces_improves_after_the_change(data):
    ces = data["surveys"].query("survey == 'ces'")
    before, after = _split(ces, "response_date")
    assert after["score"].mean() > before["score"].mean() + 0.5


def test_first_response_is_faster_after_the_change(data):
    t = data["tickets"]
    hours = (t["first_response_at"] - t["opened_at"]).dt.total_seconds() / 3600
    after = t["opened_at"] >= CHANGE
    assert 5.0 < hours[~after].median() < 7.0 and 1.2 < hours[after].median() < 1.8


def test_first_contact_resolution_rises_after_the_change(data):
    t = data["tickets"].dropna(subset=["resolved_at"])
    before, after = _split(t, "opened_at")
    fcr_before = (before["contacts_to_resolve"] == 1).mean()
    fcr_after = (after["contacts_to_resolve"] == 1).mean()
    assert fcr_after > fcr_before + 0.1


def test_monthly_churn_is_lower_after_the_change(customers):
    monthly = _churn_by_month(customers)
    before, after = _split(monthly, "month")
    rate_before = before["lost"].sum() / before["active"].sum()
    rate_after = after["lost"].sum() / after["active"].sum()
    assert 0.01 < rate_before < 0.04
    assert rate_after < 0.75 * rate_before


def test_sales_cycle_is_shorter_after_the_change(data):
    won = data["deals"].query("outcome == 'won' and deal_type == 'new_business'")
    before, after = _split(won, "closed_date")
    days_before = (before["closed_date"] - before["created_date"]).dt.days.median()
    days_after = (after["closed_date"] - after["created_date"]).dt.days.median()
    assert 52 < days_before < 68 and 34 < days_after < 46


def test_win_rate_is_higher_after_the_change(data):
    closed = data["deals"].query("outcome != 'open' and deal_type == 'new_business'")
    before, after = _split(closed, "closed_date")
    rate_before = (before["outcome"] == "won").mean()
    rate_after = (after["outcome"] == "won").mean()
    assert 0.19 < rate_before < 0.25 and 0.28 < rate_after < 0.36


def test_add_ons_peak_in_q4_and_dip_in_q3(data, customers):
    orders = data["orders"]
    add_ons = orders[orders["order_type"].isin(["upsell", "cross_sell"])]
    per_quarter = {3: [0, 0], 4: [0, 0]}
    for start in pd.date_range("2022-07-01", "2025-12-01", freq="MS"):
        quarter = (start.month - 1) // 3 + 1
        if quarter not in per_quarter:
            continue
        stop = start + pd.offsets.MonthBegin()
        per_quarter[quarter][0] += add_ons["order_date"].between(start, stop, inclusive="left").sum()
        per_quarter[quarter][1] += _active_at(customers, start).sum()
    q3, q4 = (count / active for count, active in per_quarter.values())
    assert q4 > 1.2 * q3


def test_signups_peak_in_q4(data):
    month = data["customers"]["signup_date"].dt.month
    year = data["customers"]["signup_date"].dt.year
    per_month = data["customers"][year == 2024].groupby(month[year == 2024]).size()
    assert per_month.loc[[10, 11, 12]].mean() > 1.2 * per_month.loc[[7, 8]].mean()


def test_segments_differ_in_mrr_churn_and_tickets(data, customers):
    subs = data["subscriptions"].merge(data["customers"][["customer_id", "segment"]], on="customer_id")
    mrr = subs.groupby("segment")["mrr"].mean()
    assert mrr["SMB"] * 2 < mrr["Mid-Market"] < mrr["Enterprise"] / 2
    churned = customers["lost"].notna().groupby(customers["segment"]).mean()
    assert churned["SMB"] > churned["Mid-Market"] > churned["Enterprise"]
    end = customers["lost"].fillna(LAST_DAY + pd.Timedelta(days=1))
    tenure_days = (end - customers["signup_date"]).dt.days
    tickets = data["tickets"].merge(data["customers"][["customer_id", "segment"]], on="customer_id")
    load = tickets.groupby("segment").size() / tenure_days.groupby(customers["segment"]).sum()
    assert load["SMB"] * 1.5 < load["Mid-Market"] < load["Enterprise"] / 1.5


def test_detractors_churn_more_than_promoters(data, customers):
    nps = data["surveys"].query("survey == 'nps'").sort_values("response_date")
    counts = {"detractor": [0, 0], "promoter": [0, 0]}
    for start in pd.date_range("2022-07-01", "2025-10-01", freq="QS"):
        stop = start + pd.offsets.QuarterBegin(startingMonth=1)
        latest = nps[nps["response_date"] < start].groupby("customer_id")["score"].last()
        active = customers[_active_at(customers, start)]
        score = latest.reindex(active.index).dropna()
        lost = active.loc[score.index, "lost"].between(start, stop, inclusive="left")
        for group, members in (("detractor", score <= 6), ("promoter", score >= 9)):
            counts[group][0] += lost[members].sum()
            counts[group][1] += members.sum()
    detractor_rate = counts["detractor"][0] / counts["detractor"][1]
    promoter_rate = counts["promoter"][0] / counts["promoter"][1]
    assert counts["promoter"][1] > 500 and counts["detractor"][1] > 500
    assert detractor_rate > 2 * promoter_rate


def test_profit_by_loyalty_groups_are_all_well_populated(data, customers):
    orders = data["orders"]
    profit = (orders["revenue"] - orders["cost"]).groupby(orders["customer_id"]).sum()
    profit = profit.reindex(customers.index, fill_value=0.0)
    end = customers["lost"].fillna(LAST_DAY + pd.Timedelta(days=1))
    tenure = (end - customers["signup_date"]).dt.days
    high_profit = profit > profit.median()
    loyal = tenure > tenure.median()
    shares = pd.crosstab(high_profit, loyal, normalize=True)
    assert shares.shape == (2, 2)
    assert (shares.to_numpy() >= 0.10).all()
    margin = 1 - orders.groupby("customer_id")["cost"].sum() / orders.groupby("customer_id")["revenue"].sum()
    assert margin.quantile(0.1) < 0.3 and margin.quantile(0.9) > 0.75


def test_campaign_treatment_converts_more_than_control(data):
    members = data["campaign_members"]
    rate = members.groupby("group")["converted"].mean()
    assert rate["treatment"] > rate["control"] + 0.015
    assert 0.07 < rate["treatment"] < 0.13


def test_campaign_conversions_are_orders(data):
    converted = data["campaign_members"].query("converted")
    orders = data["orders"].query("order_type == 'upsell'")
    pairs = set(zip(orders["customer_id"], orders["revenue"].round(2)))
    found = [pair in pairs for pair in zip(converted["customer_id"], converted["revenue"].round(2))]
    assert all(found)


def test_review_ratings_improve_after_the_change(data):
    before, after = _split(data["reviews"], "review_date")
    assert after["rating"].mean() > before["rating"].mean() + 0.1


def test_effects_parameter_drives_the_data():
    flat = DemoEffects(win_probability_before=0.5, win_probability_after=0.5)
    deals = generate_demo_data(1500, seed=3, effects=flat)["deals"]
    closed = deals.query("outcome != 'open' and deal_type == 'new_business'")
    assert 0.45 < (closed["outcome"] == "won").mean() < 0.55


# ---------------------------------------------------------------------------------------------
# Writing, validation
# ---------------------------------------------------------------------------------------------


def test_write_demo_data_writes_parquet_and_source(tmp_path):
    messages: list[str] = []
    out = tmp_path / "demo"
    rows = write_demo_data(out, customers=800, seed=5, progress=messages.append)
    assert list(rows) == list(CONTRACT)
    assert messages and all(isinstance(m, str) for m in messages)
    for table, count in rows.items():
        frame = pd.read_parquet(out / f"{table}.parquet")
        assert len(frame) == count > 0, table
        assert list(frame.columns) == CONTRACT[table], table
    assert rows["customers"] == 800
    source = yaml.safe_load((out / "source.yml").read_text())
    assert source["strategy_change_date"] == "2024-07-01"
    assert source["default_period"] == "2025-Q4"
    assert {"name", "description"} <= set(source)
    generator = source["generator"]
    assert generator["customers"] == 800 and generator["seed"] == 5
    for field in dataclasses.fields(DemoEffects):
        value = getattr(DemoEffects(), field.name)
        assert generator[field.name] == (list(value) if isinstance(value, tuple) else value), field.name


def test_written_files_match_generated_tables(tmp_path):
    write_demo_data(tmp_path, customers=300, seed=9)
    generated = generate_demo_data(300, seed=9)
    orders = pd.read_parquet(tmp_path / "orders.parquet")
    assert orders["order_id"].tolist() == generated["orders"]["order_id"].tolist()
    assert np.allclose(orders["revenue"], generated["orders"]["revenue"])
    schema = pq.read_schema(tmp_path / "tickets.parquet")
    assert str(schema.field("opened_at").type) == "timestamp[us]"
    assert str(pq.read_schema(tmp_path / "orders.parquet").field("order_date").type) == "date32[day]"


def test_a_small_run_still_has_every_table():
    small = generate_demo_data(1, seed=0)
    assert len(small["customers"]) == 1
    assert len(small["orders"]) >= 1 and len(small["web_engagement"]) == 1461


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"csat_satisfied_after": 1.2}, "csat_satisfied_after"),
        ({"strategy_change_date": "July 2024"}, "strategy_change_date"),
        ({"seasonality": (1.0, 1.0)}, "seasonality"),
        ({"nps_promoters_after": 0.7, "nps_detractors_after": 0.4}, "cannot exceed 1"),
        ({"segment_shares": (0.5, 0.3, 0.3)}, "segment_shares"),
    ],
)
def test_invalid_effects_are_refused(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DemoEffects(**kwargs)


@pytest.mark.parametrize("customers", [0, -3, 2.5])
def test_invalid_customer_count_is_refused(customers):
    with pytest.raises(ValueError, match="customers"):
        generate_demo_data(customers)


def test_end_must_follow_start():
    with pytest.raises(ValueError, match="must be after"):
        generate_demo_data(10, start="2025-01-01", end="2024-01-01")
