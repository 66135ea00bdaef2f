"""Aggregations over a data source, the catalogue of headline metrics, targets, scorecard, analyses."""
