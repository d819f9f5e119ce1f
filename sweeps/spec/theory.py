"""The ``[theory]`` table of a definition."""

from __future__ import annotations

from dataclasses import dataclass

from sweeps.errors import DefinitionError

_KEYS = ("focus_counts",)


@dataclass(frozen=True)
class Theory:
    """The ``[theory]`` table: the focus counts to solve."""

    focus_counts: tuple[int, ...] = (1,)


def parse_theory(table) -> Theory | None:
    """The :class:`Theory` of a ``[theory]`` table (None if absent); raises DefinitionError.

    Whether the model declares a theory and the focus counts fit its clusters is checked
    with the model (:func:`sweeps.models.checks.check_model`).
    """
    if table is None:
        return None
    for key in table:
        if key not in _KEYS:
            raise DefinitionError(f"theory.{key}", f"unknown key; allowed: {', '.join(_KEYS)}")
    counts = table.get("focus_counts", [1])
    if not isinstance(counts, list) or not counts or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts):
        raise DefinitionError("theory.focus_counts",
                              f"must be a non-empty list of integers in 0..Q, got {counts!r}")
    if len(set(counts)) != len(counts):
        raise DefinitionError("theory.focus_counts", f"duplicate values in {counts!r}")
    return Theory(tuple(counts))


