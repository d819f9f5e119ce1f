"""Reading the fields of a definition's TOML tables, each problem one :class:`DefinitionError`
that names the field and what is allowed (keys, types, axis values and ranges)."""

from __future__ import annotations

import collections
import difflib
import math
from typing import Any

import numpy as np

from sweeps.errors import DefinitionError

__all__ = ["RANGE_FORMS", "axis_values", "check_keys", "expand_range", "optional", "require", "typename"]

#: the forms of an axis given as a range table -> their keys
RANGE_FORMS = {
    "start/stop/step": ("start", "stop", "step"),
    "linspace": ("linspace",),
    "geomspace": ("geomspace",),
    "logspace": ("logspace",),
}


def typename(value: Any) -> str:
    return {dict: "a table", list: "an array", str: "a string", bool: "a boolean"}.get(
        type(value), type(value).__name__
    )


def check_keys(where: str, table: dict, allowed: tuple[str, ...]) -> None:
    for key in table:
        if key not in allowed:
            near = difflib.get_close_matches(key, allowed, n=1)
            hint = f" (did you mean {near[0]!r}?)" if near else ""
            place = f"{where}.{key}" if where else key
            raise DefinitionError(place, f"unknown key{hint}; allowed: {', '.join(allowed)}")


def require(table: dict, where: str, key: str, kind: type) -> Any:
    if key not in table:
        kinds = kind if isinstance(kind, tuple) else (kind,)
        wanted = " or ".join(k.__name__ for k in kinds)
        raise DefinitionError(f"{where}.{key}", f"missing ({wanted} required)")
    return optional(table, where, key, kind, None)


def optional(table: dict, where: str, key: str, kind: type | tuple, default: Any) -> Any:
    if key not in table:
        return default
    value = table[key]
    kinds = kind if isinstance(kind, tuple) else (kind,)
    bad_bool = isinstance(value, bool) and bool not in kinds
    if bad_bool or not isinstance(value, kinds):
        wanted = " or ".join(k.__name__ for k in kinds)
        raise DefinitionError(f"{where}.{key}", f"must be {wanted}, got {typename(value)} {value!r}")
    return value


#: most values one axis may have (checked before anything is allocated)
MAX_AXIS_VALUES = 10**6


def axis_values(where: str, spec: Any, distinct: bool = True) -> tuple:
    """Expand one axis specification into a tuple of values, distinct unless ``distinct`` is
    False (a column of a zip: its tuples must be distinct, not its values)."""
    if isinstance(spec, list):
        values = spec
    elif isinstance(spec, dict):
        forms = [f for f, keys in RANGE_FORMS.items() if set(keys) & set(spec)]
        allowed = ("start", "stop", "step", "linspace", "geomspace", "logspace")
        check_keys(where, spec, allowed)
        if len(forms) != 1:
            raise DefinitionError(where, "give exactly one of {start, stop, step}, {linspace}, {geomspace}, {logspace}")
        values = expand_range(where, forms[0], spec)
    else:
        raise DefinitionError(where, f"must be a list or a range table, got {typename(spec)} {spec!r}")
    if not values:
        raise DefinitionError(where, "empty axis: give at least one value")
    numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in values)
    if not numeric and not all(isinstance(v, str) for v in values):
        raise DefinitionError(where, f"values must all be numbers or all strings, got {values!r}")
    if numeric:
        if any(isinstance(v, float) for v in values):
            values = [float(v) for v in values]
        if not all(math.isfinite(v) for v in values):
            raise DefinitionError(where, f"values must be finite, got {values!r}")
    counts = collections.Counter(values)  # O(n): 10^6 values in well under a second
    dupes = sorted((v for v, k in counts.items() if k > 1), key=str)
    if dupes and distinct:
        raise DefinitionError(where, f"duplicate values {dupes}; axis values must be distinct")
    return tuple(values)


def expand_range(where: str, form: str, spec: dict) -> list:
    if form == "start/stop/step":
        for key in ("start", "stop", "step"):
            require(spec, where, key, (int, float))
        start, stop, step = spec["start"], spec["stop"], spec["step"]
        if not all(math.isfinite(v) for v in (start, stop, step)):
            raise DefinitionError(where, f"start, stop and step must be finite, got start={start} stop={stop} step={step}")
        if step <= 0 or stop < start:
            raise DefinitionError(where, f"needs step > 0 and stop >= start, got start={start} stop={stop} step={step}")
        count = (stop - start) / step + 1e-9
        if not math.isfinite(count) or count + 1 > MAX_AXIS_VALUES:
            raise DefinitionError(where, f"gives about {count:.3g} values, more than the limit of {MAX_AXIS_VALUES} "
                                         "per axis (a larger step?)")
        n = int(math.floor(count)) + 1
        values = np.round(start + step * np.arange(n), 12)
        integral = all(isinstance(v, int) for v in (start, stop, step))
        return [int(v) for v in values] if integral else [float(v) for v in values]
    triple = spec[form]
    if (
        not isinstance(triple, list)
        or len(triple) != 3
        or not all(isinstance(v, int | float) and not isinstance(v, bool) for v in triple)
        or not isinstance(triple[2], int)
        or triple[2] < 1
    ):
        raise DefinitionError(f"{where}.{form}", f"must be [start, stop, n] with an integer n >= 1, got {triple!r}")
    a, b, n = triple
    if not (math.isfinite(a) and math.isfinite(b)):
        raise DefinitionError(f"{where}.{form}", f"end values must be finite, got {triple!r}")
    if n > MAX_AXIS_VALUES:
        raise DefinitionError(f"{where}.{form}", f"{n} values is more than the limit of {MAX_AXIS_VALUES} per axis")
    if form == "geomspace" and (a <= 0 or b <= 0):
        raise DefinitionError(f"{where}.{form}", f"end values must be > 0, got {triple!r}")
    func = {"linspace": np.linspace, "geomspace": np.geomspace, "logspace": np.logspace}[form]
    return [float(v) for v in func(a, b, n)]
