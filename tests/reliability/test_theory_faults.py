"""Theory writes interrupted at every instant: the store keeps its identity, definition,
provenance and finished points; ``sweeps status`` reads it and a rerun of ``sweeps theory``
completes with the data of an uninterrupted one (bit for bit)."""

from __future__ import annotations

import concurrent.futures
import dataclasses
import json
import shutil
import signal
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import zarr
import zarr.storage

from sweeps import LocalThreads, load_experiment, run_sweep
from sweeps.cli import main
from sweeps.models.model import ModelTheory, TheoryResult, TheoryVariable
from sweeps.store.sweep_store import OK, SweepStore
from tests.conftest import TOY_TOML, subprocess_env
from tests.reference import toymodel
from tests.reliability.conftest import interruption_instants


def _compute(parameter_sets, focus_counts, names, threads):
    width = max(int(p["R_Eplus"]) for p in parameter_sets)  # data-dependent: grows with the grid
    arrays = {}
    for name in names:
        if name == "toy_drive":
            arrays[name] = np.array([[p["R_Eplus"] * p["g"] * n for n in focus_counts] for p in parameter_sets])
        else:  # one entry per "fixed point": int(R_Eplus) of them, padded with NaN
            values = np.full((len(parameter_sets), len(focus_counts), width), np.nan)
            for i, p in enumerate(parameter_sets):
                for j, n in enumerate(focus_counts):
                    values[i, j, : int(p["R_Eplus"])] = p["R_Eplus"] + n + np.arange(int(p["R_Eplus"]))
            arrays[name] = values
    return TheoryResult(arrays)


#: the toy model with a theory of two quantities, one with a trailing dimension that widens
MODEL = dataclasses.replace(toymodel.MODEL, sweep_theory=ModelTheory((
    TheoryVariable("toy_drive", "R_Eplus x g x focus count", np.nan),
    TheoryVariable("toy_points", "fixed points", np.nan, extra_dim="toy_point"),
), _compute))


def _definition(path, r_eplus="[1.0, 2.0, 3.0]", focus_counts=None):
    text = TOY_TOML.format(extra_parameters="", extra_output="")
    text = text.replace("tests.reference.toymodel:build", f"{__name__}:MODEL")
    text = text.replace("R_Eplus = [1.0, 2.0, 3.0]", f"R_Eplus = {r_eplus}")
    if focus_counts is not None:
        text += f"\n[theory]\nfocus_counts = {focus_counts}\n"
    path.write_text(text)
    return path


#: scenario -> (definition of the base store, definition given to ``sweeps theory``)
SCENARIOS = {
    "first": (dict(), dict(focus_counts=[1, 2])),  # a finished store gets its first theory
    "replace": (dict(focus_counts=[1]), dict(focus_counts=[1, 2])),  # other focus counts: rewritten
    "grow": (dict(r_eplus="[1.0, 2.0]", focus_counts=[1, 2]),  # the grid grows, the theory widens
             dict(r_eplus="[1.0, 2.0, 3.0, 4.0]", focus_counts=[1, 2])),
}


def _arrays(path) -> dict[str, np.ndarray]:
    group = zarr.open_group(str(path), mode="r", zarr_format=3, use_consolidated=False)
    return {name: np.asarray(array[...]) for name, array in group.arrays()}


def _same(a: dict, b: dict) -> bool:
    if a.keys() != b.keys():
        return False
    for name in a:
        x, y = a[name], b[name]
        if x.shape != y.shape or not (np.array_equal(x, y, equal_nan=True) if x.dtype.kind == "f" else np.array_equal(x, y)):
            return False
    return True


_KEPT = ("sweeps_identity", "sweeps_definition", "sweeps_definition_sha256", "sweeps_point_dims",
         "sweeps_variables", "versions", "git_commit", "host", "created", "runs")


@dataclasses.dataclass(frozen=True)
class Reference:
    """What a store must show after an interrupted theory and its rerun (read once)."""

    attrs: dict  # the base store's attributes
    status: np.ndarray  # the base store's point status
    arrays: dict[str, np.ndarray]  # every array of the store an uninterrupted theory leaves
    covered: dict  # the theory record of that store (without its wall time)

    @classmethod
    def read(cls, base, expected) -> Reference:
        return cls(SweepStore.open(base, mode="r").attrs, SweepStore.open(base, mode="r").status(),
                   _arrays(expected), _covered(expected))


def _covered(path) -> dict:
    return {k: v for k, v in SweepStore.open(path, mode="r").theory_info.items() if k != "seconds"}


@pytest.fixture(scope="module")
def scenarios(tmp_path_factory):
    """Per scenario: the base store (every point simulated), the theory definition, the
    store an uninterrupted ``sweeps theory`` leaves, and its ``Reference``."""
    root = tmp_path_factory.mktemp("theory_faults")
    made = {}
    for name, (base, theory) in SCENARIOS.items():
        base_store = root / f"{name}.zarr"
        base_def = _definition(root / f"{name}_base.toml", **base)
        assert run_sweep(load_experiment(base_def), base_store, LocalThreads(1)).complete
        theory_def = _definition(root / f"{name}_theory.toml", **theory)
        expected = root / f"{name}_expected.zarr"
        shutil.copytree(base_store, expected)
        assert main(["theory", str(theory_def), "--store", str(expected)]) == 0
        made[name] = (base_store, theory_def, expected, Reference.read(base_store, expected))
    return made


