"""The lines of a report's summary ("what the report is about") that say what table `orders`
holds besides sales to known customers: guest orders and returns, over the whole data source."""

from __future__ import annotations

from metrics_lib.reporting.format import format_value

__all__ = ["order_mix_rows"]


def order_mix_rows(mix: dict | None) -> list[tuple[str, str]]:
    """``(label, text)`` rows for the report summary from
    :meth:`~metrics_lib.data.sources.base.DataSource.order_mix`: one for guest orders and one
    for returns, each only when the data has some.

    >>> for label, text in order_mix_rows(
    ...     {"orders": 1200, "guest_orders": 300, "returns": 40, "returned": 1234.5}
    ... ):
    ...     print(f"{label}: {text}")
    guest orders: 300 of 1,200 orders have no customer: counted in revenue and orders, not in customer metrics
    returns: 40 returns gave back 1,234 in all: revenue is net of them, and they are not orders
    >>> order_mix_rows({"orders": 5, "guest_orders": 0, "returns": 0, "returned": 0.0})
    []
    """
    if not mix:
        return []
    rows = []
    if mix["guest_orders"]:
        rows.append(
            (
                "guest orders",
                f"{format_value(mix['guest_orders'], 'count')} of {format_value(mix['orders'], 'count')} "
                "orders have no customer: counted in revenue and orders, not in customer metrics",
            )
        )
    if mix["returns"]:
        rows.append(
            (
                "returns",
                f"{format_value(mix['returns'], 'count')} return{'s' if mix['returns'] != 1 else ''} gave back "
                f"{format_value(mix['returned'], 'currency')} in all: revenue is net of them, and they "
                "are not orders",
            )
        )
    return rows
