"""BinaryNetwork: populations + synapses -> connectivity -> asynchronous Glauber dynamics.

Over 500 lines on purpose: it is one class, the engine's public API kept from the original
``BinaryNetwork`` (building, running, resetting, diff logs, model time), whose methods share
the network's state; the kernels, layouts, connectivity and diff-log arithmetic live in their
own modules.
"""

from __future__ import annotations

import numbers
from collections.abc import Sequence

import numpy as np

from binnet_core import connectivity as conn
from binnet_core import difflog
from binnet_core._rng import seed_words
from binnet_core._sim_kernels import BoundSimulation, Neurons, State, initial_field
from binnet_core.explicit import from_matrix
from binnet_core.populations import NeuronKind, Population
from binnet_core.stopping import RunStopped, current_event
from binnet_core.synapses import Synapse
from binnet_core.validation import check_non_negative_int, check_positive, check_positive_int

#: Updates per kernel call: bounds the time until Ctrl-C or a stop event (binnet_core.stopping)
#: is seen (~0.3 s at the reference size).
MAX_CHUNK = 1 << 22
_WEIGHT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_seed_sequence(seed) -> np.random.SeedSequence:
    """Turn ``None``, an int, a SeedSequence or a numpy Generator into a SeedSequence."""
    if isinstance(seed, np.random.SeedSequence):
        return seed
    if isinstance(seed, np.random.Generator):
        return np.random.SeedSequence(seed.integers(0, 2**63, size=4))
    if seed is None or (isinstance(seed, numbers.Integral) and not isinstance(seed, bool) and seed >= 0):
        return np.random.SeedSequence(seed)
    raise ValueError(f"seed must be None, an int >= 0, a SeedSequence or a Generator, got {seed!r}")


def _child(seed_sequence, index):
    return np.random.SeedSequence(
        seed_sequence.entropy, spawn_key=tuple(seed_sequence.spawn_key) + (index,)
    )


def alias_table(weights) -> tuple[np.ndarray, np.ndarray]:
    """Walker/Vose alias table with 32-bit acceptance thresholds (uint64) and aliases."""
    n = len(weights)
    scaled = np.asarray(weights, dtype=np.float64) * n / float(np.sum(weights))
    accept = np.full(n, 2**32, dtype=np.uint64)
    other = np.arange(n, dtype=np.int64)
    small = [k for k in range(n) if scaled[k] < 1.0]
    large = [k for k in range(n) if scaled[k] >= 1.0]
    while small and large:
        s, g = small.pop(), large.pop()
        accept[s] = np.uint64(int(round(scaled[s] * 2**32)))
        other[s] = g
        scaled[g] -= 1.0 - scaled[s]
        (small if scaled[g] < 1.0 else large).append(g)
    return accept, other


