"""The declaration of the clustered E/I model (``model = "clustered_ei"``): ``Q`` E and ``Q`` I
clusters whose within-cluster blocks are stronger by ``R_Eplus`` (E->E) and ``1 + R_j (R_Eplus - 1)``
(the other blocks), see :mod:`binnet_core.clustered`.

Everything the sweep code knows about this model is in :data:`MODEL`: the builder
(:class:`binnet_core.clustered.ClusteredEINetwork`), the populations ``E0..E{Q-1}``,
``I0..I{Q-1}``, the parameters with units, the checks, the mean-field theory (for
``initial = "meanfield"``) and the cost of a network (for ``sweeps validate``).
"""

from __future__ import annotations

import numpy as np

from sweeps.models.model import (
    Model,
    ModelCost,
    ModelTheory,
    Parameter,
    TheoryResult,
    TheoryVariable,
)

__all__ = ["MODEL"]

PARAMETERS = (
    Parameter("N_E", "1", "excitatory neurons"),
    Parameter("N_I", "1", "inhibitory neurons"),
    Parameter("Q", "1", "clusters"),
    Parameter("V_th", "1", "threshold (input units)"),
    Parameter("g", "1", "relative inhibition"),
    *(Parameter(f"p0_{ab}", "1", f"base connection probability {ab.upper()}")
      for ab in ("ee", "ie", "ei", "ii")),
    Parameter("tau_e", "ms", "excitatory update time constant"),
    Parameter("tau_i", "ms", "inhibitory update time constant"),
    Parameter("R_Eplus", "1", "E->E cluster contrast"),
    Parameter("R_j", "1", "inhibitory contrast factor"),
    Parameter("kappa", "1", "contrast split: 0 probability, 1 weight"),
    Parameter("m_X", "1", "external activity"),
    Parameter("connection_type", "", "connection rule"),
)


def build(params: dict, seed, weight_mode: str = "auto", ram_budget_gb: float = 12.0):
    from binnet_core.clustered import ClusteredEINetwork

    return ClusteredEINetwork(params, seed=seed, weight_mode=weight_mode, ram_budget_gb=ram_budget_gb)


def layout(params: dict) -> list[dict]:
    from binnet_core.clustered import population_layout

    pops = population_layout(params)
    return [
        {"name": name, "cell_type": kind, "cluster": int(cluster), "N": int(size)}
        for name, kind, cluster, size in zip(
            pops["names"], pops["cell_types"], pops["clusters"], pops["sizes"], strict=True
        )
    ]


def validate(params: dict) -> None:
    from binnet_core.clustered import validate_parameters

    validate_parameters(params)


def memory(params: dict, weight_mode: str, ram_budget_gb: float) -> None:
    from binnet_core.clustered import estimate_connectivity_bytes

    estimate_connectivity_bytes(params, weight_mode, ram_budget_gb)


def theory(params: dict, focus_count: int):
    """Fixed points of the clustered mean field with ``focus_count`` focus clusters."""
    from binnet_core.meanfield import fixed_points  # Gaussian mean field of the clustered network

    return fixed_points(params, focus_count=focus_count)


def cost(params: dict) -> ModelCost:
    """Updates per ms (``N_E/tau_e + N_I/tau_i``) and expected contacts of one network."""
    from binnet_core.clustered import connection_parameters, validate_parameters

    p = validate_parameters(params)
    cp = connection_parameters(p)
    q = p["Q"]
    sizes = np.array([p["N_E"] // q, p["N_I"] // q], dtype=np.float64)  # one cluster, [E, I]
    per_block = sizes[:, None] * sizes[None, :]  # post x pre
    contacts = q * np.sum(cp.p_plus * per_block) + q * (q - 1) * np.sum(cp.p_minus * per_block)
    return ModelCost(p["N_E"] / p["tau_e"] + p["N_I"] / p["tau_i"], float(contacts), p["N_E"] + p["N_I"],
                     _flips_per_ms(p))


def _flips_per_ms(p: dict) -> float | None:
    """Flip rate estimate per ms: ``m N / tau`` summed over populations, ``m`` the rates of the
    homogeneous mean-field state (a stable one if any); None without a fixed point.

    The state comes from the numpy solver of the two-population reduction (no kernel to
    compile: a sweep's first run does not wait for the mean-field kernels to predict its cost).
    Measured flips per update of N = 10^4 points (kappa 0..1, p0 0.2..0.3) are 0.5-0.9 times
    this ``m``; ``sweeps.execution.cost.FLIP_NS`` carries the average factor."""
    from binnet_core.meanfield.homogeneous import homogeneous_fixed_points

    found = list(homogeneous_fixed_points(p))
    if not found:
        return None
    state = next((f for f in found if f.stable), found[0])
    q = p["Q"]
    m_e, m_i = np.asarray(state.rates[:q]), np.asarray(state.rates[q:])
    return float(np.sum(m_e) * p["N_E"] / q / p["tau_e"] + np.sum(m_i) * p["N_I"] / q / p["tau_i"])


_GROUPS = ("E_focus", "E_other", "I_focus", "I_other")


def _rate_variable(group: str) -> TheoryVariable:
    cell, which = group.split("_")
    return TheoryVariable(f"mf_rate_{group}", f"mean-field {cell} rate of the {which} clusters "
                          "(stable state with the highest focus-E rate)", np.nan)


#: the mean-field quantities of ``[theory]`` (all of them dimensionless)
THEORY_VARIABLES = (
    *(_rate_variable(g) for g in _GROUPS),
    TheoryVariable("mf_fixed_points", "number of mean-field fixed points (-1: no convergence)", -1),
    TheoryVariable("mf_stable_points", "number of stable mean-field fixed points (-1: no convergence)", -1),
    TheoryVariable("mf_point_E_focus", "mean-field focus-E rate of every fixed point", np.nan, extra_dim="mf_point"),
    TheoryVariable("mf_point_stable", "fixed point stable (1), unstable (0), none (-1)", -1, extra_dim="mf_point"),
    TheoryVariable("mf_bifurcation_R_Eplus", "mean-field bifurcation R_Eplus (first multistability)", np.nan,
                   independent_of=("R_Eplus",)),
)


def sweep_theory(parameter_sets: list[dict], focus_counts: list[int], names: tuple[str, ...],
                 threads: int) -> TheoryResult:
    """Fixed points (rates, counts, every point's focus-E rate and stability) or the bifurcation
    ``R_Eplus`` of every parameter set and focus count (``binnet_core.meanfield`` tables)."""
    from binnet_core.meanfield import GROUPS, bifurcation_table, theory_table

    if names == ("mf_bifurcation_R_Eplus",):
        return TheoryResult({names[0]: bifurcation_table(parameter_sets, focus_counts, threads=threads)})
    table = theory_table(parameter_sets, focus_counts, threads=threads)
    arrays = {f"mf_rate_{group}": table.rates[..., g] for g, group in enumerate(GROUPS)}
    arrays |= {"mf_fixed_points": table.fixed_points, "mf_stable_points": table.stable_points,
               "mf_point_E_focus": table.all_focus_E, "mf_point_stable": table.all_stable}
    return TheoryResult({name: arrays[name] for name in names}, tuple(table.reasons))


MODEL = Model("clustered_ei", build, layout, validate, memory, PARAMETERS, theory, cost,
              structural=("N_E", "N_I", "Q"), sweep_theory=ModelTheory(THEORY_VARIABLES, sweep_theory))
