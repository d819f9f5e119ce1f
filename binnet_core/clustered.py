"""The clustered excitatory/inhibitory (E/I) binary network.

``Q`` excitatory clusters ``E0..E{Q-1}`` and ``Q`` inhibitory clusters ``I0..I{Q-1}``.
With ``N = N_E + N_I``, ``n_E = N_E / N`` and ``n_I = N_I / N`` the base couplings are::

    j_EE = V_th / sqrt(p0_ee n_E) / sqrt(N)     j_IE = V_th / sqrt(p0_ie n_E) / sqrt(N)
    j_EI = -g j_EE p0_ee n_E / (p0_ei n_I)      j_II = -j_IE p0_ie n_E / (p0_ii n_I)

A contrast ``R`` (``R_Eplus`` for E->E, ``R_Iplus = 1 + R_j (R_Eplus - 1)`` for the other
three) is split between probability and weight by ``kappa``: with ``out = (Q - R)/(Q - 1)``,
``p_in = R**(1 - kappa)``, ``w_in = R**kappa``, ``p_out = out**(1 - kappa)``,
``w_out = out**kappa``; the mean input ``p * w`` does not depend on ``kappa``. A block
between populations of one cluster has probability ``p0 * p_in`` and weight ``j * w_in``;
across clusters ``p0 * p_out`` and ``j * w_out``. The external drive is folded into the
thresholds: ``theta_E = V_th - m_X J_EX``, ``theta_I = V_th - m_X J_IX`` with
``J_EX = sqrt(p0_ee N_E)`` and ``J_IX = 0.8 J_EX``.

:func:`block_table` lists the populations and the (probability, weight) of every block once;
the network and :func:`estimate_connectivity_bytes` are both built from it.
"""

from __future__ import annotations

import difflib
import math
import operator
from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

import numpy as np

from binnet_core.network import BinaryNetwork
from binnet_core.populations import BinaryNeuronPopulation
from binnet_core.synapses import FixedIndegreeSynapse, PairwiseBernoulliSynapse, PoissonSynapse
from binnet_core.validation import (
    check_finite,
    check_non_negative,
    check_positive,
    check_positive_int,
)

__all__ = ["ClusteredEINetwork", "DEFAULT_PARAMETERS", "CONNECTION_TYPES", "validate_parameters",
           "connection_parameters", "connection_table", "ParameterTable", "validate_parameter_table",
           "population_layout", "ConnectionParameters",
           "estimate_connectivity_bytes", "BlockTable", "block_table"]

#: Reference parameters (``R_Eplus`` has no default: it is required).
DEFAULT_PARAMETERS = MappingProxyType({
    "N_E": 8000, "N_I": 2000, "Q": 20, "V_th": 1.0, "g": 1.2,
    "p0_ee": 0.3, "p0_ie": 0.3, "p0_ei": 0.3, "p0_ii": 0.3,
    "tau_e": 10.0, "tau_i": None, "R_Eplus": None, "R_j": 0.75, "kappa": 1.0,
    "connection_type": "poisson", "m_X": 0.03,
    "initial_activity": 0.1, "initial_mode": "bernoulli",
})
INITIAL_MODES = ("bernoulli", "exact")
#: Synapse class of each connection type and the name of its mean-contacts argument.
_SYNAPSE = {"poisson": (PoissonSynapse, "rate"), "bernoulli": (PairwiseBernoulliSynapse, "p"),
            "fixed_indegree": (FixedIndegreeSynapse, "p")}
CONNECTION_TYPES = tuple(_SYNAPSE)
#: Synapse class of each connection type (it also gives the rule's mean-field variance).
SYNAPSE_CLASSES = {kind: synapse for kind, (synapse, _) in _SYNAPSE.items()}


@dataclass(frozen=True)
class ConnectionParameters:
    """Block probabilities and weights; 2x2 arrays ordered [[EE, EI], [IE, II]] (post x pre)."""

    p_plus: np.ndarray
    p_minus: np.ndarray
    j_plus: np.ndarray
    j_minus: np.ndarray
    theta_E: float
    theta_I: float
    external_exc: float
    external_inh: float


