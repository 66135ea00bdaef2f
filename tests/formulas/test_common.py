"""Invariants every formula of the library must keep, driven by each family module's registry.

Registry format (stable; every family module has one)
-----------------------------------------------------
The registries live in ``formula_registry.py`` beside this file: ``REGISTRIES`` maps a family
module's name (``"satisfaction"``) to a ``dict[str, dict]`` that maps a public formula name of
:mod:`metrics_lib.formulas.<module>` to a spec dict::

    SATISFACTION = {
        "csat": {
            "func": csat,                      # required: the public callable
            "args": ([5, 4, 3, 5, 1],),        # required: positional args of a valid call
            "kwargs": {},                      # optional: keyword args of the valid call
            "bounds": (0.0, 1.0),              # optional: inclusive bounds of the value(s);
                                               #   None on a side means unbounded; default (None, None)
            "empty": {"args": ([],), "kwargs": {}},
                                               # optional: a call that must give NaN + a reason
                                               #   ("kwargs" defaults to the valid call's kwargs);
                                               #   None or absent: no undefined case to check
            "arrays": (0,),                    # optional: which arguments hold per-row data, by
                                               #   position (int) or keyword name (str); default ()
            "value_of": lambda r: r.value,     # optional: result -> scalar or array of values that
                                               #   the bounds / NaN checks apply to; default .value
            "key": None,                       # optional: result -> something comparable with ==,
                                               #   used by the list/array/Series and shuffle checks;
                                               #   default: the result's fields (dataclasses) with
                                               #   floats rounded to 9 significant digits
            "intervals": (("value", "ci"),),   # optional: (estimate attribute, interval attribute)
                                               #   pairs; an interval with finite bounds must contain
                                               #   its finite estimate; default (("value", "ci"),),
                                               #   pairs whose attributes are missing are skipped
            "warns": True,                     # optional: the empty call must emit
                                               #   MetricUndefinedWarning; default True
        },
    }

What is checked for each entry
- the valid call: ``value_of(result)`` lies within ``bounds`` (NaN is not allowed there);
- intervals: ``ci.low <= estimate <= ci.high`` (1e-9 slack) when all three are finite;
- ``arrays``: every per-row argument given as a list, a numpy array and a pandas Series (with a
  non-default index) gives the same ``key``; a pandas DataFrame argument is not converted;
- ``arrays``: shuffling the rows (lists, arrays, Series, DataFrames; all per-row arguments with the
  same permutation, so they stay aligned) gives the same ``key``;
- ``empty``: every value is NaN, ``result.reason`` is a non-empty string, and (unless
  ``warns`` is False) a ``MetricUndefinedWarning`` is emitted.
A family module without a registry fails the collection.
"""

from __future__ import annotations

import dataclasses
import importlib
import math
import warnings

import numpy as np
import pandas as pd
import pytest
from formula_registry import REGISTRIES

from metrics_lib.core.results import ConfidenceInterval, MetricUndefinedWarning

MODULES = (
    "satisfaction",
    "retention",
    "value",
    "pipeline",
    "service",
    "advocacy",
    "marketing",
    "health",
    "classification",
    "relationships",
    "subscriptions",
)


def _load(name):
    return importlib.import_module(f"metrics_lib.formulas.{name}")


def _entries():
    out = []
    for mod_name in MODULES:
        registry = REGISTRIES.get(mod_name)
        assert registry, f"formula_registry.py has no registry for metrics_lib.formulas.{mod_name}"
        for fname, spec in registry.items():
            out.append(pytest.param(fname, spec, id=f"{mod_name}.{fname}"))
    return out


ENTRIES = _entries()


def _call(spec, args=None, kwargs=None):
    args = spec["args"] if args is None else args
    kwargs = spec.get("kwargs", {}) if kwargs is None else kwargs
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MetricUndefinedWarning)
        return spec["func"](*args, **kwargs)


def _values(spec, result):
    get = spec.get("value_of") or (lambda r: r.value)
    return np.asarray(get(result), dtype=float).ravel()


