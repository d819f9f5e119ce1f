"""Lengths of simulation: model time (``"500 ms"``, ``"2 s"``) or update steps (``"1000 steps"``)."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any

from sweeps.errors import DefinitionError

__all__ = ["Quantity", "parse_quantity"]

_QUANTITY_RE = re.compile(r"^\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*(ms|s|steps?)\s*$")


@dataclass(frozen=True)
class Quantity:
    """A length of simulation: model time in ms, or a number of update steps."""

    value: float
    unit: str  # "ms" or "steps"

    @property
    def is_time(self) -> bool:
        return self.unit == "ms"

    def __str__(self) -> str:
        return f"{self.value:g} {self.unit}"



def parse_quantity(where: str, value: Any) -> Quantity:
    """Parse ``"500 ms"``, ``"2 s"`` or ``"1000 steps"`` (an integer means steps)."""
    if isinstance(value, int) and not isinstance(value, bool):
        return Quantity(float(value), "steps")
    match = _QUANTITY_RE.match(value) if isinstance(value, str) else None
    if not match:
        raise DefinitionError(where, f"must look like \"500 ms\", \"2 s\" or \"1000 steps\", got {value!r}")
    number, unit = float(match.group(1)), match.group(2)
    if not math.isfinite(number * 1000.0):
        raise DefinitionError(where, f"must be finite, got {value!r}")
    if unit.startswith("step"):
        if number != int(number):
            raise DefinitionError(where, f"steps must be a whole number, got {value!r}")
        return Quantity(number, "steps")
    return Quantity(number * 1000.0 if unit == "s" else number, "ms")