def _suggest(name, known):
    close = difflib.get_close_matches(name, known, n=1)
    return f"; did you mean {close[0]!r}?" if close else ""


def validate_parameters(parameters: Mapping, *, kappa=None, connection_type=None) -> dict:
    """Return the complete, checked parameter dict (defaults filled in).

    ``kappa`` and ``connection_type`` given as keywords override the mapping. Raises
    ``ValueError`` naming the parameter and the allowed values.
    """
    unknown = [k for k in parameters if k not in DEFAULT_PARAMETERS]
    if unknown:
        name = unknown[0]
        raise ValueError(f"unknown parameter {name!r}{_suggest(name, list(DEFAULT_PARAMETERS))} "
                         f"(known: {', '.join(DEFAULT_PARAMETERS)})")
    p = dict(DEFAULT_PARAMETERS)
    p.update(parameters)
    if kappa is not None:
        p["kappa"] = kappa
    if connection_type is not None:
        p["connection_type"] = connection_type
    if p["R_Eplus"] is None:
        raise ValueError("parameter 'R_Eplus' is required (cluster contrast, 0 < R_Eplus < Q)")
    for name in ("N_E", "N_I", "Q"):
        p[name] = check_positive_int(name, p[name])
        if p[name] >= 2**53:  # counts stay exact as float64 (and fit a table's int64)
            raise ValueError(f"{name} must be a positive integer below 2**53, got {p[name]}")
    for name in ("N_E", "N_I"):
        if p[name] % p["Q"]:
            raise ValueError(f"Q={p['Q']} must divide {name}={p[name]}")
    for name in ("p0_ee", "p0_ie", "p0_ei", "p0_ii", "m_X", "g"):
        p[name] = check_non_negative(name, p[name])
    # V_th scales every coupling: V_th <= 0 would silence or swap the signs of E and I
    p["V_th"] = check_positive("V_th", p["V_th"])
    for name in ("R_j", "kappa"):
        p[name] = check_finite(name, p[name])
    p["tau_e"] = check_positive("tau_e", p["tau_e"])
    p["tau_i"] = 0.5 * p["tau_e"] if p["tau_i"] is None else check_positive("tau_i", p["tau_i"])
    p["R_Eplus"] = check_finite("R_Eplus", p["R_Eplus"])
    if p["connection_type"] not in CONNECTION_TYPES:
        raise ValueError(f"connection_type must be one of {CONNECTION_TYPES}, got {p['connection_type']!r}")
    if p["initial_mode"] not in INITIAL_MODES:
        raise ValueError(f"initial_mode must be one of {INITIAL_MODES}, got {p['initial_mode']!r}")
    for name in ("p0_ee", "p0_ie", "p0_ei", "p0_ii"):
        if p[name] == 0:
            raise ValueError(f"{name} must be > 0 (it divides the coupling formulas)")
    r_iplus = 1.0 + p["R_j"] * (p["R_Eplus"] - 1.0)
    for name, value in (("R_Eplus", p["R_Eplus"]), ("R_Iplus = 1 + R_j (R_Eplus - 1)", r_iplus)):
        if value <= 0 or (p["Q"] > 1 and value >= p["Q"]):
            upper = f" < Q={p['Q']}" if p["Q"] > 1 else ""
            raise ValueError(f"{name} must satisfy 0 < R{upper}, got {value:g} (the out-of-cluster "
                             "factor (Q - R)/(Q - 1) must stay positive)")
    _initial_activities(p)
    return p


_INT_FIELDS = ("N_E", "N_I", "Q")
_NON_NEGATIVE_FIELDS = ("p0_ee", "p0_ie", "p0_ei", "p0_ii", "m_X", "g")
_POSITIVE_FIELDS = ("V_th", "tau_e", "tau_i")
_FINITE_FIELDS = ("R_j", "kappa", "R_Eplus")
_CHOICES = {"connection_type": CONNECTION_TYPES, "initial_mode": INITIAL_MODES}
_KNOWN = frozenset(DEFAULT_PARAMETERS)