def _canon(x):
    """Comparable form: floats rounded to 9 significant digits, NaN as a marker, containers walked."""
    if isinstance(x, (pd.DataFrame, pd.Series)):
        return _canon(x.to_dict())
    if dataclasses.is_dataclass(x) and not isinstance(x, type):
        return (type(x).__name__, _canon({f.name: getattr(x, f.name) for f in dataclasses.fields(x)}))
    if isinstance(x, dict):
        return tuple(sorted((str(k), _canon(v)) for k, v in x.items()))
    if isinstance(x, (list, tuple)):
        return tuple(_canon(v) for v in x)
    if isinstance(x, np.ndarray):
        return tuple(_canon(v) for v in x.tolist())
    if isinstance(x, np.generic):
        x = x.item()
    if isinstance(x, bool) or x is None or isinstance(x, str):
        return x
    if isinstance(x, (int, float)):
        f = float(x)
        if math.isnan(f):
            return "nan"
        if math.isinf(f):
            return "inf" if f > 0 else "-inf"
        return float(f"{f:.9g}")
    return repr(x)


def _key(spec, result):
    get = spec.get("key")
    return get(result) if get is not None else _canon(result)


def _array_slots(spec):
    return tuple(spec.get("arrays", ()))


def _get(args, kwargs, slot):
    return args[slot] if isinstance(slot, int) else kwargs[slot]


def _with(args, kwargs, slot, value):
    args, kwargs = list(args), dict(kwargs)
    if isinstance(slot, int):
        args[slot] = value
    else:
        kwargs[slot] = value
    return tuple(args), kwargs


def _has_interval(spec) -> bool:
    result = _call(spec)
    for est_attr, ci_attr in spec.get("intervals", (("value", "ci"),)):
        est, ci = getattr(result, est_attr, None), getattr(result, ci_attr, None)
        if isinstance(ci, ConfidenceInterval) and all(np.isfinite([est, ci.low, ci.high])):
            return True
    return False


def _skip_if_missing(spec):
    if spec is None:
        pytest.skip("module not there yet")


def _takes_rows(spec, *, frames: bool = True) -> bool:
    """Whether the entry has per-row arguments (``frames=False``: other than DataFrames)."""
    if spec is None or not _array_slots(spec):
        return False
    args, kwargs = tuple(spec["args"]), dict(spec.get("kwargs", {}))
    return frames or any(
        not isinstance(_get(args, kwargs, slot), pd.DataFrame) for slot in _array_slots(spec)
    )


def _where(keep):
    return [p for p in ENTRIES if p.values[1] is not None and keep(p.values[1])]


ROW_ENTRIES = _where(_takes_rows)
SEQUENCE_ENTRIES = _where(lambda s: _takes_rows(s, frames=False))
EMPTY_ENTRIES = _where(lambda s: s.get("empty") is not None)
INTERVAL_ENTRIES = _where(_has_interval)


@pytest.mark.parametrize("name, spec", ENTRIES)
def test_value_within_bounds(name, spec):
    _skip_if_missing(spec)
    result = _call(spec)
    vals = _values(spec, result)
    assert vals.size > 0, f"{name}: the valid example gave no values"
    assert not np.isnan(vals).any(), f"{name}: the valid example gave NaN ({getattr(result, 'reason', None)})"
    low, high = spec.get("bounds", (None, None))
    if low is not None:
        assert (vals >= low - 1e-12).all(), f"{name}: {vals} below {low}"
    if high is not None:
        assert (vals <= high + 1e-12).all(), f"{name}: {vals} above {high}"


@pytest.mark.parametrize("name, spec", INTERVAL_ENTRIES)
def test_interval_contains_estimate(name, spec):
    _skip_if_missing(spec)
    result = _call(spec)
    pairs = spec.get("intervals", (("value", "ci"),))
    checked = 0
    for est_attr, ci_attr in pairs:
        if not (hasattr(result, est_attr) and hasattr(result, ci_attr)):
            continue
        est, ci = getattr(result, est_attr), getattr(result, ci_attr)
        if not isinstance(ci, ConfidenceInterval):
            continue
        if not all(np.isfinite([est, ci.low, ci.high])):
            continue
        checked += 1
        assert ci.low - 1e-9 <= est <= ci.high + 1e-9, f"{name}: {est_attr}={est} outside {ci}"
        assert ci.low <= ci.high
    assert checked, f"{name}: its valid example has no finite interval"


