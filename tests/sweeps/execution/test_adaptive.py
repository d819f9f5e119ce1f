"""Adaptive sweeps end to end: status values, rounds, determinism, resume.

The boundary model's ``active`` steps from 0 to 1 across a curve, with a seeded noise per
point and network: every round's choice depends on the data of the rounds before (a wrong
order or missing data shows).
"""

from __future__ import annotations

import contextlib
import io

import numpy as np
import pytest

from sweeps import LocalProcesses, LocalThreads, Scheduler, load_experiment, open_results, run_sweep
from sweeps.adaptive import Lattice, choose_round
from sweeps.cli import main
from sweeps.spec.adaptive import coarse_lines
from sweeps.store.adaptive import lattice_values, read_rounds
from sweeps.store.status import Status
from sweeps.store.sweep_store import SweepStore

TOML = """\
[experiment]
name = "boundary_adaptive"
model = "tests.reference.boundarymodel:MODEL"
seed = 7

[sweep]
x = {{linspace = [0.0, 1.0, 9]}}
y = {{linspace = [0.0, 1.0, 9]}}
networks = 2

[sweep.adaptive]
variable = "active"
budget = {budget}
batch = 7

[simulation]
duration = "20 ms"
sample_interval = "2 ms"

[output]
keep_traces = false
"""
#: lattice points of the toy lattice (9 x 9) and of its coarse lattice (spacing 4: 3 x 3)
LATTICE, COARSE = 81, 9


@pytest.fixture
def definition(tmp_path):
    def make(budget=40):
        path = tmp_path / f"adaptive_{budget}.toml"
        path.write_text(TOML.format(budget=budget))
        return load_experiment(path)
    return make


@pytest.fixture(scope="module")
def reference(tmp_path_factory):
    """One uninterrupted run (one thread), budget 40: rounds and data."""
    path = tmp_path_factory.mktemp("reference")
    (path / "d.toml").write_text(TOML.format(budget=40))
    store = path / "s.zarr"
    assert run_sweep(load_experiment(path / "d.toml"), store, LocalThreads(1)).complete
    ds = open_results(store).load()
    return ds


def _rounds(store) -> np.ndarray:
    return read_rounds(SweepStore.open(store, mode="r"))


def test_store_holds_the_fine_lattice_with_unsampled_points_and_rounds(reference):
    ds = reference
    assert dict(ds.sizes)["x"] == 9 and dict(ds.sizes)["y"] == 9  # dims: the fine lattice
    rounds = ds["adaptive_round"].values  # NaN: never chosen
    chosen = np.isfinite(rounds)
    assert chosen.sum() <= 40 and chosen.sum() > 40 - 7  # the budget, less than a round short
    status = ds["status"].values  # (x, y, network)
    assert set(np.unique(status)) == {Status.OK, Status.UNSAMPLED}
    assert ds["status"].attrs["flag_meanings"].split()[Status.UNSAMPLED] == "unsampled"
    np.testing.assert_array_equal(status == Status.OK, np.repeat(chosen[..., None], 2, axis=-1))
    assert np.isnan(ds["active"].values[~chosen]).all()
    assert np.isfinite(ds["active"].values[chosen]).all()
    coarse = np.zeros((9, 9), bool)
    coarse[np.ix_(coarse_lines(9, 4), coarse_lines(9, 4))] = True
    np.testing.assert_array_equal(rounds == 0, coarse)  # round 0: the coarse lattice
    counts = np.bincount(rounds[chosen].astype(int))
    assert counts[0] == COARSE and (counts[1:] >= 1).all() and (counts[1:] <= 7).all()  # batch 7


def test_status_command_shows_rounds_and_budget(tmp_path, reference, definition):
    store = tmp_path / "s.zarr"
    run_sweep(definition(40), store, LocalThreads(1))
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        code = main(["status", str(store)])
    n_rounds = int(np.nanmax(reference["adaptive_round"].values)) + 1
    chosen = int(np.isfinite(reference["adaptive_round"].values).sum())
    assert code == 0, out.getvalue()
    assert f"{LATTICE * 2 - chosen * 2} unsampled" in out.getvalue()
    assert f"adaptive: {n_rounds} rounds, {chosen}/40 lattice points of the budget" in out.getvalue()
    assert "more rounds" not in out.getvalue()
    run_sweep(definition(40), tmp_path / "partial.zarr", LocalThreads(1), limit=18)  # round 0 only
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        assert main(["status", str(tmp_path / "partial.zarr")]) == 1  # incomplete: rounds to come
    assert "0 todo, 18 ok" in out.getvalue() and "more rounds to choose" in out.getvalue()


