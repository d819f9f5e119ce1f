"""Point status codes, as a store encodes them.

``status`` is an int8 variable with the CF attributes ``flag_values = [0, 1, 2, 3]`` and
``flag_meanings = "todo ok failed unsampled"`` (:data:`FLAG_VALUES`, :data:`FLAG_MEANINGS`).
``unsampled`` marks a lattice point an adaptive sweep (``[sweep.adaptive]``) has not chosen:
it is not to be run and holds fill values (NaN).  The ``error`` variable holds
:data:`sweeps.measure.registry.NO_ERROR` (``""``) for every point without a failure message.
"""
from __future__ import annotations

import enum

__all__ = ["FLAG_MEANINGS", "FLAG_VALUES", "ROUND_ATTRS", "ROUND_VARIABLE", "Status"]

#: the adaptive round in which each lattice point was chosen (-1, read as NaN: never chosen)
ROUND_VARIABLE = "adaptive_round"
ROUND_ATTRS = {"long_name": "adaptive round in which the lattice point was chosen", "units": "1"}


class Status(enum.IntEnum):
    """Status of one grid point; the values are the stored int8 codes."""

    TODO = 0
    OK = 1
    FAILED = 2
    UNSAMPLED = 3  # not chosen by an adaptive sweep (never to be simulated unless chosen later)

    @property
    def meaning(self) -> str:
        """The word in ``flag_meanings``: ``"todo"``, ``"ok"``, ``"failed"``, ``"unsampled"``."""
        return self.name.lower()


#: CF attributes of the stored ``status`` variable.
FLAG_VALUES = [int(s) for s in Status]
FLAG_MEANINGS = " ".join(s.meaning for s in Status)
