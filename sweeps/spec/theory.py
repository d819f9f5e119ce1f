"""The ``[theory]`` table of a definition."""

from __future__ import annotations

from dataclasses import dataclass

_KEYS = ("focus_counts",)
_MODELS = ("clustered_ei",)


@dataclass(frozen=True)
class Theory:
    """The ``[theory]`` table: the focus counts to solve."""

    focus_counts: tuple[int, ...] = (1,)


def parse_theory(table, model: str, parameters: dict, dimensions) -> Theory | None:
    """The :class:`Theory` of a ``[theory]`` table (None if absent); raises DefinitionError."""
    from sweeps.errors import DefinitionError

    if table is None:
        return None
    for key in table:
        if key not in _KEYS:
            raise DefinitionError(f"theory.{key}", f"unknown key; allowed: {', '.join(_KEYS)}")
    if model not in _MODELS:
        raise DefinitionError("theory", f"mean-field theory exists for the models {_MODELS}, "
                                        f"not {model!r}")
    counts = table.get("focus_counts", [1])
    if not isinstance(counts, list) or not counts or not all(
            isinstance(n, int) and not isinstance(n, bool) and n >= 0 for n in counts):
        raise DefinitionError("theory.focus_counts",
                              f"must be a non-empty list of integers in 0..Q, got {counts!r}")
    if len(set(counts)) != len(counts):
        raise DefinitionError("theory.focus_counts", f"duplicate values in {counts!r}")
    from binnet_core.clustered import DEFAULT_PARAMETERS

    swept_q = [v for d in dimensions for name, values in d.values.items() if name == "Q"
               for v in values]
    q = min(swept_q) if swept_q else parameters.get("Q", DEFAULT_PARAMETERS["Q"])
    if isinstance(q, int) and max(counts) > q:
        raise DefinitionError("theory.focus_counts", f"{max(counts)} is outside 0..Q={q}")
    return Theory(tuple(counts))


