"""The report sections reached through ``Workbook.sections`` (kept out of the Workbook, which
stays small): the retention report's MRR sections (:mod:`~metrics_lib.reporting.mrr_sections`)
and the advocacy, value and pipeline tables (:mod:`~metrics_lib.reporting.coverage_sections`)."""

from __future__ import annotations

from metrics_lib.reporting.coverage_sections import CoverageSections
from metrics_lib.reporting.mrr_sections import MRRSections

__all__ = ["ReportSections"]


class ReportSections(MRRSections, CoverageSections):
    """Every section of :mod:`metrics_lib.reporting.sections`, for one workbook."""