@dataclass(frozen=True)
class ParameterTable:
    """Validated parameters of ``S`` sets, one array per parameter of
    :data:`DEFAULT_PARAMETERS`: int64 for ``N_E``, ``N_I``, ``Q``; float64 for the other
    numbers (``tau_i`` filled in); object arrays for ``connection_type``, ``initial_mode``
    and ``initial_activity`` (as given). Build it with :func:`validate_parameter_table`."""

    columns: Mapping[str, np.ndarray]

    def __len__(self) -> int:
        return len(self.columns["Q"])

    def row(self, s: int) -> dict:
        """The parameter dict of set ``s``, equal to what :func:`validate_parameters` returns."""
        return {name: self.columns[name][s] if self.columns[name].dtype == object
                else self.columns[name][s].item() for name in DEFAULT_PARAMETERS}

    def take(self, index) -> ParameterTable:
        """The sets at ``index`` (an integer array)."""
        return ParameterTable({name: values[index] for name, values in self.columns.items()})


def _plain_number(kind) -> bool:
    return issubclass(kind, (int, float, np.integer, np.floating)) \
        and not issubclass(kind, (bool, np.bool_))


def _numbers(values, integer: bool):
    """``(array, odd)``: the values as float64 (int64 if ``integer``) where their type is a
    plain number, and the rows the vectorised checks do not take (other types)."""
    plain = {kind: _plain_number(kind) for kind in set(map(type, values))}
    odd = np.zeros(len(values), dtype=bool)
    if not all(plain.values()):
        odd = np.array([not plain[type(v)] for v in values], dtype=bool)
        values = [0 if o else v for v, o in zip(values, odd)]
    try:
        array = np.array(values, dtype=np.float64)
    except OverflowError:  # integers beyond float range: the reference decides
        return np.zeros(len(values)), np.ones(len(values), dtype=bool)
    if integer:
        # exact as int64 below 2**53; beyond that the reference decides
        odd |= ~(np.abs(array) < 2.0**53)
        array = np.where(odd, 1.0, array)
        whole = array == np.floor(array)
        array = np.where(whole, array, 1.0).astype(np.int64)
        return array, odd | ~whole
    return array, odd


def validate_parameter_table(parameter_sets) -> ParameterTable:
    """:func:`validate_parameters` of many parameter sets at once (vectorised).

    The same checks on one array per parameter; a set that fails one (or has values of
    other types than plain numbers and strings) is passed to :func:`validate_parameters`,
    so the first bad set in order raises its error, before any work.
    """
    sets = list(parameter_sets)
    size = len(sets)
    slow = np.array([not _KNOWN.issuperset(p) for p in sets], dtype=bool)
    columns = {}
    for name, default in DEFAULT_PARAMETERS.items():
        values = [p.get(name, default) for p in sets]
        if name in _CHOICES or name == "initial_activity":
            columns[name] = np.empty(size, dtype=object)
            columns[name][:] = values
            continue
        if name == "tau_i":
            unset = np.array([v is None for v in values], dtype=bool)
            values = [1.0 if u else v for v, u in zip(values, unset)]
        columns[name], odd = _numbers(values, name in _INT_FIELDS)
        slow |= odd
    c = columns
    c["tau_i"] = np.where(unset, 0.5 * c["tau_e"], c["tau_i"])
    with np.errstate(invalid="ignore", divide="ignore"):
        for name in _INT_FIELDS:
            slow |= c[name] <= 0
        slow |= (c["N_E"] % np.maximum(c["Q"], 1) != 0) | (c["N_I"] % np.maximum(c["Q"], 1) != 0)
        for name in _NON_NEGATIVE_FIELDS + _POSITIVE_FIELDS + _FINITE_FIELDS:
            slow |= ~np.isfinite(c[name])
        for name in _NON_NEGATIVE_FIELDS:
            slow |= c[name] < 0
        for name in _POSITIVE_FIELDS + ("p0_ee", "p0_ie", "p0_ei", "p0_ii"):
            slow |= c[name] <= 0
        for name, allowed in _CHOICES.items():
            slow |= np.array([not (isinstance(v, str) and v in allowed) for v in c[name]],
                             dtype=bool)
        r_iplus = 1.0 + c["R_j"] * (c["R_Eplus"] - 1.0)
        for value in (c["R_Eplus"], r_iplus):
            slow |= ~(value > 0) | ((c["Q"] > 1) & ~(value < c["Q"]))
        activity, odd = _numbers(list(c["initial_activity"]), False)
        slow |= odd | ~((activity >= 0) & (activity <= 1))
    for s in np.flatnonzero(slow):  # raises for the first bad set
        for name, value in validate_parameters(sets[s]).items():
            c[name][s] = value
    return ParameterTable(columns)


