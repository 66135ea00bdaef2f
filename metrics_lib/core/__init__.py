"""Foundations every layer uses: errors, result types, input validation, statistics, periods."""
