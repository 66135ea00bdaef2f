"""Relationship-group formulas: profit x loyalty groups of customers.

Each customer is a stranger, butterfly, barnacle or true friend by whether their profit and their
loyalty lie above a split (by default the median); the groups' summary of customers, revenue and
profit; and how customers moved between groups from one period to the next. No database access
and no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from metrics_lib.core.inputs import check_columns, check_number, check_row_values
from metrics_lib.core.results import NAN

__all__ = [
    "GroupTransitions",
    "RELATIONSHIP_ACTIONS",
    "RELATIONSHIP_GROUPS",
    "assign_relationship_group",
    "group_transition_matrix",
    "relationship_group_summary",
]

#: Relationship groups in the order used by every table of this module.
RELATIONSHIP_GROUPS: tuple[str, ...] = ("stranger", "butterfly", "barnacle", "true friend")

#: What to do with each relationship group (profit x loyalty).
RELATIONSHIP_ACTIONS: dict[str, str] = {
    "stranger": "Low profit and low loyalty: spend nothing extra on them; serve them at the lowest cost.",
    "butterfly": "High profit but low loyalty: earn what you can while they buy, and stop "
    "spending on them as soon as they stop buying.",
    "barnacle": "Loyal but not profitable: grow their spend with upsell and cross-sell, or "
    "move them to cheaper ways of being served.",
    "true friend": "Profitable and loyal: invest in the relationship - reward, listen to and keep them.",
}


def _split(name: str, arr: np.ndarray, split: Any) -> float:
    if split is not None:
        return check_number(name, split)
    finite = arr[~np.isnan(arr)]
    return float(np.median(finite)) if finite.size else NAN


def assign_relationship_group(
    profit, loyalty, *, profit_split: float | None = None, loyalty_split: float | None = None
) -> pd.Series:
    r"""Place each customer in a profit x loyalty relationship group.

    .. math:: \text{group}_i = \begin{cases}
              \text{stranger} & \pi_i \le \pi^*,\ \ell_i \le \ell^* \\
              \text{butterfly} & \pi_i > \pi^*,\ \ell_i \le \ell^* \\
              \text{barnacle} & \pi_i \le \pi^*,\ \ell_i > \ell^* \\
              \text{true friend} & \pi_i > \pi^*,\ \ell_i > \ell^* \end{cases}

    Parameters
    ----------
    profit : array-like of float
        Gross profit per customer over the period.
    loyalty : array-like of float
        Loyalty per customer, e.g. tenure in months or purchases per year.
    profit_split, loyalty_split : float, optional
        Cut points :math:`\pi^*` and :math:`\ell^*`; by default the medians of ``profit`` and
        ``loyalty`` (NaN ignored).

    Returns
    -------
    Series
        Categorical with categories :data:`RELATIONSHIP_GROUPS` in the order stranger,
        butterfly, barnacle, true friend, named ``relationship_group``; it keeps the index of
        ``profit`` (or ``loyalty``) when given as a Series.

    Raises
    ------
    ValueError
        If the lengths differ, two Series have different indexes, or a value is infinite.

    Notes
    -----
    "High" means strictly above the split, so a value equal to the split (the median, by
    default) is "low". With many ties at the median the high half can hold fewer than half of
    the customers. A customer with a missing profit or loyalty gets no group (NaN). Customers
    are matched by position; when both inputs are Series they must share one index.

    Examples
    --------
    >>> assign_relationship_group([10, 50, 20, 80], [1, 2, 9, 7]).tolist()
    ['stranger', 'butterfly', 'barnacle', 'true friend']
    """
    if (
        isinstance(profit, pd.Series)
        and isinstance(loyalty, pd.Series)
        and not profit.index.equals(loyalty.index)
    ):
        raise ValueError("`profit` and `loyalty` are Series with different indexes; align them first")
    p = check_row_values("profit", profit)
    lo = check_row_values("loyalty", loyalty)
    if p.size != lo.size:
        raise ValueError(
            f"`profit` ({p.size} values) and `loyalty` ({lo.size} values) must have the same length"
        )
    ps = _split("profit_split", p, profit_split)
    ls = _split("loyalty_split", lo, loyalty_split)
    codes = np.where(np.isnan(p) | np.isnan(lo), -1, (p > ps).astype(int) + 2 * (lo > ls).astype(int))
    index = (
        profit.index
        if isinstance(profit, pd.Series)
        else (loyalty.index if isinstance(loyalty, pd.Series) else None)
    )
    cat = pd.Categorical.from_codes(codes, categories=pd.Index(RELATIONSHIP_GROUPS))
    return pd.Series(cat, index=index, name="relationship_group")


def _check_groups(name: str, labels: pd.Series) -> None:
    bad = sorted({str(v) for v in labels.dropna().unique() if v not in RELATIONSHIP_GROUPS})
    if bad:
        raise ValueError(f"`{name}` has unknown group(s) {bad}; allowed are {list(RELATIONSHIP_GROUPS)}")


def relationship_group_summary(
    frame: pd.DataFrame, *, group: str = "group", revenue: str = "revenue", profit: str = "profit"
) -> pd.DataFrame:
    r"""Customers, revenue and profit per relationship group, with each group's share.

    .. math:: \text{revenue share}_g = \frac{\sum_{i \in g} \text{revenue}_i}{\sum_i \text{revenue}_i}

    (likewise for customers and profit).

    Parameters
    ----------
    frame : DataFrame
        One row per customer with a group column (as from :func:`assign_relationship_group`),
        a revenue column and a gross-profit column.
    group, revenue, profit : str
        Column names.

    Returns
    -------
    DataFrame
        Indexed by ``group`` (all four groups, in :data:`RELATIONSHIP_GROUPS` order) with
        ``customers``, ``customer_share``, ``revenue``, ``revenue_share``, ``profit`` and
        ``profit_share``.

    Raises
    ------
    ValueError
        If a column is missing, a group label is unknown, or revenue or profit is not numeric.

    Notes
    -----
    Rows without a group are left out, of the totals too. A group with no customers has zeros.
    Shares are of the grouped total; when the total revenue is 0, or the total profit is 0 or
    negative, that share column is NaN (a share of a loss has no meaning). Loss-making groups
    have a negative profit share, and the others then add up to more than 1.

    Examples
    --------
    >>> frame = pd.DataFrame({"group": ["stranger", "true friend", "true friend", "barnacle"],
    ...                       "revenue": [100.0, 500.0, 300.0, 100.0],
    ...                       "profit": [10.0, 200.0, 150.0, 40.0]})
    >>> relationship_group_summary(frame)["profit_share"].tolist()
    [0.025, 0.0, 0.1, 0.875]
    """
    check_columns("frame", frame, [group, revenue, profit])
    _check_groups(f"frame['{group}']", frame[group])
    grouped = frame[frame[group].notna()]
    rev = check_row_values(f"frame['{revenue}']", grouped[revenue])
    prof = check_row_values(f"frame['{profit}']", grouped[profit])
    labels = pd.Categorical(grouped[group].astype(object), categories=list(RELATIONSHIP_GROUPS))
    data = pd.DataFrame({"group": labels, "revenue": rev, "profit": prof})
    agg = data.groupby("group", observed=False).agg(
        customers=("revenue", "size"), revenue=("revenue", "sum"), profit=("profit", "sum")
    )
    agg = agg.reindex(list(RELATIONSHIP_GROUPS)).fillna(0)
    n = agg["customers"].sum()
    total_rev = agg["revenue"].sum()
    total_profit = agg["profit"].sum()
    out = pd.DataFrame(
        {
            "customers": agg["customers"].astype(int),
            "customer_share": agg["customers"] / n if n > 0 else np.nan,
            "revenue": agg["revenue"].astype(float),
            "revenue_share": agg["revenue"] / total_rev if total_rev != 0 else np.nan,
            "profit": agg["profit"].astype(float),
            "profit_share": agg["profit"] / total_profit if total_profit > 0 else np.nan,
        },
        index=pd.Index(list(RELATIONSHIP_GROUPS), name="group"),
    )
    return out


@dataclass(frozen=True)
class GroupTransitions:
    """How customers moved between relationship groups from one period to the next.

    ``counts`` and ``row_shares`` are 4 x 4 tables: rows the previous group, columns the
    current group. ``n`` customers had a group in both periods; ``only_previous`` had one only
    in the previous period (e.g. lost), ``only_current`` only in the current one (e.g. new).
    """

    counts: pd.DataFrame
    row_shares: pd.DataFrame
    n: int
    only_previous: int
    only_current: int

    @property
    def stayed_share(self) -> float:
        """Share of the matched customers who stayed in the same group (NaN when none)."""
        return float(np.trace(self.counts.to_numpy()) / self.n) if self.n else NAN


def _group_labels(name: str, x: Any) -> pd.Series:
    if isinstance(x, (str, bytes)) or np.ndim(x) == 0:
        raise ValueError(f"`{name}` ({x!r}) must be a sequence or Series of group labels")
    s = x if isinstance(x, pd.Series) else pd.Series(list(x), dtype=object)
    s = s.astype(object).where(s.notna(), None)
    _check_groups(name, s)
    return s


def group_transition_matrix(previous, current) -> GroupTransitions:
    r"""Cross-table of each customer's relationship group in the previous vs the current period.

    .. math:: C_{gh} = \#\{i : \text{group}_{i}^{\text{prev}} = g,\ \text{group}_{i}^{\text{cur}} = h\},
              \qquad S_{gh} = \frac{C_{gh}}{\sum_{h'} C_{gh'}}

    Parameters
    ----------
    previous, current : Series or array-like of str
        Group label per customer. Two Series are matched on their index (customer id); two
        plain sequences are matched by position and must have the same length.

    Returns
    -------
    GroupTransitions
        ``counts`` (int) and ``row_shares`` (each row sums to 1, or is NaN for a group nobody
        was in), both with all four groups on each axis, plus ``n``, ``only_previous`` and
        ``only_current``.

    Raises
    ------
    ValueError
        If a label is not a relationship group, a Series index repeats a customer, or
        sequences have different lengths.

    Notes
    -----
    Only customers with a group in both periods enter the table; the others are counted in
    ``only_previous`` and ``only_current``. A row of shares reads as: of the customers who were
    in group g, the share now in each group.

    Examples
    --------
    >>> prev = pd.Series(["stranger", "barnacle", "barnacle"], index=["a", "b", "c"])
    >>> cur = pd.Series(["butterfly", "barnacle", "true friend"], index=["a", "b", "c"])
    >>> t = group_transition_matrix(prev, cur)
    >>> float(t.row_shares.loc["barnacle", "true friend"]), t.n
    (0.5, 3)
    """
    both_series = isinstance(previous, pd.Series) and isinstance(current, pd.Series)
    prev = _group_labels("previous", previous)
    cur = _group_labels("current", current)
    if both_series:
        for name, s in (("previous", prev), ("current", cur)):
            if s.index.has_duplicates:
                dup = s.index[s.index.duplicated()][0]
                raise ValueError(f"`{name}` lists customer {dup!r} more than once; one group per customer")
        joined = pd.concat([prev.rename("previous"), cur.rename("current")], axis=1, join="outer")
    else:
        if len(prev) != len(cur):
            raise ValueError(
                f"`previous` ({len(prev)} values) and `current` ({len(cur)} values) must have the "
                "same length when not given as Series"
            )
        joined = pd.DataFrame({"previous": prev.to_numpy(), "current": cur.to_numpy()})
    has_prev = joined["previous"].notna()
    has_cur = joined["current"].notna()
    matched = joined[has_prev & has_cur]
    groups = list(RELATIONSHIP_GROUPS)
    counts = (
        pd.crosstab(
            pd.Categorical(matched["previous"], categories=groups),
            pd.Categorical(matched["current"], categories=groups),
            dropna=False,
        )
        .reindex(index=groups, columns=groups, fill_value=0)
        .astype(int)
    )
    counts.index.name, counts.columns.name = "previous", "current"
    totals = counts.sum(axis=1).astype(float)
    shares = counts.astype(float).div(totals.where(totals > 0), axis=0)
    return GroupTransitions(
        counts, shares, int(len(matched)), int((has_prev & ~has_cur).sum()), int((~has_prev & has_cur).sum())
    )