@pytest.mark.parametrize("executor", [lambda _: LocalThreads(2), lambda _: LocalProcesses(2),
                                      lambda request: Scheduler(request.getfixturevalue("dask_scheduler"))],
                         ids=["threads2", "processes2", "scheduler"])
def test_same_points_and_data_on_any_backend_and_worker_count(tmp_path, reference, definition, executor, request):
    store = tmp_path / "s.zarr"
    assert run_sweep(definition(40), store, executor(request)).complete
    ds = open_results(store).load()
    np.testing.assert_array_equal(ds["adaptive_round"].values, reference["adaptive_round"].values)
    np.testing.assert_array_equal(ds["active"].values, reference["active"].values)


@pytest.mark.parametrize("limit", [9, 18, 25, 47])  # in round 0, after it, in round 1, in a later round
def test_interrupted_and_resumed_chooses_the_same_points(tmp_path, reference, definition, limit):
    store = tmp_path / "s.zarr"
    first = run_sweep(definition(40), store, LocalThreads(2), limit=limit)
    assert first.executed == limit and not first.complete
    run_sweep(definition(40), store, LocalThreads(2))
    np.testing.assert_array_equal(_rounds(store), np.nan_to_num(reference["adaptive_round"].values, nan=-1))


def test_interruption_between_the_round_and_the_status_write_is_repaired(tmp_path, reference, definition):
    store = tmp_path / "s.zarr"
    run_sweep(definition(40), store, LocalThreads(1), limit=25)
    s = SweepStore.open(store)
    status = s.status()
    status[status == Status.TODO] = Status.UNSAMPLED  # round written, status not yet
    s._array("status")[...] = status
    run_sweep(definition(40), store, LocalThreads(1))
    np.testing.assert_array_equal(_rounds(store), np.nan_to_num(reference["adaptive_round"].values, nan=-1))


def test_resumed_with_a_larger_budget_chooses_the_same_points(tmp_path, reference, definition):
    store = tmp_path / "s.zarr"
    small = run_sweep(definition(21), store, LocalThreads(2))  # stops within a round
    assert small.complete and np.count_nonzero(_rounds(store) >= 0) <= 21
    run_sweep(definition(40), store, LocalThreads(2))
    np.testing.assert_array_equal(_rounds(store), np.nan_to_num(reference["adaptive_round"].values, nan=-1))
    ds = open_results(store).load()
    np.testing.assert_array_equal(ds["active"].values, reference["active"].values)


def test_summarize_and_the_phase_diagram_work_on_an_adaptive_store(reference):
    from sweeps.analysis.datasets import summarize
    from sweeps.analysis.plots import phase_diagram

    chosen = np.isfinite(reference["adaptive_round"].values)
    summary = summarize(reference, "active", over="network", n_boot=50)
    assert np.isnan(summary["mean"].values[~chosen]).all() and np.isfinite(summary["mean"].values[chosen]).all()
    for interpolate in (False, True):
        ax = phase_diagram(reference, "active", "x", "y", interpolate=interpolate).axes[0]
        mesh = np.ma.filled(ax.collections[0].get_array(), np.nan)
        assert np.isfinite(mesh).sum() == (LATTICE if interpolate else chosen.sum())
        dots = [line for line in ax.get_lines() if line.get_label() == "simulated"]
        assert len(dots) == 1 and len(dots[0].get_xdata()) == chosen.sum()


