"""The measurement registry: one entry per stored variable, declared next to its formula.

A measurement is registered with its name, inner dims, dtype, units, long name and the
function computing it from a measurement context (see :mod:`sweeps.measure.measurements`)::

    @REGISTRY.register("mean_activity_E", (), "float64", "1", "mean fraction of active E neurons")
    def _mean_activity_e(ctx):
        return ...

The store creates its schema from :meth:`Registry.specs` and the inner coordinates from
:func:`inner_coordinates`, so adding a measurement touches only the module that registers
it. A measurement with a setting of its own declares it as an ``[output]`` option
(:class:`OptionSpec`); the definition parser accepts the registry's options
(:meth:`Registry.resolve_options`) and the compute functions read them from the context,
``ctx.options["name"]``::

    @REGISTRY.register("scaled_activity_E", (), "float64", "1", "mean E activity, scaled",
                       options=[OptionSpec("my_scale", (int, float), 1.0, check=positive)])
    def _scaled(ctx):
        return ctx.options["my_scale"] * ...
 Inner dims follow the model's populations: ``population`` and ``population_other``
(population names), ``cluster``, ``time``, ``pair_type`` (unordered pairs of the model's cell
types, e.g. ``E-E, I-I, E-I``) and ``relation`` (``within``, ``across`` a cluster).
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from sweeps.errors import SweepsError
from sweeps.measure.statistics import NO_CLUSTER, RELATIONS, pair_type_labels

__all__ = ["INNER_DIMS", "NO_CLUSTER", "NO_ERROR", "Measurement", "OptionError", "OptionSpec", "Options", "Registry",
           "VariableSpec", "inner_coordinates"]

POPULATION, POPULATION_OTHER, CLUSTER, TIME = "population", "population_other", "cluster", "time"
PAIR_TYPE, RELATION = "pair_type", "relation"
RASTER_NEURON, RASTER_EVENT = "raster_neuron", "raster_event"
#: Every dim a measurement may have besides the point dims.
INNER_DIMS = (POPULATION, POPULATION_OTHER, CLUSTER, TIME, PAIR_TYPE, RELATION, RASTER_NEURON, RASTER_EVENT)
#: ``error`` of a point without a failure message (also the fill value of the stored variable).
NO_ERROR = ""
_FILL = {"f": float("nan"), "i": -1, "u": 0, "b": False}


@dataclass(frozen=True)
class VariableSpec:
    """One stored variable: name, inner dims (after the point dims), dtype, CF attributes.

    ``attrs`` holds further attributes as ``(key, value)`` pairs, e.g.
    ``("aggregation", "fisher_z")`` for correlations averaged in z-space.  ``result`` is False
    for what is not a deterministic result of the model at the point (wall times, memory
    used, how the point was started or whether its run was copied): stored and reported, but
    an adaptive sweep may not refine on it.
    """

    name: str
    dims: tuple[str, ...]
    dtype: np.dtype
    units: str
    long_name: str
    fill: Any
    attrs: tuple[tuple[str, Any], ...] = ()
    result: bool = True


@dataclass(frozen=True)
class OptionSpec:
    """An ``[output]`` option: its key, accepted TOML types, default and check.

    ``default`` may be a function of the options before this one (``default(values)``).
    ``check(value, values)`` returns the value to keep (converted) or raises ``ValueError``
    with a message naming the allowed values; it gets the TOML value, the default, or a value
    it returned before (so it must accept those too). ``name`` is the key of the kept value
    when it differs from the ``[output]`` key (``min_episode`` -> ``min_episode_ms``).
    """

    key: str
    types: type | tuple[type, ...]
    default: Any
    check: Callable[[Any, Mapping[str, Any]], Any] | None = None
    name: str | None = None

    @property
    def value_name(self) -> str:
        return self.name or self.key


class OptionError(SweepsError, ValueError):
    """An invalid option value; ``key`` is the ``[output]`` key, ``message`` the reason."""

    def __init__(self, key: str, message: str):
        self.key, self.message = key, message
        super().__init__(f"{key}: {message}", field=key)


@dataclass(frozen=True)
class Options:
    """Values of the ``[output]`` options by name: ``options["name"]`` or ``options.name``."""

    values: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, name: str) -> Any:
        return self.values[name]

    def __getattr__(self, name: str) -> Any:
        values = self.__dict__.get("values")  # not self.values: unset while unpickling
        if values is None or name not in values:
            raise AttributeError(f"{type(self).__name__!r} object has no attribute {name!r}")
        return values[name]

    def get(self, name: str, default: Any = None) -> Any:
        return self.values.get(name, default)


@dataclass(frozen=True)
class Measurement:
    """A registered measurement: its :class:`VariableSpec`, its compute function and the keys
    of the ``[output]`` options it declared."""

    spec: VariableSpec
    compute: Callable[[Any], Any]
    trace: bool = False  # a time series, stored only with ``keep_traces``
    options: tuple[str, ...] = ()
    #: stored only when ``enabled(options)`` is true (None: always)
    enabled: Callable[[Any], bool] | None = None

    def stored(self, options: Any, keep_traces: bool) -> bool:
        """Whether this measurement is stored with ``options`` (None: every optional one)."""
        if self.trace and not keep_traces:
            return False
        return self.enabled is None or options is None or bool(self.enabled(options))


class Registry:
    """Ordered collection of :class:`Measurement` objects and of the ``[output]`` options."""

    def __init__(self) -> None:
        self._items: dict[str, Measurement] = {}
        self._options: dict[str, OptionSpec] = {}

    def register(self, name: str, dims: Sequence[str], dtype: str, units: str, long_name: str,
                 *, attrs: dict | None = None, trace: bool = False, options: Sequence[OptionSpec] = (),
                 enabled: Callable[[Any], bool] | None = None, result: bool = True):
        """Decorator registering ``compute(ctx)`` as the measurement ``name``, with its own
        ``[output]`` ``options`` (read as ``ctx.options[key]``); with ``enabled``, stored only
        when ``enabled(options)`` is true; ``result=False``: see :class:`VariableSpec`."""
        unknown = [d for d in dims if d not in INNER_DIMS]
        if unknown:
            raise ValueError(f"measurement {name!r}: unknown dims {unknown}; allowed: {INNER_DIMS}")
        if name in self._items:
            raise ValueError(f"measurement {name!r} is registered twice")
        kind = np.dtype(dtype)
        spec = VariableSpec(name, tuple(dims), kind, units, long_name, _FILL[kind.kind],
                            tuple(sorted((attrs or {}).items())), result)

        def decorate(compute):
            self.declare_options(*options)
            self._items[name] = Measurement(spec, compute, trace, tuple(o.key for o in options), enabled)
            return compute

        return decorate

    def unregister(self, name: str) -> None:
        """Remove the measurement ``name`` and the options only it declared."""
        measurement = self._items.pop(name)
        still = {key for m in self._items.values() for key in m.options}
        for key in measurement.options:
            if key not in still:
                self._options.pop(key, None)

    def declare_options(self, *options: OptionSpec) -> None:
        """Add ``[output]`` options (e.g. those the whole output uses); a key is declared once."""
        for option in options:
            if self._options.get(option.key, option) != option:
                raise ValueError(f"[output] option {option.key!r} is declared twice, differently")
        for option in options:
            self._options[option.key] = option

    @property
    def options(self) -> dict[str, OptionSpec]:
        """The ``[output]`` options by key, in declaration order."""
        return dict(self._options)

    def resolve_options(self, given: Mapping[str, Any]) -> dict[str, Any]:
        """Every option's value by name: from ``given`` (by key or by name; None: the default)
        or the default, passed through its check, in declaration order.

        Raises
        ------
        OptionError
            The first invalid value (naming its key).
        """
        values: dict[str, Any] = {}
        for option in self._options.values():
            raw = given.get(option.key, given.get(option.value_name))
            if raw is None:
                raw = option.default(values) if callable(option.default) else option.default
            try:
                values[option.value_name] = option.check(raw, values) if option.check else raw
            except SweepsError:
                raise
            except ValueError as err:
                raise OptionError(option.key, str(err)) from None
        return values

    def specs(self, keep_traces: bool = True, options: Any = None) -> list[VariableSpec]:
        """Specs of the variables stored with ``options`` (None: all), in registration order."""
        return [m.spec for m in self._items.values() if m.stored(options, keep_traces)]

    def compute(self, ctx, keep_traces: bool = True) -> dict[str, np.ndarray]:
        """Evaluate every measurement stored with ``ctx.options`` on ``ctx``, cast to its dtype."""
        return {m.spec.name: np.asarray(m.compute(ctx), dtype=m.spec.dtype)
                for m in self._items.values() if m.stored(getattr(ctx, "options", None), keep_traces)}

    def __contains__(self, name: str) -> bool:
        return name in self._items

    def __iter__(self):
        return iter(self._items.values())


def inner_coordinates(population_names: Sequence[str], cell_types: Sequence[str | None]) -> dict:
    """Coordinates of the inner dims that the store does not derive itself.

    Returns ``{dim: (dim, values, attrs)}`` for ``population_other``, ``pair_type`` and
    ``relation``.
    """
    return {
        POPULATION_OTHER: (POPULATION_OTHER, np.array(list(population_names), dtype=object),
                           {"long_name": "second population of a pair"}),
        PAIR_TYPE: (PAIR_TYPE, np.array(pair_type_labels(cell_types), dtype=object),
                    {"long_name": "cell types of a neuron pair"}),
        RELATION: (RELATION, np.array(RELATIONS, dtype=object),
                   {"long_name": "neuron pair in the same cluster (within) or not (across)"}),
    }


def inner_sizes(population_names: Sequence[str], cell_types: Sequence[str | None]) -> dict[str, int]:
    """Lengths of the dims of :func:`inner_coordinates`."""
    return {dim: len(values) for dim, (_, values, _) in
            inner_coordinates(population_names, cell_types).items()}
