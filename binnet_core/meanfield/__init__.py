"""Gaussian mean-field theory of binary networks and of the clustered E/I model.

Modules by concept:

- :mod:`~binnet_core.meanfield.functions`: small pure functions (``mean_input``,
  ``input_variance``, ``rate``, ``variance_coefficients``, ``transfer``, ``jacobian``);
- :mod:`~binnet_core.meanfield.systems`: :class:`ClusterSystem` from the connection
  parameters of one set or of a table of sets;
- :mod:`~binnet_core.meanfield.solvers`: ``fixed_points``, ``system_fixed_points``,
  ``bifurcation``;
- :mod:`~binnet_core.meanfield.homogeneous`: ``homogeneous_fixed_points``, the homogeneous
  states in plain numpy/scipy (no compilation; the sweeps' run-time prediction uses it);
- :mod:`~binnet_core.meanfield.tables`: ``theory_table``, ``bifurcation_table`` over many
  parameter sets (for sweeps and figures);
- ``_kernels``: the compiled (numba) search of the reduced focus-count system.

Every public name is importable from ``binnet_core.meanfield``.
"""

from binnet_core.meanfield.functions import (
    full_system,
    input_variance,
    jacobian,
    mean_input,
    rate,
    transfer,
    variance_coefficients,
)
from binnet_core.meanfield.homogeneous import homogeneous_fixed_points
from binnet_core.meanfield.solvers import (
    STATUS_REASONS,
    FixedPoint,
    FixedPointList,
    bifurcation,
    fixed_points,
    system_fixed_points,
)
from binnet_core.meanfield.systems import ClusterSystem, cluster_system
from binnet_core.meanfield.tables import GROUPS, TheoryTable, bifurcation_table, theory_table

__all__ = ["mean_input", "input_variance",
           "rate", "variance_coefficients", "ClusterSystem", "cluster_system", "full_system",
           "transfer", "jacobian", "FixedPoint", "FixedPointList", "fixed_points",
           "system_fixed_points", "homogeneous_fixed_points", "bifurcation", "STATUS_REASONS",
           "GROUPS", "TheoryTable", "theory_table", "bifurcation_table"]
