"""Aggregations over a data source, the catalogue of headline metrics, targets, scorecard, analyses,
and the report sections' numbers: the report context (``context``), breakdowns per group, trends over
periods, cohorts and churn outcomes, health views, pipeline stages, campaign lift and CLV models."""
