"""The theory rounds of an adaptive sweep lie along the mean-field bifurcation line.

Stated distance: a point chosen in theory round ``k`` lies in a cell the line crosses, whose
extent along R_Eplus is at most ``coarse_spacing / 2**(k - 1)`` lattice steps; so the point
is within that many steps of the line's R_Eplus at one of the cell's V_th values.
The real store, theory and round loop; the simulations are left out (the theory rounds do not
look at data), so a network of N = 10,000 (where the mean field has a bifurcation) costs
nothing here.
"""

from __future__ import annotations

import numpy as np

from sweeps import load_experiment
from sweeps.execution.adaptive import run_rounds
from sweeps.plan import SweepPlan
from sweeps.store.adaptive import read_rounds
from sweeps.store.sweep_store import SweepStore
from sweeps.theory.compute import write_theory

TOML = """\
[experiment]
name = "theory_seeded"
model = "clustered_ei"
seed = 3

[parameters]
N_E = 8000
N_I = 2000
Q = 20
R_j = 0.75
kappa = 1.0
connection_type = "poisson"

[sweep]
R_Eplus = {start = 2.0, stop = 10.0, step = 0.125}
V_th = {linspace = [0.8, 1.2, 9]}

[sweep.adaptive]
variable = "mean_active_clusters"
budget = 200
batch = 20
coarse_spacing = 8
theory_seeding = true
theory_rounds = 3

[theory]
focus_counts = [1]

[simulation]
duration = "5 ms"
sample_interval = "1 ms"

[output]
keep_traces = false
"""
SPACING, THEORY_ROUNDS, BATCH = 8, 3, 20


def test_theory_rounds_lie_within_the_stated_distance_of_the_bifurcation_line(tmp_path):
    path = tmp_path / "d.toml"
    path.write_text(TOML)
    plan = SweepPlan.build(load_experiment(path))
    store = SweepStore.create(tmp_path / "s.zarr", plan)
    theory = write_theory(store, plan)
    line = theory["mf_bifurcation_R_Eplus"].sel(focus_count=1).values  # per V_th
    assert np.isfinite(line).all() and np.ptp(line) > 0.5  # a line across the lattice

    def not_run(points):  # the theory rounds need no data
        return True

    state = run_rounds(plan, store, not_run)
    rounds = read_rounds(store)  # (R_Eplus, V_th)
    r_eplus = np.asarray(plan.experiment.dimensions[0].values["R_Eplus"])
    step = r_eplus[1] - r_eplus[0]
    position = (line - r_eplus[0]) / step  # the line in lattice steps, per V_th position
    assert state.rounds > THEORY_ROUNDS
    for k in range(1, THEORY_ROUNDS + 1):
        points = np.argwhere(rounds == k)
        assert 0 < len(points) <= BATCH
        bound = SPACING / 2 ** (k - 1)
        for i, j in points:
            near = [abs(i - position[jj]) for jj in range(max(0, j - int(bound)), min(len(line), j + int(bound) + 1))]
            assert min(near) <= bound, (k, i, j, min(near), bound)
        # and they are not spread uniformly: the bound is far tighter than the lattice
        assert bound < len(r_eplus) / 4
