"""The JSON cleaner behind ``metrics --format json`` and the run manifest."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import numpy as np

from metrics_lib.core.jsonsafe import dumps, json_ready, stable


def test_stable_cuts_floats_to_twelve_significant_digits():
    assert stable(0.1 + 0.2) == 0.3
    assert stable(1234567.123456789) == 1234567.12346


def test_json_ready_turns_nan_numpy_and_tuples_into_plain_json():
    out = json_ready({"a": float("nan"), "b": (np.int64(3), np.float64(0.5)), "c": float("-inf"), "d": None})
    assert out == {"a": None, "b": [3, 0.5], "c": None, "d": None}
    assert type(out["b"][0]) is int


def test_dumps_writes_paths_and_dates_as_text_and_keeps_key_order():
    text = dumps({"z": Path("/tmp/x"), "a": date(2025, 3, 1), "m": [1, 2.0]})
    assert list(json.loads(text)) == ["z", "a", "m"]
    assert json.loads(text) == {"z": "/tmp/x", "a": "2025-03-01", "m": [1, 2.0]}
    assert text.startswith('{\n  "z"')
