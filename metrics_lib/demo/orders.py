"""Demo orders: quarterly subscription invoices, seasonal add-ons and campaign upgrades.

Every subscription term is invoiced quarterly (3 x MRR) until it ends or is cancelled; active
customers buy upsells and cross-sells at a seasonal rate; converted campaign members buy an
upgrade. Costs follow each customer's cost ratio. Builds the ``orders`` table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from metrics_lib.demo.columns import SCHEMAS, dates, id_width, ids, labels
from metrics_lib.demo.customers import Customers, Subscriptions, customer_ids
from metrics_lib.demo.effects import DemoEffects
from metrics_lib.demo.marketing import Campaigns
from metrics_lib.demo.sampling import Calendar, lognormal, poisson_days

ORDER_TYPES = ("new", "repeat", "upsell", "cross_sell")
ORDER_COST_FACTOR = (1.0, 1.0, 0.9, 1.25)  # services (cross-sell) cost more to deliver


@dataclass
class Orders:
    customer: np.ndarray
    day: np.ndarray
    revenue: np.ndarray
    cost: np.ndarray
    kind: np.ndarray  # index into ORDER_TYPES
    addon: np.ndarray  # bool: an add-on bought outside campaigns (may get a deal)


def draw_orders(
    rng: np.random.Generator,
    cal: Calendar,
    fx: DemoEffects,
    cust: Customers,
    subs: Subscriptions,
    camp: Campaigns,
) -> Orders:
    """Quarterly invoices of every term, seasonal add-ons, and campaign upgrades, by date."""
    inv_customer, inv_day, inv_revenue, inv_kind = _invoices(cal, cust, subs)
    season = np.asarray(fx.seasonality)[(cal.month0.astype(np.int64) + np.arange(cal.n_months)) % 12]
    rate = np.asarray(fx.segment_monthly_addons)[cust.segment]
    add_customer, add_day = poisson_days(rng, cal, cust.signup, cust.active_until(cal), rate, season)
    cross = rng.random(add_customer.size) < 0.45
    add_kind = np.where(cross, ORDER_TYPES.index("cross_sell"), ORDER_TYPES.index("upsell"))
    scale = np.where(cross, 0.6, 1.0) * cust.mrr[add_customer]
    add_revenue = np.round(lognormal(rng, scale, 0.55, add_customer.size), 2)
    won = camp.converted
    customer = np.concatenate([inv_customer, add_customer, camp.member_customer[won]])
    day = np.concatenate([inv_day, add_day, camp.conversion_day[won]])
    revenue = np.concatenate([inv_revenue, add_revenue, camp.revenue[won]])
    kind = np.concatenate([inv_kind, add_kind, np.full(np.count_nonzero(won), ORDER_TYPES.index("upsell"))])
    addon = np.zeros(customer.size, dtype=bool)
    addon[inv_customer.size : inv_customer.size + add_customer.size] = True
    ratio = cust.cost_ratio[customer] * np.asarray(ORDER_COST_FACTOR)[kind]
    ratio *= np.exp(0.08 * rng.standard_normal(customer.size))
    cost = np.round(revenue * np.minimum(ratio, 1.5), 2)
    order = np.lexsort((customer, day))
    return Orders(
        customer[order], day[order], revenue[order], cost[order], kind[order].astype(np.int8), addon[order]
    )


def _invoices(cal: Calendar, cust: Customers, subs: Subscriptions):
    """Four quarterly invoices per term (3 x MRR each), stopping at a cancellation or the data end."""
    term = np.repeat(np.arange(subs.customer.size), 4)
    quarter = np.tile(np.arange(4), subs.customer.size)
    who = subs.customer[term]
    day = cal.anniversary(subs.start_month[term] + 3 * quarter, cust.day_of_month[who])
    cancelled = subs.cancelled[term]
    keep = (day <= cal.end) & ((cancelled < 0) | (day < cancelled))
    term, quarter, who, day = term[keep], quarter[keep], who[keep], day[keep]
    first = (quarter == 0) & (subs.previous[term] < 0)
    kind = np.where(first, ORDER_TYPES.index("new"), ORDER_TYPES.index("repeat"))
    return who, day, np.round(3.0 * subs.mrr[term], 2), kind


def orders_table(orders: Orders, cust: Customers) -> pa.Table:
    n = orders.day.size
    return pa.Table.from_arrays(
        [
            ids("O", np.arange(1, n + 1), id_width(n, 9)),
            customer_ids(cust, orders.customer),
            dates(orders.day),
            pa.array(orders.revenue, pa.float64()),
            pa.array(orders.cost, pa.float64()),
            labels(ORDER_TYPES, orders.kind),
        ],
        schema=SCHEMAS["orders"],
    )
