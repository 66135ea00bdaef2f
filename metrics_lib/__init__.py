"""metrics_lib: customer-centric sales metrics, computed from a company's own data.

The notebooks in ``notebooks/`` call this package; analysts can too. Start with
:class:`metrics_lib.source.DataSource` and :func:`metrics_lib.periods.parse_period`.
"""

__version__ = "0.1.0"
