"""Large sweeps: checks at a few points, store layout, writer thread, bounded status.

Properties only (file counts, calls, imports), no timings: the figures are in
``benchmarks/bench_scale.py``.
"""

from __future__ import annotations

import dataclasses
import math
import subprocess
import sys
import threading
from dataclasses import dataclass

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sweeps import LocalThreads, load_experiment, parse_experiment, run_sweep
from sweeps.errors import DefinitionError
from sweeps.models.model import Model
from sweeps.plan import SweepPlan
from sweeps.spec.grid import Grid
from sweeps.store.batch import PointResult
from sweeps.store.chunks import _MAX_POINTS_PER_CHUNK, _TARGET_CHUNK_BYTES, point_chunks
from sweeps.store.sweep_store import FAILED, OK, SweepStore
from tests.conftest import subprocess_env
from tests.reference import toymodel

CALLS = {"validate": 0, "layout": 0}


def _counted_validate(params):
    CALLS["validate"] += 1
    toymodel.validate(params)


def _counted_layout(params):
    CALLS["layout"] += 1
    return toymodel.layout(params)


#: the toy model with counted checks
COUNTING = Model("counting", toymodel.build, _counted_layout, _counted_validate, parameters=toymodel.MODEL.parameters)

NULL = """\
[experiment]
name = "null"
model = "null"
seed = 3
[sweep]
x = {{linspace = [0.0, 1.0, {a}]}}
y = {{linspace = [0.0, 1.0, {b}]}}
replicates = {r}
[simulation]
duration = "{duration}"
sample_interval = "1 ms"
[output]
keep_traces = {traces}
{extra}
"""


def null(a=2, b=2, r=1, traces="false", extra="", duration="10 ms") -> str:
    return NULL.format(a=a, b=b, r=r, traces=traces, extra=extra, duration=duration)


def toy(sweep: str, model: str = "tests.sweeps.execution.test_scale:COUNTING") -> str:
    return f"""\
[experiment]
name = "toy"
model = "{model}"
seed = 1
[parameters]
N_E = 40
N_I = 10
Q = 2
[sweep]
{sweep}
[simulation]
duration = "10 ms"
sample_interval = "1 ms"
"""


# 1. validation at the check points -----------------------------------------------------------

def test_model_checks_run_at_the_check_points_not_at_every_parameter_set():
    CALLS.update(validate=0, layout=0)
    experiment = parse_experiment(toy("g = {linspace = [1.0, 2.0, 40]}\nR_Eplus = {linspace = [1.0, 2.0, 40]}\n"
                                      "replicates = 5"))
    assert experiment.n_points == 8000  # 1,600 distinct parameter sets: more than EXHAUSTIVE_CHECKS
    cross_and_corners = 1 + 39 + 39 + 1  # first point, each axis alone, the far corner
    assert CALLS == {"validate": cross_and_corners, "layout": cross_and_corners}


def test_small_grids_are_checked_at_every_parameter_set(monkeypatch):
    CALLS.update(validate=0, layout=0)
    experiment = parse_experiment(toy("g = {linspace = [1.0, 2.0, 10]}\nR_Eplus = {linspace = [1.0, 2.0, 10]}\n"
                                      "replicates = 5"))
    assert experiment.n_points == 500
    assert CALLS == {"validate": 100, "layout": 100}  # each parameter set once, not each replicate

    def interior_only(params):  # invalid only in one combination inside the grid
        if params["g"] == 1.5 and params["R_Eplus"] == 2.0:
            raise ValueError("g = 1.5 needs R_Eplus != 2")
        toymodel.validate(params)

    monkeypatch.setattr(sys.modules[__name__], "COUNTING", dataclasses.replace(COUNTING, validate_fn=interior_only))
    with pytest.raises(DefinitionError, match=r"g=1.5.*needs R_Eplus != 2"):
        parse_experiment(toy("g = [1.0, 1.5, 2.0]\nR_Eplus = [1.0, 2.0, 3.0]\nreplicates = 2"))


@pytest.mark.parametrize("values", ["[1.0, 1.1, -1.0, 1.2]", "[1.0, 1.1, 1.2, -1.0]"])
def test_an_invalid_value_anywhere_on_an_axis_is_found_before_running(values):
    with pytest.raises(DefinitionError, match=r"g=-1.0.*g must be >= 0"):
        parse_experiment(toy(f"R_Eplus = [1.0, 2.0, 3.0]\ng = {values}"))


