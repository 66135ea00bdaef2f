"""Probabilistic customer lifetime value: BG/NBD and Gamma-Gamma for non-contractual buying, the
shifted-beta-geometric (sBG) model for contract renewals.

A customer who buys whenever they like (no subscription) never tells us they have left. The
BG/NBD model (Fader, Hardie & Lee 2005a) reads each customer's purchase history as a Poisson
buying process that stops, unannounced, after some purchase; the Gamma-Gamma model (Colombo &
Jiang 1999; Fader, Hardie & Lee 2005b) adds how much each purchase is worth. Together they give
expected future purchases, the probability that a customer is still "alive", and a discounted
CLV per customer. When customers hold contracts and leave at a renewal, the sBG model (Fader &
Hardie 2007) fits how many customers of each cohort are still active at each renewal instead
(:class:`ShiftedBetaGeoModel`).

The models are fitted by maximum likelihood on a per-customer summary (``frequency``,
``recency``, ``T``, ``monetary_value``, in the time unit of ``summary.attrs["time_unit"]``)
computed on the engine by :func:`summarize_transactions`; the fitters group identical rows and
weight them, so a million customers fit in seconds. The modules: :mod:`~metrics_lib.clv.summary`
(the summary and the calibration/holdout split), :mod:`~metrics_lib.clv.bgnbd`
(:class:`BetaGeoModel`), :mod:`~metrics_lib.clv.gamma_gamma` (:class:`GammaGammaModel`),
:mod:`~metrics_lib.clv.diagnostics` (tables behind the fit plots),
:mod:`~metrics_lib.clv.sbg` (:class:`ShiftedBetaGeoModel`) and :mod:`~metrics_lib.clv.simulation`
(simulated summaries). Every model saves its fit as JSON (``to_json`` / ``from_json``), and
:func:`delta_method_interval` carries a fit's covariance to an interval on any prediction.
Everything public is importable from ``metrics_lib.clv``.

References
----------
.. [1] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005a). "Counting your customers" the easy
   way: an alternative to the Pareto/NBD model. *Marketing Science* 24(2), 275-284.
.. [2] Fader, P. S., Hardie, B. G. S. and Lee, K. L. (2005b). RFM and CLV: using iso-value curves
   for customer base analysis. *Journal of Marketing Research* 42(4), 415-430.
.. [3] Colombo, R. and Jiang, W. (1999). A stochastic RFM model. *Journal of Interactive
   Marketing* 13(3), 2-12.
.. [4] Fader, P. S. and Hardie, B. G. S. (2007). How to project customer retention. *Journal of
   Interactive Marketing* 21(1), 76-90.
"""

from __future__ import annotations

from metrics_lib.clv._checks import CLVInputError
from metrics_lib.clv._fitting import MIN_CUSTOMERS, delta_method_interval
from metrics_lib.clv.bgnbd import BetaGeoModel
from metrics_lib.clv.diagnostics import calibration_holdout_table, probability_alive_matrix
from metrics_lib.clv.gamma_gamma import GammaGammaModel
from metrics_lib.clv.sbg import ShiftedBetaGeoModel, survivor_counts
from metrics_lib.clv.simulation import simulate_bgnbd, simulate_gamma_gamma
from metrics_lib.clv.summary import TIME_UNITS, calibration_holdout_split, summarize_transactions

__all__ = [
    "TIME_UNITS",
    "MIN_CUSTOMERS",
    "CLVInputError",
    "summarize_transactions",
    "calibration_holdout_split",
    "BetaGeoModel",
    "GammaGammaModel",
    "ShiftedBetaGeoModel",
    "survivor_counts",
    "delta_method_interval",
    "calibration_holdout_table",
    "probability_alive_matrix",
    "simulate_bgnbd",
    "simulate_gamma_gamma",
]
