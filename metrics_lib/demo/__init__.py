"""Demo data: a fictional B2B subscription company with every table of the data contract.

The company sells annual subscriptions billed quarterly, plus one-off add-ons (more seats,
extra modules) and services. It has a sales team working a pipeline, a support desk, customer
surveys, retention campaigns with held-out control groups, referrals, public reviews and web and
social engagement, from 2022-01-01 to 2025-12-31.

On a known date (1 July 2024 by default) the company rolled out a CRM and started a
customer-success programme. The data carries that story, and a few more, as planted effects
(see :class:`DemoEffects`), so that every metric in the workbook has something true to find.

Everything is drawn with vectorised numpy from one ``numpy.random.default_rng(seed)``: the same
seed gives the same tables. Writing one million customers (about ten million orders and twenty
million deal stages) to Parquet takes well under a minute and about 4 GB of memory.

The generator is split by what it draws: :mod:`~metrics_lib.demo.effects` (the planted effects),
:mod:`~metrics_lib.demo.customers` (customers, subscriptions, churn, referrers),
:mod:`~metrics_lib.demo.marketing` (campaigns, marketing spend, reviews, web, social),
:mod:`~metrics_lib.demo.orders`, :mod:`~metrics_lib.demo.pipeline` (deals and stages),
:mod:`~metrics_lib.demo.support` (tickets and surveys), on the helpers of
:mod:`~metrics_lib.demo.sampling` and :mod:`~metrics_lib.demo.columns`;
:mod:`~metrics_lib.demo.writer` runs the steps in order and writes the files.

Examples
--------
>>> data = generate_demo_data(300, seed=1)
>>> sorted(data)[:3]
['campaign_members', 'campaigns', 'customers']
>>> len(data["customers"])
300
"""

from metrics_lib.demo.effects import DemoEffects
from metrics_lib.demo.writer import generate_demo_data, write_demo_data

__all__ = ["DemoEffects", "generate_demo_data", "write_demo_data"]
