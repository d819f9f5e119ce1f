"""Boundary location: dense fine grid vs the adaptive sweep vs python-adaptive's Learner2D.

Run from the repository root::

    python benchmarks/bench_adaptive.py            # lattice 33 x 33, budgets 10, 25, 50 %

The phase diagram: the boundary model (``tests/reference/boundarymodel.py``): ``active``
steps from 0 to 1 across the curve ``y = 0.25 + 0.5 x^2`` (logistic width 0.01) with a seeded
noise of +-0.025 per point and network, on a lattice of 33 x 33 values of ``x, y`` in [0, 1]
with 2 networks per point (a point's result is the mean over its networks).  Each point is
computed by the sweep pipeline itself (``run_sweep``: store, tasks, seeds).

* dense grid: every lattice point (the truth);
* adaptive: ``[sweep.adaptive]`` (variable ``active``, coarse spacing 4, batch 24) at each budget;
* Learner2D: python-adaptive's ``Learner2D`` (default loss) over the same square, asking one
  point at a time; a requested point is snapped to the nearest lattice point and gets that
  point's result from the dense store, which is exactly what simulating it would give (a
  point's seeds depend only on its coordinates and network, so a rerun is bit-identical);
  it stops when it has asked for the budget's number of distinct lattice points.

Boundary: per column ``x``, the ``y`` (in lattice cells) where the linear interpolation of
the samples over the lattice (:func:`scipy.interpolate.griddata`; nearest sample outside
their hull) first crosses 0.5 going up; error = the largest |difference| from the dense grid's
over all columns, in fine-lattice cells (mean in brackets).  Simulations = lattice points x
networks.  Needs ``pip install adaptive`` (extra ``adaptive``).  The last line, for scripts:
``adaptive: budget 25 %: boundary error E cells (Learner2D L cells, dense grid 0)``.
"""

from __future__ import annotations

import logging
import os
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")]))

from scipy.interpolate import griddata  # noqa: E402

from sweeps import LocalThreads, open_results, parse_experiment, run_sweep  # noqa: E402
from sweeps.errors import MissingDependencyError, require_optional  # noqa: E402

SIZE, NETWORKS, BUDGETS = 33, 2, (10, 25, 50)
TOML = f"""\
[experiment]
name = "bench_adaptive"
model = "tests.reference.boundarymodel:MODEL"
seed = 11

[parameters]
noise = 0.05

[sweep]
x = {{linspace = [0.0, 1.0, {SIZE}]}}
y = {{linspace = [0.0, 1.0, {SIZE}]}}
networks = {NETWORKS}
{{adaptive}}
[simulation]
duration = "2 ms"
sample_interval = "1 ms"

[output]
keep_traces = false
"""
ADAPTIVE = """
[sweep.adaptive]
variable = "active"
budget = "{budget} %"
batch = 24
coarse_spacing = 4
"""


def boundary(points: np.ndarray, values: np.ndarray) -> np.ndarray:
    """Per column: the lattice ``y`` where the interpolated samples first cross 0.5 upwards."""
    gx, gy = np.meshgrid(np.arange(SIZE), np.arange(SIZE), indexing="ij")
    surface = griddata(points, values, (gx, gy), method="linear")
    nearest = griddata(points, values, (gx, gy), method="nearest")
    surface = np.where(np.isfinite(surface), surface, nearest)
    out = np.full(SIZE, np.nan)
    for i, column in enumerate(surface):
        up = np.flatnonzero((column[:-1] < 0.5) & (column[1:] >= 0.5))
        if up.size:
            k = up[0]
            out[i] = k + (0.5 - column[k]) / (column[k + 1] - column[k])
    return out


def error(estimate: np.ndarray, truth: np.ndarray) -> tuple[float, float]:
    diff = np.abs(np.where(np.isfinite(estimate), estimate, np.inf) - truth)
    return float(np.max(diff)), float(np.mean(diff))


def lattice_samples(store: Path) -> tuple[np.ndarray, np.ndarray]:
    values = open_results(store)["active"].mean("network").values  # NaN where not simulated
    points = np.argwhere(np.isfinite(values))
    return points.astype(float), values[tuple(points.T)]


def run(text: str, store: Path) -> float:
    started = time.perf_counter()
    run_sweep(parse_experiment(text), store, LocalThreads(2))
    return time.perf_counter() - started


def learner2d(dense: np.ndarray, budget: int) -> tuple[np.ndarray, np.ndarray, int]:
    adaptive = require_optional("adaptive", "adaptive", "the comparison with Learner2D")

    def simulate(xy):  # the dense store's result at the nearest lattice point (= simulating it)
        i, j = (int(round(v * (SIZE - 1))) for v in xy)
        asked.add((i, j))
        return float(dense[i, j])

    asked: set[tuple[int, int]] = set()
    learner = adaptive.Learner2D(simulate, bounds=[(0.0, 1.0), (0.0, 1.0)])
    while len(asked) < budget:
        points, _ = learner.ask(1)
        for p in points:
            learner.tell(p, simulate(p))
    points = np.array(list(learner.data), float) * (SIZE - 1)
    return points, np.array(list(learner.data.values()), float), len(asked)


def main() -> None:
    try:
        require_optional("adaptive", "adaptive", "the comparison with Learner2D")
    except MissingDependencyError as err:  # before any work
        raise SystemExit(f"error: {err}") from None
    logging.disable(logging.INFO)
    load = os.getloadavg()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        seconds = run(TOML.replace("{adaptive}", ""), tmp / "dense.zarr")
        points, values = lattice_samples(tmp / "dense.zarr")
        dense = np.full((SIZE, SIZE), np.nan)
        dense[tuple(points.astype(int).T)] = values
        truth = boundary(points, values)
        lattice = SIZE * SIZE
        print(f"lattice {SIZE} x {SIZE} = {lattice} points x {NETWORKS} networks; load average "
              f"{load[0]:.2f} {load[1]:.2f} {load[2]:.2f} on {os.cpu_count()} CPUs")
        print(f"dense grid: {lattice * NETWORKS} simulations in {seconds:.1f} s; boundary error 0 cells")
        print(f"{'budget':>7} | {'adaptive: max (mean) cells':>27} {'simulations':>11} {'s':>6} | "
              f"{'Learner2D: max (mean) cells':>28} {'simulations':>11}")
        results = {}
        for percent in BUDGETS:
            store = tmp / f"adaptive_{percent}.zarr"
            seconds = run(TOML.replace("{adaptive}", ADAPTIVE.format(budget=percent)), store)
            a_points, a_values = lattice_samples(store)
            a_max, a_mean = error(boundary(a_points, a_values), truth)
            budget = int(np.ceil(percent * lattice / 100 - 1e-9))
            l_points, l_values, l_count = learner2d(dense, budget)
            l_max, l_mean = error(boundary(l_points, l_values), truth)
            results[percent] = (a_max, l_max)
            print(f"{percent:>5} % | {a_max:>19.2f} ({a_mean:.2f}) {len(a_points) * NETWORKS:>11} {seconds:>6.1f} | "
                  f"{l_max:>20.2f} ({l_mean:.2f}) {l_count * NETWORKS:>11}")
        a_max, l_max = results[25]
        print(f"adaptive: budget 25 %: boundary error {a_max:.2f} cells (Learner2D {l_max:.2f} cells, dense grid 0)")


if __name__ == "__main__":
    main()
