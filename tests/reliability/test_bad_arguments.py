"""Bad arguments of the commands and of the Python API: one line naming the argument, exit
status 2 (or an ``ArgumentError`` naming it), nothing created, the store untouched.

Cases: ``--store`` a regular file, ``export``/``plot`` into a missing directory, into a
directory, onto or into the store; a scheduler that accepts connections but never answers;
``sweeps.start``/``sweeps.run`` with a ``limit`` that is not an integer >= 1 or a scheduler
address that is none.
"""

from __future__ import annotations

import socket

import numpy as np
import pytest

import sweeps
from sweeps.errors import ArgumentError
from tests.reliability.conftest import ok_count, run_cli, run_cli_in_process, toy


def _listing(path):
    return sorted(p.name for p in path.iterdir())


def _one_line(result, starts: str, words: str) -> str:
    lines = result.stderr.splitlines()
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith(starts), lines[0]
    assert words in lines[0], lines[0]
    assert result.returncode == 2
    return lines[0]


def test_store_that_is_a_regular_file_is_refused(tmp_path, reliability):
    reliability.bad_input()
    definition = toy(tmp_path / "toy.toml", "")
    store = tmp_path / "store.zarr"
    store.write_text("not a store")
    result = run_cli_in_process("run", definition, "--store", store)
    _one_line(result, "error: ", "exists and is not a sweeps store")
    assert store.read_text() == "not a store"
    assert _listing(tmp_path) == ["store.zarr", "toy.toml"]  # no lock, no hidden sibling


@pytest.mark.parametrize(("command", "output", "words"), [
    ("export", "missing/out.nc", "does not exist"),
    ("plot", "missing/out.png", "does not exist"),
    ("export", ".", "is a directory"),
    ("export", "STORE", "is the store"),
    ("export", "STORE/inside.nc", "inside the store"),
    ("plot", "STORE/inside.png", "inside the store"),
], ids=["export-missing-dir", "plot-missing-dir", "export-into-dir", "export-onto-store", "export-into-store",
        "plot-into-store"])
def test_export_and_plot_refuse_outputs_they_cannot_write(command, output, words, reference, tmp_path, monkeypatch,
                                                        reliability):
    reliability.bad_input()
    before = _listing(reference)
    target = output.replace("STORE", str(reference))
    args = ["-o", target, "--var", "mean_activity_E", "--x", "R_Eplus", "--y", "g"] if command == "plot" else [target]
    monkeypatch.chdir(tmp_path)
    result = run_cli_in_process(command, reference, *args)
    _one_line(result, "error: output: ", words)
    assert result.stdout == ""
    assert _listing(tmp_path) == []
    assert _listing(reference) == before and ok_count(reference) == 18


def test_scheduler_that_never_answers_is_refused_before_the_store(tmp_path, reliability):
    """A port that accepts connections but never speaks dask: refused after the connect timeout
    (5 s), before the store exists (the bound of 60 s only catches a hang)."""
    reliability.bad_input()
    definition = toy(tmp_path / "toy.toml", "")
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen()
        address = f"tcp://127.0.0.1:{silent.getsockname()[1]}"
        result = run_cli("run", definition, "--store", tmp_path / "store.zarr", "--scheduler", address, timeout=60)
    _one_line(result, "error: scheduler: ", f"cannot connect to {address} (no answer")
    assert _listing(tmp_path) == ["toy.toml"]


@pytest.mark.parametrize("limit", [-3, 0, 1.5, True, np.float64(2.0), "2"])
@pytest.mark.parametrize("entry", ["start", "run"])
def test_api_refuses_a_limit_that_is_not_a_count_before_the_store(entry, limit, tmp_path, reliability):
    reliability.bad_input()
    definition = toy(tmp_path / "toy.toml", "")
    with pytest.raises(ArgumentError, match=r"^limit: must be an integer >= 1") as raised:
        getattr(sweeps, entry)(definition, tmp_path / "store.zarr", limit=limit, **({"progress": False} if entry == "run" else {}))
    assert raised.value.field == "limit"
    assert _listing(tmp_path) == ["toy.toml"]


@pytest.mark.parametrize("backend", ["tcp://garbage", "tcp://127.0.0.1:99999", "udp://127.0.0.1:8786"])
def test_api_refuses_a_scheduler_address_that_is_none(backend, tmp_path, reliability):
    reliability.bad_input()
    definition = toy(tmp_path / "toy.toml", "")
    with pytest.raises(ArgumentError, match=r"^scheduler: "):
        sweeps.start(definition, tmp_path / "store.zarr", backend=backend)
    assert _listing(tmp_path) == ["toy.toml"]


def test_a_limit_of_numpy_integer_type_runs(tmp_path):
    """Control: integer types other than int are counts too."""
    definition = toy(tmp_path / "toy.toml", "")
    sweeps.run(definition, tmp_path / "store.zarr", limit=np.int64(2), progress=False)
    assert ok_count(tmp_path / "store.zarr") == 2
