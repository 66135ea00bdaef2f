"""metrics_lib: customer-centric sales metrics, computed from a company's own data.

The notebooks in ``notebooks/`` call this package; analysts can too. Start with
:class:`metrics_lib.data.source.DataSource` and :func:`metrics_lib.core.periods.parse_period`.
"""

__version__ = "0.1.0"
