"""The error every CLV function raises on input it cannot use.

:class:`CLVInputError` lives here, below both the summary (:mod:`metrics_lib.clv.summary`) and the
models (:mod:`metrics_lib.clv._fitting` and the modules built on it), so each can raise it without
importing the other.
"""

from __future__ import annotations

from metrics_lib.core.errors import WorkbookError

__all__ = ["CLVInputError"]


class CLVInputError(WorkbookError, ValueError):
    """Transactions or a customer summary that the CLV models cannot use (says which and why)."""