def test_a_grown_lattice_keeps_its_rounds_and_new_points_start_unsampled(tmp_path, reference, definition):
    store = tmp_path / "s.zarr"
    run_sweep(definition(40), store, LocalThreads(2))
    grown = tmp_path / "grown.toml"
    grown.write_text(TOML.format(budget=50).replace("x = {linspace = [0.0, 1.0, 9]}", "x = [0.0, 0.125, 0.25, 0.375, "
                                                                                      "0.5, 0.625, 0.75, 0.875, 1.0, 1.125]"))
    summary = run_sweep(load_experiment(grown), store, LocalThreads(2))
    assert summary.complete
    rounds = _rounds(store)
    assert rounds.shape == (10, 9)
    before = np.nan_to_num(reference["adaptive_round"].values, nan=-1).astype(int)
    np.testing.assert_array_equal(rounds[:9][before >= 0], before[before >= 0])  # the earlier rounds kept
    assert 40 < np.count_nonzero(rounds >= 0) <= 50
    status = SweepStore.open(store, mode="r").status()
    chosen = np.repeat((rounds >= 0)[..., None], 2, axis=-1)
    assert (status[chosen] == Status.OK).all() and (status[~chosen] == Status.UNSAMPLED).all()


class _Recording(LocalThreads):
    """Local threads that record starts, stops, and every task's submission and completion."""

    def __init__(self, threads: int):
        super().__init__(threads)
        self.events: list[tuple] = []

    def start(self) -> None:
        self.events.append(("start",))
        super().start()

    def stop(self) -> None:
        self.events.append(("stop",))
        super().stop()

    def submit(self, fn, shared, indices):
        self.events.append(("submit", tuple(indices)))
        future = super().submit(fn, shared, indices)
        future.add_done_callback(lambda _: self.events.append(("done", tuple(indices))))
        return future


def test_rounds_run_on_one_executor_each_submitted_when_the_round_before_is_done(tmp_path, definition):
    """Counts, no timing: a round's tasks are submitted only after every task of the rounds
    before completed (its points depend on their data); the workers are started once for all
    rounds (no idle cluster between rounds beyond the last tasks of a round); no point runs twice."""
    executor = _Recording(2)
    store = tmp_path / "s.zarr"
    summary = run_sweep(definition(40), store, executor)
    rounds = _rounds(store).ravel()
    reps = 2  # networks per lattice point
    submitted = [i for e in executor.events if e[0] == "submit" for i in e[1]]
    round_of = {i: int(rounds[i // reps]) for i in submitted}
    done_rounds: list[int] = []  # rounds of the points completed so far, in order
    for kind, *rest in executor.events:
        if kind == "submit":
            number = round_of[rest[0][0]]
            assert {round_of[i] for i in rest[0]} == {number}  # a task holds points of one round
            earlier = sum(1 for i in submitted if round_of[i] < number)
            assert sum(1 for r in done_rounds if r < number) == earlier, f"round {number} before the one before is done"
        elif kind == "done":
            done_rounds.extend(round_of[i] for i in rest[0])
    assert rounds.max() >= 3
    kinds = [e[0] for e in executor.events]
    assert kinds.count("start") == 1 and kinds.count("stop") == 1
    assert kinds[0] == "start" and kinds[-1] == "stop"
    assert sorted(submitted) == sorted(int(i) for i in np.flatnonzero(np.repeat(rounds >= 0, reps)))
    assert summary.complete


def test_a_level_steers_every_round_of_a_run(tmp_path):
    """With ``level``, each round is the learner's choice with that level from the stored data of
    the rounds before (and not the choice without it: no value reaches 5, so every cell keeps
    only its extent term and the rounds differ from those drawn by the changes)."""
    path = tmp_path / "level.toml"
    path.write_text(TOML.format(budget=40).replace("batch = 7", "batch = 7\nlevel = 5.0"))
    experiment = load_experiment(path)
    store = tmp_path / "level.zarr"
    assert run_sweep(experiment, store, LocalThreads(1)).complete
    opened = SweepStore.open(store, mode="r")
    rounds = read_rounds(opened)
    lattice = Lattice.of(experiment.dimensions, experiment.adaptive.coarse_spacing)
    values = lattice_values(opened, "active", len(lattice.shape))
    differs = False
    for number in range(1, int(rounds.max()) + 1):
        earlier = (rounds >= 0) & (rounds < number)
        known = np.where(earlier, values, np.nan)
        room = min(7, 40 - int(np.count_nonzero(earlier)))
        chosen = np.flatnonzero((rounds == number).ravel())
        with_level = choose_round(lattice, number, earlier, known, room, level=5.0)
        np.testing.assert_array_equal(np.sort(with_level), chosen)
        differs |= set(choose_round(lattice, number, earlier, known, room).tolist()) != set(chosen.tolist())
    assert differs  # the level changed at least one round
