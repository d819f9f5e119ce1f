"""``sweeps.start`` returns once the store exists; ``SweepRun.cancel``; the main guard of
``backend="processes"``."""

from __future__ import annotations

import subprocess
import sys
import time

import pytest

import sweeps
from sweeps.errors import StoreError
from sweeps.store.sweep_store import OK, TODO
from tests.conftest import subprocess_env


def test_start_returns_with_the_store_and_cancel_leaves_the_rest_todo(toy_definition, tmp_path, monkeypatch):
    gate = tmp_path / "gate"
    gate.mkdir()
    monkeypatch.setenv("TOY_GATE", str(gate))  # the first points (R_Eplus 1) block until released
    store = tmp_path / "r.zarr"
    handle = sweeps.start(toy_definition("gate_R_Eplus = 1.0"), store, backend=sweeps.LocalThreads(1))
    try:
        ds = handle.dataset()  # right after start: the store exists
        assert int((ds.status == TODO).sum()) == 18 and not handle.done()
        handle.cancel(wait=False)
        assert handle.cancelled
    finally:
        (gate / "release").touch()
    summary = handle.cancel(timeout=120)
    assert handle.done() and summary.interrupted and 1 <= summary.executed < 18
    ds = handle.result()
    assert int((ds.status == OK).sum()) == summary.executed and int((ds.status == TODO).sum()) == 18 - summary.executed


def test_start_raises_when_the_run_cannot_start(toy_definition, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("")
    started = time.monotonic()
    with pytest.raises(StoreError):
        sweeps.start(toy_definition(), blocker / "r.zarr", backend=sweeps.LocalThreads(1))
    assert time.monotonic() - started < 60


SCRIPT = """\
import sys
from pathlib import Path

import sweeps

def go():
    from sweeps.api import make_executor

    return make_executor(sweeps.load_experiment(sys.argv[1]), "processes")

{body}
"""


@pytest.mark.parametrize("body, guarded", [("go()\nprint('no error')", False),
                                           ("if __name__ == '__main__':\n    go()\n    print('no error')", True)])
def test_processes_backend_from_a_script_needs_the_main_guard(body, guarded, toy_definition, tmp_path):
    script = tmp_path / "script.py"
    script.write_text(SCRIPT.format(body=body))
    result = subprocess.run([sys.executable, str(script), str(toy_definition())], env=subprocess_env(),
                            capture_output=True, text=True, timeout=120, cwd=tmp_path)
    if guarded:
        assert result.returncode == 0 and "no error" in result.stdout, result.stderr
    else:
        assert result.returncode == 1 and "no error" not in result.stdout
        assert "MainGuardError" in result.stderr and 'if __name__ == "__main__":' in result.stderr
        assert "Nothing was started" in result.stderr


def test_run_from_an_unguarded_script_leaves_no_store_and_no_lock(toy_definition, tmp_path):
    script = tmp_path / "script.py"
    store = tmp_path / "r.zarr"
    script.write_text(f"import sweeps\nsweeps.run({str(toy_definition())!r}, {str(store)!r}, backend='processes')\n")
    result = subprocess.run([sys.executable, str(script)], env=subprocess_env(), capture_output=True, text=True,
                            timeout=120, cwd=tmp_path)
    assert result.returncode == 1 and "MainGuardError" in result.stderr, result.stderr
    assert not store.exists() and not (tmp_path / "r.zarr.lock").exists()