def _writes(monkeypatch, store, definition) -> list[str]:
    """The keys an uninterrupted ``sweeps theory`` writes, in order."""
    keys = []
    original = zarr.storage.LocalStore.set

    async def recording(self, key, value):
        keys.append(key)
        return await original(self, key, value)

    monkeypatch.setattr(zarr.storage.LocalStore, "set", recording)
    assert main(["theory", str(definition), "--store", str(store)]) == 0
    monkeypatch.undo()
    return keys


class Killed(Exception):
    """The process dies at this write (nothing after it runs: clean-up is disabled)."""


def _check_survived(reference, store, definition, capsys, where):
    attrs = SweepStore.open(store, mode="r").attrs
    for key in _KEPT:
        if key in reference.attrs and key not in ("sweeps_identity", "sweeps_definition", "sweeps_definition_sha256"):
            assert attrs.get(key) == reference.attrs[key], f"{where}: attribute {key} changed"
    assert "sweeps_identity" in attrs and attrs["sweeps_definition"], f"{where}: identity lost"
    capsys.readouterr()
    code = main(["status", str(store)])
    out = capsys.readouterr().out
    assert code in (0, 1) and "points:" in out, f"{where}: status failed: {out}"
    status = SweepStore.open(store, mode="r").status()
    assert (status[tuple(slice(0, n) for n in reference.status.shape)] == OK).all(), f"{where}: finished points lost"
    assert main(["theory", str(definition), "--store", str(store)]) == 0, where
    assert main(["status", str(store)]) in (0, 1)
    assert _same(_arrays(store), reference.arrays), f"{where}: rerun differs from an uninterrupted theory"
    assert _covered(store) == reference.covered, where


@pytest.mark.parametrize("name", list(SCENARIOS))
@pytest.mark.parametrize("crash", [False, True], ids=["error", "crash"])
def test_theory_interrupted_at_every_write_keeps_the_store(name, crash, scenarios, tmp_path, monkeypatch, capsys,
                                                           reliability):
    base, definition, _, reference = scenarios[name]
    counting = tmp_path / "count.zarr"
    shutil.copytree(base, counting)
    keys = _writes(monkeypatch, counting, definition)
    n_writes = len(keys)
    assert n_writes >= 5
    original_set, original_rmtree = zarr.storage.LocalStore.set, shutil.rmtree
    measured = reference.attrs["sweeps_variables"]
    for stop_at in interruption_instants(keys, measured):
        store = tmp_path / f"s{stop_at}.zarr"
        shutil.copytree(base, store)
        state = {"calls": 0, "dead": False}

        async def failing(self, key, value, stop_at=stop_at, state=state):
            state["calls"] += 1
            if state["calls"] >= stop_at or state["dead"]:
                state["dead"] = state["dead"] or crash
                raise Killed(key) if crash else OSError(28, "No space left on device (injected)")
            return await original_set(self, key, value)

        def rmtree(*args, state=state, **kwargs):  # a dead process cleans nothing up
            if not state["dead"]:
                return original_rmtree(*args, **kwargs)

        monkeypatch.setattr(zarr.storage.LocalStore, "set", failing)
        monkeypatch.setattr(shutil, "rmtree", rmtree)
        try:
            main(["theory", str(definition), "--store", str(store)])
        except (Killed, OSError):
            pass
        monkeypatch.undo()
        _check_survived(reference, store, definition, capsys, f"{name}: write {stop_at} of {n_writes}")
        original_rmtree(store)


_KILLER = textwrap.dedent("""\
    import os, signal, sys
    import zarr.storage
    from sweeps.cli import main
    stop_at, calls = int(sys.argv[1]), 0
    original = zarr.storage.LocalStore.set
    async def killing(self, key, value):
        global calls
        calls += 1
        if calls == stop_at:
            os.kill(os.getpid(), signal.SIGKILL)
        return await original(self, key, value)
    zarr.storage.LocalStore.set = killing
    sys.exit(main(sys.argv[2:]))
""")


def test_sigkill_of_sweeps_theory_at_sampled_writes_keeps_the_store(scenarios, tmp_path, monkeypatch, capsys,
                                                                   reliability):
    """The real thing: ``sweeps theory`` SIGKILLed (no clean-up at all) at sampled writes."""
    base, definition, _, reference = scenarios["replace"]
    counting = tmp_path / "count.zarr"
    shutil.copytree(base, counting)
    n_writes = len(_writes(monkeypatch, counting, definition))

    def killed(stop_at):  # each on a copy of its own: two processes at a time
        store = tmp_path / f"k{stop_at}.zarr"
        shutil.copytree(base, store)
        return stop_at, store, subprocess.run(
            [sys.executable, "-c", _KILLER, str(stop_at), "theory", str(definition), "--store", str(store)],
            env=subprocess_env(), capture_output=True, text=True, timeout=300)

    with concurrent.futures.ThreadPoolExecutor(2) as pool:
        runs = list(pool.map(killed, sorted({2, n_writes // 2, n_writes - 1, n_writes})))
    for stop_at, store, proc in runs:
        assert proc.returncode == -signal.SIGKILL, proc.stderr
        _check_survived(reference, store, definition, capsys, f"SIGKILL at write {stop_at} of {n_writes}")


def test_theory_record_is_kept_apart_from_the_store_attributes(scenarios, tmp_path):
    base, definition, _, _ = scenarios["first"]
    store = tmp_path / "s.zarr"
    shutil.copytree(base, store)
    before = (store / "zarr.json").read_bytes()
    assert main(["theory", str(definition), "--store", str(store)]) == 0
    after = json.loads((store / "zarr.json").read_bytes())
    assert "sweeps_theory" not in after["attributes"]
    assert {k: v for k, v in after["attributes"].items()} == json.loads(before)["attributes"]
    assert SweepStore.open(store).theory_info["focus_counts"] == [1, 2]