class BinaryNetwork:
    """Binary network simulator with dense and sparse backends and diff-log tracing.

    After :meth:`initialize`: ``state`` (int8), ``field`` (``W @ state``), ``thresholds``
    (NaN for the units of background populations, which have none: see
    :class:`~binnet_core.populations.NeuronKind`) and ``connectivity``.

    Examples
    --------
    >>> np.random.seed(0)
    >>> net = BinaryNetwork("demo")
    >>> exc = BinaryNeuronPopulation(net, N=2, threshold=0.5, tau=5.0, initializer=[0, 1])
    >>> inh = BinaryNeuronPopulation(net, N=1, threshold=0.5, tau=5.0, initializer=[0])
    >>> net.add_population(exc)
    <...BinaryNeuronPopulation object...>
    >>> net.add_population(inh)
    <...BinaryNeuronPopulation object...>
    >>> net.add_synapse(AllToAllSynapse(net, exc, exc, j=0.6))
    >>> net.initialize(weight_mode="dense", autapse=False)
    >>> net.state.shape
    (3,)
    """

    def __init__(self, name="Some Binary Network"):
        self.name = name
        self.N = 0
        self.population: list[Population] = []
        self.synapses: list[Synapse] = []
        # state, field, thresholds, sim_steps, ... are set by initialize(); reading them
        # earlier raises the RuntimeError of _require_initialized (see __getattr__).
        self.weight_dtype = np.dtype(np.float32)
        self.seed_sequence = None
        self._diff_log_updates = None
        self._diff_log_deltas = None
        self._diff_log_index = 0
        self._step_log_updates = None
        self._step_log_deltas = None
        self._step_log_index = 0
        self._step_log_origin = None

    def __getattr__(self, name):
        # Only called when normal lookup fails: before initialize() for these names.
        if name in _SET_BY_INITIALIZE:
            self._require_initialized(name)
        raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")

    # ----------------------------------------------------------------- structure
    @property
    def populations(self) -> list[Population]:
        """The populations in state order."""
        return self.population

    @property
    def population_names(self) -> tuple[str, ...]:
        return tuple(p.name for p in self.population)

    def add_population(self, population: Population):
        """Append a population; its neurons follow those already added."""
        if not isinstance(population, Population):
            raise ValueError(f"population must be a Population, got {type(population).__name__}")
        self.population.append(population)
        self.N += population.N
        return population

    def add_synapse(self, synapse: Synapse):
        """Add a synapse generator (applied at :meth:`initialize`)."""
        if not isinstance(synapse, Synapse):
            raise ValueError(f"synapse must be a Synapse, got {type(synapse).__name__}")
        self.synapses.append(synapse)

    # ---------------------------------------------------------------- initialise
    def initialize(self, autapse: bool = False, weight_mode: str = "auto",
                   ram_budget_gb: float = 12.0, weight_dtype=np.float32, *, seed=None,
                   weights=None):
        """Allocate state, generate connectivity and compute the input field.

        Parameters
        ----------
        autapse : bool
            Keep self-connections (also on the diagonal of an explicit ``weights``).
        weight_mode : {"auto", "dense", "sparse"}
            Connectivity layout; ``auto`` picks from the estimated bytes and
            ``ram_budget_gb`` and logs its choice.
        ram_budget_gb : float
            Memory budget; the connectivity may use 60 % of it.
        weight_dtype : float32 or float64
            Dtype of the weights and of the field.
        seed : None, int, SeedSequence or Generator
            Source of all randomness (initial states, connectivity, update order).
        weights : ndarray or scipy.sparse matrix, optional
            Explicit ``W[post, pre]`` of shape ``(N, N)`` used instead of the synapses.

        Examples
        --------
        >>> np.random.seed(1)
        >>> net = BinaryNetwork("init-demo")
        >>> pop = BinaryNeuronPopulation(net, N=2, threshold=0.1, initializer=[1, 0])
        >>> net.add_population(pop)
        <...BinaryNeuronPopulation object...>
        >>> net.initialize(weight_mode="dense")
        >>> net.field.shape
        (2,)
        """
        if self.N == 0:
            raise RuntimeError("Cannot initialize network without populations.")
        dtype = np.dtype(weight_dtype)
        if dtype not in _WEIGHT_DTYPES:
            raise ValueError(f"weight_dtype must be float32 or float64, got {dtype}")
        requested = str(weight_mode or "auto").lower()
        if requested not in conn.LAYOUTS:
            raise ValueError(f"weight_mode must be one of {conn.LAYOUTS}, got {weight_mode!r}")
        ram_budget_gb = check_positive("ram_budget_gb", ram_budget_gb)
        if weights is not None:
            conn.check_matrix(weights, self.N)
        seed_sequence = as_seed_sequence(seed)

        sizes = np.array([p.N for p in self.population], dtype=np.int64)
        starts = np.concatenate([[0], np.cumsum(sizes)[:-1]]).astype(np.int64)
        views = [(int(a), int(a + n)) for a, n in zip(starts, sizes)]
        init_rng = np.random.default_rng(_child(seed_sequence, 0))
        initial = [p.initial_state(init_rng) for p in self.population]
        pop_of = np.repeat(np.arange(len(self.population), dtype=np.int32), sizes)
        if weights is None:
            connectivity = conn.from_synapses(
                self.population, views, self.synapses, requested=requested,
                ram_budget_gb=ram_budget_gb, dtype=dtype, seed_sequence=_child(seed_sequence, 1),
                autapse=autapse)
        else:
            connectivity = from_matrix(weights, pop_of, requested=requested,
                                       ram_budget_gb=ram_budget_gb, dtype=dtype, autapse=autapse)
        # Nothing above touched the network: a failure leaves it as it was.
        self.state = np.concatenate(initial).astype(np.int8)
        for population, view in zip(self.population, views):
            population.set_view(view)
        # NaN: the units of STOCHASTIC and CLAMPED populations have no threshold
        self.thresholds = np.full(self.N, np.nan, dtype=dtype)
        kinds = np.empty(len(self.population), dtype=np.int8)
        on_probability = np.zeros(len(self.population), dtype=np.float64)
        for k, population in enumerate(self.population):
            rule = population.dynamics()
            kinds[k] = rule.kind
            if rule.kind == NeuronKind.THRESHOLD:
                self.thresholds[starts[k]:starts[k] + sizes[k]] = rule.threshold
            elif rule.kind == NeuronKind.STOCHASTIC:
                on_probability[k] = rule.on_probability
        taus = np.array([p.tau for p in self.population])
        self.updates_per_ms = float(np.sum(sizes / taus))
        self._pop_of, self._pop_start, self._pop_size = pop_of, starts, sizes
        self._alias_accept, self._alias_other = alias_table(sizes / taus)
        self._kinds, self._on_probability = kinds, on_probability
        self.connectivity = connectivity
        self.weight_mode = connectivity.layout
        self.weight_dtype = dtype
        self.seed_sequence = seed_sequence
        self.field = np.zeros(self.N, dtype=dtype)
        self._restart(self.state, seed_sequence)

    def _kernel(self) -> BoundSimulation:
        """The simulation kernel bound to the current arrays (bound again if one was replaced)."""
        kernel = self._bound  # None after _restart
        if (kernel is None or kernel.arrays is not self.connectivity.arrays
                or kernel.dyn.state is not self.state or kernel.dyn.field is not self.field
                or kernel.neurons.thresholds is not self.thresholds):
            neurons = Neurons(self._pop_of, self._pop_start, self._pop_size, self._alias_accept,
                              self._alias_other, self._kinds, self._on_probability,
                              self.thresholds)
            dyn = State(self.state, self.field, self._rng_state, self._pop_active, self._pop_up)
            kernel = self._bound = BoundSimulation(neurons, dyn, self.connectivity.arrays)
        return kernel

    def _restart(self, state, seed_sequence):
        """Start the dynamics from ``state`` with the update order of ``seed_sequence``."""
        self.state[:] = state
        self._pop_active = np.add.reduceat(self.state, self._pop_start, dtype=np.int64)
        self._pop_up = np.zeros(len(self.population), dtype=np.int64)
        self._rng_state = seed_words(_child(seed_sequence, 2), 1)
        self._bound = None
        initial_field(self.field, self.state, self.connectivity.arrays)
        self.sim_steps = 0
        self._diff_log_updates = self._diff_log_deltas = None
        self._diff_log_index = 0
        self._step_log_updates = self._step_log_deltas = self._step_log_origin = None
        self._step_log_index = 0

    def reset(self, state=None, seed=None):
        """Restart the built network from a new initial state and update order.

        The connectivity is kept; the field is recomputed; ``sim_steps``, ``up_transitions``
        and the logs start over. The network then runs bit-identically to a fresh
        :meth:`initialize` with this ``seed`` and the same connectivity.

        Parameters
        ----------
        state : array_like of N values in {0, 1}, optional
            The initial state; by default drawn by the populations' initializers from
            ``seed``, as :meth:`initialize` does.
        seed : None, int, SeedSequence or Generator
            Source of the initial state (when ``state`` is None) and of the update order;
            ``None`` restarts from the seed of the last :meth:`initialize` (the same run again).

        Examples
        --------
        >>> net = BinaryNetwork("reset-demo")
        >>> pop = net.add_population(BinaryNeuronPopulation(net, N=3, threshold=0.5))
        >>> net.add_synapse(AllToAllSynapse(net, pop, pop, j=1.0))
        >>> net.initialize(seed=1)
        >>> net.reset(state=[1, 1, 0], seed=2)
        >>> net.field.tolist(), net.sim_steps
        ([1.0, 1.0, 2.0], 0)
        """
        self._require_initialized("reset()")
        seed_sequence = self.seed_sequence if seed is None else as_seed_sequence(seed)
        if state is None:
            rng = np.random.default_rng(_child(seed_sequence, 0))
            new = np.concatenate([p.initial_state(rng) for p in self.population])
        else:
            new = np.asarray(state)
            if new.shape != (self.N,) or not np.all((new == 0) | (new == 1)):
                raise ValueError(f"state must hold {self.N} values 0 or 1, got shape {new.shape}")
        self._restart(new.astype(np.int8), seed_sequence)

    def _require_initialized(self, what):
        """Raise the one error for every use of a network before :meth:`initialize`."""
        if "connectivity" not in self.__dict__:
            raise RuntimeError(f"Call initialize() before {what}: the network has no state yet.")

    def _check_log_room(self, count):
        """Raise unless every enabled log has room for ``count`` more updates."""
        for ids, position, enable in (
            (self._diff_log_updates, self._diff_log_index, "enable_diff_logging"),
            (self._step_log_updates, self._step_log_index, "enable_step_logging"),
        ):
            if ids is not None and position + count > ids.size:
                raise RuntimeError(
                    f"{enable} buffer too small: {ids.size - position} slots left, {count} "
                    f"updates requested. Increase the steps passed to {enable}(); nothing was run."
                )

    # -------------------------------------------------------------------- dynamics
    def _advance(self, steps, sequence):
        count = sequence.size if sequence.size else steps
        self._check_log_room(count)
        if self._diff_log_updates is not None:
            ids, deltas, position = self._diff_log_updates, self._diff_log_deltas, self._diff_log_index
        elif self._step_log_updates is not None:
            ids, deltas, position = self._step_log_updates, self._step_log_deltas, self._step_log_index
        else:
            ids, deltas, position = _NO_IDS, _NO_DELTAS, 0
        position = self._kernel()(steps, sequence, ids, deltas, position)
        if self._diff_log_updates is not None:
            if self._step_log_updates is not None:  # both logs: copy the new entries over
                start, end = self._step_log_index, self._step_log_index + count
                self._step_log_updates[start:end] = ids[self._diff_log_index:position]
                self._step_log_deltas[start:end] = deltas[self._diff_log_index:position]
                self._step_log_index = end
            self._diff_log_index = position
        elif self._step_log_updates is not None:
            self._step_log_index = position
        self.sim_steps += count

    def run(self, steps=1000, batch_size=1, recorders: Sequence = ()):
        """Advance the network by ``steps`` asynchronous updates.

        Each update picks a population with probability proportional to ``N / tau``, then a
        neuron uniformly inside it. The result depends only on the seed and on the total
        number of updates, not on ``batch_size`` (kept for compatibility) or on how the run
        is split into calls. The kernel releases the GIL. It runs in slices of at most
        ``MAX_CHUNK`` updates; inside :func:`binnet_core.stopping.stop_when` a set stop event
        ends the run between two slices (checked once per ``MAX_CHUNK`` updates) with
        :class:`~binnet_core.stopping.RunStopped`.

        Parameters
        ----------
        steps : int
            Number of updates (>= 0).
        batch_size : int
            Accepted for compatibility (> 0); has no effect on the result.
        recorders : sequence of recorders
            Objects with ``interval`` (steps) and ``record(network)``, called after every
            ``interval`` updates counted from the start of this run.

        Examples
        --------
        >>> np.random.seed(2)
        >>> net = BinaryNetwork("run-demo")
        >>> pop = BinaryNeuronPopulation(net, N=2, threshold=0.1, initializer=[1, 0])
        >>> net.add_population(pop)
        <...BinaryNeuronPopulation object...>
        >>> net.initialize(weight_mode="dense")
        >>> net.run(steps=4, batch_size=2)
        >>> int(net.sim_steps)
        4
        """
        self._require_initialized("run()")
        steps = check_non_negative_int("steps", steps)
        check_positive_int("batch_size", batch_size)
        recorders = list(recorders)
        for recorder in recorders:
            if not callable(getattr(recorder, "record", None)):
                raise ValueError(f"recorders must have a record(network) method, got {recorder!r}")
        intervals = [check_positive_int("recorder interval", r.interval) for r in recorders]
        self._check_log_room(steps)  # the whole run, before any update or sample
        origin = self.sim_steps
        end = origin + steps
        event, next_check = current_event(), origin  # binnet_core.stopping: once per MAX_CHUNK updates
        while self.sim_steps < end:
            done = self.sim_steps - origin
            stop = min(end, self.sim_steps + MAX_CHUNK)
            for interval in intervals:
                stop = min(stop, origin + (done // interval + 1) * interval)
            if event is not None and self.sim_steps >= next_check:
                if event.is_set():
                    raise RunStopped("stopped by its stop event")
                next_check = self.sim_steps + MAX_CHUNK
            self._advance(stop - self.sim_steps, _NO_SEQUENCE)
            for recorder, interval in zip(recorders, intervals):
                if (self.sim_steps - origin) % interval == 0:
                    recorder.record(self)

    def update(self):
        """Perform a single random update."""
        self.run(1)

    def update_sequence(self, neurons):
        """Update exactly ``neurons``, in the given order (replay, tests, comparisons)."""
        self._require_initialized("update_sequence()")
        sequence = np.asarray(neurons)
        if sequence.ndim != 1 or (sequence.size and sequence.dtype.kind not in "iu"):
            raise ValueError("neurons must be a 1-D sequence of integer neuron ids")
        sequence = sequence.astype(np.int64)
        if sequence.size and (sequence.min() < 0 or sequence.max() >= self.N):
            raise ValueError(f"neurons must be neuron ids in [0, {self.N - 1}]")
        if sequence.size:
            self._advance(0, sequence)

    # ---------------------------------------------------------------- model time
    def ms_to_steps(self, t_ms) -> int:
        """Number of updates in ``t_ms`` milliseconds of model time (rounded)."""
        self._require_initialized("ms_to_steps()")
        return int(round(float(t_ms) * self.updates_per_ms))

    def steps_to_ms(self, steps) -> float:
        """Model time in ms covered by ``steps`` updates."""
        self._require_initialized("steps_to_ms()")
        return float(steps) / self.updates_per_ms

    # -------------------------------------------------------------- observables
    def population_activity(self) -> np.ndarray:
        """Fraction of active neurons in each population (float64, O(P))."""
        self._require_initialized("population_activity()")
        return self._pop_active / self._pop_size

    @property
    def up_transitions(self) -> np.ndarray:
        """Cumulative number of 0->1 flips per population since :meth:`initialize`."""
        self._require_initialized("up_transitions")
        return self._pop_up.copy()

    def connectivity_stats(self) -> dict:
        """Wiring and cost figures of the generated connectivity."""
        self._require_initialized("connectivity_stats()")
        c = self.connectivity
        pairs = c.connected_pairs()
        autapse_free = self.N * self.N - self.N
        return {
            "synapse_count": c.synapse_count,
            "connected_pairs": pairs,
            "density": pairs / max(autapse_free, 1),
            "connectivity_bytes": c.nbytes,
            "build_seconds": c.build_seconds,
            "weight_mode": c.layout,
            "shared_weights": c.shared_weights,
        }

    def weight_matrix(self):
        """``W[post, pre]`` as a scipy.sparse CSR matrix (materialised on each call)."""
        self._require_initialized("weight_matrix()")
        return self.connectivity.to_scipy()

    weights = property(weight_matrix, doc="Compatibility alias of :meth:`weight_matrix`.")

    # ------------------------------------------------------------------ diff logs
    def enable_diff_logging(self, steps: int):
        """Allocate a diff-log buffer for ``steps`` updates (0 disables logging).

        Examples
        --------
        >>> net = BinaryNetwork("log-demo")
        >>> pop = BinaryNeuronPopulation(net, N=1, threshold=0.0, initializer=[0])
        >>> net.add_population(pop)
        <...BinaryNeuronPopulation object...>
        >>> net.initialize(weight_mode="dense")
        >>> net.enable_diff_logging(steps=3)
        >>> net._diff_log_updates.shape
        (3,)
        """
        self._require_initialized("enable_diff_logging()")
        steps = check_non_negative_int("steps", steps)
        self._diff_log_index = 0
        if steps == 0:
            self._diff_log_updates = self._diff_log_deltas = None
            return
        self._diff_log_updates = np.zeros(steps, dtype=np.int32)
        self._diff_log_deltas = np.zeros(steps, dtype=np.int8)

    def consume_diff_log(self) -> tuple[np.ndarray, np.ndarray]:
        """Return the recorded ``(updates, deltas)`` as ``(1, steps)`` arrays and stop logging."""
        self._require_initialized("consume_diff_log()")
        if self._diff_log_updates is None:
            return np.zeros((1, 0), dtype=np.int32), np.zeros((1, 0), dtype=np.int8)
        filled = self._diff_log_index
        updates = self._diff_log_updates[:filled].copy()[None, :]
        deltas = self._diff_log_deltas[:filled].copy()[None, :]
        self.enable_diff_logging(0)
        return updates, deltas

    def enable_step_logging(self, steps: int):
        """Record the full network state after each of the next ``steps`` updates (0 disables).

        The log is kept compact (one neuron id and one delta per update, as the diff log) and
        expanded into states by :meth:`consume_step_log`; a run that would overflow it is
        refused before any update.

        Examples
        --------
        >>> net = BinaryNetwork("step-log-demo")
        >>> pop = BinaryNeuronPopulation(net, N=3, threshold=0.5, initializer=[1, 0, 0])
        >>> net.add_population(pop)
        <...BinaryNeuronPopulation object...>
        >>> net.add_synapse(AllToAllSynapse(net, pop, pop, j=1.0))
        >>> net.initialize(weight_mode="dense")
        >>> net.enable_step_logging(steps=3)
        >>> net.update_sequence([1, 0, 2])
        >>> net.consume_step_log()
        array([[1, 1, 0],
               [1, 1, 0],
               [1, 1, 1]], dtype=int8)
        >>> net.consume_step_log().shape  # consuming stops logging
        (0, 3)
        """
        self._require_initialized("enable_step_logging()")
        steps = check_non_negative_int("steps", steps)
        self._step_log_index = 0
        if steps == 0:
            self._step_log_updates = self._step_log_deltas = self._step_log_origin = None
            return
        self._step_log_updates = np.zeros(steps, dtype=np.int32)
        self._step_log_deltas = np.zeros(steps, dtype=np.int8)
        self._step_log_origin = self.state.copy()

    def consume_step_log(self) -> np.ndarray:
        """States after every logged update (int8, ``updates x N``); stops step logging.

        Returns an empty ``(0, N)`` array when step logging is not enabled.
        """
        self._require_initialized("consume_step_log()")
        if self._step_log_updates is None:
            return np.zeros((0, self.N), dtype=np.int8)
        filled = self._step_log_index
        states = difflog.reconstruct_states(self._step_log_origin,
                                            self._step_log_updates[None, :filled],
                                            self._step_log_deltas[None, :filled])
        self.enable_step_logging(0)
        return states.view(np.int8)

    @staticmethod
    def reconstruct_states_from_diff_logs(initial_state, updates, deltas, *, sample_interval=1):
        """Reconstruct sampled full network states from diff-log traces.

        Examples
        --------
        >>> BinaryNetwork.reconstruct_states_from_diff_logs(
        ...     initial_state=np.array([0, 0], dtype=np.uint8),
        ...     updates=np.array([[0, 1, 0]], dtype=np.uint16),
        ...     deltas=np.array([[1, 1, -1]], dtype=np.int8),
        ... )
        array([[1, 0],
               [1, 1],
               [0, 1]], dtype=uint8)
        """
        return difflog.reconstruct_states(initial_state, updates, deltas,
                                          sample_interval=sample_interval)

    def population_rates_from_diff_logs(self, initial_state, updates, deltas, *,
                                        sample_interval=1, populations=None):
        """Compute per-population activity traces directly from diff logs.

        Examples
        --------
        >>> net = BinaryNetwork("rates-demo")
        >>> pop_a = BinaryNeuronPopulation(net, N=1, initializer=[0])
        >>> pop_b = BinaryNeuronPopulation(net, N=1, initializer=[0])
        >>> net.add_population(pop_a)
        <...BinaryNeuronPopulation object...>
        >>> net.add_population(pop_b)
        <...BinaryNeuronPopulation object...>
        >>> net.initialize(weight_mode="dense")
        >>> rates = net.population_rates_from_diff_logs(
        ...     np.array([0, 0], dtype=np.uint8),
        ...     np.array([[0, 1, 0]], dtype=np.uint16),
        ...     np.array([[1, 1, -1]], dtype=np.int8),
        ... )
        >>> rates.tolist()
        [[1.0, 0.0], [1.0, 1.0], [0.0, 1.0]]
        """
        pops = list(self.population if populations is None else populations)
        self._require_initialized("population_rates_from_diff_logs()")
        views = [(int(p.view[0]), int(p.view[1])) for p in pops]
        return difflog.population_rates(initial_state, updates, deltas, views,
                                        sample_interval=sample_interval)

    @staticmethod
    def extract_spike_events_from_diff_logs(updates, deltas):
        """Extract onset events ``(times, neuron_ids)`` from diff-log traces.

        Examples
        --------
        >>> times, ids = BinaryNetwork.extract_spike_events_from_diff_logs(
        ...     np.array([[0, 1, 0]], dtype=np.uint16),
        ...     np.array([[1, 1, -1]], dtype=np.int8),
        ... )
        >>> times.tolist()
        [0.0, 1.0]
        >>> ids.tolist()
        [0, 1]
        """
        return difflog.onset_events(updates, deltas)


#: Attributes that exist once :meth:`BinaryNetwork.initialize` has run.
_SET_BY_INITIALIZE = frozenset({
    "state", "field", "thresholds", "sim_steps", "updates_per_ms", "connectivity", "weight_mode",
})
_NO_SEQUENCE = np.zeros(0, dtype=np.int64)
_NO_IDS = np.zeros(0, dtype=np.int32)
_NO_DELTAS = np.zeros(0, dtype=np.int8)
