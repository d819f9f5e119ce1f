"""Argument checks that raise one clear error naming the argument and the allowed range."""

from __future__ import annotations

import math
import numbers


def _number(name, value):
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a real number, got {value!r}")
    return float(value)


def check_finite(name, value) -> float:
    """Return ``value`` as float; raise if it is not a finite real number."""
    value = _number(name, value)
    if not math.isfinite(value):
        raise ValueError(f"{name} must be finite, got {value}")
    return value


def check_positive(name, value) -> float:
    """Return ``value`` as float; raise unless it is finite and > 0."""
    value = check_finite(name, value)
    if value <= 0:
        raise ValueError(f"{name} must be > 0, got {value}")
    return value


def check_non_negative(name, value) -> float:
    """Return ``value`` as float; raise unless it is finite and >= 0."""
    value = check_finite(name, value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0, got {value}")
    return value


def check_positive_int(name, value) -> int:
    """Return ``value`` as int; raise unless it is an integer > 0 (a boolean is not one)."""
    if isinstance(value, bool):
        raise ValueError(f"{name} must be a positive integer, got a boolean ({value})")
    if not isinstance(value, numbers.Integral):
        if isinstance(value, numbers.Real) and float(value).is_integer():
            value = int(value)
        else:
            raise ValueError(f"{name} must be a positive integer, got {value!r}")
    if value <= 0:
        raise ValueError(f"{name} must be a positive integer, got {value}")
    return int(value)


def check_non_negative_int(name, value) -> int:
    """Return ``value`` as int; raise unless it is an integer >= 0."""
    if not isinstance(value, bool) and value == 0:
        return 0
    return check_positive_int(name, value)
