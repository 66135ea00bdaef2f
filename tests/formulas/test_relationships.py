"""Hand-worked checks of the profit x loyalty relationship groups, their summary and transitions."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

from metrics_lib.formulas.relationships import (
    RELATIONSHIP_ACTIONS,
    RELATIONSHIP_GROUPS,
    assign_relationship_group,
    group_transition_matrix,
    relationship_group_summary,
)


def test_assign_relationship_group_ties_at_median_are_low():
    # profit median 20: only 30 is high. loyalty median 5: only 9 is high.
    profit = pd.Series([10, 20, 20, 30], index=["c1", "c2", "c3", "c4"])
    loyalty = pd.Series([5, 1, 9, 5], index=["c1", "c2", "c3", "c4"])
    g = assign_relationship_group(profit, loyalty)
    assert g.to_dict() == {"c1": "stranger", "c2": "stranger", "c3": "barnacle", "c4": "butterfly"}
    assert list(g.cat.categories) == list(RELATIONSHIP_GROUPS)
    assert g.name == "relationship_group"


def test_assign_relationship_group_explicit_splits_and_missing():
    g = assign_relationship_group([10, 50, np.nan, 80], [1, 2, 9, 7], profit_split=40, loyalty_split=5)
    assert g.iloc[0] == "stranger" and g.iloc[1] == "butterfly" and g.iloc[3] == "true friend"
    assert pd.isna(g.iloc[2])


def test_assign_relationship_group_errors():
    with pytest.raises(ValueError, match=r"`profit` \(2 values\) and `loyalty` \(3 values\)"):
        assign_relationship_group([1, 2], [1, 2, 3])
    with pytest.raises(ValueError, match="different indexes"):
        assign_relationship_group(pd.Series([1], index=["a"]), pd.Series([1], index=["b"]))
    with pytest.raises(ValueError, match="`profit_split`"):
        assign_relationship_group([1, 2], [1, 2], profit_split=float("inf"))


def test_relationship_actions_cover_every_group():
    assert set(RELATIONSHIP_ACTIONS) == set(RELATIONSHIP_GROUPS)
    assert all(isinstance(v, str) and v for v in RELATIONSHIP_ACTIONS.values())


def test_relationship_group_summary_hand_example():
    frame = pd.DataFrame(
        {
            "group": ["stranger", "true friend", "true friend", "barnacle", None],
            "revenue": [100.0, 500.0, 300.0, 100.0, 999.0],
            "profit": [10.0, 200.0, 150.0, 40.0, 999.0],
        }
    )
    s = relationship_group_summary(frame)
    assert list(s.index) == ["stranger", "butterfly", "barnacle", "true friend"]
    assert s["customers"].tolist() == [1, 0, 1, 2]
    assert s["customer_share"].tolist() == [0.25, 0.0, 0.25, 0.5]
    assert s["revenue_share"].tolist() == [0.1, 0.0, 0.1, 0.8]
    assert s["profit"].tolist() == [10.0, 0.0, 40.0, 350.0]
    assert s["profit_share"].tolist() == [0.025, 0.0, 0.1, 0.875]


def test_relationship_group_summary_loss_making_total_has_no_profit_share():
    frame = pd.DataFrame({"group": ["stranger"], "revenue": [10.0], "profit": [-5.0]})
    assert math.isnan(relationship_group_summary(frame)["profit_share"].iloc[0])


def test_relationship_group_summary_errors():
    with pytest.raises(ValueError, match=r"unknown group\(s\) \['friend'\]"):
        relationship_group_summary(pd.DataFrame({"group": ["friend"], "revenue": [1.0], "profit": [1.0]}))
    with pytest.raises(ValueError, match="missing column"):
        relationship_group_summary(pd.DataFrame({"group": ["stranger"], "revenue": [1.0]}))


def test_group_transition_matrix_hand_case():
    prev = pd.Series(
        ["stranger", "barnacle", "barnacle", "true friend", "butterfly"], index=["a", "b", "c", "d", "e"]
    )
    cur = pd.Series(
        ["true friend", "barnacle", "butterfly", "true friend", "stranger"], index=["d", "b", "c", "a", "f"]
    )
    t = group_transition_matrix(prev, cur)
    assert t.n == 4 and t.only_previous == 1 and t.only_current == 1
    assert t.counts.loc["stranger", "true friend"] == 1
    assert t.counts.loc["barnacle", "barnacle"] == 1
    assert t.counts.loc["barnacle", "butterfly"] == 1
    assert t.counts.loc["true friend", "true friend"] == 1
    assert t.counts.to_numpy().sum() == 4
    assert t.row_shares.loc["barnacle"].tolist() == [0.0, 0.5, 0.5, 0.0]
    assert t.row_shares.loc["butterfly"].isna().all()
    assert t.stayed_share == 0.5
    assert list(t.counts.index) == list(RELATIONSHIP_GROUPS)


def test_group_transition_matrix_positional_and_errors():
    t = group_transition_matrix(["stranger", "stranger"], ["stranger", "butterfly"])
    assert t.counts.loc["stranger"].tolist() == [1, 1, 0, 0]
    with pytest.raises(ValueError, match="must have the same length"):
        group_transition_matrix(["stranger"], ["stranger", "barnacle"])
    with pytest.raises(ValueError, match=r"`current` has unknown group\(s\) \['loyalist'\]"):
        group_transition_matrix(["stranger"], ["loyalist"])
    with pytest.raises(ValueError, match="lists customer 'a' more than once"):
        group_transition_matrix(
            pd.Series(["stranger", "barnacle"], index=["a", "a"]), pd.Series(["stranger"], index=["a"])
        )