# The formulas are written once (:func:`_connection`) over numbers (one set, plain Python
# floats: fast) or arrays over the sets; these helpers are the only places the two differ.

def _float(x):
    """A count as float64: an array over the sets or one Python float."""
    return x.astype(np.float64) if isinstance(x, np.ndarray) else float(x)


def _sqrt(x):
    return np.sqrt(x) if isinstance(x, np.ndarray) else math.sqrt(x)


def _select(condition, a, b):
    return np.where(condition, a, b) if isinstance(condition, np.ndarray) else (a if condition else b)


def _pow(base, exponent):
    """``base ** exponent`` as Python computes it, elementwise over arrays (numpy's SIMD power
    can differ in the last bit)."""
    if isinstance(base, np.ndarray) or isinstance(exponent, np.ndarray):
        return np.frompyfunc(operator.pow, 2, 1)(base, exponent).astype(np.float64)
    return base ** exponent


def _blocks(nested, over_sets: bool) -> np.ndarray:
    """An array of nested lists of numbers; of (S,) arrays: with the sets' axis in front."""
    blocks = np.array(nested, dtype=np.float64)
    return np.ascontiguousarray(np.moveaxis(blocks, -1, 0)) if over_sets else blocks


def _mixing(r, q, kappa):
    """``(p_in, w_in, p_out, w_out)`` factors of contrasts ``r``."""
    out = _select(q == 1, r, (q - r) / _select(q == 1, 2, q - 1))
    return _pow(r, 1 - kappa), _pow(r, kappa), _pow(out, 1 - kappa), _pow(out, kappa)


def _connection(c: Mapping) -> ConnectionParameters:
    """The formulas of the module docstring: ``c`` maps each parameter to a number (one set:
    (2, 2) blocks and floats) or to an array over the sets (a leading axis on every field)."""
    over_sets = isinstance(c["Q"], np.ndarray)
    n_ex, n_in = _float(c["N_E"]), _float(c["N_I"])
    n = n_ex + n_in
    n_e, n_i = n_ex / n, n_in / n
    j_ee = c["V_th"] / _sqrt(c["p0_ee"] * n_e) / _sqrt(n)
    j_ie = c["V_th"] / _sqrt(c["p0_ie"] * n_e) / _sqrt(n)
    j_ei = -c["g"] * j_ee * c["p0_ee"] * n_e / (c["p0_ei"] * n_i)
    j_ii = -j_ie * c["p0_ie"] * n_e / (c["p0_ii"] * n_i)
    p0 = _blocks([[c["p0_ee"], c["p0_ei"]], [c["p0_ie"], c["p0_ii"]]], over_sets)
    j = _blocks([[j_ee, j_ei], [j_ie, j_ii]], over_sets)
    r_iplus = 1.0 + c["R_j"] * (c["R_Eplus"] - 1.0)
    q = _float(c["Q"])
    e_e, other = _mixing(c["R_Eplus"], q, c["kappa"]), _mixing(r_iplus, q, c["kappa"])
    # p_in, w_in, p_out, w_out: R_Eplus for E->E, R_Iplus for the other three blocks
    mix = _blocks([[[e, o], [o, o]] for e, o in zip(e_e, other)], over_sets)
    j_ex = _sqrt(c["p0_ee"] * n_ex)
    j_ix = 0.8 * j_ex
    return ConnectionParameters(
        p_plus=p0 * mix[..., 0, :, :], j_plus=j * mix[..., 1, :, :],
        p_minus=p0 * mix[..., 2, :, :], j_minus=j * mix[..., 3, :, :],
        theta_E=c["V_th"] - c["m_X"] * j_ex, theta_I=c["V_th"] - c["m_X"] * j_ix,
        external_exc=c["m_X"] * j_ex, external_inh=c["m_X"] * j_ix,
    )


