"""Explicit types for the fixed values of a definition: dimension kinds and the start of a run.

The members are ``str``-valued (:class:`enum.StrEnum`): they compare equal to, and serialise
(``json.dumps``, ``str``, f-strings) as, the plain strings used in definition files and stored
in the definition identity, so nothing on disk changes.
"""
from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = ["DimensionKind", "FixedPointStability", "InitialMode", "Start", "StartKind"]


class DimensionKind(enum.StrEnum):
    """Kind of a grid dimension (:class:`sweeps.spec.definition.Dimension`)."""

    AXIS = "axis"        # one swept parameter
    ZIP = "zip"          # several parameters swept together
    NETWORK = "network"  # replicate: connectivity seed index (``networks = n``)
    INIT = "init"        # replicate: initial condition index (``inits = n``)
    SEED = "seed"        # replicate, older form of ``network`` (``replicates = n``)

    @property
    def is_replicate(self) -> bool:
        return self in (DimensionKind.NETWORK, DimensionKind.INIT, DimensionKind.SEED)


class InitialMode(enum.StrEnum):
    """``[simulation] initial_mode``: how states are drawn from activities."""

    BERNOULLI = "bernoulli"  # each neuron on with its population's activity
    EXACT = "exact"          # exactly round(a N) neurons on, at random positions


class FixedPointStability(enum.StrEnum):
    """``[simulation] fixed_point_stability``: which fixed points a mean-field start may use
    (the reference's ``--stability-filter``)."""

    STABLE = "stable"      # every eigenvalue of the full Jacobian with a negative real part
    UNSTABLE = "unstable"  # the others
    ANY = "any"            # all of them

    def admits(self, stable: bool) -> bool:
        return self is FixedPointStability.ANY or (self is FixedPointStability.STABLE) == bool(stable)


class StartKind(enum.StrEnum):
    """The forms of ``[simulation] initial``."""

    DEFAULT = "default"      # the model's own initial state
    MEANFIELD = "meanfield"  # a stable fixed point of the model's theory
    ACTIVITIES = "activities"  # a list of activities, one per population (not a TOML keyword)


@dataclass(frozen=True)
class Start:
    """``[simulation] initial``: the model's default, a mean-field fixed point or given activities.

    ``activities`` is set exactly when ``kind`` is :attr:`StartKind.ACTIVITIES`.  The draw mode
    (``initial_mode``) and ``focus_count`` stay on :class:`Simulation`, where they are read and
    serialised as separate keys.
    """

    kind: StartKind = StartKind.DEFAULT
    activities: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", StartKind(self.kind))
        if (self.kind is StartKind.ACTIVITIES) != (self.activities is not None):
            raise ValueError(f"Start: activities are given exactly for kind 'activities', got {self!r}")
        if self.activities is not None:
            object.__setattr__(self, "activities", tuple(float(v) for v in self.activities))

    @classmethod
    def given(cls, activities) -> Start:
        return cls(StartKind.ACTIVITIES, tuple(activities))

    def to_json(self) -> str | list[float]:
        """The definition-file form: ``"default"``, ``"meanfield"`` or the list of activities."""
        return list(self.activities) if self.activities is not None else self.kind.value
