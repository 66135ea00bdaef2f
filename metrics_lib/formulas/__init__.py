"""The metric formulas, one module per family: pure functions of counts and arrays."""