@pytest.mark.parametrize("name, spec", SEQUENCE_ENTRIES)
def test_list_array_series_agree(name, spec):
    slots = _array_slots(spec)
    args, kwargs = tuple(spec["args"]), dict(spec.get("kwargs", {}))
    expected = _key(spec, _call(spec, args, kwargs))
    as_array, as_series = (args, kwargs), (args, kwargs)
    converted = False
    for slot in slots:
        data = _get(args, kwargs, slot)
        if isinstance(data, pd.DataFrame):
            continue
        converted = True
        values = list(data)
        as_array = _with(*as_array, slot, np.asarray(values))
        # A non-default index catches code that looks values up by label instead of position.
        index = pd.RangeIndex(100, 100 + 3 * len(values), 3)
        as_series = _with(*as_series, slot, pd.Series(values, index=index))
    assert converted
    assert _key(spec, _call(spec, *as_array)) == expected
    assert _key(spec, _call(spec, *as_series)) == expected


@pytest.mark.parametrize("name, spec", ROW_ENTRIES)
def test_row_order_does_not_matter(name, spec):
    slots = _array_slots(spec)
    args, kwargs = tuple(spec["args"]), dict(spec.get("kwargs", {}))
    expected = _key(spec, _call(spec, args, kwargs))
    n_rows = len(_get(args, kwargs, slots[0]))
    for seed in (0, 1, 2):
        perm = np.random.default_rng(seed).permutation(n_rows)
        shuffled = (args, kwargs)
        for slot in slots:
            data = _get(args, kwargs, slot)
            if isinstance(data, (pd.DataFrame, pd.Series)):
                new = data.iloc[perm]
            elif isinstance(data, np.ndarray):
                new = data[perm]
            else:
                new = [list(data)[i] for i in perm]
            shuffled = _with(*shuffled, slot, new)
        assert _key(spec, _call(spec, *shuffled)) == expected, f"{name}: changed with row order (seed {seed})"


@pytest.mark.parametrize("name, spec", EMPTY_ENTRIES)
def test_empty_gives_nan_and_reason(name, spec):
    empty = spec["empty"]
    args = tuple(empty.get("args", ()))
    kwargs = dict(empty.get("kwargs", spec.get("kwargs", {})))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = spec["func"](*args, **kwargs)
    vals = _values(spec, result)
    assert np.isnan(vals).all(), f"{name}: undefined case gave {vals}, expected NaN"
    reason = getattr(result, "reason", None)
    assert isinstance(reason, str) and reason.strip(), f"{name}: undefined case gave no reason"
    if spec.get("warns", True):
        assert any(issubclass(w.category, MetricUndefinedWarning) for w in caught), (
            f"{name}: undefined case did not warn MetricUndefinedWarning"
        )


def test_registry_entries_are_well_formed():
    allowed = {"func", "args", "kwargs", "bounds", "empty", "arrays", "value_of", "key", "intervals", "warns"}
    seen = 0
    for mod_name in MODULES:
        mod = _load(mod_name)
        registry = REGISTRIES.get(mod_name)
        if not registry:
            continue
        public = set(getattr(mod, "__all__", ()))
        for fname, spec in registry.items():
            seen += 1
            assert callable(spec["func"]), f"{mod_name}.{fname}: func is not callable"
            assert isinstance(spec["args"], tuple), f"{mod_name}.{fname}: args must be a tuple"
            assert set(spec) <= allowed, f"{mod_name}.{fname}: unknown keys {set(spec) - allowed}"
            assert fname in public, f"{mod_name}.{fname}: not in the module's __all__"
            assert spec["func"].__name__ == fname, f"{mod_name}.{fname}: name does not match the function"
    if seen == 0:
        pytest.skip("no formulas registered yet")
