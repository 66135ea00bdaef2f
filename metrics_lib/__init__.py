"""metrics_lib: customer-centric sales metrics, computed from a company's own data.

The notebooks in ``notebooks/`` call this package; analysts can too. Start with
:func:`metrics_lib.data.open_source` and :func:`metrics_lib.core.periods.parse_period`.
"""

__version__ = "0.1.0"