def connection_table(table: ParameterTable) -> ConnectionParameters:
    """:func:`connection_parameters` of every set of ``table`` at once: each field gets a
    leading axis over the sets ((S, 2, 2) blocks, (S,) thresholds and drives)."""
    return _connection(table.columns)


def connection_parameters(p: Mapping) -> ConnectionParameters:
    """Block probabilities, weights and thresholds of validated parameters ``p``.

    The formulas of :func:`connection_table` (written once) on the numbers of one set:
    (2, 2) blocks, thresholds and drives as floats.
    """
    return _connection(p)


@dataclass(frozen=True)
class BlockTable:
    """The ``2Q`` populations of the model and the block between every ordered pair.

    ``probability[post, pre]`` is the mean number of contacts per pair (the synapse rule's
    ``p`` or ``rate``) and ``weight[post, pre]`` the weight of each contact.
    """

    names: tuple[str, ...]
    cell_types: tuple[str, ...]
    clusters: np.ndarray
    sizes: np.ndarray
    probability: np.ndarray
    weight: np.ndarray


def block_table(p: Mapping) -> BlockTable:
    """The populations and blocks of validated parameters ``p`` (see the module docstring)."""
    cp = connection_parameters(p)
    q = p["Q"]
    kind = np.repeat([0, 1], q)  # 0: E, 1: I
    clusters = np.tile(np.arange(q), 2)
    same = np.equal.outer(clusters, clusters)
    types = np.ix_(kind, kind)
    return BlockTable(
        names=tuple([f"E{k}" for k in range(q)] + [f"I{k}" for k in range(q)]),
        cell_types=("E",) * q + ("I",) * q,
        clusters=clusters,
        sizes=np.array([p["N_E"] // q] * q + [p["N_I"] // q] * q, dtype=np.int64),
        probability=np.where(same, cp.p_plus[types], cp.p_minus[types]),
        weight=np.where(same, cp.j_plus[types], cp.j_minus[types]),
    )


def population_layout(parameters: Mapping) -> dict:
    """Names, cell types, cluster indices and sizes of the populations (no connectivity)."""
    table = block_table(validate_parameters(parameters))
    return {"names": table.names, "cell_types": table.cell_types, "clusters": table.clusters,
            "sizes": table.sizes}


def estimate_connectivity_bytes(parameters: Mapping, weight_mode: str = "auto", ram_budget_gb: float = 12.0,
                                weight_dtype=np.float32) -> int:
    """Bytes of the connectivity :class:`ClusteredEINetwork` would build, without building it.

    Uses the engine's own estimate and layout choice (``connectivity.estimate_bytes`` and
    ``choose_layout``), so a network too large for ``ram_budget_gb`` is refused here with the
    same ``ValueError`` the engine raises while building.

    Returns
    -------
    int
        Estimated bytes of the chosen layout.
    """
    from binnet_core.connectivity import choose_layout, estimate_bytes

    p = validate_parameters(parameters)
    table = block_table(p)
    synapse, _ = _SYNAPSE[p["connection_type"]]
    sizes = table.sizes.astype(np.float64)
    contacts = float(np.sum(synapse.expected_count(table.probability, sizes[None, :],
                                                   sizes[:, None])))
    dense, sparse = estimate_bytes(int(table.sizes.sum()), sizes.size, contacts,
                                   int(table.sizes.max()), True, np.dtype(weight_dtype).itemsize)
    layout = choose_layout(weight_mode, dense, sparse, ram_budget_gb)
    return int(dense if layout == "dense" else sparse)


def _initial_activities(p) -> np.ndarray:
    """One initial activity per population from a scalar, an {E, I} mapping or a 2Q list."""
    value, q = p["initial_activity"], p["Q"]
    if isinstance(value, Mapping):
        if set(value) != {"E", "I"}:
            raise ValueError("initial_activity as a mapping needs exactly the keys 'E' and 'I'")
        values = np.array([value["E"]] * q + [value["I"]] * q, dtype=float)
    elif np.ndim(value) == 0:
        values = np.full(2 * q, value, dtype=float)
    else:
        values = np.asarray(value, dtype=float)
        if values.shape not in ((2,), (2 * q,)):
            raise ValueError(f"initial_activity must be a scalar, {{'E', 'I'}}, 2 values or {2 * q} "
                             f"values (one per population), got shape {values.shape}")
        if values.shape == (2,):
            values = np.repeat(values, q)
    if not np.all((values >= 0) & (values <= 1)):
        raise ValueError("initial_activity values must lie in [0, 1]")
    return values


def _initializer(activity, mode):
    if mode == "bernoulli":
        return float(activity) if 0 < activity < 1 else int(activity)

    def exact(n, activity=activity):
        values = np.zeros(n, dtype=np.int8)
        values[: int(round(activity * n))] = 1
        return values

    return exact


class ClusteredEINetwork(BinaryNetwork):
    """Clustered E/I network: ``2Q`` populations wired as in the module docstring, initialised on creation.

    Parameters
    ----------
    parameters : mapping
        Model parameters; missing ones take :data:`DEFAULT_PARAMETERS`. ``R_Eplus`` is required.
    kappa, connection_type : optional
        Override the mapping's values.
    seed : None, int, SeedSequence or Generator
        All randomness of the network.
    weight_mode, ram_budget_gb, weight_dtype
        Passed to :meth:`BinaryNetwork.initialize`.

    Attributes
    ----------
    parameters : dict
        The validated parameters.
    connection_parameters : ConnectionParameters
    """

    def __init__(self, parameters: Mapping, *, kappa=None, connection_type=None, seed=None,
                 weight_mode="auto", ram_budget_gb=12.0, weight_dtype=np.float32):
        super().__init__("clustered E/I network")
        self.parameters = validate_parameters(parameters, kappa=kappa, connection_type=connection_type)
        p = self.parameters
        self.connection_parameters = cp = connection_parameters(p)
        table = block_table(p)
        activities = _initial_activities(p)
        for k, (name, cell) in enumerate(zip(table.names, table.cell_types)):
            excitatory = cell == "E"
            self.add_population(BinaryNeuronPopulation(
                self, N=int(table.sizes[k]), threshold=cp.theta_E if excitatory else cp.theta_I,
                name=name, tau=p["tau_e"] if excitatory else p["tau_i"],
                initializer=_initializer(activities[k], p["initial_mode"]),
                cluster=int(table.clusters[k]), cell_type=cell))
        synapse, mean = _SYNAPSE[p["connection_type"]]
        for post, pre in np.ndindex(table.probability.shape):  # post-major: synapse i's stream
            self.add_synapse(synapse(self, self.population[pre], self.population[post],
                                     j=table.weight[post, pre],
                                     **{mean: table.probability[post, pre]}))
        self.initialize(weight_mode=weight_mode, ram_budget_gb=ram_budget_gb,
                        weight_dtype=weight_dtype, seed=seed)
