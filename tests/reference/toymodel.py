"""A small custom model for the tests: a whole model in one file, declared by :data:`MODEL`.

Use it as ``model = "tests.reference.toymodel:MODEL"`` (the declaration: builder, populations, parameters
with units, a simple theory, cost) or, in the older form, ``"tests.reference.toymodel:build"``.

A dense Glauber network of E and I clusters in plain numpy with the engine's network
interface (populations, run, reset, state, field, population_activity, up_transitions,
connectivity_stats, ms <-> steps).  Deterministic for a given seed.  Test hooks:
``fail_g``: building raises when ``g == fail_g``; ``sleep``: seconds slept per ``run`` call
and per recorded sample; ``gate_R_Eplus`` with the environment variable ``TOY_GATE`` (a
directory): building a point with ``R_Eplus == gate_R_Eplus`` creates ``TOY_GATE/entered`` and
then blocks until the test creates ``TOY_GATE/release`` (holds a driver inside its run for as
long as a test needs, without depending on timing);
``stable_focus_max``: the theory's fixed points are stable only up to this focus count (default
Q; -1: none is stable).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple

import numpy as np

from sweeps.models.model import Model, ModelCost, Parameter


@dataclass
class Population:
    name: str
    N: int
    view: tuple[int, int]
    tau: float
    cluster: int | None
    cell_type: str


def layout(params: dict) -> list[dict]:
    q = params.get("Q", 2)
    return [{"name": f"{t}{c}", "cell_type": t, "cluster": c, "N": params[f"N_{t}"] // q}
            for t in ("E", "I") for c in range(q)]


def validate(params: dict) -> None:
    q = params.get("Q", 2)
    for key in ("N_E", "N_I"):
        if params[key] % q:
            raise ValueError(f"{key}={params[key]} is not divisible by Q={q}")
    if params.get("g", 1.0) < 0:
        raise ValueError(f"g must be >= 0, got {params['g']}")


def _gate(params: dict) -> None:
    """Block while the test holds the gate (see the module docstring)."""
    directory = os.environ.get("TOY_GATE")
    if not directory or params.get("gate_R_Eplus") is None or params.get("R_Eplus") != params["gate_R_Eplus"]:
        return
    gate = Path(directory)
    (gate / "entered").touch()
    while not (gate / "release").exists():
        time.sleep(0.01)


class ToyNetwork:
    def __init__(self, params: dict, seed: np.random.SeedSequence):
        start = time.perf_counter()
        self.params = params
        rng = np.random.default_rng(seed)
        self.populations = []
        offset = 0
        for spec in layout(params):
            tau = 10.0 if spec["cell_type"] == "E" else 5.0
            self.populations.append(Population(spec["name"], spec["N"], (offset, offset + spec["N"]), tau,
                                               spec["cluster"], spec["cell_type"]))
            offset += spec["N"]
        self.N = offset
        if params.get("fail_g") is not None and params.get("g") == params["fail_g"]:
            raise FloatingPointError(f"NaN weights at g={params['g']}")
        _gate(params)
        cluster = np.concatenate([np.full(p.N, p.cluster) for p in self.populations])
        excit = np.concatenate([np.full(p.N, p.cell_type == "E") for p in self.populations])
        j = 1.0 / np.sqrt(self.N)
        same = cluster[:, None] == cluster[None, :]
        boost = np.where(same & excit[:, None] & excit[None, :], params.get("R_Eplus", 1.0), 1.0)
        sign = np.where(excit[None, :], 1.0, -params.get("g", 1.2))
        self.W = (rng.random((self.N, self.N)) < params.get("p", 0.3)) * (j * boost * sign)
        np.fill_diagonal(self.W, 0.0)
        self.theta = np.where(excit, 0.02, 0.01)
        self._pop_of = np.concatenate([np.full(p.N, k) for k, p in enumerate(self.populations)])
        self.seed = seed
        self.reset(seed=seed)
        self.build_seconds = time.perf_counter() - start

    def reset(self, state=None, seed=None) -> None:
        """Restart from ``state`` (default: Bernoulli(0.1) from child 0 of ``seed``)."""
        seed = np.random.SeedSequence(self.seed if seed is None else seed) if not isinstance(
            seed, np.random.SeedSequence) else seed
        child = [np.random.SeedSequence(seed.entropy, spawn_key=(*seed.spawn_key, k)) for k in (0, 2)]
        if state is None:
            state = np.random.default_rng(child[0]).random(self.N) < 0.1
        self.state = np.asarray(state).astype(np.int8)
        self.field = self.W @ self.state
        self.sim_steps = 0
        self.up_transitions = np.zeros(len(self.populations), np.int64)
        self._rng = np.random.default_rng(child[1])

    @property
    def updates_per_ms(self) -> float:
        return sum(p.N / p.tau for p in self.populations)

    def ms_to_steps(self, t_ms: float) -> int:
        return int(round(t_ms * self.updates_per_ms))

    def steps_to_ms(self, steps: int) -> float:
        return steps / self.updates_per_ms

    def run(self, steps: int, recorders=()) -> None:
        """``steps`` updates; recorders are called every ``interval`` updates of this call."""
        pause = self.params.get("sleep", 0.0)
        time.sleep(pause)
        for done, i in enumerate(self._rng.integers(0, self.N, steps), start=1):
            new = np.int8(self.field[i] > self.theta[i])
            if new != self.state[i]:
                self.field += self.W[:, i] * (1.0 if new else -1.0)
                self.state[i] = new
                self.up_transitions[self._pop_of[i]] += int(new)
            self.sim_steps += 1
            due = [r for r in recorders if done % r.interval == 0]
            if due:
                time.sleep(pause)
            for recorder in due:
                recorder.record(self)

    def population_activity(self) -> np.ndarray:
        return np.array([self.state[slice(*p.view)].mean() for p in self.populations])

    def connectivity_stats(self) -> dict:
        pairs = int(np.count_nonzero(self.W))
        return {"synapse_count": pairs, "connected_pairs": pairs, "density": pairs / self.N**2,
                "connectivity_bytes": self.W.nbytes, "build_seconds": self.build_seconds}


def build(params: dict, seed, weight_mode: str = "auto", ram_budget_gb: float = 12.0) -> ToyNetwork:
    """Builder with the sweeps model signature."""
    return ToyNetwork(params, seed)


build.layout = layout
build.validate = validate


class FixedPoint(NamedTuple):
    """A fixed point as a model's theory returns it: one rate per population and stability."""

    rates: np.ndarray
    stable: bool


def theory(params: dict, focus_count: int) -> list[FixedPoint]:
    """One fixed point: focus clusters at E 0.6 / I 0.4, the others at E 0.1 / I 0.2."""
    q = params.get("Q", 2)
    e = [0.6 if c < focus_count else 0.1 for c in range(q)]
    i = [0.4 if c < focus_count else 0.2 for c in range(q)]
    return [FixedPoint(np.array(e + i), focus_count <= params.get("stable_focus_max", q))]


def cost(params: dict) -> ModelCost:
    n = params["N_E"] + params["N_I"]
    return ModelCost(params["N_E"] / 10.0 + params["N_I"] / 5.0, params.get("p", 0.3) * n * n, n)


MODEL = Model(
    "toy", build, layout, validate,
    parameters=(Parameter("N_E", "1", "excitatory neurons"), Parameter("N_I", "1", "inhibitory neurons"),
                Parameter("g", "1", "relative inhibition"), Parameter("sleep", "s", "pause per run call")),
    theory=theory, cost=cost,
)