def test_corners_take_the_extreme_values_of_unordered_axes():
    experiment = parse_experiment(toy("g = [1.5, 1.0, 2.0]\nR_Eplus = [3.0, 1.0, 2.0]\nreplicates = 2"))
    grid = Grid.from_experiment(experiment)
    corners = {(grid.parameters(i)["g"], grid.parameters(i)["R_Eplus"]) for i in grid.corner_points()}
    assert corners == {(1.0, 1.0), (1.0, 3.0), (2.0, 1.0), (2.0, 3.0)}
    assert all(grid.network(i) == 0 and grid.init(i) == 0 for i in grid.corner_points() + grid.cross_points())


# 6. structural parameters --------------------------------------------------------------------

@pytest.mark.parametrize("name, sweep", [("N_E", "N_E = [16, 32]"), ("Q", "Q = [2, 4]")])
def test_sweeping_a_structural_parameter_is_refused_naming_the_field(name, sweep):
    text = toy(sweep, model="clustered_ei").replace(f"{name} = {'40' if name == 'N_E' else '2'}\n", "")
    with pytest.raises(DefinitionError, match=rf"^sweep\.{name}: {name} sets the populations of model 'clustered_ei'"):
        parse_experiment(text)


def test_population_sizes_changing_across_the_grid_are_refused_for_undeclared_models():
    text = toy("N_E = [40, 80]", model="tests.reference.toymodel:MODEL").replace("N_E = 40\n", "")
    with pytest.raises(DefinitionError, match=r"^sweep: the populations \(names or sizes\) change across the grid"):
        parse_experiment(text)


# grouping of points into network builds ------------------------------------------------------

@dataclass(frozen=True)
class _Dim:
    name: str
    values: dict
    size: int
    kind: str


@st.composite
def grids(draw):
    dims = []
    for k in range(draw(st.integers(0, 2))):
        n = draw(st.integers(1, 3))
        dims.append(_Dim(f"a{k}", {f"a{k}": tuple(float(v) for v in range(n))}, n, "axis"))
    if draw(st.booleans()):
        n = draw(st.integers(1, 3))
        dims.append(_Dim("focus_count", {"focus_count": tuple(range(n))}, n, "axis"))
    if draw(st.booleans()):  # a zip of a run option and a parameter with repeated values
        n = draw(st.integers(1, 4))
        dims.append(_Dim("z", {"focus_count": tuple(range(n)), "b": tuple(float(i % 2) for i in range(n))}, n, "zip"))
    for kind in draw(st.sampled_from([(), ("network",), ("network", "init"), ("seed",)])):
        n = draw(st.integers(1, 3))
        dims.append(_Dim(kind, {}, n, kind))
    return Grid(tuple(draw(st.permutations(dims))), {"c": 1.0}, 5)


@settings(max_examples=60, deadline=None)
@given(grids(), st.randoms(use_true_random=False))
def test_vectorized_network_groups_match_the_build_keys(grid, random):
    indices = list(range(len(grid)))
    random.shuffle(indices)
    expected: dict = {}
    for i in indices:
        expected.setdefault(grid.build_key(i), []).append(i)
    assert grid.network_groups(indices) == list(expected.values())
    assert grid.n_builds() == len(grid.network_groups(range(len(grid))))


# 3. chunk layout -----------------------------------------------------------------------------

@given(st.lists(st.integers(1, 40), min_size=1, max_size=4), st.integers(1, 5000))
def test_dividing_point_chunks_are_contiguous_and_tile_the_axes_where_possible(shape, per_chunk):
    chunks = point_chunks(shape, per_chunk, divide=True)
    assert all(1 <= c <= s for c, s in zip(chunks, shape, strict=True))
    assert math.prod(chunks) <= per_chunk
    partial = [a for a, (c, s) in enumerate(zip(chunks, shape, strict=True)) if c < s]
    assert all(c == 1 for c in chunks[: partial[-1]]) if partial else True  # a contiguous block
    if partial and chunks[partial[-1]] > 1:
        a = partial[-1]
        room = per_chunk // math.prod(shape[a + 1:])
        divisors = [d for d in range(1, room + 1) if shape[a] % d == 0 and 2 * d >= room]
        if divisors:
            assert shape[a] % chunks[a] == 0 and chunks[a] == max(divisors)


def _store(tmp_path, text, name="s.zarr"):
    from sweeps.store.growth import open_store

    path = tmp_path / name
    definition = tmp_path / f"{name}.toml"
    definition.write_text(text)
    experiment = load_experiment(definition)
    store, _ = open_store(path, experiment)
    return experiment, store, definition


