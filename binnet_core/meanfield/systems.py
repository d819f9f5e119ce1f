"""Mean-field systems of the clustered model from its connection parameters.

The coefficients come from :func:`binnet_core.clustered.connection_parameters` (one set) or
:func:`binnet_core.clustered.connection_table` (many), the same formulas that wire the
simulated network, so theory and simulation cannot drift apart.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from binnet_core.clustered import (
    ConnectionParameters,
    ParameterTable,
    connection_parameters,
    connection_table,
    validate_parameters,
)
from binnet_core.meanfield import _kernels as kernels
from binnet_core.meanfield.functions import variance_coefficients

__all__ = ["ClusterSystem", "cluster_system"]


@dataclass(frozen=True)
class ClusterSystem:
    """Mean-field coefficients of the clustered model, per single source population.

    ``coef[kind, same, a, b]``: ``kind`` 0 = mean ``A``, 1 = ``B``, 2 = ``C``; ``same`` 0 for
    a source in the target's own cluster, 1 for another cluster; ``a``/``b`` the post/pre
    cell type (0 = E, 1 = I). ``theta`` and ``tau`` per cell type.
    """

    Q: int
    coef: np.ndarray
    theta: np.ndarray
    tau: np.ndarray


def cluster_system(parameters: Mapping) -> ClusterSystem:
    """The :class:`ClusterSystem` of the parameters ``ClusteredEINetwork`` takes."""
    return validated_system(validate_parameters(parameters))


def validated_system(p: dict) -> ClusterSystem:
    """:func:`cluster_system` of already validated parameters."""
    cp = connection_parameters(p)
    sets = ConnectionParameters(*(np.asarray(getattr(cp, f.name))[None]
                                  for f in dataclasses.fields(cp)))
    coef, theta = coefficients(sets, np.array([[p["N_E"] / p["Q"], p["N_I"] / p["Q"]]]),
                               np.array([p["connection_type"]], dtype=object))
    return ClusterSystem(Q=p["Q"], coef=coef[0], theta=theta[0],
                         tau=np.array([p["tau_e"], p["tau_i"]], dtype=np.float64))


def table_systems(table: ParameterTable) -> tuple:
    """``(coef (S, 3, 2, 2, 2), theta (S, 2), tau (S, 2), Q (S,))`` of the validated
    parameter sets of ``table`` (the fields of :class:`ClusterSystem`, all sets at once)."""
    c = table.columns
    q = c["Q"]
    coef, theta = coefficients(connection_table(table),
                               np.stack([c["N_E"] / q, c["N_I"] / q], axis=-1),
                               c["connection_type"])
    return coef, theta, np.stack([c["tau_e"], c["tau_i"]], axis=-1), q


def coefficients(cp: ConnectionParameters, sizes, kinds) -> tuple:
    """``(coef (S, 3, 2, 2, 2), theta (S, 2))`` from connection parameters with a leading
    axis over the sets, the cluster sizes ``(S, 2)`` (E, I) and the connection types."""
    sizes = sizes[:, None, :]
    distinct = set(kinds)
    coef = np.empty((len(kinds), 3, 2, 2, 2))
    for same, (prob, weight) in enumerate(((cp.p_plus, cp.j_plus), (cp.p_minus, cp.j_minus))):
        coef[:, 0, same] = prob * weight * sizes
        for kind in distinct:
            at = slice(None) if len(distinct) == 1 else kinds == kind
            coef[at, 1, same], coef[at, 2, same] = variance_coefficients(
                prob[at], weight[at], sizes[at], kind)
    return coef, np.stack([cp.theta_E, cp.theta_I], axis=-1)


#: Cell type of the reduced system's groups: E focus, E other, I focus, I other.
GROUP_TYPE = np.array([0, 0, 1, 1])


def reduced_system(system: ClusterSystem, focus_count: int):
    """Kernel inputs ``(red, theta4, tau4, diff, sizes)`` for ``focus_count`` (1..Q)."""
    q, coef = system.Q, system.coef
    red = kernels.reduced_coefficients(coef, focus_count, q - focus_count)
    return (red, system.theta[GROUP_TYPE], system.tau[GROUP_TYPE], coef[:, 0] - coef[:, 1],
            np.array([focus_count, q - focus_count], dtype=np.int64))
