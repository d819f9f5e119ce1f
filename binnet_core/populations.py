"""Neuron populations: contiguous slices of the network state."""

from __future__ import annotations

import dataclasses
import enum
import math
import numbers

import numpy as np

from binnet_core.validation import check_finite, check_positive, check_positive_int

__all__ = ["BinaryNeuronPopulation", "BackgroundActivity", "NeuronKind", "Dynamics"]


class NeuronKind(enum.IntEnum):
    """How a population's units choose their new state on an update."""

    #: ``1 if field > threshold else 0``
    THRESHOLD = 0
    #: ``1`` with probability ``on_probability``, independently of the field
    STOCHASTIC = 1
    #: keep the current state (a constant drive)
    CLAMPED = 2


@dataclasses.dataclass(frozen=True)
class Dynamics:
    """The update rule of a population's units: its kind and the parameter that kind uses."""

    kind: NeuronKind
    threshold: float | None = None
    on_probability: float | None = None

    def __post_init__(self):
        if self.kind not in list(NeuronKind):
            raise ValueError(f"kind must be one of {[k.name for k in NeuronKind]}, got {self.kind!r}")
        object.__setattr__(self, "kind", NeuronKind(self.kind))
        needs = {NeuronKind.THRESHOLD: "threshold", NeuronKind.STOCHASTIC: "on_probability"}
        for kind, name in needs.items():
            if (self.kind == kind) != (getattr(self, name) is not None):
                raise ValueError(f"{name} must be given for {kind.name} units and only for them "
                                 f"(kind={self.kind.name}, {name}={getattr(self, name)!r})")
        if self.threshold is not None:
            object.__setattr__(self, "threshold", check_finite("threshold", self.threshold))
        if self.on_probability is not None and not 0.0 <= self.on_probability <= 1.0:
            raise ValueError(f"on_probability must lie in [0, 1], got {self.on_probability!r}")


class Population:
    """Base class: ``N`` neurons occupying ``view = [start, end)`` of the network state.

    Parameters
    ----------
    reference : BinaryNetwork
        The network the population belongs to.
    N : int
        Number of neurons (> 0).
    name : str
        Population name.
    tau : float
        Update time constant in ms (> 0): the population receives updates at rate
        ``N / tau`` relative to the others.
    """

    #: Cluster index within a clustered model, or None.
    cluster = None
    #: Cell type ("E", "I") within an E/I model, or None.
    cell_type = None

    def __init__(self, reference, N=1, name="Population", tau=1.0):
        self.reference = reference
        self.N = check_positive_int("N", N)
        self.name = str(name)
        self.tau = check_positive("tau", tau)
        self.view = None
        self.state = None

    def set_view(self, view):
        """Attach the population to ``state[view[0]:view[1]]`` of its network."""
        self.view = np.asarray(view, dtype=np.int64)
        self.state = self.reference.state[self.view[0]:self.view[1]]

    def initial_state(self, rng: np.random.Generator) -> np.ndarray:
        """Initial binary states (int8, length N) drawn from ``rng``."""
        raise NotImplementedError

    def dynamics(self) -> Dynamics:
        """The update rule of the population's units."""
        raise NotImplementedError


class BinaryNeuronPopulation(Population):
    """Binary threshold neurons: on an update ``s_i = 1 if h_i > threshold else 0``.

    Parameters
    ----------
    reference, N, name, tau
        See :class:`Population`.
    threshold : float
        Firing threshold (finite).
    initializer : None, float, int, array_like or callable
        Initial states: ``None`` draws Bernoulli(0.2) per neuron (the original default); a
        scalar in [0, 1] that is 0 or 1 sets every neuron; another scalar in (0, 1) is a
        Bernoulli probability; an array gives the states; a callable ``f(N)`` returns them.

    Examples
    --------
    >>> net = BinaryNetwork("demo")
    >>> pop = BinaryNeuronPopulation(net, N=3, threshold=0.5, initializer=0)
    >>> net.add_population(pop)
    <...BinaryNeuronPopulation object...>
    """

    def __init__(
        self,
        reference,
        N=1,
        threshold=1.0,
        name="Binary Neuron Population",
        tau=1.0,
        initializer=None,
        **kwargs,
    ):
        super().__init__(reference, N, name, tau=tau)
        self.threshold = check_finite("threshold", threshold)
        self.initializer = initializer
        for key, value in kwargs.items():  # model layers attach metadata (cluster, cell_type)
            setattr(self, key, value)

    def dynamics(self):
        return Dynamics(NeuronKind.THRESHOLD, threshold=self.threshold)

    def initial_state(self, rng):
        init = self.initializer
        if callable(init):
            values = np.asarray(init(self.N))
        elif init is None:
            values = rng.random(self.N) < 0.2
        elif np.ndim(init) == 0:
            value = float(init)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"initializer of {self.name!r} must lie in [0, 1], got {value}")
            values = np.full(self.N, value) if value in (0.0, 1.0) else rng.random(self.N) < value
        else:
            values = np.asarray(init)
        if values.shape != (self.N,):
            raise ValueError(
                f"initializer of {self.name!r} must give {self.N} states, got shape {values.shape}"
            )
        if not np.all((values == 0) | (values == 1)):
            raise ValueError(f"initializer of {self.name!r} must give states 0 or 1")
        return values.astype(np.int8)


class BackgroundActivity(Population):
    """Background units that drive the network with a fixed or stochastic activity.

    Parameters
    ----------
    reference, N, name, tau
        See :class:`Population`.
    Activity : float or callable
        Fraction of active units, in [0, 1] (a callable is evaluated once at initialisation).
    Stochastic : bool
        ``False``: exactly ``round(Activity * N)`` randomly chosen units are on and never
        change (a constant drive). ``True``: each update sets a unit on with probability
        ``Activity`` independently of its input (a fluctuating drive); the initial states are
        Bernoulli(``Activity``).

    Notes
    -----
    Background units are part of the network state, so their synapses feed the field of
    their targets; they receive updates at rate ``N / tau`` like every population.
    """

    def __init__(self, reference, N=1, Activity=0.5, Stochastic=False, name="Background Activity",
                 tau=1.0):
        super().__init__(reference, N, name, tau=tau)
        self.Activity = Activity
        self.Stochastic = bool(Stochastic)
        if not callable(Activity):
            self._probability()

    def _probability(self) -> float:
        value = self.Activity() if callable(self.Activity) else self.Activity
        if not isinstance(value, numbers.Real) or math.isnan(value) or not 0.0 <= value <= 1.0:
            raise ValueError(f"Activity of {self.name!r} must be a number in [0, 1], got {value!r}")
        return float(value)

    def dynamics(self):
        if self.Stochastic:
            return Dynamics(NeuronKind.STOCHASTIC, on_probability=self._probability())
        return Dynamics(NeuronKind.CLAMPED)

    def initial_state(self, rng):
        p = self._probability()
        if self.Stochastic:
            return (rng.random(self.N) < p).astype(np.int8)
        values = np.zeros(self.N, dtype=np.int8)
        values[rng.permutation(self.N)[: int(round(p * self.N))]] = 1
        return values