def test_a_million_point_store_is_metadata_only_and_needs_few_files(tmp_path, monkeypatch):
    import dask.array

    def no_dask(*args, **kwargs):
        raise AssertionError("store creation built a dask array")

    monkeypatch.setattr(dask.array.Array, "__new__", no_dask)
    experiment = parse_experiment(toy("R_Eplus = {linspace = [1.0, 1.9, 100]}\ng = {linspace = [0.8, 1.6, 100]}\n"
                                      "replicates = 100", model="clustered_ei").replace("N_E = 40", "N_E = 16")
                                  .replace("N_I = 10", "N_I = 4") + "[output]\nkeep_traces = false\n")

    store = SweepStore.create(tmp_path / "m.zarr", SweepPlan.build(experiment))
    for name in (*store.variables, "status", "error"):  # no chunk written: metadata only
        assert [p.name for p in (tmp_path / "m.zarr" / name).rglob("*") if p.is_file()] == ["zarr.json"]
    full = 0
    for _, array in store.group.arrays():
        full += 1 + math.prod(math.ceil(n / c) for n, c in zip(array.shape, array.chunks, strict=True))
    assert full <= 2000  # every chunk written: still at most 2,000 files
    status = store.group["status"]
    assert math.prod(status.chunks) == status.size  # status: one file
    scalar = store.group["mean_activity_E"]
    slice_chunks = math.prod(math.ceil(n / c) for n, c in zip(scalar.shape[:2], scalar.chunks[:2], strict=True))
    assert slice_chunks <= 20 and all(n % c == 0 for n, c in zip(scalar.shape, scalar.chunks, strict=True))


def test_chunk_classes_scalars_in_large_blocks_traces_in_small_ones(tmp_path):
    _, store, _ = _store(tmp_path, null(a=50, b=40, r=100, traces="true", duration="1 s"))
    value, trace, status = (store.group[n] for n in ("value", "trace", "status"))
    points = lambda a: math.prod(a.chunks[:3])  # noqa: E731
    assert points(status) == status.size  # one status chunk
    assert _MAX_POINTS_PER_CHUNK // 2 <= points(value) <= _MAX_POINTS_PER_CHUNK  # scalars: a large block ...
    assert value.shape[0] % value.chunks[0] == 0  # ... that tiles the axis
    assert _TARGET_CHUNK_BYTES // 2 < points(trace) * trace.shape[3] * 4 <= _TARGET_CHUNK_BYTES  # traces: ~4 MiB
    assert trace.chunks[3] == trace.shape[3] and points(trace) < points(value)  # whole points, fewer of them


def test_verify_resets_the_points_of_a_damaged_chunk_in_the_variables_own_layout(tmp_path):
    experiment, store, _ = _store(tmp_path, null(a=4, b=3, r=50, traces="true", duration="10 s"))
    trace, value = store.group["trace"], store.group["value"]
    per_trace, per_value = math.prod(trace.chunks[:3]), math.prod(value.chunks[:3])
    assert per_trace < per_value  # the classes differ: a trace chunk is a part of a value chunk
    run_sweep(experiment, tmp_path / "s.zarr", LocalThreads(2), limit=2 * per_trace)
    assert SweepStore.open(tmp_path / "s.zarr").verify() == []
    (tmp_path / "s.zarr" / "trace" / "c" / "0" / "0" / "0" / "0").unlink()  # the first trace chunk
    assert SweepStore.open(tmp_path / "s.zarr").verify() == list(range(per_trace))
    assert int(np.sum(SweepStore.open(tmp_path / "s.zarr").status() == OK)) == per_trace


# 4. writes off the critical path, the experiment sent once -----------------------------------

class _Watching(LocalThreads):
    """Threads that count ``share`` calls, record task arguments, and signal the last submit."""

    def __init__(self, tasks: int):
        super().__init__(1, window=1)
        self.tasks, self.shared, self.arguments = tasks, 0, []
        self.all_submitted = threading.Event()

    def share(self, obj):
        self.shared += 1
        return super().share(obj)

    def submit(self, fn, *args):
        self.arguments.append(args[0])
        if len(self.arguments) == self.tasks:
            self.all_submitted.set()
        return super().submit(fn, *args)


