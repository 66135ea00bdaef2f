"""A table's sentence as a notebook shows it: the text a section keeps in its ``attrs`` (the
reading of a table, its bands, why it is empty) as rendered Markdown, not as printed text.

>>> import pandas as pd
>>> t = pd.DataFrame({"n": [1]})
>>> t.attrs["verdict"] = "NPS tracks churn."
>>> str(table_note(t, "verdict"))
'NPS tracks churn.'
>>> str(table_note(pd.DataFrame(), "verdict"))
''
"""

from __future__ import annotations

import pandas as pd

from metrics_lib.reporting.format import Markdown

__all__ = ["table_note"]


def table_note(frame: pd.DataFrame, key: str = "note") -> Markdown:
    """``frame.attrs[key]`` as Markdown; without it, the table's ``note`` (why the table is
    empty or skipped), else nothing."""
    return Markdown(str(frame.attrs.get(key) or frame.attrs.get("note") or ""))