def test_a_slow_write_does_not_hold_up_submission_and_the_plan_is_shared_once(tmp_path, monkeypatch):
    experiment, _, _ = _store(tmp_path, null(a=2, b=2))
    executor = _Watching(tasks=4)  # window 1: a task is submitted only after the previous one is collected
    original, waited = SweepStore.write, []

    def slow_write(self, results):
        if not waited:  # the first write waits until every task was submitted
            waited.append(executor.all_submitted.wait(timeout=60))
        original(self, results)

    monkeypatch.setattr(SweepStore, "write", slow_write)
    summary = run_sweep(experiment, tmp_path / "s.zarr", executor, flush_seconds=0.0)
    assert waited == [True] and summary.complete and summary.executed == 4
    assert executor.shared == 1 and all(isinstance(a, SweepPlan) and a.experiment == experiment
                                        for a in executor.arguments)


def test_a_failing_write_stops_the_run_and_keeps_written_points(tmp_path, monkeypatch):
    from sweeps.errors import StoreWriteError

    experiment, _, _ = _store(tmp_path, null(a=3, b=2))
    original, calls = SweepStore.write, []

    def failing_second(self, results):
        calls.append(len(results))
        if len(calls) == 2:
            raise StoreWriteError("disk full")
        original(self, results)

    monkeypatch.setattr(SweepStore, "write", failing_second)
    with pytest.raises(StoreWriteError, match="disk full"):
        run_sweep(experiment, tmp_path / "s.zarr", LocalThreads(1, window=1), flush_seconds=0.0)
    assert len(calls) == 2  # nothing written after the failure
    assert int(np.sum(SweepStore.open(tmp_path / "s.zarr").status() == OK)) == calls[0]


# 5. status: bounded output, only status and error read ---------------------------------------

def test_status_groups_failures_and_prints_a_bounded_summary(tmp_path, capsys, monkeypatch):
    from sweeps.cli import _STATUS_GROUPS, main

    experiment, store, _ = _store(tmp_path, null(a=10, b=10, r=3))
    messages = [f"ValueError: case {k % 25}\n\ntraceback {k}" for k in range(90)]  # 25 messages
    store.write([PointResult(k, None, m, 0.0) for k, m in enumerate(messages)]
                + [PointResult(k, {"value": np.float64(k)}, None, 0.0) for k in range(90, 100)])
    read = set()
    original = SweepStore._array

    def spy(self, name):
        read.add(name)
        return original(self, name)

    monkeypatch.setattr(SweepStore, "_array", spy)
    assert main(["status", str(tmp_path / "s.zarr")]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith("300 points: 200 todo, 10 ok, 90 failed")
    assert len(lines) == 1 + _STATUS_GROUPS + 1
    assert lines[1] == "  4 failed: ValueError: case 0 (first: point 0, x[0], y[0], seed[0])"
    assert [line.split(": ", 1)[1].split(" (")[0] for line in lines[1:-1]] == [  # largest groups, first points first
        f"ValueError: case {k}" for k in range(_STATUS_GROUPS)]
    assert lines[-1] == f"  ... {25 - _STATUS_GROUPS} more messages ({90 - 4 * 10} points): see the error variable of open_results"
    assert read == {"status", "error"}
    assert int(np.sum(store.status() == FAILED)) == 90


# 5. imports ----------------------------------------------------------------------------------

def test_the_cli_module_imports_no_heavy_library():
    code = ("import sys, sweeps, sweeps.cli; sweeps.cli._parser(); "
            "print(sorted(m for m in ('dask', 'xarray', 'numba', 'zarr', 'distributed', 'binnet_core', 'scipy') "
            "if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], env=subprocess_env(), capture_output=True, text=True,
                            timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


def test_lazy_package_attributes_are_the_real_objects():
    import sweeps
    import sweeps.execution.driver

    assert sweeps.run_sweep is sweeps.execution.driver.run_sweep and "open_results" in dir(sweeps)
    assert callable(sweeps.run) and sweeps.run.__module__ == "sweeps.api"  # not the subpackage execution
    with pytest.raises(AttributeError, match="no attribute 'nothing'"):
        sweeps.nothing  # noqa: B018


def test_dask_backends_share_by_scatter_and_wait_for_no_worker():
    from sweeps.execution.executors import DaskExecutor

    class FakeClient:
        def __init__(self, workers):
            self.workers, self.scattered = workers, []

        def nthreads(self):
            return dict.fromkeys(range(self.workers), 1)

        def scatter(self, obj, broadcast, hash):
            self.scattered.append((obj, broadcast))
            return "future"

    executor = DaskExecutor()
    executor.client = FakeClient(0)  # an adaptive cluster before its first job started
    assert executor.share("experiment") == "experiment" and executor.client.scattered == []
    executor.client = FakeClient(2)
    assert executor.share("experiment") == "future" and executor.client.scattered == [("experiment", True)]
